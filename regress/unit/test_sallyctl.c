/*
 * sallyctl's pure parts: the command table and its parser, the age
 * formatter, the pidfile, /proc/<pid>/stat, /proc/uptime and id parsers,
 * and the decoders of the queue manager's replies.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "ipc.h"
#include "proto.h"
#include "../../sallyctl/sallyctl.h"

/*
 * Criterion may run each case in a freshly executed copy of this binary,
 * where pointers into the parent's data mean nothing: the tables hold
 * arrays, never pointers.
 */
#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))
#define ARGV_MAX	6
#define WORD_MAX	48
#define ERR_MAX		48

/* The command table */

struct parse_case {
	int		 argc;
	char		 argv[ARGV_MAX][WORD_MAX];
	char		 cmd[WORD_MAX];	/* words matched, or "" */
	char		 arg[WORD_MAX];	/* argument, or "" */
	char		 err[ERR_MAX];	/* errstr when cmd is "" */
};

ParameterizedTestParameters(sallyctl, parse)
{
	static struct parse_case cases[] = {
		{ 2, { "show", "status" }, "show status", "", "" },
		{ 2, { "show", "queue" }, "show queue", "", "" },
		{ 2, { "show", "stats" }, "show stats", "", "" },
		{ 2, { "schedule", "all" }, "schedule", "all", "" },
		{ 2, { "schedule", "0123456789abcdef" }, "schedule",
		    "0123456789abcdef", "" },
		{ 2, { "schedule", "0123456789abcdef.12" }, "schedule",
		    "0123456789abcdef.12", "" },
		{ 2, { "remove", "all" }, "remove", "all", "" },
		{ 2, { "remove", "fedcba9876543210.0" }, "remove",
		    "fedcba9876543210.0", "" },
		{ 2, { "log", "verbose" }, "log", "verbose", "" },
		{ 2, { "log", "brief" }, "log", "brief", "" },
		{ 1, { "stop" }, "stop", "", "" },
		{ 1, { "reload" }, "reload", "", "" },
		{ 1, { "help" }, "help", "", "" },

		{ 0, { "" }, "", "", "no command" },
		{ 1, { "show" }, "", "", "unknown command" },
		{ 2, { "show", "foo" }, "", "", "unknown command" },
		{ 2, { "SHOW", "status" }, "", "", "unknown command" },
		{ 1, { "status" }, "", "", "unknown command" },
		{ 1, { "showstatus" }, "", "", "unknown command" },
		{ 1, { "" }, "", "", "unknown command" },
		{ 3, { "show", "status", "now" }, "", "",
		    "too many arguments" },
		{ 2, { "stop", "now" }, "", "", "too many arguments" },
		{ 2, { "help", "me" }, "", "", "too many arguments" },
		{ 1, { "schedule" }, "", "", "missing argument" },
		{ 3, { "schedule", "all", "now" }, "", "",
		    "too many arguments" },
		{ 2, { "remove", "ALL" }, "", "",
		    "invalid message or envelope id" },
		{ 2, { "remove", "0123456789ABCDEF" }, "", "",
		    "invalid message or envelope id" },
		{ 2, { "remove", "0123456789abcde" }, "", "",
		    "invalid message or envelope id" },
		{ 2, { "remove", "0123456789abcdef0" }, "", "",
		    "invalid message or envelope id" },
		{ 2, { "remove", "0123456789abcdef." }, "", "",
		    "invalid message or envelope id" },
		{ 2, { "remove", "0123456789abcdef.x" }, "", "",
		    "invalid message or envelope id" },
		{ 2, { "remove", "0123456789abcdef.-1" }, "", "",
		    "invalid message or envelope id" },
		{ 2, { "remove", "0123456789abcdef.1.2" }, "", "",
		    "invalid message or envelope id" },
		{ 2, { "remove", ".1" }, "", "",
		    "invalid message or envelope id" },
		{ 2, { "remove", "../../etc/passwd" }, "", "",
		    "invalid message or envelope id" },
		{ 2, { "remove", "" }, "", "",
		    "invalid message or envelope id" },
		{ 1, { "log" }, "", "", "missing argument" },
		{ 2, { "log", "loud" }, "", "",
		    "log level must be verbose or brief" },
		{ 3, { "log", "verbose", "now" }, "", "",
		    "too many arguments" },

		/* issue 12 */
		{ 3, { "show", "envelope", "0123456789abcdef.1" },
		    "show envelope", "0123456789abcdef.1", "" },
		{ 3, { "show", "envelope", "all" }, "", "",
		    "invalid message or envelope id" },
		{ 3, { "show", "message", "0123456789abcdef" },
		    "show message", "0123456789abcdef", "" },
		{ 4, { "show", "message", "0123456789abcdef", "-j" }, "", "",
		    "too many arguments" },
		{ 4, { "show", "envelope", "-j", "0123456789abcdef" },
		    "show envelope", "0123456789abcdef", "" },
		{ 3, { "show", "queue", "held" }, "show queue", "", "" },
		{ 3, { "show", "queue", "-j" }, "show queue", "", "" },
		{ 3, { "show", "queue", "from" }, "", "",
		    "unknown filter or missing value" },
		{ 2, { "pause", "smtp" }, "pause", "smtp", "" },
		{ 2, { "pause", "delivery" }, "pause", "delivery", "" },
		{ 2, { "resume", "relay" }, "resume", "relay", "" },
		{ 2, { "pause", "all" }, "", "",
		    "expected smtp, delivery or relay" },
		{ 1, { "pause" }, "", "", "missing argument" },
		{ 3, { "pause", "envelope", "all" }, "pause envelope", "all",
		    "" },
		{ 3, { "resume", "envelope", "0123456789abcdef" },
		    "resume envelope", "0123456789abcdef", "" },
		{ 3, { "pause", "envelope", "smtp" }, "", "",
		    "invalid message or envelope id" },
		{ 2, { "hold", "all" }, "hold", "all", "" },
		{ 2, { "release", "0123456789abcdef.3" }, "release",
		    "0123456789abcdef.3", "" },
		{ 2, { "expire", "0123456789abcdef" }, "expire",
		    "0123456789abcdef", "" },
		{ 2, { "requeue", "all" }, "requeue", "all", "" },
		{ 2, { "hold", "-j" }, "", "",
		    "invalid message or envelope id" },
		{ 1, { "monitor" }, "monitor", "", "" },
		{ 3, { "monitor", "-n", "2" }, "monitor", "", "" },
		{ 3, { "monitor", "-n", "0" }, "", "", "bad count" },
		{ 3, { "monitor", "-n", "x" }, "", "", "bad count" },
		{ 2, { "monitor", "-n" }, "", "", "expected -n COUNT" },
		{ 1, { "encrypt" }, "encrypt", "", "" },
		{ 2, { "encrypt", "secret" }, "", "", "too many arguments" },
		{ 3, { "user", "add", "carol" }, "user add", "carol", "" },
		{ 5, { "user", "add", "carol", "uid", "1001" }, "user add",
		    "carol", "" },
		{ 4, { "user", "add", "carol", "uid" }, "", "",
		    "missing value" },
		{ 5, { "user", "add", "carol", "uid", "0" }, "", "",
		    "uid or gid not a number above 0" },
		{ 5, { "user", "add", "carol", "home", "rel" }, "", "",
		    "home not an absolute path" },
		{ 5, { "user", "add", "carol", "shell", "/bin/sh" }, "", "",
		    "expected uid, gid or home" },
		{ 3, { "user", "add", "car:ol" }, "", "",
		    "bad user name (letters, digits, '.', '_', '-')" },
		{ 3, { "user", "passwd", "bob" }, "user passwd", "bob", "" },
		{ 4, { "user", "del", "bob", "uid" }, "", "",
		    "too many arguments" },
		{ 2, { "user", "bob" }, "", "", "unknown command" },
	};

	return cr_make_param_array(struct parse_case, cases, NITEMS(cases));
}

