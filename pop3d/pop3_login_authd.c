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
	    s->conn.id, s->as.user_vis, why);
	pop3_set_state(&s->conn, POP3_S_AUTH);
	pop3_err_sys(&s->conn,
	    "[SYS/TEMP] authentication service unavailable");
}

void
pop3_login_check(struct pop3_conn *c, const char *password)
{
	struct login_session	*s = c->owner;

	if (access_session_check(&s->as, password) == -1) {
		login_tempfail(s, "authd-down");
		return;
	}
	lineio_pause(c->lio);
}

/*
 * Gives the client to the parent.  Every reply must have left first
 * (lineio_detach drops what is queued).
 */
void
login_handoff(void *owner)
{
	struct login_session	*s = owner;

	if (access_session_handoff(&s->as, s->conn.lio, s->conn.client,
	    "") == 1)
		return;
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
	    s->conn.id, s->as.user_vis, s->as.addr);
	pop3_err_sys(&s->conn, "[SYS/TEMP] too many failed logins, "
	    "try again later");
	s->conn.closing = 1;
	lineio_shutdown(s->conn.lio);
}

/* authd's answer to a password check, or a stand-in for it. */
void
login_answer(void *owner, uint32_t result)
{
	struct login_session	*s = owner;

	switch (result) {
	case RESULT_OK:
		log_info("%08x pop3 login user=%s result=ok", s->conn.id,
		    s->as.user_vis);
		login_handoff(s);
		return;
	case RESULT_PERMFAIL:
		log_info("%08x pop3 login user=%s result=fail", s->conn.id,
		    s->as.user_vis);
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

