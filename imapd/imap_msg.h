/*
 * imapd: the message library of the mailbox process (the mail user,
 * chrooted in the mail home, seccomp'd as role imapd-user).  Pure code
 * over a buffer the caller gives (an mmap'd Maildir file): no I/O, no
 * iconv (its gconv modules are outside the chroot), no locale.
 *
 * What it does, for FETCH, SEARCH, SORT and THREAD:
 *  - parses a message (LF line ends as the delivery agent writes them;
 *    CRLF and mixed tolerated) into a bounded MIME tree that points into
 *    the caller's buffer (no copy of the message);
 *  - writes ENVELOPE, BODYSTRUCTURE and BODY as standalone byte strings
 *    exactly as RFC 3501 7.4.2 / RFC 9051 7.5.2 say (the index caches
 *    them);
 *  - resolves BODY[section]<partial> into CRLF-form output produced in
 *    pieces (a cursor), so a partial of a 50 MB message converts only
 *    what is asked for;
 *  - decodes quoted-printable, base64, RFC 2047 words and a few charsets
 *    into UTF-8, and matches a needle case-insensitively (simple Unicode
 *    case folding) while streaming over a part;
 *  - RFC 5256 base subjects, Date: parsing, first addresses, message-ids.
 *
 * Everything is bounded by the limits under "IMAP: the message parser"
 * in common/sp_limits.h; past a limit the rest of the input is treated
 * as opaque (an unparsed body), never as an error that loses the
 * message.
 *
 * Offsets and sizes named *_crlf are in CRLF octets, what IMAP reports;
 * the others are bytes of the caller's buffer.
 */
#ifndef IMAPD_IMAP_MSG_H
#define IMAPD_IMAP_MSG_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "sp_limits.h"

/*
 * A growable byte buffer with a maximum.  Output functions append to it;
 * going past max sets overflow, keeps what fit, and makes the writer
 * return -1.  data is NUL-terminated after each successful append (the
 * NUL is not counted in len) unless data is NULL (nothing appended yet).
 */
struct imap_mbuf {
	char	*data;
	size_t	 len;
	size_t	 cap;
	size_t	 max;
	int	 overflow;
};

/* An empty buffer that may grow to max bytes. */
void	imap_mbuf_init(struct imap_mbuf *, size_t max);
/* Frees the storage; the buffer is empty again and may be reused. */
void	imap_mbuf_free(struct imap_mbuf *);
/* Empties the buffer, keeping its storage. */
void	imap_mbuf_reset(struct imap_mbuf *);
/* Appends len bytes: 0, or -1 (overflow, or no memory). */
int	imap_mbuf_add(struct imap_mbuf *, const void *, size_t len);
/* Appends a C string: 0 or -1. */
int	imap_mbuf_adds(struct imap_mbuf *, const char *);
/* Appends one byte: 0 or -1. */
int	imap_mbuf_addc(struct imap_mbuf *, int c);
/*
 * Appends s as an IMAP string (RFC 3501 4.3, 9): NIL when s is NULL,
 * a quoted string when every byte is a 7-bit TEXT-CHAR other than CR
 * and LF (with " and \ escaped), otherwise a literal {n}\r\n followed
 * by the bytes (8-bit bytes, CR, LF, NUL-free or not).
 */
int	imap_mbuf_addstring(struct imap_mbuf *, const char *s, size_t len);

/* ------------------------------------------------------------------ */
/* The MIME tree. */

/* A Content-Type or Content-Disposition parameter, decoded. */
struct imap_param {
	char			*name;	/* upper case, "*" suffixes removed */
	char			*value;	/* RFC 2231 continuations joined */
};

/* One body part (RFC 2045/2046); the root is the whole message. */
struct imap_part {
	struct imap_part	*parent;
	struct imap_part	*children;	/* multipart: its parts */
	struct imap_part	*next;		/* the next sibling */
	/*
	 * message/rfc822 and message/global: the encapsulated message (its
	 * header is this part's body's header).  NULL for other types or
	 * past the depth limit.
	 */
	struct imap_part	*message;
	unsigned int		 nchildren;
	unsigned int		 depth;		/* 0 for the root */

