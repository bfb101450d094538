/*
 * pop3d, the privileged parent: root, no chroot, no seccomp (it forks
 * and connects).  It reads the configuration, binds the POP3 listeners,
 * execs the login engine (role pop3d-login, pop3_login.c) and restarts
 * it when it dies, connects to authd on the engine's behalf, and turns
 * each login the engine hands back into a mailbox process (role
 * pop3d-user of the program pop3d-mailbox, pop3_handoff.c).  It never
 * reads a byte from a client.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <libutil.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "ipc.h"
#include "listen.h"
#include "log.h"
#include "pop3d.h"
#include "privsep.h"
#include "proc.h"
#include "proto.h"
#include "tlsctx.h"

static struct {
	struct config		*conf;
	struct event_base	*base;
	int			 listen_fds[CONFIG_LISTENERS_MAX];
	int			 nlisten;
	struct proc		*engine;
	struct ipc_conn		*engine_conn;
	char			 authd_path[PATH_MAX];
	struct pidfh		*pfh;
	const char		*conf_file;
	unsigned int		 reloads_pending;
	int			 mailbox_exe;
} pd;

static struct ipc_out	 pd_out;

static void
pop3d_listen_all(void)
{
	struct listener	*l;
	int		 n = 0;

	TAILQ_FOREACH(l, &pd.conf->listeners, entry) {
		if (l->proto != LISTEN_POP3 && l->proto != LISTEN_POP3S)
			continue;
		if (l->proto == LISTEN_POP3S && TAILQ_EMPTY(&pd.conf->pkis))
			fatalx("- pop3 start-refused reason=\"listen pop3s "
			    "needs a pki\"");
		pd.listen_fds[n++] = listen_open(l, "pop3");
		log_info("- pop3 listening addr=%s port=%u proto=%s", l->addr,
		    l->port, config_proto_name(l->proto));
	}
	if (n == 0)
		fatalx("- pop3 no-listener: the configuration has no "
		    "\"listen pop3\"");
	pd.nlisten = n;
}

/* The engine asks for a connection to authd, which it cannot reach. */
static void
pop3d_connect_request(struct ipc_conn *ic, struct ipc_msg *m)
{
	uint32_t	 service, result = RESULT_OK;
	int		 fd;

	if (ipc_get_u32(m, &service) == -1 || ipc_get_end(m) == -1 ||
	    m->fd != -1 || service != PEER_AUTHD) {
		ipc_conn_close(ic, "malformed CHILD_CONNECT_REQUEST");
		return;
	}
	if ((fd = ipc_connect(pd.authd_path)) == -1) {
		log_debug("- pop3 authd-connect path=%s error=\"%s\"",
		    pd.authd_path, strerror(errno));
		result = RESULT_TEMPFAIL;
	}
	ipc_out_init(&pd_out, MSG_PARENT_CONNECT_REPLY, m->hdr.peerid);
	ipc_put_u32(&pd_out, service);
	ipc_put_u32(&pd_out, result);
	(void)ipc_conn_send(ic, &pd_out, fd);
}

static void
pop3d_handoff(struct ipc_conn *ic, struct ipc_msg *m)
{
	uint8_t	 token[AUTH_TOKEN_BYTES];
	char	 user[AUTH_USER_MAX_BYTES + 1];
	char	 client[POP3_CLIENT_MAX_BYTES];

	if (m->fd == -1 || ipc_get_data(m, token, sizeof(token)) == -1 ||
	    ipc_get_str(m, user, sizeof(user)) == -1 ||
	    ipc_get_str(m, client, sizeof(client)) == -1 ||
	    ipc_get_end(m) == -1) {
		ipc_conn_close(ic, "malformed POP3_LOGIN_HANDOFF");
		return;
	}
	(void)pop3_handoff_recv(m->hdr.peerid, token, user, client, m->fd);
	m->fd = -1;
	explicit_bzero(token, sizeof(token));
}

