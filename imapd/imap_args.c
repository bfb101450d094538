/*
 * imapd/imap_args.c: typed views of a command's arguments (RFC 3501 9):
 * astrings, numbers, mod-sequences (RFC 7162), mailbox names (modified
 * UTF-7 or UTF-8, INBOX in any case), flag lists, dates and date-times.
 * Runs in the login engine and the mailbox process; no I/O.
 */
#include <sys/types.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap_proto.h"

int
imap_arg_is_astring(const struct imap_arg *a)
{
	return a->type == IMAP_ARG_ATOM || a->type == IMAP_ARG_QUOTED ||
	    a->type == IMAP_ARG_LITERAL || a->type == IMAP_ARG_NIL;
}

int
imap_arg_is_atom(const struct imap_arg *a, const char *word)
{
	return (a->type == IMAP_ARG_ATOM || a->type == IMAP_ARG_NIL) &&
	    strcasecmp(a->str, word) == 0;
}

const char *
imap_arg_astring(const struct imap_arg *a, size_t *len)
{
	if (!imap_arg_is_astring(a))
		return NULL;
	*len = a->len;
	return a->str;
}

int
imap_parse_number64(const char *s, size_t len, uint64_t max, uint64_t *v)
{
	uint64_t	 n = 0;
	size_t		 i;

	if (len == 0 || len > 20)
		return -1;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		if (n > (max - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		n = n * 10 + (uint64_t)(s[i] - '0');
	}
	*v = n;
	return 0;
}

int
imap_arg_number(const struct imap_arg *a, uint32_t *v, const char **err)
{
	uint64_t	 n;

	if (a->type != IMAP_ARG_ATOM ||
	    imap_parse_number64(a->str, a->len, UINT32_MAX, &n) == -1) {
		*err = "expected a number";
		return -1;
	}
	*v = (uint32_t)n;
	return 0;
}

int
imap_arg_nznumber(const struct imap_arg *a, uint32_t *v, const char **err)
{
	if (imap_arg_number(a, v, err) == -1 || *v == 0) {
		*err = "expected a non-zero number";
		return -1;
	}
	return 0;
}

int
imap_arg_modseq(const struct imap_arg *a, uint64_t *v, const char **err)
{
	/* RFC 7162 7: mod-sequence-value is 1 to 2^63 - 1. */
	if (a->type != IMAP_ARG_ATOM ||
	    imap_parse_number64(a->str, a->len, INT64_MAX, v) == -1 ||
	    *v == 0) {
		*err = "expected a mod-sequence";
		return -1;
	}
	return 0;
}

/* "INBOX" in any case alone or before '/' becomes "INBOX" (3501 5.1). */
static void
mbox_inbox(char *name)
{
	if (strncasecmp(name, "INBOX", 5) == 0 &&
	    (name[5] == '\0' || name[5] == '/'))
		memcpy(name, "INBOX", 5);
}

int
imap_arg_mailbox(const struct imap_arg *a, int utf8, char *out,
    size_t outsize, const char **err)
{
	size_t	 len;

	if (!imap_arg_is_astring(a)) {
		*err = "expected a mailbox name";
		return -1;
	}
	len = a->len;
	if (len == 0 || memchr(a->str, '\0', len) != NULL) {
		*err = "invalid mailbox name";
		return -1;
	}
	if (outsize > IMAP_MAILBOX_MAX_BYTES + 1)
		outsize = IMAP_MAILBOX_MAX_BYTES + 1;
	if (utf8) {
		if (!imap_utf8_valid(a->str, len)) {
			*err = "mailbox name is not valid UTF-8";
			return -1;
		}
		if (len >= outsize) {
			*err = "mailbox name too long";
			return -1;
		}
		memcpy(out, a->str, len);
		out[len] = '\0';
	} else if (imap_utf7_decode(a->str, len, out, outsize) == -1) {
		*err = len >= outsize ? "mailbox name too long" :
		    "mailbox name is not valid modified UTF-7";
		return -1;
	}
	mbox_inbox(out);
	return 0;
}

static const struct {
	const char	*name;
	unsigned int	 bit;
} arg_sysflags[] = {
	{ "\\Answered",	IMAP_FL_ANSWERED },
	{ "\\Flagged",	IMAP_FL_FLAGGED },
	{ "\\Deleted",	IMAP_FL_DELETED },
	{ "\\Seen",	IMAP_FL_SEEN },
	{ "\\Draft",	IMAP_FL_DRAFT },
	{ "\\Recent",	IMAP_FL_RECENT },
};

const char *
imap_flag_name(unsigned int bit)
{
	size_t	 i;

	for (i = 0; i < sizeof(arg_sysflags) / sizeof(arg_sysflags[0]); i++)
		if (arg_sysflags[i].bit == bit)
			return arg_sysflags[i].name;
	return NULL;
}

/* One flag into fl. */
static int
arg_flag(const struct imap_arg *a, struct imap_flags *fl, const char **err)
{
	size_t	 i;

	if (a->type != IMAP_ARG_ATOM) {
		*err = "expected a flag";
		return -1;
	}
	if (a->str[0] == '\\') {
		for (i = 0; i < sizeof(arg_sysflags) / sizeof(arg_sysflags[0]);
		    i++)
			if (strcasecmp(a->str, arg_sysflags[i].name) == 0)
				break;
		if (i == sizeof(arg_sysflags) / sizeof(arg_sysflags[0]) ||
		    arg_sysflags[i].bit == IMAP_FL_RECENT) {
			*err = "unknown or read-only system flag";
			return -1;
		}
		fl->sys |= arg_sysflags[i].bit;
		return 0;
	}
	if (a->len > IMAP_KEYWORD_MAX_BYTES || strpbrk(a->str, "%*]\\") !=
	    NULL) {
		*err = "invalid keyword";
		return -1;
	}
	for (i = 0; i < (size_t)fl->nkw; i++)
		if (strcasecmp(fl->kw[i], a->str) == 0)
			return 0;
	if (fl->nkw >= IMAP_FLAGS_MAX) {
		*err = "too many keywords";
		return -1;
	}
	fl->kw[fl->nkw++] = a->str;
	return 0;
}

int
imap_arg_flags(const struct imap_arg *args, int nargs, struct imap_flags *fl,
    const char **err)
{
	int	 i;

	memset(fl, 0, sizeof(*fl));
	if (nargs == 1 && args[0].type == IMAP_ARG_LIST) {
		nargs = args[0].nlist;
		args = args[0].list;
	}
	for (i = 0; i < nargs; i++)
		if (arg_flag(&args[i], fl, err) == -1)
			return -1;
	return 0;
}

int64_t
imap_days_from_civil(int y, unsigned int m, unsigned int d)
{
	int64_t		 era, yoe, doy, doe;

	/* Counted in 400-year eras from March 1 of year 0. */
	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static const char arg_months[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

/* "d-Mon-yyyy" (day 1 or 2 digits, or " d" for date-time) at s. */
static int
arg_dmy(const char *s, size_t len, int64_t *days)
{
	unsigned int	 d, m, y, i = 0;
	static const unsigned int mdays[12] = {
	    31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (len < 10 || len > 11)
		return -1;
	d = (s[0] == ' ' ? 0 : (unsigned int)(s[0] - '0'));
	if (s[0] != ' ' && !isdigit((unsigned char)s[0]))
		return -1;
	if (len == 11) {
		if (!isdigit((unsigned char)s[1]))
			return -1;
		d = d * 10 + (unsigned int)(s[1] - '0');
		i = 1;
	}
	if (s[i + 1] != '-' || s[i + 5] != '-')
		return -1;
	for (m = 0; m < 12; m++)
		if (strncasecmp(s + i + 2, arg_months[m], 3) == 0)
			break;
	for (y = 0, i += 6; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		y = y * 10 + (unsigned int)(s[i] - '0');
	}
	if (m == 12 || d == 0 || d > mdays[m] || (m == 1 && d == 29 &&
	    (y % 4 != 0 || (y % 100 == 0 && y % 400 != 0))))
		return -1;
	*days = imap_days_from_civil((int)y, m + 1, d);
	return 0;
}

int
imap_arg_date(const struct imap_arg *a, int64_t *days, const char **err)
{
	if ((a->type != IMAP_ARG_ATOM && a->type != IMAP_ARG_QUOTED) ||
	    a->len < 1 || a->str[0] == ' ' ||
	    arg_dmy(a->str, a->len, days) == -1) {
		*err = "expected a date (d-Mon-yyyy)";
		return -1;
	}
	return 0;
}

/* "hh:mm:ss +zzzz" at s (14 bytes). */
static int
arg_time_zone(const char *s, int *secs, int *tz)
{
	int	 v[5], i;
	const int pos[5] = { 0, 3, 6, 10, 12 };

	if (s[2] != ':' || s[5] != ':' || s[8] != ' ' ||
	    (s[9] != '+' && s[9] != '-'))
		return -1;
	for (i = 0; i < 5; i++) {
		if (!isdigit((unsigned char)s[pos[i]]) ||
		    !isdigit((unsigned char)s[pos[i] + 1]))
			return -1;
		v[i] = (s[pos[i]] - '0') * 10 + (s[pos[i] + 1] - '0');
	}
	if (v[0] > 23 || v[1] > 59 || v[2] > 60 || v[4] > 59)
		return -1;
	*secs = v[0] * 3600 + v[1] * 60 + v[2];
	*tz = (v[3] * 3600 + v[4] * 60) * (s[9] == '-' ? -1 : 1);
	return 0;
}

int
imap_arg_datetime(const struct imap_arg *a, time_t *t, int *tzoff,
    const char **err)
{
	int64_t	 days;
	int	 secs;

	/* RFC 3501 9 date-time: DQUOTE date-day-fixed "-" ... DQUOTE. */
	if (a->type != IMAP_ARG_QUOTED || a->len != 26 ||
	    arg_dmy(a->str, 11, &days) == -1 ||
	    a->str[11] != ' ' ||
	    arg_time_zone(a->str + 12, &secs, tzoff) == -1) {
		*err = "expected a date-time (\"dd-Mon-yyyy hh:mm:ss "
		    "+zzzz\")";
		return -1;
	}
	*t = (time_t)(days * 86400 + secs - *tzoff);
	return 0;
}
