/*
 * The IMAP mailbox process's store: a user's Maildir++ folders, their
 * UIDs, flags, modseqs and cache (issue 11, /work/imap-plan.md "Storage").
 * Run by the mailbox process (the mail user, chrooted in the mail home,
 * seccomp set of imapd-user), and by the unit tests on a temporary
 * directory.  The session (imap_session.c, imap_cmd_*.c) is its only
 * caller; nothing here parses or writes protocol.
 *
 * On disk, per folder (INBOX = <root>, "A/B" = <root>/.A.B):
 * - cur/ new/ tmp/ and `maildirfolder' (not in INBOX), as every Maildir
 *   reader expects; flags in the names (":2," and sorted letters: D
 *   draft, F flagged, R answered, S seen, T deleted; other letters, such
 *   as P or keywords of other software, are kept untouched).
 * - `sallyport-imap.uids': the durable uid list, the one place UIDs live.
 *   A header line, then records replayed in order (a message and its
 *   modseq, flags, CRLF size and internal date, an expunge, a \Recent
 *   claim).  A change appends records (write, fdatasync) under the
 *   folder's lock; the file is rewritten (tmp, fsync, rename) when the
 *   appended part grows past the base.  Lost: a new UIDVALIDITY
 *   (time-based, never reused).
 * - `sallyport-imap.index': a cache (binary, checksummed, versioned) of
 *   the view as of a point in the uid list, so a warm open is a few
 *   reads and a replay of the uid list's tail.  Torn, stale or missing:
 *   rebuilt from the uid list (and the Maildir when that is lost too).
 * - `sallyport-imap.cache': the opaque blobs the session stores per
 *   message (ENVELOPE, BODYSTRUCTURE...), appended, mapped read-only,
 *   rewritten when mostly dead.
 * - `sallyport-imap.lock': flock(2) held around every change and sync.
 * And <root>/subscriptions (one mUTF-7 name per line).
 *
 * Several mailbox processes of one user (a phone and a laptop) run this
 * code on the same folders: every change goes through the lock and the
 * uid list, so they all see the same UIDs; each learns of the others'
 * changes at its next imap_mbox_sync() (imap_mbox_changed() says cheaply
 * whether one is needed) and, in IDLE, through imap_notify_fd().
 *
 * Names: folder names are given and returned as on the wire in modified
 * UTF-7 (RFC 3501 5.1.3), separator '/', the session converting UTF-8
 * (UTF8=ACCEPT) itself; "INBOX" is matched without case.  Keywords are
 * not supported (PERMANENTFLAGS lists only system flags).
 *
 * Return values: functions returning int give 0 on success, else an
 * IMAP_ST_* code (never -1), and imap_store_error() the reason in words,
 * for the tagged NO.  Results (struct imap_sync, imap_store_res,
 * imap_copy_res, imap_uid_ranges) are zeroed by the call that fills
 * them, and may always be passed to their *_free() after it, failed or
 * not (a MOVE cut short reports what it did move).  The system calls
 * used beyond the mailbox sandbox's file set: inotify_init1 and
 * inotify_add_watch (IDLE).
 */
#ifndef SALLYPORT_IMAP_STORE_H
#define SALLYPORT_IMAP_STORE_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "sp_limits.h"

struct imap_store;		/* a user's Maildir root, for one session */
struct imap_mbox;		/* one folder open, with the session's view */
struct imap_append;		/* an APPEND in progress */

/* Outcomes; the session maps them to response codes. */
enum imap_store_status {
	IMAP_ST_OK = 0,
	IMAP_ST_NONEXISTENT,	/* [NONEXISTENT], or [TRYCREATE] for APPEND,
				   COPY and MOVE (RFC 3501 6.3.11) */
	IMAP_ST_ALREADYEXISTS,	/* [ALREADYEXISTS] */
	IMAP_ST_NOPERM,		/* [NOPERM]: e.g. DELETE INBOX, a change on
				   a read-only (EXAMINE) view */
	IMAP_ST_BADNAME,	/* [CANNOT]: a name the store refuses */
	IMAP_ST_OVERQUOTA,	/* [OVERQUOTA] (RFC 9208) */
	IMAP_ST_TOOBIG,		/* [TOOBIG] / [LIMIT]: past a named limit */
	IMAP_ST_EXPUNGED,	/* [EXPUNGEISSUED]: the message is gone */
	IMAP_ST_IO,		/* [SERVERBUG]/[UNAVAILABLE]: a system error,
				   logged with its errno */
};

