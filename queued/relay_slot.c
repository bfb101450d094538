/*
 * The relay's connection slots: relay_conns_max connections in all
 * (relay_pool.c).  A destination that wants a connection while every
 * slot is taken waits in line, first come first served; a connection
 * that ends gives its slot to the first in line, from a timer of its
 * own rather than from inside the callback that ended it.  An idle
 * session (ready, nothing to carry) of another destination is asked to
 * QUIT when a destination joins the line, and a session that becomes
 * idle while others wait quits at once, rather than hold its slot for
 * relay_idle_secs.
 *
 * Before the line, a session that ended kicked only its own
 * destination: with more destinations than slots, the others waited
 * for ever (1,000 destinations, 100 slots: regress/scale/
 * test_scale_relay.py relayed 862 of 100,000 envelopes, then nothing).
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "log.h"
#include "relay_pool_int.h"

static TAILQ_HEAD(, relay_dest)	 line = TAILQ_HEAD_INITIALIZER(line);
static TAILQ_HEAD(, relay_conn)	 idle = TAILQ_HEAD_INITIALIZER(idle);
static struct event		*ev_slot;

static void	relay_slot_reclaim(struct relay_conn *);

/* Slots are free: the destinations in line get them, in turn. */
static void
relay_slot_give(evutil_socket_t fd, short ev, void *arg)
{
	struct relay_dest	*d;

	(void)fd;
	(void)ev;
	(void)arg;
	while (relay_pool_nconns() < relay_env.conf->relay_conns_max &&
	    (d = TAILQ_FIRST(&line)) != NULL) {
		TAILQ_REMOVE(&line, d, slot_entry);
		d->slot_waiting = 0;
		relay_pool_kick(d);	/* back in line if still short */
	}
}

void
relay_slot_init(void)
{
	if ((ev_slot = evtimer_new(relay_env.base, relay_slot_give, NULL)) ==
	    NULL)
		fatalx("- relay evtimer_new");
}

void
relay_slot_wait(struct relay_dest *d)
{
	struct relay_conn	*c;

	if (d->slot_waiting)
		return;
	TAILQ_INSERT_TAIL(&line, d, slot_entry);
	d->slot_waiting = 1;
	/* One idle session of another destination makes room. */
	TAILQ_FOREACH(c, &idle, idle_entry)
		if (c->d != d)
			break;
	if (c != NULL)
		relay_slot_reclaim(c);
}

void
relay_slot_forget(struct relay_dest *d)
{
	if (d->slot_waiting)
		TAILQ_REMOVE(&line, d, slot_entry);
	d->slot_waiting = 0;
}

void
relay_slot_freed(void)
{
	struct timeval	 tv = { 0, 0 };

	if (!TAILQ_EMPTY(&line))
		(void)evtimer_add(ev_slot, &tv);
}

/* Asks idle c to QUIT: its slot goes to the line when it has ended. */
static void
relay_slot_reclaim(struct relay_conn *c)
{
	relay_slot_idle(c, 0);
	c->quitting = 1;
	relay_smtp_quit(c->smtp);
}

void
relay_slot_idle(struct relay_conn *c, int on)
{
	struct relay_dest	*first = TAILQ_FIRST(&line);

	/* Others wait for a slot: not kept idle. */
	if (on && !c->quitting && first != NULL && first != c->d) {
		relay_slot_reclaim(c);
		return;
	}
	if (on && !c->idle && !c->quitting)
		TAILQ_INSERT_TAIL(&idle, c, idle_entry);
	else if (!on && c->idle)
		TAILQ_REMOVE(&idle, c, idle_entry);
	else
		return;
	c->idle = on;
}
