/*
 * The bounce of a failed envelope (RFC 3464 text from queue_bounce.c),
 * made and committed in a sync thread (queue_dsn_make also serves the
 * reports of success, queue_dsn_success.c) (queue_sync.c): reading the failed
 * message's headers, writing the bounce and its commit's fsyncs wait for
 * the disk, and an expiry can bounce many envelopes at once.  Runs in
 * the queue manager (user queue, chroot spool).
 *
 * The failed envelope is in flight (QENV_UPDATING) meanwhile and is
 * removed only once its bounce is committed: a crash in between bounces
 * it again (at least once), never not at all.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "queue.h"

struct bounce_job {
	struct qsync_job	 job;
	uint32_t		 reqid;		/* of the failed envelope */
	int			 expired;
	int			 noheaders;	/* its message was unreadable */
	struct incoming		*in;		/* the bounce, committed */
	struct envelope		 e;		/* the failed envelope */
	char			 msgid[QUEUE_MSGID_MAX_BYTES];
	char			 error[QUEUE_ERROR_MAX_BYTES + 1];
};

/*
 * Reads the start of the message: its header block.  A message that
 * cannot be read gives none: the sender still hears of the outcome.
 * Under RET=FULL (RFC 3461 4.3) a failure's report returns a message
 * smaller than len whole, with *full set; a larger one only by its
 * headers, as Postfix does past its bounce_size_limit.  A report of
 * success returns the headers only (RFC 3461 4.3).
 */
