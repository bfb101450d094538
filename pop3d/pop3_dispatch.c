/*
 * Command parsing and dispatch, shared by the login engine (as
 * user pop3, chrooted to the empty dir) and the mailbox process (as the
 * mail user, chrooted to the mail home).  Each passes its own table;
 * everything that can be checked before a handler runs is checked here:
 * the verb, the state, the number and length of arguments, the line's
 * length.  Errors are counted and end the session at POP3_ERRORS_MAX.
 */
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lineio.h"
#include "log.h"
#include "pop3d.h"
#include "sasl.h"

static const char	*pop3_split(const struct pop3_cmd *, const char *,
			    size_t, struct pop3_req *);

/* Looks a verb up; returns NULL for a verb no table entry has. */
static const struct pop3_cmd *
pop3_lookup(const struct pop3_cmd *tab, const char *verb)
{
	for (; tab->verb != NULL; tab++)
		if (strcmp(tab->verb, verb) == 0)
			return tab;
	return NULL;
}

/* Reads the verb into req (upper case); returns the bytes it took. */
static size_t
pop3_verb(const char *line, size_t len, struct pop3_req *req)
{
	size_t	 i;

	for (i = 0; i < len && line[i] != ' '; i++) {
		if (i >= POP3_VERB_MAX_BYTES ||
		    !isalpha((unsigned char)line[i]))
			return 0;
		req->verb[i] = (char)toupper((unsigned char)line[i]);
	}
	req->verb[i] = '\0';
	return i;
}

const struct pop3_cmd *
pop3_parse(const struct pop3_cmd *tab, int state, const char *line,
    size_t len, int flags, struct pop3_req *req, const char **err)
{
	const struct pop3_cmd	*cmd;
	size_t			 vlen;

	memset(req, 0, sizeof(*req));
	if (flags & LINE_F_TOOLONG) {
		*err = "line too long";
		return NULL;
	}
	if (flags & (LINE_F_NUL | LINE_F_BARECR)) {
		*err = "syntax error";
		return NULL;
	}
	if ((vlen = pop3_verb(line, len, req)) == 0 ||
	    (cmd = pop3_lookup(tab, req->verb)) == NULL) {
		/* Not a verb of ours: it could be a mistyped password. */
		memset(req->verb, 0, sizeof(req->verb));
		*err = len + 2 > POP3_CMD_LINE_MAX_BYTES ? "line too long" :
		    "unknown command";
		return NULL;
	}
	/*
	 * RFC 2449 4: a command line is at most 255 octets with its CRLF;
	 * RFC 5034 4 lets AUTH's initial response go past it.
	 */
	if (len + 2 > POP3_CMD_LINE_MAX_BYTES && cmd->args != ARG_SASL) {
		memset(req->verb, 0, sizeof(req->verb));
		*err = "line too long";
		return NULL;
	}
	if ((cmd->states & state) == 0 || cmd->handler == NULL) {
		*err = "command not valid in this state";
		return NULL;
	}
	if ((*err = pop3_split(cmd, line + vlen, len - vlen, req)) != NULL)
		return NULL;
	return cmd;
}

/* Reads the arguments after the verb; returns an error text or NULL. */
static const char *
pop3_split(const struct pop3_cmd *cmd, const char *p, size_t len,
    struct pop3_req *req)
{
	size_t	 i = 0, start;

	if (cmd->args == ARG_SASL) {
		/* Kept in the line, not copied: it may hold a password. */
		if (len > 0 && (len < 2 || p[0] != ' '))
			return "syntax error";
		req->raw = len > 0 ? p + 1 : NULL;
		req->rawlen = len > 0 ? len - 1 : 0;
		return NULL;
	}
	if (cmd->args == ARG_REST) {
		/* RFC 1939 7, PASS: spaces may be part of the argument. */
		if (len < 2)
			return "syntax error";
		memcpy(req->rest, p + 1, len - 1);
		req->rest[len - 1] = '\0';
		return NULL;
	}
	for (;;) {
		while (i < len && p[i] == ' ')
			i++;
		if (i == len)
			break;
		if (req->argc == POP3_ARGS_MAX)
			return "syntax error";
		for (start = i; i < len && p[i] != ' '; i++)
			;
		if (i - start > POP3_ARG_MAX_BYTES)
			return "argument too long";
		memcpy(req->argv[req->argc], p + start, i - start);
		req->argv[req->argc++][i - start] = '\0';
	}
	if ((cmd->args == ARG_NONE && req->argc != 0) ||
	    (cmd->args == ARG_ONE && req->argc != 1) ||
	    (cmd->args == ARG_OPT && req->argc > 1) ||
	    (cmd->args == ARG_TWO && req->argc != 2))
		return "syntax error";
	return NULL;
}

void
pop3_dispatch(const struct pop3_cmd *tab, struct pop3_conn *c,
    const char *line, size_t len, int flags)
{
	const struct pop3_cmd	*cmd;
	struct pop3_req		 req;
	const char		*err;

	if (c->closing)
		return;
	cmd = pop3_parse(tab, c->state, line, len, flags, &req, &err);
	/* Only a known verb is logged: a line may hold a password. */
	(void)strlcpy(c->verb, req.verb, sizeof(c->verb));
	if (cmd == NULL)
		pop3_err(c, "%s", err);
	else {
		log_debug("%08x pop3 command verb=%s", c->id, req.verb);
		cmd->handler(c, &req);
	}
	explicit_bzero(&req, sizeof(req));
}

