/*
 * pop3d-mailbox: the mailbox process of a POP3 session (role
 * pop3d-user) as a program of its own, which pop3d's parent execs for
 * each login (pop3_handoff.c) as OpenSSH's sshd execs sshd-session.
 * It does no TLS (the login engine keeps the client's TLS session and
 * proxies plaintext to it, common/access_proxy.c), so it is linked without
 * libtls, libssl, libcrypto and libunbound: the loader has none of
 * their relocations to do at every exec (doc/INTERNALS.md, "POP3
 * performance").  A role only: started without -R, it refuses.
 */
#include <sys/types.h>

#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "ipc.h"
#include "log.h"
#include "proto.h"
#include "../pop3d.h"

/*
 * The role pop3d-user, as root: descriptors its arguments (u32 id, str
 * user, str client, u32 uid, u32 gid, str home, u32 login-delay, u64
 * expire) and the client.  Becomes the mailbox process.
 */
static void __attribute__((noreturn))
pop3d_mailbox_role(struct daemon_ctx *ctx)
{
	struct pop3_user_args	 a;
	struct ipc_msg		 m;
	char			 user[AUTH_USER_MAX_BYTES + 1];
	char			 client[POP3_CLIENT_MAX_BYTES];
	char			 home[PATH_MAX];
	uint32_t		 id, uid, gid, delay;
	uint64_t		 expire;

	(void)daemon_args_read(ctx->fds[0], &m);
	(void)close(ctx->fds[0]);
	if (ipc_get_u32(&m, &id) == -1 ||
	    ipc_get_str(&m, user, sizeof(user)) == -1 ||
	    ipc_get_str(&m, client, sizeof(client)) == -1 ||
	    ipc_get_u32(&m, &uid) == -1 || ipc_get_u32(&m, &gid) == -1 ||
	    ipc_get_str(&m, home, sizeof(home)) == -1 ||
	    ipc_get_u32(&m, &delay) == -1 || ipc_get_u64(&m, &expire) == -1 ||
	    ipc_get_end(&m) == -1 || uid == 0 || gid == 0 || home[0] != '/' ||
	    ((int64_t)expire < -1 || (int64_t)expire > POP3_EXPIRE_DAYS_MAX))
		fatalx("- pop3 mailbox start-refused reason=arguments");
	/* CAPA after login says the same as before it (RFC 2449 6.5). */
	pop3_capa_policy(delay, (int64_t)expire);
	pop3_expire_set((int64_t)expire);
	daemon_check_stream(ctx->fds[1]);
	memset(&a, 0, sizeof(a));
	a.id = id;
	a.user = user;
	a.client = client;
	a.uid = (uid_t)uid;
	a.gid = (gid_t)gid;
	a.home = home;
	a.fd = ctx->fds[1];
	pop3_user_main(&a);
}

static const struct daemon_role pop3d_mailbox_roles[] = {
	/* name		flags	fds: min, max	main */
	{ "pop3d-user",	0,	2, 2,		pop3d_mailbox_role },
	{ NULL, 0, 0, 0, NULL },
};

static const struct daemon_def pop3d_mailbox_def = {
	POP3_MAILBOX_PROG, NULL, pop3d_mailbox_roles
};

int
main(int argc, char *argv[])
{
	daemon_main(&pop3d_mailbox_def, argc, argv);
}
