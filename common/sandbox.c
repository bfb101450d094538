/*
 * seccomp allow-lists for each unprivileged role.  The lists hold what
 * libevent (epoll), libc (malloc, time, syslog through an already open
 * socket) and the role's own work need, nothing that creates processes,
 * changes credentials, or opens new network connections.
 *
 * sandbox_init() builds and loads a role's filter in one go.  A process
 * that forks many sandboxed children (the delivery agent) calls
 * sandbox_prepare() once instead: libseccomp compiles the filter to BPF
 * there, and each child's sandbox_apply() only hands that program to the
 * kernel, with no allocation and none of libseccomp's work.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sandbox.h"

#ifdef __linux__
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <unistd.h>

enum sandbox_mode {
	SANDBOX_MODE_OFF,	/* SALLYPORT_SANDBOX=off: no filter */
	SANDBOX_MODE_LOG,	/* =log: refused calls are let through, audited */
	SANDBOX_MODE_TRAP,	/* the default: reported, then killed */
};

static const char *const sandbox_role_names[] = {
	[SANDBOX_ENGINE] = "engine",
	[SANDBOX_QUEUE] = "queue",
	[SANDBOX_AUTHD] = "authd",
	[SANDBOX_MAILBOX] = "mailbox",
	[SANDBOX_RELAY] = "relay",
	[SANDBOX_RELAY_STS] = "relay-sts",
	[SANDBOX_IMAP_MAILBOX] = "imap-mailbox",
};

/* Every role: memory, time, signals, event loop, I/O on open fds. */
static const int sandbox_base[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(close), SCMP_SYS(fstat), SCMP_SYS(lseek),
	SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap),
	SCMP_SYS(madvise), SCMP_SYS(mprotect),
	SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(time),
	SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigaction),
	SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_ctl),
	SCMP_SYS(poll), SCMP_SYS(ppoll),
	SCMP_SYS(recvmsg), SCMP_SYS(sendmsg), SCMP_SYS(recvfrom),
	SCMP_SYS(sendto), SCMP_SYS(shutdown), SCMP_SYS(getsockopt),
	SCMP_SYS(fcntl), SCMP_SYS(getpid), SCMP_SYS(gettid),
	SCMP_SYS(getrandom), SCMP_SYS(exit), SCMP_SYS(exit_group),
	SCMP_SYS(futex), SCMP_SYS(getuid), SCMP_SYS(geteuid),
	SCMP_SYS(getgid), SCMP_SYS(getegid), SCMP_SYS(restart_syscall),
	/*
	 * What the C library reaches only on large inputs or rare paths,
	 * each harmless: qsort(3) past 1 KiB and sysconf(_SC_PHYS_PAGES)
	 * ask sysinfo; gethostname(3) uname.  (A new malloc arena asks
	 * the CPU mask: only the queue manager has threads.)
	 */
	SCMP_SYS(sysinfo), SCMP_SYS(uname),
	SCMP_SYS(clock_getres), SCMP_SYS(getppid), SCMP_SYS(sched_yield),
};

/*
 * A sanitizer build ("make asan-check"): what the ASan and UBSan runtime
 * calls on its own (an alternate signal stack for its reports, its
 * spin locks, the stack limit of a new thread).  The program's own calls
 * are held to the same lists as in a normal build.
 */
#if defined(__SANITIZE_ADDRESS__)		/* gcc */
#define SANDBOX_SANITIZER	1
#elif defined(__has_feature)			/* clang */
#if __has_feature(address_sanitizer)
#define SANDBOX_SANITIZER	1
#endif
#endif
#ifdef SANDBOX_SANITIZER
static const int sandbox_sanitizer[] = {
	SCMP_SYS(sigaltstack), SCMP_SYS(sched_yield), SCMP_SYS(prlimit64),
	SCMP_SYS(getrlimit),
};
#endif

/* Network engines: accept clients. */
static const int sandbox_engine[] = {
	SCMP_SYS(accept), SCMP_SYS(accept4), SCMP_SYS(setsockopt),
	SCMP_SYS(getsockname), SCMP_SYS(getpeername),
	/* The message file's descriptor comes from queued: write it. */
	SCMP_SYS(pwrite64), SCMP_SYS(fsync),
};

