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
 *   ctl_filter.c	show queue's filters: parsed and matched (no I/O)
 *   ctl_json.c		JSON objects, one a line, for -j (no I/O)
 *   ctl_queue.c	verbs that talk to control.sock
 *   ctl_show.c		show envelope, show message
 *   ctl_verbs.c	pause, resume, hold, release, expire, requeue
 *   ctl_monitor.c	monitor: the counters every second
 *   ctl_users.c	encrypt, user add|passwd|del: the users table
 *   ctl_users_edit.c	the users table's lines edited (no I/O)
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

/* Words of the longest command ("show status", "user add"). */
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
/* An envelope's state as the manager names it ("held,paused"). */
#define CTL_STATE_MAX_BYTES	16
/* show envelope: the keys of an envelope file and how many. */
#define CTL_KEY_MAX_BYTES	32
#define CTL_FIELDS_MAX		64
/* One line of -j output: an envelope's fields, escaped (six bytes each). */
#define CTL_JSON_MAX_BYTES	(64 * 1024)

/* What the verbs share: where to find the daemons. */
struct ctl_env {
	const struct config	*conf;
	char			 sock[PATH_MAX];	/* control.sock */
};

/* show queue's filters (ctl_filter.c); a field unset matches all. */
struct ctl_filter {
	const char	*from;		/* the sender, without case */
	const char	*to;		/* the recipient, without case */
	const char	*domain;	/* the recipient's domain */
	int64_t		 older_than;	/* seconds; -1: any age */
	int		 held;		/* held (or paused) ones only */
};

/* What the command line says after the command's words. */
struct ctl_cmd;
struct ctl_args {
	const struct ctl_cmd	*cmd;	/* the command parsed */
	const char		*arg;	/* the one argument, or NULL */
	int			 json;	/* -j: one JSON object a line */
	struct ctl_filter	 filter;
	uint32_t		 count;	/* monitor -n; 0: until killed */
	/* user add NAME [uid N] [gid N] [home DIR]; 0/NULL: defaults. */
	uint32_t		 uid;
	uint32_t		 gid;
	const char		*home;
};

typedef int	(*ctl_handler)(struct ctl_env *, const struct ctl_args *);

/* What a command takes after its words. */
enum ctl_arg {
	CTL_ARG_NONE = 0,
	CTL_ARG_ID,		/* a msgid, an evpid, or "all" */
	CTL_ARG_LOGLEVEL,	/* "verbose" or "brief" */
	CTL_ARG_MSG,		/* a msgid or an evpid */
	CTL_ARG_ROLE,		/* "smtp", "delivery" or "relay" */
	CTL_ARG_FILTER,		/* show queue's filters, none or more */
	CTL_ARG_COUNT,		/* [-n COUNT] */
	CTL_ARG_USER,		/* a user name */
	CTL_ARG_USERADD,	/* NAME [uid N] [gid N] [home DIR] */
};

/* Flags of a command. */
#define CTL_F_ROOT	0x01	/* needs root and the configuration */
#define CTL_F_JSON	0x02	/* takes -j */

struct ctl_cmd {
	const char	*words[CTL_WORDS_MAX];	/* NULL-padded */
	enum ctl_arg	 arg;
	const char	*argname;		/* for help; NULL without */
	int		 flags;			/* CTL_F_* */
	ctl_handler	 handler;
	const char	*help;
};

/* Words after a command's own: filters, -j, user add's options. */
#define CTL_ARGV_MAX		16
/* show queue older-than: at most ten years, in seconds. */
#define CTL_AGE_MAX_SECS	(10LL * 366 * 86400)
/* monitor -n: at most a day of rows. */
#define CTL_MONITOR_COUNT_MAX	86400
/* monitor: the header again every this many rows, as vmstat(8). */
#define CTL_MONITOR_HEADER_ROWS	20

/* ctl_parse.c */
/*
 * Finds the command an argument vector names and checks what follows
 * it into *a.  Returns the table entry, or NULL with *errstr saying
 * what is wrong.
 */
const struct ctl_cmd	*ctl_parse(int argc, char *const argv[],
			    struct ctl_args *a, const char **errstr);
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
/* 1 when id is a msgid or an evpid, else 0. */
int	ctl_msg_valid(const char *id);

/* ctl_filter.c */
/*
 * Reads show queue's filters from argv into *f.  0, or -1 with
 * *errstr.  An age is a number and one of s, m, h, d ("2h").
 */
int	ctl_filter_parse(int argc, char *const argv[], struct ctl_filter *f,
	    const char **errstr);
/* Seconds of an age "30s", "5m", "2h", "1d".  0, or -1. */
int	ctl_filter_age(const char *s, int64_t *secs);
/* 1 when the envelope passes the filter at time now, else 0. */
int	ctl_filter_match(const struct ctl_filter *, const char *sender,
	    const char *rcpt, uint64_t created, const char *state,
	    uint64_t now);

/* ctl_json.c */
/* A JSON object being built, printed as one line. */
struct ctl_json {
	char		 buf[CTL_JSON_MAX_BYTES];
	size_t		 len;
	int		 n;		/* members so far */
	int		 error;		/* it did not fit */
};
/*
 * Writes src as a JSON string (quotes included, RFC 8259 7): '"', '\\'
 * and control characters escaped, bytes that are not UTF-8 made
 * U+FFFD.  The length written, or -1 when it does not fit.
 */
int	ctl_json_string(char *dst, size_t dstlen, const char *src);
void	ctl_json_begin(struct ctl_json *);
void	ctl_json_str(struct ctl_json *, const char *key, const char *value);
void	ctl_json_u64(struct ctl_json *, const char *key, uint64_t value);
/* Closes the object; its text (no newline), or NULL when it overflowed. */
const char *ctl_json_end(struct ctl_json *);

