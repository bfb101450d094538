/*
 * imapd's protocol helpers: the dispatcher (states, the UID prefix, the
 * argument grammar, the error limit, the rate limit) through
 * imap_input(), sequence sets, modified UTF-7 (RFC 3501 5.1.3's own
 * example), argument helpers (dates, flags, mailbox names, numbers) and
 * the response writer's choice of atom, quoted string or literal.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "imap_unit.h"

static int
p_handler(struct imap_conn *c, const struct imap_command *cmd)
{
	struct tconn	*t = (struct tconn *)(void *)c;

	t->handled++;
	snprintf(t->last, sizeof(t->last), "%s%s/%d", cmd->uid ? "UID " : "",
	    cmd->name, cmd->nargs);
	return 0;
}

static const struct imap_cmd p_table[] = {
	{ "NOOP",	IMAP_S_ANY,	0,	"",	NULL,	p_handler },
	{ "LOGIN",	IMAP_S_NOAUTH,	0,	"aa",	NULL,	p_handler },
	{ "SELECT",	IMAP_S_AUTH | IMAP_S_SELECTED, 0, "m*", NULL,
	    p_handler },
	{ "STATUS",	IMAP_S_AUTH | IMAP_S_SELECTED, 0, "ml", NULL,
	    p_handler },
	{ "FETCH",	IMAP_S_SELECTED, 0,	"s*",	"s*",	p_handler },
	{ "COPY",	IMAP_S_SELECTED, 0,	"sm",	"sm",	p_handler },
	{ "EXPUNGE",	IMAP_S_SELECTED, 0,	"",	"s",	p_handler },
	{ "CHECK",	IMAP_S_SELECTED, 0,	"",	NULL,	p_handler },
	{ "AUTHENTICATE", IMAP_S_NOAUTH, IMAP_CMDF_STOP, "w?a", NULL,
	    p_handler },
	{ NULL,		0,		0,	NULL,	NULL,	NULL },
};

struct disp_case {
	int	 state;
	char	 in[128];
	char	 out[128];	/* what was written */
	char	 last[64];	/* the handler's trace, "" if not run */
};

#define NA	IMAP_S_NOAUTH
#define AU	IMAP_S_AUTH
#define SE	IMAP_S_SELECTED

static struct disp_case disp_cases[] = {
	{ NA, "a NOOP\r\n", "", "NOOP/0" },
	{ NA, "a login bob secret\r\n", "", "LOGIN/2" },
	{ NA, "a LOGIN bob\r\n", "a BAD missing argument: LOGIN\r\n", "" },
	{ NA, "a LOGIN a b c\r\n", "a BAD too many arguments: LOGIN\r\n", "" },
	{ NA, "a LOGIN (a) b\r\n", "a BAD expected a string: LOGIN\r\n", "" },
	{ NA, "a SELECT INBOX\r\n", "a BAD Log in first: SELECT\r\n", "" },
	{ AU, "a LOGIN a b\r\n",
	    "a BAD Command not valid in this state: LOGIN\r\n", "" },
	{ AU, "a FETCH 1 FLAGS\r\n", "a BAD No mailbox selected: FETCH\r\n",
	    "" },
	{ AU, "a XYZZY\r\n", "a BAD Unknown command: XYZZY\r\n", "" },
	{ AU, "a STATUS INBOX x\r\n",
	    "a BAD expected a parenthesised list: STATUS\r\n", "" },
	{ AU, "a STATUS INBOX (MESSAGES)\r\n", "", "STATUS/2" },
	{ SE, "a FETCH 1:*,3 (FLAGS)\r\n", "", "FETCH/2" },
	{ SE, "a FETCH 0 FLAGS\r\n", "a BAD invalid sequence set: FETCH\r\n",
	    "" },
	{ SE, "a uid fetch 1:* FLAGS\r\n", "", "UID FETCH/2" },
	{ SE, "a UID COPY 1:3 Trash\r\n", "", "UID COPY/2" },
	{ SE, "a UID EXPUNGE 3\r\n", "", "UID EXPUNGE/1" },
	{ SE, "a EXPUNGE\r\n", "", "EXPUNGE/0" },
	{ SE, "a UID EXPUNGE\r\n", "a BAD missing argument: EXPUNGE\r\n", "" },
	{ SE, "a UID CHECK\r\n", "a BAD Command has no UID form: CHECK\r\n",
	    "" },
	{ SE, "a UID\r\n", "a BAD UID needs a command: UID\r\n", "" },
	{ SE, "a UID XYZZY 1\r\n", "a BAD Unknown UID command: XYZZY\r\n", "" },
	{ NA, "a AUTHENTICATE PLAIN\r\n", "", "AUTHENTICATE/1" },
	{ NA, "a AUTHENTICATE PLAIN dGVzdA==\r\n", "", "AUTHENTICATE/2" },
	{ NA, "a AUTHENTICATE\r\n", "a BAD missing argument: AUTHENTICATE\r\n",
	    "" },
	/* The reader's refusals are written by imap_input() too. */
	{ NA, "a LOGIN {70000}\r\n", "a BAD [TOOBIG] Literal too big (at "
	    "most 65536 octets here)\r\n", "" },
	{ NA, "a LOGIN {3}\r\n", "+ Ready for literal data\r\n", "" },
};

