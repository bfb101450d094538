/*
 * The pop3d login engine: user pop3 (_sallypop), chrooted to the empty
 * dir, seccomp set SANDBOX_ENGINE.  It accepts clients on the listening
 * sockets it inherited, serves the AUTHORIZATION state, and asks authd
 * (through a connection its parent makes for it) whether a password is
 * right.  When it is, the client's socket goes back to the parent with
 * authd's one-time token (MSG_POP3_LOGIN_HANDOFF) and the engine forgets
 * the client: it never sees a byte of mail.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "ipc.h"
#include "lineio.h"
#include "log.h"
#include "pop3d.h"
#include "privsep.h"
#include "proto.h"
#include "sandbox.h"

struct login_session {
	TAILQ_ENTRY(login_session) entry;
	struct pop3_conn	 conn;
	char			 user[POP3_ARG_MAX_BYTES + 1];
	char			 user_vis[4 * POP3_ARG_MAX_BYTES + 8];
	char			 addr[INET6_ADDRSTRLEN];
	int			 waiting;	/* a password check is out */
	int			 handing;	/* hand off once drained */
	int			 listed;	/* in engine.sessions */
	int			 greeted;	/* pop3s: after the handshake */
	uint8_t			 token[AUTH_TOKEN_BYTES];
	struct event		*ev_wait;	/* authd is late */
};

static struct {
	struct event_base	*base;
	struct ipc_conn		*parent;
	struct ipc_conn		*authd;
	int			 authd_asked;
	int			 authd_delay;	/* secs before asking again */
	struct event		*ev_authd;
	struct event		*ev_listen[CONFIG_LISTENERS_MAX];
	int			 listen_tls[CONFIG_LISTENERS_MAX];
	int			 nlisten;
	struct tls		*tls;		/* NULL without a pki */
	struct event		*ev_unpause;	/* accept again after EMFILE */
	TAILQ_HEAD(, login_session) sessions;
	size_t			 nsessions;
	uint32_t		 per_client;	/* sessions-per-client */
} engine;

/* Big: kept off the stack.  The engine is one thread. */
static struct ipc_out	 login_out;

static void	login_session_free(struct login_session *);
static const char *login_addr(const struct sockaddr_storage *, char *,
		    size_t);
static void	login_auth_answer(struct login_session *, uint32_t);
static void	login_authd_schedule(void);

static struct login_session *
login_session_find(uint32_t id)
{
	struct login_session	*s;

	TAILQ_FOREACH(s, &engine.sessions, entry)
		if (s->conn.id == id)
			return s;
	return NULL;
}

static void
login_line(struct lineio *lio, const char *line, size_t len, int flags,
    void *arg)
{
	struct login_session	*s = arg;

	(void)lio;
	pop3_dispatch(pop3_auth_cmds, &s->conn, line, len, flags);
}

static const char *
login_event_name(int event)
{
	switch (event) {
	case LINEIO_EOF:
		return "eof";
	case LINEIO_TIMEOUT:
		return "timeout";
	case LINEIO_CLOSED:
		return "closed";
	case LINEIO_TLS_ERROR:
		return "tls-error";
	default:
		return "error";
	}
}

static void login_handoff(struct login_session *);

/*
 * The handshake is over: pop3s greets now; after STLS (RFC 2595 4)
 * the client starts again from the AUTHORIZATION state.
 */
static void
login_tls_done(struct login_session *s)
{
	log_info("%08x pop3 tls version=%s cipher=%s", s->conn.id,
	    lineio_tls_version(s->conn.lio), lineio_tls_cipher(s->conn.lio));
	if (!s->greeted) {
		s->greeted = 1;
		pop3_ok(&s->conn, "sallyport POP3 ready");
		return;
	}
	s->user[0] = s->user_vis[0] = '\0';
	pop3_set_state(&s->conn, POP3_S_AUTH);
}

static void
login_event(struct lineio *lio, int event, void *arg)
{
	struct login_session	*s = arg;

	(void)lio;
	if (event == LINEIO_DRAINED) {
		if (s->handing)
			login_handoff(s);
		return;
	}
	if (event == LINEIO_TLS_DONE) {
		login_tls_done(s);
		return;
	}
	log_info("%08x pop3 disconnect state=%s reason=%s", s->conn.id,
	    pop3_state_name(s->conn.state), login_event_name(event));
	login_session_free(s);
}

