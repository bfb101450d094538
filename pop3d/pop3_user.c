/*
 * The mailbox process: the TRANSACTION and UPDATE states (RFC 1939 5
 * and 6) for one logged-in client.  Runs as the mail user (the uid and
 * gid authd gave for the token), chrooted to the user's mail home (the
 * Maildir is /Maildir), seccomp set SANDBOX_MAILBOX.  It holds one
 * client connection and one user's mail, nothing else.
 *
 * Commands are read ahead and answered in order (PIPELINING); the
 * multi-line answers are written in pieces, with input paused, so that
 * neither a big message nor a long listing sits whole in memory.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lineio.h"
#include "log.h"
#include "pop3d.h"
#include "privsep.h"
#include "sandbox.h"

enum user_stream {
	STREAM_NONE,
	STREAM_MSG,		/* RETR, TOP */
	STREAM_LIST,
	STREAM_UIDL,
};

/* LIST and UIDL lines written per piece. */
#define USER_LIST_CHUNK		256

static struct {
	struct pop3_conn	 conn;
	struct maildrop		 drop;
	struct event_base	*base;
	char			 user[4 * AUTH_USER_MAX_BYTES + 8];
	enum user_stream	 stream;
	int			 fd;		/* the message being sent */
	size_t			 next;		/* LIST/UIDL: next index */
	struct pop3_xform	 xf;
	struct event		*ev_stall;	/* the client stopped reading */
	uint64_t		 retr;
} us;

static void	cmd_capa(struct pop3_conn *, struct pop3_req *);
static void	cmd_stat(struct pop3_conn *, struct pop3_req *);
static void	cmd_list(struct pop3_conn *, struct pop3_req *);
static void	cmd_uidl(struct pop3_conn *, struct pop3_req *);
static void	cmd_retr(struct pop3_conn *, struct pop3_req *);
static void	cmd_top(struct pop3_conn *, struct pop3_req *);
static void	cmd_dele(struct pop3_conn *, struct pop3_req *);
static void	cmd_rset(struct pop3_conn *, struct pop3_req *);
static void	cmd_noop(struct pop3_conn *, struct pop3_req *);
static void	cmd_quit(struct pop3_conn *, struct pop3_req *);

const struct pop3_cmd pop3_user_cmds[] = {
	/* verb		states		args		handler */
	{ "CAPA",	POP3_S_TRANS,	ARG_NONE,	cmd_capa },
	{ "STAT",	POP3_S_TRANS,	ARG_NONE,	cmd_stat },
	{ "LIST",	POP3_S_TRANS,	ARG_OPT,	cmd_list },
	{ "UIDL",	POP3_S_TRANS,	ARG_OPT,	cmd_uidl },
	{ "RETR",	POP3_S_TRANS,	ARG_ONE,	cmd_retr },
	{ "TOP",	POP3_S_TRANS,	ARG_TWO,	cmd_top },
	{ "DELE",	POP3_S_TRANS,	ARG_ONE,	cmd_dele },
	{ "RSET",	POP3_S_TRANS,	ARG_NONE,	cmd_rset },
	{ "NOOP",	POP3_S_TRANS,	ARG_NONE,	cmd_noop },
	{ "QUIT",	POP3_S_TRANS,	ARG_NONE,	cmd_quit },
	{ "USER",	POP3_S_LOGIN,	ARG_ONE,	NULL },
	{ "PASS",	POP3_S_USER,	ARG_REST,	NULL },
	{ "STLS",	POP3_S_AUTH,	ARG_NONE,	NULL },
	{ "AUTH",	POP3_S_LOGIN,	ARG_SASL,	NULL },
	{ NULL,		0,		ARG_NONE,	NULL },
};

/* A decimal argument, digits only, in [min, max]; -1 when it is not. */
static int
user_number(const char *s, long long min, long long max, long long *v)
{
	const char	*errstr;
	size_t		 i;

	for (i = 0; s[i] != '\0'; i++)
		if (!isdigit((unsigned char)s[i]))
			return -1;
	*v = strtonum(s, min, max, &errstr);
	return errstr == NULL ? 0 : -1;
}

