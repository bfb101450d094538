/*
 * smtpd parent: runs as root, no chroot, no seccomp.  It reads the
 * configuration, binds the SMTP listeners, writes <rundir>/smtpd.pid,
 * then execs the engine (smtp_engine.c, role smtp-engine) and restarts
 * it when it dies.
 * From the engine it accepts a request, MSG_CHILD_CONNECT_REQUEST,
 * which it answers with a socket connected to authd or queued, and the
 * answer to a reload, MSG_CHILD_CONF_APPLIED (smtpd_reload.c); anything
 * else from the engine gets the engine killed and restarted.  It never
 * reads a byte from the network.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libutil.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <event2/event.h>

#include "daemon.h"
#include "ipc.h"
#include "listen.h"
#include "log.h"
#include "privsep.h"
#include "proc.h"
#include "proto.h"
#include "smtpd.h"
#include "tlsctx.h"

#define SMTPD_STOP_WAIT_SECS	5

static struct smtpd	 smtpd_env;

/* libevent's own complaints go to our log. */
static void
smtpd_event_log(int severity, const char *msg)
{
	(void)severity;
	log_debug("- libevent %s", msg);
}

/*
 * The TLS context, from the pki statements: built here so that a bad
 * certificate or key stops the start.  The engine builds its own from
 * the same files, still root and outside its chroot, before it drops
 * (smtp_engine.c), and keeps the key in its memory: see smtpd.8,
 * CAVEATS.
 */
static void
smtpd_tls(struct smtpd *env)
{
	char	 err[1024];
	size_t	 i;

	if (TAILQ_EMPTY(&env->conf->pkis)) {
		for (i = 0; i < env->nlisteners; i++)
			if (env->listeners[i].flags & SMTP_LF_SMTPS)
				fatalx("- smtpd smtps listener %s port %u "
				    "needs a pki statement",
				    env->listeners[i].addr,
				    env->listeners[i].port);
		log_warnx("- smtpd no pki statement: STARTTLS and AUTH are "
		    "not offered");
		return;
	}
	if ((env->tls = tlsctx_server_new(env->conf, err, sizeof(err))) ==
	    NULL)
		fatalx("- smtpd %s", err);
}

static void
smtpd_listen(struct smtpd *env)
{
	struct listener		*cl;
	struct smtp_listener	*l;

	TAILQ_FOREACH(cl, &env->conf->listeners, entry) {
		if (cl->proto != LISTEN_SMTP &&
		    cl->proto != LISTEN_SUBMISSION &&
		    cl->proto != LISTEN_SMTPS)
			continue;
		l = &env->listeners[env->nlisteners++];
		l->proto = cl->proto;
		l->flags = cl->proto == LISTEN_SUBMISSION ? SMTP_LF_SUBMISSION :
		    cl->proto == LISTEN_SMTPS ? SMTP_LF_SMTPS : 0;
		(void)strlcpy(l->addr, cl->addr, sizeof(l->addr));
		l->port = cl->port;
		l->fd = listen_open(cl, "smtpd");
		log_info("- smtpd listening on %s port %u proto=%s", l->addr,
		    l->port, config_proto_name(l->proto));
	}
	if (env->nlisteners == 0)
		fatalx("- smtpd no smtp, submission or smtps listener "
		    "configured");
}

/* Engine asks for authd or queued: connect, pass the socket back. */
static int
smtpd_connect_request(struct smtpd *env, struct ipc_conn *c,
    struct ipc_msg *m)
{
	struct ipc_out	 o;
	char		 path[PATH_MAX];
	uint32_t	 service, result = RESULT_OK;
	int		 fd;

	if (m->fd != -1 || ipc_get_u32(m, &service) == -1 ||
	    ipc_get_end(m) == -1 ||
	    (service != PEER_AUTHD && service != PEER_QUEUE))
		return -1;
	config_runpath(env->conf, service == PEER_AUTHD ? "authd.sock" :
	    "queue.sock", path, sizeof(path));
	if ((fd = ipc_connect(path)) == -1) {
		log_debug("- smtpd connect %s: %s", path, strerror(errno));
		result = RESULT_TEMPFAIL;
	}
	ipc_out_init(&o, MSG_PARENT_CONNECT_REPLY, m->hdr.peerid);
	ipc_put_u32(&o, service);
	ipc_put_u32(&o, result);
	(void)ipc_conn_send(c, &o, fd);
	return 0;
}

static void
smtpd_engine_dispatch(struct ipc_conn *c, struct ipc_msg *m, void *arg)
{
	struct smtpd	*env = arg;

	if (m->hdr.type == MSG_CHILD_CONNECT_REQUEST &&
	    smtpd_connect_request(env, c, m) == 0)
		return;
	if (m->hdr.type == MSG_CHILD_CONF_APPLIED &&
	    smtpd_reload_applied(env, m) == 0)
		return;
	/* Fail closed: an engine that says anything else is not trusted. */
	log_warnx("- smtpd bad message from engine type=%s, restarting it",
	    ipc_type_name(m->hdr.type));
	ipc_msg_clear(m);
	ipc_conn_close(c, "bad message");
	if (proc_pid(env->engine) > 0)
		(void)kill(proc_pid(env->engine), SIGKILL);
}

static void
smtpd_engine_closed(struct ipc_conn *c, void *arg)
{
	struct smtpd	*env = arg;

	if (env->engine_conn == c)
		env->engine_conn = NULL;
	ipc_conn_free(c);
}

