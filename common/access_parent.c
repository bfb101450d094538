/*
 * The privileged parent of pop3d and imapd (common/access.h): root, no
 * chroot, no seccomp (it forks and connects).  It reads the
 * configuration, binds the daemon's listeners, execs the login engine
 * and restarts it when it dies, connects to authd on the engine's
 * behalf, and turns each login the engine hands back into a mailbox
 * process (access_handoff.c).  It never reads a byte from a client.
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

#include "access.h"
#include "config.h"
#include "daemon.h"
#include "ipc.h"
#include "listen.h"
#include "log.h"
#include "privsep.h"
#include "proc.h"
#include "tlsctx.h"

static struct {
	const struct access_daemon *def;
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
} ap;

static struct ipc_out	 ap_out;

static int
access_is_ours(const struct access_daemon *def, const struct listener *l)
{
	return l->proto == def->listen_plain || l->proto == def->listen_tls;
}

static void
access_listen_all(void)
{
	const char	*name = ap.def->name;
	struct listener	*l;
	int		 n = 0;

	TAILQ_FOREACH(l, &ap.conf->listeners, entry) {
		if (!access_is_ours(ap.def, l))
			continue;
		if (l->proto == ap.def->listen_tls &&
		    TAILQ_EMPTY(&ap.conf->pkis))
			fatalx("- %s start-refused reason=\"listen %s needs "
			    "a pki\"", name, config_proto_name(l->proto));
		ap.listen_fds[n++] = listen_open(l, name);
		log_info("- %s listening addr=%s port=%u proto=%s", name,
		    l->addr, l->port, config_proto_name(l->proto));
	}
	if (n == 0)
		fatalx("- %s no-listener: the configuration has no \"listen "
		    "%s\"", name, config_proto_name(ap.def->listen_plain));
	ap.nlisten = n;
}

/* The engine asks for a connection to authd, which it cannot reach. */
static void
access_connect_request(struct ipc_conn *ic, struct ipc_msg *m)
{
	uint32_t	 service, result = RESULT_OK;
	int		 fd;

	if (ipc_get_u32(m, &service) == -1 || ipc_get_end(m) == -1 ||
	    m->fd != -1 || service != PEER_AUTHD) {
		ipc_conn_close(ic, "malformed CHILD_CONNECT_REQUEST");
		return;
	}
	if ((fd = ipc_connect(ap.authd_path)) == -1) {
		log_debug("- %s authd-connect path=%s error=\"%s\"",
		    ap.def->name, ap.authd_path, strerror(errno));
		result = RESULT_TEMPFAIL;
	}
	ipc_out_init(&ap_out, MSG_PARENT_CONNECT_REPLY, m->hdr.peerid);
	ipc_put_u32(&ap_out, service);
	ipc_put_u32(&ap_out, result);
	(void)ipc_conn_send(ic, &ap_out, fd);
}

static void
access_handoff_msg(struct ipc_conn *ic, struct ipc_msg *m)
{
	uint8_t	 token[AUTH_TOKEN_BYTES];
	char	 user[AUTH_USER_MAX_BYTES + 1];
	char	 client[ACCESS_CLIENT_MAX_BYTES];
	char	 note[ACCESS_NOTE_MAX_BYTES];

	note[0] = '\0';
	if (m->fd == -1 || ipc_get_data(m, token, sizeof(token)) == -1 ||
	    ipc_get_str(m, user, sizeof(user)) == -1 ||
	    ipc_get_str(m, client, sizeof(client)) == -1 ||
	    (ap.def->handoff_note &&
	    ipc_get_str(m, note, sizeof(note)) == -1) ||
	    ipc_get_end(m) == -1) {
		ipc_conn_close(ic, "malformed LOGIN_HANDOFF");
		return;
	}
	(void)access_handoff_recv(m->hdr.peerid, token, user, client, note,
	    m->fd);
	m->fd = -1;
	explicit_bzero(token, sizeof(token));
}

