/*
 * The relay (role "relay", exec'd and supervised by queued's parent;
 * issue 9, DESIGN.md "Outbound mail"): sends the queue manager's remote
 * envelopes on over SMTP and answers each batch with its per-recipient
 * results.  It never opens the spool: the manager passes the message's
 * descriptor with each RELAY_START.
 *
 * As root it reads what it will need and cannot read later: the CA
 * bundle and any route's CA file (into memory, for libtls), the
 * smarthost credentials (secrets), the resolver's trust anchor and
 * /etc/resolv.conf (relay_dns_new); then it chroots into the empty
 * directory (config "chroot"), becomes user relay (_sallyrelay) and
 * loads the SANDBOX_RELAY filter.
 *
 * Peers: its parent (ROLE_PARENT: PARENT_PEER_FD with the manager's
 * socket or the MTA-STS helper's, PARENT_LOG_VERBOSE; anything else is
 * fatal), the manager (ROLE_QUEUED: relay_ipc.c) and the helper
 * (ROLE_RELAY_STS: relay_sts_client.c).
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <tls.h>
#include <unistd.h>

#include <event2/event.h>

#include "ipc.h"
#include "log.h"
#include "privsep.h"
#include "proto.h"
#include "queued.h"
#include "relay.h"
#include "relay_sts_helper.h"
#include "sandbox.h"

/* A CA file larger than this is refused. */
#define RELAY_CA_MAX_BYTES	(4 * 1024 * 1024)
/* CA files: the bundle and one per route at most. */
#define RELAY_CA_FILES_MAX	64
/* On SIGTERM: sessions get this long to QUIT. */
#define RELAY_STOP_WAIT_SECS	2

struct relay_env	 relay_env;

static struct {
	const char	*path;		/* NULL: the system's bundle */
	uint8_t		*mem;
	size_t		 len;
} relay_cas[RELAY_CA_FILES_MAX];
static size_t		 relay_ncas;

static struct ipc_conn	*relay_parent;
static const char	*relay_self_addrs[CONFIG_LISTENERS_MAX];

/* Reads path into memory; NULL (logged) when it cannot. */
static uint8_t *
relay_ca_read(const char *path, size_t *len)
{
	struct stat	 st;
	uint8_t		*mem;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > RELAY_CA_MAX_BYTES) {
		log_warnx("- relay ca-file-unreadable path=%s error=\"%s\"",
		    path, fd == -1 ? strerror(errno) : "not a file, or large");
		if (fd != -1)
			(void)close(fd);
		return NULL;
	}
	if ((mem = malloc((size_t)st.st_size + 1)) == NULL)
		fatal("- relay malloc");
	if (read(fd, mem, (size_t)st.st_size) != st.st_size) {
		log_warnx("- relay ca-file-short path=%s", path);
		free(mem);
		(void)close(fd);
		return NULL;
	}
	(void)close(fd);
	*len = (size_t)st.st_size;
	return mem;
}

static void
relay_ca_add(const char *path)
{
	size_t	 i;

	for (i = 0; i < relay_ncas; i++)
		if ((path == NULL) == (relay_cas[i].path == NULL) &&
		    (path == NULL || strcmp(path, relay_cas[i].path) == 0))
			return;
	if (relay_ncas == RELAY_CA_FILES_MAX) {
		log_warnx("- relay too-many-ca-files path=%s", path);
		return;
	}
	relay_cas[relay_ncas].path = path;
	relay_cas[relay_ncas].mem = relay_ca_read(path != NULL ? path :
	    RELAY_CA_BUNDLE, &relay_cas[relay_ncas].len);
	relay_ncas++;
}

/* Every CA file the routes name, and the bundle, read as root. */
void
relay_ca_load(const struct config *conf)
{
	const struct relay_route	*r;

	relay_ca_add(NULL);
	TAILQ_FOREACH(r, &conf->relay_routes, entry)
		if (r->ca_file[0] != '\0')
			relay_ca_add(r->ca_file);
	/* MTA-STS's, for the MX hosts under enforce. */
	if (conf->relay_sts && conf->relay_sts_ca[0] != '\0')
		relay_ca_add(conf->relay_sts_ca);
}

/*
 * The CA memory for a route's CA file (NULL: the bundle).  A file that
 * could not be read gives an empty one: verification then fails, it
 * never falls back to reading inside the chroot.
 */
void
relay_ca_get(const char *path, const uint8_t **mem, size_t *len)
{
	static const uint8_t	 none[] = "";
	size_t			 i;

	*mem = none;
	*len = 0;
	for (i = 0; i < relay_ncas; i++)
		if ((path == NULL) == (relay_cas[i].path == NULL) &&
		    (path == NULL || strcmp(path, relay_cas[i].path) == 0)) {
			if (relay_cas[i].mem != NULL) {
				*mem = relay_cas[i].mem;
				*len = relay_cas[i].len;
			}
			return;
		}
}

