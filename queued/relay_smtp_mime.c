/*
 * The relay's SMTP client: the MIME header fields that its
 * quoted-printable conversion (relay_smtp_qp.c) reads, Content-Type and
 * Content-Transfer-Encoding (RFC 2045 5.1, 6.1), and the start of a
 * header field (RFC 5322 2.2).  Pure; runs in the relay process on what
 * a sender wrote: every read is bounded by the value's length.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "relay_smtp_qp.h"

/* RFC 2045 5.1: token := 1*<any CHAR except SPACE, CTLs, or tspecials>. */
static int
mime_tokenchar(unsigned char ch)
{
	return ch > 0x20 && ch < 0x7f && strchr("()<>@,;:\\\"/[]?=", ch) ==
	    NULL;
}

/* Skips white space, line ends and (nested) comments. */
static size_t
mime_cfws(const char *s, size_t len, size_t i)
{
	int	 depth = 0;

	for (; i < len; i++) {
		if (depth > 0 && s[i] == '\\' && i + 1 < len)
			i++;
		else if (s[i] == '(')
			depth++;
		else if (depth > 0 && s[i] == ')')
			depth--;
		else if (depth == 0 && !isspace((unsigned char)s[i]))
			break;
	}
	return i;
}

static size_t
mime_token(const char *s, size_t len, size_t i)
{
	while (i < len && mime_tokenchar((unsigned char)s[i]))
		i++;
	return i;
}

int
relay_mime_field(const char *s, size_t len, size_t *namelen)
{
	static const struct {
		const char		*name;
		enum relay_mime_field	 field;
	} names[] = {
		{ "content-type",		RELAY_FIELD_CTYPE },
		{ "content-transfer-encoding",	RELAY_FIELD_CTE },
		{ "mime-version",		RELAY_FIELD_VERSION },
	};
	size_t	 i, n;

	/* RFC 5322 3.6.8: printable US-ASCII but ':', then ':'. */
	for (n = 0; n < len && s[n] > 0x20 && s[n] < 0x7f && s[n] != ':'; n++)
		;
	if (n == 0 || n == len || s[n] != ':')
		return -1;
	*namelen = n;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i].name) == n &&
		    strncasecmp(s, names[i].name, n) == 0)
			return names[i].field;
	return RELAY_FIELD_OTHER;
}

static int
mime_is(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && strncasecmp(s, word, len) == 0;
}

/* A parameter's value, token or quoted-string, into the boundary. */
static size_t
mime_boundary(const char *s, size_t len, size_t i,
    struct relay_mime_ctype *ct)
{
	size_t	 end;

	ct->blen = 0;
	if (i < len && s[i] == '"') {
		for (i++; i < len && s[i] != '"'; i++) {
			if (s[i] == '\\' && i + 1 < len)
				i++;
			if (s[i] == '\n')
				continue;	/* folded */
			if (ct->blen == RELAY_MIME_BOUNDARY_MAX_BYTES) {
				ct->bad = 1;
				continue;
			}
			ct->boundary[ct->blen++] = s[i];
		}
		return i < len ? i + 1 : i;
	}
	end = mime_token(s, len, i);
	if (end - i > RELAY_MIME_BOUNDARY_MAX_BYTES)
		ct->bad = 1;
	else {
		memcpy(ct->boundary, s + i, end - i);
		ct->blen = end - i;
	}
	return end;
}

/* Skips a parameter value that is not the boundary. */
static size_t
mime_skip_value(const char *s, size_t len, size_t i)
{
	if (i < len && s[i] == '"') {
		for (i++; i < len && s[i] != '"'; i++)
			if (s[i] == '\\' && i + 1 < len)
				i++;
		return i < len ? i + 1 : i;
	}
	return mime_token(s, len, i);
}

static void
mime_params(const char *s, size_t len, size_t i, struct relay_mime_ctype *ct)
{
	size_t	 a, aend;

	while ((i = mime_cfws(s, len, i)) < len && s[i] == ';') {
		a = mime_cfws(s, len, i + 1);
		aend = mime_token(s, len, a);
		i = mime_cfws(s, len, aend);
		if (aend == a || i == len || s[i] != '=')
			return;
		i = mime_cfws(s, len, i + 1);
		if (mime_is(s + a, aend - a, "boundary"))
			i = mime_boundary(s, len, i, ct);
		else
			i = mime_skip_value(s, len, i);
	}
	/* Trailing blanks are not part of a boundary (RFC 2046 5.1.1). */
	while (ct->blen > 0 && ct->boundary[ct->blen - 1] == ' ')
		ct->blen--;
	ct->boundary[ct->blen] = '\0';
}

void
relay_mime_ctype(const char *s, size_t len, struct relay_mime_ctype *ct)
{
	size_t	 t, tend, st, stend, i;

	memset(ct, 0, sizeof(*ct));
	ct->kind = RELAY_MIME_LEAF;
	t = mime_cfws(s, len, 0);
	tend = mime_token(s, len, t);
	i = mime_cfws(s, len, tend);
	if (tend == t || i == len || s[i] != '/')
		return;		/* RFC 2045 5.2: taken as text/plain */
	st = mime_cfws(s, len, i + 1);
	stend = mime_token(s, len, st);
	if (stend == st)
		return;
	if (mime_is(s + t, tend - t, "multipart")) {
		mime_params(s, len, stend, ct);
		ct->digest = mime_is(s + st, stend - st, "digest");
		ct->kind = ct->blen > 0 && !ct->bad ? RELAY_MIME_MULTIPART :
		    RELAY_MIME_OPAQUE;
	} else if (mime_is(s + t, tend - t, "message"))
		ct->kind = mime_is(s + st, stend - st, "rfc822") ?
		    RELAY_MIME_RFC822 : RELAY_MIME_OPAQUE;
}

enum relay_mime_cte
relay_mime_cte(const char *s, size_t len)
{
	static const struct {
		const char		*name;
		enum relay_mime_cte	 cte;
	} names[] = {
		{ "7bit",		RELAY_CTE_7BIT },
		{ "8bit",		RELAY_CTE_8BIT },
		{ "binary",		RELAY_CTE_BINARY },
		{ "quoted-printable",	RELAY_CTE_QP },
		{ "base64",		RELAY_CTE_BASE64 },
	};
	size_t	 t, tend, i;

	t = mime_cfws(s, len, 0);
	tend = mime_token(s, len, t);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (mime_is(s + t, tend - t, names[i].name))
			return names[i].cte;
	return RELAY_CTE_OTHER;
}
