/*
 * common/ipc.c: the payload helpers, the record checks of ipc_parse, the
 * blocking transport over a real socketpair (descriptor passing
 * included) and the HELLO exchange; and log_vis of common/log.c, which
 * makes what a peer sent safe to log.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "ipc.h"
#include "log.h"
#include "proto.h"

#define REC_MAX		(sizeof(struct ipc_hdr) + IPC_PAYLOAD_MAX_BYTES)

/* Lays out a record as the transport does: header, then payload. */
static size_t
record(const struct ipc_out *o, uint8_t *rec)
{
	memcpy(rec, &o->hdr, sizeof(o->hdr));
	memcpy(rec + sizeof(o->hdr), o->buf, o->hdr.len);
	return sizeof(o->hdr) + o->hdr.len;
}

/* A record of type with payload p as is; hdr.len says len. */
static size_t
raw(uint8_t *rec, uint32_t type, uint32_t len, uint32_t flags,
    const void *p, size_t plen)
{
	struct ipc_hdr	 h = { type, len, 0, flags };

	memcpy(rec, &h, sizeof(h));
	if (plen > 0)
		memcpy(rec + sizeof(h), p, plen);
	return sizeof(h) + plen;
}

/* Sends a record with 0, 1 or 2 descriptors, bypassing ipc_send_sync. */
static void
send_raw(int fd, const uint8_t *rec, size_t len, const int *fds, int nfds)
{
	struct msghdr	 mh;
	struct iovec	 iov;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(2 * sizeof(int))];
	} cb;
	struct cmsghdr	*cm;

	memset(&mh, 0, sizeof(mh));
	memset(&cb, 0, sizeof(cb));
	iov.iov_base = (void *)(uintptr_t)rec;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds > 0) {
		mh.msg_control = cb.buf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	}
	cr_assert_eq(sendmsg(fd, &mh, 0), (ssize_t)len, "sendmsg: %s",
	    strerror(errno));
}

/*
 * After the receiver has dropped a passed pipe write end (and we closed
 * ours), the read end sees EOF; a leaked copy would leave it at EAGAIN.
 */
static void
assert_pipe_closed(int rfd)
{
	char	 c;

	cr_assert_neq(fcntl(rfd, F_SETFL, O_NONBLOCK), -1);
	cr_assert_eq(read(rfd, &c, 1), 0, "descriptor leaked");
}

static struct ipc_out *
out_new(uint32_t type)
{
	struct ipc_out	*o;

	cr_assert_not_null(o = malloc(sizeof(*o)));
	ipc_out_init(o, type, 7);
	return o;
}

Test(ipc, roundtrip)
{
	struct ipc_out	*o = out_new(MSG_AUTH_USER_RESULT);
	struct ipc_msg	 m;
	uint8_t		 rec[256], data[5] = { 1, 2, 0, 4, 5 }, d[5];
	char		 s[16];
	uint32_t	 u32;
	uint64_t	 u64;

	ipc_put_u32(o, 0xdeadbeef);
	ipc_put_u64(o, 0x0123456789abcdefULL);
	ipc_put_str(o, "hello");
	ipc_put_str(o, "");
	ipc_put_data(o, data, sizeof(data));
	cr_assert_eq(ipc_out_error(o), 0);
	cr_assert_eq(o->hdr.len, 4 + 8 + 4 + 5 + 4 + 5);
	cr_assert_eq(ipc_parse(&m, rec, record(o, rec)), 0);
	cr_assert_eq(m.fd, -1);
	cr_assert_eq(m.hdr.type, MSG_AUTH_USER_RESULT);
	cr_assert_eq(m.hdr.peerid, 7);
	cr_assert_eq(ipc_get_u32(&m, &u32), 0);
	cr_assert_eq(u32, 0xdeadbeef);
	cr_assert_eq(ipc_get_u64(&m, &u64), 0);
	cr_assert_eq(u64, 0x0123456789abcdefULL);
	cr_assert_eq(ipc_get_str(&m, s, sizeof(s)), 0);
	cr_assert_str_eq(s, "hello");
	cr_assert_neq(ipc_get_end(&m), 0);
	cr_assert_eq(ipc_get_str(&m, s, sizeof(s)), 0);
	cr_assert_str_eq(s, "");
	cr_assert_eq(ipc_get_data(&m, d, sizeof(d)), 0);
	cr_assert_arr_eq(d, data, sizeof(d));
	cr_assert_eq(ipc_get_end(&m), 0);
	/* Nothing more to read. */
	cr_assert_eq(ipc_get_u32(&m, &u32), -1);
	free(o);
}

