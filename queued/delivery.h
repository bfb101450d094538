/*
 * The delivery agent (root, only forks) and its mailbox workers (each
 * the mailbox owner, reused for many deliveries): what the delivery_*.c
 * files, and the unit tests, share.  delivery_main() itself is declared
 * in queued.h.
 *
 *   delivery.c		the agent process: start, signals, its parent,
 *			stopping, and the dispatch of its peers' messages
 *   delivery_manager.c	the queue manager: DELIVERY_START in,
 *			DELIVERY_RESULT out
 *   delivery_authd.c	authd: the connection and the user lookups
 *   delivery_state.c	each delivery's state: the lists, the timers,
 *			the scheduling and the reaping
 *   delivery_worker.c	the mailbox workers, seen from the agent: which
 *			serves whom, requests out, verdicts in, idle
 *			and worn-out workers closed, dead ones reaped
 *   delivery_check.c	the checks on what peers and workers send (pure)
 *   delivery_seen.c	the envelopes delivered lately (pure)
 *   delivery_fork.c	the root side of a worker: mail home, fork,
 *			privilege drop
 *   delivery_user.c	the worker as the mailbox owner: its loop and
 *			the Maildir
 *   delivery_user_index.c	as the mailbox owner: is a recovered
 *			envelope's message in the Maildir already?
 *   delivery_user_quota.c	as the mailbox owner: does the message
 *			fit the user's quota?
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
 * A worker's verdict on one delivery, in MAILBOX_DELIVERY_RESULT with a
 * short report (on success, "new/<name>").  Any other code ends the
 * worker; a worker that dies with a delivery in flight makes it a
 * temporary failure.  The worker's own exit status is one of these too.
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
	pid_t			 pid;		/* its worker's, once RUNNING */
	int			 timedout;
	uint32_t		 flags;		/* DELIVERY_F_* */
	uint64_t		 quota;		/* authd's, bytes; 0: none */
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
 * A mailbox worker: a child of the agent running as one (uid, gid,
 * home), serving one delivery at a time over a socketpair.  Idle: fd
 * open, no delivery.  Busy: a delivery.  Closing: fd closed (the worker
 * exits on EOF), waiting to be reaped; it still counts as a child.
 */
struct delivery_worker {
	TAILQ_ENTRY(delivery_worker)	 entry;
	pid_t				 pid;
	int				 fd;	/* our end, or -1 */
	uid_t				 uid;
	gid_t				 gid;
	unsigned int			 ndeliveries;
	int				 reaped;
	struct delivery			*d;	/* in flight, or NULL */
	struct event			*ev_read;
	struct event			*ev_idle;
	char				 home[PATH_MAX];
};
TAILQ_HEAD(delivery_worker_list, delivery_worker);

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
	int			 stopping;
	size_t			 nwaiting;	/* LOOKUP and PENDING */
	size_t			 nrunning;
	size_t			 nworkers;	/* children not yet reaped */
	struct delivery_worker_list	 workers;
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
/* Called when the last worker is reaped while stopping. */
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
/* Arms d's timer: a lookup or a delivery that takes longer is ended. */
void	delivery_state_timer(struct delivery *d, int secs);
/* Takes d off its list, closes its descriptors and frees it. */
void	delivery_state_free(struct delivery *d);
/* Logs the outcome of d, answers the manager, and frees d. */
void	delivery_state_end(struct delivery *d, int result, const char *text);
/* Ends every delivery on l with a temporary failure, why. */
void	delivery_state_end_all(struct delivery_list *l, const char *why);
/*
 * Hands each pending delivery to a worker of its user while there is
 * one free or room for one more; the others keep waiting, in order.
 */
void	delivery_state_schedule(void);
/* Logs and answers d's verdict; an OK one is remembered as seen. */
void	delivery_state_done(struct delivery *d, int result, const char *text);
/* SIGCHLD: reaps every worker that exited and ends its delivery. */
void	delivery_state_reap(evutil_socket_t, short, void *);
/* While stopping: leaves the loop once no worker is left. */
void	delivery_state_check_stopped(void);
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
 * The RESULT_* code for a worker's verdict (a DELIVERY_EXIT_* code), and
 * a reason for the failures in case its report is empty; -1 for any
 * other code, which the worker is ended for.
 */
