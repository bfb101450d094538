/*
 * The queue manager's internals, shared by queue_*.c.  The manager runs
 * as user queue, chrooted into the spool; every path below is relative
 * to the spool (see doc/INTERNALS.md "The spool").
 *
 *   queue_manager.c	main, the parent channel, the peers' connections
 *   queue_smtp.c	queue.sock: messages coming in from smtpd
 *   queue_commit.c	the durable group commit
 *   queue_sync.c	fsyncs and other disk waits, off the event loop
 *   queue_envelope.c	the envelope file format, ids, backoff (pure)
 *   queue_bounce.c	the RFC 3464 bounce text (pure)
 *   queue_bounce_send.c	a bounce made and committed in a sync thread
 *   queue_dsn_success.c	reports of success (NOTIFY=SUCCESS)
 *   queue_store.c	the spool's files: load, write, remove, fsync
 *   queue_recover.c	the schedule rebuilt from the disk at start
 *   queue_sched.c	the in-memory index and the scheduler
 *   queue_expand.c	recipients expanded through authd
 *   queue_dedup.c	duplicate final recipients of a message
 *   queue_deliver.c	delivery, results, failures, bounces
 *   queue_remove.c	envelopes and messages leaving the spool
 *   queue_flight.c	requests out to a peer, by request id
 *   queue_relay.c	the relay: batches out, results back
 *   queue_relay_text.c	batches chosen, remote errors written (pure)
 *   queue_control.c	control.sock: sallyctl's requests
 *   queue_control_stats.c	show stats, show hosts (asked of the relay)
 *   queue_control_verbs.c	pause, resume, hold, release, expire, requeue
 *   queue_control_show.c	show envelope, show message
 */
#ifndef SALLYPORT_QUEUE_H
#define SALLYPORT_QUEUE_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/tree.h>
#include <stddef.h>
#include <stdint.h>
#include <event2/event.h>

#include "dsn.h"
#include "sp_limits.h"

struct config;
struct ipc_conn;
struct ipc_msg;
struct ipc_out;

/*
 * Sizes of the spool's names and of the envelope's fields.  XXX these
 * belong in common/limits.h once the format settles.
 */
#define QUEUE_MSGID_HEX_DIGITS		16
#define QUEUE_MSGID_MAX_BYTES		(QUEUE_MSGID_HEX_DIGITS + 1)
/* "<msgid>.<n>", n a u32 in decimal (10 digits), and the NUL. */
#define QUEUE_EVPID_MAX_BYTES		(QUEUE_MSGID_HEX_DIGITS + 12)
/* RFC 5321 4.5.3.1.4: the HELO argument comes on a command line. */
#define QUEUE_HELO_MAX_BYTES		SMTP_CMD_LINE_MAX_BYTES
/* smtpd's description of the client: "[address]:port" and a name. */
#define QUEUE_CLIENT_MAX_BYTES		256
/* Past this size over the configured maximum a message is refused. */
#define QUEUE_HEADER_SLACK_BYTES	(64 * 1024)
/*
 * Original headers quoted in a bounce (RFC 3464 text/rfc822-headers),
 * or under RET=FULL the whole message when it is no larger.
 */
#define QUEUE_BOUNCE_HEADERS_MAX_BYTES	(32 * 1024)
#define QUEUE_BOUNCE_MAX_BYTES		(QUEUE_BOUNCE_HEADERS_MAX_BYTES + \
					    8192)
/* Open sallyctl connections. */
#define QUEUE_CTL_CONNS_MAX		16
/* Queue list entries sent per turn of the event loop. */
#define QUEUE_CTL_LIST_BATCH		256
/* Envelope writes one sallyctl hold, release or requeue has out. */
#define QUEUE_CTL_WRITES_MAX		(QUEUE_SYNC_THREADS * 8)
/*
 * A remote envelope due while the relay is down waits this long, or
 * until the relay is back; a batch out when it died, this long.
 */
