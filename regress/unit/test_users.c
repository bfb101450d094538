/*
 * authd's users table (authd/authd_users.c), its password checks
 * (authd_passwd.c) and its one-time tokens (authd_token.c).
 */
#include <stdio.h>
#include <string.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "../../authd/authd.h"

/* openssl passwd -6 -salt saltsaltsalt demo */
#define H_DEMO	"$6$saltsaltsalt$FKCvbiEcEaquLWLrFs/PCJ5Kl1SbtWhTCDkpmq" \
		"UxcXgf0.ws2sLFbcPwq1l7JCx78f0V/LYINLdDlFXteoUQy/"
/* openssl passwd -6 -salt othersalt secret */
#define H_SECRET "$6$othersalt$yWbVSCJkZ2vwPSOjzg4gnuy.yIFq54VHHC2Mn0Xe" \
		"CpHF6E4vSqSPQ/Q7TMZo3H9HnWE0Q4MIvE9DZW9eoiqoz/"
/* openssl passwd -1 -salt abcdefgh demo: MD5, legacy but accepted. */
#define H_MD5	"$1$abcdefgh$bVo2O2/zpxBPLaG64PSCs/"

/* Arrays, not pointers: Criterion may run a case in a new process. */
struct table_case {
	char	 text[1024];
	char	 err[256];	/* "" when the table must load */
	size_t	 count;
};

static struct auth_users *
users_from(const char *text, char *err, size_t errlen)
{
	struct auth_users	*t;
	FILE			*fp;

	fp = fmemopen((void *)(uintptr_t)text, strlen(text), "r");
	cr_assert_not_null(fp);
	t = authd_users_read(fp, "users", err, errlen);
	fclose(fp);
	return t;
}

static struct table_case users_cases[] = {
	{ "", "", 0 },
	{ "# only a comment\n\n   \n\t# indented comment\n", "", 0 },
	{ "alice:" H_DEMO ":1001:1001:/var/mail/alice\n", "", 1 },
	{ "alice:" H_DEMO ":1001:1001:/var/mail/alice", "", 1 },
	{ "alice:" H_DEMO ":1001:1001:/var/mail/alice\r\n", "", 1 },
	{ "alice:" H_DEMO ":1001:1001:/m/a\nbob:*:1002:1002:/m/b\n"
	    "carol:!" H_DEMO ":1003:1003:/m/c\ndave:" H_MD5 ":1004:1:/m/d\n",
	    "", 4 },
	{ "first.last:" H_DEMO ":1001:1001:/m/x\nx_y-z9:*:5:5:/\n", "", 2 },
	{ "alice:" H_DEMO ":4294967294:1001:/m/a\n", "", 1 },
	{ "alice\n", "users:1: expected name:hash:uid:gid:home[:options]",
	    0 },
	{ "alice:x:1:1\n", "users:1: expected name:hash:uid:gid:home[:options]",
	    0 },
	{ "alice:*:1:1:/m:extra\n", "users:1: unknown option (only quota=SIZE)",
	    0 },
	{ "alice:*:1:1:/m:quota=1M:x\n",
	    "users:1: expected name:hash:uid:gid:home[:options]", 0 },
	{ "alice:*:1:1:/m:quota=100M\nbob:*:2:2:/n:\n",
	    "users:2: unknown option (only quota=SIZE)", 0 },
	{ "alice:*:1:1:/m:quota=\n", "users:1: quota not a number", 0 },
	{ "alice:*:1:1:/m:quota=-1\n", "users:1: quota not a number", 0 },
	{ "alice:*:1:1:/m:quota=10X\n",
	    "users:1: quota unit not K, M, G or T", 0 },
	{ "alice:*:1:1:/m:quota=10MB\n",
	    "users:1: quota unit not K, M, G or T", 0 },
	{ "alice:*:1:1:/m:quota=1025T\n", "users:1: quota too large", 0 },
	{ "alice:*:1:1:/m:quota=99999999999999999999\n",
	    "users:1: quota too large", 0 },
	{ "alice:*:1:1:/m:quota=100M\nbob:*:2:2:/n:quota=0\n", "", 2 },
	{ "\n# c\nalice:*:0:1:/m\n", "users:3: uid or gid 0 refused", 0 },
	{ "alice:*:1:0:/m\n", "users:1: uid or gid 0 refused", 0 },
	{ "alice:*:-1:1:/m\n", "users:1: uid or gid not a number", 0 },
	{ "alice:*:+1:1:/m\n", "users:1: uid or gid not a number", 0 },
	{ "alice:*:1x:1:/m\n", "users:1: uid or gid not a number", 0 },
	{ "alice:*::1:/m\n", "users:1: uid or gid not a number", 0 },
	{ "alice:*:4294967295:1:/m\n", "users:1: uid or gid not a number",
	    0 },
	{ "alice:*:1:1:var/mail\n", "users:1: home not an absolute path", 0 },
	{ "alice:*:1:1:\n", "users:1: home not an absolute path", 0 },
	{ "alice:*:1:1:/var/../etc\n", "users:1: home holds . or ..", 0 },
	{ "alice:*:1:1:/var/mail/..\n", "users:1: home holds . or ..", 0 },
	{ "alice:*:1:1:/var/./mail\n", "users:1: home holds . or ..", 0 },
	{ "alice:*:1:1:/var/m\tail\n", "users:1: control character in home",
	    0 },
	{ "alice::1:1:/m\n",
	    "users:1: empty hash (use * to disable password login)", 0 },
	{ "alice:$6$salt$:1:1:/m\n", "users:1: incomplete hash", 0 },
	{ "alice:junk:1:1:/m\n", "users:1: incomplete hash", 0 },
	{ "alice:$9$what:1:1:/m\n", "users:1: hash not understood by crypt(3)",
	    0 },
	{ ":*:1:1:/m\n", "users:1: bad user name", 0 },
	{ " alice:*:1:1:/m\n", "users:1: bad user name", 0 },
	{ "al ice:*:1:1:/m\n", "users:1: bad user name", 0 },
	{ "bob+x:*:1:1:/m\n", "users:1: bad user name", 0 },
	{ "bob@x:*:1:1:/m\n", "users:1: bad user name", 0 },
	{ ".bob:*:1:1:/m\n", "users:1: bad user name", 0 },
	{ "bob.:*:1:1:/m\n", "users:1: bad user name", 0 },
	{ "b..ob:*:1:1:/m\n", "users:1: bad user name", 0 },
	{ "-bob:*:1:1:/m\n", "users:1: bad user name", 0 },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    ":*:1:1:/m\n", "users:1: bad user name", 0 },
	{ "alice:*:1:1:/m\nAlice:*:2:2:/n\n", "users:2: duplicate user", 0 },
	{ "ok:*:1:1:/m\nbad\x01:*:1:1:/m\n", "users:2: bad user name", 0 },
};

