/*
 * common/config_relay.c and the relay's statements of common/parse.y:
 * "relay to", "relay backoff", "secrets", "limit relay-*", "timeout
 * relay-*" and "queue ... delay-notice".  The fields the relay and the
 * manager read, the route chosen for a domain, and the printout that a
 * child parses back.  The refused files are in regress/config/bad-*.
 */
#include <sys/param.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "config.h"
#include "sp_limits.h"
#include "unit_config.h"

#define ERRBUF_BYTES	512
#define IN_MAX		512

static struct config *
parse_ok(const char *text)
{
	struct config	*conf;
	char		 err[ERRBUF_BYTES], in[IN_MAX];

	(void)snprintf(in, sizeof(in), "hostname h.test\n%s\n", text);
	conf = config_parse("t.conf", in, strlen(in), err, sizeof(err));
	cr_assert_not_null(conf, "refused: %s: %s", text, err);
	return conf;
}

static void
parse_bad(const char *text, const char *want)
{
	struct config	*conf;
	char		 err[ERRBUF_BYTES], in[IN_MAX];

	(void)snprintf(in, sizeof(in), "hostname h.test\n%s\n", text);
	conf = config_parse("t.conf", in, strlen(in), err, sizeof(err));
	cr_assert_null(conf, "loaded: %s", text);
	cr_assert_str_eq(err, want);
}

/* The relay's counted fields: their defaults and the values set below. */
static const struct u32_field {
	size_t		 off;
	uint32_t	 def;
	uint32_t	 set;
} u32_fields[] = {
	{ offsetof(struct config, relay_conns_max), RELAY_CONNS_MAX, 7 },
	{ offsetof(struct config, relay_conns_per_domain),
	    RELAY_CONNS_PER_DOMAIN, 3 },
	{ offsetof(struct config, relay_msgs_per_conn), RELAY_MSGS_PER_CONN,
	    0 },
	{ offsetof(struct config, relay_rcpts_per_txn), RELAY_RCPTS_PER_TXN,
	    1 },
	{ offsetof(struct config, relay_connect_timeout_secs),
	    RELAY_CONNECT_TIMEOUT_SECS, 5 },
	{ offsetof(struct config, relay_greeting_timeout_secs),
	    RELAY_GREETING_TIMEOUT_SECS, 6 },
	{ offsetof(struct config, relay_mail_timeout_secs),
	    RELAY_MAIL_TIMEOUT_SECS, 7 },
	{ offsetof(struct config, relay_rcpt_timeout_secs),
	    RELAY_RCPT_TIMEOUT_SECS, 8 },
	{ offsetof(struct config, relay_data_init_timeout_secs),
	    RELAY_DATA_INIT_TIMEOUT_SECS, 9 },
	{ offsetof(struct config, relay_data_block_timeout_secs),
	    RELAY_DATA_BLOCK_TIMEOUT_SECS, 10 },
	{ offsetof(struct config, relay_data_end_timeout_secs),
	    RELAY_DATA_END_TIMEOUT_SECS, 11 },
	{ offsetof(struct config, relay_idle_secs), RELAY_IDLE_SECS, 12 },
	{ offsetof(struct config, relay_backoff_secs), RELAY_BACKOFF_SECS,
	    120 },
	{ offsetof(struct config, relay_backoff_max_secs),
	    RELAY_BACKOFF_MAX_SECS, 7200 },
	{ offsetof(struct config, delay_notice_secs), QUEUE_DELAY_NOTICE_SECS,
	    0 },
};

static void
check_u32(const struct config *conf, int set)
{
	uint32_t	 v;
	size_t		 i;

	for (i = 0; i < sizeof(u32_fields) / sizeof(u32_fields[0]); i++) {
		memcpy(&v, (const char *)conf + u32_fields[i].off, sizeof(v));
		cr_assert_eq(v, set ? u32_fields[i].set : u32_fields[i].def,
		    "field %zu: %u", i, v);
	}
}

