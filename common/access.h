/*
 * The shape pop3d and imapd share (DESIGN.md: a root parent, a login
 * engine chrooted and seccomp'd that speaks the protocol up to the
 * login and TLS, a mailbox process per session as the mail user):
 * everything of it that does not depend on the protocol.  A daemon
 * describes itself in a struct access_daemon and calls access_main();
 * its login engine uses the engine's half (access_engine.c,
 * access_accept.c, access_tls.c, access_proxy.c).  Which process runs
 * which file is said in each file's first comment.
 */
#ifndef ACCESS_H
#define ACCESS_H

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "config.h"
#include "proto.h"
#include "sp_limits.h"

struct config;
struct daemon_ctx;
struct ipc_conn;
struct ipc_msg;
struct ipc_out;
struct lineio;
struct tls;

/* A numeric client address and port, "[addr]:port" at most. */
#define ACCESS_CLIENT_MAX_BYTES		64
/*
 * The protocol's own argument of a handoff (IMAP: the command's tag,
 * IMAP_TAG_MAX_BYTES and its NUL: imap_handoff.c checks it fits).
 */
#define ACCESS_NOTE_MAX_BYTES		128
/* Vis'd user names in log lines. */
#define ACCESS_USER_VIS_BYTES		(4 * AUTH_USER_MAX_BYTES + 8)
/* The engine and the parent give authd this long to answer. */
#define ACCESS_AUTHD_TIMEOUT_SECS	30
/*
 * The relay (access_proxy.c) reads this much at a time, and holds a
 * side back while more than ACCESS_PROXY_HIGH_BYTES wait to be written
 * to the other.
 */
#define ACCESS_PROXY_CHUNK_BYTES	(16 * 1024)
#define ACCESS_PROXY_HIGH_BYTES		(32 * 1024)

/* A login the parent is turning into a mailbox process. */
struct access_login {
	uint32_t	 id;		/* session id */
	int		 fd;		/* the client; -1 once answered */
	char		 client[ACCESS_CLIENT_MAX_BYTES];
	char		 note[ACCESS_NOTE_MAX_BYTES];
	uint64_t	 quota;		/* authd's, bytes; 0: none */
};

/* What a daemon is: its names and the hooks where protocols differ. */
struct access_daemon {
	const char	*name;		/* "pop3": every log line's word */
	enum listen_proto listen_plain;	/* LISTEN_POP3 */
	enum listen_proto listen_tls;	/* LISTEN_POP3S: implicit TLS */
	enum proc_role	 role;		/* toward authd */
	enum msg_type	 handoff_type;	/* engine to parent */
	int		 handoff_note;	/* the handoff carries str note */
	const char	*engine_role;	/* "pop3d-login" */
	const char	*mailbox_prog;	/* "pop3d-mailbox" */
	const char	*mailbox_role;	/* "pop3d-user" */
	size_t		 user_off;	/* the engine's user in the config */
	size_t		 sessions_max;	/* logged in and waiting */
	/* The engine's main (arguments: struct access_engine_args). */
	void		(*engine_main)(int parentfd, void *);
	/* Start and each reload: the settings the parent uses. */
	void		(*configure)(const struct config *);
	/* The mailbox's arguments past u32 id ... str home. */
	void		(*args_extra)(struct ipc_out *,
			    const struct access_login *);
	/* Why a login is refused for a while (NULL: admitted; text set). */
	const char	*(*admit)(const struct access_login *,
			    const char *user, char *text, size_t len);
	/* The line a client gets when its login cannot be served. */
	int		(*refusal)(const struct access_login *, char *buf,
			    size_t len);
};

/* What the parent gives its login engine (its role's main builds it). */
struct access_engine_args {
	const struct access_daemon *def;
	int		*listen_fds;
	int		 nlisten;
	int		 listen_tls[CONFIG_LISTENERS_MAX];	/* implicit */
	struct tls	*tls;		/* NULL without a pki */
	const struct config *conf;
	uid_t		 uid;
	gid_t		 gid;
	const char	*chroot;
	int		 foreground;
};

/* access_parent.c: the privileged parent (root, no chroot, no seccomp). */
/* daemon_def's parent: binds, starts the engine, serves; never returns. */
void	access_parent_main(const struct access_daemon *, struct daemon_ctx *)
	    __attribute__((noreturn));
