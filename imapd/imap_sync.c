/*
 * A folder's view brought up to date with its Maildir and uid list
 * (imap_store.h, imap_mbox_sync): new/ moved to cur/, new files given
 * UIDs in delivery order, vanished files expunged, renamed files' flags
 * taken with a new modseq, \Recent claimed, and what the session must
 * tell the client.  Run by the IMAP mailbox process (the mail user,
 * chrooted in the mail home, seccomp set of imapd-user) and the unit
 * tests.
 *
 * Directories are read only when their mtime differs from the one the
 * uid list says it reflects (the "T" record), so that a command on a
 * folder of 100,000 messages does not read 100,000 names.  cur/'s time
 * is taken before it is read, so a change while it is read is seen at
 * the next check.  XXX: a directory's mtime moves by clock ticks; a
 * change by another program in the same tick as our own last change to
 * cur/ (a STORE's rename) is seen only at the next change.  For new/, where deliveries land, the tick
 * is covered: an mtime within IMAP_SYNC_RACY_SECS of the clock makes
 * every check read new/ again until it is older.
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
#include "maildir.h"
#include "imap_store_int.h"

/* A file found that the uid list does not know. */
struct sync_file {
	uint64_t	 secs, usecs;
	uint32_t	 off;		/* its name in the buffer */
};

struct sync_new {
	struct sync_file *v;
	size_t		 n, cap;
	char		*buf;
	size_t		 len, bufcap;
};

static int
sync_ts_eq(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* Decimal digits at *p, saturating; *p moved past them. */
static uint64_t
sync_digits(const char **p)
{
	uint64_t	 v = 0;

	for (; **p >= '0' && **p <= '9'; (*p)++)
		v = v > (UINT64_MAX - 9) / 10 ? UINT64_MAX :
		    v * 10 + (uint64_t)(**p - '0');
	return v;
}

static int
sync_new_add(struct sync_new *sn, const char *name)
{
	struct sync_file	*f;
	const char		*p = name;
	size_t			 len = strlen(name) + 1, cap;
	char			*b;

	if (sn->n == sn->cap) {
		cap = sn->cap < 64 ? 64 : sn->cap * 2;
		if ((f = reallocarray(sn->v, cap, sizeof(*f))) == NULL)
			return -1;
		sn->v = f;
		sn->cap = cap;
	}
	if (sn->len + len > sn->bufcap) {
		cap = sn->bufcap < 4096 ? 4096 : sn->bufcap * 2;
		if (cap > UINT32_MAX || (b = realloc(sn->buf, cap)) == NULL)
			return -1;
		sn->buf = b;
		sn->bufcap = cap;
	}
	f = &sn->v[sn->n++];
	memcpy(sn->buf + sn->len, name, len);
	f->off = (uint32_t)sn->len;
	sn->len += len;
	/* Delivery order: "<secs>.M<usecs>P..." (maildir_unique_name). */
	f->secs = sync_digits(&p);
	f->usecs = 0;
	if (p[0] == '.' && p[1] == 'M') {
		p += 2;
		f->usecs = sync_digits(&p);
	}
	return 0;
}

static const char *sync_sort_buf;

static int
sync_file_cmp(const void *a, const void *b)
{
	const struct sync_file	*x = a, *y = b;

	if (x->secs != y->secs)
		return x->secs < y->secs ? -1 : 1;
	if (x->usecs != y->usecs)
		return x->usecs < y->usecs ? -1 : 1;
	return strcmp(sync_sort_buf + x->off, sync_sort_buf + y->off);
}

/*
 * A name the uid list can hold (its fields are separated by spaces, its
 * records by newlines): none of those, no control byte, no leading dot
 * (Maildir's own).  Others are not messages to us; they stay untouched.
 */
static int
sync_name_ok(const char *name)
{
	const unsigned char	*p = (const unsigned char *)name;

	if (*p == '.')
		return 0;
	for (; *p != '\0'; p++)
		if (*p <= ' ' || *p == 0x7f)
			return 0;
	return 1;
}

static DIR *
sync_opendir(int fd)
{
	DIR	*d;
	int	 dfd;

	dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd == -1)
		return NULL;
	if ((d = fdopendir(dfd)) == NULL)
		(void)close(dfd);
	return d;
}

