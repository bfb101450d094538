/*
 * smtpd engine (user smtp, chroot emptydir, seccomp SANDBOX_ENGINE): one
 * client connection, from accept to close.  The session owns a lineio,
 * one timer and at most one request out to authd or queued at a time;
 * while a request is out the client's input is paused, which is how
 * pipelined commands (RFC 2920) are answered in order.
 *
 * Sessions are freed only from lineio's event callback, never under a
 * handler, so a handler may close its session and go on using it.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lineio.h"
#include "log.h"
#include "proto.h"
#include "smtpd.h"

static TAILQ_HEAD(, smtp_session)	 smtp_sessions =
    TAILQ_HEAD_INITIALIZER(smtp_sessions);
static size_t				 smtp_nsessions;
static uint64_t				 smtp_sessions_accepted;
static uint32_t				 smtp_lastid;

static int
smtp_wait_cmp(struct smtp_session *a, struct smtp_session *b)
{
	return a->wait_id < b->wait_id ? -1 : a->wait_id > b->wait_id;
}

/* libbsd leaves __unused undefined, which RB_GENERATE_STATIC uses. */
#ifndef __unused
#define __unused	__attribute__((__unused__))
#endif

RB_HEAD(smtp_wait_tree, smtp_session);
RB_GENERATE_STATIC(smtp_wait_tree, smtp_session, wait_entry, smtp_wait_cmp)
static struct smtp_wait_tree	 smtp_waits = RB_INITIALIZER(&smtp_waits);

static void	smtp_session_linecb(struct lineio *, const char *, size_t,
		    int, void *);
static void	smtp_session_eventcb(struct lineio *, int, void *);
static void	smtp_session_rawcb(struct lineio *, const char *, size_t,
		    size_t, void *);
static void	smtp_session_timercb(evutil_socket_t, short, void *);

/*
 * Session ids and authd request ids come from one counter with a random
 * start: unique among live sessions and requests (until 2^32 of them),
 * so a late reply can never be taken for the answer to a newer request.
 */
static uint32_t
smtp_session_newid(void)
{
	if (smtp_lastid == 0)
		smtp_lastid = arc4random();
	if (++smtp_lastid == 0)
		smtp_lastid = 1;
	return smtp_lastid;
}

static void
smtp_session_arm(struct smtp_session *s)
{
	const struct config	*conf = s->conf;
	struct timeval		 tv = { 0, 0 };

	if (s->closing)
		return;
	/* RFC 5321 4.5.3.2: the timeouts of sallyport.conf(5). */
	if (s->wait == WAIT_COMMIT)
		tv.tv_sec = smtp_data_commit_secs(s);
	else if (s->wait != WAIT_NONE)
		tv.tv_sec = SMTP_PEER_TIMEOUT_SECS;
	else if (s->state == S_DATA || s->raw)
		tv.tv_sec = conf->data_timeout_secs;
	else if (s->state == S_INIT)
		tv.tv_sec = conf->greeting_timeout_secs;
	else
		tv.tv_sec = conf->cmd_timeout_secs;
	(void)evtimer_add(s->ev_timer, &tv);
}

/*
 * Refuses a client past "limit sessions" or "limit sessions-per-client":
 * best effort, never blocks.
 */
