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

#include "sp_limits.h"

struct config;
struct event_base;
struct lineio;
struct tls;

/* A numeric client address and port, "[addr]:port" at most. */
#define IMAP_CLIENT_MAX_BYTES		64
/* RFC 3501 9: tag = 1*<any ASTRING-CHAR except "+">; ours are bounded. */
#define IMAP_TAG_MAX_BYTES		64

/*
 * Protocol states (RFC 3501 3), as bits so that a command table entry
 * allows several.
 */
#define IMAP_S_NOAUTH	0x01	/* Not Authenticated (the login engine) */
#define IMAP_S_AUTH	0x02	/* Authenticated (the mailbox process) */
#define IMAP_S_SELECTED	0x04	/* Selected */
#define IMAP_S_LOGOUT	0x08	/* LOGOUT seen, or closing */
#define IMAP_S_ANY	(IMAP_S_NOAUTH | IMAP_S_AUTH | IMAP_S_SELECTED)

/* What both the login engine and the mailbox process know of a client. */
struct imap_conn {
	uint32_t	 id;		/* session id, in every log line */
	int		 state;		/* IMAP_S_* */
	int		 errors;	/* BADs so far (IMAP_ERRORS_MAX) */
	int		 closing;	/* LOGOUT, BYE or too many errors */
	struct lineio	*lio;		/* the client (or the proxy's end) */
	void		*owner;		/* the process's own session */
	char		 client[IMAP_CLIENT_MAX_BYTES];
	char		 verb[32];	/* the command running, for the log */
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
/* A fresh non-zero session id. */
uint32_t	 imap_session_id(void);

/*
 * The CAPABILITY list before login (the login engine's): flags say
 * what this connection may use.  Fills buf ("IMAP4rev1 ..."); returns
 * its length, or -1 when it does not fit.
 */
#define IMAP_CAPA_STARTTLS	0x01	/* not under TLS, and a pki */
#define IMAP_CAPA_AUTH		0x02	/* passwords may be sent here */
int	imap_capa_noauth(char *buf, size_t len, unsigned int flags);

/* imap_login.c: the login engine (role imapd-login). */
struct imap_login_args {
	int		*listen_fds;
	int		 nlisten;
	int		 listen_tls[CONFIG_LISTENERS_MAX];	/* imaps */
	struct tls	*tls;		/* NULL without a pki */
	const struct config *conf;
	uid_t		 uid;
	gid_t		 gid;
	const char	*chroot;
	int		 foreground;
};
/* proc_main_cb of the login engine; arg is a struct imap_login_args. */
void	imap_login_main(int parentfd, void *arg);

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
