/*
 * The relay's destinations and connections.  A destination is a domain
 * by MX or a smarthost (relay_target_pick's key); each holds the batches
 * waiting for it and its connections, at most relay_conns_per_domain,
 * and relay_conns_max in all.  A connection resolves the route, connects
 * (relay_conn.c), and once its session is ready carries one batch after
 * another (reuse, RSET between them) up to relay_msgs_per_conn; an idle
 * one sends QUIT after relay_idle_secs (relay_smtp.c).
 *
 * A greeting refused or a handshake failed moves on to the next host.
 * When every address failed to connect, the destination is backed off
 * (relay_backoff_secs doubling to relay_backoff_max_secs): its waiting
 * batches, and those that come during the backoff, are answered
 * temporary failure at once with the last error.  DNS answers come from
 * libunbound's cache, which honours their TTLs.  Idle destinations are
 * dropped by a timer (RELAY_POOL_GC_SECS).  Past relay_conns_max, a
 * destination waits in line for a slot (relay_slot.c).
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "log.h"
#include "proto.h"
#include "relay_pool_int.h"

/* libbsd leaves __unused undefined, which RB_*_STATIC use. */
#ifndef __unused
#define __unused	__attribute__((__unused__))
#endif

/* How often destinations with nothing left are freed. */
#define RELAY_POOL_GC_SECS	60

RB_HEAD(relay_dests, relay_dest);

static struct relay_dests	 dests = RB_INITIALIZER(&dests);
static uint32_t			 nconns_total;
static uint32_t			 conn_seq;
static int			 stopping;
static struct event		*ev_gc;

static int
relay_dest_cmp(const struct relay_dest *a, const struct relay_dest *b)
{
	return strcmp(a->t.key, b->t.key);
}

RB_GENERATE_STATIC(relay_dests, relay_dest, node, relay_dest_cmp)

static time_t
relay_now(void)
{
	return time(NULL);
}

/* Answers every batch waiting for d with result. */
static void
relay_pool_fail_queue(struct relay_dest *d, uint32_t result,
    const char *status, const char *diag)
{
	struct relay_batch	*b;

	while ((b = TAILQ_FIRST(&d->queue)) != NULL) {
		TAILQ_REMOVE(&d->queue, b, entry);
		d->nqueued--;
		relay_batch_settle(b, result, status, "", diag);
		relay_ipc_result(b);
	}
}

static void
relay_pool_conn_remove(struct relay_conn *c)
{
	relay_slot_idle(c, 0);
	TAILQ_REMOVE(&c->d->conns, c, entry);
	c->d->nconns--;
	nconns_total--;
	relay_conn_free(c);
	relay_slot_freed();
}

/*
 * Other batches of b's message waiting for d go in one transaction
 * with it (relay_batch_gather); returns the batch that carries them.
 */
static struct relay_batch *
relay_pool_merge(struct relay_dest *d, struct relay_batch *b)
{
	size_t	 max = relay_env.conf->relay_rcpts_per_txn, taken;

	if (max > SMTP_RCPT_MAX)
		max = SMTP_RCPT_MAX;
	b = relay_batch_gather(&d->queue, b, max, &taken);
	d->nqueued -= (uint32_t)taken;
	return b;
}

/* Hands c the next waiting batch; -1 (the batch back) when refused. */
static int
relay_pool_send(struct relay_conn *c)
{
	struct relay_dest	*d = c->d;
	struct relay_batch	*b;

	if ((b = TAILQ_FIRST(&d->queue)) == NULL)
		return -1;
	TAILQ_REMOVE(&d->queue, b, entry);
	d->nqueued--;
	b = relay_pool_merge(d, b);
	/*
	 * Before the call: a message refused before MAIL (SMTPUTF8, SIZE)
	 * is reported from inside it, and the callbacks look for it here.
	 */
	c->batch = b;
	relay_slot_idle(c, 0);
	d->nactive++;
	if (c->nmsgs > 0)
		relay_env.counters[RC_REUSED]++;
	if (relay_smtp_send(c->smtp, &b->msg) == -1) {
		if (c->nmsgs > 0)
			relay_env.counters[RC_REUSED]--;
		c->batch = NULL;
		relay_slot_idle(c, 1);
		d->nactive--;
		TAILQ_INSERT_HEAD(&d->queue, b, entry);
		d->nqueued++;
		return -1;
	}
	return 0;
}

static void
relay_pool_open(struct relay_dest *d)
{
	struct relay_conn	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatal("- relay calloc");
	c->d = d;
	c->fd = -1;
	(void)snprintf(c->id, sizeof(c->id), "relay-%08x", ++conn_seq);
	TAILQ_INSERT_TAIL(&d->conns, c, entry);
	d->nconns++;
	nconns_total++;
	relay_conn_resolve(c);
}

