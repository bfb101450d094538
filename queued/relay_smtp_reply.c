/*
 * The relay's SMTP client (DESIGN.md, "Outbound mail"): the reply
 * parser.  Pure: no I/O, no allocation, every line checked against the
 * limits of sp_limits.h, so that a hostile server can only end its own
 * connection.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "relay_smtp_reply.h"

struct relay_keyword {
	const char	*name;
	int		 flag;
};

static const struct relay_keyword relay_keywords[] = {
	{ "PIPELINING",			RELAY_CAP_PIPELINING },
	{ "8BITMIME",			RELAY_CAP_8BITMIME },
	{ "SMTPUTF8",			RELAY_CAP_SMTPUTF8 },
	{ "DSN",			RELAY_CAP_DSN },
	{ "STARTTLS",			RELAY_CAP_STARTTLS },
	{ "SIZE",			RELAY_CAP_SIZE },
	{ "CHUNKING",			RELAY_CAP_CHUNKING },
	{ "ENHANCEDSTATUSCODES",	RELAY_CAP_ENHANCED },
};

void
relay_reply_reset(struct relay_reply *r, struct relay_caps *caps)
{
	memset(r, 0, sizeof(*r));
	if (caps != NULL)
		memset(caps, 0, sizeof(*caps));
}

/* SIZE's optional parameter (RFC 1870 4): digits, at most 20. */
static void
relay_cap_size(struct relay_caps *caps, const char *p, size_t len)
{
	unsigned long	 n = 0;
	size_t		 i;

	if (len == 0 || len > 19)
		return;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)p[i]))
			return;
		n = n * 10 + (unsigned long)(p[i] - '0');
	}
	caps->size_max = n;
}

/* One EHLO line's text: keyword [SP params].  Unknown keywords pass. */
static void
relay_cap_line(struct relay_caps *caps, const char *p, size_t len)
{
	size_t	 i, klen;

	for (klen = 0; klen < len && p[klen] != ' '; klen++)
		;
	for (i = 0; i < sizeof(relay_keywords) / sizeof(relay_keywords[0]);
	    i++) {
		if (strlen(relay_keywords[i].name) != klen ||
		    strncasecmp(relay_keywords[i].name, p, klen) != 0)
			continue;
		caps->flags |= relay_keywords[i].flag;
		if (relay_keywords[i].flag == RELAY_CAP_SIZE && klen < len)
			relay_cap_size(caps, p + klen + 1, len - klen - 1);
	}
}

/* RFC 2034 4: class "." subject "." detail, class matching the code. */
static size_t
relay_status(struct relay_reply *r, const char *p, size_t len)
{
	size_t	 i = 0, part, digits;

	if (len < 5 || p[0] - '0' != r->code / 100 || p[1] != '.')
		return 0;
	i = 2;
	for (part = 0; part < 2; part++) {
		for (digits = 0; i < len && isdigit((unsigned char)p[i]);
		    i++)
			digits++;
		if (digits == 0 || digits > 3)
			return 0;
		if (part == 0 && (i >= len || p[i++] != '.'))
			return 0;
	}
	if (i < len && p[i] != ' ')
		return 0;
	memcpy(r->status, p, i);
	r->status[i] = '\0';
	return i < len ? i + 1 : i;
}

static int
relay_reply_code(const char *line)
{
	if (line[0] < '2' || line[0] > '5' || line[1] < '0' ||
	    line[1] > '5' || !isdigit((unsigned char)line[2]))
		return -1;
	return (line[0] - '0') * 100 + (line[1] - '0') * 10 + line[2] - '0';
}

/* The first line's text, made printable, kept for the result. */
static void
relay_reply_text(struct relay_reply *r, const char *p, size_t len)
{
	size_t	 i, n = 0, skip;

	skip = relay_status(r, p, len);
	p += skip;
	len -= skip;
	for (i = 0; i < len && n + 1 < sizeof(r->text); i++)
		r->text[n++] = (p[i] >= 0x20 && p[i] < 0x7f) ? p[i] : '?';
	r->text[n] = '\0';
}

int
relay_reply_feed(struct relay_reply *r, struct relay_caps *caps,
    const char *line, size_t len, const char **errstr)
{
	int	 code, last;

	if (r->complete) {
		*errstr = "reply already complete";
		return -1;
	}
	if (len > RELAY_REPLY_LINE_MAX_BYTES) {
		*errstr = "reply line too long";
		return -1;
	}
	if (++r->nlines > RELAY_REPLY_LINES_MAX) {
		*errstr = "too many reply lines";
		return -1;
	}
	if (len < 3 || (code = relay_reply_code(line)) == -1 ||
	    (len > 3 && line[3] != ' ' && line[3] != '-')) {
		*errstr = "malformed reply line";
		return -1;
	}
	if (r->nlines > 1 && code != r->code) {
		*errstr = "reply code changed within a reply";
		return -1;
	}
	last = len == 3 || line[3] == ' ';
	if (r->nlines == 1) {
		r->code = code;
		relay_reply_text(r, line + (len > 3 ? 4 : 3),
		    len > 3 ? len - 4 : 0);
	} else if (caps != NULL)
		relay_cap_line(caps, line + (len > 3 ? 4 : 3),
		    len > 3 ? len - 4 : 0);
	r->complete = last;
	return last;
}

const char *
relay_reply_str(const struct relay_reply *r, char *buf, size_t size)
{
	/* Cut to the buffer: the text is for a log line or a result. */
	(void)snprintf(buf, size, "%d%s%s%s%s", r->code,
	    r->status[0] != '\0' ? " " : "", r->status,
	    r->text[0] != '\0' ? " " : "", r->text);
	return buf;
}
