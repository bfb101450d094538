/*
 * The envelope file format, the spool's ids and the retry arithmetic.
 * Pure functions, no I/O: unit-tested (regress/unit/test_envelope.c).
 *
 * An envelope file is text, one "key=value" per line, LF-ended, the
 * first line "version=4" (or "version=3", written before sallyctl's
 * "held" existed, "version=2", before the delay notice's
 * "delay-notified", or "version=1", before the SMTPUTF8 and DSN
 * fields: read with those fields empty, so that mail queued by an
 * older queued is never lost).  Every key of the
 * file's version appears exactly once, in any order after the version;
 * an unknown key (a newer one in an older version included), a repeated
 * or missing one, a value past its field's size or of the wrong form,
 * a control character, or a file over QUEUE_ENVELOPE_MAX_BYTES is an
 * error: the file is corrupt.  Files are always written as version 4.
 */
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "queue.h"

enum efield_type {
	EF_STR,			/* text, possibly empty */
	EF_STR1,		/* text, never empty */
	EF_U32,
	EF_TIME,		/* seconds since the epoch */
	EF_BOOL,
	EF_NOTIFY,		/* DSN_NOTIFY_*, as dsn_notify_parse reads */
	EF_RET,			/* enum dsn_ret: "", FULL or HDRS */
};

struct efield {
	const char		*key;
	enum efield_type	 type;
	size_t			 off;
	size_t			 size;	/* of the string field */
	unsigned int		 since;	/* the first version with it */
};

#define EF(k, t, f)	{ k, t, offsetof(struct envelope, f), \
			    sizeof(((struct envelope *)0)->f), 1 }
#define EF2(k, t, f)	{ k, t, offsetof(struct envelope, f), \
			    sizeof(((struct envelope *)0)->f), 2 }
#define EF3(k, t, f)	{ k, t, offsetof(struct envelope, f), \
			    sizeof(((struct envelope *)0)->f), 3 }
#define EF4(k, t, f)	{ k, t, offsetof(struct envelope, f), \
			    sizeof(((struct envelope *)0)->f), 4 }

/* The order in which envelope_serialise writes them. */
static const struct efield efields[] = {
	EF("evpid",	 EF_STR1,	evpid),
	EF("msgid",	 EF_STR1,	msgid),
	EF("parent",	 EF_STR,	parent),
	EF("sender",	 EF_STR,	sender),
	EF("rcpt",	 EF_STR1,	rcpt),
	EF("orig-rcpt",	 EF_STR1,	orig_rcpt),
	EF("mailbox",	 EF_STR,	mailbox),
	EF("remote",	 EF_BOOL,	remote),
	EF("helo",	 EF_STR,	helo),
	EF("client",	 EF_STR,	client),
	EF("created",	 EF_TIME,	created),
	EF("retries",	 EF_U32,	retries),
	EF("next-try",	 EF_TIME,	next_try),
	EF("last-error", EF_STR,	last_error),
	EF2("smtputf8",	 EF_BOOL,	smtputf8),
	EF2("ret",	 EF_RET,	dsn_ret),
	EF2("envid",	 EF_STR,	dsn_envid),
	EF2("notify",	 EF_NOTIFY,	dsn_notify),
	EF2("orcpt",	 EF_STR,	dsn_orcpt),
	EF3("delay-notified", EF_BOOL,	delay_notified),
	EF4("held",	 EF_BOOL,	held),
};
#define NEFIELDS	(sizeof(efields) / sizeof(efields[0]))

#define ENVELOPE_VERSION	4
#define ENVELOPE_VERSION_KEY	"version="

int
queue_text_valid(const char *s, size_t max)
{
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i >= max)
			return 0;
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	}
	return 1;
}

void
queue_text_clean(char *dst, size_t dstlen, const char *src)
{
	size_t	 i;

	if (dstlen == 0)
		return;
	for (i = 0; src[i] != '\0' && i < dstlen - 1; i++)
		dst[i] = ((unsigned char)src[i] < 0x20 || src[i] == 0x7f) ?
		    '?' : src[i];
	dst[i] = '\0';
}

int
queue_msgid_valid(const char *s)
{
	size_t	 i;

	for (i = 0; i < QUEUE_MSGID_HEX_DIGITS; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[i] == '\0';
}

/*
 * Reads a decimal number of at most maxdigits digits, no sign, no
 * leading zero, no more than max.  0 or -1.
 */
static int
queue_number(const char *s, size_t len, uint64_t max, uint64_t *v)
{
	size_t	 i;

	*v = 0;
	if (len == 0 || len > 19 || (s[0] == '0' && len > 1))
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (uint64_t)(s[i] - '0');
	}
	return *v <= max ? 0 : -1;
}

