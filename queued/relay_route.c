/*
 * The relay's pure choices (no I/O, unit-tested in
 * regress/unit/test_relay_pool.c): which route a domain's mail takes
 * and under which destination key it is pooled, how long a failed
 * destination is backed off, a result's RFC 3463 status, xtext for the
 * DSN parameters, and settling a batch's recipients.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "proto.h"
#include "relay.h"

static const char *const relay_counter_names[RC_MAX] = {
	[RC_CONNECTIONS] = "connections",
	[RC_CONNECT_FAILED] = "connect_failed",
	[RC_REUSED] = "reused",
	[RC_TLS] = "tls",
	[RC_TLS_VERIFIED] = "tls_verified",
	[RC_DANE] = "dane",
	[RC_MESSAGES] = "messages",
	[RC_RELAYED] = "relayed",
	[RC_DEFERRED] = "deferred",
	[RC_BOUNCED] = "bounced",
	[RC_BACKOFF] = "backoff",
	[RC_STS_ENFORCED] = "sts_enforced",
	[RC_STS_REFUSED] = "sts_refused",
};

const char *
relay_counter_name(enum relay_counter c)
{
	return relay_counter_names[c];
}

static enum relay_tls_policy
relay_tls_of(enum route_tls t)
{
	switch (t) {
	case ROUTE_TLS_NONE:
		return RELAY_TLS_NONE;
	case ROUTE_TLS_REQUIRE:
		return RELAY_TLS_REQUIRE;
	case ROUTE_TLS_VERIFY:
		return RELAY_TLS_VERIFY;
	case ROUTE_TLS_OPPORTUNISTIC:
	default:
		return RELAY_TLS_OPPORTUNISTIC;
	}
}

static int
relay_is_numeric(const char *host)
{
	struct in6_addr	 a6;
	struct in_addr	 a4;

	return inet_pton(AF_INET, host, &a4) == 1 ||
	    inet_pton(AF_INET6, host, &a6) == 1;
}

/*
 * The target of domain: its route, the default one, or via MX with
 * opportunistic TLS.  The key pools destinations: "domain" by MX (a
 * domain has one rule, so its key names its route too), "host:port"
 * ("[addr]:port" for IPv6) for a smarthost: every domain sent through
 * it shares its connections.  -1 with err when the
 * domain cannot be a destination.
 */
int
relay_target_pick(const struct config *conf, const char *domain,
    struct relay_target *t, char *err, size_t errlen)
{
	const struct relay_route	*r;
	size_t				 i;
	int				 n;

	memset(t, 0, sizeof(*t));
	if (domain[0] == '\0' || strlen(domain) >= sizeof(t->domain)) {
		(void)snprintf(err, errlen, "bad destination domain");
		return -1;
	}
	for (i = 0; domain[i] != '\0'; i++)
		t->domain[i] = (char)tolower((unsigned char)domain[i]);
	t->tls = RELAY_TLS_OPPORTUNISTIC;
	t->port = 25;
	(void)strlcpy(t->helo, conf->hostname, sizeof(t->helo));
	if ((r = config_relay_route(conf, t->domain)) != NULL) {
		t->via_host = r->via_host;
		t->smtps = r->smtps;
		t->tls = relay_tls_of(r->tls);
		if (r->port != 0)
			t->port = r->port;
		if (r->ca_file[0] != '\0')
			t->ca_file = r->ca_file;
		(void)strlcpy(t->auth, r->auth, sizeof(t->auth));
		if (r->helo[0] != '\0')
			(void)strlcpy(t->helo, r->helo, sizeof(t->helo));
		(void)strlcpy(t->source, r->source, sizeof(t->source));
	}
	if (t->via_host) {
		(void)strlcpy(t->host, r->host, sizeof(t->host));
		t->numeric = relay_is_numeric(t->host);
		n = snprintf(t->key, sizeof(t->key), t->numeric &&
		    strchr(t->host, ':') != NULL ? "[%s]:%u" : "%s:%u",
		    t->host, t->port);
	} else
		n = snprintf(t->key, sizeof(t->key), "%s", t->domain);
	if (n < 0 || (size_t)n >= sizeof(t->key)) {
		(void)snprintf(err, errlen, "destination name too long");
		return -1;
	}
	/* Implicit TLS makes TLS the only way: at least require. */
	if (t->smtps && t->tls < RELAY_TLS_REQUIRE)
		t->tls = RELAY_TLS_REQUIRE;
	return 0;
}

/* The next backoff of a destination: first, then doubling to max. */
uint32_t
relay_backoff_next(uint32_t cur, uint32_t first, uint32_t max)
{
	if (first == 0)
		first = 1;
	if (cur == 0)
		return first < max ? first : max;
	if (cur >= max / 2)
		return max;
	return cur * 2;
}

/*
 * The RFC 3463 status of a result: the enhanced code of the reply
 * ("550 5.1.1 no such user") when it has one of the right class, else
 * the class's generic one (X.0.0), or for our own reasons (no reply
 * code) 4.4.1 "no answer from host" / 5.0.0.
 */
void
relay_status_of(const char *reply, uint32_t result, char *dst,
    size_t dstlen)
{
	const char	*p;
	char		 cls;
	size_t		 n;

	cls = result == RESULT_OK ? '2' : result == RESULT_PERMFAIL ?
	    '5' : '4';
	if (strlen(reply) >= 4 && isdigit((unsigned char)reply[0]) &&
	    isdigit((unsigned char)reply[1]) &&
	    isdigit((unsigned char)reply[2]) && reply[3] == ' ') {
		p = reply + 4;
		n = strspn(p, "0123456789.");
		if (n >= 5 && n < 12 && p[0] == cls && p[1] == '.' &&
		    (p[n] == ' ' || p[n] == '\0') && n < dstlen) {
			memcpy(dst, p, n);
			dst[n] = '\0';
			return;
		}
		(void)snprintf(dst, dstlen, "%c.0.0", cls);
		return;
	}
	(void)snprintf(dst, dstlen, "%s", cls == '4' ? "4.4.1" :
	    cls == '5' ? "5.0.0" : "2.0.0");
}

/* RFC 3461 4: '+', '=' and what is not '!' to '~' become "+XX". */
int
relay_xtext(const char *in, char *dst, size_t dstlen)
{
	size_t		 o = 0;
	unsigned char	 ch;

	for (; *in != '\0'; in++) {
		ch = (unsigned char)*in;
		if (ch < '!' || ch > '~' || ch == '+' || ch == '=') {
			if (o + 4 > dstlen)
				return -1;
			(void)snprintf(dst + o, 4, "+%02X", ch);
			o += 3;
		} else {
			if (o + 2 > dstlen)
				return -1;
			dst[o++] = (char)ch;
		}
	}
	if (o >= dstlen)
		return -1;
	dst[o] = '\0';
	return 0;
}

void
relay_batch_settle(struct relay_batch *b, uint32_t result,
    const char *status, const char *remote, const char *diag)
{
	struct relay_brcpt	*r;
	size_t			 i;

	for (i = 0; i < b->nrcpt; i++) {
		r = &b->rcpts[i];
		if (r->done)
			continue;
		r->done = 1;
		r->result = result;
		r->flags = 0;
		if (status != NULL)
			(void)strlcpy(r->status, status, sizeof(r->status));
		else
			relay_status_of(diag, result, r->status,
			    sizeof(r->status));
		(void)strlcpy(r->remote, remote, sizeof(r->remote));
		(void)strlcpy(r->diag, diag, sizeof(r->diag));
	}
}
