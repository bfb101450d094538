/*
 * The relay's side of MTA-STS (RFC 8461 5.1): for a domain, the TXT
 * record and the cache decide whether the policy in hand applies, or a
 * new one must be fetched by the relay-sts helper.  A policy fetched is
 * parsed again here (the helper is not trusted more than the web) and
 * cached until its max_age; a failed fetch or lookup leaves the cached
 * policy in force, and without one, no MTA-STS (5.1: the sender
 * proceeds as if the domain had none).  Runs in the relay.
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ipc.h"
#include "log.h"
#include "proto.h"
#include "relay_sts_helper.h"

struct sts_req {
	TAILQ_ENTRY(sts_req)	 entry;
	struct relay_sts	*s;
	char			 domain[RELAY_DNS_NAME_MAX];
	char			 id[RELAY_STS_ID_MAX + 1];
	relay_sts_cb		 cb;
	void			*arg;
	uint32_t		 reqid;		/* 0: not sent to the helper */
};

struct relay_sts {
	struct event_base	*base;
	struct relay_dns	*dns;
	struct relay_sts_cache	*cache;
	struct ipc_conn		*helper;	/* NULL: none, or gone */
	TAILQ_HEAD(, sts_req)	 reqs;		/* asking the DNS */
	TAILQ_HEAD(, sts_req)	 fetching;	/* waiting for the helper */
	size_t			 nfetching;
	uint32_t		 nextid;
};

/* Answers with the cached policy, if any, and forgets the request. */
static void
sts_finish(struct sts_req *q, struct relay_sts_result *res,
    const char *note)
{
	const char	*cid;

	if (res->policy == NULL) {
		res->policy = relay_sts_cache_get(q->s->cache, q->domain,
		    time(NULL), &cid);
		res->source = res->policy != NULL ? "cache" : "none";
		if (res->policy != NULL)
			(void)strlcpy(res->id, cid, sizeof(res->id));
	}
	if (note != NULL)
		(void)strlcpy(res->note, note, sizeof(res->note));
	q->cb(res, q->arg);
	free(q);
}

static void
sts_fetch(struct sts_req *q, const struct rdns_sts *a)
{
	struct relay_sts	*s = q->s;
	struct relay_sts_result	 res;
	static struct ipc_out	 o;

	memset(&res, 0, sizeof(res));
	if (s->helper == NULL) {
		sts_finish(q, &res, "no relay-sts helper");
		return;
	}
	if (a->naddr == 0) {
		(void)snprintf(res.note, sizeof(res.note), "no address for %.200s",
		    a->host);
		sts_finish(q, &res, NULL);
		return;
	}
	if (s->nfetching == RELAY_STS_FETCH_QUEUE_MAX) {
		sts_finish(q, &res, "too many policy fetches waiting");
		return;
	}
	if (++s->nextid == 0)
		s->nextid = 1;
	q->reqid = s->nextid;
	relay_sts_req_put(&o, q->reqid, q->domain, q->id, a->addr, a->naddr);
	if (ipc_conn_send(s->helper, &o, -1) == -1) {
		sts_finish(q, &res, "cannot ask the relay-sts helper");
		return;
	}
	TAILQ_INSERT_TAIL(&s->fetching, q, entry);
	s->nfetching++;
}

static void
sts_dns_answer(const struct rdns_sts *a, void *arg)
{
	struct sts_req		*q = arg;
	struct relay_sts_result	 res;
	const char		*cid;

	TAILQ_REMOVE(&q->s->reqs, q, entry);
	memset(&res, 0, sizeof(res));
	if (a->status != RDNS_OK || !a->found) {
		sts_finish(q, &res, a->why);
		return;
	}
	(void)strlcpy(q->id, a->id, sizeof(q->id));
	/* RFC 8461 5.1: the same id, the same policy. */
	if ((res.policy = relay_sts_cache_get(q->s->cache, q->domain,
	    time(NULL), &cid)) != NULL && strcmp(cid, a->id) == 0) {
		res.source = "cache";
		(void)strlcpy(res.id, cid, sizeof(res.id));
		sts_finish(q, &res, NULL);
		return;
	}
	sts_fetch(q, a);
}

int
relay_sts_lookup(struct relay_sts *s, const char *domain, relay_sts_cb cb,
    void *arg)
{
	struct sts_req	*q;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return -1;
	q->s = s;
	q->cb = cb;
	q->arg = arg;
	(void)strlcpy(q->domain, domain, sizeof(q->domain));
	TAILQ_INSERT_TAIL(&s->reqs, q, entry);
	if (relay_dns_sts(s->dns, domain, sts_dns_answer, q) == -1) {
		TAILQ_REMOVE(&s->reqs, q, entry);
		free(q);
		return -1;
	}
	return 0;
}

