/*
 * imapd: content transfer decodings (quoted-printable, RFC 2045 6.7;
 * base64, 6.8) and header values made readable (RFC 2047 encoded words,
 * charsets to UTF-8), for SEARCH, SORT and THREAD.  Mailbox process
 * (the mail user, chrooted, seccomp'd): memory only.
 */
#include <string.h>

#include "imap_msg_int.h"

int
dec_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* After '=' at in[i]: the bytes a soft line break takes, or 0. */
static size_t
dec_qp_soft(const char *in, size_t len, size_t i)
{
	size_t	 j = i + 1;

	while (j < len && (in[j] == ' ' || in[j] == '\t'))
		j++;
	if (j < len && in[j] == '\r')
		j++;
	if (j < len && in[j] == '\n')
		return j + 1 - i;
	return j == len ? j - i : 0;
}

int
imap_qp_decode(const char *in, size_t len, int header_q,
    struct imap_mbuf *out)
{
	size_t	 i, soft;
	int	 hi, lo, c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)in[i];
		if (c == '_' && header_q)
			c = ' ';
		else if (c == '=' && i + 2 < len &&
		    (hi = dec_hex((unsigned char)in[i + 1])) >= 0 &&
		    (lo = dec_hex((unsigned char)in[i + 2])) >= 0) {
			c = hi * 16 + lo;
			i += 2;
		} else if (c == '=' && !header_q &&
		    (soft = dec_qp_soft(in, len, i)) > 0) {
			i += soft - 1;
			continue;
		}
		if (imap_mbuf_addc(out, c) == -1)
			return -1;
	}
	return 0;
}

/* The value of a base64 character (RFC 2045 table 1), or -1. */
int
dec_b64(int c)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char	*q;

	if (c == '\0' || (q = strchr(alphabet, c)) == NULL)
		return -1;
	return (int)(q - alphabet);
}

int
imap_base64_decode(const char *in, size_t len, struct imap_mbuf *out)
{
	uint32_t	 acc = 0;
	size_t		 i;
	int		 v, n = 0;

	for (i = 0; i < len && in[i] != '='; i++) {
		if ((v = dec_b64((unsigned char)in[i])) < 0)
			continue;
		acc = acc << 6 | (uint32_t)v;
		if (++n == 4) {
			if (imap_mbuf_addc(out, (int)(acc >> 16 & 0xff)) == -1 ||
			    imap_mbuf_addc(out, (int)(acc >> 8 & 0xff)) == -1 ||
			    imap_mbuf_addc(out, (int)(acc & 0xff)) == -1)
				return -1;
			acc = 0;
			n = 0;
		}
	}
	if (n >= 2 && imap_mbuf_addc(out, (int)(acc >> (6 * n - 8) & 0xff)) ==
	    -1)
		return -1;
	if (n == 3 && imap_mbuf_addc(out, (int)(acc >> 2 & 0xff)) == -1)
		return -1;
	return 0;
}

/* RFC 2047 2: "=?charset?E?text?=", charset maybe with "*lang". */
struct eword {
	const char	*cs;
	size_t		 cslen;
	int		 enc;
	const char	*text;
	size_t		 textlen;
	size_t		 len;		/* of the whole word */
};

static int
dec_eword(const char *s, size_t len, struct eword *w)
{
	const char	*q, *e = s + len, *end;

	if (len < 8 || s[0] != '=' || s[1] != '?')
		return 0;
	/* RFC 2047 2 says 75; longer ones exist, endless ones do not. */
	if (len > IMAP_MSG_EWORD_MAX_BYTES)
		e = s + IMAP_MSG_EWORD_MAX_BYTES;
	if ((q = memchr(s + 2, '?', (size_t)(e - s) - 2)) == NULL ||
	    q + 3 >= e ||
	    q[2] != '?')
		return 0;
	w->cs = s + 2;
	w->cslen = (size_t)(q - w->cs);
	w->enc = q[1] | 0x20;
	if (w->cslen == 0 || (w->enc != 'b' && w->enc != 'q'))
		return 0;
	w->text = q + 3;
	for (end = w->text; end + 1 < e; end++)
		if (end[0] == '?' && end[1] == '=')
			break;
	if (end + 1 >= e)
		return 0;
	w->textlen = (size_t)(end - w->text);
	w->len = (size_t)(end + 2 - s);
	if ((q = memchr(w->cs, '*', w->cslen)) != NULL)
		w->cslen = (size_t)(q - w->cs);
	return 1;
}

/* The decoded bytes of adjacent words in one charset, not yet converted. */
struct dec_state {
	struct imap_mbuf	 words;
	enum imap_charset	 cs;
	struct imap_mbuf	*out;
};

static int
dec_flush(struct dec_state *st)
{
	int	 rc = 0;

	if (st->words.len > 0)
		rc = imap_charset_to_utf8(st->cs, st->words.data,
		    st->words.len, st->out);
	imap_mbuf_reset(&st->words);
	return rc;
}

static int
dec_word(struct dec_state *st, const struct eword *w)
{
	enum imap_charset cs = imap_charset_lookup(w->cs, w->cslen);

	if (cs != st->cs && dec_flush(st) == -1)
		return -1;
	st->cs = cs;
	if (w->enc == 'b')
		return imap_base64_decode(w->text, w->textlen, &st->words);
	return imap_qp_decode(w->text, w->textlen, 1, &st->words);
}

/* Plain text up to the next encoded word, white space before it apart. */
static int
dec_plain(struct dec_state *st, const char *s, size_t len)
{
	if (len == 0)
		return 0;
	if (dec_flush(st) == -1)
		return -1;
	return imap_charset_to_utf8(IMAP_CS_UNKNOWN, s, len, st->out);
}

static int
dec_run(struct dec_state *st, const char *s, size_t n)
{
	struct eword	 w;
	size_t		 i = 0, plain = 0, ws;
	int		 prev_word = 0;

	while (i < n) {
		for (ws = i; ws < n && (s[ws] == ' ' || s[ws] == '\t'); ws++)
			;
		if (ws < n && dec_eword(s + ws, n - ws, &w)) {
			/* RFC 2047 6.2: space between two words is dropped. */
			if (dec_plain(st, s + plain, (prev_word ? i : ws) -
			    plain) == -1 || dec_word(st, &w) == -1)
				return -1;
			i = plain = ws + w.len;
			prev_word = 1;
			continue;
		}
		if (ws > i) {
			i = ws;
			continue;
		}
		prev_word = 0;
		i++;
	}
	if (prev_word)
		return dec_flush(st);
	return dec_plain(st, s + plain, n - plain);
}

int
imap_hdr_decode(const char *value, size_t len, struct imap_mbuf *out)
{
	struct dec_state st;
	struct imap_mbuf tmp;
	size_t		 n;
	int		 rc = -1;

	imap_mbuf_init(&tmp, IMAP_MSG_FIELD_MAX_BYTES);
	imap_mbuf_init(&st.words, IMAP_MSG_FIELD_MAX_BYTES);
	st.cs = IMAP_CS_UNKNOWN;
	st.out = out;
	if (len > IMAP_MSG_FIELD_MAX_BYTES)
		len = IMAP_MSG_FIELD_MAX_BYTES;
	if (imap_mbuf_add(&tmp, value, len) == -1)
		goto done;
	n = msg_unfold(value, len, tmp.data, len);
	rc = dec_run(&st, tmp.data, n);
done:
	imap_mbuf_free(&tmp);
	imap_mbuf_free(&st.words);
	return rc;
}
