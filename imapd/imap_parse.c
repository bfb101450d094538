/*
 * imapd/imap_parse.c: the incremental, bounded IMAP command reader.  Fed
 * whatever bytes a connection gave, it yields complete commands, asks
 * for continuation requests for synchronising literals (RFC 3501 7.5),
 * takes LITERAL+ (RFC 7888) and literal8 (RFC 3516), streams APPEND's
 * message literals into the caller's sink, and refuses what goes past a
 * limit (common/sp_limits.h) before the client sends it when it can.
 * After a refusal it skips the rest of the command, literals included,
 * so the next command is read from its start.  Runs in the login engine
 * (_sallyimap, chroot, seccomp "imapd-login") and in the mailbox process
 * (the mail user, chroot in the mail home, seccomp "imapd-user").  No
 * I/O of its own.
 */
#include <sys/types.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap_reader.h"

/* Buffers larger than this are given back between commands. */
#define RD_KEEP_BYTES	4096
#define RD_KEEP_TOKENS	64

struct imap_reader *
imap_reader_new(const struct imap_cmd *table, const struct imap_io *io,
    const struct imap_sink *sink, struct imap_conn *conn)
{
	struct imap_reader	*rd;

	if ((rd = calloc(1, sizeof(*rd))) == NULL)
		return NULL;
	rd->table = table;
	rd->io = io;
	rd->sink = sink;
	rd->conn = conn;
	rd->state = RS_CMD;
	return rd;
}

/* Drops the sink handles the command still holds. */
static void
rd_discard_streams(struct imap_reader *rd)
{
	size_t	 i;

	for (i = 0; i < rd->ntok; i++)
		if (rd->tok[i].stream != NULL) {
			if (rd->sink != NULL && rd->sink->discard != NULL)
				rd->sink->discard(rd->conn, rd->tok[i].stream);
			rd->tok[i].stream = NULL;
		}
}

/* Forgets the command read so far; shrinks big buffers. */
static void
rd_reset(struct imap_reader *rd)
{
	rd_discard_streams(rd);
	rd->ntok = 0;
	rd->alen = 0;
	rd->depth = 0;
	rd->ntop = 0;
	rd->started = 0;
	rd->tag_ok = 0;
	rd->have_cmd = 0;
	memset(&rd->cmd, 0, sizeof(rd->cmd));
	if (rd->acap > RD_KEEP_BYTES) {
		free(rd->arena);
		rd->arena = NULL;
		rd->acap = 0;
	}
	if (rd->tokcap > RD_KEEP_TOKENS) {
		free(rd->tok);
		rd->tok = NULL;
		rd->tokcap = 0;
	}
	if (rd->nodecap > RD_KEEP_TOKENS) {
		free(rd->nodes);
		rd->nodes = NULL;
		rd->nodecap = 0;
	}
}

void
imap_reader_free(struct imap_reader *rd)
{
	if (rd == NULL)
		return;
	rd_reset(rd);
	free(rd->arena);
	free(rd->tok);
	free(rd->nodes);
	free(rd->line);
	free(rd);
}

void
imap_reader_release(struct imap_reader *rd)
{
	size_t	 i, k;

	/* The handler may have kept handles: forget those it took. */
	if (rd->have_cmd)
		for (i = 0, k = 0; i < rd->ntok; i++)
			if (rd->tok[i].type == IMAP_ARG_STREAM) {
				while (k < (size_t)rd->cmd.nargs &&
				    rd->cmd.args[k].type != IMAP_ARG_STREAM)
					k++;
				if (k < (size_t)rd->cmd.nargs)
					rd->tok[i].stream =
					    rd->cmd.args[k++].stream;
			}
	rd_reset(rd);
	if (rd->linecap > RD_KEEP_BYTES) {
		free(rd->line);
		rd->line = NULL;
		rd->linecap = 0;
	}
}

