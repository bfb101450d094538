/*
 * common/netaddr.c: CIDR parsing, table-driven with malformed input,
 * and matching of IPv4, IPv6 and IPv4-mapped addresses.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "netaddr.h"

#define TXT_MAX	64

struct cidr_case {
	char	 in[TXT_MAX];
	char	 out[TXT_MAX];	/* "": refused with err */
	char	 err[TXT_MAX];
};

static struct cidr_case cidr_cases[] = {
	{ "127.0.0.0/8",	"127.0.0.0/8",		"" },
	{ "192.0.2.0/24",	"192.0.2.0/24",		"" },
	{ "192.0.2.7",		"192.0.2.7/32",		"" },
	{ "0.0.0.0/0",		"0.0.0.0/0",		"" },
	{ "10.1.2.3/32",	"10.1.2.3/32",		"" },
	{ "::1/128",		"::1/128",		"" },
	{ "::1",		"::1/128",		"" },
	{ "2001:DB8::/32",	"2001:db8::/32",	"" },
	{ "::/0",		"::/0",			"" },
	{ "fe80::/10",		"fe80::/10",		"" },
	{ "::ffff:10.0.0.0/104", "::ffff:10.0.0.0/104", "" },
	{ "10.0.0.0/33",	"", "prefix length out of range" },
	{ "::/129",		"", "prefix length out of range" },
	{ "10.0.0.0/",		"", "prefix length is not a number" },
	{ "10.0.0.0/8x",	"", "prefix length is not a number" },
	{ "10.0.0.0/-1",	"", "prefix length is not a number" },
	{ "10.0.0.0/+8",	"", "prefix length is not a number" },
	{ "10.0.0.0/8/8",	"", "prefix length is not a number" },
	{ "10.0.0.0/0008",	"", "prefix length too long" },
	{ "/8",			"", "not a numeric address" },
	{ "",			"", "not a numeric address" },
	{ "10.0.0/8",		"", "not a numeric address" },
	{ "10.0.0.256/32",	"", "not a numeric address" },
	{ "010.0.0.0/8",	"", "not a numeric address" },
	{ "localhost/8",	"", "not a numeric address" },
	{ "1::2::3/64",		"", "not a numeric address" },
	{ "fe80::1%eth0/128",	"", "not a numeric address" },
	{ " 10.0.0.0/8",	"", "not a numeric address" },
	{ "10.0.0.1/8",	"", "address has bits set past the prefix length" },
	{ "192.0.2.128/24", "", "address has bits set past the prefix length" },
	{ "192.0.2.1/31",  "", "address has bits set past the prefix length" },
	{ "2001:db8::1/64", "", "address has bits set past the prefix length" },
	{ "fec0::/9",	"", "address has bits set past the prefix length" },
};

ParameterizedTestParameters(netaddr, cidr)
{
	return cr_make_param_array(struct cidr_case, cidr_cases,
	    sizeof(cidr_cases) / sizeof(cidr_cases[0]));
}

ParameterizedTest(struct cidr_case *c, netaddr, cidr)
{
	struct netaddr	 n;
	const char	*errstr = NULL;
	char		 out[NETADDR_TEXT_MAX_BYTES];

	if (c->out[0] == '\0') {
		cr_assert_eq(netaddr_parse_cidr(c->in, &n, &errstr), -1,
		    "accepted \"%s\"", c->in);
		cr_assert_str_eq(errstr, c->err, "input \"%s\"", c->in);
		return;
	}
	cr_assert_eq(netaddr_parse_cidr(c->in, &n, &errstr), 0,
	    "refused \"%s\": %s", c->in, errstr);
	cr_assert_eq(netaddr_format(&n, out, sizeof(out)), 0);
	cr_assert_str_eq(out, c->out);
}

struct match_case {
	char	 net[TXT_MAX];
	char	 addr[TXT_MAX];
	int	 want;
};

