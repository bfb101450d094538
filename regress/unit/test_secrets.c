/*
 * common/secrets.c: the smarthost credentials table.  Files are written
 * with mkstemp(3) under /tmp and loaded with the owner the test runs
 * as, except where the owner check itself is tested.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "secrets.h"
#include "sp_limits.h"

#define ERRBUF_BYTES	512
#define PATH_BYTES	64

/* Writes text to a new file of the given mode; its path into path. */
static void
write_file(char path[PATH_BYTES], const char *text, size_t len, mode_t mode)
{
	int	 fd;

	(void)strlcpy(path, "/tmp/sallyport-secrets.XXXXXX", PATH_BYTES);
	cr_assert_neq(fd = mkstemp(path), -1);
	cr_assert_eq(write(fd, text, len), (ssize_t)len);
	cr_assert_eq(fchmod(fd, mode), 0);
	cr_assert_eq(close(fd), 0);
}

/* Loads text as the running user's file of mode 0600. */
static struct secrets *
load_text(const char *text, char *err, char path[PATH_BYTES])
{
	struct secrets	*s;

	write_file(path, text, strlen(text), 0600);
	s = secrets_load_owner(path, getuid(), err, ERRBUF_BYTES);
	(void)unlink(path);
	return s;
}

Test(secrets, lookup)
{
	struct secrets	*s;
	const char	*user, *pass;
	char		 err[ERRBUF_BYTES], path[PATH_BYTES];

	s = load_text("# smarthosts\n\nhub alice@example.test s3cr#t\n"
	    "  relay-2\tbob   p@ss  \r\n"
	    "a.b_c x y", err, path);
	cr_assert_not_null(s, "%s", err);
	cr_assert_eq(secrets_count(s), 3);
	cr_assert_eq(secrets_lookup(s, "hub", &user, &pass), 0);
	cr_assert_str_eq(user, "alice@example.test");
	/* '#' after the start of a line is part of the field. */
	cr_assert_str_eq(pass, "s3cr#t");
	/* Blanks, tabs and a CR around the fields are separators. */
	cr_assert_eq(secrets_lookup(s, "relay-2", &user, &pass), 0);
	cr_assert_str_eq(user, "bob");
	cr_assert_str_eq(pass, "p@ss");
	secrets_free(s);
}

Test(secrets, lookup_each)
{
	struct secrets	*s;
	const char	*user, *pass;
	char		 err[ERRBUF_BYTES], path[PATH_BYTES];

	s = load_text("zeta u1 p1\nalpha u2 p2\nmid u3 p3\n", err, path);
	cr_assert_not_null(s, "%s", err);
	cr_assert_eq(secrets_lookup(s, "alpha", &user, &pass), 0);
	cr_assert_str_eq(user, "u2");
	cr_assert_str_eq(pass, "p2");
	cr_assert_eq(secrets_lookup(s, "zeta", &user, &pass), 0);
	cr_assert_str_eq(pass, "p1");
	cr_assert_eq(secrets_lookup(s, "mid", &user, &pass), 0);
	cr_assert_str_eq(user, "u3");
	cr_assert_eq(secrets_lookup(s, "nope", &user, &pass), -1);
	cr_assert_eq(secrets_lookup(s, "ALPHA", &user, &pass), -1);
	secrets_free(s);
	secrets_free(NULL);
}

Test(secrets, empty)
{
	struct secrets	*s;
	const char	*user, *pass;
	char		 err[ERRBUF_BYTES], path[PATH_BYTES];

	s = load_text("", err, path);
	cr_assert_not_null(s, "%s", err);
	cr_assert_eq(secrets_count(s), 0);
	cr_assert_eq(secrets_lookup(s, "hub", &user, &pass), -1);
	secrets_free(s);
}

/* Arrays, not pointers: Criterion may run a case in a new process. */
struct bad_case {
	char	 text[256];
	char	 err[128];	/* after "PATH" */
};

static struct bad_case bads[] = {
	{ "hub alice\n", ":1: not LABEL USER PASSWORD" },
	{ "# c\nhub\n", ":2: not LABEL USER PASSWORD" },
	{ "hub a b c\n", ":1: more than LABEL USER PASSWORD" },
	{ "hub a b\x01\n", ":1: control character" },
	{ "h/b a b\n", ":1: invalid label" },
	{ "hub a b\nother c d\n\nhub e f\n",
	    ":4: label \"hub\" given twice (line 1)" },
	{ "x a b\nhub e f\nhub a b\n",
	    ":3: label \"hub\" given twice (line 2)" },
};

ParameterizedTestParameters(secrets, bad)
{
	return cr_make_param_array(struct bad_case, bads,
	    sizeof(bads) / sizeof(bads[0]));
}

ParameterizedTest(struct bad_case *c, secrets, bad)
{
	char	 err[ERRBUF_BYTES], path[PATH_BYTES], want[ERRBUF_BYTES];

	cr_assert_null(load_text(c->text, err, path), "%s loaded", c->text);
	(void)snprintf(want, sizeof(want), "%s%s", path, c->err);
	cr_assert_str_eq(err, want);
}