ParameterizedTestParameters(imap_dispatch, cases)
{
	return cr_make_param_array(struct disp_case, disp_cases,
	    sizeof(disp_cases) / sizeof(disp_cases[0]));
}

ParameterizedTest(struct disp_case *c, imap_dispatch, cases)
{
	struct tconn		 t;
	struct imap_reader	*rd;
	unsigned int		 wait;
	ssize_t			 n;

	memset(&t, 0, sizeof(t));
	rd = imap_reader_new(p_table, &t_io, NULL,
	    (struct imap_conn *)(void *)&t);
	n = imap_input(rd, &c->state, c->in, strlen(c->in), 0, &wait);
	cr_expect_eq(n, (ssize_t)strlen(c->in));
	cr_expect_str_eq(t.out, c->out, "%s: wrote %s", c->in, t.out);
	cr_expect_str_eq(t.last, c->last, "%s: ran %s", c->in, t.last);
	imap_reader_free(rd);
}

/* IMAP_ERRORS_MAX refused commands end the session with a BYE. */
Test(imap_dispatch, error_limit)
{
	struct tconn		 t;
	struct imap_reader	*rd;
	const char		*in;
	unsigned int		 wait;
	int			 i, state = IMAP_S_NOAUTH;
	ssize_t			 r = 0;

	memset(&t, 0, sizeof(t));
	rd = imap_reader_new(p_table, &t_io, NULL,
	    (struct imap_conn *)(void *)&t);
	for (i = 0; i < IMAP_ERRORS_MAX && r != -1; i++) {
		in = i % 2 ? "a FOO\r\n" : "a )\r\n";
		r = imap_input(rd, &state, in, strlen(in), (uint64_t)i * 1000,
		    &wait);
	}
	cr_expect_eq(r, -1);
	cr_expect_eq(i, IMAP_ERRORS_MAX);
	cr_expect_not_null(strstr(t.out, "* BYE Too many errors\r\n"));
	imap_reader_free(rd);
}

/* IMAP_CMDS_PER_SEC_MAX commands in one second, then a wait. */
Test(imap_dispatch, rate_limit)
{
	struct tconn		 t;
	struct imap_reader	*rd;
	unsigned int		 wait;
	int			 i, state = IMAP_S_NOAUTH;
	ssize_t			 r;

	memset(&t, 0, sizeof(t));
	rd = imap_reader_new(p_table, &t_io, NULL,
	    (struct imap_conn *)(void *)&t);
	for (i = 0; i < IMAP_CMDS_PER_SEC_MAX; i++) {
		r = imap_input(rd, &state, "a NOOP\r\n", 8, 5250, &wait);
		cr_assert_eq(r, 8);
		cr_assert_eq(wait, 0);
	}
	cr_expect_eq(t.handled, IMAP_CMDS_PER_SEC_MAX);
	/* The next is read but held until the next second. */
	r = imap_input(rd, &state, "b NOOP\r\n", 8, 5300, &wait);
	cr_expect_eq(r, 8);
	cr_expect_eq(wait, 700);
	cr_expect_eq(t.handled, IMAP_CMDS_PER_SEC_MAX);
	r = imap_input(rd, &state, "", 0, 6000, &wait);
	cr_expect_eq(r, 0);
	cr_expect_eq(wait, 0);
	cr_expect_eq(t.handled, IMAP_CMDS_PER_SEC_MAX + 1);
	imap_reader_free(rd);
}

/* The state a handler sets holds for the next pipelined command. */
static int	p_state;

static int
p_login(struct imap_conn *c, const struct imap_command *cmd)
{
	p_state = IMAP_S_AUTH;
	return p_handler(c, cmd);
}

