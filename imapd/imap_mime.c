/*
 * imapd: a message's MIME tree (RFC 2045, 2046): each part's header and
 * body ranges, its Content-* fields, multipart bodies split at their
 * boundaries, message/rfc822 (and message/global, RFC 6532) parsed as
 * the message they hold.  Bounded in depth and part count
 * (IMAP_MSG_DEPTH_MAX, IMAP_MSG_PARTS_MAX): past them a part is opaque.
 * Mailbox process (the mail user, chrooted, seccomp'd): memory only.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "imap_msg_int.h"

/* Where a part's header ends: its blank line's end, or end. */
static size_t
mime_header_end(const char *buf, size_t off, size_t end, size_t *body)
{
	const char	*p = buf + off, *e = buf + end;

	while (p < e) {
		if (*p == '\n') {
			*body = (size_t)(p + 1 - buf);
			return *body;
		}
		if (*p == '\r' && p + 1 < e && p[1] == '\n') {
			*body = (size_t)(p + 2 - buf);
			return *body;
		}
		p = msg_line_next(p, e);
	}
	*body = end;
	return end;
}

/* Copies s into the arena in upper case. */
static char *
mime_upper(struct imap_message *m, const char *s, size_t len)
{
	char	*p;
	size_t	 i;

	if ((p = msg_strndup(m, s, len)) == NULL)
		return NULL;
	for (i = 0; i < len; i++)
		p[i] = (char)toupper((unsigned char)p[i]);
	return p;
}

/* The first token of a value (a comment after it dropped), upper case. */
static char *
mime_token(struct imap_message *m, const char *s, size_t len)
{
	const char	*p = msg_cfws(s, s + len), *t = p;

	while (p < s + len && *p != ' ' && *p != '\t' && *p != '(' &&
	    *p != ';')
		p++;
	return p > t ? mime_upper(m, t, (size_t)(p - t)) : NULL;
}

static void
mime_set_type(struct imap_message *m, struct imap_part *p, const char *type,
    const char *subtype)
{
	p->type = mime_upper(m, type, strlen(type));
	p->subtype = mime_upper(m, subtype, strlen(subtype));
}

/* RFC 2045 5.2: text/plain; charset=us-ascii when there is none. */
static void
mime_default_type(struct imap_message *m, struct imap_part *p, int digest)
{
	if (digest) {
		mime_set_type(m, p, "message", "rfc822");
		return;
	}
	mime_set_type(m, p, "text", "plain");
	if ((p->params = msg_alloc(m, sizeof(*p->params))) == NULL)
		return;
	p->params[0].name = msg_strndup(m, "CHARSET", 7);
	p->params[0].value = msg_strndup(m, "US-ASCII", 8);
	if (p->params[0].name != NULL && p->params[0].value != NULL)
		p->nparams = 1;
}

static void
mime_content_type(struct imap_message *m, struct imap_part *p, size_t len)
{
	struct mime_ctype ct;

	if (mime_parse_ctype(m->field, len, &ct) == -1)
		return;
	p->type = mime_upper(m, ct.type, ct.typelen);
	p->subtype = mime_upper(m, ct.subtype, ct.subtypelen);
	mime_params(m, ct.params, ct.paramslen, &p->params, &p->nparams);
	p->boundary = (char *)(uintptr_t)imap_part_param(p, "BOUNDARY");
}

static void
mime_disposition(struct imap_message *m, struct imap_part *p, size_t len)
{
	struct mime_ctype ct;

	if (mime_parse_disp(m->field, len, &ct) == -1)
		return;
	p->disposition = mime_upper(m, ct.type, ct.typelen);
	mime_params(m, ct.params, ct.paramslen, &p->disp_params,
	    &p->ndisp_params);
}

/* The Content-* fields a part's BODYSTRUCTURE shows, first one wins. */
static void
mime_fields(struct imap_message *m, struct imap_part *p)
{
	struct imap_hdr_iter it;
	const char	*n, *v;
	size_t		 nlen, vlen, len;

	imap_hdr_iter_init(&it, m, p);
	while (imap_hdr_next(&it, &n, &nlen, &v, &vlen, NULL, NULL)) {
		if (nlen < 8 || strncasecmp(n, "Content-", 8) != 0)
			continue;
		n += 8;
		nlen -= 8;
		len = msg_unfold(v, vlen, m->field, IMAP_MSG_FIELD_MAX_BYTES);
#define IS(s)	(nlen == sizeof(s) - 1 && strncasecmp(n, s, nlen) == 0)
		if (IS("Type") && p->type == NULL)
			mime_content_type(m, p, len);
		else if (IS("Disposition") && p->disposition == NULL)
			mime_disposition(m, p, len);
		else if (IS("Transfer-Encoding") && p->encoding == NULL)
			p->encoding = mime_token(m, m->field, len);
		else if (IS("ID") && p->id == NULL)
			p->id = msg_strndup(m, m->field, len);
		else if (IS("Description") && p->description == NULL)
			p->description = msg_strndup(m, m->field, len);
		else if (IS("MD5") && p->md5 == NULL)
			p->md5 = msg_strndup(m, m->field, len);
		else if (IS("Language") && p->language == NULL)
			p->language = msg_strndup(m, m->field, len);
		else if (IS("Location") && p->location == NULL)
			p->location = msg_strndup(m, m->field, len);
#undef IS
	}
}

