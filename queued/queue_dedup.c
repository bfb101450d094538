/*
 * Duplicate final recipients of one message, removed after expansion
 * (as sendmail and Postfix's local(8) do): "alice" and "team", an alias
 * that holds alice, in one message give alice one copy.  Runs in the
 * queue manager (user queue, chroot spool); no I/O.
 *
 * Each message keeps the final recipients its envelopes took: a local
 * mailbox when its delivery starts (queue_deliver.c), a remote address
 * when an expansion makes it (queue_expand.c).  An envelope that comes
 * to a final recipient another envelope of the message took is dropped
 * without delivery.  The claims live as long as the message in the
 * index: a restart forgets them, and the Maildir check of a recovered
 * envelope (doc/INTERNALS.md, "Maildir delivery") then finds a copy of
 * the message that was delivered before.
 *
 * The key of a mailbox is the user name authd gave (its tables compare
 * the local part without case and drop a +detail); the key of a remote
 * address is the address with its domain in lower case (RFC 5321 2.4:
 * the local part is the remote host's to interpret).
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "queue.h"

int
queue_dedup_key(char *dst, size_t dstlen, int remote, const char *value)
{
	char	*at;
	int	 n;

	n = snprintf(dst, dstlen, "%s:%s", remote ? "remote" : "mailbox",
	    value);
	if (n < 0 || (size_t)n >= dstlen)
		return -1;
	if (remote && (at = strrchr(dst, '@')) != NULL)
		for (; *at != '\0'; at++)
			*at = (char)tolower((unsigned char)*at);
	return 0;
}

static struct qclaim *
queue_dedup_find(struct qmsg *m, const char *key)
{
	struct qclaim	*c;

	SLIST_FOREACH(c, &m->claims, entry)
		if (strcmp(c->key, key) == 0)
			return c;
	return NULL;
}

const char *
queue_dedup_owner(struct qmsg *m, const char *key, const char *evpid)
{
	struct qclaim	*c;

	if ((c = queue_dedup_find(m, key)) == NULL ||
	    strcmp(c->evpid, evpid) == 0)
		return NULL;
	return c->evpid;
}

void
queue_dedup_release(struct qmsg *m, const char *evpid)
{
	struct qclaim	*c, *next;

	for (c = SLIST_FIRST(&m->claims); c != NULL; c = next) {
		next = SLIST_NEXT(c, entry);
		if (strcmp(c->evpid, evpid) == 0) {
			SLIST_REMOVE(&m->claims, c, qclaim, entry);
			free(c);
		}
	}
}

const char *
queue_dedup_claim(struct qmsg *m, const char *key, const char *evpid)
{
	struct qclaim	*c;
	size_t		 len = strlen(key) + 1;

	if ((c = queue_dedup_find(m, key)) != NULL)
		return strcmp(c->evpid, evpid) == 0 ? NULL : c->evpid;
	/*
	 * An envelope has one final recipient: one it took before (the
	 * tables changed between two tries) is free again.
	 */
	queue_dedup_release(m, evpid);
	if ((c = calloc(1, sizeof(*c) + len)) == NULL)
		fatal("queue_dedup_claim");
	(void)strlcpy(c->evpid, evpid, sizeof(c->evpid));
	memcpy(c->key, key, len);
	SLIST_INSERT_HEAD(&m->claims, c, entry);
	return NULL;
}

void
queue_dedup_free(struct qmsg *m)
{
	struct qclaim	*c;

	while ((c = SLIST_FIRST(&m->claims)) != NULL) {
		SLIST_REMOVE_HEAD(&m->claims, entry);
		free(c);
	}
}
