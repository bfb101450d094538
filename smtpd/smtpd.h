/*
 * smtpd: what its files share.  Processes:
 *
 *   parent	root, no chroot: smtpd.c.  Binds the listeners, writes the
 *		pidfile, forks and restarts the engine, connects it to
 *		authd and queued on request; smtpd_reload.c reads the
 *		configuration again on SIGHUP and passes it on;
 *		smtpd_local.c accepts local submission on submit.sock
 *		and hands each connection to the engine with its uid.
 *   engine	user smtp, chroot emptydir, seccomp SANDBOX_ENGINE:
 *		smtp_engine.c (set-up, accept, the parent channel),
 *		smtp_conf.c (the configuration each session uses),
 *		smtp_peer.c (authd and queued), smtp_session.c (one
 *		client), smtp_cmd.c (the commands), smtp_data.c (the
 *		message), smtp_reply.c (every reply), smtp_parse.c (pure
 *		parsing), smtp_local.c (local submission's sessions).
 */
#ifndef SMTPD_SMTPD_H
#define SMTPD_SMTPD_H

#include <sys/types.h>
#include <sys/param.h>	/* PATH_MAX: <limits.h> is common/limits.h here */
#include <sys/queue.h>
#include <sys/tree.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <stdint.h>
#include <event2/event.h>

#include "config.h"
#include "ipc.h"
#include "sasl.h"
#include "sp_limits.h"
#include "smtp_parse.h"

/* Message data goes to the queue's file through a buffer this big. */
#define SMTP_WBUF_BYTES		(16 * 1024)
/*
 * lineio's bound during DATA: the bytes before the LF of a line at the
 * largest "limit line-length" (CR included, LF not).  Lines past the
 * limit in force are refused by smtp_data_scan_line(); one past the
 * bound, too, after lineio cut it and dropped the rest up to its LF, so
 * that the end of the data is still found.  It must stay below lineio's
 * input bound (64 KiB), past which lineio stops reading: a line as long
 * as that with no LF yet would then wait for more input forever.
 */
#define SMTP_DATA_LINE_BOUND_BYTES	(SMTP_LINE_LIMIT_MAX_BYTES - 1)
/* queued's msgids are 16 hex digits; anything longer is refused. */
#define SMTP_MSGID_MAX_BYTES	64
/* RFC 5321 4.5.3.1.5: a reply line, CRLF included. */
#define SMTP_REPLY_MAX_BYTES	512
/* Accepting pauses this long when descriptors run out. */
#define SMTP_ACCEPT_PAUSE_SECS	1
/* Accepts per wake-up of a listener. */
#define SMTP_ACCEPT_BATCH	16

/* Listener flags, kept in each session for the extensions to come. */
#define SMTP_LF_SUBMISSION	0x01	/* port 587 (RFC 6409) */
#define SMTP_LF_SMTPS		0x02	/* implicit TLS (RFC 8314) */
#define SMTP_LF_LOCAL		0x04	/* submit.sock (smtp_local.c) */

/* A local client, as the parent learned it (MSG_PARENT_LOCAL_CLIENT). */
struct smtp_local {
	uid_t			 uid;		/* SO_PEERCRED */
	char			 login[SENDMAIL_LOGIN_MAX_BYTES]; /* "": none */
};

struct smtp_listener {
	int			 fd;
	enum listen_proto	 proto;
	int			 flags;		/* SMTP_LF_* */
	char			 addr[64];
	uint16_t		 port;
	struct event		*ev;
};

/*
 * One per process.  In the engine, conf and tls go to smtp_conf.c at
 * start and are NULL after: sessions use their smtp_conf.
 */
