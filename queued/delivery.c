/*
 * The delivery agent: root, not chrooted, no seccomp filter (it forks
 * children that must become any mail user).  It parses nothing but the
 * framed messages of its three peers, and does nothing but fork: one
 * child per delivery, which prepares the mail home as root, drops to the
 * mailbox owner and writes the Maildir (delivery_user.c).
 *
 * Peers: its parent (ROLE_PARENT: PARENT_PEER_FD, PARENT_LOG_VERBOSE;
 * anything else is fatal), the queue manager (ROLE_QUEUED, on the
 * descriptor the parent passes: QUEUE_DELIVERY_START, answered by one
 * DELIVERY_RESULT), and authd (ROLE_AUTHD, <rundir>/authd.sock, which
 * the agent connects itself, with backoff).  The manager only names a
 * user; the uid, gid and mail home come from authd, so a compromised
 * manager cannot aim a delivery at a uid or a path of its choosing.
 *
 * A delivery goes LOOKUP (asking authd) -> PENDING (waiting for one of
 * QUEUE_DELIVERIES_MAX child slots) -> RUNNING (a child) -> answered.
 */
#include <sys/types.h>
#include <sys/param.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "delivery.h"
#include "ipc.h"
#include "sp_limits.h"
#include "log.h"
#include "maildir.h"
#include "proto.h"
#include "queued.h"

static struct {
	struct event_base	*base;
	struct config		*conf;
	struct ipc_conn		*parent;
	struct ipc_conn		*queue;
	unsigned int		 queue_gen;
	struct event		*ev_stop;
	int			 stopping;
	uint32_t		 next_id;
	size_t			 nwaiting;	/* LOOKUP and PENDING */
	size_t			 nrunning;
	struct delivery_list	 lookups;
	struct delivery_list	 pending;
	struct delivery_list	 running;
} agent;

static void	delivery_parent_peer_fd(struct ipc_conn *, struct ipc_msg *);
static void	delivery_parent_verbose(struct ipc_conn *, struct ipc_msg *);
static void	delivery_queue_start(struct ipc_conn *, struct ipc_msg *);
static void	delivery_schedule(void);
static void	delivery_stop(void);
static void	delivery_stopped(void);

static const struct delivery_handler delivery_parent_handlers[] = {
	{ MSG_PARENT_PEER_FD,		1,	delivery_parent_peer_fd },
	{ MSG_PARENT_LOG_VERBOSE,	0,	delivery_parent_verbose },
};
static const struct delivery_handler delivery_queue_handlers[] = {
	{ MSG_QUEUE_DELIVERY_START,	1,	delivery_queue_start },
};

/*
 * Pure helpers, unit-tested.
 */