Test(imap_dispatch, state_change_pipelined)
{
	static const struct imap_cmd tab[] = {
		{ "LOGIN", IMAP_S_NOAUTH, 0, "aa", NULL, p_login },
		{ "SELECT", IMAP_S_AUTH, 0, "m*", NULL, p_handler },
		{ NULL, 0, 0, NULL, NULL, NULL },
	};
	const char		*in = "a SELECT x\r\nb LOGIN u p\r\n"
				    "c SELECT INBOX\r\nd LOGIN u p\r\n";
	struct tconn		 t;
	struct imap_reader	*rd;
	unsigned int		 wait;

	memset(&t, 0, sizeof(t));
	p_state = IMAP_S_NOAUTH;
	rd = imap_reader_new(tab, &t_io, NULL, (struct imap_conn *)&t);
	cr_expect_eq(imap_input(rd, &p_state, in, strlen(in), 0, &wait),
	    (ssize_t)strlen(in));
	cr_expect_eq(t.handled, 2);
	cr_expect_str_eq(t.out, "a BAD Log in first: SELECT\r\n"
	    "d BAD Command not valid in this state: LOGIN\r\n");
	cr_expect_str_eq(t.last, "SELECT/1");
	imap_reader_free(rd);
}

/* An IMAP_CMDF_STOP command returns at once with the rest unread. */
Test(imap_dispatch, stop)
{
	struct tconn		 t;
	struct imap_reader	*rd;
	const char		*in = "a AUTHENTICATE PLAIN\r\ndGVzdA==\r\n";
	unsigned int		 wait;
	int			 state = IMAP_S_NOAUTH;

	memset(&t, 0, sizeof(t));
	rd = imap_reader_new(p_table, &t_io, NULL,
	    (struct imap_conn *)(void *)&t);
	cr_expect_eq(imap_input(rd, &state, in, strlen(in), 0, &wait), 22);
	cr_expect_eq(t.handled, 1);
	imap_reader_free(rd);
}

Test(imap_seqset, parse_resolve_iterate)
{
	struct imap_seqset	 s;
	struct imap_seqset_iter	 it = { 0, 0, 0 };
	const char		*err;
	uint32_t		 v, got[16];
	size_t			 n = 0;

	cr_assert_eq(imap_seqset_parse("7:*,1:3,5,2", 11, &s, &err), 0);
	cr_expect(s.star);
	imap_seqset_resolve(&s, 9);
	cr_expect_eq(s.n, 3);
	cr_expect_eq(imap_seqset_count(&s), 7);
	cr_expect(imap_seqset_contains(&s, 1));
	cr_expect(imap_seqset_contains(&s, 5));
	cr_expect(imap_seqset_contains(&s, 9));
	cr_expect(!imap_seqset_contains(&s, 4));
	cr_expect(!imap_seqset_contains(&s, 10));
	while (imap_seqset_next(&s, &it, &v) && n < 16)
		got[n++] = v;
	cr_expect_eq(n, 7);
	cr_expect_eq(got[0], 1);
	cr_expect_eq(got[3], 5);
	cr_expect_eq(got[6], 9);
	imap_seqset_free(&s);
	/* RFC 9051 6.4.8: "3:*" with 2 the highest still holds 2. */
	cr_assert_eq(imap_seqset_parse("3:*", 3, &s, &err), 0);
	imap_seqset_resolve(&s, 2);
	cr_expect_eq(s.n, 1);
	cr_expect_eq(s.r[0].lo, 2);
	cr_expect_eq(s.r[0].hi, 2);
	imap_seqset_free(&s);
	/* An empty mailbox: "1:*" is empty. */
	cr_assert_eq(imap_seqset_parse("1:*", 3, &s, &err), 0);
	imap_seqset_resolve(&s, 0);
	cr_expect_eq(s.n, 0);
	imap_seqset_free(&s);
	cr_assert_eq(imap_seqset_parse("$", 1, &s, &err), 0);
	cr_expect(s.saved);
	imap_seqset_free(&s);
}

struct bad_set {
	char	 s[32];
};

static struct bad_set bad_sets[] = {
	{ "0" }, { "1:" }, { ":1" }, { "1,,2" }, { "1," }, { "a" },
	{ "4294967296" }, { "1:0" }, { "01" }, { "*:" }, { "$,1" }, { "" },
};

