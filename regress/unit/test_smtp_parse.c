/*
 * smtpd/smtp_parse.c: command lines, HELO arguments, MAIL and RCPT paths
 * and parameters (RFC 5321 4.1.2, RFC 1870, RFC 6152), the limits of
 * RFC 5321 4.5.3.1, and the rules for lines of message data (end of
 * data, dot-unstuffing, bare LF/CR, NUL, over-long lines, loops).
 */
#include <stdio.h>
#include <string.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "lineio.h"
#include "../../smtpd/smtp_parse.h"

/*
 * Criterion may run each case in a freshly executed copy of this binary,
 * where pointers into the parent's data mean nothing: the tables hold
 * arrays, never pointers.
 */
#define IN_MAX		320

/* 64 'a': the longest local part. */
#define L64	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define B63	"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" \
		"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

/* Command lines. */

struct cl_case {
	char	in[IN_MAX];
	int	ok;
	char	verb[SMTP_VERB_MAX_BYTES + 1];
	char	arg[IN_MAX];
	int	has_arg;
};

static struct cl_case cl_cases[] = {
	{ "HELO example.org", 1, "HELO", "example.org", 1 },
	{ "ehlo  example.org  ", 1, "EHLO", "example.org", 1 },
	{ "QUIT", 1, "QUIT", "", 0 },
	{ "quit \t ", 1, "QUIT", "", 0 },
	{ "Mail FROM:<a@b> SIZE=1", 1, "MAIL", "FROM:<a@b> SIZE=1", 1 },
	{ "NOOP what ever", 1, "NOOP", "what ever", 1 },
	{ "STARTTLS", 1, "STARTTLS", "", 0 },
	{ "ABCDEFGHIJKLMNOP", 1, "ABCDEFGHIJKLMNOP", "", 0 },
	{ "XYZZY", 1, "XYZZY", "", 0 },
	{ "", 0, "", "", 0 },
	{ " HELO x", 0, "", "", 0 },
	{ "HE1O x", 0, "", "", 0 },
	{ "HELO\tx", 0, "", "", 0 },
	{ "MAIL:FROM", 0, "", "", 0 },
	{ "ABCDEFGHIJKLMNOPQ", 0, "", "", 0 },
	{ "\xc3\xa9HLO x", 0, "", "", 0 },
	{ "1234", 0, "", "", 0 },
};

ParameterizedTestParameters(smtp_parse, cmdline)
{
	return cr_make_param_array(struct cl_case, cl_cases,
	    sizeof(cl_cases) / sizeof(cl_cases[0]));
}

ParameterizedTest(struct cl_case *c, smtp_parse, cmdline)
{
	struct smtp_cmdline	 cl;
	const char		*errstr = NULL;
	int			 r;

	r = smtp_parse_cmdline(c->in, strlen(c->in), &cl, &errstr);
	if (!c->ok) {
		cr_expect_eq(r, -1, "\"%s\" accepted", c->in);
		cr_expect_not_null(errstr);
		return;
	}
	cr_assert_eq(r, 0, "\"%s\" refused: %s", c->in, errstr);
	cr_expect_str_eq(cl.verb, c->verb);
	cr_expect_str_eq(cl.arg, c->arg);
	cr_expect_eq(cl.has_arg, c->has_arg);
}

/* RFC 5321 4.5.3.1.4: 512 octets with the CRLF, so 510 without. */
Test(smtp_parse, cmdline_length)
{
	char			 line[SMTP_CMD_LINE_MAX_BYTES + 8];
	struct smtp_cmdline	 cl;
	const char		*errstr;
	size_t			 len = SMTP_CMD_LINE_MAX_BYTES - 2;

	memset(line, 'x', sizeof(line));
	memcpy(line, "NOOP ", 5);
	cr_expect_eq(smtp_parse_cmdline(line, len, &cl, &errstr), 0);
	cr_expect_eq(strlen(cl.arg), len - 5);
	cr_expect_eq(smtp_parse_cmdline(line, len + 1, &cl, &errstr), -1);
	cr_expect_str_eq(errstr, "line too long");
}

