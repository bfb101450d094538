/*
 * queued/relay_dns_route.c: the pure parts of MX routing, table-driven:
 * sorting and shuffling by preference, null MX, the family order of
 * addresses, wire names, error classes, "loops back to myself" and
 * hosts without addresses.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <string.h>

#include <criterion/criterion.h>

#include "../../queued/relay_dns.h"

static uint32_t
rnd_first(uint32_t n)
{
	(void)n;
	return 0;
}

static uint32_t
rnd_last(uint32_t n)
{
	return n - 1;
}

static void
set_mx(struct rdns_mx *mx, const char *host, uint16_t pref)
{
	memset(mx, 0, sizeof(*mx));
	(void)strlcpy(mx->host, host, sizeof(mx->host));
	mx->pref = pref;
}

static void
add_addr(struct rdns_mx *mx, const char *s)
{
	struct rdns_addr *a = &mx->addr[mx->naddr++];

	a->af = strchr(s, ':') ? AF_INET6 : AF_INET;
	cr_assert_eq(inet_pton(a->af, s, a->a), 1);
}

Test(relay_dns, sort_by_preference_then_shuffle_equal)
{
	struct rdns_mx	 mx[5];
	const char	*hosts[] = { "c", "a", "b1", "b2", "b3" };
	uint16_t	 prefs[] = { 30, 10, 20, 20, 20 };
	size_t		 i;

	for (i = 0; i < 5; i++)
		set_mx(&mx[i], hosts[i], prefs[i]);
	rdns_sort_mx(mx, 5, rnd_last);
	/* Sorted, and rnd_last leaves a run in its order. */
	cr_assert_str_eq(mx[0].host, "a");
	cr_assert_str_eq(mx[1].host, "b1");
	cr_assert_str_eq(mx[2].host, "b2");
	cr_assert_str_eq(mx[3].host, "b3");
	cr_assert_str_eq(mx[4].host, "c");
	rdns_sort_mx(mx, 5, rnd_first);
	/* rnd_first rotates the run; the others stay put. */
	cr_assert_str_eq(mx[0].host, "a");
	cr_assert_str_eq(mx[1].host, "b2");
	cr_assert_str_eq(mx[2].host, "b3");
	cr_assert_str_eq(mx[3].host, "b1");
	cr_assert_str_eq(mx[4].host, "c");
}

Test(relay_dns, null_mx)
{
	struct rdns_mx	 mx[2];

	set_mx(&mx[0], ".", 0);
	set_mx(&mx[1], "mx.example.", 10);
	cr_assert(rdns_find_null_mx(mx, 1));
	cr_assert(!rdns_find_null_mx(mx, 2));
	cr_assert(!rdns_find_null_mx(&mx[1], 1));
	cr_assert(!rdns_find_null_mx(mx, 0));
}

struct family_case {
	enum rdns_family fam;
	size_t		 n4, n6, max;
	const char	*order;		/* 4 or 6 per address */
};

static const struct family_case family_cases[] = {
	{ RDNS_FAMILY_BOTH, 2, 2, 8, "6464" },
	{ RDNS_FAMILY_BOTH, 3, 1, 8, "6444" },
	{ RDNS_FAMILY_BOTH, 1, 3, 8, "6466" },
	{ RDNS_FAMILY_BOTH, 2, 0, 8, "44" },
	{ RDNS_FAMILY_IPV4, 2, 2, 8, "4466" },
	{ RDNS_FAMILY_IPV6, 2, 2, 8, "6644" },
	{ RDNS_FAMILY_IPV6, 0, 0, 8, "" },
	{ RDNS_FAMILY_BOTH, 4, 4, 3, "646" },
};

Test(relay_dns, interleave_by_family)
{
	struct rdns_addr v4[4], v6[4], out[8];
	size_t		 i, j, n;

	for (i = 0; i < 4; i++) {
		v4[i].af = AF_INET;
		v6[i].af = AF_INET6;
		v4[i].a[0] = v6[i].a[0] = (uint8_t)i;
	}
	for (i = 0; i < sizeof(family_cases) / sizeof(family_cases[0]); i++) {
		const struct family_case *c = &family_cases[i];

		n = rdns_interleave(v4, c->n4, v6, c->n6, c->fam, out, c->max);
		cr_assert_eq(n, strlen(c->order), "case %zu", i);
		for (j = 0; j < n; j++)
			cr_assert_eq(out[j].af, c->order[j] == '4' ? AF_INET :
			    AF_INET6, "case %zu addr %zu", i, j);
	}
	/* Each family keeps its own order. */
	n = rdns_interleave(v4, 2, v6, 2, RDNS_FAMILY_BOTH, out, 8);
	cr_assert(out[0].a[0] == 0 && out[2].a[0] == 1);
	cr_assert(out[1].a[0] == 0 && out[3].a[0] == 1);
}

