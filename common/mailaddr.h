/*
 * Mail addresses as RFC 5321 4.1.2 defines a Mailbox: Local-part "@"
 * ( Domain / address-literal ), the local part a Dot-string or a
 * Quoted-string.  Pure functions, no I/O: unit-tested.
 */
#ifndef SALLYPORT_MAILADDR_H
#define SALLYPORT_MAILADDR_H

#include <stddef.h>

#include "sp_limits.h"

struct mailaddr {
	/* As received; a quoted local part keeps its quotes. */
	char	local[SMTP_LOCALPART_MAX_BYTES + 1];
	/* Lower-cased. */
	char	domain[SMTP_DOMAIN_MAX_BYTES + 1];
};

/*
 * Parses a Mailbox (no angle brackets).  Returns 0, or -1 with *errstr
 * set to a short reason ("local part too long", "bad domain", ...).
 * smtputf8 allows UTF-8 in both parts (RFC 6531).
 */
int	mailaddr_parse(const char *, struct mailaddr *, int smtputf8,
	    const char **errstr);
/* Writes local@domain into dst; -1 when it does not fit. */
int	mailaddr_format(const struct mailaddr *, char *dst, size_t dstlen);
/*
 * Writes the local part with its quoting undone ("a\"b" becomes a"b)
 * into dst, for comparing with table keys; a Dot-string is copied as
 * it is.  -1 when it does not fit.
 */
int	mailaddr_local_unquote(const struct mailaddr *, char *dst,
	    size_t dstlen);
/* 0 when s is a valid Domain (RFC 5321 4.1.2), -1 otherwise. */
int	mailaddr_valid_domain(const char *s, int smtputf8);

#endif