/* The engine's requests: a handful of types, anything else ends it. */
static void
access_engine_dispatch(struct ipc_conn *ic, struct ipc_msg *m, void *arg)
{
	(void)arg;
	if (m->hdr.type == ap.def->handoff_type)
		access_handoff_msg(ic, m);
	else if (m->hdr.type == MSG_CHILD_CONNECT_REQUEST)
		access_connect_request(ic, m);
	else if (m->hdr.type == MSG_CHILD_CONF_APPLIED) {
		if (m->fd != -1 || ipc_get_end(m) == -1 ||
		    ap.reloads_pending == 0)
			ipc_conn_close(ic, "malformed CHILD_CONF_APPLIED");
		else {
			ap.reloads_pending--;
			log_info("- %s reloaded", ap.def->name);
		}
	} else {
		log_warnx("- %s engine-unexpected type=%s", ap.def->name,
		    ipc_type_name(m->hdr.type));
		ipc_conn_close(ic, "unexpected message");
	}
	ipc_msg_clear(m);
}

static void
access_engine_closed(struct ipc_conn *ic, void *arg)
{
	(void)arg;
	if (ic == ap.engine_conn) {
		ap.engine_conn = NULL;
		if (ap.reloads_pending > 0)
			log_info("- %s reloaded engine=restarted",
			    ap.def->name);
		ap.reloads_pending = 0;
	}
	ipc_conn_free(ic);
}

static void
access_engine_started(struct proc *p, int fd, void *arg)
{
	(void)p;
	(void)arg;
	ap.engine_conn = ipc_conn_new(ap.base, fd, ROLE_PARENT,
	    ROLE_BIT(ap.def->role), access_engine_dispatch,
	    access_engine_closed, NULL);
	if (ap.engine_conn == NULL)
		fatalx("- %s engine ipc_conn_new", ap.def->name);
}

static void
access_shutdown(evutil_socket_t sig, short ev, void *arg)
{
	(void)ev;
	(void)arg;
	log_info("- %s shutdown signal=%d", ap.def->name, (int)sig);
	proc_stop_all(SIGTERM);
	access_handoff_kill_all(SIGTERM);
	proc_wait_all(5);
	(void)pidfile_remove(ap.pfh);
	exit(0);
}

static void
access_sighup(evutil_socket_t sig, short ev, void *arg)
{
	int	 r;

	(void)sig;
	(void)ev;
	(void)arg;
	r = access_reload(ap.def, ap.conf_file, &ap.conf, ap.engine_conn);
	if (r >= 0 && ap.def->configure != NULL)
		ap.def->configure(ap.conf);
	if (r == 1)
		ap.reloads_pending++;
	else if (r == 0 && proc_pid(ap.engine) > 0) {
		/* It cannot be told: restarted, it starts with the new one. */
		log_warnx("- %s reload cannot reach the engine, restarting "
		    "it", ap.def->name);
		(void)kill(proc_pid(ap.engine), SIGKILL);
	}
}

/* sallyctl log verbose|brief: SIGUSR1 / SIGUSR2, passed to the engine. */
static void
access_verbose(evutil_socket_t sig, short ev, void *arg)
{
	int	 v = sig == SIGUSR1;

	(void)ev;
	(void)arg;
	log_setverbose(v);
	log_info("- %s log verbose=%d", ap.def->name, v);
	if (ap.engine_conn == NULL)
		return;
	ipc_out_init(&ap_out, MSG_PARENT_LOG_VERBOSE, 0);
	ipc_put_u32(&ap_out, (uint32_t)v);
	(void)ipc_conn_send(ap.engine_conn, &ap_out, -1);
}

static void
access_signals(void)
{
	static const struct {
		int		 sig;
		event_callback_fn cb;
	} sigs[] = {
		{ SIGTERM, access_shutdown }, { SIGINT, access_shutdown },
		{ SIGHUP, access_sighup }, { SIGUSR1, access_verbose },
		{ SIGUSR2, access_verbose },
	};
	struct event	*ev;
	size_t		 i;

	(void)signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		ev = evsignal_new(ap.base, sigs[i].sig, sigs[i].cb, NULL);
		if (ev == NULL || evsignal_add(ev, NULL) == -1)
			fatalx("- %s signal %d", ap.def->name, sigs[i].sig);
	}
}

