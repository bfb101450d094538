/*
 * Recipients expanded through authd (MSG_AUTH_RCPT_EXPAND) before their
 * first delivery.  Runs in the queue manager (user queue, chroot spool).
 *
 * One target is used at once (a mailbox) or written back with the retry
 * (a remote address), see queue_expand_one.  Several targets become
 * one new envelope each, with "parent" naming the original; they are
 * written durably first and the original is unlinked after, in a sync
 * thread: that unlink is the moment the expansion takes effect.  A crash before it leaves
 * the original and some children on disk, and queue_recover() removes
 * the children, so an expansion is never half done nor done twice.
 */
#include <sys/types.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "ipc.h"
#include "log.h"
#include "proto.h"
#include "queue.h"

#define QUEUE_LOG_ADDR_BYTES	(SMTP_PATH_MAX_BYTES * 4)

struct target {
	uint32_t	 kind;
	char		 value[SMTP_PATH_MAX_BYTES + 1];
};

static struct ipc_out	 out;

void
queue_expand_start(struct qenv *q, struct envelope *e)
{
	struct ipc_conn	*authd;
	unsigned int	 delay;

	if ((authd = queue_authd()) == NULL) {
		delay = queue_authd_delay();
		log_debug("%s queue expand-wait reason=authd-down retry=+%us",
		    q->evpid, delay);
		queue_sched_insert(q, time(NULL) + delay);
		q->wait = QWAIT_AUTHD;
		return;
	}
	queue_flight_add(q, QENV_EXPANDING);
	ipc_out_init(&out, MSG_AUTH_RCPT_EXPAND, q->reqid);
	ipc_put_str(&out, e->rcpt);
	if (ipc_conn_send(authd, &out, -1) == -1) {
		queue_flight_end(q);
		queue_sched_insert(q, time(NULL) + queue_authd_delay());
	}
}

static int
queue_target_valid(const struct target *t)
{
	const char	*v = t->value;

	switch (t->kind) {
	case TARGET_MAILBOX:
		return v[0] != '\0' && strcmp(v, ".") != 0 &&
		    strcmp(v, "..") != 0 && strchr(v, '/') == NULL &&
		    queue_text_valid(v, AUTH_USER_MAX_BYTES);
	case TARGET_REMOTE:
		return v[0] != '\0' && strchr(v, '@') != NULL &&
		    queue_text_valid(v, SMTP_PATH_MAX_BYTES);
	}
	return 0;
}

/* Reads EXPAND_RESULT; the targets are allocated.  0, or -1 malformed. */
static int
queue_expand_read(struct ipc_msg *m, uint32_t *result, struct target **tp,
    uint32_t *np)
{
	struct target	*t;
	uint32_t	 n, i;

	*tp = NULL;
	if (m->fd != -1 || ipc_get_u32(m, result) == -1 ||
	    ipc_get_u32(m, &n) == -1 || *result > RESULT_PERMFAIL ||
	    n > ALIAS_TARGETS_MAX || (*result != RESULT_OK && n != 0))
		return -1;
	if ((t = calloc(n > 0 ? n : 1, sizeof(*t))) == NULL)
		fatal("queue_expand_read");
	for (i = 0; i < n; i++)
		if (ipc_get_u32(m, &t[i].kind) == -1 ||
		    ipc_get_str(m, t[i].value, sizeof(t[i].value)) == -1 ||
		    !queue_target_valid(&t[i]))
			break;
	if (i < n || ipc_get_end(m) == -1) {
		free(t);
		return -1;
	}
	*tp = t;
	*np = n;
	return 0;
}

/*
 * A remote target another envelope of the message has: q is dropped as
 * its duplicate (1).  A mailbox is checked when its delivery starts
 * (queue_deliver.c).
 */
