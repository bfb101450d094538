/*
 * The relay's batches: one RELAY_START each.  The manager sends the
 * envelopes of a message for one domain in one RELAY_START when they
 * are due together; those that come apart (expanded a moment later,
 * retried on their own) but wait for the same destination at once are
 * put back together here, so that one transaction carries every
 * recipient of a message for a destination, up to
 * relay_rcpts_per_txn: the first batch takes the others' recipients
 * (relay_batch_merge) and gives each its results back at the end
 * (relay_batch_split), each answered by its own RELAY_RESULT.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "relay.h"

/* Waiting batches looked at for one of the same message. */
#define RELAY_BATCH_GATHER_SCAN	64

void
relay_batch_free(struct relay_batch *b)
{
	struct relay_batch	*x;

	if (b == NULL)
		return;
	while ((x = TAILQ_FIRST(&b->merged)) != NULL) {
		TAILQ_REMOVE(&b->merged, x, entry);
		relay_batch_free(x);
	}
	if (b->fd != -1)
		(void)close(b->fd);
	free(b->rcpts);
	free(b->mrcpts);
	free(b);
}

int
relay_batch_mergeable(const struct relay_batch *b,
    const struct relay_batch *x, size_t max)
{
	return b->gen == x->gen && TAILQ_EMPTY(&x->merged) &&
	    b->nrcpt + x->nrcpt <= max &&
	    strcmp(b->msgid, x->msgid) == 0 &&
	    strcmp(b->domain, x->domain) == 0 &&
	    strcmp(b->sender, x->sender) == 0 &&
	    strcmp(b->envid, x->envid) == 0 &&
	    b->flags == x->flags && b->ret == x->ret &&
	    b->msg.flags == x->msg.flags;
}

/* relay_smtp's view of rcpt i, pointing into rcpts[] (after a move). */
static void
relay_batch_view(struct relay_batch *b, size_t i)
{
	struct relay_brcpt	*r = &b->rcpts[i];
	struct relay_rcpt	*mr = &b->mrcpts[i];

	memset(mr, 0, sizeof(*mr));
	mr->addr = r->rcpt;
	mr->notify = r->notify != 0 ? r->notify_s : NULL;
	mr->orcpt = r->orcpt[0] != '\0' ? r->orcpt : NULL;
}

void
relay_batch_merge(struct relay_batch *b, struct relay_batch *x)
{
	size_t	 n = b->nrcpt + x->nrcpt, i;

	if ((b->rcpts = reallocarray(b->rcpts, n, sizeof(*b->rcpts))) ==
	    NULL || (b->mrcpts = reallocarray(b->mrcpts, n,
	    sizeof(*b->mrcpts))) == NULL)
		fatal("- relay reallocarray");
	memcpy(b->rcpts + b->nrcpt, x->rcpts, x->nrcpt * sizeof(*x->rcpts));
	b->nrcpt = n;
	for (i = 0; i < n; i++)
		relay_batch_view(b, i);
	b->msg.rcpts = b->mrcpts;
	b->msg.nrcpts = n;
	TAILQ_INSERT_TAIL(&b->merged, x, entry);
	log_debug("%s relay merged rcpts=%zu", b->msgid, n);
}

void
relay_batch_split(struct relay_batch *b, void (*done)(struct relay_batch *))
{
	struct relay_batch	*x;
	size_t			 off = b->own;

	while ((x = TAILQ_FIRST(&b->merged)) != NULL) {
		TAILQ_REMOVE(&b->merged, x, entry);
		memcpy(x->rcpts, b->rcpts + off, x->nrcpt * sizeof(*x->rcpts));
		off += x->nrcpt;
		done(x);
	}
	b->nrcpt = b->own;
	b->msg.nrcpts = b->own;
}

/* Envelope ids of one message in their order: ".9" before ".10". */
static int
relay_batch_evpid_cmp(const void *pa, const void *pb)
{
	const struct relay_batch *a = *(struct relay_batch * const *)pa;
	const struct relay_batch *b = *(struct relay_batch * const *)pb;
	size_t			  la = strlen(a->rcpts[0].evpid);
	size_t			  lb = strlen(b->rcpts[0].evpid);

	if (la != lb)
		return la < lb ? -1 : 1;
	return strcmp(a->rcpts[0].evpid, b->rcpts[0].evpid);
}

/*
 * Takes from queue the batches of b's message (b itself taken already)
 * that fit with it in one transaction of at most max rcpts, and merges
 * them in envelope order, so in the order the client gave the rcpts;
 * the first RELAY_BATCH_GATHER_SCAN waiting are looked at, no more, so
 * that a long queue costs no more per message.  Returns the batch that
 * carries them all; *taken is how many left the queue.
 */
struct relay_batch *
relay_batch_gather(struct relay_batches *queue, struct relay_batch *b,
    size_t max, size_t *taken)
{
	struct relay_batch	*x, *next, *set[RELAY_BATCH_GATHER_SCAN + 1];
	size_t			 seen = 0, n = 1, total = b->nrcpt, i;

	*taken = 0;
	if (!TAILQ_EMPTY(&b->merged) || total >= max)
		return b;
	set[0] = b;
	for (x = TAILQ_FIRST(queue); x != NULL &&
	    seen++ < RELAY_BATCH_GATHER_SCAN; x = next) {
		next = TAILQ_NEXT(x, entry);
		if (!relay_batch_mergeable(b, x, max - (total - b->nrcpt)))
			continue;
		TAILQ_REMOVE(queue, x, entry);
		total += x->nrcpt;
		set[n++] = x;
	}
	*taken = n - 1;
	if (n == 1)
		return b;
	qsort(set, n, sizeof(set[0]), relay_batch_evpid_cmp);
	for (i = 1; i < n; i++)
		relay_batch_merge(set[0], set[i]);
	return set[0];
}