/* The last failure's reason, in words (never NULL). */
const char *imap_store_error(const struct imap_store *);

/*
 * Message flags (RFC 3501 2.3.2).  IMAP_F_RECENT is the session's and
 * never stored; the others are the file name's letters.
 */
#define IMAP_F_ANSWERED		0x01	/* R */
#define IMAP_F_FLAGGED		0x02	/* F */
#define IMAP_F_DELETED		0x04	/* T */
#define IMAP_F_SEEN		0x08	/* S */
#define IMAP_F_DRAFT		0x10	/* D */
#define IMAP_F_PERMANENT	0x1f	/* what STORE may change */
#define IMAP_F_RECENT		0x20

/* States of a message in the view (struct imap_msg, state). */
#define IMAP_MS_EXPUNGED	0x01	/* gone, its EXPUNGE not yet sent:
					   FETCH answers NO or old data */

/*
 * One message of the view, in UID order; the view's index i is sequence
 * number i + 1.  Read-only to the session (use the functions below to
 * change it); valid until the next call that takes the mbox.
 */
struct imap_msg {
	uint32_t	 uid;
	uint16_t	 flags;		/* IMAP_F_* */
	uint16_t	 state;		/* IMAP_MS_* */
	uint64_t	 modseq;	/* RFC 7162 per-message modseq */
	uint64_t	 size;		/* RFC822.SIZE: octets in CRLF form */
	int64_t		 idate;		/* INTERNALDATE, seconds (UTC) */
	uint32_t	 name_off;	/* private: the file's name */
	uint16_t	 name_len;
	uint16_t	 base_len;
	uint32_t	 cache_off;	/* private: blobs in the cache file */
	uint32_t	 cache_len;
};

/* ---- The store (imap_store.c) ---- */

/*
 * Opens the user's Maildir at root ("/Maildir" in the chroot; a temporary
 * directory in the tests), creating root, its cur/ new/ tmp/ when
 * missing.  NULL and *errstr set on failure (errno as well).
 */
struct imap_store *imap_store_open(const char *root, const char **errstr);
void	imap_store_close(struct imap_store *);

/*
 * At login: creates the special-use folders (RFC 6154) Drafts, Sent,
 * Trash, Junk and Archive, subscribed, the first time only (a marker
 * file remembers it, so that one the user deletes stays deleted).
 */
int	imap_store_first_login(struct imap_store *);

/*
 * Quota usage (RFC 9208 STORAGE, in octets, and MESSAGE): the sum of
 * the CRLF sizes and counts of all folders, from each folder's index
 * (folders without a valid one are opened and synced once).  Cached
 * in the store for IMAP_QUOTA_CACHE_SECS, this process's own APPENDs
 * and COPYs added to it meanwhile.
 */
int	imap_store_usage(struct imap_store *, uint64_t *bytes,
	    uint64_t *messages);

/* ---- Folders (imap_folder.c) ---- */

/* LIST attributes (RFC 3501 7.2.2, RFC 5258, RFC 6154). */
#define IMAP_LA_NOSELECT	0x0001
#define IMAP_LA_HASCHILDREN	0x0002
#define IMAP_LA_HASNOCHILDREN	0x0004
#define IMAP_LA_NONEXISTENT	0x0008	/* subscribed, not there (LIST
					   (SUBSCRIBED)); implies NOSELECT */
