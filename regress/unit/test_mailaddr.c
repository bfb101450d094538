/*
 * common/mailaddr.c: RFC 5321 4.1.2 Mailbox parsing, the lengths of
 * 4.5.3.1, and the UTF-8 of RFC 6531.
 */
#include <string.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "mailaddr.h"

/*
 * Criterion may run each case in a freshly executed copy of this binary,
 * where pointers into the parent's data mean nothing: the tables hold
 * arrays, never pointers.
 */
#define IN_MAX		320
#define WHY_MAX		64

struct good {
	char		 in[IN_MAX];
	int		 utf8;
	char		 local[SMTP_LOCALPART_MAX_BYTES + 1];
	char		 domain[SMTP_DOMAIN_MAX_BYTES + 1];
};

struct bad {
	char		 in[IN_MAX];
	int		 utf8;
	char		 why[WHY_MAX];	/* expected errstr */
};

/* 64 'a': the longest local part; 63 'b': the longest label. */
#define L64	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define B63	"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" \
		"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
/* Four 63-octet labels and ".com": 259 octets. */
#define D259	B63 "." B63 "." B63 "." B63 ".com"
/* Three 63-octet labels and a 59-octet one: 251 octets. */
#define D251	B63 "." B63 "." B63 "." \
    "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

static struct good goods[] = {
	{ "alice@example.org", 0, "alice", "example.org" },
	{ "Alice@EXAMPLE.Org", 0, "Alice", "example.org" },
	{ "a@b", 0, "a", "b" },
	{ "first.last@example.org", 0, "first.last", "example.org" },
	{ "bob+lists@example.org", 0, "bob+lists", "example.org" },
	{ "!#$%&'*+-/=?^_`{|}~@x.y", 0, "!#$%&'*+-/=?^_`{|}~", "x.y" },
	{ "a.b.c.d@x-y.z9", 0, "a.b.c.d", "x-y.z9" },
	{ "x@1.2.3.example", 0, "x", "1.2.3.example" },
	{ "x@a1-b2--c3.example", 0, "x", "a1-b2--c3.example" },
	{ "\"john doe\"@example.org", 0, "\"john doe\"", "example.org" },
	{ "\"a\\\"b\"@example.org", 0, "\"a\\\"b\"", "example.org" },
	{ "\"a\\\\b\"@example.org", 0, "\"a\\\\b\"", "example.org" },
	{ "\"@\"@example.org", 0, "\"@\"", "example.org" },
	{ "\"\"@example.org", 0, "\"\"", "example.org" },
	{ "\"a..b\"@example.org", 0, "\"a..b\"", "example.org" },
	{ "\"\\ \"@example.org", 0, "\"\\ \"", "example.org" },
	{ "user@[192.0.2.1]", 0, "user", "[192.0.2.1]" },
	{ "user@[IPv6:2001:db8::1]", 0, "user", "[IPv6:2001:db8::1]" },
	{ "user@[ipv6:2001:DB8::A]", 0, "user", "[IPv6:2001:db8::a]" },
	{ "user@[IPv6:::ffff:192.0.2.1]", 0, "user",
	    "[IPv6:::ffff:192.0.2.1]" },
	{ L64 "@example.org", 0, L64, "example.org" },
	{ "x@" B63 ".org", 0, "x", B63 ".org" },
	{ "x@" D251, 0, "x", D251 },
	{ "j\xc3\xb6rg@example.org", 1, "j\xc3\xb6rg", "example.org" },
	{ "\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe6\xb5\x8b"
	    "\xe8\xaf\x95", 1, "\xe7\x94\xa8\xe6\x88\xb7",
	    "\xe4\xbe\x8b\xe5\xad\x90.\xe6\xb5\x8b\xe8\xaf\x95" },
	{ "\"\xc3\xa9 t\xc3\xa9\"@example.org", 1, "\"\xc3\xa9 t\xc3\xa9\"",
	    "example.org" },
	{ "x@M\xc3\x9cNCHEN.de", 1, "x", "m\xc3\x9cnchen.de" },
	{ "emoji\xf0\x9f\x98\x80@example.org", 1, "emoji\xf0\x9f\x98\x80",
	    "example.org" },
};

