/*
 * LIST patterns (RFC 3501 6.3.8): '*' matches any run of characters,
 * '%' any run without the separator '/'.  Run by the IMAP mailbox
 * process (the mail user, chrooted in the mail home, seccomp set of
 * imapd-user) and the unit tests.
 *
 * Bounded time whatever the pattern: it is run as a set of states (one
 * bit per position of the pattern, runs of wildcards made one), every
 * character of a name moving all of them at once, so a match costs
 * O(len(name) * len(pattern) / 64) word operations, never backtracking.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap_store_int.h"

#define MATCH_WORDS	((IMAP_PATTERN_MAX_BYTES + 1 + 63) / 64)

struct match_set {
	uint64_t	 w[MATCH_WORDS];
};

struct match_prog {
	struct match_set lit[256];	/* positions of each literal byte */
	struct match_set star, pct, wild;
	size_t		 n;		/* items: runs of wildcards as one */
	size_t		 words;
};

static int
match_get(const struct match_set *s, size_t j)
{
	return (s->w[j / 64] >> (j % 64)) & 1;
}

static void
match_set(struct match_set *s, size_t j)
{
	s->w[j / 64] |= (uint64_t)1 << (j % 64);
}

/* Runs of wildcards as one: '*' if any of them is, else '%'. */
static int
match_compile(struct match_prog *mp, const char *pat)
{
	size_t	 i;

	memset(mp, 0, sizeof(*mp));
	for (i = 0; pat[i] != '\0'; i++) {
		if (mp->n >= IMAP_PATTERN_MAX_BYTES)
			return -1;
		if (pat[i] == '*' || pat[i] == '%') {
			if (mp->n > 0 && match_get(&mp->wild, mp->n - 1)) {
				if (pat[i] == '*') {
					mp->pct.w[(mp->n - 1) / 64] &=
					    ~((uint64_t)1 << ((mp->n - 1) % 64));
					match_set(&mp->star, mp->n - 1);
				}
				continue;
			}
			match_set(&mp->wild, mp->n);
			match_set(pat[i] == '*' ? &mp->star : &mp->pct, mp->n);
		} else
			match_set(&mp->lit[(unsigned char)pat[i]], mp->n);
		mp->n++;
	}
	mp->words = (mp->n + 1 + 63) / 64;
	return 0;
}

/* s |= (s & m) << 1, over all the words. */
static void
match_shift_or(const struct match_prog *mp, struct match_set *dst,
    const struct match_set *s, const struct match_set *m)
{
	uint64_t	 carry = 0, v;
	size_t		 w;

	for (w = 0; w < mp->words; w++) {
		v = s->w[w] & m->w[w];
		dst->w[w] |= (v << 1) | carry;
		carry = v >> 63;
	}
}

/* Wildcards match nothing too: a state at one also stands after it. */
static void
match_closure(const struct match_prog *mp, struct match_set *s)
{
	match_shift_or(mp, s, s, &mp->wild);
}

static void
match_step(const struct match_prog *mp, const struct match_set *cur,
    struct match_set *next, char c)
{
	size_t	 w;

	for (w = 0; w < mp->words; w++) {
		next->w[w] = cur->w[w] & mp->star.w[w];
		if (c != '/')
			next->w[w] |= cur->w[w] & mp->pct.w[w];
	}
	match_shift_or(mp, next, cur, &mp->lit[(unsigned char)c]);
	match_closure(mp, next);
}

static int
match_run(const struct match_prog *mp, const char *name)
{
	struct match_set	 a, b, *cur = &a, *next = &b, *t;
	size_t			 w, any;

	memset(&a, 0, sizeof(a));
	match_set(&a, 0);
	match_closure(mp, &a);
	for (; *name != '\0'; name++) {
		match_step(mp, cur, next, *name);
		t = cur;
		cur = next;
		next = t;
		for (w = 0, any = 0; w < mp->words; w++)
			any |= cur->w[w] != 0;
		if (!any)
			return 0;
	}
	return match_get(cur, mp->n);
}

struct folder_match {
	struct match_prog	 pat;
	struct match_prog	 inbox;		/* "inbox..." made "INBOX..." */
	int			 has_inbox;
};

/*
 * INBOX is matched without case (RFC 3501 5.1): a name under INBOX is
 * also tried against the pattern with its first five letters made
 * upper case when they spell "inbox".  NULL: too long, or no memory.
 */
struct folder_match *
folder_match_new(const char *pattern)
{
	struct folder_match	*fm;
	char			 up[IMAP_PATTERN_MAX_BYTES + 1];
	size_t			 i;

	if (strlen(pattern) > IMAP_PATTERN_MAX_BYTES ||
	    (fm = malloc(sizeof(*fm))) == NULL)
		return NULL;
	if (match_compile(&fm->pat, pattern) == -1) {
		free(fm);
		return NULL;
	}
	fm->has_inbox = strncasecmp(pattern, "INBOX", 5) == 0;
	if (fm->has_inbox) {
		(void)strlcpy(up, pattern, sizeof(up));
		for (i = 0; i < 5; i++)
			up[i] = "INBOX"[i];
		(void)match_compile(&fm->inbox, up);
	}
	return fm;
}

void
folder_match_free(struct folder_match *fm)
{
	free(fm);
}

int
folder_match(const struct folder_match *fm, const char *name)
{
	if (match_run(&fm->pat, name))
		return 1;
	return fm->has_inbox && strncmp(name, "INBOX", 5) == 0 &&
	    (name[5] == '\0' || name[5] == '/') && match_run(&fm->inbox, name);
}

int
imap_folder_match(const char *pattern, const char *name)
{
	struct folder_match	*fm;
	int			 rc;

	if ((fm = folder_match_new(pattern)) == NULL)
		return 0;
	rc = folder_match(fm, name);
	folder_match_free(fm);
	return rc;
}
