/*
 * The framing shared by every socket between sallyport processes.  See
 * ipc.h for the contract.  SOCK_SEQPACKET keeps record boundaries, so a
 * record is exactly one message and a descriptor travels with its own
 * message; the code still checks that the header agrees with the record.
 * Building and reading the messages themselves is in ipc_msg.c.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc.h"
#include "log.h"
#include "proto.h"

#define IPC_RECORD_MAX_BYTES	(sizeof(struct ipc_hdr) + IPC_PAYLOAD_MAX_BYTES)

struct ipc_wmsg {
	TAILQ_ENTRY(ipc_wmsg)	 entry;
	size_t			 len;
	int			 fd;
	uint8_t			 rec[];
};

struct ipc_conn {
	int			 fd;
	struct event		*ev_read;
	struct event		*ev_write;
	struct event		*ev_closed;
	TAILQ_HEAD(, ipc_wmsg)	 wq;
	size_t			 wq_len;
	uint32_t		 my_role;
	uint32_t		 accept_roles;
	uint32_t		 peer_role;
	uid_t			 peer_uid;
	pid_t			 peer_pid;
	int			 hello_seen;
	int			 closing;
	ipc_dispatch_cb		 dispatch;
	ipc_closed_cb		 closed;
	void			*arg;
};

/* At most this many messages wait to be written before the peer is dropped. */
#define IPC_WQ_MAX		4096

static void	ipc_conn_readcb(evutil_socket_t, short, void *);
static void	ipc_conn_writecb(evutil_socket_t, short, void *);
static void	ipc_conn_closedcb(evutil_socket_t, short, void *);

/*
 * Receives one record and at most one descriptor.  Returns the record
 * length, 0 on EOF, -1 on error (errno EAGAIN when nothing is there,
 * EBADMSG when the record or its control data is malformed).
 */
static ssize_t
ipc_recvrec(int fd, uint8_t *buf, size_t buflen, int *rfd)
{
	struct msghdr	 mh;
	struct iovec	 iov;
	struct cmsghdr	*cm;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * 4)];
	} cmsgbuf;
	ssize_t		 n;
	int		 nfds = 0, i, *fds;

	*rfd = -1;
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = buf;
	iov.iov_len = buflen;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = &cmsgbuf.buf;
	mh.msg_controllen = sizeof(cmsgbuf.buf);
	do {
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET ||
		    cm->cmsg_type != SCM_RIGHTS)
			continue;
		fds = (int *)CMSG_DATA(cm);
		nfds = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfds; i++) {
			if (i == 0 && *rfd == -1)
				*rfd = fds[i];
			else
				(void)close(fds[i]);
		}
	}
	/* An empty record reads as EOF: a descriptor with it must not leak. */
	if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || nfds > 1 ||
	    (n == 0 && *rfd != -1)) {
		if (*rfd != -1)
			(void)close(*rfd);
		*rfd = -1;
		errno = EBADMSG;
		return -1;
	}
	return n;
}