/* The reply line: "tag kind text" (or "* ..." without a tag). */
static void
rd_set_reply(struct imap_reader *rd, const char *kind, const char *fmt, ...)
{
	va_list	 ap;
	char	 text[RD_REPLY_MAX_BYTES];
	int	 n;

	va_start(ap, fmt);
	(void)vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (rd->io != NULL && rd->io->log != NULL)
		rd->io->log(rd->conn, "refused", text);
	n = snprintf(rd->reply, sizeof(rd->reply), "%s %s %s\r\n",
	    rd->tag_ok ? rd->cmd.tag : "*", kind, text);
	if (n < 0 || (size_t)n >= sizeof(rd->reply)) {
		/* Cut: keep the line ended. */
		n = (int)sizeof(rd->reply) - 1;
		memcpy(rd->reply + n - 2, "\r\n", 2);
	}
	rd->replylen = (size_t)n;
}

/*
 * Refuses the command: the reply, then what to skip.  skip_line: the
 * rest of the current line is still coming.  discard: a literal's bytes
 * still coming (then the rest of its line).
 */
static enum imap_rd_event
rd_refuse(struct imap_reader *rd, const char *kind, const char *err,
    int skip_line, uint64_t discard)
{
	rd_set_reply(rd, kind, "%s", err);
	rd_reset(rd);
	rd->linelen = 0;
	rd->taillen = 0;
	if (discard > 0) {
		rd->state = RS_DISCARD;
		rd->litleft = discard;
	} else
		rd->state = skip_line ? RS_SKIP : RS_CMD;
	return IMAP_RD_REFUSE;
}

/* The connection cannot go on: "* BYE". */
static enum imap_rd_event
rd_fatal(struct imap_reader *rd, const char *err)
{
	rd->tag_ok = 0;
	rd_set_reply(rd, "BYE", "%s", err);
	rd_reset(rd);
	rd->state = RS_SKIP;
	return IMAP_RD_FATAL;
}

/*
 * A refused line that announced a literal: a synchronising one is never
 * sent (no '+'), a non-synchronising one comes and is dropped, unless it
 * is too big even to drop (RFC 7888 4: then the connection closes).
 */
static enum imap_rd_event
rd_refuse_lit(struct imap_reader *rd, const char *kind, const char *err,
    const struct rd_lit *lit)
{
	if (lit == NULL || lit->sync || lit->size == 0)
		return rd_refuse(rd, kind, err, 0, 0);
	if (lit->size > IMAP_APPEND_MAX_BYTES)
		return rd_fatal(rd, "Non-synchronising literal too big");
	return rd_refuse(rd, kind, err, 0, lit->size);
}

/* Whether the literal the line announces goes to the sink. */
static int
rd_streamed(const struct imap_reader *rd)
{
	const struct imap_cmd	*c;

	if (rd->sink == NULL || rd->depth != 0 || rd->ntop < 1 ||
	    rd->table == NULL)
		return 0;
	for (c = rd->table; c->name != NULL; c++)
		if (strcmp(c->name, rd->cmd.name) == 0)
			return (c->flags & IMAP_CMDF_STREAM) != 0;
	return 0;
}

/* An APPEND message literal: the sink opens, or the command is refused. */
static enum imap_rd_event
rd_stream_start(struct imap_reader *rd, const struct rd_lit *lit)
{
	struct rd_tok	*t;
	const char	*err = NULL;
	void		*h;
	char		 msg[96];

	if (lit->size > IMAP_APPEND_MAX_BYTES) {
		(void)snprintf(msg, sizeof(msg), "[TOOBIG] Message too big "
		    "(at most %d octets)", IMAP_APPEND_MAX_BYTES);
		return rd_refuse_lit(rd, "NO", msg, lit);
	}
	if (rd_build(rd) == -1)
		return rd_refuse_lit(rd, "NO", "Out of memory", lit);
	h = rd->sink->open(rd->conn, &rd->cmd, lit->size, lit->lit8, &err);
	if (h == NULL)
		return rd_refuse_lit(rd, "NO", err != NULL ? err :
		    "Cannot store the message", lit);
	if ((t = rd_push(rd, IMAP_ARG_STREAM, "", 0, &err)) == NULL) {
		rd->sink->discard(rd->conn, h);
		return rd_refuse_lit(rd, "BAD", err, lit);
	}
	t->stream = h;
	t->ssize = lit->size;
	t->flags = (lit->lit8 ? IMAP_ARGF_LITERAL8 : 0) |
	    (lit->sync ? 0 : IMAP_ARGF_NONSYNC);
	rd->littok = rd->ntok - 1;
	rd->litleft = lit->size;
	rd->state = RS_STREAM;
	return IMAP_RD_MORE;
}