Test(smtp_parse, cmdline_nul)
{
	struct smtp_cmdline	 cl;
	const char		*errstr;

	cr_expect_eq(smtp_parse_cmdline("NOOP a\0b", 8, &cl, &errstr), -1);
	cr_expect_eq(smtp_parse_cmdline("NO\0OP", 5, &cl, &errstr), -1);
}

/* HELO and EHLO arguments. */

struct helo_case {
	char	in[IN_MAX];
	int	ok;
};

static struct helo_case helo_cases[] = {
	{ "example.org", 1 },
	{ "localhost", 1 },
	{ "MX-1.Example.ORG", 1 },
	{ "[127.0.0.1]", 1 },
	{ "[IPv6:::1]", 1 },
	{ "[ipv6:2001:db8::1]", 1 },
	{ B63 "." B63 "." B63 "." B63, 1 },
	{ "", 0 },
	{ "exa mple.org", 0 },
	{ "my_host", 0 },
	{ "-bad.example", 0 },
	{ "bad-.example", 0 },
	{ "a..b", 0 },
	{ "example.org.", 0 },
	{ "[300.1.1.1]", 0 },
	{ "[foo]", 0 },
	{ "[IPv6:1.2.3.4]", 0 },
	{ "[127.0.0.1", 0 },
	{ "host(evil)", 0 },
	{ B63 "." B63 "." B63 "." B63 "x", 0 },
	{ B63 "." B63 "." B63 "." B63 ".cc", 0 },
};

ParameterizedTestParameters(smtp_parse, helo)
{
	return cr_make_param_array(struct helo_case, helo_cases,
	    sizeof(helo_cases) / sizeof(helo_cases[0]));
}

ParameterizedTest(struct helo_case *c, smtp_parse, helo)
{
	const char	*errstr = NULL;
	int		 r;

	r = smtp_parse_helo(c->in, &errstr);
	cr_expect_eq(r, c->ok ? 0 : -1, "\"%s\": %d (%s)", c->in, r,
	    errstr ? errstr : "");
}

/* MAIL FROM. */

struct mail_case {
	char		in[IN_MAX];
	int		esmtp;
	int		result;
	int		null;
	char		local[SMTP_LOCALPART_MAX_BYTES + 1];
	char		domain[SMTP_DOMAIN_MAX_BYTES + 1];
	int		has_size;
	uint64_t	size;
	int		body;
};

#define OK		SMTP_PARSE_OK
#define SYNTAX		SMTP_PARSE_SYNTAX
#define PATH		SMTP_PARSE_PATH
#define PARAM		SMTP_PARSE_PARAM
#define UNKNOWN		SMTP_PARSE_UNKNOWN
#define UTF8		SMTP_PARSE_UTF8
#define MBAD(in, e, r)	{ in, e, r, 0, "", "", 0, 0, 0 }

