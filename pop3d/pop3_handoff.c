/*
 * The privileged parent's side of a login: root, no chroot.  The login
 * engine hands over a client with the token authd issued for it; the
 * parent does not take the engine's word for who the client is, but
 * redeems the token with authd itself (its own connection, role pop3d)
 * and execs the mailbox process (role pop3d-user of the program
 * pop3d-mailbox, mailbox/pop3d_mailbox.c) for the uid, gid and mail
 * home authd names.  It reaps those processes and,
 * at shutdown, stops them.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "ipc.h"
#include "log.h"
#include "pop3d.h"
#include "proc.h"
#include "proto.h"

struct handoff {
	TAILQ_ENTRY(handoff)	 entry;
	uint32_t		 id;		/* session id */
	uint32_t		 reqid;		/* peerid of the redeem */
	int			 fd;		/* the client */
	char			 client[POP3_CLIENT_MAX_BYTES];
	char			 user[AUTH_USER_MAX_BYTES + 1];
	struct event		*ev_timeout;
};

struct mailbox_child {
	TAILQ_ENTRY(mailbox_child) entry;
	pid_t			 pid;
	uint32_t		 id;
	char			 user[4 * AUTH_USER_MAX_BYTES + 8];
};

static struct {
	struct event_base	*base;
	char			 authd_path[PATH_MAX];
	struct ipc_conn		*authd;
	struct event		*ev_retry;
	int			 delay;		/* secs before reconnecting */
	uint32_t		 reqid;
	TAILQ_HEAD(, handoff)	 pending;
	size_t			 npending;
	TAILQ_HEAD(, mailbox_child) children;
	size_t			 nchildren;
	uint32_t		 login_delay;	/* "pop3 login-delay" */
	int64_t			 expire_days;	/* "pop3 expire", -1 never */
	int			 mailbox_exe;	/* POP3_MAILBOX_PROG */
} ho = { .expire_days = -1, .mailbox_exe = -1 };

static struct ipc_out	 ho_out;

static void	handoff_connect(evutil_socket_t, short, void *);

/* Tells the client why, and lets it go. */
static void
handoff_refuse(struct handoff *h, const char *why)
{
	static const char text[] =
	    "-ERR [SYS/TEMP] login failed, please try again later\r\n";

	log_warnx("%08x pop3 login-failed stage=redeem reason=%s", h->id, why);
	(void)send(h->fd, text, sizeof(text) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)close(h->fd);
	h->fd = -1;
}

static void
handoff_free(struct handoff *h)
{
	TAILQ_REMOVE(&ho.pending, h, entry);
	ho.npending--;
	if (h->fd != -1)
		(void)close(h->fd);
	event_free(h->ev_timeout);
	free(h);
}

static void
handoff_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct handoff	*h = arg;

	(void)fd;
	(void)ev;
	handoff_refuse(h, "authd-timeout");
	handoff_free(h);
}

int
pop3_handoff_recv(uint32_t id, const uint8_t *token, const char *user,
    const char *client, int fd)
{
	struct timeval	 tv = { POP3_AUTHD_TIMEOUT_SECS, 0 };
	struct handoff	*h;

	if ((h = calloc(1, sizeof(*h))) == NULL) {
		(void)close(fd);
		return -1;
	}
	h->id = id;
	h->fd = fd;
	(void)strlcpy(h->client, client, sizeof(h->client));
	(void)strlcpy(h->user, user, sizeof(h->user));
	if ((h->ev_timeout = evtimer_new(ho.base, handoff_timeout, h)) == NULL)
		fatalx("%08x pop3 evtimer_new", id);
	TAILQ_INSERT_TAIL(&ho.pending, h, entry);
	ho.npending++;
	if (ho.npending + ho.nchildren > POP3_SESSIONS_MAX) {
		handoff_refuse(h, "sessions-max");
		handoff_free(h);
		return -1;
	}
	if (ho.authd == NULL) {
		handoff_refuse(h, "authd-down");
		handoff_free(h);
		return -1;
	}
	if (++ho.reqid == 0)
		ho.reqid = 1;
	h->reqid = ho.reqid;
	ipc_out_init(&ho_out, MSG_AUTH_TOKEN_REDEEM, h->reqid);
	ipc_put_data(&ho_out, token, AUTH_TOKEN_BYTES);
	if (ipc_conn_send(ho.authd, &ho_out, -1) == -1) {
		handoff_refuse(h, "authd-send");
		handoff_free(h);
		return -1;
	}
	(void)evtimer_add(h->ev_timeout, &tv);
	return 0;
}