static int
ipc_sendrec(int fd, const uint8_t *rec, size_t len, int passfd)
{
	struct msghdr	 mh;
	struct iovec	 iov;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cmsgbuf;
	struct cmsghdr	*cm;
	ssize_t		 n;

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = (void *)(uintptr_t)rec;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (passfd != -1) {
		memset(&cmsgbuf, 0, sizeof(cmsgbuf));
		mh.msg_control = &cmsgbuf.buf;
		mh.msg_controllen = sizeof(cmsgbuf.buf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		memcpy(CMSG_DATA(cm), &passfd, sizeof(int));
	}
	do {
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	if ((size_t)n != len) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

static size_t
ipc_record(struct ipc_out *o, int passfd, uint8_t *rec)
{
	o->hdr.flags = passfd != -1 ? IPC_F_FD : 0;
	memcpy(rec, &o->hdr, sizeof(o->hdr));
	memcpy(rec + sizeof(o->hdr), o->buf, o->hdr.len);
	return sizeof(o->hdr) + o->hdr.len;
}

int
ipc_send_sync(int fd, struct ipc_out *o, int passfd)
{
	uint8_t		*rec;
	size_t		 len;
	int		 r;

	if (o->error) {
		errno = EMSGSIZE;
		return -1;
	}
	if ((rec = malloc(IPC_RECORD_MAX_BYTES)) == NULL)
		return -1;
	len = ipc_record(o, passfd, rec);
	r = ipc_sendrec(fd, rec, len, passfd);
	free(rec);
	return r;
}

/*
 * Checks that a parsed record's descriptor matches its header flag.
 */
static int
ipc_check_fd(struct ipc_msg *m, int rfd)
{
	if ((m->hdr.flags & IPC_F_FD) != (rfd != -1 ? IPC_F_FD : 0)) {
		if (rfd != -1)
			(void)close(rfd);
		m->fd = -1;
		return -1;
	}
	m->fd = rfd;
	return 0;
}

int
ipc_recv_sync(int fd, struct ipc_msg *m, uint8_t *buf, size_t buflen)
{
	ssize_t		 n;
	int		 rfd;

	m->fd = -1;
	if ((n = ipc_recvrec(fd, buf, buflen, &rfd)) == -1)
		return -1;
	if (n == 0) {
		errno = ECONNRESET;
		return -1;
	}
	if (ipc_parse(m, buf, (size_t)n) == -1) {
		if (rfd != -1)
			(void)close(rfd);
		errno = EBADMSG;
		return -1;
	}
	if (ipc_check_fd(m, rfd) == -1) {
		errno = EBADMSG;
		return -1;
	}
	return 0;
}

static void
ipc_hello_build(struct ipc_out *o, uint32_t my_role)
{
	ipc_out_init(o, MSG_HELLO, 0);
	ipc_put_u32(o, PROTO_VERSION);
	ipc_put_u32(o, my_role);
}

/* Returns the peer's role, or 0 when the HELLO is not acceptable. */
static uint32_t
ipc_hello_check(struct ipc_msg *m, uint32_t accept_roles)
{
	uint32_t	 version, role;

	if (m->hdr.type != MSG_HELLO || m->fd != -1)
		return 0;
	if (ipc_get_u32(m, &version) == -1 || ipc_get_u32(m, &role) == -1 ||
	    ipc_get_end(m) == -1)
		return 0;
	if (version != PROTO_VERSION) {
		log_warnx("ipc hello-refused reason=version peer=%u ours=%u",
		    version, PROTO_VERSION);
		return 0;
	}
	if (role == ROLE_NONE || role >= ROLE_MAX ||
	    (ROLE_BIT(role) & accept_roles) == 0) {
		log_warnx("ipc hello-refused reason=role role=%s",
		    ipc_role_name(role));
		return 0;
	}
	return role;
}

int
ipc_hello_sync(int fd, uint32_t my_role, uint32_t accept_roles)
{
	struct ipc_out	*o;
	struct ipc_msg	 m;
	uint8_t		*buf;
	int		 r = -1;

	if ((o = malloc(sizeof(*o))) == NULL)
		return -1;
	if ((buf = malloc(IPC_RECORD_MAX_BYTES)) == NULL) {
		free(o);
		return -1;
	}
	ipc_hello_build(o, my_role);
	if (ipc_send_sync(fd, o, -1) == 0 &&
	    ipc_recv_sync(fd, &m, buf, IPC_RECORD_MAX_BYTES) == 0) {
		if (ipc_hello_check(&m, accept_roles) != 0)
			r = 0;
		else
			errno = EPROTO;
		ipc_msg_clear(&m);
	}
	free(buf);
	free(o);
	return r;
}

struct ipc_conn *
ipc_conn_new(struct event_base *base, int fd, uint32_t my_role,
    uint32_t accept_roles, ipc_dispatch_cb dispatch, ipc_closed_cb closed,
    void *arg)
{
	struct ipc_conn	*c;
	struct ipc_out	*o;
	gid_t		 gid;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->fd = fd;
	TAILQ_INIT(&c->wq);
	c->my_role = my_role;
	c->accept_roles = accept_roles;
	c->dispatch = dispatch;
	c->closed = closed;
	c->arg = arg;
	c->peer_pid = -1;
	(void)ipc_peercred(fd, &c->peer_uid, &gid, &c->peer_pid);
	if (evutil_make_socket_nonblocking(fd) == -1)
		goto fail;
	c->ev_read = event_new(base, fd, EV_READ | EV_PERSIST,
	    ipc_conn_readcb, c);
	c->ev_write = event_new(base, fd, EV_WRITE, ipc_conn_writecb, c);
	c->ev_closed = event_new(base, -1, 0, ipc_conn_closedcb, c);
	if (c->ev_read == NULL || c->ev_write == NULL || c->ev_closed == NULL)
		goto fail;
	if ((o = malloc(sizeof(*o))) == NULL)
		goto fail;
	ipc_hello_build(o, my_role);
	if (ipc_conn_send(c, o, -1) == -1) {
		free(o);
		goto fail;
	}
	free(o);
	if (event_add(c->ev_read, NULL) == -1)
		goto fail;
	return c;
fail:
	if (c->ev_read)
		event_free(c->ev_read);
	if (c->ev_write)
		event_free(c->ev_write);
	if (c->ev_closed)
		event_free(c->ev_closed);
	free(c);
	return NULL;
}

void
ipc_conn_free(struct ipc_conn *c)
{
	struct ipc_wmsg	*w;

	if (c == NULL)
		return;
	while ((w = TAILQ_FIRST(&c->wq)) != NULL) {
		TAILQ_REMOVE(&c->wq, w, entry);
		if (w->fd != -1)
			(void)close(w->fd);
		free(w);
	}
	event_free(c->ev_read);
	event_free(c->ev_write);
	event_free(c->ev_closed);
	if (c->fd != -1)
		(void)close(c->fd);
	free(c);
}

static void
ipc_conn_closedcb(evutil_socket_t fd, short ev, void *arg)
{
	struct ipc_conn	*c = arg;

	(void)fd;
	(void)ev;
	if (c->closed)
		c->closed(c, c->arg);
}

/*
 * Marks the connection dead, stops its events and tells the owner, once,
 * from the event loop, so that the owner may free the connection in its
 * callback without pulling it from under the code that failed it.
 */
static void
ipc_conn_fail(struct ipc_conn *c, const char *why)
{
	if (c->closing)
		return;
	c->closing = 1;
	if (why != NULL)
		log_warnx("ipc closed peer=%s uid=%ld reason=%s",
		    ipc_role_name(c->peer_role), (long)c->peer_uid, why);
	(void)event_del(c->ev_read);
	(void)event_del(c->ev_write);
	event_active(c->ev_closed, 0, 0);
}

void
ipc_conn_close(struct ipc_conn *c, const char *why)
{
	ipc_conn_fail(c, why);
}

int
ipc_conn_send(struct ipc_conn *c, struct ipc_out *o, int passfd)
{
	struct ipc_wmsg	*w;

	if (c->closing || o->error || c->wq_len >= IPC_WQ_MAX) {
		if (passfd != -1)
			(void)close(passfd);
		if (!c->closing && c->wq_len >= IPC_WQ_MAX)
			ipc_conn_fail(c, "write queue full");
		return -1;
	}
	if ((w = malloc(sizeof(*w) + sizeof(o->hdr) + o->hdr.len)) == NULL) {
		if (passfd != -1)
			(void)close(passfd);
		return -1;
	}
	w->len = ipc_record(o, passfd, w->rec);
	w->fd = passfd;
	TAILQ_INSERT_TAIL(&c->wq, w, entry);
	c->wq_len++;
	if (event_add(c->ev_write, NULL) == -1)
		return -1;
	return 0;
}

int
ipc_conn_send_empty(struct ipc_conn *c, uint32_t type, uint32_t peerid)
{
	struct ipc_out	 o;

	ipc_out_init(&o, type, peerid);
	return ipc_conn_send(c, &o, -1);
}

static void
ipc_conn_writecb(evutil_socket_t fd, short ev, void *arg)
{
	struct ipc_conn	*c = arg;
	struct ipc_wmsg	*w;

	(void)ev;
	while ((w = TAILQ_FIRST(&c->wq)) != NULL) {
		if (ipc_sendrec(fd, w->rec, w->len, w->fd) == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == ENOBUFS) {
				(void)event_add(c->ev_write, NULL);
				return;
			}
			ipc_conn_fail(c, strerror(errno));
			return;
		}
		TAILQ_REMOVE(&c->wq, w, entry);
		c->wq_len--;
		if (w->fd != -1)
			(void)close(w->fd);
		free(w);
	}
}

static void
ipc_conn_readcb(evutil_socket_t fd, short ev, void *arg)
{
	static uint8_t	 rec[IPC_RECORD_MAX_BYTES];
	struct ipc_conn	*c = arg;
	struct ipc_msg	 m;
	ssize_t		 n;
	int		 rfd, i;

	(void)ev;
	/* Read a bounded batch, so one busy peer cannot starve the loop. */
	for (i = 0; i < 64 && !c->closing; i++) {
		if ((n = ipc_recvrec(fd, rec, sizeof(rec), &rfd)) == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			ipc_conn_fail(c, errno == EBADMSG ?
			    "malformed record" : strerror(errno));
			return;
		}
		if (n == 0) {
			ipc_conn_fail(c, NULL);
			return;
		}
		if (ipc_parse(&m, rec, (size_t)n) == -1) {
			if (rfd != -1)
				(void)close(rfd);
			ipc_conn_fail(c, "malformed message");
			return;
		}
		if (ipc_check_fd(&m, rfd) == -1) {
			ipc_conn_fail(c, "unannounced descriptor");
			return;
		}
		if (!c->hello_seen) {
			c->peer_role = ipc_hello_check(&m, c->accept_roles);
			ipc_msg_clear(&m);
			if (c->peer_role == 0) {
				ipc_conn_fail(c, "bad hello");
				return;
			}
			c->hello_seen = 1;
			continue;
		}
		if (m.hdr.type == MSG_HELLO) {
			ipc_msg_clear(&m);
			ipc_conn_fail(c, "second hello");
			return;
		}
		c->dispatch(c, &m, c->arg);
	}
}

uint32_t
ipc_conn_peer_role(const struct ipc_conn *c)
{
	return c->peer_role;
}

uid_t
ipc_conn_peer_uid(const struct ipc_conn *c)
{
	return c->peer_uid;
}

pid_t
ipc_conn_peer_pid(const struct ipc_conn *c)
{
	return c->peer_pid;
}

int
ipc_conn_fd(const struct ipc_conn *c)
{
	return c->fd;
}

size_t
ipc_conn_pending(const struct ipc_conn *c)
{
	return c->wq_len;
}

int
ipc_socketpair(int sv[2])
{
	return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv);
}

int
ipc_listen(const char *path, mode_t mode)
{
	struct sockaddr_un	 sun;
	int			 fd;
	mode_t			 old;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (unlink(path) == -1 && errno != ENOENT)
		goto fail;
	old = umask(0777 & ~mode);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		(void)umask(old);
		goto fail;
	}
	(void)umask(old);
	if (chmod(path, mode) == -1 || listen(fd, 128) == -1)
		goto fail;
	return fd;
fail:
	(void)close(fd);
	return -1;
}

