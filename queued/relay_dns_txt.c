/*
 * MTA-STS lookups (RFC 8461 3.1): the TXT record at _mta-sts.DOMAIN,
 * and the addresses of mta-sts.DOMAIN, which the relay-sts helper
 * connects to (it has no resolver of its own).  Three queries at once
 * on the relay's libunbound context; one callback.  No record, NXDOMAIN
 * or several STSv1 records all mean "no policy announced" (3.1); a
 * failed TXT lookup is a temporary failure, after which the relay uses
 * what it has cached (5.1).
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unbound.h>

#include "relay_dns.h"
#include "relay_dns_int.h"
#include "relay_sts.h"

#define RDNS_T_A	1
#define RDNS_T_TXT	16
#define RDNS_T_AAAA	28

enum { STS_JOB_TXT, STS_JOB_A, STS_JOB_AAAA, STS_JOBS };

struct rdns_sts_query;

struct rdns_sts_job {
	struct rdns_sts_query	*q;
	int			 id;		/* libunbound's; -1: none */
};

struct rdns_sts_query {
	TAILQ_ENTRY(rdns_sts_query) entry;
	struct relay_dns	*d;
	char			 txtname[RELAY_DNS_NAME_MAX + 16];
	rdns_sts_cb		 cb;
	void			*arg;
	struct event		*timer;
	int			 pending;
	struct rdns_sts_job	 job[STS_JOBS];
	struct rdns_sts		 sts;
};

/*
 * A TXT record's character-strings (RFC 1035 3.3.14) joined, as RFC
 * 8461 3.1 reads them.  Returns the length, or -1 when malformed or
 * longer than outlen - 1.
 */
int
rdns_txt_join(const uint8_t *p, size_t len, char *out, size_t outlen)
{
	size_t	 i = 0, n = 0, l;

	while (i < len) {
		l = p[i++];
		if (l > len - i || l >= outlen - n)
			return -1;
		memcpy(out + n, p + i, l);
		n += l;
		i += l;
	}
	out[n] = '\0';
	return (int)n;
}

/* RFC 8461 3.1: exactly one STSv1 record, valid, or no policy. */
static void
rdns_sts_pick(struct rdns_sts *s, const struct ub_result *res)
{
	char		 txt[RELAY_STS_LINE_MAX_BYTES], id[RELAY_STS_ID_MAX + 1];
	const char	*err = NULL;
	size_t		 i, nsts = 0;
	int		 len, r = -1;

	for (i = 0; res->havedata && res->data[i] != NULL; i++) {
		if ((len = rdns_txt_join((const uint8_t *)res->data[i],
		    (size_t)res->len[i], txt, sizeof(txt))) == -1)
			continue;
		if ((r = relay_sts_txt_parse(txt, (size_t)len, id,
		    &err)) == 1)
			continue;
		if (++nsts == 1 && r == 0)
			(void)strlcpy(s->id, id, sizeof(s->id));
		else
			s->id[0] = '\0';
	}
	if (nsts == 1 && s->id[0] != '\0')
		s->found = 1;
	else if (nsts > 1)
		(void)strlcpy(s->why, "more than one STSv1 record",
		    sizeof(s->why));
	else if (nsts == 1)
		(void)snprintf(s->why, sizeof(s->why), "bad record: %s", err);
	else
		(void)strlcpy(s->why, "no STSv1 record", sizeof(s->why));
}

static void
rdns_sts_done(struct rdns_sts_query *q)
{
	size_t	 i;

	for (i = 0; i < STS_JOBS; i++)
		if (q->job[i].id != -1)
			(void)ub_cancel(q->d->ub, q->job[i].id);
	TAILQ_REMOVE(&q->d->stss, q, entry);
	event_free(q->timer);
	q->cb(&q->sts, q->arg);
	free(q);
}

static void
rdns_sts_timer(evutil_socket_t fd, short ev, void *arg)
{
	struct rdns_sts_query *q = arg;

	(void)fd;
	(void)ev;
	if (q->sts.why[0] == '\0' && q->job[STS_JOB_TXT].id != -1) {
		q->sts.status = RDNS_TEMPFAIL;
		(void)snprintf(q->sts.why, sizeof(q->sts.why), "no answer "
		    "for %.200s within %d seconds", q->txtname,
		    RELAY_DNS_ROUTE_SECS);
	}
	rdns_sts_done(q);
}

