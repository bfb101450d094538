/*
 * The mailbox process's session (role imapd-user: the mail user,
 * chrooted in the mail home, seccomp SANDBOX_IMAP_MAILBOX): the command
 * table of the authenticated and selected states, the input path from
 * lineio to the command reader (literals read raw), the output buffer,
 * answers made in pieces with back-pressure, and the untagged updates
 * of the selected folder (RFC 3501 7): EXISTS, RECENT and FETCH FLAGS
 * after any command, EXPUNGE (or VANISHED, RFC 7162 3.2.10) only when
 * RFC 3501 7.4.1 allows it, that is never during FETCH, STORE or
 * SEARCH, whose sequence numbers the client is still reading.
 */
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "lineio.h"
#include "log.h"
#include "imap_session.h"
#include "imap_store.h"

static int	cmd_capability(struct imap_conn *,
		    const struct imap_command *);
static int	cmd_noop(struct imap_conn *, const struct imap_command *);
static int	cmd_logout(struct imap_conn *, const struct imap_command *);
static int	cmd_id(struct imap_conn *, const struct imap_command *);

#define A	IMAP_S_AUTH
#define S	IMAP_S_SELECTED
#define AS	(IMAP_S_AUTH | IMAP_S_SELECTED)
#define NA	IMAP_S_NOAUTH

const struct imap_cmd imap_sess_cmds[] = {
	/* name, states, flags, args, args after UID, handler */
	{ "CAPABILITY", AS, 0, "", NULL, cmd_capability },
	{ "NOOP", AS, 0, "", NULL, cmd_noop },
	{ "LOGOUT", AS, 0, "", NULL, cmd_logout },
	{ "ID", AS, 0, "x", NULL, cmd_id },
	{ "ENABLE", A, 0, "w*", NULL, cmd_enable },
	{ "SELECT", AS, 0, "m*", NULL, cmd_select },
	{ "EXAMINE", AS, 0, "m*", NULL, cmd_select },
	{ "CREATE", AS, 0, "m*", NULL, cmd_create },
	{ "DELETE", AS, 0, "m", NULL, cmd_delete },
	{ "RENAME", AS, 0, "mm*", NULL, cmd_rename },
	{ "SUBSCRIBE", AS, 0, "m", NULL, cmd_subscribe },
	{ "UNSUBSCRIBE", AS, 0, "m", NULL, cmd_unsubscribe },
	{ "LIST", AS, 0, "x*", NULL, cmd_list },
	{ "LSUB", AS, 0, "ap", NULL, cmd_lsub },
	{ "STATUS", AS, 0, "ml", NULL, cmd_status },
	{ "APPEND", AS, IMAP_CMDF_STREAM, "m*", NULL, cmd_append },
	{ "NAMESPACE", AS, 0, "", NULL, cmd_namespace },
	{ "IDLE", AS, IMAP_CMDF_STOP, "", NULL, cmd_idle },
	{ "COMPRESS", AS, IMAP_CMDF_STOP, "w", NULL, cmd_compress },
	{ "CHECK", S, 0, "", NULL, cmd_check },
	{ "CLOSE", S, 0, "", NULL, cmd_close },
	{ "UNSELECT", S, 0, "", NULL, cmd_unselect },
	{ "EXPUNGE", S, 0, "", "s", cmd_expunge },
	{ "SEARCH", S, 0, "*", "*", cmd_search },
	{ "FETCH", S, 0, "s*", "s*", cmd_fetch },
	{ "STORE", S, 0, "s*", "s*", cmd_store },
	{ "COPY", S, 0, "sm", "sm", cmd_copy },
	{ "MOVE", S, 0, "sm", "sm", cmd_move },
	{ "SORT", S, 0, "l*", "l*", cmd_sort },
	{ "THREAD", S, 0, "w*", "w*", cmd_thread },
	/* RFC 3501 6.2: not after login; the dispatcher refuses them. */
	{ "LOGIN", NA, 0, "aa", NULL, NULL },
	{ "AUTHENTICATE", NA, 0, "w?a", NULL, NULL },
	{ "STARTTLS", NA, 0, "", NULL, NULL },
	{ NULL, 0, 0, NULL, NULL, NULL },
};

/*
 * What works, and only that: a compliance suite is run against this
 * list (issue 11).
 */
_Static_assert(IMAP_APPEND_LIMIT == IMAP_APPEND_MAX_BYTES,
    "APPENDLIMIT= must say the reader's limit");
