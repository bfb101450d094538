/*
 * The commands of the authenticated state (RFC 3501 6.3), valid in the
 * selected state too: SELECT, EXAMINE, CREATE, DELETE, RENAME,
 * SUBSCRIBE, UNSUBSCRIBE, STATUS, NAMESPACE (RFC 2342) and ENABLE
 * (RFC 5161); LIST and LSUB are imap_cmd_list.c's, APPEND
 * imap_cmd_append.c's, IDLE imap_idle.c's.  Runs in the mailbox
 * process: the mail user, chrooted in the mail home, seccomp
 * SANDBOX_IMAP_MAILBOX.
 */
#include <sys/types.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "lineio.h"
#include "log.h"
#include "imap_session.h"
#include "imap_store.h"

/* Handlers return this after a BAD: -1 ends the session. */
#define BADRET(r)	((r) == -2 ? -1 : 0)

static const char sess_flags[] =
    "\\Answered \\Flagged \\Deleted \\Seen \\Draft";

/* (QRESYNC (uidvalidity modseq [known-uids])) of SELECT, RFC 7162 3.2.5. */
struct qresync {
	uint32_t	 uidvalidity;
	uint64_t	 modseq;
	const struct imap_arg *known;
};

static int
select_params(struct imap_sess *s, const struct imap_command *cmd,
    struct qresync *q, int *condstore)
{
	const struct imap_arg	*l, *p;
	const char		*err = "bad SELECT parameters";

	*condstore = 0;
	memset(q, 0, sizeof(*q));
	if (cmd->nargs == 1)
		return 0;
	l = &cmd->args[1];
	if (cmd->nargs > 2 || l->type != IMAP_ARG_LIST || l->nlist < 1)
		return sess_bad(s, cmd->tag, "%s", err) == -1 ? -2 : -1;
	if (l->nlist == 1 && imap_arg_is_atom(&l->list[0], "CONDSTORE")) {
		*condstore = 1;
		return 0;
	}
	if (l->nlist != 2 || !imap_arg_is_atom(&l->list[0], "QRESYNC") ||
	    !(s->enabled & SESS_E_QRESYNC) ||
	    (p = &l->list[1])->type != IMAP_ARG_LIST || p->nlist < 2 ||
	    imap_arg_nznumber(&p->list[0], &q->uidvalidity, &err) == -1 ||
	    imap_arg_modseq(&p->list[1], &q->modseq, &err) == -1)
		return sess_bad(s, cmd->tag, "%s", err) == -1 ? -2 : -1;
	if (p->nlist >= 3 && p->list[2].type == IMAP_ARG_ATOM)
		q->known = &p->list[2];
	*condstore = 1;
	return 0;
}

/*
 * VANISHED (EARLIER) with the UIDs of r, only those in known when the
 * client gave its known UIDs (RFC 7162 3.2.5.1).
 */
static void
select_vanished(struct imap_sess *s, const struct imap_uid_ranges *r,
    const struct imap_arg *known)
{
	struct imap_seqset	 ks;
	const char		*err;
	size_t			 k;
	uint32_t		 u;
	int			 any = 0, filter = 0;

	if (known != NULL && imap_seqset_parse(known->str, known->len, &ks,
	    &err) == 0) {
		imap_seqset_resolve(&ks, UINT32_MAX - 1);
		filter = 1;
	}
	for (k = 0; k < r->n; k++)
		for (u = r->v[k].first; u != 0 && u <= r->v[k].last; u++) {
			if (filter && !imap_seqset_contains(&ks, u))
				continue;
			sess_putf(s, "%s%" PRIu32, any ? "," :
			    "* VANISHED (EARLIER) ", u);
			any = 1;
			if (u == UINT32_MAX)
				break;
		}
	if (any)
		sess_putf(s, "\r\n");
	if (filter)
		imap_seqset_free(&ks);
}

