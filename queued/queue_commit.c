/*
 * The durable commit that keeps the promise of a 250 (DESIGN.md "The
 * queue and its promise").  Runs in the queue manager: user queue,
 * chrooted into the spool.
 *
 * queue_smtp.c checks each MESSAGE_COMMIT and queues it here; the group
 * commit runs once per turn of the event loop for every commit that
 * arrived in it: fsync each message, write and fsync its envelopes,
 * fsync its directory; then rename every directory into queue/; then one
 * fsync of queue/ (and of incoming/) for the whole batch; only then the
 * replies.  A message that fails any step is answered RESULT_TEMPFAIL
 * and removed.  A message made here (a bounce) takes the same path.
 */
#include <sys/types.h>
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

static struct incoming_list	 batch = TAILQ_HEAD_INITIALIZER(batch);
static struct event		*ev_batch;
static struct ipc_out		 out;

static void	queue_batch_run(evutil_socket_t, short, void *);

int
queue_msgid_new(char *msgid, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	struct stat		 sb;
	uint8_t			 rnd[QUEUE_MSGID_HEX_DIGITS / 2];
	size_t			 i, tries;

	if (len < QUEUE_MSGID_MAX_BYTES)
		return -1;
	for (tries = 0; tries < QUEUE_MSGID_TRIES_MAX; tries++) {
		arc4random_buf(rnd, sizeof(rnd));
		for (i = 0; i < sizeof(rnd); i++) {
			msgid[2 * i] = hex[rnd[i] >> 4];
			msgid[2 * i + 1] = hex[rnd[i] & 0xf];
		}
		msgid[QUEUE_MSGID_HEX_DIGITS] = '\0';
		if (queue_msg_find(msgid) != NULL ||
		    fstatat(qm.queue_fd, msgid, &sb, AT_SYMLINK_NOFOLLOW) == 0)
			continue;
		if (mkdirat(qm.incoming_fd, msgid, 0700) == 0)
			return 0;
		if (errno != EEXIST)
			return -1;
	}
	errno = EEXIST;
	return -1;
}

void
incoming_free(struct incoming *in, int purge)
{
	if (in->rfd != -1)
		(void)close(in->rfd);
	if (purge && queue_store_purge(qm.incoming_fd, in->msgid) == -1)
		log_warn("%s queue purge-failed", in->msgid);
	if (in->client != NULL) {
		TAILQ_REMOVE(&in->client->msgs, in, entry);
		in->client->nmsgs--;
	}
	free(in->envs);
	free(in);
}

