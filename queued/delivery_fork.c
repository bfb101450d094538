/*
 * The root side of a delivery child, run by the delivery agent (root, no
 * chroot).  Before the fork the agent creates the mail home when it is
 * missing.  After fork(2) the child, still root, closes every descriptor
 * but the message and its report pipe, then drops to the mailbox owner
 * for good and hands over to delivery_user.c.  Back in the agent,
 * delivery_collect() turns the child's exit status and report line into
 * a result.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

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

/* In the child: the message and the report pipe, once moved. */
#define DELIVERY_CHILD_MSGFD	3
#define DELIVERY_CHILD_REPORTFD	4

/*
 * In the child: the message and the pipe move to fixed descriptors and
 * every other descriptor the agent held (the manager's and authd's
 * sockets, the other messages) is closed before anything else happens.
 */
static void
delivery_child_fds(int msgfd, int reportfd)
{
	int	 m, r;

	if ((m = fcntl(msgfd, F_DUPFD, DELIVERY_CHILD_REPORTFD + 1)) == -1 ||
	    (r = fcntl(reportfd, F_DUPFD, DELIVERY_CHILD_REPORTFD + 1)) == -1 ||
	    dup2(m, DELIVERY_CHILD_MSGFD) == -1 ||
	    dup2(r, DELIVERY_CHILD_REPORTFD) == -1)
		_exit(DELIVERY_EXIT_TEMPFAIL);
	closefrom(DELIVERY_CHILD_REPORTFD + 1);
}

/* The reason there is no child, into err. */
static int
delivery_fork_fail(char *err, size_t errlen, const char *what)
{
	(void)snprintf(err, errlen, "4.3.0 %s: %s", what, strerror(errno));
	return -1;
}

/*
 * In the agent, as root, before the fork: creates the mail home, mode
 * 0700, owned by the user, when it is missing and its parent directory
 * exists.  Done here rather than in the child so that two first
 * deliveries to one user cannot race (the agent is one thread): the
 * loser would find a home still owned by root.  The home is made and
 * opened relative to its parent's descriptor and without following a
 * link: if it is swapped between mkdir and open for a link or for a
 * directory that is not root's new one, nothing is chowned.  An existing
 * home is left alone: the child meets it as the user.
 */
static int
delivery_home_prepare(const struct delivery *d, char *err, size_t errlen)
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
		/* Made by someone else meanwhile: the child will see. */
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

/* The child: never returns. */
static void __attribute__((noreturn))
delivery_child(struct delivery *d, int reportfd, const char *hostname)
{
	proc_child_reset();
	/* The agent's syslog socket goes with the other descriptors. */
	closelog();
	delivery_child_fds(d->msgfd, reportfd);
	privsep_drop(d->uid, d->gid, NULL);
	delivery_user_main(delivery_agent.sandbox, d->home,
	    DELIVERY_CHILD_MSGFD,
	    DELIVERY_CHILD_REPORTFD, d->sender, d->rcpt, hostname);
}

int
delivery_fork(struct delivery *d, const char *hostname, char *err,
    size_t errlen)
{
	int	 pfd[2], saved;
	pid_t	 pid;

	if (delivery_home_prepare(d, err, errlen) == -1)
		return -1;
	if (pipe2(pfd, O_CLOEXEC) == -1)
		return delivery_fork_fail(err, errlen, "pipe");
	if ((pid = fork()) == -1) {
		saved = errno;
		(void)close(pfd[0]);
		(void)close(pfd[1]);
		errno = saved;
		return delivery_fork_fail(err, errlen, "fork");
	}
	if (pid == 0)
		delivery_child(d, pfd[1], hostname);
	(void)close(pfd[1]);
	(void)fcntl(pfd[0], F_SETFL, O_NONBLOCK);
	(void)close(d->msgfd);
	d->msgfd = -1;
	d->reportfd = pfd[0];
	d->pid = pid;
	return 0;
}

int
delivery_collect(struct delivery *d, int status, char *text, size_t textlen)
{
	char		 raw[QUEUE_ERROR_MAX_BYTES];
	const char	*why;
	ssize_t		 n;
	int		 result;

	/* The child wrote at most one short line, then exited: no wait. */
	n = read(d->reportfd, raw, sizeof(raw));
	delivery_check_report(text, textlen, raw, n > 0 ? (size_t)n : 0);
	result = delivery_check_status(status, &why);
	if (d->timedout) {
		(void)snprintf(text, textlen, "4.3.0 timed out after %d "
		    "seconds", DELIVERY_TIMEOUT_SECS);
		return RESULT_TEMPFAIL;
	}
	if (WIFSIGNALED(status))
		(void)snprintf(text, textlen, "%s (signal %d)", why,
		    WTERMSIG(status));
	else if (result != RESULT_OK && text[0] == '\0')
		(void)snprintf(text, textlen, "%s (exit %d)", why,
		    WEXITSTATUS(status));
	return result;
}
