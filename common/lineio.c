/*
 * Bounded line I/O for the protocol engines, over libevent, on plain
 * sockets and libtls connections alike.  See lineio.h for the contract;
 * the TLS side is lineio_tls.c's (lineio_int.h).
 *
 * Input is read into an evbuffer that never holds more than
 * LINEIO_INBUF_MAX_BYTES: past that, reading stops until the owner takes
 * lines again, which is how a pipelining client is held back.  Output is
 * queued and written from the event loop, so that the replies to a
 * pipelined group leave in one write (RFC 2920 3.1).
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <event2/buffer.h>

#include "lineio.h"
#include "lineio_int.h"
#include "log.h"

#define LINEIO_INBUF_MAX_BYTES	(64 * 1024)
#define LINEIO_OUTBUF_MAX_BYTES	(4 * 1024 * 1024)
/*
 * After lineio_shutdown(), the longest wait for a peer that does not
 * read its last reply: then the connection is closed unflushed, so that
 * no client can hold a session slot and a descriptor by not reading.
 */
#define LINEIO_LINGER_SECS	30

static void	lineio_readcb(evutil_socket_t, short, void *);
static void	lineio_writecb(evutil_socket_t, short, void *);
static void	lineio_timeoutcb(evutil_socket_t, short, void *);
static void	lineio_processcb(evutil_socket_t, short, void *);
static void	lineio_reportcb(evutil_socket_t, short, void *);
static void	lineio_process(struct lineio *);
static void	lineio_flush(struct lineio *);

/*
 * Reports an event from the event loop.  Terminal events stop all I/O;
 * only the first terminal event is reported.
 */
void
lineio_report(struct lineio *l, int event)
{
	int	 terminal;

	terminal = event != LINEIO_TLS_DONE && event != LINEIO_DRAINED;
	if (l->dead)
		return;
	if (terminal) {
		l->dead = 1;
		(void)event_del(l->ev_read);
		(void)event_del(l->ev_write);
		(void)event_del(l->ev_timeout);
		(void)event_del(l->ev_process);
	}
	/* A terminal event overrides a pending non-terminal one. */
	if (l->report == 0 || terminal)
		l->report = event;
	event_active(l->ev_report, 0, 0);
}

static void
lineio_reportcb(evutil_socket_t fd, short ev, void *arg)
{
	struct lineio	*l = arg;
	int		 event = l->report;

	(void)fd;
	(void)ev;
	l->report = 0;
	if (event != 0)
		l->event_cb(l, event, l->arg);
}

struct lineio *
lineio_new(struct event_base *base, int fd, size_t maxline,
    lineio_line_cb line_cb, lineio_event_cb event_cb, void *arg)
{
	struct lineio	*l;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	l->fd = fd;
	l->maxline = maxline;
	l->line_cb = line_cb;
	l->event_cb = event_cb;
	l->arg = arg;
	if (evutil_make_socket_nonblocking(fd) == -1)
		goto fail;
	l->ev_read = event_new(base, fd, EV_READ | EV_PERSIST,
	    lineio_readcb, l);
	l->ev_write = event_new(base, fd, EV_WRITE, lineio_writecb, l);
	l->ev_timeout = evtimer_new(base, lineio_timeoutcb, l);
	l->ev_process = event_new(base, -1, 0, lineio_processcb, l);
	l->ev_report = event_new(base, -1, 0, lineio_reportcb, l);
	l->in = evbuffer_new();
	l->out = evbuffer_new();
	l->line = malloc(maxline + 1);
	if (l->ev_read == NULL || l->ev_write == NULL ||
	    l->ev_timeout == NULL || l->ev_process == NULL ||
	    l->ev_report == NULL || l->in == NULL || l->out == NULL ||
	    l->line == NULL)
		goto fail;
	if (event_add(l->ev_read, NULL) == -1)
		goto fail;
	return l;
fail:
	l->fd = -1;
	lineio_free(l);
	return NULL;
}

static void
lineio_free_common(struct lineio *l)
{
	if (l->ev_read)
		event_free(l->ev_read);
	if (l->ev_write)
		event_free(l->ev_write);
	if (l->ev_timeout)
		event_free(l->ev_timeout);
	if (l->ev_process)
		event_free(l->ev_process);
	if (l->ev_report)
		event_free(l->ev_report);
	if (l->in)
		evbuffer_free(l->in);
	if (l->out)
		evbuffer_free(l->out);
	free(l->line);
}

