/*
 * The grammar of sallyport.conf(5) and its lexer.  One statement per
 * line; '#' starts a comment; a string is "quoted" (with \" and \\ as
 * the only escapes) or a bare word; a bare word of digits is a number.
 *
 * The parser is not reentrant (yacc's yylval is global), but it keeps
 * no state between calls: config_parse() sets up everything it needs on
 * its own stack and in one arena that it frees before returning, so it
 * may be called any number of times in one process.  The first error
 * ends the parse and is reported as "NAME:LINE: message".
 */
%{
#include <sys/types.h>
#include <limits.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "config_int.h"
#include "sp_limits.h"

/* A word or string longer than this is refused, so that a path fits. */
#define PARSE_TOKEN_MAX_BYTES	(PATH_MAX - 1)
/* Distinct statements that may appear once ("hostname", "user auth"). */
#define PARSE_ONCE_MAX		96
#define PARSE_ONCE_KEY_BYTES	48
#define PARSE_MSG_BYTES		512

struct parse_state {
	const char	*name;
	const char	*buf;
	size_t		 len;
	size_t		 pos;
	int		 lineno;	/* of the next character */
	int		 toklineno;	/* of the last token */
	int		 atbol;		/* the next token starts a line */
	int		 tokfirst;	/* the last token started a line */
	int		 lastnl;	/* the last token was '\n' */
	const char	*toktext;	/* the last word or string, or NULL */

	/* Token text: never more than twice the input (see yylex). */
	char		*arena;
	size_t		 arenapos;

	struct config	*conf;
	char		*err;
	size_t		 errlen;
	int		 failed;
	char		 msg[PARSE_MSG_BYTES];

	char		 once[PARSE_ONCE_MAX][PARSE_ONCE_KEY_BYTES];
	size_t		 nonce;

	/* The queue statement being read. */
	uint32_t	 q_retry;
	uint32_t	 q_max;
	uint32_t	 q_expire;
	int64_t		 q_delay;	/* -1: not given */
	unsigned int	 q_seen;

	/* The "relay to" statement being read. */
	struct relay_route route;
	unsigned int	 r_seen;
	int		 auth_line;	/* of the first "auth LABEL" */
	char		 auth_label[CONFIG_NAME_MAX];
};

#define Q_RETRY		0x1
#define Q_MAXRETRY	0x2
#define Q_EXPIRE	0x4
#define Q_DELAY		0x8

#define R_VIA		0x01
#define R_PORT		0x02
#define R_SMTPS		0x04
#define R_TLS		0x08
#define R_CA		0x10
#define R_AUTH		0x20
#define R_HELO		0x40
#define R_SOURCE	0x80

static struct parse_state	*ps;

static int	 yylex(void);
static void	 yyerror(const char *);
static void	 parse_fail(const char *, ...)
		    __attribute__((format(printf, 1, 2)));
static int	 parse_once(const char *, const char *);
static int	 parse_qopt(unsigned int, const char *);
static int	 parse_ropt(unsigned int, const char *);

/* The setters of config_int.h report into ps->msg. */
#define ERRBUF		ps->msg, sizeof(ps->msg)
#define CHECK(x)	do {						\
	if ((x) == -1) {						\
		parse_fail("%s", ps->msg);				\
		YYABORT;						\
	}								\
} while (0)
#define ONCE(a, b)	do {						\
	if (parse_once((a), (b)) == -1)					\
		YYABORT;						\
} while (0)
#define ROPT(bit, name)	do {						\
	if (parse_ropt((bit), (name)) == -1)				\
		YYABORT;						\
} while (0)
%}

%union {
	const char	*string;
	uint64_t	 number;
	int64_t		 port;
}

