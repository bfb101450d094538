/*
 * The imapd login engine's own interface, between its files (user
 * imap, chrooted to the empty dir, seccomp SANDBOX_ENGINE):
 * imap_login.c (clients and their input), imap_login_authd.c (authd's
 * answers and the handoff), imap_cmd_noauth.c (the Not Authenticated
 * state's commands) and imap_cmd_any.c.  The listeners and the
 * channels to the parent and authd are common/access_*.c's.
 */
#ifndef IMAP_LOGIN_H
#define IMAP_LOGIN_H

#include <sys/queue.h>
#include <netinet/in.h>

#include <event2/event.h>

#include "access.h"
#include "imapd.h"
#include "sasl.h"

struct config;
struct ipc_msg;
struct tls;

struct login_session {
	struct access_session	 as;		/* common/access_session.c */
	struct imap_conn	 conn;
	/* The tag of the LOGIN or AUTHENTICATE under way. */
	char			 tag[IMAP_TAG_MAX_BYTES + 1];
	int			 greeted;	/* imaps: after the handshake */
	struct sasl		 sasl;		/* AUTHENTICATE under way */
	struct event		*ev_throttle;	/* the reader's rate limit */
	char			*held;		/* input held back meanwhile */
	size_t			 nheld;
};

/* imap_login.c (the settings are common/access_tls.c's) */
/* Frees the session (access_engine_ops' closed). */
void	imap_login_session_free(void *);
/* Greets the client: "* OK [CAPABILITY ...] ready". */
void	imap_login_greet(struct login_session *);

/* imap_cmd_noauth.c: the engine's command table and its SASL step. */
extern const struct imap_cmd	imap_login_cmds[];
extern const struct imap_conn_ops	imap_login_ops;
/* A line from the client while an AUTHENTICATE exchange is under way. */
void	imap_login_sasl_line(struct login_session *, const char *, size_t,
	    int flags);

/* A reload's message: 0 more to come, 1 in force, -1 refused. */
int	imap_login_conf_recv(struct ipc_msg *);

/* imap_login_authd.c */
/* Sends user and password to authd; the answer completes s->tag. */
void	imap_login_check(struct login_session *, const char *password);
/* Gives the logged-in client to the parent, once its replies are out. */
void	imap_login_handoff(void *);
/* access_engine_ops' answer: authd's answer to a password check. */
void	imap_login_answer(void *, uint32_t result);

#endif