static struct bad bads[] = {
	{ "", 0, "empty address" },
	{ "alice", 0, "missing @" },
	{ "@example.org", 0, "bad local part" },
	{ "alice@", 0, "empty domain" },
	{ ".alice@example.org", 0, "bad local part" },
	{ "alice.@example.org", 0, "bad local part" },
	{ "al..ice@example.org", 0, "bad local part" },
	{ "al ice@example.org", 0, "bad local part" },
	{ "al(ice@example.org", 0, "bad local part" },
	{ "a\"b@example.org", 0, "bad local part" },
	{ "a@b@example.org", 0, "bad character in domain" },
	{ "\"abc@example.org", 0, "unterminated quoted string" },
	{ "\"a\"b@example.org", 0, "bad local part" },
	{ "\"a\tb\"@example.org", 0, "bad character in quoted string" },
	{ "\"a\\\x01\"@example.org", 0, "bad character in quoted string" },
	{ "\"a\\", 0, "bad character in quoted string" },
	{ "\"a\"", 0, "missing @" },
	{ "alice@-example.org", 0, "bad domain" },
	{ "alice@example-.org", 0, "bad domain" },
	{ "alice@example..org", 0, "bad domain" },
	{ "alice@.example.org", 0, "bad domain" },
	{ "alice@example.org.", 0, "bad domain" },
	{ "alice@exa_mple.org", 0, "bad character in domain" },
	{ "alice@exa mple.org", 0, "bad character in domain" },
	{ "alice@example.org>", 0, "bad character in domain" },
	{ "alice@" B63 "b.org", 0, "domain label too long" },
	{ "a" L64 "@example.org", 0, "local part too long" },
	{ "\"" L64 "\"@example.org", 0, "local part too long" },
	{ "x@" D259, 0, "address too long" },
	{ L64 "@" D251, 0, "address too long" },
	{ "user@[192.0.2.256]", 0, "bad address literal" },
	{ "user@[192.0.2]", 0, "bad address literal" },
	{ "user@[192.0.2.1", 0, "bad address literal" },
	{ "user@[]", 0, "bad address literal" },
	{ "user@[2001:db8::1]", 0, "bad address literal" },
	{ "user@[IPv6:2001:db8:::1]", 0, "bad address literal" },
	{ "user@[IPv6:192.0.2.1]", 0, "bad address literal" },
	{ "user@[x-tag:stuff]", 0, "bad address literal" },
	{ "user@[192.0.2.1]x", 0, "bad address literal" },
	{ "j\xc3\xb6rg@example.org", 0, "8-bit character without SMTPUTF8" },
	{ "x@m\xc3\xbcnchen.de", 0, "8-bit character without SMTPUTF8" },
	{ "\"\xc3\xa9\"@example.org", 0, "8-bit character without SMTPUTF8" },
	/* Truncated, overlong, surrogate, past U+10FFFF, lone continuation. */
	{ "j\xc3@example.org", 1, "invalid UTF-8" },
	{ "\xc0\xaf@example.org", 1, "invalid UTF-8" },
	{ "\xe0\x80\xaf@example.org", 1, "invalid UTF-8" },
	{ "\xed\xa0\x80@example.org", 1, "invalid UTF-8" },
	{ "\xf4\x90\x80\x80@example.org", 1, "invalid UTF-8" },
	{ "\x80@example.org", 1, "invalid UTF-8" },
	{ "x@\xff.org", 1, "invalid UTF-8" },
};

ParameterizedTestParameters(mailaddr, good)
{
	return cr_make_param_array(struct good, goods,
	    sizeof(goods) / sizeof(goods[0]));
}

