/*
 * The queue manager's flight index (queued/queue_flight.c): requests
 * out by (reqid, evpid), a relay batch under one reqid found whole and
 * each of its envelopes by name, the relay's batches not counted as
 * deliveries, and a relay that dies sending its batches back to the
 * schedule marked recovered, and a relay result that names an envelope
 * not in its batch closing the relay's connection (queue_relay.c).
 * Also the domain kept for batches (queue_sched.c).
 */
#include <sys/types.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "ipc.h"
#include "proto.h"
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

/*
 * What the fake relay answers for batch 7 (of .1 and .2).  Arrays, not
 * pointers: a parameterized test runs in a process of its own.
 */
struct fake_relay {
	int		 fd;
	uint32_t	 n;
	char		 evpids[3][QUEUE_EVPID_MAX_BYTES];
};

/*
 * The relay's side of the pair, in a thread: its HELLO, one
 * RELAY_RESULT for batch 7 with OK for each of its evpids, then it
 * waits for the manager to close the connection.
 */
static void *
flight_fake_relay(void *arg)
{
	static struct ipc_out	 o;
	static uint8_t		 buf[sizeof(struct ipc_hdr) + IPC_PAYLOAD_MAX_BYTES];
	struct fake_relay	*fr = arg;
	struct ipc_msg		 m;
	uint32_t		 i;

	if (ipc_hello_sync(fr->fd, ROLE_RELAY, ROLE_BIT(ROLE_QUEUED)) == -1)
		return "hello";
	ipc_out_init(&o, MSG_RELAY_RESULT, 7);
	ipc_put_u32(&o, fr->n);
	for (i = 0; i < fr->n; i++) {
		ipc_put_str(&o, fr->evpids[i]);
		ipc_put_u32(&o, RESULT_OK);
		ipc_put_u32(&o, 0);
		ipc_put_str(&o, "2.0.0");
		ipc_put_str(&o, "mx.example.net");
		ipc_put_str(&o, "250 ok");
	}
	if (ipc_send_sync(fr->fd, &o, -1) == -1)
		return "send";
	while (ipc_recv_sync(fr->fd, &m, buf, sizeof(buf)) == 0)
		ipc_msg_clear(&m);
	return NULL;
}

static struct fake_relay bad_results[] = {
	{ -1, 2, { MSGID ".1", MSGID ".9" } },	/* not in the batch */
	{ -1, 1, { MSGID ".1" } },		/* one missing */
	{ -1, 2, { MSGID ".2", MSGID ".2" } },	/* one twice */
	{ -1, 3, { MSGID ".1", MSGID ".2", MSGID ".1" } },
};

ParameterizedTestParameters(queue_flight, relay_bad_result_closes)
{
	return cr_make_param_array(struct fake_relay, bad_results,
	    sizeof(bad_results) / sizeof(bad_results[0]));
}

/* A result that is not one per envelope of the batch: fail-closed. */
ParameterizedTest(struct fake_relay *fr, queue_flight,
    relay_bad_result_closes, .init = flight_setup)
{
	struct fake_relay f;
	struct qmsg	*m = queue_msg_add(MSGID);
	struct qenv	*a, *b;
	pthread_t	 t;
	void		*err;
	int		 sv[2];
	time_t		 deadline = time(NULL) + 30;

	a = flight_env(m, 1, "a@example.net");
	b = flight_env(m, 2, "b@example.net");
	cr_assert_eq(ipc_socketpair(sv), 0);
	queue_relay_connected(sv[0]);
	cr_assert_not_null(qm.relay);
	queue_flight_add_id(a, QENV_RELAYING, 7);
	queue_flight_add_id(b, QENV_RELAYING, 7);
	qm.relay_inflight = 1;
	f = *fr;
	f.fd = sv[1];
	cr_assert_eq(pthread_create(&t, NULL, flight_fake_relay, &f), 0);
	while (qm.relay != NULL && time(NULL) < deadline)
		cr_assert_geq(event_base_loop(qm.base, EVLOOP_ONCE), 0);
	cr_assert_null(qm.relay, "the relay's connection is still open");
	cr_assert_eq(pthread_join(t, &err), 0);
	cr_expect_null(err, "fake relay: %s", (char *)err);
	/* Nothing of the result was applied: both back, maybe sent. */
	cr_expect_eq(a->state, QENV_WAITING);
	cr_expect_eq(b->state, QENV_WAITING);
	cr_expect(a->recovered && b->recovered);
	cr_expect_eq(qm.stats.relayed, 0);
	cr_expect_eq(qm.relay_inflight, 0);
}

/*
 * A remote envelope due while there is no relay is put aside by the
 * scheduler (its file not read: there is no spool here) until the relay
 * connects.
 */
Test(queue_flight, relay_down_waits_aside, .init = flight_setup)
{
	struct qmsg	*m = queue_msg_add(MSGID);
	struct qenv	*a;
	time_t		 now = time(NULL);

	a = flight_env(m, 1, "a@example.net");
	queue_sched_insert(a, now);
	cr_assert_geq(event_base_loop(qm.base, EVLOOP_ONCE), 0);
	cr_expect_eq(a->state, QENV_WAITING);
	cr_expect_eq(a->wait, QWAIT_RELAY);
	cr_expect_geq(a->next_try, now + QUEUE_RELAY_DOWN_SECS);
	queue_sched_wake(QWAIT_RELAY);
	cr_expect_eq(a->wait, QWAIT_NONE);
	cr_expect_leq(a->next_try, time(NULL));
}
