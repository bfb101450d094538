/*
 * smtpd engine (user smtp, chroot emptydir, seccomp SANDBOX_ENGINE):
 * CHUNKING (RFC 3030).  "BDAT size [LAST]" is followed by exactly size
 * octets, read raw (lineio_read_raw), with no dot-stuffing and no end
 * marker.  The first chunk of a transaction asks queued for the message
 * file as DATA does; each chunk is answered 250 once read, the last one
 * only when queued has committed the message.
 *
 * Once its size is known a chunk is always read, also when it is
 * refused, so that its octets are never taken for commands.  The content
 * is split into lines (smtp_bdat_split) and stored through
 * smtp_data_line(), so that DATA's rules apply to it alike: CRLF is
 * stored as LF, and a bare LF or CR, a NUL, a line too long, a loop or
 * too many octets refuse the message at the last chunk.
 */
#include <stdlib.h>
#include <string.h>

#include "lineio.h"
#include "log.h"
#include "smtpd.h"

static void	smtp_bdat_done(struct smtp_session *);

/* Reads the chunk: into the message, or into nothing with an error. */
static void
smtp_bdat_read(struct smtp_session *s)
{
	if (s->bdat_size == 0)
		smtp_bdat_done(s);
	else
		smtp_session_read_raw(s, s->bdat_size);
}

/* The chunk is read and dropped, then answered with reply. */
static void
smtp_bdat_refuse(struct smtp_session *s, const char *reply, const char *why)
{
	s->bdat_error = reply;
	s->bdat_why = why;
	smtp_bdat_read(s);
}

void
smtp_bdat_cmd(struct smtp_session *s, const char *arg)
{
	const char	*errstr;
	uint64_t	 size;
	int		 last;

	if (smtp_parse_bdat(arg, &size, &last, &errstr) == -1) {
		/* Where the chunk ends is unknown: nothing more is read. */
		smtp_reply(s, "501 5.5.4 Syntax: BDAT size [LAST] (%s)",
		    errstr);
		smtp_session_close(s, "bad-bdat");
		return;
	}
	s->bdat_size = size;
	s->bdat_last = last;
	s->bdat_error = NULL;
	if (s->state == S_INIT)
		smtp_bdat_refuse(s, "503 5.5.1 Send HELO/EHLO first",
		    "bad-sequence");
	else if (s->state == S_HELO)
		smtp_bdat_refuse(s, "503 5.5.1 Need MAIL command first",
		    "bad-sequence");
	else if (s->nrcpts == 0)
		smtp_bdat_refuse(s, "554 5.5.1 No valid recipients",
		    "no-recipients");
	else if (s->msgid[0] == '\0') {
		s->bdat = 1;
		smtp_data_begin(s);
	} else
		smtp_bdat_read(s);
}

/*
 * RFC 3030 2: the chunk follows its BDAT line at once.  A BDAT line
 * refused before its size was read (too long, a NUL, a bare LF or CR,
 * bad syntax) leaves the chunk's end unknown, as in smtp_bdat_cmd():
 * reading on would take the chunk's octets for commands.
 */
void
smtp_bdat_line_refused(struct smtp_session *s, const char *line, size_t len)
{
	if (smtp_parse_is_bdat(line, len))
		smtp_session_close(s, "bad-bdat");
}

void
smtp_bdat_start(struct smtp_session *s)
{
	if ((s->bdat_lines = calloc(1, sizeof(*s->bdat_lines))) == NULL) {
		log_warnx("%08x smtp bdat setup failed", s->id);
		smtp_data_abort(s);
		smtp_bdat_create_fail(s);
		return;
	}
	s->scan.bdat = 1;
	smtp_bdat_read(s);
}

void
smtp_bdat_create_fail(struct smtp_session *s)
{
	log_info("%08x smtp message-refused reason=queue-unavailable", s->id);
	smtp_bdat_refuse(s, "451 4.3.0 Queue unavailable, try again later",
	    NULL);
}

static void
smtp_bdat_line(void *arg, const char *line, size_t len, int lflags)
{
	smtp_data_line(arg, line, len, lflags);
}

void
smtp_bdat_data(struct smtp_session *s, const char *data, size_t len,
    size_t left)
{
	if (s->bdat_error == NULL && s->bdat_lines != NULL)
		smtp_bdat_split(s->bdat_lines, data, len, smtp_bdat_line, s);
	if (left == 0)
		smtp_bdat_done(s);
}

/* The chunk is read: its answer, or the message's end at LAST. */
static void
smtp_bdat_done(struct smtp_session *s)
{
	const char	*reply = s->bdat_error;

	if (reply != NULL) {
		s->bdat_error = NULL;
		if (s->bdat_why != NULL) {
			smtp_error(s, s->bdat_why, "%s", reply);
			return;
		}
		/* A chunk is lost: the rest of the transaction is too. */
		smtp_reply(s, "%s", reply);
		smtp_session_reset(s);
		return;
	}
	if (!s->bdat_last) {
		smtp_reply(s, "250 2.0.0 %llu octets received",
		    (unsigned long long)s->bdat_size);
		return;
	}
	smtp_bdat_finish(s->bdat_lines, smtp_bdat_line, s);
	smtp_data_end(s);
}
