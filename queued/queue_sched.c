/*
 * The queue manager's in-memory index and scheduler.  The disk is the
 * truth; the index holds only what scheduling needs (ids, next try,
 * kind, state), and an envelope's file is read again when its turn
 * comes.  Envelopes that are due are handed to queue_deliver_process()
 * in order of their next try, at most QUEUE_DELIVERIES_MAX in flight.
 * Remote envelopes are scheduled apart from the others (two lanes, each
 * in order): when the relay has its most batches out, the local ones
 * behind 100,000 remote ones still go, and the other way round when the
 * delivery agent is down.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/tree.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ipc.h"
#include "log.h"
#include "queue.h"

/* Envelopes started in one run; the rest wait for the next turn. */
#define QUEUE_SCHED_RUN_MAX	1000

/* libbsd leaves __unused undefined, which RB_*_STATIC use. */
#ifndef __unused
#define __unused	__attribute__((__unused__))
#endif

RB_HEAD(qmsg_tree, qmsg);
RB_HEAD(qenv_ids, qenv);
RB_HEAD(qenv_sched, qenv);

static int	qmsg_cmp(struct qmsg *, struct qmsg *);
static int	qenv_id_cmp(struct qenv *, struct qenv *);
static int	qenv_sched_cmp(struct qenv *, struct qenv *);

RB_PROTOTYPE_STATIC(qmsg_tree, qmsg, entry, qmsg_cmp)
RB_PROTOTYPE_STATIC(qenv_ids, qenv, id_entry, qenv_id_cmp)
RB_PROTOTYPE_STATIC(qenv_sched, qenv, sched_entry, qenv_sched_cmp)

static struct qmsg_tree		 msgs = RB_INITIALIZER(&msgs);
static struct qenv_ids		 envs = RB_INITIALIZER(&envs);
/* The schedule's lanes: every kind but remote, remote (qenv.lane). */
#define QLANE_LOCAL	0
#define QLANE_REMOTE	1
#define QLANES		2
static struct qenv_sched	 sched[QLANES] = {
	RB_INITIALIZER(&sched[0]), RB_INITIALIZER(&sched[1])
};
static uint64_t			 nmsgs, nenvs;

static int
qmsg_cmp(struct qmsg *a, struct qmsg *b)
{
	return strcmp(a->msgid, b->msgid);
}

static int
qenv_id_cmp(struct qenv *a, struct qenv *b)
{
	return strcmp(a->evpid, b->evpid);
}

static int
qenv_sched_cmp(struct qenv *a, struct qenv *b)
{
	if (a->next_try != b->next_try)
		return a->next_try < b->next_try ? -1 : 1;
	return strcmp(a->evpid, b->evpid);
}

RB_GENERATE_STATIC(qmsg_tree, qmsg, entry, qmsg_cmp)
RB_GENERATE_STATIC(qenv_ids, qenv, id_entry, qenv_id_cmp)
RB_GENERATE_STATIC(qenv_sched, qenv, sched_entry, qenv_sched_cmp)

struct qmsg *
queue_msg_find(const char *msgid)
{
	struct qmsg	 key;

	if (strlcpy(key.msgid, msgid, sizeof(key.msgid)) >= sizeof(key.msgid))
		return NULL;
	return RB_FIND(qmsg_tree, &msgs, &key);
}

struct qmsg *
queue_msg_add(const char *msgid)
{
	struct qmsg	*m;

	if ((m = queue_msg_find(msgid)) != NULL)
		return m;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		fatal("queue_msg_add");
	(void)strlcpy(m->msgid, msgid, sizeof(m->msgid));
	TAILQ_INIT(&m->envs);
	m->next_n = 1;
	RB_INSERT(qmsg_tree, &msgs, m);
	nmsgs++;
	return m;
}

void
queue_msg_forget(struct qmsg *m)
{
	RB_REMOVE(qmsg_tree, &msgs, m);
	nmsgs--;
	queue_dedup_free(m);
	free(m);
}

