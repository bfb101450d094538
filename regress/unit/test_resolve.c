/*
 * authd's recipient resolution (authd/authd_resolve.c) over in-memory
 * tables: RCPT_CHECK and RCPT_EXPAND, detail and case, nesting, loops,
 * depth, duplicates, postmaster, and the check made at load.
 */
#include <stdio.h>
#include <string.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "../../authd/authd.h"

#define USERS	"alice:*:1001:1001:/m/alice\n" \
		"bob:*:1002:1002:/m/bob\n" \
		"carol:*:1003:1003:/m/carol\n" \
		"dave:*:1004:1004:/m/dave\n"

/* Arrays, not pointers: Criterion may run a case in a new process. */
struct resolve_case {
	char			 aliases[512];
	char			 rcpt[128];
	enum result_code	 result;
	/* "m:user r:address ...": mailboxes and remote addresses. */
	char			 targets[256];
	enum rcpt_status	 status;
};

struct tables {
	struct auth_users	*users;
	struct auth_aliases	*aliases;
	struct auth_resolver	 r;
};

static int
is_local(const char *domain, void *arg)
{
	(void)arg;
	return strcmp(domain, "example.org") == 0 ||
	    strcmp(domain, "example.net") == 0;
}

static void
tables_open(struct tables *t, const char *users, const char *aliases)
{
	char	 err[256];
	FILE	*fp;

	fp = fmemopen((void *)(uintptr_t)users, strlen(users), "r");
	t->users = authd_users_read(fp, "users", err, sizeof(err));
	fclose(fp);
	cr_assert_not_null(t->users, "%s", err);
	if (*aliases == '\0')
		fp = fopen("/dev/null", "r");
	else
		fp = fmemopen((void *)(uintptr_t)aliases, strlen(aliases),
		    "r");
	t->aliases = authd_aliases_read(fp, "aliases", err, sizeof(err));
	fclose(fp);
	cr_assert_not_null(t->aliases, "%s", err);
	t->r.users = t->users;
	t->r.aliases = t->aliases;
	t->r.is_local = is_local;
	t->r.arg = NULL;
}

static void
tables_close(struct tables *t)
{
	authd_users_free(t->users);
	authd_aliases_free(t->aliases);
}

static void
expand_dump(const struct auth_expand *e, char *buf, size_t len)
{
	size_t	 i;

	buf[0] = '\0';
	for (i = 0; i < e->count; i++)
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%c:%s",
		    i > 0 ? " " : "",
		    e->targets[i].kind == TARGET_MAILBOX ? 'm' : 'r',
		    e->targets[i].value);
}

#define CHAIN8	"a1: a2\na2: a3\na3: a4\na4: a5\na5: a6\na6: a7\na7: a8\n"

