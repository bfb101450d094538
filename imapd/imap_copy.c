/*
 * COPY and MOVE (imap_store.h, "Copy, move, append"; RFC 4315 COPYUID,
 * RFC 6851), and the move of INBOX's messages on RENAME INBOX.  Run by
 * the IMAP mailbox process (the mail user, chrooted in the mail home,
 * seccomp set of imapd-user) and the unit tests.
 *
 * COPY links each file into the destination's cur/ under a new unique
 * name (a copy through tmp/ when link(2) is refused), so the two are
 * independent from then on as Maildir wants: a flag changed on one
 * renames only that one.  MOVE renames each file into the destination
 * under its own name, under both folders' locks, taken in the order of
 * their directory names so that two moves in opposite directions cannot
 * wait for each other.
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

void
imap_copy_res_free(struct imap_copy_res *res)
{
	free(res->src_uids);
	free(res->dst_uids);
	memset(res, 0, sizeof(*res));
}

/* The destination: the view itself for its own folder, else opened. */
static int
copy_dst(struct imap_mbox *mb, const char *folder, struct imap_mbox **dp)
{
	char	 dir[NAME_MAX + 1];
	int	 rc;

	if (store_folder_dir(folder, dir, sizeof(dir)) == 0 &&
	    strcmp(dir, mb->dir) == 0) {
		*dp = mb;
		return IMAP_ST_OK;
	}
	rc = imap_mbox_open(mb->st, folder, IMAP_OPEN_NORECENT, dp);
	if (rc == IMAP_ST_NONEXISTENT)
		(void)store_err(mb->st, rc, "no such folder: [TRYCREATE]");
	return rc;
}

static int
copy_res_alloc(struct imap_copy_res *res, size_t n)
{
	memset(res, 0, sizeof(*res));
	res->src_uids = reallocarray(NULL, n, sizeof(uint32_t));
	res->dst_uids = reallocarray(NULL, n, sizeof(uint32_t));
	if (res->src_uids == NULL || res->dst_uids == NULL) {
		imap_copy_res_free(res);
		return -1;
	}
	return 0;
}

/* Through tmp/ when the file cannot be linked (another file system). */
static int
copy_bytes(struct imap_mbox *src, const char *from, struct imap_mbox *dst,
    const char *to, const struct stat *sb)
{
	char		 buf[65536];
	struct timespec	 ts[2];
	ssize_t		 n = 0;
	int		 in, out, rc = -1;

	if ((in = openat(src->curfd, from, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	out = openat(dst->tmpfd, to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600);
	if (out != -1) {
		while ((n = read(in, buf, sizeof(buf))) > 0)
			if (write(out, buf, (size_t)n) != n)
				break;
		ts[0] = ts[1] = sb->st_mtim;
		if (n == 0 && fsync(out) == 0 && futimens(out, ts) == 0 &&
		    close(out) == 0 && renameat2(dst->tmpfd, to, dst->curfd,
		    to, RENAME_NOREPLACE) == 0)
			rc = 0;
		else {
			(void)close(out);
			(void)unlinkat(dst->tmpfd, to, 0);
		}
	}
	(void)close(in);
	return rc;
}

/* One message into dst under a new name; NULL name on failure. */
static int
copy_one(struct imap_mbox *mb, uint32_t i, struct imap_mbox *d,
    uint32_t *uid)
{
	struct imap_msg	 m = mb->msgs[i];
	char		 name[NAME_MAX + 1];
	const char	*from = mbox_msg_name(mb, &mb->msgs[i]);
	struct stat	 sb;
	int		 rc;

	if ((m.state & IMAP_MS_EXPUNGED) ||
	    fstatat(mb->curfd, from, &sb, AT_SYMLINK_NOFOLLOW) == -1)
		return store_err(mb->st, IMAP_ST_EXPUNGED, "message expunged");
	if (append_name(name, sizeof(name), (uint64_t)sb.st_size, m.size,
	    m.flags & IMAP_F_PERMANENT) == -1)
		return store_err(mb->st, IMAP_ST_IO, "no unique name");
	if (linkat(mb->curfd, from, d->curfd, name, 0) == -1 &&
	    copy_bytes(mb, from, d, name, &sb) == -1)
		return store_errno(mb->st, "copy", from);
	if ((rc = mbox_enter(d, name, m.flags, m.size, m.idate, uid)) !=
	    IMAP_ST_OK)
		(void)unlinkat(d->curfd, name, 0);
	return rc;
}

/* A failed copy takes back what it added (nothing is committed yet). */
static void
copy_undo(struct imap_mbox *d, uint32_t nmsgs, uint32_t uidnext)
{
	while (d->nmsgs > nmsgs) {
		d->nmsgs--;
		(void)unlinkat(d->curfd, mbox_msg_name(d, &d->msgs[d->nmsgs]),
		    0);
	}
	d->uidnext = uidnext;
	d->outlen = 0;
}

int
imap_mbox_copy(struct imap_mbox *mb, const uint32_t *idx, size_t n,
    const char *dst, uint64_t quota, struct imap_copy_res *res)
{
	struct imap_mbox	*d;
	uint64_t		 more = 0, bytes, msgs;
	uint32_t		 nmsgs, uidnext;
	size_t			 i;
	int			 rc;

	if (copy_res_alloc(res, n == 0 ? 1 : n) == -1)
		return store_err(mb->st, IMAP_ST_IO, "out of memory");
	for (i = 0; i < n; i++)
		more += idx[i] < mb->nmsgs ? mb->msgs[idx[i]].size : 0;
	if (quota != 0 && (rc = imap_store_usage(mb->st, &bytes, &msgs)) ==
	    IMAP_ST_OK && bytes + more > quota)
		rc = store_err(mb->st, IMAP_ST_OVERQUOTA, "quota exceeded");
	else if ((rc = copy_dst(mb, dst, &d)) == IMAP_ST_OK) {
		if ((rc = sync_change_begin(d)) == IMAP_ST_OK) {
			nmsgs = d->nmsgs;
			uidnext = d->uidnext;
			for (i = 0; i < n && rc == IMAP_ST_OK; i++) {
				res->src_uids[i] = idx[i] < mb->nmsgs ?
				    mb->msgs[idx[i]].uid : 0;
				rc = idx[i] >= mb->nmsgs ? store_err(mb->st,
				    IMAP_ST_EXPUNGED, "no such message") :
				    copy_one(mb, idx[i], d, &res->dst_uids[i]);
				res->n = i + 1;
			}
			if (rc != IMAP_ST_OK)
				copy_undo(d, nmsgs, uidnext);
			else if (fsync(d->curfd) == -1)
				rc = store_errno(mb->st, "fsync", d->dir);
			rc = sync_change_end(d, rc);
		}
		res->uidvalidity = d->uidvalidity;
		if (d != mb)
			imap_mbox_close(d);
	}
	if (rc != IMAP_ST_OK)
		imap_copy_res_free(res);
	else
		store_usage_add(mb->st, more, n);
	return rc;
}
