/*
 * Child supervision shared by the privileged parents of smtpd, pop3d and
 * queued.  Each child is a role of the parent's binary, exec'd
 * (daemon.h) with the parent's configuration, its end of a socketpair
 * and the descriptors of proc_set_fds().  A child that dies is restarted
 * after CHILD_RESTART_MIN_MSECS, doubling up to CHILD_RESTART_MAX_SECS
 * while it keeps dying young.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "ipc.h"
#include "sp_limits.h"
#include "log.h"
#include "proc.h"

/* A child that lived this long is healthy again: backoff restarts. */
#define PROC_HEALTHY_SECS	60

struct proc {
	TAILQ_ENTRY(proc)	 entry;
	char			 name[32];
	proc_started_cb		 started_cb;
	void			*arg;
	int			 fds[DAEMON_FDS_MAX];	/* after the channel */
	int			 nfds;
	pid_t			 pid;
	time_t			 started;
	unsigned int		 delay_ms;
	struct event		*ev_restart;
};

static TAILQ_HEAD(, proc)	 procs = TAILQ_HEAD_INITIALIZER(procs);
static int			 procs_stopping;
static proc_orphan_cb		 orphan_cb;
static void			*orphan_arg;
static struct event		*ev_sigchld;

static void
proc_restartcb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	if (!procs_stopping)
		proc_start(arg);
}

struct proc *
proc_new(struct event_base *base, const char *name, proc_started_cb started,
    void *arg)
{
	struct proc	*p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		fatal("proc_new");
	(void)strlcpy(p->name, name, sizeof(p->name));
	p->started_cb = started;
	p->arg = arg;
	p->pid = -1;
	p->delay_ms = CHILD_RESTART_MIN_MSECS;
	if ((p->ev_restart = evtimer_new(base, proc_restartcb, p)) == NULL)
		fatalx("proc_new: evtimer_new");
	TAILQ_INSERT_TAIL(&procs, p, entry);
	return p;
}

void
proc_set_fds(struct proc *p, const int *fds, int nfds)
{
	if (nfds > DAEMON_FDS_MAX - 2)
		fatalx("proc %s: %d descriptors", p->name, nfds);
	memcpy(p->fds, fds, nfds * sizeof(*fds));
	p->nfds = nfds;
}

/*
 * The role p->name, exec'd with the configuration, its end of the
 * channel and the descriptors of proc_set_fds().
 */
static pid_t
proc_spawn(struct proc *p, int chan)
{
	int	 fds[DAEMON_FDS_MAX];

	fds[0] = daemon_conf_fd();
	fds[1] = chan;
	memcpy(fds + 2, p->fds, p->nfds * sizeof(*fds));
	return daemon_spawn(p->name, fds, p->nfds + 2);
}

void
proc_start(struct proc *p)
{
	int	 sv[2];
	pid_t	 pid;

	if (ipc_socketpair(sv) == -1)
		fatal("proc %s socketpair", p->name);
	if ((pid = proc_spawn(p, sv[1])) == -1)
		fatal("proc %s spawn", p->name);
	(void)close(sv[1]);
	p->pid = pid;
	p->started = time(NULL);
	log_info("- proc started name=%s pid=%ld", p->name, (long)pid);
	p->started_cb(p, sv[0], p->arg);
}

const char *
proc_death_reason(int status)
{
	if (!WIFSIGNALED(status))
		return "exit";
	switch (WTERMSIG(status)) {
	case SIGSYS:
		/* seccomp's kill, after sandbox_trap.c's line. */
		return "sandbox-violation";
	case SIGSEGV:
	case SIGBUS:
	case SIGILL:
	case SIGFPE:
	case SIGABRT:
		return "crash";
	case SIGKILL:
		return "killed";
	default:
		return "signal";
	}
}

static void
proc_exited(struct proc *p, int status)
{
	struct timeval	 tv;
	time_t		 lived = time(NULL) - p->started;

	if (WIFSIGNALED(status))
		log_warnx("- proc died name=%s pid=%ld signal=%d reason=%s",
		    p->name, (long)p->pid, WTERMSIG(status),
		    proc_death_reason(status));
	else
		log_info("- proc exited name=%s pid=%ld status=%d", p->name,
		    (long)p->pid, WEXITSTATUS(status));
	p->pid = -1;
	if (procs_stopping)
		return;
	if (lived >= PROC_HEALTHY_SECS)
		p->delay_ms = CHILD_RESTART_MIN_MSECS;
	tv.tv_sec = p->delay_ms / 1000;
	tv.tv_usec = (p->delay_ms % 1000) * 1000;
	(void)evtimer_add(p->ev_restart, &tv);
	p->delay_ms *= 2;
	if (p->delay_ms > CHILD_RESTART_MAX_SECS * 1000)
		p->delay_ms = CHILD_RESTART_MAX_SECS * 1000;
}

static void
proc_sigchld(evutil_socket_t sig, short ev, void *arg)
{
	struct proc	*p;
	pid_t		 pid;
	int		 status;

	(void)sig;
	(void)ev;
	(void)arg;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		TAILQ_FOREACH(p, &procs, entry)
			if (p->pid == pid)
				break;
		if (p != NULL)
			proc_exited(p, status);
		else if (orphan_cb != NULL)
			orphan_cb(pid, status, orphan_arg);
	}
}

void
proc_init(struct event_base *base, proc_orphan_cb cb, void *arg)
{
	orphan_cb = cb;
	orphan_arg = arg;
	ev_sigchld = evsignal_new(base, SIGCHLD, proc_sigchld, NULL);
	if (ev_sigchld == NULL || evsignal_add(ev_sigchld, NULL) == -1)
		fatalx("proc_init: SIGCHLD");
}

void
proc_stop_all(int sig)
{
	struct proc	*p;

	procs_stopping = 1;
	TAILQ_FOREACH(p, &procs, entry) {
		(void)evtimer_del(p->ev_restart);
		if (p->pid > 0)
			(void)kill(p->pid, sig);
	}
}

void
proc_wait_all(int secs)
{
	struct proc	*p;
	int		 status, left, i;
	pid_t		 pid;

	for (i = 0; i < secs * 10; i++) {
		left = 0;
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
			TAILQ_FOREACH(p, &procs, entry)
				if (p->pid == pid)
					p->pid = -1;
		TAILQ_FOREACH(p, &procs, entry)
			if (p->pid > 0)
				left++;
		if (left == 0)
			return;
		(void)usleep(100000);
	}
	TAILQ_FOREACH(p, &procs, entry)
		if (p->pid > 0) {
			log_warnx("- proc kill name=%s pid=%ld", p->name,
			    (long)p->pid);
			(void)kill(p->pid, SIGKILL);
		}
}

pid_t
proc_pid(const struct proc *p)
{
	return p->pid;
}

const char *
proc_name(const struct proc *p)
{
	return p->name;
}

time_t
proc_started(const struct proc *p)
{
	return p->started;
}
