/*
 * pop3-load: the benchmark's POP3 load generator.  Runs as any user, one
 * process, one libevent loop; talks plain POP3 to one loopback address.
 *
 * N clients run at once, client i always as user i of the list (a POP3
 * server may lock a maildrop for a session, RFC 1939 8, so two sessions
 * of one user at once would fail).  Each client opens a connection, runs
 * the script of the mode, and opens the next connection, until the
 * sessions asked for have been run in all:
 *
 *   sessions   USER, PASS, STAT, QUIT
 *   logins     USER, PASS, QUIT
 *   retr       USER, PASS, STAT, RETR of each message, QUIT
 *
 * One command at a time (no pipelining), each sent after the answer to
 * the previous one.  Any -ERR, malformed answer, timeout or unexpected
 * close is an error: the session ends and counts as failed.  At the end
 * it prints the figures, and one line "RESULT key=value ..." for
 * bench/pop3.py.
 *
 * It refuses any address outside 127.0.0.0/8 and ::1, and never does a
 * name lookup: the address is parsed with inet_pton.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "load-common.h"

#define LOAD_CLIENTS_MAX	1000
#define LOAD_SESSIONS_MAX	10000000
/* RFC 1939 3: a response line is at most 512 octets with its CRLF. */
#define LOAD_LINE_MAX_BYTES	512
#define LOAD_USER_MAX_BYTES	64
#define LOAD_PASS_MAX_BYTES	256
#define LOAD_IO_TIMEOUT_SECS	30
#define LOAD_DEADLINE_SECS	120
#define LOAD_ERRORS_SHOWN	5
#define LOAD_MSGS_MAX		10000000

enum load_mode {
	M_SESSIONS,
	M_LOGINS,
	M_RETR,
};

static const char *const load_modes[] = {
	[M_SESSIONS] = "sessions",
	[M_LOGINS] = "logins",
	[M_RETR] = "retr",
};

enum load_state {
	S_GREETING,
	S_USER,
	S_PASS,
	S_STAT,
	S_RETR,		/* the +OK line of a RETR */
	S_MULTI,	/* the rest of a RETR, up to its final dot */
	S_QUIT,
};

struct load_client {
	struct bufferevent	*bev;
	enum load_state		 state;
	int			 slot;		/* its user */
	int			 in_session;	/* a session taken, not done */
	long			 msgs;		/* STAT's count (retr) */
	long			 next;		/* next message to RETR */
	int			 scan;		/* end-of-answer scanner */
	struct timespec		 t_open;
};

struct load_step {
	enum load_state	  state;
	int		(*handler)(struct load_client *, const char *);
};

static int	step_greeting(struct load_client *, const char *);
static int	step_user(struct load_client *, const char *);
static int	step_pass(struct load_client *, const char *);
static int	step_stat(struct load_client *, const char *);
static int	step_retr(struct load_client *, const char *);
static int	step_quit(struct load_client *, const char *);

/* What follows the +OK of each state (S_MULTI is scanned, not read). */
static const struct load_step load_steps[] = {
	/* state	handler */
	{ S_GREETING,	step_greeting },
	{ S_USER,	step_user },
	{ S_PASS,	step_pass },
	{ S_STAT,	step_stat },
	{ S_RETR,	step_retr },
	{ S_MULTI,	NULL },
	{ S_QUIT,	step_quit },
};

static struct {
	/* Options. */
	struct load_addr	 addr;
	enum load_mode		 mode;
	int			 clients;
	long			 sessions;
	const char		*users[LOAD_CLIENTS_MAX];
	int			 nusers;
	const char		*pass;
	int			 deadline_secs;
	int			 verbose;

	/* State. */
	struct event_base	*base;
	long			 started;	/* sessions begun */
	long			 done;		/* sessions ended by +OK to QUIT */
	long			 failed;
	long			 connections;
	long			 msgs;		/* messages retrieved whole */
	uint64_t		 bytes;		/* bytes of RETR answers */
	int			 active;
	int			 timed_out;
	double			*sess_ms;
	struct timespec		 t_start;
	struct timespec		 t_last;
} L;

static void	client_open(int);
static void	client_end(struct load_client *);

static void
client_printf(struct load_client *c, const char *fmt, ...)
    __attribute__((__format__(__printf__, 2, 3)));

