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
	struct imap_msg	*m;
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
	struct imap_msg	*m;
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
