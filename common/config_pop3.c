/*
 * The pop3 statement: pop3d's own settings (RFC 2449 6.5 LOGIN-DELAY,
 * 6.7 EXPIRE), kept apart from the SMTP policy (config_policy.c).
 *
 *	pop3 login-delay DURATION	seconds between two logins of a user
 *	pop3 expire DAYS|Nd|never	how long pop3d keeps messages
 *
 * Both are printed only when set, so that a file without them prints
 * as before.
 */
#include <sys/types.h>

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "config_int.h"
#include "sp_limits.h"

#define SECS_PER_DAY	86400

void
config_pop3_init(struct config *conf)
{
	conf->pop3_login_delay_secs = 0;
	conf->pop3_expire_days = -1;
}

int
config_set_pop3_delay(struct config *conf, const char *name, uint32_t secs,
    char *err, size_t errlen)
{
	if (strcmp(name, "login-delay") != 0) {
		(void)snprintf(err, errlen, "unknown pop3 setting \"%s\"",
		    name);
		return -1;
	}
	conf->pop3_login_delay_secs = secs;
	return 0;
}

int
config_set_pop3_expire(struct config *conf, const char *word,
    uint64_t days, char *err, size_t errlen)
{
	uint32_t	 secs;

	if (word == NULL) {
		if (days > POP3_EXPIRE_DAYS_MAX)
			goto bad;
		conf->pop3_expire_days = (int64_t)days;
		return 0;
	}
	if (strcmp(word, "never") == 0) {
		conf->pop3_expire_days = -1;
		return 0;
	}
	if (config_parse_time(word, &secs) == -1 || secs % SECS_PER_DAY != 0 ||
	    secs / SECS_PER_DAY > POP3_EXPIRE_DAYS_MAX)
		goto bad;
	conf->pop3_expire_days = secs / SECS_PER_DAY;
	return 0;
bad:
	(void)snprintf(err, errlen, "pop3 expire: whole days from 0 to %d, "
	    "or never", POP3_EXPIRE_DAYS_MAX);
	return -1;
}

void
config_pop3_print(FILE *fp, const struct config *conf)
{
	if (conf->pop3_login_delay_secs > 0) {
		(void)fprintf(fp, "pop3 login-delay ");
		config_print_time(fp, conf->pop3_login_delay_secs);
		(void)putc('\n', fp);
	}
	if (conf->pop3_expire_days >= 0)
		(void)fprintf(fp, "pop3 expire %lld\n",
		    (long long)conf->pop3_expire_days);
}