/*
 * The relay: its outbound connections (socket limited to AF_INET and
 * AF_INET6 below; connect is every role's, for syslog), and libunbound's resolver thread
 * (doc/INTERNALS.md "Relay DNS"): its UDP and TCP sockets, a random
 * source port, the thread itself.
 */
static const int sandbox_relay[] = {
	SCMP_SYS(bind), SCMP_SYS(setsockopt),
	SCMP_SYS(getsockname), SCMP_SYS(getpeername),
	SCMP_SYS(clone), SCMP_SYS(clone3), SCMP_SYS(set_robust_list),
	SCMP_SYS(rseq), SCMP_SYS(sched_getaffinity), SCMP_SYS(pipe2),
	SCMP_SYS(eventfd2), SCMP_SYS(sendmmsg), SCMP_SYS(recvmmsg),
	SCMP_SYS(epoll_create1), SCMP_SYS(epoll_create),
	SCMP_SYS(pread64),
};

/*
 * The relay's MTA-STS helper (queued/relay_sts_proc.c): TCP connections
 * out to the addresses the relay gives (socket below, connect as for
 * syslog), no files.
 */
static const int sandbox_relay_sts[] = {
	SCMP_SYS(setsockopt), SCMP_SYS(getsockname), SCMP_SYS(getpeername),
};

/* Files inside a chroot. */
static const int sandbox_files[] = {
	SCMP_SYS(openat), SCMP_SYS(open), SCMP_SYS(newfstatat),
	SCMP_SYS(stat), SCMP_SYS(lstat), SCMP_SYS(statx),
	SCMP_SYS(fsync), SCMP_SYS(fdatasync), SCMP_SYS(rename),
	SCMP_SYS(renameat), SCMP_SYS(renameat2), SCMP_SYS(unlink),
	SCMP_SYS(unlinkat), SCMP_SYS(mkdir), SCMP_SYS(mkdirat),
	SCMP_SYS(rmdir), SCMP_SYS(link), SCMP_SYS(linkat),
	SCMP_SYS(getdents64), SCMP_SYS(ftruncate), SCMP_SYS(fchmod),
	SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(flock),
	SCMP_SYS(accept), SCMP_SYS(accept4), SCMP_SYS(access),
	SCMP_SYS(faccessat), SCMP_SYS(utimensat), SCMP_SYS(sendfile),
};

/*
 * imapd's mailbox process, past the files: IDLE watches the folder
 * with inotify (RFC 2177: changes pushed at once); the index is mapped
 * and synced (msync); a copy that cannot be a link is copied in the
 * kernel (copy_file_range); fallocate reserves an APPEND's room.
 */
static const int sandbox_imap_mailbox[] = {
	SCMP_SYS(inotify_init1), SCMP_SYS(inotify_add_watch),
	SCMP_SYS(inotify_rm_watch), SCMP_SYS(msync),
	SCMP_SYS(copy_file_range), SCMP_SYS(fallocate),
};

/*
 * syslog(3) opens a new AF_UNIX datagram socket when /dev/log went away
 * (syslogd restarted): allow exactly that, so logging survives it.
 */
static void
sandbox_add_syslog(scmp_filter_ctx ctx)
{
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
	    SCMP_A0(SCMP_CMP_EQ, AF_UNIX)) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(connect), 0) < 0)
		fatalx("sandbox syslog rules refused");
}

/*
 * Rules with arguments, for every role: fstat(2) is newfstatat(fd, "",
 * AT_EMPTY_PATH) in glibc; stdio asks isatty(3) (TCGETS) of a stream
 * it buffers; getrlimit(3) is prlimit64 with no new limit; abort(3)
 * (a failed assertion, a corrupt heap) raises SIGABRT with tgkill.
 */
static void
sandbox_add_args(scmp_filter_ctx ctx)
{
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(newfstatat), 1,
	    SCMP_A3(SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, AT_EMPTY_PATH)) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
	    SCMP_A1(SCMP_CMP_EQ, TCGETS)) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prlimit64), 1,
	    SCMP_A2(SCMP_CMP_EQ, 0)) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
	    SCMP_A2(SCMP_CMP_EQ, SIGABRT)) < 0)
		fatalx("sandbox argument rules refused");
}

