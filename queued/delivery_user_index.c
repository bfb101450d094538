/*
 * Has this Maildir a copy of the message already?  Runs in a mailbox
 * worker, as the mailbox owner, under SANDBOX_MAILBOX (getdents64 is in
 * it).
 *
 * The name of each file a worker delivers carries the queue's message
 * id and the recipient's number (common/maildir.c, maildir_unique_name).
 * The removal of a delivered envelope is synced later, with others
 * (queued/queue_remove.c): a crash or a power loss in between brings the
 * envelope back, and the restarted manager marks every envelope it
 * finds at start as maybe delivered (DELIVERY_F_RECOVERED).  For those
 * only, the worker looks for a file of the same message in new/ (first,
 * so that a file a reader moves to cur/ meanwhile is seen in one or the
 * other) and cur/; a copy found answers the delivery.  Looking for the
 * message rather than the envelope also finds the copy that another
 * envelope of the message, for the same mailbox, delivered before the
 * crash (queue_dedup.c forgets those at a restart).
 *
 * The ids are read once into a sorted array and kept for every later
 * check made on behalf of the same manager (the agent's "check" value
 * says which): a manager marks only what was on the disk when it
 * started, so a copy written since then is its own delivery, which it
 * knows of.  A Maildir with more tagged files than the index can hold
 * (DELIVERY_INDEX_MAX_ENTRIES, or what memory allows) is read again at
 * each check.  A copy the user has deleted is
 * not found, and is delivered again.
 */
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "delivery.h"
#include "maildir.h"

static struct {
	uint32_t	 check;		/* the check it was read for; 0: none */
	int		 overflow;	/* more than the maximum: not kept */
	size_t		 n;
	size_t		 cap;
	uint64_t	*ids;		/* sorted */
} delivery_index;

/* Room for one more id, up to the maximum.  0, or -1 when there is none. */
static int
delivery_index_grow(void)
{
	uint64_t	*ids;
	size_t		 cap;

	if (delivery_index.n < delivery_index.cap)
		return 0;
	if (delivery_index.cap == DELIVERY_INDEX_MAX_ENTRIES)
		return -1;
	cap = delivery_index.cap == 0 ? 1024 : delivery_index.cap * 2;
	if (cap > DELIVERY_INDEX_MAX_ENTRIES)
		cap = DELIVERY_INDEX_MAX_ENTRIES;
	if ((ids = reallocarray(delivery_index.ids, cap, sizeof(*ids))) ==
	    NULL)
		return -1;
	delivery_index.ids = ids;
	delivery_index.cap = cap;
	return 0;
}

/* The message id of a tagged file name, or 0. */
static uint64_t
delivery_index_id(const char *name)
{
	char	 hex[MAILDIR_TAG_HEX_DIGITS + 1];

	if (!maildir_name_msgid(name, hex, sizeof(hex)))
		return 0;
	return strtoull(hex, NULL, 16);
}

/*
 * Reads <maildir>/<sub>: with want 0, adds every id to the index (up to
 * its maximum); else only says whether want is there.  1 found, 0 not,
 * -1 on error.
 */
static int
delivery_index_read(const char *maildir, const char *sub, uint64_t want)
{
	char		 path[PATH_MAX];
	struct dirent	*de;
	DIR		*dir;
	uint64_t	 id;
	int		 n, found = 0;

	n = snprintf(path, sizeof(path), "%s/%s", maildir, sub);
	if (n < 0 || (size_t)n >= sizeof(path))
		return errno = ENAMETOOLONG, -1;
	if ((dir = opendir(path)) == NULL)
		return errno == ENOENT ? 0 : -1;
	while (!found && (de = readdir(dir)) != NULL) {
		if ((id = delivery_index_id(de->d_name)) == 0)
			continue;
		if (want != 0)
			found = id == want;
		else if (delivery_index_grow() == -1)
			delivery_index.overflow = 1;
		else
			delivery_index.ids[delivery_index.n++] = id;
	}
	(void)closedir(dir);
	return found;
}

static int
delivery_index_cmp(const void *a, const void *b)
{
	uint64_t	 x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Reads new/ then cur/ into the index, for check.  0 or -1. */
static int
delivery_index_build(const char *maildir, uint32_t check)
{
	delivery_index.check = 0;
	delivery_index.n = 0;
	delivery_index.overflow = 0;
	if (delivery_index_read(maildir, "new", 0) == -1 ||
	    delivery_index_read(maildir, "cur", 0) == -1)
		return -1;
	/*
	 * heapsort(3) (libbsd) sorts in place; glibc's qsort(3) asks
	 * sysinfo(2), which the filter refuses, before it allocates.
	 */
	if (delivery_index.n > 1 && heapsort(delivery_index.ids,
	    delivery_index.n, sizeof(uint64_t), delivery_index_cmp) == -1)
		return -1;
	delivery_index.check = check;
	return 0;
}

int
delivery_user_found(const char *maildir, const char *evpid, uint32_t check)
{
	uint64_t	 id;
	int		 r;

	if (check == 0)
		return 0;
	if (strlen(evpid) <= DELIVERY_EVPID_HEX_DIGITS ||
	    (id = strtoull(evpid, NULL, 16)) == 0)
		return errno = EINVAL, -1;
	if (delivery_index.check != check &&
	    delivery_index_build(maildir, check) == -1)
		return -1;
	if (delivery_index.n > 0 && bsearch(&id, delivery_index.ids,
	    delivery_index.n, sizeof(uint64_t), delivery_index_cmp) != NULL)
		return 1;
	if (!delivery_index.overflow)
		return 0;
	if ((r = delivery_index_read(maildir, "new", id)) != 0)
		return r;
	return delivery_index_read(maildir, "cur", id);
}
