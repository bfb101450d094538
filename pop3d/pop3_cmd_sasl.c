/*
 * AUTH (RFC 5034) in the AUTHORIZATION state, run by the login engine:
 * user pop3 (_sallypop), chrooted to the empty dir, seccomp set
 * SANDBOX_ENGINE.  SASL PLAIN and LOGIN, with or without an initial
 * response, decoded by common/sasl.c as smtpd's AUTH is; the user and
 * password then take PASS's way to authd (pop3_login_authd.c), so that
 * failures count in authd's throttle alike.  "AUTH" alone lists the
 * mechanisms, as Dovecot answers it (an older draft's form, which
 * clients still send); "*" cancels.
 */
#include <sys/types.h>

#include <string.h>

#include "lineio.h"
#include "log.h"
#include "pop3_login.h"

/* What sasl_start() or sasl_step() said, answered. */
static void
pop3_sasl_next(struct login_session *s, enum sasl_result r,
    const char *text)
{
	struct pop3_conn	*c = &s->conn;

	switch (r) {
	case SASL_CONTINUE:
		pop3_line(c, "+ %s", text);
		return;
	case SASL_DONE:
		pop3_login_set_user(c, s->sasl.user);
		pop3_login_check(c, s->sasl.pass);
		break;
	case SASL_CANCELLED:
		log_info("%08x pop3 auth-cancelled", c->id);
		pop3_err_logged(c, "authentication cancelled");
		break;
	case SASL_BAD_BASE64:
		pop3_err(c, "invalid base64 data");
		break;
	case SASL_BAD_MESSAGE:
		pop3_err(c, "[AUTH] %s", text);
		break;
	default:
		pop3_err(c, "unsupported authentication mechanism");
		break;
	}
	sasl_end(&s->sasl);
}

/* Answers "AUTH" alone: the mechanisms that would be accepted. */
static void
pop3_sasl_list(struct pop3_conn *c)
{
	char	 mechs[] = SASL_MECHANISMS;
	char	*p, *m;

	pop3_ok(c, "mechanisms follow");
	p = mechs;
	while (pop3_login_plaintext_ok(c) && (m = strsep(&p, " ")) != NULL)
		pop3_line(c, "%s", m);
	pop3_line(c, ".");
}

void
pop3_cmd_sasl(struct pop3_conn *c, struct pop3_req *req)
{
	struct login_session	*s = c->owner;
	const char		*sp, *resp = NULL, *text;
	char			 arg[POP3_SASL_LINE_MAX_BYTES + 1];
	enum sasl_result	 r;
	size_t			 mlen;

	if (req->raw == NULL) {
		pop3_sasl_list(c);
		return;
	}
	if (pop3_plaintext_refused(c))
		return;
	if (req->rawlen >= sizeof(arg)) {
		pop3_err(c, "line too long");
		return;
	}
	memcpy(arg, req->raw, req->rawlen);
	arg[req->rawlen] = '\0';
	if ((sp = strchr(arg, ' ')) != NULL)
		resp = sp + 1;
	mlen = sp != NULL ? (size_t)(sp - arg) : req->rawlen;
	/* A new exchange forgets a USER given before it. */
	pop3_login_set_user(c, "");
	pop3_set_state(c, POP3_S_AUTH);
	r = sasl_start(&s->sasl, arg, mlen, resp, &text);
	pop3_sasl_next(s, r, text);
	explicit_bzero(arg, sizeof(arg));
}

void
pop3_sasl_line(struct login_session *s, const char *line, size_t len,
    int flags)
{
	const char		*text;
	enum sasl_result	 r;

	if (s->conn.closing)
		return;
	if (flags != 0) {
		sasl_end(&s->sasl);
		pop3_err(&s->conn, "bad response line");
		return;
	}
	r = sasl_step(&s->sasl, line, len, &text);
	pop3_sasl_next(s, r, text);
}
