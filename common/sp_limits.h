/*
 * Every limit sallyport enforces, with its unit in the name and, where one
 * exists, the document it comes from.  A value past a limit is refused,
 * never silently truncated.  (STYLE.md calls this file limits.h; it is
 * sp_limits.h so that it can never stand in for the system's <limits.h>,
 * which GCC's own limits.h reaches with #include_next.)
 */
#ifndef SALLYPORT_LIMITS_H
#define SALLYPORT_LIMITS_H

/* RFC 5321 4.5.3.1.6: a command or text line, CRLF included. */
#define SMTP_LINE_MAX_BYTES		1000
/* RFC 5321 4.5.3.1.4: a command line, CRLF included. */
#define SMTP_CMD_LINE_MAX_BYTES		512
/* RFC 5321 4.5.3.1.1 and 4.5.3.1.2. */
#define SMTP_LOCALPART_MAX_BYTES	64
#define SMTP_DOMAIN_MAX_BYTES		255
/* RFC 5321 4.5.3.1.3: a path, angle brackets included. */
#define SMTP_PATH_MAX_BYTES		256
/* RFC 3461 4.4: the ENVID parameter's value, as sent (xtext). */
#define DSN_ENVID_MAX_BYTES		100
/* RFC 3461 4.2: the ORCPT parameter's value, as sent (addr-type;xtext). */
#define DSN_ORCPT_MAX_BYTES		500
/* RFC 5321 4.5.3.1.8: at least 100 recipients must be accepted. */
#define SMTP_RCPT_MAX			100
/* RFC 5321 6.3: more Received headers than this is a loop. */
#define SMTP_RECEIVED_MAX		100
#define SMTP_MESSAGE_MAX_BYTES		(35 * 1024 * 1024)
#define SMTP_ERRORS_MAX			10
/*
 * The session limits below are the defaults of the "limit" statements
 * of sallyport.conf(5) and, each, the largest value they take.
 */
/*
 * But "limit messages-per-session" is 0 by default, no limit: RFC 5321
 * 3.8 has a server close a connection only at shutdown or timeout, and
 * senders (Postfix) reuse one for as many messages as they have.  This
 * is the largest limit a site may set.
 */
#define SMTP_MESSAGES_PER_SESSION_MAX	1000000
/* Also sizes AUTHD_PENDING_MAX. */
#define SMTP_SESSIONS_MAX		4096
/* Sessions from one client address; past it, 421 at connect. */
#define SMTP_SESSIONS_PER_CLIENT_MAX	50
/* "limit sessions-per-client" may go up to "limit sessions". */
#define SMTP_SESSIONS_PER_CLIENT_LIMIT	SMTP_SESSIONS_MAX
/*
 * "limit line-length": the longest text line of message data, CRLF
 * included, from RFC 5321's SMTP_LINE_MAX_BYTES (4.5.3.1.6) up to this,
 * the default.  Real senders (OpenSMTPD among them) pass longer lines
 * on unchanged and Postfix takes them, so they are received and stored
 * as they came.  The bound is the engine's line buffer in DATA and
 * BDAT: one per session, held whole in memory.
 */
#define SMTP_LINE_LIMIT_MAX_BYTES	(64 * 1024)
/*
 * RFC 5321 4.5.3.2: the server's timeouts, the defaults of the "timeout"
 * statements.  Greeting: from connect (or the end of the SMTPS
 * handshake) until HELO/EHLO; command: waiting for the next command
 * (4.5.3.2.7, five minutes); data: waiting for more message data in
 * DATA or BDAT (the client has 3 minutes per block and 10 for the end,
 * 4.5.3.2.5-6).
 */
#define SMTP_GREETING_TIMEOUT_SECS	300
#define SMTP_CMD_TIMEOUT_SECS		300
#define SMTP_DATA_TIMEOUT_SECS		600
/*
 * RFC 5321 4.5.3.2.6: the client waits 10 minutes for the reply to the
 * final dot; the default of "timeout commit", how long the engine waits
 * for queued's commit before it asks queued to drop the message.
 */
#define SMTP_COMMIT_TIMEOUT_SECS	600
/*
 * The relay's SMTP client (queued/relay_smtp*.c).  A reply line, CRLF
 * excluded: RFC 5321 4.5.3.1.5 says 512 octets, but real servers send
 * longer ones, so the client takes up to a text line's length
 * (4.5.3.1.6).  Lines of one multi-line reply: no RFC bound; a server's
 * EHLO lists a few dozen.  Past either, the connection ends with a
 * temporary failure.  The reply text kept for a result and the log.
 */
