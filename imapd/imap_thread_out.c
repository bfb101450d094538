/*
 * imapd/imap_thread_out.c: THREAD (RFC 5256 4): the arguments, the
 * forest both algorithms build (containers in one array, sibling lists
 * linked both ways), ORDEREDSUBJECT, the sorting of every sibling list
 * and of the threads by sent date (RFC 5256 4 REFERENCES step 6), and
 * the answer written without recursion, so that a reply chain 100,000
 * messages deep costs no stack.  Runs in the mailbox process (the mail
 * user, chroot, seccomp "imapd-user").
 */
#include <sys/types.h>

#include <stdlib.h>
#include <string.h>

#include "imap_search.h"
#include "imap_thread.h"

int
imap_thread_parse(const struct imap_arg *a, int na,
    enum imap_thread_alg *alg, int *rest, const char **err, int *no)
{
	*no = 0;
	if (na < 3) {
		*err = "expected algorithm charset search-keys";
		return -1;
	}
	if (imap_arg_is_atom(&a[0], "ORDEREDSUBJECT"))
		*alg = IMAP_THREAD_ORDEREDSUBJECT;
	else if (imap_arg_is_atom(&a[0], "REFERENCES"))
		*alg = IMAP_THREAD_REFERENCES;
	else {
		*err = "unknown threading algorithm";
		return -1;
	}
	if (imap_search_charset(&a[1], err, no) == -1)
		return -1;
	*rest = 2;
	return 0;
}

int
tf_new(struct tforest *f, int32_t msg)
{
	struct tcont	*p;
	size_t		 cap;

	if (f->n == f->cap) {
		cap = f->cap == 0 ? 64 : f->cap * 2;
		if ((p = reallocarray(f->c, cap, sizeof(*p))) == NULL)
			return -1;
		f->c = p;
		f->cap = cap;
	}
	p = &f->c[f->n];
	memset(p, 0, sizeof(*p));
	p->parent = p->first = p->last = p->next = p->prev = -1;
	p->msg = msg;
	return (int)f->n++;
}

void
tf_unlink(struct tforest *f, int32_t k)
{
	struct tcont	*c = &f->c[k];

	if (c->parent == -1)
		return;
	if (c->prev != -1)
		f->c[c->prev].next = c->next;
	else
		f->c[c->parent].first = c->next;
	if (c->next != -1)
		f->c[c->next].prev = c->prev;
	else
		f->c[c->parent].last = c->prev;
	c->parent = c->next = c->prev = -1;
}

void
tf_add_child(struct tforest *f, int32_t parent, int32_t child)
{
	struct tcont	*p = &f->c[parent], *c = &f->c[child];

	tf_unlink(f, child);
	c->parent = parent;
	c->prev = p->last;
	c->next = -1;
	if (p->last != -1)
		f->c[p->last].next = child;
	else
		p->first = child;
	p->last = child;
}

ssize_t
tf_str(struct tforest *f, const char *s, size_t len)
{
	size_t	 cap, off = f->alen;
	char	*p;

	if (f->acap - f->alen < len + 1) {
		cap = f->acap == 0 ? 65536 : f->acap;
		while (cap - f->alen < len + 1)
			cap *= 2;
		if ((p = realloc(f->arena, cap)) == NULL)
			return -1;
		f->arena = p;
		f->acap = cap;
	}
	memcpy(f->arena + off, s, len);
	f->arena[off + len] = '\0';
	f->alen += len + 1;
	return (ssize_t)off;
}