/* Gives waiting batches to idle connections, opens more when allowed. */
void
relay_pool_kick(struct relay_dest *d)
{
	const struct config	*conf = relay_env.conf;
	struct relay_conn	*c;
	uint32_t		 opening = 0;

	TAILQ_FOREACH(c, &d->conns, entry) {
		if (c->state != RCS_READY) {
			opening++;
			continue;
		}
		if (c->batch == NULL && !c->quitting && d->nqueued > 0)
			(void)relay_pool_send(c);
	}
	/* A destination not reached yet gets one connection at a time. */
	while (!stopping && d->nqueued > opening &&
	    (d->reached || opening == 0) &&
	    d->nconns < conf->relay_conns_per_domain &&
	    d->backoff_until <= relay_now()) {
		if (nconns_total >= conf->relay_conns_max) {
			relay_slot_wait(d);
			break;
		}
		opening++;
		relay_pool_open(d);
	}
}

void
relay_pool_submit(struct relay_batch *b)
{
	struct relay_target	 t;
	struct relay_dest	*d, key;
	char			 err[128];

	if (stopping) {
		relay_batch_settle(b, RESULT_TEMPFAIL, "4.3.2", "",
		    "relay shutting down");
		relay_ipc_result(b);
		return;
	}
	if (relay_target_pick(relay_env.conf, b->domain, &t, err,
	    sizeof(err)) == -1) {
		relay_batch_settle(b, RESULT_PERMFAIL, "5.1.2", "", err);
		relay_ipc_result(b);
		return;
	}
	key.t = t;
	if ((d = RB_FIND(relay_dests, &dests, &key)) == NULL) {
		if ((d = calloc(1, sizeof(*d))) == NULL)
			fatal("- relay calloc");
		d->t = t;
		TAILQ_INIT(&d->queue);
		TAILQ_INIT(&d->conns);
		RB_INSERT(relay_dests, &dests, d);
	}
	if (d->backoff_until > relay_now()) {
		relay_batch_settle(b, RESULT_TEMPFAIL, NULL, "",
		    d->last_error);
		relay_ipc_result(b);
		return;
	}
	TAILQ_INSERT_TAIL(&d->queue, b, entry);
	d->nqueued++;
	relay_pool_kick(d);
}

/* The route failed: every waiting batch of d gets its error. */
void
relay_pool_route_failed(struct relay_conn *c, const struct rdns_route *r)
{
	struct relay_dest	*d = c->d;

	(void)strlcpy(d->last_error, r->text, sizeof(d->last_error));
	log_info("%s relay route-failed dest=%s status=%s error=\"%s\"",
	    c->id, d->t.key, r->enhanced != NULL ? r->enhanced : "4.4.3",
	    r->text);
	relay_pool_conn_remove(c);
	relay_pool_fail_queue(d, r->status == RDNS_PERMFAIL ?
	    RESULT_PERMFAIL : RESULT_TEMPFAIL, r->enhanced, r->text);
}

/* Every address failed: d is backed off unless a session of it works. */
void
relay_pool_unreachable(struct relay_conn *c)
{
	struct relay_dest	*d = c->d;
	struct relay_conn	*o;
	const struct config	*conf = relay_env.conf;
	/* A host failed the TLS that MTA-STS enforces: 4.7.5. */
	const char		*status = c->sts_failed ? "4.7.5" : "4.4.1";

	(void)strlcpy(d->last_error, c->last_error[0] != '\0' ?
	    c->last_error : "no address to connect to",
	    sizeof(d->last_error));
	relay_pool_conn_remove(c);
	TAILQ_FOREACH(o, &d->conns, entry)
		if (o->state == RCS_READY)
			return;
	d->reached = 0;
	if (d->backoff_until > relay_now())
		return;		/* backed off by a connection before it */
	d->backoff_secs = relay_backoff_next(d->backoff_secs,
	    conf->relay_backoff_secs, conf->relay_backoff_max_secs);
	d->backoff_until = relay_now() + d->backoff_secs;
	relay_env.counters[RC_BACKOFF]++;
	log_info("- relay backoff dest=%s secs=%u error=\"%s\"", d->t.key,
	    d->backoff_secs, d->last_error);
	relay_pool_fail_queue(d, RESULT_TEMPFAIL, status, d->last_error);
}

static void	relay_pool_ready(struct relay_smtp *, void *);
static void	relay_pool_rcpt(struct relay_smtp *, struct relay_msg *,
		    struct relay_rcpt *, void *);
static void	relay_pool_msg(struct relay_smtp *, struct relay_msg *,
		    void *);
static void	relay_pool_end(struct relay_smtp *, int, const char *,
		    void *);

static const struct relay_callbacks relay_pool_cbs = {
	relay_pool_rcpt, relay_pool_msg, relay_pool_end, relay_pool_ready,
};

