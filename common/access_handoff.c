/*
 * The privileged parent's side of a login (common/access.h): root, no
 * chroot.  The login engine hands over a client with the token authd
 * issued for it; the parent does not take the engine's word for who
 * the client is, but redeems the token with authd itself (its own
 * connection, in the daemon's role) and execs the mailbox process (the
 * daemon's mailbox program, e.g. pop3d-mailbox) for the uid, gid and
 * mail home authd names.  It reaps those processes and, at shutdown,
 * stops them.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "access.h"
#include "daemon.h"
#include "ipc.h"
#include "log.h"
#include "proc.h"

struct handoff {
	TAILQ_ENTRY(handoff)	 entry;
	struct access_login	 login;
	uint32_t		 reqid;		/* peerid of the redeem */
	char			 user[AUTH_USER_MAX_BYTES + 1];
	struct event		*ev_timeout;
};

struct mailbox_child {
	TAILQ_ENTRY(mailbox_child) entry;
	pid_t			 pid;
	uint32_t		 id;
	char			 user[ACCESS_USER_VIS_BYTES];
};

static struct {
	const struct access_daemon *def;
	const char		*name;
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
	int			 mailbox_exe;
} ho = { .mailbox_exe = -1 };

static struct ipc_out	 ho_out;

/* Tells the client why, and lets it go. */
static void
handoff_refuse(struct handoff *h, const char *why)
{
	char	 text[256];
	int	 n;

	log_warnx("%08x %s login-failed stage=redeem reason=%s", h->login.id,
	    ho.name, why);
	n = ho.def->refusal(&h->login, text, sizeof(text));
	if (n > 0)
		(void)send(h->login.fd, text, (size_t)n,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)close(h->login.fd);
	h->login.fd = -1;
}

static void
handoff_free(struct handoff *h)
{
	TAILQ_REMOVE(&ho.pending, h, entry);
	ho.npending--;
	if (h->login.fd != -1)
		(void)close(h->login.fd);
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

/* Refuses h and frees it; returns -1. */
static int
handoff_fail(struct handoff *h, const char *why)
{
	handoff_refuse(h, why);
	handoff_free(h);
	return -1;
}

int
access_handoff_recv(uint32_t id, const uint8_t *token, const char *user,
    const char *client, const char *note, int fd)
{
	struct timeval	 tv = { ACCESS_AUTHD_TIMEOUT_SECS, 0 };
	struct handoff	*h;

	if ((h = calloc(1, sizeof(*h))) == NULL) {
		(void)close(fd);
		return -1;
	}
	h->login.id = id;
	h->login.fd = fd;
	(void)strlcpy(h->login.client, client, sizeof(h->login.client));
	(void)strlcpy(h->login.note, note, sizeof(h->login.note));
	(void)strlcpy(h->user, user, sizeof(h->user));
	if ((h->ev_timeout = evtimer_new(ho.base, handoff_timeout, h)) == NULL)
		fatalx("%08x %s evtimer_new", id, ho.name);
	TAILQ_INSERT_TAIL(&ho.pending, h, entry);
	ho.npending++;
	if (ho.npending + ho.nchildren > ho.def->sessions_max)
		return handoff_fail(h, "sessions-max");
	if (ho.authd == NULL)
		return handoff_fail(h, "authd-down");
	if (++ho.reqid == 0)
		ho.reqid = 1;
	h->reqid = ho.reqid;
	ipc_out_init(&ho_out, MSG_AUTH_TOKEN_REDEEM, h->reqid);
	ipc_put_data(&ho_out, token, AUTH_TOKEN_BYTES);
	if (ipc_conn_send(ho.authd, &ho_out, -1) == -1)
		return handoff_fail(h, "authd-send");
	(void)evtimer_add(h->ev_timeout, &tv);
	return 0;
}

/*
 * The mailbox process's arguments: u32 id, str user, str client, u32
 * uid, u32 gid, str home, then the daemon's own (args_extra).
 */
static int
handoff_args(const struct handoff *h, const char *user, uid_t uid,
    gid_t gid, const char *home)
{
	ipc_out_init(&ho_out, MSG_NONE, 0);
	ipc_put_u32(&ho_out, h->login.id);
	ipc_put_str(&ho_out, user);
	ipc_put_str(&ho_out, h->login.client);
	ipc_put_u32(&ho_out, (uint32_t)uid);
	ipc_put_u32(&ho_out, (uint32_t)gid);
	ipc_put_str(&ho_out, home);
	ho.def->args_extra(&ho_out, &h->login);
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
		log_warn("%08x %s mailbox arguments", h->login.id, ho.name);
		free(mc);
		handoff_refuse(h, "args");
		return;
	}
	fds[1] = h->login.fd;
	pid = daemon_spawn_prog(ho.mailbox_exe, ho.def->mailbox_prog,
	    ho.def->mailbox_role, fds, 2);
	(void)close(fds[0]);
	if (pid == -1) {
		log_warn("%08x %s fork", h->login.id, ho.name);
		free(mc);
		handoff_refuse(h, "fork");
		return;
	}
	mc->pid = pid;
	mc->id = h->login.id;
	(void)log_vis(mc->user, sizeof(mc->user), user, strlen(user));
	TAILQ_INSERT_TAIL(&ho.children, mc, entry);
	ho.nchildren++;
	log_info("%08x %s mailbox-started user=%s uid=%lu pid=%ld",
	    h->login.id, ho.name, mc->user, (unsigned long)uid, (long)pid);
}

