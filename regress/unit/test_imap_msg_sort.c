/*
 * imapd/imap_subject.c, imap_date.c, imap_addr.c, imap_envelope.c: the
 * RFC 5256 base subject, dates in every form SORT, SEARCH and APPEND
 * meet, first addresses and message ids for SORT and THREAD, and
 * ENVELOPE address lists (groups, routes, 8-bit names as literals).
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>
#include <string.h>

#include "../../imapd/imap_msg.h"
#include "test_imap_msg.h"

struct subj_case {
	char	 in[80];
	char	 want[40];
	int	 reply;
};

ParameterizedTestParameters(imap_msg_sort, base_subject)
{
	static struct subj_case cases[] = {
		{ "Hello", "Hello", 0 },
		{ "Re: Hello", "Hello", 1 },
		{ "RE:  re:Hello  ", "Hello", 1 },
		{ "Fwd: Hello", "Hello", 1 },
		{ "Fw: Hello", "Hello", 1 },
		{ "Re[2]: Hello", "Hello", 1 },
		{ "[list] Re: Hello", "Hello", 1 },
		{ "[list] Hello", "Hello", 0 },
		{ "[list]", "[list]", 0 },
		{ "Hello (fwd)", "Hello", 1 },
		{ "Hello (FWD) (fwd)", "Hello", 1 },
		{ "[Fwd: Re: Hello]", "Hello", 1 },
		{ "Re: [Fwd: [a] Re: Hello (fwd)]", "Hello", 1 },
		{ "Re:", "", 1 },
		{ "Rebooting", "Rebooting", 0 },
		{ "Re Hello", "Re Hello", 0 },
		{ "a\t \tb", "a b", 0 },
		{ "", "", 0 },
	};

	return cr_make_param_array(struct subj_case, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct subj_case *tc, imap_msg_sort, base_subject)
{
	struct imap_mbuf out;
	int		 reply = -1;

	imap_mbuf_init(&out, 1024);
	cr_assert_eq(imap_base_subject(tc->in, strlen(tc->in), &out, &reply),
	    0);
	imap_mbuf_add(&out, "", 0);
	cr_assert_str_eq(out.data, tc->want, "%s", tc->in);
	cr_assert_eq(reply, tc->reply, "%s", tc->in);
	imap_mbuf_free(&out);
}

Test(imap_msg_sort, msg_base_subject)
{
	static const char msg[] = "Subject: Re: =?utf-8?q?Caf=C3=A9?=\n"
	    " (fwd)\n\nbody\n";
	struct imap_message	*m;
	struct imap_mbuf out;
	int		 reply;

	cr_assert_not_null(m = imap_msg_parse(msg, sizeof(msg) - 1));
	imap_mbuf_init(&out, 1024);
	cr_assert_eq(imap_msg_base_subject(m, &out, &reply), 0);
	cr_assert_str_eq(out.data, "Caf\xc3\xa9");
	cr_assert_eq(reply, 1);
	imap_mbuf_free(&out);
	imap_msg_free(m);
}

struct date_case {
	char	 in[64];
	long	 t;
	int	 tz;
};

ParameterizedTestParameters(imap_msg_sort, dates)
{
	static struct date_case cases[] = {
		{ "Wed, 17 Jul 1996 02:23:25 -0700 (PDT)", 837595405, -420 },
		{ "17 Jul 1996 09:23:25 +0000", 837595405, 0 },
		{ "Wed , 17 Jul 96 09:23 GMT", 837595380, 0 },
		{ "Thu, 1 Jan 1970 00:00:01 UT", 1, 0 },
		{ "Mon, 29 Feb 2016 12:00:00 EST", 1456765200, -300 },
		{ "1 Jan 2001 00:00:00 +0130", 978301800, 90 },
		{ "1 Jan 049 00:00:00 +0000", -662688000, 0 },
		{ "Tue, 02 Dec 2026 17:29:27 (comment) +0100", 1796228967,
		    60 },
		{ "1 Jan 30 00:00:00 A", 1893456000, 0 },
		{ "29 Feb 2015 12:00:00 +0000", 0, 0 },
		{ "32 Jan 2015 12:00:00 +0000", 0, 0 },
		{ "1 Foo 2015 12:00:00 +0000", 0, 0 },
		{ "1 Jan 2015 25:00:00 +0000", 0, 0 },
		{ "1 Jan 2015", 0, 0 },
		{ "garbage", 0, 0 },
		{ "", 0, 0 },
	};

	return cr_make_param_array(struct date_case, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct date_case *tc, imap_msg_sort, dates)
{
	int	 tz = 12345;
	time_t	 t = imap_date_parse(tc->in, strlen(tc->in), &tz);

	cr_assert_eq((long)t, tc->t, "%s: %ld", tc->in, (long)t);
	if (tc->t != 0)
		cr_assert_eq(tz, tc->tz, "%s", tc->in);
}

Test(imap_msg_sort, imap_dates)
{
	char	 buf[IMAP_DATE_TIME_BYTES];
	int	 tz;

	cr_assert_eq(imap_date_parse_imap("17-Jul-1996 02:44:25 -0700", 26,
	    &tz), 837596665);
	cr_assert_eq(tz, -420);
	cr_assert_eq(imap_date_parse_imap(" 7-Jul-1996 02:44:25 +0000", 26,
	    NULL), 836707465);
	cr_assert_eq(imap_date_parse_imap("7-Jul-1996 02:44:25 +0000", 25,
	    NULL), 836707465);
	cr_assert_eq(imap_date_parse_imap("17-Jul-1996 02:44:25", 20, NULL),
	    -1);
	cr_assert_eq(imap_date_parse_imap("31-Jun-1996 02:44:25 +0000", 26,
	    NULL), -1);
	cr_assert_eq(imap_date_parse_search("1-Feb-1994", 10), 760060800);
	cr_assert_eq(imap_date_parse_search("01-Feb-1994", 11), 760060800);
	cr_assert_eq(imap_date_parse_search("1-Feb-94", 8), -1);
	cr_assert_eq(imap_date_format(837596665, -420, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "17-Jul-1996 02:44:25 -0700");
	cr_assert_eq(imap_date_format(836707465, 0, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, " 7-Jul-1996 02:44:25 +0000");
	cr_assert_eq(imap_date_format(0, 90, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, " 1-Jan-1970 01:30:00 +0130");
	cr_assert_eq(imap_date_format(0, 0, buf, 10), -1);
}

static const char addr_msg[] =
    "From: \"Doe, John\" <john@example.com> (comment)\n"
    "Sender: <@relay.example,@r2.example:agent@example.net>\n"
    "To: undisclosed-recipients:;\n"
    "Cc: Team: a@x.org, \"B\" <b@y.org>;, c@z.org\n"
    "Bcc: =?utf-8?q?J=C3=B6rg?= <jorg@example.de>, nobody\n"
    "Reply-To:\n"
    "Subject: caf\xc3\xa9 \"quoted\"\n"
    "Message-ID: <id1@example.com>\n"
    "In-Reply-To: <id0@example.com> (comment)\n"
    "References: <a@x> <b@y>\n"
    "  <c@z> junk <>\n"
    "\n";

Test(imap_msg_sort, envelope_addresses)
{
	char	*s = tm_struct(addr_msg, sizeof(addr_msg) - 1, TM_ENVELOPE);

	cr_assert_str_eq(s, "(NIL {14}\r\ncaf\xc3\xa9 \"quoted\" "
	    "((\"Doe, John\" NIL \"john\" \"example.com\")) "
	    "((NIL \"@relay.example,@r2.example\" \"agent\" \"example.net\")) "
	    "((\"Doe, John\" NIL \"john\" \"example.com\")) "
	    "((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)) "
	    "((NIL NIL \"Team\" NIL)(NIL NIL \"a\" \"x.org\")"
	    "(\"B\" NIL \"b\" \"y.org\")(NIL NIL NIL NIL)"
	    "(NIL NIL \"c\" \"z.org\")) "
	    "((\"=?utf-8?q?J=C3=B6rg?=\" NIL \"jorg\" \"example.de\")"
	    "(NIL NIL \"nobody\" \"\")) "
	    "\"<id0@example.com> (comment)\" \"<id1@example.com>\")");
	free(s);
}

Test(imap_msg_sort, first_addr_and_ids)
{
	struct imap_message	*m;
	struct imap_mbuf mb, dn;
	const char	*v, *id;
	size_t		 vlen, pos = 0, idlen;

	cr_assert_not_null(m = imap_msg_parse(addr_msg, sizeof(addr_msg) - 1));
	imap_mbuf_init(&mb, 1024);
	imap_mbuf_init(&dn, 1024);
	cr_assert_eq(imap_msg_first_addr(m, "Bcc", &mb, &dn), 1);
	cr_assert_str_eq(mb.data, "jorg");
	cr_assert_str_eq(dn.data, "J\xc3\xb6rg");
	imap_mbuf_reset(&mb);
	cr_assert_eq(imap_msg_first_addr(m, "Cc", &mb, NULL), 1);
	cr_assert_str_eq(mb.data, "a");
	cr_assert_eq(imap_msg_first_addr(m, "To", &mb, NULL), 0);
	cr_assert_eq(imap_msg_first_addr(m, "X-None", &mb, NULL), 0);
	imap_mbuf_reset(&mb);
	cr_assert_eq(imap_msg_message_id(m, &mb), 1);
	cr_assert_str_eq(mb.data, "id1@example.com");
	cr_assert_eq(imap_hdr_get(m, imap_msg_root(m), "references", &v,
	    &vlen), 1);
	cr_assert_eq(imap_msgid_next(v, vlen, &pos, &id, &idlen), 1);
	cr_assert(idlen == 3 && memcmp(id, "a@x", 3) == 0);
	cr_assert_eq(imap_msgid_next(v, vlen, &pos, &id, &idlen), 1);
	cr_assert(idlen == 3 && memcmp(id, "b@y", 3) == 0);
	cr_assert_eq(imap_msgid_next(v, vlen, &pos, &id, &idlen), 1);
	cr_assert(idlen == 3 && memcmp(id, "c@z", 3) == 0);
	cr_assert_eq(imap_msgid_next(v, vlen, &pos, &id, &idlen), 0);
	imap_mbuf_free(&mb);
	imap_mbuf_free(&dn);
	imap_msg_free(m);
}

/* RFC 2231: continuations and charset'lang' values, decoded. */
Test(imap_msg_sort, rfc2231_params)
{
	static const char msg[] =
	    "Content-Type: application/pdf;\n"
	    " name*0=\"long \"; name*1=\"name.pdf\"\n"
	    "Content-Disposition: attachment;\n"
	    " filename*=iso-8859-1'fr'r%E9sum%E9.pdf; size=10\n"
	    "Content-Language: en, fr\n"
	    "\n"
	    "data";
	char	*s = tm_struct(msg, sizeof(msg) - 1, TM_BODYSTRUCTURE);

	cr_assert_str_eq(s, "(\"APPLICATION\" \"PDF\" (\"NAME\" "
	    "\"long name.pdf\") NIL NIL \"7BIT\" 4 NIL (\"ATTACHMENT\" "
	    "(\"FILENAME\" {12}\r\nr\xc3\xa9sum\xc3\xa9.pdf \"SIZE\" \"10\")) "
	    "(\"en\" \"fr\") NIL)");
	free(s);
}
