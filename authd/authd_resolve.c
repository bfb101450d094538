/*
 * Recipient resolution: an address to the mailboxes and remote
 * addresses it stands for (doc/INTERNALS.md, Tables).  Pure: the tables
 * and the local-domain test come in a struct auth_resolver, so that it
 * is unit-tested without sockets or files.
 *
 * A local part is compared without case, quoting undone, with its
 * "+detail" dropped; aliases are looked up before users.  An alias is
 * expanded once per request however often it is named (a diamond is
 * not a loop); an alias met again while it is being expanded is a loop,
 * except for the aliases(5) idiom "alice: alice, bob", where the name is
 * also a user's and stands for that user's mailbox.
 *
 * Failures caused by the tables (a loop, nesting past ALIAS_DEPTH_MAX,
 * a name that is nobody, more than ALIAS_TARGETS_MAX targets) are
 * RESULT_TEMPFAIL: the mail waits, in our queue or at the sender, until
 * the admin mends the table, instead of bouncing for a typo.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "authd.h"
#include "mailaddr.h"

#define RESOLVE_POSTMASTER	"postmaster"

static void	authd_resolve_name(const struct auth_resolver *,
		    const char *, int, int, struct auth_expand *);

static void
authd_resolve_fail(struct auth_expand *e, enum result_code result,
    const char *fmt, const char *name)
{
	if (e->result != RESULT_OK)
		return;
	e->result = result;
	(void)snprintf(e->why, sizeof(e->why), fmt, name);
}

static void
authd_resolve_add(struct auth_expand *e, enum target_kind kind,
    const char *value)
{
	size_t	 i;

	if (e->result != RESULT_OK)
		return;
	for (i = 0; i < e->count; i++)
		if (e->targets[i].kind == kind &&
		    strcmp(e->targets[i].value, value) == 0)
			return;
	if (e->count >= ALIAS_TARGETS_MAX) {
		authd_resolve_fail(e, RESULT_TEMPFAIL,
		    "more than %s targets", "ALIAS_TARGETS_MAX");
		return;
	}
	e->targets[e->count].kind = kind;
	if (strlcpy(e->targets[e->count].value, value,
	    sizeof(e->targets[0].value)) >= sizeof(e->targets[0].value)) {
		authd_resolve_fail(e, RESULT_TEMPFAIL, "target too long: %s",
		    value);
		return;
	}
	e->count++;
}

/* The index of al in e->seen, or -1. */
static int
authd_resolve_seen(const struct auth_expand *e, const struct auth_alias *al)
{
	size_t	 i;

	for (i = 0; i < e->nseen; i++)
		if (e->seen[i] == al)
			return (int)i;
	return -1;
}

static void
authd_resolve_alias(const struct auth_resolver *r,
    const struct auth_alias *al, int depth, struct auth_expand *e)
{
	size_t	 i, slot;

	if (e->nseen >= ALIAS_TARGETS_MAX) {
		authd_resolve_fail(e, RESULT_TEMPFAIL,
		    "more than %s aliases", "ALIAS_TARGETS_MAX");
		return;
	}
	slot = e->nseen++;
	e->seen[slot] = al;
	e->done[slot] = 0;
	for (i = 0; i < al->ntargets && e->result == RESULT_OK; i++)
		authd_resolve_name(r, al->targets[i].value,
		    al->targets[i].kind, depth + 1, e);
	e->done[slot] = 1;
}

/*
 * The key of a local part: quoting undone, "+detail" dropped, lower
 * case.  -1 when nothing is left or it does not fit.
 */
static int
authd_resolve_key(const struct mailaddr *a, char *key, size_t keylen)
{
	char	*plus;

	if (mailaddr_local_unquote(a, key, keylen) == -1)
		return -1;
	if ((plus = strchr(key, '+')) != NULL)
		*plus = '\0';
	authd_table_lower(key);
	return *key == '\0' ? -1 : 0;
}