static struct resolve_case resolve_cases[] = {
	/* Users, case, detail, quoting. */
	{ "", "alice@example.org", RESULT_OK, "m:alice", RCPT_LOCAL },
	{ "", "ALICE@Example.ORG", RESULT_OK, "m:alice", RCPT_LOCAL },
	{ "", "alice+lists@example.net", RESULT_OK, "m:alice", RCPT_LOCAL },
	{ "", "alice+a+b@example.org", RESULT_OK, "m:alice", RCPT_LOCAL },
	{ "", "\"alice\"@example.org", RESULT_OK, "m:alice", RCPT_LOCAL },
	{ "", "\"Alice+x\"@example.org", RESULT_OK, "m:alice", RCPT_LOCAL },
	{ "", "dave@example.org", RESULT_OK, "m:dave", RCPT_LOCAL },
	{ "", "nobody@example.org", RESULT_PERMFAIL, "", RCPT_NOUSER },
	{ "", "+lists@example.org", RESULT_PERMFAIL, "", RCPT_NOUSER },
	{ "", "al.ice@example.org", RESULT_PERMFAIL, "", RCPT_NOUSER },
	{ "", "j\xc3\xb6rg@example.org", RESULT_PERMFAIL, "", RCPT_NOUSER },
	{ "", "not an address", RESULT_PERMFAIL, "", RCPT_NOUSER },
	{ "", "", RESULT_PERMFAIL, "", RCPT_NOUSER },
	/* Not ours. */
	{ "", "alice@elsewhere.test", RESULT_OK, "r:alice@elsewhere.test",
	    RCPT_NONLOCAL },
	{ "", "Alice@ELSEWHERE.test", RESULT_OK, "r:Alice@elsewhere.test",
	    RCPT_NONLOCAL },
	{ "", "alice@[192.0.2.1]", RESULT_OK, "r:alice@[192.0.2.1]",
	    RCPT_NONLOCAL },
	/* Aliases: lists, nesting, remote targets, precedence. */
	{ "team: alice, bob, carol@elsewhere.test\n", "team@example.org",
	    RESULT_OK, "m:alice m:bob r:carol@elsewhere.test", RCPT_LOCAL },
	{ "team: alice, bob\n", "Team+x@example.org", RESULT_OK,
	    "m:alice m:bob", RCPT_LOCAL },
	{ "all: team, dave\nteam: alice, bob\n", "all@example.org",
	    RESULT_OK, "m:alice m:bob m:dave", RCPT_LOCAL },
	{ "bob: carol\n", "bob@example.org", RESULT_OK, "m:carol",
	    RCPT_LOCAL },
	{ "fwd: bob@example.net\n", "fwd@example.org", RESULT_OK, "m:bob",
	    RCPT_LOCAL },
	{ "fwd: Bob+x@EXAMPLE.NET\n", "fwd@example.org", RESULT_OK, "m:bob",
	    RCPT_LOCAL },
	{ "fwd: team@example.net\nteam: alice\n", "fwd@example.org",
	    RESULT_OK, "m:alice", RCPT_LOCAL },
	/* Duplicates removed; a diamond is not a loop. */
	{ "all: t1, t2\nt1: alice, bob\nt2: bob, alice, t1\n",
	    "all@example.org", RESULT_OK, "m:alice m:bob", RCPT_LOCAL },
	{ "l: alice, alice@example.org, ALICE, \\alice\n", "l@example.org",
	    RESULT_OK, "m:alice", RCPT_LOCAL },
	{ "l: carol@elsewhere.test, carol@ELSEWHERE.test\n",
	    "l@example.org", RESULT_OK, "r:carol@elsewhere.test",
	    RCPT_LOCAL },
	/* "alice: alice, bob" keeps a copy; "\alice" is the user. */
	{ "alice: alice, bob\n", "alice@example.org", RESULT_OK,
	    "m:alice m:bob", RCPT_LOCAL },
	{ "alice: \\alice, carol@elsewhere.test\n", "alice@example.org",
	    RESULT_OK, "m:alice r:carol@elsewhere.test", RCPT_LOCAL },
	{ "alice: team\nteam: alice, bob\n", "alice@example.org", RESULT_OK,
	    "m:alice m:bob", RCPT_LOCAL },
	/* Loops, unknown targets. */
	{ "a: b\nb: a\n", "a@example.org", RESULT_TEMPFAIL, "",
	    RCPT_TEMPFAIL },
	{ "x: x\n", "x@example.org", RESULT_TEMPFAIL, "", RCPT_TEMPFAIL },
	{ "x: alice, y\ny: z\nz: x\n", "x@example.org", RESULT_TEMPFAIL, "",
	    RCPT_TEMPFAIL },
	{ "list: alice, ghost\n", "list@example.org", RESULT_TEMPFAIL, "",
	    RCPT_TEMPFAIL },
	{ "list: \\ghost\n", "list@example.org", RESULT_TEMPFAIL, "",
	    RCPT_TEMPFAIL },
	{ "list: \\team\nteam: alice\n", "list@example.org", RESULT_TEMPFAIL,
	    "", RCPT_TEMPFAIL },
	{ "fwd: ghost@example.org\n", "fwd@example.org", RESULT_TEMPFAIL, "",
	    RCPT_TEMPFAIL },
	/* ALIAS_DEPTH_MAX (8) aliases deep, and one more. */
	{ CHAIN8 "a8: alice\n", "a1@example.org", RESULT_OK, "m:alice",
	    RCPT_LOCAL },
	{ CHAIN8 "a8: a9\na9: alice\n", "a1@example.org", RESULT_TEMPFAIL,
	    "", RCPT_TEMPFAIL },
	{ CHAIN8 "a8: a9\na9: alice\n", "a2@example.org", RESULT_OK,
	    "m:alice", RCPT_LOCAL },
	/* postmaster: always accepted; waits until someone is postmaster. */
	{ "", "postmaster@example.org", RESULT_TEMPFAIL, "", RCPT_LOCAL },
	{ "", "Postmaster", RESULT_TEMPFAIL, "", RCPT_LOCAL },
	{ "postmaster: alice\n", "POSTMASTER@example.org", RESULT_OK,
	    "m:alice", RCPT_LOCAL },
	{ "postmaster: alice\n", "postmaster", RESULT_OK, "m:alice",
	    RCPT_LOCAL },
	{ "postmaster: ghost\n", "postmaster@example.org", RESULT_TEMPFAIL,
	    "", RCPT_LOCAL },
	{ "postmaster: alice\n", "postmaster@elsewhere.test", RESULT_OK,
	    "r:postmaster@elsewhere.test", RCPT_NONLOCAL },
	{ "", "postmaster+x@example.org", RESULT_TEMPFAIL, "", RCPT_LOCAL },
};

