/*
 * Privilege drop for every sallyport process: chroot, setgroups,
 * setresgid, setresuid, each checked afterwards against what the kernel
 * reports, because a drop that silently failed is worse than none.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "privsep.h"

void
privsep_lookup(const char *user, uid_t *uid, gid_t *gid)
{
	struct passwd	*pw;

	errno = 0;
	if ((pw = getpwnam(user)) == NULL)
		fatalx("privsep unknown-user user=%s", user);
	if (pw->pw_uid == 0 || pw->pw_gid == 0)
		fatalx("privsep refused user=%s reason=root", user);
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
}

int
privsep_check(uid_t uid, gid_t gid)
{
	uid_t	 ru, eu, su;
	gid_t	 rg, eg, sg;

	if (getresuid(&ru, &eu, &su) == -1 || getresgid(&rg, &eg, &sg) == -1)
		return -1;
	if (ru != uid || eu != uid || su != uid)
		return -1;
	if (rg != gid || eg != gid || sg != gid)
		return -1;
	return 0;
}

static void
privsep_verify_groups(gid_t gid, gid_t extra)
{
	gid_t	 groups[4];
	int	 n, i;

	if ((n = getgroups(4, groups)) == -1)
		fatal("privsep getgroups");
	for (i = 0; i < n; i++)
		if (groups[i] != gid && groups[i] != extra)
			fatalx("privsep drop-failed what=groups gid=%ld",
			    (long)groups[i]);
	if (n > 2)
		fatalx("privsep drop-failed what=groups count=%d", n);
}

static void
privsep_chroot(const char *root)
{
	struct stat	 before, after;

	if (stat(root, &before) == -1)
		fatal("privsep stat %s", root);
	if (chroot(root) == -1)
		fatal("privsep chroot %s", root);
	if (chdir("/") == -1)
		fatal("privsep chdir /");
	if (stat("/", &after) == -1)
		fatal("privsep stat /");
	if (before.st_dev != after.st_dev || before.st_ino != after.st_ino)
		fatalx("privsep drop-failed what=chroot root=%s", root);
}

void
privsep_drop_groups(uid_t uid, gid_t gid, gid_t extra, const char *root)
{
	gid_t	 groups[2];
	int	 ngroups = 1;

	if (uid == 0 || gid == 0)
		fatalx("privsep refused reason=drop-to-root");
	if (root != NULL)
		privsep_chroot(root);
	groups[0] = gid;
	if (extra != (gid_t)-1 && extra != gid)
		groups[ngroups++] = extra;
	if (setgroups(ngroups, groups) == -1)
		fatal("privsep setgroups");
	if (setresgid(gid, gid, gid) == -1)
		fatal("privsep setresgid");
	if (setresuid(uid, uid, uid) == -1)
		fatal("privsep setresuid");
	if (privsep_check(uid, gid) == -1)
		fatalx("privsep drop-failed what=ids uid=%ld", (long)uid);
	privsep_verify_groups(gid, extra);
	/* The way back must be closed too. */
	if (setuid(0) != -1 || seteuid(0) != -1)
		fatalx("privsep drop-failed what=regain-root");
}

void
privsep_drop(uid_t uid, gid_t gid, const char *root)
{
	privsep_drop_groups(uid, gid, (gid_t)-1, root);
}
