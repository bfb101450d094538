/*
 * The store's private structures and the functions its files share
 * (imap_store*.c, imap_uidlist.c, imap_index.c, imap_sync.c,
 * imap_folder*.c, imap_append.c, imap_notify.c).  Run by the IMAP
 * mailbox process (the mail user, chrooted in the mail home, seccomp set
 * of imapd-user) and the unit tests.  The session includes
 * imap_store.h only.
 */
#ifndef SALLYPORT_IMAP_STORE_INT_H
#define SALLYPORT_IMAP_STORE_INT_H

#include <sys/types.h>
#include <sys/param.h>
#include <stdarg.h>

#include "imap_store.h"

/* File names inside a folder's directory. */
#define IMAP_UIDLIST_NAME	"sallyport-imap.uids"
/* The uid list's header starts with this (imap_uidlist.c). */
#define UIDLIST_MAGIC		"SPIMAP1 "
#define IMAP_INDEX_NAME		"sallyport-imap.index"
#define IMAP_CACHE_NAME		"sallyport-imap.cache"
#define IMAP_LOCK_NAME		"sallyport-imap.lock"
#define IMAP_FOLDER_MARK_NAME	"maildirfolder"
/* In the root: subscriptions, the last UIDVALIDITY given, first login. */
#define IMAP_SUBS_NAME		"subscriptions"
#define IMAP_UIDVALIDITY_NAME	"sallyport-imap.uidvalidity"
#define IMAP_FIRST_LOGIN_NAME	"sallyport-imap.init"
/* A folder being deleted is renamed to this prefix first. */
#define IMAP_TRASHED_PREFIX	"..sallyport-deleted."

/*
 * new/'s mtime within this of the clock when it was read: a delivery in
 * the same clock tick would not change it, so the next check reads new/
 * again (it is small: everything in it moves to cur/).
 */
#define IMAP_SYNC_RACY_SECS	2

/* imap_mbox_open(): a handle for a change (APPEND, COPY), not a session:
 * it claims no \Recent, so the session that sees them next gets them. */
#define IMAP_OPEN_NORECENT	0x100

/* Private bits of struct imap_msg's state. */
#define IMAP_MS_CHANGED		0x0100	/* flags changed: FETCH to send */
#define IMAP_MS_FOUND		0x0200	/* seen by the cur/ scan */
#define IMAP_MS_NEW		0x0400	/* added by this sync */

/* cache_off of a message whose blobs wait in mb->pend[cache_len]. */
#define IMAP_CACHE_PENDING	UINT32_MAX

struct imap_store {
	int		 rootfd;
	char		 root[PATH_MAX];	/* for inotify's paths */
	uint64_t	 usage_bytes, usage_msgs;	/* cached */
	time_t		 usage_at;			/* 0: none */
	char		 err[256];
};

/* An expunge remembered for VANISHED. */
struct imap_exp {
	uint32_t	 uid;
	uint32_t	 pad;
	uint64_t	 modseq;
};

/* Blobs put by the session, not yet in the cache file. */
struct imap_pend {
	uint32_t	 uid;
	uint32_t	 old_off;	/* the record they extend, 0: none */
	uint32_t	 old_len;
	uint32_t	 len[IMAP_CACHE_KINDS];
	char		*data[IMAP_CACHE_KINDS];
};

struct imap_mbox {
	struct imap_store	*st;
	char		 name[IMAP_FOLDER_NAME_MAX_BYTES + 1];
	char		 dir[NAME_MAX + 1];	/* "." or ".A.B" */
	int		 dirfd, curfd, newfd, tmpfd, lockfd;
	int		 readonly, norecent;
	int		 locked;

	/* The uid list as this view has read it. */
	int		 ulfd;		/* held: st_nlink 0 when replaced */
	uint64_t	 ul_gen;
	uint64_t	 ul_off;	/* bytes replayed */
	uint64_t	 ul_base;	/* end of the base ("B" record) */
	uint32_t	 uidvalidity, uidnext, recentuid;
	uint64_t	 highestmodseq, expfloor;
	struct imap_exp	*exp;
	size_t		 nexp, expcap;
	struct timespec	 cur_mtime, new_mtime;	/* reflected in the list */
	int		 new_racy, resync, times_dirty;
	int		 opened;	/* the session has seen the view */
	int		 uidv_changed;	/* the list was made anew under it */
	int		 view_dirty;	/* the list moved: a report may wait */

	/* The view. */
	struct imap_msg	*msgs;
	uint32_t	 nmsgs, msgcap;
	char		*names;
	size_t		 names_len, names_cap, names_dead;
	uint32_t	 nrecent;
	uint32_t	 reported_exists, reported_recent;
	int		 index_dirty;
	int		 index_urgent;	/* the view was built the long way */

	/* Records to append to the uid list at the end of a change. */
	char		*out;
	size_t		 outlen, outcap;
	uint64_t	 txmodseq;	/* this change's modseq, 0: none yet */

