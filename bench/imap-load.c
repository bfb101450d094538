/*
 * imap-load: the benchmark's IMAP load generator.  Runs as any user, one
 * process, one libevent loop; talks plain IMAP4rev1 to one loopback
 * address (bench/imap.py runs it against sallyport and Dovecot).
 *
 * N clients run at once, client i always as user i of the list.  Each
 * client opens a connection, runs the script of the mode, and opens the
 * next connection, until the sessions asked for have been run in all:
 *
 *   sessions   LOGIN, SELECT INBOX, FETCH 1:5 (FLAGS BODY.PEEK[HEADER.
 *              FIELDS (FROM SUBJECT DATE)]), STORE +FLAGS or -FLAGS
 *              (\Seen) on one message, LOGOUT
 *   logins     LOGIN, LOGOUT
 *   mix        LOGIN, then -r rounds of SELECT INBOX, the FETCH and the
 *              STORE above, then LOGOUT (long-lived sessions)
 *   append     LOGIN, then -r APPENDs of a 4096-byte message to INBOX
 *              (a synchronizing literal), then LOGOUT
 *   idle       LOGIN and SELECT INBOX, then nothing: once every client
 *              is there (or has failed) it prints "IDLE n", n the idle
 *              sessions, and waits for its standard input to close,
 *              then LOGOUT (memory per idle connection); the deadline
 *              still holds
 *
 * The STORE alternates +FLAGS and -FLAGS so that each one changes a
 * message (a rename of its file in a Maildir), on message 1 to 5 in
 * turn.  One command at a time (no pipelining), each sent after the
 * tagged answer to the previous one.  Any NO, BAD, BYE, malformed
 * answer, timeout or unexpected close is an error: the session ends and
 * counts as failed.  At the end it prints the figures, and one line
 * "RESULT key=value ..." for bench/imap.py.
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

#define LOAD_CLIENTS_MAX	2000
#define LOAD_SESSIONS_MAX	10000000
#define LOAD_ROUNDS_MAX		10000000
/* Longer lines than this (not counting literals) end the session. */
#define LOAD_LINE_MAX_BYTES	65536
#define LOAD_LITERAL_MAX_BYTES	(64L * 1024 * 1024)
#define LOAD_USER_MAX_BYTES	64
#define LOAD_PASS_MAX_BYTES	256
#define LOAD_IO_TIMEOUT_SECS	30
#define LOAD_DEADLINE_SECS	120
#define LOAD_ERRORS_SHOWN	5
#define LOAD_APPEND_BYTES	4096
#define LOAD_FETCH_MSGS		5

enum load_mode {
	M_SESSIONS,
	M_LOGINS,
	M_MIX,
	M_APPEND,
	M_IDLE,
};

static const char *const load_modes[] = {
	[M_SESSIONS] = "sessions",
	[M_LOGINS] = "logins",
	[M_MIX] = "mix",
	[M_APPEND] = "append",
	[M_IDLE] = "idle",
};

enum load_state {
	S_GREETING,
	S_LOGIN,
	S_SELECT,
	S_FETCH,
	S_STORE,
	S_APPEND_CONT,	/* waiting for the "+" of the literal */
	S_APPEND,
	S_IDLE,
	S_LOGOUT,
};

/* What a client waits for, in its failures. */
static const char *const load_states[] = {
	[S_GREETING] = "the greeting",
	[S_LOGIN] = "LOGIN",
	[S_SELECT] = "SELECT",
	[S_FETCH] = "FETCH",
	[S_STORE] = "STORE",
	[S_APPEND_CONT] = "APPEND's continuation request",
	[S_APPEND] = "APPEND",
	[S_IDLE] = "nothing (idle)",
	[S_LOGOUT] = "LOGOUT",
};

