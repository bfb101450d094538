/*
 * The AUTHORIZATION state (RFC 1939 4 and 7), run by the login engine:
 * user pop3 (_sallypop), chrooted to the empty dir, seccomp set
 * SANDBOX_ENGINE.  This is the only command table the login engine
 * uses; AUTH's exchange is in pop3_cmd_sasl.c.  No password is taken
 * in clear text (USER, AUTH) but on loopback with "auth
 * plaintext-on-loopback yes": elsewhere STLS or pop3s comes first.
 * The verbs of the TRANSACTION state are listed without a handler, so
 * that they are answered "not valid in this state" rather than
 * "unknown".
 */
#include <sys/types.h>

#include <string.h>

#include "lineio.h"
#include "log.h"
#include "pop3_login.h"

static void	cmd_capa(struct pop3_conn *, struct pop3_req *);
static void	cmd_user(struct pop3_conn *, struct pop3_req *);
static void	cmd_pass(struct pop3_conn *, struct pop3_req *);
static void	cmd_quit(struct pop3_conn *, struct pop3_req *);
static void	cmd_stls(struct pop3_conn *, struct pop3_req *);

/* Dovecot's words, which clients may know (RFC 3206 [AUTH]). */
#define POP3_PLAINTEXT_REFUSED	"[AUTH] Plaintext authentication " \
	"disallowed on non-secure (SSL/TLS) connections."

const struct pop3_cmd pop3_auth_cmds[] = {
	/* verb		states		args		handler */
	{ "CAPA",	POP3_S_LOGIN,	ARG_NONE,	cmd_capa },
	{ "USER",	POP3_S_LOGIN,	ARG_ONE,	cmd_user },
	{ "PASS",	POP3_S_USER,	ARG_REST,	cmd_pass },
	{ "QUIT",	POP3_S_LOGIN,	ARG_NONE,	cmd_quit },
	{ "STLS",	POP3_S_AUTH,	ARG_NONE,	cmd_stls },
	{ "AUTH",	POP3_S_LOGIN,	ARG_SASL,	pop3_cmd_sasl },
	{ "STAT",	POP3_S_TRANS,	ARG_NONE,	NULL },
	{ "LIST",	POP3_S_TRANS,	ARG_OPT,	NULL },
	{ "UIDL",	POP3_S_TRANS,	ARG_OPT,	NULL },
	{ "RETR",	POP3_S_TRANS,	ARG_ONE,	NULL },
	{ "TOP",	POP3_S_TRANS,	ARG_TWO,	NULL },
	{ "DELE",	POP3_S_TRANS,	ARG_ONE,	NULL },
	{ "RSET",	POP3_S_TRANS,	ARG_NONE,	NULL },
	{ "NOOP",	POP3_S_TRANS,	ARG_NONE,	NULL },
	{ NULL,		0,		ARG_NONE,	NULL },
};

/*
 * RFC 2449 5, RFC 2595 4, RFC 5034 5: STLS while there is none, USER
 * and the SASL mechanisms only where a password would be accepted.
 */
static void
cmd_capa(struct pop3_conn *c, struct pop3_req *req)
{
	unsigned int	 flags = POP3_CAPA_PIPELINING;

	(void)req;
	if (pop3_login_tls_offered() && !lineio_is_tls(c->lio))
		flags |= POP3_CAPA_STLS;
	if (pop3_login_plaintext_ok(c))
		flags |= POP3_CAPA_USER | POP3_CAPA_SASL;
	pop3_capa_lines(c, flags);
}

int
pop3_plaintext_refused(struct pop3_conn *c)
{
	if (pop3_login_plaintext_ok(c))
		return 0;
	log_info("%08x pop3 plaintext-refused verb=%s", c->id, c->verb);
	pop3_err_logged(c, "%s", POP3_PLAINTEXT_REFUSED);
	return 1;
}

/*
 * RFC 2595 4: TLS in the AUTHORIZATION state, before USER, once.  What
 * the client sent after STLS is dropped by lineio_starttls (it could
 * be injected by someone in the middle).
 */
static void
cmd_stls(struct pop3_conn *c, struct pop3_req *req)
{
	(void)req;
	if (pop3_login_tls(c) == NULL) {
		pop3_err(c, "TLS not available");
		return;
	}
	if (lineio_is_tls(c->lio)) {
		pop3_err(c, "TLS already active");
		return;
	}
	pop3_ok(c, "begin TLS negotiation");
	if (lineio_starttls(c->lio, pop3_login_tls(c)) == -1) {
		log_warnx("%08x pop3 starttls-failed", c->id);
		c->closing = 1;
		lineio_shutdown(c->lio);
	}
}

/*
 * RFC 1939 7 lets a server say "-ERR never heard of mailbox name"; it
 * would tell a stranger which names exist, so every name is accepted
 * and the answer to PASS decides.
 */
static void
cmd_user(struct pop3_conn *c, struct pop3_req *req)
{
	if (pop3_plaintext_refused(c))
		return;
	pop3_login_set_user(c, req->argv[0]);
	pop3_set_state(c, POP3_S_USER);
	pop3_ok(c, "send PASS");
}

/*
 * The password goes to authd, and the answer comes back later: input
 * is paused meanwhile, so that commands sent after PASS (RFC 2449
 * PIPELINING) wait; after a login they go to the mailbox process
 * (common/access_proxy.c), after a failure they are answered here.
 */
static void
cmd_pass(struct pop3_conn *c, struct pop3_req *req)
{
	pop3_login_check(c, req->rest);
}

static void
cmd_quit(struct pop3_conn *c, struct pop3_req *req)
{
	(void)req;
	log_info("%08x pop3 quit state=%s", c->id, pop3_state_name(c->state));
	pop3_ok(c, "sallyport POP3 server signing off");
	c->closing = 1;
	lineio_shutdown(c->lio);
}