static struct mail_case mail_cases[] = {
	{ "FROM:<alice@example.org>", 1, OK, 0, "alice", "example.org",
	    0, 0, 0 },
	{ "from:<Alice@EXAMPLE.org>", 0, OK, 0, "Alice", "example.org",
	    0, 0, 0 },
	{ "FROM: <alice@example.org>", 1, OK, 0, "alice", "example.org",
	    0, 0, 0 },
	{ "FROM:<>", 0, OK, 1, "", "", 0, 0, 0 },
	{ "FROM:<> SIZE=1000", 1, OK, 1, "", "", 1, 1000, 0 },
	{ "FROM:<a@b> SIZE=1000 BODY=8BITMIME", 1, OK, 0, "a", "b",
	    1, 1000, SMTP_BODY_8BITMIME },
	{ "FROM:<a@b> body=7bit", 1, OK, 0, "a", "b", 0, 0, SMTP_BODY_7BIT },
	{ "FROM:<a@b>   size=0", 1, OK, 0, "a", "b", 1, 0, 0 },
	{ "FROM:<a@b> SIZE=18446744073709551615", 1, OK, 0, "a", "b",
	    1, UINT64_MAX, 0 },
	{ "FROM:<@relay.example,@r2.example:a@b>", 0, OK, 0, "a", "b",
	    0, 0, 0 },
	{ "FROM:<@relay.example:a@b>", 0, OK, 0, "a", "b", 0, 0, 0 },
	{ "FROM:<\"a b>c\"@example.org>", 0, OK, 0, "\"a b>c\"",
	    "example.org", 0, 0, 0 },
	{ "FROM:<a@[192.0.2.1]>", 0, OK, 0, "a", "[192.0.2.1]", 0, 0, 0 },
	{ "FROM:<" L64 "@example.org>", 0, OK, 0, L64, "example.org",
	    0, 0, 0 },
	MBAD("FROM:a@b", 0, SYNTAX),
	MBAD("FROM:<a@b", 0, SYNTAX),
	MBAD("FROM:", 0, SYNTAX),
	MBAD("TO:<a@b>", 0, SYNTAX),
	MBAD("FROM <a@b>", 0, SYNTAX),
	MBAD("FROM:<a@b>x", 0, SYNTAX),
	MBAD("FROM:<a@b> SIZE=", 1, SYNTAX),
	MBAD("FROM:<a@b> -X=1", 1, SYNTAX),
	MBAD("FROM:<a@b> X=a=b", 1, SYNTAX),
	MBAD("FROM:<a@b> X=\x01", 1, SYNTAX),
	MBAD("FROM:<a>", 0, PATH),
	MBAD("FROM:<postmaster>", 0, PATH),
	MBAD("FROM:<@bad_domain:a@b>", 0, PATH),
	MBAD("FROM:<@relay.example a@b>", 0, PATH),
	MBAD("FROM:<relay.example:a@b>", 0, PATH),
	MBAD("FROM:<a@exa mple.org>", 0, PATH),
	MBAD("FROM:<" L64 "a@example.org>", 0, PATH),
	MBAD("FROM:<j\xc3\xb6rg@example.org>", 1, UTF8),
	MBAD("FROM:<a@b> SIZE", 1, PARAM),
	MBAD("FROM:<a@b> SIZE=abc", 1, PARAM),
	MBAD("FROM:<a@b> SIZE=-1", 1, PARAM),
	MBAD("FROM:<a@b> SIZE=1 SIZE=2", 1, PARAM),
	MBAD("FROM:<a@b> SIZE=18446744073709551616", 1, PARAM),
	MBAD("FROM:<a@b> SIZE=123456789012345678901", 1, PARAM),
	MBAD("FROM:<a@b> BODY=BINARYMIME", 1, PARAM),
	MBAD("FROM:<a@b> BODY=7BIT BODY=7BIT", 1, PARAM),
	MBAD("FROM:<a@b> AUTH=<>", 1, UNKNOWN),
	MBAD("FROM:<a@b> SMTPUTF8", 0, UNKNOWN),
	MBAD("FROM:<a@b> SIZE=10", 0, UNKNOWN),
	MBAD("FROM:<a@b> BODY=8BITMIME", 0, UNKNOWN),
};

ParameterizedTestParameters(smtp_parse, mail)
{
	return cr_make_param_array(struct mail_case, mail_cases,
	    sizeof(mail_cases) / sizeof(mail_cases[0]));
}

