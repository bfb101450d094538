/*
 * The cache file of a folder rewritten with only the records its
 * messages point to (imap_store_cache.c), when it has grown past
 * IMAP_CACHE_COMPACT_MIN_BYTES and twice those: records of expunged
 * messages and records replaced by longer ones stay behind otherwise.
 * Run by the IMAP mailbox process (the mail user, chrooted in the mail
 * home, seccomp set of imapd-user) and the unit tests.
 *
 * Under the folder's lock: a new file with a new generation (tmp, then
 * renamed over the old), the view's offsets moved to it, the index
 * marked to be written.  Other sessions find the old file unlinked at
 * their next sync or write (cache_open), see the new generation and
 * forget their offsets: their blobs are computed again, nothing wrong
 * is served (the old mapping stays valid while they hold it).
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "imap_store_int.h"

#define COMPACT_TMP	IMAP_CACHE_NAME ".tmp"

/* Bytes the view's messages point to, each record padded to 4. */
static uint64_t
compact_live(struct imap_mbox *mb)
{
	uint64_t	 live = CACHE_HDR_BYTES;
	uint32_t	 i;

	for (i = 0; i < mb->nmsgs; i++)
		if (mb->msgs[i].cache_off != 0 &&
		    mb->msgs[i].cache_off != IMAP_CACHE_PENDING)
			live += (mb->msgs[i].cache_len + 3U) & ~3U;
	return live;
}

/* Each live record into fd; the view's offsets set for it. */
static int
compact_copy(struct imap_mbox *mb, int fd, uint32_t *off)
{
	const struct cache_rec	*r;
	struct imap_msg		*m;
	uint32_t		 i;

	for (i = 0; i < mb->nmsgs; i++) {
		m = &mb->msgs[i];
		if (m->cache_off == 0 || m->cache_off == IMAP_CACHE_PENDING)
			continue;
		if ((r = cache_rec(mb, m)) == NULL) {
			m->cache_off = m->cache_len = 0;
			continue;
		}
		if (pwrite(fd, r, m->cache_len, (off_t)off[0]) !=
		    (ssize_t)m->cache_len)
			return -1;
		off[1 + i] = off[0];
		off[0] += (m->cache_len + 3U) & ~3U;
	}
	return 0;
}

static int
compact_write(struct imap_mbox *mb, int fd, uint64_t gen, uint32_t *off)
{
	char	 hdr[CACHE_HDR_BYTES];

	memcpy(hdr, CACHE_MAGIC, 8);
	memcpy(hdr + 8, &gen, 8);
	off[0] = CACHE_HDR_BYTES;
	return pwrite(fd, hdr, sizeof(hdr), 0) == (ssize_t)sizeof(hdr) ?
	    compact_copy(mb, fd, off) : -1;
}

/* Under the lock, pending blobs written. */
void
cache_compact(struct imap_mbox *mb)
{
	struct stat	 sb;
	uint64_t	 gen, live, end;
	uint32_t	*off, i;
	int		 fd;

	cache_open(mb);		/* the current file, not one replaced */
	if (mb->cachefd == -1 || fstat(mb->cachefd, &sb) == -1 ||
	    (uint64_t)sb.st_size < IMAP_CACHE_COMPACT_MIN_BYTES ||
	    (uint64_t)sb.st_size < 2 * (live = compact_live(mb)))
		return;
	if ((off = calloc(mb->nmsgs + 1U, sizeof(*off))) == NULL)
		return;
	gen = ((uint64_t)arc4random() << 32) | arc4random();
	fd = openat(mb->dirfd, COMPACT_TMP, O_RDWR | O_CREAT | O_TRUNC |
	    O_CLOEXEC, 0600);
	if (fd == -1 || compact_write(mb, fd, gen, off) == -1 ||
	    renameat(mb->dirfd, COMPACT_TMP, mb->dirfd, IMAP_CACHE_NAME) ==
	    -1) {
		log_warnx("imap %s: cache not rewritten", mb->dir);
		if (fd != -1)
			(void)close(fd);
		(void)unlinkat(mb->dirfd, COMPACT_TMP, 0);
		free(off);
		return;
	}
	for (i = 0; i < mb->nmsgs; i++)
		if (mb->msgs[i].cache_off != 0 &&
		    mb->msgs[i].cache_off != IMAP_CACHE_PENDING)
			mb->msgs[i].cache_off = off[1 + i];
	end = off[0];
	free(off);
	cache_unmap(mb);
	(void)close(mb->cachefd);
	mb->cachefd = fd;
	mb->cache_gen = gen;
	mb->cache_seen = end;	/* the records are the view's own */
	mb->index_dirty = 1;
	cache_map(mb);
	log_info("imap %s: cache rewritten, %llu of %llu bytes kept", mb->dir,
	    (unsigned long long)live, (unsigned long long)sb.st_size);
}