/* The engine's role main: builds the arguments, calls engine_main. */
void	access_engine_role(const struct access_daemon *, struct daemon_ctx *)
	    __attribute__((noreturn));

/* access_handoff.c: the parent's side of a login (root). */
void	access_handoff_init(const struct access_daemon *, struct event_base *,
	    const char *authd_path, int mailbox_exe);
/* A handoff from the engine: redeems the token; owns fd. */
int	access_handoff_recv(uint32_t id, const uint8_t *token,
	    const char *user, const char *client, const char *note, int fd);
void	access_handoff_reaped(pid_t, int status, void *arg);
void	access_handoff_kill_all(int sig);

/* access_reload.c: the parent's reload on SIGHUP. */
/*
 * Reads file again; on success *confp is replaced (and published) and
 * the engine is sent the new one: 1, or 0 when it could not be sent;
 * -1 when the file or its pki is refused (nothing changes).
 */
int	access_reload(const struct access_daemon *, const char *file,
	    struct config **confp, struct ipc_conn *engine);

/* access_session.c: the login engine's clients (unprivileged). */
/*
 * What the engine keeps of every client, whatever its protocol: the
 * protocol's own session starts with one, and owner points back to it.
 */
struct access_session {
	TAILQ_ENTRY(access_session) entry;
	uint32_t	 id;		/* session id, in every log line */
	void		*owner;		/* the protocol's session */
	char		 addr[INET6_ADDRSTRLEN];
	int		 loopback;	/* both ends are loopback */
	int		 listed;	/* in the engine's list */
	int		 waiting;	/* a password check is out */
	int		 handing;	/* hand off once the output is out */
	char		 user[AUTH_USER_MAX_BYTES];
	char		 user_vis[ACCESS_USER_VIS_BYTES];
	uint8_t		 token[AUTH_TOKEN_BYTES];
	struct access_tls *tls;		/* held from the handshake on */
	struct event	*ev_wait;	/* authd is late */
};
/*
 * Lists a new client of fd (from ss), under a fresh id; -1 when out of
 * memory (access_session_remove() still applies).
 */
int	access_session_add(struct access_session *, void *owner, int fd,
	    const struct sockaddr_storage *);
/* Unlists it, stops its timer, wipes its token and drops its TLS. */
void	access_session_remove(struct access_session *);
/* The protocol's session of id, or NULL. */
void	*access_session_find(uint32_t id);
/*
 * Why a new client from addr is refused, or NULL: max in all, and
 * "limit sessions-per-client" from one address.
 */
const char	*access_session_over_limit(const char *addr, size_t max);
/* The user a login is for ("" forgets it), vis'd for the log too. */
void	access_session_user(struct access_session *, const char *);
/*
 * Sends the user's password to authd; its answer goes to the ops'
 * answer hook.  -1 when authd is down (nothing is waiting).
 */
int	access_session_check(struct access_session *, const char *password);
/* 1 when a password may be sent: under TLS, or loopback if allowed. */
int	access_session_plaintext_ok(const struct access_session *,
	    const struct lineio *);
/* The TLS context of the session (kept across reloads), or NULL. */
struct tls	*access_session_tls(struct access_session *);
/*
 * Gives the logged-in client to the parent once every reply has left
 * (lineio_detach drops what is queued): 1 when that is still to come
 * (call again on LINEIO_DRAINED), else 0 or -1 and lio is consumed.
 */
int	access_session_handoff(struct access_session *, struct lineio *,
	    const char *client, const char *note);
/* A name for a lineio event, for the disconnect line. */
const char	*access_event_name(int event);
/*
 * The lineio event callback of the session's client: arg is the
 * protocol's session, which starts with its struct access_session.
 */
void	access_session_event(struct lineio *, int event, void *arg);

/* access_engine.c: the login engine's parent and authd (unprivileged). */
/* Called with each accepted client (non-blocking, close-on-exec). */
typedef void	(*access_accept_cb)(int fd, const struct sockaddr_storage *,
		    int implicit_tls);