int
delivery_evpid_valid(const char *s)
{
	size_t	 i, n;

	for (i = 0; i < 16; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return -1;
	if (s[16] != '.')
		return -1;
	for (n = 0, s += 17; s[n] != '\0'; n++)
		if (s[n] < '0' || s[n] > '9')
			return -1;
	return n >= 1 && n <= 10 ? 0 : -1;
}

int
delivery_home_valid(const char *home, const char **errstr)
{
	const char	*p, *c;
	size_t		 len = strlen(home);

	if (home[0] != '/') {
		*errstr = "mail home is not an absolute path";
		return -1;
	}
	/* <home>/Maildir/new/<name> must fit in a path. */
	if (len + sizeof("/Maildir/new/") + MAILDIR_NAME_MAX_BYTES >=
	    PATH_MAX) {
		*errstr = "mail home path too long";
		return -1;
	}
	for (p = home; *p != '\0'; p++)
		if ((unsigned char)*p < ' ' || *p == 0x7f) {
			*errstr = "control character in mail home";
			return -1;
		}
	for (p = home; p != NULL; p = strchr(p + 1, '/')) {
		c = p + 1;
		if ((c[0] == '.' && (c[1] == '/' || c[1] == '\0')) ||
		    (c[0] == '.' && c[1] == '.' &&
		    (c[2] == '/' || c[2] == '\0'))) {
			*errstr = "dot component in mail home";
			return -1;
		}
	}
	return 0;
}

/*
 * The life of a delivery.
 */

static struct delivery_list *
delivery_list_of(enum delivery_state state)
{
	switch (state) {
	case D_LOOKUP:
		return &agent.lookups;
	case D_PENDING:
		return &agent.pending;
	case D_RUNNING:
		return &agent.running;
	default:
		return NULL;
	}
}

/* Moves d to another state's list, keeping the counters. */
static void
delivery_set_state(struct delivery *d, enum delivery_state state)
{
	static const char *const names[] = { "new", "lookup", "pending",
	    "running" };
	struct delivery_list	*l;

	if ((l = delivery_list_of(d->state)) != NULL)
		TAILQ_REMOVE(l, d, entry);
	if (d->state == D_LOOKUP || d->state == D_PENDING)
		agent.nwaiting--;
	else if (d->state == D_RUNNING)
		agent.nrunning--;
	d->state = state;
	if ((l = delivery_list_of(state)) != NULL)
		TAILQ_INSERT_TAIL(l, d, entry);
	if (state == D_LOOKUP || state == D_PENDING)
		agent.nwaiting++;
	else if (state == D_RUNNING)
		agent.nrunning++;
	if (state != D_NEW)
		log_debug("%s delivery state=%s", d->evpid, names[state]);
}

static void
delivery_free(struct delivery *d)
{
	delivery_set_state(d, D_NEW);
	if (d->msgfd != -1)
		(void)close(d->msgfd);
	if (d->reportfd != -1)
		(void)close(d->reportfd);
	if (d->ev_timer != NULL)
		event_free(d->ev_timer);
	free(d);
}

/* Answers the manager, if it is still the one that asked. */
static void
delivery_reply(const struct delivery *d, int result, const char *text)
{
	static struct ipc_out	 o;

	if (agent.queue == NULL || d->gen != agent.queue_gen) {
		log_debug("%s delivery result-dropped reason=manager-gone",
		    d->evpid);
		return;
	}
	ipc_out_init(&o, MSG_DELIVERY_RESULT, d->peerid);
	ipc_put_str(&o, d->evpid);
	ipc_put_u32(&o, (uint32_t)result);
	ipc_put_str(&o, text);
	if (ipc_conn_send(agent.queue, &o, -1) == -1)
		log_warnx("%s delivery result-lost", d->evpid);
}

/* The user name, safe for a log line (it may be what we refused). */
static const char *
delivery_user_vis(const struct delivery *d)
{
	static char	 buf[4 * sizeof(d->user)];

	return log_vis(buf, sizeof(buf), d->user, strlen(d->user));
}

/* Logs the outcome, answers, and frees d. */
static void
delivery_end(struct delivery *d, int result, const char *text)
{
	if (result == RESULT_OK)
		log_info("%s delivery ok user=%s path=%s", d->evpid,
		    delivery_user_vis(d), text);
	else
		log_info("%s delivery %s user=%s error=%s", d->evpid,
		    result == RESULT_PERMFAIL ? "permfail" : "tempfail",
		    delivery_user_vis(d), text);
	delivery_reply(d, result, result == RESULT_OK ? "" : text);
	delivery_free(d);
}

/* Drops every waiting delivery, answering each with a tempfail. */
static void
delivery_end_waiting(struct delivery_list *l, const char *why)
{
	struct delivery	*d;

	while ((d = TAILQ_FIRST(l)) != NULL)
		delivery_end(d, RESULT_TEMPFAIL, why);
}

static void
delivery_timer_set(struct delivery *d, int secs)
{
	struct timeval	 tv = { secs, 0 };

	if (evtimer_add(d->ev_timer, &tv) == -1)
		fatalx("delivery evtimer_add");
}

static void
delivery_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct delivery	*d = arg;

	(void)fd;
	(void)ev;
	if (d->state == D_LOOKUP)
		delivery_end(d, RESULT_TEMPFAIL,
		    "4.4.3 user lookup timed out");
	else if (d->state == D_RUNNING && !d->timedout) {
		log_warnx("%s delivery timeout pid=%ld secs=%d", d->evpid,
		    (long)d->pid, DELIVERY_TIMEOUT_SECS);
		d->timedout = 1;
		(void)kill(d->pid, SIGKILL);
	}
}

