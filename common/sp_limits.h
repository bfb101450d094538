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
/* RFC 5321 4.5.3.1.8: at least 100 recipients must be accepted. */
#define SMTP_RCPT_MAX			100
/* RFC 5321 6.3: more Received headers than this is a loop. */
#define SMTP_RECEIVED_MAX		100
#define SMTP_MESSAGE_MAX_BYTES		(35 * 1024 * 1024)
#define SMTP_ERRORS_MAX			10
#define SMTP_MESSAGES_PER_SESSION_MAX	100
#define SMTP_SESSIONS_MAX		4096
/* RFC 5321 4.5.3.2: five minutes per command, ten for DATA blocks. */
#define SMTP_CMD_TIMEOUT_SECS		300
#define SMTP_DATA_TIMEOUT_SECS		600
/* Time the engine waits for queued or authd before answering 4xx. */
#define SMTP_PEER_TIMEOUT_SECS		30

/* RFC 1939 3: a command is at most 255 octets, CRLF included. */
#define POP3_CMD_LINE_MAX_BYTES		255
#define POP3_ARG_MAX_BYTES		40
#define POP3_ERRORS_MAX			10
/* RFC 1939 3: the autologout timer is at least 10 minutes. */
#define POP3_IDLE_TIMEOUT_SECS		600
#define POP3_SESSIONS_MAX		1024
#define POP3_MESSAGES_MAX		100000

/* Inter-process messages: header plus payload. */
#define IPC_PAYLOAD_MAX_BYTES		(64 * 1024)
#define IPC_STRING_MAX_BYTES		4096
#define IPC_PEERS_MAX			64
/* A peer that is down is retried after 1 s, doubling up to this cap. */
#define IPC_RETRY_MAX_SECS		30

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

#define CONFIG_FILE_MAX_BYTES		(1024 * 1024)
#define CONFIG_LISTENERS_MAX		32
#define CONFIG_DOMAINS_MAX		1024

#define QUEUE_ENVELOPE_MAX_BYTES	8192
#define QUEUE_RETRY_MIN_SECS		300
#define QUEUE_RETRY_MAX_SECS		(4 * 3600)
#define QUEUE_EXPIRE_SECS		(4 * 24 * 3600)
#define QUEUE_DELIVERIES_MAX		16
#define QUEUE_ERROR_MAX_BYTES		512
/* A delivery child that takes longer than this is killed and retried. */
#define DELIVERY_TIMEOUT_SECS		300

/* A supervisor restarts a dead child after this delay, doubling. */
#define CHILD_RESTART_MIN_MSECS		100
#define CHILD_RESTART_MAX_SECS		30

#endif
