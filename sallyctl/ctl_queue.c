/*
 * The verbs sallyctl sends to the queue manager over control.sock: one
 * blocking connection per command, a request, and its replies read up
 * to MSG_CTL_END.  A reply that is not the one expected, or does not
 * parse, ends the command with a message and exit status 1.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ipc.h"
#include "log.h"
#include "proto.h"
#include "sallyctl.h"

/* Room for an address or an error after strnvis(3). */
#define CTL_VIS_MAX_BYTES	1024
/* The request id; the queue manager echoes it in every reply. */
#define CTL_PEERID		1

typedef int	(*ctl_item_cb)(struct ipc_msg *, void *);

static struct ipc_out	ctl_out;
static uint8_t		ctl_inbuf[sizeof(struct ipc_hdr) +
			    IPC_PAYLOAD_MAX_BYTES];

/* Makes fd blocking, with a receive timeout. */
static int
ctl_queue_sockopts(int fd)
{
	struct timeval	 tv = { CTL_REPLY_TIMEOUT_SECS, 0 };
	int		 flags;

	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == -1)
		return -1;
	return setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

/* Connects to control.sock and exchanges HELLOs; -1 after a message. */
int
ctl_queue_connect(struct ctl_env *env)
{
	int	 fd;

	if ((fd = ipc_connect(env->sock)) == -1) {
		warn("cannot connect to queued: %s", env->sock);
		return -1;
	}
	if (ctl_queue_sockopts(fd) == -1) {
		warn("%s", env->sock);
		(void)close(fd);
		return -1;
	}
	if (ipc_hello_sync(fd, ROLE_CTL, ROLE_BIT(ROLE_QUEUED)) == -1) {
		warn("queued refused the connection: %s", env->sock);
		(void)close(fd);
		return -1;
	}
	return fd;
}

