/*
 * One connection of the relay, before SMTP: its route (MX hosts and
 * their addresses from relay_dns_route, or the smarthost's numeric
 * address), then a non-blocking connect(2) to each address in order,
 * each bounded by relay_connect_timeout_secs, from the route's source
 * address when it names one.  The first that connects goes to the pool
 * (relay_pool_connected); when none does, the pool hears it
 * (relay_pool_unreachable) and backs the destination off.
 *
 * DANE (RFC 7672 2.2): before the first address of a host whose MX
 * answer and address records DNSSEC proved secure, its TLSA records
 * are asked (relay_dns_tlsa); secure ones go to the SMTP client, which
 * then requires TLS and matches the certificate against them.  A TLSA
 * lookup that fails (SERVFAIL, bogus, a timeout) for such a host skips
 * the host: it is not used without them.
 *
 * MTA-STS (RFC 8461): for a domain by MX, its policy comes first
 * (relay_sts_lookup); with mode enforce, the MX hosts it does not name
 * are dropped from the route, and relay_pool.c verifies the
 * certificate of each host without DANE.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "relay_dane.h"
#include "relay_pool_int.h"
#include "relay_sts_helper.h"

static void	relay_conn_try(struct relay_conn *);

/* 1 when host i of c's route is DNSSEC-secure all the way to it. */
static int
relay_conn_secure(const struct relay_conn *c, size_t i)
{
	return c->route->sec == RDNS_SEC_SECURE &&
	    c->route->mx[i].sec == RDNS_SEC_SECURE;
}

static void
relay_conn_tlsa(const struct rdns_tlsa *t, void *arg)
{
	struct relay_conn	*c = arg;

	if (t->status != RDNS_OK || t->sec == RDNS_SEC_BOGUS) {
		(void)snprintf(c->last_error, sizeof(c->last_error),
		    "%.255s: 4.7.5 DANE: TLSA lookup for a secure host "
		    "failed: %.255s", relay_conn_host(c), t->text);
		log_info("%s relay tlsa-failed host=%s error=\"%s\"", c->id,
		    relay_conn_host(c), t->text);
		relay_conn_next(c, 1);
		return;
	}
	c->tlsa = *t;
	c->tlsa_ok = t->sec == RDNS_SEC_SECURE && t->n > 0;
	log_debug("%s relay tlsa host=%s records=%zu secure=%s", c->id,
	    relay_conn_host(c), t->n, c->tlsa_ok ? "yes" : "no");
	c->state = RCS_CONNECTING;
	relay_conn_try(c);
}

/*
 * The TLSA records of the host about to be tried, when it is secure:
 * 1 when asked (relay_conn_tlsa follows), else 0.
 */
static int
relay_conn_want_tlsa(struct relay_conn *c)
{
	if (c->tlsa_mx == c->mx)
		return 0;
	c->tlsa_mx = c->mx;
	c->tlsa_ok = 0;
	if (!relay_conn_secure(c, c->mx))
		return 0;
	c->state = RCS_TLSA;
	if (relay_dns_tlsa(relay_env.dns, relay_conn_host(c), c->d->t.port,
	    relay_conn_tlsa, c) == -1)
		fatal("- relay relay_dns_tlsa");
	return 1;
}

/* The TLSA records for the host connected to, or NULL: no DANE. */
const struct rdns_tlsa *
relay_conn_dane(const struct relay_conn *c)
{
	return c->tlsa_ok && c->tlsa_mx == c->mx ? &c->tlsa : NULL;
}

const char *
relay_conn_host(const struct relay_conn *c)
{
	if (c->route == NULL || c->mx >= c->route->nmx)
		return c->d->t.via_host ? c->d->t.host : c->d->t.domain;
	return c->route->mx[c->mx].host;
}

void
relay_conn_free(struct relay_conn *c)
{
	if (c == NULL)
		return;
	if (c->ev != NULL)
		event_free(c->ev);
	if (c->fd != -1)
		(void)close(c->fd);
	free(c->route);
	free(c->sts);
	free(c);
}

