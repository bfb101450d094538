/*
 * The login engine (user pop3, chrooted to the empty dir, seccomp
 * SANDBOX_ENGINE): what a POP3 session makes of authd's answers.  The
 * channels to authd and to the parent are common/access_engine.c's; a
 * password (from PASS or from AUTH, pop3_cmd_sasl.c) goes to authd
 * there, and a client whose password is right goes back to the parent
 * from there, with authd's one-time token.
 */
#include <sys/types.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "access.h"
#include "lineio.h"
#include "log.h"
#include "pop3_login.h"
#include "proto.h"

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
	struct timeval		 tv = { ACCESS_AUTHD_TIMEOUT_SECS, 0 };

	if (access_engine_check(c->id, s->user, password, s->addr) == -1) {
		login_tempfail(s, "authd-down");
		return;
	}
	s->waiting = 1;
	lineio_pause(c->lio);
	(void)evtimer_add(s->ev_wait, &tv);
}

/*
 * Gives the client to the parent.  Every reply must have left first
 * (lineio_detach drops what is queued).
 */
void
login_handoff(struct login_session *s)
{
	s->handing = 0;
	if (lineio_output_pending(s->conn.lio) > 0) {
		s->handing = 1;
		lineio_want_drain(s->conn.lio);
		return;
	}
	(void)access_engine_handoff(s->conn.lio, s->conn.id, s->token,
	    s->user, s->conn.client, "");
	s->conn.lio = NULL;
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
login_auth_result(uint32_t id, uint32_t result, const uint8_t *token)
{
	struct login_session	*s;

	s = login_session_find(id);
	if (s == NULL || !s->waiting) {
		/* The client left meanwhile; the token expires unused. */
		log_debug("%08x pop3 late-auth-answer", id);
		return;
	}
	if (token != NULL)
		memcpy(s->token, token, sizeof(s->token));
	login_auth_answer(s, result);
}

static void
login_authd_lost(void)
{
	struct login_session	*s, *next;

	TAILQ_FOREACH_SAFE(s, login_sessions(), entry, next)
		if (s->waiting)
			login_auth_answer(s, RESULT_TEMPFAIL);
}

const struct access_engine_ops login_authd_ops = {
	login_auth_result, login_authd_lost, login_conf_recv
};

void
login_wait_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct login_session	*s = arg;
	uint32_t		 id = s->conn.id;

	(void)fd;
	(void)ev;
	login_auth_answer(s, RESULT_TEMPFAIL);
	access_engine_authd_late(id);
}