/* A literal held in memory: room for it in the arena, or refused. */
static enum imap_rd_event
rd_literal_start(struct imap_reader *rd, const struct rd_lit *lit)
{
	struct rd_tok	*t;
	const char	*err;
	char		 msg[96];

	if (lit->size > IMAP_LITERAL_MAX_BYTES) {
		(void)snprintf(msg, sizeof(msg), "[TOOBIG] Literal too big "
		    "(at most %d octets here)", IMAP_LITERAL_MAX_BYTES);
		return rd_refuse_lit(rd, "BAD", msg, lit);
	}
	if (rd_arena_room(rd, (size_t)lit->size + 1, &err) == -1 ||
	    (t = rd_push(rd, IMAP_ARG_LITERAL, "", 0, &err)) == NULL)
		return rd_refuse_lit(rd, "BAD", err, lit);
	rd->alen = t->off;
	t->len = (size_t)lit->size;
	t->flags = (lit->lit8 ? IMAP_ARGF_LITERAL8 : 0) |
	    (lit->sync ? 0 : IMAP_ARGF_NONSYNC);
	rd->littok = rd->ntok - 1;
	rd->litleft = lit->size;
	rd->state = RS_LIT;
	return IMAP_RD_MORE;
}

/* A command's complete line: tokens, then the end or a literal. */
static enum imap_rd_event
rd_line(struct imap_reader *rd)
{
	struct rd_lit		 lit;
	enum imap_rd_event	 ev;
	const char		*err;
	int			 has_lit;

	if (!rd->started && rd->linelen == 0)
		return IMAP_RD_MORE;	/* an empty line between commands */
	if (rd_tokenize(rd, rd->line, rd->linelen, &lit, &has_lit,
	    &err) == -1) {
		has_lit = rd_tail_literal(rd->line, rd->linelen, &lit);
		return rd_refuse_lit(rd, "BAD", err, has_lit ? &lit : NULL);
	}
	if (!has_lit) {
		if (rd->depth > 0)
			return rd_refuse(rd, "BAD", rd->tok[rd->stack[
			    rd->depth - 1]].type == IMAP_ARG_LIST ?
			    "Missing ')'" : "Missing ']'", 0, 0);
		if (rd_build(rd) == -1)
			return rd_refuse(rd, "NO", "Out of memory", 0, 0);
		rd->have_cmd = 1;
		return IMAP_RD_CMD;
	}
	ev = rd_streamed(rd) ? rd_stream_start(rd, &lit) :
	    rd_literal_start(rd, &lit);
	if (ev != IMAP_RD_MORE || !lit.sync)
		return ev;
	(void)snprintf(rd->reply, sizeof(rd->reply),
	    "+ Ready for literal data\r\n");
	rd->replylen = strlen(rd->reply);
	return IMAP_RD_CONT;
}

/* Some of a literal's bytes, to the arena, the sink or nowhere. */
static enum imap_rd_event
rd_lit_bytes(struct imap_reader *rd, const char *p, size_t n)
{
	struct rd_tok	*t;
	const char	*err = NULL;
	uint64_t	 left = rd->litleft - n;

	rd->litleft = left;
	if (rd->state == RS_DISCARD)
		return IMAP_RD_MORE;
	t = &rd->tok[rd->littok];
	if (!(t->flags & IMAP_ARGF_LITERAL8) && memchr(p, '\0', n) != NULL)
		return rd_refuse(rd, "BAD", "NUL in a literal (only literal8 "
		    "may hold one)", 1, left);
	if (rd->state == RS_STREAM) {
		if (rd->sink->write(rd->conn, t->stream, p, n, &err) == -1)
			return rd_refuse(rd, "NO", err != NULL ? err :
			    "Cannot store the message", 1, left);
		return IMAP_RD_MORE;
	}
	memcpy(rd->arena + rd->alen, p, n);
	rd->alen += n;
	return IMAP_RD_MORE;
}