struct load_client {
	struct bufferevent	*bev;
	enum load_state		 state;
	int			 slot;		/* its user */
	int			 in_session;	/* a session taken, not done */
	unsigned		 tag;		/* of the command in flight */
	long			 rounds;	/* mix/append rounds done */
	long			 skip;		/* literal octets still to skip */
	int			 cont;		/* a line continues a response */
	struct timespec		 t_open;
	struct timespec		 t_cmd;
};

static struct {
	/* Options. */
	struct load_addr	 addr;
	enum load_mode		 mode;
	int			 clients;
	long			 sessions;
	long			 rounds;
	const char		*users[LOAD_CLIENTS_MAX];
	int			 nusers;
	const char		*pass;
	int			 deadline_secs;
	int			 verbose;

	/* State. */
	struct event_base	*base;
	struct load_client	*conns[LOAD_CLIENTS_MAX];
	unsigned long		 stores[LOAD_CLIENTS_MAX];	/* per user */
	char			 msg[LOAD_APPEND_BYTES + 1];
	long			 started;	/* sessions begun */
	long			 done;		/* sessions ended by LOGOUT OK */
	long			 failed;
	long			 connections;
	long			 commands;	/* tagged OKs, all commands */
	long			 work;		/* tagged OKs past LOGIN */
	long			 appends;
	int			 active;
	int			 idle;		/* clients idle (idle mode) */
	int			 timed_out;
	int			 leaving;	/* idle: stdin closed */
	int			 idle_said;	/* idle: "IDLE n" printed */
	struct event		*stdin_ev;
	double			*cmd_ms;	/* times of the work commands */
	long			 ncmd_ms;
	long			 cmd_ms_max;
	struct timespec		 t_start;
	struct timespec		 t_work;	/* first work command sent */
	struct timespec		 t_last;
	int			 work_started;
} L;

static void	client_open(int);
static void	client_end(struct load_client *);
static int	client_fail(struct load_client *, const char *);

/* Sends a command with the next tag; its time runs from here. */
static void
client_cmd(struct load_client *c, enum load_state next, const char *fmt,
    ...) __attribute__((__format__(__printf__, 3, 4)));

static void
client_cmd(struct load_client *c, enum load_state next, const char *fmt,
    ...)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	va_list ap;
	int n;

	c->tag++;
	if (evbuffer_add_printf(out, "a%u ", c->tag) < 0)
		errx(1, "evbuffer_add_printf");
	va_start(ap, fmt);
	n = evbuffer_add_vprintf(out, fmt, ap);
	va_end(ap);
	if (n < 0 || evbuffer_add(out, "\r\n", 2) == -1)
		errx(1, "evbuffer_add_vprintf");
	c->state = next;
	clock_gettime(CLOCK_MONOTONIC, &c->t_cmd);
	if (next != S_LOGIN && next != S_LOGOUT && !L.work_started) {
		L.work_started = 1;
		L.t_work = c->t_cmd;
	}
}

static void
client_logout(struct load_client *c)
{
	client_cmd(c, S_LOGOUT, "LOGOUT");
}

static void
client_select(struct load_client *c)
{
	client_cmd(c, S_SELECT, "SELECT INBOX");
}

static void
client_append(struct load_client *c)
{
	client_cmd(c, S_APPEND_CONT, "APPEND INBOX {%d}", LOAD_APPEND_BYTES);
}

/* After LOGIN: the first command of the mode's script. */
static void
step_login(struct load_client *c)
{
	switch (L.mode) {
	case M_LOGINS:
		client_logout(c);
		break;
	case M_APPEND:
		client_append(c);
		break;
	default:
		client_select(c);
		break;
	}
}

/* The next round of mix or append, or LOGOUT after the last. */
static void
step_round(struct load_client *c)
{
	if (++c->rounds >= L.rounds) {
		client_logout(c);
		return;
	}
	if (L.mode == M_APPEND)
		client_append(c);
	else
		client_select(c);
}

/* Idle mode: once every client is idle or has failed, says so. */
static void
idle_check(void)
{
	if (L.mode != M_IDLE || L.idle_said ||
	    L.idle + L.failed < L.clients)
		return;
	L.idle_said = 1;
	printf("IDLE %d\n", L.idle);
	fflush(stdout);
}

