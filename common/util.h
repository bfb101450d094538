/*
 * Small helpers on descriptors and paths that several programs need, in
 * whatever role calls them: no state, no allocation, and no system call
 * beyond write(2), so they are safe under every seccomp set.
 */
#ifndef SALLYPORT_UTIL_H
#define SALLYPORT_UTIL_H

#include <stddef.h>

/*
 * Writes all len bytes of buf to fd, going on after a short write or
 * EINTR.  0, or -1 with errno set by write(2).
 */
int	util_write_all(int fd, const void *buf, size_t len);
/*
 * Splits path into the directory that holds it and its last component,
 * trailing slashes dropped: "/a/b/" gives "/a" and "b", "/a" gives "/"
 * and "a", "b" gives "." and "b".  name may be NULL when only the
 * directory is wanted.  -1 with errno EINVAL when path has no last
 * component ("", "/"), or ENAMETOOLONG when a part does not fit.
 */
int	util_path_split(const char *path, char *dir, size_t dirlen,
	    char *name, size_t namelen);
/*
 * 1 when the len bytes at s are a user or alias name of the tables:
 * 1 to AUTHD_NAME_MAX_BYTES letters, digits, '.', '_' and '-', not
 * starting with '.' or '-', not ending with '.', no "..".  authd reads
 * the tables with it, sallyctl's user add checks a new name with it.
 */
int	util_table_name_valid(const char *s, size_t len);

#endif
