/*
 * imapd/imap_proto.h: the IMAP protocol core, shared by the login engine
 * (_sallyimap, chrooted in an empty directory, seccomp "imapd-login") and
 * the mailbox process (the mail user, chrooted in the mail home, seccomp
 * "imapd-user").  Nothing here does I/O of its own: bytes go in through
 * imap_reader_feed()/imap_input(), replies go out through the caller's
 * write callback or into a caller-provided buffer, so the unit tests and
 * the fuzz harness call every function directly.
 *
 * The parts:
 *   imap_parse.c	the incremental, bounded command reader (tag, name,
 *			argument tree; literals {n} {n+} ~{n}; continuation
 *			requests; streamed APPEND literals into a sink);
 *			imap_token.c, one line's tokens and the tree;
 *			imap_reader.h, the two files' shared insides
 *   imap_args.c	argument helpers: astrings, mailboxes, flags, dates
 *   imap_seqset.c	sequence sets (1,3:5,7:*, $) as sorted range lists
 *   imap_utf7.c	modified UTF-7 (RFC 3501 5.1.3) both ways
 *   imap_dispatch.c	the command table, state and argument checks, the
 *			UID prefix, error counting, the rate limit
 *   imap_resp.c	the response writer (atom/quoted/literal as needed)
 *   imap_search*.c	SEARCH: parsing into a bounded program, evaluation
 *			against a message accessor, (E)SEARCH results
 *   imap_sort.c	SORT (RFC 5256, RFC 5957 DISPLAYFROM/DISPLAYTO)
 *   imap_thread*.c	THREAD ORDEREDSUBJECT and REFERENCES (RFC 5256)
 *
 * Every limit is in common/sp_limits.h under "IMAP: the protocol's
 * grammar, SEARCH, SORT and THREAD".
 */
#ifndef IMAPD_IMAP_PROTO_H
#define IMAPD_IMAP_PROTO_H

#include <sys/types.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "sp_limits.h"

/* Each program's own session; this core never looks inside. */
struct imap_conn;

/* ------------------------------------------------------------------ */
/* Sessions' states, as bits so that a command names all it is valid in. */

#define IMAP_S_NOAUTH		0x01	/* RFC 3501 3.1 */
#define IMAP_S_AUTH		0x02	/* 3.2 */
#define IMAP_S_SELECTED		0x04	/* 3.3 */
#define IMAP_S_LOGOUT		0x08	/* 3.4 */
#define IMAP_S_ANY		(IMAP_S_NOAUTH | IMAP_S_AUTH | IMAP_S_SELECTED)

/* ------------------------------------------------------------------ */
/* The argument tree of one command. */

enum imap_arg_type {
	IMAP_ARG_ATOM,		/* atom, also "\Seen", "1:*", "BODY", "%" */
	IMAP_ARG_QUOTED,	/* "..." with \" and \\ undone */
	IMAP_ARG_LITERAL,	/* {n} {n+} ~{n}: the bytes, held in memory */
	IMAP_ARG_NIL,		/* the atom NIL (str is "NIL") */
	IMAP_ARG_LIST,		/* ( ... ): list/nlist */
	IMAP_ARG_SECTION,	/* BODY[...]<o.n>: see below */
	IMAP_ARG_STREAM		/* an APPEND literal given to the sink */
};

/* imap_arg.flags */
#define IMAP_ARGF_LITERAL8	0x01	/* ~{n} (RFC 3516): may hold NUL */
#define IMAP_ARGF_NONSYNC	0x02	/* {n+} (RFC 7888) */
#define IMAP_ARGF_8BIT		0x04	/* holds a byte >= 0x80 */

/*
 * One argument.  Strings (ATOM, QUOTED, LITERAL, NIL, and the keyword of
 * a SECTION) are NUL-terminated with their length in len (a literal8 may
 * hold NUL bytes, so use len).  A SECTION is what a FETCH attribute with
 * brackets becomes: str is the keyword before '[' upper-cased ("BODY",
 * "BODY.PEEK", "BINARY", "BINARY.PEEK", "BINARY.SIZE"); list/nlist hold
 * the tokens between the brackets as arguments of their own, so
 * BODY[HEADER.FIELDS (From To)]<0.100> is SECTION "BODY" with list
 * { ATOM "HEADER.FIELDS", LIST { ATOM "From", ATOM "To" } } and
 * has_partial, partial_off 0, partial_len 100.  BODY[] has nlist 0.
 * A STREAM is a message literal of APPEND that went to the sink: its
 * size, and the sink's handle (see struct imap_sink).  Everything lives
 * in the reader's arena until the command is released.
 */
