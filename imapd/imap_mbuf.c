/*
 * imapd: the growable bounded buffer of the message library
 * (imap_msg.h), and IMAP strings written into it (RFC 3501 4.3).  Runs
 * in the mailbox process (the mail user, chrooted, seccomp'd): memory
 * only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap_msg.h"

/* The first allocation; the buffer doubles from there up to max. */
#define MBUF_MIN_BYTES	256

void
imap_mbuf_init(struct imap_mbuf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void
imap_mbuf_free(struct imap_mbuf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->overflow = 0;
}

void
imap_mbuf_reset(struct imap_mbuf *b)
{
	b->len = 0;
	b->overflow = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

/* Makes room for len more bytes and a NUL: 0 or -1. */
static int
mbuf_grow(struct imap_mbuf *b, size_t len)
{
	size_t	 need, ncap;
	char	*p;

	if (len > b->max || b->len > b->max - len) {
		b->overflow = 1;
		return -1;
	}
	need = b->len + len + 1;
	if (need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : MBUF_MIN_BYTES;
	while (ncap < need)
		ncap *= 2;
	if (ncap > b->max + 1)
		ncap = b->max + 1;
	if ((p = realloc(b->data, ncap)) == NULL)
		return -1;
	b->data = p;
	b->cap = ncap;
	return 0;
}

int
imap_mbuf_add(struct imap_mbuf *b, const void *p, size_t len)
{
	if (mbuf_grow(b, len) == -1)
		return -1;
	if (len > 0)
		memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int
imap_mbuf_adds(struct imap_mbuf *b, const char *s)
{
	return imap_mbuf_add(b, s, strlen(s));
}

int
imap_mbuf_addc(struct imap_mbuf *b, int c)
{
	char	ch = (char)c;

	return imap_mbuf_add(b, &ch, 1);
}

/* Whether s can go as a quoted string (RFC 3501 9, "quoted"). */
static int
mbuf_quotable(const char *s, size_t len)
{
	size_t	 i;
	unsigned char c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c == '\0' || c == '\r' || c == '\n' || c >= 0x80)
			return 0;
	}
	return 1;
}

int
imap_mbuf_addstring(struct imap_mbuf *b, const char *s, size_t len)
{
	char	 hdr[32];
	size_t	 i, start;
	int	 n;

	if (s == NULL)
		return imap_mbuf_add(b, "NIL", 3);
	if (mbuf_quotable(s, len)) {
		if (imap_mbuf_addc(b, '"') == -1)
			return -1;
		for (i = start = 0; i < len; i++) {
			if (s[i] != '"' && s[i] != '\\')
				continue;
			if (imap_mbuf_add(b, s + start, i - start) == -1 ||
			    imap_mbuf_addc(b, '\\') == -1)
				return -1;
			start = i;
		}
		if (imap_mbuf_add(b, s + start, len - start) == -1)
			return -1;
		return imap_mbuf_addc(b, '"');
	}
	/* A literal: a NUL (not a CHAR8) goes as a space. */
	n = snprintf(hdr, sizeof(hdr), "{%zu}\r\n", len);
	if (n < 0 || (size_t)n >= sizeof(hdr) ||
	    imap_mbuf_add(b, hdr, (size_t)n) == -1)
		return -1;
	for (i = start = 0; i < len; i++) {
		if (s[i] != '\0')
			continue;
		if (imap_mbuf_add(b, s + start, i - start) == -1 ||
		    imap_mbuf_addc(b, ' ') == -1)
			return -1;
		start = i + 1;
	}
	return imap_mbuf_add(b, s + start, len - start);
}
