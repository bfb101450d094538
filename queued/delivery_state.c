/*
 * The life of a delivery in the agent (root, no chroot, no seccomp
 * filter): the list each state keeps its deliveries on, the timer that
 * bounds a lookup and a delivery, the hand-over of pending deliveries
 * to mailbox workers (delivery_worker.c), the reaping of workers, and
 * the end of a delivery: one log line, one answer to the manager.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "delivery.h"
#include "log.h"
#include "proto.h"

static struct delivery_list *
delivery_state_list(enum delivery_state state)
{
	switch (state) {
	case D_LOOKUP:
		return &delivery_agent.lookups;
	case D_PENDING:
		return &delivery_agent.pending;
	case D_RUNNING:
		return &delivery_agent.running;
	default:
		return NULL;
	}
}

/* The counter of the deliveries in state, or NULL. */
static size_t *
delivery_state_counter(enum delivery_state state)
{
	switch (state) {
	case D_LOOKUP:
	case D_PENDING:
		return &delivery_agent.nwaiting;
	case D_RUNNING:
		return &delivery_agent.nrunning;
	default:
		return NULL;
	}
}

void
delivery_state_set(struct delivery *d, enum delivery_state state)
{
	static const char *const names[] = { "new", "lookup", "pending",
	    "running" };
	struct delivery_list	*l;
	size_t			*n;

	if ((l = delivery_state_list(d->state)) != NULL)
		TAILQ_REMOVE(l, d, entry);
	if ((n = delivery_state_counter(d->state)) != NULL)
		(*n)--;
	d->state = state;
	if ((l = delivery_state_list(state)) != NULL)
		TAILQ_INSERT_TAIL(l, d, entry);
	if ((n = delivery_state_counter(state)) != NULL)
		(*n)++;
	if (state != D_NEW)
		log_debug("%s delivery state=%s", d->evpid, names[state]);
}

/*
 * A lookup that takes too long ends; a delivery that does has its
 * worker killed, and ends when the worker is reaped.
 */
static void
delivery_state_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct delivery	*d = arg;

	(void)fd;
	(void)ev;
	if (d->state == D_LOOKUP)
		delivery_state_end(d, RESULT_TEMPFAIL,
		    "4.4.3 user lookup timed out");
	else if (d->state == D_RUNNING && !d->timedout) {
		log_warnx("%s delivery timeout pid=%ld secs=%d", d->evpid,
		    (long)d->pid, DELIVERY_TIMEOUT_SECS);
		d->timedout = 1;
		(void)kill(d->pid, SIGKILL);
	}
}

struct delivery *
delivery_state_new(void)
{
	struct delivery	*d;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		fatal("delivery calloc");
	d->state = D_NEW;
	d->msgfd = -1;
	if ((d->ev_timer = evtimer_new(delivery_agent.base,
	    delivery_state_timeout, d)) == NULL)
		fatalx("delivery evtimer_new");
	return d;
}

void
delivery_state_timer(struct delivery *d, int secs)
{
	struct timeval	 tv = { secs, 0 };

	if (evtimer_add(d->ev_timer, &tv) == -1)
		fatalx("delivery evtimer_add");
}

void
delivery_state_free(struct delivery *d)
{
	delivery_state_set(d, D_NEW);
	if (d->msgfd != -1)
		(void)close(d->msgfd);
	if (d->ev_timer != NULL)
		event_free(d->ev_timer);
	free(d);
}

const char *
delivery_state_user(const struct delivery *d)
{
	static char	 buf[4 * sizeof(d->user)];

	return log_vis(buf, sizeof(buf), d->user, strlen(d->user));
}

void
delivery_state_end(struct delivery *d, int result, const char *text)
{
	if (result == RESULT_OK && strncmp(text, "found ", 6) == 0)
		/* A recovered envelope's copy, in the Maildir already. */
		log_info("%s delivery duplicate-suppressed user=%s msgid=%s",
		    d->evpid, delivery_state_user(d), text + 6);
	else if (result == RESULT_OK)
		log_info("%s delivery ok user=%s path=%s", d->evpid,
		    delivery_state_user(d), text);
	else
		log_info("%s delivery %s user=%s error=%s", d->evpid,
		    result == RESULT_PERMFAIL ? "permfail" : "tempfail",
		    delivery_state_user(d), text);
	delivery_manager_reply(d, result, result == RESULT_OK ? "" : text);
	delivery_state_free(d);
}

void
delivery_state_end_all(struct delivery_list *l, const char *why)
{
	struct delivery	*d;

	while ((d = TAILQ_FIRST(l)) != NULL)
		delivery_state_end(d, RESULT_TEMPFAIL, why);
}

void
delivery_state_schedule(void)
{
	struct delivery	*d, *next;
	char		 err[QUEUE_ERROR_MAX_BYTES];
	int		 r;

	if (delivery_agent.stopping)
		return;
	for (d = TAILQ_FIRST(&delivery_agent.pending); d != NULL; d = next) {
		next = TAILQ_NEXT(d, entry);
		if ((r = delivery_fork_home(d, err, sizeof(err))) == 0)
			r = delivery_worker_assign(d, err, sizeof(err));
		if (r == -1) {
			delivery_state_end(d, RESULT_TEMPFAIL, err);
			continue;
		}
		if (r == 0)
			continue;
		delivery_state_set(d, D_RUNNING);
		delivery_state_timer(d, DELIVERY_TIMEOUT_SECS);
		log_debug("%s delivery started user=%s uid=%ld pid=%ld",
		    d->evpid, d->user, (long)d->uid, (long)d->pid);
	}
}

void
delivery_state_done(struct delivery *d, int result, const char *text)
{
	/*
	 * Even when its manager is gone and the answer is lost: the next
	 * one asks again (delivery_manager.c).
	 */
	if (result == RESULT_OK)
		delivery_seen_add(&delivery_agent.seen, d->evpid,
		    delivery_seen_now());
	delivery_state_end(d, result, text);
}

void
delivery_state_check_stopped(void)
{
	if (delivery_agent.stopping && delivery_agent.nworkers == 0)
		delivery_stopped();
}

void
delivery_state_reap(evutil_socket_t sig, short ev, void *arg)
{
	pid_t	 pid;
	int	 status;

	(void)sig;
	(void)ev;
	(void)arg;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		if (delivery_worker_reaped(pid, status) == -1)
			log_warnx("- delivery unknown-child pid=%ld",
			    (long)pid);
	delivery_state_schedule();
	delivery_state_check_stopped();
}
