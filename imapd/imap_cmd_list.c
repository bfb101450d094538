/*
 * LIST and LSUB (RFC 3501 6.3.8, 6.3.9), with LIST-EXTENDED (RFC 5258:
 * selection options SUBSCRIBED, REMOTE, RECURSIVEMATCH, SPECIAL-USE;
 * several patterns; RETURN (SUBSCRIBED CHILDREN SPECIAL-USE)),
 * LIST-STATUS (RFC 5819: RETURN (STATUS (...))) and the attributes of
 * CHILDREN (RFC 3348) and SPECIAL-USE (RFC 6154).  Runs in the mailbox
 * process: the mail user, chrooted in the mail home, seccomp
 * SANDBOX_IMAP_MAILBOX.
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "imap_session.h"
#include "imap_store.h"

#define BADRET(r)	((r) == -2 ? -1 : 0)

/* What a LIST command asks. */
struct listreq {
	int			 lsub;
	int			 sel_sub;	/* (SUBSCRIBED) */
	int			 sel_rmatch;	/* (RECURSIVEMATCH) */
	int			 sel_su;	/* (SPECIAL-USE) */
	int			 ret_sub;	/* RETURN (SUBSCRIBED) */
	const struct imap_arg	*ret_status;	/* RETURN (STATUS) */
	const char		*ref;
	size_t			 reflen;
	const struct imap_arg	*pats;		/* one or a list */
	int			 npats;
};

static void
list_attrs(struct imap_sess *s, unsigned int a, const struct listreq *q)
{
	static const struct { unsigned int bit; const char *name; } at[] = {
		{ IMAP_LA_NOSELECT, "\\Noselect" },
		{ IMAP_LA_NONEXISTENT, "\\NonExistent" },
		{ IMAP_LA_HASCHILDREN, "\\HasChildren" },
		{ IMAP_LA_HASNOCHILDREN, "\\HasNoChildren" },
		{ IMAP_LA_SUBSCRIBED, "\\Subscribed" },
		{ IMAP_LA_DRAFTS, "\\Drafts" },
		{ IMAP_LA_SENT, "\\Sent" },
		{ IMAP_LA_TRASH, "\\Trash" },
		{ IMAP_LA_JUNK, "\\Junk" },
		{ IMAP_LA_ARCHIVE, "\\Archive" },
	};
	size_t	 i;
	int	 sp = 0;

	if (q->lsub) {
		/* RFC 3501 6.3.9: LSUB has \Noselect for what is gone. */
		a &= IMAP_LA_NOSELECT | IMAP_LA_NONEXISTENT;
		if (a & IMAP_LA_NONEXISTENT)
			a = IMAP_LA_NOSELECT;
	} else {
		if (!q->sel_sub && !q->ret_sub)
			a &= ~IMAP_LA_SUBSCRIBED;
		/* RFC 5258 3.4: \NonExistent implies \Noselect. */
		if (a & IMAP_LA_NONEXISTENT)
			a &= ~(IMAP_LA_NOSELECT | IMAP_LA_HASCHILDREN |
			    IMAP_LA_HASNOCHILDREN);
	}
	for (i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		if ((a & at[i].bit) == 0)
			continue;
		sess_putf(s, "%s%s", sp ? " " : "", at[i].name);
		sp = 1;
	}
}

/* 1 when a subscribed name in subs lies below name. */
static int
list_sub_child(const struct imap_folder_list *subs, const char *name)
{
	size_t	 i, len = strlen(name);

	for (i = 0; i < subs->n; i++)
		if (strncmp(subs->v[i].name, name, len) == 0 &&
		    subs->v[i].name[len] == '/')
			return 1;
	return 0;
}

/* One line, and its STATUS when asked (RFC 5819). */
static void
list_line(struct imap_sess *s, const struct listreq *q,
    const struct imap_folder_ent *e, int childinfo)
{
	struct imap_mbox_info	 info;

	sess_putf(s, "* %s (", q->lsub ? "LSUB" : "LIST");
	list_attrs(s, e->attrs, q);
	sess_putf(s, ") \"/\" ");
	(void)imap_put_string(&s->wb, e->name, strlen(e->name),
	    IMAP_STR_ATOM);
	if (childinfo)
		sess_putf(s, " (\"CHILDINFO\" (\"SUBSCRIBED\"))");
	sess_putf(s, "\r\n");
	if (q->ret_status != NULL && !(e->attrs & (IMAP_LA_NOSELECT |
	    IMAP_LA_NONEXISTENT)) &&
	    imap_store_status(s->store, e->name, &info) == IMAP_ST_OK)
		sess_status_write(s, e->name, q->ret_status, &info);
}