void
lineio_free(struct lineio *l)
{
	if (l == NULL)
		return;
	lineio_free_common(l);
	if (l->tlsops != NULL)
		l->tlsops->close(l);
	if (l->fd != -1)
		(void)close(l->fd);
	free(l);
}

int
lineio_detach(struct lineio *l)
{
	int	 fd = l->fd;

	if (l->tls != NULL || l->tls_state != TLS_NONE)
		return -1;
	lineio_free_common(l);
	free(l);
	return fd;
}

void
lineio_set_owner(struct lineio *l, lineio_line_cb line_cb,
    lineio_event_cb event_cb, void *arg)
{
	l->line_cb = line_cb;
	l->event_cb = event_cb;
	l->arg = arg;
}

void
lineio_set_maxline(struct lineio *l, size_t maxline)
{
	char	*p;

	if (maxline == l->maxline)
		return;
	if ((p = realloc(l->line, maxline + 1)) == NULL) {
		lineio_report(l, LINEIO_ERROR);
		return;
	}
	l->line = p;
	l->maxline = maxline;
}

void
lineio_arm_timeout(struct lineio *l)
{
	struct timeval	 tv;

	/* After lineio_shutdown() the timer counts the linger time. */
	if (l->shutting)
		return;
	if (l->timeout_secs <= 0 || l->paused || l->dead) {
		(void)event_del(l->ev_timeout);
		return;
	}
	tv.tv_sec = l->timeout_secs;
	tv.tv_usec = 0;
	(void)evtimer_add(l->ev_timeout, &tv);
}

void
lineio_set_timeout(struct lineio *l, int secs)
{
	l->timeout_secs = secs;
	lineio_arm_timeout(l);
}

static void
lineio_timeoutcb(evutil_socket_t fd, short ev, void *arg)
{
	struct lineio	*l = arg;

	(void)fd;
	(void)ev;
	if (l->shutting) {
		log_debug("lineio linger-expired unsent=%zu",
		    evbuffer_get_length(l->out));
		lineio_report(l, LINEIO_CLOSED);
	} else
		lineio_report(l, LINEIO_TIMEOUT);
}

void
lineio_pause(struct lineio *l)
{
	l->paused = 1;
	if (!l->shutting)
		(void)event_del(l->ev_timeout);
}

void
lineio_resume(struct lineio *l)
{
	if (l->dead)
		return;
	l->paused = 0;
	lineio_arm_timeout(l);
	event_active(l->ev_process, 0, 0);
}

static void
lineio_processcb(evutil_socket_t fd, short ev, void *arg)
{
	struct lineio	*l = arg;

	(void)fd;
	(void)ev;
	/* Input may wait inside the TLS layer or the socket: read it. */
	if (!l->dead && l->tls_state != TLS_FLUSHING &&
	    l->tls_state != TLS_HANDSHAKE)
		lineio_readcb(l->fd, EV_READ, l);
	else
		lineio_process(l);
}

size_t
lineio_pending(const struct lineio *l)
{
	return evbuffer_get_length(l->in);
}

void
lineio_discard_input(struct lineio *l)
{
	(void)evbuffer_drain(l->in, evbuffer_get_length(l->in));
	l->discarding = 0;
}

void
lineio_read_raw(struct lineio *l, size_t n, lineio_raw_cb cb)
{
	l->raw_left = n;
	l->raw_cb = cb;
	if (!l->paused && !l->dead)
		event_active(l->ev_process, 0, 0);
}

/* Hands over up to maxline bytes of raw input; 0 when there is none. */
static int
lineio_deliver_raw(struct lineio *l)
{
	size_t	 n = evbuffer_get_length(l->in);

	if (n == 0)
		return 0;
	if (n > l->raw_left)
		n = l->raw_left;
	if (n > l->maxline)
		n = l->maxline;
	(void)evbuffer_remove(l->in, l->line, n);
	l->raw_left -= n;
	l->raw_cb(l, l->line, n, l->raw_left, l->arg);
	return 1;
}