struct access_engine_ops {
	/*
	 * authd's answer (or a stand-in, RESULT_TEMPFAIL) to a session's
	 * password check; with RESULT_OK, the token is in the session.
	 */
	void	(*answer)(void *owner, uint32_t result);
	/* A reload's message: 0 more to come, 1 in force, -1 refused. */
	int	(*conf_recv)(struct ipc_msg *);
	/* The replies are out: hand the client off (handing was set). */
	void	(*handoff)(void *owner);
	/* The TLS handshake is over (logged): greet, or start again. */
	void	(*tls_done)(void *owner);
	/* The client is gone (logged): free it. */
	void	(*closed)(void *owner);
	/* The protocol state's name, for the log. */
	const char	*(*state)(void *owner);
};
/*
 * The engine's main, as root: keeps its descriptors, drops to its user
 * in the chroot, listens (cb gets the clients), sets the seccomp filter
 * and serves; never returns.  ident names it in the log.
 */
void	access_engine_main(const struct access_engine_args *, int parentfd,
	    const char *ident, const struct access_engine_ops *,
	    access_accept_cb) __attribute__((noreturn));
/* The engine's event base, once access_engine_main has made it. */
struct event_base	*access_engine_base(void);
/*
 * Sends a password check for session id (the service is the daemon's
 * name); -1 when authd is down or the send failed.
 */
int	access_engine_check(uint32_t id, const char *user,
	    const char *password, const char *addr);
/* authd did not answer in time: it is treated as down. */
void	access_engine_authd_late(uint32_t id);
/* The hooks given to access_engine_main. */
const struct access_engine_ops	*access_engine_ops(void);
/*
 * Gives the logged-in client to the parent, with authd's token: its
 * own socket, or under TLS or with input read ahead, a relay
 * (access_proxy.c).  The lineio is consumed either way; -1 on failure.
 */
int	access_engine_handoff(struct lineio *, uint32_t id,
	    const uint8_t *token, const char *user, const char *client,
	    const char *note);

/* access_accept.c: the engine's listeners. */
void	access_accept_init(struct event_base *, const char *name,
	    const int *fds, const int *tls, int nfds, access_accept_cb);
/* The numeric address of ss, "unknown" when it has none. */
const char	*access_addr(const struct sockaddr_storage *, char *, size_t);
/* "addr:port" of ss into buf. */
void	access_client_name(const struct sockaddr_storage *, char *, size_t);
/* Both ends loopback: "auth plaintext-on-loopback" may apply. */
int	access_is_loopback(int fd, const struct sockaddr_storage *peer);
/* A fresh non-zero session id. */
uint32_t	 access_session_id(void);
/*
 * In a freshly forked child: keeps only stdin, stdout, stderr and the
 * descriptors in fds (renumbered from 3 up, fds[] updated), and reopens
 * the log as ident (call it before any chroot: syslog needs /dev/log).
 */
void	access_child_fds(int *fds, int nfds, const char *ident,
	    int foreground);

/* access_tls.c: the engine's settings and TLS contexts, one per reload. */
struct access_tls;
struct confxfer_rx;
/*
 * The settings new sessions use: "auth plaintext-on-loopback", "limit
 * sessions-per-client", and tls (NULL: none) as the new current
 * context; the old one lives on while sessions hold it.
 */
void	access_conf_set(const char *name, const struct config *,
	    struct tls *);
/*
 * A reload's message: 0 more to come, 1 in force (applied, when not
 * NULL, saw the new configuration first), -1 refused.
 */
int	access_conf_recv(struct confxfer_rx *, struct ipc_msg *,
	    void (*applied)(const struct config *));
int	access_conf_plaintext_loopback(void);
uint32_t	 access_conf_per_client(void);
int	access_tls_offered(void);
/* How many contexts have been set (1 at start, then one per reload). */
unsigned int	 access_tls_generation(void);
/* The current context, counted for a session; NULL without one. */
struct access_tls	*access_tls_hold(void);
struct tls	*access_tls_ctx(const struct access_tls *);
void	access_tls_drop(struct access_tls *);

/* access_proxy.c: the engine relays a client to its mailbox process. */
/*
 * Takes the client (paused, its read-ahead input kept) and relays it to
 * a new socketpair; returns the other end, or -1 (the client is still
 * the caller's).
 */
int	access_proxy_start(struct event_base *, struct lineio *client,
	    const char *name, uint32_t id);

#endif