#define RELAY_REPLY_LINE_MAX_BYTES	(SMTP_LINE_MAX_BYTES - 2)
#define RELAY_REPLY_LINES_MAX		100
#define RELAY_REPLY_TEXT_MAX_BYTES	512
/* RFC 5321 4.5.3.2.1-6: the client's timeouts, per state. */
#define RELAY_GREETING_TIMEOUT_SECS	300
#define RELAY_MAIL_TIMEOUT_SECS		300
#define RELAY_RCPT_TIMEOUT_SECS		300
#define RELAY_DATA_INIT_TIMEOUT_SECS	120
#define RELAY_DATA_BLOCK_TIMEOUT_SECS	180
#define RELAY_DATA_END_TIMEOUT_SECS	600
/* Connecting to one address of a host (Postfix: smtp_connect_timeout). */
#define RELAY_CONNECT_TIMEOUT_SECS	30
/* A reusable connection kept open with nothing to send. */
#define RELAY_IDLE_SECS			10
/* Outbound connections in all, and to one destination domain. */
#define RELAY_CONNS_MAX			100
#define RELAY_CONNS_PER_DOMAIN		10
/* Messages over one connection before QUIT. */
#define RELAY_MSGS_PER_CONN		100
/* Recipients in one transaction (RFC 5321 4.5.3.1.8: 100 at least). */
#define RELAY_RCPTS_PER_TXN		100
/* A host that failed is left alone this long, doubling up to the max. */
#define RELAY_BACKOFF_SECS		60
#define RELAY_BACKOFF_MAX_SECS		1800
/* The delay notice (RFC 3464 Action: delayed), once per recipient. */
#define QUEUE_DELAY_NOTICE_SECS		(4 * 3600)
/* Envelopes of one message handed to the relay in one RELAY_START. */
#define QUEUE_RELAY_BATCH_MAX		RELAY_RCPTS_PER_TXN
/* Relay batches in flight at once (the relay queues what it cannot
   start yet; past this the manager keeps envelopes in the schedule). */
#define QUEUE_RELAY_INFLIGHT_MAX	4096
/* RFC 5321 4.5.3.1.6: a data line sent, CRLF excluded; longer is folded. */
#define RELAY_DATA_LINE_MAX_BYTES	(SMTP_LINE_MAX_BYTES - 2)
/* Output queued while streaming a message: the memory bound of DATA. */
#define RELAY_DATA_BUF_BYTES		(64 * 1024)
/* The longest "timeout" a configuration may set. */
#define SMTP_TIMEOUT_MAX_SECS		3600
/* Time the engine waits for queued or authd before answering 4xx. */
#define SMTP_PEER_TIMEOUT_SECS		30
/*
 * Failed AUTH (RFC 4954) per client address: the client that fails
 * SMTP_AUTH_FAILURES_MAX times within SMTP_AUTH_FAIL_WINDOW_SECS gets
 * 421 and is refused AUTH until the window ends.  The engine remembers
 * at most SMTP_AUTH_THROTTLE_ADDRS_MAX addresses (the oldest go first).
 */
#define SMTP_AUTH_FAILURES_MAX		5
#define SMTP_AUTH_FAIL_WINDOW_SECS	600
#define SMTP_AUTH_THROTTLE_ADDRS_MAX	1024
/* RFC 4954 4: an AUTH continuation line may be 12288 octets long. */
#define SMTP_AUTH_LINE_MAX_BYTES	12288
/*
 * The header fields checked for on submission (RFC 6409 8): a field
 * name longer than this is none of Date or Message-ID.
 */
#define SMTP_HEADER_NAME_MAX_BYTES	32

/* RFC 1939 3: a command is at most 255 octets, CRLF included. */
#define POP3_CMD_LINE_MAX_BYTES		255
#define POP3_ARG_MAX_BYTES		40
#define POP3_ERRORS_MAX			10
/* RFC 1939 3: the autologout timer is at least 10 minutes. */
#define POP3_IDLE_TIMEOUT_SECS		600
#define POP3_SESSIONS_MAX		1024
#define POP3_MESSAGES_MAX		100000
/* "pop3 expire": at most this many days (RFC 2449 6.7 has no bound). */
#define POP3_EXPIRE_DAYS_MAX		36500
/*
 * LOGIN-DELAY (RFC 2449 6.5): the users whose last login pop3d's
 * parent remembers; past it the oldest is forgotten first.
 */
#define POP3_LOGIN_DELAY_USERS_MAX	65536

