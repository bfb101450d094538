/*
 * The aliases table in aliases(5) syntax: "name: target, target, ...",
 * a line starting with a blank continuing the one before, blank lines
 * and '#' comments ignored (as Postfix reads it).  A target is a name
 * (an alias or a user), "\name" (the user, never an alias), or an
 * address.  "|command", "/file" and ":include:" targets are refused:
 * authd holds no privilege to run or write anything for a user, and the
 * delivery agent delivers to Maildirs only.  Any error fails the whole
 * load with "FILE:LINE: reason".  Runs in authd as _sallyauth.
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "authd.h"
#include "mailaddr.h"

/* sendmail's "read the targets from this file", refused here. */
#define ALIASES_INCLUDE		":include:"

RB_GENERATE(auth_alias_tree, auth_alias, entry, authd_aliases_cmp);

int
authd_aliases_cmp(const struct auth_alias *a, const struct auth_alias *b)
{
	return strcmp(a->name, b->name);
}

static void
authd_aliases_entry_free(struct auth_alias *al)
{
	size_t	 i;

	for (i = 0; i < al->ntargets; i++)
		free(al->targets[i].value);
	free(al->targets);
	free(al);
}

void
authd_aliases_free(struct auth_aliases *t)
{
	struct auth_alias	*al;

	if (t == NULL)
		return;
	while ((al = RB_MIN(auth_alias_tree, &t->tree)) != NULL) {
		RB_REMOVE(auth_alias_tree, &t->tree, al);
		authd_aliases_entry_free(al);
	}
	free(t);
}

/*
 * Classifies one target, s (NUL-terminated, blanks trimmed), into
 * kind and value.  Returns NULL or the reason it is refused.
 */
static const char *
authd_aliases_classify(const char *s, enum alias_target_kind *kind,
    char *value, size_t valuelen)
{
	struct mailaddr	 a;
	const char	*errstr;

	if (*s == '|')
		return "command targets are refused";
	if (*s == '/')
		return "file targets are refused";
	if (strncasecmp(s, ALIASES_INCLUDE, strlen(ALIASES_INCLUDE)) == 0)
		return ":include: targets are refused";
	if (*s == '\\') {
		*kind = ALIAS_T_USER;
		if (authd_table_name(s + 1, strlen(s + 1), value) == -1)
			return "bad user name after \\";
		return NULL;
	}
	if (*s == '"' || strchr(s, '@') != NULL) {
		*kind = ALIAS_T_ADDR;
		if (mailaddr_parse(s, &a, 0, &errstr) == -1)
			return errstr;
		if (mailaddr_format(&a, value, valuelen) == -1)
			return "address too long";
		return NULL;
	}
	*kind = ALIAS_T_NAME;
	if (authd_table_name(s, strlen(s), value) == -1)
		return "bad name";
	return NULL;
}

static const char *
authd_aliases_target(struct auth_alias *al, const char *s, size_t len)
{
	struct alias_target	*nt;
	char			 buf[AUTHD_TARGET_MAX_BYTES + 1];
	char			 value[AUTHD_TARGET_MAX_BYTES + 1];
	enum alias_target_kind	 kind;
	const char		*why;
	size_t			 n;

	if (len >= sizeof(buf))
		return "target too long";
	memcpy(buf, s, len);
	buf[len] = '\0';
	if ((why = authd_aliases_classify(buf, &kind, value,
	    sizeof(value))) != NULL)
		return why;
	if (al->ntargets >= ALIAS_TARGETS_MAX)
		return "too many targets";
	/* Grow by doubling: 1, 2, 4, ... up to ALIAS_TARGETS_MAX. */
	if ((al->ntargets & (al->ntargets - 1)) == 0) {
		n = al->ntargets == 0 ? 1 : al->ntargets * 2;
		if ((nt = reallocarray(al->targets, n, sizeof(*nt))) == NULL)
			return "out of memory";
		al->targets = nt;
	}
	if ((al->targets[al->ntargets].value = strdup(value)) == NULL)
		return "out of memory";
	al->targets[al->ntargets++].kind = kind;
	return NULL;
}

/*
 * Splits s at the commas outside double quotes and adds each target;
 * empty items (",,", a trailing comma before a continuation) are
 * skipped.
 */