Test(config_relay, defaults)
{
	struct config	*conf = parse_ok("");
	char		*out;

	cr_assert(TAILQ_EMPTY(&conf->relay_routes));
	cr_assert_null(config_relay_route(conf, "example.net"));
	cr_assert_str_empty(conf->secrets_file);
	check_u32(conf, 0);
	out = unit_config_roundtrip("defaults", conf);
	cr_assert_not_null(strstr(out, "relay backoff 1m max 30m\n"
	    "relay mta-sts system\nsecrets none\n"), "%s", out);
	cr_assert_eq(conf->relay_sts, 1);
	cr_assert_str_empty(conf->relay_sts_ca);
	free(out);
	config_free(conf);
}

Test(config_relay, mta_sts)
{
	struct config	*conf;
	char		*out;

	conf = parse_ok("relay mta-sts none");
	cr_assert_eq(conf->relay_sts, 0);
	out = unit_config_roundtrip("mta-sts none", conf);
	cr_assert_not_null(strstr(out, "relay mta-sts none\n"), "%s", out);
	free(out);
	config_free(conf);
	conf = parse_ok("relay mta-sts ca \"/etc/ca.pem\"");
	cr_assert_eq(conf->relay_sts, 1);
	cr_assert_str_eq(conf->relay_sts_ca, "/etc/ca.pem");
	out = unit_config_roundtrip("mta-sts ca", conf);
	cr_assert_not_null(strstr(out, "relay mta-sts ca \"/etc/ca.pem\"\n"),
	    "%s", out);
	free(out);
	config_free(conf);
}

Test(config_relay, values)
{
	struct config	*conf;

	conf = parse_ok("limit relay-connections 7\n"
	    "limit relay-connections-per-domain 3\n"
	    "limit relay-messages-per-connection 0\n"
	    "limit relay-recipients 1\n"
	    "timeout relay-connect 5s\ntimeout relay-greeting 6s\n"
	    "timeout relay-mail 7s\ntimeout relay-rcpt 8s\n"
	    "timeout relay-data-init 9s\ntimeout relay-data-block 10s\n"
	    "timeout relay-data-end 11s\ntimeout relay-idle 12s\n"
	    "relay backoff 2m max 2h\nsecrets \"/etc/s\"\n"
	    "queue delay-notice 0");
	check_u32(conf, 1);
	cr_assert_str_eq(conf->secrets_file, "/etc/s");
	free(unit_config_roundtrip("values", conf));
	config_free(conf);
}

Test(config_relay, route_fields)
{
	struct config			*conf;
	const struct relay_route	*r;

	conf = parse_ok("relay to default auth hub smtps via "
	    "Hub.Example.Test port 465 helo Out.Test source ::FFFF:1.2.3.4\n"
	    "relay to Example.NET tls verify ca \"/ca.pem\" via 2001:DB8::1\n"
	    "secrets \"/etc/s\"");
	r = config_relay_route(conf, "other.test");
	cr_assert_not_null(r);
	cr_assert_str_empty(r->domain);
	cr_assert(r->via_host);
	cr_assert_str_eq(r->host, "hub.example.test");
	cr_assert_eq(r->port, 465);
	cr_assert(r->smtps);
	cr_assert_eq(r->tls, ROUTE_TLS_OPPORTUNISTIC);
	cr_assert_str_eq(r->auth, "hub");
	cr_assert_str_eq(r->helo, "out.test");
	cr_assert_str_eq(r->source, "::ffff:1.2.3.4");
	cr_assert_str_empty(r->ca_file);
	r = config_relay_route(conf, "EXAMPLE.net");
	cr_assert_not_null(r);
	cr_assert_str_eq(r->domain, "example.net");
	cr_assert_str_eq(r->host, "2001:db8::1");
	cr_assert_eq(r->port, 0);
	cr_assert_not(r->smtps);
	cr_assert_eq(r->tls, ROUTE_TLS_VERIFY);
	cr_assert_str_eq(r->ca_file, "/ca.pem");
	cr_assert_str_empty(r->auth);
	cr_assert_str_empty(r->helo);
	cr_assert_str_empty(r->source);
	free(unit_config_roundtrip("route_fields", conf));
	config_free(conf);
}

