/*
 * Envelopes and messages leaving the spool after a delivery, a bounce or
 * sallyctl remove.  Runs in the queue manager (user queue, chroot spool).
 *
 * The index forgets an envelope at once; its file goes in a sync thread
 * (queue_sync.c), since an unlink waits for the disk as an fsync does
 * (on a file system mounted with discard, for the trim of the freed
 * blocks).  The directory an envelope left is fsynced
 * QUEUE_REMOVE_SYNC_MSECS later with the others of that moment; a
 * message whose last envelope went is removed whole and queue/ is
 * fsynced with the next group commit (queue_commit.c).  A crash before
 * those syncs delivers again, which at least once allows (doc/
 * INTERNALS.md, "The commit").
 */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "queue.h"

/* Message directories an envelope was unlinked from, to be fsynced. */
static TAILQ_HEAD(, qmsg)	 dirty = TAILQ_HEAD_INITIALIZER(dirty);
static struct event		*ev_dirty;

struct dirty_job {
	struct qsync_job	 job;
	size_t			 n;
	size_t			 nfailed;
	char			 msgids[][QUEUE_MSGID_MAX_BYTES];
};

/* One envelope's file, or with evpid empty the whole message. */
struct remove_job {
	struct qsync_job	 job;
	char			 msgid[QUEUE_MSGID_MAX_BYTES];
	char			 evpid[QUEUE_EVPID_MAX_BYTES];
};

static void
queue_dirty_run(struct qsync_job *job)
{
	struct dirty_job	*dj = job->arg;
	size_t			 i;
	int			 fd;

	for (i = 0; i < dj->n; i++) {
		/* Gone meanwhile: its removal syncs queue/. */
		if ((fd = openat(qm.queue_fd, dj->msgids[i], O_RDONLY |
		    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1)
			continue;
		if (queue_store_fsync_dir(fd) == -1) {
			job->error = errno;
			dj->nfailed++;
		}
		(void)close(fd);
	}
}

static void
queue_dirty_done(struct qsync_job *job)
{
	struct dirty_job	*dj = job->arg;

	if (job->error != 0) {
		errno = job->error;
		log_warn("- queue remove-sync-failed dirs=%zu", dj->nfailed);
	}
	free(dj);
}

static void
queue_dirty_flush(evutil_socket_t fd, short ev, void *arg)
{
	struct dirty_job	*dj;
	struct qmsg		*m;
	size_t			 n = 0;

	(void)fd;
	(void)ev;
	(void)arg;
	TAILQ_FOREACH(m, &dirty, dirty_entry)
		n++;
	if (n == 0)
		return;
	if ((dj = calloc(1, sizeof(*dj) + n * sizeof(dj->msgids[0]))) == NULL)
		fatal("queue_dirty_flush");
	while ((m = TAILQ_FIRST(&dirty)) != NULL) {
		TAILQ_REMOVE(&dirty, m, dirty_entry);
		m->dirty = 0;
		(void)strlcpy(dj->msgids[dj->n++], m->msgid,
		    sizeof(dj->msgids[0]));
	}
	dj->job.run = queue_dirty_run;
	dj->job.done = queue_dirty_done;
	dj->job.arg = dj;
	queue_sync_submit(&dj->job);
}

static void
queue_dirty_add(struct qmsg *m)
{
	struct timeval	 tv = { 0, QUEUE_REMOVE_SYNC_MSECS * 1000 };

	if (m->dirty)
		return;
	if (ev_dirty == NULL &&
	    (ev_dirty = evtimer_new(qm.base, queue_dirty_flush, NULL)) == NULL)
		fatalx("queue_dirty_add");
	m->dirty = 1;
	TAILQ_INSERT_TAIL(&dirty, m, dirty_entry);
	if (!evtimer_pending(ev_dirty, NULL))
		(void)evtimer_add(ev_dirty, &tv);
}

static void
queue_remove_run(struct qsync_job *job)
{
	struct remove_job	*rj = job->arg;
	int			 r;

	if (rj->evpid[0] != '\0') {
		job->step = "unlink";
		r = queue_store_unlink(rj->msgid, rj->evpid);
	} else {
		job->step = "msg-remove";
		r = queue_store_msg_remove(rj->msgid);
	}
	/* Both may race for a file: gone is what was asked. */
	if (r == -1 && errno != ENOENT)
		job->error = errno;
}

static void
queue_remove_done(struct qsync_job *job)
{
	struct remove_job	*rj = job->arg;
	struct qmsg		*m;

	if (job->error != 0) {
		errno = job->error;
		log_warn("%s queue remove-failed step=%s", rj->evpid[0] != '\0' ?
		    rj->evpid : rj->msgid, job->step);
	} else if (rj->evpid[0] == '\0') {
		log_debug("%s queue msg-removed", rj->msgid);
		queue_commit_sync_queue_dir();
	} else if ((m = queue_msg_find(rj->msgid)) != NULL)
		queue_dirty_add(m);
	free(rj);
}

static void
queue_remove_submit(const char *msgid, const char *evpid)
{
	struct remove_job	*rj;

	if ((rj = calloc(1, sizeof(*rj))) == NULL)
		fatal("queue_remove_submit");
	(void)strlcpy(rj->msgid, msgid, sizeof(rj->msgid));
	(void)strlcpy(rj->evpid, evpid, sizeof(rj->evpid));
	rj->job.run = queue_remove_run;
	rj->job.done = queue_remove_done;
	rj->job.arg = rj;
	queue_sync_submit(&rj->job);
}

void
queue_env_drop(struct qenv *q)
{
	struct qmsg	*m = q->msg;

	queue_env_forget(q);
	if (m->nenvs > 0)
		return;
	if (m->dirty) {
		TAILQ_REMOVE(&dirty, m, dirty_entry);
		m->dirty = 0;
	}
	queue_remove_submit(m->msgid, "");
	queue_msg_forget(m);
}

void
queue_env_remove(struct qenv *q)
{
	/* The last one goes with its message's directory. */
	if (q->msg->nenvs > 1)
		queue_remove_submit(q->msg->msgid, q->evpid);
	queue_env_drop(q);
}
