/*
 * Failed logins per client address, for every service that checks
 * passwords here (SMTP AUTH, POP3, IMAP), so that a guesser cannot
 * spread its guesses over them (DESIGN.md, "Mail access": login
 * throttling is counted in authd).  An address that failed
 * AUTH_FAILURES_MAX times within AUTH_FAIL_WINDOW_SECS of its first
 * failure is refused until that window ends, without a password check:
 * parallel guesses are counted as they arrive, so the ones past the
 * limit are never tried.  An IPv6 address counts by its /64, the
 * smallest network a site is given (RFC 6177), as an IPv4 address
 * counts alone.  Runs in authd as _sallyauth; no I/O.
 *
 * XXX A guesser with more than AUTHD_THROTTLE_ADDRS_MAX addresses can
 * push its own entries out; the fixed AUTH_FAIL_DELAY_MSECS of every
 * failure still holds it back.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/queue.h>
#include <sys/tree.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdlib.h>
#include <string.h>

#include "authd.h"

struct throttle_entry {
	RB_ENTRY(throttle_entry)	 node;
	TAILQ_ENTRY(throttle_entry)	 age;	/* oldest first */
	char				 key[AUTHD_THROTTLE_KEY_MAX_BYTES];
	time_t				 start;	/* the first failure */
	unsigned int			 n;
};

RB_HEAD(throttle_tree, throttle_entry);

static int
throttle_cmp(const struct throttle_entry *a, const struct throttle_entry *b)
{
	return strcmp(a->key, b->key);
}

/* libbsd leaves __unused undefined, which RB_GENERATE_STATIC uses. */
#ifndef __unused
#define __unused	__attribute__((__unused__))
#endif

RB_GENERATE_STATIC(throttle_tree, throttle_entry, node, throttle_cmp)

static struct throttle_tree			 throttle_tree =
    RB_INITIALIZER(&throttle_tree);
static TAILQ_HEAD(, throttle_entry)		 throttle_age =
    TAILQ_HEAD_INITIALIZER(throttle_age);
static size_t					 throttle_n;

int
authd_throttle_key(const char *client, char *key, size_t keylen)
{
	struct in6_addr	 a6;
	struct in_addr	 a4;
	char		 buf[INET6_ADDRSTRLEN];

	if (inet_pton(AF_INET, client, &a4) == 1) {
		if (inet_ntop(AF_INET, &a4, buf, sizeof(buf)) == NULL)
			return -1;
	} else if (inet_pton(AF_INET6, client, &a6) == 1) {
		if (IN6_IS_ADDR_V4MAPPED(&a6)) {
			memcpy(&a4, &a6.s6_addr[12], sizeof(a4));
			return authd_throttle_key(inet_ntop(AF_INET, &a4, buf,
			    sizeof(buf)), key, keylen);
		}
		memset(&a6.s6_addr[8], 0, 8);
		if (inet_ntop(AF_INET6, &a6, buf, sizeof(buf)) == NULL ||
		    strlcat(buf, "/64", sizeof(buf)) >= sizeof(buf))
			return -1;
	} else if (strlcpy(buf, client, sizeof(buf)) >= sizeof(buf))
		return -1;	/* not an address: itself, when it fits */
	return strlcpy(key, buf, keylen) < keylen ? 0 : -1;
}

static void
throttle_remove(struct throttle_entry *e)
{
	RB_REMOVE(throttle_tree, &throttle_tree, e);
	TAILQ_REMOVE(&throttle_age, e, age);
	throttle_n--;
	free(e);
}

/* Forgets the windows that have ended: they are the oldest. */
static void
throttle_expire(time_t now)
{
	struct throttle_entry	*e;

	while ((e = TAILQ_FIRST(&throttle_age)) != NULL &&
	    now - e->start >= AUTH_FAIL_WINDOW_SECS)
		throttle_remove(e);
}

/* The entry of client's key, or NULL; key is filled. */
static struct throttle_entry *
throttle_find(const char *client, time_t now, struct throttle_entry *key)
{
	throttle_expire(now);
	if (authd_throttle_key(client, key->key, sizeof(key->key)) == -1)
		(void)strlcpy(key->key, "-", sizeof(key->key));
	return RB_FIND(throttle_tree, &throttle_tree, key);
}

int
authd_throttle_locked(const char *client, time_t now)
{
	struct throttle_entry	 key, *e;

	e = throttle_find(client, now, &key);
	return e != NULL && e->n >= AUTH_FAILURES_MAX;
}

unsigned int
authd_throttle_fail(const char *client, time_t now)
{
	struct throttle_entry	 key, *e;

	if ((e = throttle_find(client, now, &key)) != NULL)
		return e->n < AUTH_FAILURES_MAX ? ++e->n : e->n;
	if (throttle_n >= AUTHD_THROTTLE_ADDRS_MAX)
		throttle_remove(TAILQ_FIRST(&throttle_age));
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return 0;	/* not counted; the delay still holds */
	memcpy(e->key, key.key, sizeof(e->key));
	e->start = now;
	e->n = 1;
	RB_INSERT(throttle_tree, &throttle_tree, e);
	TAILQ_INSERT_TAIL(&throttle_age, e, age);
	throttle_n++;
	return e->n;
}

size_t
authd_throttle_count(void)
{
	return throttle_n;
}

void
authd_throttle_clear(void)
{
	struct throttle_entry	*e;

	while ((e = TAILQ_FIRST(&throttle_age)) != NULL)
		throttle_remove(e);
}
