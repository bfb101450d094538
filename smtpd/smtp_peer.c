/*
 * smtpd engine (user smtp, chroot emptydir, seccomp SANDBOX_ENGINE): the
 * connections to authd and queued.  The engine cannot reach <rundir>
 * from its chroot, so it asks the parent (MSG_CHILD_CONNECT_REQUEST),
 * which connects and passes the socket back.  A peer that is down, or
 * goes away, is asked for again after 1 s, doubling up to
 * IPC_RETRY_MAX_SECS; meanwhile whatever needs it is answered 451.
 *
 * What a peer sends is untrusted: one function per message type, every
 * payload read with ipc_get_* and ipc_get_end(), and anything else ends
 * the connection (which then is retried like any lost peer).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ipc.h"
#include "log.h"
#include "proto.h"
#include "smtpd.h"

struct smtp_peer {
	int		 service;	/* PEER_* */
	const char	*name;
	uint32_t	 role;		/* the only role accepted */
	struct ipc_conn	*conn;
	int		 requested;	/* a CONNECT_REQUEST is out */
	unsigned int	 backoff_secs;
	time_t		 connected;
	struct event	*ev_retry;
};

static struct smtp_peer smtp_peers[] = {
	{ PEER_AUTHD, "authd", ROLE_AUTHD, NULL, 0, 1, 0, NULL },
	{ PEER_QUEUE, "queued", ROLE_QUEUED, NULL, 0, 1, 0, NULL },
};

#define NPEERS	(sizeof(smtp_peers) / sizeof(smtp_peers[0]))

static struct event_base	*smtp_peer_base;
static struct ipc_conn		*smtp_peer_parent;
/* queued says the spool is below "limit queue-min-free". */
static int			 smtp_peer_spool_is_low;
/* sallyctl pause smtp, as queued last said; kept while it is away. */
static int			 smtp_peer_is_paused;

static int	smtp_peer_rcpt_result(struct ipc_msg *);
static int	smtp_peer_password_result(struct ipc_msg *);
static int	smtp_peer_created(struct ipc_msg *);
static int	smtp_peer_committed(struct ipc_msg *);
static int	smtp_peer_spool_status(struct ipc_msg *);

/* What each peer may send us. */
static const struct smtp_peer_msg {
	int		 service;
	uint32_t	 type;
	int		(*handler)(struct ipc_msg *);
} smtp_peer_msgs[] = {
	/* peer	type				handler */
	{ PEER_AUTHD, MSG_AUTH_RCPT_RESULT,	 smtp_peer_rcpt_result },
	{ PEER_AUTHD, MSG_AUTH_PASSWORD_RESULT, smtp_peer_password_result },
	{ PEER_QUEUE, MSG_QUEUE_MESSAGE_CREATED,	 smtp_peer_created },
	{ PEER_QUEUE, MSG_QUEUE_MESSAGE_COMMITTED, smtp_peer_committed },
	{ PEER_QUEUE, MSG_QUEUE_SPOOL_STATUS,	 smtp_peer_spool_status },
};

static struct smtp_peer *
smtp_peer_find(int service)
{
	size_t	 i;

	for (i = 0; i < NPEERS; i++)
		if (smtp_peers[i].service == service)
			return &smtp_peers[i];
	return NULL;
}

struct ipc_out *
smtp_peer_out(uint32_t type)
{
	static struct ipc_out	 out;

	ipc_out_init(&out, type, 0);
	return &out;
}

int
smtp_peer_send(int service, struct ipc_out *o)
{
	struct smtp_peer	*p = smtp_peer_find(service);

	if (p == NULL || p->conn == NULL)
		return -1;
	return ipc_conn_send(p->conn, o, -1);
}

static void
smtp_peer_request(struct smtp_peer *p)
{
	struct ipc_out	*o;

	o = smtp_peer_out(MSG_CHILD_CONNECT_REQUEST);
	ipc_put_u32(o, (uint32_t)p->service);
	if (ipc_conn_send(smtp_peer_parent, o, -1) == -1)
		fatalx("- smtp cannot reach the parent");
	p->requested = 1;
}

static void
smtp_peer_retrycb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	smtp_peer_request(arg);
}

static void
smtp_peer_retry(struct smtp_peer *p)
{
	struct timeval	 tv = { p->backoff_secs, 0 };

	log_debug("- smtp peer-retry service=%s in=%us", p->name,
	    p->backoff_secs);
	(void)evtimer_add(p->ev_retry, &tv);
	p->backoff_secs *= 2;
	if (p->backoff_secs > IPC_RETRY_MAX_SECS)
		p->backoff_secs = IPC_RETRY_MAX_SECS;
}

/*
 * Every SMTP_STATS_SECS, the sessions to queued (MSG_SMTP_STATS), for
 * sallyctl show stats and monitor; lost while queued is away.
 */
