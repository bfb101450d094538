/*
 * Maildir++ folders (imap_store.h, "Folders"): names, CREATE, DELETE,
 * RENAME, SUBSCRIBE.  "A/B" on the wire is the directory ".A.B" in the
 * Maildir; INBOX is the Maildir itself.  Run by the IMAP mailbox process
 * (the mail user, chrooted in the mail home, seccomp set of imapd-user)
 * and the unit tests.
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

/*
 * mUTF-7 is printable ASCII; '.' is the separator on disk, so it cannot
 * be in a name (Maildir++ has no escape for it); '*' and '%' are LIST's.
 */
int
imap_folder_valid(const char *name, const char **errstr)
{
	size_t	 i, depth = 1, len = strlen(name);

	if (len == 0 || len > IMAP_FOLDER_NAME_MAX_BYTES) {
		*errstr = "folder name empty or too long";
		return IMAP_ST_BADNAME;
	}
	for (i = 0; i < len; i++) {
		if (name[i] < 0x20 || name[i] > 0x7e || name[i] == '.' ||
		    name[i] == '*' || name[i] == '%' || name[i] == '\\') {
			*errstr = "folder name with '.', a wildcard or a "
			    "byte outside printable ASCII";
			return IMAP_ST_BADNAME;
		}
		if (name[i] == '/' && (i == 0 || i == len - 1 ||
		    name[i + 1] == '/' || ++depth > IMAP_FOLDER_DEPTH_MAX)) {
			*errstr = "empty level or too many levels in name";
			return IMAP_ST_BADNAME;
		}
	}
	return IMAP_ST_OK;
}

/* 1 when the folder's directory exists. */
int
folder_exists(struct imap_store *st, const char *name)
{
	struct stat	 sb;
	char		 dir[NAME_MAX + 1];

	if (store_is_inbox(name))
		return 1;
	if (store_folder_dir(name, dir, sizeof(dir)) == -1)
		return 0;
	return fstatat(st->rootfd, dir, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(sb.st_mode);
}

/* The directory, cur/ new/ tmp/ and maildirfolder; made or not, 0. */
int
folder_make(struct imap_store *st, const char *name)
{
	static const char	*sub[] = { "cur", "new", "tmp" };
	char			 dir[NAME_MAX + 1];
	size_t			 i;
	int			 fd, mfd;

	if (store_folder_dir(name, dir, sizeof(dir)) == -1)
		return store_err(st, IMAP_ST_BADNAME, "name too long");
	if (mkdirat(st->rootfd, dir, 0700) == -1 && errno != EEXIST)
		return store_errno(st, "mkdir", dir);
	fd = openat(st->rootfd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1)
		return store_errno(st, "open", dir);
	for (i = 0; i < sizeof(sub) / sizeof(sub[0]); i++)
		if (mkdirat(fd, sub[i], 0700) == -1 && errno != EEXIST) {
			(void)close(fd);
			return store_errno(st, "mkdir in", dir);
		}
	mfd = openat(fd, IMAP_FOLDER_MARK_NAME, O_WRONLY | O_CREAT |
	    O_CLOEXEC, 0600);
	if (mfd != -1)
		(void)close(mfd);
	(void)close(fd);
	return mfd == -1 ? store_errno(st, "create maildirfolder in", dir) :
	    IMAP_ST_OK;
}

/* Superior folders of name, made when missing (RFC 3501 6.3.3). */
static int
folder_make_parents(struct imap_store *st, const char *name)
{
	char	 sup[IMAP_FOLDER_NAME_MAX_BYTES + 1];
	size_t	 i;
	int	 rc;

	for (i = 0; name[i] != '\0'; i++) {
		if (name[i] != '/')
			continue;
		memcpy(sup, name, i);
		sup[i] = '\0';
		if (!folder_exists(st, sup) &&
		    (rc = folder_make(st, sup)) != IMAP_ST_OK)
			return rc;
	}
	return IMAP_ST_OK;
}

static int
folder_check(struct imap_store *st, const char *name)
{
	const char	*errstr;
	int		 rc;

	if (store_is_inbox(name))
		return IMAP_ST_OK;
	if ((rc = imap_folder_valid(name, &errstr)) != IMAP_ST_OK)
		return store_err(st, rc, "%s", errstr);
	return IMAP_ST_OK;
}

int
imap_folder_create(struct imap_store *st, const char *name)
{
	int	 rc;

	if ((rc = folder_check(st, name)) != IMAP_ST_OK)
		return rc;
	if (folder_exists(st, name))
		return store_err(st, IMAP_ST_ALREADYEXISTS,
		    "folder already exists");
	if ((rc = folder_make_parents(st, name)) != IMAP_ST_OK)
		return rc;
	return folder_make(st, name);
}

/* Removes every file of a directory (not subdirectories), then it. */
static void
folder_rmdir(int parent, const char *dir)
{
	struct dirent	*de;
	DIR		*d;
	int		 fd;

	fd = openat(parent, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			(void)close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(fd, de->d_name, 0) == -1 &&
		    (errno == EISDIR || errno == EPERM))
			folder_rmdir(fd, de->d_name);
	}
	(void)closedir(d);
	if (unlinkat(parent, dir, AT_REMOVEDIR) == -1)
		log_warnx("imap: %s not removed: %s", dir, strerror(errno));
}