Test(secrets, bounds)
{
	char	 err[ERRBUF_BYTES], path[PATH_BYTES], want[ERRBUF_BYTES];
	char	*text;
	size_t	 i, len;

	/* A password of 256 octets: RFC 4616 allows 255. */
	cr_assert_not_null(text = malloc(SECRETS_LINE_MAX_BYTES + 16));
	len = (size_t)snprintf(text, 16, "hub u ");
	memset(text + len, 'p', SECRETS_PASSWORD_MAX_BYTES);
	(void)strlcpy(text + len + SECRETS_PASSWORD_MAX_BYTES, "\n", 2);
	cr_assert_null(load_text(text, err, path));
	(void)snprintf(want, sizeof(want), "%s:1: password too long", path);
	cr_assert_str_eq(err, want);
	/* A line longer than the limit. */
	memset(text, 'x', SECRETS_LINE_MAX_BYTES + 8);
	text[SECRETS_LINE_MAX_BYTES + 8] = '\0';
	cr_assert_null(load_text(text, err, path));
	(void)snprintf(want, sizeof(want), "%s:1: line too long", path);
	cr_assert_str_eq(err, want);
	free(text);
	/* One entry more than the limit. */
	len = (SECRETS_ENTRIES_MAX + 1) * 16;
	cr_assert_not_null(text = calloc(1, len + 1));
	for (i = 0; i <= SECRETS_ENTRIES_MAX; i++)
		(void)snprintf(text + strlen(text), len + 1 - strlen(text),
		    "l%zu u p\n", i);
	cr_assert_null(load_text(text, err, path));
	(void)snprintf(want, sizeof(want), "%s:%d: too many entries", path,
	    SECRETS_ENTRIES_MAX + 1);
	cr_assert_str_eq(err, want);
	free(text);
}

Test(secrets, nul_byte)
{
	char	 err[ERRBUF_BYTES], path[PATH_BYTES], want[ERRBUF_BYTES];

	write_file(path, "hub a b\0c\n", 10, 0600);
	cr_assert_null(secrets_load_owner(path, getuid(), err, sizeof(err)));
	(void)unlink(path);
	(void)snprintf(want, sizeof(want), "%s: NUL byte in file", path);
	cr_assert_str_eq(err, want);
}

/* Any access for group or others is refused, with the mode named. */
Test(secrets, mode_refused)
{
	static const mode_t	 modes[] = { 0640, 0604, 0620, 0602, 0610,
	    0644, 0666 };
	char			 err[ERRBUF_BYTES], path[PATH_BYTES];
	char			 want[ERRBUF_BYTES];
	size_t			 i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		write_file(path, "hub a b\n", 8, modes[i]);
		cr_assert_null(secrets_load_owner(path, getuid(), err,
		    sizeof(err)), "mode %04o loaded", (unsigned)modes[i]);
		(void)unlink(path);
		(void)snprintf(want, sizeof(want), "%s: mode %04o gives group "
		    "or others access: refused (chmod 600)", path,
		    (unsigned)modes[i]);
		cr_assert_str_eq(err, want);
	}
	write_file(path, "hub a b\n", 8, 0400);
	cr_assert_not_null(secrets_load_owner(path, getuid(), err,
	    sizeof(err)), "%s", err);
	(void)unlink(path);
}

/* secrets_load wants root's file: another owner is refused. */
Test(secrets, owner_refused)
{
	struct secrets	*s;
	char		 err[ERRBUF_BYTES], path[PATH_BYTES];

	write_file(path, "hub a b\n", 8, 0600);
	if (getuid() == 0) {
		s = secrets_load(path, err, sizeof(err));
		cr_assert_not_null(s, "%s", err);
		secrets_free(s);
		cr_assert_eq(chown(path, 65534, 65534), 0);
	}
	cr_assert_null(secrets_load(path, err, sizeof(err)));
	cr_assert_not_null(strstr(err, ", not 0: refused"), "%s", err);
	(void)unlink(path);
}

Test(secrets, not_a_file)
{
	char	 err[ERRBUF_BYTES], path[PATH_BYTES];

	(void)strlcpy(path, "/tmp/sallyport-secrets.XXXXXX", sizeof(path));
	cr_assert_not_null(mkdtemp(path));
	cr_assert_null(secrets_load_owner(path, getuid(), err, sizeof(err)));
	cr_assert_not_null(strstr(err, "not a file"), "%s", err);
	cr_assert_eq(rmdir(path), 0);
	cr_assert_null(secrets_load("/nonexistent/secrets", err,
	    sizeof(err)));
	cr_assert_str_eq(err, "/nonexistent/secrets: No such file or "
	    "directory");
}

Test(secrets, labels)
{
	cr_assert(secrets_valid_label("hub"));
	cr_assert(secrets_valid_label("a.b-c_D9"));
	cr_assert_not(secrets_valid_label(""));
	cr_assert_not(secrets_valid_label("a b"));
	cr_assert_not(secrets_valid_label("a\"b"));
	cr_assert_not(secrets_valid_label(
	    "0123456789012345678901234567890123456789012345678901234567890123"));
}
