/*
 * imapd/imap_token.c: one line of an IMAP command into tokens (RFC 3501
 * 9, RFC 9051 9: tag, command name, atoms, quoted strings, NIL, lists,
 * BODY[...]<o.n> sections, the literal a line announces), then the
 * tokens into the argument tree.  XXX an unquoted astring that starts
 * with a FETCH section keyword and '[' ("Body[1]") becomes a section:
 * clients quote such names.  Runs in the login engine (_sallyimap,
 * chroot, seccomp "imapd-login") and the mailbox process (the mail user,
 * chroot in the mail home, seccomp "imapd-user").  No I/O.
 */
#include <sys/types.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "imap_reader.h"

/* The FETCH attributes that a '[' turns into a section. */
static const char *const tk_section_words[] = {
	"BODY", "BODY.PEEK", "BINARY", "BINARY.PEEK", "BINARY.SIZE", NULL
};

/*
 * ATOM-CHAR (RFC 3501 9), and what the reader takes in an atom besides:
 * list wildcards (LIST patterns), '\' (flags), ']' outside a section
 * (astrings may hold it: ASTRING-CHAR).
 */
static int
tk_atomchar(unsigned char c, int in_section)
{
	if (c <= 0x20 || c >= 0x7f)
		return 0;
	switch (c) {
	case '(':
	case ')':
	case '{':
	case '"':
		return 0;
	case ']':
		return !in_section;
	default:
		return 1;
	}
}

/* A tag: any ASTRING-CHAR but '+' (RFC 3501 9 "tag"). */
static int
tk_tagchar(unsigned char c)
{
	return tk_atomchar(c, 0) && c != '+' && c != '%' && c != '*' &&
	    c != '\\';
}

int
rd_arena_room(struct imap_reader *rd, size_t n, const char **err)
{
	size_t	 want, cap;
	char	*p;

	if (n > IMAP_CMD_MAX_BYTES || rd->alen + n > IMAP_CMD_MAX_BYTES) {
		*err = "command too long";
		return -1;
	}
	want = rd->alen + n;
	if (want <= rd->acap)
		return 0;
	cap = rd->acap < 1024 ? 1024 : rd->acap;
	while (cap < want)
		cap *= 2;
	if (cap > IMAP_CMD_MAX_BYTES)
		cap = IMAP_CMD_MAX_BYTES;
	if ((p = realloc(rd->arena, cap)) == NULL) {
		*err = "out of memory";
		return -1;
	}
	rd->arena = p;
	rd->acap = cap;
	return 0;
}

/* A new token, counted as a child of the innermost open list. */
static struct rd_tok *
rd_newtok(struct imap_reader *rd, int type, const char **err)
{
	struct rd_tok	*t;
	size_t		 cap;

	if (rd->ntok >= IMAP_ARGS_MAX) {
		*err = "too many arguments";
		return NULL;
	}
	if (rd->ntok == rd->tokcap) {
		cap = rd->tokcap == 0 ? 32 : rd->tokcap * 2;
		if (cap > IMAP_ARGS_MAX)
			cap = IMAP_ARGS_MAX;
		if ((t = reallocarray(rd->tok, cap, sizeof(*t))) == NULL) {
			*err = "out of memory";
			return NULL;
		}
		rd->tok = t;
		rd->tokcap = cap;
	}
	t = &rd->tok[rd->ntok++];
	memset(t, 0, sizeof(*t));
	t->type = type;
	if (type == TK_CLOSE)
		return t;
	if (rd->depth > 0)
		rd->tok[rd->stack[rd->depth - 1]].nchild++;
	else
		rd->ntop++;
	return t;
}

struct rd_tok *
rd_push(struct imap_reader *rd, int type, const char *s, size_t len,
    const char **err)
{
	struct rd_tok	*t;

	if (rd_arena_room(rd, len + 1, err) == -1)
		return NULL;
	if ((t = rd_newtok(rd, type, err)) == NULL)
		return NULL;
	t->off = rd->alen;
	t->len = len;
	if (len > 0)
		memmove(rd->arena + rd->alen, s, len);
	rd->arena[rd->alen + len] = '\0';
	rd->alen += len + 1;
	return t;
}

