/*
 * What happens to a due envelope: expiry, expansion, delivery through
 * the delivery agent, and the outcome of each: removal, a retry later,
 * or a bounce.  Runs in the queue manager (user queue, chroot spool).
 *
 * A retry rewrites the envelope durably at once; a success or a bounce
 * removes it through queue_remove.c, off the event loop.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "ipc.h"
#include "log.h"
#include "proto.h"
#include "queue.h"

#define QUEUE_LOG_TEXT_BYTES	(QUEUE_ERROR_MAX_BYTES * 4)

static struct ipc_out	 out;

/*
 * A retry's envelope is rewritten in a sync thread (two fsyncs that the
 * loop does not wait for: a storm of temporary failures would stall
 * every session); the envelope is back in the schedule when it is on
 * the disk, so that its next turn reads what was written.  When its
 * delay notice is due (queue_delay_notice_due), the notice is made and
 * committed first, then the envelope written with delay-notified: a
 * crash in between sends it twice, never not at all.
 */
struct update_job {
	struct qsync_job	 job;
	uint32_t		 reqid;
	int			 notice;	/* a delay notice is due */
	int			 noheaders;
	struct incoming		*in;		/* the notice, committed */
	const char		*notice_step;	/* what failed, else NULL */
	int			 notice_errno;
	char			 msgid[QUEUE_MSGID_MAX_BYTES];	/* its */
	struct envelope		 e;
};

static void
queue_update_run(struct qsync_job *job)
{
	struct update_job	*uj = job->arg;
	struct dsn_report	 r;
	const char		*step;

	if (uj->notice) {
		memset(&r, 0, sizeof(r));
		r.action = DSN_ACTION_DELAYED;
		r.e = &uj->e;
		r.msgid = uj->msgid;
		r.error = uj->e.last_error;
		if ((uj->in = queue_dsn_make(&r, &step, &uj->noheaders)) ==
		    NULL) {
			uj->notice_step = step;
			uj->notice_errno = errno;
		} else
			uj->e.delay_notified = 1;
	}
	if (queue_store_add(&uj->e, 1) == -1)
		job->error = errno;
}

static void
queue_update_done(struct qsync_job *job)
{
	struct update_job	*uj = job->arg;
	struct qenv		*q;

	if (uj->noheaders)
		log_warnx("%s queue dsn-without-headers", uj->e.evpid);
	if (uj->notice_step != NULL) {
		errno = uj->notice_errno;
		log_warn("%s queue dsn-failed action=delayed step=%s",
		    uj->e.evpid, uj->notice_step);
	}
	if (uj->in != NULL) {
		queue_commit_local_end(uj->in);
		qm.stats.dsn_delayed++;
		log_info("%s queue dsn action=delayed msgid=%s to=<%s>",
		    uj->e.evpid, uj->msgid, uj->e.sender);
	}
	if (job->error != 0) {
		errno = job->error;
		log_warn("%s queue update-failed", uj->e.evpid);
	}
	/* Gone meanwhile (never, as things are): nothing to schedule. */
	if ((q = queue_flight_find(uj->reqid, QENV_UPDATING)) != NULL) {
		queue_flight_end(q);
		queue_sched_insert(q, uj->e.next_try);
	}
	free(uj);
}

/* Writes e (q's) in a sync thread, q in flight; a notice if owed. */
static void
queue_update_submit(struct qenv *q, const struct envelope *e, int notice)
{
	struct update_job	*uj;

	if ((uj = calloc(1, sizeof(*uj))) == NULL)
		fatal("queue_update_submit");
	uj->e = *e;
	if ((uj->notice = notice))
		queue_msgid_draw(uj->msgid);
	uj->reqid = queue_flight_job(q, &uj->job, queue_update_run,
	    queue_update_done, uj);
}

void
queue_env_rewrite(struct qenv *q, struct envelope *e, unsigned int delay)
{
	e->next_try = time(NULL) + delay;
	queue_update_submit(q, e, 0);
}

