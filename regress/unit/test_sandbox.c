/*
 * Unit tests for the prepared filters of common/sandbox.c: a filter
 * compiled once installs in a forked child, where the calls its role
 * allows work and a forbidden one kills the child with SIGSYS.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/inotify.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../queued/delivery.h"
#include "ipc.h"
#include "log.h"
#include "proc.h"
#include "proto.h"
#include "sandbox.h"

/* What the child does after installing the filter; its exit status. */
struct sandbox_case {
	const char	*name;
	int		 (*fn)(void);
	int		 killed;	/* 1: expect death by SIGSYS */
};
/*
 * Criterion may run a test in a process of its own with another address
 * layout: parameters hold an index into sandbox_cases, not pointers.
 */
struct sandbox_param {
	size_t		 idx;
};

static int
case_allowed(void)
{
	char	 buf[1];
	int	 fd;

	/* Files, memory and time: what a mailbox process does. */
	if ((fd = open("/dev/zero", O_RDWR)) == -1 || write(fd, "x", 1) != 1 ||
	    read(fd, buf, 1) != 1 || buf[0] != '\0' ||
	    close(fd) == -1)
		return 1;
	if (open("/nonexistent-sandbox-test", O_RDONLY) != -1)
		return 2;
	if (malloc(1 << 20) == NULL || getpid() <= 0)
		return 3;
	return 0;
}

static int
case_unix_socket(void)
{
	/* syslog(3) may reopen /dev/log: an AF_UNIX socket is allowed. */
	return socket(AF_UNIX, SOCK_DGRAM, 0) == -1;
}

/* A socketpair made before the fork: the worker's link to its agent. */
static int	 sandbox_sv[2] = { -1, -1 };

/*
 * What a mailbox worker does between deliveries: a message with a
 * descriptor in and a verdict out, on its SOCK_SEQPACKET socket.
 */
static int
case_worker_ipc(void)
{
	static uint8_t	 buf[sizeof(struct ipc_hdr) + IPC_PAYLOAD_MAX_BYTES];
	static struct ipc_out	 o;
	struct ipc_msg	 m;
	char		 c;
	int		 fd;

	if ((fd = open("/dev/zero", O_RDONLY)) == -1)
		return 1;
	ipc_out_init(&o, MSG_DELIVERY_MAILBOX_WRITE, 0);
	ipc_put_str(&o, "a@example.test");
	if (ipc_send_sync(sandbox_sv[0], &o, fd) == -1 ||
	    ipc_recv_sync(sandbox_sv[1], &m, buf, sizeof(buf)) == -1 ||
	    m.fd == -1 || pread(m.fd, &c, 1, 0) != 1)
		return 2;
	(void)close(m.fd);
	(void)close(fd);
	ipc_out_init(&o, MSG_MAILBOX_DELIVERY_RESULT, 0);
	ipc_put_u32(&o, 0);
	if (ipc_send_sync(sandbox_sv[1], &o, -1) == -1 ||
	    ipc_recv_sync(sandbox_sv[0], &m, buf, sizeof(buf)) == -1)
		return 3;
	return 0;
}

/*
 * A worker looking for a recovered envelope's copy in a Maildir of a
 * few thousand files (queued/delivery_user_index.c): directory reads
 * and the sort of the ids, which glibc's qsort(3) would follow with
 * sysinfo(2) past a small array.
 */
/* The name of test file i of case_maildir_index, under dir. */
static void
index_path(char *dst, size_t len, const char *dir, int i)
{
	(void)snprintf(dst, len, "%s/%s/1.M0P1Q%dE%016x_1.h,S=1", dir,
	    i % 2 ? "new" : "cur", i, i + 1);
}

static int
case_maildir_index(void)
{
	char	 dir[64], path[256];
	int	 i, fd, r;

	(void)snprintf(dir, sizeof(dir), "/tmp/sp-sandbox-index-%ld",
	    (long)getpid());
	if (mkdir(dir, 0700) == -1)
		return 1;
	(void)snprintf(path, sizeof(path), "%s/new", dir);
	(void)mkdir(path, 0700);
	(void)snprintf(path, sizeof(path), "%s/cur", dir);
	(void)mkdir(path, 0700);
	for (i = 0; i < 3000; i++) {
		index_path(path, sizeof(path), dir, i);
		if ((fd = open(path, O_WRONLY | O_CREAT, 0600)) == -1)
			return 2;
		(void)close(fd);
	}
	r = delivery_user_found(dir, "0000000000000bb8.1", 7) == 1 &&
	    delivery_user_found(dir, "0000000000000bb9.1", 7) == 0 ? 0 : 3;
	for (i = 0; i < 3000; i++) {
		index_path(path, sizeof(path), dir, i);
		(void)unlink(path);
	}
	(void)snprintf(path, sizeof(path), "%s/new", dir);
	(void)rmdir(path);
	(void)snprintf(path, sizeof(path), "%s/cur", dir);
	(void)rmdir(path);
	(void)rmdir(dir);
	return r;
}

