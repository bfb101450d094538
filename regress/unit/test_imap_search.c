/*
 * imapd's SEARCH (imapd/imap_search*.c): every key of RFC 3501 6.4.4 and
 * RFC 9051 6.4.4 parsed from a real command line (through the reader)
 * and evaluated against a five-message mailbox behind a fake accessor,
 * CHARSET and BADCHARSET, MODSEQ (RFC 7162), ESEARCH's RETURN options
 * (RFC 4731) and the answers' exact lines, and the bounds (keys, depth).
 */
#include <sys/types.h>

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "imap_unit.h"

struct fmsg {
	uint32_t	 uid;
	unsigned int	 flags;
	uint64_t	 size;
	uint64_t	 modseq;
	time_t		 internal;
	int		 itz;
	time_t		 sent;		/* 0: no Date: */
	const char	*from;
	const char	*to;
	const char	*subject;
	const char	*extra;		/* "Name: value" */
	const char	*body;
	const char	*keyword;
};

/* 1-Feb-1994 00:00:00 UTC is 760060800. */
#define D94	760060800
static const struct fmsg fbox[] = {
	{ 10, IMAP_FL_SEEN | IMAP_FL_ANSWERED, 1000, 3, D94 + 36000, 0,
	    D94 - 3600, "Smith <smith@example.com>", "alice", "Hello world",
	    NULL, "the quick brown fox", NULL },
	/* 2-Feb-1994 23:30 -0500: 3-Feb in UTC, 2-Feb in its own zone. */
	{ 20, IMAP_FL_FLAGGED, 5000, 5, D94 + 86400 + 84600 + 18000,
	    -18000, 0, "Jones", "bob", "Re: Hello", NULL, "lazy dog", NULL },
	{ 30, IMAP_FL_DELETED | IMAP_FL_RECENT, 200, 7, D94 + 2 * 86400, 0,
	    D94 + 2 * 86400, "smith", "carol", "meeting", NULL, "FOX", NULL },
	{ 40, IMAP_FL_RECENT | IMAP_FL_SEEN | IMAP_FL_DRAFT, 300000, 1,
	    952646400, 0, 952646400, "x", "y", "z", NULL, "", NULL },
	{ 50, 0, 10, 9, 0, 0, 0, "", "", "", "X-Spam: yes", "caf\xc3\xa9",
	    "$Junk" },
};
#define FBOX_N	5

/* Case-insensitive (ASCII) substring. */
static int
f_has(const char *hay, const char *needle, size_t n)
{
	size_t	 i, hl = strlen(hay);

	for (i = 0; i + n <= hl; i++)
		if (strncasecmp(hay + i, needle, n) == 0)
			return 1;
	return 0;
}

static int
f_flags(void *c, uint32_t i, unsigned int *v)
{
	(void)c;
	*v = fbox[i].flags;
	return 0;
}

static int
f_keyword(void *c, uint32_t i, const char *kw)
{
	(void)c;
	return fbox[i].keyword != NULL && strcasecmp(fbox[i].keyword, kw) ==
	    0;
}

static int
f_uid(void *c, uint32_t i, uint32_t *v)
{
	(void)c;
	*v = fbox[i].uid;
	return 0;
}

static int
f_size(void *c, uint32_t i, uint64_t *v)
{
	(void)c;
	*v = fbox[i].size;
	return 0;
}

static int
f_modseq(void *c, uint32_t i, uint64_t *v)
{
	(void)c;
	*v = fbox[i].modseq;
	return 0;
}

static int
f_internal(void *c, uint32_t i, time_t *t, int *tz)
{
	(void)c;
	*t = fbox[i].internal;
	*tz = fbox[i].itz;
	return 0;
}

static int
f_sent(void *c, uint32_t i, time_t *t, int *tz)
{
	(void)c;
	if (fbox[i].sent == 0)
		return -1;
	*t = fbox[i].sent;
	*tz = 0;
	return 0;
}

static const char *
f_field(uint32_t i, const char *field)
{
	const char	*e = fbox[i].extra;
	size_t		 n = strlen(field);

	if (strcasecmp(field, "From") == 0)
		return fbox[i].from;
	if (strcasecmp(field, "To") == 0)
		return fbox[i].to;
	if (strcasecmp(field, "Subject") == 0)
		return fbox[i].subject;
	if (e != NULL && strncasecmp(e, field, n) == 0 && e[n] == ':')
		return e + n + 2;
	return NULL;
}

static int
f_header(void *c, uint32_t i, const char *field, const char *s, size_t n)
{
	const char	*v = f_field(i, field);

	(void)c;
	return v != NULL && f_has(v, s, n);
}

