/*
 * The delivery agent (root, only forks) and its delivery children (the
 * mailbox owner): what the delivery_*.c files, and the unit tests,
 * share.  delivery_main() itself is declared in queued.h.
 *
 *   delivery.c		the agent: its peers, and each delivery's state
 *   delivery_authd.c	the agent's connection to authd
 *   delivery_fork.c	the root side of a child: fork, mail home, drop,
 *			and reading its verdict
 *   delivery_user.c	the child as the mailbox owner: the Maildir
 */
#ifndef SALLYPORT_DELIVERY_H
#define SALLYPORT_DELIVERY_H

/* <sys/param.h> for NAME_MAX and PATH_MAX: see config.h. */
#include <sys/types.h>
#include <sys/param.h>
#include <sys/queue.h>
#include <stddef.h>
#include <stdint.h>
#include <sysexits.h>
#include <event2/event.h>

#include "sp_limits.h"

struct config;
struct ipc_conn;
struct ipc_msg;

/*
 * How a delivery child ends: the exit status is the verdict, and a short
 * line on its report pipe says why (or, on success, "new/<name>").  Any
 * other status, and death by a signal, is a temporary failure.
 */
#define DELIVERY_EXIT_OK		0
#define DELIVERY_EXIT_TEMPFAIL		EX_TEMPFAIL	/* 75 */
#define DELIVERY_EXIT_PERMFAIL		EX_DATAERR	/* 65 */

/*
 * XXX These belong in common/limits.h; they live here until the lead
 * moves them.
 */
/* Deliveries waiting for a free child slot; past this, tempfail. */
#define DELIVERY_PENDING_MAX		256
/* Time authd has to answer a user lookup. */
#define DELIVERY_LOOKUP_TIMEOUT_SECS	30
/* On SIGTERM, running children get this long to finish. */
#define DELIVERY_STOP_WAIT_SECS		5
/* Bytes copied per read from the message file. */
#define DELIVERY_COPY_BUF_BYTES		(64 * 1024)

/* "<16 hex digits>.<n>", with room to spare. */
#define DELIVERY_EVPID_MAX_BYTES	64

enum delivery_state {
	D_NEW,
	D_LOOKUP,
	D_PENDING,
	D_RUNNING,
};

/* One delivery, from DELIVERY_START to DELIVERY_RESULT. */
struct delivery {
	TAILQ_ENTRY(delivery)	 entry;
	enum delivery_state	 state;
	uint32_t		 id;		/* our peerid towards authd */
	uint32_t		 peerid;	/* the manager's */
	unsigned int		 gen;		/* manager connection */
	int			 msgfd;
	int			 reportfd;
	pid_t			 pid;
	int			 timedout;
	uid_t			 uid;
	gid_t			 gid;
	struct event		*ev_timer;
	char			 evpid[DELIVERY_EVPID_MAX_BYTES];
	char			 user[AUTH_USER_MAX_BYTES + 1];
	char			 sender[SMTP_PATH_MAX_BYTES + 1];
	char			 rcpt[SMTP_PATH_MAX_BYTES + 1];
	char			 home[PATH_MAX];
};
TAILQ_HEAD(delivery_list, delivery);

/*
 * One handler per message type and peer; a message not in its peer's
 * table (or with a descriptor where none belongs) ends the connection,
 * or for the parent's, the process.
 */
struct delivery_handler {
	uint32_t	 type;
	int		 wantfd;
	void		(*fn)(struct ipc_conn *, struct ipc_msg *);
};
#define DELIVERY_NHANDLERS(t)	(sizeof(t) / sizeof((t)[0]))

/* The handler for m in table t, or NULL. */
const struct delivery_handler	*delivery_handler_find(
	    const struct delivery_handler *, size_t, const struct ipc_msg *);

/* authd's answer to MSG_AUTH_USER_LOOKUP. */
struct delivery_pw {
	uint32_t	 result;
	char		 user[AUTH_USER_MAX_BYTES + 1];
	uint32_t	 uid;
	uint32_t	 gid;
	char		 home[PATH_MAX];
};

/* delivery_authd.c: connects now, and again whenever authd goes away. */
void	delivery_authd_init(struct event_base *, const struct config *);
/* No more reconnecting: the agent is stopping. */
void	delivery_authd_stop(void);
/* Asks authd about user, the answer to come with peerid id; -1 if down. */
int	delivery_authd_lookup(uint32_t id, const char *user);
/*
 * delivery.c, called by delivery_authd.c: authd answered lookup id.
 * -1 when the answer is for another user than asked: authd is dropped.
 */
int	delivery_lookup_done(uint32_t id, const struct delivery_pw *);
/* delivery.c: authd went away; every lookup in flight fails for now. */
void	delivery_lookup_lost(void);

/* 0 when s is an envelope id: 16 lower-case hex digits, '.', a number. */
int	delivery_evpid_valid(const char *s);
/*
 * 0 when home may be a mail home: absolute, no "." or ".." component,
 * short enough for <home>/Maildir/new/<name>.  Else -1 with *errstr.
 */
int	delivery_home_valid(const char *home, const char **errstr);
/*
 * The RESULT_* code for a child's wait(2) status, and a short reason
 * for the failures that the child could not report itself.
 */
int	delivery_status_result(int status, const char **why);
/*
 * Keeps the printable ASCII of an untrusted report line (the child's),
 * up to its first line end; every other byte becomes '?'.
 */
void	delivery_report_clean(char *dst, size_t dstlen, const char *src,
	    size_t srclen);

/*
 * Creates the mail home of d when missing, then forks the child for d
 * (home, uid, gid, msgfd, sender, rcpt filled in), which drops to
 * uid/gid and delivers.  Sets d->pid and d->reportfd and closes
 * d->msgfd; -1 with the reason in err when there is no child.
 */
int	delivery_fork(struct delivery *d, const char *hostname, char *err,
	    size_t errlen);
/*
 * After the child of d exited with status: its RESULT_* code and, in
 * text, its report line (the new/ path on success) or the reason.
 */
int	delivery_collect(struct delivery *d, int status, char *text,
	    size_t textlen);

/*
 * As the mailbox owner: writes the message read from msgfd (with pread,
 * from offset 0) into the Maildir at maildir, creating it when missing,
 * with Return-Path and Delivered-To lines first.  Returns a
 * DELIVERY_EXIT_* code; out gets "new/<name>" on success, else the
 * reason.  Never leaves a file in new/ unless it returns
 * DELIVERY_EXIT_OK, nor one in tmp/ unless it is killed.
 */
int	delivery_user_write(const char *maildir, int msgfd, const char *sender,
	    const char *rcpt, const char *hostname, char *out, size_t outlen);
/*
 * The child after its privilege drop: delivers into <home>/Maildir,
 * writes the report line to reportfd and exits with the verdict.
 */
void	delivery_user_main(const char *home, int msgfd, int reportfd,
	    const char *sender, const char *rcpt, const char *hostname)
	    __attribute__((noreturn));

#endif