static size_t
queue_dsn_read_headers(const struct envelope *e, int allow_full, char *buf,
    size_t len, int *full, int *noheaders)
{
	ssize_t	 n = -1;
	size_t	 off = 0;
	int	 fd;

	*full = 0;
	if ((fd = queue_store_open_message(e->msgid)) == -1) {
		*noheaders = 1;
		return 0;
	}
	while (off < len) {
		n = pread(fd, buf + off, len - off, (off_t)off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	(void)close(fd);
	if (allow_full && e->dsn_ret == DSN_RET_FULL && n == 0) {
		*full = 1;
		return off;
	}
	return queue_bounce_headers(buf, off, len);
}

/* The report's envelope: from <>, to the message's sender. */
static void
queue_bounce_envelope(const struct envelope *e, int64_t now,
    struct envelope *tmpl)
{
	memset(tmpl, 0, sizeof(*tmpl));
	(void)strlcpy(tmpl->rcpt, e->sender, sizeof(tmpl->rcpt));
	(void)strlcpy(tmpl->orig_rcpt, e->sender, sizeof(tmpl->orig_rcpt));
	(void)strlcpy(tmpl->helo, qm.conf->hostname, sizeof(tmpl->helo));
	(void)strlcpy(tmpl->client, "local", sizeof(tmpl->client));
	/* The sender's address may be UTF-8: a relay must know it. */
	tmpl->smtputf8 = e->smtputf8;
	tmpl->created = tmpl->next_try = now;
}

/* Builds the text into text; its length, or -1. */
static int
queue_dsn_text(const struct dsn_report *r, char *hdrs, char *text,
    int *noheaders)
{
	struct bounce_info	 bi;
	char			 mta[SMTP_PATH_MAX_BYTES + 1];
	char			 diag[QUEUE_ERROR_MAX_BYTES + 1];

	memset(&bi, 0, sizeof(bi));
	bi.action = r->action;
	bi.hostname = qm.conf->hostname;
	bi.msgid = r->msgid;
	bi.to = r->e->sender;
	bi.rcpt = r->e->rcpt;
	bi.orig_rcpt = r->e->orig_rcpt;
	bi.envid = r->e->dsn_envid;
	bi.orcpt = r->e->dsn_orcpt;
	bi.error = r->error;
	/* A remote host's answer (queue_relay.c): Remote-MTA, smtp. */
	if (queue_relay_error_split(r->error, mta, sizeof(mta), diag,
	    sizeof(diag))) {
		bi.remote_mta = mta;
		bi.diag_type = "smtp";
		bi.diag = diag;
	}
	bi.expired = r->expired;
	bi.will_retry_until = r->e->created + (int64_t)qm.conf->expire_secs;
	bi.arrival = r->e->created;
	bi.now = time(NULL);
	bi.headers = hdrs;
	bi.headerslen = queue_dsn_read_headers(r->e, r->action ==
	    DSN_ACTION_FAILED, hdrs, QUEUE_BOUNCE_HEADERS_MAX_BYTES, &bi.full,
	    noheaders);
	return queue_bounce_build(&bi, text, QUEUE_BOUNCE_MAX_BYTES);
}

struct incoming *
queue_dsn_make(const struct dsn_report *r, const char **step,
    int *noheaders)
{
	struct envelope		 tmpl;
	struct incoming		*in = NULL;
	char			*hdrs, *text;
	int			 len, saved;

	*step = "mkdir";
	if (queue_msgid_claim(r->msgid) == -1)
		return NULL;
	hdrs = malloc(QUEUE_BOUNCE_HEADERS_MAX_BYTES);
	text = malloc(QUEUE_BOUNCE_MAX_BYTES);
	*step = "build";
	if (hdrs == NULL || text == NULL ||
	    (len = queue_dsn_text(r, hdrs, text, noheaders)) == -1) {
		saved = hdrs == NULL || text == NULL ? ENOMEM : EINVAL;
		(void)queue_store_purge(qm.incoming_fd, r->msgid);
		errno = saved;
	} else {
		queue_bounce_envelope(r->e, time(NULL), &tmpl);
		in = queue_commit_local_run(r->msgid, text, (size_t)len, &tmpl,
		    step);
	}
	saved = errno;
	free(hdrs);
	free(text);
	errno = saved;
	return in;
}

static void
queue_bounce_run(struct qsync_job *job)
{
	struct bounce_job	*bj = job->arg;
	struct dsn_report	 r;

	r.action = DSN_ACTION_FAILED;
	r.e = &bj->e;
	r.msgid = bj->msgid;
	r.error = bj->error;
	r.expired = bj->expired;
	if ((bj->in = queue_dsn_make(&r, &job->step, &bj->noheaders)) ==
	    NULL)
		job->error = errno;
}

static void
queue_bounce_done(struct qsync_job *job)
{
	struct bounce_job	*bj = job->arg;
	struct qenv		*q;

	q = queue_flight_find(bj->reqid, QENV_UPDATING);
	if (bj->noheaders)
		log_warnx("%s queue bounce-without-headers", bj->e.evpid);
	if (job->error != 0) {
		errno = job->error;
		log_warn("%s queue bounce-failed step=%s retry=+%us",
		    bj->e.evpid, job->step, qm.conf->retry_min_secs);
		if (q != NULL) {
			queue_flight_end(q);
			queue_sched_insert(q, time(NULL) +
			    qm.conf->retry_min_secs);
		}
		free(bj);
		return;
	}
	queue_commit_local_end(bj->in);
	qm.stats.bounces++;
	log_info("%s queue bounce msgid=%s to=<%s>", bj->e.evpid, bj->msgid,
	    bj->e.sender);
	if (q != NULL)
		queue_env_remove(q);
	free(bj);
}

void
queue_bounce_start(struct qenv *q, const struct envelope *e,
    const char *error, int expired)
{
	struct bounce_job	*bj;

	if ((bj = calloc(1, sizeof(*bj))) == NULL)
		fatal("queue_bounce_start");
	bj->e = *e;
	bj->expired = expired;
	(void)strlcpy(bj->error, error, sizeof(bj->error));
	queue_msgid_draw(bj->msgid);
	bj->reqid = queue_flight_job(q, &bj->job, queue_bounce_run,
	    queue_bounce_done, bj);
}
