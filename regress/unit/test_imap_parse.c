/*
 * imapd's command reader (imapd/imap_parse.c, imap_token.c): RFC 3501
 * section 8's and RFC 9051's example commands, literals of every kind
 * (synchronising with their continuation requests, LITERAL+, literal8,
 * APPEND's streamed into the sink), every limit refused with its answer
 * and the next command read cleanly after it, lying literal sizes, deep
 * nesting, 8-bit text, and random bytes.  Every case is fed whole and a
 * byte at a time: both must give the same transcript.
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
t_noop(struct imap_conn *c, const struct imap_command *cmd)
{
	struct tconn	*t = (struct tconn *)(void *)c;

	t->handled++;
	snprintf(t->last, sizeof(t->last), "%s%s/%d", cmd->uid ? "UID " : "",
	    cmd->name, cmd->nargs);
	return 0;
}

static const struct imap_cmd t_table[] = {
	{ "NOOP",	IMAP_S_ANY,	0,	"",	NULL,	t_noop },
	{ "LOGIN",	IMAP_S_NOAUTH,	0,	"aa",	NULL,	t_noop },
	{ "SELECT",	IMAP_S_AUTH | IMAP_S_SELECTED, 0, "m*", NULL, t_noop },
	{ "STATUS",	IMAP_S_AUTH | IMAP_S_SELECTED, 0, "ml", NULL, t_noop },
	{ "APPEND",	IMAP_S_AUTH | IMAP_S_SELECTED, IMAP_CMDF_STREAM, "m*",
	    NULL, t_noop },
	{ "FETCH",	IMAP_S_SELECTED, 0,	"s*",	"s*",	t_noop },
	{ "COPY",	IMAP_S_SELECTED, 0,	"sm",	"sm",	t_noop },
	{ "EXPUNGE",	IMAP_S_SELECTED, 0,	"",	"s",	t_noop },
	{ "CHECK",	IMAP_S_SELECTED, 0,	"",	NULL,	t_noop },
	{ "AUTHENTICATE", IMAP_S_NOAUTH, IMAP_CMDF_STOP, "w?a", NULL, t_noop },
	{ NULL,		0,		0,	NULL,	NULL,	NULL },
};

struct parse_case {
	char	 in[512];
	char	 out[512];
};

static struct parse_case parse_cases[] = {
	/* RFC 3501 8. */
	{ "a001 login mrc secret\r\n", "CMD a001 LOGIN mrc secret\n" },
	{ "a002 select inbox\r\n", "CMD a002 SELECT inbox\n" },
	{ "a003 fetch 12 full\r\n", "CMD a003 FETCH 12 full\n" },
	{ "a004 fetch 12 body[header]\r\n",
	    "CMD a004 FETCH 12 BODY[header]\n" },
	{ "a005 store 12 +flags \\deleted\r\n",
	    "CMD a005 STORE 12 +flags \\deleted\n" },
	{ "a006 logout\r\n", "CMD a006 LOGOUT\n" },
	/* RFC 3501 6.4.5 and RFC 9051 6.4.5. */
	{ "A654 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])\r\n",
	    "CMD A654 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])\n" },
	{ "a FETCH 1 BODY.PEEK[1.2.MIME]<0.100>\r\n",
	    "CMD a FETCH 1 BODY.PEEK[1.2.MIME]<0.100>\n" },
	{ "a FETCH 1 (BODY[]<5> BINARY.SIZE[1])\r\n",
	    "CMD a FETCH 1 (BODY[]<5.0> BINARY.SIZE[1])\n" },
	{ "A282 SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"\r\n",
	    "CMD A282 SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"\n" },
	{ "A999 UID FETCH 4827313:4828442 FLAGS\r\n",
	    "CMD A999 UID FETCH 4827313:4828442 FLAGS\n" },
	{ "A042 STATUS blurdybloop (UIDNEXT MESSAGES)\r\n",
	    "CMD A042 STATUS blurdybloop (UIDNEXT MESSAGES)\n" },
	{ "A202 LIST ~/Mail/ %\r\n", "CMD A202 LIST ~/Mail/ %\n" },
	{ "A101 LIST \"\" \"\"\r\n", "CMD A101 LIST \"\" \"\"\n" },
	{ "a1 SELECT [Gmail]/Sent\r\n", "CMD a1 SELECT [Gmail]/Sent\n" },
	{ "a1 X NIL nil \"NIL\"\r\n", "CMD a1 X NIL nil \"NIL\"\n" },
	{ "a1 X \"a\\\"b\\\\c\"\r\n", "CMD a1 X \"a\"b\\c\"\n" },
	{ "a1 X ((a) () ((b)))\r\n", "CMD a1 X ((a) () ((b)))\n" },
	/* RFC 7162 3.1.3, 3.2.5 and 3.1.4 (CONDSTORE, QRESYNC). */
	{ "a103 UID STORE 6,4,8 (UNCHANGEDSINCE 12121230045) +FLAGS.SILENT "
	    "(\\Deleted)\r\n", "CMD a103 UID STORE 6,4,8 (UNCHANGEDSINCE "
	    "12121230045) +FLAGS.SILENT (\\Deleted)\n" },
	{ "A02 SELECT INBOX (QRESYNC (67890007 20050715194045000 "
	    "41,43:211,214:541))\r\n", "CMD A02 SELECT INBOX (QRESYNC "
	    "(67890007 20050715194045000 41,43:211,214:541))\n" },
	{ "s100 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345 VANISHED)\r\n",
	    "CMD s100 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345 VANISHED)\n" },
	/* RFC 9051 6.4.4 and 6.3.12 (ESEARCH, STATUS SIZE). */
	{ "A285 SEARCH CHARSET UTF-8 TEXT {12}\r\n\xe6\x97\xa5\xe6\x9c"
	    "\xac\xe8\xaa\x9e\xe3\x81\xa7\r\n",
	    "+\nCMD A285 SEARCH CHARSET UTF-8 TEXT {\xe6\x97\xa5\xe6\x9c"
	    "\xac\xe8\xaa\x9e\xe3\x81\xa7}\n" },
	{ "A301 SEARCH RETURN (MIN COUNT) UNSEEN\r\n",
	    "CMD A301 SEARCH RETURN (MIN COUNT) UNSEEN\n" },
	{ "A042 STATUS blurdybloop (UIDNEXT MESSAGES SIZE)\r\n",
	    "CMD A042 STATUS blurdybloop (UIDNEXT MESSAGES SIZE)\n" },
	{ "A682 LIST \"\" * RETURN (SPECIAL-USE STATUS (MESSAGES))\r\n",
	    "CMD A682 LIST \"\" * RETURN (SPECIAL-USE STATUS (MESSAGES))\n" },
	{ "t1 ENABLE IMAP4rev2 CONDSTORE\r\n",
	    "CMD t1 ENABLE IMAP4rev2 CONDSTORE\n" },
	{ "a1 APPEND INBOX (\\Seen) \"17-Jul-1996 02:44:25 -0700\" "
	    "~{2+}\r\nhi\r\n", "CMD a1 APPEND INBOX (\\Seen) \"17-Jul-1996 "
	    "02:44:25 -0700\" <stream 2>\n" },
	/* Empty lines between commands are passed over; bare LF taken. */
	{ "\r\n\na NOOP\n", "CMD a NOOP\n" },
	/* Synchronising literals: a '+' for each (RFC 3501 7.5). */
	{ "A001 LOGIN {11}\r\nFRED FOOBAR {7}\r\nfat man\r\n",
	    "+\n+\nCMD A001 LOGIN {FRED FOOBAR} {fat man}\n" },
	/* LITERAL+ (RFC 7888 3's example): no '+'. */
	{ "A001 LOGIN {11+}\r\nFRED FOOBAR {7+}\r\nfat man\r\n",
	    "CMD A001 LOGIN {FRED FOOBAR} {fat man}\n" },
	{ "a X ~{3+}\r\na\0b\r\n", "CMD a X {a}\n" },
	{ "a X {0}\r\n\r\n", "+\nCMD a X {}\n" },
	{ "a X ({3+}\r\nabc {1+}\r\nd)\r\n", "CMD a X ({abc} {d})\n" },
	/* APPEND's message goes to the sink; the mailbox literal does not. */
	{ "A003 APPEND saved-messages (\\Seen) {5}\r\nHello\r\n",
	    "+\nCMD A003 APPEND saved-messages (\\Seen) <stream 5>\n" },
	{ "A003 APPEND {5+}\r\nDraft {3+}\r\nabc {2+}\r\nde\r\n",
	    "CMD A003 APPEND {Draft} <stream 3> <stream 2>\n" },
	/* Syntax errors: BAD with the reason, then the next command. */
	{ "a1 X (a\r\nb NOOP\r\n", "a1 BAD Missing ')'\nCMD b NOOP\n" },
	{ "a1 X (a)b\r\nb NOOP\r\n", "a1 BAD missing space between "
	    "arguments\nCMD b NOOP\n" },
	{ "a1 X )\r\n", "a1 BAD unexpected ')'\n" },
	{ "a1 X \"abc\r\n", "a1 BAD unterminated quoted string\n" },
	{ "a1 X \"a\\bc\"\r\n", "a1 BAD invalid escape in a quoted string\n" },
	{ "a1 X {3}x\r\n", "a1 BAD invalid literal (expected {n}, {n+} or "
	    "~{n} at the end of the line)\n" },
	{ "a1 X {99999999999}\r\n", "a1 BAD invalid literal (expected {n}, "
	    "{n+} or ~{n} at the end of the line)\n" },
	{ "a1 X {3+}\r\na\0b\r\nc NOOP\r\n", "a1 BAD NUL in a literal (only "
	    "literal8 may hold one)\nCMD c NOOP\n" },
	{ "+1 NOOP\r\n", "* BAD invalid tag\n" },
	{ "a1\r\n", "a1 BAD missing command name\n" },
	{ "a1 N@OP\r\n", "a1 BAD invalid command name\n" },
	{ "a1 X \x01\r\n", "a1 BAD invalid character\n" },
	{ "a1 X \xff\r\n", "a1 BAD 8-bit byte outside a string\n" },
	{ "a1 X \"caf\xc3\xa9\"\r\n",
	    "a1 BAD 8-bit text in a quoted string (send a literal)\n" },
	{ "a1 X BODY[1]<5.0>\r\n", "a1 BAD invalid partial range (expected "
	    "<offset.length>)\n" },
	/* A refused line's non-synchronising literal is read and dropped. */
	{ "a1 X ) {5+}\r\nb NOO\r\nc NOOP\r\n",
	    "a1 BAD unexpected ')'\nCMD c NOOP\n" },
	/* A refused synchronising literal is never asked for. */
	{ "a1 X ) {5}\r\nc NOOP\r\n", "a1 BAD unexpected ')'\nCMD c NOOP\n" },
	/* Lying sizes: the literal takes what it said, no more. */
	{ "a LOGIN {3+}\r\nabcdef x\r\nb NOOP\r\n",
	    "a BAD missing space after a literal\nCMD b NOOP\n" },
	{ "a LOGIN {8+}\r\nab\r\nb NOOP\r\n",
	    "a BAD missing space after a literal\n" },
	{ "a LOGIN {5+}\r\nab\r\nb x\r\n", "CMD a LOGIN {ab\r\nb} x\n" },
};