static void
smtp_session_refuse(const struct config *conf, int fd, const char *client,
    const char *reason)
{
	char	 buf[SMTP_REPLY_MAX_BYTES];
	int	 n;

	n = snprintf(buf, sizeof(buf),
	    "421 4.7.0 %s Too many connections, try again later\r\n",
	    conf->hostname);
	if (n > 0 && (size_t)n < sizeof(buf))
		(void)send(fd, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
	(void)close(fd);
	log_warnx("- smtp refused client=%s reason=%s", client, reason);
}

/* The sessions open from this client address. */
static size_t
smtp_session_count_client(const char *client)
{
	struct smtp_session	*s;
	size_t			 n = 0;

	TAILQ_FOREACH(s, &smtp_sessions, entry)
		if (strcmp(s->client, client) == 0)
			n++;
	return n;
}

/* 1 when the new session is past a limit in force now: refused. */
static int
smtp_session_over_limit(int fd, struct smtp_session *s)
{
	const struct config	*conf = smtp_conf_current();
	const char		*reason = NULL;

	if (smtp_nsessions >= conf->max_sessions)
		reason = "too-many-sessions";
	else if (smtp_session_count_client(s->client) >=
	    conf->max_sessions_per_client)
		reason = "too-many-sessions-per-client";
	if (reason == NULL)
		return 0;
	smtp_session_refuse(conf, fd, s->client, reason);
	return 1;
}

/*
 * What the addresses of both ends allow: relaying without AUTH ("relay
 * from"), and AUTH without TLS when both are loopback.
 */
static void
smtp_session_policy(struct smtp_session *s, int fd,
    const struct sockaddr_storage *ss)
{
	socklen_t		 len = sizeof(s->local);

	s->relay_client = config_relay_allowed(s->conf,
	    (const struct sockaddr *)ss);
	if (getsockname(fd, (struct sockaddr *)&s->local, &len) == -1)
		memset(&s->local, 0, sizeof(s->local));
	s->loopback = netaddr_is_loopback((const struct sockaddr *)ss) &&
	    netaddr_is_loopback((struct sockaddr *)&s->local);
}

/* The numeric address of a client: no DNS, ever. */
static void
smtp_session_addr(struct smtp_session *s, const struct sockaddr_storage *ss)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	sin = (const struct sockaddr_in *)ss;
	sin6 = (const struct sockaddr_in6 *)ss;
	(void)strlcpy(s->client, "unknown", sizeof(s->client));
	if (ss->ss_family == AF_INET) {
		(void)inet_ntop(AF_INET, &sin->sin_addr, s->client,
		    sizeof(s->client));
		s->client_port = ntohs(sin->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		(void)inet_ntop(AF_INET6, &sin6->sin6_addr, s->client,
		    sizeof(s->client));
		s->client_port = ntohs(sin6->sin6_port);
		s->client_v6 = 1;
	}
}

static void
smtp_session_greet(struct smtp_session *s)
{
	s->greeted = 1;
	/* sallyctl pause smtp: RFC 5321 3.8, RFC 3463 4.3.2. */
	if (smtp_peer_paused()) {
		smtp_reply_close(s, "4.3.2", "System not accepting network "
		    "messages", "paused");
		return;
	}
	smtp_reply(s, "220 %s ESMTP sallyport", s->conf->hostname);
}

/* Where the client is: its address, or the local caller. */
static void
smtp_session_origin(struct smtp_session *s,
    const struct sockaddr_storage *ss, const struct smtp_local *caller)
{
	if (caller == NULL) {
		smtp_session_addr(s, ss);
		return;
	}
	s->caller = *caller;
	(void)strlcpy(s->client, "local", sizeof(s->client));
	/* A local user's mail goes anywhere, as a logged-in user's. */
	s->relay_client = 1;
}

static void
smtp_session_log_connect(struct smtp_session *s, struct smtp_listener *l)
{
	char	 vis[SENDMAIL_LOGIN_MAX_BYTES * 4];

	if (l->flags & SMTP_LF_LOCAL) {
		log_info("%08x smtp connect client=local uid=%lu user=%s",
		    s->id, (unsigned long)s->caller.uid,
		    s->caller.login[0] != '\0' ? log_vis(vis, sizeof(vis),
		    s->caller.login, strlen(s->caller.login)) : "-");
		return;
	}
	log_info("%08x smtp connect client=%s port=%u listener=%s:%u proto=%s"
	    " relay=%d loopback=%d", s->id, s->client, s->client_port,
	    l->addr, l->port, config_proto_name(l->proto), s->relay_client,
	    s->loopback);
}

void
smtp_session_accept(struct smtpd *env, struct smtp_listener *l, int fd,
    const struct sockaddr_storage *ss, const struct smtp_local *caller)
{
	struct smtp_session	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		log_warn("- smtp session alloc");
		(void)close(fd);
		return;
	}
	smtp_session_origin(s, ss, caller);
	if (smtp_session_over_limit(fd, s)) {
		free(s);
		return;
	}
	s->id = smtp_session_newid();
	s->env = env;
	/* Until it ends, whatever a reload brings. */
	smtp_conf_hold(s);
	s->proto = l->proto;
	s->lflags = l->flags;
	s->state = S_INIT;
	s->msgfd = -1;
	TAILQ_INIT(&s->rcpts);
	if (caller == NULL)
		smtp_session_policy(s, fd, ss);
	else
		s->tls = NULL;	/* no STARTTLS on a local socket */
	s->io = lineio_new(env->base, fd, SMTP_CMD_LINE_MAX_BYTES - 1,
	    smtp_session_linecb, smtp_session_eventcb, s);
	s->ev_timer = evtimer_new(env->base, smtp_session_timercb, s);
	if (s->io == NULL || s->ev_timer == NULL) {
		log_warnx("- smtp session setup failed client=%s", s->client);
		if (s->io != NULL)
			lineio_free(s->io);
		else
			(void)close(fd);
		if (s->ev_timer != NULL)
			event_free(s->ev_timer);
		smtp_conf_drop(s->conf_ref);
		free(s);
		return;
	}
	TAILQ_INSERT_TAIL(&smtp_sessions, s, entry);
	smtp_nsessions++;
	smtp_sessions_accepted++;
	smtp_session_log_connect(s, l);
	/* RFC 8314 3.3: implicit TLS, the greeting after the handshake. */
	if (l->flags & SMTP_LF_SMTPS) {
		if (lineio_accept_tls(s->io, s->tls) == -1)
			smtp_session_close(s, "tls-error");
	} else if (!(l->flags & SMTP_LF_LOCAL) || smtp_local_greet(s) == 0)
		smtp_session_greet(s);
	smtp_session_arm(s);
}

