/*
 * common/sasl.c: strict base64, the PLAIN message (RFC 4616 2), and the
 * exchanges of PLAIN and LOGIN as smtpd's and pop3d's AUTH run them
 * (initial response, "=", "*", the LOGIN prompts).
 */
#include <string.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "sasl.h"

/* Base64 as SASL uses it (RFC 4648 4, RFC 4954 4): strict. */

struct b64_case {
	char	in[32];
	int	ok;
	char	out[24];
	size_t	outlen;
};

static struct b64_case b64_cases[] = {
	{ "", 1, "", 0 },
	{ "Zg==", 1, "f", 1 },
	{ "Zm8=", 1, "fo", 2 },
	{ "Zm9v", 1, "foo", 3 },
	{ "Zm9vYg==", 1, "foob", 4 },
	{ "Zm9vYmFy", 1, "foobar", 6 },
	{ "AGFsaWNlAGRlbW8=", 1, "\0alice\0demo", 11 },
	{ "+/+/", 1, "\xfb\xff\xbf", 3 },
	{ "Zg", 0, "", 0 },		/* no padding */
	{ "Zg=", 0, "", 0 },		/* short */
	{ "Zh==", 0, "", 0 },		/* non-zero bits under padding */
	{ "Zm9=", 0, "", 0 },
	{ "Zg==Zg==", 0, "", 0 },	/* padding inside */
	{ "Z===", 0, "", 0 },
	{ "====", 0, "", 0 },
	{ "Zm 9v", 0, "", 0 },		/* whitespace */
	{ "Zm9v\n", 0, "", 0 },
	{ "Zm-v", 0, "", 0 },		/* the URL alphabet */
	{ "Zm9vYmFyYmF6Zm9v", 0, "", 0 }, /* 12 bytes: past outmax (11) */
};

ParameterizedTestParameters(sasl, base64)
{
	return cr_make_param_array(struct b64_case, b64_cases,
	    sizeof(b64_cases) / sizeof(b64_cases[0]));
}

ParameterizedTest(struct b64_case *c, sasl, base64)
{
	unsigned char	 out[11];
	size_t		 n = 99;
	int		 r;

	r = sasl_base64_decode(c->in, strlen(c->in), out, sizeof(out), &n);
	cr_assert_eq(r, c->ok ? 0 : -1, "%s", c->in);
	if (!c->ok)
		return;
	cr_assert_eq(n, c->outlen, "%s", c->in);
	cr_assert_eq(memcmp(out, c->out, n), 0, "%s", c->in);
}

/* SASL PLAIN messages (RFC 4616 2). */

struct plain_case {
	char	msg[48];
	size_t	len;
	int	ok;
	char	user[16];
	char	pass[16];
};

static struct plain_case plain_cases[] = {
	{ "\0alice\0demo", 11, 1, "alice", "demo" },
	{ "alice\0alice\0demo", 16, 1, "alice", "demo" },
	{ "bob\0alice\0demo", 14, 0, "", "" },	/* other authzid */
	{ "\0\0demo", 6, 0, "", "" },		/* no user */
	{ "\0alice\0", 7, 0, "", "" },		/* no password */
	{ "\0alice", 6, 0, "", "" },		/* one NUL */
	{ "alice", 5, 0, "", "" },
	{ "\0alice\0de\0mo", 13, 0, "", "" },	/* a third NUL */
	{ "\0averylongusername\0x", 20, 0, "", "" }, /* past userlen */
	{ "\0alice\0averylongpassword", 24, 0, "", "" },
	{ "", 0, 0, "", "" },
};

ParameterizedTestParameters(sasl, plain_split)
{
	return cr_make_param_array(struct plain_case, plain_cases,
	    sizeof(plain_cases) / sizeof(plain_cases[0]));
}

ParameterizedTest(struct plain_case *c, sasl, plain_split)
{
	char		 user[16], pass[16];
	const char	*errstr = NULL;
	int		 r;

	r = sasl_plain_split((const unsigned char *)c->msg, c->len,
	    user, sizeof(user), pass, sizeof(pass), &errstr);
	cr_assert_eq(r, c->ok ? 0 : -1);
	if (!c->ok) {
		cr_assert_not_null(errstr);
		return;
	}
	cr_assert_str_eq(user, c->user);
	cr_assert_str_eq(pass, c->pass);
}

/* An exchange: the command's mechanism and initial response, then lines. */
struct exch_case {
	char			 mech[8];
	char			 initial[48];	/* "" for none */
	char			 lines[2][48];	/* the client's responses */
	int			 nlines;
	enum sasl_result	 results[3];	/* start's, then each line's */
	char			 user[16];
	char			 pass[16];
};

