/*
 * The users table ("name:hash:uid:gid:home[:options]" a line,
 * doc/INTERNALS.md "Tables") edited in memory for sallyctl user add|passwd|del (root,
 * no chroot).  Every line that is not the one edited is kept byte for
 * byte, comments and blank lines included.  Names compare without case,
 * as authd folds them.  Pure: unit-tested; ctl_users.c does the I/O.
 */
#include <sys/types.h>

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sallyctl.h"
#include "util.h"

/* The fields of a line, and what a new line copies from the last one. */
#define CTL_USERS_FIELDS	5

struct ctl_users_out {
	char	*dst;
	size_t	 len;
	size_t	 size;
	int	 full;
};

static void
ctl_users_put(struct ctl_users_out *o, const char *s, size_t len)
{
	if (o->full || len >= o->size - o->len) {
		o->full = 1;
		return;
	}
	memcpy(o->dst + o->len, s, len);
	o->len += len;
	o->dst[o->len] = '\0';
}

int
ctl_user_name_valid(const char *name)
{
	return util_table_name_valid(name, strlen(name));
}

/* 1 when the line (no newline) is a user's entry: not blank, not '#'. */
static int
ctl_users_entry(const char *line, size_t len)
{
	size_t	 i = 0;

	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	return i < len && line[i] != '#';
}

/* 1 when the entry's name (up to ':') is name, without case. */
static int
ctl_users_is(const char *line, size_t len, const char *name)
{
	const char	*colon = memchr(line, ':', len);
	size_t		 n = strlen(name);

	return colon != NULL && (size_t)(colon - line) == n &&
	    strncasecmp(line, name, n) == 0;
}

/* An absolute home without ':', control bytes, "." or "..". */
static int
ctl_users_home_valid(const char *home)
{
	const char	*p;
	size_t		 n;

	if (home[0] != '/' || strlen(home) >= PATH_MAX)
		return 0;
	for (p = home; *p != '\0'; p++)
		if ((unsigned char)*p < ' ' || *p == 0x7f || *p == ':')
			return 0;
	for (p = home; *p != '\0'; p += n) {
		p += strspn(p, "/");
		n = strcspn(p, "/");
		if ((n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
	}
	return 1;
}

/*
 * The new line of user add: the command's fields, the others from the
 * table's last entry (last, lastlen; NULL without): its uid, gid and a
 * home beside its own.  -1 with *errstr.
 */
static int
ctl_users_newline(const struct ctl_user_line *u, const char *last,
    size_t lastlen, char *line, size_t linesize, const char **errstr)
{
	char		 copy[PATH_MAX + 128], *f[CTL_USERS_FIELDS], *p;
	char		 home[PATH_MAX], dir[PATH_MAX];
	unsigned long	 uid = u->uid, gid = u->gid;
	int		 i, n;

	f[0] = NULL;
	if (last != NULL && lastlen < sizeof(copy)) {
		memcpy(copy, last, lastlen);
		copy[lastlen] = '\0';
		/* What follows the home (options: "quota=1G") is not copied. */
		for (i = 0, p = copy; i < CTL_USERS_FIELDS && p != NULL; i++)
			f[i] = strsep(&p, ":");
		if (i < CTL_USERS_FIELDS)
			f[0] = NULL;
	}
	if ((uid == 0 || gid == 0 || u->home == NULL) && f[0] == NULL)
		return *errstr = "the table has no user to take uid, gid "
		    "and home from: give them", -1;
	if (uid == 0)
		uid = strtoul(f[2], NULL, 10);
	if (gid == 0)
		gid = strtoul(f[3], NULL, 10);
	if (u->home != NULL)
		(void)strlcpy(home, u->home, sizeof(home));
	else if (util_path_split(f[4], dir, sizeof(dir), NULL, 0) == -1 ||
	    snprintf(home, sizeof(home), "%s/%s", dir, u->name) >=
	    (int)sizeof(home))
		return *errstr = "cannot make a home beside the last user's",
		    -1;
	if (uid == 0 || gid == 0 || uid >= UINT32_MAX || gid >= UINT32_MAX)
		return *errstr = "uid or gid 0 refused", -1;
	if (!ctl_users_home_valid(home))
		return *errstr = "bad home (absolute, no ':', '.' or '..')",
		    -1;
	n = snprintf(line, linesize, "%s:%s:%lu:%lu:%s\n", u->name, u->hash,
	    uid, gid, home);
	if (n < 0 || (size_t)n >= linesize)
		return *errstr = "line too long", -1;
	return 0;
}

/* Copies the line with its hash (second field) replaced. */
static int
ctl_users_rehash(struct ctl_users_out *o, const char *line, size_t len,
    const char *hash)
{
	const char	*c1 = memchr(line, ':', len), *c2;

	if (c1 == NULL ||
	    (c2 = memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - line))) == NULL)
		return -1;
	ctl_users_put(o, line, (size_t)(c1 + 1 - line));
	ctl_users_put(o, hash, strlen(hash));
	ctl_users_put(o, c2, len - (size_t)(c2 - line));
	return 0;
}

ssize_t
ctl_users_edit(const char *text, size_t len, enum ctl_user_op op,
    const struct ctl_user_line *u, char *dst, size_t dstlen,
    const char **errstr)
{
	struct ctl_users_out	 o = { dst, 0, dstlen, 0 };
	const char		*p, *nl, *end = text + len, *last = NULL;
	char			 line[PATH_MAX + 128];
	size_t			 l, lastlen = 0;
	int			 found = 0;

	if (dstlen == 0)
		return *errstr = "no room", -1;
	dst[0] = '\0';
	for (p = text; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		l = (size_t)(nl - p);
		if (ctl_users_entry(p, l) && ctl_users_is(p, l, u->name)) {
			found = 1;
			if (op == CTL_USER_ADD)
				return *errstr = "user already in the table",
				    -1;
			if (op == CTL_USER_DEL)
				continue;
			if (ctl_users_rehash(&o, p, l, u->hash) == -1)
				return *errstr = "malformed line", -1;
		} else {
			if (ctl_users_entry(p, l)) {
				last = p;
				lastlen = l;
			}
			ctl_users_put(&o, p, l);
		}
		ctl_users_put(&o, "\n", 1);
	}
	if (op != CTL_USER_ADD && !found)
		return *errstr = "no such user in the table", -1;
	if (op == CTL_USER_ADD) {
		if (ctl_users_newline(u, last, lastlen, line, sizeof(line),
		    errstr) == -1)
			return -1;
		ctl_users_put(&o, line, strlen(line));
	}
	if (o.full)
		return *errstr = "table too large", -1;
	return (ssize_t)o.len;
}