static void
client_printf(struct load_client *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = evbuffer_add_vprintf(bufferevent_get_output(c->bev), fmt, ap);
	va_end(ap);
	if (n < 0)
		errx(1, "evbuffer_add_vprintf");
}

static void
client_quit(struct load_client *c)
{
	client_printf(c, "QUIT\r\n");
	c->state = S_QUIT;
}

static int
step_greeting(struct load_client *c, const char *line)
{
	(void)line;
	client_printf(c, "USER %s\r\n", L.users[c->slot]);
	c->state = S_USER;
	return 0;
}

static int
step_user(struct load_client *c, const char *line)
{
	(void)line;
	client_printf(c, "PASS %s\r\n", L.pass);
	c->state = S_PASS;
	return 0;
}

static int
step_pass(struct load_client *c, const char *line)
{
	(void)line;
	if (L.mode == M_LOGINS) {
		client_quit(c);
		return 0;
	}
	client_printf(c, "STAT\r\n");
	c->state = S_STAT;
	return 0;
}

/* The next RETR, or QUIT when every message has been retrieved. */
static void
client_next_retr(struct load_client *c)
{
	if (c->next > c->msgs) {
		client_quit(c);
		return;
	}
	client_printf(c, "RETR %ld\r\n", c->next++);
	c->state = S_RETR;
}

static int
client_fail(struct load_client *, const char *);

static int
step_stat(struct load_client *c, const char *line)
{
	const char *errstr;
	char num[16];
	size_t n;

	if (L.mode != M_RETR) {
		client_quit(c);
		return 0;
	}
	/* "+OK nn mm" (RFC 1939 5, the drop listing). */
	line += 3;
	line += strspn(line, " ");
	n = strspn(line, "0123456789");
	if (n == 0 || n >= sizeof(num))
		return client_fail(c, "malformed STAT answer");
	memcpy(num, line, n);
	num[n] = '\0';
	c->msgs = strtonum(num, 0, LOAD_MSGS_MAX, &errstr);
	if (errstr != NULL)
		return client_fail(c, "STAT count out of range");
	c->next = 1;
	client_next_retr(c);
	return 0;
}

static int
step_retr(struct load_client *c, const char *line)
{
	(void)line;
	c->state = S_MULTI;
	c->scan = 1;		/* at the start of a line */
	return 0;
}

static int
step_quit(struct load_client *c, const char *line)
{
	struct timespec now;

	(void)line;
	clock_gettime(CLOCK_MONOTONIC, &now);
	L.sess_ms[L.done++] = load_ts_diff_ms(&c->t_open, &now);
	L.t_last = now;
	c->in_session = 0;
	client_end(c);
	return -1;
}

/*
 * An -ERR, a malformed answer or a broken connection: the session fails
 * and the connection ends.  Returns -1, for the callers to pass on.
 */
static int
client_fail(struct load_client *c, const char *why)
{
	if (c->in_session) {
		if (L.failed < LOAD_ERRORS_SHOWN || L.verbose)
			fprintf(stderr, "pop3-load: %s: %s\n",
			    L.users[c->slot], why);
		L.failed++;
		c->in_session = 0;
	}
	client_end(c);
	return -1;
}

/*
 * The rest of a multi-line answer: scans what has arrived for the line
 * that is a lone dot, and drains it.  scan: 0 within a line, 1 at the
 * start of one, 2 after a dot there, 3 after ".\r".  Returns 1 when the
 * answer is complete, 0 when more is needed.
 */
static int
client_scan_multi(struct load_client *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct evbuffer_iovec v[8];
	size_t used, i;
	int k, n, done = 0;

	while (!done && evbuffer_get_length(in) > 0) {
		used = 0;
		n = evbuffer_peek(in, -1, NULL, v, 8);
		if (n > 8)
			n = 8;
		for (k = 0; k < n && !done; k++) {
			const char *p = v[k].iov_base, *nl;

			for (i = 0; i < v[k].iov_len && !done; i++) {
				if (c->scan == 0) {
					nl = memchr(p + i, '\n',
					    v[k].iov_len - i);
					if (nl == NULL) {
						i = v[k].iov_len - 1;
						continue;
					}
					i = nl - p;
					c->scan = 1;
				} else if (c->scan == 1)
					c->scan = p[i] == '.' ? 2 :
					    p[i] == '\n';
				else if (c->scan == 2)
					c->scan = p[i] == '\r' ? 3 :
					    p[i] == '\n';
				else if (p[i] == '\n')
					done = 1;
				else
					c->scan = 0;
			}
			used += i;
		}
		L.bytes += used;
		if (evbuffer_drain(in, used) == -1)
			errx(1, "evbuffer_drain");
	}
	return done;
}

