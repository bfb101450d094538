/*
 * The queue manager's file-system waits, off its event loop.  Runs in
 * the queue manager (user queue, chroot spool, seccomp SANDBOX_QUEUE,
 * which the threads share: the filter is loaded with TSYNC after they
 * start).
 *
 * Every fsync is a wait for the disk, and a disk does many at once
 * about as fast as one: concurrent fsyncs share a journal commit, or
 * go out to the device together where there is no journal.  Done one
 * after the other in the event loop they capped the queue at one
 * message per few fsyncs (doc/INTERNALS.md, "The commit").  So the
 * manager hands each blocking step to one of QUEUE_SYNC_THREADS
 * threads as a job and goes on; the job's done function runs back in
 * the event loop when it has finished.
 *
 * A job's run function touches only what its job owns (descriptors,
 * buffers) and the manager's directory descriptors, which never change
 * after start.  It does not log: it leaves errno in the job and the
 * done function, in the loop, logs.  Only the job lists are shared,
 * under one mutex; the threads wake the loop through a pipe.
 */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "queue.h"

static pthread_mutex_t		 sync_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t		 sync_cond = PTHREAD_COND_INITIALIZER;
static TAILQ_HEAD(, qsync_job)	 sync_todo = TAILQ_HEAD_INITIALIZER(sync_todo);
static TAILQ_HEAD(, qsync_job)	 sync_done = TAILQ_HEAD_INITIALIZER(sync_done);
static int			 sync_wake[2] = { -1, -1 };
static int			 sync_woken;	/* a byte is in the pipe */
static struct event		*ev_sync;
static unsigned int		 sync_running;	/* submitted, not done */
static unsigned int		 sync_started;	/* threads past their start */

static void *
queue_sync_thread(void *arg)
{
	struct qsync_job	*job;
	char			 c = 0;
	int			 wake;
	ssize_t			 ignored;

	(void)arg;
	/* The C library's own start of a thread (rseq...) is done here. */
	pthread_mutex_lock(&sync_lock);
	sync_started++;
	pthread_cond_broadcast(&sync_cond);
	pthread_mutex_unlock(&sync_lock);
	for (;;) {
		pthread_mutex_lock(&sync_lock);
		while ((job = TAILQ_FIRST(&sync_todo)) == NULL)
			pthread_cond_wait(&sync_cond, &sync_lock);
		TAILQ_REMOVE(&sync_todo, job, entry);
		pthread_mutex_unlock(&sync_lock);

		job->run(job);

		pthread_mutex_lock(&sync_lock);
		TAILQ_INSERT_TAIL(&sync_done, job, entry);
		wake = !sync_woken;
		sync_woken = 1;
		pthread_mutex_unlock(&sync_lock);
		/*
		 * A full pipe already holds a wake-up: nothing is lost.  A
		 * (void) cast does not silence _FORTIFY_SOURCE's
		 * warn_unused_result.
		 */
		if (wake) {
			ignored = write(sync_wake[1], &c, 1);
			(void)ignored;
		}
	}
	return NULL;
}

/* In the loop: the done functions of every finished job, in order. */
static void
queue_sync_reap(evutil_socket_t fd, short ev, void *arg)
{
	TAILQ_HEAD(, qsync_job)	 list = TAILQ_HEAD_INITIALIZER(list);
	struct qsync_job	*job;
	char			 buf[64];

	(void)ev;
	(void)arg;
	while (read(fd, buf, sizeof(buf)) > 0)
		continue;
	pthread_mutex_lock(&sync_lock);
	TAILQ_CONCAT(&list, &sync_done, entry);
	sync_woken = 0;
	pthread_mutex_unlock(&sync_lock);
	while ((job = TAILQ_FIRST(&list)) != NULL) {
		TAILQ_REMOVE(&list, job, entry);
		sync_running--;
		job->done(job);
	}
}

void
queue_sync_submit(struct qsync_job *job)
{
	job->error = 0;
	sync_running++;
	pthread_mutex_lock(&sync_lock);
	TAILQ_INSERT_TAIL(&sync_todo, job, entry);
	pthread_cond_signal(&sync_cond);
	pthread_mutex_unlock(&sync_lock);
}

unsigned int
queue_sync_pending(void)
{
	return sync_running;
}

void
queue_sync_init(void)
{
	pthread_t	 t;
	sigset_t	 all, old;
	unsigned int	 i;
	int		 r;

	if (pipe2(sync_wake, O_CLOEXEC | O_NONBLOCK) == -1)
		fatal("- queue sync pipe");
	if ((ev_sync = event_new(qm.base, sync_wake[0], EV_READ | EV_PERSIST,
	    queue_sync_reap, NULL)) == NULL || event_add(ev_sync, NULL) == -1)
		fatalx("- queue sync event");
	/* Signals are the event loop's: the threads never take one. */
	(void)sigfillset(&all);
	(void)pthread_sigmask(SIG_BLOCK, &all, &old);
	for (i = 0; i < QUEUE_SYNC_THREADS; i++) {
		if ((r = pthread_create(&t, NULL, queue_sync_thread,
		    NULL)) != 0)
			fatalx("- queue sync pthread_create: %s", strerror(r));
		(void)pthread_detach(t);
	}
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	/*
	 * A thread's start makes system calls the filter refuses (rseq,
	 * set_robust_list): the sandbox waits until every one is past it.
	 */
	pthread_mutex_lock(&sync_lock);
	while (sync_started < QUEUE_SYNC_THREADS)
		pthread_cond_wait(&sync_cond, &sync_lock);
	pthread_mutex_unlock(&sync_lock);
}
