/*
 * The relay's smarthost credentials, read as root before the chroot
 * from the file "secrets" names: one entry a line, "label user
 * password" separated by blanks, '#' comments and empty lines skipped;
 * a file that others than its owner may read is refused.
 * Kept in memory for the process's life (and never logged).  A
 * stand-in until common/secrets.c (the shared parser) lands: the
 * relay only calls relay_secrets_load and relay_secrets_find.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay.h"

/* At most this many entries, each field at most CONFIG_NAME_MAX. */
#define RELAY_SECRETS_MAX	256

struct relay_secret {
	char	 label[CONFIG_NAME_MAX];
	char	 user[CONFIG_NAME_MAX];
	char	 pass[CONFIG_NAME_MAX];
};

static struct relay_secret	*secrets;
static size_t			 nsecrets;

static int
relay_secrets_line(char *line, struct relay_secret *s)
{
	char	*f[3], *p = line;
	size_t	 i;

	for (i = 0; i < 3; i++) {
		p += strspn(p, " \t");
		f[i] = p;
		p += strcspn(p, " \t");
		if (f[i] == p)
			return -1;
		if (*p != '\0')
			*p++ = '\0';
	}
	p += strspn(p, " \t");
	if (*p != '\0' ||
	    strlcpy(s->label, f[0], sizeof(s->label)) >= sizeof(s->label) ||
	    strlcpy(s->user, f[1], sizeof(s->user)) >= sizeof(s->user) ||
	    strlcpy(s->pass, f[2], sizeof(s->pass)) >= sizeof(s->pass))
		return -1;
	return 0;
}

int
relay_secrets_load(const char *path, char *err, size_t errlen)
{
	FILE		*fp;
	struct stat	 st;
	char		 line[CONFIG_NAME_MAX * 3 + 8];
	size_t		 lineno = 0, len;
	int		 rc = 0;

	if ((fp = fopen(path, "re")) == NULL) {
		(void)snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* Passwords: a file others may read is refused, not used. */
	if (fstat(fileno(fp), &st) == -1 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & 077) != 0) {
		(void)snprintf(err, errlen, "%s: not a regular file of mode "
		    "0600 or 0400: refused", path);
		(void)fclose(fp);
		return -1;
	}
	if (secrets == NULL &&
	    (secrets = calloc(RELAY_SECRETS_MAX, sizeof(*secrets))) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		(void)fclose(fp);
		return -1;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		len = strcspn(line, "\r\n");
		if (line[len] == '\0' && !feof(fp)) {
			rc = -1;
			break;
		}
		line[len] = '\0';
		if (line[strspn(line, " \t")] == '\0' ||
		    line[strspn(line, " \t")] == '#')
			continue;
		if (nsecrets == RELAY_SECRETS_MAX ||
		    relay_secrets_line(line, &secrets[nsecrets]) == -1) {
			rc = -1;
			break;
		}
		nsecrets++;
	}
	explicit_bzero(line, sizeof(line));
	(void)fclose(fp);
	if (rc == -1)
		(void)snprintf(err, errlen, "%s:%zu: expected \"label user "
		    "password\"", path, lineno);
	return rc;
}

int
relay_secrets_find(const char *label, const char **user, const char **pass)
{
	size_t	 i;

	for (i = 0; i < nsecrets; i++)
		if (strcmp(secrets[i].label, label) == 0) {
			*user = secrets[i].user;
			*pass = secrets[i].pass;
			return 0;
		}
	return -1;
}
