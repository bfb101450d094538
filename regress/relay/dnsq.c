/*
 * dnsq: runs relay_dns_route() on a libevent loop for each domain named
 * and prints the route, for the integration tests
 * (regress/integration/test_relay_dns.py).
 *
 *   dnsq [-n | -s | -r addr] [-p port] [-t trust-anchor] [-f family]
 *        [-N self-name] [-A self-addr] [-w] [-T port] domain ...
 *
 * -w waits for a line on standard input before each domain after the
 * first (the tests stop the DNS server meanwhile, to see the cache).
 * Output, one route after the other:
 *   route DOMAIN ok|temp|perm ENHANCED sec=S implicit=0|1
 *   mx PREF HOST sec=S ADDR ...
 *   text TEXT
 * With -T, each name is a host whose TLSA records at that port are asked:
 *   tlsa NAME ok|temp|perm sec=S n=N
 *   rr USAGE SELECTOR MTYPE HEX
 *   text TEXT
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <err.h>
#include <event2/event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../queued/relay_dns.h"

#define DNSQ_SELF_MAX	8

static struct event_base *base;
static const char *const sec_names[] = { "insecure", "secure", "bogus" };
static const char *const status_names[] = { "ok", "temp", "perm" };

static void
dnsq_print(const struct rdns_route *r, void *arg)
{
	char	 buf[INET6_ADDRSTRLEN];
	size_t	 i, j;

	printf("route %s %s %s sec=%s implicit=%d\n", (const char *)arg,
	    status_names[r->status], r->enhanced ? r->enhanced : "2.0.0",
	    sec_names[r->sec], r->implicit);
	for (i = 0; i < r->nmx; i++) {
		printf("mx %u %s sec=%s", r->mx[i].pref, r->mx[i].host,
		    sec_names[r->mx[i].sec]);
		for (j = 0; j < r->mx[i].naddr; j++)
			printf(" %s", inet_ntop(r->mx[i].addr[j].af,
			    r->mx[i].addr[j].a, buf, sizeof(buf)));
		printf("\n");
	}
	if (r->status != RDNS_OK)
		printf("text %s\n", r->text);
	(void)fflush(stdout);
	(void)event_base_loopexit(base, NULL);
}

static void
dnsq_print_tlsa(const struct rdns_tlsa *t, void *arg)
{
	size_t	 i, j;

	printf("tlsa %s %s sec=%s n=%zu\n", (const char *)arg,
	    status_names[t->status], sec_names[t->sec], t->n);
	for (i = 0; i < t->n; i++) {
		printf("rr %u %u %u ", t->rr[i].usage, t->rr[i].selector,
		    t->rr[i].mtype);
		for (j = 0; j < t->rr[i].len; j++)
			printf("%02x", t->rr[i].data[j]);
		printf("\n");
	}
	if (t->status != RDNS_OK)
		printf("text %s\n", t->text);
	(void)fflush(stdout);
	(void)event_base_loopexit(base, NULL);
}

/* Asks for a route, or with a TLSA port for that host's records. */
static void
dnsq_ask(struct relay_dns *d, const char *name, int tlsa_port)
{
	int	 r;

	if (tlsa_port > 0)
		r = relay_dns_tlsa(d, name, (uint16_t)tlsa_port,
		    dnsq_print_tlsa, (void *)(uintptr_t)name);
	else
		r = relay_dns_route(d, name, dnsq_print,
		    (void *)(uintptr_t)name);
	if (r == -1)
		errx(1, "out of memory");
	(void)event_base_dispatch(base);
}

static enum rdns_family
dnsq_family(const char *s)
{
	if (strcmp(s, "ipv4") == 0)
		return RDNS_FAMILY_IPV4;
	if (strcmp(s, "ipv6") == 0)
		return RDNS_FAMILY_IPV6;
	if (strcmp(s, "both") != 0)
		errx(2, "family: ipv4, ipv6 or both");
	return RDNS_FAMILY_BOTH;
}

int
main(int argc, char *argv[])
{
	const char		*names[DNSQ_SELF_MAX], *addrs[DNSQ_SELF_MAX];
	struct rdns_conf	 c;
	struct relay_dns	*d;
	char			 errbuf[256], line[64];
	int			 ch, i, wait = 0, tlsa_port = 0;

	memset(&c, 0, sizeof(c));
	c.self_names = names;
	c.self_addrs = addrs;
	while ((ch = getopt(argc, argv, "A:f:N:np:r:sT:t:w")) != -1) {
		switch (ch) {
		case 'A':
			if (c.nself_addrs == DNSQ_SELF_MAX)
				errx(2, "too many -A");
			addrs[c.nself_addrs++] = optarg;
			break;
		case 'f':
			c.family = dnsq_family(optarg);
			break;
		case 'N':
			if (c.nself_names == DNSQ_SELF_MAX)
				errx(2, "too many -N");
			names[c.nself_names++] = optarg;
			break;
		case 'n':
			c.mode = RDNS_MODE_NONE;
			break;
		case 'p':
			c.port = (uint16_t)atoi(optarg);
			break;
		case 'r':
			c.mode = RDNS_MODE_ADDR;
			(void)strlcpy(c.addr, optarg, sizeof(c.addr));
			break;
		case 's':
			c.mode = RDNS_MODE_SYSTEM;
			break;
		case 'T':
			tlsa_port = atoi(optarg);
			break;
		case 't':
			c.trust_anchor = optarg;
			break;
		case 'w':
			wait = 1;
			break;
		default:
			errx(2, "usage: dnsq [-n|-s|-r addr] [-p port] [-t ta] "
			    "[-f family] [-N name] [-A addr] [-w] [-T port] name ...");
		}
	}
	if ((base = event_base_new()) == NULL)
		errx(1, "event_base_new");
	if ((d = relay_dns_new(base, &c, errbuf, sizeof(errbuf))) == NULL)
		errx(1, "%s", errbuf);
	for (i = optind; i < argc; i++) {
		if (wait && i > optind && fgets(line, sizeof(line), stdin) ==
		    NULL)
			break;
		dnsq_ask(d, argv[i], tlsa_port);
	}
	relay_dns_free(d);
	event_base_free(base);
	return 0;
}
