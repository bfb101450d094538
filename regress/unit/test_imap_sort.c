/*
 * imapd's SORT and THREAD (imapd/imap_sort.c, imap_thread*.c): the
 * criteria and algorithms parsed, SORT's order on every criterion with
 * REVERSE and the sequence-number tie-break (RFC 5256 3), THREAD
 * ORDEREDSUBJECT and REFERENCES answers on small mailboxes (dummies,
 * subject gathering, loops, duplicate ids), and both at 100,000
 * messages (a random mailbox and one reply chain 100,000 deep).
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "imap_unit.h"

struct smsg {
	const char	*subj;		/* base subject */
	int		 reply;
	const char	*from;
	const char	*to;
	const char	*cc;
	const char	*dfrom;
	const char	*id;
	const char	*refs;
	time_t		 sent;		/* 0: none */
	time_t		 arrival;
	uint64_t	 size;
};

/* The mailbox the accessor reads: a table, or a generated one. */
static const struct smsg	*sbox;
static char			 (*gen_subj)[16];
static uint32_t			 gen_n;
static int			 gen_chain;

static int
s_string(void *c, uint32_t i, enum imap_key k, char *buf, size_t size)
{
	const char	*v = "";

	(void)c;
	if (gen_n > 0) {
		if (k == IMAP_KEY_SUBJECT_BASE)
			v = gen_subj[i];
		else if (k == IMAP_KEY_MESSAGE_ID)
			return snprintf(buf, size, "<%u@x>", (unsigned int)i);
		else if (k == IMAP_KEY_REFERENCES && gen_chain && i > 0)
			return snprintf(buf, size, "<%u@x>",
			    (unsigned int)i - 1);
		return snprintf(buf, size, "%s", v);
	}
	switch (k) {
	case IMAP_KEY_SUBJECT_BASE:
		v = sbox[i].subj;
		break;
	case IMAP_KEY_SUBJECT_REPLY:
		v = sbox[i].reply ? "1" : "";
		break;
	case IMAP_KEY_FROM:
		v = sbox[i].from;
		break;
	case IMAP_KEY_TO:
		v = sbox[i].to;
		break;
	case IMAP_KEY_CC:
		v = sbox[i].cc;
		break;
	case IMAP_KEY_DISPLAYFROM:
		v = sbox[i].dfrom;
		break;
	case IMAP_KEY_MESSAGE_ID:
		v = sbox[i].id;
		break;
	case IMAP_KEY_REFERENCES:
		v = sbox[i].refs;
		break;
	default:
		break;
	}
	return snprintf(buf, size, "%s", v != NULL ? v : "");
}

static int
s_sent(void *c, uint32_t i, time_t *t, int *tz)
{
	(void)c;
	*tz = 0;
	if (gen_n > 0) {
		*t = (time_t)((i * 7919u) % 100003u);
		return 0;
	}
	if (sbox[i].sent == 0)
		return -1;
	*t = sbox[i].sent;
	return 0;
}

static int
s_internal(void *c, uint32_t i, time_t *t, int *tz)
{
	(void)c;
	*tz = 0;
	*t = gen_n > 0 ? (time_t)i : sbox[i].arrival;
	return 0;
}

static int
s_size(void *c, uint32_t i, uint64_t *v)
{
	(void)c;
	*v = gen_n > 0 ? i % 1000 : sbox[i].size;
	return 0;
}

static int
s_uid(void *c, uint32_t i, uint32_t *v)
{
	(void)c;
	*v = 100 + i;
	return 0;
}

static const struct imap_msg_access s_acc = {
	NULL, NULL, s_uid, s_size, NULL, s_internal, s_sent, NULL, NULL,
	s_string
};

