/*
 * The relay process's insides (queued/relay*.c: the manager's protocol,
 * the pool, routes, connections, results) as a command, for
 * regress/integration/test_relay_proc.py until the manager's side is
 * merged: it plays the queue manager on a socketpair to relay_ipc.c in
 * the same process, sends a RELAY_START per message and destination
 * domain, and prints what comes back:
 *
 *	result <evpid> ok|tempfail|permfail <flags> <status> <remote> <diag>
 *	host <dest> <conns> <queued> <active> <backoff 0|1> <last error>
 *	stat <name> <value>
 *
 * relayq -f conf [-1] [-a label] [-B source] [-c count] [-C cafile] [-F sender] [-H helo]
 *	  [-L conns] [-M msgs] [-N notify] [-P secrets] [-q] [-s] [-S host:port]
 *	  [-t tls] [-T secs] [-U] [-W secs] [-Z] file rcpt ...
 *
 * -S routes every domain to the smarthost host:port with TLS policy -t,
 * CA file -C and AUTH label -a (its credentials in the file -P), over
 * implicit TLS with -s, from the source address -B; -c sends the message count times; -q sends
 * one RELAY_START after the other's result (reuse); -L and -M set
 * relay_conns_per_domain and relay_msgs_per_conn, -T every timeout;
 * -U flags the messages SMTPUTF8; -1 sends a RELAY_START per rcpt (as a
 * manager whose envelopes came due apart);
 * -W waits before asking RELAY_HOSTS and RELAY_STATS; -Z loads the
 * relay's seccomp filter (SANDBOX_RELAY) before the first message.
 */
#include <sys/types.h>

#include <err.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "../../queued/relay.h"
#include "ipc.h"
#include "log.h"
#include "proto.h"
#include "sandbox.h"

#define RELAYQ_STARTS_MAX	1000

struct relayq_start {
	char		 domain[CONFIG_NAME_MAX];
	char		**rcpts;
	size_t		 nrcpts;
	size_t		 first;		/* its first rcpt's number */
	int		 n;		/* which copy: its msgid */
};

static struct ipc_conn		*mgr;
static struct relayq_start	 starts[RELAYQ_STARTS_MAX];
static size_t			 nstarts, sent, answered;
static int			 msgfd = -1;
static const char		*file, *sender = "sender@example.test";
static uint32_t			 notify;
static int			 sequential, wait_secs;
static uint32_t			 start_flags;
static int			 split_rcpts;
static struct event		*ev_wait;

static void
relayq_send(size_t i)
{
	struct relayq_start	*s = &starts[i];
	struct ipc_out		 o;
	char			 evpid[64], msgid[32];
	size_t			 k;
	int			 fd;

	/* fcntl, not open or dup: the relay's filter may be on. */
	if ((fd = fcntl(msgfd, F_DUPFD_CLOEXEC, 0)) == -1)
		err(1, "%s", file);
	ipc_out_init(&o, MSG_QUEUE_RELAY_START, (uint32_t)i + 1);
	(void)snprintf(msgid, sizeof(msgid), "%016x", s->n);
	ipc_put_str(&o, msgid);
	ipc_put_str(&o, s->domain);
	ipc_put_str(&o, sender);
	ipc_put_u32(&o, start_flags);
	ipc_put_u32(&o, 0);
	ipc_put_str(&o, "");
	ipc_put_u64(&o, 0);
	ipc_put_u32(&o, (uint32_t)s->nrcpts);
	for (k = 0; k < s->nrcpts; k++) {
		(void)snprintf(evpid, sizeof(evpid), "%s.%zu", msgid,
		    s->first + k + 1);
		ipc_put_str(&o, evpid);
		ipc_put_str(&o, s->rcpts[k]);
		ipc_put_u32(&o, notify);
		ipc_put_str(&o, "");
	}
	if (ipc_conn_send(mgr, &o, fd) == -1)
		errx(1, "ipc_conn_send");
	sent++;
}

static void
relayq_after(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	(void)ipc_conn_send_empty(mgr, MSG_QUEUE_RELAY_HOSTS, 0);
}