%token	ALIASES AUTH CERT CHROOT DOMAIN ERRORS EXPIRE FROM HOSTNAME KEY
%token	LIMIT LISTEN MAXRETRY MESSAGESIZE NONE ON PKI PORT QUEUE RECEIVED
%token	QUEUEMINFREE
%token	RECIPIENTS RELAY RESOLVER RETRY RUNDIR SPOOL SUBMISSION TIMEOUT
%token	USER USERS ERROR
%token	ADDRLITERAL
%token	FAMILY SYSTEM TRUSTANCHOR
%token	TO VIA TLS CA HELO SOURCE SMTPS SECRETS BACKOFF UPTO DELAYNOTICE
%token	MTASTS
%token	POP3
%token	<string>	STRING
%token	<number>	NUMBER
%type	<string>	role proto tanchor
%type	<number>	time size count notice backoffmax
%type	<port>		port portnum

%%

grammar		: /* empty */
		| grammar '\n'
		| grammar main '\n'
		;

main		: HOSTNAME STRING {
			ONCE("hostname", NULL);
			CHECK(config_set_hostname(ps->conf, $2, ERRBUF));
		}
		| RUNDIR STRING {
			ONCE("rundir", NULL);
			CHECK(config_set_path(ps->conf->rundir,
			    sizeof(ps->conf->rundir), $2, ERRBUF));
		}
		| SPOOL STRING {
			ONCE("spool", NULL);
			CHECK(config_set_path(ps->conf->spooldir,
			    sizeof(ps->conf->spooldir), $2, ERRBUF));
		}
		| CHROOT STRING {
			ONCE("chroot", NULL);
			CHECK(config_set_path(ps->conf->emptydir,
			    sizeof(ps->conf->emptydir), $2, ERRBUF));
		}
		| USERS STRING {
			ONCE("users", NULL);
			CHECK(config_set_path(ps->conf->users_file,
			    sizeof(ps->conf->users_file), $2, ERRBUF));
		}
		| ALIASES STRING {
			ONCE("aliases", NULL);
			CHECK(config_set_path(ps->conf->aliases_file,
			    sizeof(ps->conf->aliases_file), $2, ERRBUF));
		}
		| RESOLVER NONE {
			ONCE("resolver", NULL);
			CHECK(config_set_resolver(ps->conf, NULL, ERRBUF));
		}
		| RESOLVER SYSTEM tanchor {
			ONCE("resolver", NULL);
			ps->conf->resolver_system = 1;
			CHECK(config_set_resolver_ta(ps->conf, $3, ERRBUF));
		}
		| RESOLVER STRING port tanchor {
			ONCE("resolver", NULL);
			CHECK(config_set_resolver(ps->conf, $2, ERRBUF));
			ps->conf->resolver_port = $3 == -1 ? 0 : (uint16_t)$3;
			CHECK(config_set_resolver_ta(ps->conf, $4, ERRBUF));
		}
		| DOMAIN STRING {
			CHECK(config_add_domain(ps->conf, $2, ERRBUF));
		}
		| USER role STRING {
			CHECK(config_set_user(ps->conf, $2, $3, ERRBUF));
			ONCE("user", $2);
		}
		| LISTEN proto ON STRING port {
			CHECK(config_add_listener(ps->conf, $2, $4, $5,
			    ERRBUF));
		}
		| PKI STRING CERT STRING KEY STRING {
			CHECK(config_add_pki(ps->conf, $2, $4, $6, ERRBUF));
		}
		| QUEUE {
			ONCE("queue", NULL);
			ps->q_retry = ps->conf->retry_min_secs;
			ps->q_max = ps->conf->retry_max_secs;
			ps->q_expire = ps->conf->expire_secs;
			ps->q_delay = -1;
			ps->q_seen = 0;
		} queueopts {
			CHECK(config_set_queue(ps->conf, ps->q_retry,
			    ps->q_max, ps->q_expire, ps->q_delay, ERRBUF));
		}
		| LIMIT MESSAGESIZE size {
			ONCE("limit message-size", NULL);
			ps->conf->max_message_bytes = $3;
		}
		| LIMIT QUEUEMINFREE size {
			ONCE("limit queue-min-free", NULL);
			ps->conf->queue_min_free_bytes = $3;
		}
		| LIMIT RECIPIENTS count {
			ONCE("limit recipients", NULL);
			ps->conf->max_rcpts = (uint32_t)$3;
		}
		| LIMIT ERRORS count {
			ONCE("limit errors", NULL);
			ps->conf->max_errors = (uint32_t)$3;
		}
		| policy
		| pop3
		| relay
		;

