/*
 * The delivery agent's pure checks (queued/delivery_check.c) and the
 * Maildir writer of the mailbox worker (delivery_user.c), run
 * here directly on a temporary directory: no fork, no privilege drop.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../queued/delivery.h"
#include "maildir.h"
#include "proto.h"

#define NELEMS(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * Criterion runs each parameter in a fresh process: the cases hold their
 * strings in arrays, never pointers into this one's address space.
 */
struct evpid_case {
	char	 s[40];
	int	 ok;
};

ParameterizedTestParameters(delivery, evpid)
{
	static struct evpid_case cases[] = {
		{ "0123456789abcdef.1", 1 },
		{ "0123456789abcdef.0", 1 },
		{ "ffffffffffffffff.4294967295", 1 },
		{ "0123456789ABCDEF.1", 0 },
		{ "0123456789abcde.1", 0 },
		{ "0123456789abcdef0.1", 0 },
		{ "0123456789abcdef.", 0 },
		{ "0123456789abcdef", 0 },
		{ "0123456789abcdef.12345678901", 0 },
		{ "0123456789abcdef.1a", 0 },
		{ "0123456789abcdef.1\n", 0 },
		{ "0123456789abcdef/1", 0 },
		{ "../../etc/passwd", 0 },
		{ "", 0 },
	};

	return cr_make_param_array(struct evpid_case, cases, NELEMS(cases));
}

ParameterizedTest(struct evpid_case *c, delivery, evpid)
{
	cr_assert_eq(delivery_check_evpid(c->s) == 0, c->ok, "%s", c->s);
}

struct home_case {
	char	 home[40];
	int	 ok;
};

ParameterizedTestParameters(delivery, home)
{
	static struct home_case cases[] = {
		{ "/var/mail/sallyport/alice", 1 },
		{ "/home/alice", 1 },
		{ "/home/alice/", 1 },
		{ "/home/.alice", 1 },
		{ "/home/alice..", 1 },
		{ "/", 1 },
		{ "home/alice", 0 },
		{ "", 0 },
		{ "/home/../etc", 0 },
		{ "/home/alice/..", 0 },
		{ "/home/./alice", 0 },
		{ "/home/alice/.", 0 },
		{ "/home/al\nice", 0 },
		{ "/home/al\x7fice", 0 },
	};

	return cr_make_param_array(struct home_case, cases, NELEMS(cases));
}

ParameterizedTest(struct home_case *c, delivery, home)
{
	const char	*errstr = NULL;
	int		 r = delivery_check_home(c->home, &errstr);

	cr_assert_eq(r == 0, c->ok, "%s", c->home);
	if (!c->ok)
		cr_assert_not_null(errstr);
}

Test(delivery, home_too_long)
{
	char		 home[PATH_MAX];
	const char	*errstr;

	memset(home, 'a', sizeof(home));
	home[0] = '/';
	home[PATH_MAX - 300] = '\0';
	cr_assert_eq(delivery_check_home(home, &errstr), 0);
	home[PATH_MAX - 300] = 'a';
	home[PATH_MAX - 200] = '\0';
	cr_assert_eq(delivery_check_home(home, &errstr), -1);
}

struct request_case {
	char	 user[40];
	char	 sender[40];
	char	 rcpt[40];
	int	 result;
	char	 status[8];	/* the RFC 3463 code the reason starts with */
};

ParameterizedTestParameters(delivery, request)
{
	static struct request_case cases[] = {
		{ "alice", "bob@example.org", "alice@example.org", RESULT_OK,
		    "" },
		{ "alice", "", "alice@example.org", RESULT_OK, "" },
		{ "", "bob@example.org", "alice@example.org",
		    RESULT_PERMFAIL, "5.1.1" },
		{ "al ice", "bob@example.org", "alice@example.org",
		    RESULT_PERMFAIL, "5.1.1" },
		{ "al\x7fice", "bob@example.org", "alice@example.org",
		    RESULT_PERMFAIL, "5.1.1" },
		{ "alice", "bob@ex\nample.org", "alice@example.org",
		    RESULT_PERMFAIL, "5.1.7" },
		{ "alice", "<bob@example.org>", "alice@example.org",
		    RESULT_PERMFAIL, "5.1.7" },
		{ "alice", "bob@example.org", "", RESULT_PERMFAIL, "5.1.3" },
		{ "alice", "bob@example.org", "alice@ex\rample.org",
		    RESULT_PERMFAIL, "5.1.3" },
	};

	return cr_make_param_array(struct request_case, cases,
	    NELEMS(cases));
}