struct wire_case {
	const char	*wire;
	size_t		 len;
	const char	*text;		/* NULL: refused */
};

static const struct wire_case wire_cases[] = {
	{ "\2mx\7example\0", 12, "mx.example." },
	{ "\0", 1, "." },
	{ "\3a-b\1_\0", 8, "a-b._." },
	{ "\2mx\7example", 11, NULL },		/* no root */
	{ "\5mx\0", 4, NULL },			/* label past the end */
	{ "\2m.\0", 4, NULL },			/* a dot in a label */
	{ "\2m \0", 4, NULL },			/* a space */
	{ "", 0, NULL },
};

Test(relay_dns, wire_names)
{
	char	 buf[RELAY_DNS_NAME_MAX], small[4];
	size_t	 i;
	int	 r;

	for (i = 0; i < sizeof(wire_cases) / sizeof(wire_cases[0]); i++) {
		const struct wire_case *c = &wire_cases[i];

		r = rdns_wire_name((const uint8_t *)c->wire, c->len, buf,
		    sizeof(buf));
		if (c->text == NULL) {
			cr_assert_eq(r, -1, "case %zu", i);
			continue;
		}
		cr_assert_eq(r, 0, "case %zu", i);
		cr_assert_str_eq(buf, c->text, "case %zu", i);
	}
	cr_assert_eq(rdns_wire_name((const uint8_t *)"\2mx\7example\0", 12,
	    small, sizeof(small)), -1);
}

struct class_case {
	int		 rcode, bogus;
	const char	*err;
	enum rdns_status status;
	const char	*enhanced;
	const char	*text;
};

static const struct class_case class_cases[] = {
	{ 0, 0, NULL, RDNS_OK, NULL, "" },
	{ 3, 0, NULL, RDNS_PERMFAIL, "5.4.4", "Host not found" },
	{ 2, 0, NULL, RDNS_TEMPFAIL, "4.4.3", "try again (rcode 2)" },
	{ 5, 0, NULL, RDNS_TEMPFAIL, "4.4.3", "try again (rcode 5)" },
	{ 0, 1, NULL, RDNS_TEMPFAIL, "4.4.3", "DNSSEC validation failed" },
	{ 3, 1, NULL, RDNS_TEMPFAIL, "4.4.3", "DNSSEC validation failed" },
	{ 0, 0, "socket error", RDNS_TEMPFAIL, "4.4.3", "socket error" },
};

Test(relay_dns, classify_answers)
{
	struct rdns_route r;
	size_t		 i;

	for (i = 0; i < sizeof(class_cases) / sizeof(class_cases[0]); i++) {
		const struct class_case *c = &class_cases[i];

		memset(&r, 0, sizeof(r));
		rdns_classify(&r, "d.example", "MX", c->rcode, c->bogus,
		    c->err);
		cr_assert_eq(r.status, c->status, "case %zu", i);
		if (c->enhanced == NULL)
			continue;
		cr_assert_str_eq(r.enhanced, c->enhanced, "case %zu", i);
		cr_assert(strstr(r.text, c->text) != NULL, "case %zu: %s", i,
		    r.text);
		cr_assert(strstr(r.text, "name=d.example type=MX") != NULL);
	}
}

/* A route of hosts a (10), b (20), c (20), d (30), each with one address. */
static void
four_hosts(struct rdns_route *r)
{
	const char	*hosts[] = { "a.example.", "b.example.", "c.example.",
			    "d.example." };
	const char	*addrs[] = { "192.0.2.1", "192.0.2.2", "2001:db8::3",
			    "192.0.2.4" };
	uint16_t	 prefs[] = { 10, 20, 20, 30 };
	size_t		 i;

	memset(r, 0, sizeof(*r));
	r->nmx = 4;
	for (i = 0; i < 4; i++) {
		set_mx(&r->mx[i], hosts[i], prefs[i]);
		add_addr(&r->mx[i], addrs[i]);
	}
}

struct self_case {
	const char	*name, *addr;
	size_t		 nmx;		/* left; 0: loops */
};

