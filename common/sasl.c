/*
 * SASL PLAIN and LOGIN, the server's side (sasl.h): shared by smtpd's
 * engine (user smtp, chroot, SANDBOX_ENGINE) and pop3d's login engine
 * (user pop3, chroot, SANDBOX_ENGINE).  Pure: no I/O.
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "sasl.h"

static int
sasl_b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* One group of 4 characters; npad of them are trailing '='. */
static int
sasl_b64_group(const char *in, size_t npad, unsigned char *out)
{
	uint32_t	 v = 0;
	size_t		 i;
	int		 d;

	for (i = 0; i < 4; i++) {
		if (i >= 4 - npad) {
			v <<= 6;
			continue;
		}
		if ((d = sasl_b64_value((unsigned char)in[i])) == -1)
			return -1;
		v = (v << 6) | (uint32_t)d;
	}
	/* The bits under the padding must be zero (RFC 4648 3.5). */
	if ((npad == 1 && (v & 0xff) != 0) ||
	    (npad == 2 && (v & 0xffff) != 0))
		return -1;
	out[0] = (unsigned char)(v >> 16);
	out[1] = (unsigned char)(v >> 8);
	out[2] = (unsigned char)v;
	return 0;
}

int
sasl_base64_decode(const char *in, size_t inlen, unsigned char *out,
    size_t outmax, size_t *outlen)
{
	unsigned char	 tmp[3];
	size_t		 i, npad = 0, n = 0;

	if (inlen % 4 != 0)
		return -1;
	if (inlen > 0 && in[inlen - 1] == '=')
		npad = in[inlen - 2] == '=' ? 2 : 1;
	for (i = 0; i < inlen; i += 4) {
		if (sasl_b64_group(in + i, i + 4 == inlen ? npad : 0,
		    tmp) == -1)
			return -1;
		if (n + 3 - (i + 4 == inlen ? npad : 0) > outmax)
			return -1;
		memcpy(out + n, tmp, 3 - (i + 4 == inlen ? npad : 0));
		n += 3 - (i + 4 == inlen ? npad : 0);
	}
	explicit_bzero(tmp, sizeof(tmp));
	*outlen = n;
	return 0;
}

/* Copies [p, p + len) as a C string; -1 if it does not fit. */
static int
sasl_copy_field(const unsigned char *p, size_t len, char *dst,
    size_t dstlen)
{
	if (len >= dstlen)
		return -1;
	memcpy(dst, p, len);
	dst[len] = '\0';
	return 0;
}

int
sasl_plain_split(const unsigned char *msg, size_t len, char *user,
    size_t userlen, char *pass, size_t passlen, const char **errstr)
{
	const unsigned char	*n1, *n2, *cid;
	size_t			 zlen, clen, plen;

	*errstr = "malformed PLAIN message";
	if ((n1 = memchr(msg, '\0', len)) == NULL)
		return -1;
	cid = n1 + 1;
	if ((n2 = memchr(cid, '\0', len - (size_t)(cid - msg))) == NULL)
		return -1;
	zlen = (size_t)(n1 - msg);
	clen = (size_t)(n2 - cid);
	plen = len - (size_t)(n2 + 1 - msg);
	if (memchr(n2 + 1, '\0', plen) != NULL || clen == 0 || plen == 0)
		return -1;
	if (zlen != 0 && (zlen != clen || memcmp(msg, cid, clen) != 0)) {
		*errstr = "authorization identity differs";
		return -1;
	}
	*errstr = "too long";
	if (sasl_copy_field(cid, clen, user, userlen) == -1 ||
	    sasl_copy_field(n2 + 1, plen, pass, passlen) == -1)
		return -1;
	return 0;
}

/*
 * The reply to a response: "*" cancels (RFC 4954 4, RFC 5034 4), else
 * it must be base64 of at most outmax bytes.
 */
static enum sasl_result
sasl_decode(const char *in, size_t len, unsigned char *out, size_t outmax,
    size_t *outlen)
{
	if (len == 1 && in[0] == '*')
		return SASL_CANCELLED;
	if (sasl_base64_decode(in, len, out, outmax, outlen) == -1)
		return SASL_BAD_BASE64;
	return SASL_DONE;
}

static enum sasl_result
sasl_plain(struct sasl *sa, const char *resp, size_t len, const char **text)
{
	unsigned char		 buf[SASL_DECODED_MAX_BYTES];
	enum sasl_result	 r;
	size_t			 n;

	if ((r = sasl_decode(resp, len, buf, sizeof(buf), &n)) == SASL_DONE &&
	    sasl_plain_split(buf, n, sa->user, sizeof(sa->user), sa->pass,
	    sizeof(sa->pass), text) == -1)
		r = SASL_BAD_MESSAGE;
	explicit_bzero(buf, sizeof(buf));
	return r;
}

/* LOGIN: a user name, then a password, each base64 after a prompt. */
static enum sasl_result
sasl_login(struct sasl *sa, const char *resp, size_t len, const char **text)
{
	unsigned char		 buf[AUTH_PASSWORD_MAX_BYTES];
	enum sasl_result	 r;
	size_t			 n, max;

	max = sa->step == SASL_STEP_LOGIN_USER ? sizeof(sa->user) :
	    sizeof(sa->pass);
	if ((r = sasl_decode(resp, len, buf, sizeof(buf) - 1, &n)) !=
	    SASL_DONE)
		return r;
	*text = "bad LOGIN response";
	if (n == 0 || n >= max || memchr(buf, '\0', n) != NULL) {
		explicit_bzero(buf, sizeof(buf));
		return SASL_BAD_MESSAGE;
	}
	buf[n] = '\0';
	if (sa->step == SASL_STEP_LOGIN_USER) {
		(void)strlcpy(sa->user, (char *)buf, sizeof(sa->user));
		sa->step = SASL_STEP_LOGIN_PASS;
		*text = SASL_LOGIN_PROMPT_PASS;
		return SASL_CONTINUE;
	}
	(void)strlcpy(sa->pass, (char *)buf, sizeof(sa->pass));
	explicit_bzero(buf, sizeof(buf));
	return SASL_DONE;
}

enum sasl_result
sasl_step(struct sasl *sa, const char *line, size_t len, const char **text)
{
	enum sasl_result	 r;

	*text = NULL;
	if (sa->step == SASL_STEP_PLAIN)
		r = sasl_plain(sa, line, len, text);
	else if (sa->step == SASL_STEP_LOGIN_USER ||
	    sa->step == SASL_STEP_LOGIN_PASS)
		r = sasl_login(sa, line, len, text);
	else
		r = SASL_BAD_MECHANISM;
	if (r != SASL_CONTINUE)
		sa->step = SASL_STEP_NONE;
	return r;
}

enum sasl_result
sasl_start(struct sasl *sa, const char *mech, size_t mechlen,
    const char *resp, const char **text)
{
	sasl_end(sa);
	*text = NULL;
	if (mechlen == 5 && strncasecmp(mech, "PLAIN", 5) == 0) {
		sa->step = SASL_STEP_PLAIN;
		*text = "";
	} else if (mechlen == 5 && strncasecmp(mech, "LOGIN", 5) == 0) {
		sa->step = SASL_STEP_LOGIN_USER;
		*text = SASL_LOGIN_PROMPT_USER;
	} else
		return SASL_BAD_MECHANISM;
	if (resp == NULL)
		return SASL_CONTINUE;
	return sasl_step(sa, resp, strcmp(resp, "=") == 0 ? 0 : strlen(resp),
	    text);
}

void
sasl_end(struct sasl *sa)
{
	explicit_bzero(sa, sizeof(*sa));
}
