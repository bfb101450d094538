/*
 * The pure parts of the relay's MX routing (RFC 5321 section 5): no
 * I/O, so that the unit tests drive them with tables.  relay_dns.c
 * feeds them libunbound's answers.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "relay_dns.h"

/*
 * By preference, lowest first; a run of equal preferences is shuffled
 * (RFC 5321 section 5.1: "randomize them to spread the load").
 */
void
rdns_sort_mx(struct rdns_mx *mx, size_t n, rdns_rand rnd)
{
	struct rdns_mx	 t;
	size_t		 i, j, run, k;

	for (i = 1; i < n; i++) {
		t = mx[i];
		for (j = i; j > 0 && mx[j - 1].pref > t.pref; j--)
			mx[j] = mx[j - 1];
		mx[j] = t;
	}
	for (i = 0; i < n; i += run) {
		for (run = 1; i + run < n && mx[i + run].pref == mx[i].pref;
		    run++)
			;
		for (k = run; k > 1; k--) {
			j = rnd((uint32_t)k);
			t = mx[i + k - 1];
			mx[i + k - 1] = mx[i + j];
			mx[i + j] = t;
		}
	}
}

/* A null MX (RFC 7505): the only MX record, and its host is the root. */
int
rdns_find_null_mx(const struct rdns_mx *mx, size_t n)
{
	return n == 1 && strcmp(mx[0].host, ".") == 0;
}

/*
 * The addresses in the order they are tried: one family after the
 * other, or both interleaved IPv6 first (as RFC 8305 section 4 does).
 */
size_t
rdns_interleave(const struct rdns_addr *v4, size_t n4,
    const struct rdns_addr *v6, size_t n6, enum rdns_family fam,
    struct rdns_addr *out, size_t max)
{
	size_t	 i4 = 0, i6 = 0, n = 0;
	int	 six = fam != RDNS_FAMILY_IPV4;

	while (n < max && (i4 < n4 || i6 < n6)) {
		if ((six && i6 < n6) || i4 >= n4)
			out[n++] = v6[i6++];
		else
			out[n++] = v4[i4++];
		if (fam == RDNS_FAMILY_BOTH)
			six = !six;
	}
	return n;
}

/*
 * An uncompressed wire-format name (libunbound's rdata) as text with
 * its trailing dot; the root is ".".  Only letters, digits, '-' and '_'
 * are taken in a label: an MX host is a host name.
 */
