/*
 * lineio's TLS (lineio.h): STARTTLS, implicit TLS and the client side,
 * over libtls.  lineio.c calls it only through lineio_tls_ops, which a
 * lineio gets when TLS starts, so that a program linking lineio.o and
 * never starting TLS does not link libtls (lineio_int.h).
 */
#include <sys/types.h>

#include <tls.h>

#include "lineio.h"
#include "lineio_int.h"
#include "log.h"

/* libtls's answer as lineio.c's transport contract has it. */
static ssize_t
lineio_tls_result(ssize_t n)
{
	if (n == TLS_WANT_POLLIN)
		return LINEIO_WANT_READ;
	if (n == TLS_WANT_POLLOUT)
		return LINEIO_WANT_WRITE;
	return n < 0 ? -1 : n;
}

static ssize_t
lineio_tls_read(struct lineio *l, void *buf, size_t len)
{
	return lineio_tls_result(tls_read(l->tls, buf, len));
}

static ssize_t
lineio_tls_write(struct lineio *l, const void *buf, size_t len)
{
	return lineio_tls_result(tls_write(l->tls, buf, len));
}

static void
lineio_tls_handshake(struct lineio *l)
{
	int	 r;

	r = tls_handshake(l->tls);
	if (r == TLS_WANT_POLLIN)
		return;
	if (r == TLS_WANT_POLLOUT) {
		(void)event_add(l->ev_write, NULL);
		return;
	}
	if (r == -1) {
		log_debug("lineio tls-handshake-failed error=%s",
		    tls_error(l->tls) ? tls_error(l->tls) : "unknown");
		lineio_report(l, LINEIO_TLS_ERROR);
		return;
	}
	l->tls_state = TLS_ON;
	lineio_report(l, LINEIO_TLS_DONE);
	lineio_arm_timeout(l);
	event_active(l->ev_process, 0, 0);
}

/* Server or client alike: the handshake runs from the read event on. */
static void
lineio_tls_begin(struct lineio *l)
{
	l->tls_state = TLS_HANDSHAKE;
	(void)event_add(l->ev_read, NULL);
	lineio_tls_handshake(l);
}

static int
lineio_tls_accept(struct lineio *l)
{
	if (tls_accept_socket(l->tls_ctx, &l->tls, l->fd) == -1) {
		log_warnx("lineio tls-accept-failed error=%s",
		    tls_error(l->tls_ctx));
		lineio_report(l, LINEIO_TLS_ERROR);
		return -1;
	}
	lineio_tls_begin(l);
	return 0;
}

static void
lineio_tls_close(struct lineio *l)
{
	if (l->tls == NULL)
		return;
	/* Best effort close_notify; never wait for the peer. */
	(void)tls_close(l->tls);
	tls_free(l->tls);
	l->tls = NULL;
}

static const struct lineio_tls_ops lineio_tls_ops = {
	lineio_tls_read, lineio_tls_write, lineio_tls_handshake,
	lineio_tls_accept, lineio_tls_close,
};

int
lineio_starttls(struct lineio *l, struct tls *ctx)
{
	if (l->dead || l->tls_state != TLS_NONE)
		return -1;
	/* RFC 3207 4.2: nothing sent before the handshake may be used. */
	lineio_discard_input(l);
	l->tls_ctx = ctx;
	l->tlsops = &lineio_tls_ops;
	l->tls_state = TLS_FLUSHING;
	(void)event_del(l->ev_read);
	(void)event_add(l->ev_write, NULL);
	return 0;
}

int
lineio_accept_tls(struct lineio *l, struct tls *ctx)
{
	if (l->dead || l->tls_state != TLS_NONE)
		return -1;
	l->tls_ctx = ctx;
	l->tlsops = &lineio_tls_ops;
	return lineio_tls_accept(l);
}

int
lineio_connect_tls(struct lineio *l, struct tls *client,
    const char *servername)
{
	if (l->dead || l->tls_state != TLS_NONE)
		return -1;
	lineio_discard_input(l);
	l->tls = client;
	l->tlsops = &lineio_tls_ops;
	if (tls_connect_socket(client, l->fd, servername) == -1) {
		log_warnx("lineio tls-connect-failed error=%s",
		    tls_error(client) ? tls_error(client) : "unknown");
		lineio_report(l, LINEIO_TLS_ERROR);
		return -1;
	}
	lineio_tls_begin(l);
	return 0;
}

const char *
lineio_tls_version(const struct lineio *l)
{
	return l->tls_state == TLS_ON ? tls_conn_version(l->tls) : NULL;
}

const char *
lineio_tls_cipher(const struct lineio *l)
{
	return l->tls_state == TLS_ON ? tls_conn_cipher(l->tls) : NULL;
}

const uint8_t *
lineio_tls_peer_chain(const struct lineio *l, size_t *len)
{
	*len = 0;
	return l->tls_state == TLS_ON ? tls_peer_cert_chain_pem(l->tls, len) :
	    NULL;
}
