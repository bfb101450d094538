/*
 * smtpd engine (user smtp, chroot emptydir, seccomp SANDBOX_ENGINE): the
 * SMTP commands of RFC 5321 4.1.1.  One table says for each verb the
 * states it is allowed in and whether it takes an argument;
 * smtp_dispatch() checks all of that, and the line itself, before a
 * handler runs, so handlers do not check state.  RCPT needs authd, so it
 * is split into cmd_rcpt (the check) and smtp_cmd_rcpt_result (the
 * answer); DATA continues in smtp_data.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lineio.h"
#include "log.h"
#include "proto.h"
#include "smtpd.h"

enum smtp_args {
	ARG_NONE,		/* none allowed */
	ARG_OPT,		/* anything or nothing */
	ARG_REQ,		/* required */
};

struct smtp_cmd {
	const char	*verb;
	int		 states;
	enum smtp_args	 args;
	void		(*handler)(struct smtp_session *, const char *);
};

static void	cmd_helo(struct smtp_session *, const char *);
static void	cmd_ehlo(struct smtp_session *, const char *);
static void	cmd_mail(struct smtp_session *, const char *);
static void	cmd_rcpt(struct smtp_session *, const char *);
static void	cmd_data(struct smtp_session *, const char *);
static void	cmd_rset(struct smtp_session *, const char *);
static void	cmd_noop(struct smtp_session *, const char *);
static void	cmd_quit(struct smtp_session *, const char *);
static void	cmd_help(struct smtp_session *, const char *);
static void	cmd_vrfy(struct smtp_session *, const char *);
static void	cmd_expn(struct smtp_session *, const char *);
static void	cmd_starttls(struct smtp_session *, const char *);
static void	smtp_cmd_rcpt_log(struct smtp_session *, const char *);

static const struct smtp_cmd smtp_cmds[] = {
	/* verb		states		args	handler */
	{ "HELO",	S_CMD,		ARG_REQ,	cmd_helo },
	{ "EHLO",	S_CMD,		ARG_REQ,	cmd_ehlo },
	{ "MAIL",	S_HELO,		ARG_REQ,	cmd_mail },
	{ "RCPT",	S_MAIL | S_RCPT, ARG_REQ,	cmd_rcpt },
	{ "DATA",	S_MAIL | S_RCPT, ARG_NONE,	cmd_data },
	{ "RSET",	S_CMD,		ARG_NONE,	cmd_rset },
	{ "NOOP",	S_CMD,		ARG_OPT,	cmd_noop },
	{ "QUIT",	S_CMD,		ARG_NONE,	cmd_quit },
	{ "HELP",	S_CMD,		ARG_OPT,	cmd_help },
	{ "VRFY",	S_CMD,		ARG_REQ,	cmd_vrfy },
	{ "EXPN",	S_CMD,		ARG_REQ,	cmd_expn },
	{ "STARTTLS",	S_HELO,		ARG_NONE, cmd_starttls },
	{ "AUTH",	S_HELO,		ARG_REQ,	smtp_auth_cmd },
	/* Any state: its chunk is read even when it is refused. */
	{ "BDAT",	S_CMD,		ARG_REQ,	smtp_bdat_cmd },
};

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

static const struct smtp_cmd *
smtp_cmd_lookup(const char *verb)
{
	size_t	 i;

	for (i = 0; i < NITEMS(smtp_cmds); i++)
		if (strcmp(smtp_cmds[i].verb, verb) == 0)
			return &smtp_cmds[i];
	return NULL;
}

/* Checks what lineio saw in the line: length, NUL, bare LF or CR. */
static int
smtp_check_line(struct smtp_session *s, int lflags)
{
	if (lflags & LINE_F_TOOLONG) {
		/* RFC 5321 4.5.3.1.10. */
		smtp_error(s, "line-too-long", "500 5.5.2 Line too long");
		return -1;
	}
	if (lflags & LINE_F_NUL) {
		smtp_error(s, "nul-byte", "500 5.5.2 NUL byte in command");
		return -1;
	}
	/* RFC 5321 2.3.8: lines end with CRLF, and only there. */
	if (lflags & (LINE_F_BARELF | LINE_F_BARECR)) {
		smtp_error(s, "bare-lf-or-cr",
		    "500 5.5.2 Bare LF or CR in command, use CRLF");
		return -1;
	}
	return 0;
}

