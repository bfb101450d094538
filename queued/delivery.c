/*
 * The delivery agent: root, not chrooted, no seccomp filter (it forks
 * children that must become any mail user).  It parses nothing but the
 * framed messages of its three peers and of its workers, and does
 * nothing but prepare mail homes and fork: one mailbox worker per user
 * with mail to deliver, which drops to the mailbox owner and writes one
 * message after another into the Maildir (delivery_worker.c,
 * delivery_user.c).  Departure from DESIGN.md, which forks a child per
 * delivery: see doc/INTERNALS.md, Delivery workers.
 *
 * Peers: its parent (ROLE_PARENT: PARENT_PEER_FD, PARENT_LOG_VERBOSE;
 * anything else is fatal), the queue manager (ROLE_QUEUED, on the
 * descriptor the parent passes: delivery_manager.c), and authd
 * (ROLE_AUTHD, <rundir>/authd.sock, which the agent connects itself:
 * delivery_authd.c).  The manager only names a user; the uid, gid and
 * mail home come from authd, so a compromised manager cannot aim a
 * delivery at a uid or a path of its choosing.
 *
 * A delivery goes LOOKUP (asking authd) -> PENDING (waiting for a free
 * worker of its user) -> RUNNING (in a worker) -> answered
 * (delivery_state.c).  This file holds the process itself: its start,
 * signals, parent and stop.
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "delivery.h"
#include "ipc.h"
#include "log.h"
#include "proto.h"
#include "queued.h"

struct delivery_agent	 delivery_agent;

static struct ipc_conn	*delivery_parent;
static struct event	*delivery_ev_stop;

static void	delivery_parent_peer_fd(struct ipc_conn *, struct ipc_msg *);
static void	delivery_parent_verbose(struct ipc_conn *, struct ipc_msg *);
static void	delivery_stop(void);

static const struct delivery_handler delivery_parent_handlers[] = {
	{ MSG_PARENT_PEER_FD,		1,	delivery_parent_peer_fd },
	{ MSG_PARENT_LOG_VERBOSE,	0,	delivery_parent_verbose },
};

/*
 * Dispatch: one table per peer.
 */

static const struct delivery_handler *
delivery_handler_find(const struct delivery_handler *t, size_t n,
    const struct ipc_msg *m)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (t[i].type == m->hdr.type)
			return (t[i].wantfd == (m->fd != -1)) ? &t[i] : NULL;
	return NULL;
}

void
delivery_dispatch(struct ipc_conn *c, struct ipc_msg *m,
    const struct delivery_handler *t, size_t n, const char *peer)
{
	const struct delivery_handler	*h;

	if ((h = delivery_handler_find(t, n, m)) == NULL) {
		log_warnx("- delivery unexpected message from %s type=%s",
		    peer, ipc_type_name(m->hdr.type));
		ipc_msg_clear(m);
		ipc_conn_close(c, "unexpected message");
		return;
	}
	h->fn(c, m);
}

/*
 * The parent: what it sends is trusted, so anything unexpected from it
 * is a broken invariant, and fatal.
 */

static void
delivery_parent_dispatch(struct ipc_conn *c, struct ipc_msg *m, void *arg)
{
	const struct delivery_handler	*h;

	(void)arg;
	h = delivery_handler_find(delivery_parent_handlers,
	    DELIVERY_NHANDLERS(delivery_parent_handlers), m);
	if (h == NULL)
		fatalx("- delivery unexpected message from parent type=%s",
		    ipc_type_name(m->hdr.type));
	h->fn(c, m);
}

static void
delivery_parent_peer_fd(struct ipc_conn *c, struct ipc_msg *m)
{
	uint32_t	 role;

	(void)c;
	if (ipc_get_u32(m, &role) == -1 || ipc_get_end(m) == -1 ||
	    role != ROLE_QUEUED)
		fatalx("- delivery malformed PARENT_PEER_FD");
	delivery_manager_connect(m->fd);
	m->fd = -1;
}

static void
delivery_parent_verbose(struct ipc_conn *c, struct ipc_msg *m)
{
	uint32_t	 verbose;

	(void)c;
	if (ipc_get_u32(m, &verbose) == -1 || ipc_get_end(m) == -1)
		fatalx("- delivery malformed PARENT_LOG_VERBOSE");
	log_setverbose(verbose != 0);
}

static void
delivery_parent_closed(struct ipc_conn *c, void *arg)
{
	(void)arg;
	ipc_conn_free(c);
	delivery_parent = NULL;
	log_warnx("- delivery parent-closed");
	delivery_stop();
}

