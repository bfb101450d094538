/*
 * APPEND, COPY and MOVE (imap_store.h, "Copy, move, append"), and the
 * move of INBOX's messages when INBOX is renamed.  Run by the IMAP
 * mailbox process (the mail user, chrooted in the mail home, seccomp set
 * of imapd-user) and the unit tests.
 *
 * A message enters a folder as a delivery does (tmp/, fsync, then a
 * rename into cur/ with its flags in the name), under the destination's
 * lock, which also gives it the next UID.  Its name is a new unique
 * name (common/maildir.c) with ",S=" (octets on disk) and ",W=" (CRLF
 * form, what RFC822.SIZE reports: every LF counted as CRLF and a last
 * line end added when missing, as POP3 counts it).
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "maildir.h"
#include "imap_store_int.h"

struct imap_append {
	struct imap_store	*st;
	struct imap_mbox	*mb;	/* the destination, NORECENT */
	int			 fd;
	char			 tmp[NAME_MAX + 1];
	uint64_t		 size, limit;
	int			 held_cr, failed;
	struct maildir_wsize	 ws;
};

/* A new unique base name, then ",S=..,W=..:2,<flags>". */
int
append_name(char *dst, size_t dstlen, uint64_t size, uint64_t wsize,
    unsigned int flags)
{
	static unsigned long	 counter;
	struct maildir_uniq	 u;
	struct timespec		 ts;
	char			 host[256], uniq[NAME_MAX + 1], info[16];
	char			 base[NAME_MAX + 1];

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	if (gethostname(host, sizeof(host)) == -1 || host[0] == '\0')
		(void)strlcpy(host, "localhost", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	memset(&u, 0, sizeof(u));
	u.secs = ts.tv_sec;
	u.usecs = ts.tv_nsec / 1000;
	u.pid = getpid();
	u.counter = ++counter;
	if (maildir_unique_name(uniq, sizeof(uniq), &u, host) == -1 ||
	    maildir_final_name(base, sizeof(base), uniq, size, wsize) == -1 ||
	    flags_info(info, sizeof(info), "", 0, flags) == -1)
		return -1;
	return snprintf(dst, dstlen, "%s%s", base, info) < (int)dstlen ? 0 :
	    -1;
}

static int
append_quota(struct imap_store *st, uint64_t quota, uint64_t more)
{
	uint64_t	 bytes, msgs;
	int		 rc;

	if (quota == 0)
		return IMAP_ST_OK;
	if ((rc = imap_store_usage(st, &bytes, &msgs)) != IMAP_ST_OK)
		return rc;
	if (bytes + more > quota)
		return store_err(st, IMAP_ST_OVERQUOTA, "quota exceeded "
		    "(%llu of %llu octets used)", (unsigned long long)bytes,
		    (unsigned long long)quota);
	return IMAP_ST_OK;
}

/* The destination, for a change: TRYCREATE when it does not exist. */
static int
append_dst(struct imap_store *st, const char *folder, struct imap_mbox **mb)
{
	int	 rc;

	rc = imap_mbox_open(st, folder, IMAP_OPEN_NORECENT, mb);
	if (rc == IMAP_ST_NONEXISTENT)
		(void)store_err(st, rc, "no such folder: [TRYCREATE]");
	return rc;
}

int
imap_append_begin(struct imap_store *st, const char *folder, uint64_t size,
    uint64_t quota, struct imap_append **app)
{
	struct imap_append	*ap;
	int			 rc;

	*app = NULL;
	if ((ap = calloc(1, sizeof(*ap))) == NULL)
		return store_err(st, IMAP_ST_IO, "out of memory");
	ap->st = st;
	ap->fd = -1;
	ap->limit = size;
	if ((rc = append_dst(st, folder, &ap->mb)) != IMAP_ST_OK ||
	    (rc = append_quota(st, quota, size)) != IMAP_ST_OK)
		goto fail;
	if (append_name(ap->tmp, sizeof(ap->tmp), 0, 0, 0) == -1) {
		rc = store_err(st, IMAP_ST_IO, "no unique name");
		goto fail;
	}
	ap->fd = openat(ap->mb->tmpfd, ap->tmp, O_WRONLY | O_CREAT | O_EXCL |
	    O_CLOEXEC, 0600);
	if (ap->fd == -1) {
		rc = store_errno(st, "create", ap->tmp);
		goto fail;
	}
	*app = ap;
	return IMAP_ST_OK;
fail:
	imap_mbox_close(ap->mb);
	free(ap);
	return rc;
}

static int
append_out(struct imap_append *ap, const char *p, size_t len)
{
	ssize_t	 w;

	maildir_wsize_feed(&ap->ws, p, len);
	ap->size += len;
	for (; len > 0; p += w, len -= (size_t)w)
		if ((w = write(ap->fd, p, len)) <= 0)
			return -1;
	return 0;
}

/* CRLF stored as LF (plan, "Storage"); a CR alone is kept. */
int
imap_append_write(struct imap_append *ap, const void *buf, size_t len)
{
	const char	*p = buf, *end = p + len, *s = p;

	if (ap->failed)
		return IMAP_ST_IO;
	if (ap->held_cr && len > 0) {
		ap->held_cr = 0;
		if (*p != '\n' && append_out(ap, "\r", 1) == -1)
			goto fail;
	}
	for (; p < end; p++) {
		if (*p != '\r')
			continue;
		if (append_out(ap, s, (size_t)(p - s)) == -1)
			goto fail;
		s = p + 1;
		if (p + 1 == end)
			ap->held_cr = 1;
		else if (p[1] != '\n' && append_out(ap, "\r", 1) == -1)
			goto fail;
	}
	if (append_out(ap, s, (size_t)(end - s)) == -1)
		goto fail;
	return IMAP_ST_OK;
fail:
	ap->failed = 1;
	return store_errno(ap->st, "write", ap->tmp);
}

void
imap_append_abort(struct imap_append *ap)
{
	if (ap == NULL)
		return;
	if (ap->fd != -1)
		(void)close(ap->fd);
	(void)unlinkat(ap->mb->tmpfd, ap->tmp, 0);
	imap_mbox_close(ap->mb);
	free(ap);
}

/* The file into cur/ under its final name, with the next UID. */
static int
append_enter(struct imap_mbox *mb, const char *tmp, unsigned int flags,
    time_t idate, uint64_t size, uint64_t wsize, uint32_t *uid)
{
	char		 name[NAME_MAX + 1];
	int		 rc;

	if (append_name(name, sizeof(name), size, wsize, flags) == -1)
		return store_err(mb->st, IMAP_ST_IO, "no unique name");
	if ((rc = sync_change_begin(mb)) != IMAP_ST_OK)
		return rc;
	if (renameat2(mb->tmpfd, tmp, mb->curfd, name, RENAME_NOREPLACE) ==
	    -1)
		return sync_change_end(mb, store_errno(mb->st, "rename", tmp));
	if (fsync(mb->curfd) == -1)
		rc = store_errno(mb->st, "fsync cur/ of", mb->dir);
	else if ((rc = mbox_enter(mb, name, flags, wsize, (int64_t)idate,
	    uid)) != IMAP_ST_OK)
		(void)renameat(mb->curfd, name, mb->tmpfd, tmp);
	return sync_change_end(mb, rc);
}

int
imap_append_commit(struct imap_append *ap, unsigned int flags, time_t idate,
    uint32_t *uidvalidity, uint32_t *uid)
{
	struct timespec	 ts[2];
	int		 rc = IMAP_ST_OK;

	if (ap->held_cr && append_out(ap, "\r", 1) == -1)
		ap->failed = 1;
	if (idate == 0)
		idate = time(NULL);
	ts[0].tv_sec = ts[1].tv_sec = idate;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	if (ap->failed || fsync(ap->fd) == -1 || futimens(ap->fd, ts) == -1)
		rc = store_errno(ap->st, "write", ap->tmp);
	if (close(ap->fd) == -1 && rc == IMAP_ST_OK)
		rc = store_errno(ap->st, "close", ap->tmp);
	ap->fd = -1;
	if (rc == IMAP_ST_OK)
		rc = append_enter(ap->mb, ap->tmp, flags, idate, ap->size,
		    maildir_wsize_end(&ap->ws), uid);
	if (rc == IMAP_ST_OK)
		store_usage_add(ap->st, maildir_wsize_end(&ap->ws), 1);
	*uidvalidity = ap->mb->uidvalidity;
	imap_append_abort(ap);		/* removes tmp/ if still there */
	return rc;
}