/* 503: a verb the state does not allow (RFC 5321 4.3.2, 3.3). */
static void
smtp_sequence_error(struct smtp_session *s, const struct smtp_cmd *c)
{
	const char	*text;

	if (s->state == S_INIT)
		text = "Send HELO/EHLO first";
	else if (c->states & S_HELO)
		text = "Nested MAIL command";
	else
		text = "Need MAIL command first";
	smtp_error(s, "bad-sequence", "503 5.5.1 %s", text);
}

void
smtp_dispatch(struct smtp_session *s, const char *line, size_t len,
    int lflags)
{
	struct smtp_cmdline	 cl;
	const struct smtp_cmd	*c;
	const char		*errstr;

	s->verb[0] = '\0';
	if (smtp_check_line(s, lflags) == -1) {
		smtp_bdat_line_refused(s, line, len);
		return;
	}
	if (smtp_parse_cmdline(line, len, &cl, &errstr) == -1) {
		smtp_error(s, "bad-syntax", "500 5.5.2 Syntax error");
		smtp_bdat_line_refused(s, line, len);
		return;
	}
	if ((c = smtp_cmd_lookup(cl.verb)) == NULL) {
		smtp_error(s, "unknown-command",
		    "500 5.5.1 Command unrecognized");
		return;
	}
	(void)strlcpy(s->verb, c->verb, sizeof(s->verb));
	if ((c->states & s->state) == 0) {
		smtp_sequence_error(s, c);
		return;
	}
	if (c->args == ARG_NONE && cl.has_arg) {
		smtp_error(s, "bad-syntax", "501 5.5.4 Syntax: %s takes no "
		    "argument", c->verb);
		return;
	}
	if (c->args == ARG_REQ && !cl.has_arg) {
		smtp_error(s, "bad-syntax", "501 5.5.4 Syntax: %s needs an "
		    "argument", c->verb);
		return;
	}
	c->handler(s, cl.arg);
}

/*
 * HELO and EHLO (RFC 5321 4.1.1.1).  Either resets a transaction in
 * progress (4.1.4).
 */
static int
smtp_cmd_hello(struct smtp_session *s, const char *arg, int esmtp)
{
	const char	*errstr;

	if (smtp_parse_helo(arg, &errstr) == -1) {
		smtp_error(s, "bad-helo", "501 5.5.4 Invalid domain name");
		return -1;
	}
	(void)strlcpy(s->helo, arg, sizeof(s->helo));
	s->esmtp = esmtp;
	smtp_session_reset(s);
	log_debug("%08x smtp helo name=%s esmtp=%d", s->id, s->helo, esmtp);
	return 0;
}

static void
cmd_helo(struct smtp_session *s, const char *arg)
{
	if (smtp_cmd_hello(s, arg, 0) == 0)
		smtp_reply(s, "250 %s Hello %s [%s]", s->conf->hostname,
		    s->helo, s->client);
}

static void
cmd_ehlo(struct smtp_session *s, const char *arg)
{
	if (smtp_cmd_hello(s, arg, 1) == -1)
		return;
	smtp_reply(s, "250-%s Hello %s [%s]", s->conf->hostname,
	    s->helo, s->client);
	smtp_reply(s, "250-PIPELINING");
	smtp_reply(s, "250-SIZE %llu",
	    (unsigned long long)s->conf->max_message_bytes);
	smtp_reply(s, "250-8BITMIME");
	smtp_reply(s, "250-ENHANCEDSTATUSCODES");
	smtp_reply(s, "250-CHUNKING");
	smtp_reply(s, "250-DSN");
	smtp_reply(s, "250-SMTPUTF8");
	if (s->tls != NULL && !lineio_is_tls(s->io))
		smtp_reply(s, "250-STARTTLS");
	if (smtp_auth_allowed(s) && !s->authenticated)
		smtp_reply(s, "250-AUTH PLAIN LOGIN");
	smtp_reply(s, "250 HELP");
}

