/*
 * Everything that crosses a process boundary: the roles, the message
 * types and the layout of each payload.  Payloads are built and read
 * only with the ipc_put_* / ipc_get_* helpers of ipc.h; "str" is a
 * u32 length followed by that many bytes (no NUL), "bytes" the same
 * for any bytes and any length that fits, "data[N]" is N raw bytes,
 * "fd" means the message carries one descriptor (SCM_RIGHTS).
 *
 * Bump PROTO_VERSION whenever this file changes a type or a layout: a
 * peer speaking another version is refused at connect.
 */
#ifndef SALLYPORT_PROTO_H
#define SALLYPORT_PROTO_H

#define PROTO_VERSION	12

/* Who is speaking; sent in MSG_HELLO and checked by the listener. */
enum proc_role {
	ROLE_NONE = 0,
	ROLE_AUTHD,
	ROLE_SMTPD,		/* smtpd engine (or its parent on its behalf) */
	ROLE_QUEUED,		/* queue manager */
	ROLE_DELIVERY,		/* delivery agent */
	ROLE_RELAY,
	ROLE_POP3D,		/* pop3d login engine or parent */
	ROLE_IMAPD,
	ROLE_CTL,		/* sallyctl */
	ROLE_SENDMAIL,
	ROLE_PARENT,		/* a privileged parent talking to its child */
	ROLE_RELAY_STS,		/* the relay's MTA-STS policy fetcher */
	ROLE_MAX
};
#define ROLE_BIT(r)	(1U << (r))

/*
 * Local submission's socket in the run directory: smtpd's parent
 * listens, sallyctl's sendmail connects (SOCK_STREAM, SMTP, unframed).
 */
#define SUBMIT_SOCKET	"submit.sock"

/* The sockets a parent connects to on behalf of its chrooted child. */
enum peer_service {
	PEER_AUTHD = 1,		/* <rundir>/authd.sock */
	PEER_QUEUE,		/* <rundir>/queue.sock */
};

/* Generic outcome codes used by several replies. */
enum result_code {
	RESULT_OK = 0,
	RESULT_TEMPFAIL,	/* try again later: 4xx */
	RESULT_PERMFAIL,	/* will never work: 5xx */
	RESULT_THROTTLED,	/* PASSWORD_RESULT: too many failures from
				   this client, not checked */
};

enum msg_type {
	MSG_NONE = 0,

	/* First message on every connection, both ways: u32 version, u32 role. */
	MSG_HELLO,

	/*
	 * Child to its privileged parent: u32 peer_service.
	 * Reply MSG_PARENT_CONNECT_REPLY: u32 peer_service, u32 result; fd
	 * (a connected socket) when result is RESULT_OK.
	 */
	MSG_CHILD_CONNECT_REQUEST,
	MSG_PARENT_CONNECT_REPLY,

	/*
	 * authd.  Every request carries a caller-chosen peerid that the
	 * reply echoes.
	 *
	 * PASSWORD_CHECK: str user, str password, str service, str client,
	 *   u32 flags (AUTH_F_TOKEN).
	 * Reply PASSWORD_RESULT: u32 result; data[AUTH_TOKEN_BYTES] token
	 *   when result is RESULT_OK and AUTH_F_TOKEN was asked.  client is
	 *   the numeric address failures are counted by (AUTH_FAILURES_MAX):
	 *   RESULT_THROTTLED past them, RESULT_PERMFAIL for a bad password.
	 */
	MSG_AUTH_PASSWORD_CHECK,
	MSG_AUTH_PASSWORD_RESULT,
	/*
	 * TOKEN_REDEEM: data[AUTH_TOKEN_BYTES].  A token is good once, for
	 *   AUTH_TOKEN_TTL_SECS.
	 * USER_LOOKUP: str user.
	 * Reply to both, USER_RESULT: u32 result, str user, u32 uid, u32 gid,
	 *   str home (the mail home; the Maildir is <home>/Maildir), u64
	 *   quota (bytes, 0: none; the users table's quota=SIZE).
	 */
	MSG_AUTH_TOKEN_REDEEM,
	MSG_AUTH_USER_LOOKUP,
	MSG_AUTH_USER_RESULT,
	/*
	 * RCPT_CHECK: str address (already syntax-checked, no brackets).
	 * Reply RCPT_RESULT: u32 rcpt_status.
	 */
	MSG_AUTH_RCPT_CHECK,
	MSG_AUTH_RCPT_RESULT,
	/*
	 * RCPT_EXPAND: str address.
	 * Reply EXPAND_RESULT: u32 result, u32 count, then count times
	 *   { u32 target_kind, str value } where value is a local user name
	 *   (TARGET_MAILBOX) or a mail address (TARGET_REMOTE).
	 */
	MSG_AUTH_RCPT_EXPAND,
	MSG_AUTH_EXPAND_RESULT,

