/*
 * The lexer of sallyport.conf(5) (the grammar is parse.y): bare words,
 * keywords, numbers and quoted strings, a line at a time, and the
 * parse's error reporting.  Token text goes into the parse's arena;
 * values into yacc's yylval.
 */
#include <sys/types.h>
#include <limits.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_parse.h"
#include "sp_limits.h"
#include "parse.h"

static void
parse_vfail(struct parse_state *ps, int lineno, const char *fmt, va_list ap)
{
	char	 msg[PARSE_MSG_BYTES];

	if (ps->failed)
		return;
	ps->failed = 1;
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	if (ps->errlen > 0)
		(void)snprintf(ps->err, ps->errlen, "%s:%d: %s", ps->name,
		    lineno, msg);
}

void
config_parse_fail(struct parse_state *ps, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	parse_vfail(ps, ps->toklineno, fmt, ap);
	va_end(ap);
}

void
config_parse_fail_at(struct parse_state *ps, int lineno, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	parse_vfail(ps, lineno, fmt, ap);
	va_end(ap);
}

static const struct keyword {
	const char	*name;
	int		 token;
} keywords[] = {
	/* Sorted for bsearch(3). */
	{ "address-literal",	ADDRLITERAL },
	{ "aliases",		ALIASES },
	{ "auth",		AUTH },
	{ "backoff",		BACKOFF },
	{ "ca",			CA },
	{ "cert",		CERT },
	{ "chroot",		CHROOT },
	{ "delay-notice",	DELAYNOTICE },
	{ "domain",		DOMAIN },
	{ "errors",		ERRORS },
	{ "expire",		EXPIRE },
	{ "family",		FAMILY },
	{ "from",		FROM },
	{ "helo",		HELO },
	{ "hostname",		HOSTNAME },
	{ "key",		KEY },
	{ "limit",		LIMIT },
	{ "listen",		LISTEN },
	{ "max",		UPTO },
	{ "max-retry",		MAXRETRY },
	{ "message-size",	MESSAGESIZE },
	{ "mta-sts",		MTASTS },
	{ "none",		NONE },
	{ "on",			ON },
	{ "pki",		PKI },
	{ "pop3",		POP3 },
	{ "port",		PORT },
	{ "queue",		QUEUE },
	{ "queue-min-free",	QUEUEMINFREE },
	{ "received",		RECEIVED },
	{ "recipients",		RECIPIENTS },
	{ "relay",		RELAY },
	{ "resolver",		RESOLVER },
	{ "retry",		RETRY },
	{ "rundir",		RUNDIR },
	{ "secrets",		SECRETS },
	{ "smtps",		SMTPS },
	{ "source",		SOURCE },
	{ "spool",		SPOOL },
	{ "submission",		SUBMISSION },
	{ "submit",		SUBMIT },
	{ "system",		SYSTEM },
	{ "timeout",		TIMEOUT },
	{ "tls",		TLS },
	{ "to",			TO },
	{ "trust-anchor",	TRUSTANCHOR },
	{ "user",		USER },
	{ "users",		USERS },
	{ "via",		VIA },
};

static int
keyword_cmp(const void *k, const void *e)
{
	return strcmp(k, ((const struct keyword *)e)->name);
}

static int
lgetc(struct parse_state *ps)
{
	if (ps->pos >= ps->len)
		return EOF;
	return (unsigned char)ps->buf[ps->pos++];
}

static void
lungetc(struct parse_state *ps, int c)
{
	if (c != EOF)
		ps->pos--;
}

static int
lex_wordchar(int c)
{
	return c != EOF && c != '\0' &&
	    (isalnum(c) || strchr("-_.:/@+%~*=", c) != NULL);
}

