/*
 * A folder open (imap_store.h, "A folder open"): its directories and
 * lock, the view (messages in UID order, their names in one pool),
 * SELECT/EXAMINE, STATUS and the message files.  Run by the IMAP mailbox
 * process (the mail user, chrooted in the mail home, seccomp set of
 * imapd-user) and the unit tests.
 */
#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "imap_store_int.h"

int
mbox_lock(struct imap_mbox *mb)
{
	if (mb->locked)
		return IMAP_ST_OK;
	if (flock(mb->lockfd, LOCK_EX) == -1)
		return store_errno(mb->st, "flock", mb->dir);
	mb->locked = 1;
	return IMAP_ST_OK;
}

void
mbox_unlock(struct imap_mbox *mb)
{
	if (!mb->locked)
		return;
	(void)flock(mb->lockfd, LOCK_UN);
	mb->locked = 0;
}

const char *
mbox_msg_name(const struct imap_mbox *mb, const struct imap_msg *m)
{
	return mb->names + m->name_off;
}

/* The pool is rewritten when more than half of it is old names. */
void
mbox_compact_names(struct imap_mbox *mb)
{
	char		*p;
	size_t		 len = 0;
	uint32_t	 i;

	if ((p = malloc(mb->names_len - mb->names_dead + 1)) == NULL)
		return;
	for (i = 0; i < mb->nmsgs; i++) {
		memcpy(p + len, mb->names + mb->msgs[i].name_off,
		    mb->msgs[i].name_len + 1U);
		mb->msgs[i].name_off = (uint32_t)len;
		len += mb->msgs[i].name_len + 1U;
	}
	free(mb->names);
	mb->names = p;
	mb->names_cap = mb->names_len - mb->names_dead + 1;
	mb->names_len = len;
	mb->names_dead = 0;
}

int
mbox_set_name(struct imap_mbox *mb, struct imap_msg *m, const char *name,
    size_t len)
{
	size_t	 cap;
	char	*p;

	if (len == 0 || len > NAME_MAX)
		return -1;
	if (mb->names_len + len + 1 > mb->names_cap) {
		cap = mb->names_cap < 4096 ? 4096 : mb->names_cap;
		while (cap < mb->names_len + len + 1)
			cap *= 2;
		if (cap > UINT32_MAX || (p = realloc(mb->names, cap)) == NULL)
			return -1;
		mb->names = p;
		mb->names_cap = cap;
	}
	if (m->name_len != 0)
		mb->names_dead += m->name_len + 1U;
	memcpy(mb->names + mb->names_len, name, len);
	mb->names[mb->names_len + len] = '\0';
	m->name_off = (uint32_t)mb->names_len;
	m->name_len = (uint16_t)len;
	m->base_len = (uint16_t)strcspn(mb->names + m->name_off, ":");
	mb->names_len += len + 1;
	return 0;
}

/*
 * A new message at the end of the view (UIDs only grow); an older UID
 * (a uid list read anew after a rewrite) goes in its place.  NULL when
 * the view is full.
 */
struct imap_msg *
mbox_add(struct imap_mbox *mb, uint32_t uid)
{
	struct imap_msg	*p;
	uint32_t	 at, cap;

	if (mb->nmsgs >= IMAP_MBOX_MESSAGES_MAX)
		return NULL;
	if (mb->nmsgs == mb->msgcap) {
		cap = mb->msgcap < 256 ? 256 : mb->msgcap * 2;
		if ((p = reallocarray(mb->msgs, cap, sizeof(*p))) == NULL)
			return NULL;
		mb->msgs = p;
		mb->msgcap = cap;
	}
	at = mb->nmsgs;
	if (at > 0 && mb->msgs[at - 1].uid >= uid) {
		at = imap_mbox_uid_index(mb, uid);
		memmove(&mb->msgs[at + 1], &mb->msgs[at],
		    (mb->nmsgs - at) * sizeof(*p));
	}
	mb->nmsgs++;
	p = &mb->msgs[at];
	memset(p, 0, sizeof(*p));
	p->uid = uid;
	return p;
}