static void
delivery_schedule(void)
{
	struct delivery	*d;
	char		 err[QUEUE_ERROR_MAX_BYTES];

	while (!agent.stopping && agent.nrunning < QUEUE_DELIVERIES_MAX &&
	    (d = TAILQ_FIRST(&agent.pending)) != NULL) {
		if (delivery_fork(d, agent.conf->hostname, err,
		    sizeof(err)) == -1) {
			delivery_end(d, RESULT_TEMPFAIL, err);
			continue;
		}
		delivery_set_state(d, D_RUNNING);
		delivery_timer_set(d, DELIVERY_TIMEOUT_SECS);
		log_debug("%s delivery started user=%s uid=%ld pid=%ld",
		    d->evpid, d->user, (long)d->uid, (long)d->pid);
	}
}

static void
delivery_sigchld(evutil_socket_t sig, short ev, void *arg)
{
	struct delivery	*d;
	char		 text[QUEUE_ERROR_MAX_BYTES];
	pid_t		 pid;
	int		 status, result;

	(void)sig;
	(void)ev;
	(void)arg;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		TAILQ_FOREACH(d, &agent.running, entry)
			if (d->pid == pid)
				break;
		if (d == NULL) {
			log_warnx("- delivery unknown-child pid=%ld",
			    (long)pid);
			continue;
		}
		result = delivery_collect(d, status, text, sizeof(text));
		delivery_end(d, result, text);
	}
	delivery_schedule();
	if (agent.stopping && agent.nrunning == 0)
		delivery_stopped();
}

/*
 * The manager has gone (or been replaced): kill its running children and
 * forget its waiting deliveries.  It puts all of them back into its
 * schedule; a child allowed to finish now would deliver a second copy.
 */
static void
delivery_forget(void)
{
	struct delivery		*d;
	struct delivery_list	*lists[] = { &agent.lookups, &agent.pending };
	size_t			 i;

	for (i = 0; i < 2; i++)
		while ((d = TAILQ_FIRST(lists[i])) != NULL) {
			log_info("%s delivery forgotten user=%s "
			    "reason=manager-gone", d->evpid,
			    delivery_user_vis(d));
			delivery_free(d);
		}
	TAILQ_FOREACH(d, &agent.running, entry)
		if (d->gen == agent.queue_gen)
			(void)kill(d->pid, SIGKILL);
	agent.queue_gen++;
}

/*
 * The queue manager.
 */

