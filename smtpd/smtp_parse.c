/*
 * smtpd: pure parsing of client input (see smtp_parse.h).  Runs in the
 * engine (user smtp, chrooted, seccomp SANDBOX_ENGINE), but does no I/O
 * and keeps no state, so the unit tests call it directly.  Character
 * classes are spelled out: isalpha(3) and friends depend on the locale.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <string.h>
#include <strings.h>

#include "lineio.h"
#include "smtp_parse.h"

/* "IPv6:" and the longest textual IPv6 address. */
#define SMTP_LITERAL_MAX_BYTES	(5 + INET6_ADDRSTRLEN)

static int
smtp_is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char
smtp_upper(char c)
{
	return (c >= 'a' && c <= 'z') ? c - 'a' + 'A' : c;
}

int
smtp_parse_cmdline(const char *line, size_t len, struct smtp_cmdline *cl,
    const char **errstr)
{
	size_t	 i, end;

	memset(cl, 0, sizeof(*cl));
	/* RFC 5321 4.5.3.1.4: 512 octets with the CRLF. */
	if (len > SMTP_CMD_LINE_MAX_BYTES - 2) {
		*errstr = "line too long";
		return -1;
	}
	if (memchr(line, '\0', len) != NULL) {
		*errstr = "NUL byte in command";
		return -1;
	}
	for (i = 0; i < len && smtp_is_alpha((unsigned char)line[i]); i++)
		if (i < SMTP_VERB_MAX_BYTES)
			cl->verb[i] = smtp_upper(line[i]);
	if (i == 0 || i > SMTP_VERB_MAX_BYTES || (i < len && line[i] != ' ')) {
		*errstr = "bad command verb";
		return -1;
	}
	while (i < len && line[i] == ' ')
		i++;
	/* Trailing blanks are common and mean nothing. */
	for (end = len; end > i && (line[end - 1] == ' ' ||
	    line[end - 1] == '\t'); end--)
		;
	memcpy(cl->arg, line + i, end - i);
	cl->arg[end - i] = '\0';
	cl->has_arg = end > i;
	return 0;
}

/*
 * address-literal (RFC 5321 4.1.3): "[" IPv4 "]" or "[IPv6:" IPv6 "]";
 * inet_pton(3) checks the address.  No General-address-literal tag is
 * registered, so none is accepted.
 */
static int
smtp_parse_literal(const char *s)
{
	char		 body[SMTP_LITERAL_MAX_BYTES + 1];
	struct in6_addr	 a6;
	struct in_addr	 a4;
	size_t		 len = strlen(s);

	if (len < 3 || s[0] != '[' || s[len - 1] != ']' ||
	    len - 2 >= sizeof(body))
		return -1;
	memcpy(body, s + 1, len - 2);
	body[len - 2] = '\0';
	if (strncasecmp(body, "IPv6:", 5) == 0)
		return inet_pton(AF_INET6, body + 5, &a6) == 1 ? 0 : -1;
	return inet_pton(AF_INET, body, &a4) == 1 ? 0 : -1;
}

int
smtp_parse_helo(const char *arg, const char **errstr)
{
	size_t	 len = strlen(arg);

	if (len == 0 || len > SMTP_HELO_MAX_BYTES) {
		*errstr = len == 0 ? "missing domain" : "domain too long";
		return -1;
	}
	if (arg[0] == '[') {
		if (smtp_parse_literal(arg) == -1) {
			*errstr = "bad address literal";
			return -1;
		}
		return 0;
	}
	if (mailaddr_valid_domain(arg, 0) == -1) {
		*errstr = "bad domain";
		return -1;
	}
	return 0;
}

/*
 * Finds the '>' that closes the path starting at p ('<'), skipping
 * quoted strings, where '>' and '\"' may appear.  NULL when none.
 */
static const char *
smtp_path_end(const char *p)
{
	int	 quoted = 0;

	for (p++; *p != '\0'; p++) {
		if (quoted) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			else if (*p == '"')
				quoted = 0;
		} else if (*p == '"')
			quoted = 1;
		else if (*p == '>')
			return p;
	}
	return NULL;
}

/*
 * A-d-l (RFC 5321 4.1.2): At-domain *( "," At-domain ) ":".  Source
 * routes are obsolete and ignored (RFC 5321 3.3, C), but must be well
 * formed.  Returns the mailbox after the ':', or NULL.
 */
static char *
smtp_skip_route(char *s)
{
	char	*colon, *dom, *next;

	if ((colon = strchr(s, ':')) == NULL)
		return NULL;
	*colon = '\0';
	for (dom = s; dom != NULL; dom = next) {
		if ((next = strchr(dom, ',')) != NULL)
			*next++ = '\0';
		if (dom[0] != '@' || mailaddr_valid_domain(dom + 1, 0) == -1)
			return NULL;
	}
	return colon + 1;
}

/*
 * Takes the path at *pp ("<...>") into buf without its brackets and
 * leaves *pp after it.
 */
