/*
 * The queue manager: owns the spool, commits messages durably, schedules
 * their delivery, retries, expires and bounces them, and answers
 * sallyctl.  Runs as user queue (_sallyqueue), chrooted into the spool,
 * under the SANDBOX_QUEUE seccomp filter.
 *
 * Its peers, one dispatch table each, anything unexpected fatal unless
 * said otherwise:
 *   parent	(ROLE_PARENT) PARENT_CONNECT_REPLY, PARENT_PEER_FD,
 *		PARENT_LOG_VERBOSE, PARENT_PROC_STATUS
 *   delivery	(ROLE_DELIVERY, a pair from the parent) DELIVERY_RESULT
 *   relay	(ROLE_RELAY, a pair from the parent) queue_relay.c;
 *		anything unexpected closes the connection
 *   authd	(ROLE_AUTHD, connected by the parent) AUTH_EXPAND_RESULT;
 *		anything else closes the connection, which is retried
 *   smtpd	queue_smtp.c;  sallyctl  queue_control.c
 */
#include <sys/types.h>
#include <sys/resource.h>

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "ipc.h"
#include "log.h"
#include "privsep.h"
#include "proto.h"
#include "sandbox.h"
#include "queue.h"
#include "queued.h"

struct qmgr	 qm;

static void	queue_parent_connect_reply(struct ipc_conn *, struct ipc_msg *);
static void	queue_parent_peer_fd(struct ipc_conn *, struct ipc_msg *);
static void	queue_parent_verbose(struct ipc_conn *, struct ipc_msg *);
static void	queue_parent_proc_status(struct ipc_conn *, struct ipc_msg *);

static const struct qpeer_cmd parent_cmds[] = {
	{ MSG_PARENT_CONNECT_REPLY,	queue_parent_connect_reply },
	{ MSG_PARENT_PEER_FD,		queue_parent_peer_fd },
	{ MSG_PARENT_LOG_VERBOSE,	queue_parent_verbose },
	{ MSG_PARENT_PROC_STATUS,	queue_parent_proc_status },
	{ MSG_PARENT_QUEUE_LIMITS,	queue_space_limits },
};

static const struct qpeer_cmd delivery_cmds[] = {
	{ MSG_DELIVERY_RESULT,		queue_deliver_result },
};

static const struct qpeer_cmd authd_cmds[] = {
	{ MSG_AUTH_EXPAND_RESULT,	queue_expand_result },
};

static struct ipc_out	 out;

#define NCMDS(t)	(sizeof(t) / sizeof((t)[0]))

static const struct qpeer_cmd *
queue_cmd_find(const struct qpeer_cmd *cmds, size_t n, uint32_t type)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (cmds[i].type == type)
			return &cmds[i];
	return NULL;
}

uint32_t
queue_reqid(void)
{
	if (++qm.next_reqid == 0)
		qm.next_reqid = 1;
	return qm.next_reqid;
}

/*
 * The parent.
 */

static void
queue_parent_dispatch(struct ipc_conn *c, struct ipc_msg *m, void *arg)
{
	const struct qpeer_cmd	*cmd;

	(void)arg;
	if ((cmd = queue_cmd_find(parent_cmds, NCMDS(parent_cmds),
	    m->hdr.type)) == NULL)
		fatalx("- queue unexpected %s from parent",
		    ipc_type_name(m->hdr.type));
	cmd->handler(c, m);
	ipc_msg_clear(m);
}

static struct event	*ev_stop;
static time_t		 stop_deadline;
static int		 stop_signal;

/* Waits for the sync threads' jobs, then exits (queue_manager_sigterm). */
static void
queue_stop_poll(evutil_socket_t fd, short ev, void *arg)
{
	struct timeval	 tv = { 0, QUEUE_STOP_POLL_MSECS * 1000 };

	(void)fd;
	(void)ev;
	(void)arg;
	if (queue_sync_pending() > 0 && time(NULL) < stop_deadline &&
	    evtimer_add(ev_stop, &tv) == 0)
		return;
	log_info("- queue exiting signal=%d pending=%u", stop_signal,
	    queue_sync_pending());
	exit(0);
}

/*
 * SIGTERM (from the queued parent) or SIGINT (^C under -d, which the
 * whole process group gets): nothing new is scheduled; the jobs
 * of the sync threads (a delivered envelope's unlink, a commit, a retry)
 * get QUEUE_STOP_DRAIN_SECS to end, so that a clean stop does not leave
 * delivered envelopes behind to be delivered again.
 */
static void
queue_manager_sigterm(evutil_socket_t sig, short ev, void *arg)
{
	(void)ev;
	(void)arg;
	if (qm.stopping)
		return;
	qm.stopping = 1;
	stop_signal = (int)sig;
	log_info("- queue stopping signal=%d pending=%u", stop_signal,
	    queue_sync_pending());
	stop_deadline = time(NULL) + QUEUE_STOP_DRAIN_SECS;
	if ((ev_stop = evtimer_new(qm.base, queue_stop_poll, NULL)) == NULL)
		exit(0);
	queue_stop_poll(-1, 0, NULL);
}

