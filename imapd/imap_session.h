/*
 * The mailbox process's session (imapd-mailbox, role imapd-user: the
 * mail user's uid, chrooted in the mail home, seccomp SANDBOX_MAILBOX):
 * what imap_user.c, imap_session.c, imap_cmd_auth.c,
 * imap_cmd_selected.c and imap_fetch.c share.  Nothing here crosses a
 * process boundary.
 */
#ifndef IMAP_SESSION_H
#define IMAP_SESSION_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

#include "sp_limits.h"

#define IMAPD_MAILBOX_PROG	"imapd-mailbox"

struct imap_user_args {
	uint32_t	 id;
	const char	*user;
	const char	*client;
	uid_t		 uid;
	gid_t		 gid;
	const char	*home;
	const char	*tag;		/* of the LOGIN or AUTHENTICATE */
	uint64_t	 quota;		/* bytes; 0 for none */
	int		 fd;		/* the client, in plaintext */
};

/* The mailbox process: drops, chroots, sandboxes, serves; never returns. */
void	imap_user_main(const struct imap_user_args *)
	    __attribute__((noreturn));
/* 0 when s is a tag as RFC 3501 9 draws it (ASTRING-CHAR but '+'). */
int	imap_session_tag_valid(const char *s);

#endif
