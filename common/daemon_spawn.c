/*
 * How a parent starts a role (daemon.h): fork, the descriptors moved
 * to DAEMON_FD_FIRST and up and every other one closed, then exec of
 * the binary the parent runs, opened once at start so that the child is
 * that very file even when the path has been replaced since.  What a
 * role needs besides descriptors comes in sealed memory files: the
 * configuration (one for all, made again at each reload) and, for
 * per-task roles, an IPC payload of their own.
 *
 * XXX Linux only, as the sandbox is: /proc/self/exe and memfd_create(2)
 * with seals.  A BSD port opens the binary from its realpath at start
 * and uses shm_open(3) (or shm_mkstemp) with the file unlinked at once.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "daemon_int.h"
#include "ipc.h"
#include "log.h"
#include "sp_limits.h"

#define DAEMON_SEALS	(F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

extern char	**environ;

static int		 daemon_exe = -1;
static const char	*daemon_prog = "sallyport";
static int		 daemon_debug;
static int		 daemon_conf = -1;

void
daemon_exe_open(const char *prog, int debug)
{
	daemon_prog = prog;
	daemon_debug = debug;
	if ((daemon_exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC)) == -1)
		fatal("- %s open /proc/self/exe", prog);
}

/* A memory file holding buf, sealed against any change. */
static int
daemon_blob(const char *name, const void *buf, size_t len)
{
	const char	*p = buf;
	ssize_t		 n;
	int		 fd, saved;

	if ((fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING)) == -1)
		return -1;
	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fcntl(fd, F_ADD_SEALS, DAEMON_SEALS | F_SEAL_SEAL) == -1)
		goto fail;
	return fd;
fail:
	saved = errno;
	(void)close(fd);
	errno = saved;
	return -1;
}

char *
daemon_blob_read(int fd, size_t max, size_t *len)
{
	struct stat	 st;
	char		*buf;
	ssize_t		 n;
	size_t		 off = 0;
	int		 seals;

	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    st.st_size < 0 || (size_t)st.st_size > max)
		return NULL;
	if ((seals = fcntl(fd, F_GET_SEALS)) == -1 ||
	    (seals & DAEMON_SEALS) != DAEMON_SEALS)
		return NULL;
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		return NULL;
	while (off < (size_t)st.st_size) {
		n = pread(fd, buf + off, (size_t)st.st_size - off, (off_t)off);
		if (n <= 0) {
			free(buf);
			return NULL;
		}
		off += (size_t)n;
	}
	buf[off] = '\0';
	*len = off;
	return buf;
}

void
daemon_conf_publish(const struct config *conf)
{
	FILE	*fp;
	char	*text = NULL;
	size_t	 len = 0;
	int	 fd;

	if ((fp = open_memstream(&text, &len)) == NULL)
		fatal("- %s open_memstream", daemon_prog);
	config_print(fp, conf);
	if (fclose(fp) != 0 || text == NULL)
		fatalx("- %s cannot print the configuration", daemon_prog);
	if (len > CONFIG_FILE_MAX_BYTES)
		fatalx("- %s the configuration printed is longer than %d "
		    "bytes", daemon_prog, CONFIG_FILE_MAX_BYTES);
	if ((fd = daemon_blob("config", text, len)) == -1)
		fatal("- %s config memfd", daemon_prog);
	free(text);
	if (daemon_conf != -1)
		(void)close(daemon_conf);
	daemon_conf = fd;
}

int
daemon_conf_fd(void)
{
	return daemon_conf;
}

int
daemon_args_fd(const struct ipc_out *o)
{
	if (ipc_out_error(o)) {
		errno = EMSGSIZE;
		return -1;
	}
	return daemon_blob("args", o->buf, o->hdr.len);
}

uint8_t *
daemon_args_read(int fd, struct ipc_msg *m)
{
	char	*buf;
	size_t	 len;

	if ((buf = daemon_blob_read(fd, IPC_PAYLOAD_MAX_BYTES, &len)) == NULL)
		fatalx("- start-refused reason=bad-args-descriptor");
	memset(m, 0, sizeof(*m));
	m->hdr.len = (uint32_t)len;
	m->data = (const uint8_t *)buf;
	m->fd = -1;
	return (uint8_t *)buf;
}

/* In the child: default signal dispositions, an empty mask. */
static void
daemon_child_signals(void)
{
	static const int	 sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP,
				    SIGPIPE, SIGUSR1, SIGUSR2 };
	sigset_t		 set;
	size_t			 i;

	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		(void)signal(sigs[i], SIG_DFL);
	(void)sigemptyset(&set);
	(void)sigprocmask(SIG_SETMASK, &set, NULL);
}

