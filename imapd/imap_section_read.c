/*
 * imapd: what a BODY[section] names in a parsed message (RFC 3501
 * 6.4.5: part numbers through multiparts and encapsulated messages,
 * HEADER, TEXT, MIME, HEADER.FIELDS (NOT)), the partial clipped, and a
 * cursor that reads a raw range in CRLF form piece by piece.  Mailbox
 * process (the mail user, chrooted, seccomp'd): memory only.
 */
#include <string.h>
#include <strings.h>

#include "imap_msg_int.h"

static int
sr_multipart(const struct imap_part *p)
{
	return p->type != NULL && strcmp(p->type, "MULTIPART") == 0;
}

/*
 * The part the numbers name.  A message (the root, or the message of a
 * message/rfc822 part) that is not multipart has one part, 1: its body,
 * shown by the message's own node.
 */
static const struct imap_part *
sr_find(const struct imap_part *root, const struct imap_section *sec)
{
	const struct imap_part *p = root, *c;
	unsigned int	 i, k;
	int		 inmsg = 1;

	for (i = 0; i < sec->nparts; i++) {
		if (!inmsg && p->message != NULL) {
			p = p->message;
			inmsg = 1;
		}
		if (sr_multipart(p)) {
			for (c = p->children, k = 1; c != NULL &&
			    k < sec->part[i]; c = c->next, k++)
				;
			if (c == NULL)
				return NULL;
			p = c;
		} else if (!inmsg || sec->part[i] != 1)
			return NULL;
		inmsg = 0;
	}
	return p;
}

/* Appends raw bytes in CRLF form: 0 or -1. */
static int
sr_add_crlf(struct imap_mbuf *out, const char *s, size_t len)
{
	const char	*nl, *e = s + len, *start = s;

	while (s < e && (nl = memchr(s, '\n', (size_t)(e - s))) != NULL) {
		if (nl == start || nl[-1] != '\r') {
			if (imap_mbuf_add(out, s, (size_t)(nl - s)) == -1 ||
			    imap_mbuf_add(out, "\r\n", 2) == -1)
				return -1;
		} else if (imap_mbuf_add(out, s, (size_t)(nl + 1 - s)) == -1)
			return -1;
		s = nl + 1;
	}
	return imap_mbuf_add(out, s, (size_t)(e - s));
}

static int
sr_wanted(const struct imap_section *sec, const char *name, size_t len)
{
	unsigned int	 i;
	const char	*f;

	for (i = 0; i < sec->nfields; i++) {
		f = sec->fields + sec->field_off[i];
		if (strlen(f) == len && strncasecmp(f, name, len) == 0)
			return 1;
	}
	return 0;
}

/* HEADER.FIELDS (NOT): the chosen fields and the blank line, in CRLF. */
static int
sr_fields(const struct imap_message *m, const struct imap_part *p,
    const struct imap_section *sec, struct imap_mbuf *out)
{
	struct imap_hdr_iter it;
	const char	*n, *v, *raw;
	size_t		 nlen, vlen, rawlen;
	int		 want_not = sec->text == IMAP_SECT_FIELDS_NOT;

	if (imap_mbuf_add(out, "", 0) == -1)
		return -1;
	imap_hdr_iter_init(&it, m, p);
	while (imap_hdr_next(&it, &n, &nlen, &v, &vlen, &raw, &rawlen)) {
		if (sr_wanted(sec, n, nlen) == want_not)
			continue;
		if (sr_add_crlf(out, raw, rawlen) == -1)
			return -1;
		if (raw[rawlen - 1] != '\n' && imap_mbuf_add(out, "\r\n", 2) ==
		    -1)
			return -1;
	}
	return imap_mbuf_add(out, "\r\n", 2);
}

static void
sr_range(struct imap_sect_data *d, const char *raw, size_t len, size_t size)
{
	d->raw = raw;
	d->rawlen = len;
	d->size = size;
}

