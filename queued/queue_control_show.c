/*
 * control.sock's show envelope and show message (queue manager, user
 * queue, chroot spool).  show envelope sends every key of each
 * envelope file as written (envelope_serialise), with the envelope's
 * state in the index; show message passes the message file itself,
 * read-only, to sallyctl, which copies it out.  control.sock takes root
 * alone (its peer's SO_PEERCRED uid, checked at accept), so only root
 * reads a queued message.
 */
#include <sys/types.h>

#include <stdio.h>
#include <string.h>

#include "ipc.h"
#include "log.h"
#include "proto.h"
#include "queue.h"
#include "queue_control_int.h"

/* The envelopes of one message show envelope sends; the rest are cut. */
#define QUEUE_CTL_SHOW_ENVS_MAX		QUEUE_CTL_LIST_BATCH
/* "key=value" lines of an envelope file: one per field, and the version. */
#define QUEUE_CTL_FIELDS_MAX		64

static struct ipc_out	 out;

struct ctl_show {
	struct ctl_client	*cl;
	unsigned int		 n;
};

/* Splits the file's lines at '=' into the payload: u32 n, then pairs. */
static int
ctl_envelope_fields(char *text, size_t len)
{
	char		*line, *end = text + len, *nl, *eq;
	char		*keys[QUEUE_CTL_FIELDS_MAX];
	char		*values[QUEUE_CTL_FIELDS_MAX];
	uint32_t	 n = 0, i;

	for (line = text; line < end; line = nl + 1) {
		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL ||
		    (eq = memchr(line, '=', (size_t)(nl - line))) == NULL ||
		    n >= QUEUE_CTL_FIELDS_MAX)
			return -1;
		*nl = *eq = '\0';
		keys[n] = line;
		values[n++] = eq + 1;
	}
	ipc_put_u32(&out, n);
	for (i = 0; i < n; i++) {
		ipc_put_str(&out, keys[i]);
		ipc_put_str(&out, values[i]);
	}
	return 0;
}

static void
ctl_envelope_one(struct qenv *q, void *arg)
{
	struct ctl_show	*s = arg;
	struct envelope	 e;
	char		 text[QUEUE_ENVELOPE_MAX_BYTES + 1];
	const char	*errstr = NULL;
	int		 len;

	if (s->n++ >= QUEUE_CTL_SHOW_ENVS_MAX)
		return;
	ipc_out_init(&out, MSG_CTL_ENVELOPE_INFO, s->cl->peerid);
	ipc_put_str(&out, q->evpid);
	ipc_put_str(&out, ctl_state_name(q));
	if (queue_store_load(q->msg->msgid, q->evpid, &e, &errstr) == -1 ||
	    (len = envelope_serialise(&e, text, sizeof(text), &errstr)) ==
	    -1 || ctl_envelope_fields(text, (size_t)len) == -1) {
		/* Shown as what it is: an envelope that cannot be read. */
		ipc_out_init(&out, MSG_CTL_ENVELOPE_INFO, s->cl->peerid);
		ipc_put_str(&out, q->evpid);
		ipc_put_str(&out, ctl_state_name(q));
		ipc_put_u32(&out, 1);
		ipc_put_str(&out, "error");
		ipc_put_str(&out, errstr != NULL ? errstr : "unreadable");
	}
	(void)ipc_conn_send(s->cl->conn, &out, -1);
}

void
ctl_envelope(struct ctl_client *cl, struct ipc_msg *m)
{
	struct ctl_show	 s;
	int		 n;

	(void)m;
	if (strcmp(ctl_arg(), "all") == 0) {
		ctl_result(cl, RESULT_PERMFAIL, 0,
		    "show envelope takes a message or an envelope id");
		return;
	}
	s.cl = cl;
	s.n = 0;
	if ((n = queue_env_foreach(ctl_arg(), ctl_envelope_one, &s)) == -1) {
		ipc_conn_close(cl->conn, "bad id");
		return;
	}
	if (n == 0) {
		ctl_result(cl, RESULT_PERMFAIL, 0,
		    "no such message or envelope");
		return;
	}
	ctl_end(cl);
}

void
ctl_message(struct ctl_client *cl, struct ipc_msg *m)
{
	char		 msgid[QUEUE_MSGID_MAX_BYTES];
	const char	*id = ctl_arg();
	int		 fd;

	(void)m;
	if (!queue_msgid_valid(id) && !queue_evpid_valid(id)) {
		ctl_result(cl, RESULT_PERMFAIL, 0,
		    "show message takes a message or an envelope id");
		return;
	}
	(void)strlcpy(msgid, id, sizeof(msgid));	/* the msgid part */
	if (queue_msg_find(msgid) == NULL ||
	    (queue_evpid_valid(id) && queue_env_find(id) == NULL)) {
		ctl_result(cl, RESULT_PERMFAIL, 0,
		    "no such message or envelope");
		return;
	}
	if ((fd = queue_store_open_message(msgid)) == -1) {
		log_warn("%s queue ctl-message-failed", msgid);
		ctl_result(cl, RESULT_TEMPFAIL, 0,
		    "the message file cannot be opened");
		return;
	}
	log_info("%s queue message-shown by=sallyctl", msgid);
	ipc_out_init(&out, MSG_CTL_MESSAGE_FD, cl->peerid);
	(void)ipc_conn_send(cl->conn, &out, fd);
	cl->busy = 0;
}