/*
 * The sandbox's violation report: the descriptors searched for syslog's
 * connected socket.
 */
#define SANDBOX_LOGFD_SCAN_MAX		256

/* Inter-process messages: header plus payload. */
#define IPC_PAYLOAD_MAX_BYTES		(64 * 1024)
#define IPC_STRING_MAX_BYTES		4096
#define IPC_PEERS_MAX			64
/* A peer that is down is retried after 1 s, doubling up to this cap. */
#define IPC_RETRY_MAX_SECS		30
/*
 * How long a starting smtpd engine waits for authd and queued before
 * it accepts clients anyway (and answers them 4xx until they come):
 * a client of a just-started server is not refused for a race.
 */
#define SMTP_START_PEERS_WAIT_SECS	5
/* Out of descriptors (EMFILE, ENFILE), a listener pauses this long. */
#define IPC_ACCEPT_PAUSE_SECS		1

#define AUTH_USER_MAX_BYTES		256
#define AUTH_PASSWORD_MAX_BYTES		1024
/* Delay before a failed password check is answered. */
#define AUTH_FAIL_DELAY_MSECS		1000
#define AUTH_TOKEN_BYTES		32
#define AUTH_TOKEN_TTL_SECS		30
#define AUTH_TABLE_LINE_MAX_BYTES	4096
#define AUTH_TABLE_ENTRIES_MAX		100000
/* aliases(5) lists may nest; past this depth the expansion fails. */
#define ALIAS_DEPTH_MAX			8
#define ALIAS_TARGETS_MAX		1000

/*
 * authd.  A user or alias name is a local part (RFC 5321 4.5.3.1.1); an
 * alias target is a name or a Mailbox, a path without its angle
 * brackets (RFC 5321 4.5.3.1.3).
 */
#define AUTHD_NAME_MAX_BYTES		SMTP_LOCALPART_MAX_BYTES
#define AUTHD_TARGET_MAX_BYTES		(SMTP_PATH_MAX_BYTES - 2)
/* Tokens waiting to be redeemed: one per login, for AUTH_TOKEN_TTL_SECS. */
#define AUTHD_TOKENS_MAX		4096
/*
 * Failed checks of one peer waiting out AUTH_FAIL_DELAY_MSECS.  A login
 * engine's session waits for one answer at a time, so a sane engine
 * stays below its session count; twice the largest, SMTP_SESSIONS_MAX.
 */
#define AUTHD_PENDING_MAX		(2 * SMTP_SESSIONS_MAX)
/*
 * Failed logins per client address, counted by authd for every service
 * (SMTP AUTH, POP3, IMAP) so that they share one count; an IPv6 address
 * counts by its /64.  Past AUTH_FAILURES_MAX failures within
 * AUTH_FAIL_WINDOW_SECS of the first, authd refuses the address's checks
 * unchecked (RESULT_THROTTLED) until the window ends.  The same numbers
 * as smtpd's own count, so that both agree.  authd remembers at most
 * AUTHD_THROTTLE_ADDRS_MAX addresses; the oldest go first.
 */
#define AUTH_FAILURES_MAX		SMTP_AUTH_FAILURES_MAX
#define AUTH_FAIL_WINDOW_SECS		SMTP_AUTH_FAIL_WINDOW_SECS
#define AUTHD_THROTTLE_ADDRS_MAX	16384
/* PASSWORD_CHECK's service (only logged) and client (the throttle's key). */
#define AUTHD_SERVICE_MAX_BYTES		64
#define AUTHD_CLIENT_MAX_BYTES		256
/* Peers by uid: root and the five daemon users, with room to spare. */
#define AUTHD_PEER_UIDS_MAX		8
/* Why an expansion failed, for the log line and the load error. */
#define AUTHD_REASON_MAX_BYTES		256
/* One client-supplied string in a log line, after log_vis(). */
#define AUTHD_LOG_FIELD_MAX_BYTES	128
/*
 * A start-up or reload error: a table's path and line and the reason.
 * A longer one is cut, which shortens only the message.
 */
#define AUTHD_ERROR_MAX_BYTES		512

#define CONFIG_FILE_MAX_BYTES		(1024 * 1024)
#define CONFIG_LISTENERS_MAX		32
#define CONFIG_DOMAINS_MAX		1024
/* "relay from" networks. */
#define CONFIG_RELAY_NETS_MAX		1024
/* "relay to" routes: one per destination domain and a default. */
#define CONFIG_RELAY_ROUTES_MAX		1024
/*
 * Bounds of the relay's "limit" statements.  relay-recipients only
 * lowers RELAY_RCPTS_PER_TXN: RFC 5321 4.5.3.1.8 has every server take
 * 100, and the manager hands the relay at most QUEUE_RELAY_BATCH_MAX.
 */