int
imap_section_resolve(const struct imap_message *m,
    const struct imap_section *sec, struct imap_mbuf *scratch,
    struct imap_sect_data *d)
{
	const struct imap_part *p, *msg;

	sr_range(d, "", 0, 0);
	if ((p = sr_find(m->root, sec)) == NULL)
		return 1;
	if (sec->nparts == 0 && sec->text == IMAP_SECT_ALL) {
		sr_range(d, m->buf, m->len, p->hdr_crlf + p->body_crlf);
		return 0;
	}
	if (sec->text == IMAP_SECT_ALL) {
		sr_range(d, m->buf + p->body_off, p->body_len, p->body_crlf);
		return 0;
	}
	if (sec->text == IMAP_SECT_MIME) {
		sr_range(d, m->buf + p->hdr_off, p->hdr_len, p->hdr_crlf);
		return 0;
	}
	if ((msg = sec->nparts == 0 ? p : p->message) == NULL)
		return 1;
	switch (sec->text) {
	case IMAP_SECT_HEADER:
		sr_range(d, m->buf + msg->hdr_off, msg->hdr_len, msg->hdr_crlf);
		return 0;
	case IMAP_SECT_TEXT:
		sr_range(d, m->buf + msg->body_off, msg->body_len,
		    msg->body_crlf);
		return 0;
	default:
		if (scratch == NULL)
			return -1;
		imap_mbuf_reset(scratch);
		if (sr_fields(m, msg, sec, scratch) == -1)
			return -1;
		sr_range(d, scratch->data, scratch->len, scratch->len);
		return 0;
	}
}

void
imap_partial_clip(size_t size, int has_partial, size_t start, size_t count,
    size_t *off, size_t *n)
{
	if (!has_partial) {
		*off = 0;
		*n = size;
	} else if (start >= size) {
		*off = size;
		*n = 0;
	} else {
		*off = start;
		*n = size - start < count ? size - start : count;
	}
}

void
imap_crlf_seek(struct imap_crlf_cursor *c, const char *raw, size_t rawlen,
    size_t off)
{
	const char	*nl;
	size_t		 run;

	c->p = raw;
	c->end = raw + rawlen;
	c->lf_pending = 0;
	c->prev_cr = 0;
	while (off > 0 && c->p < c->end) {
		nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
		run = nl ? (size_t)(nl - c->p) : (size_t)(c->end - c->p);
		if (nl == NULL && off > run) {
			c->p = c->end;
			return;
		}
		if (off <= run) {
			c->p += off;
			c->prev_cr = c->p[-1] == '\r';
			return;
		}
		/* Before the LF: the run, then the LF's one or two bytes. */
		c->prev_cr = run > 0 ? c->p[run - 1] == '\r' : c->prev_cr;
		c->p += run;
		off -= run;
		if (c->prev_cr || off >= 2) {
			off -= c->prev_cr ? 1 : 2;
			c->p++;
			c->prev_cr = 0;
		} else {
			c->lf_pending = 1;	/* off == 1: after the CR */
			return;
		}
	}
}

size_t
imap_crlf_read(struct imap_crlf_cursor *c, char *out, size_t outlen)
{
	const char	*nl;
	size_t		 n = 0, run;

	while (n < outlen && c->p < c->end) {
		if (c->lf_pending) {
			out[n++] = '\n';
			c->p++;
			c->lf_pending = 0;
			c->prev_cr = 0;
		} else if (*c->p == '\n' && !c->prev_cr) {
			out[n++] = '\r';
			c->lf_pending = 1;
		} else if (*c->p == '\n') {
			out[n++] = '\n';
			c->p++;
			c->prev_cr = 0;
		} else {
			/* The bytes up to the next LF, copied as they are. */
			run = (size_t)(c->end - c->p);
			if ((nl = memchr(c->p, '\n', run)) != NULL)
				run = (size_t)(nl - c->p);
			if (run > outlen - n)
				run = outlen - n;
			memcpy(out + n, c->p, run);
			n += run;
			c->p += run;
			c->prev_cr = c->p[-1] == '\r';
		}
	}
	return n;
}