struct imap_arg {
	enum imap_arg_type	 type;
	int			 flags;		/* IMAP_ARGF_* */
	const char		*str;
	size_t			 len;
	struct imap_arg		*list;		/* LIST, SECTION */
	int			 nlist;
	int			 has_partial;	/* SECTION: <off.len> given */
	uint32_t		 partial_off;
	uint32_t		 partial_len;	/* 0 when only <off> */
	void			*stream;	/* STREAM: the sink's handle */
	uint64_t		 stream_size;
};

/*
 * A complete command.  name is upper-cased.  For "UID FETCH ...", name is
 * "FETCH", uid is 1 and args start after the sub-command (imap_dispatch
 * does that; imap_reader_command() gives name "UID" and the sub-command
 * as args[0]).  cmd is the table entry once dispatched.
 */
struct imap_command {
	char			 tag[IMAP_TAG_MAX_BYTES + 1];
	char			 name[IMAP_CMD_NAME_MAX_BYTES + 1];
	int			 uid;
	struct imap_arg		*args;
	int			 nargs;
	const struct imap_cmd	*cmd;
};

/* ------------------------------------------------------------------ */
/* The command table (imap_dispatch.c). */

/*
 * A handler runs after the dispatcher checked the state and the argument
 * grammar; it writes its own responses (tagged OK/NO/BAD included).
 * Returns 0, or -1 to end the session (after writing a BYE if it wants).
 */
typedef int	(*imap_handler)(struct imap_conn *,
		    const struct imap_command *);

/*
 * The argument grammar is a string, one letter per top-level argument:
 *   a	astring (atom, quoted or literal; not NIL... NIL is the atom)
 *   m	mailbox (an astring; decode it with imap_arg_mailbox())
 *   p	list-mailbox pattern (astring, or an atom with % and *)
 *   s	sequence set (an atom: imap_seqset_parse() checks it)
 *   n	number (RFC 3501 "number")
 *   w	an atom (a keyword: "FLAGS", a mechanism name...)
 *   l	a parenthesised list
 *   x	any one argument
 *   ?	the rest of the arguments are optional
 *   *	any number of further arguments of any type (the handler parses)
 * "" takes no argument.  Examples: LOGIN "aa", SELECT "m*", STATUS "ml",
 * COPY "sm", FETCH "s*", SEARCH "*", AUTHENTICATE "w?a".
 */
struct imap_cmd {
	const char	*name;		/* upper case; NULL ends the table */
	int		 states;	/* IMAP_S_* where it is valid */
	int		 flags;		/* IMAP_CMDF_* */
	const char	*args;		/* the grammar, above */
	const char	*uid_args;	/* the grammar after "UID"; NULL: no
					   UID form (UID FETCH/STORE/COPY/
					   MOVE/SEARCH/EXPUNGE/SORT/THREAD) */
	imap_handler	 handler;
};

/*
 * IMAP_CMDF_STREAM: the command's top-level literals after its first
 * argument are messages (APPEND, MULTIAPPEND): they go to the sink and
 * may be up to IMAP_APPEND_MAX_BYTES; every other literal is held in
 * memory and limited to IMAP_LITERAL_MAX_BYTES.
 * IMAP_CMDF_STOP: imap_input() returns right after the handler so that
 * the caller can switch mode (STARTTLS, AUTHENTICATE, IDLE, COMPRESS).
 */
#define IMAP_CMDF_STREAM	0x01
#define IMAP_CMDF_STOP		0x02

/* ------------------------------------------------------------------ */
/* What the reader needs from its program. */

/*
 * The output: write appends bytes to the connection's output (the
 * caller's buffer does the back-pressure); -1 when the connection is gone.
 * log, when not NULL, gets one event per refused command ("bad-command",
 * "too-many-errors", "literal-too-big"...) and its reason, already safe
 * to log (client text passed through strnvis).
 */
struct imap_io {
	int	(*write)(struct imap_conn *, const void *, size_t);
	void	(*log)(struct imap_conn *, const char *event,
		    const char *detail);
};

