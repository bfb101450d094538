/*
 * imapd: BODYSTRUCTURE and BODY (RFC 3501 7.4.2 and 9 "body", RFC 9051
 * 7.5.2) of a parsed message, as standalone strings for the index to
 * cache.  Mailbox process (the mail user, chrooted, seccomp'd): memory
 * only.
 */
#include <stdio.h>
#include <string.h>

#include "imap_msg_int.h"

static int
bs_str(struct imap_mbuf *out, const char *s)
{
	return imap_mbuf_addstring(out, s, s ? strlen(s) : 0);
}

static int
bs_num(struct imap_mbuf *out, size_t n)
{
	char	 b[32];
	int	 len;

	len = snprintf(b, sizeof(b), "%zu", n);
	if (len < 0 || (size_t)len >= sizeof(b))
		return -1;
	return imap_mbuf_add(out, b, (size_t)len);
}

/* body-fld-param: ("NAME" "value" ...) or NIL. */
static int
bs_params(struct imap_mbuf *out, const struct imap_param *ps,
    unsigned int n)
{
	unsigned int	 i;

	if (n == 0)
		return imap_mbuf_add(out, "NIL", 3);
	if (imap_mbuf_addc(out, '(') == -1)
		return -1;
	for (i = 0; i < n; i++)
		if ((i > 0 && imap_mbuf_addc(out, ' ') == -1) ||
		    bs_str(out, ps[i].name) == -1 ||
		    imap_mbuf_addc(out, ' ') == -1 ||
		    bs_str(out, ps[i].value) == -1)
			return -1;
	return imap_mbuf_addc(out, ')');
}

/* body-fld-dsp: ("ATTACHMENT" params) or NIL. */
static int
bs_disposition(struct imap_mbuf *out, const struct imap_part *p)
{
	if (p->disposition == NULL)
		return imap_mbuf_add(out, "NIL", 3);
	if (imap_mbuf_addc(out, '(') == -1 || bs_str(out, p->disposition) ==
	    -1 || imap_mbuf_addc(out, ' ') == -1 ||
	    bs_params(out, p->disp_params, p->ndisp_params) == -1)
		return -1;
	return imap_mbuf_addc(out, ')');
}

/* body-fld-lang: a string, or a list when Content-Language has several. */
static int
bs_language(struct imap_mbuf *out, const char *lang)
{
	const char	*s = lang, *e;
	size_t		 len;
	int		 many;

	if (lang == NULL)
		return imap_mbuf_add(out, "NIL", 3);
	many = strchr(lang, ',') != NULL;
	if (many && imap_mbuf_addc(out, '(') == -1)
		return -1;
	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == ',')
			s++;
		e = s + strcspn(s, ",");
		len = (size_t)(e - s);
		while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		if (imap_mbuf_addstring(out, s, len) == -1)
			return -1;
		s = e;
		if (!many || *s == '\0' || s[strspn(s, " \t,")] == '\0')
			break;
		if (imap_mbuf_addc(out, ' ') == -1)
			return -1;
	}
	return many ? imap_mbuf_addc(out, ')') : 0;
}

/* The extension data after md5 or params: dsp, lang, loc. */
static int
bs_ext_tail(struct imap_mbuf *out, const struct imap_part *p)
{
	if (imap_mbuf_addc(out, ' ') == -1 || bs_disposition(out, p) == -1 ||
	    imap_mbuf_addc(out, ' ') == -1 ||
	    bs_language(out, p->language) == -1 ||
	    imap_mbuf_addc(out, ' ') == -1)
		return -1;
	return bs_str(out, p->location);
}

