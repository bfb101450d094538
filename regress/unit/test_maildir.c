/*
 * common/maildir.c: unique names, header lines, the loop check, and
 * opening (creating) a Maildir.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "maildir.h"

#define NELEMS(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * Criterion runs each parameter in a fresh process: the cases hold their
 * strings in arrays, never pointers into this one's address space.
 */
struct escape_case {
	char	 host[16];
	int	 ok;
	char	 want[32];
};

ParameterizedTestParameters(maildir, escape_host)
{
	static struct escape_case cases[] = {
		{ "mx.example.org", 1, "mx.example.org" },
		{ "a/b", 1, "a\\057b" },
		{ "a:b", 1, "a\\072b" },
		{ "/:", 1, "\\057\\072" },
		{ "a,b", 1, "a\\054b" },
		{ "a\\b", 1, "a\\134b" },
		{ "a b\n", 1, "a\\040b\\012" },
		{ "h\xc3\xa9", 1, "h\\303\\251" },
		{ "", 0, "" },
	};

	return cr_make_param_array(struct escape_case, cases, NELEMS(cases));
}

ParameterizedTest(struct escape_case *c, maildir, escape_host)
{
	char	 buf[64];
	int	 r = maildir_escape_host(buf, sizeof(buf), c->host);

	if (!c->ok)
		cr_assert_eq(r, -1);
	else {
		cr_assert_eq(r, 0);
		cr_assert_str_eq(buf, c->want);
	}
}

Test(maildir, escape_host_too_short)
{
	char	 buf[8];

	cr_assert_eq(maildir_escape_host(buf, sizeof(buf), "abcdefg"), 0);
	cr_assert_str_eq(buf, "abcdefg");
	cr_assert_eq(maildir_escape_host(buf, sizeof(buf), "abcdefgh"), -1);
	/* An escape is four bytes or nothing: never cut in the middle. */
	cr_assert_eq(maildir_escape_host(buf, sizeof(buf), "abcd/"), -1);
	cr_assert_eq(maildir_escape_host(buf, sizeof(buf), "abc/"), 0);
	cr_assert_str_eq(buf, "abc\\057");
}

struct uniq_case {
	long long	 secs;
	long		 usecs;
	long		 pid;
	unsigned long	 counter;
	char		 host[16];
	int		 ok;
	char		 want[64];
};

ParameterizedTestParameters(maildir, unique_name)
{
	static struct uniq_case cases[] = {
		{ 1700000000, 123456, 4242, 0, "mx.test", 1,
		    "1700000000.M123456P4242Q0.mx.test" },
		{ 1, 0, 1, 99, "h", 1, "1.M0P1Q99.h" },
		{ 1700000000, 5, 77, 3, "mail/host:25", 1,
		    "1700000000.M5P77Q3.mail\\057host\\07225" },
		{ 1, 1000000, 1, 0, "h", 0, "" },
		{ 1, -1, 1, 0, "h", 0, "" },
		{ -1, 0, 1, 0, "h", 0, "" },
		{ 1, 0, 0, 0, "h", 0, "" },
		{ 1, 0, 1, 0, "", 0, "" },
	};

	return cr_make_param_array(struct uniq_case, cases, NELEMS(cases));
}

ParameterizedTest(struct uniq_case *c, maildir, unique_name)
{
	struct maildir_uniq	 u;
	char			 buf[MAILDIR_NAME_MAX_BYTES + 1];
	int			 r;

	u.secs = (time_t)c->secs;
	u.usecs = c->usecs;
	u.pid = (pid_t)c->pid;
	u.counter = c->counter;
	u.evpid = NULL;
	r = maildir_unique_name(buf, sizeof(buf), &u, c->host);
	if (!c->ok)
		cr_assert_eq(r, -1);
	else {
		cr_assert_eq(r, 0);
		cr_assert_str_eq(buf, c->want);
	}
}

Test(maildir, unique_name_leaves_room_for_size)
{
	struct maildir_uniq	 u = { 1700000000, 999999, 99999, 0,
				    "0123456789abcdef.4294967295" };
	char			 host[300], buf[1024], final[1024];
	size_t			 len;

	/* The longest host that still leaves room for ",S=<max>". */
	for (len = 1; len < sizeof(host); len++) {
		memset(host, 'h', len);
		host[len] = '\0';
		if (maildir_unique_name(buf, sizeof(buf), &u, host) == -1)
			break;
		cr_assert_eq(maildir_final_name(final, sizeof(final), buf,
		    UINT64_MAX, UINT64_MAX), 0);
		cr_assert_leq(strlen(final), MAILDIR_NAME_MAX_BYTES);
	}
	cr_assert_lt(len, sizeof(host), "a long host was never refused");
}