	/* Where it is in the caller's buffer. */
	size_t			 hdr_off;	/* its header fields */
	size_t			 hdr_len;	/* with the blank line if any */
	size_t			 body_off;
	size_t			 body_len;
	/* The same in CRLF octets, and the body's lines (LFs). */
	size_t			 hdr_crlf;
	size_t			 body_crlf;
	size_t			 body_lines;

	/*
	 * Content-Type, upper case ("TEXT", "PLAIN"; defaults as RFC 2045
	 * 5.2 says: TEXT/PLAIN with CHARSET US-ASCII, or MESSAGE/RFC822
	 * inside a multipart/digest).
	 */
	char			*type;
	char			*subtype;
	struct imap_param	*params;
	unsigned int		 nparams;

	/* The other fields, NULL when absent; values trimmed, unfolded. */
	char			*id;		/* Content-ID */
	char			*description;	/* Content-Description */
	char			*encoding;	/* upper case; NULL means 7BIT */
	char			*md5;		/* Content-MD5 */
	char			*disposition;	/* upper case ("ATTACHMENT") */
	struct imap_param	*disp_params;
	unsigned int		 ndisp_params;
	char			*language;	/* Content-Language, raw list */
	char			*location;	/* Content-Location */

	/* multipart: the boundary (also among params as BOUNDARY). */
	char			*boundary;
	/*
	 * IMAP_PART_OPAQUE: a limit was reached inside this part (depth,
	 * part count, the arena's size): its body is not parsed further.
	 * IMAP_PART_NOBOUNDARY: a multipart whose closing delimiter is
	 * missing (the last part runs to the end).
	 */
	unsigned int		 flags;
};
#define IMAP_PART_OPAQUE	0x01
#define IMAP_PART_NOBOUNDARY	0x02

struct imap_message;

/*
 * Parses the message in buf (len bytes, which must stay mapped and
 * unchanged while the result lives).  NULL only when out of memory
 * (errno ENOMEM); malformed input always gives a tree.
 */
struct imap_message	*imap_msg_parse(const char *buf, size_t len);
/* Frees the tree (not the caller's buffer). */
void		 imap_msg_free(struct imap_message *);
/* The root part: the whole message. */
const struct imap_part *imap_msg_root(const struct imap_message *);
/* The caller's buffer and its length, as given to imap_msg_parse. */
const char	*imap_msg_buf(const struct imap_message *, size_t *len);
/* The number of parts in the tree (at most IMAP_MSG_PARTS_MAX). */
unsigned int	 imap_msg_nparts(const struct imap_message *);
/* A parameter of a part's Content-Type by name (any case), or NULL. */
const char	*imap_part_param(const struct imap_part *, const char *name);

/*
 * The size in CRLF octets of len bytes that may hold LF or CRLF line
 * ends (RFC822.SIZE): len plus one for each LF without a CR before it.
 * Needs no parse.
 */
size_t	imap_msg_crlf_size(const char *buf, size_t len);

/* ------------------------------------------------------------------ */
/* Header fields. */

/* Walks the fields of one header (a part's hdr_off/hdr_len range). */
struct imap_hdr_iter {
	const char	*p;
	const char	*end;
};
void	imap_hdr_iter_init(struct imap_hdr_iter *, const struct imap_message *,
	    const struct imap_part *);
/*
 * The next field: its name (without the colon) and its raw value (after
 * the colon, folding and line ends kept), and the whole field with its
 * line end (raw, rawlen).  1, or 0 at the end of the header.  A line
 * without a colon is skipped.
 */
int	imap_hdr_next(struct imap_hdr_iter *, const char **name,
	    size_t *namelen, const char **value, size_t *valuelen,
	    const char **raw, size_t *rawlen);
/*
 * The first field called name (any case) in part's header: 1 with its
 * raw value, or 0.
 */
int	imap_hdr_get(const struct imap_message *, const struct imap_part *,
	    const char *name, const char **value, size_t *valuelen);
/*
 * A header value made readable: unfolded, RFC 2047 encoded words
 * decoded (adjacent ones joined, whitespace between them dropped), every
 * charset converted to UTF-8 (raw 8-bit bytes taken as UTF-8 when valid,
 * else as ISO-8859-1).  Appends to out: 0 or -1.
 */
int	imap_hdr_decode(const char *value, size_t len, struct imap_mbuf *out);

