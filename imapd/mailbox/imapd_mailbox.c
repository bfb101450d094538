/*
 * imapd-mailbox: the mailbox process of an IMAP session (role
 * imapd-user) as a program of its own, which imapd's parent execs for
 * each login (imap_handoff.c), as pop3d execs pop3d-mailbox.  It does
 * no TLS (the login engine keeps the client's TLS session and proxies
 * plaintext to it), so it is linked without libtls, libssl, libcrypto
 * and libunbound.  Runs as root only until imap_user_main() drops to
 * the mail user, chroots in the mail home and sets the seccomp filter
 * SANDBOX_IMAP_MAILBOX.  A role only: started without -R, it refuses.
 */
#include <sys/types.h>

#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "ipc.h"
#include "log.h"
#include "proto.h"
#include "../imap_session.h"

/*
 * The role imapd-user, as root: descriptors its arguments (u32 id, str
 * user, str client, u32 uid, u32 gid, str home, str tag, u64 quota) and
 * the client.  Becomes the mailbox process.
 */
static void __attribute__((noreturn))
imapd_mailbox_role(struct daemon_ctx *ctx)
{
	struct imap_user_args	 a;
	struct ipc_msg		 m;
	char			 user[AUTH_USER_MAX_BYTES + 1];
	char			 client[IMAP_CLIENT_MAX_BYTES];
	char			 home[PATH_MAX];
	char			 tag[IMAP_TAG_MAX_BYTES + 1];
	uint32_t		 id, uid, gid;
	uint64_t		 quota;

	(void)daemon_args_read(ctx->fds[0], &m);
	(void)close(ctx->fds[0]);
	if (ipc_get_u32(&m, &id) == -1 ||
	    ipc_get_str(&m, user, sizeof(user)) == -1 ||
	    ipc_get_str(&m, client, sizeof(client)) == -1 ||
	    ipc_get_u32(&m, &uid) == -1 || ipc_get_u32(&m, &gid) == -1 ||
	    ipc_get_str(&m, home, sizeof(home)) == -1 ||
	    ipc_get_str(&m, tag, sizeof(tag)) == -1 ||
	    ipc_get_u64(&m, &quota) == -1 ||
	    ipc_get_end(&m) == -1 || uid == 0 || gid == 0 ||
	    home[0] != '/' || imap_session_tag_valid(tag) == -1)
		fatalx("- imap mailbox start-refused reason=arguments");
	daemon_check_stream(ctx->fds[1]);
	memset(&a, 0, sizeof(a));
	a.id = id;
	a.user = user;
	a.client = client;
	a.uid = (uid_t)uid;
	a.gid = (gid_t)gid;
	a.home = home;
	a.tag = tag;
	a.quota = quota;
	a.fd = ctx->fds[1];
	imap_user_main(&a);
}

static const struct daemon_role imapd_mailbox_roles[] = {
	/* name		flags	fds: min, max	main */
	{ IMAP_MAILBOX_ROLE, 0,	2, 2,	imapd_mailbox_role },
	{ NULL, 0, 0, 0, NULL },
};

static const struct daemon_def imapd_mailbox_def = {
	IMAP_MAILBOX_PROG, NULL, imapd_mailbox_roles
};

int
main(int argc, char *argv[])
{
	daemon_main(&imapd_mailbox_def, argc, argv);
}