Test(maildir, unique_name_small_buffer)
{
	struct maildir_uniq	 u = { 1700000000, 1, 2, 3, NULL };
	char			 buf[16];

	cr_assert_eq(maildir_unique_name(buf, sizeof(buf), &u, "mx.test"),
	    -1);
}

/* The envelope's tag in the middle part of the name, and read back. */
struct tag_case {
	char	 evpid[40];
	int	 ok;
	char	 want[80];
};

ParameterizedTestParameters(maildir, unique_name_tag)
{
	static struct tag_case cases[] = {
		{ "0123456789abcdef.1", 1,
		    "1700000000.M5P77Q3E0123456789abcdef_1.mx.test" },
		{ "ffffffffffffffff.4294967295", 1,
		    "1700000000.M5P77Q3Effffffffffffffff_4294967295.mx.test" },
		{ "", 1, "1700000000.M5P77Q3.mx.test" },
		{ "0123456789ABCDEF.1", 0, "" },
		{ "0123456789abcdef", 0, "" },
		{ "0123456789abcdef.", 0, "" },
		{ "0123456789abcdef.12345678901", 0, "" },
		{ "0123456789abcde.1", 0, "" },
		{ "0123456789abcdef.1x", 0, "" },
		{ "0123456789abcdef_1", 0, "" },
		{ "../../etc/passwd.1", 0, "" },
	};

	return cr_make_param_array(struct tag_case, cases, NELEMS(cases));
}

ParameterizedTest(struct tag_case *c, maildir, unique_name_tag)
{
	struct maildir_uniq	 u = { 1700000000, 5, 77, 3, c->evpid };
	char			 buf[MAILDIR_NAME_MAX_BYTES + 1];
	char			 msgid[MAILDIR_TAG_HEX_DIGITS + 1];
	int			 r;

	r = maildir_unique_name(buf, sizeof(buf), &u, "mx.test");
	if (!c->ok) {
		cr_assert_eq(r, -1, "%s", c->evpid);
		return;
	}
	cr_assert_eq(r, 0);
	cr_assert_str_eq(buf, c->want);
	cr_assert_eq(maildir_name_msgid(buf, msgid, sizeof(msgid)),
	    c->evpid[0] != '\0');
	if (c->evpid[0] != '\0')
		cr_assert_eq(strncmp(msgid, c->evpid, 16), 0);
}

struct msgid_case {
	char	 name[96];
	int	 found;
	char	 msgid[20];
};

ParameterizedTestParameters(maildir, name_msgid)
{
	static struct msgid_case cases[] = {
		{ "1.M0P1Q2E0123456789abcdef_3.h,S=10", 1,
		    "0123456789abcdef" },
		/* Moved to cur/ by a reader, flags added. */
		{ "1.M0P1Q2E0123456789abcdef_3.h,S=10:2,RS", 1,
		    "0123456789abcdef" },
		{ "1.M0P1Q2E0123456789abcdef_3.mx\\072x", 1,
		    "0123456789abcdef" },
		/* Other deliverers' names, and ours from before the tag. */
		{ "1.M0P1Q2.h,S=10", 0, "" },
		{ "1700000000.M123V801I9a3c.host,S=1:2,", 0, "" },
		{ "1700000000.12345_1.host", 0, "" },
		/* A tag in the host part is not ours. */
		{ "1.M0P1.hE0123456789abcdef_3", 0, "" },
		{ "1.M0P1Q2E0123456789abcdef_.h", 0, "" },
		{ "1.M0P1Q2E0123456789abcde_1.h", 0, "" },
		{ "1.M0P1Q2E0123456789abcdef_1", 0, "" },
		{ "E0123456789abcdef_1.h", 0, "" },
		{ "", 0, "" },
	};

	return cr_make_param_array(struct msgid_case, cases, NELEMS(cases));
}

ParameterizedTest(struct msgid_case *c, maildir, name_msgid)
{
	char	 msgid[MAILDIR_TAG_HEX_DIGITS + 1];

	cr_assert_eq(maildir_name_msgid(c->name, msgid, sizeof(msgid)),
	    c->found, "%s", c->name);
	if (c->found)
		cr_assert_str_eq(msgid, c->msgid);
}