int
rdns_wire_name(const uint8_t *p, size_t len, char *dst, size_t dstlen)
{
	size_t	 i = 0, o = 0, l, k;

	while (i < len && p[i] != 0) {
		l = p[i++];
		if (l > 63 || i + l > len || o + l + 2 > dstlen)
			return -1;
		for (k = 0; k < l; k++, i++) {
			if (p[i] != '-' && p[i] != '_' &&
			    !((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'z') &&
			    !(p[i] >= '0' && p[i] <= '9'))
				return -1;
			dst[o++] = (char)p[i];
		}
		dst[o++] = '.';
	}
	if (i >= len || dstlen < 2)
		return -1;
	if (o == 0)
		dst[o++] = '.';
	dst[o] = '\0';
	return 0;
}

void
rdns_fail(struct rdns_route *r, enum rdns_status st, const char *enhanced,
    const char *fmt, ...)
{
	va_list	 ap;

	r->status = st;
	r->enhanced = enhanced;
	r->nmx = 0;
	va_start(ap, fmt);
	(void)vsnprintf(r->text, sizeof(r->text), fmt, ap);
	va_end(ap);
}

/*
 * One answer's error, as Postfix words it: NXDOMAIN is permanent;
 * SERVFAIL, any other rcode, a resolver error and a DNSSEC answer that
 * failed validation (bogus) are for now.  Leaves r alone when fine.
 */
void
rdns_classify(struct rdns_route *r, const char *name, const char *type,
    int rcode, int bogus, const char *err)
{
	if (err != NULL)
		rdns_fail(r, RDNS_TEMPFAIL, "4.4.3", "Name service error for "
		    "name=%s type=%s: %s", name, type, err);
	else if (bogus)
		rdns_fail(r, RDNS_TEMPFAIL, "4.4.3", "Name service error for "
		    "name=%s type=%s: DNSSEC validation failed", name, type);
	else if (rcode == 3)
		rdns_fail(r, RDNS_PERMFAIL, "5.4.4", "Host or domain name not "
		    "found. Name service error for name=%s type=%s: Host not "
		    "found", name, type);
	else if (rcode != 0)
		rdns_fail(r, RDNS_TEMPFAIL, "4.4.3", "Host or domain name not "
		    "found. Name service error for name=%s type=%s: Host not "
		    "found, try again (rcode %d)", name, type, rcode);
}

static int
rdns_same_name(const char *a, const char *b)
{
	size_t	 la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

static int
rdns_is_self(const struct rdns_mx *mx, const struct rdns_conf *c)
{
	struct rdns_addr a;
	size_t		 i, j;

	for (i = 0; i < c->nself_names; i++)
		if (rdns_same_name(mx->host, c->self_names[i]))
			return 1;
	for (i = 0; i < c->nself_addrs; i++) {
		a.af = strchr(c->self_addrs[i], ':') ? AF_INET6 : AF_INET;
		if (inet_pton(a.af, c->self_addrs[i], a.a) != 1)
			continue;
		for (j = 0; j < mx->naddr; j++)
			if (mx->addr[j].af == a.af && memcmp(mx->addr[j].a,
			    a.a, a.af == AF_INET ? 4 : 16) == 0)
				return 1;
	}
	return 0;
}

/*
 * As Postfix: this host among the MX hosts drops it and every host of
 * its preference or worse; when none is left, mail for the domain
 * "loops back to myself" (permanent).  Returns 1 then.
 */
int
rdns_drop_self(struct rdns_route *r, const char *domain,
    const struct rdns_conf *c)
{
	size_t	 i, k;

	for (i = 0; i < r->nmx; i++)
		if (rdns_is_self(&r->mx[i], c))
			break;
	if (i == r->nmx)
		return 0;
	for (k = 0; k < r->nmx && r->mx[k].pref < r->mx[i].pref; k++)
		;
	r->nmx = k;
	if (k > 0)
		return 0;
	rdns_fail(r, RDNS_PERMFAIL, "5.4.6", "mail for %s loops back to "
	    "myself", domain);
	return 1;
}

/*
 * Drops the hosts with no address; with none left the route fails, for
 * now if a lookup failed for now (saying so when DNSSEC failed).
 */
void
rdns_finish(struct rdns_route *r, const char *domain)
{
	char	 bogus[RELAY_DNS_NAME_MAX] = "";
	size_t	 i, n = 0;
	int	 temp = 0;

	for (i = 0; i < r->nmx; i++) {
		temp |= r->mx[i].tempfail;
		if (r->mx[i].sec == RDNS_SEC_BOGUS)
			(void)strlcpy(bogus, r->mx[i].host, sizeof(bogus));
		if (r->mx[i].naddr > 0)
			r->mx[n++] = r->mx[i];
	}
	r->nmx = n;
	if (n > 0)
		r->status = RDNS_OK;
	else if (bogus[0] != '\0')
		rdns_fail(r, RDNS_TEMPFAIL, "4.4.3", "Name service error for "
		    "%s: DNSSEC validation failed for host %s", domain, bogus);
	else if (temp)
		rdns_fail(r, RDNS_TEMPFAIL, "4.4.3", "Name service error for "
		    "%s: no address of its %s found, try again", domain,
		    r->implicit ? "host" : "MX hosts");
	else
		rdns_fail(r, RDNS_PERMFAIL, "5.4.4", "Host or domain name not "
		    "found. No address of %s's %s", domain,
		    r->implicit ? "host" : "MX hosts");
}