#define QUEUE_RELAY_DOWN_SECS		IPC_RETRY_MAX_SECS
#define QUEUE_RELAY_REQUEUE_SECS	IPC_RETRY_MAX_SECS
/*
 * A remote recipient just expanded waits this long for the others of
 * its message, which authd answers for one by one, so that they go to
 * the relay in one batch rather than the first alone.
 */
#define QUEUE_RELAY_GATHER_SECS		1
/* Attempts at drawing a msgid that is not in use. */
#define QUEUE_MSGID_TRIES_MAX		16

/* Envelopes being rewritten are "tmp.<evpid>" until renamed. */
#define QUEUE_TMP_PREFIX		"tmp."

/* One recipient of one message: the envelope file's contents. */
struct envelope {
	char		 evpid[QUEUE_EVPID_MAX_BYTES];
	char		 msgid[QUEUE_MSGID_MAX_BYTES];
	/* "" or the envelope this one was expanded from. */
	char		 parent[QUEUE_EVPID_MAX_BYTES];
	char		 sender[SMTP_PATH_MAX_BYTES + 1];	/* "" is <> */
	char		 rcpt[SMTP_PATH_MAX_BYTES + 1];
	char		 orig_rcpt[SMTP_PATH_MAX_BYTES + 1];
	/* The local user, after expansion; "" before, or when remote. */
	char		 mailbox[AUTH_USER_MAX_BYTES + 1];
	int		 remote;	/* rcpt is to be relayed */
	char		 helo[QUEUE_HELO_MAX_BYTES + 1];
	char		 client[QUEUE_CLIENT_MAX_BYTES + 1];
	int64_t		 created;
	uint32_t	 retries;
	int64_t		 next_try;
	char		 last_error[QUEUE_ERROR_MAX_BYTES + 1];
	/* Since envelope version 2; a version 1 file leaves them 0/"". */
	int		 smtputf8;	/* RFC 6531: MAIL had SMTPUTF8 */
	/* RFC 3461, for the bounces, decoded as smtpd received them. */
	uint32_t	 dsn_ret;	/* enum dsn_ret */
	char		 dsn_envid[DSN_ENVID_MAX_BYTES + 1];
	uint32_t	 dsn_notify;	/* DSN_NOTIFY_*; 0: not given */
	char		 dsn_orcpt[DSN_ORCPT_MAX_BYTES + 1];
	/* Since envelope version 3: the delay notice was sent. */
	int		 delay_notified;
	/* Since version 4: kept aside by sallyctl hold until released. */
	int		 held;
};

/* queue_envelope.c: no I/O. */
/*
 * Parses an envelope file's contents.  0, or -1 with *errstr saying
 * what is wrong (unknown or repeated key, missing key, bad value).
 */
int	envelope_parse(const char *buf, size_t len, struct envelope *,
	    const char **errstr);
/* Writes the file's contents into buf; the length, or -1 with *errstr. */
int	envelope_serialise(const struct envelope *, char *buf, size_t buflen,
	    const char **errstr);
/* 1 when s is a msgid (16 lower-case hex digits), else 0. */
int	queue_msgid_valid(const char *s);
/* 1 when s is "<msgid>.<n>" with n a decimal u32 above 0, else 0. */
int	queue_evpid_valid(const char *s);
/* The n of a valid evpid. */
uint32_t queue_evpid_number(const char *evpid);
/* 1 when evpid (valid) belongs to msgid, else 0. */
int	queue_evpid_of(const char *evpid, const char *msgid);
/* 1 when s holds no control character and fits max bytes, else 0. */
int	queue_text_valid(const char *s, size_t max);
/* Copies src into dst with every control character made a '?'. */
void	queue_text_clean(char *dst, size_t dstlen, const char *src);
/* The delay before retry number retries (1 for the first), in seconds. */
uint32_t queue_backoff(uint32_t retries, uint32_t min_secs,
	    uint32_t max_secs);
/* The time of the next try after a failure at now, never past expiry. */
int64_t	queue_next_try(int64_t now, int64_t created, uint32_t retries,
	    const struct config *);