/* ------------------------------------------------------------------ */
/* ENVELOPE, BODYSTRUCTURE, BODY. */

/*
 * Appends the ENVELOPE of the message whose header is part's (the root,
 * or a message/rfc822 part's ->message) to out, from "(" to ")":
 * (date subject from sender reply-to to cc bcc in-reply-to message-id),
 * sender and reply-to defaulting to from, addresses with RFC 3501's
 * group syntax.  0, or -1 when out overflows.
 */
int	imap_msg_envelope(const struct imap_message *, const struct imap_part *,
	    struct imap_mbuf *out);
/*
 * Appends part's BODYSTRUCTURE (extended != 0: with the extension
 * data: md5/params, disposition, language, location) or BODY (0) to out.
 * For the root this is the message's FETCH BODYSTRUCTURE.  0 or -1.
 */
int	imap_msg_bodystructure(const struct imap_message *,
	    const struct imap_part *, int extended, struct imap_mbuf *out);

/* ------------------------------------------------------------------ */
/* BODY[section]<partial> (RFC 3501 6.4.5, RFC 9051 6.4.5). */

enum imap_sect_text {
	IMAP_SECT_ALL,		/* BODY[] or BODY[1.2]: the part itself */
	IMAP_SECT_HEADER,	/* HEADER */
	IMAP_SECT_FIELDS,	/* HEADER.FIELDS (...) */
	IMAP_SECT_FIELDS_NOT,	/* HEADER.FIELDS.NOT (...) */
	IMAP_SECT_TEXT,		/* TEXT */
	IMAP_SECT_MIME		/* MIME (needs a part number) */
};

/* A parsed section spec; plain data, may be copied. */
struct imap_section {
	unsigned int		 part[IMAP_MSG_SECTION_DEPTH_MAX];
	unsigned int		 nparts;	/* 0: the whole message */
	enum imap_sect_text	 text;
	unsigned int		 nfields;
	/* Field names for FIELDS/FIELDS_NOT, each NUL-terminated. */
	uint16_t		 field_off[IMAP_MSG_SECTION_FIELDS_MAX];
	char			 fields[IMAP_MSG_SECTION_FIELDS_BYTES];
	size_t			 fields_len;
};

/*
 * Parses the text between BODY[ and ] ("", "HEADER", "1.2.MIME",
 * "3.HEADER.FIELDS (From To)", any case).  0, or -1 with *errstr saying
 * what is wrong (the client gets it in a BAD).
 */
int	imap_section_parse(const char *s, size_t len, struct imap_section *,
	    const char **errstr);
/*
 * For a caller that tokenized the spec itself: imap_section_parse of
 * "1.2.HEADER.FIELDS" with no list, then one call per field name (an
 * astring: atom or string content).  0, or -1 with *errstr.
 */
int	imap_section_add_field(struct imap_section *, const char *name,
	    size_t len, const char **errstr);
/*
 * Appends the section as a FETCH response names it, in upper case with
 * its field list: "1.2.HEADER.FIELDS (FROM TO)", "" for BODY[].
 */
int	imap_section_format(const struct imap_section *, struct imap_mbuf *);

/*
 * The bytes a section stands for.  Either a raw range of the caller's
 * buffer (raw, rawlen: LF or CRLF, read through a cursor in CRLF form),
 * or, for HEADER.FIELDS (NOT), bytes already in CRLF form built in the
 * mbuf given to imap_section_resolve (raw then points into it).  size is
 * the full size in CRLF octets either way.
 */
struct imap_sect_data {
	const char		*raw;
	size_t			 rawlen;
	size_t			 size;
};

/*
 * Finds what sec names in msg.  A part number that does not exist gives
 * an empty result (RFC 3501 6.4.5 lets a server answer "" there; the
 * caller may choose NIL via the return value 1).  scratch holds the
 * header lines of HEADER.FIELDS (NOT) (bounded by its max; it may be
 * NULL for the other sections, which point into the message).  0 on
 * success, 1 for a missing part (data empty), -1 on overflow.
 */
int	imap_section_resolve(const struct imap_message *,
	    const struct imap_section *, struct imap_mbuf *scratch,
	    struct imap_sect_data *data);

