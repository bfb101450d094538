/*
 * The relay's SMTP client (DESIGN.md, "Outbound mail"): the message
 * body in DATA, streamed from the message's fd in blocks, so that a
 * 50 MB message takes RELAY_DATA_BUF_BYTES of output and a block read,
 * never the message.  The queue stores LF line ends, dot-unstuffed;
 * the wire wants CRLF, dot-stuffing (RFC 5321 4.5.2) and lines of at
 * most 998 octets (4.5.3.1.6): a longer line (sallyport takes them in,
 * see "line-length" in doc/INTERNALS.md) is folded with CRLF SP, as
 * Postfix's smtp_line_length_limit does.  An 8-bit message for a server
 * without 8BITMIME goes through the quoted-printable walker
 * (relay_smtp_qp.c) first: scanned before MAIL, converted here.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "relay_smtp_int.h"

#define RELAY_DATA_READ_BYTES	(RELAY_DATA_BUF_BYTES / 4)
#define RELAY_DATA_SINK_BYTES	1024

static int	relay_data_sink(void *, const char *, size_t);

size_t
relay_data_encode(struct relay_data *d, const char *in, size_t len,
    char *out)
{
	size_t	 i, n = 0;

	for (i = 0; i < len; i++) {
		if (in[i] == '\n') {
			out[n++] = '\r';
			out[n++] = '\n';
			d->col = 0;
			continue;
		}
		if (d->col >= RELAY_DATA_LINE_MAX_BYTES) {
			out[n++] = '\r';
			out[n++] = '\n';
			out[n++] = ' ';
			d->col = 1;
		}
		if (d->col == 0 && in[i] == '.') {
			out[n++] = '.';
			d->col++;
		}
		out[n++] = in[i];
		d->col++;
	}
	return n;
}

size_t
relay_data_finish(struct relay_data *d, char *out)
{
	size_t	 n = 0;

	if (d->col > 0) {
		out[n++] = '\r';
		out[n++] = '\n';
		d->col = 0;
	}
	memcpy(out + n, ".\r\n", 3);
	return n + 3;
}

const char *
relay_data_scan(struct relay_smtp *c)
{
	char	 in[RELAY_DATA_READ_BYTES];
	off_t	 off = 0;
	ssize_t	 r;

	if (c->mime == NULL && (c->mime = relay_mime_new()) == NULL)
		return "451 4.3.0 out of memory";
	relay_mime_start(c->mime, NULL, NULL);
	while ((r = pread(c->msg->fd, in, sizeof(in), off)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return "451 4.3.0 message read failed";
		(void)relay_mime_feed(c->mime, in, (size_t)r);
		off += r;
	}
	(void)relay_mime_end(c->mime);
	if (relay_mime_error(c->mime) != RELAY_MIME_OK)
		return relay_mime_reply(relay_mime_error(c->mime));
	c->convert = 1;
	log_info("%s relay convert 8bit to quoted-printable size=%lld",
	    c->p.id, (long long)off);
	relay_mime_start(c->mime, relay_data_sink, c);
	return NULL;
}

/* The converted message's way out: as any body, CRLF and dots. */
static int
relay_data_sink(void *arg, const char *s, size_t len)
{
	struct relay_smtp	*c = arg;
	char			 out[4 * RELAY_DATA_SINK_BYTES];
	size_t			 k;

	while (len > 0) {
		k = len < RELAY_DATA_SINK_BYTES ? len : RELAY_DATA_SINK_BYTES;
		if (lineio_write(c->io, out, relay_data_encode(&c->data, s, k,
		    out)) == -1)
			return -1;
		s += k;
		len -= k;
	}
	return 0;
}

/* The last block is out: the dot, and the end-of-data timeout. */
static void
relay_data_dot(struct relay_smtp *c)
{
	char	 out[8];
	size_t	 n;

	if (c->convert && relay_mime_end(c->mime) == -1) {
		relay_smtp_end(c, 0, "write failed");
		return;
	}
	n = relay_data_finish(&c->data, out);
	if (lineio_write(c->io, out, n) == -1) {
		relay_smtp_end(c, 0, "write failed");
		return;
	}
	relay_smtp_state(c, RS_DOT, c->p.timeouts.data_end);
}

void
relay_data_send(struct relay_smtp *c)
{
	char	 in[RELAY_DATA_READ_BYTES], out[4 * RELAY_DATA_READ_BYTES];
	ssize_t	 r;
	size_t	 n;

	while (lineio_output_pending(c->io) < RELAY_DATA_BUF_BYTES) {
		r = pread(c->msg->fd, in, sizeof(in), c->data.off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			/* Never the dot: the server must not take it. */
			relay_smtp_end(c, 0, "message read failed");
			return;
		}
		if (r == 0) {
			relay_data_dot(c);
			return;
		}
		c->data.off += r;
		if (c->convert) {
			if (relay_mime_feed(c->mime, in, (size_t)r) == -1) {
				relay_smtp_end(c, 0, "write failed");
				return;
			}
			continue;
		}
		n = relay_data_encode(&c->data, in, (size_t)r, out);
		if (lineio_write(c->io, out, n) == -1) {
			relay_smtp_end(c, 0, "write failed");
			return;
		}
	}
	/* RFC 5321 4.5.3.2.5: each block within the data block timeout. */
	relay_smtp_state(c, RS_BODY, c->p.timeouts.data_block);
	lineio_want_drain(c->io);
}
