/*
 * smtpd/smtp_parse.c, CHUNKING (RFC 3030): the argument of BDAT
 * (smtp_parse_bdat) and the splitting of chunk content into lines as
 * lineio splits DATA (smtp_bdat_split, smtp_bdat_finish): lines across
 * chunk boundaries, a CRLF cut between two chunks, bare LF and CR, NUL,
 * an over-long line cut once, a last line with no LF.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "lineio.h"
#include "../../smtpd/smtp_parse.h"

/*
 * As in test_smtp_parse.c: Criterion may run each case in a freshly
 * executed copy of this binary, so the tables hold arrays, not pointers.
 */
#define ARG_MAX		48

struct bdat_case {
	char		arg[ARG_MAX];
	int		ok;
	uint64_t	size;
	int		last;
};

static struct bdat_case bdat_cases[] = {
	{ "0 LAST", 1, 0, 1 },
	{ "0", 1, 0, 0 },
	{ "10", 1, 10, 0 },
	{ "10 last", 1, 10, 1 },
	{ "10 LaSt", 1, 10, 1 },
	/* chunk-size = 1*DIGIT (RFC 3030 2): leading zeros are digits. */
	{ "007", 1, 7, 0 },
	{ "000 LAST", 1, 0, 1 },
	{ "18446744073709551615", 1, UINT64_MAX, 0 },
	{ "18446744073709551615 LAST", 1, UINT64_MAX, 1 },
	/* One past 2^64 - 1, and far past it. */
	{ "18446744073709551616", 0, 0, 0 },
	{ "99999999999999999999999999", 0, 0, 0 },
	{ "", 0, 0, 0 },
	{ "-1", 0, 0, 0 },
	{ "+1", 0, 0, 0 },
	{ "0x10", 0, 0, 0 },
	{ "1e3", 0, 0, 0 },
	{ "LAST", 0, 0, 0 },
	{ "10 LASTX", 0, 0, 0 },
	{ "10 LAS", 0, 0, 0 },
	{ "10LAST", 0, 0, 0 },
	{ "10 LAST x", 0, 0, 0 },
	{ "10 LAST LAST", 0, 0, 0 },
	{ "10 20", 0, 0, 0 },
	{ "10 ", 0, 0, 0 },
	{ " 10", 0, 0, 0 },
	{ "10  LAST", 0, 0, 0 },
	{ "10\tLAST", 0, 0, 0 },
};

ParameterizedTestParameters(smtp_bdat, parse)
{
	return cr_make_param_array(struct bdat_case, bdat_cases,
	    sizeof(bdat_cases) / sizeof(bdat_cases[0]));
}

ParameterizedTest(struct bdat_case *c, smtp_bdat, parse)
{
	const char	*errstr = NULL;
	uint64_t	 size = 12345;
	int		 last = -1, r;

	r = smtp_parse_bdat(c->arg, &size, &last, &errstr);
	if (!c->ok) {
		cr_expect_eq(r, -1, "\"%s\" accepted", c->arg);
		cr_expect_not_null(errstr, "\"%s\": no error string", c->arg);
		return;
	}
	cr_assert_eq(r, 0, "\"%s\" refused: %s", c->arg, errstr);
	cr_expect_eq(size, c->size, "\"%s\": size %llu", c->arg,
	    (unsigned long long)size);
	cr_expect_eq(last, c->last, "\"%s\": last %d", c->arg, last);
}

/*
 * Chunk content.  The lines handed over are written out as text, with
 * CR as "\r", NUL as "\0", and the flags after a '|': "a\rb|8;".
 */
#define CHUNKS_MAX	4
#define CHUNK_MAX	24
#define OUT_MAX		160

struct chunk {
	char	data[CHUNK_MAX];
	size_t	len;
};

struct split_case {
	char		name[32];
	struct chunk	chunks[CHUNKS_MAX];
	size_t		nchunks;
	char		out[OUT_MAX];
};