/* The message an argument names, or NULL once the error is answered. */
static struct maildrop_msg *
user_msg(struct pop3_conn *c, const char *arg, long long *n)
{
	struct maildrop_msg	*m;

	if (user_number(arg, 1, INT64_MAX, n) == -1) {
		pop3_err(c, "invalid message number");
		return NULL;
	}
	if ((m = maildrop_get(&us.drop, *n)) == NULL) {
		pop3_err_answer(c, "no such message, only %zu messages in maildrop",
		    us.drop.nmsgs);
		return NULL;
	}
	if (m->deleted) {
		pop3_err_answer(c, "message %lld already deleted", *n);
		return NULL;
	}
	return m;
}

static void
user_stream_end(void)
{
	if (us.fd != -1)
		(void)close(us.fd);
	us.fd = -1;
	us.stream = STREAM_NONE;
	(void)evtimer_del(us.ev_stall);
	if (!us.conn.closing)
		lineio_resume(us.conn.lio);
}

/* One piece of a message; 1 at its end, -1 on failure. */
static int
user_pump_msg(void)
{
	static char	 in[POP3_RETR_CHUNK_BYTES];
	static char	 out[POP3_XFORM_OUT_MAX(sizeof(in))];
	ssize_t		 n;
	size_t		 len, used;

	n = read(us.fd, in, sizeof(in));
	if (n == -1) {
		log_warn("%08x pop3 retr-read", us.conn.id);
		return -1;
	}
	len = pop3_xform_run(&us.xf, in, (size_t)n, out, &used);
	if (n == 0 || us.xf.done)
		len += pop3_xform_end(&us.xf, out + len);
	if (lineio_write(us.conn.lio, out, len) == -1)
		return -1;
	return n == 0 || us.xf.done;
}

/* Some lines of a LIST or UIDL; 1 at the end. */
static int
user_pump_list(void)
{
	struct maildrop_msg	*m;
	size_t			 lines = 0;

	for (; us.next < us.drop.nmsgs && lines < USER_LIST_CHUNK;
	    us.next++) {
		m = &us.drop.msgs[us.next];
		if (m->deleted)
			continue;
		if (us.stream == STREAM_LIST)
			pop3_line(&us.conn, "%zu %llu", us.next + 1,
			    (unsigned long long)m->size);
		else
			pop3_line(&us.conn, "%zu %s", us.next + 1, m->uidl);
		lines++;
	}
	if (us.conn.closing)
		return -1;
	if (us.next < us.drop.nmsgs)
		return 0;
	pop3_line(&us.conn, ".");
	return 1;
}

/* Queues pieces until enough waits to be written, then waits for it. */
static void
user_stream_pump(void)
{
	struct timeval	 tv = { POP3_IDLE_TIMEOUT_SECS, 0 };
	size_t		 high;
	int		 r;

	high = us.stream == STREAM_MSG ? POP3_RETR_HIGH_BYTES :
	    POP3_OUTPUT_HIGH_BYTES;
	while (lineio_output_pending(us.conn.lio) < high) {
		r = us.stream == STREAM_MSG ? user_pump_msg() :
		    user_pump_list();
		if (r == -1) {
			/* The answer is cut: the client must not trust it. */
			us.conn.closing = 1;
			lineio_shutdown(us.conn.lio);
			return;
		}
		if (r == 1) {
			user_stream_end();
			return;
		}
	}
	lineio_want_drain(us.conn.lio);
	(void)evtimer_add(us.ev_stall, &tv);
}

static void
user_stream_start(enum user_stream kind, int fd, int64_t maxbody)
{
	us.stream = kind;
	us.fd = fd;
	us.next = 0;
	pop3_xform_init(&us.xf, 1, maxbody);
	lineio_pause(us.conn.lio);
	user_stream_pump();
}

static void
cmd_capa(struct pop3_conn *c, struct pop3_req *req)
{
	(void)req;
	pop3_capa(c, 1);
}

static void
cmd_stat(struct pop3_conn *c, struct pop3_req *req)
{
	(void)req;
	pop3_ok(c, "%zu %llu", us.drop.nmsgs - us.drop.ndeleted,
	    (unsigned long long)(us.drop.total - us.drop.deleted_size));
}

static void
cmd_list(struct pop3_conn *c, struct pop3_req *req)
{
	struct maildrop_msg	*m;
	long long		 n;

	if (req->argc == 1) {
		if ((m = user_msg(c, req->argv[0], &n)) != NULL)
			pop3_ok(c, "%lld %llu", n,
			    (unsigned long long)m->size);
		return;
	}
	pop3_ok(c, "%zu messages (%llu octets)",
	    us.drop.nmsgs - us.drop.ndeleted,
	    (unsigned long long)(us.drop.total - us.drop.deleted_size));
	user_stream_start(STREAM_LIST, -1, -1);
}

