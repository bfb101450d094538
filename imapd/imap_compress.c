/*
 * COMPRESS=DEFLATE (RFC 4978): after "tag OK", everything the client
 * and the session exchange is raw deflate (RFC 1951), each answer
 * flushed with Z_SYNC_FLUSH so the client can read it at once.  The
 * session keeps its lineio, moved onto one end of a socketpair made at
 * start-up (before the seccomp filter); this file relays between the
 * other end and the client, inflating and deflating, with back-pressure
 * both ways (a direction stops reading while the other side has more
 * than IMAP_COMPRESS_HIGH_BYTES waiting).  Runs in the mailbox process:
 * the mail user, chrooted in the mail home, seccomp
 * SANDBOX_IMAP_MAILBOX.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <zlib.h>

#include "lineio.h"
#include "log.h"
#include "imap_session.h"

/* One direction of the relay: read from rfd, through z, out to wfd. */
struct zdir {
	int		 rfd;
	int		 wfd;
	int		 inflating;
	z_stream	 z;
	struct evbuffer	*out;
	struct event	*ev_read;
	struct event	*ev_write;
	struct zdir	*peer;		/* the other direction */
};

static struct {
	int		 pair[2];	/* [0] the session's, [1] ours */
	int		 active;
	struct zdir	 up;		/* client to session */
	struct zdir	 down;		/* session to client */
} zc = { { -1, -1 }, 0, { 0 }, { 0 } };

int
imap_compress_prepare(void)
{
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, zc.pair) == -1)
		return -1;
	return 0;
}

/* Runs data through z (inflate or deflate) into out; -1 on error. */
static int
zrun(z_stream *z, int inflating, const unsigned char *in, size_t len,
    struct evbuffer *out)
{
	unsigned char	 buf[16384];
	int		 r;

	z->next_in = (unsigned char *)(uintptr_t)in;
	z->avail_in = (uInt)len;
	do {
		z->next_out = buf;
		z->avail_out = sizeof(buf);
		r = inflating ? inflate(z, Z_SYNC_FLUSH) :
		    deflate(z, Z_SYNC_FLUSH);
		if (r != Z_OK && r != Z_BUF_ERROR && r != Z_STREAM_END)
			return -1;
		if (evbuffer_add(out, buf, sizeof(buf) - z->avail_out) == -1)
			return -1;
	} while (z->avail_out == 0 || z->avail_in > 0);
	return 0;
}

/* The relay ends: the session sees its end of the socketpair close. */
static void
zc_stop(void)
{
	(void)event_del(zc.up.ev_read);
	(void)event_del(zc.down.ev_read);
	(void)shutdown(zc.pair[1], SHUT_RDWR);
}

static void
zc_read(evutil_socket_t fd, short ev, void *arg)
{
	struct zdir	*d = arg;
	unsigned char	 buf[16384];
	ssize_t		 n;

	(void)ev;
	n = read(fd, buf, sizeof(buf));
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 || zrun(&d->z, d->inflating, buf, (size_t)n,
	    d->out) == -1) {
		if (n > 0)
			log_warnx("- imap compress-error");
		zc_stop();
		return;
	}
	(void)event_add(d->ev_write, NULL);
	if (evbuffer_get_length(d->out) > IMAP_COMPRESS_HIGH_BYTES)
		(void)event_del(d->ev_read);
}

static void
zc_write(evutil_socket_t fd, short ev, void *arg)
{
	struct zdir	*d = arg;

	(void)ev;
	if (evbuffer_write(d->out, fd) == -1 && errno != EAGAIN &&
	    errno != EINTR) {
		zc_stop();
		return;
	}
	if (evbuffer_get_length(d->out) == 0)
		(void)event_del(d->ev_write);
	if (evbuffer_get_length(d->out) < IMAP_COMPRESS_HIGH_BYTES / 2)
		(void)event_add(d->ev_read, NULL);
}

static int
zc_dir(struct event_base *base, struct zdir *d, int rfd, int wfd,
    int inflating)
{
	d->rfd = rfd;
	d->wfd = wfd;
	d->inflating = inflating;
	if ((inflating ? inflateInit2(&d->z, -15) : deflateInit2(&d->z,
	    Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8,
	    Z_DEFAULT_STRATEGY)) != Z_OK)
		return -1;
	if ((d->out = evbuffer_new()) == NULL ||
	    (d->ev_read = event_new(base, rfd, EV_READ | EV_PERSIST, zc_read,
	    d)) == NULL ||
	    (d->ev_write = event_new(base, wfd, EV_WRITE | EV_PERSIST,
	    zc_write, d)) == NULL)
		return -1;
	return event_add(d->ev_read, NULL);
}

/*
 * Starts compressing on the client fd (the session's lineio has been
 * detached from it): returns the descriptor the session's new lineio
 * uses, or -1.
 */
int
imap_compress_start(struct event_base *base, int clientfd)
{
	if (zc.pair[0] == -1 || zc.active)
		return -1;
	if (fcntl(zc.pair[1], F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(clientfd, F_SETFL, O_NONBLOCK) == -1 ||
	    zc_dir(base, &zc.up, clientfd, zc.pair[1], 1) == -1 ||
	    zc_dir(base, &zc.down, zc.pair[1], clientfd, 0) == -1)
		return -1;
	zc.active = 1;
	return zc.pair[0];
}

int
imap_compress_active(void)
{
	return zc.active;
}

/*
 * At the end: what the session wrote last (its BYE, LOGOUT's OK) is
 * still in the socketpair or our buffer; it goes out compressed, with
 * the client's descriptor blocking, before the process exits.
 */
void
imap_compress_finish(void)
{
	unsigned char	 buf[16384];
	ssize_t		 n;

	if (!zc.active)
		return;
	while ((n = read(zc.pair[1], buf, sizeof(buf))) > 0)
		if (zrun(&zc.down.z, 0, buf, (size_t)n, zc.down.out) == -1)
			return;
	(void)fcntl(zc.down.wfd, F_SETFL, 0);
	while (evbuffer_get_length(zc.down.out) > 0)
		if (evbuffer_write(zc.down.out, zc.down.wfd) <= 0)
			return;
}

/* COMPRESS DEFLATE: the OK goes out plain, then the switch is made. */
int
cmd_compress(struct imap_conn *c, const struct imap_command *cmd)
{
	struct imap_sess	*s = SESS(c);

	if (!imap_arg_is_atom(&cmd->args[0], "DEFLATE"))
		return sess_bad(s, cmd->tag, "only DEFLATE is offered");
	if (zc.active || s->compress_pending) {
		sess_no(s, cmd->tag, "[COMPRESSIONACTIVE] already compressing");
		return 0;
	}
	if (zc.pair[0] == -1) {
		sess_no(s, cmd->tag, "[UNAVAILABLE] cannot compress");
		return 0;
	}
	sess_ok(s, cmd->tag, "DEFLATE active");
	s->compress_pending = 1;
	lineio_pause(c->lio);
	lineio_want_drain(c->lio);
	return 0;
}
