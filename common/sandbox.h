/*
 * System-call filters for the unprivileged processes (seccomp on Linux,
 * through libseccomp; elsewhere a no-op until pledge(2) is wired in).
 * Installed after the privilege drop: a call outside the role's list
 * kills the process, and its supervisor restarts it.
 */
#ifndef SALLYPORT_SANDBOX_H
#define SALLYPORT_SANDBOX_H

enum sandbox_role {
	SANDBOX_ENGINE,		/* network engines: sockets, no files */
	SANDBOX_QUEUE,		/* queue manager: the spool's files */
	SANDBOX_AUTHD,		/* authd: reads its tables on reload */
	SANDBOX_MAILBOX,	/* mailbox process: the user's Maildir */
};

/*
 * Installs the filter for role.  fatal when it cannot be installed.
 * SALLYPORT_SANDBOX=log in the environment logs instead of killing
 * (to learn a missing call), =off disables it (for debugging only).
 */
void	sandbox_init(enum sandbox_role);

#endif
