/*
 * LIST and the subscriptions (imap_store.h, "Folders"): the Maildir's
 * ".A.B" directories as "A/B" names with their attributes (RFC 3501
 * 7.2.2, RFC 3348 CHILDREN, RFC 5258, RFC 6154), and
 * <root>/subscriptions.  Run by the IMAP mailbox process (the mail user,
 * chrooted in the mail home, seccomp set of imapd-user) and the unit
 * tests.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "imap_store_int.h"

/* Names, sorted by strcmp (so "A/..." are together after "A/"). */
struct names {
	char	**v;
	size_t	 n, cap;
};

static void
names_free(struct names *nm)
{
	size_t	 i;

	for (i = 0; i < nm->n; i++)
		free(nm->v[i]);
	free(nm->v);
	memset(nm, 0, sizeof(*nm));
}

static int
names_add(struct names *nm, const char *s)
{
	char	**p;

	if (nm->n >= IMAP_FOLDERS_MAX)
		return 0;
	if (nm->n == nm->cap) {
		nm->cap = nm->cap < 32 ? 32 : nm->cap * 2;
		if ((p = reallocarray(nm->v, nm->cap, sizeof(*p))) == NULL)
			return -1;
		nm->v = p;
	}
	if ((nm->v[nm->n] = strdup(s)) == NULL)
		return -1;
	nm->n++;
	return 0;
}

static int
names_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
names_sort(struct names *nm)
{
	size_t	 i, j;

	if (nm->n == 0)
		return;
	qsort(nm->v, nm->n, sizeof(*nm->v), names_cmp);
	for (i = j = 0; i < nm->n; i++) {
		if (j > 0 && strcmp(nm->v[j - 1], nm->v[i]) == 0) {
			free(nm->v[i]);
			continue;
		}
		nm->v[j++] = nm->v[i];
	}
	nm->n = j;
}

