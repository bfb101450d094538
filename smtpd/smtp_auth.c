/*
 * smtpd engine (user smtp, chroot emptydir, seccomp SANDBOX_ENGINE): AUTH
 * PLAIN and LOGIN (RFC 4954, RFC 4616), offered and accepted only under
 * TLS, or with "auth plaintext-on-loopback" on a connection whose both
 * ends are loopback addresses (nothing to eavesdrop on but the host).
 * The exchange is common/sasl.c's, shared with pop3d.  The password
 * goes to authd (MSG_AUTH_PASSWORD_CHECK, service "smtp", no token)
 * and is wiped here at once.  Failed attempts are
 * counted per client address: past SMTP_AUTH_FAILURES_MAX within
 * SMTP_AUTH_FAIL_WINDOW_SECS the client gets 421 and is closed.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lineio.h"
#include "log.h"
#include "proto.h"
#include "smtpd.h"

struct smtp_auth_fails {
	char	 addr[INET6_ADDRSTRLEN];
	time_t	 start;
	unsigned int n;
};

static struct smtp_auth_fails	 smtp_fails[SMTP_AUTH_THROTTLE_ADDRS_MAX];

/* The entry of addr, or with create the oldest one, reused. */
static struct smtp_auth_fails *
smtp_auth_fails_find(const char *addr, int create)
{
	struct smtp_auth_fails	*f, *old = &smtp_fails[0];
	time_t			 now = time(NULL);
	size_t			 i;

	for (i = 0; i < SMTP_AUTH_THROTTLE_ADDRS_MAX; i++) {
		f = &smtp_fails[i];
		if (f->n > 0 && now - f->start >= SMTP_AUTH_FAIL_WINDOW_SECS)
			f->n = 0;
		if (f->n > 0 && strcmp(f->addr, addr) == 0)
			return f;
		if (f->n == 0 || (old->n > 0 && f->start < old->start))
			old = f;
	}
	if (!create)
		return NULL;
	(void)strlcpy(old->addr, addr, sizeof(old->addr));
	old->start = now;
	old->n = 0;
	return old;
}

static int
smtp_auth_throttled(struct smtp_session *s)
{
	struct smtp_auth_fails	*f = smtp_auth_fails_find(s->client, 0);

	return f != NULL && f->n >= SMTP_AUTH_FAILURES_MAX;
}

int
smtp_auth_allowed(struct smtp_session *s)
{
	return lineio_is_tls(s->io) ||
	    (s->loopback && s->conf->auth_plaintext_loopback);
}

static void
smtp_auth_end(struct smtp_session *s)
{
	sasl_end(&s->sasl);
	lineio_set_maxline(s->io, SMTP_CMD_LINE_MAX_BYTES - 1);
}

/* Asks authd; the answer comes to smtp_auth_result(). */
static void
smtp_auth_check(struct smtp_session *s)
{
	struct ipc_out	*o;

	(void)strlcpy(s->auth_user, s->sasl.user, sizeof(s->auth_user));
	o = smtp_peer_out(MSG_AUTH_PASSWORD_CHECK);
	ipc_put_str(o, s->auth_user);
	ipc_put_str(o, s->sasl.pass);
	ipc_put_str(o, "smtp");
	ipc_put_str(o, s->client);
	ipc_put_u32(o, 0);
	smtp_auth_end(s);
	if (ipc_out_error(o) ||
	    smtp_session_request(s, WAIT_AUTH, PEER_AUTHD, o) == -1)
		smtp_auth_fail(s);
	explicit_bzero(o->buf, sizeof(o->buf));
}

/* What sasl_start() or sasl_step() said, answered. */
static void
smtp_auth_next(struct smtp_session *s, enum sasl_result r, const char *text)
{
	switch (r) {
	case SASL_CONTINUE:
		smtp_reply(s, "334 %s", text);
		return;
	case SASL_DONE:
		smtp_auth_check(s);
		return;
	default:
		break;
	}
	smtp_auth_end(s);
	s->auth_user[0] = '\0';
	if (r == SASL_CANCELLED)
		smtp_error(s, "auth-cancelled",
		    "501 5.0.0 Authentication cancelled");
	else if (r == SASL_BAD_BASE64)
		smtp_error(s, "auth-bad-base64",
		    "501 5.5.2 Cannot decode response");
	else if (r == SASL_BAD_MESSAGE)
		smtp_error(s, "auth-bad-message",
		    "501 5.5.2 Bad response (%s)", text);
	else
		smtp_error(s, "auth-mechanism",
		    "504 5.5.4 Unrecognized authentication type");
}

