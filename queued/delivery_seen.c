/*
 * The envelopes the delivery agent (root, no chroot, no seccomp filter)
 * delivered lately.  A queue manager killed while a result was on its
 * way has no record of that delivery: once restarted, it asks for it
 * again.  The agent answers such a request RESULT_OK at once from this
 * set instead of writing a second copy.  An envelope id is a random
 * message id and the recipient's number, so an id found here is that
 * envelope.  Pure: the caller gives the time, the unit tests theirs.
 *
 * The set is bounded twice (DELIVERY_SEEN_MAX entries, each for
 * DELIVERY_SEEN_MAX_SECS): the ring holds the entries in the order they
 * were added, which is their age, so both limits forget from its start.
 */
#include <sys/types.h>
#include <sys/tree.h>

#include <string.h>
#include <time.h>

#include "delivery.h"
#include "log.h"

/* libbsd leaves __unused undefined, which RB_*_STATIC use. */
#ifndef __unused
#define __unused	__attribute__((__unused__))
#endif

static int
delivery_seen_cmp(const struct delivery_seen_entry *a,
    const struct delivery_seen_entry *b)
{
	return strcmp(a->evpid, b->evpid);
}

RB_GENERATE_STATIC(delivery_seen_tree, delivery_seen_entry, node,
    delivery_seen_cmp)

void
delivery_seen_init(struct delivery_seen *s)
{
	RB_INIT(&s->tree);
	s->first = s->count = 0;
}

/* Forgets the oldest entry. */
static void
delivery_seen_drop(struct delivery_seen *s)
{
	RB_REMOVE(delivery_seen_tree, &s->tree, &s->ring[s->first]);
	s->first = (s->first + 1) % DELIVERY_SEEN_MAX;
	s->count--;
}

/* Forgets every entry DELIVERY_SEEN_MAX_SECS old or more. */
static void
delivery_seen_expire(struct delivery_seen *s, time_t now)
{
	while (s->count > 0 &&
	    now - s->ring[s->first].when >= DELIVERY_SEEN_MAX_SECS)
		delivery_seen_drop(s);
}

static struct delivery_seen_entry *
delivery_seen_lookup(struct delivery_seen *s, const char *evpid)
{
	struct delivery_seen_entry	 key;

	if (strlcpy(key.evpid, evpid, sizeof(key.evpid)) >= sizeof(key.evpid))
		return NULL;
	return RB_FIND(delivery_seen_tree, &s->tree, &key);
}

void
delivery_seen_add(struct delivery_seen *s, const char *evpid, time_t now)
{
	struct delivery_seen_entry	*e;

	delivery_seen_expire(s, now);
	/* Delivered twice cannot happen: once in the set it is answered. */
	if (delivery_seen_lookup(s, evpid) != NULL)
		return;
	if (s->count == DELIVERY_SEEN_MAX)
		delivery_seen_drop(s);
	e = &s->ring[(s->first + s->count) % DELIVERY_SEEN_MAX];
	if (strlcpy(e->evpid, evpid, sizeof(e->evpid)) >= sizeof(e->evpid))
		fatalx("%s delivery seen: envelope id too long", evpid);
	e->when = now;
	RB_INSERT(delivery_seen_tree, &s->tree, e);
	s->count++;
}

int
delivery_seen_find(struct delivery_seen *s, const char *evpid, time_t now)
{
	delivery_seen_expire(s, now);
	return delivery_seen_lookup(s, evpid) != NULL;
}

size_t
delivery_seen_count(struct delivery_seen *s, time_t now)
{
	delivery_seen_expire(s, now);
	return s->count;
}

time_t
delivery_seen_now(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		fatal("delivery clock_gettime");
	return ts.tv_sec;
}
