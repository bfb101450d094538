/*
 * imapd/imap_parse.c and imap_token.c: the IMAP command reader, fed the
 * input in chunks whose size the first byte picks (with the UTF-8 mode
 * and whether the APPEND sink refuses), then every complete command
 * checked by imap_check() against a table and its arguments read by the
 * helpers (sequence sets, mailbox names, flags, dates); SEARCH, SORT and
 * THREAD commands parsed and run over a three-message mailbox.  Checks
 * that the reader's memory stays within its limits, that every sink
 * handle opened is dropped in the end, and that answers are whole lines.
 */
#include "fuzz.h"

#include "../../imapd/imap_reader.h"

struct fz {
	int	 opened;
	int	 discarded;
	int	 refuse;
};

static int
fz_write(struct imap_conn *c, const void *p, size_t n)
{
	(void)c;
	FUZZ_ASSERT(n > 2 && memcmp((const char *)p + n - 2, "\r\n", 2) == 0);
	return 0;
}

static void *
fz_open(struct imap_conn *c, const struct imap_command *sofar, uint64_t size,
    int lit8, const char **err)
{
	struct fz	*f = (struct fz *)(void *)c;

	(void)lit8;
	FUZZ_ASSERT(sofar->nargs >= 1 && size <= IMAP_APPEND_MAX_BYTES);
	if (f->refuse) {
		*err = "[OVERQUOTA] no";
		return NULL;
	}
	f->opened++;
	return f;
}

static int
fz_swrite(struct imap_conn *c, void *h, const void *p, size_t n,
    const char **err)
{
	(void)c;
	(void)h;
	(void)p;
	(void)n;
	(void)err;
	return 0;
}

static void
fz_discard(struct imap_conn *c, void *h)
{
	(void)h;
	((struct fz *)(void *)c)->discarded++;
}

static int
fz_handler(struct imap_conn *c, const struct imap_command *cmd)
{
	(void)c;
	(void)cmd;
	return 0;
}

/* A three-message mailbox behind the accessor. */
static int
fz_u(void *c, uint32_t i, unsigned int *v)
{
	(void)c;
	*v = i * 5;
	return 0;
}

static int
fz_kw(void *c, uint32_t i, const char *kw)
{
	(void)c;
	return i == 1 && kw[0] == '$';
}

static int
fz_uid(void *c, uint32_t i, uint32_t *v)
{
	(void)c;
	*v = 10 * (i + 1);
	return 0;
}

static int
fz_u64(void *c, uint32_t i, uint64_t *v)
{
	(void)c;
	*v = 1000 * i + 1;
	return 0;
}

static int
fz_date(void *c, uint32_t i, time_t *t, int *tz)
{
	(void)c;
	*t = (time_t)(760060800 + 86400 * i);
	*tz = -3600;
	return i == 2 ? -1 : 0;
}

static int
fz_hdr(void *c, uint32_t i, const char *f, const char *s, size_t n)
{
	(void)c;
	FUZZ_ASSERT(f != NULL && s != NULL && s[n] == '\0');
	return (int)(i + n) % 2;
}

static int
fz_body(void *c, uint32_t i, int text, const char *s, size_t n)
{
	(void)c;
	FUZZ_ASSERT(s[n] == '\0');
	return (int)(i + n + (unsigned int)text) % 2;
}

static int
fz_string(void *c, uint32_t i, enum imap_key k, char *buf, size_t size)
{
	static const char *const v[3][3] = {
		{ "a", "<1>", "" }, { "A", "<2>", "<1>" }, { "b", "<3>", "<2> <1>" },
	};

	(void)c;
	if (k == IMAP_KEY_MESSAGE_ID)
		return snprintf(buf, size, "%s", v[i][1]);
	if (k == IMAP_KEY_REFERENCES)
		return snprintf(buf, size, "%s", v[i][2]);
	return snprintf(buf, size, "%s", v[i][0]);
}

static const struct imap_msg_access fz_acc = {
	fz_u, fz_kw, fz_uid, fz_u64, fz_u64, fz_date, fz_date, fz_hdr,
	fz_body, fz_string
};

/* The last two bytes an answer wrote, across flushes. */
static char	fz_tail[2];

static int
fz_flush(void *ctx, const char *p, size_t n)
{
	(void)ctx;
	FUZZ_ASSERT(n > 0);
	if (n == 1) {
		fz_tail[0] = fz_tail[1];
		fz_tail[1] = p[0];
	} else
		memcpy(fz_tail, p + n - 2, 2);
	return 0;
}