static void
smtpd_engine_started(struct proc *p, int fd, void *arg)
{
	struct smtpd	*env = arg;

	(void)p;
	smtpd_reload_engine_started(env);
	if (env->engine_conn != NULL)
		ipc_conn_free(env->engine_conn);
	env->engine_conn = ipc_conn_new(env->base, fd, ROLE_PARENT,
	    ROLE_BIT(ROLE_SMTPD), smtpd_engine_dispatch, smtpd_engine_closed,
	    env);
	if (env->engine_conn == NULL) {
		log_warnx("- smtpd engine channel setup failed");
		(void)close(fd);
		if (proc_pid(p) > 0)
			(void)kill(proc_pid(p), SIGKILL);
	}
}

static void
smtpd_sigcb(evutil_socket_t sig, short ev, void *arg)
{
	struct smtpd	*env = arg;
	struct ipc_out	 o;

	(void)ev;
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		log_info("- smtpd exiting signal=%d", (int)sig);
		proc_stop_all(SIGTERM);
		proc_wait_all(SMTPD_STOP_WAIT_SECS);
		smtpd_local_close(env);
		(void)pidfile_remove(env->pidfh);
		exit(0);
	case SIGHUP:
		smtpd_reload(env);
		break;
	case SIGUSR1:
	case SIGUSR2:
		log_setverbose(sig == SIGUSR1);
		log_info("- smtpd log %s", sig == SIGUSR1 ? "verbose" :
		    "brief");
		if (env->engine_conn != NULL) {
			ipc_out_init(&o, MSG_PARENT_LOG_VERBOSE, 0);
			ipc_put_u32(&o, sig == SIGUSR1);
			(void)ipc_conn_send(env->engine_conn, &o, -1);
		}
		break;
	}
}

static void
smtpd_signals(struct smtpd *env)
{
	static const int	 sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1,
	    SIGUSR2 };
	struct event		*ev;
	size_t			 i;

	(void)signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		ev = evsignal_new(env->base, sigs[i], smtpd_sigcb, env);
		if (ev == NULL || evsignal_add(ev, NULL) == -1)
			fatalx("- smtpd signal %d", sigs[i]);
	}
}

/* The engine's chroot must exist, belong to root and be closed to others. */
static void
smtpd_check_chroot(const char *dir)
{
	struct stat	 st;

	if (stat(dir, &st) == -1)
		fatal("- smtpd chroot %s", dir);
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
		fatalx("- smtpd chroot %s must be a directory owned by root "
		    "and writable by no one else", dir);
}

/*
 * What the engine learns of its listeners, which it gets as descriptors
 * 6 and up: u32 count, then count times { u32 proto, u32 flags
 * (SMTP_LF_*), str addr, u32 port }, in the order of the descriptors.
 */
static int
smtpd_engine_args(const struct smtpd *env)
{
	struct ipc_out			 o;
	const struct smtp_listener	*l;
	size_t				 i;
	int				 fd;

	ipc_out_init(&o, MSG_NONE, 0);
	ipc_put_u32(&o, (uint32_t)env->nlisteners);
	for (i = 0; i < env->nlisteners; i++) {
		l = &env->listeners[i];
		ipc_put_u32(&o, l->proto);
		ipc_put_u32(&o, (uint32_t)l->flags);
		ipc_put_str(&o, l->addr);
		ipc_put_u32(&o, l->port);
	}
	if ((fd = daemon_args_fd(&o)) == -1)
		fatal("- smtpd engine arguments");
	return fd;
}

/* The engine: exec'd with its arguments and the listeners (daemon.h). */
static void
smtpd_engine_new(struct smtpd *env)
{
	int	 fds[CONFIG_LISTENERS_MAX + 1];
	size_t	 i;

	fds[0] = smtpd_engine_args(env);
	for (i = 0; i < env->nlisteners; i++)
		fds[i + 1] = env->listeners[i].fd;
	env->engine = proc_new(env->base, "smtp-engine", smtpd_engine_started,
	    env);
	proc_set_fds(env->engine, fds, (int)env->nlisteners + 1);
}

static void __attribute__((noreturn))
smtpd_parent(struct daemon_ctx *ctx)
{
	struct smtpd	*env = &smtpd_env;

	env->conf = ctx->conf;
	env->conf_file = ctx->conf_file;
	privsep_lookup(env->conf->user_smtp, &env->uid, &env->gid);
	smtpd_check_chroot(env->conf->emptydir);
	/* The pidfile first: a second instance must say so, not fail bind. */
	env->pidfh = daemon_pidfile(ctx);
	smtpd_listen(env);
	smtpd_local_listen(env);
	smtpd_tls(env);
	daemon_detach(ctx, env->pidfh);
	event_set_log_callback(smtpd_event_log);
	if ((env->base = event_base_new()) == NULL)
		fatalx("- smtpd event_base_new");
	proc_init(env->base, NULL, NULL);
	smtpd_signals(env);
	smtpd_engine_new(env);
	smtpd_local_start(env);
	proc_start(env->engine);
	log_info("- smtpd started pid=%ld", (long)getpid());
	(void)event_base_dispatch(env->base);
	fatalx("- smtpd event loop ended");
}

static const struct daemon_role smtpd_roles[] = {
	/* name		flags		fds: min, max		main */
	{ "smtp-engine", DAEMON_R_CONF,	4, CONFIG_LISTENERS_MAX + 3,
	    smtp_engine_main },
	{ NULL, 0, 0, 0, NULL },
};

static const struct daemon_def smtpd_def = {
	"smtpd", smtpd_parent, smtpd_roles
};

int
main(int argc, char *argv[])
{
	daemon_main(&smtpd_def, argc, argv);
}
