/*
 * Framed messages between sallyport processes over Unix-domain
 * SOCK_SEQPACKET sockets: one record is one message, a fixed header and a
 * bounded payload, with at most one descriptor passed by SCM_RIGHTS.
 *
 * Every connection starts with MSG_HELLO both ways (version and role); a
 * peer with another version, a role not accepted, a short or oversized
 * record, a header that disagrees with the record, or a descriptor where
 * none was announced is refused and the connection closed.  What the
 * payload says is checked by the ipc_get_* readers, which fail on short
 * data and whose ipc_get_end() fails on leftover bytes.
 */
#ifndef SALLYPORT_IPC_H
#define SALLYPORT_IPC_H

#include <sys/types.h>
#include <sys/queue.h>
#include <stddef.h>
#include <stdint.h>
#include <event2/event.h>

#include "sp_limits.h"

#define IPC_F_FD	0x01	/* a descriptor comes with this message */

struct ipc_hdr {
	uint32_t	type;
	uint32_t	len;		/* payload bytes */
	uint32_t	peerid;		/* request id, echoed in replies */
	uint32_t	flags;
};

/* A message being built. Errors latch: check ipc_out_error() or send. */
struct ipc_out {
	struct ipc_hdr	hdr;
	uint8_t		buf[IPC_PAYLOAD_MAX_BYTES];
	int		error;
};

/* A message received: read it with the ipc_get_* helpers. */
struct ipc_msg {
	struct ipc_hdr	hdr;
	const uint8_t	*data;
	size_t		off;
	int		fd;		/* -1, or the descriptor, owned by the
					   handler: close it or keep it */
};

/* Builders. */
void	ipc_out_init(struct ipc_out *, uint32_t type, uint32_t peerid);
void	ipc_put_u32(struct ipc_out *, uint32_t);
void	ipc_put_u64(struct ipc_out *, uint64_t);
void	ipc_put_data(struct ipc_out *, const void *, size_t);
/* A string (NUL excluded), length-prefixed; over IPC_STRING_MAX_BYTES fails. */
void	ipc_put_str(struct ipc_out *, const char *);
/* Any bytes, length-prefixed (u32), as far as the payload has room. */
void	ipc_put_bytes(struct ipc_out *, const void *, size_t);
int	ipc_out_error(const struct ipc_out *);

/* Readers; each returns 0, or -1 when the payload is short or invalid. */
int	ipc_get_u32(struct ipc_msg *, uint32_t *);
int	ipc_get_u64(struct ipc_msg *, uint64_t *);
int	ipc_get_data(struct ipc_msg *, void *, size_t);
/*
 * A string into dst, NUL-terminated; fails when it does not fit, or holds
 * a NUL byte.
 */
int	ipc_get_str(struct ipc_msg *, char *dst, size_t dstlen);
/*
 * Length-prefixed bytes, at most max of them: *p points into the
 * message (valid until it is cleared), *len is their count.
 */
int	ipc_get_bytes(struct ipc_msg *, const uint8_t **p, size_t *len,
	    size_t max);
/* Fails when bytes are left over. */
int	ipc_get_end(const struct ipc_msg *);
/* Parses a raw record (header + payload) into msg; used by the transport. */
int	ipc_parse(struct ipc_msg *, const uint8_t *rec, size_t reclen);
/* Closes a descriptor that came with a message, if any. */
void	ipc_msg_clear(struct ipc_msg *);

const char	*ipc_type_name(uint32_t type);
const char	*ipc_role_name(uint32_t role);

/* An event-driven connection. */
struct ipc_conn;
typedef void	(*ipc_dispatch_cb)(struct ipc_conn *, struct ipc_msg *, void *);
typedef void	(*ipc_closed_cb)(struct ipc_conn *, void *);

/*
 * Wraps a connected SOCK_SEQPACKET descriptor, sends MSG_HELLO with
 * our role, and accepts only a peer whose role is in accept_roles (a
 * ROLE_BIT mask).  dispatch sees every message after the HELLO; it must
 * not free the connection, but may end it with ipc_conn_close().  closed
 * is called once, from the event loop, after which no callback runs
 * again and the owner frees the connection with ipc_conn_free().
 */
