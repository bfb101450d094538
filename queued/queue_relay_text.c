/*
 * The queue manager's pure helpers for the relay: which envelopes of a
 * message go into one batch (RELAY_START), a recipient's domain, and
 * the one-line error a relay result leaves in the envelope, read back
 * for the bounce's Remote-MTA and Diagnostic-Code (RFC 3464 2.3.5,
 * 2.3.6).  No I/O: unit-tested (regress/unit/test_queue_relay.c).
 */
#include <sys/types.h>

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "queue.h"

/* What separates the host from its reply in a last error. */
#define RELAY_SAID	" said: "

size_t
queue_relay_batch_pick(const struct qbatch_cand *c, size_t n, size_t max,
    size_t *idx)
{
	size_t	 i, k = 0;

	if (n == 0 || max == 0 || c[0].domain == NULL)
		return 0;
	idx[k++] = 0;
	for (i = 1; i < n && k < max; i++)
		if (c[i].due && c[i].domain != NULL &&
		    strcmp(c[i].domain, c[0].domain) == 0)
			idx[k++] = i;
	return k;
}

int
queue_relay_domain(const char *rcpt, char *dst, size_t dstlen)
{
	const char	*at = strrchr(rcpt, '@');
	size_t		 i;

	if (at == NULL)
		at = rcpt + strlen(rcpt) - 1;	/* "" */
	at++;
	if (strlen(at) >= dstlen)
		return -1;
	for (i = 0; at[i] != '\0'; i++)
		dst[i] = (char)tolower((unsigned char)at[i]);
	dst[i] = '\0';
	return 0;
}

void
queue_relay_error(char *dst, size_t dstlen, const char *status,
    const char *remote_mta, const char *diag)
{
	char	 raw[QUEUE_ERROR_MAX_BYTES * 2];

	if (remote_mta[0] != '\0')
		(void)snprintf(raw, sizeof(raw), "%s %s" RELAY_SAID "%s",
		    status, remote_mta, diag);
	else
		(void)snprintf(raw, sizeof(raw), "%s %s", status, diag);
	queue_text_clean(dst, dstlen, raw);
}

/* 1 when c may be part of a host name or an address literal. */
static int
queue_relay_host_char(unsigned char c)
{
	return isalnum(c) || c == '.' || c == '-' || c == '_' || c == ':' ||
	    c == '[' || c == ']';
}

int
queue_relay_error_split(const char *error, char *mta, size_t mtalen,
    char *diag, size_t diaglen)
{
	const char	*host, *said, *b;
	size_t		 i, hlen;

	/* "x.y.z " first: the status, digits and dots. */
	for (i = 0; isdigit((unsigned char)error[i]) || error[i] == '.'; i++)
		;
	if (i == 0 || error[i] != ' ')
		return 0;
	host = error + i + 1;
	if ((said = strstr(host, RELAY_SAID)) == NULL)
		return 0;
	hlen = (size_t)(said - host);
	if (hlen == 0 || hlen >= mtalen)
		return 0;
	for (i = 0; i < hlen; i++)
		if (!queue_relay_host_char((unsigned char)host[i]))
			return 0;
	/*
	 * The relay names a host "name[address]:port": Remote-MTA is its
	 * name (RFC 3464 2.3.5, type dns), or "[address]" without one.
	 */
	if ((b = memchr(host, '[', hlen)) != NULL && b > host)
		hlen = (size_t)(b - host);
	else if (b != NULL && (b = memchr(host, ']', hlen)) != NULL)
		hlen = (size_t)(b - host) + 1;
	memcpy(mta, host, hlen);
	mta[hlen] = '\0';
	(void)strlcpy(diag, said + strlen(RELAY_SAID), diaglen);
	return 1;
}
