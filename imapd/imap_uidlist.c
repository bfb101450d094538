/*
 * The durable uid list of a folder, `sallyport-imap.uids' (imap_store.h).
 * Run by the IMAP mailbox process (the mail user, chrooted in the mail
 * home, seccomp set of imapd-user) and the unit tests.
 *
 * Text, one record a line, replayed in order:
 *   SPIMAP1 V<uidvalidity> N<uidnext> M<highestmodseq> R<recent> F<floor>
 *       G<generation>			the header (one line)
 *   <uid> <modseq> <size> <idate> <info> <base>
 *					a message, new or with new flags;
 *					info ":2,FS" (as in the file's name)
 *					or "-"; size in CRLF form
 *   E <uid> <modseq>			an expunge (kept for VANISHED)
 *   R <uid>				\Recent claimed up to uid
 *   T <cur s> <cur ns> <new s> <new ns>	cur/ and new/ at these mtimes
 *					are all in the list so far
 *   B					the end of the base
 * A change appends its records with one pwrite and an fdatasync, under
 * the folder's lock; readers replay what was appended since they last
 * read (the change counter is the file's size).  When the appended part
 * outgrows the base, the list is rewritten (tmp, fsync, rename) with a
 * new generation, which readers holding the old file notice by its link
 * count of 0.  Departure from the plan's "rewritten on each change": at
 * 100,000 messages a rewrite is 8 MB, too much for each STORE.  A line
 * cut short by a crash has no newline: it is ignored and cut off by the
 * next writer.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "imap_store_int.h"

/* Decimal digits at *p up to end, then one space or the end of line. */
static int
ul_num(const char **p, const char *end, uint64_t *v)
{
	const char	*s = *p;

	*v = 0;
	if (s >= end || *s < '0' || *s > '9')
		return -1;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		if (*v > (UINT64_MAX - 9) / 10)
			return -1;
		*v = *v * 10 + (uint64_t)(*s - '0');
	}
	if (s < end && *s != ' ')
		return -1;
	*p = s < end ? s + 1 : s;
	return 0;
}

/* A field up to the next space (or the end), not empty. */
static int
ul_word(const char **p, const char *end, const char **w, size_t *len)
{
	const char	*s = *p, *e;

	if ((e = memchr(s, ' ', (size_t)(end - s))) == NULL)
		e = end;
	if (e == s)
		return -1;
	*w = s;
	*len = (size_t)(e - s);
	*p = e < end ? e + 1 : e;
	return 0;
}

struct ul_hdr {
	uint64_t	 v[6];		/* V N M R F G */
};

static int
ul_header(struct ul_hdr *h, const char *p, const char *end)
{
	static const char	 keys[] = "VNMRFG";
	size_t			 i;

	if ((size_t)(end - p) < sizeof(UIDLIST_MAGIC) - 1 ||
	    memcmp(p, UIDLIST_MAGIC, sizeof(UIDLIST_MAGIC) - 1) != 0)
		return -1;
	p += sizeof(UIDLIST_MAGIC) - 1;
	for (i = 0; i < 6; i++) {
		if (p >= end || *p++ != keys[i] ||
		    ul_num(&p, end, &h->v[i]) == -1)
			return -1;
	}
	if (p != end || h->v[0] == 0 || h->v[0] > UINT32_MAX ||
	    h->v[1] > UINT32_MAX || h->v[3] > UINT32_MAX)
		return -1;
	return 0;
}

/* The view is of another UIDVALIDITY: nothing of it holds. */
void
uidlist_forget(struct imap_mbox *mb)
{
	mb->nmsgs = 0;
	mb->names_len = mb->names_dead = 0;
	mb->nexp = 0;
	mb->nrecent = 0;
	cache_forget(mb);
}

static void
ul_apply_header(struct imap_mbox *mb, const struct ul_hdr *h)
{
	if (mb->uidvalidity != (uint32_t)h->v[0]) {
		if (mb->opened)
			mb->uidv_changed = 1;
		uidlist_forget(mb);
	}
	mb->uidvalidity = (uint32_t)h->v[0];
	mb->uidnext = (uint32_t)h->v[1];
	mb->highestmodseq = h->v[2];
	mb->recentuid = (uint32_t)h->v[3];
	mb->expfloor = h->v[4];
	mb->ul_gen = h->v[5];
}

