/*
 * Logging: syslog, or stderr in the foreground (-d).  One event per line,
 * starting with a session or queue id: "<id> <proto> <event> key=value".
 */
#ifndef SALLYPORT_LOG_H
#define SALLYPORT_LOG_H

#include <stdarg.h>
#include <stddef.h>

/* Opens the log; foreground logs to stderr, else to syslog as ident. */
void	log_init(const char *ident, int foreground);
/* Renames the process in the log, after a fork into another role. */
void	log_procname(const char *name);
/* The name in the log and whether it goes to stderr (for raw lines). */
const char	*log_getprocname(void);
int	log_getforeground(void);
/* 0 brief, 1 verbose (log_debug lines shown). */
void	log_setverbose(int verbose);
int	log_getverbose(void);

void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Start-up failures and broken invariants only: log and exit(1). */
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

/*
 * Makes untrusted text safe for a log line: strnvis(3), every control
 * character (tab, CR and LF too) made visible, truncated with "..." to
 * fit dst.  Returns dst.
 */
const char	*log_vis(char *dst, size_t dstlen, const char *src, size_t srclen);

#endif
