/*
 * relay_dns: the relay's MX routing (RFC 5321 section 5) through
 * libunbound on the relay's libevent loop.
 *
 * relay_dns_route() looks up a domain's MX records, sorts them by
 * preference (equal ones shuffled), finds each host's AAAA and A
 * addresses and calls back once with an ordered route or a classified
 * error.  The pure parts (relay_dns_route.c) do no I/O.
 */
#ifndef RELAY_DNS_H
#define RELAY_DNS_H

#include <stddef.h>
#include <stdint.h>

#include "sp_limits.h"

struct config;
struct event_base;
struct relay_dns;

/* Which address family is tried first; "both" interleaves, IPv6 first. */
enum rdns_family {
	RDNS_FAMILY_BOTH = 0,
	RDNS_FAMILY_IPV4,
	RDNS_FAMILY_IPV6,
};

enum rdns_status {
	RDNS_OK = 0,
	RDNS_TEMPFAIL,		/* try later: 4.x.x */
	RDNS_PERMFAIL,		/* bounce now: 5.x.x */
};

/* What DNSSEC said of an answer (for DANE). */
enum rdns_sec {
	RDNS_SEC_INSECURE = 0,
	RDNS_SEC_SECURE,
	RDNS_SEC_BOGUS,
};

enum rdns_mode {
	RDNS_MODE_NONE = 0,	/* no lookups: every route fails for now */
	RDNS_MODE_ADDR,		/* forward to addr@port */
	RDNS_MODE_SYSTEM,	/* the forwarders of /etc/resolv.conf */
};

struct rdns_conf {
	enum rdns_mode		 mode;
	char			 addr[64];	/* numeric */
	uint16_t		 port;		/* 0: 53 */
	const char		*trust_anchor;	/* file, or NULL */
	enum rdns_family	 family;
	/* This host, for "loops back to myself". */
	const char		*self_name;	/* relay_dns_conf's */
	const char * const	*self_names;
	size_t			 nself_names;
	const char * const	*self_addrs;	/* numeric */
	size_t			 nself_addrs;
};

struct rdns_addr {
	int			 af;		/* AF_INET or AF_INET6 */
	uint8_t			 a[16];
};

struct rdns_mx {
	char			 host[RELAY_DNS_NAME_MAX];
	uint16_t		 pref;
	enum rdns_sec		 sec;		/* of its addresses */
	int			 tempfail;	/* a lookup failed for now */
	size_t			 naddr;
	struct rdns_addr	 addr[RELAY_DNS_ADDRS_MAX];
};

struct rdns_route {
	enum rdns_status	 status;
	const char		*enhanced;	/* "5.1.10", "4.4.3", ... */
	char			 text[256];	/* for the DSN and the log */
	enum rdns_sec		 sec;		/* of the MX answer */
	int			 implicit;	/* no MX: the domain itself */
	size_t			 nmx;
	struct rdns_mx		 mx[RELAY_DNS_MX_MAX];
};

typedef void (*rdns_cb)(const struct rdns_route *, void *);

/* One TLSA record (RFC 6698); a longer association is not kept. */
struct rdns_tlsa_rr {
	uint8_t			 usage, selector, mtype;
	size_t			 len;
	uint8_t			 data[RELAY_DNS_TLSA_DATA_MAX];
};

/*
 * A host's TLSA records for DANE (RFC 7672): ok with n == 0 when there
 * are none (NXDOMAIN or no data); usable only when sec is secure.
 */
struct rdns_tlsa {
	enum rdns_status	 status;
	const char		*enhanced;
	char			 text[256];
	enum rdns_sec		 sec;
	size_t			 n;
	struct rdns_tlsa_rr	 rr[RELAY_DNS_TLSA_MAX];
};

typedef void (*rdns_tlsa_cb)(const struct rdns_tlsa *, void *);

/*
 * A domain's MTA-STS record (RFC 8461 3.1) and the addresses of its
 * policy host: status ok with found == 0 when no policy is announced
 * (why says how); temporary when the TXT lookup failed.
 */
struct rdns_sts {
	enum rdns_status	 status;
	int			 found;
	char			 id[RELAY_STS_ID_MAX + 1];
	char			 why[256];
	char			 host[RELAY_DNS_NAME_MAX + 16];	/* mta-sts.D */
	size_t			 naddr;
	struct rdns_addr	 addr[RELAY_DNS_ADDRS_MAX];
};

typedef void (*rdns_sts_cb)(const struct rdns_sts *, void *);

/* relay_dns.c: set up before chroot; NULL with err filled on failure. */
void		 relay_dns_conf(const struct config *, struct rdns_conf *);
struct relay_dns *relay_dns_new(struct event_base *,
		    const struct rdns_conf *, char *, size_t);
int		 relay_dns_route(struct relay_dns *, const char *,
		    rdns_cb, void *);
/* A smarthost's addresses: a route of one host, no MX lookup. */
int		 relay_dns_host(struct relay_dns *, const char *,
		    rdns_cb, void *);
void		 relay_dns_free(struct relay_dns *);
/* relay_dns_tlsa.c */
int		 relay_dns_tlsa(struct relay_dns *, const char *, uint16_t,
		    rdns_tlsa_cb, void *);
int		 rdns_tlsa_parse(const uint8_t *, size_t,
		    struct rdns_tlsa_rr *);
/* relay_dns_txt.c */
int		 relay_dns_sts(struct relay_dns *, const char *,
		    rdns_sts_cb, void *);
int		 rdns_txt_join(const uint8_t *, size_t, char *, size_t);

/* relay_dns_route.c: the pure parts. */
typedef uint32_t (*rdns_rand)(uint32_t);
void		 rdns_sort_mx(struct rdns_mx *, size_t, rdns_rand);
int		 rdns_find_null_mx(const struct rdns_mx *, size_t);
size_t		 rdns_interleave(const struct rdns_addr *, size_t,
		    const struct rdns_addr *, size_t, enum rdns_family,
		    struct rdns_addr *, size_t);
int		 rdns_wire_name(const uint8_t *, size_t, char *, size_t);
void		 rdns_fail(struct rdns_route *, enum rdns_status,
		    const char *, const char *, ...)
		    __attribute__((format(printf, 4, 5)));
void		 rdns_classify(struct rdns_route *, const char *,
		    const char *, int, int, const char *);
int		 rdns_drop_self(struct rdns_route *, const char *,
		    const struct rdns_conf *);
void		 rdns_finish(struct rdns_route *, const char *);

#endif
