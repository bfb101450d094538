/*
 * imapd: a client's output, shared by the login engine (user imap,
 * chrooted to the empty dir, seccomp SANDBOX_ENGINE) and the mailbox
 * process (the mail user, chrooted to the mail home): whole reply
 * lines, tagged and untagged, and the writer the command reader
 * (imap_proto.h) is given.  Every line is bounded by
 * IMAP_REPLY_MAX_BYTES; one that would not fit is a bug, logged, and
 * the session closes rather than send half a line.
 */
#include <sys/types.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imapd.h"
#include "lineio.h"
#include "log.h"

static void
imap_close(struct imap_conn *c)
{
	c->closing = 1;
	c->state = IMAP_S_LOGOUT;
	if (c->lio != NULL)
		lineio_shutdown(c->lio);
}

static void
imap_vline(struct imap_conn *c, const char *prefix, const char *fmt,
    va_list ap)
{
	char	 line[IMAP_REPLY_MAX_BYTES + 2];
	int	 n, m;

	if (c->lio == NULL)
		return;
	n = snprintf(line, sizeof(line) - 2, "%s", prefix);
	m = vsnprintf(line + n, sizeof(line) - 2 - (size_t)n, fmt, ap);
	if (n < 0 || m < 0 || (size_t)(n + m) >= sizeof(line) - 2) {
		log_warnx("%08x imap reply-too-long", c->id);
		imap_close(c);
		return;
	}
	n += m;
	line[n++] = '\r';
	line[n++] = '\n';
	if (lineio_write(c->lio, line, (size_t)n) == -1)
		imap_close(c);
}

void
imap_line(struct imap_conn *c, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	imap_vline(c, "", fmt, ap);
	va_end(ap);
}

void
imap_write(struct imap_conn *c, const void *data, size_t len)
{
	if (c->lio != NULL && lineio_write(c->lio, data, len) == -1)
		imap_close(c);
}

/* "tag " as a prefix; the reader checked the tag's characters. */
static void
imap_tagged(struct imap_conn *c, const char *tag, const char *status,
    const char *fmt, va_list ap)
{
	char	 prefix[IMAP_TAG_MAX_BYTES + 8];

	if (snprintf(prefix, sizeof(prefix), "%s %s ", tag, status) >=
	    (int)sizeof(prefix)) {
		log_warnx("%08x imap tag-too-long", c->id);
		imap_close(c);
		return;
	}
	imap_vline(c, prefix, fmt, ap);
}

void
imap_ok(struct imap_conn *c, const char *tag, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	imap_tagged(c, tag, "OK", fmt, ap);
	va_end(ap);
}

void
imap_no(struct imap_conn *c, const char *tag, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	imap_tagged(c, tag, "NO", fmt, ap);
	va_end(ap);
}

/* A BAD counts toward IMAP_ERRORS_MAX (the reader keeps the count). */
void
imap_bad(struct imap_conn *c, const char *tag, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	imap_tagged(c, tag, "BAD", fmt, ap);
	va_end(ap);
	c->errors++;
	if (c->rd != NULL && imap_reader_error(c->rd) == -1) {
		log_info("%08x imap too-many-errors", c->id);
		imap_bye(c, "Too many errors");
	}
}

void
imap_bye(struct imap_conn *c, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	imap_vline(c, "* BYE ", fmt, ap);
	va_end(ap);
	imap_close(c);
}

static const char *const imap_state_names[] = {
	"noauth", "auth", "selected", "logout"
};

const char *
imap_state_name(int state)
{
	size_t	 i;

	for (i = 0; i < sizeof(imap_state_names) /
	    sizeof(imap_state_names[0]); i++)
		if (state == (1 << i))
			return imap_state_names[i];
	return "unknown";
}

void
imap_set_state(struct imap_conn *c, int state)
{
	log_debug("%08x imap state %s -> %s", c->id,
	    imap_state_name(c->state), imap_state_name(state));
	c->state = state;
}

static int
imap_conn_write(struct imap_conn *c, const void *data, size_t len)
{
	if (c->lio == NULL || c->closing)
		return -1;
	if (lineio_write(c->lio, data, len) == -1) {
		imap_close(c);
		return -1;
	}
	return 0;
}

static void
imap_conn_log(struct imap_conn *c, const char *event, const char *detail)
{
	log_info("%08x imap %s reason=\"%s\"", c->id, event, detail);
}

const struct imap_io imap_conn_io = { imap_conn_write, imap_conn_log };
