/*
 * main() of every sallyport program (daemon.h): the options, the
 * configuration, and the choice between the privileged parent and one
 * of the roles it execs.  A role is refused unless it runs as root with
 * the descriptors it takes: the binary is not setuid, so a user who
 * starts it with -R runs it as himself and gets nothing.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <libutil.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "daemon_int.h"
#include "log.h"
#include "sp_limits.h"

static void __attribute__((noreturn))
daemon_usage(const char *prog)
{
	(void)fprintf(stderr, "usage: %s [-dFnv] [-f file]\n", prog);
	exit(1);
}

static const struct daemon_role *
daemon_role_find(const struct daemon_def *def, const char *name)
{
	const struct daemon_role	*r;

	for (r = def->roles; r != NULL && r->name != NULL; r++)
		if (strcmp(r->name, name) == 0)
			return r;
	return NULL;
}

/* The descriptors from DAEMON_FD_FIRST up that are open; -1: too many. */
static int
daemon_count_fds(void)
{
	int	 n = 0;

	while (fcntl(DAEMON_FD_FIRST + n, F_GETFD) != -1)
		if (++n > DAEMON_FDS_MAX)
			return -1;
	return n;
}

/* The parent's configuration, from the sealed file it passed. */
static struct config *
daemon_role_conf(const char *role, int fd)
{
	struct config	*conf;
	char		 err[1024];
	char		*text;
	size_t		 len;

	if ((text = daemon_blob_read(fd, CONFIG_FILE_MAX_BYTES, &len)) ==
	    NULL)
		fatalx("- %s start-refused reason=bad-config-descriptor", role);
	conf = config_parse("parent", text, len, err, sizeof(err));
	free(text);
	if (conf == NULL)
		fatalx("- %s start-refused reason=config error=\"%s\"", role,
		    err);
	(void)close(fd);
	return conf;
}

static void __attribute__((noreturn))
daemon_role_start(const struct daemon_def *def, const char *name,
    struct daemon_ctx *ctx)
{
	const struct daemon_role	*r;
	int				 n, i, skip = 0;

	if ((r = daemon_role_find(def, name)) == NULL)
		errx(1, "unknown role %s", name);
	/*
	 * Counted before syslog's socket (without -d) takes the first free
	 * descriptor, which is the one after the role's.
	 */
	n = daemon_count_fds();
	log_init(r->name, ctx->debug);
	if (getuid() != 0 || geteuid() != 0)
		fatalx("- %s start-refused reason=not-root: only its parent "
		    "starts it", r->name);
	if (n < r->nfds_min || n > r->nfds_max)
		fatalx("- %s start-refused reason=descriptors count=%d",
		    r->name, n);
	if (r->flags & DAEMON_R_CONF) {
		ctx->conf = daemon_role_conf(r->name, DAEMON_FD_FIRST);
		skip = 1;
	}
	for (i = skip; i < n; i++)
		ctx->fds[ctx->nfds++] = DAEMON_FD_FIRST + i;
	if (r->flags & DAEMON_R_SPAWNS)
		daemon_exe_open(ctx->prog, ctx->debug);
	r->main(ctx);
	fatalx("- %s role returned", r->name);
}

static struct config *
daemon_load(const char *prog, const char *file, int check)
{
	struct config	*conf;
	char		 err[1024];

	if ((conf = config_load(file, err, sizeof(err))) == NULL) {
		if (check)
			errx(1, "%s", err);
		fatalx("- %s %s", prog, err);
	}
	if (check) {
		config_print(stdout, conf);
		exit(fflush(stdout) == 0 ? 0 : 1);
	}
	return conf;
}

static void __attribute__((noreturn))
daemon_parent_start(const struct daemon_def *def, const char *file,
    int check, struct daemon_ctx *ctx)
{
	char	*abs;

	/*
	 * Started from a terminal, the errors of the start go there until
	 * daemon(3); under -F, where a supervisor has no terminal to show,
	 * every line goes to syslog.
	 */
	log_init(def->prog, ctx->debug || !ctx->foreground);
	ctx->conf = daemon_load(def->prog, file, check);
	/* daemon(3) leaves the directory: a reload needs the full path. */
	if ((abs = realpath(file, NULL)) == NULL)
		fatal("- %s %s", def->prog, file);
	ctx->conf_file = abs;
	if (getuid() != 0 || geteuid() != 0)
		fatalx("- %s must be started as root", def->prog);
	if (def->roles != NULL && def->roles->name != NULL) {
		daemon_exe_open(def->prog, ctx->debug);
		daemon_conf_publish(ctx->conf);
	}
	def->parent(ctx);
	fatalx("- %s parent returned", def->prog);
}

int
daemon_main(const struct daemon_def *def, int argc, char *argv[])
{
	static struct daemon_ctx	 ctx;
	const char			*file = CONFIG_DEFAULT_PATH;
	const char			*role = NULL;
	int				 ch, check = 0;

	ctx.prog = def->prog;
	while ((ch = getopt(argc, argv, "dFf:nR:v")) != -1) {
		switch (ch) {
		case 'd':
			ctx.debug = ctx.foreground = 1;
			break;
		case 'F':
			ctx.foreground = 1;
			break;
		case 'f':
			file = optarg;
			break;
		case 'n':
			check = 1;
			break;
		case 'R':
			role = optarg;
			break;
		case 'v':
			log_setverbose(1);
			break;
		default:
			daemon_usage(def->prog);
		}
	}
	if (optind != argc)
		daemon_usage(def->prog);
	if (role != NULL)
		daemon_role_start(def, role, &ctx);
	if (def->parent == NULL)
		errx(1, "started by its daemon only, with -R role");
	daemon_parent_start(def, file, check, &ctx);
}

struct pidfh *
daemon_pidfile(const struct daemon_ctx *ctx)
{
	struct pidfh	*pfh;
	char		 name[64], path[PATH_MAX];
	pid_t		 other;

	if (mkdir(ctx->conf->rundir, 0755) == 0)
		log_info("- %s created %s", ctx->prog, ctx->conf->rundir);
	else if (errno != EEXIST)
		fatal("- %s mkdir %s", ctx->prog, ctx->conf->rundir);
	(void)snprintf(name, sizeof(name), "%s.pid", ctx->prog);
	config_runpath(ctx->conf, name, path, sizeof(path));
	if ((pfh = pidfile_open(path, 0644, &other)) == NULL) {
		if (errno == EEXIST)
			fatalx("- %s already-running pid=%ld", ctx->prog,
			    (long)other);
		fatal("- %s pidfile %s", ctx->prog, path);
	}
	return pfh;
}

/*
 * -F (under a supervisor such as systemd) stays in the foreground as
 * -d does, but logs to syslog as a detached daemon: the production
 * log, facility mail, which journald keeps with its priority.
 */
void
daemon_detach(const struct daemon_ctx *ctx, struct pidfh *pfh)
{
	if (!ctx->foreground && daemon(0, 0) == -1)
		fatal("- %s daemon", ctx->prog);
	if (!ctx->debug)
		log_init(ctx->prog, 0);
	if (pidfile_write(pfh) == -1)
		fatal("- %s pidfile write", ctx->prog);
}
