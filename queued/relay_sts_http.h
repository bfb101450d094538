/*
 * The relay-sts helper's HTTP/1.1 (RFC 9112) for one GET of an MTA-STS
 * policy (RFC 8461 3.3): the request, and the response read whole
 * (the request says "Connection: close").  Pure.
 */
#ifndef SALLYPORT_RELAY_STS_HTTP_H
#define SALLYPORT_RELAY_STS_HTTP_H

#include <stddef.h>

#define RELAY_STS_PATH	"/.well-known/mta-sts.txt"

/* The request for host; -1 when it does not fit. */
int	relay_sts_http_request(const char *host, char *, size_t);
/*
 * Parses a whole response (len bytes, up to the server's close): status
 * 200 only (no redirects, RFC 8461 3.3), Content-Type text/plain, no
 * transfer coding, a body of at most RELAY_STS_POLICY_MAX_BYTES (and
 * Content-Length's, when given).  Returns 0 with the body, or -1 with
 * *errstr.
 */
int	relay_sts_http_parse(const char *, size_t, const char **body,
	    size_t *bodylen, const char **errstr);

#endif