/* The reply for a MAIL or RCPT argument that did not parse. */
static void
smtp_cmd_parse_error(struct smtp_session *s, int r, const char *errstr,
    const char *pathenh, const char *usage)
{
	switch (r) {
	case SMTP_PARSE_PATH:
		smtp_error(s, "bad-address", "501 %s Bad address (%s)",
		    pathenh, errstr);
		break;
	case SMTP_PARSE_PARAM:
		smtp_error(s, "bad-parameter", "501 5.5.4 Bad parameter (%s)",
		    errstr);
		break;
	case SMTP_PARSE_UNKNOWN:
		smtp_error(s, "unknown-parameter",
		    "555 5.5.4 Parameter not supported (%s)", errstr);
		break;
	case SMTP_PARSE_UTF8:
		/* RFC 6531 3.5. */
		smtp_error(s, "utf8-without-smtputf8", "553 5.6.7 Non-ASCII "
		    "address not permitted without SMTPUTF8");
		break;
	default:
		smtp_error(s, "bad-syntax", "501 5.5.4 Syntax: %s", usage);
		break;
	}
}

/*
 * On submission the sender must be the authenticated user's own address:
 * its local part the login name, its domain one of ours (RFC 6409 8.1),
 * unless "submission sender any" lets the user send as anyone.  Both
 * are compared without case, as authd resolves them (domains: RFC 5321
 * 2.4), so <ALICE@EXAMPLE.TEST> is alice's.  The null sender is no one's
 * address and is what notifications use (RFC 3461 6.2, RFC 8098 2.1,
 * RFC 3834 3.3): allowed, as Postfix's sender login check allows it.
 */
static int
smtp_cmd_sender_owned(struct smtp_session *s, const struct smtp_path *p)
{
	char	 local[SMTP_LOCALPART_MAX_BYTES + 1];

	if (!(s->lflags & SMTP_LF_SUBMISSION) ||
	    s->conf->submission_sender_any || p->null)
		return 0;
	if (mailaddr_local_unquote(&p->addr, local, sizeof(local)) == 0 &&
	    strcasecmp(local, s->auth_user) == 0 &&
	    config_is_local_domain(s->conf, p->addr.domain))
		return 0;
	smtp_error(s, "sender-not-owned", "553 5.7.1 Sender address not "
	    "owned by user %s", s->auth_user);
	return -1;
}

/*
 * "limit messages-per-session" (0: none).  Past it MAIL is answered 451
 * and the session goes on (RFC 5321 3.8: no close but at shutdown or
 * timeout); the sender sends the message again in a new session.
 */
static int
smtp_cmd_over_messages(struct smtp_session *s)
{
	uint32_t	 max = s->conf->max_messages_per_session;

	if (max == 0 || s->nmessages < max)
		return 0;
	smtp_reply(s, "451 4.7.0 Too many messages in one session, send "
	    "the next in a new session");
	log_info("%08x smtp mail-refused reason=too-many-messages "
	    "messages=%u", s->id, s->nmessages);
	return 1;
}