/*
 * A file just put in cur/ under name, as a new message of the view with
 * the next UID and this change's modseq, recorded for the uid list.
 */
int
mbox_enter(struct imap_mbox *mb, const char *name, unsigned int flags,
    uint64_t size, int64_t idate, uint32_t *uid)
{
	struct imap_msg	*m;

	if ((m = mbox_add(mb, mb->uidnext)) == NULL)
		return store_err(mb->st, IMAP_ST_TOOBIG, "folder full");
	*uid = mb->uidnext++;
	if (mbox_set_name(mb, m, name, strlen(name)) == -1)
		return store_err(mb->st, IMAP_ST_IO, "out of memory");
	m->flags = (uint16_t)(flags & IMAP_F_PERMANENT);
	m->modseq = uidlist_modseq(mb);
	m->size = size;
	m->idate = idate;
	return uidlist_out_msg(mb, m) == 0 ? IMAP_ST_OK :
	    store_err(mb->st, IMAP_ST_IO, "out of memory");
}

uint32_t
imap_mbox_uid_index(const struct imap_mbox *mb, uint32_t uid)
{
	uint32_t	 lo = 0, hi = mb->nmsgs, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (mb->msgs[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct imap_msg *
mbox_find(struct imap_mbox *mb, uint32_t uid)
{
	uint32_t	 i = imap_mbox_uid_index(mb, uid);

	return i < mb->nmsgs && mb->msgs[i].uid == uid ? &mb->msgs[i] : NULL;
}

/* Remembers an expunge for VANISHED; the oldest go past the limit. */
int
mbox_exp_add(struct imap_mbox *mb, uint32_t uid, uint64_t modseq)
{
	struct imap_exp	*p;
	size_t		 drop;

	if (mb->nexp >= IMAP_STORE_EXPUNGED_MAX) {
		drop = mb->nexp / 2;
		mb->expfloor = mb->exp[drop - 1].modseq;
		memmove(mb->exp, mb->exp + drop,
		    (mb->nexp - drop) * sizeof(*p));
		mb->nexp -= drop;
	}
	if (mb->nexp == mb->expcap) {
		mb->expcap = mb->expcap < 64 ? 64 : mb->expcap * 2;
		p = reallocarray(mb->exp, mb->expcap, sizeof(*p));
		if (p == NULL)
			return -1;
		mb->exp = p;
	}
	mb->exp[mb->nexp].uid = uid;
	mb->exp[mb->nexp].pad = 0;
	mb->exp[mb->nexp].modseq = modseq;
	mb->nexp++;
	return 0;
}

/* A message gone: out of the view at the next report, into the list. */
int
mbox_expunged(struct imap_mbox *mb, struct imap_msg *m)
{
	m->state |= IMAP_MS_EXPUNGED;
	if (mbox_exp_add(mb, m->uid, uidlist_modseq(mb)) == -1 ||
	    uidlist_out_printf(mb, "E %u %llu\n", m->uid,
	    (unsigned long long)uidlist_modseq(mb)) == -1)
		return store_err(mb->st, IMAP_ST_IO, "out of memory");
	return IMAP_ST_OK;
}

static int
mbox_subdir(struct imap_mbox *mb, const char *sub, int create)
{
	int	 fd;

	if (create && mkdirat(mb->dirfd, sub, 0700) == -1 && errno != EEXIST)
		return -1;
	fd = openat(mb->dirfd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1 && errno == ENOENT && !create)
		return mbox_subdir(mb, sub, 1);
	return fd;
}

/*
 * Opens the folder's directory, its cur/ new/ tmp/ (made when missing:
 * another Maildir tool may have left a bare folder) and its lock file.
 */
int
mbox_open_dirs(struct imap_mbox *mb, const char *dir, int create)
{
	if (strlcpy(mb->dir, dir, sizeof(mb->dir)) >= sizeof(mb->dir))
		return store_err(mb->st, IMAP_ST_BADNAME, "name too long");
	if (create && mkdirat(mb->st->rootfd, dir, 0700) == -1 &&
	    errno != EEXIST)
		return store_errno(mb->st, "mkdir", dir);
	mb->dirfd = openat(mb->st->rootfd, dir,
	    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (mb->dirfd == -1) {
		if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
			return store_err(mb->st, IMAP_ST_NONEXISTENT,
			    "no such folder");
		return store_errno(mb->st, "open", dir);
	}
	if ((mb->curfd = mbox_subdir(mb, "cur", create)) == -1 ||
	    (mb->newfd = mbox_subdir(mb, "new", create)) == -1 ||
	    (mb->tmpfd = mbox_subdir(mb, "tmp", create)) == -1)
		return store_errno(mb->st, "open cur, new, tmp of", dir);
	mb->lockfd = openat(mb->dirfd, IMAP_LOCK_NAME,
	    O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (mb->lockfd == -1)
		return store_errno(mb->st, "open", IMAP_LOCK_NAME);
	return IMAP_ST_OK;
}

static struct imap_mbox *
mbox_new(struct imap_store *st, const char *name)
{
	struct imap_mbox	*mb;

	if ((mb = calloc(1, sizeof(*mb))) == NULL)
		return NULL;
	mb->st = st;
	(void)strlcpy(mb->name, name, sizeof(mb->name));
	mb->dirfd = mb->curfd = mb->newfd = mb->tmpfd = mb->lockfd = -1;
	mb->ulfd = mb->cachefd = mb->inofd = -1;
	return mb;
}

void
mbox_free(struct imap_mbox *mb)
{
	int	*fds[] = { &mb->dirfd, &mb->curfd, &mb->newfd, &mb->tmpfd,
		    &mb->ulfd };
	size_t	 i;

	mbox_unlock(mb);
	notify_close(mb);
	cache_close(mb);
	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (*fds[i] != -1)
			(void)close(*fds[i]);
	if (mb->lockfd != -1)
		(void)close(mb->lockfd);
	free(mb->msgs);
	free(mb->names);
	free(mb->exp);
	free(mb->out);
	free(mb);
}

/* Under the lock: the index, the uid list, the directories. */
static int
mbox_load(struct imap_mbox *mb)
{
	struct imap_sync	 sync;
	int			 rc;

	if (index_load(mb) == -1)
		mb->index_urgent = 1;
	if ((rc = uidlist_load(mb)) != IMAP_ST_OK)
		return rc;
	cache_open(mb);
	if ((rc = sync_locked(mb, IMAP_SYNC_EXPUNGE, &sync)) != IMAP_ST_OK)
		return rc;
	rc = sync_view_finish(mb, IMAP_SYNC_EXPUNGE, &sync);
	imap_sync_free(&sync);
	return rc;
}

int
imap_mbox_open(struct imap_store *st, const char *name, unsigned int flags,
    struct imap_mbox **mbp)
{
	struct imap_mbox	*mb;
	const char		*errstr;
	char			 dir[NAME_MAX + 1];
	int			 rc;

	*mbp = NULL;
	if (!store_is_inbox(name) &&
	    (rc = imap_folder_valid(name, &errstr)) != IMAP_ST_OK)
		return store_err(st, rc, "%s", errstr);
	if (store_folder_dir(name, dir, sizeof(dir)) == -1)
		return store_err(st, IMAP_ST_BADNAME, "name too long");
	if ((mb = mbox_new(st, store_is_inbox(name) ? "INBOX" : name)) == NULL)
		return store_err(st, IMAP_ST_IO, "out of memory");
	mb->readonly = (flags & IMAP_OPEN_READONLY) != 0;
	mb->norecent = (flags & IMAP_OPEN_NORECENT) != 0;
	if ((rc = mbox_open_dirs(mb, dir, 0)) != IMAP_ST_OK ||
	    (rc = mbox_lock(mb)) != IMAP_ST_OK ||
	    (rc = mbox_load(mb)) != IMAP_ST_OK) {
		mbox_free(mb);
		return rc;
	}
	if (mb->index_dirty && mb->index_urgent) {
		index_write(mb);
		mb->index_urgent = mb->index_dirty;
	}
	mbox_unlock(mb);
	mb->opened = 1;
	*mbp = mb;
	return IMAP_ST_OK;
}

void
imap_mbox_close(struct imap_mbox *mb)
{
	if (mb == NULL)
		return;
	cache_flush_close(mb);
	mbox_free(mb);
}

const char *
imap_mbox_name(const struct imap_mbox *mb)
{
	return mb->name;
}

uint32_t
imap_mbox_count(const struct imap_mbox *mb)
{
	return mb->nmsgs;
}

const struct imap_msg *
imap_mbox_msg(const struct imap_mbox *mb, uint32_t i)
{
	return i < mb->nmsgs ? &mb->msgs[i] : NULL;
}

void
imap_mbox_info(const struct imap_mbox *mb, struct imap_mbox_info *info)
{
	uint32_t	 i;

	memset(info, 0, sizeof(*info));
	info->uidvalidity = mb->uidvalidity;
	info->uidnext = mb->uidnext;
	info->highestmodseq = mb->highestmodseq;
	info->exists = mb->nmsgs;
	info->readonly = mb->readonly;
	for (i = 0; i < mb->nmsgs; i++) {
		info->size += mb->msgs[i].size;
		if (mb->msgs[i].flags & IMAP_F_RECENT)
			info->recent++;
		if (mb->msgs[i].flags & IMAP_F_SEEN)
			continue;
		if (info->unseen++ == 0)
			info->first_unseen = i + 1;
	}
}

int
imap_store_status(struct imap_store *st, const char *name,
    struct imap_mbox_info *info)
{
	struct imap_mbox	*mb;
	int			 rc;

	if ((rc = imap_mbox_open(st, name, IMAP_OPEN_READONLY, &mb)) !=
	    IMAP_ST_OK)
		return rc;
	imap_mbox_info(mb, info);
	imap_mbox_close(mb);
	return IMAP_ST_OK;
}

/*
 * The file may have been renamed by another session (new flags) since
 * the view learnt its name: then the view is synced (what that finds
 * waits in it for the session's next report) and the name taken again.
 */
int
imap_mbox_msg_open(struct imap_mbox *mb, uint32_t i, int *st)
{
	struct imap_sync	 sync;
	uint32_t		 uid;
	int			 fd, tries, rc;

	*st = IMAP_ST_OK;
	for (tries = 0; tries < 2; tries++) {
		if (i >= mb->nmsgs || (mb->msgs[i].state & IMAP_MS_EXPUNGED)) {
			*st = store_err(mb->st, IMAP_ST_EXPUNGED,
			    "message expunged");
			return -1;
		}
		fd = openat(mb->curfd, mbox_msg_name(mb, &mb->msgs[i]),
		    O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd != -1 || errno != ENOENT || tries > 0)
			break;
		uid = mb->msgs[i].uid;
		if ((rc = mbox_lock(mb)) != IMAP_ST_OK) {
			*st = rc;
			return -1;
		}
		rc = sync_locked(mb, IMAP_SYNC_FORCE, &sync);
		mbox_unlock(mb);
		if (rc != IMAP_ST_OK) {
			*st = rc;
			return -1;
		}
		i = imap_mbox_uid_index(mb, uid);
	}
	if (fd == -1)
		*st = store_errno(mb->st, "open", mbox_msg_name(mb,
		    &mb->msgs[i]));
	return fd;
}