/* A domain's rule, else the default; without a default, none. */
Test(config_relay, route_choice)
{
	struct config			*conf;
	const struct relay_route	*r;

	conf = parse_ok("relay to a.test tls none\nrelay to b.test via mx");
	cr_assert_null(config_relay_route(conf, "c.test"));
	cr_assert_null(config_relay_route(conf, "sub.a.test"));
	cr_assert_not_null(r = config_relay_route(conf, "A.Test"));
	cr_assert_eq(r->tls, ROUTE_TLS_NONE);
	cr_assert_not(r->via_host);
	cr_assert_not_null(r = config_relay_route(conf, "b.test"));
	cr_assert_str_eq(r->domain, "b.test");
	config_free(conf);
	conf = parse_ok("relay to DEFAULT tls require\nrelay to a.test");
	cr_assert_not_null(r = config_relay_route(conf, "c.test"));
	cr_assert_str_empty(r->domain);
	cr_assert_eq(r->tls, ROUTE_TLS_REQUIRE);
	cr_assert_not_null(r = config_relay_route(conf, "a.test"));
	cr_assert_eq(r->tls, ROUTE_TLS_OPPORTUNISTIC);
	config_free(conf);
}

/* Arrays, not pointers: Criterion may run a case in a new process. */
struct good_line {
	char	 in[IN_MAX];
	char	 line[IN_MAX];
};

static struct good_line goods[] = {
	{ "relay to a.test", "relay to \"a.test\" via mx tls opportunistic\n" },
	/* Any case of "mx" and "default" is the keyword's meaning. */
	{ "relay to a.test via MX", "relay to \"a.test\" via mx tls" },
	{ "relay to Default via \"h.test\"",
	    "relay to default via \"h.test\" tls opportunistic\n" },
	{ "relay to a.test via h.test port 2525 tls none",
	    "relay to \"a.test\" via \"h.test\" port 2525 tls none\n" },
	/* "secrets" may come after the route that uses it. */
	{ "relay to a.test via h.test tls verify auth x\nsecrets \"/s\"",
	    "relay to \"a.test\" via \"h.test\" tls verify auth \"x\"\n" },
	{ "relay to a.test via 192.0.2.1 smtps auth x\nsecrets \"/s\"",
	    "via \"192.0.2.1\" smtps tls opportunistic auth \"x\"\n" },
	{ "secrets none", "secrets none\n" },
	{ "relay backoff 90", "relay backoff 90s max 30m\n" },
	{ "relay backoff 30m", "relay backoff 30m max 30m\n" },
	{ "relay backoff 1m max 1m", "relay backoff 1m max 1m\n" },
	{ "limit relay-messages-per-connection 100000",
	    "limit relay-messages-per-connection 100000\n" },
	{ "limit relay-connections 10000\n"
	    "limit relay-connections-per-domain 10000",
	    "limit relay-connections-per-domain 10000\n" },
	{ "timeout relay-data-end 1h", "timeout relay-data-end 1h\n" },
	{ "queue expire 1h max-retry 1h", "expire 1h delay-notice 0\n" },
	{ "queue delay-notice 3599 expire 1h max-retry 10m",
	    "expire 1h delay-notice 3599s\n" },
};

ParameterizedTestParameters(config_relay, good)
{
	return cr_make_param_array(struct good_line, goods,
	    sizeof(goods) / sizeof(goods[0]));
}

ParameterizedTest(struct good_line *g, config_relay, good)
{
	struct config	*conf = parse_ok(g->in);
	char		*out;

	out = unit_config_roundtrip(g->in, conf);
	cr_assert_not_null(strstr(out, g->line), "input:\n%s\nwant:\n%s\n"
	    "got:\n%s", g->in, g->line, out);
	free(out);
	config_free(conf);
}

struct bad_line {
	char	 in[IN_MAX];
	char	 err[IN_MAX];
};

