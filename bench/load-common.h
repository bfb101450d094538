/*
 * What the benchmark's load generators (smtp-load, pop3-load) share:
 * the loopback address check, numeric options, the deadline, the
 * percentiles of a run and the generator's own CPU.
 */
#ifndef LOAD_COMMON_H
#define LOAD_COMMON_H

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <time.h>

#include <event2/event.h>

/* "addr:port" of an IPv6 loopback address at the longest. */
#define LOAD_ADDRSTR_BYTES	(INET6_ADDRSTRLEN + 8)

struct load_addr {
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	char			 str[LOAD_ADDRSTR_BYTES];
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

#endif
