/*
 * A Maildir seen as a POP3 maildrop.  Run by the mailbox process (the
 * mail user, chrooted to the mail home, seccomp set SANDBOX_MAILBOX), and
 * by the unit tests on a temporary directory.
 *
 * - Access is exclusive (RFC 1939 8): flock(2) on POP3_LOCK_NAME in the
 *   Maildir.  It keeps out a second POP3 session only; an IMAP session
 *   may change the Maildir meanwhile, which is why a message whose file
 *   was renamed (new flags) is looked up again by its base name.
 * - The maildrop is new/ and cur/ together.  Nothing is moved at login
 *   (moving 10,000 files was most of a first login's time); a message
 *   retrieved (RETR) is renamed from new/ to cur/ with the info ":2,"
 *   added, the name kept otherwise, as a Maildir reader does for
 *   messages it has seen, by renameat2(RENAME_NOREPLACE), so that it
 *   never replaces another file.  One file in both (a move by link and
 *   unlink cut short, as older versions did) is served once, from
 *   cur/, and its new/ link removed.
 * - Order: delivery time, from the name ("<secs>.M<usecs>P..."), then
 *   the name; at most POP3_MESSAGES_MAX messages are served.
 * - Unique-id (RFC 1939 7, UIDL): the base name (before ':'), which never
 *   changes; a name that is longer than 70 characters or holds a byte
 *   outside 0x21-0x7E gets a digest of itself instead.
 * - Nothing is removed before QUIT (the UPDATE state).
 */
#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "pop3d.h"

#define FNV64_PRIME	0x100000001b3ULL
#define FNV64_BASIS	0xcbf29ce484222325ULL

void
maildrop_uidl(const char *base, size_t len, char *uidl)
{
	uint64_t	 h1 = FNV64_BASIS, h2 = FNV64_BASIS ^ 0x5a11f0e7ULL;
	size_t		 i;
	int		 valid = len >= 1 && len <= POP3_UIDL_MAX_BYTES;

	for (i = 0; i < len && valid; i++)
		if ((unsigned char)base[i] < 0x21 ||
		    (unsigned char)base[i] > 0x7e)
			valid = 0;
	if (valid) {
		memcpy(uidl, base, len);
		uidl[len] = '\0';
		return;
	}
	/* Two FNV-1a hashes, one read backwards: 128 bits. */
	for (i = 0; i < len; i++) {
		h1 = (h1 ^ (unsigned char)base[i]) * FNV64_PRIME;
		h2 = (h2 ^ (unsigned char)base[len - 1 - i]) * FNV64_PRIME;
	}
	(void)snprintf(uidl, POP3_UIDL_MAX_BYTES + 1, "X%016llx%016llx",
	    (unsigned long long)h1, (unsigned long long)h2);
}

/* Decimal digits at *p, saturating; *p is moved past them. */
static uint64_t
maildrop_digits(const char **p)
{
	uint64_t	 v = 0;

	for (; isdigit((unsigned char)**p); (*p)++) {
		if (v > (UINT64_MAX - 9) / 10)
			v = UINT64_MAX;
		else
			v = v * 10 + (uint64_t)(**p - '0');
	}
	return v;
}

void
maildrop_name_time(const char *name, uint64_t *secs, uint64_t *usecs)
{
	const char	*p = name;

	*secs = maildrop_digits(&p);
	*usecs = 0;
	if (p[0] == '.' && p[1] == 'M') {
		p += 2;
		*usecs = maildrop_digits(&p);
	}
}

int
maildrop_msg_cmp(const void *a, const void *b)
{
	const struct maildrop_msg	*x = a, *y = b;

	if (x->secs != y->secs)
		return x->secs < y->secs ? -1 : 1;
	if (x->usecs != y->usecs)
		return x->usecs < y->usecs ? -1 : 1;
	return strcmp(x->name, y->name);
}

/*
 * Opens the directory behind fd again (its own offset, from the start;
 * and no dup(2), which the mailbox sandbox does not allow).
 */
static DIR *
maildrop_opendir(int fd)
{
	DIR	*d;
	int	 dfd;

	dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd == -1)
		return NULL;
	if ((d = fdopendir(dfd)) == NULL) {
		(void)close(dfd);
		return NULL;
	}
	return d;
}

static int
maildrop_dirfd(const struct maildrop *md, const struct maildrop_msg *m)
{
	return m->innew ? md->md.newfd : md->md.curfd;
}