/* Payloads too short for what is read from them. */
enum read_kind { R_U32, R_U64, R_STR, R_DATA8 };

struct shortcase {
	uint8_t		 payload[16];
	size_t		 len;
	enum read_kind	 kind;
};

static struct shortcase shorts[] = {
	{ { 0 }, 0, R_U32 },
	{ { 1, 2, 3 }, 3, R_U32 },
	{ { 1, 2, 3, 4, 5, 6, 7 }, 7, R_U64 },
	{ { 1, 2, 3, 4 }, 4, R_U64 },
	{ { 5, 0 }, 2, R_STR },			/* half a length */
	{ { 5, 0, 0, 0, 'a', 'b', 'c', 'd' }, 8, R_STR },
	{ { 1, 0, 0, 0 }, 4, R_STR },
	{ { 0xff, 0xff, 0xff, 0xff, 'a' }, 5, R_STR },
	{ { 1, 2, 3, 4, 5, 6, 7 }, 7, R_DATA8 },
};

ParameterizedTestParameters(ipc, short_payload)
{
	return cr_make_param_array(struct shortcase, shorts,
	    sizeof(shorts) / sizeof(shorts[0]));
}

ParameterizedTest(struct shortcase *c, ipc, short_payload)
{
	struct ipc_msg	 m;
	uint8_t		 rec[64], d[8];
	char		 s[64];
	uint32_t	 u32;
	uint64_t	 u64;
	int		 r = 0;

	cr_assert_eq(ipc_parse(&m, rec, raw(rec, MSG_CTL_RESULT,
	    (uint32_t)c->len, 0, c->payload, c->len)), 0);
	switch (c->kind) {
	case R_U32:
		r = ipc_get_u32(&m, &u32);
		break;
	case R_U64:
		r = ipc_get_u64(&m, &u64);
		break;
	case R_STR:
		r = ipc_get_str(&m, s, sizeof(s));
		break;
	case R_DATA8:
		r = ipc_get_data(&m, d, sizeof(d));
		break;
	}
	cr_assert_eq(r, -1);
	/* A failed read consumes nothing. */
	cr_assert_eq(m.off, 0);
}

Test(ipc, trailing_bytes)
{
	struct ipc_msg	 m;
	uint8_t		 rec[64], p[5] = { 1, 0, 0, 0, 9 }, b;
	uint32_t	 u32;

	cr_assert_eq(ipc_parse(&m, rec, raw(rec, MSG_CTL_RESULT, 5, 0, p, 5)),
	    0);
	cr_assert_eq(ipc_get_u32(&m, &u32), 0);
	cr_assert_eq(u32, 1);
	cr_assert_eq(ipc_get_end(&m), -1);
	cr_assert_eq(ipc_get_data(&m, &b, 1), 0);
	cr_assert_eq(ipc_get_end(&m), 0);
}

Test(ipc, str_embedded_nul)
{
	struct ipc_msg	 m;
	uint8_t		 rec[64], p[] = { 3, 0, 0, 0, 'a', 0, 'b' };
	char		 s[16];

	cr_assert_eq(ipc_parse(&m, rec, raw(rec, MSG_CTL_RESULT, sizeof(p), 0,
	    p, sizeof(p))), 0);
	cr_assert_eq(ipc_get_str(&m, s, sizeof(s)), -1);
	cr_assert_eq(m.off, 0);
}

Test(ipc, str_dst_size)
{
	struct ipc_out	*o = out_new(MSG_CTL_RESULT);
	struct ipc_msg	 m;
	uint8_t		 rec[64];
	char		 s[6];

	ipc_put_str(o, "hello");
	cr_assert_eq(ipc_parse(&m, rec, record(o, rec)), 0);
	/* Five bytes and the NUL need six. */
	cr_assert_eq(ipc_get_str(&m, s, 5), -1);
	cr_assert_eq(ipc_get_str(&m, s, 0), -1);
	cr_assert_eq(m.off, 0);
	cr_assert_eq(ipc_get_str(&m, s, 6), 0);
	cr_assert_str_eq(s, "hello");
	cr_assert_eq(ipc_get_end(&m), 0);
	free(o);
}

