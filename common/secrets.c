/*
 * The smarthost credentials table (secrets.h).  The file is read whole
 * through one descriptor, so that the checks of its owner and mode
 * apply to what is read; lines are split in place and copied into
 * fixed-size entries, sorted by label for lookups and for finding a
 * duplicate in O(n log n).  The buffer and the entries are wiped with
 * explicit_bzero before they are freed, on every path.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "secrets.h"
#include "sp_limits.h"

struct secret {
	char	 label[SECRETS_LABEL_MAX_BYTES];
	char	 user[SECRETS_USER_MAX_BYTES];
	char	 password[SECRETS_PASSWORD_MAX_BYTES];
	int	 line;
};

struct secrets {
	struct secret	*v;
	size_t		 n;
	size_t		 cap;	/* lines in the file, at most the max */
};

/* The three fields of one line, split in place. */
#define SECRETS_FIELDS	3

/* What a label may hold: a bare word of sallyport.conf(5) as well. */
static const char secrets_label_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";

int
secrets_valid_label(const char *s)
{
	size_t	 len = strlen(s);

	return len > 0 && len < SECRETS_LABEL_MAX_BYTES &&
	    strspn(s, secrets_label_chars) == len;
}

void
secrets_free(struct secrets *s)
{
	if (s == NULL)
		return;
	if (s->v != NULL)
		explicit_bzero(s->v, s->cap * sizeof(*s->v));
	free(s->v);
	explicit_bzero(s, sizeof(*s));
	free(s);
}

size_t
secrets_count(const struct secrets *s)
{
	return s->n;
}

static int
secret_cmp(const void *a, const void *b)
{
	return strcmp(((const struct secret *)a)->label,
	    ((const struct secret *)b)->label);
}

int
secrets_lookup(const struct secrets *s, const char *label,
    const char **user, const char **password)
{
	const struct secret	*e;
	struct secret		 key;

	if (strlcpy(key.label, label, sizeof(key.label)) >= sizeof(key.label))
		return -1;
	e = bsearch(&key, s->v, s->n, sizeof(*s->v), secret_cmp);
	explicit_bzero(&key, sizeof(key));
	if (e == NULL)
		return -1;
	*user = e->user;
	*password = e->password;
	return 0;
}

/* A whole regular file owned by owner and closed to group and others. */
static char *
secrets_read(const char *path, uid_t owner, size_t *len, char *err,
    size_t errlen)
{
	struct stat	 st;
	char		*buf = NULL;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1 ||
	    fstat(fd, &st) == -1) {
		(void)snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > SECRETS_FILE_MAX_BYTES) {
		(void)snprintf(err, errlen, "%s: not a file of at most %d "
		    "bytes", path, SECRETS_FILE_MAX_BYTES);
		goto fail;
	}
	if (st.st_uid != owner) {
		(void)snprintf(err, errlen, "%s: owned by uid %lu, not %lu: "
		    "refused", path, (unsigned long)st.st_uid,
		    (unsigned long)owner);
		goto fail;
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		(void)snprintf(err, errlen, "%s: mode %04o gives group or "
		    "others access: refused (chmod 600)", path,
		    (unsigned int)(st.st_mode & 07777));
		goto fail;
	}
	*len = (size_t)st.st_size;
	if ((buf = malloc(*len + 1)) == NULL ||
	    (n = read(fd, buf, *len + 1)) == -1) {
		(void)snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if ((size_t)n != *len) {
		(void)snprintf(err, errlen, "%s: changed while read", path);
		goto fail;
	}
	buf[*len] = '\0';
	(void)close(fd);
	return buf;
fail:
	if (buf != NULL)
		explicit_bzero(buf, *len + 1);
	free(buf);
	if (fd != -1)
		(void)close(fd);
	return NULL;
}

/*
 * Splits one line (NUL-terminated, no newline) into its fields: NULL
 * for a blank or comment line, else a reason in why when it is bad.
 */
