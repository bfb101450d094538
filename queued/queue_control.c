/*
 * control.sock: sallyctl's requests to the queue manager (user queue,
 * chroot spool).  Only root may connect, with role sallyctl.  One
 * request at a time per connection; a malformed or unexpected request
 * ends the connection.  Replies echo the request's peerid.
 *
 * The queue list is streamed QUEUE_CTL_LIST_BATCH entries per turn of
 * the event loop, from a cursor (the last evpid sent), so that a long
 * queue neither stalls the manager nor overflows the connection: a
 * batch waits until the previous one is written, so a reader slower
 * than the manager (sallyctl piped into a pager) slows the list down
 * instead of filling the write queue, which ends the connection.
 *
 * show stats and show hosts are in queue_control_stats.c.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ipc.h"
#include "log.h"
#include "proto.h"
#include "queue.h"
#include "queue_control_int.h"

/* Pause between two batches of a queue list. */
#define QUEUE_CTL_LIST_PAUSE_USECS	10000
/* Processes in a PARENT_PROC_STATUS: the parent and its children. */
#define QUEUE_CTL_PROCS_MAX		8

typedef void	(*ctl_handler)(struct ctl_client *, struct ipc_msg *);

struct ctl_cmd {
	uint32_t	 type;
	int		 has_id;	/* the payload is "str id" */
	ctl_handler	 handler;
};

static void	ctl_list(struct ctl_client *, struct ipc_msg *);
static void	ctl_status(struct ctl_client *, struct ipc_msg *);
static void	ctl_schedule(struct ctl_client *, struct ipc_msg *);
static void	ctl_remove(struct ctl_client *, struct ipc_msg *);

static const struct ctl_cmd ctl_cmds[] = {
	{ MSG_CTL_QUEUE_LIST,	0,	ctl_list },
	{ MSG_CTL_STATS,	0,	ctl_stats },
	{ MSG_CTL_STATUS,	0,	ctl_status },
	{ MSG_CTL_SCHEDULE,	1,	ctl_schedule },
	{ MSG_CTL_REMOVE,	1,	ctl_remove },
	{ MSG_CTL_HOSTS,	0,	ctl_hosts },
	{ MSG_CTL_ENVELOPE,	1,	ctl_envelope },
	{ MSG_CTL_MESSAGE,	1,	ctl_message },
	{ MSG_CTL_PAUSE,	1,	queue_ctl_pause },
	{ MSG_CTL_RESUME,	1,	queue_ctl_resume },
	{ MSG_CTL_HOLD,		1,	queue_ctl_envelopes },
	{ MSG_CTL_RELEASE,	1,	queue_ctl_envelopes },
	{ MSG_CTL_EXPIRE,	1,	queue_ctl_envelopes },
	{ MSG_CTL_REQUEUE,	1,	queue_ctl_envelopes },
};

struct ctl_client_list		 ctl_clients =
    TAILQ_HEAD_INITIALIZER(ctl_clients);
static unsigned int		 nctl_clients;
static uint32_t			 ctl_next_id;
static struct event		*ev_ctl_accept;
static struct ipc_out		 out;
static char			 ctl_id[IPC_STRING_MAX_BYTES + 1];

void
ctl_end(struct ctl_client *cl)
{
	(void)ipc_conn_send_empty(cl->conn, MSG_CTL_END, cl->peerid);
	cl->busy = 0;
}

void
ctl_result(struct ctl_client *cl, uint32_t result, uint32_t count,
    const char *message)
{
	ipc_out_init(&out, MSG_CTL_RESULT, cl->peerid);
	ipc_put_u32(&out, result);
	ipc_put_u32(&out, count);
	ipc_put_str(&out, message);
	(void)ipc_conn_send(cl->conn, &out, -1);
	cl->busy = 0;
}

