/*
 * The IMAP protocol core's unit tests' shared harness (test_imap_*.c):
 * a fake connection that collects what the reader and the dispatcher
 * write and what the sink receives, and a transcript of a reader's
 * events over a whole input fed in chunks of a chosen size.
 */
#ifndef REGRESS_UNIT_IMAP_UNIT_H
#define REGRESS_UNIT_IMAP_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../imapd/imap_reader.h"

struct tconn {
	char	 out[8192];
	size_t	 outlen;
	char	 sink[8192];
	size_t	 sinklen;
	uint64_t sunk;		/* bytes the sink got, kept or not */
	int	 opened;
	int	 ended;
	int	 discarded;
	int	 refuse_open;
	int	 handled;
	char	 last[64];
};

static inline int
t_write(struct imap_conn *c, const void *p, size_t n)
{
	struct tconn	*t = (struct tconn *)(void *)c;

	if (t->outlen + n >= sizeof(t->out))
		n = sizeof(t->out) - t->outlen - 1;
	memcpy(t->out + t->outlen, p, n);
	t->outlen += n;
	t->out[t->outlen] = '\0';
	return 0;
}

static inline void *
t_open(struct imap_conn *c, const struct imap_command *sofar, uint64_t size,
    int lit8, const char **err)
{
	struct tconn	*t = (struct tconn *)(void *)c;

	(void)sofar;
	(void)size;
	(void)lit8;
	if (t->refuse_open) {
		*err = "[OVERQUOTA] Over quota";
		return NULL;
	}
	t->opened++;
	return t;
}

static inline int
t_swrite(struct imap_conn *c, void *h, const void *p, size_t n,
    const char **err)
{
	struct tconn	*t = (struct tconn *)(void *)c;

	(void)h;
	(void)err;
	t->sunk += n;
	if (t->sinklen + n < sizeof(t->sink)) {
		memcpy(t->sink + t->sinklen, p, n);
		t->sinklen += n;
	}
	return 0;
}

static inline int
t_end(struct imap_conn *c, void *h, const char **err)
{
	(void)h;
	(void)err;
	((struct tconn *)(void *)c)->ended++;
	return 0;
}

static inline void
t_discard(struct imap_conn *c, void *h)
{
	(void)h;
	((struct tconn *)(void *)c)->discarded++;
}

static const struct imap_io t_io = { t_write, NULL };
static const struct imap_sink t_sink = { t_open, t_swrite, t_end, t_discard };

/* One argument in a canonical text form, appended to out. */
static inline void
t_dump_arg(const struct imap_arg *a, char *out, size_t size)
{
	size_t	 n = strlen(out);
	int	 i;

	switch (a->type) {
	case IMAP_ARG_ATOM:
	case IMAP_ARG_NIL:
		snprintf(out + n, size - n, "%s", a->str);
		break;
	case IMAP_ARG_QUOTED:
		snprintf(out + n, size - n, "\"%s\"", a->str);
		break;
	case IMAP_ARG_LITERAL:
		snprintf(out + n, size - n, "{%s}", a->str);
		break;
	case IMAP_ARG_STREAM:
		snprintf(out + n, size - n, "<stream %llu>",
		    (unsigned long long)a->stream_size);
		break;
	case IMAP_ARG_LIST:
	case IMAP_ARG_SECTION:
		snprintf(out + n, size - n, "%s%s",
		    a->type == IMAP_ARG_LIST ? "" : a->str,
		    a->type == IMAP_ARG_LIST ? "(" : "[");
		for (i = 0; i < a->nlist; i++) {
			if (i > 0)
				strncat(out, " ", size - strlen(out) - 1);
			t_dump_arg(&a->list[i], out, size);
		}
		n = strlen(out);
		snprintf(out + n, size - n, "%s",
		    a->type == IMAP_ARG_LIST ? ")" : "]");
		n = strlen(out);
		if (a->has_partial)
			snprintf(out + n, size - n, "<%u.%u>",
			    (unsigned int)a->partial_off,
			    (unsigned int)a->partial_len);
		break;
	}
}

static inline void
t_dump_cmd(const struct imap_command *cmd, char *out, size_t size)
{
	int	 i;

	snprintf(out, size, "%s %s", cmd->tag, cmd->name);
	for (i = 0; i < cmd->nargs; i++) {
		strncat(out, " ", size - strlen(out) - 1);
		t_dump_arg(&cmd->args[i], out, size);
	}
}

/*
 * Feeds input in chunks of chunk bytes; the transcript gets a line per
 * event: "CMD <dump>", "+", the refusal or BYE line.  Stops at a BYE.
 */
static inline void
t_run(struct imap_reader *rd, const char *in, size_t len, size_t chunk,
    char *tr, size_t size)
{
	enum imap_rd_event	 ev;
	const char		*r;
	char			 dump[4096];
	size_t			 off = 0, n, used, rl;

	tr[0] = '\0';
	while (off < len) {
		n = len - off < chunk ? len - off : chunk;
		ev = imap_reader_feed(rd, in + off, n, &used);
		off += used;
		switch (ev) {
		case IMAP_RD_MORE:
		case IMAP_RD_LINE:
			break;
		case IMAP_RD_CMD:
			t_dump_cmd(imap_reader_command(rd), dump,
			    sizeof(dump));
			snprintf(tr + strlen(tr), size - strlen(tr), "CMD %s\n",
			    dump);
			break;
		case IMAP_RD_CONT:
			strncat(tr, "+\n", size - strlen(tr) - 1);
			break;
		case IMAP_RD_REFUSE:
		case IMAP_RD_FATAL:
			r = imap_reader_reply(rd, &rl);
			snprintf(tr + strlen(tr), size - strlen(tr), "%.*s\n",
			    (int)(rl - 2), r);
			if (ev == IMAP_RD_FATAL)
				return;
			break;
		}
	}
	/* A zero-length literal at the very end. */
	if (imap_reader_feed(rd, "", 0, &used) == IMAP_RD_CMD) {
		t_dump_cmd(imap_reader_command(rd), dump, sizeof(dump));
		snprintf(tr + strlen(tr), size - strlen(tr), "CMD %s\n", dump);
	}
}

#endif
