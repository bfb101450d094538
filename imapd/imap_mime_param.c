/*
 * imapd: Content-Type and Content-Disposition values split into their
 * type and parameters (RFC 2045 5.1, RFC 2183), parameters decoded as
 * RFC 2231 says (continuations joined, charset'lang'%XX values to
 * UTF-8).  Mailbox process (the mail user, chrooted, seccomp'd): memory
 * only.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "imap_msg_int.h"

/* One "attr=value" as written, before RFC 2231 joins them. */
struct raw_param {
	const char	*attr;		/* the name before any '*' */
	size_t		 attrlen;
	int		 section;	/* -1 when not a continuation */
	int		 ext;		/* an extended ("*") value */
	size_t		 voff;		/* the value in the scratch buffer */
	size_t		 vlen;
};
#define RAW_PARAMS_MAX	(IMAP_MSG_PARAMS_MAX + IMAP_MSG_PARAM_SECTIONS_MAX)

/* RFC 2045 5.1: tspecials, space and controls end a token. */
static int
mp_tokenc(int c)
{
	return c > ' ' && c < 0x7f && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

static const char *
mp_token(const char *p, const char *e, const char **tok, size_t *len)
{
	const char	*s;

	p = msg_cfws(p, e);
	for (s = p; p < e && mp_tokenc((unsigned char)*p); p++)
		;
	*tok = s;
	*len = (size_t)(p - s);
	return p;
}

int
mime_parse_ctype(const char *s, size_t len, struct mime_ctype *ct)
{
	const char	*p, *e = s + len;

	p = mp_token(s, e, &ct->type, &ct->typelen);
	p = msg_cfws(p, e);
	if (ct->typelen == 0 || p >= e || *p != '/')
		return -1;
	p = mp_token(p + 1, e, &ct->subtype, &ct->subtypelen);
	if (ct->subtypelen == 0)
		return -1;
	ct->params = p;
	ct->paramslen = (size_t)(e - p);
	return 0;
}

int
mime_parse_disp(const char *s, size_t len, struct mime_ctype *ct)
{
	const char	*p, *e = s + len;

	p = mp_token(s, e, &ct->type, &ct->typelen);
	if (ct->typelen == 0)
		return -1;
	ct->subtype = NULL;
	ct->subtypelen = 0;
	ct->params = p;
	ct->paramslen = (size_t)(e - p);
	return 0;
}

/* A value: a quoted string unescaped, or the bytes up to ';' or space. */
static const char *
mp_value(const char *p, const char *e, struct imap_mbuf *vals)
{
	if (p < e && *p == '"') {
		for (p++; p < e && *p != '"'; p++) {
			if (*p == '\\' && p + 1 < e)
				p++;
			imap_mbuf_addc(vals, *p);
		}
		return p < e ? p + 1 : p;
	}
	for (; p < e && *p != ';' && *p != ' ' && *p != '\t'; p++)
		imap_mbuf_addc(vals, *p);
	return p;
}

/* Splits attr into its name, section and extended flag. */
static void
mp_attr(struct raw_param *rp, const char *a, size_t alen)
{
	const char	*star = memchr(a, '*', alen), *q;
	int		 sec = 0;

	rp->attr = a;
	rp->attrlen = star ? (size_t)(star - a) : alen;
	rp->section = -1;
	rp->ext = 0;
	if (star == NULL)
		return;
	q = star + 1;
	if (q < a + alen && isdigit((unsigned char)*q)) {
		for (; q < a + alen && isdigit((unsigned char)*q); q++)
			if (sec < IMAP_MSG_PARAM_SECTIONS_MAX)
				sec = sec * 10 + (*q - '0');
		rp->section = sec;
		if (q < a + alen && *q == '*')
			rp->ext = 1;
	} else
		rp->ext = 1;
}

/* Reads the raw parameters; their number. */
static unsigned int
mp_scan(const char *s, size_t len, struct raw_param *rp,
    struct imap_mbuf *vals)
{
	const char	*p = s, *e = s + len, *a;
	size_t		 alen;
	unsigned int	 n = 0;

	while (p < e && n < RAW_PARAMS_MAX) {
		p = msg_cfws(p, e);
		if (p < e && *p == ';') {
			p++;
			continue;
		}
		p = mp_token(p, e, &a, &alen);
		p = msg_cfws(p, e);
		if (alen == 0 || p >= e || *p != '=') {
			while (p < e && *p != ';')
				p++;
			continue;
		}
		p = msg_cfws(p + 1, e);
		mp_attr(&rp[n], a, alen);
		rp[n].voff = vals->len;
		p = mp_value(p, e, vals);
		rp[n].vlen = vals->len - rp[n].voff;
		n++;
	}
	return n;
}

/* Appends an extended value, %XX decoded; first: charset'lang' cut off. */
static void
mp_extended(const char *v, size_t len, int first, struct imap_mbuf *out,
    enum imap_charset *cs)
{
	const char	*q1, *q2;
	size_t		 i;
	int		 hi, lo;

	if (first && (q1 = memchr(v, '\'', len)) != NULL &&
	    (q2 = memchr(q1 + 1, '\'', len - (size_t)(q1 + 1 - v))) != NULL) {
		*cs = imap_charset_lookup(v, (size_t)(q1 - v));
		len -= (size_t)(q2 + 1 - v);
		v = q2 + 1;
	}
	for (i = 0; i < len; i++) {
		if (v[i] == '%' && i + 2 < len &&
		    (hi = dec_hex((unsigned char)v[i + 1])) >= 0 &&
		    (lo = dec_hex((unsigned char)v[i + 2])) >= 0) {
			imap_mbuf_addc(out, hi * 16 + lo);
			i += 2;
		} else
			imap_mbuf_addc(out, v[i]);
	}
}

/* The raw parameter of name base with this section, or NULL. */
static const struct raw_param *
mp_find(const struct raw_param *rp, unsigned int n, const char *base,
    size_t blen, int section)
{
	unsigned int	 i;

	for (i = 0; i < n; i++)
		if (rp[i].attrlen == blen && rp[i].section == section &&
		    strncasecmp(rp[i].attr, base, blen) == 0 &&
		    (section >= 0 || rp[i].ext))
			return &rp[i];
	return NULL;
}

/* The value of parameter rp->attr, joined and decoded, into out. */
static void
mp_join(const struct raw_param *rp, unsigned int n, unsigned int i,
    const char *vals, struct imap_mbuf *out)
{
	const struct raw_param *r;
	struct imap_mbuf raw;
	enum imap_charset cs = IMAP_CS_UNKNOWN;
	int		 sec, ext = 0;

	imap_mbuf_init(&raw, IMAP_MSG_FIELD_MAX_BYTES);
	if ((r = mp_find(rp, n, rp[i].attr, rp[i].attrlen, -1)) != NULL) {
		mp_extended(vals + r->voff, r->vlen, 1, &raw, &cs);
		ext = 1;
	} else if (mp_find(rp, n, rp[i].attr, rp[i].attrlen, 0) != NULL) {
		for (sec = 0; sec < IMAP_MSG_PARAM_SECTIONS_MAX &&
		    (r = mp_find(rp, n, rp[i].attr, rp[i].attrlen, sec)) !=
		    NULL; sec++) {
			if (r->ext) {
				mp_extended(vals + r->voff, r->vlen, sec == 0,
				    &raw, &cs);
				ext = 1;
			} else
				imap_mbuf_add(&raw, vals + r->voff, r->vlen);
		}
	} else
		imap_mbuf_add(&raw, vals + rp[i].voff, rp[i].vlen);
	if (ext)
		imap_charset_to_utf8(cs, raw.data ? raw.data : "", raw.len,
		    out);
	else
		imap_mbuf_add(out, raw.data ? raw.data : "", raw.len);
	imap_mbuf_free(&raw);
}

/* Whether an earlier raw parameter has the same name. */
static int
mp_seen(const struct raw_param *rp, unsigned int i)
{
	unsigned int	 j;

	for (j = 0; j < i; j++)
		if (rp[j].attrlen == rp[i].attrlen &&
		    strncasecmp(rp[j].attr, rp[i].attr, rp[i].attrlen) == 0)
			return 1;
	return 0;
}

void
mime_params(struct imap_message *m, const char *s, size_t len,
    struct imap_param **out, unsigned int *nout)
{
	struct raw_param rp[RAW_PARAMS_MAX];
	struct imap_mbuf vals, val;
	struct imap_param *ps;
	unsigned int	 n, i, k = 0;
	size_t		 j;

	imap_mbuf_init(&vals, IMAP_MSG_FIELD_MAX_BYTES);
	imap_mbuf_init(&val, IMAP_MSG_FIELD_MAX_BYTES);
	if (imap_mbuf_add(&vals, "", 0) == -1)
		goto done;
	n = mp_scan(s, len, rp, &vals);
	if (n == 0 || (ps = msg_alloc(m, n * sizeof(*ps))) == NULL)
		goto done;
	for (i = 0; i < n && k < IMAP_MSG_PARAMS_MAX; i++) {
		if (mp_seen(rp, i))
			continue;
		imap_mbuf_reset(&val);
		mp_join(rp, n, i, vals.data, &val);
		ps[k].name = msg_strndup(m, rp[i].attr, rp[i].attrlen);
		ps[k].value = msg_strndup(m, val.data ? val.data : "",
		    val.len);
		if (ps[k].name == NULL || ps[k].value == NULL)
			break;
		for (j = 0; j < rp[i].attrlen; j++)
			ps[k].name[j] = (char)toupper(
			    (unsigned char)ps[k].name[j]);
		k++;
	}
	*out = ps;
	*nout = k;
done:
	imap_mbuf_free(&vals);
	imap_mbuf_free(&val);
}