#define RELAY_CONNS_LIMIT		10000
#define RELAY_MSGS_PER_CONN_LIMIT	100000

/*
 * The smarthost credentials ("secrets FILE", common/secrets.c): read
 * whole by a root parent.  One "LABEL USER PASSWORD" per line.
 */
#define SECRETS_FILE_MAX_BYTES		(256 * 1024)
#define SECRETS_LINE_MAX_BYTES		1024
#define SECRETS_ENTRIES_MAX		1024
#define SECRETS_LABEL_MAX_BYTES		64	/* NUL included */
/* RFC 4616 2: authcid and passwd are at most 255 octets each. */
#define SECRETS_USER_MAX_BYTES		256	/* NUL included */
#define SECRETS_PASSWORD_MAX_BYTES	256	/* NUL included */

/*
 * A pki's certificate chain or key file (PEM), read whole by a root
 * parent and, on a reload, passed to its engine (smtpd.8, SIGHUP).
 */
#define TLS_PEM_FILE_MAX_BYTES		(256 * 1024)

#define QUEUE_ENVELOPE_MAX_BYTES	8192
/*
 * "limit queue-min-free": with less free space than this in the spool
 * (for unprivileged users), MAIL is answered 452 4.3.1 (RFC 3463: mail
 * system full), as Postfix does below its queue_minfree, so that a full
 * disk refuses a message before it is sent rather than after.  The
 * manager looks every QUEUE_SPACE_CHECK_SECS and at each new message.
 */
#define QUEUE_MIN_FREE_BYTES		(100ULL * 1024 * 1024)
#define QUEUE_SPACE_CHECK_SECS		5
#define QUEUE_RETRY_MIN_SECS		300
#define QUEUE_RETRY_MAX_SECS		(4 * 3600)
#define QUEUE_EXPIRE_SECS		(4 * 24 * 3600)
#define QUEUE_DELIVERIES_MAX		16
/*
 * Threads that wait for the queue manager's fsyncs (queued/queue_sync.c).
 * A disk does many fsyncs at once about as fast as one; on the 2-core
 * bench machine, files written and fsynced per second went 1 thread
 * 1,600, 4: 3,900, 16: 4,300, 32: 8,000.  A message being committed
 * holds one thread per file (its message, each envelope) at once: with
 * 16, make bench's 10 sessions queued for threads (9 ms to write the
 * files, 350 messages/s); with 48, 6 ms and 450/s.  An idle thread
 * costs a few KB.
 */
#define QUEUE_SYNC_THREADS		48
/*
 * A message directory an envelope was unlinked from (after a delivery)
 * is fsynced this long after, with the others of that moment, unless
 * the message is gone by then (its last envelope delivered).
 */
#define QUEUE_REMOVE_SYNC_MSECS		200
/*
 * On SIGTERM the queue manager starts nothing new and waits this long at
 * most for its sync threads' jobs (removals, commits, retries) to end,
 * so that a clean stop does not deliver again what was just delivered.
 */
#define QUEUE_STOP_DRAIN_SECS		3
#define QUEUE_STOP_POLL_MSECS		10
#define QUEUE_ERROR_MAX_BYTES		512
/* A delivery that takes longer than this is killed and retried. */
#define DELIVERY_TIMEOUT_SECS		300
/*
 * Mailbox workers (doc/INTERNALS.md, Delivery workers): one is closed
 * after this long without a delivery, and after this many deliveries;
 * a user with deliveries waiting gets at most this many at once (all
 * users together: QUEUE_DELIVERIES_MAX).  Deliveries are bound by
 * fsync, and concurrent ones share the file system's journal commits:
 * with 2 per user, bench/ delivered fewer messages a second than with
 * a child per delivery; with 8, more.
 */
#define DELIVERY_WORKER_IDLE_SECS	5
#define DELIVERY_WORKER_MAX_DELIVERIES	1000
#define DELIVERY_WORKERS_PER_USER_MAX	8
/*
 * The envelope id the manager names a delivery by (doc/INTERNALS.md,
 * The spool): the message id in hex, '.', the recipient's number, a u32
 * in decimal.
 */
#define DELIVERY_EVPID_HEX_DIGITS	16
#define DELIVERY_EVPID_SEQ_MAX_DIGITS	10
#define DELIVERY_EVPID_MAX_BYTES	(DELIVERY_EVPID_HEX_DIGITS + 1 + \
					    DELIVERY_EVPID_SEQ_MAX_DIGITS + 1)