/*
 * The mailbox process's arguments (mailbox/pop3d_mailbox.c): u32 id,
 * str user, str client, u32 uid, u32 gid, str home.
 */
static int
handoff_args(const struct handoff *h, const char *user, uid_t uid,
    gid_t gid, const char *home)
{
	ipc_out_init(&ho_out, MSG_NONE, 0);
	ipc_put_u32(&ho_out, h->id);
	ipc_put_str(&ho_out, user);
	ipc_put_str(&ho_out, h->client);
	ipc_put_u32(&ho_out, (uint32_t)uid);
	ipc_put_u32(&ho_out, (uint32_t)gid);
	ipc_put_str(&ho_out, home);
	ipc_put_u32(&ho_out, ho.login_delay);
	ipc_put_u64(&ho_out, (uint64_t)ho.expire_days);
	return daemon_args_fd(&ho_out);
}

/* The mailbox process: exec'd with its arguments and the client. */
static void
handoff_spawn(struct handoff *h, const char *user, uid_t uid, gid_t gid,
    const char *home)
{
	struct mailbox_child	*mc;
	pid_t			 pid;
	int			 fds[2];

	if ((mc = calloc(1, sizeof(*mc))) == NULL) {
		handoff_refuse(h, "alloc");
		return;
	}
	if ((fds[0] = handoff_args(h, user, uid, gid, home)) == -1) {
		log_warn("%08x pop3 mailbox arguments", h->id);
		free(mc);
		handoff_refuse(h, "args");
		return;
	}
	fds[1] = h->fd;
	pid = daemon_spawn_prog(ho.mailbox_exe, POP3_MAILBOX_PROG,
	    "pop3d-user", fds, 2);
	(void)close(fds[0]);
	if (pid == -1) {
		log_warn("%08x pop3 fork", h->id);
		free(mc);
		handoff_refuse(h, "fork");
		return;
	}
	mc->pid = pid;
	mc->id = h->id;
	(void)log_vis(mc->user, sizeof(mc->user), user, strlen(user));
	TAILQ_INSERT_TAIL(&ho.children, mc, entry);
	ho.nchildren++;
	log_info("%08x pop3 mailbox-started user=%s uid=%lu pid=%ld", h->id,
	    mc->user, (unsigned long)uid, (long)pid);
}

/*
 * LOGIN-DELAY (RFC 2449 6.5, pop3_logindelay.c): a user who logged in
 * less than "pop3 login-delay" ago is told so and let go; authd has
 * counted nothing against the client, the password was right.
 */
static void
handoff_login(struct handoff *h, const char *user, uid_t uid, gid_t gid,
    const char *home)
{
	struct timespec	 ts;
	uint32_t	 left;
	char		 vis[4 * AUTH_USER_MAX_BYTES + 8];
	char		 text[128];
	int		 n;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	if ((left = pop3_logindelay_check(user, ts.tv_sec,
	    ho.login_delay)) == 0) {
		handoff_spawn(h, user, uid, gid, home);
		return;
	}
	log_info("%08x pop3 login-refused user=%s reason=login-delay left=%u",
	    h->id, log_vis(vis, sizeof(vis), user, strlen(user)), left);
	n = snprintf(text, sizeof(text), "-ERR [LOGIN-DELAY] minimum time "
	    "between logins is %u seconds, %u left\r\n", ho.login_delay,
	    left);
	(void)send(h->fd, text, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)close(h->fd);
	h->fd = -1;
}

void
pop3_handoff_policy(uint32_t login_delay_secs, int64_t expire_days)
{
	ho.login_delay = login_delay_secs;
	ho.expire_days = expire_days;
}

/* authd's word on a token: the only source of the user's identity. */
static void
handoff_user_result(struct ipc_conn *ic, struct ipc_msg *m)
{
	char		 user[AUTH_USER_MAX_BYTES + 1], home[PATH_MAX];
	char		 v1[4 * AUTH_USER_MAX_BYTES + 8];
	char		 v2[4 * AUTH_USER_MAX_BYTES + 8];
	uint32_t	 result, uid, gid;
	struct handoff	*h;

	if (ipc_get_u32(m, &result) == -1 ||
	    ipc_get_str(m, user, sizeof(user)) == -1 ||
	    ipc_get_u32(m, &uid) == -1 || ipc_get_u32(m, &gid) == -1 ||
	    ipc_get_str(m, home, sizeof(home)) == -1 ||
	    ipc_get_end(m) == -1) {
		ipc_conn_close(ic, "malformed USER_RESULT");
		return;
	}
	ho.delay = 1;
	TAILQ_FOREACH(h, &ho.pending, entry)
		if (h->reqid == m->hdr.peerid)
			break;
	if (h == NULL) {
		log_debug("- pop3 late-redeem-answer reqid=%u", m->hdr.peerid);
		return;
	}
	if (result != RESULT_OK)
		handoff_refuse(h, "token-refused");
	else if (uid == 0 || gid == 0 || user[0] == '\0' || home[0] != '/')
		handoff_refuse(h, "bad-user-result");
	else {
		if (strcmp(user, h->user) != 0)
			log_warnx("%08x pop3 user-mismatch engine=%s authd=%s",
			    h->id, log_vis(v1, sizeof(v1), h->user,
			    strlen(h->user)), log_vis(v2, sizeof(v2), user,
			    strlen(user)));
		handoff_login(h, user, (uid_t)uid, (gid_t)gid, home);
	}
	handoff_free(h);
}

