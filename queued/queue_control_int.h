/*
 * What the files of control.sock share (queue_control.c: connections,
 * the queue list, schedule and remove; queue_control_stats.c: show
 * stats and show hosts, with what the relay answers).
 */
#ifndef SALLYPORT_QUEUE_CONTROL_INT_H
#define SALLYPORT_QUEUE_CONTROL_INT_H

/* What ctl_apply's fn counts. */
struct ctl_count {
	int64_t		 now;
	uint32_t	 done;
	uint32_t	 busy;
	uint32_t	 failed;
	uint32_t	 pending;	/* writes in the sync threads */
	uint32_t	 client;	/* the ctl_client's id, for them */
};

struct ctl_client {
	TAILQ_ENTRY(ctl_client)	 entry;
	struct ipc_conn		*conn;
	uint32_t		 id;		/* asked of the parent */
	uint32_t		 peerid;	/* of the request under way */
	int			 busy;
	uint32_t		 relay_wait;	/* CTL_HOSTS, CTL_STATS, 0 */
	char			 cursor[QUEUE_EVPID_MAX_BYTES];
	struct event		*ev_list;
	/*
	 * A verb whose writes are out (ctl_apply_writes): its id, word,
	 * counts so far, what it does to each envelope, how many the id
	 * named so far, whether it named its last (cursor: the last).
	 */
	char			 apply_id[QUEUE_EVPID_MAX_BYTES];
	const char		*apply_verb;
	struct ctl_count	 apply;
	void			(*apply_fn)(struct qenv *, void *);
	uint32_t		 apply_seen;
	int			 apply_end;
};

TAILQ_HEAD(ctl_client_list, ctl_client);
extern struct ctl_client_list	 ctl_clients;

/* The request under way is answered: CTL_END. */
void	ctl_end(struct ctl_client *);
/* The request under way is answered: CTL_RESULT. */
void	ctl_result(struct ctl_client *, uint32_t result, uint32_t count,
	    const char *message);
/*
 * Calls fn for every envelope the request's id names and answers
 * CTL_RESULT with the counts ("N <verb>, N busy, N failed").
 */
void	ctl_apply(struct ctl_client *, void (*fn)(struct qenv *, void *),
	    const char *verb);
/*
 * The same for an fn that starts writes (c->pending): at most
 * QUEUE_CTL_WRITES_MAX out at a time, the answer after the last.
 */
void	ctl_apply_writes(struct ctl_client *,
	    void (*fn)(struct qenv *, void *), const char *verb);
/*
 * One write that fn started ended (failed or not): counted, and the
 * request answered when it was the last.  The client may have gone.
 */
void	ctl_write_done(uint32_t client, int failed);
/* The request's argument (str id or what), checked by the dispatcher. */
const char *ctl_arg(void);
/* "waiting", "active", "held", "paused" or "held,paused". */
const char *ctl_state_name(const struct qenv *);

/* MSG_CTL_STATS, MSG_CTL_HOSTS. */
void	ctl_stats(struct ctl_client *, struct ipc_msg *);
void	ctl_hosts(struct ctl_client *, struct ipc_msg *);
/* queue_control_show.c: MSG_CTL_ENVELOPE, MSG_CTL_MESSAGE. */
void	ctl_envelope(struct ctl_client *, struct ipc_msg *);
void	ctl_message(struct ctl_client *, struct ipc_msg *);
/* queue_control_verbs.c: the verbs that act on envelopes or roles. */
void	queue_ctl_pause(struct ctl_client *, struct ipc_msg *);
void	queue_ctl_resume(struct ctl_client *, struct ipc_msg *);
/* CTL_HOLD, CTL_RELEASE, CTL_EXPIRE, CTL_REQUEUE: by m's type. */
void	queue_ctl_envelopes(struct ctl_client *, struct ipc_msg *);

#endif
