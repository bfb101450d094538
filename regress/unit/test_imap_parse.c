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