/*
 * The address for Delivered-To: rcpt itself when its local part is the
 * mailbox, else "<mailbox>@<domain of rcpt>".  -1 when it does not fit.
 */
int	queue_delivered_to(const char *rcpt, const char *mailbox, char *dst,
	    size_t dstlen);
/*
 * 1 when e, which just failed temporarily at now, is owed its delay
 * notice (RFC 3464 Action: delayed): not sent yet, delay_notice_secs
 * (not 0) past its creation and before its expiry, a sender that is
 * not <>, and a NOTIFY that is absent (RFC 3461 4.1 leaves it to us:
 * yes) or has DELAY.
 */
int	queue_delay_notice_due(const struct envelope *e, int64_t now,
	    const struct config *);

/* queue_bounce.c: no I/O. */
/* RFC 3464 2.3.3: what the report says was done for the recipient. */
enum dsn_action {
	DSN_ACTION_FAILED = 0,
	DSN_ACTION_DELAYED,
	DSN_ACTION_DELIVERED,
	DSN_ACTION_RELAYED,
	DSN_ACTION_EXPANDED,
};
struct bounce_info {
	enum dsn_action	 action;
	const char	*hostname;
	const char	*msgid;		/* the bounce's own */
	const char	*to;		/* the failed message's sender */
	const char	*rcpt;
	const char	*orig_rcpt;
	const char	*envid;		/* RFC 3461 ENVID, or "" */
	const char	*orcpt;		/* RFC 3461 ORCPT, or "" */
	const char	*error;
	/*
	 * RFC 3464 2.3.5, 2.3.6: the host that answered ("" none) and
	 * the diagnostic's type ("smtp": diag is its reply) and text.
	 */
	const char	*remote_mta;
	const char	*diag_type;
	const char	*diag;
	int		 expired;
	int64_t		 will_retry_until;	/* Action: delayed */
	int64_t		 arrival;
	int64_t		 now;
	const char	*headers;	/* the failed message's headers */
	size_t		 headerslen;
	int		 full;		/* headers is the whole message */
};
/* The bounce's whole text (LF line ends).  Its length, or -1. */
int	queue_bounce_build(const struct bounce_info *, char *buf,
	    size_t buflen);
/* The RFC 3463 status for an error text: its own, or the default. */
void	queue_bounce_status(const char *error, int expired, char *dst,
	    size_t dstlen);
/* The header block at the start of a message, cut at a line end. */
size_t	queue_bounce_headers(const char *msg, size_t len, size_t max);
/* RFC 5322 3.3 date-time, in UTC.  -1 when it does not fit. */
int	queue_rfc5322_date(int64_t t, char *dst, size_t dstlen);

/* In-memory index: one qmsg per message directory, one qenv each rcpt. */
enum qenv_state {
	QENV_WAITING = 0,	/* in the schedule */
	QENV_IDLE,		/* being worked on, neither scheduled nor out */
	QENV_EXPANDING,		/* asked authd */
	QENV_DELIVERING,	/* given to the delivery agent */
	QENV_UPDATING,		/* a retry being written (queue_sync.c) */
	QENV_RELAYING,		/* in a batch given to the relay */
	QENV_HELD,		/* held or paused by sallyctl: not scheduled */
};

/* What a waiting envelope waits for, to be woken when it comes. */
enum qenv_wait {
	QWAIT_NONE = 0,
	QWAIT_AUTHD,
	QWAIT_RELAY,
};

enum qenv_kind {
	QENV_UNEXPANDED = 0,
	QENV_MAILBOX,
	QENV_REMOTE,
};

struct qmsg;