/*
 * Where the message literals of an IMAP_CMDF_STREAM command go, so that
 * a 50 MB APPEND never sits in memory.
 *   open	called when the literal's size is known and before the '+'
 *		of a synchronising literal: sofar holds the tag, the name
 *		and the arguments before the literal (args[0] is the
 *		mailbox).  Returns a handle, or NULL with *err set to the
 *		text of the tagged NO ("[TOOBIG] ...", "[OVERQUOTA] ...",
 *		"[TRYCREATE] ...") that refuses the command; a synchronising
 *		literal is then never asked for.
 *   write	some of the literal's bytes, in order; -1 with *err set
 *		refuses the command (the rest of the literal is read and
 *		dropped).
 *   end	the last byte arrived; -1 with *err set refuses.
 *   discard	the handle is dropped (the command failed later, or the
 *		handler left it in its STREAM argument).
 * A handler that keeps a STREAM's handle sets that argument's stream to
 * NULL (cmd->args points to arguments that are not const); whatever
 * handle is left when the command is released is discarded.
 */
struct imap_sink {
	void	*(*open)(struct imap_conn *, const struct imap_command *sofar,
		    uint64_t size, int literal8, const char **err);
	int	 (*write)(struct imap_conn *, void *handle, const void *,
		    size_t, const char **err);
	int	 (*end)(struct imap_conn *, void *handle, const char **err);
	void	 (*discard)(struct imap_conn *, void *handle);
};

/* ------------------------------------------------------------------ */
/* The command reader (imap_parse.c). */

struct imap_reader;

/* imap_reader_feed()'s events. */
enum imap_rd_event {
	IMAP_RD_MORE,	/* all input used, nothing to do yet */
	IMAP_RD_CONT,	/* write imap_reader_reply() ("+ ..."): a
			   synchronising literal was accepted */
	IMAP_RD_CMD,	/* imap_reader_command() is complete */
	IMAP_RD_REFUSE,	/* write imap_reader_reply() ("tag BAD ..." or
			   "tag NO ..."), count an error; the reader has
			   dropped (or will drop) the rest of the command */
	IMAP_RD_LINE,	/* line mode: imap_reader_line() is ready */
	IMAP_RD_FATAL	/* write imap_reader_reply() ("* BYE ...") and
			   close: the input cannot be resynchronised */
};

/*
 * A reader for one connection.  table is the program's command table
 * (the reader looks up IMAP_CMDF_STREAM in it); sink may be NULL (then
 * no literal is streamed).  The reader's memory grows with the command
 * up to IMAP_CMD_MAX_BYTES and shrinks back between commands.  NULL when
 * out of memory.
 */
struct imap_reader	*imap_reader_new(const struct imap_cmd *table,
			    const struct imap_io *, const struct imap_sink *,
			    struct imap_conn *);
/* Frees the reader, discarding any open sink handle. */
void	imap_reader_free(struct imap_reader *);

/*
 * Reads from data[0..len): stops at the first event and sets *used to
 * the bytes taken (the caller keeps the rest for the next call).  A
 * command from an earlier IMAP_RD_CMD is released first.
 */
enum imap_rd_event	imap_reader_feed(struct imap_reader *,
			    const char *data, size_t len, size_t *used);
/* After IMAP_RD_CMD: the command, valid until the next feed or release. */
struct imap_command	*imap_reader_command(struct imap_reader *);
/* Releases the current command (discarding the handles left in it). */
void	imap_reader_release(struct imap_reader *);
/* After IMAP_RD_CONT, _REFUSE, _FATAL: the line to write, CRLF ended. */
const char	*imap_reader_reply(const struct imap_reader *, size_t *len);

/*
 * Line mode, for AUTHENTICATE's responses and IDLE's DONE (RFC 3501
 * 6.2.2, RFC 2177): while on, each CRLF-ended line (at most
 * IMAP_LINE_MAX_BYTES) is an IMAP_RD_LINE event, without its CRLF;
 * imap_reader_line() gives it, NUL-terminated.  A longer line is
 * IMAP_RD_FATAL.
 */
void	 imap_reader_line_mode(struct imap_reader *, int on);
const char	*imap_reader_line(const struct imap_reader *, size_t *len);

/*
 * 8-bit text in quoted strings is accepted, when valid UTF-8, only once
 * the client enabled UTF8=ACCEPT or IMAP4rev2 (RFC 6855 3, RFC 9051
 * 4.3); before that it is refused with BAD.  Literals may always hold
 * 8-bit bytes (CHAR8), NUL only in literal8.
 */
