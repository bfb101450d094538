/*
 * The one configuration file, /etc/sallyport/sallyport.conf, read by
 * every daemon.  parse.y turns it into a struct config; every path the
 * suite uses comes from here, so that a whole suite can run under a
 * temporary directory on high ports.  See sallyport.conf(5).
 */
#ifndef SALLYPORT_CONFIG_H
#define SALLYPORT_CONFIG_H

#include <sys/types.h>
#include <sys/queue.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>

#include "netaddr.h"
#include "sp_limits.h"

#define CONFIG_DEFAULT_PATH	"/etc/sallyport/sallyport.conf"
#define CONFIG_NAME_MAX		256	/* host and domain names, NUL incl. */
#define CONFIG_USER_MAX		32	/* system user names */

enum listen_proto {
	LISTEN_SMTP = 1,	/* port 25: MX */
	LISTEN_SUBMISSION,	/* port 587 */
	LISTEN_SMTPS,		/* port 465, implicit TLS */
	LISTEN_POP3,		/* port 110 */
	LISTEN_POP3S,		/* port 995 */
	LISTEN_IMAP,		/* port 143 */
	LISTEN_IMAPS,		/* port 993 */
};

struct listener {
	TAILQ_ENTRY(listener)	 entry;
	enum listen_proto	 proto;
	char			 addr[64];	/* numeric IPv4 or IPv6 */
	uint16_t		 port;
};

struct domain {
	TAILQ_ENTRY(domain)	 entry;
	char			 name[CONFIG_NAME_MAX];	/* lower case */
};

struct pki {
	TAILQ_ENTRY(pki)	 entry;
	char			 name[CONFIG_NAME_MAX];
	char			 cert[PATH_MAX];
	char			 key[PATH_MAX];
};

/* "relay from": clients that may relay without AUTH. */
struct relay_net {
	TAILQ_ENTRY(relay_net)	 entry;
	struct netaddr		 net;
};

/*
 * "relay to": how mail for one destination domain ("" is the default
 * route, "relay to default") leaves.  Chosen by the relay: the rule of
 * the recipient's domain, else the default one, else via MX with
 * opportunistic TLS.  See sallyport.conf(5).
 */
enum route_tls {
	ROUTE_TLS_OPPORTUNISTIC = 0,	/* STARTTLS when offered (DANE when
					   the MX has secure TLSA records) */
	ROUTE_TLS_NONE,			/* never */
	ROUTE_TLS_REQUIRE,		/* encrypted, or a temporary failure */
	ROUTE_TLS_VERIFY,		/* and verified (DANE, else the CAs) */
};

struct relay_route {
	TAILQ_ENTRY(relay_route) entry;
	char			 domain[CONFIG_NAME_MAX]; /* lower case; "" */
	int			 via_host;	/* 0: by MX */
	char			 host[CONFIG_NAME_MAX];	/* smarthost */
	uint16_t		 port;		/* 0: 25 */
	int			 smtps;		/* implicit TLS */
	enum route_tls		 tls;
	char			 ca_file[PATH_MAX];	/* "": the system's */
	char			 auth[CONFIG_NAME_MAX];	/* secrets label, "" */
	char			 helo[CONFIG_NAME_MAX];	/* "": hostname */
	char			 source[64];	/* numeric address, "" */
};

struct config {
	char			 hostname[CONFIG_NAME_MAX];
	char			 rundir[PATH_MAX];	/* sockets, pidfiles */
	char			 spooldir[PATH_MAX];	/* queued's chroot */
	char			 emptydir[PATH_MAX];	/* engines' chroot */
	char			 users_file[PATH_MAX];
	char			 aliases_file[PATH_MAX];
	/* "" when lookups are off or the system's; else a numeric address. */
	char			 resolver[64];
	uint16_t		 resolver_port;		/* 0: 53 */
	int			 resolver_system;	/* /etc/resolv.conf */
	char			 resolver_ta[PATH_MAX];	/* "": none */
	/* Address family tried first: "both" (interleaved), "ipv4", "ipv6". */
	char			 relay_family[8];

	/* The system users each role runs as. */
	char			 user_auth[CONFIG_USER_MAX];
	char			 user_smtp[CONFIG_USER_MAX];
	char			 user_queue[CONFIG_USER_MAX];
	char			 user_relay[CONFIG_USER_MAX];
	char			 user_pop3[CONFIG_USER_MAX];
	char			 user_imap[CONFIG_USER_MAX];

