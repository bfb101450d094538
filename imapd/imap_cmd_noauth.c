/*
 * imapd: the Not Authenticated state (RFC 3501 6.2), run by the login
 * engine only: user imap (_sallyimap), chrooted to the empty dir,
 * seccomp SANDBOX_ENGINE.  STARTTLS, LOGIN, and AUTHENTICATE with SASL
 * PLAIN and LOGIN (decoded by common/sasl.c, as smtpd's and pop3d's)
 * and the initial response of RFC 4959 (SASL-IR).  No password is
 * taken where it would cross the network in clear (LOGINDISABLED, RFC
 * 3501 6.2.3, RFC 2595 3.2) unless the client and the server are both
 * on loopback and "auth plaintext-on-loopback yes"; the answers use
 * RFC 5530's response codes.  Also the command table of the engine and
 * its CAPABILITY list.
 */
#include <sys/types.h>

#include <stdio.h>
#include <string.h>

#include "imap_login.h"
#include "lineio.h"
#include "log.h"

static int	cmd_starttls(struct imap_conn *, const struct imap_command *);
static int	cmd_login(struct imap_conn *, const struct imap_command *);
static int	cmd_authenticate(struct imap_conn *,
		    const struct imap_command *);

const struct imap_cmd imap_login_cmds[] = {
	IMAP_CMDS_ANY,
	/* name		states	flags	args	uid	handler */
	{ "STARTTLS",	IMAP_S_NOAUTH,	IMAP_CMDF_STOP,	"",	NULL,
	    cmd_starttls },
	{ "LOGIN",	IMAP_S_NOAUTH,	0,		"aa",	NULL,
	    cmd_login },
	{ "AUTHENTICATE", IMAP_S_NOAUTH, IMAP_CMDF_STOP, "w?a",	NULL,
	    cmd_authenticate },
	{ NULL,		0,		0,		NULL,	NULL,	NULL },
};

/* Dovecot's words, which clients may know. */
#define IMAP_PLAINTEXT_REFUSED	"[PRIVACYREQUIRED] Plaintext " \
	"authentication disallowed on non-secure (SSL/TLS) connections."

/*
 * RFC 3501 7.2.1 and 6.2.1: STARTTLS while there is none (and a pki),
 * LOGINDISABLED and no AUTH= where no password may be sent.  Only what
 * this process implements: the mailbox process names its own in its
 * tagged OK to the login (RFC 3501 7.1, CAPABILITY response code).
 */
