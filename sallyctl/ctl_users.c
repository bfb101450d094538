/*
 * sallyctl encrypt and user add|passwd|del (root, no chroot): a
 * password hashed with libxcrypt's preferred method (what
 * crypt_gensalt(3) picks with no prefix, which authd's crypt(3)
 * checks: authd/authd_passwd.c), and the users table edited safely:
 * under an flock(2) of "<table>.lock", a new file written beside it
 * with the old one's mode and owner, fsynced, renamed over it, and its
 * directory fsynced; then authd is told to reload (SIGHUP, as sallyctl
 * reload does).  A password is read without echo from a terminal, or
 * as one line from stdin otherwise, and wiped after use.
 */
#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <crypt.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <readpassphrase.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "sallyctl.h"
#include "util.h"

/* A users table larger than this is refused (a thousand bytes a user). */
#define CTL_USERS_MAX_BYTES	(64 * 1024 * 1024)
/* Room a new line takes beyond the table's size. */
#define CTL_USERS_LINE_SLACK	(PATH_MAX + 1024)

/* Reads one line from fp into buf without its newline.  0 or -1. */
static int
ctl_read_line(FILE *fp, char *buf, size_t size)
{
	size_t	 len;

	if (fgets(buf, (int)size, fp) == NULL)
		return -1;
	len = strlen(buf);
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	else if (!feof(fp))
		return -1;	/* longer than a password may be */
	return 0;
}

/*
 * Asks prompt on the terminal, echo off, with readpassphrase(3), which
 * puts the terminal back also when a signal comes.  0 or -1.
 */
static int
ctl_read_tty(const char *prompt, char *buf, size_t size)
{
	if (readpassphrase(prompt, buf, size, RPP_REQUIRE_TTY) == NULL)
		return -1;
	/* A line longer than buf was cut: refused, never truncated. */
	return strlen(buf) >= size - 1 ? -1 : 0;
}

/* The password, twice on a terminal, once from a pipe.  0 or 1. */
static int
ctl_read_password(char *pw, size_t size)
{
	char	 again[AUTH_PASSWORD_MAX_BYTES + 2];
	int	 r = 0;

	if (!isatty(STDIN_FILENO)) {
		if (ctl_read_line(stdin, pw, size) == -1) {
			warnx("no password on stdin (one line, at most %d "
			    "bytes)", AUTH_PASSWORD_MAX_BYTES);
			return 1;
		}
	} else if (ctl_read_tty("Password: ", pw, size) == -1 ||
	    ctl_read_tty("Again: ", again, sizeof(again)) == -1) {
		warnx("cannot read the password from the terminal");
		r = 1;
	} else if (strcmp(pw, again) != 0) {
		warnx("the passwords differ");
		r = 1;
	}
	explicit_bzero(again, sizeof(again));
	if (r == 0 && pw[0] == '\0') {
		warnx("empty password refused");
		r = 1;
	}
	return r;
}

/* Asks for a password and hashes it into hash.  0, or 1 after a message. */
static int
ctl_hash_password(char *hash, size_t size)
{
	static struct crypt_data cd;
	char		 pw[AUTH_PASSWORD_MAX_BYTES + 2];
	char		 setting[CRYPT_GENSALT_OUTPUT_SIZE];
	const char	*out;
	int		 r = 1;

	if (ctl_read_password(pw, sizeof(pw)) != 0)
		goto done;
	if (crypt_gensalt_rn(NULL, 0, NULL, 0, setting,
	    (int)sizeof(setting)) == NULL) {
		warn("crypt_gensalt");
		goto done;
	}
	out = crypt_rn(pw, setting, &cd, (int)sizeof(cd));
	if (out == NULL || out[0] == '*' || strchr(out, ':') != NULL ||
	    strlcpy(hash, out, size) >= size)
		warnx("crypt(3) failed");
	else
		r = 0;
done:
	explicit_bzero(pw, sizeof(pw));
	explicit_bzero(&cd, sizeof(cd));
	return r;
}

int
ctl_encrypt(struct ctl_env *env, const struct ctl_args *a)
{
	char	 hash[CRYPT_OUTPUT_SIZE];

	(void)env;
	(void)a;
	if (ctl_hash_password(hash, sizeof(hash)) != 0)
		return 1;
	printf("%s\n", hash);
	return 0;
}

/* Reads the whole table (fd at its start) into a new buffer, or NULL. */
static char *
ctl_users_slurp(int fd, const char *path, const struct stat *st,
    size_t *len)
{
	char	*buf;
	ssize_t	 n;
	size_t	 off = 0;

	if (st->st_size > CTL_USERS_MAX_BYTES) {
		warnx("%s: larger than %d bytes", path, CTL_USERS_MAX_BYTES);
		return NULL;
	}
	if ((buf = malloc((size_t)st->st_size + 1)) == NULL) {
		warn("%s", path);
		return NULL;
	}
	while (off < (size_t)st->st_size &&
	    (n = read(fd, buf + off, (size_t)st->st_size - off)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			warn("%s", path);
			free(buf);
			return NULL;
		}
		off += (size_t)n;
	}
	buf[off] = '\0';
	*len = off;
	return buf;
}