ParameterizedTestParameters(imap_parse, cases)
{
	return cr_make_param_array(struct parse_case, parse_cases,
	    sizeof(parse_cases) / sizeof(parse_cases[0]));
}

/* The input's length: the cases may hold NUL after the first line. */
static size_t
case_len(const char *in)
{
	const char	*p = in;

	while (p[0] != '\0' || p[1] != '\0')
		p++;
	return (size_t)(p - in);
}

ParameterizedTest(struct parse_case *c, imap_parse, cases)
{
	struct tconn		 t;
	struct imap_reader	*rd;
	char			 tr[2048];
	size_t			 len = case_len(c->in), chunk;

	for (chunk = 1; chunk <= 4096; chunk *= 4096) {
		memset(&t, 0, sizeof(t));
		rd = imap_reader_new(t_table, &t_io, &t_sink,
		    (struct imap_conn *)(void *)&t);
		cr_assert_not_null(rd);
		t_run(rd, c->in, len, chunk, tr, sizeof(tr));
		cr_expect_str_eq(tr, c->out, "input %s, chunk %zu: got %s",
		    c->in, chunk, tr);
		imap_reader_free(rd);
		cr_expect_eq(t.opened, t.discarded,
		    "every sink handle is dropped in the end");
	}
}

/* A reader on a fresh fake connection. */
static struct imap_reader *
t_reader(struct tconn *t)
{
	struct imap_reader	*rd;

	memset(t, 0, sizeof(*t));
	rd = imap_reader_new(t_table, &t_io, &t_sink,
	    (struct imap_conn *)(void *)t);
	cr_assert_not_null(rd);
	return rd;
}