static void
cmd_mail(struct smtp_session *s, const char *arg)
{
	struct smtp_mail_args	 ma;
	const char		*errstr;
	char			 vis[SMTP_PATH_MAX_BYTES * 4];
	int			 r;

	/* RFC 6409 4.3: submission needs AUTH, and AUTH needs TLS. */
	if ((s->lflags & SMTP_LF_SUBMISSION) && !s->authenticated) {
		smtp_error(s, "auth-required",
		    "530 5.7.0 Authentication required");
		return;
	}
	if (smtp_cmd_over_messages(s))
		return;
	/*
	 * sallyctl pause smtp: no new transaction; one already past MAIL
	 * (in DATA) finishes.  RFC 3463 4.3.2.
	 */
	if (smtp_peer_paused()) {
		log_info("%08x smtp mail-refused reason=paused", s->id);
		smtp_reply_close(s, "4.3.2", "System not accepting network "
		    "messages", "paused");
		return;
	}
	/* RFC 5321 4.5.3.1.10, RFC 3463 4.3.1: refused before it is sent. */
	if (smtp_peer_spool_low()) {
		smtp_reply(s, "452 4.3.1 Insufficient system storage, try "
		    "again later");
		log_info("%08x smtp mail-refused reason=spool-low", s->id);
		return;
	}
	r = smtp_parse_mail(arg, s->esmtp, &ma, &errstr);
	if (r != SMTP_PARSE_OK) {
		smtp_cmd_parse_error(s, r, errstr, "5.1.7",
		    "MAIL FROM:<address>");
		return;
	}
	/* RFC 1870 6.1: refuse a declared size we would refuse anyway. */
	if (ma.has_size && ma.size > s->conf->max_message_bytes) {
		smtp_reply(s, "552 5.3.4 Message size exceeds fixed maximum "
		    "message size");
		log_info("%08x smtp mail-refused size=%llu reason=too-big",
		    s->id, (unsigned long long)ma.size);
		return;
	}
	s->sender[0] = '\0';
	if (!ma.path.null && mailaddr_format(&ma.path.addr, s->sender,
	    sizeof(s->sender)) == -1) {
		smtp_error(s, "bad-address", "501 5.1.7 Address too long");
		return;
	}
	if (smtp_cmd_sender_owned(s, &ma.path) == -1)
		return;
	if (s->lflags & SMTP_LF_LOCAL)
		smtp_local_sender(s);
	s->smtputf8 = ma.smtputf8;
	s->dsn_ret = ma.ret;
	(void)strlcpy(s->dsn_envid, ma.envid, sizeof(s->dsn_envid));
	smtp_session_set_state(s, S_MAIL);
	smtp_reply(s, "250 2.1.0 Ok");
	log_info("%08x smtp mail from=<%s> size=%llu smtputf8=%d ret=%s "
	    "envid=%s", s->id, log_vis(vis, sizeof(vis), s->sender,
	    strlen(s->sender)), (unsigned long long)ma.size, s->smtputf8,
	    s->dsn_ret != DSN_RET_NONE ? dsn_ret_name(s->dsn_ret) : "-",
	    s->dsn_envid[0] != '\0' ? "given" : "-");
}

/*
 * The recipient as authd and queued see it.  "<Postmaster>" without a
 * domain (RFC 5321 4.1.1.3) is the postmaster of our first domain, and
 * so is postmaster at an address literal of this host (smtp_literal.c).
 * 0, or -1 after a reply.
 */
static int
smtp_cmd_rcpt_addr(struct smtp_session *s, const struct smtp_path *p,
    char *dst, size_t dstlen)
{
	char	 vis[SMTP_PATH_MAX_BYTES * 4];
	int	 n = -1;

	switch (smtp_literal_rcpt(s, p, dst, dstlen)) {
	case SMTP_LITERAL_LOCAL:
		log_info("%08x smtp rcpt-literal literal=%s local=<%s>", s->id,
		    p->addr.domain, log_vis(vis, sizeof(vis), dst, strlen(dst)));
		return 0;
	case SMTP_LITERAL_REFUSED:
		smtp_reply(s, "550 5.1.1 Mailbox unavailable: only postmaster "
		    "is reached at an address literal");
		smtp_cmd_rcpt_log(s, "literal-refused");
		return -1;
	case SMTP_LITERAL_TOOLONG:
		break;
	case SMTP_LITERAL_NONE:
		if (!p->postmaster)
			n = mailaddr_format(&p->addr, dst, dstlen);
		else
			n = snprintf(dst, dstlen, "postmaster@%s",
			    smtp_literal_domain(s->conf));
		break;
	}
	if (n >= 0 && (size_t)n < dstlen)
		return 0;
	smtp_error(s, "bad-address", "501 5.1.3 Address too long");
	return -1;
}

static int
smtp_cmd_rcpt_dup(struct smtp_session *s, const char *addr)
{
	struct smtp_rcpt	*r;

	TAILQ_FOREACH(r, &s->rcpts, entry)
		if (strcmp(r->addr, addr) == 0)
			return 1;
	return 0;
}

/* What one recipient takes in MESSAGE_COMMIT: str addr, u32, str. */
static size_t
smtp_cmd_rcpt_bytes(const struct smtp_rcpt *r)
{
	return 3 * sizeof(uint32_t) + strlen(r->addr) + strlen(r->orcpt);
}

