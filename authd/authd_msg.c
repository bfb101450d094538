/*
 * authd's requests, one handler per message type (common/proto.h,
 * MSG_AUTH_*), found in a table indexed by type that also says which
 * roles may send it.  A payload that does not parse exactly, a type not
 * in the table, or a role not allowed ends the connection.  Runs in
 * authd as _sallyauth.  Passwords are never logged and are wiped once
 * checked; client text is logged through log_vis().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "authd.h"
#include "log.h"

#define R(x)	ROLE_BIT(ROLE_##x)

typedef int	(*authd_msg_fn)(struct authd_conn *, struct ipc_msg *,
		    const char **);

struct authd_msg_handler {
	uint32_t	 roles;		/* who may send it */
	authd_msg_fn	 fn;
};

static int	authd_msg_password(struct authd_conn *, struct ipc_msg *,
		    const char **);
static int	authd_msg_token(struct authd_conn *, struct ipc_msg *,
		    const char **);
static int	authd_msg_lookup(struct authd_conn *, struct ipc_msg *,
		    const char **);
static int	authd_msg_rcpt(struct authd_conn *, struct ipc_msg *,
		    const char **);
static int	authd_msg_expand(struct authd_conn *, struct ipc_msg *,
		    const char **);

/*
 * The login engines check passwords; only the parents that fork
 * mailbox processes need a token redeemed or a user's uid and home,
 * which the delivery agent needs too; smtpd checks recipients, the
 * queue expands them.  (A parent speaks with its engine's role.)
 */
static const struct authd_msg_handler authd_msgs[MSG_MAX] = {
	[MSG_AUTH_PASSWORD_CHECK] = {
	    R(SMTPD) | R(POP3D) | R(IMAPD),		authd_msg_password },
	[MSG_AUTH_TOKEN_REDEEM] = {
	    R(POP3D) | R(IMAPD),			authd_msg_token },
	[MSG_AUTH_USER_LOOKUP] = {
	    R(POP3D) | R(IMAPD) | R(QUEUED) | R(DELIVERY), authd_msg_lookup },
	[MSG_AUTH_RCPT_CHECK] = {
	    R(SMTPD) | R(QUEUED),			authd_msg_rcpt },
	[MSG_AUTH_RCPT_EXPAND] = {
	    R(QUEUED) | R(DELIVERY),			authd_msg_expand },
};

/* Replies are built here: authd handles one request at a time. */
static struct ipc_out	 msg_out;

int
authd_msg_dispatch(struct authd_conn *c, struct ipc_msg *m,
    const char **why)
{
	const struct authd_msg_handler	*h;

	if (m->hdr.type >= MSG_MAX || authd_msgs[m->hdr.type].fn == NULL) {
		*why = "unexpected message";
		return -1;
	}
	h = &authd_msgs[m->hdr.type];
	if ((h->roles & ROLE_BIT(authd_conn_role(c))) == 0) {
		*why = "message not allowed for this role";
		return -1;
	}
	return h->fn(c, m, why);
}

static time_t
authd_msg_now(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		fatal("clock_gettime");
	return ts.tv_sec;
}

static int
authd_msg_send(struct authd_conn *c)
{
	if (ipc_out_error(&msg_out)) {
		log_warnx("%08x authd reply-too-large type=%s",
		    authd_conn_id(c), ipc_type_name(msg_out.hdr.type));
		return -1;
	}
	return authd_conn_send(c, &msg_out);
}

/*
 * USER_RESULT: u32 result, str user, u32 uid, u32 gid, str home, u64
 * quota.
 */
static void
authd_msg_user_result(struct authd_conn *c, uint32_t peerid,
    const struct auth_user *u)
{
	ipc_out_init(&msg_out, MSG_AUTH_USER_RESULT, peerid);
	ipc_put_u32(&msg_out, u != NULL ? RESULT_OK : RESULT_PERMFAIL);
	ipc_put_str(&msg_out, u != NULL ? u->name : "");
	ipc_put_u32(&msg_out, u != NULL ? (uint32_t)u->uid : 0);
	ipc_put_u32(&msg_out, u != NULL ? (uint32_t)u->gid : 0);
	ipc_put_str(&msg_out, u != NULL ? u->home : "");
	ipc_put_u64(&msg_out, u != NULL ? u->quota : 0);
	(void)authd_msg_send(c);
}

/*
 * The password's bytes also sit in the ipc layer's receive buffer:
 * wipe them there too, once read.
 */
static void
authd_msg_wipe(struct ipc_msg *m)
{
	explicit_bzero((void *)(uintptr_t)m->data, m->hdr.len);
}

struct authd_login {
	char		 user[AUTH_USER_MAX_BYTES + 1];
	char		 pass[AUTH_PASSWORD_MAX_BYTES + 1];
	char		 service[AUTHD_SERVICE_MAX_BYTES + 1];
	char		 client[AUTHD_CLIENT_MAX_BYTES + 1];
	uint32_t	 flags;
};