static void
cmd_uidl(struct pop3_conn *c, struct pop3_req *req)
{
	struct maildrop_msg	*m;
	long long		 n;

	if (req->argc == 1) {
		if ((m = user_msg(c, req->argv[0], &n)) != NULL)
			pop3_ok(c, "%lld %s", n, m->uidl);
		return;
	}
	pop3_ok(c, "unique-id listing follows");
	user_stream_start(STREAM_UIDL, -1, -1);
}

/* Opens message m for RETR or TOP; -1 once the error is answered. */
static int
user_open(struct pop3_conn *c, struct maildrop_msg *m)
{
	int	 fd;

	if ((fd = maildrop_msg_open(&us.drop, m)) != -1)
		return fd;
	log_warn("%08x pop3 open-failed uidl=%s", c->id, m->uidl);
	if (errno == ENOENT)
		pop3_err_sys(c, "message was removed by another session");
	else
		pop3_err_sys(c, "[SYS/TEMP] cannot read message");
	return -1;
}

static void
cmd_retr(struct pop3_conn *c, struct pop3_req *req)
{
	struct maildrop_msg	*m;
	long long		 n;
	int			 fd;

	if ((m = user_msg(c, req->argv[0], &n)) == NULL ||
	    (fd = user_open(c, m)) == -1)
		return;
	log_info("%08x pop3 retr n=%lld octets=%llu uidl=%s", c->id, n,
	    (unsigned long long)m->size, m->uidl);
	us.retr++;
	maildrop_seen(&us.drop, m);
	m->retrieved = 1;
	pop3_ok(c, "%llu octets", (unsigned long long)m->size);
	user_stream_start(STREAM_MSG, fd, -1);
}

/* RFC 1939 7, TOP: the header, the blank line, then n body lines. */
static void
cmd_top(struct pop3_conn *c, struct pop3_req *req)
{
	struct maildrop_msg	*m;
	long long		 n, lines;
	int			 fd;

	if ((m = user_msg(c, req->argv[0], &n)) == NULL)
		return;
	if (user_number(req->argv[1], 0, INT64_MAX, &lines) == -1) {
		pop3_err(c, "invalid number of lines");
		return;
	}
	if ((fd = user_open(c, m)) == -1)
		return;
	log_debug("%08x pop3 top n=%lld lines=%lld", c->id, n, lines);
	pop3_ok(c, "top of message follows");
	user_stream_start(STREAM_MSG, fd, lines);
}

static void
cmd_dele(struct pop3_conn *c, struct pop3_req *req)
{
	struct maildrop_msg	*m;
	long long		 n;

	if ((m = user_msg(c, req->argv[0], &n)) == NULL)
		return;
	maildrop_mark(&us.drop, m);
	log_debug("%08x pop3 dele n=%lld uidl=%s", c->id, n, m->uidl);
	pop3_ok(c, "message %lld deleted", n);
}

static void
cmd_rset(struct pop3_conn *c, struct pop3_req *req)
{
	size_t	 n;

	(void)req;
	n = maildrop_unmark_all(&us.drop);
	log_debug("%08x pop3 rset unmarked=%zu", c->id, n);
	pop3_ok(c, "maildrop has %zu messages (%llu octets)", us.drop.nmsgs,
	    (unsigned long long)us.drop.total);
}

static void
cmd_noop(struct pop3_conn *c, struct pop3_req *req)
{
	(void)req;
	pop3_line(c, "+OK");
}

/* RFC 1939 6: the UPDATE state removes the marked messages. */
static void
cmd_quit(struct pop3_conn *c, struct pop3_req *req)
{
	size_t	 removed, failed;

	(void)req;
	pop3_set_state(c, POP3_S_UPDATE);
	(void)pop3_expire_mark(&us.drop, time(NULL));
	removed = maildrop_update(&us.drop, &failed);
	log_info("%08x pop3 quit user=%s deleted=%zu failed=%zu retr=%llu",
	    c->id, us.user, removed, failed, (unsigned long long)us.retr);
	if (failed > 0)
		pop3_err_sys(c, "[SYS/TEMP] some deleted messages not removed");
	else
		pop3_ok(c, "sallyport POP3 server signing off "
		    "(%zu messages deleted)", removed);
	c->closing = 1;
	lineio_shutdown(c->lio);
}

