/*
 * The relay's MTA-STS policies (RFC 8461 5.1), by domain, in memory:
 * at most a given number, the least recently used dropped for a new
 * one, an expired one dropped when asked for.  Runs in the relay.
 */
#include <sys/queue.h>
#include <sys/tree.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "relay_sts.h"

struct sts_entry {
	RB_ENTRY(sts_entry)	 node;
	TAILQ_ENTRY(sts_entry)	 lru;		/* most recent first */
	char			 domain[RELAY_DNS_NAME_MAX];
	char			 id[RELAY_STS_ID_MAX + 1];
	time_t			 expires;
	struct relay_sts_policy	 policy;
};

RB_HEAD(sts_tree, sts_entry);
TAILQ_HEAD(sts_lru, sts_entry);

struct relay_sts_cache {
	struct sts_tree		 tree;
	struct sts_lru		 lru;
	size_t			 count;
	size_t			 max;
};

static int
sts_cmp(const struct sts_entry *a, const struct sts_entry *b)
{
	return strcasecmp(a->domain, b->domain);
}

/* libbsd leaves __unused undefined, which RB_GENERATE_STATIC uses. */
#ifndef __unused
#define __unused	__attribute__((__unused__))
#endif

RB_GENERATE_STATIC(sts_tree, sts_entry, node, sts_cmp)

struct relay_sts_cache *
relay_sts_cache_new(size_t max)
{
	struct relay_sts_cache	*c;

	if (max == 0 || (c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	RB_INIT(&c->tree);
	TAILQ_INIT(&c->lru);
	c->max = max;
	return c;
}

static void
sts_drop(struct relay_sts_cache *c, struct sts_entry *e)
{
	RB_REMOVE(sts_tree, &c->tree, e);
	TAILQ_REMOVE(&c->lru, e, lru);
	c->count--;
	free(e);
}

void
relay_sts_cache_free(struct relay_sts_cache *c)
{
	struct sts_entry	*e;

	if (c == NULL)
		return;
	while ((e = TAILQ_FIRST(&c->lru)) != NULL)
		sts_drop(c, e);
	free(c);
}

static struct sts_entry *
sts_find(struct relay_sts_cache *c, const char *domain)
{
	struct sts_entry	 key;

	if (strlcpy(key.domain, domain, sizeof(key.domain)) >=
	    sizeof(key.domain))
		return NULL;
	return RB_FIND(sts_tree, &c->tree, &key);
}

const struct relay_sts_policy *
relay_sts_cache_get(struct relay_sts_cache *c, const char *domain,
    time_t now, const char **id)
{
	struct sts_entry	*e;

	if ((e = sts_find(c, domain)) == NULL)
		return NULL;
	if (now >= e->expires) {
		sts_drop(c, e);
		return NULL;
	}
	TAILQ_REMOVE(&c->lru, e, lru);
	TAILQ_INSERT_HEAD(&c->lru, e, lru);
	if (id != NULL)
		*id = e->id;
	return &e->policy;
}

int
relay_sts_cache_put(struct relay_sts_cache *c, const char *domain,
    const char *id, const struct relay_sts_policy *p, time_t now)
{
	struct sts_entry	*e;

	if ((e = sts_find(c, domain)) != NULL)
		sts_drop(c, e);
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return -1;
	if (strlcpy(e->domain, domain, sizeof(e->domain)) >=
	    sizeof(e->domain) || strlcpy(e->id, id, sizeof(e->id)) >=
	    sizeof(e->id)) {
		free(e);
		return -1;
	}
	e->policy = *p;
	e->expires = now + (time_t)p->max_age;
	if (c->count == c->max)
		sts_drop(c, TAILQ_LAST(&c->lru, sts_lru));
	RB_INSERT(sts_tree, &c->tree, e);
	TAILQ_INSERT_HEAD(&c->lru, e, lru);
	c->count++;
	return 0;
}

size_t
relay_sts_cache_count(const struct relay_sts_cache *c)
{
	return c->count;
}
