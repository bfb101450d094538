/*
 * TLSA lookups for DANE (RFC 7672 section 2.2): _PORT._tcp.HOST, through
 * the relay's libunbound context; the answer's DNSSEC status tells the
 * SMTP client whether the records may be used.  No records (NXDOMAIN or
 * no data) is a fine answer; SERVFAIL, a resolver error and a bogus
 * answer fail for now, as for the route.
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unbound.h>

#include "relay_dns.h"
#include "relay_dns_int.h"

#define RDNS_T_TLSA	52

struct rdns_tlsa_query {
	TAILQ_ENTRY(rdns_tlsa_query) entry;
	struct relay_dns	*d;
	char			 name[RELAY_DNS_NAME_MAX + 16];
	rdns_tlsa_cb		 cb;
	void			*arg;
	struct event		*timer;
	int			 id;		/* libunbound's; -1: none */
	struct rdns_tlsa	 tlsa;
};

/* One record's rdata: usage, selector, matching type, association. */
int
rdns_tlsa_parse(const uint8_t *p, size_t len, struct rdns_tlsa_rr *rr)
{
	if (len < 4 || len - 3 > sizeof(rr->data))
		return -1;
	rr->usage = p[0];
	rr->selector = p[1];
	rr->mtype = p[2];
	rr->len = len - 3;
	memcpy(rr->data, p + 3, rr->len);
	return 0;
}

static void
rdns_tlsa_fail(struct rdns_tlsa *tl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Fails for now (4.4.3), with a text for the log. */
static void
rdns_tlsa_fail(struct rdns_tlsa *tl, const char *fmt, ...)
{
	va_list	 ap;

	tl->status = RDNS_TEMPFAIL;
	tl->enhanced = "4.4.3";
	va_start(ap, fmt);
	(void)vsnprintf(tl->text, sizeof(tl->text), fmt, ap);
	va_end(ap);
}

static void
rdns_tlsa_done(struct rdns_tlsa_query *t)
{
	if (t->id != -1)
		(void)ub_cancel(t->d->ub, t->id);
	TAILQ_REMOVE(&t->d->tlsas, t, entry);
	event_free(t->timer);
	t->cb(&t->tlsa, t->arg);
	free(t);
}

static void
rdns_tlsa_timer(evutil_socket_t fd, short ev, void *arg)
{
	struct rdns_tlsa_query *t = arg;

	(void)fd;
	(void)ev;
	if (t->d->ub != NULL)
		rdns_tlsa_fail(&t->tlsa, "Name service error for name=%s "
		    "type=TLSA: no answer within %d seconds, try again",
		    t->name, RELAY_DNS_ROUTE_SECS);
	rdns_tlsa_done(t);
}

static void
rdns_tlsa_answer(void *arg, int err, struct ub_result *res)
{
	struct rdns_tlsa_query *t = arg;
	struct rdns_route r;
	size_t		 i;

	t->id = -1;
	memset(&r, 0, sizeof(r));
	rdns_classify(&r, t->name, "TLSA", res && res->rcode != 3 ?
	    res->rcode : 0, res ? res->bogus : 0, err ? ub_strerror(err) :
	    NULL);
	t->tlsa.status = r.status;
	t->tlsa.enhanced = r.enhanced;
	(void)strlcpy(t->tlsa.text, r.text, sizeof(t->tlsa.text));
	if (r.status == RDNS_OK) {
		t->tlsa.sec = rdns_sec_of(res);
		for (i = 0; res->havedata && res->data[i] != NULL &&
		    t->tlsa.n < RELAY_DNS_TLSA_MAX; i++)
			if (rdns_tlsa_parse((const uint8_t *)res->data[i],
			    (size_t)res->len[i], &t->tlsa.rr[t->tlsa.n]) == 0)
				t->tlsa.n++;
	}
	if (res != NULL)
		ub_resolve_free(res);
	rdns_tlsa_done(t);
}

/*
 * Asks for HOST's TLSA records at PORT; cb is called once, later, from
 * the loop.  -1 when out of memory.
 */
int
relay_dns_tlsa(struct relay_dns *d, const char *host, uint16_t port,
    rdns_tlsa_cb cb, void *arg)
{
	struct rdns_tlsa_query *t;
	struct timeval	 tv = { 0, 0 };
	int		 r;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -1;
	if ((t->timer = evtimer_new(d->base, rdns_tlsa_timer, t)) == NULL) {
		free(t);
		return -1;
	}
	t->d = d;
	t->cb = cb;
	t->arg = arg;
	t->id = -1;
	(void)snprintf(t->name, sizeof(t->name), "_%u._tcp.%s", port, host);
	TAILQ_INSERT_TAIL(&d->tlsas, t, entry);
	if (d->ub == NULL)
		rdns_tlsa_fail(&t->tlsa, "Name service error for %s: no "
		    "resolver (resolver none)", host);
	else if ((r = ub_resolve_async(d->ub, t->name, RDNS_T_TLSA,
	    RDNS_C_IN, t, rdns_tlsa_answer, &t->id)) != 0)
		rdns_tlsa_fail(&t->tlsa, "Name service error for name=%s: %s",
		    t->name, ub_strerror(r));
	else
		tv.tv_sec = RELAY_DNS_ROUTE_SECS;
	(void)evtimer_add(t->timer, &tv);
	return 0;
}

/* Drops every unanswered TLSA query, without calling back. */
void
relay_dns_tlsa_free_all(struct relay_dns *d)
{
	struct rdns_tlsa_query *t;

	while ((t = TAILQ_FIRST(&d->tlsas)) != NULL) {
		if (t->id != -1)
			(void)ub_cancel(d->ub, t->id);
		TAILQ_REMOVE(&d->tlsas, t, entry);
		event_free(t->timer);
		free(t);
	}
}
