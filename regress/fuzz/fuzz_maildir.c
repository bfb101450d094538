/*
 * Maildir file names and headers: what pop3d makes of a name it finds in
 * cur/ (pop3d/pop3_maildrop.c: the unique-id and the delivery time),
 * and what a delivery writes (common/maildir.c: the host escaped into a
 * unique name, the final name with its size, the Return-Path and
 * Delivered-To lines, the Delivered-To loop check over a message fed in
 * pieces).  The first input byte picks the function.
 */
#include "fuzz.h"

#include "maildir.h"
#include "../../pop3d/pop3d.h"

static void
fuzz_names(const char *s, unsigned int sel)
{
	struct maildir_uniq	 u = { 1700000000, 123456, 4242, sel };
	char			 uniq[MAILDIR_NAME_MAX_BYTES + 1];
	char			 final[MAILDIR_NAME_MAX_BYTES + 1];
	char			 esc[MAILDIR_NAME_MAX_BYTES + 1];
	size_t			 dstlen = 1 + sel % sizeof(uniq);

	if (maildir_escape_host(esc, dstlen, s) == 0)
		FUZZ_ASSERT(strlen(esc) < dstlen && strchr(esc, '/') == NULL &&
		    strchr(esc, ':') == NULL);
	if (maildir_unique_name(uniq, sizeof(uniq), &u, s) == -1)
		return;
	FUZZ_ASSERT(strchr(uniq, '/') == NULL && strchr(uniq, ':') == NULL);
	if (maildir_final_name(final, sizeof(final), uniq, UINT64_MAX,
	    UINT64_MAX) == 0)
		FUZZ_ASSERT(strncmp(final, uniq, strlen(uniq)) == 0);
}

static void
fuzz_uidl(const char *s)
{
	char		 uidl[POP3_UIDL_MAX_BYTES + 1];
	uint64_t	 secs, usecs;
	size_t		 i, len = strcspn(s, ":");

	maildrop_uidl(s, len, uidl);
	FUZZ_ASSERT(strlen(uidl) >= 1 && strlen(uidl) <= POP3_UIDL_MAX_BYTES);
	for (i = 0; uidl[i] != '\0'; i++)
		FUZZ_ASSERT(uidl[i] >= 0x21 && uidl[i] <= 0x7e);
	maildrop_name_time(s, &secs, &usecs);
}

static void
fuzz_loop(const char *s, size_t size, unsigned int sel)
{
	struct maildir_loop	 l;
	size_t			 off, n, step = 1 + sel % 97;
	int			 whole;

	whole = maildir_loop_check(s, size, "bob@example.org");
	maildir_loop_init(&l, "bob@example.org");
	for (off = 0; off < size; off += n) {
		n = size - off < step ? size - off : step;
		if (maildir_loop_feed(&l, s + off, n))
			break;
	}
	FUZZ_ASSERT(maildir_loop_end(&l) == whole);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		 hdr[MAILDIR_HEADERS_MAX_BYTES];
	const char	*errstr = NULL, *nl;
	unsigned int	 sel;
	char		*s;

	sel = fuzz_byte(&data, &size);
	s = fuzz_str(data, size);
	switch (sel % 4) {
	case 0:
		fuzz_names(s, sel);
		break;
	case 1:
		fuzz_uidl(s);
		break;
	case 2:
		nl = strchr(s, '\n');
		if (maildir_headers(hdr, sizeof(hdr), nl != NULL ? nl + 1 : "",
		    s, &errstr) == -1)
			FUZZ_ASSERT(errstr != NULL);
		break;
	default:
		fuzz_loop(s, size, sel);
		break;
	}
	free(s);
	return 0;
}
