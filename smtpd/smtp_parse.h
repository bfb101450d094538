/*
 * smtpd: pure parsing of what an SMTP client sends, with no I/O, so that
 * all of it is unit-tested (regress/unit/test_smtp_parse.c): command
 * lines, the HELO/EHLO argument, MAIL and RCPT with their paths and
 * parameters (RFC 5321 4.1.2, RFC 1869, RFC 1870, RFC 6152, RFC 3461,
 * RFC 6531; smtp_param.c), and the rules for the lines of message data
 * (RFC 5321 4.1.1.4, 4.5.2).
 */
#ifndef SMTPD_SMTP_PARSE_H
#define SMTPD_SMTP_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "dsn.h"
#include "sp_limits.h"
#include "mailaddr.h"

/* The longest verb we know is STARTTLS; anything longer is no verb. */
#define SMTP_VERB_MAX_BYTES	16
/* A HELO/EHLO argument: a Domain or an address literal. */
#define SMTP_HELO_MAX_BYTES	SMTP_DOMAIN_MAX_BYTES

/* What a parse found wrong; the caller turns it into a reply. */
enum smtp_parse_result {
	SMTP_PARSE_OK = 0,
	SMTP_PARSE_SYNTAX,	/* the command itself: 501 5.5.4 */
	SMTP_PARSE_PATH,	/* the path or mailbox: 501 5.1.7 / 5.1.3 */
	SMTP_PARSE_PARAM,	/* a known parameter, bad value: 501 5.5.4 */
	SMTP_PARSE_UNKNOWN,	/* a parameter not supported: 555 5.5.4 */
	SMTP_PARSE_UTF8,	/* 8-bit path without SMTPUTF8: 553 5.6.7 */
};

/* A command line split into its verb and its argument. */
struct smtp_cmdline {
	char	verb[SMTP_VERB_MAX_BYTES + 1];	/* upper-cased */
	char	arg[SMTP_CMD_LINE_MAX_BYTES];	/* "" when none */
	int	has_arg;
};

/* MAIL BODY= (RFC 6152). */
enum smtp_body {
	SMTP_BODY_NONE = 0,
	SMTP_BODY_7BIT,
	SMTP_BODY_8BITMIME,
};

/* A reverse-path or forward-path, source route dropped. */
struct smtp_path {
	int		 null;		/* "<>" */
	int		 postmaster;	/* "<Postmaster>", no domain */
	struct mailaddr	 addr;		/* else the mailbox */
};

struct smtp_mail_args {
	struct smtp_path	 path;
	int			 has_size;
	uint64_t		 size;		/* SIZE=, RFC 1870 */
	enum smtp_body		 body;
	int			 smtputf8;	/* RFC 6531 3.4 */
	enum dsn_ret		 ret;		/* RET=: RFC 3461 4.3 */
	/* ENVID=, RFC 3461 4.4, xtext decoded; "" when not given. */
	char			 envid[DSN_ENVID_MAX_BYTES + 1];
};

struct smtp_rcpt_args {
	struct smtp_path	 path;
	uint32_t		 notify;	/* DSN_NOTIFY_*; 0: not given */
	/* ORCPT=, RFC 3461 4.2: "addr-type;address" decoded, or "". */
	char			 orcpt[DSN_ORCPT_MAX_BYTES + 1];
};

/*
 * Splits a command line (len bytes, line end removed) into its verb and
 * argument.  The verb is letters only; trailing blanks are dropped.
 * Returns 0, or -1 with *errstr set.
 */
int	smtp_parse_cmdline(const char *line, size_t len,
	    struct smtp_cmdline *, const char **errstr);

/*
 * Checks a HELO/EHLO argument: a Domain or an address literal
 * (RFC 5321 4.1.1.1, 4.1.3).  Returns 0, or -1 with *errstr set.
 */
int	smtp_parse_helo(const char *arg, const char **errstr);

/*
 * Parses the argument of MAIL ("FROM:<path> [params]").  esmtp says
 * whether the client said EHLO: parameters need it (RFC 5321 4.1.4).
 * The path may hold UTF-8 when the parameters include SMTPUTF8.
 * Returns an smtp_parse_result, with *errstr set unless OK.
 */