static void
handoff_dispatch(struct ipc_conn *ic, struct ipc_msg *m, void *arg)
{
	(void)arg;
	if (m->hdr.type == MSG_AUTH_USER_RESULT && m->fd == -1)
		handoff_user_result(ic, m);
	else {
		log_warnx("- pop3 authd-unexpected type=%s",
		    ipc_type_name(m->hdr.type));
		ipc_conn_close(ic, "unexpected message");
	}
	ipc_msg_clear(m);
}

static void
handoff_schedule(void)
{
	struct timeval	 tv;

	tv.tv_sec = ho.delay;
	tv.tv_usec = 0;
	(void)evtimer_add(ho.ev_retry, &tv);
	ho.delay *= 2;
	if (ho.delay > IPC_RETRY_MAX_SECS)
		ho.delay = IPC_RETRY_MAX_SECS;
}

static void
handoff_closed(struct ipc_conn *ic, void *arg)
{
	struct handoff	*h, *next;

	(void)arg;
	log_warnx("- pop3 authd-lost role=parent");
	ipc_conn_free(ic);
	ho.authd = NULL;
	TAILQ_FOREACH_SAFE(h, &ho.pending, entry, next) {
		handoff_refuse(h, "authd-lost");
		handoff_free(h);
	}
	handoff_schedule();
}

static void
handoff_connect(evutil_socket_t fd, short ev, void *arg)
{
	int	 s;

	(void)fd;
	(void)ev;
	(void)arg;
	if ((s = ipc_connect(ho.authd_path)) == -1) {
		log_debug("- pop3 authd-connect path=%s error=\"%s\"",
		    ho.authd_path, strerror(errno));
		handoff_schedule();
		return;
	}
	ho.authd = ipc_conn_new(ho.base, s, ROLE_POP3D, ROLE_BIT(ROLE_AUTHD),
	    handoff_dispatch, handoff_closed, NULL);
	if (ho.authd == NULL) {
		(void)close(s);
		handoff_schedule();
		return;
	}
	log_info("- pop3 authd-connected role=parent");
}

void
pop3_handoff_init(struct event_base *base, const char *authd_path,
    int mailbox_exe)
{
	ho.base = base;
	ho.mailbox_exe = mailbox_exe;
	ho.delay = 1;
	TAILQ_INIT(&ho.pending);
	TAILQ_INIT(&ho.children);
	if (strlcpy(ho.authd_path, authd_path, sizeof(ho.authd_path)) >=
	    sizeof(ho.authd_path))
		fatalx("- pop3 authd path too long");
	if ((ho.ev_retry = evtimer_new(base, handoff_connect, NULL)) == NULL)
		fatalx("- pop3 evtimer_new");
	handoff_connect(-1, 0, NULL);
}

void
pop3_handoff_reaped(pid_t pid, int status, void *arg)
{
	struct mailbox_child	*mc;

	(void)arg;
	TAILQ_FOREACH(mc, &ho.children, entry)
		if (mc->pid == pid)
			break;
	if (mc == NULL) {
		log_warnx("- pop3 reaped-unknown pid=%ld", (long)pid);
		return;
	}
	if (WIFSIGNALED(status))
		log_warnx("%08x pop3 mailbox-died user=%s pid=%ld signal=%d "
		    "reason=%s", mc->id, mc->user, (long)pid,
		    WTERMSIG(status), proc_death_reason(status));
	else
		log_info("%08x pop3 mailbox-exited user=%s pid=%ld status=%d",
		    mc->id, mc->user, (long)pid, WEXITSTATUS(status));
	TAILQ_REMOVE(&ho.children, mc, entry);
	ho.nchildren--;
	free(mc);
}

void
pop3_handoff_kill_all(int sig)
{
	struct mailbox_child	*mc;

	TAILQ_FOREACH(mc, &ho.children, entry)
		(void)kill(mc->pid, sig);
}