ParameterizedTestParameters(users, parse)
{
	return cr_make_param_array(struct table_case, users_cases,
	    sizeof(users_cases) / sizeof(users_cases[0]));
}

ParameterizedTest(struct table_case *c, users, parse)
{
	struct auth_users	*t;
	char			 err[256] = "";

	t = users_from(c->text, err, sizeof(err));
	if (c->err[0] == '\0') {
		cr_assert_not_null(t, "refused: %s", err);
		cr_assert_eq(t->count, c->count);
		authd_users_free(t);
	} else {
		cr_assert_null(t, "accepted: %s", c->text);
		cr_assert_str_eq(err, c->err);
	}
}

Test(users, fields_and_case)
{
	struct auth_users	*t;
	const struct auth_user	*u;
	char			 err[256];

	t = users_from("Alice:" H_DEMO ":1001:1002:/var/mail/alice\n"
	    "bob:*:1003:1003:/var/mail/bob\n", err, sizeof(err));
	cr_assert_not_null(t, "%s", err);
	u = authd_users_find(t, "ALICE");
	cr_assert_not_null(u);
	cr_assert_str_eq(u->name, "alice");
	cr_assert_str_eq(u->hash, H_DEMO);
	cr_assert_eq(u->uid, 1001);
	cr_assert_eq(u->gid, 1002);
	cr_assert_str_eq(u->home, "/var/mail/alice");
	cr_assert(authd_users_can_login(u));
	cr_assert_not(authd_users_can_login(authd_users_find(t, "bob")));
	cr_assert_null(authd_users_find(t, "carol"));
	cr_assert_null(authd_users_find(t, ""));
	authd_users_free(t);
}

struct size_case {
	char		 text[32];
	uint64_t	 v;	/* UINT64_MAX: refused */
};

