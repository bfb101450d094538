/*
 * The relay's MX routing through libunbound, on the relay's libevent
 * loop.  libunbound resolves in a thread of its own (ub_ctx_async) and
 * writes each answer to a pipe: ub_fd() is watched by an event and
 * ub_process() runs the callbacks.  Its cache honours the answers' TTLs,
 * positive and negative (RFC 2308).
 *
 * Set up before chroot (relay_dns_new): the forwarder, the trust anchor
 * (read here, line by line, so that nothing is read from disk later)
 * and, for "resolver system", /etc/resolv.conf.  "resolver none" makes
 * no context at all: every route fails for now and nothing is sent.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unbound.h>

#include "config.h"
#include "relay_dns.h"
#include "relay_dns_int.h"

#define RDNS_T_A	1
#define RDNS_T_MX	15
#define RDNS_T_AAAA	28
/* A job: the MX query, then AAAA and A for each host. */
#define RDNS_JOBS	(1 + 2 * RELAY_DNS_MX_MAX)

struct rdns_query;

struct rdns_job {
	struct rdns_query	*q;
	int			 id;		/* libunbound's; -1: none */
};

struct rdns_found {
	size_t			 n4, n6;
	struct rdns_addr	 v4[RELAY_DNS_ADDRS_MAX];
	struct rdns_addr	 v6[RELAY_DNS_ADDRS_MAX];
};

struct rdns_query {
	TAILQ_ENTRY(rdns_query)	 entry;
	struct relay_dns	*d;
	char			 domain[RELAY_DNS_NAME_MAX];
	rdns_cb			 cb;
	void			*arg;
	struct event		*timer;
	int			 pending;
	struct rdns_job		 job[RDNS_JOBS];
	struct rdns_found	 found[RELAY_DNS_MX_MAX];
	struct rdns_route	 route;
	int			 host_only;	/* relay_dns_host */
};

static void	rdns_mx_answer(void *, int, struct ub_result *);
static void	rdns_addr_answer(void *, int, struct ub_result *);

static uint32_t
rdns_random(uint32_t n)
{
	return arc4random_uniform(n);
}

enum rdns_sec
rdns_sec_of(const struct ub_result *res)
{
	if (res->bogus)
		return RDNS_SEC_BOGUS;
	return res->secure ? RDNS_SEC_SECURE : RDNS_SEC_INSECURE;
}

/* Calls back with the route and forgets the query. */
static void
rdns_done(struct rdns_query *q)
{
	struct relay_dns *d = q->d;
	size_t		 i;

	for (i = 0; i < RDNS_JOBS; i++)
		if (q->job[i].id != -1 && d->ub != NULL)
			(void)ub_cancel(d->ub, q->job[i].id);
	TAILQ_REMOVE(&d->queries, q, entry);
	event_free(q->timer);
	q->cb(&q->route, q->arg);
	free(q);
}

static void
rdns_timer(evutil_socket_t fd, short ev, void *arg)
{
	struct rdns_query *q = arg;

	(void)fd;
	(void)ev;
	if (q->d->ub != NULL)
		rdns_fail(&q->route, RDNS_TEMPFAIL, "4.4.3", "Name service "
		    "error for %s: no answer within %d seconds, try again",
		    q->domain, RELAY_DNS_ROUTE_SECS);
	rdns_done(q);
}

static int
rdns_ask(struct rdns_query *q, size_t k, const char *name, int type,
    ub_callback_type cb)
{
	int	 r;

	r = ub_resolve_async(q->d->ub, name, type, RDNS_C_IN, &q->job[k],
	    cb, &q->job[k].id);
	if (r != 0) {
		rdns_fail(&q->route, RDNS_TEMPFAIL, "4.4.3", "Name service "
		    "error for name=%s: %s", name, ub_strerror(r));
		return -1;
	}
	q->pending++;
	return 0;
}

/* Keeps the best RELAY_DNS_MX_MAX of an MX set: the worst one goes. */
static void
rdns_keep_mx(struct rdns_route *r, const char *host, uint16_t pref)
{
	size_t	 i, worst = 0;

	if (r->nmx < RELAY_DNS_MX_MAX) {
		worst = r->nmx++;
	} else {
		for (i = 1; i < r->nmx; i++)
			if (r->mx[i].pref > r->mx[worst].pref)
				worst = i;
		if (r->mx[worst].pref <= pref)
			return;
	}
	memset(&r->mx[worst], 0, sizeof(r->mx[worst]));
	(void)strlcpy(r->mx[worst].host, host, sizeof(r->mx[worst].host));
	r->mx[worst].pref = pref;
	r->mx[worst].sec = RDNS_SEC_SECURE;
}

