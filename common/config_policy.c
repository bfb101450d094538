/*
 * The SMTP part of the configuration: smtpd's session limits, the
 * per-state timeouts (RFC 5321 4.5.3.2) of smtpd and of the relay's
 * client, the relay's connection limits, the relay networks and the
 * policy switches.  Each is table-driven, so that the
 * grammar, the checks and the printout name the same things.  Defaults
 * and upper bounds come from sp_limits.h.  No I/O but the printout.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_int.h"
#include "sp_limits.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))
#define CONF_U32(c, off)	((uint32_t *)(void *)((char *)(c) + (off)))
#define CONF_CU32(c, off)	\
	((const uint32_t *)(const void *)((const char *)(c) + (off)))
#define CONF_INT(c, off)	((int *)(void *)((char *)(c) + (off)))
#define CONF_CINT(c, off)	\
	((const int *)(const void *)((const char *)(c) + (off)))

/* "limit NAME N": in the order config_print writes them. */
static const struct config_limit {
	const char	*name;
	size_t		 off;
	uint32_t	 def;
	uint32_t	 min;
	uint32_t	 max;
} config_limits[] = {
	{ "sessions", offsetof(struct config, max_sessions),
	    SMTP_SESSIONS_MAX, 1, SMTP_SESSIONS_MAX },
	{ "sessions-per-client",
	    offsetof(struct config, max_sessions_per_client),
	    SMTP_SESSIONS_PER_CLIENT_MAX, 1, SMTP_SESSIONS_PER_CLIENT_LIMIT },
	{ "messages-per-session",
	    offsetof(struct config, max_messages_per_session),
	    0, 0, SMTP_MESSAGES_PER_SESSION_MAX },
	/* RFC 5321 4.5.3.1.6: never below 1000 for a text line. */
	{ "line-length", offsetof(struct config, max_line_bytes),
	    SMTP_LINE_LIMIT_MAX_BYTES, SMTP_LINE_MAX_BYTES,
	    SMTP_LINE_LIMIT_MAX_BYTES },
	/* The relay (queued/relay*.c): outbound connections and batches. */
	{ "relay-connections", offsetof(struct config, relay_conns_max),
	    RELAY_CONNS_MAX, 1, RELAY_CONNS_LIMIT },
	{ "relay-connections-per-domain",
	    offsetof(struct config, relay_conns_per_domain),
	    RELAY_CONNS_PER_DOMAIN, 1, RELAY_CONNS_LIMIT },
	{ "relay-messages-per-connection",
	    offsetof(struct config, relay_msgs_per_conn),
	    RELAY_MSGS_PER_CONN, 0, RELAY_MSGS_PER_CONN_LIMIT },
	{ "relay-recipients", offsetof(struct config, relay_rcpts_per_txn),
	    RELAY_RCPTS_PER_TXN, 1, RELAY_RCPTS_PER_TXN },
};