/* head, n filler bytes f, tail: in a buffer the caller frees. */
static char *
t_big(const char *head, size_t n, char f, const char *tail, size_t *len)
{
	size_t	 h = strlen(head), tl = strlen(tail);
	char	*p;

	cr_assert_not_null(p = malloc(h + n + tl + 1));
	memcpy(p, head, h);
	memset(p + h, f, n);
	memcpy(p + h + n, tail, tl + 1);
	*len = h + n + tl;
	return p;
}

struct limit_case {
	char	 head[64];
	size_t	 fill;
	char	 tail[64];
	int	 refuse_open;
	char	 out[256];
};

static struct limit_case limit_cases[] = {
	/* One line past IMAP_LINE_MAX_BYTES, then a clean command. */
	{ "a1 X ", IMAP_LINE_MAX_BYTES, "\r\nb NOOP\r\n", 0,
	    "a1 BAD Line too long (at most 65536 octets)\nCMD b NOOP\n" },
	/* ... and its non-synchronising literal is dropped too. */
	{ "a1 X ", IMAP_LINE_MAX_BYTES, " {5+}\r\nb NOO\r\nc NOOP\r\n", 0,
	    "a1 BAD Line too long (at most 65536 octets)\nCMD c NOOP\n" },
	/* A synchronising literal over the limit: refused before '+'. */
	{ "a1 LOGIN {65537}\r\n", 0, "b NOOP\r\n", 0,
	    "a1 BAD [TOOBIG] Literal too big (at most 65536 octets here)\n"
	    "CMD b NOOP\n" },
	/* A non-synchronising one: read, dropped, refused (RFC 7888 4). */
	{ "a1 LOGIN {65537+}\r\n", 65537, "\r\nb NOOP\r\n", 0,
	    "a1 BAD [TOOBIG] Literal too big (at most 65536 octets here)\n"
	    "CMD b NOOP\n" },
	/* One too big even to drop: the connection ends. */
	{ "a1 LOGIN {67108865+}\r\n", 0, "", 0,
	    "* BYE Non-synchronising literal too big\n" },
	{ "a1 APPEND x {67108865}\r\n", 0, "b NOOP\r\n", 0,
	    "a1 NO [TOOBIG] Message too big (at most 67108864 octets)\n"
	    "CMD b NOOP\n" },
	/* The sink refuses (quota): no '+', the reason as given. */
	{ "a1 APPEND x {10}\r\n", 0, "b NOOP\r\n", 1,
	    "a1 NO [OVERQUOTA] Over quota\nCMD b NOOP\n" },
	{ "a1 APPEND x {10+}\r\n", 10, "\r\nb NOOP\r\n", 1,
	    "a1 NO [OVERQUOTA] Over quota\nCMD b NOOP\n" },
	/* A big APPEND goes through the sink, not memory. */
	{ "a1 APPEND x {1000000}\r\n", 1000000, "\r\n", 0,
	    "+\nCMD a1 APPEND x <stream 1000000>\n" },
	{ "a1 X {1+}\r\n", 0, "", 0, "" },
	{ "t", IMAP_TAG_MAX_BYTES, " NOOP\r\nb NOOP\r\n", 0,
	    "* BAD tag too long\nCMD b NOOP\n" },
};