static struct size_case size_cases[] = {
	{ "0", 0 },
	{ "4096", 4096 },
	{ "1k", 1024 },
	{ "1K", 1024 },
	{ "100M", 100ULL << 20 },
	{ "3g", 3ULL << 30 },
	{ "1024T", 1ULL << 50 },
	{ "1125899906842624", 1ULL << 50 },
	{ "1125899906842625", UINT64_MAX },
	{ "1025T", UINT64_MAX },
	{ "1.5G", UINT64_MAX },
	{ " 1M", UINT64_MAX },
	{ "1M ", UINT64_MAX },
	{ "M", UINT64_MAX },
	{ "", UINT64_MAX },
};

ParameterizedTestParameters(users, quota_size)
{
	return cr_make_param_array(struct size_case, size_cases,
	    sizeof(size_cases) / sizeof(size_cases[0]));
}

ParameterizedTest(struct size_case *c, users, quota_size)
{
	uint64_t	 v = 12345;
	const char	*why = authd_users_size(c->text, &v);

	if (c->v == UINT64_MAX) {
		cr_assert_not_null(why, "accepted: \"%s\"", c->text);
		cr_assert_eq(v, 12345);
	} else {
		cr_assert_null(why, "\"%s\": %s", c->text, why);
		cr_assert_eq(v, c->v, "\"%s\": %llu", c->text,
		    (unsigned long long)v);
	}
}

Test(users, quota_field)
{
	struct auth_users	*t;
	char			 err[256];

	t = users_from("alice:*:1001:1001:/var/mail/alice:quota=2M\n"
	    "bob:*:1002:1002:/var/mail/bob\n"
	    "carol:*:1003:1003:/var/mail/carol:quota=512\n", err,
	    sizeof(err));
	cr_assert_not_null(t, "%s", err);
	cr_assert_eq(authd_users_find(t, "alice")->quota, 2 * 1024 * 1024);
	cr_assert_str_eq(authd_users_find(t, "alice")->home,
	    "/var/mail/alice");
	cr_assert_eq(authd_users_find(t, "bob")->quota, 0);
	cr_assert_eq(authd_users_find(t, "carol")->quota, 512);
	authd_users_free(t);
}

Test(users, line_limits)
{
	static char		 text[AUTH_TABLE_LINE_MAX_BYTES + 64];
	struct auth_users	*t;
	char			 err[256];
	size_t			 n;

	/* A comment exactly AUTH_TABLE_LINE_MAX_BYTES long is fine. */
	memset(text, 'x', sizeof(text));
	text[0] = '#';
	text[AUTH_TABLE_LINE_MAX_BYTES] = '\n';
	text[AUTH_TABLE_LINE_MAX_BYTES + 1] = '\0';
	t = users_from(text, err, sizeof(err));
	cr_assert_not_null(t, "%s", err);
	authd_users_free(t);
	/* One byte more is not. */
	n = AUTH_TABLE_LINE_MAX_BYTES + 1;
	text[AUTH_TABLE_LINE_MAX_BYTES] = 'x';
	text[n] = '\n';
	text[n + 1] = '\0';
	cr_assert_null(users_from(text, err, sizeof(err)));
	cr_assert_str_eq(err, "users:1: line too long");
}

Test(users, nul_byte)
{
	static const char	 text[] = "alice:*:1:1:/m\nbob\0:*:1:1:/m\n";
	struct auth_users	*t;
	char			 err[256];
	FILE			*fp;

	fp = fmemopen((void *)(uintptr_t)text, sizeof(text) - 1, "r");
	t = authd_users_read(fp, "users", err, sizeof(err));
	fclose(fp);
	cr_assert_null(t);
	cr_assert_str_eq(err, "users:2: NUL byte in line");
}

Test(users, too_many_entries)
{
	struct auth_users	*t;
	char			 err[256];
	char			*text;
	size_t			 i, len = 0, size;
	FILE			*fp;

	size = (AUTH_TABLE_ENTRIES_MAX + 1) * 32;
	text = malloc(size);
	cr_assert_not_null(text);
	for (i = 0; i <= AUTH_TABLE_ENTRIES_MAX; i++)
		len += snprintf(text + len, size - len, "u%zu:*:1:1:/m\n", i);
	fp = fmemopen(text, len, "r");
	t = authd_users_read(fp, "users", err, sizeof(err));
	fclose(fp);
	free(text);
	cr_assert_null(t);
	cr_assert_str_eq(err, "users:100001: too many entries");
}

struct pw_case {
	char	 user[64];
	char	 pass[64];
	int	 ok;
};

