/*
 * imapd/imap_sort.c: SORT (RFC 5256 3, RFC 5957 DISPLAYFROM/DISPLAYTO):
 * the criteria parsed, then the messages sorted with every key read once
 * per message through the accessor (strings into one arena, each at most
 * IMAP_SORT_KEY_MAX_BYTES) and one O(n log n) sort whose last tie-breaker
 * is the sequence number.  Strings compare as i;ascii-casemap (folded
 * once when read, then compared as bytes).  Runs in
 * the mailbox process (the mail user, chroot, seccomp "imapd-user").
 */
#include <sys/types.h>

#include <stdlib.h>
#include <string.h>

#include "imap_search.h"

static const struct {
	const char		*name;
	enum imap_sort_crit	 crit;
} sort_words[] = {
	{ "ARRIVAL", IMAP_SORT_ARRIVAL }, { "CC", IMAP_SORT_CC },
	{ "DATE", IMAP_SORT_DATE }, { "FROM", IMAP_SORT_FROM },
	{ "SIZE", IMAP_SORT_SIZE }, { "SUBJECT", IMAP_SORT_SUBJECT },
	{ "TO", IMAP_SORT_TO }, { "DISPLAYFROM", IMAP_SORT_DISPLAYFROM },
	{ "DISPLAYTO", IMAP_SORT_DISPLAYTO },
};

/* One criterion "[REVERSE] key" at l[*i]. */
static int
sort_crit(const struct imap_arg *l, int n, int *i, struct imap_sort_key *k,
    const char **err)
{
	size_t	 j;

	k->reverse = 0;
	if (imap_arg_is_atom(&l[*i], "REVERSE")) {
		k->reverse = 1;
		if (++*i == n) {
			*err = "REVERSE needs a sort key";
			return -1;
		}
	}
	for (j = 0; j < sizeof(sort_words) / sizeof(sort_words[0]); j++)
		if (imap_arg_is_atom(&l[*i], sort_words[j].name)) {
			k->crit = sort_words[j].crit;
			(*i)++;
			return 0;
		}
	*err = "unknown sort key";
	return -1;
}

int
imap_sort_parse(const struct imap_arg *a, int na, struct imap_sort_prog *p,
    int *rest, const char **err, int *no)
{
	int	 i = 0;

	*no = 0;
	memset(p, 0, sizeof(*p));
	if (na < 3 || a[0].type != IMAP_ARG_LIST || a[0].nlist == 0) {
		*err = "expected (sort criteria) charset search-keys";
		return -1;
	}
	while (i < a[0].nlist) {
		if (p->nkeys == IMAP_SORT_KEYS_MAX) {
			*err = "too many sort keys";
			return -1;
		}
		if (sort_crit(a[0].list, a[0].nlist, &i, &p->keys[p->nkeys++],
		    err) == -1)
			return -1;
	}
	if (imap_search_charset(&a[1], err, no) == -1)
		return -1;
	*rest = 2;
	return 0;
}

/* Whether a criterion is a string (else a number). */
static int
sort_is_str(enum imap_sort_crit c)
{
	return c != IMAP_SORT_ARRIVAL && c != IMAP_SORT_DATE &&
	    c != IMAP_SORT_SIZE;
}

static enum imap_key
sort_key_of(enum imap_sort_crit c)
{
	switch (c) {
	case IMAP_SORT_CC:
		return IMAP_KEY_CC;
	case IMAP_SORT_FROM:
		return IMAP_KEY_FROM;
	case IMAP_SORT_TO:
		return IMAP_KEY_TO;
	case IMAP_SORT_DISPLAYFROM:
		return IMAP_KEY_DISPLAYFROM;
	case IMAP_SORT_DISPLAYTO:
		return IMAP_KEY_DISPLAYTO;
	default:
		return IMAP_KEY_SUBJECT_BASE;
	}
}

struct sort_ctx {
	const struct imap_sort_prog	*p;
	int64_t				*val;	/* n x nkeys */
	char				*arena;
};

void
imap_casemap_fold(char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (s[i] >= 'a' && s[i] <= 'z')
			s[i] -= 'a' - 'A';
}

/* One message's value for a numeric criterion. */
static int64_t
sort_num(const struct imap_msg_access *acc, void *ctx, uint32_t idx,
    enum imap_sort_crit c)
{
	uint64_t	 size;
	time_t		 t;
	int		 tz;

