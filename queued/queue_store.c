/*
 * The spool's files, as the queue manager (user queue, chrooted into the
 * spool) reads and changes them.  Every change that must survive a crash
 * is made durable before the function returns: a new file is fsynced, an
 * envelope is replaced by writing "tmp.<evpid>", fsyncing it and renaming
 * it over the old one, and the directory is fsynced after each rename or
 * unlink.  A stale "tmp.*" left by a crash is removed at start.  The
 * exceptions are the removals after a delivery (queue_store_unlink,
 * queue_store_msg_remove), whose directories the caller syncs a little
 * later for many at once: a crash in between repeats a delivery, which
 * at-least-once allows (doc/INTERNALS.md, "The commit").
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "queue.h"

int
queue_store_fsync_dir(int fd)
{
	int	 r;

	do {
		r = fsync(fd);
	} while (r == -1 && errno == EINTR);
	return r;
}

void
queue_msgid_draw(char *msgid)
{
	static const char	 hex[] = "0123456789abcdef";
	uint8_t			 rnd[QUEUE_MSGID_HEX_DIGITS / 2];
	size_t			 i;

	do {
		arc4random_buf(rnd, sizeof(rnd));
		for (i = 0; i < sizeof(rnd); i++) {
			msgid[2 * i] = hex[rnd[i] >> 4];
			msgid[2 * i + 1] = hex[rnd[i] & 0xf];
		}
		msgid[QUEUE_MSGID_HEX_DIGITS] = '\0';
	} while (queue_msg_find(msgid) != NULL);
}

int
queue_msgid_claim(const char *msgid)
{
	struct stat	 sb;

	/* Committed, or still being removed: taken. */
	if (fstatat(qm.queue_fd, msgid, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
		errno = EEXIST;
		return -1;
	}
	return mkdirat(qm.incoming_fd, msgid, 0700);
}

static int
queue_store_msgdir(const char *msgid)
{
	return openat(qm.queue_fd, msgid, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC);
}

static int
queue_store_writeall(int fd, const char *buf, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Creates name in dirfd (flags O_EXCL or O_TRUNC), writes, fsyncs. */
static int
queue_store_file(int dirfd, const char *name, int flags, const char *buf,
    size_t len)
{
	int	 fd, saved;

	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC |
	    flags, 0600);
	if (fd == -1)
		return -1;
	if (queue_store_writeall(fd, buf, len) == -1 || fsync(fd) == -1) {
		saved = errno;
		(void)close(fd);
		(void)unlinkat(dirfd, name, 0);
		errno = saved;
		return -1;
	}
	return close(fd);
}

/*
 * The envelope file writers run in sync threads (commits, retries,
 * expansions): they log nothing, and an envelope that does not
 * serialise (never, once checked) is EINVAL.
 */
int
queue_store_write_new(int dirfd, const struct envelope *e)
{
	char		 buf[QUEUE_ENVELOPE_MAX_BYTES + 1];
	const char	*errstr;
	int		 n;

	if ((n = envelope_serialise(e, buf, sizeof(buf), &errstr)) == -1) {
		errno = EINVAL;
		return -1;
	}
	return queue_store_file(dirfd, e->evpid, O_EXCL, buf, (size_t)n);
}

/* tmp file, fsync, rename over; the caller fsyncs the directory. */
static int
queue_store_replace(int dirfd, const struct envelope *e)
{
	char		 buf[QUEUE_ENVELOPE_MAX_BYTES + 1];
	char		 tmp[QUEUE_EVPID_MAX_BYTES + sizeof(QUEUE_TMP_PREFIX)];
	const char	*errstr;
	int		 n;

	if ((n = envelope_serialise(e, buf, sizeof(buf), &errstr)) == -1) {
		errno = EINVAL;
		return -1;
	}
	(void)snprintf(tmp, sizeof(tmp), "%s%s", QUEUE_TMP_PREFIX, e->evpid);
	if (queue_store_file(dirfd, tmp, O_TRUNC, buf, (size_t)n) == -1)
		return -1;
	if (renameat(dirfd, tmp, dirfd, e->evpid) == -1) {
		(void)unlinkat(dirfd, tmp, 0);
		return -1;
	}
	return 0;
}