/*
 * new/X not moved: when cur/X:2, is the same file (a move by link and
 * unlink cut short, as older pop3d did), the new/ link goes; another
 * file of that name stays where it is, for a person to look at.
 */
static void
sync_new_failed(struct imap_mbox *mb, const char *name, const char *dst)
{
	struct stat	 a, b;

	if (errno == ENOENT)
		return;
	if (errno == EEXIST && fstatat(mb->newfd, name, &a,
	    AT_SYMLINK_NOFOLLOW) == 0 && fstatat(mb->curfd, dst, &b,
	    AT_SYMLINK_NOFOLLOW) == 0 && a.st_ino == b.st_ino &&
	    a.st_dev == b.st_dev) {
		(void)unlinkat(mb->newfd, name, 0);
		return;
	}
	log_warnx("imap %s: new/%s not moved: %s", mb->dir, name,
	    strerror(errno));
}

/*
 * new/X to cur/X:2, (renameat2 RENAME_NOREPLACE: never over a file).
 * The names moved go to sn when cur/ is not to be read anyway.
 */
static int
sync_new_dir(struct imap_mbox *mb, struct sync_new *sn)
{
	struct dirent	*de;
	DIR		*d;
	char		 dst[NAME_MAX + 1];
	int		 n;

	if ((d = sync_opendir(mb->newfd)) == NULL)
		return store_errno(mb->st, "read new/ of", mb->dir);
	while ((de = readdir(d)) != NULL) {
		if (!sync_name_ok(de->d_name))
			continue;
		n = snprintf(dst, sizeof(dst), "%s%s", de->d_name,
		    strchr(de->d_name, ':') != NULL ? "" : ":2,");
		if (n < 0 || (size_t)n >= sizeof(dst))
			continue;
		if (renameat2(mb->newfd, de->d_name, mb->curfd, dst,
		    RENAME_NOREPLACE) == -1) {
			sync_new_failed(mb, de->d_name, dst);
			continue;
		}
		if (sn != NULL && sync_new_add(sn, dst) == -1)
			break;
	}
	(void)closedir(d);
	return IMAP_ST_OK;
}

/* Open addressing on base names: view index + 1, 0 empty. */
struct sync_hash {
	uint32_t	*slot;
	uint32_t	 mask;
};

static uint32_t
sync_hash_of(const char *s, size_t len)
{
	return (uint32_t)store_hash(s, len, 0x5a11);
}

static int
sync_hash_build(struct imap_mbox *mb, struct sync_hash *h)
{
	const struct imap_msg	*m;
	uint32_t		 size = 1024, i, j;

	while (size < mb->nmsgs * 2U)
		size *= 2;
	if ((h->slot = calloc(size, sizeof(*h->slot))) == NULL)
		return -1;
	h->mask = size - 1;
	for (i = 0; i < mb->nmsgs; i++) {
		m = &mb->msgs[i];
		if (m->state & IMAP_MS_EXPUNGED)
			continue;
		j = sync_hash_of(mbox_msg_name(mb, m), m->base_len) & h->mask;
		while (h->slot[j] != 0)
			j = (j + 1) & h->mask;
		h->slot[j] = i + 1;
	}
	return 0;
}

static struct imap_msg *
sync_hash_find(struct imap_mbox *mb, const struct sync_hash *h,
    const char *name, size_t blen)
{
	struct imap_msg	*m;
	uint32_t	 j = sync_hash_of(name, blen) & h->mask;

	for (; h->slot[j] != 0; j = (j + 1) & h->mask) {
		m = &mb->msgs[h->slot[j] - 1];
		if (m->base_len == blen &&
		    memcmp(mbox_msg_name(mb, m), name, blen) == 0)
			return m;
	}
	return NULL;
}

/* A file of the view found under another name: its flags changed. */
static int
sync_renamed(struct imap_mbox *mb, struct imap_msg *m, const char *name)
{
	unsigned int	 fl;
	const char	*info = name + m->base_len;

	fl = flags_from_info(info, strlen(info));
	if ((m->flags & IMAP_F_PERMANENT) != fl) {
		m->flags = (uint16_t)((m->flags & ~IMAP_F_PERMANENT) | fl);
		m->modseq = uidlist_modseq(mb);
		m->state |= IMAP_MS_CHANGED;
	}
	if (mbox_set_name(mb, m, name, strlen(name)) == -1)
		return -1;
	return uidlist_out_msg(mb, m);
}