ParameterizedTest(struct mail_case *c, smtp_parse, mail)
{
	struct smtp_mail_args	 ma;
	const char		*errstr = NULL;
	int			 r;

	r = smtp_parse_mail(c->in, c->esmtp, &ma, &errstr);
	cr_assert_eq(r, c->result, "\"%s\": %d (%s), expected %d", c->in, r,
	    errstr ? errstr : "", c->result);
	if (r != SMTP_PARSE_OK) {
		cr_expect_not_null(errstr);
		return;
	}
	cr_expect_eq(ma.path.null, c->null);
	cr_expect_eq(ma.path.postmaster, 0);
	cr_expect_str_eq(ma.path.addr.local, c->local);
	cr_expect_str_eq(ma.path.addr.domain, c->domain);
	cr_expect_eq(ma.has_size, c->has_size);
	cr_expect_eq(ma.size, c->size);
	cr_expect_eq((int)ma.body, c->body);
}

/* RFC 5321 4.5.3.1.3: a path is at most 256 octets, brackets included. */
Test(smtp_parse, mail_path_length)
{
	struct smtp_mail_args	 ma;
	char			 arg[IN_MAX];
	const char		*errstr;
	const char		*route = "@r.example:";
	size_t			 fill;

	/* "<" route "a@" domain ">" of exactly 256 octets. */
	fill = SMTP_PATH_MAX_BYTES - 2 - strlen(route) - 2;
	(void)snprintf(arg, sizeof(arg), "FROM:<%sa@%.*s>", route, (int)fill,
	    B63 "." B63 "." B63 "." B63);
	cr_assert_eq(strlen(arg) - 5, SMTP_PATH_MAX_BYTES);
	cr_expect_eq(smtp_parse_mail(arg, 0, &ma, &errstr), SMTP_PARSE_OK,
	    "%s", errstr);
	(void)snprintf(arg, sizeof(arg), "FROM:<%sab@%.*s>", route,
	    (int)fill, B63 "." B63 "." B63 "." B63);
	cr_expect_eq(smtp_parse_mail(arg, 0, &ma, &errstr), SMTP_PARSE_PATH);
	cr_expect_str_eq(errstr, "path too long");
}

/* RCPT TO. */

struct rcpt_case {
	char	in[IN_MAX];
	int	esmtp;
	int	result;
	int	postmaster;
	char	local[SMTP_LOCALPART_MAX_BYTES + 1];
	char	domain[SMTP_DOMAIN_MAX_BYTES + 1];
};

#define RBAD(in, e, r)	{ in, e, r, 0, "", "" }

static struct rcpt_case rcpt_cases[] = {
	{ "TO:<bob@example.org>", 1, OK, 0, "bob", "example.org" },
	{ "to:<Bob@Example.ORG>", 0, OK, 0, "Bob", "example.org" },
	{ "TO: <bob@example.org>", 0, OK, 0, "bob", "example.org" },
	{ "To:<Postmaster>", 0, OK, 1, "", "" },
	{ "TO:<postmaster>", 1, OK, 1, "", "" },
	{ "TO:<postmaster@example.org>", 0, OK, 0, "postmaster",
	    "example.org" },
	{ "TO:<@a.example:bob@example.org>", 0, OK, 0, "bob",
	    "example.org" },
	{ "TO:<bob@[192.0.2.1]>", 0, OK, 0, "bob", "[192.0.2.1]" },
	{ "TO:<\"odd one\"@example.org>", 0, OK, 0, "\"odd one\"",
	    "example.org" },
	RBAD("TO:<>", 0, PATH),
	RBAD("TO:<@a.example:postmaster>", 0, PATH),
	RBAD("TO:<bob>", 0, PATH),
	RBAD("TO:<bob@exa mple.org>", 0, PATH),
	RBAD("TO:<bob@example.org.>", 0, PATH),
	RBAD("TO:bob@example.org", 0, SYNTAX),
	RBAD("FROM:<bob@example.org>", 0, SYNTAX),
	RBAD("TO:<bob@example.org>junk", 0, SYNTAX),
	RBAD("TO:<bob@example.org> NOTIFY=NEVER", 0, UNKNOWN),
	RBAD("TO:<bob@example.org> RET=FULL", 1, UNKNOWN),
	RBAD("TO:<bob@example.org> SIZE=1", 1, UNKNOWN),
	RBAD("TO:<bob@example.org> X", 0, UNKNOWN),
};