int
queue_store_add(const struct envelope *e, size_t n)
{
	size_t	 i;
	int	 dirfd, r = 0;

	if (n == 0)
		return 0;
	if ((dirfd = queue_store_msgdir(e[0].msgid)) == -1)
		return -1;
	for (i = 0; i < n && r == 0; i++)
		r = queue_store_replace(dirfd, &e[i]);
	if (r == 0)
		r = queue_store_fsync_dir(dirfd);
	(void)close(dirfd);
	return r;
}

int
queue_store_remove(const char *msgid, const char *evpid)
{
	int	 dirfd, r;

	if ((dirfd = queue_store_msgdir(msgid)) == -1)
		return -1;
	r = unlinkat(dirfd, evpid, 0);
	if (r == 0)
		r = queue_store_fsync_dir(dirfd);
	(void)close(dirfd);
	return r;
}

int
queue_store_unlink(const char *msgid, const char *evpid)
{
	int	 dirfd, r;

	if ((dirfd = queue_store_msgdir(msgid)) == -1)
		return -1;
	r = unlinkat(dirfd, evpid, 0);
	(void)close(dirfd);
	return r;
}

int
queue_store_read(int dirfd, const char *path, struct envelope *e,
    const char **errstr)
{
	char	 buf[QUEUE_ENVELOPE_MAX_BYTES + 1];
	ssize_t	 n;
	int	 fd;

	if ((fd = openat(dirfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return *errstr = strerror(errno), -1;
	do {
		n = read(fd, buf, sizeof(buf));
	} while (n == -1 && errno == EINTR);
	(void)close(fd);
	if (n == -1)
		return *errstr = strerror(errno), -1;
	return envelope_parse(buf, (size_t)n, e, errstr);
}

int
queue_store_load(const char *msgid, const char *evpid, struct envelope *e,
    const char **errstr)
{
	char	 path[QUEUE_MSGID_MAX_BYTES + QUEUE_EVPID_MAX_BYTES];

	(void)snprintf(path, sizeof(path), "%s/%s", msgid, evpid);
	if (queue_store_read(qm.queue_fd, path, e, errstr) == -1)
		return -1;
	if (strcmp(e->evpid, evpid) != 0)
		return *errstr = "evpid does not match the file name", -1;
	return 0;
}

int
queue_store_purge(int dirfd, const char *name)
{
	struct dirent	*de;
	DIR		*dir;
	int		 fd, r = 0;

	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1)
		return unlinkat(dirfd, name, 0);
	if ((dir = fdopendir(fd)) == NULL) {
		(void)close(fd);
		return -1;
	}
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(fd, de->d_name, 0) == -1 && errno != ENOENT)
			r = -1;
	}
	(void)closedir(dir);
	if (unlinkat(dirfd, name, AT_REMOVEDIR) == -1)
		r = -1;
	return r;
}

int
queue_store_msg_remove(const char *msgid)
{
	return queue_store_purge(qm.queue_fd, msgid);
}

int
queue_store_corrupt(const char *msgid)
{
	char		 name[QUEUE_MSGID_MAX_BYTES + 16];
	uint32_t	 tries;

	(void)strlcpy(name, msgid, sizeof(name));
	for (tries = 0; tries < QUEUE_MSGID_TRIES_MAX; tries++) {
		if (renameat(qm.queue_fd, msgid, qm.corrupt_fd, name) == 0)
			break;
		if (errno != EEXIST && errno != ENOTEMPTY)
			return -1;
		/* An older corrupt copy has the name: keep both. */
		(void)snprintf(name, sizeof(name), "%s-%08x", msgid,
		    arc4random());
	}
	if (tries == QUEUE_MSGID_TRIES_MAX)
		return -1;
	if (queue_store_fsync_dir(qm.corrupt_fd) == -1 ||
	    queue_store_fsync_dir(qm.queue_fd) == -1)
		return -1;
	return 0;
}

int
queue_store_open_message(const char *msgid)
{
	char	 path[QUEUE_MSGID_MAX_BYTES + sizeof("/message")];

	(void)snprintf(path, sizeof(path), "%s/message", msgid);
	return openat(qm.queue_fd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
}
