/*
 * HTTP/1.1 for the relay-sts helper (as _sallyrelay, chrooted, its own
 * seccomp filter): the GET of an MTA-STS policy and the parser of the
 * answer, which comes from any web server on the Internet.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sp_limits.h"
#include "relay_sts_http.h"

struct http_resp {
	int		 ctype;		/* a text/plain Content-Type seen */
	int		 clen_seen;
	size_t		 clen;
};

int
relay_sts_http_request(const char *host, char *buf, size_t len)
{
	int	 n;

	n = snprintf(buf, len, "GET %s HTTP/1.1\r\nHost: %s\r\n"
	    "User-Agent: sallyport\r\nAccept: text/plain\r\n"
	    "Connection: close\r\n\r\n", RELAY_STS_PATH, host);
	return n < 0 || (size_t)n >= len ? -1 : n;
}

/* "HTTP/1.x 200 ..." */
static int
http_status(const char *l, size_t len, const char **errstr)
{
	int	 code;

	if (len < 12 || strncmp(l, "HTTP/1.", 7) != 0 ||
	    !isdigit((unsigned char)l[7]) || l[8] != ' ' ||
	    !isdigit((unsigned char)l[9]) || !isdigit((unsigned char)l[10]) ||
	    !isdigit((unsigned char)l[11]) || (len > 12 && l[12] != ' ')) {
		*errstr = "not an HTTP/1 status line";
		return -1;
	}
	code = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
	if (code >= 300 && code < 400)
		*errstr = "a redirect (RFC 8461 3.3 forbids following it)";
	else if (code != 200)
		*errstr = "an HTTP status other than 200";
	else
		return 0;
	return -1;
}

static int
http_clen(struct http_resp *r, const char *v, size_t len,
    const char **errstr)
{
	size_t	 i, n = 0;

	if (r->clen_seen || len == 0 || len > 9) {
		*errstr = "a bad Content-Length";
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)v[i])) {
			*errstr = "a bad Content-Length";
			return -1;
		}
		n = n * 10 + (size_t)(v[i] - '0');
	}
	r->clen_seen = 1;
	r->clen = n;
	return 0;
}

/* One header field; the ones that matter here are checked. */
static int
http_field(struct http_resp *r, const char *l, size_t len,
    const char **errstr)
{
	const char	*colon, *v, *end = l + len;
	size_t		 nlen, vlen;

	if ((colon = memchr(l, ':', len)) == NULL || colon == l ||
	    memchr(l, ' ', (size_t)(colon - l)) != NULL) {
		*errstr = "a bad header field";
		return -1;
	}
	nlen = (size_t)(colon - l);
	for (v = colon + 1; v < end && (*v == ' ' || *v == '\t'); v++)
		;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	vlen = (size_t)(end - v);
	if (nlen == 12 && strncasecmp(l, "Content-Type", 12) == 0) {
		/* RFC 8461 3.2: text/plain, parameters allowed. */
		if (vlen < 10 || strncasecmp(v, "text/plain", 10) != 0 ||
		    (vlen > 10 && v[10] != ';' && v[10] != ' ')) {
			*errstr = "a Content-Type other than text/plain";
			return -1;
		}
		r->ctype = 1;
	} else if (nlen == 14 && strncasecmp(l, "Content-Length", 14) == 0)
		return http_clen(r, v, vlen, errstr);
	else if (nlen == 17 &&
	    strncasecmp(l, "Transfer-Encoding", 17) == 0 &&
	    !(vlen == 8 && strncasecmp(v, "identity", 8) == 0)) {
		*errstr = "a transfer coding (chunked is not read)";
		return -1;
	}
	return 0;
}

int
relay_sts_http_parse(const char *buf, size_t len, const char **body,
    size_t *bodylen, const char **errstr)
{
	struct http_resp r;
	const char	*l = buf, *nl, *end = buf + len;
	size_t		 ll, n = 0;

	memset(&r, 0, sizeof(r));
	for (;; l = nl + 1, n++) {
		if ((nl = memchr(l, '\n', (size_t)(end - l))) == NULL ||
		    (size_t)(nl - buf) >= RELAY_STS_HTTP_HEADER_MAX_BYTES) {
			*errstr = "no end of the header within 8 KiB";
			return -1;
		}
		if (n > RELAY_STS_HTTP_FIELDS_MAX) {
			*errstr = "too many header fields";
			return -1;
		}
		ll = (size_t)(nl - l);
		if (ll > 0 && l[ll - 1] == '\r')
			ll--;
		if (n == 0) {
			if (http_status(l, ll, errstr) == -1)
				return -1;
		} else if (ll == 0)
			break;
		else if (http_field(&r, l, ll, errstr) == -1)
			return -1;
	}
	*body = nl + 1;
	*bodylen = (size_t)(end - *body);
	if (!r.ctype) {
		*errstr = "no Content-Type text/plain";
		return -1;
	}
	if (r.clen_seen) {
		if (*bodylen < r.clen) {
			*errstr = "a body shorter than its Content-Length";
			return -1;
		}
		*bodylen = r.clen;
	}
	if (*bodylen > RELAY_STS_POLICY_MAX_BYTES) {
		*errstr = "a body larger than 64 KiB";
		return -1;
	}
	return 0;
}
