/*
 * sendmail: the SMTP client of local submission, over smtpd's
 * <rundir>/submit.sock, and -bs, which joins the caller's standard
 * input and output to that socket.  Runs in the caller's sendmail
 * process (see sendmail.h).
 *
 * All or nothing: a recipient refused ends the transaction before
 * DATA, so the exit status says what became of the whole message; 0
 * only after the server's 250 at the end of the data, which smtpd
 * gives once queued has the message on disk.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <err.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "ipc.h"
#include "sendmail.h"

/* A reply line we take, CRLF excluded; the lines of one reply. */
#define SMTPC_LINE_MAX_BYTES	2048
#define SMTPC_REPLY_LINES_MAX	100
/* Output is gathered this much at a time. */
#define SMTPC_WBUF_BYTES	(64 * 1024)

#define DOWN_TEXT	"mail not sent: the mail system is down, try again"

struct smtpc {
	int		 fd;
	int		 verbose;
	char		 rbuf[4096];
	size_t		 rlen, roff;
	char		 wbuf[SMTPC_WBUF_BYTES];
	size_t		 wlen;
	int		 code;			/* the last reply's */
	int		 lost;		/* no reply came: no QUIT either */
	/* The last line of the last reply. */
	char		 text[SMTPC_LINE_MAX_BYTES + 1];
};

static int
smtpc_flush(struct smtpc *c)
{
	size_t	 off = 0;
	ssize_t	 n;

	while (off < c->wlen) {
		n = write(c->fd, c->wbuf + off, c->wlen - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			c->lost = 1;
			return -1;
		}
		off += (size_t)n;
	}
	c->wlen = 0;
	return 0;
}

static int
smtpc_write(struct smtpc *c, const char *p, size_t len)
{
	size_t	 n;

	while (len > 0) {
		if (c->wlen == sizeof(c->wbuf) && smtpc_flush(c) == -1)
			return -1;
		n = sizeof(c->wbuf) - c->wlen;
		if (n > len)
			n = len;
		memcpy(c->wbuf + c->wlen, p, n);
		c->wlen += n;
		p += n;
		len -= n;
	}
	return 0;
}

/* One byte of the server's output; -1 at EOF, error or timeout. */
static int
smtpc_getc(struct smtpc *c)
{
	struct pollfd	 pfd;
	ssize_t		 n;

	if (c->roff == c->rlen) {
		pfd.fd = c->fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, SENDMAIL_REPLY_TIMEOUT_SECS * 1000) <= 0)
			return -1;
		while ((n = read(c->fd, c->rbuf, sizeof(c->rbuf))) == -1 &&
		    errno == EINTR)
			;
		if (n <= 0)
			return -1;
		c->rlen = (size_t)n;
		c->roff = 0;
	}
	return (unsigned char)c->rbuf[c->roff++];
}

/* One reply line into c->text; 1 when more lines follow, 0, or -1. */
static int
smtpc_reply_line(struct smtpc *c)
{
	size_t	 n = 0;
	int	 ch, code;

	while ((ch = smtpc_getc(c)) != -1 && ch != '\n')
		if (n < SMTPC_LINE_MAX_BYTES)
			c->text[n++] = (char)ch;
	if (ch == -1)
		return -1;
	if (n > 0 && c->text[n - 1] == '\r')
		n--;
	c->text[n] = '\0';
	if (c->verbose)
		fprintf(stderr, "<<< %s\n", c->text);
	if (n < 3 || c->text[0] < '2' || c->text[0] > '5' ||
	    c->text[1] < '0' || c->text[1] > '5' ||
	    c->text[2] < '0' || c->text[2] > '9' ||
	    (n > 3 && c->text[3] != ' ' && c->text[3] != '-'))
		return -2;
	code = (c->text[0] - '0') * 100 + (c->text[1] - '0') * 10 +
	    (c->text[2] - '0');
	if (c->code != 0 && code != c->code)
		return -2;
	c->code = code;
	return n > 3 && c->text[3] == '-';
}

