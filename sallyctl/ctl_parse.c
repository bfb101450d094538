/*
 * The command table of sallyctl and its parser.  Everything about a
 * command that can be checked before its handler runs is here: its
 * words, the argument it takes, whether it needs root, and its help
 * line.  Only ctl_help() writes anything; the rest is pure, for the
 * unit tests.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sallyctl.h"

#define R	CTL_F_ROOT
#define RJ	(CTL_F_ROOT | CTL_F_JSON)

static const struct ctl_cmd ctl_cmd_table[] = {
	/* words, argument, its name in help, flags, handler, help */
	{ { "show", "status" }, CTL_ARG_NONE, NULL, RJ, ctl_show_status,
	    "daemons and queued processes, with uptime" },
	{ { "show", "queue" }, CTL_ARG_FILTER,
	    "[from ADDR] [to ADDR] [domain D] [older-than AGE] [held]", RJ,
	    ctl_show_queue, "one line per envelope in the queue, or those "
	    "the filters take" },
	{ { "show", "envelope" }, CTL_ARG_MSG, "ID", RJ, ctl_show_envelope,
	    "every field of an envelope, or of each of a message's" },
	{ { "show", "message" }, CTL_ARG_MSG, "ID", R, ctl_show_message,
	    "the text of a queued message" },
	{ { "show", "stats" }, CTL_ARG_NONE, NULL, RJ, ctl_show_stats,
	    "queue manager counters, and the relay's when it runs" },
	{ { "show", "hosts" }, CTL_ARG_NONE, NULL, RJ, ctl_show_hosts,
	    "the relay's destinations: connections, backoff, last error" },
	{ { "schedule" }, CTL_ARG_ID, "ID|all", R, ctl_schedule,
	    "try a message, an envelope or every envelope now" },
	{ { "remove" }, CTL_ARG_ID, "ID|all", R, ctl_remove,
	    "remove a message, an envelope or every envelope" },
	{ { "pause", "envelope" }, CTL_ARG_ID, "ID|all", R,
	    ctl_queue_verb, "keep envelopes out of the schedule until "
	    "resumed (not over a restart)" },
	{ { "resume", "envelope" }, CTL_ARG_ID, "ID|all", R,
	    ctl_queue_verb, "let paused envelopes go again" },
	{ { "pause" }, CTL_ARG_ROLE, "smtp|delivery|relay", R, ctl_queue_verb,
	    "stop taking new mail, local deliveries or relaying" },
	{ { "resume" }, CTL_ARG_ROLE, "smtp|delivery|relay", R, ctl_queue_verb,
	    "take new mail, deliver or relay again" },
	{ { "hold" }, CTL_ARG_ID, "ID|all", R, ctl_queue_verb,
	    "keep envelopes aside until released, also over a restart" },
	{ { "release" }, CTL_ARG_ID, "ID|all", R, ctl_queue_verb,
	    "let held envelopes go again" },
	{ { "expire" }, CTL_ARG_ID, "ID|all", R, ctl_queue_verb,
	    "bounce envelopes now, as expired by the administrator" },
	{ { "requeue" }, CTL_ARG_ID, "ID|all", R, ctl_queue_verb,
	    "forget the retries and their backoff, and try now" },
	{ { "monitor" }, CTL_ARG_COUNT, "[-n COUNT]", R, ctl_monitor,
	    "the queue's counters every second, in columns" },
	{ { "encrypt" }, CTL_ARG_NONE, NULL, 0, ctl_encrypt,
	    "hash a password read from the terminal or stdin" },
	{ { "user", "add" }, CTL_ARG_USERADD,
	    "NAME [uid N] [gid N] [home DIR]", R, ctl_user_add,
	    "add a user to the users table, asking the password" },
	{ { "user", "passwd" }, CTL_ARG_USER, "NAME", R, ctl_user_passwd,
	    "change a user's password in the users table" },
	{ { "user", "del" }, CTL_ARG_USER, "NAME", R, ctl_user_del,
	    "remove a user from the users table" },
	{ { "log" }, CTL_ARG_LOGLEVEL, "verbose|brief", R, ctl_log,
	    "switch every daemon's logging to verbose or brief" },
	{ { "stop" }, CTL_ARG_NONE, NULL, R, ctl_stop,
	    "stop smtpd, pop3d, imapd, queued and authd, in that order" },
	{ { "reload" }, CTL_ARG_NONE, NULL, R, ctl_reload,
	    "make authd reload its tables, smtpd, pop3d and imapd their "
	    "configuration and certificates" },
	{ { "help" }, CTL_ARG_NONE, NULL, 0, ctl_help,
	    "this list" },
	{ { NULL }, CTL_ARG_NONE, NULL, 0, NULL, NULL },
};

