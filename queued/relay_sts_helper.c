/*
 * The MTA-STS helper (role relay-sts, RFC 8461 3.3): fetches policies
 * for the relay over HTTPS, one at a time, and answers each with the
 * policy parsed and printed again, or why it failed.  It runs as
 * _sallyrelay, chrooted in the empty directory, its CA bundle read
 * into memory before: the HTTP parser and a second TLS client stay out
 * of the relay, which holds the SMTP sessions and the credentials.
 * Anything unexpected from the relay ends the loop (fail closed).
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <tls.h>

#include "ipc.h"
#include "log.h"
#include "proto.h"
#include "relay_sts_fetch.h"
#include "relay_sts_helper.h"
#include "relay_sts_http.h"

void
relay_sts_req_put(struct ipc_out *o, uint32_t reqid, const char *domain,
    const char *id, const struct rdns_addr *addrs, size_t naddr)
{
	size_t	 i;

	ipc_out_init(o, MSG_RELAY_STS_FETCH, reqid);
	ipc_put_str(o, domain);
	ipc_put_str(o, id);
	ipc_put_u32(o, (uint32_t)naddr);
	for (i = 0; i < naddr; i++) {
		ipc_put_u32(o, (uint32_t)addrs[i].af);
		ipc_put_data(o, addrs[i].a, sizeof(addrs[i].a));
	}
}

/* RFC 8461 3.1: 1 to 32 letters and digits. */
static int
sts_id_valid(const char *id)
{
	size_t	 i;

	for (i = 0; id[i] != '\0'; i++)
		if (!isalnum((unsigned char)id[i]))
			return 0;
	return i > 0;
}

int
relay_sts_req_get(struct ipc_msg *m, char *domain, size_t dlen, char *id,
    struct rdns_addr *addrs, size_t *naddr)
{
	uint32_t	 n, af, i;

	if (ipc_get_str(m, domain, dlen) == -1 || domain[0] == '\0' ||
	    ipc_get_str(m, id, RELAY_STS_ID_MAX + 1) == -1 ||
	    !sts_id_valid(id) ||
	    ipc_get_u32(m, &n) == -1 || n == 0 || n > RELAY_DNS_ADDRS_MAX)
		return -1;
	for (i = 0; i < n; i++) {
		if (ipc_get_u32(m, &af) == -1 ||
		    (af != AF_INET && af != AF_INET6) ||
		    ipc_get_data(m, addrs[i].a, sizeof(addrs[i].a)) == -1)
			return -1;
		addrs[i].af = (int)af;
	}
	*naddr = n;
	return ipc_get_end(m);
}

/*
 * The policies fetched, by domain and id: the helper outlives the
 * relay's restarts, so a restarted relay gets, for an id it sees
 * again, the policy it had without a fetch (which an attacker could
 * block).  Made at the first request.
 */
static struct relay_sts_cache	*sts_helper_cache;

/* One fetch: the reply's text in out; RESULT_OK or RESULT_TEMPFAIL. */
static uint32_t
sts_fetch_policy(struct tls_config *cfg, uint16_t port, const char *domain,
    const char *id, const struct rdns_addr *addrs, size_t naddr, char *resp,
    size_t rlen, char *out, size_t olen)
{
	const struct relay_sts_policy *cp;
	struct relay_sts_policy	 p;
	char			 host[RELAY_DNS_NAME_MAX + 16];
	const char		*body, *err, *cid;
	size_t			 blen;

	if ((cp = relay_sts_cache_get(sts_helper_cache, domain, time(NULL),
	    &cid)) != NULL && strcmp(cid, id) == 0 &&
	    relay_sts_policy_print(cp, out, olen) != -1) {
		log_debug("- relay-sts cached domain=%s id=%s", domain, id);
		return RESULT_OK;
	}
	(void)snprintf(host, sizeof(host), "mta-sts.%s", domain);
	if (relay_sts_fetch(cfg, host, port, addrs, naddr, resp, rlen, &body,
	    &blen, out, olen) == -1)
		return RESULT_TEMPFAIL;
	if (relay_sts_policy_parse(body, blen, &p, &err) == -1) {
		(void)snprintf(out, olen, "policy: %s", err);
		return RESULT_TEMPFAIL;
	}
	if (relay_sts_policy_print(&p, out, olen) == -1) {
		(void)snprintf(out, olen, "policy: too large to pass on");
		return RESULT_TEMPFAIL;
	}
	log_info("- relay-sts fetched domain=%s mode=%s max_age=%u mx=%zu",
	    domain, relay_sts_mode_name(p.mode), p.max_age, p.nmx);
	(void)relay_sts_cache_put(sts_helper_cache, domain, id, &p,
	    time(NULL));
	return RESULT_OK;
}

/*
 * Waits for a request on fd or anything from parentfd (-1: none):
 * 0 when fd is readable, 1 when parentfd is.
 */
static int
sts_wait(int fd, int parentfd)
{
	struct pollfd	 pfd[2] = {
		{ .fd = fd, .events = POLLIN },
		{ .fd = parentfd, .events = POLLIN },
	};

	for (;;) {
		if (poll(pfd, parentfd == -1 ? 1 : 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (parentfd != -1 && pfd[1].revents != 0)
			return 1;
		if (pfd[0].revents != 0)
			return 0;
	}
}

int
relay_sts_serve(int fd, int parentfd, struct tls_config *cfg, uint16_t port)
{
	static char		 resp[RELAY_STS_POLICY_MAX_BYTES +
				    RELAY_STS_HTTP_HEADER_MAX_BYTES];
	static uint8_t		 rec[sizeof(struct ipc_hdr) +
				    IPC_PAYLOAD_MAX_BYTES];
	static struct ipc_out	 o;
	struct ipc_msg		 m;
	struct rdns_addr	 addrs[RELAY_DNS_ADDRS_MAX];
	char			 domain[RELAY_DNS_NAME_MAX];
	char			 id[RELAY_STS_ID_MAX + 1];
	char			 text[RELAY_STS_PRINT_MAX_BYTES];
	size_t			 naddr;
	uint32_t		 result;
	int			 r;

	if (sts_helper_cache == NULL &&
	    (sts_helper_cache = relay_sts_cache_new(RELAY_STS_CACHE_MAX)) ==
	    NULL)
		return -1;
	for (;;) {
		if ((r = sts_wait(fd, parentfd)) != 0)
			return r;
		if (ipc_recv_sync(fd, &m, rec, sizeof(rec)) == -1)
			return errno == ECONNRESET ? 0 : -1;
		if (m.hdr.type != MSG_RELAY_STS_FETCH || m.fd != -1 ||
		    relay_sts_req_get(&m, domain, sizeof(domain), id, addrs,
		    &naddr) == -1) {
			log_warnx("- relay-sts bad-request type=%s",
			    ipc_type_name(m.hdr.type));
			ipc_msg_clear(&m);
			return -1;
		}
		result = sts_fetch_policy(cfg, port, domain, id, addrs, naddr,
		    resp, sizeof(resp), text, sizeof(text));
		if (result != RESULT_OK)
			log_info("- relay-sts fetch-failed domain=%s "
			    "error=\"%s\"", domain, text);
		ipc_out_init(&o, MSG_RELAY_STS_POLICY, m.hdr.peerid);
		ipc_put_u32(&o, result);
		ipc_put_str(&o, text);
		if (ipc_send_sync(fd, &o, -1) == -1)
			return -1;
	}
}
