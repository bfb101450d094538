/*
 * Small helpers on descriptors and paths; see util.h.  Linked into every
 * program, and run in whatever role calls them.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "sp_limits.h"
#include "util.h"

int
util_write_all(int fd, const void *buf, size_t len)
{
	const char	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Copies src into dst; -1 with ENAMETOOLONG when it does not fit. */
static int
util_copy(char *dst, size_t dstlen, const char *src)
{
	if (strlcpy(dst, src, dstlen) >= dstlen) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
util_path_split(const char *path, char *dir, size_t dirlen, char *name,
    size_t namelen)
{
	char	*slash;
	size_t	 len;

	if (util_copy(dir, dirlen, path) == -1)
		return -1;
	len = strlen(dir);
	while (len > 1 && dir[len - 1] == '/')
		dir[--len] = '\0';
	if (len == 0 || strcmp(dir, "/") == 0) {
		errno = EINVAL;
		return -1;
	}
	if ((slash = strrchr(dir, '/')) == NULL) {
		if (name != NULL && util_copy(name, namelen, dir) == -1)
			return -1;
		return util_copy(dir, dirlen, ".");
	}
	if (name != NULL && util_copy(name, namelen, slash + 1) == -1)
		return -1;
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	return 0;
}

static int
util_table_namechar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/*
 * A name is also a Dot-string local part (RFC 5321 4.1.2), kept to
 * letters, digits, '.', '_' and '-': no '+', which starts a detail
 * (see authd_resolve.c), and nothing a shell or a path would mind.
 */
int
util_table_name_valid(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || len > AUTHD_NAME_MAX_BYTES)
		return 0;
	if (s[0] == '.' || s[0] == '-' || s[len - 1] == '.')
		return 0;
	for (i = 0; i < len; i++) {
		if (!util_table_namechar((unsigned char)s[i]))
			return 0;
		if (s[i] == '.' && i + 1 < len && s[i + 1] == '.')
			return 0;
	}
	return 1;
}
