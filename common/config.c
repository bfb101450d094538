/*
 * The configuration outside the grammar: defaults, the checked setters
 * the grammar's actions call, the normalised printer and the lookups
 * every daemon uses.  No I/O but config_load's read of the file and
 * config_print's output, so that all of it can be unit-tested.
 */
#include <sys/types.h>
#include <limits.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "config_int.h"
#include "sp_limits.h"
#include "log.h"

/* RFC 1035 2.3.4: a label is at most 63 octets. */
#define CONFIG_LABEL_MAX_BYTES	63

#define CONFIG_DEFAULT_RUNDIR	"/run/sallyport"
#define CONFIG_DEFAULT_SPOOL	"/var/spool/sallyport"
#define CONFIG_DEFAULT_CHROOT	"/var/empty"
#define CONFIG_DEFAULT_USERS	"/etc/sallyport/users"
#define CONFIG_DEFAULT_ALIASES	"/etc/sallyport/aliases"

static const struct config_role {
	const char	*name;
	size_t		 off;
	const char	*def;
} config_roles[] = {
	{ "auth",	offsetof(struct config, user_auth),	"_sallyauth" },
	{ "smtp",	offsetof(struct config, user_smtp),	"_sallysmtp" },
	{ "queue",	offsetof(struct config, user_queue),	"_sallyqueue" },
	{ "relay",	offsetof(struct config, user_relay),	"_sallyrelay" },
	{ "pop3",	offsetof(struct config, user_pop3),	"_sallypop" },
	{ "imap",	offsetof(struct config, user_imap),	"_sallyimap" },
};

static const struct config_proto {
	enum listen_proto	 proto;
	const char		*name;
	uint16_t		 port;
} config_protos[] = {
	{ LISTEN_SMTP,		"smtp",		25 },
	{ LISTEN_SUBMISSION,	"submission",	587 },
	{ LISTEN_SMTPS,		"smtps",	465 },
	{ LISTEN_POP3,		"pop3",		110 },
	{ LISTEN_POP3S,		"pop3s",	995 },
	{ LISTEN_IMAP,		"imap",		143 },
	{ LISTEN_IMAPS,		"imaps",	993 },
};

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

static char *
config_user_slot(struct config *conf, const struct config_role *r)
{
	return (char *)conf + r->off;
}

struct config *
config_new(void)
{
	struct config	*conf;
	size_t		 i;

	if ((conf = calloc(1, sizeof(*conf))) == NULL)
		return NULL;
	TAILQ_INIT(&conf->listeners);
	TAILQ_INIT(&conf->domains);
	TAILQ_INIT(&conf->pkis);
	TAILQ_INIT(&conf->relay_routes);
	(void)strlcpy(conf->rundir, CONFIG_DEFAULT_RUNDIR,
	    sizeof(conf->rundir));
	(void)strlcpy(conf->spooldir, CONFIG_DEFAULT_SPOOL,
	    sizeof(conf->spooldir));
	(void)strlcpy(conf->emptydir, CONFIG_DEFAULT_CHROOT,
	    sizeof(conf->emptydir));
	(void)strlcpy(conf->users_file, CONFIG_DEFAULT_USERS,
	    sizeof(conf->users_file));
	(void)strlcpy(conf->aliases_file, CONFIG_DEFAULT_ALIASES,
	    sizeof(conf->aliases_file));
	for (i = 0; i < NITEMS(config_roles); i++)
		(void)strlcpy(config_user_slot(conf, &config_roles[i]),
		    config_roles[i].def, CONFIG_USER_MAX);
	(void)strlcpy(conf->relay_family, "both", sizeof(conf->relay_family));
	conf->retry_min_secs = QUEUE_RETRY_MIN_SECS;
	conf->retry_max_secs = QUEUE_RETRY_MAX_SECS;
	conf->expire_secs = QUEUE_EXPIRE_SECS;
	conf->delay_notice_secs = QUEUE_DELAY_NOTICE_SECS;
	/* The relay's limits and timeouts: config_policy_init(). */
	conf->relay_backoff_secs = RELAY_BACKOFF_SECS;
	conf->relay_sts = 1;
	conf->relay_backoff_max_secs = RELAY_BACKOFF_MAX_SECS;
	conf->max_message_bytes = SMTP_MESSAGE_MAX_BYTES;
	conf->queue_min_free_bytes = QUEUE_MIN_FREE_BYTES;
	conf->max_rcpts = SMTP_RCPT_MAX;
	conf->max_errors = SMTP_ERRORS_MAX;
	config_policy_init(conf);
	config_pop3_init(conf);
	return conf;
}

