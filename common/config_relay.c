/*
 * The relay's part of the configuration: the "relay to" routes (how
 * mail for a destination domain leaves: by MX or through a smarthost,
 * with which TLS, credentials, HELO name and source address), "relay
 * backoff" and "secrets".  The relay's limits and timeouts are in the
 * tables of config_policy.c.  No I/O but the printout; the secrets file
 * itself is read by common/secrets.c.  See sallyport.conf(5).
 */
#include <sys/types.h>
#include <limits.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "config_int.h"
#include "secrets.h"
#include "sp_limits.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

/* "tls WORD", in the order of enum route_tls. */
static const char *const route_tls_names[] = {
	[ROUTE_TLS_OPPORTUNISTIC] = "opportunistic",
	[ROUTE_TLS_NONE] = "none",
	[ROUTE_TLS_REQUIRE] = "require",
	[ROUTE_TLS_VERIFY] = "verify",
};

/* The route's name in messages: its domain or "default". */
static const char *
route_name(const struct relay_route *r)
{
	return r->domain[0] == '\0' ? "default" : r->domain;
}

int
config_route_via(struct relay_route *r, const char *via, char *err,
    size_t errlen)
{
	r->via_host = 0;
	r->host[0] = '\0';
	if (strcasecmp(via, "mx") == 0)
		return 0;
	r->via_host = 1;
	if (config_addr(via, r->host, sizeof(r->host)) == 0)
		return 0;
	return config_domain_copy(r->host, via, "relay host", err, errlen);
}

int
config_route_tls(struct relay_route *r, const char *tls, char *err,
    size_t errlen)
{
	size_t	 i;

	for (i = 0; i < NITEMS(route_tls_names); i++)
		if (strcmp(route_tls_names[i], tls) == 0) {
			r->tls = (enum route_tls)i;
			return 0;
		}
	(void)snprintf(err, errlen, "tls \"%s\" is not none, opportunistic, "
	    "require or verify", tls);
	return -1;
}

int
config_route_opt(struct relay_route *r, const char *opt, const char *value,
    char *err, size_t errlen)
{
	if (strcmp(opt, "helo") == 0)
		return config_domain_copy(r->helo, value, "helo name", err,
		    errlen);
	if (strcmp(opt, "ca") == 0)
		return config_set_path(r->ca_file, sizeof(r->ca_file), value,
		    err, errlen);
	if (strcmp(opt, "source") == 0) {
		if (config_addr(value, r->source, sizeof(r->source)) == 0)
			return 0;
		(void)snprintf(err, errlen,
		    "source \"%s\" is not a numeric address", value);
		return -1;
	}
	if (strcmp(opt, "auth") == 0) {
		if (secrets_valid_label(value) &&
		    strlcpy(r->auth, value, sizeof(r->auth)) < sizeof(r->auth))
			return 0;
		(void)snprintf(err, errlen, "invalid auth label \"%s\"",
		    value);
		return -1;
	}
	(void)snprintf(err, errlen, "unknown relay option \"%s\"", opt);
	return -1;
}

/* The options that only make sense together. */
static int
config_route_check(const struct relay_route *r, char *err, size_t errlen)
{
	const char	*name = route_name(r);

	if (!r->via_host && (r->port != 0 || r->smtps)) {
		(void)snprintf(err, errlen, "relay to %s: %s only with "
		    "via HOST", name, r->port != 0 ? "port" : "smtps");
		return -1;
	}
	if (r->smtps && r->tls == ROUTE_TLS_NONE) {
		(void)snprintf(err, errlen, "relay to %s: smtps with tls "
		    "none", name);
		return -1;
	}
	/* Only verify checks a certificate: elsewhere a CA would do nothing. */
	if (r->ca_file[0] != '\0' && r->tls != ROUTE_TLS_VERIFY) {
		(void)snprintf(err, errlen, "relay to %s: ca only with tls "
		    "verify", name);
		return -1;
	}
	if (r->auth[0] != '\0' && !r->via_host) {
		(void)snprintf(err, errlen, "relay to %s: auth only with "
		    "via HOST", name);
		return -1;
	}
	if (r->auth[0] != '\0' && !r->smtps && r->tls != ROUTE_TLS_REQUIRE &&
	    r->tls != ROUTE_TLS_VERIFY) {
		(void)snprintf(err, errlen, "relay to %s: auth needs smtps or "
		    "tls require or verify: credentials would travel in clear "
		    "text", name);
		return -1;
	}
	return 0;
}

