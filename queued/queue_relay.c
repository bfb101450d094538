/*
 * The relay, seen from the queue manager (user queue, chroot spool):
 * remote envelopes go out in batches, one MSG_QUEUE_RELAY_START per
 * message and recipient domain, and come back with one result per
 * recipient (common/proto.h).  The relay holds nothing the manager
 * needs: when it dies, every batch it held goes back to the schedule,
 * its envelopes marked as maybe sent.
 *
 * A batch is the due envelope and the other due remote envelopes of its
 * message for the same domain (lower case), up to relay_rcpts_per_txn
 * and what one IPC message holds, all in flight (QENV_RELAYING) under
 * one request id.  At most QUEUE_RELAY_INFLIGHT_MAX batches are out;
 * past it remote envelopes wait in the schedule.
 *
 * The relay talks to the world: its messages are checked as any
 * peer's, and a result that is malformed, names an envelope not in the
 * batch or misses one ends the connection (fail-closed); the parent
 * starts a new relay and hands both a new pair.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "ipc.h"
#include "log.h"
#include "proto.h"
#include "queue.h"

/* The room RELAY_START's fields take besides their strings. */
#define RELAY_START_FIXED_BYTES		64
#define RELAY_RCPT_FIXED_BYTES		16

struct relay_res {
	struct qenv	*q;
	uint32_t	 result;
	uint32_t	 flags;
	char		 status[16];
	char		 mta[SMTP_PATH_MAX_BYTES + 1];
	char		 diag[IPC_STRING_MAX_BYTES + 1];
};

static void	queue_relay_result(struct ipc_conn *, struct ipc_msg *);

static const struct qpeer_cmd relay_cmds[] = {
	{ MSG_RELAY_RESULT,		queue_relay_result },
	{ MSG_RELAY_HOST,		queue_control_relay_reply },
	{ MSG_RELAY_HOSTS_END,		queue_control_relay_reply },
	{ MSG_RELAY_STAT,		queue_control_relay_reply },
	{ MSG_RELAY_STATS_END,		queue_control_relay_reply },
};

static struct ipc_out	 out;
static struct relay_res	 res[QUEUE_RELAY_BATCH_MAX];

/* No message of the relay's carries a descriptor. */
static void
queue_relay_dispatch(struct ipc_conn *c, struct ipc_msg *m, void *arg)
{
	(void)arg;
	if (m->fd != -1) {
		log_warnx("- queue relay-refused type=%s reason=fd",
		    ipc_type_name(m->hdr.type));
		ipc_msg_clear(m);
		ipc_conn_close(c, "unexpected descriptor");
		return;
	}
	queue_dispatch_or_close(c, m, relay_cmds, sizeof(relay_cmds) /
	    sizeof(relay_cmds[0]), "relay");
}

/* The relay is gone: its batches are retried, its requests end. */
static void
queue_relay_lost(const char *why)
{
	log_warnx("- queue relay-%s batches=%u", why, qm.relay_inflight);
	qm.relay = NULL;
	qm.relay_inflight = 0;
	queue_flight_requeue(QENV_RELAYING, QUEUE_RELAY_REQUEUE_SECS,
	    "relay-down");
	queue_control_relay_down();
}

static void
queue_relay_closed(struct ipc_conn *c, void *arg)
{
	(void)arg;
	if (c == qm.relay)
		queue_relay_lost("down");
	ipc_conn_free(c);
}

void
queue_relay_connected(int fd)
{
	if (qm.relay != NULL) {
		ipc_conn_free(qm.relay);
		queue_relay_lost("replaced");
	}
	qm.relay = ipc_conn_new(qm.base, fd, ROLE_QUEUED, ROLE_BIT(ROLE_RELAY),
	    queue_relay_dispatch, queue_relay_closed, NULL);
	if (qm.relay == NULL)
		fatalx("- queue ipc_conn_new relay");
	log_info("- queue relay-connected");
	queue_sched_wake(QWAIT_RELAY);
	queue_sched_kick();
}