ParameterizedTestParameters(imap_seqset, bad)
{
	return cr_make_param_array(struct bad_set, bad_sets,
	    sizeof(bad_sets) / sizeof(bad_sets[0]));
}

ParameterizedTest(struct bad_set *b, imap_seqset, bad)
{
	struct imap_seqset	 s;
	const char		*err = NULL;

	cr_expect_eq(imap_seqset_parse(b->s, strlen(b->s), &s, &err), -1,
	    "%s", b->s);
	cr_expect_not_null(err);
}

Test(imap_seqset, too_many_ranges)
{
	struct imap_seqset	 s;
	const char		*err = NULL;
	char			*buf, *p;
	int			 i;

	cr_assert_not_null(buf = malloc((IMAP_SEQSET_RANGES_MAX + 1) * 12));
	for (i = 0, p = buf; i <= IMAP_SEQSET_RANGES_MAX; i++)
		p += sprintf(p, "%s%d", i ? "," : "", 2 * i + 1);
	cr_expect_eq(imap_seqset_parse(buf, strlen(buf), &s, &err), -1);
	cr_expect_str_eq(err, "sequence set too long");
	free(buf);
}

struct utf7_case {
	char	 utf8[64];
	char	 utf7[64];
};

static struct utf7_case utf7_cases[] = {
	/* RFC 3501 5.1.3's example. */
	{ "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac"
	    "\xe8\xaa\x9e", "~peter/mail/&U,BTFw-/&ZeVnLIqe-" },
	{ "A&B", "A&-B" },
	{ "Entw\xc3\xbc" "rfe", "Entw&APw-rfe" },
	{ "\xf0\x9f\x98\x80", "&2D3eAA-" },
	{ "INBOX", "INBOX" },
};

ParameterizedTestParameters(imap_utf7, both_ways)
{
	return cr_make_param_array(struct utf7_case, utf7_cases,
	    sizeof(utf7_cases) / sizeof(utf7_cases[0]));
}

ParameterizedTest(struct utf7_case *c, imap_utf7, both_ways)
{
	char	 out[128];

	cr_expect_eq(imap_utf7_encode(c->utf8, strlen(c->utf8), out,
	    sizeof(out)), (ssize_t)strlen(c->utf7));
	cr_expect_str_eq(out, c->utf7);
	cr_expect_eq(imap_utf7_decode(c->utf7, strlen(c->utf7), out,
	    sizeof(out)), (ssize_t)strlen(c->utf8));
	cr_expect_str_eq(out, c->utf8);
}

Test(imap_utf7, invalid)
{
	static const char *const bad[] = {
		"&Jjo", "&AGE-", "&-&", "&2D0-", "caf\xc3\xa9", "&AAA-x",
		"&U,BTF2XlZyyKnh-", "a\tb", "&=-",
	};
	char	 out[128];
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(imap_utf7_decode(bad[i], strlen(bad[i]), out,
		    sizeof(out)), -1, "%s", bad[i]);
	/* No room: refused, never cut. */
	cr_expect_eq(imap_utf7_decode("abcdef", 6, out, 4), -1);
	cr_expect_eq(imap_utf7_encode("\xc3\xbc\xc3\xbc", 4, out, 4), -1);
	cr_expect(!imap_utf8_valid("\xc0\xaf", 2));
	cr_expect(!imap_utf8_valid("\xed\xa0\x80", 3));
	cr_expect(imap_utf8_valid("\xe2\x82\xac", 3));
}

static struct imap_arg
p_arg(enum imap_arg_type type, const char *s)
{
	struct imap_arg	 a;

	memset(&a, 0, sizeof(a));
	a.type = type;
	a.str = s;
	a.len = strlen(s);
	return a;
}