static void
step_select(struct load_client *c)
{
	if (L.mode == M_IDLE) {
		if (L.leaving) {
			client_logout(c);
			return;
		}
		/* No timeouts while idle: the server says nothing. */
		bufferevent_set_timeouts(c->bev, NULL, NULL);
		c->state = S_IDLE;
		L.idle++;
		idle_check();
		return;
	}
	client_cmd(c, S_FETCH, "FETCH 1:%d (FLAGS BODY.PEEK[HEADER.FIELDS "
	    "(FROM SUBJECT DATE)])", LOAD_FETCH_MSGS);
}

static void
step_fetch(struct load_client *c)
{
	unsigned long n = L.stores[c->slot]++;

	client_cmd(c, S_STORE, "STORE %lu %cFLAGS (\\Seen)",
	    n / 2 % LOAD_FETCH_MSGS + 1, n % 2 == 0 ? '+' : '-');
}

static void
step_store(struct load_client *c)
{
	if (L.mode == M_MIX)
		step_round(c);
	else
		client_logout(c);
}

static void
step_logout(struct load_client *c)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	L.t_last = now;
	L.done++;
	c->in_session = 0;
	client_end(c);
}

/* A tagged OK for the command in flight: the next one. */
static int
client_tagged_ok(struct load_client *c)
{
	struct timespec now;

	L.commands++;
	if (c->state != S_LOGIN && c->state != S_LOGOUT) {
		L.work++;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (L.ncmd_ms < L.cmd_ms_max)
			L.cmd_ms[L.ncmd_ms++] = load_ts_diff_ms(&c->t_cmd,
			    &now);
		L.t_last = now;
	}
	switch (c->state) {
	case S_LOGIN:
		step_login(c);
		break;
	case S_SELECT:
		step_select(c);
		break;
	case S_FETCH:
		step_fetch(c);
		break;
	case S_STORE:
		step_store(c);
		break;
	case S_APPEND:
		L.appends++;
		step_round(c);
		break;
	case S_LOGOUT:
		step_logout(c);
		return -1;
	default:
		return client_fail(c, "tagged answer out of turn");
	}
	return 0;
}

/*
 * A response line that ends with a literal's length "{n}": the octets to
 * skip, and the rest of the response comes as the next line.  Returns 0
 * when the line ends without one.
 */
static int
line_literal(struct load_client *c, const char *line, size_t len)
{
	const char *errstr;
	char num[24];
	size_t i;

	if (len < 3 || line[len - 1] != '}')
		return 0;
	for (i = len - 1; i > 0 && line[i - 1] != '{'; i--)
		if (line[i - 1] < '0' || line[i - 1] > '9')
			return 0;
	if (i == 0 || len - 1 - i == 0 || len - 1 - i >= sizeof(num))
		return 0;
	memcpy(num, line + i, len - 1 - i);
	num[len - 1 - i] = '\0';
	c->skip = strtonum(num, 0, LOAD_LITERAL_MAX_BYTES, &errstr);
	if (errstr != NULL)
		return client_fail(c, "server literal too large");
	c->cont = 1;
	return 0;
}

/* The greeting, an untagged line or a continuation request. */
static int
client_untagged(struct load_client *c, const char *line)
{
	if (c->state == S_GREETING) {
		if (strncmp(line, "* OK", 4) != 0)
			return client_fail(c, line);
		client_cmd(c, S_LOGIN, "LOGIN %s %s", L.users[c->slot],
		    L.pass);
		return 0;
	}
	if (line[0] == '+') {
		struct evbuffer *out = bufferevent_get_output(c->bev);

		if (c->state != S_APPEND_CONT)
			return client_fail(c, "continuation request out of "
			    "turn");
		if (evbuffer_add(out, L.msg, LOAD_APPEND_BYTES) == -1 ||
		    evbuffer_add(out, "\r\n", 2) == -1)
			errx(1, "evbuffer_add");
		c->state = S_APPEND;
		return 0;
	}
	if (strncmp(line, "* BYE", 5) == 0 && c->state != S_LOGOUT)
		return client_fail(c, line);
	return 0;
}

