/*
 * What the users and aliases tables share: a bounded line reader, the
 * syntax of names, opening a table file, and loading both tables
 * together: both parse, every alias expands, and the dummy hash is
 * made, or nothing changes.  Runs in authd: as root once at start (to
 * fail fast, before daemonizing), then as _sallyauth at start and on
 * SIGHUP.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "authd.h"
#include "util.h"

int
authd_table_getline(FILE *fp, char *buf, size_t bufsize, size_t *lineno,
    const char **errstr)
{
	size_t	 len = 0;
	int	 ch;

	while ((ch = getc(fp)) != EOF && ch != '\n') {
		if (ch == '\0') {
			*errstr = "NUL byte in line";
			return -1;
		}
		if (len + 1 >= bufsize) {
			*errstr = "line too long";
			return -1;
		}
		buf[len++] = (char)ch;
	}
	if (ferror(fp)) {
		*errstr = strerror(errno);
		return -1;
	}
	if (ch == EOF && len == 0)
		return 0;
	(*lineno)++;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	return 1;
}

int
authd_table_skip(const char *line)
{
	line += strspn(line, " \t");
	return *line == '\0' || *line == '#';
}

/*
 * The line buffer is wiped after every line: the users table holds
 * password hashes.
 */
int
authd_table_read(FILE *fp, const char *name, authd_table_line_fn fn,
    void *arg, char *err, size_t errlen)
{
	char		 line[AUTH_TABLE_LINE_MAX_BYTES + 1];
	const char	*why = NULL;
	size_t		 lineno = 0, errline = 0;
	int		 r;

	while ((r = authd_table_getline(fp, line, sizeof(line), &lineno,
	    &why)) == 1) {
		if (authd_table_skip(line))
			continue;
		errline = lineno;
		if ((why = fn(arg, line, lineno, &errline)) != NULL)
			break;
	}
	explicit_bzero(line, sizeof(line));
	if (r == -1)
		errline = lineno + 1;
	if (r == -1 || why != NULL) {
		(void)snprintf(err, errlen, "%s:%zu: %s", name, errline, why);
		return -1;
	}
	return 0;
}

/* The name rules are util_table_name_valid()'s (common/util.c). */
int
authd_table_name(const char *s, size_t len, char *dst)
{
	if (!util_table_name_valid(s, len))
		return -1;
	memcpy(dst, s, len);
	dst[len] = '\0';
	authd_table_lower(dst);
	return 0;
}

void
authd_table_lower(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = *s - 'A' + 'a';
}

/*
 * A table that someone other than its owner may write would let that
 * someone add a user with any uid: refused, as sshd refuses loose
 * authorized_keys.
 */
FILE *
authd_table_open(const char *path, char *err, size_t errlen)
{
	struct stat	 st;
	FILE		*fp;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		(void)snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1) {
		(void)snprintf(err, errlen, "%s: %s", path, strerror(errno));
		(void)close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode) || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		(void)snprintf(err, errlen, "%s: %s", path,
		    S_ISREG(st.st_mode) ? "writable by group or others" :
		    "not a regular file");
		(void)close(fd);
		return NULL;
	}
	if ((fp = fdopen(fd, "r")) == NULL) {
		(void)snprintf(err, errlen, "%s: %s", path, strerror(errno));
		(void)close(fd);
	}
	return fp;
}

int
authd_table_is_local(const char *domain, void *conf)
{
	return config_is_local_domain(conf, domain);
}

void
authd_table_free(struct auth_tables *t)
{
	authd_users_free(t->users);
	authd_aliases_free(t->aliases);
	t->users = NULL;
	t->aliases = NULL;
}

int
authd_table_postmaster(const struct auth_tables *t)
{
	return authd_aliases_find(t->aliases, "postmaster") != NULL ||
	    authd_users_find(t->users, "postmaster") != NULL;
}

int
authd_table_load(const struct config *conf, struct auth_tables *t,
    char *err, size_t errlen)
{
	struct auth_tables	 n = { NULL, NULL };
	struct auth_resolver	 r;

	if ((n.users = authd_users_load(conf->users_file, err,
	    errlen)) == NULL)
		return -1;
	if ((n.aliases = authd_aliases_load(conf->aliases_file, err,
	    errlen)) == NULL)
		goto fail;
	r.users = n.users;
	r.aliases = n.aliases;
	r.is_local = authd_table_is_local;
	r.arg = (void *)(uintptr_t)conf;
	if (authd_resolve_validate(&r, err, errlen) == -1)
		goto fail;
	if (authd_passwd_prepare(n.users) == -1) {
		(void)snprintf(err, errlen, "%s: crypt(3) cannot make a "
		    "dummy hash", conf->users_file);
		goto fail;
	}
	*t = n;
	return 0;
fail:
	authd_table_free(&n);
	return -1;
}
