/*
 * smtpd engine (user smtp, chroot emptydir, seccomp SANDBOX_ENGINE):
 * recipients at an address literal of this host, postmaster@[192.0.2.1]
 * (RFC 5321 4.1.3).  Literals exist so that postmaster stays reachable
 * when DNS is broken (RFC 1123 5.2.17), so one naming this host is a
 * local recipient, never relaying.  Only smtpd knows which addresses
 * are its own (its listeners, the address the client reached), so the
 * check is made here and the recipient is rewritten to the first local
 * domain before authd and queued see it: they resolve it as any local
 * address.  "address-literal local-users" says whether users other
 * than postmaster are reached that way.
 *
 * XXX A wildcard listener (0.0.0.0, ::) stands for every address of the
 * host, which the chrooted engine cannot list: a literal of another of
 * its interfaces than the one the client reached is taken as remote.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mailaddr.h"
#include "netaddr.h"
#include "smtpd.h"

#define SMTP_LITERAL_POSTMASTER	"postmaster"

const char *
smtp_literal_domain(const struct config *conf)
{
	const struct domain	*d = TAILQ_FIRST(&conf->domains);

	return d != NULL ? d->name : conf->hostname;
}

/* The address of "[a.b.c.d]" or "[IPv6:...]" (mailaddr.c checked it). */
static int
smtp_literal_parse(const char *domain, struct netaddr *a)
{
	char		 body[SMTP_DOMAIN_MAX_BYTES + 1];
	const char	*p = body, *errstr;
	size_t		 len = strlen(domain);

	if (len < 3 || domain[0] != '[' || domain[len - 1] != ']' ||
	    len - 2 >= sizeof(body))
		return -1;
	memcpy(body, domain + 1, len - 2);
	body[len - 2] = '\0';
	if (strncasecmp(p, "IPv6:", 5) == 0)
		p += 5;
	if (strchr(p, '/') != NULL)
		return -1;
	return netaddr_parse_cidr(p, a, &errstr);
}

/* The literal as a socket address, for netaddr_is_loopback(). */
static void
smtp_literal_sa(const struct netaddr *a, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)(void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (a->af == AF_INET) {
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, a->addr, sizeof(sin->sin_addr));
	} else {
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, a->addr, sizeof(sin6->sin6_addr));
	}
}

/*
 * 1 when the literal names this host: a loopback address, the address
 * the client connected to, or a listener's.  Never 0.0.0.0 or ::.
 */
static int
smtp_literal_ours(const struct smtp_session *s, const struct netaddr *a)
{
	static const uint8_t	 zero[NETADDR_MAX_BYTES];
	struct sockaddr_storage	 ss;
	const struct listener	*l;
	struct netaddr		 ln;
	const char		*errstr;

	if (memcmp(a->addr, zero, a->af == AF_INET ? 4 : 16) == 0)
		return 0;
	smtp_literal_sa(a, &ss);
	if (netaddr_is_loopback((struct sockaddr *)&ss) ||
	    netaddr_match_sa(a, (const struct sockaddr *)&s->local))
		return 1;
	TAILQ_FOREACH(l, &s->conf->listeners, entry)
		if (netaddr_parse_cidr(l->addr, &ln, &errstr) == 0 &&
		    netaddr_match(&ln, a->af, a->addr))
			return 1;
	return 0;
}

enum smtp_literal
smtp_literal_rcpt(const struct smtp_session *s, const struct smtp_path *p,
    char *dst, size_t dstlen)
{
	char		 local[SMTP_LOCALPART_MAX_BYTES + 1];
	struct netaddr	 a;
	int		 n, pm;

	if (p->postmaster || p->addr.domain[0] != '[' ||
	    smtp_literal_parse(p->addr.domain, &a) == -1 ||
	    !smtp_literal_ours(s, &a))
		return SMTP_LITERAL_NONE;
	/* RFC 5321 4.5.1: "postmaster" in any case. */
	pm = mailaddr_local_unquote(&p->addr, local, sizeof(local)) == 0 &&
	    strcasecmp(local, SMTP_LITERAL_POSTMASTER) == 0;
	if (!pm && !s->conf->literal_local_users) {
		if (mailaddr_format(&p->addr, dst, dstlen) == -1)
			return SMTP_LITERAL_TOOLONG;
		return SMTP_LITERAL_REFUSED;
	}
	n = snprintf(dst, dstlen, "%s@%s", pm ? SMTP_LITERAL_POSTMASTER :
	    p->addr.local, smtp_literal_domain(s->conf));
	if (n < 0 || (size_t)n >= dstlen)
		return SMTP_LITERAL_TOOLONG;
	return SMTP_LITERAL_LOCAL;
}
