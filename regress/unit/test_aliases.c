/*
 * authd's aliases table (authd/authd_aliases.c): aliases(5) syntax,
 * continuation lines, the refused targets, and the errors.
 */
#include <stdio.h>
#include <string.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "../../authd/authd.h"

/* Arrays, not pointers: Criterion may run a case in a new process. */
struct alias_case {
	char	 text[512];
	char	 err[128];	/* "" when the table must load */
	size_t	 count;		/* aliases */
	char	 name[32];	/* one alias to look at, */
	char	 targets[256];	/* its targets: "kind:value ..." */
};

static struct auth_aliases *
aliases_from(const char *text, char *err, size_t errlen)
{
	struct auth_aliases	*t;
	FILE			*fp;

	fp = fmemopen((void *)(uintptr_t)text, strlen(text), "r");
	cr_assert_not_null(fp);
	t = authd_aliases_read(fp, "aliases", err, errlen);
	fclose(fp);
	return t;
}

/* Writes an alias's targets as "kind:value ..." (n, u, a). */
static void
aliases_dump(const struct auth_alias *al, char *buf, size_t len)
{
	static const char	 kinds[] = " nua";
	size_t			 i;

	buf[0] = '\0';
	for (i = 0; i < al->ntargets; i++) {
		if (i > 0)
			strlcat(buf, " ", len);
		snprintf(buf + strlen(buf), len - strlen(buf), "%c:%s",
		    kinds[al->targets[i].kind], al->targets[i].value);
	}
}

static struct alias_case alias_cases[] = {
	{ "", "", 0, "", "" },
	{ "# c\n\n  \n", "", 0, "", "" },
	{ "postmaster: alice\n", "", 1, "postmaster", "n:alice" },
	{ "PostMaster:Alice", "", 1, "postmaster", "n:alice" },
	{ "team: alice, bob ,carol@Elsewhere.TEST\n", "", 1, "team",
	    "n:alice n:bob a:carol@elsewhere.test" },
	{ "team: alice,\n  bob,\n\tcarol\n", "", 1, "team",
	    "n:alice n:bob n:carol" },
	{ "team: alice\n# a comment between\n  bob\n", "", 1, "team",
	    "n:alice n:bob" },
	{ "team:\n alice\n", "", 1, "team", "n:alice" },
	{ "team: alice,, bob,\n", "", 1, "team", "n:alice n:bob" },
	{ "alice: \\alice, bob\n", "", 1, "alice", "u:alice n:bob" },
	{ "x: \"john doe\"@example.org, \"a,b\"@example.org\n", "", 1, "x",
	    "a:\"john doe\"@example.org a:\"a,b\"@example.org" },
	{ "a: b\nb: c\nc: d\n", "", 3, "b", "n:c" },
	{ "team alice\n", "aliases:1: expected name: targets", 0, "", "" },
	{ "  alice\n", "aliases:1: continuation line without an alias", 0,
	    "", "" },
	{ "team:\n", "aliases:1: alias without targets", 0, "", "" },
	{ "team:\nother: x\n", "aliases:1: alias without targets", 0, "",
	    "" },
	{ "team: ,\n", "aliases:1: alias without targets", 0, "", "" },
	{ "a: x\na: y\n", "aliases:2: duplicate alias", 0, "", "" },
	{ "a: x\nA: y\n", "aliases:2: duplicate alias", 0, "", "" },
	{ ": x\n", "aliases:1: bad alias name", 0, "", "" },
	{ "a b: x\n", "aliases:1: bad alias name", 0, "", "" },
	{ "a+b: x\n", "aliases:1: bad alias name", 0, "", "" },
	{ "a@b: x\n", "aliases:1: bad alias name", 0, "", "" },
	{ "a: |/usr/bin/vacation\n", "aliases:1: command targets are refused",
	    0, "", "" },
	{ "a: x,\n  /var/mail/a\n", "aliases:2: file targets are refused", 0,
	    "", "" },
	{ "a: :include:/etc/list\n", "aliases:1: :include: targets are "
	    "refused", 0, "", "" },
	{ "a: :INCLUDE:/etc/list\n", "aliases:1: :include: targets are "
	    "refused", 0, "", "" },
	{ "a: \"|cmd\"\n", "aliases:1: missing @", 0, "", "" },
	{ "a: \"john, b\n", "aliases:1: unterminated quote", 0, "", "" },
	{ "a: b c\n", "aliases:1: bad name", 0, "", "" },
	{ "a: b+c\n", "aliases:1: bad name", 0, "", "" },
	{ "a: \\\n", "aliases:1: bad user name after \\", 0, "", "" },
	{ "a: \\b@c\n", "aliases:1: bad user name after \\", 0, "", "" },
	{ "a: b@\n", "aliases:1: empty domain", 0, "", "" },
	{ "a: b@-x.org\n", "aliases:1: bad domain", 0, "", "" },
	{ "a: b@x..org\n", "aliases:1: bad domain", 0, "", "" },
	{ "a: j\xc3\xb6rg@x.org\n",
	    "aliases:1: 8-bit character without SMTPUTF8", 0, "", "" },
	{ "ok: x\nbad\x01: y\n", "aliases:2: bad alias name", 0, "", "" },
};

