/*
 * A mailbox worker after its privilege drop: runs as the mailbox owner
 * (uid and gid from authd), not chrooted (a mail home may be anywhere the
 * users table says), under the SANDBOX_MAILBOX system-call filter, which
 * the agent compiled once at its start and the worker only installs.  It
 * holds nothing but its socket to the agent and, during a delivery, that
 * message's read-only descriptor; everything it does, the user could do.
 * It serves one delivery after another (DELIVERY_MAILBOX_WRITE in,
 * MAILBOX_DELIVERY_RESULT out) until the agent closes the socket.
 *
 * The Maildir protocol: write tmp/<name>, fsync, link it into
 * new/<name>,S=<size>,W=<size with CRLF>, fsync new/, then unlink the
 * tmp/ name.  The name
 * carries the envelope id; a recovered envelope is looked for first
 * (delivery_user_index.c).  A reader
 * sees a message in new/ whole or not at all, and a worker killed midway
 * leaves at most a file in tmp/, which Maildir readers clean up.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "delivery.h"
#include "ipc.h"
#include "maildir.h"
#include "proto.h"
#include "sandbox.h"
#include "sp_limits.h"
#include "util.h"

struct delivery_file {
	struct maildir	 md;
	int		 fd;			/* tmp/<uniq>, or -1 */
	int		 created;		/* tmp/<uniq> is ours */
	uint64_t	 size;
	struct maildir_wsize ws;		/* the size with CRLF */
	char		 uniq[MAILDIR_NAME_MAX_BYTES + 1];
	char		 final[MAILDIR_NAME_MAX_BYTES + 1];
};

static unsigned long	 delivery_counter;

/*
 * Every failed system call is a temporary failure, the manager retries;
 * the RFC 3463 code says which kind, for the delay notice or the bounce.
 */
static int
delivery_fail(char *out, size_t outlen, const char *what)
{
	const char	*status;

	switch (errno) {
	case EDQUOT:
		status = "4.2.2";	/* mailbox full */
		break;
	case ENOSPC:
		status = "4.3.1";	/* mail system full */
		break;
	default:
		status = "4.3.0";	/* other mail system status */
		break;
	}
	(void)snprintf(out, outlen, "%s %s: %s", status, what,
	    strerror(errno));
	return DELIVERY_EXIT_TEMPFAIL;
}

