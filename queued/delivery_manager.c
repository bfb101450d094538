/*
 * The delivery agent's side of the queue manager (runs in the agent:
 * root, no chroot, no seccomp filter).  The manager's socket comes from
 * the parent (PARENT_PEER_FD).  On it the manager sends
 * QUEUE_DELIVERY_START (str evpid, str user, str sender, str rcpt, u32
 * flags, and the message's read-only descriptor), each answered by one
 * DELIVERY_RESULT.
 *
 * The manager is not trusted: a malformed or duplicate request ends its
 * connection, and a request that is well formed but cannot be served is
 * answered with a permanent or temporary failure.  When the manager goes
 * away or is replaced, its deliveries are forgotten and the workers of
 * its running ones killed: it puts all of them back into its schedule.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <signal.h>
#include <string.h>

#include "delivery.h"
#include "ipc.h"
#include "log.h"
#include "proto.h"

static void	delivery_manager_start(struct ipc_conn *, struct ipc_msg *);

static const struct delivery_handler delivery_manager_handlers[] = {
	{ MSG_QUEUE_DELIVERY_START,	1,	delivery_manager_start },
};

static struct ipc_conn	*manager;
/* Which connection a delivery came on: bumped when one goes away. */
static unsigned int	 manager_gen;

/* Reads DELIVERY_START into a new delivery; NULL when malformed. */
static struct delivery *
delivery_manager_parse(struct ipc_msg *m)
{
	struct delivery	*d;
	struct stat	 st;
	int		 fl;

	d = delivery_state_new();
	if (ipc_get_str(m, d->evpid, sizeof(d->evpid)) == -1 ||
	    ipc_get_str(m, d->user, sizeof(d->user)) == -1 ||
	    ipc_get_str(m, d->sender, sizeof(d->sender)) == -1 ||
	    ipc_get_str(m, d->rcpt, sizeof(d->rcpt)) == -1 ||
	    ipc_get_u32(m, &d->flags) == -1 || ipc_get_end(m) == -1 ||
	    (d->flags & ~DELIVERY_F_ALL) != 0 ||
	    delivery_check_evpid(d->evpid) == -1)
		goto bad;
	/* A worker, as the user, gets this descriptor: read-only only. */
	if (fstat(m->fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (fl = fcntl(m->fd, F_GETFL)) == -1 ||
	    (fl & O_ACCMODE) != O_RDONLY)
		goto bad;
	d->msgfd = m->fd;
	m->fd = -1;
	d->peerid = m->hdr.peerid;
	d->gen = manager_gen;
	return d;
bad:
	delivery_state_free(d);
	return NULL;
}

/*
 * 1 when this manager already has a delivery of evpid in the agent; 2
 * when an earlier manager's delivery of evpid (its worker killed when
 * that manager went) is not reaped yet; else 0.
 */
static int
delivery_manager_in_flight(const char *evpid)
{
	struct delivery_list	*lists[] = { &delivery_agent.lookups,
				    &delivery_agent.pending,
				    &delivery_agent.running };
	struct delivery		*d;
	size_t			 i;
	int			 r = 0;

	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		TAILQ_FOREACH(d, lists[i], entry)
			if (strcmp(d->evpid, evpid) == 0) {
				if (d->gen == manager_gen)
					return 1;
				r = 2;
			}
	return r;
}

/*
 * Delivered already, for a manager that died before it recorded the
 * result: answered at once, and not delivered again.
 */
static int
delivery_manager_seen(struct delivery *d)
{
	if (!delivery_seen_find(&delivery_agent.seen, d->evpid,
	    delivery_seen_now()))
		return 0;
	log_info("%s delivery duplicate-suppressed user=%s", d->evpid,
	    delivery_state_user(d));
	delivery_manager_reply(d, RESULT_OK, "");
	delivery_state_free(d);
	return 1;
}

/* What can be refused before asking authd; RESULT_OK to go on. */
static int
delivery_manager_check(const struct delivery *d, const char **why)
{
	int	 r;

	if ((r = delivery_check_request(d, why)) != RESULT_OK)
		return r;
	*why = delivery_agent.stopping ? "4.3.2 shutting down" :
	    delivery_agent.nwaiting >= DELIVERY_PENDING_MAX ?
	    "4.3.1 too many deliveries waiting" : NULL;
	return *why == NULL ? RESULT_OK : RESULT_TEMPFAIL;
}

static void
delivery_manager_start(struct ipc_conn *c, struct ipc_msg *m)
{
	struct delivery	*d;
	const char	*why;
	int		 r;

	if ((d = delivery_manager_parse(m)) == NULL) {
		ipc_msg_clear(m);
		ipc_conn_close(c, "malformed DELIVERY_START");
		return;
	}
	if ((r = delivery_manager_in_flight(d->evpid)) == 1) {
		log_warnx("%s delivery duplicate", d->evpid);
		delivery_state_free(d);
		ipc_conn_close(c, "duplicate DELIVERY_START");
		return;
	}
	if (delivery_manager_seen(d))
		return;
	log_debug("%s delivery request user=%s", d->evpid,
	    delivery_state_user(d));
	/* Its outcome decides: it may have delivered. */
	if (r == 2)
		delivery_state_end(d, RESULT_TEMPFAIL,
		    "4.3.0 an earlier delivery is still ending");
	else if ((r = delivery_manager_check(d, &why)) != RESULT_OK)
		delivery_state_end(d, r, why);
	else
		delivery_authd_lookup(d);
}

/*
 * The manager has gone (or been replaced): kill the workers of its
 * running deliveries and forget its waiting ones.  It puts all of them
 * back into its schedule; a delivery allowed to finish now would make a
 * second copy.
 */
static void
delivery_manager_forget(void)
{
	struct delivery		*d;
	struct delivery_list	*lists[] = { &delivery_agent.lookups,
				    &delivery_agent.pending };
	size_t			 i;

	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		while ((d = TAILQ_FIRST(lists[i])) != NULL) {
			log_info("%s delivery forgotten user=%s "
			    "reason=manager-gone", d->evpid,
			    delivery_state_user(d));
			delivery_state_free(d);
		}
	TAILQ_FOREACH(d, &delivery_agent.running, entry)
		if (d->gen == manager_gen)
			(void)kill(d->pid, SIGKILL);
	manager_gen++;
}

static void
delivery_manager_dispatch(struct ipc_conn *c, struct ipc_msg *m, void *arg)
{
	(void)arg;
	delivery_dispatch(c, m, delivery_manager_handlers,
	    DELIVERY_NHANDLERS(delivery_manager_handlers), "manager");
}

static void
delivery_manager_closed(struct ipc_conn *c, void *arg)
{
	(void)arg;
	if (c == manager) {
		log_warnx("- delivery manager-closed running=%zu",
		    delivery_agent.nrunning);
		delivery_manager_forget();
		manager = NULL;
	}
	ipc_conn_free(c);
}

void
delivery_manager_connect(int fd)
{
	if (manager != NULL) {
		log_info("- delivery manager-replaced running=%zu",
		    delivery_agent.nrunning);
		delivery_manager_forget();
		ipc_conn_close(manager, NULL);
	}
	manager = ipc_conn_new(delivery_agent.base, fd, ROLE_DELIVERY,
	    ROLE_BIT(ROLE_QUEUED), delivery_manager_dispatch,
	    delivery_manager_closed, NULL);
	if (manager == NULL)
		fatalx("- delivery ipc_conn_new manager");
	log_info("- delivery manager-connected");
}

void
delivery_manager_reply(const struct delivery *d, int result,
    const char *text)
{
	static struct ipc_out	 o;

	if (manager == NULL || d->gen != manager_gen) {
		log_debug("%s delivery result-dropped reason=manager-gone",
		    d->evpid);
		return;
	}
	ipc_out_init(&o, MSG_DELIVERY_RESULT, d->peerid);
	ipc_put_str(&o, d->evpid);
	ipc_put_u32(&o, (uint32_t)result);
	ipc_put_str(&o, text);
	if (ipc_conn_send(manager, &o, -1) == -1)
		log_warnx("%s delivery result-lost", d->evpid);
}