struct qenv {
	RB_ENTRY(qenv)		 id_entry;
	RB_ENTRY(qenv)		 sched_entry;
	TAILQ_ENTRY(qenv)	 msg_entry;
	RB_ENTRY(qenv)		 flight_entry;	/* by reqid, evpid */
	struct qmsg		*msg;
	/* A remote one's recipient domain, lower case; else NULL. */
	char			*domain;
	char			 evpid[QUEUE_EVPID_MAX_BYTES];
	int64_t			 next_try;
	enum qenv_state		 state;
	enum qenv_kind		 kind;
	uint32_t		 reqid;		/* of the request in flight */
	enum qenv_wait		 wait;		/* delayed: a peer was down */
	int			 lane;		/* its schedule (queue_sched.c) */
	/* On the disk at start (or expanded from such): maybe delivered. */
	int			 recovered;
	/* Its delivery is to be reported (RFC 3461 NOTIFY=SUCCESS). */
	int			 notify_success;
	/* The batch (reqid) whose result named it, checked once each. */
	uint32_t		 answered;
	/*
	 * sallyctl hold (also in the file, "held") and pause envelope
	 * (in memory only): either keeps it QENV_HELD, out of the
	 * schedule, with next_try kept for its return.
	 */
	int			 held;
	int			 paused;
};

/*
 * A final recipient of a message, taken by one of its envelopes
 * (queue_dedup.c): "mailbox:<user>" or "remote:<address>".
 */
struct qclaim {
	SLIST_ENTRY(qclaim)	 entry;
	char			 evpid[QUEUE_EVPID_MAX_BYTES];
	char			 key[];
};

struct qmsg {
	RB_ENTRY(qmsg)		 entry;
	char			 msgid[QUEUE_MSGID_MAX_BYTES];
	TAILQ_HEAD(, qenv)	 envs;
	uint32_t		 nenvs;
	uint32_t		 next_n;	/* next expansion's first n */
	int			 dirty;		/* an unlink not yet synced */
	TAILQ_ENTRY(qmsg)	 dirty_entry;
	SLIST_HEAD(, qclaim)	 claims;	/* its final recipients */
};

struct queue_stats {
	uint64_t	 received;	/* messages created */
	uint64_t	 committed;
	uint64_t	 commit_batches;
	uint64_t	 commit_usecs;	/* request to reply, all commits */
	uint64_t	 commit_usecs_max;
	uint64_t	 commit_failed;
	uint64_t	 aborted;
	uint64_t	 delivered;
	uint64_t	 tempfail;
	uint64_t	 permfail;
	uint64_t	 expired;
	uint64_t	 bounces;
	uint64_t	 removed;
	uint64_t	 expanded;
	uint64_t	 corrupt;
	uint64_t	 recovered;	/* envelopes found at start */
	uint64_t	 duplicates;	/* final recipients dropped as such */
	uint64_t	 dsn_success;	/* delivered, expanded reports sent */
	uint64_t	 dsn_delayed;	/* delay notices sent */
	uint64_t	 relayed;	/* envelopes the relay delivered */
	uint64_t	 relay_deferred;	/* its temporary failures */
	uint64_t	 relay_failed;	/* its permanent ones */
	uint64_t	 relay_batches;	/* RELAY_STARTs sent */
	uint64_t	 relay_requeued;	/* envelopes back: relay died */
};

RB_HEAD(qflight_tree, qenv);

/* A message being received over queue.sock (queue_commit.c). */
enum incoming_state {
	IN_OPEN = 0,		/* smtpd writes it */
	IN_CREATING,		/* its directory and file are being made */
	IN_FILES,		/* its files are being written and synced */
	IN_RENAMED,		/* in queue/, waits for queue/ to be synced */
};

/*
 * Work for a sync thread (queue_sync.c): run there, then done back in
 * the event loop.  run touches only what the job owns.
 */
struct qsync_job {
	TAILQ_ENTRY(qsync_job)	 entry;
	void			(*run)(struct qsync_job *);
	void			(*done)(struct qsync_job *);
	void			*arg;
	int			 error;		/* errno of run, 0 if none */
	const char		*step;		/* what failed, for the log */
};

struct qclient;

