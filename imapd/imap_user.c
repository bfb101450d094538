/*
 * The mailbox process: the authenticated and selected states (RFC 3501
 * 3.2, 3.3) for one logged-in client.  Runs as the mail user (the uid
 * and gid authd gave for the token), chrooted in the user's mail home
 * (INBOX is /Maildir), seccomp set SANDBOX_IMAP_MAILBOX.  It holds one
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

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "lineio.h"
#include "log.h"
#include "privsep.h"
#include "sandbox.h"
#include "imap_session.h"
#include "imap_store.h"

static struct imap_sess	 us;
static struct event	*user_ev_stall;

static void	user_end(const char *) __attribute__((noreturn));

/* The end: one log line, the folder and the store closed. */
static void
user_end(const char *reason)
{
	log_info("%08x imap disconnect user=%s reason=%s", us.conn.id,
	    us.user, reason);
	imap_compress_finish();
	if (us.mbox != NULL)
		imap_mbox_close(us.mbox);
	if (us.store != NULL)
		imap_store_close(us.store);
	exit(0);
}

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

/* A line and its CRLF, as the reader wants it. */
static char		 user_buf[IMAP_LINE_MAX_BYTES + 2];

static uint64_t
user_now_ms(void)
{
	struct timespec	 ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
user_close(void)
{
	us.conn.closing = 1;
	lineio_shutdown(us.conn.lio);
}

/* Keeps input the reader did not take, for later (throttle, IDLE). */
static void
user_hold(const char *p, size_t len)
{
	char	*n;

	if ((n = realloc(us.held, us.heldlen + len)) == NULL) {
		log_warnx("%08x imap hold-failed", us.conn.id);
		user_close();
		return;
	}
	memcpy(n + us.heldlen, p, len);
	us.held = n;
	us.heldlen += len;
	lineio_pause(us.conn.lio);
}

/* Feeds bytes to the reader, which dispatches the commands. */
static void
user_feed(const char *p, size_t len)
{
	struct timeval	 tv;
	unsigned int	 wait = 0;
	ssize_t		 n;

	if (us.conn.closing)
		return;
	n = imap_input(us.rd, &us.conn.state, p, len, user_now_ms(), &wait);
	sess_flush(&us);
	if (n == -1) {
		user_close();
		return;
	}
	if (us.conn.closing)
		return;
	if ((size_t)n >= len && wait > 0)
		lineio_pause(us.conn.lio);
	else if ((size_t)n >= len)
		return;
	else
		user_hold(p + n, len - (size_t)n);
	if (wait > 0) {
		tv.tv_sec = wait / 1000;
		tv.tv_usec = (wait % 1000) * 1000;
		(void)evtimer_add(us.ev_resume, &tv);
	}
}

/* Feeds what was held back, then reads again. */
void
sess_resume_input(struct imap_sess *s)
{
	char	*p = s->held;
	size_t	 len = s->heldlen;

	s->held = NULL;
	s->heldlen = 0;
	lineio_resume(s->conn.lio);
	user_feed(p != NULL ? p : "", len);
	free(p);
}

static void
user_resume(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	sess_resume_input(&us);
}

static void
user_raw(struct lineio *lio, const char *data, size_t len, size_t left,
    void *arg)
{
	(void)lio;
	(void)left;
	(void)arg;
	user_feed(data, len);
}

/*
 * The size of the literal a line announces at its end ({n}, {n+},
 * ~{n}); -1 when none.  *sync is 0 for a non-synchronising one.
 */
static int64_t
user_literal(const char *line, size_t len, int *sync)
{
	size_t		 i;
	uint64_t	 v = 0;

	if (len < 3 || line[len - 1] != '}')
		return -1;
	i = len - 1;
	*sync = line[i - 1] != '+';
	if (!*sync)
		i--;
	if (i == 0 || !isdigit((unsigned char)line[i - 1]))
		return -1;
	while (i > 0 && isdigit((unsigned char)line[i - 1])) {
		i--;
		if (len - i > 20)
			return -1;
	}
	if (i == 0 || line[i - 1] != '{')
		return -1;
	for (; isdigit((unsigned char)line[i]); i++)
		v = v * 10 + (uint64_t)(line[i] - '0');
	return v > INT64_MAX ? -1 : (int64_t)v;
}

static void
user_line(struct lineio *lio, const char *line, size_t len, int flags,
    void *arg)
{
	int64_t	 lit;
	int	 sync = 1;

	(void)arg;
	if (us.idling) {
		sess_idle_line(&us, line, len);
		return;
	}
	if (flags & LINE_F_TOOLONG) {
		/* RFC 7162 4: at least 8192 octets are taken; ours more. */
		if (sess_bad(&us, "*", "Command line too long") == -1)
			user_close();
		return;
	}
	memcpy(user_buf, line, len);
	memcpy(user_buf + len, "\r\n", 2);
	us.cont_sent = 0;
	lit = user_literal(line, len, &sync);
	user_feed(user_buf, len + 2);
	if (lit > 0 && !us.conn.closing && (!sync || us.cont_sent))
		lineio_read_raw(lio, (size_t)lit, user_raw);
}

static void	user_event(struct lineio *, int, void *);

/* RFC 4978: the OK went out plain; from now on, deflate both ways. */
static void
user_compress(void)
{
	int	 fd;

	us.compress_pending = 0;
	if ((fd = lineio_detach(us.conn.lio)) == -1 ||
	    (fd = imap_compress_start(us.base, fd)) == -1) {
		log_warnx("%08x imap compress-failed", us.conn.id);
		user_end("compress-failed");
	}
	us.conn.lio = lineio_new(us.base, fd, IMAP_LINE_MAX_BYTES, user_line,
	    user_event, NULL);
	if (us.conn.lio == NULL)
		fatalx("%08x imap lineio setup", us.conn.id);
	lineio_set_timeout(us.conn.lio, IMAP_AUTOLOGOUT_SECS);
	log_info("%08x imap compress deflate", us.conn.id);
}

static void
user_event(struct lineio *lio, int event, void *arg)
{
	struct timeval	 tv = { IMAP_STALL_TIMEOUT_SECS, 0 };

	(void)lio;
	(void)arg;
	if (event == LINEIO_DRAINED && us.compress_pending) {
		user_compress();
		return;
	}
	if (event == LINEIO_DRAINED) {
		(void)evtimer_del(user_ev_stall);
		if (sess_drained(&us) == 0)
			(void)evtimer_add(user_ev_stall, &tv);
		return;
	}
	if (event == LINEIO_TIMEOUT && !us.conn.closing) {
		/* RFC 3501 5.4: the autologout timer. */
		sess_putf(&us, "* BYE Autologout; idle for too long\r\n");
		sess_flush(&us);
		user_close();
		log_info("%08x imap autologout user=%s", us.conn.id, us.user);
		return;
	}
	user_end(event == LINEIO_CLOSED ? "logout" :
	    event == LINEIO_EOF ? "eof" : event == LINEIO_TIMEOUT ?
	    "timeout" : "error");
}

static void
user_stalled(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	user_end("stalled");
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

static void
user_log(struct imap_conn *c, const char *event, const char *detail)
{
	log_info("%08x imap %s %s", c->id, event, detail);
}

static const struct imap_io user_io = { sess_io_write, user_log };

/* As the user in the chroot, before the filter: the store, the reader. */
static void
user_setup(const struct imap_user_args *a)
{
	const char	*err;

	us.store = imap_store_open("/Maildir", &err);
	if (us.store == NULL) {
		log_warn("%08x imap session-failed user=%s reason=\"%s\"",
		    a->id, us.user, err);
		user_refuse(a, "mailbox unavailable");
	}
	if (imap_store_first_login(us.store) != IMAP_ST_OK)
		log_warnx("%08x imap special-use-failed user=%s reason=\"%s\"",
		    a->id, us.user, imap_store_error(us.store));
	if (imap_compress_prepare() == -1)
		log_warn("%08x imap compress-unavailable", a->id);
	us.rd = imap_reader_new(imap_sess_cmds, &user_io, &imap_sess_sink,
	    &us.conn);
	if (us.rd == NULL)
		fatalx("%08x imap reader setup", a->id);
	imap_wbuf_init(&us.wb, us.wbmem, sizeof(us.wbmem), sess_wb_flush,
	    &us);
}

void
imap_user_main(const struct imap_user_args *a)
{
	us.conn.id = a->id;
	us.conn.owner = &us;
	us.quota = a->quota;
	(void)strlcpy(us.conn.client, a->client, sizeof(us.conn.client));
	(void)log_vis(us.user, sizeof(us.user), a->user, strlen(a->user));
	(void)signal(SIGPIPE, SIG_IGN);
	user_check_home(a);
	privsep_drop(a->uid, a->gid, a->home);
	if ((us.base = event_base_new()) == NULL ||
	    (user_ev_stall = evtimer_new(us.base, user_stalled, NULL)) ==
	    NULL ||
	    (us.ev_resume = evtimer_new(us.base, user_resume, NULL)) == NULL)
		fatalx("%08x imap event setup", a->id);
	user_setup(a);
	sandbox_init(SANDBOX_IMAP_MAILBOX);
	us.conn.lio = lineio_new(us.base, a->fd, IMAP_LINE_MAX_BYTES,
	    user_line, user_event, NULL);
	if (us.conn.lio == NULL)
		fatalx("%08x imap lineio setup", a->id);
	lineio_set_timeout(us.conn.lio, IMAP_AUTOLOGOUT_SECS);
	us.conn.state = IMAP_S_AUTH;
	log_info("%08x imap session user=%s uid=%lu client=%s", a->id,
	    us.user, (unsigned long)a->uid, us.conn.client);
	sess_putf(&us, "%s OK [CAPABILITY %s] Logged in\r\n", a->tag,
	    sess_capability());
	sess_flush(&us);
	(void)event_base_dispatch(us.base);
	fatalx("%08x imap event loop ended", a->id);
}
