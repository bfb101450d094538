/*
 * common/dsn.c: xtext (RFC 3461 4), NOTIFY (4.1), ORCPT (4.2), RET
 * (4.3) and ENVID (4.4), well-formed and malformed.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "dsn.h"
#include "sp_limits.h"

/* The tables hold arrays, never pointers (see test_smtp_parse.c). */
#define IN_MAX		640
#define OUT_MAX		640

struct xtext_case {
	char	in[IN_MAX];
	int	ok;
	char	out[OUT_MAX];
};

static struct xtext_case xtext_cases[] = {
	{ "abc", 1, "abc" },
	{ "a+2Bb", 1, "a+b" },
	{ "+3D", 1, "=" },
	{ "+20x+7E", 1, " x~" },
	{ "+41+42", 1, "AB" },
	{ "+C3+B6", 1, "\xc3\xb6" },
	{ "!~", 1, "!~" },
	{ "", 0, "" },
	{ "+4", 0, "" },
	{ "+", 0, "" },
	{ "a+", 0, "" },
	{ "+ZZ", 0, "" },
	{ "+2b", 0, "" },
	{ "+g0", 0, "" },
	{ "+00", 0, "" },
	{ "a b", 0, "" },
	{ "a=b", 0, "" },
	{ "a\tb", 0, "" },
	{ "\xc3\xb6", 0, "" },
	{ "a\x7f", 0, "" },
};

ParameterizedTestParameters(dsn, xtext)
{
	return cr_make_param_array(struct xtext_case, xtext_cases,
	    sizeof(xtext_cases) / sizeof(xtext_cases[0]));
}

ParameterizedTest(struct xtext_case *c, dsn, xtext)
{
	char		 out[OUT_MAX];
	const char	*errstr = NULL;
	int		 r;

	r = dsn_xtext_decode(c->in, out, sizeof(out), &errstr);
	cr_assert_eq(r, c->ok ? 0 : -1, "\"%s\": %d (%s)", c->in, r,
	    errstr ? errstr : "");
	if (c->ok)
		cr_expect_str_eq(out, c->out);
	else
		cr_expect_not_null(errstr);
}

Test(dsn, xtext_fits)
{
	char		 out[4];
	const char	*errstr = NULL;

	cr_expect_eq(dsn_xtext_decode("abc", out, sizeof(out), &errstr), 0);
	cr_expect_eq(dsn_xtext_decode("+41+42+43", out, sizeof(out),
	    &errstr), 0);
	cr_expect_str_eq(out, "ABC");
	cr_expect_eq(dsn_xtext_decode("abcd", out, sizeof(out), &errstr), -1);
	cr_expect_str_eq(errstr, "xtext too long");
}

struct notify_case {
	char		in[64];
	int		ok;
	uint32_t	notify;
	char		out[DSN_NOTIFY_MAX_BYTES];
};

#define N_S	DSN_NOTIFY_SUCCESS
#define N_F	DSN_NOTIFY_FAILURE
#define N_D	DSN_NOTIFY_DELAY
#define NBAD(in)	{ in, 0, 0, "" }

static struct notify_case notify_cases[] = {
	{ "NEVER", 1, DSN_NOTIFY_NEVER, "NEVER" },
	{ "never", 1, DSN_NOTIFY_NEVER, "NEVER" },
	{ "SUCCESS", 1, N_S, "SUCCESS" },
	{ "failure", 1, N_F, "FAILURE" },
	{ "Delay", 1, N_D, "DELAY" },
	{ "DELAY,SUCCESS", 1, N_S | N_D, "SUCCESS,DELAY" },
	{ "SUCCESS,FAILURE,DELAY", 1, N_S | N_F | N_D,
	    "SUCCESS,FAILURE,DELAY" },
	{ "FAILURE,DELAY", 1, N_F | N_D, "FAILURE,DELAY" },
	NBAD(""),
	NBAD(","),
	NBAD("SUCCESS,"),
	NBAD(",SUCCESS"),
	NBAD("SUCCESS,,FAILURE"),
	NBAD("NEVER,SUCCESS"),
	NBAD("SUCCESS,NEVER"),
	NBAD("NEVER,NEVER"),
	NBAD("SUCCESS,SUCCESS"),
	NBAD("SUCCES"),
	NBAD("SUCCESSX"),
	NBAD("ALWAYS"),
	NBAD("SUCCESS FAILURE"),
};

