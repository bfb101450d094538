/*
 * Supervision of long-lived children by a privileged parent: fork with a
 * socketpair, notice the death of a child, restart it with backoff.  The
 * parent stays small; the children do the work.  Pidfiles use libbsd's
 * pidfile_open(3), which also refuses a second instance.
 */
#ifndef SALLYPORT_PROC_H
#define SALLYPORT_PROC_H

#include <sys/types.h>
#include <time.h>
#include <event2/event.h>

struct proc;

/* Child body: fd is the child's end of the socketpair.  Must not return. */
typedef void	(*proc_main_cb)(int fd, void *arg);
/* Parent side, after each (re)start: fd is the parent's end. */
typedef void	(*proc_started_cb)(struct proc *, int fd, void *arg);
/* A pid that no struct proc owns has exited (per-task children). */
typedef void	(*proc_orphan_cb)(pid_t, int status, void *arg);

/* Registers a supervised child; call proc_start() to fork it. */
struct proc	*proc_new(struct event_base *, const char *name,
		    proc_main_cb, proc_started_cb, void *arg);
/* Forks the child.  fatal when fork or socketpair fail. */
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
/*
 * In a freshly forked child: default signal dispositions, empty mask.
 */
void		 proc_child_reset(void);

#endif