#define C(s)	{ s, sizeof(s) - 1 }
#define BLF	LINE_F_BARELF

static struct split_case split_cases[] = {
	{ "one line", { C("abc\r\n") }, 1, "abc|0;" },
	{ "empty content", { C("") }, 1, "" },
	{ "an empty line", { C("\r\n") }, 1, "|0;" },
	{ "two lines", { C("a\r\nb\r\n") }, 1, "a|0;b|0;" },
	{ "line across chunks", { C("ab"), C("cd"), C("e\r\n") }, 3,
	    "abcde|0;" },
	{ "CRLF cut between chunks", { C("ab\r"), C("\ncd\r\n") }, 2,
	    "ab|0;cd|0;" },
	{ "CR, empty chunk, LF", { C("ab\r"), C(""), C("\n") }, 3,
	    "ab|0;" },
	{ "LF alone at a chunk start", { C("ab"), C("\n") }, 2, "ab|2;" },
	{ "bare LF", { C("a\nb\r\n") }, 1, "a|2;b|0;" },
	{ "bare CR inside", { C("a\rb\r\n") }, 1, "a\\rb|8;" },
	{ "CR CR LF", { C("a\r\r\n") }, 1, "a\\r|8;" },
	{ "bare CR at the very end", { C("a\r\n\r") }, 1, "a|0;\\r|8;" },
	{ "NUL", { { "a\0b\r\n", 5 } }, 1, "a\\0b|4;" },
	{ "NUL and bare LF", { { "\0\n", 2 } }, 1, "\\0|6;" },
	{ "a dot is data", { C(".\r\n.\r\n") }, 1, ".|0;.|0;" },
	{ "commands are data", { C("QUIT\r\n"), C("RSET\r\n") }, 2,
	    "QUIT|0;RSET|0;" },
	/* The last line needs no line end: finish hands it over. */
	{ "final line without LF", { C("a\r\nb") }, 1, "a|0;b|0;" },
	{ "final line across chunks", { C("x"), C("yz") }, 2, "xyz|0;" },
	{ "final CR only", { C("a\r") }, 1, "a\\r|8;" },
};

struct sink {
	char	out[OUT_MAX * 2];
	size_t	len;
	size_t	nlines;
};

static void
sink_put(struct sink *k, const char *s, size_t n)
{
	cr_assert_lt(k->len + n, sizeof(k->out));
	memcpy(k->out + k->len, s, n);
	k->len += n;
	k->out[k->len] = '\0';
}

static void
sink_line(void *arg, const char *line, size_t len, int lflags)
{
	struct sink	*k = arg;
	char		 tail[16];
	size_t		 i;

	for (i = 0; i < len; i++) {
		if (line[i] == '\r')
			sink_put(k, "\\r", 2);
		else if (line[i] == '\0')
			sink_put(k, "\\0", 2);
		else
			sink_put(k, line + i, 1);
	}
	(void)snprintf(tail, sizeof(tail), "|%d;", lflags);
	sink_put(k, tail, strlen(tail));
	k->nlines++;
}

ParameterizedTestParameters(smtp_bdat, split)
{
	return cr_make_param_array(struct split_case, split_cases,
	    sizeof(split_cases) / sizeof(split_cases[0]));
}

ParameterizedTest(struct split_case *c, smtp_bdat, split)
{
	struct smtp_bdat_lines	 bl;
	struct sink		 k;
	size_t			 i;

	memset(&bl, 0, sizeof(bl));
	memset(&k, 0, sizeof(k));
	for (i = 0; i < c->nchunks; i++)
		smtp_bdat_split(&bl, c->chunks[i].data, c->chunks[i].len,
		    sink_line, &k);
	smtp_bdat_finish(&bl, sink_line, &k);
	cr_expect_str_eq(k.out, c->out, "%s", c->name);
	/* Finish leaves nothing behind: a second one hands over nothing. */
	i = k.nlines;
	smtp_bdat_finish(&bl, sink_line, &k);
	cr_expect_eq(k.nlines, i, "%s: finish twice", c->name);
}

