/*
 * pop3d's pure parts: the command tables and pop3_parse() (verbs in each
 * state, argument counts and lengths, over-long and unknown lines), the
 * LF to CRLF conversion with dot-stuffing, TOP's line count, the octet
 * count LIST reports, and the unique-id and delivery-time helpers.
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "lineio.h"
#include "../../pop3d/pop3d.h"

/* The tables hold arrays, never pointers: Criterion may re-execute. */
#define T_AUTH		0
#define T_USER		1

struct parse_case {
	int	 table;
	int	 state;
	char	 line[300];
	int	 flags;
	char	 verb[8];	/* "" when an error is expected */
	char	 err[48];
	int	 argc;
	char	 arg0[48];
	char	 arg1[48];
	char	 rest[64];
};

#define A41	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define A40	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define X50	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
/* 250 bytes: with "NOOP " and CRLF, 257 octets: over RFC 2449's 255. */
#define X250	X50 X50 X50 X50 X50
/* "NOOP " and 248 bytes and CRLF: 255 octets, the longest line. */
#define X48	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
#define X248	X50 X50 X50 X50 X48

static struct parse_case parse_cases[] = {
	/* AUTHORIZATION, before USER. */
	{ T_AUTH, POP3_S_AUTH, "USER alice", 0, "USER", "", 1, "alice", "",
	    "" },
	{ T_AUTH, POP3_S_AUTH, "user alice", 0, "USER", "", 1, "alice", "",
	    "" },
	{ T_AUTH, POP3_S_AUTH, "uSeR  alice", 0, "USER", "", 1, "alice", "",
	    "" },
	{ T_AUTH, POP3_S_AUTH, "CAPA", 0, "CAPA", "", 0, "", "", "" },
	{ T_AUTH, POP3_S_AUTH, "capa x", 0, "", "syntax error", 0, "", "",
	    "" },
	{ T_AUTH, POP3_S_AUTH, "QUIT", 0, "QUIT", "", 0, "", "", "" },
	/* RFC 2595 4: STLS before USER only, with no argument. */
	{ T_AUTH, POP3_S_AUTH, "stls", 0, "STLS", "", 0, "", "", "" },
	{ T_AUTH, POP3_S_AUTH, "STLS x", 0, "", "syntax error", 0, "", "",
	    "" },
	{ T_AUTH, POP3_S_USER, "STLS", 0, "",
	    "command not valid in this state", 0, "", "", "" },
	{ T_AUTH, POP3_S_AUTH, "PASS secret", 0, "",
	    "command not valid in this state", 0, "", "", "" },
	{ T_AUTH, POP3_S_AUTH, "STAT", 0, "",
	    "command not valid in this state", 0, "", "", "" },
	{ T_AUTH, POP3_S_AUTH, "RETR 1", 0, "",
	    "command not valid in this state", 0, "", "", "" },
	{ T_AUTH, POP3_S_AUTH, "USER", 0, "", "syntax error", 0, "", "", "" },
	{ T_AUTH, POP3_S_AUTH, "USER a b", 0, "", "syntax error", 0, "", "",
	    "" },
	{ T_AUTH, POP3_S_AUTH, "USER " A40, 0, "USER", "", 1, A40, "", "" },
	{ T_AUTH, POP3_S_AUTH, "USER " A41, 0, "", "argument too long", 0, "",
	    "", "" },
	{ T_AUTH, POP3_S_AUTH, "XYZZY", 0, "", "unknown command", 0, "", "",
	    "" },
	{ T_AUTH, POP3_S_AUTH, "FOO", 0, "", "unknown command", 0, "", "",
	    "" },
	{ T_AUTH, POP3_S_AUTH, "APOP alice 0123", 0, "", "unknown command", 0,
	    "", "", "" },
	{ T_AUTH, POP3_S_AUTH, "", 0, "", "unknown command", 0, "", "", "" },
	{ T_AUTH, POP3_S_AUTH, " USER a", 0, "", "unknown command", 0, "", "",
	    "" },
	{ T_AUTH, POP3_S_AUTH, "US3R a", 0, "", "unknown command", 0, "", "",
	    "" },
	{ T_AUTH, POP3_S_AUTH, "USER a", LINE_F_NUL, "", "syntax error", 0,
	    "", "", "" },
	{ T_AUTH, POP3_S_AUTH, "USER a", LINE_F_BARECR, "", "syntax error", 0,
	    "", "", "" },
	{ T_AUTH, POP3_S_AUTH, "USER a", LINE_F_BARELF, "USER", "", 1, "a",
	    "", "" },
	{ T_AUTH, POP3_S_AUTH, "USER a", LINE_F_TOOLONG, "", "line too long",
	    0, "", "", "" },
	/* AUTHORIZATION, after USER. */
	{ T_AUTH, POP3_S_USER, "PASS secret", 0, "PASS", "", 0, "", "",
	    "secret" },
	{ T_AUTH, POP3_S_USER, "pass my secret ", 0, "PASS", "", 0, "", "",
	    "my secret " },
	{ T_AUTH, POP3_S_USER, "PASS  lead", 0, "PASS", "", 0, "", "",
	    " lead" },
	{ T_AUTH, POP3_S_USER, "PASS", 0, "", "syntax error", 0, "", "", "" },
	{ T_AUTH, POP3_S_USER, "PASS ", 0, "", "syntax error", 0, "", "", "" },
	{ T_AUTH, POP3_S_USER, "USER bob", 0, "USER", "", 1, "bob", "", "" },
	{ T_AUTH, POP3_S_USER, "LIST", 0, "",
	    "command not valid in this state", 0, "", "", "" },
	/* TRANSACTION. */
	{ T_USER, POP3_S_TRANS, "STAT", 0, "STAT", "", 0, "", "", "" },
	{ T_USER, POP3_S_TRANS, "stat", 0, "STAT", "", 0, "", "", "" },
	{ T_USER, POP3_S_TRANS, "LIST", 0, "LIST", "", 0, "", "", "" },
	{ T_USER, POP3_S_TRANS, "LIST 1", 0, "LIST", "", 1, "1", "", "" },
	{ T_USER, POP3_S_TRANS, "LIST 1 ", 0, "LIST", "", 1, "1", "", "" },
	{ T_USER, POP3_S_TRANS, "LIST 1 2", 0, "", "syntax error", 0, "", "",
	    "" },
	{ T_USER, POP3_S_TRANS, "UIDL", 0, "UIDL", "", 0, "", "", "" },
	{ T_USER, POP3_S_TRANS, "UIDL 7", 0, "UIDL", "", 1, "7", "", "" },
	{ T_USER, POP3_S_TRANS, "RETR 1", 0, "RETR", "", 1, "1", "", "" },
	{ T_USER, POP3_S_TRANS, "RETR", 0, "", "syntax error", 0, "", "", "" },
	{ T_USER, POP3_S_TRANS, "TOP 1 10", 0, "TOP", "", 2, "1", "10", "" },
	{ T_USER, POP3_S_TRANS, "top 1", 0, "", "syntax error", 0, "", "",
	    "" },
	{ T_USER, POP3_S_TRANS, "TOP 1 2 3", 0, "", "syntax error", 0, "", "",
	    "" },
	{ T_USER, POP3_S_TRANS, "DELE 2", 0, "DELE", "", 1, "2", "", "" },
	{ T_USER, POP3_S_TRANS, "RSET", 0, "RSET", "", 0, "", "", "" },
	{ T_USER, POP3_S_TRANS, "NOOP", 0, "NOOP", "", 0, "", "", "" },
	{ T_USER, POP3_S_TRANS, "NOOP x", 0, "", "syntax error", 0, "", "",
	    "" },
	{ T_USER, POP3_S_TRANS, "QUIT", 0, "QUIT", "", 0, "", "", "" },
	{ T_USER, POP3_S_TRANS, "CAPA", 0, "CAPA", "", 0, "", "", "" },
	{ T_USER, POP3_S_TRANS, "USER x", 0, "",
	    "command not valid in this state", 0, "", "", "" },
	{ T_USER, POP3_S_TRANS, "PASS x", 0, "",
	    "command not valid in this state", 0, "", "", "" },
	{ T_USER, POP3_S_TRANS, "RETRX 1", 0, "", "unknown command", 0, "",
	    "", "" },
	{ T_USER, POP3_S_TRANS, "STLS", 0, "",
	    "command not valid in this state", 0, "", "", "" },
	{ T_USER, POP3_S_TRANS, "DELE " A41, 0, "", "argument too long", 0,
	    "", "", "" },
	/* RFC 2449 4: 255 octets with CRLF is the longest line. */
	{ T_USER, POP3_S_TRANS, "NOOP " X248, 0, "", "argument too long", 0,
	    "", "", "" },
	{ T_USER, POP3_S_TRANS, "NOOP " X250, 0, "", "line too long", 0, "",
	    "", "" },
	/* UPDATE: nothing is valid any more. */
	{ T_USER, POP3_S_UPDATE, "QUIT", 0, "",
	    "command not valid in this state", 0, "", "", "" },
};

