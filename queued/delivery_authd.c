/*
 * The delivery agent's side of authd (runs in the agent: root, no chroot,
 * no seccomp filter): the connection, and the user lookups that give a
 * delivery its uid, gid, mail home and quota.  The agent connects to
 * <rundir>/authd.sock itself, as ROLE_DELIVERY, and when authd is down
 * or closes, retries after 1 s, doubling up to IPC_RETRY_MAX_SECS;
 * meanwhile every lookup fails temporarily and the manager retries the
 * delivery later.
 *
 * authd is trusted to map a user name to a uid, a gid and a mail home;
 * its answers are still read with the checking readers, one that does
 * not match its question ends the connection, and a mail home or an
 * owner that would be unsafe (root) is refused.
 */
#include <sys/types.h>
#include <sys/param.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "delivery.h"
#include "ipc.h"
#include "log.h"
#include "proto.h"

/* authd's answer to MSG_AUTH_USER_LOOKUP. */
struct delivery_pw {
	uint32_t	 result;
	char		 user[AUTH_USER_MAX_BYTES + 1];
	uint32_t	 uid;
	uint32_t	 gid;
	char		 home[PATH_MAX];
	uint64_t	 quota;		/* bytes; 0: none */
};

static void	delivery_authd_result(struct ipc_conn *, struct ipc_msg *);

static const struct delivery_handler delivery_authd_handlers[] = {
	{ MSG_AUTH_USER_RESULT,		0,	delivery_authd_result },
};

static struct {
	struct event_base	*base;
	const struct config	*conf;
	struct ipc_conn		*conn;
	struct event		*ev_retry;
	int			 delay;		/* seconds */
	int			 stopped;
	uint32_t		 next_id;	/* of a lookup */
} authd;

/*
 * The answers.
 */

/* Takes authd's answer for d: RESULT_OK when d may go on. */
static int
delivery_authd_take(struct delivery *d, const struct delivery_pw *pw,
    const char **why)
{
	static char	 buf[QUEUE_ERROR_MAX_BYTES];
	const char	*errstr;

	if (pw->result == RESULT_TEMPFAIL) {
		*why = "4.4.3 user lookup failed temporarily";
		return RESULT_TEMPFAIL;
	}
	if (pw->result == RESULT_PERMFAIL) {
		*why = "5.1.1 unknown user";
		return RESULT_PERMFAIL;
	}
	/* A users table that says root is broken: wait for a fix. */
	if (pw->uid == 0 || pw->gid == 0) {
		*why = "4.3.5 refused: mailbox owned by root";
		log_warnx("%s delivery refused user=%s reason=root",
		    d->evpid, d->user);
		return RESULT_TEMPFAIL;
	}
	if (delivery_check_home(pw->home, &errstr) == -1) {
		log_warnx("%s delivery refused user=%s reason=home", d->evpid,
		    d->user);
		(void)snprintf(buf, sizeof(buf), "4.3.5 %s", errstr);
		*why = buf;
		return RESULT_TEMPFAIL;
	}
	d->uid = (uid_t)pw->uid;
	d->gid = (gid_t)pw->gid;
	d->quota = pw->quota;
	(void)strlcpy(d->home, pw->home, sizeof(d->home));
	return RESULT_OK;
}

/*
 * authd answered lookup id.  -1 when the answer is for another user
 * than asked: authd is dropped.
 */
static int
delivery_authd_done(uint32_t id, const struct delivery_pw *pw)
{
	struct delivery	*d;
	const char	*why;
	int		 r;

	TAILQ_FOREACH(d, &delivery_agent.lookups, entry)
		if (d->id == id)
			break;
	/* A lookup forgotten with its manager may still be answered. */
	if (d == NULL) {
		log_debug("- delivery stale-lookup id=%u", id);
		return 0;
	}
	if (pw->result == RESULT_OK && strcmp(pw->user, d->user) != 0)
		return -1;
	(void)evtimer_del(d->ev_timer);
	if ((r = delivery_authd_take(d, pw, &why)) != RESULT_OK) {
		delivery_state_end(d, r, why);
		return 0;
	}
	delivery_state_set(d, D_PENDING);
	delivery_state_schedule();
	return 0;
}