#define SESS_STR(x)	SESS_STR2(x)
#define SESS_STR2(x)	#x
static const char sess_capa[] = "IMAP4rev1 LITERAL+ ID ENABLE IDLE "
    "NAMESPACE UNSELECT UIDPLUS MOVE CHILDREN SPECIAL-USE LIST-EXTENDED "
    "LIST-STATUS ESEARCH "
    "CONDSTORE QRESYNC SORT THREAD=ORDEREDSUBJECT THREAD=REFERENCES "
    "STATUS=SIZE COMPRESS=DEFLATE "
    "APPENDLIMIT=" SESS_STR(IMAP_APPEND_LIMIT);

const char *
sess_capability(void)
{
	return sess_capa;
}

/* ---- Output ---- */

int
sess_wb_flush(void *ctx, const char *p, size_t len)
{
	struct imap_sess	*s = ctx;

	if (s->conn.closing || s->conn.lio == NULL)
		return -1;
	s->cont_sent = len >= 2 && p[0] == '+' && p[1] == ' ';
	if (lineio_write(s->conn.lio, p, len) == -1) {
		/* Past lineio's bound: the client stopped reading. */
		s->conn.closing = 1;
		lineio_shutdown(s->conn.lio);
		return -1;
	}
	return 0;
}

int
sess_io_write(struct imap_conn *c, const void *p, size_t len)
{
	struct imap_sess	*s = SESS(c);

	(void)imap_wbuf_flush(&s->wb);
	s->wb.error = 0;
	return sess_wb_flush(s, p, len);
}


void
sess_putf(struct imap_sess *s, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	(void)imap_vputf(&s->wb, fmt, ap);
	va_end(ap);
}

void
sess_flush(struct imap_sess *s)
{
	(void)imap_wbuf_flush(&s->wb);
	s->wb.error = 0;
}

static void
sess_tagged(struct imap_sess *s, const char *tag, const char *what,
    const char *fmt, va_list ap)
{
	(void)imap_putf(&s->wb, "%s %s ", tag, what);
	(void)imap_vputf(&s->wb, fmt, ap);
	(void)imap_puts(&s->wb, "\r\n");
	sess_flush(s);
}

void
sess_ok(struct imap_sess *s, const char *tag, const char *fmt, ...)
{
	va_list	 ap;

	if (s->mbox != NULL)
		sess_updates(s, !s->no_expunge);
	va_start(ap, fmt);
	sess_tagged(s, tag, "OK", fmt, ap);
	va_end(ap);
}

void
sess_no(struct imap_sess *s, const char *tag, const char *fmt, ...)
{
	va_list	 ap;

	if (s->mbox != NULL)
		sess_updates(s, !s->no_expunge);
	va_start(ap, fmt);
	sess_tagged(s, tag, "NO", fmt, ap);
	va_end(ap);
}

int
sess_bad(struct imap_sess *s, const char *tag, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	sess_tagged(s, tag, "BAD", fmt, ap);
	va_end(ap);
	if (imap_reader_error(s->rd) == -1) {
		sess_putf(s, "* BYE Too many errors\r\n");
		sess_flush(s);
		return -1;
	}
	return 0;
}

void
sess_no_store(struct imap_sess *s, const char *tag, int st, int trycreate)
{
	static const char *codes[] = {
		[IMAP_ST_OK] = "",
		[IMAP_ST_NONEXISTENT] = "[NONEXISTENT] ",
		[IMAP_ST_ALREADYEXISTS] = "[ALREADYEXISTS] ",
		[IMAP_ST_NOPERM] = "[NOPERM] ",
		[IMAP_ST_BADNAME] = "[CANNOT] ",
		[IMAP_ST_OVERQUOTA] = "[OVERQUOTA] ",
		[IMAP_ST_TOOBIG] = "[LIMIT] ",
		[IMAP_ST_EXPUNGED] = "[EXPUNGEISSUED] ",
		[IMAP_ST_IO] = "[SERVERBUG] ",
	};
	const char	*code = "";

	if (st >= 0 && (size_t)st < sizeof(codes) / sizeof(codes[0]))
		code = codes[st];
	if (st == IMAP_ST_NONEXISTENT && trycreate)
		code = "[TRYCREATE] ";
	if (st == IMAP_ST_IO)
		log_warnx("%08x imap store-failed reason=\"%s\"", s->conn.id,
		    imap_store_error(s->store));
	sess_no(s, tag, "%s%s", code, imap_store_error(s->store));
}

int
sess_output_full(struct imap_sess *s)
{
	return s->conn.closing || s->conn.lio == NULL ||
	    lineio_output_pending(s->conn.lio) + s->wb.len >=
	    IMAP_OUTPUT_HIGH_BYTES;
}

/* ---- Answers in pieces ---- */

static void
sess_pump_end(struct imap_sess *s)
{
	if (s->job_free != NULL && s->job != NULL)
		s->job_free(s->job);
	s->job = NULL;
	s->job_free = NULL;
	s->pump = NULL;
	s->no_expunge = 0;
	if (!s->conn.closing)
		lineio_resume(s->conn.lio);
}