struct qenv *
queue_env_find(const char *evpid)
{
	struct qenv	 key;

	if (strlcpy(key.evpid, evpid, sizeof(key.evpid)) >= sizeof(key.evpid))
		return NULL;
	return RB_FIND(qenv_ids, &envs, &key);
}

struct qenv *
queue_env_next(const char *evpid)
{
	struct qenv	 key, *q;

	if (evpid == NULL)
		return RB_MIN(qenv_ids, &envs);
	(void)strlcpy(key.evpid, evpid, sizeof(key.evpid));
	if ((q = RB_NFIND(qenv_ids, &envs, &key)) != NULL &&
	    strcmp(q->evpid, evpid) == 0)
		q = RB_NEXT(qenv_ids, &envs, q);
	return q;
}

void
queue_sched_set_domain(struct qenv *q, const char *rcpt)
{
	char	 d[SMTP_PATH_MAX_BYTES + 1];

	free(q->domain);
	q->domain = NULL;
	if (queue_relay_domain(rcpt, d, sizeof(d)) == -1 ||
	    (q->domain = strdup(d)) == NULL)
		fatalx("%s queue remote domain", q->evpid);
}

struct qenv *
queue_env_add(struct qmsg *m, const struct envelope *e)
{
	struct qenv	*q;
	uint32_t	 n;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		fatal("queue_env_add");
	(void)strlcpy(q->evpid, e->evpid, sizeof(q->evpid));
	if (RB_INSERT(qenv_ids, &envs, q) != NULL) {
		free(q);
		return NULL;
	}
	q->msg = m;
	q->held = e->held;
	if (e->remote) {
		q->kind = QENV_REMOTE;
		queue_sched_set_domain(q, e->rcpt);
	}
	else if (e->mailbox[0] != '\0')
		q->kind = QENV_MAILBOX;
	else
		q->kind = QENV_UNEXPANDED;
	n = queue_evpid_number(e->evpid);
	if (n >= m->next_n)
		m->next_n = n + 1;
	TAILQ_INSERT_TAIL(&m->envs, q, msg_entry);
	m->nenvs++;
	nenvs++;
	queue_sched_insert(q, e->next_try);
	return q;
}

void
queue_env_forget(struct qenv *q)
{
	struct qmsg	*m = q->msg;

	switch (q->state) {
	case QENV_WAITING:
		RB_REMOVE(qenv_sched, &sched[q->lane], q);
		break;
	case QENV_IDLE:
	case QENV_HELD:
		break;
	case QENV_EXPANDING:
	case QENV_DELIVERING:
	case QENV_UPDATING:
	case QENV_RELAYING:
		queue_flight_end(q);
		break;
	}
	free(q->domain);
	RB_REMOVE(qenv_ids, &envs, q);
	TAILQ_REMOVE(&m->envs, q, msg_entry);
	m->nenvs--;
	nenvs--;
	free(q);
}

void
queue_sched_insert(struct qenv *q, int64_t when)
{
	q->next_try = when;
	/* Held or paused: aside until sallyctl lets it go. */
	if (q->held || q->paused) {
		q->state = QENV_HELD;
		return;
	}
	q->state = QENV_WAITING;
	/* Kept: the kind may change while it waits (an expansion). */
	q->lane = q->kind == QENV_REMOTE ? QLANE_REMOTE : QLANE_LOCAL;
	RB_INSERT(qenv_sched, &sched[q->lane], q);
	queue_sched_kick();
}

void
queue_sched_remove(struct qenv *q)
{
	RB_REMOVE(qenv_sched, &sched[q->lane], q);
	q->state = QENV_IDLE;
}

void
queue_sched_wake(enum qenv_wait what)
{
	struct qenv	*q, *next;
	int64_t		 now = time(NULL);

	RB_FOREACH_SAFE(q, qenv_ids, &envs, next) {
		if (q->state != QENV_WAITING || q->wait != what)
			continue;
		q->wait = QWAIT_NONE;
		if (q->next_try > now) {
			queue_sched_remove(q);
			queue_sched_insert(q, now);
		}
	}
}

