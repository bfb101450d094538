/*
 * The durable commit that keeps the promise of a 250 (DESIGN.md "The
 * queue and its promise").  Runs in the queue manager: user queue,
 * chrooted into the spool.
 *
 * queue_smtp.c checks each MESSAGE_COMMIT and hands it here.  Phase
 * one, in sync threads (queue_sync.c), the files of every message side
 * by side: the fsync of the message and, each a job of its own, the
 * writing and fsync of each envelope; when all are done, the fsync of
 * its directory.  Then,
 * in the loop, rename the directory into queue/.  Phase two, the group
 * commit: one fsync of queue/ (and of incoming/) for every message
 * renamed since the last one began; only then the replies.  A message
 * that fails any step is answered RESULT_TEMPFAIL and removed.  A
 * message made here (a bounce) takes the same steps in one sync thread,
 * one after the other (queue_commit_local_run).
 */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "ipc.h"
#include "log.h"
#include "proto.h"
#include "queue.h"

/* Renamed, waiting for the next fsync of queue/; in the one running. */
static struct incoming_list	 dirs_wait = TAILQ_HEAD_INITIALIZER(dirs_wait);
static struct incoming_list	 dirs_flight =
				    TAILQ_HEAD_INITIALIZER(dirs_flight);
/* The fsyncs of queue/ and of incoming/, run side by side. */
static struct qsync_job		 dirs_jobs[2];
static int			 dirs_busy;	/* dirs_jobs out, not done */
static int			 dirs_error;	/* errno of the first failed */
static const char		*dirs_step;
static int			 dirs_want;	/* a removal asked for one */
static struct ipc_out		 out;

static void	queue_commit_dirs_done(struct qsync_job *);
static void	queue_commit_files_done(struct qsync_job *);

void
incoming_free(struct incoming *in, int purge)
{
	if (in->rfd != -1)
		(void)close(in->rfd);
	if (in->wfd != -1)
		(void)close(in->wfd);
	if (purge && queue_store_purge(qm.incoming_fd, in->msgid) == -1)
		log_warn("%s queue purge-failed", in->msgid);
	if (in->client != NULL) {
		TAILQ_REMOVE(&in->client->msgs, in, entry);
		in->client->nmsgs--;
	}
	free(in->envs);
	free(in);
}

/*
 * Phase one: the message and its envelopes on disk, fsynced, one after
 * the other, for a message made here.  Says in step what failed.
 */