static int
case_inet_socket(void)
{
	(void)socket(AF_INET, SOCK_STREAM, 0);
	return 0;
}

static int
case_execve(void)
{
	char *const	 argv[] = { (char *)"true", NULL };

	(void)execve("/bin/true", argv, NULL);
	return 0;
}

static int
case_fork(void)
{
	(void)fork();
	return 0;
}

/* Forks a child that installs f and runs fn; returns its wait status. */
static int
sandbox_run(const struct sandbox_filter *f, int (*fn)(void))
{
	pid_t	 pid;
	int	 status;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sandbox_sv), 0);
	pid = fork();
	cr_assert_neq(pid, -1, "fork");
	if (pid == 0) {
		if (sandbox_apply(f) == -1)
			_exit(100);
		_exit(fn());
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	(void)close(sandbox_sv[0]);
	(void)close(sandbox_sv[1]);
	return status;
}

static const struct sandbox_case sandbox_cases[] = {
	{ "allowed calls", case_allowed, 0 },
	{ "AF_UNIX socket", case_unix_socket, 0 },
	{ "worker IPC", case_worker_ipc, 0 },
	{ "Maildir index", case_maildir_index, 0 },
	{ "AF_INET socket", case_inet_socket, 1 },
	{ "execve", case_execve, 1 },
	{ "fork", case_fork, 1 },
};
#define SANDBOX_NCASES	(sizeof(sandbox_cases) / sizeof(sandbox_cases[0]))

/* Indices 0 to n - 1, for a table of n cases (n at most 16). */
static struct criterion_test_params
sandbox_params(size_t n)
{
	static struct sandbox_param params[16];
	size_t			 i;

	for (i = 0; i < n && i < 16; i++)
		params[i].idx = i;
	return cr_make_param_array(struct sandbox_param, params, i);
}

ParameterizedTestParameters(sandbox, mailbox)
{
	return sandbox_params(SANDBOX_NCASES);
}

ParameterizedTest(struct sandbox_param *p, sandbox, mailbox)
{
	const struct sandbox_case	*c = &sandbox_cases[p->idx];
	struct sandbox_filter		*f;
	int				 status;

	(void)unsetenv("SALLYPORT_SANDBOX");
	f = sandbox_prepare(SANDBOX_MAILBOX);
	status = sandbox_run(f, c->fn);
	if (c->killed) {
		cr_assert(WIFSIGNALED(status), "%s: not killed (status %d)",
		    c->name, status);
		cr_assert_eq(WTERMSIG(status), SIGSYS, "%s: signal %d",
		    c->name, WTERMSIG(status));
	} else {
		cr_assert(WIFEXITED(status), "%s: killed by %d", c->name,
		    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
		cr_assert_eq(WEXITSTATUS(status), 0, "%s: exit %d", c->name,
		    WEXITSTATUS(status));
	}
	sandbox_filter_free(f);
}

/* One prepared filter serves any number of children. */
Test(sandbox, reused)
{
	struct sandbox_filter	*f;
	int			 i, status;

	(void)unsetenv("SALLYPORT_SANDBOX");
	f = sandbox_prepare(SANDBOX_MAILBOX);
	for (i = 0; i < 3; i++) {
		status = sandbox_run(f, case_allowed);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		status = sandbox_run(f, case_execve);
		cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS);
	}
	sandbox_filter_free(f);
}

/* SALLYPORT_SANDBOX=off: an empty filter, nothing is forbidden. */
Test(sandbox, off)
{
	struct sandbox_filter	*f;
	int			 status;

	cr_assert_eq(setenv("SALLYPORT_SANDBOX", "off", 1), 0);
	f = sandbox_prepare(SANDBOX_MAILBOX);
	(void)unsetenv("SALLYPORT_SANDBOX");
	status = sandbox_run(f, case_inet_socket);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	sandbox_filter_free(f);
}

/*
 * Many of qsort(3)'s elements: past 1 KiB glibc asks sysinfo(2) for the
 * memory size, which killed the POP3 mailbox process of a user with 56
 * messages.
 */