struct smtpd {
	const char		*conf_file;	/* parent only: for reloads */
	struct config		*conf;
	struct event_base	*base;
	uid_t			 uid;		/* user smtp */
	gid_t			 gid;
	struct smtp_listener	 listeners[CONFIG_LISTENERS_MAX];
	size_t			 nlisteners;
	struct pidfh		*pidfh;		/* parent only */
	struct proc		*engine;	/* parent only */
	/* From the pki statements; NULL without one. */
	struct tls		*tls;
	struct ipc_conn		*engine_conn;	/* parent only */
	/* Parent only: reloads sent, not yet answered CONF_APPLIED. */
	unsigned int		 reloads_pending;
	/* Parent only: submit.sock (smtpd_local.c). */
	int			 local_fd;
	struct event		*local_ev;
	char			 local_path[PATH_MAX];
};

/*
 * The engine's configuration and TLS context as of one start or reload.
 * A session takes the one in force when it is accepted and keeps it to
 * its end; one no longer in force is freed with its last session.
 */
struct smtp_conf {
	struct config		*conf;
	struct tls		*tls;		/* NULL without a pki */
	unsigned int		 refs;		/* sessions; +1 in force */
	unsigned int		 generation;	/* 1 at start */
};

/* Session states, as bits so that the command table can list several. */
enum smtp_state {
	S_INIT = 0x01,		/* before HELO/EHLO */
	S_HELO = 0x02,		/* greeted, no transaction */
	S_MAIL = 0x04,		/* MAIL accepted */
	S_RCPT = 0x08,		/* at least one RCPT accepted */
	S_DATA = 0x10,		/* reading message data: no commands */
};
#define S_CMD		(S_INIT | S_HELO | S_MAIL | S_RCPT)

/* What a session waits for from authd or queued. */
enum smtp_wait {
	WAIT_NONE = 0,
	WAIT_RCPT,		/* MSG_AUTH_RCPT_RESULT */
	WAIT_CREATE,		/* MSG_QUEUE_MESSAGE_CREATED */
	WAIT_COMMIT,		/* MSG_QUEUE_MESSAGE_COMMITTED */
	WAIT_AUTH,		/* MSG_AUTH_PASSWORD_RESULT */
};

struct smtp_rcpt {
	TAILQ_ENTRY(smtp_rcpt)	 entry;
	char			 addr[SMTP_PATH_MAX_BYTES];
	uint32_t		 notify;	/* DSN_NOTIFY_*, RFC 3461 */
	char			 orcpt[DSN_ORCPT_MAX_BYTES + 1];
};

struct smtp_session {
	TAILQ_ENTRY(smtp_session) entry;
	RB_ENTRY(smtp_session)	 wait_entry;
	uint32_t		 id;
	struct smtpd		*env;
	/* Its configuration (smtp_conf.c), shortcuts to its parts. */
	struct smtp_conf	*conf_ref;
	const struct config	*conf;
	struct tls		*tls;		/* NULL: no TLS */
	enum listen_proto	 proto;
	int			 lflags;	/* SMTP_LF_* */
	struct lineio		*io;
	struct event		*ev_timer;	/* idle, or peer wait */
	char			 client[INET6_ADDRSTRLEN];
	int			 client_v6;
	uint16_t		 client_port;
	enum smtp_state		 state;
	int			 closing;
	unsigned int		 errors;
	unsigned int		 nmessages;
	int			 esmtp;
	char			 helo[SMTP_HELO_MAX_BYTES + 1];
	char			 verb[SMTP_VERB_MAX_BYTES + 1];
	int			 greeted;	/* 220 sent */
	int			 raw;		/* reading a BDAT chunk */
	/* From the addresses at accept: "relay from", loopback ends. */
	int			 relay_client;
	int			 loopback;
	/* The address the client connected to (smtp_literal.c). */
	struct sockaddr_storage	 local;
	/* On submit.sock (SMTP_LF_LOCAL): who the caller is. */
	struct smtp_local	 caller;

	/* AUTH (RFC 4954): the user once authenticated, else pending. */
	struct sasl		 sasl;		/* the exchange under way */
	int			 authenticated;
	char			 auth_user[AUTH_USER_MAX_BYTES];

