/*
 * smtp-load: the benchmark's SMTP load generator.  Runs as any user, one
 * process, one libevent loop; talks plain SMTP to one loopback address.
 *
 * N sessions run at once.  Each opens a connection, says EHLO, sends up
 * to K messages (MAIL, RCPT for every recipient, DATA, the message, the
 * final dot), says QUIT and opens the next connection, until M messages
 * have been sent.  The latency of a message is the time from the moment
 * the last byte of its final dot left the client to its 250.  At the
 * end it prints the figures, and one line "RESULT key=value ..." for
 * bench/run.sh.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "load-common.h"

#define LOAD_SESSIONS_MAX	10000
#define LOAD_MESSAGES_MAX	10000000
#define LOAD_RCPTS_MAX		100
#define LOAD_MSG_MIN_BYTES	512
#define LOAD_MSG_MAX_BYTES	(10 * 1024 * 1024)
/* RFC 5321 4.5.3.1.5: a reply line is at most 512 octets. */
#define LOAD_REPLY_LINE_MAX_BYTES	512
#define LOAD_REPLY_LINES_MAX	100
#define LOAD_ADDR_MAX_BYTES	256
#define LOAD_IO_TIMEOUT_SECS	30
#define LOAD_DEADLINE_SECS	120
#define LOAD_ERRORS_SHOWN	5
/* A body line: 76 characters and CRLF. */
#define LOAD_BODY_LINE_BYTES	78
#define LOAD_HELO		"load.example.test"

enum load_state {
	S_GREETING,
	S_EHLO,
	S_MAIL,
	S_RCPT,
	S_DATA,
	S_DOT,
	S_QUIT,
};

struct load_conn {
	struct bufferevent	*bev;
	enum load_state		 state;
	int			 pipelining;	/* advertised and wanted */
	int			 rcpt;		/* replies to RCPT seen */
	int			 msgs;		/* transactions begun */
	long			 msg;		/* current message, or -1 */
	int			 lines;		/* lines of the current reply */
	struct timespec		 t_dot;
};

struct load_step {
	enum load_state	  state;
	int		  expect;
	int		(*handler)(struct load_conn *);
};

static int	step_greeting(struct load_conn *);
static int	step_ehlo(struct load_conn *);
static int	step_mail(struct load_conn *);
static int	step_rcpt(struct load_conn *);
static int	step_data(struct load_conn *);
static int	step_dot(struct load_conn *);
static int	step_quit(struct load_conn *);

/* What each state waits for, and what follows it. */
static const struct load_step load_steps[] = {
	/* state	expect	handler */
	{ S_GREETING,	220,	step_greeting },
	{ S_EHLO,	250,	step_ehlo },
	{ S_MAIL,	250,	step_mail },
	{ S_RCPT,	250,	step_rcpt },
	{ S_DATA,	354,	step_data },
	{ S_DOT,	250,	step_dot },
	{ S_QUIT,	221,	step_quit },
};

static struct {
	/* Options. */
	struct load_addr	 addr;
	int			 sessions;
	long			 messages;
	long			 size;
	int			 per_conn;	/* 0: no limit */
	int			 pipelining;
	int			 deadline_secs;
	const char		*from;
	const char		*rcpts[LOAD_RCPTS_MAX];
	int			 nrcpts;
	int			 verbose;

	/* State. */
	struct event_base	*base;
	char			*body;
	long			 next_msg;
	long			 accepted;
	long			 failed;
	long			 connections;
	long			 conn_errors;
	int			 active;
	int			 timed_out;
	double			*lat_ms;
	struct timespec		 t_start;
	struct timespec		 t_last;
} L;

static void	conn_open(void);
static void	conn_end(struct load_conn *);

static void
load_errorf(struct load_conn *c, const char *fmt, const char *arg)
{
	if (L.conn_errors + L.failed >= LOAD_ERRORS_SHOWN && !L.verbose)
		return;
	fprintf(stderr, "smtp-load: message %ld: ", c->msg);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
}

static void
conn_printf(struct load_conn *c, const char *fmt, const char *arg)
{
	if (evbuffer_add_printf(bufferevent_get_output(c->bev), fmt, arg) < 0)
		errx(1, "evbuffer_add_printf");
}

