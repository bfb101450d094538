/*
 * imapd: dates.  RFC 5322 3.3 date-times (with the obsolete forms of
 * 4.3) from Date: fields, for SORT DATE (RFC 5256 2.2), SENTBEFORE and
 * friends; IMAP's own date-time (APPEND, INTERNALDATE) and date
 * (SEARCH) of RFC 3501 9.  No time zone files, no locale: arithmetic
 * only, safe under the mailbox process's seccomp filter (the mail user,
 * chrooted).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "imap_msg_int.h"

static const char *const date_months[12] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

/* RFC 5322 4.3's zone names; military letters count as -0000. */
static const struct {
	const char	*name;
	int		 hours;
} date_zones[] = {
	{ "UT", 0 }, { "GMT", 0 }, { "UTC", 0 }, { "Z", 0 },
	{ "EST", -5 }, { "EDT", -4 }, { "CST", -6 }, { "CDT", -5 },
	{ "MST", -7 }, { "MDT", -6 }, { "PST", -8 }, { "PDT", -7 },
};

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static long
date_days(long y, int m, int d)
{
	long	 era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
date_mdays(long y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30,
	    31, 30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return days[m - 1];
}

/* A month's abbreviation at s: 1 to 12, or 0. */
static int
date_month(const char *s, size_t len)
{
	int	 i;

	if (len != 3)
		return 0;
	for (i = 0; i < 12; i++)
		if (strncasecmp(s, date_months[i], 3) == 0)
			return i + 1;
	return 0;
}

/* Reads up to max digits: their value and count. */
static const char *
date_num(const char *p, const char *e, int max, long *v, int *n)
{
	*v = 0;
	for (*n = 0; p < e && *n < max && isdigit((unsigned char)*p); p++) {
		*v = *v * 10 + (*p - '0');
		(*n)++;
	}
	return p;
}

struct date_parts {
	long	 year;
	int	 mon, day, hour, min, sec, tz;
};

static int
date_valid(const struct date_parts *d)
{
	return d->mon >= 1 && d->mon <= 12 && d->day >= 1 &&
	    d->year >= 1 && d->year <= 9999 &&
	    d->day <= date_mdays(d->year, d->mon) && d->hour <= 23 &&
	    d->min <= 59 && d->sec <= 60;
}

/* The time in UTC of valid parts. */
static time_t
date_make(const struct date_parts *d)
{
	long	 days;

	days = date_days(d->year, d->mon, d->day);
	return (time_t)days * 86400 + d->hour * 3600 + d->min * 60 + d->sec -
	    (time_t)d->tz * 60;
}

/* The civil date of a day count since 1970 (the inverse of date_days). */
static void
date_civil(long z, long *y, int *m, int *d)
{
	long	 era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* The zone after the time: "+hhmm", "-hhmm", a name, or nothing. */
static int
date_zone(const char *p, const char *e, int *tz)
{
	const char	*s;
	size_t		 i;
	long		 v;
	int		 n;

	*tz = 0;
	p = msg_cfws(p, e);
	if (p < e && (*p == '+' || *p == '-')) {
		date_num(p + 1, e, 4, &v, &n);
		if (n != 4 || v % 100 > 59)
			return -1;
		*tz = (int)(v / 100 * 60 + v % 100) * (*p == '-' ? -1 : 1);
		return 0;
	}
	for (s = p; p < e && isalpha((unsigned char)*p); p++)
		;
	for (i = 0; i < sizeof(date_zones) / sizeof(date_zones[0]); i++)
		if (strlen(date_zones[i].name) == (size_t)(p - s) &&
		    strncasecmp(date_zones[i].name, s, (size_t)(p - s)) == 0)
			*tz = date_zones[i].hours * 60;
	return 0;
}

/* "hh:mm[:ss]" with optional space around the colons. */
static const char *
date_time(const char *p, const char *e, struct date_parts *d)
{
	long	 v[3] = { 0, 0, 0 };
	int	 i, n;

	for (i = 0; i < 3; i++) {
		p = msg_cfws(p, e);
		if (i > 0) {
			if (i == 2 && (p >= e || *p != ':'))
				break;	/* no second (RFC 5322 3.3) */
			if (p >= e || *p != ':')
				return NULL;
			p = msg_cfws(p + 1, e);
		}
		p = date_num(p, e, 2, &v[i], &n);
		if (n == 0)
			return NULL;
	}
	d->hour = (int)v[0];
	d->min = (int)v[1];
	d->sec = (int)v[2];
	return p;
}

time_t
imap_date_parse(const char *s, size_t len, int *tzoff_min)
{
	const char	*p = s, *e = s + len, *w;
	struct date_parts d;
	long		 v;
	int		 n;

	memset(&d, 0, sizeof(d));
	p = msg_cfws(p, e);
	for (w = p; p < e && isalpha((unsigned char)*p); p++)
		;
	if (p > w) {			/* the day of the week */
		p = msg_cfws(p, e);
		if (p < e && *p == ',')
			p++;
	}
	p = date_num(msg_cfws(p, e), e, 2, &v, &n);
	d.day = (int)v;
	p = msg_cfws(p, e);
	for (w = p; p < e && isalpha((unsigned char)*p); p++)
		;
	if (n == 0 || (d.mon = date_month(w, (size_t)(p - w))) == 0)
		return 0;
	p = date_num(msg_cfws(p, e), e, 4, &d.year, &n);
	if (n < 2)
		return 0;
	if (n == 2)
		d.year += d.year < 50 ? 2000 : 1900;
	else if (n == 3)
		d.year += 1900;
	if ((p = date_time(p, e, &d)) == NULL ||
	    date_zone(p, e, &d.tz) == -1 || !date_valid(&d))
		return 0;
	if (tzoff_min != NULL)
		*tzoff_min = d.tz;
	return date_make(&d);
}

time_t
imap_msg_date(const struct imap_message *m, int *tzoff_min)
{
	long	 len;

	if (tzoff_min != NULL)
		*tzoff_min = 0;
	if ((len = msg_field(m, m->root, "Date")) < 0)
		return 0;
	return imap_date_parse(m->field, (size_t)len, tzoff_min);
}

/* "d-Mon-yyyy" or "dd-Mon-yyyy" (a space may pad the day): its length. */
static size_t
date_imap_day(const char *s, size_t len, struct date_parts *d)
{
	const char	*p = s, *e = s + len;
	long		 v;
	int		 n;

	if (p < e && *p == ' ')
		p++;
	p = date_num(p, e, 2, &v, &n);
	d->day = (int)v;
	if (n == 0 || e - p < 9 || *p != '-' || p[4] != '-' ||
	    (d->mon = date_month(p + 1, 3)) == 0)
		return 0;
	p = date_num(p + 5, e, 4, &d->year, &n);
	return n == 4 ? (size_t)(p - s) : 0;
}

time_t
imap_date_parse_search(const char *s, size_t len)
{
	struct date_parts d;

	memset(&d, 0, sizeof(d));
	if (date_imap_day(s, len, &d) != len || !date_valid(&d))
		return -1;
	return date_make(&d);
}

time_t
imap_date_parse_imap(const char *s, size_t len, int *tzoff_min)
{
	struct date_parts d;
	const char	*p, *e = s + len;
	size_t		 n;

	memset(&d, 0, sizeof(d));
	if ((n = date_imap_day(s, len, &d)) == 0 || len - n != 15 ||
	    s[n] != ' ' || s[n + 3] != ':' || s[n + 6] != ':' ||
	    s[n + 9] != ' ')
		return -1;
	p = s + n;
	if (date_time(p, p + 9, &d) == NULL || (s[n + 10] != '+' &&
	    s[n + 10] != '-') || date_zone(s + n + 10, e, &d.tz) == -1)
		return -1;
	if (!date_valid(&d))
		return -1;
	if (tzoff_min != NULL)
		*tzoff_min = d.tz;
	return date_make(&d);
}

int
imap_date_format(time_t t, int tzoff_min, char *out, size_t outlen)
{
	long		 local = (long)t + tzoff_min * 60L, days, secs, y;
	int		 a = tzoff_min < 0 ? -tzoff_min : tzoff_min, n, m, d;

	if (outlen < IMAP_DATE_TIME_BYTES)
		return -1;
	days = local / 86400;
	if ((secs = local % 86400) < 0) {
		secs += 86400;
		days--;
	}
	date_civil(days, &y, &m, &d);
	if (y < 0 || y > 9999)
		return -1;
	n = snprintf(out, outlen, "%2d-%s-%04ld %02ld:%02ld:%02ld %c%02d%02d",
	    d, date_months[m - 1], y, secs / 3600, secs / 60 % 60, secs % 60,
	    tzoff_min < 0 ? '-' : '+', a / 60, a % 60);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}