/* A smarthost at a numeric address: a route of one host, no DNS. */
static int
relay_conn_numeric(struct relay_conn *c)
{
	struct rdns_route	*r = c->route;
	struct rdns_mx		*mx = &r->mx[0];
	struct rdns_addr	*a = &mx->addr[0];

	r->status = RDNS_OK;
	r->nmx = 1;
	(void)strlcpy(mx->host, c->d->t.host, sizeof(mx->host));
	mx->naddr = 1;
	if (inet_pton(AF_INET, c->d->t.host, a->a) == 1)
		a->af = AF_INET;
	else if (inet_pton(AF_INET6, c->d->t.host, a->a) == 1)
		a->af = AF_INET6;
	else
		return -1;
	return 0;
}

/*
 * The MTA-STS policy's MX hosts (RFC 8461 4.1): enforce drops the
 * others, testing logs them.  Not when the MX answer is DNSSEC-secure:
 * DANE takes precedence there (RFC 8461 2).  -1 when none is left
 * (the route failed, 4.7.5).
 */
static int
relay_conn_sts_filter(struct relay_conn *c)
{
	struct rdns_route	 tmp;
	size_t			 n;

	if (c->sts == NULL || c->route->sec == RDNS_SEC_SECURE)
		return 0;
	if ((n = relay_sts_route_filter(c->sts, c->route,
	    c->d->t.domain)) > 0 && c->sts->mode == RELAY_STS_ENFORCE)
		relay_env.counters[RC_STS_REFUSED] += n;
	if (n > 0)
		log_info("%s relay sts-mx-mismatch dest=%s mode=%s hosts=%zu",
		    c->id, c->d->t.key, relay_sts_mode_name(c->sts->mode), n);
	if (c->route->status == RDNS_OK)
		return 0;
	tmp = *c->route;	/* c and its route go with the failure */
	relay_pool_route_failed(c, &tmp);
	return -1;
}

static void
relay_conn_routed(const struct rdns_route *r, void *arg)
{
	struct relay_conn	*c = arg;
	struct rdns_route	 tmp;
	size_t			 i, len;

	if (r->status != RDNS_OK || r->nmx == 0) {
		if (c->d->t.via_host && r->status == RDNS_PERMFAIL) {
			/* A smarthost not found is the admin's to fix. */
			tmp = *r;
			tmp.status = RDNS_TEMPFAIL;
			tmp.enhanced = "4.4.3";
			relay_pool_route_failed(c, &tmp);
		} else
			relay_pool_route_failed(c, r);
		return;
	}
	*c->route = *r;
	/* "mx.example." as DNS writes it: the name for SNI and the log. */
	for (i = 0; i < c->route->nmx; i++) {
		len = strlen(c->route->mx[i].host);
		if (len > 1 && c->route->mx[i].host[len - 1] == '.')
			c->route->mx[i].host[len - 1] = '\0';
	}
	if (relay_conn_sts_filter(c) == -1)
		return;
	c->mx = c->ai = 0;
	c->state = RCS_CONNECTING;
	relay_conn_try(c);
}

/* The route of c's destination; relay_conn_routed follows. */
static void
relay_conn_route(struct relay_conn *c)
{
	struct rdns_route	 fail;
	const char		*name;

	c->state = RCS_RESOLVING;
	name = c->d->t.via_host ? c->d->t.host : c->d->t.domain;
	if ((c->d->t.via_host ? relay_dns_host(relay_env.dns, name,
	    relay_conn_routed, c) : relay_dns_route(relay_env.dns, name,
	    relay_conn_routed, c)) == -1) {
		memset(&fail, 0, sizeof(fail));
		rdns_fail(&fail, RDNS_TEMPFAIL, "4.4.3", "%s: lookup failed",
		    name);
		relay_pool_route_failed(c, &fail);
	}
}