/*
 * Clips a partial <start.count> to a section of size octets: *off and
 * *n are what to send (RFC 3501 6.4.5: a start past the end gives "",
 * as does a count of 0).  has_partial 0 (no <...>) means all of it.
 */
void	imap_partial_clip(size_t size, int has_partial, size_t start,
	    size_t count, size_t *off, size_t *n);

/*
 * A reader of a raw range in CRLF form: LF becomes CRLF unless a CR is
 * before it; the rest is copied.  Seek, then read pieces into the
 * caller's buffer; nothing is held but the position.
 */
struct imap_crlf_cursor {
	const char	*p;
	const char	*end;
	int		 lf_pending;	/* a CR was written, its LF not yet */
	int		 prev_cr;	/* the last byte read was a CR */
};
/* Positions the cursor at CRLF offset off of raw[0..rawlen). */
void	imap_crlf_seek(struct imap_crlf_cursor *, const char *raw,
	    size_t rawlen, size_t off);
/* Writes up to outlen CRLF-form bytes to out: how many (0 at the end). */
size_t	imap_crlf_read(struct imap_crlf_cursor *, char *out, size_t outlen);

/* ------------------------------------------------------------------ */
/* Decoding. */

/* A charset this library converts; IMAP_CS_UNKNOWN for the others. */
enum imap_charset {
	IMAP_CS_UNKNOWN = 0,
	IMAP_CS_UTF8,
	IMAP_CS_ASCII,
	IMAP_CS_8859_1,
	IMAP_CS_8859_2,
	IMAP_CS_8859_15,
	IMAP_CS_CP1252,
	IMAP_CS_KOI8R
};
/* The charset called name (any case, common aliases). */
enum imap_charset imap_charset_lookup(const char *name, size_t len);
/*
 * Converts len bytes in cs to UTF-8, appending to out.  Invalid UTF-8
 * and bytes ASCII does not have become U+FFFD; IMAP_CS_UNKNOWN is read
 * as UTF-8 when valid, else as ISO-8859-1.  0 or -1 (overflow).
 */
int	imap_charset_to_utf8(enum imap_charset cs, const char *in,
	    size_t len, struct imap_mbuf *out);
/* Quoted-printable (RFC 2045 6.7) decoded and appended: 0 or -1. */
int	imap_qp_decode(const char *in, size_t len, int header_q,
	    struct imap_mbuf *out);
/* Base64 (RFC 2045 6.8), characters outside the alphabet ignored. */
int	imap_base64_decode(const char *in, size_t len, struct imap_mbuf *out);

/* ------------------------------------------------------------------ */
/* Searching (SEARCH BODY, TEXT, HEADER, FROM, SUBJECT, ...). */

/*
 * A case-insensitive substring matcher over UTF-8 text: the needle and
 * the haystack are case folded (simple folding: Latin-1, Latin
 * Extended-A, Greek, Cyrillic and the other common ranges) and compared
 * by code point.  Fed in pieces: a match across pieces is found.
 * Plain data (no pointers to free).
 */
struct imap_match {
	uint32_t	 needle[IMAP_MSG_NEEDLE_MAX_CHARS];
	uint32_t	 fail[IMAP_MSG_NEEDLE_MAX_CHARS];
	uint32_t	 nlen;
	uint32_t	 state;		/* code points matched so far */
	int		 found;
	/* A UTF-8 sequence cut by the end of a piece. */
	uint32_t	 cp;
	int		 need;
};

/*
 * Prepares m for needle (UTF-8; invalid bytes are taken as ISO-8859-1).
 * 0, or -1 when the needle is longer than IMAP_MSG_NEEDLE_MAX_CHARS.
 * An empty needle matches everything.
 */
int	imap_match_init(struct imap_match *m, const char *needle, size_t len);
/* Forgets what was fed (the needle stays), for the next haystack. */
void	imap_match_reset(struct imap_match *m);
/* Feeds UTF-8 bytes: 1 once the needle has been seen, else 0. */
int	imap_match_feed(struct imap_match *m, const char *utf8, size_t len);
/* Simple case folding of one code point (Unicode CaseFolding C+S). */
uint32_t imap_casefold(uint32_t cp);

/*
 * SEARCH BODY: 1 when a text part of the message (text/ *, and any
 * part without a Content-Type), decoded from its transfer encoding and
 * charset, holds the needle; else 0.  Streams: nothing of the body is
 * held beyond a small window.  Encapsulated messages are searched too.
 */