/* new/name to cur/name:2, (cr.yp.to/proto/maildir), never over a file. */
void
maildrop_seen(struct maildrop *md, struct maildrop_msg *m)
{
	char	 dst[NAME_MAX + 1], *name;
	int	 n;

	if (!m->innew)
		return;
	if (strchr(m->name, ':') != NULL)
		n = snprintf(dst, sizeof(dst), "%s", m->name);
	else
		n = snprintf(dst, sizeof(dst), "%s:2,", m->name);
	if (n < 0 || (size_t)n >= sizeof(dst) || (name = strdup(dst)) == NULL)
		return;
	/* Not synced: a move lost in a crash leaves the message in new/. */
	if (renameat2(md->md.newfd, m->name, md->md.curfd, dst,
	    RENAME_NOREPLACE) == -1) {
		log_warn("%08x pop3 maildrop-move-failed uidl=%s", md->id,
		    m->uidl);
		free(name);
		return;
	}
	free(m->name);
	m->name = name;
	m->innew = 0;
}

/*
 * The sizes a delivery put in the name (",S=" on disk, ",W=" with
 * CRLF; common/maildir.c), if they agree with each other: the CRLF
 * form is at least as long, and at most a CRLF for each octet.
 */
static int
maildrop_name_sizes(const char *name, uint64_t *lfsize, uint64_t *size)
{
	if (maildir_name_size(name, 'S', lfsize) == -1 ||
	    maildir_name_size(name, 'W', size) == -1)
		return -1;
	if (*size < *lfsize || *lfsize > UINT64_MAX / 4 ||
	    *size > *lfsize * 2 + 2)
		return -1;
	return 0;
}

/* size: the size with CRLF from the name, or NULL to count it later. */
static int
maildrop_add(struct maildrop *md, const char *name, int innew,
    uint64_t lfsize, const uint64_t *size)
{
	struct maildrop_msg	*m;
	size_t			 n;

	if (md->nmsgs == md->nalloc) {
		n = md->nalloc == 0 ? 64 : md->nalloc * 2;
		if (n > POP3_MESSAGES_MAX)
			n = POP3_MESSAGES_MAX;
		m = reallocarray(md->msgs, n, sizeof(*m));
		if (m == NULL)
			return -1;
		md->msgs = m;
		md->nalloc = n;
	}
	m = &md->msgs[md->nmsgs];
	memset(m, 0, sizeof(*m));
	if ((m->name = strdup(name)) == NULL)
		return -1;
	m->baselen = strcspn(name, ":");
	maildrop_uidl(name, m->baselen, m->uidl);
	maildrop_name_time(name, &m->secs, &m->usecs);
	m->lfsize = lfsize;
	m->innew = innew;
	if (size != NULL) {
		m->size = *size;
		m->sized = 1;
	}
	md->nmsgs++;
	return 0;
}

/*
 * One entry of new/ or cur/.  A name with both sizes, of a regular file,
 * needs no stat(2) and no read: the cost of a large mailbox is the
 * readdir.
 */
static int
maildrop_scan_one(struct maildrop *md, int innew, const struct dirent *de)
{
	struct stat	 st;
	uint64_t	 lfsize, size;
	int		 named;

	named = maildrop_name_sizes(de->d_name, &lfsize, &size) == 0;
	if (!named || de->d_type != DT_REG) {
		if (fstatat(innew ? md->md.newfd : md->md.curfd, de->d_name,
		    &st,
		    AT_SYMLINK_NOFOLLOW) == -1 || !S_ISREG(st.st_mode))
			return 0;
		if (lfsize != (uint64_t)st.st_size)
			named = 0;
		lfsize = (uint64_t)st.st_size;
	}
	/* XXX the first found are served, not the oldest. */
	if (md->nmsgs == POP3_MESSAGES_MAX) {
		md->skipped++;
		return 0;
	}
	return maildrop_add(md, de->d_name, innew, lfsize,
	    named ? &size : NULL);
}

static int
maildrop_scan_dir(struct maildrop *md, int innew)
{
	DIR		*d;
	struct dirent	*de;
	int		 r = 0;

	d = maildrop_opendir(innew ? md->md.newfd : md->md.curfd);
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (maildrop_scan_one(md, innew, de) == -1) {
			r = -1;
			break;
		}
	}
	(void)closedir(d);
	return r;
}

static int
maildrop_scan(struct maildrop *md)
{
	if (maildrop_scan_dir(md, 0) == -1 || maildrop_scan_dir(md, 1) == -1)
		return -1;
	if (md->nmsgs > 1)
		qsort(md->msgs, md->nmsgs, sizeof(md->msgs[0]),
		    maildrop_msg_cmp);
	return 0;
}

