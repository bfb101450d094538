/*
 * The relay's SMTP client (DESIGN.md, "Outbound mail"; issue 9): the
 * connection.  Runs in the relay process (user _sallyrelay, chrooted,
 * seccomp'd) on its event loop.  Here: the greeting, EHLO with a HELO
 * fallback on 5xx, STARTTLS by policy, reuse, QUIT, the per-state timer
 * and the end of the connection; the transaction is relay_smtp_txn.c.
 *
 * Anything bad from the server (a malformed or over-long reply, too
 * many lines) ends the connection with a temporary failure for every
 * recipient without a result, never with a result it did not give.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tls.h>
#include <unistd.h>

#include "log.h"
#include "relay_smtp_int.h"

typedef void	(*relay_reply_handler)(struct relay_smtp *);

static void	relay_greeting(struct relay_smtp *);
static void	relay_ehlo(struct relay_smtp *);
static void	relay_helo(struct relay_smtp *);
static void	relay_starttls(struct relay_smtp *);
static void	relay_rset(struct relay_smtp *);
static void	relay_quit_reply(struct relay_smtp *);
static void	relay_unexpected(struct relay_smtp *);

/* What a complete reply means in each state. */
static const struct {
	const char		*name;
	relay_reply_handler	 handler;
} relay_states[] = {
	[RS_GREETING] =	{ "greeting",	relay_greeting },
	[RS_EHLO] =	{ "ehlo",	relay_ehlo },
	[RS_HELO] =	{ "helo",	relay_helo },
	[RS_STARTTLS] =	{ "starttls",	relay_starttls },
	[RS_TLS] =	{ "tls",	relay_unexpected },
	[RS_AUTH] =	{ "auth",	relay_auth_reply },
	[RS_IDLE] =	{ "idle",	relay_unexpected },
	[RS_RSET] =	{ "rset",	relay_rset },
	[RS_TXN] =	{ "mail-rcpt-data", relay_txn_reply },
	[RS_BODY] =	{ "data",	relay_unexpected },
	[RS_DOT] =	{ "end-of-data", relay_txn_dot },
	[RS_QUIT] =	{ "quit",	relay_quit_reply },
	[RS_DEAD] =	{ "dead",	relay_unexpected },
};

void
relay_smtp_timeouts_default(struct relay_timeouts *t)
{
	t->greeting = RELAY_GREETING_TIMEOUT_SECS;
	t->mail = RELAY_MAIL_TIMEOUT_SECS;
	t->rcpt = RELAY_RCPT_TIMEOUT_SECS;
	t->data_init = RELAY_DATA_INIT_TIMEOUT_SECS;
	t->data_block = RELAY_DATA_BLOCK_TIMEOUT_SECS;
	t->data_end = RELAY_DATA_END_TIMEOUT_SECS;
}

/* Enters state s with secs to wait for the server (0: no timer). */
void
relay_smtp_state(struct relay_smtp *c, enum relay_state s, int secs)
{
	struct timeval	 tv = { secs, 0 };

	log_debug("%s relay state from=%s to=%s", c->p.id,
	    relay_states[c->state].name, relay_states[s].name);
	c->state = s;
	(void)evtimer_del(c->ev_timer);
	if (secs > 0)
		(void)evtimer_add(c->ev_timer, &tv);
}

int
relay_smtp_cmd(struct relay_smtp *c, const char *fmt, ...)
{
	va_list	 ap;
	char	 buf[SMTP_LINE_MAX_BYTES];
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf) - 2) {
		relay_smtp_end(c, 0, "command too long");
		return -1;
	}
	memcpy(buf + n, "\r\n", 2);
	if (lineio_write(c->io, buf, (size_t)n + 2) == -1) {
		relay_smtp_end(c, 0, "write failed");
		return -1;
	}
	return 0;
}

/*
 * Ends the connection: no more input, and the results, the message and
 * the connection reported from the event loop (ev_end), where the
 * caller may free the session.
 */
