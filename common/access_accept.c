/*
 * The login engine's listeners (pop3d's and imapd's: the engine's
 * user, chrooted to the empty dir, seccomp SANDBOX_ENGINE): accepting
 * clients, pausing a second when out of descriptors, and what an
 * engine needs to know of a client's address.  Also the start of a
 * child's life: its descriptors.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "access.h"
#include "log.h"
#include "netaddr.h"

static struct {
	const char		*name;
	struct event		*ev_listen[CONFIG_LISTENERS_MAX];
	int			 listen_tls[CONFIG_LISTENERS_MAX];
	int			 nlisten;
	struct event		*ev_unpause;	/* accept again after EMFILE */
	access_accept_cb	 cb;
} aa;

static void
access_unpause(evutil_socket_t fd, short ev, void *arg)
{
	int	 i;

	(void)fd;
	(void)ev;
	(void)arg;
	for (i = 0; i < aa.nlisten; i++)
		(void)event_add(aa.ev_listen[i], NULL);
}

/* Out of descriptors: stop accepting for a second rather than spin. */
static void
access_accept_pause(void)
{
	struct timeval	 tv = { 1, 0 };
	int		 i;

	for (i = 0; i < aa.nlisten; i++)
		(void)event_del(aa.ev_listen[i]);
	(void)evtimer_add(aa.ev_unpause, &tv);
}

static void
access_accept(evutil_socket_t lfd, short ev, void *arg)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	int			 fd, implicit = *(const int *)arg;

	(void)ev;
	fd = accept4(lfd, (struct sockaddr *)&ss, &len,
	    SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		if (errno == EMFILE || errno == ENFILE) {
			log_warn("- %s accept", aa.name);
			access_accept_pause();
		} else if (errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR && errno != ECONNABORTED)
			log_warn("- %s accept", aa.name);
		return;
	}
	aa.cb(fd, &ss, implicit);
}

void
access_accept_init(struct event_base *base, const char *name,
    const int *fds, const int *tls, int nfds, access_accept_cb cb)
{
	int	 i;

	aa.name = name;
	aa.cb = cb;
	if ((aa.ev_unpause = evtimer_new(base, access_unpause, NULL)) == NULL)
		fatalx("- %s engine setup", name);
	for (i = 0; i < nfds; i++) {
		aa.listen_tls[i] = tls[i];
		aa.ev_listen[i] = event_new(base, fds[i], EV_READ | EV_PERSIST,
		    access_accept, &aa.listen_tls[i]);
		if (aa.ev_listen[i] == NULL ||
		    event_add(aa.ev_listen[i], NULL) == -1)
			fatalx("- %s listen event", name);
	}
	aa.nlisten = nfds;
}

const char *
access_addr(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	const void	*a;

	if (ss->ss_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
	else
		a = &((const struct sockaddr_in *)ss)->sin_addr;
	if (inet_ntop(ss->ss_family, a, buf, len) == NULL)
		(void)strlcpy(buf, "unknown", len);
	return buf;
}

void
access_client_name(const struct sockaddr_storage *ss, char *buf,
    size_t len)
{
	char		 addr[INET6_ADDRSTRLEN];
	in_port_t	 port;

	if (ss->ss_family == AF_INET6)
		port = ((const struct sockaddr_in6 *)ss)->sin6_port;
	else
		port = ((const struct sockaddr_in *)ss)->sin_port;
	(void)access_addr(ss, addr, sizeof(addr));
	(void)snprintf(buf, len, "%s:%u", addr, ntohs(port));
}

int
access_is_loopback(int fd, const struct sockaddr_storage *peer)
{
	struct sockaddr_storage	 local;
	socklen_t		 len = sizeof(local);

	if (getsockname(fd, (struct sockaddr *)&local, &len) == -1)
		return 0;
	return netaddr_is_loopback((const struct sockaddr *)peer) &&
	    netaddr_is_loopback((const struct sockaddr *)&local);
}

uint32_t
access_session_id(void)
{
	uint32_t	 id;

	while ((id = arc4random()) == 0)
		;
	return id;
}

/*
 * Moves the descriptors to keep out of the way (above 3 + nfds), then
 * into 3, 4, ..., and closes every other one, so that a child holds
 * nothing of its parent's: no listener, no other client, no authd.
 */
void
access_child_fds(int *fds, int nfds, const char *ident, int foreground)
{
	int	 i, fd;

	closelog();
	for (i = 0; i < nfds; i++) {
		if ((fd = fcntl(fds[i], F_DUPFD_CLOEXEC, 3 + nfds)) == -1)
			fatal("%s child-fds dup", ident);
		fds[i] = fd;
	}
	for (i = 0; i < nfds; i++) {
		if (dup3(fds[i], 3 + i, O_CLOEXEC) == -1)
			fatal("%s child-fds dup3", ident);
		fds[i] = 3 + i;
	}
	closefrom(3 + nfds);
	/* Reconnects to syslog while /dev/log is still reachable. */
	log_init(ident, foreground);
}