Test(imap_args, dates)
{
	struct imap_arg	 a;
	const char	*err;
	int64_t		 days;
	time_t		 t;
	int		 tz;

	a = p_arg(IMAP_ARG_ATOM, "1-Feb-1994");
	cr_expect_eq(imap_arg_date(&a, &days, &err), 0);
	cr_expect_eq(days, 8797);
	a = p_arg(IMAP_ARG_QUOTED, "29-feb-2000");
	cr_expect_eq(imap_arg_date(&a, &days, &err), 0);
	cr_expect_eq(days, 11016);
	a = p_arg(IMAP_ARG_ATOM, "29-Feb-1900");
	cr_expect_eq(imap_arg_date(&a, &days, &err), -1);
	a = p_arg(IMAP_ARG_ATOM, "32-Jan-2000");
	cr_expect_eq(imap_arg_date(&a, &days, &err), -1);
	a = p_arg(IMAP_ARG_ATOM, "1-Foo-2000");
	cr_expect_eq(imap_arg_date(&a, &days, &err), -1);
	a = p_arg(IMAP_ARG_QUOTED, "17-Jul-1996 02:44:25 -0700");
	cr_expect_eq(imap_arg_datetime(&a, &t, &tz, &err), 0);
	cr_expect_eq(t, 837596665);
	cr_expect_eq(tz, -7 * 3600);
	a = p_arg(IMAP_ARG_QUOTED, " 7-Jul-1996 02:44:25 +0130");
	cr_expect_eq(imap_arg_datetime(&a, &t, &tz, &err), 0);
	cr_expect_eq(tz, 5400);
	a = p_arg(IMAP_ARG_QUOTED, "7-Jul-1996 02:44:25 -0700");
	cr_expect_eq(imap_arg_datetime(&a, &t, &tz, &err), -1);
	a = p_arg(IMAP_ARG_QUOTED, "17-Jul-1996 24:44:25 -0700");
	cr_expect_eq(imap_arg_datetime(&a, &t, &tz, &err), -1);
}

Test(imap_args, flags_mailbox_numbers)
{
	struct imap_arg	 l[4], list, a;
	struct imap_flags fl;
	const char	*err;
	char		 name[64];
	uint32_t	 v;
	uint64_t	 m;

	l[0] = p_arg(IMAP_ARG_ATOM, "\\Seen");
	l[1] = p_arg(IMAP_ARG_ATOM, "$Forwarded");
	l[2] = p_arg(IMAP_ARG_ATOM, "\\deleted");
	l[3] = p_arg(IMAP_ARG_ATOM, "$forwarded");
	list = p_arg(IMAP_ARG_LIST, "");
	list.list = l;
	list.nlist = 4;
	cr_expect_eq(imap_arg_flags(&list, 1, &fl, &err), 0);
	cr_expect_eq(fl.sys, IMAP_FL_SEEN | IMAP_FL_DELETED);
	cr_expect_eq(fl.nkw, 1);
	l[0] = p_arg(IMAP_ARG_ATOM, "\\Recent");
	cr_expect_eq(imap_arg_flags(&list, 1, &fl, &err), -1);
	l[0] = p_arg(IMAP_ARG_QUOTED, "x");
	cr_expect_eq(imap_arg_flags(&list, 1, &fl, &err), -1);
	l[0] = p_arg(IMAP_ARG_ATOM, "a\\b");
	cr_expect_eq(imap_arg_flags(&list, 1, &fl, &err), -1);
	l[0] = p_arg(IMAP_ARG_ATOM, "\\Flagged");
	cr_expect_eq(imap_arg_flags(&l[0], 1, &fl, &err), 0);
	cr_expect_eq(fl.sys, IMAP_FL_FLAGGED);
	a = p_arg(IMAP_ARG_ATOM, "inbox");
	cr_expect_eq(imap_arg_mailbox(&a, 0, name, sizeof(name), &err), 0);
	cr_expect_str_eq(name, "INBOX");
	a = p_arg(IMAP_ARG_QUOTED, "InBoX/Sub");
	cr_expect_eq(imap_arg_mailbox(&a, 0, name, sizeof(name), &err), 0);
	cr_expect_str_eq(name, "INBOX/Sub");
	a = p_arg(IMAP_ARG_QUOTED, "Inboxes");
	cr_expect_eq(imap_arg_mailbox(&a, 0, name, sizeof(name), &err), 0);
	cr_expect_str_eq(name, "Inboxes");
	a = p_arg(IMAP_ARG_ATOM, "Entw&APw-rfe");
	cr_expect_eq(imap_arg_mailbox(&a, 0, name, sizeof(name), &err), 0);
	cr_expect_str_eq(name, "Entw\xc3\xbcrfe");
	cr_expect_eq(imap_arg_mailbox(&a, 1, name, sizeof(name), &err), 0);
	cr_expect_str_eq(name, "Entw&APw-rfe");
	a = p_arg(IMAP_ARG_ATOM, "Entw&APw");
	cr_expect_eq(imap_arg_mailbox(&a, 0, name, sizeof(name), &err), -1);
	a = p_arg(IMAP_ARG_ATOM, "4294967295");
	cr_expect_eq(imap_arg_number(&a, &v, &err), 0);
	cr_expect_eq(v, 4294967295u);
	a = p_arg(IMAP_ARG_ATOM, "4294967296");
	cr_expect_eq(imap_arg_number(&a, &v, &err), -1);
	a = p_arg(IMAP_ARG_ATOM, "0");
	cr_expect_eq(imap_arg_nznumber(&a, &v, &err), -1);
	a = p_arg(IMAP_ARG_ATOM, "9223372036854775807");
	cr_expect_eq(imap_arg_modseq(&a, &m, &err), 0);
	a = p_arg(IMAP_ARG_ATOM, "9223372036854775808");
	cr_expect_eq(imap_arg_modseq(&a, &m, &err), -1);
}