	/*
	 * smtpd engine to queue manager; peerid is the session id.
	 * MESSAGE_CREATE: empty.
	 * Reply MESSAGE_CREATED: u32 result, str msgid; fd (the message
	 *   file, open for writing) when result is RESULT_OK.
	 * MESSAGE_COMMIT: str msgid, str sender ("" for <>), str helo,
	 *   str client, u32 flags (COMMIT_F_*), u32 ret (enum dsn_ret),
	 *   str envid (RFC 3461 ENVID decoded, "" when none), u32 nrcpt,
	 *   nrcpt times { str rcpt, u32 notify (DSN_NOTIFY_*, 0 when not
	 *   given), str orcpt ("addr-type;address" decoded, or "") }.  The
	 *   engine has written the whole message, Received header
	 *   included, with LF line ends, and closed its descriptor.
	 * Reply MESSAGE_COMMITTED: u32 result, str msgid, str error.
	 *   RESULT_OK only once the message and its envelopes are on disk
	 *   and fsynced.
	 * MESSAGE_ABORT: str msgid.  No reply, unless the COMMIT of that
	 *   msgid came before it and is not yet answered: then queued drops
	 *   the message unless it is already renamed into queue/, and the
	 *   COMMITTED that follows says which (RESULT_TEMPFAIL: dropped).
	 */
	MSG_SMTP_MESSAGE_CREATE,
	MSG_QUEUE_MESSAGE_CREATED,
	MSG_SMTP_MESSAGE_COMMIT,
	MSG_QUEUE_MESSAGE_COMMITTED,
	MSG_SMTP_MESSAGE_ABORT,

	/*
	 * Queue manager to delivery agent; peerid is chosen by the manager.
	 * DELIVERY_START: str evpid, str user, str sender, str rcpt,
	 *   u32 flags (DELIVERY_F_*); fd (the message, read-only,
	 *   positioned at 0).
	 * Reply DELIVERY_RESULT: str evpid, u32 result, str error.
	 */
	MSG_QUEUE_DELIVERY_START,
	MSG_DELIVERY_RESULT,

	/*
	 * pop3d login engine to its parent: data[AUTH_TOKEN_BYTES] token,
	 *   str user, str client; fd (the client connection).  No reply: the
	 *   parent redeems the token with authd and forks the mailbox
	 *   process, which sends the answer to PASS.
	 */
	MSG_POP3_LOGIN_HANDOFF,

	/*
	 * imapd login engine to its parent: data[AUTH_TOKEN_BYTES] token,
	 *   str user, str client, str tag (of the LOGIN or AUTHENTICATE);
	 *   fd (the client, or the engine's relay of it).  No reply: the
	 *   parent redeems the token and execs the mailbox process, which
	 *   answers the tag.
	 */
	MSG_IMAP_LOGIN_HANDOFF,

	/*
	 * sallyctl to queue manager (control.sock, root only).
	 * CTL_QUEUE_LIST: empty.  Replies: CTL_QUEUE_ENTRY for each
	 *   envelope (str evpid, str sender, str rcpt, u64 created,
	 *   u32 retries, u64 next_try, str last_error, str state:
	 *   "waiting", "active", "held", "paused" or "held,paused"),
	 *   then CTL_END.
	 * CTL_STATS: empty.  Replies: CTL_STAT for each counter (str name,
	 *   u64 value), then CTL_END.
	 * CTL_STATUS: empty.  Replies: CTL_PROC for each queued process
	 *   (str name, u32 pid, u64 started, u32 up), then CTL_END.
	 * CTL_SCHEDULE, CTL_REMOVE: str id (msgid, evpid or "all").
	 * Reply to both, CTL_RESULT: u32 result, u32 count, str message.
	 * (sallyctl log verbose|brief signals each daemon's parent:
	 * SIGUSR1 verbose, SIGUSR2 brief; the parent forwards
	 * MSG_PARENT_LOG_VERBOSE to its children.)
	 */
	MSG_CTL_QUEUE_LIST,
	MSG_CTL_QUEUE_ENTRY,
	MSG_CTL_STATS,
	MSG_CTL_STAT,
	MSG_CTL_STATUS,
	MSG_CTL_PROC,
	MSG_CTL_SCHEDULE,
	MSG_CTL_REMOVE,
	MSG_CTL_RESULT,
	MSG_CTL_END,