static const struct smsg sort_box[] = {
	{ "banana", 0, "zed", "b", "", "Zed", "<1>", "", 300, 5, 30 },
	{ "Apple", 0, "amy", "c", "x", "amy", "<2>", "", 0, 4, 10 },
	{ "apple", 0, "bob", "a", "", "Bob", "<3>", "", 100, 3, 20 },
	{ "cherry", 0, "amy", "", "y", "Amy", "<4>", "", 200, 2, 10 },
};

/* A SORT program from "(criteria) charset keys" through the reader. */
static int
s_sort(const char *crit, char *out, size_t size, const char **err, int *no)
{
	struct imap_sort_prog	 p;
	struct imap_reader	*rd;
	struct imap_command	*cmd;
	struct tconn		 t;
	char			 line[256];
	uint32_t		 idx[4] = { 0, 1, 2, 3 };
	size_t			 used, i;
	int			 rest, r;

	memset(&t, 0, sizeof(t));
	rd = imap_reader_new(NULL, &t_io, NULL, (struct imap_conn *)&t);
	snprintf(line, sizeof(line), "a SORT %s\r\n", crit);
	cr_assert_eq(imap_reader_feed(rd, line, strlen(line), &used),
	    IMAP_RD_CMD);
	cmd = imap_reader_command(rd);
	r = imap_sort_parse(cmd->args, cmd->nargs, &p, &rest, err, no);
	if (r == 0) {
		cr_expect_eq(rest, 2);
		sbox = sort_box;
		cr_assert_eq(imap_sort(&p, &s_acc, NULL, idx, 4), 0);
		out[0] = '\0';
		for (i = 0; i < 4; i++)
			snprintf(out + strlen(out), size - strlen(out), "%s%u",
			    i ? " " : "", (unsigned int)idx[i] + 1);
	}
	imap_reader_free(rd);
	return r;
}

Test(imap_sort, criteria)
{
	static const char *const cases[][2] = {
		{ "(SUBJECT) UTF-8 ALL", "2 3 1 4" },
		{ "(REVERSE SUBJECT) UTF-8 ALL", "4 1 2 3" },
		{ "(SIZE) US-ASCII ALL", "2 4 3 1" },
		{ "(REVERSE SIZE) UTF-8 ALL", "1 3 2 4" },
		{ "(ARRIVAL) UTF-8 ALL", "4 3 2 1" },
		/* DATE: message 2 has none: its arrival (4) is used. */
		{ "(DATE) UTF-8 ALL", "2 3 4 1" },
		{ "(FROM REVERSE DATE) UTF-8 ALL", "4 2 3 1" },
		{ "(TO) UTF-8 ALL", "4 3 1 2" },
		{ "(CC SIZE) UTF-8 ALL", "3 1 2 4" },
		{ "(DISPLAYFROM) UTF-8 ALL", "2 4 3 1" },
	};
	const char	*err = NULL;
	char		 out[64];
	size_t		 i;
	int		 no;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(s_sort(cases[i][0], out, sizeof(out), &err, &no),
		    0, "%s: %s", cases[i][0], err);
		cr_expect_str_eq(out, cases[i][1], "%s: got %s", cases[i][0],
		    out);
	}
}

Test(imap_sort, bad_criteria)
{
	static const char *const cases[][2] = {
		{ "(REVERSE) UTF-8 ALL", "REVERSE needs a sort key" },
		{ "(FOO) UTF-8 ALL", "unknown sort key" },
		{ "() UTF-8 ALL", "expected (sort criteria) charset "
		    "search-keys" },
		{ "(DATE) UTF-8", "expected (sort criteria) charset "
		    "search-keys" },
		{ "DATE UTF-8 ALL", "expected (sort criteria) charset "
		    "search-keys" },
		{ "(DATE) KOI8-R ALL",
		    "[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset" },
	};
	const char	*err = NULL;
	char		 out[64];
	size_t		 i;
	int		 no;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_expect_eq(s_sort(cases[i][0], out, sizeof(out), &err, &no),
		    -1, "%s", cases[i][0]);
		cr_expect_str_eq(err, cases[i][1], "%s", cases[i][0]);
		cr_expect_eq(no, i == 5, "%s", cases[i][0]);
	}
}