static void
sandbox_add(scmp_filter_ctx ctx, const int *calls, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, calls[i], 0) < 0)
			fatalx("sandbox rule %zu refused", i);
}

/* TCP and UDP sockets of either family, for the relay and its helper. */
static void
sandbox_add_inet(scmp_filter_ctx ctx)
{
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
	    SCMP_A0(SCMP_CMP_EQ, AF_INET)) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
	    SCMP_A0(SCMP_CMP_EQ, AF_INET6)) < 0)
		fatalx("sandbox rule socket refused");
}

static void
sandbox_add_role(scmp_filter_ctx ctx, enum sandbox_role role)
{
#define ADD(a)	sandbox_add(ctx, a, sizeof(a) / sizeof(a[0]))
	ADD(sandbox_base);
#ifdef SANDBOX_SANITIZER
	ADD(sandbox_sanitizer);
#endif
	sandbox_add_syslog(ctx);
	sandbox_add_args(ctx);
	switch (role) {
	case SANDBOX_ENGINE:
		ADD(sandbox_engine);
		/* pop3d's engine relays a client to its mailbox process. */
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socketpair),
		    1, SCMP_A0(SCMP_CMP_EQ, AF_UNIX)) < 0)
			fatalx("sandbox rule socketpair refused");
		break;
	case SANDBOX_QUEUE:
		/*
		 * The manager's sync threads: glibc's malloc counts the CPUs
		 * when a thread makes its arena.
		 */
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
		    SCMP_SYS(sched_getaffinity), 0) < 0)
			fatalx("sandbox rule sched_getaffinity refused");
		/* fstatvfs(3): the spool's free space (queue_space.c). */
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fstatfs),
		    0) < 0)
			fatalx("sandbox rule fstatfs refused");
		ADD(sandbox_files);
		break;
	case SANDBOX_AUTHD:
	case SANDBOX_MAILBOX:
		ADD(sandbox_files);
		break;
	case SANDBOX_IMAP_MAILBOX:
		ADD(sandbox_files);
		ADD(sandbox_imap_mailbox);
		break;
	case SANDBOX_RELAY:
		ADD(sandbox_relay);
		sandbox_add_inet(ctx);
		break;
	case SANDBOX_RELAY_STS:
		ADD(sandbox_relay_sts);
		sandbox_add_inet(ctx);
		break;
	}
#undef ADD
}

static enum sandbox_mode
sandbox_mode(void)
{
	const char	*mode = getenv("SALLYPORT_SANDBOX");

	if (mode != NULL && strcmp(mode, "off") == 0) {
		log_warnx("- sandbox disabled by SALLYPORT_SANDBOX=off");
		return SANDBOX_MODE_OFF;
	}
	if (mode != NULL && strcmp(mode, "log") == 0)
		return SANDBOX_MODE_LOG;
	return SANDBOX_MODE_TRAP;
}

/*
 * The filter of role for mode; NULL when off.  Under TRAP a refused call
 * raises SIGSYS, whose handler (sandbox_trap.c) logs it and then calls
 * kill(2) with SIGSYS, which this filter answers by killing the process.
 */
static scmp_filter_ctx
sandbox_build(enum sandbox_role role, enum sandbox_mode mode)
{
	scmp_filter_ctx	 ctx;

	if (mode == SANDBOX_MODE_OFF)
		return NULL;
	ctx = seccomp_init(mode == SANDBOX_MODE_LOG ? SCMP_ACT_LOG :
	    SCMP_ACT_TRAP);
	if (ctx == NULL)
		fatalx("sandbox seccomp_init");
	/*
	 * A binary tree of the system call numbers (libseccomp 2.5), not a
	 * chain of comparisons: the same rules, fewer instructions run per
	 * call, and less for the kernel to walk when it loads the filter
	 * (it runs the program for every call number to fill its cache of
	 * constant answers).  doc/INTERNALS.md, "POP3 performance".
	 */
	if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2) < 0)
		fatalx("sandbox seccomp_attr_set optimize");
	sandbox_add_role(ctx, role);
	if (mode == SANDBOX_MODE_TRAP && seccomp_rule_add(ctx,
	    SCMP_ACT_KILL_PROCESS, SCMP_SYS(kill), 1,
	    SCMP_A1(SCMP_CMP_EQ, SIGSYS)) < 0)
		fatalx("sandbox kill rule refused");
	return ctx;
}

