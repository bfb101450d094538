/*
 * Numeric network addresses and CIDR networks; see netaddr.h.  The
 * address part is read by inet_pton(3), which takes only the dotted
 * quad for IPv4 (no "10.1", no octal) and RFC 4291 text for IPv6.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "netaddr.h"

/* The longest prefix written in decimal: "128". */
#define NETADDR_PREFIX_DIGITS_MAX	3

static const uint8_t	netaddr_v4mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

static size_t
netaddr_len(int af)
{
	return af == AF_INET ? 4 : 16;
}

/* Reads "/N" after the address; *len is the family's bit count. */
static int
netaddr_prefix(const char *s, unsigned int bits, unsigned int *len,
    const char **errstr)
{
	unsigned int	 v = 0;
	size_t		 i;

	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
		if (i == NETADDR_PREFIX_DIGITS_MAX) {
			*errstr = "prefix length too long";
			return -1;
		}
		v = v * 10 + (unsigned int)(s[i] - '0');
	}
	if (i == 0 || s[i] != '\0') {
		*errstr = "prefix length is not a number";
		return -1;
	}
	if (v > bits) {
		*errstr = "prefix length out of range";
		return -1;
	}
	*len = v;
	return 0;
}

/* 1 when a bit past the prefix is set. */
static int
netaddr_host_bits(const struct netaddr *n)
{
	size_t		 i, len = netaddr_len(n->af);
	unsigned int	 bit;

	for (i = 0; i < len; i++) {
		bit = (unsigned int)i * 8;
		if (bit + 8 <= n->prefixlen)
			continue;
		if (bit >= n->prefixlen) {
			if (n->addr[i] != 0)
				return 1;
		} else if (n->addr[i] & (0xffu >> (n->prefixlen - bit)))
			return 1;
	}
	return 0;
}

int
netaddr_parse_cidr(const char *s, struct netaddr *n, const char **errstr)
{
	char		 buf[NETADDR_TEXT_MAX_BYTES];
	const char	*slash;
	size_t		 alen;

	memset(n, 0, sizeof(*n));
	slash = strchr(s, '/');
	alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (alen == 0 || alen >= sizeof(buf)) {
		*errstr = "not a numeric address";
		return -1;
	}
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET, buf, n->addr) == 1)
		n->af = AF_INET;
	else if (inet_pton(AF_INET6, buf, n->addr) == 1)
		n->af = AF_INET6;
	else {
		*errstr = "not a numeric address";
		return -1;
	}
	n->prefixlen = (unsigned int)netaddr_len(n->af) * 8;
	if (slash != NULL && netaddr_prefix(slash + 1, n->prefixlen,
	    &n->prefixlen, errstr) == -1)
		return -1;
	if (netaddr_host_bits(n)) {
		*errstr = "address has bits set past the prefix length";
		return -1;
	}
	return 0;
}

int
netaddr_format(const struct netaddr *n, char *dst, size_t dstlen)
{
	char	 a[INET6_ADDRSTRLEN];
	int	 r;

	if (inet_ntop(n->af, n->addr, a, sizeof(a)) == NULL)
		return -1;
	r = snprintf(dst, dstlen, "%s/%u", a, n->prefixlen);
	return r < 0 || (size_t)r >= dstlen ? -1 : 0;
}

int
netaddr_match(const struct netaddr *net, int af, const void *addr)
{
	const uint8_t	*a = addr;
	unsigned int	 full, rest;

	if (af == AF_INET6 && net->af == AF_INET &&
	    memcmp(a, netaddr_v4mapped, sizeof(netaddr_v4mapped)) == 0) {
		af = AF_INET;
		a += sizeof(netaddr_v4mapped);
	}
	if (af != net->af)
		return 0;
	full = net->prefixlen / 8;
	rest = net->prefixlen % 8;
	if (memcmp(a, net->addr, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((a[full] ^ net->addr[full]) & (0xffu << (8 - rest)) &
	    0xffu) == 0;
}

int
netaddr_match_sa(const struct netaddr *net, const struct sockaddr *sa)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	if (sa->sa_family == AF_INET) {
		sin = (const struct sockaddr_in *)(const void *)sa;
		return netaddr_match(net, AF_INET, &sin->sin_addr);
	}
	if (sa->sa_family == AF_INET6) {
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		return netaddr_match(net, AF_INET6, &sin6->sin6_addr);
	}
	return 0;
}

int
netaddr_is_loopback(const struct sockaddr *sa)
{
	static const struct netaddr	 lo4 = { AF_INET, { 127 }, 8 };
	static const struct netaddr	 lo6 = { AF_INET6,
	    { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 }, 128 };

	return netaddr_match_sa(&lo4, sa) || netaddr_match_sa(&lo6, sa);
}
