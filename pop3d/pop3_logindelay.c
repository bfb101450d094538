/*
 * LOGIN-DELAY (RFC 2449 6.5), enforced by pop3d's parent (root, no
 * chroot): the time of each user's last login, by the name authd gave
 * back for the token (so that "Bob" and "bob" are one user if authd
 * says so).  The parent outlives the login engine and sees every login
 * of every listener; the times are in memory, so a restart of pop3d
 * forgets them (a login right after it is allowed).  At most
 * POP3_LOGIN_DELAY_USERS_MAX users are remembered: past that, the
 * oldest login is forgotten first, which only lets that user in early.
 * Pure: no I/O, the unit tests call it with their own clock.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/tree.h>

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pop3d.h"

struct last_login {
	RB_ENTRY(last_login)	 node;
	TAILQ_ENTRY(last_login)	 entry;		/* oldest first */
	time_t			 when;
	char			 user[AUTH_USER_MAX_BYTES + 1];
};

RB_HEAD(last_tree, last_login);
TAILQ_HEAD(last_list, last_login);

static int
last_cmp(const struct last_login *a, const struct last_login *b)
{
	return strcmp(a->user, b->user);
}

/* libbsd leaves __unused undefined, which RB_GENERATE_STATIC uses. */
#ifndef __unused
#define __unused	__attribute__((__unused__))
#endif

RB_GENERATE_STATIC(last_tree, last_login, node, last_cmp)

static struct {
	struct last_tree	 tree;
	struct last_list	 list;
	size_t			 n;
	int			 init;
} ld;

static void
logindelay_forget(struct last_login *l)
{
	RB_REMOVE(last_tree, &ld.tree, l);
	TAILQ_REMOVE(&ld.list, l, entry);
	ld.n--;
	free(l);
}

uint32_t
pop3_logindelay_check(const char *user, time_t now, uint32_t delay)
{
	struct last_login	 key, *l;

	if (!ld.init) {
		RB_INIT(&ld.tree);
		TAILQ_INIT(&ld.list);
		ld.init = 1;
	}
	/* Logins older than the delay no longer matter. */
	while ((l = TAILQ_FIRST(&ld.list)) != NULL &&
	    (delay == 0 || now - l->when >= (time_t)delay || l->when > now))
		logindelay_forget(l);
	if (delay == 0)
		return 0;
	if (strlcpy(key.user, user, sizeof(key.user)) >= sizeof(key.user))
		return 0;
	if ((l = RB_FIND(last_tree, &ld.tree, &key)) != NULL)
		return (uint32_t)(delay - (now - l->when));
	if (ld.n >= POP3_LOGIN_DELAY_USERS_MAX)
		logindelay_forget(TAILQ_FIRST(&ld.list));
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		log_warn("- pop3 login-delay alloc");
		return 0;
	}
	(void)strlcpy(l->user, user, sizeof(l->user));
	l->when = now;
	RB_INSERT(last_tree, &ld.tree, l);
	TAILQ_INSERT_TAIL(&ld.list, l, entry);
	ld.n++;
	return 0;
}

size_t
pop3_logindelay_count(void)
{
	return ld.n;
}