ParameterizedTestParameters(resolve, cases)
{
	return cr_make_param_array(struct resolve_case, resolve_cases,
	    sizeof(resolve_cases) / sizeof(resolve_cases[0]));
}

ParameterizedTest(struct resolve_case *c, resolve, cases)
{
	struct tables		 t;
	struct auth_expand	*e;
	char			 buf[1024];

	tables_open(&t, USERS, c->aliases);
	e = malloc(sizeof(*e));
	cr_assert_not_null(e);
	authd_resolve_expand(&t.r, c->rcpt, e);
	expand_dump(e, buf, sizeof(buf));
	cr_assert_eq(e->result, c->result, "%s: result %d (%s)", c->rcpt,
	    e->result, e->why);
	if (e->result == RESULT_OK)
		cr_assert_str_eq(buf, c->targets, "%s", c->rcpt);
	else
		cr_assert_neq(e->why[0], '\0');
	cr_assert_eq(authd_resolve_check(&t.r, c->rcpt), c->status, "%s",
	    c->rcpt);
	free(e);
	tables_close(&t);
}

Test(resolve, why)
{
	struct tables		 t;
	struct auth_expand	*e;

	tables_open(&t, USERS, "a: b\nb: a\nl: alice, ghost\n");
	e = malloc(sizeof(*e));
	authd_resolve_expand(&t.r, "a@example.org", e);
	cr_assert_str_eq(e->why, "alias loop at a");
	authd_resolve_expand(&t.r, "l@example.org", e);
	cr_assert_str_eq(e->why, "alias target ghost is no user or alias");
	authd_resolve_expand(&t.r, "zed@example.org", e);
	cr_assert_str_eq(e->why, "no such user zed");
	authd_resolve_expand(&t.r, "postmaster@example.org", e);
	cr_assert_str_eq(e->why,
	    "no postmaster alias or user: add one to the aliases");
	free(e);
	tables_close(&t);
}