struct incoming {
	TAILQ_ENTRY(incoming)	 entry;		/* the client's */
	TAILQ_ENTRY(incoming)	 batch_entry;
	struct qclient		*client;	/* NULL: made here */
	uint32_t		 peerid;
	enum incoming_state	 state;
	char			 msgid[QUEUE_MSGID_MAX_BYTES];
	int			 rfd;		/* our descriptor */
	int			 wfd;		/* smtpd's, until it is sent */
	int			 created;	/* incoming/<msgid> is ours */
	unsigned int		 tries;		/* msgids drawn */
	off_t			 size;
	struct envelope		*envs;
	size_t			 nenvs;
	int			 failed;
	int			 renamed;
	int			 orphan;	/* its client went away */
	int			 aborted;	/* smtpd gave up waiting */
	int			 dirfd;		/* incoming/<msgid>, IN_FILES */
	struct qsync_job	 job;		/* the directory's fsync */
	struct qsync_job	*jobs;		/* the message's, each envelope's */
	size_t			 jobs_left;
	int64_t			 t_start;	/* usecs, monotonic: commit asked */
	int64_t			 t_renamed;
};

TAILQ_HEAD(incoming_list, incoming);

struct qclient {
	TAILQ_ENTRY(qclient)	 entry;
	struct ipc_conn		*conn;
	struct incoming_list	 msgs;
	unsigned int		 nmsgs;
	uint64_t		 sessions;	/* MSG_SMTP_STATS: accepted */
	uint32_t		 sessions_open;
};


/* The manager's state. */
struct qmgr {
	struct config		*conf;
	struct event_base	*base;
	int			 incoming_fd;	/* incoming/ */
	int			 queue_fd;	/* queue/ */
	int			 corrupt_fd;	/* corrupt/ */
	struct ipc_conn		*parent;
	struct ipc_conn		*delivery;
	struct ipc_conn		*relay;
	unsigned int		 relay_inflight;	/* batches out */
	struct ipc_conn		*authd;
	int			 authd_asked;	/* a connect request is out */
	int			 stopping;	/* SIGTERM: draining the threads */
	unsigned int		 authd_backoff;	/* seconds */
	struct event		*ev_authd;
	struct event		*ev_sched;
	uint32_t		 next_reqid;
	unsigned int		 inflight;	/* envelopes, relay's aside */
	struct qflight_tree	 flight;
	struct queue_stats	 stats;
	time_t			 started;
	/* sallyctl pause smtp|delivery|relay; not kept over a restart. */
	int			 paused_smtp;
	int			 paused_local;
	int			 paused_remote;
};

extern struct qmgr	 qm;

/* A dispatch table's entry: one per message type a peer may send. */
typedef void	(*qpeer_handler)(struct ipc_conn *, struct ipc_msg *);
struct qpeer_cmd {
	uint32_t	 type;
	qpeer_handler	 handler;
};

/* queue_manager.c */
/*
 * Runs the handler of m's type from a table of n; a type not in it
 * ends the connection (a peer that is not trusted to be exact).
 */
void	queue_dispatch_or_close(struct ipc_conn *, struct ipc_msg *,
	    const struct qpeer_cmd *, size_t n, const char *peer);
/* The authd connection, or NULL (a connection is then being made). */
struct ipc_conn	*queue_authd(void);
/* Seconds before a request that needs authd should be tried again. */
unsigned int	 queue_authd_delay(void);
/* Asks the parent for the processes' status, for control request id. */
int		 queue_parent_proc_query(uint32_t id);
/* A fresh request id, never 0. */
uint32_t	 queue_reqid(void);

/* queue_commit.c */
/* Commits a checked message; the client is answered when it is done. */
void	queue_commit_enqueue(struct incoming *);
/*
 * The client of a message went away.  A message being committed
 * finishes alone (1); one still open (0) is the caller's to free.
 */
int	queue_commit_detach(struct incoming *);
/* Asks for an fsync of queue/, with the next commit's or alone. */
void	queue_commit_sync_queue_dir(void);
/* Closes, optionally removes incoming/<msgid>, unlinks and frees. */
void	incoming_free(struct incoming *, int purge);
/*
 * A message made here (a bounce), committed whole, in a sync thread:
 * writes text and one envelope from tmpl into incoming/<msgid> (made by
 * queue_msgid_claim), then both phases of the commit.  Logs nothing:
 * NULL with errno and *step when it failed (incoming/<msgid> removed),
 * else the message for queue_commit_local_end().
 */
