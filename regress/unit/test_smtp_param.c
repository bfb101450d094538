/*
 * smtpd/smtp_param.c through smtp_parse_mail and smtp_parse_rcpt: the
 * SMTPUTF8 (RFC 6531) and DSN (RFC 3461) parameters, the paths they
 * allow, and what is refused: bad xtext, bad values, repeats, values
 * too long, parameters of the other command.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "../../smtpd/smtp_parse.h"

/* The tables hold arrays, never pointers (see test_smtp_parse.c). */
#define IN_MAX		320

#define OK		SMTP_PARSE_OK
#define SYNTAX		SMTP_PARSE_SYNTAX
#define PATH		SMTP_PARSE_PATH
#define PARAM		SMTP_PARSE_PARAM
#define UNKNOWN		SMTP_PARSE_UNKNOWN
#define UTF8		SMTP_PARSE_UTF8

#define JORG		"j\xc3\xb6rg"
#define MUNCHEN		"m\xc3\xbcnchen.example"

struct mail_case {
	char	in[IN_MAX];
	int	result;
	int	smtputf8;
	int	ret;
	char	envid[DSN_ENVID_MAX_BYTES + 1];
	char	local[SMTP_LOCALPART_MAX_BYTES + 1];
	char	domain[SMTP_DOMAIN_MAX_BYTES + 1];
};

#define MBAD(in, r)	{ in, r, 0, 0, "", "", "" }

static struct mail_case mail_cases[] = {
	{ "FROM:<a@b> SMTPUTF8", OK, 1, 0, "", "a", "b" },
	{ "FROM:<" JORG "@example.org> SMTPUTF8", OK, 1, 0, "", JORG,
	    "example.org" },
	{ "FROM:<a@" MUNCHEN "> smtputf8", OK, 1, 0, "", "a", MUNCHEN },
	{ "FROM:<> SMTPUTF8", OK, 1, 0, "", "", "" },
	{ "FROM:<a@b> RET=FULL", OK, 0, DSN_RET_FULL, "", "a", "b" },
	{ "FROM:<a@b> ret=hdrs", OK, 0, DSN_RET_HDRS, "", "a", "b" },
	{ "FROM:<a@b> ENVID=QQ314159", OK, 0, 0, "QQ314159", "a", "b" },
	{ "FROM:<a@b> ENVID=a+2Bb+3Dc", OK, 0, 0, "a+b=c", "a", "b" },
	{ "FROM:<" JORG "@example.org> RET=HDRS ENVID=x SMTPUTF8 "
	    "SIZE=10 BODY=8BITMIME", OK, 1, DSN_RET_HDRS, "x", JORG,
	    "example.org" },
	MBAD("FROM:<" JORG "@example.org>", UTF8),
	MBAD("FROM:<a@" MUNCHEN ">", UTF8),
	MBAD("FROM:<" JORG "@example.org> BODY=8BITMIME", UTF8),
	MBAD("FROM:<@" MUNCHEN ":a@b>", UTF8),
	MBAD("FROM:<j\xc3(rg@example.org> SMTPUTF8", PATH),
	MBAD("FROM:<j\xc0\xafrg@example.org> SMTPUTF8", PATH),
	MBAD("FROM:<a@b> SMTPUTF8 SMTPUTF8", PARAM),
	MBAD("FROM:<a@b> SMTPUTF8=1", PARAM),
	MBAD("FROM:<a@b> RET", PARAM),
	MBAD("FROM:<a@b> RET=", SYNTAX),
	MBAD("FROM:<a@b> RET=ALL", PARAM),
	MBAD("FROM:<a@b> RET=FULL RET=HDRS", PARAM),
	MBAD("FROM:<a@b> RET=FULL RET=FULL", PARAM),
	MBAD("FROM:<a@b> ENVID", PARAM),
	MBAD("FROM:<a@b> ENVID=+4", PARAM),
	MBAD("FROM:<a@b> ENVID=a+ZZ", PARAM),
	MBAD("FROM:<a@b> ENVID=a+2b", PARAM),
	MBAD("FROM:<a@b> ENVID=a+20b", PARAM),
	MBAD("FROM:<a@b> ENVID=x ENVID=y", PARAM),
	MBAD("FROM:<a@b> ENVID=a\x01", SYNTAX),
	MBAD("FROM:<a@b> NOTIFY=NEVER", UNKNOWN),
	MBAD("FROM:<a@b> ORCPT=rfc822;a@b", UNKNOWN),
	MBAD("FROM:<a@b> X-FOO=1", UNKNOWN),
};