/* "tag SP name": the command's head, into rd->cmd. */
static int
tk_head(struct imap_reader *rd, const char *s, size_t len, size_t *ip,
    const char **err)
{
	size_t	 i, n;

	for (i = 0; i < len && s[i] != ' '; i++)
		if (!tk_tagchar((unsigned char)s[i]) ||
		    i >= IMAP_TAG_MAX_BYTES) {
			*err = i >= IMAP_TAG_MAX_BYTES ? "tag too long" :
			    "invalid tag";
			return -1;
		}
	if (i == 0) {
		*err = "invalid tag";
		return -1;
	}
	memcpy(rd->cmd.tag, s, i);
	rd->cmd.tag[i] = '\0';
	rd->tag_ok = 1;
	if (i == len || i + 1 == len || s[i + 1] == ' ') {
		*err = "missing command name";
		return -1;
	}
	for (i++, n = 0; i < len && s[i] != ' '; i++, n++) {
		if (n >= IMAP_CMD_NAME_MAX_BYTES ||
		    !isalnum((unsigned char)s[i])) {
			*err = "invalid command name";
			return -1;
		}
		rd->cmd.name[n] = (char)toupper((unsigned char)s[i]);
	}
	rd->cmd.name[n] = '\0';
	rd->started = 1;
	*ip = i;
	return 0;
}

void
rd_guess_tag(struct imap_reader *rd, const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len && i < IMAP_TAG_MAX_BYTES &&
	    tk_tagchar((unsigned char)s[i]); i++)
		;
	if (i == 0 || i == len || s[i] != ' ')
		return;
	memcpy(rd->cmd.tag, s, i);
	rd->cmd.tag[i] = '\0';
	rd->tag_ok = 1;
}

/* A quoted string from s[*ip] (the opening '"'), unescaped. */
static int
tk_quoted(struct imap_reader *rd, const char *s, size_t len, size_t *ip,
    const char **err)
{
	struct rd_tok	*t;
	char		*d;
	size_t		 i, n;
	int		 eight = 0;

	if (rd_arena_room(rd, len - *ip + 1, err) == -1)
		return -1;
	d = rd->arena + rd->alen;
	for (i = *ip + 1, n = 0; i < len && s[i] != '"'; i++) {
		if (s[i] == '\\') {
			if (++i == len || (s[i] != '\\' && s[i] != '"')) {
				*err = "invalid escape in a quoted string";
				return -1;
			}
		} else if (s[i] == '\0') {
			*err = "NUL in a quoted string";
			return -1;
		} else if ((unsigned char)s[i] >= 0x80)
			eight = 1;
		d[n++] = s[i];
	}
	if (i == len) {
		*err = "unterminated quoted string";
		return -1;
	}
	if (eight && (!rd->utf8 || !imap_utf8_valid(d, n))) {
		*err = rd->utf8 ? "invalid UTF-8 in a quoted string" :
		    "8-bit text in a quoted string (send a literal)";
		return -1;
	}
	/* d is in the arena already: rd_push copies it onto itself. */
	if ((t = rd_push(rd, IMAP_ARG_QUOTED, d, n, err)) == NULL)
		return -1;
	t->flags = eight ? IMAP_ARGF_8BIT : 0;
	*ip = i + 1;
	return 0;
}

int
rd_tail_literal(const char *s, size_t len, struct rd_lit *lit)
{
	size_t		 i, end;
	uint64_t	 n = 0;

	if (len < 3 || s[len - 1] != '}')
		return 0;
	end = len - 1;
	lit->sync = 1;
	if (s[end - 1] == '+') {
		lit->sync = 0;
		end--;
	}
	for (i = end; i > 0 && isdigit((unsigned char)s[i - 1]); i--)
		;
	if (i == end || i == 0 || s[i - 1] != '{' || end - i > 12)
		return 0;
	lit->lit8 = i >= 2 && s[i - 2] == '~';
	for (; i < end; i++)
		n = n * 10 + (uint64_t)(s[i] - '0');
	lit->size = n;
	return 1;
}