/* Writes one line with CRLF; on failure the session ends. */
static void
pop3_vline(struct pop3_conn *c, const char *prefix, const char *fmt,
    va_list ap)
{
	char	 buf[POP3_CMD_LINE_MAX_BYTES * 2];
	int	 n, m;

	n = snprintf(buf, sizeof(buf), "%s", prefix);
	m = vsnprintf(buf + n, sizeof(buf) - (size_t)n - 2, fmt, ap);
	if (m < 0 || (size_t)m >= sizeof(buf) - (size_t)n - 2) {
		log_warnx("%08x pop3 reply-too-long", c->id);
		c->closing = 1;
		lineio_shutdown(c->lio);
		return;
	}
	memcpy(buf + n + m, "\r\n", 2);
	if (lineio_write(c->lio, buf, (size_t)(n + m + 2)) == -1)
		c->closing = 1;
}

void
pop3_line(struct pop3_conn *c, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	pop3_vline(c, "", fmt, ap);
	va_end(ap);
}

void
pop3_ok(struct pop3_conn *c, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	pop3_vline(c, "+OK ", fmt, ap);
	va_end(ap);
}

/*
 * A -ERR answer.  count: it counts toward POP3_ERRORS_MAX, which ends
 * the session; log: it is logged here (else the caller logged it).
 */
static void
pop3_verr(struct pop3_conn *c, int count, int log, const char *fmt,
    va_list ap)
{
	char	 text[POP3_CMD_LINE_MAX_BYTES];
	int	 n;

	n = vsnprintf(text, sizeof(text), fmt, ap);
	if (n < 0 || (size_t)n >= sizeof(text))
		(void)strlcpy(text, "error", sizeof(text));
	if (log)
		log_info("%08x pop3 command-error state=%s verb=%s "
		    "reason=\"%s\"", c->id, pop3_state_name(c->state),
		    c->verb[0] != '\0' ? c->verb : "-", text);
	pop3_line(c, "-ERR %s", text);
	if (!count || ++c->errors < POP3_ERRORS_MAX || c->closing)
		return;
	log_info("%08x pop3 close reason=too-many-errors errors=%d", c->id,
	    c->errors);
	/* RFC 1939 3: the session does not end without a word. */
	pop3_line(c, "-ERR too many errors, closing connection");
	c->closing = 1;
	lineio_shutdown(c->lio);
}

void
pop3_err(struct pop3_conn *c, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	pop3_verr(c, 1, 1, fmt, ap);
	va_end(ap);
}

void
pop3_err_logged(struct pop3_conn *c, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	pop3_verr(c, 1, 0, fmt, ap);
	va_end(ap);
}

void
pop3_err_answer(struct pop3_conn *c, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	pop3_verr(c, 0, 1, fmt, ap);
	va_end(ap);
}

void
pop3_err_sys(struct pop3_conn *c, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	pop3_verr(c, 0, 0, fmt, ap);
	va_end(ap);
}

const char *
pop3_state_name(int state)
{
	switch (state) {
	case POP3_S_AUTH:
		return "auth";
	case POP3_S_USER:
		return "user";
	case POP3_S_TRANS:
		return "transaction";
	case POP3_S_UPDATE:
		return "update";
	default:
		return "unknown";
	}
}

void
pop3_set_state(struct pop3_conn *c, int state)
{
	log_debug("%08x pop3 state from=%s to=%s", c->id,
	    pop3_state_name(c->state), pop3_state_name(state));
	c->state = state;
}

/*
 * RFC 2449 5.  PIPELINING only where commands are truly read ahead and
 * answered in order: the login engine relays what follows PASS to the
 * mailbox process (common/access_proxy.c).
 */
/* RFC 2449 6.5 and 6.7: "LOGIN-DELAY secs", "EXPIRE days|NEVER". */
static char	 pop3_capa_delay[32];
static char	 pop3_capa_expire[32];

void
pop3_capa_policy(uint32_t login_delay_secs, int64_t expire_days)
{
	pop3_capa_delay[0] = pop3_capa_expire[0] = '\0';
	if (login_delay_secs > 0)
		(void)snprintf(pop3_capa_delay, sizeof(pop3_capa_delay),
		    "LOGIN-DELAY %u", login_delay_secs);
	if (expire_days >= 0)
		(void)snprintf(pop3_capa_expire, sizeof(pop3_capa_expire),
		    "EXPIRE %lld", (long long)expire_days);
	else
		(void)strlcpy(pop3_capa_expire, "EXPIRE NEVER",
		    sizeof(pop3_capa_expire));
}

void
pop3_capa(struct pop3_conn *c, int pipelining)
{
	pop3_capa_lines(c, POP3_CAPA_USER |
	    (pipelining ? POP3_CAPA_PIPELINING : 0));
}

void
pop3_capa_lines(struct pop3_conn *c, unsigned int flags)
{
	static const struct {
		unsigned int	 flag;	/* 0: always */
		const char	*line;
	} capa[] = {
		{ POP3_CAPA_USER,	"USER" },
		{ 0,			"UIDL" },
		{ 0,			"TOP" },
		{ 0,			"RESP-CODES" },
		{ 0,			"AUTH-RESP-CODE" },
		{ 0,			"IMPLEMENTATION sallyport" },
		{ POP3_CAPA_PIPELINING,	"PIPELINING" },
		{ POP3_CAPA_STLS,	"STLS" },
		{ POP3_CAPA_SASL,	"SASL " SASL_MECHANISMS },
	};
	size_t	 i;

	pop3_ok(c, "capability list follows");
	for (i = 0; i < sizeof(capa) / sizeof(capa[0]); i++)
		if (capa[i].flag == 0 || (flags & capa[i].flag))
			pop3_line(c, "%s", capa[i].line);
	if (pop3_capa_delay[0] != '\0')
		pop3_line(c, "%s", pop3_capa_delay);
	if (pop3_capa_expire[0] != '\0')
		pop3_line(c, "%s", pop3_capa_expire);
	pop3_line(c, ".");
}
