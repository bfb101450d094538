/*
 * authd's listener and connections: <rundir>/authd.sock, accepted only
 * from uid 0 and the daemon users, each connection an ipc_conn whose
 * requests go to authd_msg.c.  A failed password check is answered only
 * after AUTH_FAIL_DELAY_MSECS, from a timer, so the loop never sleeps.
 * Runs in authd as _sallyauth, no chroot (NSS), seccomp SANDBOX_AUTHD.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/queue.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "authd.h"
#include "log.h"

/* Every role that may connect; authd_msg.c narrows it per request. */
#define SERVER_ROLES	(ROLE_BIT(ROLE_SMTPD) | ROLE_BIT(ROLE_POP3D) | \
	    ROLE_BIT(ROLE_IMAPD) | ROLE_BIT(ROLE_QUEUED) | \
	    ROLE_BIT(ROLE_DELIVERY))

struct authd_pending {
	TAILQ_ENTRY(authd_pending)	 entry;
	struct authd_conn		*conn;
	struct event			*ev;
	uint32_t			 peerid;
};

struct authd_conn {
	TAILQ_ENTRY(authd_conn)		 entry;
	struct ipc_conn			*ipc;
	uint32_t			 id;
	uid_t				 uid;
	TAILQ_HEAD(, authd_pending)	 pending;
	size_t				 npending;
};

static struct {
	struct event_base		*base;
	int				 fd;
	struct event			*ev_accept;
	uid_t				 uids[AUTHD_PEER_UIDS_MAX];
	size_t				 nuids;
	struct auth_tables		 tables;
	struct auth_resolver		 resolver;
	TAILQ_HEAD(, authd_conn)	 conns;
	size_t				 nconns;
	uint32_t			 lastid;
} srv;

static void
authd_pending_free(struct authd_pending *p)
{
	TAILQ_REMOVE(&p->conn->pending, p, entry);
	p->conn->npending--;
	event_free(p->ev);
	free(p);
}

static void
authd_conn_free(struct authd_conn *c)
{
	struct authd_pending	*p;

	while ((p = TAILQ_FIRST(&c->pending)) != NULL)
		authd_pending_free(p);
	TAILQ_REMOVE(&srv.conns, c, entry);
	srv.nconns--;
	ipc_conn_free(c->ipc);
	free(c);
}

static void
authd_server_closed(struct ipc_conn *ic, void *arg)
{
	struct authd_conn	*c = arg;

	(void)ic;
	log_info("%08x authd closed uid=%ld", c->id, (long)c->uid);
	authd_conn_free(c);
}

/* Anything a handler does not accept ends the connection (fail-closed). */
static void
authd_server_dispatch(struct ipc_conn *ic, struct ipc_msg *m, void *arg)
{
	struct authd_conn	*c = arg;
	const char		*why = NULL;

	if (m->fd != -1)
		why = "unexpected descriptor";
	else if (authd_msg_dispatch(c, m, &why) == 0) {
		ipc_msg_clear(m);
		return;
	}
	log_warnx("%08x authd refused peer=%s type=%s reason=%s", c->id,
	    ipc_role_name(ipc_conn_peer_role(ic)), ipc_type_name(m->hdr.type),
	    why);
	ipc_msg_clear(m);
	ipc_conn_close(ic, NULL);
}

static void
authd_server_newconn(int fd, uint32_t id, uid_t uid)
{
	struct authd_conn	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("%08x authd refused reason=calloc", id);
		(void)close(fd);
		return;
	}
	c->id = id;
	c->uid = uid;
	TAILQ_INIT(&c->pending);
	c->ipc = ipc_conn_new(srv.base, fd, ROLE_AUTHD, SERVER_ROLES,
	    authd_server_dispatch, authd_server_closed, c);
	if (c->ipc == NULL) {
		log_warnx("%08x authd refused reason=ipc_conn_new", id);
		(void)close(fd);
		free(c);
		return;
	}
	TAILQ_INSERT_TAIL(&srv.conns, c, entry);
	srv.nconns++;
}

/*
 * Accepts a peer, checked by ipc_accept() before a byte of its is read,
 * and logs it under the connection's id, whether accepted or refused.
 */
