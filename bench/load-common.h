/*
 * What the benchmark's load generators (smtp-load, pop3-load) share:
 * the loopback address check, numeric options, the deadline, the
 * percentiles of a run, the generator's own CPU, the connection and
 * its events, a name among a list.
 */
#ifndef LOAD_COMMON_H
#define LOAD_COMMON_H

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <time.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

/* "addr:port" of an IPv6 loopback address at the longest. */
#define LOAD_ADDRSTR_BYTES	(INET6_ADDRSTRLEN + 8)

struct load_addr {
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	char			 str[LOAD_ADDRSTR_BYTES];
};

/* getopt letters of the options of load_common_opt(). */
#define LOAD_COMMON_OPTS	"a:c:n:p:T:u:vw:"

/* The options every generator has, with their defaults set by it. */
struct load_opts {
	const char	*addr;
	const char	*port;
	const char	*users;
	const char	*pass;
	int		 clients;
	int		 clients_max;
	long		 sessions;	/* -1: the generator's default */
	long		 sessions_max;
	int		 deadline_secs;
	int		 verbose;
};

double	load_ts_diff_ms(const struct timespec *, const struct timespec *);
double	load_ts_secs(const struct timespec *);
void	load_parse_addr(struct load_addr *, const char *, const char *);
long	load_num_arg(const char *, long, long, const char *);
int	load_split_list(char *, const char **, int, size_t, const char *,
	    const char *);
void	load_deadline_start(struct event_base *, int, int *);
void	load_sort(double *, long);
double	load_percentile(const double *, long, double);
double	load_cpu_ms(void);
struct bufferevent *load_connect(struct event_base *,
	    const struct load_addr *, bufferevent_data_cb,
	    bufferevent_event_cb, void *, int);
const char *load_event_why(short);
int	load_lookup(const char *, const char *const *, size_t);
int	load_common_opt(struct load_opts *, int, const char *);
int	load_opts_finish(struct load_opts *, struct load_addr *,
	    const char **, int, size_t, size_t, const char *);

#endif
