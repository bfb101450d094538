/*
 * imapd/imap_search.h: the SEARCH program's insides, shared by
 * imap_search_parse.c (arguments into the program) and
 * imap_search_eval.c (the program against a message, the answer).
 * Private to those files; the rest of imapd uses imap_proto.h.  Runs in
 * the mailbox process (the mail user, chroot, seccomp "imapd-user").
 */
#ifndef IMAPD_IMAP_SEARCH_H
#define IMAPD_IMAP_SEARCH_H

#include "imap_proto.h"

enum sk_op {
	SK_AND,		/* every child (a list, the program itself) */
	SK_OR,		/* either of two children */
	SK_NOT,		/* not its child */
	SK_ALL,
	SK_SEQ,		/* sequence numbers in set */
	SK_UID,		/* UIDs in set */
	SK_SAVED,	/* "$": UIDs in the saved result */
	SK_FLAG,	/* flag set */
	SK_UNFLAG,	/* flag clear */
	SK_NEW,		/* \Recent and not \Seen */
	SK_KEYWORD,
	SK_UNKEYWORD,
	SK_BEFORE,	/* internal date, by day */
	SK_ON,
	SK_SINCE,
	SK_SENTBEFORE,	/* Date: header, by day */
	SK_SENTON,
	SK_SENTSINCE,
	SK_LARGER,
	SK_SMALLER,
	SK_HEADER,	/* field holds str */
	SK_BODY,
	SK_TEXT,
	SK_MODSEQ	/* modseq >= num (RFC 7162 3.1.5) */
};

struct sk_node {
	enum sk_op		 op;
	int			 first;		/* first child, or -1 */
	int			 next;		/* next sibling, or -1 */
	unsigned int		 flag;		/* SK_FLAG, SK_UNFLAG */
	char			*field;		/* SK_HEADER (allocated) */
	char			*str;		/* the string (allocated) */
	size_t			 len;
	uint64_t		 num;
	int64_t			 day;
	struct imap_seqset	 set;
};

struct imap_search {
	struct sk_node		*node;
	int			 nnode;
	int			 cap;
	unsigned int		 ret;		/* IMAP_SRET_* */
	int			 esearch;
	int			 modseq;	/* a MODSEQ key */
	int			 saved;		/* a "$" */
	int			 resolved;	/* sets against the maxima */
	struct imap_seqset	 saved_uids;
	const struct imap_msg_access *acc;
	int			 flags;		/* IMAP_SPF_* */
};

/* imap_search.c: CHARSET's argument (UTF-8, US-ASCII); *no on others. */
int	 imap_search_charset(const struct imap_arg *, const char **err,
	    int *no);
/*
 * imap_sort.c: ASCII letters to upper case in place, so that strcmp()
 * then orders as i;ascii-casemap (RFC 4790 9.2).
 */
void	 imap_casemap_fold(char *, size_t);
/* imap_search_parse.c: the keys a[0..na) into s (an AND at node 0). */
int	 imap_search_keys(struct imap_search *, const struct imap_arg *,
	    int na, const char **err);

#endif
