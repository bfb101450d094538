/*
 * The text of a bounce, or of a report of success (RFC 3461 NOTIFY=
 * SUCCESS: "delivered", "expanded", "relayed"): an RFC 3464 delivery
 * status notification, a
 * multipart/report (RFC 6522) with a human-readable part, a
 * message/delivery-status part and the failed message's headers as
 * text/rfc822-headers, or the whole message as message/rfc822 when
 * RET=FULL asked for it (RFC 3461 4.3) and it was small enough (see
 * queue_deliver.c).  Pure functions, no I/O: unit-tested
 * (regress/unit/test_bounce.c).  Written with LF line ends, as every
 * message in the spool.
 */
#include <sys/types.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "queue.h"

struct bbuf {
	char	*p;
	size_t	 len;
	size_t	 size;
	int	 error;
};

static void bb_printf(struct bbuf *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
bb_printf(struct bbuf *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (b->error)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->size - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->size - b->len) {
		b->error = 1;
		return;
	}
	b->len += (size_t)n;
}

static void
bb_write(struct bbuf *b, const char *s, size_t len)
{
	if (b->error)
		return;
	if (len >= b->size - b->len) {
		b->error = 1;
		return;
	}
	memcpy(b->p + b->len, s, len);
	b->len += len;
	b->p[b->len] = '\0';
}

int
queue_rfc5322_date(int64_t t, char *dst, size_t dstlen)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed",
	    "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm	 tm;
	time_t		 tt = (time_t)t;
	int		 n;

	/* Names spelled here: strftime(3) would follow the locale. */
	if (gmtime_r(&tt, &tm) == NULL)
		return -1;
	n = snprintf(dst, dstlen, "%s, %d %s %d %02d:%02d:%02d +0000",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return (n < 0 || (size_t)n >= dstlen) ? -1 : 0;
}

/* The length of an RFC 3463 enhanced status code at s, or 0. */
static size_t
queue_status_len(const char *s)
{
	size_t	 i = 1, part, digits;

	/* A failure's class is 4 or 5 (RFC 3463 3.1). */
	if (s[0] != '4' && s[0] != '5')
		return 0;
	for (part = 0; part < 2; part++) {
		if (s[i++] != '.')
			return 0;
		for (digits = 0; isdigit((unsigned char)s[i]); i++)
			digits++;
		if (digits == 0 || digits > 3)
			return 0;
	}
	return (s[i] == '\0' || s[i] == ' ') ? i : 0;
}

/*
 * An error text that starts with an enhanced status code ("5.1.1 no
 * such user") gives its own; otherwise a permanent failure is 5.0.0
 * and an expiry 4.4.7 (RFC 3463 3.5: delivery time expired).
 */
void
queue_bounce_status(const char *error, int expired, char *dst,
    size_t dstlen)
{
	size_t	 n = queue_status_len(error);

	if (n > 0 && n < dstlen) {
		memcpy(dst, error, n);
		dst[n] = '\0';
		return;
	}
	(void)snprintf(dst, dstlen, "%s", expired ? "4.4.7" : "5.0.0");
}

size_t
queue_bounce_headers(const char *msg, size_t len, size_t max)
{
	const char	*end, *p;
	size_t		 n;

	/* The header block ends at the first empty line (RFC 5322 2.1). */
	if (len > 0 && msg[0] == '\n')
		return 0;
	if ((end = memmem(msg, len, "\n\n", 2)) != NULL)
		n = (size_t)(end - msg) + 1;
	else
		n = len;
	if (n <= max)
		return n;
	/* Too long: keep whole lines only. */
	for (p = msg + max; p > msg && p[-1] != '\n'; p--)
		;
	return (size_t)(p - msg);
}

