/*
 * Delivery status notification requests (RFC 3461): the NOTIFY and RET
 * values, and xtext (RFC 3461 4), in the forms smtpd reads from clients
 * and queued keeps in envelopes.  Pure functions, no I/O: unit-tested
 * (regress/unit/test_dsn.c).
 */
#ifndef SALLYPORT_DSN_H
#define SALLYPORT_DSN_H

#include <stddef.h>
#include <stdint.h>

/* NOTIFY (RFC 3461 4.1); 0 is "not given": the default applies. */
#define DSN_NOTIFY_NEVER	0x01
#define DSN_NOTIFY_SUCCESS	0x02
#define DSN_NOTIFY_FAILURE	0x04
#define DSN_NOTIFY_DELAY	0x08
#define DSN_NOTIFY_ALL		0x0f
/* "SUCCESS,FAILURE,DELAY" and its NUL. */
#define DSN_NOTIFY_MAX_BYTES	22

/* RET (RFC 3461 4.3). */
enum dsn_ret {
	DSN_RET_NONE = 0,	/* not given */
	DSN_RET_FULL,
	DSN_RET_HDRS,
};

/*
 * Parses a NOTIFY value: "NEVER", or a comma list of SUCCESS, FAILURE
 * and DELAY, each at most once, in any case.  0 with *notify set, or -1
 * with *errstr.
 */
int	dsn_notify_parse(const char *s, uint32_t *notify,
	    const char **errstr);
/* 1 when notify is 0 or a value dsn_notify_parse could give, else 0. */
int	dsn_notify_valid(uint32_t notify);
/*
 * Writes notify as dsn_notify_parse reads it ("" for 0) into dst.  -1
 * when it is not valid or does not fit.
 */
int	dsn_notify_format(uint32_t notify, char *dst, size_t dstlen);
/* "FULL" or "HDRS", in any case.  0 with *ret set, or -1. */
int	dsn_ret_parse(const char *s, enum dsn_ret *ret);
/* "", "FULL" or "HDRS"; NULL for a value out of range. */
const char *dsn_ret_name(uint32_t ret);
/*
 * Decodes xtext (RFC 3461 4): xchar is '!' to '~' but '+' and '=', and
 * "+" two upper-case hex digits stands for any octet.  Writes the
 * decoded text, NUL-terminated, into dst.  0, or -1 with *errstr when
 * the text is empty, malformed, or does not fit.
 */
int	dsn_xtext_decode(const char *s, char *dst, size_t dstlen,
	    const char **errstr);
/*
 * An ORCPT value (RFC 3461 4.2): addr-type ";" xtext, at most
 * DSN_ORCPT_MAX_BYTES.  The address, decoded, must be printable US-ASCII
 * or spaces.  Writes "addr-type;address" (decoded) into dst.  0, or -1
 * with *errstr.
 */
int	dsn_orcpt_parse(const char *s, char *dst, size_t dstlen,
	    const char **errstr);
/*
 * An ENVID value (RFC 3461 4.4): xtext of at most DSN_ENVID_MAX_BYTES,
 * whose decoded text is printable US-ASCII.  Writes the decoded text
 * into dst.  0, or -1 with *errstr.
 */
int	dsn_envid_parse(const char *s, char *dst, size_t dstlen,
	    const char **errstr);
/*
 * 1 when s may be stored as a decoded ORCPT ("addr-type;address" as
 * dsn_orcpt_parse writes it) or is "", else 0.
 */
int	dsn_orcpt_valid(const char *s);
/* 1 when s may be stored as a decoded ENVID or is "", else 0. */
int	dsn_envid_valid(const char *s);

#endif
