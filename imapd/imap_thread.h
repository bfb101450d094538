/*
 * imapd/imap_thread.h: THREAD's insides, shared by imap_thread.c (the
 * REFERENCES algorithm, RFC 5256 4 steps 1 to 5) and imap_thread_out.c
 * (ORDEREDSUBJECT, the sorting of siblings by sent date, the answer).
 * Private to those files.  Runs in the mailbox process (the mail user,
 * chroot, seccomp "imapd-user").
 */
#ifndef IMAPD_IMAP_THREAD_H
#define IMAPD_IMAP_THREAD_H

#include "imap_proto.h"

/* A node of the thread forest: a message, or a dummy (msg -1). */
struct tcont {
	int32_t		 parent;
	int32_t		 first;		/* first child */
	int32_t		 last;		/* last child */
	int32_t		 next;		/* next sibling */
	int32_t		 prev;		/* previous sibling */
	int32_t		 msg;		/* index into idx[], or -1 */
	int64_t		 date;		/* the sent date (sorting) */
	uint32_t	 order;		/* tie-breaker: position in idx[] */
	uint32_t	 id;		/* message-id: arena offset + 1, 0 */
};

struct tforest {
	struct tcont	*c;
	size_t		 n;
	size_t		 cap;		/* at most IMAP_THREAD_CONT_MAX(n) */
	int32_t		*roots;
	size_t		 nroots;
	/* Per message: its container, base subject, reply flag. */
	int32_t		*mcont;
	size_t		*subj;		/* arena offsets */
	unsigned char	*reply;
	char		*arena;
	size_t		 alen;
	size_t		 acap;
};

/* Containers THREAD REFERENCES may make for n messages. */
#define IMAP_THREAD_CONT_MAX(n)	((n) * 8 + 64)

/* imap_thread_out.c */
int	 tf_new(struct tforest *, int32_t msg);
void	 tf_unlink(struct tforest *, int32_t);
void	 tf_add_child(struct tforest *, int32_t parent, int32_t child);
/* Appends s[0..len) and a NUL to the arena; its offset, or -1. */
ssize_t	 tf_str(struct tforest *, const char *, size_t);
/* Reads every message's date, base subject and reply flag. */
int	 tf_load(struct tforest *, const struct imap_msg_access *, void *,
	    const uint32_t *idx, size_t n);
void	 tf_free(struct tforest *);

/* imap_thread.c */
int	 tf_references(struct tforest *, const struct imap_msg_access *,
	    void *, const uint32_t *idx, size_t n);

#endif