	/* The mail transaction (RFC 5321 3.3). */
	char			 sender[SMTP_PATH_MAX_BYTES]; /* "": <> */
	int			 smtputf8;	/* MAIL had SMTPUTF8 */
	uint32_t		 dsn_ret;	/* enum dsn_ret */
	char			 dsn_envid[DSN_ENVID_MAX_BYTES + 1];
	TAILQ_HEAD(, smtp_rcpt)	 rcpts;
	unsigned int		 nrcpts;
	size_t			 rcpts_bytes;	/* in the COMMIT */
	/* The RCPT being checked with authd. */
	struct smtp_rcpt	 rcpt_pending;

	/* The message being received. */
	char			 msgid[SMTP_MSGID_MAX_BYTES + 1];
	int			 msgfd;
	int			 msg_committing;	/* COMMIT sent */
	int			 msg_abort_sent;	/* ...then ABORT */
	int			 msg_lost;	/* queued went away */
	int			 msg_ioerror;
	int			 msg_oversize;
	uint64_t		 msgsize;
	char			*wbuf;
	size_t			 wlen;
	struct smtp_data_scan	 scan;
	/* Submission (RFC 6409 8): what the header section holds. */
	int			 hdr_done;	/* its end was seen */
	int			 hdr_date;	/* a Date: field */
	int			 hdr_msgid;	/* a Message-ID: field */
	int			 hdr_from;	/* a From: field (local) */

	/* BDAT (RFC 3030): the chunks of this transaction, the one read. */
	int			 bdat;		/* chunks came: no DATA now */
	int			 bdat_last;	/* this chunk is the last */
	uint64_t		 bdat_size;	/* this chunk's octets */
	const char		*bdat_error;	/* chunk discarded: reply this */
	const char		*bdat_why;	/* ...as an error; NULL: not */
	struct smtp_bdat_lines	*bdat_lines;

	/* A request out to authd or queued. */
	enum smtp_wait		 wait;
	uint32_t		 wait_id;
	int			 wait_service;	/* PEER_* */
};

/* smtp_engine.c */
/*
 * The role smtp-engine (daemon.h): descriptors the channel to the
 * parent, the listeners' description, the listeners.  Drops its
 * privileges and serves.  Never returns.
 */
struct daemon_ctx;
void	smtp_engine_main(struct daemon_ctx *);
/* Starts accepting clients (once; at start, when the peers are there). */
void	smtp_engine_ready(void);

/* smtp_conf.c */
/* Start-up: the configuration and TLS context the engine was forked with. */
void	smtp_conf_init(struct config *, struct tls *);
/* The configuration in force, for checks made before a session exists. */
const struct config *smtp_conf_current(void);
/* Gives a new session the configuration in force (conf_ref, conf, tls). */
void	smtp_conf_hold(struct smtp_session *);
/* Drops a session's hold; NULL is a no-op. */
void	smtp_conf_drop(struct smtp_conf *);
/*
 * MSG_PARENT_CONF_DATA and MSG_PARENT_CONF_COMMIT: 0 when taken, 1 when
 * a COMMIT put a new configuration in force, -1 when the message is
 * malformed or out of order (the engine then exits: fail closed).
 */
int	smtp_conf_recv(struct ipc_msg *);

/* smtpd_reload.c (parent) */
/* SIGHUP: reads the configuration again and passes it to the engine. */
void	smtpd_reload(struct smtpd *);
/* The engine's MSG_CHILD_CONF_APPLIED; -1 when malformed or unasked. */
int	smtpd_reload_applied(struct smtpd *, struct ipc_msg *);
/* A new engine was forked: it started with every reload so far. */
void	smtpd_reload_engine_started(struct smtpd *);

/* smtp_peer.c */
/* Starts asking the parent for connections to authd and queued. */
void	smtp_peer_init(struct event_base *, struct ipc_conn *parent);
/* Handles MSG_PARENT_CONNECT_REPLY; -1 when it is malformed. */
int	smtp_peer_connect_reply(struct ipc_msg *);
/* 1 when authd and queued are both connected. */
int	smtp_peer_all_connected(void);
/* A message builder for one request; valid until the next call. */
struct ipc_out	*smtp_peer_out(uint32_t type);
/* Sends to a peer (PEER_*); -1 when it is not connected. */
int	smtp_peer_send(int service, struct ipc_out *);
/* 1 while queued says its spool is below "limit queue-min-free". */
int	smtp_peer_spool_low(void);
/* The engine tells queued its session counts this often. */
#define SMTP_STATS_SECS		1
/* 1 while queued says sallyctl paused smtp: 421 4.3.2 to new mail. */
int	smtp_peer_paused(void);

