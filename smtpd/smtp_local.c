/*
 * smtpd engine (user smtp, chroot emptydir, seccomp SANDBOX_ENGINE):
 * local submission.  The parent accepts on <rundir>/submit.sock and
 * hands each connection over with the caller's uid, which the kernel
 * told it (SO_PEERCRED), and its login name (smtpd_local.c).  The
 * session is an SMTP session like the others, with the same checks,
 * limits, header fixing and durable commit, and these differences:
 *
 *   - no STARTTLS and no AUTH: the caller is known;
 *   - its mail may go anywhere, as an authenticated user's;
 *   - the envelope sender is login@origin (config_origin()) unless the
 *     caller is root or a "submit trusted" user, whatever MAIL says;
 *     a sender that differs is replaced, with a log line (as Postfix
 *     ignores an untrusted user's -f);
 *   - Date, Message-ID and From are added when the header lacks them,
 *     as on submission (RFC 6409 8), From being the envelope sender;
 *   - the Received field names the uid, not an address.
 */
#include <sys/types.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ipc.h"
#include "log.h"
#include "proto.h"
#include "smtpd.h"

/* What the sessions of submit.sock share in place of a listener. */
static struct smtp_listener smtp_local_listener = {
	.fd = -1,
	.proto = LISTEN_SUBMISSION,
	.flags = SMTP_LF_LOCAL,
	.addr = "local",
};

int
smtp_local_client(struct smtpd *env, struct ipc_msg *m)
{
	struct smtp_local	 caller;
	uint32_t		 uid;
	int			 fd;

	memset(&caller, 0, sizeof(caller));
	if (m->fd == -1 || ipc_get_u32(m, &uid) == -1 ||
	    ipc_get_str(m, caller.login, sizeof(caller.login)) == -1 ||
	    ipc_get_end(m) == -1)
		return -1;
	caller.uid = (uid_t)uid;
	fd = m->fd;
	m->fd = -1;
	smtp_session_accept(env, &smtp_local_listener, fd, NULL, &caller);
	return 0;
}

int
smtp_local_greet(struct smtp_session *s)
{
	if (s->caller.login[0] != '\0')
		return 0;
	/* RFC 5321 3.1: 554 at the greeting, no service. */
	smtp_reply(s, "554 5.7.1 %s uid %lu has no login name, no mail "
	    "service", s->conf->hostname, (unsigned long)s->caller.uid);
	smtp_session_close(s, "local-no-login");
	return -1;
}

void
smtp_local_sender(struct smtp_session *s)
{
	char	 own[SMTP_PATH_MAX_BYTES], vis[SMTP_PATH_MAX_BYTES * 4];
	int	 n;

	if (config_submit_trusted(s->conf, s->caller.uid, s->caller.login))
		return;
	n = snprintf(own, sizeof(own), "%s@%s", s->caller.login,
	    config_origin(s->conf));
	if (n < 0 || (size_t)n >= sizeof(own) || strcmp(own, s->sender) == 0)
		return;
	log_info("%08x smtp local sender-forced uid=%lu given=<%s> "
	    "used=<%s>", s->id, (unsigned long)s->caller.uid,
	    log_vis(vis, sizeof(vis), s->sender, strlen(s->sender)), own);
	(void)strlcpy(s->sender, own, sizeof(s->sender));
}

/* RFC 5321 4.4: no "from" domain or address, the uid in a comment. */
int
smtp_local_received(struct smtp_session *s, char *buf, size_t len,
    const char *forclause, const char *date)
{
	int	 n;

	n = snprintf(buf, len, "Received: from local (uid %lu)\n"
	    "\tby %s with %s id %s%s;\n\t%s\n", (unsigned long)s->caller.uid,
	    s->conf->hostname, s->esmtp ? "ESMTP" : "SMTP", s->msgid,
	    forclause, date);
	if (n < 0 || (size_t)n >= len)
		return -1;
	return n;
}

int
smtp_local_from(struct smtp_session *s, char *buf, size_t len)
{
	int	 n;

	if (s->sender[0] == '\0')
		return 0;
	n = snprintf(buf, len, "From: <%s>\n", s->sender);
	if (n < 0 || (size_t)n >= len)
		return -1;
	return n;
}
