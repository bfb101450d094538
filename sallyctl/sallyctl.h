/*
 * sallyctl: the control tool.  Runs as root, as the administrator who
 * typed it; no chroot, no privilege drop (it only reads pidfiles, sends
 * signals and talks to the queue manager over control.sock, which only
 * root may reach).
 *
 *   sallyctl.c		main: options, root check, configuration
 *   ctl_parse.c	the command table and its parser (no I/O)
 *   ctl_format.c	pure helpers: ages, pidfiles, /proc lines, ids
 *   ctl_reply.c	decoders of the queue manager's replies (no I/O)
 *   ctl_queue.c	verbs that talk to control.sock
 *   ctl_daemon.c	verbs that use pidfiles and signals
 */
#ifndef SALLYCTL_H
#define SALLYCTL_H

#include <sys/types.h>
#include <sys/param.h>
#include <stddef.h>
#include <stdint.h>


#include "sp_limits.h"

struct config;
struct ipc_msg;

/* Words of the longest command ("show status"). */
#define CTL_WORDS_MAX		2
/* A reply from the queue manager that takes longer is an error. */
#define CTL_REPLY_TIMEOUT_SECS	60
/* sallyctl stop waits this long for each daemon to exit. */
#define CTL_STOP_WAIT_SECS	10
#define CTL_STOP_POLL_MSECS	100
/*
 * The largest pid accepted from a pidfile: Linux's PID_MAX_LIMIT, which
 * is above every BSD's PID_MAX.
 */
#define CTL_PID_MAX		4194304
/* A pidfile holds a decimal pid and a newline; anything longer is bad. */
#define CTL_PIDFILE_MAX_BYTES	32
/* An envelope id: 16 hex digits of msgid, a dot, a decimal number. */
#define CTL_MSGID_HEX_DIGITS	16
#define CTL_EVPID_MAX_BYTES	32
/* /proc/<pid>/stat is one line; its comm field is at most 16 bytes. */
#define CTL_PROCSTAT_MAX_BYTES	1024
#define CTL_COMM_MAX_BYTES	16

/* What the verbs share: where to find the daemons. */
struct ctl_env {
	const struct config	*conf;
	char			 sock[PATH_MAX];	/* control.sock */
};

typedef int	(*ctl_handler)(struct ctl_env *, const char *arg);

/* What a command takes after its words. */
enum ctl_arg {
	CTL_ARG_NONE = 0,
	CTL_ARG_ID,		/* a msgid, an evpid, or "all" */
	CTL_ARG_LOGLEVEL,	/* "verbose" or "brief" */
};

struct ctl_cmd {
	const char	*words[CTL_WORDS_MAX];	/* NULL-padded */
	enum ctl_arg	 arg;
	const char	*argname;		/* for help; NULL without */
	int		 needroot;
	ctl_handler	 handler;
	const char	*help;
};

/* ctl_parse.c */
/*
 * Finds the command an argument vector names and checks its argument.
 * Returns the table entry and sets *arg (NULL when it takes none), or
 * NULL with *errstr saying what is wrong.
 */
const struct ctl_cmd	*ctl_parse(int argc, char *const argv[],
			    const char **arg, const char **errstr);
/* The command table, ended by an entry whose words[0] is NULL. */
const struct ctl_cmd	*ctl_cmds(void);
/* "show queue", "schedule ID|all": the command as help shows it. */
int			 ctl_cmd_usage(const struct ctl_cmd *, char *dst,
			    size_t dstlen);

/* ctl_format.c */
/*
 * Seconds from one time to a later one, 0 when it is not later, capped
 * at INT64_MAX: safe on any pair of u64 a peer may send.
 */
int64_t	ctl_elapsed(uint64_t from, uint64_t to);
/* An age in seconds as "42s", "5m", "3h" or "2d"; negative is "0s". */
int	ctl_age_format(int64_t secs, char *dst, size_t dstlen);
/*
 * The pid in a pidfile's contents (buf need not be NUL-terminated):
 * decimal digits, one optional newline.  0, or -1 with *errstr.
 */
