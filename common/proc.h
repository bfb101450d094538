/*
 * Supervision of long-lived children by a privileged parent: fork and
 * exec with a socketpair, notice the death of a child, restart it with
 * backoff.  The parent stays small; the children do the work.  Pidfiles
 * use libbsd's pidfile_open(3), which also refuses a second instance.
 */
#ifndef SALLYPORT_PROC_H
#define SALLYPORT_PROC_H

#include <sys/types.h>
#include <time.h>
#include <event2/event.h>

struct proc;

/* Parent side, after each (re)start: fd is the parent's end. */
typedef void	(*proc_started_cb)(struct proc *, int fd, void *arg);
/* A pid that no struct proc owns has exited (per-task children). */
typedef void	(*proc_orphan_cb)(pid_t, int status, void *arg);

/*
 * Registers a supervised child; call proc_start() to start it.  The
 * child is the role name of this binary, exec'd with the configuration
 * (daemon_conf_fd), its end of the channel, and the descriptors given
 * to proc_set_fds() (daemon.h).
 */
struct proc	*proc_new(struct event_base *, const char *name,
		    proc_started_cb, void *arg);
/* Descriptors an exec'd child gets after its channel, at each start. */
void		 proc_set_fds(struct proc *, const int *fds, int nfds);
/* Starts the child.  fatal when fork or socketpair fail. */
void		 proc_start(struct proc *);
/* Installs SIGCHLD handling on base; orphan (or NULL) sees other pids. */
void		 proc_init(struct event_base *, proc_orphan_cb, void *arg);
/* Sends sig to every supervised child and stops restarting them. */
void		 proc_stop_all(int sig);
/* Waits up to secs for the supervised children to exit. */
void		 proc_wait_all(int secs);
/*
 * Why a child with this wait status ended, for a "died" line:
 * "sandbox-violation" (SIGSYS: its seccomp filter), "crash", "killed",
 * "signal", or "exit".
 */
const char	*proc_death_reason(int status);
pid_t		 proc_pid(const struct proc *);
const char	*proc_name(const struct proc *);
time_t		 proc_started(const struct proc *);

#endif