static struct bad_line bads[] = {
	{ "relay to", "t.conf:2: syntax error at end of line" },
	{ "relay to a.test via", "t.conf:2: syntax error at end of line" },
	{ "relay to a.test bogus", "t.conf:2: syntax error at \"bogus\"" },
	{ "relay to a.test via h.test via mx",
	    "t.conf:2: relay to a.test: via given twice" },
	{ "relay to a.test via h.test port 1 port 2",
	    "t.conf:2: relay to a.test: port given twice" },
	{ "relay to a.test via h.test smtps smtps",
	    "t.conf:2: relay to a.test: smtps given twice" },
	{ "relay to a.test helo a.test helo b.test",
	    "t.conf:2: relay to a.test: helo given twice" },
	{ "relay to a.test via h.test port 0", "t.conf:2: port 0 out of range" },
	{ "relay to a.test source 192.0.2.1 source 192.0.2.2",
	    "t.conf:2: relay to a.test: source given twice" },
	{ "relay to a.test via \"h test\"",
	    "t.conf:2: invalid relay host \"h test\"" },
	{ "relay to default tls none\nrelay to DEFAULT tls none",
	    "t.conf:3: relay to default given twice" },
	{ "relay to a.test via h.test tls opportunistic auth x\nsecrets \"/s\"",
	    "t.conf:2: relay to a.test: auth needs smtps or tls require or "
	    "verify: credentials would travel in clear text" },
	{ "relay to a.test via h.test tls require auth \"a b\"",
	    "t.conf:2: invalid auth label \"a b\"" },
	{ "relay to a.test tls verify ca relative.pem",
	    "t.conf:2: path \"relative.pem\" is not absolute" },
	{ "secrets \"/a\"\nsecrets none", "t.conf:3: secrets given twice" },
	{ "relay mta-sts none\nrelay mta-sts system",
	    "t.conf:3: relay mta-sts given twice" },
	{ "relay mta-sts ca ca.pem",
	    "t.conf:2: path \"ca.pem\" is not absolute" },
	{ "relay mta-sts yes", "t.conf:2: syntax error at \"yes\"" },
	{ "relay backoff 1m\nrelay backoff 2m",
	    "t.conf:3: relay backoff given twice" },
	{ "relay backoff 0", "t.conf:2: invalid time \"0\"" },
	{ "relay backoff 2m max 1m", "t.conf:2: relay backoff 120 is above "
	    "its max 60" },
	{ "limit relay-connections 0", "t.conf:2: limit relay-connections 0 "
	    "out of range (1 to 10000)" },
	{ "limit relay-recipients 0", "t.conf:2: limit relay-recipients 0 "
	    "out of range (1 to 100)" },
	{ "limit relay-connections-per-domain 101",
	    "t.conf:3: limit relay-connections-per-domain 101 is above "
	    "relay-connections 100" },
	{ "timeout relay-idle 0", "t.conf:2: invalid time \"0\"" },
	{ "timeout relay-bogus 1m", "t.conf:2: unknown timeout \"relay-bogus\"" },
	{ "queue delay-notice 5d", "t.conf:2: queue delay-notice 432000 is not "
	    "below expire 345600 (0 sends none)" },
};

ParameterizedTestParameters(config_relay, bad)
{
	return cr_make_param_array(struct bad_line, bads,
	    sizeof(bads) / sizeof(bads[0]));
}

ParameterizedTest(struct bad_line *b, config_relay, bad)
{
	parse_bad(b->in, b->err);
}

/* CONFIG_RELAY_ROUTES_MAX routes load, one more is refused at its line. */
Test(config_relay, max_routes)
{
	struct config	*conf;
	char		 err[ERRBUF_BYTES];
	char		*in;
	size_t		 i, off = 0, size = 64 * (CONFIG_RELAY_ROUTES_MAX + 2);

	cr_assert_not_null(in = malloc(size));
	off += (size_t)snprintf(in + off, size - off, "hostname h.test\n");
	for (i = 0; i < CONFIG_RELAY_ROUTES_MAX; i++)
		off += (size_t)snprintf(in + off, size - off,
		    "relay to d%zu.test tls none\n", i);
	conf = config_parse("t.conf", in, off, err, sizeof(err));
	cr_assert_not_null(conf, "%s", err);
	cr_assert_not_null(config_relay_route(conf, "d1023.test"));
	config_free(conf);
	off += (size_t)snprintf(in + off, size - off, "relay to default\n");
	cr_assert_null(config_parse("t.conf", in, off, err, sizeof(err)));
	cr_assert_str_eq(err, "t.conf:1026: too many relay routes (at most "
	    "1024)");
	free(in);
}
