/*
 * The root side of a mailbox worker, run by the delivery agent (root, no
 * chroot).  Before each delivery the agent creates the mail home when it
 * is missing.  After fork(2) the worker, still root, closes every
 * descriptor but its end of the socketpair, then drops to the mailbox
 * owner for good and hands over to delivery_user.c, where it serves one
 * delivery after another until the agent closes the socket.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "delivery.h"
#include "log.h"
#include "privsep.h"
#include "proc.h"
#include "proto.h"
#include "util.h"

/* In the worker: its end of the socketpair, once moved. */
#define DELIVERY_WORKER_FD	3

/*
 * In the worker: the socket moves to a fixed descriptor and every other
 * descriptor the agent held (the manager's and authd's sockets, the
 * messages in flight, the other workers' sockets) is closed before
 * anything else happens.  A worker that kept another's socket would
 * keep that one from ever reading EOF.
 */
static void
delivery_worker_fds(int fd)
{
	int	 m;

	if ((m = fcntl(fd, F_DUPFD, DELIVERY_WORKER_FD + 1)) == -1 ||
	    dup2(m, DELIVERY_WORKER_FD) == -1)
		_exit(DELIVERY_EXIT_TEMPFAIL);
	closefrom(DELIVERY_WORKER_FD + 1);
}

/* The reason there is no worker (or no mail home), into err. */
static int
delivery_fork_fail(char *err, size_t errlen, const char *what)
{
	(void)snprintf(err, errlen, "4.3.0 %s: %s", what, strerror(errno));
	return -1;
}

/*
 * In the agent, as root, before each delivery: creates the mail home,
 * mode 0700, owned by the user, when it is missing and its parent
 * directory exists.  Done here rather than in the worker so that two
 * first deliveries to one user cannot race (the agent is one thread):
 * the loser would find a home still owned by root.  The home is made and
 * opened relative to its parent's descriptor and without following a
 * link: if it is swapped between mkdir and open for a link or for a
 * directory that is not root's new one, nothing is chowned.  An existing
 * home is left alone: the worker meets it as the user.
 */
int
delivery_fork_home(const struct delivery *d, char *err, size_t errlen)
{
	struct stat	 st;
	char		 parent[PATH_MAX], name[NAME_MAX + 1];
	int		 pfd, fd = -1, r = -1;

	if (lstat(d->home, &st) == 0)
		return 0;
	if (errno != ENOENT)
		return delivery_fork_fail(err, errlen, "mail home");
	if (util_path_split(d->home, parent, sizeof(parent), name,
	    sizeof(name)) == -1) {
		errno = EINVAL;
		return delivery_fork_fail(err, errlen, "mail home");
	}
	if ((pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return delivery_fork_fail(err, errlen, "mail home parent");
	if (mkdirat(pfd, name, 0700) == -1) {
		/* Made by someone else meanwhile: the worker will see. */
		if (errno == EEXIST)
			r = 0;
		else
			(void)delivery_fork_fail(err, errlen,
			    "create mail home");
	} else if ((fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 || fstat(fd, &st) == -1)
		(void)delivery_fork_fail(err, errlen, "open mail home");
	else if (st.st_uid != 0 || !S_ISDIR(st.st_mode)) {
		errno = EEXIST;
		(void)delivery_fork_fail(err, errlen, "mail home replaced");
	} else if (fchown(fd, d->uid, d->gid) == -1 || fsync(pfd) == -1)
		(void)delivery_fork_fail(err, errlen, "create mail home");
	else {
		log_info("%s delivery home-created user=%s path=%s", d->evpid,
		    d->user, d->home);
		r = 0;
	}
	if (fd != -1)
		(void)close(fd);
	(void)close(pfd);
	return r;
}

/* The worker: never returns. */
static void __attribute__((noreturn))
delivery_worker_child(const struct delivery_worker *w, int fd,
    const char *hostname)
{
	proc_child_reset();
	/* The agent's syslog socket goes with the other descriptors. */
	closelog();
	delivery_worker_fds(fd);
	privsep_drop(w->uid, w->gid, NULL);
	delivery_user_worker(delivery_agent.sandbox, w->home,
	    DELIVERY_WORKER_FD, hostname);
}

int
delivery_fork_worker(struct delivery_worker *w, const char *hostname,
    char *err, size_t errlen)
{
	int	 sv[2], saved;
	pid_t	 pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		return delivery_fork_fail(err, errlen, "socketpair");
	if ((pid = fork()) == -1) {
		saved = errno;
		(void)close(sv[0]);
		(void)close(sv[1]);
		errno = saved;
		return delivery_fork_fail(err, errlen, "fork");
	}
	if (pid == 0)
		delivery_worker_child(w, sv[1], hostname);
	(void)close(sv[1]);
	(void)fcntl(sv[0], F_SETFL, O_NONBLOCK);
	w->fd = sv[0];
	w->pid = pid;
	return 0;
}