	if (c == IMAP_SORT_SIZE)
		return acc->size != NULL && acc->size(ctx, idx, &size) == 0 ?
		    (int64_t)size : 0;
	/* RFC 5256 3: DATE falls back to the internal date. */
	if (c == IMAP_SORT_DATE && acc->sent != NULL &&
	    acc->sent(ctx, idx, &t, &tz) == 0)
		return (int64_t)t;
	if (acc->internal != NULL && acc->internal(ctx, idx, &t, &tz) == 0)
		return (int64_t)t;
	return 0;
}

/* Appends one message's string key to the arena; its offset or -1. */
static int64_t
sort_str(const struct imap_msg_access *acc, void *ctx, uint32_t idx,
    enum imap_key key, char **arena, size_t *len, size_t *cap)
{
	size_t	 ncap, off = *len;
	char	*p;
	int	 n;

	if (*cap - *len < IMAP_SORT_KEY_MAX_BYTES + 1) {
		ncap = *cap == 0 ? 65536 : *cap * 2;
		if ((p = realloc(*arena, ncap)) == NULL)
			return -1;
		*arena = p;
		*cap = ncap;
	}
	n = acc->string != NULL ? acc->string(ctx, idx, key, *arena + off,
	    IMAP_SORT_KEY_MAX_BYTES + 1) : -1;
	if (n < 0)
		n = 0;
	if (n > IMAP_SORT_KEY_MAX_BYTES)
		n = IMAP_SORT_KEY_MAX_BYTES;
	(*arena)[off + (size_t)n] = '\0';
	/* Folded once here, the sort compares with strcmp(). */
	imap_casemap_fold(*arena + off, (size_t)n);
	*len += (size_t)n + 1;
	return (int64_t)off;
}

static int
sort_cmp(const void *x, const void *y, void *arg)
{
	const struct sort_ctx	*c = arg;
	const uint32_t		*a = x, *b = y;
	const int64_t		*va, *vb;
	int			 k, r, nk = c->p->nkeys;

	va = &c->val[(size_t)a[1] * (size_t)nk];
	vb = &c->val[(size_t)b[1] * (size_t)nk];
	for (k = 0; k < nk; k++) {
		if (sort_is_str(c->p->keys[k].crit))
			r = strcmp(c->arena + va[k], c->arena + vb[k]);
		else
			r = (va[k] > vb[k]) - (va[k] < vb[k]);
		if (r != 0)
			return c->p->keys[k].reverse ? -r : r;
	}
	return (a[0] > b[0]) - (a[0] < b[0]);
}

int
imap_sort(const struct imap_sort_prog *p, const struct imap_msg_access *acc,
    void *ctx, uint32_t *idx, size_t n)
{
	struct sort_ctx	 c = { p, NULL, NULL };
	uint32_t	*pair = NULL;
	size_t		 i, len = 0, cap = 0;
	int		 k, r = -1;

	if (n > IMAP_SORT_MSGS_MAX || p->nkeys == 0)
		return n > IMAP_SORT_MSGS_MAX ? -1 : 0;
	if ((c.val = reallocarray(NULL, n ? n : 1, sizeof(int64_t) *
	    (size_t)p->nkeys)) == NULL ||
	    (pair = reallocarray(NULL, n ? n : 1, 2 * sizeof(uint32_t))) ==
	    NULL)
		goto done;
	for (i = 0; i < n; i++) {
		pair[2 * i] = idx[i];
		pair[2 * i + 1] = (uint32_t)i;
		for (k = 0; k < p->nkeys; k++) {
			int64_t	*v = &c.val[i * (size_t)p->nkeys + (size_t)k];

			if (!sort_is_str(p->keys[k].crit))
				*v = sort_num(acc, ctx, idx[i],
				    p->keys[k].crit);
			else if ((*v = sort_str(acc, ctx, idx[i],
			    sort_key_of(p->keys[k].crit), &c.arena, &len,
			    &cap)) == -1)
				goto done;
		}
	}
	qsort_r(pair, n, 2 * sizeof(uint32_t), sort_cmp, &c);
	for (i = 0; i < n; i++)
		idx[i] = pair[2 * i];
	r = 0;
done:
	free(c.val);
	free(c.arena);
	free(pair);
	return r;
}
