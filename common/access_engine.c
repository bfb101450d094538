/*
 * The login engine's channels (pop3d's and imapd's: the engine's user,
 * chrooted to the empty dir, seccomp SANDBOX_ENGINE): its parent, and
 * authd.  A password goes to authd as MSG_AUTH_PASSWORD_CHECK with the
 * client's address, so that failures of every service count in
 * authd's throttle; when it is right, the client goes back to the
 * parent with authd's one-time token (the daemon's LOGIN_HANDOFF) and
 * the engine forgets it: it never sees a byte of mail.  The connection
 * to authd is made by the parent, and asked for again, with a doubling
 * delay, while authd is down.  What the protocol makes of an answer is
 * the daemon's (access_engine_ops).
 */
#include <sys/types.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "access.h"
#include "ipc.h"
#include "lineio.h"
#include "access_int.h"
#include "log.h"
#include "privsep.h"
#include "sandbox.h"

static struct {
	const struct access_daemon	*def;
	const struct access_engine_ops	*ops;
	const char		*name;
	struct event_base	*base;
	struct ipc_conn		*parent;
	struct ipc_conn		*authd;
	int			 authd_asked;
	int			 authd_delay;	/* secs before asking again */
	struct event		*ev_authd;
} ae;

/* Big: kept off the stack.  The engine is one thread. */
static struct ipc_out	 ae_out;

static void	access_engine_request(evutil_socket_t, short, void *);

/* authd is down: ask again after 1 s, doubling to IPC_RETRY_MAX_SECS. */
static void
access_engine_schedule(void)
{
	struct timeval	 tv;

	tv.tv_sec = ae.authd_delay;
	tv.tv_usec = 0;
	(void)evtimer_add(ae.ev_authd, &tv);
	ae.authd_delay *= 2;
	if (ae.authd_delay > IPC_RETRY_MAX_SECS)
		ae.authd_delay = IPC_RETRY_MAX_SECS;
}

static void
access_engine_result(struct ipc_conn *ic, struct ipc_msg *m)
{
	uint8_t		 token[AUTH_TOKEN_BYTES];
	uint32_t	 result;

	if (ipc_get_u32(m, &result) == -1 || (result == RESULT_OK &&
	    ipc_get_data(m, token, sizeof(token)) == -1) ||
	    ipc_get_end(m) == -1) {
		ipc_conn_close(ic, "malformed PASSWORD_RESULT");
		return;
	}
	ae.authd_delay = 1;
	access_session_answer(m->hdr.peerid, result,
	    result == RESULT_OK ? token : NULL);
	explicit_bzero(token, sizeof(token));
}

static void
access_engine_authd_dispatch(struct ipc_conn *ic, struct ipc_msg *m,
    void *arg)
{
	(void)arg;
	if (m->hdr.type == MSG_AUTH_PASSWORD_RESULT && m->fd == -1)
		access_engine_result(ic, m);
	else {
		log_warnx("- %s authd-unexpected type=%s", ae.name,
		    ipc_type_name(m->hdr.type));
		ipc_conn_close(ic, "unexpected message");
	}
	ipc_msg_clear(m);
}

static void
access_engine_authd_closed(struct ipc_conn *ic, void *arg)
{
	(void)arg;
	log_warnx("- %s authd-lost", ae.name);
	ipc_conn_free(ic);
	ae.authd = NULL;
	access_session_authd_lost();
	access_engine_schedule();
}

static void
access_engine_request(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	if (ae.authd != NULL || ae.authd_asked)
		return;
	ipc_out_init(&ae_out, MSG_CHILD_CONNECT_REQUEST, 0);
	ipc_put_u32(&ae_out, PEER_AUTHD);
	if (ipc_conn_send(ae.parent, &ae_out, -1) == -1)
		fatalx("- %s parent-send", ae.name);
	ae.authd_asked = 1;
}

static void
access_engine_connect_reply(struct ipc_msg *m)
{
	uint32_t	 service, result;

	if (ipc_get_u32(m, &service) == -1 || ipc_get_u32(m, &result) == -1 ||
	    ipc_get_end(m) == -1 || service != PEER_AUTHD ||
	    (result == RESULT_OK) != (m->fd != -1) || !ae.authd_asked)
		fatalx("- %s parent-malformed type=PARENT_CONNECT_REPLY",
		    ae.name);
	ae.authd_asked = 0;
	if (result != RESULT_OK) {
		log_warnx("- %s authd-unavailable retry=%d", ae.name,
		    ae.authd_delay);
		access_engine_schedule();
		return;
	}
	ae.authd = ipc_conn_new(ae.base, m->fd, ae.def->role,
	    ROLE_BIT(ROLE_AUTHD), access_engine_authd_dispatch,
	    access_engine_authd_closed, NULL);
	if (ae.authd == NULL) {
		log_warn("- %s authd-conn", ae.name);
		ipc_msg_clear(m);
		access_engine_schedule();
		return;
	}
	m->fd = -1;
	log_info("- %s authd-connected", ae.name);
}

int
access_engine_check(uint32_t id, const char *user, const char *password,
    const char *addr)
{
	int	 r;

	if (ae.authd == NULL)
		return -1;
	ipc_out_init(&ae_out, MSG_AUTH_PASSWORD_CHECK, id);
	ipc_put_str(&ae_out, user);
	ipc_put_str(&ae_out, password);
	ipc_put_str(&ae_out, ae.name);
	ipc_put_str(&ae_out, addr);
	ipc_put_u32(&ae_out, AUTH_F_TOKEN);
	r = ipc_conn_send(ae.authd, &ae_out, -1);
	explicit_bzero(ae_out.buf, ae_out.hdr.len);
	return r == -1 ? -1 : 0;
}