/* The helper's answer: the policy printed, parsed again here. */
static void
sts_policy(struct relay_sts *s, struct sts_req *q, uint32_t result,
    const char *text)
{
	struct relay_sts_result	 res;
	struct relay_sts_policy	 p;
	const char		*err;

	memset(&res, 0, sizeof(res));
	if (result != RESULT_OK) {
		sts_finish(q, &res, text);
		return;
	}
	if (relay_sts_policy_parse(text, strlen(text), &p, &err) == -1) {
		log_warnx("- relay sts-helper-bad-policy domain=%s error=\"%s\"",
		    q->domain, err);
		sts_finish(q, &res, "the helper's policy does not parse");
		return;
	}
	if (relay_sts_cache_put(s->cache, q->domain, q->id, &p,
	    time(NULL)) == -1) {
		sts_finish(q, &res, "out of memory");
		return;
	}
	res.policy = relay_sts_cache_get(s->cache, q->domain, time(NULL),
	    NULL);
	res.source = "fetch";
	(void)strlcpy(res.id, q->id, sizeof(res.id));
	sts_finish(q, &res, NULL);
}

static void
sts_dispatch(struct ipc_conn *c, struct ipc_msg *m, void *arg)
{
	static char		 text[RELAY_STS_PRINT_MAX_BYTES];
	struct relay_sts	*s = arg;
	struct sts_req		*q;
	uint32_t		 result;

	if (m->hdr.type != MSG_RELAY_STS_POLICY || m->fd != -1 ||
	    ipc_get_u32(m, &result) == -1 ||
	    (result != RESULT_OK && result != RESULT_TEMPFAIL) ||
	    ipc_get_str(m, text, sizeof(text)) == -1 ||
	    ipc_get_end(m) == -1) {
		ipc_conn_close(c, "bad message from relay-sts");
		return;
	}
	TAILQ_FOREACH(q, &s->fetching, entry)
		if (q->reqid == m->hdr.peerid)
			break;
	if (q == NULL) {
		ipc_conn_close(c, "relay-sts answers no request");
		return;
	}
	TAILQ_REMOVE(&s->fetching, q, entry);
	s->nfetching--;
	sts_policy(s, q, result, text);
}

/* The helper is gone: what was asked of it falls back to the cache. */
static void
sts_closed(struct ipc_conn *c, void *arg)
{
	struct relay_sts	*s = arg;
	struct relay_sts_result	 res;
	struct sts_req		*q;

	if (c != NULL)
		log_warnx("- relay sts-helper-gone waiting=%zu",
		    s->nfetching);
	ipc_conn_free(s->helper);
	s->helper = NULL;
	while ((q = TAILQ_FIRST(&s->fetching)) != NULL) {
		TAILQ_REMOVE(&s->fetching, q, entry);
		s->nfetching--;
		memset(&res, 0, sizeof(res));
		sts_finish(q, &res, "the relay-sts helper is gone");
	}
}

/* A (new) helper, at its every start: what the old one had falls back. */
int
relay_sts_set_helper(struct relay_sts *s, int fd)
{
	if (s->helper != NULL)
		sts_closed(NULL, s);
	s->helper = ipc_conn_new(s->base, fd, ROLE_RELAY,
	    ROLE_BIT(ROLE_RELAY_STS), sts_dispatch, sts_closed, s);
	return s->helper == NULL ? -1 : 0;
}

struct relay_sts *
relay_sts_new(struct event_base *base, struct relay_dns *dns, int helperfd)
{
	struct relay_sts	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->base = base;
	s->dns = dns;
	TAILQ_INIT(&s->reqs);
	TAILQ_INIT(&s->fetching);
	if ((s->cache = relay_sts_cache_new(RELAY_STS_CACHE_MAX)) == NULL ||
	    (helperfd != -1 && (s->helper = ipc_conn_new(base, helperfd,
	    ROLE_RELAY, ROLE_BIT(ROLE_RELAY_STS), sts_dispatch, sts_closed,
	    s)) == NULL)) {
		relay_sts_cache_free(s->cache);
		free(s);
		return NULL;
	}
	return s;
}

/*
 * Frees everything without calling back; the DNS queries of pending
 * lookups must be gone first (relay_dns_free).
 */
void
relay_sts_free(struct relay_sts *s)
{
	struct sts_req	*q;

	if (s == NULL)
		return;
	while ((q = TAILQ_FIRST(&s->fetching)) != NULL) {
		TAILQ_REMOVE(&s->fetching, q, entry);
		free(q);
	}
	while ((q = TAILQ_FIRST(&s->reqs)) != NULL) {
		TAILQ_REMOVE(&s->reqs, q, entry);
		free(q);
	}
	ipc_conn_free(s->helper);
	relay_sts_cache_free(s->cache);
	free(s);
}