/* A message record: new to the view, or its flags and name changed. */
static int
ul_msg(struct imap_mbox *mb, const char *p, const char *end)
{
	struct imap_msg	*m;
	uint64_t	 uid, modseq, size, idate;
	const char	*info, *base;
	char		 name[NAME_MAX + 1];
	size_t		 ilen, blen, nlen;
	unsigned int	 fl;

	if (ul_num(&p, end, &uid) == -1 || ul_num(&p, end, &modseq) == -1 ||
	    ul_num(&p, end, &size) == -1 || ul_num(&p, end, &idate) == -1 ||
	    ul_word(&p, end, &info, &ilen) == -1 ||
	    ul_word(&p, end, &base, &blen) == -1 || p != end ||
	    uid == 0 || uid > UINT32_MAX)
		return -1;
	if (ilen == 1 && info[0] == '-')
		ilen = 0;
	else if (info[0] != ':')
		return -1;
	if ((nlen = blen + ilen) > NAME_MAX || memchr(base, ':', blen))
		return -1;
	memcpy(name, base, blen);
	memcpy(name + blen, info, ilen);
	if ((m = mbox_find(mb, (uint32_t)uid)) == NULL) {
		if ((m = mbox_add(mb, (uint32_t)uid)) == NULL)
			return 0;	/* full: left out, logged by sync */
		m->state |= IMAP_MS_NEW;
	} else if ((m->state & IMAP_MS_EXPUNGED) == 0 &&
	    (m->name_len != nlen ||
	    memcmp(mbox_msg_name(mb, m), name, nlen) != 0)) {
		fl = flags_from_info(info, ilen);
		if ((m->flags & IMAP_F_PERMANENT) != fl)
			m->state |= IMAP_MS_CHANGED;
	}
	if (m->name_len != nlen || memcmp(mbox_msg_name(mb, m), name, nlen))
		if (mbox_set_name(mb, m, name, nlen) == -1)
			return -1;
	m->flags = (uint16_t)((m->flags & ~IMAP_F_PERMANENT) |
	    flags_from_info(info, ilen));
	m->modseq = modseq;
	m->size = size;
	m->idate = (int64_t)idate;
	m->state |= IMAP_MS_FOUND;
	if (uid >= mb->uidnext)
		mb->uidnext = (uint32_t)uid + 1;
	if (modseq > mb->highestmodseq)
		mb->highestmodseq = modseq;
	return 0;
}

static int
ul_other(struct imap_mbox *mb, const char *p, const char *end)
{
	struct imap_msg	*m;
	uint64_t	 a, b, c, d;
	char		 type = *p;

	p += 2;
	switch (type) {
	case 'E':
		if (ul_num(&p, end, &a) == -1 || ul_num(&p, end, &b) == -1 ||
		    a == 0 || a > UINT32_MAX)
			return -1;
		if ((m = mbox_find(mb, (uint32_t)a)) != NULL)
			m->state |= IMAP_MS_EXPUNGED;
		if (a >= mb->uidnext)
			mb->uidnext = (uint32_t)a + 1;
		if (b > mb->highestmodseq)
			mb->highestmodseq = b;
		return mbox_exp_add(mb, (uint32_t)a, b);
	case 'R':
		if (ul_num(&p, end, &a) == -1 || a > UINT32_MAX)
			return -1;
		if (a > mb->recentuid)
			mb->recentuid = (uint32_t)a;
		return 0;
	case 'T':
		if (ul_num(&p, end, &a) == -1 || ul_num(&p, end, &b) == -1 ||
		    ul_num(&p, end, &c) == -1 || ul_num(&p, end, &d) == -1)
			return -1;
		mb->cur_mtime.tv_sec = (time_t)a;
		mb->cur_mtime.tv_nsec = (long)b;
		mb->new_mtime.tv_sec = (time_t)c;
		mb->new_mtime.tv_nsec = (long)d;
		return 0;
	}
	return -1;
}

static int
ul_line(struct imap_mbox *mb, const char *p, const char *end)
{
	if (p < end && *p >= '0' && *p <= '9')
		return ul_msg(mb, p, end);
	if (end - p == 1 && *p == 'B')
		return 0;
	if (end - p >= 3 && p[1] == ' ')
		return ul_other(mb, p, end);
	return -1;
}

/*
 * Replays buf (the file from offset off); the complete lines only.
 * Returns the bytes replayed, -1 on a malformed line.
 */
static ssize_t
ul_replay(struct imap_mbox *mb, const char *buf, size_t len, uint64_t off)
{
	const char	*p = buf, *end = buf + len, *nl;

	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		if (nl - p == 1 && *p == 'B')
			mb->ul_base = off + (uint64_t)(nl + 1 - buf);
		if (ul_line(mb, p, nl) == -1) {
			log_warnx("imap uidlist %s: bad record at %llu",
			    mb->dir, (unsigned long long)(off + (uint64_t)(p -
			    buf)));
			return -1;
		}
		p = nl + 1;
	}
	return p - buf;
}

static int
ul_read(int fd, char *buf, size_t len, uint64_t off)
{
	ssize_t	 n;
	size_t	 got;

	for (got = 0; got < len; got += (size_t)n)
		if ((n = pread(fd, buf + got, len - got,
		    (off_t)(off + got))) <= 0)
			return -1;
	return 0;
}

/*
 * A rewritten (or first read) list: everything is replayed, and view
 * messages it does not hold any more are expunged.
 */