/* View messages whose files are gone: expunged. */
static int
sync_vanished(struct imap_mbox *mb)
{
	struct imap_msg	*m;
	uint32_t	 i;

	for (i = 0; i < mb->nmsgs; i++) {
		m = &mb->msgs[i];
		if (m->state & (IMAP_MS_FOUND | IMAP_MS_EXPUNGED)) {
			m->state &= ~IMAP_MS_FOUND;
			continue;
		}
		if (mbox_expunged(mb, m) != IMAP_ST_OK)
			return -1;
	}
	return 0;
}

/* Every name in cur/ against the view. */
static int
sync_cur_dir(struct imap_mbox *mb, struct sync_new *sn)
{
	struct sync_hash	 h;
	struct dirent		*de;
	struct imap_msg		*m;
	DIR			*d;
	size_t			 blen, nlen;
	int			 rc = -1;

	if (sync_hash_build(mb, &h) == -1)
		return store_err(mb->st, IMAP_ST_IO, "out of memory");
	if ((d = sync_opendir(mb->curfd)) == NULL) {
		free(h.slot);
		return store_errno(mb->st, "read cur/ of", mb->dir);
	}
	while ((de = readdir(d)) != NULL) {
		if (!sync_name_ok(de->d_name))
			continue;
		blen = strcspn(de->d_name, ":");
		m = sync_hash_find(mb, &h, de->d_name, blen);
		if (m == NULL) {
			if (sync_new_add(sn, de->d_name) == -1)
				goto out;
			continue;
		}
		m->state |= IMAP_MS_FOUND;
		nlen = strlen(de->d_name);
		if ((m->name_len != nlen || memcmp(mbox_msg_name(mb, m),
		    de->d_name, nlen) != 0) && sync_renamed(mb, m,
		    de->d_name) == -1)
			goto out;
	}
	rc = sync_vanished(mb);
out:
	(void)closedir(d);
	free(h.slot);
	return rc == 0 ? IMAP_ST_OK : store_err(mb->st, IMAP_ST_IO,
	    "out of memory reading %s", mb->dir);
}

/*
 * The size in CRLF form: from ",W=" in the name (what the delivery
 * agent and Dovecot write), else counted once by reading the file.
 */
