/*
 * queued: the privileged parent.  Runs as root, no chroot, and does only
 * what needs root: it makes the spool, binds <rundir>/queue.sock and
 * <rundir>/control.sock, execs and supervises the queue manager (role
 * queue-manager, queue_manager.c) and the delivery agent (role
 * delivery, delivery.c; it execs the role mailbox-worker) and the relay
 * (role relay, relay.c) and its MTA-STS helper (role relay-sts,
 * relay_sts_proc.c), connects the manager to the delivery agent and to
 * the relay, and the relay to its helper, with a socketpair at each
 * (re)start of either, and connects the
 * manager to authd on request.  From its children it accepts CHILD_CONNECT_REQUEST
 * and CHILD_PROC_QUERY from the manager; anything else ends the child,
 * which is restarted.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libutil.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "ipc.h"
#include "log.h"
#include "privsep.h"
#include "proc.h"
#include "proto.h"
#include "queued.h"

/* The spool's areas (doc/INTERNALS.md "The spool"). */
static const char *const queued_areas[] = { "incoming", "queue", "corrupt" };

struct queued_child {
	const char	*name;
	uint32_t	 role;		/* what it says in its HELLO */
	struct proc	*proc;
	struct ipc_conn	*conn;
};

typedef void	(*queued_handler)(struct queued_child *, struct ipc_msg *);

static void	queued_connect(struct queued_child *, struct ipc_msg *);
static void	queued_proc_query(struct queued_child *, struct ipc_msg *);

#define QUEUED_MANAGER	ROLE_BIT(ROLE_QUEUED)

static const struct queued_cmd {
	uint32_t	 type;
	uint32_t	 from;		/* ROLE_BIT of who may send it */
	queued_handler	 handler;
} queued_cmds[] = {
	/* type				from (roles)	handler */
	{ MSG_CHILD_CONNECT_REQUEST,	QUEUED_MANAGER,	queued_connect },
	{ MSG_CHILD_PROC_QUERY,		QUEUED_MANAGER,	queued_proc_query },
};

/* On SIGTERM, the children get this long before SIGKILL. */
#define QUEUED_STOP_WAIT_SECS	10

static struct queued_child	 manager = { "queue-manager", ROLE_QUEUED,
				    NULL, NULL };
static struct queued_child	 delivery = { "delivery", ROLE_DELIVERY,
				    NULL, NULL };
static struct queued_child	 relay = { "relay", ROLE_RELAY, NULL, NULL };
static struct queued_child	 relay_sts = { "relay-sts", ROLE_RELAY_STS,
				    NULL, NULL };
/* Every child, for what is done to each. */
static struct queued_child *const queued_children[] = { &manager,
				    &delivery, &relay, &relay_sts };
#define QUEUED_NCHILDREN	(sizeof(queued_children) / \
				    sizeof(queued_children[0]))
static struct queued_env	 env;
static struct event_base	*base;
static struct pidfh		*pfh;
static struct daemon_ctx	*ctx;
static time_t			 started;
static char			 queue_path[PATH_MAX];
static char			 control_path[PATH_MAX];
static const char		*config_path;
static struct ipc_out		 out;

static void
queued_send_peer(struct queued_child *to, uint32_t peer_role, int fd)
{
	ipc_out_init(&out, MSG_PARENT_PEER_FD, 0);
	ipc_put_u32(&out, peer_role);
	if (ipc_conn_send(to->conn, &out, fd) == -1)
		log_warnx("- queued peer-fd-failed to=%s", to->name);
}

/* Connects the manager to another child, with a new pair. */
static void
queued_pair(struct queued_child *ch)
{
	int	 sv[2];

	if (manager.conn == NULL || ch->conn == NULL)
		return;
	if (ipc_socketpair(sv) == -1)
		fatal("- queued socketpair");
	queued_send_peer(&manager, ch->role, sv[0]);
	queued_send_peer(ch, ROLE_QUEUED, sv[1]);
	log_debug("- queued paired manager=%ld %s=%ld",
	    (long)proc_pid(manager.proc), ch->name, (long)proc_pid(ch->proc));
}

/* Connects the relay to its MTA-STS helper, with a new pair. */
static void
queued_pair_sts(void)
{
	int	 sv[2];

	if (relay.conn == NULL || relay_sts.conn == NULL)
		return;
	if (ipc_socketpair(sv) == -1)
		fatal("- queued socketpair");
	queued_send_peer(&relay, ROLE_RELAY_STS, sv[0]);
	queued_send_peer(&relay_sts, ROLE_RELAY, sv[1]);
}

