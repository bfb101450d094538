/*
 * The login engine (user pop3, chrooted to the empty dir, seccomp
 * SANDBOX_ENGINE): its exchange with authd.  A password (from PASS or
 * from AUTH, pop3_cmd_sasl.c) goes to authd as MSG_AUTH_PASSWORD_CHECK
 * with the client's address, so that failures of both count in
 * authd's throttle; when it is right, the client's socket goes back to
 * the parent with authd's one-time token (MSG_POP3_LOGIN_HANDOFF) and
 * the engine forgets the client: it never sees a byte of mail.  The
 * connection to authd is made by the parent, and asked for again, with
 * a doubling delay, while authd is down.
 */
#include <sys/types.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc.h"
#include "lineio.h"
#include "log.h"
#include "pop3_login.h"
#include "proto.h"

static struct {
	struct event_base	*base;
	struct ipc_conn		*parent;
	struct ipc_conn		*authd;
	int			 authd_asked;
	int			 authd_delay;	/* secs before asking again */
	struct event		*ev_authd;
} la;

/* Big: kept off the stack.  The engine is one thread. */
static struct ipc_out	 login_out;

static void	login_auth_answer(struct login_session *, uint32_t);
static void	login_authd_schedule(void);

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

	if (la.authd == NULL) {
		login_tempfail(s, "authd-down");
		return;
	}
	ipc_out_init(o, MSG_AUTH_PASSWORD_CHECK, c->id);
	ipc_put_str(o, s->user);
	ipc_put_str(o, password);
	ipc_put_str(o, "pop3");
	ipc_put_str(o, s->addr);
	ipc_put_u32(o, AUTH_F_TOKEN);
	r = ipc_conn_send(la.authd, o, -1);
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
		fd = pop3_proxy_start(la.base, s->conn.lio, s->conn.id);
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
void
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
	if (ipc_conn_send(la.parent, o, fd) == -1)
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
	la.authd_delay = 1;
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
	la.authd = NULL;
	TAILQ_FOREACH_SAFE(s, login_sessions(), entry, next)
		if (s->waiting)
			login_auth_answer(s, RESULT_TEMPFAIL);
	login_authd_schedule();
}

void
login_authd_request(evutil_socket_t fd, short ev, void *arg)
{
	struct ipc_out	 *o = &login_out;

	(void)fd;
	(void)ev;
	(void)arg;
	if (la.authd != NULL || la.authd_asked)
		return;
	ipc_out_init(o, MSG_CHILD_CONNECT_REQUEST, 0);
	ipc_put_u32(o, PEER_AUTHD);
	if (ipc_conn_send(la.parent, o, -1) == -1)
		fatalx("- pop3 parent-send");
	la.authd_asked = 1;
}

/* authd is down: ask again after 1 s, doubling to IPC_RETRY_MAX_SECS. */
static void
login_authd_schedule(void)
{
	struct timeval	 tv;

	tv.tv_sec = la.authd_delay;
	tv.tv_usec = 0;
	(void)evtimer_add(la.ev_authd, &tv);
	la.authd_delay *= 2;
	if (la.authd_delay > IPC_RETRY_MAX_SECS)
		la.authd_delay = IPC_RETRY_MAX_SECS;
}

void
login_connect_reply(struct ipc_msg *m)
{
	uint32_t	 service, result;

	if (ipc_get_u32(m, &service) == -1 || ipc_get_u32(m, &result) == -1 ||
	    ipc_get_end(m) == -1 || service != PEER_AUTHD ||
	    (result == RESULT_OK) != (m->fd != -1) || !la.authd_asked)
		fatalx("- pop3 parent-malformed type=PARENT_CONNECT_REPLY");
	la.authd_asked = 0;
	if (result != RESULT_OK) {
		log_warnx("- pop3 authd-unavailable retry=%d",
		    la.authd_delay);
		login_authd_schedule();
		return;
	}
	la.authd = ipc_conn_new(la.base, m->fd, ROLE_POP3D,
	    ROLE_BIT(ROLE_AUTHD), login_authd_dispatch, login_authd_closed,
	    NULL);
	if (la.authd == NULL) {
		log_warn("- pop3 authd-conn");
		ipc_msg_clear(m);
		login_authd_schedule();
		return;
	}
	m->fd = -1;
	log_info("- pop3 authd-connected");
}

void
login_wait_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct login_session	*s = arg;

	(void)fd;
	(void)ev;
	log_warnx("%08x pop3 authd-timeout secs=%d", s->conn.id,
	    POP3_AUTHD_TIMEOUT_SECS);
	login_auth_answer(s, RESULT_TEMPFAIL);
	/* An authd that does not answer is treated as down. */
	if (la.authd != NULL)
		ipc_conn_close(la.authd, "answer timeout");
}


void
login_authd_init(struct event_base *base, struct ipc_conn *parent)
{
	la.base = base;
	la.parent = parent;
	la.authd_delay = 1;
	if ((la.ev_authd = evtimer_new(base, login_authd_request, NULL)) ==
	    NULL)
		fatalx("- pop3 engine setup");
}