/* ctl_reply.c */
struct ctl_entry {
	char		 evpid[IPC_STRING_MAX_BYTES + 1];
	char		 sender[IPC_STRING_MAX_BYTES + 1];
	char		 rcpt[IPC_STRING_MAX_BYTES + 1];
	uint64_t	 created;
	uint32_t	 retries;
	uint64_t	 next_try;
	char		 error[IPC_STRING_MAX_BYTES + 1];
	char		 state[CTL_STATE_MAX_BYTES + 1];
};

/* One envelope of show envelope: its file's keys and values. */
struct ctl_field {
	char		 key[CTL_KEY_MAX_BYTES + 1];
	char		 value[IPC_STRING_MAX_BYTES + 1];
};
struct ctl_envinfo {
	char		 evpid[CTL_EVPID_MAX_BYTES + 1];
	char		 state[CTL_STATE_MAX_BYTES + 1];
	uint32_t	 n;
	struct ctl_field fields[CTL_FIELDS_MAX];
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
int	ctl_reply_envinfo(struct ipc_msg *, struct ctl_envinfo *);
/* A state the manager names: "waiting", "active", "held"... 1 or 0. */
int	ctl_state_valid(const char *);

/* ctl_queue.c: verbs answered by the queue manager. */
int	ctl_show_queue(struct ctl_env *, const struct ctl_args *);
int	ctl_show_stats(struct ctl_env *, const struct ctl_args *);
int	ctl_show_hosts(struct ctl_env *, const struct ctl_args *);
int	ctl_schedule(struct ctl_env *, const struct ctl_args *);
int	ctl_remove(struct ctl_env *, const struct ctl_args *);
/* Prints queued's processes; the exit status show status adds. */
int	ctl_queue_procs(struct ctl_env *, int json);
/* The request built in the buffer ctl_queue_request() returns. */
struct ipc_out	*ctl_queue_request(uint32_t type);
/*
 * Sends the request; hands each reply of type item to cb until
 * MSG_CTL_END, header printed first (unless NULL).  0, or 1 after a
 * message.
 */
int	ctl_queue_stream(struct ctl_env *, const char *header, uint32_t item,
	    int (*cb)(struct ipc_msg *, void *), void *arg);
/*
 * Sends the request and reads its CTL_RESULT: prints "N envelopes
 * <done>" (or the message alone when none is counted).  0 or 1.
 */
int	ctl_queue_command(struct ctl_env *, uint32_t type, const char *id,
	    const char *done);
/* Connects to control.sock; -1 after a message. */
int	ctl_queue_connect(struct ctl_env *);
/* Receives one reply for our request; -1 after a message. */
int	ctl_queue_recv(int fd, struct ipc_msg *m);
/* src made printable (strnvis), or empty when src is "". */
const char *ctl_vis(char *dst, size_t dstlen, const char *src,
	    const char *empty);
/* Prints one JSON object, or says it did not fit: 0 or -1. */
int	ctl_json_print(struct ctl_json *);

/* ctl_show.c */
int	ctl_show_envelope(struct ctl_env *, const struct ctl_args *);
int	ctl_show_message(struct ctl_env *, const struct ctl_args *);

/*
 * ctl_verbs.c: pause, resume, hold, release, expire, requeue: the
 * request its command's words name.
 */
int	ctl_queue_verb(struct ctl_env *, const struct ctl_args *);

/* ctl_monitor.c */
int	ctl_monitor(struct ctl_env *, const struct ctl_args *);

/* ctl_users.c */
int	ctl_encrypt(struct ctl_env *, const struct ctl_args *);
int	ctl_user_add(struct ctl_env *, const struct ctl_args *);
int	ctl_user_passwd(struct ctl_env *, const struct ctl_args *);
int	ctl_user_del(struct ctl_env *, const struct ctl_args *);

/* ctl_users_edit.c: the users table's text, edited in memory. */
/* A user name as authd takes it (authd_table.c's rules).  1 or 0. */
int	ctl_user_name_valid(const char *name);
/* The fields a new line takes (from the command or the table). */
struct ctl_user_line {
	const char	*name;
	const char	*hash;
	uint32_t	 uid;		/* 0: the table's last user's */
	uint32_t	 gid;
	const char	*home;		/* NULL: beside the last user's */
};
/* What an edit does. */
enum ctl_user_op {
	CTL_USER_ADD,
	CTL_USER_PASSWD,
	CTL_USER_DEL,
};
/*
 * Writes into dst the table text with the edit op made on u: a line
 * added (refused when the name is there), its hash replaced, or its
 * line removed (refused when it is not).  Every other line is kept as
 * it is.  The new length, or -1 with *errstr.
 */
ssize_t	ctl_users_edit(const char *text, size_t len, enum ctl_user_op op,
	    const struct ctl_user_line *u, char *dst, size_t dstlen,
	    const char **errstr);

/* ctl_daemon.c: verbs on the daemons' parents. */
int	ctl_show_status(struct ctl_env *, const struct ctl_args *);
int	ctl_log(struct ctl_env *, const struct ctl_args *);
int	ctl_stop(struct ctl_env *, const struct ctl_args *);
int	ctl_reload(struct ctl_env *, const struct ctl_args *);
/* SIGHUP to authd, that it reads its tables again.  0, or 1. */
int	ctl_reload_authd(struct ctl_env *);

/* ctl_parse.c: prints the table, the only output of that file. */
int	ctl_help(struct ctl_env *, const struct ctl_args *);

#endif