static int
ul_full(struct imap_mbox *mb, const char *buf, size_t len)
{
	struct ul_hdr	 h;
	const char	*nl;
	uint32_t	 i;
	ssize_t		 n;

	if ((nl = memchr(buf, '\n', len)) == NULL ||
	    ul_header(&h, buf, nl) == -1)
		return -1;
	ul_apply_header(mb, &h);
	for (i = 0; i < mb->nmsgs; i++)
		mb->msgs[i].state &= ~IMAP_MS_FOUND;
	mb->nexp = 0;
	mb->ul_base = 0;
	n = ul_replay(mb, nl + 1, len - (size_t)(nl + 1 - buf),
	    (uint64_t)(nl + 1 - buf));
	if (n == -1)
		return -1;
	for (i = 0; i < mb->nmsgs; i++)
		if ((mb->msgs[i].state & IMAP_MS_FOUND) == 0)
			mb->msgs[i].state |= IMAP_MS_EXPUNGED;
	mb->ul_off = (uint64_t)(nl + 1 - buf) + (uint64_t)n;
	return 0;
}

/* The tail appended since the view last read it. */
static int
ul_tail(struct imap_mbox *mb, uint64_t size)
{
	char	*buf;
	ssize_t	 n;
	size_t	 len = (size_t)(size - mb->ul_off);

	if (len == 0)
		return 0;
	if ((buf = malloc(len)) == NULL)
		return -1;
	if (ul_read(mb->ulfd, buf, len, mb->ul_off) == -1 ||
	    (n = ul_replay(mb, buf, len, mb->ul_off)) == -1) {
		free(buf);
		return -1;
	}
	mb->ul_off += (uint64_t)n;
	mb->view_dirty |= n > 0;
	free(buf);
	return 0;
}

/* A list read from the start into the view (which keeps its cache). */
static int
ul_load_full(struct imap_mbox *mb, int fd, uint64_t size)
{
	char	*buf;
	int	 rc;

	if (size > (uint64_t)IMAP_MBOX_MESSAGES_MAX *
	    (IMAP_UIDLIST_LINE_MAX_BYTES + 64) || (buf = malloc(size)) == NULL)
		return -1;
	rc = ul_read(fd, buf, size, 0) == -1 ? -1 : ul_full(mb, buf, size);
	free(buf);
	if (rc == -1)
		return -1;
	if (mb->ulfd != -1)
		(void)close(mb->ulfd);
	mb->ulfd = fd;
	mb->view_dirty = 1;
	mb->index_urgent = 1;
	return 0;
}

/*
 * The view came from the index, which read the list up to ul_off of
 * generation gen: when the file is still that one, the tail is enough.
 */
static int
ul_tail_check(struct imap_mbox *mb, uint64_t gen, uint64_t size)
{
	struct ul_hdr	 h;
	char		 buf[256], *nl;
	ssize_t		 n;

	if ((n = pread(mb->ulfd, buf, sizeof(buf), 0)) <= 0 ||
	    (nl = memchr(buf, '\n', (size_t)n)) == NULL ||
	    ul_header(&h, buf, nl) == -1 || h.v[5] != gen ||
	    (uint32_t)h.v[0] != mb->uidvalidity || size < mb->ul_off)
		return -1;
	return ul_tail(mb, size);
}

/*
 * Under the lock: brings the view up to the uid list (the tail when it
 * is the file the view read, else the whole, merged).  No list: a new
 * one, with a new UIDVALIDITY and the view emptied when the folder is
 * being opened; written from the view when a session has it open (its
 * UIDs are the truth it has told a client).
 */
int
uidlist_load(struct imap_mbox *mb)
{
	struct stat	 sb, held;
	uint64_t	 gen = mb->ul_gen;
	int		 fd;

	fd = openat(mb->dirfd, IMAP_UIDLIST_NAME, O_RDWR | O_CLOEXEC);
	if (fd == -1 && errno == ENOENT)
		return mb->ulfd != -1 ? uidlist_rewrite(mb) :
		    uidlist_create(mb);
	if (fd == -1 || fstat(fd, &sb) == -1)
		goto fail;
	if (mb->ulfd != -1 && fstat(mb->ulfd, &held) == 0 &&
	    held.st_ino == sb.st_ino && held.st_dev == sb.st_dev &&
	    (uint64_t)sb.st_size >= mb->ul_off) {
		(void)close(fd);
		if (ul_tail(mb, (uint64_t)sb.st_size) == 0)
			return IMAP_ST_OK;
		log_warnx("imap uidlist %s: unreadable, rewritten", mb->dir);
		return uidlist_rewrite(mb);
	}
	if (mb->ulfd == -1 && mb->ul_off > 0) {
		mb->ulfd = fd;
		if (ul_tail_check(mb, gen, (uint64_t)sb.st_size) == 0)
			return IMAP_ST_OK;
		mb->ulfd = -1;
	}
	if (ul_load_full(mb, fd, (uint64_t)sb.st_size) == 0)
		return IMAP_ST_OK;
	(void)close(fd);
	log_warnx("imap uidlist %s: unreadable, made anew", mb->dir);
	return uidlist_create(mb);
fail:
	if (fd != -1)
		(void)close(fd);
	return store_errno(mb->st, "read", IMAP_UIDLIST_NAME);
}