/* A child that broke the protocol is ended; proc.c restarts it. */
static void
queued_child_kill(struct queued_child *ch, const char *why)
{
	pid_t	 pid = proc_pid(ch->proc);

	log_warnx("- queued child-killed name=%s pid=%ld reason=\"%s\"",
	    ch->name, (long)pid, why);
	if (ch->conn != NULL)
		ipc_conn_close(ch->conn, NULL);
	if (pid > 0)
		(void)kill(pid, SIGKILL);
}

static void
queued_dispatch(struct ipc_conn *c, struct ipc_msg *m, void *arg)
{
	struct queued_child	*ch = arg;
	size_t			 i;

	(void)c;
	for (i = 0; i < sizeof(queued_cmds) / sizeof(queued_cmds[0]); i++)
		if (queued_cmds[i].type == m->hdr.type &&
		    (queued_cmds[i].from & ROLE_BIT(ch->role)))
			break;
	if (i == sizeof(queued_cmds) / sizeof(queued_cmds[0]) ||
	    m->fd != -1) {
		ipc_msg_clear(m);
		queued_child_kill(ch, ipc_type_name(m->hdr.type));
		return;
	}
	queued_cmds[i].handler(ch, m);
}

static void
queued_closed(struct ipc_conn *c, void *arg)
{
	struct queued_child	*ch = arg;

	if (ch->conn == c)
		ch->conn = NULL;
	ipc_conn_free(c);
}

static void
queued_started(struct proc *p, int fd, void *arg)
{
	struct queued_child	*ch = arg;

	(void)p;
	if (ch->conn != NULL)
		ipc_conn_free(ch->conn);
	ch->conn = ipc_conn_new(base, fd, ROLE_PARENT, ROLE_BIT(ch->role),
	    queued_dispatch, queued_closed, ch);
	if (ch->conn == NULL)
		fatalx("- queued ipc_conn_new %s", ch->name);
	if (ch == &manager) {
		queued_pair(&delivery);
		queued_pair(&relay);
	} else if (ch != &relay_sts)
		queued_pair(ch);
	if (ch == &relay || ch == &relay_sts)
		queued_pair_sts();
}

/* CHILD_CONNECT_REQUEST: only authd, for the chrooted manager. */
static void
queued_connect(struct queued_child *ch, struct ipc_msg *m)
{
	char		 path[PATH_MAX];
	uint32_t	 service;
	int		 fd;

	if (ipc_get_u32(m, &service) == -1 || ipc_get_end(m) == -1 ||
	    service != PEER_AUTHD) {
		queued_child_kill(ch, "bad CHILD_CONNECT_REQUEST");
		return;
	}
	config_runpath(env.conf, "authd.sock", path, sizeof(path));
	if ((fd = ipc_connect(path)) == -1)
		log_debug("- queued authd-connect-failed: %s", strerror(errno));
	ipc_out_init(&out, MSG_PARENT_CONNECT_REPLY, m->hdr.peerid);
	ipc_put_u32(&out, service);
	ipc_put_u32(&out, fd == -1 ? RESULT_TEMPFAIL : RESULT_OK);
	(void)ipc_conn_send(ch->conn, &out, fd);
}

static void
queued_put_proc(const char *name, pid_t pid, time_t when)
{
	ipc_put_str(&out, name);
	ipc_put_u32(&out, pid > 0 ? (uint32_t)pid : 0);
	ipc_put_u64(&out, (uint64_t)when);
	ipc_put_u32(&out, pid > 0);
}

/* CHILD_PROC_QUERY: the parent and its children, for CTL_STATUS. */
static void
queued_proc_query(struct queued_child *ch, struct ipc_msg *m)
{
	size_t		 i;
	uint32_t	 n;

	if (ipc_get_end(m) == -1) {
		queued_child_kill(ch, "bad CHILD_PROC_QUERY");
		return;
	}
	ipc_out_init(&out, MSG_PARENT_PROC_STATUS, m->hdr.peerid);
	/* relay-sts is not started under "relay mta-sts none". */
	for (i = 0, n = 1; i < QUEUED_NCHILDREN; i++)
		n += queued_children[i]->proc != NULL;
	ipc_put_u32(&out, n);
	queued_put_proc("parent", getpid(), started);
	for (i = 0; i < QUEUED_NCHILDREN; i++)
		if (queued_children[i]->proc != NULL)
			queued_put_proc(queued_children[i]->name,
			    proc_pid(queued_children[i]->proc),
			    proc_started(queued_children[i]->proc));
	(void)ipc_conn_send(ch->conn, &out, -1);
}

static void
queued_verbose(int verbose)
{
	size_t	 i;

	log_setverbose(verbose);
	log_info("- queued log %s", verbose ? "verbose" : "brief");
	for (i = 0; i < QUEUED_NCHILDREN; i++) {
		if (queued_children[i]->conn == NULL)
			continue;
		ipc_out_init(&out, MSG_PARENT_LOG_VERBOSE, 0);
		ipc_put_u32(&out, (uint32_t)verbose);
		(void)ipc_conn_send(queued_children[i]->conn, &out, -1);
	}
}

