/*
 * MOVE (RFC 6851; imap_store.h, "Copy, move, append") and the move of
 * INBOX's messages on RENAME INBOX (RFC 3501 6.3.5).  Run by the IMAP
 * mailbox process (the mail user, chrooted in the mail home, seccomp set
 * of imapd-user) and the unit tests.
 *
 * Each file is renamed into the destination's cur/ (its own name kept,
 * so another Maildir reader sees the same message), given the next UID
 * there and expunged here, with both folders' locks held: taken in the
 * order of their directory names, so that two moves in opposite
 * directions cannot wait for each other.  Within one folder (MOVE to
 * itself) the file gets a new unique name and a new UID.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "imap_store_int.h"

static int
move_lock(struct imap_mbox *mb, struct imap_mbox *d)
{
	struct imap_mbox	*first = mb, *second = d;
	struct imap_sync	 sync;
	int			 rc;

	if (mb->readonly)
		return store_err(mb->st, IMAP_ST_NOPERM, "read-only folder");
	if (d != mb && strcmp(d->dir, mb->dir) < 0) {
		first = d;
		second = mb;
	}
	if ((rc = mbox_lock(first)) != IMAP_ST_OK)
		return rc;
	if (second != first && (rc = mbox_lock(second)) != IMAP_ST_OK) {
		mbox_unlock(first);
		return rc;
	}
	rc = sync_locked(mb, 0, &sync);
	if (rc == IMAP_ST_OK && d != mb)
		rc = sync_locked(d, 0, &sync);
	if (rc != IMAP_ST_OK) {
		mbox_unlock(mb);
		mbox_unlock(d);
	}
	return rc;
}

static int
move_unlock(struct imap_mbox *mb, struct imap_mbox *d, int rc)
{
	int	 crc;

	if (d != mb) {
		sync_dir_times(d);
		d->times_dirty = 1;
		if ((crc = uidlist_commit(d)) != IMAP_ST_OK && rc == IMAP_ST_OK)
			rc = crc;
		mbox_unlock(d);
	}
	return sync_change_end(mb, rc);
}

/* The new name: its own, or a new unique one within the same folder. */
static int
move_name(struct imap_mbox *mb, const struct imap_msg *m,
    struct imap_mbox *d, char *name, size_t len)
{
	const char	*old = mbox_msg_name(mb, m);
	struct stat	 sb;

	if (d != mb)
		return strlcpy(name, old, len) < len ? 0 : -1;
	if (fstatat(mb->curfd, old, &sb, AT_SYMLINK_NOFOLLOW) == -1)
		return -1;
	return append_name(name, len, (uint64_t)sb.st_size, m->size,
	    m->flags & IMAP_F_PERMANENT);
}

static int
move_one(struct imap_mbox *mb, uint32_t i, struct imap_mbox *d,
    uint32_t *uid)
{
	struct imap_msg	 m = mb->msgs[i];
	char		 name[NAME_MAX + 1];
	int		 rc;

	if (m.state & IMAP_MS_EXPUNGED)
		return store_err(mb->st, IMAP_ST_EXPUNGED, "message expunged");
	if (move_name(mb, &m, d, name, sizeof(name)) == -1 ||
	    renameat2(mb->curfd, mbox_msg_name(mb, &m), d->curfd, name,
	    RENAME_NOREPLACE) == -1)
		return store_errno(mb->st, "move", mbox_msg_name(mb, &m));
	if ((rc = mbox_enter(d, name, m.flags, m.size, m.idate, uid)) !=
	    IMAP_ST_OK) {
		(void)renameat(d->curfd, name, mb->curfd,
		    mbox_msg_name(mb, &m));
		return rc;
	}
	return mbox_expunged(mb, &mb->msgs[imap_mbox_uid_index(mb, m.uid)]);
}

int
imap_mbox_move(struct imap_mbox *mb, const uint32_t *idx, size_t n,
    const char *dst, struct imap_copy_res *res, struct imap_sync *sync)
{
	struct imap_mbox	*d;
	char			 dir[NAME_MAX + 1];
	size_t			 i;
	int			 rc;

	memset(sync, 0, sizeof(*sync));
	memset(res, 0, sizeof(*res));
	res->src_uids = reallocarray(NULL, n == 0 ? 1 : n, sizeof(uint32_t));
	res->dst_uids = reallocarray(NULL, n == 0 ? 1 : n, sizeof(uint32_t));
	if (res->src_uids == NULL || res->dst_uids == NULL) {
		imap_copy_res_free(res);
		return store_err(mb->st, IMAP_ST_IO, "out of memory");
	}
	d = mb;
	if ((store_folder_dir(dst, dir, sizeof(dir)) == -1 ||
	    strcmp(dir, mb->dir) != 0) && (rc = imap_mbox_open(mb->st, dst,
	    IMAP_OPEN_NORECENT, &d)) != IMAP_ST_OK) {
		imap_copy_res_free(res);
		if (rc == IMAP_ST_NONEXISTENT)
			(void)store_err(mb->st, rc, "no such folder: "
			    "[TRYCREATE]");
		return rc;
	}
	if ((rc = move_lock(mb, d)) == IMAP_ST_OK) {
		for (i = 0; i < n && rc == IMAP_ST_OK; i++) {
			if (idx[i] >= mb->nmsgs ||
			    (mb->msgs[idx[i]].state & IMAP_MS_EXPUNGED))
				continue;	/* gone: nothing to move */
			res->src_uids[res->n] = mb->msgs[idx[i]].uid;
			rc = move_one(mb, idx[i], d, &res->dst_uids[res->n]);
			if (rc == IMAP_ST_OK)
				res->n++;
		}
		if (fsync(d->curfd) == -1 && rc == IMAP_ST_OK)
			rc = store_errno(mb->st, "fsync", d->dir);
		rc = move_unlock(mb, d, rc);
	}
	res->uidvalidity = d->uidvalidity;
	if (d != mb)
		imap_mbox_close(d);
	if (rc == IMAP_ST_OK || res->n > 0) {
		int frc = sync_view_finish(mb, IMAP_SYNC_EXPUNGE, sync);

		rc = rc == IMAP_ST_OK ? frc : rc;
	}
	if (rc != IMAP_ST_OK && res->n == 0)
		imap_copy_res_free(res);
	return rc;
}

/* RENAME INBOX: every message of INBOX into the new folder. */
int
append_move_all(struct imap_mbox *mb, const char *dst)
{
	struct imap_copy_res	 res;
	struct imap_sync	 sync;
	uint32_t		*idx, i;
	int			 rc;

	if (mb->nmsgs == 0)
		return IMAP_ST_OK;
	if ((idx = reallocarray(NULL, mb->nmsgs, sizeof(*idx))) == NULL)
		return store_err(mb->st, IMAP_ST_IO, "out of memory");
	for (i = 0; i < mb->nmsgs; i++)
		idx[i] = i;
	rc = imap_mbox_move(mb, idx, mb->nmsgs, dst, &res, &sync);
	free(idx);
	imap_copy_res_free(&res);
	imap_sync_free(&sync);
	return rc;
}