ParameterizedTestParameters(dsn, notify)
{
	return cr_make_param_array(struct notify_case, notify_cases,
	    sizeof(notify_cases) / sizeof(notify_cases[0]));
}

ParameterizedTest(struct notify_case *c, dsn, notify)
{
	char		 out[DSN_NOTIFY_MAX_BYTES];
	uint32_t	 v = 0;
	const char	*errstr = NULL;
	int		 r;

	r = dsn_notify_parse(c->in, &v, &errstr);
	cr_assert_eq(r, c->ok ? 0 : -1, "\"%s\": %d (%s)", c->in, r,
	    errstr ? errstr : "");
	if (!c->ok) {
		cr_expect_not_null(errstr);
		return;
	}
	cr_expect_eq(v, c->notify);
	cr_assert_eq(dsn_notify_format(v, out, sizeof(out)), 0);
	cr_expect_str_eq(out, c->out);
}

Test(dsn, notify_valid_and_format)
{
	char	 out[DSN_NOTIFY_MAX_BYTES];

	cr_expect(dsn_notify_valid(0));
	cr_expect(dsn_notify_valid(DSN_NOTIFY_NEVER));
	cr_expect(dsn_notify_valid(N_S | N_F | N_D));
	cr_expect(!dsn_notify_valid(DSN_NOTIFY_NEVER | N_S));
	cr_expect(!dsn_notify_valid(0x10));
	cr_assert_eq(dsn_notify_format(0, out, sizeof(out)), 0);
	cr_expect_str_eq(out, "");
	cr_expect_eq(dsn_notify_format(DSN_NOTIFY_NEVER | N_F, out,
	    sizeof(out)), -1);
	cr_expect_eq(dsn_notify_format(N_S | N_F, out, 8), -1);
}

Test(dsn, ret)
{
	enum dsn_ret	 ret;

	cr_assert_eq(dsn_ret_parse("FULL", &ret), 0);
	cr_expect_eq(ret, DSN_RET_FULL);
	cr_assert_eq(dsn_ret_parse("hdrs", &ret), 0);
	cr_expect_eq(ret, DSN_RET_HDRS);
	cr_expect_eq(dsn_ret_parse("", &ret), -1);
	cr_expect_eq(dsn_ret_parse("HEADERS", &ret), -1);
	cr_expect_eq(dsn_ret_parse("FULL,HDRS", &ret), -1);
	cr_expect_str_eq(dsn_ret_name(DSN_RET_NONE), "");
	cr_expect_str_eq(dsn_ret_name(DSN_RET_FULL), "FULL");
	cr_expect_str_eq(dsn_ret_name(DSN_RET_HDRS), "HDRS");
	cr_expect_null(dsn_ret_name(3));
}

/* ORCPT or ENVID: what the parser is given, what it makes of it. */
enum value_kind {
	V_ORCPT,
	V_ENVID,
};

struct value_case {
	enum value_kind	kind;
	char		in[IN_MAX];
	int		ok;
	char		out[OUT_MAX];
};

static struct value_case value_cases[] = {
	{ V_ORCPT, "rfc822;bob@example.org", 1, "rfc822;bob@example.org" },
	{ V_ORCPT, "RFC822;b+2Bbob@example.org", 1,
	    "RFC822;b+bob@example.org" },
	{ V_ORCPT, "rfc822;+22odd+20one+22@example.org", 1,
	    "rfc822;\"odd one\"@example.org" },
	{ V_ORCPT, "x-local;anything", 1, "x-local;anything" },
	{ V_ORCPT, "utf-8;j\\x{00F6}rg@example.org", 1,
	    "utf-8;j\\x{00F6}rg@example.org" },
	{ V_ORCPT, "rfc822;", 0, "" },
	{ V_ORCPT, ";bob@example.org", 0, "" },
	{ V_ORCPT, "bob@example.org", 0, "" },
	{ V_ORCPT, "rfc 822;bob@example.org", 0, "" },
	{ V_ORCPT, "rfc822;bob+4@example.org", 0, "" },
	{ V_ORCPT, "rfc822;bob+ZZ@example.org", 0, "" },
	{ V_ORCPT, "rfc822;bob+09@example.org", 0, "" },
	{ V_ORCPT, "rfc822;j+C3+B6rg@example.org", 0, "" },
	{ V_ORCPT, "rfc822;bob@exa mple.org", 0, "" },
	{ V_ENVID, "QQ314159", 1, "QQ314159" },
	{ V_ENVID, "a+2Bb+3Dc", 1, "a+b=c" },
	{ V_ENVID, "<id@example.org>", 1, "<id@example.org>" },
	{ V_ENVID, "", 0, "" },
	{ V_ENVID, "+4", 0, "" },
	{ V_ENVID, "+ZZ", 0, "" },
	{ V_ENVID, "a+20b", 0, "" },
	{ V_ENVID, "a+0Ab", 0, "" },
	{ V_ENVID, "a+C3+B6", 0, "" },
	{ V_ENVID, "a=b", 0, "" },
};