/* THREAD's answer for a table mailbox; uid picks UIDs. */
static void
s_thread(const struct smsg *box, size_t n, enum imap_thread_alg alg,
    int uid, char *out, size_t size)
{
	struct imap_wbuf	 wb;
	uint32_t		 idx[16];
	size_t			 i;

	sbox = box;
	gen_n = 0;
	for (i = 0; i < n; i++)
		idx[i] = (uint32_t)i;
	imap_wbuf_init(&wb, out, size - 1, NULL, NULL);
	cr_assert_eq(imap_thread(alg, &s_acc, NULL, idx, n, uid, &wb), 0);
	out[wb.len] = '\0';
}

Test(imap_thread, orderedsubject)
{
	static const struct smsg box[] = {
		{ "a", 0, "", "", "", "", "", "", 3, 0, 0 },
		{ "b", 0, "", "", "", "", "", "", 1, 0, 0 },
		{ "A", 1, "", "", "", "", "", "", 2, 0, 0 },
		{ "c", 0, "", "", "", "", "", "", 4, 0, 0 },
		{ "a", 1, "", "", "", "", "", "", 5, 0, 0 },
		{ "d", 0, "", "", "", "", "", "", 6, 0, 0 },
		{ "d", 0, "", "", "", "", "", "", 7, 0, 0 },
	};
	char	 out[256];

	s_thread(box, 7, IMAP_THREAD_ORDEREDSUBJECT, 0, out, sizeof(out));
	cr_expect_str_eq(out, "* THREAD (2)(3 (1)(5))(4)(6 7)\r\n");
	s_thread(box, 7, IMAP_THREAD_ORDEREDSUBJECT, 1, out, sizeof(out));
	cr_expect_str_eq(out,
	    "* THREAD (101)(102 (100)(104))(103)(105 106)\r\n");
	s_thread(box, 0, IMAP_THREAD_ORDEREDSUBJECT, 0, out, sizeof(out));
	cr_expect_str_eq(out, "* THREAD\r\n");
}

Test(imap_thread, references)
{
	static const struct smsg box[] = {
		{ "hello", 0, "", "", "", "", "<1>", "", 1, 0, 0 },
		{ "hello", 1, "", "", "", "", "<2>", "<1>", 2, 0, 0 },
		{ "hello", 1, "", "", "", "", "<3>", "<1> <2>", 3, 0, 0 },
		{ "hello", 1, "", "", "", "", "<4>", "<1>", 4, 0, 0 },
		{ "other", 0, "", "", "", "", "<5>", "<gone>", 5, 0, 0 },
		{ "other", 1, "", "", "", "", "<6>", "<gone>", 6, 0, 0 },
		{ "hello", 0, "", "", "", "", "<7>", "", 7, 0, 0 },
		/* A reply whose parent is missing joins by subject. */
		{ "solo", 0, "", "", "", "", "<8>", "", 8, 0, 0 },
		{ "solo", 1, "", "", "", "", "<9>", "<lost>", 9, 0, 0 },
	};
	char	 out[256];

	s_thread(box, 9, IMAP_THREAD_REFERENCES, 0, out, sizeof(out));
	cr_expect_str_eq(out, "* THREAD ((1 (2 3)(4))(7))((5)(6))(8 9)\r\n");
}