/* "timeout NAME DURATION", 1 s to SMTP_TIMEOUT_MAX_SECS. */
static const struct config_timeout {
	const char	*name;
	size_t		 off;
	uint32_t	 def;
} config_timeouts[] = {
	{ "greeting", offsetof(struct config, greeting_timeout_secs),
	    SMTP_GREETING_TIMEOUT_SECS },
	{ "command", offsetof(struct config, cmd_timeout_secs),
	    SMTP_CMD_TIMEOUT_SECS },
	{ "data", offsetof(struct config, data_timeout_secs),
	    SMTP_DATA_TIMEOUT_SECS },
	{ "commit", offsetof(struct config, commit_timeout_secs),
	    SMTP_COMMIT_TIMEOUT_SECS },
	/* The relay's SMTP client, per state (RFC 5321 4.5.3.2.1-6). */
	{ "relay-connect", offsetof(struct config, relay_connect_timeout_secs),
	    RELAY_CONNECT_TIMEOUT_SECS },
	{ "relay-greeting",
	    offsetof(struct config, relay_greeting_timeout_secs),
	    RELAY_GREETING_TIMEOUT_SECS },
	{ "relay-mail", offsetof(struct config, relay_mail_timeout_secs),
	    RELAY_MAIL_TIMEOUT_SECS },
	{ "relay-rcpt", offsetof(struct config, relay_rcpt_timeout_secs),
	    RELAY_RCPT_TIMEOUT_SECS },
	{ "relay-data-init",
	    offsetof(struct config, relay_data_init_timeout_secs),
	    RELAY_DATA_INIT_TIMEOUT_SECS },
	{ "relay-data-block",
	    offsetof(struct config, relay_data_block_timeout_secs),
	    RELAY_DATA_BLOCK_TIMEOUT_SECS },
	{ "relay-data-end",
	    offsetof(struct config, relay_data_end_timeout_secs),
	    RELAY_DATA_END_TIMEOUT_SECS },
	{ "relay-idle", offsetof(struct config, relay_idle_secs),
	    RELAY_IDLE_SECS },
};

/* Two-valued switches: off (the default) and on. */
static const struct config_switch {
	const char	*stmt;
	const char	*name;
	size_t		 off;
	const char	*off_value;
	const char	*on_value;
} config_switches[] = {
	{ "auth", "plaintext-on-loopback",
	    offsetof(struct config, auth_plaintext_loopback), "no", "yes" },
	{ "submission", "sender",
	    offsetof(struct config, submission_sender_any), "own", "any" },
	{ "received", "show-auth-user",
	    offsetof(struct config, received_auth_user), "no", "yes" },
	{ "address-literal", "local-users",
	    offsetof(struct config, literal_local_users), "no", "yes" },
};

void
config_policy_init(struct config *conf)
{
	size_t	 i;

	TAILQ_INIT(&conf->relay_nets);
	for (i = 0; i < NITEMS(config_limits); i++)
		*CONF_U32(conf, config_limits[i].off) = config_limits[i].def;
	for (i = 0; i < NITEMS(config_timeouts); i++)
		*CONF_U32(conf, config_timeouts[i].off) =
		    config_timeouts[i].def;
	for (i = 0; i < NITEMS(config_switches); i++)
		*CONF_INT(conf, config_switches[i].off) = 0;
}

void
config_policy_free(struct config *conf)
{
	struct relay_net	*r;

	while ((r = TAILQ_FIRST(&conf->relay_nets)) != NULL) {
		TAILQ_REMOVE(&conf->relay_nets, r, entry);
		free(r);
	}
}

int
config_set_limit(struct config *conf, const char *name, uint64_t value,
    char *err, size_t errlen)
{
	const struct config_limit	*l;
	size_t				 i;

	for (i = 0; i < NITEMS(config_limits); i++)
		if (strcmp(config_limits[i].name, name) == 0)
			break;
	if (i == NITEMS(config_limits)) {
		(void)snprintf(err, errlen, "unknown limit \"%s\"", name);
		return -1;
	}
	l = &config_limits[i];
	if (value < l->min || value > l->max) {
		(void)snprintf(err, errlen, "limit %s %llu out of range "
		    "(%u to %u)", name, (unsigned long long)value, l->min,
		    l->max);
		return -1;
	}
	*CONF_U32(conf, l->off) = (uint32_t)value;
	return 0;
}

int
config_set_timeout(struct config *conf, const char *name, uint32_t secs,
    char *err, size_t errlen)
{
	size_t	 i;

	for (i = 0; i < NITEMS(config_timeouts); i++)
		if (strcmp(config_timeouts[i].name, name) == 0)
			break;
	if (i == NITEMS(config_timeouts)) {
		(void)snprintf(err, errlen, "unknown timeout \"%s\"", name);
		return -1;
	}
	if (secs < 1 || secs > SMTP_TIMEOUT_MAX_SECS) {
		(void)snprintf(err, errlen, "timeout %s %us out of range "
		    "(1s to %ds)", name, secs, SMTP_TIMEOUT_MAX_SECS);
		return -1;
	}
	*CONF_U32(conf, config_timeouts[i].off) = secs;
	return 0;
}