/* Connected: the SMTP session starts on the socket. */
void
relay_pool_connected(struct relay_conn *c)
{
	struct relay_params	*p = &c->p;
	int			 fd = c->fd;
	char			 why[CONFIG_NAME_MAX + 64];
	struct rdns_route	*r;

	if (relay_conn_params(c, p, why, sizeof(why)) == -1) {
		/* No credentials for the route's AUTH label: retried. */
		if ((r = calloc(1, sizeof(*r))) == NULL)
			fatal("- relay calloc");
		rdns_fail(r, RDNS_TEMPFAIL, "4.3.5", "%s", why);
		relay_pool_route_failed(c, r);
		free(r);
		return;
	}
	c->fd = -1;
	c->state = RCS_SESSION;
	c->nmsgs = 0;
	if ((c->smtp = relay_smtp_new(relay_env.base, fd, p, &relay_pool_cbs,
	    c)) == NULL) {
		(void)snprintf(c->last_error, sizeof(c->last_error),
		    "out of memory");
		relay_conn_next(c, 1);
	}
}

/* The session is ready (greeting, EHLO, STARTTLS done). */
static void
relay_pool_ready(struct relay_smtp *s, void *arg)
{
	struct relay_conn	*c = arg;
	struct relay_dest	*d = c->d;
	const char		*verified;
	int			 tls;

	c->state = RCS_READY;
	d->reached = 1;
	d->backoff_secs = 0;
	d->backoff_until = 0;
	relay_smtp_info(s, &tls, NULL, NULL);
	verified = relay_smtp_verified(s);
	relay_env.counters[RC_CONNECTIONS]++;
	if (tls)
		relay_env.counters[RC_TLS]++;
	if (strcmp(verified, "no") != 0)
		relay_env.counters[RC_TLS_VERIFIED]++;
	if (strncmp(verified, "dane", 4) == 0)
		relay_env.counters[RC_DANE]++;
	if (c->sts != NULL && c->sts->mode == RELAY_STS_ENFORCE)
		relay_env.counters[RC_STS_ENFORCED]++;
	log_info("%s relay connect dest=%s relay=%s tls=%s verified=%s",
	    c->id, d->t.key, c->relay, tls ? "yes" : "no", verified);
	if (c->sts != NULL && c->sts->mode == RELAY_STS_TESTING && !tls)
		log_info("%s relay sts-testing dest=%s relay=%s "
		    "error=\"no TLS: enforce would defer\"", c->id, d->t.key,
		    c->relay);
	if (d->nqueued == 0 || stopping || relay_pool_send(c) == -1)
		relay_slot_idle(c, 1);
}

static void
relay_pool_rcpt(struct relay_smtp *s, struct relay_msg *m,
    struct relay_rcpt *r, void *arg)
{
	struct relay_conn	*c = arg;
	struct relay_batch	*b = c->batch;
	struct relay_brcpt	*br;
	int			 tls, caps;

	(void)m;
	if (b == NULL || r < b->mrcpts || r >= b->mrcpts + b->nrcpt)
		fatalx("- relay result for a recipient not sent");
	br = &b->rcpts[r - b->mrcpts];
	br->done = 1;
	br->result = r->result == RELAY_DONE ? RESULT_OK :
	    r->result == RELAY_FAILED ? RESULT_PERMFAIL : RESULT_TEMPFAIL;
	relay_smtp_info(s, &tls, NULL, &caps);
	br->flags = tls ? RELAY_RCPT_F_TLS : 0;
	if (br->result == RESULT_OK && (caps & RELAY_CAP_DSN) &&
	    r->notify != NULL)
		br->flags |= RELAY_RCPT_F_DSN_PASSED;
	relay_status_of(r->reply, br->result, br->status,
	    sizeof(br->status));
	(void)strlcpy(br->remote, c->relay, sizeof(br->remote));
	(void)strlcpy(br->diag, r->reply, sizeof(br->diag));
}

/* A message is through: answered; the next one over the same session. */
static void
relay_pool_msg(struct relay_smtp *s, struct relay_msg *m, void *arg)
{
	struct relay_conn	*c = arg;
	struct relay_dest	*d = c->d;
	struct relay_batch	*b = c->batch;
	uint32_t		 max = relay_env.conf->relay_msgs_per_conn;

	(void)m;
	c->batch = NULL;
	d->nactive--;
	c->nmsgs++;
	relay_batch_settle(b, RESULT_TEMPFAIL, NULL, c->relay,
	    "connection ended before a reply");
	relay_ipc_result(b);
	if (max != 0 && (uint32_t)c->nmsgs >= max) {
		c->quitting = 1;
		return;		/* relay_smtp quits at its msgs_max */
	}
	if (d->nqueued == 0 || stopping || relay_pool_send(c) == -1)
		relay_slot_idle(c, 1);
	(void)s;
}

