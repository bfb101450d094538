/*
 * imapd's store at the size users have: a folder of 100,000 messages
 * opened cold (uid list and index built) and warm (the index read), a
 * flag changed and seen by a second session, new mail.  The times are
 * printed, not asserted (bench/ measures them); correctness and bounded
 * memory are asserted.
 */
#include <sys/resource.h>
#include <sys/wait.h>

#include <time.h>

#include "test_imap_store.h"
#include "sandbox.h"

#define SCALE_MESSAGES	100000
/* Every tenth file has no ",W=": its size is counted once. */
#define SCALE_NO_W	10

/*
 * On tmpfs when there is one: 100,000 files made on this machine's
 * shared ext4 took 20-40 s, which is the disk's time, not the store's.
 */
static void
scale_setup(void)
{
	const char	*err = NULL;

	(void)strlcpy(ts_root, access("/dev/shm", W_OK) == 0 ?
	    "/dev/shm/imap-scale.XXXXXX" : "/tmp/imap-scale.XXXXXX",
	    sizeof(ts_root));
	cr_assert_not_null(mkdtemp(ts_root));
	(void)snprintf(ts_maildir, sizeof(ts_maildir), "%s/Maildir", ts_root);
	ts_st = imap_store_open(ts_maildir, &err);
	cr_assert_not_null(ts_st, "%s", err);
}

TestSuite(imap_store_scale, .init = scale_setup, .fini = ts_teardown,
    .timeout = 300);

