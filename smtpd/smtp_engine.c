/*
 * smtpd engine: runs as user smtp (config "user smtp", _sallysmtp),
 * chrooted into the empty directory (config "chroot"), under the seccomp
 * set SANDBOX_ENGINE.  The parent execs it (role smtp-engine, daemon.h)
 * with its configuration, the channel to the parent and the listening
 * sockets; it accepts clients and runs their sessions; it reaches authd
 * and queued through descriptors the parent passes it (smtp_peer.c),
 * and takes a new configuration from it on a reload (smtp_conf.c).
 * Anything unexpected from the parent ends the engine; the parent
 * restarts it.
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <event2/event.h>

#include "daemon.h"
#include "ipc.h"
#include "log.h"
#include "privsep.h"
#include "proc.h"
#include "proto.h"
#include "sandbox.h"
#include "smtpd.h"
#include "tlsctx.h"

static struct smtpd	*smtp_env;
static struct event	*smtp_ev_unpause;
static struct event	*smtp_ev_ready;
static int		 smtp_engine_open;

static void
smtp_engine_listen(int on)
{
	size_t	 i;

	for (i = 0; i < smtp_env->nlisteners; i++) {
		if (on)
			(void)event_add(smtp_env->listeners[i].ev, NULL);
		else
			(void)event_del(smtp_env->listeners[i].ev);
	}
}

static void
smtp_engine_unpausecb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	smtp_engine_listen(1);
}

static void
smtp_engine_acceptcb(evutil_socket_t fd, short ev, void *arg)
{
	struct smtp_listener	*l = arg;
	struct sockaddr_storage	 ss;
	struct timeval		 tv = { SMTP_ACCEPT_PAUSE_SECS, 0 };
	socklen_t		 len;
	int			 c, i;

	(void)ev;
	for (i = 0; i < SMTP_ACCEPT_BATCH; i++) {
		len = sizeof(ss);
		c = accept4(fd, (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (c != -1) {
			smtp_session_accept(smtp_env, l, c, &ss, NULL);
			continue;
		}
		if (errno == EMFILE || errno == ENFILE) {
			log_warnx("- smtp accept paused: out of descriptors");
			smtp_engine_listen(0);
			(void)evtimer_add(smtp_ev_unpause, &tv);
		} else if (errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR && errno != ECONNABORTED)
			log_warn("- smtp accept");
		return;
	}
}

/* A reload's message; the parent hears when the new one is in force. */
static void
smtp_engine_conf(struct ipc_conn *c, struct ipc_msg *m)
{
	switch (smtp_conf_recv(m)) {
	case 0:
		break;
	case 1:
		if (ipc_conn_send_empty(c, MSG_CHILD_CONF_APPLIED, 0) == -1)
			fatalx("- smtp cannot answer the parent's reload");
		break;
	default:
		fatalx("- smtp bad reload from parent type=%s",
		    ipc_type_name(m->hdr.type));
	}
}

static void
smtp_engine_parent_dispatch(struct ipc_conn *c, struct ipc_msg *m,
    void *arg)
{
	uint32_t	 verbose;

	(void)arg;
	switch (m->hdr.type) {
	case MSG_PARENT_CONNECT_REPLY:
		if (smtp_peer_connect_reply(m) == -1)
			fatalx("- smtp malformed connect reply from parent");
		break;
	case MSG_PARENT_LOG_VERBOSE:
		if (m->fd != -1 || ipc_get_u32(m, &verbose) == -1 ||
		    ipc_get_end(m) == -1)
			fatalx("- smtp malformed log message from parent");
		log_setverbose(verbose != 0);
		break;
	case MSG_PARENT_CONF_DATA:
	case MSG_PARENT_CONF_COMMIT:
		smtp_engine_conf(c, m);
		break;
	case MSG_PARENT_LOCAL_CLIENT:
		if (smtp_local_client(smtp_env, m) == -1)
			fatalx("- smtp malformed local client from parent");
		break;
	default:
		fatalx("- smtp unexpected message from parent type=%s",
		    ipc_type_name(m->hdr.type));
	}
	ipc_msg_clear(m);
}

static void
smtp_engine_parent_closed(struct ipc_conn *c, void *arg)
{
	(void)c;
	(void)arg;
	fatalx("- smtp engine lost its parent");
}

static void
smtp_engine_sigcb(evutil_socket_t sig, short ev, void *arg)
{
	(void)ev;
	(void)arg;
	log_info("- smtp engine exiting signal=%d", (int)sig);
	exit(0);
}

