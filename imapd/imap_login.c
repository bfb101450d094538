/*
 * The imapd login engine: user imap (_sallyimap), chrooted to the
 * empty dir, seccomp set SANDBOX_ENGINE.  It accepts clients on the
 * listening sockets it inherited (common/access_accept.c), speaks TLS
 * with them (STARTTLS and imaps), and serves the Not Authenticated
 * state (imap_cmd_noauth.c, imap_cmd_any.c) through the command reader
 * of imap_proto.h; passwords go to authd and logins to the parent from
 * imap_login_authd.c through common/access_engine.c.  This file: the
 * clients and their input.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "access.h"
#include "config.h"
#include "confxfer.h"
#include "imap_login.h"
#include "lineio.h"
#include "log.h"

/* One line and its end, as the reader wants it.  The engine is one thread. */
static char	 login_buf[IMAP_LOGIN_LINE_MAX_BYTES + 2];

static uint64_t
login_now_ms(void)
{
	struct timespec	 ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Feeds input to the reader, which runs the commands.  The rate limit
 * (IMAP_CMDS_PER_SEC_MAX) holds the rest back and pauses the client.
 */
static void
login_feed(struct login_session *s, const char *data, size_t len)
{
	struct timeval	 tv;
	unsigned int	 wait_ms = 0;
	ssize_t		 r;

	r = imap_input(s->conn.rd, &s->conn.state, data, len, login_now_ms(),
	    &wait_ms);
	if (r == -1) {
		if (!s->conn.closing) {
			s->conn.closing = 1;
			lineio_shutdown(s->conn.lio);
		}
		return;
	}
	if ((size_t)r >= len || wait_ms == 0 || s->conn.closing)
		return;
	free(s->held);
	if ((s->held = malloc(len - (size_t)r)) == NULL) {
		imap_bye(&s->conn, "Out of memory");
		return;
	}
	memcpy(s->held, data + r, len - (size_t)r);
	s->nheld = len - (size_t)r;
	lineio_pause(s->conn.lio);
	tv.tv_sec = wait_ms / 1000;
	tv.tv_usec = (wait_ms % 1000) * 1000;
	(void)evtimer_add(s->ev_throttle, &tv);
}

static void
login_throttle_end(evutil_socket_t fd, short ev, void *arg)
{
	struct login_session	*s = arg;
	char			*held = s->held;
	size_t			 n = s->nheld;

	(void)fd;
	(void)ev;
	s->held = NULL;
	s->nheld = 0;
	if (held != NULL) {
		login_feed(s, held, n);
		free(held);
	}
	if (s->held == NULL && !s->as.waiting && !s->conn.closing)
		lineio_resume(s->conn.lio);
}

static void
login_line(struct lineio *lio, const char *line, size_t len, int flags,
    void *arg)
{
	struct login_session	*s = arg;

	(void)lio;
	if (s->conn.closing)
		return;
	if (s->sasl.step != SASL_STEP_NONE) {
		imap_login_sasl_line(s, line, len, flags);
		return;
	}
	if (flags & LINE_F_TOOLONG) {
		log_info("%08x imap line-too-long", s->conn.id);
		imap_bye(&s->conn, "Line too long");
		return;
	}
	/* The reader sees the line as it came, its end included. */
	memcpy(login_buf, line, len);
	if (flags & LINE_F_BARELF)
		login_buf[len++] = '\n';
	else {
		login_buf[len++] = '\r';
		login_buf[len++] = '\n';
	}
	login_feed(s, login_buf, len);
}

void
imap_login_greet(struct login_session *s)
{
	char	 capa[IMAP_REPLY_MAX_BYTES];

	s->greeted = 1;
	if (imap_login_ops.capability(&s->conn, capa, sizeof(capa)) == -1)
		capa[0] = '\0';
	imap_line(&s->conn, "* OK [CAPABILITY %s] sallyport IMAP ready", capa);
}

/*
 * The handshake is over: imaps greets now; after STARTTLS (RFC 3501
 * 6.2.1) the client asks for the capabilities again, and an exchange
 * begun before is forgotten.
 */
static void
login_tls_done(void *owner)
{
	struct login_session	*s = owner;

	if (!s->greeted) {
		imap_login_greet(s);
		return;
	}
	access_session_user(&s->as, "");
	sasl_end(&s->sasl);
}

static const char *
login_state(void *owner)
{
	struct login_session	*s = owner;

	return imap_state_name(s->conn.state);
}

static int
login_session_setup(struct login_session *s, int fd,
    const struct sockaddr_storage *ss)
{
	if (access_session_add(&s->as, s, fd, ss) == -1 ||
	    (s->conn.lio = lineio_new(access_engine_base(), fd,
	    IMAP_LOGIN_LINE_MAX_BYTES, login_line, access_session_event,
	    s)) == NULL) {
		(void)close(fd);
		return -1;
	}
	s->conn.id = s->as.id;
	s->ev_throttle = evtimer_new(access_engine_base(), login_throttle_end,
	    s);
	s->conn.rd = imap_reader_new(imap_login_cmds, &imap_conn_io, NULL,
	    &s->conn);
	if (s->ev_throttle == NULL || s->conn.rd == NULL)
		return -1;
	lineio_set_timeout(s->conn.lio, IMAP_LOGIN_IDLE_TIMEOUT_SECS);
	return 0;
}

static void
login_session_new(int fd, const struct sockaddr_storage *ss, int implicit)
{
	struct login_session	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		log_warn("- imap session-alloc");
		(void)close(fd);
		return;
	}
	s->conn.owner = s;
	s->conn.ops = &imap_login_ops;
	s->conn.state = IMAP_S_NOAUTH;
	access_client_name(ss, s->conn.client, sizeof(s->conn.client));
	if (login_session_setup(s, fd, ss) == -1) {
		log_warnx("- imap session-alloc");
		imap_login_session_free(s);
		return;
	}
	log_info("%08x imap connect client=%s tls=%s loopback=%d", s->conn.id,
	    s->conn.client, implicit ? "implicit" : "no", s->as.loopback);
	if (!implicit)
		imap_login_greet(s);
	else if (access_session_tls(&s->as) == NULL ||
	    lineio_accept_tls(s->conn.lio, access_session_tls(&s->as)) ==
	    -1) {
		log_warnx("%08x imap tls-accept-failed", s->conn.id);
		imap_login_session_free(s);
	}
}

