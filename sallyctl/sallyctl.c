/*
 * sallyctl: the control tool of sallyport.  Runs as root (the
 * administrator), no chroot, no seccomp: it is short-lived, parses only
 * its own command line, and reads the queue manager's replies as
 * untrusted input.  See sallyctl(8).
 */
#include <sys/types.h>

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "sallyctl.h"
#include "sendmail.h"

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: sallyctl [-j] [-f file] [-s socket] command "
	    "[argument ...]\n       sallyctl help\n");
	exit(1);
}

/* Reports a command line that does not parse, and exits. */
static void __attribute__((noreturn))
sallyctl_badcmd(int argc, char *argv[], const char *errstr)
{
	char	 line[256];
	int	 i;

	line[0] = '\0';
	for (i = 0; i < argc; i++) {
		if ((i > 0 &&
		    strlcat(line, " ", sizeof(line)) >= sizeof(line)) ||
		    strlcat(line, argv[i], sizeof(line)) >= sizeof(line)) {
			(void)strlcpy(line + sizeof(line) - 4, "...", 4);
			break;
		}
	}
	errx(1, "%s: %s (see sallyctl help)", errstr, line);
}

/* Loads the configuration and finds control.sock. */
static struct config *
sallyctl_setup(struct ctl_env *env, const char *path, const char *sock)
{
	struct config	*conf;
	char		 err[512];

	if ((conf = config_load(path, err, sizeof(err))) == NULL)
		errx(1, "%s", err);
	env->conf = conf;
	if (sock == NULL)
		config_runpath(conf, "control.sock", env->sock,
		    sizeof(env->sock));
	else if (strlcpy(env->sock, sock, sizeof(env->sock)) >=
	    sizeof(env->sock))
		errx(1, "%s: socket path too long", sock);
	return conf;
}

int
main(int argc, char *argv[])
{
	struct ctl_env		 env;
	struct ctl_args		 args;
	struct config		*conf = NULL;
	const struct ctl_cmd	*cmd;
	const char		*conffile = CONFIG_DEFAULT_PATH;
	const char		*sock = NULL, *errstr;
	int			 ch, status;

	/* The same binary is sendmail(8), mailq(1) and newaliases(1). */
	if (sendmail_name(argv[0]) != NULL)
		return sendmail_main(argc, argv);
	log_init("sallyctl", 1);
	memset(&args, 0, sizeof(args));
	/* "+": options end at the command (monitor -n is the command's). */
	while ((ch = getopt(argc, argv, "+f:js:")) != -1) {
		switch (ch) {
		case 'f':
			conffile = optarg;
			break;
		case 'j':
			args.json = 1;
			break;
		case 's':
			sock = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		usage();
	if ((cmd = ctl_parse(argc, argv, &args, &errstr)) == NULL)
		sallyctl_badcmd(argc, argv, errstr);
	if (args.json && !(cmd->flags & CTL_F_JSON))
		errx(1, "-j: this command has no JSON output (see sallyctl "
		    "help)");
	memset(&env, 0, sizeof(env));
	if (cmd->flags & CTL_F_ROOT) {
		if (geteuid() != 0)
			errx(1, "need root privileges: run sallyctl as root");
		conf = sallyctl_setup(&env, conffile, sock);
	}
	status = cmd->handler(&env, &args);
	if (conf != NULL)
		config_free(conf);
	return status;
}