static void
queue_parent_closed(struct ipc_conn *c, void *arg)
{
	(void)c;
	(void)arg;
	log_info("- queue exiting reason=parent-gone");
	exit(0);
}

int
queue_parent_proc_query(uint32_t id)
{
	return ipc_conn_send_empty(qm.parent, MSG_CHILD_PROC_QUERY, id);
}

static void
queue_parent_proc_status(struct ipc_conn *c, struct ipc_msg *m)
{
	(void)c;
	if (m->fd != -1)
		fatalx("- queue malformed PARENT_PROC_STATUS");
	queue_control_proc_status(m);
}

static void
queue_parent_verbose(struct ipc_conn *c, struct ipc_msg *m)
{
	uint32_t	 v;

	(void)c;
	if (m->fd != -1 || ipc_get_u32(m, &v) == -1 || ipc_get_end(m) == -1)
		fatalx("- queue malformed PARENT_LOG_VERBOSE");
	log_setverbose(v != 0);
	log_info("- queue log %s", v ? "verbose" : "brief");
}

/*
 * The delivery agent, through a pair the parent renews whenever either
 * of the two restarts.
 */

static void
queue_delivery_dispatch(struct ipc_conn *c, struct ipc_msg *m, void *arg)
{
	const struct qpeer_cmd	*cmd;

	(void)arg;
	if ((cmd = queue_cmd_find(delivery_cmds, NCMDS(delivery_cmds),
	    m->hdr.type)) == NULL)
		fatalx("- queue unexpected %s from delivery",
		    ipc_type_name(m->hdr.type));
	cmd->handler(c, m);
	ipc_msg_clear(m);
}

static void
queue_delivery_closed(struct ipc_conn *c, void *arg)
{
	(void)arg;
	if (c == qm.delivery) {
		log_warnx("- queue delivery-down inflight=%u", qm.inflight);
		qm.delivery = NULL;
		queue_flight_requeue(QENV_DELIVERING, 0, "delivery-down");
	}
	ipc_conn_free(c);
}

static void
queue_parent_peer_fd(struct ipc_conn *c, struct ipc_msg *m)
{
	uint32_t	 role;

	(void)c;
	if (m->fd == -1 || ipc_get_u32(m, &role) == -1 ||
	    ipc_get_end(m) == -1 || (role != ROLE_DELIVERY &&
	    role != ROLE_RELAY))
		fatalx("- queue malformed PARENT_PEER_FD");
	if (role == ROLE_RELAY) {
		queue_relay_connected(m->fd);
		m->fd = -1;
		return;
	}
	if (qm.delivery != NULL) {
		log_info("- queue delivery-replaced inflight=%u", qm.inflight);
		ipc_conn_free(qm.delivery);
		qm.delivery = NULL;
		queue_flight_requeue(QENV_DELIVERING, 0, "delivery-down");
	}
	qm.delivery = ipc_conn_new(qm.base, m->fd, ROLE_QUEUED,
	    ROLE_BIT(ROLE_DELIVERY), queue_delivery_dispatch,
	    queue_delivery_closed, NULL);
	if (qm.delivery == NULL)
		fatalx("- queue ipc_conn_new delivery");
	m->fd = -1;
	log_info("- queue delivery-connected");
	queue_sched_kick();
}

/*
 * authd, connected by the parent on request, retried with backoff.
 */

static void
queue_authd_ask(void)
{
	struct ipc_out	*o = &out;

	if (qm.authd != NULL || qm.authd_asked ||
	    evtimer_pending(qm.ev_authd, NULL))
		return;
	ipc_out_init(o, MSG_CHILD_CONNECT_REQUEST, 0);
	ipc_put_u32(o, PEER_AUTHD);
	if (ipc_conn_send(qm.parent, o, -1) == -1)
		fatalx("- queue cannot ask the parent for authd");
	qm.authd_asked = 1;
}

static void
queue_authd_timer(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	queue_authd_ask();
}

/* Waits the current backoff before asking again, and doubles it. */
static void
queue_authd_retry(void)
{
	struct timeval	 tv = { (time_t)qm.authd_backoff, 0 };

	log_debug("- queue authd-retry in=%us", qm.authd_backoff);
	(void)evtimer_add(qm.ev_authd, &tv);
	qm.authd_backoff *= 2;
	if (qm.authd_backoff > IPC_RETRY_MAX_SECS)
		qm.authd_backoff = IPC_RETRY_MAX_SECS;
}

struct ipc_conn *
queue_authd(void)
{
	if (qm.authd == NULL)
		queue_authd_ask();
	return qm.authd;
}

unsigned int
queue_authd_delay(void)
{
	return qm.authd_backoff;
}

