/*
 * imapd/imap_search_parse.c: SEARCH's arguments (RFC 3501 6.4.4, RFC
 * 9051 6.4.4) into a bounded program: RETURN options (RFC 4731 ESEARCH,
 * RFC 5182 SAVE), CHARSET, every search key, NOT, OR, parenthesised
 * groups, sequence and UID sets, "$", MODSEQ (RFC 7162 3.1.5).  At most
 * IMAP_SEARCH_NODES_MAX keys, IMAP_SEARCH_DEPTH_MAX deep.  Runs in the
 * mailbox process (the mail user, chroot, seccomp "imapd-user"); no I/O.
 */
#include <sys/types.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap_search.h"

/* What a key takes after its name. */
enum sp_argk {
	A_NONE, A_STR, A_FIELD_STR, A_DATE, A_NUM, A_ATOM, A_SET, A_KEY1,
	A_KEY2, A_MODSEQ
};

static const struct sp_word {
	const char	*name;
	enum sk_op	 op;
	enum sp_argk	 arg;
	unsigned int	 flag;
	const char	*field;
} sp_words[] = {
	{ "ALL",	SK_ALL,		A_NONE,	0,			NULL },
	{ "ANSWERED",	SK_FLAG,	A_NONE,	IMAP_FL_ANSWERED,	NULL },
	{ "BCC",	SK_HEADER,	A_STR,	0,			"Bcc" },
	{ "BEFORE",	SK_BEFORE,	A_DATE,	0,			NULL },
	{ "BODY",	SK_BODY,	A_STR,	0,			NULL },
	{ "CC",		SK_HEADER,	A_STR,	0,			"Cc" },
	{ "DELETED",	SK_FLAG,	A_NONE,	IMAP_FL_DELETED,	NULL },
	{ "DRAFT",	SK_FLAG,	A_NONE,	IMAP_FL_DRAFT,		NULL },
	{ "FLAGGED",	SK_FLAG,	A_NONE,	IMAP_FL_FLAGGED,	NULL },
	{ "FROM",	SK_HEADER,	A_STR,	0,		"From" },
	{ "HEADER",	SK_HEADER,	A_FIELD_STR, 0,			NULL },
	{ "KEYWORD",	SK_KEYWORD,	A_ATOM,	0,			NULL },
	{ "LARGER",	SK_LARGER,	A_NUM,	0,			NULL },
	{ "MODSEQ",	SK_MODSEQ,	A_MODSEQ, 0,			NULL },
	{ "NEW",	SK_NEW,		A_NONE,	0,			NULL },
	{ "NOT",	SK_NOT,		A_KEY1,	0,			NULL },
	{ "OLD",	SK_UNFLAG,	A_NONE,	IMAP_FL_RECENT,		NULL },
	{ "ON",		SK_ON,		A_DATE,	0,			NULL },
	{ "OR",		SK_OR,		A_KEY2,	0,			NULL },
	{ "RECENT",	SK_FLAG,	A_NONE,	IMAP_FL_RECENT,		NULL },
	{ "SEEN",	SK_FLAG,	A_NONE,	IMAP_FL_SEEN,		NULL },
	{ "SENTBEFORE",	SK_SENTBEFORE,	A_DATE,	0,			NULL },
	{ "SENTON",	SK_SENTON,	A_DATE,	0,			NULL },
	{ "SENTSINCE",	SK_SENTSINCE,	A_DATE,	0,			NULL },
	{ "SINCE",	SK_SINCE,	A_DATE,	0,			NULL },
	{ "SMALLER",	SK_SMALLER,	A_NUM,	0,			NULL },
	{ "SUBJECT",	SK_HEADER,	A_STR,	0,		"Subject" },
	{ "TEXT",	SK_TEXT,	A_STR,	0,			NULL },
	{ "TO",		SK_HEADER,	A_STR,	0,			"To" },
	{ "UID",	SK_UID,		A_SET,	0,			NULL },
	{ "UNANSWERED",	SK_UNFLAG,	A_NONE,	IMAP_FL_ANSWERED,	NULL },
	{ "UNDELETED",	SK_UNFLAG,	A_NONE,	IMAP_FL_DELETED,	NULL },
	{ "UNDRAFT",	SK_UNFLAG,	A_NONE,	IMAP_FL_DRAFT,		NULL },
	{ "UNFLAGGED",	SK_UNFLAG,	A_NONE,	IMAP_FL_FLAGGED,	NULL },
	{ "UNKEYWORD",	SK_UNKEYWORD,	A_ATOM,	0,			NULL },
	{ "UNSEEN",	SK_UNFLAG,	A_NONE,	IMAP_FL_SEEN,		NULL },
};