ParameterizedTestParameters(smtp_param, mail)
{
	return cr_make_param_array(struct mail_case, mail_cases,
	    sizeof(mail_cases) / sizeof(mail_cases[0]));
}

ParameterizedTest(struct mail_case *c, smtp_param, mail)
{
	struct smtp_mail_args	 ma;
	const char		*errstr = NULL;
	int			 r;

	r = smtp_parse_mail(c->in, 1, &ma, &errstr);
	cr_assert_eq(r, c->result, "\"%s\": %d (%s), expected %d", c->in, r,
	    errstr ? errstr : "", c->result);
	if (r != SMTP_PARSE_OK) {
		cr_expect_not_null(errstr);
		return;
	}
	cr_expect_eq(ma.smtputf8, c->smtputf8);
	cr_expect_eq((int)ma.ret, c->ret);
	cr_expect_str_eq(ma.envid, c->envid);
	cr_expect_str_eq(ma.path.addr.local, c->local);
	cr_expect_str_eq(ma.path.addr.domain, c->domain);
}

/* RFC 3461 4.4: ENVID is at most 100 characters, as sent. */
Test(smtp_param, envid_length)
{
	struct smtp_mail_args	 ma;
	char			 arg[IN_MAX];
	const char		*errstr = NULL;

	(void)snprintf(arg, sizeof(arg), "FROM:<a@b> ENVID=%0*d",
	    DSN_ENVID_MAX_BYTES, 7);
	cr_expect_eq(smtp_parse_mail(arg, 1, &ma, &errstr), SMTP_PARSE_OK,
	    "%s", errstr);
	cr_expect_eq(strlen(ma.envid), DSN_ENVID_MAX_BYTES);
	(void)snprintf(arg, sizeof(arg), "FROM:<a@b> ENVID=%0*d",
	    DSN_ENVID_MAX_BYTES + 1, 7);
	cr_expect_eq(smtp_parse_mail(arg, 1, &ma, &errstr), SMTP_PARSE_PARAM);
	cr_expect_str_eq(errstr, "ENVID too long");
}

struct rcpt_case {
	char		in[IN_MAX];
	int		smtputf8;
	int		result;
	uint32_t	notify;
	char		orcpt[IN_MAX];
	char		local[SMTP_LOCALPART_MAX_BYTES + 1];
};

#define N_NEVER		DSN_NOTIFY_NEVER
#define N_S		DSN_NOTIFY_SUCCESS
#define N_F		DSN_NOTIFY_FAILURE
#define N_D		DSN_NOTIFY_DELAY
#define RBAD(in, u, r)	{ in, u, r, 0, "", "" }

static struct rcpt_case rcpt_cases[] = {
	{ "TO:<bob@b> NOTIFY=NEVER", 0, OK, N_NEVER, "", "bob" },
	{ "TO:<bob@b> NOTIFY=SUCCESS,FAILURE", 0, OK, N_S | N_F, "", "bob" },
	{ "TO:<bob@b> notify=delay,failure,success", 0, OK, N_S | N_F | N_D,
	    "", "bob" },
	{ "TO:<bob@b> ORCPT=rfc822;bob@b", 0, OK, 0, "rfc822;bob@b", "bob" },
	{ "TO:<bob@b> ORCPT=rfc822;+22a+20b+22@b NOTIFY=FAILURE", 0, OK,
	    N_F, "rfc822;\"a b\"@b", "bob" },
	{ "TO:<Postmaster> NOTIFY=NEVER", 0, OK, N_NEVER, "", "" },
	{ "TO:<" JORG "@example.org>", 1, OK, 0, "", JORG },
	{ "TO:<" JORG "@example.org> NOTIFY=NEVER ORCPT=utf-8;"
	    "j\\x{00F6}rg@example.org", 1, OK, N_NEVER,
	    "utf-8;j\\x{00F6}rg@example.org", JORG },
	RBAD("TO:<" JORG "@example.org>", 0, UTF8),
	RBAD("TO:<bob@" MUNCHEN ">", 0, UTF8),
	RBAD("TO:<j\xc3(rg@example.org>", 1, PATH),
	RBAD("TO:<bob@b> NOTIFY=NEVER,SUCCESS", 0, PARAM),
	RBAD("TO:<bob@b> NOTIFY=SUCCESS,NEVER", 0, PARAM),
	RBAD("TO:<bob@b> NOTIFY=SUCCESS,SUCCESS", 0, PARAM),
	RBAD("TO:<bob@b> NOTIFY=SUCCESS,", 0, PARAM),
	RBAD("TO:<bob@b> NOTIFY=ALWAYS", 0, PARAM),
	RBAD("TO:<bob@b> NOTIFY", 0, PARAM),
	RBAD("TO:<bob@b> NOTIFY=NEVER NOTIFY=NEVER", 0, PARAM),
	RBAD("TO:<bob@b> NOTIFY=FAILURE NOTIFY=DELAY", 0, PARAM),
	RBAD("TO:<bob@b> ORCPT=bob@b", 0, PARAM),
	RBAD("TO:<bob@b> ORCPT=rfc822;", 0, PARAM),
	RBAD("TO:<bob@b> ORCPT=;bob@b", 0, PARAM),
	RBAD("TO:<bob@b> ORCPT=rfc822;bob+4@b", 0, PARAM),
	RBAD("TO:<bob@b> ORCPT=rfc822;bob+ZZ@b", 0, PARAM),
	RBAD("TO:<bob@b> ORCPT=rfc822;bob+0D@b", 0, PARAM),
	RBAD("TO:<bob@b> ORCPT=rfc822;a@b ORCPT=rfc822;a@b", 0, PARAM),
	RBAD("TO:<bob@b> ORCPT=rfc822;bob @b", 0, SYNTAX),
	RBAD("TO:<bob@b> RET=FULL", 0, UNKNOWN),
	RBAD("TO:<bob@b> ENVID=x", 0, UNKNOWN),
	RBAD("TO:<bob@b> SMTPUTF8", 0, UNKNOWN),
	RBAD("TO:<bob@b> NOTIFY=NEVER\x01", 0, SYNTAX),
};

