/*
 * The submit statement: local submission's settings (sallyctl's
 * sendmail front end, smtpd's local socket), read by smtpd and by the
 * front end, each as whoever runs it.  No I/O but the printout.
 *
 *	submit trusted USER...	users whose -f sets the envelope sender
 *
 * Root is always trusted.  Everyone else's mail has the envelope
 * sender login@origin, whatever the client says (smtpd/smtp_local.c).
 */
#include <sys/types.h>

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "config_int.h"
#include "sp_limits.h"

/* A login name as useradd(8) takes them: [a-z_][a-z0-9_.-]*[$]. */
static int
config_user_valid(const char *name)
{
	size_t	 i, len = strlen(name);

	if (len == 0 || len >= CONFIG_USER_MAX || name[0] == '-' ||
	    name[0] == '.')
		return 0;
	for (i = 0; i < len; i++) {
		if ((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= 'A' && name[i] <= 'Z') ||
		    (name[i] >= '0' && name[i] <= '9') ||
		    strchr("_.-", name[i]) != NULL)
			continue;
		if (name[i] == '$' && i == len - 1)
			continue;
		return 0;
	}
	return 1;
}

int
config_add_trusted(struct config *conf, const char *word, const char *user,
    char *err, size_t errlen)
{
	if (strcmp(word, "trusted") != 0) {
		(void)snprintf(err, errlen, "unknown submit setting \"%s\"",
		    word);
		return -1;
	}
	/* The word alone, checked before the users are read. */
	if (user == NULL)
		return 0;
	if (!config_user_valid(user)) {
		(void)snprintf(err, errlen, "submit trusted: invalid user "
		    "name \"%s\"", user);
		return -1;
	}
	if (config_submit_trusted(conf, (uid_t)-1, user))
		return 0;
	if (conf->ntrusted >= SENDMAIL_TRUSTED_MAX) {
		(void)snprintf(err, errlen, "submit trusted: more than %d "
		    "users", SENDMAIL_TRUSTED_MAX);
		return -1;
	}
	(void)strlcpy(conf->trusted[conf->ntrusted++], user,
	    sizeof(conf->trusted[0]));
	return 0;
}

void
config_submit_print(FILE *fp, const struct config *conf)
{
	size_t	 i;

	for (i = 0; i < conf->ntrusted; i++)
		(void)fprintf(fp, "submit trusted \"%s\"\n", conf->trusted[i]);
}

int
config_submit_trusted(const struct config *conf, uid_t uid,
    const char *login)
{
	size_t	 i;

	if (uid == 0)
		return 1;
	for (i = 0; i < conf->ntrusted; i++)
		if (strcmp(conf->trusted[i], login) == 0)
			return 1;
	return 0;
}

const char *
config_origin(const struct config *conf)
{
	const struct domain	*d;

	if ((d = TAILQ_FIRST(&conf->domains)) != NULL)
		return d->name;
	return conf->hostname;
}
