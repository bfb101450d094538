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
 * fsync (tmp, rename), at most every INDEX_WRITE_SECS by one session
 * but always when a folder is closed.
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
#define INDEX_VERSION	1
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
	int64_t		 cur_sec, cur_nsec, new_sec, new_nsec;
	uint64_t	 cache_gen;
	uint32_t	 nmsgs;
	uint32_t	 nexp;
	uint64_t	 names_len;
	uint64_t	 body_sum;
	uint64_t	 hdr_sum;	/* of everything above */
};

static int
index_check(const struct index_hdr *h, size_t len)
{
	uint64_t	 body;

	if (len < sizeof(*h) || memcmp(h->magic, INDEX_MAGIC, 8) != 0 ||
	    h->version != INDEX_VERSION || h->hdrsize != sizeof(*h) ||
	    h->msgsize != sizeof(struct imap_msg) ||
	    h->hdr_sum != store_hash(h, offsetof(struct index_hdr, hdr_sum),
	    INDEX_SEED) || h->nmsgs > IMAP_MBOX_MESSAGES_MAX ||
	    h->nexp > IMAP_STORE_EXPUNGED_MAX || h->names_len > UINT32_MAX)
		return -1;
	body = (uint64_t)h->nmsgs * sizeof(struct imap_msg) +
	    (uint64_t)h->nexp * sizeof(struct imap_exp) + h->names_len;
	if (body != len - sizeof(*h) ||
	    store_hash(h + 1, (size_t)body, INDEX_SEED) != h->body_sum)
		return -1;
	return 0;
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

static void
index_apply(struct imap_mbox *mb, const struct index_hdr *h)
{
	mb->uidvalidity = h->uidvalidity;
	mb->uidnext = h->uidnext;
	mb->recentuid = h->recentuid;
	mb->highestmodseq = h->highestmodseq;
	mb->expfloor = h->expfloor;
	mb->ul_gen = h->ul_gen;
	mb->ul_off = h->ul_off;
	mb->ul_base = h->ul_base;
	mb->cur_mtime.tv_sec = (time_t)h->cur_sec;
	mb->cur_mtime.tv_nsec = (long)h->cur_nsec;
	mb->new_mtime.tv_sec = (time_t)h->new_sec;
	mb->new_mtime.tv_nsec = (long)h->new_nsec;
	mb->cache_gen = h->cache_gen;
}

/* Takes the parts of a checked index into the view. */
static int
index_take(struct imap_mbox *mb, const char *buf)
{
	const struct index_hdr	*h = (const void *)buf;
	const char		*p = buf + sizeof(*h), *names;
	size_t			 cap = h->nmsgs + 256;

	names = p + (size_t)h->nmsgs * sizeof(struct imap_msg) +
	    (size_t)h->nexp * sizeof(struct imap_exp);
	if (index_check_msgs((const void *)p, h->nmsgs, names,
	    h->names_len) == -1)
		return -1;
	mb->msgs = reallocarray(NULL, cap, sizeof(struct imap_msg));
	mb->names = malloc(h->names_len + 1);
	mb->exp = reallocarray(NULL, h->nexp + 64, sizeof(struct imap_exp));
	if (mb->msgs == NULL || mb->names == NULL || mb->exp == NULL)
		return -1;
	memcpy(mb->msgs, p, (size_t)h->nmsgs * sizeof(struct imap_msg));
	mb->nmsgs = h->nmsgs;
	mb->msgcap = (uint32_t)cap;
	p += (size_t)h->nmsgs * sizeof(struct imap_msg);
	memcpy(mb->exp, p, (size_t)h->nexp * sizeof(struct imap_exp));
	mb->nexp = h->nexp;
	mb->expcap = h->nexp + 64;
	memcpy(mb->names, names, h->names_len);
	mb->names_len = h->names_len;
	mb->names_cap = h->names_len + 1;
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
	struct stat	 sb;
	char		*buf = NULL;
	ssize_t		 n;
	size_t		 got;
	int		 fd, rc = -1;

	fd = openat(mb->dirfd, IMAP_INDEX_NAME, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	if (fstat(fd, &sb) == -1 || sb.st_size < (off_t)sizeof(struct
	    index_hdr) || (uint64_t)sb.st_size > (uint64_t)
	    IMAP_MBOX_MESSAGES_MAX * (sizeof(struct imap_msg) + NAME_MAX + 1) +
	    sizeof(struct index_hdr) + IMAP_STORE_EXPUNGED_MAX *
	    sizeof(struct imap_exp) || (buf = malloc((size_t)sb.st_size)) ==
	    NULL)
		goto out;
	for (got = 0; got < (size_t)sb.st_size; got += (size_t)n)
		if ((n = read(fd, buf + got, (size_t)sb.st_size - got)) <= 0)
			goto out;
	if (index_check((const void *)buf, got) == 0 && index_take(mb, buf) ==
	    0)
		rc = 0;
out:
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
	free(buf);
	(void)close(fd);
	return rc;
}

static void
index_fill_hdr(const struct imap_mbox *mb, struct index_hdr *h)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->magic, INDEX_MAGIC, 8);
	h->version = INDEX_VERSION;
	h->hdrsize = sizeof(*h);
	h->msgsize = sizeof(struct imap_msg);
	h->uidvalidity = mb->uidvalidity;
	h->uidnext = mb->uidnext;
	h->recentuid = mb->recentuid;
	h->highestmodseq = mb->highestmodseq;
	h->expfloor = mb->expfloor;
	h->ul_gen = mb->ul_gen;
	h->ul_off = mb->ul_off;
	h->ul_base = mb->ul_base;
	h->cur_sec = mb->cur_mtime.tv_sec;
	h->cur_nsec = mb->cur_mtime.tv_nsec;
	h->new_sec = mb->new_mtime.tv_sec;
	h->new_nsec = mb->new_mtime.tv_nsec;
	h->cache_gen = mb->cache_gen;
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
	h->body_sum = store_hash(buf + sizeof(*h), body, INDEX_SEED);
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