/* RFC 7162 3.2.5.1: what changed since the client's modseq. */
static void
select_qresync(struct imap_sess *s, const struct qresync *q)
{
	struct imap_mbox_info	 info;
	struct imap_uid_ranges	 r;
	const struct imap_msg	*m;
	uint32_t		 i, n;

	imap_mbox_info(s->mbox, &info);
	if (q->uidvalidity != info.uidvalidity)
		return;
	if (imap_mbox_vanished(s->mbox, q->modseq, &r) == IMAP_ST_OK) {
		select_vanished(s, &r, q->known);
		imap_uid_ranges_free(&r);
	}
	n = imap_mbox_count(s->mbox);
	for (i = 0; i < n; i++) {
		m = imap_mbox_msg(s->mbox, i);
		if (m->modseq > q->modseq)
			sess_write_flags(s, i, 1);
	}
}

static void
select_answer(struct imap_sess *s, const struct imap_command *cmd,
    int condstore, const struct qresync *q)
{
	struct imap_mbox_info	 info;

	imap_mbox_info(s->mbox, &info);
	sess_putf(s, "* FLAGS (%s)\r\n", sess_flags);
	sess_putf(s, "* OK [PERMANENTFLAGS (%s)] %s\r\n",
	    s->readonly ? "" : sess_flags, s->readonly ?
	    "No permanent flags permitted" : "Flags permitted");
	s->exists = info.exists;
	sess_putf(s, "* %" PRIu32 " EXISTS\r\n", info.exists);
	sess_putf(s, "* %" PRIu32 " RECENT\r\n", info.recent);
	if (info.first_unseen > 0)
		sess_putf(s, "* OK [UNSEEN %" PRIu32 "] First unseen\r\n",
		    info.first_unseen);
	sess_putf(s, "* OK [UIDVALIDITY %" PRIu32 "] UIDs valid\r\n",
	    info.uidvalidity);
	sess_putf(s, "* OK [UIDNEXT %" PRIu32 "] Predicted next UID\r\n",
	    info.uidnext);
	sess_putf(s, "* OK [HIGHESTMODSEQ %" PRIu64 "] Highest\r\n",
	    info.highestmodseq);
	if (q->modseq > 0)
		select_qresync(s, q);
	if (condstore)
		s->enabled |= SESS_E_CONDSTORE;
	s->no_expunge = 1;
	sess_ok(s, cmd->tag, "[%s] %s completed", s->readonly ?
	    "READ-ONLY" : "READ-WRITE", cmd->name);
	s->no_expunge = 0;
}

int
cmd_select(struct imap_conn *c, const struct imap_command *cmd)
{
	struct imap_sess	*s = SESS(c);
	char			 name[IMAP_MAILBOX_MAX_BYTES + 1];
	struct qresync		 q;
	int			 r, condstore, ro, st;

	if ((r = sess_mailbox_arg(s, cmd, 0, name, sizeof(name))) < 0 ||
	    (r = select_params(s, cmd, &q, &condstore)) < 0)
		return BADRET(r);
	if (s->mbox != NULL) {
		sess_unselect(s);
		/* RFC 7162 3.2.11: the old folder's updates end here. */
		if (s->enabled & SESS_E_QRESYNC)
			sess_putf(s, "* OK [CLOSED] Previous mailbox "
			    "closed\r\n");
	}
	ro = strcmp(cmd->name, "EXAMINE") == 0;
	st = imap_mbox_open(s->store, name, ro ? IMAP_OPEN_READONLY : 0,
	    &s->mbox);
	if (st != IMAP_ST_OK) {
		s->mbox = NULL;
		sess_no_store(s, cmd->tag, st, 0);
		return 0;
	}
	s->readonly = ro;
	imap_set_state(c, IMAP_S_SELECTED);
	select_answer(s, cmd, condstore, &q);
	return 0;
}