/* The relay's routes, backoff and credentials: common/config_relay.c. */
relay		: RELAY TO STRING {
			memset(&ps->route, 0, sizeof(ps->route));
			ps->r_seen = 0;
			if (strcasecmp($3, "default") != 0)
				CHECK(config_domain_copy(ps->route.domain, $3,
				    "relay domain", ERRBUF));
		} routeopts {
			CHECK(config_add_route(ps->conf, &ps->route, ERRBUF));
		}
		| RELAY BACKOFF time backoffmax {
			ONCE("relay backoff", NULL);
			CHECK(config_set_backoff(ps->conf, (uint32_t)$3,
			    (uint32_t)$4, ERRBUF));
		}
		| RELAY MTASTS NONE {
			ONCE("relay mta-sts", NULL);
			ps->conf->relay_sts = 0;
		}
		| RELAY MTASTS SYSTEM {
			ONCE("relay mta-sts", NULL);
			ps->conf->relay_sts = 1;
		}
		| RELAY MTASTS CA STRING {
			ONCE("relay mta-sts", NULL);
			ps->conf->relay_sts = 1;
			CHECK(config_set_path(ps->conf->relay_sts_ca,
			    sizeof(ps->conf->relay_sts_ca), $4, ERRBUF));
		}
		| SECRETS STRING {
			ONCE("secrets", NULL);
			CHECK(config_set_path(ps->conf->secrets_file,
			    sizeof(ps->conf->secrets_file), $2, ERRBUF));
		}
		| SECRETS NONE {
			ONCE("secrets", NULL);
			CHECK(config_set_path(ps->conf->secrets_file,
			    sizeof(ps->conf->secrets_file), NULL, ERRBUF));
		}
		;

backoffmax	: /* empty */	{ $$ = 0; }
		| UPTO time	{ $$ = $2; }
		;

routeopts	: /* empty */
		| routeopts routeopt
		;

routeopt	: VIA STRING {
			ROPT(R_VIA, "via");
			CHECK(config_route_via(&ps->route, $2, ERRBUF));
		}
		| portnum {
			ROPT(R_PORT, "port");
			ps->route.port = (uint16_t)$1;
		}
		| SMTPS {
			ROPT(R_SMTPS, "smtps");
			ps->route.smtps = 1;
		}
		| TLS NONE {
			ROPT(R_TLS, "tls");
			ps->route.tls = ROUTE_TLS_NONE;
		}
		| TLS STRING {
			ROPT(R_TLS, "tls");
			CHECK(config_route_tls(&ps->route, $2, ERRBUF));
		}
		| CA STRING {
			ROPT(R_CA, "ca");
			CHECK(config_route_opt(&ps->route, "ca", $2, ERRBUF));
		}
		| AUTH STRING {
			ROPT(R_AUTH, "auth");
			CHECK(config_route_opt(&ps->route, "auth", $2,
			    ERRBUF));
			if (ps->auth_line == 0) {
				ps->auth_line = ps->toklineno;
				(void)strlcpy(ps->auth_label, ps->route.auth,
				    sizeof(ps->auth_label));
			}
		}
		| HELO STRING {
			ROPT(R_HELO, "helo");
			CHECK(config_route_opt(&ps->route, "helo", $2,
			    ERRBUF));
		}
		| SOURCE STRING {
			ROPT(R_SOURCE, "source");
			CHECK(config_route_opt(&ps->route, "source", $2,
			    ERRBUF));
		}
		;

