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
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "access.h"
#include "config.h"
#include "ipc.h"
#include "lineio.h"
#include "log.h"
#include "pop3_login.h"
#include "proto.h"

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

/*
 * The handshake is over: pop3s greets now; after STLS (RFC 2595 4)
 * the client starts again from the AUTHORIZATION state.
 */
static void
login_tls_done(void *owner)
{
	struct login_session	*s = owner;

	if (!s->greeted) {
		s->greeted = 1;
		pop3_ok(&s->conn, "sallyport POP3 ready");
		return;
	}
	access_session_user(&s->as, "");
	sasl_end(&s->sasl);
	pop3_set_state(&s->conn, POP3_S_AUTH);
}

static const char *
login_state(void *owner)
{
	struct login_session	*s = owner;

	return pop3_state_name(s->conn.state);
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
	s->conn.owner = s;
	s->conn.state = POP3_S_AUTH;
	access_client_name(ss, s->conn.client, sizeof(s->conn.client));
	if (access_session_add(&s->as, s, fd, ss) == -1 ||
	    (s->conn.lio = lineio_new(access_engine_base(), fd,
	    POP3_SASL_LINE_MAX_BYTES - 1, login_line, access_session_event,
	    s)) == NULL) {
		log_warnx("- pop3 session-alloc");
		(void)close(fd);
		login_session_free(s);
		return;
	}
	s->conn.id = s->as.id;
	lineio_set_timeout(s->conn.lio, POP3_IDLE_TIMEOUT_SECS);
	log_info("%08x pop3 connect client=%s tls=%s loopback=%d", s->conn.id,
	    s->conn.client, implicit ? "implicit" : "no", s->as.loopback);
	if (!implicit) {
		s->greeted = 1;
		pop3_ok(&s->conn, "sallyport POP3 ready");
	} else if (access_session_tls(&s->as) == NULL ||
	    lineio_accept_tls(s->conn.lio, access_session_tls(&s->as)) ==
	    -1) {
		log_warnx("%08x pop3 tls-accept-failed", s->conn.id);
		login_session_free(s);
	}
}

void
login_session_free(void *owner)
{
	struct login_session	*s = owner;

	access_session_remove(&s->as);
	if (s->conn.lio != NULL)
		lineio_free(s->conn.lio);
	sasl_end(&s->sasl);
	free(s);
}

/*
 * A new client, unless over POP3_SESSIONS_MAX or "limit
 * sessions-per-client", as smtpd counts them (the sessions waiting for
 * their login here; a logged-in one holds its maildrop's lock, so one
 * user cannot hold many).
 */
static void
login_accept(int fd, const struct sockaddr_storage *ss, int implicit)
{
	static const char	 busy[] =
	    "-ERR [SYS/TEMP] too many sessions\r\n";
	const char		*reason;
	char			 addr[INET6_ADDRSTRLEN];

	(void)access_addr(ss, addr, sizeof(addr));
	if ((reason = access_session_over_limit(addr,
	    POP3_SESSIONS_MAX)) != NULL) {
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

	access_session_user(&s->as, user);
}

int
pop3_login_plaintext_ok(struct pop3_conn *c)
{
	struct login_session	*s = c->owner;

	return access_session_plaintext_ok(&s->as, c->lio);
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

	return access_session_tls(&s->as);
}

const char *
pop3_login_user(struct pop3_conn *c)
{
	struct login_session	*s = c->owner;

	return s->as.user_vis;
}

void
pop3_login_main(int parentfd, void *arg)
{
	struct access_engine_args	*a = arg;

	login_conf_init(a->conf, a->tls);
	static const struct access_engine_ops	 ops = {
		login_answer, login_conf_recv, login_handoff, login_tls_done,
		login_session_free, login_state
	};

	access_engine_main(a, parentfd, "pop3d-login", &ops,
	    login_accept);
}
