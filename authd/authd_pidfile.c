/*
 * authd's start as a daemon and its pidfile, done as root before the
 * drop to _sallyauth.  libbsd's pidfile_open(3) keeps the file open for
 * writing until the end, so that pidfile_write(3) can fill it after
 * daemon(3); in authd that descriptor outlived the drop, and a
 * compromised authd could have written any pid into a file that root's
 * scripts (demo-stop, an rc script, sallyctl stop) believe.  So here:
 *
 * - the fork to the background comes first, while still root, and the
 *   parent waits until the child says it is up (or has died, with its
 *   error on the terminal), so that start-up errors still reach the
 *   admin, as with daemon(3) called late;
 * - the child locks the pidfile with flock(2) through a read-only
 *   descriptor, which it keeps: the lock is what pidfile_open(3) and
 *   "pgrep -L -F" test for a live owner, and needs no write access;
 * - it writes its pid through a second descriptor and closes it at
 *   once, before anything else runs.
 *
 * Kept, the read-only descriptor lets authd do nothing to the file but
 * give up the lock.  Runs in authd, as root.
 */
#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "authd.h"
#include "log.h"

/* The pidfile: readable by all, as pidfile_open(3) makes it. */
#define AUTHD_PIDFILE_MODE	0644
/* "<pid>\n" */
#define AUTHD_PIDFILE_MAX_BYTES	32

/* The child's end of the pipe its parent waits on; -1 in the parent. */
static int	 detach_fd = -1;

void
authd_detach_start(void)
{
	int	 p[2], status;
	pid_t	 pid;
	ssize_t	 n;
	char	 c;

	if (pipe2(p, O_CLOEXEC) == -1)
		fatal("- authd pipe");
	if ((pid = fork()) == -1)
		fatal("- authd fork");
	if (pid == 0) {
		(void)close(p[0]);
		detach_fd = p[1];
		if (setsid() == -1)
			fatal("- authd setsid");
		return;
	}
	(void)close(p[1]);
	while ((n = read(p[0], &c, 1)) == -1 && errno == EINTR)
		;
	if (n == 1)
		_exit(0);
	/* The child died first; it has said why on stderr. */
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	_exit(WIFEXITED(status) && WEXITSTATUS(status) != 0 ?
	    WEXITSTATUS(status) : 1);
}

void
authd_detach_done(void)
{
	int	 fd;

	if (chdir("/") == -1)
		fatal("- authd chdir /");
	if ((fd = open("/dev/null", O_RDWR)) == -1)
		fatal("- authd /dev/null");
	if (dup2(fd, STDIN_FILENO) == -1 || dup2(fd, STDOUT_FILENO) == -1 ||
	    dup2(fd, STDERR_FILENO) == -1)
		fatal("- authd dup2");
	if (fd > STDERR_FILENO)
		(void)close(fd);
	if (write(detach_fd, "1", 1) != 1)
		fatal("- authd detach");
	(void)close(detach_fd);
	detach_fd = -1;
}

/* The pid another authd wrote, for the message; -1 when unreadable. */
static long
authd_pidfile_other(int fd)
{
	char		 buf[AUTHD_PIDFILE_MAX_BYTES];
	const char	*errstr;
	ssize_t		 n;

	if ((n = pread(fd, buf, sizeof(buf) - 1, 0)) <= 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	n = (ssize_t)strtonum(buf, 1, INT32_MAX, &errstr);
	return errstr == NULL ? (long)n : -1;
}

/* Writes our pid through a descriptor of its own, closed at once. */
static void
authd_pidfile_write(const char *path)
{
	char	 buf[AUTHD_PIDFILE_MAX_BYTES];
	int	 fd, len;

	len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if ((fd = open(path, O_WRONLY | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		fatal("- authd pidfile %s", path);
	if (len < 0 || (size_t)len >= sizeof(buf) ||
	    write(fd, buf, (size_t)len) != len)
		fatal("- authd pidfile write %s", path);
	if (close(fd) == -1)
		fatal("- authd pidfile close %s", path);
}

int
authd_pidfile_lock(const char *path)
{
	struct stat	 st;
	int		 fd;

	fd = open(path, O_RDONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC, AUTHD_PIDFILE_MODE);
	if (fd == -1)
		fatal("- authd pidfile %s", path);
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_uid != 0)
		fatalx("- authd pidfile %s: not a regular file of root's",
		    path);
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			fatalx("- authd already-running pid=%ld",
			    authd_pidfile_other(fd));
		fatal("- authd pidfile lock %s", path);
	}
	if (fchmod(fd, AUTHD_PIDFILE_MODE) == -1)
		fatal("- authd pidfile chmod %s", path);
	authd_pidfile_write(path);
	return fd;
}
