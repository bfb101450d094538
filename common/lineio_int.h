/*
 * What lineio.c and lineio_tls.c share; nothing else includes it.
 *
 * lineio.c never calls libtls: once a lineio has TLS, its reads,
 * writes, handshake and close go through the table lineio_tls.c set,
 * so that a program without TLS (pop3d-mailbox) links lineio.o and not
 * libtls, libssl or libcrypto.
 */
#ifndef SALLYPORT_LINEIO_INT_H
#define SALLYPORT_LINEIO_INT_H

#include <sys/types.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "lineio.h"

#define LINEIO_READ_CHUNK_BYTES	(16 * 1024)

/* What a transport's read or write returns besides a count or -1. */
#define LINEIO_WANT_READ	(-2)	/* try again when readable */
#define LINEIO_WANT_WRITE	(-3)	/* try again when writable */

enum lineio_tls_state {
	TLS_NONE,
	TLS_FLUSHING,		/* STARTTLS accepted: flush the reply first */
	TLS_HANDSHAKE,
	TLS_ON,
};

struct lineio;

/* The TLS transport (lineio_tls.c); NULL while the lineio has none. */
struct lineio_tls_ops {
	ssize_t	(*read)(struct lineio *, void *, size_t);
	ssize_t	(*write)(struct lineio *, const void *, size_t);
	/* Runs the handshake on from an event; reports its end. */
	void	(*handshake)(struct lineio *);
	/* After TLS_FLUSHING: the server side's handshake begins. */
	int	(*accept)(struct lineio *);
	/* Best effort close_notify, never waiting; frees the session. */
	void	(*close)(struct lineio *);
};

struct lineio {
	int			 fd;
	const struct lineio_tls_ops *tlsops;
	struct tls		*tls;
	struct tls		*tls_ctx;
	enum lineio_tls_state	 tls_state;
	struct event		*ev_read;
	struct event		*ev_write;
	struct event		*ev_timeout;
	struct event		*ev_process;
	struct event		*ev_report;
	struct evbuffer		*in;
	struct evbuffer		*out;
	char			*line;
	size_t			 maxline;
	int			 timeout_secs;
	int			 paused;
	int			 discarding;
	int			 shutting;
	int			 want_drain;
	int			 eof;
	int			 dead;
	int			 report;	/* event waiting in ev_report */
	size_t			 raw_left;	/* lineio_read_raw() */
	lineio_raw_cb		 raw_cb;
	lineio_line_cb		 line_cb;
	lineio_event_cb		 event_cb;
	void			*arg;
};

/* Reports an event from the event loop (terminal ones stop all I/O). */
void	lineio_report(struct lineio *, int event);
/* (Re)arms the idle timer as the state says. */
void	lineio_arm_timeout(struct lineio *);

#endif