struct incoming	*queue_commit_local_run(const char *msgid, const char *text,
		    size_t len, const struct envelope *tmpl, const char **step);
/* In the loop: the committed message enters the index; logged, freed. */
void		 queue_commit_local_end(struct incoming *);

/* queue_sync.c */
/* Starts the threads; before the sandbox, which they share. */
void		 queue_sync_init(void);
/* Hands a job to a thread; its done function runs in the loop. */
void		 queue_sync_submit(struct qsync_job *);
/* Jobs submitted and not yet done. */
unsigned int	 queue_sync_pending(void);

/* queue_smtp.c */
void	queue_smtp_init(int listenfd);
/* Tells every smtpd connection the spool's status (queue_space.c). */
void	queue_smtp_space_changed(void);
/* SMTP sessions smtpd accepted since the manager started, and open. */
void	queue_smtp_sessions(uint64_t *accepted, uint64_t *open);

/* queue_space.c */
/* Looks at the spool's free space now and every QUEUE_SPACE_CHECK_SECS. */
void	queue_space_init(void);
/* Looks now: 1 when the spool has less than "limit queue-min-free". */
int	queue_space_low(void);
/* SPOOL_STATUS's payload: u32 flags (SPOOL_F_*), u64 free bytes. */
void	queue_space_put_status(struct ipc_out *);
/* MSG_PARENT_QUEUE_LIMITS from the parent, after a reload. */
void	queue_space_limits(struct ipc_conn *, struct ipc_msg *);

/* queue_store.c */
/* A random msgid the index does not hold (QUEUE_MSGID_MAX_BYTES). */
void	queue_msgid_draw(char *msgid);
/* Creates incoming/<msgid>/ unless the name is taken (EEXIST).  0/-1. */
int	queue_msgid_claim(const char *msgid);
/* Reads and parses the envelope file at path under dirfd.  0 or -1. */
int	queue_store_read(int dirfd, const char *path, struct envelope *,
	    const char **errstr);
/* Reads queue/<msgid>/<evpid>, checking the id inside.  0 or -1. */
int	queue_store_load(const char *msgid, const char *evpid,
	    struct envelope *, const char **errstr);
/* Writes several envelopes of one message durably, one dir fsync. */
int	queue_store_add(const struct envelope *, size_t n);
/* Writes a new envelope file into an open directory and fsyncs it. */
int	queue_store_write_new(int dirfd, const struct envelope *);
/* Removes an envelope durably. */
int	queue_store_remove(const char *msgid, const char *evpid);
/* Unlinks an envelope; the caller syncs its directory later. */
int	queue_store_unlink(const char *msgid, const char *evpid);
/* Removes a message directory; the caller syncs queue/ later. */
int	queue_store_msg_remove(const char *msgid);
/* Removes a directory under dirfd and every file in it. */
int	queue_store_purge(int dirfd, const char *name);
/* Moves queue/<msgid> to corrupt/.  0 or -1. */
int	queue_store_corrupt(const char *msgid);
/* The message file, read-only, or -1. */
int	queue_store_open_message(const char *msgid);
int	queue_store_fsync_dir(int fd);

/* queue_recover.c */
/* Empties incoming/, reads queue/ and fills the index.  fatal on I/O. */
void	queue_recover(void);