/* Forgets the request out, if any; its late reply will be dropped. */
static void
smtp_session_unwait(struct smtp_session *s)
{
	if (s->wait == WAIT_NONE)
		return;
	RB_REMOVE(smtp_wait_tree, &smtp_waits, s);
	s->wait = WAIT_NONE;
	(void)evtimer_del(s->ev_timer);
}

static void
smtp_session_free(struct smtp_session *s)
{
	struct smtp_rcpt	*r;

	if (!s->closing)
		smtp_session_close(s, "error");
	smtp_session_unwait(s);
	smtp_data_abort(s);
	while ((r = TAILQ_FIRST(&s->rcpts)) != NULL) {
		TAILQ_REMOVE(&s->rcpts, r, entry);
		free(r);
	}
	TAILQ_REMOVE(&smtp_sessions, s, entry);
	smtp_nsessions--;
	event_free(s->ev_timer);
	lineio_free(s->io);
	smtp_conf_drop(s->conf_ref);
	free(s);
}

void
smtp_session_close(struct smtp_session *s, const char *reason)
{
	if (s->closing)
		return;
	log_info("%08x smtp disconnect reason=%s", s->id, reason);
	smtp_session_unwait(s);
	smtp_data_abort(s);
	s->closing = 1;
	(void)evtimer_del(s->ev_timer);
	lineio_shutdown(s->io);
}

void
smtp_session_set_state(struct smtp_session *s, enum smtp_state state)
{
	if (s->state == state)
		return;
	log_debug("%08x smtp state %#x -> %#x", s->id, s->state, state);
	s->state = state;
}

void
smtp_session_reset(struct smtp_session *s)
{
	struct smtp_rcpt	*r;

	smtp_data_abort(s);
	while ((r = TAILQ_FIRST(&s->rcpts)) != NULL) {
		TAILQ_REMOVE(&s->rcpts, r, entry);
		free(r);
	}
	s->nrcpts = 0;
	s->rcpts_bytes = 0;
	s->bdat = 0;
	s->sender[0] = '\0';
	s->smtputf8 = 0;
	s->dsn_ret = DSN_RET_NONE;
	s->dsn_envid[0] = '\0';
	smtp_session_set_state(s, s->helo[0] != '\0' ? S_HELO : S_INIT);
}

int
smtp_session_request(struct smtp_session *s, enum smtp_wait wait,
    int service, struct ipc_out *o)
{
	/* The queue's contract: its peerid is the session id. */
	s->wait_id = service == PEER_QUEUE ? s->id : smtp_session_newid();
	o->hdr.peerid = s->wait_id;
	if (RB_INSERT(smtp_wait_tree, &smtp_waits, s) != NULL) {
		log_warnx("%08x smtp request id %08x in use", s->id,
		    s->wait_id);
		return -1;
	}
	if (smtp_peer_send(service, o) == -1) {
		RB_REMOVE(smtp_wait_tree, &smtp_waits, s);
		return -1;
	}
	s->wait = wait;
	s->wait_service = service;
	lineio_pause(s->io);
	smtp_session_arm(s);
	return 0;
}

struct smtp_session *
smtp_session_take(uint32_t id, enum smtp_wait wait, const char *msgid)
{
	struct smtp_session	 key, *s;

	key.wait_id = id;
	if ((s = RB_FIND(smtp_wait_tree, &smtp_waits, &key)) == NULL)
		return NULL;
	if (s->wait != wait || (msgid != NULL && strcmp(s->msgid, msgid)))
		return NULL;
	smtp_session_unwait(s);
	return s;
}

void
smtp_session_resume(struct smtp_session *s)
{
	if (s->closing || s->wait != WAIT_NONE)
		return;
	smtp_session_arm(s);
	lineio_resume(s->io);
}