/*
 * Deliveries waiting for authd or for one of QUEUE_DELIVERIES_MAX
 * mailbox workers; past this the manager is answered 4.3.1 and retries later.
 */
#define DELIVERY_PENDING_MAX		256
/* Time authd has to answer a user lookup (smtpd: SMTP_PEER_TIMEOUT_SECS). */
#define DELIVERY_LOOKUP_TIMEOUT_SECS	30
/*
 * On SIGTERM, running deliveries get this long to finish; then the
 * workers are killed, and reaped for at most DELIVERY_KILL_WAIT_SECS more.
 */
#define DELIVERY_STOP_WAIT_SECS		5
#define DELIVERY_KILL_WAIT_SECS		1
/* With no worker left, the last results get this long to be written. */
#define DELIVERY_FLUSH_WAIT_MSECS	500
/*
 * Envelopes the agent delivered lately, remembered so that a manager
 * that restarts (after a crash, before it recorded a result) and asks
 * again is answered at once rather than given a second copy.  The
 * oldest goes first past the count, and any past the age: a manager
 * restarts and asks again within seconds.
 */
#define DELIVERY_SEEN_MAX		4096
#define DELIVERY_SEEN_MAX_SECS		3600
/*
 * Messages a mailbox worker indexes from a Maildir's new/ and cur/ to
 * find a delivery a crash made it forget (doc/INTERNALS.md, "Maildir
 * delivery"): 8 bytes each.  Past this many, each check reads the
 * directories again instead.
 */
#define DELIVERY_INDEX_MAX_ENTRIES	(1024 * 1024)
/* Bytes copied per read from the message file into the Maildir. */
#define DELIVERY_COPY_BUF_BYTES		(64 * 1024)
/* Tries at a fresh tmp/ file name when one is taken (it never should be). */
#define DELIVERY_NAME_TRIES_MAX		3

/*
 * Maildir.  A header (unfolded) longer than this is not examined by the
 * Delivered-To loop check: it cannot hold an address of
 * SMTP_PATH_MAX_BYTES with sane spacing.
 */
#define MAILDIR_HEADER_MAX_BYTES	1024

/* A supervisor restarts a dead child after this delay, doubling. */
#define CHILD_RESTART_MIN_MSECS		100
#define CHILD_RESTART_MAX_SECS		30

/*
 * Relay DNS (queued/relay_dns.c).  MX hosts kept per domain and
 * addresses kept per host (Postfix tries at most 5 addresses in all,
 * smtp_mx_address_limit; more are never reached); a name as text, with
 * its trailing dot and NUL (RFC 1035 section 2.3.4: 255 octets); the
 * time one route (MX, then every host's AAAA and A) may take before it
 * fails for now (libunbound retries the resolver within it).
 */
#define RELAY_DNS_MX_MAX		16
#define RELAY_DNS_ADDRS_MAX		8
#define RELAY_DNS_NAME_MAX		256
#define RELAY_DNS_ROUTE_SECS		60
/*
 * TLSA records kept per host, and the bytes of one's association data:
 * a SHA2-512 digest (RFC 6698 section 2.1.3); a full certificate or key
 * (matching type 0, which RFC 7672 section 3.1.3 advises against) is
 * not kept.
 */
#define RELAY_DNS_TLSA_MAX		8
#define RELAY_DNS_TLSA_DATA_MAX		64
/*
 * Certificates of a server's chain that DANE looks at (RFC 7672 3.2:
 * the chain as sent, leaf first); more is refused, not truncated.
 */
#define RELAY_DANE_CHAIN_MAX		16
/*
 * MTA-STS (RFC 8461, queued/relay_sts.c).  A policy file (3.3: at most
 * 64 KiB), its max_age (3.2: up to one year; more is taken as a year),
 * its id (3.1: 1*32 letters and digits), the mx patterns kept of one
 * policy and their text together (more are refused, not dropped: the
 * policy would then refuse MX hosts it allows), the length of one
 * policy line, the domains whose policies the relay keeps in memory
 * (the least recently used goes).
 */