/*
 * Stopping: SIGTERM, or the parent gone.  Waiting deliveries are answered
 * tempfail at once and idle workers closed; running deliveries get
 * DELIVERY_STOP_WAIT_SECS to finish (a worker killed midway leaves a
 * file in tmp/, and the manager delivers again), then every worker left
 * is killed.  The agent leaves once it has reaped them all.
 */

static void
delivery_stop(void)
{
	struct timeval	 tv = { DELIVERY_STOP_WAIT_SECS, 0 };

	if (delivery_agent.stopping)
		return;
	delivery_agent.stopping = 1;
	log_info("- delivery stopping running=%zu", delivery_agent.nrunning);
	delivery_authd_stop();
	delivery_state_end_all(&delivery_agent.lookups, "4.3.2 shutting down");
	delivery_state_end_all(&delivery_agent.pending, "4.3.2 shutting down");
	delivery_worker_close_idle();
	if (delivery_agent.nworkers == 0)
		delivery_stopped();
	else
		(void)evtimer_add(delivery_ev_stop, &tv);
}

static void
delivery_stop_timeout(evutil_socket_t fd, short ev, void *arg)
{
	static int	 killed;
	struct timeval	 tv = { DELIVERY_KILL_WAIT_SECS, 0 };

	(void)fd;
	(void)ev;
	(void)arg;
	if (killed) {
		log_warnx("- delivery exit unreaped=%zu",
		    delivery_agent.nworkers);
		exit(0);
	}
	killed = 1;
	delivery_worker_kill_all("stopping");
	(void)evtimer_add(delivery_ev_stop, &tv);
}

/* No worker is left: let the last results go out, then leave the loop. */
void
delivery_stopped(void)
{
	struct timeval	 tv = { 0, DELIVERY_FLUSH_WAIT_MSECS * 1000 };

	(void)event_base_loopexit(delivery_agent.base, &tv);
}

static void
delivery_sigterm(evutil_socket_t sig, short ev, void *arg)
{
	(void)sig;
	(void)ev;
	(void)arg;
	delivery_stop();
}

/*
 * The process.
 */

static void
delivery_signals(void)
{
	static struct event	*evs[3];
	const int		 sigs[3] = { SIGCHLD, SIGTERM, SIGINT };
	size_t			 i;

	(void)signal(SIGPIPE, SIG_IGN);
	(void)signal(SIGHUP, SIG_IGN);
	(void)signal(SIGUSR1, SIG_IGN);
	(void)signal(SIGUSR2, SIG_IGN);
	for (i = 0; i < 3; i++) {
		evs[i] = evsignal_new(delivery_agent.base, sigs[i], i == 0 ?
		    delivery_state_reap : delivery_sigterm, NULL);
		if (evs[i] == NULL || evsignal_add(evs[i], NULL) == -1)
			fatalx("delivery evsignal");
	}
}

/* libevent's own messages, into our log. */
static void
delivery_libevent_log(int severity, const char *msg)
{
	if (severity >= EVENT_LOG_ERR)
		log_warnx("- delivery libevent %s", msg);
	else
		log_debug("- delivery libevent %s", msg);
}

void
delivery_main(int parentfd, void *arg)
{
	event_set_log_callback(delivery_libevent_log);
	delivery_agent.conf = arg;
	TAILQ_INIT(&delivery_agent.lookups);
	TAILQ_INIT(&delivery_agent.pending);
	TAILQ_INIT(&delivery_agent.running);
	TAILQ_INIT(&delivery_agent.workers);
	delivery_seen_init(&delivery_agent.seen);
	if ((delivery_agent.base = event_base_new()) == NULL)
		fatalx("delivery event_base_new");
	delivery_signals();
	if ((delivery_ev_stop = evtimer_new(delivery_agent.base,
	    delivery_stop_timeout, NULL)) == NULL)
		fatalx("delivery evtimer_new");
	delivery_parent = ipc_conn_new(delivery_agent.base, parentfd,
	    ROLE_DELIVERY, ROLE_BIT(ROLE_PARENT), delivery_parent_dispatch,
	    delivery_parent_closed, NULL);
	if (delivery_parent == NULL)
		fatalx("delivery ipc_conn_new parent");
	delivery_authd_init(delivery_agent.base, delivery_agent.conf);
	log_info("- delivery started pid=%ld", (long)getpid());
	(void)event_base_dispatch(delivery_agent.base);
	log_info("- delivery exiting");
	exit(0);
}