static int
f_body(void *c, uint32_t i, int text, const char *s, size_t n)
{
	(void)c;
	if (text && (f_has(fbox[i].from, s, n) || f_has(fbox[i].subject, s,
	    n)))
		return 1;
	return f_has(fbox[i].body, s, n);
}

static const struct imap_msg_access f_acc = {
	f_flags, f_keyword, f_uid, f_size, f_modseq, f_internal, f_sent,
	f_header, f_body, NULL
};

/* The arguments of "a SEARCH <keys>" as the reader gives them. */
static struct imap_command *
s_cmd(struct imap_reader **rd, struct tconn *t, const char *keys)
{
	char		 line[1024];
	size_t		 used, off = 0;
	int		 ev;

	memset(t, 0, sizeof(*t));
	*rd = imap_reader_new(NULL, &t_io, NULL, (struct imap_conn *)t);
	cr_assert_not_null(*rd);
	imap_reader_set_utf8(*rd, 1);
	snprintf(line, sizeof(line), "a SEARCH %s\r\n", keys);
	do {
		ev = imap_reader_feed(*rd, line + off, strlen(line + off),
		    &used);
		off += used;
	} while (ev == IMAP_RD_CONT);
	cr_assert_eq(ev, IMAP_RD_CMD, "%s", keys);
	return imap_reader_command(*rd);
}

struct search_case {
	char	 keys[160];
	char	 result[64];	/* the matches, or the error */
	int	 no;
};