	/* A parent to its child, after sallyctl log: u32 verbose. */
	MSG_PARENT_LOG_VERBOSE,

	/*
	 * Parent to child: u32 role of the peer; fd (a connected socket to
	 * that sibling child).  queued's parent sends it to the manager
	 * (peer ROLE_DELIVERY) and the delivery agent (peer ROLE_QUEUED),
	 * with a new pair each time either of them (re)starts.
	 */
	MSG_PARENT_PEER_FD,
	/*
	 * Child to its parent: empty; the reply echoes the peerid.
	 * Reply PARENT_PROC_STATUS: u32 count, then count times
	 *   { str name, u32 pid, u64 started, u32 up } for the parent
	 *   itself and each of its supervised children (for CTL_STATUS).
	 */
	MSG_CHILD_PROC_QUERY,
	MSG_PARENT_PROC_STATUS,

	/*
	 * The delivery agent to one of its mailbox workers, on the
	 * socketpair it forked the worker with (no HELLO: nobody else
	 * holds either end), one delivery at a time.
	 * DELIVERY_MAILBOX_WRITE: str evpid, str sender, str rcpt,
	 *   u32 check (0, or the manager's generation in the agent, plus
	 *   one, when the envelope may have been delivered already: a file
	 *   of its message in new/ or cur/ then answers it), u64 quota
	 *   (authd's, bytes; 0: none); fd (the message, read-only).
	 * Reply MAILBOX_DELIVERY_RESULT: u32 verdict (DELIVERY_EXIT_*),
	 *   str report ("new/<name>", "found <name>" when the check found
	 *   one, or the RFC 3463 status and reason).
	 */
	MSG_DELIVERY_MAILBOX_WRITE,
	MSG_MAILBOX_DELIVERY_RESULT,

	/*
	 * smtpd's parent to its engine after a reload (SIGHUP), what new
	 * sessions are to use.  CONF_DATA carries a piece of one part:
	 *   u32 part (CONF_PART_*), u32 last (1 on the part's final piece,
	 *   else 0), bytes piece.
	 * The parts come in this order: CONF_PART_TEXT, the configuration
	 * as config_print() writes it (the parent has put back the values
	 * a reload cannot change); then for each pki statement of that
	 * text, in order, CONF_PART_CERT and CONF_PART_KEY, its files as
	 * the parent read them.  CONF_COMMIT: empty, after the last part.
	 * Reply CHILD_CONF_APPLIED: empty, once the engine uses it.
	 */
	MSG_PARENT_CONF_DATA,
	MSG_PARENT_CONF_COMMIT,
	MSG_CHILD_CONF_APPLIED,

	/*
	 * Queue manager to smtpd (queue.sock), peerid 0, no reply: the
	 * spool's free space, at connect and whenever it crosses "limit
	 * queue-min-free", and after sallyctl pause|resume smtp: u32
	 * flags (SPOOL_F_LOW: below it, MAIL gets 452 4.3.1;
	 * SPOOL_F_PAUSED: new sessions and MAIL get 421 4.3.2), u64 free
	 * bytes.
	 */
	MSG_QUEUE_SPOOL_STATUS,
	/*
	 * queued's parent to the manager after a reload (SIGHUP), the
	 * limits it checks for smtpd, which smtpd's own reload may have
	 * changed: u64 max_message_bytes, u32 max_rcpts,
	 * u64 queue_min_free_bytes.  No reply.
	 */
	MSG_PARENT_QUEUE_LIMITS,