/*
 * 1 when name was listed already (several patterns may match it, RFC
 * 5258 3: it is listed once); else remembered in done.  -1 when out of
 * memory.
 */
static int
list_seen(struct imap_folder_list *done, const char *name)
{
	struct imap_folder_ent	*v;
	size_t			 i;

	for (i = 0; i < done->n; i++)
		if (strcmp(done->v[i].name, name) == 0)
			return 1;
	if ((v = reallocarray(done->v, done->n + 1, sizeof(*v))) == NULL)
		return -1;
	done->v = v;
	(void)strlcpy(v[done->n].name, name, sizeof(v[0].name));
	v[done->n++].attrs = 0;
	return 0;
}

/* The folders for one pattern, as the selection options want them. */
/* The folders of one store listing, as the selection options want. */
static int
list_names(struct imap_sess *s, const struct listreq *q,
    const char *pattern, unsigned int opts,
    const struct imap_folder_list *subs, struct imap_folder_list *done)
{
	struct imap_folder_list	 fl;
	unsigned int		 a;
	size_t			 i;
	int			 st, child;

	if ((st = imap_folder_list(s->store, pattern, opts, &fl)) !=
	    IMAP_ST_OK)
		return st;
	for (i = 0; i < fl.n; i++) {
		a = fl.v[i].attrs;
		child = q->sel_rmatch && list_sub_child(subs, fl.v[i].name);
		if (q->sel_su && (a & IMAP_LA_SPECIALUSE) == 0)
			continue;
		if (opts == 0 && q->sel_rmatch && ((a & IMAP_LA_SUBSCRIBED) ||
		    !child))
			continue;
		if (q->npats > 1 && list_seen(done, fl.v[i].name) != 0)
			continue;
		list_line(s, q, &fl.v[i], child);
	}
	imap_folder_list_free(&fl);
	return IMAP_ST_OK;
}

static int
list_pattern(struct imap_sess *s, const struct listreq *q,
    const char *pattern, const struct imap_folder_list *subs,
    struct imap_folder_list *done)
{
	int	 st;

	st = list_names(s, q, pattern, q->lsub || q->sel_sub ?
	    IMAP_LIST_SUBSCRIBED : 0, subs, done);
	/*
	 * RECURSIVEMATCH: also the folders that are not subscribed but
	 * hold subscribed ones (RFC 5258 3.5).
	 */
	if (st == IMAP_ST_OK && q->sel_rmatch)
		st = list_names(s, q, pattern, 0, subs, done);
	return st;
}

static int
list_run(struct imap_sess *s, const struct imap_command *cmd,
    const struct listreq *q)
{
	struct imap_folder_list	 subs, done;
	char			 pattern[IMAP_PATTERN_MAX_BYTES + 1];
	const char		*pat;
	size_t			 pl;
	int			 i, n, st = IMAP_ST_OK;

	memset(&subs, 0, sizeof(subs));
	memset(&done, 0, sizeof(done));
	if (q->sel_rmatch && (st = imap_folder_list(s->store, "*",
	    IMAP_LIST_SUBSCRIBED, &subs)) != IMAP_ST_OK) {
		sess_no_store(s, cmd->tag, st, 0);
		return 0;
	}
	for (i = 0; i < q->npats && st == IMAP_ST_OK; i++) {
		pat = imap_arg_astring(&q->pats[i], &pl);
		if (pl == 0 && !q->lsub && q->npats == 1) {
			/* RFC 3501 6.3.8: the delimiter and the root. */
			sess_putf(s, "* LIST (\\Noselect) \"/\" \"\"\r\n");
			continue;
		}
		n = snprintf(pattern, sizeof(pattern), "%.*s%.*s",
		    (int)q->reflen, q->ref, (int)pl, pat);
		if (n < 0 || (size_t)n >= sizeof(pattern))
			continue;
		st = list_pattern(s, q, pattern, &subs, &done);
	}
	imap_folder_list_free(&subs);
	imap_folder_list_free(&done);
	if (st != IMAP_ST_OK)
		sess_no_store(s, cmd->tag, st, 0);
	else
		sess_ok(s, cmd->tag, "%s completed", cmd->name);
	return 0;
}

