/*
 * The pop3d login engine: user pop3 (_sallypop), chrooted to the empty
 * dir, seccomp set SANDBOX_ENGINE.  It accepts clients on the listening
 * sockets it inherited, speaks TLS with them (STLS and pop3s), and
 * serves the AUTHORIZATION state (pop3_cmd_auth.c, pop3_cmd_sasl.c);
 * passwords go to authd and logins to the parent from
 * pop3_login_authd.c.  This file: the clients, the listeners, the
 * parent's messages.
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
#include "netaddr.h"
#include "pop3_login.h"
#include "privsep.h"
#include "proto.h"
#include "sandbox.h"

static struct {
	struct event_base	*base;
	struct ipc_conn		*parent;
	struct event		*ev_listen[CONFIG_LISTENERS_MAX];
	int			 listen_tls[CONFIG_LISTENERS_MAX];
	int			 nlisten;
	struct event		*ev_unpause;	/* accept again after EMFILE */
	struct login_sessions	 sessions;
	size_t			 nsessions;
} engine;

static const char *login_addr(const struct sockaddr_storage *, char *,
		    size_t);

struct login_session *
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
	if (s->sasl.step != SASL_STEP_NONE)
		pop3_sasl_line(s, line, len, flags);
	else
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
	sasl_end(&s->sasl);
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
		if (strcmp(s->addr, addr) == 0 &&
		    ++n >= login_conf_per_client())
			return "sessions-per-client";
	return NULL;
}

/* Both ends loopback: "auth plaintext-on-loopback" may apply. */
static int
login_is_loopback(int fd, const struct sockaddr_storage *peer)
{
	struct sockaddr_storage	 local;
	socklen_t		 len = sizeof(local);

	if (getsockname(fd, (struct sockaddr *)&local, &len) == -1)
		return 0;
	return netaddr_is_loopback((const struct sockaddr *)peer) &&
	    netaddr_is_loopback((const struct sockaddr *)&local);
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
	s->loopback = login_is_loopback(fd, ss);
	s->conn.lio = lineio_new(engine.base, fd, POP3_SASL_LINE_MAX_BYTES - 1,
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
	log_info("%08x pop3 connect client=%s tls=%s loopback=%d", s->conn.id,
	    s->conn.client, implicit ? "implicit" : "no", s->loopback);
	if (!implicit) {
		s->greeted = 1;
		pop3_ok(&s->conn, "sallyport POP3 ready");
	} else if ((s->tls = login_tls_hold()) == NULL ||
	    lineio_accept_tls(s->conn.lio, login_tls_ctx(s->tls)) == -1) {
		log_warnx("%08x pop3 tls-accept-failed", s->conn.id);
		login_session_free(s);
	}
}

void
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
	sasl_end(&s->sasl);
	login_tls_drop(s->tls);
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

struct login_sessions *
login_sessions(void)
{
	return &engine.sessions;
}

int
pop3_login_plaintext_ok(struct pop3_conn *c)
{
	struct login_session	*s = c->owner;

	return lineio_is_tls(c->lio) ||
	    (s->loopback && login_conf_plaintext_loopback());
}

int
pop3_login_tls_offered(void)
{
	return login_tls_offered();
}

struct tls *
pop3_login_tls(struct pop3_conn *c)
{
	struct login_session	*s = c->owner;

	if (s->tls == NULL)
		s->tls = login_tls_hold();
	return login_tls_ctx(s->tls);
}

const char *
pop3_login_user(struct pop3_conn *c)
{
	struct login_session	*s = c->owner;

	return s->user_vis;
}

/* A reload: anything wrong in it ends the engine (fail closed). */
static void
login_parent_conf(struct ipc_conn *ic, struct ipc_msg *m)
{
	switch (login_conf_recv(m)) {
	case 0:
		break;
	case 1:
		if (ipc_conn_send_empty(ic, MSG_CHILD_CONF_APPLIED, 0) == -1)
			fatalx("- pop3 cannot answer the parent's reload");
		break;
	default:
		fatalx("- pop3 bad reload from parent type=%s",
		    ipc_type_name(m->hdr.type));
	}
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
	case MSG_PARENT_CONF_DATA:
	case MSG_PARENT_CONF_COMMIT:
		login_parent_conf(ic, m);
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
	if ((engine.base = event_base_new()) == NULL)
		fatalx("- pop3 event_base_new");
	engine.parent = ipc_conn_new(engine.base, parentfd, ROLE_POP3D,
	    ROLE_BIT(ROLE_PARENT), login_parent_dispatch, login_parent_closed,
	    NULL);
	engine.ev_unpause = evtimer_new(engine.base, login_unpause, NULL);
	if (engine.parent == NULL || engine.ev_unpause == NULL)
		fatalx("- pop3 engine setup");
	login_authd_init(engine.base, engine.parent);
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
	login_conf_init(a->conf, a->tls);
	fds[n] = parentfd;
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