Test(ipc, str_limit)
{
	struct ipc_out	*o = out_new(MSG_CTL_RESULT);
	struct ipc_msg	 m;
	uint8_t		*rec;
	char		*s, *dst;
	uint32_t	 len = IPC_STRING_MAX_BYTES + 1;

	cr_assert_not_null(s = malloc(IPC_STRING_MAX_BYTES + 2));
	cr_assert_not_null(dst = malloc(2 * IPC_STRING_MAX_BYTES));
	cr_assert_not_null(rec = malloc(REC_MAX));
	memset(s, 'a', IPC_STRING_MAX_BYTES);
	s[IPC_STRING_MAX_BYTES] = '\0';
	ipc_put_str(o, s);
	cr_assert_eq(ipc_out_error(o), 0);
	cr_assert_eq(ipc_parse(&m, rec, record(o, rec)), 0);
	cr_assert_eq(ipc_get_str(&m, dst, 2 * IPC_STRING_MAX_BYTES), 0);
	cr_assert_eq(strlen(dst), IPC_STRING_MAX_BYTES);

	/* One byte more is refused by the builder and by the reader. */
	s[IPC_STRING_MAX_BYTES] = 'a';
	s[IPC_STRING_MAX_BYTES + 1] = '\0';
	ipc_out_init(o, MSG_CTL_RESULT, 0);
	ipc_put_str(o, s);
	cr_assert_eq(ipc_out_error(o), 1);
	memcpy(dst, &len, sizeof(len));
	memcpy(dst + sizeof(len), s, len);
	cr_assert_eq(ipc_parse(&m, rec, raw(rec, MSG_CTL_RESULT, len + 4, 0,
	    dst, len + 4)), 0);
	cr_assert_eq(ipc_get_str(&m, dst, 2 * IPC_STRING_MAX_BYTES), -1);
	free(s);
	free(dst);
	free(rec);
	free(o);
}

/* Past the payload limit the builder latches an error; sending fails. */
Test(ipc, payload_limit)
{
	struct ipc_out	*o = out_new(MSG_CTL_RESULT);
	uint8_t		*big;
	int		 sv[2];

	cr_assert_not_null(big = calloc(1, IPC_PAYLOAD_MAX_BYTES));
	ipc_put_data(o, big, IPC_PAYLOAD_MAX_BYTES - 4);
	ipc_put_u32(o, 1);
	cr_assert_eq(ipc_out_error(o), 0);
	ipc_put_data(o, big, 1);
	cr_assert_eq(ipc_out_error(o), 1);
	/* The error latches: a later small put does not clear it. */
	ipc_put_data(o, big, 0);
	cr_assert_eq(ipc_out_error(o), 1);
	cr_assert_eq(ipc_socketpair(sv), 0);
	errno = 0;
	cr_assert_eq(ipc_send_sync(sv[0], o, -1), -1);
	cr_assert_eq(errno, EMSGSIZE);
	free(big);
	free(o);
}

struct parsecase {
	uint32_t	 type;
	uint32_t	 hdrlen;	/* what the header says */
	size_t		 plen;		/* payload bytes in the record */
	uint32_t	 flags;
	int		 want;
};

static struct parsecase parses[] = {
	{ MSG_HELLO,		8,	8,	0,		0 },
	{ MSG_CTL_END,		0,	0,	0,		0 },
	{ MSG_HELLO,		9,	8,	0,		-1 },
	{ MSG_HELLO,		7,	8,	0,		-1 },
	{ MSG_HELLO,		0,	8,	0,		-1 },
	{ MSG_NONE,		0,	0,	0,		-1 },
	{ MSG_MAX,		0,	0,	0,		-1 },
	{ MSG_MAX + 1,		0,	0,	0,		-1 },
	{ 0xffffffff,		0,	0,	0,		-1 },
	{ MSG_CTL_END,		0,	0,	IPC_F_FD,	0 },
	{ MSG_CTL_END,		0,	0,	0x2,		-1 },
	{ MSG_CTL_END,		0,	0,	0x80000000,	-1 },
	{ MSG_CTL_RESULT, IPC_PAYLOAD_MAX_BYTES, IPC_PAYLOAD_MAX_BYTES, 0, 0 },
	{ MSG_CTL_RESULT, IPC_PAYLOAD_MAX_BYTES + 1,
	    IPC_PAYLOAD_MAX_BYTES + 1, 0, -1 },
	{ MSG_CTL_RESULT, 0xffffffff, 16, 0, -1 },
};

