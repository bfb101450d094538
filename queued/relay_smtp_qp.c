/*
 * The relay's SMTP client: an 8-bit message for a server without
 * 8BITMIME re-encoded as quoted-printable (RFC 2045 6.7), as Postfix's
 * smtp client does, in the relay process.  A one-pass walker over the
 * MIME structure (the encoder itself is relay_smtp_qpenc.c), streamed: lines are read in pieces of at most
 * RELAY_MIME_PIECE_BYTES, only Content-* fields are held (up to
 * RELAY_MIME_FIELD_MAX_BYTES) and the open multiparts' boundaries kept
 * (up to RELAY_MIME_DEPTH_MAX).
 *
 * What changes (doc/INTERNALS.md, "The relay's SMTP client"):
 * - a leaf part with 8-bit data, or declared 8bit or binary, gets its
 *   body encoded quoted-printable, and "Content-Transfer-Encoding:
 *   quoted-printable" at the end of its header in place of its own;
 *   one without a Content-Type gets "text/plain; charset=unknown-8bit"
 *   (RFC 1428), and the message "MIME-Version: 1.0" if it had none;
 * - a multipart or message/rfc822 declared 8bit or binary is declared
 *   7bit, and its parts are walked (a digest's parts are messages);
 * - everything else passes byte for byte.
 * Reasons not to convert, found by the scan before MAIL: 8-bit data in
 * a header, in a part already encoded (base64, QP, unknown), outside a
 * leaf (a preamble, message/partial...), or past a limit.
 */
#include <stdlib.h>
#include <string.h>

#include "relay_smtp_qp.h"

#define RELAY_MIME_OUT_BYTES	4096

/* An open multipart (with its boundary) or message/rfc822. */
struct mime_frame {
	enum relay_mime_kind	 kind;
	int			 digest;
	size_t			 blen;
	char			 boundary[RELAY_MIME_BOUNDARY_MAX_BYTES + 1];
};

struct relay_mime {
	relay_mime_sink		 sink;
	void			*arg;
	int			 sink_failed;
	enum relay_mime_err	 err;
	/* The line being read. */
	char			 piece[RELAY_MIME_PIECE_BYTES];
	size_t			 plen;
	int			 mid_line;	/* a piece of it went */
	int			 raw_line;	/* its rest goes as it is */
	/* Where the walk is. */
	size_t			 depth;
	struct mime_frame	 stack[RELAY_MIME_DEPTH_MAX];
	int			 in_header;
	/* The entity whose header is read. */
	int			 primary;	/* a message's, not a part's */
	int			 in_digest;	/* default message/rfc822 */
	int			 has_ctype, has_version;
	struct relay_mime_ctype	 ct;
	enum relay_mime_cte	 cte;
	enum relay_mime_field	 field;		/* the one being held */
	size_t			 flen, fname;
	char			 fbuf[RELAY_MIME_FIELD_MAX_BYTES];
	size_t			 ctelen;	/* its own CTE field */
	char			 ctebuf[RELAY_MIME_FIELD_MAX_BYTES];
	/* The body being read. */
	enum relay_mime_kind	 body;
	enum relay_mime_cte	 body_cte;
	int			 encoding;
	size_t			 leaf, nleaves;
	struct relay_qp		 qp;
	uint8_t			 has8[RELAY_MIME_PARTS_MAX / 8];
	size_t			 olen;
	char			 out[RELAY_MIME_OUT_BYTES];
};

static void	mime_piece(struct relay_mime *, const char *, size_t, int);

struct relay_mime *
relay_mime_new(void)
{
	return calloc(1, sizeof(struct relay_mime));
}

void
relay_mime_free(struct relay_mime *m)
{
	free(m);
}

static void
mime_entity(struct relay_mime *m, int primary, int in_digest)
{
	m->in_header = 1;
	m->primary = primary;
	m->in_digest = in_digest;
	m->has_ctype = m->has_version = 0;
	memset(&m->ct, 0, sizeof(m->ct));
	m->ct.kind = in_digest ? RELAY_MIME_RFC822 : RELAY_MIME_LEAF;
	m->cte = RELAY_CTE_NONE;
	m->field = RELAY_FIELD_OTHER;
	m->flen = m->ctelen = 0;
}