/* Reads the rest of a quoted string into the arena. */
static int
lex_string(struct parse_state *ps)
{
	char	*dst = ps->arena + ps->arenapos;
	size_t	 n = 0;
	int	 c;

	for (;;) {
		if ((c = lgetc(ps)) == EOF || c == '\n') {
			config_parse_fail(ps, "unterminated string");
			return ERROR;
		}
		if (c == '"')
			break;
		if (c == '\\' && ((c = lgetc(ps)) != '"' && c != '\\')) {
			config_parse_fail(ps, "invalid escape in string");
			return ERROR;
		}
		if (c < 0x20 || c == 0x7f) {
			config_parse_fail(ps, "control character in string");
			return ERROR;
		}
		if (n == PARSE_TOKEN_MAX_BYTES) {
			config_parse_fail(ps, "string too long");
			return ERROR;
		}
		dst[n++] = (char)c;
	}
	dst[n] = '\0';
	ps->arenapos += n + 1;
	ps->toktext = yylval.string = dst;
	return STRING;
}

/* A bare word: a keyword, a number when all digits, else a string. */
static int
lex_word(struct parse_state *ps, int c)
{
	const struct keyword	*kw;
	char			*dst = ps->arena + ps->arenapos;
	size_t			 n = 0, i;
	uint64_t		 v = 0;

	do {
		if (n == PARSE_TOKEN_MAX_BYTES) {
			config_parse_fail(ps, "word too long");
			return ERROR;
		}
		dst[n++] = (char)c;
	} while (lex_wordchar(c = lgetc(ps)));
	lungetc(ps, c);
	dst[n] = '\0';
	ps->arenapos += n + 1;
	ps->toktext = yylval.string = dst;
	if ((kw = bsearch(dst, keywords, sizeof(keywords) / sizeof(keywords[0]),
	    sizeof(keywords[0]), keyword_cmp)) != NULL)
		return kw->token;
	for (i = 0; i < n && isdigit((unsigned char)dst[i]); i++) {
		if (v > (UINT64_MAX - (uint64_t)(dst[i] - '0')) / 10) {
			config_parse_fail(ps, "number \"%s\" too large", dst);
			return ERROR;
		}
		v = v * 10 + (uint64_t)(dst[i] - '0');
	}
	if (i < n)
		return STRING;
	yylval.number = v;
	return NUMBER;
}

/*
 * The arena holds every token's text with its NUL: a word of n bytes
 * takes n + 1 from at least n of input, a string less than its quoted
 * form, so 2 * len + 1 bytes always suffice.
 */
int
config_lex(struct parse_state *ps)
{
	int	 c;

	ps->toktext = NULL;
	while ((c = lgetc(ps)) == ' ' || c == '\t' || c == '\r')
		;
	if (c == '#')
		while ((c = lgetc(ps)) != '\n' && c != EOF)
			;
	ps->toklineno = ps->lineno;
	ps->tokfirst = ps->atbol;
	ps->atbol = 0;
	if (c == EOF) {
		/* A last line without its newline still ends a statement. */
		if (ps->lastnl)
			return 0;
		ps->lastnl = 1;
		return '\n';
	}
	ps->lastnl = (c == '\n');
	if (c == '\n') {
		ps->lineno++;
		ps->atbol = 1;
		return '\n';
	}
	if (c == '"')
		return lex_string(ps);
	if (lex_wordchar(c))
		return lex_word(ps, c);
	if (isprint(c))
		config_parse_fail(ps, "unexpected character '%c'", c);
	else
		config_parse_fail(ps, "unexpected byte 0x%02x", c);
	return ERROR;
}

/* The line a byte offset falls on. */
static int
parse_line_of(const char *buf, size_t off)
{
	const char	*p, *end = buf + off;
	int		 line = 1;

	for (p = buf; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
		line++;
	return line;
}

int
config_lex_check(struct parse_state *ps)
{
	const char	*nul, *buf = ps->buf;
	size_t		 len = ps->len;

	if (len > CONFIG_FILE_MAX_BYTES) {
		config_parse_fail_at(ps, parse_line_of(buf,
		    CONFIG_FILE_MAX_BYTES), "file larger than %d bytes",
		    CONFIG_FILE_MAX_BYTES);
		return -1;
	}
	if ((nul = memchr(buf, '\0', len)) != NULL) {
		config_parse_fail_at(ps, parse_line_of(buf,
		    (size_t)(nul - buf)), "NUL byte in file");
		return -1;
	}
	return 0;
}