static void
login_wait_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct login_session	*s = arg;

	(void)fd;
	(void)ev;
	log_warnx("%08x pop3 authd-timeout secs=%d", s->conn.id,
	    POP3_AUTHD_TIMEOUT_SECS);
	login_auth_answer(s, RESULT_TEMPFAIL);
	/* An authd that does not answer is treated as down. */
	if (engine.authd != NULL)
		ipc_conn_close(engine.authd, "answer timeout");
}

static void
login_client_name(struct login_session *s, const struct sockaddr_storage *ss)
{
	in_port_t	 port;

	if (ss->ss_family == AF_INET6)
		port = ((const struct sockaddr_in6 *)ss)->sin6_port;
	else
		port = ((const struct sockaddr_in *)ss)->sin_port;
	(void)login_addr(ss, s->addr, sizeof(s->addr));
	(void)snprintf(s->conn.client, sizeof(s->conn.client), "%s:%u",
	    s->addr, ntohs(port));
}

/* The numeric address of ss, "unknown" when it has none. */
static const char *
login_addr(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	const void	*a;

	if (ss->ss_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
	else
		a = &((const struct sockaddr_in *)ss)->sin_addr;
	if (inet_ntop(ss->ss_family, a, buf, len) == NULL)
		(void)strlcpy(buf, "unknown", len);
	return buf;
}

/*
 * Why a new client is refused, or NULL: POP3_SESSIONS_MAX in all, and
 * "limit sessions-per-client" from one address, as smtpd counts them
 * (the sessions waiting for their login here; a logged-in one holds
 * its maildrop's lock, so one user cannot hold many).
 */
static const char *
login_over_limit(const char *addr)
{
	struct login_session	*s;
	size_t			 n = 0;

	if (engine.nsessions >= POP3_SESSIONS_MAX)
		return "sessions-max";
	TAILQ_FOREACH(s, &engine.sessions, entry)
		if (strcmp(s->addr, addr) == 0 && ++n >= engine.per_client)
			return "sessions-per-client";
	return NULL;
}

static void
login_session_new(int fd, const struct sockaddr_storage *ss, int implicit)
{
	struct login_session	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		log_warn("- pop3 session-alloc");
		(void)close(fd);
		return;
	}
	do {
		s->conn.id = pop3_session_id();
	} while (login_session_find(s->conn.id) != NULL);
	s->conn.owner = s;
	s->conn.state = POP3_S_AUTH;
	login_client_name(s, ss);
	s->ev_wait = evtimer_new(engine.base, login_wait_timeout, s);
	s->conn.lio = lineio_new(engine.base, fd, POP3_CMD_LINE_MAX_BYTES - 1,
	    login_line, login_event, s);
	if (s->ev_wait == NULL || s->conn.lio == NULL) {
		log_warnx("- pop3 session-alloc");
		if (s->conn.lio == NULL)
			(void)close(fd);
		login_session_free(s);
		return;
	}
	TAILQ_INSERT_TAIL(&engine.sessions, s, entry);
	engine.nsessions++;
	s->listed = 1;
	lineio_set_timeout(s->conn.lio, POP3_IDLE_TIMEOUT_SECS);
	log_info("%08x pop3 connect client=%s tls=%s", s->conn.id,
	    s->conn.client, implicit ? "implicit" : "no");
	if (!implicit) {
		s->greeted = 1;
		pop3_ok(&s->conn, "sallyport POP3 ready");
	} else if (lineio_accept_tls(s->conn.lio, engine.tls) == -1) {
		log_warnx("%08x pop3 tls-accept-failed", s->conn.id);
		login_session_free(s);
	}
}

static void
login_session_free(struct login_session *s)
{
	if (s->listed) {
		TAILQ_REMOVE(&engine.sessions, s, entry);
		engine.nsessions--;
	}
	if (s->ev_wait != NULL)
		event_free(s->ev_wait);
	if (s->conn.lio != NULL)
		lineio_free(s->conn.lio);
	explicit_bzero(s->token, sizeof(s->token));
	free(s);
}

static void
login_unpause(evutil_socket_t fd, short ev, void *arg)
{
	int	 i;

	(void)fd;
	(void)ev;
	(void)arg;
	for (i = 0; i < engine.nlisten; i++)
		(void)event_add(engine.ev_listen[i], NULL);
}

/* Out of descriptors: stop accepting for a second rather than spin. */
static void
login_accept_pause(void)
{
	struct timeval	 tv = { 1, 0 };
	int		 i;

	for (i = 0; i < engine.nlisten; i++)
		(void)event_del(engine.ev_listen[i]);
	(void)evtimer_add(engine.ev_unpause, &tv);
}

