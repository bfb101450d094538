/*
 * How every sallyport program starts, and how it starts its children
 * (DESIGN.md: every role is started by fork and then exec of its own
 * binary with a role argument, so that no child shares its parent's
 * address layout, stack canary or leftover memory).
 *
 *	prog [-dnv] [-f file]	the privileged parent
 *	prog -R role [-dv]	a role, exec'd by its parent: refused
 *				unless started by root with the
 *				descriptors the role takes
 *
 * A role's descriptors are numbered from DAEMON_FD_FIRST in the order
 * its parent gave them, nothing else is open but stdin, stdout and
 * stderr.  A role marked DAEMON_R_CONF gets, as the first of them, its
 * parent's configuration as config_print() writes it, in a sealed
 * memory file (nobody can change it once it is made, so a child cannot
 * alter what a sibling restarted later reads); the role parses it with
 * config_parse(), so a child and its parent always agree, even when
 * the file changed on disk since the parent read it.
 */
#ifndef SALLYPORT_DAEMON_H
#define SALLYPORT_DAEMON_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct ipc_msg;
struct ipc_out;
struct pidfh;

/* A role's first descriptor; 0 to 2 stay stdin, stdout, stderr. */
#define DAEMON_FD_FIRST		3
/* The most descriptors a role takes (listeners, sockets, blobs). */
#define DAEMON_FDS_MAX		40

/* Role flags. */
#define DAEMON_R_CONF	0x01	/* the first descriptor is the config */
#define DAEMON_R_SPAWNS	0x02	/* it execs roles of its own */

struct daemon_ctx {
	const char	*prog;		/* "smtpd": argv[0] of the children */
	const char	*conf_file;	/* parent: absolute path */
	struct config	*conf;		/* parent: loaded; role: its parent's */
	int		 debug;		/* -d: foreground, log to stderr */
	int		 foreground;	/* -d or -F: no daemon(3) */
	/* A role's descriptors, from DAEMON_FD_FIRST, the config's excluded. */
	int		 fds[DAEMON_FDS_MAX];
	int		 nfds;
};

struct daemon_role {
	const char	*name;		/* after -R; its name in the log */
	int		 flags;		/* DAEMON_R_* */
	int		 nfds_min;	/* descriptors, the config's included */
	int		 nfds_max;
	void		(*main)(struct daemon_ctx *);	/* must not return */
};

struct daemon_def {
	const char		*prog;
	/*
	 * The parent, as root, with the configuration: must not return.
	 * NULL in a program of roles only (pop3d-mailbox), which refuses
	 * to start without -R.
	 */
	void			(*parent)(struct daemon_ctx *);
	const struct daemon_role *roles;	/* ended by a NULL name */
};

/*
 * main() of every program: options, configuration (-n prints it and
 * exits), the root check, then def->parent or the role named by -R.
 */
int	daemon_main(const struct daemon_def *, int argc, char *argv[])
	    __attribute__((noreturn));

/* Parent: makes <rundir> when missing, opens <rundir>/<prog>.pid. */
struct pidfh	*daemon_pidfile(const struct daemon_ctx *);
/* Parent: leaves the terminal unless -d, then writes the pidfile. */
void	daemon_detach(const struct daemon_ctx *, struct pidfh *);

/*
 * The configuration the roles exec'd from now on get; called at start
 * and after a reload.  fatal when it cannot be made.
 */
void	daemon_conf_publish(const struct config *);
/* Its descriptor (sealed, read-only to the children); -1 before. */
int	daemon_conf_fd(void);

/*
 * Forks and execs this binary as role with fds[] at DAEMON_FD_FIRST
 * and up (the caller keeps its own).  The pid, or -1 with errno.
 */
pid_t	daemon_spawn(const char *role, const int *fds, int nfds);
/*
 * A program of the suite's own for a role (pop3d's pop3d-mailbox),
 * beside this binary (the directory of /proc/self/exe), opened once at
 * start as the binary is.  fatal unless it is a regular file of root's
 * that neither group nor others may write.
 */
int	daemon_prog_open(const char *name);
/* daemon_spawn() of that program (exe), prog its argv[0]. */
pid_t	daemon_spawn_prog(int exe, const char *prog, const char *role,
	    const int *fds, int nfds);

/* A sealed memory file holding an IPC payload, for a role; -1 on error. */
int	daemon_args_fd(const struct ipc_out *);
/*
 * In a role: reads the payload of fd into m (close fd after); the
 * buffer returned holds m's data and is the caller's to free.  fatal
 * when fd is not a sealed memory file of root's.
 */
uint8_t	*daemon_args_read(int fd, struct ipc_msg *m);

/*
 * In a role, fatal unless fd is what it should be: its channel to the
 * process that exec'd it (a SOCK_SEQPACKET socket whose peer is the
 * parent, as root), a listening socket, or a connected stream socket.
 */
void	daemon_check_parent(int fd);
void	daemon_check_listener(int fd);
void	daemon_check_stream(int fd);

#endif
