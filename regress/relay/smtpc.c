/*
 * The relay's SMTP client (queued/relay_smtp*.c) as a command, for the
 * integration tests (regress/integration/test_relay_smtp.py): connects
 * to 127.0.0.1:port, sends a message file (as the queue stores it: LF
 * line ends, unstuffed) to the recipients, and prints one line per
 * recipient, one per message, and one for the connection:
 *
 *	rcpt <addr> done|retry|failed <reply>
 *	msg <n>
 *	conn ok|fail <reason>
 *	peak-rss <n> kB
 *
 * smtpc -p port [-c count] [-C cafile] [-E envid] [-f sender] [-h helo]
 *	 [-i idle] [-k] [-m msgs-max] [-n tlsname] [-N notify] [-O orcpt]
 *	 [-R ret] [-t none|opportunistic|require|verify] [-T secs] [-8]
 *	 [-D "usage selector mtype hex"] [-I] [-U] [-v] file rcpt ...
 *
 * -c sends the message count times over the one connection; -k leaves
 * the connection idle after the last, for the idle time (-i) to end
 * it; -T sets every timeout.  -D adds a TLSA record for DANE (up to
 * RELAY_DNS_TLSA_MAX), taken as DNSSEC-secure unless -I says insecure.  Exits 0 once the connection has ended.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <err.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../queued/relay_dns.h"
#include "../../queued/relay_smtp.h"
#include "log.h"

struct smtpc {
	struct event_base	*base;
	struct relay_msg	 msg;
	int			 count;
	int			 sent;
	int			 keep;		/* -k: wait for the idle QUIT */
};

static const char *smtpc_results[] = { "pending", "done", "retry",
    "failed" };

static void
smtpc_rcpt(struct relay_smtp *c, struct relay_msg *m, struct relay_rcpt *r,
    void *arg)
{
	(void)c;
	(void)m;
	(void)arg;
	printf("rcpt %s %s %s\n", r->addr, smtpc_results[r->result],
	    r->reply);
}

static void
smtpc_msg(struct relay_smtp *c, struct relay_msg *m, void *arg)
{
	struct smtpc	*s = arg;

	printf("msg %d\n", ++s->sent);
	fflush(stdout);
	if (s->sent < s->count && relay_smtp_send(c, m) == -1)
		printf("send refused\n");
	else if (s->sent >= s->count && !s->keep)
		relay_smtp_quit(c);
}

static void
smtpc_conn(struct relay_smtp *c, int ok, const char *reason, void *arg)
{
	struct smtpc	*s = arg;

	printf("conn %s %s\n", ok ? "ok" : "fail", reason);
	fflush(stdout);
	relay_smtp_free(c);
	(void)event_base_loopexit(s->base, NULL);
}

/* This program's peak RSS (VmHWM: since exec, not the parent's). */
static void
smtpc_peak(void)
{
	FILE	*f;
	char	 line[128];

	if ((f = fopen("/proc/self/status", "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmHWM:", 6) == 0)
			printf("peak-rss %s",
			    line + 6 + strspn(line + 6, " \t"));
	fclose(f);
}

static int
smtpc_connect(int port)
{
	struct sockaddr_in	 sin;
	int			 fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		err(1, "connect 127.0.0.1:%d", port);
	return fd;
}

static enum relay_tls_policy
smtpc_policy(const char *s)
{
	static const char	*names[] = { "none", "opportunistic",
				    "require", "verify" };
	size_t			 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0)
			return (enum relay_tls_policy)i;
	errx(1, "bad tls policy: %s", s);
}

static void
smtpc_timeouts(struct relay_timeouts *t, const char *s)
{
	const char	*errstr;
	int		 n;

	n = (int)strtonum(s, 1, 3600, &errstr);
	if (errstr != NULL)
		errx(1, "timeout %s: %s", s, errstr);
	t->greeting = t->mail = t->rcpt = n;
	t->data_init = t->data_block = t->data_end = n;
}

static void
smtpc_rcpts(struct relay_msg *m, char **argv, int argc,
    const char *notify, const char *orcpt)
{
	int	 i;

	if ((m->rcpts = calloc((size_t)argc, sizeof(*m->rcpts))) == NULL)
		err(1, "calloc");
	m->nrcpts = (size_t)argc;
	for (i = 0; i < argc; i++) {
		m->rcpts[i].addr = argv[i];
		m->rcpts[i].notify = notify;
		m->rcpts[i].orcpt = orcpt;
	}
}

