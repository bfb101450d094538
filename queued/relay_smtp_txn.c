/*
 * The relay's SMTP client (DESIGN.md, "Outbound mail"): one mail
 * transaction.  MAIL with SIZE, BODY=8BITMIME, SMTPUTF8 and the DSN
 * parameters the server takes; RCPT for every recipient, pipelined
 * (RFC 2920) when offered; DATA; the recipients' results.
 *
 * What a server lacks is decided before MAIL: a message that needs
 * SMTPUTF8 fails 5.6.7 (RFC 6531 3.4), an 8-bit message to a server
 * without 8BITMIME is converted to quoted-printable (relay_smtp_qp.c)
 * or, when it cannot be, fails 5.6.3 (it is never sent as is), a
 * message over the server's SIZE fails 5.3.4 (RFC 1870 6).
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "relay_smtp_int.h"

static enum relay_result
relay_txn_class(int code)
{
	if (code / 100 == 2)
		return RELAY_DONE;
	return code / 100 == 5 ? RELAY_FAILED : RELAY_RETRY;
}

void
relay_txn_settle(struct relay_smtp *c, enum relay_result r,
    const char *reason)
{
	size_t	 i;

	for (i = 0; i < c->msg->nrcpts; i++) {
		if (c->msg->rcpts[i].result != RELAY_PENDING)
			continue;
		c->msg->rcpts[i].result = r;
		(void)strlcpy(c->msg->rcpts[i].reply, reason,
		    sizeof(c->msg->rcpts[i].reply));
	}
}

static void
relay_txn_settle_reply(struct relay_smtp *c)
{
	char	 buf[RELAY_REPLY_TEXT_MAX_BYTES + 32];

	relay_txn_settle(c, relay_txn_class(c->reply.code),
	    relay_reply_str(&c->reply, buf, sizeof(buf)));
}

void
relay_txn_report(struct relay_smtp *c)
{
	static const char	*names[] = { "pending", "done", "retry",
				    "failed" };
	struct relay_msg	*m = c->msg;
	size_t			 i;

	c->msg = NULL;
	c->reporting = 1;
	for (i = 0; i < m->nrcpts; i++) {
		log_debug("%s relay rcpt to=<%s> result=%s reply=\"%s\"",
		    c->p.id, m->rcpts[i].addr, names[m->rcpts[i].result],
		    m->rcpts[i].reply);
		c->cb.rcpt(c, m, &m->rcpts[i], c->arg);
	}
	c->cb.msg(c, m, c->arg);
	c->reporting = 0;
}

/* The message is through: report it, then the next one or idle. */
static void
relay_txn_end(struct relay_smtp *c)
{
	if (c->p.msgs_max > 0 && c->nmsgs >= c->p.msgs_max)
		c->quit_wanted = 1;
	relay_txn_report(c);
	if (c->state == RS_DEAD)
		return;
	relay_smtp_ready(c);
}

/* Fails the whole message before MAIL when the server cannot take it. */
static int
relay_txn_refuse(struct relay_smtp *c)
{
	struct relay_msg	*m = c->msg;
	const char		*why = NULL;

	if ((m->flags & RELAY_MSG_SMTPUTF8) &&
	    !(c->caps.flags & RELAY_CAP_SMTPUTF8))
		why = "550 5.6.7 server does not offer SMTPUTF8";
	else if ((m->flags & RELAY_MSG_8BIT) &&
	    !(c->caps.flags & RELAY_CAP_8BITMIME))
		why = relay_data_scan(c);
	if (why == NULL && (c->caps.flags & RELAY_CAP_SIZE) &&
	    c->caps.size_max > 0 &&
	    (unsigned long long)m->size > c->caps.size_max)
		why = "552 5.3.4 message larger than the server's SIZE";
	if (why == NULL)
		return 0;
	relay_txn_settle(c, relay_txn_class(atoi(why)), why);
	return 1;
}

static int
relay_txn_mail(struct relay_smtp *c)
{
	struct relay_msg	*m = c->msg;
	char			 size[32] = "", dsn[160] = "";
	int			 has_dsn = c->caps.flags & RELAY_CAP_DSN;

	if (c->caps.flags & RELAY_CAP_SIZE)
		(void)snprintf(size, sizeof(size), " SIZE=%lld",
		    (long long)m->size);
	if (has_dsn)
		(void)snprintf(dsn, sizeof(dsn), "%s%s%s%s",
		    m->ret != NULL ? " RET=" : "", m->ret != NULL ? m->ret : "",
		    m->envid != NULL ? " ENVID=" : "",
		    m->envid != NULL ? m->envid : "");
	return relay_smtp_cmd(c, "MAIL FROM:<%s>%s%s%s%s", m->sender, size,
	    (m->flags & RELAY_MSG_8BIT) && !c->convert ? " BODY=8BITMIME" : "",
	    (m->flags & RELAY_MSG_SMTPUTF8) ? " SMTPUTF8" : "", dsn);
}

static int
relay_txn_rcpt(struct relay_smtp *c, size_t i)
{
	struct relay_rcpt	*r = &c->msg->rcpts[i];
	int			 dsn = c->caps.flags & RELAY_CAP_DSN;

	return relay_smtp_cmd(c, "RCPT TO:<%s>%s%s%s%s", r->addr,
	    dsn && r->notify != NULL ? " NOTIFY=" : "",
	    dsn && r->notify != NULL ? r->notify : "",
	    dsn && r->orcpt != NULL ? " ORCPT=" : "",
	    dsn && r->orcpt != NULL ? r->orcpt : "");
}

