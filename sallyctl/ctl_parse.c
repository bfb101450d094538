/*
 * The command table of sallyctl and its parser.  Everything about a
 * command that can be checked before its handler runs is here: its
 * words, the argument it takes, whether it needs root, and its help
 * line.  Only ctl_help() writes anything; the rest is pure, for the
 * unit tests.
 */
#include <stdio.h>
#include <string.h>

#include "sallyctl.h"

static const struct ctl_cmd ctl_cmd_table[] = {
	/* words, argument, its name in help, needs root, handler, help */
	{ { "show", "status" }, CTL_ARG_NONE, NULL, 1, ctl_show_status,
	    "daemons and queued processes, with uptime" },
	{ { "show", "queue" }, CTL_ARG_NONE, NULL, 1, ctl_show_queue,
	    "one line per envelope in the queue" },
	{ { "show", "stats" }, CTL_ARG_NONE, NULL, 1, ctl_show_stats,
	    "queue manager counters, and the relay's when it runs" },
	{ { "show", "hosts" }, CTL_ARG_NONE, NULL, 1, ctl_show_hosts,
	    "the relay's destinations: connections, backoff, last error" },
	{ { "schedule" }, CTL_ARG_ID, "ID|all", 1, ctl_schedule,
	    "try a message, an envelope or every envelope now" },
	{ { "remove" }, CTL_ARG_ID, "ID|all", 1, ctl_remove,
	    "remove a message, an envelope or every envelope" },
	{ { "log" }, CTL_ARG_LOGLEVEL, "verbose|brief", 1, ctl_log,
	    "switch every daemon's logging to verbose or brief" },
	{ { "stop" }, CTL_ARG_NONE, NULL, 1, ctl_stop,
	    "stop smtpd, pop3d, imapd, queued and authd, in that order" },
	{ { "reload" }, CTL_ARG_NONE, NULL, 1, ctl_reload,
	    "make authd reload its tables, smtpd, pop3d and imapd their "
	    "configuration and certificates" },
	{ { "help" }, CTL_ARG_NONE, NULL, 0, ctl_help,
	    "this list" },
	{ { NULL }, CTL_ARG_NONE, NULL, 0, NULL, NULL },
};

const struct ctl_cmd *
ctl_cmds(void)
{
	return ctl_cmd_table;
}

/* The number of words argv shares with the command, or 0. */
static int
ctl_parse_words(const struct ctl_cmd *cmd, int argc, char *const argv[])
{
	int	 i;

	for (i = 0; i < CTL_WORDS_MAX && cmd->words[i] != NULL; i++)
		if (i >= argc || strcmp(argv[i], cmd->words[i]) != 0)
			return 0;
	return i;
}

static int
ctl_parse_arg(const struct ctl_cmd *cmd, int argc, char *const argv[],
    const char **arg, const char **errstr)
{
	*arg = NULL;
	if (cmd->arg == CTL_ARG_NONE) {
		if (argc == 0)
			return 0;
		*errstr = "too many arguments";
		return -1;
	}
	if (argc == 0) {
		*errstr = "missing argument";
		return -1;
	}
	if (argc > 1) {
		*errstr = "too many arguments";
		return -1;
	}
	if (cmd->arg == CTL_ARG_ID && !ctl_id_valid(argv[0])) {
		*errstr = "invalid message or envelope id";
		return -1;
	}
	if (cmd->arg == CTL_ARG_LOGLEVEL && strcmp(argv[0], "verbose") != 0 &&
	    strcmp(argv[0], "brief") != 0) {
		*errstr = "log level must be verbose or brief";
		return -1;
	}
	*arg = argv[0];
	return 0;
}

const struct ctl_cmd *
ctl_parse(int argc, char *const argv[], const char **arg,
    const char **errstr)
{
	const struct ctl_cmd	*cmd;
	int			 n;

	*arg = NULL;
	*errstr = NULL;
	if (argc <= 0) {
		*errstr = "no command";
		return NULL;
	}
	for (cmd = ctl_cmd_table; cmd->words[0] != NULL; cmd++) {
		if ((n = ctl_parse_words(cmd, argc, argv)) == 0)
			continue;
		if (ctl_parse_arg(cmd, argc - n, argv + n, arg, errstr) == -1)
			return NULL;
		return cmd;
	}
	*errstr = "unknown command";
	return NULL;
}

int
ctl_cmd_usage(const struct ctl_cmd *cmd, char *dst, size_t dstlen)
{
	size_t	 i;

	if (dstlen == 0)
		return -1;
	dst[0] = '\0';
	for (i = 0; i < CTL_WORDS_MAX && cmd->words[i] != NULL; i++) {
		if (i > 0 && strlcat(dst, " ", dstlen) >= dstlen)
			return -1;
		if (strlcat(dst, cmd->words[i], dstlen) >= dstlen)
			return -1;
	}
	if (cmd->argname != NULL && (strlcat(dst, " ", dstlen) >= dstlen ||
	    strlcat(dst, cmd->argname, dstlen) >= dstlen))
		return -1;
	return 0;
}

int
ctl_help(struct ctl_env *env, const char *arg)
{
	const struct ctl_cmd	*cmd;
	char			 usage[128];

	(void)env;
	(void)arg;
	printf("usage: sallyctl [-f file] [-s socket] command [argument]\n"
	    "commands:\n");
	for (cmd = ctl_cmd_table; cmd->words[0] != NULL; cmd++) {
		if (ctl_cmd_usage(cmd, usage, sizeof(usage)) == -1)
			return 1;
		printf("  %-22s %s\n", usage, cmd->help);
	}
	return 0;
}
