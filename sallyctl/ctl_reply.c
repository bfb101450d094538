/*
 * Decoders of the queue manager's replies on control.sock, one per
 * message type, with the layouts of common/proto.h.  The queue manager
 * is another process, so its replies are read as untrusted input: every
 * field through the ipc_get_* readers, and no byte left over.
 */
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
	    ipc_get_str(m, e->error, sizeof(e->error)) == -1)
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
