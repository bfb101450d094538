/*
 * The marshalling of sallyport's IPC messages (see ipc.h): building a
 * message into an ipc_out, and reading one back with checks that refuse
 * short and trailing data.  Pure: no I/O, only closing a received
 * descriptor in ipc_msg_clear().  The sockets are in ipc.c.
 */
#include <sys/types.h>

#include <string.h>
#include <unistd.h>

#include "ipc.h"
#include "proto.h"

void
ipc_out_init(struct ipc_out *o, uint32_t type, uint32_t peerid)
{
	o->hdr.type = type;
	o->hdr.len = 0;
	o->hdr.peerid = peerid;
	o->hdr.flags = 0;
	o->error = 0;
}

void
ipc_put_data(struct ipc_out *o, const void *p, size_t len)
{
	if (o->error)
		return;
	if (len > sizeof(o->buf) - o->hdr.len) {
		o->error = 1;
		return;
	}
	if (len > 0)
		memcpy(o->buf + o->hdr.len, p, len);
	o->hdr.len += len;
}

void
ipc_put_u32(struct ipc_out *o, uint32_t v)
{
	ipc_put_data(o, &v, sizeof(v));
}

void
ipc_put_u64(struct ipc_out *o, uint64_t v)
{
	ipc_put_data(o, &v, sizeof(v));
}

void
ipc_put_str(struct ipc_out *o, const char *s)
{
	size_t	 len = strlen(s);

	if (len > IPC_STRING_MAX_BYTES) {
		o->error = 1;
		return;
	}
	ipc_put_u32(o, (uint32_t)len);
	ipc_put_data(o, s, len);
}

void
ipc_put_bytes(struct ipc_out *o, const void *p, size_t len)
{
	if (len > UINT32_MAX) {
		o->error = 1;
		return;
	}
	ipc_put_u32(o, (uint32_t)len);
	ipc_put_data(o, p, len);
}

int
ipc_out_error(const struct ipc_out *o)
{
	return o->error;
}

int
ipc_get_data(struct ipc_msg *m, void *p, size_t len)
{
	if (len > m->hdr.len - m->off)
		return -1;
	if (len > 0)
		memcpy(p, m->data + m->off, len);
	m->off += len;
	return 0;
}

int
ipc_get_u32(struct ipc_msg *m, uint32_t *v)
{
	return ipc_get_data(m, v, sizeof(*v));
}

int
ipc_get_u64(struct ipc_msg *m, uint64_t *v)
{
	return ipc_get_data(m, v, sizeof(*v));
}

int
ipc_get_str(struct ipc_msg *m, char *dst, size_t dstlen)
{
	uint32_t	 len;
	size_t		 save = m->off;

	if (ipc_get_u32(m, &len) == -1)
		goto fail;
	if (len > IPC_STRING_MAX_BYTES || len >= dstlen ||
	    len > m->hdr.len - m->off)
		goto fail;
	if (memchr(m->data + m->off, '\0', len) != NULL)
		goto fail;
	memcpy(dst, m->data + m->off, len);
	dst[len] = '\0';
	m->off += len;
	return 0;
fail:
	m->off = save;
	return -1;
}

int
ipc_get_bytes(struct ipc_msg *m, const uint8_t **p, size_t *len,
    size_t max)
{
	uint32_t	 n;
	size_t		 save = m->off;

	if (ipc_get_u32(m, &n) == -1 || n > max || n > m->hdr.len - m->off) {
		m->off = save;
		return -1;
	}
	*p = m->data + m->off;
	*len = n;
	m->off += n;
	return 0;
}

int
ipc_get_end(const struct ipc_msg *m)
{
	return m->off == m->hdr.len ? 0 : -1;
}

int
ipc_parse(struct ipc_msg *m, const uint8_t *rec, size_t reclen)
{
	m->fd = -1;
	if (reclen < sizeof(m->hdr))
		return -1;
	memcpy(&m->hdr, rec, sizeof(m->hdr));
	if (m->hdr.len > IPC_PAYLOAD_MAX_BYTES ||
	    m->hdr.len != reclen - sizeof(m->hdr))
		return -1;
	if (m->hdr.type == MSG_NONE || m->hdr.type >= MSG_MAX)
		return -1;
	if ((m->hdr.flags & ~IPC_F_FD) != 0)
		return -1;
	m->data = rec + sizeof(m->hdr);
	m->off = 0;
	return 0;
}

void
ipc_msg_clear(struct ipc_msg *m)
{
	if (m->fd != -1) {
		(void)close(m->fd);
		m->fd = -1;
	}
}
