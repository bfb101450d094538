/*
 * APPEND (RFC 3501 6.3.11, RFC 4315 APPENDUID, RFC 7889 APPENDLIMIT):
 * the message literal goes to the store as it arrives (the reader's
 * sink), so that a 50 MB message never sits in memory; the store keeps
 * it in tmp/ until the command is complete and commits it then, so a
 * process killed mid-APPEND leaves no half message.  Runs in the
 * mailbox process: the mail user, chrooted in the mail home, seccomp
 * SANDBOX_IMAP_MAILBOX.
 */
#include <sys/types.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "imap_session.h"
#include "imap_store.h"

static void *
append_open(struct imap_conn *c, const struct imap_command *sofar,
    uint64_t size, int literal8, const char **err)
{
	static char		 why[256];
	struct imap_sess	*s = SESS(c);
	struct imap_append	*ap;
	char			 utf8[IMAP_MAILBOX_MAX_BYTES + 1];
	char			 name[IMAP_MAILBOX_MAX_BYTES + 1];
	int			 st;

	(void)literal8;
	if (sofar->nargs < 1 || imap_arg_mailbox(&sofar->args[0], 0, utf8,
	    sizeof(utf8), err) == -1)
		return NULL;
	if (imap_utf7_encode(utf8, strlen(utf8), name, sizeof(name)) < 0) {
		*err = "mailbox name too long";
		return NULL;
	}
	st = imap_append_begin(s->store, name, size, s->quota, &ap);
	if (st == IMAP_ST_OK)
		return ap;
	(void)snprintf(why, sizeof(why), "%s%s",
	    st == IMAP_ST_NONEXISTENT ? "[TRYCREATE] " :
	    st == IMAP_ST_OVERQUOTA ? "[OVERQUOTA] " :
	    st == IMAP_ST_TOOBIG ? "[TOOBIG] " : "",
	    imap_store_error(s->store));
	*err = why;
	return NULL;
}

static int
append_write(struct imap_conn *c, void *h, const void *p, size_t len,
    const char **err)
{
	if (imap_append_write(h, p, len) == IMAP_ST_OK)
		return 0;
	*err = imap_store_error(SESS(c)->store);
	return -1;
}

static int
append_end(struct imap_conn *c, void *h, const char **err)
{
	(void)c;
	(void)h;
	(void)err;
	return 0;
}

static void
append_discard(struct imap_conn *c, void *h)
{
	(void)c;
	imap_append_abort(h);
}

const struct imap_sink imap_sess_sink = {
	append_open, append_write, append_end, append_discard
};

/* APPEND mailbox [flags] [date-time] literal. */
int
cmd_append(struct imap_conn *c, const struct imap_command *cmd)
{
	struct imap_sess	*s = SESS(c);
	struct imap_flags	 fl;
	struct imap_arg		*lit;
	struct imap_append	*ap;
	const char		*err;
	time_t			 idate = 0;
	uint32_t		 uidv, uid;
	int			 i = 1, tz, st;

	memset(&fl, 0, sizeof(fl));
	lit = &cmd->args[cmd->nargs - 1];
	if (cmd->nargs < 2 || cmd->nargs > 4 || lit->type != IMAP_ARG_STREAM)
		return sess_bad(s, cmd->tag, "APPEND mailbox [flags] "
		    "[date-time] literal");
	if (cmd->args[i].type == IMAP_ARG_LIST) {
		if (imap_arg_flags(&cmd->args[i], 1, &fl, &err) == -1)
			return sess_bad(s, cmd->tag, "%s", err);
		i++;
	}
	if (i < cmd->nargs - 1 && imap_arg_datetime(&cmd->args[i], &idate,
	    &tz, &err) == -1)
		return sess_bad(s, cmd->tag, "%s", err);
	if (i + (idate != 0) != cmd->nargs - 1)
		return sess_bad(s, cmd->tag, "APPEND mailbox [flags] "
		    "[date-time] literal");
	/* The handle is ours now (imap_proto.h, struct imap_sink). */
	ap = lit->stream;
	lit->stream = NULL;
	st = imap_append_commit(ap, fl.sys & IMAP_F_PERMANENT, idate, &uidv,
	    &uid);
	if (st != IMAP_ST_OK) {
		sess_no_store(s, cmd->tag, st, 1);
		return 0;
	}
	log_debug("%08x imap append uid=%" PRIu32 " octets=%llu", c->id,
	    uid, (unsigned long long)lit->stream_size);
	sess_ok(s, cmd->tag, "[APPENDUID %" PRIu32 " %" PRIu32 "] "
	    "APPEND completed", uidv, uid);
	return 0;
}