#define IMAP_LA_SUBSCRIBED	0x0010
#define IMAP_LA_DRAFTS		0x0100
#define IMAP_LA_SENT		0x0200
#define IMAP_LA_TRASH		0x0400
#define IMAP_LA_JUNK		0x0800
#define IMAP_LA_ARCHIVE		0x1000
#define IMAP_LA_SPECIALUSE	0x1f00

struct imap_folder_ent {
	char		 name[IMAP_FOLDER_NAME_MAX_BYTES + 1];	/* mUTF-7 */
	unsigned int	 attrs;		/* IMAP_LA_* */
};

struct imap_folder_list {
	struct imap_folder_ent	*v;	/* sorted by name, INBOX first */
	size_t			 n;
};

/* imap_folder_list() options. */
#define IMAP_LIST_SUBSCRIBED	0x01	/* only subscribed names (LSUB,
					   LIST (SUBSCRIBED)), including
					   those that do not exist */

/*
 * The folders whose names match pattern (RFC 3501 6.3.8: '*' matches
 * anything, '%' anything but '/'; the session has joined the reference
 * and the pattern), with their attributes.  Parents that do not exist
 * but have children ("A" of "A/B") are listed \Noselect.  Bounded: at
 * most IMAP_FOLDERS_MAX folders, matching in O(len(pattern) *
 * len(name)).  Free with imap_folder_list_free().
 */
int	imap_folder_list(struct imap_store *, const char *pattern,
	    unsigned int opts, struct imap_folder_list *);
void	imap_folder_list_free(struct imap_folder_list *);

/* 1 when name matches pattern ('*', '%', separator '/'), else 0. */
int	imap_folder_match(const char *pattern, const char *name);

/*
 * 0 when name is a folder name the store accepts: mUTF-7 printable
 * ASCII, at most IMAP_FOLDER_NAME_MAX_BYTES, no '.', no empty level, no
 * leading or trailing '/', at most IMAP_FOLDER_DEPTH_MAX levels.  Else
 * IMAP_ST_BADNAME with *errstr.
 */
int	imap_folder_valid(const char *name, const char **errstr);

/*
 * CREATE (RFC 3501 6.3.3): makes the folder and any missing superior
 * folders.  IMAP_ST_ALREADYEXISTS when it exists (INBOX always does).
 */
int	imap_folder_create(struct imap_store *, const char *name);

/*
 * DELETE (RFC 3501 6.3.4): INBOX is refused (IMAP_ST_NOPERM); a folder
 * with children loses its messages and its directory, and its name
 * stays as a \Noselect parent of them; one without is removed.  The
 * directory is first renamed aside, so no reader sees half a folder.
 */
int	imap_folder_delete(struct imap_store *, const char *name);

/*
 * RENAME (RFC 3501 6.3.5): the folder and its children, superiors of
 * the new name created as needed (a \Noselect parent: its children).  INBOX: its messages move to the new
 * folder (new UIDs there), INBOX stays, empty; its children do not move.
 */
int	imap_folder_rename(struct imap_store *, const char *from,
	    const char *to);

/* SUBSCRIBE / UNSUBSCRIBE: <root>/subscriptions, rewritten atomically. */
int	imap_folder_subscribe(struct imap_store *, const char *name);
int	imap_folder_unsubscribe(struct imap_store *, const char *name);

/* ---- A folder open (imap_store_mbox.c, imap_sync.c) ---- */

struct imap_mbox_info {
	uint32_t	 uidvalidity;
	uint32_t	 uidnext;
	uint64_t	 highestmodseq;
	uint32_t	 exists;	/* messages in the view */
	uint32_t	 recent;	/* of them \Recent in this session */
	uint32_t	 unseen;	/* without \Seen (STATUS UNSEEN) */
	uint32_t	 first_unseen;	/* its sequence number, 0: none */
	uint64_t	 size;		/* sum of sizes (STATUS SIZE) */
	int		 readonly;
};

/* imap_mbox_open() flags. */
#define IMAP_OPEN_READONLY	0x01	/* EXAMINE, STATUS: changes refused,
					   \Recent not claimed */

