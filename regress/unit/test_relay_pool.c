/*
 * queued/relay_route.c: the relay's pure choices.
 * The route of a domain (its rule, the default one, or by MX) and the
 * destination key that pools connections; the backoff of a failed
 * destination; a result's RFC 3463 status; xtext; settling a batch;
 * the secrets file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "../../queued/relay.h"
#include "proto.h"

static struct config *
conf_new(void)
{
	char		 err[256];
	const char	*text = "hostname \"mx.example.test\"\n";
	struct config	*c = config_parse("test", text, strlen(text), err,
			    sizeof(err));

	cr_assert_not_null(c, "%s", err);
	return c;
}

static struct relay_route *
route_add(struct config *c, const char *domain, const char *host,
    uint16_t port)
{
	struct relay_route	*r = calloc(1, sizeof(*r));

	cr_assert_not_null(r);
	(void)strlcpy(r->domain, domain, sizeof(r->domain));
	if (host != NULL) {
		r->via_host = 1;
		(void)strlcpy(r->host, host, sizeof(r->host));
	}
	r->port = port;
	TAILQ_INSERT_TAIL(&c->relay_routes, r, entry);
	return r;
}

Test(relay_pool, mx_by_default)
{
	struct config		*c = conf_new();
	struct relay_target	 t;
	char			 err[128];

	cr_assert_eq(relay_target_pick(c, "Example.ORG", &t, err,
	    sizeof(err)), 0);
	cr_assert_str_eq(t.key, "example.org");
	cr_assert_str_eq(t.domain, "example.org");
	cr_assert_eq(t.via_host, 0);
	cr_assert_eq(t.port, 25);
	cr_assert_eq(t.tls, RELAY_TLS_OPPORTUNISTIC);
	cr_assert_str_eq(t.helo, "mx.example.test");
	cr_assert_null(t.ca_file);
	cr_assert_eq(relay_target_pick(c, "", &t, err, sizeof(err)), -1);
	config_free(c);
}

Test(relay_pool, rule_then_default)
{
	struct config		*c = conf_new();
	struct relay_route	*r;
	struct relay_target	 t, u;
	char			 err[128];

	r = route_add(c, "", "192.0.2.1", 587);
	r->tls = ROUTE_TLS_VERIFY;
	(void)strlcpy(r->helo, "out.example.test", sizeof(r->helo));
	(void)strlcpy(r->ca_file, "/tmp/ca.pem", sizeof(r->ca_file));
	r = route_add(c, "direct.example", NULL, 0);
	r->tls = ROUTE_TLS_NONE;
	(void)strlcpy(r->source, "192.0.2.9", sizeof(r->source));
	r = route_add(c, "v6.example", "2001:db8::1", 0);
	r->smtps = 1;
	r->port = 465;

	/* The default rule: a smarthost shared by every domain. */
	cr_assert_eq(relay_target_pick(c, "a.example", &t, err, sizeof(err)),
	    0);
	cr_assert_eq(relay_target_pick(c, "b.example", &u, err, sizeof(err)),
	    0);
	cr_assert_str_eq(t.key, "192.0.2.1:587");
	cr_assert_str_eq(u.key, t.key);
	cr_assert(t.via_host && t.numeric);
	cr_assert_eq(t.tls, RELAY_TLS_VERIFY);
	cr_assert_str_eq(t.helo, "out.example.test");
	cr_assert_str_eq(t.ca_file, "/tmp/ca.pem");

	/* A rule of its own, by MX. */
	cr_assert_eq(relay_target_pick(c, "DIRECT.example", &t, err,
	    sizeof(err)), 0);
	cr_assert_str_eq(t.key, "direct.example");
	cr_assert_eq(t.via_host, 0);
	cr_assert_eq(t.tls, RELAY_TLS_NONE);
	cr_assert_str_eq(t.source, "192.0.2.9");
	cr_assert_str_eq(t.helo, "mx.example.test");

	/* IPv6 in brackets; implicit TLS is at least "require". */
	cr_assert_eq(relay_target_pick(c, "v6.example", &t, err, sizeof(err)),
	    0);
	cr_assert_str_eq(t.key, "[2001:db8::1]:465");
	cr_assert(t.smtps);
	cr_assert_eq(t.tls, RELAY_TLS_REQUIRE);
	config_free(c);
}

