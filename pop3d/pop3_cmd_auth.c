/*
 * The AUTHORIZATION state (RFC 1939 4 and 7), run by the login engine:
 * user pop3 (_sallypop), chrooted to the empty dir, seccomp set
 * SANDBOX_ENGINE.  This is the only command table the login engine
 * uses.  The verbs of the TRANSACTION state are listed without a
 * handler, so that they are answered "not valid in this state" rather
 * than "unknown".
 */
#include <sys/types.h>

#include <string.h>

#include "lineio.h"
#include "log.h"
#include "pop3d.h"

static void	cmd_capa(struct pop3_conn *, struct pop3_req *);
static void	cmd_user(struct pop3_conn *, struct pop3_req *);
static void	cmd_pass(struct pop3_conn *, struct pop3_req *);
static void	cmd_quit(struct pop3_conn *, struct pop3_req *);
static void	cmd_stls(struct pop3_conn *, struct pop3_req *);

const struct pop3_cmd pop3_auth_cmds[] = {
	/* verb		states		args		handler */
	{ "CAPA",	POP3_S_LOGIN,	ARG_NONE,	cmd_capa },
	{ "USER",	POP3_S_LOGIN,	ARG_ONE,	cmd_user },
	{ "PASS",	POP3_S_USER,	ARG_REST,	cmd_pass },
	{ "QUIT",	POP3_S_LOGIN,	ARG_NONE,	cmd_quit },
	{ "STLS",	POP3_S_AUTH,	ARG_NONE,	cmd_stls },
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

static void
cmd_capa(struct pop3_conn *c, struct pop3_req *req)
{
	(void)req;
	pop3_capa_extra(c, 1, pop3_login_tls() != NULL &&
	    !lineio_is_tls(c->lio) ? "STLS" : NULL);
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
	if (pop3_login_tls() == NULL) {
		pop3_err(c, "TLS not available");
		return;
	}
	if (lineio_is_tls(c->lio)) {
		pop3_err(c, "TLS already active");
		return;
	}
	pop3_ok(c, "begin TLS negotiation");
	if (lineio_starttls(c->lio, pop3_login_tls()) == -1) {
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
	pop3_login_set_user(c, req->argv[0]);
	pop3_set_state(c, POP3_S_USER);
	pop3_ok(c, "send PASS");
}

/*
 * The password goes to authd, and the answer comes back later: input
 * is paused meanwhile, so that commands sent after PASS (RFC 2449
 * PIPELINING) wait; after a login they go to the mailbox process
 * (pop3_proxy.c), after a failure they are answered here.
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