/* Reads a whole reply: its code, 0 when the server went away, -1 bad. */
static int
smtpc_reply(struct smtpc *c)
{
	int	 i, r;

	if (smtpc_flush(c) == -1)
		return 0;
	c->code = 0;
	for (i = 0; i < SMTPC_REPLY_LINES_MAX; i++) {
		if ((r = smtpc_reply_line(c)) == -1) {
			c->lost = 1;
			return 0;
		}
		if (r == -2)
			return -1;
		if (r == 0)
			return c->code;
	}
	return -1;
}

/* Sends one command and reads its reply code (see smtpc_reply). */
static int
smtpc_cmd(struct smtpc *c, const char *fmt, ...)
{
	char	 line[SMTP_CMD_LINE_MAX_BYTES];
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 2)
		return -1;
	if (c->verbose)
		fprintf(stderr, ">>> %s\n", line);
	(void)memcpy(line + n, "\r\n", 2);
	if (smtpc_write(c, line, (size_t)n + 2) == -1)
		return 0;
	return smtpc_reply(c);
}

/* What a reply answered, for its exit status. */
enum smtpc_stage {
	STAGE_SESSION,		/* greeting, EHLO */
	STAGE_SENDER,		/* MAIL */
	STAGE_RCPT,		/* RCPT: what names the recipient */
	STAGE_DATA,		/* DATA, the message */
};

/*
 * The exit status for a reply that is not the one wanted, after its
 * line on stderr.
 */
static int
smtpc_fail(struct smtpc *c, int code, enum smtpc_stage stage,
    const char *what)
{
	if (code == 0) {
		warnx("%s (the connection was lost)", DOWN_TEXT);
		return EX_TEMPFAIL;
	}
	if (code == -1) {
		warnx("mail not sent: bad reply from the server: %.200s",
		    c->text);
		return EX_PROTOCOL;
	}
	if (code == 421 || strncmp(c->text + 3, " 4.3.0", 6) == 0) {
		warnx("%s (%.200s)", DOWN_TEXT, c->text);
		return EX_TEMPFAIL;
	}
	warnx("mail not sent: %s%s%.200s", what != NULL ? what : "",
	    what != NULL ? ": " : "", c->text);
	if (code < 500)
		return EX_TEMPFAIL;
	if (code == 550 && stage == STAGE_RCPT)
		return EX_NOUSER;
	if (stage == STAGE_DATA && (code == 552 || code == 554 ||
	    strncmp(c->text + 3, " 5.6.", 5) == 0))
		return EX_DATAERR;
	return EX_UNAVAILABLE;
}

/* The message, dot-stuffed (RFC 5321 4.5.2), CRLF, then the dot. */
static int
smtpc_data(struct smtpc *c, FILE *fp)
{
	char	 line[SENDMAIL_LINE_MAX_BYTES + 1];
	size_t	 len;

	rewind(fp);
	while (fgets(line, sizeof(line), fp) != NULL) {
		len = strlen(line);
		if (len > 0 && line[len - 1] == '\n')
			len--;
		if ((line[0] == '.' && smtpc_write(c, ".", 1) == -1) ||
		    smtpc_write(c, line, len) == -1 ||
		    smtpc_write(c, "\r\n", 2) == -1)
			return 0;
	}
	if (ferror(fp))
		return -1;
	if (c->verbose)
		fprintf(stderr, ">>> .\n");
	if (smtpc_write(c, ".\r\n", 3) == -1)
		return 0;
	return smtpc_reply(c);
}

static int
smtpc_open(struct smtpc *c, const char *sock, int verbose)
{
	memset(c, 0, sizeof(*c));
	c->verbose = verbose;
	if ((c->fd = ipc_connect_type(sock, SOCK_STREAM)) == -1) {
		warnx("%s (%s: %s)", DOWN_TEXT, sock, strerror(errno));
		return -1;
	}
	return 0;
}