/* The MTA-STS policy of a domain by MX (relay_sts_client.c). */
static void
relay_conn_sts(const struct relay_sts_result *r, void *arg)
{
	struct relay_conn	*c = arg;

	log_info("%s relay sts dest=%s mode=%s source=%s id=%s note=\"%s\"",
	    c->id, c->d->t.key, r->policy != NULL ?
	    relay_sts_mode_name(r->policy->mode) : "-", r->source,
	    r->id[0] != '\0' ? r->id : "-", r->note);
	if (r->policy != NULL && r->policy->mode != RELAY_STS_NONE) {
		if ((c->sts = malloc(sizeof(*c->sts))) == NULL)
			fatal("- relay malloc");
		*c->sts = *r->policy;
	}
	relay_conn_route(c);
}

/*
 * The route of c's destination: by MX, its MTA-STS policy first
 * (RFC 8461; a smarthost's TLS is its route's alone).
 */
void
relay_conn_resolve(struct relay_conn *c)
{
	if ((c->route = calloc(1, sizeof(*c->route))) == NULL)
		fatal("- relay calloc");
	c->fd = -1;
	c->tlsa_mx = (size_t)-1;
	if (c->d->t.via_host && c->d->t.numeric) {
		if (relay_conn_numeric(c) == 0) {
			c->state = RCS_CONNECTING;
			relay_conn_try(c);
			return;
		}
	}
	if (!c->d->t.via_host && relay_env.sts != NULL) {
		c->state = RCS_STS;
		if (relay_sts_lookup(relay_env.sts, c->d->t.domain,
		    relay_conn_sts, c) == 0)
			return;
	}
	relay_conn_route(c);
}

static socklen_t
relay_conn_sa(const struct rdns_addr *a, uint16_t port,
    struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (a->af == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, a->a, 4);
		return sizeof(*sin);
	}
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	memcpy(&sin6->sin6_addr, a->a, 16);
	return sizeof(*sin6);
}