ParameterizedTestParameters(pop3, parse)
{
	return cr_make_param_array(struct parse_case, parse_cases,
	    sizeof(parse_cases) / sizeof(parse_cases[0]));
}

ParameterizedTest(struct parse_case *c, pop3, parse)
{
	const struct pop3_cmd	*tab, *cmd;
	struct pop3_req		 req;
	const char		*err = NULL;

	tab = c->table == T_AUTH ? pop3_auth_cmds : pop3_user_cmds;
	cmd = pop3_parse(tab, c->state, c->line, strlen(c->line), c->flags,
	    &req, &err);
	if (c->verb[0] == '\0') {
		cr_assert_null(cmd, "line \"%s\" accepted", c->line);
		cr_assert_str_eq(err, c->err, "line \"%s\"", c->line);
		return;
	}
	cr_assert_not_null(cmd, "line \"%s\": %s", c->line, err);
	cr_assert_str_eq(cmd->verb, c->verb);
	cr_assert_not_null(cmd->handler);
	cr_assert_eq(req.argc, c->argc, "line \"%s\"", c->line);
	if (c->argc > 0)
		cr_assert_str_eq(req.argv[0], c->arg0);
	if (c->argc > 1)
		cr_assert_str_eq(req.argv[1], c->arg1);
	if (cmd->args == ARG_REST)
		cr_assert_str_eq(req.rest, c->rest);
}