static int
secrets_split(char *line, char *f[SECRETS_FIELDS], const char **why)
{
	size_t	 nf = 0;
	char	*p = line;

	*why = NULL;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r')
			*p++ = '\0';
		if (*p == '\0')
			break;
		if (nf == 0 && *p == '#')
			return 0;
		if (nf == SECRETS_FIELDS) {
			*why = "more than LABEL USER PASSWORD";
			return -1;
		}
		f[nf++] = p;
		while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\r') {
			if ((unsigned char)*p < 0x20 || *p == 0x7f) {
				*why = "control character";
				return -1;
			}
			p++;
		}
	}
	if (nf == 0)
		return 0;
	if (nf < SECRETS_FIELDS) {
		*why = "not LABEL USER PASSWORD";
		return -1;
	}
	return 1;
}

static int
secrets_line(struct secrets *s, char *line, int lineno, const char **why)
{
	struct secret	*e;
	char		*f[SECRETS_FIELDS];
	int		 r;

	if (strlen(line) >= SECRETS_LINE_MAX_BYTES) {
		*why = "line too long";
		return -1;
	}
	if ((r = secrets_split(line, f, why)) <= 0)
		return r;
	if (!secrets_valid_label(f[0]))
		*why = "invalid label";
	else if (strlen(f[1]) >= SECRETS_USER_MAX_BYTES)
		*why = "user too long";
	else if (strlen(f[2]) >= SECRETS_PASSWORD_MAX_BYTES)
		*why = "password too long";
	else if (s->n == s->cap)
		*why = "too many entries";
	if (*why != NULL)
		return -1;
	e = &s->v[s->n++];
	(void)strlcpy(e->label, f[0], sizeof(e->label));
	(void)strlcpy(e->user, f[1], sizeof(e->user));
	(void)strlcpy(e->password, f[2], sizeof(e->password));
	e->line = lineno;
	return 0;
}

static int
secrets_parse(struct secrets *s, char *buf, size_t len, const char *path,
    char *err, size_t errlen)
{
	const char	*why;
	char		*line = buf, *nl;
	size_t		 i;
	int		 lineno = 1;

	if (memchr(buf, '\0', len) != NULL) {
		(void)snprintf(err, errlen, "%s: NUL byte in file", path);
		return -1;
	}
	for (; *line != '\0'; line = nl + 1, lineno++) {
		if ((nl = strchr(line, '\n')) == NULL)
			nl = line + strlen(line) - 1;
		else
			*nl = '\0';
		if (secrets_line(s, line, lineno, &why) == -1) {
			(void)snprintf(err, errlen, "%s:%d: %s", path, lineno,
			    why);
			return -1;
		}
	}
	qsort(s->v, s->n, sizeof(*s->v), secret_cmp);
	for (i = 1; i < s->n; i++)
		if (strcmp(s->v[i - 1].label, s->v[i].label) == 0) {
			(void)snprintf(err, errlen, "%s:%d: label \"%s\" "
			    "given twice (line %d)", path,
			    s->v[i - 1].line > s->v[i].line ?
			    s->v[i - 1].line : s->v[i].line, s->v[i].label,
			    s->v[i - 1].line < s->v[i].line ?
			    s->v[i - 1].line : s->v[i].line);
			return -1;
		}
	return 0;
}

struct secrets *
secrets_load_owner(const char *path, uid_t owner, char *err, size_t errlen)
{
	struct secrets	*s;
	char		*buf, *p;
	size_t		 len = 0, lines = 1;

	if ((buf = secrets_read(path, owner, &len, err, errlen)) == NULL)
		return NULL;
	for (p = buf; (p = memchr(p, '\n', len - (size_t)(p - buf))) != NULL;
	    p++)
		lines++;
	if (lines > SECRETS_ENTRIES_MAX)
		lines = SECRETS_ENTRIES_MAX;
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->v = calloc(lines, sizeof(*s->v))) == NULL) {
		(void)snprintf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	s->cap = lines;
	if (secrets_parse(s, buf, len, path, err, errlen) == -1)
		goto fail;
	explicit_bzero(buf, len + 1);
	free(buf);
	return s;
fail:
	secrets_free(s);
	explicit_bzero(buf, len + 1);
	free(buf);
	return NULL;
}

struct secrets *
secrets_load(const char *path, char *err, size_t errlen)
{
	return secrets_load_owner(path, 0, err, errlen);
}