/*
 * RFC 1035 2.3.1 host names: dot-separated labels of letters, digits
 * and inner hyphens.  No trailing dot, no address literals.
 */
int
config_valid_domain(const char *s)
{
	size_t	 i, label = 0, len = strlen(s);

	if (len == 0 || len > SMTP_DOMAIN_MAX_BYTES)
		return 0;
	for (i = 0; i <= len; i++) {
		if (s[i] == '.' || s[i] == '\0') {
			if (label == 0 || label > CONFIG_LABEL_MAX_BYTES ||
			    s[i - 1] == '-')
				return 0;
			label = 0;
		} else if (isalnum((unsigned char)s[i]) || s[i] == '-') {
			if (label == 0 && s[i] == '-')
				return 0;
			label++;
		} else
			return 0;
	}
	return 1;
}

static void
config_lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = tolower((unsigned char)*s);
}

int
config_domain_copy(char *dst, const char *s, const char *what, char *err,
    size_t errlen)
{
	if (!config_valid_domain(s)) {
		(void)snprintf(err, errlen, "invalid %s \"%s\"", what, s);
		return -1;
	}
	(void)strlcpy(dst, s, CONFIG_NAME_MAX);
	config_lower(dst);
	return 0;
}

int
config_finish(struct config *conf, char *err, size_t errlen)
{
	char	 name[CONFIG_NAME_MAX];

	if (config_relay_finish(conf, err, errlen) == -1)
		return -1;
	if (conf->hostname[0] != '\0')
		return 0;
	if (gethostname(name, sizeof(name)) == -1) {
		(void)snprintf(err, errlen, "gethostname: %s; set hostname",
		    strerror(errno));
		return -1;
	}
	name[sizeof(name) - 1] = '\0';
	if (!config_valid_domain(name)) {
		(void)snprintf(err, errlen,
		    "the system's host name is not valid; set hostname");
		return -1;
	}
	(void)strlcpy(conf->hostname, name, sizeof(conf->hostname));
	config_lower(conf->hostname);
	return 0;
}

int
config_set_path(char *dst, size_t dstlen, const char *path, char *err,
    size_t errlen)
{
	if (path == NULL) {
		dst[0] = '\0';
		return 0;
	}
	if (path[0] != '/') {
		(void)snprintf(err, errlen, "path \"%s\" is not absolute",
		    path);
		return -1;
	}
	if (strlcpy(dst, path, dstlen) >= dstlen) {
		(void)snprintf(err, errlen, "path too long");
		return -1;
	}
	return 0;
}

int
config_set_hostname(struct config *conf, const char *name, char *err,
    size_t errlen)
{
	return config_domain_copy(conf->hostname, name, "hostname", err,
	    errlen);
}

int
config_addr(const char *s, char *dst, size_t dstlen)
{
	struct in6_addr	 in6;
	struct in_addr	 in4;

	if (inet_pton(AF_INET, s, &in4) == 1)
		return inet_ntop(AF_INET, &in4, dst, dstlen) ? 0 : -1;
	if (inet_pton(AF_INET6, s, &in6) == 1)
		return inet_ntop(AF_INET6, &in6, dst, dstlen) ? 0 : -1;
	return -1;
}

int
config_set_resolver(struct config *conf, const char *addr, char *err,
    size_t errlen)
{
	if (addr == NULL) {
		conf->resolver[0] = '\0';
		return 0;
	}
	if (config_addr(addr, conf->resolver, sizeof(conf->resolver)) == -1) {
		(void)snprintf(err, errlen,
		    "resolver \"%s\" is not a numeric address", addr);
		return -1;
	}
	return 0;
}