/* ALIAS_TARGETS_MAX targets in all, and one more. */
Test(resolve, too_many_targets)
{
	static char		 text[2 * ALIAS_TARGETS_MAX * 24];
	struct tables		 t;
	struct auth_expand	*e;
	size_t			 i, len;

	len = snprintf(text, sizeof(text), "all: l1, l2\nl1: x0@r.test\n");
	for (i = 1; i < ALIAS_TARGETS_MAX / 2; i++)
		len += snprintf(text + len, sizeof(text) - len,
		    " x%zu@r.test\n", i);
	len += snprintf(text + len, sizeof(text) - len, "l2: y0@r.test\n");
	for (i = 1; i < ALIAS_TARGETS_MAX / 2; i++)
		len += snprintf(text + len, sizeof(text) - len,
		    " y%zu@r.test\n", i);
	tables_open(&t, USERS, text);
	e = malloc(sizeof(*e));
	authd_resolve_expand(&t.r, "all@example.org", e);
	cr_assert_eq(e->result, RESULT_OK, "%s", e->why);
	cr_assert_eq(e->count, ALIAS_TARGETS_MAX);
	tables_close(&t);

	(void)snprintf(text + len, sizeof(text) - len, " alice\n");
	tables_open(&t, USERS, text);
	authd_resolve_expand(&t.r, "all@example.org", e);
	cr_assert_eq(e->result, RESULT_TEMPFAIL);
	cr_assert_eq(authd_resolve_check(&t.r, "all@example.org"),
	    RCPT_TEMPFAIL);
	cr_assert_eq(authd_resolve_check(&t.r, "l1@example.org"),
	    RCPT_LOCAL);
	free(e);
	tables_close(&t);
}

struct validate_case {
	char	 aliases[256];
	char	 err[128];	/* "" when valid */
};

static struct validate_case validate_cases[] = {
	{ "", "" },
	{ "postmaster: alice\nteam: alice, bob, x@r.test\n", "" },
	{ "alice: alice, bob\n", "" },
	{ "all: t1, t2\nt1: alice\nt2: t1\n", "" },
	{ "a: b\nb: a\n", "aliases:1: alias a: alias loop at a" },
	{ "ok: alice\n\nlist: alice,\n  ghost\n",
	    "aliases:3: alias list: alias target ghost is no user or alias" },
	{ "fwd: ghost@example.org\n",
	    "aliases:1: alias fwd: alias target ghost is no user or alias" },
	{ CHAIN8 "a8: a9\na9: alice\n",
	    "aliases:1: alias a1: aliases nested too deep at a9" },
};

ParameterizedTestParameters(resolve, validate)
{
	return cr_make_param_array(struct validate_case, validate_cases,
	    sizeof(validate_cases) / sizeof(validate_cases[0]));
}

ParameterizedTest(struct validate_case *c, resolve, validate)
{
	struct tables	 t;
	char		 err[256] = "";
	int		 rv;

	tables_open(&t, USERS, c->aliases);
	rv = authd_resolve_validate(&t.r, err, sizeof(err));
	if (c->err[0] == '\0')
		cr_assert_eq(rv, 0, "%s", err);
	else {
		cr_assert_eq(rv, -1);
		cr_assert_str_eq(err, c->err);
	}
	tables_close(&t);
}

struct login_case {
	char	 in[300];
	int	 rv;
	char	 out[300];
};

static struct login_case login_cases[] = {
	{ "alice", 0, "alice" },
	{ "Alice", 0, "alice" },
	{ "alice@example.org", 0, "alice" },
	{ "ALICE@EXAMPLE.NET", 0, "alice" },
	{ "alice@elsewhere.test", 0, "alice@elsewhere.test" },
	{ "a@b@example.org", 0, "a@b" },
	{ "alice@", 0, "alice@" },
	{ "", 0, "" },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	  -1, "" },
};

ParameterizedTestParameters(resolve, login)
{
	return cr_make_param_array(struct login_case, login_cases,
	    sizeof(login_cases) / sizeof(login_cases[0]));
}

ParameterizedTest(struct login_case *c, resolve, login)
{
	struct tables	 t;
	char		 key[100];

	tables_open(&t, USERS, "");
	cr_assert_eq(authd_resolve_login(&t.r, c->in, key, sizeof(key)),
	    c->rv);
	if (c->rv == 0)
		cr_assert_str_eq(key, c->out);
	tables_close(&t);
}
