/*
 * The relay process (issue 9; doc/INTERNALS.md "The relay process"):
 * what its files share.  relay.c is the role (start, privileges, parent),
 * relay_ipc.c its side of the queue manager (RELAY_START, RELAY_RESULT,
 * RELAY_HOSTS, RELAY_STATS), relay_route.c the pure choices (the route
 * of a domain, the backoff, a result's status), relay_pool.c the
 * destinations and their connections, relay_batch.c batches of one
 * message put in one transaction, relay_conn.c the route, TLSA and
 * connect(2) of one connection.
 */
#ifndef SALLYPORT_RELAY_H
#define SALLYPORT_RELAY_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/tree.h>

#include <stdint.h>
#include <time.h>

#include "config.h"
#include "dsn.h"
#include "relay_dns.h"
#include "relay_smtp.h"
#include "secrets.h"
#include "sp_limits.h"

struct event_base;
struct relay_sts;
struct relay_dest;
struct relay_conn;

/* The sizes of what RELAY_START carries (queue.h's, restated). */
/* The system's CA bundle (Debian's ca-certificates), read before chroot. */
#define RELAY_CA_BUNDLE		"/etc/ssl/certs/ca-certificates.crt"
#define RELAY_ID_MAX_BYTES		64
#define RELAY_KEY_MAX_BYTES		(CONFIG_NAME_MAX + 16)
#define RELAY_DIAG_MAX_BYTES		(RELAY_REPLY_TEXT_MAX_BYTES + 64)
/* ENVID and ORCPT as xtext: each byte at most "+XX". */
#define RELAY_XTEXT_MAX_BYTES		(DSN_ORCPT_MAX_BYTES * 3 + 1)

/* Where one domain's mail goes: the route's rule, resolved. */
struct relay_target {
	char			 key[RELAY_KEY_MAX_BYTES]; /* destination */
	int			 via_host;	/* 0: by MX of domain */
	char			 domain[CONFIG_NAME_MAX];
	char			 host[CONFIG_NAME_MAX];	/* smarthost */
	uint16_t		 port;
	int			 numeric;	/* host is an address */
	int			 smtps;
	enum relay_tls_policy	 tls;
	const char		*ca_file;	/* the route's, or NULL */
	char			 auth[CONFIG_NAME_MAX];
	char			 helo[CONFIG_NAME_MAX];
	char			 source[64];
};

struct relay_brcpt {
	char			 evpid[RELAY_ID_MAX_BYTES];
	char			 rcpt[SMTP_PATH_MAX_BYTES + 1];
	uint32_t		 notify;
	char			 notify_s[DSN_NOTIFY_MAX_BYTES + 1];
	char			 orcpt[RELAY_XTEXT_MAX_BYTES];	/* xtext */
	/* The result. */
	int			 done;
	uint32_t		 result;	/* RESULT_* */
	uint32_t		 flags;		/* RELAY_RCPT_F_* */
	char			 status[16];
	char			 remote[CONFIG_NAME_MAX];
	char			 diag[RELAY_DIAG_MAX_BYTES];
};

/* One RELAY_START: a message for one domain, its rcpts. */
struct relay_batch {
	TAILQ_ENTRY(relay_batch) entry;
	uint32_t		 peerid;
	unsigned int		 gen;		/* the manager's connection */
	char			 msgid[RELAY_ID_MAX_BYTES];
	char			 domain[CONFIG_NAME_MAX];
	char			 sender[SMTP_PATH_MAX_BYTES + 1];
	uint32_t		 flags;		/* RELAY_START_F_* */
	uint32_t		 ret;
	char			 envid[RELAY_XTEXT_MAX_BYTES];	/* xtext */
	uint64_t		 size;
	int			 fd;
	size_t			 nrcpt;
	struct relay_brcpt	*rcpts;
	struct relay_rcpt	*mrcpts;	/* relay_smtp's view */
	struct relay_msg	 msg;
	/*
	 * Batches of the same message and domain sent in this one's
	 * transaction (relay_batch_merge): their rcpts follow this one's
	 * own in rcpts[], their results go back to them.
	 */
	size_t			 own;
	TAILQ_HEAD(, relay_batch) merged;
};
TAILQ_HEAD(relay_batches, relay_batch);