	/*
	 * Queue manager and relay (issue 9), on the socketpair queued's
	 * parent hands both (MSG_PARENT_PEER_FD, peers ROLE_RELAY and
	 * ROLE_QUEUED) at every (re)start of either; peerid is the
	 * manager's request id of the batch.
	 * RELAY_START: one message to one destination domain:
	 *   str msgid, str domain (lower case, of every rcpt below),
	 *   str sender ("" for <>), u32 flags (RELAY_START_F_*),
	 *   u32 ret (enum dsn_ret), str envid (decoded, "" none),
	 *   u64 size (the stored file's bytes), u32 nrcpt (1 to
	 *   relay_rcpts_per_txn), nrcpt times { str evpid, str rcpt,
	 *   u32 notify (DSN_NOTIFY_*, 0 when not given), str orcpt
	 *   (decoded "type;addr", or "") }; fd (the message file,
	 *   read-only, at 0, LF line ends as stored).
	 * Reply RELAY_RESULT, once per RELAY_START, when every rcpt has a
	 *   final result for this try: u32 nrcpt, nrcpt times { str evpid,
	 *   u32 result (RESULT_OK delivered, RESULT_TEMPFAIL retry,
	 *   RESULT_PERMFAIL bounce), u32 flags (RELAY_RCPT_F_*),
	 *   str status (RFC 3463 "x.y.z"), str remote_mta (the host
	 *   that answered, "" when none did), str diag (the remote
	 *   reply "550 5.1.1 no such user", or our own reason when no
	 *   host answered) }, in any order, each evpid of the START once.
	 *   A connection that dropped or timed out mid-transaction makes
	 *   every rcpt of it RESULT_TEMPFAIL, never OK.
	 * The relay keeps no state the manager needs: when it dies, every
	 *   batch it held is retried (queue_flight_requeue).
	 * RELAY_HOSTS: empty (sallyctl show hosts; peerid is the control
	 *   request's id).  Replies RELAY_HOST for each destination the
	 *   relay knows (str destination ("domain" or "host:port"), u32
	 *   conns, u32 queued (batches waiting), u32 active (batches
	 *   sending), u64 backoff_until (0 none), str last_error), then
	 *   RELAY_HOSTS_END: empty.
	 * RELAY_STATS: empty.  Replies RELAY_STAT for each counter (str
	 *   name, u64 value: connections, tls, tls_verified, dane,
	 *   reused, ...), then RELAY_STATS_END.
	 */
	MSG_QUEUE_RELAY_START,
	MSG_RELAY_RESULT,
	MSG_QUEUE_RELAY_HOSTS,
	MSG_RELAY_HOST,
	MSG_RELAY_HOSTS_END,
	MSG_QUEUE_RELAY_STATS,
	MSG_RELAY_STAT,
	MSG_RELAY_STATS_END,
	/*
	 * sallyctl to queue manager: CTL_HOSTS: empty.  The manager asks
	 *   the relay (RELAY_HOSTS) and replies CTL_HOST for each entry,
	 *   the same layout as RELAY_HOST, then CTL_END; CTL_RESULT
	 *   RESULT_TEMPFAIL "relay not running" when it is down.
	 */
	MSG_CTL_HOSTS,
	MSG_CTL_HOST,
	/*
	 * Relay and its MTA-STS helper (relay-sts, RFC 8461 3.3); peerid
	 * is the relay's request id.
	 * RELAY_STS_FETCH: str domain (the policy domain; the helper asks
	 *   https://mta-sts.DOMAIN/.well-known/mta-sts.txt), str id (the
	 *   TXT record's; a policy the helper fetched under the same id
	 *   and still holds is answered without a fetch), u32 naddr
	 *   (1 to RELAY_DNS_ADDRS_MAX), naddr times { u32 af (AF_INET or
	 *   AF_INET6), data[16] address } (mta-sts.DOMAIN's, resolved by
	 *   the relay: the helper has no resolver).
	 * Reply RELAY_STS_POLICY, once per FETCH: u32 result (RESULT_OK or
	 *   RESULT_TEMPFAIL), str text: the policy parsed by the helper
	 *   and printed again in canonical form (relay_sts_policy_print,
	 *   which the relay parses again), or why the fetch failed.
	 */
	MSG_RELAY_STS_FETCH,
	MSG_RELAY_STS_POLICY,

