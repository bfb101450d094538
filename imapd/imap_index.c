/*
 * The index of a folder, `sallyport-imap.index' (imap_store.h): the view
 * as of a point in the uid list (its generation and offset), with the
 * CRLF sizes, internal dates and cache offsets the list does not hold,
 * so that a warm open is one read(2), a checksum and a replay of the
 * list's tail.  Run by the IMAP mailbox process (the mail user, chrooted
 * in the mail home, seccomp set of imapd-user) and the unit tests.
 *
 * Binary, in this machine's byte order (the index never leaves it):
 * struct index_hdr, then the messages (struct imap_msg, state and
 * \Recent cleared), the remembered expunges (struct imap_exp), and the
 * names, each NUL-terminated.  The header carries a version, the sizes
 * of each part, a checksum of the rest and one of itself: a torn,
 * truncated or foreign file is ignored, and the view is built from the
 * uid list and the directories instead.  It is a cache: written without
 * fsync (tmp, rename), at most every INDEX_WRITE_SECS by one process,
 * and when a folder whose view was built without it is closed.
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

#define INDEX_MAGIC	"SPIMAPI\n"
#define INDEX_VERSION	3
#define INDEX_SEED	0x1d3a5c7e9b2f4861ULL

struct index_hdr {
	char		 magic[8];
	uint32_t	 version;
	uint32_t	 hdrsize;
	uint32_t	 msgsize;
	uint32_t	 uidvalidity;
	uint32_t	 uidnext;
	uint32_t	 recentuid;
	uint64_t	 highestmodseq;
	uint64_t	 expfloor;
	uint64_t	 ul_gen;
	uint64_t	 ul_off;
	uint64_t	 ul_base;
	struct timespec	 cur_mtime, new_mtime;
	uint64_t	 cache_gen;
	uint64_t	 cache_seen;
	uint32_t	 nmsgs;
	uint32_t	 nexp;
	uint64_t	 names_len;
	uint64_t	 body_sum;
	uint64_t	 hdr_sum;	/* of everything above */
};

/* The header alone: its checksum and its sizes against the file's. */
static int
index_check(const struct index_hdr *h, uint64_t len)
{
	uint64_t	 body;

	if (memcmp(h->magic, INDEX_MAGIC, 8) != 0 ||
	    h->version != INDEX_VERSION || h->hdrsize != sizeof(*h) ||
	    h->msgsize != sizeof(struct imap_msg) ||
	    h->hdr_sum != store_hash(h, offsetof(struct index_hdr, hdr_sum),
	    INDEX_SEED) || h->nmsgs > IMAP_MBOX_MESSAGES_MAX ||
	    h->nexp > IMAP_STORE_EXPUNGED_MAX || h->names_len > UINT32_MAX)
		return -1;
	body = (uint64_t)h->nmsgs * sizeof(struct imap_msg) +
	    (uint64_t)h->nexp * sizeof(struct imap_exp) + h->names_len;
	return body == len - sizeof(*h) ? 0 : -1;
}

/* The body's checksum: each part's, chained. */
static uint64_t
index_body_sum(const void *msgs, size_t mlen, const void *exp, size_t elen,
    const void *names, size_t nlen)
{
	return store_hash(names, nlen, store_hash(exp, elen,
	    store_hash(msgs, mlen, INDEX_SEED)));
}

/* Each message's name inside the names, UIDs ascending. */
static int
index_check_msgs(const struct imap_msg *v, uint32_t n, const char *names,
    uint64_t names_len)
{
	uint32_t	 i;

	for (i = 0; i < n; i++) {
		if ((uint64_t)v[i].name_off + v[i].name_len >= names_len ||
		    v[i].name_len == 0 ||
		    names[v[i].name_off + v[i].name_len] != '\0' ||
		    v[i].base_len > v[i].name_len ||
		    (i > 0 && v[i].uid <= v[i - 1].uid) || v[i].uid == 0)
			return -1;
	}
	return 0;
}

/* What the header and the view hold alike, copied one way or the other. */
#define INDEX_FIELD(f)	{ offsetof(struct imap_mbox, f), \
			    offsetof(struct index_hdr, f), \
			    sizeof(((struct index_hdr *)0)->f) }
