/*
 * What the benchmark's load generators share (load-common.h).  Linked
 * into each of them by bench/run.sh.
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "load-common.h"

static struct {
	struct event_base	*base;
	int			 secs;
	int			*flag;
} deadline;

double
load_ts_diff_ms(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) * 1e3 + (b->tv_nsec - a->tv_nsec) / 1e6;
}

double
load_ts_secs(const struct timespec *t)
{
	return t->tv_sec + t->tv_nsec / 1e9;
}

/* A numeric loopback address; anything else is refused. */
void
load_parse_addr(struct load_addr *a, const char *addr, const char *port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&a->ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a->ss;
	const char *errstr;
	int p;

	p = strtonum(port, 1, 65535, &errstr);
	if (errstr != NULL)
		errx(1, "port %s is %s", port, errstr);
	memset(&a->ss, 0, sizeof(a->ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		if ((ntohl(sin->sin_addr.s_addr) >> 24) != 127)
			errx(1, "%s is not a loopback address", addr);
		sin->sin_family = AF_INET;
		sin->sin_port = htons(p);
		a->sslen = sizeof(*sin);
	} else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		if (!IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))
			errx(1, "%s is not a loopback address", addr);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(p);
		a->sslen = sizeof(*sin6);
	} else
		errx(1, "%s is not a numeric address", addr);
	snprintf(a->str, sizeof(a->str), "%s:%d", addr, p);
}

long
load_num_arg(const char *s, long min, long max, const char *what)
{
	const char *errstr;
	long n;

	n = strtonum(s, min, max, &errstr);
	if (errstr != NULL)
		errx(1, "%s %s is %s (%ld-%ld)", what, s, errstr, min, max);
	return n;
}

/*
 * Splits list, a comma-separated list changed in place, into out (at
 * most max items; empty ones skipped).  Each item must be shorter than
 * maxlen and hold none of the characters of bad; what names an item in
 * the errors.  Returns the count, at least 1.
 */
int
load_split_list(char *list, const char **out, int max, size_t maxlen,
    const char *bad, const char *what)
{
	char *item;
	int n = 0;

	while ((item = strsep(&list, ",")) != NULL) {
		if (*item == '\0')
			continue;
		if (n >= max)
			errx(1, "more than %d %ss", max, what);
		if (strlen(item) >= maxlen || strpbrk(item, bad) != NULL)
			errx(1, "bad %s %s", what, item);
		out[n++] = item;
	}
	if (n == 0)
		errx(1, "no %s", what);
	return n;
}

static void
load_deadline(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	warnx("deadline of %d s reached: stopping", deadline.secs);
	*deadline.flag = 1;
	event_base_loopbreak(deadline.base);
}

/* After secs seconds, sets *flag and breaks the loop of base. */
void
load_deadline_start(struct event_base *base, int secs, int *flag)
{
	struct timeval tv = { secs, 0 };
	struct event *ev;

	deadline.base = base;
	deadline.secs = secs;
	deadline.flag = flag;
	ev = evtimer_new(base, load_deadline, NULL);
	if (ev == NULL || evtimer_add(ev, &tv) == -1)
		errx(1, "evtimer");
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

void
load_sort(double *v, long n)
{
	qsort(v, n, sizeof(double), cmp_double);
}

/* Nearest-rank percentile of n sorted values. */
double
load_percentile(const double *v, long n, double p)
{
	long i;

	if (n == 0)
		return 0;
	i = (long)(p / 100.0 * n + 0.999999) - 1;
	if (i < 0)
		i = 0;
	if (i >= n)
		i = n - 1;
	return v[i];
}

/* The generator's own user and system CPU so far. */
double
load_cpu_ms(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) == -1)
		err(1, "getrusage");
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/*
 * A connection to a, read and event callbacks cb and ev with arg, a read
 * and write timeout of secs.  Returns the bufferevent, or NULL when the
 * connect failed at once (it is freed then).
 */
struct bufferevent *
load_connect(struct event_base *base, const struct load_addr *a,
    bufferevent_data_cb cb, bufferevent_event_cb ev, void *arg, int secs)
{
	struct timeval tv = { secs, 0 };
	struct bufferevent *bev;

	bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL)
		errx(1, "bufferevent_socket_new");
	bufferevent_setcb(bev, cb, NULL, ev, arg);
	bufferevent_set_timeouts(bev, &tv, &tv);
	if (bufferevent_enable(bev, EV_READ | EV_WRITE) == -1)
		errx(1, "bufferevent_enable");
	if (bufferevent_socket_connect(bev, (const struct sockaddr *)&a->ss,
	    a->sslen) == -1) {
		bufferevent_free(bev);
		return NULL;
	}
	return bev;
}

/* Why a bufferevent's event callback was called, or NULL: connected. */
const char *
load_event_why(short what)
{
	if (what & BEV_EVENT_CONNECTED)
		return NULL;
	if (what & BEV_EVENT_TIMEOUT)
		return "timeout";
	if (what & BEV_EVENT_EOF)
		return "connection closed by the server";
	return strerror(EVUTIL_SOCKET_ERROR());
}

/* The index of name in the n names, or -1. */
int
load_lookup(const char *name, const char *const *names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (names[i] != NULL && strcmp(name, names[i]) == 0)
			return (int)i;
	return -1;
}

/*
 * The options every generator has (LOAD_COMMON_OPTS for getopt): -a
 * address, -c clients, -n sessions, -p port, -T deadline, -u users, -v,
 * -w password.  Returns 0 when ch is not one of them.
 */
int
load_common_opt(struct load_opts *o, int ch, const char *arg)
{
	switch (ch) {
	case 'a':
		o->addr = arg;
		break;
	case 'c':
		o->clients = load_num_arg(arg, 1, o->clients_max, "clients");
		break;
	case 'n':
		o->sessions = load_num_arg(arg, 1, o->sessions_max,
		    "sessions");
		break;
	case 'p':
		o->port = arg;
		break;
	case 'T':
		o->deadline_secs = load_num_arg(arg, 1, 86400, "deadline");
		break;
	case 'u':
		o->users = arg;
		break;
	case 'v':
		o->verbose = 1;
		break;
	case 'w':
		o->pass = arg;
		break;
	default:
		return 0;
	}
	return 1;
}

/* A word that goes on the wire: not empty, shorter than max, no bad. */
static int
load_bad_word(const char *s, size_t max, const char *bad)
{
	size_t n = strlen(s);

	return n == 0 || n >= max || strpbrk(s, bad) != NULL;
}

/*
 * After the options: the address and port parsed into a, the password
 * and the users checked (none of the characters of bad, shorter than
 * pass_max and user_max), the users split into users (max), one per
 * client at least.  Returns how many users.
 */
int
load_opts_finish(struct load_opts *o, struct load_addr *a,
    const char **users, int max, size_t user_max, size_t pass_max,
    const char *bad)
{
	char *list;
	int n;

	if (load_bad_word(o->pass, pass_max, bad))
		errx(1, "bad password");
	load_parse_addr(a, o->addr, o->port);
	if ((list = strdup(o->users)) == NULL)
		err(1, "strdup");
	n = load_split_list(list, users, max, user_max, bad, "user");
	if (n < o->clients)
		errx(1, "%d clients need %d users, not %d (one each)",
		    o->clients, o->clients, n);
	return n;
}