/* Begins the next transaction, or says QUIT when none is left. */
static void
conn_next(struct load_conn *c)
{
	int i;

	if (L.next_msg >= L.messages ||
	    (L.per_conn > 0 && c->msgs >= L.per_conn)) {
		conn_printf(c, "%s\r\n", "QUIT");
		c->state = S_QUIT;
		return;
	}
	c->msg = L.next_msg++;
	c->msgs++;
	c->rcpt = 0;
	c->state = S_MAIL;
	conn_printf(c, "MAIL FROM:<%s>\r\n", L.from);
	if (!c->pipelining)
		return;
	/* RFC 2920 3.1: RCPT and DATA may follow MAIL in one group. */
	for (i = 0; i < L.nrcpts; i++)
		conn_printf(c, "RCPT TO:<%s>\r\n", L.rcpts[i]);
	conn_printf(c, "%s\r\n", "DATA");
}

static int
step_greeting(struct load_conn *c)
{
	conn_printf(c, "EHLO %s\r\n", LOAD_HELO);
	c->state = S_EHLO;
	return 0;
}

static int
step_ehlo(struct load_conn *c)
{
	conn_next(c);
	return 0;
}

static int
step_mail(struct load_conn *c)
{
	c->state = S_RCPT;
	if (!c->pipelining)
		conn_printf(c, "RCPT TO:<%s>\r\n", L.rcpts[0]);
	return 0;
}

static int
step_rcpt(struct load_conn *c)
{
	if (++c->rcpt < L.nrcpts) {
		if (!c->pipelining)
			conn_printf(c, "RCPT TO:<%s>\r\n", L.rcpts[c->rcpt]);
		return 0;
	}
	c->state = S_DATA;
	if (!c->pipelining)
		conn_printf(c, "%s\r\n", "DATA");
	return 0;
}

/*
 * The message: a header naming the message, then body lines up to the
 * size asked for.  The body is shared by every message and added by
 * reference; the body has no line starting with a dot, so nothing
 * needs stuffing.
 */
static int
step_data(struct load_conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	char hdr[1024];
	long body;
	int n;

	n = snprintf(hdr, sizeof(hdr), "From: <%s>\r\nTo: <%s>\r\n"
	    "Subject: load message %ld\r\n"
	    "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"
	    "Message-ID: <%ld.%ld@" LOAD_HELO ">\r\n\r\n",
	    L.from, L.rcpts[0], c->msg, c->msg, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(hdr))
		errx(1, "header too long");
	body = L.size - n;
	body -= body % LOAD_BODY_LINE_BYTES;
	if (body < 0)
		body = 0;
	if (evbuffer_add(out, hdr, n) == -1 ||
	    evbuffer_add_reference(out, L.body, body, NULL, NULL) == -1 ||
	    evbuffer_add(out, ".\r\n", 3) == -1)
		errx(1, "evbuffer_add");
	c->state = S_DOT;
	/* The write callback sets the time again once the dot is out. */
	clock_gettime(CLOCK_MONOTONIC, &c->t_dot);
	return 0;
}

static int
step_dot(struct load_conn *c)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	L.lat_ms[L.accepted++] = load_ts_diff_ms(&c->t_dot, &now);
	L.t_last = now;
	c->msg = -1;
	conn_next(c);
	return 0;
}

static int
step_quit(struct load_conn *c)
{
	conn_end(c);
	return -1;
}

/*
 * An unexpected reply or a broken connection: the message fails and the
 * connection ends.  Returns -1, for the callers to pass on.
 */
static int
conn_fail(struct load_conn *c, const char *why)
{
	if (c->msg >= 0) {
		load_errorf(c, "%s", why);
		L.failed++;
	} else if (c->state != S_QUIT) {
		load_errorf(c, "%s", why);
		L.conn_errors++;
	}
	c->msg = -1;
	conn_end(c);
	return -1;
}

/* One reply line; returns -1 when the connection has ended. */
static int
conn_reply(struct load_conn *c, const char *line, size_t len)
{
	const struct load_step *st = &load_steps[c->state];
	int code;

	if (len < 3 || line[0] < '2' || line[0] > '5' ||
	    line[1] < '0' || line[1] > '9' || line[2] < '0' || line[2] > '9' ||
	    (len > 3 && line[3] != ' ' && line[3] != '-'))
		return conn_fail(c, "malformed reply");
	if (++c->lines > LOAD_REPLY_LINES_MAX)
		return conn_fail(c, "reply too long");
	if (c->state == S_EHLO && L.pipelining && len > 4 &&
	    strncasecmp(line + 4, "PIPELINING", 10) == 0 &&
	    (len == 14 || line[14] == ' '))
		c->pipelining = 1;
	if (len > 3 && line[3] == '-')
		return 0;
	c->lines = 0;
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (code != st->expect)
		return conn_fail(c, line);
	return st->handler(c);
}

