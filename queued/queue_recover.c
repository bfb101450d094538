/*
 * The schedule rebuilt from the disk alone, when the queue manager
 * starts (user queue, chrooted into the spool).
 *
 *   incoming/	everything removed: no 250 was given for it.
 *   queue/	every message directory read.  "tmp.*" files (rewrites
 *		that a crash interrupted) are removed; an envelope whose
 *		parent is still there is the child of an expansion that
 *		did not finish, and is removed (the parent is expanded
 *		again); a directory without envelopes is removed.  Every
 *		envelope left is marked recovered: it may have been
 *		delivered before the crash, its removal lost.  A
 *		directory with an unreadable message, an envelope that
 *		does not parse, or any other file is moved to corrupt/.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "queue.h"

/* What one message directory holds. */
struct recover_msg {
	const char	*msgid;
	int		 dirfd;
	int		 has_message;
	int		 dirty;		/* something was unlinked */
	struct envelope	*envs;
	size_t		 nenvs;
	size_t		 cap;
	int		*gone;
};

/* The names in a directory, "." and ".." left out; NULL on error. */
static char **
queue_recover_names(int dirfd, size_t *np)
{
	struct dirent	*de;
	DIR		*dir;
	char		**names = NULL, **tmp;
	size_t		 n = 0, cap = 0;
	int		 fd;

	*np = 0;
	/* A descriptor of its own: closedir() closes it. */
	if ((fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1 || (dir = fdopendir(fd)) == NULL)
		fatal("queue recover: opendir");
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((tmp = reallocarray(names, cap, sizeof(*names))) ==
			    NULL)
				fatal("queue recover");
			names = tmp;
		}
		if ((names[n++] = strdup(de->d_name)) == NULL)
			fatal("queue recover");
	}
	(void)closedir(dir);
	*np = n;
	return names;
}

