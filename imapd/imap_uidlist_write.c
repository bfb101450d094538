/*
 * Writing the durable uid list of a folder, `sallyport-imap.uids' (its
 * format: imap_uidlist.c): a change's records appended, the list
 * rewritten when its appended part outgrows its base, a new list with a
 * new UIDVALIDITY.  Run by the IMAP mailbox process (the mail user,
 * chrooted in the mail home, seccomp set of imapd-user) and the unit
 * tests.
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

#include "imap_store_int.h"
#include "log.h"

/* Records for the next uidlist_commit(). */
int
uidlist_out_printf(struct imap_mbox *mb, const char *fmt, ...)
{
	va_list	 ap;
	size_t	 cap;
	char	*p;
	int	 n;

	if (mb->outcap - mb->outlen < IMAP_UIDLIST_LINE_MAX_BYTES) {
		cap = mb->outcap < 8192 ? 8192 : mb->outcap * 2;
		if ((p = realloc(mb->out, cap)) == NULL)
			return -1;
		mb->out = p;
		mb->outcap = cap;
	}
	va_start(ap, fmt);
	n = vsnprintf(mb->out + mb->outlen, mb->outcap - mb->outlen, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= mb->outcap - mb->outlen)
		return -1;
	mb->outlen += (size_t)n;
	return 0;
}

int
uidlist_out_msg(struct imap_mbox *mb, const struct imap_msg *m)
{
	const char	*name = mbox_msg_name(mb, m);
	const char	*info = name + m->base_len;

	return uidlist_out_printf(mb, "%u %llu %llu %lld %s %.*s\n", m->uid,
	    (unsigned long long)m->modseq, (unsigned long long)m->size,
	    (long long)m->idate, *info == '\0' ? "-" : info,
	    (int)m->base_len, name);
}

/* This change's modseq (RFC 7162 3.1: above every one given before). */
uint64_t
uidlist_modseq(struct imap_mbox *mb)
{
	if (mb->txmodseq == 0)
		mb->txmodseq = ++mb->highestmodseq;
	return mb->txmodseq;
}

static int
ul_out_times(struct imap_mbox *mb)
{
	return uidlist_out_printf(mb, "T %lld %ld %lld %ld\n",
	    (long long)mb->cur_mtime.tv_sec, mb->cur_mtime.tv_nsec,
	    (long long)mb->new_mtime.tv_sec, mb->new_mtime.tv_nsec);
}

/* The whole list from the view, into mb->out. */
static int
ul_out_all(struct imap_mbox *mb)
{
	uint32_t	 i;
	size_t		 e;

	mb->outlen = 0;
	if (uidlist_out_printf(mb, UIDLIST_MAGIC "V%u N%u M%llu R%u F%llu "
	    "G%llu\n", mb->uidvalidity, mb->uidnext,
	    (unsigned long long)mb->highestmodseq, mb->recentuid,
	    (unsigned long long)mb->expfloor,
	    (unsigned long long)mb->ul_gen) == -1)
		return -1;
	for (i = 0; i < mb->nmsgs; i++)
		if ((mb->msgs[i].state & IMAP_MS_EXPUNGED) == 0 &&
		    uidlist_out_msg(mb, &mb->msgs[i]) == -1)
			return -1;
	for (e = 0; e < mb->nexp; e++)
		if (uidlist_out_printf(mb, "E %u %llu\n", mb->exp[e].uid,
		    (unsigned long long)mb->exp[e].modseq) == -1)
			return -1;
	return ul_out_times(mb) == -1 ? -1 : uidlist_out_printf(mb, "B\n");
}

/*
 * Rewrites the list from the view (tmp, fsync, rename): a new
 * generation, which other sessions read whole.
 */
int
uidlist_rewrite(struct imap_mbox *mb)
{
	int	 fd;

	mb->ul_gen = ((uint64_t)arc4random() << 32) | arc4random();
	if (ul_out_all(mb) == -1) {
		mb->outlen = 0;
		return store_err(mb->st, IMAP_ST_IO, "uid list too large");
	}
	if (store_write_file(mb->dirfd, IMAP_UIDLIST_NAME, mb->out,
	    mb->outlen) == -1) {
		mb->outlen = 0;
		return store_errno(mb->st, "write", IMAP_UIDLIST_NAME);
	}
	fd = openat(mb->dirfd, IMAP_UIDLIST_NAME, O_RDWR | O_CLOEXEC);
	if (fd == -1)
		return store_errno(mb->st, "open", IMAP_UIDLIST_NAME);
	if (mb->ulfd != -1)
		(void)close(mb->ulfd);
	mb->ulfd = fd;
	mb->ul_off = mb->ul_base = mb->outlen;
	mb->outlen = 0;
	mb->txmodseq = 0;
	mb->index_dirty = 1;
	return IMAP_ST_OK;
}

/* No list: a new UIDVALIDITY, an empty view, the directories read. */
int
uidlist_create(struct imap_mbox *mb)
{
	uint32_t	 v;

	if ((v = store_new_uidvalidity(mb->st)) == 0)
		return IMAP_ST_IO;
	uidlist_forget(mb);
	mb->uidvalidity = v;
	mb->uidnext = 1;
	mb->highestmodseq = 1;
	mb->recentuid = 0;
	mb->expfloor = 0;
	memset(&mb->cur_mtime, 0, sizeof(mb->cur_mtime));
	memset(&mb->new_mtime, 0, sizeof(mb->new_mtime));
	mb->resync = 1;
	return uidlist_rewrite(mb);
}

/*
 * Appends this change's records (and the directories' times) with one
 * write and an fdatasync; the list is rewritten when its appended part
 * outgrows its base.  Under the lock, after uidlist_load().
 */
int
uidlist_commit(struct imap_mbox *mb)
{
	ssize_t	 w;
	size_t	 off;
	int	 save;

	mb->txmodseq = 0;
	if (mb->outlen == 0 && !mb->times_dirty)
		return IMAP_ST_OK;
	mb->times_dirty = 0;
	if (ul_out_times(mb) == -1)
		return store_err(mb->st, IMAP_ST_IO, "uid list record");
	mb->index_dirty = 1;
	if (ftruncate(mb->ulfd, (off_t)mb->ul_off) == -1)
		goto fail;
	for (off = 0; off < mb->outlen; off += (size_t)w)
		if ((w = pwrite(mb->ulfd, mb->out + off, mb->outlen - off,
		    (off_t)(mb->ul_off + off))) <= 0)
			goto fail;
	if (fdatasync(mb->ulfd) == -1)
		goto fail;
	mb->ul_off += mb->outlen;
	mb->outlen = 0;
	if (mb->ul_off - mb->ul_base > mb->ul_base &&
	    mb->ul_off - mb->ul_base > IMAP_UIDLIST_COMPACT_MIN_BYTES)
		return uidlist_rewrite(mb);
	return IMAP_ST_OK;
fail:
	mb->outlen = 0;
	save = errno;
	/* When even this fails, the next writer cuts the torn tail. */
	if (ftruncate(mb->ulfd, (off_t)mb->ul_off) == -1)
		log_warnx("- imap uidlist-truncate-failed dir=%s error=\"%s\"",
		    mb->dir, strerror(errno));
	errno = save;
	return store_errno(mb->st, "write", IMAP_UIDLIST_NAME);
}
