/* The relay's pool, inside: what relay_pool.c shares with relay_conn.c. */
#ifndef SALLYPORT_RELAY_POOL_INT_H
#define SALLYPORT_RELAY_POOL_INT_H

#include "relay.h"
#include "relay_sts.h"

/* A destination: one domain by MX, or one smarthost. */
struct relay_dest {
	RB_ENTRY(relay_dest)	 node;
	struct relay_target	 t;
	struct relay_batches	 queue;		/* waiting for a connection */
	uint32_t		 nqueued;
	TAILQ_HEAD(, relay_conn) conns;
	uint32_t		 nconns;
	uint32_t		 nactive;	/* batches being sent */
	int			 reached;	/* a session was ready, and
						   none failed to connect since */
	time_t			 backoff_until;	/* 0: none */
	uint32_t		 backoff_secs;	/* the last one */
	char			 last_error[RELAY_DIAG_MAX_BYTES];
	/* Waits for one of the relay_conns_max slots (relay_pool.c). */
	TAILQ_ENTRY(relay_dest)	 slot_entry;
	int			 slot_waiting;
};

enum relay_conn_state {
	RCS_STS,		/* waiting for relay_sts_lookup (by MX) */
	RCS_RESOLVING,		/* waiting for relay_dns_route */
	RCS_TLSA,		/* waiting for a host's TLSA records */
	RCS_CONNECTING,		/* connect(2) to one address */
	RCS_SESSION,		/* greeting, EHLO, STARTTLS */
	RCS_READY,		/* idle, or carrying batch */
};

struct relay_conn {
	TAILQ_ENTRY(relay_conn)	 entry;
	struct relay_dest	*d;
	enum relay_conn_state	 state;
	struct rdns_route	*route;
	size_t			 mx, ai;	/* the address being tried */
	/* DANE: the TLSA records of host tlsa_mx, when it is secure. */
	size_t			 tlsa_mx;	/* (size_t)-1: none asked */
	int			 tlsa_ok;	/* tlsa usable for DANE */
	struct rdns_tlsa	 tlsa;
	/* MTA-STS: the policy in force (enforce or testing), or NULL. */
	struct relay_sts_policy	*sts;
	int			 sts_failed;	/* TLS failed under enforce */
	int			 fd;
	struct event		*ev;
	struct relay_smtp	*smtp;
	struct relay_params	 p;
	char			 id[32];
	char			 addr[64];
	char			 relay[CONFIG_NAME_MAX + 80]; /* host[addr]:port */
	char			 last_error[RELAY_DIAG_MAX_BYTES];
	struct relay_batch	*batch;
	int			 nmsgs;
	int			 quitting;
	/* Ready with nothing to carry: a slot to give (relay_slot.c). */
	TAILQ_ENTRY(relay_conn)	 idle_entry;
	int			 idle;
};

/* relay_conn.c */
void	relay_conn_resolve(struct relay_conn *);
/* Tries the next address (skip_host: of the next host); 0 or -1. */
void	relay_conn_next(struct relay_conn *, int skip_host);
void	relay_conn_free(struct relay_conn *);
/* The host being tried: its name. */
const char *relay_conn_host(const struct relay_conn *);
/* The SMTP client's settings; -1 with why when AUTH has no secret. */
int	relay_conn_params(struct relay_conn *, struct relay_params *,
	    char *why, size_t whylen);
/* Its TLSA records when DANE applies, else NULL. */
const struct rdns_tlsa *relay_conn_dane(const struct relay_conn *);

/* relay_pool.c: what relay_conn.c reports. */
void	relay_pool_route_failed(struct relay_conn *,
	    const struct rdns_route *);
void	relay_pool_connected(struct relay_conn *);
void	relay_pool_unreachable(struct relay_conn *);
/* Gives d's waiting batches to its sessions, opens more when allowed. */
void	relay_pool_kick(struct relay_dest *);

/* relay_slot.c: the line for relay_conns_max's slots. */
void	relay_slot_init(void);
/* d wants a connection and every slot is taken: in line. */
void	relay_slot_wait(struct relay_dest *);
/* d is freed: out of the line. */
void	relay_slot_forget(struct relay_dest *);
/* A connection ended: its slot goes to the first in line. */
void	relay_slot_freed(void);
/* c is idle (ready, nothing to carry), or no longer. */
void	relay_slot_idle(struct relay_conn *, int);

#endif
