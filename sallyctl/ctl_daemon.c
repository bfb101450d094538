/*
 * The verbs sallyctl carries out on the daemons' parents themselves:
 * status from their pidfiles and /proc, and signals (SIGUSR1/SIGUSR2 for
 * the log level, SIGTERM to stop, SIGHUP to reload queued, authd, smtpd,
 * pop3d and imapd).
 *
 * A pidfile can outlive its daemon (kill -9, a crash) and its pid can be
 * reused, so a pid is believed only when the process exists and, where
 * /proc says, its command name is the daemon's.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "sallyctl.h"

/* The daemons, in the order show status lists them. */
static const char *const ctl_daemons[] = {
	"authd", "smtpd", "queued", "pop3d", "imapd",
};
/* The order of stop: the front doors first, authd last. */
static const char *const ctl_stop_order[] = {
	"smtpd", "pop3d", "imapd", "queued", "authd",
};
#define CTL_NDAEMONS	(sizeof(ctl_daemons) / sizeof(ctl_daemons[0]))

struct ctl_daemon {
	const char	*name;
	pid_t		 pid;		/* 0 when not running */
	int64_t		 uptime;	/* seconds; -1 unknown */
};

/* Reads a small file; the byte count, or -1 with errno. */
static ssize_t
ctl_read_file(const char *path, char *buf, size_t buflen, time_t *mtime)
{
	struct stat	 st;
	ssize_t		 n;
	int		 fd, saved;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	if ((n = read(fd, buf, buflen)) != -1 && mtime != NULL) {
		if (fstat(fd, &st) == -1)
			n = -1;
		else
			*mtime = st.st_mtime;
	}
	saved = errno;
	(void)close(fd);
	errno = saved;
	return n;
}

/* The pid in <rundir>/<name>.pid; -1 when missing (quietly) or bad. */
static int
ctl_pidfile_read(struct ctl_env *env, const char *name, pid_t *pid,
    time_t *mtime)
{
	char		 file[64], path[PATH_MAX];
	char		 buf[CTL_PIDFILE_MAX_BYTES + 1];
	const char	*errstr;
	ssize_t		 n;

	(void)snprintf(file, sizeof(file), "%s.pid", name);
	config_runpath(env->conf, file, path, sizeof(path));
	if ((n = ctl_read_file(path, buf, sizeof(buf), mtime)) == -1) {
		if (errno != ENOENT)
			warn("%s", path);
		return -1;
	}
	if (ctl_pidfile_parse(buf, (size_t)n, pid, &errstr) == -1) {
		warnx("%s: invalid pid: %s", path, errstr);
		return -1;
	}
	return 0;
}

/*
 * Reads /proc/<pid>/stat; 0, or -1 where there is no /proc (the BSDs)
 * or the process has gone.
 */
static int
ctl_procstat_read(pid_t pid, struct ctl_procstat *ps)
{
	char	 path[64], buf[CTL_PROCSTAT_MAX_BYTES];
	ssize_t	 n;

	(void)snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((n = ctl_read_file(path, buf, sizeof(buf), NULL)) == -1)
		return -1;
	return ctl_procstat_parse(buf, (size_t)n, ps);
}

/* Seconds since the process started, from /proc; -1 when unknown. */
static int64_t
ctl_proc_uptime(const struct ctl_procstat *ps)
{
	char		 buf[64];
	uint64_t	 boot;
	ssize_t		 n;
	long		 hz;

	if ((hz = sysconf(_SC_CLK_TCK)) <= 0)
		return -1;
	if ((n = ctl_read_file("/proc/uptime", buf, sizeof(buf), NULL)) ==
	    -1 || ctl_uptime_parse(buf, (size_t)n, &boot) == -1)
		return -1;
	return ctl_elapsed(ps->starttime / (uint64_t)hz, boot);
}

/*
 * 1 when pid is a live process named name (the name is believed when
 * there is no /proc to ask), else 0.  ps is filled when /proc answers.
 */
static int
ctl_pid_alive(pid_t pid, const char *name, struct ctl_procstat *ps,
    int *have_ps)
{
	*have_ps = 0;
	if (kill(pid, 0) == -1 && errno == ESRCH)
		return 0;
	if (ctl_procstat_read(pid, ps) == -1)
		return 1;
	*have_ps = 1;
	if (ps->state == 'Z' || ps->state == 'X')
		return 0;
	return strncmp(ps->comm, name, strlen(name)) == 0;
}

/* Fills d from the pidfile and /proc; 1 when the daemon runs, else 0. */
static int
ctl_daemon_probe(struct ctl_env *env, const char *name, struct ctl_daemon *d)
{
	struct ctl_procstat	 ps;
	pid_t			 pid;
	time_t			 mtime;
	int			 have_ps;

	d->name = name;
	d->pid = 0;
	d->uptime = -1;
	if (ctl_pidfile_read(env, name, &pid, &mtime) == -1)
		return 0;
	if (!ctl_pid_alive(pid, name, &ps, &have_ps)) {
		if (have_ps && ps.state != 'Z' && ps.state != 'X')
			warnx("%s: pid %ld is %s, not %s: stale pidfile", name,
			    (long)pid, ps.comm, name);
		return 0;
	}
	d->pid = pid;
	if (have_ps)
		d->uptime = ctl_proc_uptime(&ps);
	if (d->uptime < 0)
		d->uptime = (int64_t)(time(NULL) - mtime);
	return 1;
}