/*
 * Writes text as the new table: a temporary file beside path with the
 * old one's owner and mode, fsynced, renamed over path, the directory
 * fsynced.  0, or 1 after a message (the old table left as it was).
 */
static int
ctl_users_replace(const char *path, const struct stat *st, const char *text,
    size_t len)
{
	char	 tmp[PATH_MAX], dir[PATH_MAX];
	int	 fd, dfd;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp) ||
	    util_path_split(path, dir, sizeof(dir), NULL, 0) == -1) {
		warnx("%s: path too long", path);
		return 1;
	}
	if ((fd = mkstemp(tmp)) == -1) {
		warn("%s", tmp);
		return 1;
	}
	if (fchown(fd, st->st_uid, st->st_gid) == -1 ||
	    fchmod(fd, st->st_mode & 07777) == -1 ||
	    util_write_all(fd, text, len) == -1 || fsync(fd) == -1 ||
	    close(fd) == -1) {
		warn("%s", tmp);
		(void)close(fd);
		(void)unlink(tmp);
		return 1;
	}
	if (rename(tmp, path) == -1) {
		warn("rename %s", tmp);
		(void)unlink(tmp);
		return 1;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(dfd) == -1)
		warn("%s: fsync", dir);		/* renamed: done all the same */
	if (dfd != -1)
		(void)close(dfd);
	return 0;
}

/* Under the lock: reads the table, edits it, writes it back.  0 or 1. */
static int
ctl_users_update(const char *path, enum ctl_user_op op,
    const struct ctl_user_line *u)
{
	struct stat	 st;
	char		*text = NULL, *out = NULL;
	const char	*errstr;
	size_t		 len;
	ssize_t		 n;
	int		 fd, r = 1;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		warn("users table %s", path);
		return 1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		warnx("users table %s: not a regular file", path);
		goto done;
	}
	if ((text = ctl_users_slurp(fd, path, &st, &len)) == NULL)
		goto done;
	if ((out = malloc(len + CTL_USERS_LINE_SLACK)) == NULL) {
		warn("%s", path);
		goto done;
	}
	if ((n = ctl_users_edit(text, len, op, u, out,
	    len + CTL_USERS_LINE_SLACK, &errstr)) == -1) {
		warnx("%s: %s: %s", path, u->name, errstr);
		goto done;
	}
	r = ctl_users_replace(path, &st, out, (size_t)n);
done:
	(void)close(fd);
	free(text);
	free(out);
	return r;
}

/* Takes "<table>.lock", edits the table, tells authd.  0 or 1. */
static int
ctl_users_change(struct ctl_env *env, enum ctl_user_op op,
    const struct ctl_user_line *u, const char *done)
{
	const char	*path = env->conf->users_file;
	char		 lock[PATH_MAX];
	int		 lfd, r;

	if (snprintf(lock, sizeof(lock), "%s.lock", path) >=
	    (int)sizeof(lock)) {
		warnx("%s: path too long", path);
		return 1;
	}
	if ((lfd = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600)) == -1 || flock(lfd, LOCK_EX) == -1) {
		warn("%s", lock);
		if (lfd != -1)
			(void)close(lfd);
		return 1;
	}
	r = ctl_users_update(path, op, u);
	(void)close(lfd);	/* and the lock with it */
	if (r != 0)
		return r;
	printf("%s: %s\n", u->name, done);
	return ctl_reload_authd(env);
}

/* user add and user passwd: a new hash for the line of u. */
static int
ctl_user_hash_change(struct ctl_env *env, struct ctl_user_line *u,
    enum ctl_user_op op, const char *done)
{
	char	 hash[CRYPT_OUTPUT_SIZE];

	if (ctl_hash_password(hash, sizeof(hash)) != 0)
		return 1;
	u->hash = hash;
	return ctl_users_change(env, op, u, done);
}

int
ctl_user_add(struct ctl_env *env, const struct ctl_args *a)
{
	struct ctl_user_line	 u;

	memset(&u, 0, sizeof(u));
	u.name = a->arg;
	u.uid = a->uid;
	u.gid = a->gid;
	u.home = a->home;
	return ctl_user_hash_change(env, &u, CTL_USER_ADD, "added");
}

int
ctl_user_passwd(struct ctl_env *env, const struct ctl_args *a)
{
	struct ctl_user_line	 u;

	memset(&u, 0, sizeof(u));
	u.name = a->arg;
	return ctl_user_hash_change(env, &u, CTL_USER_PASSWD,
	    "password changed");
}

int
ctl_user_del(struct ctl_env *env, const struct ctl_args *a)
{
	struct ctl_user_line	 u;

	memset(&u, 0, sizeof(u));
	u.name = a->arg;
	return ctl_users_change(env, CTL_USER_DEL, &u, "removed");
}