int	smtp_parse_mail(const char *arg, int esmtp, struct smtp_mail_args *,
	    const char **errstr);

/*
 * The same for RCPT ("TO:<path> [params]"); "<>" is refused.  smtputf8
 * is the transaction's: MAIL had SMTPUTF8.
 */
int	smtp_parse_rcpt(const char *arg, int esmtp, int smtputf8,
	    struct smtp_rcpt_args *, const char **errstr);

/*
 * smtp_param.c: the parameters after a MAIL (ma set, ra NULL) or RCPT
 * (ra set, ma NULL) path, SP-separated, looked up in one table.
 * Returns an smtp_parse_result, with *errstr set unless OK.
 */
int	smtp_parse_params(struct smtp_mail_args *ma,
	    struct smtp_rcpt_args *ra, const char *p, int esmtp,
	    const char **errstr);

/* Why the message data is refused; any of these refuses the message. */
#define SMTP_DATA_F_TOOLONG	0x01	/* a line too long (4.5.3.1.6) */
#define SMTP_DATA_F_BARE	0x02	/* a bare LF or CR: smuggling */
#define SMTP_DATA_F_NUL		0x04	/* a NUL byte */
#define SMTP_DATA_F_LOOP	0x08	/* over SMTP_RECEIVED_MAX hops */

/* The state of one message's data, line by line. */
struct smtp_data_scan {
	int		 flags;		/* SMTP_DATA_F_* */
	int		 prev_crlf;	/* last line ended with CRLF */
	int		 in_header;	/* no empty line seen yet */
	unsigned int	 received;	/* Received: header fields seen */
	/* A longer line is refused; SMTP_LINE_MAX_BYTES unless set. */
	size_t		 line_max;	/* CRLF included */
	int		 bdat;		/* BDAT content: no dots, no end */
};

void	smtp_data_scan_init(struct smtp_data_scan *);
/*
 * Takes one line of data as lineio hands it over (line end removed,
 * lflags its LINE_F_* flags).  Returns 1 when it is the end of the data
 * (a "." between two CRLFs), else 0 with *text and *textlen set to the
 * line as it is stored: dot-unstuffed, without its line end.
 */
int	smtp_data_scan_line(struct smtp_data_scan *, const char *line,
	    size_t len, int lflags, const char **text, size_t *textlen);

/*
 * The argument of BDAT (RFC 3030 2): "chunk-size [LAST]", the size in
 * decimal digits, LAST in any case.  Returns 0 with *size and *last set,
 * or -1 with *errstr set.
 */
int	smtp_parse_bdat(const char *arg, uint64_t *size, int *last,
	    const char **errstr);

/*
 * Whether a command line that was refused before it was parsed (too
 * long, a NUL, a bare LF or CR, bad syntax) is a BDAT: its verb, after
 * any blanks, is BDAT in any case, followed by anything but a letter.
 */
int	smtp_parse_is_bdat(const char *line, size_t len);

/*
 * BDAT content split into lines as lineio splits DATA (RFC 3030 leaves
 * the content to us): each line is handed over without its line end
 * and with its LINE_F_* flags, so that the rules of DATA (bare LF or
 * CR, NUL, line length) apply to it in the same way.  A line longer
 * than the buffer (the largest "limit line-length") is cut once and
 * flagged, its rest dropped.
 */
struct smtp_bdat_lines {
	char	 buf[SMTP_LINE_LIMIT_MAX_BYTES];
	size_t	 len;
	int	 toolong;
};
typedef void	(*smtp_bdat_line_cb)(void *arg, const char *line,
		    size_t len, int lflags);

/* Takes n bytes of a chunk; lines end at LF and may span chunks. */
void	smtp_bdat_split(struct smtp_bdat_lines *, const char *p, size_t n,
	    smtp_bdat_line_cb, void *arg);
/* At the end of the last chunk: hands over a last line with no LF. */
void	smtp_bdat_finish(struct smtp_bdat_lines *, smtp_bdat_line_cb,
	    void *arg);

#endif