/*
 * Which of the engine's listeners are implicit TLS: the parent opened
 * them in the order of the configuration (access_listen_all).
 */
static void
access_engine_listeners(const struct access_daemon *def,
    struct daemon_ctx *ctx, struct access_engine_args *a)
{
	struct listener	*l;
	int		 n = 0;

	TAILQ_FOREACH(l, &ctx->conf->listeners, entry) {
		if (!access_is_ours(def, l))
			continue;
		if (n == a->nlisten)
			fatalx("- %s engine start-refused reason=listeners",
			    def->name);
		a->listen_tls[n++] = l->proto == def->listen_tls;
	}
	if (n != a->nlisten)
		fatalx("- %s engine start-refused reason=listeners",
		    def->name);
}

/*
 * The login engine's role (daemon.h): the channel to the parent, then
 * the listeners.  Its user and chroot come from the parent's
 * configuration; the TLS context is built from the pki files here, as
 * root before the chroot: the key stays in this process, never in a
 * mailbox process.
 */
void
access_engine_role(const struct access_daemon *def, struct daemon_ctx *ctx)
{
	struct access_engine_args	 a;
	char				 err[1024];
	int				 i;

	daemon_check_parent(ctx->fds[0]);
	for (i = 1; i < ctx->nfds; i++)
		daemon_check_listener(ctx->fds[i]);
	memset(&a, 0, sizeof(a));
	a.def = def;
	privsep_lookup((const char *)ctx->conf + def->user_off, &a.uid,
	    &a.gid);
	a.chroot = ctx->conf->emptydir;
	a.conf = ctx->conf;
	a.foreground = ctx->debug;
	a.listen_fds = ctx->fds + 1;
	a.nlisten = ctx->nfds - 1;
	access_engine_listeners(def, ctx, &a);
	if (!TAILQ_EMPTY(&ctx->conf->pkis) && (a.tls =
	    tlsctx_server_new(ctx->conf, err, sizeof(err))) == NULL)
		fatalx("- %s engine %s", def->name, err);
	def->engine_main(ctx->fds[0], &a);
	fatalx("- %s login engine returned", def->name);
}

static void
access_setup(struct daemon_ctx *ctx)
{
	struct stat	 st;
	uid_t		 uid;
	gid_t		 gid;

	privsep_lookup((const char *)ap.conf + ap.def->user_off, &uid, &gid);
	ap.mailbox_exe = daemon_prog_open(ap.def->mailbox_prog);
	if (stat(ap.conf->emptydir, &st) == -1 || !S_ISDIR(st.st_mode))
		fatalx("- %s chroot-missing path=%s", ap.def->name,
		    ap.conf->emptydir);
	config_runpath(ap.conf, "authd.sock", ap.authd_path,
	    sizeof(ap.authd_path));
	ap.pfh = daemon_pidfile(ctx);
	access_listen_all();
	daemon_detach(ctx, ap.pfh);
}

void
access_parent_main(const struct access_daemon *def, struct daemon_ctx *ctx)
{
	ap.def = def;
	ap.conf = ctx->conf;
	ap.conf_file = ctx->conf_file;
	access_setup(ctx);
	if ((ap.base = event_base_new()) == NULL)
		fatalx("- %s event_base_new", def->name);
	access_signals();
	proc_init(ap.base, access_handoff_reaped, NULL);
	access_handoff_init(def, ap.base, ap.authd_path, ap.mailbox_exe);
	if (def->configure != NULL)
		def->configure(ap.conf);
	ap.engine = proc_new(ap.base, def->engine_role,
	    access_engine_started, NULL);
	proc_set_fds(ap.engine, ap.listen_fds, ap.nlisten);
	proc_start(ap.engine);
	log_info("- %s started", def->name);
	(void)event_base_dispatch(ap.base);
	fatalx("- %s event loop ended", def->name);
}