struct final_case {
	char		 uniq[16];
	uint64_t	 size;
	int		 ok;
	char		 want[64];
};

ParameterizedTestParameters(maildir, final_name)
{
	static struct final_case cases[] = {
		{ "1.M2P3Q4.h", 1234, 1, "1.M2P3Q4.h,S=1234,W=1234" },
		{ "1.M2P3Q4.h", 0, 1, "1.M2P3Q4.h,S=0,W=0" },
		{ "x", UINT64_MAX, 1,
		    "x,S=18446744073709551615,W=18446744073709551615" },
		{ "", 1, 0, "" },
		{ "a/b", 1, 0, "" },
	};

	return cr_make_param_array(struct final_case, cases, NELEMS(cases));
}

ParameterizedTest(struct final_case *c, maildir, final_name)
{
	char	 buf[MAILDIR_NAME_MAX_BYTES + 1];
	int	 r = maildir_final_name(buf, sizeof(buf), c->uniq, c->size,
		    c->size);

	if (!c->ok)
		cr_assert_eq(r, -1);
	else {
		cr_assert_eq(r, 0);
		cr_assert_str_eq(buf, c->want);
	}
}

Test(maildir, final_name_too_long)
{
	char	 uniq[MAILDIR_NAME_MAX_BYTES], buf[1024];

	memset(uniq, 'u', sizeof(uniq) - 1);
	uniq[sizeof(uniq) - 1] = '\0';
	cr_assert_eq(maildir_final_name(buf, sizeof(buf), uniq, 1, 1), -1);
	cr_assert_eq(maildir_final_name(buf, 8, "abc", 12345, 12345), -1);
}

struct header_case {
	char	 sender[32];
	char	 rcpt[32];
	int	 ok;
	char	 want[128];
};

ParameterizedTestParameters(maildir, headers)
{
	static struct header_case cases[] = {
		{ "alice@example.org", "bob@example.net", 1,
		    "Return-Path: <alice@example.org>\n"
		    "Delivered-To: bob@example.net\n" },
		{ "", "bob@example.net", 1,
		    "Return-Path: <>\nDelivered-To: bob@example.net\n" },
		{ "\"a b\"@example.org", "b@x", 1,
		    "Return-Path: <\"a b\"@example.org>\nDelivered-To: b@x\n" },
		{ "j\xc3\xb6rg@example.org", "b@x", 1,
		    "Return-Path: <j\xc3\xb6rg@example.org>\n"
		    "Delivered-To: b@x\n" },
		{ "a@x\nBcc: evil@x", "b@x", 0, "" },
		{ "a@x\r", "b@x", 0, "" },
		{ "a@x", "b@x\nX-Evil: 1", 0, "" },
		{ "a@x", "b\t@x", 0, "" },
		{ "a@x", "b@x\x7f", 0, "" },
		{ "a@x>\nX: <y", "b@x", 0, "" },
		{ "a@x", "<b@x>", 0, "" },
		{ "a@x", "", 0, "" },
	};

	return cr_make_param_array(struct header_case, cases, NELEMS(cases));
}

ParameterizedTest(struct header_case *c, maildir, headers)
{
	char		 buf[MAILDIR_HEADERS_MAX_BYTES];
	const char	*errstr = NULL;
	int		 r;

	r = maildir_headers(buf, sizeof(buf), c->sender, c->rcpt, &errstr);
	if (!c->ok) {
		cr_assert_eq(r, -1);
		cr_assert_not_null(errstr);
	} else {
		cr_assert_eq(r, (int)strlen(c->want));
		cr_assert_str_eq(buf, c->want);
	}
}

Test(maildir, headers_limits)
{
	char		 addr[SMTP_PATH_MAX_BYTES + 2];
	char		 buf[MAILDIR_HEADERS_MAX_BYTES];
	const char	*errstr;

	memset(addr, 'a', sizeof(addr) - 1);
	addr[SMTP_PATH_MAX_BYTES] = '\0';
	cr_assert_gt(maildir_headers(buf, sizeof(buf), addr, addr, &errstr),
	    0);
	addr[SMTP_PATH_MAX_BYTES] = 'a';
	addr[SMTP_PATH_MAX_BYTES + 1] = '\0';
	cr_assert_eq(maildir_headers(buf, sizeof(buf), addr, "b@x", &errstr),
	    -1);
	cr_assert_str_eq(errstr, "address too long");
	cr_assert_eq(maildir_headers(buf, 10, "a@x", "b@x", &errstr), -1);
}

