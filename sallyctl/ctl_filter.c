/*
 * show queue's filters (sallyctl, root, no chroot): read from the
 * command line and matched against each envelope the queue manager
 * lists.  The manager sends the whole list either way, so filtering
 * here keeps control.sock's protocol small.  Pure: unit-tested.
 *
 *   from ADDR		the sender is ADDR ("<>" or "" for a bounce)
 *   to ADDR		the recipient is ADDR
 *   domain D		the recipient's domain is D
 *   older-than AGE	created more than AGE ago (30s, 5m, 2h, 1d)
 *   held		held or paused
 *
 * Addresses and domains are compared without case (RFC 5321 2.4 lets
 * the local part's case matter; no MTA of ours makes use of it).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sallyctl.h"

int
ctl_filter_age(const char *s, int64_t *secs)
{
	static const struct {
		char		 unit;
		int64_t		 secs;
	} units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 } };
	char		 num[24];
	const char	*e;
	size_t		 len = strlen(s), i;
	long long	 v;

	if (len < 2 || len >= sizeof(num))
		return -1;
	memcpy(num, s, len - 1);
	num[len - 1] = '\0';
	if (num[0] < '0' || num[0] > '9')
		return -1;
	v = strtonum(num, 0, CTL_AGE_MAX_SECS, &e);
	if (e != NULL)
		return -1;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (s[len - 1] == units[i].unit) {
			if (v > CTL_AGE_MAX_SECS / units[i].secs)
				return -1;
			*secs = v * units[i].secs;
			return 0;
		}
	return -1;
}

/* The value of a filter that takes one; NULL when it is missing. */
static const char *
ctl_filter_value(int argc, char *const argv[], int *i)
{
	if (*i + 1 >= argc)
		return NULL;
	return argv[++*i];
}

int
ctl_filter_parse(int argc, char *const argv[], struct ctl_filter *f,
    const char **errstr)
{
	const char	*v;
	int		 i;

	memset(f, 0, sizeof(*f));
	f->older_than = -1;
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "held") == 0) {
			f->held = 1;
			continue;
		}
		if ((v = ctl_filter_value(argc, argv, &i)) == NULL)
			return *errstr = "unknown filter or missing value", -1;
		if (strcmp(argv[i - 1], "from") == 0)
			f->from = strcmp(v, "<>") == 0 ? "" : v;
		else if (strcmp(argv[i - 1], "to") == 0 && v[0] != '\0')
			f->to = v;
		else if (strcmp(argv[i - 1], "domain") == 0 && v[0] != '\0')
			f->domain = v;
		else if (strcmp(argv[i - 1], "older-than") == 0) {
			if (ctl_filter_age(v, &f->older_than) == -1)
				return *errstr = "bad age (30s, 5m, 2h, 1d)",
				    -1;
		} else
			return *errstr = "unknown filter or missing value", -1;
	}
	return 0;
}

/* The domain of an address: after its last '@', or "" without one. */
static const char *
ctl_filter_domain(const char *addr)
{
	const char	*at = strrchr(addr, '@');

	return at != NULL ? at + 1 : "";
}

int
ctl_filter_match(const struct ctl_filter *f, const char *sender,
    const char *rcpt, uint64_t created, const char *state, uint64_t now)
{
	if (f->from != NULL && strcasecmp(f->from, sender) != 0)
		return 0;
	if (f->to != NULL && strcasecmp(f->to, rcpt) != 0)
		return 0;
	if (f->domain != NULL &&
	    strcasecmp(f->domain, ctl_filter_domain(rcpt)) != 0)
		return 0;
	if (f->older_than >= 0 &&
	    ctl_elapsed(created, now) <= f->older_than)
		return 0;
	if (f->held && strcmp(state, "waiting") == 0)
		return 0;
	if (f->held && strcmp(state, "active") == 0)
		return 0;
	return 1;
}