/* The resolver's DNSSEC trust anchor, for DANE; NULL: none. */
int
config_set_resolver_ta(struct config *conf, const char *path, char *err,
    size_t errlen)
{
	return config_set_path(conf->resolver_ta, sizeof(conf->resolver_ta),
	    path, err, errlen);
}

int
config_set_relay_family(struct config *conf, const char *fam, char *err,
    size_t errlen)
{
	if (strcmp(fam, "both") != 0 && strcmp(fam, "ipv4") != 0 &&
	    strcmp(fam, "ipv6") != 0) {
		(void)snprintf(err, errlen, "relay family \"%s\" is not "
		    "ipv4, ipv6 or both", fam);
		return -1;
	}
	(void)strlcpy(conf->relay_family, fam, sizeof(conf->relay_family));
	return 0;
}

int
config_add_domain(struct config *conf, const char *name, char *err,
    size_t errlen)
{
	struct domain	*d, *o;
	size_t		 n = 0;

	if ((d = calloc(1, sizeof(*d))) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (config_domain_copy(d->name, name, "domain", err, errlen) == -1)
		goto fail;
	TAILQ_FOREACH(o, &conf->domains, entry) {
		if (strcmp(o->name, d->name) == 0) {
			(void)snprintf(err, errlen,
			    "duplicate domain \"%s\"", d->name);
			goto fail;
		}
		n++;
	}
	if (n >= CONFIG_DOMAINS_MAX) {
		(void)snprintf(err, errlen, "too many domains (at most %d)",
		    CONFIG_DOMAINS_MAX);
		goto fail;
	}
	TAILQ_INSERT_TAIL(&conf->domains, d, entry);
	return 0;
fail:
	free(d);
	return -1;
}

/* A name useradd(8) would take: portable characters, no leading '-'. */
static int
config_valid_user(const char *s)
{
	size_t	 i;

	if (s[0] == '\0' || s[0] == '-' || strlen(s) >= CONFIG_USER_MAX)
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' &&
		    s[i] != '-' && s[i] != '.')
			return 0;
	return 1;
}

int
config_set_user(struct config *conf, const char *role, const char *user,
    char *err, size_t errlen)
{
	size_t	 i;

	for (i = 0; i < NITEMS(config_roles); i++)
		if (strcmp(config_roles[i].name, role) == 0)
			break;
	if (i == NITEMS(config_roles)) {
		(void)snprintf(err, errlen, "unknown role \"%s\"", role);
		return -1;
	}
	if (!config_valid_user(user)) {
		(void)snprintf(err, errlen, "invalid user name \"%s\"", user);
		return -1;
	}
	/* The roles exist to shed root; running one as root defeats them. */
	if (strcmp(user, "root") == 0) {
		(void)snprintf(err, errlen, "user %s must not be root", role);
		return -1;
	}
	(void)strlcpy(config_user_slot(conf, &config_roles[i]), user,
	    CONFIG_USER_MAX);
	return 0;
}

static const struct config_proto *
config_proto_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < NITEMS(config_protos); i++)
		if (strcmp(config_protos[i].name, name) == 0)
			return &config_protos[i];
	return NULL;
}

int
config_add_listener(struct config *conf, const char *proto,
    const char *addr, int64_t port, char *err, size_t errlen)
{
	const struct config_proto	*p;
	struct listener			 l, *o;
	size_t				 n = 0;

	memset(&l, 0, sizeof(l));
	if ((p = config_proto_find(proto)) == NULL) {
		(void)snprintf(err, errlen, "unknown protocol \"%s\"", proto);
		return -1;
	}
	if (config_addr(addr, l.addr, sizeof(l.addr)) == -1) {
		(void)snprintf(err, errlen,
		    "listen address \"%s\" is not a numeric address", addr);
		return -1;
	}
	if (port == -1)
		port = p->port;
	if (port < 1 || port > UINT16_MAX) {
		(void)snprintf(err, errlen, "port %lld out of range",
		    (long long)port);
		return -1;
	}
	l.proto = p->proto;
	l.port = (uint16_t)port;
	TAILQ_FOREACH(o, &conf->listeners, entry) {
		if (strcmp(o->addr, l.addr) == 0 && o->port == l.port) {
			(void)snprintf(err, errlen,
			    "duplicate listener %s port %u", l.addr, l.port);
			return -1;
		}
		n++;
	}
	if (n >= CONFIG_LISTENERS_MAX) {
		(void)snprintf(err, errlen, "too many listeners (at most %d)",
		    CONFIG_LISTENERS_MAX);
		return -1;
	}
	if ((o = malloc(sizeof(*o))) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		return -1;
	}
	*o = l;
	TAILQ_INSERT_TAIL(&conf->listeners, o, entry);
	return 0;
}

