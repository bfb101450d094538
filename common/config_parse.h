/*
 * What the configuration's parser (parse.y) and its lexer
 * (config_lex.c) share: the state of one config_parse() call.  Private
 * to the two.
 */
#ifndef SALLYPORT_CONFIG_PARSE_H
#define SALLYPORT_CONFIG_PARSE_H

#include <sys/types.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

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

/*
 * The next token, its value in yacc's yylval (parse.h); 0 at the end,
 * ERROR (with the error reported) on bad input.
 */
int	config_lex(struct parse_state *);
/* Refuses an input too large or with a NUL byte, at its line.  0/-1. */
int	config_lex_check(struct parse_state *);
/* Reports the first error, at the line of the last token. */
void	config_parse_fail(struct parse_state *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	config_parse_fail_at(struct parse_state *, int, const char *, ...)
	    __attribute__((format(printf, 3, 4)));

#endif