static void
relayq_result(struct ipc_msg *m)
{
	static const char	*names[] = { "ok", "tempfail", "permfail" };
	char			 evpid[64], status[16], remote[512], diag[1024];
	uint32_t		 n, r, flags, i;
	struct timeval		 tv = { wait_secs, 0 };

	if (ipc_get_u32(m, &n) == -1)
		errx(1, "bad RELAY_RESULT");
	for (i = 0; i < n; i++) {
		if (ipc_get_str(m, evpid, sizeof(evpid)) == -1 ||
		    ipc_get_u32(m, &r) == -1 || ipc_get_u32(m, &flags) == -1 ||
		    ipc_get_str(m, status, sizeof(status)) == -1 ||
		    ipc_get_str(m, remote, sizeof(remote)) == -1 ||
		    ipc_get_str(m, diag, sizeof(diag)) == -1 || r > 2)
			errx(1, "bad RELAY_RESULT rcpt");
		printf("result %s %s %u %s %s %s\n", evpid, names[r], flags,
		    status, remote[0] != '\0' ? remote : "-", diag);
	}
	if (ipc_get_end(m) == -1)
		errx(1, "bad RELAY_RESULT end");
	fflush(stdout);
	answered++;
	if (sequential && sent < nstarts)
		relayq_send(sent);
	else if (answered == nstarts)
		(void)evtimer_add(ev_wait, &tv);
}

static void
relayq_dispatch(struct ipc_conn *c, struct ipc_msg *m, void *arg)
{
	char		 s[1024], e[1024];
	uint32_t	 conns, queued, active;
	uint64_t	 v;

	(void)c;
	(void)arg;
	switch (m->hdr.type) {
	case MSG_RELAY_RESULT:
		relayq_result(m);
		break;
	case MSG_RELAY_HOST:
		if (ipc_get_str(m, s, sizeof(s)) == -1 ||
		    ipc_get_u32(m, &conns) == -1 ||
		    ipc_get_u32(m, &queued) == -1 ||
		    ipc_get_u32(m, &active) == -1 ||
		    ipc_get_u64(m, &v) == -1 ||
		    ipc_get_str(m, e, sizeof(e)) == -1)
			errx(1, "bad RELAY_HOST");
		printf("host %s %u %u %u %d %s\n", s, conns, queued, active,
		    v != 0, e[0] != '\0' ? e : "-");
		break;
	case MSG_RELAY_HOSTS_END:
		(void)ipc_conn_send_empty(mgr, MSG_QUEUE_RELAY_STATS, 0);
		break;
	case MSG_RELAY_STAT:
		if (ipc_get_str(m, s, sizeof(s)) == -1 ||
		    ipc_get_u64(m, &v) == -1)
			errx(1, "bad RELAY_STAT");
		printf("stat %s %llu\n", s, (unsigned long long)v);
		break;
	case MSG_RELAY_STATS_END:
		fflush(stdout);
		exit(0);
	default:
		errx(1, "unexpected %s", ipc_type_name(m->hdr.type));
	}
}

static void
relayq_closed(struct ipc_conn *c, void *arg)
{
	(void)c;
	(void)arg;
	errx(1, "the relay closed the connection");
}

/* Groups the rcpts by domain, count copies of each group. */
static void
relayq_plan(char **rcpts, int n, int count)
{
	struct relayq_start	*s;
	const char		*at;
	size_t			 i, k;
	int			 c;

	for (c = 0; c < count; c++)
		for (i = 0; i < (size_t)n; i++) {
			if ((at = strrchr(rcpts[i], '@')) == NULL)
				errx(1, "%s: no domain", rcpts[i]);
			for (k = nstarts - (nstarts > 0 ? 1 : 0); k < nstarts;
			    k++)
				if (starts[k].n == c && !split_rcpts &&
				    strcmp(starts[k].domain, at + 1) == 0)
					break;
			if (k == nstarts) {
				if (nstarts == RELAYQ_STARTS_MAX)
					errx(1, "too many messages");
				k = nstarts++;
				(void)strlcpy(starts[k].domain, at + 1,
				    sizeof(starts[k].domain));
				starts[k].n = c;
				starts[k].first = i;
				starts[k].rcpts = calloc((size_t)n,
				    sizeof(char *));
				if (starts[k].rcpts == NULL)
					err(1, "calloc");
			}
			s = &starts[k];
			s->rcpts[s->nrcpts++] = rcpts[i];
		}
}

static int	 smtps;
static const char *source;

static void
relayq_smarthost(struct config *conf, const char *hp, int tls,
    const char *ca, const char *auth)
{
	struct relay_route	*r;
	const char		*colon = strrchr(hp, ':');

	if (colon == NULL || (r = calloc(1, sizeof(*r))) == NULL)
		errx(1, "-S addr:port");
	r->via_host = 1;
	(void)snprintf(r->host, sizeof(r->host), "%.*s", (int)(colon - hp),
	    hp);
	r->port = (uint16_t)atoi(colon + 1);
	r->tls = (enum route_tls)tls;
	if (ca != NULL)
		(void)strlcpy(r->ca_file, ca, sizeof(r->ca_file));
	if (auth != NULL)
		(void)strlcpy(r->auth, auth, sizeof(r->auth));
	r->smtps = smtps;
	if (source != NULL)
		(void)strlcpy(r->source, source, sizeof(r->source));
	TAILQ_INSERT_TAIL(&conf->relay_routes, r, entry);
}