/* Every way of cutting one content into two chunks gives the same lines. */
Test(smtp_bdat, split_anywhere)
{
	static const char	 msg[] = "Subject: x\r\n\r\nbody\r\n.\r\nend";
	struct smtp_bdat_lines	 bl;
	struct sink		 k, whole;
	size_t			 cut, n = sizeof(msg) - 1;

	memset(&bl, 0, sizeof(bl));
	memset(&whole, 0, sizeof(whole));
	smtp_bdat_split(&bl, msg, n, sink_line, &whole);
	smtp_bdat_finish(&bl, sink_line, &whole);
	cr_assert_str_eq(whole.out, "Subject: x|0;|0;body|0;.|0;end|0;");
	for (cut = 0; cut <= n; cut++) {
		memset(&bl, 0, sizeof(bl));
		memset(&k, 0, sizeof(k));
		smtp_bdat_split(&bl, msg, cut, sink_line, &k);
		smtp_bdat_split(&bl, msg + cut, n - cut, sink_line, &k);
		smtp_bdat_finish(&bl, sink_line, &k);
		cr_expect_str_eq(k.out, whole.out, "cut at %zu", cut);
	}
}

/* Records only the length and flags of each line. */
struct lensink {
	size_t	len[8];
	int	flags[8];
	char	first[8];
	size_t	n;
};

static void
lensink_line(void *arg, const char *line, size_t len, int lflags)
{
	struct lensink	*k = arg;

	cr_assert_lt(k->n, 8);
	k->len[k->n] = len;
	k->flags[k->n] = lflags;
	k->first[k->n] = len > 0 ? line[0] : '\0';
	k->n++;
}

/*
 * The buffer holds SMTP_LINE_LIMIT_MAX_BYTES before the LF; a longer
 * line is handed over once, cut to that, flagged, and the rest of it
 * dropped up to its LF, however many chunks it spans.  The next line is whole.
 */
static char	xs[3 * SMTP_LINE_LIMIT_MAX_BYTES];

/* Starts bl and k afresh and splits a line of n 'x', with no LF yet. */
static void
split_xs(struct smtp_bdat_lines *bl, struct lensink *k, size_t n)
{
	cr_assert_leq(n, sizeof(xs));
	memset(xs, 'x', sizeof(xs));
	memset(bl, 0, sizeof(*bl));
	memset(k, 0, sizeof(*k));
	smtp_bdat_split(bl, xs, n, lensink_line, k);
}

Test(smtp_bdat, split_toolong)
{
	struct smtp_bdat_lines	 bl;
	struct lensink		 k;

	split_xs(&bl, &k, sizeof(xs));
	cr_expect_eq(k.n, 0, "handed over before its end");
	smtp_bdat_split(&bl, xs, 10, lensink_line, &k);
	smtp_bdat_split(&bl, "yy\r\nok\r\n", 8, lensink_line, &k);
	smtp_bdat_finish(&bl, lensink_line, &k);
	cr_assert_eq(k.n, 2);
	cr_expect_eq(k.len[0], sizeof(bl.buf));
	cr_expect_eq(k.flags[0] & LINE_F_TOOLONG, LINE_F_TOOLONG);
	cr_expect_eq(k.len[1], 2);
	cr_expect_eq(k.flags[1], 0);
	cr_expect_eq(k.first[1], 'o');
}

/* A too-long last line with no LF is handed over, once, by finish. */
Test(smtp_bdat, finish_toolong)
{
	struct smtp_bdat_lines	 bl;
	struct lensink		 k;

	split_xs(&bl, &k, sizeof(bl.buf) + 5);
	smtp_bdat_finish(&bl, lensink_line, &k);
	smtp_bdat_finish(&bl, lensink_line, &k);
	cr_assert_eq(k.n, 1);
	cr_expect_eq(k.len[0], sizeof(bl.buf));
	cr_expect_eq(k.flags[0], LINE_F_TOOLONG);
}

