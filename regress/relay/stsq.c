/*
 * stsq: MTA-STS from the DNS to the policy, for the integration tests
 * (regress/integration/test_relay_sts.py): relay_dns_sts() through
 * libunbound, then the policy's HTTPS fetch (relay_sts_fetch, what the
 * relay-sts helper runs), its parser and MX matching, and the cache's
 * decision for each MX host named.
 *
 *   stsq -r addr [-p port] -C cafile [-P https-port] domain [mx ...]
 *   stsq -H [-n rounds] -r addr [-p port] -C cafile [-P https-port] domain
 *
 * With -H, a forked child runs the relay-sts helper's loop
 * (relay_sts_serve) on a socketpair, and the relay's side
 * (relay_sts_lookup, then relay_dns_route and relay_sts_route_filter)
 * asks it, rounds times, waiting for a line on standard input between
 * rounds (the tests change the web server meanwhile).  Output per round:
 *   lookup DOMAIN source=fetch|cache|none id=ID mode=M note=TEXT
 *   route ok|temp|perm ENHANCED mx=HOST,HOST nomatch=N text=TEXT
 *
 * Output:
 *   sts DOMAIN ok|temp found=0|1 id=ID naddr=N
 *   why TEXT                          (found=0)
 *   fetch ok bytes=N | fetch fail TEXT
 *   policy MODE max_age=N mx=P,P,... | policy fail TEXT
 *   match HOST 0|1
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <err.h>
#include <event2/event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tls.h>
#include <unistd.h>

#include "config.h"
#include "ipc.h"
#include "log.h"
#include "proto.h"
#include "../../queued/relay_dns.h"
#include "../../queued/relay_sts.h"
#include "../../queued/relay_sts_fetch.h"
#include "../../queued/queued.h"
#include "../../queued/relay_sts_helper.h"
#include "../../queued/relay_sts_http.h"

static struct event_base *base;
static struct rdns_sts	 answer;

static void
stsq_answer(const struct rdns_sts *s, void *arg)
{
	(void)arg;
	answer = *s;
	(void)event_base_loopexit(base, NULL);
}

static void
stsq_policy(const char *body, size_t len, char **mx, int nmx)
{
	struct relay_sts_policy	 p;
	const char		*err;
	size_t			 i;
	int			 j;

	if (relay_sts_policy_parse(body, len, &p, &err) == -1) {
		printf("policy fail %s\n", err);
		return;
	}
	printf("policy %s max_age=%u mx=", relay_sts_mode_name(p.mode),
	    p.max_age);
	for (i = 0; i < p.nmx; i++)
		printf("%s%s", i ? "," : "", relay_sts_policy_mx(&p, i));
	printf("\n");
	for (j = 0; j < nmx; j++)
		printf("match %s %d\n", mx[j], relay_sts_mx_match(&p, mx[j]));
}

static struct relay_dns	*dns;
static struct relay_sts_policy	 applied;
static int			 have_policy;
static const char *const status_names[] = { "ok", "temp", "perm" };

static void
stsq_lookup_done(const struct relay_sts_result *r, void *arg)
{
	printf("lookup %s source=%s id=%s mode=%s note=%s\n",
	    (const char *)arg, r->source, r->id[0] ? r->id : "-",
	    r->policy ? relay_sts_mode_name(r->policy->mode) : "-",
	    r->note[0] ? r->note : "-");
	if ((have_policy = r->policy != NULL))
		applied = *r->policy;
	(void)event_base_loopexit(base, NULL);
}

static void
stsq_route_done(const struct rdns_route *cr, void *arg)
{
	struct rdns_route	 r = *cr;
	size_t			 i, nomatch;

	nomatch = relay_sts_route_filter(have_policy ? &applied : NULL, &r,
	    (const char *)arg);
	printf("route %s %s mx=", status_names[r.status],
	    r.enhanced ? r.enhanced : "2.0.0");
	for (i = 0; i < r.nmx; i++)
		printf("%s%s", i ? "," : "", r.mx[i].host);
	printf(" nomatch=%zu text=%s\n", nomatch, r.status == RDNS_OK ? "-" :
	    r.text);
	(void)event_base_loopexit(base, NULL);
}

static const char	*role_root, *role_ca;
static int		 role_parentfd = -1;

/*
 * With -R: the role itself in a child (relay_sts_proc_main: chroot in
 * dir, _sallyrelay, SANDBOX_RELAY_STS), this process as its parent
 * handing it the relay's socket.
 */
static int
stsq_role(pid_t *pid)
{
	static struct config	 conf;
	static struct ipc_out	 o;
	int			 psv[2], rsv[2];

	(void)strlcpy(conf.emptydir, role_root, sizeof(conf.emptydir));
	(void)strlcpy(conf.user_relay, "_sallyrelay", sizeof(conf.user_relay));
	if (ipc_socketpair(psv) == -1 || ipc_socketpair(rsv) == -1)
		err(1, "socketpair");
	(void)fflush(stdout);
	if ((*pid = fork()) == -1)
		err(1, "fork");
	if (*pid == 0) {
		(void)close(psv[0]);
		(void)close(rsv[0]);
		(void)close(rsv[1]);
		relay_sts_proc_main(psv[1], &conf, role_ca);
	}
	(void)close(psv[1]);
	role_parentfd = psv[0];
	if (ipc_hello_sync(psv[0], ROLE_PARENT, ROLE_BIT(ROLE_RELAY_STS)) ==
	    -1)
		err(1, "hello");
	ipc_out_init(&o, MSG_PARENT_PEER_FD, 0);
	ipc_put_u32(&o, ROLE_RELAY);
	if (ipc_send_sync(psv[0], &o, rsv[1]) == -1)
		err(1, "PARENT_PEER_FD");
	(void)close(rsv[1]);
	printf("helper pid=%ld\n", (long)*pid);
	(void)fflush(stdout);
	return rsv[0];
}

