/*
 * The spool's free space and the limits the manager checks for smtpd.
 * Runs in the queue manager: user queue, chrooted into the spool.
 *
 * smtpd's engine is chrooted in an empty directory and cannot look at
 * the spool; the manager, which owns it, can.  Every
 * QUEUE_SPACE_CHECK_SECS, and at each new message, it compares the free
 * space (what an unprivileged user may take, f_bavail) with "limit
 * queue-min-free"; when the spool goes low or recovers it tells every
 * smtpd connection (MSG_QUEUE_SPOOL_STATUS), and smtpd answers MAIL 452
 * 4.3.1 meanwhile, as Postfix does below its queue_minfree.  A message
 * asked for while the spool is low is refused (MESSAGE_CREATE, 451).
 *
 * A reload of queued (SIGHUP) brings new limits from the parent
 * (MSG_PARENT_QUEUE_LIMITS): the message size and recipient count it
 * checks at commit, which must follow smtpd's own reload, and the
 * minimum free space.
 */
#include <sys/types.h>
#include <sys/statvfs.h>

#include <stdint.h>

#include "config.h"
#include "ipc.h"
#include "log.h"
#include "proto.h"
#include "queue.h"

static struct event	*ev_space;
static int		 space_low;	/* below queue-min-free */
static uint64_t		 space_free;	/* bytes, at the last look */

/* Looks at the spool; tells smtpd when it went low or recovered. */
static void
queue_space_look(void)
{
	struct statvfs	 sv;
	int		 low;

	if (fstatvfs(qm.queue_fd, &sv) == -1) {
		log_warn("- queue spool-space");
		return;
	}
	space_free = (uint64_t)sv.f_bavail * sv.f_frsize;
	low = space_free < qm.conf->queue_min_free_bytes;
	if (low == space_low)
		return;
	space_low = low;
	log_warnx("- queue spool-%s free=%llu min-free=%llu",
	    low ? "low" : "ok", (unsigned long long)space_free,
	    (unsigned long long)qm.conf->queue_min_free_bytes);
	queue_smtp_space_changed();
}

static void
queue_space_timer(evutil_socket_t fd, short ev, void *arg)
{
	struct timeval	 tv = { QUEUE_SPACE_CHECK_SECS, 0 };

	(void)fd;
	(void)ev;
	(void)arg;
	queue_space_look();
	(void)evtimer_add(ev_space, &tv);
}

void
queue_space_init(void)
{
	if ((ev_space = evtimer_new(qm.base, queue_space_timer, NULL)) ==
	    NULL)
		fatalx("- queue evtimer_new space");
	queue_space_timer(-1, 0, NULL);
}

int
queue_space_low(void)
{
	queue_space_look();
	return space_low;
}

void
queue_space_put_status(struct ipc_out *o)
{
	ipc_put_u32(o, (space_low ? SPOOL_F_LOW : 0) |
	    (qm.paused_smtp ? SPOOL_F_PAUSED : 0));
	ipc_put_u64(o, space_free);
}

/* PARENT_QUEUE_LIMITS: u64 message size, u32 recipients, u64 min free. */
void
queue_space_limits(struct ipc_conn *c, struct ipc_msg *m)
{
	uint64_t	 size, min_free;
	uint32_t	 rcpts;

	(void)c;
	if (m->fd != -1 || ipc_get_u64(m, &size) == -1 ||
	    ipc_get_u32(m, &rcpts) == -1 || ipc_get_u64(m, &min_free) == -1 ||
	    ipc_get_end(m) == -1 || size == 0 || size > INT64_MAX ||
	    rcpts == 0 || min_free == 0 || min_free > INT64_MAX)
		fatalx("- queue malformed PARENT_QUEUE_LIMITS");
	qm.conf->max_message_bytes = size;
	qm.conf->max_rcpts = rcpts;
	qm.conf->queue_min_free_bytes = min_free;
	log_info("- queue limits message-size=%llu recipients=%u "
	    "queue-min-free=%llu", (unsigned long long)size, rcpts,
	    (unsigned long long)min_free);
	queue_space_look();
}