/*
 * SIGHUP: what the manager checks for smtpd (message size, recipients),
 * which must follow a reload of smtpd, and the spool's minimum free
 * space.  The rest needs a restart.  A manager started later is given
 * env.conf, which holds the new values too.
 */
static void
queued_reload(void)
{
	char		 err[1024], vis[sizeof(err) * 4];
	struct config	*conf;

	if ((conf = config_load(config_path, err, sizeof(err))) == NULL) {
		log_warnx("- queued reload-failed error=\"%s\" config=kept",
		    log_vis(vis, sizeof(vis), err, strlen(err)));
		return;
	}
	env.conf->max_message_bytes = conf->max_message_bytes;
	env.conf->max_rcpts = conf->max_rcpts;
	env.conf->queue_min_free_bytes = conf->queue_min_free_bytes;
	config_free(conf);
	/* A manager or agent restarted later starts with the new values. */
	daemon_conf_publish(env.conf);
	if (manager.conn != NULL) {
		ipc_out_init(&out, MSG_PARENT_QUEUE_LIMITS, 0);
		ipc_put_u64(&out, env.conf->max_message_bytes);
		ipc_put_u32(&out, env.conf->max_rcpts);
		ipc_put_u64(&out, env.conf->queue_min_free_bytes);
		(void)ipc_conn_send(manager.conn, &out, -1);
	}
	log_info("- queued reloaded message-size=%llu recipients=%u "
	    "queue-min-free=%llu",
	    (unsigned long long)env.conf->max_message_bytes,
	    env.conf->max_rcpts,
	    (unsigned long long)env.conf->queue_min_free_bytes);
}

static void
queued_signal(evutil_socket_t sig, short ev, void *arg)
{
	(void)ev;
	(void)arg;
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		log_info("- queued exiting signal=%d", (int)sig);
		proc_stop_all(SIGTERM);
		proc_wait_all(QUEUED_STOP_WAIT_SECS);
		(void)unlink(queue_path);
		(void)unlink(control_path);
		(void)pidfile_remove(pfh);
		exit(0);
	case SIGHUP:
		queued_reload();
		break;
	case SIGUSR1:
	case SIGUSR2:
		queued_verbose(sig == SIGUSR1);
		break;
	}
}

static void
queued_signals(void)
{
	static const int	 sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1,
				    SIGUSR2 };
	struct event		*ev;
	size_t			 i;

	(void)signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		ev = evsignal_new(base, sigs[i], queued_signal, NULL);
		if (ev == NULL || evsignal_add(ev, NULL) == -1)
			fatalx("- queued evsignal");
	}
}

/*
 * A directory of the spool, checked through a descriptor so that no
 * symlink is followed: made when missing, its owner and mode fixed.
 */
