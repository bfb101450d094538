/*
 * pop3d: the interface between the files of one program.  Nothing here
 * crosses a process boundary (that is common/proto.h); which process
 * runs which file is said in each file's first comment.
 */
#ifndef POP3D_H
#define POP3D_H

#include <sys/types.h>
#include <sys/queue.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "sp_limits.h"
#include "maildir.h"

struct config;
struct event_base;
struct lineio;
struct tls;

/* RFC 1939 7: a unique-id is 1 to 70 characters in 0x21-0x7E. */
#define POP3_UIDL_MAX_BYTES		70
/* RFC 1939 3: keywords are three or four characters. */
#define POP3_VERB_MAX_BYTES		4
#define POP3_ARGS_MAX			2
/* A numeric client address and port, "[addr]:port" at most. */
#define POP3_CLIENT_MAX_BYTES		64
/*
 * Multi-line answers (RETR, TOP, LIST, UIDL) are produced in pieces:
 * more is queued only while less than this waits to be written.
 */
#define POP3_OUTPUT_HIGH_BYTES		(32 * 1024)
#define POP3_READ_CHUNK_BYTES		(16 * 1024)
/*
 * RETR and TOP read a message this much at a time and queue its text
 * while less than POP3_RETR_HIGH_BYTES waits: a 20 MB RETR went from
 * 16 and 32 KiB to these, with fewer reads and wake-ups.
 */
#define POP3_RETR_CHUNK_BYTES		(64 * 1024)
#define POP3_RETR_HIGH_BYTES		(256 * 1024)

/* Protocol states (RFC 1939 3), as bits so that a command allows several. */
#define POP3_S_AUTH	0x01	/* AUTHORIZATION, no USER yet */
#define POP3_S_USER	0x02	/* AUTHORIZATION, after USER */
#define POP3_S_TRANS	0x04	/* TRANSACTION */
#define POP3_S_UPDATE	0x08	/* UPDATE: QUIT seen, no more commands */
#define POP3_S_LOGIN	(POP3_S_AUTH | POP3_S_USER)

/* What follows a verb. */
enum pop3_argspec {
	ARG_NONE,		/* nothing */
	ARG_ONE,		/* one word */
	ARG_OPT,		/* no word or one */
	ARG_TWO,		/* two words */
	ARG_REST,		/* the rest of the line, spaces kept (PASS) */
	ARG_SASL,		/* AUTH: raw, and past the 255 octets */
};

/* A parsed command line. */
struct pop3_req {
	char	 verb[POP3_VERB_MAX_BYTES + 1];	/* upper case */
	int	 argc;
	char	 argv[POP3_ARGS_MAX][POP3_ARG_MAX_BYTES + 1];
	char	 rest[POP3_CMD_LINE_MAX_BYTES];	/* ARG_REST only */
	const char *raw;		/* ARG_SASL: in the line, or NULL */
	size_t	 rawlen;
};

/* What both the login engine and the mailbox process know of a client. */
struct pop3_conn {
	uint32_t	 id;		/* session id, in every log line */
	int		 state;
	int		 errors;
	int		 closing;	/* QUIT or too many errors */
	char		 verb[POP3_VERB_MAX_BYTES + 1];	/* for the log */
	struct lineio	*lio;
	void		*owner;		/* the process's own session */
	char		 client[POP3_CLIENT_MAX_BYTES];
};

typedef void	(*pop3_handler)(struct pop3_conn *, struct pop3_req *);

struct pop3_cmd {
	const char		*verb;
	int			 states;
	enum pop3_argspec	 args;
	pop3_handler		 handler;	/* NULL: never valid here */
};

/* pop3_dispatch.c: shared by the login engine and the mailbox process. */

/*
 * Parses a command line against a table (ended by a NULL verb) in a
 * state.  Returns the command, or NULL with *err set to the text of the
 * -ERR answer.  No I/O: the unit tests call it.
 */
const struct pop3_cmd	*pop3_parse(const struct pop3_cmd *, int state,
			    const char *line, size_t len, int flags,
			    struct pop3_req *, const char **err);
/* Parses, answers errors (counting them), or runs the handler. */
void	pop3_dispatch(const struct pop3_cmd *, struct pop3_conn *,
	    const char *line, size_t len, int flags);
