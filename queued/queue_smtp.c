/*
 * queue.sock: messages coming in from smtpd (and later sendmail).  Runs
 * in the queue manager (user queue, chroot spool).  Only root may
 * connect (every legitimate client is a root parent connecting for its
 * engine), with role smtpd or sendmail.
 *
 * A connection carries many sessions, told apart by the peerid.  A
 * malformed message, or a msgid the connection does not own, ends the
 * connection, and every message it had not committed is removed.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "ipc.h"
#include "log.h"
#include "proto.h"
#include "queue.h"

typedef void	(*qclient_handler)(struct qclient *, struct ipc_msg *);

struct qclient_cmd {
	uint32_t	 type;
	qclient_handler	 handler;
};

static void	queue_smtp_create(struct qclient *, struct ipc_msg *);
static void	queue_smtp_commit(struct qclient *, struct ipc_msg *);
static void	queue_smtp_abort(struct qclient *, struct ipc_msg *);
static void	queue_smtp_stats(struct qclient *, struct ipc_msg *);

static const struct qclient_cmd qclient_cmds[] = {
	{ MSG_SMTP_MESSAGE_CREATE,	queue_smtp_create },
	{ MSG_SMTP_MESSAGE_COMMIT,	queue_smtp_commit },
	{ MSG_SMTP_MESSAGE_ABORT,	queue_smtp_abort },
	{ MSG_SMTP_STATS,		queue_smtp_stats },
};
/* Sessions counted by smtpd connections that have closed since. */
static uint64_t			 qclients_gone_sessions;

static TAILQ_HEAD(, qclient)	 qclients = TAILQ_HEAD_INITIALIZER(qclients);
static unsigned int		 nqclients;
static struct event		*ev_accept;
static struct ipc_out		 out;
static char			 sbuf[IPC_STRING_MAX_BYTES + 1];

static struct incoming *
queue_smtp_find(struct qclient *cl, const char *msgid)
{
	struct incoming	*in;

	TAILQ_FOREACH(in, &cl->msgs, entry)
		if (strcmp(in->msgid, msgid) == 0)
			return in;
	return NULL;
}

static void
queue_smtp_created(struct qclient *cl, uint32_t peerid, uint32_t result,
    const char *msgid, int fd)
{
	ipc_out_init(&out, MSG_QUEUE_MESSAGE_CREATED, peerid);
	ipc_put_u32(&out, result);
	ipc_put_str(&out, msgid);
	(void)ipc_conn_send(cl->conn, &out, fd);
}

/*
 * In a sync thread: incoming/<msgid>/ (unless the name is taken) and its
 * message file, the writer's descriptor and ours.
 */