int
queue_evpid_valid(const char *s)
{
	char		 msgid[QUEUE_MSGID_MAX_BYTES];
	uint64_t	 n;

	if (strnlen(s, QUEUE_EVPID_MAX_BYTES) >= QUEUE_EVPID_MAX_BYTES ||
	    strlen(s) < QUEUE_MSGID_HEX_DIGITS + 2 ||
	    s[QUEUE_MSGID_HEX_DIGITS] != '.')
		return 0;
	memcpy(msgid, s, QUEUE_MSGID_HEX_DIGITS);
	msgid[QUEUE_MSGID_HEX_DIGITS] = '\0';
	if (!queue_msgid_valid(msgid))
		return 0;
	s += QUEUE_MSGID_HEX_DIGITS + 1;
	if (queue_number(s, strlen(s), UINT32_MAX, &n) == -1 || n == 0)
		return 0;
	return 1;
}

uint32_t
queue_evpid_number(const char *evpid)
{
	uint64_t	 n;
	const char	*s = evpid + QUEUE_MSGID_HEX_DIGITS + 1;

	if (queue_number(s, strlen(s), UINT32_MAX, &n) == -1)
		return 0;
	return (uint32_t)n;
}

int
queue_evpid_of(const char *evpid, const char *msgid)
{
	return strncmp(evpid, msgid, QUEUE_MSGID_HEX_DIGITS) == 0 &&
	    evpid[QUEUE_MSGID_HEX_DIGITS] == '.';
}

/* The field named key in a file of this version, or NULL. */
static const struct efield *
efield_find(const char *key, size_t keylen, unsigned int version)
{
	size_t	 i;

	for (i = 0; i < NEFIELDS; i++)
		if (efields[i].since <= version &&
		    strlen(efields[i].key) == keylen &&
		    memcmp(efields[i].key, key, keylen) == 0)
			return &efields[i];
	return NULL;
}

/* The DSN fields, stored as numbers, written as words. */
static int
efield_set_dsn(const struct efield *f, char *p, const char *v, size_t len,
    const char **errstr)
{
	char		 word[DSN_NOTIFY_MAX_BYTES];
	enum dsn_ret	 ret;
	uint32_t	 notify = 0;

	if (len >= sizeof(word))
		return *errstr = "value too long", -1;
	memcpy(word, v, len);
	word[len] = '\0';
	if (f->type == EF_NOTIFY) {
		if (len > 0 && dsn_notify_parse(word, &notify, errstr) == -1)
			return *errstr = "bad notify", -1;
		*(uint32_t *)(void *)p = notify;
		return 0;
	}
	if (len == 0)
		ret = DSN_RET_NONE;
	else if (dsn_ret_parse(word, &ret) == -1)
		return *errstr = "bad ret", -1;
	*(uint32_t *)(void *)p = (uint32_t)ret;
	return 0;
}

/* Stores one value into its field.  0, or -1 with *errstr. */
static int
efield_set(const struct efield *f, struct envelope *e, const char *v,
    size_t len, const char **errstr)
{
	char		*p = (char *)e + f->off;
	uint64_t	 n;
	size_t		 i;

	switch (f->type) {
	case EF_STR1:
		if (len == 0)
			return *errstr = "empty value", -1;
		/* FALLTHROUGH */
	case EF_STR:
		if (len >= f->size)
			return *errstr = "value too long", -1;
		for (i = 0; i < len; i++)
			if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
				return *errstr = "control character", -1;
		memcpy(p, v, len);
		p[len] = '\0';
		return 0;
	case EF_U32:
		if (queue_number(v, len, UINT32_MAX, &n) == -1)
			return *errstr = "bad number", -1;
		*(uint32_t *)(void *)p = (uint32_t)n;
		return 0;
	case EF_TIME:
		if (queue_number(v, len, INT64_MAX, &n) == -1)
			return *errstr = "bad time", -1;
		*(int64_t *)(void *)p = (int64_t)n;
		return 0;
	case EF_BOOL:
		if (len != 1 || (v[0] != '0' && v[0] != '1'))
			return *errstr = "bad boolean", -1;
		*(int *)(void *)p = v[0] == '1';
		return 0;
	case EF_NOTIFY:
	case EF_RET:
		return efield_set_dsn(f, p, v, len, errstr);
	}
	return *errstr = "bad field", -1;
}

