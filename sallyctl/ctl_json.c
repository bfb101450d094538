/*
 * sallyctl -j (root, no chroot): each record of a show command as one
 * JSON object on one line, as postqueue -j prints (RFC 8259).  The
 * text comes from the queue manager, another process, and may hold any
 * byte: '"', '\\' and control characters are escaped, and bytes that
 * are not UTF-8 (RFC 3629) become U+FFFD, so that every line parses.
 * Pure: unit-tested.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sallyctl.h"

/*
 * The length of the UTF-8 sequence at s (RFC 3629 4: no overlong
 * forms, no surrogates, nothing past U+10FFFF), or 0 when s does not
 * start one.
 */
static size_t
ctl_json_utf8(const unsigned char *s)
{
	size_t	 n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
		return 0;
	return n;
}

/* Appends len bytes; -1 when they do not fit (with the NUL). */
static int
ctl_json_put(char *dst, size_t dstlen, size_t *off, const char *s,
    size_t len)
{
	if (len >= dstlen - *off)
		return -1;
	memcpy(dst + *off, s, len);
	*off += len;
	dst[*off] = '\0';
	return 0;
}

/* The escape of one byte below 0x20, '"' or '\\' (RFC 8259 7). */
static int
ctl_json_escape(char *dst, size_t dstlen, size_t *off, unsigned char c)
{
	char	 esc[8];

	switch (c) {
	case '"':
		return ctl_json_put(dst, dstlen, off, "\\\"", 2);
	case '\\':
		return ctl_json_put(dst, dstlen, off, "\\\\", 2);
	case '\n':
		return ctl_json_put(dst, dstlen, off, "\\n", 2);
	case '\r':
		return ctl_json_put(dst, dstlen, off, "\\r", 2);
	case '\t':
		return ctl_json_put(dst, dstlen, off, "\\t", 2);
	default:
		(void)snprintf(esc, sizeof(esc), "\\u%04x", c);
		return ctl_json_put(dst, dstlen, off, esc, 6);
	}
}

int
ctl_json_string(char *dst, size_t dstlen, const char *src)
{
	const unsigned char	*s = (const unsigned char *)src;
	size_t			 off = 0, n;
	int			 r;

	if (dstlen == 0)
		return -1;
	dst[0] = '\0';
	if (ctl_json_put(dst, dstlen, &off, "\"", 1) == -1)
		return -1;
	while (*s != '\0') {
		if (*s < 0x20 || *s == '"' || *s == '\\') {
			r = ctl_json_escape(dst, dstlen, &off, *s);
			n = 1;
		} else if (*s == 0x7f) {
			r = ctl_json_put(dst, dstlen, &off, "\\u007f", 6);
			n = 1;
		} else if ((n = ctl_json_utf8(s)) == 0) {
			r = ctl_json_put(dst, dstlen, &off, "\\ufffd", 6);
			n = 1;
		} else
			r = ctl_json_put(dst, dstlen, &off,
			    (const char *)s, n);
		if (r == -1)
			return -1;
		s += n;
	}
	if (ctl_json_put(dst, dstlen, &off, "\"", 1) == -1)
		return -1;
	return (int)off;
}

void
ctl_json_begin(struct ctl_json *j)
{
	j->len = 0;
	j->n = 0;
	j->error = 0;
	j->buf[0] = '{';
	j->buf[1] = '\0';
	j->len = 1;
}

/* ',' before every member but the first, then "key":. */
static void
ctl_json_key(struct ctl_json *j, const char *key)
{
	int	 r;

	if (j->error)
		return;
	if (j->n++ > 0 &&
	    ctl_json_put(j->buf, sizeof(j->buf), &j->len, ",", 1) == -1) {
		j->error = 1;
		return;
	}
	if ((r = ctl_json_string(j->buf + j->len, sizeof(j->buf) - j->len,
	    key)) == -1) {
		j->error = 1;
		return;
	}
	j->len += (size_t)r;
	if (ctl_json_put(j->buf, sizeof(j->buf), &j->len, ":", 1) == -1)
		j->error = 1;
}

void
ctl_json_str(struct ctl_json *j, const char *key, const char *value)
{
	int	 r;

	ctl_json_key(j, key);
	if (j->error)
		return;
	if ((r = ctl_json_string(j->buf + j->len, sizeof(j->buf) - j->len,
	    value)) == -1)
		j->error = 1;
	else
		j->len += (size_t)r;
}

void
ctl_json_u64(struct ctl_json *j, const char *key, uint64_t value)
{
	char	 num[24];
	int	 n;

	ctl_json_key(j, key);
	if (j->error)
		return;
	n = snprintf(num, sizeof(num), "%llu", (unsigned long long)value);
	if (n < 0 || (size_t)n >= sizeof(num) ||
	    ctl_json_put(j->buf, sizeof(j->buf), &j->len, num, (size_t)n) == -1)
		j->error = 1;
}

const char *
ctl_json_end(struct ctl_json *j)
{
	if (j->error ||
	    ctl_json_put(j->buf, sizeof(j->buf), &j->len, "}", 1) == -1)
		return NULL;
	return j->buf;
}