ParameterizedTestParameters(ipc, parse)
{
	return cr_make_param_array(struct parsecase, parses,
	    sizeof(parses) / sizeof(parses[0]));
}

ParameterizedTest(struct parsecase *c, ipc, parse)
{
	struct ipc_msg	 m;
	uint8_t		*rec, *p;

	cr_assert_not_null(rec = malloc(REC_MAX + 16));
	cr_assert_not_null(p = calloc(1, c->plen + 1));
	cr_assert_eq(ipc_parse(&m, rec, raw(rec, c->type, c->hdrlen,
	    c->flags, p, c->plen)), c->want);
	free(p);
	free(rec);
}

Test(ipc, parse_short_record)
{
	struct ipc_msg	 m;
	uint8_t		 rec[sizeof(struct ipc_hdr)];
	size_t		 n;

	n = raw(rec, MSG_CTL_END, 0, 0, NULL, 0);
	cr_assert_eq(ipc_parse(&m, rec, n), 0);
	for (n = 0; n < sizeof(rec); n++)
		cr_assert_eq(ipc_parse(&m, rec, n), -1, "reclen %zu", n);
}

/* A message and a pipe end over a real socketpair. */
Test(ipc, sync_fd)
{
	struct ipc_out	*o = out_new(MSG_QUEUE_DELIVERY_START);
	struct ipc_msg	 m;
	uint8_t		*buf;
	char		 s[16], got[8];
	int		 sv[2], p[2];

	cr_assert_not_null(buf = malloc(REC_MAX));
	cr_assert_eq(ipc_socketpair(sv), 0);
	cr_assert_eq(pipe(p), 0);
	ipc_put_str(o, "evp.1");
	cr_assert_eq(ipc_send_sync(sv[0], o, p[1]), 0);
	cr_assert_eq(close(p[1]), 0);

	cr_assert_eq(ipc_recv_sync(sv[1], &m, buf, REC_MAX), 0);
	cr_assert_eq(m.hdr.type, MSG_QUEUE_DELIVERY_START);
	cr_assert_eq(m.hdr.flags, IPC_F_FD);
	cr_assert_eq(m.hdr.peerid, 7);
	cr_assert_neq(m.fd, -1);
	cr_assert_eq(ipc_get_str(&m, s, sizeof(s)), 0);
	cr_assert_str_eq(s, "evp.1");
	cr_assert_eq(ipc_get_end(&m), 0);
	cr_assert_eq(write(m.fd, "ping", 4), 4);
	ipc_msg_clear(&m);
	cr_assert_eq(m.fd, -1);
	cr_assert_eq(read(p[0], got, sizeof(got)), 4);
	cr_assert_arr_eq(got, "ping", 4);
	/* ipc_msg_clear closed the last write end. */
	assert_pipe_closed(p[0]);

	/* Without a descriptor. */
	ipc_out_init(o, MSG_CTL_END, 3);
	cr_assert_eq(ipc_send_sync(sv[0], o, -1), 0);
	cr_assert_eq(ipc_recv_sync(sv[1], &m, buf, REC_MAX), 0);
	cr_assert_eq(m.hdr.type, MSG_CTL_END);
	cr_assert_eq(m.hdr.flags, 0);
	cr_assert_eq(m.fd, -1);
	cr_assert_eq(ipc_get_end(&m), 0);
	free(buf);
	free(o);
}

/* IPC_F_FD announced, no descriptor sent. */
Test(ipc, recv_flag_without_fd)
{
	struct ipc_msg	 m;
	uint8_t		 rec[64], buf[64];
	int		 sv[2];

	cr_assert_eq(ipc_socketpair(sv), 0);
	send_raw(sv[0], rec, raw(rec, MSG_CTL_END, 0, IPC_F_FD, NULL, 0),
	    NULL, 0);
	errno = 0;
	cr_assert_eq(ipc_recv_sync(sv[1], &m, buf, sizeof(buf)), -1);
	cr_assert_eq(errno, EBADMSG);
	cr_assert_eq(m.fd, -1);
}