int	delivery_check_verdict(uint32_t verdict, const char **why);
/*
 * The reason, into text, why a delivery failed whose worker died
 * with it (wait(2) status); always a temporary failure.
 */
void	delivery_check_death(int status, int timedout, char *text,
	    size_t textlen);
/*
 * Keeps the printable ASCII of an untrusted report line (a worker's),
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

/* delivery_worker.c: the workers, from the agent. */

/*
 * Hands d (D_PENDING, mail home prepared) to an idle worker of its
 * user, or forks one when there is room.  1 when d is on its way (its
 * pid set, its msgfd passed and closed), 0 when it must wait, -1 with
 * the reason in err when it cannot be delivered now.
 */
int	delivery_worker_assign(struct delivery *d, char *err, size_t errlen);
/*
 * After waitpid(2): when pid was a worker, ends its delivery if one was
 * in flight, forgets the worker and returns 0; else -1.
 */
int	delivery_worker_reaped(pid_t pid, int status);
/* Closes every idle worker: they exit when they read EOF. */
void	delivery_worker_close_idle(void);
/* SIGKILLs every worker, why (for the log line). */
void	delivery_worker_kill_all(const char *why);

/* delivery_fork.c: as root, in the agent and in the new worker. */

/*
 * Creates the mail home of d when it is missing.  0, or -1 with the
 * reason in err.
 */
int	delivery_fork_home(const struct delivery *d, char *err, size_t errlen);
/*
 * Starts a worker (role mailbox-worker) for w's uid, gid and home, which
 * drops to uid/gid for good and serves deliveries on its end of a
 * socketpair.  Sets w->pid
 * and w->fd (non-blocking, close-on-exec); -1 with the reason in err
 * when there is no worker.
 */
int	delivery_fork_worker(struct delivery_worker *w, const char *hostname,
	    char *err, size_t errlen);

/* delivery_user_index.c: as the mailbox owner. */

/*
 * With check 0, 0.  Else 1 when new/ or cur/ of maildir holds a file
 * delivered for evpid's message, 0 when not, -1 with errno when they
 * cannot be read.  The directories are read once per check value.
 */
int	delivery_user_found(const char *maildir, const char *evpid,
	    uint32_t check);

/* delivery_user_quota.c: as the mailbox owner. */

/*
 * With quota 0, 0.  Else 0 when a message of more bytes fits the quota
 * of the Maildir at maildir; 1 when it does not and -1 when its usage
 * cannot be measured, both with the "4.2.2 ..." reason in out.  The
 * usage is measured once per DELIVERY_QUOTA_CACHE_SECS.
 */
int	delivery_user_quota(const char *maildir, uint64_t quota,
	    uint64_t more, char *out, size_t outlen);
/* A message of bytes was delivered: added to the usage kept. */
void	delivery_user_quota_add(uint64_t bytes);
/* The usage kept is measured again at the next check. */
void	delivery_user_quota_forget(void);

/* delivery_user.c: as the mailbox owner. */

/*
 * Writes the message read from msgfd (with pread, from offset 0) into
 * the Maildir at maildir, creating it when missing, with Return-Path
 * and Delivered-To lines first; the file's name carries evpid (NULL:
 * none).  Returns a DELIVERY_EXIT_* code; out
 * gets "new/<name>" on success, else the reason.  Never leaves a file
 * in new/ unless it returns DELIVERY_EXIT_OK, nor one in tmp/ unless
 * it is killed.
 */
int	delivery_user_write(const char *maildir, int msgfd, const char *evpid,
	    const char *sender, const char *rcpt, const char *hostname,
	    char *out, size_t outlen);
/*
 * The worker after its privilege drop: installs sandbox, then serves
 * DELIVERY_MAILBOX_WRITE requests on fd, one at a time, into
 * <home>/Maildir, answering each with MAILBOX_DELIVERY_RESULT.  Exits
 * 0 when fd reaches EOF, DELIVERY_EXIT_TEMPFAIL on anything malformed.
 */
void	delivery_user_worker(const struct sandbox_filter *sandbox,
	    const char *home, int fd, const char *hostname)
	    __attribute__((noreturn));

#endif