static int
login_capability(struct imap_conn *c, char *buf, size_t len)
{
	struct login_session	*s = c->owner;
	int			 n;

	n = snprintf(buf, len, "IMAP4rev1 SASL-IR LITERAL+ ID%s%s",
	    access_tls_offered() && !lineio_is_tls(c->lio) ? " STARTTLS" : "",
	    access_session_plaintext_ok(&s->as, c->lio) ?
	    " AUTH=PLAIN AUTH=LOGIN" :
	    " LOGINDISABLED");
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

const struct imap_conn_ops imap_login_ops = { login_capability, NULL };

/* Answers NO [PRIVACYREQUIRED] and returns 1 when no password may come. */
static int
login_plaintext_refused(struct login_session *s, const char *tag,
    const char *verb)
{
	if (access_session_plaintext_ok(&s->as, s->conn.lio))
		return 0;
	log_info("%08x imap plaintext-refused verb=%s", s->conn.id, verb);
	imap_no(&s->conn, tag, "%s", IMAP_PLAINTEXT_REFUSED);
	return 1;
}

/*
 * RFC 3501 6.2.1: the handshake follows the tagged OK; what the client
 * sent after the command is dropped by lineio_starttls (it could have
 * been injected by someone in the middle, RFC 2595 3.1).
 */
static int
cmd_starttls(struct imap_conn *c, const struct imap_command *cmd)
{
	struct login_session	*s = c->owner;

	if (lineio_is_tls(c->lio)) {
		imap_bad(c, cmd->tag, "TLS is already active");
		return 0;
	}
	if (access_session_tls(&s->as) == NULL) {
		imap_bad(c, cmd->tag, "TLS is not available");
		return 0;
	}
	imap_ok(c, cmd->tag, "Begin TLS negotiation now");
	if (lineio_starttls(c->lio, access_session_tls(&s->as)) == -1) {
		log_warnx("%08x imap starttls-failed", c->id);
		return -1;
	}
	return 0;
}

/* A user name or password as authd takes it: not empty, no NUL. */
static const char *
login_arg(const struct imap_arg *a, size_t max)
{
	const char	*str;
	size_t		 len;

	if ((str = imap_arg_astring(a, &len)) == NULL || len == 0 ||
	    len >= max || memchr(str, '\0', len) != NULL)
		return NULL;
	return str;
}

/* RFC 3501 6.2.3; the answer to a right password is the mailbox's. */
static int
cmd_login(struct imap_conn *c, const struct imap_command *cmd)
{
	struct login_session	*s = c->owner;
	const char		*user, *pass;

	if (login_plaintext_refused(s, cmd->tag, "LOGIN"))
		return 0;
	if ((user = login_arg(&cmd->args[0], AUTH_USER_MAX_BYTES)) == NULL ||
	    (pass = login_arg(&cmd->args[1], AUTH_PASSWORD_MAX_BYTES)) ==
	    NULL) {
		log_info("%08x imap login result=fail reason=bad-arguments",
		    c->id);
		imap_no(c, cmd->tag,
		    "[AUTHENTICATIONFAILED] Authentication failed");
		return 0;
	}
	access_session_user(&s->as, user);
	(void)strlcpy(s->tag, cmd->tag, sizeof(s->tag));
	imap_login_check(s, pass);
	return 0;
}

/* What sasl_start() or sasl_step() said, answered (RFC 3501 6.2.2). */
static void
login_sasl_next(struct login_session *s, enum sasl_result r,
    const char *text)
{
	struct imap_conn	*c = &s->conn;

	switch (r) {
	case SASL_CONTINUE:
		imap_line(c, "+ %s", text);
		return;
	case SASL_DONE:
		access_session_user(&s->as, s->sasl.user);
		imap_login_check(s, s->sasl.pass);
		break;
	case SASL_CANCELLED:
		log_info("%08x imap auth-cancelled", c->id);
		imap_bad(c, s->tag, "Authentication cancelled");
		break;
	case SASL_BAD_BASE64:
		imap_bad(c, s->tag, "Invalid base64 data");
		break;
	case SASL_BAD_MESSAGE:
		log_info("%08x imap login result=fail reason=\"%s\"", c->id,
		    text);
		imap_no(c, s->tag, "[AUTHENTICATIONFAILED] %s", text);
		break;
	default:
		imap_no(c, s->tag, "Unsupported authentication mechanism");
		break;
	}
	sasl_end(&s->sasl);
}

/* AUTHENTICATE mechanism [initial-response] (RFC 3501 6.2.2, RFC 4959). */
static int
cmd_authenticate(struct imap_conn *c, const struct imap_command *cmd)
{
	struct login_session	*s = c->owner;
	const char		*resp = NULL, *text;
	size_t			 len;
	enum sasl_result	 r;

	if (login_plaintext_refused(s, cmd->tag, "AUTHENTICATE"))
		return 0;
	if (cmd->nargs > 1 &&
	    (resp = imap_arg_astring(&cmd->args[1], &len)) == NULL) {
		imap_bad(c, cmd->tag, "Invalid initial response");
		return 0;
	}
	(void)strlcpy(s->tag, cmd->tag, sizeof(s->tag));
	access_session_user(&s->as, "");
	r = sasl_start(&s->sasl, cmd->args[0].str, cmd->args[0].len, resp,
	    &text);
	login_sasl_next(s, r, text);
	return c->closing ? -1 : 0;
}

void
imap_login_sasl_line(struct login_session *s, const char *line, size_t len,
    int flags)
{
	const char		*text;
	enum sasl_result	 r;

	if (flags != 0) {
		sasl_end(&s->sasl);
		imap_bad(&s->conn, s->tag, "Invalid response line");
		return;
	}
	r = sasl_step(&s->sasl, line, len, &text);
	login_sasl_next(s, r, text);
}