int
config_add_route(struct config *conf, const struct relay_route *r,
    char *err, size_t errlen)
{
	struct relay_route	*o;
	size_t			 n = 0;

	if (config_route_check(r, err, errlen) == -1)
		return -1;
	TAILQ_FOREACH(o, &conf->relay_routes, entry) {
		if (strcmp(o->domain, r->domain) == 0) {
			(void)snprintf(err, errlen, "relay to %s given twice",
			    route_name(r));
			return -1;
		}
		n++;
	}
	if (n >= CONFIG_RELAY_ROUTES_MAX) {
		(void)snprintf(err, errlen, "too many relay routes (at most "
		    "%d)", CONFIG_RELAY_ROUTES_MAX);
		return -1;
	}
	if ((o = malloc(sizeof(*o))) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		return -1;
	}
	*o = *r;
	TAILQ_INSERT_TAIL(&conf->relay_routes, o, entry);
	return 0;
}

int
config_set_backoff(struct config *conf, uint32_t first, uint32_t max,
    char *err, size_t errlen)
{
	if (max == 0)
		max = conf->relay_backoff_max_secs;
	if (first > max) {
		(void)snprintf(err, errlen, "relay backoff %u is above its "
		    "max %u", first, max);
		return -1;
	}
	conf->relay_backoff_secs = first;
	conf->relay_backoff_max_secs = max;
	return 0;
}

int
config_relay_finish(struct config *conf, char *err, size_t errlen)
{
	if (conf->relay_conns_per_domain > conf->relay_conns_max) {
		(void)snprintf(err, errlen, "limit relay-connections-per-"
		    "domain %u is above relay-connections %u",
		    conf->relay_conns_per_domain, conf->relay_conns_max);
		return -1;
	}
	return 0;
}

void
config_relay_free(struct config *conf)
{
	struct relay_route	*r;

	while ((r = TAILQ_FIRST(&conf->relay_routes)) != NULL) {
		TAILQ_REMOVE(&conf->relay_routes, r, entry);
		free(r);
	}
}

const struct relay_route *
config_relay_route(const struct config *conf, const char *domain)
{
	const struct relay_route *r, *def = NULL;

	TAILQ_FOREACH(r, &conf->relay_routes, entry) {
		if (r->domain[0] == '\0') {
			if (def == NULL)
				def = r;
		} else if (strcasecmp(r->domain, domain) == 0)
			return r;
	}
	return def;
}

/* One "relay to" line, its options in a fixed order. */
static void
config_route_print(FILE *fp, const struct relay_route *r)
{
	if (r->domain[0] == '\0')
		(void)fprintf(fp, "relay to default");
	else
		(void)fprintf(fp, "relay to \"%s\"", r->domain);
	if (!r->via_host)
		(void)fprintf(fp, " via mx");
	else {
		(void)fprintf(fp, " via \"%s\"", r->host);
		if (r->port != 0)
			(void)fprintf(fp, " port %u", r->port);
		if (r->smtps)
			(void)fprintf(fp, " smtps");
	}
	(void)fprintf(fp, " tls %s", route_tls_names[r->tls]);
	if (r->ca_file[0] != '\0') {
		(void)fprintf(fp, " ca ");
		config_print_str(fp, r->ca_file);
	}
	if (r->auth[0] != '\0')
		(void)fprintf(fp, " auth \"%s\"", r->auth);
	if (r->helo[0] != '\0')
		(void)fprintf(fp, " helo \"%s\"", r->helo);
	if (r->source[0] != '\0')
		(void)fprintf(fp, " source %s", r->source);
	(void)putc('\n', fp);
}

void
config_relay_print(FILE *fp, const struct config *conf)
{
	const struct relay_route	*r;

	(void)fprintf(fp, "relay backoff ");
	config_print_time(fp, conf->relay_backoff_secs);
	(void)fprintf(fp, " max ");
	config_print_time(fp, conf->relay_backoff_max_secs);
	(void)putc('\n', fp);
	if (!conf->relay_sts)
		(void)fprintf(fp, "relay mta-sts none\n");
	else if (conf->relay_sts_ca[0] == '\0')
		(void)fprintf(fp, "relay mta-sts system\n");
	else {
		(void)fprintf(fp, "relay mta-sts ca ");
		config_print_str(fp, conf->relay_sts_ca);
		(void)putc('\n', fp);
	}
	if (conf->secrets_file[0] == '\0')
		(void)fprintf(fp, "secrets none\n");
	else {
		(void)fprintf(fp, "secrets ");
		config_print_str(fp, conf->secrets_file);
		(void)putc('\n', fp);
	}
	TAILQ_FOREACH(r, &conf->relay_routes, entry)
		config_route_print(fp, r);
}
