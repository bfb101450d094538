/*
 * The HTTPS client of the relay-sts helper (as _sallyrelay, chrooted in
 * the empty directory, SANDBOX_RELAY_STS): connects to an address the
 * relay gave, speaks TLS through libtls with the CA bundle read before
 * chroot, sends one GET and reads the answer to its end.  Every step
 * waits in poll() against one deadline.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <tls.h>
#include <unistd.h>

#include "relay_sts_fetch.h"
#include "relay_sts_http.h"

struct tls_config *
relay_sts_fetch_config(const char *cafile, char *err, size_t errlen)
{
	struct tls_config	*cfg;
	uint8_t			*ca;
	size_t			 calen;

	if (tls_init() == -1 || (cfg = tls_config_new()) == NULL) {
		(void)snprintf(err, errlen, "tls_config_new failed");
		return NULL;
	}
	if ((ca = tls_load_file(cafile, &calen, NULL)) == NULL) {
		(void)snprintf(err, errlen, "%s: %s", cafile, strerror(errno));
		tls_config_free(cfg);
		return NULL;
	}
	if (tls_config_set_protocols(cfg, TLS_PROTOCOL_TLSv1_2 |
	    TLS_PROTOCOL_TLSv1_3) == -1 ||
	    tls_config_set_ca_mem(cfg, ca, calen) == -1) {
		(void)snprintf(err, errlen, "%s", tls_config_error(cfg));
		tls_unload_file(ca, calen);
		tls_config_free(cfg);
		return NULL;
	}
	tls_unload_file(ca, calen);
	return cfg;
}

static time_t
now_secs(void)
{
	struct timespec	 ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* Waits for fd to be ready for ev; -1 past the deadline. */
static int
wait_fd(int fd, short ev, time_t deadline)
{
	struct pollfd	 pfd = { .fd = fd, .events = ev };
	time_t		 left;
	int		 r;

	for (;;) {
		if ((left = deadline - now_secs()) <= 0)
			return -1;
		r = poll(&pfd, 1, (int)left * 1000);
		if (r > 0)
			return 0;
		if (r == -1 && errno != EINTR)
			return -1;
	}
}

static int
sts_connect(const struct rdns_addr *a, uint16_t port, time_t deadline)
{
	struct sockaddr_storage	 ss;
	socklen_t		 slen, elen = sizeof(int);
	int			 fd, e = 0;

	memset(&ss, 0, sizeof(ss));
	if (a->af == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, a->a, 4);
		slen = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, a->a, 16);
		slen = sizeof(*sin6);
	}
	if ((fd = socket(a->af, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&ss, slen) == -1 &&
	    (errno != EINPROGRESS || wait_fd(fd, POLLOUT, deadline) == -1 ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) == -1 || e != 0)) {
		(void)close(fd);
		return -1;
	}
	return fd;
}

/* Runs one libtls call to completion, polling as it asks. */
#define TLS_LOOP(r, call, fd, deadline) do {				\
	while (((r) = (call)) == TLS_WANT_POLLIN ||			\
	    (r) == TLS_WANT_POLLOUT)					\
		if (wait_fd((fd), (r) == TLS_WANT_POLLIN ? POLLIN :	\
		    POLLOUT, (deadline)) == -1) {			\
			(r) = -2;					\
			break;						\
		}							\
} while (0)

/* The exchange over an open TLS connection; the response's length. */
static ssize_t
sts_exchange(struct tls *t, int fd, const char *host, char *buf,
    size_t buflen, time_t deadline, char *err, size_t errlen)
{
	char		 req[RELAY_DNS_NAME_MAX + 256];
	ssize_t		 r;
	size_t		 got = 0, off = 0;
	int		 n;

	if ((n = relay_sts_http_request(host, req, sizeof(req))) == -1)
		return -1;
	TLS_LOOP(r, tls_handshake(t), fd, deadline);
	if (r < 0) {
		(void)snprintf(err, errlen, "TLS handshake: %s", r == -2 ?
		    "timed out" : tls_error(t));
		return -1;
	}
	while (off < (size_t)n) {
		TLS_LOOP(r, tls_write(t, req + off, (size_t)n - off), fd,
		    deadline);
		if (r < 0) {
			(void)snprintf(err, errlen, "write: %s", r == -2 ?
			    "timed out" : tls_error(t));
			return -1;
		}
		off += (size_t)r;
	}
	for (;;) {
		if (got == buflen) {
			(void)snprintf(err, errlen, "response too large");
			return -1;
		}
		TLS_LOOP(r, tls_read(t, buf + got, buflen - got), fd,
		    deadline);
		if (r == 0 || (r == -1 && got > 0))
			return (ssize_t)got;	/* closed, maybe abruptly */
		if (r < 0) {
			(void)snprintf(err, errlen, "read: %s", r == -2 ?
			    "timed out" : tls_error(t));
			return -1;
		}
		got += (size_t)r;
	}
}

static int
sts_fetch_one(struct tls_config *cfg, const char *host, uint16_t port,
    const struct rdns_addr *a, char *buf, size_t buflen, size_t *got,
    time_t deadline, char *err, size_t errlen)
{
	struct tls	*t;
	ssize_t		 n = -1;
	int		 fd;

	if ((fd = sts_connect(a, port, deadline)) == -1) {
		(void)snprintf(err, errlen, "connect: %s", errno ?
		    strerror(errno) : "timed out");
		return -1;
	}
	if ((t = tls_client()) == NULL || tls_configure(t, cfg) == -1 ||
	    tls_connect_socket(t, fd, host) == -1)
		(void)snprintf(err, errlen, "TLS: %s", t ? tls_error(t) :
		    "tls_client failed");
	else
		n = sts_exchange(t, fd, host, buf, buflen, deadline, err,
		    errlen);
	if (t != NULL) {
		if (n >= 0)
			(void)tls_close(t);
		tls_free(t);
	}
	(void)close(fd);
	if (n < 0)
		return -1;
	*got = (size_t)n;
	return 0;
}

int
relay_sts_fetch(struct tls_config *cfg, const char *host, uint16_t port,
    const struct rdns_addr *addrs, size_t naddr, char *buf, size_t buflen,
    const char **body, size_t *bodylen, char *err, size_t errlen)
{
	time_t		 deadline = now_secs() + RELAY_STS_FETCH_SECS;
	const char	*errstr;
	size_t		 i, got;

	(void)snprintf(err, errlen, "no address for %s", host);
	for (i = 0; i < naddr; i++) {
		errno = 0;
		if (sts_fetch_one(cfg, host, port, &addrs[i], buf, buflen,
		    &got, deadline, err, errlen) == -1)
			continue;
		if (relay_sts_http_parse(buf, got, body, bodylen,
		    &errstr) == 0)
			return 0;
		(void)snprintf(err, errlen, "HTTP: %s", errstr);
		return -1;
	}
	return -1;
}