static struct pw_case pw_cases[] = {
	{ "alice", "demo", 1 },
	{ "ALICE", "demo", 1 },
	{ "alice", "Demo", 0 },
	{ "alice", "demo ", 0 },
	{ "alice", "", 0 },
	{ "alice", "secret", 0 },
	{ "dave", "demo", 1 },
	{ "erin", "secret", 1 },
	{ "bob", "demo", 0 },		/* '*': no password login */
	{ "carol", "demo", 0 },		/* '!hash': locked */
	{ "nobody", "demo", 0 },
	{ "", "", 0 },
};

ParameterizedTestParameters(users, password)
{
	return cr_make_param_array(struct pw_case, pw_cases,
	    sizeof(pw_cases) / sizeof(pw_cases[0]));
}

ParameterizedTest(struct pw_case *c, users, password)
{
	struct auth_users	*t;
	char			 err[256];

	t = users_from("alice:" H_DEMO ":1001:1001:/m/a\n"
	    "bob:*:1002:1002:/m/b\n"
	    "carol:!" H_DEMO ":1003:1003:/m/c\n"
	    "dave:" H_MD5 ":1004:1004:/m/d\n"
	    "erin:" H_SECRET ":1005:1005:/m/e\n", err, sizeof(err));
	cr_assert_not_null(t, "%s", err);
	cr_assert_eq(authd_passwd_prepare(t), 0);
	cr_assert_eq(strncmp(t->dummy, "$6$", 3), 0, "dummy %s", t->dummy);
	cr_assert_eq(authd_passwd_check(t, c->user, c->pass) == 0, c->ok,
	    "%s/%s", c->user, c->pass);
	authd_users_free(t);
}

Test(users, dummy_without_users)
{
	struct auth_users	*t;
	char			 err[256];

	t = users_from("bob:*:1:1:/m\n", err, sizeof(err));
	cr_assert_not_null(t);
	cr_assert_eq(authd_passwd_prepare(t), 0);
	cr_assert_eq(t->dummy[0], '$', "dummy %s", t->dummy);
	cr_assert_eq(authd_passwd_check(t, "bob", ""), -1);
	cr_assert_eq(authd_passwd_check(t, "nobody", ""), -1);
	authd_users_free(t);
}

Test(users, equal)
{
	cr_assert(authd_passwd_equal("abc", "abc", 3));
	cr_assert_not(authd_passwd_equal("abc", "abd", 3));
	cr_assert(authd_passwd_equal("abc", "abd", 2));
	cr_assert(authd_passwd_equal("", "x", 0));
}

Test(users, tokens)
{
	uint8_t	 tok[AUTH_TOKEN_BYTES], tok2[AUTH_TOKEN_BYTES];
	char	 user[AUTHD_NAME_MAX_BYTES + 1];

	authd_token_clear();
	cr_assert_eq(authd_token_create("alice", 100, tok), 0);
	cr_assert_eq(authd_token_create("bob", 101, tok2), 0);
	cr_assert_neq(memcmp(tok, tok2, sizeof(tok)), 0);
	cr_assert_eq(authd_token_count(), 2);
	cr_assert_eq(authd_token_redeem(tok2, 102, user, sizeof(user)), 0);
	cr_assert_str_eq(user, "bob");
	/* Good once. */
	cr_assert_eq(authd_token_redeem(tok2, 102, user, sizeof(user)), -1);
	/* One bit off. */
	tok[0] ^= 1;
	cr_assert_eq(authd_token_redeem(tok, 102, user, sizeof(user)), -1);
	tok[0] ^= 1;
	/* Expired at exactly AUTH_TOKEN_TTL_SECS. */
	cr_assert_eq(authd_token_redeem(tok, 100 + AUTH_TOKEN_TTL_SECS, user,
	    sizeof(user)), -1);
	cr_assert_eq(authd_token_count(), 0);
	cr_assert_eq(authd_token_create("alice", 200, tok), 0);
	cr_assert_eq(authd_token_redeem(tok, 200 + AUTH_TOKEN_TTL_SECS - 1,
	    user, sizeof(user)), 0);
	cr_assert_str_eq(user, "alice");
}

Test(users, tokens_bounded)
{
	uint8_t	 tok[AUTH_TOKEN_BYTES];
	size_t	 i;

	authd_token_clear();
	for (i = 0; i < AUTHD_TOKENS_MAX; i++)
		cr_assert_eq(authd_token_create("alice", 100, tok), 0);
	cr_assert_eq(authd_token_create("alice", 100, tok), -1);
	/* Room again once they have expired. */
	cr_assert_eq(authd_token_create("alice", 100 + AUTH_TOKEN_TTL_SECS,
	    tok), 0);
	cr_assert_eq(authd_token_count(), 1);
	authd_token_clear();
}