struct str_case {
	char	 in[32];
	size_t	 len;
	int	 flags;
	char	 out[48];
};

static struct str_case str_cases[] = {
	{ "INBOX", 5, IMAP_STR_ATOM, "INBOX" },
	{ "INBOX", 5, 0, "\"INBOX\"" },
	{ "NIL", 3, IMAP_STR_ATOM, "\"NIL\"" },
	{ "", 0, IMAP_STR_ATOM, "\"\"" },
	{ "a b", 3, IMAP_STR_ATOM, "\"a b\"" },
	{ "a\"b\\c", 5, IMAP_STR_ATOM, "\"a\\\"b\\\\c\"" },
	{ "[Gmail]", 7, IMAP_STR_ATOM, "\"[Gmail]\"" },
	{ "a\r\nb", 4, 0, "{4}\r\na\r\nb" },
	{ "caf\xc3\xa9", 5, 0, "{5}\r\ncaf\xc3\xa9" },
	{ "caf\xc3\xa9", 5, IMAP_STR_UTF8, "\"caf\xc3\xa9\"" },
	{ "a\0b", 3, IMAP_STR_LITERAL8, "~{3}\r\na" },
};

ParameterizedTestParameters(imap_resp, strings)
{
	return cr_make_param_array(struct str_case, str_cases,
	    sizeof(str_cases) / sizeof(str_cases[0]));
}

ParameterizedTest(struct str_case *c, imap_resp, strings)
{
	struct imap_wbuf	 wb;
	char			 mem[64];

	imap_wbuf_init(&wb, mem, sizeof(mem), NULL, NULL);
	cr_expect_eq(imap_put_string(&wb, c->in, c->len, c->flags), 0);
	cr_expect_eq(wb.len >= strlen(c->out), 1);
	cr_expect_eq(memcmp(mem, c->out, strlen(c->out)), 0, "%.*s",
	    (int)wb.len, mem);
}

static int
p_flush(void *ctx, const char *p, size_t n)
{
	struct tconn	*t = ctx;

	return t_write((struct imap_conn *)(void *)t, p, n);
}

Test(imap_resp, lines_and_flush)
{
	struct imap_wbuf	 wb;
	struct tconn		 t;
	char			 mem[8];
	static const uint32_t	 nums[] = { 1, 2, 3, 5, 7, 8 };

	memset(&t, 0, sizeof(t));
	imap_wbuf_init(&wb, mem, sizeof(mem), p_flush, &t);
	imap_resp_untagged(&wb, "%u EXISTS", 172u);
	imap_resp_tagged(&wb, "a1", "OK [READ-WRITE] SELECT completed");
	imap_resp_cont(&wb, "Ready");
	(void)imap_put(&wb, "* SEARCH ", 9);
	imap_put_seqlist(&wb, nums, 6);
	(void)imap_put(&wb, " ", 1);
	imap_put_mailbox(&wb, "Entw\xc3\xbcrfe", 0);
	(void)imap_put(&wb, " ", 1);
	imap_put_datetime(&wb, 837596665, -7 * 3600);
	imap_wbuf_flush(&wb);
	cr_expect_str_eq(t.out, "* 172 EXISTS\r\na1 OK [READ-WRITE] SELECT "
	    "completed\r\n+ Ready\r\n* SEARCH 1:3,5,7:8 Entw&APw-rfe "
	    "\"17-Jul-1996 02:44:25 -0700\"");
	/* Without flush, running out of room is an error, not a cut. */
	imap_wbuf_init(&wb, mem, sizeof(mem), NULL, NULL);
	cr_expect_eq(imap_puts(&wb, "12345678"), 0);
	cr_expect_eq(imap_puts(&wb, "9"), -1);
	cr_expect(wb.error);
}
