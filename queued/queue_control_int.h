/*
 * What the files of control.sock share (queue_control.c: connections,
 * the queue list, schedule and remove; queue_control_stats.c: show
 * stats and show hosts, with what the relay answers).
 */
#ifndef SALLYPORT_QUEUE_CONTROL_INT_H
#define SALLYPORT_QUEUE_CONTROL_INT_H

struct ctl_client {
	TAILQ_ENTRY(ctl_client)	 entry;
	struct ipc_conn		*conn;
	uint32_t		 id;		/* asked of the parent */
	uint32_t		 peerid;	/* of the request under way */
	int			 busy;
	uint32_t		 relay_wait;	/* CTL_HOSTS, CTL_STATS, 0 */
	char			 cursor[QUEUE_EVPID_MAX_BYTES];
	struct event		*ev_list;
};

TAILQ_HEAD(ctl_client_list, ctl_client);
extern struct ctl_client_list	 ctl_clients;

/* The request under way is answered: CTL_END. */
void	ctl_end(struct ctl_client *);
/* The request under way is answered: CTL_RESULT. */
void	ctl_result(struct ctl_client *, uint32_t result, uint32_t count,
	    const char *message);
/* MSG_CTL_STATS, MSG_CTL_HOSTS. */
void	ctl_stats(struct ctl_client *, struct ipc_msg *);
void	ctl_hosts(struct ctl_client *, struct ipc_msg *);

#endif