/* One response line; returns -1 when the connection has ended. */
static int
client_line(struct load_client *c, const char *line, size_t len)
{
	char tag[16];
	int n, cont = c->cont;

	c->cont = 0;
	if (line_literal(c, line, len) == -1)
		return -1;
	if (cont)
		return 0;
	if (line[0] == '*' || line[0] == '+')
		return client_untagged(c, line);
	n = snprintf(tag, sizeof(tag), "a%u ", c->tag);
	if (n < 0 || (size_t)n >= sizeof(tag))
		errx(1, "snprintf");
	if (strncmp(line, tag, n) != 0)
		return client_fail(c, line);
	if (strncmp(line + n, "OK", 2) != 0 || (line[n + 2] != ' ' &&
	    line[n + 2] != '\0'))
		return client_fail(c, line);
	return client_tagged_ok(c);
}

/* Drops what is left of a literal; returns 1 when more is needed. */
static int
client_skip(struct load_client *c, struct evbuffer *in)
{
	size_t have = evbuffer_get_length(in);
	size_t n = (size_t)c->skip < have ? (size_t)c->skip : have;

	if (evbuffer_drain(in, n) == -1)
		errx(1, "evbuffer_drain");
	c->skip -= n;
	return c->skip > 0;
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
		if (c->skip > 0 && client_skip(c, in))
			return;
		line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF_STRICT);
		if (line == NULL)
			break;
		rv = len > LOAD_LINE_MAX_BYTES ?
		    client_fail(c, "answer line too long") :
		    client_line(c, line, len);
		free(line);
		if (rv == -1)
			return;
	}
	if (evbuffer_get_length(in) > LOAD_LINE_MAX_BYTES)
		(void)client_fail(c, "answer line too long");
}

/*
 * A NO, BAD, BYE, a malformed answer or a broken connection: the session
 * fails and the connection ends.  Returns -1, for the callers to pass on.
 */
static int
client_fail(struct load_client *c, const char *why)
{
	if (c->in_session) {
		if (L.failed < LOAD_ERRORS_SHOWN || L.verbose)
			fprintf(stderr, "imap-load: %s: %.200s (waiting for "
			    "%s, round %ld, %zu octets unread, %ld of a "
			    "literal)\n", L.users[c->slot], why,
			    load_states[c->state], c->rounds,
			    c->bev == NULL ? 0 : evbuffer_get_length(
			    bufferevent_get_input(c->bev)),
			    c->skip);
		L.failed++;
		c->in_session = 0;
	}
	client_end(c);
	idle_check();
	return -1;
}

static void
client_event(struct bufferevent *bev, short what, void *arg)
{
	const char *why = load_event_why(what);

	(void)bev;
	if (why != NULL)
		(void)client_fail(arg, why);
}

/* The connection ends; its client begins the next session, if any. */
static void
client_end(struct load_client *c)
{
	int slot = c->slot;

	if (c->state == S_IDLE)
		L.idle--;
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	L.conns[slot] = NULL;
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
	struct load_client *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		err(1, "calloc");
	c->slot = slot;
	c->state = S_GREETING;
	c->in_session = 1;
	L.conns[slot] = c;
	L.started++;
	L.active++;
	L.connections++;
	clock_gettime(CLOCK_MONOTONIC, &c->t_open);
	c->bev = load_connect(L.base, &L.addr, client_read, client_event, c,
	    LOAD_IO_TIMEOUT_SECS);
	if (c->bev == NULL)
		(void)client_fail(c, "connect failed");
}