void	pop3_ok(struct pop3_conn *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* "-ERR text", logged, counted toward POP3_ERRORS_MAX. */
void	pop3_err(struct pop3_conn *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* The same, for a caller that has logged the event itself. */
void	pop3_err_logged(struct pop3_conn *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* A valid request answered "no" (no such message): logged, not counted. */
void	pop3_err_answer(struct pop3_conn *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Not the client's fault (the caller logs): not counted. */
void	pop3_err_sys(struct pop3_conn *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Writes a raw line, CRLF appended; closes the session on failure. */
void	pop3_line(struct pop3_conn *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	pop3_set_state(struct pop3_conn *, int);
const char	*pop3_state_name(int);
/* The RFC 2449 CAPA answer; PIPELINING only where it is true. */
void	pop3_capa(struct pop3_conn *, int pipelining);
/* The same with the lines of flags (the login engine's). */
#define POP3_CAPA_USER		0x01
#define POP3_CAPA_PIPELINING	0x02
#define POP3_CAPA_STLS		0x04
#define POP3_CAPA_SASL		0x08
void	pop3_capa_lines(struct pop3_conn *, unsigned int flags);
/*
 * The LOGIN-DELAY and EXPIRE lines of CAPA (RFC 2449 6.5, 6.7): no
 * LOGIN-DELAY for 0, "EXPIRE NEVER" for -1.  Before any call: neither.
 */
void	pop3_capa_policy(uint32_t login_delay_secs, int64_t expire_days);

/* pop3_cmd_auth.c: AUTHORIZATION state, in the login engine. */
extern const struct pop3_cmd	pop3_auth_cmds[];

/* pop3_login.c: the login engine. */
/* The login engine's main; arg is a struct access_engine_args. */
void	pop3_login_main(int parentfd, void *arg);
/* For the AUTHORIZATION handlers. */
void	pop3_login_set_user(struct pop3_conn *, const char *);
const char	*pop3_login_user(struct pop3_conn *);
/* 1 when STLS can be offered (there is a pki). */
int	pop3_login_tls_offered(void);
/*
 * The TLS server context for c, or NULL without a pki: the one in force
 * when first asked, kept for c across reloads.
 */
struct tls	*pop3_login_tls(struct pop3_conn *);
/* Sends the password check (or answers that authd is down). */
void	pop3_login_check(struct pop3_conn *, const char *password);
/*
 * 1 when a password may be sent on c: under TLS, or on loopback with
 * "auth plaintext-on-loopback yes".
 */
int	pop3_login_plaintext_ok(struct pop3_conn *);

/* pop3_handoff.c: the parent's POP3 part of a login (access.h). */
struct access_login;
struct ipc_out;
/*
 * The mailbox processes' program, beside pop3d (daemon_prog_open()):
 * the role pop3d-user only, linked without libtls, libssl, libcrypto
 * and libunbound, so that each session's exec costs less.
 */
#define POP3_MAILBOX_PROG	"pop3d-mailbox"
/* LOGIN-DELAY and EXPIRE from the configuration (start, reload). */
void	pop3_handoff_configure(const struct config *);
/* The mailbox's arguments past str home: u32 login-delay, u64 expire. */
void	pop3_handoff_args(struct ipc_out *, const struct access_login *);
/* NULL, or "login-delay" with the answer in text. */
const char	*pop3_handoff_admit(const struct access_login *,
		    const char *user, char *text, size_t len);
/* The answer when a login cannot be served. */
int	pop3_handoff_refusal(const struct access_login *, char *, size_t);

/* pop3_user.c: the mailbox process, as the user, in the mail home. */
struct pop3_user_args {
	uint32_t	 id;
	const char	*user;
	const char	*client;
	uid_t		 uid;
	gid_t		 gid;
	const char	*home;
	int		 fd;
};
/* Serves one client; never returns. */
void	pop3_user_main(const struct pop3_user_args *)
	    __attribute__((noreturn));
extern const struct pop3_cmd	pop3_user_cmds[];

/* pop3_xform.c: LF to CRLF, dot-stuffing, TOP's line count. */
struct pop3_xform {
	int		 wire;		/* dot-stuff and terminate */
	int64_t		 maxbody;	/* body lines to pass; -1 for all */
	int		 bol;		/* at the start of a line */
	int		 cr;		/* the last byte was a CR */
	int		 body;		/* past the header's blank line */
	int		 done;		/* the line limit is reached */
	size_t		 linelen;	/* bytes of the line so far */
	int64_t		 lines;		/* body lines passed */
};
/* Output never exceeds twice the input; the end adds at most 5 bytes. */
#define POP3_XFORM_OUT_MAX(inlen)	(2 * (inlen) + 5)

/*
 * wire: as sent by RETR and TOP (dot-stuffed, ".\r\n" at the end); else
 * the message as LIST counts it.  maxbody: TOP's line count, or -1.
 */
void	pop3_xform_init(struct pop3_xform *, int wire, int64_t maxbody);
/*
 * Converts in; returns the bytes written to out and the bytes of in
 * used in *used (fewer than inlen once the line limit is reached).
 */
size_t	pop3_xform_run(struct pop3_xform *, const char *in, size_t inlen,
	    char *out, size_t *used);
/* Ends the text: a CRLF for an unended last line, and ".\r\n" on wire. */
size_t	pop3_xform_end(struct pop3_xform *, char *out);
/* The octet count of a whole message, CRLF line ends; -1 on read error. */
int	pop3_xform_size(int fd, uint64_t *size);

/* pop3_maildrop.c: the Maildir as a POP3 maildrop. */
struct maildrop_msg {
	char		*name;		/* the file name in new/ or cur/ */
	size_t		 baselen;	/* of the name before ':' */
	char		 uidl[POP3_UIDL_MAX_BYTES + 1];
	uint64_t	 secs;		/* delivery time, from the name */
	uint64_t	 usecs;
	uint64_t	 lfsize;	/* bytes on disk */
	uint64_t	 size;		/* octets with CRLF line ends */
	int		 sized;		/* size from the name's ",W=" */
	int		 deleted;	/* DELE: removed at QUIT */
	int		 retrieved;	/* RETR in this session (EXPIRE) */
	int		 drop;		/* not served: a duplicate, or gone */
	int		 innew;		/* in new/: moved to cur/ by RETR */
};

struct maildrop {
	uint32_t		 id;		/* session id, for the log */
	struct maildir		 md;
	int			 lockfd;
	struct maildrop_msg	*msgs;
	size_t			 nmsgs;
	size_t			 nalloc;
	size_t			 ndeleted;
	uint64_t		 total;		/* octets, deleted too */
	uint64_t		 deleted_size;
	size_t			 skipped;	/* over POP3_MESSAGES_MAX */
	size_t			 cache_hits;
};

enum maildrop_result {
	MAILDROP_OK = 0,
	MAILDROP_BUSY,		/* another POP3 session holds the lock */
	MAILDROP_FAIL,
};

/*
 * Locks the Maildir at path (created when missing) and lists new/ and
 * cur/ in delivery order with sizes and unique-ids (nothing is moved).
 * On MAILDROP_FAIL *err says why (for the log).
 */
enum maildrop_result	 maildrop_open(struct maildrop *, const char *path,
			    uint32_t id, const char **err);
/* Releases the lock and the list; deletes nothing. */
void	maildrop_close(struct maildrop *);
/* Message n (1-based), or NULL when out of range. */
struct maildrop_msg	*maildrop_get(struct maildrop *, int64_t n);
/* Opens a message for reading; -1 with errno set (ENOENT: gone). */
int	maildrop_msg_open(struct maildrop *, struct maildrop_msg *);
/* A message retrieved: from new/ to cur/ (renameat2 RENAME_NOREPLACE). */
void	maildrop_seen(struct maildrop *, struct maildrop_msg *);
/* Name of the lock file in the Maildir (RFC 1939 8: exclusive access). */
#define POP3_LOCK_NAME			"sallyport-pop3.lock"
void	maildrop_mark(struct maildrop *, struct maildrop_msg *);
/* Unmarks every message (RSET); returns how many were marked. */
size_t	maildrop_unmark_all(struct maildrop *);
/*
 * The UPDATE state: unlinks the marked messages, syncs the directory
 * and releases the lock.  Returns how many are gone; *failed counts the
 * others.
 */
size_t	maildrop_update(struct maildrop *, size_t *failed);

/* Pure helpers, for the unit tests. */
/* The unique-id of a base name: itself when valid, else a digest. */
void	maildrop_uidl(const char *base, size_t len, char *uidl);
/* The delivery time in a name "<secs>.M<usecs>P...". */
void	maildrop_name_time(const char *name, uint64_t *secs, uint64_t *usecs);
/* qsort comparison of two messages: time, then name. */
int	maildrop_msg_cmp(const void *, const void *);

/* pop3_sizecache.c: remembered CRLF sizes, in the Maildir. */
#define POP3_SIZECACHE_NAME		"sallyport-pop3.sizes"
/*
 * Fills size for every message, from the cache when it knows the name
 * and its size on disk, else by reading the file (a message that has
 * gone meanwhile gets drop set); rewrites the cache when it changed.
 * -1 when a message cannot be read.
 */
int	pop3_sizecache_fill(struct maildrop *);

/* pop3_expire.c: "pop3 expire", in the mailbox process. */
/* The days from the configuration; -1 (the default) for never. */
void	pop3_expire_set(int64_t days);
/* At QUIT: marks the retrieved messages that are old enough. */
size_t	pop3_expire_mark(struct maildrop *, time_t now);

/* pop3_logindelay.c: "pop3 login-delay", in the parent. */
/*
 * 0 when user may log in at now (monotonic seconds), which is then
 * noted; else the seconds left.  delay 0: always 0, nothing noted.
 */
uint32_t	 pop3_logindelay_check(const char *user, time_t now,
		    uint32_t delay);
/* The users remembered. */
size_t	pop3_logindelay_count(void);

#endif
