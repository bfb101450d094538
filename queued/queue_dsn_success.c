/*
 * Reports of success (RFC 3461 NOTIFY=SUCCESS, RFC 3464 text from
 * queue_bounce.c): "delivered" for a recipient whose mailbox has the
 * message (RFC 3461 5.2.3), and for the relay "relayed".  "expanded", for
 * an alias with several targets (RFC 3461 5.2.7.3), is sent by the
 * expansion itself (queue_expand.c).  Runs in the queue manager (user
 * queue, chroot spool).
 *
 * Made and committed in a sync thread as a bounce is, from <> so that it
 * is never answered (no report is asked for a message from <>, see
 * queue_deliver.c), once per recipient: the envelope, in flight
 * meanwhile, is removed durably in the same thread once its report is
 * committed (not later, with the others, as after a delivery without a
 * report), so that a crash repeats a report only if it falls between
 * that commit and that removal.  The delivery of an envelope the crash
 * brought back is found in the Maildir and not written again
 * (doc/INTERNALS.md, "Maildir delivery"); its report is sent then.
 *
 * A report that cannot be made leaves the envelope in the queue, marked
 * as maybe delivered: its next turn finds the copy and tries the report
 * again.  Not so after the relay: another turn would send the message
 * again, so the report is dropped (logged) and the envelope removed.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "log.h"
#include "queue.h"

struct dsn_job {
	struct qsync_job	 job;
	uint32_t		 reqid;
	enum dsn_action		 action;
	int			 noheaders;
	int			 unlinked;	/* the envelope left the disk */
	struct incoming		*in;
	struct envelope		 e;
	char			 msgid[QUEUE_MSGID_MAX_BYTES];
};

static void
queue_dsn_success_run(struct qsync_job *job)
{
	struct dsn_job		*dj = job->arg;
	struct dsn_report	 r;

	r.action = dj->action;
	r.e = &dj->e;
	r.msgid = dj->msgid;
	r.error = "";
	r.expired = 0;
	if ((dj->in = queue_dsn_make(&r, &job->step, &dj->noheaders)) ==
	    NULL) {
		job->error = errno;
		return;
	}
	job->step = "remove";
	if (queue_store_remove(dj->e.msgid, dj->e.evpid) == 0)
		dj->unlinked = 1;
	else
		job->error = errno;
}

static void
queue_dsn_success_done(struct qsync_job *job)
{
	struct dsn_job	*dj = job->arg;
	struct qenv	*q;

	q = queue_flight_find(dj->reqid, QENV_UPDATING);
	if (dj->noheaders)
		log_warnx("%s queue dsn-without-headers", dj->e.evpid);
	if (job->error != 0) {
		errno = job->error;
		log_warn("%s queue dsn-failed step=%s", dj->e.evpid,
		    job->step);
	}
	if (dj->in != NULL) {
		queue_commit_local_end(dj->in);
		qm.stats.dsn_success++;
		log_info("%s queue dsn action=%s msgid=%s to=<%s>",
		    dj->e.evpid, dj->action == DSN_ACTION_RELAYED ?
		    "relayed" : "delivered", dj->msgid, dj->e.sender);
	}
	if (q != NULL) {
		queue_flight_end(q);
		if (dj->unlinked)
			queue_env_drop(q);
		else if (dj->in != NULL)
			queue_env_remove(q);
		/* Relayed: trying again would send the message again. */
		else if (dj->action == DSN_ACTION_RELAYED) {
			log_warnx("%s queue dsn-dropped action=relayed",
			    dj->e.evpid);
			queue_env_remove(q);
		} else {
			q->recovered = 1;
			queue_sched_insert(q, time(NULL) +
			    qm.conf->retry_min_secs);
		}
	}
	free(dj);
}

void
queue_dsn_success(struct qenv *q, enum dsn_action action)
{
	struct dsn_job	*dj;
	const char	*errstr;

	if ((dj = calloc(1, sizeof(*dj))) == NULL)
		fatal("queue_dsn_success");
	if (queue_store_load(q->msg->msgid, q->evpid, &dj->e, &errstr) ==
	    -1) {
		log_warnx("%s queue dsn-failed step=load error=\"%s\"",
		    q->evpid, errstr);
		free(dj);
		queue_env_remove(q);
		return;
	}
	dj->action = action;
	queue_msgid_draw(dj->msgid);
	dj->reqid = queue_flight_job(q, &dj->job, queue_dsn_success_run,
	    queue_dsn_success_done, dj);
}