/* Idle mode: the standard input closed (or said anything): LOGOUT all. */
static void
stdin_read(evutil_socket_t fd, short ev, void *arg)
{
	struct timeval tv = { LOAD_IO_TIMEOUT_SECS, 0 };
	char buf[256];
	int i;

	(void)ev;
	(void)arg;
	if (read(fd, buf, sizeof(buf)) > 0 && !L.idle_said)
		return;
	event_del(L.stdin_ev);
	L.leaving = 1;
	for (i = 0; i < L.clients; i++) {
		struct load_client *c = L.conns[i];

		if (c == NULL || c->state != S_IDLE)
			continue;
		L.idle--;
		bufferevent_set_timeouts(c->bev, &tv, &tv);
		client_logout(c);
	}
}

/* The 4096-byte message of APPEND, CRLF line ends, ending with one. */
static void
make_message(void)
{
	size_t n;
	int k = 0, w;

	n = snprintf(L.msg, sizeof(L.msg), "From: bench@example.test\r\n"
	    "To: user@example.test\r\nSubject: imap bench append\r\n"
	    "Date: Wed, 02 Dec 2026 18:00:00 +0000\r\n"
	    "Message-ID: <append@bench>\r\n\r\n");
	while (n < LOAD_APPEND_BYTES) {
		w = snprintf(L.msg + n, sizeof(L.msg) - n, "line %d of the "
		    "appended message, some text to make it longer\r\n", k++);
		if (w < 0)
			errx(1, "snprintf");
		if ((size_t)w >= sizeof(L.msg) - n)
			break;
		n += w;
	}
	/* Pad the last line to the size, ending in CRLF. */
	memset(L.msg + n, 'x', LOAD_APPEND_BYTES - n);
	memcpy(L.msg + LOAD_APPEND_BYTES - 2, "\r\n", 2);
	L.msg[LOAD_APPEND_BYTES] = '\0';
}

/* A percentile of the sorted command times. */
#define P(p)	load_percentile(L.cmd_ms, L.ncmd_ms, (p))

static void
load_report(void)
{
	double secs, wsecs, cpu_ms;

	load_sort(L.cmd_ms, L.ncmd_ms);
	secs = L.done > 0 ? load_ts_diff_ms(&L.t_start, &L.t_last) / 1e3 : 0;
	wsecs = L.work_started && L.work > 0 ?
	    load_ts_diff_ms(&L.t_work, &L.t_last) / 1e3 : 0;
	cpu_ms = load_cpu_ms();
	printf("imap-load: %s mode %s clients %d sessions %ld rounds %ld\n",
	    L.addr.str, load_modes[L.mode], L.clients, L.sessions, L.rounds);
	printf("done %ld failed %ld connections %ld in %.3f s%s\n", L.done,
	    L.failed, L.connections, secs,
	    L.timed_out ? " (deadline reached)" : "");
	printf("sessions/s %.1f, commands %ld (%ld past LOGIN, %.1f/s), "
	    "APPENDs %ld (%.1f/s)\n", secs > 0 ? L.done / secs : 0,
	    L.commands, L.work, wsecs > 0 ? L.work / wsecs : 0, L.appends,
	    wsecs > 0 ? L.appends / wsecs : 0);
	printf("command ms: p50 %.3f p90 %.3f p99 %.3f max %.3f\n",
	    P(50), P(90), P(99), P(100));
	printf("client cpu ms %.0f\n", cpu_ms);
	printf("RESULT mode=%s done=%ld failed=%ld connections=%ld "
	    "seconds=%.6f rate=%.2f commands=%ld work=%ld work_seconds=%.6f "
	    "work_rate=%.2f appends=%ld append_rate=%.2f p50_ms=%.4f "
	    "p90_ms=%.4f p99_ms=%.4f max_ms=%.4f client_cpu_ms=%.1f "
	    "timed_out=%d\n", load_modes[L.mode], L.done, L.failed,
	    L.connections, secs, secs > 0 ? L.done / secs : 0, L.commands,
	    L.work, wsecs, wsecs > 0 ? L.work / wsecs : 0, L.appends,
	    wsecs > 0 ? L.appends / wsecs : 0, P(50), P(90), P(99), P(100),
	    cpu_ms, L.timed_out);
}

