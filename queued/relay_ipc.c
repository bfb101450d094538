/*
 * The relay's side of the queue manager (common/proto.h, "Queue manager
 * and relay"), on the socketpair the parent passes (PARENT_PEER_FD):
 * RELAY_START becomes a batch for the pool, each answered by one
 * RELAY_RESULT; RELAY_HOSTS and RELAY_STATS are answered at once.
 *
 * The manager is not trusted: a malformed RELAY_START (a length, a
 * flag, a rcpt of another domain, a descriptor that is not a read-only
 * regular file) ends its connection.  When it goes away (or a new one
 * replaces it), its batches still waiting are forgotten and those being
 * sent finish without an answer: the manager retries all of them
 * (queue_flight_requeue), so a message whose 250 came in between may be
 * sent twice, never lost.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ipc.h"
#include "log.h"
#include "proto.h"
#include "relay.h"

static struct ipc_conn	*manager;
static unsigned int	 manager_gen;
static struct ipc_out	 out;

static void	relay_ipc_start(struct ipc_conn *, struct ipc_msg *);
static void	relay_ipc_hosts(struct ipc_conn *, struct ipc_msg *);
static void	relay_ipc_stats(struct ipc_conn *, struct ipc_msg *);

static const struct {
	uint32_t	 type;
	int		 wantfd;
	void		(*fn)(struct ipc_conn *, struct ipc_msg *);
} relay_ipc_handlers[] = {
	{ MSG_QUEUE_RELAY_START,	1,	relay_ipc_start },
	{ MSG_QUEUE_RELAY_HOSTS,	0,	relay_ipc_hosts },
	{ MSG_QUEUE_RELAY_STATS,	0,	relay_ipc_stats },
};

/*
 * 1 when the stored message has a byte past 127 (BODY=8BITMIME), 0
 * when not, -1 on a read error.  Read in blocks with pread: the
 * descriptor's offset stays at 0 for the SMTP client.
 */
static int
relay_ipc_8bit(int fd)
{
	char	 buf[RELAY_DATA_BUF_BYTES];
	off_t	 off = 0;
	ssize_t	 n, i;

	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		for (i = 0; i < n; i++)
			if ((unsigned char)buf[i] & 0x80)
				return 1;
		off += n;
	}
	return n == 0 ? 0 : -1;
}

/* "type;addr" decoded, as RFC 3461 4.2 sends it: "type;" xtext. */
static int
relay_ipc_orcpt(const char *in, char *dst, size_t dstlen)
{
	const char	*semi;
	size_t		 n;

	if (in[0] == '\0') {
		dst[0] = '\0';
		return 0;
	}
	if ((semi = strchr(in, ';')) == NULL ||
	    (n = (size_t)(semi - in) + 1) >= dstlen)
		return -1;
	memcpy(dst, in, n);
	return relay_xtext(semi + 1, dst + n, dstlen - n);
}

/* 1 when rcpt's domain is domain (any case). */
static int
relay_ipc_rcpt_of(const char *rcpt, const char *domain)
{
	const char	*at = strrchr(rcpt, '@');

	return at != NULL && at != rcpt && strcasecmp(at + 1, domain) == 0;
}

static int
relay_ipc_parse_rcpt(struct ipc_msg *m, struct relay_batch *b, size_t i)
{
	struct relay_brcpt	*r = &b->rcpts[i];
	struct relay_rcpt	*mr = &b->mrcpts[i];
	char			 orcpt[DSN_ORCPT_MAX_BYTES + 1];

	if (ipc_get_str(m, r->evpid, sizeof(r->evpid)) == -1 ||
	    ipc_get_str(m, r->rcpt, sizeof(r->rcpt)) == -1 ||
	    ipc_get_u32(m, &r->notify) == -1 ||
	    ipc_get_str(m, orcpt, sizeof(orcpt)) == -1 ||
	    r->evpid[0] == '\0' || !relay_ipc_rcpt_of(r->rcpt, b->domain) ||
	    (r->notify != 0 && !dsn_notify_valid(r->notify)) ||
	    relay_ipc_orcpt(orcpt, r->orcpt, sizeof(r->orcpt)) == -1)
		return -1;
	mr->addr = r->rcpt;
	if (r->notify != 0) {
		if (dsn_notify_format(r->notify, r->notify_s,
		    sizeof(r->notify_s)) == -1)
			return -1;
		mr->notify = r->notify_s;
	}
	mr->orcpt = r->orcpt[0] != '\0' ? r->orcpt : NULL;
	return 0;
}

