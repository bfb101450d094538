/*
 * Pure helpers of sallyctl: formatting ages, and parsing what pidfiles,
 * /proc and the command line hand it.  No I/O here, so that the unit
 * tests can feed them anything.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sallyctl.h"

#define SECS_PER_MIN	60
#define SECS_PER_HOUR	3600
#define SECS_PER_DAY	86400
/* Field 22 of /proc/<pid>/stat, counted from field 3 after the comm. */
#define PROCSTAT_STARTTIME_INDEX	(22 - 3)

int64_t
ctl_elapsed(uint64_t from, uint64_t to)
{
	if (to <= from)
		return 0;
	if (to - from > (uint64_t)INT64_MAX)
		return INT64_MAX;
	return (int64_t)(to - from);
}

int
ctl_age_format(int64_t secs, char *dst, size_t dstlen)
{
	int64_t		 n;
	char		 unit;
	int		 r;

	if (secs < 0)
		secs = 0;
	if (secs < SECS_PER_MIN) {
		n = secs;
		unit = 's';
	} else if (secs < SECS_PER_HOUR) {
		n = secs / SECS_PER_MIN;
		unit = 'm';
	} else if (secs < SECS_PER_DAY) {
		n = secs / SECS_PER_HOUR;
		unit = 'h';
	} else {
		n = secs / SECS_PER_DAY;
		unit = 'd';
	}
	r = snprintf(dst, dstlen, "%" PRId64 "%c", n, unit);
	if (r < 0 || (size_t)r >= dstlen)
		return -1;
	return 0;
}

/* 1 when s[0..len) is one or more decimal digits. */
static int
ctl_all_digits(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/*
 * The lowest pid accepted is 2: a pidfile that names init (or the
 * kernel's 0) is corrupt, and sallyctl stop must never signal it.
 */
int
ctl_pidfile_parse(const char *buf, size_t len, pid_t *pid,
    const char **errstr)
{
	char		 s[CTL_PIDFILE_MAX_BYTES + 1];
	long long	 v;

	if (len == 0) {
		*errstr = "empty";
		return -1;
	}
	if (len > CTL_PIDFILE_MAX_BYTES) {
		*errstr = "too long";
		return -1;
	}
	if (buf[len - 1] == '\n')
		len--;
	if (!ctl_all_digits(buf, len)) {
		*errstr = "not a number";
		return -1;
	}
	memcpy(s, buf, len);
	s[len] = '\0';
	v = strtonum(s, 2, CTL_PID_MAX, errstr);
	if (*errstr != NULL)
		return -1;
	*pid = (pid_t)v;
	return 0;
}

/* Splits line (NUL-terminated) at spaces and parses field index. */
static int
ctl_procstat_field(char *line, int index, uint64_t *v)
{
	char		*p, *field;
	const char	*errstr;
	int		 i = 0;

	while ((field = strsep(&line, " ")) != NULL) {
		if (i++ != index)
			continue;
		if ((p = strchr(field, '\n')) != NULL)
			*p = '\0';
		if (!ctl_all_digits(field, strlen(field)))
			return -1;
		*v = (uint64_t)strtonum(field, 0, INT64_MAX, &errstr);
		return errstr == NULL ? 0 : -1;
	}
	return -1;
}

/*
 * The comm field is in parentheses and may itself hold spaces and
 * parentheses, so it ends at the last ')' of the line (proc(5)).
 */
int
ctl_procstat_parse(const char *buf, size_t len, struct ctl_procstat *ps)
{
	char		 line[CTL_PROCSTAT_MAX_BYTES + 1];
	char		*lpar, *rpar;
	size_t		 n;

	if (len == 0 || len > CTL_PROCSTAT_MAX_BYTES ||
	    memchr(buf, '\0', len) != NULL)
		return -1;
	memcpy(line, buf, len);
	line[len] = '\0';
	if ((lpar = strchr(line, '(')) == NULL ||
	    (rpar = strrchr(line, ')')) == NULL || rpar < lpar)
		return -1;
	n = (size_t)(rpar - lpar - 1);
	if (n >= sizeof(ps->comm) || rpar[1] != ' ' || rpar[2] == '\0' ||
	    rpar[3] != ' ')
		return -1;
	memcpy(ps->comm, lpar + 1, n);
	ps->comm[n] = '\0';
	ps->state = rpar[2];
	return ctl_procstat_field(rpar + 2, PROCSTAT_STARTTIME_INDEX,
	    &ps->starttime);
}

int
ctl_uptime_parse(const char *buf, size_t len, uint64_t *secs)
{
	char		 s[32];
	const char	*errstr;
	size_t		 n;

	for (n = 0; n < len && isdigit((unsigned char)buf[n]); n++)
		;
	if (n == 0 || n >= sizeof(s))
		return -1;
	if (n < len && buf[n] != '.' && buf[n] != ' ' && buf[n] != '\n')
		return -1;
	memcpy(s, buf, n);
	s[n] = '\0';
	*secs = (uint64_t)strtonum(s, 0, INT64_MAX, &errstr);
	return errstr == NULL ? 0 : -1;
}

/* A msgid: exactly CTL_MSGID_HEX_DIGITS lower-case hex digits. */
static int
ctl_msgid_valid(const char *s, size_t len)
{
	size_t	 i;

	if (len != CTL_MSGID_HEX_DIGITS)
		return 0;
	for (i = 0; i < len; i++)
		if (!isdigit((unsigned char)s[i]) && (s[i] < 'a' || s[i] > 'f'))
			return 0;
	return 1;
}

int
ctl_id_valid(const char *id)
{
	const char	*dot;
	size_t		 len;

	if (strcmp(id, "all") == 0)
		return 1;
	if ((len = strlen(id)) >= CTL_EVPID_MAX_BYTES)
		return 0;
	if ((dot = strchr(id, '.')) == NULL)
		return ctl_msgid_valid(id, len);
	return ctl_msgid_valid(id, (size_t)(dot - id)) &&
	    ctl_all_digits(dot + 1, strlen(dot + 1));
}

int
ctl_msg_valid(const char *id)
{
	return strcmp(id, "all") != 0 && ctl_id_valid(id);
}
