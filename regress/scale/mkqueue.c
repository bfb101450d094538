/*
 * Writes a queue of many envelopes straight into a spool, for the scale
 * tests (regress/scale/test_scale_queue.py): as many committed messages
 * as asked, each with its envelopes, through queued's own serialiser
 * (envelope_serialise), so that the files are what queued writes.  No
 * fsync: the spool is a test's, read back by a queued started after.
 *
 *	mkqueue spool messages envelopes-per-message uid gid next-try
 *	    [domains zone [body-bytes]]
 *
 * Every envelope is from alice@example.test to bob@example.test, not
 * expanded yet, first tried at next-try (seconds since the epoch).
 * With domains (1 or more), the envelopes are remote ones (version 3's
 * remote=1, test_scale_relay.py): envelope n (from 0) of message i is
 * for u<n>@d<k>.<zone>, k = (i + n / 2) % domains, so that a message's
 * recipients go to a few domains, two to a domain; each message has a
 * Message-ID <msgid@mkqueue.test> and a body of about body-bytes
 * (default: a line).
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

/* Remote envelopes: how many domains (0: local ones), under which zone. */
static long long	 mkq_domains;
static const char	*mkq_zone;

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

/* Envelope n (from 0) of message number i made remote. */
static void
mkq_remote(struct envelope *e, long long i, unsigned int n)
{
	(void)snprintf(e->rcpt, sizeof(e->rcpt), "u%u@d%lld.%s", n,
	    (i + n / 2) % mkq_domains, mkq_zone);
	(void)strlcpy(e->orig_rcpt, e->rcpt, sizeof(e->orig_rcpt));
	e->remote = 1;
}

/* The message of msgid: mkq_message, or a remote one of body bytes. */
static char *
mkq_text(const char *msgid, long long body, size_t *len)
{
	static const char	 line[] = "a line of the scale test's body, "
	    "long enough to count: 0123456789abcdefghij\n";
	char			*buf;
	size_t			 n, size;

	if (mkq_domains == 0) {
		*len = sizeof(mkq_message) - 1;
		return strdup(mkq_message);
	}
	size = (size_t)body + sizeof(line) + 512;
	if ((buf = malloc(size)) == NULL)
		err(1, "mkq_text");
	n = (size_t)snprintf(buf, size, "From: <alice@example.test>\n"
	    "To: <scale@%s>\nSubject: scale %s\n"
	    "Message-ID: <%s@mkqueue.test>\n\n", mkq_zone, msgid, msgid);
	do {
		memcpy(buf + n, line, sizeof(line) - 1);
		n += sizeof(line) - 1;
	} while ((long long)n < body);
	*len = n;
	return buf;
}

static void
mkq_message_dir(int queuefd, const char *msgid, long long i,
    unsigned int nenv, uid_t uid, gid_t gid, time_t next_try,
    long long body)
{
	struct envelope	 e;
	char		 buf[QUEUE_ENVELOPE_MAX_BYTES + 1], *text;
	const char	*errstr;
	unsigned int	 n;
	size_t		 textlen;
	int		 dirfd, len;

	if (mkdirat(queuefd, msgid, 0700) == -1 ||
	    fchownat(queuefd, msgid, uid, gid, AT_SYMLINK_NOFOLLOW) == -1 ||
	    (dirfd = openat(queuefd, msgid, O_RDONLY | O_DIRECTORY)) == -1)
		err(1, "queue/%s", msgid);
	if ((text = mkq_text(msgid, body, &textlen)) == NULL)
		err(1, "mkq_text");
	mkq_file(dirfd, "message", text, textlen, uid, gid);
	free(text);
	for (n = 1; n <= nenv; n++) {
		mkq_envelope(&e, msgid, n, time(NULL), next_try);
		if (mkq_domains > 0)
			mkq_remote(&e, i, n - 1);
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
	long long	 nmsg, nenv, i, body = 0;
	uid_t		 uid;
	gid_t		 gid;
	time_t		 next_try;
	int		 queuefd;

	if (argc != 7 && argc != 9 && argc != 10)
		errx(2, "usage: mkqueue spool messages envelopes-per-message "
		    "uid gid next-try [domains zone [body-bytes]]");
	nmsg = mkq_number(argv[2], 1000000);
	nenv = mkq_number(argv[3], 1000);
	uid = (uid_t)mkq_number(argv[4], 65535);
	gid = (gid_t)mkq_number(argv[5], 65535);
	next_try = (time_t)mkq_number(argv[6], 1LL << 40);
	if (argc >= 9) {
		mkq_domains = mkq_number(argv[7], 1000000);
		mkq_zone = argv[8];
		if (mkq_domains == 0)
			errx(2, "domains: at least 1");
	}
	if (argc == 10)
		body = mkq_number(argv[9], 1LL << 30);
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
		mkq_message_dir(queuefd, msgid, i, (unsigned int)nenv, uid,
		    gid, next_try, body);
	}
	return 0;
}
