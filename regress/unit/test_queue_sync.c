/*
 * The queue manager's sync threads (queued/queue_sync.c): jobs run off
 * the event loop, several at once, and their done functions run back in
 * the loop's thread, with the run's errno.
 */
#include <sys/types.h>

#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "../../queued/queue.h"

#define SYNC_TEST_JOBS		8
/* Long enough that jobs started together overlap on a busy machine. */
#define SYNC_TEST_RUN_MSECS	100
#define SYNC_TEST_WAIT_SECS	30

static pthread_t	 loop_thread;
static atomic_int	 active, most_active, ran_off_loop;
static int		 done_in_loop, ndone;

static void
sync_test_sleep(void)
{
	struct timespec	 ts = { 0, SYNC_TEST_RUN_MSECS * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		continue;
}

static void
sync_test_run(struct qsync_job *job)
{
	int	 now, most;

	if (!pthread_equal(pthread_self(), loop_thread))
		atomic_fetch_add(&ran_off_loop, 1);
	now = atomic_fetch_add(&active, 1) + 1;
	most = atomic_load(&most_active);
	while (now > most &&
	    !atomic_compare_exchange_weak(&most_active, &most, now))
		continue;
	sync_test_sleep();
	atomic_fetch_sub(&active, 1);
	/* An fsync that fails: its errno must reach the done function. */
	if (job->arg != NULL && fsync(-1) == -1)
		job->error = errno;
}

static void
sync_test_done(struct qsync_job *job)
{
	if (pthread_equal(pthread_self(), loop_thread))
		done_in_loop++;
	if (job->arg != NULL)
		cr_assert_eq(job->error, EBADF, "the run's errno is lost");
	else
		cr_assert_eq(job->error, 0);
	ndone++;
}

static void
sync_test_loop(int want)
{
	time_t	 end = time(NULL) + SYNC_TEST_WAIT_SECS;

	while (ndone < want && time(NULL) < end)
		cr_assert_geq(event_base_loop(qm.base, EVLOOP_ONCE), 0);
	cr_assert_eq(ndone, want, "%d of %d jobs done", ndone, want);
}

static void
sync_test_setup(void)
{
	loop_thread = pthread_self();
	cr_assert_not_null(qm.base = event_base_new());
	queue_sync_init();
}

Test(queue_sync, jobs_overlap_and_end_in_the_loop, .init = sync_test_setup)
{
	static struct qsync_job	 jobs[SYNC_TEST_JOBS];
	size_t			 i;

	for (i = 0; i < SYNC_TEST_JOBS; i++) {
		jobs[i].run = sync_test_run;
		jobs[i].done = sync_test_done;
		queue_sync_submit(&jobs[i]);
	}
	cr_assert_eq(queue_sync_pending(), SYNC_TEST_JOBS);
	sync_test_loop(SYNC_TEST_JOBS);
	cr_assert_eq(queue_sync_pending(), 0);
	cr_assert_eq(atomic_load(&ran_off_loop), SYNC_TEST_JOBS,
	    "a job ran in the loop's thread");
	cr_assert_eq(done_in_loop, SYNC_TEST_JOBS,
	    "a done function ran outside the loop's thread");
	cr_assert_geq(atomic_load(&most_active), 2,
	    "the jobs ran one after the other");
}

Test(queue_sync, errno_reaches_done, .init = sync_test_setup)
{
	static struct qsync_job	 job;
	static int		 fail = 1;

	job.run = sync_test_run;
	job.done = sync_test_done;
	job.arg = &fail;
	job.error = EIO;	/* submit clears what a reuse left */
	queue_sync_submit(&job);
	sync_test_loop(1);
	cr_assert_eq(done_in_loop, 1);
}
