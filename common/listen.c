/*
 * Opens the TCP listeners of the config (listen.h): as root, in the
 * parents of smtpd and pop3d.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <string.h>

#include "config.h"
#include "listen.h"
#include "log.h"

int
listen_open(const struct listener *l, const char *what)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 len;
	int			 fd, on = 1;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, l->addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(l->port);
		len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, l->addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(l->port);
		len = sizeof(*sin6);
	} else
		fatalx("- %s listen-bad-address addr=%s", what, l->addr);
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		fatal("- %s socket", what);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    (ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) == -1))
		fatal("- %s setsockopt", what);
	if (bind(fd, (struct sockaddr *)&ss, len) == -1)
		fatal("- %s bind addr=%s port=%u", what, l->addr, l->port);
	if (listen(fd, LISTEN_BACKLOG) == -1)
		fatal("- %s listen addr=%s port=%u", what, l->addr, l->port);
	return fd;
}