/* The engine's requests: a handful of types, anything else ends it. */
static void
pop3d_engine_dispatch(struct ipc_conn *ic, struct ipc_msg *m, void *arg)
{
	(void)arg;
	switch (m->hdr.type) {
	case MSG_CHILD_CONNECT_REQUEST:
		pop3d_connect_request(ic, m);
		break;
	case MSG_POP3_LOGIN_HANDOFF:
		pop3d_handoff(ic, m);
		break;
	case MSG_CHILD_CONF_APPLIED:
		if (m->fd != -1 || ipc_get_end(m) == -1 ||
		    pd.reloads_pending == 0) {
			ipc_conn_close(ic, "malformed CHILD_CONF_APPLIED");
			break;
		}
		pd.reloads_pending--;
		log_info("- pop3 reloaded");
		break;
	default:
		log_warnx("- pop3 engine-unexpected type=%s",
		    ipc_type_name(m->hdr.type));
		ipc_conn_close(ic, "unexpected message");
		break;
	}
	ipc_msg_clear(m);
}

static void
pop3d_engine_closed(struct ipc_conn *ic, void *arg)
{
	(void)arg;
	if (ic == pd.engine_conn) {
		pd.engine_conn = NULL;
		if (pd.reloads_pending > 0)
			log_info("- pop3 reloaded engine=restarted");
		pd.reloads_pending = 0;
	}
	ipc_conn_free(ic);
}

static void
pop3d_engine_started(struct proc *p, int fd, void *arg)
{
	(void)p;
	(void)arg;
	pd.engine_conn = ipc_conn_new(pd.base, fd, ROLE_PARENT,
	    ROLE_BIT(ROLE_POP3D), pop3d_engine_dispatch, pop3d_engine_closed,
	    NULL);
	if (pd.engine_conn == NULL)
		fatalx("- pop3 engine ipc_conn_new");
}

static void
pop3d_shutdown(evutil_socket_t sig, short ev, void *arg)
{
	(void)ev;
	(void)arg;
	log_info("- pop3 shutdown signal=%d", (int)sig);
	proc_stop_all(SIGTERM);
	pop3_handoff_kill_all(SIGTERM);
	proc_wait_all(5);
	(void)pidfile_remove(pd.pfh);
	exit(0);
}

static void
pop3d_sighup(evutil_socket_t sig, short ev, void *arg)
{
	int	 r;

	(void)sig;
	(void)ev;
	(void)arg;
	r = pop3d_reload(pd.conf_file, &pd.conf, pd.engine_conn);
	if (r >= 0)
		pop3_handoff_policy(pd.conf->pop3_login_delay_secs,
		    pd.conf->pop3_expire_days);
	if (r == 1)
		pd.reloads_pending++;
	else if (r == 0 && proc_pid(pd.engine) > 0) {
		/* It cannot be told: restarted, it starts with the new one. */
		log_warnx("- pop3 reload cannot reach the engine, restarting "
		    "it");
		(void)kill(proc_pid(pd.engine), SIGKILL);
	}
}

/* sallyctl log verbose|brief: SIGUSR1 / SIGUSR2, passed to the engine. */
static void
pop3d_verbose(evutil_socket_t sig, short ev, void *arg)
{
	int	 v = sig == SIGUSR1;

	(void)ev;
	(void)arg;
	log_setverbose(v);
	log_info("- pop3 log verbose=%d", v);
	if (pd.engine_conn == NULL)
		return;
	ipc_out_init(&pd_out, MSG_PARENT_LOG_VERBOSE, 0);
	ipc_put_u32(&pd_out, (uint32_t)v);
	(void)ipc_conn_send(pd.engine_conn, &pd_out, -1);
}

static void
pop3d_signals(void)
{
	static const struct {
		int		 sig;
		event_callback_fn cb;
	} sigs[] = {
		{ SIGTERM, pop3d_shutdown }, { SIGINT, pop3d_shutdown },
		{ SIGHUP, pop3d_sighup }, { SIGUSR1, pop3d_verbose },
		{ SIGUSR2, pop3d_verbose },
	};
	struct event	*ev;
	size_t		 i;

	(void)signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		ev = evsignal_new(pd.base, sigs[i].sig, sigs[i].cb, NULL);
		if (ev == NULL || evsignal_add(ev, NULL) == -1)
			fatalx("- pop3 signal %d", sigs[i].sig);
	}
}

/*
 * Which of the engine's listeners are pop3s: the parent opened them in
 * the order of the configuration (pop3d_listen_all).
 */