void
relay_mime_start(struct relay_mime *m, relay_mime_sink sink, void *arg)
{
	uint8_t	 has8[sizeof(m->has8)];

	memcpy(has8, m->has8, sizeof(has8));
	memset(m, 0, sizeof(*m));
	if (sink != NULL)
		memcpy(m->has8, has8, sizeof(has8));
	m->sink = sink;
	m->arg = arg;
	mime_entity(m, 1, 0);
}

static void
mime_fail(struct relay_mime *m, enum relay_mime_err e)
{
	if (m->err == RELAY_MIME_OK)
		m->err = e;
}

static void
mime_flush(struct relay_mime *m)
{
	if (m->olen > 0 && !m->sink_failed &&
	    m->sink(m->arg, m->out, m->olen) == -1)
		m->sink_failed = 1;
	m->olen = 0;
}

/* Output, in the scan's pass nothing. */
static void
mime_emit(struct relay_mime *m, const char *s, size_t n)
{
	size_t	 k;

	if (m->sink == NULL)
		return;
	while (n > 0) {
		if (m->olen == sizeof(m->out))
			mime_flush(m);
		k = sizeof(m->out) - m->olen;
		k = k < n ? k : n;
		memcpy(m->out + m->olen, s, k);
		m->olen += k;
		s += k;
		n -= k;
	}
}

static void
mime_emit_line(struct relay_mime *m, const char *s, size_t n, int eol)
{
	mime_emit(m, s, n);
	if (eol)
		mime_emit(m, "\n", 1);
}

static int
mime_8bit(const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] & 0x80)
			return 1;
	return 0;
}

/* The end of a held field: read it; all but the CTE go out as they are. */
static void
mime_field_end(struct relay_mime *m)
{
	const char	*v = m->fbuf + m->fname + 1;
	size_t		 vlen = m->flen - m->fname - 1;

	if (m->field == RELAY_FIELD_OTHER)
		return;
	if (m->flen == sizeof(m->fbuf))
		mime_fail(m, RELAY_MIME_FIELD);
	if (m->field == RELAY_FIELD_CTYPE) {
		relay_mime_ctype(v, vlen, &m->ct);
		if (m->ct.bad)
			mime_fail(m, RELAY_MIME_FIELD);
		m->has_ctype = 1;
	} else if (m->field == RELAY_FIELD_VERSION)
		m->has_version = 1;
	if (m->field == RELAY_FIELD_CTE) {
		m->cte = relay_mime_cte(v, vlen);
		memcpy(m->ctebuf, m->fbuf, m->flen);
		m->ctelen = m->flen;
	} else
		mime_emit(m, m->fbuf, m->flen);
	m->field = RELAY_FIELD_OTHER;
	m->flen = 0;
}

static void
mime_field_add(struct relay_mime *m, const char *s, size_t n, int eol)
{
	size_t	 k;

	if (m->field == RELAY_FIELD_OTHER) {
		mime_emit_line(m, s, n, eol);
		return;
	}
	k = sizeof(m->fbuf) - m->flen;
	k = k < n ? k : n;
	memcpy(m->fbuf + m->flen, s, k);
	m->flen += k;
	if (eol && m->flen < sizeof(m->fbuf))
		m->fbuf[m->flen++] = '\n';
}

/* Whether this leaf's body is encoded; the scan's findings decide. */
static int
mime_leaf_encodes(struct relay_mime *m)
{
	int	 has8;

	m->leaf = m->nleaves++;
	has8 = m->leaf < RELAY_MIME_PARTS_MAX &&
	    (m->has8[m->leaf / 8] & (1 << (m->leaf % 8)));
	if (m->cte == RELAY_CTE_QP || m->cte == RELAY_CTE_BASE64 ||
	    m->cte == RELAY_CTE_OTHER)
		return 0;
	return has8 || m->cte == RELAY_CTE_8BIT || m->cte == RELAY_CTE_BINARY;
}

/* The fields that say what the conversion did. */
static void
mime_header_fields(struct relay_mime *m, enum relay_mime_kind kind)
{
	static const char version[] = "MIME-Version: 1.0\n";
	static const char ctype[] = "Content-Type: text/plain; "
	    "charset=unknown-8bit\n";
	static const char qp[] = "Content-Transfer-Encoding: "
	    "quoted-printable\n";
	static const char sevenbit[] = "Content-Transfer-Encoding: 7bit\n";
	int	 eightbit = m->cte == RELAY_CTE_8BIT ||
		    m->cte == RELAY_CTE_BINARY;

	if (kind == RELAY_MIME_LEAF && m->encoding) {
		if (m->primary && !m->has_version)
			mime_emit(m, version, sizeof(version) - 1);
		if (!m->has_ctype)
			mime_emit(m, ctype, sizeof(ctype) - 1);
		mime_emit(m, qp, sizeof(qp) - 1);
	} else if (eightbit && (kind == RELAY_MIME_MULTIPART ||
	    kind == RELAY_MIME_RFC822))
		mime_emit(m, sevenbit, sizeof(sevenbit) - 1);
	else
		mime_emit(m, m->ctebuf, m->ctelen);
}