/* A target that is an address: ours is resolved again, others kept. */
static void
authd_resolve_addr(const struct auth_resolver *r, const char *s, int depth,
    struct auth_expand *e)
{
	struct mailaddr	 a;
	char		 key[SMTP_LOCALPART_MAX_BYTES + 1];

	if (mailaddr_parse(s, &a, 1, NULL) == -1) {
		authd_resolve_fail(e, RESULT_TEMPFAIL, "bad address %s", s);
		return;
	}
	if (!r->is_local(a.domain, r->arg)) {
		authd_resolve_add(e, TARGET_REMOTE, s);
		return;
	}
	if (authd_resolve_key(&a, key, sizeof(key)) == -1) {
		authd_resolve_fail(e, RESULT_TEMPFAIL, "no such user: %s", s);
		return;
	}
	authd_resolve_name(r, key, ALIAS_T_NAME, depth, e);
}

/*
 * One name or address asked for (depth 0) or met inside an alias.  At
 * most ALIAS_DEPTH_MAX aliases are expanded one inside the other.
 */
static void
authd_resolve_name(const struct auth_resolver *r, const char *name,
    int kind, int depth, struct auth_expand *e)
{
	const struct auth_alias	*al = NULL;
	int			 seen;

	if (kind == ALIAS_T_ADDR) {
		authd_resolve_addr(r, name, depth, e);
		return;
	}
	if (kind == ALIAS_T_NAME)
		al = authd_aliases_find(r->aliases, name);
	if (al != NULL && (seen = authd_resolve_seen(e, al)) != -1) {
		if (e->done[seen])
			return;
		if (authd_users_find(r->users, name) == NULL)
			authd_resolve_fail(e, RESULT_TEMPFAIL,
			    "alias loop at %s", name);
		else
			authd_resolve_add(e, TARGET_MAILBOX, name);
		return;
	}
	if (al != NULL && depth >= ALIAS_DEPTH_MAX)
		authd_resolve_fail(e, RESULT_TEMPFAIL,
		    "aliases nested too deep at %s", name);
	else if (al != NULL)
		authd_resolve_alias(r, al, depth, e);
	else if (authd_users_find(r->users, name) != NULL)
		authd_resolve_add(e, TARGET_MAILBOX, name);
	else if (depth > 0)
		authd_resolve_fail(e, RESULT_TEMPFAIL,
		    "alias target %s is no user or alias", name);
	else
		authd_resolve_fail(e, RESULT_PERMFAIL, "no such user %s",
		    name);
}

static void
authd_resolve_reset(struct auth_expand *e)
{
	e->result = RESULT_OK;
	e->why[0] = '\0';
	e->count = 0;
	e->nseen = 0;
}

/*
 * Parses a recipient into a, accepting the bare "postmaster" of RFC
 * 5321 4.1.1.3 as postmaster in a local domain (*bare set).
 */
static int
authd_resolve_parse(const char *address, struct mailaddr *a, int *bare)
{
	*bare = 0;
	if (strcasecmp(address, RESOLVE_POSTMASTER) == 0) {
		*bare = 1;
		memset(a, 0, sizeof(*a));
		(void)strlcpy(a->local, RESOLVE_POSTMASTER, sizeof(a->local));
		return 0;
	}
	return mailaddr_parse(address, a, 1, NULL);
}

void
authd_resolve_expand(const struct auth_resolver *r, const char *address,
    struct auth_expand *e)
{
	struct mailaddr	 a;
	char		 key[SMTP_LOCALPART_MAX_BYTES + 1];
	char		 buf[AUTHD_TARGET_MAX_BYTES + 1];
	int		 bare;