static void
pop3d_login_listeners(struct daemon_ctx *ctx, struct pop3_login_args *a)
{
	struct listener	*l;
	int		 n = 0;

	TAILQ_FOREACH(l, &ctx->conf->listeners, entry) {
		if (l->proto != LISTEN_POP3 && l->proto != LISTEN_POP3S)
			continue;
		if (n == a->nlisten)
			fatalx("- pop3 engine start-refused reason=listeners");
		a->listen_tls[n++] = l->proto == LISTEN_POP3S;
	}
	if (n != a->nlisten)
		fatalx("- pop3 engine start-refused reason=listeners");
}

/*
 * The role pop3d-login (daemon.h): the channel to the parent, then the
 * listeners.  Its user and chroot come from the parent's configuration;
 * the TLS context is built from the pki files here, as root before the
 * chroot: the key stays in this process, never in a mailbox process.
 */
static void __attribute__((noreturn))
pop3d_login_role(struct daemon_ctx *ctx)
{
	struct pop3_login_args	 a;
	char			 err[1024];
	int			 i;

	daemon_check_parent(ctx->fds[0]);
	for (i = 1; i < ctx->nfds; i++)
		daemon_check_listener(ctx->fds[i]);
	memset(&a, 0, sizeof(a));
	privsep_lookup(ctx->conf->user_pop3, &a.uid, &a.gid);
	a.chroot = ctx->conf->emptydir;
	a.conf = ctx->conf;
	a.foreground = ctx->debug;
	a.listen_fds = ctx->fds + 1;
	a.nlisten = ctx->nfds - 1;
	pop3d_login_listeners(ctx, &a);
	if (!TAILQ_EMPTY(&ctx->conf->pkis) && (a.tls =
	    tlsctx_server_new(ctx->conf, err, sizeof(err))) == NULL)
		fatalx("- pop3 engine %s", err);
	pop3_login_main(ctx->fds[0], &a);
	fatalx("- pop3 login engine returned");
}

static void
pop3d_setup(struct daemon_ctx *ctx)
{
	struct stat	 st;
	uid_t		 uid;
	gid_t		 gid;

	privsep_lookup(pd.conf->user_pop3, &uid, &gid);
	pd.mailbox_exe = daemon_prog_open(POP3_MAILBOX_PROG);
	if (stat(pd.conf->emptydir, &st) == -1 || !S_ISDIR(st.st_mode))
		fatalx("- pop3 chroot-missing path=%s", pd.conf->emptydir);
	config_runpath(pd.conf, "authd.sock", pd.authd_path,
	    sizeof(pd.authd_path));
	pd.pfh = daemon_pidfile(ctx);
	pop3d_listen_all();
	daemon_detach(ctx, pd.pfh);
}

static void __attribute__((noreturn))
pop3d_parent(struct daemon_ctx *ctx)
{
	pd.conf = ctx->conf;
	pd.conf_file = ctx->conf_file;
	pop3d_setup(ctx);
	if ((pd.base = event_base_new()) == NULL)
		fatalx("- pop3 event_base_new");
	pop3d_signals();
	proc_init(pd.base, pop3_handoff_reaped, NULL);
	pop3_handoff_init(pd.base, pd.authd_path, pd.mailbox_exe);
	pop3_handoff_policy(pd.conf->pop3_login_delay_secs,
	    pd.conf->pop3_expire_days);
	pd.engine = proc_new(pd.base, "pop3d-login", pop3d_engine_started,
	    NULL);
	proc_set_fds(pd.engine, pd.listen_fds, pd.nlisten);
	proc_start(pd.engine);
	log_info("- pop3 started");
	(void)event_base_dispatch(pd.base);
	fatalx("- pop3 event loop ended");
}

static const struct daemon_role pop3d_roles[] = {
	/* name		flags		fds: min, max		main */
	{ "pop3d-login", DAEMON_R_CONF, 3, CONFIG_LISTENERS_MAX + 2,
	    pop3d_login_role },
	{ NULL, 0, 0, 0, NULL },
};

static const struct daemon_def pop3d_def = {
	"pop3d", pop3d_parent, pop3d_roles
};

int
main(int argc, char *argv[])
{
	daemon_main(&pop3d_def, argc, argv);
}