static const struct self_case self_cases[] = {
	{ NULL, NULL, 4 },
	{ "elsewhere.example", "192.0.2.99", 4 },
	{ NULL, "192.0.2.4", 3 },		/* d: the worst */
	{ NULL, "2001:db8::3", 1 },		/* c: b goes too */
	{ "B.Example", NULL, 1 },		/* by name, any case */
	{ NULL, "192.0.2.1", 0 },		/* a: the best */
	{ "a.example.", NULL, 0 },
};

Test(relay_dns, loops_back_to_myself)
{
	struct rdns_route r;
	struct rdns_conf c;
	size_t		 i;
	int		 loops;

	for (i = 0; i < sizeof(self_cases) / sizeof(self_cases[0]); i++) {
		const struct self_case *s = &self_cases[i];

		four_hosts(&r);
		memset(&c, 0, sizeof(c));
		c.self_names = &s->name;
		c.nself_names = s->name != NULL;
		c.self_addrs = &s->addr;
		c.nself_addrs = s->addr != NULL;
		loops = rdns_drop_self(&r, "d.example", &c);
		cr_assert_eq(r.nmx, s->nmx, "case %zu", i);
		cr_assert_eq(loops, s->nmx == 0, "case %zu", i);
		if (!loops)
			continue;
		cr_assert_eq(r.status, RDNS_PERMFAIL);
		cr_assert_str_eq(r.enhanced, "5.4.6");
		cr_assert_str_eq(r.text, "mail for d.example loops back to "
		    "myself");
	}
}

Test(relay_dns, hosts_without_addresses)
{
	struct rdns_route r;

	four_hosts(&r);
	r.mx[0].naddr = r.mx[2].naddr = 0;
	rdns_finish(&r, "d.example");
	cr_assert_eq(r.status, RDNS_OK);
	cr_assert_eq(r.nmx, 2);
	cr_assert_str_eq(r.mx[0].host, "b.example.");
	cr_assert_str_eq(r.mx[1].host, "d.example.");

	four_hosts(&r);
	r.mx[0].naddr = r.mx[1].naddr = r.mx[2].naddr = r.mx[3].naddr = 0;
	rdns_finish(&r, "d.example");
	cr_assert_eq(r.status, RDNS_PERMFAIL);
	cr_assert_str_eq(r.enhanced, "5.4.4");

	four_hosts(&r);
	r.mx[0].naddr = r.mx[1].naddr = r.mx[2].naddr = r.mx[3].naddr = 0;
	r.mx[3].tempfail = 1;
	rdns_finish(&r, "d.example");
	cr_assert_eq(r.status, RDNS_TEMPFAIL);
	cr_assert_str_eq(r.enhanced, "4.4.3");
	cr_assert_eq(r.nmx, 0);
	cr_assert(strstr(r.text, "try again") != NULL);

	four_hosts(&r);
	r.mx[0].naddr = r.mx[1].naddr = r.mx[2].naddr = r.mx[3].naddr = 0;
	r.mx[1].tempfail = 1;
	r.mx[1].sec = RDNS_SEC_BOGUS;
	rdns_finish(&r, "d.example");
	cr_assert_eq(r.status, RDNS_TEMPFAIL);
	cr_assert_str_eq(r.text, "Name service error for d.example: DNSSEC "
	    "validation failed for host b.example.");
}

Test(relay_dns, tlsa_rdata)
{
	struct rdns_tlsa_rr rr;
	uint8_t		 p[3 + RELAY_DNS_TLSA_DATA_MAX + 1];

	memset(p, 0xab, sizeof(p));
	p[0] = 3;
	p[1] = 1;
	p[2] = 1;
	cr_assert_eq(rdns_tlsa_parse(p, 3 + 32, &rr), 0);
	cr_assert_eq(rr.usage, 3);
	cr_assert_eq(rr.selector, 1);
	cr_assert_eq(rr.mtype, 1);
	cr_assert_eq(rr.len, 32);
	cr_assert_eq(rr.data[31], 0xab);
	cr_assert_eq(rdns_tlsa_parse(p, 3 + RELAY_DNS_TLSA_DATA_MAX, &rr), 0);
	/* No association, or one longer than kept: refused. */
	cr_assert_eq(rdns_tlsa_parse(p, 3, &rr), -1);
	cr_assert_eq(rdns_tlsa_parse(p, sizeof(p), &rr), -1);
}
