/*
 * sendmail's pure parts (sallyctl/sendmail_addr.c, sendmail_msg.c) and
 * the submit statement (common/config_submit.c): the address lists of
 * -t, the recipients, the message as it is stored before sending (Bcc
 * out, From in, dots, limits), and who is trusted.
 */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "config.h"
#include "../../sallyctl/sendmail.h"

#define ADDRS_MAX	4
#define TEXT_MAX	160

/* Address lists (RFC 5322 3.4) */

struct list_case {
	char	 field[TEXT_MAX];
	int	 n;			/* -1: refused */
	char	 addr[ADDRS_MAX][64];
};

struct collect {
	int	 n;
	char	 addr[ADDRS_MAX][64];
};

static int
collect_cb(void *arg, const char *a)
{
	struct collect	*c = arg;

	if (c->n >= ADDRS_MAX)
		return -1;
	(void)strlcpy(c->addr[c->n++], a, sizeof(c->addr[0]));
	return 0;
}

ParameterizedTestParameters(sendmail, addr_list)
{
	static struct list_case cases[] = {
		{ "bob@example.test", 1, { "bob@example.test" } },
		{ " bob@example.test , alice@example.test", 2,
		    { "bob@example.test", "alice@example.test" } },
		{ "Bob Smith <bob@example.test>", 1, { "bob@example.test" } },
		{ "\"Smith, Bob\" <bob@example.test>, carol", 2,
		    { "bob@example.test", "carol" } },
		{ "bob@example.test (Bob, the builder)", 1,
		    { "bob@example.test" } },
		{ "team: a@example.test, b@example.test;, c@example.test", 3,
		    { "a@example.test", "b@example.test", "c@example.test" } },
		{ "undisclosed-recipients:;", 0, { "" } },
		{ "\"john doe\"@example.test", 1,
		    { "\"john doe\"@example.test" } },
		{ "<@relay.example,@b.example:bob@example.test>", 1,
		    { "bob@example.test" } },
		{ "", 0, { "" } },
		{ "bob@example.test (unclosed", -1, { "" } },
		{ "<bob@example.test", -1, { "" } },
		{ "\"open@example.test", -1, { "" } },
		{ "a <b@x> <c@x>", -1, { "" } },
	};

	return cr_make_param_array(struct list_case, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct list_case *t, sendmail, addr_list)
{
	struct collect	 c;
	const char	*errstr;
	int		 i, r;

	memset(&c, 0, sizeof(c));
	r = sendmail_addr_list(t->field, strlen(t->field), collect_cb, &c,
	    &errstr);
	if (t->n == -1) {
		cr_assert_eq(r, -1, "%s: accepted", t->field);
		cr_assert_not_null(errstr);
		return;
	}
	cr_assert_eq(r, 0, "%s: %s", t->field, errstr);
	cr_assert_eq(c.n, t->n, "%s: %d addresses", t->field, c.n);
	for (i = 0; i < t->n; i++)
		cr_assert_str_eq(c.addr[i], t->addr[i]);
}

Test(sendmail, addr_too_long)
{
	char		 field[SMTP_PATH_MAX_BYTES + 16];
	struct collect	 c;
	const char	*errstr;

	memset(field, 'a', sizeof(field) - 1);
	field[sizeof(field) - 1] = '\0';
	memset(&c, 0, sizeof(c));
	cr_assert_eq(sendmail_addr_list(field, strlen(field), collect_cb, &c,
	    &errstr), -1);
	cr_assert_str_eq(errstr, "address too long");
}

/* Recipients */

Test(sendmail, rcpt_add)
{
	struct sendmail_rcpts	 r = { NULL, 0, 2, "example.test" };
	const char		*errstr;

	cr_assert_eq(sendmail_rcpt_add(&r, "bob", &errstr), 0);
	cr_assert_str_eq(r.addrs[0], "bob@example.test");
	/* The same recipient twice is one. */
	cr_assert_eq(sendmail_rcpt_add(&r, "bob@example.test", &errstr), 0);
	cr_assert_eq(r.n, 1);
	cr_assert_eq(sendmail_rcpt_add(&r, "a b@example.test", &errstr), -1);
	cr_assert_str_eq(errstr, "invalid recipient address");
	cr_assert_eq(sendmail_rcpt_add(&r, "<x@example.test>", &errstr), -1);
	cr_assert_eq(sendmail_rcpt_add(&r, "x@example.test\r\nQUIT",
	    &errstr), -1);
	cr_assert(!sendmail_addr_valid("a@b>\r\nRCPT TO:<c@d"));
	cr_assert(sendmail_addr_valid("\"x\"@example.test"));
	cr_assert(sendmail_addr_valid("\"john doe\"@example.test"));
	cr_assert(sendmail_addr_valid("\"a\\\"<b>\"@example.test"));
	cr_assert(!sendmail_addr_valid("\"open@example.test"));
	cr_assert(!sendmail_addr_valid(""));
	cr_assert_eq(sendmail_rcpt_add(&r, "carol@other.example", &errstr), 0);
	cr_assert_eq(sendmail_rcpt_add(&r, "dave", &errstr), -1);
	cr_assert_str_eq(errstr, "too many recipients");
	sendmail_rcpts_free(&r);
	cr_assert_eq(r.n, 0);
}

/* The message as stored */

struct msg_case {
	char	 in[TEXT_MAX];
	int	 extract, ignore_dots;
	int	 status;		/* 0 or EX_* */
	char	 out[TEXT_MAX];
	char	 rcpts[TEXT_MAX];	/* space-separated, with -t */
	size_t	 inlen;			/* 0: strlen(in) */
};

ParameterizedTestParameters(sendmail, msg)
{
	static struct msg_case cases[] = {
		/* From added at the header's end, CRLF made LF. */
		{ "Subject: s\r\n\r\nbody\r\n", 0, 0, 0,
		    "Subject: s\nFrom: <u@example.test>\n\nbody\n", "", 0 },
		/* A From of the caller's own is kept, none added. */
		{ "From: x@y.example\n\nb\n", 0, 0, 0,
		    "From: x@y.example\n\nb\n", "", 0 },
		/* -t: To, Cc and Bcc, folded; Bcc left out. */
		{ "To: a@example.test,\n b@example.test\nBcc: c\nCc: d\n\nb\n",
		    1, 0, 0, "To: a@example.test,\n b@example.test\nCc: d\n"
		    "From: <u@example.test>\n\nb\n",
		    "a@example.test b@example.test c@example.test "
		    "d@example.test", 0 },
		/* Bcc goes without -t as well. */
		{ "Bcc: secret@example.test\n  more@example.test\nX: y\n\nb\n",
		    0, 0, 0, "X: y\nFrom: <u@example.test>\n\nb\n", "", 0 },
		/* A lone dot ends the message, unless -i. */
		{ "S: 1\n\nl1\n.\nl2\n", 0, 0, 0,
		    "S: 1\nFrom: <u@example.test>\n\nl1\n", "", 0 },
		{ "S: 1\n\nl1\n.\nl2\n", 0, 1, 0,
		    "S: 1\nFrom: <u@example.test>\n\nl1\n.\nl2\n", "", 0 },
		/* An mbox From_ line first is dropped. */
		{ "From u Mon Jan  1 00:00:00 2024\nS: 1\n\nb\n", 0, 0, 0,
		    "S: 1\nFrom: <u@example.test>\n\nb\n", "", 0 },
		/* A body with no empty line before it gets one. */
		{ "S: 1\nnot a header line\n", 0, 0, 0,
		    "S: 1\nFrom: <u@example.test>\n\nnot a header line\n",
		    "", 0 },
		/* Headers only. */
		{ "S: 1\n", 0, 0, 0, "S: 1\nFrom: <u@example.test>\n\n", "",
		    0 },
		/* Past "limit message-size" (64 here): refused, not cut. */
		{ "S: 1\n\n0123456789012345678901234567890123456789"
		    "0123456789012345678901234567890123456789\n", 0, 0,
		    EX_DATAERR, "", "", 0 },
		/* A NUL byte would be cut by the C strings after: refused. */
		{ "S: 1\n\na\0b\n", 0, 0, EX_DATAERR, "", "", 10 },
		{ "To: (open\n\nb\n", 1, 0, EX_DATAERR, "", "", 0 },
	};

	return cr_make_param_array(struct msg_case, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct msg_case *t, sendmail, msg)
{
	struct sendmail_rcpts	 r = { NULL, 0, 10, "example.test" };
	struct sendmail_msg	 m;
	char			 out[TEXT_MAX * 2], got[TEXT_MAX];
	const char		*errstr;
	FILE			*in, *fo;
	size_t			 i;
	int			 status;

	memset(&m, 0, sizeof(m));
	memset(out, 0, sizeof(out));
	m.extract = t->extract;
	m.ignore_dots = t->ignore_dots;
	m.from_line = "From: <u@example.test>";
	m.max_bytes = 64;
	m.rcpts = &r;
	in = fmemopen(t->in, t->inlen != 0 ? t->inlen : strlen(t->in), "r");
	fo = fmemopen(out, sizeof(out) - 1, "w");
	cr_assert(in != NULL && fo != NULL);
	status = sendmail_msg_read(&m, in, fo, &errstr);
	(void)fclose(fo);
	(void)fclose(in);
	cr_assert_eq(status, t->status, "%s: status %d (%s)", t->in, status,
	    status != 0 ? errstr : "");
	if (status != 0)
		return;
	cr_assert_str_eq(out, t->out);
	got[0] = '\0';
	for (i = 0; i < r.n; i++) {
		if (i > 0)
			(void)strlcat(got, " ", sizeof(got));
		(void)strlcat(got, r.addrs[i], sizeof(got));
	}
	cr_assert_str_eq(got, t->rcpts);
	sendmail_rcpts_free(&r);
}

/* submit trusted */

Test(sendmail, trusted)
{
	const char	*in = "hostname \"h.example\"\n"
	    "submit trusted \"www-data\" backup\n"
	    "submit trusted listmgr\n";
	char		 err[256], *buf = NULL;
	size_t		 len = 0;
	struct config	*conf;
	FILE		*fp;

	conf = config_parse("t.conf", in, strlen(in), err, sizeof(err));
	cr_assert_not_null(conf, "%s", err);
	cr_assert(config_submit_trusted(conf, 0, "anyone"));
	cr_assert(config_submit_trusted(conf, 33, "www-data"));
	cr_assert(config_submit_trusted(conf, 1000, "listmgr"));
	cr_assert(!config_submit_trusted(conf, 1000, "mallory"));
	cr_assert_str_eq(config_origin(conf), "h.example");
	fp = open_memstream(&buf, &len);
	config_print(fp, conf);
	(void)fclose(fp);
	cr_assert(strstr(buf, "submit trusted \"www-data\"\n"
	    "submit trusted \"backup\"\nsubmit trusted \"listmgr\"\n") != NULL,
	    "%s", buf);
	free(buf);
	config_free(conf);
}

Test(sendmail, trusted_bad)
{
	static const char *const bad[] = {
		"submit trusted\n",
		"submit trusting bob\n",
		"submit trusted \"bad name\"\n",
		"submit trusted \"-rf\"\n",
	};
	char		 err[256];
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_null(config_parse("t.conf", bad[i], strlen(bad[i]),
		    err, sizeof(err)), "%s accepted", bad[i]);
}
