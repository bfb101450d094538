/*
 * imapd/imap_msg*.c, imap_mime*.c, imap_envelope.c, imap_bodystruct.c:
 * the MIME tree, ENVELOPE and BODYSTRUCTURE against RFC 3501's own
 * examples (7.4.2 and section 8) and nested structures.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../imapd/imap_msg.h"
#include "test_imap_msg.h"

/* RFC 3501 section 8: the header of message 12, 342 octets in CRLF. */
static const char rfc3501_hdr[] =
    "Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\n"
    "From: Terry Gray <gray@cac.washington.edu>\n"
    "Subject: IMAP4rev1 WG mtg summary and minutes\n"
    "To: imap@cac.washington.edu\n"
    "cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>\n"
    "Message-Id: <B27397-0100000@cac.washington.edu>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\n"
    "\n";

void
tm_lines(struct imap_mbuf *b, size_t n, size_t len)
{
	size_t	 i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < len; j++)
			imap_mbuf_addc(b, 'a' + (int)((i + j) % 26));
		imap_mbuf_addc(b, '\n');
	}
}

char *
tm_struct(const char *msg, size_t len, int what)
{
	struct imap_message	*m;
	struct imap_mbuf out;
	int		 rc;

	cr_assert_not_null(m = imap_msg_parse(msg, len));
	imap_mbuf_init(&out, IMAP_MSG_STRUCT_MAX_BYTES);
	if (what == TM_ENVELOPE)
		rc = imap_msg_envelope(m, imap_msg_root(m), &out);
	else
		rc = imap_msg_bodystructure(m, imap_msg_root(m),
		    what == TM_BODYSTRUCTURE, &out);
	cr_assert_eq(rc, 0);
	imap_msg_free(m);
	return out.data;
}

/* Section 8's message: its header and a body of 92 lines, 3028 octets. */
static struct imap_mbuf
rfc3501_msg(void)
{
	struct imap_mbuf b;

	imap_mbuf_init(&b, 1 << 20);
	imap_mbuf_adds(&b, rfc3501_hdr);
	tm_lines(&b, 91, 31);
	tm_lines(&b, 1, 23);
	return b;
}

Test(imap_msg, rfc3501_envelope)
{
	struct imap_mbuf b = rfc3501_msg();
	char	*s = tm_struct(b.data, b.len, TM_ENVELOPE);

	cr_assert_str_eq(s, "(\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" "
	    "\"IMAP4rev1 WG mtg summary and minutes\" "
	    "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
	    "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
	    "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
	    "((NIL NIL \"imap\" \"cac.washington.edu\")) "
	    "((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")"
	    "(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) NIL NIL "
	    "\"<B27397-0100000@cac.washington.edu>\")");
	free(s);
	imap_mbuf_free(&b);
}

Test(imap_msg, rfc3501_body_and_sizes)
{
	struct imap_mbuf b = rfc3501_msg();
	struct imap_message	*m;
	char		*s;

	s = tm_struct(b.data, b.len, TM_BODY);
	cr_assert_str_eq(s, "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") "
	    "NIL NIL \"7BIT\" 3028 92)");
	free(s);
	s = tm_struct(b.data, b.len, TM_BODYSTRUCTURE);
	cr_assert_str_eq(s, "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") "
	    "NIL NIL \"7BIT\" 3028 92 NIL NIL NIL NIL)");
	free(s);
	cr_assert_not_null(m = imap_msg_parse(b.data, b.len));
	cr_assert_eq(imap_msg_root(m)->hdr_crlf, 342);
	cr_assert_eq(imap_msg_crlf_size(b.data, b.len), 342 + 3028);
	imap_msg_free(m);
	imap_mbuf_free(&b);
}

/* RFC 3501 7.4.2's BODY example: a multipart/mixed of two text parts. */
Test(imap_msg, rfc3501_multipart_body)
{
	struct imap_mbuf b;
	char		*s;

	imap_mbuf_init(&b, 1 << 20);
	imap_mbuf_adds(&b, "From: a@b\nMIME-Version: 1.0\n"
	    "Content-Type: MULTIPART/MIXED; BOUNDARY=\"xyz\"\n\n"
	    "preamble\n--xyz\n\n");
	tm_lines(&b, 22, 48);
	tm_lines(&b, 1, 50);
	imap_mbuf_adds(&b, "\n--xyz\nContent-Type: TEXT/PLAIN; "
	    "CHARSET=US-ASCII; NAME=\"cc.diff\"\n"
	    "Content-ID: <960723163407.20117h@cac.washington.edu>\n"
	    "Content-Description: Compiler diff\n"
	    "Content-Transfer-Encoding: BASE64\n\n");
	tm_lines(&b, 72, 60);
	tm_lines(&b, 1, 88);
	imap_mbuf_adds(&b, "\n--xyz--\nepilogue\n");
	s = tm_struct(b.data, b.len, TM_BODY);
	cr_assert_str_eq(s, "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") "
	    "NIL NIL \"7BIT\" 1152 23)(\"TEXT\" \"PLAIN\" (\"CHARSET\" "
	    "\"US-ASCII\" \"NAME\" \"cc.diff\") "
	    "\"<960723163407.20117h@cac.washington.edu>\" \"Compiler diff\" "
	    "\"BASE64\" 4554 73) \"MIXED\")");
	free(s);
	imap_mbuf_free(&b);
}

