/*
 * The mailbox workers, seen from the delivery agent (root, no chroot, no
 * seccomp filter).  A worker is a child forked for one (uid, gid, home)
 * that has dropped to that user (delivery_fork.c, delivery_user.c) and
 * serves one delivery after another over a SOCK_SEQPACKET socketpair:
 * DELIVERY_MAILBOX_WRITE out with the message's descriptor, one
 * MAILBOX_DELIVERY_RESULT back, then the next.  Forking once per user
 * rather than once per delivery saves the fork, the page-table copy and
 * teardown, and the dynamic linking of every delivery (doc/INTERNALS.md,
 * Delivery workers).
 *
 * A user gets at most DELIVERY_WORKERS_PER_USER_MAX workers, all users
 * together QUEUE_DELIVERIES_MAX (an idle worker of another user is
 * closed to make room).  A worker is closed after
 * DELIVERY_WORKER_IDLE_SECS without work and after
 * DELIVERY_WORKER_MAX_DELIVERIES deliveries: the agent closes its end,
 * the worker reads EOF and exits, and is reaped.  Anything unexpected
 * from a worker gets it killed.  A worker that dies with a delivery in
 * flight makes that delivery a temporary failure, as a dead child did.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "delivery.h"
#include "ipc.h"
#include "log.h"
#include "proc.h"
#include "proto.h"

static void	delivery_worker_readable(evutil_socket_t, short, void *);
static void	delivery_worker_idle(evutil_socket_t, short, void *);

/* Same user, same ids, same mail home: w may deliver d. */
static int
delivery_worker_fits(const struct delivery_worker *w,
    const struct delivery *d)
{
	return w->uid == d->uid && w->gid == d->gid &&
	    strcmp(w->home, d->home) == 0;
}

/*
 * Closes our end: the worker reads EOF and exits.  A delivery in flight
 * stays with it until it is reaped.
 */
static void
delivery_worker_close(struct delivery_worker *w, const char *why)
{
	if (w->fd == -1)
		return;
	log_debug("- delivery worker-close pid=%ld uid=%ld deliveries=%u "
	    "reason=%s", (long)w->pid, (long)w->uid, w->ndeliveries, why);
	event_del(w->ev_read);
	event_del(w->ev_idle);
	(void)close(w->fd);
	w->fd = -1;
}

/* A worker that broke the protocol: it ends now, and is reaped. */
static void
delivery_worker_kill(struct delivery_worker *w, const char *why)
{
	log_warnx("- delivery worker-kill pid=%ld uid=%ld reason=%s",
	    (long)w->pid, (long)w->uid, why);
	delivery_worker_close(w, why);
	/* Once reaped, its pid may be another process's. */
	if (!w->reaped)
		(void)kill(w->pid, SIGKILL);
}

/* A new worker for d's user; NULL with err when there is none. */
static struct delivery_worker *
delivery_worker_new(const struct delivery *d, char *err, size_t errlen)
{
	struct delivery_worker	*w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		fatal("delivery calloc");
	w->uid = d->uid;
	w->gid = d->gid;
	(void)strlcpy(w->home, d->home, sizeof(w->home));
	if (delivery_fork_worker(w, delivery_agent.conf->hostname, err,
	    errlen) == -1) {
		free(w);
		return NULL;
	}
	if ((w->ev_read = event_new(delivery_agent.base, w->fd,
	    EV_READ | EV_PERSIST, delivery_worker_readable, w)) == NULL ||
	    (w->ev_idle = evtimer_new(delivery_agent.base,
	    delivery_worker_idle, w)) == NULL ||
	    event_add(w->ev_read, NULL) == -1)
		fatalx("delivery event_new worker");
	TAILQ_INSERT_TAIL(&delivery_agent.workers, w, entry);
	delivery_agent.nworkers++;
	log_debug("- delivery worker-start pid=%ld uid=%ld", (long)w->pid,
	    (long)w->uid);
	return w;
}

/*
 * An idle worker for d, or room for a new one: NULL and *room 0 when d
 * must wait.  A full agent closes an idle worker of another user, whose
 * slot comes free when it is reaped.
 */
static struct delivery_worker *
delivery_worker_find(const struct delivery *d, int *room)
{
	struct delivery_worker	*w, *other = NULL;
	size_t			 mine = 0;

	TAILQ_FOREACH(w, &delivery_agent.workers, entry) {
		if (w->fd == -1)
			continue;
		if (!delivery_worker_fits(w, d)) {
			if (w->d == NULL && other == NULL)
				other = w;
			continue;
		}
		if (w->d == NULL)
			return w;
		mine++;
	}
	*room = mine < DELIVERY_WORKERS_PER_USER_MAX &&
	    delivery_agent.nworkers < QUEUE_DELIVERIES_MAX;
	if (mine < DELIVERY_WORKERS_PER_USER_MAX && !*room && other != NULL)
		delivery_worker_close(other, "room");
	return NULL;
}

/* Sends d to w; d's descriptor goes with it, and is closed here. */
static int
delivery_worker_send(struct delivery_worker *w, struct delivery *d)
{
	static struct ipc_out	 o;
	int			 r;

	ipc_out_init(&o, MSG_DELIVERY_MAILBOX_WRITE, 0);
	ipc_put_str(&o, d->evpid);
	ipc_put_str(&o, d->sender);
	ipc_put_str(&o, d->rcpt);
	/*
	 * Which manager asks: a worker reads the Maildir once for each
	 * (delivery_user_index.c).  Never 0, which asks for no check.
	 */
	ipc_put_u32(&o, (d->flags & DELIVERY_F_RECOVERED) ?
	    d->gen % UINT32_MAX + 1 : 0);
	ipc_put_u64(&o, d->quota);
	r = ipc_send_sync(w->fd, &o, d->msgfd);
	if (r == 0) {
		(void)close(d->msgfd);
		d->msgfd = -1;
	}
	return r;
}

