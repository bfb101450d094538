/*
 * Requests out to a peer (authd, the delivery agent, the relay, a sync
 * thread), indexed by request id: an envelope in flight is in a tree
 * ordered by (reqid, evpid), so that an answer finds its envelope, or
 * every envelope of a relay batch (one reqid), in O(log n) however many
 * are out.  Runs in the queue manager (user queue, chroot spool).
 */
#include <sys/types.h>
#include <sys/tree.h>

#include <string.h>
#include <time.h>

#include "log.h"
#include "queue.h"

/* libbsd leaves __unused undefined, which RB_*_STATIC use. */
#ifndef __unused
#define __unused	__attribute__((__unused__))
#endif

static int	qflight_cmp(struct qenv *, struct qenv *);

RB_PROTOTYPE_STATIC(qflight_tree, qenv, flight_entry, qflight_cmp)

static int
qflight_cmp(struct qenv *a, struct qenv *b)
{
	if (a->reqid != b->reqid)
		return a->reqid < b->reqid ? -1 : 1;
	return strcmp(a->evpid, b->evpid);
}

RB_GENERATE_STATIC(qflight_tree, qenv, flight_entry, qflight_cmp)

void
queue_flight_init(void)
{
	RB_INIT(&qm.flight);
}

void
queue_flight_add_id(struct qenv *q, enum qenv_state state, uint32_t reqid)
{
	q->state = state;
	q->reqid = reqid;
	if (RB_INSERT(qflight_tree, &qm.flight, q) != NULL)
		fatalx("%s queue flight: already out", q->evpid);
	if (state != QENV_RELAYING)
		qm.inflight++;
}

void
queue_flight_add(struct qenv *q, enum qenv_state state)
{
	queue_flight_add_id(q, state, queue_reqid());
}

uint32_t
queue_flight_job(struct qenv *q, struct qsync_job *job,
    void (*run)(struct qsync_job *), void (*done)(struct qsync_job *),
    void *arg)
{
	queue_flight_add(q, QENV_UPDATING);
	job->run = run;
	job->done = done;
	job->arg = arg;
	queue_sync_submit(job);
	return q->reqid;
}

struct qenv *
queue_flight_find(uint32_t reqid, enum qenv_state state)
{
	struct qenv	 key, *q;

	key.reqid = reqid;
	key.evpid[0] = '\0';
	if ((q = RB_NFIND(qflight_tree, &qm.flight, &key)) == NULL ||
	    q->reqid != reqid)
		return NULL;
	return q->state == state ? q : NULL;
}

struct qenv *
queue_flight_lookup(uint32_t reqid, const char *evpid)
{
	struct qenv	 key;

	key.reqid = reqid;
	if (strlcpy(key.evpid, evpid, sizeof(key.evpid)) >= sizeof(key.evpid))
		return NULL;
	return RB_FIND(qflight_tree, &qm.flight, &key);
}

struct qenv *
queue_flight_next(struct qenv *q)
{
	struct qenv	*n;

	if ((n = RB_NEXT(qflight_tree, &qm.flight, q)) == NULL ||
	    n->reqid != q->reqid)
		return NULL;
	return n;
}

void
queue_flight_end(struct qenv *q)
{
	RB_REMOVE(qflight_tree, &qm.flight, q);
	if (q->state != QENV_RELAYING)
		qm.inflight--;
	q->state = QENV_IDLE;
	q->reqid = 0;
	queue_sched_kick();
}

void
queue_flight_requeue(enum qenv_state state, unsigned int delay,
    const char *why)
{
	struct qenv	*q, *next;
	int64_t		 when = time(NULL) + delay;

	RB_FOREACH_SAFE(q, qflight_tree, &qm.flight, next) {
		if (q->state != state)
			continue;
		/* The relay may have sent it: its next try may repeat it. */
		if (state == QENV_RELAYING) {
			q->recovered = 1;
			qm.stats.relay_requeued++;
		}
		log_info("%s queue requeued reason=%s%s", q->evpid, why,
		    state == QENV_RELAYING ? " maybe-sent=1" : "");
		queue_flight_end(q);
		queue_sched_insert(q, when);
		/*
		 * Not woken when the relay is back: a batch that killed it
		 * waits its delay, rather than kill it again at once.
		 */
		if (state == QENV_EXPANDING)
			q->wait = QWAIT_AUTHD;
	}
}
