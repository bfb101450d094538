/* relay_dns: what relay_dns.c shares with relay_dns_tlsa.c and
 * relay_dns_txt.c only. */
#ifndef RELAY_DNS_INT_H
#define RELAY_DNS_INT_H

#include <sys/queue.h>

#define RDNS_C_IN	1

struct ub_ctx;
struct ub_result;
struct rdns_query;
struct rdns_tlsa_query;
struct rdns_sts_query;

struct relay_dns {
	struct event_base	*base;
	struct rdns_conf	 conf;
	struct ub_ctx		*ub;		/* NULL: resolver none */
	struct event		*ev;
	TAILQ_HEAD(, rdns_query) queries;
	TAILQ_HEAD(, rdns_tlsa_query) tlsas;
	TAILQ_HEAD(, rdns_sts_query) stss;
};

enum rdns_sec	 rdns_sec_of(const struct ub_result *);
void		 relay_dns_tlsa_free_all(struct relay_dns *);
void		 relay_dns_sts_free_all(struct relay_dns *);

#endif
