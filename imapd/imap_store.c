/*
 * The store of one user's mail (imap_store.h): opening the Maildir root,
 * the errors the session reports, folder names to directories, the
 * UIDVALIDITY counter, the special-use folders of the first login, the
 * quota usage.  Run by the IMAP mailbox process (the mail user, chrooted
 * in the mail home, seccomp set of imapd-user) and the unit tests.
 */
#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "imap_store_int.h"

int
store_err(struct imap_store *st, int code, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	if (vsnprintf(st->err, sizeof(st->err), fmt, ap) < 0)
		(void)strlcpy(st->err, "error", sizeof(st->err));
	va_end(ap);
	return code;
}

int
store_errno(struct imap_store *st, const char *what, const char *name)
{
	int	 e = errno;

	if (e == ENOSPC || e == EDQUOT)
		return store_err(st, IMAP_ST_OVERQUOTA, "%s %s: %s", what,
		    name, strerror(e));
	return store_err(st, IMAP_ST_IO, "%s %s: %s", what, name,
	    strerror(e));
}

const char *
imap_store_error(const struct imap_store *st)
{
	return st->err[0] != '\0' ? st->err : "no error";
}

int
store_is_inbox(const char *name)
{
	return strcasecmp(name, "INBOX") == 0;
}

/* "INBOX" is the root itself; "A/B" is ".A.B" (Maildir++). */
int
store_folder_dir(const char *name, char *dir, size_t dirlen)
{
	size_t	 i, n;

	if (store_is_inbox(name))
		return strlcpy(dir, ".", dirlen) < dirlen ? 0 : -1;
	n = strlen(name);
	if (n + 2 > dirlen)
		return -1;
	dir[0] = '.';
	for (i = 0; i < n; i++)
		dir[i + 1] = name[i] == '/' ? '.' : name[i];
	dir[n + 1] = '\0';
	return 0;
}

/* A fast 64-bit checksum of words, for torn files (not against forgery). */
uint64_t
store_hash(const void *buf, size_t len, uint64_t seed)
{
	const unsigned char	*p = buf;
	uint64_t		 h = seed ^ (len * 0x9e3779b97f4a7c15ULL), w;

	for (; len >= 8; len -= 8, p += 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	w = 0;
	if (len > 0)
		memcpy(&w, p, len);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 29);
}

/*
 * Writes a small file whole: name.tmp, fsync, rename over name, so a
 * reader sees the old or the new, never half.
 */
int
store_write_file(int dirfd, const char *name, const char *buf, size_t len)
{
	char	 tmp[NAME_MAX + 1];
	ssize_t	 w;
	size_t	 off;
	int	 fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", name) >= (int)sizeof(tmp))
		return -1;
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600);
	if (fd == -1)
		return -1;
	for (off = 0; off < len; off += (size_t)w)
		if ((w = write(fd, buf + off, len - off)) <= 0)
			goto fail;
	if (fsync(fd) == -1 || close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	if (renameat(dirfd, tmp, dirfd, name) == -1)
		goto fail2;
	return 0;
fail:
	if (fd != -1)
		(void)close(fd);
fail2:
	(void)unlinkat(dirfd, tmp, 0);
	return -1;
}

/*
 * A new UIDVALIDITY (RFC 3501 2.3.1.1): the time, but always above the
 * last one given in this store, which the root remembers, so that a
 * folder deleted and made again in the same second gets another.
 * Under an flock of the counter file; 0 on failure.
 */
uint32_t
store_new_uidvalidity(struct imap_store *st)
{
	char		 buf[32];
	unsigned long	 last = 0;
	uint32_t	 v;
	ssize_t		 n;
	int		 fd, len;

	fd = openat(st->rootfd, IMAP_UIDVALIDITY_NAME,
	    O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd == -1 || flock(fd, LOCK_EX) == -1)
		goto fail;
	if ((n = pread(fd, buf, sizeof(buf) - 1, 0)) > 0) {
		buf[n] = '\0';
		last = strtoul(buf, NULL, 10);
	}
	v = (uint32_t)time(NULL);
	if (last >= UINT32_MAX - 1)
		last = 0;
	if (v <= last)
		v = (uint32_t)last + 1;
	len = snprintf(buf, sizeof(buf), "%u\n", v);
	if (ftruncate(fd, 0) == -1 ||
	    pwrite(fd, buf, (size_t)len, 0) != len || fsync(fd) == -1)
		goto fail;
	(void)close(fd);
	return v;
fail:
	(void)store_errno(st, "uidvalidity", IMAP_UIDVALIDITY_NAME);
	if (fd != -1)
		(void)close(fd);
	return 0;
}