/*
 * 1 when one more recipient still fits MESSAGE_COMMIT: its fixed part
 * (msgid, sender, helo, client, flags, ret, envid, count) and the
 * recipients.
 */
static int
smtp_cmd_rcpt_fits(struct smtp_session *s, const struct smtp_rcpt *r)
{
	size_t	 fixed = 8 * sizeof(uint32_t) + SMTP_MSGID_MAX_BYTES +
	    SMTP_PATH_MAX_BYTES + SMTP_HELO_MAX_BYTES + INET6_ADDRSTRLEN +
	    DSN_ENVID_MAX_BYTES;

	return fixed + s->rcpts_bytes + smtp_cmd_rcpt_bytes(r) <=
	    IPC_PAYLOAD_MAX_BYTES;
}

static void
cmd_rcpt(struct smtp_session *s, const char *arg)
{
	struct smtp_rcpt_args	 ra;
	struct ipc_out		*o;
	const char		*errstr;
	int			 r;

	r = smtp_parse_rcpt(arg, s->esmtp, s->smtputf8, &ra, &errstr);
	if (r != SMTP_PARSE_OK) {
		smtp_cmd_parse_error(s, r, errstr, "5.1.3",
		    "RCPT TO:<address>");
		return;
	}
	s->rcpt_pending.notify = 0;
	s->rcpt_pending.orcpt[0] = '\0';
	if (smtp_cmd_rcpt_addr(s, &ra.path, s->rcpt_pending.addr,
	    sizeof(s->rcpt_pending.addr)) == -1)
		return;
	/* A repeated recipient keeps its first NOTIFY and ORCPT. */
	if (smtp_cmd_rcpt_dup(s, s->rcpt_pending.addr)) {
		smtp_reply(s, "250 2.1.5 Ok");
		return;
	}
	s->rcpt_pending.notify = ra.notify;
	(void)strlcpy(s->rcpt_pending.orcpt, ra.orcpt,
	    sizeof(s->rcpt_pending.orcpt));
	/* RFC 5321 4.5.3.1.10: 452 for too many recipients. */
	if (s->nrcpts >= s->conf->max_rcpts ||
	    !smtp_cmd_rcpt_fits(s, &s->rcpt_pending)) {
		smtp_reply(s, "452 4.5.3 Too many recipients");
		return;
	}
	o = smtp_peer_out(MSG_AUTH_RCPT_CHECK);
	ipc_put_str(o, s->rcpt_pending.addr);
	if (smtp_session_request(s, WAIT_RCPT, PEER_AUTHD, o) == -1)
		smtp_cmd_rcpt_fail(s);
}

static void
smtp_cmd_rcpt_log(struct smtp_session *s, const char *result)
{
	char	 vis[SMTP_PATH_MAX_BYTES * 4];
	char	 notify[DSN_NOTIFY_MAX_BYTES];

	if (s->rcpt_pending.notify == 0 ||
	    dsn_notify_format(s->rcpt_pending.notify, notify,
	    sizeof(notify)) == -1)
		(void)strlcpy(notify, "-", sizeof(notify));
	log_info("%08x smtp rcpt to=<%s> notify=%s orcpt=%s result=%s",
	    s->id, log_vis(vis, sizeof(vis), s->rcpt_pending.addr,
	    strlen(s->rcpt_pending.addr)), notify,
	    s->rcpt_pending.orcpt[0] != '\0' ? "given" : "-", result);
}

void
smtp_cmd_rcpt_fail(struct smtp_session *s)
{
	smtp_reply_tempfail(s, "Recipient lookup unavailable");
	smtp_cmd_rcpt_log(s, "tempfail");
}

static void
smtp_cmd_rcpt_add(struct smtp_session *s)
{
	struct smtp_rcpt	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		smtp_reply(s, "452 4.3.1 Out of memory");
		return;
	}
	*r = s->rcpt_pending;
	TAILQ_INSERT_TAIL(&s->rcpts, r, entry);
	s->nrcpts++;
	s->rcpts_bytes += smtp_cmd_rcpt_bytes(r);
	smtp_session_set_state(s, S_RCPT);
	smtp_reply(s, "250 2.1.5 Ok");
	smtp_cmd_rcpt_log(s, "ok");
}