/*
 * Every verb of one table is known to the other, with no handler.
 */
Test(pop3, tables_agree)
{
	const struct pop3_cmd	*a, *u;

	for (a = pop3_auth_cmds; a->verb != NULL; a++) {
		for (u = pop3_user_cmds; u->verb != NULL; u++)
			if (strcmp(a->verb, u->verb) == 0)
				break;
		cr_assert_not_null(u->verb, "%s missing from the user table",
		    a->verb);
		cr_assert((a->handler == NULL) != (u->handler == NULL) ||
		    strcmp(a->verb, "QUIT") == 0 ||
		    strcmp(a->verb, "CAPA") == 0, "%s", a->verb);
	}
}

struct xform_case {
	char	 in[128];
	int	 wire;
	int64_t	 maxbody;
	char	 out[192];
};

static struct xform_case xform_cases[] = {
	/* LF to CRLF, dot-stuffing, the terminator. */
	{ "", 1, -1, ".\r\n" },
	{ "a\nb\n", 1, -1, "a\r\nb\r\n.\r\n" },
	{ "a\r\nb\n", 1, -1, "a\r\nb\r\n.\r\n" },
	{ "a", 1, -1, "a\r\n.\r\n" },
	{ "a\n\n", 1, -1, "a\r\n\r\n.\r\n" },
	{ ".x\n..\n.\n", 1, -1, "..x\r\n...\r\n..\r\n.\r\n" },
	{ "a.b\n.", 1, -1, "a.b\r\n..\r\n.\r\n" },
	{ "a\rb\n", 1, -1, "a\rb\r\n.\r\n" },
	{ "abc\r", 1, -1, "abc\r\n.\r\n" },
	{ "\r\n.\r\n", 1, -1, "\r\n..\r\n.\r\n" },
	/* The size LIST counts: no stuffing, no terminator. */
	{ "", 0, -1, "" },
	{ ".x\n", 0, -1, ".x\r\n" },
	{ "a\nb", 0, -1, "a\r\nb\r\n" },
	/* TOP: header, blank line, n body lines. */
	{ "H: 1\n\nb1\nb2\nb3\n", 1, 0, "H: 1\r\n\r\n.\r\n" },
	{ "H: 1\n\nb1\nb2\nb3\n", 1, 2, "H: 1\r\n\r\nb1\r\nb2\r\n.\r\n" },
	{ "H: 1\n\nb1\nb2\nb3\n", 1, 3,
	    "H: 1\r\n\r\nb1\r\nb2\r\nb3\r\n.\r\n" },
	{ "H: 1\n\nb1\nb2\nb3\n", 1, 10,
	    "H: 1\r\n\r\nb1\r\nb2\r\nb3\r\n.\r\n" },
	{ "H: 1\r\n\r\nb1\r\n", 1, 0, "H: 1\r\n\r\n.\r\n" },
	{ "H: 1\nH: 2\n", 1, 0, "H: 1\r\nH: 2\r\n.\r\n" },
	{ "H: 1\n\n.dot\nb2\n", 1, 1, "H: 1\r\n\r\n..dot\r\n.\r\n" },
	{ "H\n\nlast", 1, 5, "H\r\n\r\nlast\r\n.\r\n" },
	{ "H\n\n\n\nb\n", 1, 2, "H\r\n\r\n\r\n\r\n.\r\n" },
	{ "H\n \nb\n", 1, 0, "H\r\n \r\nb\r\n.\r\n" },
};

