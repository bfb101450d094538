/*
 * System-call filters for the unprivileged processes (seccomp on Linux,
 * through libseccomp; elsewhere a no-op until pledge(2) is wired in).
 * Installed after the privilege drop: a call outside the role's list
 * is logged with its name and number ("- sandbox violation syscall=...")
 * and kills the process with SIGSYS; its supervisor says
 * "reason=sandbox-violation" and restarts it.
 */
#ifndef SALLYPORT_SANDBOX_H
#define SALLYPORT_SANDBOX_H

enum sandbox_role {
	SANDBOX_ENGINE,		/* network engines: sockets, no files */
	SANDBOX_QUEUE,		/* queue manager: the spool's files */
	SANDBOX_AUTHD,		/* authd: reads its tables on reload */
	SANDBOX_MAILBOX,	/* mailbox process: the user's Maildir */
	SANDBOX_RELAY,		/* relay: outbound TCP, libunbound's thread */
	SANDBOX_RELAY_STS,	/* MTA-STS helper: TCP out, no files */
	SANDBOX_IMAP_MAILBOX,	/* imapd's mailbox process: Maildir++,
				   its index, inotify for IDLE */
};

/*
 * Installs the filter for role.  fatal when it cannot be installed.
 * SALLYPORT_SANDBOX=log in the environment logs instead of killing
 * (to learn a missing call), =off disables it (for debugging only).
 */
void	sandbox_init(enum sandbox_role);

/*
 * A filter compiled once (in a process that forks many children) and
 * installed in each child without building it again: libseccomp's work
 * and its allocations happen once, the child only makes two prctl(2)
 * calls.  SALLYPORT_SANDBOX is read when the filter is prepared.
 */
struct sandbox_filter;

/* Compiles the filter of role.  fatal when it cannot be built. */
struct sandbox_filter	*sandbox_prepare(enum sandbox_role);
/*
 * Installs f in the calling process (no allocation).  0, or -1 with
 * errno: the caller must then not go on unconfined.
 */
int	sandbox_apply(const struct sandbox_filter *f);
/* Frees f; the filters installed from it stay. */
void	sandbox_filter_free(struct sandbox_filter *f);

/*
 * Inside common/ (sandbox_trap.c): installs the SIGSYS handler that
 * reports a violation (no allocation; the system calls' names are a
 * constant table): 0, or -1.
 */
int	sandbox_trap_install(const char *role);

#endif