/* Hands one complete line, of len bytes before the LF, to the owner. */
static void
lineio_deliver(struct lineio *l, size_t len, int flags)
{
	size_t	 n = len;

	if (n > l->maxline) {
		n = l->maxline;
		flags |= LINE_F_TOOLONG;
	}
	(void)evbuffer_remove(l->in, l->line, n);
	(void)evbuffer_drain(l->in, len - n + 1);
	if (!(flags & LINE_F_TOOLONG)) {
		if (n > 0 && l->line[n - 1] == '\r')
			n--;
		else
			flags |= LINE_F_BARELF;
	}
	l->line[n] = '\0';
	if (memchr(l->line, '\0', n) != NULL)
		flags |= LINE_F_NUL;
	if (memchr(l->line, '\r', n) != NULL)
		flags |= LINE_F_BARECR;
	l->line_cb(l, l->line, n, flags, l->arg);
}

/* Hands over buffered lines while the owner wants them. */
static void
lineio_process(struct lineio *l)
{
	struct evbuffer_ptr	 p;
	size_t			 avail;

	while (!l->paused && !l->dead && !l->shutting &&
	    l->tls_state != TLS_FLUSHING && l->tls_state != TLS_HANDSHAKE) {
		if (l->raw_left > 0) {
			if (lineio_deliver_raw(l))
				continue;
			break;
		}
		p = evbuffer_search(l->in, "\n", 1, NULL);
		avail = evbuffer_get_length(l->in);
		if (p.pos == -1) {
			if (avail <= l->maxline && !l->discarding)
				break;
			/* An over-long line: hand it over cut, once. */
			if (!l->discarding) {
				(void)evbuffer_remove(l->in, l->line,
				    l->maxline);
				l->line[l->maxline] = '\0';
				l->discarding = 1;
				(void)evbuffer_drain(l->in, avail);
				l->line_cb(l, l->line, l->maxline,
				    LINE_F_TOOLONG, l->arg);
			} else
				(void)evbuffer_drain(l->in, avail);
			break;
		}
		if (l->discarding) {
			(void)evbuffer_drain(l->in, (size_t)p.pos + 1);
			l->discarding = 0;
			continue;
		}
		lineio_deliver(l, (size_t)p.pos, 0);
	}
	if (l->eof && !l->dead && (l->paused == 0 ||
	    evbuffer_get_length(l->in) == 0))
		lineio_report(l, LINEIO_EOF);
}

/* Reads what is there; returns 0, or -1 after reporting an event. */
static int
lineio_read_some(struct lineio *l)
{
	char	 buf[LINEIO_READ_CHUNK_BYTES];
	ssize_t	 n;
	size_t	 total = 0;

	while (total < 4 * sizeof(buf) &&
	    evbuffer_get_length(l->in) < LINEIO_INBUF_MAX_BYTES) {
		if (l->tls != NULL) {
			n = l->tlsops->read(l, buf, sizeof(buf));
			if (n == LINEIO_WANT_READ)
				return 0;
			if (n == LINEIO_WANT_WRITE) {
				(void)event_add(l->ev_write, NULL);
				return 0;
			}
		} else
			n = read(l->fd, buf, sizeof(buf));
		if (n == -1) {
			if (l->tls == NULL && (errno == EAGAIN ||
			    errno == EWOULDBLOCK || errno == EINTR))
				return 0;
			lineio_report(l, LINEIO_ERROR);
			return -1;
		}
		if (n == 0) {
			l->eof = 1;
			(void)event_del(l->ev_read);
			return 0;
		}
		if (evbuffer_add(l->in, buf, (size_t)n) == -1) {
			lineio_report(l, LINEIO_ERROR);
			return -1;
		}
		total += (size_t)n;
	}
	return 0;
}

static void
lineio_readcb(evutil_socket_t fd, short ev, void *arg)
{
	struct lineio	*l = arg;

	(void)fd;
	(void)ev;
	if (l->dead)
		return;
	if (l->tls_state == TLS_HANDSHAKE) {
		l->tlsops->handshake(l);
		return;
	}
	if (l->tls_state == TLS_FLUSHING)
		return;
	if (lineio_read_some(l) == -1)
		return;
	if (evbuffer_get_length(l->in) >= LINEIO_INBUF_MAX_BYTES)
		(void)event_del(l->ev_read);
	else if (!l->eof)
		(void)event_add(l->ev_read, NULL);
	lineio_arm_timeout(l);
	lineio_process(l);
	/* The owner took lines: there may be room to read again. */
	if (!l->dead && !l->eof &&
	    evbuffer_get_length(l->in) < LINEIO_INBUF_MAX_BYTES)
		(void)event_add(l->ev_read, NULL);
	if (!l->dead && l->tls != NULL && evbuffer_get_length(l->out) > 0)
		lineio_flush(l);
}

