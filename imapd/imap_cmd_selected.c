/*
 * The commands of the selected state (RFC 3501 6.4) but FETCH
 * (imap_fetch.c): CHECK, CLOSE, UNSELECT (RFC 3691), EXPUNGE and UID
 * EXPUNGE (RFC 4315), SEARCH (and ESEARCH, RFC 4731), SORT and THREAD
 * (RFC 5256), STORE (with UNCHANGEDSINCE, RFC 7162), COPY with COPYUID
 * and MOVE (RFC 6851).  Runs in the mailbox process: the mail user,
 * chrooted in the mail home, seccomp SANDBOX_IMAP_MAILBOX.
 */
#include <sys/types.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "imap_session.h"
#include "imap_store.h"

#define BADRET(r)	((r) == -2 ? -1 : 0)

int
cmd_check(struct imap_conn *c, const struct imap_command *cmd)
{
	imap_mbox_flush(SESS(c)->mbox);
	sess_ok(SESS(c), cmd->tag, "CHECK completed");
	return 0;
}

/* RFC 3501 6.4.2: expunges silently, unless read-only. */
int
cmd_close(struct imap_conn *c, const struct imap_command *cmd)
{
	struct imap_sess	*s = SESS(c);
	struct imap_sync	 sy;

	if (!s->readonly && imap_mbox_expunge(s->mbox, NULL, 0, &sy) ==
	    IMAP_ST_OK)
		imap_sync_free(&sy);
	sess_unselect(s);
	sess_ok(s, cmd->tag, "CLOSE completed");
	return 0;
}

int
cmd_unselect(struct imap_conn *c, const struct imap_command *cmd)
{
	sess_unselect(SESS(c));
	sess_ok(SESS(c), cmd->tag, "UNSELECT completed");
	return 0;
}