void
queue_fail_temp(struct qenv *q, struct envelope *e, const char *error)
{
	char			 vis[QUEUE_LOG_TEXT_BYTES];
	int64_t			 now = time(NULL);

	if (e->retries < UINT32_MAX)
		e->retries++;
	queue_text_clean(e->last_error, sizeof(e->last_error), error);
	e->next_try = queue_next_try(now, e->created, e->retries, qm.conf);
	qm.stats.tempfail++;
	log_info("%s queue tempfail retries=%u next-try=+%llds error=\"%s\"",
	    e->evpid, e->retries, (long long)(e->next_try - now),
	    log_vis(vis, sizeof(vis), e->last_error, strlen(e->last_error)));
	queue_update_submit(q, e, queue_delay_notice_due(e, now, qm.conf));
}

void
queue_fail_perm(struct qenv *q, struct envelope *e, const char *error,
    int expired)
{
	char	 vis[QUEUE_LOG_TEXT_BYTES], clean[QUEUE_ERROR_MAX_BYTES + 1];

	queue_text_clean(clean, sizeof(clean), error);
	if (expired)
		qm.stats.expired++;
	else
		qm.stats.permfail++;
	log_info("%s queue %s retries=%u error=\"%s\"", e->evpid,
	    expired ? "expired" : "permfail", e->retries,
	    log_vis(vis, sizeof(vis), clean, strlen(clean)));
	/* A bounce is never answered by a bounce (RFC 5321 6.1). */
	if (e->sender[0] == '\0')
		log_info("%s queue bounce-dropped reason=null-sender",
		    e->evpid);
	/* RFC 3461 4.1: NEVER, or a list without FAILURE: no bounce. */
	else if (e->dsn_notify != 0 && !(e->dsn_notify & DSN_NOTIFY_FAILURE))
		log_info("%s queue bounce-dropped reason=notify", e->evpid);
	else {
		/* Removed once the bounce is on the disk. */
		queue_bounce_start(q, e, clean, expired);
		return;
	}
	queue_env_remove(q);
}

/*
 * 1 when another envelope of the message has taken e's mailbox: e is a
 * duplicate of it and leaves the queue undelivered (queue_dedup.c).
 * XXX Its own NOTIFY is not honoured: it shares the other's fate.
 */
static int
queue_deliver_duplicate(struct qenv *q, const struct envelope *e)
{
	char		 key[QUEUE_DEDUP_KEY_MAX_BYTES];
	const char	*other;

	if (queue_dedup_key(key, sizeof(key), 0, e->mailbox) == -1)
		fatalx("%s queue dedup key too long", e->evpid);
	if ((other = queue_dedup_claim(q->msg, key, e->evpid)) == NULL)
		return 0;
	log_info("%s queue duplicate-dropped mailbox=%s of=%s", e->evpid,
	    e->mailbox, other);
	qm.stats.duplicates++;
	queue_env_remove(q);
	return 1;
}

void
queue_deliver_start(struct qenv *q, struct envelope *e)
{
	char	 to[SMTP_PATH_MAX_BYTES + AUTH_USER_MAX_BYTES + 2];
	int	 fd;

	if (qm.delivery == NULL) {
		queue_sched_insert(q, time(NULL));
		return;
	}
	if (queue_deliver_duplicate(q, e))
		return;
	if (queue_delivered_to(e->rcpt, e->mailbox, to, sizeof(to)) == -1)
		fatalx("%s queue delivered-to too long", e->evpid);
	if ((fd = queue_store_open_message(e->msgid)) == -1) {
		log_warn("%s queue open-message-failed", e->evpid);
		queue_fail_temp(q, e,
		    "4.3.0 cannot read the queued message");
		return;
	}
	/*
	 * RFC 3461 4.1, 5.2.3: a "delivered" report, if it was asked for;
	 * never for a message from <>, which is itself a report (RFC 5321
	 * 6.1: no loop of reports).
	 */
	q->notify_success = (e->dsn_notify & DSN_NOTIFY_SUCCESS) != 0 &&
	    e->sender[0] != '\0';
	queue_flight_add(q, QENV_DELIVERING);
	ipc_out_init(&out, MSG_QUEUE_DELIVERY_START, q->reqid);
	ipc_put_str(&out, e->evpid);
	ipc_put_str(&out, e->mailbox);
	ipc_put_str(&out, e->sender);
	ipc_put_str(&out, to);
	ipc_put_u32(&out, q->recovered ? DELIVERY_F_RECOVERED : 0);
	if (ipc_conn_send(qm.delivery, &out, fd) == -1) {
		log_warnx("%s queue deliver-send-failed", e->evpid);
		queue_flight_end(q);
		queue_sched_insert(q, time(NULL) + 1);
		return;
	}
	log_debug("%s queue deliver-start user=%s rcpt=%s", e->evpid,
	    e->mailbox, to);
}

