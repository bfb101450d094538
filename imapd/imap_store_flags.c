/*
 * Flags in Maildir names, STORE, EXPUNGE and QRESYNC's expunged UIDs
 * (imap_store.h, "Flags, expunge, vanished").  Run by the IMAP mailbox
 * process (the mail user, chrooted in the mail home, seccomp set of
 * imapd-user) and the unit tests.
 *
 * A message's flags are the letters after ":2," in its file's name,
 * sorted (cr.yp.to/proto/maildir.html): D draft, F flagged, R replied
 * (\Answered), S seen, T trashed (\Deleted).  Other letters (P passed,
 * other programs' keywords) are kept as they are.  Each change renames
 * the file, takes the change's modseq and goes into the uid list.
 */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "imap_store_int.h"

static const struct {
	char		 letter;
	unsigned int	 flag;
} flag_letters[] = {
	{ 'D', IMAP_F_DRAFT },
	{ 'F', IMAP_F_FLAGGED },
	{ 'R', IMAP_F_ANSWERED },
	{ 'S', IMAP_F_SEEN },
	{ 'T', IMAP_F_DELETED },
};
#define FLAG_LETTERS	(sizeof(flag_letters) / sizeof(flag_letters[0]))

static unsigned int
flag_of(char c)
{
	size_t	 i;

	for (i = 0; i < FLAG_LETTERS; i++)
		if (flag_letters[i].letter == c)
			return flag_letters[i].flag;
	return 0;
}

unsigned int
flags_from_info(const char *info, size_t len)
{
	unsigned int	 fl = 0;
	size_t		 i;

	if (len < 3 || memcmp(info, ":2,", 3) != 0)
		return 0;
	for (i = 3; i < len; i++)
		fl |= flag_of(info[i]);
	return fl;
}

/*
 * ":2," and the letters, sorted: those of flags and the old info's
 * letters that are not ours.  -1 when it does not fit.
 */
int
flags_info(char *dst, size_t dstlen, const char *old, size_t oldlen,
    unsigned int flags)
{
	unsigned char	 have[128];
	size_t		 i, n = 3;
	int		 c;

	memset(have, 0, sizeof(have));
	if (oldlen >= 3 && memcmp(old, ":2,", 3) == 0)
		for (i = 3; i < oldlen; i++)
			if ((unsigned char)old[i] < 128 &&
			    old[i] > ' ' && flag_of(old[i]) == 0)
				have[(unsigned char)old[i]] = 1;
	for (i = 0; i < FLAG_LETTERS; i++)
		if (flags & flag_letters[i].flag)
			have[(unsigned char)flag_letters[i].letter] = 1;
	if (dstlen < 4)
		return -1;
	memcpy(dst, ":2,", 3);
	for (c = 0; c < 128; c++) {
		if (!have[c])
			continue;
		if (n + 1 >= dstlen)
			return -1;
		dst[n++] = (char)c;
	}
	dst[n] = '\0';
	return 0;
}

/* Renames m's file for flags; its new name, flags and modseq recorded. */
int
flags_rename(struct imap_mbox *mb, struct imap_msg *m, unsigned int flags)
{
	char		 name[NAME_MAX + 1], info[64];
	const char	*old = mbox_msg_name(mb, m);
	int		 n;

	if (flags_info(info, sizeof(info), old + m->base_len,
	    m->name_len - m->base_len, flags) == -1)
		return -1;
	n = snprintf(name, sizeof(name), "%.*s%s", (int)m->base_len, old,
	    info);
	if (n < 0 || (size_t)n >= sizeof(name))
		return -1;
	if (strcmp(name, old) != 0 && renameat2(mb->curfd, old, mb->curfd,
	    name, RENAME_NOREPLACE) == -1) {
		if (errno == ENOENT)
			mb->resync = 1;		/* renamed by another */
		return -1;
	}
	if (mbox_set_name(mb, m, name, (size_t)n) == -1)
		return -1;
	m->flags = (uint16_t)((m->flags & ~IMAP_F_PERMANENT) | flags);
	m->modseq = uidlist_modseq(mb);
	return uidlist_out_msg(mb, m);
}

void
imap_store_res_free(struct imap_store_res *res)
{
	free(res->changed);
	free(res->failed);
	memset(res, 0, sizeof(*res));
}

static unsigned int
flags_apply(unsigned int old, enum imap_flag_op op, unsigned int flags)
{
	old &= IMAP_F_PERMANENT;
	flags &= IMAP_F_PERMANENT;
	switch (op) {
	case IMAP_FLAGS_SET:
		return flags;
	case IMAP_FLAGS_ADD:
		return old | flags;
	case IMAP_FLAGS_REMOVE:
		break;
	}
	return old & ~flags;
}

int
imap_mbox_store(struct imap_mbox *mb, const uint32_t *idx, size_t n,
    enum imap_flag_op op, unsigned int flags, uint64_t unchangedsince,
    struct imap_store_res *res)
{
	struct imap_msg	*m;
	unsigned int	 nf;
	size_t		 i;
	int		 rc;