/*
 * SELECT / EXAMINE: opens the folder, syncs it with the Maildir (new/
 * moved to cur/, new files given UIDs in delivery order, vanished ones
 * expunged, renamed ones' flags taken), builds the view.  Messages not
 * seen by any read-write session before are \Recent in this one (the
 * first session to see a message gets it; RFC 3501 2.3.2).  Errors:
 * IMAP_ST_NONEXISTENT, IMAP_ST_BADNAME, IMAP_ST_IO.
 */
int	imap_mbox_open(struct imap_store *, const char *name,
	    unsigned int flags, struct imap_mbox **);
/* Writes what is pending (imap_mbox_flush), unlocks, frees. */
void	imap_mbox_close(struct imap_mbox *);

void	imap_mbox_info(const struct imap_mbox *, struct imap_mbox_info *);
/* The folder's name as opened. */
const char *imap_mbox_name(const struct imap_mbox *);
/* Messages in the view (the EXISTS count, expunged-pending included). */
uint32_t imap_mbox_count(const struct imap_mbox *);
/* The message at index i (sequence number i + 1); NULL past the end. */
const struct imap_msg *imap_mbox_msg(const struct imap_mbox *, uint32_t i);
/*
 * The index of the message with this UID, or of the first one above it
 * (binary search); imap_mbox_count() when none.  For UID sets.
 */
uint32_t imap_mbox_uid_index(const struct imap_mbox *, uint32_t uid);

/*
 * STATUS (RFC 3501 6.3.10, RFC 8438 SIZE, RFC 7162 HIGHESTMODSEQ):
 * opens read-only, syncs, fills info, closes.
 */
int	imap_store_status(struct imap_store *, const char *name,
	    struct imap_mbox_info *);

/*
 * What a sync found, for the untagged responses (RFC 3501 7.4.1, 7.3.1,
 * 7.4.2).  expunged_seq[i] is the number to send in the i-th "* n
 * EXPUNGE", in that order (ascending, each counted after the ones
 * before it, as in RFC 3501 6.4.3's example); expunged_uid[i] its UID
 * (for VANISHED, RFC 7162 3.2.10, sorted ascending).  changed[] are
 * view indexes (after the expunges) whose flags or modseq changed by
 * another session or program: "* n FETCH (FLAGS ...)".  exists: the
 * new EXISTS when it differs from before, else 0.
 */
struct imap_sync {
	uint32_t	*expunged_seq;
	uint32_t	*expunged_uid;
	size_t		 nexpunged;
	uint32_t	*changed;
	size_t		 nchanged;
	uint32_t	 exists;
	uint32_t	 recent;	/* RECENT to send: with a new EXISTS
					   or when it grew; else 0 */
};
void	imap_sync_free(struct imap_sync *);

/* imap_mbox_sync() flags. */
#define IMAP_SYNC_EXPUNGE	0x01	/* expunges may leave the view (not
					   during FETCH, STORE, SEARCH:
					   RFC 3501 7.4.1); without it they
					   stay, IMAP_MS_EXPUNGED */
#define IMAP_SYNC_FORCE		0x02	/* read cur/ and new/ even when
					   their mtimes say nothing moved */

/*
 * Cheap: 1 when the folder may have changed since this view's last
 * sync (the uid list replaced or grown, cur/ or new/ modified, new/
 * touched within the last IMAP_SYNC_RACY_SECS, or changes found inside
 * a command still waiting to be reported), else 0.  A few fstat(2)
 * calls, no readdir, no lock.
 */
int	imap_mbox_changed(struct imap_mbox *);

/*
 * Brings the view up to date under the lock and fills *sync (zeroed
 * first; free with imap_sync_free()).  Skips the directory scans when
 * imap_mbox_changed() says nothing moved, unless IMAP_SYNC_FORCE.
 * IMAP_ST_IO when the folder's uid list was lost and made anew by
 * another process (a new UIDVALIDITY): the view is void, the session
 * must end it (close the folder; RFC 3501 2.3.1.1).
 */
