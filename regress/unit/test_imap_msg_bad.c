/*
 * imapd/imap_msg*.c and imap_mime*.c on malformed and huge input:
 * unterminated boundaries, no header/body separator, NUL bytes, nesting
 * 1000 deep, a 10 MB header line, 10,000 parts, a 50 MB message parsed
 * in bounded memory (its tree, never a copy) and read at its end.
 */
#include <sys/mman.h>

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../imapd/imap_msg.h"
#include "test_imap_msg.h"

/* Every writer over a message must succeed and stay within bounds. */
static void
check_all(const char *msg, size_t len)
{
	struct imap_message	*m;
	struct imap_mbuf out;
	struct imap_section sec;
	struct imap_sect_data d;
	const char	*err;

	cr_assert_not_null(m = imap_msg_parse(msg, len));
	cr_assert_leq(imap_msg_nparts(m), IMAP_MSG_PARTS_MAX);
	imap_mbuf_init(&out, IMAP_MSG_STRUCT_MAX_BYTES);
	cr_assert_eq(imap_msg_envelope(m, imap_msg_root(m), &out), 0);
	imap_mbuf_reset(&out);
	cr_assert_eq(imap_msg_bodystructure(m, imap_msg_root(m), 1, &out), 0);
	imap_mbuf_reset(&out);
	cr_assert_eq(imap_section_parse("TEXT", 4, &sec, &err), 0);
	cr_assert_geq(imap_section_resolve(m, &sec, &out, &d), 0);
	cr_assert_leq(d.size, imap_msg_crlf_size(msg, len));
	imap_mbuf_free(&out);
	imap_msg_free(m);
}

Test(imap_msg_bad, unterminated_boundary)
{
	static const char msg[] = "Content-Type: multipart/mixed; "
	    "boundary=b\n\n--b\nContent-Type: text/plain\n\nno end\n";
	struct imap_message	*m;
	const struct imap_part *p;
	char		*s;

	cr_assert_not_null(m = imap_msg_parse(msg, sizeof(msg) - 1));
	p = imap_msg_root(m);
	cr_assert(p->flags & IMAP_PART_NOBOUNDARY);
	cr_assert_eq(p->nchildren, 1);
	cr_assert_eq(p->children->body_len, 7);
	imap_msg_free(m);
	s = tm_struct(msg, sizeof(msg) - 1, TM_BODY);
	cr_assert_str_eq(s, "((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 8 1) "
	    "\"MIXED\")");
	free(s);
}

Test(imap_msg_bad, multipart_without_parts)
{
	static const char msg[] = "Content-Type: multipart/mixed\n\nplain\n";
	char	*s = tm_struct(msg, sizeof(msg) - 1, TM_BODY);

	cr_assert_str_eq(s, "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") "
	    "NIL NIL \"7BIT\" 0 0) \"MIXED\")");
	free(s);
	check_all(msg, sizeof(msg) - 1);
}

Test(imap_msg_bad, no_separator)
{
	static const char msg[] = "Subject: only a header\r\nFrom: a@b";
	struct imap_message	*m;
	char		*s;

	cr_assert_not_null(m = imap_msg_parse(msg, sizeof(msg) - 1));
	cr_assert_eq(imap_msg_root(m)->hdr_len, sizeof(msg) - 1);
	cr_assert_eq(imap_msg_root(m)->body_len, 0);
	imap_msg_free(m);
	s = tm_struct(msg, sizeof(msg) - 1, TM_ENVELOPE);
	cr_assert_str_eq(s, "(NIL \"only a header\" ((NIL NIL \"a\" \"b\")) "
	    "((NIL NIL \"a\" \"b\")) ((NIL NIL \"a\" \"b\")) NIL NIL NIL NIL "
	    "NIL)");
	free(s);
	check_all(msg, sizeof(msg) - 1);
	check_all("", 0);
	check_all("\n", 1);
	check_all("\r", 1);
	check_all(":\n \n", 4);
}

Test(imap_msg_bad, nul_bytes)
{
	static const char msg[] = "Subject: a\0b\nFrom: x\0@y\n\nbo\0dy\n";
	char	*s = tm_struct(msg, sizeof(msg) - 1, TM_ENVELOPE);

	cr_assert_eq(strncmp(s, "(NIL {3}\r\na b ", 14), 0, "%s", s);
	free(s);
	check_all(msg, sizeof(msg) - 1);
}

/* multipart in multipart 1000 deep, then message/rfc822 1000 deep. */
Test(imap_msg_bad, deep_nesting)
{
	struct imap_mbuf b;
	struct imap_message	*m;
	const struct imap_part *p;
	unsigned int	 i, depth;
	char		 line[128];

	imap_mbuf_init(&b, 1 << 24);
	for (i = 0; i < 1000; i++) {
		snprintf(line, sizeof(line), "Content-Type: multipart/mixed; "
		    "boundary=b%u\n\n--b%u\n", i, i);
		imap_mbuf_adds(&b, line);
	}
	imap_mbuf_adds(&b, "\nleaf\n");
	cr_assert_not_null(m = imap_msg_parse(b.data, b.len));
	for (p = imap_msg_root(m), depth = 0; p->children != NULL;
	    p = p->children)
		depth++;
	cr_assert_eq(depth, IMAP_MSG_DEPTH_MAX);
	cr_assert(p->flags & IMAP_PART_OPAQUE);
	imap_msg_free(m);
	check_all(b.data, b.len);
	imap_mbuf_reset(&b);
	for (i = 0; i < 1000; i++)
		imap_mbuf_adds(&b, "Content-Type: message/rfc822\n\n");
	imap_mbuf_adds(&b, "Subject: leaf\n\nleaf\n");
	cr_assert_not_null(m = imap_msg_parse(b.data, b.len));
	for (p = imap_msg_root(m), depth = 0; p->message != NULL;
	    p = p->message)
		depth++;
	cr_assert_eq(depth, IMAP_MSG_DEPTH_MAX);
	imap_msg_free(m);
	check_all(b.data, b.len);
	imap_mbuf_free(&b);
}