/* The literal's last byte came. */
static enum imap_rd_event
rd_lit_done(struct imap_reader *rd)
{
	struct rd_tok	*t;
	const char	*err = NULL;

	if (rd->state == RS_DISCARD) {
		rd->state = RS_SKIP;
		rd->taillen = 0;
		return IMAP_RD_MORE;
	}
	t = &rd->tok[rd->littok];
	rd->state = RS_CMD;
	rd->linelen = 0;
	if (rd->tok[rd->littok].type == IMAP_ARG_STREAM) {
		if (rd->sink->end != NULL &&
		    rd->sink->end(rd->conn, t->stream, &err) == -1)
			return rd_refuse(rd, "NO", err != NULL ? err :
			    "Cannot store the message", 1, 0);
		return IMAP_RD_MORE;
	}
	rd->arena[rd->alen++] = '\0';
	return IMAP_RD_MORE;
}

/* Keeps the last bytes of a line being skipped. */
static void
rd_tail_add(struct imap_reader *rd, const char *p, size_t n)
{
	size_t	 keep;

	if (n >= RD_TAIL_BYTES) {
		memcpy(rd->tail, p + n - RD_TAIL_BYTES, RD_TAIL_BYTES);
		rd->taillen = RD_TAIL_BYTES;
		return;
	}
	keep = RD_TAIL_BYTES - n;
	if (keep > rd->taillen)
		keep = rd->taillen;
	memmove(rd->tail, rd->tail + rd->taillen - keep, keep);
	memcpy(rd->tail + keep, p, n);
	rd->taillen = keep + n;
}

/* The end of a skipped line: a literal it announces is skipped too. */
static enum imap_rd_event
rd_skip_done(struct imap_reader *rd)
{
	struct rd_lit	 lit;

	if (rd->taillen > 0 && rd->tail[rd->taillen - 1] == '\n')
		rd->taillen--;
	if (rd->taillen > 0 && rd->tail[rd->taillen - 1] == '\r')
		rd->taillen--;
	rd->state = RS_CMD;
	if (rd_tail_literal(rd->tail, rd->taillen, &lit) && !lit.sync &&
	    lit.size > 0) {
		if (lit.size > IMAP_APPEND_MAX_BYTES)
			return rd_fatal(rd, "Non-synchronising literal too "
			    "big");
		rd->state = RS_DISCARD;
		rd->litleft = lit.size;
	}
	rd->taillen = 0;
	return IMAP_RD_MORE;
}

/* Room in the line buffer for n more bytes (and a NUL). */
static int
rd_line_room(struct imap_reader *rd, size_t n)
{
	size_t	 cap;
	char	*p;

	if (rd->linelen + n + 1 <= rd->linecap)
		return 0;
	cap = rd->linecap < 256 ? 256 : rd->linecap;
	while (cap < rd->linelen + n + 1)
		cap *= 2;
	if ((p = realloc(rd->line, cap)) == NULL)
		return -1;
	rd->line = p;
	rd->linecap = cap;
	return 0;
}

/*
 * A command line past IMAP_LINE_MAX_BYTES: refused now, the rest of the
 * line skipped, watching its end for a literal to skip too.
 */
static enum imap_rd_event
rd_too_long(struct imap_reader *rd)
{
	size_t	 n;

	if (!rd->started)
		rd_guess_tag(rd, rd->line, rd->linelen);
	rd->taillen = 0;
	rd_tail_add(rd, rd->line, rd->linelen);
	n = rd->taillen;
	rd_set_reply(rd, "BAD", "Line too long (at most %d octets)",
	    IMAP_LINE_MAX_BYTES);
	rd_reset(rd);
	rd->linelen = 0;
	rd->taillen = n;
	rd->state = RS_SKIP;
	return IMAP_RD_REFUSE;
}

