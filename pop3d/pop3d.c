/*
 * pop3d, the privileged parent: root, no chroot, no seccomp (it forks
 * and connects).  It reads the configuration, binds the POP3 listeners,
 * forks the login engine (pop3_login.c) and restarts it when it dies,
 * connects to authd on the engine's behalf, and turns each login the
 * engine hands back into a mailbox process (pop3_handoff.c).  It never
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
#include "ipc.h"
#include "listen.h"
#include "log.h"
#include "pop3d.h"
#include "privsep.h"
#include "proc.h"
#include "proto.h"

static struct {
	struct config		*conf;
	struct event_base	*base;
	int			 listen_fds[CONFIG_LISTENERS_MAX];
	struct pop3_login_args	 login;
	struct proc		*engine;
	struct ipc_conn		*engine_conn;
	char			 authd_path[PATH_MAX];
	struct pidfh		*pfh;
} pd;

static struct ipc_out	 pd_out;

static void __attribute__((noreturn))
usage(void)
{
	(void)fprintf(stderr, "usage: pop3d [-dnv] [-f file]\n");
	exit(1);
}

static void
pop3d_listen_all(void)
{
	struct listener	*l;
	int		 n = 0;

	TAILQ_FOREACH(l, &pd.conf->listeners, entry) {
		if (l->proto == LISTEN_POP3S) {
			/* XXX implicit TLS is not written yet. */
			log_warnx("- pop3 listener-skipped proto=pop3s "
			    "addr=%s port=%u reason=tls-not-supported",
			    l->addr, l->port);
			continue;
		}
		if (l->proto != LISTEN_POP3)
			continue;
		pd.listen_fds[n++] = listen_open(l, "pop3");
		log_info("- pop3 listening addr=%s port=%u", l->addr, l->port);
	}
	if (n == 0)
		fatalx("- pop3 no-listener: the configuration has no "
		    "\"listen pop3\"");
	pd.login.listen_fds = pd.listen_fds;
	pd.login.nlisten = n;
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
	if (ic == pd.engine_conn)
		pd.engine_conn = NULL;
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
	(void)sig;
	(void)ev;
	(void)arg;
	/* Listeners, users and paths are all fixed at start. */
	log_info("- pop3 sighup ignored: restart pop3d to apply changes");
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

/* The run directory may not exist yet on a fresh boot: make it. */
static void
pop3d_pidfile(void)
{
	char	 path[PATH_MAX];
	pid_t	 other;

	if (mkdir(pd.conf->rundir, 0755) == -1 && errno != EEXIST)
		fatal("- pop3 mkdir %s", pd.conf->rundir);
	config_runpath(pd.conf, "pop3d.pid", path, sizeof(path));
	if ((pd.pfh = pidfile_open(path, 0644, &other)) == NULL) {
		if (errno == EEXIST)
			fatalx("- pop3 already-running pid=%ld", (long)other);
		fatal("- pop3 pidfile %s", path);
	}
}

static void
pop3d_setup(int debug)
{
	struct stat	 st;

	privsep_lookup(pd.conf->user_pop3, &pd.login.uid, &pd.login.gid);
	if (stat(pd.conf->emptydir, &st) == -1 || !S_ISDIR(st.st_mode))
		fatalx("- pop3 chroot-missing path=%s", pd.conf->emptydir);
	pd.login.chroot = pd.conf->emptydir;
	pd.login.per_client = pd.conf->max_sessions_per_client;
	pd.login.foreground = debug;
	config_runpath(pd.conf, "authd.sock", pd.authd_path,
	    sizeof(pd.authd_path));
	pop3d_pidfile();
	pop3d_listen_all();
	if (!debug && daemon(0, 0) == -1)
		fatal("- pop3 daemon");
	if (pidfile_write(pd.pfh) == -1)
		fatal("- pop3 pidfile_write");
}

/* Reads the options; fills *path and returns the flags. */
static void
pop3d_options(int argc, char *argv[], const char **path, int *debug,
    int *noaction, int *verbose)
{
	int	 ch;

	while ((ch = getopt(argc, argv, "df:nv")) != -1) {
		switch (ch) {
		case 'd':
			*debug = 1;
			break;
		case 'f':
			*path = optarg;
			break;
		case 'n':
			*noaction = 1;
			break;
		case 'v':
			*verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
}

int
main(int argc, char *argv[])
{
	const char	*path = CONFIG_DEFAULT_PATH;
	char		 err[512];
	int		 debug = 0, noaction = 0, verbose = 0;

	pop3d_options(argc, argv, &path, &debug, &noaction, &verbose);
	log_init("pop3d", 1);
	if ((pd.conf = config_load(path, err, sizeof(err))) == NULL) {
		(void)fprintf(stderr, "pop3d: %s\n", err);
		return 1;
	}
	if (noaction) {
		config_print(stdout, pd.conf);
		return 0;
	}
	if (geteuid() != 0)
		fatalx("- pop3 must run as root");
	log_init("pop3d", debug);
	log_setverbose(verbose);
	pop3d_setup(debug);
	if ((pd.base = event_base_new()) == NULL)
		fatalx("- pop3 event_base_new");
	pop3d_signals();
	proc_init(pd.base, pop3_handoff_reaped, NULL);
	pop3_handoff_init(pd.base, pd.authd_path, debug);
	pd.engine = proc_new(pd.base, "pop3d-login", pop3_login_main,
	    pop3d_engine_started, &pd.login);
	proc_start(pd.engine);
	log_info("- pop3 started");
	(void)event_base_dispatch(pd.base);
	fatalx("- pop3 event loop ended");
}