/* Binds fd to the route's source address, when of fd's family. */
static int
relay_conn_bind(int fd, int af, const char *source)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 len;

	memset(&ss, 0, sizeof(ss));
	if (source[0] == '\0')
		return 0;
	if (af == AF_INET && inet_pton(AF_INET, source, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		len = sizeof(*sin);
	} else if (af == AF_INET6 &&
	    inet_pton(AF_INET6, source, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		len = sizeof(*sin6);
	} else
		return 0;
	return bind(fd, (struct sockaddr *)&ss, len);
}

/* The failure of the address being tried; the next one is tried. */
static void
relay_conn_failed(struct relay_conn *c, const char *why)
{
	relay_env.counters[RC_CONNECT_FAILED]++;
	(void)snprintf(c->last_error, sizeof(c->last_error),
	    "connect to %s[%s]:%u: %s", relay_conn_host(c), c->addr,
	    c->d->t.port, why);
	log_info("%s relay connect-failed host=%s addr=%s port=%u "
	    "error=\"%s\"", c->id, relay_conn_host(c), c->addr,
	    c->d->t.port, why);
	if (c->ev != NULL) {
		event_free(c->ev);
		c->ev = NULL;
	}
	if (c->fd != -1) {
		(void)close(c->fd);
		c->fd = -1;
	}
	relay_conn_next(c, 0);
}

static void
relay_conn_writable(evutil_socket_t fd, short ev, void *arg)
{
	struct relay_conn	*c = arg;
	socklen_t		 len = sizeof(int);
	int			 err = 0;

	if (ev & EV_TIMEOUT) {
		relay_conn_failed(c, "connect timed out");
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		relay_conn_failed(c, strerror(err));
		return;
	}
	event_free(c->ev);
	c->ev = NULL;
	relay_pool_connected(c);
}

/* Starts connect(2) to the address at (mx, ai). */
static void
relay_conn_try(struct relay_conn *c)
{
	const struct rdns_addr	*a;
	struct sockaddr_storage	 ss;
	struct timeval		 tv;
	socklen_t		 len;

	if (c->mx >= c->route->nmx) {
		relay_pool_unreachable(c);
		return;
	}
	if (c->route->mx[c->mx].naddr == 0) {
		relay_conn_next(c, 1);
		return;
	}
	if (relay_conn_want_tlsa(c))
		return;
	a = &c->route->mx[c->mx].addr[c->ai];
	(void)inet_ntop(a->af, a->a, c->addr, sizeof(c->addr));
	(void)snprintf(c->relay, sizeof(c->relay), "%s[%s]:%u",
	    relay_conn_host(c), c->addr, c->d->t.port);
	len = relay_conn_sa(a, c->d->t.port, &ss);
	c->fd = socket(a->af, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd == -1 || relay_conn_bind(c->fd, a->af,
	    c->d->t.source) == -1) {
		relay_conn_failed(c, strerror(errno));
		return;
	}
	if (connect(c->fd, (struct sockaddr *)&ss, len) == 0) {
		relay_pool_connected(c);
		return;
	}
	if (errno != EINPROGRESS) {
		relay_conn_failed(c, strerror(errno));
		return;
	}
	tv.tv_sec = relay_env.conf->relay_connect_timeout_secs;
	tv.tv_usec = 0;
	if ((c->ev = event_new(relay_env.base, c->fd, EV_WRITE,
	    relay_conn_writable, c)) == NULL || event_add(c->ev, &tv) == -1)
		fatalx("- relay event_new");
}

/* The next address of the route (of the next host with skip_host). */
void
relay_conn_next(struct relay_conn *c, int skip_host)
{
	if (c->mx < c->route->nmx) {
		if (skip_host || ++c->ai >= c->route->mx[c->mx].naddr) {
			c->mx++;
			c->ai = 0;
		}
	}
	c->state = RCS_CONNECTING;
	relay_conn_try(c);
}

/*
 * The SMTP client's settings for c's session: the route's, the
 * configuration's timeouts and limits, the TLSA records for DANE, the
 * CA set in memory, the AUTH credentials.  -1 with why when the route's
 * AUTH label has none.
 */
int
relay_conn_params(struct relay_conn *c, struct relay_params *p, char *why,
    size_t whylen)
{
	const struct config	*conf = relay_env.conf;

	memset(p, 0, sizeof(*p));
	p->id = c->id;
	p->helo = c->d->t.helo;
	p->tls = c->d->t.tls;
	p->tls_name = relay_conn_host(c);
	p->implicit_tls = c->d->t.smtps;
	p->tlsa = relay_conn_dane(c);
	relay_ca_get(c->d->t.ca_file, &p->tls_ca_mem, &p->tls_ca_len);
	/*
	 * MTA-STS enforce, where DANE does not apply: PKIX, the MX name,
	 * with "relay mta-sts ca" when the configuration names one.
	 */
	if (c->sts != NULL && c->sts->mode == RELAY_STS_ENFORCE &&
	    (p->tlsa == NULL || relay_dane_level(p->tlsa) == RELAY_DANE_OFF)) {
		p->tls = RELAY_TLS_VERIFY;
		if (conf->relay_sts_ca[0] != '\0')
			relay_ca_get(conf->relay_sts_ca, &p->tls_ca_mem,
			    &p->tls_ca_len);
	}
	p->timeouts.greeting = (int)conf->relay_greeting_timeout_secs;
	p->timeouts.mail = (int)conf->relay_mail_timeout_secs;
	p->timeouts.rcpt = (int)conf->relay_rcpt_timeout_secs;
	p->timeouts.data_init = (int)conf->relay_data_init_timeout_secs;
	p->timeouts.data_block = (int)conf->relay_data_block_timeout_secs;
	p->timeouts.data_end = (int)conf->relay_data_end_timeout_secs;
	p->idle_secs = (int)conf->relay_idle_secs;
	p->msgs_max = (int)conf->relay_msgs_per_conn;
	if (c->d->t.auth[0] != '\0' && (relay_env.secrets == NULL ||
	    secrets_lookup(relay_env.secrets, c->d->t.auth, &p->auth_user,
	    &p->auth_pass) == -1)) {
		(void)snprintf(why, whylen, "no credentials for auth label %s "
		    "in the secrets file", c->d->t.auth);
		return -1;
	}
	return 0;
}
