/*
 * What the unit tests of the IMAP store (test_imap_store*.c) share: a
 * temporary Maildir, files put in it as a delivery agent or another
 * Maildir program would, and the store opened on it.
 */
#ifndef TEST_IMAP_STORE_H
#define TEST_IMAP_STORE_H

#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "../../imapd/imap_store.h"

static char	 ts_root[64];
static char	 ts_maildir[128];
static struct imap_store *ts_st;

static inline void
ts_path(char *dst, size_t len, const char *rel)
{
	cr_assert((size_t)snprintf(dst, len, "%s/%s", ts_maildir, rel) < len);
}

/* Writes a file at rel (relative to the Maildir). */
static inline void
ts_put(const char *rel, const char *text)
{
	char	 path[512];
	FILE	*fp;

	ts_path(path, sizeof(path), rel);
	cr_assert_not_null(fp = fopen(path, "w"), "%s", path);
	cr_assert(fputs(text, fp) >= 0);
	cr_assert(fclose(fp) == 0);
}

static inline int
ts_exists(const char *rel)
{
	char	 path[512];

	ts_path(path, sizeof(path), rel);
	return access(path, F_OK) == 0;
}

/* Files in a directory of the Maildir, dot files left out. */
static inline int
ts_count(const char *rel)
{
	struct dirent	*de;
	char		 path[512];
	DIR		*d;
	int		 n = 0;

	ts_path(path, sizeof(path), rel);
	cr_assert_not_null(d = opendir(path), "%s", path);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	(void)closedir(d);
	return n;
}

static inline void
ts_rm(const char *rel)
{
	char	 path[512];

	ts_path(path, sizeof(path), rel);
	cr_assert(unlink(path) == 0, "%s", path);
}

static inline void
ts_setup(void)
{
	const char	*err = NULL;

	(void)strlcpy(ts_root, "/tmp/imap-store.XXXXXX", sizeof(ts_root));
	cr_assert_not_null(mkdtemp(ts_root));
	(void)snprintf(ts_maildir, sizeof(ts_maildir), "%s/Maildir", ts_root);
	ts_st = imap_store_open(ts_maildir, &err);
	cr_assert_not_null(ts_st, "%s", err);
}

static inline void
ts_teardown(void)
{
	char	 cmd[128];

	imap_store_close(ts_st);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", ts_root);
	cr_expect_eq(system(cmd), 0, "%s", cmd);
}

static inline struct imap_mbox *
ts_open(const char *name, unsigned int flags)
{
	struct imap_mbox	*mb = NULL;
	int			 rc;

	rc = imap_mbox_open(ts_st, name, flags, &mb);
	cr_assert_eq(rc, IMAP_ST_OK, "open %s: %d %s", name, rc,
	    imap_store_error(ts_st));
	return mb;
}

static inline void
ts_sync(struct imap_mbox *mb, unsigned int flags, struct imap_sync *sync)
{
	cr_assert_eq(imap_mbox_sync(mb, flags, sync), IMAP_ST_OK, "%s",
	    imap_store_error(ts_st));
}

/* The permanent flags of message i of folder, opened anew. */
static inline unsigned int
ts_flags_of(const char *folder, uint32_t i)
{
	struct imap_mbox	*mb = ts_open(folder, IMAP_OPEN_READONLY);
	unsigned int		 fl;

	cr_assert_lt(i, imap_mbox_count(mb));
	fl = imap_mbox_msg(mb, i)->flags & IMAP_F_PERMANENT;
	imap_mbox_close(mb);
	return fl;
}

/* An APPEND of text with flags; its UID. */
static inline uint32_t
ts_append(const char *folder, const char *text, unsigned int flags,
    time_t idate)
{
	struct imap_append	*ap;
	uint32_t		 uidv, uid;

	cr_assert_eq(imap_append_begin(ts_st, folder, strlen(text), 0, &ap),
	    IMAP_ST_OK, "%s", imap_store_error(ts_st));
	cr_assert_eq(imap_append_write(ap, text, strlen(text)), IMAP_ST_OK);
	cr_assert_eq(imap_append_commit(ap, flags, idate, &uidv, &uid),
	    IMAP_ST_OK, "%s", imap_store_error(ts_st));
	return uid;
}

#endif
