/*
 * The login engine's relay (pop3d's and imapd's: the engine's user,
 * chrooted to the empty dir, seccomp SANDBOX_ENGINE).  A client whose
 * socket cannot simply move to its mailbox process, for it is under
 * TLS (whose state and key stay in the engine) or it sent commands
 * after its login that the engine has already read (RFC 2449
 * PIPELINING, IMAP's pipelined commands), stays here: the mailbox
 * process gets one end of a socketpair instead, and every byte is
 * copied between the two, the read-ahead commands first.  The engine
 * never parses what it relays.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "lineio.h"
#include "log.h"
#include "access.h"

struct proxy {
	const char	*name;		/* "pop3", "imap": the log's */
	uint32_t	 id;
	struct lineio	*side[2];	/* PROXY_CLIENT, PROXY_MAILBOX */
	uint64_t	 bytes[2];	/* read from each side */
};

#define PROXY_CLIENT	0
#define PROXY_MAILBOX	1

static int
proxy_side(const struct proxy *p, const struct lineio *l)
{
	return l == p->side[PROXY_CLIENT] ? PROXY_CLIENT : PROXY_MAILBOX;
}

/* Copies input to the other side; holds it back while that one is full. */
static void
proxy_raw(struct lineio *l, const char *data, size_t len, size_t left,
    void *arg)
{
	struct proxy	*p = arg;
	int		 from = proxy_side(p, l);
	struct lineio	*to = p->side[!from];

	if (left == 0)
		lineio_read_raw(l, SIZE_MAX, proxy_raw);
	p->bytes[from] += len;
	if (to == NULL)
		return;
	if (lineio_write(to, data, len) == -1) {
		lineio_shutdown(l);
		return;
	}
	if (lineio_output_pending(to) > ACCESS_PROXY_HIGH_BYTES) {
		lineio_pause(l);
		lineio_want_drain(to);
	}
}

static void
proxy_line(struct lineio *l, const char *line, size_t len, int flags,
    void *arg)
{
	/* Never called: both sides read raw. */
	(void)line;
	(void)flags;
	proxy_raw(l, line, len, SIZE_MAX, arg);
}

/* One side ended: the other flushes what it holds, then closes. */
static void
proxy_event(struct lineio *l, int event, void *arg)
{
	struct proxy	*p = arg;
	int		 from = proxy_side(p, l);

	if (event == LINEIO_DRAINED) {
		if (p->side[!from] != NULL)
			lineio_resume(p->side[!from]);
		return;
	}
	lineio_free(l);
	p->side[from] = NULL;
	if (p->side[!from] != NULL) {
		lineio_shutdown(p->side[!from]);
		return;
	}
	log_info("%08x %s proxy-end in=%llu out=%llu", p->id, p->name,
	    (unsigned long long)p->bytes[PROXY_CLIENT],
	    (unsigned long long)p->bytes[PROXY_MAILBOX]);
	free(p);
}

static void
proxy_start_side(struct proxy *p, int side)
{
	struct lineio	*l = p->side[side];

	lineio_set_owner(l, proxy_line, proxy_event, p);
	lineio_set_timeout(l, 0);
	lineio_read_raw(l, SIZE_MAX, proxy_raw);
	lineio_resume(l);
}

int
access_proxy_start(struct event_base *base, struct lineio *client,
    const char *name,
    uint32_t id)
{
	struct proxy	*p;
	int		 sv[2];

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0, sv) == -1) {
		log_warn("%08x %s proxy socketpair", id, name);
		free(p);
		return -1;
	}
	p->id = id;
	p->name = name;
	p->side[PROXY_MAILBOX] = lineio_new(base, sv[0],
	    ACCESS_PROXY_CHUNK_BYTES, proxy_line, proxy_event, p);
	if (p->side[PROXY_MAILBOX] == NULL) {
		(void)close(sv[0]);
		(void)close(sv[1]);
		free(p);
		return -1;
	}
	p->side[PROXY_CLIENT] = client;
	lineio_set_maxline(client, ACCESS_PROXY_CHUNK_BYTES);
	proxy_start_side(p, PROXY_CLIENT);
	proxy_start_side(p, PROXY_MAILBOX);
	log_info("%08x %s proxy-start pending=%zu", id, name,
	    lineio_pending(client));
	return sv[1];
}
