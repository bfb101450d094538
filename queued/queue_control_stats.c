/*
 * control.sock's show stats and show hosts (queue manager, user queue,
 * chroot spool): the manager's counters, then what the relay answers.
 * Both relay requests go out under the control client's id
 * (MSG_QUEUE_RELAY_STATS, MSG_QUEUE_RELAY_HOSTS) and their answers are
 * checked and passed on; a malformed one ends the relay's connection,
 * and a relay that goes away ends the requests waiting for it.
 */
#include <sys/types.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ipc.h"
#include "log.h"
#include "proto.h"
#include "queue.h"
#include "queue_control_int.h"

static struct ipc_out	 out;

static void
ctl_stat(struct ctl_client *cl, const char *name, uint64_t value)
{
	ipc_out_init(&out, MSG_CTL_STAT, cl->peerid);
	ipc_put_str(&out, name);
	ipc_put_u64(&out, value);
	(void)ipc_conn_send(cl->conn, &out, -1);
}

void
ctl_stats(struct ctl_client *cl, struct ipc_msg *m)
{
	const struct queue_stats *s = &qm.stats;
	uint64_t		 sessions, open;

	(void)m;
	/* smtpd's, as its engines last said (about once a second). */
	queue_smtp_sessions(&sessions, &open);
	ctl_stat(cl, "smtp.sessions", sessions);
	ctl_stat(cl, "smtp.sessions_open", open);
	ctl_stat(cl, "messages.received", s->received);
	ctl_stat(cl, "messages.committed", s->committed);
	ctl_stat(cl, "messages.commit_failed", s->commit_failed);
	ctl_stat(cl, "messages.aborted", s->aborted);
	ctl_stat(cl, "commit.batches", s->commit_batches);
	ctl_stat(cl, "commit.usecs_total", s->commit_usecs);
	ctl_stat(cl, "commit.usecs_max", s->commit_usecs_max);
	ctl_stat(cl, "envelopes.delivered", s->delivered);
	ctl_stat(cl, "envelopes.tempfail", s->tempfail);
	ctl_stat(cl, "envelopes.permfail", s->permfail);
	ctl_stat(cl, "envelopes.expired", s->expired);
	ctl_stat(cl, "envelopes.expanded", s->expanded);
	ctl_stat(cl, "envelopes.removed", s->removed);
	ctl_stat(cl, "envelopes.recovered", s->recovered);
	ctl_stat(cl, "envelopes.duplicates", s->duplicates);
	ctl_stat(cl, "envelopes.relayed", s->relayed);
	ctl_stat(cl, "envelopes.relay_deferred", s->relay_deferred);
	ctl_stat(cl, "envelopes.relay_bounced", s->relay_failed);
	ctl_stat(cl, "envelopes.relay_requeued", s->relay_requeued);
	ctl_stat(cl, "dsn.success", s->dsn_success);
	ctl_stat(cl, "dsn.delayed", s->dsn_delayed);
	ctl_stat(cl, "bounces", s->bounces);
	ctl_stat(cl, "corrupt", s->corrupt);
	ctl_stat(cl, "queue.messages", queue_msg_count());
	ctl_stat(cl, "queue.envelopes", queue_env_count());
	ctl_stat(cl, "queue.inflight", qm.inflight);
	ctl_stat(cl, "relay.batches", s->relay_batches);
	ctl_stat(cl, "relay.inflight", qm.relay_inflight);
	ctl_stat(cl, "relay.up", qm.relay != NULL);
	ctl_stat(cl, "sync.pending", queue_sync_pending());
	/* sallyctl pause smtp|delivery|relay: 1 while paused. */
	ctl_stat(cl, "paused.smtp", (uint64_t)qm.paused_smtp);
	ctl_stat(cl, "paused.delivery", (uint64_t)qm.paused_local);
	ctl_stat(cl, "paused.relay", (uint64_t)qm.paused_remote);
	ctl_stat(cl, "uptime", (uint64_t)(time(NULL) - qm.started));
	/* Then the relay's own counters, when it is there to say. */
	if (queue_relay_ask(MSG_QUEUE_RELAY_STATS, cl->id) == 0)
		cl->relay_wait = MSG_CTL_STATS;
	else
		ctl_end(cl);
}