#undef R
#undef RJ

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

/* [-n COUNT] of monitor. */
static int
ctl_parse_count(int argc, char *const argv[], struct ctl_args *a,
    const char **errstr)
{
	const char	*e;

	if (argc == 0)
		return 0;
	if (argc != 2 || strcmp(argv[0], "-n") != 0)
		return *errstr = "expected -n COUNT", -1;
	a->count = (uint32_t)strtonum(argv[1], 1, CTL_MONITOR_COUNT_MAX, &e);
	if (e != NULL)
		return *errstr = "bad count", -1;
	return 0;
}

/* NAME [uid N] [gid N] [home DIR] of user add. */
static int
ctl_parse_useradd(int argc, char *const argv[], struct ctl_args *a,
    const char **errstr)
{
	const char	*e;
	int		 i;

	for (i = 1; i < argc; i += 2) {
		if (i + 1 >= argc)
			return *errstr = "missing value", -1;
		if (strcmp(argv[i], "home") == 0) {
			if (argv[i + 1][0] != '/')
				return *errstr = "home not an absolute path",
				    -1;
			a->home = argv[i + 1];
			continue;
		}
		if (strcmp(argv[i], "uid") != 0 && strcmp(argv[i], "gid") != 0)
			return *errstr = "expected uid, gid or home", -1;
		/* authd refuses uid and gid 0 (doc/INTERNALS.md "Tables"). */
		*(argv[i][0] == 'u' ? &a->uid : &a->gid) =
		    (uint32_t)strtonum(argv[i + 1], 1, UINT32_MAX - 1, &e);
		if (e != NULL)
			return *errstr = "uid or gid not a number above 0", -1;
	}
	return 0;
}

/* The argument of a command that takes exactly one. */
static int
ctl_parse_one(const struct ctl_cmd *cmd, const char *arg,
    const char **errstr)
{
	switch (cmd->arg) {
	case CTL_ARG_ID:
		if (!ctl_id_valid(arg))
			return *errstr = "invalid message or envelope id", -1;
		break;
	case CTL_ARG_MSG:
		if (!ctl_msg_valid(arg))
			return *errstr = "invalid message or envelope id", -1;
		break;
	case CTL_ARG_LOGLEVEL:
		if (strcmp(arg, "verbose") != 0 && strcmp(arg, "brief") != 0)
			return *errstr = "log level must be verbose or brief",
			    -1;
		break;
	case CTL_ARG_ROLE:
		if (strcmp(arg, "smtp") != 0 && strcmp(arg, "delivery") != 0 &&
		    strcmp(arg, "relay") != 0)
			return *errstr = "expected smtp, delivery or relay",
			    -1;
		break;
	case CTL_ARG_USER:
	case CTL_ARG_USERADD:
		if (!ctl_user_name_valid(arg))
			return *errstr = "bad user name (letters, digits, "
			    "'.', '_', '-')", -1;
		break;
	default:
		break;
	}
	return 0;
}