/* Reads DELIVERY_START into a new delivery; NULL when malformed. */
static struct delivery *
delivery_parse(struct ipc_msg *m)
{
	struct delivery	*d;
	struct stat	 st;
	int		 fl;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		fatal("delivery calloc");
	d->msgfd = d->reportfd = -1;
	if (ipc_get_str(m, d->evpid, sizeof(d->evpid)) == -1 ||
	    ipc_get_str(m, d->user, sizeof(d->user)) == -1 ||
	    ipc_get_str(m, d->sender, sizeof(d->sender)) == -1 ||
	    ipc_get_str(m, d->rcpt, sizeof(d->rcpt)) == -1 ||
	    ipc_get_end(m) == -1 || delivery_evpid_valid(d->evpid) == -1)
		goto bad;
	/* The child, as the user, gets this descriptor: read-only only. */
	if (fstat(m->fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (fl = fcntl(m->fd, F_GETFL)) == -1 ||
	    (fl & O_ACCMODE) != O_RDONLY)
		goto bad;
	d->msgfd = m->fd;
	m->fd = -1;
	d->peerid = m->hdr.peerid;
	d->gen = agent.queue_gen;
	if ((d->ev_timer = evtimer_new(agent.base, delivery_timeout,
	    d)) == NULL)
		fatalx("delivery evtimer_new");
	return d;
bad:
	free(d);
	return NULL;
}

static int
delivery_in_flight(const char *evpid)
{
	struct delivery_list	*lists[] = { &agent.lookups, &agent.pending,
				    &agent.running };
	struct delivery		*d;
	size_t			 i;

	for (i = 0; i < 3; i++)
		TAILQ_FOREACH(d, lists[i], entry)
			if (d->gen == agent.queue_gen &&
			    strcmp(d->evpid, evpid) == 0)
				return 1;
	return 0;
}

/* What can be refused before asking authd; RESULT_OK to go on. */
static int
delivery_check(const struct delivery *d, const char **why)
{
	static char		 buf[QUEUE_ERROR_MAX_BYTES];
	const unsigned char	*p;
	const char		*errstr, *status = NULL;

	*why = "5.1.1 invalid user name";
	if (d->user[0] == '\0')
		return RESULT_PERMFAIL;
	for (p = (const unsigned char *)d->user; *p != '\0'; p++)
		if (*p <= ' ' || *p == 0x7f)
			return RESULT_PERMFAIL;
	/* RFC 3463 3.2: 5.1.7 bad sender, 5.1.3 bad recipient syntax. */
	if (maildir_addr_valid(d->sender, 1, &errstr) == -1)
		status = "5.1.7";
	else if (maildir_addr_valid(d->rcpt, 0, &errstr) == -1)
		status = "5.1.3";
	if (status != NULL) {
		(void)snprintf(buf, sizeof(buf), "%s %s", status, errstr);
		*why = buf;
		return RESULT_PERMFAIL;
	}
	*why = agent.stopping ? "4.3.2 shutting down" :
	    agent.nwaiting >= DELIVERY_PENDING_MAX ?
	    "4.3.1 too many deliveries waiting" : NULL;
	return *why == NULL ? RESULT_OK : RESULT_TEMPFAIL;
}

static void
delivery_lookup(struct delivery *d)
{
	if (++agent.next_id == 0)
		agent.next_id = 1;
	d->id = agent.next_id;
	if (delivery_authd_lookup(d->id, d->user) == -1) {
		delivery_end(d, RESULT_TEMPFAIL, "4.4.3 authd unavailable");
		return;
	}
	delivery_set_state(d, D_LOOKUP);
	delivery_timer_set(d, DELIVERY_LOOKUP_TIMEOUT_SECS);
}

static void
delivery_queue_start(struct ipc_conn *c, struct ipc_msg *m)
{
	struct delivery	*d;
	const char	*why;
	int		 r;

	if ((d = delivery_parse(m)) == NULL) {
		ipc_msg_clear(m);
		ipc_conn_close(c, "malformed DELIVERY_START");
		return;
	}
	if (delivery_in_flight(d->evpid)) {
		log_warnx("%s delivery duplicate", d->evpid);
		delivery_free(d);
		ipc_conn_close(c, "duplicate DELIVERY_START");
		return;
	}
	log_debug("%s delivery request user=%s", d->evpid,
	    delivery_user_vis(d));
	if ((r = delivery_check(d, &why)) != RESULT_OK)
		delivery_end(d, r, why);
	else
		delivery_lookup(d);
}

static void
delivery_queue_closed(struct ipc_conn *c, void *arg)
{
	(void)arg;
	if (c == agent.queue) {
		log_warnx("- delivery manager-closed running=%zu",
		    agent.nrunning);
		delivery_forget();
		agent.queue = NULL;
	}
	ipc_conn_free(c);
}

/*
 * authd's answers (the connection itself is in delivery_authd.c).
 */

/* Takes authd's answer for d: RESULT_OK when d may go on. */
static int
delivery_user_take(struct delivery *d, const struct delivery_pw *pw,
    const char **why)
{
	static char	 buf[QUEUE_ERROR_MAX_BYTES];
	const char	*errstr;

	if (pw->result == RESULT_TEMPFAIL) {
		*why = "4.4.3 user lookup failed temporarily";
		return RESULT_TEMPFAIL;
	}
	if (pw->result == RESULT_PERMFAIL) {
		*why = "5.1.1 unknown user";
		return RESULT_PERMFAIL;
	}
	/* A users table that says root is broken: wait for a fix. */
	if (pw->uid == 0 || pw->gid == 0) {
		*why = "4.3.5 refused: mailbox owned by root";
		log_warnx("%s delivery refused user=%s reason=root",
		    d->evpid, d->user);
		return RESULT_TEMPFAIL;
	}
	if (delivery_home_valid(pw->home, &errstr) == -1) {
		log_warnx("%s delivery refused user=%s reason=home", d->evpid,
		    d->user);
		(void)snprintf(buf, sizeof(buf), "4.3.5 %s", errstr);
		*why = buf;
		return RESULT_TEMPFAIL;
	}
	d->uid = (uid_t)pw->uid;
	d->gid = (gid_t)pw->gid;
	(void)strlcpy(d->home, pw->home, sizeof(d->home));
	return RESULT_OK;
}

int
delivery_lookup_done(uint32_t id, const struct delivery_pw *pw)
{
	struct delivery	*d;
	const char	*why;
	int		 r;

	TAILQ_FOREACH(d, &agent.lookups, entry)
		if (d->id == id)
			break;
	/* A lookup forgotten with its manager may still be answered. */
	if (d == NULL) {
		log_debug("- delivery stale-lookup id=%u", id);
		return 0;
	}
	if (pw->result == RESULT_OK && strcmp(pw->user, d->user) != 0)
		return -1;
	(void)evtimer_del(d->ev_timer);
	if ((r = delivery_user_take(d, pw, &why)) != RESULT_OK) {
		delivery_end(d, r, why);
		return 0;
	}
	delivery_set_state(d, D_PENDING);
	delivery_schedule();
	return 0;
}

void
delivery_lookup_lost(void)
{
	delivery_end_waiting(&agent.lookups, "4.4.3 authd unavailable");
}

/*
 * Dispatch: one table per peer.
 */

const struct delivery_handler *
delivery_handler_find(const struct delivery_handler *t, size_t n,
    const struct ipc_msg *m)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (t[i].type == m->hdr.type)
			return (t[i].wantfd == (m->fd != -1)) ? &t[i] : NULL;
	return NULL;
}

