/*
 * The per-message cache of a folder, `sallyport-imap.cache' (imap_store.h,
 * "The message and its cache"): the blobs the session computes once
 * (ENVELOPE, BODYSTRUCTURE strings), opaque here.  Run by the IMAP mailbox
 * process (the mail user, chrooted in the mail home, seccomp set of
 * imapd-user) and the unit tests.
 *
 * The file: a header (magic, a generation), then records appended under
 * the folder's lock, each a struct cache_rec (a magic, the UID, the
 * lengths, a checksum) and the blobs of every kind one after the other,
 * at offsets that are multiples of 4.  A message's record is named in
 * the index by its offset and length, and records appended since the
 * index was written are replayed into the view like the uid list's
 * tail (imap_cache_replay.c), so no index need be written to keep what
 * a short session cached.  A record is checked (magic, UID, lengths,
 * checksum) each time it is read: one cut short by a crash, or a
 * foreign file, is only a miss.  The file is mapped read-only and shared, so sessions of
 * one user share its pages.  It is rewritten when most of it is records
 * no message points to (imap_cache_compact.c).
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "imap_store_int.h"

/* Pending blobs past this are written at once. */
#define CACHE_PENDING_MAX_BYTES	(4U * 1024 * 1024)
/* The index is written at most this often while a folder is open. */
#define INDEX_WRITE_SECS	5

void
cache_unmap(struct imap_mbox *mb)
{
	if (mb->cmap != NULL)
		(void)munmap((void *)(uintptr_t)mb->cmap, mb->cmaplen);
	mb->cmap = NULL;
	mb->cmaplen = 0;
}

void
cache_close(struct imap_mbox *mb)
{
	size_t	 i, k;

	cache_unmap(mb);
	if (mb->cachefd != -1)
		(void)close(mb->cachefd);
	mb->cachefd = -1;
	for (i = 0; i < mb->npend; i++)
		for (k = 0; k < IMAP_CACHE_KINDS; k++)
			free(mb->pend[i].data[k]);
	free(mb->pend);
	mb->pend = NULL;
	mb->npend = mb->pendcap = mb->pendbytes = 0;
}

/* The index's offsets are of another file: none holds. */
void
cache_forget(struct imap_mbox *mb)
{
	uint32_t	 i;

	for (i = 0; i < mb->nmsgs; i++)
		if (mb->msgs[i].cache_off != IMAP_CACHE_PENDING)
			mb->msgs[i].cache_off = mb->msgs[i].cache_len = 0;
}

/* Maps the file as far as it goes now. */
void
cache_map(struct imap_mbox *mb)
{
	struct stat	 sb;
	void		*p;

	if (mb->cachefd == -1 || fstat(mb->cachefd, &sb) == -1 ||
	    (size_t)sb.st_size <= mb->cmaplen)
		return;
	cache_unmap(mb);
	p = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_SHARED,
	    mb->cachefd, 0);
	if (p == MAP_FAILED)
		return;
	mb->cmap = p;
	mb->cmaplen = (size_t)sb.st_size;
}

