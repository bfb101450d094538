/*
 * stsq: MTA-STS from the DNS to the policy, for the integration tests
 * (regress/integration/test_relay_sts.py): relay_dns_sts() through
 * libunbound, then the policy's HTTPS fetch (relay_sts_fetch, what the
 * relay-sts helper runs), its parser and MX matching, and the cache's
 * decision for each MX host named.
 *
 *   stsq -r addr [-p port] -C cafile [-P https-port] domain [mx ...]
 *
 * Output:
 *   sts DOMAIN ok|temp found=0|1 id=ID naddr=N
 *   why TEXT                          (found=0)
 *   fetch ok bytes=N | fetch fail TEXT
 *   policy MODE max_age=N mx=P,P,... | policy fail TEXT
 *   match HOST 0|1
 */
#include <sys/types.h>

#include <err.h>
#include <event2/event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tls.h>
#include <unistd.h>

#include "../../queued/relay_dns.h"
#include "../../queued/relay_sts.h"
#include "../../queued/relay_sts_fetch.h"
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
	int			 ch, port = 443;

	memset(&c, 0, sizeof(c));
	while ((ch = getopt(argc, argv, "C:P:p:r:")) != -1) {
		switch (ch) {
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
			errx(2, "usage: stsq -r addr [-p port] -C cafile "
			    "[-P https-port] domain [mx ...]");
		}
	}
	if (optind >= argc || cafile == NULL)
		errx(2, "a domain and -C cafile needed");
	if ((cfg = relay_sts_fetch_config(cafile, errbuf,
	    sizeof(errbuf))) == NULL)
		errx(1, "%s", errbuf);
	if ((base = event_base_new()) == NULL)
		errx(1, "event_base_new");
	if ((d = relay_dns_new(base, &c, errbuf, sizeof(errbuf))) == NULL)
		errx(1, "%s", errbuf);
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
