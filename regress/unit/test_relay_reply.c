/*
 * queued/relay_smtp_reply.c: the relay client's reply parser, table
 * driven: single and multi-line replies, enhanced status codes, EHLO
 * keywords into a capability set, and the replies that must end a
 * connection (bad codes, a code that changes, the named limits).
 */
#include <stdio.h>
#include <string.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "../../queued/relay_smtp_reply.h"

/* Arrays, not pointers: Criterion runs each case in a new process. */
struct reply_case {
	char		 lines[256];	/* '\n' between lines */
	int		 ehlo;
	int		 result;	/* of the last line fed: 1, 0, -1 */
	int		 code;
	char		 status[16];
	char		 text[64];
	int		 caps;
	unsigned long	 size_max;
};

static struct reply_case reply_cases[] = {
	{ "250 ok", 0, 1, 250, "", "ok", 0, 0 },
	{ "250", 0, 1, 250, "", "", 0, 0 },
	{ "550 5.1.1 no such user", 0, 1, 550, "5.1.1", "no such user",
	    0, 0 },
	{ "451 4.3.0", 0, 1, 451, "4.3.0", "", 0, 0 },
	/* A status whose class is not the code's is text. */
	{ "550 4.1.1 odd", 0, 1, 550, "", "4.1.1 odd", 0, 0 },
	{ "250 2.1.0.5 x", 0, 1, 250, "", "2.1.0.5 x", 0, 0 },
	{ "220-mx.example hi\n220-more\n220 last", 0, 1, 220, "",
	    "mx.example hi", 0, 0 },
	{ "220-first", 0, 0, 220, "", "first", 0, 0 },
	{ "421 bye\x01\xff", 0, 1, 421, "", "bye??", 0, 0 },
	{ "250-mx.example\n250-PIPELINING\n250-8BITMIME\n250-SIZE 1000\n"
	    "250-dsn\n250-STARTTLS\n250-SMTPUTF8\n250-CHUNKING\n"
	    "250-X-UNKNOWN a b\n250 ENHANCEDSTATUSCODES", 1, 1, 250, "",
	    "mx.example", RELAY_CAP_PIPELINING | RELAY_CAP_8BITMIME |
	    RELAY_CAP_SIZE | RELAY_CAP_DSN | RELAY_CAP_STARTTLS |
	    RELAY_CAP_SMTPUTF8 | RELAY_CAP_CHUNKING | RELAY_CAP_ENHANCED,
	    1000 },
	/* The first line is the greeting, never a keyword. */
	{ "250-PIPELINING\n250 SIZE x", 1, 1, 250, "", "PIPELINING",
	    RELAY_CAP_SIZE, 0 },
	{ "250-mx\n250 SIZE", 1, 1, 250, "", "mx", RELAY_CAP_SIZE, 0 },
	{ "250-mx\n250 PIPELININGX", 1, 1, 250, "", "mx", 0, 0 },
	{ "", 0, -1, 0, "", "", 0, 0 },
	{ "25", 0, -1, 0, "", "", 0, 0 },
	{ "2500 x", 0, -1, 0, "", "", 0, 0 },
	{ "150 x", 0, -1, 0, "", "", 0, 0 },
	{ "600 x", 0, -1, 0, "", "", 0, 0 },
	{ "260 x", 0, -1, 0, "", "", 0, 0 },
	{ "2a0 x", 0, -1, 0, "", "", 0, 0 },
	{ "garbage", 0, -1, 0, "", "", 0, 0 },
	{ "250-a\n251 b", 0, -1, 0, "", "", 0, 0 },
	{ "250-a\nxyz", 0, -1, 0, "", "", 0, 0 },
};

ParameterizedTestParameters(relay_reply, lines)
{
	return cr_make_param_array(struct reply_case, reply_cases,
	    sizeof(reply_cases) / sizeof(reply_cases[0]));
}

ParameterizedTest(struct reply_case *c, relay_reply, lines)
{
	struct relay_reply	 r;
	struct relay_caps	 caps;
	const char		*p = c->lines, *nl, *errstr = NULL;
	int			 res = 0;

	relay_reply_reset(&r, &caps);
	do {
		nl = strchr(p, '\n');
		res = relay_reply_feed(&r, c->ehlo ? &caps : NULL, p,
		    nl != NULL ? (size_t)(nl - p) : strlen(p), &errstr);
		p = nl + 1;
	} while (nl != NULL && res == 0);
	cr_assert_eq(res, c->result, "\"%s\": %d", c->lines, res);
	if (res == -1) {
		cr_expect_not_null(errstr);
		return;
	}
	cr_expect_eq(r.code, c->code);
	cr_expect_str_eq(r.status, c->status);
	cr_expect_str_eq(r.text, c->text);
	cr_expect_eq(caps.flags, c->caps, "\"%s\": caps %#x", c->lines,
	    caps.flags);
	cr_expect_eq(caps.size_max, c->size_max);
}

Test(relay_reply, line_length)
{
	struct relay_reply	 r;
	char			 line[RELAY_REPLY_LINE_MAX_BYTES + 2];
	const char		*errstr = NULL;

	memset(line, 'x', sizeof(line));
	memcpy(line, "250 ", 4);
	relay_reply_reset(&r, NULL);
	cr_expect_eq(relay_reply_feed(&r, NULL, line,
	    RELAY_REPLY_LINE_MAX_BYTES, &errstr), 1);
	relay_reply_reset(&r, NULL);
	cr_expect_eq(relay_reply_feed(&r, NULL, line,
	    RELAY_REPLY_LINE_MAX_BYTES + 1, &errstr), -1);
	cr_expect_str_eq(errstr, "reply line too long");
}

/* 10,000 continuation lines end at the limit, not at the last line. */
Test(relay_reply, line_count)
{
	struct relay_reply	 r;
	const char		*errstr = NULL;
	int			 i, res = 0;

	relay_reply_reset(&r, NULL);
	for (i = 0; i < 10000 && res == 0; i++)
		res = relay_reply_feed(&r, NULL, "250-x", 5, &errstr);
	cr_expect_eq(res, -1);
	cr_expect_eq(i, RELAY_REPLY_LINES_MAX + 1);
	cr_expect_str_eq(errstr, "too many reply lines");
}

Test(relay_reply, str)
{
	struct relay_reply	 r;
	const char		*errstr;
	char			 buf[64];

	relay_reply_reset(&r, NULL);
	cr_assert_eq(relay_reply_feed(&r, NULL, "452 4.2.2 full", 14,
	    &errstr), 1);
	cr_expect_str_eq(relay_reply_str(&r, buf, sizeof(buf)),
	    "452 4.2.2 full");
	cr_expect_eq(relay_reply_feed(&r, NULL, "250 x", 5, &errstr), -1);
}