static void
rdns_sts_addr(struct rdns_sts *s, const struct ub_result *res, int af)
{
	size_t	 i, alen = af == AF_INET ? 4 : 16;

	for (i = 0; res->havedata && res->data[i] != NULL &&
	    s->naddr < RELAY_DNS_ADDRS_MAX; i++) {
		if ((size_t)res->len[i] != alen)
			continue;
		s->addr[s->naddr].af = af;
		memcpy(s->addr[s->naddr].a, res->data[i], alen);
		s->naddr++;
	}
}

static void
rdns_sts_answer(void *arg, int err, struct ub_result *res)
{
	struct rdns_sts_job *j = arg;
	struct rdns_sts_query *q = j->q;
	struct rdns_route r;

	j->id = -1;
	if (j == &q->job[STS_JOB_TXT]) {
		memset(&r, 0, sizeof(r));
		rdns_classify(&r, q->txtname, "TXT", res && res->rcode != 3 ?
		    res->rcode : 0, res ? res->bogus : 0, err ?
		    ub_strerror(err) : NULL);
		q->sts.status = r.status;
		if (r.status == RDNS_OK)
			rdns_sts_pick(&q->sts, res);
		else
			(void)strlcpy(q->sts.why, r.text, sizeof(q->sts.why));
	} else if (err == 0 && res != NULL && res->rcode == 0 && !res->bogus)
		rdns_sts_addr(&q->sts, res, j == &q->job[STS_JOB_A] ?
		    AF_INET : AF_INET6);
	if (res != NULL)
		ub_resolve_free(res);
	if (--q->pending == 0)
		rdns_sts_done(q);
}

static int
rdns_sts_ask(struct rdns_sts_query *q, int k, const char *name, int type)
{
	if (ub_resolve_async(q->d->ub, name, type, RDNS_C_IN, &q->job[k],
	    rdns_sts_answer, &q->job[k].id) != 0)
		return -1;
	q->pending++;
	return 0;
}

/*
 * Asks for DOMAIN's MTA-STS record and the addresses of mta-sts.DOMAIN;
 * cb is called once, later, from the loop.  -1 when out of memory.
 */
int
relay_dns_sts(struct relay_dns *d, const char *domain, rdns_sts_cb cb,
    void *arg)
{
	struct rdns_sts_query *q;
	struct timeval	 tv = { 0, 0 };
	char		 host[RELAY_DNS_NAME_MAX + 16];
	int		 k;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return -1;
	if ((q->timer = evtimer_new(d->base, rdns_sts_timer, q)) == NULL) {
		free(q);
		return -1;
	}
	q->d = d;
	q->cb = cb;
	q->arg = arg;
	for (k = 0; k < STS_JOBS; k++) {
		q->job[k].q = q;
		q->job[k].id = -1;
	}
	q->sts.status = RDNS_TEMPFAIL;
	(void)snprintf(q->txtname, sizeof(q->txtname), "_mta-sts.%s", domain);
	(void)snprintf(host, sizeof(host), "mta-sts.%s", domain);
	(void)strlcpy(q->sts.host, host, sizeof(q->sts.host));
	TAILQ_INSERT_TAIL(&d->stss, q, entry);
	if (d->ub == NULL)
		(void)strlcpy(q->sts.why, "no resolver (resolver none)",
		    sizeof(q->sts.why));
	else if (strlen(domain) >= RELAY_DNS_NAME_MAX - 16 ||
	    rdns_sts_ask(q, STS_JOB_TXT, q->txtname, RDNS_T_TXT) == -1 ||
	    rdns_sts_ask(q, STS_JOB_A, host, RDNS_T_A) == -1 ||
	    rdns_sts_ask(q, STS_JOB_AAAA, host, RDNS_T_AAAA) == -1)
		(void)snprintf(q->sts.why, sizeof(q->sts.why), "cannot ask "
		    "for %.200s", q->txtname);
	else
		tv.tv_sec = RELAY_DNS_ROUTE_SECS;
	(void)evtimer_add(q->timer, &tv);
	return 0;
}

/* Drops every unanswered MTA-STS query, without calling back. */
void
relay_dns_sts_free_all(struct relay_dns *d)
{
	struct rdns_sts_query *q;
	int		 k;

	while ((q = TAILQ_FIRST(&d->stss)) != NULL) {
		for (k = 0; k < STS_JOBS; k++)
			if (q->job[k].id != -1)
				(void)ub_cancel(d->ub, q->job[k].id);
		TAILQ_REMOVE(&d->stss, q, entry);
		event_free(q->timer);
		free(q);
	}
}