/* queue_sched.c */
void		 queue_sched_init(void);
struct qmsg	*queue_msg_find(const char *msgid);
struct qmsg	*queue_msg_add(const char *msgid);
struct qenv	*queue_env_find(const char *evpid);
/* Drops a message without envelopes from the index. */
void		 queue_msg_forget(struct qmsg *);
/* Adds an envelope of msg to the index and the schedule. */
struct qenv	*queue_env_add(struct qmsg *, const struct envelope *);
/* A remote envelope's rcpt: its domain, for batches. */
void		 queue_sched_set_domain(struct qenv *, const char *rcpt);
/* Drops an envelope from the index; its message stays. */
void		 queue_env_forget(struct qenv *);
/* Puts an envelope (back) into the schedule, due at when. */
void		 queue_sched_insert(struct qenv *, int64_t when);
/* Takes an envelope out of the schedule. */
void		 queue_sched_remove(struct qenv *);
/* A peer is back: what waited for it is due now. */
void		 queue_sched_wake(enum qenv_wait);
/* Runs the scheduler from the event loop, soon. */
void		 queue_sched_kick(void);
/* The first envelope of the index (by evpid) after evpid, or NULL. */
struct qenv	*queue_env_next(const char *evpid);
/* Counts of what the index holds. */
uint64_t	 queue_env_count(void);
uint64_t	 queue_msg_count(void);
/* Calls fn for every envelope matching id (msgid, evpid or "all"). */
int		 queue_env_foreach(const char *id,
		    void (*fn)(struct qenv *, void *), void *arg);

/* queue_deliver.c */
/* Works on one due envelope, taken out of the schedule (QENV_IDLE). */
void	queue_deliver_process(struct qenv *);
/* Hands an expanded envelope to the delivery agent. */
void	queue_deliver_start(struct qenv *, struct envelope *);
void	queue_deliver_result(struct ipc_conn *, struct ipc_msg *);
/* Writes e back durably (changed), then schedules it, due after delay. */
void	queue_env_rewrite(struct qenv *, struct envelope *,
	    unsigned int delay);
/* A temporary failure: retry later, durably; a delay notice if owed. */
void	queue_fail_temp(struct qenv *, struct envelope *, const char *error);
/* A permanent failure or an expiry: bounce, then remove. */
void	queue_fail_perm(struct qenv *, struct envelope *, const char *error,
	    int expired);

/* queue_bounce_send.c */
/* What a report is about: the envelope, what was done, and why. */
struct dsn_report {
	enum dsn_action		 action;
	const struct envelope	*e;
	const char		*msgid;		/* the report's own, drawn */
	const char		*error;		/* "" for a success */
	int			 expired;
};
/*
 * In a sync thread: makes the report r (claims its msgid, reads the
 * message's headers, commits it as queue_commit_local_run does).  The
 * message for queue_commit_local_end(), or NULL with errno and *step.
 * *noheaders is set when the message could not be read.
 */
struct incoming	*queue_dsn_make(const struct dsn_report *r,
		    const char **step, int *noheaders);
/*
 * Sends the bounce of e (error already cleaned) from a sync thread; the
 * envelope is in flight meanwhile and removed once the bounce is
 * committed, retried later if it could not be.
 */
void	queue_bounce_start(struct qenv *, const struct envelope *e,
	    const char *error, int expired);

/* queue_dsn_success.c */
/*
 * Reports the success of q (action: DSN_ACTION_DELIVERED, or RELAYED)
 * to its sender, then removes q; q is in flight meanwhile.
 */
void	queue_dsn_success(struct qenv *q, enum dsn_action action);

/* queue_remove.c */
/* Drops an envelope from the index and its file from the disk, later. */
void	queue_env_remove(struct qenv *);
/* Drops an envelope from the index; its message, on disk too, if last. */
void	queue_env_drop(struct qenv *);

/* queue_flight.c: requests out, indexed by (reqid, evpid). */
void	queue_flight_init(void);
/* A request to a peer is out for the envelope, under a fresh reqid. */
void	queue_flight_add(struct qenv *, enum qenv_state);
/* The same, under reqid: one request for several envelopes (a batch). */
void	queue_flight_add_id(struct qenv *, enum qenv_state, uint32_t reqid);
/*
 * q in flight (QENV_UPDATING) while job runs in a sync thread, run
 * there and done back in the loop; the request id done finds q by.
 */
uint32_t queue_flight_job(struct qenv *q, struct qsync_job *job,
	    void (*run)(struct qsync_job *), void (*done)(struct qsync_job *),
	    void *arg);
