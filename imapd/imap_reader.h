/*
 * imapd/imap_reader.h: the command reader's insides, shared by
 * imap_parse.c (the byte-level state machine: lines, literals, skipping
 * after an error) and imap_token.c (one line's tokens, the argument
 * tree).  Private to those two files and imap_dispatch.c; the rest of
 * imapd uses imap_proto.h.  Runs in the login engine and the mailbox
 * process alike.
 */
#ifndef IMAPD_IMAP_READER_H
#define IMAPD_IMAP_READER_H

#include "imap_proto.h"

/* A token's type: an imap_arg_type, or the end of a list or section. */
#define TK_CLOSE	(-1)

/*
 * One token in command order.  Strings are offsets into the arena (which
 * may move while it grows); an opening LIST or SECTION counts its direct
 * children in nchild.
 */
struct rd_tok {
	int		 type;
	int		 flags;
	size_t		 off;
	size_t		 len;
	int		 nchild;
	int		 has_partial;
	uint32_t	 poff;
	uint32_t	 plen;
	void		*stream;
	uint64_t	 ssize;
};

/* Where the reader is in the input. */
enum rd_state {
	RS_CMD,		/* reading a command's line */
	RS_LIT,		/* a literal into the arena */
	RS_STREAM,	/* a literal into the sink */
	RS_DISCARD,	/* dropping a refused literal's bytes */
	RS_SKIP,	/* dropping the rest of a refused command's line */
	RS_LINEMODE	/* whole lines (AUTHENTICATE, IDLE) */
};

/* The literal a line ends with. */
struct rd_lit {
	uint64_t	 size;
	int		 sync;
	int		 lit8;
};

#define RD_REPLY_MAX_BYTES	(IMAP_TAG_MAX_BYTES + 256)
#define RD_TAIL_BYTES		32

struct imap_reader {
	const struct imap_cmd	*table;
	const struct imap_io	*io;
	const struct imap_sink	*sink;
	struct imap_conn	*conn;

	enum rd_state		 state;
	int			 utf8;
	int			 linemode;

	/* The line being read; when over the limit only its tail. */
	char			*line;
	size_t			 linelen;
	size_t			 linecap;
	int			 line_ready;	/* line mode: handed out */
	char			 tail[RD_TAIL_BYTES];
	size_t			 taillen;

	/* The command so far. */
	char			*arena;
	size_t			 alen;
	size_t			 acap;
	struct rd_tok		*tok;
	size_t			 ntok;
	size_t			 tokcap;
	size_t			 stack[IMAP_NEST_MAX];
	int			 depth;
	int			 ntop;
	int			 started;	/* tag and name read */
	int			 tag_ok;
	size_t			 total;		/* the command's bytes */

	/* The literal being read. */
	uint64_t		 litleft;
	size_t			 littok;

	struct imap_command	 cmd;
	int			 have_cmd;
	int			 pending;	/* imap_input(): throttled */
	struct imap_arg		*nodes;
	size_t			 nodecap;

	char			 reply[RD_REPLY_MAX_BYTES];
	size_t			 replylen;

	int			 errors;
	uint64_t		 rate_sec;
	unsigned int		 rate_count;
};

/* imap_token.c */

/*
 * Tokenises one complete line (without its CRLF) of the command being
 * read.  Returns 0 with *lit->size set to 0 (the command ends here) or to
 * the literal the line announces (lit filled); -1 with *err on a syntax
 * error or a limit.
 */
int	 rd_tokenize(struct imap_reader *, const char *, size_t,
	    struct rd_lit *, int *has_lit, const char **err);
/* Adds a token of type with the string s[0..len) copied to the arena. */
struct rd_tok	*rd_push(struct imap_reader *, int type, const char *,
		    size_t, const char **err);
/* Builds rd->cmd.args from the tokens so far.  0 or -1 (no memory). */
int	 rd_build(struct imap_reader *);
/* The arena room for n more bytes (within IMAP_CMD_MAX_BYTES). */
int	 rd_arena_room(struct imap_reader *, size_t, const char **err);
/* The tag of a line too long to tokenise, when it starts with one. */
void	 rd_guess_tag(struct imap_reader *, const char *, size_t);
/*
 * Whether a line (or its tail) ends with a literal's announcement
 * "{n}", "{n+}", "~{n}": 1 with lit filled, 0 if not.
 */
int	 rd_tail_literal(const char *, size_t, struct rd_lit *);

#endif