#define RELAY_STS_POLICY_MAX_BYTES	(64 * 1024)
#define RELAY_STS_MAX_AGE_SECS		31557600
#define RELAY_STS_ID_MAX		32
#define RELAY_STS_MX_MAX		32
#define RELAY_STS_MX_BUF_BYTES		2048
#define RELAY_STS_LINE_MAX_BYTES	1024
#define RELAY_STS_CACHE_MAX		1024
/*
 * The relay-sts helper's HTTPS fetch of a policy (RFC 8461 3.3): the
 * response's header section and its fields, the whole fetch (connect,
 * handshake, request, response to the end), and the requests the relay
 * keeps waiting for the helper.
 */
#define RELAY_STS_HTTP_HEADER_MAX_BYTES	(8 * 1024)
#define RELAY_STS_HTTP_FIELDS_MAX	64
#define RELAY_STS_FETCH_SECS		30
#define RELAY_STS_FETCH_QUEUE_MAX	256
/*
 * Converting an 8-bit message to quoted-printable for a server without
 * 8BITMIME (queued/relay_smtp_qp.c): multipart and message/rfc822
 * nesting (as Postfix's mime_nesting_limit), a boundary (RFC 2046 5.1.1),
 * a Content-Type or Content-Transfer-Encoding field unfolded, the leaf
 * parts of one message whose 8-bit content is remembered between the
 * scan and the conversion, and the piece of a line read at once (a
 * longer line is read in pieces).  Past any of them the message is not
 * converted but bounced, 5.6.3.
 */
#define RELAY_MIME_DEPTH_MAX		100
#define RELAY_MIME_BOUNDARY_MAX_BYTES	70
#define RELAY_MIME_FIELD_MAX_BYTES	4096
#define RELAY_MIME_PARTS_MAX		4096
#define RELAY_MIME_PIECE_BYTES		1024
/* Quoted-printable lines, soft breaks included (RFC 2045 6.7 (5)). */
#define RELAY_QP_LINE_MAX_BYTES		76

/*
 * Local submission (sallyctl/sendmail.c, smtpd/smtp_local.c).  The
 * users "submit trusted" names (who may set the envelope sender with
 * -f); a header line the front end reads from its caller, LF included
 * (the server's "limit line-length" at its largest, and a little room
 * for a CR); an address field (To, Cc, Bcc) unfolded, for -t; its
 * wait for each of the server's replies (RFC 5321 4.5.3.2.6: 10
 * minutes for the end of data, the longest).
 */
#define SENDMAIL_TRUSTED_MAX		32
/* A login name from the passwd database (Linux's LOGIN_NAME_MAX). */
#define SENDMAIL_LOGIN_MAX_BYTES	256
#define SENDMAIL_LINE_MAX_BYTES		(SMTP_LINE_LIMIT_MAX_BYTES + 2)
#define SENDMAIL_FIELD_MAX_BYTES	(64 * 1024)
#define SENDMAIL_REPLY_TIMEOUT_SECS	(10 * 60)

/*
 * IMAP (imapd/).  Each part of the server keeps its limits under its own
 * heading below.
 */

/* IMAP: the daemon, the login engine and the handoff. */
/* Sessions the login engine serves, and logged-in ones the parent holds. */
#define IMAP_SESSIONS_MAX		1024
/*
 * A client that has not logged in within this long is let go (RFC 3501
 * 5.4's 30 minutes is for the authenticated states).
 */
#define IMAP_LOGIN_IDLE_TIMEOUT_SECS	180
/*
 * The login engine's longest line: a LOGIN or an AUTHENTICATE with its
 * initial response (RFC 4959), or a response to "+ "; literals
 * ({n}, {n+}) are bounded by the reader's own limits.
 */
#define IMAP_LOGIN_LINE_MAX_BYTES	8192
/* One reply line the server writes (not a literal's contents). */
#define IMAP_REPLY_MAX_BYTES		1024
/* RFC 2971 3.3: at most 30 pairs, fields of 30 octets, values of 1024. */
#define IMAP_ID_PAIRS_MAX		30
#define IMAP_ID_FIELD_MAX_BYTES		30
#define IMAP_ID_VALUE_MAX_BYTES		1024


/* IMAP: the protocol's grammar, SEARCH, SORT and THREAD. */
/*
 * One line of a command, between literals (RFC 7162 4 asks servers to
 * take at least 8192 octets; long UID sets from resyncing clients need
 * more).  A command's tag and name.  Literals held in memory (every
 * literal but APPEND's message) and the whole command with them.
 */
#define IMAP_LINE_MAX_BYTES		65536
#define IMAP_TAG_MAX_BYTES		64
#define IMAP_CMD_NAME_MAX_BYTES		32
#define IMAP_LITERAL_MAX_BYTES		65536
#define IMAP_CMD_MAX_BYTES		(256 * 1024)
/*
 * An APPEND message literal, streamed to the store's sink (the sink may
 * refuse less: APPENDLIMIT, quota).  A non-synchronising literal larger
 * than this is not read and dropped: the connection is closed (RFC 7888
 * 4 lets the server do either).
 */
