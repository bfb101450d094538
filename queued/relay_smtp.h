/*
 * The relay's SMTP client (DESIGN.md, "Outbound mail"; issue 9): one
 * outbound connection over a connected socket, on the caller's libevent
 * loop, plain or with STARTTLS (libtls) by policy.  It carries one
 * message at a time and may carry more (RSET between them) until the
 * caller quits or the idle time passes.
 */
#ifndef SALLYPORT_RELAY_SMTP_H
#define SALLYPORT_RELAY_SMTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <event2/event.h>

#include "relay_smtp_reply.h"

struct relay_smtp;
struct rdns_tlsa;

enum relay_tls_policy {
	RELAY_TLS_NONE,
	RELAY_TLS_OPPORTUNISTIC,	/* STARTTLS if offered, unverified */
	RELAY_TLS_REQUIRE,		/* STARTTLS or a temporary failure */
	RELAY_TLS_VERIFY,		/* and the chain and name checked */
};

enum relay_result {
	RELAY_PENDING,
	RELAY_DONE,			/* 2xx: delivered */
	RELAY_RETRY,			/* 4xx, or the connection failed */
	RELAY_FAILED,			/* 5xx: bounce */
};

/* Envelope flags. */
#define RELAY_MSG_8BIT		0x01	/* BODY=8BITMIME */
#define RELAY_MSG_SMTPUTF8	0x02	/* needs SMTPUTF8 */

/* The per-state timeouts, RFC 5321 4.5.3.2 (RELAY_*_TIMEOUT_SECS). */
struct relay_timeouts {
	int		 greeting;	/* also EHLO, STARTTLS, RSET, QUIT */
	int		 mail;
	int		 rcpt;
	int		 data_init;
	int		 data_block;
	int		 data_end;
};

struct relay_params {
	const char		*id;		/* for the log */
	const char		*helo;
	enum relay_tls_policy	 tls;
	const char		*tls_ca_file;	/* NULL: the system's bundle */
	/* The CA bundle in memory (read before a chroot); before the file. */
	const uint8_t		*tls_ca_mem;
	size_t			 tls_ca_len;
	int			 implicit_tls;	/* TLS at connect (smtps) */
	/* AUTH PLAIN after EHLO, over TLS only; NULL: none. */
	const char		*auth_user;
	const char		*auth_pass;
	const char		*tls_name;	/* SNI, and checked by verify */
	/*
	 * The MX host's TLSA records (relay_dns_tlsa), or NULL: DANE when
	 * they are DNSSEC-secure and the policy opportunistic or require
	 * (relay_smtp_tls.c); must outlive the session.
	 */
	const struct rdns_tlsa	*tlsa;
	struct relay_timeouts	 timeouts;
	int			 idle_secs;	/* before QUIT on an idle one */
	int			 msgs_max;	/* a connection; 0: no limit */
};

struct relay_rcpt {
	const char		*addr;
	const char		*notify;	/* DSN NOTIFY=, or NULL */
	const char		*orcpt;		/* ORCPT=, xtext, or NULL */
	enum relay_result	 result;
	char			 reply[RELAY_REPLY_TEXT_MAX_BYTES + 32];
};

struct relay_msg {
	int			 fd;		/* as stored: LF, unstuffed */
	off_t			 size;		/* for SIZE=; 0: fstat's */
	const char		*sender;	/* "" for <> */
	const char		*ret;		/* DSN RET=, or NULL */
	const char		*envid;		/* ENVID=, xtext, or NULL */
	int			 flags;		/* RELAY_MSG_* */
	struct relay_rcpt	*rcpts;
	size_t			 nrcpts;
};

struct relay_callbacks {
	/* Each recipient once, when its result is final. */
	void	(*rcpt)(struct relay_smtp *, struct relay_msg *,
		    struct relay_rcpt *, void *);
	/* The message is finished; relay_smtp_send() may follow. */
	void	(*msg)(struct relay_smtp *, struct relay_msg *, void *);
	/* The connection ended; ok is 0 for a failure, with its reason. */
	void	(*conn)(struct relay_smtp *, int ok, const char *reason,
		    void *);
	/*
	 * Optional: the session is ready for its first message (greeting,
	 * EHLO, STARTTLS done); relay_smtp_send() may follow.  A session
	 * that ends before it never was (a 421 greeting, a failed
	 * handshake): the caller may try another host.
	 */
	void	(*ready)(struct relay_smtp *, void *);
};

/* Fills t with the RFC 5321 defaults. */
void		 relay_smtp_timeouts_default(struct relay_timeouts *);
/*
 * Starts a session over fd (connected; owned from now on, closed on
 * failure): greeting, EHLO, STARTTLS per p.  The strings of p must
 * outlive the session.  The rcpt and msg callbacks may run from within
 * relay_smtp_send() (a message refused before MAIL) or with the
 * session's reader on the stack: they must not free the session.  The
 * conn callback runs from the event loop alone, and may.
 */
struct relay_smtp *relay_smtp_new(struct event_base *, int fd,
		    const struct relay_params *, const struct relay_callbacks *,
		    void *arg);
/*
 * Hands over the next message (one at a time, its recipients all for
 * this destination, at most SMTP_RCPT_MAX: RFC 5321 4.5.3.1.8 has a
 * server take 100, the caller splits more and may take fewer); -1 when
 * the session cannot take it (busy, closed, its message limit reached,
 * a string with CR, LF, '<' or '>').  May be called from the msg
 * callback.
 */
int		 relay_smtp_send(struct relay_smtp *, struct relay_msg *);
/*
 * What the session is: TLS on, its certificate verified, the server's
 * RELAY_CAP_* (each pointer may be NULL).
 */
void		 relay_smtp_info(const struct relay_smtp *, int *tls,
		    int *verified, int *caps);
/* How the certificate was checked: "no", "pkix", "dane-ee", "dane-ta". */
const char	*relay_smtp_verified(const struct relay_smtp *);
/* Sends QUIT when idle; the conn callback follows. */
void		 relay_smtp_quit(struct relay_smtp *);
/* Frees the session (from the conn callback or after it). */
void		 relay_smtp_free(struct relay_smtp *);

#endif