static void
smtp_peer_statscb(evutil_socket_t fd, short ev, void *arg)
{
	struct ipc_out	*o = smtp_peer_out(MSG_SMTP_STATS);
	uint64_t	 accepted;
	uint32_t	 open;

	(void)fd;
	(void)ev;
	(void)arg;
	smtp_session_counts(&accepted, &open);
	ipc_put_u64(o, accepted);
	ipc_put_u32(o, open);
	(void)smtp_peer_send(PEER_QUEUE, o);
}

void
smtp_peer_init(struct event_base *base, struct ipc_conn *parent)
{
	static struct event	*ev_stats;
	struct timeval		 tv = { SMTP_STATS_SECS, 0 };
	size_t			 i;

	smtp_peer_base = base;
	smtp_peer_parent = parent;
	for (i = 0; i < NPEERS; i++) {
		smtp_peers[i].ev_retry = evtimer_new(base, smtp_peer_retrycb,
		    &smtp_peers[i]);
		if (smtp_peers[i].ev_retry == NULL)
			fatalx("smtp_peer_init: evtimer_new");
		smtp_peer_request(&smtp_peers[i]);
	}
	ev_stats = event_new(base, -1, EV_PERSIST, smtp_peer_statscb, NULL);
	if (ev_stats == NULL || event_add(ev_stats, &tv) == -1)
		fatalx("smtp_peer_init: stats timer");
}

static void
smtp_peer_closed(struct ipc_conn *c, void *arg)
{
	struct smtp_peer	*p = arg;

	log_warnx("- smtp peer-lost service=%s", p->name);
	ipc_conn_free(c);
	p->conn = NULL;
	/* A new connection says again; meanwhile DATA finds it down. */
	if (p->service == PEER_QUEUE)
		smtp_peer_spool_is_low = 0;
	/* A connection that lived long enough proved the peer healthy. */
	if (time(NULL) - p->connected >= IPC_RETRY_MAX_SECS)
		p->backoff_secs = 1;
	smtp_session_peer_lost(p->service);
	smtp_peer_retry(p);
}

static void
smtp_peer_dispatch(struct ipc_conn *c, struct ipc_msg *m, void *arg)
{
	struct smtp_peer	*p = arg;
	size_t			 i;

	for (i = 0; i < sizeof(smtp_peer_msgs) / sizeof(smtp_peer_msgs[0]);
	    i++) {
		if (smtp_peer_msgs[i].service != p->service ||
		    smtp_peer_msgs[i].type != m->hdr.type)
			continue;
		if (smtp_peer_msgs[i].handler(m) == -1) {
			ipc_msg_clear(m);
			ipc_conn_close(c, "malformed message");
			return;
		}
		p->backoff_secs = 1;
		return;
	}
	log_warnx("- smtp peer-unexpected service=%s type=%s", p->name,
	    ipc_type_name(m->hdr.type));
	ipc_msg_clear(m);
	ipc_conn_close(c, "unexpected message");
}

int
smtp_peer_connect_reply(struct ipc_msg *m)
{
	struct smtp_peer	*p;
	uint32_t		 service, result;

	if (ipc_get_u32(m, &service) == -1 || ipc_get_u32(m, &result) == -1 ||
	    ipc_get_end(m) == -1 ||
	    (p = smtp_peer_find((int)service)) == NULL || !p->requested ||
	    (result == RESULT_OK) != (m->fd != -1))
		return -1;
	p->requested = 0;
	if (result != RESULT_OK) {
		log_debug("- smtp peer-unavailable service=%s", p->name);
		smtp_peer_retry(p);
		return 0;
	}
	p->conn = ipc_conn_new(smtp_peer_base, m->fd, ROLE_SMTPD,
	    ROLE_BIT(p->role), smtp_peer_dispatch, smtp_peer_closed, p);
	if (p->conn == NULL) {
		log_warnx("- smtp peer-setup-failed service=%s", p->name);
		ipc_msg_clear(m);
		smtp_peer_retry(p);
		return 0;
	}
	m->fd = -1;
	p->connected = time(NULL);
	log_info("- smtp peer-connected service=%s", p->name);
	if (smtp_peer_all_connected())
		smtp_engine_ready();
	return 0;
}

int
smtp_peer_all_connected(void)
{
	size_t	 i;

	for (i = 0; i < NPEERS; i++)
		if (smtp_peers[i].conn == NULL)
			return 0;
	return 1;
}

/* authd: RCPT_RESULT: u32 rcpt_status. */
static int
smtp_peer_rcpt_result(struct ipc_msg *m)
{
	struct smtp_session	*s;
	uint32_t		 status;

	if (m->fd != -1 || ipc_get_u32(m, &status) == -1 ||
	    ipc_get_end(m) == -1 || status > RCPT_TEMPFAIL)
		return -1;
	if ((s = smtp_session_take(m->hdr.peerid, WAIT_RCPT, NULL)) == NULL) {
		log_debug("- smtp stale reply type=rcpt id=%08x",
		    m->hdr.peerid);
		return 0;
	}
	smtp_cmd_rcpt_result(s, status);
	smtp_session_resume(s);
	return 0;
}