	/* The cache file. */
	int		 cachefd;
	uint64_t	 cache_gen;
	uint64_t	 cache_seen;	/* records up to here applied */
	const char	*cmap;
	size_t		 cmaplen;
	struct imap_pend *pend;
	size_t		 npend, pendcap, pendbytes;

	int		 inofd;
};

/* imap_store.c */
int	 store_err(struct imap_store *, int st, const char *fmt, ...)
	    __attribute__((__format__(__printf__, 3, 4)));
int	 store_errno(struct imap_store *, const char *what, const char *name);
int	 store_folder_dir(const char *name, char *dir, size_t dirlen);
int	 store_is_inbox(const char *name);
uint32_t store_new_uidvalidity(struct imap_store *);
int	 store_write_file(int dirfd, const char *name, const char *buf,
	    size_t len);
uint64_t store_hash(const void *, size_t, uint64_t seed);
void	 store_usage_add(struct imap_store *, uint64_t bytes, uint64_t msgs);

/* imap_store_mbox.c */
int	 mbox_lock(struct imap_mbox *);
void	 mbox_unlock(struct imap_mbox *);
const char *mbox_msg_name(const struct imap_mbox *, const struct imap_msg *);
int	 mbox_set_name(struct imap_mbox *, struct imap_msg *, const char *,
	    size_t len);
struct imap_msg *mbox_add(struct imap_mbox *, uint32_t uid);
int	 mbox_enter(struct imap_mbox *, const char *name, unsigned int flags,
	    uint64_t size, int64_t idate, uint32_t *uid);
struct imap_msg *mbox_find(struct imap_mbox *, uint32_t uid);
void	 mbox_compact_names(struct imap_mbox *);
int	 mbox_open_dirs(struct imap_mbox *, const char *dir, int create);
void	 mbox_free(struct imap_mbox *);
int	 mbox_exp_add(struct imap_mbox *, uint32_t uid, uint64_t modseq);
int	 mbox_expunged(struct imap_mbox *, struct imap_msg *);

/* imap_uidlist.c, imap_uidlist_write.c */
void	 uidlist_forget(struct imap_mbox *);
int	 uidlist_load(struct imap_mbox *);
int	 uidlist_out_msg(struct imap_mbox *, const struct imap_msg *);
int	 uidlist_out_printf(struct imap_mbox *, const char *fmt, ...)
	    __attribute__((__format__(__printf__, 2, 3)));
int	 uidlist_commit(struct imap_mbox *);
uint64_t uidlist_modseq(struct imap_mbox *);
int	 uidlist_create(struct imap_mbox *);
int	 uidlist_rewrite(struct imap_mbox *);

/* imap_index.c */
int	 index_load(struct imap_mbox *);
void	 index_write(struct imap_mbox *);

/* imap_sync.c */
int	 sync_locked(struct imap_mbox *, unsigned int flags,
	    struct imap_sync *);
int	 sync_view_finish(struct imap_mbox *, unsigned int flags,
	    struct imap_sync *);
int	 sync_change_begin(struct imap_mbox *);
int	 sync_change_end(struct imap_mbox *, int rc);
void	 sync_dir_times(struct imap_mbox *);

/* imap_store_flags.c */
unsigned int flags_from_info(const char *info, size_t len);
int	 flags_info(char *dst, size_t dstlen, const char *oldinfo,
	    size_t oldlen, unsigned int flags);
int	 flags_rename(struct imap_mbox *, struct imap_msg *,
	    unsigned int flags);

/* The cache file (imap_store_cache.c): a header, then records. */
#define CACHE_MAGIC		"SPIMAPC\n"
#define CACHE_HDR_BYTES		16
#define CACHE_SEED		0x6a09e667f3bcc909ULL	/* records' checksums */
#define CACHE_REC_MAGIC		0x52435053U	/* "SPCR" */
struct cache_rec {
	uint32_t	 magic;
	uint32_t	 uid;
	uint32_t	 sum;
	uint32_t	 len[IMAP_CACHE_KINDS];
};

/* imap_store_cache.c, imap_cache_compact.c */
void	 cache_map(struct imap_mbox *);
void	 cache_unmap(struct imap_mbox *);
const struct cache_rec *cache_rec(struct imap_mbox *, const struct imap_msg *);
void	 cache_compact(struct imap_mbox *);
void	 cache_replay(struct imap_mbox *);
void	 cache_open(struct imap_mbox *);
void	 cache_close(struct imap_mbox *);
void	 cache_forget(struct imap_mbox *);
void	 cache_flush_close(struct imap_mbox *);

/* imap_folder_match.c */
struct folder_match;
struct folder_match *folder_match_new(const char *pattern);
void	 folder_match_free(struct folder_match *);
int	 folder_match(const struct folder_match *, const char *name);

/* imap_folder.c */
int	 folder_exists(struct imap_store *, const char *name);
int	 folder_make(struct imap_store *, const char *name);

/* imap_append.c */
int	 append_move_all(struct imap_mbox *, const char *dst);
int	 append_name(char *dst, size_t dstlen, uint64_t size, uint64_t wsize,
	    unsigned int flags);

/* imap_notify.c */
void	 notify_close(struct imap_mbox *);

#endif