int
delivery_worker_assign(struct delivery *d, char *err, size_t errlen)
{
	struct delivery_worker	*w;
	int			 room, fresh;

	for (;;) {
		fresh = 0;
		if ((w = delivery_worker_find(d, &room)) == NULL) {
			if (!room)
				return 0;
			if ((w = delivery_worker_new(d, err, errlen)) == NULL)
				return -1;
			fresh = 1;
		}
		if (delivery_worker_send(w, d) == 0)
			break;
		/* A worker killed while idle and not reaped yet: another. */
		(void)snprintf(err, errlen, "4.3.0 delivery worker: %s",
		    strerror(errno));
		delivery_worker_kill(w, "send failed");
		if (fresh)
			return -1;
	}
	event_del(w->ev_idle);
	w->d = d;
	d->pid = w->pid;
	return 1;
}

/*
 * Reads the verdict of w's delivery.  0 when there was one (and d is
 * ended), 1 when there is nothing to read yet, -1 when w is done for
 * (EOF, error, or anything unexpected, which kills it).
 */
static int
delivery_worker_result(struct delivery_worker *w)
{
	static uint8_t	 buf[sizeof(struct ipc_hdr) + IPC_PAYLOAD_MAX_BYTES];
	char		 raw[QUEUE_ERROR_MAX_BYTES];
	char		 text[QUEUE_ERROR_MAX_BYTES];
	struct ipc_msg	 m;
	struct delivery	*d = w->d;
	const char	*why;
	uint32_t	 verdict;
	int		 result;

	if (ipc_recv_sync(w->fd, &m, buf, sizeof(buf)) == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 1;
		if (errno == ECONNRESET)
			delivery_worker_close(w, "eof");
		else
			delivery_worker_kill(w, "malformed message");
		return -1;
	}
	if (d == NULL || m.hdr.type != MSG_MAILBOX_DELIVERY_RESULT ||
	    m.fd != -1 || ipc_get_u32(&m, &verdict) == -1 ||
	    ipc_get_str(&m, raw, sizeof(raw)) == -1 ||
	    ipc_get_end(&m) == -1 ||
	    (result = delivery_check_verdict(verdict, &why)) == -1) {
		ipc_msg_clear(&m);
		delivery_worker_kill(w, "unexpected message");
		return -1;
	}
	delivery_check_report(text, sizeof(text), raw, strlen(raw));
	if (result != RESULT_OK && text[0] == '\0')
		(void)strlcpy(text, why, sizeof(text));
	w->d = NULL;
	w->ndeliveries++;
	delivery_state_done(d, result, text);
	return 0;
}

/* After a verdict: w waits for the next delivery, or is closed. */
static void
delivery_worker_rest(struct delivery_worker *w)
{
	struct timeval	 tv = { DELIVERY_WORKER_IDLE_SECS, 0 };

	if (delivery_agent.stopping)
		delivery_worker_close(w, "stopping");
	else if (w->ndeliveries >= DELIVERY_WORKER_MAX_DELIVERIES)
		delivery_worker_close(w, "worn-out");
	else if (evtimer_add(w->ev_idle, &tv) == -1)
		fatalx("delivery evtimer_add");
}

static void
delivery_worker_readable(evutil_socket_t fd, short ev, void *arg)
{
	struct delivery_worker	*w = arg;

	(void)fd;
	(void)ev;
	if (delivery_worker_result(w) != 0)
		return;
	delivery_worker_rest(w);
	delivery_state_schedule();
}

static void
delivery_worker_idle(evutil_socket_t fd, short ev, void *arg)
{
	struct delivery_worker	*w = arg;

	(void)fd;
	(void)ev;
	if (w->d == NULL)
		delivery_worker_close(w, "idle");
}

int
delivery_worker_reaped(pid_t pid, int status)
{
	struct delivery_worker	*w;
	char			 text[QUEUE_ERROR_MAX_BYTES];

	TAILQ_FOREACH(w, &delivery_agent.workers, entry)
		if (w->pid == pid)
			break;
	if (w == NULL)
		return -1;
	w->reaped = 1;
	/* Its verdict may be waiting behind the SIGCHLD. */
	if (w->d != NULL && w->fd != -1)
		(void)delivery_worker_result(w);
	if (w->d != NULL) {
		delivery_check_death(status, w->d->timedout, text,
		    sizeof(text));
		delivery_state_done(w->d, RESULT_TEMPFAIL, text);
	} else if (w->fd != -1 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != DELIVERY_EXIT_OK)
		log_warnx("- delivery worker-died pid=%ld uid=%ld status=%d "
		    "reason=%s", (long)pid, (long)w->uid, status,
		    proc_death_reason(status));
	delivery_worker_close(w, "reaped");
	TAILQ_REMOVE(&delivery_agent.workers, w, entry);
	delivery_agent.nworkers--;
	event_free(w->ev_read);
	event_free(w->ev_idle);
	free(w);
	return 0;
}

void
delivery_worker_close_idle(void)
{
	struct delivery_worker	*w;

	TAILQ_FOREACH(w, &delivery_agent.workers, entry)
		if (w->d == NULL)
			delivery_worker_close(w, "stopping");
}

void
delivery_worker_kill_all(const char *why)
{
	struct delivery_worker	*w;

	TAILQ_FOREACH(w, &delivery_agent.workers, entry) {
		log_warnx("- delivery kill pid=%ld reason=%s", (long)w->pid,
		    why);
		(void)kill(w->pid, SIGKILL);
	}
}
