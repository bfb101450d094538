/*
 * imapd: the interface between the files of one program (the parent,
 * the login engine and the mailbox process).  Nothing here crosses a
 * process boundary (that is common/proto.h); which process runs which
 * file is said in each file's first comment.
 *
 * The protocol's grammar and dispatch are imap_proto.h's; this header
 * holds what the processes share of a client (struct imap_conn), the
 * protocol states, the output functions and each process's entry point.
 */
#ifndef IMAPD_H
#define IMAPD_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

#include "imap_proto.h"
#include "sp_limits.h"

struct config;
struct event_base;
struct lineio;
struct tls;

/* A numeric client address and port, "[addr]:port" at most. */
#define IMAP_CLIENT_MAX_BYTES		64

struct imap_conn;

/* What differs between the two processes for the commands of any state. */
struct imap_conn_ops {
	/* The CAPABILITY list for this connection now ("IMAP4rev1 ..."). */
	int	(*capability)(struct imap_conn *, char *buf, size_t len);
	/* NOOP's untagged updates (the mailbox process); may be NULL. */
	void	(*updates)(struct imap_conn *);
};

/*
 * What both the login engine and the mailbox process know of a client.
 * The states (IMAP_S_*) are imap_proto.h's.
 */
struct imap_conn {
	uint32_t	 id;		/* session id, in every log line */
	int		 state;		/* IMAP_S_* */
	int		 errors;	/* BADs so far (IMAP_ERRORS_MAX) */
	int		 closing;	/* LOGOUT, BYE or too many errors */
	struct lineio	*lio;		/* the client (or the proxy's end) */
	void		*owner;		/* the process's own session */
	char		 client[IMAP_CLIENT_MAX_BYTES];
	char		 verb[32];	/* the command running, for the log */
	struct imap_reader *rd;		/* imap_proto.h's command reader */
	const struct imap_conn_ops *ops;
};

/* imap_conn.c: output, shared by the login engine and the mailbox. */

/* Writes a raw line, CRLF appended; closes the session on failure. */
void	imap_line(struct imap_conn *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Writes bytes as they are (a literal's contents). */
void	imap_write(struct imap_conn *, const void *, size_t);
/* "tag OK text", "tag NO text", "tag BAD text" (BAD is counted). */
void	imap_ok(struct imap_conn *, const char *tag, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	imap_no(struct imap_conn *, const char *tag, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	imap_bad(struct imap_conn *, const char *tag, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
/* "* BYE text", then the session closes once the output is out. */
void	imap_bye(struct imap_conn *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	imap_set_state(struct imap_conn *, int);
const char	*imap_state_name(int);

/* The imap_io of a reader on c->lio (write, and log). */
extern const struct imap_io	imap_conn_io;

/*
 * imap_cmd_any.c: CAPABILITY, NOOP, LOGOUT, ID (RFC 3501 6.1, RFC
 * 2971), valid in every state: both processes put them in their tables
 * (IMAP_CMDS_ANY).
 */
int	imap_cmd_capability(struct imap_conn *, const struct imap_command *);
int	imap_cmd_noop(struct imap_conn *, const struct imap_command *);
int	imap_cmd_logout(struct imap_conn *, const struct imap_command *);
int	imap_cmd_id(struct imap_conn *, const struct imap_command *);
#define IMAP_CMDS_ANY \
	{ "CAPABILITY",	IMAP_S_ANY, 0, "", NULL, imap_cmd_capability }, \
	{ "NOOP",	IMAP_S_ANY, 0, "", NULL, imap_cmd_noop }, \
	{ "LOGOUT",	IMAP_S_ANY, 0, "", NULL, imap_cmd_logout }, \
	{ "ID",		IMAP_S_ANY, 0, "x", NULL, imap_cmd_id }

/* imap_login.c: the login engine (role imapd-login). */
/* The engine's main; arg is a struct access_engine_args. */
void	imap_login_main(int parentfd, void *arg);

/* imap_handoff.c: the parent's IMAP part of a login (access.h). */
struct access_login;
struct ipc_out;
/* The mailbox's arguments past str home: str tag, u64 quota. */
void	imap_handoff_args(struct ipc_out *, const struct access_login *);
/* "tag NO [UNAVAILABLE] ..." when a login cannot be served. */
int	imap_handoff_refusal(const struct access_login *, char *, size_t);

/*
 * The mailbox processes' program, beside imapd (daemon_prog_open()):
 * the role imapd-user only, linked without the TLS libraries.  Its
 * arguments (daemon_args_read, in this order): u32 id, str user,
 * str client, u32 uid, u32 gid, str home, str tag (of the LOGIN or
 * AUTHENTICATE that succeeded: the mailbox process answers it with
 * "tag OK [CAPABILITY ...] Logged in" once the mail home is open),
 * u64 quota bytes (0: none).  Descriptors: the arguments, the client.
 */
#define IMAP_MAILBOX_PROG	"imapd-mailbox"
#define IMAP_MAILBOX_ROLE	"imapd-user"

/* imap_user.c (helper H5): the mailbox process, as the user. */
struct imap_user_args {
	uint32_t	 id;
	const char	*user;
	const char	*client;
	uid_t		 uid;
	gid_t		 gid;
	const char	*home;
	const char	*tag;
	uint64_t	 quota;		/* bytes; 0: none */
	int		 fd;		/* the client */
};

#endif