int
ipc_connect(const char *path)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		int saved = errno;

		(void)close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int
ipc_peercred(int fd, uid_t *uid, gid_t *gid, pid_t *pid)
{
#ifdef SO_PEERCRED
	struct ucred	 uc;
	socklen_t	 len = sizeof(uc);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == -1)
		return -1;
	*uid = uc.uid;
	*gid = uc.gid;
	*pid = uc.pid;
	return 0;
#else
	*pid = -1;
	return getpeereid(fd, uid, gid);
#endif
}

static void
ipc_accept_resume(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)event_add(arg, NULL);
}

/* Stops accepting for a while; the once-timer puts ev back. */
static void
ipc_accept_pause(struct event *ev)
{
	struct timeval	 tv = { IPC_ACCEPT_PAUSE_SECS, 0 };

	if (event_base_once(event_get_base(ev), -1, EV_TIMEOUT,
	    ipc_accept_resume, ev, &tv) == 0)
		(void)event_del(ev);
}

static int
ipc_uid_allowed(uid_t uid, const uid_t *uids, size_t nuids)
{
	size_t	 i;

	for (i = 0; i < nuids; i++)
		if (uids[i] == uid)
			return 1;
	return 0;
}

int
ipc_accept(struct event *ev, const uid_t *uids, size_t nuids,
    struct ipc_peer *peer, const char *what)
{
	int	 fd, saved;