/* smtpd_local.c (parent) */
/* Creates <rundir>/submit.sock, mode 0666; fatal when it cannot. */
void	smtpd_local_listen(struct smtpd *);
/* Accepts on it from now on (the event base exists). */
void	smtpd_local_start(struct smtpd *);
/* At exit: removes the socket. */
void	smtpd_local_close(struct smtpd *);

/* smtp_local.c (engine) */
/* MSG_PARENT_LOCAL_CLIENT: starts its session; -1 when malformed. */
int	smtp_local_client(struct smtpd *, struct ipc_msg *);
/* The session's start: 0, or -1 after refusing the caller. */
int	smtp_local_greet(struct smtp_session *);
/* MAIL: the sender a local caller gets (forced unless trusted). */
void	smtp_local_sender(struct smtp_session *);
/* Its Received field, into buf: the length, or -1 when it does not fit. */
int	smtp_local_received(struct smtp_session *, char *buf, size_t len,
	    const char *forclause, const char *date);
/* The From field a local message lacks, into buf: as above. */
int	smtp_local_from(struct smtp_session *, char *buf, size_t len);

/* smtp_session.c */
/* Sessions accepted since the engine started, and open now. */
void	smtp_session_counts(uint64_t *accepted, uint32_t *open);
/*
 * A new client: on a TCP listener (ss its address, caller NULL) or on
 * submit.sock (ss NULL, caller who it is).
 */
void	smtp_session_accept(struct smtpd *, struct smtp_listener *, int fd,
	    const struct sockaddr_storage *, const struct smtp_local *caller);
/* Flushes replies, then closes; logs the disconnect once. */
void	smtp_session_close(struct smtp_session *, const char *reason);
void	smtp_session_set_state(struct smtp_session *, enum smtp_state);
/* Ends the mail transaction: back to S_HELO (or S_INIT). */
void	smtp_session_reset(struct smtp_session *);
/*
 * Sends a request (its peerid is set here), pauses the client's input
 * and starts the peer timeout.  -1 when the peer is not connected.
 */
int	smtp_session_request(struct smtp_session *, enum smtp_wait,
	    int service, struct ipc_out *);
/*
 * The session waiting for a reply with this peerid, of this kind (and
 * this msgid, unless NULL): no longer waiting once returned.  NULL for
 * stale replies.  Call smtp_session_resume() after answering.
 */
struct smtp_session *smtp_session_take(uint32_t id, enum smtp_wait,
	    const char *msgid);
/* Reads the client's input again. */
void	smtp_session_resume(struct smtp_session *);
/* A peer went away: everything waiting on it is answered 451. */
void	smtp_session_peer_lost(int service);

/* The next n octets of input go to smtp_bdat_data(); n > 0. */
void	smtp_session_read_raw(struct smtp_session *, uint64_t n);

/* Resets the session after a TLS handshake: EHLO is needed again. */
void	smtp_session_tls_done(struct smtp_session *);

/* smtp_bdat.c */
/* BDAT size [LAST] (RFC 3030): in any state, so that the chunk is read. */
void	smtp_bdat_cmd(struct smtp_session *, const char *arg);
/*
 * After a command line was refused unparsed: if it was a BDAT, the end
 * of its chunk is unknown and the session is closed.
 */
void	smtp_bdat_line_refused(struct smtp_session *, const char *line,
	    size_t len);
/* The message file came (WAIT_CREATE): reads the chunk into it. */
void	smtp_bdat_start(struct smtp_session *);
/* No message file: the chunk is read and dropped, the transaction ends. */
void	smtp_bdat_create_fail(struct smtp_session *);
/* Octets of the chunk, from lineio; left is 0 at its end. */
void	smtp_bdat_data(struct smtp_session *, const char *data, size_t len,
	    size_t left);

