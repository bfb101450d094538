/*
 * smtpd engine (user smtp, chroot emptydir, seccomp SANDBOX_ENGINE):
 * every reply to a client goes through here.  Replies carry enhanced
 * status codes (RFC 2034, RFC 3463) except where RFC 2034 3 leaves them
 * out: the greeting, the answers to HELO/EHLO, and the 354, whose class
 * (3) has no enhanced counterpart.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lineio.h"
#include "log.h"
#include "smtpd.h"

void
smtp_reply(struct smtp_session *s, const char *fmt, ...)
{
	char	 buf[SMTP_REPLY_MAX_BYTES];
	va_list	 ap;
	int	 n;

	if (s->closing)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 2, fmt, ap);
	va_end(ap);
	/* Our own text: cut rather than drop, but never past 512 octets. */
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf) - 2)
		n = (int)sizeof(buf) - 3;
	log_debug("%08x smtp reply \"%.*s\"", s->id, n, buf);
	buf[n++] = '\r';
	buf[n++] = '\n';
	/* On failure lineio reports LINEIO_ERROR and the session ends. */
	(void)lineio_write(s->io, buf, (size_t)n);
}

void
smtp_error(struct smtp_session *s, const char *why, const char *fmt, ...)
{
	char	 buf[SMTP_REPLY_MAX_BYTES];
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	smtp_reply(s, "%s", buf);
	s->errors++;
	log_info("%08x smtp protocol-error reason=%s cmd=%s errors=%u",
	    s->id, why, s->verb[0] != '\0' ? s->verb : "-", s->errors);
	if (s->errors >= s->conf->max_errors)
		smtp_reply_close(s, "4.7.0", "Too many errors",
		    "too-many-errors");
}

void
smtp_reply_tempfail(struct smtp_session *s, const char *what)
{
	smtp_reply(s, "451 4.3.0 %s, try again later", what);
}

void
smtp_reply_close(struct smtp_session *s, const char *enh, const char *text,
    const char *reason)
{
	smtp_reply(s, "421 %s %s %s, closing connection", enh,
	    s->conf->hostname, text);
	smtp_session_close(s, reason);
}
