/*
 * imapd/imap_seqset.c: sequence sets (RFC 3501 9 sequence-set, RFC 9051
 * 9 with "$" of RFC 5182) as lists of ranges: parsed and bounded, then
 * resolved against the mailbox's current maximum into sorted, merged
 * ranges with a membership test and an iterator.  Runs in the mailbox
 * process (the mail user, chroot, seccomp "imapd-user"); no I/O.
 */
#include <sys/types.h>

#include <stdlib.h>
#include <string.h>

#include "imap_proto.h"

/* One seq-number ("*" or nz-number) at s[*ip]. */
static int
seq_number(const char *s, size_t len, size_t *ip, uint32_t *v)
{
	uint64_t	 n;
	size_t		 i = *ip, start = i;

	if (i < len && s[i] == '*') {
		*v = UINT32_MAX;
		*ip = i + 1;
		return 0;
	}
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++;
	if (i == start || s[start] == '0' ||
	    imap_parse_number64(s + start, i - start, UINT32_MAX, &n) == -1)
		return -1;
	*v = (uint32_t)n;
	*ip = i;
	return 0;
}

/* Adds a range, growing the array within IMAP_SEQSET_RANGES_MAX. */
static int
seq_add(struct imap_seqset *set, size_t *cap, uint32_t lo, uint32_t hi)
{
	struct imap_range	*r;
	size_t			 ncap;

	if (set->n >= IMAP_SEQSET_RANGES_MAX)
		return -1;
	if (set->n == *cap) {
		ncap = *cap == 0 ? 8 : *cap * 2;
		if (ncap > IMAP_SEQSET_RANGES_MAX)
			ncap = IMAP_SEQSET_RANGES_MAX;
		if ((r = reallocarray(set->r, ncap, sizeof(*r))) == NULL)
			return -1;
		set->r = r;
		*cap = ncap;
	}
	set->r[set->n].lo = lo < hi ? lo : hi;
	set->r[set->n].hi = lo < hi ? hi : lo;
	set->n++;
	return 0;
}

int
imap_seqset_parse(const char *s, size_t len, struct imap_seqset *set,
    const char **err)
{
	size_t		 i = 0, cap = 0;
	uint32_t	 lo, hi;

	memset(set, 0, sizeof(*set));
	if (len == 1 && s[0] == '$') {
		set->saved = 1;
		return 0;
	}
	for (;;) {
		if (seq_number(s, len, &i, &lo) == -1)
			goto bad;
		hi = lo;
		if (i < len && s[i] == ':') {
			i++;
			if (seq_number(s, len, &i, &hi) == -1)
				goto bad;
		}
		if (lo == UINT32_MAX || hi == UINT32_MAX)
			set->star = 1;
		if (seq_add(set, &cap, lo, hi) == -1) {
			imap_seqset_free(set);
			*err = "sequence set too long";
			return -1;
		}
		if (i == len)
			return 0;
		if (s[i++] != ',')
			goto bad;
	}
bad:
	imap_seqset_free(set);
	*err = "invalid sequence set";
	return -1;
}

int
imap_seqset_from_list(const uint32_t *v, size_t n, struct imap_seqset *set)
{
	size_t	 i, cap = 0;

	memset(set, 0, sizeof(*set));
	for (i = 0; i < n; i++) {
		if (set->n > 0 && set->r[set->n - 1].hi != UINT32_MAX &&
		    set->r[set->n - 1].hi + 1 == v[i]) {
			set->r[set->n - 1].hi = v[i];
			continue;
		}
		if (seq_add(set, &cap, v[i], v[i]) == -1) {
			imap_seqset_free(set);
			return -1;
		}
	}
	imap_seqset_resolve(set, UINT32_MAX);
	return 0;
}

static int
seq_cmp(const void *a, const void *b)
{
	const struct imap_range	*x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return (x->hi > y->hi) - (x->hi < y->hi);
}

void
imap_seqset_resolve(struct imap_seqset *set, uint32_t max)
{
	size_t	 i, o;

	/* '*' is max; a range past max keeps what it holds up to max. */
	for (i = 0, o = 0; i < set->n; i++) {
		struct imap_range r = set->r[i];

		if (r.hi == UINT32_MAX && max != UINT32_MAX)
			r.hi = max;
		if (r.lo == UINT32_MAX)
			r.lo = max;
		if (r.lo > r.hi) {
			uint32_t t = r.lo;

			r.lo = r.hi;
			r.hi = t;
		}
		if (r.hi > max)
			r.hi = max;
		if (r.lo == 0 || r.lo > r.hi)
			continue;	/* nothing left (max 0) */
		set->r[o++] = r;
	}
	set->n = o;
	if (set->n == 0)
		return;
	qsort(set->r, set->n, sizeof(set->r[0]), seq_cmp);
	for (i = 0, o = 0; i < set->n; i++) {
		if (o > 0 && (set->r[o - 1].hi == UINT32_MAX ||
		    set->r[i].lo <= set->r[o - 1].hi + 1)) {
			if (set->r[i].hi > set->r[o - 1].hi)
				set->r[o - 1].hi = set->r[i].hi;
			continue;
		}
		set->r[o++] = set->r[i];
	}
	set->n = o;
}

int
imap_seqset_contains(const struct imap_seqset *set, uint32_t v)
{
	size_t	 lo = 0, hi = set->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (v < set->r[mid].lo)
			hi = mid;
		else if (v > set->r[mid].hi)
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

uint64_t
imap_seqset_count(const struct imap_seqset *set)
{
	uint64_t	 n = 0;
	size_t		 i;

	for (i = 0; i < set->n; i++)
		n += (uint64_t)set->r[i].hi - set->r[i].lo + 1;
	return n;
}

int
imap_seqset_next(const struct imap_seqset *set, struct imap_seqset_iter *it,
    uint32_t *v)
{
	if (!it->started) {
		it->started = 1;
		it->i = 0;
		if (set->n == 0)
			return 0;
		it->next = set->r[0].lo;
	}
	if (it->i >= set->n)
		return 0;
	*v = it->next;
	if (it->next == set->r[it->i].hi) {
		if (++it->i < set->n)
			it->next = set->r[it->i].lo;
	} else
		it->next++;
	return 1;
}

void
imap_seqset_free(struct imap_seqset *set)
{
	free(set->r);
	set->r = NULL;
	set->n = 0;
}
