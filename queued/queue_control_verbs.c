/*
 * control.sock's verbs that change what the queue manager does (user
 * queue, chroot spool): pause and resume smtpd's intake, the local
 * deliveries, the relay or single envelopes; hold and release, expire
 * and requeue envelopes (sallyctl(8), doc/INTERNALS.md "sallyctl's
 * queue verbs").
 *
 * An envelope in flight (being expanded, delivered, relayed or
 * rewritten) is counted busy and left alone: its outcome comes first.
 * hold, release and requeue write the envelope file durably before
 * they answer: read in the loop (page cache), changed, and written
 * (tmp file, fsync, rename, fsync of the directory) in a sync thread
 * with the envelope in flight meanwhile, as a retry's rewrite is
 * (queue_deliver.c), QUEUE_CTL_WRITES_MAX at a time; the answer goes
 * when the last write is done.  In the loop, "hold all" of 1,000
 * envelopes took 16.6 s, every session waiting; so, 0.82 s.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ipc.h"
#include "log.h"
#include "proto.h"
#include "queue.h"
#include "queue_control_int.h"

/* What expire bounces with: RFC 3463 3.5, X.4.7 delivery time expired. */
#define CTL_EXPIRE_ERROR	"4.4.7 expired by the administrator " \
				    "(sallyctl expire)"

/* The role flags pause and resume smtp, delivery and relay switch. */
struct ctl_role {
	const char	*name;
	int		*flag;
};

/* 1 when q may be changed now (waiting or held), else counts it busy. */
static int
ctl_env_idle(struct qenv *q, struct ctl_count *c)
{
	if (q->state == QENV_WAITING || q->state == QENV_HELD)
		return 1;
	c->busy++;
	return 0;
}

/* Takes q (waiting or held) out of the schedule: QENV_IDLE. */
static void
ctl_env_unschedule(struct qenv *q)
{
	if (q->state == QENV_WAITING)
		queue_sched_remove(q);
	else
		q->state = QENV_IDLE;
}

/* A changed envelope being written for a verb (queue_sync.c). */
struct ctl_write {
	struct qsync_job	 job;
	uint32_t		 reqid;		/* q's, in flight */
	uint32_t		 client;	/* the ctl_client's id */
	const char		*verb;		/* for the log */
	int			 held;		/* q->held once written */
	int64_t			 when;		/* q's next try after */
	struct envelope		 e;
};

static void
ctl_write_run(struct qsync_job *job)
{
	struct ctl_write	*w = job->arg;

	if (queue_store_add(&w->e, 1) == -1)
		job->error = errno;
}

/* Back in the loop: q back in the schedule (or aside), counted. */
static void
ctl_write_done_job(struct qsync_job *job)
{
	struct ctl_write	*w = job->arg;
	struct qenv		*q;

	if (job->error != 0) {
		errno = job->error;
		log_warn("%s queue ctl-%s-failed", w->e.evpid, w->verb);
	} else
		log_info("%s queue %s by=sallyctl", w->e.evpid, w->verb);
	if ((q = queue_flight_find(w->reqid, QENV_UPDATING)) != NULL) {
		queue_flight_end(q);
		if (job->error == 0)
			q->held = w->held;
		queue_sched_insert(q, job->error == 0 ? w->when :
		    q->next_try);
		queue_sched_kick();
	}
	ctl_write_done(w->client, job->error != 0);
	free(w);
}

/*
 * Loads q's envelope (waiting or held), lets change() alter it and
 * writes it in a sync thread; q comes back held or not as the file
 * says, due at when.  Counted pending, or failed when it cannot load.
 */
static void
ctl_env_write(struct qenv *q, struct ctl_count *c,
    void (*change)(struct envelope *, int64_t), int64_t when,
    const char *verb)
{
	struct ctl_write	*w;
	const char		*errstr;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		fatal("ctl_env_write");
	if (queue_store_load(q->msg->msgid, q->evpid, &w->e, &errstr) == -1) {
		log_warnx("%s queue ctl-%s-failed error=\"%s\"", q->evpid,
		    verb, errstr);
		c->failed++;
		free(w);
		return;
	}
	change(&w->e, c->now);
	w->client = c->client;
	w->verb = verb;
	w->held = w->e.held;
	w->when = when;
	ctl_env_unschedule(q);
	w->reqid = queue_flight_job(q, &w->job, ctl_write_run,
	    ctl_write_done_job, w);
	c->pending++;
}

static void
ctl_set_held(struct envelope *e, int64_t now)
{
	(void)now;
	e->held = 1;
}

static void
ctl_clear_held(struct envelope *e, int64_t now)
{
	(void)now;
	e->held = 0;
}

/* postsuper -r: the retry count and its backoff start again, now. */
static void
ctl_reset_retries(struct envelope *e, int64_t now)
{
	e->retries = 0;
	e->next_try = now;
}

static void
ctl_hold_one(struct qenv *q, void *arg)
{
	struct ctl_count	*c = arg;

	if (q->held) {
		c->done++;	/* already: holding is idempotent */
		return;
	}
	if (ctl_env_idle(q, c))
		ctl_env_write(q, c, ctl_set_held, q->next_try, "held");
}

