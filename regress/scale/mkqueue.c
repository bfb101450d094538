/*
 * Writes a queue of many envelopes straight into a spool, for the scale
 * tests (regress/scale/test_scale_queue.py): as many committed messages
 * as asked, each with its envelopes, through queued's own serialiser
 * (envelope_serialise), so that the files are what queued writes.  No
 * fsync: the spool is a test's, read back by a queued started after.
 *
 *	mkqueue spool messages envelopes-per-message uid gid next-try
 *
 * Every envelope is from alice@example.test to bob@example.test, not
 * expanded yet, first tried at next-try (seconds since the epoch).
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <err.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../queued/queue.h"

static const char mkq_message[] =
    "Received: from client.example.test ([127.0.0.1]) by "
    "mail.example.test\n"
    "From: <alice@example.test>\nTo: <bob@example.test>\n"
    "Subject: scale\n\nqueued by regress/scale/mkqueue\n";

static void
mkq_file(int dirfd, const char *name, const char *buf, size_t len,
    uid_t uid, gid_t gid)
{
	int	 fd;

	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600);
	if (fd == -1 || write(fd, buf, len) != (ssize_t)len ||
	    fchown(fd, uid, gid) == -1 || close(fd) == -1)
		err(1, "%s", name);
}

static void
mkq_envelope(struct envelope *e, const char *msgid, unsigned int n,
    time_t now, time_t next_try)
{
	memset(e, 0, sizeof(*e));
	(void)strlcpy(e->msgid, msgid, sizeof(e->msgid));
	(void)snprintf(e->evpid, sizeof(e->evpid), "%s.%u", msgid, n);
	(void)strlcpy(e->sender, "alice@example.test", sizeof(e->sender));
	(void)strlcpy(e->rcpt, "bob@example.test", sizeof(e->rcpt));
	(void)strlcpy(e->orig_rcpt, "bob@example.test",
	    sizeof(e->orig_rcpt));
	(void)strlcpy(e->helo, "client.example.test", sizeof(e->helo));
	(void)strlcpy(e->client, "[127.0.0.1]:1025", sizeof(e->client));
	e->created = now;
	e->next_try = next_try;
}

static void
mkq_message_dir(int queuefd, const char *msgid, unsigned int nenv,
    uid_t uid, gid_t gid, time_t next_try)
{
	struct envelope	 e;
	char		 buf[QUEUE_ENVELOPE_MAX_BYTES + 1];
	const char	*errstr;
	unsigned int	 n;
	int		 dirfd, len;

	if (mkdirat(queuefd, msgid, 0700) == -1 ||
	    fchownat(queuefd, msgid, uid, gid, AT_SYMLINK_NOFOLLOW) == -1 ||
	    (dirfd = openat(queuefd, msgid, O_RDONLY | O_DIRECTORY)) == -1)
		err(1, "queue/%s", msgid);
	mkq_file(dirfd, "message", mkq_message, sizeof(mkq_message) - 1,
	    uid, gid);
	for (n = 1; n <= nenv; n++) {
		mkq_envelope(&e, msgid, n, time(NULL), next_try);
		if ((len = envelope_serialise(&e, buf, sizeof(buf),
		    &errstr)) == -1)
			errx(1, "%s: %s", e.evpid, errstr);
		mkq_file(dirfd, e.evpid, buf, (size_t)len, uid, gid);
	}
	(void)close(dirfd);
}

static long long
mkq_number(const char *s, long long max)
{
	const char	*errstr;
	long long	 v;

	v = strtonum(s, 0, max, &errstr);
	if (errstr != NULL)
		errx(1, "%s: %s", s, errstr);
	return v;
}

int
main(int argc, char *argv[])
{
	char		 msgid[QUEUE_MSGID_MAX_BYTES];
	long long	 nmsg, nenv, i;
	uid_t		 uid;
	gid_t		 gid;
	time_t		 next_try;
	int		 queuefd;

	if (argc != 7)
		errx(2, "usage: mkqueue spool messages envelopes-per-message "
		    "uid gid next-try");
	nmsg = mkq_number(argv[2], 1000000);
	nenv = mkq_number(argv[3], 1000);
	uid = (uid_t)mkq_number(argv[4], 65535);
	gid = (gid_t)mkq_number(argv[5], 65535);
	next_try = (time_t)mkq_number(argv[6], 1LL << 40);
	if (chdir(argv[1]) == -1)
		err(1, "%s", argv[1]);
	if (mkdir("queue", 0700) == -1 && access("queue", F_OK) == -1)
		err(1, "queue");
	if (chown("queue", uid, gid) == -1 ||
	    (queuefd = open("queue", O_RDONLY | O_DIRECTORY)) == -1)
		err(1, "queue");
	/* Ids of this run: a random high half, the message's number. */
	for (i = 0; i < nmsg; i++) {
		(void)snprintf(msgid, sizeof(msgid), "%08x%08x",
		    arc4random(), (unsigned int)i);
		mkq_message_dir(queuefd, msgid, (unsigned int)nenv, uid, gid,
		    next_try);
	}
	return 0;
}