/* One answer line; returns -1 when the connection has ended. */
static int
client_line(struct load_client *c, const char *line, size_t len)
{
	if (len > LOAD_LINE_MAX_BYTES)
		return client_fail(c, "answer line too long");
	if (strncmp(line, "+OK", 3) != 0 || (len > 3 && line[3] != ' '))
		return client_fail(c, line);
	L.bytes += c->state == S_RETR ? len + 2 : 0;
	return load_steps[c->state].handler(c, line);
}

static void
client_read(struct bufferevent *bev, void *arg)
{
	struct load_client *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char *line;
	size_t len;
	int rv;

	for (;;) {
		if (c->state == S_MULTI) {
			if (!client_scan_multi(c))
				return;
			L.msgs++;
			client_next_retr(c);
			continue;
		}
		line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF_STRICT);
		if (line == NULL)
			break;
		rv = client_line(c, line, len);
		free(line);
		if (rv == -1)
			return;
	}
	if (evbuffer_get_length(in) > LOAD_LINE_MAX_BYTES)
		(void)client_fail(c, "answer line too long");
}

static void
client_event(struct bufferevent *bev, short what, void *arg)
{
	struct load_client *c = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED)
		return;
	if (what & BEV_EVENT_TIMEOUT)
		(void)client_fail(c, "timeout");
	else if (what & BEV_EVENT_EOF)
		(void)client_fail(c, "connection closed by the server");
	else
		(void)client_fail(c, strerror(EVUTIL_SOCKET_ERROR()));
}

/* The connection ends; its client begins the next session, if any. */
static void
client_end(struct load_client *c)
{
	int slot = c->slot;

	bufferevent_free(c->bev);
	free(c);
	L.active--;
	if (L.failed > L.sessions / 10 + L.clients &&
	    L.started < L.sessions) {
		warnx("too many errors (%ld): giving up", L.failed);
		L.started = L.sessions;
	}
	if (L.started < L.sessions)
		client_open(slot);
	else if (L.active == 0)
		event_base_loopexit(L.base, NULL);
}

static void
client_open(int slot)
{
	struct timeval tv = { LOAD_IO_TIMEOUT_SECS, 0 };
	struct load_client *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		err(1, "calloc");
	c->slot = slot;
	c->state = S_GREETING;
	c->in_session = 1;
	L.started++;
	clock_gettime(CLOCK_MONOTONIC, &c->t_open);
	c->bev = bufferevent_socket_new(L.base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL)
		errx(1, "bufferevent_socket_new");
	bufferevent_setcb(c->bev, client_read, NULL, client_event, c);
	bufferevent_set_timeouts(c->bev, &tv, &tv);
	if (bufferevent_enable(c->bev, EV_READ | EV_WRITE) == -1)
		errx(1, "bufferevent_enable");
	L.active++;
	L.connections++;
	if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&L.addr.ss,
	    L.addr.sslen) == -1)
		(void)client_fail(c, "connect failed");
}

/* A percentile of the sorted session times. */
#define P(p)	load_percentile(L.sess_ms, L.done, (p))

static void
load_report(void)
{
	double secs, rate, msg_rate, cpu_ms;

	load_sort(L.sess_ms, L.done);
	secs = L.done > 0 ? load_ts_diff_ms(&L.t_start, &L.t_last) / 1e3 : 0;
	rate = secs > 0 ? L.done / secs : 0;
	msg_rate = secs > 0 ? L.msgs / secs : 0;
	cpu_ms = load_cpu_ms();
	printf("pop3-load: %s mode %s clients %d sessions %ld\n", L.addr.str,
	    load_modes[L.mode], L.clients, L.sessions);
	printf("done %ld failed %ld connections %ld in %.3f s%s\n", L.done,
	    L.failed, L.connections, secs,
	    L.timed_out ? " (deadline reached)" : "");
	printf("sessions/s %.1f\n", rate);
	if (L.mode == M_RETR)
		printf("messages retrieved %ld (%" PRIu64 " bytes), %.1f/s\n",
		    L.msgs, L.bytes, msg_rate);
	printf("session ms: p50 %.3f p90 %.3f p99 %.3f max %.3f\n",
	    P(50), P(90), P(99), P(100));
	printf("client cpu ms %.0f\n", cpu_ms);
	printf("RESULT mode=%s done=%ld failed=%ld connections=%ld "
	    "seconds=%.6f rate=%.2f msgs=%ld msg_rate=%.2f bytes=%" PRIu64
	    " p50_ms=%.4f p90_ms=%.4f p99_ms=%.4f max_ms=%.4f "
	    "client_cpu_ms=%.1f timed_out=%d\n", load_modes[L.mode], L.done,
	    L.failed, L.connections, secs, rate, L.msgs, msg_rate, L.bytes,
	    P(50), P(90), P(99), P(100),
	    cpu_ms, L.timed_out);
}