/*
 * In the child: fds[i] becomes DAEMON_FD_FIRST + i, the binary (*exe)
 * the next one (close-on-exec), and nothing else stays open.
 * Everything is first moved above the targets so that no move
 * overwrites a descriptor still to be moved.
 */
static int
daemon_place_fds(const int *fds, int nfds, int *exe)
{
	int	 tmp[DAEMON_FDS_MAX + 1];
	int	 hi = DAEMON_FD_FIRST + nfds + 1, i;

	for (i = 0; i < nfds; i++)
		if ((tmp[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, hi)) == -1)
			return -1;
	if ((tmp[nfds] = fcntl(*exe, F_DUPFD_CLOEXEC, hi)) == -1)
		return -1;
	for (i = 0; i < nfds; i++)
		if (dup2(tmp[i], DAEMON_FD_FIRST + i) == -1)
			return -1;
	if (dup3(tmp[nfds], DAEMON_FD_FIRST + nfds, O_CLOEXEC) == -1)
		return -1;
	*exe = DAEMON_FD_FIRST + nfds;
	closefrom(DAEMON_FD_FIRST + nfds + 1);
	return 0;
}

pid_t
daemon_spawn_prog(int exe, const char *prog, const char *role,
    const int *fds, int nfds)
{
	char	*argv[6];
	int	 argc = 0;
	pid_t	 pid;

	if (exe == -1 || nfds < 0 || nfds > DAEMON_FDS_MAX) {
		errno = EINVAL;
		return -1;
	}
	argv[argc++] = (char *)(uintptr_t)prog;
	argv[argc++] = (char *)(uintptr_t)"-R";
	argv[argc++] = (char *)(uintptr_t)role;
	if (daemon_debug)
		argv[argc++] = (char *)(uintptr_t)"-d";
	if (log_getverbose())
		argv[argc++] = (char *)(uintptr_t)"-v";
	argv[argc] = NULL;
	if ((pid = fork()) != 0)
		return pid;
	daemon_child_signals();
	if (daemon_place_fds(fds, nfds, &exe) == 0)
		(void)fexecve(exe, argv, environ);
	log_warn("- %s exec role=%s", prog, role);
	_exit(127);
}

pid_t
daemon_spawn(const char *role, const int *fds, int nfds)
{
	return daemon_spawn_prog(daemon_exe, daemon_prog, role, fds, nfds);
}

int
daemon_prog_open(const char *name)
{
	struct stat	 st;
	char		 self[PATH_MAX], path[PATH_MAX];
	char		*slash;
	ssize_t		 n;
	int		 fd;

	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) == -1)
		fatal("- %s readlink /proc/self/exe", daemon_prog);
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) == NULL)
		fatalx("- %s cannot tell its directory from %s", daemon_prog,
		    self);
	*slash = '\0';
	if (snprintf(path, sizeof(path), "%s/%s", self, name) >=
	    (int)sizeof(path))
		fatalx("- %s path too long: %s/%s", daemon_prog, self, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		fatal("- %s start-refused program=%s", daemon_prog, path);
	if (fstat(fd, &st) == -1)
		fatal("- %s fstat %s", daemon_prog, path);
	if (!S_ISREG(st.st_mode))
		fatalx("- %s start-refused program=%s reason=\"not a regular "
		    "file\"", daemon_prog, path);
	if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
		fatalx("- %s start-refused program=%s reason=\"not owned by "
		    "root, or writable by group or others\"", daemon_prog,
		    path);
	if ((st.st_mode & S_IXUSR) == 0)
		fatalx("- %s start-refused program=%s reason=\"not "
		    "executable\"", daemon_prog, path);
	return fd;
}

static int
daemon_sockopt(int fd, int opt)
{
	socklen_t	 len = sizeof(int);
	int		 v;

	if (getsockopt(fd, SOL_SOCKET, opt, &v, &len) == -1)
		return -1;
	return v;
}

void
daemon_check_parent(int fd)
{
	uid_t	 uid;
	gid_t	 gid;
	pid_t	 pid;

	if (daemon_sockopt(fd, SO_DOMAIN) != AF_UNIX ||
	    daemon_sockopt(fd, SO_TYPE) != SOCK_SEQPACKET ||
	    ipc_peercred(fd, &uid, &gid, &pid) == -1 ||
	    uid != 0 || pid != getppid())
		fatalx("- start-refused reason=parent-channel fd=%d", fd);
}

void
daemon_check_listener(int fd)
{
	if (daemon_sockopt(fd, SO_ACCEPTCONN) != 1)
		fatalx("- start-refused reason=listener fd=%d", fd);
}

void
daemon_check_stream(int fd)
{
	if (daemon_sockopt(fd, SO_TYPE) != SOCK_STREAM ||
	    daemon_sockopt(fd, SO_ACCEPTCONN) != 0)
		fatalx("- start-refused reason=connection fd=%d", fd);
}
