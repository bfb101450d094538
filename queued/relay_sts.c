/*
 * MTA-STS (RFC 8461): the policy file's and the TXT record's parsers
 * and MX host matching.  Pure: called by the relay (as _sallyrelay,
 * chrooted, SANDBOX_RELAY) on what the relay-sts helper fetched and
 * what the resolver answered, both untrusted.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "relay_sts.h"

#define STS_KEY_MAX_BYTES	32	/* RFC 8461 3.2: sts-policy-ext-name */
#define STS_MAX_AGE_DIGITS	10	/* RFC 8461 3.2: 1*10(DIGIT) */
#define STS_LABEL_MAX_BYTES	63	/* RFC 1035 2.3.4 */
#define STS_DOMAIN_MAX_BYTES	253	/* RFC 1035 2.3.4, as text */

/* Fields seen, so that a required one is there once. */
#define F_VERSION	0x01
#define F_MODE		0x02
#define F_MAX_AGE	0x04
#define F_MX		0x08

struct sts_field {
	const char	*key;
	int		 flag;
	int		 (*parse)(struct relay_sts_policy *, const char *,
			    size_t, const char **);
};

static int	field_version(struct relay_sts_policy *, const char *, size_t,
		    const char **);
static int	field_mode(struct relay_sts_policy *, const char *, size_t,
		    const char **);
static int	field_max_age(struct relay_sts_policy *, const char *, size_t,
		    const char **);
static int	field_mx(struct relay_sts_policy *, const char *, size_t,
		    const char **);

/* RFC 8461 3.2: keys are case-sensitive; others are ignored. */
static const struct sts_field sts_fields[] = {
	/* key		flag		parser */
	{ "version",	F_VERSION,	field_version },
	{ "mode",	F_MODE,		field_mode },
	{ "max_age",	F_MAX_AGE,	field_max_age },
	{ "mx",		F_MX,		field_mx },
};

static const char *const sts_modes[] = {
	[RELAY_STS_NONE] = "none",
	[RELAY_STS_TESTING] = "testing",
	[RELAY_STS_ENFORCE] = "enforce",
};

const char *
relay_sts_mode_name(enum relay_sts_mode m)
{
	if ((size_t)m >= sizeof(sts_modes) / sizeof(sts_modes[0]))
		return "?";
	return sts_modes[m];
}

static int
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static int
val_is(const char *v, size_t len, const char *s)
{
	return strlen(s) == len && memcmp(v, s, len) == 0;
}

static int
field_version(struct relay_sts_policy *p, const char *v, size_t len,
    const char **errstr)
{
	(void)p;
	if (!val_is(v, len, "STSv1")) {
		*errstr = "version is not STSv1";
		return -1;
	}
	return 0;
}

static int
field_mode(struct relay_sts_policy *p, const char *v, size_t len,
    const char **errstr)
{
	size_t	 i;

	for (i = 0; i < sizeof(sts_modes) / sizeof(sts_modes[0]); i++)
		if (val_is(v, len, sts_modes[i])) {
			p->mode = (enum relay_sts_mode)i;
			return 0;
		}
	*errstr = "mode is not enforce, testing or none";
	return -1;
}

static int
field_max_age(struct relay_sts_policy *p, const char *v, size_t len,
    const char **errstr)
{
	uint64_t	 n = 0;
	size_t		 i;

	if (len == 0 || len > STS_MAX_AGE_DIGITS) {
		*errstr = "max_age is not 1 to 10 digits";
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)v[i])) {
			*errstr = "max_age is not a number";
			return -1;
		}
		n = n * 10 + (uint64_t)(v[i] - '0');
	}
	p->max_age = n > RELAY_STS_MAX_AGE_SECS ? RELAY_STS_MAX_AGE_SECS :
	    (uint32_t)n;
	return 0;
}

/* RFC 5321 Domain: labels of letters, digits and inner hyphens. */
static int
domain_valid(const char *v, size_t len)
{
	size_t	 i, label = 0;

	if (len == 0 || len > STS_DOMAIN_MAX_BYTES)
		return 0;
	for (i = 0; i < len; i++) {
		if (v[i] == '.') {
			if (label == 0 || v[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)v[i]) &&
		    !(v[i] == '-' && label > 0))
			return 0;
		if (++label > STS_LABEL_MAX_BYTES)
			return 0;
	}
	return label > 0 && v[len - 1] != '-';
}