/* The (first) envelope of the request reqid in state, or NULL. */
struct qenv *queue_flight_find(uint32_t reqid, enum qenv_state);
/* The envelope evpid of the request reqid, or NULL. */
struct qenv *queue_flight_lookup(uint32_t reqid, const char *evpid);
/* The next envelope of q's request, or NULL. */
struct qenv *queue_flight_next(struct qenv *q);
/* The answer came: the envelope is QENV_IDLE again. */
void	queue_flight_end(struct qenv *);
/*
 * Every request to a peer that went away goes back to the schedule,
 * due after delay; why is logged.
 */
void	queue_flight_requeue(enum qenv_state, unsigned int delay,
	    const char *why);

/* queue_dedup.c: no I/O. */
/* "mailbox:" or "remote:" and the target, at most this long. */
#define QUEUE_DEDUP_KEY_MAX_BYTES	(SMTP_PATH_MAX_BYTES + 16)
/*
 * The key of a final recipient: a mailbox (user name) or a remote
 * address, its domain in lower case.  -1 when it does not fit.
 */
int	queue_dedup_key(char *dst, size_t dstlen, int remote,
	    const char *value);
/* The envelope of m other than evpid that took key, or NULL. */
const char *queue_dedup_owner(struct qmsg *m, const char *key,
	    const char *evpid);
/*
 * evpid takes key in m: NULL when it may deliver there (it took key now
 * or had it), else the envelope that has it, which evpid duplicates.
 */
const char *queue_dedup_claim(struct qmsg *m, const char *key,
	    const char *evpid);
/* Frees what evpid took in m: it is expanded into others. */
void	queue_dedup_release(struct qmsg *m, const char *evpid);
/* Forgets m's final recipients, before m is freed. */
void	queue_dedup_free(struct qmsg *m);

/* queue_expand.c */
void	queue_expand_start(struct qenv *, struct envelope *);
void	queue_expand_result(struct ipc_conn *, struct ipc_msg *);

/* queue_relay.c */
/* The relay's end of a new pair, from the parent. */
void	queue_relay_connected(int fd);
/* A due remote envelope (loaded as e): sent with its batch, or waits. */
void	queue_relay_start(struct qenv *, struct envelope *);
/* 1 when a due remote envelope cannot be started now (sched). */
int	queue_relay_full(void);
/* A request for sallyctl (MSG_QUEUE_RELAY_HOSTS or _STATS).  0/-1. */
int	queue_relay_ask(uint32_t type, uint32_t id);

/* queue_relay_text.c: no I/O. */
/* A candidate for a batch: an envelope of the same message. */
struct qbatch_cand {
	const char	*domain;	/* lower case; NULL: not remote */
	int		 due;		/* waiting and due */
};
/*
 * The candidates that go with the first (c[0], taken): the due ones
 * for the same domain, up to max in all, c[0] included.  Writes their
 * indexes into idx (0 first) and returns how many.
 */
size_t	queue_relay_batch_pick(const struct qbatch_cand *c, size_t n,
	    size_t max, size_t *idx);
/* The domain of rcpt in lower case into dst ("" none).  0, or -1. */
int	queue_relay_domain(const char *rcpt, char *dst, size_t dstlen);
/*
 * The one-line last error of a relay result: "<status> <remote_mta>
 * said: <diag>" when a host answered, else "<status> <diag>", control
 * characters made '?', cut to dstlen.
 */
void	queue_relay_error(char *dst, size_t dstlen, const char *status,
	    const char *remote_mta, const char *diag);
/*
 * Reads such an error back: the host's name into mta (its "[address]:port"
 * cut) and the reply into diag (1), or 0 when error is not a remote
 * host's answer.
 */
int	queue_relay_error_split(const char *error, char *mta, size_t mtalen,
	    char *diag, size_t diaglen);

/* queue_control.c */
void	queue_control_init(int listenfd);
void	queue_control_proc_status(struct ipc_msg *);
/* queue_control_stats.c */
/* The relay's answers to a sallyctl request (RELAY_HOST, ...). */
void	queue_control_relay_reply(struct ipc_conn *, struct ipc_msg *);
/* The relay went away: the requests waiting for it end. */
void	queue_control_relay_down(void);

#endif