static void
login_accept(evutil_socket_t lfd, short ev, void *arg)
{
	static const char	 busy[] =
	    "-ERR [SYS/TEMP] too many sessions\r\n";
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	const char		*reason;
	char			 addr[INET6_ADDRSTRLEN];
	int			 fd, implicit = *(const int *)arg;

	(void)ev;
	fd = accept4(lfd, (struct sockaddr *)&ss, &len,
	    SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		if (errno == EMFILE || errno == ENFILE) {
			log_warn("- pop3 accept");
			login_accept_pause();
		} else if (errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR && errno != ECONNABORTED)
			log_warn("- pop3 accept");
		return;
	}
	(void)login_addr(&ss, addr, sizeof(addr));
	if ((reason = login_over_limit(addr)) != NULL) {
		log_warnx("- pop3 refused client=%s reason=%s", addr, reason);
		(void)send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL);
		(void)close(fd);
		return;
	}
	login_session_new(fd, &ss, implicit);
}

void
pop3_login_set_user(struct pop3_conn *c, const char *user)
{
	struct login_session	*s = c->owner;

	(void)strlcpy(s->user, user, sizeof(s->user));
	(void)log_vis(s->user_vis, sizeof(s->user_vis), user, strlen(user));
}

struct tls *
pop3_login_tls(void)
{
	return engine.tls;
}

const char *
pop3_login_user(struct pop3_conn *c)
{
	struct login_session	*s = c->owner;

	return s->user_vis;
}

/* The check could not be made: answer so, and let the client retry. */
static void
login_tempfail(struct login_session *s, const char *why)
{
	log_info("%08x pop3 login user=%s result=tempfail reason=%s",
	    s->conn.id, s->user_vis, why);
	pop3_set_state(&s->conn, POP3_S_AUTH);
	pop3_err_sys(&s->conn,
	    "[SYS/TEMP] authentication service unavailable");
}

void
pop3_login_check(struct pop3_conn *c, const char *password)
{
	struct login_session	*s = c->owner;
	struct ipc_out		*o = &login_out;
	struct timeval		 tv = { POP3_AUTHD_TIMEOUT_SECS, 0 };
	int			 r;

	if (engine.authd == NULL) {
		login_tempfail(s, "authd-down");
		return;
	}
	ipc_out_init(o, MSG_AUTH_PASSWORD_CHECK, c->id);
	ipc_put_str(o, s->user);
	ipc_put_str(o, password);
	ipc_put_str(o, "pop3");
	ipc_put_str(o, s->addr);
	ipc_put_u32(o, AUTH_F_TOKEN);
	r = ipc_conn_send(engine.authd, o, -1);
	explicit_bzero(o->buf, o->hdr.len);
	if (r == -1) {
		login_tempfail(s, "authd-send");
		return;
	}
	s->waiting = 1;
	lineio_pause(c->lio);
	(void)evtimer_add(s->ev_wait, &tv);
}

/*
 * The descriptor the mailbox process gets: the client's own, or, under
 * TLS (whose state and key stay here) or when the client sent commands
 * after PASS that sit read in our buffer, a socketpair that the engine
 * relays to it, those commands first.
 */
static int
login_client_fd(struct login_session *s)
{
	int	 fd;

	if (lineio_pending(s->conn.lio) > 0 || lineio_is_tls(s->conn.lio))
		fd = pop3_proxy_start(engine.base, s->conn.lio, s->conn.id);
	else
		fd = lineio_detach(s->conn.lio);
	if (fd != -1)
		s->conn.lio = NULL;
	return fd;
}

/*
 * Gives the client to the parent.  Every reply must have left first
 * (lineio_detach drops what is queued).
 */
static void
login_handoff(struct login_session *s)
{
	struct ipc_out	*o = &login_out;
	int		 fd;

	s->handing = 0;
	if (lineio_output_pending(s->conn.lio) > 0) {
		s->handing = 1;
		lineio_want_drain(s->conn.lio);
		return;
	}
	if ((fd = login_client_fd(s)) == -1) {
		log_warnx("%08x pop3 handoff-failed reason=detach", s->conn.id);
		login_session_free(s);
		return;
	}
	ipc_out_init(o, MSG_POP3_LOGIN_HANDOFF, s->conn.id);
	ipc_put_data(o, s->token, sizeof(s->token));
	ipc_put_str(o, s->user);
	ipc_put_str(o, s->conn.client);
	if (ipc_conn_send(engine.parent, o, fd) == -1)
		log_warnx("%08x pop3 handoff-failed reason=send", s->conn.id);
	else
		log_debug("%08x pop3 handoff", s->conn.id);
	explicit_bzero(o->buf, o->hdr.len);
	login_session_free(s);
}

