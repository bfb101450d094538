/*
 * sendmail -t: the addresses of To, Cc and Bcc (RFC 5322 3.4), and the
 * list of a message's recipients.  Pure: no I/O, for the unit tests.
 * Runs in the caller's sendmail process (see sendmail.h).
 *
 * The parser is lenient, as MTAs are with what local programs write:
 * a display name is dropped at its angle-addr, a comment anywhere,
 * a group's name at its colon and its end at the semicolon; quoted
 * strings are kept whole in an addr-spec ("john doe"@example.org).
 */
#include <stdlib.h>
#include <string.h>

#include "sendmail.h"

/* The address being read, and what was seen of it. */
struct addr_state {
	char	 spec[SMTP_PATH_MAX_BYTES];	/* addr-spec text */
	size_t	 speclen;
	char	 angle[SMTP_PATH_MAX_BYTES];	/* inside <...> */
	size_t	 anglelen;
	int	 has_angle;
	int	 in_angle;
};

static int
addr_putc(char *buf, size_t *len, size_t size, char c)
{
	if (*len + 1 >= size)
		return -1;
	buf[(*len)++] = c;
	buf[*len] = '\0';
	return 0;
}

static int
addr_char(struct addr_state *st, char c)
{
	if (st->in_angle) {
		/* RFC 5322 4.4 obs-route: "@a,@b:user@c" is user@c. */
		if (c == ':' && st->angle[0] == '@') {
			st->anglelen = 0;
			st->angle[0] = '\0';
			return 0;
		}
		return addr_putc(st->angle, &st->anglelen, sizeof(st->angle),
		    c);
	}
	return addr_putc(st->spec, &st->speclen, sizeof(st->spec), c);
}

/* The end of one mailbox (a comma, a semicolon, the end). */
static int
addr_emit(struct addr_state *st, int (*cb)(void *, const char *),
    void *arg)
{
	const char	*a = st->has_angle ? st->angle : st->spec;
	int		 r = 0;

	if (a[0] != '\0')
		r = cb(arg, a);
	memset(st, 0, sizeof(*st));
	return r;
}

/* Skips a comment (nested, with quoted pairs); the index after it. */
static size_t
addr_comment(const char *f, size_t i, size_t len, const char **errstr)
{
	int	 depth = 0;

	for (; i < len; i++) {
		if (f[i] == '\\' && i + 1 < len)
			i++;
		else if (f[i] == '(')
			depth++;
		else if (f[i] == ')' && --depth == 0)
			return i + 1;
	}
	*errstr = "unbalanced parenthesis";
	return 0;
}

/* Copies a quoted string, quotes included; the index after it. */
static size_t
addr_quoted(struct addr_state *st, const char *f, size_t i, size_t len,
    const char **errstr)
{
	if (addr_char(st, f[i++]) == -1)
		goto toolong;
	for (; i < len; i++) {
		if (f[i] == '\\' && i + 1 < len &&
		    addr_char(st, f[i++]) == -1)
			goto toolong;
		if (addr_char(st, f[i]) == -1)
			goto toolong;
		if (f[i] == '"')
			return i + 1;
	}
	*errstr = "unbalanced quote";
	return 0;
toolong:
	*errstr = "address too long";
	return 0;
}

/* One character outside comments and quotes; -1 on error. */
static int
addr_step(struct addr_state *st, char c, int (*cb)(void *, const char *),
    void *arg, const char **errstr)
{
	switch (c) {
	case '<':
		if (st->in_angle || st->has_angle)
			break;
		st->in_angle = st->has_angle = 1;
		return 0;
	case '>':
		if (!st->in_angle)
			break;
		st->in_angle = 0;
		return 0;
	case ':':
		if (st->in_angle && st->angle[0] == '@')
			return addr_char(st, c);
		if (st->in_angle)
			break;
		/* A group's display name: dropped. */
		memset(st, 0, sizeof(*st));
		return 0;
	case ',':
	case ';':
		if (st->in_angle && c == ',' && st->angle[0] == '@')
			return addr_char(st, c);
		if (st->in_angle)
			break;
		return addr_emit(st, cb, arg);
	case ' ':
	case '\t':
	case '\r':
	case '\n':
		return 0;
	default:
		if (addr_char(st, c) == -1) {
			*errstr = "address too long";
			return -1;
		}
		return 0;
	}
	*errstr = "misplaced angle bracket, colon or comma";
	return -1;
}

int
sendmail_addr_list(const char *f, size_t len,
    int (*cb)(void *, const char *), void *arg, const char **errstr)
{
	struct addr_state	 st;
	size_t			 i = 0;

	memset(&st, 0, sizeof(st));
	*errstr = NULL;
	while (i < len) {
		if (f[i] == '(') {
			if ((i = addr_comment(f, i, len, errstr)) == 0)
				return -1;
		} else if (f[i] == '"') {
			if ((i = addr_quoted(&st, f, i, len, errstr)) == 0)
				return -1;
		} else if (addr_step(&st, f[i++], cb, arg, errstr) == -1) {
			if (*errstr == NULL)
				*errstr = "recipient refused";
			return -1;
		}
	}
	if (st.in_angle) {
		*errstr = "unbalanced angle bracket";
		return -1;
	}
	if (addr_emit(&st, cb, arg) == -1) {
		*errstr = "recipient refused";
		return -1;
	}
	return 0;
}

/* Control characters never; a space and <> only in a quoted string. */
int
sendmail_addr_valid(const char *addr)
{
	size_t	 i;
	int	 quoted = 0;

	for (i = 0; addr[i] != '\0'; i++) {
		if ((unsigned char)addr[i] < ' ' || addr[i] == 0x7f)
			return 0;
		if (quoted && addr[i] == '\\' && addr[i + 1] != '\0') {
			if ((unsigned char)addr[++i] < ' ' || addr[i] == 0x7f)
				return 0;
			continue;
		}
		if (addr[i] == '"')
			quoted = !quoted;
		else if (!quoted && strchr(" <>", addr[i]) != NULL)
			return 0;
	}
	return i > 0 && !quoted;
}

int
sendmail_rcpt_add(struct sendmail_rcpts *r, const char *addr,
    const char **errstr)
{
	char	 buf[SMTP_PATH_MAX_BYTES];
	size_t	 i;
	int	 n;

	if (strchr(addr, '@') != NULL)
		n = snprintf(buf, sizeof(buf), "%s", addr);
	else
		n = snprintf(buf, sizeof(buf), "%s@%s", addr, r->origin);
	if (n < 0 || (size_t)n >= sizeof(buf) - 2) {
		*errstr = "recipient address too long";
		return -1;
	}
	if (!sendmail_addr_valid(buf)) {
		*errstr = "invalid recipient address";
		return -1;
	}
	for (i = 0; i < r->n; i++)
		if (strcmp(r->addrs[i], buf) == 0)
			return 0;
	if (r->n >= r->max) {
		*errstr = "too many recipients";
		return -1;
	}
	if (r->addrs == NULL &&
	    (r->addrs = calloc(r->max, sizeof(*r->addrs))) == NULL) {
		*errstr = "out of memory";
		return -1;
	}
	if ((r->addrs[r->n] = strdup(buf)) == NULL) {
		*errstr = "out of memory";
		return -1;
	}
	r->n++;
	return 0;
}

void
sendmail_rcpts_free(struct sendmail_rcpts *r)
{
	size_t	 i;

	for (i = 0; i < r->n; i++)
		free(r->addrs[i]);
	free(r->addrs);
	r->addrs = NULL;
	r->n = 0;
}