static const char *
authd_aliases_targets(struct auth_alias *al, const char *s)
{
	const char	*start, *end, *why;
	int		 quoted = 0;

	for (start = s;; s++) {
		if (quoted && *s == '\\' && s[1] != '\0')
			s++;
		else if (*s == '"')
			quoted = !quoted;
		else if (*s == '\0' || (*s == ',' && !quoted)) {
			if (quoted)
				return "unterminated quote";
			start += strspn(start, " \t");
			for (end = s; end > start && (end[-1] == ' ' ||
			    end[-1] == '\t'); end--)
				;
			if (end > start && (why = authd_aliases_target(al,
			    start, end - start)) != NULL)
				return why;
			if (*s == '\0')
				return NULL;
			start = s + 1;
		}
	}
}

/* "name: targets": a new alias, inserted into t as *cur. */
static const char *
authd_aliases_entry(struct auth_aliases *t, char *line, size_t lineno,
    struct auth_alias **cur)
{
	struct auth_alias	*al;
	char			*colon, *end;

	if ((colon = strchr(line, ':')) == NULL)
		return "expected name: targets";
	for (end = colon; end > line && (end[-1] == ' ' || end[-1] == '\t');
	    end--)
		;
	if (t->count >= AUTH_TABLE_ENTRIES_MAX)
		return "too many entries";
	if ((al = calloc(1, sizeof(*al))) == NULL)
		return "out of memory";
	if (authd_table_name(line, end - line, al->name) == -1) {
		free(al);
		return "bad alias name";
	}
	al->line = lineno;
	if (RB_INSERT(auth_alias_tree, &t->tree, al) != NULL) {
		free(al);
		return "duplicate alias";
	}
	t->count++;
	*cur = al;
	return authd_aliases_targets(al, colon + 1);
}

/* The table being read, and the alias that continuation lines add to. */
struct aliases_reader {
	struct auth_aliases	*t;
	struct auth_alias	*cur;
};

static const char *
authd_aliases_line(void *arg, char *line, size_t lineno, size_t *errline)
{
	struct aliases_reader	*rd = arg;

	if (line[0] == ' ' || line[0] == '\t') {
		if (rd->cur == NULL)
			return "continuation line without an alias";
		return authd_aliases_targets(rd->cur, line);
	}
	if (rd->cur != NULL && rd->cur->ntargets == 0) {
		*errline = rd->cur->line;
		return "alias without targets";
	}
	return authd_aliases_entry(rd->t, line, lineno, &rd->cur);
}

struct auth_aliases *
authd_aliases_read(FILE *fp, const char *name, char *err, size_t errlen)
{
	struct aliases_reader	 rd = { NULL, NULL };

	if ((rd.t = calloc(1, sizeof(*rd.t))) == NULL) {
		(void)snprintf(err, errlen, "%s: out of memory", name);
		return NULL;
	}
	RB_INIT(&rd.t->tree);
	(void)strlcpy(rd.t->file, name, sizeof(rd.t->file));
	if (authd_table_read(fp, name, authd_aliases_line, &rd, err,
	    errlen) == -1)
		goto fail;
	/* The last alias is not followed by a line that would check it. */
	if (rd.cur != NULL && rd.cur->ntargets == 0) {
		(void)snprintf(err, errlen, "%s:%zu: alias without targets",
		    name, rd.cur->line);
		goto fail;
	}
	return rd.t;
fail:
	authd_aliases_free(rd.t);
	return NULL;
}

struct auth_aliases *
authd_aliases_load(const char *path, char *err, size_t errlen)
{
	struct auth_aliases	*t;
	FILE			*fp;

	if ((fp = authd_table_open(path, err, errlen)) == NULL)
		return NULL;
	t = authd_aliases_read(fp, path, err, errlen);
	(void)fclose(fp);
	return t;
}

const struct auth_alias *
authd_aliases_find(const struct auth_aliases *t, const char *name)
{
	struct auth_alias	 key;

	if (strlcpy(key.name, name, sizeof(key.name)) >= sizeof(key.name))
		return NULL;
	authd_table_lower(key.name);
	/* RB_FIND does not change the tree but takes no const. */
	return RB_FIND(auth_alias_tree,
	    (struct auth_alias_tree *)(uintptr_t)&t->tree, &key);
}