/* Checks what no single field says: ids, their agreement, kinds. */
static int
envelope_check(const struct envelope *e, const char **errstr)
{
	if (!queue_msgid_valid(e->msgid))
		return *errstr = "bad msgid", -1;
	if (!queue_evpid_valid(e->evpid) || !queue_evpid_of(e->evpid, e->msgid))
		return *errstr = "bad evpid", -1;
	if (e->parent[0] != '\0' && (!queue_evpid_valid(e->parent) ||
	    !queue_evpid_of(e->parent, e->msgid) ||
	    strcmp(e->parent, e->evpid) == 0))
		return *errstr = "bad parent", -1;
	if (e->remote && e->mailbox[0] != '\0')
		return *errstr = "remote with a mailbox", -1;
	if (strchr(e->mailbox, '/') != NULL)
		return *errstr = "bad mailbox", -1;
	if (!dsn_envid_valid(e->dsn_envid))
		return *errstr = "bad envid", -1;
	if (!dsn_orcpt_valid(e->dsn_orcpt))
		return *errstr = "bad orcpt", -1;
	if (!dsn_notify_valid(e->dsn_notify))
		return *errstr = "bad notify", -1;
	if (dsn_ret_name(e->dsn_ret) == NULL)
		return *errstr = "bad ret", -1;
	return 0;
}

/* Parses one line "key=value" into e, marking the key seen. */
static int
envelope_line(const char *line, size_t len, unsigned int version,
    struct envelope *e, uint32_t *seen, const char **errstr)
{
	const struct efield	*f;
	const char		*eq;
	size_t			 idx;

	if ((eq = memchr(line, '=', len)) == NULL)
		return *errstr = "line without '='", -1;
	if ((f = efield_find(line, (size_t)(eq - line), version)) == NULL)
		return *errstr = "unknown key", -1;
	idx = (size_t)(f - efields);
	if (*seen & (1U << idx))
		return *errstr = "repeated key", -1;
	*seen |= 1U << idx;
	return efield_set(f, e, eq + 1, len - (size_t)(eq + 1 - line), errstr);
}

/* "version=N" with N from 1 to ENVELOPE_VERSION: N, or 0. */
static unsigned int
envelope_version(const char *line, size_t len)
{
	size_t	 klen = strlen(ENVELOPE_VERSION_KEY);

	if (len != klen + 1 || memcmp(line, ENVELOPE_VERSION_KEY, klen) != 0 ||
	    line[klen] < '1' || line[klen] > '0' + ENVELOPE_VERSION)
		return 0;
	return (unsigned int)(line[klen] - '0');
}

/* The seen mask of a file of this version that has every key. */
static uint32_t
envelope_all_keys(unsigned int version)
{
	uint32_t	 all = 0;
	size_t		 i;

	for (i = 0; i < NEFIELDS; i++)
		if (efields[i].since <= version)
			all |= 1U << i;
	return all;
}

int
envelope_parse(const char *buf, size_t len, struct envelope *e,
    const char **errstr)
{
	const char	*p = buf, *end = buf + len, *nl;
	uint32_t	 seen = 0;
	unsigned int	 version;

	memset(e, 0, sizeof(*e));
	if (len > QUEUE_ENVELOPE_MAX_BYTES)
		return *errstr = "file too large", -1;
	if (len == 0 || buf[len - 1] != '\n')
		return *errstr = "no final newline", -1;
	if (memchr(buf, '\0', len) != NULL)
		return *errstr = "NUL byte", -1;
	nl = memchr(p, '\n', len);
	if ((version = envelope_version(p, (size_t)(nl - p))) == 0)
		return *errstr = "bad version line", -1;
	for (p = nl + 1; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (envelope_line(p, (size_t)(nl - p), version, e, &seen,
		    errstr) == -1)
			return -1;
	}
	if (seen != envelope_all_keys(version))
		return *errstr = "missing key", -1;
	return envelope_check(e, errstr);
}

/* "key=word\n" for a DSN field; what snprintf returns, or -1. */
static int
efield_put_dsn(const struct efield *f, const char *p, char *buf,
    size_t buflen, const char **errstr)
{
	char		 word[DSN_NOTIFY_MAX_BYTES];
	const char	*name;
	uint32_t	 v = *(const uint32_t *)(const void *)p;

	if (f->type == EF_NOTIFY) {
		if (dsn_notify_format(v, word, sizeof(word)) == -1)
			return *errstr = "bad notify", -1;
		name = word;
	} else if ((name = dsn_ret_name(v)) == NULL)
		return *errstr = "bad ret", -1;
	return snprintf(buf, buflen, "%s=%s\n", f->key, name);
}

