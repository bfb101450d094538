/*
 * imapd: what the message library's files (imap_msg*.c, imap_mime.c,
 * ...) share and nothing else includes.  Mailbox process (the mail
 * user, chrooted, seccomp'd).
 */
#ifndef IMAPD_IMAP_MSG_INT_H
#define IMAPD_IMAP_MSG_INT_H

#include "imap_msg.h"

struct msg_block;

struct imap_message {
	const char		*buf;
	size_t			 len;
	struct imap_part	*root;
	unsigned int		 nparts;
	struct msg_block	*blocks;	/* the arena */
	size_t			 arena_bytes;
	char			*field;		/* an unfolded field */
};

/* Zeroed memory from the message's arena, or NULL past its limit. */
void	*msg_alloc(struct imap_message *, size_t);
/* A NUL-terminated copy of s in the arena, or NULL. */
char	*msg_strndup(struct imap_message *, const char *s, size_t len);
/* A new part under parent (NULL for the root), or NULL past the limit. */
struct imap_part *msg_new_part(struct imap_message *, struct imap_part *parent);
/*
 * Unfolds a raw field value into out (at most outmax bytes, the rest
 * cut): line ends removed, leading and trailing white space trimmed.
 * Its length; out is NUL-terminated (outmax + 1 bytes needed).
 */
size_t	 msg_unfold(const char *v, size_t len, char *out, size_t outmax);
/*
 * The field called name in part's header, unfolded into msg->field:
 * its length, or -1 when absent.
 */
long	 msg_field(const struct imap_message *, const struct imap_part *,
	    const char *name);
/* The end of the line at p (after its LF), or end. */
const char *msg_line_next(const char *p, const char *end);
/* Skips white space and (nested) RFC 5322 comments. */
const char *msg_cfws(const char *p, const char *e);
/* The size in CRLF octets of a range, and its LF count. */
void	 msg_count(const char *p, size_t len, size_t *crlf, size_t *lines);

/*
 * imap_mime_param.c: Content-Type "type/subtype; params" and
 * Content-Disposition "type; params" split (comments skipped): -1 when
 * the type is not there or malformed (RFC 2045 5.2: then the default).
 */
struct mime_ctype {
	const char	*type;
	size_t		 typelen;
	const char	*subtype;
	size_t		 subtypelen;
	const char	*params;
	size_t		 paramslen;
};
int	 mime_parse_ctype(const char *s, size_t len, struct mime_ctype *);
int	 mime_parse_disp(const char *s, size_t len, struct mime_ctype *);
/*
 * Parses "; a=b; c*0=..." into decoded parameters in the arena (RFC 2231
 * continuations joined, extended values decoded to UTF-8).
 */
void	 mime_params(struct imap_message *, const char *s, size_t len,
	    struct imap_param **, unsigned int *n);

/* imap_mime.c: parses part over buf[off, end) at its depth. */
void	 mime_parse_part(struct imap_message *, struct imap_part *, size_t off,
	    size_t end, int digest);

/*
 * imap_addr.c: an address list parser.  Each call to addr_next gives
 * one item: ADDR_MAILBOX (name, adl, mailbox, host set; name and adl
 * may be NULL), ADDR_GROUP_START (name = the group's display name),
 * ADDR_GROUP_END, or ADDR_END.
 */
enum addr_kind { ADDR_END, ADDR_MAILBOX, ADDR_GROUP_START, ADDR_GROUP_END };
struct addr_item {
	enum addr_kind	 kind;
	struct imap_mbuf name;
	struct imap_mbuf adl;
	struct imap_mbuf mailbox;
	struct imap_mbuf host;
	int		 has_name;
	int		 has_adl;
	int		 has_host;
};
struct addr_parser {
	const char	*p;
	const char	*end;
	int		 in_group;
};
void	 addr_init(struct addr_parser *, struct addr_item *, const char *s,
	    size_t len);
enum addr_kind addr_next(struct addr_parser *, struct addr_item *);
void	 addr_item_free(struct addr_item *);

/* imap_decode.c: a hex digit's value, a base64 character's, or -1. */
int	 dec_hex(int c);
int	 dec_b64(int c);

/* imap_charset.c: one byte of a single-byte charset as a code point. */
uint32_t charset_byte(enum imap_charset, unsigned char);
/*
 * Decodes one UTF-8 sequence at s (n bytes left): its code point and
 * length, or -1 when invalid (the byte is then taken as ISO-8859-1).
 */
int	 utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);
/* Appends cp as UTF-8: 0 or -1. */
int	 utf8_put(struct imap_mbuf *, uint32_t cp);

/* imap_match.c: feeds one code point to the matcher: 1 once found. */
int	 match_feed_cp(struct imap_match *, uint32_t cp);

#endif
