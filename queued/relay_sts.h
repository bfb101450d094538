/*
 * MTA-STS (RFC 8461) for the relay: the pure parts.  The policy file
 * (3.2), the _mta-sts TXT record (3.1), MX host matching (4.1) and the
 * relay's cache of policies (5.1).  No I/O: the TXT record comes from
 * relay_dns_txt.c, the policy file from the relay-sts helper
 * (relay_sts_fetch.c).
 */
#ifndef SALLYPORT_RELAY_STS_H
#define SALLYPORT_RELAY_STS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "sp_limits.h"

/* A printed policy: its fixed lines and every pattern on a line. */
#define RELAY_STS_PRINT_MAX_BYTES	(64 + RELAY_STS_MX_BUF_BYTES + \
					    5 * RELAY_STS_MX_MAX)

enum relay_sts_mode {
	RELAY_STS_NONE,		/* "none": no policy */
	RELAY_STS_TESTING,	/* "testing": failures logged, not acted on */
	RELAY_STS_ENFORCE,	/* "enforce": MX and PKIX checked */
};

struct relay_sts_policy {
	enum relay_sts_mode	 mode;
	uint32_t		 max_age;	/* seconds */
	size_t			 nmx;
	uint16_t		 mx_off[RELAY_STS_MX_MAX];
	/* The patterns, lower case, each NUL-terminated, at mx_off[i]. */
	char			 mx_buf[RELAY_STS_MX_BUF_BYTES];
};

/*
 * Parses a policy file of len bytes (CRLF or LF lines).  Returns 0, or
 * -1 with *errstr naming what is wrong.
 */
int	relay_sts_policy_parse(const char *, size_t,
	    struct relay_sts_policy *, const char **errstr);
const char *relay_sts_policy_mx(const struct relay_sts_policy *, size_t);
/* Canonical text, at most RELAY_STS_PRINT_MAX_BYTES; -1: no room. */
int	relay_sts_policy_print(const struct relay_sts_policy *, char *,
	    size_t);
const char *relay_sts_mode_name(enum relay_sts_mode);

/*
 * Parses the text of one TXT record (its strings joined) into id (at
 * least RELAY_STS_ID_MAX + 1 bytes).  Returns 0; 1 when the record is
 * not an STSv1 record (to be discarded, RFC 8461 3.1); -1 with *errstr
 * when it is one but invalid.
 */
int	relay_sts_txt_parse(const char *, size_t, char *id,
	    const char **errstr);

/*
 * Whether host (an MX host name, a trailing dot allowed) matches one of
 * the policy's patterns (RFC 8461 4.1): 1 or 0.
 */
int	relay_sts_mx_match(const struct relay_sts_policy *, const char *);

/* The relay's policies by domain, at most max, least recently used out. */
struct relay_sts_cache;

struct relay_sts_cache *relay_sts_cache_new(size_t max);
void	relay_sts_cache_free(struct relay_sts_cache *);
/*
 * The unexpired policy of domain, with its id in *id; NULL when none.
 * An expired policy is dropped.
 */
const struct relay_sts_policy *relay_sts_cache_get(struct relay_sts_cache *,
	    const char *domain, time_t now, const char **id);
/* Keeps (or replaces) domain's policy until now + its max_age. */
int	relay_sts_cache_put(struct relay_sts_cache *, const char *domain,
	    const char *id, const struct relay_sts_policy *, time_t now);
size_t	relay_sts_cache_count(const struct relay_sts_cache *);

#endif