struct loop_case {
	char	 msg[96];
	char	 rcpt[16];
	int	 loop;
};

ParameterizedTestParameters(maildir, loop)
{
	static struct loop_case cases[] = {
		{ "Delivered-To: bob@x\n\nbody\n", "bob@x", 1 },
		{ "delivered-to: BOB@X\n\nbody\n", "bob@x", 1 },
		{ "DELIVERED-TO:bob@x\n\n", "Bob@X", 1 },
		{ "Delivered-To: alice@x\n\nbody\n", "bob@x", 0 },
		{ "Subject: hi\n\nDelivered-To: bob@x\n", "bob@x", 0 },
		{ "Delivered-To:\n bob@x\n\n", "bob@x", 1 },
		{ "Delivered-To: \n\t bob@x \t\n\n", "bob@x", 1 },
		{ "Delivered-To: <bob@x>\n\n", "bob@x", 1 },
		{ "Delivered-To: bob@x\r\nSubject: a\r\n\r\nb\r\n", "bob@x", 1 },
		{ "Subject: a\r\n\r\nDelivered-To: bob@x\r\n", "bob@x", 0 },
		{ "Delivered-To: bob@x.org\n\n", "bob@x", 0 },
		{ "Delivered-To: bob@x\n\n", "bob@x.org", 0 },
		{ "Delivered-To: xbob@x\n\n", "bob@x", 0 },
		{ "X-Delivered-To: bob@x\n\n", "bob@x", 0 },
		{ "Delivered-To bob@x\n\n", "bob@x", 0 },
		{ "Delivered-To: bob@x", "bob@x", 1 },
		{ "Delivered-To: bob@x\n", "bob@x", 1 },
		{ "Subject: a\n Delivered-To: bob@x\n\n", "bob@x", 0 },
		{ "Delivered-To: bob@x\n more\n\n", "bob@x", 0 },
		{ "Received: a\nDelivered-To: a@x\nDelivered-To: bob@x\n\n",
		    "bob@x", 1 },
		{ "Received: a\n\tb\nDelivered-To: bob@x\nSubject: s\n\n",
		    "bob@x", 1 },
		{ "", "bob@x", 0 },
		{ "\nDelivered-To: bob@x\n", "bob@x", 0 },
		{ "\r\nDelivered-To: bob@x\n", "bob@x", 0 },
		{ " Delivered-To: bob@x\n\n", "bob@x", 0 },
		{ "Delivered-To: <>\n\n", "bob@x", 0 },
	};

	return cr_make_param_array(struct loop_case, cases, NELEMS(cases));
}

ParameterizedTest(struct loop_case *c, maildir, loop)
{
	struct maildir_loop	 l;
	size_t			 i, len = strlen(c->msg);

	cr_assert_eq(maildir_loop_check(c->msg, len, c->rcpt), c->loop,
	    "whole: %s", c->msg);
	/* Byte by byte: lines and headers cut across reads. */
	maildir_loop_init(&l, c->rcpt);
	for (i = 0; i < len; i++)
		if (maildir_loop_feed(&l, c->msg + i, 1))
			break;
	cr_assert_eq(maildir_loop_end(&l), c->loop, "bytes: %s", c->msg);
}

Test(maildir, loop_answer_known_early)
{
	struct maildir_loop	 l;
	const char		*m = "Delivered-To: a@x\nSubject: s\n\nbody";

	maildir_loop_init(&l, "b@x");
	cr_assert_eq(maildir_loop_feed(&l, m, 10), 0);
	cr_assert_eq(maildir_loop_feed(&l, m + 10, strlen(m) - 10), 1);
	cr_assert(l.done);
	cr_assert_eq(l.found, 0);
}

Test(maildir, loop_long_headers)
{
	char	*m;
	size_t	 pad = 3 * MAILDIR_HEADER_MAX_BYTES;
	int	 n;

	m = malloc(pad + 256);
	cr_assert_not_null(m);
	/* A long header before: still found after it. */
	memcpy(m, "X-Long: ", 8);
	memset(m + 8, 'x', pad);
	n = snprintf(m + 8 + pad, 200, "\nDelivered-To: bob@x\n\n");
	cr_assert_eq(maildir_loop_check(m, 8 + pad + (size_t)n, "bob@x"), 1);
	/* A Delivered-To that overflows the buffer never matches. */
	memcpy(m, "Delivered-To: ", 14);
	memset(m + 14, ' ', pad);
	n = snprintf(m + 14 + pad, 200, "bob@x\n\n");
	cr_assert_eq(maildir_loop_check(m, 14 + pad + (size_t)n, "bob@x"), 0);
	free(m);
}