void	 imap_reader_set_utf8(struct imap_reader *, int on);

/*
 * Errors: a refused command (by the reader, the dispatcher or a handler
 * through imap_reader_error()) counts one; past IMAP_ERRORS_MAX the
 * session ends.  imap_reader_error() returns -1 when the limit is
 * reached (the caller writes "* BYE Too many errors" and closes).
 */
int	 imap_reader_error(struct imap_reader *);
int	 imap_reader_errors(const struct imap_reader *);

/*
 * The rate limit: at most IMAP_CMDS_PER_SEC_MAX commands in one second.
 * Returns 0 when a command may run now, else the milliseconds to wait
 * (the caller stops reading the connection that long; imap_input()
 * returns 0 with *wait_ms set).  now_ms is a monotonic clock.
 */
unsigned int	imap_reader_throttle(struct imap_reader *, uint64_t now_ms);

/* ------------------------------------------------------------------ */
/* Dispatching (imap_dispatch.c). */

/*
 * Checks a complete command against the reader's table in a state: the
 * name (and the UID prefix: sets uid, shifts args, looks up uid_args),
 * the state, the argument grammar.  Returns the entry, or NULL with *err
 * set to the reason for the tagged BAD (or NO for a command refused in
 * this state).  No I/O: the unit tests call it.
 */
const struct imap_cmd	*imap_check(const struct imap_cmd *table, int state,
			    struct imap_command *, const char **err);

/*
 * imap_check() then the handler, or a tagged BAD with the reason,
 * counted.  Returns the handler's result, 0 after a BAD, -1 when the
 * session must end (too many errors: a BYE is written).
 */
int	 imap_dispatch(struct imap_reader *, int state, struct imap_command *);

/*
 * The whole input path for an event loop: feeds data to the reader,
 * writes continuation requests and refusals, dispatches complete commands
 * in the given state (honouring the rate limit with now_ms and *wait_ms).
 * Returns the bytes used (stops after an IMAP_CMDF_STOP command, when
 * throttled, and in line mode after each line, which
 * imap_reader_line() then gives until the next call), or -1 when the
 * session must end (a BYE was written).  When throttled, *wait_ms says
 * how long to wait before calling again (with no new data if need be:
 * the held command runs first).  state is read through *state each
 * time, as handlers change it.
 */
ssize_t	 imap_input(struct imap_reader *, const int *state, const char *data,
	    size_t len, uint64_t now_ms, unsigned int *wait_ms);

/* ------------------------------------------------------------------ */
/* Argument helpers (imap_args.c, imap_utf7.c). */

/* 1 when the argument is a string: atom, quoted, literal (or NIL). */
int	 imap_arg_is_astring(const struct imap_arg *);
/* 1 for an atom equal to word, case-insensitively. */
int	 imap_arg_is_atom(const struct imap_arg *, const char *word);
/*
 * An astring: its text and length ("NIL" is a string here, as the atom
 * it is), or NULL for a list, a section or a stream.
 */
const char	*imap_arg_astring(const struct imap_arg *, size_t *len);
/*
 * number (0..4294967295) / nz-number (1..) / mod-sequence (1..2^63-1,
 * RFC 7162 mod-sequence-value).  0 or -1 with *err set.
 */
int	 imap_arg_number(const struct imap_arg *, uint32_t *, const char **err);
int	 imap_arg_nznumber(const struct imap_arg *, uint32_t *,
	    const char **err);
int	 imap_arg_modseq(const struct imap_arg *, uint64_t *, const char **err);
int	 imap_parse_number64(const char *, size_t, uint64_t max, uint64_t *);

/*
 * A mailbox name as UTF-8 into out (at most IMAP_MAILBOX_MAX_BYTES):
 * decoded from modified UTF-7 unless utf8 (UTF8=ACCEPT: taken as UTF-8,
 * which must be valid); "INBOX" in any case, alone or before the
 * separator '/', becomes "INBOX".  0, or -1 with *err set.
 */
int	 imap_arg_mailbox(const struct imap_arg *, int utf8, char *out,
	    size_t outsize, const char **err);
/* RFC 3501 5.1.3 modified UTF-7 to UTF-8 and back: the length, or -1. */
ssize_t	 imap_utf7_decode(const char *in, size_t len, char *out,
	    size_t outsize);