/* The UIDs of view indexes, for UID EXPUNGE. */
static uint32_t *
sel_uids(struct imap_sess *s, const uint32_t *idx, size_t n)
{
	uint32_t	*u;
	size_t		 i;

	if ((u = calloc(n + 1, sizeof(*u))) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		u[i] = imap_mbox_msg(s->mbox, idx[i])->uid;
	return u;
}

int
cmd_expunge(struct imap_conn *c, const struct imap_command *cmd)
{
	struct imap_sess	*s = SESS(c);
	struct imap_sync	 sy;
	struct imap_mbox_info	 info;
	uint32_t		*idx = NULL, *uids = NULL;
	size_t			 n = 0;
	int			 r, st;

	if (s->readonly) {
		sess_no(s, cmd->tag, "[READ-ONLY] mailbox is read-only");
		return 0;
	}
	if (cmd->uid) {
		if ((r = sess_msgset(s, cmd, &cmd->args[0], 1, &idx, &n)) < 0)
			return BADRET(r);
		uids = sel_uids(s, idx, n);
		free(idx);
		if (uids == NULL)
			return -1;
	}
	st = imap_mbox_expunge(s->mbox, cmd->uid ? uids : NULL, n, &sy);
	free(uids);
	if (st != IMAP_ST_OK) {
		sess_no_store(s, cmd->tag, st, 0);
		return 0;
	}
	sess_write_sync(s, &sy);
	imap_sync_free(&sy);
	if (s->enabled & SESS_E_CONDSTORE) {
		/* RFC 7162 3.2.10: the new HIGHESTMODSEQ with the OK. */
		imap_mbox_info(s->mbox, &info);
		sess_ok(s, cmd->tag, "[HIGHESTMODSEQ %" PRIu64 "] EXPUNGE "
		    "completed", info.highestmodseq);
	} else
		sess_ok(s, cmd->tag, "EXPUNGE completed");
	return 0;
}

/* ---- SEARCH, SORT, THREAD ---- */

/*
 * Runs a search program over the view: the matching indexes,
 * ascending, and the highest modseq among them.  -1 out of memory.
 */
static int
sel_match(struct imap_sess *s, struct imap_search *prog, uint32_t **out,
    size_t *nout, uint64_t *maxmod)
{
	const struct imap_msg	*last;
	uint32_t		 count, maxuid, i, *v;
	uint64_t		 mod;
	size_t			 n = 0;

	count = imap_mbox_count(s->mbox);
	last = count > 0 ? imap_mbox_msg(s->mbox, count - 1) : NULL;
	maxuid = last != NULL ? last->uid : 0;
	*maxmod = 0;
	if ((v = calloc((size_t)count + 1, sizeof(*v))) == NULL)
		return -1;
	if (imap_search_uses_saved(prog))
		imap_search_set_saved(prog, NULL);
	for (i = 0; i < count; i++) {
		mod = 0;
		if (imap_search_match(prog, &imap_sess_access, s, i, count,
		    maxuid, &mod) != 1)
			continue;
		v[n++] = i;
		if (mod > *maxmod)
			*maxmod = mod;
	}
	*out = v;
	*nout = n;
	return 0;
}

/* Parses search keys; NULL once answered (BAD or NO). */
static struct imap_search *
sel_search_parse(struct imap_sess *s, const struct imap_command *cmd,
    int first, int flags, int *ret)
{
	struct imap_search	*prog;
	const char		*err = "bad search";
	int			 no = 0;

	*ret = 0;
	prog = imap_search_parse(cmd->args + first, cmd->nargs - first, flags,
	    &imap_sess_access, &err, &no);
	if (prog != NULL)
		return prog;
	if (no)
		sess_no(s, cmd->tag, "%s", err);
	else
		*ret = sess_bad(s, cmd->tag, "%s", err);
	return NULL;
}

static void
sel_to_numbers(struct imap_sess *s, int uid, uint32_t *v, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		v[i] = uid ? imap_mbox_msg(s->mbox, v[i])->uid : v[i] + 1;
}

int
cmd_search(struct imap_conn *c, const struct imap_command *cmd)
{
	struct imap_sess	*s = SESS(c);
	struct imap_search	*prog;
	uint32_t		*v;
	uint64_t		 maxmod;
	size_t			 n;
	int			 ret;

	if ((prog = sel_search_parse(s, cmd, 0, IMAP_SPF_ESEARCH,
	    &ret)) == NULL)
		return ret;
	if (imap_search_uses_modseq(prog))
		s->enabled |= SESS_E_CONDSTORE;
	if (sel_match(s, prog, &v, &n, &maxmod) == -1) {
		imap_search_free(prog);
		sess_no(s, cmd->tag, "[SERVERBUG] out of memory");
		return 0;
	}
	sel_to_numbers(s, cmd->uid, v, n);
	(void)imap_search_write(&s->wb, prog, cmd->tag, cmd->uid, v, n,
	    maxmod);
	free(v);
	imap_search_free(prog);
	s->no_expunge = !cmd->uid;
	sess_ok(s, cmd->tag, "SEARCH completed");
	s->no_expunge = 0;
	return 0;
}

int
cmd_sort(struct imap_conn *c, const struct imap_command *cmd)
{
	struct imap_sess	*s = SESS(c);
	struct imap_sort_prog	 sp;
	struct imap_search	*prog;
	const char		*err = "bad SORT";
	uint32_t		*v;
	uint64_t		 maxmod;
	size_t			 n, i;
	int			 rest, no = 0, ret;

	if (imap_sort_parse(cmd->args, cmd->nargs, &sp, &rest, &err,
	    &no) == -1) {
		if (no) {
			sess_no(s, cmd->tag, "%s", err);
			return 0;
		}
		return sess_bad(s, cmd->tag, "%s", err);
	}
	if ((prog = sel_search_parse(s, cmd, rest, 0, &ret)) == NULL)
		return ret;
	if (sel_match(s, prog, &v, &n, &maxmod) == -1 ||
	    imap_sort(&sp, &imap_sess_access, s, v, n) == -1) {
		imap_search_free(prog);
		sess_no(s, cmd->tag, "[LIMIT] cannot sort");
		return 0;
	}
	imap_search_free(prog);
	sel_to_numbers(s, cmd->uid, v, n);
	sess_putf(s, "* SORT");
	for (i = 0; i < n; i++)
		sess_putf(s, " %" PRIu32, v[i]);
	sess_putf(s, "\r\n");
	free(v);
	s->no_expunge = !cmd->uid;
	sess_ok(s, cmd->tag, "SORT completed");
	s->no_expunge = 0;
	return 0;
}

int
cmd_thread(struct imap_conn *c, const struct imap_command *cmd)
{
	struct imap_sess	*s = SESS(c);
	enum imap_thread_alg	 alg;
	struct imap_search	*prog;
	const char		*err = "bad THREAD";
	uint32_t		*v;
	uint64_t		 maxmod;
	size_t			 n;
	int			 rest, no = 0, ret, r;

	if (imap_thread_parse(cmd->args, cmd->nargs, &alg, &rest, &err,
	    &no) == -1) {
		if (no) {
			sess_no(s, cmd->tag, "%s", err);
			return 0;
		}
		return sess_bad(s, cmd->tag, "%s", err);
	}
	if ((prog = sel_search_parse(s, cmd, rest, 0, &ret)) == NULL)
		return ret;
	r = sel_match(s, prog, &v, &n, &maxmod);
	imap_search_free(prog);
	if (r == -1 || imap_thread(alg, &imap_sess_access, s, v, n,
	    cmd->uid, &s->wb) == -1) {
		if (r == 0)
			free(v);
		sess_no(s, cmd->tag, "[LIMIT] cannot thread");
		return 0;
	}
	free(v);
	s->no_expunge = !cmd->uid;
	sess_ok(s, cmd->tag, "THREAD completed");
	s->no_expunge = 0;
	return 0;
}

/* ---- STORE ---- */

/* STORE set [(UNCHANGEDSINCE n)] item flags: the item's position. */
static int
store_args(struct imap_sess *s, const struct imap_command *cmd,
    uint64_t *since, enum imap_flag_op *op, int *silent)
{
	const struct imap_arg	*a;
	const char		*w, *err = "bad UNCHANGEDSINCE";
	int			 i = 1;

	*since = 0;
	if (cmd->nargs > 1 && cmd->args[1].type == IMAP_ARG_LIST) {
		a = &cmd->args[1];
		if (a->nlist != 2 ||
		    !imap_arg_is_atom(&a->list[0], "UNCHANGEDSINCE") ||
		    imap_parse_number64(a->list[1].str, a->list[1].len,
		    INT64_MAX, since) == -1)
			return sess_bad(s, cmd->tag, "%s", err) == -1 ? -2 : -1;
		s->enabled |= SESS_E_CONDSTORE;
		i = 2;
	}
	if (i + 1 >= cmd->nargs + 0 || cmd->args[i].type != IMAP_ARG_ATOM)
		return sess_bad(s, cmd->tag, "STORE set item flags") == -1 ?
		    -2 : -1;
	w = cmd->args[i].str;
	*op = *w == '+' ? IMAP_FLAGS_ADD : *w == '-' ? IMAP_FLAGS_REMOVE :
	    IMAP_FLAGS_SET;
	if (*w == '+' || *w == '-')
		w++;
	*silent = strcasecmp(w, "FLAGS.SILENT") == 0;
	if (!*silent && strcasecmp(w, "FLAGS") != 0)
		return sess_bad(s, cmd->tag, "unknown STORE item") == -1 ?
		    -2 : -1;
	return i;
}

static void
store_answer(struct imap_sess *s, const struct imap_command *cmd,
    const uint32_t *idx, size_t n, int silent, struct imap_store_res *res)
{
	const struct imap_msg	*m;
	size_t			 i, k = 0;

	for (i = 0; i < n; i++) {
		m = imap_mbox_msg(s->mbox, idx[i]);
		if (m == NULL || (m->state & IMAP_MS_EXPUNGED))
			continue;
		while (k < res->nchanged && res->changed[k] < idx[i])
			k++;
		if (!silent)
			sess_write_flags(s, idx[i], cmd->uid);
		else if ((s->enabled & SESS_E_CONDSTORE) &&
		    k < res->nchanged && res->changed[k] == idx[i]) {
			/* RFC 7162 3.1.3: the new MODSEQ, even SILENT. */
			sess_putf(s, "* %" PRIu32 " FETCH (", idx[i] + 1);
			if (cmd->uid)
				sess_putf(s, "UID %" PRIu32 " ", m->uid);
			sess_putf(s, "MODSEQ (%" PRIu64 "))\r\n", m->modseq);
		}
	}
}

static void
store_modified(struct imap_sess *s, const struct imap_command *cmd,
    struct imap_store_res *res)
{
	size_t	 i;

	sess_putf(s, "%s OK [MODIFIED ", cmd->tag);
	sel_to_numbers(s, cmd->uid, res->failed, res->nfailed);
	for (i = 0; i < res->nfailed; i++)
		sess_putf(s, "%s%" PRIu32, i ? "," : "", res->failed[i]);
	sess_putf(s, "] Conditional STORE failed\r\n");
	sess_flush(s);
}

int
cmd_store(struct imap_conn *c, const struct imap_command *cmd)
{
	struct imap_sess	*s = SESS(c);
	struct imap_store_res	 res;
	struct imap_flags	 fl;
	enum imap_flag_op	 op;
	const char		*err;
	uint32_t		*idx;
	uint64_t		 since;
	size_t			 n;
	int			 i, r, silent, st;

	if ((i = store_args(s, cmd, &since, &op, &silent)) < 0)
		return BADRET(i);
	if (imap_arg_flags(&cmd->args[i + 1], cmd->nargs - i - 1, &fl,
	    &err) == -1)
		return sess_bad(s, cmd->tag, "%s", err);
	if (s->readonly) {
		sess_no(s, cmd->tag, "[READ-ONLY] mailbox is read-only");
		return 0;
	}
	if ((r = sess_msgset(s, cmd, &cmd->args[0], cmd->uid, &idx, &n)) < 0)
		return BADRET(r);
	memset(&res, 0, sizeof(res));
	st = imap_mbox_store(s->mbox, idx, n, op, fl.sys & IMAP_F_PERMANENT,
	    since, &res);
	if (st != IMAP_ST_OK) {
		free(idx);
		sess_no_store(s, cmd->tag, st, 0);
		return 0;
	}
	store_answer(s, cmd, idx, n, silent, &res);
	free(idx);
	s->no_expunge = !cmd->uid;
	if (res.nfailed > 0) {
		sess_updates(s, 0);
		store_modified(s, cmd, &res);
	} else
		sess_ok(s, cmd->tag, "STORE completed");
	s->no_expunge = 0;
	imap_store_res_free(&res);
	return 0;
}

/* ---- COPY, MOVE ---- */

static void
copyuid(struct imap_sess *s, const struct imap_copy_res *res)
{
	sess_putf(s, "[COPYUID %" PRIu32 " ", res->uidvalidity);
	(void)imap_put_seqlist(&s->wb, res->src_uids, res->n);
	sess_putf(s, " ");
	(void)imap_put_seqlist(&s->wb, res->dst_uids, res->n);
	sess_putf(s, "] ");
}

static int
copy_move(struct imap_conn *c, const struct imap_command *cmd, int move)
{
	struct imap_sess	*s = SESS(c);
	struct imap_copy_res	 res;
	struct imap_sync	 sy;
	char			 dst[IMAP_MAILBOX_MAX_BYTES + 1];
	uint32_t		*idx;
	size_t			 n;
	int			 r, st;

	if ((r = sess_mailbox_arg(s, cmd, 1, dst, sizeof(dst))) < 0 ||
	    (r = sess_msgset(s, cmd, &cmd->args[0], cmd->uid, &idx, &n)) < 0)
		return BADRET(r);
	if (move && s->readonly) {
		free(idx);
		sess_no(s, cmd->tag, "[READ-ONLY] mailbox is read-only");
		return 0;
	}
	memset(&res, 0, sizeof(res));
	memset(&sy, 0, sizeof(sy));
	st = move ? imap_mbox_move(s->mbox, idx, n, dst, &res, &sy) :
	    imap_mbox_copy(s->mbox, idx, n, dst, s->quota, &res);
	free(idx);
	if (st != IMAP_ST_OK) {
		sess_no_store(s, cmd->tag, st, 1);
		return 0;
	}
	if (move) {
		/* RFC 6851 4.3: COPYUID untagged, before the expunges. */
		if (res.n > 0) {
			sess_putf(s, "* OK ");
			copyuid(s, &res);
			sess_putf(s, "Moved\r\n");
		}
		sess_write_sync(s, &sy);
		imap_sync_free(&sy);
		sess_ok(s, cmd->tag, "MOVE completed");
	} else {
		sess_updates(s, 1);
		sess_putf(s, "%s OK ", cmd->tag);
		if (res.n > 0)
			copyuid(s, &res);
		sess_putf(s, "COPY completed\r\n");
		sess_flush(s);
	}
	imap_copy_res_free(&res);
	return 0;
}

int
cmd_copy(struct imap_conn *c, const struct imap_command *cmd)
{
	return copy_move(c, cmd, 0);
}

int
cmd_move(struct imap_conn *c, const struct imap_command *cmd)
{
	return copy_move(c, cmd, 1);
}
