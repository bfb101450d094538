/*
 * queued: the processes of the queue daemon and what they share.
 *
 *   parent		root, no chroot: queued.c
 *   queue manager	user queue, chroot spool: queue_*.c
 *   delivery agent	root, only forks: delivery.c, delivery_user.c
 *
 * The parent binds queue.sock and control.sock, execs the manager and
 * the delivery agent with proc_new(), and connects the two children to
 * each other: at every (re)start of either child it makes a new
 * socketpair and sends one end to each child, on the child's parent
 * channel, with MSG_PARENT_PEER_FD (u32 role of the peer; fd).
 *
 * Contract of the delivery agent (delivery_main):
 *   - fd is its parent channel (peer role ROLE_PARENT).  On it, it
 *     receives MSG_PARENT_PEER_FD with role ROLE_QUEUED and a descriptor:
 *     its connection to the queue manager.  It may receive a new one at
 *     any time (the manager restarted); it then drops the old connection
 *     and uses the new one.  It may also receive MSG_PARENT_LOG_VERBOSE.
 *   - On the manager connection it speaks as ROLE_DELIVERY and accepts
 *     only ROLE_QUEUED: it receives MSG_QUEUE_DELIVERY_START and answers
 *     each with one MSG_DELIVERY_RESULT echoing the peerid.  When that
 *     connection closes, it forgets the pending results: the manager
 *     puts every delivery it had in flight back into its schedule.  A
 *     malformed or unexpected DELIVERY_RESULT makes the manager exit; it
 *     is restarted, and both children get a new pair.
 *   - It is exec'd (role delivery, daemon.h) with nothing of the
 *     parent's but its configuration and its channel, and execs each
 *     mailbox worker (role mailbox-worker) with nothing of its own but
 *     the worker's arguments and its end of a socketpair.
 */
#ifndef SALLYPORT_QUEUED_H
#define SALLYPORT_QUEUED_H

#include <sys/types.h>

struct config;

/* What the parent hands the queue manager. */
struct queued_env {
	struct config	*conf;
	uid_t		 uid;		/* user queue */
	gid_t		 gid;
	int		 queue_sock;	/* listening <rundir>/queue.sock */
	int		 control_sock;	/* listening <rundir>/control.sock */
};

struct daemon_ctx;

/* The delivery agent: root parent that execs a mailbox worker per user. */
void	delivery_main(int parentfd, void *arg /* struct config * */);

/*
 * The relay (relay.c): reads its CA files, secrets and resolver setup,
 * chroots into the empty directory as user relay; never returns.
 */
/*
 * The relay's MTA-STS helper (relay_sts_proc.c): reads the CA file
 * (NULL: the system's bundle), chroots into the empty directory as
 * user relay; fetches policies for the relay; never returns.
 */
void	relay_sts_proc_main(int parentfd, const struct config *,
	    const char *cafile) __attribute__((noreturn));
void	relay_main(int parentfd, const struct config *)
	    __attribute__((noreturn));

/* The queue manager: drops to user queue, chrooted into the spool. */
void	queue_manager_main(int parentfd, void *arg /* struct queued_env * */);

/*
 * The role mailbox-worker (daemon.h, delivery_fork.c): its arguments,
 * then its end of the socketpair.  Drops to the user; never returns.
 */
void	delivery_fork_worker_main(struct daemon_ctx *)
	    __attribute__((noreturn));

#endif
