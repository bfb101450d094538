/*
 * The mailbox process's session (imapd-mailbox, role imapd-user: the
 * mail user's uid, chrooted in the mail home, seccomp SANDBOX_IMAP_MAILBOX):
 * what imap_user.c, imap_session.c, imap_cmd_auth.c,
 * imap_cmd_selected.c and imap_fetch.c share.  Nothing here crosses a
 * process boundary.
 */
#ifndef IMAP_SESSION_H
#define IMAP_SESSION_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

#include "sp_limits.h"
#include "imapd.h"
#include "imap_proto.h"

struct event;
struct event_base;
struct lineio;
struct imap_store;
struct imap_mbox;
struct imap_sync;
struct imap_sess;

/* What the client turned on with ENABLE (RFC 5161), or used. */
#define SESS_E_CONDSTORE	0x01	/* RFC 7162 3.1: ENABLEd or used */
#define SESS_E_QRESYNC		0x02	/* RFC 7162 3.2 */

/*
 * A command answered in pieces (FETCH, SEARCH on a big folder): pump
 * is called each time the output drained below IMAP_OUTPUT_HIGH_BYTES
 * and returns 0 for more, 1 once the tagged answer is written, -1 to
 * end the session.  Input waits meanwhile.
 */
typedef int	(*sess_pump)(struct imap_sess *);

struct imap_sess {
	struct imap_conn	 conn;
	struct event_base	*base;
	struct imap_reader	*rd;
	struct imap_store	*store;
	struct imap_mbox	*mbox;		/* selected, or NULL */
	int			 readonly;	/* EXAMINE */
	uint32_t		 exists;	/* the client's EXISTS */
	unsigned int		 enabled;	/* SESS_E_* */
	uint64_t		 quota;		/* bytes, 0: none */
	char			 user[128];	/* log_vis'd */
	struct imap_wbuf	 wb;		/* output, flushed to lio */
	char			 wbmem[16384];
	/* The command being answered in pieces. */
	sess_pump		 pump;
	void			*job;
	void			(*job_free)(void *);
	/* Input held back (throttled). */
	struct event		*ev_resume;
	/* IDLE (RFC 2177). */
	int			 idling;
	char			 idle_tag[IMAP_TAG_MAX_BYTES + 1];
	struct event		*ev_notify;
	struct event		*ev_idle_poll;
	/* The literal being read raw; bytes left. */
	int			 cont_sent;	/* last write was "+ " */
	int			 no_expunge;	/* FETCH STORE SEARCH */
	int			 compress_pending; /* switch at drain */
	char			*held;		/* input held back */
	size_t			 heldlen;
};

/* The mailbox process: drops, chroots, sandboxes, serves; never returns. */
void	imap_user_main(const struct imap_user_args *)
	    __attribute__((noreturn));
/* 0 when s is a tag as RFC 3501 9 draws it (ASTRING-CHAR but '+'). */
int	imap_session_tag_valid(const char *s);

/* imap_session.c: the command table of the mailbox process. */
extern const struct imap_cmd	imap_sess_cmds[];
/* The reader's output callback: the session's buffer, then the client. */
int	sess_io_write(struct imap_conn *, const void *, size_t);
/* The output buffer's flush (ctx: the session). */
int	sess_wb_flush(void *, const char *, size_t);
/* Feeds input held back (after IDLE, a throttle), reads again. */
void	sess_resume_input(struct imap_sess *);
/* The output drained: runs a pump; 1 when none is left waiting. */
int	sess_drained(struct imap_sess *);

/* The session behind a connection. */
#define SESS(c)	((struct imap_sess *)(c)->owner)