static int
smtp_path_take(const char **pp, char *buf, const char **errstr)
{
	const char	*p = *pp, *end;
	size_t		 len;

	if (*p != '<' || (end = smtp_path_end(p)) == NULL) {
		*errstr = "address must be in angle brackets";
		return SMTP_PARSE_SYNTAX;
	}
	*pp = end + 1;
	/* RFC 5321 4.5.3.1.3: 256 octets, brackets included. */
	if ((len = (size_t)(end - p) + 1) > SMTP_PATH_MAX_BYTES) {
		*errstr = "path too long";
		return SMTP_PARSE_PATH;
	}
	memcpy(buf, p + 1, len - 2);
	buf[len - 2] = '\0';
	return SMTP_PARSE_OK;
}

/* 1 when s holds an octet outside US-ASCII. */
static int
smtp_has_8bit(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return 1;
	return 0;
}

/*
 * Parses a path taken by smtp_path_take (buf is changed).  "<>" only
 * where allow_null; "<Postmaster>" (any case, RFC 5321 4.1.1.3) only
 * where allow_pm; UTF-8 only where smtputf8 (RFC 6531 3.3).
 */
static int
smtp_path_parse(char *buf, struct smtp_path *path, int allow_null,
    int allow_pm, int smtputf8, const char **errstr)
{
	char	*box;

	memset(path, 0, sizeof(*path));
	if (buf[0] == '\0') {
		path->null = 1;
		*errstr = "null path not allowed here";
		return allow_null ? SMTP_PARSE_OK : SMTP_PARSE_PATH;
	}
	/* RFC 6531 3.5: refused with 553 5.6.7, source route included. */
	if (!smtputf8 && smtp_has_8bit(buf)) {
		*errstr = "8-bit address without SMTPUTF8";
		return SMTP_PARSE_UTF8;
	}
	box = buf;
	if (buf[0] == '@' && (box = smtp_skip_route(buf)) == NULL) {
		*errstr = "bad source route";
		return SMTP_PARSE_PATH;
	}
	if (allow_pm && box == buf && strcasecmp(box, "postmaster") == 0) {
		path->postmaster = 1;
		return SMTP_PARSE_OK;
	}
	if (mailaddr_parse(box, &path->addr, smtputf8, errstr) == -1)
		return SMTP_PARSE_PATH;
	return SMTP_PARSE_OK;
}

/*
 * Skips the "FROM:" or "TO:" of MAIL and RCPT.  RFC 5321 4.1.2 puts no
 * space after the colon, but many clients send one; like most servers
 * we let it pass, since it is unambiguous.
 */
static int
smtp_parse_keyword(const char **pp, const char *kw, const char **errstr)
{
	size_t	 n = strlen(kw);

	if (strncasecmp(*pp, kw, n) != 0) {
		*errstr = kw[0] == 'F' ? "expected FROM:<address>" :
		    "expected TO:<address>";
		return -1;
	}
	*pp += n;
	while (**pp == ' ')
		(*pp)++;
	return 0;
}

/*
 * SMTPUTF8 comes after the reverse path it governs, so the path is
 * parsed once the parameters are known.
 */
int
smtp_parse_mail(const char *arg, int esmtp, struct smtp_mail_args *ma,
    const char **errstr)
{
	char		 buf[SMTP_PATH_MAX_BYTES];
	const char	*p = arg;
	int		 r;

	memset(ma, 0, sizeof(*ma));
	if (smtp_parse_keyword(&p, "FROM:", errstr) == -1)
		return SMTP_PARSE_SYNTAX;
	if ((r = smtp_path_take(&p, buf, errstr)) != SMTP_PARSE_OK ||
	    (r = smtp_parse_params(ma, NULL, p, esmtp, errstr)) !=
	    SMTP_PARSE_OK)
		return r;
	return smtp_path_parse(buf, &ma->path, 1, 0, ma->smtputf8, errstr);
}

int
smtp_parse_rcpt(const char *arg, int esmtp, int smtputf8,
    struct smtp_rcpt_args *ra, const char **errstr)
{
	char		 buf[SMTP_PATH_MAX_BYTES];
	const char	*p = arg;
	int		 r;

	memset(ra, 0, sizeof(*ra));
	if (smtp_parse_keyword(&p, "TO:", errstr) == -1)
		return SMTP_PARSE_SYNTAX;
	if ((r = smtp_path_take(&p, buf, errstr)) != SMTP_PARSE_OK ||
	    (r = smtp_path_parse(buf, &ra->path, 0, 1, smtputf8, errstr)) !=
	    SMTP_PARSE_OK)
		return r;
	return smtp_parse_params(NULL, ra, p, esmtp, errstr);
}

void
smtp_data_scan_init(struct smtp_data_scan *ds)
{
	memset(ds, 0, sizeof(*ds));
	/* The DATA command's own CRLF precedes the first line. */
	ds->prev_crlf = 1;
	ds->in_header = 1;
	ds->line_max = SMTP_LINE_MAX_BYTES;
}