/* The helper in a child, as the relay-sts role runs it. */
static int
stsq_helper(struct tls_config *cfg, int port, pid_t *pid)
{
	int	 sv[2];

	if (role_root != NULL)
		return stsq_role(pid);
	if (ipc_socketpair(sv) == -1)
		err(1, "socketpair");
	if ((*pid = fork()) == -1)
		err(1, "fork");
	if (*pid == 0) {
		(void)close(sv[0]);
		if (ipc_hello_sync(sv[1], ROLE_RELAY_STS,
		    ROLE_BIT(ROLE_RELAY)) == -1)
			_exit(3);
		_exit(relay_sts_serve(sv[1], -1, cfg, (uint16_t)port) == 0 ?
		    0 : 4);
	}
	(void)close(sv[1]);
	return sv[0];
}

static void
stsq_rounds(struct tls_config *cfg, int port, const char *domain,
    int rounds)
{
	struct relay_sts	*s;
	char			 line[64];
	pid_t			 pid;
	int			 i, status;

	if ((s = relay_sts_new(base, dns, stsq_helper(cfg, port, &pid))) ==
	    NULL)
		errx(1, "relay_sts_new");
	for (i = 0; i < rounds; i++) {
		if (i > 0 && fgets(line, sizeof(line), stdin) == NULL)
			break;
		if (relay_sts_lookup(s, domain, stsq_lookup_done,
		    (void *)(uintptr_t)domain) == -1 ||
		    event_base_dispatch(base) == -1 ||
		    relay_dns_route(dns, domain, stsq_route_done,
		    (void *)(uintptr_t)domain) == -1 ||
		    event_base_dispatch(base) == -1)
			errx(1, "lookup");
		(void)fflush(stdout);
	}
	relay_sts_free(s);
	if (role_parentfd != -1)
		(void)close(role_parentfd);
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		errx(1, "helper: status %d", status);
}

int
main(int argc, char *argv[])
{
	static char		 buf[RELAY_STS_POLICY_MAX_BYTES +
				    RELAY_STS_HTTP_HEADER_MAX_BYTES];
	struct rdns_conf	 c;
	struct relay_dns	*d;
	struct tls_config	*cfg;
	const char		*cafile = NULL, *body;
	char			 errbuf[256];
	size_t			 len;
	int			 ch, port = 443, helper = 0, rounds = 1;

	log_init("stsq", 1);
	memset(&c, 0, sizeof(c));
	while ((ch = getopt(argc, argv, "C:Hn:P:p:R:r:")) != -1) {
		switch (ch) {
		case 'H':
			helper = 1;
			break;
		case 'R':
			helper = 1;
			role_root = optarg;
			break;
		case 'n':
			rounds = atoi(optarg);
			break;
		case 'C':
			cafile = optarg;
			break;
		case 'P':
			port = atoi(optarg);
			break;
		case 'p':
			c.port = (uint16_t)atoi(optarg);
			break;
		case 'r':
			c.mode = RDNS_MODE_ADDR;
			(void)strlcpy(c.addr, optarg, sizeof(c.addr));
			break;
		default:
			errx(2, "usage: stsq [-H [-n rounds]] -r addr [-p port] "
			    "-C cafile [-P https-port] domain [mx ...]");
		}
	}
	if (optind >= argc || cafile == NULL)
		errx(2, "a domain and -C cafile needed");
	role_ca = cafile;
	if ((cfg = relay_sts_fetch_config(cafile, errbuf,
	    sizeof(errbuf))) == NULL)
		errx(1, "%s", errbuf);
	if ((base = event_base_new()) == NULL)
		errx(1, "event_base_new");
	if ((d = relay_dns_new(base, &c, errbuf, sizeof(errbuf))) == NULL)
		errx(1, "%s", errbuf);
	if (helper) {
		dns = d;
		stsq_rounds(cfg, port, argv[optind], rounds);
		relay_dns_free(d);
		event_base_free(base);
		tls_config_free(cfg);
		return 0;
	}
	if (relay_dns_sts(d, argv[optind], stsq_answer, NULL) == -1)
		errx(1, "out of memory");
	(void)event_base_dispatch(base);
	printf("sts %s %s found=%d id=%s naddr=%zu\n", argv[optind],
	    answer.status == RDNS_OK ? "ok" : "temp", answer.found,
	    answer.id[0] ? answer.id : "-", answer.naddr);
	if (!answer.found)
		printf("why %s\n", answer.why);
	else if (relay_sts_fetch(cfg, answer.host, (uint16_t)port,
	    answer.addr, answer.naddr, buf, sizeof(buf), &body, &len, errbuf,
	    sizeof(errbuf)) == -1)
		printf("fetch fail %s\n", errbuf);
	else {
		printf("fetch ok bytes=%zu\n", len);
		stsq_policy(body, len, argv + optind + 1, argc - optind - 1);
	}
	relay_dns_free(d);
	event_base_free(base);
	tls_config_free(cfg);
	return 0;
}