Test(relay_pool, smarthost_by_name_not_numeric)
{
	struct config		*c = conf_new();
	struct relay_target	 t;
	char			 err[128];

	route_add(c, "", "smart.example.net", 0);
	cr_assert_eq(relay_target_pick(c, "x.example", &t, err, sizeof(err)),
	    0);
	cr_assert_str_eq(t.key, "smart.example.net:25");
	cr_assert_eq(t.numeric, 0);
	config_free(c);
}

Test(relay_pool, backoff_doubles_to_max)
{
	uint32_t	 b = 0, seen[8];
	size_t		 i;

	for (i = 0; i < 8; i++)
		seen[i] = b = relay_backoff_next(b, 60, 1800);
	cr_assert_eq(seen[0], 60);
	cr_assert_eq(seen[1], 120);
	cr_assert_eq(seen[2], 240);
	cr_assert_eq(seen[4], 960);
	cr_assert_eq(seen[5], 1800);
	cr_assert_eq(seen[7], 1800);
	/* A first backoff above the maximum is the maximum. */
	cr_assert_eq(relay_backoff_next(0, 600, 300), 300);
	cr_assert_eq(relay_backoff_next(0, 0, 300), 1);
}

Test(relay_pool, status_of_a_reply)
{
	static const struct {
		const char	*reply;
		uint32_t	 result;
		const char	*status;
	} cases[] = {
		{ "250 2.1.5 ok", RESULT_OK, "2.1.5" },
		{ "250 ok", RESULT_OK, "2.0.0" },
		{ "550 5.1.1 no such user", RESULT_PERMFAIL, "5.1.1" },
		{ "550 no such user", RESULT_PERMFAIL, "5.0.0" },
		{ "451 4.7.1 greylisted", RESULT_TEMPFAIL, "4.7.1" },
		/* A code of the wrong class is not taken. */
		{ "450 5.1.1 odd", RESULT_TEMPFAIL, "4.0.0" },
		{ "550 5.7.123 three digits", RESULT_PERMFAIL, "5.7.123" },
		{ "connection lost", RESULT_TEMPFAIL, "4.4.1" },
		{ "", RESULT_PERMFAIL, "5.0.0" },
	};
	char	 st[16];
	size_t	 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		relay_status_of(cases[i].reply, cases[i].result, st,
		    sizeof(st));
		cr_assert_str_eq(st, cases[i].status, "%s", cases[i].reply);
	}
}

