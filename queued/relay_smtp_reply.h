/*
 * The relay's SMTP client: the reply parser, free of I/O (RFC 5321 4.2,
 * RFC 2034 enhanced status codes, RFC 5321 4.1.1.1 EHLO keywords).  The
 * client hands it each line as read, without its CRLF.
 */
#ifndef SALLYPORT_RELAY_SMTP_REPLY_H
#define SALLYPORT_RELAY_SMTP_REPLY_H

#include <stddef.h>

#include "sp_limits.h"

/* EHLO keywords the client uses. */
#define RELAY_CAP_PIPELINING	0x001	/* RFC 2920 */
#define RELAY_CAP_8BITMIME	0x002	/* RFC 6152 */
#define RELAY_CAP_SMTPUTF8	0x004	/* RFC 6531 */
#define RELAY_CAP_DSN		0x008	/* RFC 3461 */
#define RELAY_CAP_STARTTLS	0x010	/* RFC 3207 */
#define RELAY_CAP_SIZE		0x020	/* RFC 1870 */
#define RELAY_CAP_CHUNKING	0x040	/* RFC 3030 */
#define RELAY_CAP_ENHANCED	0x080	/* RFC 2034 */

struct relay_caps {
	int		 flags;
	unsigned long	 size_max;	/* SIZE's parameter; 0 for none */
};

struct relay_reply {
	int		 code;		/* 200-599 once complete */
	char		 status[16];	/* "4.2.1", or "" */
	char		 text[RELAY_REPLY_TEXT_MAX_BYTES]; /* first line */
	size_t		 nlines;
	int		 complete;
};

/* Readies r for a new reply; caps, when not NULL, is cleared too. */
void	relay_reply_reset(struct relay_reply *, struct relay_caps *);
/*
 * Takes one line (len bytes, no CRLF).  With caps, the lines after the
 * first are read as EHLO keywords.  Returns 1 when the reply is
 * complete, 0 when more lines are due, -1 with *errstr for a line that
 * is no reply line: too long, too many, a bad code, a code that changes.
 */
int	relay_reply_feed(struct relay_reply *, struct relay_caps *,
	    const char *line, size_t len, const char **errstr);
/* The reply as "code status text" for a result or a log line. */
const char *relay_reply_str(const struct relay_reply *, char *, size_t);

#endif