/* Room for SMTP_SESSIONS_MAX clients and their message files. */
static void
smtp_engine_rlimit(void)
{
	struct rlimit	 rl;
	rlim_t		 want = 2 * SMTP_SESSIONS_MAX + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	if (rl.rlim_cur < want) {
		rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void
smtp_engine_signals(struct event_base *base)
{
	static struct event	*ev_term, *ev_int;

	(void)signal(SIGPIPE, SIG_IGN);
	(void)signal(SIGHUP, SIG_IGN);
	(void)signal(SIGUSR1, SIG_IGN);
	(void)signal(SIGUSR2, SIG_IGN);
	ev_term = evsignal_new(base, SIGTERM, smtp_engine_sigcb, NULL);
	ev_int = evsignal_new(base, SIGINT, smtp_engine_sigcb, NULL);
	if (ev_term == NULL || ev_int == NULL ||
	    evsignal_add(ev_term, NULL) == -1 ||
	    evsignal_add(ev_int, NULL) == -1)
		fatalx("- smtp engine signals");
}

/*
 * The listeners, descriptors 2 and up of the role, described by the
 * arguments at descriptor 1 (smtpd.c, smtpd_engine_args).
 */
static void
smtp_engine_listeners(struct smtpd *env, const struct daemon_ctx *ctx)
{
	struct smtp_listener	*l;
	struct ipc_msg		 m;
	uint8_t			*buf;
	uint32_t		 n, proto, flags, port;
	int			 i;

	buf = daemon_args_read(ctx->fds[1], &m);
	(void)close(ctx->fds[1]);
	if (ipc_get_u32(&m, &n) == -1 || n != (uint32_t)ctx->nfds - 2)
		fatalx("- smtp engine start-refused reason=listeners");
	for (i = 0; i < (int)n; i++) {
		l = &env->listeners[i];
		if (ipc_get_u32(&m, &proto) == -1 ||
		    ipc_get_u32(&m, &flags) == -1 ||
		    ipc_get_str(&m, l->addr, sizeof(l->addr)) == -1 ||
		    ipc_get_u32(&m, &port) == -1 || port > UINT16_MAX ||
		    (proto != LISTEN_SMTP && proto != LISTEN_SUBMISSION &&
		    proto != LISTEN_SMTPS) ||
		    (flags & ~(SMTP_LF_SUBMISSION | SMTP_LF_SMTPS)) != 0)
			fatalx("- smtp engine start-refused reason=listeners");
		l->proto = proto;
		l->flags = (int)flags;
		l->port = (uint16_t)port;
		l->fd = ctx->fds[i + 2];
		daemon_check_listener(l->fd);
	}
	if (ipc_get_end(&m) == -1)
		fatalx("- smtp engine start-refused reason=listeners");
	free(buf);
	env->nlisteners = n;
}

/*
 * Still root, outside the chroot: the user, and the TLS context from
 * the pki files (the parent read them too, and checked them).
 */
static void
smtp_engine_prepare(struct smtpd *env)
{
	char	 err[1024];

	privsep_lookup(env->conf->user_smtp, &env->uid, &env->gid);
	if (!TAILQ_EMPTY(&env->conf->pkis) && (env->tls =
	    tlsctx_server_new(env->conf, err, sizeof(err))) == NULL)
		fatalx("- smtp engine %s", err);
}

/*
 * Accepts clients from now on: once both peers are connected at start,
 * or when SMTP_START_PEERS_WAIT_SECS have passed without them.
 */
void
smtp_engine_ready(void)
{
	if (smtp_engine_open)
		return;
	smtp_engine_open = 1;
	(void)evtimer_del(smtp_ev_ready);
	smtp_engine_listen(1);
	log_info("- smtp engine accepting peers=%s",
	    smtp_peer_all_connected() ? "all" : "missing");
}

static void
smtp_engine_readycb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	smtp_engine_ready();
}

static void
smtp_engine_setup_listeners(struct smtpd *env)
{
	struct timeval		 ready = { SMTP_START_PEERS_WAIT_SECS, 0 };
	struct smtp_listener	*l;
	size_t			 i;

	for (i = 0; i < env->nlisteners; i++) {
		l = &env->listeners[i];
		l->ev = event_new(env->base, l->fd, EV_READ | EV_PERSIST,
		    smtp_engine_acceptcb, l);
		if (l->ev == NULL)
			fatalx("- smtp engine listener event");
	}
	smtp_ev_unpause = evtimer_new(env->base, smtp_engine_unpausecb, NULL);
	smtp_ev_ready = evtimer_new(env->base, smtp_engine_readycb, NULL);
	if (smtp_ev_unpause == NULL || smtp_ev_ready == NULL)
		fatalx("- smtp engine timer");
	/* Clients wait in the backlog until authd and queued answer. */
	(void)evtimer_add(smtp_ev_ready, &ready);
}

void
smtp_engine_main(struct daemon_ctx *ctx)
{
	static struct smtpd	 engine_env;
	struct smtpd		*env = &engine_env;
	struct ipc_conn		*parent;
	int			 parentfd = ctx->fds[0];

	smtp_env = env;
	daemon_check_parent(parentfd);
	env->conf = ctx->conf;
	smtp_engine_listeners(env, ctx);
	smtp_engine_prepare(env);
	smtp_engine_rlimit();
	if ((env->base = event_base_new()) == NULL)
		fatalx("- smtp engine event_base_new");
	privsep_drop(env->uid, env->gid, env->conf->emptydir);
	smtp_engine_signals(env->base);
	parent = ipc_conn_new(env->base, parentfd, ROLE_SMTPD,
	    ROLE_BIT(ROLE_PARENT), smtp_engine_parent_dispatch,
	    smtp_engine_parent_closed, NULL);
	if (parent == NULL)
		fatalx("- smtp engine parent channel");
	smtp_engine_setup_listeners(env);
	smtp_peer_init(env->base, parent);
	sandbox_init(SANDBOX_ENGINE);
	log_info("- smtp engine started user=%s chroot=%s listeners=%zu",
	    env->conf->user_smtp, env->conf->emptydir, env->nlisteners);
	/* From here on, sessions find both through smtp_conf.c only. */
	smtp_conf_init(env->conf, env->tls);
	env->conf = NULL;
	env->tls = NULL;
	(void)event_base_dispatch(env->base);
	fatalx("- smtp engine event loop ended");
}