static struct match_case match_cases[] = {
	{ "127.0.0.0/8",	"127.0.0.1",		1 },
	{ "127.0.0.0/8",	"127.255.255.255",	1 },
	{ "127.0.0.0/8",	"128.0.0.1",		0 },
	{ "127.0.0.0/8",	"126.255.255.255",	0 },
	{ "127.0.0.0/8",	"::ffff:127.0.0.1",	1 },
	{ "127.0.0.0/8",	"::1",			0 },
	{ "127.0.0.0/8",	"::127.0.0.1",		0 },
	{ "192.0.2.0/24",	"192.0.2.200",		1 },
	{ "192.0.2.0/24",	"192.0.3.1",		0 },
	{ "192.0.2.0/25",	"192.0.2.127",		1 },
	{ "192.0.2.0/25",	"192.0.2.128",		0 },
	{ "192.0.2.128/25",	"192.0.2.128",		1 },
	{ "10.0.0.0/9",		"10.127.0.1",		1 },
	{ "10.0.0.0/9",		"10.128.0.1",		0 },
	{ "0.0.0.0/0",		"203.0.113.9",		1 },
	{ "0.0.0.0/0",		"2001:db8::1",		0 },
	{ "192.0.2.7",		"192.0.2.7",		1 },
	{ "192.0.2.7",		"192.0.2.6",		0 },
	{ "::1/128",		"::1",			1 },
	{ "::1/128",		"::2",			0 },
	{ "::1/128",		"127.0.0.1",		0 },
	{ "2001:db8::/32",	"2001:db8:ffff::1",	1 },
	{ "2001:db8::/32",	"2001:db9::1",		0 },
	{ "2001:db8::/33",	"2001:db8:7fff::1",	1 },
	{ "2001:db8::/33",	"2001:db8:8000::1",	0 },
	{ "::/0",		"2001:db8::1",		1 },
	{ "::/0",		"192.0.2.1",		0 },
	{ "::ffff:0.0.0.0/96",	"::ffff:192.0.2.1",	1 },
};

ParameterizedTestParameters(netaddr, match)
{
	return cr_make_param_array(struct match_case, match_cases,
	    sizeof(match_cases) / sizeof(match_cases[0]));
}

/* An address as a socket address, as accept(2) gives it. */
static void
sockaddr_of(const char *addr, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		return;
	}
	cr_assert_eq(inet_pton(AF_INET6, addr, &sin6->sin6_addr), 1,
	    "bad test address %s", addr);
	sin6->sin6_family = AF_INET6;
}

ParameterizedTest(struct match_case *c, netaddr, match)
{
	struct sockaddr_storage	 ss;
	struct netaddr		 n;
	const char		*errstr;

	cr_assert_eq(netaddr_parse_cidr(c->net, &n, &errstr), 0, "%s",
	    c->net);
	sockaddr_of(c->addr, &ss);
	cr_assert_eq(netaddr_match_sa(&n, (struct sockaddr *)&ss), c->want,
	    "%s in %s", c->addr, c->net);
}

Test(netaddr, loopback)
{
	static const struct {
		const char	*addr;
		int		 want;
	} cases[] = {
		{ "127.0.0.1", 1 }, { "127.1.2.3", 1 }, { "::1", 1 },
		{ "::ffff:127.0.0.1", 1 }, { "128.0.0.1", 0 },
		{ "192.0.2.1", 0 }, { "::", 0 }, { "::2", 0 },
		{ "::ffff:192.0.2.1", 0 }, { "2001:db8::1", 0 },
	};
	struct sockaddr_storage	 ss;
	size_t			 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sockaddr_of(cases[i].addr, &ss);
		cr_assert_eq(netaddr_is_loopback((struct sockaddr *)&ss),
		    cases[i].want, "%s", cases[i].addr);
	}
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	cr_assert_eq(netaddr_is_loopback((struct sockaddr *)&ss), 0);
}