static void
relayq_timeouts(struct config *c, uint32_t n)
{
	c->relay_connect_timeout_secs = c->relay_greeting_timeout_secs = n;
	c->relay_mail_timeout_secs = c->relay_rcpt_timeout_secs = n;
	c->relay_data_init_timeout_secs = n;
	c->relay_data_block_timeout_secs = c->relay_data_end_timeout_secs = n;
}

int
main(int argc, char *argv[])
{
	static const char	*tlsnames[] = { "opportunistic", "none",
				    "require", "verify" };
	struct config		*conf = NULL;
	struct rdns_conf	 rc;
	char			 errbuf[1024];
	const char		*smarthost = NULL, *ca = NULL, *auth = NULL;
	const char		*secrets = NULL;
	int			 ch, count = 1, tls = 0, sv[2], sandbox = 0;
	size_t			 i;

	log_init("relayq", 1);
	while ((ch = getopt(argc, argv, "1a:B:c:C:f:F:H:L:M:N:P:qsS:t:T:UvW:Z"))
	    != -1) {
		switch (ch) {
		case '1': split_rcpts = 1; break;
		case 'a': auth = optarg; break;
		case 'B': source = optarg; break;
		case 'P': secrets = optarg; break;
		case 'c': count = atoi(optarg); break;
		case 'C': ca = optarg; break;
		case 'f':
			if ((conf = config_load(optarg, errbuf,
			    sizeof(errbuf))) == NULL)
				errx(1, "%s", errbuf);
			break;
		case 'F': sender = optarg; break;
		case 'H': (void)strlcpy(conf->hostname, optarg,
			    sizeof(conf->hostname)); break;
		case 'L': conf->relay_conns_per_domain = (uint32_t)atoi(optarg);
			break;
		case 'M': conf->relay_msgs_per_conn = (uint32_t)atoi(optarg);
			break;
		case 'N': notify = (uint32_t)atoi(optarg); break;
		case 'q': sequential = 1; break;
		case 's': smtps = 1; break;
		case 'S': smarthost = optarg; break;
		case 't':
			for (tls = 0; tls < 4; tls++)
				if (strcmp(optarg, tlsnames[tls]) == 0)
					break;
			if (tls == 4)
				errx(1, "bad -t");
			break;
		case 'T': relayq_timeouts(conf, (uint32_t)atoi(optarg)); break;
		case 'U': start_flags |= RELAY_START_F_SMTPUTF8; break;
		case 'v': log_setverbose(1); break;
		case 'W': wait_secs = atoi(optarg); break;
		case 'Z': sandbox = 1; break;
		default: errx(1, "usage: relayq -f conf [options] file rcpt...");
		}
	}
	argc -= optind;
	argv += optind;
	if (conf == NULL || argc < 2 || count < 1)
		errx(1, "usage: relayq -f conf [options] file rcpt...");
	file = argv[0];
	if ((msgfd = open(file, O_RDONLY | O_CLOEXEC)) == -1)
		err(1, "%s", file);
	if (smarthost != NULL)
		relayq_smarthost(conf, smarthost, tls, ca, auth);
	if (secrets != NULL && (relay_env.secrets = secrets_load_owner(secrets,
	    geteuid(), errbuf, sizeof(errbuf))) == NULL)
		errx(1, "%s", errbuf);
	relayq_plan(argv + 1, argc - 1, count);

	relay_env.conf = conf;
	if ((relay_env.base = event_base_new()) == NULL)
		errx(1, "event_base_new");
	relay_ca_load(conf);
	relay_dns_conf(conf, &rc);
	if ((relay_env.dns = relay_dns_new(relay_env.base, &rc, errbuf,
	    sizeof(errbuf))) == NULL)
		errx(1, "resolver: %s", errbuf);
	relay_pool_init();
	if ((ev_wait = evtimer_new(relay_env.base, relayq_after, NULL)) ==
	    NULL || ipc_socketpair(sv) == -1)
		err(1, "setup");
	relay_ipc_manager(sv[0]);
	if ((mgr = ipc_conn_new(relay_env.base, sv[1], ROLE_QUEUED,
	    ROLE_BIT(ROLE_RELAY), relayq_dispatch, relayq_closed, NULL)) ==
	    NULL)
		errx(1, "ipc_conn_new");
	if (sandbox)
		sandbox_init(SANDBOX_RELAY);
	if (sequential)
		relayq_send(0);
	else
		for (i = 0; i < nstarts; i++)
			relayq_send(i);
	(void)event_base_dispatch(relay_env.base);
	return 1;
}