static int
queue_expand_taken(struct qenv *q, const struct envelope *e, int remote,
    const char *value)
{
	char		 key[QUEUE_DEDUP_KEY_MAX_BYTES];
	const char	*other;

	if (queue_dedup_key(key, sizeof(key), remote, value) == -1)
		fatalx("%s queue dedup key too long", e->evpid);
	if ((other = queue_dedup_claim(q->msg, key, e->evpid)) == NULL)
		return 0;
	log_info("%s queue duplicate-dropped remote=%s of=%s", e->evpid,
	    value, other);
	qm.stats.duplicates++;
	queue_env_remove(q);
	return 1;
}

/*
 * One target.  A mailbox is not written back: it serves this delivery,
 * and the envelope stays unexpanded on the disk and in the index, so
 * that a retry or a restart asks authd again (and follows a change of
 * the tables) at the cost of a lookup rather than of two fsyncs in the
 * event loop for every recipient.  A remote address is written back
 * (off the loop), then relayed in its next turn, QUEUE_RELAY_GATHER_SECS
 * later, with the other remote recipients of its message.
 */
static void
queue_expand_one(struct qenv *q, struct envelope *e, const struct target *t)
{
	char	 vis[QUEUE_LOG_ADDR_BYTES];

	qm.stats.expanded++;
	log_info("%s queue expanded %s=%s", e->evpid, t->kind ==
	    TARGET_MAILBOX ? "mailbox" : "remote", log_vis(vis, sizeof(vis),
	    t->value, strlen(t->value)));
	if (t->kind == TARGET_MAILBOX) {
		(void)strlcpy(e->mailbox, t->value, sizeof(e->mailbox));
		queue_deliver_start(q, e);
		return;
	}
	if (queue_expand_taken(q, e, 1, t->value))
		return;
	(void)strlcpy(e->rcpt, t->value, sizeof(e->rcpt));
	e->remote = 1;
	q->kind = QENV_REMOTE;
	queue_sched_set_domain(q, e->rcpt);
	queue_env_rewrite(q, e, QUEUE_RELAY_GATHER_SECS);
}

static void
queue_expand_children(const struct envelope *e, uint32_t first,
    const struct target *t, uint32_t n, struct envelope *ne)
{
	uint32_t	 i;

	for (i = 0; i < n; i++) {
		ne[i] = *e;
		(void)snprintf(ne[i].evpid, sizeof(ne[i].evpid), "%s.%u",
		    e->msgid, first + i);
		(void)strlcpy(ne[i].parent, e->evpid, sizeof(ne[i].parent));
		ne[i].mailbox[0] = '\0';
		ne[i].remote = 0;
		if (t[i].kind == TARGET_MAILBOX)
			(void)strlcpy(ne[i].mailbox, t[i].value,
			    sizeof(ne[i].mailbox));
		else {
			(void)strlcpy(ne[i].rcpt, t[i].value,
			    sizeof(ne[i].rcpt));
			ne[i].remote = 1;
		}
		ne[i].retries = 0;
		ne[i].last_error[0] = '\0';
		ne[i].next_try = time(NULL);
		/*
		 * RFC 3461 5.2.7.3: the alias's report of success is the
		 * "expanded" one; its targets keep the rest of NOTIFY.
		 */
		if (e->dsn_notify & DSN_NOTIFY_SUCCESS) {
			ne[i].dsn_notify &= ~DSN_NOTIFY_SUCCESS;
			if (ne[i].dsn_notify == 0)
				ne[i].dsn_notify = DSN_NOTIFY_NEVER;
		}
	}
}

/*
 * Several targets: the children's files written and the parent unlinked
 * in a sync thread (one fsync per child, up to ALIAS_TARGETS_MAX of
 * them: not in the loop), the parent in flight as QENV_UPDATING; the
 * index changes when the disk has.  The children's numbers are taken at
 * once, so that another expansion of the message meanwhile draws others.
 * When the parent's NOTIFY has SUCCESS, its "expanded" report is
 * committed between the two (RFC 3461 5.2.7.3): a crash before the
 * unlink expands it again, report included.
 */