static void
delivery_parent_dispatch(struct ipc_conn *c, struct ipc_msg *m, void *arg)
{
	const struct delivery_handler	*h;

	(void)arg;
	h = delivery_handler_find(delivery_parent_handlers,
	    DELIVERY_NHANDLERS(delivery_parent_handlers), m);
	if (h == NULL)
		fatalx("- delivery unexpected message from parent type=%s",
		    ipc_type_name(m->hdr.type));
	h->fn(c, m);
}

static void
delivery_queue_dispatch(struct ipc_conn *c, struct ipc_msg *m, void *arg)
{
	const struct delivery_handler	*h;

	(void)arg;
	h = delivery_handler_find(delivery_queue_handlers,
	    DELIVERY_NHANDLERS(delivery_queue_handlers), m);
	if (h == NULL) {
		log_warnx("- delivery unexpected message from manager type=%s",
		    ipc_type_name(m->hdr.type));
		ipc_msg_clear(m);
		ipc_conn_close(c, "unexpected message");
		return;
	}
	h->fn(c, m);
}

/*
 * The parent.
 */

static void
delivery_parent_peer_fd(struct ipc_conn *c, struct ipc_msg *m)
{
	uint32_t	 role;

	(void)c;
	if (ipc_get_u32(m, &role) == -1 || ipc_get_end(m) == -1 ||
	    role != ROLE_QUEUED)
		fatalx("- delivery malformed PARENT_PEER_FD");
	if (agent.queue != NULL) {
		log_info("- delivery manager-replaced running=%zu",
		    agent.nrunning);
		delivery_forget();
		ipc_conn_close(agent.queue, NULL);
	}
	agent.queue = ipc_conn_new(agent.base, m->fd, ROLE_DELIVERY,
	    ROLE_BIT(ROLE_QUEUED), delivery_queue_dispatch,
	    delivery_queue_closed, NULL);
	if (agent.queue == NULL)
		fatalx("- delivery ipc_conn_new manager");
	m->fd = -1;
	log_info("- delivery manager-connected");
}

static void
delivery_parent_verbose(struct ipc_conn *c, struct ipc_msg *m)
{
	uint32_t	 verbose;

	(void)c;
	if (ipc_get_u32(m, &verbose) == -1 || ipc_get_end(m) == -1)
		fatalx("- delivery malformed PARENT_LOG_VERBOSE");
	log_setverbose(verbose != 0);
}

static void
delivery_parent_closed(struct ipc_conn *c, void *arg)
{
	(void)arg;
	ipc_conn_free(c);
	agent.parent = NULL;
	log_warnx("- delivery parent-closed");
	delivery_stop();
}