static char *
maildir_test_dir(void)
{
	char	*dir = strdup("/tmp/sallyport-maildir-XXXXXX");

	cr_assert_not_null(dir);
	cr_assert_not_null(mkdtemp(dir));
	return dir;
}

static void
maildir_test_rm(const char *dir)
{
	char	 cmd[512];

	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

Test(maildir, open_creates)
{
	struct maildir	 md;
	struct stat	 st;
	char		*dir = maildir_test_dir(), path[512], sub[600];
	const char	*subs[] = { "", "/tmp", "/new", "/cur" };
	size_t		 i;

	(void)snprintf(path, sizeof(path), "%s/Maildir", dir);
	cr_assert_eq(maildir_open(&md, path, 0), -1, "opened a missing one");
	cr_assert_eq(maildir_open(&md, path, 1), 0);
	for (i = 0; i < NELEMS(subs); i++) {
		(void)snprintf(sub, sizeof(sub), "%s%s", path, subs[i]);
		cr_assert_eq(lstat(sub, &st), 0, "%s", sub);
		cr_assert(S_ISDIR(st.st_mode));
		cr_assert_eq(st.st_mode & 07777, 0700, "%s", sub);
	}
	cr_assert_geq(md.tmpfd, 0);
	cr_assert_geq(md.newfd, 0);
	cr_assert_geq(md.curfd, 0);
	maildir_close(&md);
	cr_assert_eq(md.dirfd, -1);
	/* Again, existing: fine, and a missing cur/ is made again. */
	(void)snprintf(sub, sizeof(sub), "%s/cur", path);
	cr_assert_eq(rmdir(sub), 0);
	cr_assert_eq(maildir_open(&md, path, 1), 0);
	maildir_close(&md);
	cr_assert_eq(lstat(sub, &st), 0);
	cr_assert_eq(maildir_open(&md, path, 0), 0);
	maildir_close(&md);
	maildir_test_rm(dir);
	free(dir);
}

Test(maildir, open_refuses_a_file)
{
	struct maildir	 md;
	char		*dir = maildir_test_dir(), path[512];
	FILE		*f;

	(void)snprintf(path, sizeof(path), "%s/Maildir", dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	(void)fclose(f);
	cr_assert_eq(maildir_open(&md, path, 1), -1);
	cr_assert_eq(md.dirfd, -1);
	cr_assert_eq(md.tmpfd, -1);
	maildir_test_rm(dir);
	free(dir);
}

Test(maildir, name_size)
{
	uint64_t	 v = 7;

	cr_assert_eq(maildir_name_size("1.M2P3Q4.h,S=12,W=15:2,S", 'W', &v),
	    0);
	cr_assert_eq(v, 15);
	cr_assert_eq(maildir_name_size("1.M2P3Q4.h,S=12,W=15", 'S', &v), 0);
	cr_assert_eq(v, 12);
	cr_assert_eq(maildir_name_size("1.M2P3Q4.h,S=12", 'W', &v), -1);
	/* Only the base name counts, not the flags after ':'. */
	cr_assert_eq(maildir_name_size("1.M2P3Q4.h:2,W=3", 'W', &v), -1);
	cr_assert_eq(maildir_name_size("x,W=12x", 'W', &v), -1);
	cr_assert_eq(maildir_name_size("x,W=", 'W', &v), -1);
	cr_assert_eq(maildir_name_size("x,W=99999999999999999999", 'W', &v),
	    -1);
}

/* The counter agrees with the text pop3d sends (pop3_xform_size). */
Test(maildir, wsize)
{
	static const struct {
		const char	*in;
		uint64_t	 want;
	} c[] = {
		{ "", 0 }, { "a", 3 }, { "a\n", 3 }, { "a\r\n", 3 },
		{ "a\r", 3 }, { "a\n\nb", 8 }, { "\r\r\n\n", 5 },
		{ ".\n", 3 },
	};
	struct maildir_wsize	 w;
	size_t			 i, j;

	for (i = 0; i < NELEMS(c); i++) {
		/* Fed one byte at a time: the state crosses buffers. */
		memset(&w, 0, sizeof(w));
		for (j = 0; c[i].in[j] != '\0'; j++)
			maildir_wsize_feed(&w, c[i].in + j, 1);
		cr_assert_eq(maildir_wsize_end(&w), c[i].want, "case %zu", i);
	}
}