int
config_add_relay(struct config *conf, const char *cidr, char *err,
    size_t errlen)
{
	struct relay_net	*r, *o;
	const char		*errstr;
	size_t			 n = 0;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (netaddr_parse_cidr(cidr, &r->net, &errstr) == -1) {
		(void)snprintf(err, errlen, "relay from \"%s\": %s", cidr,
		    errstr);
		goto fail;
	}
	TAILQ_FOREACH(o, &conf->relay_nets, entry) {
		if (memcmp(&o->net, &r->net, sizeof(r->net)) == 0) {
			(void)snprintf(err, errlen,
			    "duplicate relay from \"%s\"", cidr);
			goto fail;
		}
		n++;
	}
	if (n >= CONFIG_RELAY_NETS_MAX) {
		(void)snprintf(err, errlen, "too many relay networks "
		    "(at most %d)", CONFIG_RELAY_NETS_MAX);
		goto fail;
	}
	TAILQ_INSERT_TAIL(&conf->relay_nets, r, entry);
	return 0;
fail:
	free(r);
	return -1;
}

int
config_set_switch(struct config *conf, const char *stmt, const char *name,
    const char *value, char *err, size_t errlen)
{
	const struct config_switch	*sw;
	size_t				 i;

	for (i = 0; i < NITEMS(config_switches); i++)
		if (strcmp(config_switches[i].stmt, stmt) == 0 &&
		    strcmp(config_switches[i].name, name) == 0)
			break;
	if (i == NITEMS(config_switches)) {
		(void)snprintf(err, errlen, "unknown option \"%s %s\"", stmt,
		    name);
		return -1;
	}
	sw = &config_switches[i];
	if (value == NULL)
		value = sw->on_value;
	if (strcmp(value, sw->on_value) == 0)
		*CONF_INT(conf, sw->off) = 1;
	else if (strcmp(value, sw->off_value) == 0)
		*CONF_INT(conf, sw->off) = 0;
	else {
		(void)snprintf(err, errlen, "%s %s takes %s or %s, not \"%s\"",
		    stmt, name, sw->off_value, sw->on_value, value);
		return -1;
	}
	return 0;
}

int
config_relay_allowed(const struct config *conf, const struct sockaddr *sa)
{
	const struct relay_net	*r;

	TAILQ_FOREACH(r, &conf->relay_nets, entry)
		if (netaddr_match_sa(&r->net, sa))
			return 1;
	return 0;
}

void
config_policy_print(FILE *fp, const struct config *conf)
{
	const struct relay_net	*r;
	char			 net[NETADDR_TEXT_MAX_BYTES];
	size_t			 i;

	for (i = 0; i < NITEMS(config_limits); i++)
		(void)fprintf(fp, "limit %s %u\n", config_limits[i].name,
		    *CONF_CU32(conf, config_limits[i].off));
	for (i = 0; i < NITEMS(config_timeouts); i++) {
		(void)fprintf(fp, "timeout %s ", config_timeouts[i].name);
		config_print_time(fp, *CONF_CU32(conf,
		    config_timeouts[i].off));
		(void)putc('\n', fp);
	}
	TAILQ_FOREACH(r, &conf->relay_nets, entry)
		if (netaddr_format(&r->net, net, sizeof(net)) == 0)
			(void)fprintf(fp, "relay from %s\n", net);
	for (i = 0; i < NITEMS(config_switches); i++)
		(void)fprintf(fp, "%s %s %s\n", config_switches[i].stmt,
		    config_switches[i].name,
		    *CONF_CINT(conf, config_switches[i].off) ?
		    config_switches[i].on_value :
		    config_switches[i].off_value);
}
