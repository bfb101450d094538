/*
 * smtpd engine (user smtp, chroot emptydir, seccomp SANDBOX_ENGINE): the
 * message of one transaction.  DATA asks queued for a message file
 * (MESSAGE_CREATE), answers 354 once it has the descriptor, writes our
 * Received header and then every line, dot-unstuffed, with LF line ends;
 * at the final dot it closes the file and asks queued to commit, and
 * answers 250 only when queued says the message is on disk.
 *
 * The file is local and the write(2)s are plain blocking ones.  A
 * message that breaks a rule (SMTP smuggling, NUL, long lines, loops,
 * size) is read to its end, then refused and aborted, never truncated.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "lineio.h"
#include "log.h"
#include "proto.h"
#include "smtpd.h"

/* RFC 5322 3.3: the date-time of the Received header. */
static void
smtp_data_date(char *buf, size_t len)
{
	static const char	*days[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat" };
	static const char	*months[] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm		 tm;
	time_t			 now = time(NULL);
	long			 off;

	/* localtime_r does not reread the zone: it was loaded at start. */
	if (localtime_r(&now, &tm) == NULL)
		(void)gmtime_r(&now, &tm);
	off = tm.tm_gmtoff / 60;
	(void)snprintf(buf, len, "%s, %d %s %d %02d:%02d:%02d %c%02ld%02ld",
	    days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60);
}

int
smtp_msgid_valid(const char *s)
{
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i > 0 && i <= SMTP_MSGID_MAX_BYTES;
}

static void
smtp_data_flush(struct smtp_session *s)
{
	size_t	 off = 0;
	ssize_t	 n;

	while (off < s->wlen && !s->msg_ioerror) {
		n = write(s->msgfd, s->wbuf + off, s->wlen - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_warn("%08x smtp message write msgid=%s", s->id,
			    s->msgid);
			s->msg_ioerror = 1;
			break;
		}
		off += (size_t)n;
	}
	s->wlen = 0;
}

static void
smtp_data_write(struct smtp_session *s, const char *p, size_t len)
{
	size_t	 n;

	while (len > 0 && !s->msg_ioerror) {
		if (s->wlen == SMTP_WBUF_BYTES)
			smtp_data_flush(s);
		n = SMTP_WBUF_BYTES - s->wlen;
		if (n > len)
			n = len;
		memcpy(s->wbuf + s->wlen, p, n);
		s->wlen += n;
		p += n;
		len -= n;
	}
}

/*
 * RFC 5321 4.4: the trace field.  TCP-info is the numeric address: we
 * never look names up.  "for" names the recipient only when there is
 * one, so that a message does not disclose its other recipients.
 */
/*
 * RFC 3848: the protocol, with S under TLS and A once authenticated;
 * RFC 6531 4.3: UTF8SMTP and its variants for an SMTPUTF8 transaction.
 */
static const char *
smtp_data_with(struct smtp_session *s)
{
	static const char	*with[] = { "ESMTP", "ESMTPA", "ESMTPS",
	    "ESMTPSA", "UTF8SMTP", "UTF8SMTPA", "UTF8SMTPS", "UTF8SMTPSA" };

	if (!s->esmtp)
		return "SMTP";
	return with[(s->smtputf8 ? 4 : 0) + (lineio_is_tls(s->io) ? 2 : 0) +
	    (s->authenticated ? 1 : 0)];
}

/*
 * "received show-auth-user yes": on submission, the login name in a
 * comment (RFC 5322 3.2.2), as "(Authenticated sender: name)".  A byte
 * a comment cannot hold becomes '?'.  Off by default: the name is
 * half of the credentials, and the header goes wherever the mail goes.
 */
static void
smtp_data_auth_comment(struct smtp_session *s, char *dst, size_t dstlen)
{
	char	 user[AUTH_USER_MAX_BYTES];
	size_t	 i;

	dst[0] = '\0';
	if (!s->conf->received_auth_user || !s->authenticated ||
	    !(s->lflags & SMTP_LF_SUBMISSION))
		return;
	(void)strlcpy(user, s->auth_user, sizeof(user));
	for (i = 0; user[i] != '\0'; i++)
		if (user[i] < 0x21 || user[i] > 0x7e ||
		    strchr("()\\", user[i]) != NULL)
			user[i] = '?';
	(void)snprintf(dst, dstlen, "\n\t(Authenticated sender: %s)", user);
}

static int
smtp_data_received(struct smtp_session *s)
{
	char		 buf[2048], date[64], tls[256];
	char		 forclause[SMTP_PATH_MAX_BYTES + 8];
	char		 authc[AUTH_USER_MAX_BYTES + 32];
	struct smtp_rcpt *r = TAILQ_FIRST(&s->rcpts);
	int		 n;

	forclause[0] = tls[0] = '\0';
	smtp_data_auth_comment(s, authc, sizeof(authc));
	if (s->nrcpts == 1)
		(void)snprintf(forclause, sizeof(forclause), "\n\tfor <%s>",
		    r->addr);
	if (lineio_is_tls(s->io))
		(void)snprintf(tls, sizeof(tls), "\n\t(version=%s cipher=%s)",
		    lineio_tls_version(s->io), lineio_tls_cipher(s->io));
	smtp_data_date(date, sizeof(date));
	if (s->lflags & SMTP_LF_LOCAL)
		n = smtp_local_received(s, buf, sizeof(buf), forclause, date);
	else
		n = snprintf(buf, sizeof(buf), "Received: from %s ([%s%s])%s\n"
		    "\tby %s%s with %s id %s%s;\n\t%s\n", s->helo,
		    s->client_v6 ? "IPv6:" : "", s->client, authc,
		    s->conf->hostname, tls, smtp_data_with(s), s->msgid,
		    forclause, date);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -1;
	smtp_data_write(s, buf, (size_t)n);
	return 0;
}

void
smtp_data_begin(struct smtp_session *s)
{
	struct ipc_out	*o;

	o = smtp_peer_out(MSG_SMTP_MESSAGE_CREATE);
	if (smtp_session_request(s, WAIT_CREATE, PEER_QUEUE, o) == -1)
		smtp_data_create_fail(s);
}

void
smtp_data_create_fail(struct smtp_session *s)
{
	if (s->bdat) {
		smtp_bdat_create_fail(s);
		return;
	}
	smtp_reply_tempfail(s, "Queue unavailable");
	log_info("%08x smtp message-refused reason=queue-unavailable", s->id);
}

void
smtp_data_created(struct smtp_session *s, uint32_t result,
    const char *msgid, int fd)
{
	if (result != RESULT_OK) {
		smtp_data_create_fail(s);
		return;
	}
	(void)strlcpy(s->msgid, msgid, sizeof(s->msgid));
	s->msgfd = fd;
	s->msg_committing = s->msg_lost = s->msg_ioerror = 0;
	s->msg_oversize = 0;
	s->msgsize = 0;
	s->wlen = 0;
	/* Only submission adds header fields (RFC 6409 8), and local. */
	s->hdr_done = !(s->lflags & (SMTP_LF_SUBMISSION | SMTP_LF_LOCAL));
	s->hdr_date = s->hdr_msgid = s->hdr_from = 0;
	smtp_data_scan_init(&s->scan);
	s->scan.line_max = s->conf->max_line_bytes;
	if ((s->wbuf = malloc(SMTP_WBUF_BYTES)) == NULL ||
	    smtp_data_received(s) == -1) {
		log_warnx("%08x smtp message setup failed", s->id);
		smtp_data_abort(s);
		smtp_data_create_fail(s);
		return;
	}
	if (s->bdat) {
		smtp_bdat_start(s);
		return;
	}
	smtp_session_set_state(s, S_DATA);
	lineio_set_maxline(s->io, SMTP_DATA_LINE_BOUND_BYTES);
	smtp_reply(s, "354 End data with <CR><LF>.<CR><LF>");
}

void
smtp_data_line(struct smtp_session *s, const char *line, size_t len,
    int lflags)
{
	const char	*text;
	size_t		 tlen;

	if (smtp_data_scan_line(&s->scan, line, len, lflags, &text,
	    &tlen) == 1) {
		smtp_data_end(s);
		return;
	}
	/* A refused message is read to its end, but not written. */
	if (s->scan.flags || s->msg_oversize || s->msg_ioerror || s->msg_lost)
		return;
	/* RFC 1870 4: the size as sent, CRLF included, dots unstuffed. */
	s->msgsize += tlen + 2;
	if (s->msgsize > s->conf->max_message_bytes) {
		s->msg_oversize = 1;
		return;
	}
	if (!s->hdr_done)
		smtp_data_header_line(s, text, tlen);
	smtp_data_write(s, text, tlen);
	smtp_data_write(s, "\n", 1);
}

/* 1 when the field at text is named name (any case), followed by ':'. */
static int
smtp_data_is_field(const char *text, size_t len, const char *name)
{
	size_t	 n = strlen(name);
	size_t	 i = n;

	if (len <= n || strncasecmp(text, name, n) != 0)
		return 0;
	/* RFC 5322 3.6.8 obsolete syntax allows blanks before the colon. */
	while (i < len && i < SMTP_HEADER_NAME_MAX_BYTES &&
	    (text[i] == ' ' || text[i] == '\t'))
		i++;
	return i < len && text[i] == ':';
}

/* Writes the Date, Message-ID (and From) fields the header lacks. */
static void
smtp_data_header_add(struct smtp_session *s)
{
	char	 buf[SMTP_REPLY_MAX_BYTES], date[64];
	int	 n;

	s->hdr_done = 1;
	if (!s->hdr_date) {
		smtp_data_date(date, sizeof(date));
		n = snprintf(buf, sizeof(buf), "Date: %s\n", date);
		if (n > 0 && (size_t)n < sizeof(buf))
			smtp_data_write(s, buf, (size_t)n);
	}
	if (!s->hdr_msgid) {
		n = snprintf(buf, sizeof(buf), "Message-ID: <%s.%08x@%s>\n",
		    s->msgid, arc4random(), s->conf->hostname);
		if (n > 0 && (size_t)n < sizeof(buf))
			smtp_data_write(s, buf, (size_t)n);
	}
	/* A local caller's message: From is its (envelope) sender. */
	if (!s->hdr_from && (s->lflags & SMTP_LF_LOCAL) &&
	    (n = smtp_local_from(s, buf, sizeof(buf))) > 0)
		smtp_data_write(s, buf, (size_t)n);
}

/*
 * Header fields may come in any order (RFC 5322 3.6), so the missing
 * ones go at the end of the header section, before its empty line.
 */
void
smtp_data_header_line(struct smtp_session *s, const char *text, size_t len)
{
	if (len == 0) {
		smtp_data_header_add(s);
		return;
	}
	if (text[0] == ' ' || text[0] == '\t')
		return;
	if (smtp_data_is_field(text, len, "Date"))
		s->hdr_date = 1;
	else if (smtp_data_is_field(text, len, "Message-ID"))
		s->hdr_msgid = 1;
	else if (smtp_data_is_field(text, len, "From"))
		s->hdr_from = 1;
}

/* The reply refusing a message, or NULL; *why is for the log. */
static const char *
smtp_data_verdict(struct smtp_session *s, char *buf, size_t len,
    const char **why)
{
	int	 f = s->scan.flags;

	if (f & (SMTP_DATA_F_BARE | SMTP_DATA_F_NUL)) {
		*why = (f & SMTP_DATA_F_BARE) ? "bare-lf-or-cr" : "nul-byte";
		return "554 5.6.0 Message refused: bare LF, bare CR or NUL "
		    "in data";
	}
	if (f & SMTP_DATA_F_TOOLONG) {
		*why = "line-too-long";
		(void)snprintf(buf, len, "554 5.6.0 Message refused: line too "
		    "long (limit %u octets, CRLF included)",
		    s->conf->max_line_bytes);
		return buf;
	}
	if (f & SMTP_DATA_F_LOOP) {
		*why = "loop";
		return "554 5.4.6 Too many Received headers: mail loop";
	}
	if (s->msg_oversize) {
		*why = "too-big";
		return "552 5.3.4 Message size exceeds fixed maximum message "
		    "size";
	}
	if (s->msg_ioerror || s->msg_lost) {
		*why = "queue-error";
		return "451 4.3.0 Queue error, try again later";
	}
	return NULL;
}

/* Asks queued to commit; the answer comes to smtp_data_committed(). */
static int
smtp_data_commit(struct smtp_session *s)
{
	struct ipc_out		*o;
	struct smtp_rcpt	*r;

	o = smtp_peer_out(MSG_SMTP_MESSAGE_COMMIT);
	ipc_put_str(o, s->msgid);
	ipc_put_str(o, s->sender);
	ipc_put_str(o, s->helo);
	ipc_put_str(o, s->client);
	ipc_put_u32(o, s->smtputf8 ? COMMIT_F_SMTPUTF8 : 0);
	ipc_put_u32(o, s->dsn_ret);
	ipc_put_str(o, s->dsn_envid);
	ipc_put_u32(o, s->nrcpts);
	TAILQ_FOREACH(r, &s->rcpts, entry) {
		ipc_put_str(o, r->addr);
		ipc_put_u32(o, r->notify);
		ipc_put_str(o, r->orcpt);
	}
	if (ipc_out_error(o))
		return -1;
	s->msg_committing = 1;
	s->msg_abort_sent = 0;
	if (smtp_session_request(s, WAIT_COMMIT, PEER_QUEUE, o) == -1) {
		s->msg_committing = 0;
		return -1;
	}
	return 0;
}

void
smtp_data_end(struct smtp_session *s)
{
	char		 buf[SMTP_REPLY_MAX_BYTES];
	const char	*reply, *why;

	lineio_set_maxline(s->io, SMTP_CMD_LINE_MAX_BYTES - 1);
	smtp_session_set_state(s, S_HELO);
	/* A message of header fields only: they go at its end. */
	if (!s->hdr_done && !s->scan.flags && !s->msg_oversize)
		smtp_data_header_add(s);
	smtp_data_flush(s);
	free(s->wbuf);
	s->wbuf = NULL;
	(void)close(s->msgfd);
	s->msgfd = -1;
	if ((reply = smtp_data_verdict(s, buf, sizeof(buf), &why)) != NULL) {
		smtp_reply(s, "%s", reply);
		log_info("%08x smtp message-refused msgid=%s reason=%s "
		    "size=%llu", s->id, s->msgid, why,
		    (unsigned long long)s->msgsize);
		smtp_session_reset(s);
		return;
	}
	if (smtp_data_commit(s) == -1)
		smtp_data_commit_fail(s);
}

void
smtp_data_committed(struct smtp_session *s, uint32_t result,
    const char *error)
{
	char	 vis[QUEUE_ERROR_MAX_BYTES];

	s->msg_committing = 0;
	if (result == RESULT_OK) {
		smtp_reply(s, "250 2.0.0 Ok: queued as %s", s->msgid);
		log_info("%08x smtp message msgid=%s size=%llu rcpts=%u",
		    s->id, s->msgid, (unsigned long long)s->msgsize,
		    s->nrcpts);
		s->nmessages++;
	} else {
		if (result == RESULT_PERMFAIL)
			smtp_reply(s, "554 5.3.0 Message refused by the queue");
		else
			smtp_reply_tempfail(s, "Queue error");
		log_warnx("%08x smtp message-failed msgid=%s result=%u "
		    "error=\"%s\"", s->id, s->msgid, result,
		    log_vis(vis, sizeof(vis), error, strlen(error)));
	}
	/* Committed or refused: queued has it, nothing to abort. */
	s->msgid[0] = '\0';
	smtp_session_reset(s);
}

/*
 * A 4xx must mean that the message was not taken.  When COMMIT went
 * out and no answer came (queued lost, or silent even after the
 * ABORT), queued may have it on disk, to deliver: the session closes
 * without a reply, which leaves the client as unsure as we are (RFC
 * 1047; RFC 5321 6.1: it sends again, and a duplicate is the worst).
 */
void
smtp_data_commit_fail(struct smtp_session *s)
{
	if (s->msg_committing) {
		log_warnx("%08x smtp message-unsure msgid=%s "
		    "reason=no-answer-from-queue abort-sent=%d", s->id,
		    s->msgid, s->msg_abort_sent);
		smtp_session_close(s, "queue-commit-unanswered");
		return;
	}
	smtp_reply_tempfail(s, "Queue unavailable");
	log_warnx("%08x smtp message-failed msgid=%s reason=queue-unavailable",
	    s->id, s->msgid);
	smtp_session_reset(s);
}

/*
 * RFC 5321 4.5.3.2.6: the client waits 10 minutes for the answer to
 * its final dot, and "timeout commit" is how long we wait for queued's
 * (10 minutes too, by default).  After the ABORT, queued answers as
 * soon as it reads it, unless it is hung: SMTP_PEER_TIMEOUT_SECS.
 */
unsigned int
smtp_data_commit_secs(const struct smtp_session *s)
{
	return s->msg_abort_sent ? SMTP_PEER_TIMEOUT_SECS :
	    s->conf->commit_timeout_secs;
}

static int
smtp_data_send_abort(uint32_t id, const char *msgid)
{
	struct ipc_out	*o;

	o = smtp_peer_out(MSG_SMTP_MESSAGE_ABORT);
	o->hdr.peerid = id;
	ipc_put_str(o, msgid);
	return smtp_peer_send(PEER_QUEUE, o);
}

/*
 * No answer to COMMIT in time.  A 451 now would be a lie if queued
 * then committed the message (and delivered it, while the client sends
 * it again), so queued is asked to drop it; its answer, which follows
 * the ABORT on the socket, says what became of it: dropped (4xx) or
 * already in the queue (250).
 */
int
smtp_data_commit_late(struct smtp_session *s)
{
	if (s->msg_abort_sent)
		return -1;
	if (smtp_data_send_abort(s->id, s->msgid) == -1)
		return -1;
	s->msg_abort_sent = 1;
	log_warnx("%08x smtp commit-late msgid=%s waited=%us action=abort",
	    s->id, s->msgid, s->conf->commit_timeout_secs);
	return 0;
}

void
smtp_data_abort(struct smtp_session *s)
{
	if (s->msgfd != -1) {
		(void)close(s->msgfd);
		s->msgfd = -1;
	}
	free(s->wbuf);
	s->wbuf = NULL;
	s->wlen = 0;
	free(s->bdat_lines);
	s->bdat_lines = NULL;
	if (s->msgid[0] == '\0')
		return;
	/*
	 * Also while COMMIT is out: the client, gone without a 250, still
	 * owns the message, and queued drops it unless it is in the queue
	 * already (then at worst the client sends it again).
	 */
	if (!s->msg_lost && !s->msg_abort_sent)
		(void)smtp_data_send_abort(s->id, s->msgid);
	s->msgid[0] = '\0';
	s->msg_committing = s->msg_abort_sent = 0;
}
