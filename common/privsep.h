/*
 * Dropping privileges, and checking that the drop took.  Every function
 * here either succeeds completely or ends the process: a process that is
 * not sure of its own privileges must not go on.
 */
#ifndef SALLYPORT_PRIVSEP_H
#define SALLYPORT_PRIVSEP_H

#include <sys/types.h>

/* Looks up a user name; fatal when it does not exist or is root. */
void	privsep_lookup(const char *user, uid_t *uid, gid_t *gid);
/*
 * chroot(2) into root (unless NULL), then become uid/gid with no other
 * groups, and verify from the kernel's answers that all of it took.
 * fatal on any failure.
 */
void	privsep_drop(uid_t uid, gid_t gid, const char *root);
/* As privsep_drop, keeping one supplementary group (-1 for none). */
void	privsep_drop_groups(uid_t uid, gid_t gid, gid_t extra,
	    const char *root);
/* 0 when the process runs as exactly uid/gid (real, effective, saved). */
int	privsep_check(uid_t uid, gid_t gid);

#endif
