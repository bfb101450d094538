/*
 * The users table, "name:hash:uid:gid:home[:options]" per line
 * (doc/INTERNALS.md, Tables); options, comma-separated, are only
 * "quota=SIZE" so far.  Any malformed line fails the whole load with "FILE:LINE:
 * reason": half a table would refuse mail for the users it lost.
 * Runs in authd as _sallyauth; no chroot.
 */
#include <sys/types.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <crypt.h>

#include "authd.h"

#define USERS_FIELDS		5
/* The optional sixth field: "quota=100M,...". */
#define USERS_FIELDS_MAX	6
/*
 * The two crypt(3) hashes without a '$' prefix have fixed lengths:
 * traditional DES (2 salt and 11 hash characters) and BSDI extended DES
 * ('_', 8 setting and 11 hash characters).
 */
#define USERS_DES_HASH_LEN	13
#define USERS_BSDI_HASH_LEN	20

RB_GENERATE(auth_user_tree, auth_user, entry, authd_users_cmp);

int
authd_users_cmp(const struct auth_user *a, const struct auth_user *b)
{
	return strcmp(a->name, b->name);
}

static void
authd_users_entry_free(struct auth_user *u)
{
	if (u->hash != NULL) {
		explicit_bzero(u->hash, strlen(u->hash));
		free(u->hash);
	}
	free(u->home);
	free(u);
}

void
authd_users_free(struct auth_users *t)
{
	struct auth_user	*u;

	if (t == NULL)
		return;
	while ((u = RB_MIN(auth_user_tree, &t->tree)) != NULL) {
		RB_REMOVE(auth_user_tree, &t->tree, u);
		authd_users_entry_free(u);
	}
	explicit_bzero(t->dummy, sizeof(t->dummy));
	free(t);
}

/*
 * A crypt(3) hash libxcrypt understands, or one that disables password
 * login ('*' or '!' first: "!$6$..." is a locked account).
 */
static const char *
authd_users_hash(const char *s)
{
	if (*s == '\0')
		return "empty hash (use * to disable password login)";
	if (*s == '*' || *s == '!')
		return NULL;
	switch (crypt_checksalt(s)) {
	case CRYPT_SALT_OK:
	case CRYPT_SALT_METHOD_LEGACY:
		break;
	default:
		return "hash not understood by crypt(3)";
	}
	/*
	 * crypt_checksalt() looks at the setting only: also refuse a bare
	 * setting ("$6$salt$") and a DES "hash" of the wrong length, which
	 * no password could ever match.
	 */
	if (*s == '$' ? s[strlen(s) - 1] == '$' :
	    strlen(s) != (*s == '_' ? USERS_BSDI_HASH_LEN : USERS_DES_HASH_LEN))
		return "incomplete hash";
	return NULL;
}

/* uid and gid: decimal, neither 0 (root) nor (uid_t)-1. */
static const char *
authd_users_id(const char *s, uint32_t *id)
{
	const char	*errstr;
	long long	 v;

	if (*s < '0' || *s > '9')
		return "uid or gid not a number";
	v = strtonum(s, 0, UINT32_MAX - 1, &errstr);
	if (errstr != NULL)
		return "uid or gid not a number";
	if (v == 0)
		return "uid or gid 0 refused";
	*id = (uint32_t)v;
	return NULL;
}

/* An absolute path, without "." or ".." components or control bytes. */
static const char *
authd_users_home(const char *s)
{
	const char	*p;
	size_t		 n;

	if (*s != '/')
		return "home not an absolute path";
	if (strlen(s) >= PATH_MAX)
		return "home too long";
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p < ' ' || *p == 0x7f)
			return "control character in home";
	for (p = s; *p != '\0'; p += n) {
		p += strspn(p, "/");
		n = strcspn(p, "/");
		if ((n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return "home holds . or ..";
	}
	return NULL;
}

/*
 * Splits line at ':' into USERS_FIELDS or USERS_FIELDS_MAX fields, in
 * place; returns how many, or -1.
 */
static int
authd_users_split(char *line, char *f[USERS_FIELDS_MAX])
{
	int	 i;

	for (i = 0; i < USERS_FIELDS_MAX; i++) {
		f[i] = line;
		if ((line = strchr(line, ':')) == NULL)
			break;
		*line++ = '\0';
	}
	return (i == USERS_FIELDS - 1 || i == USERS_FIELDS_MAX - 1) ?
	    i + 1 : -1;
}

const char *
authd_users_size(const char *s, uint64_t *v)
{
	static const struct {
		char		 unit;
		unsigned int	 shift;
	} units[] = { { 'K', 10 }, { 'M', 20 }, { 'G', 30 }, { 'T', 40 } };
	unsigned long long	 n;
	char			*end;
	size_t			 i;

	if (*s < '0' || *s > '9')
		return "quota not a number";
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno != 0 || n > AUTH_QUOTA_MAX_BYTES)
		return "quota too large";
	if (*end != '\0') {
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if ((*end & ~0x20) == units[i].unit)
				break;
		if (i == sizeof(units) / sizeof(units[0]) || end[1] != '\0')
			return "quota unit not K, M, G or T";
		if (n > (AUTH_QUOTA_MAX_BYTES >> units[i].shift))
			return "quota too large";
		n <<= units[i].shift;
	}
	*v = (uint64_t)n;
	return NULL;
}

