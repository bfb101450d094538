/*
 * DSN requests (RFC 3461): NOTIFY, RET, ENVID, ORCPT and xtext.  Pure
 * functions, no I/O, no locale: the character classes are spelled out.
 */
#include <string.h>
#include <strings.h>

#include "dsn.h"
#include "sp_limits.h"

static const struct {
	const char	*name;
	uint32_t	 bit;
} dsn_notify_names[] = {
	/* The order in which dsn_notify_format writes them. */
	{ "NEVER",	DSN_NOTIFY_NEVER },
	{ "SUCCESS",	DSN_NOTIFY_SUCCESS },
	{ "FAILURE",	DSN_NOTIFY_FAILURE },
	{ "DELAY",	DSN_NOTIFY_DELAY },
};
#define DSN_NOTIFY_NNAMES \
	(sizeof(dsn_notify_names) / sizeof(dsn_notify_names[0]))

static const char *const dsn_ret_names[] = { "", "FULL", "HDRS" };

static uint32_t
dsn_notify_bit(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < DSN_NOTIFY_NNAMES; i++)
		if (strlen(dsn_notify_names[i].name) == len &&
		    strncasecmp(s, dsn_notify_names[i].name, len) == 0)
			return dsn_notify_names[i].bit;
	return 0;
}

int
dsn_notify_valid(uint32_t notify)
{
	/* RFC 3461 4.1: NEVER stands alone. */
	if (notify & ~(uint32_t)DSN_NOTIFY_ALL)
		return 0;
	return !(notify & DSN_NOTIFY_NEVER) || notify == DSN_NOTIFY_NEVER;
}

int
dsn_notify_parse(const char *s, uint32_t *notify, const char **errstr)
{
	uint32_t	 v = 0, bit;
	size_t		 n;

	*errstr = "bad NOTIFY value";
	for (;;) {
		n = strcspn(s, ",");
		if ((bit = dsn_notify_bit(s, n)) == 0)
			return -1;
		if (v & bit) {
			*errstr = "repeated NOTIFY keyword";
			return -1;
		}
		v |= bit;
		if (s[n] == '\0')
			break;
		s += n + 1;
	}
	if (!dsn_notify_valid(v)) {
		*errstr = "NOTIFY=NEVER with other keywords";
		return -1;
	}
	*notify = v;
	return 0;
}

int
dsn_notify_format(uint32_t notify, char *dst, size_t dstlen)
{
	size_t	 i;

	if (dstlen == 0 || !dsn_notify_valid(notify))
		return -1;
	dst[0] = '\0';
	for (i = 0; i < DSN_NOTIFY_NNAMES; i++) {
		if (!(notify & dsn_notify_names[i].bit))
			continue;
		if ((dst[0] != '\0' && strlcat(dst, ",", dstlen) >= dstlen) ||
		    strlcat(dst, dsn_notify_names[i].name, dstlen) >= dstlen)
			return -1;
	}
	return 0;
}

int
dsn_ret_parse(const char *s, enum dsn_ret *ret)
{
	if (strcasecmp(s, "FULL") == 0)
		*ret = DSN_RET_FULL;
	else if (strcasecmp(s, "HDRS") == 0)
		*ret = DSN_RET_HDRS;
	else
		return -1;
	return 0;
}

const char *
dsn_ret_name(uint32_t ret)
{
	if (ret >= sizeof(dsn_ret_names) / sizeof(dsn_ret_names[0]))
		return NULL;
	return dsn_ret_names[ret];
}

/* RFC 3461 4: hexchar takes upper-case digits only. */
static int
dsn_hex(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
dsn_xtext_decode(const char *s, char *dst, size_t dstlen,
    const char **errstr)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 o = 0;
	int			 hi, lo;

	*errstr = "bad xtext";
	if (*p == '\0')
		return -1;
	for (; *p != '\0'; p++) {
		if (o + 1 >= dstlen) {
			*errstr = "xtext too long";
			return -1;
		}
		if (*p == '+') {
			if ((hi = dsn_hex(p[1])) == -1 ||
			    (lo = dsn_hex(p[2])) == -1)
				return -1;
			/* A NUL would cut the text short: never stored. */
			if (hi == 0 && lo == 0)
				return -1;
			dst[o++] = (char)(hi << 4 | lo);
			p += 2;
		} else if (*p >= '!' && *p <= '~' && *p != '=')
			dst[o++] = (char)*p;
		else
			return -1;
	}
	dst[o] = '\0';
	return 0;
}

/* 1 when every octet of s is within [lo, '~']. */
static int
dsn_printable(const char *s, unsigned char lo)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < lo || (unsigned char)*s > '~')
			return 0;
	return 1;
}

/* addr-type is an atom (RFC 3461 4.2, RFC 5322 3.2.3). */
static int
dsn_addr_type(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    strchr("!#$%&'*+-/=?^_`{|}~", s[i]) != NULL))
			return 0;
	return 1;
}

int
dsn_orcpt_parse(const char *s, char *dst, size_t dstlen,
    const char **errstr)
{
	const char	*semi;
	size_t		 tlen = 0;

	if (strlen(s) > DSN_ORCPT_MAX_BYTES) {
		*errstr = "ORCPT too long";
		return -1;
	}
	if ((semi = strchr(s, ';')) != NULL)
		tlen = (size_t)(semi - s);
	if (semi == NULL || !dsn_addr_type(s, tlen) || tlen + 1 >= dstlen) {
		*errstr = "bad ORCPT address type";
		return -1;
	}
	memcpy(dst, s, tlen + 1);
	if (dsn_xtext_decode(semi + 1, dst + tlen + 1, dstlen - tlen - 1,
	    errstr) == -1)
		return -1;
	/* RFC 3461 4.2: printable US-ASCII and white space, decoded. */
	if (!dsn_printable(dst + tlen + 1, ' ')) {
		*errstr = "ORCPT address not printable";
		return -1;
	}
	return 0;
}

int
dsn_envid_parse(const char *s, char *dst, size_t dstlen,
    const char **errstr)
{
	if (strlen(s) > DSN_ENVID_MAX_BYTES) {
		*errstr = "ENVID too long";
		return -1;
	}
	if (dsn_xtext_decode(s, dst, dstlen, errstr) == -1)
		return -1;
	/* RFC 3461 4.4: printable (graphic) US-ASCII, decoded. */
	if (!dsn_printable(dst, '!')) {
		*errstr = "ENVID not printable";
		return -1;
	}
	return 0;
}

int
dsn_orcpt_valid(const char *s)
{
	const char	*semi;

	if (*s == '\0')
		return 1;
	if (strlen(s) > DSN_ORCPT_MAX_BYTES ||
	    (semi = strchr(s, ';')) == NULL ||
	    !dsn_addr_type(s, (size_t)(semi - s)))
		return 0;
	return semi[1] != '\0' && dsn_printable(semi + 1, ' ');
}

int
dsn_envid_valid(const char *s)
{
	return strlen(s) <= DSN_ENVID_MAX_BYTES && dsn_printable(s, '!');
}
