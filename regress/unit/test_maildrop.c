/*
 * pop3d/pop3_maildrop.c and pop3_sizecache.c on a temporary Maildir:
 * new/ and cur/ served together, retrieved messages moved to cur/,
 * delivery order, sizes with CRLF counted, unique-ids
 * stable across sessions, the size cache, the lock, and deletion in the
 * UPDATE state only.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "../../pop3d/pop3d.h"

static char	 root[64];
static char	 maildir[128];

static void
put(const char *sub, const char *name, const char *text)
{
	char	 path[512];
	FILE	*fp;

	(void)snprintf(path, sizeof(path), "%s/%s/%s", maildir, sub, name);
	cr_assert_not_null(fp = fopen(path, "w"), "%s", path);
	cr_assert(fputs(text, fp) >= 0);
	cr_assert(fclose(fp) == 0);
}

static int
exists(const char *sub, const char *name)
{
	char	 path[512];

	(void)snprintf(path, sizeof(path), "%s/%s/%s", maildir, sub, name);
	return access(path, F_OK) == 0;
}

static void
setup(void)
{
	char	 path[256];

	(void)strlcpy(root, "/tmp/pop3-maildrop.XXXXXX", sizeof(root));
	cr_assert_not_null(mkdtemp(root));
	(void)snprintf(maildir, sizeof(maildir), "%s/Maildir", root);
	cr_assert(mkdir(maildir, 0700) == 0);
	(void)snprintf(path, sizeof(path), "%s/new", maildir);
	cr_assert(mkdir(path, 0700) == 0);
	(void)snprintf(path, sizeof(path), "%s/cur", maildir);
	cr_assert(mkdir(path, 0700) == 0);
	(void)snprintf(path, sizeof(path), "%s/tmp", maildir);
	cr_assert(mkdir(path, 0700) == 0);
	/* Delivered in this order: usecs 5 before usecs 123. */
	put("cur", "999.M1P1Q1.h,S=3:2,S", "xyz");
	put("new", "1000.M5P1Q1.h,S=4", "a\nb\n");
	put("new", "1000.M123P1Q2.h,S=3", "..\n");
}

static void
teardown(void)
{
	char	 cmd[128];

	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	cr_expect_eq(system(cmd), 0, "%s", cmd);
}

static void
open_ok(struct maildrop *md)
{
	const char	*err;

	cr_assert_eq(maildrop_open(md, maildir, 1, &err), MAILDROP_OK,
	    "%s", err ? err : "");
}

TestSuite(maildrop, .init = setup, .fini = teardown);

Test(maildrop, scan)
{
	struct maildrop		 md;
	struct maildrop_msg	*m;

	open_ok(&md);
	cr_assert_eq(md.nmsgs, 3);
	/* Delivery order, usecs compared as numbers. */
	m = maildrop_get(&md, 1);
	cr_assert_str_eq(m->uidl, "999.M1P1Q1.h,S=3");
	cr_assert_str_eq(m->name, "999.M1P1Q1.h,S=3:2,S");
	cr_assert_eq(m->size, 5);		/* "xyz\r\n" */
	m = maildrop_get(&md, 2);
	cr_assert_str_eq(m->uidl, "1000.M5P1Q1.h,S=4");
	cr_assert_str_eq(m->name, "1000.M5P1Q1.h,S=4");
	cr_assert(m->innew);
	cr_assert_eq(m->size, 6);		/* "a\r\nb\r\n" */
	m = maildrop_get(&md, 3);
	cr_assert_str_eq(m->uidl, "1000.M123P1Q2.h,S=3");
	cr_assert_eq(m->size, 4);		/* "..\r\n", unstuffed */
	cr_assert_eq(md.total, 15);
	cr_assert_null(maildrop_get(&md, 0));
	cr_assert_null(maildrop_get(&md, 4));
	/* Nothing moved at login; a message retrieved goes to cur/. */
	cr_assert(exists("new", "1000.M5P1Q1.h,S=4"));
	maildrop_seen(&md, maildrop_get(&md, 2));
	cr_assert(!exists("new", "1000.M5P1Q1.h,S=4"));
	cr_assert(exists("cur", "1000.M5P1Q1.h,S=4:2,"));
	cr_assert_str_eq(maildrop_get(&md, 2)->name, "1000.M5P1Q1.h,S=4:2,");
	cr_assert(!maildrop_get(&md, 2)->innew);
	maildrop_close(&md);
}