enum relay_counter {
	RC_CONNECTIONS,		/* opened (SMTP sessions) */
	RC_CONNECT_FAILED,	/* connect(2) to an address failed */
	RC_REUSED,		/* messages over an already used one */
	RC_TLS,
	RC_TLS_VERIFIED,	/* pkix or DANE */
	RC_DANE,
	RC_MESSAGES,		/* RELAY_STARTs answered */
	RC_RELAYED,		/* rcpts: 2xx */
	RC_DEFERRED,		/* rcpts: 4xx or ours */
	RC_BOUNCED,		/* rcpts: 5xx or ours */
	RC_BACKOFF,		/* destinations backed off */
	RC_STS_ENFORCED,	/* sessions under an MTA-STS enforce policy */
	RC_STS_REFUSED,		/* MX hosts and handshakes MTA-STS refused */
	RC_MAX
};

struct relay_env {
	struct event_base	*base;
	const struct config	*conf;
	struct relay_dns	*dns;
	struct relay_sts	*sts;		/* MTA-STS (relay_sts_client.c) */
	struct secrets		*secrets;	/* smarthost AUTH, or NULL */
	uint64_t		 counters[RC_MAX];
};

extern struct relay_env	 relay_env;

/* relay_ipc.c: the manager. */
void	relay_ipc_manager(int fd);
/* Answers b with its results (every rcpt), then frees it. */
void	relay_ipc_result(struct relay_batch *);

/* relay_batch.c */
void	relay_batch_free(struct relay_batch *);
/* 1 when x may go in b's transaction, 0 if not (message, params, size). */
int	relay_batch_mergeable(const struct relay_batch *,
	    const struct relay_batch *, size_t max);
/* Appends x's rcpts to b's transaction; x is b's from now on. */
void	relay_batch_merge(struct relay_batch *, struct relay_batch *);
/* The batches of b's message waiting in queue, merged; their carrier. */
struct relay_batch *relay_batch_gather(struct relay_batches *,
	    struct relay_batch *, size_t max, size_t *taken);
/* Gives each merged batch its results back and passes it to done. */
void	relay_batch_split(struct relay_batch *,
	    void (*done)(struct relay_batch *));

/* relay_route.c: pure. */
int	relay_target_pick(const struct config *, const char *domain,
	    struct relay_target *, char *err, size_t errlen);
uint32_t relay_backoff_next(uint32_t cur, uint32_t first, uint32_t max);
void	relay_status_of(const char *reply, uint32_t result, char *dst,
	    size_t dstlen);
int	relay_xtext(const char *in, char *dst, size_t dstlen);
/* Every rcpt of b not yet done gets result, status and diag. */
void	relay_batch_settle(struct relay_batch *, uint32_t result,
	    const char *status, const char *remote, const char *diag);
const char *relay_counter_name(enum relay_counter);

/* relay_pool.c */
void	relay_pool_init(void);
void	relay_pool_submit(struct relay_batch *);
/* The manager went away: its batches are forgotten (not answered). */
void	relay_pool_forget(unsigned int gen);
typedef void (*relay_host_cb)(const char *key, uint32_t conns,
	    uint32_t queued, uint32_t active, uint64_t backoff_until,
	    const char *last_error, void *);
void	relay_pool_hosts(relay_host_cb, void *);
/* Sends QUIT on every idle connection (stopping). */
void	relay_pool_stop(void);
uint32_t relay_pool_nconns(void);

/* relay.c: reads the bundle and the routes' CA files (as root). */
void	relay_ca_load(const struct config *);
/* relay.c: the CA memory for a route's CA file (NULL: the bundle). */
void	relay_ca_get(const char *path, const uint8_t **mem, size_t *len);

#endif