/* The transaction, from the greeting to the data's 250. */
static int
smtpc_transaction(struct smtpc *c, const struct sendmail_opts *o,
    const char *helo, const struct sendmail_rcpts *r, FILE *fp)
{
	size_t	 i;
	int	 code;

	if ((code = smtpc_reply(c)) != 220)
		return smtpc_fail(c, code, STAGE_SESSION, NULL);
	if ((code = smtpc_cmd(c, "EHLO %s", helo)) != 250)
		return smtpc_fail(c, code, STAGE_SESSION, NULL);
	code = smtpc_cmd(c, "MAIL FROM:<%s>", o->sender != NULL ?
	    o->sender : "");
	if (code != 250)
		return smtpc_fail(c, code, STAGE_SENDER, "sender");
	for (i = 0; i < r->n; i++)
		if ((code = smtpc_cmd(c, "RCPT TO:<%s>", r->addrs[i])) != 250)
			return smtpc_fail(c, code, STAGE_RCPT, r->addrs[i]);
	if ((code = smtpc_cmd(c, "DATA")) != 354)
		return smtpc_fail(c, code, STAGE_DATA, NULL);
	if ((code = smtpc_data(c, fp)) != 250) {
		if (code == -1 && ferror(fp)) {
			warnx("mail not sent: cannot read the temporary file");
			return EX_IOERR;
		}
		return smtpc_fail(c, code, STAGE_DATA, NULL);
	}
	return 0;
}

int
sendmail_smtp_send(const struct sendmail_opts *o, const char *sock,
    const char *helo, const struct sendmail_rcpts *r, FILE *fp)
{
	static struct smtpc	 c;
	int			 status;

	(void)signal(SIGPIPE, SIG_IGN);
	if (smtpc_open(&c, sock, o->verbose) == -1)
		return EX_TEMPFAIL;
	status = smtpc_transaction(&c, o, helo, r, fp);
	/* The message is committed (or not): QUIT's answer is a courtesy. */
	if (!c.lost)
		(void)smtpc_cmd(&c, "QUIT");
	(void)close(c.fd);
	return status;
}

/* Copies what is readable on from to to; 0 at EOF, -1 on error. */
static int
smtpc_pump(int from, int to)
{
	char	 buf[16384];
	ssize_t	 n, w, off;

	while ((n = read(from, buf, sizeof(buf))) == -1 && errno == EINTR)
		;
	if (n <= 0)
		return n == 0 ? 0 : -1;
	for (off = 0; off < n; off += w)
		if ((w = write(to, buf + off, (size_t)(n - off))) <= 0)
			return -1;
	return 1;
}

/*
 * At the end of its input the caller's replies are still to come (the
 * 250 of a message, QUIT's 221): the socket stays open both ways, since
 * smtpd ends a session whose client has shut its side, until the
 * server closes or has said nothing for SENDMAIL_REPLY_TIMEOUT_SECS.
 */
int
sendmail_smtp_session(const char *sock, const char *hostname)
{
	struct pollfd	 pfd[2];
	int		 fd, n, in_open = 1;

	(void)signal(SIGPIPE, SIG_IGN);
	if ((fd = ipc_connect_type(sock, SOCK_STREAM)) == -1) {
		/* The client speaks SMTP: it is told in SMTP too. */
		printf("421 4.3.0 %s %s\r\n", hostname, DOWN_TEXT);
		(void)fflush(stdout);
		warnx("%s (%s: %s)", DOWN_TEXT, sock, strerror(errno));
		return EX_TEMPFAIL;
	}
	for (;;) {
		pfd[0].fd = in_open ? STDIN_FILENO : -1;
		pfd[0].events = POLLIN;
		pfd[1].fd = fd;
		pfd[1].events = POLLIN;
		n = poll(pfd, 2, in_open ? -1 :
		    SENDMAIL_REPLY_TIMEOUT_SECS * 1000);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if ((pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    smtpc_pump(fd, STDOUT_FILENO) <= 0)
			break;
		if (in_open &&
		    (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    smtpc_pump(STDIN_FILENO, fd) <= 0)
			in_open = 0;
	}
	(void)close(fd);
	return 0;
}
