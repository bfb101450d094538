/*
 * imapd: SEARCH's text keys over a parsed message (RFC 3501 6.4.4:
 * BODY, TEXT, HEADER, FROM, SUBJECT, ...): each text part decoded from
 * its transfer encoding and charset in windows of
 * IMAP_MSG_DECODE_CHUNK_BYTES and fed to the matcher, header fields
 * decoded as RFC 2047 says.  Mailbox process (the mail user, chrooted,
 * seccomp'd): memory only.
 */
#include <string.h>
#include <strings.h>

#include "imap_msg_int.h"

/* A body decoded as it streams. */
struct sdec {
	struct imap_match	*m;
	enum imap_charset	 cs;
	int			 enc;		/* 'q', 'b' or 0 */
	int			 qp;		/* quoted-printable's state */
	int			 qp_hi;
	uint32_t		 acc;		/* base64's bits */
	int			 nacc;
	unsigned char		 out[IMAP_MSG_DECODE_CHUNK_BYTES];
	size_t			 nout;
};

/* Decoded bytes through the charset to the matcher. */
static void
sdec_match(struct sdec *d, const unsigned char *s, size_t n)
{
	size_t	 i;

	if (d->cs == IMAP_CS_8859_1 || d->cs == IMAP_CS_8859_2 ||
	    d->cs == IMAP_CS_8859_15 || d->cs == IMAP_CS_CP1252 ||
	    d->cs == IMAP_CS_KOI8R) {
		for (i = 0; i < n && !d->m->found; i++)
			match_feed_cp(d->m, charset_byte(d->cs, s[i]));
	} else
		imap_match_feed(d->m, (const char *)s, n);
}

static void
sdec_flush(struct sdec *d)
{
	sdec_match(d, d->out, d->nout);
	d->nout = 0;
}

static void
sdec_put(struct sdec *d, int c)
{
	if (d->nout == sizeof(d->out))
		sdec_flush(d);
	d->out[d->nout++] = (unsigned char)c;
}

/*
 * Quoted-printable, a byte at a time: 0 text, 1 after '=', 2 after '='
 * and a hex digit, 3 in a soft line break (white space or CR after '=').
 */
static void
sdec_qp(struct sdec *d, int c)
{
	int	 v;

	switch (d->qp) {
	case 1:
		if ((v = dec_hex(c)) >= 0) {
			d->qp_hi = c;
			d->qp = 2;
		} else if (c == '\n')
			d->qp = 0;
		else if (c == ' ' || c == '\t' || c == '\r')
			d->qp = 3;
		else {
			sdec_put(d, '=');
			sdec_put(d, c);
			d->qp = 0;
		}
		return;
	case 2:
		if ((v = dec_hex(c)) >= 0)
			sdec_put(d, dec_hex(d->qp_hi) * 16 + v);
		else {
			sdec_put(d, '=');
			sdec_put(d, d->qp_hi);
			sdec_put(d, c);
		}
		d->qp = 0;
		return;
	case 3:
		if (c == '\n')
			d->qp = 0;
		return;
	}
	if (c == '=')
		d->qp = 1;
	else
		sdec_put(d, c);
}

static void
sdec_b64(struct sdec *d, int c)
{
	int	 v;

	if ((v = dec_b64(c)) < 0)
		return;
	d->acc = d->acc << 6 | (uint32_t)v;
	if (++d->nacc < 4)
		return;
	sdec_put(d, (int)(d->acc >> 16 & 0xff));
	sdec_put(d, (int)(d->acc >> 8 & 0xff));
	sdec_put(d, (int)(d->acc & 0xff));
	d->nacc = 0;
	d->acc = 0;
}

/* Base64's last group, cut short by padding or the end. */
static void
sdec_b64_end(struct sdec *d)
{
	if (d->nacc >= 2)
		sdec_put(d, (int)(d->acc >> (6 * d->nacc - 8) & 0xff));
	if (d->nacc == 3)
		sdec_put(d, (int)(d->acc >> 2 & 0xff));
}

/* One text part's body, decoded, to the matcher. */
static void
search_leaf(const struct imap_message *msg, const struct imap_part *p,
    struct imap_match *m)
{
	struct sdec	 d;
	const char	*s = msg->buf + p->body_off, *cs;
	size_t		 i;