/*
 * A digest's parts default to message/rfc822 (RFC 2046 5.1.5); an
 * encoded message/rfc822 is not parsed (RFC 2046 5.2.1) and shows as a
 * basic part; message/global holds a message (RFC 6532 3.7); a comment
 * after the encoding is dropped.
 */
Test(imap_msg, digest_global_encoded)
{
	static const char msg[] =
	    "Content-Type: multipart/digest; boundary=d\n\n"
	    "--d\n\nSubject: one\n\nfirst\n"
	    "--d\nContent-Type: message/rfc822\n"
	    "Content-Transfer-Encoding: base64 (why)\n\nU3ViamVjdDogeA==\n"
	    "--d\nContent-Type: message/global\n\nSubject: caf\xc3\xa9\n\nx\n"
	    "--d--\n";
	char	*s = tm_struct(msg, sizeof(msg) - 1, TM_BODY);

	cr_assert_str_eq(s, "((\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 21 "
	    "(NIL \"one\" NIL NIL NIL NIL NIL NIL NIL NIL) (\"TEXT\" \"PLAIN\" "
	    "(\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 5 0) 2)"
	    "(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"BASE64\" 16)"
	    "(\"MESSAGE\" \"GLOBAL\" NIL NIL NIL \"7BIT\" 19 "
	    "(NIL {5}\r\ncaf\xc3\xa9 NIL NIL NIL NIL NIL NIL NIL NIL) "
	    "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 1 "
	    "0) 2) \"DIGEST\")");
	free(s);
}

/* IMAP strings: NIL, quoted with escapes, literal for 8-bit or CR/LF. */
Test(imap_msg, strings)
{
	struct imap_mbuf b;

	imap_mbuf_init(&b, 1024);
	cr_assert_eq(imap_mbuf_addstring(&b, NULL, 0), 0);
	cr_assert_eq(imap_mbuf_addc(&b, ' '), 0);
	cr_assert_eq(imap_mbuf_addstring(&b, "", 0), 0);
	cr_assert_eq(imap_mbuf_addc(&b, ' '), 0);
	cr_assert_eq(imap_mbuf_addstring(&b, "a\"b\\c", 5), 0);
	cr_assert_eq(imap_mbuf_addc(&b, ' '), 0);
	cr_assert_eq(imap_mbuf_addstring(&b, "x\r\ny", 4), 0);
	cr_assert_eq(imap_mbuf_addc(&b, ' '), 0);
	cr_assert_eq(imap_mbuf_addstring(&b, "n\0l\xe9", 4), 0);
	cr_assert_eq(b.len, 36);
	cr_assert_eq(memcmp(b.data, "NIL \"\" \"a\\\"b\\\\c\" {4}\r\nx\r\ny {4}\r\n"
	    "n l\xe9", 36), 0);
	imap_mbuf_free(&b);
}

/* A buffer's maximum is kept: the writers fail rather than cut. */
Test(imap_msg, bounded_output)
{
	struct imap_mbuf b = rfc3501_msg(), out;
	struct imap_message	*m;

	cr_assert_not_null(m = imap_msg_parse(b.data, b.len));
	imap_mbuf_init(&out, 100);
	cr_assert_eq(imap_msg_envelope(m, imap_msg_root(m), &out), -1);
	cr_assert(out.overflow);
	cr_assert_leq(out.len, 100);
	imap_mbuf_reset(&out);
	cr_assert_eq(imap_msg_bodystructure(m, imap_msg_root(m), 1, &out), 0);
	imap_mbuf_free(&out);
	imap_msg_free(m);
	imap_mbuf_free(&b);
}

Test(imap_msg, envelope_raw_fields)
{
	static const char msg[] =
	    "Subject: =?utf-8?q?caf=C3=A9?=\n"
	    "From: \"john doe\"@example.com, <@a.example:x@y.example>\n"
	    "Sender: \n"
	    "Date: \n"
	    "\n";
	char	*s = tm_struct(msg, sizeof(msg) - 1, TM_ENVELOPE);

	cr_assert_str_eq(s, "(\"\" \"=?utf-8?q?caf=C3=A9?=\" "
	    "((NIL NIL \"john doe\" \"example.com\")"
	    "(NIL \"@a.example\" \"x\" \"y.example\")) "
	    "((NIL NIL \"john doe\" \"example.com\")"
	    "(NIL \"@a.example\" \"x\" \"y.example\")) "
	    "((NIL NIL \"john doe\" \"example.com\")"
	    "(NIL \"@a.example\" \"x\" \"y.example\")) NIL NIL NIL NIL NIL)");
	free(s);
}