ParameterizedTest(struct parse_case *c, sallyctl, parse)
{
	const struct ctl_cmd	*cmd;
	struct ctl_args		 a;
	const char		*arg, *err = "unset";
	char			*argv[ARGV_MAX + 1];
	char			 words[64];
	int			 argc, i;

	for (argc = 0; argc < c->argc; argc++)
		argv[argc] = c->argv[argc];
	argv[argc] = NULL;
	memset(&a, 0, sizeof(a));
	cmd = ctl_parse(argc, argv, &a, &err);
	arg = a.arg;
	if (c->cmd[0] == '\0') {
		cr_assert_null(cmd, "argv[0]=%s", argc ? argv[0] : "");
		cr_assert_str_eq(err, c->err);
		return;
	}
	cr_assert_not_null(cmd, "argv[0]=%s: %s", argv[0], err);
	cr_assert_null(err);
	words[0] = '\0';
	for (i = 0; i < CTL_WORDS_MAX && cmd->words[i] != NULL; i++) {
		if (i > 0)
			strlcat(words, " ", sizeof(words));
		strlcat(words, cmd->words[i], sizeof(words));
	}
	cr_assert_str_eq(words, c->cmd);
	if (c->arg[0] == '\0')
		cr_assert_null(arg);
	else
		cr_assert_str_eq(arg, c->arg);
	cr_assert_not_null(cmd->handler);
}