struct sp_ctx {
	struct imap_search	*s;
	const char		*err;
	int			 depth;
};

static int	sp_key(struct sp_ctx *, const struct imap_arg *, int, int *);

/* A new node; -1 past IMAP_SEARCH_NODES_MAX. */
static int
sp_new(struct sp_ctx *c, enum sk_op op)
{
	struct imap_search	*s = c->s;
	struct sk_node		*n;
	int			 cap;

	if (s->nnode >= IMAP_SEARCH_NODES_MAX) {
		c->err = "too many search keys";
		return -1;
	}
	if (s->nnode == s->cap) {
		cap = s->cap == 0 ? 16 : s->cap * 2;
		if (cap > IMAP_SEARCH_NODES_MAX)
			cap = IMAP_SEARCH_NODES_MAX;
		if ((n = reallocarray(s->node, (size_t)cap, sizeof(*n))) ==
		    NULL) {
			c->err = "out of memory";
			return -1;
		}
		s->node = n;
		s->cap = cap;
	}
	n = &s->node[s->nnode];
	memset(n, 0, sizeof(*n));
	n->op = op;
	n->first = n->next = -1;
	return s->nnode++;
}

/* A string argument copied into the node. */
static int
sp_str(struct sp_ctx *c, const struct imap_arg *a, char **out, size_t *len)
{
	if (!imap_arg_is_astring(a)) {
		c->err = "expected a string";
		return -1;
	}
	if ((*out = malloc(a->len + 1)) == NULL) {
		c->err = "out of memory";
		return -1;
	}
	memcpy(*out, a->str, a->len);
	(*out)[a->len] = '\0';
	if (len != NULL)
		*len = a->len;
	return 0;
}

/* MODSEQ [entry-name entry-type-req] mod-sequence-valzer. */
static int
sp_modseq(struct sp_ctx *c, struct sk_node *n, const struct imap_arg *a,
    int na, int *i)
{
	const struct imap_arg	*v;

	if (*i + 2 < na && a[*i].type == IMAP_ARG_QUOTED &&
	    (imap_arg_is_atom(&a[*i + 1], "priv") ||
	    imap_arg_is_atom(&a[*i + 1], "shared") ||
	    imap_arg_is_atom(&a[*i + 1], "all")))
		*i += 2;	/* per-flag modseqs are not kept: the highest */
	if (*i >= na) {
		c->err = "missing mod-sequence";
		return -1;
	}
	v = &a[(*i)++];
	if (v->type != IMAP_ARG_ATOM || imap_parse_number64(v->str, v->len,
	    INT64_MAX, &n->num) == -1) {
		c->err = "expected a mod-sequence";
		return -1;
	}
	c->s->modseq = 1;
	return 0;
}

/* A key's argument(s) from a[*i]. */
static int
sp_arg(struct sp_ctx *c, int k, const struct sp_word *w,
    const struct imap_arg *a, int na, int *i)
{
	struct sk_node	*n = &c->s->node[k];
	const char	*err;

	if (w->arg == A_MODSEQ)
		return sp_modseq(c, n, a, na, i);
	if (w->arg != A_NONE && *i >= na) {
		c->err = "missing search key argument";
		return -1;
	}
	switch (w->arg) {
	case A_FIELD_STR:
		if (sp_str(c, &a[(*i)++], &n->field, NULL) == -1)
			return -1;
		if (*i >= na) {
			c->err = "missing search key argument";
			return -1;
		}
		/* FALLTHROUGH */
	case A_STR:
		return sp_str(c, &a[(*i)++], &n->str, &n->len);
	case A_ATOM:
		if (a[*i].type != IMAP_ARG_ATOM) {
			c->err = "expected a keyword";
			return -1;
		}
		return sp_str(c, &a[(*i)++], &n->str, &n->len);
	case A_DATE:
		if (imap_arg_date(&a[(*i)++], &n->day, &err) == -1) {
			c->err = err;
			return -1;
		}
		return 0;
	case A_NUM:
		if (a[*i].type != IMAP_ARG_ATOM || imap_parse_number64(
		    a[*i].str, a[*i].len, INT64_MAX, &n->num) == -1) {
			c->err = "expected a number";
			return -1;
		}
		(*i)++;
		return 0;
	case A_SET:
		if (a[*i].type != IMAP_ARG_ATOM || imap_seqset_parse(a[*i].str,
		    a[*i].len, &n->set, &err) == -1) {
			c->err = "invalid sequence set";
			return -1;
		}
		if (n->set.saved) {
			n->op = SK_SAVED;
			c->s->saved = 1;
		}
		(*i)++;
		return 0;
	default:
		return 0;
	}
}