/* body-fields: params id description encoding octets. */
static int
bs_fields(struct imap_mbuf *out, const struct imap_part *p)
{
	if (bs_params(out, p->params, p->nparams) == -1 ||
	    imap_mbuf_addc(out, ' ') == -1 || bs_str(out, p->id) == -1 ||
	    imap_mbuf_addc(out, ' ') == -1 ||
	    bs_str(out, p->description) == -1 ||
	    imap_mbuf_addc(out, ' ') == -1 ||
	    bs_str(out, p->encoding ? p->encoding : "7BIT") == -1 ||
	    imap_mbuf_addc(out, ' ') == -1)
		return -1;
	return bs_num(out, p->body_crlf);
}

static int bs_part(const struct imap_message *, const struct imap_part *, int,
    struct imap_mbuf *);

/* A non-multipart part: basic, text, or message with its envelope. */
static int
bs_single(const struct imap_message *m, const struct imap_part *p, int ext,
    struct imap_mbuf *out)
{
	const char	*type = p->type ? p->type : "APPLICATION";
	const char	*sub = p->type ? p->subtype : "OCTET-STREAM";

	if (imap_mbuf_addc(out, '(') == -1 || bs_str(out, type) == -1 ||
	    imap_mbuf_addc(out, ' ') == -1 || bs_str(out, sub) == -1 ||
	    imap_mbuf_addc(out, ' ') == -1 || bs_fields(out, p) == -1)
		return -1;
	if (p->message != NULL) {
		if (imap_mbuf_addc(out, ' ') == -1 ||
		    imap_msg_envelope(m, p->message, out) == -1 ||
		    imap_mbuf_addc(out, ' ') == -1 ||
		    bs_part(m, p->message, ext, out) == -1 ||
		    imap_mbuf_addc(out, ' ') == -1 ||
		    bs_num(out, p->body_lines) == -1)
			return -1;
	} else if (strcmp(type, "TEXT") == 0) {
		if (imap_mbuf_addc(out, ' ') == -1 ||
		    bs_num(out, p->body_lines) == -1)
			return -1;
	}
	if (ext && (imap_mbuf_addc(out, ' ') == -1 ||
	    bs_str(out, p->md5) == -1 || bs_ext_tail(out, p) == -1))
		return -1;
	return imap_mbuf_addc(out, ')');
}

/*
 * A multipart with no part found (no boundary in its body): the grammar
 * wants at least one body, so it shows one empty text part.
 */
static int
bs_empty(struct imap_mbuf *out, int ext)
{
	if (imap_mbuf_adds(out, "(\"TEXT\" \"PLAIN\" (\"CHARSET\" "
	    "\"US-ASCII\") NIL NIL \"7BIT\" 0 0") == -1)
		return -1;
	if (ext && imap_mbuf_adds(out, " NIL NIL NIL NIL") == -1)
		return -1;
	return imap_mbuf_addc(out, ')');
}

static int
bs_multi(const struct imap_message *m, const struct imap_part *p, int ext,
    struct imap_mbuf *out)
{
	const struct imap_part *c;

	if (imap_mbuf_addc(out, '(') == -1)
		return -1;
	if (p->children == NULL && bs_empty(out, ext) == -1)
		return -1;
	for (c = p->children; c != NULL; c = c->next)
		if (bs_part(m, c, ext, out) == -1)
			return -1;
	if (imap_mbuf_addc(out, ' ') == -1 || bs_str(out, p->subtype) == -1)
		return -1;
	if (ext && (imap_mbuf_addc(out, ' ') == -1 ||
	    bs_params(out, p->params, p->nparams) == -1 ||
	    bs_ext_tail(out, p) == -1))
		return -1;
	return imap_mbuf_addc(out, ')');
}

static int
bs_part(const struct imap_message *m, const struct imap_part *p, int ext,
    struct imap_mbuf *out)
{
	if (p->type != NULL && strcmp(p->type, "MULTIPART") == 0)
		return bs_multi(m, p, ext, out);
	return bs_single(m, p, ext, out);
}

int
imap_msg_bodystructure(const struct imap_message *m, const struct imap_part *p,
    int extended, struct imap_mbuf *out)
{
	return bs_part(m, p, extended != 0, out);
}