ssize_t	 imap_utf7_encode(const char *in, size_t len, char *out,
	    size_t outsize);
/* 1 when s[0..len) is valid UTF-8 (no overlong form, no surrogate). */
int	 imap_utf8_valid(const char *, size_t);

/* System flags as bits. */
#define IMAP_FL_ANSWERED	0x01
#define IMAP_FL_FLAGGED		0x02
#define IMAP_FL_DELETED		0x04
#define IMAP_FL_SEEN		0x08
#define IMAP_FL_DRAFT		0x10
#define IMAP_FL_RECENT		0x20	/* never in STORE/APPEND */

/* A parsed flag list: system flags and up to IMAP_FLAGS_MAX keywords. */
struct imap_flags {
	unsigned int	 sys;			/* IMAP_FL_* */
	int		 nkw;
	const char	*kw[IMAP_FLAGS_MAX];	/* into the argument tree */
};
/*
 * A flag list "(\Seen $Forwarded)" or, for STORE, a single flag or a
 * space-separated run of atoms (args[0..nargs)).  \Recent and unknown
 * \-flags are refused; keywords must be atoms of at most
 * IMAP_KEYWORD_MAX_BYTES.  0, or -1 with *err.
 */
int	 imap_arg_flags(const struct imap_arg *args, int nargs,
	    struct imap_flags *, const char **err);
/* "\Seen" etc. for one IMAP_FL_ bit; NULL for anything else. */
const char	*imap_flag_name(unsigned int bit);

/*
 * date (RFC 3501: "1-Feb-1994", also quoted) as days since 1970-01-01
 * (negative before); date-time ("17-Jul-1996 02:44:25 -0700", quoted)
 * as a time_t and the zone's offset in seconds east.  0 or -1 with *err.
 */
int	 imap_arg_date(const struct imap_arg *, int64_t *days,
	    const char **err);
int	 imap_arg_datetime(const struct imap_arg *, time_t *,
	    int *tzoff_secs, const char **err);
/* Days since the epoch of a civil date (proleptic Gregorian). */
int64_t	 imap_days_from_civil(int year, unsigned int month, unsigned int day);

/* ------------------------------------------------------------------ */
/* Sequence sets (imap_seqset.c). */

struct imap_range {
	uint32_t	 lo;
	uint32_t	 hi;		/* lo <= hi; UINT32_MAX is '*' */
};

/*
 * A sequence set as parsed: ranges in the client's order (lo/hi swapped
 * into order, '*' as UINT32_MAX), or saved ("$", RFC 5182).  XXX the
 * number 4294967295 itself reads as '*' (no UID or sequence number gets
 * that high before UIDVALIDITY changes).  After
 * imap_seqset_resolve() the ranges are sorted, merged and capped at the
 * current maximum, and the membership test and the iteration work.
 */
struct imap_seqset {
	struct imap_range	*r;
	size_t			 n;
	int			 saved;		/* "$" */
	int			 star;		/* '*' appeared */
};

/*
 * Parses s[0..len) into set (allocated; at most IMAP_SEQSET_RANGES_MAX
 * ranges; 0 is refused).  0, or -1 with *err.
 */
int	 imap_seqset_parse(const char *s, size_t len, struct imap_seqset *,
	    const char **err);
/* The same from a list of numbers (for SEARCHRES and the writer). */
int	 imap_seqset_from_list(const uint32_t *, size_t n,
	    struct imap_seqset *);
/*
 * '*' becomes max (the highest sequence number or UID; with max 0 a set
 * with '*' becomes empty... as RFC 9051 6.4.8's "UID FETCH 3:*" on an
 * empty mailbox), ranges are sorted and merged, numbers past max are
 * dropped.  An empty result is allowed (the caller decides).
 */
void	 imap_seqset_resolve(struct imap_seqset *, uint32_t max);
/* After resolve: 1 when n is in the set (binary search). */
int	 imap_seqset_contains(const struct imap_seqset *, uint32_t n);
/* After resolve: how many numbers the set holds. */
uint64_t imap_seqset_count(const struct imap_seqset *);
/*
 * Iteration after resolve: the iterator starts zeroed; sets *n to the
 * next member and returns 1, or 0 at the end.
 */
