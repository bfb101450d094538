/*
 * common/util.c: splitting a path, and writing a whole buffer.
 */
#include <sys/types.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

#define NELEMS(a)	(sizeof(a) / sizeof((a)[0]))

/* Criterion runs each parameter in a fresh process: arrays, no pointers. */
struct split_case {
	char	 path[32];
	size_t	 dirlen;
	int	 ok;
	int	 err;		/* errno when not ok */
	char	 dir[32];
	char	 name[32];
};

ParameterizedTestParameters(util, path_split)
{
	static struct split_case cases[] = {
		{ "/var/mail/alice", 32, 1, 0, "/var/mail", "alice" },
		{ "/var/mail/alice/", 32, 1, 0, "/var/mail", "alice" },
		{ "/var/mail/alice//", 32, 1, 0, "/var/mail", "alice" },
		{ "/home", 32, 1, 0, "/", "home" },
		{ "//home", 32, 1, 0, "/", "home" },
		{ "Maildir", 32, 1, 0, ".", "Maildir" },
		{ "a/b", 32, 1, 0, "a", "b" },
		{ "/", 32, 0, EINVAL, "", "" },
		{ "//", 32, 0, EINVAL, "", "" },
		{ "", 32, 0, EINVAL, "", "" },
		{ "/var/mail/alice", 8, 0, ENAMETOOLONG, "", "" },
	};

	return cr_make_param_array(struct split_case, cases, NELEMS(cases));
}

ParameterizedTest(struct split_case *c, util, path_split)
{
	char	 dir[32], name[32];
	int	 r;

	errno = 0;
	r = util_path_split(c->path, dir, c->dirlen, name, sizeof(name));
	cr_assert_eq(r == 0, c->ok, "%s", c->path);
	if (!c->ok) {
		cr_assert_eq(errno, c->err, "%s", c->path);
		return;
	}
	cr_assert_str_eq(dir, c->dir);
	cr_assert_str_eq(name, c->name);
	/* Without a name buffer, the same directory. */
	cr_assert_eq(util_path_split(c->path, dir, c->dirlen, NULL, 0), 0);
	cr_assert_str_eq(dir, c->dir);
}

Test(util, path_split_name_too_long)
{
	char	 dir[32], name[4];

	cr_assert_eq(util_path_split("/home/alice", dir, sizeof(dir), name,
	    sizeof(name)), -1);
	cr_assert_eq(errno, ENAMETOOLONG);
}

Test(util, write_all)
{
	char	 buf[64 * 1024], back[sizeof(buf)];
	size_t	 i, got = 0;
	ssize_t	 n;
	int	 p[2];

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 7);
	cr_assert_eq(pipe(p), 0);
	/* A Linux pipe holds 64 KiB: the whole buffer fits before the read. */
	cr_assert_eq(util_write_all(p[1], buf, sizeof(buf)), 0);
	(void)close(p[1]);
	while ((n = read(p[0], back + got, sizeof(back) - got)) > 0)
		got += (size_t)n;
	(void)close(p[0]);
	cr_assert_eq(got, sizeof(buf));
	cr_assert_eq(memcmp(buf, back, sizeof(buf)), 0);
}

Test(util, write_all_error)
{
	int	 p[2];

	cr_assert_eq(pipe(p), 0);
	(void)close(p[1]);
	cr_assert_eq(util_write_all(p[1], "x", 1), -1);
	cr_assert_eq(errno, EBADF);
	(void)close(p[0]);
}