/* CREATE, DELETE, SUBSCRIBE, UNSUBSCRIBE: one name, one store call. */
static int
folder_cmd(struct imap_conn *c, const struct imap_command *cmd,
    int (*fn)(struct imap_store *, const char *))
{
	struct imap_sess	*s = SESS(c);
	char			 name[IMAP_MAILBOX_MAX_BYTES + 1];
	size_t			 len;
	int			 r, st;

	if ((r = sess_mailbox_arg(s, cmd, 0, name, sizeof(name))) < 0)
		return BADRET(r);
	/* RFC 3501 6.3.3: a trailing separator says "will have children". */
	len = strlen(name);
	if (fn == imap_folder_create && len > 1 && name[len - 1] == '/')
		name[len - 1] = '\0';
	if ((st = fn(s->store, name)) != IMAP_ST_OK) {
		sess_no_store(s, cmd->tag, st, 0);
		return 0;
	}
	sess_ok(s, cmd->tag, "%s completed", cmd->name);
	return 0;
}

int
cmd_create(struct imap_conn *c, const struct imap_command *cmd)
{
	return folder_cmd(c, cmd, imap_folder_create);
}

int
cmd_delete(struct imap_conn *c, const struct imap_command *cmd)
{
	struct imap_sess	*s = SESS(c);
	char			 name[IMAP_MAILBOX_MAX_BYTES + 1];
	int			 r;

	if ((r = sess_mailbox_arg(s, cmd, 0, name, sizeof(name))) < 0)
		return BADRET(r);
	/* Deleting the selected folder leaves the selected state. */
	if (s->mbox != NULL && strcmp(imap_mbox_name(s->mbox), name) == 0)
		sess_unselect(s);
	return folder_cmd(c, cmd, imap_folder_delete);
}

int
cmd_subscribe(struct imap_conn *c, const struct imap_command *cmd)
{
	return folder_cmd(c, cmd, imap_folder_subscribe);
}

int
cmd_unsubscribe(struct imap_conn *c, const struct imap_command *cmd)
{
	return folder_cmd(c, cmd, imap_folder_unsubscribe);
}

int
cmd_rename(struct imap_conn *c, const struct imap_command *cmd)
{
	struct imap_sess	*s = SESS(c);
	char			 from[IMAP_MAILBOX_MAX_BYTES + 1];
	char			 to[IMAP_MAILBOX_MAX_BYTES + 1];
	int			 r, st;

	if ((r = sess_mailbox_arg(s, cmd, 0, from, sizeof(from))) < 0 ||
	    (r = sess_mailbox_arg(s, cmd, 1, to, sizeof(to))) < 0)
		return BADRET(r);
	if (s->mbox != NULL && strcmp(imap_mbox_name(s->mbox), from) == 0)
		sess_unselect(s);
	if ((st = imap_folder_rename(s->store, from, to)) != IMAP_ST_OK) {
		sess_no_store(s, cmd->tag, st, 0);
		return 0;
	}
	sess_ok(s, cmd->tag, "RENAME completed");
	return 0;
}

/* ---- STATUS ---- */

static const char *status_items[] = { "MESSAGES", "RECENT", "UIDNEXT",
    "UIDVALIDITY", "UNSEEN", "SIZE", "HIGHESTMODSEQ" };

int
sess_status_items_ok(const struct imap_arg *l)
{
	size_t	 k;
	int	 i;

	if (l->type != IMAP_ARG_LIST || l->nlist == 0)
		return 0;
	for (i = 0; i < l->nlist; i++) {
		for (k = 0; k < sizeof(status_items) /
		    sizeof(status_items[0]); k++)
			if (imap_arg_is_atom(&l->list[i], status_items[k]))
				break;
		if (k == sizeof(status_items) / sizeof(status_items[0]))
			return 0;
	}
	return 1;
}