Test(relay_pool, xtext)
{
	char	 buf[32];

	cr_assert_eq(relay_xtext("a+b=c d", buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "a+2Bb+3Dc+20d");
	cr_assert_eq(relay_xtext("", buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "");
	cr_assert_eq(relay_xtext("\xc3\xa9", buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "+C3+A9");
	/* Too long for the buffer: refused, never cut. */
	cr_assert_eq(relay_xtext("+++", buf, 9), -1);
	cr_assert_eq(relay_xtext("+++", buf, 10), 0);
}

Test(relay_pool, settle_leaves_results_given)
{
	struct relay_batch	 b;
	struct relay_brcpt	 r[3];

	memset(&b, 0, sizeof(b));
	memset(r, 0, sizeof(r));
	b.rcpts = r;
	b.nrcpt = 3;
	r[1].done = 1;
	r[1].result = RESULT_OK;
	(void)strlcpy(r[1].status, "2.0.0", sizeof(r[1].status));
	relay_batch_settle(&b, RESULT_TEMPFAIL, NULL, "mx[192.0.2.1]:25",
	    "421 4.3.2 going down");
	cr_assert(r[0].done && r[2].done);
	cr_assert_eq(r[0].result, RESULT_TEMPFAIL);
	cr_assert_str_eq(r[0].status, "4.3.2");
	cr_assert_str_eq(r[2].remote, "mx[192.0.2.1]:25");
	cr_assert_str_eq(r[2].diag, "421 4.3.2 going down");
	cr_assert_eq(r[1].result, RESULT_OK);
	cr_assert_str_eq(r[1].status, "2.0.0");
	relay_batch_settle(&b, RESULT_PERMFAIL, "5.1.10", "", "null MX");
	cr_assert_eq(r[0].result, RESULT_TEMPFAIL, "settled twice");
}

static struct relay_batch *
batch_new(const char *msgid, uint32_t peerid, size_t n, const char *first)
{
	struct relay_batch	*b = calloc(1, sizeof(*b));
	size_t			 i;

	cr_assert_not_null(b);
	b->fd = -1;
	TAILQ_INIT(&b->merged);
	(void)strlcpy(b->msgid, msgid, sizeof(b->msgid));
	(void)strlcpy(b->domain, "x.example", sizeof(b->domain));
	b->peerid = peerid;
	b->rcpts = calloc(n, sizeof(*b->rcpts));
	b->mrcpts = calloc(n, sizeof(*b->mrcpts));
	cr_assert(b->rcpts != NULL && b->mrcpts != NULL);
	b->nrcpt = b->own = n;
	for (i = 0; i < n; i++) {
		(void)snprintf(b->rcpts[i].rcpt, sizeof(b->rcpts[i].rcpt),
		    "%c%zu@x.example", first[0], i);
		(void)snprintf(b->rcpts[i].evpid, sizeof(b->rcpts[i].evpid),
		    "%s.%c%zu", msgid, first[0], i);
		b->mrcpts[i].addr = b->rcpts[i].rcpt;
	}
	b->msg.rcpts = b->mrcpts;
	b->msg.nrcpts = n;
	return b;
}

static struct relay_batch *split_seen[4];
static size_t nsplit_seen;

static void
split_done(struct relay_batch *x)
{
	split_seen[nsplit_seen++] = x;
}

Test(relay_pool, merge_and_split)
{
	struct relay_batch	*b = batch_new("m1", 1, 2, "a");
	struct relay_batch	*x = batch_new("m1", 2, 1, "b");
	struct relay_batch	*y = batch_new("m1", 3, 2, "c");
	struct relay_batch	*other = batch_new("m2", 4, 1, "d");

	cr_assert(relay_batch_mergeable(b, x, 100));
	cr_assert_not(relay_batch_mergeable(b, other, 100), "another msg");
	cr_assert_not(relay_batch_mergeable(b, y, 3), "past the limit");
	relay_batch_merge(b, x);
	cr_assert(relay_batch_mergeable(b, y, 5));
	relay_batch_merge(b, y);
	cr_assert_eq(b->msg.nrcpts, 5);
	/* relay_smtp's view points into the moved array. */
	cr_assert_str_eq(b->mrcpts[0].addr, "a0@x.example");
	cr_assert_str_eq(b->mrcpts[2].addr, "b0@x.example");
	cr_assert_str_eq(b->mrcpts[4].addr, "c1@x.example");
	cr_assert_eq(b->mrcpts[4].addr, b->rcpts[4].rcpt);
	/* Results, then each batch gets its own back. */
	relay_batch_settle(b, RESULT_OK, "2.0.0", "mx", "250 ok");
	b->rcpts[3].result = RESULT_PERMFAIL;
	relay_batch_split(b, split_done);
	cr_assert_eq(nsplit_seen, 2);
	cr_assert_eq(split_seen[0], x);
	cr_assert_eq(split_seen[1], y);
	cr_assert_eq(b->nrcpt, 2);
	cr_assert_eq(x->rcpts[0].result, RESULT_OK);
	cr_assert_str_eq(x->rcpts[0].evpid, "m1.b0");
	cr_assert_eq(y->rcpts[0].result, RESULT_PERMFAIL);
	cr_assert_str_eq(y->rcpts[1].evpid, "m1.c1");
	cr_assert(TAILQ_EMPTY(&b->merged));
	relay_batch_free(b);
	relay_batch_free(x);
	relay_batch_free(y);
	relay_batch_free(other);
}
