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
struct access_tls;
struct tls;

struct login_session {
	TAILQ_ENTRY(login_session) entry;
	struct pop3_conn	 conn;
	char			 user[AUTH_USER_MAX_BYTES];
	char			 user_vis[4 * AUTH_USER_MAX_BYTES + 8];
	char			 addr[INET6_ADDRSTRLEN];
	int			 loopback;	/* both ends are loopback */
	int			 waiting;	/* a password check is out */
	int			 handing;	/* hand off once drained */
	int			 listed;	/* in the engine's sessions */
	int			 greeted;	/* pop3s: after the handshake */
	struct sasl		 sasl;		/* AUTH under way */
	struct access_tls	*tls;		/* held from the handshake on */
	uint8_t			 token[AUTH_TOKEN_BYTES];
	struct event		*ev_wait;	/* authd is late */
};
TAILQ_HEAD(login_sessions, login_session);

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
struct login_session	*login_session_find(uint32_t id);
void	login_session_free(struct login_session *);
struct login_sessions	*login_sessions(void);

/* pop3_login_conf.c: what new sessions use, replaced by a reload. */
/* At start: the configuration (not kept) and the TLS context, or NULL. */
void	login_conf_init(const struct config *, struct tls *);
/* A reload's message: 0 more to come, 1 in force, -1 refused. */
int	login_conf_recv(struct ipc_msg *);
int	login_conf_plaintext_loopback(void);
uint32_t	 login_conf_per_client(void);

/* pop3_login_authd.c */
/* The engine's hooks for common/access_engine.c. */
extern const struct access_engine_ops	login_authd_ops;
/* Gives the logged-in client to the parent, once its replies are out. */
void	login_handoff(struct login_session *);
/* ev_wait's callback: authd did not answer in time. */
void	login_wait_timeout(evutil_socket_t, short, void *);

#endif
