/*
 * The root side of a mailbox worker, run by the delivery agent (root, no
 * chroot).  Before each delivery the agent creates the mail home when it
 * is missing.  The worker is exec'd (role mailbox-worker, daemon.h)
 * with nothing but its arguments and its end of the socketpair; still
 * root, it builds its seccomp filter, then drops to the mailbox owner
 * for good and hands over to delivery_user.c, where it serves one
 * delivery after another until the agent closes the socket.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "delivery.h"
#include "ipc.h"
#include "log.h"
#include "privsep.h"
#include "proto.h"
#include "queued.h"
#include "sandbox.h"
#include "util.h"

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

/*
 * The worker's arguments (delivery_fork_worker_main): u32 uid, u32 gid,
 * str home, str hostname.
 */
static int
delivery_fork_args(const struct delivery_worker *w, const char *hostname)
{
	static struct ipc_out	 o;

	ipc_out_init(&o, MSG_NONE, 0);
	ipc_put_u32(&o, (uint32_t)w->uid);
	ipc_put_u32(&o, (uint32_t)w->gid);
	ipc_put_str(&o, w->home);
	ipc_put_str(&o, hostname);
	return daemon_args_fd(&o);
}

int
delivery_fork_worker(struct delivery_worker *w, const char *hostname,
    char *err, size_t errlen)
{
	int	 sv[2], fds[2], saved;
	pid_t	 pid;

	if ((fds[0] = delivery_fork_args(w, hostname)) == -1)
		return delivery_fork_fail(err, errlen, "worker arguments");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		saved = errno;
		(void)close(fds[0]);
		errno = saved;
		return delivery_fork_fail(err, errlen, "socketpair");
	}
	fds[1] = sv[1];
	pid = daemon_spawn("mailbox-worker", fds, 2);
	saved = errno;
	(void)close(fds[0]);
	(void)close(sv[1]);
	if (pid == -1) {
		(void)close(sv[0]);
		errno = saved;
		return delivery_fork_fail(err, errlen, "fork");
	}
	(void)fcntl(sv[0], F_SETFL, O_NONBLOCK);
	w->fd = sv[0];
	w->pid = pid;
	return 0;
}

/*
 * The worker, exec'd as root with its arguments and its end of the
 * socketpair: it builds its seccomp filter, drops to the mailbox owner
 * for good and serves (delivery_user.c).
 */
void
delivery_fork_worker_main(struct daemon_ctx *ctx)
{
	struct sandbox_filter	*filter;
	struct ipc_msg		 m;
	char			 home[PATH_MAX];
	char			 hostname[CONFIG_NAME_MAX];
	uint32_t		 uid, gid;

	(void)daemon_args_read(ctx->fds[0], &m);
	(void)close(ctx->fds[0]);
	if (ipc_get_u32(&m, &uid) == -1 || ipc_get_u32(&m, &gid) == -1 ||
	    ipc_get_str(&m, home, sizeof(home)) == -1 ||
	    ipc_get_str(&m, hostname, sizeof(hostname)) == -1 ||
	    ipc_get_end(&m) == -1 || uid == 0 || gid == 0)
		fatalx("- delivery worker start-refused reason=arguments");
	daemon_check_parent(ctx->fds[1]);
	filter = sandbox_prepare(SANDBOX_MAILBOX);
	privsep_drop((uid_t)uid, (gid_t)gid, NULL);
	delivery_user_worker(filter, home, ctx->fds[1], hostname);
}
