/*
 * imapd/imap_parse.c and imap_token.c: the IMAP command reader, fed the
 * input in chunks whose size the first byte picks (with the UTF-8 mode
 * and whether the APPEND sink refuses), then every complete command
 * checked by imap_check() against a table and its arguments read by the
 * helpers (sequence sets, mailbox names, flags, dates).  Checks that the
 * reader's memory stays within its limits and that every sink handle
 * opened is dropped in the end.
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
		(void)imap_check(fz_table, IMAP_S_AUTH, cmd, &err);
	}
	imap_reader_free(rd);
	FUZZ_ASSERT(f.opened == f.discarded);
	return 0;
}