/* One entry; an envelope that cannot be read is shown as such. */
static void
ctl_list_entry(struct ctl_client *cl, struct qenv *q)
{
	struct envelope	 e;
	const char	*errstr;
	char		 err[QUEUE_ERROR_MAX_BYTES + 1];

	if (queue_store_load(q->msg->msgid, q->evpid, &e, &errstr) == -1) {
		memset(&e, 0, sizeof(e));
		(void)snprintf(err, sizeof(err), "unreadable envelope: %s",
		    errstr);
		(void)strlcpy(e.last_error, err, sizeof(e.last_error));
	}
	ipc_out_init(&out, MSG_CTL_QUEUE_ENTRY, cl->peerid);
	ipc_put_str(&out, q->evpid);
	ipc_put_str(&out, e.sender);
	ipc_put_str(&out, e.rcpt);
	ipc_put_u64(&out, (uint64_t)e.created);
	ipc_put_u32(&out, e.retries);
	/* Held or paused: when it will be due once let go. */
	ipc_put_u64(&out, q->state == QENV_WAITING || q->state == QENV_HELD ?
	    (uint64_t)q->next_try : 0);
	ipc_put_str(&out, e.last_error);
	ipc_put_str(&out, ctl_state_name(q));
	(void)ipc_conn_send(cl->conn, &out, -1);
}

static void
ctl_list_batch(evutil_socket_t fd, short ev, void *arg)
{
	struct ctl_client	*cl = arg;
	struct timeval		 tv = { 0, QUEUE_CTL_LIST_PAUSE_USECS };
	struct qenv		*q;
	int			 n;

	(void)fd;
	(void)ev;
	if (ipc_conn_pending(cl->conn) >= QUEUE_CTL_LIST_BATCH) {
		(void)evtimer_add(cl->ev_list, &tv);
		return;
	}
	for (n = 0; n < QUEUE_CTL_LIST_BATCH; n++) {
		q = queue_env_next(cl->cursor[0] != '\0' ? cl->cursor : NULL);
		if (q == NULL) {
			ctl_end(cl);
			return;
		}
		ctl_list_entry(cl, q);
		(void)strlcpy(cl->cursor, q->evpid, sizeof(cl->cursor));
	}
	(void)evtimer_add(cl->ev_list, &tv);
}

static void
ctl_list(struct ctl_client *cl, struct ipc_msg *m)
{
	(void)m;
	cl->cursor[0] = '\0';
	ctl_list_batch(-1, 0, cl);
}

static void
ctl_status(struct ctl_client *cl, struct ipc_msg *m)
{
	(void)m;
	if (queue_parent_proc_query(cl->id) == -1)
		ctl_end(cl);
}

void
queue_control_proc_status(struct ipc_msg *m)
{
	struct ctl_client	*cl;
	char			 name[32];
	uint32_t		 n, i, pid, up;
	uint64_t		 started;

	TAILQ_FOREACH(cl, &ctl_clients, entry)
		if (cl->id == m->hdr.peerid && cl->busy)
			break;
	if (ipc_get_u32(m, &n) == -1 || n > QUEUE_CTL_PROCS_MAX)
		fatalx("- queue malformed PARENT_PROC_STATUS");
	for (i = 0; i < n; i++) {
		if (ipc_get_str(m, name, sizeof(name)) == -1 ||
		    ipc_get_u32(m, &pid) == -1 ||
		    ipc_get_u64(m, &started) == -1 ||
		    ipc_get_u32(m, &up) == -1)
			fatalx("- queue malformed PARENT_PROC_STATUS");
		if (cl == NULL)
			continue;
		ipc_out_init(&out, MSG_CTL_PROC, cl->peerid);
		ipc_put_str(&out, name);
		ipc_put_u32(&out, pid);
		ipc_put_u64(&out, started);
		ipc_put_u32(&out, up);
		(void)ipc_conn_send(cl->conn, &out, -1);
	}
	if (ipc_get_end(m) == -1)
		fatalx("- queue malformed PARENT_PROC_STATUS");
	if (cl != NULL)
		ctl_end(cl);
}

static void
ctl_schedule_one(struct qenv *q, void *arg)
{
	struct ctl_count	*c = arg;

	/* Held or paused: it stays so (release or resume it first). */
	if (q->state == QENV_HELD)
		return;
	if (q->state != QENV_WAITING) {
		c->busy++;
		return;
	}
	queue_sched_remove(q);
	queue_sched_insert(q, c->now);
	c->done++;
}

static void
ctl_remove_one(struct qenv *q, void *arg)
{
	struct ctl_count	*c = arg;

	/* A delivery under way finishes first: remove it after. */
	if (q->state != QENV_WAITING && q->state != QENV_HELD) {
		c->busy++;
		return;
	}
	if (queue_store_remove(q->msg->msgid, q->evpid) == -1) {
		log_warn("%s queue remove-failed", q->evpid);
		c->failed++;
		return;
	}
	qm.stats.removed++;
	log_info("%s queue removed by=sallyctl", q->evpid);
	queue_env_drop(q);
	c->done++;
}