/* The session ended (after the results of a batch it carried). */
static void
relay_pool_end(struct relay_smtp *s, int ok, const char *reason, void *arg)
{
	struct relay_conn	*c = arg;
	struct relay_dest	*d = c->d;
	char			 verified[16];
	int			 tls;

	relay_smtp_info(s, &tls, NULL, NULL);
	(void)strlcpy(verified, relay_smtp_verified(s), sizeof(verified));
	c->smtp = NULL;
	/* reason may be the session's own text: s is freed after it. */
	if (c->state != RCS_READY) {
		/* A greeting refused, a handshake failed: the next host. */
		relay_env.counters[RC_CONNECT_FAILED]++;
		c->sts_failed = c->sts != NULL &&
		    c->sts->mode == RELAY_STS_ENFORCE && c->p.tls ==
		    RELAY_TLS_VERIFY;
		if (c->sts_failed)
			relay_env.counters[RC_STS_REFUSED]++;
		(void)snprintf(c->last_error, sizeof(c->last_error),
		    "%s: %s%s", c->relay, c->sts_failed ? "4.7.5 MTA-STS: " :
		    "", reason);
		log_info("%s relay session-failed relay=%s error=\"%s\"",
		    c->id, c->relay, reason);
		relay_smtp_free(s);
		relay_conn_next(c, 1);
		return;
	}
	log_info("%s relay close dest=%s relay=%s tls=%s verified=%s "
	    "messages=%d ok=%s reason=\"%s\"", c->id, d->t.key, c->relay,
	    tls ? "yes" : "no", verified, c->nmsgs, ok ? "yes" : "no",
	    reason);
	if (!ok)
		(void)snprintf(d->last_error, sizeof(d->last_error), "%s: %s",
		    c->relay, reason);
	relay_smtp_free(s);
	relay_pool_conn_remove(c);
	relay_pool_kick(d);
}

/* The manager went away: its waiting batches are dropped. */
void
relay_pool_forget(unsigned int gen)
{
	struct relay_dest	*d;
	struct relay_batch	*b, *next;

	RB_FOREACH(d, relay_dests, &dests)
		for (b = TAILQ_FIRST(&d->queue); b != NULL; b = next) {
			next = TAILQ_NEXT(b, entry);
			if (b->gen != gen)
				continue;
			TAILQ_REMOVE(&d->queue, b, entry);
			d->nqueued--;
			log_info("%s relay forgotten reason=manager-gone",
			    b->msgid);
			relay_batch_free(b);
		}
}

void
relay_pool_hosts(relay_host_cb cb, void *arg)
{
	struct relay_dest	*d;
	time_t			 now = relay_now();

	RB_FOREACH(d, relay_dests, &dests)
		cb(d->t.key, d->nconns, d->nqueued, d->nactive,
		    d->backoff_until > now ? (uint64_t)d->backoff_until : 0,
		    d->last_error, arg);
}

/* Frees the destinations with nothing left to remember. */
static void
relay_pool_gc(evutil_socket_t fd, short ev, void *arg)
{
	struct relay_dest	*d, *next;
	struct timeval		 tv = { RELAY_POOL_GC_SECS, 0 };
	time_t			 now = relay_now();

	(void)fd;
	(void)ev;
	(void)arg;
	RB_FOREACH_SAFE(d, relay_dests, &dests, next)
		if (d->nconns == 0 && d->nqueued == 0 &&
		    d->backoff_until <= now) {
			relay_slot_forget(d);
			RB_REMOVE(relay_dests, &dests, d);
			free(d);
		}
	(void)evtimer_add(ev_gc, &tv);
}

void
relay_pool_init(void)
{
	struct timeval	 tv = { RELAY_POOL_GC_SECS, 0 };

	if ((ev_gc = evtimer_new(relay_env.base, relay_pool_gc, NULL)) ==
	    NULL || evtimer_add(ev_gc, &tv) == -1)
		fatalx("- relay evtimer_new");
	relay_slot_init();
}

/* Stopping: waiting batches answered, idle sessions sent QUIT. */
void
relay_pool_stop(void)
{
	struct relay_dest	*d;
	struct relay_conn	*c;

	stopping = 1;
	RB_FOREACH(d, relay_dests, &dests) {
		relay_pool_fail_queue(d, RESULT_TEMPFAIL, "4.3.2",
		    "relay shutting down");
		TAILQ_FOREACH(c, &d->conns, entry)
			if (c->smtp != NULL)
				relay_smtp_quit(c->smtp);
	}
}

/* Sessions and destinations, for the log at exit. */
uint32_t
relay_pool_nconns(void)
{
	return nconns_total;
}