/* The options field: "quota=SIZE" items, comma-separated. */
static const char *
authd_users_options(char *s, struct auth_user *u)
{
	const char	*why;
	char		*item;

	while ((item = strsep(&s, ",")) != NULL) {
		if (strncmp(item, "quota=", 6) != 0)
			return "unknown option (only quota=SIZE)";
		if ((why = authd_users_size(item + 6, &u->quota)) != NULL)
			return why;
	}
	return NULL;
}

static const char *
authd_users_line(char *line, struct auth_user *u)
{
	char		*f[USERS_FIELDS_MAX];
	const char	*why;
	uint32_t	 uid, gid;
	int		 n;

	if ((n = authd_users_split(line, f)) == -1)
		return "expected name:hash:uid:gid:home[:options]";
	if (authd_table_name(f[0], strlen(f[0]), u->name) == -1)
		return "bad user name";
	if ((why = authd_users_hash(f[1])) != NULL ||
	    (why = authd_users_id(f[2], &uid)) != NULL ||
	    (why = authd_users_id(f[3], &gid)) != NULL ||
	    (why = authd_users_home(f[4])) != NULL ||
	    (n == USERS_FIELDS_MAX &&
	    (why = authd_users_options(f[5], u)) != NULL))
		return why;
	u->uid = (uid_t)uid;
	u->gid = (gid_t)gid;
	if ((u->hash = strdup(f[1])) == NULL ||
	    (u->home = strdup(f[4])) == NULL)
		return "out of memory";
	return NULL;
}

static const char *
authd_users_add(void *arg, char *line, size_t lineno, size_t *errline)
{
	struct auth_users	*t = arg;
	struct auth_user	*u;
	const char		*why;

	(void)lineno;
	(void)errline;

	if (t->count >= AUTH_TABLE_ENTRIES_MAX)
		return "too many entries";
	if ((u = calloc(1, sizeof(*u))) == NULL)
		return "out of memory";
	if ((why = authd_users_line(line, u)) != NULL) {
		authd_users_entry_free(u);
		return why;
	}
	if (RB_INSERT(auth_user_tree, &t->tree, u) != NULL) {
		authd_users_entry_free(u);
		return "duplicate user";
	}
	t->count++;
	return NULL;
}

struct auth_users *
authd_users_read(FILE *fp, const char *name, char *err, size_t errlen)
{
	struct auth_users	*t;

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		(void)snprintf(err, errlen, "%s: out of memory", name);
		return NULL;
	}
	RB_INIT(&t->tree);
	if (authd_table_read(fp, name, authd_users_add, t, err,
	    errlen) == -1) {
		authd_users_free(t);
		return NULL;
	}
	return t;
}

struct auth_users *
authd_users_load(const char *path, char *err, size_t errlen)
{
	struct auth_users	*t;
	FILE			*fp;

	if ((fp = authd_table_open(path, err, errlen)) == NULL)
		return NULL;
	t = authd_users_read(fp, path, err, errlen);
	(void)fclose(fp);
	return t;
}

const struct auth_user *
authd_users_find(const struct auth_users *t, const char *name)
{
	struct auth_user	 key;

	if (strlcpy(key.name, name, sizeof(key.name)) >= sizeof(key.name))
		return NULL;
	authd_table_lower(key.name);
	/* RB_FIND does not change the tree but takes no const. */
	return RB_FIND(auth_user_tree,
	    (struct auth_user_tree *)(uintptr_t)&t->tree, &key);
}

int
authd_users_can_login(const struct auth_user *u)
{
	return u->hash[0] != '*' && u->hash[0] != '!';
}
