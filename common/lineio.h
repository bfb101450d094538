/*
 * A bounded line reader and buffered writer over libevent, the same on a
 * plain socket and on a libtls connection (after lineio_starttls or for
 * implicit TLS).  Used by every protocol engine.
 *
 * Lines are handed over without their line end.  The maximum counts the
 * bytes before the LF, a CR included (so SMTP's 1000 bytes with CRLF is
 * a maximum of 999).  A longer line is handed over once, cut, with
 * LINE_F_TOOLONG: the rest of it is discarded up to its line end, so a
 * client can never make the buffer grow past its bound.
 *
 * Callbacks: the line callback must not free the lineio; it may pause it,
 * write to it, or call lineio_shutdown().  The event callback runs from
 * the event loop with nothing of the lineio on the stack: it may free it.
 */
#ifndef SALLYPORT_LINEIO_H
#define SALLYPORT_LINEIO_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <event2/event.h>

struct lineio;
struct tls;

#define LINE_F_TOOLONG	0x01	/* longer than the maximum; text is cut */
#define LINE_F_BARELF	0x02	/* ended with LF alone, not CRLF */
#define LINE_F_NUL	0x04	/* held a NUL byte */
#define LINE_F_BARECR	0x08	/* held a CR not followed by LF */

enum lineio_event {
	LINEIO_EOF = 1,		/* the peer closed */
	LINEIO_ERROR,		/* read/write error, or output over its limit */
	LINEIO_TIMEOUT,		/* no input for the timeout */
	LINEIO_CLOSED,		/* lineio_shutdown() finished flushing */
	LINEIO_TLS_DONE,	/* handshake finished: reset protocol state */
	LINEIO_TLS_ERROR,	/* handshake failed */
	LINEIO_DRAINED,		/* output flushed, after lineio_want_drain() */
};

typedef void	(*lineio_line_cb)(struct lineio *, const char *line,
		    size_t len, int flags, void *arg);
typedef void	(*lineio_event_cb)(struct lineio *, int event, void *arg);
/*
 * Raw input (lineio_read_raw): len bytes, at most the line maximum at a
 * time; left is how many are still to come, 0 on the last call.
 */
typedef void	(*lineio_raw_cb)(struct lineio *, const char *data,
		    size_t len, size_t left, void *arg);

/* Takes ownership of fd (made non-blocking) and starts reading. */
struct lineio	*lineio_new(struct event_base *, int fd, size_t maxline,
		    lineio_line_cb, lineio_event_cb, void *arg);
/* Frees the buffers and the TLS state, closes the descriptor. */
void		 lineio_free(struct lineio *);
/* Frees everything but the descriptor, which is returned.  -1 with TLS. */
int		 lineio_detach(struct lineio *);

/* Gives the lineio to another owner (a proxy, after a login). */
void		 lineio_set_owner(struct lineio *, lineio_line_cb,
		    lineio_event_cb, void *);
void		 lineio_set_maxline(struct lineio *, size_t);
/* Idle time allowed waiting for input; 0 for none. */
void		 lineio_set_timeout(struct lineio *, int secs);
/* Stops handing over lines; what was read stays buffered. */
void		 lineio_pause(struct lineio *);
/* Hands over buffered lines (from the event loop), then reads again. */
void		 lineio_resume(struct lineio *);
/* Bytes read but not yet handed over (pipelined input). */
size_t		 lineio_pending(const struct lineio *);
/* Drops input read but not yet handed over. */
void		 lineio_discard_input(struct lineio *);
/*
 * The next n bytes of input (n > 0) are handed to cb as they are, with
 * no line parsing (SMTP BDAT, RFC 3030); then lines again.  Pausing
 * holds raw input back as it holds lines.
 */
void		 lineio_read_raw(struct lineio *, size_t n, lineio_raw_cb cb);

/* Queue output; -1 when the output limit would be passed. */
int		 lineio_write(struct lineio *, const void *, size_t);
int		 lineio_printf(struct lineio *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
size_t		 lineio_output_pending(const struct lineio *);
/* Ask for one LINEIO_DRAINED event once all output is written. */
void		 lineio_want_drain(struct lineio *);
/* Flush the output, then close and report LINEIO_CLOSED. */
void		 lineio_shutdown(struct lineio *);

/*
 * Flushes pending output, then runs a server-side TLS handshake with
 * ctx (a configured libtls server).  Input that arrived before the
 * handshake is discarded (RFC 3207 4.2 injection).  Reports
 * LINEIO_TLS_DONE or LINEIO_TLS_ERROR.
 */
int		 lineio_starttls(struct lineio *, struct tls *ctx);
/* Implicit TLS: the handshake starts at once. */
int		 lineio_accept_tls(struct lineio *, struct tls *ctx);
/*
 * The client side: a handshake over the connection with client, a
 * libtls client context the lineio owns from now on (freed with it),
 * sending servername as SNI and checking it when client verifies.
 * Input buffered before it is discarded (RFC 3207 4.2).  Reports
 * LINEIO_TLS_DONE or LINEIO_TLS_ERROR.
 */
int		 lineio_connect_tls(struct lineio *, struct tls *client,
		    const char *servername);
int		 lineio_is_tls(const struct lineio *);
/* "TLSv1.3" and the cipher name, or NULL without TLS. */
const char	*lineio_tls_version(const struct lineio *);
const char	*lineio_tls_cipher(const struct lineio *);
/* The peer's chain as it sent it (PEM, leaf first), or NULL. */
const uint8_t	*lineio_tls_peer_chain(const struct lineio *, size_t *);
int		 lineio_fd(const struct lineio *);

#endif
