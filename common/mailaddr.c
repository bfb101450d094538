/*
 * Mailbox parsing, RFC 5321 4.1.2, with the UTF-8 extensions of RFC 6531
 * 3.3 when SMTPUTF8 was negotiated.  Pure functions: no I/O, no locale
 * (isalpha(3) and friends depend on it, so the character classes are
 * spelled out here).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mailaddr.h"

/* RFC 1035 2.3.4: a label is at most 63 octets. */
#define MAILADDR_LABEL_MAX_BYTES	63
/* RFC 5321 4.5.3.1.3: the path holds "<" Mailbox ">". */
#define MAILADDR_MAILBOX_MAX_BYTES	(SMTP_PATH_MAX_BYTES - 2)
/* "IPv6:" and the longest textual IPv6 address (INET6_ADDRSTRLEN). */
#define MAILADDR_LITERAL_MAX_BYTES	(5 + INET6_ADDRSTRLEN)

static int
mailaddr_is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
mailaddr_is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static unsigned char
mailaddr_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

/* RFC 5322 3.2.3 atext, without the letters and digits. */
static int
mailaddr_is_atext(unsigned char c)
{
	if (mailaddr_is_alpha(c) || mailaddr_is_digit(c))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/*
 * Length of the well-formed UTF-8 sequence at s (RFC 3629 4: no
 * overlong forms, no surrogates, nothing past U+10FFFF), or 0.
 */
static size_t
mailaddr_utf8_len(const unsigned char *s)
{
	uint32_t	 cp;
	size_t		 len, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/*
 * Steps over one non-ASCII character at s: returns its length, or 0
 * with *errstr set when it is not allowed or not well-formed.
 */
static size_t
mailaddr_utf8_step(const unsigned char *s, int smtputf8,
    const char **errstr)
{
	size_t	 n;

	if (!smtputf8) {
		*errstr = "8-bit character without SMTPUTF8";
		return 0;
	}
	if ((n = mailaddr_utf8_len(s)) == 0)
		*errstr = "invalid UTF-8";
	return n;
}

/*
 * Dot-string: Atom *("." Atom).  Returns the length scanned up to the
 * first character that cannot continue it, or 0 on error.
 */
static size_t
mailaddr_scan_dotstring(const unsigned char *s, int smtputf8,
    const char **errstr)
{
	size_t	 i = 0, atom = 0, n;

	for (;;) {
		if (mailaddr_is_atext(s[i])) {
			i++, atom++;
		} else if (s[i] >= 0x80) {
			if ((n = mailaddr_utf8_step(s + i, smtputf8,
			    errstr)) == 0)
				return 0;
			i += n, atom++;
		} else if (s[i] == '.' && atom > 0) {
			i++, atom = 0;
		} else
			break;
	}
	if (atom == 0) {
		*errstr = "bad local part";
		return 0;
	}
	return i;
}

/*
 * Quoted-string: DQUOTE *QcontentSMTP DQUOTE, where qtextSMTP is
 * printable ASCII but '"' and '\', and quoted-pairSMTP is '\' followed
 * by printable ASCII or a space.  Returns the length, quotes included,
 * or 0 on error.
 */
static size_t
mailaddr_scan_quoted(const unsigned char *s, int smtputf8,
    const char **errstr)
{
	size_t	 i = 1, n;

	for (;;) {
		if (s[i] == '"')
			return i + 1;
		if (s[i] == '\\' && s[i + 1] >= 32 && s[i + 1] <= 126)
			i += 2;
		else if (s[i] >= 32 && s[i] <= 126 && s[i] != '\\')
			i++;
		else if (s[i] >= 0x80) {
			if ((n = mailaddr_utf8_step(s + i, smtputf8,
			    errstr)) == 0)
				return 0;
			i += n;
		} else {
			*errstr = s[i] == '\0' ? "unterminated quoted string" :
			    "bad character in quoted string";
			return 0;
		}
	}
}

/*
 * One sub-domain: Let-dig [Ldh-str], or with SMTPUTF8 a U-label, which
 * is only checked to be well-formed UTF-8 here.  Returns its length.
 * XXX The 63-octet limit is applied to a U-label's UTF-8 form, though
 * it binds its A-label: a few long valid U-labels are refused.
 */
static size_t
mailaddr_scan_label(const unsigned char *s, int smtputf8,
    const char **errstr)
{
	size_t	 i = 0, n;

	while (s[i] != '\0' && s[i] != '.') {
		if (mailaddr_is_alpha(s[i]) || mailaddr_is_digit(s[i]) ||
		    s[i] == '-')
			i++;
		else if (s[i] >= 0x80) {
			if ((n = mailaddr_utf8_step(s + i, smtputf8,
			    errstr)) == 0)
				return 0;
			i += n;
		} else {
			*errstr = "bad character in domain";
			return 0;
		}
	}
	if (i == 0 || s[0] == '-' || s[i - 1] == '-') {
		*errstr = "bad domain";
		return 0;
	}
	if (i > MAILADDR_LABEL_MAX_BYTES) {
		*errstr = "domain label too long";
		return 0;
	}
	return i;
}

static int
mailaddr_check_domain(const char *s, int smtputf8, const char **errstr)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n;

	if (*p == '\0') {
		*errstr = "empty domain";
		return -1;
	}
	if (strlen(s) > SMTP_DOMAIN_MAX_BYTES) {
		*errstr = "domain too long";
		return -1;
	}
	for (;;) {
		if ((n = mailaddr_scan_label(p, smtputf8, errstr)) == 0)
			return -1;
		p += n;
		if (*p == '\0')
			return 0;
		p++;	/* the dot; an empty label after it fails above */
	}
}

int
mailaddr_valid_domain(const char *s, int smtputf8)
{
	const char	*errstr;

	return mailaddr_check_domain(s, smtputf8, &errstr);
}

/*
 * address-literal: "[" IPv4-address-literal "]" or "[IPv6:" IPv6-addr
 * "]"; inet_pton(3) checks the address itself.  General-address-literal
 * (a Standardized-tag other than IPv6) is refused: none is registered.
 * Written into dst in a canonical case: "[IPv6:" and lower-case hex.
 */
static int
mailaddr_literal(const char *s, char *dst, size_t dstlen,
    const char **errstr)
{
	struct in6_addr	 a6;
	struct in_addr	 a4;
	char		 body[MAILADDR_LITERAL_MAX_BYTES + 1];
	size_t		 len = strlen(s), i;
	int		 n;

	*errstr = "bad address literal";
	if (len < 3 || s[len - 1] != ']' || len - 2 >= sizeof(body))
		return -1;
	memcpy(body, s + 1, len - 2);
	body[len - 2] = '\0';
	if (strncasecmp(body, "IPv6:", 5) == 0) {
		if (inet_pton(AF_INET6, body + 5, &a6) != 1)
			return -1;
		memcpy(body, "IPv6:", 5);
		for (i = 5; body[i] != '\0'; i++)
			body[i] = (char)mailaddr_lower((unsigned char)body[i]);
	} else if (inet_pton(AF_INET, body, &a4) != 1)
		return -1;
	n = snprintf(dst, dstlen, "[%s]", body);
	if (n < 0 || (size_t)n >= dstlen)
		return -1;
	return 0;
}

/*
 * Splits s at the '@' that ends the local part.  Returns the length of
 * the local part, or 0 on error.
 */
static size_t
mailaddr_scan_local(const char *s, int smtputf8, const char **errstr)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n;

	if (*p == '"')
		n = mailaddr_scan_quoted(p, smtputf8, errstr);
	else
		n = mailaddr_scan_dotstring(p, smtputf8, errstr);
	if (n == 0)
		return 0;
	if (p[n] != '@') {
		*errstr = p[n] == '\0' ? "missing @" : "bad local part";
		return 0;
	}
	if (n > SMTP_LOCALPART_MAX_BYTES) {
		*errstr = "local part too long";
		return 0;
	}
	return n;
}