void
sandbox_init(enum sandbox_role role)
{
	scmp_filter_ctx		 ctx;
	enum sandbox_mode	 mode = sandbox_mode();
	int			 r;

	if ((ctx = sandbox_build(role, mode)) == NULL)
		return;
	if (mode == SANDBOX_MODE_TRAP &&
	    sandbox_trap_install(sandbox_role_names[role]) == -1)
		fatal("sandbox SIGSYS handler");
	/* Threads started before (queued's sync threads) get it too. */
	if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) < 0)
		fatalx("sandbox seccomp TSYNC: %s", strerror(-r));
	if ((r = seccomp_load(ctx)) < 0)
		fatalx("sandbox seccomp_load: %s", strerror(-r));
	seccomp_release(ctx);
}

/* A compiled program; len 0 when the sandbox is off. */
struct sandbox_filter {
	struct sock_fprog	 prog;
	enum sandbox_role	 role;
	enum sandbox_mode	 mode;
};

/*
 * libseccomp (2.5) exports a program only to a descriptor: through a
 * memfd, read back whole.  Its size must be whole instructions, at most
 * BPF_MAXINSNS of them (the kernel's limit).
 */
static void
sandbox_export(scmp_filter_ctx ctx, struct sock_fprog *prog)
{
	struct stat	 st;
	size_t		 len;
	int		 fd, r;

	if ((fd = memfd_create("sandbox", MFD_CLOEXEC)) == -1)
		fatal("sandbox memfd_create");
	if ((r = seccomp_export_bpf(ctx, fd)) < 0)
		fatalx("sandbox seccomp_export_bpf: %s", strerror(-r));
	if (fstat(fd, &st) == -1)
		fatal("sandbox fstat");
	len = (size_t)st.st_size;
	if (len == 0 || len % sizeof(struct sock_filter) != 0 ||
	    len / sizeof(struct sock_filter) > BPF_MAXINSNS)
		fatalx("sandbox exported program of %zu bytes", len);
	if ((prog->filter = malloc(len)) == NULL)
		fatal("sandbox malloc");
	if (pread(fd, prog->filter, len, 0) != (ssize_t)len)
		fatal("sandbox pread");
	prog->len = (unsigned short)(len / sizeof(struct sock_filter));
	(void)close(fd);
}

struct sandbox_filter *
sandbox_prepare(enum sandbox_role role)
{
	struct sandbox_filter	*f;
	scmp_filter_ctx		 ctx;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		fatal("sandbox calloc");
	f->role = role;
	f->mode = sandbox_mode();
	if ((ctx = sandbox_build(role, f->mode)) == NULL)
		return f;
	sandbox_export(ctx, &f->prog);
	seccomp_release(ctx);
	return f;
}

int
sandbox_apply(const struct sandbox_filter *f)
{
	if (f->prog.len == 0)
		return 0;
	if (f->mode == SANDBOX_MODE_TRAP &&
	    sandbox_trap_install(sandbox_role_names[f->role]) == -1)
		return -1;
	/* As seccomp_load() does by default (SCMP_FLTATR_CTL_NNP). */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &f->prog) == -1 ?
	    -1 : 0;
}

void
sandbox_filter_free(struct sandbox_filter *f)
{
	if (f == NULL)
		return;
	free(f->prog.filter);
	free(f);
}

#else

void
sandbox_init(enum sandbox_role role)
{
	(void)role;
}

/* Nothing to install: the filter is empty. */
struct sandbox_filter {
	int	 unused;
};

struct sandbox_filter *
sandbox_prepare(enum sandbox_role role)
{
	struct sandbox_filter	*f;

	(void)role;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		fatal("sandbox calloc");
	return f;
}

int
sandbox_apply(const struct sandbox_filter *f)
{
	(void)f;
	return 0;
}

void
sandbox_filter_free(struct sandbox_filter *f)
{
	free(f);
}

#endif