	authd_resolve_reset(e);
	if (authd_resolve_parse(address, &a, &bare) == -1) {
		authd_resolve_fail(e, RESULT_PERMFAIL, "%s", "bad address");
		return;
	}
	if (!bare && !r->is_local(a.domain, r->arg)) {
		if (mailaddr_format(&a, buf, sizeof(buf)) == -1)
			authd_resolve_fail(e, RESULT_PERMFAIL, "%s",
			    "address too long");
		else
			authd_resolve_add(e, TARGET_REMOTE, buf);
		return;
	}
	if (authd_resolve_key(&a, key, sizeof(key)) == -1) {
		authd_resolve_fail(e, RESULT_PERMFAIL, "%s", "no such user");
		return;
	}
	if (strcmp(key, RESOLVE_POSTMASTER) == 0 &&
	    authd_aliases_find(r->aliases, key) == NULL &&
	    authd_users_find(r->users, key) == NULL) {
		authd_resolve_fail(e, RESULT_TEMPFAIL, "%s",
		    "no postmaster alias or user: add one to the aliases");
		return;
	}
	authd_resolve_name(r, key, ALIAS_T_NAME, 0, e);
	if (e->result == RESULT_OK && e->count == 0)
		authd_resolve_fail(e, RESULT_TEMPFAIL, "%s", "no targets");
}

enum rcpt_status
authd_resolve_check(const struct auth_resolver *r, const char *address)
{
	struct auth_expand	*e;
	struct mailaddr		 a;
	enum rcpt_status	 st;
	char			 key[SMTP_LOCALPART_MAX_BYTES + 1];
	int			 bare;

	if (authd_resolve_parse(address, &a, &bare) == -1)
		return RCPT_NOUSER;
	if (!bare && !r->is_local(a.domain, r->arg))
		return RCPT_NONLOCAL;
	if (authd_resolve_key(&a, key, sizeof(key)) == -1)
		return RCPT_NOUSER;
	if (strcmp(key, RESOLVE_POSTMASTER) == 0)
		return RCPT_LOCAL;
	if ((e = malloc(sizeof(*e))) == NULL)
		return RCPT_TEMPFAIL;
	authd_resolve_expand(r, address, e);
	if (e->result == RESULT_OK)
		st = RCPT_LOCAL;
	else if (e->result == RESULT_PERMFAIL)
		st = RCPT_NOUSER;
	else
		st = RCPT_TEMPFAIL;
	free(e);
	return st;
}

int
authd_resolve_validate(const struct auth_resolver *r, char *err,
    size_t errlen)
{
	struct auth_alias	*al;
	struct auth_expand	*e;
	int			 rv = 0;

	if ((e = malloc(sizeof(*e))) == NULL) {
		(void)snprintf(err, errlen, "%s: out of memory",
		    r->aliases->file);
		return -1;
	}
	RB_FOREACH(al, auth_alias_tree,
	    (struct auth_alias_tree *)(uintptr_t)&r->aliases->tree) {
		authd_resolve_reset(e);
		authd_resolve_name(r, al->name, ALIAS_T_NAME, 0, e);
		if (e->result != RESULT_OK) {
			(void)snprintf(err, errlen, "%s:%zu: alias %s: %s",
			    r->aliases->file, al->line, al->name, e->why);
			rv = -1;
			break;
		}
	}
	free(e);
	return rv;
}

int
authd_resolve_login(const struct auth_resolver *r, const char *login,
    char *dst, size_t dstlen)
{
	const char	*at;
	char		 dom[SMTP_DOMAIN_MAX_BYTES + 1];
	size_t		 len;

	if ((at = strrchr(login, '@')) != NULL &&
	    mailaddr_valid_domain(at + 1, 0) == 0) {
		(void)strlcpy(dom, at + 1, sizeof(dom));
		authd_table_lower(dom);
		if (r->is_local(dom, r->arg)) {
			len = at - login;
			if (len >= dstlen)
				return -1;
			memcpy(dst, login, len);
			dst[len] = '\0';
			authd_table_lower(dst);
			return 0;
		}
	}
	if (strlcpy(dst, login, dstlen) >= dstlen)
		return -1;
	authd_table_lower(dst);
	return 0;
}