/* Phase one: the message and its envelopes on disk, fsynced. */
static int
queue_commit_files(struct incoming *in)
{
	size_t	 i;
	int	 dirfd, r = 0;

	if (fsync(in->rfd) == -1)
		return -1;
	if ((dirfd = openat(qm.incoming_fd, in->msgid, O_RDONLY |
	    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	for (i = 0; i < in->nenvs && r == 0; i++)
		r = queue_store_write_new(dirfd, &in->envs[i]);
	if (r == 0)
		r = queue_store_fsync_dir(dirfd);
	(void)close(dirfd);
	return r;
}

/* After a failed fsync of queue/: take back what was renamed. */
static void
queue_commit_undo(struct incoming_list *list)
{
	struct incoming	*in;

	TAILQ_FOREACH(in, list, batch_entry) {
		if (!in->renamed)
			continue;
		in->failed = 1;
		if (queue_store_purge(qm.queue_fd, in->msgid) == -1)
			log_warnx("%s queue undo-failed: the message may be "
			    "delivered although the client was told 4xx",
			    in->msgid);
	}
	(void)queue_store_fsync_dir(qm.queue_fd);
}

/*
 * The group commit of a list of messages, phase by phase.  Sets failed
 * on each message that is not durably in queue/ when it returns.
 */
static void
queue_commit_list(struct incoming_list *list)
{
	struct incoming	*in;
	int		 nrenamed = 0;

	TAILQ_FOREACH(in, list, batch_entry)
		if (queue_commit_files(in) == -1) {
			log_warn("%s queue commit-failed step=files",
			    in->msgid);
			in->failed = 1;
		}
	TAILQ_FOREACH(in, list, batch_entry) {
		if (in->failed)
			continue;
		if (renameat(qm.incoming_fd, in->msgid, qm.queue_fd,
		    in->msgid) == -1) {
			log_warn("%s queue commit-failed step=rename",
			    in->msgid);
			in->failed = 1;
			continue;
		}
		in->renamed = 1;
		nrenamed++;
	}
	if (nrenamed == 0)
		return;
	if (queue_store_fsync_dir(qm.queue_fd) == -1 ||
	    queue_store_fsync_dir(qm.incoming_fd) == -1) {
		log_warn("- queue commit-failed step=fsync batch=%d", nrenamed);
		queue_commit_undo(list);
	}
}

/* A committed message enters the index and the schedule. */
static void
queue_commit_index(struct incoming *in)
{
	struct qmsg	*m;
	size_t		 i;

	m = queue_msg_add(in->msgid);
	for (i = 0; i < in->nenvs; i++)
		if (queue_env_add(m, &in->envs[i]) == NULL)
			fatalx("%s queue duplicate envelope",
			    in->envs[i].evpid);
}

static void
queue_commit_reply(struct incoming *in, uint32_t result, const char *error)
{
	if (in->client == NULL)
		return;
	ipc_out_init(&out, MSG_QUEUE_MESSAGE_COMMITTED, in->peerid);
	ipc_put_u32(&out, result);
	ipc_put_str(&out, in->msgid);
	ipc_put_str(&out, error);
	(void)ipc_conn_send(in->client->conn, &out, -1);
}

static void
queue_commit_log(const struct incoming *in)
{
	char	 from[SMTP_PATH_MAX_BYTES * 4], client[QUEUE_CLIENT_MAX_BYTES];
	const struct envelope *e = &in->envs[0];

	log_info("%s queue commit from=<%s> nrcpt=%zu size=%lld client=%s",
	    in->msgid, log_vis(from, sizeof(from), e->sender,
	    strlen(e->sender)), in->nenvs, (long long)in->size,
	    log_vis(client, sizeof(client), e->client, strlen(e->client)));
}

static void
queue_batch_run(evutil_socket_t fd, short ev, void *arg)
{
	struct incoming_list	 list = TAILQ_HEAD_INITIALIZER(list);
	struct incoming		*in;
	size_t			 n = 0;

	(void)fd;
	(void)ev;
	(void)arg;
	while ((in = TAILQ_FIRST(&batch)) != NULL) {
		TAILQ_REMOVE(&batch, in, batch_entry);
		TAILQ_INSERT_TAIL(&list, in, batch_entry);
		n++;
	}
	if (n == 0)
		return;
	queue_commit_list(&list);
	qm.stats.commit_batches++;
	while ((in = TAILQ_FIRST(&list)) != NULL) {
		TAILQ_REMOVE(&list, in, batch_entry);
		if (in->failed) {
			qm.stats.commit_failed++;
			queue_commit_reply(in, RESULT_TEMPFAIL,
			    "4.3.0 queue write failed");
			incoming_free(in, !in->renamed);
			continue;
		}
		queue_commit_index(in);
		qm.stats.committed++;
		queue_commit_log(in);
		queue_commit_reply(in, RESULT_OK, "");
		incoming_free(in, 0);
	}
	log_debug("- queue commit-batch messages=%zu", n);
}

int
queue_commit_local(const char *msgid, const char *text, size_t len,
    const struct envelope *tmpl)
{
	struct incoming_list	 list = TAILQ_HEAD_INITIALIZER(list);
	struct incoming		*in;
	char			 path[QUEUE_MSGID_MAX_BYTES + 16];
	int			 ok;

	if ((in = calloc(1, sizeof(*in))) == NULL ||
	    (in->envs = calloc(1, sizeof(*in->envs))) == NULL) {
		free(in);
		(void)queue_store_purge(qm.incoming_fd, msgid);
		return -1;
	}
	(void)strlcpy(in->msgid, msgid, sizeof(in->msgid));
	in->nenvs = 1;
	in->size = (off_t)len;
	(void)snprintf(path, sizeof(path), "%s/message", in->msgid);
	in->rfd = openat(qm.incoming_fd, path, O_RDWR | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0600);
	in->envs[0] = *tmpl;
	(void)strlcpy(in->envs[0].msgid, in->msgid, sizeof(in->envs[0].msgid));
	(void)snprintf(in->envs[0].evpid, sizeof(in->envs[0].evpid), "%s.1",
	    in->msgid);
	if (in->rfd == -1 || write(in->rfd, text, len) != (ssize_t)len) {
		log_warn("%s queue commit-failed step=write", in->msgid);
		in->failed = 1;
	}
	TAILQ_INSERT_TAIL(&list, in, batch_entry);
	if (!in->failed)
		queue_commit_list(&list);
	if ((ok = !in->failed)) {
		queue_commit_index(in);
		qm.stats.committed++;
		queue_commit_log(in);
	}
	incoming_free(in, !ok && !in->renamed);
	return ok ? 0 : -1;
}

void
queue_commit_enqueue(struct incoming *in)
{
	in->state = IN_BATCH;
	TAILQ_INSERT_TAIL(&batch, in, batch_entry);
	/* Every commit of this turn of the loop joins the same batch. */
	event_active(ev_batch, 0, 0);
}

void
queue_commit_dequeue(struct incoming *in)
{
	if (in->state == IN_BATCH)
		TAILQ_REMOVE(&batch, in, batch_entry);
	in->state = IN_OPEN;
}

void
queue_commit_init(void)
{
	if ((ev_batch = event_new(qm.base, -1, 0, queue_batch_run, NULL)) ==
	    NULL)
		fatalx("queue_commit_init");
}