int	imap_mbox_sync(struct imap_mbox *, unsigned int flags,
	    struct imap_sync *);

/* ---- Flags, expunge, vanished (imap_store_flags.c) ---- */

/*
 * CHANGEDSINCE (RFC 7162 3.1.4, 3.1.5): the session compares each
 * message's modseq in the view; nothing here is needed for it.
 */

enum imap_flag_op {
	IMAP_FLAGS_SET,		/* FLAGS */
	IMAP_FLAGS_ADD,		/* +FLAGS */
	IMAP_FLAGS_REMOVE,	/* -FLAGS */
};

/*
 * The result of a STORE: changed[] the view indexes whose flags changed
 * (each got a new modseq), failed[] those refused by UNCHANGEDSINCE
 * (RFC 7162 3.1.3: [MODIFIED]), both ascending.
 */
struct imap_store_res {
	uint32_t	*changed;
	size_t		 nchanged;
	uint32_t	*failed;
	size_t		 nfailed;
};
void	imap_store_res_free(struct imap_store_res *);

/*
 * STORE: applies op with flags (IMAP_F_PERMANENT bits) to the messages
 * at the view indexes idx[0..n-1] (ascending), by renaming their files,
 * and records the new flags and modseqs in the uid list.  unchangedsince:
 * 0 for none, else messages whose modseq is above it are left and put
 * in failed.  A message whose flags would not change keeps its modseq.
 * Expunged messages are skipped.  IMAP_ST_NOPERM on a read-only view.
 */
int	imap_mbox_store(struct imap_mbox *, const uint32_t *idx, size_t n,
	    enum imap_flag_op op, unsigned int flags, uint64_t unchangedsince,
	    struct imap_store_res *);

/*
 * EXPUNGE / UID EXPUNGE (RFC 4315 2.1) / CLOSE: removes the messages
 * flagged \Deleted (only those whose UIDs are in uids[0..n-1], sorted,
 * when uids is not NULL), then syncs with IMAP_SYNC_EXPUNGE into *sync,
 * which so also reports other sessions' expunges and new messages.
 */
int	imap_mbox_expunge(struct imap_mbox *, const uint32_t *uids,
	    size_t n, struct imap_sync *);

/* Sorted, disjoint UID ranges. */
struct imap_uid_range {
	uint32_t	 first;
	uint32_t	 last;
};
struct imap_uid_ranges {
	struct imap_uid_range	*v;
	size_t			 n;
};
void	imap_uid_ranges_free(struct imap_uid_ranges *);

/*
 * QRESYNC (RFC 7162 3.2.5.2, 3.2.6): the UIDs expunged since modseq.
 * The uid list remembers the last IMAP_STORE_EXPUNGED_MAX expunges;
 * older than that, every UID below UIDNEXT not in the folder now is
 * given (which the RFC allows: a client ignores UIDs it does not know).
 */
int	imap_mbox_vanished(struct imap_mbox *, uint64_t modseq,
	    struct imap_uid_ranges *);

/* ---- Copy, move, append (imap_append.c) ---- */

/*
 * COPYUID (RFC 4315 3): the destination's UIDVALIDITY and the UIDs, in
 * the order of the source's.
 */
struct imap_copy_res {
	uint32_t	 uidvalidity;
	uint32_t	*src_uids;
	uint32_t	*dst_uids;
	size_t		 n;
};
void	imap_copy_res_free(struct imap_copy_res *);

/*
 * COPY: the messages at view indexes idx[0..n-1] (ascending) into the
 * folder dst (link(2) when possible, else a copy), with their flags and
 * internal dates, \Recent there.  quota: the user's limit in octets (0:
 * none); IMAP_ST_OVERQUOTA when usage plus the copies would pass it.
 * IMAP_ST_NONEXISTENT (TRYCREATE) when dst does not exist;
 * IMAP_ST_EXPUNGED when a message is gone (nothing copied).
 */