/*
 * authd refuses this address for a while (too many failed logins, over
 * any service): say so and close, as smtpd answers 421.  RFC 3206
 * [SYS/TEMP]: waiting clears it, and the password may well be right.
 */
static void
login_throttled(struct login_session *s)
{
	log_info("%08x pop3 login user=%s result=throttled client=%s",
	    s->conn.id, s->user_vis, s->addr);
	pop3_err_sys(&s->conn, "[SYS/TEMP] too many failed logins, "
	    "try again later");
	s->conn.closing = 1;
	lineio_shutdown(s->conn.lio);
}

/* authd's answer to a password check, or a stand-in for it. */
static void
login_auth_answer(struct login_session *s, uint32_t result)
{
	(void)evtimer_del(s->ev_wait);
	s->waiting = 0;
	switch (result) {
	case RESULT_OK:
		log_info("%08x pop3 login user=%s result=ok", s->conn.id,
		    s->user_vis);
		login_handoff(s);
		return;
	case RESULT_PERMFAIL:
		log_info("%08x pop3 login user=%s result=fail", s->conn.id,
		    s->user_vis);
		pop3_set_state(&s->conn, POP3_S_AUTH);
		pop3_err_logged(&s->conn,
		    "[AUTH] invalid user name or password");
		break;
	case RESULT_THROTTLED:
		login_throttled(s);
		return;
	default:
		login_tempfail(s, "authd");
		break;
	}
	if (!s->conn.closing)
		lineio_resume(s->conn.lio);
}

static void
login_auth_result(struct ipc_conn *ic, struct ipc_msg *m)
{
	struct login_session	*s;
	uint8_t			 token[AUTH_TOKEN_BYTES];
	uint32_t		 result;

	if (ipc_get_u32(m, &result) == -1 || (result == RESULT_OK &&
	    ipc_get_data(m, token, sizeof(token)) == -1) ||
	    ipc_get_end(m) == -1) {
		ipc_conn_close(ic, "malformed PASSWORD_RESULT");
		return;
	}
	engine.authd_delay = 1;
	s = login_session_find(m->hdr.peerid);
	if (s == NULL || !s->waiting) {
		/* The client left meanwhile; the token expires unused. */
		log_debug("%08x pop3 late-auth-answer", m->hdr.peerid);
	} else {
		if (result == RESULT_OK)
			memcpy(s->token, token, sizeof(token));
		login_auth_answer(s, result);
	}
	explicit_bzero(token, sizeof(token));
}

static void
login_authd_dispatch(struct ipc_conn *ic, struct ipc_msg *m, void *arg)
{
	(void)arg;
	if (m->hdr.type == MSG_AUTH_PASSWORD_RESULT && m->fd == -1)
		login_auth_result(ic, m);
	else {
		log_warnx("- pop3 authd-unexpected type=%s",
		    ipc_type_name(m->hdr.type));
		ipc_conn_close(ic, "unexpected message");
	}
	ipc_msg_clear(m);
}

static void
login_authd_closed(struct ipc_conn *ic, void *arg)
{
	struct login_session	*s, *next;

	(void)arg;
	log_warnx("- pop3 authd-lost");
	ipc_conn_free(ic);
	engine.authd = NULL;
	TAILQ_FOREACH_SAFE(s, &engine.sessions, entry, next)
		if (s->waiting)
			login_auth_answer(s, RESULT_TEMPFAIL);
	login_authd_schedule();
}

static void
login_authd_request(evutil_socket_t fd, short ev, void *arg)
{
	struct ipc_out	 *o = &login_out;

	(void)fd;
	(void)ev;
	(void)arg;
	if (engine.authd != NULL || engine.authd_asked)
		return;
	ipc_out_init(o, MSG_CHILD_CONNECT_REQUEST, 0);
	ipc_put_u32(o, PEER_AUTHD);
	if (ipc_conn_send(engine.parent, o, -1) == -1)
		fatalx("- pop3 parent-send");
	engine.authd_asked = 1;
}

/* authd is down: ask again after 1 s, doubling to IPC_RETRY_MAX_SECS. */
static void
login_authd_schedule(void)
{
	struct timeval	 tv;

	tv.tv_sec = engine.authd_delay;
	tv.tv_usec = 0;
	(void)evtimer_add(engine.ev_authd, &tv);
	engine.authd_delay *= 2;
	if (engine.authd_delay > IPC_RETRY_MAX_SECS)
		engine.authd_delay = IPC_RETRY_MAX_SECS;
}