static int
int_cmp(const void *a, const void *b)
{
	int	 x = *(const int *)a, y = *(const int *)b;

	return x < y ? -1 : x > y;
}

static int
case_big_qsort(void)
{
	static int	 v[100000];
	size_t		 i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		v[i] = (int)((i * 7919) % 100003);
	qsort(v, sizeof(v) / sizeof(v[0]), sizeof(v[0]), int_cmp);
	for (i = 1; i < sizeof(v) / sizeof(v[0]); i++)
		if (v[i - 1] > v[i])
			return 1;
	return 0;
}

Test(sandbox, big_qsort)
{
	struct sandbox_filter	*f;
	int			 status;

	(void)unsetenv("SALLYPORT_SANDBOX");
	f = sandbox_prepare(SANDBOX_MAILBOX);
	status = sandbox_run(f, case_big_qsort);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "qsort of 100,000 ints under the mailbox filter: status %d",
	    status);
	sandbox_filter_free(f);
}

/* A forbidden call, and the name and number its report must carry. */
struct violation_case {
	int		 (*fn)(void);
	const char	*line;
};

static const struct violation_case violation_cases[] = {
	{ case_inet_socket, "- sandbox violation syscall=socket nr=41 "
	    "role=mailbox\n" },
	{ case_execve, "- sandbox violation syscall=execve nr=59 "
	    "role=mailbox\n" },
	{ case_fork, "- sandbox violation syscall=clone nr=56 "
	    "role=mailbox\n" },
};
#define VIOLATION_NCASES \
	(sizeof(violation_cases) / sizeof(violation_cases[0]))

ParameterizedTestParameters(sandbox, violation_logged)
{
	return sandbox_params(VIOLATION_NCASES);
}

/*
 * The child logs to stderr (as under -d), here a file: the SIGSYS
 * handler writes one line naming the call, and the process still dies
 * of SIGSYS, which its supervisor reports as a sandbox violation.
 */
ParameterizedTest(struct sandbox_param *p, sandbox, violation_logged)
{
	const struct violation_case	*c = &violation_cases[p->idx];
	struct sandbox_filter		*f;
	char				 path[] = "/tmp/sandbox-log.XXXXXX";
	char				 buf[512], want[256];
	ssize_t				 n;
	pid_t				 pid;
	int				 fd, status;

	(void)unsetenv("SALLYPORT_SANDBOX");
	f = sandbox_prepare(SANDBOX_MAILBOX);
	cr_assert_neq(fd = mkstemp(path), -1);
	(void)unlink(path);
	cr_assert_neq(pid = fork(), -1);
	if (pid == 0) {
		(void)dup2(fd, STDERR_FILENO);
		log_init("sandbox-test", 1);
		if (sandbox_apply(f) == -1)
			_exit(100);
		_exit(c->fn());
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS,
	    "status %d", status);
	cr_assert_str_eq(proc_death_reason(status), "sandbox-violation");
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	cr_assert_gt(n, 0, "nothing logged");
	buf[n] = '\0';
	(void)snprintf(want, sizeof(want), "sandbox-test[%ld]: %s",
	    (long)pid, c->line);
	cr_assert_str_eq(buf, want);
	(void)close(fd);
	sandbox_filter_free(f);
}

/* A datagram socket bound to a temporary path: a stand-in for /dev/log. */
static int
fake_syslog(struct sockaddr_un *sun)
{
	int	 fd;

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	(void)snprintf(sun->sun_path, sizeof(sun->sun_path),
	    "/tmp/sandbox-syslog.%ld", (long)getpid());
	(void)unlink(sun->sun_path);
	cr_assert_neq(fd = socket(AF_UNIX, SOCK_DGRAM, 0), -1);
	cr_assert_eq(bind(fd, (struct sockaddr *)sun, sizeof(*sun)), 0);
	return fd;
}

/*
 * Without -d the line goes to syslog, through the connected socket the
 * process had when the filter was installed (as glibc's openlog(3)
 * leaves it before the chroot), with the priority LOG_MAIL | LOG_CRIT.
 */