struct expand_job {
	struct qsync_job	 job;
	uint32_t		 reqid;
	uint32_t		 n;
	int			 recovered;	/* the parent's */
	int			 report;	/* an "expanded" report */
	int			 noheaders;
	struct incoming		*in;		/* the report, committed */
	char			 msgid[QUEUE_MSGID_MAX_BYTES];
	struct envelope		 pe;		/* the parent */
	struct envelope		 ne[];
};

static void
queue_expand_many_run(struct qsync_job *job)
{
	struct expand_job	*ej = job->arg;
	struct dsn_report	 r;
	uint32_t		 i;

	job->step = "write-children";
	if (queue_store_add(ej->ne, ej->n) == 0) {
		memset(&r, 0, sizeof(r));
		r.action = DSN_ACTION_EXPANDED;
		r.e = &ej->pe;
		r.msgid = ej->msgid;
		r.error = "";
		if (ej->report && (ej->in = queue_dsn_make(&r, &job->step,
		    &ej->noheaders)) == NULL)
			goto fail;
		job->step = "unlink-parent";
		if (queue_store_remove(ej->pe.msgid, ej->pe.evpid) == 0)
			return;
	}
fail:
	job->error = errno;
	for (i = 0; i < ej->n; i++)
		(void)queue_store_remove(ej->ne[i].msgid, ej->ne[i].evpid);
}

/* The parent leaves the index, its children enter it. */
static void
queue_env_add_children(struct qenv *q, const struct expand_job *ej)
{
	struct qmsg	*m = q->msg;
	struct qenv	*c;
	const struct envelope *ne = ej->ne;
	char		 key[QUEUE_DEDUP_KEY_MAX_BYTES];
	uint32_t	 i;

	/*
	 * What the parent took in an earlier try (one mailbox, before the
	 * tables changed) passes to its children.
	 */
	queue_dedup_release(m, q->evpid);
	queue_env_forget(q);
	for (i = 0; i < ej->n; i++) {
		if ((c = queue_env_add(m, &ne[i])) == NULL)
			fatalx("%s queue duplicate envelope", ne[i].evpid);
		/* The parent's delivery, if a crash brought it back. */
		c->recovered = ej->recovered;
		if (queue_dedup_key(key, sizeof(key), ne[i].remote,
		    ne[i].remote ? ne[i].rcpt : ne[i].mailbox) == 0)
			(void)queue_dedup_claim(m, key, ne[i].evpid);
		log_info("%s queue expanded parent=%s %s=%s", ne[i].evpid,
		    ne[i].parent, ne[i].remote ? "remote" : "mailbox",
		    ne[i].remote ? ne[i].rcpt : ne[i].mailbox);
	}
	qm.stats.expanded++;
}

static void
queue_expand_many_done(struct qsync_job *job)
{
	struct expand_job	*ej = job->arg;
	struct qenv		*q;

	if ((q = queue_flight_find(ej->reqid, QENV_UPDATING)) == NULL)
		fatalx("%s queue expansion of an envelope gone", ej->pe.evpid);
	if (ej->noheaders)
		log_warnx("%s queue dsn-without-headers", ej->pe.evpid);
	if (ej->in != NULL) {
		queue_commit_local_end(ej->in);
		qm.stats.dsn_success++;
		log_info("%s queue dsn action=expanded msgid=%s to=<%s>",
		    ej->pe.evpid, ej->msgid, ej->pe.sender);
	}
	if (job->error != 0) {
		errno = job->error;
		log_warn("%s queue expand-failed step=%s retry=+%us",
		    ej->pe.evpid, job->step, qm.conf->retry_min_secs);
		queue_flight_end(q);
		queue_sched_insert(q, time(NULL) + qm.conf->retry_min_secs);
		free(ej);
		return;
	}
	log_info("%s queue expand targets=%u", ej->pe.evpid, ej->n);
	queue_env_add_children(q, ej);
	free(ej);
}

/*
 * Drops the targets that repeat one before them, or that another
 * envelope of the message has (queue_dedup.c); the number left.
 */