struct imap_seqset_iter {
	size_t		 i;
	uint32_t	 next;
	int		 started;
};
int	 imap_seqset_next(const struct imap_seqset *, struct imap_seqset_iter *,
	    uint32_t *n);
void	 imap_seqset_free(struct imap_seqset *);

/* ------------------------------------------------------------------ */
/* The response writer (imap_resp.c). */

/*
 * A bounded output buffer.  With flush set, a full buffer is handed to
 * flush (which returns -1 on failure) and reused, so that a long
 * response (SEARCH ALL on 100,000 messages) goes out in pieces; without
 * it, running out of room sets error.  Every imap_put_* returns 0 or -1
 * (and then error is set and later calls do nothing).
 */
struct imap_wbuf {
	char		*buf;
	size_t		 len;
	size_t		 size;
	int		 error;
	int		(*flush)(void *ctx, const char *, size_t);
	void		*ctx;
};

void	 imap_wbuf_init(struct imap_wbuf *, char *mem, size_t size,
	    int (*flush)(void *, const char *, size_t), void *ctx);
/* Hands what is buffered to flush (when set).  0 or -1. */
int	 imap_wbuf_flush(struct imap_wbuf *);
int	 imap_put(struct imap_wbuf *, const void *, size_t);
int	 imap_puts(struct imap_wbuf *, const char *);
int	 imap_putf(struct imap_wbuf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	 imap_vputf(struct imap_wbuf *, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));
int	 imap_put_u32(struct imap_wbuf *, uint32_t);
int	 imap_put_u64(struct imap_wbuf *, uint64_t);

/* imap_put_string()'s flags. */
#define IMAP_STR_ATOM		0x01	/* an atom is fine (astring) */
#define IMAP_STR_UTF8		0x02	/* 8-bit UTF-8 may be quoted */
#define IMAP_STR_LITERAL8	0x04	/* NUL allowed: ~{n} */

/*
 * A string as the shortest form its content allows: an atom (with
 * IMAP_STR_ATOM, when every byte is an ATOM-CHAR and it is not "NIL"),
 * a quoted string (printable, no CR/LF/NUL, at most
 * IMAP_QUOTED_MAX_BYTES; \ and " escaped), else a literal {n}.
 */
int	 imap_put_string(struct imap_wbuf *, const char *, size_t, int flags);
/* nstring: NIL for NULL. */
int	 imap_put_nstring(struct imap_wbuf *, const char *, size_t);
/* A literal's header "{n}\r\n" (or "~{n}"): the caller sends the bytes. */
int	 imap_put_literal_hdr(struct imap_wbuf *, uint64_t n, int literal8);
/*
 * A mailbox name given in UTF-8: "INBOX" stays; encoded in modified
 * UTF-7 unless utf8 (UTF8=ACCEPT); then as imap_put_string() with atom.
 */
int	 imap_put_mailbox(struct imap_wbuf *, const char *name, int utf8);
/* date-time as INTERNALDATE writes it: "17-Jul-1996 02:44:25 -0700". */
int	 imap_put_datetime(struct imap_wbuf *, time_t, int tzoff_secs);
/* A sorted list of numbers as a compact set "1:3,5,9:12". */
int	 imap_put_seqlist(struct imap_wbuf *, const uint32_t *, size_t n);

/*
 * Whole lines, CRLF appended: "* " fmt, "tag " fmt, "+ " text.  The
 * caller writes the buffer out; the tag is written as given (the reader
 * checked it).
 */