/* A descriptor not announced is refused and closed. */
Test(ipc, recv_fd_without_flag)
{
	struct ipc_msg	 m;
	uint8_t		 rec[64], buf[64];
	int		 sv[2], p[2];

	cr_assert_eq(ipc_socketpair(sv), 0);
	cr_assert_eq(pipe(p), 0);
	send_raw(sv[0], rec, raw(rec, MSG_CTL_END, 0, 0, NULL, 0), &p[1], 1);
	cr_assert_eq(close(p[1]), 0);
	errno = 0;
	cr_assert_eq(ipc_recv_sync(sv[1], &m, buf, sizeof(buf)), -1);
	cr_assert_eq(errno, EBADMSG);
	assert_pipe_closed(p[0]);
}

/* Two descriptors with one message: refused, both closed. */
Test(ipc, recv_two_fds)
{
	struct ipc_msg	 m;
	uint8_t		 rec[64], buf[64];
	int		 sv[2], p[2], q[2], fds[2];

	cr_assert_eq(ipc_socketpair(sv), 0);
	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(pipe(q), 0);
	fds[0] = p[1];
	fds[1] = q[1];
	send_raw(sv[0], rec, raw(rec, MSG_CTL_END, 0, IPC_F_FD, NULL, 0),
	    fds, 2);
	(void)close(p[1]);
	(void)close(q[1]);
	errno = 0;
	cr_assert_eq(ipc_recv_sync(sv[1], &m, buf, sizeof(buf)), -1);
	cr_assert_eq(errno, EBADMSG);
	assert_pipe_closed(p[0]);
	assert_pipe_closed(q[0]);
}

/*
 * An empty record reads like EOF; a descriptor riding on it used to be
 * leaked.
 */
Test(ipc, recv_empty_record_with_fd)
{
	struct ipc_msg	 m;
	uint8_t		 buf[64];
	int		 sv[2], p[2];

	cr_assert_eq(ipc_socketpair(sv), 0);
	cr_assert_eq(pipe(p), 0);
	send_raw(sv[0], buf, 0, &p[1], 1);
	cr_assert_eq(close(p[1]), 0);
	cr_assert_eq(ipc_recv_sync(sv[1], &m, buf, sizeof(buf)), -1);
	assert_pipe_closed(p[0]);
}

Test(ipc, recv_malformed)
{
	struct ipc_msg	 m;
	uint8_t		 rec[64], buf[64], p[8] = { 0 };
	int		 sv[2];

	cr_assert_eq(ipc_socketpair(sv), 0);
	/* The header says 4 bytes, 8 come. */
	send_raw(sv[0], rec, raw(rec, MSG_HELLO, 4, 0, p, 8), NULL, 0);
	errno = 0;
	cr_assert_eq(ipc_recv_sync(sv[1], &m, buf, sizeof(buf)), -1);
	cr_assert_eq(errno, EBADMSG);
	/* An unknown type. */
	send_raw(sv[0], rec, raw(rec, MSG_MAX, 0, 0, NULL, 0), NULL, 0);
	errno = 0;
	cr_assert_eq(ipc_recv_sync(sv[1], &m, buf, sizeof(buf)), -1);
	cr_assert_eq(errno, EBADMSG);
	/* Bigger than the buffer: truncated, refused. */
	send_raw(sv[0], rec, raw(rec, MSG_HELLO, 8, 0, p, 8), NULL, 0);
	errno = 0;
	cr_assert_eq(ipc_recv_sync(sv[1], &m, buf, 20), -1);
	cr_assert_eq(errno, EBADMSG);
	/* The peer gone. */
	cr_assert_eq(close(sv[0]), 0);
	errno = 0;
	cr_assert_eq(ipc_recv_sync(sv[1], &m, buf, sizeof(buf)), -1);
	cr_assert_eq(errno, ECONNRESET);
}

/*
 * What the peer says in its HELLO, crafted by hand, and whether
 * ipc_hello_sync(ROLE_CTL, accept) takes it.
 */
struct hellocase {
	uint32_t	 type;
	uint32_t	 version;
	uint32_t	 role;
	int		 nwords;	/* u32s in the payload; 2 is right */
	int		 withfd;
	uint32_t	 accept;
	int		 want;
};

#define QBIT	ROLE_BIT(ROLE_QUEUED)