static int
ctl_parse_arg(const struct ctl_cmd *cmd, int argc, char *const argv[],
    struct ctl_args *a, const char **errstr)
{
	if (cmd->arg == CTL_ARG_FILTER)
		return ctl_filter_parse(argc, argv, &a->filter, errstr);
	if (cmd->arg == CTL_ARG_COUNT)
		return ctl_parse_count(argc, argv, a, errstr);
	if (cmd->arg == CTL_ARG_NONE) {
		if (argc == 0)
			return 0;
		return *errstr = "too many arguments", -1;
	}
	if (argc == 0)
		return *errstr = "missing argument", -1;
	if (argc > 1 && cmd->arg != CTL_ARG_USERADD)
		return *errstr = "too many arguments", -1;
	if (ctl_parse_one(cmd, argv[0], errstr) == -1)
		return -1;
	a->arg = argv[0];
	if (cmd->arg == CTL_ARG_USERADD)
		return ctl_parse_useradd(argc, argv, a, errstr);
	return 0;
}

/*
 * The words after the command's, with -j taken out when the command
 * takes it (postqueue -j's place: after the verb, as well as before).
 */
static int
ctl_parse_json(const struct ctl_cmd *cmd, int argc, char *const argv[],
    char *rest[CTL_ARGV_MAX], struct ctl_args *a, const char **errstr)
{
	int	 i, n = 0;

	for (i = 0; i < argc; i++) {
		if ((cmd->flags & CTL_F_JSON) && strcmp(argv[i], "-j") == 0) {
			a->json = 1;
			continue;
		}
		if (n >= CTL_ARGV_MAX)
			return *errstr = "too many arguments", -1;
		rest[n++] = argv[i];
	}
	return n;
}

const struct ctl_cmd *
ctl_parse(int argc, char *const argv[], struct ctl_args *a,
    const char **errstr)
{
	const struct ctl_cmd	*cmd;
	char			*rest[CTL_ARGV_MAX];
	int			 n, json = a->json;

	memset(a, 0, sizeof(*a));
	a->json = json;
	a->filter.older_than = -1;
	*errstr = NULL;
	if (argc <= 0) {
		*errstr = "no command";
		return NULL;
	}
	for (cmd = ctl_cmd_table; cmd->words[0] != NULL; cmd++) {
		if ((n = ctl_parse_words(cmd, argc, argv)) == 0)
			continue;
		if ((n = ctl_parse_json(cmd, argc - n, argv + n, rest, a,
		    errstr)) == -1 ||
		    ctl_parse_arg(cmd, n, rest, a, errstr) == -1)
			return NULL;
		a->cmd = cmd;
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

/* Help lines are folded at this column, under the help's first. */
#define CTL_HELP_COLS		80
#define CTL_HELP_INDENT		31

/* Prints text from column col on, folded at word ends. */
static void
ctl_help_fold(const char *text, int col)
{
	const char	*p = text;
	int		 n;

	while (*p != '\0') {
		n = (int)strcspn(p, " ");
		if (col > CTL_HELP_INDENT && col + 1 + n > CTL_HELP_COLS) {
			printf("\n%*s", CTL_HELP_INDENT, "");
			col = CTL_HELP_INDENT;
		} else if (col > CTL_HELP_INDENT) {
			putchar(' ');
			col++;
		}
		printf("%.*s", n, p);
		col += n;
		p += n;
		p += strspn(p, " ");
	}
	putchar('\n');
}

int
ctl_help(struct ctl_env *env, const struct ctl_args *a)
{
	const struct ctl_cmd	*cmd;
	char			 usage[128];

	(void)env;
	(void)a;
	printf("usage: sallyctl [-j] [-f file] [-s socket] command "
	    "[argument ...]\n"
	    "commands (-j: one JSON object a line, for show):\n");
	for (cmd = ctl_cmd_table; cmd->words[0] != NULL; cmd++) {
		if (ctl_cmd_usage(cmd, usage, sizeof(usage)) == -1)
			return 1;
		if (strlen(usage) > CTL_HELP_INDENT - 3)
			printf("  %s\n%*s", usage, CTL_HELP_INDENT, "");
		else
			printf("  %-*s", CTL_HELP_INDENT - 2, usage);
		ctl_help_fold(cmd->help, CTL_HELP_INDENT);
	}
	return 0;
}
