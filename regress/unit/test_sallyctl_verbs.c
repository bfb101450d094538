/*
 * sallyctl's pure parts for issue 12: the JSON strings and objects of
 * -j, show queue's filters, the users table's edits, and the parsing
 * of the new commands' arguments.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "ipc.h"
#include "proto.h"
#include "../../sallyctl/sallyctl.h"

/* The tables hold arrays, never pointers (see test_sallyctl.c). */
#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))
#define TEXT_MAX	256
#define ARGV_MAX	8
#define WORD_MAX	48

/* JSON strings */

struct json_case {
	char	 in[TEXT_MAX];
	char	 out[TEXT_MAX];
};

ParameterizedTestParameters(sallyctl_json, string)
{
	static struct json_case cases[] = {
		{ "", "\"\"" },
		{ "alice@example.test", "\"alice@example.test\"" },
		{ "say \"hi\"", "\"say \\\"hi\\\"\"" },
		{ "back\\slash", "\"back\\\\slash\"" },
		{ "a\nb\rc\td", "\"a\\nb\\rc\\td\"" },
		{ "\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"" },
		{ "/", "\"/\"" },
		/* UTF-8 passes (RFC 6531 addresses)... */
		{ "j\xc3\xb6rg@\xe4\xbe\x8b.test",
		    "\"j\xc3\xb6rg@\xe4\xbe\x8b.test\"" },
		{ "\xf0\x9f\x93\xa7", "\"\xf0\x9f\x93\xa7\"" },
		/* ...what is not UTF-8 becomes U+FFFD, byte by byte. */
		{ "a\xff" "b", "\"a\\ufffdb\"" },
		{ "\xc3", "\"\\ufffd\"" },
		{ "\xc0\xaf", "\"\\ufffd\\ufffd\"" },		/* overlong */
		/* a surrogate */
		{ "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"" },
		{ "\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" },
		{ "\xe2\x82", "\"\\ufffd\\ufffd\"" },
	};

	return cr_make_param_array(struct json_case, cases, NITEMS(cases));
}

ParameterizedTest(struct json_case *c, sallyctl_json, string)
{
	char	 out[TEXT_MAX];
	int	 n;

	n = ctl_json_string(out, sizeof(out), c->in);
	cr_assert_eq(n, (int)strlen(c->out), "%s", out);
	cr_assert_str_eq(out, c->out);
}

Test(sallyctl_json, string_too_long)
{
	char	 out[8];

	cr_assert_eq(ctl_json_string(out, sizeof(out), "abcde"), 7);
	cr_assert_eq(ctl_json_string(out, sizeof(out), "abcdef"), -1);
	cr_assert_eq(ctl_json_string(out, sizeof(out), "ab\n"), 6);
	cr_assert_eq(ctl_json_string(out, sizeof(out), "\x01"), -1);
	cr_assert_eq(ctl_json_string(out, 0, ""), -1);
}

Test(sallyctl_json, object)
{
	static struct ctl_json	 j;
	static char		 big[CTL_JSON_MAX_BYTES];
	const char		*line;

	ctl_json_begin(&j);
	cr_assert_str_eq(ctl_json_end(&j), "{}");
	ctl_json_begin(&j);
	ctl_json_str(&j, "evpid", "0123456789abcdef.1");
	ctl_json_u64(&j, "retries", 3);
	ctl_json_u64(&j, "max", UINT64_MAX);
	ctl_json_str(&j, "last-error", "451 \"busy\"");
	line = ctl_json_end(&j);
	cr_assert_str_eq(line, "{\"evpid\":\"0123456789abcdef.1\","
	    "\"retries\":3,\"max\":18446744073709551615,"
	    "\"last-error\":\"451 \\\"busy\\\"\"}");
	/* Past the line's room: an error, never a cut object. */
	memset(big, '"', sizeof(big) / 2);
	ctl_json_begin(&j);
	ctl_json_str(&j, "a", big);
	cr_assert_null(ctl_json_end(&j));
	ctl_json_u64(&j, "b", 1);
	cr_assert_null(ctl_json_end(&j));
}

/* Filters */

struct age_case {
	char	 in[WORD_MAX];
	int64_t	 secs;		/* -1: refused */
};

ParameterizedTestParameters(sallyctl_filter, age)
{
	static struct age_case cases[] = {
		{ "0s", 0 }, { "30s", 30 }, { "5m", 300 }, { "2h", 7200 },
		{ "1d", 86400 }, { "3660d", 3660LL * 86400 },
		{ "3661d", -1 }, { "1", -1 }, { "s", -1 }, { "", -1 },
		{ "-1s", -1 }, { "+1s", -1 }, { "1w", -1 }, { "1 s", -1 },
		{ "1.5h", -1 }, { "99999999999999999999s", -1 },
		{ "0x10s", -1 }, { "1S", -1 },
	};

	return cr_make_param_array(struct age_case, cases, NITEMS(cases));
}

ParameterizedTest(struct age_case *c, sallyctl_filter, age)
{
	int64_t	 secs = -2;

	if (c->secs == -1) {
		cr_assert_eq(ctl_filter_age(c->in, &secs), -1, "%s", c->in);
		return;
	}
	cr_assert_eq(ctl_filter_age(c->in, &secs), 0, "%s", c->in);
	cr_assert_eq(secs, c->secs);
}

struct filter_case {
	int	 argc;
	char	 argv[ARGV_MAX][WORD_MAX];
	int	 ok;
	char	 from[WORD_MAX];	/* "-": unset */
	char	 to[WORD_MAX];
	char	 domain[WORD_MAX];
	int64_t	 older;
	int	 held;
};

ParameterizedTestParameters(sallyctl_filter, parse)
{
	static struct filter_case cases[] = {
		{ 0, { "" }, 1, "-", "-", "-", -1, 0 },
		{ 1, { "held" }, 1, "-", "-", "-", -1, 1 },
		{ 2, { "from", "a@b.test" }, 1, "a@b.test", "-", "-", -1, 0 },
		{ 2, { "from", "<>" }, 1, "", "-", "-", -1, 0 },
		{ 7, { "to", "x@y", "domain", "y", "older-than", "2h",
		    "held" }, 1, "-", "x@y", "y", 7200, 1 },
		{ 1, { "from" }, 0, "", "", "", 0, 0 },
		{ 1, { "older-than" }, 0, "", "", "", 0, 0 },
		{ 2, { "older-than", "2x" }, 0, "", "", "", 0, 0 },
		{ 2, { "colour", "red" }, 0, "", "", "", 0, 0 },
		{ 2, { "to", "" }, 0, "", "", "", 0, 0 },
		{ 1, { "HELD" }, 0, "", "", "", 0, 0 },
	};

	return cr_make_param_array(struct filter_case, cases, NITEMS(cases));
}

static void
filter_expect(const char *got, const char *want)
{
	if (strcmp(want, "-") == 0)
		cr_assert_null(got);
	else
		cr_assert_str_eq(got, want);
}

ParameterizedTest(struct filter_case *c, sallyctl_filter, parse)
{
	struct ctl_filter	 f;
	const char		*err = NULL;
	char			*argv[ARGV_MAX];
	int			 i;

	for (i = 0; i < c->argc; i++)
		argv[i] = c->argv[i];
	if (!c->ok) {
		cr_assert_eq(ctl_filter_parse(c->argc, argv, &f, &err), -1);
		cr_assert_not_null(err);
		return;
	}
	cr_assert_eq(ctl_filter_parse(c->argc, argv, &f, &err), 0, "%s", err);
	filter_expect(f.from, c->from);
	filter_expect(f.to, c->to);
	filter_expect(f.domain, c->domain);
	cr_assert_eq(f.older_than, c->older);
	cr_assert_eq(f.held, c->held);
}

Test(sallyctl_filter, match)
{
	struct ctl_filter	 f;
	const uint64_t		 now = 1700003600;

	memset(&f, 0, sizeof(f));
	f.older_than = -1;
	cr_assert(ctl_filter_match(&f, "", "bob@x.test", now, "waiting",
	    now));
	f.from = "Alice@Example.TEST";
	cr_assert(ctl_filter_match(&f, "alice@example.test", "b@x", now,
	    "waiting", now));
	cr_assert(!ctl_filter_match(&f, "alice@example.tes", "b@x", now,
	    "waiting", now));
	f.from = "";		/* from <> */
	cr_assert(ctl_filter_match(&f, "", "b@x", now, "waiting", now));
	cr_assert(!ctl_filter_match(&f, "a@x", "b@x", now, "waiting", now));
	f.from = NULL;
	f.domain = "X.test";
	cr_assert(ctl_filter_match(&f, "", "b@x.test", now, "active", now));
	cr_assert(!ctl_filter_match(&f, "", "b@sub.x.test", now, "active",
	    now));
	cr_assert(!ctl_filter_match(&f, "", "x.test", now, "active", now));
	f.domain = NULL;
	f.older_than = 3600;
	cr_assert(!ctl_filter_match(&f, "", "b@x", now - 3600, "waiting",
	    now));
	cr_assert(ctl_filter_match(&f, "", "b@x", now - 3601, "waiting",
	    now));
	/* A creation time past now is no age, not a huge one. */
	cr_assert(!ctl_filter_match(&f, "", "b@x", now + 10, "waiting",
	    now));
	f.older_than = -1;
	f.held = 1;
	cr_assert(!ctl_filter_match(&f, "", "b@x", now, "waiting", now));
	cr_assert(!ctl_filter_match(&f, "", "b@x", now, "active", now));
	cr_assert(ctl_filter_match(&f, "", "b@x", now, "held", now));
	cr_assert(ctl_filter_match(&f, "", "b@x", now, "paused", now));
	cr_assert(ctl_filter_match(&f, "", "b@x", now, "held,paused", now));
}

/* The users table */

#define HEAD	"# name:crypt-hash:uid:gid:home\n"
#define ALICE	"alice:$y$old:1001:1002:/var/mail/sp/alice\n"
#define BOB	"bob:*:1003:1004:/var/mail/sp/bob\n"

struct users_case {
	char	 text[TEXT_MAX];
	int	 op;		/* enum ctl_user_op */
	char	 name[WORD_MAX];
	uint32_t uid, gid;
	char	 home[WORD_MAX];	/* "": default */
	char	 want[TEXT_MAX];	/* "" : refused */
	char	 err[TEXT_MAX];
};

ParameterizedTestParameters(sallyctl_users, edit)
{
	static struct users_case cases[] = {
		/* add: from the last entry, or as given. */
		{ HEAD ALICE "\n# end\n", CTL_USER_ADD, "carol", 0, 0, "",
		    HEAD ALICE "\n# end\n"
		    "carol:$y$new:1001:1002:/var/mail/sp/carol\n", "" },
		{ HEAD ALICE BOB, CTL_USER_ADD, "carol", 7, 8, "/m/c",
		    HEAD ALICE BOB "carol:$y$new:7:8:/m/c\n", "" },
		{ HEAD ALICE BOB, CTL_USER_ADD, "carol", 7, 0, "",
		    HEAD ALICE BOB "carol:$y$new:7:1004:/var/mail/sp/carol\n",
		    "" },
		/* a last line without its newline gets one */
		{ HEAD "alice:x:5:6:/h/alice", CTL_USER_ADD, "bo", 0, 0, "",
		    HEAD "alice:x:5:6:/h/alice\nbo:$y$new:5:6:/h/bo\n", "" },
		{ HEAD ALICE, CTL_USER_ADD, "ALICE", 0, 0, "", "",
		    "user already in the table" },
		{ HEAD ALICE, CTL_USER_ADD, "alic", 0, 0, "",
		    HEAD ALICE "alic:$y$new:1001:1002:/var/mail/sp/alic\n",
		    "" },
		{ HEAD, CTL_USER_ADD, "carol", 0, 0, "", "",
		    "the table has no user to take uid, gid and home from: "
		    "give them" },
		{ HEAD, CTL_USER_ADD, "carol", 9, 9, "/m/c",
		    HEAD "carol:$y$new:9:9:/m/c\n", "" },
		{ HEAD ALICE, CTL_USER_ADD, "carol", 0, 0, "/m/../etc", "",
		    "bad home (absolute, no ':', '.' or '..')" },
		{ HEAD ALICE, CTL_USER_ADD, "carol", 0, 0, "/m:x", "",
		    "bad home (absolute, no ':', '.' or '..')" },
		/* "# alice" is a comment, not alice */
		{ "#alice:x:1:1:/a\n" BOB, CTL_USER_ADD, "alice", 0, 0, "",
		    "#alice:x:1:1:/a\n" BOB
		    "alice:$y$new:1003:1004:/var/mail/sp/alice\n", "" },
		/* passwd: only the hash changes */
		{ HEAD ALICE BOB, CTL_USER_PASSWD, "bob", 0, 0, "",
		    HEAD ALICE "bob:$y$new:1003:1004:/var/mail/sp/bob\n", "" },
		{ HEAD ALICE BOB, CTL_USER_PASSWD, "Alice", 0, 0, "",
		    HEAD "alice:$y$new:1001:1002:/var/mail/sp/alice\n" BOB,
		    "" },
		{ HEAD ALICE, CTL_USER_PASSWD, "bob", 0, 0, "", "",
		    "no such user in the table" },
		{ HEAD "bob\n", CTL_USER_PASSWD, "bob", 0, 0, "", "",
		    "no such user in the table" },
		{ HEAD "bob:x\n", CTL_USER_PASSWD, "bob", 0, 0, "", "",
		    "malformed line" },
		/* del */
		{ HEAD ALICE BOB, CTL_USER_DEL, "alice", 0, 0, "",
		    HEAD BOB, "" },
		{ HEAD ALICE BOB, CTL_USER_DEL, "carol", 0, 0, "", "",
		    "no such user in the table" },
	};

	return cr_make_param_array(struct users_case, cases, NITEMS(cases));
}

ParameterizedTest(struct users_case *c, sallyctl_users, edit)
{
	struct ctl_user_line	 u;
	char			 out[TEXT_MAX * 2];
	const char		*err = NULL;
	ssize_t			 n;

	memset(&u, 0, sizeof(u));
	u.name = c->name;
	u.hash = "$y$new";
	u.uid = c->uid;
	u.gid = c->gid;
	u.home = c->home[0] != '\0' ? c->home : NULL;
	n = ctl_users_edit(c->text, strlen(c->text), (enum ctl_user_op)c->op,
	    &u, out, sizeof(out), &err);
	if (c->want[0] == '\0') {
		cr_assert_eq(n, -1, "%s", out);
		cr_assert_str_eq(err, c->err);
		return;
	}
	cr_assert_eq(n, (ssize_t)strlen(c->want), "%s: %s", err, out);
	cr_assert_str_eq(out, c->want);
}

Test(sallyctl_users, too_small)
{
	struct ctl_user_line	 u = { "carol", "$y$h", 5, 5, "/m/c" };
	char			 out[16];
	const char		*err = NULL;

	cr_assert_eq(ctl_users_edit(HEAD, strlen(HEAD), CTL_USER_ADD, &u,
	    out, sizeof(out), &err), -1);
	cr_assert_str_eq(err, "table too large");
}

Test(sallyctl_users, names)
{
	static const char *const good[] = { "carol", "c.a_r-0l", "A",
	    "x123" };
	static const char *const bad[] = { "", ".carol", "-carol", "carol.",
	    "ca..rol", "car:ol", "car/ol", "car+ol", "car ol", "caröl" };
	char	 longest[AUTHD_NAME_MAX_BYTES + 2];
	size_t	 i;

	for (i = 0; i < NITEMS(good); i++)
		cr_assert(ctl_user_name_valid(good[i]), "%s", good[i]);
	for (i = 0; i < NITEMS(bad); i++)
		cr_assert(!ctl_user_name_valid(bad[i]), "%s", bad[i]);
	memset(longest, 'a', sizeof(longest));
	longest[AUTHD_NAME_MAX_BYTES] = '\0';
	cr_assert(ctl_user_name_valid(longest));
	longest[AUTHD_NAME_MAX_BYTES] = 'a';
	longest[AUTHD_NAME_MAX_BYTES + 1] = '\0';
	cr_assert(!ctl_user_name_valid(longest));
}

/* show envelope's reply */

static struct ipc_out	 out;
static uint8_t		 rec[sizeof(struct ipc_hdr) + IPC_PAYLOAD_MAX_BYTES];

/* As test_sallyctl.c's to_msg: the record parsed as received. */
static void
envinfo_to_msg(struct ipc_msg *m)
{
	cr_assert_eq(ipc_out_error(&out), 0);
	memcpy(rec, &out.hdr, sizeof(out.hdr));
	memcpy(rec + sizeof(out.hdr), out.buf, out.hdr.len);
	cr_assert_eq(ipc_parse(m, rec, sizeof(out.hdr) + out.hdr.len), 0);
}

static void
build_envinfo(const char *evpid, const char *state, uint32_t n,
    const char *key, int extra)
{
	uint32_t	 i;

	ipc_out_init(&out, MSG_CTL_ENVELOPE_INFO, 1);
	ipc_put_str(&out, evpid);
	ipc_put_str(&out, state);
	ipc_put_u32(&out, n);
	for (i = 0; i < n && i < 3; i++) {
		ipc_put_str(&out, i == 0 ? key : "rcpt");
		ipc_put_str(&out, "bob@example.test");
	}
	if (extra)
		ipc_put_u32(&out, 0);
}

Test(sallyctl_reply, envinfo)
{
	static struct ctl_envinfo	 e;
	struct ipc_msg			 m;

	build_envinfo("0123456789abcdef.2", "held", 2, "delay-notified", 0);
	envinfo_to_msg(&m);
	cr_assert_eq(ctl_reply_envinfo(&m, &e), 0);
	cr_assert_str_eq(e.evpid, "0123456789abcdef.2");
	cr_assert_str_eq(e.state, "held");
	cr_assert_eq(e.n, 2);
	cr_assert_str_eq(e.fields[0].key, "delay-notified");
	cr_assert_str_eq(e.fields[1].value, "bob@example.test");
	build_envinfo("0123456789abcdef.2", "held,paused", 1, "smtputf8", 0);
	envinfo_to_msg(&m);
	cr_assert_eq(ctl_reply_envinfo(&m, &e), 0);

	build_envinfo("0123456789abcdef", "held", 1, "rcpt", 0);
	envinfo_to_msg(&m);
	cr_assert_eq(ctl_reply_envinfo(&m, &e), -1, "a msgid, not evpid");
	build_envinfo("0123456789abcdef.2", "frozen", 1, "rcpt", 0);
	envinfo_to_msg(&m);
	cr_assert_eq(ctl_reply_envinfo(&m, &e), -1, "unknown state");
	build_envinfo("0123456789abcdef.2", "held", 1, "Rcpt", 0);
	envinfo_to_msg(&m);
	cr_assert_eq(ctl_reply_envinfo(&m, &e), -1, "key in capitals");
	build_envinfo("0123456789abcdef.2", "held", 1, "a\"b", 0);
	envinfo_to_msg(&m);
	cr_assert_eq(ctl_reply_envinfo(&m, &e), -1, "key with a quote");
	build_envinfo("0123456789abcdef.2", "held", 3, "rcpt", 0);
	envinfo_to_msg(&m);
	cr_assert_eq(ctl_reply_envinfo(&m, &e), 0);
	build_envinfo("0123456789abcdef.2", "held", 4, "rcpt", 0);
	envinfo_to_msg(&m);
	cr_assert_eq(ctl_reply_envinfo(&m, &e), -1, "fewer pairs than n");
	build_envinfo("0123456789abcdef.2", "held", CTL_FIELDS_MAX + 1,
	    "rcpt", 0);
	envinfo_to_msg(&m);
	cr_assert_eq(ctl_reply_envinfo(&m, &e), -1, "n past the maximum");
	build_envinfo("0123456789abcdef.2", "held", 1, "rcpt", 1);
	envinfo_to_msg(&m);
	cr_assert_eq(ctl_reply_envinfo(&m, &e), -1, "trailing bytes");
}