static struct exch_case exch_cases[] = {
	/* PLAIN with an initial response, and after an empty challenge. */
	{ "PLAIN", "AGFsaWNlAGRlbW8=", { "" }, 0, { SASL_DONE },
	    "alice", "demo" },
	{ "plain", "", { "AGFsaWNlAGRlbW8=" }, 1,
	    { SASL_CONTINUE, SASL_DONE }, "alice", "demo" },
	/* authzid equal to the authcid, then a different one. */
	{ "PLAIN", "YWxpY2UAYWxpY2UAZGVtbw==", { "" }, 0, { SASL_DONE },
	    "alice", "demo" },
	{ "PLAIN", "Ym9iAGFsaWNlAGRlbW8=", { "" }, 0,
	    { SASL_BAD_MESSAGE }, "", "" },
	/* "=" is an empty initial response: not a PLAIN message. */
	{ "PLAIN", "=", { "" }, 0, { SASL_BAD_MESSAGE }, "", "" },
	{ "PLAIN", "", { "*" }, 1, { SASL_CONTINUE, SASL_CANCELLED },
	    "", "" },
	{ "PLAIN", "AGFsaWNlAGRlbW8", { "" }, 0, { SASL_BAD_BASE64 },
	    "", "" },
	/* LOGIN: user, then password; the user as initial response. */
	{ "LOGIN", "", { "YWxpY2U=", "ZGVtbw==" }, 2,
	    { SASL_CONTINUE, SASL_CONTINUE, SASL_DONE }, "alice", "demo" },
	{ "LOGIN", "YWxpY2U=", { "ZGVtbw==" }, 1,
	    { SASL_CONTINUE, SASL_DONE }, "alice", "demo" },
	{ "LOGIN", "", { "YWxpY2U=", "*" }, 2,
	    { SASL_CONTINUE, SASL_CONTINUE, SASL_CANCELLED }, "", "" },
	{ "LOGIN", "", { "" }, 1, { SASL_CONTINUE, SASL_BAD_MESSAGE },
	    "", "" },
	{ "LOGIN", "", { "YQBi" }, 1, { SASL_CONTINUE, SASL_BAD_MESSAGE },
	    "", "" },			/* a NUL in the name */
	{ "LOGIN", "", { "YWxpY2U" }, 1, { SASL_CONTINUE, SASL_BAD_BASE64 },
	    "", "" },
	{ "CRAM-MD5", "", { "" }, 0, { SASL_BAD_MECHANISM }, "", "" },
	{ "PLAINX", "", { "" }, 0, { SASL_BAD_MECHANISM }, "", "" },
};

ParameterizedTestParameters(sasl, exchange)
{
	return cr_make_param_array(struct exch_case, exch_cases,
	    sizeof(exch_cases) / sizeof(exch_cases[0]));
}

ParameterizedTest(struct exch_case *c, sasl, exchange)
{
	struct sasl		 sa;
	enum sasl_result	 r;
	const char		*text;
	int			 i;

	memset(&sa, 0x55, sizeof(sa));
	r = sasl_start(&sa, c->mech, strlen(c->mech),
	    c->initial[0] != '\0' ? c->initial : NULL, &text);
	cr_assert_eq(r, c->results[0], "%s start: %d", c->mech, r);
	if (r == SASL_CONTINUE) {
		cr_assert_not_null(text);
		if (strcmp(c->mech, "LOGIN") == 0)
			cr_assert_str_eq(text, c->initial[0] != '\0' ?
			    SASL_LOGIN_PROMPT_PASS : SASL_LOGIN_PROMPT_USER);
		else
			cr_assert_str_eq(text, "");
	}
	for (i = 0; i < c->nlines; i++) {
		r = sasl_step(&sa, c->lines[i], strlen(c->lines[i]), &text);
		cr_assert_eq(r, c->results[i + 1], "%s line %d: %d", c->mech,
		    i, r);
	}
	if (r == SASL_BAD_MESSAGE)
		cr_assert_not_null(text);
	if (r != SASL_CONTINUE)
		cr_assert_eq(sa.step, SASL_STEP_NONE);
	if (r == SASL_DONE) {
		cr_assert_str_eq(sa.user, c->user);
		cr_assert_str_eq(sa.pass, c->pass);
	}
	sasl_end(&sa);
	cr_assert_eq(sa.pass[0], '\0');
	cr_assert_eq(sa.step, SASL_STEP_NONE);
}

/* The longest PLAIN message fits; one byte more of password does not. */
Test(sasl, plain_limits)
{
	static unsigned char	 msg[SASL_DECODED_MAX_BYTES + 1];
	static char		 b64[(SASL_DECODED_MAX_BYTES + 3) / 3 * 4 + 8];
	static const char	 abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	struct sasl		 sa;
	const char		*text;
	size_t			 n, i, j, ulen = AUTH_USER_MAX_BYTES - 1;
	int			 extra;

	for (extra = 0; extra < 2; extra++) {
		n = 0;
		msg[n++] = '\0';
		memset(msg + n, 'u', ulen);
		n += ulen;
		msg[n++] = '\0';
		memset(msg + n, 'p', AUTH_PASSWORD_MAX_BYTES - 1 + extra);
		n += AUTH_PASSWORD_MAX_BYTES - 1 + extra;
		for (i = 0, j = 0; i < n; i += 3) {
			unsigned int v = msg[i] << 16 |
			    (i + 1 < n ? msg[i + 1] << 8 : 0) |
			    (i + 2 < n ? msg[i + 2] : 0);
			b64[j++] = abc[v >> 18 & 63];
			b64[j++] = abc[v >> 12 & 63];
			b64[j++] = i + 1 < n ? abc[v >> 6 & 63] : '=';
			b64[j++] = i + 2 < n ? abc[v & 63] : '=';
		}
		b64[j] = '\0';
		cr_assert_eq(sasl_start(&sa, "PLAIN", 5, b64, &text),
		    extra ? SASL_BAD_MESSAGE : SASL_DONE);
		if (!extra)
			cr_assert_eq(strlen(sa.pass),
			    AUTH_PASSWORD_MAX_BYTES - 1);
		sasl_end(&sa);
	}
}