ParameterizedTestParameters(aliases, parse)
{
	return cr_make_param_array(struct alias_case, alias_cases,
	    sizeof(alias_cases) / sizeof(alias_cases[0]));
}

ParameterizedTest(struct alias_case *c, aliases, parse)
{
	struct auth_aliases	*t;
	const struct auth_alias	*al;
	char			 err[256] = "", buf[512];

	t = aliases_from(c->text, err, sizeof(err));
	if (c->err[0] != '\0') {
		cr_assert_null(t, "accepted: %s", c->text);
		cr_assert_str_eq(err, c->err, "%s", c->text);
		return;
	}
	cr_assert_not_null(t, "refused: %s", err);
	cr_assert_eq(t->count, c->count);
	if (c->name[0] != '\0') {
		al = authd_aliases_find(t, c->name);
		cr_assert_not_null(al, "%s", c->name);
		aliases_dump(al, buf, sizeof(buf));
		cr_assert_str_eq(buf, c->targets);
	}
	authd_aliases_free(t);
}

Test(aliases, line_numbers)
{
	struct auth_aliases	*t;
	const struct auth_alias	*al;
	char			 err[256];

	t = aliases_from("# header\n\nfirst: a\n  b\n\nsecond: c\n", err,
	    sizeof(err));
	cr_assert_not_null(t, "%s", err);
	al = authd_aliases_find(t, "FIRST");
	cr_assert_not_null(al);
	cr_assert_eq(al->line, 3);
	cr_assert_eq(authd_aliases_find(t, "second")->line, 6);
	cr_assert_null(authd_aliases_find(t, "third"));
	cr_assert_str_eq(t->file, "aliases");
	authd_aliases_free(t);
}

Test(aliases, too_many_targets)
{
	static char		 text[ALIAS_TARGETS_MAX * 8 + 64];
	struct auth_aliases	*t;
	char			 err[256];
	size_t			 i, len;

	len = snprintf(text, sizeof(text), "big: u0\n");
	for (i = 1; i < ALIAS_TARGETS_MAX; i++)
		len += snprintf(text + len, sizeof(text) - len, " u%zu\n", i);
	t = aliases_from(text, err, sizeof(err));
	cr_assert_not_null(t, "%s", err);
	cr_assert_eq(authd_aliases_find(t, "big")->ntargets,
	    ALIAS_TARGETS_MAX);
	authd_aliases_free(t);
	(void)snprintf(text + len, sizeof(text) - len, " one-more\n");
	cr_assert_null(aliases_from(text, err, sizeof(err)));
	cr_assert_str_eq(err, "aliases:1001: too many targets");
}

Test(aliases, long_line)
{
	static char		 text[AUTH_TABLE_LINE_MAX_BYTES + 64];
	char			 err[256];

	memcpy(text, "a: ", 3);
	memset(text + 3, 'b', AUTH_TABLE_LINE_MAX_BYTES);
	text[AUTH_TABLE_LINE_MAX_BYTES + 3] = '\n';
	cr_assert_null(aliases_from(text, err, sizeof(err)));
	cr_assert_str_eq(err, "aliases:1: line too long");
}