ParameterizedTestParameters(dsn, value)
{
	return cr_make_param_array(struct value_case, value_cases,
	    sizeof(value_cases) / sizeof(value_cases[0]));
}

ParameterizedTest(struct value_case *c, dsn, value)
{
	char		 out[DSN_ORCPT_MAX_BYTES + 1];
	const char	*errstr = NULL;
	int		 r;

	if (c->kind == V_ORCPT)
		r = dsn_orcpt_parse(c->in, out, sizeof(out), &errstr);
	else
		r = dsn_envid_parse(c->in, out, DSN_ENVID_MAX_BYTES + 1,
		    &errstr);
	cr_assert_eq(r, c->ok ? 0 : -1, "\"%s\": %d (%s)", c->in, r,
	    errstr ? errstr : "");
	if (!c->ok) {
		cr_expect_not_null(errstr);
		return;
	}
	cr_expect_str_eq(out, c->out);
	cr_expect(c->kind == V_ORCPT ? dsn_orcpt_valid(out) :
	    dsn_envid_valid(out));
}

/* RFC 3461 4.4 and 4.2: 100 and 500 characters, as sent. */
Test(dsn, limits)
{
	char		 in[DSN_ORCPT_MAX_BYTES + 8];
	char		 out[DSN_ORCPT_MAX_BYTES + 1];
	const char	*errstr = NULL;

	memset(in, 'e', DSN_ENVID_MAX_BYTES);
	in[DSN_ENVID_MAX_BYTES] = '\0';
	cr_expect_eq(dsn_envid_parse(in, out, DSN_ENVID_MAX_BYTES + 1,
	    &errstr), 0, "%s", errstr);
	in[DSN_ENVID_MAX_BYTES] = 'e';
	in[DSN_ENVID_MAX_BYTES + 1] = '\0';
	cr_expect_eq(dsn_envid_parse(in, out, sizeof(out), &errstr), -1);
	cr_expect_str_eq(errstr, "ENVID too long");

	memcpy(in, "rfc822;", 7);
	memset(in + 7, 'o', DSN_ORCPT_MAX_BYTES - 7);
	in[DSN_ORCPT_MAX_BYTES] = '\0';
	cr_expect_eq(dsn_orcpt_parse(in, out, sizeof(out), &errstr), 0, "%s",
	    errstr);
	cr_expect(dsn_orcpt_valid(out));
	in[DSN_ORCPT_MAX_BYTES] = 'o';
	in[DSN_ORCPT_MAX_BYTES + 1] = '\0';
	cr_expect_eq(dsn_orcpt_parse(in, out, sizeof(out), &errstr), -1);
	cr_expect_str_eq(errstr, "ORCPT too long");
	cr_expect(!dsn_orcpt_valid(in));
}

Test(dsn, stored_forms)
{
	cr_expect(dsn_envid_valid(""));
	cr_expect(dsn_envid_valid("abc"));
	cr_expect(!dsn_envid_valid("a b"));
	cr_expect(!dsn_envid_valid("a\nb"));
	cr_expect(dsn_orcpt_valid(""));
	cr_expect(dsn_orcpt_valid("rfc822;\"a b\"@c"));
	cr_expect(!dsn_orcpt_valid("rfc822;"));
	cr_expect(!dsn_orcpt_valid("rfc822"));
	cr_expect(!dsn_orcpt_valid(";a@b"));
	cr_expect(!dsn_orcpt_valid("rfc822;a\tb"));
}