/* Names go on the wire after USER: no space, no control character. */
static int
bad_word(const char *s, size_t max)
{
	size_t n = strlen(s);

	return n == 0 || n >= max || strpbrk(s, " \t\r\n") != NULL;
}

static __attribute__((__noreturn__)) void
usage(void)
{
	fprintf(stderr, "usage: pop3-load [-v] [-a address] [-c clients] "
	    "[-m sessions|logins|retr]\n"
	    "\t[-n sessions] [-T secs] [-w password] -p port "
	    "-u user,...\n");
	exit(2);
}

static void
parse_args(int argc, char *argv[])
{
	const char *addr = "127.0.0.1", *port = NULL, *mode = "sessions";
	char *users = NULL;
	size_t m;
	int ch;

	L.clients = 10;
	L.sessions = -1;
	L.deadline_secs = LOAD_DEADLINE_SECS;
	L.pass = "password";
	while ((ch = getopt(argc, argv, "a:c:m:n:p:T:u:vw:")) != -1) {
		switch (ch) {
		case 'a':
			addr = optarg;
			break;
		case 'c':
			L.clients = load_num_arg(optarg, 1, LOAD_CLIENTS_MAX,
			    "clients");
			break;
		case 'm':
			mode = optarg;
			break;
		case 'n':
			L.sessions = load_num_arg(optarg, 1, LOAD_SESSIONS_MAX,
			    "sessions");
			break;
		case 'p':
			port = optarg;
			break;
		case 'T':
			L.deadline_secs = load_num_arg(optarg, 1, 86400,
			    "deadline");
			break;
		case 'u':
			users = optarg;
			break;
		case 'v':
			L.verbose = 1;
			break;
		case 'w':
			L.pass = optarg;
			break;
		default:
			usage();
		}
	}
	if (argc != optind || port == NULL || users == NULL)
		usage();
	for (m = 0; m < sizeof(load_modes) / sizeof(load_modes[0]); m++)
		if (strcmp(mode, load_modes[m]) == 0)
			break;
	if (m == sizeof(load_modes) / sizeof(load_modes[0]))
		errx(1, "unknown mode %s (sessions, logins or retr)", mode);
	L.mode = m;
	if (bad_word(L.pass, LOAD_PASS_MAX_BYTES))
		errx(1, "bad password");
	load_parse_addr(&L.addr, addr, port);
	if ((users = strdup(users)) == NULL)
		err(1, "strdup");
	L.nusers = load_split_list(users, L.users, LOAD_CLIENTS_MAX,
	    LOAD_USER_MAX_BYTES, " \t\r\n", "user");
	if (L.nusers < L.clients)
		errx(1, "%d clients need %d users, not %d (one each)",
		    L.clients, L.clients, L.nusers);
	/* By default 200 sessions per client, one in retr mode. */
	if (L.sessions < 0)
		L.sessions = (long)L.clients * (L.mode == M_RETR ? 1 : 200);
}

int
main(int argc, char *argv[])
{
	int i;

	parse_args(argc, argv);
	if ((L.sess_ms = calloc(L.sessions, sizeof(double))) == NULL)
		err(1, "calloc");
	if ((L.base = event_base_new()) == NULL)
		errx(1, "event_base_new");
	load_deadline_start(L.base, L.deadline_secs, &L.timed_out);
	clock_gettime(CLOCK_MONOTONIC, &L.t_start);
	for (i = 0; i < L.clients && L.started < L.sessions; i++)
		client_open(i);
	event_base_dispatch(L.base);
	load_report();
	return L.timed_out || L.failed > 0 || L.done < L.sessions;
}
