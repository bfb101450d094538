/*
 * What daemon.c and daemon_spawn.c share; nothing else includes it.
 */
#ifndef SALLYPORT_DAEMON_INT_H
#define SALLYPORT_DAEMON_INT_H

#include <stddef.h>

/*
 * Opens this very binary (the inode, not its path, so that an upgrade
 * on disk does not mix versions) for daemon_spawn(), whose roles get
 * -d when debug is set.  fatal on failure.
 */
void	daemon_exe_open(const char *prog, int debug);
/*
 * Reads a sealed memory file of root's, at most max bytes, into a new
 * NUL-terminated buffer; NULL when fd is anything else or too large.
 */
char	*daemon_blob_read(int fd, size_t max, size_t *len);

#endif