/* The words of each report: RFC 3464 2.3.3's action, a subject, a text. */
static const struct {
	const char	*action;
	const char	*subject;
	const char	*idpart;
	const char	*text;
} queue_dsn_words[] = {
	[DSN_ACTION_FAILED] = { "failed",
	    "Undelivered Mail Returned to Sender", "bounce",
	    "Your message could not be delivered to one of its recipients.\n"
	    "This is a permanent error." },
	[DSN_ACTION_DELAYED] = { "delayed",
	    "Delayed Mail (still being retried)", "delay",
	    "Your message could not be delivered yet to one of its\n"
	    "recipients.  The mail system will go on trying." },
	[DSN_ACTION_DELIVERED] = { "delivered",
	    "Successful Mail Delivery Report", "dsn",
	    "Your message was delivered to the mailbox of the recipient\n"
	    "below, as you asked to be told." },
	[DSN_ACTION_RELAYED] = { "relayed",
	    "Successful Mail Delivery Report", "dsn",
	    "Your message was passed on for the recipient below to a mail\n"
	    "system that does not report deliveries: you may hear no more\n"
	    "of it." },
	[DSN_ACTION_EXPANDED] = { "expanded",
	    "Successful Mail Delivery Report", "dsn",
	    "Your message was delivered to the address below, which\n"
	    "forwarded it to several recipients.  You may still hear of\n"
	    "failures for some of them." },
};

/* The report's words; an action out of range reads as a failure. */
static unsigned int
queue_dsn_index(const struct bounce_info *bi)
{
	return (unsigned int)bi->action < sizeof(queue_dsn_words) /
	    sizeof(queue_dsn_words[0]) ? (unsigned int)bi->action :
	    DSN_ACTION_FAILED;
}

static void
queue_bounce_head(struct bbuf *b, const struct bounce_info *bi,
    const char *date, const char *boundary)
{
	unsigned int	 w = queue_dsn_index(bi);

	bb_printf(b, "Received: by %s (sallyport queued) id %s;\n\t%s\n",
	    bi->hostname, bi->msgid, date);
	bb_printf(b, "From: Mail Delivery System <MAILER-DAEMON@%s>\n",
	    bi->hostname);
	bb_printf(b, "To: <%s>\n", bi->to);
	bb_printf(b, "Subject: %s\n", queue_dsn_words[w].subject);
	bb_printf(b, "Date: %s\n", date);
	bb_printf(b, "Message-ID: <%s.%s@%s>\n", bi->msgid,
	    queue_dsn_words[w].idpart, bi->hostname);
	/* RFC 3834 5: an automatic response, not to be answered. */
	bb_printf(b, "Auto-Submitted: auto-replied\n");
	bb_printf(b, "MIME-Version: 1.0\n");
	bb_printf(b, "Content-Type: multipart/report; "
	    "report-type=delivery-status;\n\tboundary=\"%s\"\n\n", boundary);
	bb_printf(b, "This is a MIME-encapsulated message.\n\n");
}

static void
queue_bounce_text(struct bbuf *b, const struct bounce_info *bi,
    const char *boundary)
{
	bb_printf(b, "--%s\n", boundary);
	bb_printf(b, "Content-Type: text/plain; charset=utf-8\n\n");
	bb_printf(b, "This is the mail system at host %s.\n\n", bi->hostname);
	if (bi->action == DSN_ACTION_FAILED && bi->expired)
		bb_printf(b, "Your message could not be delivered in the "
		    "time allowed, and\nthe mail system has given up.\n\n");
	else
		bb_printf(b, "%s\n\n",
		    queue_dsn_words[queue_dsn_index(bi)].text);
	if (bi->error[0] != '\0')
		bb_printf(b, "<%s>: %s\n\n", bi->rcpt, bi->error);
	else
		bb_printf(b, "<%s>: %s\n\n", bi->rcpt,
		    bi->action == DSN_ACTION_FAILED ? "delivery failed" :
		    queue_dsn_words[queue_dsn_index(bi)].action);
}

/* RFC 3463: a report of success is 2.0.0, a failure its own code. */
static void
queue_dsn_status(const struct bounce_info *bi, char *dst, size_t dstlen)
{
	switch (bi->action) {
	case DSN_ACTION_DELIVERED:
	case DSN_ACTION_RELAYED:
	case DSN_ACTION_EXPANDED:
		(void)strlcpy(dst, "2.0.0", dstlen);
		break;
	default:
		queue_bounce_status(bi->error, bi->expired ||
		    bi->action == DSN_ACTION_DELAYED, dst, dstlen);
		break;
	}
}