int	imap_mbox_copy(struct imap_mbox *, const uint32_t *idx, size_t n,
	    const char *dst, uint64_t quota, struct imap_copy_res *);

/*
 * MOVE (RFC 6851): as COPY (rename(2) between the folders, so no quota
 * check is needed), then the sources are expunged; *sync as for
 * imap_mbox_expunge().  Allowed on a read-write view only.
 */
int	imap_mbox_move(struct imap_mbox *, const uint32_t *idx, size_t n,
	    const char *dst, struct imap_copy_res *, struct imap_sync *);

/*
 * APPEND (RFC 3501 6.3.11, RFC 4315 APPENDUID), streamed: begin with the
 * literal's size (refused early: IMAP_ST_OVERQUOTA against quota, 0 for
 * none; IMAP_ST_NONEXISTENT for TRYCREATE), write the octets as they
 * come (CRLF stored as LF, in tmp/), then commit with the flags
 * (IMAP_F_PERMANENT bits) and the internal date (0: now; the file's
 * mtime), which fsyncs and moves the file to cur/ and gives the UID; or
 * abort, which removes the file.  The session must end every begun
 * append with commit or abort.
 */
int	imap_append_begin(struct imap_store *, const char *folder,
	    uint64_t size, uint64_t quota, struct imap_append **);
int	imap_append_write(struct imap_append *, const void *buf, size_t len);
int	imap_append_commit(struct imap_append *, unsigned int flags,
	    time_t idate, uint32_t *uidvalidity, uint32_t *uid);
void	imap_append_abort(struct imap_append *);

/* ---- The message and its cache (imap_store_cache.c) ---- */

/*
 * Opens the message at view index i read-only (following a rename by
 * another session); -1 with the status in *st (IMAP_ST_EXPUNGED when
 * the file is gone).  The file is in LF (or, from other tools, CRLF)
 * form; sizes reported are the CRLF form's.
 */
int	imap_mbox_msg_open(struct imap_mbox *, uint32_t i, int *st);

/* Kinds of the blobs the session caches per message (opaque here). */
enum imap_cache_kind {
	IMAP_CACHE_ENVELOPE,
	IMAP_CACHE_BODYSTRUCTURE,
	IMAP_CACHE_BODY,		/* BODY, non-extensible */
	IMAP_CACHE_KINDS
};

/*
 * The blob of kind for message i: 0 with *p (not NUL-terminated, valid
 * until the next call that takes the mbox) and *len, 1 when not cached.
 */
int	imap_mbox_cache_get(struct imap_mbox *, uint32_t i,
	    enum imap_cache_kind, const char **p, size_t *len);
/*
 * Stores a blob for message i (at most IMAP_CACHE_BLOB_MAX_BYTES; larger
 * are not cached and IMAP_ST_TOOBIG returned, which the session may
 * ignore).  Kept in memory until imap_mbox_flush().
 */
int	imap_mbox_cache_put(struct imap_mbox *, uint32_t i,
	    enum imap_cache_kind, const char *p, size_t len);
/*
 * Writes the pending blobs to the cache file and the index (under the
 * lock); call after a FETCH that put blobs, and it is called by sync and
 * close.  Failures only lose cache (logged), so it returns nothing.
 */
void	imap_mbox_flush(struct imap_mbox *);

/* ---- IDLE (imap_notify.c) ---- */

/*
 * An inotify descriptor watching the folder's new/, cur/ and directory
 * (the uid list's rename): poll it for POLLIN in IDLE, then call
 * imap_notify_drain() and, when it says 1, imap_mbox_sync().  -1 when
 * inotify is unavailable (the session then syncs on a timer,
 * IMAP_IDLE_POLL_SECS).  Owned by the mbox; closed with it.
 */
int	imap_notify_fd(struct imap_mbox *);
/* Reads pending events without blocking: 1 when any, else 0. */
int	imap_notify_drain(struct imap_mbox *);

#endif