/*
 * Some messages in new/, some in cur/, one moved between sessions: the
 * same list and unique-ids every time, and a deletion from either.
 */
Test(maildrop, new_and_cur_across_sessions)
{
	struct maildrop	 md;
	size_t		 failed;

	open_ok(&md);
	cr_assert_eq(md.nmsgs, 3);
	maildrop_seen(&md, maildrop_get(&md, 3));
	maildrop_close(&md);
	cr_assert(exists("cur", "1000.M123P1Q2.h,S=3:2,"));
	cr_assert(exists("new", "1000.M5P1Q1.h,S=4"));

	open_ok(&md);
	cr_assert_eq(md.nmsgs, 3);
	cr_assert_str_eq(maildrop_get(&md, 1)->uidl, "999.M1P1Q1.h,S=3");
	cr_assert_str_eq(maildrop_get(&md, 2)->uidl, "1000.M5P1Q1.h,S=4");
	cr_assert(maildrop_get(&md, 2)->innew);
	cr_assert_str_eq(maildrop_get(&md, 3)->uidl, "1000.M123P1Q2.h,S=3");
	cr_assert(!maildrop_get(&md, 3)->innew);
	cr_assert_eq(md.total, 15);
	maildrop_mark(&md, maildrop_get(&md, 2));
	maildrop_mark(&md, maildrop_get(&md, 3));
	cr_assert_eq(maildrop_update(&md, &failed), 2);
	cr_assert_eq(failed, 0);
	maildrop_close(&md);
	cr_assert(!exists("new", "1000.M5P1Q1.h,S=4"));
	cr_assert(!exists("cur", "1000.M123P1Q2.h,S=3:2,"));

	open_ok(&md);
	cr_assert_eq(md.nmsgs, 1);
	maildrop_close(&md);
}

/*
 * A move by link and unlink cut short (older versions): one file as
 * new/X and cur/X:2, is served once, and its new/ link goes.  Two
 * different files with one base name are not merged.
 */
Test(maildrop, half_moved)
{
	struct maildrop	 md;
	char		 from[256], to[256];

	(void)snprintf(from, sizeof(from), "%s/new/1000.M5P1Q1.h,S=4",
	    maildir);
	(void)snprintf(to, sizeof(to), "%s/cur/1000.M5P1Q1.h,S=4:2,",
	    maildir);
	cr_assert(link(from, to) == 0);
	put("cur", "1000.M123P1Q2.h,S=3:2,", "..\n");
	open_ok(&md);
	cr_assert_eq(md.nmsgs, 3);
	cr_assert_str_eq(maildrop_get(&md, 2)->name, "1000.M5P1Q1.h,S=4:2,");
	cr_assert(!maildrop_get(&md, 2)->innew);
	cr_assert(!exists("new", "1000.M5P1Q1.h,S=4"));
	/* Not one file: both stay, one is served. */
	cr_assert(exists("new", "1000.M123P1Q2.h,S=3"));
	cr_assert(exists("cur", "1000.M123P1Q2.h,S=3:2,"));
	/* The retrieved one is not moved over the other. */
	maildrop_seen(&md, maildrop_get(&md, 3));
	cr_assert(exists("new", "1000.M123P1Q2.h,S=3"));
	maildrop_close(&md);
}

Test(maildrop, uidl_stable_and_cached)
{
	struct maildrop	 md;
	char		 first[3][POP3_UIDL_MAX_BYTES + 1];
	char		 from[256], to[256];
	size_t		 i;

	open_ok(&md);
	cr_assert_eq(md.cache_hits, 0);
	for (i = 0; i < 3; i++)
		(void)strlcpy(first[i], md.msgs[i].uidl, sizeof(first[i]));
	maildrop_close(&md);
	/* A client changed flags meanwhile: the base name stays. */
	(void)snprintf(from, sizeof(from), "%s/cur/999.M1P1Q1.h,S=3:2,S",
	    maildir);
	(void)snprintf(to, sizeof(to), "%s/cur/999.M1P1Q1.h,S=3:2,RS",
	    maildir);
	cr_assert(rename(from, to) == 0);
	open_ok(&md);
	cr_assert_eq(md.nmsgs, 3);
	cr_assert_eq(md.cache_hits, 3);
	for (i = 0; i < 3; i++)
		cr_assert_str_eq(md.msgs[i].uidl, first[i]);
	cr_assert_eq(md.total, 15);
	maildrop_close(&md);
}

