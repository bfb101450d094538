/*
 * common/ipc.c: ipc_accept() over a real listening Unix socket.  The
 * uid check, table-driven over lists of allowed uids; the descriptor's
 * flags and the peer's credentials; a refused peer closed; nothing to
 * accept; out of descriptors, where the listener pauses and comes back
 * after IPC_ACCEPT_PAUSE_SECS; and, as root, a peer of another uid.
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <event2/event.h>

#include "ipc.h"

/* An unprivileged uid for the root-only test. */
#define OTHER_UID	65534

struct listener {
	char			 dir[64];
	char			 path[96];
	int			 lfd;
	struct event_base	*base;
	struct event		*ev;
	int			 fd;		/* accept_cb's last result */
	int			 calls;
};

static void
accept_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct listener	*l = arg;
	struct ipc_peer	 peer;

	(void)fd;
	(void)ev;
	l->calls++;
	l->fd = ipc_accept(l->ev, NULL, 0, &peer, "test accept");
	if (l->fd == IPC_ACCEPT_REFUSED)
		(void)event_base_loopbreak(l->base);
}

/* A listening socket, non-blocking as the daemons make theirs. */
static void
listener_open(struct listener *l, mode_t dirmode)
{
	memset(l, 0, sizeof(*l));
	(void)strlcpy(l->dir, "/tmp/sp-accept.XXXXXX", sizeof(l->dir));
	cr_assert_not_null(mkdtemp(l->dir));
	cr_assert_eq(chmod(l->dir, dirmode), 0);
	cr_assert_lt(snprintf(l->path, sizeof(l->path), "%s/test.sock",
	    l->dir), (int)sizeof(l->path));
	cr_assert_neq(l->lfd = ipc_listen(l->path, 0666), -1, "%s",
	    strerror(errno));
	cr_assert_eq(evutil_make_socket_nonblocking(l->lfd), 0);
	cr_assert_not_null(l->base = event_base_new());
	cr_assert_not_null(l->ev = event_new(l->base, l->lfd,
	    EV_READ | EV_PERSIST, accept_cb, l));
	cr_assert_eq(event_add(l->ev, NULL), 0);
	l->fd = -100;
}

static void
listener_close(struct listener *l)
{
	event_free(l->ev);
	event_base_free(l->base);
	(void)close(l->lfd);
	(void)unlink(l->path);
	(void)rmdir(l->dir);
}

/* Expects EOF: the other end was closed without a byte sent. */
static void
assert_closed(int fd)
{
	char	 b;

	cr_assert_eq(recv(fd, &b, 1, 0), 0, "recv: %s", strerror(errno));
}

struct uidcase {
	size_t		 nuids;
	int		 rel[3];	/* allowed uids, relative to ours */
	int		 accepted;
};

static struct uidcase uidcases[] = {
	{ 1, { 0 }, 1 },
	{ 2, { 1, 0 }, 1 },
	{ 3, { 2, 1, 0 }, 1 },
	{ 0, { 0 }, 0 },		/* nobody: the 0 is past nuids */
	{ 1, { 1 }, 0 },
	{ 2, { 1, 2 }, 0 },
	{ 1, { -1 }, 0 },
};

ParameterizedTestParameters(ipc_accept, uids)
{
	return cr_make_param_array(struct uidcase, uidcases,
	    sizeof(uidcases) / sizeof(uidcases[0]));
}

ParameterizedTest(struct uidcase *c, ipc_accept, uids)
{
	struct listener	 l;
	struct ipc_peer	 peer;
	uid_t		 uids[3];
	size_t		 i;
	int		 cfd, fd, fl;

	/* A uid just below or above ours must still be a uid. */
	if (getuid() == 0 && c->rel[0] == -1)
		cr_skip_test("no uid below 0");
	for (i = 0; i < 3; i++)
		uids[i] = (uid_t)((long)getuid() + c->rel[i]);
	listener_open(&l, 0700);
	cr_assert_neq(cfd = ipc_connect(l.path), -1);
	fd = ipc_accept(l.ev, uids, c->nuids, &peer, "test accept");
	/* Whatever the verdict, the credentials are the connecting ones. */
	cr_assert_eq(peer.uid, getuid());
	cr_assert_eq(peer.gid, getgid());
	cr_assert_eq(peer.pid, getpid());
	if (!c->accepted) {
		cr_assert_eq(fd, IPC_ACCEPT_REFUSED);
		cr_assert_eq(errno, EPERM);
		assert_closed(cfd);
	} else {
		cr_assert_geq(fd, 0);
		cr_assert_neq(fl = fcntl(fd, F_GETFD), -1);
		cr_assert(fl & FD_CLOEXEC);
		cr_assert_neq(fl = fcntl(fd, F_GETFL), -1);
		cr_assert(fl & O_NONBLOCK);
		/* The connection works: a record each way. */
		cr_assert_eq(send(cfd, "x", 1, 0), 1);
		cr_assert_eq(recv(fd, (char[2]){ 0 }, 2, 0), 1);
		(void)close(fd);
		assert_closed(cfd);
	}
	/* The listener stays armed either way. */
	cr_assert(event_pending(l.ev, EV_READ, NULL));
	(void)close(cfd);
	listener_close(&l);
}

/* Nothing waiting: IPC_ACCEPT_NONE, and the listener stays armed. */
Test(ipc_accept, nothing_pending)
{
	struct listener	 l;
	struct ipc_peer	 peer;
	uid_t		 me = getuid();

	listener_open(&l, 0700);
	cr_assert_eq(ipc_accept(l.ev, &me, 1, &peer, "test accept"),
	    IPC_ACCEPT_NONE);
	cr_assert_eq(peer.uid, (uid_t)-1);
	cr_assert(event_pending(l.ev, EV_READ, NULL));
	listener_close(&l);
}