int
queue_relay_full(void)
{
	return qm.relay != NULL && qm.relay_inflight >= QUEUE_RELAY_INFLIGHT_MAX;
}

int
queue_relay_ask(uint32_t type, uint32_t id)
{
	if (qm.relay == NULL)
		return -1;
	return ipc_conn_send_empty(qm.relay, type, id);
}

/*
 * The companions of q: the other due envelopes of its message that go
 * with it (queue_relay_batch_pick), taken out of the schedule.  Writes
 * q and them into batch; how many.
 */
static size_t
queue_relay_companions(struct qenv *q, struct qenv **batch, size_t max)
{
	struct qbatch_cand	*c;
	struct qenv		**all, *o;
	size_t			*idx, n = 0, k, i;
	int64_t			 now = time(NULL);

	if ((c = calloc(q->msg->nenvs, sizeof(*c))) == NULL ||
	    (all = calloc(q->msg->nenvs, sizeof(*all))) == NULL ||
	    (idx = calloc(q->msg->nenvs, sizeof(*idx))) == NULL)
		fatal("queue_relay_companions");
	all[n] = q;
	c[n++].domain = q->domain;
	TAILQ_FOREACH(o, &q->msg->envs, msg_entry) {
		if (o == q || n >= q->msg->nenvs)
			continue;
		all[n] = o;
		c[n].domain = o->kind == QENV_REMOTE ? o->domain : NULL;
		c[n++].due = o->state == QENV_WAITING && o->next_try <= now;
	}
	k = queue_relay_batch_pick(c, n, max, idx);
	for (i = 0; i < k; i++) {
		batch[i] = all[idx[i]];
		if (i > 0) {
			queue_sched_remove(batch[i]);
			batch[i]->wait = QWAIT_NONE;
		}
	}
	free(c);
	free(all);
	free(idx);
	return k;
}

/* What one rcpt takes of RELAY_START. */
static size_t
queue_relay_rcpt_bytes(const struct envelope *e)
{
	return RELAY_RCPT_FIXED_BYTES + strlen(e->evpid) + strlen(e->rcpt) +
	    strlen(e->dsn_orcpt);
}

/*
 * Loads the companions' envelopes (batch[0]'s is e[0]); one that cannot
 * be read waits, one expired bounces, and those past what RELAY_START
 * holds go back to the schedule.  Compacts batch and e; how many stay.
 */
static size_t
queue_relay_load(struct qenv **batch, struct envelope *e, size_t n)
{
	const char	*errstr;
	size_t		 i, k = 1, room;
	int64_t		 now = time(NULL);

	room = IPC_PAYLOAD_MAX_BYTES - RELAY_START_FIXED_BYTES -
	    strlen(e[0].msgid) - strlen(e[0].sender) - strlen(e[0].dsn_envid) -
	    strlen(batch[0]->domain) - queue_relay_rcpt_bytes(&e[0]);
	for (i = 1; i < n; i++) {
		if (queue_store_load(batch[i]->msg->msgid, batch[i]->evpid,
		    &e[k], &errstr) == -1) {
			log_warnx("%s queue load-failed error=\"%s\"",
			    batch[i]->evpid, errstr);
			queue_sched_insert(batch[i], now +
			    qm.conf->retry_min_secs);
		} else if (now >= e[k].created +
		    (int64_t)qm.conf->expire_secs)
			queue_fail_perm(batch[i], &e[k], e[k].last_error[0] !=
			    '\0' ? e[k].last_error :
			    "4.4.7 delivery time expired", 1);
		else if (queue_relay_rcpt_bytes(&e[k]) > room)
			queue_sched_insert(batch[i], now);
		else {
			room -= queue_relay_rcpt_bytes(&e[k]);
			batch[k++] = batch[i];
		}
	}
	return k;
}