void
relay_txn_begin(struct relay_smtp *c)
{
	/* After a transaction, RSET first: the server's state is clean. */
	if (c->nmsgs > 0) {
		if (relay_smtp_cmd(c, "RSET") == 0)
			relay_smtp_state(c, RS_RSET, c->p.timeouts.greeting);
		return;
	}
	relay_txn_start(c);
}

void
relay_txn_start(struct relay_smtp *c)
{
	size_t	 i;

	c->reply_idx = 0;
	c->accepted = 0;
	c->mail_failed = 0;
	c->convert = 0;
	if (relay_txn_refuse(c)) {
		relay_txn_end(c);
		return;
	}
	c->nmsgs++;
	if (relay_txn_mail(c) == -1)
		return;
	relay_smtp_state(c, RS_TXN, c->p.timeouts.mail);
	if (!(c->caps.flags & RELAY_CAP_PIPELINING))
		return;
	for (i = 0; i < c->msg->nrcpts; i++)
		if (relay_txn_rcpt(c, i) == -1)
			return;
	(void)relay_smtp_cmd(c, "DATA");
}

/* RFC 5321 4.5.3.1.10: a 552 to RCPT is taken as 452. */
static void
relay_txn_rcpt_reply(struct relay_smtp *c, struct relay_rcpt *r)
{
	int	 code = c->reply.code;

	if (c->mail_failed)
		return;
	if (code / 100 == 2) {
		c->accepted++;
		return;
	}
	r->result = code == 552 ? RELAY_RETRY : relay_txn_class(code);
	(void)relay_reply_str(&c->reply, r->reply, sizeof(r->reply));
}

static void
relay_txn_data_reply(struct relay_smtp *c)
{
	if (c->reply.code == 354 && c->accepted > 0 && !c->mail_failed) {
		relay_smtp_state(c, RS_BODY, c->p.timeouts.data_block);
		memset(&c->data, 0, sizeof(c->data));
		relay_data_send(c);
		return;
	}
	if (c->reply.code == 354) {
		/* Nothing to send it for: no empty message, ever. */
		relay_txn_report(c);
		relay_smtp_end(c, 0, "354 to DATA without a recipient");
		return;
	}
	if (!c->mail_failed) {
		if (c->reply.code / 100 == 2)
			c->reply.code = 451;
		relay_txn_settle_reply(c);
	}
	relay_txn_end(c);
}

void
relay_txn_reply(struct relay_smtp *c)
{
	struct relay_msg	*m = c->msg;
	size_t			 idx = c->reply_idx++;
	int			 pipe = c->caps.flags & RELAY_CAP_PIPELINING;

	if (idx == 0 && c->reply.code / 100 != 2) {
		c->mail_failed = 1;
		relay_txn_settle_reply(c);
	} else if (idx > 0 && idx <= m->nrcpts)
		relay_txn_rcpt_reply(c, &m->rcpts[idx - 1]);
	else if (idx > m->nrcpts) {
		relay_txn_data_reply(c);
		return;
	}
	if (pipe) {
		relay_smtp_state(c, RS_TXN, c->p.timeouts.rcpt);
		return;
	}
	if (c->mail_failed || (idx == m->nrcpts && c->accepted == 0)) {
		relay_txn_end(c);
		return;
	}
	if (idx < m->nrcpts) {
		if (relay_txn_rcpt(c, idx) == 0)
			relay_smtp_state(c, RS_TXN, c->p.timeouts.rcpt);
	} else if (relay_smtp_cmd(c, "DATA") == 0)
		relay_smtp_state(c, RS_TXN, c->p.timeouts.data_init);
}

void
relay_txn_dot(struct relay_smtp *c)
{
	relay_txn_settle_reply(c);
	relay_txn_end(c);
}

/* Strings that go into a command: no line ends, no angle brackets. */
static int
relay_txn_safe(const char *s)
{
	return s == NULL || strcspn(s, "\r\n<>") == strlen(s);
}

int
relay_smtp_send(struct relay_smtp *c, struct relay_msg *m)
{
	struct stat	 st;
	size_t		 i;

	if (c->msg != NULL || c->state == RS_DEAD || c->quit_wanted ||
	    (c->state >= RS_RSET && !c->reporting) || m->nrcpts == 0 ||
	    m->nrcpts > SMTP_RCPT_MAX ||
	    !relay_txn_safe(m->sender) || !relay_txn_safe(m->ret) ||
	    !relay_txn_safe(m->envid))
		return -1;
	for (i = 0; i < m->nrcpts; i++) {
		if (!relay_txn_safe(m->rcpts[i].addr) ||
		    !relay_txn_safe(m->rcpts[i].notify) ||
		    !relay_txn_safe(m->rcpts[i].orcpt))
			return -1;
		m->rcpts[i].result = RELAY_PENDING;
		m->rcpts[i].reply[0] = '\0';
	}
	if (m->size == 0 && fstat(m->fd, &st) == 0)
		m->size = st.st_size;
	c->msg = m;
	/* From the msg callback, relay_txn_end() goes on with it. */
	if (c->state == RS_IDLE && !c->reporting)
		relay_txn_begin(c);
	return 0;
}