/* Creates tmp/<unique name>, never following a link nor reusing a file. */
static int
delivery_tmp_create(struct delivery_file *f, const char *evpid,
    const char *hostname, char *out, size_t outlen)
{
	struct maildir_uniq	 u;
	struct timeval		 tv;
	int			 i;

	for (i = 0; i < DELIVERY_NAME_TRIES_MAX; i++) {
		(void)gettimeofday(&tv, NULL);
		u.secs = tv.tv_sec;
		u.usecs = (long)tv.tv_usec;
		u.pid = getpid();
		u.counter = delivery_counter++;
		u.evpid = evpid;
		if (maildir_unique_name(f->uniq, sizeof(f->uniq), &u,
		    hostname) == -1) {
			(void)snprintf(out, outlen,
			    "4.3.5 cannot build a file name");
			return DELIVERY_EXIT_TEMPFAIL;
		}
		f->fd = openat(f->md.tmpfd, f->uniq, O_WRONLY | O_CREAT |
		    O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (f->fd != -1) {
			f->created = 1;
			return DELIVERY_EXIT_OK;
		}
		if (errno != EEXIST)
			break;
	}
	return delivery_fail(out, outlen, "create tmp file");
}

/*
 * Copies the message after the header lines, watching its header section
 * for a Delivered-To of this recipient on the way.
 */
static int
delivery_copy(struct delivery_file *f, int msgfd, const char *rcpt,
    char *out, size_t outlen)
{
	static char		 buf[DELIVERY_COPY_BUF_BYTES];
	struct maildir_loop	 loop;
	off_t			 off = 0;
	ssize_t			 n;
	int			 known = 0;

	maildir_loop_init(&loop, rcpt);
	for (;;) {
		if ((n = pread(msgfd, buf, sizeof(buf), off)) == -1) {
			if (errno == EINTR)
				continue;
			return delivery_fail(out, outlen, "read message");
		}
		if (n == 0)
			break;
		if (!known)
			known = maildir_loop_feed(&loop, buf, (size_t)n);
		if (loop.found)
			break;
		if (util_write_all(f->fd, buf, (size_t)n) == -1)
			return delivery_fail(out, outlen, "write tmp file");
		maildir_wsize_feed(&f->ws, buf, (size_t)n);
		off += n;
	}
	if (maildir_loop_end(&loop)) {
		/* RFC 3463 3.5: 5.4.6, routing loop detected. */
		(void)snprintf(out, outlen, "5.4.6 mail loop: already "
		    "delivered to %s", rcpt);
		return DELIVERY_EXIT_PERMFAIL;
	}
	return DELIVERY_EXIT_OK;
}

/* Makes tmp/<uniq> durable, then learns its size, then closes it. */
static int
delivery_tmp_finish(struct delivery_file *f, char *out, size_t outlen)
{
	struct stat	 st;
	int		 fd = f->fd;

	f->fd = -1;
	if (fsync(fd) == -1 || fstat(fd, &st) == -1) {
		(void)delivery_fail(out, outlen, "sync tmp file");
		(void)close(fd);
		return DELIVERY_EXIT_TEMPFAIL;
	}
	/* On NFS, close(2) is where a write error may first show. */
	if (close(fd) == -1)
		return delivery_fail(out, outlen, "close tmp file");
	f->size = (uint64_t)st.st_size;
	if (maildir_final_name(f->final, sizeof(f->final), f->uniq,
	    f->size, maildir_wsize_end(&f->ws)) == -1) {
		(void)snprintf(out, outlen, "4.3.5 cannot build a file name");
		return DELIVERY_EXIT_TEMPFAIL;
	}
	return DELIVERY_EXIT_OK;
}

/*
 * Links the file into new/ and makes that durable.  If new/ cannot be
 * synced, the link is taken back: the manager will retry, and a copy
 * left behind would be delivered twice.
 */
static int
delivery_publish(struct delivery_file *f, char *out, size_t outlen)
{
	int	 saved;

	if (linkat(f->md.tmpfd, f->uniq, f->md.newfd, f->final, 0) == -1)
		return delivery_fail(out, outlen, "link into new");
	if (fsync(f->md.newfd) == -1) {
		saved = errno;
		(void)unlinkat(f->md.newfd, f->final, 0);
		errno = saved;
		return delivery_fail(out, outlen, "sync new");
	}
	/*
	 * The message is safe in new/: the tmp/ name is only clutter now.
	 * Its removal is not synced (one fsync less per delivery): a crash
	 * may bring back a second name of the same file in tmp/, which
	 * Maildir readers clean up as they do any stale tmp/ file.
	 */
	(void)unlinkat(f->md.tmpfd, f->uniq, 0);
	return DELIVERY_EXIT_OK;
}

static int
delivery_steps(struct delivery_file *f, int msgfd, const char *hdrs,
    size_t hlen, const char *evpid, const char *rcpt, const char *hostname,
    char *out, size_t outlen)
{
	int	 r;

	if ((r = delivery_tmp_create(f, evpid, hostname, out, outlen)) != 0)
		return r;
	if (util_write_all(f->fd, hdrs, hlen) == -1)
		return delivery_fail(out, outlen, "write tmp file");
	maildir_wsize_feed(&f->ws, hdrs, hlen);
	if ((r = delivery_copy(f, msgfd, rcpt, out, outlen)) != 0)
		return r;
	if ((r = delivery_tmp_finish(f, out, outlen)) != 0)
		return r;
	return delivery_publish(f, out, outlen);
}

int
delivery_user_write(const char *maildir, int msgfd, const char *evpid,
    const char *sender, const char *rcpt, const char *hostname, char *out,
    size_t outlen)
{
	struct delivery_file	 f;
	char			 hdrs[MAILDIR_HEADERS_MAX_BYTES];
	const char		*errstr;
	int			 hlen, r;

	memset(&f, 0, sizeof(f));
	f.fd = -1;
	if ((hlen = maildir_headers(hdrs, sizeof(hdrs), sender, rcpt,
	    &errstr)) == -1) {
		(void)snprintf(out, outlen, "5.1.3 %s", errstr);
		return DELIVERY_EXIT_PERMFAIL;
	}
	if (maildir_open(&f.md, maildir, 1) == -1)
		return delivery_fail(out, outlen, "open Maildir");
	r = delivery_steps(&f, msgfd, hdrs, (size_t)hlen, evpid, rcpt,
	    hostname, out, outlen);
	if (r != DELIVERY_EXIT_OK) {
		if (f.fd != -1)
			(void)close(f.fd);
		if (f.created)
			(void)unlinkat(f.md.tmpfd, f.uniq, 0);
	} else
		(void)snprintf(out, outlen, "new/%s", f.final);
	maildir_close(&f.md);
	return r;
}

/*
 * The next request from the agent, into the worker's buffers.  EOF
 * (the agent closed the socket: idle, worn out, or stopping) ends the
 * worker; so does anything malformed, which only a broken agent sends.
 */
/* One DELIVERY_MAILBOX_WRITE, as the worker reads it. */
struct delivery_user_req {
	int		 msgfd;
	uint32_t	 check;
	uint64_t	 quota;		/* bytes; 0: none */
	char		 evpid[DELIVERY_EVPID_MAX_BYTES];
	char		 sender[SMTP_PATH_MAX_BYTES + 1];
	char		 rcpt[SMTP_PATH_MAX_BYTES + 1];
};

static void
delivery_user_recv(int fd, struct delivery_user_req *r)
{
	static uint8_t	 buf[sizeof(struct ipc_hdr) + IPC_PAYLOAD_MAX_BYTES];
	struct ipc_msg	 m;

	if (ipc_recv_sync(fd, &m, buf, sizeof(buf)) == -1)
		_exit(errno == ECONNRESET ? DELIVERY_EXIT_OK :
		    DELIVERY_EXIT_TEMPFAIL);
	if (m.hdr.type != MSG_DELIVERY_MAILBOX_WRITE || m.fd == -1 ||
	    ipc_get_str(&m, r->evpid, sizeof(r->evpid)) == -1 ||
	    ipc_get_str(&m, r->sender, sizeof(r->sender)) == -1 ||
	    ipc_get_str(&m, r->rcpt, sizeof(r->rcpt)) == -1 ||
	    ipc_get_u32(&m, &r->check) == -1 ||
	    ipc_get_u64(&m, &r->quota) == -1 || ipc_get_end(&m) == -1 ||
	    delivery_check_evpid(r->evpid) == -1)
		_exit(DELIVERY_EXIT_TEMPFAIL);
	r->msgfd = m.fd;
}

/*
 * A delivery: found in the Maildir already (a recovered envelope's, see
 * delivery_user_index.c), deferred over quota (4.2.2, until the
 * queue's expiry; delivery_user_quota.c), or written.
 */
static int
delivery_user_one(const char *path, const struct delivery_user_req *r,
    const char *hostname, char *out, size_t outlen)
{
	struct stat	 st;
	uint64_t	 size;
	int		 found, v;

	if ((found = delivery_user_found(path, r->evpid, r->check)) == 1) {
		(void)snprintf(out, outlen, "found %.*s",
		    DELIVERY_EVPID_HEX_DIGITS, r->evpid);
		return DELIVERY_EXIT_OK;
	}
	if (found == -1)
		return delivery_fail(out, outlen, "read Maildir");
	if (r->quota != 0) {
		if (fstat(r->msgfd, &st) == -1)
			return delivery_fail(out, outlen, "stat message");
		if (delivery_user_quota(path, r->quota, (uint64_t)st.st_size,
		    out, outlen) != 0)
			return DELIVERY_EXIT_TEMPFAIL;
	}
	v = delivery_user_write(path, r->msgfd, r->evpid, r->sender,
	    r->rcpt, hostname, out, outlen);
	if (v == DELIVERY_EXIT_OK && maildir_name_size(out, 'W', &size) == 0)
		delivery_user_quota_add(size);
	return v;
}

/* The verdict on one delivery; a worker that cannot answer ends. */
static void
delivery_user_reply(int fd, int verdict, const char *out)
{
	static struct ipc_out	 o;

	ipc_out_init(&o, MSG_MAILBOX_DELIVERY_RESULT, 0);
	ipc_put_u32(&o, (uint32_t)verdict);
	ipc_put_str(&o, out);
	if (ipc_send_sync(fd, &o, -1) == -1)
		_exit(DELIVERY_EXIT_TEMPFAIL);
}

void
delivery_user_worker(const struct sandbox_filter *sandbox, const char *home,
    int fd, const char *hostname)
{
	static struct delivery_user_req	 req;
	char		 path[PATH_MAX], out[QUEUE_ERROR_MAX_BYTES];
	char		 broken[QUEUE_ERROR_MAX_BYTES] = "";
	int		 r, n;

	(void)umask(077);
	n = snprintf(path, sizeof(path), "%s/Maildir", home);
	/*
	 * Fail closed: no delivery outside the filter.  The first request
	 * is answered with the reason, and the worker ends.
	 */
	if (sandbox_apply(sandbox) == -1)
		(void)snprintf(broken, sizeof(broken), "4.3.0 sandbox: %s",
		    strerror(errno));
	else if (n < 0 || (size_t)n >= sizeof(path))
		(void)snprintf(broken, sizeof(broken),
		    "4.3.5 mail home path too long");
	for (;;) {
		delivery_user_recv(fd, &req);
		if (broken[0] != '\0') {
			delivery_user_reply(fd, DELIVERY_EXIT_TEMPFAIL, broken);
			_exit(DELIVERY_EXIT_TEMPFAIL);
		}
		r = delivery_user_one(path, &req, hostname, out, sizeof(out));
		/* One message descriptor at a time. */
		(void)close(req.msgfd);
		delivery_user_reply(fd, r, out);
	}
}
