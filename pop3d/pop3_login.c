/*
 * The pop3d login engine: user pop3 (_sallypop), chrooted to the empty
 * dir, seccomp set SANDBOX_ENGINE.  It accepts clients on the listening
 * sockets it inherited, speaks TLS with them (STLS and pop3s), and
 * serves the AUTHORIZATION state (pop3_cmd_auth.c, pop3_cmd_sasl.c);
 * passwords go to authd and logins to the parent from
 * pop3_login_authd.c through common/access_engine.c.  This file: the
 * clients (the listeners are common/access_accept.c's).
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

#include "access.h"
#include "config.h"
#include "ipc.h"
#include "lineio.h"
#include "log.h"
#include "pop3_login.h"
#include "privsep.h"
#include "proto.h"
#include "sandbox.h"

static struct {
	struct event_base	*base;
	struct login_sessions	 sessions;
	size_t			 nsessions;
} engine;

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
		s->conn.id = access_session_id();
	} while (login_session_find(s->conn.id) != NULL);
	s->conn.owner = s;
	s->conn.state = POP3_S_AUTH;
	(void)access_addr(ss, s->addr, sizeof(s->addr));
	access_client_name(ss, s->conn.client, sizeof(s->conn.client));
	s->ev_wait = evtimer_new(engine.base, login_wait_timeout, s);
	s->loopback = access_is_loopback(fd, ss);
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
	} else if ((s->tls = access_tls_hold()) == NULL ||
	    lineio_accept_tls(s->conn.lio, access_tls_ctx(s->tls)) == -1) {
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
	access_tls_drop(s->tls);
	free(s);
}

static void
login_accept(int fd, const struct sockaddr_storage *ss, int implicit)
{
	static const char	 busy[] =
	    "-ERR [SYS/TEMP] too many sessions\r\n";
	const char		*reason;
	char			 addr[INET6_ADDRSTRLEN];

	(void)access_addr(ss, addr, sizeof(addr));
	if ((reason = login_over_limit(addr)) != NULL) {
		log_warnx("- pop3 refused client=%s reason=%s", addr, reason);
		(void)send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL);
		(void)close(fd);
		return;
	}
	login_session_new(fd, ss, implicit);
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
	return access_tls_offered();
}

struct tls *
pop3_login_tls(struct pop3_conn *c)
{
	struct login_session	*s = c->owner;

	if (s->tls == NULL)
		s->tls = access_tls_hold();
	return access_tls_ctx(s->tls);
}

const char *
pop3_login_user(struct pop3_conn *c)
{
	struct login_session	*s = c->owner;

	return s->user_vis;
}

void
pop3_login_main(int parentfd, void *arg)
{
	struct access_engine_args	*a = arg;
	int				 fds[CONFIG_LISTENERS_MAX + 1];
	int				 i, n = a->nlisten;

	for (i = 0; i < n; i++)
		fds[i] = a->listen_fds[i];
	login_conf_init(a->conf, a->tls);
	fds[n] = parentfd;
	access_child_fds(fds, n + 1, "pop3d-login", a->foreground);
	(void)signal(SIGPIPE, SIG_IGN);
	privsep_drop(a->uid, a->gid, a->chroot);
	/* libevent's epoll descriptor is made before the filter is on. */
	TAILQ_INIT(&engine.sessions);
	engine.base = access_engine_init(a->def, fds[n], &login_authd_ops);
	access_accept_init(engine.base, "pop3", fds, a->listen_tls, n,
	    login_accept);
	sandbox_init(SANDBOX_ENGINE);
	log_info("- pop3 engine-ready listeners=%d", n);
	access_engine_start();
	(void)event_base_dispatch(engine.base);
	fatalx("- pop3 engine event loop ended");
}