static int
maildrop_uidl_cmp(const void *a, const void *b)
{
	const struct maildrop_msg *const	*x = a, *const *y = b;
	int					 r;

	if ((r = strcmp((*x)->uidl, (*y)->uidl)) != 0)
		return r;
	return *x < *y ? -1 : *x > *y;
}

/*
 * a and b share a base name.  When they are one file as new/X and
 * cur/X:2, (a move by link and unlink cut short), the new/ link is
 * removed and its entry dropped: 1.  Else 0.
 */
static int
maildrop_half_moved(struct maildrop *md, struct maildrop_msg *a,
    struct maildrop_msg *b)
{
	struct maildrop_msg	*n, *c;
	struct stat		 sn, sc;

	if (a->innew == b->innew)
		return 0;
	n = a->innew ? a : b;
	c = a->innew ? b : a;
	if (fstatat(md->md.newfd, n->name, &sn, AT_SYMLINK_NOFOLLOW) == -1 ||
	    fstatat(md->md.curfd, c->name, &sc, AT_SYMLINK_NOFOLLOW) == -1 ||
	    sn.st_dev != sc.st_dev || sn.st_ino != sc.st_ino)
		return 0;
	if (unlinkat(md->md.newfd, n->name, 0) == -1)
		log_warn("%08x pop3 maildrop-unlink-new", md->id);
	n->drop = 1;
	return 1;
}

/*
 * Two files with one base name (a message in cur/ with two sets of
 * flags, or in new/ and in cur/) would share a unique-id: only one is
 * served.
 */
static int
maildrop_dedupe(struct maildrop *md)
{
	struct maildrop_msg	**v, *keep;
	size_t			 i;

	if (md->nmsgs < 2)
		return 0;
	if ((v = reallocarray(NULL, md->nmsgs, sizeof(*v))) == NULL)
		return -1;
	for (i = 0; i < md->nmsgs; i++)
		v[i] = &md->msgs[i];
	qsort(v, md->nmsgs, sizeof(*v), maildrop_uidl_cmp);
	keep = v[0];
	for (i = 1; i < md->nmsgs; i++) {
		if (strcmp(keep->uidl, v[i]->uidl) != 0) {
			keep = v[i];
			continue;
		}
		if (maildrop_half_moved(md, keep, v[i])) {
			if (keep->drop)
				keep = v[i];
			continue;
		}
		log_warnx("%08x pop3 maildrop-duplicate uidl=%s", md->id,
		    v[i]->uidl);
		v[i]->drop = 1;
	}
	free(v);
	return 0;
}

/* Removes the messages marked drop from the list. */
static void
maildrop_compact(struct maildrop *md)
{
	size_t	 i, j;

	for (i = j = 0; i < md->nmsgs; i++) {
		if (md->msgs[i].drop) {
			free(md->msgs[i].name);
			continue;
		}
		md->msgs[j++] = md->msgs[i];
	}
	md->nmsgs = j;
}

static enum maildrop_result
maildrop_lock(struct maildrop *md)
{
	md->lockfd = openat(md->md.dirfd, POP3_LOCK_NAME,
	    O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (md->lockfd == -1)
		return MAILDROP_FAIL;
	if (flock(md->lockfd, LOCK_EX | LOCK_NB) == -1)
		return errno == EWOULDBLOCK ? MAILDROP_BUSY : MAILDROP_FAIL;
	return MAILDROP_OK;
}

enum maildrop_result
maildrop_open(struct maildrop *md, const char *path, uint32_t id,
    const char **err)
{
	enum maildrop_result	 r;
	size_t			 i;

	memset(md, 0, sizeof(*md));
	md->id = id;
	md->lockfd = -1;
	*err = NULL;
	if (maildir_open(&md->md, path, 1) == -1) {
		*err = "cannot open the Maildir";
		return MAILDROP_FAIL;
	}
	if ((r = maildrop_lock(md)) != MAILDROP_OK) {
		*err = r == MAILDROP_BUSY ? "locked" : "cannot lock";
		maildrop_close(md);
		return r;
	}
	if (maildrop_scan(md) == -1 ||
	    maildrop_dedupe(md) == -1 || pop3_sizecache_fill(md) == -1) {
		*err = "cannot read the Maildir";
		maildrop_close(md);
		return MAILDROP_FAIL;
	}
	maildrop_compact(md);
	for (i = 0; i < md->nmsgs; i++)
		md->total += md->msgs[i].size;
	if (md->skipped > 0)
		log_warnx("%08x pop3 maildrop-truncated served=%zu skipped=%zu",
		    md->id, md->nmsgs, md->skipped);
	return MAILDROP_OK;
}

void
maildrop_close(struct maildrop *md)
{
	size_t	 i;

	for (i = 0; i < md->nmsgs; i++)
		free(md->msgs[i].name);
	free(md->msgs);
	md->msgs = NULL;
	md->nmsgs = md->nalloc = 0;
	maildir_close(&md->md);
	if (md->lockfd != -1)
		(void)close(md->lockfd);
	md->lockfd = -1;
}

struct maildrop_msg *
maildrop_get(struct maildrop *md, int64_t n)
{
	if (n < 1 || (uint64_t)n > md->nmsgs)
		return NULL;
	return &md->msgs[n - 1];
}

/* The name in dir fd with m's base name, allocated; NULL if none. */
static char *
maildrop_find_base(int fd, const struct maildrop_msg *m)
{
	DIR		*d;
	struct dirent	*de;
	char		*name = NULL;

	if ((d = maildrop_opendir(fd)) == NULL)
		return NULL;
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, m->name, m->baselen) == 0 &&
		    (de->d_name[m->baselen] == ':' ||
		    de->d_name[m->baselen] == '\0')) {
			name = strdup(de->d_name);
			break;
		}
	(void)closedir(d);
	return name;
}