struct ipc_conn	*ipc_conn_new(struct event_base *, int fd, uint32_t my_role,
		    uint32_t accept_roles, ipc_dispatch_cb, ipc_closed_cb,
		    void *arg);
void		 ipc_conn_free(struct ipc_conn *);
/* Queues a message; passfd (or -1) is closed once sent.  -1 on error. */
int		 ipc_conn_send(struct ipc_conn *, struct ipc_out *, int passfd);
/* Builds and queues a message with no payload. */
int		 ipc_conn_send_empty(struct ipc_conn *, uint32_t type,
		    uint32_t peerid);
/* Ends a connection at once from inside a callback (fail-closed). */
void		 ipc_conn_close(struct ipc_conn *, const char *why);
uint32_t	 ipc_conn_peer_role(const struct ipc_conn *);
uid_t		 ipc_conn_peer_uid(const struct ipc_conn *);
pid_t		 ipc_conn_peer_pid(const struct ipc_conn *);
int		 ipc_conn_fd(const struct ipc_conn *);
/* Messages queued and not yet written: a sender's flow control. */
size_t		 ipc_conn_pending(const struct ipc_conn *);

/* Blocking use, for sallyctl and for start-up paths. */
int	ipc_send_sync(int fd, struct ipc_out *, int passfd);
/* Receives one record into buf (IPC_PAYLOAD_MAX_BYTES + header). */
int	ipc_recv_sync(int fd, struct ipc_msg *, uint8_t *buf, size_t buflen);
/* Sends our HELLO and checks the peer's; -1 on any mismatch. */
int	ipc_hello_sync(int fd, uint32_t my_role, uint32_t accept_roles);

/* Socket helpers. */
int	ipc_socketpair(int sv[2]);
/* Creates, binds and listens on a path; the old socket is replaced. */
int	ipc_listen(const char *path, mode_t mode);
/* The same with another socket type (SOCK_STREAM: submit.sock). */
int	ipc_listen_type(const char *path, mode_t mode, int type);
/* Connects to a path, non-blocking afterwards; -1 with errno set. */
int	ipc_connect(const char *path);
/* The same with another socket type (SOCK_STREAM: submit.sock). */
int	ipc_connect_type(const char *path, int type);
/* The peer's uid and pid (pid -1 where the platform does not say). */
int	ipc_peercred(int fd, uid_t *uid, gid_t *gid, pid_t *pid);

/* Who is at the other end of an accepted connection. */
struct ipc_peer {
	uid_t		 uid;		/* (uid_t)-1 when unread */
	gid_t		 gid;
	pid_t		 pid;
};

/* ipc_accept() returns a descriptor, or one of these. */
#define IPC_ACCEPT_NONE		(-1)	/* nothing accepted, errors logged */
#define IPC_ACCEPT_REFUSED	(-2)	/* accepted, refused and closed */

/*
 * Accepts one connection on the listening socket of ev (an EV_READ |
 * EV_PERSIST event), close-on-exec and non-blocking, reads its peer's
 * credentials into peer and returns the descriptor when the uid is one
 * of the nuids in uids.  A peer not allowed, or whose credentials cannot
 * be read (peer->uid stays (uid_t)-1, errno says why), is closed and
 * IPC_ACCEPT_REFUSED returned: its log line is the caller's, which knows
 * the connection's id and its own limits.  EINTR, EAGAIN and
 * ECONNABORTED return IPC_ACCEPT_NONE quietly; out of descriptors
 * (EMFILE, ENFILE) logs "- <what> paused" and takes ev off for
 * IPC_ACCEPT_PAUSE_SECS, as the pending connection would wake a
 * level-triggered event at once again; any other error logs "- <what>".
 */
int	ipc_accept(struct event *ev, const uid_t *uids, size_t nuids,
	    struct ipc_peer *peer, const char *what);

#endif