static struct hellocase hellos[] = {
	{ MSG_HELLO, PROTO_VERSION, ROLE_QUEUED, 2, 0, QBIT, 0 },
	{ MSG_HELLO, PROTO_VERSION, ROLE_QUEUED, 2, 0,
	    ROLE_BIT(ROLE_SMTPD) | QBIT, 0 },
	{ MSG_HELLO, PROTO_VERSION, ROLE_SMTPD, 2, 0, QBIT, -1 },
	{ MSG_HELLO, PROTO_VERSION + 1, ROLE_QUEUED, 2, 0, QBIT, -1 },
	{ MSG_HELLO, PROTO_VERSION - 1, ROLE_QUEUED, 2, 0, QBIT, -1 },
	{ MSG_HELLO, 0, ROLE_QUEUED, 2, 0, QBIT, -1 },
	{ MSG_HELLO, PROTO_VERSION, ROLE_NONE, 2, 0, 0xffffffff, -1 },
	{ MSG_HELLO, PROTO_VERSION, ROLE_MAX, 2, 0, 0xffffffff, -1 },
	{ MSG_HELLO, PROTO_VERSION, 31, 2, 0, 0xffffffff, -1 },
	{ MSG_HELLO, PROTO_VERSION, ROLE_QUEUED, 3, 0, QBIT, -1 },
	{ MSG_HELLO, PROTO_VERSION, ROLE_QUEUED, 1, 0, QBIT, -1 },
	{ MSG_HELLO, PROTO_VERSION, ROLE_QUEUED, 0, 0, QBIT, -1 },
	{ MSG_HELLO, PROTO_VERSION, ROLE_QUEUED, 2, 1, QBIT, -1 },
	{ MSG_CTL_END, PROTO_VERSION, ROLE_QUEUED, 2, 0, QBIT, -1 },
};

ParameterizedTestParameters(ipc, hello)
{
	return cr_make_param_array(struct hellocase, hellos,
	    sizeof(hellos) / sizeof(hellos[0]));
}

ParameterizedTest(struct hellocase *c, ipc, hello)
{
	struct ipc_msg	 m;
	uint32_t	 words[3] = { c->version, c->role, 0 }, v, r;
	uint8_t		 rec[64], *buf;
	int		 sv[2], p[2];

	cr_assert_not_null(buf = malloc(REC_MAX));
	cr_assert_eq(ipc_socketpair(sv), 0);
	cr_assert_eq(pipe(p), 0);
	send_raw(sv[1], rec, raw(rec, c->type, c->nwords * 4,
	    c->withfd ? IPC_F_FD : 0, words, c->nwords * 4), &p[1],
	    c->withfd);
	errno = 0;
	cr_assert_eq(ipc_hello_sync(sv[0], ROLE_CTL, c->accept), c->want);
	if (c->want == -1)
		cr_assert(errno == EPROTO, "errno %s", strerror(errno));
	/* Ours went out either way: our version and role, nothing else. */
	cr_assert_eq(ipc_recv_sync(sv[1], &m, buf, REC_MAX), 0);
	cr_assert_eq(m.hdr.type, MSG_HELLO);
	cr_assert_eq(m.fd, -1);
	cr_assert_eq(ipc_get_u32(&m, &v), 0);
	cr_assert_eq(ipc_get_u32(&m, &r), 0);
	cr_assert_eq(ipc_get_end(&m), 0);
	cr_assert_eq(v, PROTO_VERSION);
	cr_assert_eq(r, ROLE_CTL);
	free(buf);
}

/* Both ends call ipc_hello_sync: a child process plays the queue. */
Test(ipc, hello_both_ends)
{
	pid_t	 pid;
	int	 sv[2], status;

	cr_assert_eq(ipc_socketpair(sv), 0);
	cr_assert_neq(pid = fork(), -1);
	if (pid == 0)
		_exit(ipc_hello_sync(sv[1], ROLE_QUEUED,
		    ROLE_BIT(ROLE_CTL)) == 0 ? 0 : 1);
	cr_assert_eq(ipc_hello_sync(sv[0], ROLE_CTL, ROLE_BIT(ROLE_QUEUED)),
	    0);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cr_assert_eq(close(sv[0]), 0);
	cr_assert_eq(close(sv[1]), 0);

	/* No peer at all. */
	cr_assert_eq(ipc_socketpair(sv), 0);
	cr_assert_eq(close(sv[1]), 0);
	cr_assert_eq(ipc_hello_sync(sv[0], ROLE_CTL, ROLE_BIT(ROLE_QUEUED)),
	    -1);
}