int
config_add_pki(struct config *conf, const char *name, const char *cert,
    const char *key, char *err, size_t errlen)
{
	struct pki	*k, *o;
	size_t		 n = 0;

	if ((k = calloc(1, sizeof(*k))) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (config_domain_copy(k->name, name, "pki name", err, errlen) == -1)
		goto fail;
	if (config_set_path(k->cert, sizeof(k->cert), cert, err,
	    errlen) == -1 ||
	    config_set_path(k->key, sizeof(k->key), key, err, errlen) == -1)
		goto fail;
	TAILQ_FOREACH(o, &conf->pkis, entry) {
		if (strcmp(o->name, k->name) == 0) {
			(void)snprintf(err, errlen, "duplicate pki \"%s\"",
			    k->name);
			goto fail;
		}
		n++;
	}
	/* One certificate per name at most, and names are domains. */
	if (n >= CONFIG_DOMAINS_MAX) {
		(void)snprintf(err, errlen, "too many pki (at most %d)",
		    CONFIG_DOMAINS_MAX);
		goto fail;
	}
	TAILQ_INSERT_TAIL(&conf->pkis, k, entry);
	return 0;
fail:
	free(k);
	return -1;
}

int
config_set_queue(struct config *conf, uint32_t retry, uint32_t max_retry,
    uint32_t expire, int64_t delay_notice, char *err, size_t errlen)
{
	if (retry == 0 || max_retry == 0 || expire == 0) {
		(void)snprintf(err, errlen, "queue times must be above zero");
		return -1;
	}
	if (retry > max_retry) {
		(void)snprintf(err, errlen,
		    "queue retry %u is above max-retry %u", retry, max_retry);
		return -1;
	}
	if (max_retry > expire) {
		(void)snprintf(err, errlen,
		    "queue max-retry %u is above expire %u", max_retry, expire);
		return -1;
	}
	/*
	 * A notice after the message expired is never sent: the default
	 * is dropped for a short expire, a delay-notice given is refused.
	 */
	if (delay_notice == -1)
		delay_notice = QUEUE_DELAY_NOTICE_SECS < expire ?
		    QUEUE_DELAY_NOTICE_SECS : 0;
	else if (delay_notice >= expire) {
		(void)snprintf(err, errlen, "queue delay-notice %lld is not "
		    "below expire %u (0 sends none)", (long long)delay_notice,
		    expire);
		return -1;
	}
	conf->retry_min_secs = retry;
	conf->retry_max_secs = max_retry;
	conf->expire_secs = expire;
	conf->delay_notice_secs = (uint32_t)delay_notice;
	return 0;
}

/*
 * Reads decimal digits and one optional suffix from units (a string of
 * suffix letters, mults their multipliers); the whole string must be
 * used.  -1 when empty, malformed or above max.
 */
static int
config_scaled(const char *s, const char *units, const uint64_t *mults,
    uint64_t max, uint64_t *v)
{
	const char	*u;
	uint64_t	 n = 0, mult = 1;

	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		if (n > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -1;
		n = n * 10 + (uint64_t)(*s - '0');
	}
	if (*s != '\0') {
		if ((u = strchr(units, *s)) == NULL || s[1] != '\0')
			return -1;
		mult = mults[u - units];
	}
	if (n == 0 || n > max / mult)
		return -1;
	*v = n * mult;
	return 0;
}

int
config_parse_time(const char *s, uint32_t *secs)
{
	static const uint64_t	 mults[] = { 1, 60, 3600, 86400 };
	uint64_t		 v;

	if (config_scaled(s, "smhd", mults, UINT32_MAX, &v) == -1)
		return -1;
	*secs = (uint32_t)v;
	return 0;
}

int
config_parse_size(const char *s, uint64_t *bytes)
{
	static const uint64_t	 mults[] = { 1024, 1024 * 1024,
	    1024 * 1024 * 1024, 1024, 1024 * 1024, 1024 * 1024 * 1024 };

	/* An off_t must hold it. */
	return config_scaled(s, "KMGkmg", mults, INT64_MAX, bytes);
}

void
config_free(struct config *conf)
{
	struct listener	*l;
	struct domain	*d;
	struct pki	*k;

	if (conf == NULL)
		return;
	config_relay_free(conf);
	while ((l = TAILQ_FIRST(&conf->listeners)) != NULL) {
		TAILQ_REMOVE(&conf->listeners, l, entry);
		free(l);
	}
	while ((d = TAILQ_FIRST(&conf->domains)) != NULL) {
		TAILQ_REMOVE(&conf->domains, d, entry);
		free(d);
	}
	while ((k = TAILQ_FIRST(&conf->pkis)) != NULL) {
		TAILQ_REMOVE(&conf->pkis, k, entry);
		free(k);
	}
	config_policy_free(conf);
	free(conf);
}

void
config_print_str(FILE *fp, const char *s)
{
	(void)putc('"', fp);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			(void)putc('\\', fp);
		(void)putc(*s, fp);
	}
	(void)putc('"', fp);
}