/* Several waiting peers are taken one per call, in order. */
Test(ipc_accept, one_per_call)
{
	struct listener	 l;
	struct ipc_peer	 peer;
	uid_t		 me = getuid();
	int		 c1, c2, a1, a2;

	listener_open(&l, 0700);
	cr_assert_neq(c1 = ipc_connect(l.path), -1);
	cr_assert_neq(c2 = ipc_connect(l.path), -1);
	cr_assert_geq(a1 = ipc_accept(l.ev, &me, 1, &peer, "t"), 0);
	cr_assert_geq(a2 = ipc_accept(l.ev, &me, 1, &peer, "t"), 0);
	cr_assert_eq(ipc_accept(l.ev, &me, 1, &peer, "t"), IPC_ACCEPT_NONE);
	cr_assert_eq(send(c2, "2", 1, 0), 1);
	cr_assert_eq(recv(a1, (char[2]){ 0 }, 2, MSG_DONTWAIT), -1);
	cr_assert_eq(errno, EAGAIN);
	cr_assert_eq(recv(a2, (char[2]){ 0 }, 2, 0), 1);
	(void)close(a1);
	(void)close(a2);
	(void)close(c1);
	(void)close(c2);
	listener_close(&l);
}

/*
 * Out of descriptors, the connection stays in the backlog and the
 * listener is taken off, or the level-triggered event would spin; it is
 * armed again after IPC_ACCEPT_PAUSE_SECS and then takes the connection.
 */
Test(ipc_accept, emfile_pauses)
{
	struct listener	 l;
	struct ipc_peer	 peer;
	struct rlimit	 rl;
	struct timeval	 t0, t1, limit = { IPC_ACCEPT_PAUSE_SECS + 3, 0 };
	uid_t		 me = getuid();
	int		 cfd, fd, first = -1, last = -1;
	double		 secs;

	listener_open(&l, 0700);
	cr_assert_neq(cfd = ipc_connect(l.path), -1);
	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	rl.rlim_cur = 256 < rl.rlim_max ? 256 : rl.rlim_max;
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	while ((fd = dup(cfd)) != -1) {
		if (first == -1)
			first = fd;
		last = fd;
	}
	cr_assert_eq(errno, EMFILE);
	cr_assert_eq(ipc_accept(l.ev, &me, 1, &peer, "test accept"),
	    IPC_ACCEPT_NONE);
	cr_assert_not(event_pending(l.ev, EV_READ, NULL));
	for (fd = first; fd != -1 && fd <= last; fd++)
		(void)close(fd);

	/* The loop runs the resume timer, then accept_cb takes the peer. */
	cr_assert_eq(gettimeofday(&t0, NULL), 0);
	cr_assert_eq(event_base_loopexit(l.base, &limit), 0);
	cr_assert_eq(event_base_dispatch(l.base), 0);
	cr_assert_eq(gettimeofday(&t1, NULL), 0);
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_usec - t0.tv_usec) / 1e6;
	cr_assert_eq(l.calls, 1);
	cr_assert_eq(l.fd, IPC_ACCEPT_REFUSED, "fd %d", l.fd);
	cr_assert_geq(secs, IPC_ACCEPT_PAUSE_SECS - 0.1, "%.2f s", secs);
	cr_assert(event_pending(l.ev, EV_READ, NULL));
	assert_closed(cfd);
	(void)close(cfd);
	listener_close(&l);
}

/* A peer of another uid, as a daemon user would be: root only. */
Test(ipc_accept, other_uid)
{
	struct listener	 l;
	struct ipc_peer	 peer;
	uid_t		 root[] = { 0 }, both[] = { 0, OTHER_UID };
	pid_t		 pid;
	int		 status, sv[2], fd, i;
	char		 b;

	if (geteuid() != 0)
		cr_skip_test("needs root to connect as another uid");
	listener_open(&l, 0711);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	cr_assert_neq(pid = fork(), -1);
	if (pid == 0) {
		/* Two connections, each after the parent's go. */
		if (setgid(OTHER_UID) == -1 || setuid(OTHER_UID) == -1)
			_exit(2);
		for (i = 0; i < 2; i++) {
			if (read(sv[1], &b, 1) != 1 ||
			    (fd = ipc_connect(l.path)) == -1)
				_exit(3);
			if (write(sv[1], "c", 1) != 1 ||
			    read(sv[1], &b, 1) != 1)
				_exit(4);
			(void)close(fd);
		}
		_exit(0);
	}
	cr_assert_eq(write(sv[0], "g", 1), 1);
	cr_assert_eq(read(sv[0], &b, 1), 1);
	cr_assert_eq(ipc_accept(l.ev, root, 1, &peer, "test accept"),
	    IPC_ACCEPT_REFUSED);
	cr_assert_eq(peer.uid, (uid_t)OTHER_UID);
	cr_assert_eq(peer.pid, pid);
	cr_assert_eq(write(sv[0], "n", 1), 1);

	cr_assert_eq(write(sv[0], "g", 1), 1);
	cr_assert_eq(read(sv[0], &b, 1), 1);
	cr_assert_geq(fd = ipc_accept(l.ev, both, 2, &peer, "test accept"),
	    0);
	cr_assert_eq(peer.uid, (uid_t)OTHER_UID);
	cr_assert_eq(peer.gid, (gid_t)OTHER_UID);
	(void)close(fd);
	cr_assert_eq(write(sv[0], "n", 1), 1);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "child status %d", status);
	listener_close(&l);
}
