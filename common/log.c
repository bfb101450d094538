/*
 * Logging for every sallyport process, one event a line.  Lines go to
 * syslog(3) with the mail facility (a daemon started without -d, or
 * with -F under systemd, whose journald keeps the facility), or to
 * stderr under -d.
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

const char *
log_getprocname(void)
{
	return log_name;
}

int
log_getforeground(void)
{
	return log_foreground;
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

/*
 * Not VIS_SAFE: it leaves backspace, bell and carriage return raw, and
 * those can hide or rewrite text on a terminal showing the log.
 */
#define LOG_VIS_FLAGS	(VIS_CSTYLE | VIS_NL | VIS_TAB)

/*
 * One byte at a time through vis(3), which writes at most four bytes
 * and a NUL per byte: libbsd's strnvisx(3) does not report a dst that
 * is too small (it cuts an escape in half and writes its NUL one past
 * dlen), so it cannot be trusted with the bound.
 */
const char *
log_vis(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	char	 enc[16];
	size_t	 i, n, len = 0, cut = 0;
	int	 next;

	if (dstlen < 8) {
		if (dstlen > 0)
			dst[0] = '\0';
		return dst;
	}
	for (i = 0; i < srclen; i++) {
		next = i + 1 < srclen ? (unsigned char)src[i + 1] : '\0';
		n = (size_t)(vis(enc, (unsigned char)src[i], LOG_VIS_FLAGS,
		    next) - enc);
		if (len + n >= dstlen) {
			/* The longest whole prefix that leaves room for it. */
			memcpy(dst + cut, "...", 4);
			return dst;
		}
		memcpy(dst + len, enc, n);
		len += n;
		if (len <= dstlen - 4)
			cut = len;
	}
	dst[len] = '\0';
	return dst;
}
