/*
 * authd: the only sallyport process that holds credentials.  It checks
 * passwords, redeems login tokens, looks users up and resolves
 * recipients through the users and aliases tables, for the other
 * daemons over <rundir>/authd.sock (doc/INTERNALS.md, Sockets).
 *
 * One process.  It starts as root only to read the configuration,
 * go to the background, write its pidfile (authd_pidfile.c: no
 * writable descriptor of it is kept) and bind its socket, then becomes
 * the `user auth` user (_sallyauth) with no chroot: the design lets
 * authd use NSS.  The tables are read as that user, so that they must
 * be readable by it, and reread on SIGHUP.  seccomp: SANDBOX_AUTHD.
 */
#include <sys/types.h>

#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "authd.h"
#include "daemon.h"
#include "log.h"
#include "privsep.h"
#include "sandbox.h"

/*
 * The socket is open to all: authd checks every peer's uid (SO_PEERCRED)
 * before it reads a byte, which is the guard, and the daemon users can
 * then connect without sharing a group with root.
 */
#define AUTHD_SOCKET_MODE	0666

static struct {
	struct config	*conf;
	int		 pidfd;		/* read-only, holds the lock */
	char		 pidpath[PATH_MAX];
	char		 sockpath[PATH_MAX];
	/* The daemon users; root is added by authd_server_init(). */
	uid_t		 peers[AUTHD_PEER_UIDS_MAX - 1];
	size_t		 npeers;
} authd;

/*
 * The daemon users that may connect, besides root.  Missing ones are
 * skipped: a host without imapd need not have _sallyimap.
 */
static void
authd_peer_users(const struct config *conf)
{
	const char	*names[] = { conf->user_smtp, conf->user_queue,
			    conf->user_pop3, conf->user_imap,
			    conf->user_relay };
	struct passwd	*pw;
	size_t		 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]) &&
	    authd.npeers < sizeof(authd.peers) / sizeof(authd.peers[0]); i++) {
		if ((pw = getpwnam(names[i])) == NULL) {
			log_debug("- authd peer-user-missing user=%s",
			    names[i]);
			continue;
		}
		if (pw->pw_uid != 0)
			authd.peers[authd.npeers++] = pw->pw_uid;
	}
}

/* Reads the tables, or dies naming the file and the user. */
static void
authd_load(const struct config *conf, struct auth_tables *t, const char *as)
{
	char	 err[AUTHD_ERROR_MAX_BYTES];

	if (authd_table_load(conf, t, err, sizeof(err)) == -1)
		fatalx("- authd tables error=\"%s\" as=%s", err, as);
}

/* RFC 5321 4.5.1: postmaster must exist; its mail waits until it does. */
static void
authd_postmaster(const struct auth_tables *t)
{
	if (!authd_table_postmaster(t))
		log_warnx("- authd no-postmaster file=%s hint=\"mail to "
		    "postmaster waits in the queue until an alias or user "
		    "postmaster exists\"", authd.conf->aliases_file);
}

static void
authd_sighup(evutil_socket_t sig, short ev, void *arg)
{
	struct auth_tables	 t;
	char			 err[AUTHD_ERROR_MAX_BYTES];

	(void)sig;
	(void)ev;
	(void)arg;
	if (authd_table_load(authd.conf, &t, err, sizeof(err)) == -1) {
		log_warnx("- authd reload-failed error=\"%s\" tables=kept",
		    err);
		return;
	}
	log_info("- authd reloaded users=%zu aliases=%zu", t.users->count,
	    t.aliases->count);
	authd_postmaster(&t);
	authd_server_set_tables(&t);
}

static void
authd_sigterm(evutil_socket_t sig, short ev, void *arg)
{
	(void)ev;
	log_info("- authd exiting signal=%d", (int)sig);
	(void)event_base_loopbreak(arg);
}