/*
 * Lines at the limit, with smtp_data_scan_line deciding as for DATA
 * (RFC 5321 4.5.3.1.6): 998 octets and CRLF pass, 999 do not, a line
 * that fills the buffer exactly is no longer than one that passes it.
 */
static int
bdat_scan_flags(size_t textlen, const char *end)
{
	static char		 line[SMTP_LINE_MAX_BYTES + 8];
	struct smtp_bdat_lines	 bl;
	struct lensink		 k;
	struct smtp_data_scan	 ds;
	const char		*text;
	size_t			 tlen, i;

	cr_assert_leq(textlen, sizeof(line) - 2);
	memset(line, 'x', textlen);
	memcpy(line + textlen, end, strlen(end));
	memset(&bl, 0, sizeof(bl));
	memset(&k, 0, sizeof(k));
	smtp_data_scan_init(&ds);
	ds.bdat = 1;
	smtp_bdat_split(&bl, line, textlen + strlen(end), lensink_line, &k);
	smtp_bdat_finish(&bl, lensink_line, &k);
	for (i = 0; i < k.n; i++)
		(void)smtp_data_scan_line(&ds, line, k.len[i], k.flags[i],
		    &text, &tlen);
	return ds.flags;
}

Test(smtp_bdat, line_length_as_data)
{
	cr_expect_eq(bdat_scan_flags(SMTP_LINE_MAX_BYTES - 2, "\r\n"), 0);
	cr_expect_eq(bdat_scan_flags(SMTP_LINE_MAX_BYTES - 1, "\r\n"),
	    SMTP_DATA_F_TOOLONG);
	cr_expect_eq(bdat_scan_flags(SMTP_LINE_MAX_BYTES, "\r\n"),
	    SMTP_DATA_F_TOOLONG);
	cr_expect_eq(bdat_scan_flags(SMTP_LINE_MAX_BYTES + 1, "\r\n"),
	    SMTP_DATA_F_TOOLONG);
	cr_expect_eq(bdat_scan_flags(SMTP_LINE_MAX_BYTES - 2, ""), 0);
	cr_expect_eq(bdat_scan_flags(SMTP_LINE_MAX_BYTES - 1, ""),
	    SMTP_DATA_F_TOOLONG);
	cr_expect_eq(bdat_scan_flags(SMTP_LINE_MAX_BYTES - 2, "\n"),
	    SMTP_DATA_F_BARE);
}

/* Which refused command lines are taken for a BDAT (the session ends). */
struct isbdat_case {
	char	line[ARG_MAX];
	size_t	len;
	int	is;
};

#define L(s)	s, sizeof(s) - 1

static struct isbdat_case isbdat_cases[] = {
	{ L("BDAT 6"), 1 },
	{ L("bdat 6 last"), 1 },
	{ L("BdAt"), 1 },
	{ L("BDAT\t6"), 1 },
	{ L("  BDAT 6"), 1 },
	{ L("BDAT 6\r"), 1 },
	{ L("BDAT\0 6"), 1 },
	{ L("BDAT:6"), 1 },
	{ L("BDATX 6"), 0 },
	{ L("BDA"), 0 },
	{ L(""), 0 },
	{ L("DATA"), 0 },
	{ L("NOOP BDAT 6"), 0 },
	{ L("XBDAT 6"), 0 },
};

ParameterizedTestParameters(smtp_bdat, is_bdat)
{
	return cr_make_param_array(struct isbdat_case, isbdat_cases,
	    sizeof(isbdat_cases) / sizeof(isbdat_cases[0]));
}

ParameterizedTest(struct isbdat_case *c, smtp_bdat, is_bdat)
{
	cr_expect_eq(smtp_parse_is_bdat(c->line, c->len), c->is, "\"%s\"",
	    c->line);
}