static double
now_ms(void)
{
	struct timespec	 ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Files as the delivery agent names them, in cur/ already seen. */
static void
generate(void)
{
	static const char	 body[] = "Subject: s\n\nbody\n";	/* W=20 */
	char			 path[512];
	int			 i, fd;

	for (i = 0; i < SCALE_MESSAGES; i++) {
		(void)snprintf(path, sizeof(path), "%s/cur/%d.M%dP7Q%d.host%s%s",
		    ts_maildir, 1700000000 + i / 10, (i % 10) * 1000, i,
		    i % SCALE_NO_W == 0 ? "" : ",S=17,W=20",
		    i % 3 == 0 ? ":2,S" : ":2,");
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
		cr_assert(fd != -1, "%s", path);
		cr_assert(write(fd, body, sizeof(body) - 1) ==
		    (ssize_t)sizeof(body) - 1);
		(void)close(fd);
	}
}

static void
check_view(struct imap_mbox *mb)
{
	const struct imap_msg	*m;
	uint32_t		 i;

	cr_assert_eq(imap_mbox_count(mb), SCALE_MESSAGES);
	for (i = 0; i < SCALE_MESSAGES; i++) {
		m = imap_mbox_msg(mb, i);
		cr_assert_eq(m->uid, i + 1);
		cr_assert_eq(m->size, 20, "uid %u: %llu", m->uid,
		    (unsigned long long)m->size);
		cr_assert_eq((m->flags & IMAP_F_SEEN) != 0, i % 3 == 0);
	}
}

static long
maxrss_kb(void)
{
	struct rusage	 ru;

	cr_assert(getrusage(RUSAGE_SELF, &ru) == 0);
	return ru.ru_maxrss;
}

Test(imap_store_scale, hundred_thousand)
{
	struct imap_mbox	*a, *b;
	struct imap_store_res	 res;
	struct imap_sync	 sync;
	double			 t0, cold, warm, warm2, store, seen, deliv;
	long			 rss0;

	t0 = now_ms();
	generate();
	fprintf(stderr, "generated in %.1f ms\n", now_ms() - t0);
	rss0 = maxrss_kb();
	t0 = now_ms();
	a = ts_open("INBOX", 0);
	cold = now_ms() - t0;
	check_view(a);
	imap_mbox_close(a);

	t0 = now_ms();
	a = ts_open("INBOX", 0);
	warm = now_ms() - t0;
	check_view(a);
	t0 = now_ms();
	b = ts_open("INBOX", 0);
	warm2 = now_ms() - t0;

	t0 = now_ms();
	cr_assert_eq(imap_mbox_store(a, (uint32_t[]){ 4242 }, 1,
	    IMAP_FLAGS_ADD, IMAP_F_FLAGGED, 0, &res), IMAP_ST_OK);
	store = now_ms() - t0;
	cr_assert_eq(res.nchanged, 1);
	imap_store_res_free(&res);
	t0 = now_ms();
	ts_sync(b, IMAP_SYNC_EXPUNGE, &sync);
	seen = now_ms() - t0;
	cr_assert_eq(sync.nchanged, 1);
	cr_assert_eq(sync.changed[0], 4242);
	imap_sync_free(&sync);

	ts_put("new/1800000000.M1P1Q1.h", "late\n");
	t0 = now_ms();
	ts_sync(b, IMAP_SYNC_EXPUNGE, &sync);
	deliv = now_ms() - t0;
	cr_assert_eq(sync.exists, SCALE_MESSAGES + 1);
	cr_assert_eq(imap_mbox_msg(b, SCALE_MESSAGES)->uid,
	    SCALE_MESSAGES + 1);
	imap_sync_free(&sync);
	imap_mbox_close(a);
	imap_mbox_close(b);

	fprintf(stderr, "imap store on %s, %d messages: open cold %.1f ms, warm "
	    "%.1f ms, warm (second session) %.1f ms, STORE one %.1f ms, "
	    "seen by the other %.1f ms, a delivery synced %.1f ms, peak RSS "
	    "+%ld KB\n", ts_root, SCALE_MESSAGES, cold, warm, warm2, store, seen,
	    deliv, maxrss_kb() - rss0);
	/* Two views of 100,000 messages: about 10 MB each. */
	cr_assert_lt(maxrss_kb() - rss0, 128 * 1024);
}

/*
 * The same sizes under the mailbox process's seccomp filter (the file
 * set; IDLE's inotify calls are imapd's role's own): a call the store
 * makes only at scale (a big qsort, an mmap of the cache, a rewrite of
 * the uid list) would kill the child with SIGSYS.  Exit codes say which
 * step failed.
 */
static int
sandboxed_steps(void)
{
	struct imap_mbox	*mb;
	struct imap_store_res	 res;
	struct imap_copy_res	 cres;
	struct imap_sync	 sync;
	uint32_t		 i, all[SCALE_MESSAGES];

	if (imap_mbox_open(ts_st, "INBOX", 0, &mb) != IMAP_ST_OK)
		return 10;
	if (imap_mbox_count(mb) != SCALE_MESSAGES)
		return 11;
	for (i = 0; i < SCALE_MESSAGES; i++)
		all[i] = i;
	if (imap_mbox_store(mb, all, SCALE_MESSAGES, IMAP_FLAGS_ADD,
	    IMAP_F_SEEN, 0, &res) != IMAP_ST_OK)
		return 12;
	imap_store_res_free(&res);
	for (i = 0; i < 1000; i++)
		if (imap_mbox_cache_put(mb, i, IMAP_CACHE_ENVELOPE,
		    "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)", 41) !=
		    IMAP_ST_OK)
			return 13;
	imap_mbox_flush(mb);
	if (imap_folder_create(ts_st, "Copies") != IMAP_ST_OK ||
	    imap_mbox_copy(mb, all, 1000, "Copies", 0, &cres) != IMAP_ST_OK)
		return 14;
	imap_copy_res_free(&cres);
	if (imap_mbox_store(mb, all, 500, IMAP_FLAGS_ADD, IMAP_F_DELETED, 0,
	    &res) != IMAP_ST_OK)
		return 15;
	imap_store_res_free(&res);
	if (imap_mbox_expunge(mb, NULL, 0, &sync) != IMAP_ST_OK ||
	    sync.nexpunged != 500)
		return 16;
	imap_sync_free(&sync);
	imap_mbox_close(mb);
	if (imap_mbox_open(ts_st, "INBOX", IMAP_OPEN_READONLY, &mb) !=
	    IMAP_ST_OK || imap_mbox_count(mb) != SCALE_MESSAGES - 500)
		return 17;
	imap_mbox_close(mb);
	return 0;
}

Test(imap_store_scale, under_the_mailbox_filter)
{
	struct sandbox_filter	*f;
	pid_t			 pid;
	int			 status;

	generate();
	(void)unsetenv("SALLYPORT_SANDBOX");
	f = sandbox_prepare(SANDBOX_MAILBOX);
	cr_assert((pid = fork()) != -1);
	if (pid == 0) {
		if (sandbox_apply(f) == -1)
			_exit(100);
		_exit(sandboxed_steps());
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	sandbox_filter_free(f);
	cr_assert(WIFEXITED(status), "killed by signal %d",
	    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	cr_assert_eq(WEXITSTATUS(status), 0, "step %d failed",
	    WEXITSTATUS(status));
}