int	imap_msg_search_body(const struct imap_message *, struct imap_match *);
/*
 * SEARCH TEXT: the header (decoded as imap_hdr_decode) or the body.
 */
int	imap_msg_search_text(const struct imap_message *, struct imap_match *);
/*
 * SEARCH HEADER name string, and FROM/TO/CC/BCC/SUBJECT (name "From",
 * ...): 1 when a field called name in the top header, decoded, holds the
 * needle (an empty needle: when the field exists); else 0.
 */
int	imap_msg_search_header(const struct imap_message *, const char *name,
	    struct imap_match *);

/* ------------------------------------------------------------------ */
/* SORT and THREAD (RFC 5256), and dates. */

/*
 * The base subject of a subject already decoded to UTF-8 (RFC 5256 2.1:
 * whitespace collapsed, "Re:", "Fwd:", "[blob]" and "(fwd)" removed
 * over and over, "[Fwd: ...]" unwrapped), appended to out.  *is_reply
 * (may be NULL) is set when a reply or forward marker was removed (for
 * THREAD ORDEREDSUBJECT).  0 or -1.
 */
int	imap_base_subject(const char *subj, size_t len, struct imap_mbuf *out,
	    int *is_reply);
/*
 * The base subject of the message's Subject: (RFC 2047 decoded first);
 * "" when there is none.  0 or -1.
 */
int	imap_msg_base_subject(const struct imap_message *,
	    struct imap_mbuf *out, int *is_reply);

/*
 * Parses an RFC 5322 date-time (obsolete forms too: two- and three-digit
 * years, named zones such as EST or GMT, a missing second, comments,
 * a missing weekday).  The UTC time, or 0 when invalid (RFC 5256 2.2
 * then uses the internal date); *tzoff_min (may be NULL) gets the zone's
 * offset in minutes east of UTC.
 */
time_t	imap_date_parse(const char *s, size_t len, int *tzoff_min);
/*
 * The message's Date: field as imap_date_parse gives it; 0 when absent
 * or invalid.
 */
time_t	imap_msg_date(const struct imap_message *, int *tzoff_min);
/*
 * IMAP date-time (RFC 3501 9: "dd-Mon-yyyy hh:mm:ss +zzzz", the day
 * space-padded or not) of APPEND, and date ("d-Mon-yyyy") of SEARCH
 * (time 00:00:00 UTC).  The UTC time, or -1 when invalid.
 */
time_t	imap_date_parse_imap(const char *s, size_t len, int *tzoff_min);
time_t	imap_date_parse_search(const char *s, size_t len);
/*
 * Formats t in zone tzoff_min as an IMAP date-time for INTERNALDATE
 * (" 2-Dec-2026 17:29:27 +0000", 26 bytes and a NUL).  0, or -1 when
 * out is smaller than IMAP_DATE_TIME_BYTES.
 */
#define IMAP_DATE_TIME_BYTES	27
int	imap_date_format(time_t t, int tzoff_min, char *out, size_t outlen);

/*
 * The first address of the message's field name ("From", "To", "Cc"):
 * its addr-mailbox (local part) and its display name (RFC 2047 decoded;
 * empty when none) appended to mailbox and display (either may be NULL).
 * RFC 5256 SORT FROM compares the mailbox, RFC 5957 DISPLAY the name.
 * 1 when there was an address, 0 when none, -1 on overflow.
 */
int	imap_msg_first_addr(const struct imap_message *, const char *name,
	    struct imap_mbuf *mailbox, struct imap_mbuf *display);

/*
 * Message ids for THREAD REFERENCES (RFC 5256 3): walks the "<...>"
 * ids in a field's raw value (References:, In-Reply-To:, Message-ID:).
 * *pos starts at 0.  1 with the id (brackets stripped, raw bytes of the
 * value), or 0 at the end.
 */
int	imap_msgid_next(const char *value, size_t len, size_t *pos,
	    const char **id, size_t *idlen);
/*
 * The message's Message-ID (first id of the field), 1 with it appended
 * to out, 0 when there is none, -1 on overflow.
 */
int	imap_msg_message_id(const struct imap_message *, struct imap_mbuf *out);

#endif