/* Line input (a command's, a skipped one, or line mode). */
static enum imap_rd_event
rd_input_line(struct imap_reader *rd, const char *data, size_t len,
    size_t *pos)
{
	enum imap_rd_event	 ev;
	const char		*p = data + *pos, *lf;
	size_t			 n;

	lf = memchr(p, '\n', len - *pos);
	n = lf != NULL ? (size_t)(lf - p) + 1 : len - *pos;
	if (rd->state == RS_SKIP) {
		rd_tail_add(rd, p, n);
		*pos += n;
		return lf != NULL ? rd_skip_done(rd) : IMAP_RD_MORE;
	}
	if (rd->linelen + n > IMAP_LINE_MAX_BYTES + 2 ||
	    rd_line_room(rd, n) == -1) {
		if (rd->state == RS_LINEMODE)
			return rd_fatal(rd, "Line too long");
		return rd_too_long(rd);
	}
	memcpy(rd->line + rd->linelen, p, n);
	rd->linelen += n;
	*pos += n;
	if (lf == NULL)
		return IMAP_RD_MORE;
	rd->linelen--;
	if (rd->linelen > 0 && rd->line[rd->linelen - 1] == '\r')
		rd->linelen--;
	rd->line[rd->linelen] = '\0';
	if (rd->state == RS_LINEMODE) {
		rd->line_ready = 1;
		return IMAP_RD_LINE;
	}
	ev = rd_line(rd);
	rd->linelen = 0;
	return ev;
}

enum imap_rd_event
imap_reader_feed(struct imap_reader *rd, const char *data, size_t len,
    size_t *used)
{
	enum imap_rd_event	 ev;
	size_t			 pos = 0, n;

	if (rd->have_cmd)
		imap_reader_release(rd);
	if (rd->line_ready) {
		rd->line_ready = 0;
		rd->linelen = 0;
	}
	for (;;) {
		if (rd->state == RS_LIT || rd->state == RS_STREAM ||
		    rd->state == RS_DISCARD) {
			if (rd->litleft == 0)
				ev = rd_lit_done(rd);
			else if (pos == len)
				break;
			else {
				n = len - pos;
				if (n > rd->litleft)
					n = (size_t)rd->litleft;
				ev = rd_lit_bytes(rd, data + pos, n);
				pos += n;
			}
		} else if (pos == len)
			break;
		else
			ev = rd_input_line(rd, data, len, &pos);
		if (ev != IMAP_RD_MORE) {
			*used = pos;
			return ev;
		}
	}
	*used = pos;
	return IMAP_RD_MORE;
}

struct imap_command *
imap_reader_command(struct imap_reader *rd)
{
	return rd->have_cmd ? &rd->cmd : NULL;
}

const char *
imap_reader_reply(const struct imap_reader *rd, size_t *len)
{
	*len = rd->replylen;
	return rd->reply;
}

void
imap_reader_line_mode(struct imap_reader *rd, int on)
{
	rd->linelen = 0;
	rd->line_ready = 0;
	rd->state = on ? RS_LINEMODE : RS_CMD;
}

const char *
imap_reader_line(const struct imap_reader *rd, size_t *len)
{
	*len = rd->linelen;
	return rd->line != NULL ? rd->line : "";
}

void
imap_reader_set_utf8(struct imap_reader *rd, int on)
{
	rd->utf8 = on;
}

int
imap_reader_error(struct imap_reader *rd)
{
	if (rd->errors < IMAP_ERRORS_MAX)
		rd->errors++;
	return rd->errors >= IMAP_ERRORS_MAX ? -1 : 0;
}

int
imap_reader_errors(const struct imap_reader *rd)
{
	return rd->errors;
}

unsigned int
imap_reader_throttle(struct imap_reader *rd, uint64_t now_ms)
{
	uint64_t	 sec = now_ms / 1000;

	if (sec != rd->rate_sec) {
		rd->rate_sec = sec;
		rd->rate_count = 0;
	}
	if (rd->rate_count >= IMAP_CMDS_PER_SEC_MAX)
		return (unsigned int)(1000 - now_ms % 1000);
	rd->rate_count++;
	return 0;
}
