/*
 * imapd/imap_resp.c: the response writer (RFC 3501 7, RFC 9051 7):
 * lines into a caller's bounded buffer (flushed through its callback when
 * full), strings written as atom, quoted string or literal as their
 * content requires, NIL, mailbox names in modified UTF-7, dates and
 * compact number sets.  Runs in the login engine and the mailbox
 * process; no I/O of its own.
 */
#include <sys/types.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "imap_proto.h"

void
imap_wbuf_init(struct imap_wbuf *wb, char *mem, size_t size,
    int (*flush)(void *, const char *, size_t), void *ctx)
{
	wb->buf = mem;
	wb->size = size;
	wb->len = 0;
	wb->error = 0;
	wb->flush = flush;
	wb->ctx = ctx;
}

int
imap_wbuf_flush(struct imap_wbuf *wb)
{
	if (wb->error)
		return -1;
	if (wb->flush == NULL || wb->len == 0)
		return 0;
	if (wb->flush(wb->ctx, wb->buf, wb->len) == -1) {
		wb->error = 1;
		return -1;
	}
	wb->len = 0;
	return 0;
}

int
imap_put(struct imap_wbuf *wb, const void *p, size_t n)
{
	const char	*s = p;
	size_t		 k;

	while (!wb->error && n > 0) {
		if (wb->len == wb->size && (wb->flush == NULL ||
		    wb->size == 0 || imap_wbuf_flush(wb) == -1)) {
			wb->error = 1;
			break;
		}
		k = wb->size - wb->len;
		if (k > n)
			k = n;
		memcpy(wb->buf + wb->len, s, k);
		wb->len += k;
		s += k;
		n -= k;
	}
	return wb->error ? -1 : 0;
}

int
imap_puts(struct imap_wbuf *wb, const char *s)
{
	return imap_put(wb, s, strlen(s));
}

int
imap_vputf(struct imap_wbuf *wb, const char *fmt, va_list ap)
{
	char	 small[512], *big;
	va_list	 ap2;
	int	 n, r;

	va_copy(ap2, ap);
	n = vsnprintf(small, sizeof(small), fmt, ap2);
	va_end(ap2);
	if (n < 0) {
		wb->error = 1;
		return -1;
	}
	if ((size_t)n < sizeof(small))
		return imap_put(wb, small, (size_t)n);
	if ((big = malloc((size_t)n + 1)) == NULL) {
		wb->error = 1;
		return -1;
	}
	(void)vsnprintf(big, (size_t)n + 1, fmt, ap);
	r = imap_put(wb, big, (size_t)n);
	free(big);
	return r;
}

int
imap_putf(struct imap_wbuf *wb, const char *fmt, ...)
{
	va_list	 ap;
	int	 r;

	va_start(ap, fmt);
	r = imap_vputf(wb, fmt, ap);
	va_end(ap);
	return r;
}

int
imap_put_u32(struct imap_wbuf *wb, uint32_t v)
{
	return imap_putf(wb, "%u", (unsigned int)v);
}

int
imap_put_u64(struct imap_wbuf *wb, uint64_t v)
{
	return imap_putf(wb, "%llu", (unsigned long long)v);
}

/* RFC 3501 9 ATOM-CHAR, strictly (what we write, not what we take). */
static int
resp_atomchar(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("(){%*\"\\]", c) == NULL;
}

/* The form a string needs: 0 atom, 1 quoted, 2 literal. */
static int
resp_form(const char *s, size_t len, int flags)
{
	size_t	 i;
	int	 atom = (flags & IMAP_STR_ATOM) && len > 0, eight = 0;

	if (len > IMAP_QUOTED_MAX_BYTES)
		return 2;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\0' || c == '\r' || c == '\n')
			return 2;
		if (c >= 0x80)
			eight = 1;
		if (!resp_atomchar(c))
			atom = 0;
	}
	if (eight && (!(flags & IMAP_STR_UTF8) || !imap_utf8_valid(s, len)))
		return 2;
	if (atom && !(len == 3 && strncasecmp(s, "NIL", 3) == 0))
		return 0;
	return 1;
}