/*
 * A login the daemon's policy turns away for now (pop3d's LOGIN-DELAY):
 * the client is told so and let go; authd has counted nothing against
 * it, the password was right.
 */
static void
handoff_login(struct handoff *h, const char *user, uid_t uid, gid_t gid,
    const char *home)
{
	const char	*why;
	char		 vis[ACCESS_USER_VIS_BYTES];
	char		 text[256];

	if (ho.def->admit == NULL || (why = ho.def->admit(&h->login, user,
	    text, sizeof(text))) == NULL) {
		handoff_spawn(h, user, uid, gid, home);
		return;
	}
	log_info("%08x %s login-refused user=%s reason=%s", h->login.id,
	    ho.name, log_vis(vis, sizeof(vis), user, strlen(user)), why);
	(void)send(h->login.fd, text, strlen(text),
	    MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)close(h->login.fd);
	h->login.fd = -1;
}

/* authd's word on a token: the only source of the user's identity. */
static void
handoff_user_result(struct ipc_conn *ic, struct ipc_msg *m)
{
	char		 user[AUTH_USER_MAX_BYTES + 1], home[PATH_MAX];
	char		 v1[ACCESS_USER_VIS_BYTES], v2[ACCESS_USER_VIS_BYTES];
	uint32_t	 result, uid, gid;
	uint64_t	 quota;
	struct handoff	*h;

	if (ipc_get_u32(m, &result) == -1 ||
	    ipc_get_str(m, user, sizeof(user)) == -1 ||
	    ipc_get_u32(m, &uid) == -1 || ipc_get_u32(m, &gid) == -1 ||
	    ipc_get_str(m, home, sizeof(home)) == -1 ||
	    ipc_get_u64(m, &quota) == -1 || ipc_get_end(m) == -1) {
		ipc_conn_close(ic, "malformed USER_RESULT");
		return;
	}
	ho.delay = 1;
	TAILQ_FOREACH(h, &ho.pending, entry)
		if (h->reqid == m->hdr.peerid)
			break;
	if (h == NULL) {
		log_debug("- %s late-redeem-answer reqid=%u", ho.name,
		    m->hdr.peerid);
		return;
	}
	if (result != RESULT_OK)
		handoff_refuse(h, "token-refused");
	else if (uid == 0 || gid == 0 || user[0] == '\0' || home[0] != '/')
		handoff_refuse(h, "bad-user-result");
	else {
		if (strcmp(user, h->user) != 0)
			log_warnx("%08x %s user-mismatch engine=%s authd=%s",
			    h->login.id, ho.name, log_vis(v1, sizeof(v1),
			    h->user, strlen(h->user)), log_vis(v2, sizeof(v2),
			    user, strlen(user)));
		h->login.quota = quota;
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
		log_warnx("- %s authd-unexpected type=%s", ho.name,
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
	log_warnx("- %s authd-lost role=parent", ho.name);
	ipc_conn_free(ic);
	ho.authd = NULL;
	TAILQ_FOREACH_SAFE(h, &ho.pending, entry, next)
		(void)handoff_fail(h, "authd-lost");
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
		log_debug("- %s authd-connect path=%s error=\"%s\"", ho.name,
		    ho.authd_path, strerror(errno));
		handoff_schedule();
		return;
	}
	ho.authd = ipc_conn_new(ho.base, s, ho.def->role,
	    ROLE_BIT(ROLE_AUTHD), handoff_dispatch, handoff_closed, NULL);
	if (ho.authd == NULL) {
		(void)close(s);
		handoff_schedule();
		return;
	}
	log_info("- %s authd-connected role=parent", ho.name);
}

void
access_handoff_init(const struct access_daemon *def,
    struct event_base *base, const char *authd_path, int mailbox_exe)
{
	ho.def = def;
	ho.name = def->name;
	ho.base = base;
	ho.mailbox_exe = mailbox_exe;
	ho.delay = 1;
	TAILQ_INIT(&ho.pending);
	TAILQ_INIT(&ho.children);
	if (strlcpy(ho.authd_path, authd_path, sizeof(ho.authd_path)) >=
	    sizeof(ho.authd_path))
		fatalx("- %s authd path too long", ho.name);
	if ((ho.ev_retry = evtimer_new(base, handoff_connect, NULL)) == NULL)
		fatalx("- %s evtimer_new", ho.name);
	handoff_connect(-1, 0, NULL);
}

void
access_handoff_reaped(pid_t pid, int status, void *arg)
{
	struct mailbox_child	*mc;

	(void)arg;
	TAILQ_FOREACH(mc, &ho.children, entry)
		if (mc->pid == pid)
			break;
	if (mc == NULL) {
		log_warnx("- %s reaped-unknown pid=%ld", ho.name, (long)pid);
		return;
	}
	if (WIFSIGNALED(status))
		log_warnx("%08x %s mailbox-died user=%s pid=%ld signal=%d "
		    "reason=%s", mc->id, ho.name, mc->user, (long)pid,
		    WTERMSIG(status), proc_death_reason(status));
	else
		log_info("%08x %s mailbox-exited user=%s pid=%ld status=%d",
		    mc->id, ho.name, mc->user, (long)pid, WEXITSTATUS(status));
	TAILQ_REMOVE(&ho.children, mc, entry);
	ho.nchildren--;
	free(mc);
}

void
access_handoff_kill_all(int sig)
{
	struct mailbox_child	*mc;

	TAILQ_FOREACH(mc, &ho.children, entry)
		(void)kill(mc->pid, sig);
}