ParameterizedTestParameters(imap_parse, limits)
{
	return cr_make_param_array(struct limit_case, limit_cases,
	    sizeof(limit_cases) / sizeof(limit_cases[0]));
}

ParameterizedTest(struct limit_case *c, imap_parse, limits)
{
	struct tconn		 t;
	struct imap_reader	*rd;
	char			 tr[2048], *in;
	size_t			 len;

	rd = t_reader(&t);
	t.refuse_open = c->refuse_open;
	in = t_big(c->head, c->fill, 'x', c->tail, &len);
	t_run(rd, in, len, 7919, tr, sizeof(tr));
	cr_expect_str_eq(tr, c->out, "%s...: got %s", c->head, tr);
	/* Memory stays within the named limits whatever came. */
	cr_expect_leq(rd->acap, IMAP_CMD_MAX_BYTES);
	cr_expect_leq(rd->linecap, 2 * (IMAP_LINE_MAX_BYTES + 3));
	imap_reader_free(rd);
	cr_expect_eq(t.opened, t.discarded);
	free(in);
}

/* Nesting, argument count and the command's total size. */
Test(imap_parse, nesting_and_counts)
{
	struct tconn		 t;
	struct imap_reader	*rd;
	char			 line[IMAP_ARGS_MAX * 2 + 64], tr[512];
	size_t			 n;
	int			 i;

	rd = t_reader(&t);
	n = (size_t)snprintf(line, sizeof(line), "a X ");
	for (i = 0; i < IMAP_NEST_MAX; i++)
		line[n++] = '(';
	for (i = 0; i < IMAP_NEST_MAX; i++)
		line[n++] = ')';
	memcpy(line + n, "\r\n", 3);
	t_run(rd, line, n + 2, 4096, tr, sizeof(tr));
	cr_expect_eq(strncmp(tr, "CMD a X ((((", 12), 0, "%s", tr);
	/* One more level is refused. */
	memmove(line + 5, line + 4, n - 4);
	line[4] = '(';
	memcpy(line + n + 1, ")\r\n", 4);
	t_run(rd, line, n + 4, 4096, tr, sizeof(tr));
	cr_expect_str_eq(tr, "a BAD too many nested lists\n");
	/* IMAP_ARGS_MAX arguments and one more. */
	n = (size_t)snprintf(line, sizeof(line), "a X");
	for (i = 0; i < IMAP_ARGS_MAX; i++) {
		line[n++] = ' ';
		line[n++] = 'z';
	}
	memcpy(line + n, "\r\n", 3);
	t_run(rd, line, n + 2, 4096, tr, sizeof(tr));
	cr_expect_eq(strncmp(tr, "CMD a X z z", 11), 0);
	memcpy(line + n, " z\r\n", 5);
	t_run(rd, line, n + 4, 4096, tr, sizeof(tr));
	cr_expect_str_eq(tr, "a BAD too many arguments\n");
	imap_reader_free(rd);
}