int	 imap_resp_untagged(struct imap_wbuf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	 imap_resp_tagged(struct imap_wbuf *, const char *tag, const char *,
	    ...) __attribute__((format(printf, 3, 4)));
int	 imap_resp_cont(struct imap_wbuf *, const char *text);

/* ------------------------------------------------------------------ */
/* The message accessor for SEARCH, SORT and THREAD (wired by the
   mailbox process to the store and the message parser). */

/* Which address or string imap_msg_access.string returns. */
enum imap_key {
	IMAP_KEY_SUBJECT_BASE,	/* RFC 5256 base subject, UTF-8 */
	IMAP_KEY_FROM,		/* the first From address's mailbox
				   (RFC 5256 3: addr-mailbox) */
	IMAP_KEY_TO,
	IMAP_KEY_CC,
	IMAP_KEY_DISPLAYFROM,	/* RFC 5957: display name, else addr-spec */
	IMAP_KEY_DISPLAYTO,
	IMAP_KEY_MESSAGE_ID,	/* "<id>" or "" */
	IMAP_KEY_REFERENCES,	/* References: ids in order, else the first
				   id of In-Reply-To (RFC 5256 3), as
				   "<a> <b> ..." */
	IMAP_KEY_SUBJECT_REPLY	/* "1" when the subject was a reply or a
				   forward (RFC 5256 2.1 steps), else "" */
};

/*
 * Every callback gets the caller's ctx and the message's index (0-based;
 * the sequence number is index + 1).  A callback returning -1 means the
 * message cannot be read (gone, I/O error): SEARCH treats it as not
 * matching, SORT/THREAD as empty keys.  Callbacks left NULL: the keys
 * that need them are refused at parse time ("SEARCH key not supported").
 *   flags	IMAP_FL_* bits
 *   keyword	1 when the message has the keyword, else 0
 *   uid, size (RFC822.SIZE, CRLF form), modseq
 *   internal	INTERNALDATE and its zone offset
 *   sent	the Date: header's time and offset; -1 when none or bad
 *		(SORT DATE then uses the internal date, RFC 5256 3)
 *   header	1 when the header field name (any case) decoded as RFC
 *		2047 holds needle (case-insensitive UTF-8 substring; "" is
 *		present-at-all, RFC 3501 6.4.4 HEADER)
 *   body	1 when the decoded body (text: header or body) holds needle
 *   string	an enum imap_key string into buf (NUL-terminated, cut at
 *		size): its length, or -1
 */
struct imap_msg_access {
	int	(*flags)(void *, uint32_t, unsigned int *);
	int	(*keyword)(void *, uint32_t, const char *kw);
	int	(*uid)(void *, uint32_t, uint32_t *);
	int	(*size)(void *, uint32_t, uint64_t *);
	int	(*modseq)(void *, uint32_t, uint64_t *);
	int	(*internal)(void *, uint32_t, time_t *, int *tzoff_secs);
	int	(*sent)(void *, uint32_t, time_t *, int *tzoff_secs);
	int	(*header)(void *, uint32_t, const char *field,
		    const char *needle, size_t);
	int	(*body)(void *, uint32_t, int text, const char *needle,
		    size_t);
	int	(*string)(void *, uint32_t, enum imap_key, char *buf,
		    size_t size);
};

/* ------------------------------------------------------------------ */
/* SEARCH (imap_search.c, imap_search_parse.c, imap_search_eval.c). */

/* RETURN options (RFC 4731 ESEARCH, RFC 5182 SAVE). */
#define IMAP_SRET_MIN		0x01
#define IMAP_SRET_MAX		0x02
#define IMAP_SRET_ALL		0x04
#define IMAP_SRET_COUNT		0x08
#define IMAP_SRET_SAVE		0x10

/* imap_search_parse()'s flags. */
#define IMAP_SPF_UTF8		0x01	/* UTF8=ACCEPT/IMAP4rev2 on */
#define IMAP_SPF_ESEARCH	0x02	/* RETURN (...) allowed */
#define IMAP_SPF_REV2		0x04	/* IMAP4rev2 enabled: the answer is
					   always ESEARCH, RETURN () when
					   none given (RFC 9051 6.4.4) */

struct imap_search;

/*
 * Parses SEARCH's arguments (after "SEARCH", RFC 3501 6.4.4, RFC 9051
 * 6.4.4): [RETURN (opts)] [CHARSET x] keys.  Every key, NOT, OR,
 * parenthesised groups, sequence sets and UID sets, MODSEQ (RFC 7162
 * 3.1.5, with its optional entry name and type).  Bounded: at most
 * IMAP_SEARCH_NODES_MAX keys, IMAP_SEARCH_DEPTH_MAX deep.  Returns the
 * program, or NULL with *err set and *no set to 1 when the answer is a
 * NO rather than a BAD ("[BADCHARSET (UTF-8 US-ASCII)] ..." for another
 * charset).  acc says which keys can be evaluated.
 */
struct imap_search	*imap_search_parse(const struct imap_arg *, int nargs,
			    int flags, const struct imap_msg_access *acc,
			    const char **err, int *no);
void	 imap_search_free(struct imap_search *);
/* The RETURN options given (0: a plain SEARCH). */
unsigned int	imap_search_return(const struct imap_search *);
/* 1 when RETURN () or RETURN was given (ESEARCH answer expected). */
int	 imap_search_esearch(const struct imap_search *);
/* 1 when a MODSEQ key was used: the answer carries (MODSEQ n). */
int	 imap_search_uses_modseq(const struct imap_search *);
/*
 * 1 when the program uses "$": the caller gives the saved result (as
 * UIDs) with imap_search_set_saved() before evaluating.
 */
int	 imap_search_uses_saved(const struct imap_search *);
void	 imap_search_set_saved(struct imap_search *,
	    const struct imap_seqset *uids);

/*
 * Evaluates the program on message idx of nmsgs (the mailbox's count;
 * '*' is nmsgs for sequence sets and maxuid for UID sets).  1 match,
 * 0 no.  When the program used MODSEQ, *modseq (may be NULL) gets the
 * message's modseq on a match.
 */
int	 imap_search_match(struct imap_search *, const struct imap_msg_access *,
	    void *ctx, uint32_t idx, uint32_t nmsgs, uint32_t maxuid,
	    uint64_t *modseq);

/*
 * The answer's untagged line(s), CRLF ended: "* SEARCH 2 5 9" (with
 * " (MODSEQ n)" when used and there is a match), or for ESEARCH
 * "* ESEARCH (TAG "t") UID MIN 2 MAX 9 COUNT 3 ALL 2,5,9" (RFC 4731 3).
 * nums are the matching sequence numbers or UIDs, ascending; max_modseq
 * the highest modseq among them.
 */
int	 imap_search_write(struct imap_wbuf *, const struct imap_search *,
	    const char *tag, int uid, const uint32_t *nums, size_t n,
	    uint64_t max_modseq);

/* ------------------------------------------------------------------ */
/* SORT and THREAD (imap_sort.c, imap_thread.c, imap_thread_out.c). */

enum imap_sort_crit {
	IMAP_SORT_ARRIVAL, IMAP_SORT_CC, IMAP_SORT_DATE, IMAP_SORT_FROM,
	IMAP_SORT_SIZE, IMAP_SORT_SUBJECT, IMAP_SORT_TO,
	IMAP_SORT_DISPLAYFROM, IMAP_SORT_DISPLAYTO
};

struct imap_sort_key {
	enum imap_sort_crit	 crit;
	int			 reverse;
};

struct imap_sort_prog {
	struct imap_sort_key	 keys[IMAP_SORT_KEYS_MAX];
	int			 nkeys;
};

/*
 * SORT's arguments (RFC 5256 3): "(criteria) charset search-keys":
 * the criteria into prog, the charset checked (UTF-8, US-ASCII, else
 * *no = 1 with "[BADCHARSET (UTF-8 US-ASCII)]"), *rest the index of the
 * first search key (give args + *rest to imap_search_parse(); the
 * charset is already checked).  0 or -1 with *err.
 */
int	 imap_sort_parse(const struct imap_arg *, int nargs,
	    struct imap_sort_prog *, int *rest, const char **err, int *no);

/*
 * Sorts idx[0..n) (message indexes, a SEARCH's matches in ascending
 * order) in place by the program, ties broken by sequence number
 * (RFC 5256 3).  O(n log n); keys are read once per message.  0, or -1
 * when out of memory or n > IMAP_SORT_MSGS_MAX.
 */
int	 imap_sort(const struct imap_sort_prog *,
	    const struct imap_msg_access *, void *ctx, uint32_t *idx, size_t n);

enum imap_thread_alg {
	IMAP_THREAD_ORDEREDSUBJECT,
	IMAP_THREAD_REFERENCES
};

/*
 * THREAD's arguments (RFC 5256 4): "algorithm charset search-keys", as
 * imap_sort_parse().
 */
int	 imap_thread_parse(const struct imap_arg *, int nargs,
	    enum imap_thread_alg *, int *rest, const char **err, int *no);

/*
 * Threads idx[0..n) (ascending message indexes) and writes the answer
 * "* THREAD (1 2)(3 (4)(5))\r\n" into wb, with sequence numbers, or
 * UIDs when uid.  0, or -1 when out of memory, n > IMAP_SORT_MSGS_MAX
 * or wb failed.
 */
int	 imap_thread(enum imap_thread_alg, const struct imap_msg_access *,
	    void *ctx, const uint32_t *idx, size_t n, int uid,
	    struct imap_wbuf *wb);

#endif