/* (SUBSCRIBED REMOTE RECURSIVEMATCH SPECIAL-USE), RFC 5258 3.1. */
static int
list_select_opts(struct listreq *q, const struct imap_arg *l)
{
	int	 i;

	for (i = 0; i < l->nlist; i++) {
		if (imap_arg_is_atom(&l->list[i], "SUBSCRIBED"))
			q->sel_sub = 1;
		else if (imap_arg_is_atom(&l->list[i], "RECURSIVEMATCH"))
			q->sel_rmatch = 1;
		else if (imap_arg_is_atom(&l->list[i], "SPECIAL-USE"))
			q->sel_su = 1;
		else if (!imap_arg_is_atom(&l->list[i], "REMOTE"))
			return -1;
	}
	/* RECURSIVEMATCH modifies another option (RFC 5258 3.1). */
	if (q->sel_rmatch && !q->sel_sub)
		return -1;
	return 0;
}

/* RETURN (SUBSCRIBED CHILDREN SPECIAL-USE STATUS (...)). */
static int
list_return_opts(struct listreq *q, const struct imap_arg *l)
{
	int	 i;

	if (l->type != IMAP_ARG_LIST)
		return -1;
	for (i = 0; i < l->nlist; i++) {
		if (imap_arg_is_atom(&l->list[i], "SUBSCRIBED"))
			q->ret_sub = 1;
		else if (imap_arg_is_atom(&l->list[i], "STATUS") &&
		    i + 1 < l->nlist &&
		    sess_status_items_ok(&l->list[i + 1]))
			q->ret_status = &l->list[++i];
		else if (!imap_arg_is_atom(&l->list[i], "CHILDREN") &&
		    !imap_arg_is_atom(&l->list[i], "SPECIAL-USE"))
			return -1;
	}
	return 0;
}

/* The command's arguments into q; -1 when they are not LIST's. */
static int
list_parse(const struct imap_command *cmd, struct listreq *q)
{
	const struct imap_arg	*a = cmd->args;
	int			 n = cmd->nargs, i = 0, k;

	if (n > 0 && a[0].type == IMAP_ARG_LIST) {
		if (list_select_opts(q, &a[0]) == -1)
			return -1;
		i = 1;
	}
	if (i + 2 > n || (q->ref = imap_arg_astring(&a[i], &q->reflen)) ==
	    NULL)
		return -1;
	if (a[i + 1].type == IMAP_ARG_LIST) {
		q->pats = a[i + 1].list;
		q->npats = a[i + 1].nlist;
	} else {
		q->pats = &a[i + 1];
		q->npats = 1;
	}
	for (k = 0; k < q->npats; k++)
		if (!imap_arg_is_astring(&q->pats[k]))
			return -1;
	i += 2;
	if (i == n)
		return q->npats > 0 ? 0 : -1;
	if (i + 2 != n || !imap_arg_is_atom(&a[i], "RETURN"))
		return -1;
	return list_return_opts(q, &a[i + 1]);
}

int
cmd_list(struct imap_conn *c, const struct imap_command *cmd)
{
	struct imap_sess	*s = SESS(c);
	struct listreq		 q;

	memset(&q, 0, sizeof(q));
	if (list_parse(cmd, &q) == -1)
		return sess_bad(s, cmd->tag, "LIST [(options)] reference "
		    "pattern [RETURN (options)]");
	return list_run(s, cmd, &q);
}

int
cmd_lsub(struct imap_conn *c, const struct imap_command *cmd)
{
	struct listreq	 q;

	memset(&q, 0, sizeof(q));
	q.lsub = 1;
	q.ref = imap_arg_astring(&cmd->args[0], &q.reflen);
	q.pats = &cmd->args[1];
	q.npats = 1;
	return list_run(SESS(c), cmd, &q);
}