static void
conn_read(struct bufferevent *bev, void *arg)
{
	struct load_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char *line;
	size_t len;
	int rv;

	while ((line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF)) != NULL) {
		if (len > LOAD_REPLY_LINE_MAX_BYTES)
			rv = conn_fail(c, "reply line too long");
		else
			rv = conn_reply(c, line, len);
		free(line);
		if (rv == -1)
			return;
	}
	if (evbuffer_get_length(in) > LOAD_REPLY_LINE_MAX_BYTES)
		(void)conn_fail(c, "reply line too long");
}

static void
conn_write(struct bufferevent *bev, void *arg)
{
	struct load_conn *c = arg;

	(void)bev;
	if (c->state == S_DOT)
		clock_gettime(CLOCK_MONOTONIC, &c->t_dot);
}

static void
conn_event(struct bufferevent *bev, short what, void *arg)
{
	struct load_conn *c = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED)
		return;
	if (what & BEV_EVENT_TIMEOUT)
		(void)conn_fail(c, "timeout");
	else if (what & BEV_EVENT_EOF)
		(void)conn_fail(c, "connection closed by the server");
	else
		(void)conn_fail(c, strerror(EVUTIL_SOCKET_ERROR()));
}

static void
conn_end(struct load_conn *c)
{
	bufferevent_free(c->bev);
	c->bev = NULL;
	free(c);
	L.active--;
	if (L.conn_errors > L.messages / 10 + L.sessions &&
	    L.next_msg < L.messages) {
		warnx("too many connection errors (%ld): giving up",
		    L.conn_errors);
		L.next_msg = L.messages;
	}
	if (L.next_msg < L.messages)
		conn_open();
	else if (L.active == 0)
		event_base_loopexit(L.base, NULL);
}

static void
conn_open(void)
{
	struct timeval tv = { LOAD_IO_TIMEOUT_SECS, 0 };
	struct load_conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		err(1, "calloc");
	c->msg = -1;
	c->state = S_GREETING;
	c->bev = bufferevent_socket_new(L.base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL)
		errx(1, "bufferevent_socket_new");
	bufferevent_setcb(c->bev, conn_read, conn_write, conn_event, c);
	bufferevent_set_timeouts(c->bev, &tv, &tv);
	if (bufferevent_enable(c->bev, EV_READ | EV_WRITE) == -1)
		errx(1, "bufferevent_enable");
	L.active++;
	L.connections++;
	if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&L.addr.ss,
	    L.addr.sslen) == -1)
		(void)conn_fail(c, "connect failed");
}

/* A percentile of the sorted latencies. */
#define P(p)	load_percentile(L.lat_ms, L.accepted, (p))

static void
load_report(void)
{
	double secs, rate, cpu_ms;

	load_sort(L.lat_ms, L.accepted);
	secs = L.accepted > 0 ? load_ts_diff_ms(&L.t_start, &L.t_last) / 1e3 : 0;
	rate = secs > 0 ? L.accepted / secs : 0;
	cpu_ms = load_cpu_ms();
	printf("smtp-load: %s sessions %d messages %ld size %ld "
	    "per-connection %d recipients %d pipelining %s\n", L.addr.str,
	    L.sessions, L.messages, L.size, L.per_conn, L.nrcpts,
	    L.pipelining ? "yes" : "no");
	printf("accepted %ld failed %ld connections %ld connection-errors "
	    "%ld in %.3f s%s\n", L.accepted, L.failed, L.connections,
	    L.conn_errors, secs, L.timed_out ? " (deadline reached)" : "");
	printf("accepted messages/s %.1f\n", rate);
	printf("latency ms (end of DATA to 250): p50 %.3f p90 %.3f "
	    "p99 %.3f max %.3f\n", P(50), P(90),
	    P(99), P(100));
	printf("client cpu ms %.0f\n", cpu_ms);
	printf("RESULT accepted=%ld failed=%ld connections=%ld "
	    "conn_errors=%ld seconds=%.6f rate=%.2f p50_ms=%.4f p90_ms=%.4f "
	    "p99_ms=%.4f max_ms=%.4f client_cpu_ms=%.1f t_start=%.6f "
	    "t_last=%.6f timed_out=%d\n", L.accepted, L.failed,
	    L.connections, L.conn_errors, secs, rate, P(50),
	    P(90), P(99), P(100), cpu_ms,
	    load_ts_secs(&L.t_start), load_ts_secs(&L.t_last), L.timed_out);
}