/* The MX records of an answer; a root host only counts alone. */
static void
rdns_parse_mx(struct rdns_route *r, const struct ub_result *res)
{
	char	 host[RELAY_DNS_NAME_MAX];
	size_t	 i, roots = 0;

	for (i = 0; res->data[i] != NULL; i++) {
		const uint8_t *p = (const uint8_t *)res->data[i];

		if (res->len[i] < 3 || rdns_wire_name(p + 2,
		    (size_t)res->len[i] - 2, host, sizeof(host)) == -1)
			continue;
		if (strcmp(host, ".") == 0 && roots++ > 0)
			continue;
		rdns_keep_mx(r, host, (uint16_t)(p[0] << 8 | p[1]));
	}
	if (rdns_find_null_mx(r->mx, r->nmx))
		return;
	for (i = 0; i < r->nmx; i++)
		if (strcmp(r->mx[i].host, ".") == 0)
			r->mx[i--] = r->mx[--r->nmx];
}

/* The hosts to look up: the MX set, or the domain itself. */
static int
rdns_hosts(struct rdns_query *q, struct ub_result *res)
{
	struct rdns_route *r = &q->route;

	if (!res->havedata) {
		r->implicit = 1;
		rdns_keep_mx(r, q->domain, 0);
		return 0;
	}
	rdns_parse_mx(r, res);
	if (rdns_find_null_mx(r->mx, r->nmx)) {
		rdns_fail(r, RDNS_PERMFAIL, "5.1.10", "Domain %s does not "
		    "accept mail (nullMX)", q->domain);
		return -1;
	}
	if (r->nmx == 0) {
		rdns_fail(r, RDNS_PERMFAIL, "5.4.4", "Host or domain name "
		    "not found. No valid MX host for %s", q->domain);
		return -1;
	}
	rdns_sort_mx(r->mx, r->nmx, rdns_random);
	return 0;
}

static void
rdns_mx_answer(void *arg, int err, struct ub_result *res)
{
	struct rdns_job	  *job = arg;
	struct rdns_query *q = job->q;
	size_t		   i;

	job->id = -1;
	q->pending--;
	rdns_classify(&q->route, q->domain, "MX", res ? res->rcode : 0,
	    res ? res->bogus : 0, err ? ub_strerror(err) : NULL);
	if (q->route.status == RDNS_OK) {
		q->route.sec = rdns_sec_of(res);
		(void)rdns_hosts(q, res);
	}
	if (res != NULL)
		ub_resolve_free(res);
	if (q->route.status != RDNS_OK) {
		rdns_done(q);
		return;
	}
	for (i = 0; i < q->route.nmx; i++)
		if (rdns_ask(q, 1 + 2 * i, q->route.mx[i].host,
		    RDNS_T_AAAA, rdns_addr_answer) == -1 ||
		    rdns_ask(q, 2 + 2 * i, q->route.mx[i].host, RDNS_T_A,
		    rdns_addr_answer) == -1) {
			rdns_done(q);
			return;
		}
}

/* One host's AAAA or A answer, into its list of found addresses. */
static void
rdns_take_addrs(struct rdns_mx *mx, struct rdns_found *f, int err,
    const struct ub_result *res)
{
	struct rdns_addr *a;
	size_t		 i, *n, alen;

	if (err != 0 || res->bogus || (res->rcode != 0 && res->rcode != 3)) {
		mx->tempfail = 1;
		mx->sec = res != NULL && res->bogus ? RDNS_SEC_BOGUS : mx->sec;
		return;
	}
	if (!res->secure && mx->sec == RDNS_SEC_SECURE)
		mx->sec = RDNS_SEC_INSECURE;
	alen = res->qtype == RDNS_T_A ? 4 : 16;
	a = res->qtype == RDNS_T_A ? f->v4 : f->v6;
	n = res->qtype == RDNS_T_A ? &f->n4 : &f->n6;
	for (i = 0; res->havedata && res->data[i] != NULL; i++) {
		if ((size_t)res->len[i] != alen || *n >= RELAY_DNS_ADDRS_MAX)
			continue;
		a[*n].af = alen == 4 ? AF_INET : AF_INET6;
		memcpy(a[*n].a, res->data[i], alen);
		(*n)++;
	}
}