static uint32_t
queue_expand_unique(struct qenv *q, const struct envelope *e,
    struct target *t, uint32_t n)
{
	char		 key[QUEUE_DEDUP_KEY_MAX_BYTES];
	char		 prev[QUEUE_DEDUP_KEY_MAX_BYTES];
	uint32_t	 i, j, k = 0;

	for (i = 0; i < n; i++) {
		if (queue_dedup_key(key, sizeof(key), t[i].kind ==
		    TARGET_REMOTE, t[i].value) == -1)
			fatalx("%s queue dedup key too long", e->evpid);
		for (j = 0; j < k; j++)
			if (queue_dedup_key(prev, sizeof(prev), t[j].kind ==
			    TARGET_REMOTE, t[j].value) == 0 &&
			    strcmp(prev, key) == 0)
				break;
		if (j < k || queue_dedup_owner(q->msg, key, e->evpid) != NULL) {
			log_info("%s queue duplicate-dropped target=%s",
			    e->evpid, key);
			qm.stats.duplicates++;
			continue;
		}
		t[k++] = t[i];
	}
	return k;
}

static void
queue_expand_many(struct qenv *q, struct envelope *e, struct target *t,
    uint32_t n)
{
	struct qmsg		*m = q->msg;
	struct expand_job	*ej;

	if ((n = queue_expand_unique(q, e, t, n)) == 0) {
		/* Every target has its copy from another envelope. */
		queue_env_remove(q);
		return;
	}
	if ((uint64_t)m->next_n + n > UINT32_MAX) {
		queue_fail_perm(q, e, "5.3.0 too many recipients", 0);
		return;
	}
	if ((ej = calloc(1, sizeof(*ej) + n * sizeof(ej->ne[0]))) == NULL)
		fatal("queue_expand_many");
	queue_expand_children(e, m->next_n, t, n, ej->ne);
	m->next_n += n;
	ej->n = n;
	ej->pe = *e;
	ej->recovered = q->recovered;
	/* Never for a message from <> (RFC 3461 5.2.7.3, RFC 5321 6.1). */
	ej->report = (e->dsn_notify & DSN_NOTIFY_SUCCESS) &&
	    e->sender[0] != '\0';
	if (ej->report)
		queue_msgid_draw(ej->msgid);
	ej->reqid = queue_flight_job(q, &ej->job, queue_expand_many_run,
	    queue_expand_many_done, ej);
}

void
queue_expand_result(struct ipc_conn *c, struct ipc_msg *m)
{
	struct envelope	 e;
	struct target	*t;
	struct qenv	*q;
	const char	*errstr;
	uint32_t	 result, n;

	if (queue_expand_read(m, &result, &t, &n) == -1) {
		ipc_conn_close(c, "malformed EXPAND_RESULT");
		return;
	}
	if ((q = queue_flight_find(m->hdr.peerid, QENV_EXPANDING)) == NULL) {
		free(t);
		ipc_conn_close(c, "unexpected EXPAND_RESULT");
		return;
	}
	qm.authd_backoff = 1;
	queue_flight_end(q);
	if (queue_store_load(q->msg->msgid, q->evpid, &e, &errstr) == -1) {
		log_warnx("%s queue load-failed error=\"%s\"", q->evpid,
		    errstr);
		queue_sched_insert(q, time(NULL) + qm.conf->retry_min_secs);
	} else if (result == RESULT_TEMPFAIL)
		queue_fail_temp(q, &e, "4.3.0 recipient lookup failed "
		    "temporarily");
	else if (result == RESULT_PERMFAIL)
		queue_fail_perm(q, &e, "5.1.1 no such recipient", 0);
	else if (n == 0)
		queue_fail_perm(q, &e, "5.1.1 recipient expands to nothing",
		    0);
	else if (n == 1)
		queue_expand_one(q, &e, &t[0]);
	else
		queue_expand_many(q, &e, t, n);
	free(t);
}