/*
 * RFC 3501 6.3.4.  The directory is renamed aside first, so readers see
 * the folder whole or not at all; children (".A.B" of ".A") are other
 * directories and stay, with "A" now a \Noselect name above them.
 */
int
imap_folder_delete(struct imap_store *st, const char *name)
{
	char	 dir[NAME_MAX + 1], aside[NAME_MAX + 1];
	int	 rc, n;

	if ((rc = folder_check(st, name)) != IMAP_ST_OK)
		return rc;
	if (store_is_inbox(name))
		return store_err(st, IMAP_ST_NOPERM, "INBOX cannot be deleted");
	if (!folder_exists(st, name))
		return store_err(st, IMAP_ST_NONEXISTENT, "no such folder");
	if (store_folder_dir(name, dir, sizeof(dir)) == -1)
		return store_err(st, IMAP_ST_BADNAME, "name too long");
	n = snprintf(aside, sizeof(aside), "%s%08x", IMAP_TRASHED_PREFIX,
	    arc4random());
	if (n < 0 || (size_t)n >= sizeof(aside))
		return store_err(st, IMAP_ST_IO, "name too long");
	if (renameat(st->rootfd, dir, st->rootfd, aside) == -1)
		return store_errno(st, "rename", dir);
	folder_rmdir(st->rootfd, aside);
	return IMAP_ST_OK;
}

/* Whether "name/..." folders exist (name may be a \Noselect parent). */
static int
folder_has_children(struct imap_store *st, const char *name)
{
	struct imap_folder_list	 fl;
	char			 pat[IMAP_FOLDER_NAME_MAX_BYTES + 3];
	int			 n;

	(void)snprintf(pat, sizeof(pat), "%s/*", name);
	if (imap_folder_list(st, pat, 0, &fl) != IMAP_ST_OK)
		return 0;
	n = fl.n > 0;
	imap_folder_list_free(&fl);
	return n;
}

/* The folders at and under from, each renamed to its place under to. */
static int
folder_rename_tree(struct imap_store *st, const char *from, const char *to)
{
	struct imap_folder_list	 fl;
	char			 pat[IMAP_FOLDER_NAME_MAX_BYTES + 3];
	char			 nn[IMAP_PATTERN_MAX_BYTES + 1];
	char			 od[NAME_MAX + 1], nd[NAME_MAX + 1];
	size_t			 i, fromlen = strlen(from);
	int			 rc;

	(void)snprintf(pat, sizeof(pat), "%s/*", from);
	if ((rc = imap_folder_list(st, pat, 0, &fl)) != IMAP_ST_OK)
		return rc;
	for (i = 0; i <= fl.n && rc == IMAP_ST_OK; i++) {
		const char *on = i < fl.n ? fl.v[i].name : from;

		if (i < fl.n && (fl.v[i].attrs & IMAP_LA_NOSELECT))
			continue;
		if (i == fl.n && !folder_exists(st, from))
			break;
		if (snprintf(nn, sizeof(nn), "%s%s", to, on + fromlen) >=
		    (int)sizeof(nn) || strlen(nn) > IMAP_FOLDER_NAME_MAX_BYTES ||
		    store_folder_dir(on, od, sizeof(od)) == -1 ||
		    store_folder_dir(nn, nd, sizeof(nd)) == -1)
			rc = store_err(st, IMAP_ST_BADNAME, "name too long");
		else if (renameat2(st->rootfd, od, st->rootfd, nd,
		    RENAME_NOREPLACE) == -1)
			rc = errno == EEXIST ? store_err(st,
			    IMAP_ST_ALREADYEXISTS, "%s exists", nn) :
			    store_errno(st, "rename", od);
	}
	imap_folder_list_free(&fl);
	return rc;
}

int
imap_folder_rename(struct imap_store *st, const char *from, const char *to)
{
	struct imap_mbox	*mb;
	size_t			 fl = strlen(from);
	int			 rc;

	if ((rc = folder_check(st, from)) != IMAP_ST_OK ||
	    (rc = folder_check(st, to)) != IMAP_ST_OK)
		return rc;
	if (store_is_inbox(to) || folder_exists(st, to))
		return store_err(st, IMAP_ST_ALREADYEXISTS,
		    "folder already exists");
	if (!store_is_inbox(from) && strncmp(to, from, fl) == 0 &&
	    to[fl] == '/')
		return store_err(st, IMAP_ST_BADNAME,
		    "a folder cannot move under itself");
	if ((rc = folder_make_parents(st, to)) != IMAP_ST_OK)
		return rc;
	if (!store_is_inbox(from)) {
		if (!folder_exists(st, from) && !folder_has_children(st, from))
			return store_err(st, IMAP_ST_NONEXISTENT,
			    "no such folder");
		return folder_rename_tree(st, from, to);
	}
	/* RFC 3501 6.3.5: INBOX's messages move; INBOX stays, empty. */
	if ((rc = folder_make(st, to)) != IMAP_ST_OK)
		return rc;
	if ((rc = imap_mbox_open(st, "INBOX", 0, &mb)) != IMAP_ST_OK)
		return rc;
	rc = append_move_all(mb, to);
	imap_mbox_close(mb);
	return rc;
}