/* The first index whose name is >= s. */
static size_t
names_lower(const struct names *nm, const char *s)
{
	size_t	 lo = 0, hi = nm->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strcmp(nm->v[mid], s) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int
names_has(const struct names *nm, const char *s)
{
	size_t	 i = names_lower(nm, s);

	return i < nm->n && strcmp(nm->v[i], s) == 0;
}

/* Whether some name starts with s + "/". */
static int
names_has_children(const struct names *nm, const char *s)
{
	char	 pre[IMAP_FOLDER_NAME_MAX_BYTES + 2];
	size_t	 i, len;

	if ((len = (size_t)snprintf(pre, sizeof(pre), "%s/", s)) >=
	    sizeof(pre))
		return 0;
	i = names_lower(nm, pre);
	return i < nm->n && strncmp(nm->v[i], pre, len) == 0;
}

/* The folders on disk: INBOX and every ".A.B" directory as "A/B". */
static int
list_scan(struct imap_store *st, struct names *nm)
{
	struct dirent	*de;
	const char	*errstr;
	char		 name[NAME_MAX + 1];
	size_t		 i;
	DIR		*d;
	int		 fd, rc = 0;

	if (names_add(nm, "INBOX") == -1)
		return -1;
	fd = openat(st->rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			(void)close(fd);
		return -1;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.' || de->d_name[1] == '.' ||
		    de->d_name[1] == '\0' ||
		    (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
			continue;
		for (i = 1; de->d_name[i] != '\0'; i++)
			name[i - 1] = de->d_name[i] == '.' ? '/' :
			    de->d_name[i];
		name[i - 1] = '\0';
		if (imap_folder_valid(name, &errstr) == IMAP_ST_OK &&
		    !store_is_inbox(name))
			rc = names_add(nm, name);
	}
	(void)closedir(d);
	names_sort(nm);
	return rc;
}

/* Superior names without a folder of their own ("A" of "A/B"). */
static int
list_parents(const struct names *nm, struct names *virt)
{
	char	 sup[IMAP_FOLDER_NAME_MAX_BYTES + 1];
	size_t	 i, j;

	for (i = 0; i < nm->n; i++)
		for (j = 0; nm->v[i][j] != '\0'; j++) {
			if (nm->v[i][j] != '/')
				continue;
			memcpy(sup, nm->v[i], j);
			sup[j] = '\0';
			if (!names_has(nm, sup) && names_add(virt, sup) == -1)
				return -1;
		}
	names_sort(virt);
	return 0;
}

/* <root>/subscriptions, one name a line, sorted. */
static int
subs_read(struct imap_store *st, struct names *subs)
{
	char	*buf, *p, *nl;
	size_t	 max = (size_t)IMAP_FOLDERS_MAX * (IMAP_FOLDER_NAME_MAX_BYTES + 1);
	ssize_t	 n;
	int	 fd, rc = 0;

	fd = openat(st->rootfd, IMAP_SUBS_NAME, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return errno == ENOENT ? 0 : -1;
	if ((buf = malloc(max + 1)) == NULL) {
		(void)close(fd);
		return -1;
	}
	n = read(fd, buf, max);
	(void)close(fd);
	buf[n > 0 ? n : 0] = '\0';
	for (p = buf; rc == 0 && *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			break;		/* cut short: not a name */
		*nl = '\0';
		if (*p != '\0' && strlen(p) <= IMAP_FOLDER_NAME_MAX_BYTES)
			rc = names_add(subs, p);
	}
	free(buf);
	names_sort(subs);
	return rc;
}

static unsigned int
list_special(const char *name)
{
	static const struct {
		const char	*name;
		unsigned int	 attr;
	} su[] = {
		{ "Drafts", IMAP_LA_DRAFTS }, { "Sent", IMAP_LA_SENT },
		{ "Trash", IMAP_LA_TRASH }, { "Junk", IMAP_LA_JUNK },
		{ "Archive", IMAP_LA_ARCHIVE },
	};
	size_t	 i;

	for (i = 0; i < sizeof(su) / sizeof(su[0]); i++)
		if (strcmp(name, su[i].name) == 0)
			return su[i].attr;
	return 0;
}

static int
list_out(struct imap_folder_list *fl, size_t *cap, const char *name,
    unsigned int attrs)
{
	struct imap_folder_ent	*p;

	if (fl->n == *cap) {
		*cap = *cap < 16 ? 16 : *cap * 2;
		if ((p = reallocarray(fl->v, *cap, sizeof(*p))) == NULL)
			return -1;
		fl->v = p;
	}
	(void)strlcpy(fl->v[fl->n].name, name, sizeof(fl->v[0].name));
	fl->v[fl->n++].attrs = attrs;
	return 0;
}

struct list_ctx {
	struct names	 real, virt, subs;
};

static unsigned int
list_attrs(const struct list_ctx *lc, const char *name)
{
	unsigned int	 a = 0;

	if (names_has(&lc->virt, name))
		a |= IMAP_LA_NOSELECT;
	else if (!names_has(&lc->real, name))
		a |= IMAP_LA_NONEXISTENT | IMAP_LA_NOSELECT;
	if (names_has_children(&lc->real, name))
		a |= IMAP_LA_HASCHILDREN;
	else
		a |= IMAP_LA_HASNOCHILDREN;
	if (names_has(&lc->subs, name))
		a |= IMAP_LA_SUBSCRIBED;
	return a | ((a & IMAP_LA_NOSELECT) ? 0 : list_special(name));
}

/* Appends the names of nm that match, with their attributes. */
static int
list_from(const struct list_ctx *lc, const struct names *nm,
    const struct folder_match *fm, struct imap_folder_list *fl, size_t *cap)
{
	size_t	 i;

	for (i = 0; i < nm->n; i++)
		if (folder_match(fm, nm->v[i]) &&
		    list_out(fl, cap, nm->v[i], list_attrs(lc, nm->v[i])) == -1)
			return -1;
	return 0;
}

static int
list_cmp(const void *a, const void *b)
{
	const struct imap_folder_ent	*x = a, *y = b;
	int				 xi = strcmp(x->name, "INBOX") == 0;
	int				 yi = strcmp(y->name, "INBOX") == 0;

	if (xi != yi)
		return yi - xi;
	return strcmp(x->name, y->name);
}

int
imap_folder_list(struct imap_store *st, const char *pattern,
    unsigned int opts, struct imap_folder_list *fl)
{
	struct list_ctx		 lc;
	struct folder_match	*fm;
	size_t			 cap = 0;
	int			 rc = -1;

	memset(fl, 0, sizeof(*fl));
	memset(&lc, 0, sizeof(lc));
	if ((fm = folder_match_new(pattern)) == NULL)
		return store_err(st, IMAP_ST_TOOBIG, "pattern too long");
	if (list_scan(st, &lc.real) == -1 ||
	    list_parents(&lc.real, &lc.virt) == -1 ||
	    subs_read(st, &lc.subs) == -1)
		goto out;
	if (opts & IMAP_LIST_SUBSCRIBED)
		rc = list_from(&lc, &lc.subs, fm, fl, &cap);
	else if ((rc = list_from(&lc, &lc.real, fm, fl, &cap)) == 0)
		rc = list_from(&lc, &lc.virt, fm, fl, &cap);
	if (rc == 0 && fl->n > 0)
		qsort(fl->v, fl->n, sizeof(fl->v[0]), list_cmp);
out:
	folder_match_free(fm);
	names_free(&lc.real);
	names_free(&lc.virt);
	names_free(&lc.subs);
	if (rc == -1) {
		imap_folder_list_free(fl);
		return store_errno(st, "list", "folders");
	}
	return IMAP_ST_OK;
}

void
imap_folder_list_free(struct imap_folder_list *fl)
{
	free(fl->v);
	memset(fl, 0, sizeof(*fl));
}

static int
subs_write(struct imap_store *st, const struct names *subs)
{
	char	*buf;
	size_t	 i, len = 0;
	int	 rc;

	for (i = 0; i < subs->n; i++)
		len += strlen(subs->v[i]) + 1;
	if ((buf = malloc(len + 1)) == NULL)
		return store_err(st, IMAP_ST_IO, "out of memory");
	for (i = 0, len = 0; i < subs->n; i++)
		len += (size_t)snprintf(buf + len, strlen(subs->v[i]) + 2,
		    "%s\n", subs->v[i]);
	rc = store_write_file(st->rootfd, IMAP_SUBS_NAME, buf, len);
	free(buf);
	return rc == -1 ? store_errno(st, "write", IMAP_SUBS_NAME) :
	    IMAP_ST_OK;
}

/* SUBSCRIBE (RFC 3501 6.3.6) and UNSUBSCRIBE (6.3.7). */
static int
subs_change(struct imap_store *st, const char *name, int add)
{
	struct names	 subs;
	size_t		 i;
	int		 rc;

	if (!store_is_inbox(name) &&
	    imap_folder_valid(name, &(const char *){ NULL }) != IMAP_ST_OK)
		return store_err(st, IMAP_ST_BADNAME, "bad folder name");
	if (store_is_inbox(name))
		name = "INBOX";
	memset(&subs, 0, sizeof(subs));
	if (subs_read(st, &subs) == -1) {
		names_free(&subs);
		return store_errno(st, "read", IMAP_SUBS_NAME);
	}
	i = names_lower(&subs, name);
	if ((i < subs.n && strcmp(subs.v[i], name) == 0) == add) {
		names_free(&subs);
		return IMAP_ST_OK;
	}
	if (add && (subs.n >= IMAP_FOLDERS_MAX ||
	    names_add(&subs, name) == -1))
		rc = store_err(st, IMAP_ST_TOOBIG, "too many subscriptions");
	else {
		if (!add) {
			free(subs.v[i]);
			memmove(&subs.v[i], &subs.v[i + 1],
			    (subs.n - i - 1) * sizeof(*subs.v));
			subs.n--;
		}
		names_sort(&subs);
		rc = subs_write(st, &subs);
	}
	names_free(&subs);
	return rc;
}

int
imap_folder_subscribe(struct imap_store *st, const char *name)
{
	return subs_change(st, name, 1);
}

int
imap_folder_unsubscribe(struct imap_store *st, const char *name)
{
	return subs_change(st, name, 0);
}