static struct search_case search_cases[] = {
	{ "ALL", "1 2 3 4 5", 0 },
	{ "SEEN", "1 4", 0 },
	{ "UNSEEN", "2 3 5", 0 },
	{ "ANSWERED", "1", 0 },
	{ "UNANSWERED DRAFT", "4", 0 },
	{ "UNDRAFT UNDELETED UNFLAGGED", "1 5", 0 },
	{ "DELETED", "3", 0 },
	{ "FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"", "2", 0 },
	{ "OR FROM smith TO alice", "1 3", 0 },
	{ "NEW", "3", 0 },
	{ "OLD", "1 2 5", 0 },
	{ "RECENT", "3 4", 0 },
	{ "LARGER 999 SMALLER 5001", "1 2", 0 },
	{ "BEFORE 2-Feb-1994", "1 5", 0 },
	{ "ON 2-Feb-1994", "2", 0 },
	{ "SINCE 3-Feb-1994", "3 4", 0 },
	{ "SENTBEFORE 1-Feb-1994", "1", 0 },
	{ "SENTON 3-Feb-1994", "3", 0 },
	{ "SENTSINCE 3-Feb-1994", "3 4", 0 },
	{ "UID 20:40", "2 3 4", 0 },
	{ "UID 45:*", "5", 0 },
	{ "2:*", "2 3 4 5", 0 },
	{ "1,3 SEEN", "1", 0 },
	{ "*", "5", 0 },
	{ "BODY fox", "1 3", 0 },
	{ "TEXT hello", "1 2", 0 },
	{ "BODY {5}\r\ncaf\xc3\xa9", "5", 0 },
	{ "CHARSET UTF-8 BODY \"caf\xc3\xa9\"", "5", 0 },
	{ "HEADER X-Spam \"\"", "5", 0 },
	{ "HEADER x-spam no", "", 0 },
	{ "SUBJECT hello CC x", "", 0 },
	{ "BCC nobody", "", 0 },
	{ "KEYWORD $junk", "5", 0 },
	{ "UNKEYWORD $Junk", "1 2 3 4", 0 },
	{ "(SEEN FLAGGED)", "", 0 },
	{ "NOT (SEEN OR FLAGGED DELETED)", "1 2 3 4 5", 0 },
	{ "NOT (UNSEEN OR FLAGGED DELETED)", "1 4 5", 0 },
	{ "OR (SEEN ANSWERED) (NOT 1:4)", "1 5", 0 },
	{ "MODSEQ 5", "2 3 5", 0 },
	{ "MODSEQ \"/flags/\\\\draft\" all 7", "3 5", 0 },
	{ "CHARSET us-ascii SUBJECT hello", "1 2", 0 },
	{ "CHARSET KOI8-R ALL",
	    "[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset", 1 },
	{ "FOO", "unknown search key", 0 },
	{ "NOT", "missing search key", 0 },
	{ "OR SEEN", "missing search key", 0 },
	{ "()", "missing search key", 0 },
	{ "BEFORE 31-Feb-1994", "expected a date (d-Mon-yyyy)", 0 },
	{ "LARGER x", "expected a number", 0 },
	{ "SMALLER", "missing search key argument", 0 },
	{ "UID 0", "invalid sequence set", 0 },
	{ "KEYWORD (a)", "expected a keyword", 0 },
	{ "HEADER From", "missing search key argument", 0 },
	{ "MODSEQ", "missing mod-sequence", 0 },
	{ "RETURN (MIN) ALL", "unknown search key", 0 },
	{ "NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT "
	    "SEEN", "search program too deep", 0 },
};

ParameterizedTestParameters(imap_search, keys)
{
	return cr_make_param_array(struct search_case, search_cases,
	    sizeof(search_cases) / sizeof(search_cases[0]));
}

ParameterizedTest(struct search_case *c, imap_search, keys)
{
	struct imap_reader	*rd;
	struct imap_command	*cmd;
	struct imap_search	*s;
	struct tconn		 t;
	const char		*err = NULL;
	char			 got[64] = "";
	uint32_t		 i;
	int			 no;

	cmd = s_cmd(&rd, &t, c->keys);
	s = imap_search_parse(cmd->args, cmd->nargs, IMAP_SPF_UTF8, &f_acc,
	    &err, &no);
	if (s == NULL) {
		cr_expect_str_eq(err, c->result, "%s", c->keys);
		cr_expect_eq(no, c->no, "%s", c->keys);
	} else {
		for (i = 0; i < FBOX_N; i++)
			if (imap_search_match(s, &f_acc, NULL, i, FBOX_N, 50,
			    NULL))
				snprintf(got + strlen(got), sizeof(got) -
				    strlen(got), "%s%u", got[0] ? " " : "",
				    (unsigned int)i + 1);
		cr_expect_str_eq(got, c->result, "%s: got %s", c->keys, got);
		imap_search_free(s);
	}
	imap_reader_free(rd);
}

/* The answers: SEARCH, SEARCH with MODSEQ, ESEARCH (RFC 4731 4). */
Test(imap_search, answers)
{
	struct imap_reader	*rd;
	struct imap_command	*cmd;
	struct imap_search	*s;
	struct imap_wbuf	 wb;
	struct tconn		 t;
	const char		*err;
	char			 out[256];
	uint32_t		 nums[FBOX_N], i;
	uint64_t		 ms, max = 0;
	size_t			 n = 0;
	int			 no;

	cmd = s_cmd(&rd, &t, "MODSEQ 5");
	s = imap_search_parse(cmd->args, cmd->nargs, 0, &f_acc, &err, &no);
	cr_assert_not_null(s);
	cr_expect(imap_search_uses_modseq(s));
	for (i = 0; i < FBOX_N; i++)
		if (imap_search_match(s, &f_acc, NULL, i, FBOX_N, 50, &ms)) {
			nums[n++] = fbox[i].uid;
			max = ms > max ? ms : max;
		}
	imap_wbuf_init(&wb, out, sizeof(out), NULL, NULL);
	imap_search_write(&wb, s, "a", 1, nums, n, max);
	cr_expect_eq(memcmp(out, "* SEARCH 20 30 50 (MODSEQ 9)\r\n", wb.len),
	    0, "%.*s", (int)wb.len, out);
	imap_search_free(s);
	imap_reader_free(rd);

	cmd = s_cmd(&rd, &t, "RETURN (MIN MAX COUNT ALL) UNSEEN");
	s = imap_search_parse(cmd->args, cmd->nargs, IMAP_SPF_ESEARCH, &f_acc,
	    &err, &no);
	cr_assert_not_null(s);
	cr_expect(imap_search_esearch(s));
	nums[0] = 2, nums[1] = 3, nums[2] = 5;
	imap_wbuf_init(&wb, out, sizeof(out), NULL, NULL);
	imap_search_write(&wb, s, "A283", 0, nums, 3, 0);
	out[wb.len] = '\0';
	cr_expect_str_eq(out, "* ESEARCH (TAG \"A283\") MIN 2 MAX 5 COUNT 3 "
	    "ALL 2:3,5\r\n");
	/* No match: COUNT 0 only. */
	imap_wbuf_init(&wb, out, sizeof(out), NULL, NULL);
	imap_search_write(&wb, s, "A284", 1, nums, 0, 0);
	out[wb.len] = '\0';
	cr_expect_str_eq(out, "* ESEARCH (TAG \"A284\") UID COUNT 0\r\n");
	imap_search_free(s);
	imap_reader_free(rd);

	/* IMAP4rev2: ESEARCH even without RETURN (RFC 9051 6.4.4). */
	cmd = s_cmd(&rd, &t, "SEEN");
	s = imap_search_parse(cmd->args, cmd->nargs, IMAP_SPF_REV2, &f_acc,
	    &err, &no);
	cr_assert_not_null(s);
	cr_expect(imap_search_esearch(s));
	imap_wbuf_init(&wb, out, sizeof(out), NULL, NULL);
	imap_search_write(&wb, s, "A1", 0, nums, 2, 0);
	out[wb.len] = '\0';
	cr_expect_str_eq(out, "* ESEARCH (TAG \"A1\") ALL 2:3\r\n");
	imap_search_free(s);
	imap_reader_free(rd);

	/* RETURN () is ALL; RETURN (SAVE) alone answers nothing. */
	cmd = s_cmd(&rd, &t, "RETURN () ALL");
	s = imap_search_parse(cmd->args, cmd->nargs, IMAP_SPF_ESEARCH, &f_acc,
	    &err, &no);
	cr_assert_not_null(s);
	cr_expect_eq(imap_search_return(s), IMAP_SRET_ALL);
	imap_search_free(s);
	imap_reader_free(rd);
	cmd = s_cmd(&rd, &t, "RETURN (SAVE) SEEN");
	s = imap_search_parse(cmd->args, cmd->nargs, IMAP_SPF_ESEARCH, &f_acc,
	    &err, &no);
	cr_assert_not_null(s);
	imap_wbuf_init(&wb, out, sizeof(out), NULL, NULL);
	imap_search_write(&wb, s, "a", 0, nums, 2, 0);
	cr_expect_eq(wb.len, 0);
	imap_search_free(s);
	imap_reader_free(rd);
}

/* "$" matches the saved result, by UID. */
Test(imap_search, saved)
{
	struct imap_reader	*rd;
	struct imap_command	*cmd;
	struct imap_search	*s;
	struct imap_seqset	 saved;
	struct tconn		 t;
	const char		*err;
	static const uint32_t	 uids[] = { 20, 50 };
	int			 no;

	cmd = s_cmd(&rd, &t, "$ UNSEEN");
	s = imap_search_parse(cmd->args, cmd->nargs, 0, &f_acc, &err, &no);
	cr_assert_not_null(s);
	cr_expect(imap_search_uses_saved(s));
	cr_assert_eq(imap_seqset_from_list(uids, 2, &saved), 0);
	imap_search_set_saved(s, &saved);
	cr_expect(!imap_search_match(s, &f_acc, NULL, 0, 5, 50, NULL));
	cr_expect(imap_search_match(s, &f_acc, NULL, 1, 5, 50, NULL));
	cr_expect(!imap_search_match(s, &f_acc, NULL, 2, 5, 50, NULL));
	cr_expect(imap_search_match(s, &f_acc, NULL, 4, 5, 50, NULL));
	imap_seqset_free(&saved);
	imap_search_free(s);
	imap_reader_free(rd);
}

/* More than IMAP_SEARCH_NODES_MAX keys are refused. */
Test(imap_search, too_many_keys)
{
	struct imap_reader	*rd;
	struct imap_command	*cmd;
	struct imap_search	*s;
	struct tconn		 t;
	const char		*err = NULL;
	char			*keys;
	int			 i, no;

	cr_assert_not_null(keys = malloc(IMAP_SEARCH_NODES_MAX * 5 + 8));
	keys[0] = '\0';
	for (i = 0; i < IMAP_SEARCH_NODES_MAX; i++)
		strcat(keys, i ? " SEEN" : "SEEN");
	memset(&t, 0, sizeof(t));
	rd = imap_reader_new(NULL, &t_io, NULL, (struct imap_conn *)&t);
	{
		char	 *line;
		size_t	  used;

		cr_assert_not_null(line = malloc(strlen(keys) + 16));
		sprintf(line, "a SEARCH %s\r\n", keys);
		cr_assert_eq(imap_reader_feed(rd, line, strlen(line), &used),
		    IMAP_RD_CMD);
		free(line);
	}
	cmd = imap_reader_command(rd);
	s = imap_search_parse(cmd->args, cmd->nargs, 0, &f_acc, &err, &no);
	cr_expect_null(s);
	cr_expect_str_eq(err, "too many search keys");
	/* One fewer (the program's own AND is a node) is fine. */
	s = imap_search_parse(cmd->args, cmd->nargs - 1, 0, &f_acc, &err, &no);
	cr_expect_not_null(s);
	imap_search_free(s);
	imap_reader_free(rd);
	free(keys);
}

/* A key the accessor cannot answer is refused at parsing. */
Test(imap_search, unsupported)
{
	struct imap_msg_access	 acc = f_acc;
	struct imap_reader	*rd;
	struct imap_command	*cmd;
	struct tconn		 t;
	const char		*err = NULL;
	int			 no;

	acc.body = NULL;
	cmd = s_cmd(&rd, &t, "SEEN BODY x");
	cr_expect_null(imap_search_parse(cmd->args, cmd->nargs, 0, &acc, &err,
	    &no));
	cr_expect_str_eq(err, "search key not supported here");
	imap_reader_free(rd);
}