/* sallyctl log verbose|brief: SIGUSR1 and SIGUSR2. */
static void
authd_sigusr(evutil_socket_t sig, short ev, void *arg)
{
	(void)ev;
	(void)arg;
	log_setverbose(sig == SIGUSR1);
	log_info("- authd log level=%s", sig == SIGUSR1 ? "verbose" : "brief");
}

/*
 * As root: the pidfile first, so that a second authd cannot take the
 * socket; its lock is kept through a read-only descriptor, and nothing
 * writable on it outlives the drop (authd_pidfile.c).
 */
static int
authd_bind(const struct config *conf)
{
	int	 fd;

	config_runpath(conf, "authd.pid", authd.pidpath,
	    sizeof(authd.pidpath));
	authd.pidfd = authd_pidfile_lock(authd.pidpath);
	config_runpath(conf, "authd.sock", authd.sockpath,
	    sizeof(authd.sockpath));
	if ((fd = ipc_listen(authd.sockpath, AUTHD_SOCKET_MODE)) == -1)
		fatal("- authd listen %s", authd.sockpath);
	return fd;
}

static struct event_base *
authd_events(void)
{
	static const struct {
		int		 sig;
		event_callback_fn cb;
	} sigs[] = {
		{ SIGTERM,	authd_sigterm },
		{ SIGINT,	authd_sigterm },
		{ SIGHUP,	authd_sighup },
		{ SIGUSR1,	authd_sigusr },
		{ SIGUSR2,	authd_sigusr },
	};
	struct event_base	*base;
	struct event		*ev;
	size_t			 i;

	if ((base = event_base_new()) == NULL)
		fatalx("- authd event_base_new");
	(void)signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if ((ev = evsignal_new(base, sigs[i].sig, sigs[i].cb,
		    base)) == NULL || evsignal_add(ev, NULL) == -1)
			fatalx("- authd signal %d", sigs[i].sig);
	return base;
}

static void
authd_run(const struct daemon_ctx *ctx)
{
	struct auth_tables	 t;
	struct event_base	*base;
	uid_t			 uid;
	gid_t			 gid;
	int			 fd;

	privsep_lookup(authd.conf->user_auth, &uid, &gid);
	authd_peer_users(authd.conf);
	authd_load(authd.conf, &t, "root");
	authd_table_free(&t);
	/* The parent waits, so that every start-up error reaches the tty. */
	if (!ctx->foreground)
		authd_detach_start();
	fd = authd_bind(authd.conf);
	privsep_drop(uid, gid, NULL);
	authd_load(authd.conf, &t, authd.conf->user_auth);
	authd_postmaster(&t);
	base = authd_events();
	authd_server_init(base, authd.conf, fd, authd.peers, authd.npeers,
	    &t);
	if (!ctx->foreground)
		authd_detach_done();
	if (!ctx->debug)
		log_init("authd", 0);
	sandbox_init(SANDBOX_AUTHD);
	log_info("- authd started user=%s socket=%s users=%zu aliases=%zu",
	    authd.conf->user_auth, authd.sockpath,
	    authd_server_users()->count,
	    authd_server_resolver()->aliases->count);
	if (event_base_dispatch(base) == -1)
		fatalx("- authd event loop");
	authd_server_shutdown();
	/*
	 * Both fail when <rundir> is not ours; the next start copes: the
	 * pidfile's lock goes with us, which is what tells it apart.
	 */
	(void)unlink(authd.pidpath);
	(void)close(authd.pidfd);
	(void)unlink(authd.sockpath);
}

static void __attribute__((noreturn))
authd_parent(struct daemon_ctx *ctx)
{
	authd.conf = ctx->conf;
	authd_run(ctx);
	config_free(authd.conf);
	exit(0);
}

/* One process: no role to exec. */
static const struct daemon_def authd_def = { "authd", authd_parent, NULL };

int
main(int argc, char *argv[])
{
	daemon_main(&authd_def, argc, argv);
}