Test(maildrop, cache_ignored_when_broken)
{
	struct maildrop	 md;
	char		 path[256];
	FILE		*fp;

	(void)snprintf(path, sizeof(path), "%s/%s", maildir,
	    POP3_SIZECACHE_NAME);
	cr_assert_not_null(fp = fopen(path, "w"));
	(void)fputs("sallyport-pop3-sizes 1\n3 999 999.M1P1Q1.h,S=3\n"
	    "-4 6 1000.M5P1Q1.h,S=4\n", fp);
	(void)fclose(fp);
	open_ok(&md);
	cr_assert_eq(md.cache_hits, 0);
	cr_assert_eq(md.msgs[0].size, 5);
	maildrop_close(&md);
	/* Rewritten: now all three hit. */
	open_ok(&md);
	cr_assert_eq(md.cache_hits, 3);
	maildrop_close(&md);
}

/*
 * A session that died while it read the cache left it renamed aside:
 * the next one throws it away (here its sizes are wrong, as a cache
 * that crashed its reader may be) and measures again, then writes a
 * new one that the session after it uses.
 */
Test(maildrop, cache_left_by_dead_session)
{
	struct maildrop	 md;
	char		 path[256];
	FILE		*fp;

	(void)snprintf(path, sizeof(path), "%s/%s.busy", maildir,
	    POP3_SIZECACHE_NAME);
	cr_assert_not_null(fp = fopen(path, "w"));
	(void)fputs("sallyport-pop3-sizes 1\n3 999 999.M1P1Q1.h,S=3\n", fp);
	(void)fclose(fp);
	open_ok(&md);
	cr_assert_eq(md.cache_hits, 0);
	cr_assert_eq(md.msgs[0].size, 5);
	maildrop_close(&md);
	cr_assert(access(path, F_OK) == -1, "the dead session's cache stayed");
	open_ok(&md);
	cr_assert_eq(md.cache_hits, 3);
	cr_assert_eq(md.msgs[0].size, 5);
	maildrop_close(&md);
	/* Taken and put back: no copy left aside by a session that lived. */
	cr_assert(access(path, F_OK) == -1);
	(void)snprintf(path, sizeof(path), "%s/%s", maildir,
	    POP3_SIZECACHE_NAME);
	cr_assert(access(path, F_OK) == 0);
}

Test(maildrop, cache_checks_size_on_disk)
{
	struct maildrop	 md;
	char		 path[256];
	FILE		*fp;

	(void)snprintf(path, sizeof(path), "%s/%s", maildir,
	    POP3_SIZECACHE_NAME);
	cr_assert_not_null(fp = fopen(path, "w"));
	(void)fputs("sallyport-pop3-sizes 1\n2 999 999.M1P1Q1.h,S=3\n", fp);
	(void)fclose(fp);
	open_ok(&md);
	cr_assert_eq(md.msgs[0].size, 5);
	maildrop_close(&md);
}

Test(maildrop, lock)
{
	struct maildrop	 a, b;
	const char	*err;

	open_ok(&a);
	cr_assert_eq(maildrop_open(&b, maildir, 2, &err), MAILDROP_BUSY);
	maildrop_close(&a);
	open_ok(&b);
	maildrop_close(&b);
}