void
imap_login_session_free(void *owner)
{
	struct login_session	*s = owner;

	access_session_remove(&s->as);
	if (s->ev_throttle != NULL)
		event_free(s->ev_throttle);
	if (s->conn.lio != NULL)
		lineio_free(s->conn.lio);
	if (s->conn.rd != NULL)
		imap_reader_free(s->conn.rd);
	free(s->held);
	sasl_end(&s->sasl);
	free(s);
}

/*
 * A new client, unless over IMAP_SESSIONS_MAX or "limit
 * sessions-per-client" (the clients waiting for their login here).
 * RFC 3501 7.1.5: a BYE may be the greeting.
 */
static void
login_accept(int fd, const struct sockaddr_storage *ss, int implicit)
{
	static const char	 busy[] = "* BYE Too many sessions\r\n";
	const char		*reason;
	char			 addr[INET6_ADDRSTRLEN];

	(void)access_addr(ss, addr, sizeof(addr));
	if ((reason = access_session_over_limit(addr,
	    IMAP_SESSIONS_MAX)) != NULL) {
		log_warnx("- imap refused client=%s reason=%s", addr, reason);
		if (!implicit)
			(void)send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL);
		(void)close(fd);
		return;
	}
	login_session_new(fd, ss, implicit);
}

static struct confxfer_rx	 login_conf_rx = CONFXFER_RX_INIT("imap");

int
imap_login_conf_recv(struct ipc_msg *m)
{
	return access_conf_recv(&login_conf_rx, m, NULL);
}

void
imap_login_main(int parentfd, void *arg)
{
	struct access_engine_args	*a = arg;

	access_conf_set("imap", a->conf, a->tls);
	static const struct access_engine_ops	 ops = {
		imap_login_answer, imap_login_conf_recv, imap_login_handoff,
		login_tls_done, imap_login_session_free, login_state
	};

	access_engine_main(a, parentfd, "imapd-login", &ops,
	    login_accept);
}