static void
config_print_scaled(FILE *fp, uint64_t v, const char *units,
    const uint64_t *mults, size_t nunits, const char *plain)
{
	size_t	 i;

	for (i = nunits; i > 0; i--)
		if (v % mults[i - 1] == 0) {
			(void)fprintf(fp, "%llu%c",
			    (unsigned long long)(v / mults[i - 1]),
			    units[i - 1]);
			return;
		}
	(void)fprintf(fp, "%llu%s", (unsigned long long)v, plain);
}

void
config_print_time(FILE *fp, uint32_t secs)
{
	static const uint64_t	 mults[] = { 60, 3600, 86400 };

	config_print_scaled(fp, secs, "mhd", mults, NITEMS(mults), "s");
}

static void
config_print_size(FILE *fp, uint64_t bytes)
{
	static const uint64_t	 mults[] = { 1024, 1024 * 1024,
	    1024 * 1024 * 1024 };

	config_print_scaled(fp, bytes, "KMG", mults, NITEMS(mults), "");
}

static void
config_print_paths(FILE *fp, const struct config *conf)
{
	static const struct {
		const char	*keyword;
		size_t		 off;
	} paths[] = {
		{ "rundir",	offsetof(struct config, rundir) },
		{ "spool",	offsetof(struct config, spooldir) },
		{ "chroot",	offsetof(struct config, emptydir) },
		{ "users",	offsetof(struct config, users_file) },
		{ "aliases",	offsetof(struct config, aliases_file) },
	};
	size_t	 i;

	for (i = 0; i < NITEMS(paths); i++) {
		(void)fprintf(fp, "%s ", paths[i].keyword);
		config_print_str(fp, (const char *)conf + paths[i].off);
		(void)putc('\n', fp);
	}
}

static void
config_print_lists(FILE *fp, const struct config *conf)
{
	const struct listener	*l;
	const struct pki	*k;

	TAILQ_FOREACH(l, &conf->listeners, entry)
		(void)fprintf(fp, "listen %s on %s port %u\n",
		    config_proto_name(l->proto), l->addr, l->port);
	TAILQ_FOREACH(k, &conf->pkis, entry) {
		(void)fprintf(fp, "pki \"%s\" cert ", k->name);
		config_print_str(fp, k->cert);
		(void)fprintf(fp, " key ");
		config_print_str(fp, k->key);
		(void)putc('\n', fp);
	}
}

static void
config_print_resolver(FILE *fp, const struct config *conf)
{
	if (conf->resolver_system)
		(void)fprintf(fp, "resolver system");
	else if (conf->resolver[0] == '\0')
		(void)fprintf(fp, "resolver none");
	else
		(void)fprintf(fp, "resolver \"%s\"", conf->resolver);
	if (conf->resolver_port != 0)
		(void)fprintf(fp, " port %u", conf->resolver_port);
	if (conf->resolver_ta[0] != '\0') {
		(void)fprintf(fp, " trust-anchor ");
		config_print_str(fp, conf->resolver_ta);
	}
	(void)fprintf(fp, "\nrelay family %s\n", conf->relay_family);
	config_relay_print(fp, conf);
}