/* The SMTP session limits and policy: common/config_policy.c. */
policy		: LIMIT STRING NUMBER {
			CHECK(config_set_limit(ps->conf, $2, $3, ERRBUF));
			ONCE("limit", $2);
		}
		| TIMEOUT STRING time {
			CHECK(config_set_timeout(ps->conf, $2, (uint32_t)$3,
			    ERRBUF));
			ONCE("timeout", $2);
		}
		| RELAY FROM STRING {
			CHECK(config_add_relay(ps->conf, $3, ERRBUF));
		}
		| RELAY FAMILY STRING {
			ONCE("relay family", NULL);
			CHECK(config_set_relay_family(ps->conf, $3, ERRBUF));
		}
		| AUTH STRING {
			CHECK(config_set_switch(ps->conf, "auth", $2, NULL,
			    ERRBUF));
			ONCE("auth", $2);
		}
		| AUTH STRING STRING {
			CHECK(config_set_switch(ps->conf, "auth", $2, $3,
			    ERRBUF));
			ONCE("auth", $2);
		}
		| SUBMISSION STRING STRING {
			CHECK(config_set_switch(ps->conf, "submission", $2,
			    $3, ERRBUF));
			ONCE("submission", $2);
		}
		| RECEIVED STRING STRING {
			CHECK(config_set_switch(ps->conf, "received", $2, $3,
			    ERRBUF));
			ONCE("received", $2);
		}
		| ADDRLITERAL STRING STRING {
			CHECK(config_set_switch(ps->conf, "address-literal",
			    $2, $3, ERRBUF));
			ONCE("address-literal", $2);
		}
		;

/* pop3d's settings (RFC 2449 LOGIN-DELAY, EXPIRE): config_pop3.c. */
pop3		: POP3 STRING time {
			ONCE("pop3", $2);
			CHECK(config_set_pop3_delay(ps->conf, $2,
			    (uint32_t)$3, ERRBUF));
		}
		| POP3 EXPIRE NUMBER {
			ONCE("pop3", "expire");
			CHECK(config_set_pop3_expire(ps->conf, NULL, $3,
			    ERRBUF));
		}
		| POP3 EXPIRE STRING {
			ONCE("pop3", "expire");
			CHECK(config_set_pop3_expire(ps->conf, $3, 0,
			    ERRBUF));
		}
		;

/* Role and protocol names that are also keywords of their own. */
role		: STRING	{ $$ = $1; }
		| QUEUE		{ $$ = "queue"; }
		| AUTH		{ $$ = "auth"; }
		| RELAY		{ $$ = "relay"; }
		| POP3		{ $$ = "pop3"; }
		;

proto		: STRING	{ $$ = $1; }
		| SUBMISSION	{ $$ = "submission"; }
		| SMTPS		{ $$ = "smtps"; }
		| POP3		{ $$ = "pop3"; }
		;

tanchor		: /* empty */		{ $$ = NULL; }
		| TRUSTANCHOR STRING	{ $$ = $2; }
		;

port		: /* empty */	{ $$ = -1; }
		| portnum	{ $$ = $1; }
		;

portnum		: PORT NUMBER {
			if ($2 < 1 || $2 > UINT16_MAX) {
				parse_fail("port %llu out of range",
				    (unsigned long long)$2);
				YYABORT;
			}
			$$ = (int64_t)$2;
		}
		;

queueopts	: queueopt
		| queueopts queueopt
		;

queueopt	: RETRY time {
			if (parse_qopt(Q_RETRY, "retry") == -1)
				YYABORT;
			ps->q_retry = (uint32_t)$2;
		}
		| MAXRETRY time {
			if (parse_qopt(Q_MAXRETRY, "max-retry") == -1)
				YYABORT;
			ps->q_max = (uint32_t)$2;
		}
		| EXPIRE time {
			if (parse_qopt(Q_EXPIRE, "expire") == -1)
				YYABORT;
			ps->q_expire = (uint32_t)$2;
		}
		| DELAYNOTICE notice {
			if (parse_qopt(Q_DELAY, "delay-notice") == -1)
				YYABORT;
			ps->q_delay = (int64_t)$2;
		}
		;