static void
status_item(struct imap_sess *s, const struct imap_arg *a,
    const struct imap_mbox_info *info)
{
	if (imap_arg_is_atom(a, "MESSAGES"))
		sess_putf(s, "MESSAGES %" PRIu32, info->exists);
	else if (imap_arg_is_atom(a, "RECENT"))
		sess_putf(s, "RECENT %" PRIu32, info->recent);
	else if (imap_arg_is_atom(a, "UIDNEXT"))
		sess_putf(s, "UIDNEXT %" PRIu32, info->uidnext);
	else if (imap_arg_is_atom(a, "UIDVALIDITY"))
		sess_putf(s, "UIDVALIDITY %" PRIu32, info->uidvalidity);
	else if (imap_arg_is_atom(a, "UNSEEN"))
		sess_putf(s, "UNSEEN %" PRIu32, info->unseen);
	else if (imap_arg_is_atom(a, "SIZE"))
		sess_putf(s, "SIZE %" PRIu64, info->size);
	else
		sess_putf(s, "HIGHESTMODSEQ %" PRIu64, info->highestmodseq);
}

void
sess_status_write(struct imap_sess *s, const char *name,
    const struct imap_arg *l, const struct imap_mbox_info *info)
{
	int	 i;

	sess_putf(s, "* STATUS ");
	(void)imap_put_string(&s->wb, name, strlen(name), IMAP_STR_ATOM);
	sess_putf(s, " (");
	for (i = 0; i < l->nlist; i++) {
		sess_putf(s, "%s", i ? " " : "");
		status_item(s, &l->list[i], info);
	}
	sess_putf(s, ")\r\n");
}

int
cmd_status(struct imap_conn *c, const struct imap_command *cmd)
{
	struct imap_sess	*s = SESS(c);
	struct imap_mbox_info	 info;
	char			 name[IMAP_MAILBOX_MAX_BYTES + 1];
	int			 r, st;

	if ((r = sess_mailbox_arg(s, cmd, 0, name, sizeof(name))) < 0)
		return BADRET(r);
	if (!sess_status_items_ok(&cmd->args[1]))
		return sess_bad(s, cmd->tag, "unknown STATUS item");
	if ((st = imap_store_status(s->store, name, &info)) != IMAP_ST_OK) {
		sess_no_store(s, cmd->tag, st, 0);
		return 0;
	}
	sess_status_write(s, name, &cmd->args[1], &info);
	sess_ok(s, cmd->tag, "STATUS completed");
	return 0;
}

/* ---- NAMESPACE, ENABLE ---- */

int
cmd_namespace(struct imap_conn *c, const struct imap_command *cmd)
{
	struct imap_sess	*s = SESS(c);

	/* RFC 2342 5: one personal namespace, no others. */
	sess_putf(s, "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n");
	sess_ok(s, cmd->tag, "NAMESPACE completed");
	return 0;
}

int
cmd_enable(struct imap_conn *c, const struct imap_command *cmd)
{
	struct imap_sess	*s = SESS(c);
	unsigned int		 was = s->enabled;
	int			 i;

	for (i = 0; i < cmd->nargs; i++) {
		if (imap_arg_is_atom(&cmd->args[i], "CONDSTORE"))
			s->enabled |= SESS_E_CONDSTORE;
		else if (imap_arg_is_atom(&cmd->args[i], "QRESYNC") &&
		    strstr(sess_capability(), "QRESYNC") != NULL)
			s->enabled |= SESS_E_QRESYNC | SESS_E_CONDSTORE;
	}
	/* RFC 5161 3.1: only what this command newly enabled. */
	sess_putf(s, "* ENABLED");
	if ((s->enabled & ~was) & SESS_E_CONDSTORE)
		sess_putf(s, " CONDSTORE");
	if ((s->enabled & ~was) & SESS_E_QRESYNC)
		sess_putf(s, " QRESYNC");
	sess_putf(s, "\r\n");
	sess_ok(s, cmd->tag, "ENABLE completed");
	return 0;
}