/* Writes what is queued; reports drained/closed when the queue empties. */
static void
lineio_flush(struct lineio *l)
{
	ssize_t	 n;
	size_t	 len;

	while ((len = evbuffer_get_length(l->out)) > 0) {
		if (l->tls != NULL) {
			if (len > LINEIO_READ_CHUNK_BYTES)
				len = LINEIO_READ_CHUNK_BYTES;
			n = l->tlsops->write(l, evbuffer_pullup(l->out,
			    (ssize_t)len), len);
			if (n == LINEIO_WANT_WRITE) {
				(void)event_add(l->ev_write, NULL);
				return;
			}
			if (n == LINEIO_WANT_READ)
				return;
			if (n > 0)
				(void)evbuffer_drain(l->out, (size_t)n);
		} else
			n = evbuffer_write(l->out, l->fd);
		if (n == -1) {
			if (l->tls == NULL && (errno == EAGAIN ||
			    errno == EWOULDBLOCK || errno == EINTR)) {
				(void)event_add(l->ev_write, NULL);
				return;
			}
			lineio_report(l, LINEIO_ERROR);
			return;
		}
	}
	if (l->shutting) {
		if (l->tls == NULL)
			(void)shutdown(l->fd, SHUT_WR);
		lineio_report(l, LINEIO_CLOSED);
		return;
	}
	if (l->tls_state == TLS_FLUSHING) {
		(void)l->tlsops->accept(l);
		return;
	}
	if (l->want_drain) {
		l->want_drain = 0;
		lineio_report(l, LINEIO_DRAINED);
	}
}

static void
lineio_writecb(evutil_socket_t fd, short ev, void *arg)
{
	struct lineio	*l = arg;

	(void)fd;
	(void)ev;
	if (l->dead)
		return;
	if (l->tls_state == TLS_HANDSHAKE) {
		l->tlsops->handshake(l);
		return;
	}
	lineio_flush(l);
	/* A TLS read may have been waiting for the socket to be writable. */
	if (!l->dead && l->tls != NULL && l->tls_state == TLS_ON)
		event_active(l->ev_process, 0, 0);
}

int
lineio_write(struct lineio *l, const void *p, size_t len)
{
	if (l->dead || l->shutting)
		return -1;
	if (evbuffer_get_length(l->out) + len > LINEIO_OUTBUF_MAX_BYTES) {
		lineio_report(l, LINEIO_ERROR);
		return -1;
	}
	if (evbuffer_add(l->out, p, len) == -1) {
		lineio_report(l, LINEIO_ERROR);
		return -1;
	}
	if (l->tls_state != TLS_HANDSHAKE)
		(void)event_add(l->ev_write, NULL);
	return 0;
}

int
lineio_printf(struct lineio *l, const char *fmt, ...)
{
	char	 buf[2048];
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -1;
	return lineio_write(l, buf, (size_t)n);
}

size_t
lineio_output_pending(const struct lineio *l)
{
	return evbuffer_get_length(l->out);
}

void
lineio_want_drain(struct lineio *l)
{
	l->want_drain = 1;
	(void)event_add(l->ev_write, NULL);
}

/*
 * Whatever the TLS state, the close is reported within the linger time:
 * during a handshake nothing can be sent (the client has not finished
 * it, and plaintext would break it), so it is reported at once.
 */
void
lineio_shutdown(struct lineio *l)
{
	struct timeval	 tv = { LINEIO_LINGER_SECS, 0 };

	if (l->dead || l->shutting)
		return;
	l->shutting = 1;
	(void)event_del(l->ev_read);
	if (l->tls_state == TLS_HANDSHAKE) {
		lineio_report(l, LINEIO_CLOSED);
		return;
	}
	(void)evtimer_add(l->ev_timeout, &tv);
	(void)event_add(l->ev_write, NULL);
}

int
lineio_is_tls(const struct lineio *l)
{
	return l->tls_state == TLS_ON;
}

int
lineio_fd(const struct lineio *l)
{
	return l->fd;
}