static void
rdns_addr_answer(void *arg, int err, struct ub_result *res)
{
	struct rdns_job	  *job = arg;
	struct rdns_query *q = job->q;
	size_t		   i, k = (size_t)(job - q->job - 1) / 2;
	struct rdns_mx	  *mx;

	job->id = -1;
	q->pending--;
	rdns_take_addrs(&q->route.mx[k], &q->found[k], err, res);
	if (res != NULL)
		ub_resolve_free(res);
	if (q->pending > 0)
		return;
	for (i = 0; i < q->route.nmx; i++) {
		mx = &q->route.mx[i];
		mx->naddr = rdns_interleave(q->found[i].v4, q->found[i].n4,
		    q->found[i].v6, q->found[i].n6, q->d->conf.family,
		    mx->addr, RELAY_DNS_ADDRS_MAX);
	}
	rdns_finish(&q->route, q->domain);
	/* A smarthost is named by the admin: it may be this host. */
	if (q->route.status == RDNS_OK && !q->host_only)
		(void)rdns_drop_self(&q->route, q->domain, &q->d->conf);
	rdns_done(q);
}

/*
 * The relay's settings from the configuration; the caller adds this
 * host's addresses (the names are the configured hostname's) and keeps
 * conf alive while the context lives.
 */
void
relay_dns_conf(const struct config *conf, struct rdns_conf *c)
{
	memset(c, 0, sizeof(*c));
	if (conf->resolver_system)
		c->mode = RDNS_MODE_SYSTEM;
	else if (conf->resolver[0] != '\0')
		c->mode = RDNS_MODE_ADDR;
	(void)strlcpy(c->addr, conf->resolver, sizeof(c->addr));
	c->port = conf->resolver_port;
	if (conf->resolver_ta[0] != '\0')
		c->trust_anchor = conf->resolver_ta;
	if (strcmp(conf->relay_family, "ipv4") == 0)
		c->family = RDNS_FAMILY_IPV4;
	else if (strcmp(conf->relay_family, "ipv6") == 0)
		c->family = RDNS_FAMILY_IPV6;
	c->self_name = conf->hostname;
	c->self_names = &c->self_name;
	c->nself_names = 1;
}

static void
rdns_readable(evutil_socket_t fd, short ev, void *arg)
{
	struct relay_dns *d = arg;

	(void)fd;
	(void)ev;
	(void)ub_process(d->ub);
}

/*
 * The trust anchor, one DS or DNSKEY record a line ('#' and ';' start
 * comments), read now: the relay is chrooted before its first query.
 */
static int
rdns_trust_anchor(struct relay_dns *d, const char *path, char *err,
    size_t errlen)
{
	FILE	*fp;
	char	*line = NULL;
	size_t	 cap = 0;
	ssize_t	 len;
	int	 n = 0, r = 0;

	if ((fp = fopen(path, "r")) == NULL) {
		(void)snprintf(err, errlen, "trust anchor %s: %s", path,
		    strerror(errno));
		return -1;
	}
	while (r == 0 && (len = getline(&line, &cap, fp)) != -1) {
		line[strcspn(line, "#;\n")] = '\0';
		if (line[strspn(line, " \t")] == '\0')
			continue;
		if ((r = ub_ctx_add_ta(d->ub, line)) == 0)
			n++;
	}
	free(line);
	(void)fclose(fp);
	if (r != 0 || n == 0) {
		(void)snprintf(err, errlen, "trust anchor %s: %s", path,
		    r != 0 ? ub_strerror(r) : "no record");
		return -1;
	}
	return 0;
}

/* Forwards to the configured resolver; no root hints are used then. */
static int
rdns_setup(struct relay_dns *d, char *err, size_t errlen)
{
	char	 fwd[96];
	int	 r;

	if ((d->ub = ub_ctx_create()) == NULL) {
		(void)snprintf(err, errlen, "libunbound: no context");
		return -1;
	}
	r = ub_ctx_set_option(d->ub, "do-not-query-localhost:", "no");
	if (r == 0 && d->conf.mode == RDNS_MODE_ADDR) {
		(void)snprintf(fwd, sizeof(fwd), "%s@%u", d->conf.addr,
		    d->conf.port ? d->conf.port : 53);
		r = ub_ctx_set_fwd(d->ub, fwd);
	} else if (r == 0)
		r = ub_ctx_resolvconf(d->ub, NULL);
	if (r == 0)
		r = ub_ctx_async(d->ub, 1);
	if (r != 0) {
		(void)snprintf(err, errlen, "libunbound: %s", ub_strerror(r));
		return -1;
	}
	if (d->conf.trust_anchor != NULL &&
	    rdns_trust_anchor(d, d->conf.trust_anchor, err, errlen) == -1)
		return -1;
	d->ev = event_new(d->base, ub_fd(d->ub), EV_READ | EV_PERSIST,
	    rdns_readable, d);
	if (d->ev == NULL || event_add(d->ev, NULL) == -1) {
		(void)snprintf(err, errlen, "libunbound: no event");
		return -1;
	}
	return 0;
}