void
ctl_hosts(struct ctl_client *cl, struct ipc_msg *m)
{
	(void)m;
	if (queue_relay_ask(MSG_QUEUE_RELAY_HOSTS, cl->id) == 0)
		cl->relay_wait = MSG_CTL_HOSTS;
	else
		ctl_result(cl, RESULT_TEMPFAIL, 0, "relay not running");
}

/* The client waiting for the relay's answer id, or NULL (it left). */
static struct ctl_client *
ctl_relay_client(uint32_t id)
{
	struct ctl_client	*cl;

	TAILQ_FOREACH(cl, &ctl_clients, entry)
		if (cl->id == id && cl->busy && cl->relay_wait != 0)
			return cl;
	return NULL;
}

/* RELAY_HOST: passed on as CTL_HOST, checked first. */
static int
ctl_relay_host(struct ctl_client *cl, struct ipc_msg *m)
{
	char		 dest[IPC_STRING_MAX_BYTES + 1];
	char		 err[IPC_STRING_MAX_BYTES + 1];
	uint32_t	 conns, queued, active;
	uint64_t	 backoff;

	if (ipc_get_str(m, dest, sizeof(dest)) == -1 ||
	    ipc_get_u32(m, &conns) == -1 || ipc_get_u32(m, &queued) == -1 ||
	    ipc_get_u32(m, &active) == -1 || ipc_get_u64(m, &backoff) == -1 ||
	    ipc_get_str(m, err, sizeof(err)) == -1 || ipc_get_end(m) == -1)
		return -1;
	if (cl == NULL || cl->relay_wait != MSG_CTL_HOSTS)
		return cl == NULL ? 0 : -1;
	ipc_out_init(&out, MSG_CTL_HOST, cl->peerid);
	ipc_put_str(&out, dest);
	ipc_put_u32(&out, conns);
	ipc_put_u32(&out, queued);
	ipc_put_u32(&out, active);
	ipc_put_u64(&out, backoff);
	ipc_put_str(&out, err);
	(void)ipc_conn_send(cl->conn, &out, -1);
	return 0;
}

/* RELAY_STAT: passed on as CTL_STAT "relay.<name>". */
static int
ctl_relay_stat(struct ctl_client *cl, struct ipc_msg *m)
{
	char		 name[IPC_STRING_MAX_BYTES + 1], full[128];
	uint64_t	 value;
	int		 n;

	if (ipc_get_str(m, name, sizeof(name)) == -1 ||
	    ipc_get_u64(m, &value) == -1 || ipc_get_end(m) == -1 ||
	    !queue_text_valid(name, 64))
		return -1;
	if (cl == NULL || cl->relay_wait != MSG_CTL_STATS)
		return cl == NULL ? 0 : -1;
	n = snprintf(full, sizeof(full), "relay.%s", name);
	if (n < 0 || (size_t)n >= sizeof(full))
		return -1;
	ctl_stat(cl, full, value);
	return 0;
}

void
queue_control_relay_reply(struct ipc_conn *c, struct ipc_msg *m)
{
	struct ctl_client	*cl = ctl_relay_client(m->hdr.peerid);
	int			 r = 0;

	switch (m->hdr.type) {
	case MSG_RELAY_HOST:
		r = ctl_relay_host(cl, m);
		break;
	case MSG_RELAY_STAT:
		r = ctl_relay_stat(cl, m);
		break;
	default:		/* HOSTS_END, STATS_END */
		if ((r = ipc_get_end(m)) == 0 && cl != NULL) {
			if ((cl->relay_wait == MSG_CTL_HOSTS) !=
			    (m->hdr.type == MSG_RELAY_HOSTS_END))
				r = -1;
			else {
				cl->relay_wait = 0;
				ctl_end(cl);
			}
		}
		break;
	}
	if (r == -1) {
		log_warnx("- queue relay-protocol-error type=%s",
		    ipc_type_name(m->hdr.type));
		ipc_conn_close(c, "malformed control reply");
	}
}

void
queue_control_relay_down(void)
{
	struct ctl_client	*cl;

	TAILQ_FOREACH(cl, &ctl_clients, entry) {
		if (!cl->busy || cl->relay_wait == 0)
			continue;
		if (cl->relay_wait == MSG_CTL_HOSTS)
			ctl_result(cl, RESULT_TEMPFAIL, 0, "relay not running");
		else
			ctl_end(cl);
		cl->relay_wait = 0;
	}
}