void
access_engine_authd_late(uint32_t id)
{
	log_warnx("%08x %s authd-timeout secs=%d", id, ae.name,
	    ACCESS_AUTHD_TIMEOUT_SECS);
	/* An authd that does not answer is treated as down. */
	if (ae.authd != NULL)
		ipc_conn_close(ae.authd, "answer timeout");
}

/*
 * The descriptor the mailbox process gets: the client's own, or, under
 * TLS (whose state and key stay here) or when the client sent commands
 * after its login that sit read in our buffer, a socketpair that the
 * engine relays to it, those commands first.
 */
static int
access_engine_client_fd(struct lineio *lio, uint32_t id)
{
	if (lineio_pending(lio) > 0 || lineio_is_tls(lio))
		return access_proxy_start(ae.base, lio, ae.name, id);
	return lineio_detach(lio);
}

int
access_engine_handoff(struct lineio *lio, uint32_t id, const uint8_t *token,
    const char *user, const char *client, const char *note)
{
	int	 fd, r;

	if ((fd = access_engine_client_fd(lio, id)) == -1) {
		log_warnx("%08x %s handoff-failed reason=detach", id, ae.name);
		lineio_free(lio);
		return -1;
	}
	ipc_out_init(&ae_out, ae.def->handoff_type, id);
	ipc_put_data(&ae_out, token, AUTH_TOKEN_BYTES);
	ipc_put_str(&ae_out, user);
	ipc_put_str(&ae_out, client);
	if (ae.def->handoff_note)
		ipc_put_str(&ae_out, note);
	if ((r = ipc_conn_send(ae.parent, &ae_out, fd)) == -1)
		log_warnx("%08x %s handoff-failed reason=send", id, ae.name);
	else
		log_debug("%08x %s handoff", id, ae.name);
	explicit_bzero(ae_out.buf, ae_out.hdr.len);
	return r == -1 ? -1 : 0;
}

/* A reload: anything wrong in it ends the engine (fail closed). */
static void
access_engine_conf(struct ipc_conn *ic, struct ipc_msg *m)
{
	switch (ae.ops->conf_recv(m)) {
	case 0:
		break;
	case 1:
		if (ipc_conn_send_empty(ic, MSG_CHILD_CONF_APPLIED, 0) == -1)
			fatalx("- %s cannot answer the parent's reload",
			    ae.name);
		break;
	default:
		fatalx("- %s bad reload from parent type=%s", ae.name,
		    ipc_type_name(m->hdr.type));
	}
}

/* The parent is trusted to be well-formed: anything else is fatal. */
static void
access_engine_parent_dispatch(struct ipc_conn *ic, struct ipc_msg *m,
    void *arg)
{
	uint32_t	 verbose;

	(void)arg;
	switch (m->hdr.type) {
	case MSG_PARENT_CONNECT_REPLY:
		access_engine_connect_reply(m);
		break;
	case MSG_PARENT_CONF_DATA:
	case MSG_PARENT_CONF_COMMIT:
		access_engine_conf(ic, m);
		break;
	case MSG_PARENT_LOG_VERBOSE:
		if (ipc_get_u32(m, &verbose) == -1 || ipc_get_end(m) == -1 ||
		    m->fd != -1)
			fatalx("- %s parent-malformed type=LOG_VERBOSE",
			    ae.name);
		log_setverbose(verbose != 0);
		break;
	default:
		fatalx("- %s parent-unexpected type=%s", ae.name,
		    ipc_type_name(m->hdr.type));
	}
	ipc_msg_clear(m);
}

static void
access_engine_parent_closed(struct ipc_conn *ic, void *arg)
{
	(void)ic;
	(void)arg;
	log_info("- %s parent-gone", ae.name);
	exit(0);
}

static void
access_engine_init(const struct access_daemon *def, int parentfd,
    const struct access_engine_ops *ops)
{
	ae.def = def;
	ae.ops = ops;
	ae.name = def->name;
	ae.authd_delay = 1;
	if ((ae.base = event_base_new()) == NULL)
		fatalx("- %s event_base_new", ae.name);
	ae.parent = ipc_conn_new(ae.base, parentfd, def->role,
	    ROLE_BIT(ROLE_PARENT), access_engine_parent_dispatch,
	    access_engine_parent_closed, NULL);
	ae.ev_authd = evtimer_new(ae.base, access_engine_request, NULL);
	if (ae.parent == NULL || ae.ev_authd == NULL)
		fatalx("- %s engine setup", ae.name);
}

const char *
access_engine_name(void)
{
	return ae.name;
}

const struct access_engine_ops *
access_engine_ops(void)
{
	return ae.ops;
}

struct event_base *
access_engine_base(void)
{
	return ae.base;
}

void
access_engine_main(const struct access_engine_args *a, int parentfd,
    const char *ident, const struct access_engine_ops *ops,
    access_accept_cb cb)
{
	int	 fds[CONFIG_LISTENERS_MAX + 1];
	int	 i, n = a->nlisten;

	for (i = 0; i < n; i++)
		fds[i] = a->listen_fds[i];
	fds[n] = parentfd;
	access_child_fds(fds, n + 1, ident, a->foreground);
	(void)signal(SIGPIPE, SIG_IGN);
	privsep_drop(a->uid, a->gid, a->chroot);
	/* libevent's epoll descriptor is made before the filter is on. */
	access_engine_init(a->def, fds[n], ops);
	access_accept_init(ae.base, ae.name, fds, a->listen_tls, n, cb);
	sandbox_init(SANDBOX_ENGINE);
	log_info("- %s engine-ready listeners=%d", ae.name, n);
	access_engine_request(-1, 0, NULL);
	(void)event_base_dispatch(ae.base);
	fatalx("- %s engine event loop ended", ae.name);
}