	peer->uid = (uid_t)-1;
	peer->gid = (gid_t)-1;
	peer->pid = -1;
	fd = accept4(event_get_fd(ev), NULL, NULL, SOCK_CLOEXEC |
	    SOCK_NONBLOCK);
	if (fd == -1) {
		if (errno == EMFILE || errno == ENFILE) {
			log_warn("- %s paused", what);
			ipc_accept_pause(ev);
		} else if (errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR && errno != ECONNABORTED)
			log_warn("- %s", what);
		return IPC_ACCEPT_NONE;
	}
	if (ipc_peercred(fd, &peer->uid, &peer->gid, &peer->pid) == -1) {
		saved = errno;
		peer->uid = (uid_t)-1;
		(void)close(fd);
		errno = saved;
		return IPC_ACCEPT_REFUSED;
	}
	if (!ipc_uid_allowed(peer->uid, uids, nuids)) {
		(void)close(fd);
		errno = EPERM;
		return IPC_ACCEPT_REFUSED;
	}
	return fd;
}

static const char *const ipc_type_names[MSG_MAX] = {
	[MSG_HELLO] = "HELLO",
	[MSG_CHILD_CONNECT_REQUEST] = "CHILD_CONNECT_REQUEST",
	[MSG_PARENT_CONNECT_REPLY] = "PARENT_CONNECT_REPLY",
	[MSG_AUTH_PASSWORD_CHECK] = "AUTH_PASSWORD_CHECK",
	[MSG_AUTH_PASSWORD_RESULT] = "AUTH_PASSWORD_RESULT",
	[MSG_AUTH_TOKEN_REDEEM] = "AUTH_TOKEN_REDEEM",
	[MSG_AUTH_USER_LOOKUP] = "AUTH_USER_LOOKUP",
	[MSG_AUTH_USER_RESULT] = "AUTH_USER_RESULT",
	[MSG_AUTH_RCPT_CHECK] = "AUTH_RCPT_CHECK",
	[MSG_AUTH_RCPT_RESULT] = "AUTH_RCPT_RESULT",
	[MSG_AUTH_RCPT_EXPAND] = "AUTH_RCPT_EXPAND",
	[MSG_AUTH_EXPAND_RESULT] = "AUTH_EXPAND_RESULT",
	[MSG_SMTP_MESSAGE_CREATE] = "SMTP_MESSAGE_CREATE",
	[MSG_QUEUE_MESSAGE_CREATED] = "QUEUE_MESSAGE_CREATED",
	[MSG_SMTP_MESSAGE_COMMIT] = "SMTP_MESSAGE_COMMIT",
	[MSG_QUEUE_MESSAGE_COMMITTED] = "QUEUE_MESSAGE_COMMITTED",
	[MSG_SMTP_MESSAGE_ABORT] = "SMTP_MESSAGE_ABORT",
	[MSG_QUEUE_DELIVERY_START] = "QUEUE_DELIVERY_START",
	[MSG_DELIVERY_RESULT] = "DELIVERY_RESULT",
	[MSG_POP3_LOGIN_HANDOFF] = "POP3_LOGIN_HANDOFF",
	[MSG_IMAP_LOGIN_HANDOFF] = "IMAP_LOGIN_HANDOFF",
	[MSG_CTL_QUEUE_LIST] = "CTL_QUEUE_LIST",
	[MSG_CTL_QUEUE_ENTRY] = "CTL_QUEUE_ENTRY",
	[MSG_CTL_STATS] = "CTL_STATS",
	[MSG_CTL_STAT] = "CTL_STAT",
	[MSG_CTL_STATUS] = "CTL_STATUS",
	[MSG_CTL_PROC] = "CTL_PROC",
	[MSG_CTL_SCHEDULE] = "CTL_SCHEDULE",
	[MSG_CTL_REMOVE] = "CTL_REMOVE",
	[MSG_CTL_RESULT] = "CTL_RESULT",
	[MSG_CTL_END] = "CTL_END",
	[MSG_PARENT_LOG_VERBOSE] = "PARENT_LOG_VERBOSE",
	[MSG_PARENT_PEER_FD] = "PARENT_PEER_FD",
	[MSG_CHILD_PROC_QUERY] = "CHILD_PROC_QUERY",
	[MSG_PARENT_PROC_STATUS] = "PARENT_PROC_STATUS",
	[MSG_DELIVERY_MAILBOX_WRITE] = "DELIVERY_MAILBOX_WRITE",
	[MSG_MAILBOX_DELIVERY_RESULT] = "MAILBOX_DELIVERY_RESULT",
	[MSG_PARENT_CONF_DATA] = "PARENT_CONF_DATA",
	[MSG_PARENT_CONF_COMMIT] = "PARENT_CONF_COMMIT",
	[MSG_CHILD_CONF_APPLIED] = "CHILD_CONF_APPLIED",
	[MSG_QUEUE_SPOOL_STATUS] = "QUEUE_SPOOL_STATUS",
	[MSG_PARENT_QUEUE_LIMITS] = "PARENT_QUEUE_LIMITS",
	[MSG_QUEUE_RELAY_START] = "QUEUE_RELAY_START",
	[MSG_RELAY_RESULT] = "RELAY_RESULT",
	[MSG_QUEUE_RELAY_HOSTS] = "QUEUE_RELAY_HOSTS",
	[MSG_RELAY_HOST] = "RELAY_HOST",
	[MSG_RELAY_HOSTS_END] = "RELAY_HOSTS_END",
	[MSG_QUEUE_RELAY_STATS] = "QUEUE_RELAY_STATS",
	[MSG_RELAY_STAT] = "RELAY_STAT",
	[MSG_RELAY_STATS_END] = "RELAY_STATS_END",
	[MSG_CTL_HOSTS] = "CTL_HOSTS",
	[MSG_CTL_HOST] = "CTL_HOST",
	[MSG_RELAY_STS_FETCH] = "RELAY_STS_FETCH",
	[MSG_RELAY_STS_POLICY] = "RELAY_STS_POLICY",
};

const char *
ipc_type_name(uint32_t type)
{
	if (type >= MSG_MAX || ipc_type_names[type] == NULL)
		return "UNKNOWN";
	return ipc_type_names[type];
}

static const char *const ipc_role_names[ROLE_MAX] = {
	[ROLE_NONE] = "none",
	[ROLE_AUTHD] = "authd",
	[ROLE_SMTPD] = "smtpd",
	[ROLE_QUEUED] = "queued",
	[ROLE_DELIVERY] = "delivery",
	[ROLE_RELAY] = "relay",
	[ROLE_POP3D] = "pop3d",
	[ROLE_IMAPD] = "imapd",
	[ROLE_CTL] = "sallyctl",
	[ROLE_SENDMAIL] = "sendmail",
	[ROLE_PARENT] = "parent",
	[ROLE_RELAY_STS] = "relay-sts",
};

const char *
ipc_role_name(uint32_t role)
{
	if (role >= ROLE_MAX || ipc_role_names[role] == NULL)
		return "unknown";
	return ipc_role_names[role];
}
