/*
 * imapd/imap_utf7.c: mailbox names in modified UTF-7 (RFC 3501 5.1.3)
 * to UTF-8 and back, and the UTF-8 check the reader and the argument
 * helpers use.  Runs in the login engine and the mailbox process; no
 * I/O.
 */
#include <sys/types.h>

#include <stdint.h>
#include <string.h>

#include "imap_proto.h"

static const char u7_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/* The length of the UTF-8 sequence at s (of len), and its code point. */
static size_t
u8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	size_t		 n, i;
	uint32_t	 c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, c = s[0] & 0x07;
	else
		return 0;
	if (n > len)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	/* No overlong form, no surrogate, nothing past U+10FFFF. */
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 ||
	    c > 0x10ffff)) || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

int
imap_utf8_valid(const char *s, size_t len)
{
	size_t		 i, n;
	uint32_t	 cp;

	for (i = 0; i < len; i += n)
		if ((n = u8_decode((const unsigned char *)s + i, len - i,
		    &cp)) == 0)
			return 0;
	return 1;
}

/* Appends a code point as UTF-8; -1 when out doesn't hold it. */
static int
u8_put(char *out, size_t outsize, size_t *o, uint32_t c)
{
	unsigned char	 b[4];
	size_t		 n;

	if (c < 0x80)
		b[0] = (unsigned char)c, n = 1;
	else if (c < 0x800) {
		b[0] = (unsigned char)(0xc0 | (c >> 6));
		b[1] = (unsigned char)(0x80 | (c & 0x3f));
		n = 2;
	} else if (c < 0x10000) {
		b[0] = (unsigned char)(0xe0 | (c >> 12));
		b[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
		b[2] = (unsigned char)(0x80 | (c & 0x3f));
		n = 3;
	} else {
		b[0] = (unsigned char)(0xf0 | (c >> 18));
		b[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3f));
		b[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
		b[3] = (unsigned char)(0x80 | (c & 0x3f));
		n = 4;
	}
	if (*o + n >= outsize)
		return -1;
	memcpy(out + *o, b, n);
	*o += n;
	return 0;
}

/* One "&...-" run from in[*ip] (after the '&') into UTF-8. */
static int
u7_shift(const char *in, size_t len, size_t *ip, char *out, size_t outsize,
    size_t *o)
{
	const char	*p;
	uint32_t	 bits = 0, hi = 0, u;
	size_t		 i = *ip;
	int		 nbits = 0, units = 0;

	for (; i < len && in[i] != '-'; i++) {
		if (in[i] == '\0' || (p = strchr(u7_b64, in[i])) == NULL)
			return -1;
		bits = (bits << 6) | (uint32_t)(p - u7_b64);
		if ((nbits += 6) < 16)
			continue;
		nbits -= 16;
		u = (bits >> nbits) & 0xffff;
		units++;
		if (hi != 0) {
			if (u < 0xdc00 || u > 0xdfff)
				return -1;
			u = 0x10000 + ((hi - 0xd800) << 10) + (u - 0xdc00);
			hi = 0;
		} else if (u >= 0xd800 && u <= 0xdbff) {
			hi = u;
			continue;
		} else if ((u >= 0xdc00 && u <= 0xdfff) || u <= 0x7f)
			return -1;	/* lone low surrogate; ASCII shifted */
		if (u8_put(out, outsize, o, u) == -1)
			return -1;
	}
	/* Ended by '-', whole units, zero padding, no dangling surrogate. */
	if (i == len || units == 0 || hi != 0 || nbits >= 6 ||
	    (bits & ((1u << nbits) - 1)) != 0)
		return -1;
	*ip = i + 1;
	return 0;
}

ssize_t
imap_utf7_decode(const char *in, size_t len, char *out, size_t outsize)
{
	size_t	 i = 0, o = 0;

	if (outsize == 0)
		return -1;
	while (i < len) {
		if ((unsigned char)in[i] < 0x20 ||
		    (unsigned char)in[i] > 0x7e)
			return -1;
		if (in[i] != '&') {
			if (o + 1 >= outsize)
				return -1;
			out[o++] = in[i++];
		} else if (i + 1 < len && in[i + 1] == '-') {
			if (o + 1 >= outsize)
				return -1;
			out[o++] = '&';
			i += 2;
		} else {
			i++;
			if (u7_shift(in, len, &i, out, outsize, &o) == -1)
				return -1;
		}
	}
	out[o] = '\0';
	return (ssize_t)o;
}

/* Appends one 16-bit unit to the base64 run. */
static int
u7_unit(uint32_t u, uint32_t *bits, int *nbits, char *out, size_t outsize,
    size_t *o)
{
	*bits = (*bits << 16) | u;
	*nbits += 16;
	while (*nbits >= 6) {
		*nbits -= 6;
		if (*o + 1 >= outsize)
			return -1;
		out[(*o)++] = u7_b64[(*bits >> *nbits) & 0x3f];
	}
	return 0;
}

/* The non-ASCII run from in[*ip] as "&...-". */
static int
u7_encode_run(const char *in, size_t len, size_t *ip, char *out,
    size_t outsize, size_t *o)
{
	uint32_t	 cp, bits = 0;
	size_t		 n;
	int		 nbits = 0, r = 0;

	if (*o + 1 >= outsize)
		return -1;
	out[(*o)++] = '&';
	while (*ip < len && ((unsigned char)in[*ip] < 0x20 ||
	    (unsigned char)in[*ip] > 0x7e)) {
		if ((n = u8_decode((const unsigned char *)in + *ip,
		    len - *ip, &cp)) == 0)
			return -1;
		*ip += n;
		if (cp < 0x80)
			return -1;	/* a control character */
		if (cp >= 0x10000)
			r = u7_unit(0xd800 + ((cp - 0x10000) >> 10), &bits,
			    &nbits, out, outsize, o) |
			    u7_unit(0xdc00 + ((cp - 0x10000) & 0x3ff), &bits,
			    &nbits, out, outsize, o);
		else
			r = u7_unit(cp, &bits, &nbits, out, outsize, o);
		if (r != 0)
			return -1;
	}
	if (*o + 2 >= outsize)
		return -1;
	if (nbits > 0)
		out[(*o)++] = u7_b64[(bits << (6 - nbits)) & 0x3f];
	out[(*o)++] = '-';
	return 0;
}

ssize_t
imap_utf7_encode(const char *in, size_t len, char *out, size_t outsize)
{
	size_t	 i = 0, o = 0;

	if (outsize == 0)
		return -1;
	while (i < len) {
		if (in[i] == '&') {
			if (o + 2 >= outsize)
				return -1;
			out[o++] = '&';
			out[o++] = '-';
			i++;
		} else if ((unsigned char)in[i] >= 0x20 &&
		    (unsigned char)in[i] <= 0x7e) {
			if (o + 1 >= outsize)
				return -1;
			out[o++] = in[i++];
		} else if (u7_encode_run(in, len, &i, out, outsize, &o) == -1)
			return -1;
	}
	out[o] = '\0';
	return (ssize_t)o;
}