const char *
ctl_state_name(const struct qenv *q)
{
	if (q->state != QENV_HELD)
		return q->state == QENV_WAITING ? "waiting" : "active";
	if (q->held && q->paused)
		return "held,paused";
	return q->held ? "held" : "paused";
}

const char *
ctl_arg(void)
{
	return ctl_id;
}

/* The answer to a verb on envelopes, with its counts. */
static void
ctl_apply_answer(struct ctl_client *cl, const char *id, const char *verb,
    const struct ctl_count *c)
{
	char	 msg[128];

	(void)snprintf(msg, sizeof(msg), "%u %s, %u busy, %u failed", c->done,
	    verb, c->busy, c->failed);
	log_info("%s queue ctl-%s done=%u busy=%u failed=%u",
	    strcmp(id, "all") == 0 ? "-" : id, verb, c->done, c->busy,
	    c->failed);
	if (c->done > 0)
		queue_sched_kick();
	ctl_result(cl, c->done > 0 || (c->busy == 0 && c->failed == 0) ?
	    RESULT_OK : RESULT_TEMPFAIL, c->done, msg);
}

void
ctl_apply(struct ctl_client *cl, void (*fn)(struct qenv *, void *),
    const char *verb)
{
	struct ctl_count	 c;
	int			 n;

	memset(&c, 0, sizeof(c));
	c.now = time(NULL);
	c.client = cl->id;
	if ((n = queue_env_foreach(ctl_id, fn, &c)) == -1) {
		ipc_conn_close(cl->conn, "bad id");
		return;
	}
	/* "all" of an empty queue is done; a named id must exist. */
	if (n == 0 && strcmp(ctl_id, "all") != 0) {
		ctl_result(cl, RESULT_PERMFAIL, 0,
		    "no such message or envelope");
		return;
	}
	ctl_apply_answer(cl, ctl_id, verb, &c);
}

/*
 * The next envelope the request's id names after the cursor, or NULL:
 * the index is in evpid order, so a message's envelopes are together.
 */
static struct qenv *
ctl_apply_next(struct ctl_client *cl)
{
	const char	*id = cl->apply_id;
	struct qenv	*q;

	if (queue_evpid_valid(id))
		return cl->cursor[0] == '\0' ? queue_env_find(id) : NULL;
	q = queue_env_next(cl->cursor[0] != '\0' ? cl->cursor : NULL);
	if (q != NULL && strcmp(id, "all") != 0 && !queue_evpid_of(q->evpid,
	    id))
		return NULL;
	return q;
}

/*
 * Starts writes until QUEUE_CTL_WRITES_MAX are out or the id names no
 * more; answers once the last is done.  A window rather than them all
 * at once: "hold all" of 100,000 envelopes would hold 100,000 copies
 * in memory, and the sync threads for as long.
 */
static void
ctl_apply_more(struct ctl_client *cl)
{
	struct qenv	*q;

	while (!cl->apply_end && cl->apply.pending < QUEUE_CTL_WRITES_MAX) {
		if ((q = ctl_apply_next(cl)) == NULL) {
			cl->apply_end = 1;
			break;
		}
		(void)strlcpy(cl->cursor, q->evpid, sizeof(cl->cursor));
		cl->apply_seen++;
		cl->apply_fn(q, &cl->apply);
	}
	if (!cl->apply_end || cl->apply.pending > 0)
		return;		/* ctl_write_done() comes back here */
	/* "all" of an empty queue is done; a named id must exist. */
	if (cl->apply_seen == 0 && strcmp(cl->apply_id, "all") != 0)
		ctl_result(cl, RESULT_PERMFAIL, 0,
		    "no such message or envelope");
	else
		ctl_apply_answer(cl, cl->apply_id, cl->apply_verb,
		    &cl->apply);
}

void
ctl_apply_writes(struct ctl_client *cl, void (*fn)(struct qenv *, void *),
    const char *verb)
{
	if (!queue_msgid_valid(ctl_id) && !queue_evpid_valid(ctl_id) &&
	    strcmp(ctl_id, "all") != 0) {
		ipc_conn_close(cl->conn, "bad id");
		return;
	}
	memset(&cl->apply, 0, sizeof(cl->apply));
	cl->apply.now = time(NULL);
	cl->apply.client = cl->id;
	cl->apply_fn = fn;
	cl->apply_verb = verb;
	cl->apply_seen = 0;
	cl->apply_end = 0;
	cl->cursor[0] = '\0';
	(void)strlcpy(cl->apply_id, ctl_id, sizeof(cl->apply_id));
	ctl_apply_more(cl);
}