static int
field_mx(struct relay_sts_policy *p, const char *v, size_t len,
    const char **errstr)
{
	size_t	 off, i, skip = 0;

	if (len >= 2 && v[0] == '*' && v[1] == '.')
		skip = 2;
	if (!domain_valid(v + skip, len - skip)) {
		*errstr = "mx is not a host name or *.domain";
		return -1;
	}
	off = p->nmx == 0 ? 0 : p->mx_off[p->nmx - 1] +
	    strlen(p->mx_buf + p->mx_off[p->nmx - 1]) + 1;
	if (p->nmx == RELAY_STS_MX_MAX ||
	    len + 1 > sizeof(p->mx_buf) - off) {
		*errstr = "too many mx patterns";
		return -1;
	}
	for (i = 0; i < len; i++)
		p->mx_buf[off + i] = (char)tolower((unsigned char)v[i]);
	p->mx_buf[off + len] = '\0';
	p->mx_off[p->nmx++] = (uint16_t)off;
	return 0;
}

/* RFC 8461 3.2: sts-policy-ext-name. */
static int
key_valid(const char *k, size_t len)
{
	size_t	 i;

	if (len == 0 || len > STS_KEY_MAX_BYTES ||
	    !isalnum((unsigned char)k[0]))
		return 0;
	for (i = 1; i < len; i++)
		if (!isalnum((unsigned char)k[i]) && k[i] != '_' &&
		    k[i] != '-' && k[i] != '.')
			return 0;
	return 1;
}

/* One "key: value" line, without its terminator. */
static int
policy_line(struct relay_sts_policy *p, const char *line, size_t len,
    int *seen, const char **errstr)
{
	const char	*colon, *v, *end = line + len;
	size_t		 i, klen;

	if ((colon = memchr(line, ':', len)) == NULL) {
		*errstr = "a line without a colon";
		return -1;
	}
	klen = (size_t)(colon - line);
	if (!key_valid(line, klen)) {
		*errstr = "a bad field name";
		return -1;
	}
	for (v = colon + 1; v < end && is_wsp(*v); v++)
		;
	while (end > v && is_wsp(end[-1]))
		end--;
	for (i = 0; i < sizeof(sts_fields) / sizeof(sts_fields[0]); i++) {
		if (strlen(sts_fields[i].key) != klen ||
		    memcmp(sts_fields[i].key, line, klen) != 0)
			continue;
		if ((*seen & sts_fields[i].flag) &&
		    sts_fields[i].flag != F_MX) {
			*errstr = "a field given twice";
			return -1;
		}
		*seen |= sts_fields[i].flag;
		return sts_fields[i].parse(p, v, (size_t)(end - v), errstr);
	}
	return 0;
}

static int
policy_complete(const struct relay_sts_policy *p, int seen,
    const char **errstr)
{
	if (!(seen & F_VERSION))
		*errstr = "no version";
	else if (!(seen & F_MODE))
		*errstr = "no mode";
	else if (!(seen & F_MAX_AGE))
		*errstr = "no max_age";
	else if (!(seen & F_MX) && p->mode != RELAY_STS_NONE)
		*errstr = "no mx";
	else
		return 0;
	return -1;
}

int
relay_sts_policy_parse(const char *buf, size_t len,
    struct relay_sts_policy *p, const char **errstr)
{
	const char	*line = buf, *nl, *end = buf + len;
	size_t		 llen;
	int		 seen = 0;

	memset(p, 0, sizeof(*p));
	if (len > RELAY_STS_POLICY_MAX_BYTES) {
		*errstr = "policy larger than 64 KiB";
		return -1;
	}
	if (memchr(buf, '\0', len) != NULL) {
		*errstr = "a NUL in the policy";
		return -1;
	}
	while (line < end) {
		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
			nl = end;
		llen = (size_t)(nl - line);
		if (llen > 0 && line[llen - 1] == '\r')
			llen--;
		if (llen > RELAY_STS_LINE_MAX_BYTES) {
			*errstr = "a line too long";
			return -1;
		}
		if (llen > 0 && policy_line(p, line, llen, &seen, errstr) == -1)
			return -1;
		line = nl + 1;
	}
	return policy_complete(p, seen, errstr);
}

