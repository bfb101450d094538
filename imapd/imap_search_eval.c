/*
 * imapd/imap_search_eval.c: a SEARCH program against one message through
 * the mailbox's accessor (imap_proto.h struct imap_msg_access).  Cheap
 * keys (flags, sets, sizes, dates) are tried before the ones that read
 * the message (HEADER, BODY, TEXT), and each message's flags, UID, size
 * and dates are asked for once.  Dates compare by day in the message's
 * own zone (RFC 3501 6.4.4 "disregarding time and timezone").  Runs in
 * the mailbox process (the mail user, chroot, seccomp "imapd-user").
 */
#include <sys/types.h>

#include <string.h>

#include "imap_search.h"

/* What one message's evaluation has asked for so far. */
struct se_msg {
	const struct imap_msg_access	*acc;
	void				*ctx;
	uint32_t			 idx;
	unsigned int			 have;		/* SE_H_* */
	unsigned int			 flags;
	uint32_t			 uid;
	uint64_t			 size;
	uint64_t			 modseq;
	int64_t				 iday;
	int64_t				 sday;
	int				 ok;		/* SE_H_* that worked */
};

#define SE_H_FLAGS	0x01
#define SE_H_UID	0x02
#define SE_H_SIZE	0x04
#define SE_H_MODSEQ	0x08
#define SE_H_IDAY	0x10
#define SE_H_SDAY	0x20

static int64_t
se_day(time_t t, int tz)
{
	int64_t	 v = (int64_t)t + tz;

	return v >= 0 ? v / 86400 : -((-v + 86399) / 86400);
}

/* Asks the accessor for one property, once; 0 when it failed. */
static int
se_get(struct se_msg *m, unsigned int what)
{
	const struct imap_msg_access	*a = m->acc;
	time_t				 t;
	int				 tz, r = -1;

	if (m->have & what)
		return (m->ok & what) != 0;
	m->have |= what;
	switch (what) {
	case SE_H_FLAGS:
		r = a->flags(m->ctx, m->idx, &m->flags);
		break;
	case SE_H_UID:
		r = a->uid(m->ctx, m->idx, &m->uid);
		break;
	case SE_H_SIZE:
		r = a->size(m->ctx, m->idx, &m->size);
		break;
	case SE_H_MODSEQ:
		r = a->modseq(m->ctx, m->idx, &m->modseq);
		break;
	case SE_H_IDAY:
		if ((r = a->internal(m->ctx, m->idx, &t, &tz)) != -1)
			m->iday = se_day(t, tz);
		break;
	case SE_H_SDAY:
		if ((r = a->sent(m->ctx, m->idx, &t, &tz)) != -1)
			m->sday = se_day(t, tz);
		break;
	}
	if (r != -1)
		m->ok |= (int)what;
	return r != -1;
}

/* Whether a key reads the message itself (tried last in an AND). */
static int
se_costly(const struct sk_node *n)
{
	return n->op == SK_HEADER || n->op == SK_BODY || n->op == SK_TEXT ||
	    n->op == SK_OR || n->op == SK_NOT || n->op == SK_AND;
}

static int	se_eval(const struct imap_search *, struct se_msg *, int);

static int
se_and(const struct imap_search *s, struct se_msg *m, int k)
{
	int	 c, pass;

	for (pass = 0; pass < 2; pass++)
		for (c = s->node[k].first; c != -1; c = s->node[c].next)
			if (se_costly(&s->node[c]) == pass &&
			    !se_eval(s, m, c))
				return 0;
	return 1;
}

static int
se_date(const struct sk_node *n, struct se_msg *m)
{
	int64_t	 day;

	if (n->op <= SK_SINCE) {
		if (!se_get(m, SE_H_IDAY))
			return 0;
		day = m->iday;
	} else {
		if (!se_get(m, SE_H_SDAY))
			return 0;
		day = m->sday;
	}
	switch (n->op) {
	case SK_BEFORE:
	case SK_SENTBEFORE:
		return day < n->day;
	case SK_ON:
	case SK_SENTON:
		return day == n->day;
	default:
		return day >= n->day;
	}
}