/* Links child after the parent's last child (*last). */
static void
sp_link(struct imap_search *s, int parent, int child, int *last)
{
	if (*last == -1)
		s->node[parent].first = child;
	else
		s->node[*last].next = child;
	*last = child;
}

/* n keys (NOT, OR) from a[*i] as children of k. */
static int
sp_children(struct sp_ctx *c, int k, int n, const struct imap_arg *a,
    int na, int *i)
{
	int	 last = -1, ch;

	if (++c->depth > IMAP_SEARCH_DEPTH_MAX) {
		c->err = "search program too deep";
		return -1;
	}
	while (n-- > 0) {
		if (*i >= na) {
			c->err = "missing search key";
			return -1;
		}
		if ((ch = sp_key(c, a, na, i)) == -1)
			return -1;
		sp_link(c->s, k, ch, &last);
	}
	c->depth--;
	return 0;
}

/* Every key of a[0..na) as children of k (an AND). */
static int
sp_list(struct sp_ctx *c, int k, const struct imap_arg *a, int na)
{
	int	 i = 0, last = -1, ch;

	if (na == 0) {
		c->err = "missing search key";
		return -1;
	}
	if (++c->depth > IMAP_SEARCH_DEPTH_MAX) {
		c->err = "search program too deep";
		return -1;
	}
	while (i < na) {
		if ((ch = sp_key(c, a, na, &i)) == -1)
			return -1;
		sp_link(c->s, k, ch, &last);
	}
	c->depth--;
	return 0;
}

/* A sequence set as a key: an atom starting with a digit, '*' or '$'. */
static int
sp_is_set(const struct imap_arg *a)
{
	return a->type == IMAP_ARG_ATOM && a->len > 0 &&
	    ((a->str[0] >= '0' && a->str[0] <= '9') || a->str[0] == '*' ||
	    a->str[0] == '$');
}

/* One search key at a[*i]; returns its node. */
static int
sp_key(struct sp_ctx *c, const struct imap_arg *a, int na, int *i)
{
	const struct sp_word	*w;
	const struct imap_arg	*x = &a[(*i)++];
	struct sp_word		 set = { "", SK_SEQ, A_SET, 0, NULL };
	size_t			 j;
	int			 k;

	if (x->type == IMAP_ARG_LIST) {
		if ((k = sp_new(c, SK_AND)) == -1)
			return -1;
		return sp_list(c, k, x->list, x->nlist) == -1 ? -1 : k;
	}
	if (sp_is_set(x)) {
		(*i)--;
		w = &set;
	} else {
		w = NULL;
		for (j = 0; j < sizeof(sp_words) / sizeof(sp_words[0]); j++)
			if (x->type == IMAP_ARG_ATOM &&
			    strcasecmp(x->str, sp_words[j].name) == 0)
				w = &sp_words[j];
		if (w == NULL) {
			c->err = "unknown search key";
			return -1;
		}
	}
	if ((k = sp_new(c, w->op)) == -1)
		return -1;
	c->s->node[k].flag = w->flag;
	if (w->field != NULL && (c->s->node[k].field = strdup(w->field)) ==
	    NULL) {
		c->err = "out of memory";
		return -1;
	}
	if (w->arg == A_KEY1 || w->arg == A_KEY2)
		return sp_children(c, k, w->arg == A_KEY1 ? 1 : 2, a, na, i) ==
		    -1 ? -1 : k;
	return sp_arg(c, k, w, a, na, i) == -1 ? -1 : k;
}

int
imap_search_keys(struct imap_search *s, const struct imap_arg *a, int na,
    const char **err)
{
	struct sp_ctx	 c = { s, NULL, 0 };
	int		 k;

	if ((k = sp_new(&c, SK_AND)) == -1 || sp_list(&c, k, a, na) == -1) {
		*err = c.err != NULL ? c.err : "invalid search program";
		return -1;
	}
	return 0;
}