void
queue_dispatch_or_close(struct ipc_conn *c, struct ipc_msg *m,
    const struct qpeer_cmd *cmds, size_t n, const char *peer)
{
	const struct qpeer_cmd	*cmd;

	if ((cmd = queue_cmd_find(cmds, n, m->hdr.type)) == NULL) {
		log_warnx("- queue unexpected %s from %s",
		    ipc_type_name(m->hdr.type), peer);
		ipc_msg_clear(m);
		ipc_conn_close(c, "unexpected message");
		return;
	}
	cmd->handler(c, m);
	ipc_msg_clear(m);
}

static void
queue_authd_dispatch(struct ipc_conn *c, struct ipc_msg *m, void *arg)
{
	(void)arg;
	queue_dispatch_or_close(c, m, authd_cmds, NCMDS(authd_cmds), "authd");
}

static void
queue_authd_closed(struct ipc_conn *c, void *arg)
{
	(void)arg;
	if (c == qm.authd) {
		log_warnx("- queue authd-down");
		qm.authd = NULL;
		queue_flight_requeue(QENV_EXPANDING, qm.authd_backoff,
		    "authd-down");
		queue_authd_retry();
	}
	ipc_conn_free(c);
}

static void
queue_parent_connect_reply(struct ipc_conn *c, struct ipc_msg *m)
{
	uint32_t	 service, result;

	(void)c;
	if (ipc_get_u32(m, &service) == -1 || ipc_get_u32(m, &result) == -1 ||
	    ipc_get_end(m) == -1 || service != PEER_AUTHD || !qm.authd_asked ||
	    (result == RESULT_OK) != (m->fd != -1))
		fatalx("- queue malformed PARENT_CONNECT_REPLY");
	qm.authd_asked = 0;
	if (result != RESULT_OK) {
		queue_authd_retry();
		return;
	}
	qm.authd = ipc_conn_new(qm.base, m->fd, ROLE_QUEUED,
	    ROLE_BIT(ROLE_AUTHD), queue_authd_dispatch, queue_authd_closed,
	    NULL);
	if (qm.authd == NULL) {
		queue_authd_retry();
		return;
	}
	m->fd = -1;
	log_info("- queue authd-connected");
	queue_sched_wake(QWAIT_AUTHD);
	queue_sched_kick();
}

/*
 * Start-up.
 */

static int
queue_open_dir(const char *name)
{
	int	 fd;

	if ((fd = open(name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		fatal("- queue open %s", name);
	return fd;
}

/* Everything that needs more than the sandbox allows, then the drop. */
static void
queue_manager_setup(struct queued_env *env)
{
	struct rlimit	 rl;
	struct event	*ev;
	uint32_t	 seed;

	/* One descriptor per message being received: take what we may. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	/*
	 * Seeds arc4random(3) before the chroot.  A (void) cast does not
	 * silence _FORTIFY_SOURCE's warn_unused_result.
	 */
	seed = arc4random();
	(void)seed;
	(void)signal(SIGPIPE, SIG_IGN);
	(void)signal(SIGHUP, SIG_IGN);
	(void)signal(SIGUSR1, SIG_IGN);
	(void)signal(SIGUSR2, SIG_IGN);
	privsep_drop(env->uid, env->gid, env->conf->spooldir);
	qm.incoming_fd = queue_open_dir("incoming");
	qm.queue_fd = queue_open_dir("queue");
	qm.corrupt_fd = queue_open_dir("corrupt");
	if ((qm.base = event_base_new()) == NULL)
		fatalx("- queue event_base_new");
	queue_sync_init();
	if ((ev = evsignal_new(qm.base, SIGTERM, queue_manager_sigterm,
	    NULL)) == NULL || evsignal_add(ev, NULL) == -1 ||
	    (ev = evsignal_new(qm.base, SIGINT, queue_manager_sigterm,
	    NULL)) == NULL || evsignal_add(ev, NULL) == -1)
		fatalx("- queue evsignal");
	sandbox_init(SANDBOX_QUEUE);
}

void
queue_manager_main(int parentfd, void *arg)
{
	struct queued_env	*env = arg;

	qm.conf = env->conf;
	qm.started = time(NULL);
	qm.authd_backoff = 1;
	queue_manager_setup(env);
	queue_sched_init();
	if ((qm.ev_authd = evtimer_new(qm.base, queue_authd_timer, NULL)) ==
	    NULL)
		fatalx("- queue evtimer_new");
	qm.parent = ipc_conn_new(qm.base, parentfd, ROLE_QUEUED,
	    ROLE_BIT(ROLE_PARENT), queue_parent_dispatch, queue_parent_closed,
	    NULL);
	if (qm.parent == NULL)
		fatalx("- queue ipc_conn_new parent");
	queue_recover();
	queue_space_init();
	queue_smtp_init(env->queue_sock);
	queue_control_init(env->control_sock);
	queue_authd_ask();
	log_info("- queue ready pid=%ld spool=%s", (long)getpid(),
	    qm.conf->spooldir);
	(void)event_base_dispatch(qm.base);
	fatalx("- queue event loop ended");
}
