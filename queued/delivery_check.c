/*
 * The delivery agent's checks on what its peers and its workers hand
 * it: the manager's envelope id and addresses, authd's mail home, a
 * worker's verdict and report line, and why a worker died.  Runs in the
 * agent (root, no chroot, no seccomp filter), but is pure: no I/O, no
 * state, so that it is unit-tested.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <stdio.h>
#include <string.h>

#include "delivery.h"
#include "maildir.h"
#include "proc.h"
#include "proto.h"

int
delivery_check_evpid(const char *s)
{
	size_t	 i, n;

	for (i = 0; i < DELIVERY_EVPID_HEX_DIGITS; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return -1;
	if (s[i] != '.')
		return -1;
	for (n = 0, s += i + 1; s[n] != '\0'; n++)
		if (s[n] < '0' || s[n] > '9')
			return -1;
	return n >= 1 && n <= DELIVERY_EVPID_SEQ_MAX_DIGITS ? 0 : -1;
}

/* 1 when the path component at c is "." or "..". */
static int
delivery_check_dot(const char *c)
{
	if (c[0] != '.')
		return 0;
	if (c[1] == '.')
		c++;
	return c[1] == '/' || c[1] == '\0';
}

int
delivery_check_home(const char *home, const char **errstr)
{
	const char	*p;
	size_t		 len = strlen(home);

	if (home[0] != '/') {
		*errstr = "mail home is not an absolute path";
		return -1;
	}
	/* <home>/Maildir/new/<name> must fit in a path. */
	if (len + sizeof("/Maildir/new/") + MAILDIR_NAME_MAX_BYTES >=
	    PATH_MAX) {
		*errstr = "mail home path too long";
		return -1;
	}
	for (p = home; *p != '\0'; p++)
		if ((unsigned char)*p < ' ' || *p == 0x7f) {
			*errstr = "control character in mail home";
			return -1;
		}
	for (p = home; p != NULL; p = strchr(p + 1, '/'))
		if (delivery_check_dot(p + 1)) {
			*errstr = "dot component in mail home";
			return -1;
		}
	return 0;
}

int
delivery_check_request(const struct delivery *d, const char **why)
{
	static char		 buf[QUEUE_ERROR_MAX_BYTES];
	const unsigned char	*p;
	const char		*errstr, *status = NULL;

	*why = "5.1.1 invalid user name";
	if (d->user[0] == '\0')
		return RESULT_PERMFAIL;
	for (p = (const unsigned char *)d->user; *p != '\0'; p++)
		if (*p <= ' ' || *p == 0x7f)
			return RESULT_PERMFAIL;
	/* RFC 3463 3.2: 5.1.7 bad sender, 5.1.3 bad recipient syntax. */
	if (maildir_addr_valid(d->sender, 1, &errstr) == -1)
		status = "5.1.7";
	else if (maildir_addr_valid(d->rcpt, 0, &errstr) == -1)
		status = "5.1.3";
	if (status == NULL) {
		*why = NULL;
		return RESULT_OK;
	}
	(void)snprintf(buf, sizeof(buf), "%s %s", status, errstr);
	*why = buf;
	return RESULT_PERMFAIL;
}

int
delivery_check_verdict(uint32_t verdict, const char **why)
{
	switch (verdict) {
	case DELIVERY_EXIT_OK:
		*why = NULL;
		return RESULT_OK;
	case DELIVERY_EXIT_PERMFAIL:
		*why = "5.3.0 permanent delivery failure";
		return RESULT_PERMFAIL;
	case DELIVERY_EXIT_TEMPFAIL:
		*why = "4.3.0 temporary delivery failure";
		return RESULT_TEMPFAIL;
	default:
		*why = NULL;
		return -1;
	}
}

void
delivery_check_death(int status, int timedout, char *text, size_t textlen)
{
	if (timedout)
		(void)snprintf(text, textlen, "4.3.0 timed out after %d "
		    "seconds", DELIVERY_TIMEOUT_SECS);
	else if (WIFSIGNALED(status))
		(void)snprintf(text, textlen, "4.3.0 delivery process killed "
		    "by a signal (signal %d, %s)", WTERMSIG(status),
		    proc_death_reason(status));
	else if (WIFEXITED(status))
		(void)snprintf(text, textlen, "4.3.0 delivery process failed "
		    "(exit %d)", WEXITSTATUS(status));
	else
		(void)snprintf(text, textlen, "4.3.0 delivery process failed");
}

void
delivery_check_report(char *dst, size_t dstlen, const char *src,
    size_t srclen)
{
	size_t	 i;

	if (dstlen == 0)
		return;
	for (i = 0; i < srclen && i < dstlen - 1; i++) {
		if (src[i] == '\n' || src[i] == '\0')
			break;
		dst[i] = (src[i] >= ' ' && src[i] < 0x7f) ? src[i] : '?';
	}
	dst[i] = '\0';
}
