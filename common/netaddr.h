/*
 * Numeric network addresses and CIDR networks (RFC 4632, RFC 4291 2.3),
 * IPv4 and IPv6, for the "relay from" statement and the loopback test
 * of "auth plaintext-on-loopback".  Pure: no I/O, no name lookups.
 */
#ifndef SALLYPORT_NETADDR_H
#define SALLYPORT_NETADDR_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

/* An IPv6 address: the largest one held. */
#define NETADDR_MAX_BYTES	16
/* "ffff:...:ffff/128" and a NUL, with room. */
#define NETADDR_TEXT_MAX_BYTES	64

struct netaddr {
	int		 af;		/* AF_INET or AF_INET6 */
	uint8_t		 addr[NETADDR_MAX_BYTES];	/* network order */
	unsigned int	 prefixlen;	/* bits: up to 32 or 128 */
};

/*
 * "192.0.2.0/24", "2001:db8::/32", or an address alone (a host: /32 or
 * /128).  A prefix is 1-3 digits; host bits set past it are refused,
 * since they show that the network was mistyped.  -1 with a reason in
 * *errstr.
 */
int	netaddr_parse_cidr(const char *, struct netaddr *,
	    const char **errstr);
/* The canonical text, "net/len", into dst; -1 if it does not fit. */
int	netaddr_format(const struct netaddr *, char *dst, size_t dstlen);
/*
 * 1 when the address (af, addr in network order) lies in net.  An
 * IPv4-mapped IPv6 address (::ffff:a.b.c.d) is matched as IPv4.
 */
int	netaddr_match(const struct netaddr *net, int af, const void *addr);
/* The same for a socket address; 0 for other families. */
int	netaddr_match_sa(const struct netaddr *net, const struct sockaddr *);
/* 1 for 127.0.0.0/8, ::1 and IPv4-mapped 127.0.0.0/8; else 0. */
int	netaddr_is_loopback(const struct sockaddr *);

#endif
