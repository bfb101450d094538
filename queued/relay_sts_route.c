/*
 * What an MTA-STS policy does to a route (RFC 8461 4.1, 5): in mode
 * enforce the MX hosts that match none of its patterns are dropped
 * (none left: a temporary failure, 4.7.5, never a delivery to a host
 * the policy does not name), in mode testing they are only counted for
 * the log, and the SMTP client is told to verify (PKIX, the MX host's
 * name; relay_smtp_tls.c) each host kept.  Pure; runs in the relay.
 */
#include <stdio.h>
#include <string.h>

#include "relay_sts_helper.h"

size_t
relay_sts_route_filter(const struct relay_sts_policy *p,
    struct rdns_route *r, const char *domain)
{
	size_t	 i, kept = 0, dropped = 0;

	if (p == NULL || p->mode == RELAY_STS_NONE || r->status != RDNS_OK)
		return 0;
	for (i = 0; i < r->nmx; i++) {
		if (relay_sts_mx_match(p, r->mx[i].host)) {
			if (kept != i)
				r->mx[kept] = r->mx[i];
			kept++;
			continue;
		}
		dropped++;
		if (p->mode != RELAY_STS_ENFORCE) {
			if (kept != i)
				r->mx[kept] = r->mx[i];
			kept++;
		}
	}
	r->nmx = kept;
	if (kept == 0) {
		r->status = RDNS_TEMPFAIL;
		r->enhanced = "4.7.5";
		(void)snprintf(r->text, sizeof(r->text), "MTA-STS: no MX host "
		    "of %.200s matches its policy", domain);
	}
	return dropped;
}