/* A time, or 0 for none. */
notice		: NUMBER {
			if ($1 > UINT32_MAX) {
				parse_fail("invalid time \"%llu\"",
				    (unsigned long long)$1);
				YYABORT;
			}
			$$ = $1;
		}
		| STRING {
			uint32_t	 secs;

			if (config_parse_time($1, &secs) == -1) {
				parse_fail("invalid time \"%s\"", $1);
				YYABORT;
			}
			$$ = secs;
		}
		;

time		: NUMBER {
			if ($1 < 1 || $1 > UINT32_MAX) {
				parse_fail("invalid time \"%llu\"",
				    (unsigned long long)$1);
				YYABORT;
			}
			$$ = $1;
		}
		| STRING {
			uint32_t	 secs;

			if (config_parse_time($1, &secs) == -1) {
				parse_fail("invalid time \"%s\"", $1);
				YYABORT;
			}
			$$ = secs;
		}
		;

size		: NUMBER {
			if ($1 < 1 || $1 > INT64_MAX) {
				parse_fail("invalid size \"%llu\"",
				    (unsigned long long)$1);
				YYABORT;
			}
			$$ = $1;
		}
		| STRING {
			if (config_parse_size($1, &$$) == -1) {
				parse_fail("invalid size \"%s\"", $1);
				YYABORT;
			}
		}
		;

count		: NUMBER {
			if ($1 < 1 || $1 > UINT32_MAX) {
				parse_fail("invalid count \"%llu\"",
				    (unsigned long long)$1);
				YYABORT;
			}
			$$ = $1;
		}
		;

%%

static void
parse_vfail(int lineno, const char *fmt, va_list ap)
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

/* Reports the first error, at the line of the last token. */
static void
parse_fail(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	parse_vfail(ps->toklineno, fmt, ap);
	va_end(ap);
}

static void
parse_fail_at(int lineno, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	parse_vfail(lineno, fmt, ap);
	va_end(ap);
}

/*
 * yacc's own messages.  A token that cannot start a statement is named
 * as an unknown statement; elsewhere the token is shown.
 */
static void
yyerror(const char *msg)
{
	if (strcmp(msg, "syntax error") != 0)
		parse_fail("%s", msg);
	else if (ps->toktext == NULL)
		parse_fail("syntax error at end of line");
	else if (ps->tokfirst)
		parse_fail("unknown statement \"%s\"", ps->toktext);
	else
		parse_fail("syntax error at \"%s\"", ps->toktext);
}

/* Refuses a second statement of a kind that is allowed once. */
static int
parse_once(const char *what, const char *sub)
{
	char	 key[PARSE_ONCE_KEY_BYTES];
	size_t	 i;
	int	 n;

	n = snprintf(key, sizeof(key), "%s%s%s", what, sub ? " " : "",
	    sub ? sub : "");
	if (n < 0 || (size_t)n >= sizeof(key) || ps->nonce >= PARSE_ONCE_MAX) {
		parse_fail("statement key too long");
		return -1;
	}
	for (i = 0; i < ps->nonce; i++)
		if (strcmp(ps->once[i], key) == 0) {
			parse_fail("%s given twice", key);
			return -1;
		}
	(void)strlcpy(ps->once[ps->nonce++], key, PARSE_ONCE_KEY_BYTES);
	return 0;
}

static int
parse_qopt(unsigned int bit, const char *what)
{
	if (ps->q_seen & bit) {
		parse_fail("queue %s given twice", what);
		return -1;
	}
	ps->q_seen |= bit;
	return 0;
}