/* Counts Received: fields in the header (RFC 5321 6.3 loop detection). */
static void
smtp_data_header(struct smtp_data_scan *ds, const char *text, size_t len)
{
	if (len == 0) {
		ds->in_header = 0;
		return;
	}
	if (len >= 9 && strncasecmp(text, "Received:", 9) == 0 &&
	    ++ds->received > SMTP_RECEIVED_MAX)
		ds->flags |= SMTP_DATA_F_LOOP;
}

int
smtp_data_scan_line(struct smtp_data_scan *ds, const char *line,
    size_t len, int lflags, const char **text, size_t *textlen)
{
	int	 crlf = (lflags & LINE_F_BARELF) == 0;

	/*
	 * RFC 5321 4.1.1.4: only CRLF "." CRLF ends the data.  A "." after
	 * a bare LF, or before one, is not an end but a refused line:
	 * reading it as one is what SMTP smuggling exploits.
	 */
	if (!ds->bdat && len == 1 && line[0] == '.' && crlf && ds->prev_crlf &&
	    (lflags & (LINE_F_TOOLONG | LINE_F_NUL)) == 0)
		return 1;
	/*
	 * A line cut by lineio lost its line end; take it as a CRLF, so that
	 * a final "." right after it still ends the data (the message is
	 * refused anyway).
	 */
	ds->prev_crlf = crlf;
	if ((lflags & LINE_F_TOOLONG) || len > ds->line_max - 2)
		ds->flags |= SMTP_DATA_F_TOOLONG;
	if (lflags & (LINE_F_BARELF | LINE_F_BARECR))
		ds->flags |= SMTP_DATA_F_BARE;
	if (lflags & LINE_F_NUL)
		ds->flags |= SMTP_DATA_F_NUL;
	/* RFC 5321 4.5.2: drop the first of leading dots (not in BDAT). */
	if (!ds->bdat && len > 0 && line[0] == '.') {
		line++;
		len--;
	}
	if (ds->in_header)
		smtp_data_header(ds, line, len);
	*text = line;
	*textlen = len;
	return 0;
}

int
smtp_parse_bdat(const char *arg, uint64_t *size, int *last,
    const char **errstr)
{
	uint64_t	 v = 0;
	size_t		 i;

	for (i = 0; arg[i] >= '0' && arg[i] <= '9'; i++) {
		if (v > (UINT64_MAX - (uint64_t)(arg[i] - '0')) / 10) {
			*errstr = "chunk size too large";
			return -1;
		}
		v = v * 10 + (uint64_t)(arg[i] - '0');
	}
	if (i == 0) {
		*errstr = "no chunk size";
		return -1;
	}
	*last = 0;
	if (arg[i] == ' ' && strcasecmp(arg + i + 1, "LAST") == 0)
		*last = 1;
	else if (arg[i] != '\0') {
		*errstr = "bad argument after the chunk size";
		return -1;
	}
	*size = v;
	return 0;
}

int
smtp_parse_is_bdat(const char *line, size_t len)
{
	size_t	 i = 0;

	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (len - i < 4 || strncasecmp(line + i, "BDAT", 4) != 0)
		return 0;
	i += 4;
	return i == len || !smtp_is_alpha((unsigned char)line[i]);
}

/* Hands over the line in the buffer; eol: it ended with an LF. */
static void
smtp_bdat_emit(struct smtp_bdat_lines *bl, int eol, smtp_bdat_line_cb cb,
    void *arg)
{
	size_t	 n = bl->len;
	int	 flags = 0;

	if (bl->toolong)
		flags |= LINE_F_TOOLONG;
	else if (eol && n > 0 && bl->buf[n - 1] == '\r')
		n--;
	else if (eol)
		flags |= LINE_F_BARELF;
	if (memchr(bl->buf, '\0', n) != NULL)
		flags |= LINE_F_NUL;
	if (memchr(bl->buf, '\r', n) != NULL)
		flags |= LINE_F_BARECR;
	bl->len = 0;
	bl->toolong = 0;
	cb(arg, bl->buf, n, flags);
}

void
smtp_bdat_split(struct smtp_bdat_lines *bl, const char *p, size_t n,
    smtp_bdat_line_cb cb, void *arg)
{
	const char	*lf;
	size_t		 take, room;

	while (n > 0) {
		lf = memchr(p, '\n', n);
		take = lf != NULL ? (size_t)(lf - p) : n;
		room = sizeof(bl->buf) - bl->len;
		if (take > room) {
			bl->toolong = 1;
			memcpy(bl->buf + bl->len, p, room);
			bl->len += room;
		} else {
			memcpy(bl->buf + bl->len, p, take);
			bl->len += take;
		}
		if (lf == NULL)
			return;
		smtp_bdat_emit(bl, 1, cb, arg);
		p += take + 1;
		n -= take + 1;
	}
}

void
smtp_bdat_finish(struct smtp_bdat_lines *bl, smtp_bdat_line_cb cb,
    void *arg)
{
	if (bl->len > 0 || bl->toolong)
		smtp_bdat_emit(bl, 0, cb, arg);
}