Test(imap_msg_bad, huge_header_line)
{
	size_t	 len = 10 * 1024 * 1024;
	char	*msg = malloc(len + 64), *s;
	size_t	 n;

	n = (size_t)snprintf(msg, 64, "Subject: ");
	memset(msg + n, 'x', len);
	memcpy(msg + n + len, "\n\nbody\n", 7);
	s = tm_struct(msg, n + len + 7, TM_ENVELOPE);
	/* The subject is cut at the field limit. */
	cr_assert_eq(strncmp(s, "(NIL \"xxx", 9), 0);
	cr_assert_eq(strspn(s + 6, "x"), IMAP_MSG_FIELD_MAX_BYTES);
	cr_assert_lt(strlen(s), (size_t)IMAP_MSG_FIELD_MAX_BYTES + 100);
	free(s);
	check_all(msg, n + len + 7);
	free(msg);
}

Test(imap_msg_bad, many_parts)
{
	struct imap_mbuf b;
	struct imap_message	*m;
	unsigned int	 i;

	imap_mbuf_init(&b, 1 << 24);
	imap_mbuf_adds(&b, "Content-Type: multipart/mixed; boundary=z\n\n");
	for (i = 0; i < 10000; i++)
		imap_mbuf_adds(&b, "--z\n\npart\n");
	imap_mbuf_adds(&b, "--z--\n");
	cr_assert_not_null(m = imap_msg_parse(b.data, b.len));
	cr_assert_eq(imap_msg_nparts(m), IMAP_MSG_PARTS_MAX);
	cr_assert(imap_msg_root(m)->flags & IMAP_PART_OPAQUE);
	imap_msg_free(m);
	check_all(b.data, b.len);
	imap_mbuf_free(&b);
}

/* Resident pages of this process, from /proc/self/statm. */
static long
resident_kb(void)
{
	FILE	*f = fopen("/proc/self/statm", "r");
	long	 size, res = 0;

	cr_assert_not_null(f);
	cr_assert_eq(fscanf(f, "%ld %ld", &size, &res), 2);
	fclose(f);
	return res * 4;
}

/*
 * 50 MB: a multipart whose attachment is 50 MB of base64 lines.  The
 * tree costs a few kilobytes; a partial near the end is read without
 * converting the rest.
 */
Test(imap_msg_bad, fifty_megabytes)
{
	static const char head[] = "Subject: big\nContent-Type: "
	    "multipart/mixed; boundary=q\n\n--q\n\nsmall\n--q\n"
	    "Content-Type: application/octet-stream\n"
	    "Content-Transfer-Encoding: base64\n\n";
	size_t		 len = 50 * 1024 * 1024, off, i, n;
	char		*msg, out[100];
	struct imap_message	*m;
	struct imap_section sec;
	struct imap_sect_data d;
	struct imap_crlf_cursor c;
	struct imap_match *match = malloc(sizeof(*match));
	const char	*err;
	long		 before;

	msg = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(msg, MAP_FAILED);
	memcpy(msg, head, sizeof(head) - 1);
	for (off = sizeof(head) - 1; off + 77 < len - 8; off += 77) {
		memset(msg + off, 'A', 76);
		msg[off + 76] = '\n';
	}
	memset(msg + off, '\n', len - off);
	memcpy(msg + len - 6, "--q--\n", 6);
	before = resident_kb();
	cr_assert_not_null(m = imap_msg_parse(msg, len));
	cr_assert_lt(resident_kb() - before, 1024, "the tree took %ld kB",
	    resident_kb() - before);
	cr_assert_eq(imap_msg_root(m)->nchildren, 2);
	cr_assert_eq(imap_section_parse("2", 1, &sec, &err), 0);
	cr_assert_eq(imap_section_resolve(m, &sec, NULL, &d), 0);
	cr_assert_gt(d.size, 50000000);
	imap_crlf_seek(&c, d.raw, d.rawlen, d.size - 100);
	n = imap_crlf_read(&c, out, sizeof(out));
	cr_assert_eq(n, 100);
	for (i = 0; i < n; i++)
		cr_assert(out[i] == 'A' || out[i] == '\r' || out[i] == '\n');
	cr_assert_eq(imap_match_init(match, "needle", 6), 0);
	cr_assert_eq(imap_msg_search_body(m, match), 0);
	cr_assert_lt(resident_kb() - before, 1024);
	imap_msg_free(m);
	free(match);
	munmap(msg, len);
}