static void
make_body(void)
{
	long i, col;

	if ((L.body = malloc(L.size)) == NULL)
		err(1, "malloc");
	for (i = 0; i < L.size; i++) {
		col = i % LOAD_BODY_LINE_BYTES;
		if (col == LOAD_BODY_LINE_BYTES - 2)
			L.body[i] = '\r';
		else if (col == LOAD_BODY_LINE_BYTES - 1)
			L.body[i] = '\n';
		else
			L.body[i] = 'a' + (col * 7 + i / LOAD_BODY_LINE_BYTES) % 26;
	}
}

static __attribute__((__noreturn__)) void
usage(void)
{
	fprintf(stderr, "usage: smtp-load [-Pv] [-a address] [-c sessions] "
	    "[-f from] [-k per-connection]\n"
	    "\t[-n messages] [-r rcpt,...] [-s bytes] [-T secs] -p port\n");
	exit(2);
}

static void
parse_args(int argc, char *argv[])
{
	const char *addr = "127.0.0.1", *port = NULL;
	char rcpts[] = "alice@example.test,bob@example.test";
	char *r = rcpts;
	int ch;

	L.sessions = 10;
	L.messages = 2000;
	L.size = 4096;
	L.per_conn = 1;
	L.deadline_secs = LOAD_DEADLINE_SECS;
	L.from = "load@example.test";
	while ((ch = getopt(argc, argv, "a:c:f:k:n:p:Pr:s:T:v")) != -1) {
		switch (ch) {
		case 'a':
			addr = optarg;
			break;
		case 'c':
			L.sessions = load_num_arg(optarg, 1, LOAD_SESSIONS_MAX,
			    "sessions");
			break;
		case 'f':
			L.from = optarg;
			break;
		case 'k':
			L.per_conn = load_num_arg(optarg, 0, INT_MAX,
			    "messages per connection");
			break;
		case 'n':
			L.messages = load_num_arg(optarg, 1, LOAD_MESSAGES_MAX,
			    "messages");
			break;
		case 'p':
			port = optarg;
			break;
		case 'P':
			L.pipelining = 1;
			break;
		case 'r':
			r = optarg;
			break;
		case 's':
			L.size = load_num_arg(optarg, LOAD_MSG_MIN_BYTES,
			    LOAD_MSG_MAX_BYTES, "size");
			break;
		case 'T':
			L.deadline_secs = load_num_arg(optarg, 1, 86400,
			    "deadline");
			break;
		case 'v':
			L.verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (argc != optind || port == NULL)
		usage();
	if (strlen(L.from) >= LOAD_ADDR_MAX_BYTES || strpbrk(L.from, "<>\r\n "))
		errx(1, "bad sender %s", L.from);
	load_parse_addr(&L.addr, addr, port);
	if ((r = strdup(r)) == NULL)
		err(1, "strdup");
	L.nrcpts = load_split_list(r, L.rcpts, LOAD_RCPTS_MAX,
	    LOAD_ADDR_MAX_BYTES, "<>\r\n ", "recipient");
}

int
main(int argc, char *argv[])
{
	int i;

	parse_args(argc, argv);
	make_body();
	if ((L.lat_ms = calloc(L.messages, sizeof(double))) == NULL)
		err(1, "calloc");
	if ((L.base = event_base_new()) == NULL)
		errx(1, "event_base_new");
	load_deadline_start(L.base, L.deadline_secs, &L.timed_out);
	clock_gettime(CLOCK_MONOTONIC, &L.t_start);
	for (i = 0; i < L.sessions && L.next_msg < L.messages; i++)
		conn_open();
	event_base_dispatch(L.base);
	load_report();
	return L.timed_out || L.failed > 0 || L.accepted < L.messages;
}
