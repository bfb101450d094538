/*
 * The grammar of sallyport.conf(5); its lexer and error reporting are
 * config_lex.c, the state they share config_parse.h.  One statement per
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
#include "config_parse.h"
#include "sp_limits.h"

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

static void	 yyerror(const char *);
#define yylex()			config_lex(ps)
#define parse_fail(...)		config_parse_fail(ps, __VA_ARGS__)
#define parse_fail_at(...)	config_parse_fail_at(ps, __VA_ARGS__)
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
%token	SUBMIT
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
		| SUBMIT STRING {
			CHECK(config_add_trusted(ps->conf, $2, NULL, ERRBUF));
		} trusted
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

/* "submit trusted USER...": one or more users. */
trusted		: STRING {
			CHECK(config_add_trusted(ps->conf, "trusted", $1,
			    ERRBUF));
		}
		| trusted STRING {
			CHECK(config_add_trusted(ps->conf, "trusted", $2,
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
	if (config_lex_check(ps) == -1)
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