ParameterizedTestParameters(pop3, xform)
{
	return cr_make_param_array(struct xform_case, xform_cases,
	    sizeof(xform_cases) / sizeof(xform_cases[0]));
}

/* Runs the conversion over in, chunk bytes at a time. */
static size_t
xform_all(const struct xform_case *c, size_t chunk, char *out)
{
	struct pop3_xform	 x;
	size_t			 len = strlen(c->in), off = 0, o = 0, n, used;

	pop3_xform_init(&x, c->wire, c->maxbody);
	while (off < len && !x.done) {
		n = len - off < chunk ? len - off : chunk;
		o += pop3_xform_run(&x, c->in + off, n, out + o, &used);
		cr_assert(used == n || x.done);
		cr_assert(o <= POP3_XFORM_OUT_MAX(off + used));
		off += used;
	}
	o += pop3_xform_end(&x, out + o);
	out[o] = '\0';
	return o;
}

ParameterizedTest(struct xform_case *c, pop3, xform)
{
	char	 out[POP3_XFORM_OUT_MAX(sizeof(c->in)) + 1];
	size_t	 chunk;

	/* Whole, and byte by byte: state must carry across pieces. */
	for (chunk = 1; chunk <= sizeof(c->in); chunk += sizeof(c->in) - 1) {
		(void)xform_all(c, chunk, out);
		cr_assert_str_eq(out, c->out, "in \"%s\" chunk %zu", c->in,
		    chunk);
	}
}

/*
 * The specification one octet at a time (RFC 1939 3 and 7, TOP), as a
 * model for the line-at-a-time code: out, its length.
 */
static size_t
xform_model(const char *in, size_t len, int wire, int64_t maxbody,
    char *out)
{
	size_t	 i, o = 0, linelen = 0;
	int	 bol = 1, cr = 0, body = 0, done = 0;
	int64_t	 lines = 0;

	for (i = 0; i < len && !done; i++) {
		if (in[i] != '\n') {
			if (bol && in[i] == '.' && wire)
				out[o++] = '.';
			out[o++] = in[i];
			bol = 0;
			cr = in[i] == '\r';
			linelen++;
			continue;
		}
		if (!cr)
			out[o++] = '\r';
		out[o++] = '\n';
		if (!body && (linelen == 0 || (linelen == 1 && cr))) {
			body = 1;
			done = maxbody == 0;
		} else if (body && maxbody >= 0 && ++lines >= maxbody)
			done = 1;
		bol = 1;
		cr = 0;
		linelen = 0;
	}
	if (!bol) {
		if (!cr)
			out[o++] = '\r';
		out[o++] = '\n';
	}
	if (wire) {
		memcpy(out + o, ".\r\n", 3);
		o += 3;
	}
	return o;
}

/* Random texts of dots, CRs, LFs and letters, in random pieces. */
Test(pop3, xform_random_against_model)
{
	static const char	 alphabet[] = "ab.\r\n\n";
	struct xform_case	 c;
	char			 want[POP3_XFORM_OUT_MAX(sizeof(c.in)) + 1];
	char			 got[POP3_XFORM_OUT_MAX(sizeof(c.in)) + 1];
	size_t			 len, i, wlen, glen;
	int			 round;

	srandom(1939);
	for (round = 0; round < 20000; round++) {
		memset(&c, 0, sizeof(c));
		len = (size_t)random() % (sizeof(c.in) - 1);
		for (i = 0; i < len; i++)
			c.in[i] = alphabet[random() % (sizeof(alphabet) - 1)];
		c.wire = round % 3 != 0;
		c.maxbody = round % 4 == 0 ? random() % 4 : -1;
		wlen = xform_model(c.in, len, c.wire, c.maxbody, want);
		glen = xform_all(&c, 1 + (size_t)random() % (len + 1), got);
		cr_assert_eq(glen, wlen, "round %d", round);
		cr_assert(memcmp(got, want, wlen) == 0, "round %d", round);
	}
}