int
tf_load(struct tforest *f, const struct imap_msg_access *acc, void *ctx,
    const uint32_t *idx, size_t n)
{
	char	 buf[IMAP_SORT_KEY_MAX_BYTES + 1];
	ssize_t	 off;
	size_t	 i;
	time_t	 t;
	int	 tz, len;

	if ((f->mcont = reallocarray(NULL, n + 1, sizeof(*f->mcont))) ==
	    NULL || (f->subj = reallocarray(NULL, n + 1, sizeof(*f->subj))) ==
	    NULL || (f->reply = calloc(n + 1, 1)) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if ((f->mcont[i] = tf_new(f, (int32_t)i)) == -1)
			return -1;
		f->c[f->mcont[i]].order = (uint32_t)i;
		/* RFC 5256 4: the sent date, else the internal date. */
		if ((acc->sent == NULL || acc->sent(ctx, idx[i], &t, &tz) ==
		    -1) && (acc->internal == NULL || acc->internal(ctx, idx[i],
		    &t, &tz) == -1))
			t = 0;
		f->c[f->mcont[i]].date = (int64_t)t;
		len = acc->string(ctx, idx[i], IMAP_KEY_SUBJECT_BASE, buf,
		    sizeof(buf));
		len = len < 0 ? 0 : len > IMAP_SORT_KEY_MAX_BYTES ?
		    IMAP_SORT_KEY_MAX_BYTES : len;
		imap_casemap_fold(buf, (size_t)len);
		if ((off = tf_str(f, buf, (size_t)len)) == -1)
			return -1;
		f->subj[i] = (size_t)off;
		len = acc->string(ctx, idx[i], IMAP_KEY_SUBJECT_REPLY, buf,
		    sizeof(buf));
		f->reply[i] = len > 0 && buf[0] == '1';
	}
	return 0;
}

void
tf_free(struct tforest *f)
{
	free(f->c);
	free(f->roots);
	free(f->mcont);
	free(f->subj);
	free(f->reply);
	free(f->arena);
}

/* Sibling order: sent date, then the order of the SEARCH's result. */
static int
tf_cmp(const void *x, const void *y, void *arg)
{
	const struct tforest	*f = arg;
	const struct tcont	*a = &f->c[*(const int32_t *)x];
	const struct tcont	*b = &f->c[*(const int32_t *)y];

	if (a->date != b->date)
		return a->date < b->date ? -1 : 1;
	return (a->order > b->order) - (a->order < b->order);
}

/* Sorts every sibling list, then (dummies dated by their first child)
 * the roots.  tmp holds f->n entries. */
static void
tf_sort(struct tforest *f, int32_t *tmp)
{
	size_t	 i, k, m;
	int32_t	 c;

	for (i = 0; i < f->n; i++) {
		if (f->c[i].first == f->c[i].last)
			continue;
		for (k = 0, c = f->c[i].first; c != -1; c = f->c[c].next)
			tmp[k++] = c;
		qsort_r(tmp, k, sizeof(*tmp), tf_cmp, f);
		f->c[i].first = f->c[i].last = -1;
		for (m = 0; m < k; m++) {
			f->c[tmp[m]].parent = -1;
			tf_add_child(f, (int32_t)i, tmp[m]);
		}
	}
	for (i = 0; i < f->nroots; i++) {
		struct tcont *r = &f->c[f->roots[i]];

		if (r->msg == -1 && r->first != -1) {
			r->date = f->c[r->first].date;
			r->order = f->c[r->first].order;
		}
	}
	if (f->nroots > 0)
		qsort_r(f->roots, f->nroots, sizeof(*f->roots), tf_cmp, f);
}

static int
tf_ordcmp(const void *x, const void *y, void *arg)
{
	const struct tforest	*f = arg;
	int32_t			 a = *(const int32_t *)x;
	int32_t			 b = *(const int32_t *)y;
	int			 r;

	r = strcmp(f->arena + f->subj[a], f->arena + f->subj[b]);
	return r != 0 ? r : tf_cmp(&f->mcont[a], &f->mcont[b], arg);
}