/* Runs the pump until it ends or the output is full; 1 when it ended. */
static int
sess_pump_run(struct imap_sess *s)
{
	int	 r;

	while (s->pump != NULL) {
		if (sess_output_full(s)) {
			sess_flush(s);
			lineio_want_drain(s->conn.lio);
			return 0;
		}
		r = s->pump(s);
		if (r == 0)
			continue;
		sess_flush(s);
		if (r == -1) {
			s->conn.closing = 1;
			lineio_shutdown(s->conn.lio);
		}
		sess_pump_end(s);
		return 1;
	}
	return 1;
}

void
sess_start_pump(struct imap_sess *s, sess_pump pump, void *job,
    void (*job_free)(void *))
{
	s->pump = pump;
	s->job = job;
	s->job_free = job_free;
	lineio_pause(s->conn.lio);
	(void)sess_pump_run(s);
}

int
sess_drained(struct imap_sess *s)
{
	if (s->pump == NULL)
		return 1;
	return sess_pump_run(s);
}

/* ---- Commands valid in any state ---- */

static int
cmd_capability(struct imap_conn *c, const struct imap_command *cmd)
{
	struct imap_sess	*s = SESS(c);

	sess_putf(s, "* CAPABILITY %s\r\n", sess_capa);
	sess_ok(s, cmd->tag, "CAPABILITY completed");
	return 0;
}

static int
cmd_noop(struct imap_conn *c, const struct imap_command *cmd)
{
	sess_ok(SESS(c), cmd->tag, "NOOP completed");
	return 0;
}

static int
cmd_logout(struct imap_conn *c, const struct imap_command *cmd)
{
	struct imap_sess	*s = SESS(c);

	sess_putf(s, "* BYE sallyport IMAP server signing off\r\n");
	s->no_expunge = 1;
	if (s->mbox != NULL)
		sess_unselect(s);
	sess_ok(s, cmd->tag, "LOGOUT completed");
	imap_set_state(c, IMAP_S_LOGOUT);
	c->closing = 1;
	lineio_shutdown(c->lio);
	return 0;
}

/* RFC 2971: the server's identity; the client's is only logged. */
static int
cmd_id(struct imap_conn *c, const struct imap_command *cmd)
{
	struct imap_sess	*s = SESS(c);

	if (cmd->args[0].type != IMAP_ARG_LIST &&
	    cmd->args[0].type != IMAP_ARG_NIL)
		return sess_bad(s, cmd->tag, "ID takes a list or NIL");
	sess_putf(s, "* ID (\"name\" \"sallyport\")\r\n");
	sess_ok(s, cmd->tag, "ID completed");
	return 0;
}

/* ---- Untagged updates ---- */

void
sess_put_flags(struct imap_sess *s, unsigned int flags)
{
	static const unsigned int bits[] = { IMAP_F_ANSWERED,
	    IMAP_F_FLAGGED, IMAP_F_DELETED, IMAP_F_SEEN, IMAP_F_DRAFT,
	    IMAP_F_RECENT };
	static const char *names[] = { "\\Answered", "\\Flagged",
	    "\\Deleted", "\\Seen", "\\Draft", "\\Recent" };
	size_t		 i;
	int		 sp = 0;

	for (i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		if ((flags & bits[i]) == 0)
			continue;
		sess_putf(s, "%s%s", sp ? " " : "", names[i]);
		sp = 1;
	}
}

void
sess_write_flags(struct imap_sess *s, uint32_t idx, int with_uid)
{
	const struct imap_msg	*m;

	if ((m = imap_mbox_msg(s->mbox, idx)) == NULL)
		return;
	sess_putf(s, "* %" PRIu32 " FETCH (FLAGS (", idx + 1);
	sess_put_flags(s, m->flags);
	sess_putf(s, ")");
	if (with_uid || (s->enabled & SESS_E_QRESYNC))
		sess_putf(s, " UID %" PRIu32, m->uid);
	if (s->enabled & SESS_E_CONDSTORE)
		sess_putf(s, " MODSEQ (%" PRIu64 ")", m->modseq);
	sess_putf(s, ")\r\n");
}

/* VANISHED (RFC 7162 3.2.10): the UIDs as a set, ascending. */
static void
sess_write_vanished(struct imap_sess *s, const struct imap_sync *sy)
{
	sess_putf(s, "* VANISHED ");
	(void)imap_put_seqlist(&s->wb, sy->expunged_uid, sy->nexpunged);
	sess_putf(s, "\r\n");
}

