/*
 * The queue manager's flight index (queued/queue_flight.c): requests
 * out by (reqid, evpid), a relay batch under one reqid found whole and
 * each of its envelopes by name, the relay's batches not counted as
 * deliveries, and a relay that dies sending its batches back to the
 * schedule marked recovered.  Also the domain kept for batches
 * (queue_sched.c).
 */
#include <sys/types.h>

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "../../queued/queue.h"

#define MSGID		"0123456789abcdef"

static struct config	 conf;

static void
flight_setup(void)
{
	memset(&qm, 0, sizeof(qm));
	qm.conf = &conf;
	cr_assert_not_null(qm.base = event_base_new());
	queue_sched_init();
}

/* Envelope n of the test message, remote to rcpt, out of the schedule. */
static struct qenv *
flight_env(struct qmsg *m, unsigned int n, const char *rcpt)
{
	struct envelope	 e;
	struct qenv	*q;

	memset(&e, 0, sizeof(e));
	(void)snprintf(e.evpid, sizeof(e.evpid), MSGID ".%u", n);
	(void)strlcpy(e.msgid, MSGID, sizeof(e.msgid));
	(void)strlcpy(e.rcpt, rcpt, sizeof(e.rcpt));
	e.remote = rcpt[0] != '\0';
	cr_assert_not_null(q = queue_env_add(m, &e));
	queue_sched_remove(q);
	return q;
}

Test(queue_flight, batch_by_reqid, .init = flight_setup)
{
	struct qmsg	*m = queue_msg_add(MSGID);
	struct qenv	*a, *b, *c, *d;

	a = flight_env(m, 1, "a@Example.NET");
	b = flight_env(m, 2, "b@example.net");
	c = flight_env(m, 3, "");
	d = flight_env(m, 10, "d@example.net");
	cr_expect_str_eq(a->domain, "example.net");
	cr_expect_null(c->domain);
	/* Added in any order, found by (reqid, evpid). */
	queue_flight_add_id(d, QENV_RELAYING, 7);
	queue_flight_add_id(b, QENV_RELAYING, 7);
	queue_flight_add(c, QENV_DELIVERING);
	queue_flight_add_id(a, QENV_RELAYING, 7);
	cr_expect_eq(qm.inflight, 1, "relay batches counted as deliveries");
	cr_expect_eq(queue_flight_find(7, QENV_RELAYING), a);
	cr_expect_null(queue_flight_find(7, QENV_DELIVERING));
	cr_expect_null(queue_flight_find(8, QENV_RELAYING));
	cr_expect_eq(queue_flight_find(c->reqid, QENV_DELIVERING), c);
	/* In evpid order as strings: ".10" before ".2". */
	cr_expect_eq(queue_flight_next(a), d);
	cr_expect_eq(queue_flight_next(d), b);
	cr_expect_null(queue_flight_next(b));
	cr_expect_eq(queue_flight_lookup(7, MSGID ".2"), b);
	cr_expect_null(queue_flight_lookup(7, MSGID ".3"));
	cr_expect_null(queue_flight_lookup(c->reqid + 1, MSGID ".3"));
	queue_flight_end(b);
	cr_expect_eq(b->state, QENV_IDLE);
	cr_expect_null(queue_flight_next(d));
	queue_flight_end(c);
	cr_expect_eq(qm.inflight, 0);
}

Test(queue_flight, relay_death_requeues, .init = flight_setup)
{
	struct qmsg	*m = queue_msg_add(MSGID);
	struct qenv	*a, *b, *c;

	a = flight_env(m, 1, "a@example.net");
	b = flight_env(m, 2, "b@example.org");
	c = flight_env(m, 3, "");
	queue_flight_add_id(a, QENV_RELAYING, 3);
	queue_flight_add_id(b, QENV_RELAYING, 4);
	queue_flight_add(c, QENV_DELIVERING);
	queue_flight_requeue(QENV_RELAYING, 30, "relay-down");
	cr_expect_eq(a->state, QENV_WAITING);
	cr_expect_eq(b->state, QENV_WAITING);
	cr_expect(a->recovered && b->recovered, "not marked maybe sent");
	cr_expect_eq(qm.stats.relay_requeued, 2);
	cr_expect_null(queue_flight_find(3, QENV_RELAYING));
	/* The delivery is not the relay's: still out. */
	cr_expect_eq(c->state, QENV_DELIVERING);
	cr_expect_eq(queue_flight_find(c->reqid, QENV_DELIVERING), c);
	cr_expect_eq(c->recovered, 0);
	/* Forgetting an envelope in flight takes it out of the index. */
	queue_env_forget(c);
	cr_expect_eq(qm.inflight, 0);
}
