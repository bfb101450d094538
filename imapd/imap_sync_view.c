/*
 * What a sync tells the session (imap_store.h, struct imap_sync): the
 * expunges in the order of their untagged EXPUNGE, the flags changed by
 * others, the new EXISTS; the cheap "has anything changed" check; the
 * frame of every change (lock, sync, change, commit).  Run by the IMAP
 * mailbox process (the mail user, chrooted in the mail home, seccomp set
 * of imapd-user) and the unit tests.
 *
 * Changes found by a sync inside a command (STORE, COPY...) wait in the
 * view (IMAP_MS_CHANGED, IMAP_MS_EXPUNGED, the count of messages above
 * the last EXISTS sent) until the session's next imap_mbox_sync(), so
 * nothing is lost and nothing is told twice.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <stdlib.h>
#include <string.h>

#include "imap_store_int.h"

void
imap_sync_free(struct imap_sync *sync)
{
	free(sync->expunged_seq);
	free(sync->expunged_uid);
	free(sync->changed);
	memset(sync, 0, sizeof(*sync));
}

/* Expunged messages leave the view; their numbers as RFC 3501 6.4.3. */
static int
view_expunge(struct imap_mbox *mb, struct imap_sync *sync)
{
	struct imap_msg	*m;
	uint32_t	 i, j, n = 0;

	for (i = 0; i < mb->nmsgs; i++)
		if (mb->msgs[i].state & IMAP_MS_EXPUNGED)
			n++;
	if (n == 0)
		return 0;
	sync->expunged_seq = reallocarray(NULL, n, sizeof(uint32_t));
	sync->expunged_uid = reallocarray(NULL, n, sizeof(uint32_t));
	if (sync->expunged_seq == NULL || sync->expunged_uid == NULL)
		return -1;
	for (i = j = 0; i < mb->nmsgs; i++) {
		m = &mb->msgs[i];
		if ((m->state & IMAP_MS_EXPUNGED) == 0) {
			if (i != j)
				mb->msgs[j] = *m;
			j++;
			continue;
		}
		sync->expunged_seq[sync->nexpunged] = j + 1;
		sync->expunged_uid[sync->nexpunged++] = m->uid;
		if (m->flags & IMAP_F_RECENT)
			mb->nrecent--;
		mb->names_dead += m->name_len + 1U;
	}
	mb->nmsgs = j;
	return 0;
}

/* Flags changed by others; whether expunges still wait to be told. */
static int
view_changed(struct imap_mbox *mb, struct imap_sync *sync)
{
	struct imap_msg	*m;
	uint32_t	 i, n = 0, waiting = 0;

	for (i = 0; i < mb->nmsgs; i++) {
		m = &mb->msgs[i];
		m->state &= ~IMAP_MS_NEW;
		if (m->state & IMAP_MS_EXPUNGED)
			waiting++;
		else if (m->state & IMAP_MS_CHANGED)
			n++;
	}
	mb->view_dirty = waiting > 0;
	if (n == 0)
		return 0;
	if ((sync->changed = reallocarray(NULL, n, sizeof(uint32_t))) == NULL)
		return -1;
	for (i = 0; i < mb->nmsgs; i++) {
		m = &mb->msgs[i];
		if ((m->state & IMAP_MS_CHANGED) &&
		    (m->state & IMAP_MS_EXPUNGED) == 0) {
			sync->changed[sync->nchanged++] = i;
			m->state &= ~IMAP_MS_CHANGED;
		}
	}
	return 0;
}

int
sync_view_finish(struct imap_mbox *mb, unsigned int flags,
    struct imap_sync *sync)
{
	uint32_t	 known;

	if (((flags & IMAP_SYNC_EXPUNGE) && view_expunge(mb, sync) == -1) ||
	    view_changed(mb, sync) == -1) {
		imap_sync_free(sync);
		return store_err(mb->st, IMAP_ST_IO, "out of memory");
	}
	known = mb->reported_exists - (uint32_t)sync->nexpunged;
	if (mb->nmsgs != known)
		sync->exists = mb->nmsgs;
	if (mb->nrecent > mb->reported_recent || sync->exists != 0)
		sync->recent = mb->nrecent;
	mb->reported_exists = mb->nmsgs;
	mb->reported_recent = mb->nrecent;
	if (mb->names_dead > mb->names_len / 2)
		mbox_compact_names(mb);
	return IMAP_ST_OK;
}

int
imap_mbox_sync(struct imap_mbox *mb, unsigned int flags,
    struct imap_sync *sync)
{
	int	 rc;

	memset(sync, 0, sizeof(*sync));
	if ((rc = mbox_lock(mb)) != IMAP_ST_OK)
		return rc;
	rc = sync_locked(mb, flags, sync);
	mbox_unlock(mb);
	if (rc != IMAP_ST_OK)
		return rc;
	return sync_view_finish(mb, flags, sync);
}

static int
view_ts_differs(int fd, const struct timespec *ts)
{
	struct stat	 sb;

	return fstat(fd, &sb) == -1 || sb.st_mtim.tv_sec != ts->tv_sec ||
	    sb.st_mtim.tv_nsec != ts->tv_nsec;
}

int
imap_mbox_changed(struct imap_mbox *mb)
{
	struct stat	 sb;

	if (mb->resync || mb->new_racy || mb->view_dirty ||
	    mb->nmsgs != mb->reported_exists)
		return 1;
	if (mb->ulfd == -1 || fstat(mb->ulfd, &sb) == -1 ||
	    sb.st_nlink == 0 || (uint64_t)sb.st_size != mb->ul_off)
		return 1;
	if (view_ts_differs(mb->curfd, &mb->cur_mtime) ||
	    view_ts_differs(mb->newfd, &mb->new_mtime))
		return 1;
	return 0;
}

/*
 * The start of a change: refused on a read-only view; else the lock and
 * the view brought up to date (what the sync finds waits for the next
 * report).
 */
int
sync_change_begin(struct imap_mbox *mb)
{
	struct imap_sync	 sync;
	int			 rc;

	if (mb->readonly)
		return store_err(mb->st, IMAP_ST_NOPERM, "read-only folder");
	if ((rc = mbox_lock(mb)) != IMAP_ST_OK)
		return rc;
	if ((rc = sync_locked(mb, 0, &sync)) != IMAP_ST_OK)
		mbox_unlock(mb);
	return rc;
}

/* The end of a change: its records and the directories' times. */
int
sync_change_end(struct imap_mbox *mb, int rc)
{
	int	 crc;

	sync_dir_times(mb);
	mb->times_dirty = 1;
	crc = uidlist_commit(mb);
	mbox_unlock(mb);
	return rc != IMAP_ST_OK ? rc : crc;
}
