/*
 * imapd/imap_decode.c, imap_charset.c, imap_match.c, imap_msg_search.c:
 * quoted-printable, base64, RFC 2047 words, each charset to UTF-8, case
 * folding, and the streaming matcher of SEARCH over decoded parts.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>
#include <string.h>

#include "../../imapd/imap_msg.h"

struct dec_case {
	char	 in[96];
	int	 kind;		/* 0 QP, 1 Q, 2 base64, 3 header */
	char	 want[64];
};

ParameterizedTestParameters(imap_msg_decode, decode)
{
	static struct dec_case cases[] = {
		{ "caf=C3=A9=\nlatte=3D", 0, "caf\xc3\xa9latte=" },
		{ "a=\r\nb=  \nc", 0, "abc" },
		{ "bad=ZZ=4", 0, "bad=ZZ=4" },
		{ "a_b=3F", 1, "a b?" },
		{ "aGVsbG8gd29y\nbGQ=", 2, "hello world" },
		{ "YQ", 2, "a" },
		{ "YWI", 2, "ab" },
		{ "Y*W!J j", 2, "abc" },
		{ "=?UTF-8?B?Y2Fmw6k=?=", 3, "caf\xc3\xa9" },
		{ "=?ISO-8859-1?Q?caf=E9?= =?ISO-8859-1?Q?_au_lait?=", 3,
		    "caf\xc3\xa9 au lait" },
		{ "Hello =?utf-8?q?W=C3=B6rld?= !", 3, "Hello W\xc3\xb6rld !" },
		{ "=?UTF-8?Q?=C3?=\n =?UTF-8?Q?=A9?=", 3, "\xc3\xa9" },
		{ "=?utf-8*en?q?hi?=", 3, "hi" },
		{ "=?x-unknown?Q?abc?=", 3, "abc" },
		{ "=?utf-8?X?abc?=", 3, "=?utf-8?X?abc?=" },
		{ "=?utf-8?q?unterminated", 3, "=?utf-8?q?unterminated" },
		{ "caf\xe9", 3, "caf\xc3\xa9" },
		{ "  a\n\tb  ", 3, "a\tb" },
		{ "=?koi8-r?b?8NLJ18XU?=", 3,
		    "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82" },
	};

	return cr_make_param_array(struct dec_case, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct dec_case *tc, imap_msg_decode, decode)
{
	struct imap_mbuf out;
	int		 rc;

	imap_mbuf_init(&out, 4096);
	if (tc->kind <= 1)
		rc = imap_qp_decode(tc->in, strlen(tc->in), tc->kind, &out);
	else if (tc->kind == 2)
		rc = imap_base64_decode(tc->in, strlen(tc->in), &out);
	else
		rc = imap_hdr_decode(tc->in, strlen(tc->in), &out);
	cr_assert_eq(rc, 0);
	imap_mbuf_add(&out, "", 0);
	cr_assert_str_eq(out.data, tc->want, "%s", tc->in);
	imap_mbuf_free(&out);
}

struct cs_case {
	char	 name[16];
	char	 in[16];
	char	 want[32];
};

ParameterizedTestParameters(imap_msg_decode, charsets)
{
	static struct cs_case cases[] = {
		{ "ISO-8859-1", "caf\xe9", "caf\xc3\xa9" },
		{ "latin1", "\xa4", "\xc2\xa4" },
		{ "iso-8859-15", "\xa4\xbd", "\xe2\x82\xac\xc5\x93" },
		{ "windows-1252", "\x80\x93x\x94", "\xe2\x82\xac\xe2\x80\x9cx"
		    "\xe2\x80\x9d" },
		{ "ISO-8859-2", "\xb1\xe6", "\xc4\x85\xc4\x87" },
		{ "KOI8-R", "\xf0\xd2\xc9", "\xd0\x9f\xd1\x80\xd0\xb8" },
		{ "us-ascii", "a\xe9", "a\xef\xbf\xbd" },
		{ "utf-8", "\xc3\xa9\xff", "\xc3\xa9\xef\xbf\xbd" },
		{ "utf-8", "\xc0\x80\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd"
		    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ "x-unknown", "\xc3\xa9", "\xc3\xa9" },
		{ "x-unknown", "\xe9t\xe9", "\xc3\xa9t\xc3\xa9" },
	};

	return cr_make_param_array(struct cs_case, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct cs_case *tc, imap_msg_decode, charsets)
{
	struct imap_mbuf out;
	enum imap_charset cs = imap_charset_lookup(tc->name, strlen(tc->name));

	cr_assert_eq(cs == IMAP_CS_UNKNOWN, strcmp(tc->name, "x-unknown") ==
	    0);
	imap_mbuf_init(&out, 4096);
	cr_assert_eq(imap_charset_to_utf8(cs, tc->in, strlen(tc->in), &out),
	    0);
	imap_mbuf_add(&out, "", 0);
	cr_assert_str_eq(out.data, tc->want, "%s", tc->name);
	imap_mbuf_free(&out);
}

Test(imap_msg_decode, casefold)
{
	static const uint32_t pairs[][2] = {
		{ 'A', 'a' }, { 'z', 'z' }, { 0xc9, 0xe9 }, { 0xd7, 0xd7 },
		{ 0xdf, 0xdf }, { 0xb5, 0x3bc }, { 0x100, 0x101 },
		{ 0x101, 0x101 }, { 0x139, 0x13a }, { 0x178, 0xff },
		{ 0x17f, 's' }, { 0x17d, 0x17e }, { 0x391, 0x3b1 },
		{ 0x3a3, 0x3c3 }, { 0x3c2, 0x3c3 }, { 0x386, 0x3ac },
		{ 0x38f, 0x3ce }, { 0x401, 0x451 }, { 0x414, 0x434 },
		{ 0x462, 0x463 }, { 0x4c1, 0x4c2 }, { 0x531, 0x561 },
		{ 0x1e9e, 0xdf }, { 0x1ea0, 0x1ea1 }, { 0x212a, 'k' },
		{ 0xff21, 0xff41 }, { 0x4e00, 0x4e00 }, { 0x18f, 0x259 },
		{ 0x1c5, 0x1c6 }, { 0x3f4, 0x3b8 }, { 0x10a0, 0x2d00 },
	};
	size_t	 i;

	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		cr_assert_eq(imap_casefold(pairs[i][0]), pairs[i][1],
		    "U+%04X", pairs[i][0]);
}

/* Feeds hay one byte at a time, cutting every UTF-8 sequence. */
static int
match_bytewise(struct imap_match *m, const char *hay)
{
	size_t	 i;

	imap_match_reset(m);
	for (i = 0; hay[i] != '\0'; i++)
		if (imap_match_feed(m, hay + i, 1))
			return 1;
	return 0;
}

Test(imap_msg_decode, matcher)
{
	static const struct {
		const char	*needle, *hay;
		int		 found;
	} cases[] = {
		{ "CAF\xc3\x89", "un caf\xc3\xa9 noir", 1 },
		{ "\xce\xa3\xce\x9f\xce\xa6\xce\x99\xce\x91",
		    "\xcf\x83\xce\xbf\xcf\x86\xce\xb9\xce\xb1", 1 },
		{ "\xcf\x82", "\xce\xa3", 1 },
		{ "\xd0\x9f\xd0\xa0\xd0\x98", "\xd0\xbf\xd1\x80\xd0\xb8"
		    "\xd0\xb2\xd0\xb5\xd1\x82", 1 },
		{ "aab", "aaab", 1 },
		{ "abab c", "ababab c", 1 },
		{ "abc", "ab c", 0 },
		{ "\xc3\xa9", "e", 0 },
		{ "", "anything", 1 },
		{ "caf\xe9", "CAF\xc3\x89", 1 },
	};
	struct imap_match *m = malloc(sizeof(*m));
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(imap_match_init(m, cases[i].needle,
		    strlen(cases[i].needle)), 0);
		cr_assert_eq(imap_match_feed(m, cases[i].hay,
		    strlen(cases[i].hay)), cases[i].found, "%zu", i);
		cr_assert_eq(match_bytewise(m, cases[i].hay), cases[i].found,
		    "bytewise %zu", i);
	}
	free(m);
}

Test(imap_msg_decode, needle_too_long)
{
	struct imap_match *m = malloc(sizeof(*m));
	char		*n = malloc(IMAP_MSG_NEEDLE_MAX_CHARS + 1);

	memset(n, 'x', IMAP_MSG_NEEDLE_MAX_CHARS + 1);
	cr_assert_eq(imap_match_init(m, n, IMAP_MSG_NEEDLE_MAX_CHARS), 0);
	cr_assert_eq(imap_match_init(m, n, IMAP_MSG_NEEDLE_MAX_CHARS + 1), -1);
	free(n);
	free(m);
}

static const char search_msg[] =
    "From: =?ISO-8859-1?Q?Ren=E9?= <rene@example.org>\n"
    "Subject: =?koi8-r?b?8NLJ18XU?= world\n"
    "Content-Type: multipart/mixed; boundary=b\n"
    "\n"
    "--b\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "R3LDvMOfZSBhdXMgQmVybGlu\n"
    "--b\n"
    "Content-Type: text/plain; charset=iso-8859-1\n"
    "Content-Transfer-Encoding: quoted-printable\n"
    "\n"
    "cr=E8me br=FB=\n"
    "l=E9e\n"
    "--b\n"
    "Content-Type: application/octet-stream\n"
    "\n"
    "secretword\n"
    "--b\n"
    "Content-Type: message/rfc822\n"
    "\n"
    "Subject: innersubject\n"
    "\n"
    "innerbody\n"
    "--b--\n";

static int
search(int what, const char *field, const char *needle)
{
	struct imap_message	*msg;
	struct imap_match *m = malloc(sizeof(*m));
	int		 rc;

	cr_assert_not_null(msg = imap_msg_parse(search_msg,
	    sizeof(search_msg) - 1));
	cr_assert_eq(imap_match_init(m, needle, strlen(needle)), 0);
	if (what == 0)
		rc = imap_msg_search_body(msg, m);
	else if (what == 1)
		rc = imap_msg_search_text(msg, m);
	else
		rc = imap_msg_search_header(msg, field, m);
	imap_msg_free(msg);
	free(m);
	return rc;
}

Test(imap_msg_decode, search)
{
	cr_assert_eq(search(0, NULL, "GR\xc3\x9c\xc3\x9f" "E AUS"), 1);
	cr_assert_eq(search(0, NULL, "cr\xc3\xa8me br\xc3\xbbl\xc3\xa9" "e"),
	    1);
	cr_assert_eq(search(0, NULL, "secretword"), 0);
	cr_assert_eq(search(0, NULL, "innerbody"), 1);
	cr_assert_eq(search(0, NULL, "innersubject"), 1);
	cr_assert_eq(search(0, NULL, "world"), 0);
	cr_assert_eq(search(1, NULL, "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2"), 1);
	cr_assert_eq(search(1, NULL, "berlin"), 1);
	cr_assert_eq(search(2, "Subject", "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2"
	    "\xd0\xb5\xd1\x82 WORLD"), 1);
	cr_assert_eq(search(2, "from", "ren\xc3\xa9"), 1);
	cr_assert_eq(search(2, "from", "rene@example"), 1);
	cr_assert_eq(search(2, "To", ""), 0);
	cr_assert_eq(search(2, "From", ""), 1);
	cr_assert_eq(search(2, "Subject", "berlin"), 0);
}