static int
parse_ropt(unsigned int bit, const char *what)
{
	if (ps->r_seen & bit) {
		parse_fail("relay to %s: %s given twice",
		    ps->route.domain[0] != '\0' ? ps->route.domain : "default",
		    what);
		return -1;
	}
	ps->r_seen |= bit;
	return 0;
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
lgetc(void)
{
	if (ps->pos >= ps->len)
		return EOF;
	return (unsigned char)ps->buf[ps->pos++];
}

static void
lungetc(int c)
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
lex_string(void)
{
	char	*dst = ps->arena + ps->arenapos;
	size_t	 n = 0;
	int	 c;

	for (;;) {
		if ((c = lgetc()) == EOF || c == '\n') {
			parse_fail("unterminated string");
			return ERROR;
		}
		if (c == '"')
			break;
		if (c == '\\' && ((c = lgetc()) != '"' && c != '\\')) {
			parse_fail("invalid escape in string");
			return ERROR;
		}
		if (c < 0x20 || c == 0x7f) {
			parse_fail("control character in string");
			return ERROR;
		}
		if (n == PARSE_TOKEN_MAX_BYTES) {
			parse_fail("string too long");
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
lex_word(int c)
{
	const struct keyword	*kw;
	char			*dst = ps->arena + ps->arenapos;
	size_t			 n = 0, i;
	uint64_t		 v = 0;

	do {
		if (n == PARSE_TOKEN_MAX_BYTES) {
			parse_fail("word too long");
			return ERROR;
		}
		dst[n++] = (char)c;
	} while (lex_wordchar(c = lgetc()));
	lungetc(c);
	dst[n] = '\0';
	ps->arenapos += n + 1;
	ps->toktext = yylval.string = dst;
	if ((kw = bsearch(dst, keywords, sizeof(keywords) / sizeof(keywords[0]),
	    sizeof(keywords[0]), keyword_cmp)) != NULL)
		return kw->token;
	for (i = 0; i < n && isdigit((unsigned char)dst[i]); i++) {
		if (v > (UINT64_MAX - (uint64_t)(dst[i] - '0')) / 10) {
			parse_fail("number \"%s\" too large", dst);
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
static int
yylex(void)
{
	int	 c;

	ps->toktext = NULL;
	while ((c = lgetc()) == ' ' || c == '\t' || c == '\r')
		;
	if (c == '#')
		while ((c = lgetc()) != '\n' && c != EOF)
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
		return lex_string();
	if (lex_wordchar(c))
		return lex_word(c);
	if (isprint(c))
		parse_fail("unexpected character '%c'", c);
	else
		parse_fail("unexpected byte 0x%02x", c);
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

static int
parse_check_input(const char *buf, size_t len)
{
	const char	*nul;

	if (len > CONFIG_FILE_MAX_BYTES) {
		parse_fail_at(parse_line_of(buf, CONFIG_FILE_MAX_BYTES),
		    "file larger than %d bytes", CONFIG_FILE_MAX_BYTES);
		return -1;
	}
	if ((nul = memchr(buf, '\0', len)) != NULL) {
		parse_fail_at(parse_line_of(buf, (size_t)(nul - buf)),
		    "NUL byte in file");
		return -1;
	}
	return 0;
}

struct config *
config_parse(const char *name, const char *buf, size_t len, char *err,
    size_t errlen)
{
	struct parse_state	 st;
	struct config		*conf = NULL;

	if (errlen > 0)
		err[0] = '\0';
	memset(&st, 0, sizeof(st));
	st.name = name;
	st.buf = buf;
	st.len = len;
	st.lineno = st.toklineno = 1;
	st.atbol = st.lastnl = 1;
	st.err = err;
	st.errlen = errlen;
	ps = &st;
	if (parse_check_input(buf, len) == -1)
		goto done;
	if ((st.arena = malloc(2 * len + 1)) == NULL ||
	    (st.conf = config_new()) == NULL) {
		parse_fail("out of memory");
		goto done;
	}
	if (yyparse() != 0 || st.failed)
		goto done;
	if (st.auth_line != 0 && st.conf->secrets_file[0] == '\0') {
		parse_fail_at(st.auth_line, "auth \"%s\" needs a \"secrets\" "
		    "file", st.auth_label);
		goto done;
	}
	if (config_finish(st.conf, ERRBUF) == -1) {
		parse_fail("%s", st.msg);
		goto done;
	}
	conf = st.conf;
	st.conf = NULL;
done:
	if (conf == NULL && !st.failed)
		parse_fail("syntax error");
	config_free(st.conf);
	free(st.arena);
	ps = NULL;
	return conf;
}