ParameterizedTest(struct request_case *c, delivery, request)
{
	struct delivery	 d;
	const char	*why;

	memset(&d, 0, sizeof(d));
	(void)strlcpy(d.user, c->user, sizeof(d.user));
	(void)strlcpy(d.sender, c->sender, sizeof(d.sender));
	(void)strlcpy(d.rcpt, c->rcpt, sizeof(d.rcpt));
	cr_assert_eq(delivery_check_request(&d, &why), c->result, "%s",
	    c->user);
	if (c->result == RESULT_OK)
		cr_assert_null(why);
	else
		cr_assert_eq(strncmp(why, c->status, strlen(c->status)), 0,
		    "%s", why);
}

struct verdict_case {
	uint32_t verdict;
	int	 result;
	int	 why;		/* a reason is given */
};

ParameterizedTestParameters(delivery, verdict)
{
	static struct verdict_case cases[] = {
		{ DELIVERY_EXIT_OK, RESULT_OK, 0 },
		{ DELIVERY_EXIT_TEMPFAIL, RESULT_TEMPFAIL, 1 },
		{ DELIVERY_EXIT_PERMFAIL, RESULT_PERMFAIL, 1 },
		{ 1, -1, 0 },
		{ 67, -1, 0 },
		{ 255, -1, 0 },
		{ 0xffffffffU, -1, 0 },
	};

	return cr_make_param_array(struct verdict_case, cases,
	    NELEMS(cases));
}

ParameterizedTest(struct verdict_case *c, delivery, verdict)
{
	const char	*why;

	cr_assert_eq(delivery_check_verdict(c->verdict, &why), c->result);
	cr_assert_eq(why != NULL, c->why);
}

struct death_case {
	int	 status;
	int	 timedout;
	char	 want[80];
};

ParameterizedTestParameters(delivery, death)
{
	static struct death_case cases[] = {
		{ W_EXITCODE(0, 0), 0,
		    "4.3.0 delivery process failed (exit 0)" },
		{ W_EXITCODE(DELIVERY_EXIT_TEMPFAIL, 0), 0,
		    "4.3.0 delivery process failed (exit 75)" },
		{ W_EXITCODE(0, SIGKILL), 0,
		    "4.3.0 delivery process killed by a signal (signal 9, "
		    "killed)" },
		{ W_EXITCODE(0, SIGSEGV), 0,
		    "4.3.0 delivery process killed by a signal (signal 11, "
		    "crash)" },
		{ W_EXITCODE(0, SIGSYS), 0,
		    "4.3.0 delivery process killed by a signal (signal 31, "
		    "sandbox-violation)" },
		{ W_EXITCODE(0, SIGKILL), 1,
		    "4.3.0 timed out after 300 seconds" },
	};

	return cr_make_param_array(struct death_case, cases, NELEMS(cases));
}

/* A dead worker's delivery is always retried: every reason is a 4.x.x. */
ParameterizedTest(struct death_case *c, delivery, death)
{
	char	 text[QUEUE_ERROR_MAX_BYTES];

	delivery_check_death(c->status, c->timedout, text, sizeof(text));
	cr_assert_str_eq(text, c->want);
}

struct clean_case {
	char		 in[40];
	size_t		 len;
	size_t		 dstlen;
	char		 want[40];
};

ParameterizedTestParameters(delivery, report_clean)
{
	static struct clean_case cases[] = {
		{ "new/1.M2P3Q4.h,S=5\n", 20, 64, "new/1.M2P3Q4.h,S=5" },
		{ "write: Disk quota exceeded\n", 27, 64,
		    "write: Disk quota exceeded" },
		{ "first\nsecond\n", 13, 64, "first" },
		{ "a\tb\x1b[31mc\xff", 11, 64, "a?b?[31mc?" },
		{ "abc\0def", 7, 64, "abc" },
		{ "abcdef", 6, 4, "abc" },
		{ "abcdef", 3, 64, "abc" },
		{ "", 0, 64, "" },
	};

	return cr_make_param_array(struct clean_case, cases, NELEMS(cases));
}