void
smtp_cmd_rcpt_result(struct smtp_session *s, uint32_t status)
{
	switch (status) {
	case RCPT_LOCAL:
		smtp_cmd_rcpt_add(s);
		break;
	case RCPT_NOUSER:
		smtp_reply(s, "550 5.1.1 Mailbox unavailable: no such user");
		smtp_cmd_rcpt_log(s, "nouser");
		break;
	case RCPT_NONLOCAL:
		/* Relaying: authenticated sessions and "relay from" only. */
		if (s->authenticated || s->relay_client) {
			smtp_cmd_rcpt_add(s);
			break;
		}
		smtp_reply(s, "550 5.7.1 Relaying denied");
		smtp_cmd_rcpt_log(s, "relay-denied");
		break;
	default:
		smtp_cmd_rcpt_fail(s);
		break;
	}
}

/* RFC 5321 3.3: DATA with no accepted recipient is 554. */
static void
cmd_data(struct smtp_session *s, const char *arg)
{
	(void)arg;
	/* RFC 3030 2: BDAT and DATA do not mix in one transaction. */
	if (s->bdat) {
		smtp_error(s, "bad-sequence",
		    "503 5.5.1 DATA not allowed after BDAT");
		return;
	}
	if (s->nrcpts == 0) {
		smtp_error(s, "no-recipients", "554 5.5.1 No valid recipients");
		return;
	}
	smtp_data_begin(s);
}

static void
cmd_rset(struct smtp_session *s, const char *arg)
{
	(void)arg;
	smtp_session_reset(s);
	smtp_reply(s, "250 2.0.0 Ok");
}

static void
cmd_noop(struct smtp_session *s, const char *arg)
{
	(void)arg;
	smtp_reply(s, "250 2.0.0 Ok");
}

static void
cmd_quit(struct smtp_session *s, const char *arg)
{
	(void)arg;
	smtp_reply(s, "221 2.0.0 %s Bye", s->conf->hostname);
	smtp_session_close(s, "quit");
}

static void
cmd_help(struct smtp_session *s, const char *arg)
{
	char	 list[SMTP_REPLY_MAX_BYTES] = "";
	size_t	 i;

	(void)arg;
	for (i = 0; i < NITEMS(smtp_cmds); i++) {
		(void)strlcat(list, " ", sizeof(list));
		(void)strlcat(list, smtp_cmds[i].verb, sizeof(list));
	}
	smtp_reply(s, "214-2.0.0 This is sallyport");
	smtp_reply(s, "214-2.0.0 Commands:%s", list);
	smtp_reply(s, "214 2.0.0 End of HELP info");
}

/* RFC 5321 3.5.3: 252 when we will not say. */
static void
cmd_vrfy(struct smtp_session *s, const char *arg)
{
	(void)arg;
	smtp_reply(s, "252 2.1.5 Cannot VRFY user, but will accept message "
	    "and attempt delivery");
}

/*
 * RFC 3207 4: 220, then the handshake; lineio drops whatever the client
 * sent after STARTTLS, and smtp_session_tls_done() resets the session.
 */
static void
cmd_starttls(struct smtp_session *s, const char *arg)
{
	(void)arg;
	if (lineio_is_tls(s->io)) {
		smtp_error(s, "starttls-again", "503 5.5.1 TLS already active");
		return;
	}
	if (s->tls == NULL) {
		smtp_error(s, "starttls-unavailable",
		    "502 5.5.1 STARTTLS not available");
		return;
	}
	smtp_reply(s, "220 2.0.0 Ready to start TLS");
	if (lineio_starttls(s->io, s->tls) == -1) {
		smtp_reply_close(s, "4.7.0", "TLS not available",
		    "tls-error");
		return;
	}
	/* Until EHLO again the greeting timeout runs, handshake included. */
	smtp_session_set_state(s, S_INIT);
}

/* RFC 5321 7.3: mailing lists are not disclosed. */
static void
cmd_expn(struct smtp_session *s, const char *arg)
{
	(void)arg;
	smtp_reply(s, "502 5.5.1 EXPN not available");
}