ParameterizedTestParameters(smtp_parse, rcpt)
{
	return cr_make_param_array(struct rcpt_case, rcpt_cases,
	    sizeof(rcpt_cases) / sizeof(rcpt_cases[0]));
}

ParameterizedTest(struct rcpt_case *c, smtp_parse, rcpt)
{
	struct smtp_rcpt_args	 ra;
	const char		*errstr = NULL;
	int			 r;

	r = smtp_parse_rcpt(c->in, c->esmtp, 0, &ra, &errstr);
	cr_assert_eq(r, c->result, "\"%s\": %d (%s), expected %d", c->in, r,
	    errstr ? errstr : "", c->result);
	if (r != SMTP_PARSE_OK) {
		cr_expect_not_null(errstr);
		return;
	}
	cr_expect_eq(ra.path.null, 0);
	cr_expect_eq(ra.path.postmaster, c->postmaster);
	cr_expect_str_eq(ra.path.addr.local, c->local);
	cr_expect_str_eq(ra.path.addr.domain, c->domain);
}

/* Message data, line by line. */

#define DLINES_MAX	8
#define DTEXT_MAX	32
#define BLF		LINE_F_BARELF
#define BCR		LINE_F_BARECR

struct dline {
	char	text[DTEXT_MAX];
	int	lflags;
};

struct data_case {
	struct dline	lines[DLINES_MAX];
	size_t		nlines;
	int		end_at;		/* the ending line, or -1 */
	int		flags;		/* SMTP_DATA_F_* expected */
	char		out[IN_MAX];	/* as stored, LF line ends */
};

static struct data_case data_cases[] = {
	/* A plain message. */
	{ { { "Subject: x", 0 }, { "", 0 }, { "body", 0 }, { ".", 0 } }, 4,
	    3, 0, "Subject: x\n\nbody\n" },
	/* The empty message. */
	{ { { ".", 0 } }, 1, 0, 0, "" },
	/* Dot-unstuffing: one leading dot goes. */
	{ { { "..hidden", 0 }, { ". x", 0 }, { "..", 0 }, { ".", 0 } }, 4,
	    3, 0, ".hidden\n x\n.\n" },
	/* A "." ended by a bare LF is no end (SMTP smuggling). */
	{ { { "a", 0 }, { ".", BLF }, { "b", 0 }, { ".", 0 } }, 4, 3,
	    SMTP_DATA_F_BARE, "a\n\nb\n" },
	/* A "." after a bare LF is no end either. */
	{ { { "a", BLF }, { ".", 0 }, { ".", 0 } }, 3, 2, SMTP_DATA_F_BARE,
	    "a\n\n" },
	/* A bare CR inside a line. */
	{ { { "a\rb", BCR }, { ".", 0 } }, 2, 1, SMTP_DATA_F_BARE,
	    "a\rb\n" },
	/* "\r.\r\n": a bare CR before the dot. */
	{ { { "a", 0 }, { "\r.", BCR }, { ".", 0 } }, 3, 2, SMTP_DATA_F_BARE,
	    "a\n\r.\n" },
	/* A NUL byte. */
	{ { { "x", LINE_F_NUL }, { ".", 0 } }, 2, 1, SMTP_DATA_F_NUL,
	    "x\n" },
	/* A line cut by lineio; the "." after it still ends the data. */
	{ { { "xxxx", LINE_F_TOOLONG }, { ".", 0 } }, 2, 1,
	    SMTP_DATA_F_TOOLONG, "xxxx\n" },
	/* No end yet. */
	{ { { "a", 0 }, { "b", 0 } }, 2, -1, 0, "a\nb\n" },
};