static uint64_t
sync_size(struct imap_mbox *mb, const char *name)
{
	struct maildir_wsize	 ws;
	char			 buf[65536];
	uint64_t		 v;
	ssize_t			 n;
	int			 fd;

	if (maildir_name_size(name, 'W', &v) == 0)
		return v;
	if ((fd = openat(mb->curfd, name, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	memset(&ws, 0, sizeof(ws));
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		maildir_wsize_feed(&ws, buf, (size_t)n);
	(void)close(fd);
	return maildir_wsize_end(&ws);
}

/* UIDs for the files found, in delivery order (time, then name). */
static int
sync_assign(struct imap_mbox *mb, struct sync_new *sn)
{
	struct imap_msg	*m;
	struct stat	 sb;
	const char	*name;
	size_t		 i;

	if (sn->n == 0)
		return 0;
	sync_sort_buf = sn->buf;
	qsort(sn->v, sn->n, sizeof(sn->v[0]), sync_file_cmp);
	for (i = 0; i < sn->n; i++) {
		name = sn->buf + sn->v[i].off;
		if (fstatat(mb->curfd, name, &sb, AT_SYMLINK_NOFOLLOW) == -1 ||
		    !S_ISREG(sb.st_mode))
			continue;
		if ((m = mbox_add(mb, mb->uidnext)) == NULL) {
			log_warnx("imap %s: more than %d messages, %s left out",
			    mb->dir, IMAP_MBOX_MESSAGES_MAX, name);
			break;
		}
		mb->uidnext++;
		m->state |= IMAP_MS_NEW;
		if (mbox_set_name(mb, m, name, strlen(name)) == -1)
			return -1;
		m->flags = (uint16_t)flags_from_info(name + m->base_len,
		    strlen(name + m->base_len));
		m->modseq = uidlist_modseq(mb);
		m->size = sync_size(mb, name);
		m->idate = (int64_t)sb.st_mtim.tv_sec;
		if (uidlist_out_msg(mb, m) == -1)
			return -1;
	}
	return 0;
}

void
sync_dir_times(struct imap_mbox *mb)
{
	struct timespec	 now;
	struct stat	 sb;

	if (fstat(mb->curfd, &sb) == 0)
		mb->cur_mtime = sb.st_mtim;
	if (fstat(mb->newfd, &sb) == 0)
		mb->new_mtime = sb.st_mtim;
	(void)clock_gettime(CLOCK_REALTIME, &now);
	mb->new_racy = mb->new_mtime.tv_sec >= now.tv_sec - IMAP_SYNC_RACY_SECS;
}

/* \Recent (RFC 3501 2.3.2): the first read-write session to see it. */
static void
sync_recent(struct imap_mbox *mb)
{
	uint32_t	 i, top = 0;

	for (i = imap_mbox_uid_index(mb, mb->recentuid + 1); i < mb->nmsgs;
	    i++) {
		if ((mb->msgs[i].flags & IMAP_F_RECENT) ||
		    (mb->msgs[i].state & IMAP_MS_EXPUNGED))
			continue;
		mb->msgs[i].flags |= IMAP_F_RECENT;
		mb->nrecent++;
		top = mb->msgs[i].uid;
	}
	if (top != 0 && !mb->readonly && !mb->norecent) {
		mb->recentuid = top;
		(void)uidlist_out_printf(mb, "R %u\n", top);
	}
}

static int
sync_dirs(struct imap_mbox *mb, unsigned int flags)
{
	struct sync_new	 sn;
	struct stat	 cur, new;
	int		 rc = IMAP_ST_OK, scan_cur, scan_new;

	if (fstat(mb->curfd, &cur) == -1 || fstat(mb->newfd, &new) == -1)
		return store_errno(mb->st, "stat cur/, new/ of", mb->dir);
	scan_cur = (flags & IMAP_SYNC_FORCE) || mb->resync ||
	    !sync_ts_eq(&cur.st_mtim, &mb->cur_mtime);
	scan_new = scan_cur || mb->new_racy ||
	    !sync_ts_eq(&new.st_mtim, &mb->new_mtime);
	if (!scan_new)
		return IMAP_ST_OK;
	memset(&sn, 0, sizeof(sn));
	rc = sync_new_dir(mb, scan_cur ? NULL : &sn);
	/* cur/'s time before it is read: a change meanwhile is seen next. */
	if (rc == IMAP_ST_OK && scan_cur && fstat(mb->curfd, &cur) == -1)
		rc = store_errno(mb->st, "stat cur/ of", mb->dir);
	if (rc == IMAP_ST_OK && scan_cur)
		rc = sync_cur_dir(mb, &sn);
	if (rc == IMAP_ST_OK && sync_assign(mb, &sn) == -1)
		rc = store_err(mb->st, IMAP_ST_IO, "out of memory");
	free(sn.v);
	free(sn.buf);
	if (rc == IMAP_ST_OK) {
		sync_dir_times(mb);
		if (scan_cur)
			mb->cur_mtime = cur.st_mtim;
		mb->resync = 0;
		mb->times_dirty = scan_cur;
	}
	return rc;
}

/*
 * Under the lock: the uid list's tail, then the directories, then
 * \Recent; the records this produced are committed.
 */
int
sync_locked(struct imap_mbox *mb, unsigned int flags,
    struct imap_sync *sync)
{
	struct timespec	 now;
	int		 rc;

	memset(sync, 0, sizeof(*sync));
	if ((rc = uidlist_load(mb)) != IMAP_ST_OK)
		return rc;
	(void)clock_gettime(CLOCK_REALTIME, &now);
	mb->new_racy = mb->new_mtime.tv_sec >= now.tv_sec -
	    IMAP_SYNC_RACY_SECS;
	cache_open(mb);
	if ((rc = sync_dirs(mb, flags)) != IMAP_ST_OK)
		return rc;
	sync_recent(mb);
	if ((rc = uidlist_commit(mb)) != IMAP_ST_OK)
		return rc;
	if (mb->uidv_changed)
		return store_err(mb->st, IMAP_ST_IO, "the folder's UIDVALIDITY "
		    "changed (its uid list was lost): select it again");
	return IMAP_ST_OK;
}