/* Not in an atom (RFC 3501 9: atom-specials) nor in the list. */
#define LOAD_BAD_CHARS	" \t\r\n\"\\(){%*,"

static __attribute__((__noreturn__)) void
usage(void)
{
	fprintf(stderr, "usage: imap-load [-v] [-a address] [-c clients] "
	    "[-m sessions|logins|mix|append|idle]\n"
	    "\t[-n sessions] [-r rounds] [-T secs] [-w password] -p port "
	    "-u user,...\n");
	exit(2);
}

static void
set_mode(const char *mode)
{
	int m;

	m = load_lookup(mode, load_modes, sizeof(load_modes) /
	    sizeof(load_modes[0]));
	if (m == -1)
		errx(1, "unknown mode %s (sessions, logins, mix, append or "
		    "idle)", mode);
	L.mode = m;
}

static void
parse_args(int argc, char *argv[])
{
	struct load_opts o = {
		.addr = "127.0.0.1", .pass = "password", .clients = 10,
		.clients_max = LOAD_CLIENTS_MAX, .sessions = -1,
		.sessions_max = LOAD_SESSIONS_MAX,
		.deadline_secs = LOAD_DEADLINE_SECS,
	};
	const char *mode = "sessions";
	int ch;

	L.rounds = 200;
	while ((ch = getopt(argc, argv, LOAD_COMMON_OPTS "m:r:")) != -1) {
		if (ch == 'm')
			mode = optarg;
		else if (ch == 'r')
			L.rounds = load_num_arg(optarg, 1, LOAD_ROUNDS_MAX,
			    "rounds");
		else if (!load_common_opt(&o, ch, optarg))
			usage();
	}
	if (argc != optind || o.port == NULL || o.users == NULL)
		usage();
	set_mode(mode);
	L.nusers = load_opts_finish(&o, &L.addr, L.users, LOAD_CLIENTS_MAX,
	    LOAD_USER_MAX_BYTES, LOAD_PASS_MAX_BYTES, LOAD_BAD_CHARS);
	L.clients = o.clients;
	L.pass = o.pass;
	L.verbose = o.verbose;
	L.deadline_secs = o.deadline_secs;
	/* Short sessions: 200 per client; long ones: one per client. */
	L.sessions = o.sessions;
	if (L.sessions < 0)
		L.sessions = (long)L.clients *
		    (L.mode == M_SESSIONS || L.mode == M_LOGINS ? 200 : 1);
	if (L.mode == M_IDLE)
		L.sessions = L.clients;
}

static void
load_setup(void)
{
	long per = L.mode == M_MIX ? 3 * L.rounds : L.mode == M_APPEND ?
	    L.rounds : 3;

	make_message();
	L.cmd_ms_max = L.sessions * per;
	if ((L.cmd_ms = calloc(L.cmd_ms_max, sizeof(double))) == NULL)
		err(1, "calloc");
	if ((L.base = event_base_new()) == NULL)
		errx(1, "event_base_new");
	if (L.mode == M_IDLE) {
		L.stdin_ev = event_new(L.base, STDIN_FILENO,
		    EV_READ | EV_PERSIST, stdin_read, NULL);
		if (L.stdin_ev == NULL || event_add(L.stdin_ev, NULL) == -1)
			errx(1, "event_new stdin");
	}
	load_deadline_start(L.base, L.deadline_secs, &L.timed_out);
}

int
main(int argc, char *argv[])
{
	int i;

	parse_args(argc, argv);
	load_setup();
	clock_gettime(CLOCK_MONOTONIC, &L.t_start);
	for (i = 0; i < L.clients && L.started < L.sessions; i++)
		client_open(i);
	event_base_dispatch(L.base);
	load_report();
	return L.timed_out || L.failed > 0 || L.done < L.sessions;
}