/* RFC 3464 2.2 and 2.3: the per-message and per-recipient fields. */
static void
queue_bounce_dsn(struct bbuf *b, const struct bounce_info *bi,
    const char *boundary, const char *arrival, const char *date)
{
	char		 status[16], until[64];
	const char	*semi;

	queue_dsn_status(bi, status, sizeof(status));
	bb_printf(b, "--%s\n", boundary);
	bb_printf(b, "Content-Type: message/delivery-status\n\n");
	/* RFC 3464 2.2.1, RFC 3461 6.3: the ENVID the sender gave. */
	if (bi->envid != NULL && bi->envid[0] != '\0')
		bb_printf(b, "Original-Envelope-Id: %s\n", bi->envid);
	bb_printf(b, "Reporting-MTA: dns; %s\n", bi->hostname);
	bb_printf(b, "Arrival-Date: %s\n\n", arrival);
	/* RFC 3464 2.3.1: the ORCPT when given, else what RCPT said. */
	if (bi->orcpt != NULL && (semi = strchr(bi->orcpt, ';')) != NULL)
		bb_printf(b, "Original-Recipient: %.*s; %s\n",
		    (int)(semi - bi->orcpt), bi->orcpt, semi + 1);
	else if (strcmp(bi->orig_rcpt, bi->rcpt) != 0)
		bb_printf(b, "Original-Recipient: rfc822; %s\n",
		    bi->orig_rcpt);
	bb_printf(b, "Final-Recipient: rfc822; %s\n", bi->rcpt);
	bb_printf(b, "Action: %s\n",
	    queue_dsn_words[queue_dsn_index(bi)].action);
	bb_printf(b, "Status: %s\n", status);
	/* RFC 3464 2.3.5: the host that answered, when one did. */
	if (bi->remote_mta != NULL && bi->remote_mta[0] != '\0')
		bb_printf(b, "Remote-MTA: dns; %s\n", bi->remote_mta);
	/* 2.3.6: its own reply ("smtp"), else ours. */
	if (bi->diag != NULL && bi->diag[0] != '\0')
		bb_printf(b, "Diagnostic-Code: %s; %s\n", bi->diag_type != NULL ?
		    bi->diag_type : "X-Sallyport", bi->diag);
	else if (bi->error[0] != '\0')
		bb_printf(b, "Diagnostic-Code: X-Sallyport; %s\n", bi->error);
	bb_printf(b, "Last-Attempt-Date: %s\n", date);
	/* 2.3.8: how long the delayed one will still be tried. */
	if (bi->action == DSN_ACTION_DELAYED && bi->will_retry_until > 0 &&
	    queue_rfc5322_date(bi->will_retry_until, until,
	    sizeof(until)) == 0)
		bb_printf(b, "Will-Retry-Until: %s\n", until);
	bb_printf(b, "\n");
}

int
queue_bounce_build(const struct bounce_info *bi, char *buf, size_t buflen)
{
	struct bbuf	 b = { buf, 0, buflen, 0 };
	char		 date[64], arrival[64], boundary[64];

	if (buflen == 0)
		return -1;
	buf[0] = '\0';
	if (queue_rfc5322_date(bi->now, date, sizeof(date)) == -1 ||
	    queue_rfc5322_date(bi->arrival, arrival, sizeof(arrival)) == -1)
		return -1;
	/* The msgid is fresh and random: no header holds this boundary. */
	(void)snprintf(boundary, sizeof(boundary), "=_sallyport_%s_=",
	    bi->msgid);
	queue_bounce_head(&b, bi, date, boundary);
	queue_bounce_text(&b, bi, boundary);
	queue_bounce_dsn(&b, bi, boundary, arrival, date);
	bb_printf(&b, "--%s\n", boundary);
	bb_printf(&b, "Content-Type: %s\n\n", bi->full ? "message/rfc822" :
	    "text/rfc822-headers");
	bb_write(&b, bi->headers, bi->headerslen);
	if (bi->headerslen > 0 && bi->headers[bi->headerslen - 1] != '\n')
		bb_printf(&b, "\n");
	bb_printf(&b, "\n--%s--\n", boundary);
	if (b.error)
		return -1;
	return (int)b.len;
}