static int
authd_msg_login_parse(struct ipc_msg *m, struct authd_login *l)
{
	int	 rv = 0;

	if (ipc_get_str(m, l->user, sizeof(l->user)) == -1 ||
	    ipc_get_str(m, l->pass, sizeof(l->pass)) == -1 ||
	    ipc_get_str(m, l->service, sizeof(l->service)) == -1 ||
	    ipc_get_str(m, l->client, sizeof(l->client)) == -1 ||
	    ipc_get_u32(m, &l->flags) == -1 || ipc_get_end(m) == -1 ||
	    (l->flags & ~AUTH_F_TOKEN) != 0)
		rv = -1;
	authd_msg_wipe(m);
	return rv;
}

/* result: ok, fail or throttled; failures: the client's, 0 unsaid. */
static void
authd_msg_login_log(uint32_t peerid, const struct authd_login *l,
    const char *result, unsigned int failures)
{
	char	 u[AUTHD_LOG_FIELD_MAX_BYTES], s[AUTHD_LOG_FIELD_MAX_BYTES];
	char	 cl[AUTHD_LOG_FIELD_MAX_BYTES], f[32] = "";

	if (failures > 0)
		(void)snprintf(f, sizeof(f), " failures=%u", failures);
	log_info("%08x auth login user=%s service=%s client=%s result=%s%s",
	    peerid, log_vis(u, sizeof(u), l->user, strlen(l->user)),
	    log_vis(s, sizeof(s), l->service, strlen(l->service)),
	    log_vis(cl, sizeof(cl), l->client, strlen(l->client)),
	    result, f);
}

/*
 * A client past AUTH_FAILURES_MAX (authd_throttle.c): refused at once
 * and unchecked, so that guesses past the limit tell nothing.
 */
static void
authd_msg_login_throttled(struct authd_conn *c, uint32_t peerid,
    const struct authd_login *l)
{
	authd_msg_login_log(peerid, l, "throttled", AUTH_FAILURES_MAX);
	ipc_out_init(&msg_out, MSG_AUTH_PASSWORD_RESULT, peerid);
	ipc_put_u32(&msg_out, RESULT_THROTTLED);
	(void)authd_msg_send(c);
}

/* A good password: RESULT_OK, and a token when one was asked for. */
static void
authd_msg_login_ok(struct authd_conn *c, uint32_t peerid,
    const struct authd_login *l, const char *key)
{
	uint8_t	 token[AUTH_TOKEN_BYTES];

	ipc_out_init(&msg_out, MSG_AUTH_PASSWORD_RESULT, peerid);
	if (l->flags & AUTH_F_TOKEN) {
		if (authd_token_create(key, authd_msg_now(), token) == -1) {
			log_warnx("%08x authd token-refused reason=full",
			    peerid);
			ipc_put_u32(&msg_out, RESULT_TEMPFAIL);
		} else {
			ipc_put_u32(&msg_out, RESULT_OK);
			ipc_put_data(&msg_out, token, sizeof(token));
		}
	} else
		ipc_put_u32(&msg_out, RESULT_OK);
	explicit_bzero(token, sizeof(token));
	(void)authd_msg_send(c);
	explicit_bzero(msg_out.buf, msg_out.hdr.len);
}

static int
authd_msg_password(struct authd_conn *c, struct ipc_msg *m,
    const char **why)
{
	struct authd_login	 l;
	char			 key[AUTH_USER_MAX_BYTES + 1];
	time_t			 now = authd_msg_now();
	int			 ok, rv = 0;

	if (authd_msg_login_parse(m, &l) == -1) {
		*why = "malformed PASSWORD_CHECK";
		rv = -1;
		goto done;
	}
	if (authd_throttle_locked(l.client, now)) {
		authd_msg_login_throttled(c, m->hdr.peerid, &l);
		goto done;
	}
	if (authd_resolve_login(authd_server_resolver(), l.user, key,
	    sizeof(key)) == -1)
		key[0] = '\0';
	ok = authd_passwd_check(authd_server_users(), key, l.pass) == 0;
	explicit_bzero(l.pass, sizeof(l.pass));
	if (ok) {
		authd_msg_login_log(m->hdr.peerid, &l, "ok", 0);
		authd_msg_login_ok(c, m->hdr.peerid, &l, key);
		goto done;
	}
	authd_msg_login_log(m->hdr.peerid, &l, "fail",
	    authd_throttle_fail(l.client, now));
	if (authd_conn_fail_later(c, m->hdr.peerid) == -1) {
		*why = "too many failed checks waiting";
		rv = -1;
	}
done:
	explicit_bzero(&l, sizeof(l));
	return rv;
}

static int
authd_msg_token(struct authd_conn *c, struct ipc_msg *m, const char **why)
{
	uint8_t			 token[AUTH_TOKEN_BYTES];
	char			 user[AUTHD_NAME_MAX_BYTES + 1];
	const struct auth_user	*u = NULL;

	if (ipc_get_data(m, token, sizeof(token)) == -1 ||
	    ipc_get_end(m) == -1) {
		*why = "malformed TOKEN_REDEEM";
		return -1;
	}
	authd_msg_wipe(m);
	if (authd_token_redeem(token, authd_msg_now(), user,
	    sizeof(user)) == 0)
		u = authd_users_find(authd_server_users(), user);
	explicit_bzero(token, sizeof(token));
	log_info("%08x auth token user=%s result=%s", m->hdr.peerid,
	    u != NULL ? u->name : "-", u != NULL ? "ok" : "fail");
	authd_msg_user_result(c, m->hdr.peerid, u);
	return 0;
}