void
relay_smtp_end(struct relay_smtp *c, int ok, const char *reason)
{
	if (c->state == RS_DEAD)
		return;
	relay_smtp_state(c, RS_DEAD, 0);
	c->end_ok = ok;
	(void)strlcpy(c->end_reason, reason, sizeof(c->end_reason));
	lineio_pause(c->io);
	event_active(c->ev_end, 0, 0);
}

static void
relay_endcb(evutil_socket_t fd, short ev, void *arg)
{
	struct relay_smtp	*c = arg;

	(void)fd;
	(void)ev;
	log_debug("%s relay end ok=%s reason=\"%s\" messages=%d", c->p.id,
	    c->end_ok ? "yes" : "no", c->end_reason, c->nmsgs);
	if (c->msg != NULL) {
		/* A transaction cut short is retried, never delivered. */
		relay_txn_settle(c, RELAY_RETRY, c->end_reason);
		relay_txn_report(c);
	}
	c->cb.conn(c, c->end_ok, c->end_reason, c->arg);
}

static void
relay_timercb(evutil_socket_t fd, short ev, void *arg)
{
	struct relay_smtp	*c = arg;
	char			 reason[64];

	(void)fd;
	(void)ev;
	if (c->state == RS_IDLE) {
		relay_smtp_quit(c);
		return;
	}
	(void)snprintf(reason, sizeof(reason), "timeout in state %s",
	    relay_states[c->state].name);
	relay_smtp_end(c, 0, reason);
}

/* A reply's text for a failure: "greeting: 421 4.3.2 busy". */
static void
relay_fail_reply(struct relay_smtp *c, const char *what)
{
	char	 buf[RELAY_REPLY_TEXT_MAX_BYTES + 32], reason[sizeof(buf) + 32];

	(void)snprintf(reason, sizeof(reason), "%s: %s", what,
	    relay_reply_str(&c->reply, buf, sizeof(buf)));
	relay_smtp_end(c, 0, reason);
}

static void
relay_greeting(struct relay_smtp *c)
{
	c->greeted = 1;
	if (c->reply.code / 100 != 2) {
		relay_fail_reply(c, "greeting");
		return;
	}
	if (relay_smtp_cmd(c, "EHLO %s", c->p.helo) == 0)
		relay_smtp_state(c, RS_EHLO, c->p.timeouts.greeting);
}

static void
relay_ehlo(struct relay_smtp *c)
{
	int	 code = c->reply.code;

	if (code / 100 == 5 && !c->tls_on && !relay_tls_required(c)) {
		/* RFC 5321 3.2: an old server; HELO, no extensions. */
		if (relay_smtp_cmd(c, "HELO %s", c->p.helo) == 0)
			relay_smtp_state(c, RS_HELO, c->p.timeouts.greeting);
		return;
	}
	if (code / 100 != 2) {
		relay_fail_reply(c, "ehlo");
		return;
	}
	if (!c->tls_on && relay_tls_wanted(c) &&
	    (c->caps.flags & RELAY_CAP_STARTTLS)) {
		if (relay_smtp_cmd(c, "STARTTLS") == 0)
			relay_smtp_state(c, RS_STARTTLS,
			    c->p.timeouts.greeting);
		return;
	}
	if (!c->tls_on && relay_tls_required(c)) {
		/* A required TLS is never given up for plaintext. */
		relay_tls_fail(c, "tls required, STARTTLS not offered");
		return;
	}
	relay_auth_start(c);
}

static void
relay_helo(struct relay_smtp *c)
{
	if (c->reply.code / 100 != 2) {
		relay_fail_reply(c, "helo");
		return;
	}
	memset(&c->caps, 0, sizeof(c->caps));
	relay_auth_start(c);
}