ParameterizedTestParameters(smtp_parse, data)
{
	return cr_make_param_array(struct data_case, data_cases,
	    sizeof(data_cases) / sizeof(data_cases[0]));
}

ParameterizedTest(struct data_case *c, smtp_parse, data)
{
	struct smtp_data_scan	 ds;
	char			 out[IN_MAX] = "";
	const char		*text;
	size_t			 i, tlen, olen = 0;
	int			 end_at = -1;

	smtp_data_scan_init(&ds);
	for (i = 0; i < c->nlines; i++) {
		if (smtp_data_scan_line(&ds, c->lines[i].text,
		    strlen(c->lines[i].text), c->lines[i].lflags, &text,
		    &tlen) == 1) {
			end_at = (int)i;
			break;
		}
		cr_assert_lt(olen + tlen + 1, sizeof(out));
		memcpy(out + olen, text, tlen);
		olen += tlen;
		out[olen++] = '\n';
		out[olen] = '\0';
	}
	cr_expect_eq(end_at, c->end_at, "case %s: end at %d",
	    c->lines[0].text, end_at);
	cr_expect_eq(ds.flags, c->flags);
	cr_expect_str_eq(out, c->out);
}

/* RFC 5321 4.5.3.1.6: 1000 octets with the CRLF, so 998 without. */
Test(smtp_parse, data_line_length)
{
	char			 line[SMTP_LINE_MAX_BYTES + 8];
	struct smtp_data_scan	 ds;
	const char		*text;
	size_t			 tlen;

	memset(line, 'x', sizeof(line));
	smtp_data_scan_init(&ds);
	cr_expect_eq(smtp_data_scan_line(&ds, line, SMTP_LINE_MAX_BYTES - 2,
	    0, &text, &tlen), 0);
	cr_expect_eq(ds.flags, 0);
	cr_expect_eq(tlen, SMTP_LINE_MAX_BYTES - 2);
	cr_expect_eq(smtp_data_scan_line(&ds, line, SMTP_LINE_MAX_BYTES - 1,
	    0, &text, &tlen), 0);
	cr_expect_eq(ds.flags, SMTP_DATA_F_TOOLONG);
	cr_expect_eq(smtp_data_scan_line(&ds, ".", 1, 0, &text, &tlen), 1);
}

/* RFC 5321 6.3: more than SMTP_RECEIVED_MAX Received fields is a loop. */
Test(smtp_parse, data_received_loop)
{
	struct smtp_data_scan	 ds;
	const char		*text;
	size_t			 tlen;
	int			 i;

	smtp_data_scan_init(&ds);
	for (i = 0; i < SMTP_RECEIVED_MAX; i++)
		(void)smtp_data_scan_line(&ds, "Received: from x", 16, 0,
		    &text, &tlen);
	cr_expect_eq(ds.flags, 0);
	cr_expect_eq(ds.received, SMTP_RECEIVED_MAX);
	(void)smtp_data_scan_line(&ds, "received: from y", 16, 0, &text,
	    &tlen);
	cr_expect_eq(ds.flags, SMTP_DATA_F_LOOP);
}

/* Received lines in the body are text, not hops. */
Test(smtp_parse, data_received_body)
{
	struct smtp_data_scan	 ds;
	const char		*text;
	size_t			 tlen;
	int			 i;

	smtp_data_scan_init(&ds);
	(void)smtp_data_scan_line(&ds, "Received: from x", 16, 0, &text,
	    &tlen);
	(void)smtp_data_scan_line(&ds, "", 0, 0, &text, &tlen);
	for (i = 0; i < 2 * SMTP_RECEIVED_MAX; i++)
		(void)smtp_data_scan_line(&ds, "Received: from x", 16, 0,
		    &text, &tlen);
	cr_expect_eq(ds.received, 1);
	cr_expect_eq(ds.flags, 0);
}