Test(ipc, names)
{
	cr_assert_str_eq(ipc_type_name(MSG_HELLO), "HELLO");
	cr_assert_str_eq(ipc_type_name(MSG_CTL_END), "CTL_END");
	cr_assert_str_eq(ipc_type_name(MSG_NONE), "UNKNOWN");
	cr_assert_str_eq(ipc_type_name(MSG_MAX), "UNKNOWN");
	cr_assert_str_eq(ipc_type_name(0xffffffff), "UNKNOWN");
	cr_assert_str_eq(ipc_role_name(ROLE_QUEUED), "queued");
	cr_assert_str_eq(ipc_role_name(ROLE_CTL), "sallyctl");
	cr_assert_str_eq(ipc_role_name(ROLE_MAX), "unknown");
}

/* Every message type has a name: a new type without one is caught. */
Test(ipc, every_type_named)
{
	uint32_t	 t;

	for (t = MSG_NONE + 1; t < MSG_MAX; t++)
		cr_assert_str_neq(ipc_type_name(t), "UNKNOWN", "type %u", t);
}

/* log_vis: control characters made visible, truncation with "...". */
#define VIS_MAX		64

struct viscase {
	char	 src[VIS_MAX];
	size_t	 srclen;	/* 0: strlen(src) */
	size_t	 dstlen;
	char	 want[VIS_MAX];
};

static struct viscase vises[] = {
	{ "hello", 0, 64, "hello" },
	{ "", 0, 64, "" },
	{ "key=value with spaces", 0, 64, "key=value with spaces" },
	{ "a\nb", 0, 64, "a\\nb" },
	{ "a\r\nb", 0, 64, "a\\r\\nb" },
	{ "\t", 0, 64, "\\t" },
	{ "\b\a", 0, 64, "\\b\\a" },
	{ "\033[2J", 0, 64, "\\^[[2J" },
	{ "\001\177", 0, 64, "\\^A\\^?" },
	{ "\377", 0, 64, "\\M^?" },
	{ "a\0b", 3, 64, "a\\0b" },
	{ "a\0001", 3, 64, "a\\0001" },
	{ "back\\slash", 0, 64, "back\\\\slash" },
	{ "abcdef", 3, 64, "abc" },
	/* Fits exactly: 31 bytes and the NUL. */
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0, 32,
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" },
	/* One more: as much as fits with "...". */
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0, 32,
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaa..." },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0, 8,
	    "aaaa..." },
	/* An encoded character is never cut in half. */
	{ "\n\n\n\n\n\n\n\n\n\n", 0, 16, "\\n\\n\\n\\n\\n\\n..." },
	{ "abcd\n\n\n", 0, 11, "abcd\\n\\n\\n" },
	{ "abcd\n\n\n", 0, 10, "abcd\\n..." },
	{ "\377\377\377", 0, 10, "\\M^?..." },
	{ "\377\377", 0, 10, "\\M^?\\M^?" },
	/* Too small for anything. */
	{ "hello", 0, 7, "" },
};

ParameterizedTestParameters(log, vis)
{
	return cr_make_param_array(struct viscase, vises,
	    sizeof(vises) / sizeof(vises[0]));
}

ParameterizedTest(struct viscase *c, log, vis)
{
	char	 dst[VIS_MAX * 4 + 16];
	size_t	 srclen = c->srclen ? c->srclen : strlen(c->src), i;

	memset(dst, 'Z', sizeof(dst));
	cr_assert_eq(log_vis(dst, c->dstlen, c->src, srclen), dst);
	cr_assert_str_eq(dst, c->want, "dstlen %zu: got \"%s\" want \"%s\"",
	    c->dstlen, dst, c->want);
	cr_assert_lt(strlen(dst), c->dstlen);
	/* Nothing written past dstlen. */
	for (i = c->dstlen; i < sizeof(dst); i++)
		cr_assert_eq(dst[i], 'Z', "byte %zu written", i);
}

/* No control byte survives, whatever the input. */
Test(log, vis_all_bytes)
{
	char	 src[256], dst[256 * 4 + 1];
	size_t	 i;

	for (i = 0; i < sizeof(src); i++)
		src[i] = (char)i;
	log_vis(dst, sizeof(dst), src, sizeof(src));
	cr_assert_eq(strlen(dst) > 256, 1);
	for (i = 0; dst[i] != '\0'; i++)
		cr_assert(dst[i] >= 0x20 && dst[i] < 0x7f, "byte 0x%02x at %zu",
		    (unsigned char)dst[i], i);
}