static void
queue_relay_send(struct qenv **batch, const struct envelope *e, size_t n,
    int fd)
{
	struct stat	 st;
	uint32_t	 reqid = queue_reqid(), flags = 0;
	size_t		 i;

	if (fstat(fd, &st) == -1)
		st.st_size = 0;
	for (i = 0; i < n; i++) {
		if (batch[i]->recovered)
			flags |= RELAY_START_F_RECOVERED;
		/* RFC 3461 4.1: as queue_deliver_start. */
		batch[i]->notify_success = (e[i].dsn_notify &
		    DSN_NOTIFY_SUCCESS) != 0 && e[i].sender[0] != '\0';
		queue_flight_add_id(batch[i], QENV_RELAYING, reqid);
	}
	if (e[0].smtputf8)
		flags |= RELAY_START_F_SMTPUTF8;
	ipc_out_init(&out, MSG_QUEUE_RELAY_START, reqid);
	ipc_put_str(&out, e[0].msgid);
	ipc_put_str(&out, batch[0]->domain);
	ipc_put_str(&out, e[0].sender);
	ipc_put_u32(&out, flags);
	ipc_put_u32(&out, e[0].dsn_ret);
	ipc_put_str(&out, e[0].dsn_envid);
	ipc_put_u64(&out, (uint64_t)st.st_size);
	ipc_put_u32(&out, (uint32_t)n);
	for (i = 0; i < n; i++) {
		ipc_put_str(&out, e[i].evpid);
		ipc_put_str(&out, e[i].rcpt);
		ipc_put_u32(&out, e[i].dsn_notify);
		ipc_put_str(&out, e[i].dsn_orcpt);
	}
	if (ipc_conn_send(qm.relay, &out, fd) == -1) {
		log_warnx("%s queue relay-send-failed rcpts=%zu",
		    batch[0]->evpid, n);
		for (i = 0; i < n; i++) {
			queue_flight_end(batch[i]);
			queue_sched_insert(batch[i], time(NULL) + 1);
		}
		return;
	}
	qm.relay_inflight++;
	qm.stats.relay_batches++;
	log_info("%s queue relay-start id=%u domain=%s rcpts=%zu%s",
	    batch[0]->evpid, reqid, batch[0]->domain, n,
	    (flags & RELAY_START_F_RECOVERED) ? " recovered=1" : "");
}

void
queue_relay_start(struct qenv *q, struct envelope *e0)
{
	static struct envelope	 e[QUEUE_RELAY_BATCH_MAX];
	struct qenv		*batch[QUEUE_RELAY_BATCH_MAX];
	size_t			 n, max = qm.conf->relay_rcpts_per_txn;
	int			 fd;

	if (qm.relay == NULL) {
		log_debug("%s queue relay-wait reason=relay-down", q->evpid);
		q->wait = QWAIT_RELAY;
		queue_sched_insert(q, time(NULL) + QUEUE_RELAY_DOWN_SECS);
		return;
	}
	if ((fd = queue_store_open_message(e0->msgid)) == -1) {
		log_warn("%s queue open-message-failed", e0->evpid);
		queue_fail_temp(q, e0, "4.3.0 cannot read the queued message");
		return;
	}
	if (max == 0 || max > QUEUE_RELAY_BATCH_MAX)
		max = QUEUE_RELAY_BATCH_MAX;
	/* Set with QENV_REMOTE (queue_sched_set_domain): never without. */
	if (q->domain == NULL)
		fatalx("%s queue remote without a domain", q->evpid);
	e[0] = *e0;
	n = queue_relay_companions(q, batch, max);
	n = queue_relay_load(batch, e, n);
	queue_relay_send(batch, e, n, fd);
}

/*
 * Reads RELAY_RESULT whole into res before anything is done with it:
 * -1 with *why when it is not exactly one result for each envelope of
 * the batch.  The number of results.
 */
