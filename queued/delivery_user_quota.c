/*
 * Does the message fit the user's quota?  Runs in a mailbox worker, as
 * the mailbox owner, under SANDBOX_MAILBOX (openat, getdents64 and
 * newfstatat are in it); the quota comes from authd through the agent
 * (the users table's quota=SIZE, 0: none).
 *
 * Usage is what imapd's store counts (imap_store_usage): every message
 * of every folder, INBOX's new/ and cur/ and those of each Maildir++
 * folder (".Sent", ".Archive.2026"; "..sallyport-deleted.*", a folder
 * being deleted, is not one).  A message counts its W= size (CRLF line
 * ends, RFC822.SIZE) from its name, else its S= size, else its size on
 * disk.  The sum is kept for DELIVERY_QUOTA_CACHE_SECS and this worker's
 * own deliveries are added to it meanwhile: what an IMAP session or
 * another worker adds in those seconds is seen late, so a quota can be
 * passed by that much (as imapd's can).  A worker serves one mail home,
 * so one sum.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "delivery.h"
#include "maildir.h"

static struct {
	time_t		 at;		/* CLOCK_MONOTONIC secs; 0: none */
	uint64_t	 bytes;
} delivery_usage;

static time_t
delivery_quota_now(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return ts.tv_sec + 1;	/* never 0 */
}

/* One message's size: W=, S=, or the file's. */
static uint64_t
delivery_quota_size(int dfd, const char *name)
{
	struct stat	 st;
	uint64_t	 v;

	if (maildir_name_size(name, 'W', &v) == 0 ||
	    maildir_name_size(name, 'S', &v) == 0)
		return v;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
	    !S_ISREG(st.st_mode))
		return 0;
	return (uint64_t)st.st_size;
}

/* Adds the messages of <mfd>/<folder>/<sub> to *bytes.  0 or -1. */
static int
delivery_quota_dir(int mfd, const char *folder, const char *sub,
    uint64_t *bytes)
{
	char		 path[PATH_MAX];
	struct dirent	*de;
	DIR		*dir;
	int		 fd, n;

	n = snprintf(path, sizeof(path), "%s/%s", folder, sub);
	if (n < 0 || (size_t)n >= sizeof(path))
		return errno = ENAMETOOLONG, -1;
	if ((fd = openat(mfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	if ((dir = fdopendir(fd)) == NULL) {
		(void)close(fd);
		return -1;
	}
	while ((de = readdir(dir)) != NULL)
		if (de->d_name[0] != '.')
			*bytes += delivery_quota_size(fd, de->d_name);
	(void)closedir(dir);
	return 0;
}

/* The sum over INBOX and every folder of the Maildir at maildir. */
static int
delivery_quota_measure(const char *maildir, uint64_t *bytes)
{
	struct dirent	*de;
	DIR		*dir;
	size_t		 nfolders = 0;
	int		 r = 0;

	*bytes = 0;
	if ((dir = opendir(maildir)) == NULL)
		return errno == ENOENT ? 0 : -1;
	if (delivery_quota_dir(dirfd(dir), ".", "new", bytes) == -1 ||
	    delivery_quota_dir(dirfd(dir), ".", "cur", bytes) == -1)
		r = -1;
	while (r == 0 && (de = readdir(dir)) != NULL) {
		if (de->d_name[0] != '.' || de->d_name[1] == '.' ||
		    de->d_name[1] == '\0')
			continue;
		if (++nfolders > DELIVERY_QUOTA_FOLDERS_MAX) {
			r = -1;
			errno = EMLINK;
			break;
		}
		if (delivery_quota_dir(dirfd(dir), de->d_name, "new",
		    bytes) == -1 || delivery_quota_dir(dirfd(dir),
		    de->d_name, "cur", bytes) == -1)
			r = -1;
	}
	(void)closedir(dir);
	return r;
}

int
delivery_user_quota(const char *maildir, uint64_t quota, uint64_t more,
    char *out, size_t outlen)
{
	time_t	 now = delivery_quota_now();

	if (quota == 0)
		return 0;
	if (delivery_usage.at == 0 || now < delivery_usage.at ||
	    now - delivery_usage.at >= DELIVERY_QUOTA_CACHE_SECS) {
		delivery_usage.at = 0;
		if (delivery_quota_measure(maildir, &delivery_usage.bytes) ==
		    -1) {
			(void)snprintf(out, outlen, "4.2.2 mailbox usage "
			    "unknown: %s", strerror(errno));
			return -1;
		}
		delivery_usage.at = now;
	}
	if (delivery_usage.bytes + more <= quota)
		return 0;
	/* RFC 3463 3.3: 4.2.2, mailbox full. */
	(void)snprintf(out, outlen, "4.2.2 mailbox full: %llu of %llu "
	    "bytes in use, message of %llu",
	    (unsigned long long)delivery_usage.bytes,
	    (unsigned long long)quota, (unsigned long long)more);
	return 1;
}

void
delivery_user_quota_add(uint64_t bytes)
{
	if (delivery_usage.at != 0)
		delivery_usage.bytes += bytes;
}

void
delivery_user_quota_forget(void)
{
	delivery_usage.at = 0;
}