static void
authd_server_accept(evutil_socket_t lfd, short ev, void *arg)
{
	struct ipc_peer	 peer;
	uint32_t	 id;
	int		 fd;

	(void)lfd;
	(void)ev;
	(void)arg;
	if ((fd = ipc_accept(srv.ev_accept, srv.uids, srv.nuids, &peer,
	    "authd accept")) == IPC_ACCEPT_NONE)
		return;
	id = ++srv.lastid;
	if (fd == IPC_ACCEPT_REFUSED) {
		if (peer.uid == (uid_t)-1)
			log_warn("%08x authd refused reason=peercred", id);
		else
			log_warnx("%08x authd refused uid=%ld pid=%ld "
			    "reason=uid", id, (long)peer.uid, (long)peer.pid);
		return;
	}
	if (srv.nconns >= IPC_PEERS_MAX) {
		log_warnx("%08x authd refused uid=%ld pid=%ld "
		    "reason=too-many-peers", id, (long)peer.uid,
		    (long)peer.pid);
		(void)close(fd);
		return;
	}
	log_info("%08x authd accepted uid=%ld pid=%ld", id, (long)peer.uid,
	    (long)peer.pid);
	authd_server_newconn(fd, id, peer.uid);
}

void
authd_server_init(struct event_base *base, const struct config *conf,
    int fd, const uid_t *uids, size_t nuids, struct auth_tables *t)
{
	size_t	 i;

	srv.base = base;
	srv.fd = fd;
	TAILQ_INIT(&srv.conns);
	srv.uids[srv.nuids++] = 0;
	for (i = 0; i < nuids && srv.nuids < AUTHD_PEER_UIDS_MAX; i++)
		srv.uids[srv.nuids++] = uids[i];
	srv.resolver.is_local = authd_table_is_local;
	srv.resolver.arg = (void *)(uintptr_t)conf;
	authd_server_set_tables(t);
	if (evutil_make_socket_nonblocking(fd) == -1)
		fatal("authd nonblocking");
	srv.ev_accept = event_new(base, fd, EV_READ | EV_PERSIST,
	    authd_server_accept, NULL);
	if (srv.ev_accept == NULL || event_add(srv.ev_accept, NULL) == -1)
		fatalx("authd listener events");
}

void
authd_server_set_tables(struct auth_tables *t)
{
	authd_table_free(&srv.tables);
	srv.tables = *t;
	t->users = NULL;
	t->aliases = NULL;
	srv.resolver.users = srv.tables.users;
	srv.resolver.aliases = srv.tables.aliases;
}

void
authd_server_shutdown(void)
{
	struct authd_conn	*c;

	while ((c = TAILQ_FIRST(&srv.conns)) != NULL)
		authd_conn_free(c);
	if (srv.ev_accept != NULL)
		event_free(srv.ev_accept);
	srv.ev_accept = NULL;
	(void)close(srv.fd);
	authd_table_free(&srv.tables);
	authd_token_clear();
	authd_throttle_clear();
}

const struct auth_resolver *
authd_server_resolver(void)
{
	return &srv.resolver;
}

const struct auth_users *
authd_server_users(void)
{
	return srv.tables.users;
}

uint32_t
authd_conn_id(const struct authd_conn *c)
{
	return c->id;
}

uint32_t
authd_conn_role(const struct authd_conn *c)
{
	return ipc_conn_peer_role(c->ipc);
}

int
authd_conn_send(struct authd_conn *c, struct ipc_out *o)
{
	return ipc_conn_send(c->ipc, o, -1);
}

static void
authd_pending_fire(evutil_socket_t fd, short ev, void *arg)
{
	struct authd_pending	*p = arg;
	struct ipc_out		*o;

	(void)fd;
	(void)ev;
	if ((o = malloc(sizeof(*o))) != NULL) {
		ipc_out_init(o, MSG_AUTH_PASSWORD_RESULT, p->peerid);
		ipc_put_u32(o, RESULT_PERMFAIL);
		(void)authd_conn_send(p->conn, o);
		free(o);
	}
	authd_pending_free(p);
}

int
authd_conn_fail_later(struct authd_conn *c, uint32_t peerid)
{
	struct authd_pending	*p;
	struct timeval		 tv;

	if (c->npending >= AUTHD_PENDING_MAX)
		return -1;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return -1;
	p->conn = c;
	p->peerid = peerid;
	tv.tv_sec = AUTH_FAIL_DELAY_MSECS / 1000;
	tv.tv_usec = (AUTH_FAIL_DELAY_MSECS % 1000) * 1000;
	if ((p->ev = evtimer_new(srv.base, authd_pending_fire, p)) == NULL ||
	    evtimer_add(p->ev, &tv) == -1) {
		if (p->ev != NULL)
			event_free(p->ev);
		free(p);
		return -1;
	}
	TAILQ_INSERT_TAIL(&c->pending, p, entry);
	c->npending++;
	return 0;
}