static int
queued_spool_dir(int dirfd, const char *name, uid_t uid, gid_t gid)
{
	struct stat	 sb;
	int		 fd, created = 0;

	if (mkdirat(dirfd, name, 0700) == 0) {
		log_info("- queued created %s", name);
		created = 1;
	} else if (errno != EEXIST)
		fatal("- queued mkdir %s", name);
	if ((fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		fatal("- queued open %s", name);
	if (fstat(fd, &sb) == -1)
		fatal("- queued fstat %s", name);
	if (sb.st_uid != uid || sb.st_gid != gid) {
		if (fchown(fd, uid, gid) == -1)
			fatal("- queued chown %s", name);
		if (!created)
			log_warnx("- queued fixed owner of %s", name);
	}
	if ((sb.st_mode & 07777) != 0700) {
		if (fchmod(fd, 0700) == -1)
			fatal("- queued chmod %s", name);
		if (!created)
			log_warnx("- queued fixed mode of %s", name);
	}
	return fd;
}

/* The spool and its areas, owned by user queue, mode 0700. */
static void
queued_spool(const struct config *conf, uid_t uid, gid_t gid)
{
	size_t	 i;
	int	 root, fd;

	root = queued_spool_dir(AT_FDCWD, conf->spooldir, uid, gid);
	for (i = 0; i < sizeof(queued_areas) / sizeof(queued_areas[0]); i++) {
		fd = queued_spool_dir(root, queued_areas[i], uid, gid);
		(void)close(fd);
	}
	if (fsync(root) == -1)
		fatal("- queued fsync %s", conf->spooldir);
	(void)close(root);
}

static void
queued_rundir(const struct config *conf)
{
	struct stat	 sb;

	if (mkdir(conf->rundir, 0755) == 0)
		log_info("- queued created %s", conf->rundir);
	else if (errno != EEXIST)
		fatal("- queued mkdir %s", conf->rundir);
	if (lstat(conf->rundir, &sb) == -1 || !S_ISDIR(sb.st_mode))
		fatalx("- queued %s is not a directory", conf->rundir);
}

static void
queued_listen(const struct config *conf)
{
	config_runpath(conf, "queue.sock", queue_path, sizeof(queue_path));
	config_runpath(conf, "control.sock", control_path,
	    sizeof(control_path));
	/* Every legitimate client is root; the manager checks the uid. */
	if ((env.queue_sock = ipc_listen(queue_path, 0660)) == -1)
		fatal("- queued listen %s", queue_path);
	if ((env.control_sock = ipc_listen(control_path, 0600)) == -1)
		fatal("- queued listen %s", control_path);
}

/* Everything after the options: checks, spool, sockets, children. */
static void
queued_start(void)
{
	int	 fds[2];

	privsep_lookup(env.conf->user_queue, &env.uid, &env.gid);
	queued_rundir(env.conf);
	queued_spool(env.conf, env.uid, env.gid);
	pfh = daemon_pidfile(ctx);
	daemon_detach(ctx, pfh);
	queued_listen(env.conf);
	started = time(NULL);
	if ((base = event_base_new()) == NULL)
		fatalx("- queued event_base_new");
	proc_init(base, NULL, NULL);
	queued_signals();
	manager.proc = proc_new(base, manager.name, queued_started, &manager);
	fds[0] = env.queue_sock;
	fds[1] = env.control_sock;
	proc_set_fds(manager.proc, fds, 2);
	delivery.proc = proc_new(base, delivery.name, queued_started,
	    &delivery);
	relay.proc = proc_new(base, relay.name, queued_started, &relay);
	proc_start(manager.proc);
	proc_start(delivery.proc);
	proc_start(relay.proc);
	/* "relay mta-sts none": no helper, no policies. */
	if (env.conf->relay_sts) {
		relay_sts.proc = proc_new(base, relay_sts.name,
		    queued_started, &relay_sts);
		proc_start(relay_sts.proc);
	}
	log_info("- queued started pid=%ld", (long)getpid());
}

static void __attribute__((noreturn))
queued_parent(struct daemon_ctx *c)
{
	ctx = c;
	env.conf = c->conf;
	config_path = c->conf_file;
	queued_start();
	(void)event_base_dispatch(base);
	fatalx("- queued event loop ended");
}

/*
 * The role queue-manager (daemon.h): the channel to the parent, then
 * queue.sock and control.sock, bound by the parent.
 */
static void __attribute__((noreturn))
queued_manager_role(struct daemon_ctx *c)
{
	daemon_check_parent(c->fds[0]);
	daemon_check_listener(c->fds[1]);
	daemon_check_listener(c->fds[2]);
	env.conf = c->conf;
	privsep_lookup(env.conf->user_queue, &env.uid, &env.gid);
	env.queue_sock = c->fds[1];
	env.control_sock = c->fds[2];
	queue_manager_main(c->fds[0], &env);
	fatalx("- queue manager returned");
}

/* The role delivery (daemon.h): the channel to the parent. */
static void __attribute__((noreturn))
queued_delivery_role(struct daemon_ctx *c)
{
	daemon_check_parent(c->fds[0]);
	delivery_main(c->fds[0], c->conf);
	fatalx("- delivery agent returned");
}

/* The role relay (daemon.h): the channel to the parent. */
static void __attribute__((noreturn))
queued_relay_role(struct daemon_ctx *c)
{
	daemon_check_parent(c->fds[0]);
	relay_main(c->fds[0], c->conf);
}

/*
 * The role relay-sts (daemon.h): the channel to the parent.  Its CA
 * file is "relay mta-sts ca", else the system's bundle.
 */
static void __attribute__((noreturn))
queued_relay_sts_role(struct daemon_ctx *c)
{
	daemon_check_parent(c->fds[0]);
	relay_sts_proc_main(c->fds[0], c->conf, c->conf->relay_sts_ca[0] !=
	    '\0' ? c->conf->relay_sts_ca : NULL);
}

static const struct daemon_role queued_roles[] = {
	/* name		flags			fds: min, max	main */
	{ "queue-manager", DAEMON_R_CONF,	4, 4, queued_manager_role },
	{ "delivery",	DAEMON_R_CONF | DAEMON_R_SPAWNS, 2, 2,
	    queued_delivery_role },
	{ "relay",	DAEMON_R_CONF,		2, 2, queued_relay_role },
	{ "relay-sts",	DAEMON_R_CONF,		2, 2, queued_relay_sts_role },
	{ "mailbox-worker", 0,			2, 2,
	    delivery_fork_worker_main },
	{ NULL, 0, 0, 0, NULL },
};

static const struct daemon_def queued_def = {
	"queued", queued_parent, queued_roles
};

int
main(int argc, char *argv[])
{
	daemon_main(&queued_def, argc, argv);
}
