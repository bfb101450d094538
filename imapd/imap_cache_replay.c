/*
 * The cache file's records appended since the view last looked, taken
 * into it (imap_store_cache.c): each names its message by UID, so the
 * offsets another session or an earlier one wrote are learnt without
 * an index written for them.  Run under the folder's lock (no record is
 * half written then, except one cut short by a crash) by the IMAP
 * mailbox process (the mail user, chrooted in the mail home, seccomp
 * set of imapd-user) and the unit tests.
 */
#include <sys/types.h>

#include <stdint.h>
#include <string.h>

#include "imap_store_int.h"

/* The record at off when it is whole and sound, with its length. */
static int
replay_rec(const struct imap_mbox *mb, uint64_t off, uint64_t *len)
{
	const struct cache_rec	*r = (const void *)(mb->cmap + off);
	uint64_t		 sum = 0;
	size_t			 k;

	if (r->magic != CACHE_REC_MAGIC)
		return -1;
	for (k = 0; k < IMAP_CACHE_KINDS; k++)
		sum += r->len[k];
	*len = sizeof(*r) + sum;
	if (off + *len > mb->cmaplen || *len > UINT32_MAX ||
	    r->sum != (uint32_t)store_hash(r + 1, (size_t)sum,
	    CACHE_SEED))
		return -1;
	return 0;
}

void
cache_replay(struct imap_mbox *mb)
{
	const struct cache_rec	*r;
	struct imap_msg		*m;
	uint64_t		 off, len;

	if (mb->cmap == NULL)
		return;
	off = (mb->cache_seen + 3) & ~(uint64_t)3;
	if (off < CACHE_HDR_BYTES)
		off = CACHE_HDR_BYTES;
	while (off + sizeof(*r) <= mb->cmaplen) {
		if (replay_rec(mb, off, &len) == -1) {
			off += 4;	/* cut short: find the next record */
			continue;
		}
		r = (const void *)(mb->cmap + off);
		m = mbox_find(mb, r->uid);
		if (m != NULL && m->cache_off != IMAP_CACHE_PENDING) {
			m->cache_off = (uint32_t)off;
			m->cache_len = (uint32_t)len;
		}
		off += (len + 3) & ~(uint64_t)3;
	}
	if (off > mb->cache_seen) {
		mb->cache_seen = off;
		mb->index_dirty = 1;
	}
}