void
queue_deliver_process(struct qenv *q)
{
	struct envelope	 e;
	const char	*errstr;
	int64_t		 now = time(NULL);

	if (queue_store_load(q->msg->msgid, q->evpid, &e, &errstr) == -1) {
		log_warnx("%s queue load-failed error=\"%s\" retry=+%us",
		    q->evpid, errstr, qm.conf->retry_min_secs);
		queue_sched_insert(q, now + qm.conf->retry_min_secs);
		return;
	}
	if (now >= e.created + (int64_t)qm.conf->expire_secs) {
		queue_fail_perm(q, &e, e.last_error[0] != '\0' ? e.last_error :
		    "4.4.7 delivery time expired", 1);
		return;
	}
	switch (q->kind) {
	case QENV_REMOTE:
		queue_relay_start(q, &e);
		break;
	case QENV_UNEXPANDED:
		queue_expand_start(q, &e);
		break;
	case QENV_MAILBOX:
		queue_deliver_start(q, &e);
		break;
	}
}

/* Reads DELIVERY_RESULT; the delivery agent is trusted to be exact. */
void
queue_deliver_result(struct ipc_conn *c, struct ipc_msg *m)
{
	char		 evpid[QUEUE_EVPID_MAX_BYTES];
	char		 error[QUEUE_ERROR_MAX_BYTES + 1];
	struct envelope	 e;
	struct qenv	*q;
	const char	*errstr;
	uint32_t	 result;

	(void)c;
	if (m->fd != -1 || ipc_get_str(m, evpid, sizeof(evpid)) == -1 ||
	    ipc_get_u32(m, &result) == -1 ||
	    ipc_get_str(m, error, sizeof(error)) == -1 ||
	    ipc_get_end(m) == -1 || result > RESULT_PERMFAIL)
		fatalx("- queue malformed DELIVERY_RESULT from delivery");
	if ((q = queue_flight_find(m->hdr.peerid, QENV_DELIVERING)) == NULL ||
	    strcmp(q->evpid, evpid) != 0)
		fatalx("- queue unexpected DELIVERY_RESULT id=%u",
		    m->hdr.peerid);
	queue_flight_end(q);
	if (result == RESULT_OK) {
		qm.stats.delivered++;
		log_info("%s queue delivered", q->evpid);
		if (q->notify_success)
			queue_dsn_success(q, DSN_ACTION_DELIVERED);
		else
			queue_env_remove(q);
		return;
	}
	if (queue_store_load(q->msg->msgid, q->evpid, &e, &errstr) == -1) {
		log_warnx("%s queue load-failed error=\"%s\"", q->evpid,
		    errstr);
		queue_sched_insert(q, time(NULL) + qm.conf->retry_min_secs);
		return;
	}
	if (result == RESULT_TEMPFAIL)
		queue_fail_temp(q, &e, error[0] != '\0' ? error :
		    "4.0.0 temporary delivery failure");
	else
		queue_fail_perm(q, &e, error[0] != '\0' ? error :
		    "5.0.0 permanent delivery failure", 0);
}