/* RELAY_START into a new batch; NULL when malformed. */
static struct relay_batch *
relay_ipc_parse(struct ipc_msg *m)
{
	struct relay_batch	*b;
	char			 envid[DSN_ENVID_MAX_BYTES + 1];
	uint32_t		 n;
	size_t			 i;
	struct stat		 st;
	int			 fl, eight;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		fatal("- relay calloc");
	b->fd = -1;
	TAILQ_INIT(&b->merged);
	if (ipc_get_str(m, b->msgid, sizeof(b->msgid)) == -1 ||
	    ipc_get_str(m, b->domain, sizeof(b->domain)) == -1 ||
	    ipc_get_str(m, b->sender, sizeof(b->sender)) == -1 ||
	    ipc_get_u32(m, &b->flags) == -1 ||
	    ipc_get_u32(m, &b->ret) == -1 ||
	    ipc_get_str(m, envid, sizeof(envid)) == -1 ||
	    ipc_get_u64(m, &b->size) == -1 || ipc_get_u32(m, &n) == -1 ||
	    b->msgid[0] == '\0' || b->domain[0] == '\0' ||
	    (b->flags & ~RELAY_START_F_ALL) != 0 || b->ret > DSN_RET_HDRS ||
	    n == 0 || n > relay_env.conf->relay_rcpts_per_txn ||
	    n > SMTP_RCPT_MAX ||
	    relay_xtext(envid, b->envid, sizeof(b->envid)) == -1)
		goto bad;
	if ((b->rcpts = calloc(n, sizeof(*b->rcpts))) == NULL ||
	    (b->mrcpts = calloc(n, sizeof(*b->mrcpts))) == NULL)
		fatal("- relay calloc");
	b->nrcpt = b->own = n;
	for (i = 0; i < n; i++)
		if (relay_ipc_parse_rcpt(m, b, i) == -1)
			goto bad;
	if (ipc_get_end(m) == -1)
		goto bad;
	/* The message as stored: a regular file we may only read. */
	if (fstat(m->fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (fl = fcntl(m->fd, F_GETFL)) == -1 ||
	    (fl & O_ACCMODE) != O_RDONLY || (eight = relay_ipc_8bit(m->fd)) ==
	    -1)
		goto bad;
	b->fd = m->fd;
	m->fd = -1;
	b->peerid = m->hdr.peerid;
	b->gen = manager_gen;
	b->msg.fd = b->fd;
	b->msg.size = (off_t)st.st_size;
	b->msg.sender = b->sender;
	b->msg.ret = b->ret != DSN_RET_NONE ? dsn_ret_name(b->ret) : NULL;
	b->msg.envid = b->envid[0] != '\0' ? b->envid : NULL;
	b->msg.flags = ((b->flags & RELAY_START_F_SMTPUTF8) ?
	    RELAY_MSG_SMTPUTF8 : 0) | (eight ? RELAY_MSG_8BIT : 0);
	b->msg.rcpts = b->mrcpts;
	b->msg.nrcpts = b->nrcpt;
	return b;
bad:
	relay_batch_free(b);
	return NULL;
}

static void
relay_ipc_start(struct ipc_conn *c, struct ipc_msg *m)
{
	struct relay_batch	*b;

	if ((b = relay_ipc_parse(m)) == NULL) {
		log_warnx("- relay malformed RELAY_START from manager");
		ipc_msg_clear(m);
		ipc_conn_close(c, "malformed RELAY_START");
		return;
	}
	log_debug("%s relay start domain=%s rcpts=%zu%s", b->msgid,
	    b->domain, b->nrcpt, (b->flags & RELAY_START_F_RECOVERED) ?
	    " recovered=yes" : "");
	relay_pool_submit(b);
}

static const char *
relay_ipc_word(uint32_t result)
{
	return result == RESULT_OK ? "sent" : result == RESULT_PERMFAIL ?
	    "bounced" : "deferred";
}

void
relay_ipc_result(struct relay_batch *b)
{
	struct relay_brcpt	*r;
	char			 vis[RELAY_DIAG_MAX_BYTES * 4];
	size_t			 i;

	relay_batch_split(b, relay_ipc_result);
	relay_env.counters[RC_MESSAGES]++;
	ipc_out_init(&out, MSG_RELAY_RESULT, b->peerid);
	ipc_put_u32(&out, (uint32_t)b->nrcpt);
	for (i = 0; i < b->nrcpt; i++) {
		r = &b->rcpts[i];
		relay_env.counters[r->result == RESULT_OK ? RC_RELAYED :
		    r->result == RESULT_PERMFAIL ? RC_BOUNCED :
		    RC_DEFERRED]++;
		log_info("%s relay %s to=<%s> relay=%s status=%s tls=%s "
		    "reply=\"%s\"", r->evpid, relay_ipc_word(r->result),
		    r->rcpt, r->remote[0] != '\0' ? r->remote : "none",
		    r->status, (r->flags & RELAY_RCPT_F_TLS) ? "yes" : "no",
		    log_vis(vis, sizeof(vis), r->diag, strlen(r->diag)));
		ipc_put_str(&out, r->evpid);
		ipc_put_u32(&out, r->result);
		ipc_put_u32(&out, r->flags);
		ipc_put_str(&out, r->status);
		ipc_put_str(&out, r->remote);
		ipc_put_str(&out, r->diag);
	}
	if (manager != NULL && b->gen == manager_gen)
		(void)ipc_conn_send(manager, &out, -1);
	else
		log_info("%s relay result-dropped reason=manager-gone",
		    b->msgid);
	relay_batch_free(b);
}

static void
relay_ipc_host(const char *key, uint32_t conns, uint32_t queued,
    uint32_t active, uint64_t backoff_until, const char *last_error,
    void *arg)
{
	uint32_t	 peerid = *(uint32_t *)arg;

	ipc_out_init(&out, MSG_RELAY_HOST, peerid);
	ipc_put_str(&out, key);
	ipc_put_u32(&out, conns);
	ipc_put_u32(&out, queued);
	ipc_put_u32(&out, active);
	ipc_put_u64(&out, backoff_until);
	ipc_put_str(&out, last_error);
	(void)ipc_conn_send(manager, &out, -1);
}

static void
relay_ipc_hosts(struct ipc_conn *c, struct ipc_msg *m)
{
	uint32_t	 peerid = m->hdr.peerid;

	if (ipc_get_end(m) == -1) {
		ipc_conn_close(c, "malformed RELAY_HOSTS");
		return;
	}
	relay_pool_hosts(relay_ipc_host, &peerid);
	(void)ipc_conn_send_empty(c, MSG_RELAY_HOSTS_END, peerid);
}

static void
relay_ipc_stats(struct ipc_conn *c, struct ipc_msg *m)
{
	size_t	 i;

	if (ipc_get_end(m) == -1) {
		ipc_conn_close(c, "malformed RELAY_STATS");
		return;
	}
	for (i = 0; i < RC_MAX; i++) {
		ipc_out_init(&out, MSG_RELAY_STAT, m->hdr.peerid);
		ipc_put_str(&out, relay_counter_name((enum relay_counter)i));
		ipc_put_u64(&out, relay_env.counters[i]);
		(void)ipc_conn_send(c, &out, -1);
	}
	(void)ipc_conn_send_empty(c, MSG_RELAY_STATS_END, m->hdr.peerid);
}

static void
relay_ipc_dispatch(struct ipc_conn *c, struct ipc_msg *m, void *arg)
{
	size_t	 i, n = sizeof(relay_ipc_handlers) /
		    sizeof(relay_ipc_handlers[0]);

	(void)arg;
	for (i = 0; i < n; i++)
		if (relay_ipc_handlers[i].type == m->hdr.type)
			break;
	if (i == n || relay_ipc_handlers[i].wantfd != (m->fd != -1)) {
		log_warnx("- relay unexpected message from manager type=%s",
		    ipc_type_name(m->hdr.type));
		ipc_msg_clear(m);
		ipc_conn_close(c, "unexpected message");
		return;
	}
	relay_ipc_handlers[i].fn(c, m);
}

/* The manager is gone: its waiting batches are dropped, unanswered. */
static void
relay_ipc_forget(void)
{
	relay_pool_forget(manager_gen);
	manager_gen++;
}

static void
relay_ipc_closed(struct ipc_conn *c, void *arg)
{
	(void)arg;
	if (c == manager) {
		log_warnx("- relay manager-closed");
		relay_ipc_forget();
		manager = NULL;
	}
	ipc_conn_free(c);
}

void
relay_ipc_manager(int fd)
{
	if (manager != NULL) {
		log_info("- relay manager-replaced");
		ipc_conn_free(manager);
		manager = NULL;
		relay_ipc_forget();
	}
	manager = ipc_conn_new(relay_env.base, fd, ROLE_RELAY,
	    ROLE_BIT(ROLE_QUEUED), relay_ipc_dispatch, relay_ipc_closed,
	    NULL);
	if (manager == NULL)
		fatalx("- relay ipc_conn_new manager");
	log_debug("- relay manager-connected");
}
