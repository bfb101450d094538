/*
 * Decoders of the queue manager's replies on control.sock, one per
 * message type, with the layouts of common/proto.h.  The queue manager
 * is another process, so its replies are read as untrusted input: every
 * field through the ipc_get_* readers, and no byte left over.
 */
#include <string.h>

#include "ipc.h"
#include "proto.h"
#include "sallyctl.h"

int
ctl_reply_entry(struct ipc_msg *m, struct ctl_entry *e)
{
	if (m->hdr.type != MSG_CTL_QUEUE_ENTRY || m->fd != -1)
		return -1;
	if (ipc_get_str(m, e->evpid, sizeof(e->evpid)) == -1 ||
	    ipc_get_str(m, e->sender, sizeof(e->sender)) == -1 ||
	    ipc_get_str(m, e->rcpt, sizeof(e->rcpt)) == -1 ||
	    ipc_get_u64(m, &e->created) == -1 ||
	    ipc_get_u32(m, &e->retries) == -1 ||
	    ipc_get_u64(m, &e->next_try) == -1 ||
	    ipc_get_str(m, e->error, sizeof(e->error)) == -1 ||
	    ipc_get_str(m, e->state, sizeof(e->state)) == -1 ||
	    !ctl_state_valid(e->state))
		return -1;
	return ipc_get_end(m);
}

int
ctl_state_valid(const char *state)
{
	static const char *const states[] = { "waiting", "active", "held",
	    "paused", "held,paused" };
	size_t	 i;

	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		if (strcmp(state, states[i]) == 0)
			return 1;
	return 0;
}

/* A key of an envelope file: lower-case letters, digits and '-'. */
static int
ctl_key_valid(const char *key)
{
	if (*key == '\0')
		return 0;
	for (; *key != '\0'; key++)
		if ((*key < 'a' || *key > 'z') && (*key < '0' || *key > '9') &&
		    *key != '-')
			return 0;
	return 1;
}

int
ctl_reply_envinfo(struct ipc_msg *m, struct ctl_envinfo *e)
{
	uint32_t	 i;

	if (m->hdr.type != MSG_CTL_ENVELOPE_INFO || m->fd != -1)
		return -1;
	if (ipc_get_str(m, e->evpid, sizeof(e->evpid)) == -1 ||
	    !ctl_msg_valid(e->evpid) || strchr(e->evpid, '.') == NULL ||
	    ipc_get_str(m, e->state, sizeof(e->state)) == -1 ||
	    !ctl_state_valid(e->state) || ipc_get_u32(m, &e->n) == -1 ||
	    e->n > CTL_FIELDS_MAX)
		return -1;
	for (i = 0; i < e->n; i++)
		if (ipc_get_str(m, e->fields[i].key,
		    sizeof(e->fields[i].key)) == -1 ||
		    !ctl_key_valid(e->fields[i].key) ||
		    ipc_get_str(m, e->fields[i].value,
		    sizeof(e->fields[i].value)) == -1)
			return -1;
	return ipc_get_end(m);
}

int
ctl_reply_proc(struct ipc_msg *m, struct ctl_proc *p)
{
	if (m->hdr.type != MSG_CTL_PROC || m->fd != -1)
		return -1;
	if (ipc_get_str(m, p->name, sizeof(p->name)) == -1 ||
	    ipc_get_u32(m, &p->pid) == -1 ||
	    ipc_get_u64(m, &p->started) == -1 ||
	    ipc_get_u32(m, &p->up) == -1)
		return -1;
	return ipc_get_end(m);
}

int
ctl_reply_stat(struct ipc_msg *m, struct ctl_stat *s)
{
	if (m->hdr.type != MSG_CTL_STAT || m->fd != -1)
		return -1;
	if (ipc_get_str(m, s->name, sizeof(s->name)) == -1 ||
	    ipc_get_u64(m, &s->value) == -1)
		return -1;
	return ipc_get_end(m);
}

int
ctl_reply_host(struct ipc_msg *m, struct ctl_host *h)
{
	if (m->hdr.type != MSG_CTL_HOST || m->fd != -1)
		return -1;
	if (ipc_get_str(m, h->dest, sizeof(h->dest)) == -1 ||
	    ipc_get_u32(m, &h->conns) == -1 ||
	    ipc_get_u32(m, &h->queued) == -1 ||
	    ipc_get_u32(m, &h->active) == -1 ||
	    ipc_get_u64(m, &h->backoff_until) == -1 ||
	    ipc_get_str(m, h->error, sizeof(h->error)) == -1)
		return -1;
	return ipc_get_end(m);
}

int
ctl_reply_result(struct ipc_msg *m, struct ctl_result *r)
{
	if (m->hdr.type != MSG_CTL_RESULT || m->fd != -1)
		return -1;
	if (ipc_get_u32(m, &r->result) == -1 ||
	    ipc_get_u32(m, &r->count) == -1 ||
	    ipc_get_str(m, r->message, sizeof(r->message)) == -1)
		return -1;
	if (r->result != RESULT_OK && r->result != RESULT_TEMPFAIL &&
	    r->result != RESULT_PERMFAIL)
		return -1;
	return ipc_get_end(m);
}

int
ctl_reply_end(struct ipc_msg *m)
{
	if (m->hdr.type != MSG_CTL_END || m->fd != -1)
		return -1;
	return ipc_get_end(m);
}