Test(imap_thread, loops_and_duplicates)
{
	static const struct smsg box[] = {
		{ "x", 0, "", "", "", "", "<a>", "<b>", 1, 0, 0 },
		{ "y", 0, "", "", "", "", "<b>", "<a>", 2, 0, 0 },
		{ "z", 0, "", "", "", "", "<c>", "<c>", 3, 0, 0 },
		{ "w", 0, "", "", "", "", "<d>", "", 4, 0, 0 },
		{ "v", 0, "", "", "", "", "<d>", "<d>", 5, 0, 0 },
		{ "u", 0, "", "", "", "", "", "<e> <f> <e>", 6, 0, 0 },
	};
	char	 out[256];

	s_thread(box, 6, IMAP_THREAD_REFERENCES, 0, out, sizeof(out));
	/* Every message once; the links that would loop (b under a after
	 * a under b, c under c) are not made. */
	cr_expect_str_eq(out, "* THREAD (2 1)(3)(4 5)(6)\r\n");
}

/* Whether an answer names every message 1..n once, parentheses even. */
static void
s_check_all(const char *out, uint32_t n)
{
	unsigned char	*seen;
	const char	*p;
	char		*end;
	long		 depth = 0;
	uint32_t	 v, count = 0;

	cr_assert_not_null(seen = calloc(n + 1, 1));
	for (p = out; *p != '\0'; p++) {
		if (*p == '(')
			depth++;
		else if (*p == ')')
			cr_assert_geq(--depth, 0);
		else if (*p >= '0' && *p <= '9') {
			v = (uint32_t)strtoul(p, &end, 10);
			p = end - 1;
			cr_assert(v >= 1 && v <= n && !seen[v], "%u", v);
			seen[v] = 1;
			count++;
		}
	}
	cr_expect_eq(depth, 0);
	cr_expect_eq(count, n);
	free(seen);
}

static int
s_grow(void *ctx, const char *p, size_t n)
{
	char	**buf = ctx;
	size_t	  len = strlen(*buf);
	char	 *q;

	if ((q = realloc(*buf, len + n + 1)) == NULL)
		return -1;
	memcpy(q + len, p, n);
	q[len + n] = '\0';
	*buf = q;
	return 0;
}

/* 100,000 messages: SORT, THREAD both ways, and a chain that deep. */
Test(imap_thread, scale, .timeout = 60)
{
	struct imap_sort_prog	 p = { { { IMAP_SORT_SUBJECT, 0 },
				    { IMAP_SORT_DATE, 1 } }, 2 };
	struct imap_wbuf	 wb;
	char			 mem[4096], *out;
	uint32_t		*idx, i, n = 100000, seed = 7;
	clock_t			 t0;
	int			 alg;

	cr_assert_not_null(idx = calloc(n, sizeof(*idx)));
	cr_assert_not_null(gen_subj = calloc(n, sizeof(*gen_subj)));
	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		snprintf(gen_subj[i], sizeof(gen_subj[i]), "s%u",
		    (seed >> 8) % 5000);
		idx[i] = i;
	}
	gen_n = n;
	t0 = clock();
	cr_assert_eq(imap_sort(&p, &s_acc, NULL, idx, n), 0);
	for (i = 1; i < n; i++)
		cr_assert_leq(strcmp(gen_subj[idx[i - 1]], gen_subj[idx[i]]),
		    0);
	for (alg = 0; alg < 4; alg++) {
		gen_chain = alg >= 2;
		for (i = 0; i < n; i++)
			idx[i] = i;
		cr_assert_not_null(out = calloc(1, 1));
		imap_wbuf_init(&wb, mem, sizeof(mem), s_grow, &out);
		cr_assert_eq(imap_thread(alg & 1 ? IMAP_THREAD_REFERENCES :
		    IMAP_THREAD_ORDEREDSUBJECT, &s_acc, NULL, idx, n, 0, &wb),
		    0);
		cr_assert_eq(imap_wbuf_flush(&wb), 0);
		s_check_all(out + 9, n);
		if (alg == 3)	/* one thread: the chain */
			cr_expect_eq(strncmp(out, "* THREAD (1 2 3 4 ", 18), 0);
		free(out);
	}
	cr_expect_lt((double)(clock() - t0) / CLOCKS_PER_SEC, 20.0);
	gen_n = 0;
	gen_chain = 0;
	free(gen_subj);
	free(idx);
}