Test(sandbox, violation_syslog)
{
	struct sandbox_filter	*f;
	struct sockaddr_un	 sun;
	char			 buf[512], want[256];
	ssize_t			 n;
	pid_t			 pid;
	int			 logfd, fd, status;

	(void)unsetenv("SALLYPORT_SANDBOX");
	f = sandbox_prepare(SANDBOX_MAILBOX);
	logfd = fake_syslog(&sun);
	cr_assert_neq(pid = fork(), -1);
	if (pid == 0) {
		log_init("sandbox-syslog", 0);
		closefrom(3);
		if ((fd = socket(AF_UNIX, SOCK_DGRAM, 0)) == -1 ||
		    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
		    sandbox_apply(f) == -1)
			_exit(100);
		_exit(case_inet_socket());
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	(void)unlink(sun.sun_path);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS,
	    "status %d", status);
	n = recv(logfd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	cr_assert_gt(n, 0, "nothing sent to syslog");
	buf[n] = '\0';
	(void)snprintf(want, sizeof(want), "<18>sandbox-syslog[%ld]: - sandbox "
	    "violation syscall=socket nr=41 role=mailbox", (long)pid);
	cr_assert_str_eq(buf, want);
	(void)close(logfd);
	sandbox_filter_free(f);
}

static int	 thread_go[2], thread_ready[2];

/*
 * Says it runs (its start in the C library, whose rseq the filter
 * refuses with every signal blocked, is over), waits for a byte, then
 * makes a call no filter allows.
 */
static void *
thread_violate(void *arg)
{
	char	 c;

	(void)arg;
	if (write(thread_ready[1], "r", 1) == 1 &&
	    read(thread_go[0], &c, 1) == 1)
		(void)case_inet_socket();
	return NULL;
}

/*
 * The queue manager's case: a thread started before sandbox_init() (which
 * loads the filter in every thread, TSYNC) makes the refused call.  The
 * line is written from that thread, and the whole process dies.
 */
Test(sandbox, violation_in_thread)
{
	char		 path[] = "/tmp/sandbox-log.XXXXXX";
	char		 buf[512];
	pthread_t	 t;
	ssize_t		 n;
	pid_t		 pid;
	int		 fd, status;

	(void)unsetenv("SALLYPORT_SANDBOX");
	cr_assert_neq(fd = mkstemp(path), -1);
	(void)unlink(path);
	cr_assert_neq(pid = fork(), -1);
	if (pid == 0) {
		(void)dup2(fd, STDERR_FILENO);
		log_init("sandbox-thread", 1);
		if (pipe(thread_go) == -1 || pipe(thread_ready) == -1 ||
		    pthread_create(&t, NULL, thread_violate, NULL) != 0 ||
		    read(thread_ready[0], buf, 1) != 1)
			_exit(100);
		sandbox_init(SANDBOX_QUEUE);
		if (write(thread_go[1], "x", 1) != 1)
			_exit(101);
		(void)pthread_join(t, NULL);
		_exit(0);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS,
	    "status %d", status);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	cr_assert_gt(n, 0, "nothing logged");
	buf[n] = '\0';
	cr_assert_not_null(strstr(buf, "- sandbox violation syscall=socket "
	    "nr=41 role=queue\n"), "%s", buf);
	(void)close(fd);
}

/* SALLYPORT_SANDBOX=log: the call goes through, nothing is killed. */
Test(sandbox, log_mode)
{
	struct sandbox_filter	*f;
	int			 status;

	cr_assert_eq(setenv("SALLYPORT_SANDBOX", "log", 1), 0);
	f = sandbox_prepare(SANDBOX_MAILBOX);
	(void)unsetenv("SALLYPORT_SANDBOX");
	status = sandbox_run(f, case_inet_socket);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "status %d", status);
	sandbox_filter_free(f);
}

/* imapd's IDLE: an inotify watch on a folder (the mailbox's own files). */
static int
case_inotify(void)
{
	int	 fd;

	if ((fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1)
		return 1;
	if (inotify_add_watch(fd, "/tmp", IN_CREATE | IN_MOVED_TO) == -1)
		return 2;
	(void)close(fd);
	return 0;
}

/*
 * SANDBOX_IMAP_MAILBOX allows what pop3d's mailbox filter refuses
 * (inotify), and refuses what every filter does (execve).
 */
Test(sandbox, imap_mailbox)
{
	struct sandbox_filter	*f;
	int			 status;

	(void)unsetenv("SALLYPORT_SANDBOX");
	f = sandbox_prepare(SANDBOX_IMAP_MAILBOX);
	status = sandbox_run(f, case_inotify);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "inotify refused: status %d", status);
	status = sandbox_run(f, case_allowed);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	status = sandbox_run(f, case_execve);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS);
	sandbox_filter_free(f);
	f = sandbox_prepare(SANDBOX_MAILBOX);
	status = sandbox_run(f, case_inotify);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS,
	    "inotify allowed to pop3d's mailbox: status %d", status);
	sandbox_filter_free(f);
}
