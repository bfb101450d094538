/*
 * imapd, the IMAP server's privileged parent: root, no chroot, no
 * seccomp (it forks and connects).  The parent's work is common to
 * pop3d and imapd (common/access_parent.c): it reads the
 * configuration, binds the imap and imaps listeners, execs the login
 * engine (role imapd-login, imap_login.c: user imap, chrooted to the
 * empty dir, seccomp SANDBOX_ENGINE) and restarts it when it dies,
 * connects to authd on the engine's behalf, and turns each login the
 * engine hands back into a mailbox process (role imapd-user of the
 * program imapd-mailbox; the IMAP parts of it in imap_handoff.c).  It
 * never reads a byte from a client.
 */
#include <sys/types.h>

#include <stddef.h>

#include "access.h"
#include "config.h"
#include "daemon.h"
#include "imapd.h"
#include "proto.h"

static const struct access_daemon imapd_access = {
	.name = "imap",
	.listen_plain = LISTEN_IMAP,
	.listen_tls = LISTEN_IMAPS,
	.role = ROLE_IMAPD,
	.handoff_type = MSG_IMAP_LOGIN_HANDOFF,
	.handoff_note = 1,
	.engine_role = "imapd-login",
	.mailbox_prog = IMAP_MAILBOX_PROG,
	.mailbox_role = IMAP_MAILBOX_ROLE,
	.user_off = offsetof(struct config, user_imap),
	.sessions_max = IMAP_SESSIONS_MAX,
	.engine_main = imap_login_main,
	.configure = NULL,
	.args_extra = imap_handoff_args,
	.admit = NULL,
	.refusal = imap_handoff_refusal,
};

static void __attribute__((noreturn))
imapd_parent(struct daemon_ctx *ctx)
{
	access_parent_main(&imapd_access, ctx);
}

/* The role imapd-login (daemon.h): access_engine_role, then the engine. */
static void __attribute__((noreturn))
imapd_login_role(struct daemon_ctx *ctx)
{
	access_engine_role(&imapd_access, ctx);
}

static const struct daemon_role imapd_roles[] = {
	/* name		flags		fds: min, max		main */
	{ "imapd-login", DAEMON_R_CONF, 3, CONFIG_LISTENERS_MAX + 2,
	    imapd_login_role },
	{ NULL, 0, 0, 0, NULL },
};

static const struct daemon_def imapd_def = {
	"imapd", imapd_parent, imapd_roles
};

int
main(int argc, char *argv[])
{
	daemon_main(&imapd_def, argc, argv);
}
