/*
 * The login engine's own interface, between its files (user pop3,
 * chrooted to the empty dir, seccomp SANDBOX_ENGINE): pop3_login.c
 * (clients, listeners, the parent), pop3_login_authd.c (authd's
 * answers and the handoff), pop3_cmd_auth.c and pop3_cmd_sasl.c (the
 * AUTHORIZATION state's commands).
 */
#ifndef POP3_LOGIN_H
#define POP3_LOGIN_H

#include <sys/queue.h>
#include <netinet/in.h>

#include <event2/event.h>

#include "access.h"
#include "pop3d.h"
#include "sasl.h"

/*
 * The login engine's longest line: AUTH with its initial response
 * (RFC 5034 4 lets it pass the 255 octets), or a response to "+ ".
 */
#define POP3_SASL_LINE_MAX_BYTES	(SASL_RESPONSE_MAX_BYTES + 16)

struct config;
struct event;
struct ipc_conn;
struct ipc_msg;
struct tls;

struct login_session {
	struct access_session	 as;		/* common/access_session.c */
	struct pop3_conn	 conn;
	int			 greeted;	/* pop3s: after the handshake */
	struct sasl		 sasl;		/* AUTH under way */
};

/* pop3_cmd_auth.c */
/* Answers -ERR [AUTH] and returns 1 when no password may come on c. */
int	pop3_plaintext_refused(struct pop3_conn *);

/* pop3_cmd_sasl.c */
/* AUTH [mechanism [initial-response]] (RFC 5034 4). */
void	pop3_cmd_sasl(struct pop3_conn *, struct pop3_req *);
/* A line of the client's while an AUTH exchange is under way. */
void	pop3_sasl_line(struct login_session *, const char *line, size_t len,
	    int flags);

/* pop3_login.c */
/* Frees the session (access_engine_ops' closed). */
void	login_session_free(void *);

/* pop3_login_conf.c: what new sessions use, replaced by a reload. */
/* At start: the configuration (not kept) and the TLS context, or NULL. */
void	login_conf_init(const struct config *, struct tls *);
/* A reload's message: 0 more to come, 1 in force, -1 refused. */
int	login_conf_recv(struct ipc_msg *);

/* pop3_login_authd.c */
/* Gives the logged-in client to the parent, once its replies are out. */
void	login_handoff(void *);
/* access_engine_ops' answer: authd's answer to a password check. */
void	login_answer(void *, uint32_t result);

#endif