	memset(res, 0, sizeof(*res));
	if (n == 0)
		return IMAP_ST_OK;
	res->changed = reallocarray(NULL, n, sizeof(uint32_t));
	res->failed = reallocarray(NULL, n, sizeof(uint32_t));
	if (res->changed == NULL || res->failed == NULL) {
		imap_store_res_free(res);
		return store_err(mb->st, IMAP_ST_IO, "out of memory");
	}
	if ((rc = sync_change_begin(mb)) != IMAP_ST_OK) {
		imap_store_res_free(res);
		return rc;
	}
	for (i = 0; i < n; i++) {
		if (idx[i] >= mb->nmsgs)
			continue;
		m = &mb->msgs[idx[i]];
		if (m->state & IMAP_MS_EXPUNGED)
			continue;
		if (unchangedsince != 0 && m->modseq > unchangedsince) {
			res->failed[res->nfailed++] = idx[i];
			continue;
		}
		nf = flags_apply(m->flags, op, flags);
		if (nf == (m->flags & IMAP_F_PERMANENT))
			continue;
		if (flags_rename(mb, m, nf) == -1) {
			log_warnx("imap %s: flags of uid %u not changed",
			    mb->dir, m->uid);
			continue;
		}
		res->changed[res->nchanged++] = idx[i];
	}
	return sync_change_end(mb, IMAP_ST_OK);
}

static int
uid_cmp(const void *a, const void *b)
{
	uint32_t	 x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int
imap_mbox_expunge(struct imap_mbox *mb, const uint32_t *uids, size_t n,
    struct imap_sync *sync)
{
	struct imap_msg	*m;
	uint32_t	 i;
	int		 rc;

	memset(sync, 0, sizeof(*sync));
	if ((rc = sync_change_begin(mb)) != IMAP_ST_OK)
		return rc;
	for (i = 0; i < mb->nmsgs; i++) {
		m = &mb->msgs[i];
		if ((m->state & IMAP_MS_EXPUNGED) ||
		    (m->flags & IMAP_F_DELETED) == 0 || (uids != NULL &&
		    bsearch(&m->uid, uids, n, sizeof(*uids), uid_cmp) == NULL))
			continue;
		if (unlinkat(mb->curfd, mbox_msg_name(mb, m), 0) == -1 &&
		    errno != ENOENT) {
			rc = store_errno(mb->st, "unlink", mbox_msg_name(mb, m));
			break;
		}
		if ((rc = mbox_expunged(mb, m)) != IMAP_ST_OK)
			break;
	}
	if ((rc = sync_change_end(mb, rc)) != IMAP_ST_OK)
		return rc;
	return sync_view_finish(mb, IMAP_SYNC_EXPUNGE, sync);
}

void
imap_uid_ranges_free(struct imap_uid_ranges *r)
{
	free(r->v);
	memset(r, 0, sizeof(*r));
}

/* Adds uid to sorted ranges (uids come ascending). */
static int
ranges_add(struct imap_uid_ranges *r, size_t *cap, uint32_t uid)
{
	struct imap_uid_range	*p;

	if (r->n > 0 && (r->v[r->n - 1].last == uid ||
	    r->v[r->n - 1].last + 1 == uid)) {
		r->v[r->n - 1].last = uid;
		return 0;
	}
	if (r->n == *cap) {
		*cap = *cap < 16 ? 16 : *cap * 2;
		if ((p = reallocarray(r->v, *cap, sizeof(*p))) == NULL)
			return -1;
		r->v = p;
	}
	r->v[r->n].first = r->v[r->n].last = uid;
	r->n++;
	return 0;
}

/* Every UID below UIDNEXT that the view does not hold (still there). */
static int
vanished_all(struct imap_mbox *mb, struct imap_uid_ranges *r, size_t *cap)
{
	struct imap_uid_range	*p;
	uint32_t		 i, next = 1;

	for (i = 0; i <= mb->nmsgs; i++) {
		uint32_t	 uid = i < mb->nmsgs ? mb->msgs[i].uid :
			    mb->uidnext;

		if (i < mb->nmsgs && (mb->msgs[i].state & IMAP_MS_EXPUNGED))
			continue;
		if (uid > next) {
			if (r->n == *cap) {
				*cap = *cap < 16 ? 16 : *cap * 2;
				p = reallocarray(r->v, *cap, sizeof(*p));
				if (p == NULL)
					return -1;
				r->v = p;
			}
			r->v[r->n].first = next;
			r->v[r->n++].last = uid - 1;
		}
		next = uid + 1;
	}
	return 0;
}

int
imap_mbox_vanished(struct imap_mbox *mb, uint64_t modseq,
    struct imap_uid_ranges *r)
{
	uint32_t	*u;
	size_t		 i, n = 0, cap = 0;
	int		 rc = 0;

	memset(r, 0, sizeof(*r));
	if (modseq < mb->expfloor)
		rc = vanished_all(mb, r, &cap);
	else if (mb->nexp > 0) {
		if ((u = reallocarray(NULL, mb->nexp, sizeof(*u))) == NULL)
			return store_err(mb->st, IMAP_ST_IO, "out of memory");
		for (i = 0; i < mb->nexp; i++)
			if (mb->exp[i].modseq > modseq)
				u[n++] = mb->exp[i].uid;
		qsort(u, n, sizeof(*u), uid_cmp);
		for (i = 0; i < n && rc == 0; i++)
			rc = ranges_add(r, &cap, u[i]);
		free(u);
	}
	if (rc == -1) {
		imap_uid_ranges_free(r);
		return store_err(mb->st, IMAP_ST_IO, "out of memory");
	}
	return IMAP_ST_OK;
}