/* Receives one reply; -1 after a message. */
int
ctl_queue_recv(int fd, struct ipc_msg *m)
{
	if (ipc_recv_sync(fd, m, ctl_inbuf, sizeof(ctl_inbuf)) == 0) {
		if (m->hdr.peerid == CTL_PEERID)
			return 0;
		warnx("reply from queued for another request: %s",
		    ipc_type_name(m->hdr.type));
		ipc_msg_clear(m);
		return -1;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		warnx("no reply from queued in %d seconds",
		    CTL_REPLY_TIMEOUT_SECS);
	else if (errno == ECONNRESET)
		warnx("queued closed the connection");
	else
		warn("reading the reply of queued");
	return -1;
}

static void
ctl_queue_unexpected(struct ipc_msg *m)
{
	warnx("malformed or unexpected reply from queued: %s",
	    ipc_type_name(m->hdr.type));
	ipc_msg_clear(m);
}

/*
 * Sends the request in ctl_out, prints header (unless NULL) before the
 * first reply, then hands each reply of type item to cb until
 * MSG_CTL_END.  A CTL_RESULT that is not RESULT_OK refuses the request
 * as a whole: its message is printed.  0, or 1 after a message.
 */
struct ipc_out *
ctl_queue_request(uint32_t type)
{
	ipc_out_init(&ctl_out, type, CTL_PEERID);
	return &ctl_out;
}

int
ctl_queue_stream(struct ctl_env *env, const char *header, uint32_t item,
    ctl_item_cb cb, void *arg)
{
	static struct ctl_result res;
	struct ipc_msg	 m;
	char		 text[CTL_VIS_MAX_BYTES];
	int		 fd, r = 1;

	if ((fd = ctl_queue_connect(env)) == -1)
		return 1;
	if (ipc_send_sync(fd, &ctl_out, -1) == -1) {
		warn("sending to queued");
		goto done;
	}
	/* The header goes out with the first reply that is not an error. */
	for (;;) {
		if (ctl_queue_recv(fd, &m) == -1)
			goto done;
		if (m.hdr.type == MSG_CTL_END && ctl_reply_end(&m) == 0) {
			if (header != NULL)
				fputs(header, stdout);
			break;
		}
		/* A request refused as a whole ("relay not running"). */
		if (m.hdr.type == MSG_CTL_RESULT &&
		    ctl_reply_result(&m, &res) == 0 &&
		    res.result != RESULT_OK) {
			warnx("%s", ctl_vis(text, sizeof(text), res.message,
			    "failed"));
			goto done;
		}
		if (header != NULL) {
			fputs(header, stdout);
			header = NULL;
		}
		if (m.hdr.type != item || cb(&m, arg) == -1) {
			ctl_queue_unexpected(&m);
			goto done;
		}
	}
	r = 0;
done:
	(void)close(fd);
	return r;
}

const char *
ctl_vis(char *dst, size_t dstlen, const char *src, const char *empty)
{
	if (*src == '\0')
		return empty;
	return log_vis(dst, dstlen, src, strlen(src));
}

int
ctl_json_print(struct ctl_json *j)
{
	const char	*line;

	if ((line = ctl_json_end(j)) == NULL) {
		warnx("a reply of queued is too long for one JSON line");
		return -1;
	}
	printf("%s\n", line);
	return 0;
}

struct ctl_list_state {
	const struct ctl_args	*args;
	uint64_t		 now;
};

/* show queue -j: the keys sallyctl(8) lists, in that order. */
static int
ctl_json_entry(const struct ctl_entry *e, uint64_t now)
{
	static struct ctl_json	 j;
	char			 msgid[CTL_MSGID_HEX_DIGITS + 1];

	(void)strlcpy(msgid, e->evpid, sizeof(msgid));
	ctl_json_begin(&j);
	ctl_json_str(&j, "evpid", e->evpid);
	ctl_json_str(&j, "msgid", msgid);
	ctl_json_str(&j, "sender", e->sender);
	ctl_json_str(&j, "rcpt", e->rcpt);
	ctl_json_u64(&j, "created", e->created);
	ctl_json_u64(&j, "age", (uint64_t)ctl_elapsed(e->created, now));
	ctl_json_u64(&j, "retries", e->retries);
	ctl_json_u64(&j, "next_try", e->next_try);
	ctl_json_str(&j, "state", e->state);
	ctl_json_str(&j, "last_error", e->error);
	return ctl_json_print(&j);
}

static int
ctl_print_entry(struct ipc_msg *m, void *arg)
{
	static struct ctl_entry	 e;
	struct ctl_list_state	*ls = arg;
	char			 sender[CTL_VIS_MAX_BYTES];
	char			 rcpt[CTL_VIS_MAX_BYTES];
	char			 error[CTL_VIS_MAX_BYTES];
	char			 evpid[CTL_VIS_MAX_BYTES];
	char			 age[32], next[32];
	uint64_t		 now = ls->now;

	if (ctl_reply_entry(m, &e) == -1 ||
	    ctl_age_format(ctl_elapsed(e.created, now), age,
	    sizeof(age)) == -1 ||
	    ctl_age_format(ctl_elapsed(now, e.next_try), next,
	    sizeof(next)) == -1)
		return -1;
	if (!ctl_filter_match(&ls->args->filter, e.sender, e.rcpt, e.created,
	    e.state, now))
		return 0;
	if (ls->args->json)
		return ctl_json_entry(&e, now) == -1 ? -1 : 0;
	/* The manager sends 0 while a delivery is under way. */
	if (strcmp(e.state, "waiting") != 0 && strcmp(e.state, "active") != 0)
		(void)strlcpy(next, e.state, sizeof(next));
	else if (e.next_try == 0)
		(void)strlcpy(next, "active", sizeof(next));
	else if (e.next_try <= now)
		(void)strlcpy(next, "now", sizeof(next));
	printf("%-20s %-24s %-24s %5s %7" PRIu32 " %6s %s\n",
	    ctl_vis(evpid, sizeof(evpid), e.evpid, "-"),
	    ctl_vis(sender, sizeof(sender), e.sender, "<>"),
	    ctl_vis(rcpt, sizeof(rcpt), e.rcpt, "-"), age, e.retries, next,
	    ctl_vis(error, sizeof(error), e.error, "-"));
	return 0;
}

int
ctl_show_queue(struct ctl_env *env, const struct ctl_args *a)
{
	struct ctl_list_state	 ls;
	char			 header[128];

	ls.args = a;
	ls.now = (uint64_t)time(NULL);
	(void)snprintf(header, sizeof(header),
	    "%-20s %-24s %-24s %5s %7s %6s %s\n", "EVPID", "SENDER",
	    "RECIPIENT", "AGE", "RETRIES", "NEXT", "LAST ERROR");
	ipc_out_init(&ctl_out, MSG_CTL_QUEUE_LIST, CTL_PEERID);
	return ctl_queue_stream(env, a->json ? NULL : header,
	    MSG_CTL_QUEUE_ENTRY, ctl_print_entry, &ls);
}

static int
ctl_print_stat(struct ipc_msg *m, void *arg)
{
	static struct ctl_stat	 st;
	static struct ctl_json	 j;
	const struct ctl_args	*a = arg;
	char			 name[CTL_VIS_MAX_BYTES];

	if (ctl_reply_stat(m, &st) == -1)
		return -1;
	if (a->json) {
		ctl_json_begin(&j);
		ctl_json_str(&j, "name", st.name);
		ctl_json_u64(&j, "value", st.value);
		return ctl_json_print(&j);
	}
	printf("%s %" PRIu64 "\n", ctl_vis(name, sizeof(name), st.name, "-"),
	    st.value);
	return 0;
}

int
ctl_show_stats(struct ctl_env *env, const struct ctl_args *a)
{
	ipc_out_init(&ctl_out, MSG_CTL_STATS, CTL_PEERID);
	return ctl_queue_stream(env, NULL, MSG_CTL_STAT, ctl_print_stat,
	    (void *)(uintptr_t)a);
}

static int
ctl_json_host(const struct ctl_host *h)
{
	static struct ctl_json	 j;

	ctl_json_begin(&j);
	ctl_json_str(&j, "destination", h->dest);
	ctl_json_u64(&j, "conns", h->conns);
	ctl_json_u64(&j, "queued", h->queued);
	ctl_json_u64(&j, "active", h->active);
	ctl_json_u64(&j, "backoff_until", h->backoff_until);
	ctl_json_str(&j, "last_error", h->error);
	return ctl_json_print(&j);
}

static int
ctl_print_host(struct ipc_msg *m, void *arg)
{
	static struct ctl_host	 h;
	struct ctl_list_state	*ls = arg;
	char			 dest[CTL_VIS_MAX_BYTES];
	char			 error[CTL_VIS_MAX_BYTES], backoff[32];
	uint64_t		 now = ls->now;

	if (ctl_reply_host(m, &h) == -1)
		return -1;
	if (ls->args->json)
		return ctl_json_host(&h);
	if (h.backoff_until > now) {
		if (ctl_age_format(ctl_elapsed(now, h.backoff_until), backoff,
		    sizeof(backoff)) == -1)
			return -1;
	} else
		(void)strlcpy(backoff, "-", sizeof(backoff));
	printf("%-32s %5" PRIu32 " %6" PRIu32 " %6" PRIu32 " %7s %s\n",
	    ctl_vis(dest, sizeof(dest), h.dest, "-"), h.conns, h.queued,
	    h.active, backoff, ctl_vis(error, sizeof(error), h.error, "-"));
	return 0;
}

int
ctl_show_hosts(struct ctl_env *env, const struct ctl_args *a)
{
	struct ctl_list_state	 ls;
	char			 header[128];

	ls.args = a;
	ls.now = (uint64_t)time(NULL);
	(void)snprintf(header, sizeof(header), "%-32s %5s %6s %6s %7s %s\n",
	    "DESTINATION", "CONNS", "QUEUED", "ACTIVE", "BACKOFF",
	    "LAST ERROR");
	ipc_out_init(&ctl_out, MSG_CTL_HOSTS, CTL_PEERID);
	return ctl_queue_stream(env, a->json ? NULL : header, MSG_CTL_HOST,
	    ctl_print_host, &ls);
}

struct ctl_procs_state {
	uint64_t	 now;
	int		 down;
	int		 json;
};

/* show status -j: the keys ctl_daemon.c's lines have. */
static int
ctl_json_proc(const struct ctl_proc *p, uint64_t now)
{
	static struct ctl_json	 j;
	char			 name[IPC_STRING_MAX_BYTES + 8];

	(void)snprintf(name, sizeof(name), "queued/%s", p->name);
	ctl_json_begin(&j);
	ctl_json_str(&j, "name", name);
	ctl_json_u64(&j, "pid", p->up ? p->pid : 0);
	ctl_json_u64(&j, "uptime", p->up ?
	    (uint64_t)ctl_elapsed(p->started, now) : 0);
	ctl_json_str(&j, "state", p->up ? "up" : "down");
	return ctl_json_print(&j);
}

static int
ctl_print_proc(struct ipc_msg *m, void *arg)
{
	static struct ctl_proc	 p;
	struct ctl_procs_state	*s = arg;
	char			 name[CTL_VIS_MAX_BYTES], up[32];

	if (ctl_reply_proc(m, &p) == -1 ||
	    ctl_age_format(ctl_elapsed(p.started, s->now), up,
	    sizeof(up)) == -1)
		return -1;
	(void)ctl_vis(name, sizeof(name), p.name, "-");
	if (!p.up)
		s->down = 1;
	if (s->json)
		return ctl_json_proc(&p, s->now);
	if (!p.up) {
		s->down = 1;
		printf("queued/%-17s %-8s %-8s %s\n", name, "-", "-", "down");
	} else
		printf("queued/%-17s %-8" PRIu32 " %-8s %s\n", name, p.pid, up,
		    "up");
	return 0;
}

int
ctl_queue_procs(struct ctl_env *env, int json)
{
	struct ctl_procs_state	 s;

	s.now = (uint64_t)time(NULL);
	s.down = 0;
	s.json = json;
	ipc_out_init(&ctl_out, MSG_CTL_STATUS, CTL_PEERID);
	if (ctl_queue_stream(env, NULL, MSG_CTL_PROC, ctl_print_proc, &s) != 0)
		return 1;
	return s.down;
}

int
ctl_queue_command(struct ctl_env *env, uint32_t type, const char *id,
    const char *done)
{
	static struct ctl_result r;
	struct ipc_msg		 m;
	char			 msg[CTL_VIS_MAX_BYTES];
	int			 fd, status = 1;

	ipc_out_init(&ctl_out, type, CTL_PEERID);
	ipc_put_str(&ctl_out, id);
	if ((fd = ctl_queue_connect(env)) == -1)
		return 1;
	if (ipc_send_sync(fd, &ctl_out, -1) == -1)
		warn("sending to queued");
	else if (ctl_queue_recv(fd, &m) == 0) {
		if (ctl_reply_result(&m, &r) == -1)
			ctl_queue_unexpected(&m);
		else if (r.result != RESULT_OK)
			warnx("%s: %s", id,
			    ctl_vis(msg, sizeof(msg), r.message, "failed"));
		else if (done == NULL) {
			printf("%s\n", ctl_vis(msg, sizeof(msg), r.message,
			    "done"));
			status = 0;
		} else {
			printf("%" PRIu32 " envelope%s %s", r.count,
			    r.count == 1 ? "" : "s", done);
			if (r.message[0] != '\0')
				printf(" (%s)", ctl_vis(msg, sizeof(msg),
				    r.message, ""));
			printf("\n");
			status = 0;
		}
	}
	(void)close(fd);
	return status;
}

int
ctl_schedule(struct ctl_env *env, const struct ctl_args *a)
{
	return ctl_queue_command(env, MSG_CTL_SCHEDULE, a->arg, "scheduled");
}

int
ctl_remove(struct ctl_env *env, const struct ctl_args *a)
{
	return ctl_queue_command(env, MSG_CTL_REMOVE, a->arg, "removed");
}