/* Output: into the session's buffer, out to the client at the flush. */
void	sess_putf(struct imap_sess *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	sess_flush(struct imap_sess *);
/* "tag OK/NO/BAD text" and a flush; BAD counts an error. */
void	sess_ok(struct imap_sess *, const char *tag, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	sess_no(struct imap_sess *, const char *tag, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
int	sess_bad(struct imap_sess *, const char *tag, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
/* The tagged NO for a store failure, with its response code. */
void	sess_no_store(struct imap_sess *, const char *tag, int st,
	    int trycreate);
/* 1 when the output is past the high mark (a pump should stop). */
int	sess_output_full(struct imap_sess *);
/* Starts answering in pieces; the job is freed with job_free at its end. */
void	sess_start_pump(struct imap_sess *, sess_pump, void *job,
	    void (*job_free)(void *));

/* The CAPABILITY list after login. */
const char	*sess_capability(void);

/*
 * Untagged updates (RFC 3501 7): syncs the selected folder and writes
 * EXPUNGE (or VANISHED with QRESYNC), EXISTS, RECENT and FETCH FLAGS.
 * expunge 0 during FETCH, STORE and SEARCH (RFC 3501 7.4.1).
 */
void	sess_updates(struct imap_sess *, int expunge);
/* Writes what a store call's sync found. */
void	sess_write_sync(struct imap_sess *, const struct imap_sync *);
/* One message's "* n FETCH (FLAGS (...) UID u [MODSEQ (m)])". */
void	sess_write_flags(struct imap_sess *, uint32_t idx, int with_uid);
/* Writes "\Seen \Deleted" for IMAP_F_ bits. */
void	sess_put_flags(struct imap_sess *, unsigned int flags);
/* Leaves the selected state (CLOSE, UNSELECT, a new SELECT). */
void	sess_unselect(struct imap_sess *);
/* Mailbox name argument into UTF-7 wire form (the store's); -1 if BAD. */
int	sess_mailbox_arg(struct imap_sess *, const struct imap_command *,
	    int i, char *out, size_t outsize);

/*
 * A sequence set or UID set argument resolved into view indexes,
 * ascending (allocated; *n may be 0).  -1 after a BAD.
 */
int	sess_msgset(struct imap_sess *, const struct imap_command *,
	    const struct imap_arg *, int uid, uint32_t **idx, size_t *n);

/* imap_cmd_auth.c, imap_cmd_selected.c, imap_fetch.c: handlers. */
int	cmd_select(struct imap_conn *, const struct imap_command *);
int	cmd_create(struct imap_conn *, const struct imap_command *);
int	cmd_delete(struct imap_conn *, const struct imap_command *);
int	cmd_rename(struct imap_conn *, const struct imap_command *);
int	cmd_subscribe(struct imap_conn *, const struct imap_command *);
int	cmd_unsubscribe(struct imap_conn *, const struct imap_command *);
int	cmd_list(struct imap_conn *, const struct imap_command *);
int	cmd_lsub(struct imap_conn *, const struct imap_command *);
int	cmd_status(struct imap_conn *, const struct imap_command *);
struct imap_mbox_info;
/* 1 when l is a list of STATUS items this server knows. */
int	sess_status_items_ok(const struct imap_arg *l);
/* "* STATUS name (items)" for a folder's info. */
void	sess_status_write(struct imap_sess *, const char *name,
	    const struct imap_arg *l, const struct imap_mbox_info *);
int	cmd_append(struct imap_conn *, const struct imap_command *);
int	cmd_namespace(struct imap_conn *, const struct imap_command *);
int	cmd_enable(struct imap_conn *, const struct imap_command *);
int	cmd_idle(struct imap_conn *, const struct imap_command *);
int	cmd_check(struct imap_conn *, const struct imap_command *);
int	cmd_close(struct imap_conn *, const struct imap_command *);
int	cmd_unselect(struct imap_conn *, const struct imap_command *);
int	cmd_expunge(struct imap_conn *, const struct imap_command *);
int	cmd_search(struct imap_conn *, const struct imap_command *);
int	cmd_sort(struct imap_conn *, const struct imap_command *);
int	cmd_thread(struct imap_conn *, const struct imap_command *);
int	cmd_store(struct imap_conn *, const struct imap_command *);
int	cmd_copy(struct imap_conn *, const struct imap_command *);
int	cmd_move(struct imap_conn *, const struct imap_command *);
int	cmd_fetch(struct imap_conn *, const struct imap_command *);
int	cmd_compress(struct imap_conn *, const struct imap_command *);

/*
 * imap_compress.c: the socketpair made before the filter (-1 when it
 * cannot be); the relay started on the client's descriptor, giving
 * the one the session's lineio is to use (-1 on failure); whether it
 * runs; the last output pushed out before exit.
 */
int	imap_compress_prepare(void);
int	imap_compress_start(struct event_base *, int clientfd);
int	imap_compress_active(void);
void	imap_compress_finish(void);

/* APPEND's message literal goes to the store as it arrives. */
extern const struct imap_sink	imap_sess_sink;
/* IDLE: the client's line while idling ("DONE"). */
void	sess_idle_line(struct imap_sess *, const char *, size_t);
/*
 * imap_msgload.c: message idx of the selected folder, mapped and
 * parsed (NULL with *st when gone or unreadable), valid until the next
 * load or unload.
 */
struct imap_message	*sess_msg_load(struct imap_sess *, uint32_t idx,
		    int *st);
void		 sess_msg_unload(void);
/* The message accessor for SEARCH, SORT, THREAD (imap_msgload.c). */
extern const struct imap_msg_access	imap_sess_access;

#endif
