/*
 * The delivery agent's connection to authd (runs in the agent: root, no
 * chroot).  The agent connects to <rundir>/authd.sock itself, as
 * ROLE_DELIVERY, and when authd is down or closes, retries after 1 s,
 * doubling up to IPC_RETRY_MAX_SECS; meanwhile every lookup fails
 * temporarily and the manager retries the delivery later.
 *
 * authd is trusted to map a user name to a uid, a gid and a mail home;
 * its answers are still read with the checking readers, and one that
 * does not match its question ends the connection.
 */
#include <sys/types.h>
#include <sys/param.h>

#include <string.h>
#include <unistd.h>

#include "config.h"
#include "delivery.h"
#include "ipc.h"
#include "log.h"
#include "proto.h"

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
} authd;

static void
delivery_authd_result(struct ipc_conn *c, struct ipc_msg *m)
{
	static struct delivery_pw	 pw;

	if (ipc_get_u32(m, &pw.result) == -1 ||
	    ipc_get_str(m, pw.user, sizeof(pw.user)) == -1 ||
	    ipc_get_u32(m, &pw.uid) == -1 || ipc_get_u32(m, &pw.gid) == -1 ||
	    ipc_get_str(m, pw.home, sizeof(pw.home)) == -1 ||
	    ipc_get_end(m) == -1 || pw.result > RESULT_PERMFAIL) {
		ipc_conn_close(c, "malformed USER_RESULT");
		return;
	}
	/* An answer: authd works, so the next outage starts at 1 s again. */
	authd.delay = 1;
	if (delivery_lookup_done(m->hdr.peerid, &pw) == -1)
		ipc_conn_close(c, "USER_RESULT for another user");
}

static void
delivery_authd_dispatch(struct ipc_conn *c, struct ipc_msg *m, void *arg)
{
	const struct delivery_handler	*h;

	(void)arg;
	h = delivery_handler_find(delivery_authd_handlers,
	    DELIVERY_NHANDLERS(delivery_authd_handlers), m);
	if (h == NULL) {
		log_warnx("- delivery unexpected message from authd type=%s",
		    ipc_type_name(m->hdr.type));
		ipc_msg_clear(m);
		ipc_conn_close(c, "unexpected message");
		return;
	}
	h->fn(c, m);
}

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
	delivery_lookup_lost();
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

int
delivery_authd_lookup(uint32_t id, const char *user)
{
	static struct ipc_out	 o;

	if (authd.conn == NULL)
		return -1;
	ipc_out_init(&o, MSG_AUTH_USER_LOOKUP, id);
	ipc_put_str(&o, user);
	return ipc_conn_send(authd.conn, &o, -1);
}