void
ctl_write_done(uint32_t client, int failed)
{
	struct ctl_client	*cl;

	TAILQ_FOREACH(cl, &ctl_clients, entry)
		if (cl->id == client && cl->busy && cl->apply.pending > 0)
			break;
	if (cl == NULL)
		return;		/* it left: the writes are done all the same */
	if (failed)
		cl->apply.failed++;
	else
		cl->apply.done++;
	cl->apply.pending--;
	ctl_apply_more(cl);
}

static void
ctl_schedule(struct ctl_client *cl, struct ipc_msg *m)
{
	(void)m;
	ctl_apply(cl, ctl_schedule_one, "scheduled");
}

static void
ctl_remove(struct ctl_client *cl, struct ipc_msg *m)
{
	(void)m;
	ctl_apply(cl, ctl_remove_one, "removed");
}

static void
ctl_dispatch(struct ipc_conn *c, struct ipc_msg *m, void *arg)
{
	struct ctl_client	*cl = arg;
	const struct ctl_cmd	*cmd = NULL;
	size_t			 i;

	for (i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++)
		if (ctl_cmds[i].type == m->hdr.type)
			cmd = &ctl_cmds[i];
	if (cmd == NULL || cl->busy || m->fd != -1 || (cmd->has_id &&
	    ipc_get_str(m, ctl_id, sizeof(ctl_id)) == -1) ||
	    ipc_get_end(m) == -1) {
		log_warnx("- queue ctl-refused type=%s",
		    ipc_type_name(m->hdr.type));
		ipc_msg_clear(m);
		ipc_conn_close(c, "malformed or unexpected request");
		return;
	}
	cl->busy = 1;
	cl->peerid = m->hdr.peerid;
	cmd->handler(cl, m);
}

static void
ctl_closed(struct ipc_conn *c, void *arg)
{
	struct ctl_client	*cl = arg;

	TAILQ_REMOVE(&ctl_clients, cl, entry);
	nctl_clients--;
	event_free(cl->ev_list);
	ipc_conn_free(c);
	free(cl);
}

static void
ctl_accept(evutil_socket_t lfd, short ev, void *arg)
{
	static const uid_t	 root_only[] = { 0 };
	struct ctl_client	*cl;
	struct ipc_peer		 peer;
	int			 fd;

	(void)lfd;
	(void)ev;
	(void)arg;
	if ((fd = ipc_accept(ev_ctl_accept, root_only, 1, &peer,
	    "queue ctl-accept")) == IPC_ACCEPT_NONE)
		return;
	if (fd == IPC_ACCEPT_REFUSED || nctl_clients >= QUEUE_CTL_CONNS_MAX) {
		log_warnx("- queue ctl-refused uid=%ld", (long)peer.uid);
		if (fd >= 0)
			(void)close(fd);
		return;
	}
	if ((cl = calloc(1, sizeof(*cl))) == NULL)
		fatal("ctl_accept");
	if (++ctl_next_id == 0)
		ctl_next_id = 1;
	cl->id = ctl_next_id;
	cl->ev_list = evtimer_new(qm.base, ctl_list_batch, cl);
	cl->conn = ipc_conn_new(qm.base, fd, ROLE_QUEUED, ROLE_BIT(ROLE_CTL),
	    ctl_dispatch, ctl_closed, cl);
	if (cl->ev_list == NULL || cl->conn == NULL)
		fatalx("ctl_accept: out of memory");
	TAILQ_INSERT_TAIL(&ctl_clients, cl, entry);
	nctl_clients++;
}

void
queue_control_init(int listenfd)
{
	if (evutil_make_socket_nonblocking(listenfd) == -1)
		fatal("queue_control_init");
	ev_ctl_accept = event_new(qm.base, listenfd, EV_READ | EV_PERSIST,
	    ctl_accept, NULL);
	if (ev_ctl_accept == NULL || event_add(ev_ctl_accept, NULL) == -1)
		fatalx("queue_control_init: event");
}