void
smtp_auth_line(struct smtp_session *s, const char *line, size_t len,
    int lflags)
{
	const char		*text;
	enum sasl_result	 r;

	if (lflags != 0) {
		smtp_auth_end(s);
		smtp_error(s, "auth-bad-line", "501 5.5.2 Bad response line");
		return;
	}
	r = sasl_step(&s->sasl, line, len, &text);
	smtp_auth_next(s, r, text);
}

/* Checks that may refuse AUTH before the mechanism is looked at. */
static int
smtp_auth_precheck(struct smtp_session *s)
{
	if (s->authenticated) {
		smtp_error(s, "auth-again", "503 5.5.1 Already authenticated");
		return -1;
	}
	if (!smtp_auth_allowed(s)) {
		smtp_error(s, "auth-without-tls", "538 5.7.11 Encryption "
		    "required for requested authentication mechanism");
		return -1;
	}
	if (smtp_auth_throttled(s)) {
		log_info("%08x smtp auth-throttled client=%s", s->id,
		    s->client);
		smtp_reply_close(s, "4.7.0", "Too many failed "
		    "authentications", "auth-throttled");
		return -1;
	}
	return 0;
}

void
smtp_auth_cmd(struct smtp_session *s, const char *arg)
{
	const char		*sp, *text;
	enum sasl_result	 r;

	if (smtp_auth_precheck(s) == -1)
		return;
	sp = strchr(arg, ' ');
	s->auth_user[0] = '\0';
	lineio_set_maxline(s->io, SMTP_AUTH_LINE_MAX_BYTES - 1);
	r = sasl_start(&s->sasl, arg, sp != NULL ? (size_t)(sp - arg) :
	    strlen(arg), sp != NULL ? sp + 1 : NULL, &text);
	smtp_auth_next(s, r, text);
}

static void
smtp_auth_failed(struct smtp_session *s)
{
	struct smtp_auth_fails	*f = smtp_auth_fails_find(s->client, 1);
	char			 vis[AUTH_USER_MAX_BYTES * 4];

	f->n++;
	log_info("%08x smtp auth-failed user=%s client=%s failures=%u", s->id,
	    log_vis(vis, sizeof(vis), s->auth_user, strlen(s->auth_user)),
	    s->client, f->n);
	s->auth_user[0] = '\0';
	smtp_error(s, "auth-failed",
	    "535 5.7.8 Authentication credentials invalid");
	if (f->n >= SMTP_AUTH_FAILURES_MAX)
		smtp_reply_close(s, "4.7.0", "Too many failed "
		    "authentications", "auth-throttled");
}

void
smtp_auth_result(struct smtp_session *s, uint32_t result)
{
	char	 vis[AUTH_USER_MAX_BYTES * 4];

	if (result == RESULT_TEMPFAIL) {
		smtp_auth_fail(s);
		return;
	}
	if (result == RESULT_THROTTLED) {	/* authd's count, any service */
		log_info("%08x smtp auth-throttled client=%s by=authd", s->id,
		    s->client);
		smtp_reply_close(s, "4.7.0", "Too many failed "
		    "authentications", "auth-throttled");
		return;
	}
	if (result != RESULT_OK) {
		smtp_auth_failed(s);
		return;
	}
	s->authenticated = 1;
	smtp_reply(s, "235 2.7.0 Authentication successful");
	log_info("%08x smtp auth user=%s", s->id, log_vis(vis, sizeof(vis),
	    s->auth_user, strlen(s->auth_user)));
}

void
smtp_auth_fail(struct smtp_session *s)
{
	smtp_auth_end(s);
	s->auth_user[0] = '\0';
	smtp_reply(s, "454 4.7.0 Temporary authentication failure");
	log_info("%08x smtp auth-tempfail", s->id);
}