/* -D "3 1 1 abcd...": one TLSA record, as a secure answer. */
static void
smtpc_tlsa(struct rdns_tlsa *t, const char *s)
{
	struct rdns_tlsa_rr	*rr;
	unsigned int		 u, sel, mt, byte;
	int			 n;

	if (t->n == RELAY_DNS_TLSA_MAX)
		errx(1, "too many TLSA records");
	rr = &t->rr[t->n++];
	if (sscanf(s, "%u %u %u %n", &u, &sel, &mt, &n) != 3 || u > 255 ||
	    sel > 255 || mt > 255)
		errx(1, "bad TLSA record: %s", s);
	rr->usage = (uint8_t)u;
	rr->selector = (uint8_t)sel;
	rr->mtype = (uint8_t)mt;
	for (s += n; *s != '\0'; s += 2) {
		if (rr->len == sizeof(rr->data) || sscanf(s, "%2x", &byte) != 1)
			errx(1, "bad TLSA data");
		rr->data[rr->len++] = (uint8_t)byte;
	}
	t->status = RDNS_OK;
	t->sec = RDNS_SEC_SECURE;
}

int
main(int argc, char *argv[])
{
	struct relay_params	 p;
	struct relay_callbacks	 cb = { smtpc_rcpt, smtpc_msg, smtpc_conn,
	    NULL };
	struct relay_smtp	*c;
	struct smtpc		 s;
	struct rdns_tlsa	 tlsa;
	int			 insecure = 0;
	const char		*notify = NULL, *orcpt = NULL;
	int			 ch, port = 0, verbose = 0;

	memset(&p, 0, sizeof(p));
	memset(&s, 0, sizeof(s));
	memset(&tlsa, 0, sizeof(tlsa));
	p.id = "smtpc";
	p.helo = "relay.example.test";
	p.tls = RELAY_TLS_OPPORTUNISTIC;
	p.idle_secs = 60;
	relay_smtp_timeouts_default(&p.timeouts);
	s.count = 1;
	s.msg.sender = "sender@example.test";
	while ((ch = getopt(argc, argv, "8c:C:D:E:f:h:Ii:km:n:N:O:p:R:t:T:Uv"))
	    != -1) {
		switch (ch) {
		case '8': s.msg.flags |= RELAY_MSG_8BIT; break;
		case 'c': s.count = atoi(optarg); break;
		case 'C': p.tls_ca_file = optarg; break;
		case 'D': smtpc_tlsa(&tlsa, optarg); break;
		case 'I': insecure = 1; break;
		case 'E': s.msg.envid = optarg; break;
		case 'f': s.msg.sender = optarg; break;
		case 'h': p.helo = optarg; break;
		case 'i': p.idle_secs = atoi(optarg); break;
		case 'k': s.keep = 1; break;
		case 'm': p.msgs_max = atoi(optarg); break;
		case 'n': p.tls_name = optarg; break;
		case 'N': notify = optarg; break;
		case 'O': orcpt = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'R': s.msg.ret = optarg; break;
		case 't': p.tls = smtpc_policy(optarg); break;
		case 'T': smtpc_timeouts(&p.timeouts, optarg); break;
		case 'U': s.msg.flags |= RELAY_MSG_SMTPUTF8; break;
		case 'v': verbose = 1; break;
		default: errx(1, "usage: smtpc -p port [options] file rcpt...");
		}
	}
	argc -= optind;
	argv += optind;
	if (port <= 0 || argc < 2)
		errx(1, "usage: smtpc -p port [options] file rcpt...");
	if (tlsa.n > 0) {
		if (insecure)
			tlsa.sec = RDNS_SEC_INSECURE;
		p.tlsa = &tlsa;
	}
	/* A server that closes first is an error to report, not a signal. */
	(void)signal(SIGPIPE, SIG_IGN);
	log_init("smtpc", 1);
	log_setverbose(verbose);
	if ((s.msg.fd = open(argv[0], O_RDONLY)) == -1)
		err(1, "%s", argv[0]);
	smtpc_rcpts(&s.msg, argv + 1, argc - 1, notify, orcpt);
	if ((s.base = event_base_new()) == NULL)
		errx(1, "event_base_new");
	if ((c = relay_smtp_new(s.base, smtpc_connect(port), &p, &cb, &s))
	    == NULL)
		errx(1, "relay_smtp_new");
	if (relay_smtp_send(c, &s.msg) == -1)
		errx(1, "relay_smtp_send refused the message");
	(void)event_base_dispatch(s.base);
	event_base_free(s.base);
	free(s.msg.rcpts);
	(void)close(s.msg.fd);
	smtpc_peak();
	return 0;
}
