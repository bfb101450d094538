/*
 * IDLE (RFC 2177): while the client idles, changes to the selected
 * folder (new mail from the delivery agent, other sessions' flags and
 * expunges) are pushed at once, learnt through the store's inotify
 * descriptor (a timer when there is none).  Runs in the mailbox
 * process: the mail user, chrooted in the mail home, seccomp
 * SANDBOX_IMAP_MAILBOX.
 */
#include <sys/types.h>

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>

#include "lineio.h"
#include "log.h"
#include "imap_session.h"
#include "imap_store.h"

static void
idle_changed(struct imap_sess *s)
{
	sess_updates(s, 1);
	sess_flush(s);
}

static void
idle_notify(evutil_socket_t fd, short ev, void *arg)
{
	struct imap_sess	*s = arg;

	(void)fd;
	(void)ev;
	if (s->mbox == NULL)
		return;
	if (imap_notify_drain(s->mbox))
		idle_changed(s);
}

static void
idle_poll(evutil_socket_t fd, short ev, void *arg)
{
	struct imap_sess	*s = arg;

	(void)fd;
	(void)ev;
	if (s->mbox != NULL)
		idle_changed(s);
}

static void
idle_stop_events(struct imap_sess *s)
{
	if (s->ev_notify != NULL)
		event_free(s->ev_notify);
	if (s->ev_idle_poll != NULL)
		event_free(s->ev_idle_poll);
	s->ev_notify = NULL;
	s->ev_idle_poll = NULL;
}

int
cmd_idle(struct imap_conn *c, const struct imap_command *cmd)
{
	struct imap_sess	*s = SESS(c);
	struct timeval		 tv = { IMAP_IDLE_POLL_SECS, 0 };
	int			 fd = -1;

	(void)strlcpy(s->idle_tag, cmd->tag, sizeof(s->idle_tag));
	if (s->mbox != NULL)
		fd = imap_notify_fd(s->mbox);
	if (fd != -1)
		s->ev_notify = event_new(s->base, fd, EV_READ | EV_PERSIST,
		    idle_notify, s);
	else
		s->ev_idle_poll = event_new(s->base, -1, EV_PERSIST,
		    idle_poll, s);
	if ((s->ev_notify == NULL && s->ev_idle_poll == NULL) ||
	    (s->ev_notify != NULL && event_add(s->ev_notify, NULL) == -1) ||
	    (s->ev_idle_poll != NULL && event_add(s->ev_idle_poll, &tv) ==
	    -1)) {
		idle_stop_events(s);
		sess_no(s, cmd->tag, "[SERVERBUG] cannot idle");
		return 0;
	}
	s->idling = 1;
	log_info("%08x imap idle folder=%s watch=%s", c->id, s->mbox != NULL ?
	    imap_mbox_name(s->mbox) : "-", fd != -1 ? "inotify" : "timer");
	sess_putf(s, "+ idling\r\n");
	if (s->mbox != NULL)
		sess_updates(s, 1);
	sess_flush(s);
	return 0;
}

/* The line that ends IDLE: "DONE" (RFC 2177 3), anything else is BAD. */
void
sess_idle_line(struct imap_sess *s, const char *line, size_t len)
{
	idle_stop_events(s);
	s->idling = 0;
	if (len == 4 && strncasecmp(line, "DONE", 4) == 0)
		sess_ok(s, s->idle_tag, "IDLE terminated");
	else if (sess_bad(s, s->idle_tag, "IDLE ends with DONE") == -1) {
		s->conn.closing = 1;
		lineio_shutdown(s->conn.lio);
		return;
	}
	sess_resume_input(s);
}
