/*
 * The report of a sandbox violation (Linux).  A filter's default action
 * is SECCOMP_RET_TRAP: the kernel refuses the call and sends SIGSYS to
 * the thread that made it.  The handler here writes one log line naming
 * the call, then has the filter kill the whole process with SIGSYS (its
 * rule for kill(2) with SIGSYS), so that the supervisor's line says
 * "sandbox-violation".  OpenSSH's debug sandbox does the same.
 *
 * The handler runs wherever the call was made, maybe in malloc with a
 * lock held: it calls nothing but write(2)-like system calls.  So the
 * system calls' names come from a constant table, common/syscall_names.h,
 * which the Makefile writes from the C library's <sys/syscall.h> (its
 * SYS_ names, the native ABI's numbers): nothing to resolve at run time
 * (asking libseccomp for every name, as this did, cost about 3 % of each
 * POP3 session's mailbox process), and the log's destination is found
 * when the handler is installed: stderr under -d, else syslog's socket, which the C
 * library connected before the chroot (or, when it was closed, a new
 * one to /dev/log, which the filter allows for syslog(3) anyway).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"
#include "sandbox.h"
#include "sp_limits.h"

#ifdef __linux__

/* [SYS_read] = "read", ... for every SYS_ name of <sys/syscall.h>. */
static const char *const trap_names[] = {
#include "syscall_names.h"
};
static int	 trap_logfd = -1;
static int	 trap_foreground = 1;
static char	 trap_ident[32];
static char	 trap_role[16];

/* fd is a connected AF_UNIX datagram socket: syslog's. */
static int
trap_is_logsock(int fd)
{
	struct sockaddr_un	 sun;
	socklen_t		 len = sizeof(int);
	int			 v;

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &len) == -1 ||
	    v != AF_UNIX)
		return 0;
	len = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len) == -1 ||
	    v != SOCK_DGRAM)
		return 0;
	len = sizeof(sun);
	memset(&sun, 0, sizeof(sun));
	if (getpeername(fd, (struct sockaddr *)&sun, &len) == -1)
		return 0;
	return len > offsetof(struct sockaddr_un, sun_path) &&
	    sun.sun_path[0] != '\0';
}

/* Appends s to buf (of size size) as far as it fits; the new length. */
static size_t
trap_puts(char *buf, size_t len, size_t size, const char *s)
{
	while (*s != '\0' && len + 1 < size)
		buf[len++] = *s++;
	buf[len] = '\0';
	return len;
}

static size_t
trap_putu(char *buf, size_t len, size_t size, unsigned long v)
{
	char	 d[24];
	size_t	 i = sizeof(d) - 1;

	d[i] = '\0';
	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0 && i > 0);
	return trap_puts(buf, len, size, d + i);
}

/* The line, without the syslog priority or the newline. */
static size_t
trap_format(char *buf, size_t size, int nr)
{
	const char	*name = "unknown";
	size_t		 len = 0;

	if (nr >= 0 && (size_t)nr < sizeof(trap_names) / sizeof(trap_names[0])
	    && trap_names[nr] != NULL)
		name = trap_names[nr];
	len = trap_puts(buf, len, size, trap_ident);
	len = trap_puts(buf, len, size, "[");
	len = trap_putu(buf, len, size, (unsigned long)getpid());
	len = trap_puts(buf, len, size, "]: - sandbox violation syscall=");
	len = trap_puts(buf, len, size, name);
	len = trap_puts(buf, len, size, " nr=");
	if (nr < 0) {
		len = trap_puts(buf, len, size, "-");
		nr = -nr;
	}
	len = trap_putu(buf, len, size, (unsigned long)nr);
	len = trap_puts(buf, len, size, " role=");
	return trap_puts(buf, len, size, trap_role);
}

/* To syslog: through its socket, or a new one when that is gone. */
static void
trap_syslog(const char *line, size_t len)
{
	struct sockaddr_un	 sun;
	int			 fd;

	if (trap_logfd != -1 && send(trap_logfd, line, len, MSG_NOSIGNAL) ==
	    (ssize_t)len)
		return;
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	(void)trap_puts(sun.sun_path, 0, sizeof(sun.sun_path), _PATH_LOG);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		(void)send(fd, line, len, MSG_NOSIGNAL);
	(void)close(fd);
}

static void
trap_handler(int sig, siginfo_t *si, void *uc)
{
	char		 line[256];
	sigset_t	 set;
	size_t		 len = 0;
	ssize_t		 ignored;

	(void)uc;
	if (!trap_foreground) {
		/* <PRI>: LOG_MAIL | LOG_CRIT, as fatal() logs. */
		len = trap_puts(line, len, sizeof(line), "<");
		len = trap_putu(line, len, sizeof(line), LOG_MAIL | LOG_CRIT);
		len = trap_puts(line, len, sizeof(line), ">");
	}
	len += trap_format(line + len, sizeof(line) - len - 1,
	    si->si_syscall);
	if (trap_foreground) {
		line[len++] = '\n';
		/*
		 * Nothing to do if it fails.  A (void) cast does not
		 * silence _FORTIFY_SOURCE's warn_unused_result.
		 */
		ignored = write(STDERR_FILENO, line, len);
		(void)ignored;
	} else
		trap_syslog(line, len);
	/* kill(2) with SIGSYS: the filter answers it by killing the process. */
	(void)signal(sig, SIG_DFL);
	(void)kill(getpid(), SIGSYS);
	/* Not reached under the filter; without one, die of the signal. */
	(void)sigemptyset(&set);
	(void)sigaddset(&set, SIGSYS);
	(void)sigprocmask(SIG_UNBLOCK, &set, NULL);
	_exit(128 + SIGSYS);
}

int
sandbox_trap_install(const char *role)
{
	struct sigaction	 sa;
	int			 fd;

	trap_foreground = log_getforeground();
	(void)strlcpy(trap_ident, log_getprocname(), sizeof(trap_ident));
	(void)strlcpy(trap_role, role, sizeof(trap_role));
	trap_logfd = -1;
	for (fd = 0; !trap_foreground && fd < SANDBOX_LOGFD_SCAN_MAX; fd++)
		if (trap_is_logsock(fd)) {
			trap_logfd = fd;
			break;
		}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = trap_handler;
	sa.sa_flags = SA_SIGINFO;
	(void)sigfillset(&sa.sa_mask);
	return sigaction(SIGSYS, &sa, NULL);
}

#endif