static int
mailaddr_domain(const char *s, struct mailaddr *a, int smtputf8,
    const char **errstr)
{
	size_t	 i;

	if (*s == '[')
		return mailaddr_literal(s, a->domain, sizeof(a->domain),
		    errstr);
	if (mailaddr_check_domain(s, smtputf8, errstr) == -1)
		return -1;
	for (i = 0; s[i] != '\0'; i++)
		a->domain[i] = (char)mailaddr_lower((unsigned char)s[i]);
	a->domain[i] = '\0';
	return 0;
}

int
mailaddr_parse(const char *s, struct mailaddr *a, int smtputf8,
    const char **errstr)
{
	const char	*dummy;
	size_t		 n;

	if (errstr == NULL)
		errstr = &dummy;
	memset(a, 0, sizeof(*a));
	if (*s == '\0') {
		*errstr = "empty address";
		return -1;
	}
	if (strlen(s) > MAILADDR_MAILBOX_MAX_BYTES) {
		*errstr = "address too long";
		return -1;
	}
	if ((n = mailaddr_scan_local(s, smtputf8, errstr)) == 0)
		return -1;
	memcpy(a->local, s, n);
	a->local[n] = '\0';
	if (mailaddr_domain(s + n + 1, a, smtputf8, errstr) == -1) {
		memset(a, 0, sizeof(*a));
		return -1;
	}
	return 0;
}

int
mailaddr_format(const struct mailaddr *a, char *dst, size_t dstlen)
{
	int	 n;

	n = snprintf(dst, dstlen, "%s@%s", a->local, a->domain);
	if (n < 0 || (size_t)n >= dstlen)
		return -1;
	return 0;
}

int
mailaddr_local_unquote(const struct mailaddr *a, char *dst, size_t dstlen)
{
	const char	*s = a->local;
	size_t		 i, o = 0, len = strlen(s);

	if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
		for (i = 1; i < len - 1; i++) {
			if (s[i] == '\\' && i + 1 < len - 1)
				i++;
			if (o + 1 >= dstlen)
				return -1;
			dst[o++] = s[i];
		}
		dst[o] = '\0';
		return 0;
	}
	if (strlcpy(dst, s, dstlen) >= dstlen)
		return -1;
	return 0;
}