#define IMAP_APPEND_MAX_BYTES		(64 * 1024 * 1024)
/* Parenthesised lists inside lists; arguments (every token) in one. */
#define IMAP_NEST_MAX			16
#define IMAP_ARGS_MAX			8192
/* A quoted string the writer sends as such; longer goes as a literal. */
#define IMAP_QUOTED_MAX_BYTES		1024
/*
 * Refused commands before "* BYE".  Commands run in one second on one
 * connection: past it the next waits for the next second (nothing is
 * refused).  High, so that pipelining clients (mbsync sends hundreds at
 * once) and the benchmark's sessions never wait; it bounds one
 * connection's share of the CPU.
 */
#define IMAP_ERRORS_MAX			20
#define IMAP_CMDS_PER_SEC_MAX		10000
/* A decoded mailbox name; flags in a list; a keyword's length. */
#define IMAP_MAILBOX_MAX_BYTES		1024
#define IMAP_FLAGS_MAX			64
#define IMAP_KEYWORD_MAX_BYTES		128
/* Ranges in one sequence set, as the client wrote them. */
#define IMAP_SEQSET_RANGES_MAX		16384
/* A SEARCH program's keys and its depth (NOT, OR, parentheses). */
#define IMAP_SEARCH_NODES_MAX		1024
#define IMAP_SEARCH_DEPTH_MAX		16
/*
 * SORT criteria; messages sorted or threaded at once; the bytes of one
 * message's sort key kept (a longer key compares by its first bytes,
 * then by sequence number: XXX only subjects that long tie wrongly).
 */
#define IMAP_SORT_KEYS_MAX		16
#define IMAP_SORT_MSGS_MAX		(4 * 1024 * 1024)
#define IMAP_SORT_KEY_MAX_BYTES		512
/* Message ids per message read for THREAD REFERENCES (RFC 5256 3). */
#define IMAP_THREAD_REFS_MAX		64
#define IMAP_THREAD_REFS_MAX_BYTES	8192
/*
 * Parents walked to see whether a THREAD link would close a loop; a link
 * deeper than this is not made (XXX a thread deeper than this, delivered
 * out of order, may come out split), so a hostile mailbox costs at most
 * messages x this.
 */
#define IMAP_THREAD_DEPTH_MAX		1000


/* IMAP: the message parser (MIME, ENVELOPE, BODYSTRUCTURE, sections). */
/*
 * imapd/imap_msg*.c.  Nesting of multipart and message/rfc822 parts, and
 * the parts of one message (Dovecot's and Postfix's limits are of the
 * same order); past either, the rest is an opaque body.  A header field
 * parsed for ENVELOPE, BODYSTRUCTURE and the MIME fields, unfolded (a
 * longer one is cut there); a boundary (RFC 2046 5.1.1 says 70, some
 * mailers write more); parameters of one Content-Type or
 * Content-Disposition, and RFC 2231 continuations of one parameter.
 */
#define IMAP_MSG_DEPTH_MAX		64
#define IMAP_MSG_PARTS_MAX		4096
#define IMAP_MSG_FIELD_MAX_BYTES	(64 * 1024)
#define IMAP_MSG_BOUNDARY_MAX_BYTES	200
#define IMAP_MSG_PARAMS_MAX		64
#define IMAP_MSG_PARAM_SECTIONS_MAX	64
/*
 * The parsed strings of one message's tree (MIME field values and
 * parameters); past it the remaining parts are left opaque.
 */
#define IMAP_MSG_ARENA_MAX_BYTES	(8 * 1024 * 1024)
/* Addresses of one ENVELOPE list (the rest are left out). */
#define IMAP_MSG_ADDRS_MAX		1000
/*
 * A section spec: part numbers (1.2.3...), HEADER.FIELDS names and the
 * bytes they take (RFC 3501 6.4.5 sets none; a client asks for a few).
 */