struct imap_store *
imap_store_open(const char *root, const char **errstr)
{
	struct imap_store	*st;
	static const char	*sub[] = { "cur", "new", "tmp" };
	size_t			 i;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		*errstr = "out of memory";
		return NULL;
	}
	if (strlcpy(st->root, root, sizeof(st->root)) >= sizeof(st->root)) {
		*errstr = "Maildir path too long";
		goto fail;
	}
	if (mkdir(root, 0700) == -1 && errno != EEXIST) {
		*errstr = "cannot create the Maildir";
		goto fail;
	}
	st->rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st->rootfd == -1) {
		*errstr = "cannot open the Maildir";
		goto fail;
	}
	for (i = 0; i < sizeof(sub) / sizeof(sub[0]); i++)
		if (mkdirat(st->rootfd, sub[i], 0700) == -1 &&
		    errno != EEXIST) {
			*errstr = "cannot create the Maildir's cur, new, tmp";
			(void)close(st->rootfd);
			goto fail;
		}
	return st;
fail:
	free(st);
	return NULL;
}

void
imap_store_close(struct imap_store *st)
{
	if (st == NULL)
		return;
	(void)close(st->rootfd);
	free(st);
}

int
imap_store_first_login(struct imap_store *st)
{
	static const char	*special[] = {
		"Drafts", "Sent", "Trash", "Junk", "Archive"
	};
	size_t			 i;
	int			 rc;

	if (faccessat(st->rootfd, IMAP_FIRST_LOGIN_NAME, F_OK, 0) == 0)
		return IMAP_ST_OK;
	for (i = 0; i < sizeof(special) / sizeof(special[0]); i++) {
		rc = imap_folder_create(st, special[i]);
		if (rc != IMAP_ST_OK && rc != IMAP_ST_ALREADYEXISTS)
			return rc;
		if ((rc = imap_folder_subscribe(st, special[i])) != IMAP_ST_OK)
			return rc;
	}
	if (store_write_file(st->rootfd, IMAP_FIRST_LOGIN_NAME, "1\n", 2)
	    == -1)
		return store_errno(st, "write", IMAP_FIRST_LOGIN_NAME);
	return IMAP_ST_OK;
}

/* The sum over every folder's view (each a warm open of its index). */
static int
store_usage_measure(struct imap_store *st, uint64_t *bytes, uint64_t *msgs)
{
	struct imap_folder_list	 fl;
	struct imap_mbox_info	 info;
	size_t			 i;
	int			 rc;

	*bytes = *msgs = 0;
	if ((rc = imap_folder_list(st, "*", 0, &fl)) != IMAP_ST_OK)
		return rc;
	for (i = 0; i < fl.n; i++) {
		if (fl.v[i].attrs & IMAP_LA_NOSELECT)
			continue;
		rc = imap_store_status(st, fl.v[i].name, &info);
		if (rc == IMAP_ST_NONEXISTENT)
			continue;	/* deleted meanwhile */
		if (rc != IMAP_ST_OK)
			break;
		*bytes += info.size;
		*msgs += info.exists;
	}
	imap_folder_list_free(&fl);
	return rc == IMAP_ST_NONEXISTENT ? IMAP_ST_OK : rc;
}

/*
 * Cached for IMAP_QUOTA_CACHE_SECS: other sessions' additions meanwhile
 * are seen late (XXX: a quota can so be passed by what several sessions
 * add within those seconds), this one's at once (store_usage_add).
 */
int
imap_store_usage(struct imap_store *st, uint64_t *bytes, uint64_t *msgs)
{
	time_t	 now = time(NULL);
	int	 rc;

	if (st->usage_at == 0 || now - st->usage_at >= IMAP_QUOTA_CACHE_SECS ||
	    now < st->usage_at) {
		rc = store_usage_measure(st, &st->usage_bytes,
		    &st->usage_msgs);
		if (rc != IMAP_ST_OK) {
			st->usage_at = 0;
			return rc;
		}
		st->usage_at = now;
	}
	*bytes = st->usage_bytes;
	*msgs = st->usage_msgs;
	return IMAP_ST_OK;
}

void
store_usage_add(struct imap_store *st, uint64_t bytes, uint64_t msgs)
{
	st->usage_bytes += bytes;
	st->usage_msgs += msgs;
}
