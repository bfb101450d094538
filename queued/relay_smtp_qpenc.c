/*
 * The relay's SMTP client: the quoted-printable encoder (RFC 2045 6.7)
 * that relay_smtp_qp.c runs over the 8-bit parts of a message for a
 * server without 8BITMIME.  Pure, streamed: it is fed pieces of lines
 * and keeps only the output column and a held space or tab, which
 * becomes =20 or =09 if the line ends after it (rule 3).  Printable
 * ASCII but '=' goes as it is (rule 2), every other byte as =XX (rule
 * 1), and a soft line break "=" LF keeps every line to
 * RELAY_QP_LINE_MAX_BYTES (rule 5).  Lines end in LF, the queue's
 * stored form; relay_smtp_data.c makes them CRLF and stuffs dots.
 */
#include <string.h>

#include "relay_smtp_qp.h"

static const char qp_hex[] = "0123456789ABCDEF";

/* One encoded token, with a soft break first if it would not fit. */
static size_t
qp_put(struct relay_qp *q, const char *tok, size_t n, char *out)
{
	size_t	 o = 0;

	if (q->col + n > RELAY_QP_LINE_MAX_BYTES - 1) {
		out[o++] = '=';
		out[o++] = '\n';
		q->col = 0;
	}
	memcpy(out + o, tok, n);
	q->col += n;
	return o + n;
}

static size_t
qp_byte(struct relay_qp *q, unsigned char ch, int literal, char *out)
{
	char	 tok[3] = { '=', qp_hex[ch >> 4], qp_hex[ch & 0xf] };

	if (literal) {
		tok[0] = (char)ch;
		return qp_put(q, tok, 1, out);
	}
	return qp_put(q, tok, 3, out);
}

size_t
relay_qp_encode(struct relay_qp *q, const char *in, size_t len, int eol,
    char *out)
{
	unsigned char	 ch;
	size_t		 i, o = 0;

	for (i = 0; i < len; i++) {
		ch = (unsigned char)in[i];
		if (q->ws != '\0') {
			/* Not at a line end: it may stay as it is. */
			o += qp_byte(q, (unsigned char)q->ws, 1, out + o);
			q->ws = '\0';
		}
		if (ch == ' ' || ch == '\t')
			q->ws = (char)ch;
		else
			o += qp_byte(q, ch, ch > 0x20 && ch < 0x7f &&
			    ch != '=', out + o);
	}
	if (eol) {
		o += relay_qp_finish(q, out + o);
		out[o++] = '\n';
		q->col = 0;
	}
	return o;
}

size_t
relay_qp_finish(struct relay_qp *q, char *out)
{
	size_t	 o = 0;

	/* RFC 2045 6.7 (3): no white space left before a line end. */
	if (q->ws != '\0')
		o = qp_byte(q, (unsigned char)q->ws, 0, out);
	q->ws = '\0';
	return o;
}
