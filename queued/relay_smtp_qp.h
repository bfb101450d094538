/*
 * The relay's SMTP client: an 8-bit message for a server without
 * 8BITMIME, converted to quoted-printable (RFC 2045, RFC 6152), as
 * Postfix does.  Pure: no I/O; the message is fed in blocks and the
 * converted form goes to a sink, so that memory stays bounded whatever
 * its size.  Both sides are in the queue's stored form: LF line ends,
 * dot-unstuffed (relay_smtp_data.c makes it CRLF and stuffs dots).
 *
 * Two passes over the message with the same walker: a scan before MAIL
 * (no sink) says whether it can be converted (or why not: the reply to
 * bounce it with) and which parts hold 8-bit data; the conversion then
 * writes the message with those parts re-encoded.
 */
#ifndef SALLYPORT_RELAY_SMTP_QP_H
#define SALLYPORT_RELAY_SMTP_QP_H

#include <stddef.h>
#include <stdint.h>

#include "sp_limits.h"

/* relay_smtp_qpenc.c: the encoder's state, column and held space/tab. */
struct relay_qp {
	size_t		 col;
	char		 ws;
};

/* Output room for len bytes of input to relay_qp_encode. */
#define RELAY_QP_OUT_MAX(len)	(4 * (len) + 8)

/*
 * Encodes a piece of a line (no LF in it); eol says the line ends after
 * it (a hard line break, "\n", is written).  Every byte but printable
 * ASCII other than '=' is written =XX, a space or tab before a line end
 * too; a soft line break ("=\n") keeps lines to RELAY_QP_LINE_MAX_BYTES.
 * Returns the bytes written to out (room: RELAY_QP_OUT_MAX(len)).
 */
size_t	relay_qp_encode(struct relay_qp *, const char *, size_t, int eol,
	    char *out);
/* The end of the data without a line end: the held space, if any. */
size_t	relay_qp_finish(struct relay_qp *, char *out);

enum relay_mime_err {
	RELAY_MIME_OK,
	RELAY_MIME_8BIT_HEADER,	/* 8-bit in a header: never converted */
	RELAY_MIME_ENCODED,	/* 8-bit in base64, QP or an unknown CTE */
	RELAY_MIME_COMPOSITE,	/* 8-bit outside a leaf part */
	RELAY_MIME_DEPTH,	/* past RELAY_MIME_DEPTH_MAX */
	RELAY_MIME_PARTS,	/* past RELAY_MIME_PARTS_MAX */
	RELAY_MIME_FIELD,	/* a Content-* field past its limits */
};

/* relay_smtp_qp.c: the walker. */
struct relay_mime;
typedef int	(*relay_mime_sink)(void *, const char *, size_t);

struct relay_mime *relay_mime_new(void);
void	relay_mime_free(struct relay_mime *);
/*
 * Starts a pass: a scan when sink is NULL (it forgets what an earlier
 * scan found), else the conversion, which uses the last scan's findings.
 */
void	relay_mime_start(struct relay_mime *, relay_mime_sink, void *);
/* Feeds a block; -1 when the sink failed. */
int	relay_mime_feed(struct relay_mime *, const char *, size_t);
/* The end of the message; -1 when the sink failed. */
int	relay_mime_end(struct relay_mime *);
/* After a scan: the first reason not to convert, or RELAY_MIME_OK. */
enum relay_mime_err relay_mime_error(const struct relay_mime *);
/* The reply to bounce the message with for that reason. */
const char *relay_mime_reply(enum relay_mime_err);

/*
 * relay_smtp_mime.c: the header fields the walker reads (RFC 2045).
 */
enum relay_mime_kind {
	RELAY_MIME_LEAF,	/* a part to convert if it is 8-bit */
	RELAY_MIME_MULTIPART,	/* with a usable boundary */
	RELAY_MIME_RFC822,	/* message/rfc822: headers and a body */
	RELAY_MIME_OPAQUE,	/* other message/ types, or no boundary */
};

enum relay_mime_cte {
	RELAY_CTE_NONE,		/* no field: 7bit */
	RELAY_CTE_7BIT,
	RELAY_CTE_8BIT,
	RELAY_CTE_BINARY,
	RELAY_CTE_QP,
	RELAY_CTE_BASE64,
	RELAY_CTE_OTHER,
};

enum relay_mime_field {
	RELAY_FIELD_OTHER,
	RELAY_FIELD_CTYPE,
	RELAY_FIELD_CTE,
	RELAY_FIELD_VERSION,
};

struct relay_mime_ctype {
	enum relay_mime_kind	 kind;
	int			 digest;	/* multipart/digest */
	int			 bad;		/* boundary too long */
	size_t			 blen;
	char			 boundary[RELAY_MIME_BOUNDARY_MAX_BYTES + 1];
};

/* The field a header line starts, its name's length in *namelen; -1: none. */
int	relay_mime_field(const char *, size_t, size_t *namelen);
/* A Content-Type value (folded, as read); an unreadable one is text. */
void	relay_mime_ctype(const char *, size_t, struct relay_mime_ctype *);
enum relay_mime_cte relay_mime_cte(const char *, size_t);

#endif