Test(maildrop, delete_on_update_only)
{
	struct maildrop	 md;
	size_t		 failed;

	open_ok(&md);
	maildrop_mark(&md, maildrop_get(&md, 1));
	cr_assert_eq(md.ndeleted, 1);
	cr_assert_eq(md.deleted_size, 5);
	/* A session that ends without QUIT deletes nothing. */
	maildrop_close(&md);
	cr_assert(exists("cur", "999.M1P1Q1.h,S=3:2,S"));

	open_ok(&md);
	maildrop_mark(&md, maildrop_get(&md, 2));
	maildrop_mark(&md, maildrop_get(&md, 2));
	cr_assert_eq(md.ndeleted, 1);
	cr_assert_eq(maildrop_unmark_all(&md), 1);
	cr_assert_eq(maildrop_update(&md, &failed), 0);
	cr_assert_eq(failed, 0);
	maildrop_mark(&md, maildrop_get(&md, 1));
	maildrop_mark(&md, maildrop_get(&md, 3));
	cr_assert_eq(maildrop_update(&md, &failed), 2);
	cr_assert_eq(failed, 0);
	maildrop_close(&md);
	cr_assert(!exists("cur", "999.M1P1Q1.h,S=3:2,S"));
	cr_assert(!exists("cur", "1000.M123P1Q2.h,S=3:2,"));

	open_ok(&md);
	cr_assert_eq(md.nmsgs, 1);
	cr_assert_str_eq(md.msgs[0].uidl, "1000.M5P1Q1.h,S=4");
	maildrop_close(&md);
}

/*
 * The lock goes with the UPDATE state, before QUIT is answered: a client
 * logging in again at once does not find it held by a process that is
 * still on its way out.
 */
Test(maildrop, unlocked_by_update)
{
	struct maildrop	 a, b;
	const char	*err;
	size_t		 failed;

	open_ok(&a);
	cr_assert_eq(maildrop_open(&b, maildir, 2, &err), MAILDROP_BUSY);
	maildrop_mark(&a, maildrop_get(&a, 1));
	cr_assert_eq(maildrop_update(&a, &failed), 1);
	open_ok(&b);
	cr_assert_eq(b.nmsgs, 2);
	maildrop_close(&b);
	maildrop_close(&a);
}

/* Another client renamed the file (new flags) during the session. */
Test(maildrop, renamed_meanwhile)
{
	struct maildrop	 md;
	char		 from[256], to[256], buf[8];
	size_t		 failed;
	int		 fd;

	open_ok(&md);
	maildrop_seen(&md, maildrop_get(&md, 2));
	(void)snprintf(from, sizeof(from), "%s/cur/1000.M5P1Q1.h,S=4:2,",
	    maildir);
	(void)snprintf(to, sizeof(to), "%s/cur/1000.M5P1Q1.h,S=4:2,S",
	    maildir);
	cr_assert(rename(from, to) == 0);
	fd = maildrop_msg_open(&md, maildrop_get(&md, 2));
	cr_assert(fd != -1);
	cr_assert(read(fd, buf, sizeof(buf)) == 4);
	(void)close(fd);
	maildrop_mark(&md, maildrop_get(&md, 2));
	cr_assert_eq(maildrop_update(&md, &failed), 1);
	maildrop_close(&md);
	cr_assert(access(to, F_OK) == -1);
}

Test(maildrop, missing_maildir_is_created)
{
	struct maildrop	 md;
	const char	*err;
	char		 path[256];

	(void)snprintf(path, sizeof(path), "%s/Other", root);
	cr_assert_eq(maildrop_open(&md, path, 3, &err), MAILDROP_OK);
	cr_assert_eq(md.nmsgs, 0);
	cr_assert_eq(md.total, 0);
	maildrop_close(&md);
}

Test(maildrop, duplicates_and_odd_names)
{
	struct maildrop	 md;
	char		 longname[200];

	put("cur", "5.A:2,", "one\n");
	put("cur", "5.A:2,S", "one\n");
	put("cur", ".hidden", "x\n");
	memset(longname, 'z', 100);
	(void)strlcpy(longname + 100, ":2,", sizeof(longname) - 100);
	longname[0] = '6';
	longname[1] = '.';
	put("cur", longname, "long\n");
	open_ok(&md);
	/* Three from setup, one of the two "5.A", the long name. */
	cr_assert_eq(md.nmsgs, 5);
	cr_assert_str_eq(md.msgs[0].uidl, "5.A");
	cr_assert_eq(md.msgs[1].uidl[0], 'X');
	cr_assert_eq(strlen(md.msgs[1].uidl), 33);
	maildrop_close(&md);
}