struct relay_dns *
relay_dns_new(struct event_base *base, const struct rdns_conf *conf,
    char *err, size_t errlen)
{
	struct relay_dns *d;

	if ((d = calloc(1, sizeof(*d))) == NULL) {
		(void)snprintf(err, errlen, "%s", strerror(errno));
		return NULL;
	}
	d->base = base;
	d->conf = *conf;
	TAILQ_INIT(&d->queries);
	TAILQ_INIT(&d->tlsas);
	TAILQ_INIT(&d->stss);
	if (conf->mode != RDNS_MODE_NONE && rdns_setup(d, err, errlen) == -1) {
		relay_dns_free(d);
		return NULL;
	}
	d->conf.trust_anchor = NULL;
	return d;
}

/* A new query for name, its timer not started; NULL out of memory. */
static struct rdns_query *
rdns_query_new(struct relay_dns *d, const char *name, rdns_cb cb,
    void *arg)
{
	struct rdns_query *q;
	size_t		 i;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	if ((q->timer = evtimer_new(d->base, rdns_timer, q)) == NULL) {
		free(q);
		return NULL;
	}
	q->d = d;
	q->cb = cb;
	q->arg = arg;
	(void)strlcpy(q->domain, name, sizeof(q->domain));
	for (i = 0; i < RDNS_JOBS; i++) {
		q->job[i].q = q;
		q->job[i].id = -1;
	}
	TAILQ_INSERT_TAIL(&d->queries, q, entry);
	if (d->ub == NULL)
		rdns_fail(&q->route, RDNS_TEMPFAIL, "4.4.3", "Name service "
		    "error for %s: no resolver (resolver none)", name);
	else if (strlen(name) >= sizeof(q->domain) - 1)
		rdns_fail(&q->route, RDNS_PERMFAIL, "5.1.2", "Bad destination "
		    "domain %.64s...: name too long", name);
	return q;
}

/*
 * Routes mail for a domain; cb is called once, later, from the loop
 * (never from inside this call).  -1 when out of memory.
 */
int
relay_dns_route(struct relay_dns *d, const char *domain, rdns_cb cb,
    void *arg)
{
	struct rdns_query *q;
	struct timeval	 tv = { 0, 0 };

	if ((q = rdns_query_new(d, domain, cb, arg)) == NULL)
		return -1;
	if (q->route.status == RDNS_OK &&
	    rdns_ask(q, 0, domain, RDNS_T_MX, rdns_mx_answer) == 0)
		tv.tv_sec = RELAY_DNS_ROUTE_SECS;
	(void)evtimer_add(q->timer, &tv);
	return 0;
}

/*
 * A host's addresses alone (a smarthost), as a route of one host with
 * no MX lookup: its AAAA and A in the family order, "loops back to
 * myself" not applied.  cb as relay_dns_route's.
 */
int
relay_dns_host(struct relay_dns *d, const char *host, rdns_cb cb,
    void *arg)
{
	struct rdns_query *q;
	struct timeval	 tv = { 0, 0 };

	if ((q = rdns_query_new(d, host, cb, arg)) == NULL)
		return -1;
	q->host_only = 1;
	if (q->route.status == RDNS_OK) {
		q->route.implicit = 1;
		rdns_keep_mx(&q->route, host, 0);
		if (rdns_ask(q, 1, host, RDNS_T_AAAA, rdns_addr_answer) == 0 &&
		    rdns_ask(q, 2, host, RDNS_T_A, rdns_addr_answer) == 0)
			tv.tv_sec = RELAY_DNS_ROUTE_SECS;
	}
	(void)evtimer_add(q->timer, &tv);
	return 0;
}

/* Drops every query unanswered (no callback) and the context. */
void
relay_dns_free(struct relay_dns *d)
{
	struct rdns_query *q;
	size_t		 i;

	relay_dns_tlsa_free_all(d);
	relay_dns_sts_free_all(d);
	while ((q = TAILQ_FIRST(&d->queries)) != NULL) {
		for (i = 0; i < RDNS_JOBS; i++)
			if (q->job[i].id != -1)
				(void)ub_cancel(d->ub, q->job[i].id);
		TAILQ_REMOVE(&d->queries, q, entry);
		event_free(q->timer);
		free(q);
	}
	if (d->ev != NULL)
		event_free(d->ev);
	if (d->ub != NULL)
		ub_ctx_delete(d->ub);
	free(d);
}