#define IMAP_MSG_SECTION_DEPTH_MAX	IMAP_MSG_DEPTH_MAX
#define IMAP_MSG_SECTION_FIELDS_MAX	128
#define IMAP_MSG_SECTION_FIELDS_BYTES	4096
/* A SEARCH string, in code points, after case folding. */
#define IMAP_MSG_NEEDLE_MAX_CHARS	1024
/* The window of a body decoded at once while searching it. */
#define IMAP_MSG_DECODE_CHUNK_BYTES	8192
/* An RFC 2047 encoded word (2 says 75 characters; some mailers write more). */
#define IMAP_MSG_EWORD_MAX_BYTES	1024
/* ENVELOPE and BODYSTRUCTURE strings, as the index caches them. */
#define IMAP_MSG_STRUCT_MAX_BYTES	(1024 * 1024)


/* IMAP: the store (Maildir++ folders, uid list, index). */
/* A folder's name on the wire (mUTF-7); ".<name>" must fit NAME_MAX. */
#define IMAP_FOLDER_NAME_MAX_BYTES	200
/* Levels of a folder's name ("A/B/C" is 3). */
#define IMAP_FOLDER_DEPTH_MAX		16
/* Folders of one user that LIST, usage and the subscriptions consider. */
#define IMAP_FOLDERS_MAX		10000
/* A LIST pattern (reference and mailbox joined). */
#define IMAP_PATTERN_MAX_BYTES		1024
/* Messages of one folder; past it new files are left without a UID. */
#define IMAP_MBOX_MESSAGES_MAX		1000000
/* Expunges the uid list remembers for QRESYNC's VANISHED (RFC 7162). */
#define IMAP_STORE_EXPUNGED_MAX		10000
/* A line of the uid list: "uid modseq info name". */
#define IMAP_UIDLIST_LINE_MAX_BYTES	512
/* The uid list is rewritten when its appended records pass its base
 * and this. */
#define IMAP_UIDLIST_COMPACT_MIN_BYTES	65536
/* One cached blob (an ENVELOPE, a BODYSTRUCTURE) of one message. */
#define IMAP_CACHE_BLOB_MAX_BYTES	65536
/* The cache file: past it nothing more is cached until it is rewritten. */
#define IMAP_CACHE_FILE_MAX_BYTES	(1024ULL * 1024 * 1024)
/* Quota usage (the sum over all folders) is measured again after this;
 * meanwhile this process's own APPENDs and COPYs are added to it. */
#define IMAP_QUOTA_CACHE_SECS		10
/* The cache file is rewritten when past this and twice what is live. */
#define IMAP_CACHE_COMPACT_MIN_BYTES	(1024 * 1024)
/* IDLE without inotify: how often the session syncs. */
#define IMAP_IDLE_POLL_SECS		30


/* IMAP: the mailbox process's session. */
/* RFC 3501 5.4: an autologout timer must be at least 30 minutes. */
#define IMAP_AUTOLOGOUT_SECS		(30 * 60)
/*
 * A long answer (FETCH 1:*, a 50 MB BODY[]) is made in pieces while
 * less than this waits to be written, then input and making wait for
 * the client to read (lineio's own bound is 4 MB).
 */
#define IMAP_OUTPUT_HIGH_BYTES		(256 * 1024)
/* Bytes of a message read and sent per piece. */
#define IMAP_FETCH_CHUNK_BYTES		(64 * 1024)
/* A client that reads nothing of a pending answer for this long goes. */
#define IMAP_STALL_TIMEOUT_SECS		(10 * 60)
/*
 * APPENDLIMIT= (RFC 7889) in CAPABILITY: IMAP_APPEND_MAX_BYTES written
 * as one number (imap_session.c checks that they agree).
 */
#define IMAP_APPEND_LIMIT		67108864
/*
 * COMPRESS=DEFLATE: bytes waiting on one side of the relay before it
 * stops reading the other.
 */
#define IMAP_COMPRESS_HIGH_BYTES	(256 * 1024)
/* FETCH attributes in one command (a macro counts its parts). */
#define IMAP_FETCH_ITEMS_MAX		64
/* ENVELOPE, BODYSTRUCTURE or BODY of one message, made for FETCH. */
#define IMAP_FETCH_STRUCT_MAX_BYTES	(1024 * 1024)


/*
 * Quota (the users table's quota=SIZE; authd, imapd's mailbox process,
 * the delivery agent's workers).
 */
/* The largest quota a users table may give: 1 PiB. */
#define AUTH_QUOTA_MAX_BYTES		(1ULL << 50)
/*
 * A mailbox worker measures its user's usage (every folder's new/ and
 * cur/) again after this; meanwhile its own deliveries are added.
 */
#define DELIVERY_QUOTA_CACHE_SECS	10
/* Folders of a Maildir++ a worker counts; past them it defers (4.2.2). */
#define DELIVERY_QUOTA_FOLDERS_MAX	4096


#endif
