/*
 * Between parse.y and config.c only: the checked setters that the
 * grammar's actions call.  Each returns 0, or -1 with a short reason
 * (no file or line: the grammar adds them) in err.  Programs use
 * config.h.
 */
#ifndef SALLYPORT_CONFIG_INT_H
#define SALLYPORT_CONFIG_INT_H

#include <sys/param.h>	/* PATH_MAX, which config.h uses */

#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* A configuration holding every default but the hostname. */
struct config	*config_new(void);
/* Fills the defaults that depend on the host: the hostname. */
int		 config_finish(struct config *, char *err, size_t errlen);

/* An absolute path into dst; NULL empties it ("secrets none"). */
int		 config_set_path(char *dst, size_t dstlen, const char *path,
		    char *err, size_t errlen);
int		 config_set_hostname(struct config *, const char *,
		    char *err, size_t errlen);
/* NULL turns lookups off. */
int		 config_set_resolver_ta(struct config *, const char *,
		    char *, size_t);
int		 config_set_relay_family(struct config *, const char *,
		    char *, size_t);
int		 config_set_resolver(struct config *, const char *,
		    char *err, size_t errlen);
int		 config_add_domain(struct config *, const char *,
		    char *err, size_t errlen);
int		 config_set_user(struct config *, const char *role,
		    const char *user, char *err, size_t errlen);
/* port -1 picks the protocol's well-known port. */
int		 config_add_listener(struct config *, const char *proto,
		    const char *addr, int64_t port, char *err, size_t errlen);
int		 config_add_pki(struct config *, const char *name,
		    const char *cert, const char *key, char *err,
		    size_t errlen);
/*
 * retry <= max-retry <= expire, all above zero; delay_notice below
 * expire, 0 for none, -1 when not given (the default, or none when
 * expire is shorter).
 */
int		 config_set_queue(struct config *, uint32_t retry,
		    uint32_t max_retry, uint32_t expire, int64_t delay_notice,
		    char *err, size_t errlen);

/* RFC 1035 2.3.1 host names, without a trailing dot: 1 or 0. */
int		 config_valid_domain(const char *);
/* Checks and lower-cases a domain into dst (CONFIG_NAME_MAX bytes). */
int		 config_domain_copy(char *dst, const char *s, const char *what,
		    char *err, size_t errlen);
/* A numeric IPv4 or IPv6 address into its canonical text: 0 or -1. */
int		 config_addr(const char *s, char *dst, size_t dstlen);
/* A quoted string as the lexer reads it back: '"' and '\' escaped. */
void		 config_print_str(FILE *, const char *);

/*
 * common/config_relay.c: "relay to" routes, "relay backoff" and
 * "secrets".  The route being read is checked whole by
 * config_add_route(); config_relay_finish() checks what spans
 * statements (auth needs secrets, limits against each other).
 */
/* "relay to DOMAIN|default ...": r->domain "" for default. */
int		 config_add_route(struct config *, const struct relay_route *r,
		    char *err, size_t errlen);
/* "via mx" or "via HOST" into r. */
int		 config_route_via(struct relay_route *r, const char *via,
		    char *err, size_t errlen);
/* "tls none|opportunistic|require|verify" into r. */
int		 config_route_tls(struct relay_route *r, const char *tls,
		    char *err, size_t errlen);
/* "helo NAME", "source ADDRESS", "auth LABEL", "ca FILE" into r. */
int		 config_route_opt(struct relay_route *r, const char *opt,
		    const char *value, char *err, size_t errlen);
/* "relay backoff FIRST [max MAX]": max 0 when not given. */
int		 config_set_backoff(struct config *, uint32_t first,
		    uint32_t max, char *err, size_t errlen);
int		 config_relay_finish(struct config *, char *err,
		    size_t errlen);
void		 config_relay_free(struct config *);
void		 config_relay_print(FILE *, const struct config *);

/*
 * common/config_policy.c: the SMTP session limits, timeouts, relay
 * networks and policy switches.  config_policy_init() sets the
 * defaults, config_policy_free() frees, config_policy_print() prints.
 */
void		 config_policy_init(struct config *);
void		 config_policy_free(struct config *);
void		 config_policy_print(FILE *, const struct config *);
/* "limit NAME N" for the counted limits without a unit of their own. */
int		 config_set_limit(struct config *, const char *name,
		    uint64_t value, char *err, size_t errlen);
/* "timeout NAME DURATION". */
int		 config_set_timeout(struct config *, const char *name,
		    uint32_t secs, char *err, size_t errlen);
/* "relay from CIDR". */
int		 config_add_relay(struct config *, const char *cidr,
		    char *err, size_t errlen);
/*
 * "auth plaintext-on-loopback [yes|no]", "submission sender own|any",
 * "received show-auth-user yes|no": stmt and name pick the switch;
 * value NULL means its "on" value.
 */
int		 config_set_switch(struct config *, const char *stmt,
		    const char *name, const char *value, char *err,
		    size_t errlen);

/*
 * common/config_submit.c: "submit trusted USER"; word must be
 * "trusted".  User NULL checks the word only.
 */
int		 config_add_trusted(struct config *, const char *word,
		    const char *user, char *err, size_t errlen);
/* One "submit trusted" line per user, none by default. */
void		 config_submit_print(FILE *, const struct config *);

/*
 * common/config_pop3.c: the pop3 statement.  config_pop3_init() sets
 * the defaults (no login delay, expire never), config_pop3_print()
 * prints what is set.
 */
void		 config_pop3_init(struct config *);
void		 config_pop3_print(FILE *, const struct config *);
/* "pop3 login-delay DURATION": name must be "login-delay". */
int		 config_set_pop3_delay(struct config *, const char *name,
		    uint32_t secs, char *err, size_t errlen);
/* "pop3 expire": word "never" or "30d", or (word NULL) days. */
int		 config_set_pop3_expire(struct config *, const char *word,
		    uint64_t days, char *err, size_t errlen);

/* "300", "5m", "4h", "4d": seconds, 1 to UINT32_MAX. */
int		 config_parse_time(const char *, uint32_t *);
/* "1048576", "512K", "35M", "1G": bytes, above zero. */
int		 config_parse_size(const char *, uint64_t *);
/* Seconds as config_parse_time reads them back: "90s", "5m", "4h". */
void		 config_print_time(FILE *, uint32_t);

#endif