static void
ctl_status_line(const struct ctl_daemon *d)
{
	char	 pid[32], up[32];

	if (d->pid == 0) {
		printf("%-24s %-8s %-8s %s\n", d->name, "-", "-", "down");
		return;
	}
	(void)snprintf(pid, sizeof(pid), "%ld", (long)d->pid);
	if (ctl_age_format(d->uptime, up, sizeof(up)) == -1)
		(void)strlcpy(up, "?", sizeof(up));
	printf("%-24s %-8s %-8s %s\n", d->name, pid, up, "up");
}

int
ctl_show_status(struct ctl_env *env, const char *arg)
{
	struct ctl_daemon	 d;
	size_t			 i;
	int			 status = 0, queued_up = 0;

	(void)arg;
	printf("%-24s %-8s %-8s %s\n", "NAME", "PID", "UPTIME", "STATUS");
	for (i = 0; i < CTL_NDAEMONS; i++) {
		if (!ctl_daemon_probe(env, ctl_daemons[i], &d))
			status = 1;
		else if (strcmp(d.name, "queued") == 0)
			queued_up = 1;
		ctl_status_line(&d);
	}
	/* Its processes are asked only of a queued that runs. */
	if (queued_up && ctl_queue_procs(env) != 0)
		status = 1;
	return status;
}

int
ctl_log(struct ctl_env *env, const char *level)
{
	struct ctl_daemon	 d;
	size_t			 i;
	int			 sig, sent = 0, status = 0;

	sig = strcmp(level, "verbose") == 0 ? SIGUSR1 : SIGUSR2;
	for (i = 0; i < CTL_NDAEMONS; i++) {
		if (!ctl_daemon_probe(env, ctl_daemons[i], &d)) {
			printf("%s: not running\n", d.name);
			continue;
		}
		if (kill(d.pid, sig) == -1) {
			warn("%s: kill %ld", d.name, (long)d.pid);
			status = 1;
			continue;
		}
		printf("%s: log %s\n", d.name, level);
		sent++;
	}
	if (sent == 0) {
		warnx("no daemon is running");
		status = 1;
	}
	return status;
}

/* Waits for pid to exit; 0 once it has, -1 after CTL_STOP_WAIT_SECS. */
static int
ctl_wait_exit(pid_t pid, const char *name)
{
	struct ctl_procstat	 ps;
	struct timespec		 ts;
	int			 i, have_ps;

	ts.tv_sec = 0;
	ts.tv_nsec = CTL_STOP_POLL_MSECS * 1000000L;
	for (i = 0; i < CTL_STOP_WAIT_SECS * 1000 / CTL_STOP_POLL_MSECS; i++) {
		if (!ctl_pid_alive(pid, name, &ps, &have_ps))
			return 0;
		(void)nanosleep(&ts, NULL);
	}
	return ctl_pid_alive(pid, name, &ps, &have_ps) ? -1 : 0;
}

int
ctl_stop(struct ctl_env *env, const char *arg)
{
	struct ctl_daemon	 d;
	size_t			 i;
	int			 status = 0;

	(void)arg;
	for (i = 0; i < CTL_NDAEMONS; i++) {
		if (!ctl_daemon_probe(env, ctl_stop_order[i], &d)) {
			printf("%s: not running\n", d.name);
			continue;
		}
		if (kill(d.pid, SIGTERM) == -1) {
			warn("%s: kill %ld", d.name, (long)d.pid);
			status = 1;
		} else if (ctl_wait_exit(d.pid, d.name) == -1) {
			warnx("%s: pid %ld still running after %d seconds",
			    d.name, (long)d.pid, CTL_STOP_WAIT_SECS);
			status = 1;
		} else
			printf("%s: stopped (pid %ld)\n", d.name, (long)d.pid);
	}
	return status;
}

/*
 * The daemons that reload on SIGHUP: queued the limits it checks for
 * smtpd (first, so that they are raised before smtpd announces them),
 * authd its tables, smtpd, pop3d and imapd their config and certificates.
 */
static const char *const ctl_reload_daemons[] = { "queued", "authd",
    "smtpd", "pop3d", "imapd" };

int
ctl_reload(struct ctl_env *env, const char *arg)
{
	struct ctl_daemon	 d;
	size_t			 i, sent = 0;
	int			 status = 0;

	(void)arg;
	for (i = 0; i < sizeof(ctl_reload_daemons) /
	    sizeof(ctl_reload_daemons[0]); i++) {
		if (!ctl_daemon_probe(env, ctl_reload_daemons[i], &d)) {
			printf("%s: not running\n", ctl_reload_daemons[i]);
			continue;
		}
		if (kill(d.pid, SIGHUP) == -1) {
			warn("%s: kill %ld", d.name, (long)d.pid);
			status = 1;
			continue;
		}
		sent++;
		printf("%s: reloading (pid %ld)\n", d.name, (long)d.pid);
	}
	if (sent == 0 && status == 0) {
		warnx("none of queued, authd, smtpd, pop3d and imapd is "
		    "running");
		status = 1;
	}
	return status;
}
