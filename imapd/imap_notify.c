/*
 * IDLE (RFC 2177): an inotify(7) descriptor on a folder's new/, cur/ and
 * directory (where the uid list is appended to or renamed over), which
 * the session polls; imap_store.h, "IDLE".  Run by the IMAP mailbox
 * process (the mail user, chrooted in the mail home, seccomp set of
 * imapd-user: inotify_init1, inotify_add_watch, inotify_rm_watch) and
 * the unit tests.
 */
#include <sys/types.h>
#include <sys/inotify.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "imap_store_int.h"

/* What changes a folder: files in and out, renames, the list written. */
#define NOTIFY_MASK	(IN_CREATE | IN_DELETE | IN_MOVED_FROM | \
			    IN_MOVED_TO | IN_MODIFY | IN_CLOSE_WRITE)

/*
 * inotify wants paths; /proc/self/fd is not in the chroot, so the
 * folder's directories are named from the root's path, kept by the
 * store when it was opened.
 */
static int
notify_watch(struct imap_mbox *mb, const char *sub)
{
	char	 path[PATH_MAX];
	int	 n;

	n = snprintf(path, sizeof(path), "%s/%s%s%s", mb->st->root, mb->dir,
	    sub[0] != '\0' ? "/" : "", sub);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -1;
	return inotify_add_watch(mb->inofd, path, NOTIFY_MASK | IN_ONLYDIR);
}

int
imap_notify_fd(struct imap_mbox *mb)
{
	if (mb->inofd != -1)
		return mb->inofd;
	if ((mb->inofd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1) {
		log_warnx("imap %s: inotify: %s", mb->dir, strerror(errno));
		return -1;
	}
	if (notify_watch(mb, "new") == -1 || notify_watch(mb, "cur") == -1 ||
	    notify_watch(mb, "") == -1) {
		log_warnx("imap %s: inotify watch: %s", mb->dir,
		    strerror(errno));
		notify_close(mb);
		return -1;
	}
	return mb->inofd;
}

/*
 * Reads every pending event.  The folder's own lock file and the index
 * and cache (written by sessions that only read) change nothing a
 * client sees: they do not count.
 */
int
imap_notify_drain(struct imap_mbox *mb)
{
	char				 buf[4096]
	    __attribute__((__aligned__(__alignof__(struct inotify_event))));
	const struct inotify_event	*ev;
	ssize_t				 n, off;
	int				 any = 0;

	if (mb->inofd == -1)
		return 0;
	while ((n = read(mb->inofd, buf, sizeof(buf))) > 0) {
		for (off = 0; off < n; off += (ssize_t)sizeof(*ev) +
		    (ssize_t)ev->len) {
			ev = (const void *)(buf + off);
			if (ev->len > 0 && (strncmp(ev->name,
			    IMAP_INDEX_NAME, strlen(IMAP_INDEX_NAME)) == 0 ||
			    strcmp(ev->name, IMAP_LOCK_NAME) == 0 ||
			    strncmp(ev->name, IMAP_CACHE_NAME,
			    strlen(IMAP_CACHE_NAME)) == 0))
				continue;
			any = 1;
		}
	}
	return any;
}

void
notify_close(struct imap_mbox *mb)
{
	if (mb->inofd != -1)
		(void)close(mb->inofd);
	mb->inofd = -1;
}