static int
queue_relay_parse(struct ipc_msg *m, const char **why)
{
	struct qenv	*q, *first;
	char		 evpid[QUEUE_EVPID_MAX_BYTES];
	uint32_t	 n, i, size = 0;

	if ((first = queue_flight_find(m->hdr.peerid, QENV_RELAYING)) == NULL)
		return *why = "unknown batch", -1;
	for (q = first; q != NULL; q = queue_flight_next(q))
		size++;
	if (ipc_get_u32(m, &n) == -1 || n != size)
		return *why = "wrong number of results", -1;
	for (i = 0; i < n; i++) {
		if (ipc_get_str(m, evpid, sizeof(evpid)) == -1 ||
		    ipc_get_u32(m, &res[i].result) == -1 ||
		    ipc_get_u32(m, &res[i].flags) == -1 ||
		    ipc_get_str(m, res[i].status, sizeof(res[i].status)) ==
		    -1 || ipc_get_str(m, res[i].mta, sizeof(res[i].mta)) == -1 ||
		    ipc_get_str(m, res[i].diag, sizeof(res[i].diag)) == -1)
			return *why = "malformed result", -1;
		if (res[i].result > RESULT_PERMFAIL || (res[i].flags &
		    ~(uint32_t)(RELAY_RCPT_F_DSN_PASSED | RELAY_RCPT_F_TLS)))
			return *why = "bad result or flags", -1;
		if ((q = queue_flight_lookup(m->hdr.peerid, evpid)) == NULL ||
		    q->state != QENV_RELAYING)
			return *why = "envelope not in the batch", -1;
		/* reqids are never reused while out: a mark per batch. */
		if (q->answered == m->hdr.peerid)
			return *why = "envelope answered twice", -1;
		q->answered = m->hdr.peerid;
		res[i].q = q;
	}
	if (ipc_get_end(m) == -1)
		return *why = "trailing bytes", -1;
	return (int)n;
}

/* A failure: the envelope retried or bounced with the remote reply. */
static void
queue_relay_failed(const struct relay_res *r)
{
	char		 error[QUEUE_ERROR_MAX_BYTES + 1];
	struct envelope	 e;
	const char	*errstr;

	if (queue_store_load(r->q->msg->msgid, r->q->evpid, &e, &errstr) ==
	    -1) {
		log_warnx("%s queue load-failed error=\"%s\"", r->q->evpid,
		    errstr);
		queue_sched_insert(r->q, time(NULL) + qm.conf->retry_min_secs);
		return;
	}
	queue_relay_error(error, sizeof(error), r->status[0] != '\0' ?
	    r->status : (r->result == RESULT_TEMPFAIL ? "4.0.0" : "5.0.0"),
	    r->mta, r->diag[0] != '\0' ? r->diag : "no reason given");
	if (r->result == RESULT_TEMPFAIL) {
		qm.stats.relay_deferred++;
		queue_fail_temp(r->q, &e, error);
	} else {
		qm.stats.relay_failed++;
		queue_fail_perm(r->q, &e, error, 0);
	}
}

static void
queue_relay_result(struct ipc_conn *c, struct ipc_msg *m)
{
	const char	*why = "";
	char		 mta[SMTP_PATH_MAX_BYTES * 4];
	int		 n, i;

	if ((n = queue_relay_parse(m, &why)) == -1) {
		log_warnx("- queue relay-protocol-error id=%u reason=\"%s\"",
		    m->hdr.peerid, why);
		ipc_conn_close(c, why);
		return;
	}
	qm.relay_inflight--;
	for (i = 0; i < n; i++) {
		queue_flight_end(res[i].q);
		if (res[i].result != RESULT_OK) {
			queue_relay_failed(&res[i]);
			continue;
		}
		qm.stats.relayed++;
		log_info("%s queue relayed relay=%s status=%s tls=%d "
		    "dsn-passed=%d", res[i].q->evpid, log_vis(mta, sizeof(mta),
		    res[i].mta, strlen(res[i].mta)), res[i].status[0] != '\0' ?
		    res[i].status : "2.0.0",
		    (res[i].flags & RELAY_RCPT_F_TLS) != 0,
		    (res[i].flags & RELAY_RCPT_F_DSN_PASSED) != 0);
		/* RFC 3461 4.1: the next hop reports it when it took NOTIFY. */
		if (res[i].q->notify_success &&
		    !(res[i].flags & RELAY_RCPT_F_DSN_PASSED))
			queue_dsn_success(res[i].q, DSN_ACTION_RELAYED);
		else
			queue_env_remove(res[i].q);
	}
}
