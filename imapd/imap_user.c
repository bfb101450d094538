/*
 * The mailbox process: the authenticated and selected states (RFC 3501
 * 3.2, 3.3) for one logged-in client.  Runs as the mail user (the uid
 * and gid authd gave for the token), chrooted in the user's mail home
 * (INBOX is /Maildir), seccomp set SANDBOX_MAILBOX.  It holds one
 * client connection and one user's mail, nothing else; other sessions
 * of the same user are other processes, met through the store's locks
 * and inotify (doc/INTERNALS.md, "IMAP").
 *
 * This file sets the process up and runs its event loop: the client's
 * lines go to imap_session.c; answers too long to sit in memory are
 * made in pieces while the client reads (imap_session_pump), with
 * input paused, so that neither FETCH 1:* on 100,000 messages nor a
 * 50 MB BODY[] is ever whole in memory.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "lineio.h"
#include "log.h"
#include "privsep.h"
#include "sandbox.h"
#include "imap_session.h"

static struct event	*user_ev_stall;

/* RFC 3501 9: tag = 1*<any ASTRING-CHAR except "+">. */
int
imap_session_tag_valid(const char *s)
{
	size_t	 i;

	if (s[0] == '\0')
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] <= ' ' || s[i] >= 0x7f || strchr("(){%*\"\\+",
		    s[i]) != NULL)
			return -1;
	}
	return 0;
}

static void
user_line(struct lineio *lio, const char *line, size_t len, int flags,
    void *arg)
{
	(void)lio;
	(void)arg;
	imap_sess_line(line, len, flags);
}

static void
user_event(struct lineio *lio, int event, void *arg)
{
	struct timeval	 tv = { IMAP_STALL_TIMEOUT_SECS, 0 };

	(void)lio;
	(void)arg;
	if (event == LINEIO_DRAINED) {
		(void)evtimer_del(user_ev_stall);
		if (imap_sess_drained() == 0)
			(void)evtimer_add(user_ev_stall, &tv);
		return;
	}
	if (event == LINEIO_TIMEOUT) {
		/* RFC 3501 5.4: the autologout timer. */
		imap_sess_bye("Autologout; idle for too long", "timeout");
		return;
	}
	imap_sess_end(event == LINEIO_CLOSED ? "logout" :
	    event == LINEIO_EOF ? "eof" : "error");
	exit(0);
}

static void
user_stalled(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	imap_sess_end("stalled");
	exit(0);
}

/* Answers the login's tag before the session exists, and ends. */
static void __attribute__((noreturn))
user_refuse(const struct imap_user_args *a, const char *why)
{
	char	 buf[256];
	int	 n;

	n = snprintf(buf, sizeof(buf), "* BYE [UNAVAILABLE] %s\r\n"
	    "%s NO [UNAVAILABLE] %s\r\n", why, a->tag, why);
	if (n > 0 && (size_t)n < sizeof(buf))
		(void)send(a->fd, buf, (size_t)n, MSG_NOSIGNAL);
	(void)close(a->fd);
	exit(1);
}

/* Checks the mail home before chroot(2), so that the client hears why. */
static void
user_check_home(const struct imap_user_args *a)
{
	struct stat	 st;

	if (a->home[0] != '/' || stat(a->home, &st) == -1 ||
	    !S_ISDIR(st.st_mode)) {
		log_warnx("%08x imap session-failed reason=no-home", a->id);
		user_refuse(a, "mail home unavailable");
	}
}

void
imap_user_main(const struct imap_user_args *a)
{
	struct event_base	*base;
	struct lineio		*lio;
	const char		*err;

	(void)signal(SIGPIPE, SIG_IGN);
	user_check_home(a);
	privsep_drop(a->uid, a->gid, a->home);
	if ((base = event_base_new()) == NULL ||
	    (user_ev_stall = evtimer_new(base, user_stalled, NULL)) == NULL)
		fatalx("%08x imap event setup", a->id);
	if (imap_sess_init(base, a, &err) == -1) {
		log_warnx("%08x imap session-failed reason=\"%s\"", a->id,
		    err);
		user_refuse(a, "mailbox unavailable");
	}
	sandbox_init(SANDBOX_MAILBOX);
	lio = lineio_new(base, a->fd, IMAP_LINE_MAX_BYTES, user_line,
	    user_event, NULL);
	if (lio == NULL)
		fatalx("%08x imap lineio setup", a->id);
	lineio_set_timeout(lio, IMAP_AUTOLOGOUT_SECS);
	imap_sess_start(lio, a->tag);
	(void)event_base_dispatch(base);
	fatalx("%08x imap event loop ended", a->id);
}