/* Recursion is bounded by IMAP_SEARCH_DEPTH_MAX, checked at parsing. */
static int
se_eval(const struct imap_search *s, struct se_msg *m, int k)
{
	const struct sk_node	*n = &s->node[k];
	const struct imap_msg_access *a = m->acc;

	switch (n->op) {
	case SK_AND:
		return se_and(s, m, k);
	case SK_OR:
		return se_eval(s, m, n->first) ||
		    se_eval(s, m, s->node[n->first].next);
	case SK_NOT:
		return !se_eval(s, m, n->first);
	case SK_ALL:
		return 1;
	case SK_SEQ:
		return imap_seqset_contains(&n->set, m->idx + 1);
	case SK_UID:
		return se_get(m, SE_H_UID) &&
		    imap_seqset_contains(&n->set, m->uid);
	case SK_SAVED:
		return se_get(m, SE_H_UID) &&
		    imap_seqset_contains(&s->saved_uids, m->uid);
	case SK_FLAG:
		return se_get(m, SE_H_FLAGS) && (m->flags & n->flag) != 0;
	case SK_UNFLAG:
		return se_get(m, SE_H_FLAGS) && (m->flags & n->flag) == 0;
	case SK_NEW:
		return se_get(m, SE_H_FLAGS) && (m->flags &
		    (IMAP_FL_RECENT | IMAP_FL_SEEN)) == IMAP_FL_RECENT;
	case SK_KEYWORD:
		return a->keyword != NULL &&
		    a->keyword(m->ctx, m->idx, n->str) == 1;
	case SK_UNKEYWORD:
		return a->keyword == NULL ||
		    a->keyword(m->ctx, m->idx, n->str) == 0;
	case SK_BEFORE: case SK_ON: case SK_SINCE:
	case SK_SENTBEFORE: case SK_SENTON: case SK_SENTSINCE:
		return se_date(n, m);
	case SK_LARGER:
		return se_get(m, SE_H_SIZE) && m->size > n->num;
	case SK_SMALLER:
		return se_get(m, SE_H_SIZE) && m->size < n->num;
	case SK_HEADER:
		return a->header(m->ctx, m->idx, n->field, n->str, n->len) ==
		    1;
	case SK_BODY:
	case SK_TEXT:
		return a->body(m->ctx, m->idx, n->op == SK_TEXT, n->str,
		    n->len) == 1;
	case SK_MODSEQ:
		return se_get(m, SE_H_MODSEQ) && m->modseq >= n->num;
	}
	return 0;
}

/* '*' in the program's sets becomes the mailbox's maxima, once. */
static void
se_resolve(struct imap_search *s, uint32_t nmsgs, uint32_t maxuid)
{
	int	 i;

	for (i = 0; i < s->nnode; i++)
		if (s->node[i].op == SK_SEQ)
			imap_seqset_resolve(&s->node[i].set, nmsgs);
		else if (s->node[i].op == SK_UID)
			imap_seqset_resolve(&s->node[i].set, maxuid);
	s->resolved = 1;
}

int
imap_search_match(struct imap_search *s, const struct imap_msg_access *acc,
    void *ctx, uint32_t idx, uint32_t nmsgs, uint32_t maxuid,
    uint64_t *modseq)
{
	struct se_msg	 m;

	if (!s->resolved)
		se_resolve(s, nmsgs, maxuid);
	memset(&m, 0, sizeof(m));
	m.acc = acc;
	m.ctx = ctx;
	m.idx = idx;
	if (!se_eval(s, &m, 0))
		return 0;
	if (s->modseq && modseq != NULL)
		*modseq = se_get(&m, SE_H_MODSEQ) ? m.modseq : 0;
	return 1;
}