/*
 * Whether the line at p is a delimiter of boundary b: 1 for
 * "--b", 2 for the close delimiter "--b--", 0 for neither.  Only
 * white space may follow (RFC 2046 5.1.1).
 */
static int
mime_delimiter(const char *p, const char *e, const char *b, size_t blen)
{
	int	 kind = 1;

	if ((size_t)(e - p) < blen + 2 || p[0] != '-' || p[1] != '-' ||
	    memcmp(p + 2, b, blen) != 0)
		return 0;
	p += blen + 2;
	if (e - p >= 2 && p[0] == '-' && p[1] == '-') {
		kind = 2;
		p += 2;
	}
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\r'))
		p++;
	return p == e || *p == '\n' ? kind : 0;
}

/* One part of a multipart, from start to the line end before end. */
static int
mime_child(struct imap_message *m, struct imap_part *p, size_t start,
    size_t end, int strip)
{
	struct imap_part *c;
	int		 digest;

	if (strip && end > start && m->buf[end - 1] == '\n') {
		end--;
		if (end > start && m->buf[end - 1] == '\r')
			end--;
	}
	if ((c = msg_new_part(m, p)) == NULL) {
		p->flags |= IMAP_PART_OPAQUE;
		return -1;
	}
	digest = p->subtype != NULL && strcmp(p->subtype, "DIGEST") == 0;
	mime_parse_part(m, c, start, end, digest);
	return 0;
}

/* Splits a multipart body at its boundary into its parts. */
static void
mime_split(struct imap_message *m, struct imap_part *p)
{
	const char	*b = p->boundary, *s = m->buf + p->body_off;
	const char	*e = s + p->body_len, *line;
	size_t		 blen = strlen(b), start = 0;
	int		 open = 0, kind;

	for (line = s; line < e; line = msg_line_next(line, e)) {
		if ((kind = mime_delimiter(line, e, b, blen)) == 0)
			continue;
		if (open && mime_child(m, p, start, (size_t)(line - m->buf),
		    1) == -1)
			return;
		if (kind == 2)
			return;
		open = 1;
		start = (size_t)(msg_line_next(line, e) - m->buf);
	}
	p->flags |= IMAP_PART_NOBOUNDARY;
	if (open)
		mime_child(m, p, start, p->body_off + p->body_len, 0);
}

/* Whether a message/ part holds a message that can be parsed. */
static int
mime_encapsulates(const struct imap_part *p)
{
	if (strcmp(p->type, "MESSAGE") != 0 ||
	    (strcmp(p->subtype, "RFC822") != 0 &&
	    strcmp(p->subtype, "GLOBAL") != 0))
		return 0;
	/* RFC 2046 5.2.1: only 7bit, 8bit or binary; else it is opaque. */
	return p->encoding == NULL || strcmp(p->encoding, "7BIT") == 0 ||
	    strcmp(p->encoding, "8BIT") == 0 ||
	    strcmp(p->encoding, "BINARY") == 0;
}

static void
mime_encapsulated(struct imap_message *m, struct imap_part *p)
{
	struct imap_part *c;

	if ((c = msg_new_part(m, NULL)) == NULL) {
		p->flags |= IMAP_PART_OPAQUE;
		return;
	}
	c->parent = p;
	c->depth = p->depth + 1;
	p->message = c;
	mime_parse_part(m, c, p->body_off, p->body_off + p->body_len, 0);
}

void
mime_parse_part(struct imap_message *m, struct imap_part *p, size_t off,
    size_t end, int digest)
{
	size_t	 body;

	p->hdr_off = off;
	p->hdr_len = mime_header_end(m->buf, off, end, &body) - off;
	p->body_off = body;
	p->body_len = end - body;
	msg_count(m->buf + off, p->hdr_len, &p->hdr_crlf, NULL);
	msg_count(m->buf + body, p->body_len, &p->body_crlf, &p->body_lines);
	mime_fields(m, p);
	if (p->type == NULL || p->subtype == NULL)
		mime_default_type(m, p, digest);
	if (p->type == NULL || p->subtype == NULL) {
		p->flags |= IMAP_PART_OPAQUE;
		return;
	}
	if (p->depth >= IMAP_MSG_DEPTH_MAX) {
		p->flags |= IMAP_PART_OPAQUE;
		return;
	}
	if (strcmp(p->type, "MULTIPART") == 0 && p->boundary != NULL &&
	    *p->boundary != '\0' &&
	    strlen(p->boundary) <= IMAP_MSG_BOUNDARY_MAX_BYTES)
		mime_split(m, p);
	else if (mime_encapsulates(p))
		mime_encapsulated(m, p);
}
