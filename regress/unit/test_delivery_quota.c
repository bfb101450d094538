/*
 * The mailbox worker's quota check (queued/delivery_user_quota.c): the
 * usage summed over INBOX and the Maildir++ folders, from the W=, S=
 * or on-disk sizes, kept for a while with the worker's own deliveries
 * added.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../queued/delivery.h"

static char	 qdir[64];
static char	 maildir[128];

static void
quota_setup(void)
{
	(void)strlcpy(qdir, "/tmp/sallyport-quota-XXXXXX", sizeof(qdir));
	cr_assert_not_null(mkdtemp(qdir));
	(void)snprintf(maildir, sizeof(maildir), "%s/Maildir", qdir);
	delivery_user_quota_forget();
}

static void
quota_teardown(void)
{
	char	 cmd[256];

	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", qdir);
	cr_expect_eq(system(cmd), 0, "%s", cmd);
}

static void
mkdirs(const char *sub)
{
	char	 path[512];

	(void)snprintf(path, sizeof(path), "%s/%s", maildir, sub);
	cr_assert_eq(mkdir(path, 0700), 0, "%s", path);
}

/* A file of len bytes at <maildir>/<sub>/<name>. */
static void
put(const char *sub, const char *name, size_t len)
{
	char	 path[512], buf[4096];
	int	 fd;

	cr_assert_leq(len, sizeof(buf));
	memset(buf, 'x', len);
	(void)snprintf(path, sizeof(path), "%s/%s/%s", maildir, sub, name);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	cr_assert_geq(fd, 0, "%s", path);
	cr_assert_eq(write(fd, buf, len), (ssize_t)len);
	(void)close(fd);
}

static void
layout(void)
{
	cr_assert_eq(mkdir(maildir, 0700), 0);
	mkdirs("new");
	mkdirs("cur");
	mkdirs("tmp");
	mkdirs(".Sent");
	mkdirs(".Sent/cur");
	mkdirs("..sallyport-deleted.1");
	mkdirs("..sallyport-deleted.1/cur");
	/* The W= size counts, then S=, then the file's. */
	put("new", "1.M1P1.h,S=90,W=100", 10);
	put("cur", "2.M1P1.h,S=200:2,S", 10);
	put("cur", "3.M1P1.h:2,", 300);
	put(".Sent/cur", "4.M1P1.h,S=400,W=400:2,S", 10);
	/* Not counted: tmp/, a folder being deleted. */
	put("tmp", "5.M1P1.h,S=5000", 10);
	put("..sallyport-deleted.1/cur", "6.M1P1.h,S=7000", 10);
}

Test(delivery_quota, none_is_unlimited, .init = quota_setup,
    .fini = quota_teardown)
{
	char	 out[256] = "";

	/* No Maildir at all and no quota: never looked at. */
	cr_assert_eq(delivery_user_quota(maildir, 0, 1ULL << 40, out,
	    sizeof(out)), 0);
	cr_assert_str_eq(out, "");
}

Test(delivery_quota, sum_and_limit, .init = quota_setup,
    .fini = quota_teardown)
{
	char	 out[256] = "";

	layout();
	/* 100 + 200 + 300 + 400 = 1000 in use. */
	cr_assert_eq(delivery_user_quota(maildir, 1100, 100, out,
	    sizeof(out)), 0, "%s", out);
	cr_assert_eq(delivery_user_quota(maildir, 1100, 101, out,
	    sizeof(out)), 1);
	cr_assert_str_eq(out, "4.2.2 mailbox full: 1000 of 1100 bytes in "
	    "use, message of 101");
}

Test(delivery_quota, cached_and_added, .init = quota_setup,
    .fini = quota_teardown)
{
	char	 out[256] = "";

	layout();
	cr_assert_eq(delivery_user_quota(maildir, 2000, 0, out, sizeof(out)),
	    0);
	/* Another process's message is not seen while the sum is kept... */
	put("new", "7.M1P1.h,S=900", 10);
	cr_assert_eq(delivery_user_quota(maildir, 2000, 1000, out,
	    sizeof(out)), 0);
	/* ...but this worker's own deliveries are. */
	delivery_user_quota_add(500);
	cr_assert_eq(delivery_user_quota(maildir, 2000, 501, out,
	    sizeof(out)), 1);
	cr_assert_str_eq(out, "4.2.2 mailbox full: 1500 of 2000 bytes in "
	    "use, message of 501");
	/* Measured again: 1900 on the disk. */
	delivery_user_quota_forget();
	cr_assert_eq(delivery_user_quota(maildir, 2000, 100, out,
	    sizeof(out)), 0);
	cr_assert_eq(delivery_user_quota(maildir, 2000, 101, out,
	    sizeof(out)), 1);
}

Test(delivery_quota, missing_maildir_is_empty, .init = quota_setup,
    .fini = quota_teardown)
{
	char	 out[256] = "";

	cr_assert_eq(delivery_user_quota(maildir, 100, 100, out,
	    sizeof(out)), 0);
	cr_assert_eq(delivery_user_quota(maildir, 100, 101, out,
	    sizeof(out)), 1);
}