ParameterizedTest(struct good *g, mailaddr, good)
{
	struct mailaddr	 a;
	const char	*errstr = NULL;
	char		 buf[SMTP_PATH_MAX_BYTES];

	cr_assert_eq(mailaddr_parse(g->in, &a, g->utf8, &errstr), 0,
	    "%s: %s", g->in, errstr);
	cr_assert_str_eq(a.local, g->local);
	cr_assert_str_eq(a.domain, g->domain);
	cr_assert_eq(mailaddr_format(&a, buf, sizeof(buf)), 0);
	cr_assert_eq(strlen(buf), strlen(g->local) + 1 + strlen(g->domain));
}

ParameterizedTestParameters(mailaddr, bad)
{
	return cr_make_param_array(struct bad, bads,
	    sizeof(bads) / sizeof(bads[0]));
}

ParameterizedTest(struct bad *b, mailaddr, bad)
{
	struct mailaddr	 a;
	const char	*errstr = NULL;

	cr_assert_eq(mailaddr_parse(b->in, &a, b->utf8, &errstr), -1,
	    "accepted %s", b->in);
	cr_assert_str_eq(errstr, b->why, "%s", b->in);
	cr_assert_str_eq(a.local, "");
	cr_assert_str_eq(a.domain, "");
}

struct dom {
	char		 in[IN_MAX];
	int		 utf8;
	int		 valid;
};

static struct dom doms[] = {
	{ "example.org", 0, 0 },
	{ "localhost", 0, 0 },
	{ "EXAMPLE.ORG", 0, 0 },
	{ "a-b.c", 0, 0 },
	{ D251, 0, 0 },
	{ "m\xc3\xbcnchen.de", 1, 0 },
	{ "m\xc3\xbcnchen.de", 0, -1 },
	{ "", 0, -1 },
	{ ".", 0, -1 },
	{ "a.", 0, -1 },
	{ "-a.b", 0, -1 },
	{ "a_b.c", 0, -1 },
	{ "[192.0.2.1]", 0, -1 },
	{ D259, 0, -1 },
	{ B63 "b.org", 0, -1 },
};

ParameterizedTestParameters(mailaddr, domain)
{
	return cr_make_param_array(struct dom, doms,
	    sizeof(doms) / sizeof(doms[0]));
}

ParameterizedTest(struct dom *d, mailaddr, domain)
{
	cr_assert_eq(mailaddr_valid_domain(d->in, d->utf8), d->valid,
	    "%s", d->in);
}

struct unq {
	char		 in[IN_MAX];
	char		 out[SMTP_LOCALPART_MAX_BYTES + 1];
};

static struct unq unqs[] = {
	{ "alice@x", "alice" },
	{ "Bob+x@x", "Bob+x" },
	{ "\"alice\"@x", "alice" },
	{ "\"john doe\"@x", "john doe" },
	{ "\"a\\\"b\"@x", "a\"b" },
	{ "\"a\\\\b\"@x", "a\\b" },
	{ "\"\\a\"@x", "a" },
	{ "\"\"@x", "" },
};

ParameterizedTestParameters(mailaddr, unquote)
{
	return cr_make_param_array(struct unq, unqs,
	    sizeof(unqs) / sizeof(unqs[0]));
}

ParameterizedTest(struct unq *u, mailaddr, unquote)
{
	struct mailaddr	 a;
	char		 buf[SMTP_LOCALPART_MAX_BYTES + 1];

	cr_assert_eq(mailaddr_parse(u->in, &a, 0, NULL), 0, "%s", u->in);
	cr_assert_eq(mailaddr_local_unquote(&a, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, u->out);
}

Test(mailaddr, format_too_small)
{
	struct mailaddr	 a;
	char		 buf[8];

	cr_assert_eq(mailaddr_parse("alice@example.org", &a, 0, NULL), 0);
	cr_assert_eq(mailaddr_format(&a, buf, sizeof(buf)), -1);
	cr_assert_eq(mailaddr_local_unquote(&a, buf, 3), -1);
}
