/*
 * imapd: the message library's entry points (imap_msg.h): a message
 * parsed into its MIME tree, the tree's memory (one arena per message),
 * header fields walked and unfolded, sizes in CRLF octets.  Mailbox
 * process (the mail user, chrooted in the mail home, seccomp'd): memory
 * only, over the buffer the caller mapped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap_msg_int.h"

/* Arena blocks: this size, or one request's size when larger. */
#define MSG_BLOCK_BYTES	8192

struct msg_block {
	struct msg_block	*next;
	size_t			 used;
	size_t			 size;
	/* The memory follows, aligned as max_align_t. */
};

#define MSG_BLOCK_HDR \
	((sizeof(struct msg_block) + sizeof(max_align_t) - 1) / \
	sizeof(max_align_t) * sizeof(max_align_t))

void *
msg_alloc(struct imap_message *m, size_t len)
{
	struct msg_block *b = m->blocks;
	size_t		 size;
	char		*p;

	len = (len + sizeof(max_align_t) - 1) / sizeof(max_align_t) *
	    sizeof(max_align_t);
	if (len > IMAP_MSG_ARENA_MAX_BYTES ||
	    m->arena_bytes > IMAP_MSG_ARENA_MAX_BYTES - len)
		return NULL;
	if (b == NULL || b->size - b->used < len) {
		size = len > MSG_BLOCK_BYTES ? len : MSG_BLOCK_BYTES;
		if ((b = malloc(MSG_BLOCK_HDR + size)) == NULL)
			return NULL;
		b->size = size;
		b->used = 0;
		b->next = m->blocks;
		m->blocks = b;
	}
	p = (char *)b + MSG_BLOCK_HDR + b->used;
	b->used += len;
	m->arena_bytes += len;
	memset(p, 0, len);
	return p;
}