/*
 * The file of m has gone: find it again by its base name, in its
 * directory, then in the other one (an IMAP session may have changed its
 * flags, or moved it from new/ to cur/).  0 when found.
 */
static int
maildrop_refind(struct maildrop *md, struct maildrop_msg *m)
{
	char	*name;

	if ((name = maildrop_find_base(maildrop_dirfd(md, m), m)) == NULL) {
		m->innew = !m->innew;
		if ((name = maildrop_find_base(maildrop_dirfd(md, m),
		    m)) == NULL) {
			m->innew = !m->innew;
			errno = ENOENT;
			return -1;
		}
	}
	free(m->name);
	m->name = name;
	return 0;
}

int
maildrop_msg_open(struct maildrop *md, struct maildrop_msg *m)
{
	int	 fd, flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC;

	fd = openat(maildrop_dirfd(md, m), m->name, flags);
	if (fd == -1 && errno == ENOENT && maildrop_refind(md, m) == 0)
		fd = openat(maildrop_dirfd(md, m), m->name, flags);
	return fd;
}

void
maildrop_mark(struct maildrop *md, struct maildrop_msg *m)
{
	if (m->deleted)
		return;
	m->deleted = 1;
	md->ndeleted++;
	md->deleted_size += m->size;
}

size_t
maildrop_unmark_all(struct maildrop *md)
{
	size_t	 i, n = md->ndeleted;

	for (i = 0; i < md->nmsgs; i++)
		md->msgs[i].deleted = 0;
	md->ndeleted = 0;
	md->deleted_size = 0;
	return n;
}

/* Unlinks one message; a file already gone counts as removed. */
static int
maildrop_unlink(struct maildrop *md, struct maildrop_msg *m)
{
	if (unlinkat(maildrop_dirfd(md, m), m->name, 0) == 0)
		return 0;
	if (errno != ENOENT)
		return -1;
	if (maildrop_refind(md, m) == -1)
		return errno == ENOENT ? 0 : -1;
	if (unlinkat(maildrop_dirfd(md, m), m->name, 0) == 0 ||
	    errno == ENOENT)
		return 0;
	return -1;
}

size_t
maildrop_update(struct maildrop *md, size_t *failed)
{
	size_t	 i, removed = 0, innew = 0;

	*failed = 0;
	for (i = 0; i < md->nmsgs; i++) {
		if (!md->msgs[i].deleted)
			continue;
		if (maildrop_unlink(md, &md->msgs[i]) == 0) {
			removed++;
			innew += md->msgs[i].innew;
		} else {
			log_warn("%08x pop3 dele-failed uidl=%s", md->id,
			    md->msgs[i].uidl);
			(*failed)++;
		}
	}
	/* The removal must survive a crash once QUIT is answered. */
	if ((removed > innew && fsync(md->md.curfd) == -1) ||
	    (innew > 0 && fsync(md->md.newfd) == -1)) {
		log_warn("%08x pop3 maildrop-fsync", md->id);
		*failed += removed;
		removed = 0;
	}
	/*
	 * Unlocked before QUIT is answered (RFC 1939 6 unlocks after): a
	 * client that logs in again at once must not find it locked by a
	 * process still freeing a large maildrop on its way out.
	 */
	if (md->lockfd != -1)
		(void)close(md->lockfd);
	md->lockfd = -1;
	return removed;
}