static void
ctl_release_one(struct qenv *q, void *arg)
{
	struct ctl_count	*c = arg;

	/* Back in the schedule when written, unless still paused. */
	if (q->held && ctl_env_idle(q, c))
		ctl_env_write(q, c, ctl_clear_held, q->next_try, "released");
}

static void
ctl_pause_one(struct qenv *q, void *arg)
{
	struct ctl_count	*c = arg;

	if (q->paused) {
		c->done++;
		return;
	}
	if (!ctl_env_idle(q, c))
		return;
	ctl_env_unschedule(q);
	q->paused = 1;
	queue_sched_insert(q, q->next_try);
	log_info("%s queue paused by=sallyctl", q->evpid);
	c->done++;
}

static void
ctl_resume_one(struct qenv *q, void *arg)
{
	struct ctl_count	*c = arg;

	if (!q->paused || !ctl_env_idle(q, c))
		return;
	q->paused = 0;
	q->state = QENV_IDLE;
	queue_sched_insert(q, q->next_try);	/* unless still held */
	log_info("%s queue resumed by=sallyctl", q->evpid);
	c->done++;
}

/* Bounces q now, as an expiry does, whether held, paused or waiting. */
static void
ctl_expire_one(struct qenv *q, void *arg)
{
	struct ctl_count	*c = arg;
	struct envelope		 e;
	const char		*errstr;

	if (!ctl_env_idle(q, c))
		return;
	if (queue_store_load(q->msg->msgid, q->evpid, &e, &errstr) == -1) {
		log_warnx("%s queue ctl-expire-failed error=\"%s\"", q->evpid,
		    errstr);
		c->failed++;
		return;
	}
	ctl_env_unschedule(q);
	q->held = q->paused = 0;
	log_info("%s queue expire by=sallyctl", q->evpid);
	queue_fail_perm(q, &e, CTL_EXPIRE_ERROR, 1);
	c->done++;
}

static void
ctl_requeue_one(struct qenv *q, void *arg)
{
	struct ctl_count	*c = arg;

	/* A held or paused one stays so, due now when it comes back. */
	if (ctl_env_idle(q, c))
		ctl_env_write(q, c, ctl_reset_retries, c->now, "requeued");
}

/* The flag of smtp, delivery or relay, or NULL when what is an id. */
static int *
ctl_role_flag(const char *what)
{
	static const struct ctl_role roles[] = {
		{ "smtp",	&qm.paused_smtp },
		{ "delivery",	&qm.paused_local },
		{ "relay",	&qm.paused_remote },
	};
	size_t	 i;

	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (strcmp(what, roles[i].name) == 0)
			return roles[i].flag;
	return NULL;
}

/* pause|resume smtp|delivery|relay: one flag; nothing is dropped. */
static void
ctl_role_switch(struct ctl_client *cl, int *flag, int paused)
{
	const char	*what = ctl_arg();
	char		 msg[64];
	int		 was = *flag;

	*flag = paused;
	log_info("- queue %s %s by=sallyctl%s", what,
	    paused ? "paused" : "resumed", was == paused ? " (already)" : "");
	if (flag == &qm.paused_smtp)
		queue_smtp_space_changed();	/* smtpd learns it now */
	else if (!paused)
		queue_sched_kick();
	(void)snprintf(msg, sizeof(msg), "%s %s%s", what,
	    paused ? "paused" : "resumed", was == paused ? " already" : "");
	ctl_result(cl, RESULT_OK, 0, msg);
}

void
queue_ctl_pause(struct ctl_client *cl, struct ipc_msg *m)
{
	int	*flag;

	(void)m;
	if ((flag = ctl_role_flag(ctl_arg())) != NULL)
		ctl_role_switch(cl, flag, 1);
	else
		ctl_apply(cl, ctl_pause_one, "paused");
}

void
queue_ctl_resume(struct ctl_client *cl, struct ipc_msg *m)
{
	int	*flag;

	(void)m;
	if ((flag = ctl_role_flag(ctl_arg())) != NULL)
		ctl_role_switch(cl, flag, 0);
	else
		ctl_apply(cl, ctl_resume_one, "resumed");
}

/* The verbs that act on the envelopes an id names, by request type. */
static const struct {
	uint32_t	 type;
	void		(*fn)(struct qenv *, void *);
	const char	*verb;
	int		 writes;	/* fn writes the file: a window */
} ctl_env_verbs[] = {
	{ MSG_CTL_HOLD,		ctl_hold_one,		"held",		1 },
	{ MSG_CTL_RELEASE,	ctl_release_one,	"released",	1 },
	{ MSG_CTL_EXPIRE,	ctl_expire_one,		"expired",	0 },
	{ MSG_CTL_REQUEUE,	ctl_requeue_one,	"requeued",	1 },
};

void
queue_ctl_envelopes(struct ctl_client *cl, struct ipc_msg *m)
{
	size_t	 i;

	for (i = 0; i < sizeof(ctl_env_verbs) / sizeof(ctl_env_verbs[0]); i++)
		if (ctl_env_verbs[i].type == m->hdr.type) {
			if (ctl_env_verbs[i].writes)
				ctl_apply_writes(cl, ctl_env_verbs[i].fn,
				    ctl_env_verbs[i].verb);
			else
				ctl_apply(cl, ctl_env_verbs[i].fn,
				    ctl_env_verbs[i].verb);
			return;
		}
	fatalx("queue_ctl_envelopes: type %u", m->hdr.type);
}
