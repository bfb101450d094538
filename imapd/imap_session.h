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
#include "imapd.h"

struct event_base;
struct lineio;

/* The mailbox process: drops, chroots, sandboxes, serves; never returns. */
void	imap_user_main(const struct imap_user_args *)
	    __attribute__((noreturn));
/* 0 when s is a tag as RFC 3501 9 draws it (ASTRING-CHAR but '+'). */
int	imap_session_tag_valid(const char *s);

/*
 * imap_session.c.  imap_sess_init runs as the user in the chroot,
 * before the seccomp filter (it opens what the filter would refuse);
 * -1 with *err when the mail home cannot be served.
 */
int	imap_sess_init(struct event_base *, const struct imap_user_args *,
	    const char **err);
/* Sends the login's tagged OK and starts reading commands. */
void	imap_sess_start(struct lineio *, const char *tag);
/* One line of input, as lineio hands it. */
void	imap_sess_line(const char *, size_t, int flags);
/* The output drained; 1 when the session waits for nothing more. */
int	imap_sess_drained(void);
/* "* BYE text" and close (autologout). */
void	imap_sess_bye(const char *text, const char *reason);
/* The end: one log line, the store closed. */
void	imap_sess_end(const char *reason);

#endif