Test(imap_parse, command_too_long)
{
	struct tconn		 t;
	struct imap_reader	*rd;
	char			*in, tr[512], *p;
	size_t			 len, i, part = 60000;

	rd = t_reader(&t);
	/* Five literals of 60000 octets: past IMAP_CMD_MAX_BYTES. */
	cr_assert_not_null(in = malloc(6 * (part + 16) + 32));
	p = in + sprintf(in, "a X");
	for (i = 0; i < 5; i++) {
		p += sprintf(p, " {%zu+}\r\n", part);
		memset(p, 'y', part);
		p += part;
	}
	p += sprintf(p, "\r\nb NOOP\r\n");
	len = (size_t)(p - in);
	t_run(rd, in, len, 65536, tr, sizeof(tr));
	cr_expect_str_eq(tr, "a BAD command too long\nCMD b NOOP\n");
	imap_reader_free(rd);
	free(in);
}

/* 8-bit text in quoted strings only once UTF-8 is on, and valid. */
Test(imap_parse, utf8_quoted)
{
	struct tconn		 t;
	struct imap_reader	*rd;
	char			 tr[512];
	const char		*ok = "a SELECT \"caf\xc3\xa9\"\r\n";
	const char		*bad = "a SELECT \"caf\xc3\x28\"\r\n";

	rd = t_reader(&t);
	imap_reader_set_utf8(rd, 1);
	t_run(rd, ok, strlen(ok), 4096, tr, sizeof(tr));
	cr_expect_str_eq(tr, "CMD a SELECT \"caf\xc3\xa9\"\n");
	t_run(rd, bad, strlen(bad), 4096, tr, sizeof(tr));
	cr_expect_str_eq(tr, "a BAD invalid UTF-8 in a quoted string\n");
	imap_reader_free(rd);
}

/* Line mode: AUTHENTICATE's responses and IDLE's DONE. */
Test(imap_parse, line_mode)
{
	struct tconn		 t;
	struct imap_reader	*rd;
	const char		*in = "dGVzdA==\r\nDONE\r\na NOOP\r\n", *l;
	size_t			 used, off = 0, n;

	rd = t_reader(&t);
	imap_reader_line_mode(rd, 1);
	cr_assert_eq(imap_reader_feed(rd, in, strlen(in), &used),
	    IMAP_RD_LINE);
	l = imap_reader_line(rd, &n);
	cr_expect_eq(n, 8);
	cr_expect_str_eq(l, "dGVzdA==");
	off += used;
	cr_assert_eq(imap_reader_feed(rd, in + off, strlen(in + off), &used),
	    IMAP_RD_LINE);
	cr_expect_str_eq(imap_reader_line(rd, &n), "DONE");
	off += used;
	imap_reader_line_mode(rd, 0);
	cr_assert_eq(imap_reader_feed(rd, in + off, strlen(in + off), &used),
	    IMAP_RD_CMD);
	cr_expect_str_eq(imap_reader_command(rd)->name, "NOOP");
	imap_reader_free(rd);
}