int	ctl_pidfile_parse(const char *buf, size_t len, pid_t *pid,
	    const char **errstr);
/*
 * (ctl_daemon.c) Signals one daemon's parent, found by its pidfile
 * (sendmail -bi: authd): its pid once sent, 0 when it does not run, -1
 * after a warning.
 */
int	ctl_signal(struct ctl_env *, const char *name, int sig);
/* What sallyctl reads from /proc/<pid>/stat (proc(5)). */
struct ctl_procstat {
	char		 comm[CTL_COMM_MAX_BYTES + 1];
	char		 state;		/* field 3: R, S, Z... */
	uint64_t	 starttime;	/* field 22: ticks since boot */
};

/* Parses a /proc/<pid>/stat line.  0, or -1 when malformed. */
int	ctl_procstat_parse(const char *buf, size_t len,
	    struct ctl_procstat *);
/* Whole seconds since boot from /proc/uptime's contents.  0 or -1. */
int	ctl_uptime_parse(const char *buf, size_t len, uint64_t *secs);
/* 1 when id is "all", a msgid or an evpid, else 0. */
int	ctl_id_valid(const char *id);

/* ctl_reply.c */
struct ctl_entry {
	char		 evpid[IPC_STRING_MAX_BYTES + 1];
	char		 sender[IPC_STRING_MAX_BYTES + 1];
	char		 rcpt[IPC_STRING_MAX_BYTES + 1];
	uint64_t	 created;
	uint32_t	 retries;
	uint64_t	 next_try;
	char		 error[IPC_STRING_MAX_BYTES + 1];
};

struct ctl_proc {
	char		 name[IPC_STRING_MAX_BYTES + 1];
	uint32_t	 pid;
	uint64_t	 started;
	uint32_t	 up;
};

struct ctl_stat {
	char		 name[IPC_STRING_MAX_BYTES + 1];
	uint64_t	 value;
};

struct ctl_host {
	char		 dest[IPC_STRING_MAX_BYTES + 1];
	uint32_t	 conns;
	uint32_t	 queued;
	uint32_t	 active;
	uint64_t	 backoff_until;	/* 0: none */
	char		 error[IPC_STRING_MAX_BYTES + 1];
};

struct ctl_result {
	uint32_t	 result;
	uint32_t	 count;
	char		 message[IPC_STRING_MAX_BYTES + 1];
};

/* Each reads one reply's whole payload; -1 when malformed. */
int	ctl_reply_entry(struct ipc_msg *, struct ctl_entry *);
int	ctl_reply_proc(struct ipc_msg *, struct ctl_proc *);
int	ctl_reply_stat(struct ipc_msg *, struct ctl_stat *);
int	ctl_reply_host(struct ipc_msg *, struct ctl_host *);
int	ctl_reply_result(struct ipc_msg *, struct ctl_result *);
int	ctl_reply_end(struct ipc_msg *);

/* ctl_queue.c: verbs answered by the queue manager. */
int	ctl_show_queue(struct ctl_env *, const char *);
int	ctl_show_stats(struct ctl_env *, const char *);
int	ctl_show_hosts(struct ctl_env *, const char *);
int	ctl_schedule(struct ctl_env *, const char *);
int	ctl_remove(struct ctl_env *, const char *);
/* Prints queued's processes; the exit status show status adds. */
int	ctl_queue_procs(struct ctl_env *);

/* ctl_daemon.c: verbs on the daemons' parents. */
int	ctl_show_status(struct ctl_env *, const char *);
int	ctl_log(struct ctl_env *, const char *);
int	ctl_stop(struct ctl_env *, const char *);
int	ctl_reload(struct ctl_env *, const char *);

/* ctl_parse.c: prints the table, the only output of that file. */
int	ctl_help(struct ctl_env *, const char *);

#endif