	/*
	 * sallyctl to queue manager (issue 12), control.sock, root only.
	 * CTL_ENVELOPE: str id (msgid or evpid).  Replies: CTL_ENVELOPE_INFO
	 *   for each envelope (str evpid, str state, u32 n, n times { str
	 *   key, str value }: the envelope file's keys and values), then
	 *   CTL_END.
	 * CTL_MESSAGE: str id (msgid or evpid).  Reply CTL_MESSAGE_FD:
	 *   empty, fd (the message file, read-only); or CTL_RESULT.
	 * CTL_PAUSE, CTL_RESUME: str what ("smtp", "delivery", "relay",
	 *   or an id: msgid, evpid or "all").  CTL_HOLD, CTL_RELEASE,
	 *   CTL_EXPIRE, CTL_REQUEUE: str id.  Reply to each, CTL_RESULT.
	 * CTL_QUEUE_ENTRY (above) ends with str state since version 9;
	 *   its next_try is 0 in flight, else the next try (held or
	 *   paused: once let go).
	 */
	MSG_CTL_ENVELOPE,
	MSG_CTL_ENVELOPE_INFO,
	MSG_CTL_MESSAGE,
	MSG_CTL_MESSAGE_FD,
	MSG_CTL_PAUSE,
	MSG_CTL_RESUME,
	MSG_CTL_HOLD,
	MSG_CTL_RELEASE,
	MSG_CTL_EXPIRE,
	MSG_CTL_REQUEUE,
	/*
	 * smtpd's engine to the queue manager (queue.sock), peerid 0, no
	 * reply, every SMTP_STATS_SECS: u64 sessions accepted since the
	 * engine started, u32 sessions open (sallyctl show stats, monitor).
	 */
	MSG_SMTP_STATS,

	/*
	 * smtpd's parent to its engine, for each connection it accepted on
	 * <rundir>/submit.sock (local submission, sallyctl's sendmail):
	 *   u32 uid (the kernel's SO_PEERCRED), str login (its passwd
	 *   name, "" when it has none); fd (the connection).  No reply.
	 */
	MSG_PARENT_LOCAL_CLIENT,

	MSG_MAX
};

/* The parts of MSG_PARENT_CONF_DATA. */
enum conf_part {
	CONF_PART_TEXT = 1,
	CONF_PART_CERT,
	CONF_PART_KEY,
};

/*
 * Flags of MSG_QUEUE_DELIVERY_START.  RECOVERED: the envelope was on
 * the disk when the manager started, so a delivery whose removal was
 * lost (a crash, a power loss) may already have written it.
 */
#define DELIVERY_F_RECOVERED	0x01
#define DELIVERY_F_ALL		0x01

/*
 * Flags of MSG_QUEUE_RELAY_START.  SMTPUTF8: MAIL had SMTPUTF8 (5.6.7
 * to a server without it); RECOVERED: some envelope was on the disk at
 * start (may have been sent before a crash: logged as such).  Whether
 * the body has 8-bit bytes the relay finds out from the file itself.
 */
#define RELAY_START_F_SMTPUTF8	0x01
#define RELAY_START_F_RECOVERED	0x02
#define RELAY_START_F_ALL	0x03
/*
 * Flags of a rcpt in MSG_RELAY_RESULT.  DSN_PASSED: the next hop
 * offered DSN and took NOTIFY, so a NOTIFY=SUCCESS is its to report
 * (RFC 3461 4.1); otherwise the manager reports Action: relayed.
 * TLS: sent over TLS.
 */
#define RELAY_RCPT_F_DSN_PASSED	0x01
#define RELAY_RCPT_F_TLS	0x02

/* Flags of MSG_QUEUE_SPOOL_STATUS. */
#define SPOOL_F_LOW		0x01
#define SPOOL_F_PAUSED		0x02
#define SPOOL_F_ALL		0x03

/* Flags of MSG_AUTH_PASSWORD_CHECK. */
#define AUTH_F_TOKEN		0x01

/* Flags of MSG_SMTP_MESSAGE_COMMIT. */
#define COMMIT_F_SMTPUTF8	0x01	/* RFC 6531: MAIL had SMTPUTF8 */
#define COMMIT_F_ALL		0x01

enum rcpt_status {
	RCPT_LOCAL = 0,		/* a local user or an alias: accept */
	RCPT_NOUSER,		/* local domain, no such user: 550 5.1.1 */
	RCPT_NONLOCAL,		/* not one of our domains: relaying */
	RCPT_TEMPFAIL,		/* tables unavailable: 451 */
};

enum target_kind {
	TARGET_MAILBOX = 1,
	TARGET_REMOTE,
};

#endif
