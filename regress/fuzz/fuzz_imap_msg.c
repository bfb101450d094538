/*
 * imapd/imap_msg*.c, imap_mime*.c, imap_envelope.c, imap_bodystruct.c,
 * imap_section*.c: the message library of the IMAP mailbox process fed
 * any message.  Whatever the input: the tree stays within its limits
 * and inside the buffer, ENVELOPE and BODYSTRUCTURE come out with their
 * parentheses balanced around well-formed strings and literals, and
 * every section read through the CRLF cursor gives exactly the size it
 * announced.  The first byte picks a search needle's length.
 */
#include "fuzz.h"

#include "../../imapd/imap_msg.h"

/* Parentheses balanced outside quoted strings and literals. */
static void
fuzz_balanced(const char *s, size_t len)
{
	size_t	 i, n;
	long	 depth = 0;
	char	*end;

	for (i = 0; i < len; i++) {
		if (s[i] == '"') {
			for (i++; i < len && s[i] != '"'; i++)
				if (s[i] == '\\')
					i++;
			FUZZ_ASSERT(i < len);
		} else if (s[i] == '{') {
			n = strtoul(s + i + 1, &end, 10);
			FUZZ_ASSERT(end[0] == '}' && end[1] == '\r' &&
			    end[2] == '\n');
			i = (size_t)(end + 3 - s) + n - 1;
			FUZZ_ASSERT(i < len);
		} else if (s[i] == '(')
			depth++;
		else if (s[i] == ')')
			FUZZ_ASSERT(--depth >= 0);
	}
	FUZZ_ASSERT(depth == 0);
}

static void
fuzz_parts(const struct imap_part *p, size_t len)
{
	const struct imap_part *c;

	FUZZ_ASSERT(p->hdr_off + p->hdr_len <= len);
	FUZZ_ASSERT(p->body_off + p->body_len <= len);
	FUZZ_ASSERT(p->depth <= IMAP_MSG_DEPTH_MAX);
	FUZZ_ASSERT(p->body_crlf >= p->body_len &&
	    p->body_crlf <= 2 * p->body_len);
	for (c = p->children; c != NULL; c = c->next)
		fuzz_parts(c, len);
	if (p->message != NULL)
		fuzz_parts(p->message, len);
}

static void
fuzz_section(const struct imap_message *m, const char *spec)
{
	struct imap_section sec;
	struct imap_sect_data d;
	struct imap_crlf_cursor c;
	struct imap_mbuf scratch;
	const char	*err;
	char		 piece[61];
	size_t		 n, total = 0;

	FUZZ_ASSERT(imap_section_parse(spec, strlen(spec), &sec, &err) == 0);
	imap_mbuf_init(&scratch, 1 << 20);
	if (imap_section_resolve(m, &sec, &scratch, &d) == 0) {
		imap_crlf_seek(&c, d.raw, d.rawlen, 0);
		while ((n = imap_crlf_read(&c, piece, sizeof(piece))) > 0)
			total += n;
		FUZZ_ASSERT(total == d.size);
	}
	imap_mbuf_free(&scratch);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const specs[] = { "", "HEADER", "TEXT", "1",
	    "1.MIME", "2.1", "2.HEADER", "1.2.TEXT", "HEADER.FIELDS (FROM TO)",
	    "1.HEADER.FIELDS.NOT (SUBJECT)" };
	unsigned int	 nlen = fuzz_byte(&data, &size) % 8;
	struct imap_message	*m;
	struct imap_mbuf out;
	struct imap_match *match;
	size_t		 i;
	char		*buf;

	/* A copy of the exact size, so that ASan sees a read past it. */
	if ((buf = malloc(size ? size : 1)) == NULL)
		abort();
	memcpy(buf, data, size);
	FUZZ_ASSERT((m = imap_msg_parse(buf, size)) != NULL);
	FUZZ_ASSERT(imap_msg_nparts(m) <= IMAP_MSG_PARTS_MAX);
	fuzz_parts(imap_msg_root(m), size);
	imap_mbuf_init(&out, IMAP_MSG_STRUCT_MAX_BYTES);
	if (imap_msg_envelope(m, imap_msg_root(m), &out) == 0)
		fuzz_balanced(out.data, out.len);
	for (i = 0; i < 2; i++) {
		imap_mbuf_reset(&out);
		if (imap_msg_bodystructure(m, imap_msg_root(m), (int)i,
		    &out) == 0)
			fuzz_balanced(out.data, out.len);
	}
	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
		fuzz_section(m, specs[i]);
	imap_mbuf_reset(&out);
	imap_msg_base_subject(m, &out, NULL);
	imap_msg_date(m, NULL);
	if ((match = malloc(sizeof(*match))) == NULL)
		abort();
	imap_match_init(match, (const char *)data, nlen < size ? nlen : size);
	imap_msg_search_text(m, match);
	free(match);
	imap_mbuf_free(&out);
	imap_msg_free(m);
	free(buf);
	return 0;
}
