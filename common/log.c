/*
 * Logging for every sallyport process.  Lines go to syslog(3) with the
 * daemon facility, or to stderr when the process runs in the foreground.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <vis.h>

#include "log.h"

static int	 log_foreground = 1;
static int	 log_verbose;
static char	 log_name[32] = "sallyport";

void
log_init(const char *ident, int foreground)
{
	log_foreground = foreground;
	log_procname(ident);
	if (!foreground)
		openlog(log_name, LOG_PID | LOG_NDELAY, LOG_MAIL);
	tzset();
}

void
log_procname(const char *name)
{
	(void)strlcpy(log_name, name, sizeof(log_name));
}

void
log_setverbose(int verbose)
{
	log_verbose = verbose;
}

int
log_getverbose(void)
{
	return log_verbose;
}

static void
log_vwrite(int pri, const char *fmt, va_list ap, int with_errno)
{
	char	 msg[2048];
	int	 saved = errno;

	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_errno) {
		(void)strlcat(msg, ": ", sizeof(msg));
		(void)strlcat(msg, strerror(saved), sizeof(msg));
	}
	if (log_foreground)
		(void)fprintf(stderr, "%s[%ld]: %s\n", log_name,
		    (long)getpid(), msg);
	else
		syslog(pri, "%s", msg);
	errno = saved;
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_INFO, fmt, ap, 0);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, fmt, ap, 1);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, fmt, ap, 0);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	log_vwrite(LOG_DEBUG, fmt, ap, 0);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, fmt, ap, 1);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, fmt, ap, 0);
	va_end(ap);
	exit(1);
}

const char *
log_vis(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	size_t	 n = srclen, fit;

	if (dstlen < 8) {
		if (dstlen > 0)
			dst[0] = '\0';
		return dst;
	}
	/* strnvisx(3) needs up to four bytes per input byte plus a NUL. */
	fit = (dstlen - 4) / 4;
	if (n > fit)
		n = fit;
	if (strnvisx(dst, dstlen, src, n, VIS_SAFE | VIS_NL | VIS_CSTYLE) == -1)
		dst[0] = '\0';
	if (n < srclen)
		(void)strlcat(dst, "...", dstlen);
	return dst;
}