static struct tls *
relay_tls_client(struct relay_smtp *c, char *err, size_t errlen)
{
	struct tls_config	*cfg;
	struct tls		*t = NULL;

	if ((cfg = tls_config_new()) == NULL) {
		(void)strlcpy(err, "tls_config_new failed", errlen);
		return NULL;
	}
	(void)tls_config_set_protocols(cfg, TLS_PROTOCOL_TLSv1_2 |
	    TLS_PROTOCOL_TLSv1_3);
	if (relay_tls_pkix(c)) {
		if (c->p.tls_ca_mem != NULL) {
			if (tls_config_set_ca_mem(cfg, c->p.tls_ca_mem,
			    c->p.tls_ca_len) == -1)
				(void)strlcpy(err, tls_config_error(cfg),
				    errlen);
		} else if (c->p.tls_ca_file != NULL &&
		    tls_config_set_ca_file(cfg, c->p.tls_ca_file) == -1)
			(void)strlcpy(err, tls_config_error(cfg), errlen);
	} else {
		tls_config_insecure_noverifycert(cfg);
		tls_config_insecure_noverifyname(cfg);
	}
	if (err[0] == '\0' && ((t = tls_client()) == NULL ||
	    tls_configure(t, cfg) == -1)) {
		(void)strlcpy(err, t != NULL && tls_error(t) != NULL ?
		    tls_error(t) : "tls_client failed", errlen);
		tls_free(t);
		t = NULL;
	}
	tls_config_free(cfg);
	return t;
}

static void
relay_starttls(struct relay_smtp *c)
{
	struct tls	*t;
	char		 err[256] = "";

	if (c->reply.code != 220) {
		if (relay_tls_required(c))
			relay_fail_reply(c, c->dane != RELAY_DANE_OFF ?
			    "4.7.5 DANE: starttls" : "starttls");
		else
			relay_auth_start(c);
		return;
	}
	if ((t = relay_tls_client(c, err, sizeof(err))) == NULL) {
		relay_smtp_end(c, 0, err);
		return;
	}
	relay_smtp_state(c, RS_TLS, c->p.timeouts.greeting);
	(void)lineio_connect_tls(c->io, t, c->p.tls_name);
}

static void
relay_tls_done(struct relay_smtp *c)
{
	c->tls_on = 1;
	if (relay_tls_check(c) == -1)
		return;
	log_info("%s relay tls proto=%s cipher=%s verified=%s name=%s",
	    c->p.id, lineio_tls_version(c->io), lineio_tls_cipher(c->io),
	    c->verified,
	    c->p.tls_name != NULL ? c->p.tls_name : "-");
	if (!c->greeted) {
		/* Implicit TLS: the greeting comes over it. */
		relay_smtp_state(c, RS_GREETING, c->p.timeouts.greeting);
		return;
	}
	/* RFC 3207 4.2: forget what was learnt before; EHLO again. */
	memset(&c->caps, 0, sizeof(c->caps));
	if (relay_smtp_cmd(c, "EHLO %s", c->p.helo) == 0)
		relay_smtp_state(c, RS_EHLO, c->p.timeouts.greeting);
}

static void
relay_rset(struct relay_smtp *c)
{
	if (c->reply.code / 100 != 2) {
		relay_fail_reply(c, "rset");
		return;
	}
	relay_txn_start(c);
}

static void
relay_quit_reply(struct relay_smtp *c)
{
	relay_smtp_end(c, 1, "quit");
}

static void
relay_unexpected(struct relay_smtp *c)
{
	relay_fail_reply(c, "unexpected reply");
}

/* Ready for a message: the one waiting, or idle until one comes. */
void
relay_smtp_ready(struct relay_smtp *c)
{
	if (c->quit_wanted && c->msg == NULL) {
		relay_smtp_state(c, RS_IDLE, 0);
		relay_smtp_quit(c);
		return;
	}
	relay_smtp_state(c, RS_IDLE, c->p.idle_secs);
	if (!c->was_ready) {
		c->was_ready = 1;
		if (c->cb.ready != NULL && c->msg == NULL) {
			c->reporting = 1;
			c->cb.ready(c, c->arg);
			c->reporting = 0;
		}
	}
	if (c->msg != NULL && c->state == RS_IDLE)
		relay_txn_begin(c);
}