/* authd: PASSWORD_RESULT: u32 result (no token: none was asked). */
static int
smtp_peer_password_result(struct ipc_msg *m)
{
	struct smtp_session	*s;
	uint32_t		 result;

	if (m->fd != -1 || ipc_get_u32(m, &result) == -1 ||
	    ipc_get_end(m) == -1 || result > RESULT_THROTTLED)
		return -1;
	if ((s = smtp_session_take(m->hdr.peerid, WAIT_AUTH, NULL)) == NULL) {
		log_debug("- smtp stale reply type=password id=%08x",
		    m->hdr.peerid);
		return 0;
	}
	smtp_auth_result(s, result);
	smtp_session_resume(s);
	return 0;
}

/*
 * queued: MESSAGE_CREATED: u32 result, str msgid; fd when RESULT_OK.  A
 * message nobody waits for any more is aborted at once.
 */
static int
smtp_peer_created(struct ipc_msg *m)
{
	struct smtp_session	*s;
	struct ipc_out		*o;
	char			 msgid[SMTP_MSGID_MAX_BYTES + 1];
	uint32_t		 result;

	if (ipc_get_u32(m, &result) == -1 ||
	    ipc_get_str(m, msgid, sizeof(msgid)) == -1 ||
	    ipc_get_end(m) == -1 || result > RESULT_PERMFAIL ||
	    (result == RESULT_OK) != (m->fd != -1) ||
	    (result == RESULT_OK && !smtp_msgid_valid(msgid)))
		return -1;
	if ((s = smtp_session_take(m->hdr.peerid, WAIT_CREATE, NULL)) ==
	    NULL) {
		log_debug("- smtp stale reply type=created id=%08x",
		    m->hdr.peerid);
		if (result == RESULT_OK) {
			ipc_msg_clear(m);
			o = smtp_peer_out(MSG_SMTP_MESSAGE_ABORT);
			o->hdr.peerid = m->hdr.peerid;
			ipc_put_str(o, msgid);
			(void)smtp_peer_send(PEER_QUEUE, o);
		}
		return 0;
	}
	smtp_data_created(s, result, msgid, m->fd);
	m->fd = -1;
	smtp_session_resume(s);
	return 0;
}

/* queued: MESSAGE_COMMITTED: u32 result, str msgid, str error. */
static int
smtp_peer_committed(struct ipc_msg *m)
{
	static char		 error[IPC_STRING_MAX_BYTES + 1];
	struct smtp_session	*s;
	char			 msgid[SMTP_MSGID_MAX_BYTES + 1];
	uint32_t		 result;

	if (m->fd != -1 || ipc_get_u32(m, &result) == -1 ||
	    ipc_get_str(m, msgid, sizeof(msgid)) == -1 ||
	    ipc_get_str(m, error, sizeof(error)) == -1 ||
	    ipc_get_end(m) == -1 || result > RESULT_PERMFAIL)
		return -1;
	if ((s = smtp_session_take(m->hdr.peerid, WAIT_COMMIT, msgid)) ==
	    NULL) {
		log_debug("- smtp stale reply type=committed id=%08x",
		    m->hdr.peerid);
		return 0;
	}
	smtp_data_committed(s, result, error);
	smtp_session_resume(s);
	return 0;
}

/* queued: SPOOL_STATUS: u32 flags (SPOOL_F_*), u64 free bytes. */
static int
smtp_peer_spool_status(struct ipc_msg *m)
{
	uint64_t	 avail;
	uint32_t	 flags;
	int		 low, paused;

	if (m->fd != -1 || ipc_get_u32(m, &flags) == -1 ||
	    ipc_get_u64(m, &avail) == -1 || ipc_get_end(m) == -1 ||
	    (flags & ~SPOOL_F_ALL) != 0)
		return -1;
	low = (flags & SPOOL_F_LOW) != 0;
	paused = (flags & SPOOL_F_PAUSED) != 0;
	if (low != smtp_peer_spool_is_low)
		log_info("- smtp spool-%s free=%llu", low ? "low" : "ok",
		    (unsigned long long)avail);
	if (paused != smtp_peer_is_paused)
		log_info("- smtp intake-%s by=sallyctl",
		    paused ? "paused" : "resumed");
	smtp_peer_spool_is_low = low;
	smtp_peer_is_paused = paused;
	return 0;
}

int
smtp_peer_spool_low(void)
{
	return smtp_peer_spool_is_low;
}

int
smtp_peer_paused(void)
{
	return smtp_peer_is_paused;
}