/* The resolver, with this host's listening addresses for the loop test. */
static void
relay_dns_setup(const struct config *conf)
{
	static struct rdns_conf	 rc;
	const struct listener	*l;
	size_t			 n = 0;
	char			 err[256];

	relay_dns_conf(conf, &rc);
	TAILQ_FOREACH(l, &conf->listeners, entry)
		if (n < CONFIG_LISTENERS_MAX && l->addr[0] != '\0')
			relay_self_addrs[n++] = l->addr;
	rc.self_addrs = relay_self_addrs;
	rc.nself_addrs = n;
	if ((relay_env.dns = relay_dns_new(relay_env.base, &rc, err,
	    sizeof(err))) == NULL)
		fatalx("- relay resolver: %s", err);
}

static void
relay_parent_dispatch(struct ipc_conn *c, struct ipc_msg *m, void *arg)
{
	uint32_t	 v;

	(void)c;
	(void)arg;
	switch (m->hdr.type) {
	case MSG_PARENT_PEER_FD:
		if (m->fd == -1 || ipc_get_u32(m, &v) == -1 ||
		    ipc_get_end(m) == -1 ||
		    (v != ROLE_QUEUED && v != ROLE_RELAY_STS))
			fatalx("- relay malformed PARENT_PEER_FD");
		if (v == ROLE_QUEUED)
			relay_ipc_manager(m->fd);
		else if (relay_env.sts == NULL)
			fatalx("- relay relay-sts without mta-sts");
		else if (relay_sts_set_helper(relay_env.sts, m->fd) == -1)
			fatalx("- relay relay-sts connection");
		m->fd = -1;
		break;
	case MSG_PARENT_LOG_VERBOSE:
		if (m->fd != -1 || ipc_get_u32(m, &v) == -1 ||
		    ipc_get_end(m) == -1)
			fatalx("- relay malformed PARENT_LOG_VERBOSE");
		log_setverbose(v != 0);
		break;
	default:
		fatalx("- relay unexpected message from parent type=%s",
		    ipc_type_name(m->hdr.type));
	}
}

static void
relay_stop(void)
{
	struct timeval	 tv = { RELAY_STOP_WAIT_SECS, 0 };

	log_info("- relay stopping connections=%u", relay_pool_nconns());
	relay_pool_stop();
	(void)event_base_loopexit(relay_env.base, &tv);
}

static void
relay_parent_closed(struct ipc_conn *c, void *arg)
{
	(void)arg;
	ipc_conn_free(c);
	relay_parent = NULL;
	log_warnx("- relay parent-closed");
	relay_stop();
}

static void
relay_sigterm(evutil_socket_t sig, short ev, void *arg)
{
	(void)sig;
	(void)ev;
	(void)arg;
	relay_stop();
}

static void
relay_signals(void)
{
	static struct event	*evs[2];
	const int		 sigs[2] = { SIGTERM, SIGINT };
	size_t			 i;

	(void)signal(SIGPIPE, SIG_IGN);
	(void)signal(SIGHUP, SIG_IGN);
	(void)signal(SIGUSR1, SIG_IGN);
	(void)signal(SIGUSR2, SIG_IGN);
	for (i = 0; i < 2; i++) {
		evs[i] = evsignal_new(relay_env.base, sigs[i], relay_sigterm,
		    NULL);
		if (evs[i] == NULL || evsignal_add(evs[i], NULL) == -1)
			fatalx("- relay evsignal");
	}
}

static void
relay_libevent_log(int severity, const char *msg)
{
	if (severity >= EVENT_LOG_ERR)
		log_warnx("- relay libevent %s", msg);
	else
		log_debug("- relay libevent %s", msg);
}

void __attribute__((noreturn))
relay_main(int parentfd, const struct config *conf)
{
	char	 err[256];
	uid_t	 uid;
	gid_t	 gid;

	event_set_log_callback(relay_libevent_log);
	relay_env.conf = conf;
	if ((relay_env.base = event_base_new()) == NULL)
		fatalx("- relay event_base_new");
	/* What libtls and OpenSSL read at their start, read now. */
	if (tls_init() == -1)
		fatalx("- relay tls_init");
	relay_ca_load(conf);
	if (conf->secrets_file[0] != '\0' && (relay_env.secrets =
	    secrets_load(conf->secrets_file, err, sizeof(err))) == NULL)
		log_warnx("- relay secrets-refused error=\"%s\"", err);
	relay_dns_setup(conf);
	if (conf->relay_sts && (relay_env.sts = relay_sts_new(relay_env.base,
	    relay_env.dns, -1)) == NULL)
		fatalx("- relay relay_sts_new");
	privsep_lookup(conf->user_relay, &uid, &gid);
	privsep_drop(uid, gid, conf->emptydir);
	relay_signals();
	relay_pool_init();
	relay_parent = ipc_conn_new(relay_env.base, parentfd, ROLE_RELAY,
	    ROLE_BIT(ROLE_PARENT), relay_parent_dispatch,
	    relay_parent_closed, NULL);
	if (relay_parent == NULL)
		fatalx("- relay ipc_conn_new parent");
	sandbox_init(SANDBOX_RELAY);
	log_info("- relay started pid=%ld", (long)getpid());
	(void)event_base_dispatch(relay_env.base);
	log_info("- relay exiting");
	exit(0);
}