/* ORDEREDSUBJECT: one thread per base subject, the first its parent. */
static int
tf_orderedsubject(struct tforest *f, size_t n, int32_t *tmp)
{
	size_t	 i;
	int32_t	 root = -1;

	for (i = 0; i < n; i++)
		tmp[i] = (int32_t)i;
	if (n > 0)
		qsort_r(tmp, n, sizeof(*tmp), tf_ordcmp, f);
	for (i = 0; i < n; i++) {
		if (root != -1 && strcmp(f->arena +
		    f->subj[f->c[root].msg], f->arena + f->subj[tmp[i]]) == 0) {
			tf_add_child(f, root, f->mcont[tmp[i]]);
			continue;
		}
		root = f->mcont[tmp[i]];
		f->roots[f->nroots++] = root;
	}
	return 0;
}

/* One message's number in the answer. */
static uint32_t
tf_num(const struct imap_msg_access *acc, void *ctx, const uint32_t *idx,
    int32_t msg, int uid)
{
	uint32_t	 u = 0;

	if (!uid)
		return idx[msg] + 1;
	if (acc->uid != NULL)
		(void)acc->uid(ctx, idx[msg], &u);
	return u;
}

/*
 * "(a b (c)(d e))": a chain of only children is written in line, two
 * children or more each in parentheses (RFC 5256 4 "thread-list").
 * stack holds f->n entries: the next sibling to write at each level.
 */
static void
tf_write_thread(struct tforest *f, int32_t root, int32_t *stack,
    const struct imap_msg_access *acc, void *ctx, const uint32_t *idx,
    int uid, struct imap_wbuf *wb)
{
	size_t	 sp = 0;
	int32_t	 cur = root;

	(void)imap_put(wb, "(", 1);
	for (;;) {
		for (;;) {
			const struct tcont *c = &f->c[cur];

			if (c->msg != -1)
				(void)imap_put_u32(wb, tf_num(acc, ctx, idx,
				    c->msg, uid));
			if (c->first == -1)
				break;
			if (c->msg != -1)
				(void)imap_put(wb, " ", 1);
			if (c->first == c->last && c->msg != -1) {
				cur = c->first;
				continue;
			}
			stack[sp++] = c->first;
			break;
		}
		/* A level done: close its last child. */
		while (sp > 0 && stack[sp - 1] == -1) {
			(void)imap_put(wb, ")", 1);
			sp--;
		}
		if (sp == 0)
			break;
		/* A child of a multi-child node: in its own parentheses. */
		if (f->c[stack[sp - 1]].prev != -1)
			(void)imap_put(wb, ")", 1);
		(void)imap_put(wb, "(", 1);
		cur = stack[sp - 1];
		stack[sp - 1] = f->c[cur].next;
	}
	(void)imap_put(wb, ")", 1);
}

int
imap_thread(enum imap_thread_alg alg, const struct imap_msg_access *acc,
    void *ctx, const uint32_t *idx, size_t n, int uid, struct imap_wbuf *wb)
{
	struct tforest	 f;
	int32_t		*tmp = NULL;
	size_t		 i;
	int		 r = -1;

	memset(&f, 0, sizeof(f));
	if (n > IMAP_SORT_MSGS_MAX || acc->string == NULL)
		return -1;
	if (tf_load(&f, acc, ctx, idx, n) == -1 ||
	    (f.roots = reallocarray(NULL, n + 1, sizeof(*f.roots))) == NULL)
		goto done;
	if (alg == IMAP_THREAD_REFERENCES) {
		if (tf_references(&f, acc, ctx, idx, n) == -1)
			goto done;
	} else if ((tmp = reallocarray(NULL, n + 1, sizeof(*tmp))) == NULL ||
	    tf_orderedsubject(&f, n, tmp) == -1)
		goto done;
	free(tmp);
	if ((tmp = reallocarray(NULL, f.n + 1, sizeof(*tmp))) == NULL)
		goto done;
	tf_sort(&f, tmp);
	(void)imap_put(wb, "* THREAD", 8);
	if (f.nroots > 0)
		(void)imap_put(wb, " ", 1);
	for (i = 0; i < f.nroots; i++)
		tf_write_thread(&f, f.roots[i], tmp, acc, ctx, idx, uid, wb);
	r = imap_put(wb, "\r\n", 2);
done:
	free(tmp);
	tf_free(&f);
	return r;
}
