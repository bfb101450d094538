/*
 * imapd/imap_thread.c: THREAD=REFERENCES (RFC 5256 4, after Jamie
 * Zawinski's description): messages linked by their References (or
 * In-Reply-To) ids, dummies pruned, threads of the same base subject
 * gathered.  Ids live in one open-addressing table; every walk is a loop
 * (no recursion), and the loop check walks at most
 * IMAP_THREAD_DEPTH_MAX parents, so a hostile mailbox costs bounded
 * time.  Runs in the mailbox process (the mail user, chroot, seccomp
 * "imapd-user").
 */
#include <sys/types.h>

#include <stdlib.h>
#include <string.h>

#include "imap_search.h"
#include "imap_thread.h"

#define DEAD	(-2)	/* a container's msg once pruned away */

struct tid {
	uint32_t	*slot;		/* container + 1, 0 when empty */
	size_t		 mask;
};

/* FNV-1a. */
static uint32_t
tid_hash(const char *s, size_t len)
{
	uint32_t	 h = 2166136261u;
	size_t		 i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

static int
tid_init(struct tid *t, size_t want)
{
	size_t	 n = 64;

	while (n < 2 * want)
		n *= 2;
	if ((t->slot = calloc(n, sizeof(*t->slot))) == NULL)
		return -1;
	t->mask = n - 1;
	return 0;
}

/*
 * The container of a message-id; with create, a new dummy when none
 * (-1 past IMAP_THREAD_CONT_MAX: the id is then passed over).
 */
static int32_t
tid_get(struct tforest *f, struct tid *t, const char *s, size_t len,
    int32_t create_for, size_t max)
{
	size_t		 h = tid_hash(s, len) & t->mask;
	ssize_t		 off;
	int32_t		 c;

	for (; t->slot[h] != 0; h = (h + 1) & t->mask) {
		c = (int32_t)t->slot[h] - 1;
		if (strncmp(f->arena + f->c[c].id - 1, s, len) == 0 &&
		    f->arena[f->c[c].id - 1 + len] == '\0')
			return c;
	}
	if (create_for == DEAD || f->n >= max)
		return -1;
	if ((off = tf_str(f, s, len)) == -1)
		return -1;
	c = create_for >= 0 ? create_for : tf_new(f, -1);
	if (c == -1)
		return -1;
	f->c[c].id = (uint32_t)off + 1;
	t->slot[h] = (uint32_t)c + 1;
	return c;
}

/* Whether making child a child of parent would close a loop. */
static int
tf_loops(const struct tforest *f, int32_t parent, int32_t child)
{
	int	 steps = 0;

	if (f->c[child].first == -1)
		return parent == child;
	for (; parent != -1; parent = f->c[parent].parent)
		if (parent == child || ++steps > IMAP_THREAD_DEPTH_MAX)
			return 1;
	return 0;
}

/* The ids "<a> <b>" in s, the last IMAP_THREAD_REFS_MAX of them. */
static int
tf_ids(const char *s, const char *id[], size_t len[])
{
	const char	*p = s, *e;
	int		 n = 0;

	while ((p = strchr(p, '<')) != NULL && (e = strchr(p, '>')) != NULL) {
		if (n == IMAP_THREAD_REFS_MAX) {
			memmove(id, id + 1, (n - 1) * sizeof(*id));
			memmove(len, len + 1, (n - 1) * sizeof(*len));
			n--;
		}
		id[n] = p;
		len[n++] = (size_t)(e - p + 1);
		p = e + 1;
	}
	return n;
}

/* Step 1 for message i: its references linked, then itself. */
static int
tf_link_msg(struct tforest *f, struct tid *t, const struct imap_msg_access
    *acc, void *ctx, uint32_t midx, int32_t own, char *buf, size_t max)
{
	const char	*id[IMAP_THREAD_REFS_MAX];
	size_t		 len[IMAP_THREAD_REFS_MAX];
	int32_t		 prev = -1, c;
	int		 i, n;

	if (acc->string(ctx, midx, IMAP_KEY_REFERENCES, buf,
	    IMAP_THREAD_REFS_MAX_BYTES + 1) < 0)
		buf[0] = '\0';
	buf[IMAP_THREAD_REFS_MAX_BYTES] = '\0';
	n = tf_ids(buf, id, len);
	for (i = 0; i < n; i++) {
		c = tid_get(f, t, id[i], len[i], -1, max);
		/* 1A: link each to the next unless linked or a loop. */
		if (c != -1 && prev != -1 && c != prev &&
		    f->c[c].parent == -1 && !tf_loops(f, prev, c))
			tf_add_child(f, prev, c);
		prev = c;
	}
	/* 1C: the last reference is the parent; an older link goes. */
	tf_unlink(f, own);
	if (prev != -1 && prev != own && !tf_loops(f, prev, own))
		tf_add_child(f, prev, own);
	return 0;
}

/* Step 4: dummies without children go, their children move up. */
static void
tf_prune(struct tforest *f)
{
	size_t	 i;
	int32_t	 ch;

	for (i = 0; i < f->n; i++) {
		if (f->c[i].msg != -1 || f->c[i].parent == -1)
			continue;
		while ((ch = f->c[i].first) != -1)
			tf_add_child(f, f->c[i].parent, ch);
		tf_unlink(f, (int32_t)i);
		f->c[i].msg = DEAD;
	}
	for (i = 0; i < f->n; i++) {
		if (f->c[i].msg != -1 || f->c[i].parent != -1)
			continue;
		if (f->c[i].first != -1 && f->c[i].first == f->c[i].last)
			tf_unlink(f, f->c[i].first);
		if (f->c[i].first == -1)
			f->c[i].msg = DEAD;
	}
}

/* The message that gives a root its subject (a dummy: its first child). */
static int32_t
tf_subject_msg(const struct tforest *f, int32_t r)
{
	return f->c[r].msg >= 0 ? f->c[r].msg : f->c[f->c[r].first].msg;
}

/* 5B: r and the table's e share a subject; one thread they become. */
static int32_t
tf_merge(struct tforest *f, int32_t e, int32_t r)
{
	int32_t	 ch, d;
	int	 ed = f->c[e].msg == -1, rd = f->c[r].msg == -1;

	if (ed && rd) {
		while ((ch = f->c[r].first) != -1)
			tf_add_child(f, e, ch);
		f->c[r].msg = DEAD;
		return e;
	}
	if (ed || rd) {
		tf_add_child(f, ed ? e : r, ed ? r : e);
		return ed ? e : r;
	}
	if (!f->reply[f->c[e].msg] && f->reply[f->c[r].msg]) {
		tf_add_child(f, e, r);
		return e;
	}
	if ((d = tf_new(f, -1)) == -1)
		return -1;
	tf_add_child(f, d, e);
	tf_add_child(f, d, r);
	return d;
}

/* The subject table's slot for root r's subject. */
static uint32_t *
tf_subject_slot(struct tforest *f, struct tid *t, int32_t r)
{
	const char	*s = f->arena + f->subj[tf_subject_msg(f, r)];
	size_t		 h = tid_hash(s, strlen(s)) & t->mask;
	int32_t		 c;

	for (; t->slot[h] != 0; h = (h + 1) & t->mask) {
		c = (int32_t)t->slot[h] - 1;
		if (strcmp(f->arena + f->subj[tf_subject_msg(f, c)], s) == 0)
			return &t->slot[h];
	}
	return &t->slot[h];
}

/* Step 5: threads with the same base subject gathered. */
static int
tf_gather(struct tforest *f, size_t nroots)
{
	struct tid	 t;
	uint32_t	*slot;
	int32_t		 r, e, m, em;
	size_t		 i;

	if (tid_init(&t, nroots) == -1)
		return -1;
	for (i = 0; i < nroots; i++) {
		r = f->roots[i];
		m = tf_subject_msg(f, r);
		if (f->arena[f->subj[m]] == '\0')
			continue;
		slot = tf_subject_slot(f, &t, r);
		if (*slot != 0) {
			e = (int32_t)*slot - 1;
			em = tf_subject_msg(f, e);
			if (!(f->c[r].msg == -1 && f->c[e].msg != -1) &&
			    !(f->reply[em] && !f->reply[m] &&
			    f->c[r].msg != -1 && f->c[e].msg != -1))
				continue;
		}
		*slot = (uint32_t)r + 1;
	}
	for (i = 0; i < nroots; i++) {
		r = f->roots[i];
		if (f->c[r].msg == DEAD || f->c[r].parent != -1 ||
		    f->arena[f->subj[tf_subject_msg(f, r)]] == '\0')
			continue;
		slot = tf_subject_slot(f, &t, r);
		if (*slot == 0 || (e = (int32_t)*slot - 1) == r)
			continue;
		if ((e = tf_merge(f, e, r)) == -1) {
			free(t.slot);
			return -1;
		}
		*slot = (uint32_t)e + 1;
	}
	free(t.slot);
	return 0;
}

/* The roots: containers without a parent that were not pruned. */
static size_t
tf_roots(struct tforest *f)
{
	size_t	 i;

	f->nroots = 0;
	for (i = 0; i < f->n; i++)
		if (f->c[i].parent == -1 && f->c[i].msg != DEAD)
			f->roots[f->nroots++] = (int32_t)i;
	return f->nroots;
}

int
tf_references(struct tforest *f, const struct imap_msg_access *acc,
    void *ctx, const uint32_t *idx, size_t n)
{
	struct tid	 t;
	char		*buf;
	size_t		 i, max = IMAP_THREAD_CONT_MAX(n);
	int32_t		*roots;
	int		 r = -1, len;

	if ((buf = malloc(IMAP_THREAD_REFS_MAX_BYTES + 1)) == NULL)
		return -1;
	if (tid_init(&t, max) == -1) {
		free(buf);
		return -1;
	}
	/* The messages' own ids first: a duplicate stays apart (1B). */
	for (i = 0; i < n; i++) {
		len = acc->string(ctx, idx[i], IMAP_KEY_MESSAGE_ID, buf,
		    IMAP_THREAD_REFS_MAX_BYTES + 1);
		if (len > 0 && len <= IMAP_THREAD_REFS_MAX_BYTES &&
		    buf[0] == '<')
			(void)tid_get(f, &t, buf, (size_t)len, f->mcont[i],
			    max);
	}
	for (i = 0; i < n; i++)
		if (tf_link_msg(f, &t, acc, ctx, idx[i], f->mcont[i], buf,
		    max) == -1)
			goto done;
	tf_prune(f);
	if ((roots = reallocarray(f->roots, f->n + 1, sizeof(*roots))) ==
	    NULL)
		goto done;
	f->roots = roots;
	if (tf_gather(f, tf_roots(f)) == -1 ||
	    (roots = reallocarray(f->roots, f->n + 1, sizeof(*roots))) ==
	    NULL)
		goto done;
	f->roots = roots;
	(void)tf_roots(f);
	r = 0;
done:
	free(t.slot);
	free(buf);
	return r;
}