/* A request timed out or its peer went away: answer 451 at once. */
static void
smtp_session_wait_fail(struct smtp_session *s)
{
	enum smtp_wait	 wait = s->wait;

	smtp_session_unwait(s);
	switch (wait) {
	case WAIT_RCPT:
		smtp_cmd_rcpt_fail(s);
		break;
	case WAIT_CREATE:
		smtp_data_create_fail(s);
		break;
	case WAIT_COMMIT:
		smtp_data_commit_fail(s);
		break;
	case WAIT_AUTH:
		smtp_auth_fail(s);
		break;
	case WAIT_NONE:
		break;
	}
	smtp_session_resume(s);
}

void
smtp_session_peer_lost(int service)
{
	struct smtp_session	*s;

	TAILQ_FOREACH(s, &smtp_sessions, entry) {
		/* Its message file is gone with the queue's connection. */
		if (service == PEER_QUEUE && s->msgid[0] != '\0')
			s->msg_lost = 1;
		if (s->wait != WAIT_NONE && s->wait_service == service)
			smtp_session_wait_fail(s);
	}
}

static void
smtp_session_timercb(evutil_socket_t fd, short ev, void *arg)
{
	struct smtp_session	*s = arg;

	(void)fd;
	(void)ev;
	if (s->closing)
		return;
	if (s->wait == WAIT_COMMIT && smtp_data_commit_late(s) == 0) {
		smtp_session_arm(s);
		return;
	}
	if (s->wait != WAIT_NONE) {
		log_warnx("%08x smtp peer-timeout service=%s", s->id,
		    s->wait_service == PEER_AUTHD ? "authd" : "queued");
		smtp_session_wait_fail(s);
		return;
	}
	/* RFC 5321 4.5.3.2: the server's timeouts. */
	smtp_reply_close(s, "4.4.2", "Timeout", "timeout");
}

static void
smtp_session_linecb(struct lineio *io, const char *line, size_t len,
    int lflags, void *arg)
{
	struct smtp_session	*s = arg;

	(void)io;
	if (s->closing)
		return;
	if (s->state == S_DATA)
		smtp_data_line(s, line, len, lflags);
	else if (s->sasl.step != SASL_STEP_NONE)
		smtp_auth_line(s, line, len, lflags);
	else
		smtp_dispatch(s, line, len, lflags);
	if (!s->closing && s->wait == WAIT_NONE)
		smtp_session_arm(s);
}

static void
smtp_session_rawcb(struct lineio *io, const char *data, size_t len,
    size_t left, void *arg)
{
	struct smtp_session	*s = arg;

	(void)io;
	if (s->closing)
		return;
	s->raw = left > 0;
	smtp_bdat_data(s, data, len, left);
	if (!s->closing && s->wait == WAIT_NONE)
		smtp_session_arm(s);
}

void
smtp_session_read_raw(struct smtp_session *s, uint64_t n)
{
	s->raw = 1;
	lineio_read_raw(s->io, (size_t)n, smtp_session_rawcb);
}

static void
smtp_session_eventcb(struct lineio *io, int event, void *arg)
{
	struct smtp_session	*s = arg;

	(void)io;
	switch (event) {
	case LINEIO_CLOSED:
		break;
	case LINEIO_EOF:
		smtp_session_close(s, s->state == S_DATA ? "eof-in-data" :
		    "eof");
		break;
	case LINEIO_TIMEOUT:
		smtp_session_close(s, "timeout");
		break;
	case LINEIO_ERROR:
		smtp_session_close(s, "io-error");
		break;
	case LINEIO_TLS_DONE:
		smtp_session_tls_done(s);
		return;
	case LINEIO_TLS_ERROR:
		smtp_session_close(s, "tls-error");
		break;
	default:
		return;
	}
	smtp_session_free(s);
}

/*
 * RFC 3207 4.2: after the handshake the client knows nothing; it must
 * say EHLO again.  Nothing read before the handshake was kept (lineio).
 */
void
smtp_session_tls_done(struct smtp_session *s)
{
	if (s->closing)
		return;
	log_info("%08x smtp tls version=%s cipher=%s", s->id,
	    lineio_tls_version(s->io), lineio_tls_cipher(s->io));
	s->helo[0] = '\0';
	s->esmtp = 0;
	s->authenticated = 0;
	s->auth_user[0] = '\0';
	sasl_end(&s->sasl);
	smtp_session_reset(s);
	if (!s->greeted)
		smtp_session_greet(s);
	smtp_session_arm(s);
}

void
smtp_session_counts(uint64_t *accepted, uint32_t *open)
{
	*accepted = smtp_sessions_accepted;
	*open = (uint32_t)smtp_nsessions;
}