static void
delivery_authd_result(struct ipc_conn *c, struct ipc_msg *m)
{
	static struct delivery_pw	 pw;

	if (ipc_get_u32(m, &pw.result) == -1 ||
	    ipc_get_str(m, pw.user, sizeof(pw.user)) == -1 ||
	    ipc_get_u32(m, &pw.uid) == -1 || ipc_get_u32(m, &pw.gid) == -1 ||
	    ipc_get_str(m, pw.home, sizeof(pw.home)) == -1 ||
	    ipc_get_u64(m, &pw.quota) == -1 ||
	    ipc_get_end(m) == -1 || pw.result > RESULT_PERMFAIL) {
		ipc_conn_close(c, "malformed USER_RESULT");
		return;
	}
	/* An answer: authd works, so the next outage starts at 1 s again. */
	authd.delay = 1;
	if (delivery_authd_done(m->hdr.peerid, &pw) == -1)
		ipc_conn_close(c, "USER_RESULT for another user");
}

static void
delivery_authd_dispatch(struct ipc_conn *c, struct ipc_msg *m, void *arg)
{
	(void)arg;
	delivery_dispatch(c, m, delivery_authd_handlers,
	    DELIVERY_NHANDLERS(delivery_authd_handlers), "authd");
}

/*
 * The connection.
 */

static void
delivery_authd_retry(void)
{
	struct timeval	 tv = { authd.delay, 0 };

	if (authd.stopped)
		return;
	(void)evtimer_add(authd.ev_retry, &tv);
	authd.delay *= 2;
	if (authd.delay > IPC_RETRY_MAX_SECS)
		authd.delay = IPC_RETRY_MAX_SECS;
}

static void
delivery_authd_closed(struct ipc_conn *c, void *arg)
{
	(void)arg;
	if (authd.stopped)
		log_debug("- delivery authd-closed");
	else
		log_warnx("- delivery authd-closed");
	ipc_conn_free(c);
	authd.conn = NULL;
	delivery_state_end_all(&delivery_agent.lookups,
	    "4.4.3 authd unavailable");
	delivery_authd_retry();
}

static void
delivery_authd_connect(evutil_socket_t fd, short ev, void *arg)
{
	char	 path[PATH_MAX];
	int	 s;

	(void)fd;
	(void)ev;
	(void)arg;
	config_runpath(authd.conf, "authd.sock", path, sizeof(path));
	if ((s = ipc_connect(path)) == -1) {
		log_warn("- delivery authd-connect path=%s", path);
		delivery_authd_retry();
		return;
	}
	authd.conn = ipc_conn_new(authd.base, s, ROLE_DELIVERY,
	    ROLE_BIT(ROLE_AUTHD), delivery_authd_dispatch,
	    delivery_authd_closed, NULL);
	if (authd.conn == NULL) {
		log_warnx("- delivery authd-connect failed");
		(void)close(s);
		delivery_authd_retry();
		return;
	}
	log_info("- delivery authd-connected");
}

void
delivery_authd_init(struct event_base *base, const struct config *conf)
{
	authd.base = base;
	authd.conf = conf;
	authd.delay = 1;
	if ((authd.ev_retry = evtimer_new(base, delivery_authd_connect,
	    NULL)) == NULL)
		fatalx("delivery evtimer_new");
	delivery_authd_connect(-1, 0, NULL);
}

void
delivery_authd_stop(void)
{
	authd.stopped = 1;
	(void)evtimer_del(authd.ev_retry);
}

/*
 * The questions.
 */

/* Sends USER_LOOKUP for d's user; -1 when authd is down. */
static int
delivery_authd_ask(const struct delivery *d)
{
	static struct ipc_out	 o;

	if (authd.conn == NULL)
		return -1;
	ipc_out_init(&o, MSG_AUTH_USER_LOOKUP, d->id);
	ipc_put_str(&o, d->user);
	return ipc_conn_send(authd.conn, &o, -1);
}

void
delivery_authd_lookup(struct delivery *d)
{
	if (++authd.next_id == 0)
		authd.next_id = 1;
	d->id = authd.next_id;
	if (delivery_authd_ask(d) == -1) {
		delivery_state_end(d, RESULT_TEMPFAIL,
		    "4.4.3 authd unavailable");
		return;
	}
	delivery_state_set(d, D_LOOKUP);
	delivery_state_timer(d, DELIVERY_LOOKUP_TIMEOUT_SECS);
}