static int
queue_commit_files(struct incoming *in, const char **step)
{
	size_t		 i;
	int		 dirfd, r = 0;

	*step = "fsync-message";
	if (fsync(in->rfd) == -1)
		return -1;
	*step = "open-dir";
	if ((dirfd = openat(qm.incoming_fd, in->msgid, O_RDONLY |
	    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	*step = "envelope";
	for (i = 0; i < in->nenvs && r == 0; i++)
		r = queue_store_write_new(dirfd, &in->envs[i]);
	if (r == 0) {
		*step = "fsync-dir";
		r = queue_store_fsync_dir(dirfd);
	}
	(void)close(dirfd);
	return r;
}

/* After a failed fsync of queue/: take back what was renamed. */
static void
queue_commit_undo(struct incoming_list *list)
{
	struct incoming	*in;

	TAILQ_FOREACH(in, list, batch_entry) {
		if (!in->renamed)
			continue;
		in->failed = 1;
		if (queue_store_purge(qm.queue_fd, in->msgid) == -1)
			log_warnx("%s queue undo-failed: the message may be "
			    "delivered although the client was told 4xx",
			    in->msgid);
	}
	(void)queue_store_fsync_dir(qm.queue_fd);
}

/* incoming/<msgid> into queue/: on the disk once both are synced. */
static int
queue_commit_rename(struct incoming *in)
{
	if (renameat(qm.incoming_fd, in->msgid, qm.queue_fd, in->msgid) ==
	    -1) {
		log_warn("%s queue commit-failed step=rename", in->msgid);
		in->failed = 1;
		return -1;
	}
	in->renamed = 1;
	return 0;
}

/* A committed message enters the index and the schedule. */
static void
queue_commit_index(struct incoming *in)
{
	struct qmsg	*m;
	size_t		 i;

	m = queue_msg_add(in->msgid);
	for (i = 0; i < in->nenvs; i++)
		if (queue_env_add(m, &in->envs[i]) == NULL)
			fatalx("%s queue duplicate envelope",
			    in->envs[i].evpid);
}

static void
queue_commit_reply(struct incoming *in, uint32_t result, const char *error)
{
	if (in->client == NULL)
		return;
	ipc_out_init(&out, MSG_QUEUE_MESSAGE_COMMITTED, in->peerid);
	ipc_put_u32(&out, result);
	ipc_put_str(&out, in->msgid);
	ipc_put_str(&out, error);
	(void)ipc_conn_send(in->client->conn, &out, -1);
}

static int64_t
queue_commit_usecs(void)
{
	struct timespec	 ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The counters of sallyctl show stats: how long commits wait. */
static void
queue_commit_time(const struct incoming *in)
{
	uint64_t	 us = (uint64_t)(queue_commit_usecs() - in->t_start);

	qm.stats.commit_usecs += us;
	if (us > qm.stats.commit_usecs_max)
		qm.stats.commit_usecs_max = us;
}

static void
queue_commit_log(const struct incoming *in)
{
	char	 from[SMTP_PATH_MAX_BYTES * 4], client[QUEUE_CLIENT_MAX_BYTES];
	const struct envelope *e = &in->envs[0];
	int64_t	 now = queue_commit_usecs();

	log_info("%s queue commit from=<%s> nrcpt=%zu size=%lld client=%s "
	    "sync-ms=%lld files-ms=%lld%s", in->msgid, log_vis(from, sizeof(from),
	    e->sender, strlen(e->sender)), in->nenvs, (long long)in->size,
	    log_vis(client, sizeof(client), e->client, strlen(e->client)),
	    (long long)(now - in->t_start) / 1000,
	    (long long)(in->t_renamed - in->t_start) / 1000,
	    in->orphan ? " reply=none" : "");
}

/* The end of a commit, either way: the answer, the index, the free. */
static void
queue_commit_finish(struct incoming *in)
{
	if (in->failed) {
		qm.stats.commit_failed++;
		queue_commit_reply(in, RESULT_TEMPFAIL,
		    "4.3.0 queue write failed");
		incoming_free(in, !in->renamed);
		return;
	}
	queue_commit_index(in);
	qm.stats.committed++;
	queue_commit_time(in);
	queue_commit_log(in);
	queue_commit_reply(in, RESULT_OK, "");
	incoming_free(in, 0);
}

/*
 * Phase two, the group commit: every message renamed since the last
 * fsync of queue/ shares the next one (and the fsync of incoming/, so
 * that a crash never finds a message in both).  One runs at a time;
 * what is renamed meanwhile waits for the next.  Removals after
 * delivery ask for it too (queue_commit_sync_queue_dir).
 */
static void
queue_commit_dirs_run(struct qsync_job *job)
{
	if (queue_store_fsync_dir(*(int *)job->arg) == -1)
		job->error = errno;
}

static void
queue_commit_dirs_kick(void)
{
	static int	*fds[2] = { &qm.queue_fd, &qm.incoming_fd };
	static const char *steps[2] = { "fsync-queue", "fsync-incoming" };
	size_t		 i;

	if (dirs_busy || (TAILQ_EMPTY(&dirs_wait) && !dirs_want))
		return;
	TAILQ_CONCAT(&dirs_flight, &dirs_wait, batch_entry);
	dirs_want = 0;
	dirs_error = 0;
	for (i = 0; i < 2; i++) {
		dirs_jobs[i].run = queue_commit_dirs_run;
		dirs_jobs[i].done = queue_commit_dirs_done;
		dirs_jobs[i].arg = fds[i];
		dirs_jobs[i].step = steps[i];
		dirs_busy++;
		queue_sync_submit(&dirs_jobs[i]);
	}
}

static void
queue_commit_dirs_done(struct qsync_job *job)
{
	struct incoming	*in;
	size_t		 n = 0;

	if (job->error != 0 && dirs_error == 0) {
		dirs_error = job->error;
		dirs_step = job->step;
	}
	if (--dirs_busy > 0)
		return;
	if (dirs_error != 0) {
		errno = dirs_error;
		log_warn("- queue commit-failed step=%s", dirs_step);
		queue_commit_undo(&dirs_flight);
	}
	while ((in = TAILQ_FIRST(&dirs_flight)) != NULL) {
		TAILQ_REMOVE(&dirs_flight, in, batch_entry);
		queue_commit_finish(in);
		n++;
	}
	if (n > 0) {
		qm.stats.commit_batches++;
		log_debug("- queue commit-batch messages=%zu", n);
	}
	queue_commit_dirs_kick();
}

/*
 * Phase one for a commit from smtpd, side by side: the message's fsync
 * and each envelope's file are jobs of their own (in->jobs); when all
 * are done, the fsync of the directory (in->job).
 */
static void
queue_commit_part_run(struct qsync_job *job)
{
	struct incoming	*in = job->arg;
	size_t		 i = (size_t)(job - in->jobs);

	if (i == 0) {
		job->step = "fsync-message";
		if (fsync(in->rfd) == -1)
			job->error = errno;
		return;
	}
	job->step = "envelope";
	if (queue_store_write_new(in->dirfd, &in->envs[i - 1]) == -1)
		job->error = errno;
}

static void
queue_commit_dir_run(struct qsync_job *job)
{
	struct incoming	*in = job->arg;

	job->step = "fsync-dir";
	if (queue_store_fsync_dir(in->dirfd) == -1)
		job->error = errno;
}

static void
queue_commit_part_done(struct qsync_job *job)
{
	struct incoming	*in = job->arg;

	if (job->error != 0 && in->job.error == 0) {
		in->job.error = job->error;
		in->job.step = job->step;
	}
	if (--in->jobs_left > 0)
		return;
	if (in->job.error != 0) {
		queue_commit_files_done(&in->job);
		return;
	}
	in->job.run = queue_commit_dir_run;
	queue_sync_submit(&in->job);
}

/* Phase one is done: rename, then wait for the group's fsync. */
static void
queue_commit_files_done(struct qsync_job *job)
{
	struct incoming	*in = job->arg;

	(void)close(in->dirfd);
	in->dirfd = -1;
	free(in->jobs);
	in->jobs = NULL;
	if (job->error != 0) {
		errno = job->error;
		log_warn("%s queue commit-failed step=%s", in->msgid,
		    job->step);
		in->failed = 1;
	} else if (in->orphan || in->aborted) {
		/*
		 * Nobody waits for the 250, or smtpd stopped waiting and
		 * asked for the abort: drop it while it is not in queue/,
		 * and say so, so that smtpd's 4xx is true.
		 */
		log_info("%s queue aborted reason=%s", in->msgid,
		    in->orphan ? "closed" : "smtpd-gave-up");
		qm.stats.aborted++;
		queue_commit_reply(in, RESULT_TEMPFAIL,
		    "4.3.0 commit aborted at smtpd's request");
		incoming_free(in, 1);
		return;
	}
	if (in->failed || queue_commit_rename(in) == -1) {
		queue_commit_finish(in);
		return;
	}
	in->state = IN_RENAMED;
	in->t_renamed = queue_commit_usecs();
	TAILQ_INSERT_TAIL(&dirs_wait, in, batch_entry);
	queue_commit_dirs_kick();
}

void
queue_commit_sync_queue_dir(void)
{
	dirs_want = 1;
	queue_commit_dirs_kick();
}

/* A message made here that failed: removed, nothing logged. */
static void
queue_commit_local_discard(struct incoming *in, int dirfd)
{
	int	 saved = errno;

	if (in->rfd != -1)
		(void)close(in->rfd);
	(void)queue_store_purge(dirfd, in->msgid);
	if (dirfd == qm.queue_fd)
		(void)queue_store_fsync_dir(qm.queue_fd);
	free(in->envs);
	free(in);
	errno = saved;
}

struct incoming *
queue_commit_local_run(const char *msgid, const char *text, size_t len,
    const struct envelope *tmpl, const char **step)
{
	struct incoming	*in;
	char		 path[QUEUE_MSGID_MAX_BYTES + 16];

	*step = "alloc";
	if ((in = calloc(1, sizeof(*in))) == NULL ||
	    (in->envs = calloc(1, sizeof(*in->envs))) == NULL) {
		free(in);
		(void)queue_store_purge(qm.incoming_fd, msgid);
		errno = ENOMEM;
		return NULL;
	}
	in->wfd = -1;
	in->t_start = queue_commit_usecs();
	(void)strlcpy(in->msgid, msgid, sizeof(in->msgid));
	in->nenvs = 1;
	in->size = (off_t)len;
	in->envs[0] = *tmpl;
	(void)strlcpy(in->envs[0].msgid, in->msgid, sizeof(in->envs[0].msgid));
	(void)snprintf(in->envs[0].evpid, sizeof(in->envs[0].evpid), "%s.1",
	    in->msgid);
	(void)snprintf(path, sizeof(path), "%s/message", in->msgid);
	*step = "write";
	in->rfd = openat(qm.incoming_fd, path, O_RDWR | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0600);
	if (in->rfd == -1 || write(in->rfd, text, len) != (ssize_t)len ||
	    queue_commit_files(in, step) == -1) {
		queue_commit_local_discard(in, qm.incoming_fd);
		return NULL;
	}
	*step = "rename";
	if (renameat(qm.incoming_fd, in->msgid, qm.queue_fd, in->msgid) ==
	    -1) {
		queue_commit_local_discard(in, qm.incoming_fd);
		return NULL;
	}
	in->renamed = 1;
	in->t_renamed = queue_commit_usecs();
	*step = "fsync-dirs";
	if (queue_store_fsync_dir(qm.queue_fd) == -1 ||
	    queue_store_fsync_dir(qm.incoming_fd) == -1) {
		queue_commit_local_discard(in, qm.queue_fd);
		return NULL;
	}
	return in;
}

void
queue_commit_local_end(struct incoming *in)
{
	queue_commit_index(in);
	qm.stats.committed++;
	queue_commit_time(in);
	queue_commit_log(in);
	incoming_free(in, 0);
}

void
queue_commit_enqueue(struct incoming *in)
{
	size_t	 i;

	in->state = IN_FILES;
	in->t_start = queue_commit_usecs();
	in->job.arg = in;
	in->job.done = queue_commit_files_done;
	in->job.error = 0;
	in->dirfd = openat(qm.incoming_fd, in->msgid, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC);
	if (in->dirfd == -1) {
		in->job.error = errno;
		in->job.step = "open-dir";
		queue_commit_files_done(&in->job);
		return;
	}
	if ((in->jobs = calloc(in->nenvs + 1, sizeof(*in->jobs))) == NULL)
		fatal("queue_commit_enqueue");
	in->jobs_left = in->nenvs + 1;
	for (i = 0; i <= in->nenvs; i++) {
		in->jobs[i].run = queue_commit_part_run;
		in->jobs[i].done = queue_commit_part_done;
		in->jobs[i].arg = in;
		queue_sync_submit(&in->jobs[i]);
	}
}

int
queue_commit_detach(struct incoming *in)
{
	if (in->state == IN_OPEN)
		return 0;
	TAILQ_REMOVE(&in->client->msgs, in, entry);
	in->client->nmsgs--;
	in->client = NULL;
	in->orphan = 1;
	return 1;
}