static void
queue_smtp_create_run(struct qsync_job *job)
{
	struct incoming	*in = job->arg;
	char		 path[QUEUE_MSGID_MAX_BYTES + 16];

	job->step = "mkdir";
	if (queue_msgid_claim(in->msgid) == -1) {
		job->error = errno;
		return;
	}
	in->created = 1;
	job->step = "open";
	(void)snprintf(path, sizeof(path), "%s/message", in->msgid);
	in->wfd = openat(qm.incoming_fd, path, O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0600);
	if (in->wfd == -1 || (in->rfd = openat(qm.incoming_fd, path,
	    O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		job->error = errno;
}

static void
queue_smtp_create_done(struct qsync_job *job)
{
	struct incoming	*in = job->arg;

	/* The name was taken (never, in practice): another one. */
	if (job->error == EEXIST && !in->created && !in->orphan &&
	    ++in->tries < QUEUE_MSGID_TRIES_MAX) {
		queue_msgid_draw(in->msgid);
		queue_sync_submit(job);
		return;
	}
	if (in->orphan) {
		incoming_free(in, in->created);
		return;
	}
	if (job->error != 0) {
		errno = job->error;
		log_warn("%s queue create-failed step=%s", in->msgid,
		    job->step);
		queue_smtp_created(in->client, in->peerid, RESULT_TEMPFAIL, "",
		    -1);
		incoming_free(in, in->created);
		return;
	}
	in->state = IN_OPEN;
	qm.stats.received++;
	log_debug("%s queue created session=%u", in->msgid, in->peerid);
	/* The connection owns the descriptor from here. */
	queue_smtp_created(in->client, in->peerid, RESULT_OK, in->msgid,
	    in->wfd);
	in->wfd = -1;
}

/*
 * MESSAGE_CREATE: the message's directory and file are made in a sync
 * thread (mkdir and a new file wait for the disk as well), and the
 * answer comes when they are.
 */
static void
queue_smtp_create(struct qclient *cl, struct ipc_msg *m)
{
	struct incoming	*in;

	if (m->fd != -1 || ipc_get_end(m) == -1) {
		ipc_conn_close(cl->conn, "malformed MESSAGE_CREATE");
		return;
	}
	if (cl->nmsgs >= SMTP_SESSIONS_MAX || queue_space_low()) {
		log_warnx("- queue create-refused reason=%s",
		    cl->nmsgs >= SMTP_SESSIONS_MAX ? "too-many-open" :
		    "spool-low");
		queue_smtp_created(cl, m->hdr.peerid, RESULT_TEMPFAIL, "", -1);
		return;
	}
	if ((in = calloc(1, sizeof(*in))) == NULL)
		fatal("queue_smtp_create");
	in->rfd = in->wfd = -1;
	in->peerid = m->hdr.peerid;
	in->state = IN_CREATING;
	in->client = cl;
	TAILQ_INSERT_TAIL(&cl->msgs, in, entry);
	cl->nmsgs++;
	queue_msgid_draw(in->msgid);
	in->job.run = queue_smtp_create_run;
	in->job.done = queue_smtp_create_done;
	in->job.arg = in;
	queue_sync_submit(&in->job);
}

/* Reads a string into dst; -1 when malformed; *insane when refused. */
static int
queue_smtp_str(struct ipc_msg *m, char *dst, size_t dstlen, int empty_ok,
    int *insane)
{
	if (ipc_get_str(m, sbuf, sizeof(sbuf)) == -1)
		return -1;
	if ((!empty_ok && sbuf[0] == '\0') ||
	    !queue_text_valid(sbuf, dstlen - 1))
		*insane = 1;
	else
		(void)strlcpy(dst, sbuf, dstlen);
	return 0;
}

/*
 * The per-message part of MESSAGE_COMMIT into t.  -1 when malformed:
 * unknown flags or RET, which smtpd never sends.
 */
static int
queue_smtp_read_msg(struct ipc_msg *m, char *msgid, struct envelope *t,
    int *insane)
{
	uint32_t	 flags;

	if (ipc_get_str(m, msgid, QUEUE_MSGID_MAX_BYTES) == -1 ||
	    queue_smtp_str(m, t->sender, sizeof(t->sender), 1, insane) == -1 ||
	    queue_smtp_str(m, t->helo, sizeof(t->helo), 1, insane) == -1 ||
	    queue_smtp_str(m, t->client, sizeof(t->client), 1, insane) == -1 ||
	    ipc_get_u32(m, &flags) == -1 || ipc_get_u32(m, &t->dsn_ret) == -1 ||
	    queue_smtp_str(m, t->dsn_envid, sizeof(t->dsn_envid), 1,
	    insane) == -1)
		return -1;
	if ((flags & ~(uint32_t)COMMIT_F_ALL) != 0 ||
	    dsn_ret_name(t->dsn_ret) == NULL)
		return -1;
	t->smtputf8 = (flags & COMMIT_F_SMTPUTF8) != 0;
	if (!dsn_envid_valid(t->dsn_envid))
		*insane = 1;
	return 0;
}

/* One recipient of MESSAGE_COMMIT into e.  -1 when malformed. */
static int
queue_smtp_read_rcpt(struct ipc_msg *m, struct envelope *e, int *insane)
{
	if (queue_smtp_str(m, e->rcpt, sizeof(e->rcpt), 0, insane) == -1 ||
	    ipc_get_u32(m, &e->dsn_notify) == -1 ||
	    queue_smtp_str(m, e->dsn_orcpt, sizeof(e->dsn_orcpt), 1,
	    insane) == -1 || !dsn_notify_valid(e->dsn_notify))
		return -1;
	if (!dsn_orcpt_valid(e->dsn_orcpt))
		*insane = 1;
	(void)strlcpy(e->orig_rcpt, e->rcpt, sizeof(e->orig_rcpt));
	return 0;
}

/*
 * Reads MESSAGE_COMMIT into a new array of envelopes.  -1 when
 * malformed; else 0, or 1 with *error when the request is refused.
 */
static int
queue_smtp_read(struct ipc_msg *m, char *msgid, struct envelope **ep,
    uint32_t *np, const char **error)
{
	struct envelope	 t, *e;
	uint32_t	 n, i, max = qm.conf->max_rcpts;
	int		 insane = 0;

	*ep = NULL;
	memset(&t, 0, sizeof(t));
	if (queue_smtp_read_msg(m, msgid, &t, &insane) == -1 ||
	    ipc_get_u32(m, &n) == -1)
		return -1;
	if (n == 0 || n > (max > 0 ? max : SMTP_RCPT_MAX))
		return *error = "5.5.3 bad recipient count", 1;
	if ((e = calloc(n, sizeof(*e))) == NULL)
		fatal("queue_smtp_read");
	for (i = 0; i < n; i++) {
		e[i] = t;
		if (queue_smtp_read_rcpt(m, &e[i], &insane) == -1)
			break;
	}
	if (i < n || ipc_get_end(m) == -1) {
		free(e);
		return -1;
	}
	*ep = e;
	*np = n;
	if (insane)
		return *error = "5.5.2 malformed envelope", 1;
	return 0;
}

/* Envelope ids and times, once the message is known to be ours. */
static void
queue_smtp_stamp(struct incoming *in)
{
	int64_t	 now = time(NULL);
	size_t	 i;

	for (i = 0; i < in->nenvs; i++) {
		(void)strlcpy(in->envs[i].msgid, in->msgid,
		    sizeof(in->envs[i].msgid));
		(void)snprintf(in->envs[i].evpid, sizeof(in->envs[i].evpid),
		    "%s.%u", in->msgid, (unsigned int)(i + 1));
		in->envs[i].created = in->envs[i].next_try = now;
	}
}

static void
queue_smtp_refuse(struct qclient *cl, struct incoming *in, uint32_t peerid,
    const char *error)
{
	log_warnx("%s queue commit-refused error=\"%s\"", in->msgid, error);
	ipc_out_init(&out, MSG_QUEUE_MESSAGE_COMMITTED, peerid);
	ipc_put_u32(&out, RESULT_PERMFAIL);
	ipc_put_str(&out, in->msgid);
	ipc_put_str(&out, error);
	(void)ipc_conn_send(cl->conn, &out, -1);
	incoming_free(in, 1);
}

static void
queue_smtp_commit(struct qclient *cl, struct ipc_msg *m)
{
	char		 msgid[QUEUE_MSGID_MAX_BYTES];
	struct envelope	*e;
	struct incoming	*in;
	struct stat	 sb;
	const char	*error = NULL;
	uint32_t	 n = 0;
	int		 r;

	if (m->fd != -1 || (r = queue_smtp_read(m, msgid, &e, &n,
	    &error)) == -1) {
		ipc_conn_close(cl->conn, "malformed MESSAGE_COMMIT");
		return;
	}
	if ((in = queue_smtp_find(cl, msgid)) == NULL || in->state != IN_OPEN) {
		free(e);
		ipc_conn_close(cl->conn, "MESSAGE_COMMIT of an unknown msgid");
		return;
	}
	in->peerid = m->hdr.peerid;
	in->envs = e;
	in->nenvs = n;
	/* The limits are the parent's, renewed at each reload of queued. */
	if (r == 0 && fstat(in->rfd, &sb) == -1)
		error = "4.3.0 cannot read the message";
	else if (r == 0 && (sb.st_size == 0 || (uint64_t)sb.st_size >
	    qm.conf->max_message_bytes + QUEUE_HEADER_SLACK_BYTES))
		error = "5.3.4 bad message size";
	if (error != NULL) {
		queue_smtp_refuse(cl, in, m->hdr.peerid, error);
		return;
	}
	in->size = sb.st_size;
	queue_smtp_stamp(in);
	queue_commit_enqueue(in);
}

static void
queue_smtp_abort(struct qclient *cl, struct ipc_msg *m)
{
	char		 msgid[QUEUE_MSGID_MAX_BYTES];
	struct incoming	*in;

	if (m->fd != -1 || ipc_get_str(m, msgid, sizeof(msgid)) == -1 ||
	    ipc_get_end(m) == -1) {
		ipc_conn_close(cl->conn, "malformed MESSAGE_ABORT");
		return;
	}
	if ((in = queue_smtp_find(cl, msgid)) == NULL)
		return;
	/*
	 * smtpd gave up waiting for the commit.  Its messages come in
	 * order, so this one's COMMIT came first: one still in its files
	 * is dropped when they are done, and answered 4xx, so that smtpd
	 * may say 4xx; one renamed into queue/ is kept and answered 250.
	 */
	if (in->state == IN_FILES) {
		in->aborted = 1;
		log_info("%s queue abort-requested state=files", in->msgid);
		return;
	}
	if (in->state != IN_OPEN) {
		log_info("%s queue abort-refused reason=committed", in->msgid);
		return;
	}
	qm.stats.aborted++;
	log_debug("%s queue aborted", in->msgid);
	incoming_free(in, 1);
}

static void
queue_smtp_dispatch(struct ipc_conn *c, struct ipc_msg *m, void *arg)
{
	struct qclient	*cl = arg;
	size_t		 i;

	for (i = 0; i < sizeof(qclient_cmds) / sizeof(qclient_cmds[0]); i++)
		if (qclient_cmds[i].type == m->hdr.type) {
			qclient_cmds[i].handler(cl, m);
			ipc_msg_clear(m);
			return;
		}
	log_warnx("- queue unexpected %s from %s",
	    ipc_type_name(m->hdr.type), ipc_role_name(ipc_conn_peer_role(c)));
	ipc_msg_clear(m);
	ipc_conn_close(c, "unexpected message");
}

static void
queue_smtp_closed(struct ipc_conn *c, void *arg)
{
	struct qclient	*cl = arg;
	struct incoming	*in;

	while ((in = TAILQ_FIRST(&cl->msgs)) != NULL) {
		/* One being committed finishes without a reply. */
		if (queue_commit_detach(in))
			continue;
		log_debug("%s queue aborted reason=closed", in->msgid);
		qm.stats.aborted++;
		incoming_free(in, 1);
	}
	TAILQ_REMOVE(&qclients, cl, entry);
	nqclients--;
	qclients_gone_sessions += cl->sessions;
	ipc_conn_free(c);
	free(cl);
}

/* SMTP_STATS: u64 sessions accepted, u32 open; the engine's to say. */
static void
queue_smtp_stats(struct qclient *cl, struct ipc_msg *m)
{
	uint64_t	 accepted;
	uint32_t	 open;

	if (m->fd != -1 || ipc_get_u64(m, &accepted) == -1 ||
	    ipc_get_u32(m, &open) == -1 || ipc_get_end(m) == -1) {
		ipc_conn_close(cl->conn, "malformed SMTP_STATS");
		return;
	}
	cl->sessions = accepted;
	cl->sessions_open = open;
}

void
queue_smtp_sessions(uint64_t *accepted, uint64_t *open)
{
	struct qclient	*cl;

	*accepted = qclients_gone_sessions;
	*open = 0;
	TAILQ_FOREACH(cl, &qclients, entry) {
		*accepted += cl->sessions;
		*open += cl->sessions_open;
	}
}

static void
queue_smtp_send_space(struct qclient *cl)
{
	ipc_out_init(&out, MSG_QUEUE_SPOOL_STATUS, 0);
	queue_space_put_status(&out);
	(void)ipc_conn_send(cl->conn, &out, -1);
}

void
queue_smtp_space_changed(void)
{
	struct qclient	*cl;

	TAILQ_FOREACH(cl, &qclients, entry)
		queue_smtp_send_space(cl);
}

static void
queue_smtp_accept(evutil_socket_t lfd, short ev, void *arg)
{
	static const uid_t	 root_only[] = { 0 };
	struct qclient		*cl;
	struct ipc_peer		 peer;
	int			 fd;

	(void)lfd;
	(void)ev;
	(void)arg;
	if ((fd = ipc_accept(ev_accept, root_only, 1, &peer,
	    "queue accept")) == IPC_ACCEPT_NONE)
		return;
	if (fd == IPC_ACCEPT_REFUSED || nqclients >= IPC_PEERS_MAX) {
		log_warnx("- queue refused uid=%ld clients=%u",
		    (long)peer.uid, nqclients);
		if (fd >= 0)
			(void)close(fd);
		return;
	}
	if ((cl = calloc(1, sizeof(*cl))) == NULL)
		fatal("queue_smtp_accept");
	TAILQ_INIT(&cl->msgs);
	cl->conn = ipc_conn_new(qm.base, fd, ROLE_QUEUED, ROLE_BIT(ROLE_SMTPD) |
	    ROLE_BIT(ROLE_SENDMAIL), queue_smtp_dispatch, queue_smtp_closed,
	    cl);
	if (cl->conn == NULL) {
		(void)close(fd);
		free(cl);
		return;
	}
	TAILQ_INSERT_TAIL(&qclients, cl, entry);
	nqclients++;
	log_debug("- queue client pid=%ld", (long)peer.pid);
	queue_smtp_send_space(cl);
}

void
queue_smtp_init(int listenfd)
{
	if (evutil_make_socket_nonblocking(listenfd) == -1)
		fatal("queue_smtp_init");
	ev_accept = event_new(qm.base, listenfd, EV_READ | EV_PERSIST,
	    queue_smtp_accept, NULL);
	if (ev_accept == NULL || event_add(ev_accept, NULL) == -1)
		fatalx("queue_smtp_init: event");
}