	/* Queue: seconds. */
	uint32_t		 retry_min_secs;
	uint32_t		 retry_max_secs;
	uint32_t		 expire_secs;
	uint32_t		 delay_notice_secs;	/* 0: none sent */

	/* The relay (issue 9): "secrets" holds smarthost credentials. */
	char			 secrets_file[PATH_MAX];	/* "": none */
	uint32_t		 relay_conns_max;	/* in all */
	uint32_t		 relay_conns_per_domain;
	uint32_t		 relay_msgs_per_conn;	/* 0: no limit */
	uint32_t		 relay_rcpts_per_txn;
	uint32_t		 relay_backoff_secs;	/* a failed host, first */
	uint32_t		 relay_backoff_max_secs;
	/* Relay timeouts, seconds (RFC 5321 4.5.3.2 by default). */
	uint32_t		 relay_connect_timeout_secs;
	uint32_t		 relay_greeting_timeout_secs;
	uint32_t		 relay_mail_timeout_secs;
	uint32_t		 relay_rcpt_timeout_secs;
	uint32_t		 relay_data_init_timeout_secs;
	uint32_t		 relay_data_block_timeout_secs;
	uint32_t		 relay_data_end_timeout_secs;
	uint32_t		 relay_idle_secs;	/* a reusable connection */
	/* MTA-STS (RFC 8461): on by default; its CA file, "": the system's. */
	int			 relay_sts;
	char			 relay_sts_ca[PATH_MAX];

	/* SMTP limits. */
	uint64_t		 max_message_bytes;
	uint64_t		 queue_min_free_bytes;	/* in the spool */
	uint32_t		 max_rcpts;
	uint32_t		 max_errors;
	uint32_t		 max_sessions;
	uint32_t		 max_sessions_per_client;
	uint32_t		 max_messages_per_session;
	uint32_t		 max_line_bytes;	/* text, CRLF incl. */

	/* SMTP timeouts (RFC 5321 4.5.3.2): seconds. */
	uint32_t		 greeting_timeout_secs;
	uint32_t		 cmd_timeout_secs;
	uint32_t		 data_timeout_secs;
	uint32_t		 commit_timeout_secs;	/* queued's answer */

	/* SMTP policy: each 0 unless configured. */
	int			 auth_plaintext_loopback;
	int			 submission_sender_any;
	int			 received_auth_user;
	int			 literal_local_users;

	/* pop3d (RFC 2449 LOGIN-DELAY, EXPIRE): config_pop3.c. */
	uint32_t		 pop3_login_delay_secs;	/* 0: none */
	int64_t			 pop3_expire_days;	/* -1: never */

	/* "submit trusted": who may set the sender of local mail. */
	char			 trusted[SENDMAIL_TRUSTED_MAX][CONFIG_USER_MAX];
	size_t			 ntrusted;

	TAILQ_HEAD(, listener)	 listeners;
	TAILQ_HEAD(, domain)	 domains;
	TAILQ_HEAD(, pki)	 pkis;
	TAILQ_HEAD(, relay_net)	 relay_nets;
	TAILQ_HEAD(, relay_route) relay_routes;	/* in the file's order */
};

/*
 * Reads and checks a file.  On error returns NULL with a message of the
 * form "FILE:LINE: what is wrong" in err.
 */
struct config	*config_load(const char *path, char *err, size_t errlen);
/* The same for a buffer; name is used in error messages. */
struct config	*config_parse(const char *name, const char *buf, size_t len,
		    char *err, size_t errlen);
void		 config_free(struct config *);
/* Prints the configuration in normalised form, defaults included. */
void		 config_print(FILE *, const struct config *);
/* 1 when domain (any case) is one of ours, else 0. */
int		 config_is_local_domain(const struct config *,
		    const char *domain);
/* 1 when a client at this address may relay without AUTH, else 0. */
int		 config_relay_allowed(const struct config *,
		    const struct sockaddr *);
const char	*config_proto_name(enum listen_proto);
/* The route for a destination domain: its rule, the default, or NULL. */
const struct relay_route *config_relay_route(const struct config *,
		    const char *domain);
/*
 * 1 when a local caller may choose its envelope sender: root, or a user
 * "submit trusted" names (common/config_submit.c).
 */
int		 config_submit_trusted(const struct config *, uid_t uid,
		    const char *login);
/*
 * The domain of local mail (local senders, bare recipients, postmaster):
 * the first "domain", else the hostname.
 */
const char	*config_origin(const struct config *);
/* Joins rundir and a socket or pidfile name; fatal if it does not fit. */
void		 config_runpath(const struct config *, const char *name,
		    char *dst, size_t dstlen);

#endif