/* SEARCH, SORT and THREAD run over the mailbox; answers end in CRLF. */
static void
fz_search(const struct imap_command *cmd)
{
	struct imap_search	*s;
	struct imap_sort_prog	 p;
	struct imap_wbuf	 wb;
	enum imap_thread_alg	 alg;
	const char		*err;
	char			 mem[64];
	uint32_t		 idx[3], n = 0, i;
	uint64_t		 ms = 0;
	int			 no, rest = 0, kind = 0;

	if (strcmp(cmd->name, "SORT") == 0) {
		kind = 1;
		if (imap_sort_parse(cmd->args, cmd->nargs, &p, &rest, &err,
		    &no) == -1)
			return;
	} else if (strcmp(cmd->name, "THREAD") == 0) {
		kind = 2;
		if (imap_thread_parse(cmd->args, cmd->nargs, &alg, &rest, &err,
		    &no) == -1)
			return;
	} else if (strcmp(cmd->name, "SEARCH") != 0)
		return;
	s = imap_search_parse(cmd->args + rest, cmd->nargs - rest,
	    IMAP_SPF_ESEARCH, &fz_acc, &err, &no);
	if (s == NULL) {
		FUZZ_ASSERT(err != NULL);
		return;
	}
	for (i = 0; i < 3; i++)
		if (imap_search_match(s, &fz_acc, NULL, i, 3, 30, &ms))
			idx[n++] = i;
	imap_wbuf_init(&wb, mem, sizeof(mem), fz_flush, NULL);
	memset(fz_tail, 0, sizeof(fz_tail));
	if (kind == 1)
		FUZZ_ASSERT(imap_sort(&p, &fz_acc, NULL, idx, n) == 0);
	else if (kind == 2)
		FUZZ_ASSERT(imap_thread(alg, &fz_acc, NULL, idx, n, 1, &wb) ==
		    0);
	else
		FUZZ_ASSERT(imap_search_write(&wb, s, cmd->tag, 0, idx, n, ms)
		    == 0);
	FUZZ_ASSERT(imap_wbuf_flush(&wb) == 0);
	FUZZ_ASSERT(kind == 1 || memcmp(fz_tail, "\r\n", 2) == 0 ||
	    (kind == 0 && fz_tail[1] == '\0'));
	imap_search_free(s);
}

static const struct imap_io fz_io = { fz_write, NULL };
static const struct imap_sink fz_sink = { fz_open, fz_swrite, NULL,
    fz_discard };
static const struct imap_cmd fz_table[] = {
	{ "APPEND", IMAP_S_AUTH, IMAP_CMDF_STREAM, "m*", NULL, fz_handler },
	{ "FETCH", IMAP_S_AUTH, 0, "s*", "s*", fz_handler },
	{ "LOGIN", IMAP_S_AUTH, 0, "aa", NULL, fz_handler },
	{ "STATUS", IMAP_S_AUTH, 0, "ml", NULL, fz_handler },
	{ NULL, 0, 0, NULL, NULL, NULL },
};

/* Every helper over every argument: they must refuse, never crash. */
static void
fz_args(const struct imap_arg *a, int n, int depth)
{
	struct imap_seqset	 set;
	struct imap_flags	 fl;
	const char		*err;
	char			 name[IMAP_MAILBOX_MAX_BYTES + 1];
	int64_t			 days;
	time_t			 t;
	int			 i, tz;

	FUZZ_ASSERT(depth <= IMAP_NEST_MAX + 1);
	(void)imap_arg_flags(a, n, &fl, &err);
	for (i = 0; i < n; i++) {
		if (a[i].type == IMAP_ARG_LIST ||
		    a[i].type == IMAP_ARG_SECTION) {
			fz_args(a[i].list, a[i].nlist, depth + 1);
			continue;
		}
		FUZZ_ASSERT(a[i].str[a[i].len] == '\0');
		if (imap_seqset_parse(a[i].str, a[i].len, &set, &err) == 0) {
			imap_seqset_resolve(&set, 1000);
			imap_seqset_free(&set);
		}
		if (imap_arg_mailbox(&a[i], depth & 1, name, sizeof(name),
		    &err) == 0)
			FUZZ_ASSERT(strlen(name) <= IMAP_MAILBOX_MAX_BYTES);
		(void)imap_arg_date(&a[i], &days, &err);
		(void)imap_arg_datetime(&a[i], &t, &tz, &err);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz		 f = { 0, 0, 0 };
	struct imap_reader	*rd;
	struct imap_command	*cmd;
	const char		*err;
	unsigned int		 sel;
	size_t			 off = 0, n, used, chunk;
	enum imap_rd_event	 ev;

	sel = fuzz_byte(&data, &size);
	chunk = 1 + (sel >> 2) * 7;
	f.refuse = (sel & 2) != 0;
	rd = imap_reader_new(fz_table, &fz_io, &fz_sink,
	    (struct imap_conn *)(void *)&f);
	FUZZ_ASSERT(rd != NULL);
	imap_reader_set_utf8(rd, sel & 1);
	while (off < size) {
		n = size - off < chunk ? size - off : chunk;
		ev = imap_reader_feed(rd, (const char *)data + off, n, &used);
		FUZZ_ASSERT(used <= n);
		off += used;
		FUZZ_ASSERT(rd->acap <= IMAP_CMD_MAX_BYTES);
		FUZZ_ASSERT(rd->ntok <= IMAP_ARGS_MAX);
		if (ev == IMAP_RD_FATAL)
			break;
		if (ev != IMAP_RD_CMD)
			continue;
		cmd = imap_reader_command(rd);
		FUZZ_ASSERT(cmd != NULL && cmd->tag[0] != '\0');
		fz_args(cmd->args, cmd->nargs, 0);
		fz_search(cmd);
		(void)imap_check(fz_table, IMAP_S_AUTH, cmd, &err);
	}
	imap_reader_free(rd);
	FUZZ_ASSERT(f.opened == f.discarded);
	return 0;
}