int
imap_put_literal_hdr(struct imap_wbuf *wb, uint64_t n, int literal8)
{
	return imap_putf(wb, "%s{%llu}\r\n", literal8 ? "~" : "",
	    (unsigned long long)n);
}

int
imap_put_string(struct imap_wbuf *wb, const char *s, size_t len, int flags)
{
	size_t	 i, start;

	switch (resp_form(s, len, flags)) {
	case 0:
		return imap_put(wb, s, len);
	case 1:
		if (imap_put(wb, "\"", 1) == -1)
			return -1;
		for (i = 0, start = 0; i < len; i++)
			if (s[i] == '"' || s[i] == '\\') {
				(void)imap_put(wb, s + start, i - start);
				(void)imap_put(wb, "\\", 1);
				start = i;
			}
		(void)imap_put(wb, s + start, len - start);
		return imap_put(wb, "\"", 1);
	default:
		if (imap_put_literal_hdr(wb, len, (flags & IMAP_STR_LITERAL8)
		    && memchr(s, '\0', len) != NULL) == -1)
			return -1;
		return imap_put(wb, s, len);
	}
}

int
imap_put_nstring(struct imap_wbuf *wb, const char *s, size_t len)
{
	if (s == NULL)
		return imap_put(wb, "NIL", 3);
	return imap_put_string(wb, s, len, 0);
}

int
imap_put_mailbox(struct imap_wbuf *wb, const char *name, int utf8)
{
	char	 enc[IMAP_MAILBOX_MAX_BYTES * 3 + 8];
	ssize_t	 n;

	if (utf8 || strcmp(name, "INBOX") == 0)
		return imap_put_string(wb, name, strlen(name),
		    IMAP_STR_ATOM | IMAP_STR_UTF8);
	if ((n = imap_utf7_encode(name, strlen(name), enc, sizeof(enc))) ==
	    -1) {
		wb->error = 1;
		return -1;
	}
	return imap_put_string(wb, enc, (size_t)n, IMAP_STR_ATOM);
}

int
imap_put_datetime(struct imap_wbuf *wb, time_t t, int tzoff)
{
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm	 tm;
	time_t		 local = t + tzoff;
	int		 a = tzoff < 0 ? -tzoff : tzoff;

	/* gmtime_r: no time zone file, which the sandbox would refuse. */
	if (gmtime_r(&local, &tm) == NULL) {
		wb->error = 1;
		return -1;
	}
	return imap_putf(wb, "\"%2d-%s-%04d %02d:%02d:%02d %c%02d%02d\"",
	    tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, tzoff < 0 ? '-' : '+', a / 3600,
	    (a / 60) % 60);
}

int
imap_put_seqlist(struct imap_wbuf *wb, const uint32_t *v, size_t n)
{
	size_t	 i, j;

	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && v[j] == v[j - 1] + 1; j++)
			;
		if (i > 0)
			(void)imap_put(wb, ",", 1);
		if (j - i == 1)
			(void)imap_put_u32(wb, v[i]);
		else
			(void)imap_putf(wb, "%u:%u", (unsigned int)v[i],
			    (unsigned int)v[j - 1]);
	}
	return wb->error ? -1 : 0;
}

int
imap_resp_untagged(struct imap_wbuf *wb, const char *fmt, ...)
{
	va_list	 ap;

	(void)imap_put(wb, "* ", 2);
	va_start(ap, fmt);
	(void)imap_vputf(wb, fmt, ap);
	va_end(ap);
	return imap_put(wb, "\r\n", 2);
}

int
imap_resp_tagged(struct imap_wbuf *wb, const char *tag, const char *fmt, ...)
{
	va_list	 ap;

	(void)imap_puts(wb, tag);
	(void)imap_put(wb, " ", 1);
	va_start(ap, fmt);
	(void)imap_vputf(wb, fmt, ap);
	va_end(ap);
	return imap_put(wb, "\r\n", 2);
}

int
imap_resp_cont(struct imap_wbuf *wb, const char *text)
{
	(void)imap_put(wb, "+ ", 2);
	(void)imap_puts(wb, text);
	return imap_put(wb, "\r\n", 2);
}