static void
relay_linecb(struct lineio *l, const char *line, size_t len, int flags,
    void *arg)
{
	struct relay_smtp	*c = arg;
	const char		*errstr = NULL;
	char			 reason[128];
	int			 r;

	(void)l;
	if (c->state == RS_DEAD)
		return;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (flags & LINE_F_TOOLONG)
		r = -1, errstr = "reply line too long";
	else
		r = relay_reply_feed(&c->reply, c->state == RS_EHLO ?
		    &c->caps : NULL, line, len, &errstr);
	if (r == -1) {
		(void)snprintf(reason, sizeof(reason), "bad reply: %s",
		    errstr);
		relay_smtp_end(c, 0, reason);
		return;
	}
	if (r == 0)
		return;
	relay_states[c->state].handler(c);
	relay_reply_reset(&c->reply, NULL);
}

static void
relay_eventcb(struct lineio *l, int event, void *arg)
{
	struct relay_smtp	*c = arg;

	(void)l;
	if (c->state == RS_DEAD)
		return;
	switch (event) {
	case LINEIO_TLS_DONE:
		relay_tls_done(c);
		break;
	case LINEIO_TLS_ERROR:
		relay_tls_fail(c, "tls handshake failed");
		break;
	case LINEIO_DRAINED:
		if (c->state == RS_BODY)
			relay_data_send(c);
		break;
	case LINEIO_EOF:
		relay_smtp_end(c, c->state == RS_QUIT, "connection closed");
		break;
	default:
		relay_smtp_end(c, c->state == RS_QUIT, "connection lost");
		break;
	}
}

struct relay_smtp *
relay_smtp_new(struct event_base *base, int fd,
    const struct relay_params *p, const struct relay_callbacks *cb,
    void *arg)
{
	struct relay_smtp	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		(void)close(fd);
		return NULL;
	}
	c->base = base;
	c->p = *p;
	c->cb = *cb;
	c->arg = arg;
	c->dane = relay_tls_dane(p);
	if ((c->ev_timer = evtimer_new(base, relay_timercb, c)) == NULL ||
	    (c->ev_end = event_new(base, -1, 0, relay_endcb, c)) == NULL ||
	    (c->io = lineio_new(base, fd, RELAY_REPLY_LINE_MAX_BYTES + 1,
	    relay_linecb, relay_eventcb, c)) == NULL) {
		if (c->io == NULL)
			(void)close(fd);
		relay_smtp_free(c);
		return NULL;
	}
	relay_reply_reset(&c->reply, &c->caps);
	relay_smtp_state(c, RS_GREETING, c->p.timeouts.greeting);
	if (c->p.implicit_tls) {
		/* smtps: the handshake first, then the greeting over it. */
		char		 err[256] = "";
		struct tls	*t;

		if ((t = relay_tls_client(c, err, sizeof(err))) == NULL) {
			relay_smtp_end(c, 0, err);
			return c;
		}
		relay_smtp_state(c, RS_TLS, c->p.timeouts.greeting);
		(void)lineio_connect_tls(c->io, t, c->p.tls_name);
	}
	return c;
}

void
relay_smtp_info(const struct relay_smtp *c, int *tls, int *verified,
    int *caps)
{
	if (tls != NULL)
		*tls = c->tls_on;
	if (verified != NULL)
		*verified = c->tls_on && c->verified != NULL &&
		    strcmp(c->verified, "no") != 0;
	if (caps != NULL)
		*caps = c->caps.flags;
}

const char *
relay_smtp_verified(const struct relay_smtp *c)
{
	return c->tls_on && c->verified != NULL ? c->verified : "no";
}

void
relay_smtp_quit(struct relay_smtp *c)
{
	if (c->state != RS_IDLE) {
		c->quit_wanted = 1;
		return;
	}
	if (relay_smtp_cmd(c, "QUIT") == 0)
		relay_smtp_state(c, RS_QUIT, c->p.timeouts.greeting);
}

void
relay_smtp_free(struct relay_smtp *c)
{
	if (c == NULL)
		return;
	if (c->ev_timer != NULL)
		event_free(c->ev_timer);
	if (c->ev_end != NULL)
		event_free(c->ev_end);
	lineio_free(c->io);
	relay_mime_free(c->mime);
	free(c);
}