char *
msg_strndup(struct imap_message *m, const char *s, size_t len)
{
	char	*p;

	if (len == SIZE_MAX || (p = msg_alloc(m, len + 1)) == NULL)
		return NULL;
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

struct imap_part *
msg_new_part(struct imap_message *m, struct imap_part *parent)
{
	struct imap_part *p, **tail;

	if (m->nparts >= IMAP_MSG_PARTS_MAX ||
	    (p = msg_alloc(m, sizeof(*p))) == NULL)
		return NULL;
	m->nparts++;
	p->parent = parent;
	if (parent != NULL) {
		p->depth = parent->depth + 1;
		for (tail = &parent->children; *tail != NULL;
		    tail = &(*tail)->next)
			;
		*tail = p;
		parent->nchildren++;
	}
	return p;
}

struct imap_message *
imap_msg_parse(const char *buf, size_t len)
{
	struct imap_message	*m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->buf = buf;
	m->len = len;
	if ((m->field = malloc(IMAP_MSG_FIELD_MAX_BYTES + 1)) == NULL ||
	    (m->root = msg_new_part(m, NULL)) == NULL) {
		imap_msg_free(m);
		errno = ENOMEM;
		return NULL;
	}
	mime_parse_part(m, m->root, 0, len, 0);
	return m;
}

void
imap_msg_free(struct imap_message *m)
{
	struct msg_block *b, *next;

	if (m == NULL)
		return;
	for (b = m->blocks; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	free(m->field);
	free(m);
}

const struct imap_part *
imap_msg_root(const struct imap_message *m)
{
	return m->root;
}

const char *
imap_msg_buf(const struct imap_message *m, size_t *len)
{
	if (len != NULL)
		*len = m->len;
	return m->buf;
}

unsigned int
imap_msg_nparts(const struct imap_message *m)
{
	return m->nparts;
}

const char *
imap_part_param(const struct imap_part *p, const char *name)
{
	unsigned int	 i;

	for (i = 0; i < p->nparams; i++)
		if (strcasecmp(p->params[i].name, name) == 0)
			return p->params[i].value;
	return NULL;
}

const char *
msg_line_next(const char *p, const char *end)
{
	const char	*nl;

	if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
		return end;
	return nl + 1;
}

void
msg_count(const char *p, size_t len, size_t *crlf, size_t *lines)
{
	const char	*start = p, *end = p + len, *nl;
	size_t		 n = 0, bare = 0;

	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		n++;
		if (nl == start || nl[-1] != '\r')
			bare++;
		p = nl + 1;
	}
	if (crlf != NULL)
		*crlf = len + bare;
	/* Line ends, as Dovecot counts: a last line without one is not. */
	if (lines != NULL)
		*lines = n;
}

size_t
imap_msg_crlf_size(const char *buf, size_t len)
{
	size_t	 crlf;

	msg_count(buf, len, &crlf, NULL);
	return crlf;
}

void
imap_hdr_iter_init(struct imap_hdr_iter *it, const struct imap_message *m,
    const struct imap_part *p)
{
	it->p = m->buf + p->hdr_off;
	it->end = it->p + p->hdr_len;
}

/* Whether the line at p is empty (the header's end). */
static int
hdr_blank(const char *p, const char *end)
{
	return p < end && (*p == '\n' ||
	    (*p == '\r' && (p + 1 == end || p[1] == '\n')));
}

int
imap_hdr_next(struct imap_hdr_iter *it, const char **name, size_t *namelen,
    const char **value, size_t *valuelen, const char **raw, size_t *rawlen)
{
	const char	*start, *colon, *q;

	while (it->p < it->end && !hdr_blank(it->p, it->end)) {
		start = it->p;
		q = msg_line_next(start, it->end);
		while (q < it->end && (*q == ' ' || *q == '\t'))
			q = msg_line_next(q, it->end);
		it->p = q;
		colon = memchr(start, ':', (size_t)(q - start));
		if (colon == NULL || colon == start ||
		    memchr(start, '\n', (size_t)(colon - start)) != NULL)
			continue;
		*name = start;
		*namelen = (size_t)(colon - start);
		while (*namelen > 0 && (start[*namelen - 1] == ' ' ||
		    start[*namelen - 1] == '\t'))
			(*namelen)--;
		*value = colon + 1;
		*valuelen = (size_t)(q - colon - 1);
		if (raw != NULL)
			*raw = start;
		if (rawlen != NULL)
			*rawlen = (size_t)(q - start);
		return 1;
	}
	it->p = it->end;
	return 0;
}

int
imap_hdr_get(const struct imap_message *m, const struct imap_part *p,
    const char *name, const char **value, size_t *valuelen)
{
	struct imap_hdr_iter it;
	const char	*n;
	size_t		 nlen, want = strlen(name);

	imap_hdr_iter_init(&it, m, p);
	while (imap_hdr_next(&it, &n, &nlen, value, valuelen, NULL, NULL))
		if (nlen == want && strncasecmp(n, name, nlen) == 0)
			return 1;
	return 0;
}

size_t
msg_unfold(const char *v, size_t len, char *out, size_t outmax)
{
	size_t	 i, n = 0;

	for (i = 0; i < len && n < outmax; i++) {
		if (v[i] == '\r' || v[i] == '\n')
			continue;
		if (n == 0 && (v[i] == ' ' || v[i] == '\t'))
			continue;
		out[n++] = v[i];
	}
	while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t'))
		n--;
	out[n] = '\0';
	return n;
}

long
msg_field(const struct imap_message *m, const struct imap_part *p,
    const char *name)
{
	const char	*v;
	size_t		 vlen;

	if (!imap_hdr_get(m, p, name, &v, &vlen))
		return -1;
	return (long)msg_unfold(v, vlen, m->field, IMAP_MSG_FIELD_MAX_BYTES);
}

const char *
msg_cfws(const char *p, const char *e)
{
	int	 depth = 0;

	for (; p < e; p++) {
		if (*p == '(')
			depth++;
		else if (*p == ')' && depth > 0)
			depth--;
		else if (*p == '\\' && depth > 0 && p + 1 < e)
			p++;
		else if (depth == 0 && *p != ' ' && *p != '\t' &&
		    *p != '\r' && *p != '\n')
			break;
	}
	return p;
}