/* The blank line after a header: what the body is. */
static void
mime_header_end(struct relay_mime *m)
{
	enum relay_mime_kind	 kind = m->ct.kind;
	struct mime_frame	*f;

	mime_field_end(m);
	if ((kind == RELAY_MIME_MULTIPART || kind == RELAY_MIME_RFC822) &&
	    m->depth == RELAY_MIME_DEPTH_MAX) {
		mime_fail(m, RELAY_MIME_DEPTH);
		kind = RELAY_MIME_OPAQUE;
	}
	m->encoding = kind == RELAY_MIME_LEAF && mime_leaf_encodes(m);
	mime_header_fields(m, kind);
	mime_emit(m, "\n", 1);
	m->body = kind;
	m->body_cte = m->cte;
	memset(&m->qp, 0, sizeof(m->qp));
	if (kind == RELAY_MIME_MULTIPART || kind == RELAY_MIME_RFC822) {
		f = &m->stack[m->depth++];
		f->kind = kind;
		f->digest = m->ct.digest;
		f->blen = m->ct.blen;
		memcpy(f->boundary, m->ct.boundary, sizeof(f->boundary));
	}
	/* RFC 2045 4: an enclosed message has MIME-Version of its own. */
	if (kind == RELAY_MIME_RFC822)
		mime_entity(m, 1, 0);
	else
		m->in_header = 0;
}

static void
mime_header_piece(struct relay_mime *m, const char *s, size_t n, int first,
    int eol)
{
	size_t	 namelen;
	int	 field;

	if (mime_8bit(s, n))
		mime_fail(m, RELAY_MIME_8BIT_HEADER);
	if (!first || (n > 0 && (s[0] == ' ' || s[0] == '\t'))) {
		mime_field_add(m, s, n, eol);
		return;
	}
	mime_field_end(m);
	if (n == 0 && eol) {
		mime_header_end(m);
		return;
	}
	if ((field = relay_mime_field(s, n, &namelen)) == -1) {
		/* Not a field: the header ends here, the body begins. */
		mime_header_end(m);
		mime_piece(m, s, n, eol);
		return;
	}
	m->field = (enum relay_mime_field)field;
	m->fname = namelen;
	mime_field_add(m, s, n, eol);
}

/* A delimiter line of an open multipart: the frame's index + 1, or 0. */
static size_t
mime_delimiter(struct relay_mime *m, const char *s, size_t n)
{
	size_t	 i;

	if (n < 2 || s[0] != '-' || s[1] != '-')
		return 0;
	for (i = m->depth; i > 0; i--) {
		const struct mime_frame *f = &m->stack[i - 1];

		if (f->kind == RELAY_MIME_MULTIPART && n >= 2 + f->blen &&
		    memcmp(s + 2, f->boundary, f->blen) == 0)
			return i;
	}
	return 0;
}

static void
mime_delimiter_line(struct relay_mime *m, size_t i, const char *s,
    size_t n, int eol)
{
	struct mime_frame	*f = &m->stack[i - 1];
	int			 close;

	close = n >= 4 + f->blen && s[2 + f->blen] == '-' &&
	    s[3 + f->blen] == '-';
	m->encoding = 0;
	m->raw_line = !eol;
	if (mime_8bit(s, n))
		mime_fail(m, RELAY_MIME_COMPOSITE);
	mime_emit_line(m, s, n, eol);
	if (close) {
		m->depth = i - 1;
		m->in_header = 0;
		m->body = RELAY_MIME_OPAQUE;	/* the epilogue */
		m->body_cte = RELAY_CTE_NONE;
	} else {
		m->depth = i;
		mime_entity(m, 0, f->digest);
	}
}