static const struct {
	size_t	 mb, hdr, len;
} index_fields[] = {
	INDEX_FIELD(uidvalidity), INDEX_FIELD(uidnext),
	INDEX_FIELD(recentuid), INDEX_FIELD(highestmodseq),
	INDEX_FIELD(expfloor), INDEX_FIELD(ul_gen), INDEX_FIELD(ul_off),
	INDEX_FIELD(ul_base), INDEX_FIELD(cur_mtime), INDEX_FIELD(new_mtime),
	INDEX_FIELD(cache_gen), INDEX_FIELD(cache_seen),
};

static void
index_apply(struct imap_mbox *mb, const struct index_hdr *h)
{
	size_t	 i;

	for (i = 0; i < sizeof(index_fields) / sizeof(index_fields[0]); i++)
		memcpy((char *)mb + index_fields[i].mb,
		    (const char *)h + index_fields[i].hdr, index_fields[i].len);
}

static int
index_read(int fd, void *buf, size_t len, size_t off)
{
	ssize_t	 n;
	size_t	 got;

	for (got = 0; got < len; got += (size_t)n)
		if ((n = pread(fd, (char *)buf + got, len - got,
		    (off_t)(off + got))) <= 0)
			return -1;
	return 0;
}

/*
 * Reads the parts of a checked header's index straight into the view's
 * arrays (no copy), then checks them.
 */
static int
index_take(struct imap_mbox *mb, int fd, const struct index_hdr *h)
{
	size_t		 mlen = (size_t)h->nmsgs * sizeof(struct imap_msg);
	size_t		 elen = (size_t)h->nexp * sizeof(struct imap_exp);
	size_t		 nlen = (size_t)h->names_len;

	mb->msgs = reallocarray(NULL, h->nmsgs + 256, sizeof(struct imap_msg));
	mb->names = malloc(nlen + 1);
	mb->exp = reallocarray(NULL, h->nexp + 64, sizeof(struct imap_exp));
	if (mb->msgs == NULL || mb->names == NULL || mb->exp == NULL)
		return -1;
	/* Three pread(2)s: preadv is not in the mailbox sandbox's list. */
	if (index_read(fd, mb->msgs, mlen, sizeof(*h)) == -1 ||
	    index_read(fd, mb->exp, elen, sizeof(*h) + mlen) == -1 ||
	    index_read(fd, mb->names, nlen, sizeof(*h) + mlen + elen) == -1 ||
	    index_body_sum(mb->msgs, mlen, mb->exp, elen, mb->names,
	    nlen) != h->body_sum ||
	    index_check_msgs(mb->msgs, h->nmsgs, mb->names, nlen) == -1)
		return -1;
	mb->nmsgs = h->nmsgs;
	mb->msgcap = h->nmsgs + 256;
	mb->nexp = h->nexp;
	mb->expcap = h->nexp + 64;
	mb->names_len = nlen;
	mb->names_cap = nlen + 1;
	index_apply(mb, h);
	return 0;
}

/*
 * Under the lock, into an empty view: 0 when the index was taken, -1
 * when there is none fit to take (the view stays empty).
 */