const char *
relay_sts_policy_mx(const struct relay_sts_policy *p, size_t i)
{
	if (i >= p->nmx)
		return NULL;
	return p->mx_buf + p->mx_off[i];
}

int
relay_sts_mx_match(const struct relay_sts_policy *p, const char *host)
{
	const char	*pat, *dot;
	size_t		 i, hlen = strlen(host), plen;

	if (hlen > 0 && host[hlen - 1] == '.')
		hlen--;
	for (i = 0; i < p->nmx; i++) {
		pat = relay_sts_policy_mx(p, i);
		plen = strlen(pat);
		if (pat[0] == '*') {
			/* RFC 8461 4.1: exactly one leftmost label. */
			if ((dot = memchr(host, '.', hlen)) == NULL ||
			    dot == host)
				continue;
			if ((size_t)(host + hlen - dot) == plen - 1 &&
			    strncasecmp(dot, pat + 1, plen - 1) == 0)
				return 1;
		} else if (hlen == plen && strncasecmp(host, pat, plen) == 0)
			return 1;
	}
	return 0;
}

/* RFC 8461 3.1: sts-ext-name, the same as a policy's. */
static int
txt_field(const char *f, size_t len, char *id, const char **errstr)
{
	const char	*eq;
	size_t		 i, nlen;

	if ((eq = memchr(f, '=', len)) == NULL ||
	    !key_valid(f, (nlen = (size_t)(eq - f))) || eq + 1 == f + len) {
		*errstr = "a field not name=value";
		return -1;
	}
	for (i = nlen + 1; i < len; i++)
		if (f[i] < 0x21 || f[i] > 0x7e || f[i] == '=' || f[i] == ';') {
			*errstr = "a bad character in a value";
			return -1;
		}
	if (nlen != 2 || memcmp(f, "id", 2) != 0)
		return 0;
	if (id[0] != '\0') {
		*errstr = "id given twice";
		return -1;
	}
	if (len - 3 > RELAY_STS_ID_MAX) {
		*errstr = "id longer than 32";
		return -1;
	}
	for (i = 3; i < len; i++)
		if (!isalnum((unsigned char)f[i])) {
			*errstr = "id not letters and digits";
			return -1;
		}
	memcpy(id, f + 3, len - 3);
	id[len - 3] = '\0';
	return 0;
}

int
relay_sts_txt_parse(const char *txt, size_t len, char *id,
    const char **errstr)
{
	const char	*p, *f, *end = txt + len;

	id[0] = '\0';
	if (len < 7 || memcmp(txt, "v=STSv1", 7) != 0 ||
	    (len > 7 && !is_wsp(txt[7]) && txt[7] != ';'))
		return 1;
	for (p = txt + 7;;) {
		while (p < end && is_wsp(*p))
			p++;
		if (p == end)
			break;
		if (*p++ != ';') {
			*errstr = "fields not separated by ;";
			return -1;
		}
		while (p < end && is_wsp(*p))
			p++;
		if (p == end)
			break;
		for (f = p; p < end && !is_wsp(*p) && *p != ';'; p++)
			;
		if (p == f) {
			*errstr = "an empty field";
			return -1;
		}
		if (txt_field(f, (size_t)(p - f), id, errstr) == -1)
			return -1;
	}
	if (id[0] == '\0') {
		*errstr = "no id";
		return -1;
	}
	return 0;
}

/*
 * The policy in canonical form, which relay_sts_policy_parse reads back
 * the same: what the helper sends the relay.  -1 when it does not fit.
 */
int
relay_sts_policy_print(const struct relay_sts_policy *p, char *buf,
    size_t len)
{
	size_t	 i, off;
	int	 n;

	n = snprintf(buf, len, "version: STSv1\nmode: %s\nmax_age: %u\n",
	    relay_sts_mode_name(p->mode), p->max_age);
	if (n < 0 || (size_t)n >= len)
		return -1;
	off = (size_t)n;
	for (i = 0; i < p->nmx; i++) {
		n = snprintf(buf + off, len - off, "mx: %s\n",
		    relay_sts_policy_mx(p, i));
		if (n < 0 || (size_t)n >= len - off)
			return -1;
		off += (size_t)n;
	}
	return (int)off;
}
