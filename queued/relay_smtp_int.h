/*
 * The relay's SMTP client, inside: the session shared by relay_smtp.c
 * (connection, greeting, EHLO, STARTTLS, QUIT), relay_smtp_txn.c (MAIL,
 * RCPT, DATA and the results) and relay_smtp_data.c (the message body).
 */
#ifndef SALLYPORT_RELAY_SMTP_INT_H
#define SALLYPORT_RELAY_SMTP_INT_H

#include "lineio.h"
#include "relay_dane.h"
#include "relay_smtp.h"
#include "relay_smtp_qp.h"

enum relay_state {
	RS_GREETING,
	RS_EHLO,
	RS_HELO,
	RS_STARTTLS,
	RS_TLS,
	RS_AUTH,
	RS_IDLE,
	RS_RSET,
	RS_TXN,		/* MAIL, RCPT, DATA replies, pipelined or not */
	RS_BODY,
	RS_DOT,
	RS_QUIT,
	RS_DEAD,
};

/* The body encoder's state: the column of the line being sent. */
struct relay_data {
	size_t		 col;
	off_t		 off;
};

struct relay_smtp {
	struct event_base	*base;
	struct lineio		*io;
	struct event		*ev_timer;
	struct event		*ev_end;
	struct relay_params	 p;
	struct relay_callbacks	 cb;
	void			*arg;
	enum relay_state	 state;
	struct relay_reply	 reply;
	struct relay_caps	 caps;
	int			 tls_on;
	int			 greeted;	/* the greeting came */
	int			 was_ready;	/* the ready callback ran */
	enum relay_dane_level	 dane;		/* of p.tlsa */
	const char		*verified;	/* no, pkix, dane-ee, dane-ta */
	int			 authed;	/* AUTH took */
	int			 quit_wanted;
	int			 reporting;	/* in the rcpt/msg callbacks */
	int			 end_ok;
	char			 end_reason[RELAY_REPLY_TEXT_MAX_BYTES + 64];
	int			 nmsgs;
	struct relay_msg	*msg;
	size_t			 reply_idx;	/* 0 MAIL, 1..n RCPT, DATA */
	int			 mail_failed;
	size_t			 accepted;
	struct relay_data	 data;
	int			 convert;	/* 8-bit to quoted-printable */
	struct relay_mime	*mime;		/* its walker, kept */
};

/* relay_smtp.c */
void	relay_smtp_state(struct relay_smtp *, enum relay_state, int secs);
void	relay_smtp_end(struct relay_smtp *, int ok, const char *reason);
void	relay_smtp_ready(struct relay_smtp *);
int	relay_smtp_cmd(struct relay_smtp *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

/* relay_smtp_auth.c */
void	relay_auth_start(struct relay_smtp *);
void	relay_auth_reply(struct relay_smtp *);

/* relay_smtp_txn.c */
void	relay_txn_begin(struct relay_smtp *);
void	relay_txn_start(struct relay_smtp *);
void	relay_txn_reply(struct relay_smtp *);
void	relay_txn_dot(struct relay_smtp *);
/* Gives every recipient still pending result r with reason. */
void	relay_txn_settle(struct relay_smtp *, enum relay_result,
	    const char *reason);
/* Reports every recipient and the message to the caller. */
void	relay_txn_report(struct relay_smtp *);

/* relay_smtp_tls.c */
enum relay_dane_level relay_tls_dane(const struct relay_params *);
int	relay_tls_wanted(const struct relay_smtp *);
int	relay_tls_required(const struct relay_smtp *);
int	relay_tls_pkix(const struct relay_smtp *);
void	relay_tls_fail(struct relay_smtp *, const char *);
int	relay_tls_check(struct relay_smtp *);

/* relay_smtp_data.c */
/*
 * Encodes len stored bytes (LF line ends, unstuffed) for DATA into out,
 * which has room for 4 * len: CRLF, dot-stuffing (RFC 5321 4.5.2), and
 * lines over RELAY_DATA_LINE_MAX_BYTES folded with CRLF SP.  Returns the
 * bytes written.
 */
size_t	relay_data_encode(struct relay_data *, const char *, size_t,
	    char *out);
/* The end: a CRLF if the last line had none, then ".\r\n"; 5 at most. */
size_t	relay_data_finish(struct relay_data *, char *out);
/*
 * Before MAIL, for an 8-bit message and a server without 8BITMIME:
 * reads the message through the quoted-printable walker.  NULL when it
 * can be converted (c->convert set), else the reply to fail it with.
 */
const char *relay_data_scan(struct relay_smtp *);
/* Starts or goes on streaming the body; the dot when it is all out. */
void	relay_data_send(struct relay_smtp *);

#endif