ParameterizedTest(struct clean_case *c, delivery, report_clean)
{
	char	 buf[64];

	delivery_check_report(buf, c->dstlen, c->in, c->len);
	cr_assert_str_eq(buf, c->want);
}

/*
 * The Maildir writer.
 */

static char	*tdir;

static void
dir_setup(void)
{
	tdir = strdup("/tmp/sallyport-delivery-XXXXXX");
	cr_assert_not_null(tdir);
	cr_assert_not_null(mkdtemp(tdir));
}

static void
dir_teardown(void)
{
	char	 cmd[512];

	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tdir);
	cr_expect_eq(system(cmd), 0, "%s", cmd);
	free(tdir);
}

/* A message file, open read-only, as the manager would pass it. */
static int
msg_open(const char *text)
{
	char	 path[512];
	int	 fd;

	(void)snprintf(path, sizeof(path), "%s/message", tdir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	(void)close(fd);
	fd = open(path, O_RDONLY);
	cr_assert_geq(fd, 0);
	/* The writer reads with pread: the file offset must not matter. */
	(void)lseek(fd, 5, SEEK_SET);
	return fd;
}

/* The entries of <tdir>/Maildir/<sub>; returns how many, first in name. */
static int
dir_list(const char *sub, char *name, size_t namelen)
{
	char		 path[512];
	DIR		*dp;
	struct dirent	*de;
	int		 n = 0;

	(void)snprintf(path, sizeof(path), "%s/Maildir/%s", tdir, sub);
	dp = opendir(path);
	cr_assert_not_null(dp, "%s", path);
	while ((de = readdir(dp)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (n++ == 0 && name != NULL)
			(void)strlcpy(name, de->d_name, namelen);
	}
	(void)closedir(dp);
	return n;
}

static char *
file_read(const char *sub, const char *name, struct stat *st)
{
	char	 path[1024], *buf;
	int	 fd;

	(void)snprintf(path, sizeof(path), "%s/Maildir/%s/%s", tdir, sub,
	    name);
	fd = open(path, O_RDONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(fstat(fd, st), 0);
	buf = calloc(1, (size_t)st->st_size + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(read(fd, buf, (size_t)st->st_size), st->st_size);
	(void)close(fd);
	return buf;
}

static int
deliver(int msgfd, const char *sender, const char *rcpt, const char *host,
    char *out, size_t outlen)
{
	char	 maildir[512];

	(void)snprintf(maildir, sizeof(maildir), "%s/Maildir", tdir);
	return delivery_user_write(maildir, msgfd, NULL, sender, rcpt, host,
	    out, outlen);
}

Test(delivery, write_ok, .init = dir_setup, .fini = dir_teardown)
{
	const char	*msg = "Received: from x\nSubject: hi\n\nbody\n";
	const char	*want = "Return-Path: <alice@example.org>\n"
			    "Delivered-To: bob@example.net\n"
			    "Received: from x\nSubject: hi\n\nbody\n";
	char		 out[512], name[512], suffix[64], *content;
	struct stat	 st;
	int		 fd = msg_open(msg), r;

	r = deliver(fd, "alice@example.org", "bob@example.net", "mx/1:2",
	    out, sizeof(out));
	cr_assert_eq(r, DELIVERY_EXIT_OK, "%s", out);
	cr_assert_eq(dir_list("new", name, sizeof(name)), 1);
	cr_assert_eq(dir_list("tmp", NULL, 0), 0);
	cr_assert_eq(dir_list("cur", NULL, 0), 0);
	cr_assert_eq(strncmp(out, "new/", 4), 0);
	cr_assert_str_eq(out + 4, name);
	content = file_read("new", name, &st);
	cr_assert_str_eq(content, want);
	cr_assert_eq(st.st_mode & 07777, 0600);
	/* W=: the size with CRLF line ends, one more octet a line. */
	(void)snprintf(suffix, sizeof(suffix), ".mx\\0571\\0722,S=%zu,W=%zu",
	    strlen(want), strlen(want) + 6);
	cr_assert(strlen(name) > strlen(suffix));
	cr_assert_str_eq(name + strlen(name) - strlen(suffix), suffix,
	    "%s", name);
	cr_assert(strstr(name, ".M") != NULL && strstr(name, "P") != NULL &&
	    strstr(name, "Q") != NULL);
	free(content);
	(void)close(fd);
}

/*
 * The file's name carries the envelope id; a recovered envelope of the
 * same message is then found in new/ and, once a reader moved it, in
 * cur/ (delivery_user_index.c).
 */
Test(delivery, write_tagged_then_found, .init = dir_setup,
    .fini = dir_teardown)
{
	char	 out[512], name[512], maildir[512], from[1200], to[1200];
	int	 fd = msg_open("Subject: s\n\nb\n");

	(void)snprintf(maildir, sizeof(maildir), "%s/Maildir", tdir);
	cr_assert_eq(delivery_user_write(maildir, fd, "0123456789abcdef.3",
	    "a@x", "b@x", "h", out, sizeof(out)), DELIVERY_EXIT_OK, "%s", out);
	cr_assert_eq(dir_list("new", name, sizeof(name)), 1);
	cr_assert(strstr(name, "Q0E0123456789abcdef_3.h,S=") != NULL, "%s",
	    name);
	/* No check asked: nothing is read. */
	cr_assert_eq(delivery_user_found(maildir, "0123456789abcdef.3", 0),
	    0);
	/* Any recipient of that message: its copy is here. */
	cr_assert_eq(delivery_user_found(maildir, "0123456789abcdef.9", 1),
	    1);
	cr_assert_eq(delivery_user_found(maildir, "0123456789abcdee.3", 1),
	    0);
	(void)snprintf(from, sizeof(from), "%s/new/%s", maildir, name);
	(void)snprintf(to, sizeof(to), "%s/cur/%s:2,S", maildir, name);
	cr_assert_eq(rename(from, to), 0);
	/* Another manager's check reads the directories again. */
	cr_assert_eq(delivery_user_found(maildir, "0123456789abcdef.3", 2),
	    1);
	(void)close(fd);
}

Test(delivery, found_edges, .init = dir_setup, .fini = dir_teardown)
{
	char	 maildir[512];

	/* No Maildir yet: nothing was delivered. */
	(void)snprintf(maildir, sizeof(maildir), "%s/Maildir", tdir);
	cr_assert_eq(delivery_user_found(maildir, "0123456789abcdef.1", 1),
	    0);
	/* Not an envelope id: an error, never "found". */
	cr_assert_eq(delivery_user_found(maildir, "0123", 1), -1);
}

Test(delivery, write_two_unique, .init = dir_setup, .fini = dir_teardown)
{
	char	 out1[512], out2[512];
	int	 fd = msg_open("Subject: s\n\nb\n");

	cr_assert_eq(deliver(fd, "", "b@x", "h", out1, sizeof(out1)), 0);
	cr_assert_eq(deliver(fd, "", "b@x", "h", out2, sizeof(out2)), 0);
	cr_assert_str_neq(out1, out2);
	cr_assert_eq(dir_list("new", NULL, 0), 2);
	cr_assert_eq(dir_list("tmp", NULL, 0), 0);
	(void)close(fd);
}

Test(delivery, write_null_sender_empty_msg, .init = dir_setup,
    .fini = dir_teardown)
{
	char		 out[512], name[512], *content;
	struct stat	 st;
	int		 fd = msg_open("");

	cr_assert_eq(deliver(fd, "", "b@x", "h", out, sizeof(out)), 0);
	cr_assert_eq(dir_list("new", name, sizeof(name)), 1);
	content = file_read("new", name, &st);
	cr_assert_str_eq(content, "Return-Path: <>\nDelivered-To: b@x\n");
	free(content);
	(void)close(fd);
}

Test(delivery, write_loop, .init = dir_setup, .fini = dir_teardown)
{
	char	 out[512];
	int	 fd = msg_open("Received: x\nDelivered-To: Bob@Example.NET\n"
		    "\nbody\n");

	cr_assert_eq(deliver(fd, "a@x", "bob@example.net", "h", out,
	    sizeof(out)), DELIVERY_EXIT_PERMFAIL);
	cr_assert(strstr(out, "loop") != NULL, "%s", out);
	cr_assert_eq(dir_list("new", NULL, 0), 0);
	cr_assert_eq(dir_list("tmp", NULL, 0), 0);
	(void)close(fd);
}

Test(delivery, write_loop_in_body_is_fine, .init = dir_setup,
    .fini = dir_teardown)
{
	char	 out[512];
	int	 fd = msg_open("Subject: s\n\nDelivered-To: b@x\n");

	cr_assert_eq(deliver(fd, "a@x", "b@x", "h", out, sizeof(out)), 0);
	cr_assert_eq(dir_list("new", NULL, 0), 1);
	(void)close(fd);
}

Test(delivery, write_bad_rcpt, .init = dir_setup, .fini = dir_teardown)
{
	char		 out[512], path[600];
	struct stat	 st;
	int		 fd = msg_open("Subject: s\n\nb\n");

	cr_assert_eq(deliver(fd, "a@x\nBcc: c@y", "b@x", "h", out,
	    sizeof(out)), DELIVERY_EXIT_PERMFAIL);
	/* Refused before the Maildir was touched. */
	(void)snprintf(path, sizeof(path), "%s/Maildir", tdir);
	cr_assert_eq(lstat(path, &st), -1);
	(void)close(fd);
}

Test(delivery, write_read_error_cleans_tmp, .init = dir_setup,
    .fini = dir_teardown)
{
	char	 out[512];
	int	 fd;

	/* A descriptor that cannot be read: EBADF on a write-only file. */
	fd = open("/dev/null", O_WRONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(deliver(fd, "a@x", "b@x", "h", out, sizeof(out)),
	    DELIVERY_EXIT_TEMPFAIL);
	cr_assert(strstr(out, "read message") != NULL, "%s", out);
	cr_assert_eq(dir_list("new", NULL, 0), 0);
	cr_assert_eq(dir_list("tmp", NULL, 0), 0);
	(void)close(fd);
}

Test(delivery, write_no_home, .init = dir_setup, .fini = dir_teardown)
{
	char	 out[512], maildir[600];
	int	 fd = msg_open("Subject: s\n\nb\n");

	(void)snprintf(maildir, sizeof(maildir), "%s/nohome/Maildir", tdir);
	cr_assert_eq(delivery_user_write(maildir, fd, NULL, "a@x", "b@x", "h",
	    out, sizeof(out)), DELIVERY_EXIT_TEMPFAIL);
	cr_assert(strstr(out, "Maildir") != NULL, "%s", out);
	(void)close(fd);
}

Test(delivery, write_existing_tmp_file_kept, .init = dir_setup,
    .fini = dir_teardown)
{
	char	 out[512], path[600];
	int	 fd = msg_open("Subject: s\n\nb\n"), tfd;

	/* A stale tmp/ file from a killed child stays: not ours to remove. */
	cr_assert_eq(deliver(fd, "a@x", "b@x", "h", out, sizeof(out)), 0);
	(void)snprintf(path, sizeof(path), "%s/Maildir/tmp/stale", tdir);
	tfd = open(path, O_WRONLY | O_CREAT, 0600);
	cr_assert_geq(tfd, 0);
	(void)close(tfd);
	cr_assert_eq(deliver(fd, "a@x", "b@x", "h", out, sizeof(out)), 0);
	cr_assert_eq(dir_list("tmp", NULL, 0), 1);
	cr_assert_eq(dir_list("new", NULL, 0), 2);
	(void)close(fd);
}

/*
 * The set of envelopes delivered lately (delivery_seen.c).
 */

static struct delivery_seen *
seen_new(void)
{
	struct delivery_seen	*s;

	cr_assert_not_null(s = calloc(1, sizeof(*s)));
	delivery_seen_init(s);
	return s;
}

static void
seen_evpid(char *buf, size_t len, unsigned int i)
{
	cr_assert_lt((size_t)snprintf(buf, len, "%016x.%u", i * 2654435761u,
	    i % 7), len);
}

Test(delivery, seen_add_find)
{
	struct delivery_seen	*s = seen_new();

	cr_assert_eq(delivery_seen_find(s, "0123456789abcdef.1", 100), 0);
	delivery_seen_add(s, "0123456789abcdef.1", 100);
	cr_assert_eq(delivery_seen_find(s, "0123456789abcdef.1", 100), 1);
	cr_assert_eq(delivery_seen_find(s, "0123456789abcdef.2", 100), 0);
	cr_assert_eq(delivery_seen_find(s, "0123456789abcdee.1", 100), 0);
	/* Added twice, kept once. */
	delivery_seen_add(s, "0123456789abcdef.1", 101);
	cr_assert_eq(delivery_seen_count(s, 101), 1);
	/* Too long to be an envelope id: never found. */
	cr_assert_eq(delivery_seen_find(s, "0123456789abcdef.12345678901234",
	    101), 0);
	free(s);
}

/* Past DELIVERY_SEEN_MAX, the oldest go first; the rest stay. */
Test(delivery, seen_evict_count)
{
	struct delivery_seen	*s = seen_new();
	char			 id[DELIVERY_EVPID_MAX_BYTES];
	unsigned int		 i, extra = 10;

	for (i = 0; i < DELIVERY_SEEN_MAX + extra; i++) {
		seen_evpid(id, sizeof(id), i);
		delivery_seen_add(s, id, 1000);
	}
	cr_assert_eq(delivery_seen_count(s, 1000), DELIVERY_SEEN_MAX);
	for (i = 0; i < DELIVERY_SEEN_MAX + extra; i++) {
		seen_evpid(id, sizeof(id), i);
		cr_assert_eq(delivery_seen_find(s, id, 1000), i >= extra,
		    "entry %u", i);
	}
	free(s);
}

/* Past DELIVERY_SEEN_MAX_SECS an entry is forgotten, the younger kept. */
Test(delivery, seen_evict_age)
{
	struct delivery_seen	*s = seen_new();
	time_t			 t0 = 5000;

	delivery_seen_add(s, "0000000000000001.1", t0);
	delivery_seen_add(s, "0000000000000002.1", t0 + 10);
	cr_assert_eq(delivery_seen_find(s, "0000000000000001.1",
	    t0 + DELIVERY_SEEN_MAX_SECS - 1), 1);
	cr_assert_eq(delivery_seen_find(s, "0000000000000001.1",
	    t0 + DELIVERY_SEEN_MAX_SECS), 0);
	cr_assert_eq(delivery_seen_find(s, "0000000000000002.1",
	    t0 + DELIVERY_SEEN_MAX_SECS), 1);
	cr_assert_eq(delivery_seen_count(s, t0 + DELIVERY_SEEN_MAX_SECS), 1);
	cr_assert_eq(delivery_seen_count(s, t0 + 10 + DELIVERY_SEEN_MAX_SECS),
	    0);
	/* The ring goes on after it emptied. */
	delivery_seen_add(s, "0000000000000003.1", t0 + 20000);
	cr_assert_eq(delivery_seen_find(s, "0000000000000003.1", t0 + 20000),
	    1);
	free(s);
}

/* Wrapping around the ring many times keeps ring and tree in step. */
Test(delivery, seen_wrap)
{
	struct delivery_seen	*s = seen_new();
	char			 id[DELIVERY_EVPID_MAX_BYTES];
	unsigned int		 i, n = 3 * DELIVERY_SEEN_MAX + 17;

	for (i = 0; i < n; i++) {
		seen_evpid(id, sizeof(id), i);
		delivery_seen_add(s, id, (time_t)i / 100);
	}
	cr_assert_eq(delivery_seen_count(s, (time_t)n / 100),
	    DELIVERY_SEEN_MAX);
	seen_evpid(id, sizeof(id), n - DELIVERY_SEEN_MAX - 1);
	cr_assert_eq(delivery_seen_find(s, id, (time_t)n / 100), 0);
	seen_evpid(id, sizeof(id), n - DELIVERY_SEEN_MAX);
	cr_assert_eq(delivery_seen_find(s, id, (time_t)n / 100), 1);
	free(s);
}
