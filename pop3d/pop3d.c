/*
 * pop3d, the privileged parent: root, no chroot, no seccomp (it forks
 * and connects).  The parent's work is common to pop3d and imapd
 * (common/access_parent.c): it reads the configuration, binds the POP3
 * listeners, execs the login engine (role pop3d-login, pop3_login.c)
 * and restarts it when it dies, connects to authd on the engine's
 * behalf, and turns each login the engine hands back into a mailbox
 * process (role pop3d-user of the program pop3d-mailbox; the POP3
 * parts of it in pop3_handoff.c).  It never reads a byte from a
 * client.
 */
#include <sys/types.h>

#include <stddef.h>

#include "access.h"
#include "config.h"
#include "daemon.h"
#include "pop3d.h"
#include "proto.h"

static const struct access_daemon pop3d_access = {
	.name = "pop3",
	.listen_plain = LISTEN_POP3,
	.listen_tls = LISTEN_POP3S,
	.role = ROLE_POP3D,
	.handoff_type = MSG_POP3_LOGIN_HANDOFF,
	.handoff_note = 0,
	.engine_role = "pop3d-login",
	.mailbox_prog = POP3_MAILBOX_PROG,
	.mailbox_role = "pop3d-user",
	.user_off = offsetof(struct config, user_pop3),
	.sessions_max = POP3_SESSIONS_MAX,
	.engine_main = pop3_login_main,
	.configure = pop3_handoff_configure,
	.args_extra = pop3_handoff_args,
	.admit = pop3_handoff_admit,
	.refusal = pop3_handoff_refusal,
};

static void __attribute__((noreturn))
pop3d_parent(struct daemon_ctx *ctx)
{
	access_parent_main(&pop3d_access, ctx);
}

/* The role pop3d-login (daemon.h): access_engine_role, then the engine. */
static void __attribute__((noreturn))
pop3d_login_role(struct daemon_ctx *ctx)
{
	access_engine_role(&pop3d_access, ctx);
}

static const struct daemon_role pop3d_roles[] = {
	/* name		flags		fds: min, max		main */
	{ "pop3d-login", DAEMON_R_CONF, 3, CONFIG_LISTENERS_MAX + 2,
	    pop3d_login_role },
	{ NULL, 0, 0, 0, NULL },
};

static const struct daemon_def pop3d_def = {
	"pop3d", pop3d_parent, pop3d_roles
};

int
main(int argc, char *argv[])
{
	daemon_main(&pop3d_def, argc, argv);
}