	memset(&d, 0, sizeof(d));
	d.m = m;
	cs = imap_part_param(p, "CHARSET");
	d.cs = cs ? imap_charset_lookup(cs, strlen(cs)) : IMAP_CS_UNKNOWN;
	if (p->encoding != NULL && strcmp(p->encoding, "BASE64") == 0)
		d.enc = 'b';
	else if (p->encoding != NULL &&
	    strcmp(p->encoding, "QUOTED-PRINTABLE") == 0)
		d.enc = 'q';
	for (i = 0; d.enc == 0 && i < p->body_len && !m->found;
	    i += sizeof(d.out))
		sdec_match(&d, (const unsigned char *)s + i,
		    p->body_len - i < sizeof(d.out) ? p->body_len - i :
		    sizeof(d.out));
	for (i = 0; d.enc != 0 && i < p->body_len && !m->found; i++) {
		if (d.enc == 'q')
			sdec_qp(&d, (unsigned char)s[i]);
		else
			sdec_b64(&d, (unsigned char)s[i]);
		if (d.nout == sizeof(d.out))
			sdec_flush(&d);
	}
	if (d.enc == 'b')
		sdec_b64_end(&d);
	sdec_flush(&d);
}

/* Forgets a partial match: a match does not run across parts. */
static void
search_break(struct imap_match *m)
{
	int	 found = m->found;

	imap_match_reset(m);
	m->found = found || m->found;
}

/* Every field of a header, decoded, "Name: value" a line each. */
static void
search_header(const struct imap_message *msg, const struct imap_part *p,
    struct imap_match *m)
{
	struct imap_hdr_iter it;
	struct imap_mbuf dec;
	const char	*n, *v;
	size_t		 nlen, vlen;

	imap_mbuf_init(&dec, IMAP_MSG_FIELD_MAX_BYTES);
	imap_hdr_iter_init(&it, msg, p);
	while (!m->found &&
	    imap_hdr_next(&it, &n, &nlen, &v, &vlen, NULL, NULL)) {
		imap_mbuf_reset(&dec);
		imap_hdr_decode(v, vlen, &dec);
		imap_match_feed(m, n, nlen);
		imap_match_feed(m, ": ", 2);
		if (dec.len > 0)
			imap_match_feed(m, dec.data, dec.len);
		search_break(m);
	}
	imap_mbuf_free(&dec);
}

static void
search_part(const struct imap_message *msg, const struct imap_part *p,
    struct imap_match *m)
{
	const struct imap_part *c;

	if (m->found)
		return;
	if (p->message != NULL) {
		search_header(msg, p->message, m);
		search_part(msg, p->message, m);
	} else if (p->type != NULL && strcmp(p->type, "MULTIPART") == 0) {
		for (c = p->children; c != NULL && !m->found; c = c->next)
			search_part(msg, c, m);
	} else if (p->type == NULL || strcmp(p->type, "TEXT") == 0)
		search_leaf(msg, p, m);
	search_break(m);
}

int
imap_msg_search_body(const struct imap_message *msg, struct imap_match *m)
{
	imap_match_reset(m);
	search_part(msg, msg->root, m);
	return m->found;
}

int
imap_msg_search_text(const struct imap_message *msg, struct imap_match *m)
{
	imap_match_reset(m);
	search_header(msg, msg->root, m);
	search_part(msg, msg->root, m);
	return m->found;
}

int
imap_msg_search_header(const struct imap_message *msg, const char *name,
    struct imap_match *m)
{
	struct imap_hdr_iter it;
	struct imap_mbuf dec;
	const char	*n, *v;
	size_t		 nlen, vlen, want = strlen(name);
	int		 found = 0;

	imap_mbuf_init(&dec, IMAP_MSG_FIELD_MAX_BYTES);
	imap_hdr_iter_init(&it, msg, msg->root);
	while (!found && imap_hdr_next(&it, &n, &nlen, &v, &vlen, NULL,
	    NULL)) {
		if (nlen != want || strncasecmp(n, name, nlen) != 0)
			continue;
		imap_match_reset(m);
		imap_mbuf_reset(&dec);
		imap_hdr_decode(v, vlen, &dec);
		found = m->found ||
		    (dec.len > 0 && imap_match_feed(m, dec.data, dec.len));
	}
	imap_mbuf_free(&dec);
	return found;
}
