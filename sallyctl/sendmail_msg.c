/*
 * sendmail: the message from the caller's standard input into a
 * temporary file, before any connection is made (a program that
 * writes slowly never holds an SMTP session open).  Runs in the
 * caller's sendmail process (see sendmail.h).
 *
 * On the way the header is scanned: with -t the addresses of To, Cc
 * and Bcc become recipients; Bcc fields are left out of every message
 * (as Postfix's cleanup does), so that no recipient learns of another's
 * blind copy; a From field is added at the header's end when there is
 * none.  Line ends become LF; a leading mbox "From " line is dropped;
 * without -i a line of a single dot ends the message.  A line or a
 * message past its limit is refused, never cut.
 */
#include <sys/types.h>

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include "sendmail.h"

enum msg_field {
	FIELD_OTHER = 0,
	FIELD_ADDR,		/* To, Cc: kept, read for -t */
	FIELD_BCC,		/* left out, read for -t */
};

struct msg_state {
	struct sendmail_msg	*m;
	FILE			*out;
	int			 in_header;
	enum msg_field		 field;
	char			 fbuf[SENDMAIL_FIELD_MAX_BYTES];
	size_t			 flen;
	const char		*errstr;
};

/*
 * One line into buf, its LF and a CR before it removed: its length, or
 * -1 at EOF and when *bad says why (too long, a NUL byte).
 */
static ssize_t
msg_getline(FILE *in, char *buf, size_t size, const char **bad)
{
	size_t	 n = 0;
	int	 c;

	*bad = NULL;
	while ((c = getc_unlocked(in)) != EOF && c != '\n') {
		if (n + 1 >= size) {
			*bad = "line longer than the limit line-length";
			return -1;
		}
		if (c == '\0') {
			*bad = "NUL byte in the message";
			return -1;
		}
		buf[n++] = (char)c;
	}
	if (c == EOF && n == 0)
		return -1;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return (ssize_t)n;
}

static int
msg_rcpt_cb(void *arg, const char *addr)
{
	struct msg_state	*st = arg;

	return sendmail_rcpt_add(st->m->rcpts, addr, &st->errstr);
}

/* The field just ended: its addresses, with -t. */
static int
msg_field_end(struct msg_state *st)
{
	const char	*errstr;

	if (st->field != FIELD_OTHER && st->m->extract &&
	    sendmail_addr_list(st->fbuf, st->flen, msg_rcpt_cb, st,
	    &errstr) == -1) {
		if (st->errstr == NULL)
			st->errstr = errstr;
		return -1;
	}
	st->field = FIELD_OTHER;
	st->flen = 0;
	return 0;
}

static int
msg_field_append(struct msg_state *st, const char *text, size_t len)
{
	if (st->field == FIELD_OTHER)
		return 0;
	if (st->flen + len + 1 >= sizeof(st->fbuf)) {
		st->errstr = "To, Cc or Bcc field too long";
		return -1;
	}
	memcpy(st->fbuf + st->flen, text, len);
	st->flen += len;
	st->fbuf[st->flen++] = ' ';
	return 0;
}

/* The length of a field's name at line (before ':'), or 0: not a field. */
static size_t
msg_field_name(const char *line, size_t len, size_t *colon)
{
	size_t	 i, n;

	for (i = 0; i < len && line[i] > ' ' && line[i] < 0x7f &&
	    line[i] != ':'; i++)
		;
	n = i;
	/* RFC 5322 4.5: obsolete blanks before the colon. */
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (n == 0 || i >= len || line[i] != ':')
		return 0;
	*colon = i;
	return n;
}

static enum msg_field
msg_field_kind(struct msg_state *st, const char *line, size_t n)
{
	if (n == 4 && strncasecmp(line, "From", 4) == 0)
		st->m->has_from = 1;
	if (n == 3 && strncasecmp(line, "Bcc", 3) == 0)
		return FIELD_BCC;
	if ((n == 2 && strncasecmp(line, "To", 2) == 0) ||
	    (n == 2 && strncasecmp(line, "Cc", 2) == 0))
		return FIELD_ADDR;
	return FIELD_OTHER;
}

/* The end of the header: From when missing, and the empty line. */
static int
msg_header_end(struct msg_state *st)
{
	if (msg_field_end(st) == -1)
		return -1;
	st->in_header = 0;
	if (!st->m->has_from && st->m->from_line != NULL)
		(void)fprintf(st->out, "%s\n", st->m->from_line);
	(void)fputc('\n', st->out);
	return 0;
}

/* A header line: 1 when it is to be written, 0 not, -1 on error. */
static int
msg_header_line(struct msg_state *st, const char *line, size_t len)
{
	size_t	 n, colon;

	if (len > 0 && (line[0] == ' ' || line[0] == '\t')) {
		if (msg_field_append(st, line, len) == -1)
			return -1;
		return st->field != FIELD_BCC;
	}
	if (msg_field_end(st) == -1)
		return -1;
	if ((n = msg_field_name(line, len, &colon)) == 0) {
		/* No empty line before the body: one goes there. */
		if (msg_header_end(st) == -1)
			return -1;
		return 1;
	}
	st->field = msg_field_kind(st, line, n);
	if (msg_field_append(st, line + colon + 1, len - colon - 1) == -1)
		return -1;
	return st->field != FIELD_BCC;
}

static int
msg_line(struct msg_state *st, const char *line, size_t len)
{
	int	 w = 1;

	st->m->bytes += len + 1;
	if (st->m->bytes > st->m->max_bytes) {
		st->errstr = "message larger than the limit message-size";
		return -1;
	}
	if (st->in_header && len == 0)
		return msg_header_end(st);
	if (st->in_header && (w = msg_header_line(st, line, len)) == -1)
		return -1;
	if (w && (fwrite(line, 1, len, st->out) != len ||
	    fputc('\n', st->out) == EOF)) {
		st->errstr = "cannot write the temporary file";
		return -1;
	}
	return 0;
}

int
sendmail_msg_read(struct sendmail_msg *m, FILE *in, FILE *out,
    const char **errstr)
{
	static char		 line[SENDMAIL_LINE_MAX_BYTES];
	static struct msg_state	 st;
	ssize_t			 len;
	const char		*bad;
	int			 first = 1;

	memset(&st, 0, sizeof(st));
	st.m = m;
	st.out = out;
	st.in_header = 1;
	while ((len = msg_getline(in, line, sizeof(line), &bad)) != -1) {
		if (first && len >= 5 && memcmp(line, "From ", 5) == 0) {
			first = 0;
			continue;
		}
		first = 0;
		if (!m->ignore_dots && len == 1 && line[0] == '.')
			break;
		if (msg_line(&st, line, (size_t)len) == -1)
			goto fail;
	}
	if (bad != NULL) {
		st.errstr = bad;
		goto fail;
	}
	if (ferror(in)) {
		*errstr = "cannot read the message";
		return EX_IOERR;
	}
	if (st.in_header && msg_header_end(&st) == -1)
		goto fail;
	if (fflush(out) == EOF || ferror(out)) {
		*errstr = "cannot write the temporary file";
		return EX_CANTCREAT;
	}
	return 0;
fail:
	*errstr = st.errstr != NULL ? st.errstr : "invalid message";
	return EX_DATAERR;
}
