/*
 * The imapd login engine (user imap, chrooted to the empty dir,
 * seccomp SANDBOX_ENGINE): what an IMAP session makes of authd's
 * answers.  The channels to authd and to the parent are
 * common/access_engine.c's.  A LOGIN or AUTHENTICATE waits for authd
 * with the client paused (commands sent after it stay unread); a right
 * password sends the client, with the command's tag, to the parent,
 * whose mailbox process answers "tag OK [CAPABILITY ...]" (RFC 3501
 * 6.2.3); a wrong one is answered here (RFC 5530 response codes).
 */
#include <sys/types.h>

#include <string.h>

#include "access.h"
#include "imap_login.h"
#include "lineio.h"
#include "log.h"
#include "proto.h"

void
imap_login_check(struct login_session *s, const char *password)
{
	if (access_session_check(&s->as, password) == -1) {
		log_info("%08x imap login user=%s result=tempfail "
		    "reason=authd-down", s->conn.id, s->as.user_vis);
		imap_no(&s->conn, s->tag, "[UNAVAILABLE] Authentication "
		    "service unavailable, try again later");
		return;
	}
	lineio_pause(s->conn.lio);
}

void
imap_login_handoff(void *owner)
{
	struct login_session	*s = owner;

	if (access_session_handoff(&s->as, s->conn.lio, s->conn.client,
	    s->tag) == 1)
		return;
	s->conn.lio = NULL;
	imap_login_session_free(s);
}

/* The tagged answer to a failed check; the session goes on. */
static void
login_refused(struct login_session *s, uint32_t result)
{
	const char	*what;

	switch (result) {
	case RESULT_PERMFAIL:
		what = "fail";
		imap_no(&s->conn, s->tag,
		    "[AUTHENTICATIONFAILED] Authentication failed");
		break;
	case RESULT_THROTTLED:
		/* Any service's failures count (authd); closed, as pop3d. */
		what = "throttled";
		imap_no(&s->conn, s->tag, "[UNAVAILABLE] Too many failed "
		    "logins, try again later");
		imap_bye(&s->conn, "Too many failed logins");
		break;
	default:
		what = "tempfail";
		imap_no(&s->conn, s->tag, "[UNAVAILABLE] Authentication "
		    "service unavailable, try again later");
		break;
	}
	log_info("%08x imap login user=%s result=%s client=%s", s->conn.id,
	    s->as.user_vis, what, s->as.addr);
}

/* authd's answer to a password check, or a stand-in for it. */
void
imap_login_answer(void *owner, uint32_t result)
{
	struct login_session	*s = owner;

	if (result == RESULT_OK && s->held != NULL) {
		/*
		 * Input held back by the rate limit is the engine's, not the
		 * lineio's: it cannot follow the client.  Only a client past
		 * IMAP_CMDS_PER_SEC_MAX before its login gets here.
		 */
		log_info("%08x imap login user=%s result=refused "
		    "reason=held-input", s->conn.id, s->as.user_vis);
		imap_no(&s->conn, s->tag, "[UNAVAILABLE] Too many commands");
		imap_bye(&s->conn, "Too many commands");
		return;
	}
	if (result == RESULT_OK) {
		log_info("%08x imap login user=%s result=ok", s->conn.id,
		    s->as.user_vis);
		imap_login_handoff(s);
		return;
	}
	login_refused(s, result);
	if (!s->conn.closing && s->held == NULL)
		lineio_resume(s->conn.lio);
}