void
config_print(FILE *fp, const struct config *conf)
{
	const struct domain	*d;
	size_t			 i;

	(void)fprintf(fp, "hostname \"%s\"\n", conf->hostname);
	config_print_paths(fp, conf);
	config_print_resolver(fp, conf);
	TAILQ_FOREACH(d, &conf->domains, entry)
		(void)fprintf(fp, "domain \"%s\"\n", d->name);
	for (i = 0; i < NITEMS(config_roles); i++)
		(void)fprintf(fp, "user %s \"%s\"\n", config_roles[i].name,
		    (const char *)conf + config_roles[i].off);
	config_print_lists(fp, conf);
	(void)fprintf(fp, "queue retry ");
	config_print_time(fp, conf->retry_min_secs);
	(void)fprintf(fp, " max-retry ");
	config_print_time(fp, conf->retry_max_secs);
	(void)fprintf(fp, " expire ");
	config_print_time(fp, conf->expire_secs);
	(void)fprintf(fp, " delay-notice ");
	if (conf->delay_notice_secs == 0)
		(void)putc('0', fp);
	else
		config_print_time(fp, conf->delay_notice_secs);
	(void)fprintf(fp, "\nlimit message-size ");
	config_print_size(fp, conf->max_message_bytes);
	(void)fprintf(fp, "\nlimit queue-min-free ");
	config_print_size(fp, conf->queue_min_free_bytes);
	(void)fprintf(fp, "\nlimit recipients %u\n", conf->max_rcpts);
	(void)fprintf(fp, "limit errors %u\n", conf->max_errors);
	config_policy_print(fp, conf);
	config_pop3_print(fp, conf);
	config_submit_print(fp, conf);
}

int
config_is_local_domain(const struct config *conf, const char *domain)
{
	const struct domain	*d;

	if (TAILQ_EMPTY(&conf->domains))
		return strcasecmp(conf->hostname, domain) == 0;
	TAILQ_FOREACH(d, &conf->domains, entry)
		if (strcasecmp(d->name, domain) == 0)
			return 1;
	return 0;
}

const char *
config_proto_name(enum listen_proto proto)
{
	size_t	 i;

	for (i = 0; i < NITEMS(config_protos); i++)
		if (config_protos[i].proto == proto)
			return config_protos[i].name;
	return "unknown";
}

void
config_runpath(const struct config *conf, const char *name, char *dst,
    size_t dstlen)
{
	size_t	 len = strlen(conf->rundir);
	int	 n;

	/* rundir "/" must give "/name", not "//name". */
	while (len > 1 && conf->rundir[len - 1] == '/')
		len--;
	n = snprintf(dst, dstlen, "%.*s%s%s", (int)len, conf->rundir,
	    conf->rundir[len - 1] == '/' ? "" : "/", name);
	if (n < 0 || (size_t)n >= dstlen)
		fatalx("config runpath-too-long rundir=%s name=%s",
		    conf->rundir, name);
}

/*
 * Reads at most one byte past the limit, so that config_parse sees an
 * oversized file and refuses it.
 */
struct config *
config_load(const char *path, char *err, size_t errlen)
{
	struct config	*conf = NULL;
	char		*buf;
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		(void)snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if ((buf = malloc(CONFIG_FILE_MAX_BYTES + 1)) == NULL) {
		(void)snprintf(err, errlen, "%s: %s", path, strerror(errno));
		(void)close(fd);
		return NULL;
	}
	while (len <= CONFIG_FILE_MAX_BYTES) {
		n = read(fd, buf + len, CONFIG_FILE_MAX_BYTES + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			(void)snprintf(err, errlen, "%s: %s", path,
			    strerror(errno));
			goto done;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	conf = config_parse(path, buf, len, err, errlen);
done:
	free(buf);
	(void)close(fd);
	return conf;
}