Test(sallyctl, table_is_complete)
{
	const struct ctl_cmd	*cmd;
	char			 usage[128];
	int			 n = 0;

	for (cmd = ctl_cmds(); cmd->words[0] != NULL; cmd++, n++) {
		cr_assert_not_null(cmd->handler, "%s", cmd->words[0]);
		cr_assert_not_null(cmd->help, "%s", cmd->words[0]);
		cr_assert_eq(cmd->arg != CTL_ARG_NONE, cmd->argname != NULL,
		    "%s", cmd->words[0]);
		/* -j only on show, and every show but message takes it. */
		cr_assert_eq((cmd->flags & CTL_F_JSON) != 0,
		    strcmp(cmd->words[0], "show") == 0 &&
		    strcmp(cmd->words[1], "message") != 0, "%s %s",
		    cmd->words[0], cmd->words[1] ? cmd->words[1] : "");
		cr_assert_eq(ctl_cmd_usage(cmd, usage, sizeof(usage)), 0);
		/* Every entry is reachable: the parser finds it again. */
		if (cmd->arg == CTL_ARG_NONE || cmd->arg == CTL_ARG_FILTER ||
		    cmd->arg == CTL_ARG_COUNT) {
			struct ctl_args	 a;
			const char	*err;
			char		*argv[CTL_WORDS_MAX];
			int		 i;

			memset(&a, 0, sizeof(a));
			for (i = 0; i < CTL_WORDS_MAX && cmd->words[i]; i++)
				argv[i] = (char *)(uintptr_t)cmd->words[i];
			cr_assert_eq(ctl_parse(i, argv, &a, &err), cmd);
		}
	}
	cr_assert_eq(n, 25);
}

Test(sallyctl, usage_line)
{
	const struct ctl_cmd	*cmd;
	char			 usage[128], small[8];

	for (cmd = ctl_cmds(); cmd->words[0] != NULL; cmd++)
		if (strcmp(cmd->words[0], "schedule") == 0)
			break;
	cr_assert_not_null(cmd->words[0]);
	cr_assert_eq(ctl_cmd_usage(cmd, usage, sizeof(usage)), 0);
	cr_assert_str_eq(usage, "schedule ID|all");
	cr_assert_eq(ctl_cmd_usage(cmd, small, sizeof(small)), -1);
	cr_assert_eq(ctl_cmd_usage(cmd, small, 0), -1);
}

/* Ages */

struct age_case {
	int64_t		 secs;
	char		 want[WORD_MAX];
};

ParameterizedTestParameters(sallyctl, age)
{
	static struct age_case cases[] = {
		{ INT64_MIN, "0s" },
		{ -5, "0s" },
		{ 0, "0s" },
		{ 1, "1s" },
		{ 59, "59s" },
		{ 60, "1m" },
		{ 119, "1m" },
		{ 300, "5m" },
		{ 3599, "59m" },
		{ 3600, "1h" },
		{ 3 * 3600 + 59 * 60, "3h" },
		{ 86399, "23h" },
		{ 86400, "1d" },
		{ 2 * 86400 + 3600, "2d" },
		{ 4 * 86400, "4d" },
		{ INT64_MAX, "106751991167300d" },
	};

	return cr_make_param_array(struct age_case, cases, NITEMS(cases));
}