void
sess_write_sync(struct imap_sess *s, const struct imap_sync *sy)
{
	size_t	 i;

	/* Indexes move with expunges: the loaded message is forgotten. */
	sess_msg_unload();
	if (sy->nexpunged > 0 && (s->enabled & SESS_E_QRESYNC))
		sess_write_vanished(s, sy);
	else
		for (i = 0; i < sy->nexpunged; i++)
			sess_putf(s, "* %" PRIu32 " EXPUNGE\r\n",
			    sy->expunged_seq[i]);
	/* RFC 3501 7.4.1: each EXPUNGE already lowered the count. */
	s->exists = s->exists > sy->nexpunged ?
	    s->exists - (uint32_t)sy->nexpunged : 0;
	if (imap_mbox_count(s->mbox) != s->exists) {
		s->exists = imap_mbox_count(s->mbox);
		sess_putf(s, "* %" PRIu32 " EXISTS\r\n", s->exists);
	}
	if (sy->recent > 0)
		sess_putf(s, "* %" PRIu32 " RECENT\r\n", sy->recent);
	for (i = 0; i < sy->nchanged; i++)
		sess_write_flags(s, sy->changed[i], 0);
}

void
sess_updates(struct imap_sess *s, int expunge)
{
	struct imap_sync	 sy;
	int			 st;

	if (s->mbox == NULL || !imap_mbox_changed(s->mbox))
		return;
	st = imap_mbox_sync(s->mbox, expunge ? IMAP_SYNC_EXPUNGE : 0, &sy);
	if (st != IMAP_ST_OK) {
		log_warnx("%08x imap sync-failed reason=\"%s\"", s->conn.id,
		    imap_store_error(s->store));
		return;
	}
	sess_write_sync(s, &sy);
	imap_sync_free(&sy);
}

void
sess_unselect(struct imap_sess *s)
{
	if (s->ev_notify != NULL) {
		event_free(s->ev_notify);
		s->ev_notify = NULL;
	}
	sess_msg_unload();
	if (s->mbox != NULL)
		imap_mbox_close(s->mbox);
	s->mbox = NULL;
	s->readonly = 0;
	imap_set_state(&s->conn, IMAP_S_AUTH);
}

int
sess_mailbox_arg(struct imap_sess *s, const struct imap_command *cmd,
    int i, char *out, size_t outsize)
{
	char		 utf8[IMAP_MAILBOX_MAX_BYTES + 1];
	const char	*err;
	ssize_t		 n;

	if (imap_arg_mailbox(&cmd->args[i], 0, utf8, sizeof(utf8),
	    &err) == -1)
		return sess_bad(s, cmd->tag, "%s", err) == -1 ? -2 : -1;
	n = imap_utf7_encode(utf8, strlen(utf8), out, outsize);
	if (n < 0)
		return sess_bad(s, cmd->tag, "mailbox name too long") == -1 ?
		    -2 : -1;
	return 0;
}

int
sess_msgset(struct imap_sess *s, const struct imap_command *cmd,
    const struct imap_arg *a, int uid, uint32_t **idxp, size_t *np)
{
	struct imap_seqset	 set;
	struct imap_seqset_iter	 it;
	const struct imap_msg	*m;
	const char		*err;
	uint32_t		 count, n, i, *idx, max;
	size_t			 k = 0, cap;

	*idxp = NULL;
	*np = 0;
	if (imap_seqset_parse(a->str, a->len, &set, &err) == -1)
		return sess_bad(s, cmd->tag, "%s", err) == -1 ? -2 : -1;
	count = imap_mbox_count(s->mbox);
	max = count;
	if (uid)
		max = count == 0 ? 0 : imap_mbox_msg(s->mbox, count - 1)->uid;
	if (!uid && set.star == 0 && count > 0) {
		/* RFC 3501 9: a number past the end is an error. */
		for (k = 0; k < set.n; k++)
			if (set.r[k].hi > count) {
				imap_seqset_free(&set);
				return sess_bad(s, cmd->tag,
				    "Invalid message sequence number");
			}
	}
	imap_seqset_resolve(&set, max);
	cap = (size_t)(uid ? (count < imap_seqset_count(&set) ? count :
	    imap_seqset_count(&set)) : imap_seqset_count(&set));
	idx = calloc(cap + 1, sizeof(*idx));
	if (idx == NULL) {
		imap_seqset_free(&set);
		return -1;
	}
	k = 0;
	if (uid) {
		for (i = 0; i < count && k < cap; i++) {
			m = imap_mbox_msg(s->mbox, i);
			if (imap_seqset_contains(&set, m->uid))
				idx[k++] = i;
		}
	} else {
		memset(&it, 0, sizeof(it));
		while (k < cap && imap_seqset_next(&set, &it, &n))
			idx[k++] = n - 1;
	}
	imap_seqset_free(&set);
	*idxp = idx;
	*np = k;
	return 0;
}