static void
queue_recover_free_names(char **names, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static void
queue_recover_incoming(void)
{
	char	**names;
	size_t	 n, i;

	names = queue_recover_names(qm.incoming_fd, &n);
	for (i = 0; i < n; i++) {
		if (queue_store_purge(qm.incoming_fd, names[i]) == -1)
			log_warn("%s queue purge-failed where=incoming",
			    names[i]);
		else
			log_info("%s queue removed reason=incomplete",
			    names[i]);
	}
	if (n > 0 && queue_store_fsync_dir(qm.incoming_fd) == -1)
		fatal("queue recover: fsync incoming");
	queue_recover_free_names(names, n);
}

static void
queue_recover_corrupt(const char *name, const char *why)
{
	qm.stats.corrupt++;
	if (queue_store_corrupt(name) == -1)
		log_warn("%s queue corrupt reason=\"%s\" move-failed", name,
		    why);
	else
		log_warnx("%s queue corrupt reason=\"%s\" moved=corrupt/",
		    name, why);
}

/* Reads one file of a message directory.  0, or -1 with *why. */
static int
queue_recover_file(struct recover_msg *rm, const char *name,
    const char **why)
{
	struct stat	 sb;
	struct envelope	*tmp;

	int		 fd;

	if (strcmp(name, "message") == 0) {
		fd = openat(rm->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd == -1 || fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
			if (fd != -1)
				(void)close(fd);
			return *why = "unreadable message", -1;
		}
		(void)close(fd);
		rm->has_message = 1;
		return 0;
	}
	if (strncmp(name, QUEUE_TMP_PREFIX, strlen(QUEUE_TMP_PREFIX)) == 0) {
		if (unlinkat(rm->dirfd, name, 0) == -1)
			return *why = "stale tmp file", -1;
		log_debug("%s queue removed file=%s reason=stale", rm->msgid,
		    name);
		rm->dirty = 1;
		return 0;
	}
	if (!queue_evpid_valid(name) || !queue_evpid_of(name, rm->msgid))
		return *why = "unknown file", -1;
	if (rm->nenvs == rm->cap) {
		rm->cap = rm->cap ? rm->cap * 2 : 8;
		if ((tmp = reallocarray(rm->envs, rm->cap,
		    sizeof(*tmp))) == NULL)
			fatal("queue recover");
		rm->envs = tmp;
	}
	if (queue_store_read(rm->dirfd, name, &rm->envs[rm->nenvs], why) == -1)
		return -1;
	if (strcmp(rm->envs[rm->nenvs].evpid, name) != 0)
		return *why = "envelope id does not match its file", -1;
	rm->nenvs++;
	return 0;
}

/* Children of an expansion whose parent is still there. */
static void
queue_recover_undo(struct recover_msg *rm)
{
	size_t	 i, j;

	if ((rm->gone = calloc(rm->nenvs + 1, sizeof(*rm->gone))) == NULL)
		fatal("queue recover");
	for (i = 0; i < rm->nenvs; i++) {
		if (rm->envs[i].parent[0] == '\0')
			continue;
		for (j = 0; j < rm->nenvs; j++)
			if (strcmp(rm->envs[j].evpid, rm->envs[i].parent) == 0)
				break;
		if (j == rm->nenvs)
			continue;
		if (unlinkat(rm->dirfd, rm->envs[i].evpid, 0) == -1)
			fatal("%s queue recover: unlink", rm->envs[i].evpid);
		log_info("%s queue expand-undone parent=%s",
		    rm->envs[i].evpid, rm->envs[i].parent);
		rm->gone[i] = 1;
		rm->dirty = 1;
	}
}

/* Enters what is left of a message into the index. */
static void
queue_recover_index(struct recover_msg *rm)
{
	struct qmsg	*m = NULL;
	struct qenv	*q;
	size_t		 i;

	for (i = 0; i < rm->nenvs; i++) {
		if (rm->gone[i])
			continue;
		if (m == NULL)
			m = queue_msg_add(rm->msgid);
		if ((q = queue_env_add(m, &rm->envs[i])) == NULL)
			fatalx("%s queue duplicate envelope",
			    rm->envs[i].evpid);
		/*
		 * Its removal after a delivery may be what the crash lost:
		 * the delivery looks in the Maildir first (DELIVERY_F_
		 * RECOVERED, queued/delivery_user_index.c).
		 */
		q->recovered = 1;
		qm.stats.recovered++;
	}
	if (m != NULL)
		return;
	if (queue_store_purge(qm.queue_fd, rm->msgid) == -1)
		log_warn("%s queue purge-failed where=queue", rm->msgid);
	else
		log_info("%s queue removed reason=no-envelopes", rm->msgid);
}

static void
queue_recover_msg(const char *msgid)
{
	struct recover_msg	 rm;
	const char		*why = NULL;
	char			**names;
	size_t			 n, i;

	memset(&rm, 0, sizeof(rm));
	rm.msgid = msgid;
	if ((rm.dirfd = openat(qm.queue_fd, msgid, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) == -1) {
		queue_recover_corrupt(msgid, "not a directory");
		return;
	}
	names = queue_recover_names(rm.dirfd, &n);
	for (i = 0; i < n && why == NULL; i++)
		(void)queue_recover_file(&rm, names[i], &why);
	queue_recover_free_names(names, n);
	if (why == NULL && !rm.has_message && rm.nenvs > 0)
		why = "no message file";
	if (why != NULL)
		queue_recover_corrupt(msgid, why);
	else {
		queue_recover_undo(&rm);
		if (rm.dirty && queue_store_fsync_dir(rm.dirfd) == -1)
			fatal("%s queue recover: fsync", msgid);
		queue_recover_index(&rm);
	}
	(void)close(rm.dirfd);
	free(rm.envs);
	free(rm.gone);
}

void
queue_recover(void)
{
	char	**names;
	size_t	 n, i;

	queue_recover_incoming();
	names = queue_recover_names(qm.queue_fd, &n);
	for (i = 0; i < n; i++) {
		if (!queue_msgid_valid(names[i]))
			queue_recover_corrupt(names[i], "bad name");
		else
			queue_recover_msg(names[i]);
	}
	queue_recover_free_names(names, n);
	if (queue_store_fsync_dir(qm.queue_fd) == -1)
		fatal("queue recover: fsync queue");
	log_info("- queue recovered messages=%llu envelopes=%llu corrupt=%llu",
	    (unsigned long long)queue_msg_count(),
	    (unsigned long long)queue_env_count(),
	    (unsigned long long)qm.stats.corrupt);
}
