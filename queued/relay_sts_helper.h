/*
 * The relay and its MTA-STS helper (relay-sts): the FETCH request's
 * marshalling (common/proto.h, MSG_RELAY_STS_FETCH), the helper's loop,
 * and the relay's side (relay_sts_client.c), which decides per domain
 * which policy applies.
 */
#ifndef SALLYPORT_RELAY_STS_HELPER_H
#define SALLYPORT_RELAY_STS_HELPER_H

#include <stddef.h>
#include <stdint.h>

#include "relay_dns.h"
#include "relay_sts.h"

struct event_base;
struct ipc_msg;
struct ipc_out;
struct tls_config;

/* relay_sts_helper.c */
void	relay_sts_req_put(struct ipc_out *, uint32_t reqid,
	    const char *domain, const char *id, const struct rdns_addr *,
	    size_t naddr);
/* id: at least RELAY_STS_ID_MAX + 1 bytes. */
int	relay_sts_req_get(struct ipc_msg *, char *domain, size_t, char *id,
	    struct rdns_addr *, size_t *naddr);
/*
 * The helper's loop on its socket to the relay (after the HELLO): one
 * fetch at a time, on port (443).  Returns 0 when the relay closed,
 * 1 when parentfd (-1: none) has something to read, -1 on anything
 * unexpected from the relay.
 */
int	relay_sts_serve(int fd, int parentfd, struct tls_config *,
	    uint16_t port);


/* relay_sts_client.c: what applies to a domain. */
struct relay_sts_result {
	/* NULL: no MTA-STS for this domain now; valid in the callback. */
	const struct relay_sts_policy *policy;
	const char		*source;	/* "cache", "fetch", "none" */
	char			 id[RELAY_STS_ID_MAX + 1];
	char			 note[256];	/* why none, a failed fetch */
};

typedef void (*relay_sts_cb)(const struct relay_sts_result *, void *);

struct relay_sts;

/* helperfd: the socket to relay-sts, or -1 (cached policies only). */
struct relay_sts *relay_sts_new(struct event_base *, struct relay_dns *,
	    int helperfd);
/* The helper's socket, at each of its starts; -1 when out of memory. */
int	relay_sts_set_helper(struct relay_sts *, int fd);
/* cb is called once, later, from the loop.  -1 when out of memory. */
int	relay_sts_lookup(struct relay_sts *, const char *domain,
	    relay_sts_cb, void *);
void	relay_sts_free(struct relay_sts *);

/*
 * relay_sts_route.c: the MX hosts of r that p does not allow (mode
 * enforce: dropped from r; none left: r fails 4.7.5).  Returns how many
 * did not match.
 */
size_t	relay_sts_route_filter(const struct relay_sts_policy *,
	    struct rdns_route *, const char *domain);

#endif