static int
authd_msg_lookup(struct authd_conn *c, struct ipc_msg *m, const char **why)
{
	char			 user[AUTH_USER_MAX_BYTES + 1];
	char			 vis[AUTHD_LOG_FIELD_MAX_BYTES];
	const struct auth_user	*u;

	if (ipc_get_str(m, user, sizeof(user)) == -1 ||
	    ipc_get_end(m) == -1) {
		*why = "malformed USER_LOOKUP";
		return -1;
	}
	u = authd_users_find(authd_server_users(), user);
	log_debug("%08x auth lookup user=%s result=%s", m->hdr.peerid,
	    log_vis(vis, sizeof(vis), user, strlen(user)),
	    u != NULL ? "ok" : "nouser");
	authd_msg_user_result(c, m->hdr.peerid, u);
	return 0;
}

static const char *
authd_msg_rcpt_name(enum rcpt_status st)
{
	static const char *const names[] = {
		[RCPT_LOCAL] = "local",
		[RCPT_NOUSER] = "nouser",
		[RCPT_NONLOCAL] = "nonlocal",
		[RCPT_TEMPFAIL] = "tempfail",
	};

	return (size_t)st < sizeof(names) / sizeof(names[0]) ? names[st] :
	    "unknown";
}

static int
authd_msg_rcpt(struct authd_conn *c, struct ipc_msg *m, const char **why)
{
	char			 addr[IPC_STRING_MAX_BYTES + 1];
	char			 vis[AUTHD_LOG_FIELD_MAX_BYTES * 2];
	enum rcpt_status	 st;

	if (ipc_get_str(m, addr, sizeof(addr)) == -1 ||
	    ipc_get_end(m) == -1) {
		*why = "malformed RCPT_CHECK";
		return -1;
	}
	st = authd_resolve_check(authd_server_resolver(), addr);
	log_debug("%08x auth rcpt-check rcpt=%s result=%s", m->hdr.peerid,
	    log_vis(vis, sizeof(vis), addr, strlen(addr)),
	    authd_msg_rcpt_name(st));
	ipc_out_init(&msg_out, MSG_AUTH_RCPT_RESULT, m->hdr.peerid);
	ipc_put_u32(&msg_out, st);
	(void)authd_msg_send(c);
	return 0;
}

/* EXPAND_RESULT: u32 result, u32 count, count times {u32 kind, str}. */
static void
authd_msg_expand_result(struct authd_conn *c, uint32_t peerid,
    const struct auth_expand *e)
{
	size_t	 i;

	ipc_out_init(&msg_out, MSG_AUTH_EXPAND_RESULT, peerid);
	ipc_put_u32(&msg_out, e->result);
	ipc_put_u32(&msg_out, e->result == RESULT_OK ? (uint32_t)e->count : 0);
	for (i = 0; e->result == RESULT_OK && i < e->count; i++) {
		ipc_put_u32(&msg_out, e->targets[i].kind);
		ipc_put_str(&msg_out, e->targets[i].value);
	}
	if (authd_msg_send(c) == -1 && ipc_out_error(&msg_out)) {
		ipc_out_init(&msg_out, MSG_AUTH_EXPAND_RESULT, peerid);
		ipc_put_u32(&msg_out, RESULT_TEMPFAIL);
		ipc_put_u32(&msg_out, 0);
		(void)authd_msg_send(c);
	}
}

static int
authd_msg_expand(struct authd_conn *c, struct ipc_msg *m, const char **why)
{
	char			 addr[IPC_STRING_MAX_BYTES + 1];
	char			 vis[AUTHD_LOG_FIELD_MAX_BYTES * 2];
	struct auth_expand	*e;
	char			 wvis[sizeof(e->why) * 4];

	if (ipc_get_str(m, addr, sizeof(addr)) == -1 ||
	    ipc_get_end(m) == -1) {
		*why = "malformed RCPT_EXPAND";
		return -1;
	}
	if ((e = malloc(sizeof(*e))) == NULL) {
		*why = "out of memory";
		return -1;
	}
	authd_resolve_expand(authd_server_resolver(), addr, e);
	(void)log_vis(vis, sizeof(vis), addr, strlen(addr));
	if (e->result == RESULT_OK)
		log_info("%08x auth expand rcpt=%s result=ok targets=%zu",
		    m->hdr.peerid, vis, e->count);
	else
		log_warnx("%08x auth expand rcpt=%s result=%s reason=\"%s\"",
		    m->hdr.peerid, vis, e->result == RESULT_TEMPFAIL ?
		    "tempfail" : "permfail",
		    log_vis(wvis, sizeof(wvis), e->why, strlen(e->why)));
	authd_msg_expand_result(c, m->hdr.peerid, e);
	free(e);
	return 0;
}
