/*
 * Unit tests for the prepared filters of common/sandbox.c: a filter
 * compiled once installs in a forked child, where the calls its role
 * allows work and a forbidden one kills the child with SIGSYS.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../queued/delivery.h"
#include "ipc.h"
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

ParameterizedTestParameters(sandbox, mailbox)
{
	static struct sandbox_param params[SANDBOX_NCASES];
	size_t			 i;

	for (i = 0; i < SANDBOX_NCASES; i++)
		params[i].idx = i;
	return cr_make_param_array(struct sandbox_param, params,
	    SANDBOX_NCASES);
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