/* Appends "key=value\n" for one field; -1 when it is invalid or full. */
static int
efield_put(const struct efield *f, const struct envelope *e, char *buf,
    size_t buflen, size_t *off, const char **errstr)
{
	const char	*p = (const char *)e + f->off;
	int		 n = -1;

	switch (f->type) {
	case EF_STR1:
	case EF_STR:
		if ((f->type == EF_STR1 && p[0] == '\0') ||
		    !queue_text_valid(p, f->size - 1))
			return *errstr = "bad value", -1;
		n = snprintf(buf + *off, buflen - *off, "%s=%s\n", f->key, p);
		break;
	case EF_U32:
		n = snprintf(buf + *off, buflen - *off, "%s=%u\n", f->key,
		    *(const uint32_t *)(const void *)p);
		break;
	case EF_TIME:
		if (*(const int64_t *)(const void *)p < 0)
			return *errstr = "negative time", -1;
		n = snprintf(buf + *off, buflen - *off, "%s=%lld\n", f->key,
		    (long long)*(const int64_t *)(const void *)p);
		break;
	case EF_BOOL:
		n = snprintf(buf + *off, buflen - *off, "%s=%d\n", f->key,
		    *(const int *)(const void *)p ? 1 : 0);
		break;
	case EF_NOTIFY:
	case EF_RET:
		if ((n = efield_put_dsn(f, p, buf + *off, buflen - *off,
		    errstr)) == -1)
			return -1;
		break;
	}
	if (n < 0 || (size_t)n >= buflen - *off)
		return *errstr = "envelope too large", -1;
	*off += (size_t)n;
	return 0;
}

int
envelope_serialise(const struct envelope *e, char *buf, size_t buflen,
    const char **errstr)
{
	size_t	 off, i;
	int	 n;

	if (envelope_check(e, errstr) == -1)
		return -1;
	if (buflen > QUEUE_ENVELOPE_MAX_BYTES + 1)
		buflen = QUEUE_ENVELOPE_MAX_BYTES + 1;
	n = snprintf(buf, buflen, "%s%d\n", ENVELOPE_VERSION_KEY,
	    ENVELOPE_VERSION);
	if (n < 0 || (size_t)n >= buflen)
		return *errstr = "envelope too large", -1;
	off = (size_t)n;
	for (i = 0; i < NEFIELDS; i++)
		if (efield_put(&efields[i], e, buf, buflen, &off, errstr) == -1)
			return -1;
	return (int)off;
}

uint32_t
queue_backoff(uint32_t retries, uint32_t min_secs, uint32_t max_secs)
{
	uint64_t	 d;
	uint32_t	 i;

	if (min_secs > max_secs)
		min_secs = max_secs;
	d = min_secs;
	for (i = 1; i < retries && d < max_secs; i++)
		d *= 2;
	return d > max_secs ? max_secs : (uint32_t)d;
}

int64_t
queue_next_try(int64_t now, int64_t created, uint32_t retries,
    const struct config *conf)
{
	int64_t	 next, expiry;

	next = now + queue_backoff(retries, conf->retry_min_secs,
	    conf->retry_max_secs);
	expiry = created + (int64_t)conf->expire_secs;
	if (next > expiry)
		next = expiry > now ? expiry : now;
	return next;
}

int
queue_delay_notice_due(const struct envelope *e, int64_t now,
    const struct config *conf)
{
	if (e->delay_notified || conf->delay_notice_secs == 0 ||
	    e->sender[0] == '\0')
		return 0;
	if (e->dsn_notify != 0 && !(e->dsn_notify & DSN_NOTIFY_DELAY))
		return 0;
	return now >= e->created + (int64_t)conf->delay_notice_secs &&
	    now < e->created + (int64_t)conf->expire_secs;
}

int
queue_delivered_to(const char *rcpt, const char *mailbox, char *dst,
    size_t dstlen)
{
	const char	*at = strrchr(rcpt, '@');
	size_t		 llen;
	int		 n;

	llen = at != NULL ? (size_t)(at - rcpt) : strlen(rcpt);
	if (strlen(mailbox) == llen && strncasecmp(rcpt, mailbox, llen) == 0)
		n = snprintf(dst, dstlen, "%s", rcpt);
	else if (at == NULL)
		n = snprintf(dst, dstlen, "%s", mailbox);
	else
		n = snprintf(dst, dstlen, "%s@%s", mailbox, at + 1);
	return (n < 0 || (size_t)n >= dstlen) ? -1 : 0;
}