ParameterizedTest(struct age_case *c, sallyctl, age)
{
	char	 buf[32];

	cr_assert_eq(ctl_age_format(c->secs, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, c->want);
}

Test(sallyctl, age_truncated)
{
	char	 buf[3];

	cr_assert_eq(ctl_age_format(59, buf, sizeof(buf)), -1);
	cr_assert_eq(ctl_age_format(5, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "5s");
	cr_assert_eq(ctl_age_format(5, buf, 0), -1);
}

Test(sallyctl, elapsed)
{
	cr_assert_eq(ctl_elapsed(100, 160), 60);
	cr_assert_eq(ctl_elapsed(160, 100), 0);
	cr_assert_eq(ctl_elapsed(100, 100), 0);
	cr_assert_eq(ctl_elapsed(0, UINT64_MAX), INT64_MAX);
	cr_assert_eq(ctl_elapsed(UINT64_MAX, 0), 0);
	cr_assert_eq(ctl_elapsed(1ULL << 63, 1700000000), 0);
	cr_assert_eq(ctl_elapsed(0, (uint64_t)INT64_MAX), INT64_MAX);
}

/* Pidfiles */

struct pidfile_case {
	char		 buf[WORD_MAX];
	size_t		 len;
	pid_t		 pid;		/* 0 when it must fail */
	char		 err[ERR_MAX];
};

#define S(s)	s, sizeof(s) - 1

ParameterizedTestParameters(sallyctl, pidfile)
{
	static struct pidfile_case cases[] = {
		{ S("1234\n"), 1234, "" },
		{ S("1234"), 1234, "" },
		{ S("2\n"), 2, "" },
		{ S("4194304\n"), 4194304, "" },
		{ S("007\n"), 7, "" },
		{ S(""), 0, "empty" },
		{ S("\n"), 0, "not a number" },
		{ S("garbage\n"), 0, "not a number" },
		{ S("12ab"), 0, "not a number" },
		{ S("-5\n"), 0, "not a number" },
		{ S("+5\n"), 0, "not a number" },
		{ S(" 12\n"), 0, "not a number" },
		{ S("12 \n"), 0, "not a number" },
		{ S("12\n\n"), 0, "not a number" },
		{ S("12\r\n"), 0, "not a number" },
		{ S("12\0"), 0, "not a number" },
		{ S("0\n"), 0, "too small" },
		{ S("1\n"), 0, "too small" },
		{ S("4194305\n"), 0, "too large" },
		{ S("2147483648\n"), 0, "too large" },
		{ S("99999999999999999999999\n"), 0, "too large" },
		{ S("123456789012345678901234567890123"), 0, "too long" },
	};

	return cr_make_param_array(struct pidfile_case, cases, NITEMS(cases));
}

ParameterizedTest(struct pidfile_case *c, sallyctl, pidfile)
{
	const char	*err = NULL;
	pid_t		 pid = -1;
	int		 r;

	r = ctl_pidfile_parse(c->buf, c->len, &pid, &err);
	if (c->pid == 0) {
		cr_assert_eq(r, -1);
		cr_assert_str_eq(err, c->err);
		cr_assert_eq(pid, -1, "pid written on failure");
	} else {
		cr_assert_eq(r, 0, "%s", err);
		cr_assert_eq(pid, c->pid);
	}
}

/* The buffer need not be NUL-terminated: nothing past len is read. */
Test(sallyctl, pidfile_unterminated)
{
	char		 buf[4] = { '4', '2', '7', '7' };
	const char	*err = NULL;
	pid_t		 pid;

	cr_assert_eq(ctl_pidfile_parse(buf, 2, &pid, &err), 0);
	cr_assert_eq(pid, 42);
}

/* /proc/<pid>/stat */

struct procstat_case {
	char		 line[256];
	int		 ok;
	char		 comm[WORD_MAX];
	char		 state;
	uint64_t	 starttime;
};

#define STAT_TAIL \
	" 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 " \
	"98765 12345678 200 18446744073709551615 1 1 0 0 0 0 " \
	"0 4096 0 0 0 0 17 3 0 0 0 0 0\n"

ParameterizedTestParameters(sallyctl, procstat)
{
	static struct procstat_case cases[] = {
		{ "1234 (authd) S" STAT_TAIL, 1, "authd", 'S', 98765 },
		{ "1234 (queued) Z" STAT_TAIL, 1, "queued", 'Z', 98765 },
		{ "1234 (a) b)) R" STAT_TAIL, 1, "a) b)", 'R', 98765 },
		{ "1234 (x (y) S" STAT_TAIL, 1, "x (y", 'S', 98765 },
		{ "1234 () S" STAT_TAIL, 1, "", 'S', 98765 },
		{ "1 (t) S 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 42", 1, "t", 'S',
		    42 },
		{ "1 (t) S 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 42\n", 1, "t",
		    'S', 42 },
		{ "1 (t) S 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0", 0, "", 0, 0 },
		{ "1 (t) S 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 ", 0, "", 0, 0 },
		{ "1 (t) S 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 -42", 0, "", 0,
		    0 },
		{ "1 (t) S 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 4x", 0, "", 0,
		    0 },
		{ "1 (t) S 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
		    "99999999999999999999", 0, "", 0, 0 },
		{ "1 (seventeen-chars-x) S" STAT_TAIL, 0, "", 0, 0 },
		{ "1234 authd S" STAT_TAIL, 0, "", 0, 0 },
		{ "1234 (authd S" STAT_TAIL, 0, "", 0, 0 },
		{ "1234 authd) S" STAT_TAIL, 0, "", 0, 0 },
		{ "1234 (authd)S" STAT_TAIL, 0, "", 0, 0 },
		{ "1234 (authd) ", 0, "", 0, 0 },
		{ "1234 (authd)", 0, "", 0, 0 },
		{ "", 0, "", 0, 0 },
	};

	return cr_make_param_array(struct procstat_case, cases,
	    NITEMS(cases));
}

ParameterizedTest(struct procstat_case *c, sallyctl, procstat)
{
	struct ctl_procstat	 ps;
	int			 r;

	memset(&ps, 0, sizeof(ps));
	r = ctl_procstat_parse(c->line, strlen(c->line), &ps);
	if (!c->ok) {
		cr_assert_eq(r, -1, "%s", c->line);
		return;
	}
	cr_assert_eq(r, 0, "%s", c->line);
	cr_assert_str_eq(ps.comm, c->comm);
	cr_assert_eq(ps.state, c->state);
	cr_assert_eq(ps.starttime, c->starttime);
}

Test(sallyctl, procstat_limits)
{
	static char		 big[CTL_PROCSTAT_MAX_BYTES + 2];
	struct ctl_procstat	 ps;
	const char		 nul[] =
	    "1 (a\0b) S 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
	    "0 0 0 0 42";

	memset(big, '1', sizeof(big) - 1);
	cr_assert_eq(ctl_procstat_parse(big, sizeof(big) - 1, &ps), -1);
	cr_assert_eq(ctl_procstat_parse(nul, sizeof(nul) - 1, &ps), -1);
}

/* The real thing, where there is a /proc. */
Test(sallyctl, procstat_self)
{
	struct ctl_procstat	 ps;
	char			 buf[CTL_PROCSTAT_MAX_BYTES];
	ssize_t			 n;
	int			 fd;

	if ((fd = open("/proc/self/stat", O_RDONLY)) == -1)
		cr_skip_test("no /proc");
	n = read(fd, buf, sizeof(buf));
	close(fd);
	cr_assert_gt(n, 0);
	cr_assert_eq(ctl_procstat_parse(buf, (size_t)n, &ps), 0);
	cr_assert_str_eq(ps.comm, "unit_tests");
	cr_assert_eq(ps.state, 'R');
	cr_assert_gt(ps.starttime, 0);
}

/* /proc/uptime */

struct uptime_case {
	char		 buf[64];
	int		 ok;
	uint64_t	 secs;
};

ParameterizedTestParameters(sallyctl, uptime)
{
	static struct uptime_case cases[] = {
		{ "12345.67 54321.00\n", 1, 12345 },
		{ "0.01 0.00\n", 1, 0 },
		{ "12345", 1, 12345 },
		{ "12345 1\n", 1, 12345 },
		{ "", 0, 0 },
		{ ".5 1\n", 0, 0 },
		{ "-1.00 1\n", 0, 0 },
		{ "12x.00 1\n", 0, 0 },
		{ " 12.00 1\n", 0, 0 },
		{ "99999999999999999999.00 1\n", 0, 0 },
		{ "123456789012345678901234567890123456789 1\n", 0, 0 },
	};

	return cr_make_param_array(struct uptime_case, cases, NITEMS(cases));
}

ParameterizedTest(struct uptime_case *c, sallyctl, uptime)
{
	uint64_t	 secs = 0;
	int		 r;

	r = ctl_uptime_parse(c->buf, strlen(c->buf), &secs);
	cr_assert_eq(r, c->ok ? 0 : -1, "%s", c->buf);
	if (c->ok)
		cr_assert_eq(secs, c->secs);
}

/* Replies of the queue manager */

static struct ipc_out	out;
static uint8_t		rec[sizeof(struct ipc_hdr) +
			    IPC_PAYLOAD_MAX_BYTES];

/* Turns out into a parsed message, as the transport would. */
static void
to_msg(struct ipc_msg *m)
{
	cr_assert_eq(ipc_out_error(&out), 0);
	memcpy(rec, &out.hdr, sizeof(out.hdr));
	memcpy(rec + sizeof(out.hdr), out.buf, out.hdr.len);
	cr_assert_eq(ipc_parse(m, rec, sizeof(out.hdr) + out.hdr.len), 0);
}

static void
build_entry(uint32_t type, int fields, int extra)
{
	ipc_out_init(&out, type, 0);
	if (fields > 0)
		ipc_put_str(&out, "0123456789abcdef.1");
	if (fields > 1)
		ipc_put_str(&out, "");
	if (fields > 2)
		ipc_put_str(&out, "bob@example.test");
	if (fields > 3)
		ipc_put_u64(&out, 1700000000);
	if (fields > 4)
		ipc_put_u32(&out, 3);
	if (fields > 5)
		ipc_put_u64(&out, 1700000300);
	if (fields > 6)
		ipc_put_str(&out, "451 try later\n");
	if (fields > 7)
		ipc_put_str(&out, "held");
	if (extra)
		ipc_put_u32(&out, 0);
}

Test(sallyctl, reply_entry)
{
	static struct ctl_entry	 e;
	struct ipc_msg		 m;
	int			 n;

	build_entry(MSG_CTL_QUEUE_ENTRY, 8, 0);
	to_msg(&m);
	cr_assert_eq(ctl_reply_entry(&m, &e), 0);
	cr_assert_str_eq(e.state, "held");
	cr_assert_str_eq(e.evpid, "0123456789abcdef.1");
	cr_assert_str_eq(e.sender, "");
	cr_assert_str_eq(e.rcpt, "bob@example.test");
	cr_assert_eq(e.created, 1700000000);
	cr_assert_eq(e.retries, 3);
	cr_assert_eq(e.next_try, 1700000300);
	cr_assert_str_eq(e.error, "451 try later\n");

	for (n = 0; n < 8; n++) {
		build_entry(MSG_CTL_QUEUE_ENTRY, n, 0);
		to_msg(&m);
		cr_assert_eq(ctl_reply_entry(&m, &e), -1, "fields %d", n);
	}
	build_entry(MSG_CTL_QUEUE_ENTRY, 8, 1);
	to_msg(&m);
	cr_assert_eq(ctl_reply_entry(&m, &e), -1, "trailing bytes");
	build_entry(MSG_CTL_STAT, 8, 0);
	to_msg(&m);
	cr_assert_eq(ctl_reply_entry(&m, &e), -1, "wrong type");
}

Test(sallyctl, reply_proc_stat_end)
{
	static struct ctl_proc	 p;
	static struct ctl_stat	 s;
	struct ipc_msg		 m;

	ipc_out_init(&out, MSG_CTL_PROC, 0);
	ipc_put_str(&out, "manager");
	ipc_put_u32(&out, 4321);
	ipc_put_u64(&out, 1700000000);
	ipc_put_u32(&out, 1);
	to_msg(&m);
	cr_assert_eq(ctl_reply_proc(&m, &p), 0);
	cr_assert_str_eq(p.name, "manager");
	cr_assert_eq(p.pid, 4321);
	cr_assert_eq(p.up, 1);
	to_msg(&m);
	cr_assert_eq(ctl_reply_stat(&m, &s), -1, "proc read as stat");

	ipc_out_init(&out, MSG_CTL_STAT, 0);
	ipc_put_str(&out, "messages.committed");
	ipc_put_u64(&out, UINT64_MAX);
	to_msg(&m);
	cr_assert_eq(ctl_reply_stat(&m, &s), 0);
	cr_assert_str_eq(s.name, "messages.committed");
	cr_assert_eq(s.value, UINT64_MAX);
	ipc_put_u32(&out, 0);
	to_msg(&m);
	cr_assert_eq(ctl_reply_stat(&m, &s), -1, "trailing bytes");

	ipc_out_init(&out, MSG_CTL_END, 0);
	to_msg(&m);
	cr_assert_eq(ctl_reply_end(&m), 0);
	ipc_put_u32(&out, 0);
	to_msg(&m);
	cr_assert_eq(ctl_reply_end(&m), -1, "END with a payload");
}

static void
build_host(uint32_t type, int fields, int extra)
{
	ipc_out_init(&out, type, 0);
	if (fields > 0)
		ipc_put_str(&out, "example.net");
	if (fields > 1)
		ipc_put_u32(&out, 2);
	if (fields > 2)
		ipc_put_u32(&out, 7);
	if (fields > 3)
		ipc_put_u32(&out, 1);
	if (fields > 4)
		ipc_put_u64(&out, 1700000060);
	if (fields > 5)
		ipc_put_str(&out, "421 4.3.2 busy");
	if (extra)
		ipc_put_u32(&out, 0);
}

Test(sallyctl, reply_host)
{
	static struct ctl_host	 h;
	struct ipc_msg		 m;
	int			 n;

	build_host(MSG_CTL_HOST, 6, 0);
	to_msg(&m);
	cr_assert_eq(ctl_reply_host(&m, &h), 0);
	cr_assert_str_eq(h.dest, "example.net");
	cr_assert_eq(h.conns, 2);
	cr_assert_eq(h.queued, 7);
	cr_assert_eq(h.active, 1);
	cr_assert_eq(h.backoff_until, 1700000060);
	cr_assert_str_eq(h.error, "421 4.3.2 busy");
	for (n = 0; n < 6; n++) {
		build_host(MSG_CTL_HOST, n, 0);
		to_msg(&m);
		cr_assert_eq(ctl_reply_host(&m, &h), -1, "fields %d", n);
	}
	build_host(MSG_CTL_HOST, 6, 1);
	to_msg(&m);
	cr_assert_eq(ctl_reply_host(&m, &h), -1, "trailing bytes");
	build_host(MSG_CTL_STAT, 6, 0);
	to_msg(&m);
	cr_assert_eq(ctl_reply_host(&m, &h), -1, "wrong type");
}

Test(sallyctl, reply_result)
{
	static struct ctl_result r;
	struct ipc_msg		 m;

	ipc_out_init(&out, MSG_CTL_RESULT, 0);
	ipc_put_u32(&out, RESULT_OK);
	ipc_put_u32(&out, 5);
	ipc_put_str(&out, "");
	to_msg(&m);
	cr_assert_eq(ctl_reply_result(&m, &r), 0);
	cr_assert_eq(r.count, 5);

	ipc_out_init(&out, MSG_CTL_RESULT, 0);
	ipc_put_u32(&out, RESULT_PERMFAIL);
	ipc_put_u32(&out, 0);
	ipc_put_str(&out, "no such message");
	to_msg(&m);
	cr_assert_eq(ctl_reply_result(&m, &r), 0);
	cr_assert_eq(r.result, RESULT_PERMFAIL);
	cr_assert_str_eq(r.message, "no such message");

	ipc_out_init(&out, MSG_CTL_RESULT, 0);
	ipc_put_u32(&out, 7);
	ipc_put_u32(&out, 0);
	ipc_put_str(&out, "");
	to_msg(&m);
	cr_assert_eq(ctl_reply_result(&m, &r), -1, "unknown result code");

	ipc_out_init(&out, MSG_CTL_RESULT, 0);
	ipc_put_u32(&out, RESULT_OK);
	ipc_put_u32(&out, 1);
	to_msg(&m);
	cr_assert_eq(ctl_reply_result(&m, &r), -1, "short");

	ipc_out_init(&out, MSG_CTL_END, 0);
	to_msg(&m);
	cr_assert_eq(ctl_reply_result(&m, &r), -1, "END for a result");
}