void
queue_sched_kick(void)
{
	struct timeval	 tv = { 0, 0 };

	(void)evtimer_add(qm.ev_sched, &tv);
}

/*
 * The first envelope of a lane, unless the lane waits for a peer (a
 * result or the peer's connection kicks the schedule): mailboxes, in
 * order, for the delivery agent, and every local kind for a free
 * delivery slot; remote ones for a batch to end.
 */
static struct qenv *
queue_sched_head(int lane)
{
	struct qenv	*q;

	if ((q = RB_MIN(qenv_sched, &sched[lane])) == NULL)
		return NULL;
	/* sallyctl pause delivery|relay: in flight ones finish. */
	if (lane == QLANE_REMOTE ? qm.paused_remote : qm.paused_local)
		return NULL;
	if (lane == QLANE_REMOTE)
		return queue_relay_full() ? NULL : q;
	if (qm.inflight >= QUEUE_DELIVERIES_MAX ||
	    (q->kind == QENV_MAILBOX && qm.delivery == NULL))
		return NULL;
	return q;
}

/* The first envelope of the lanes that may go (NULL: none). */
static struct qenv *
queue_sched_first(void)
{
	struct qenv	*l = queue_sched_head(QLANE_LOCAL);
	struct qenv	*r = queue_sched_head(QLANE_REMOTE);

	if (l == NULL || r == NULL)
		return l != NULL ? l : r;
	return qenv_sched_cmp(l, r) <= 0 ? l : r;
}

static void
queue_sched_run(evutil_socket_t fd, short ev, void *arg)
{
	struct timeval	 tv = { 0, 0 };
	struct qenv	*q;
	int64_t		 now = time(NULL);
	int		 n;

	(void)fd;
	(void)ev;
	(void)arg;
	for (n = 0; n < QUEUE_SCHED_RUN_MAX; n++) {
		if (qm.stopping)
			return;
		if ((q = queue_sched_first()) == NULL)
			return;		/* a result or a peer will kick */
		if (q->next_try > now) {
			/* The first of the lanes that may go is not due. */
			tv.tv_sec = (time_t)(q->next_try - now);
			(void)evtimer_add(qm.ev_sched, &tv);
			return;
		}
		queue_sched_remove(q);
		/* Or, aside without reading the file, for the relay. */
		if (q->kind == QENV_REMOTE && qm.relay == NULL) {
			q->wait = QWAIT_RELAY;
			queue_sched_insert(q, now + QUEUE_RELAY_DOWN_SECS);
			continue;
		}
		q->wait = QWAIT_NONE;
		queue_deliver_process(q);
	}
	(void)evtimer_add(qm.ev_sched, &tv);	/* the rest next turn */
}

void
queue_sched_init(void)
{
	queue_flight_init();
	if ((qm.ev_sched = evtimer_new(qm.base, queue_sched_run, NULL)) ==
	    NULL)
		fatalx("queue_sched_init");
}

uint64_t
queue_env_count(void)
{
	return nenvs;
}

uint64_t
queue_msg_count(void)
{
	return nmsgs;
}

int
queue_env_foreach(const char *id, void (*fn)(struct qenv *, void *),
    void *arg)
{
	struct qenv	*q, *next;
	struct qmsg	*m;
	int		 n = 0;

	if (strcmp(id, "all") == 0) {
		RB_FOREACH_SAFE(q, qenv_ids, &envs, next) {
			fn(q, arg);
			n++;
		}
	} else if (queue_msgid_valid(id)) {
		if ((m = queue_msg_find(id)) == NULL)
			return 0;
		/* fn may remove the message with its last envelope. */
		for (q = TAILQ_FIRST(&m->envs); q != NULL; q = next) {
			next = TAILQ_NEXT(q, msg_entry);
			n++;
			fn(q, arg);
		}
	} else if (queue_evpid_valid(id)) {
		if ((q = queue_env_find(id)) == NULL)
			return 0;
		fn(q, arg);
		n = 1;
	} else
		return -1;
	return n;
}