ParameterizedTestParameters(smtp_param, rcpt)
{
	return cr_make_param_array(struct rcpt_case, rcpt_cases,
	    sizeof(rcpt_cases) / sizeof(rcpt_cases[0]));
}

ParameterizedTest(struct rcpt_case *c, smtp_param, rcpt)
{
	struct smtp_rcpt_args	 ra;
	const char		*errstr = NULL;
	int			 r;

	r = smtp_parse_rcpt(c->in, 1, c->smtputf8, &ra, &errstr);
	cr_assert_eq(r, c->result, "\"%s\": %d (%s), expected %d", c->in, r,
	    errstr ? errstr : "", c->result);
	if (r != SMTP_PARSE_OK) {
		cr_expect_not_null(errstr);
		return;
	}
	cr_expect_eq(ra.notify, c->notify);
	cr_expect_str_eq(ra.orcpt, c->orcpt);
	cr_expect_str_eq(ra.path.addr.local, c->local);
}

/* RFC 3461 4.2: ORCPT is at most 500 characters, as sent. */
Test(smtp_param, orcpt_length)
{
	struct smtp_rcpt_args	 ra;
	char			 arg[2 * SMTP_CMD_LINE_MAX_BYTES];
	const char		*errstr = NULL;
	size_t			 fill;

	fill = DSN_ORCPT_MAX_BYTES - strlen("rfc822;");
	(void)snprintf(arg, sizeof(arg), "TO:<b@c> ORCPT=rfc822;%0*d",
	    (int)fill, 5);
	cr_expect_eq(smtp_parse_rcpt(arg, 1, 0, &ra, &errstr), SMTP_PARSE_OK,
	    "%s", errstr);
	cr_expect_eq(strlen(ra.orcpt), DSN_ORCPT_MAX_BYTES);
	(void)snprintf(arg, sizeof(arg), "TO:<b@c> ORCPT=rfc822;%0*d",
	    (int)fill + 1, 5);
	cr_expect_eq(smtp_parse_rcpt(arg, 1, 0, &ra, &errstr),
	    SMTP_PARSE_PARAM);
	cr_expect_str_eq(errstr, "ORCPT too long");
}

/* Without EHLO no parameter is known (RFC 5321 4.1.4). */
Test(smtp_param, helo_only)
{
	struct smtp_mail_args	 ma;
	struct smtp_rcpt_args	 ra;
	const char		*errstr = NULL;

	cr_expect_eq(smtp_parse_mail("FROM:<a@b> SMTPUTF8", 0, &ma, &errstr),
	    SMTP_PARSE_UNKNOWN);
	cr_expect_eq(smtp_parse_rcpt("TO:<a@b> NOTIFY=NEVER", 0, 0, &ra,
	    &errstr), SMTP_PARSE_UNKNOWN);
}
