/*
 * The delivery agent (root, only forks) and its delivery children (the
 * mailbox owner): what the delivery_*.c files, and the unit tests,
 * share.  delivery_main() itself is declared in queued.h.
 *
 *   delivery.c		the agent process: start, signals, its parent,
 *			stopping, and the dispatch of its peers' messages
 *   delivery_manager.c	the queue manager: DELIVERY_START in,
 *			DELIVERY_RESULT out
 *   delivery_authd.c	authd: the connection and the user lookups
 *   delivery_state.c	each delivery's state: the lists, the timers,
 *			the child slots and the reaping
 *   delivery_check.c	the checks on what peers and children send (pure)
 *   delivery_seen.c	the envelopes delivered lately (pure)
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
#include <sys/tree.h>
#include <stddef.h>
#include <stdint.h>
#include <sysexits.h>
#include <time.h>
#include <event2/event.h>

#include "sp_limits.h"

struct config;
struct sandbox_filter;
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
 * The envelope ids delivered in the last DELIVERY_SEEN_MAX_SECS, at most
 * DELIVERY_SEEN_MAX of them: a ring in the order they were added (so by
 * age), and a tree to find them.
 */
struct delivery_seen_entry {
	RB_ENTRY(delivery_seen_entry)	 node;
	time_t				 when;
	char				 evpid[DELIVERY_EVPID_MAX_BYTES];
};
RB_HEAD(delivery_seen_tree, delivery_seen_entry);
struct delivery_seen {
	struct delivery_seen_tree	 tree;
	size_t				 first;	/* the oldest in ring */
	size_t				 count;
	struct delivery_seen_entry	 ring[DELIVERY_SEEN_MAX];
};

/* The agent's state that its files share: one, in delivery.c. */
struct delivery_agent {
	struct event_base	*base;
	struct config		*conf;
	/* SANDBOX_MAILBOX, compiled once; each child installs it. */
	struct sandbox_filter	*sandbox;
	int			 stopping;
	size_t			 nwaiting;	/* LOOKUP and PENDING */
	size_t			 nrunning;
	struct delivery_list	 lookups;
	struct delivery_list	 pending;
	struct delivery_list	 running;
	struct delivery_seen	 seen;
};
extern struct delivery_agent	 delivery_agent;

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

/* delivery.c: the agent process. */

/*
 * Runs the handler for m from table t; a message it has none for is
 * logged as coming from peer and ends the connection c.
 */
void	delivery_dispatch(struct ipc_conn *c, struct ipc_msg *m,
	    const struct delivery_handler *t, size_t n, const char *peer);
/* Called when the last child is reaped while stopping. */
void	delivery_stopped(void);

/* delivery_manager.c: the queue manager's connection. */

/* Serves the manager on fd (from the parent), dropping any earlier one. */
void	delivery_manager_connect(int fd);
/* Answers d's DELIVERY_START, if the manager that sent it is still here. */
void	delivery_manager_reply(const struct delivery *d, int result,
	    const char *text);

/* delivery_authd.c: connects now, and again whenever authd goes away. */
void	delivery_authd_init(struct event_base *, const struct config *);
/* No more reconnecting: the agent is stopping. */
void	delivery_authd_stop(void);
/*
 * Asks authd for the uid, gid and mail home of d's user; d waits in
 * D_LOOKUP, then goes on to D_PENDING or ends.  Ends d when authd is
 * down.
 */
void	delivery_authd_lookup(struct delivery *d);

/* delivery_state.c: one delivery's life in the agent. */

/* A new delivery in D_NEW, with no descriptors and an unarmed timer. */
struct delivery	*delivery_state_new(void);
/* Moves d to the list of state, keeping the counters; logs the change. */
void	delivery_state_set(struct delivery *d, enum delivery_state state);
/* Arms d's timer: a lookup or a child that takes longer is ended. */
void	delivery_state_timer(struct delivery *d, int secs);
/* Takes d off its list, closes its descriptors and frees it. */
void	delivery_state_free(struct delivery *d);
/* Logs the outcome of d, answers the manager, and frees d. */
void	delivery_state_end(struct delivery *d, int result, const char *text);
/* Ends every delivery on l with a temporary failure, why. */
void	delivery_state_end_all(struct delivery_list *l, const char *why);
/* Forks a child for each pending delivery while a slot is free. */
void	delivery_state_schedule(void);
/* SIGCHLD: reaps every child that exited and ends its delivery. */
void	delivery_state_reap(evutil_socket_t, short, void *);
/* The user name of d, safe for a log line (it may be what we refused). */
const char	*delivery_state_user(const struct delivery *d);

/* delivery_check.c: pure, unit-tested. */

/* 0 when s is an envelope id: DELIVERY_EVPID_* digits, '.', a number. */
int	delivery_check_evpid(const char *s);
/*
 * 0 when home may be a mail home: absolute, no "." or ".." component,
 * short enough for <home>/Maildir/new/<name>.  Else -1 with *errstr.
 */
int	delivery_check_home(const char *home, const char **errstr);
/*
 * What in a DELIVERY_START can be refused for good: a user name with
 * blanks or control bytes, an address that may not go into a header.
 * RESULT_OK, or RESULT_PERMFAIL with the RFC 3463 status in *why.
 */
int	delivery_check_request(const struct delivery *d, const char **why);
/*
 * The RESULT_* code for a child's wait(2) status, and a short reason
 * for the failures that the child could not report itself.
 */
int	delivery_check_status(int status, const char **why);
/*
 * Keeps the printable ASCII of an untrusted report line (the child's),
 * up to its first line end; every other byte becomes '?'.
 */
void	delivery_check_report(char *dst, size_t dstlen, const char *src,
	    size_t srclen);

/* delivery_seen.c: pure, unit-tested; now is a delivery_seen_now(). */

/* An empty set. */
void	delivery_seen_init(struct delivery_seen *s);
/* Remembers evpid as delivered at now, forgetting the oldest if full. */
void	delivery_seen_add(struct delivery_seen *s, const char *evpid,
	    time_t now);
/* 1 when evpid was delivered less than DELIVERY_SEEN_MAX_SECS ago. */
int	delivery_seen_find(struct delivery_seen *s, const char *evpid,
	    time_t now);
/* The number of envelopes remembered (after forgetting the old ones). */
size_t	delivery_seen_count(struct delivery_seen *s, time_t now);
/* Seconds on a clock that never goes back (CLOCK_MONOTONIC). */
time_t	delivery_seen_now(void);

/* delivery_fork.c: as root, in the agent and in the new child. */

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

/* delivery_user.c: as the mailbox owner. */

/*
 * Writes the message read from msgfd (with pread, from offset 0) into
 * the Maildir at maildir, creating it when missing, with Return-Path
 * and Delivered-To lines first.  Returns a DELIVERY_EXIT_* code; out
 * gets "new/<name>" on success, else the reason.  Never leaves a file
 * in new/ unless it returns DELIVERY_EXIT_OK, nor one in tmp/ unless
 * it is killed.
 */
int	delivery_user_write(const char *maildir, int msgfd, const char *sender,
	    const char *rcpt, const char *hostname, char *out, size_t outlen);
/*
 * The child after its privilege drop: installs sandbox, delivers into
 * <home>/Maildir, writes the report line to reportfd and exits with the
 * verdict.
 */
void	delivery_user_main(const struct sandbox_filter *sandbox,
	    const char *home, int msgfd, int reportfd, const char *sender,
	    const char *rcpt, const char *hostname) __attribute__((noreturn));

#endif
