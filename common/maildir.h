/*
 * Maildir writing helpers (https://cr.yp.to/proto/maildir.html): unique
 * file names, the header lines a delivery adds, the Delivered-To loop
 * check, and opening a Maildir with its tmp, new and cur.  Everything but
 * maildir_open() is pure, for the unit tests.
 */
#ifndef SALLYPORT_MAILDIR_H
#define SALLYPORT_MAILDIR_H

/* <sys/param.h> for NAME_MAX and PATH_MAX: see config.h. */
#include <sys/types.h>
#include <sys/param.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "sp_limits.h"

/*
 * Sizes that follow from the formats; the limit on a header examined by
 * the loop check, MAILDIR_HEADER_MAX_BYTES, is in sp_limits.h.
 */
/* A file name in tmp/, new/ or cur/: one path component. */
#define MAILDIR_NAME_MAX_BYTES		NAME_MAX
/* ",S=" and ",W=", each with a 64-bit size in decimal. */
#define MAILDIR_SIZE_SUFFIX_MAX_BYTES	46
/* "Return-Path: <sender>\nDelivered-To: rcpt\n" */
#define MAILDIR_HEADERS_MAX_BYTES	(2 * SMTP_PATH_MAX_BYTES + 64)

/*
 * The envelope a file was delivered for, in the middle part of its name:
 * 'E', the queue's message id (16 lower-case hex digits), '_' and the
 * recipient's number, so that a delivery can be found again after a
 * crash (doc/INTERNALS.md, "Maildir delivery").  No dot, comma, colon or
 * slash: every Maildir reader keeps the middle part opaque.
 */
#define MAILDIR_TAG_MARK		'E'
#define MAILDIR_TAG_HEX_DIGITS		16
#define MAILDIR_TAG_SEQ_MAX_DIGITS	10
/* 'E', the digits, '_', the number and the NUL. */
#define MAILDIR_TAG_MAX_BYTES		(MAILDIR_TAG_HEX_DIGITS + \
					    MAILDIR_TAG_SEQ_MAX_DIGITS + 3)

/* What makes a delivery's name unique on this host. */
struct maildir_uniq {
	time_t		 secs;
	long		 usecs;
	pid_t		 pid;
	unsigned long	 counter;	/* deliveries by this process */
	const char	*evpid;		/* "<msgid>.<n>", or NULL: no tag */
};

/*
 * Writes host into dst with '/' as \057 and ':' as \072, as the Maildir
 * specification asks, and also every byte that would confuse a reader of
 * the name (',' which starts ",S=", '\\', space, control and non-ASCII
 * bytes) as \ooo.  -1 when host is empty or dst too short.
 */
int	maildir_escape_host(char *dst, size_t dstlen, const char *host);
/*
 * "<secs>.M<usecs>P<pid>Q<counter>[E<msgid>_<n>].<escaped host>", the
 * tag when evpid is set.  -1 when evpid is not an envelope id, or the
 * name does not fit dst or leaves no room in a file name for the size
 * suffix.
 */
int	maildir_unique_name(char *dst, size_t dstlen,
	    const struct maildir_uniq *, const char *host);
/*
 * 1 when the file name carries a tag (maildir_unique_name), with its
 * message id copied into msgid (at least MAILDIR_TAG_HEX_DIGITS + 1
 * bytes); else 0.  Any suffix (",S=", ":2,flags") may follow.
 */
int	maildir_name_msgid(const char *name, char *msgid, size_t msgidlen);
/*
 * "<uniq>,S=<size>,W=<wsize>"; -1 when it does not fit dst or a file
 * name.  wsize: the size with CRLF line ends, as POP3 counts it.
 */
int	maildir_final_name(char *dst, size_t dstlen, const char *uniq,
	    uint64_t size, uint64_t wsize);
/* 0 and *v when the base name holds ",<key>=<digits>"; else -1. */
int	maildir_name_size(const char *name, char key, uint64_t *v);

/*
 * Counts the octets of a message with every lone LF made CRLF and a
 * last line end added (pop3d/pop3_xform.c, RFC 1939 5 LIST).  Start
 * zeroed.
 */
struct maildir_wsize {
	uint64_t	 size;
	char		 last;
};
void	maildir_wsize_feed(struct maildir_wsize *, const char *buf,
	    size_t len);
uint64_t maildir_wsize_end(const struct maildir_wsize *);

/*
 * 0 when addr may go into a header line: at most SMTP_PATH_MAX_BYTES, no
 * control character, no angle bracket, and not empty unless allow_empty
 * (the null reverse-path).  Else -1 with *errstr set.
 */
int	maildir_addr_valid(const char *addr, int allow_empty,
	    const char **errstr);
/*
 * Writes "Return-Path: <sender>\nDelivered-To: rcpt\n" into dst (sender
 * "" is the null reverse-path, "<>").  Returns the length, or -1 with
 * *errstr set when an address is refused or dst is too short.
 */
int	maildir_headers(char *dst, size_t dstlen, const char *sender,
	    const char *rcpt, const char **errstr);

/*
 * The loop check: is there, in the header section of a message, a
 * Delivered-To header equal (without case, RFC 5321 2.4 aside: local
 * parts here are ours) to the recipient?  Fed in pieces, as the message
 * is copied; headers may be folded (RFC 5322 2.2.3).
 */
struct maildir_loop {
	const char	*rcpt;
	size_t		 len;		/* bytes in hdr */
	size_t		 linelen;	/* bytes of the current line, no CR */
	int		 toolong;	/* hdr overflowed: cannot match */
	int		 done;		/* the header section has ended */
	int		 found;
	char		 hdr[MAILDIR_HEADER_MAX_BYTES];
};

void	maildir_loop_init(struct maildir_loop *, const char *rcpt);
/* Returns 1 once the answer is known (see found), 0 while it is not. */
int	maildir_loop_feed(struct maildir_loop *, const char *buf, size_t len);
/* At the end of the message: returns found. */
int	maildir_loop_end(struct maildir_loop *);
/* The whole check on a buffer: 1 for a loop, else 0. */
int	maildir_loop_check(const char *msg, size_t len, const char *rcpt);

/* An open Maildir: descriptors of the directory and its subdirectories. */
struct maildir {
	int	 dirfd;
	int	 tmpfd;
	int	 newfd;
	int	 curfd;
};

/*
 * Opens path as a Maildir.  With create, makes path and its tmp, new and
 * cur (mode 0700) when missing, and fsyncs the directories that gained
 * an entry, so that a delivery reported done survives a crash.  -1 with
 * errno set, and nothing left open.
 */
int	maildir_open(struct maildir *, const char *path, int create);
void	maildir_close(struct maildir *);

#endif
