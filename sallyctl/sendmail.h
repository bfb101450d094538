/*
 * sendmail(8), mailq(1), newaliases(1): sallyport's front end for
 * local programs, the sallyctl binary under those names (sallyctl.c
 * looks at argv[0]).  It runs as its caller, not setuid or setgid, no
 * chroot, no seccomp: it reads its own command line and standard
 * input, and talks SMTP to smtpd over <rundir>/submit.sock, where
 * smtpd learns who the caller is from the kernel (SO_PEERCRED), never
 * from anything said here.  See sendmail.8.
 *
 *   sendmail.c		main: options, modes, the queue verbs (root,
 *			through sallyctl)
 *   sendmail_msg.c	standard input into a temporary file: the
 *			header scanned, Bcc removed, From added (no I/O
 *			but the file given)
 *   sendmail_addr.c	address lists of To, Cc, Bcc for -t (pure)
 *   sendmail_smtp.c	the SMTP client over submit.sock, and -bs
 */
#ifndef SALLYCTL_SENDMAIL_H
#define SALLYCTL_SENDMAIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sp_limits.h"

/* What one run is asked to do. */
struct sendmail_opts {
	const char	*conffile;
	const char	*sender;	/* -f or -r; NULL: none */
	const char	*fullname;	/* -F; NULL: none */
	int		 mode;		/* 'm', 's', 'p', 'i' (-b), 'q' */
	int		 extract;	/* -t */
	int		 ignore_dots;	/* -i, -oi */
	int		 verbose;	/* -v */
	char		**rcpts;	/* the arguments */
	int		 nrcpts;
};

/* The recipients of one message: from the arguments, and -t. */
struct sendmail_rcpts {
	char		**addrs;
	size_t		 n;
	size_t		 max;		/* "limit recipients" */
	const char	*origin;	/* qualifies a bare name */
};

/* sendmail_addr.c */
/*
 * Calls cb for each address of an RFC 5322 address-list (a To, Cc or
 * Bcc field's body, unfolded): the angle-addr of a name-addr, else the
 * addr-spec, comments and display names dropped, groups opened.  0, or
 * -1 with *errstr (too long, unbalanced), or cb's -1.
 */
int	sendmail_addr_list(const char *field, size_t len,
	    int (*cb)(void *, const char *), void *arg, const char **errstr);
/*
 * 1 when addr can go between the <> of MAIL FROM or RCPT TO: no
 * control character, a space or <> only in a quoted local part; smtpd
 * checks the rest.
 */
int	sendmail_addr_valid(const char *addr);
/*
 * Adds one recipient, "@origin" appended to a bare name; a repeated
 * one is kept once.  0, or -1 with *errstr.
 */
int	sendmail_rcpt_add(struct sendmail_rcpts *, const char *addr,
	    const char **errstr);
void	sendmail_rcpts_free(struct sendmail_rcpts *);

/* sendmail_msg.c */
struct sendmail_msg {
	/* In: what to do with the header. */
	int			 extract;	/* -t: To, Cc, Bcc */
	int			 ignore_dots;
	const char		*from_line;	/* added when missing */
	uint64_t		 max_bytes;	/* "limit message-size" */
	struct sendmail_rcpts	*rcpts;		/* -t adds here */
	/* Out. */
	uint64_t		 bytes;		/* written */
	int			 has_from;
};
/*
 * Copies in to out (a temporary file), LF line ends: the header with
 * Bcc left out when extracting, From added when missing and from_line
 * is set.  0, or an exit status (sysexits.h) with *errstr.
 */
int	sendmail_msg_read(struct sendmail_msg *, FILE *in, FILE *out,
	    const char **errstr);

/* sendmail_smtp.c */
/*
 * Sends the message in fp (LF line ends) from sender to the
 * recipients over submit.sock.  0 once the server said 250 at its end;
 * else an exit status, after one line on stderr.
 */
int	sendmail_smtp_send(const struct sendmail_opts *, const char *sock,
	    const char *helo, const struct sendmail_rcpts *, FILE *fp);
/* -bs: standard input and output to and from submit.sock. */
int	sendmail_smtp_session(const char *sock, const char *hostname);

/* sendmail.c */
/* "sendmail", "mailq" or "newaliases" when argv0 ends so, else NULL. */
const char *sendmail_name(const char *argv0);
/* main() as sendmail, mailq or newaliases. */
int	sendmail_main(int argc, char *argv[]);

#endif