static void
user_line(struct lineio *lio, const char *line, size_t len, int flags,
    void *arg)
{
	(void)lio;
	(void)arg;
	pop3_dispatch(pop3_user_cmds, &us.conn, line, len, flags);
}

static void
user_event(struct lineio *lio, int event, void *arg)
{
	(void)lio;
	(void)arg;
	if (event == LINEIO_DRAINED) {
		if (us.stream != STREAM_NONE)
			user_stream_pump();
		return;
	}
	/* Without QUIT nothing is deleted (RFC 1939 6). */
	if (event != LINEIO_CLOSED)
		log_info("%08x pop3 disconnect user=%s reason=%s deleted=0 "
		    "marked=%zu", us.conn.id, us.user,
		    event == LINEIO_EOF ? "eof" : event == LINEIO_TIMEOUT ?
		    "timeout" : "error", us.drop.ndeleted);
	maildrop_close(&us.drop);
	exit(0);
}

static void
user_stalled(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	log_info("%08x pop3 disconnect user=%s reason=stalled deleted=0",
	    us.conn.id, us.user);
	exit(0);
}

/* Answers before the session exists, and ends the process. */
static void __attribute__((noreturn))
user_refuse(int fd, const char *text, int status)
{
	(void)send(fd, text, strlen(text), MSG_NOSIGNAL);
	(void)close(fd);
	exit(status);
}

/* Checks the mail home before chroot(2), so that the client hears why. */
static void
user_check_home(const struct pop3_user_args *a)
{
	struct stat	 st;

	if (a->home[0] != '/' || stat(a->home, &st) == -1 ||
	    !S_ISDIR(st.st_mode)) {
		log_warnx("%08x pop3 session-failed user=%s reason=no-home",
		    a->id, us.user);
		user_refuse(a->fd, "-ERR [SYS/TEMP] maildrop unavailable\r\n",
		    1);
	}
}

static void
user_open_maildrop(const struct pop3_user_args *a)
{
	const char		*err;
	enum maildrop_result	 r;

	r = maildrop_open(&us.drop, "/Maildir", a->id, &err);
	if (r == MAILDROP_BUSY) {
		log_info("%08x pop3 session-refused user=%s reason=locked",
		    a->id, us.user);
		user_refuse(a->fd,
		    "-ERR [IN-USE] maildrop already locked\r\n", 0);
	}
	if (r != MAILDROP_OK) {
		log_warn("%08x pop3 session-failed user=%s reason=\"%s\"",
		    a->id, us.user, err);
		user_refuse(a->fd, "-ERR [SYS/TEMP] maildrop unavailable\r\n",
		    1);
	}
}

void
pop3_user_main(const struct pop3_user_args *a)
{
	us.conn.id = a->id;
	us.conn.owner = &us;
	us.fd = -1;
	(void)strlcpy(us.conn.client, a->client, sizeof(us.conn.client));
	(void)log_vis(us.user, sizeof(us.user), a->user, strlen(a->user));
	(void)signal(SIGPIPE, SIG_IGN);
	user_check_home(a);
	privsep_drop(a->uid, a->gid, a->home);
	if ((us.base = event_base_new()) == NULL ||
	    (us.ev_stall = evtimer_new(us.base, user_stalled, NULL)) == NULL)
		fatalx("%08x pop3 event setup", a->id);
	sandbox_init(SANDBOX_MAILBOX);
	user_open_maildrop(a);
	us.conn.lio = lineio_new(us.base, a->fd, POP3_CMD_LINE_MAX_BYTES - 1,
	    user_line, user_event, NULL);
	if (us.conn.lio == NULL)
		fatalx("%08x pop3 lineio setup", a->id);
	lineio_set_timeout(us.conn.lio, POP3_IDLE_TIMEOUT_SECS);
	us.conn.state = POP3_S_TRANS;
	log_info("%08x pop3 session user=%s uid=%lu messages=%zu octets=%llu "
	    "cached=%zu", a->id, us.user, (unsigned long)a->uid,
	    us.drop.nmsgs, (unsigned long long)us.drop.total,
	    us.drop.cache_hits);
	pop3_ok(&us.conn, "maildrop locked and ready");
	(void)event_base_dispatch(us.base);
	fatalx("%08x pop3 event loop ended", a->id);
}