int
index_load(struct imap_mbox *mb)
{
	struct index_hdr	 h;
	struct stat		 sb;
	int			 fd, rc = -1;

	fd = openat(mb->dirfd, IMAP_INDEX_NAME, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	if (fstat(fd, &sb) == 0 && sb.st_size >= (off_t)sizeof(h) &&
	    pread(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h) &&
	    index_check(&h, (uint64_t)sb.st_size) == 0 &&
	    index_take(mb, fd, &h) == 0)
		rc = 0;
	if (rc == -1) {
		log_info("imap %s: index ignored (torn, stale or missing)",
		    mb->dir);
		free(mb->msgs);
		free(mb->names);
		free(mb->exp);
		mb->msgs = NULL;
		mb->names = NULL;
		mb->exp = NULL;
		mb->nmsgs = mb->msgcap = 0;
		mb->names_len = mb->names_cap = 0;
		mb->nexp = mb->expcap = 0;
		mb->ul_off = mb->ul_gen = 0;
		mb->uidvalidity = 0;
	}
	(void)close(fd);
	return rc;
}

static void
index_fill_hdr(const struct imap_mbox *mb, struct index_hdr *h)
{
	size_t	 i;

	memset(h, 0, sizeof(*h));
	memcpy(h->magic, INDEX_MAGIC, 8);
	h->version = INDEX_VERSION;
	h->hdrsize = sizeof(*h);
	h->msgsize = sizeof(struct imap_msg);
	for (i = 0; i < sizeof(index_fields) / sizeof(index_fields[0]); i++)
		memcpy((char *)h + index_fields[i].hdr,
		    (const char *)mb + index_fields[i].mb, index_fields[i].len);
	h->nexp = (uint32_t)mb->nexp;
}

/* The messages still there, \Recent and pending blobs left out. */
static size_t
index_fill_body(const struct imap_mbox *mb, char *p, struct index_hdr *h)
{
	struct imap_msg	*v = (void *)p;
	char		*names;
	uint32_t	 i, n = 0;
	size_t		 len = 0, nlen = 0;

	for (i = 0; i < mb->nmsgs; i++)
		if ((mb->msgs[i].state & IMAP_MS_EXPUNGED) == 0)
			n++;
	names = p + (size_t)n * sizeof(*v) + mb->nexp * sizeof(struct imap_exp);
	for (i = 0; i < mb->nmsgs; i++) {
		if (mb->msgs[i].state & IMAP_MS_EXPUNGED)
			continue;
		v[len] = mb->msgs[i];
		v[len].state = 0;
		v[len].flags &= IMAP_F_PERMANENT;
		if (v[len].cache_off == IMAP_CACHE_PENDING)
			v[len].cache_off = v[len].cache_len = 0;
		memcpy(names + nlen, mbox_msg_name(mb, &mb->msgs[i]),
		    mb->msgs[i].name_len + 1U);
		v[len++].name_off = (uint32_t)nlen;
		nlen += mb->msgs[i].name_len + 1U;
	}
	if (mb->nexp > 0)
		memcpy(p + (size_t)n * sizeof(*v), mb->exp,
		    mb->nexp * sizeof(struct imap_exp));
	h->nmsgs = n;
	h->names_len = nlen;
	return (size_t)n * sizeof(*v) + mb->nexp * sizeof(struct imap_exp) +
	    nlen;
}

/* Under the lock, with nothing uncommitted.  Failures only cost time. */
void
index_write(struct imap_mbox *mb)
{
	struct index_hdr	*h;
	char			*buf;
	size_t			 len, body;
	ssize_t			 w;
	size_t			 off;
	int			 fd;

	len = sizeof(*h) + (size_t)mb->nmsgs * sizeof(struct imap_msg) +
	    mb->nexp * sizeof(struct imap_exp) + mb->names_len -
	    mb->names_dead;
	if (mb->outlen != 0 || (buf = malloc(len)) == NULL)
		return;
	h = (void *)buf;
	index_fill_hdr(mb, h);
	body = index_fill_body(mb, buf + sizeof(*h), h);
	h->body_sum = index_body_sum(buf + sizeof(*h), h->nmsgs *
	    sizeof(struct imap_msg), buf + sizeof(*h) + h->nmsgs *
	    sizeof(struct imap_msg), h->nexp * sizeof(struct imap_exp),
	    buf + sizeof(*h) + h->nmsgs * sizeof(struct imap_msg) +
	    h->nexp * sizeof(struct imap_exp), h->names_len);
	h->hdr_sum = store_hash(h, offsetof(struct index_hdr, hdr_sum),
	    INDEX_SEED);
	len = sizeof(*h) + body;
	fd = openat(mb->dirfd, IMAP_INDEX_NAME ".tmp",
	    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1)
		goto out;
	for (off = 0; off < len; off += (size_t)w)
		if ((w = write(fd, buf + off, len - off)) <= 0)
			break;
	if (close(fd) == 0 && off == len &&
	    renameat(mb->dirfd, IMAP_INDEX_NAME ".tmp", mb->dirfd,
	    IMAP_INDEX_NAME) == 0)
		mb->index_dirty = 0;
	else
		(void)unlinkat(mb->dirfd, IMAP_INDEX_NAME ".tmp", 0);
out:
	free(buf);
}