static void
login_connect_reply(struct ipc_msg *m)
{
	uint32_t	 service, result;

	if (ipc_get_u32(m, &service) == -1 || ipc_get_u32(m, &result) == -1 ||
	    ipc_get_end(m) == -1 || service != PEER_AUTHD ||
	    (result == RESULT_OK) != (m->fd != -1) || !engine.authd_asked)
		fatalx("- pop3 parent-malformed type=PARENT_CONNECT_REPLY");
	engine.authd_asked = 0;
	if (result != RESULT_OK) {
		log_warnx("- pop3 authd-unavailable retry=%d",
		    engine.authd_delay);
		login_authd_schedule();
		return;
	}
	engine.authd = ipc_conn_new(engine.base, m->fd, ROLE_POP3D,
	    ROLE_BIT(ROLE_AUTHD), login_authd_dispatch, login_authd_closed,
	    NULL);
	if (engine.authd == NULL) {
		log_warn("- pop3 authd-conn");
		ipc_msg_clear(m);
		login_authd_schedule();
		return;
	}
	m->fd = -1;
	log_info("- pop3 authd-connected");
}

/* The parent is trusted to be well-formed: anything else is fatal. */
static void
login_parent_dispatch(struct ipc_conn *ic, struct ipc_msg *m, void *arg)
{
	uint32_t	 verbose;

	(void)ic;
	(void)arg;
	switch (m->hdr.type) {
	case MSG_PARENT_CONNECT_REPLY:
		login_connect_reply(m);
		break;
	case MSG_PARENT_LOG_VERBOSE:
		if (ipc_get_u32(m, &verbose) == -1 || ipc_get_end(m) == -1 ||
		    m->fd != -1)
			fatalx("- pop3 parent-malformed type=LOG_VERBOSE");
		log_setverbose(verbose != 0);
		break;
	default:
		fatalx("- pop3 parent-unexpected type=%s",
		    ipc_type_name(m->hdr.type));
	}
	ipc_msg_clear(m);
}

static void
login_parent_closed(struct ipc_conn *ic, void *arg)
{
	(void)ic;
	(void)arg;
	log_info("- pop3 parent-gone");
	exit(0);
}

static void
login_setup_events(int parentfd, int *fds, int nfds)
{
	int	 i;

	TAILQ_INIT(&engine.sessions);
	engine.authd_delay = 1;
	if ((engine.base = event_base_new()) == NULL)
		fatalx("- pop3 event_base_new");
	engine.parent = ipc_conn_new(engine.base, parentfd, ROLE_POP3D,
	    ROLE_BIT(ROLE_PARENT), login_parent_dispatch, login_parent_closed,
	    NULL);
	engine.ev_authd = evtimer_new(engine.base, login_authd_request, NULL);
	engine.ev_unpause = evtimer_new(engine.base, login_unpause, NULL);
	if (engine.parent == NULL || engine.ev_authd == NULL ||
	    engine.ev_unpause == NULL)
		fatalx("- pop3 engine setup");
	for (i = 0; i < nfds; i++) {
		engine.ev_listen[i] = event_new(engine.base, fds[i],
		    EV_READ | EV_PERSIST, login_accept, &engine.listen_tls[i]);
		if (engine.ev_listen[i] == NULL ||
		    event_add(engine.ev_listen[i], NULL) == -1)
			fatalx("- pop3 listen event");
	}
	engine.nlisten = nfds;
}

void
pop3_login_main(int parentfd, void *arg)
{
	struct pop3_login_args	*a = arg;
	int			 fds[CONFIG_LISTENERS_MAX + 1];
	int			 i, n = a->nlisten;

	for (i = 0; i < n; i++) {
		fds[i] = a->listen_fds[i];
		engine.listen_tls[i] = a->listen_tls[i];
	}
	engine.tls = a->tls;
	fds[n] = parentfd;
	engine.per_client = a->per_client;
	pop3_child_fds(fds, n + 1, "pop3d-login", a->foreground);
	(void)signal(SIGPIPE, SIG_IGN);
	privsep_drop(a->uid, a->gid, a->chroot);
	/* libevent's epoll descriptor is made before the filter is on. */
	login_setup_events(fds[n], fds, n);
	sandbox_init(SANDBOX_ENGINE);
	log_info("- pop3 engine-ready listeners=%d", n);
	login_authd_request(-1, 0, NULL);
	(void)event_base_dispatch(engine.base);
	fatalx("- pop3 engine event loop ended");
}
