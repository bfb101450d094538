/*
 * One-time login tokens.  A login engine that checked a password with
 * AUTH_F_TOKEN hands the token to its privileged parent, which redeems
 * it here for the user's uid and home before it forks the mailbox
 * process: the parent then trusts authd, not the engine that parsed the
 * network input.  A token is good once, for AUTH_TOKEN_TTL_SECS, and is
 * compared in constant time.  Runs in authd as _sallyauth.
 */
#include <sys/queue.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authd.h"

struct auth_token {
	TAILQ_ENTRY(auth_token)	 entry;
	uint8_t			 token[AUTH_TOKEN_BYTES];
	char			 user[AUTHD_NAME_MAX_BYTES + 1];
	time_t			 expires;
};

/* In creation order, so also in order of expiry. */
static TAILQ_HEAD(, auth_token)	 tokens = TAILQ_HEAD_INITIALIZER(tokens);
static size_t			 ntokens;

static void
authd_token_remove(struct auth_token *t)
{
	TAILQ_REMOVE(&tokens, t, entry);
	ntokens--;
	explicit_bzero(t, sizeof(*t));
	free(t);
}

static void
authd_token_expire(time_t now)
{
	struct auth_token	*t;

	while ((t = TAILQ_FIRST(&tokens)) != NULL && t->expires <= now)
		authd_token_remove(t);
}

int
authd_token_create(const char *user, time_t now,
    uint8_t token[AUTH_TOKEN_BYTES])
{
	struct auth_token	*t;

	authd_token_expire(now);
	if (ntokens >= AUTHD_TOKENS_MAX)
		return -1;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -1;
	if (strlcpy(t->user, user, sizeof(t->user)) >= sizeof(t->user)) {
		free(t);
		return -1;
	}
	arc4random_buf(t->token, sizeof(t->token));
	t->expires = now + AUTH_TOKEN_TTL_SECS;
	memcpy(token, t->token, sizeof(t->token));
	TAILQ_INSERT_TAIL(&tokens, t, entry);
	ntokens++;
	return 0;
}

/*
 * Every waiting token is compared, whatever matched before, so that the
 * time taken does not depend on where a match is.
 */
int
authd_token_redeem(const uint8_t token[AUTH_TOKEN_BYTES], time_t now,
    char *user, size_t userlen)
{
	struct auth_token	*t, *match = NULL;
	int			 rv = -1;

	authd_token_expire(now);
	TAILQ_FOREACH(t, &tokens, entry)
		if (authd_passwd_equal(t->token, token, sizeof(t->token)))
			match = t;
	if (match == NULL)
		return -1;
	if (strlcpy(user, match->user, userlen) < userlen)
		rv = 0;
	authd_token_remove(match);
	return rv;
}

size_t
authd_token_count(void)
{
	return ntokens;
}

void
authd_token_clear(void)
{
	struct auth_token	*t;

	while ((t = TAILQ_FIRST(&tokens)) != NULL)
		authd_token_remove(t);
}