/* A literal's announcement at s[i] ("{n}", "{n+}", "~{n}"): ends the line. */
static int
tk_literal(const char *s, size_t len, size_t i, struct rd_lit *lit,
    const char **err)
{
	uint64_t	 n = 0;
	size_t		 nd = 0;

	lit->lit8 = s[i] == '~';
	lit->sync = 1;
	i += lit->lit8 ? 2 : 1;
	for (; i < len && isdigit((unsigned char)s[i]); i++, nd++) {
		if (nd >= 10)
			break;
		n = n * 10 + (uint64_t)(s[i] - '0');
	}
	if (i < len && s[i] == '+') {
		lit->sync = 0;
		i++;
	}
	if (nd == 0 || nd > 10 || i + 1 != len || s[i] != '}') {
		*err = "invalid literal (expected {n}, {n+} or ~{n} at the "
		    "end of the line)";
		return -1;
	}
	if (n > UINT32_MAX) {
		*err = "literal size out of range";
		return -1;
	}
	lit->size = n;
	return 0;
}

/* "<o>" or "<o.n>" after a section's ']'. */
static int
tk_partial(struct rd_tok *t, const char *s, size_t len, size_t *ip,
    const char **err)
{
	uint64_t	 v[2] = { 0, 0 };
	size_t		 i = *ip + 1;
	int		 k = 0, nd;

	for (;;) {
		for (nd = 0; i < len && isdigit((unsigned char)s[i]); i++) {
			v[k] = v[k] * 10 + (uint64_t)(s[i] - '0');
			if (++nd > 10 || v[k] > UINT32_MAX)
				goto bad;
		}
		if (nd == 0 || i == len)
			goto bad;
		if (s[i] == '>')
			break;
		if (s[i] != '.' || k == 1)
			goto bad;
		k++;
		i++;
	}
	if (k == 1 && v[1] == 0)
		goto bad;
	t->has_partial = 1;
	t->poff = (uint32_t)v[0];
	t->plen = (uint32_t)v[1];
	*ip = i + 1;
	return 0;
bad:
	*err = "invalid partial range (expected <offset.length>)";
	return -1;
}

/* '(' or 'WORD[': opens a list or a section. */
static int
tk_open(struct imap_reader *rd, int type, const char *s, size_t len,
    const char **err)
{
	if (rd->depth >= IMAP_NEST_MAX) {
		*err = "too many nested lists";
		return -1;
	}
	if (rd_push(rd, type, s, len, err) == NULL)
		return -1;
	rd->stack[rd->depth++] = rd->ntok - 1;
	return 0;
}

/* ')' or ']' closing what the innermost open token opened. */
static int
tk_close(struct imap_reader *rd, int type, const char **err)
{
	if (rd->depth == 0 ||
	    rd->tok[rd->stack[rd->depth - 1]].type != type) {
		*err = type == IMAP_ARG_LIST ? "unexpected ')'" :
		    "unexpected ']'";
		return -1;
	}
	if (rd_newtok(rd, TK_CLOSE, err) == NULL)
		return -1;
	rd->depth--;
	return 0;
}

static int
tk_in_section(const struct imap_reader *rd)
{
	return rd->depth > 0 &&
	    rd->tok[rd->stack[rd->depth - 1]].type == IMAP_ARG_SECTION;
}

/* An atom (or NIL, or a section's keyword and its '['). */
static int
tk_atom(struct imap_reader *rd, const char *s, size_t len, size_t *ip,
    const char **err)
{
	char		 word[16];
	size_t		 i = *ip, n;
	int		 insec = tk_in_section(rd), k;

	while (i < len && tk_atomchar((unsigned char)s[i], insec)) {
		if (s[i] == '[' && (n = i - *ip) < sizeof(word)) {
			for (k = 0; k < (int)n; k++)
				word[k] = (char)toupper((unsigned char)s[*ip +
				    (size_t)k]);
			word[n] = '\0';
			for (k = 0; tk_section_words[k] != NULL; k++)
				if (strcmp(word, tk_section_words[k]) == 0)
					break;
			if (tk_section_words[k] != NULL) {
				*ip = i + 1;
				return tk_open(rd, IMAP_ARG_SECTION, word, n,
				    err);
			}
		}
		i++;
	}
	if (i == *ip) {
		*err = (unsigned char)s[i] >= 0x80 ?
		    "8-bit byte outside a string" : "invalid character";
		return -1;
	}
	n = i - *ip;
	if (rd_push(rd, n == 3 && strncasecmp(s + *ip, "NIL", 3) == 0 ?
	    IMAP_ARG_NIL : IMAP_ARG_ATOM, s + *ip, n, err) == NULL)
		return -1;
	*ip = i;
	return 0;
}