/*
 * Stopping: SIGTERM, or the parent gone.  Waiting deliveries are answered
 * tempfail at once; running children get DELIVERY_STOP_WAIT_SECS to
 * finish (a child killed midway leaves a file in tmp/, and the manager
 * delivers again), then SIGKILL.
 */

static void
delivery_stop(void)
{
	struct timeval	 tv = { DELIVERY_STOP_WAIT_SECS, 0 };

	if (agent.stopping)
		return;
	agent.stopping = 1;
	log_info("- delivery stopping running=%zu", agent.nrunning);
	delivery_authd_stop();
	delivery_end_waiting(&agent.lookups, "4.3.2 shutting down");
	delivery_end_waiting(&agent.pending, "4.3.2 shutting down");
	if (agent.nrunning == 0)
		delivery_stopped();
	else
		(void)evtimer_add(agent.ev_stop, &tv);
}

static void
delivery_stop_timeout(evutil_socket_t fd, short ev, void *arg)
{
	static int	 killed;
	struct timeval	 tv = { 1, 0 };
	struct delivery	*d;

	(void)fd;
	(void)ev;
	(void)arg;
	if (killed) {
		log_warnx("- delivery exit unreaped=%zu", agent.nrunning);
		exit(0);
	}
	killed = 1;
	TAILQ_FOREACH(d, &agent.running, entry) {
		log_warnx("%s delivery kill pid=%ld reason=stopping",
		    d->evpid, (long)d->pid);
		(void)kill(d->pid, SIGKILL);
	}
	(void)evtimer_add(agent.ev_stop, &tv);
}

/* No child is left: let the last results go out, then leave the loop. */
static void
delivery_stopped(void)
{
	struct timeval	 tv = { 0, 500000 };

	(void)event_base_loopexit(agent.base, &tv);
}

static void
delivery_sigterm(evutil_socket_t sig, short ev, void *arg)
{
	(void)sig;
	(void)ev;
	(void)arg;
	delivery_stop();
}

static void
delivery_signals(void)
{
	static struct event	*evs[3];
	const int		 sigs[3] = { SIGCHLD, SIGTERM, SIGINT };
	size_t			 i;

	(void)signal(SIGPIPE, SIG_IGN);
	(void)signal(SIGHUP, SIG_IGN);
	(void)signal(SIGUSR1, SIG_IGN);
	(void)signal(SIGUSR2, SIG_IGN);
	for (i = 0; i < 3; i++) {
		evs[i] = evsignal_new(agent.base, sigs[i], i == 0 ?
		    delivery_sigchld : delivery_sigterm, NULL);
		if (evs[i] == NULL || evsignal_add(evs[i], NULL) == -1)
			fatalx("delivery evsignal");
	}
}

/*
 * libevent's own messages, into our log.  Its warning that another base
 * (the parent's, inherited through fork) had signals is expected here:
 * this process's base is the only one that runs.
 */
static void
delivery_libevent_log(int severity, const char *msg)
{
	if (severity >= EVENT_LOG_ERR)
		log_warnx("- delivery libevent %s", msg);
	else
		log_debug("- delivery libevent %s", msg);
}

void
delivery_main(int parentfd, void *arg)
{
	event_set_log_callback(delivery_libevent_log);
	agent.conf = arg;
	TAILQ_INIT(&agent.lookups);
	TAILQ_INIT(&agent.pending);
	TAILQ_INIT(&agent.running);
	if ((agent.base = event_base_new()) == NULL)
		fatalx("delivery event_base_new");
	delivery_signals();
	if ((agent.ev_stop = evtimer_new(agent.base, delivery_stop_timeout,
	    NULL)) == NULL)
		fatalx("delivery evtimer_new");
	agent.parent = ipc_conn_new(agent.base, parentfd, ROLE_DELIVERY,
	    ROLE_BIT(ROLE_PARENT), delivery_parent_dispatch,
	    delivery_parent_closed, NULL);
	if (agent.parent == NULL)
		fatalx("delivery ipc_conn_new parent");
	delivery_authd_init(agent.base, agent.conf);
	log_info("- delivery started pid=%ld", (long)getpid());
	(void)event_base_dispatch(agent.base);
	log_info("- delivery exiting");
	exit(0);
}