static void
mime_body_piece(struct relay_mime *m, const char *s, size_t n, int first,
    int eol)
{
	char	 out[RELAY_QP_OUT_MAX(RELAY_MIME_PIECE_BYTES)];
	size_t	 i;

	if (first && (i = mime_delimiter(m, s, n)) > 0) {
		mime_delimiter_line(m, i, s, n, eol);
		return;
	}
	if (m->encoding) {
		mime_emit(m, out, relay_qp_encode(&m->qp, s, n, eol, out));
		return;
	}
	if (m->sink == NULL && mime_8bit(s, n)) {
		if (m->body != RELAY_MIME_LEAF)
			mime_fail(m, RELAY_MIME_COMPOSITE);
		else if (m->body_cte == RELAY_CTE_QP || m->body_cte ==
		    RELAY_CTE_BASE64 || m->body_cte == RELAY_CTE_OTHER)
			mime_fail(m, RELAY_MIME_ENCODED);
		else if (m->leaf >= RELAY_MIME_PARTS_MAX)
			mime_fail(m, RELAY_MIME_PARTS);
		else
			m->has8[m->leaf / 8] |= (uint8_t)(1 << (m->leaf % 8));
	}
	mime_emit_line(m, s, n, eol);
}

/* One piece of a line: all of it when eol, else the next comes. */
static void
mime_piece(struct relay_mime *m, const char *s, size_t n, int eol)
{
	int	 first = !m->mid_line;

	m->mid_line = !eol;
	if (!first && m->raw_line) {
		m->raw_line = !eol;
		if (mime_8bit(s, n))
			mime_fail(m, RELAY_MIME_COMPOSITE);
		mime_emit_line(m, s, n, eol);
	} else if (m->in_header)
		mime_header_piece(m, s, n, first, eol);
	else
		mime_body_piece(m, s, n, first, eol);
}

int
relay_mime_feed(struct relay_mime *m, const char *s, size_t len)
{
	const char	*nl;
	size_t		 k;

	while (len > 0) {
		nl = memchr(s, '\n', len);
		k = nl != NULL ? (size_t)(nl - s) : len;
		if (k > sizeof(m->piece) - m->plen)
			k = sizeof(m->piece) - m->plen;
		memcpy(m->piece + m->plen, s, k);
		m->plen += k;
		s += k;
		len -= k;
		if (len > 0 && *s == '\n') {
			mime_piece(m, m->piece, m->plen, 1);
			m->plen = 0;
			s++;
			len--;
		} else if (m->plen == sizeof(m->piece)) {
			mime_piece(m, m->piece, m->plen, 0);
			m->plen = 0;
		}
	}
	if (m->sink != NULL)
		mime_flush(m);
	return m->sink_failed ? -1 : 0;
}

int
relay_mime_end(struct relay_mime *m)
{
	char	 out[8];

	if (m->plen > 0)
		mime_piece(m, m->piece, m->plen, 0);
	m->plen = 0;
	if (m->in_header) {
		mime_field_end(m);
		mime_emit(m, m->ctebuf, m->ctelen);
		m->ctelen = 0;
	}
	if (m->encoding)
		mime_emit(m, out, relay_qp_finish(&m->qp, out));
	if (m->sink != NULL)
		mime_flush(m);
	return m->sink_failed ? -1 : 0;
}

enum relay_mime_err
relay_mime_error(const struct relay_mime *m)
{
	return m->err;
}

const char *
relay_mime_reply(enum relay_mime_err e)
{
	static const char *replies[] = {
		[RELAY_MIME_OK] = "250 2.6.0 convertible",
		[RELAY_MIME_8BIT_HEADER] = "554 5.6.3 8-bit data in a header "
		    "(server lacks 8BITMIME and SMTPUTF8)",
		[RELAY_MIME_ENCODED] = "554 5.6.3 8-bit data in an encoded "
		    "part: cannot convert for a server without 8BITMIME",
		[RELAY_MIME_COMPOSITE] = "554 5.6.3 8-bit data outside a "
		    "convertible part: server lacks 8BITMIME",
		[RELAY_MIME_DEPTH] = "554 5.6.3 MIME nesting too deep to "
		    "convert for a server without 8BITMIME",
		[RELAY_MIME_PARTS] = "554 5.6.3 too many MIME parts to "
		    "convert for a server without 8BITMIME",
		[RELAY_MIME_FIELD] = "554 5.6.3 MIME header field too long "
		    "to convert for a server without 8BITMIME",
	};

	return replies[e];
}
