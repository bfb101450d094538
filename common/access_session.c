/*
 * The login engine's clients (pop3d's and imapd's: the engine's user,
 * chrooted to the empty dir, seccomp SANDBOX_ENGINE), whatever their
 * protocol: the list and its limits, the password check and authd's
 * answer to it (with the timer for an authd that does not answer),
 * and the handoff of a logged-in client to the parent.  What a
 * protocol says to its client is its own (access_engine_ops).
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "access_int.h"
#include "lineio.h"
#include "log.h"

static struct {
	TAILQ_HEAD(, access_session)	 list;
	size_t				 n;
	int				 init;
} as;

static void	access_session_late(evutil_socket_t, short, void *);

static struct access_session *
access_session_lookup(uint32_t id)
{
	struct access_session	*s;

	TAILQ_FOREACH(s, &as.list, entry)
		if (s->id == id)
			return s;
	return NULL;
}

void *
access_session_find(uint32_t id)
{
	struct access_session	*s = access_session_lookup(id);

	return s != NULL ? s->owner : NULL;
}

int
access_session_add(struct access_session *s, void *owner, int fd,
    const struct sockaddr_storage *ss)
{
	if (!as.init) {
		TAILQ_INIT(&as.list);
		as.init = 1;
	}
	do {
		s->id = access_session_id();
	} while (access_session_lookup(s->id) != NULL);
	s->owner = owner;
	(void)access_addr(ss, s->addr, sizeof(s->addr));
	s->loopback = access_is_loopback(fd, ss);
	s->ev_wait = evtimer_new(access_engine_base(), access_session_late,
	    s);
	if (s->ev_wait == NULL)
		return -1;
	TAILQ_INSERT_TAIL(&as.list, s, entry);
	as.n++;
	s->listed = 1;
	return 0;
}

void
access_session_remove(struct access_session *s)
{
	if (s->listed) {
		TAILQ_REMOVE(&as.list, s, entry);
		as.n--;
		s->listed = 0;
	}
	if (s->ev_wait != NULL)
		event_free(s->ev_wait);
	s->ev_wait = NULL;
	explicit_bzero(s->token, sizeof(s->token));
	access_tls_drop(s->tls);
	s->tls = NULL;
}

const char *
access_session_over_limit(const char *addr, size_t max)
{
	struct access_session	*s;
	size_t			 n = 0;

	if (!as.init || as.n == 0)
		return NULL;
	if (as.n >= max)
		return "sessions-max";
	TAILQ_FOREACH(s, &as.list, entry)
		if (strcmp(s->addr, addr) == 0 &&
		    ++n >= access_conf_per_client())
			return "sessions-per-client";
	return NULL;
}

void
access_session_user(struct access_session *s, const char *user)
{
	(void)strlcpy(s->user, user, sizeof(s->user));
	(void)log_vis(s->user_vis, sizeof(s->user_vis), user, strlen(user));
}

int
access_session_check(struct access_session *s, const char *password)
{
	struct timeval	 tv = { ACCESS_AUTHD_TIMEOUT_SECS, 0 };

	if (access_engine_check(s->id, s->user, password, s->addr) == -1)
		return -1;
	s->waiting = 1;
	(void)evtimer_add(s->ev_wait, &tv);
	return 0;
}

/* The answer, or its stand-in: the protocol answers its client. */
static void
access_session_done(struct access_session *s, uint32_t result)
{
	(void)evtimer_del(s->ev_wait);
	s->waiting = 0;
	access_engine_ops()->answer(s->owner, result);
}

void
access_session_answer(uint32_t id, uint32_t result, const uint8_t *token)
{
	struct access_session	*s = access_session_lookup(id);

	if (s == NULL || !s->waiting) {
		/* The client left meanwhile; the token expires unused. */
		log_debug("%08x auth late-answer", id);
		return;
	}
	if (token != NULL)
		memcpy(s->token, token, sizeof(s->token));
	access_session_done(s, result);
}

void
access_session_authd_lost(void)
{
	struct access_session	*s, *next;

	if (!as.init)
		return;
	TAILQ_FOREACH_SAFE(s, &as.list, entry, next)
		if (s->waiting)
			access_session_done(s, RESULT_TEMPFAIL);
}

/* ev_wait: authd did not answer in time, and is treated as down. */
static void
access_session_late(evutil_socket_t fd, short ev, void *arg)
{
	struct access_session	*s = arg;
	uint32_t		 id = s->id;

	(void)fd;
	(void)ev;
	access_session_done(s, RESULT_TEMPFAIL);
	access_engine_authd_late(id);
}

int
access_session_plaintext_ok(const struct access_session *s,
    const struct lineio *lio)
{
	return lineio_is_tls(lio) ||
	    (s->loopback && access_conf_plaintext_loopback());
}

struct tls *
access_session_tls(struct access_session *s)
{
	if (s->tls == NULL)
		s->tls = access_tls_hold();
	return access_tls_ctx(s->tls);
}

int
access_session_handoff(struct access_session *s, struct lineio *lio,
    const char *client, const char *note)
{
	s->handing = 0;
	if (lineio_output_pending(lio) > 0) {
		s->handing = 1;
		lineio_want_drain(lio);
		return 1;
	}
	return access_engine_handoff(lio, s->id, s->token, s->user, client,
	    note);
}

const char *
access_event_name(int event)
{
	switch (event) {
	case LINEIO_EOF:
		return "eof";
	case LINEIO_TIMEOUT:
		return "timeout";
	case LINEIO_CLOSED:
		return "closed";
	case LINEIO_TLS_ERROR:
		return "tls-error";
	default:
		return "error";
	}
}

void
access_session_event(struct lineio *lio, int event, void *arg)
{
	const struct access_engine_ops	*ops = access_engine_ops();
	struct access_session		*s = arg;

	switch (event) {
	case LINEIO_DRAINED:
		if (s->handing)
			ops->handoff(s->owner);
		break;
	case LINEIO_TLS_DONE:
		log_info("%08x %s tls version=%s cipher=%s", s->id,
		    access_engine_name(), lineio_tls_version(lio),
		    lineio_tls_cipher(lio));
		ops->tls_done(s->owner);
		break;
	default:
		log_info("%08x %s disconnect state=%s reason=%s", s->id,
		    access_engine_name(), ops->state(s->owner),
		    access_event_name(event));
		ops->closed(s->owner);
		break;
	}
}
