/*
 * The relay-sts helper's HTTPS fetch of an MTA-STS policy (RFC 8461
 * 3.3): one GET of https://mta-sts.DOMAIN/.well-known/mta-sts.txt at
 * addresses the relay resolved, the certificate verified (PKIX, the
 * name mta-sts.DOMAIN, SNI).  Blocking, bounded by
 * RELAY_STS_FETCH_SECS: the helper does one fetch at a time.
 */
#ifndef SALLYPORT_RELAY_STS_FETCH_H
#define SALLYPORT_RELAY_STS_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "relay_dns.h"

struct tls_config;

/* Before chroot: the CA bundle read into memory.  NULL with err. */
struct tls_config *relay_sts_fetch_config(const char *cafile, char *err,
	    size_t errlen);
/*
 * Fetches host's policy on port (443) from each address in turn until
 * one answers; buf (at least RELAY_STS_POLICY_MAX_BYTES plus
 * RELAY_STS_HTTP_HEADER_MAX_BYTES) holds the response.  Returns 0 with
 * the body in buf, or -1 with err.
 */
int	relay_sts_fetch(struct tls_config *, const char *host, uint16_t port,
	    const struct rdns_addr *, size_t naddr, char *buf, size_t buflen,
	    const char **body, size_t *bodylen, char *err, size_t errlen);

#endif