/* smtp_auth.c */
/* AUTH mechanism [initial-response]. */
void	smtp_auth_cmd(struct smtp_session *, const char *arg);
/* A line answering our 334, while auth_step is set. */
void	smtp_auth_line(struct smtp_session *, const char *line, size_t len,
	    int lflags);
void	smtp_auth_result(struct smtp_session *, uint32_t result);
/* authd is down or did not answer: 454. */
void	smtp_auth_fail(struct smtp_session *);
/*
 * 1 when AUTH may be offered and used on this session: TLS is on, or
 * both ends are loopback with "auth plaintext-on-loopback".
 */
int	smtp_auth_allowed(struct smtp_session *);

/* smtp_cmd.c */
/* One command line: checks, counts errors, runs the handler. */
void	smtp_dispatch(struct smtp_session *, const char *line, size_t len,
	    int lflags);
void	smtp_cmd_rcpt_result(struct smtp_session *, uint32_t status);
void	smtp_cmd_rcpt_fail(struct smtp_session *);

/* smtp_literal.c */
enum smtp_literal {
	SMTP_LITERAL_NONE,	/* not a literal of this host: as it is */
	SMTP_LITERAL_LOCAL,	/* rewritten to the first local domain */
	SMTP_LITERAL_REFUSED,	/* not postmaster, "local-users no" */
	SMTP_LITERAL_TOOLONG,
};
/*
 * A recipient at an address literal of this host (RFC 5321 4.1.3):
 * written into dst as the local address authd resolves, or, refused,
 * as it was given.
 */
enum smtp_literal smtp_literal_rcpt(const struct smtp_session *,
	    const struct smtp_path *, char *dst, size_t dstlen);
/* The domain of <Postmaster> and of literals: the first local one. */
const char	*smtp_literal_domain(const struct config *);

/* smtp_data.c */
/* Asks queued for a message file; answers 354 once it comes. */
void	smtp_data_begin(struct smtp_session *);
void	smtp_data_created(struct smtp_session *, uint32_t result,
	    const char *msgid, int fd);
void	smtp_data_create_fail(struct smtp_session *);
void	smtp_data_line(struct smtp_session *, const char *line, size_t len,
	    int lflags);
void	smtp_data_committed(struct smtp_session *, uint32_t result,
	    const char *error);
/*
 * The commit's answer did not come (timeout, queued lost, COMMIT not
 * sent): 451 when queued cannot have it, else the close without reply.
 */
void	smtp_data_commit_fail(struct smtp_session *);
/* Seconds to wait for the commit's answer, now. */
unsigned int smtp_data_commit_secs(const struct smtp_session *);
/*
 * The wait for the commit ran out: 0 when queued was asked to drop the
 * message and its answer is to be waited for, -1 when that was done.
 */
int	smtp_data_commit_late(struct smtp_session *);
/* The end of the message: the refusal, or the commit to queued. */
void	smtp_data_end(struct smtp_session *);
/* Drops the message being received, telling queued unless committing. */
void	smtp_data_abort(struct smtp_session *);
/* Submission: notes Date and Message-ID; adds them at the header end. */
void	smtp_data_header_line(struct smtp_session *, const char *text,
	    size_t len);
/* 1 when s is a msgid as queued makes them. */
int	smtp_msgid_valid(const char *s);

/* smtp_reply.c */
/* One reply line; the CRLF is added. */
void	smtp_reply(struct smtp_session *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/*
 * A protocol error: the reply, one log line, and a count toward the
 * error limit, past which the session ends with 421 4.7.0.
 */
void	smtp_error(struct smtp_session *, const char *why,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* 451 4.3.0: a peer we need is not there, or did not answer. */
void	smtp_reply_tempfail(struct smtp_session *, const char *what);
/* 421 with the hostname, then close. */
void	smtp_reply_close(struct smtp_session *, const char *enh,
	    const char *text, const char *reason);

#endif