/* Under the lock: opens (or starts) the file and checks its generation. */
void
cache_open(struct imap_mbox *mb)
{
	char		 hdr[CACHE_HDR_BYTES];
	uint64_t	 gen;
	struct stat	 sb;

	if (mb->cachefd != -1 && fstat(mb->cachefd, &sb) == 0 &&
	    sb.st_nlink > 0) {
		cache_map(mb);
		cache_replay(mb);
		return;
	}
	cache_unmap(mb);
	if (mb->cachefd != -1)
		(void)close(mb->cachefd);
	mb->cachefd = openat(mb->dirfd, IMAP_CACHE_NAME,
	    O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (mb->cachefd == -1)
		return;
	if (pread(mb->cachefd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) ||
	    memcmp(hdr, CACHE_MAGIC, 8) != 0) {
		gen = ((uint64_t)arc4random() << 32) | arc4random();
		memcpy(hdr, CACHE_MAGIC, 8);
		memcpy(hdr + 8, &gen, 8);
		if (ftruncate(mb->cachefd, 0) == -1 ||
		    pwrite(mb->cachefd, hdr, sizeof(hdr), 0) !=
		    (ssize_t)sizeof(hdr)) {
			(void)close(mb->cachefd);
			mb->cachefd = -1;
			return;
		}
	}
	memcpy(&gen, hdr + 8, 8);
	if (gen != mb->cache_gen) {
		cache_forget(mb);
		mb->cache_gen = gen;
		mb->cache_seen = CACHE_HDR_BYTES;
		mb->index_dirty = 1;
	}
	cache_map(mb);
	cache_replay(mb);
}

/* A record of the file, checked; NULL when it does not hold. */
const struct cache_rec *
cache_rec(struct imap_mbox *mb, const struct imap_msg *m)
{
	const struct cache_rec	*r;
	uint64_t		 sum = 0;
	size_t			 k;

	if (m->cache_off == 0 || m->cache_off == IMAP_CACHE_PENDING)
		return NULL;
	if ((uint64_t)m->cache_off + m->cache_len > mb->cmaplen)
		cache_map(mb);
	if ((uint64_t)m->cache_off + m->cache_len > mb->cmaplen ||
	    m->cache_len < sizeof(*r) || (m->cache_off & 3) != 0)
		return NULL;
	r = (const void *)(mb->cmap + m->cache_off);
	for (k = 0; k < IMAP_CACHE_KINDS; k++)
		sum += r->len[k];
	if (r->magic != CACHE_REC_MAGIC || r->uid != m->uid ||
	    sum != m->cache_len - sizeof(*r) ||
	    r->sum != (uint32_t)store_hash(r + 1, (size_t)sum, CACHE_SEED))
		return NULL;
	return r;
}

static const char *
cache_rec_blob(const struct cache_rec *r, enum imap_cache_kind kind)
{
	const char	*p = (const char *)(r + 1);
	size_t		 k;

	for (k = 0; k < (size_t)kind; k++)
		p += r->len[k];
	return p;
}

int
imap_mbox_cache_get(struct imap_mbox *mb, uint32_t i,
    enum imap_cache_kind kind, const char **p, size_t *len)
{
	const struct cache_rec	*r;
	struct imap_msg		*m, old;
	struct imap_pend	*pe;

	if (i >= mb->nmsgs || (unsigned int)kind >= IMAP_CACHE_KINDS)
		return 1;
	m = &mb->msgs[i];
	if (m->cache_off == IMAP_CACHE_PENDING) {
		pe = &mb->pend[m->cache_len];
		if (pe->data[kind] != NULL) {
			*p = pe->data[kind];
			*len = pe->len[kind];
			return 0;
		}
		memset(&old, 0, sizeof(old));
		old.uid = pe->uid;
		old.cache_off = pe->old_off;
		old.cache_len = pe->old_len;
		m = &old;
	}
	if ((r = cache_rec(mb, m)) == NULL || r->len[kind] == 0)
		return 1;
	*p = cache_rec_blob(r, kind);
	*len = r->len[kind];
	return 0;
}

static struct imap_pend *
cache_pend(struct imap_mbox *mb, struct imap_msg *m)
{
	struct imap_pend	*pe;
	size_t			 cap;

	if (m->cache_off == IMAP_CACHE_PENDING)
		return &mb->pend[m->cache_len];
	if (mb->npend == mb->pendcap) {
		cap = mb->pendcap < 64 ? 64 : mb->pendcap * 2;
		if ((pe = reallocarray(mb->pend, cap, sizeof(*pe))) == NULL)
			return NULL;
		mb->pend = pe;
		mb->pendcap = cap;
	}
	pe = &mb->pend[mb->npend];
	memset(pe, 0, sizeof(*pe));
	pe->uid = m->uid;
	pe->old_off = m->cache_off;
	pe->old_len = m->cache_len;
	m->cache_off = IMAP_CACHE_PENDING;
	m->cache_len = (uint32_t)mb->npend++;
	return pe;
}

int
imap_mbox_cache_put(struct imap_mbox *mb, uint32_t i,
    enum imap_cache_kind kind, const char *p, size_t len)
{
	struct imap_pend	*pe;
	char			*d;

	if (i >= mb->nmsgs || (unsigned int)kind >= IMAP_CACHE_KINDS ||
	    len == 0)
		return IMAP_ST_OK;
	if (len > IMAP_CACHE_BLOB_MAX_BYTES)
		return store_err(mb->st, IMAP_ST_TOOBIG, "blob too large");
	if ((d = malloc(len)) == NULL ||
	    (pe = cache_pend(mb, &mb->msgs[i])) == NULL) {
		free(d);
		return store_err(mb->st, IMAP_ST_IO, "out of memory");
	}
	memcpy(d, p, len);
	if (pe->data[kind] != NULL)
		mb->pendbytes -= pe->len[kind];
	free(pe->data[kind]);
	pe->data[kind] = d;
	pe->len[kind] = (uint32_t)len;
	mb->pendbytes += len;
	if (mb->pendbytes > CACHE_PENDING_MAX_BYTES)
		imap_mbox_flush(mb);
	return IMAP_ST_OK;
}

/*
 * One message's record: the pending blobs and, for the kinds not put,
 * those of its old record.  Written at *end (under the lock), which
 * moves on to the next multiple of 4.
 */
static int
cache_write_rec(struct imap_mbox *mb, struct imap_msg *m,
    struct imap_pend *pe, uint64_t *end)
{
	const struct cache_rec	*old;
	const char		*src[IMAP_CACHE_KINDS];
	struct imap_msg		 om;
	struct cache_rec	 r;
	size_t			 k, len = sizeof(r);
	char			*buf, *p;
	int			 rc = -1;

	memset(&om, 0, sizeof(om));
	om.uid = pe->uid;
	om.cache_off = pe->old_off;
	om.cache_len = pe->old_len;
	old = cache_rec(mb, &om);
	memset(&r, 0, sizeof(r));
	r.magic = CACHE_REC_MAGIC;
	r.uid = pe->uid;
	for (k = 0; k < IMAP_CACHE_KINDS; k++) {
		src[k] = NULL;
		if (pe->data[k] != NULL) {
			src[k] = pe->data[k];
			r.len[k] = pe->len[k];
		} else if (old != NULL) {
			src[k] = cache_rec_blob(old, (enum imap_cache_kind)k);
			r.len[k] = old->len[k];
		}
		len += r.len[k];
	}
	if (*end + len > IMAP_CACHE_FILE_MAX_BYTES || (buf = malloc(len)) ==
	    NULL)
		return -1;
	for (k = 0, p = buf + sizeof(r); k < IMAP_CACHE_KINDS; k++) {
		if (r.len[k] != 0)
			memcpy(p, src[k], r.len[k]);
		p += r.len[k];
	}
	r.sum = (uint32_t)store_hash(buf + sizeof(r), len - sizeof(r),
	    CACHE_SEED);
	memcpy(buf, &r, sizeof(r));
	if (pwrite(mb->cachefd, buf, len, (off_t)*end) == (ssize_t)len) {
		m->cache_off = (uint32_t)*end;
		m->cache_len = (uint32_t)len;
		*end += (len + 3) & ~(uint64_t)3;
		rc = 0;
	}
	free(buf);
	return rc;
}

/* Under the lock: every pending record to the file. */
static void
cache_write_pending(struct imap_mbox *mb)
{
	struct imap_pend	*pe;
	struct imap_msg		*m;
	struct stat		 sb;
	uint64_t		 end;
	size_t			 i, k;

	cache_open(mb);
	if (mb->cachefd == -1 || fstat(mb->cachefd, &sb) == -1)
		sb.st_size = (off_t)IMAP_CACHE_FILE_MAX_BYTES;
	end = ((uint64_t)sb.st_size + 3) & ~(uint64_t)3;
	for (i = 0; i < mb->npend; i++) {
		pe = &mb->pend[i];
		m = mbox_find(mb, pe->uid);
		if (m != NULL && m->cache_off == IMAP_CACHE_PENDING &&
		    cache_write_rec(mb, m, pe, &end) == -1)
			m->cache_off = m->cache_len = 0;
		for (k = 0; k < IMAP_CACHE_KINDS; k++)
			free(pe->data[k]);
	}
	mb->npend = 0;
	mb->pendbytes = 0;
	cache_map(mb);
	if (mb->cache_seen >= (uint64_t)sb.st_size)
		mb->cache_seen = end;	/* ours, applied already */
}

static void
cache_flush(struct imap_mbox *mb, int force)
{
	static time_t	 last;
	time_t		 now = time(NULL);

	if (mb->npend == 0 && !mb->index_dirty)
		return;
	if (mbox_lock(mb) != IMAP_ST_OK)
		return;
	if (mb->npend > 0)
		cache_write_pending(mb);
	cache_compact(mb);
	if (mb->index_dirty && ((force && mb->index_urgent) ||
	    now - last >= INDEX_WRITE_SECS)) {
		index_write(mb);
		mb->index_urgent = mb->index_dirty;
		last = now;
	}
	mbox_unlock(mb);
}

void
imap_mbox_flush(struct imap_mbox *mb)
{
	cache_flush(mb, 0);
}

/*
 * At close: the index too when this view was built the long way (no
 * index, or the uid list read whole), so the next open is short; else
 * as often as while open: an APPEND's short-lived handle on a folder of
 * 100,000 messages does not write 10 MB each time.
 */
void
cache_flush_close(struct imap_mbox *mb)
{
	cache_flush(mb, 1);
}