/* A small deterministic PRNG (xorshift) for the fuzz loop. */
static uint32_t
t_rand(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static const char *const fuzz_seeds[] = {
	"a1 FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (FROM TO)]<0.512>)\r\n",
	"a2 APPEND INBOX (\\Seen) \"17-Jul-1996 02:44:25 -0700\" {12+}\r\n"
	    "hello world!\r\n",
	"a3 LOGIN {3}\r\nbob \"pa\\\"ss\"\r\n",
	"a4 SEARCH OR (FROM \"x\" SINCE 1-Feb-1994) NOT ~{2+}\r\nab\r\n",
	"a5 UID STORE 1,3:5 +FLAGS.SILENT (\\Deleted $Junk)\r\n",
};

/*
 * Random and mutated input in random chunks: never a crash, memory
 * within the limits, and a clean command read after a resync.
 */
Test(imap_parse, fuzz_loop)
{
	struct tconn		 t;
	struct imap_reader	*rd;
	char			 buf[1024];
	uint32_t		 seed = 0x5a11c0de;
	size_t			 len, off, used, k, n;
	int			 iter, ev;

	for (iter = 0; iter < 3000; iter++) {
		rd = t_reader(&t);
		imap_reader_set_utf8(rd, iter & 1);
		k = t_rand(&seed) % (sizeof(fuzz_seeds) /
		    sizeof(fuzz_seeds[0]));
		len = strlen(fuzz_seeds[k]);
		memcpy(buf, fuzz_seeds[k], len);
		for (n = t_rand(&seed) % 8; n > 0; n--) {
			if (t_rand(&seed) % 4 == 0 && len < sizeof(buf))
				len += t_rand(&seed) % (sizeof(buf) - len);
			buf[t_rand(&seed) % len] = (char)t_rand(&seed);
		}
		for (off = 0; off < len; off += used) {
			n = 1 + t_rand(&seed) % 64;
			if (n > len - off)
				n = len - off;
			ev = imap_reader_feed(rd, buf + off, n, &used);
			if (ev == IMAP_RD_FATAL)
				break;
			cr_assert_leq(used, n);
			cr_assert_leq(rd->acap, IMAP_CMD_MAX_BYTES);
			cr_assert_leq(rd->ntok, IMAP_ARGS_MAX);
			cr_assert_leq(rd->depth, IMAP_NEST_MAX);
		}
		imap_reader_free(rd);
		cr_assert_eq(t.opened, t.discarded);
	}
}

/*
 * A 1 MB APPEND goes to the sink in pieces, never into the reader's
 * memory; a handler that keeps the handle stops its discard.
 */
Test(imap_parse, append_streamed)
{
	struct tconn		 t;
	struct imap_reader	*rd;
	struct imap_command	*cmd;
	char			*in;
	size_t			 len, off = 0, used, n;
	int			 ev = IMAP_RD_MORE, conts = 0;

	rd = t_reader(&t);
	in = t_big("a1 APPEND Drafts (\\Draft) {1000000}\r\n", 1000000, 'm',
	    "\r\n", &len);
	while (off < len && ev != IMAP_RD_CMD) {
		n = len - off < 4096 ? len - off : 4096;
		ev = imap_reader_feed(rd, in + off, n, &used);
		off += used;
		conts += ev == IMAP_RD_CONT;
		cr_assert_leq(rd->acap, 4096);
	}
	cr_assert_eq(ev, IMAP_RD_CMD);
	cr_expect_eq(conts, 1);
	cr_expect_eq(t.sunk, 1000000);
	cr_expect_eq(t.opened, 1);
	cr_expect_eq(t.ended, 1);
	cmd = imap_reader_command(rd);
	cr_assert_eq(cmd->nargs, 3);
	cr_assert_eq(cmd->args[2].type, IMAP_ARG_STREAM);
	cr_expect_eq(cmd->args[2].stream_size, 1000000);
	cmd->args[2].stream = NULL;	/* the handler keeps it */
	imap_reader_release(rd);
	cr_expect_eq(t.discarded, 0);
	imap_reader_free(rd);
	free(in);
}