/* pop3_xform_size() on a file agrees with the text RETR sends. */
Test(pop3, xform_size)
{
	static const char	 msg[] = "Subject: x\n\n.body\nend";
	char			 path[] = "/tmp/pop3-size.XXXXXX";
	uint64_t		 size;
	int			 fd;

	fd = mkstemp(path);
	cr_assert(fd != -1);
	(void)unlink(path);
	cr_assert(write(fd, msg, sizeof(msg) - 1) == sizeof(msg) - 1);
	cr_assert(lseek(fd, 0, SEEK_SET) == 0);
	cr_assert(pop3_xform_size(fd, &size) == 0);
	/* "Subject: x\r\n\r\n.body\r\nend\r\n": the stuffed dot not counted. */
	cr_assert_eq(size, 26);
	(void)close(fd);
}

struct uidl_case {
	char	 base[300];
	char	 uidl[80];	/* "" when a digest is expected */
};

/* 65 characters. */
#define N70	"1732352891.M123456P12345Q1.mail.example.org," \
		"S=1234567890123456789"
static struct uidl_case uidl_cases[] = {
	{ "1732352891.M123456P12345Q1.host,S=1234",
	    "1732352891.M123456P12345Q1.host,S=1234" },
	{ "x", "x" },
	{ N70 "12345", N70 "12345" },
	{ N70 "123456", "" },
	{ "with space", "" },
	{ "caf\xc3\xa9", "" },
	{ "tab\there", "" },
	{ "", "" },
};

ParameterizedTestParameters(pop3, uidl)
{
	return cr_make_param_array(struct uidl_case, uidl_cases,
	    sizeof(uidl_cases) / sizeof(uidl_cases[0]));
}

ParameterizedTest(struct uidl_case *c, pop3, uidl)
{
	char	 uidl[POP3_UIDL_MAX_BYTES + 1], again[POP3_UIDL_MAX_BYTES + 1];
	size_t	 i;

	maildrop_uidl(c->base, strlen(c->base), uidl);
	if (c->uidl[0] != '\0') {
		cr_assert_str_eq(uidl, c->uidl);
		return;
	}
	cr_assert_eq(strlen(uidl), 33, "digest \"%s\"", uidl);
	cr_assert_eq(uidl[0], 'X');
	for (i = 0; uidl[i] != '\0'; i++)
		cr_assert(uidl[i] >= 0x21 && uidl[i] <= 0x7e);
	maildrop_uidl(c->base, strlen(c->base), again);
	cr_assert_str_eq(uidl, again, "digest not stable");
}

Test(pop3, uidl_digests_differ)
{
	char	 a[POP3_UIDL_MAX_BYTES + 1], b[POP3_UIDL_MAX_BYTES + 1];

	maildrop_uidl("with space", 10, a);
	maildrop_uidl("with spacf", 10, b);
	cr_assert_str_neq(a, b);
}

struct time_case {
	char		 name[64];
	uint64_t	 secs;
	uint64_t	 usecs;
};

static struct time_case time_cases[] = {
	{ "1732352891.M123456P12345Q1.host,S=12:2,", 1732352891, 123456 },
	{ "1732352891.M5P1Q1.host", 1732352891, 5 },
	{ "1732352891.P1Q1.host", 1732352891, 0 },
	{ "17.", 17, 0 },
	{ "abc", 0, 0 },
	{ "", 0, 0 },
	{ "99999999999999999999999.M1", UINT64_MAX, 1 },
};

ParameterizedTestParameters(pop3, name_time)
{
	return cr_make_param_array(struct time_case, time_cases,
	    sizeof(time_cases) / sizeof(time_cases[0]));
}

ParameterizedTest(struct time_case *c, pop3, name_time)
{
	uint64_t	 secs, usecs;

	maildrop_name_time(c->name, &secs, &usecs);
	cr_assert_eq(secs, c->secs, "%s", c->name);
	cr_assert_eq(usecs, c->usecs, "%s", c->name);
}