/* One token at s[*ip]; *lit set when it announces the line's literal. */
static int
tk_one(struct imap_reader *rd, const char *s, size_t len, size_t *ip,
    struct rd_lit *lit, int *has_lit, const char **err)
{
	size_t	 i = *ip;

	switch (s[i]) {
	case '(':
		*ip = i + 1;
		return tk_open(rd, IMAP_ARG_LIST, "", 0, err);
	case ')':
		*ip = i + 1;
		return tk_close(rd, IMAP_ARG_LIST, err);
	case '"':
		return tk_quoted(rd, s, len, ip, err);
	case '{':
	case '~':
		if (s[i] == '~' && (i + 1 == len || s[i + 1] != '{'))
			break;
		if (tk_literal(s, len, i, lit, err) == -1)
			return -1;
		*has_lit = 1;
		*ip = len;
		return 0;
	case ']':
		if (!tk_in_section(rd))
			break;
		*ip = i + 1;
		if (tk_close(rd, IMAP_ARG_SECTION, err) == -1)
			return -1;
		if (*ip < len && s[*ip] == '<')
			return tk_partial(&rd->tok[rd->stack[rd->depth]], s,
			    len, ip, err);
		return 0;
	}
	return tk_atom(rd, s, len, ip, err);
}

int
rd_tokenize(struct imap_reader *rd, const char *s, size_t len,
    struct rd_lit *lit, int *has_lit, const char **err)
{
	size_t	 i = 0;
	char	 prev;

	*has_lit = 0;
	if (!rd->started && tk_head(rd, s, len, &i, err) == -1)
		return -1;
	/* A line after a literal goes on with a space or a closing. */
	if (i == 0 && len > 0 && s[0] != ' ' && s[0] != ')' &&
	    s[0] != ']') {
		*err = "missing space after a literal";
		return -1;
	}
	for (;;) {
		while (i < len && s[i] == ' ')
			i++;
		if (i == len || *has_lit)
			return 0;
		if (tk_one(rd, s, len, &i, lit, has_lit, err) == -1)
			return -1;
		prev = s[i - 1];
		if (i < len && s[i] != ' ' && s[i] != ')' && prev != '(' &&
		    prev != '[' && !(s[i] == ']' && tk_in_section(rd))) {
			*err = "missing space between arguments";
			return -1;
		}
	}
}

/* Lays the tokens from *pos out as count arguments into dest. */
static void
rd_place(struct imap_reader *rd, size_t *pos, struct imap_arg *dest,
    int count, size_t *next)
{
	const struct rd_tok	*t;
	struct imap_arg		*a;
	int			 k;

	for (k = 0; k < count && *pos < rd->ntok; k++) {
		t = &rd->tok[(*pos)++];
		a = &dest[k];
		memset(a, 0, sizeof(*a));
		a->type = (enum imap_arg_type)t->type;
		a->flags = t->flags;
		a->str = rd->arena + t->off;
		a->len = t->len;
		a->has_partial = t->has_partial;
		a->partial_off = t->poff;
		a->partial_len = t->plen;
		a->stream = t->stream;
		a->stream_size = t->ssize;
		if (t->type != IMAP_ARG_LIST && t->type != IMAP_ARG_SECTION)
			continue;
		a->list = rd->nodes + *next;
		a->nlist = t->nchild;
		*next += (size_t)t->nchild;
		rd_place(rd, pos, a->list, t->nchild, next);
		if (*pos < rd->ntok && rd->tok[*pos].type == TK_CLOSE)
			(*pos)++;
	}
}

int
rd_build(struct imap_reader *rd)
{
	struct imap_arg	*p;
	size_t		 pos = 0, next, n = rd->ntok + 1;

	if (n > rd->nodecap) {
		if ((p = reallocarray(rd->nodes, n, sizeof(*p))) == NULL)
			return -1;
		rd->nodes = p;
		rd->nodecap = n;
	}
	next = (size_t)rd->ntop;
	rd->cmd.args = rd->nodes;
	rd->cmd.nargs = rd->ntop;
	rd->cmd.uid = 0;
	rd->cmd.cmd = NULL;
	rd_place(rd, &pos, rd->nodes, rd->ntop, &next);
	return 0;
}
