/*
 * imapd/imap_search.c: SEARCH's entry points: the RETURN options and the
 * CHARSET before the keys (RFC 4731 3, RFC 3501 6.4.4), the check that
 * the mailbox's accessor can answer every key used, the program's
 * getters, and the answer's lines (SEARCH or ESEARCH, with MODSEQ).
 * Runs in the mailbox process (the mail user, chroot, seccomp
 * "imapd-user"); no I/O of its own.
 */
#include <sys/types.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap_search.h"

int
imap_search_charset(const struct imap_arg *a, const char **err, int *no)
{
	if (!imap_arg_is_astring(a)) {
		*err = "expected a charset";
		return -1;
	}
	if (strcasecmp(a->str, "UTF-8") == 0 ||
	    strcasecmp(a->str, "US-ASCII") == 0)
		return 0;
	*no = 1;
	*err = "[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset";
	return -1;
}

/* RETURN (MIN MAX ALL COUNT SAVE); "()" is ALL (RFC 4731 3.1). */
static int
srch_return(struct imap_search *s, const struct imap_arg *a, const char **err)
{
	static const struct {
		const char	*name;
		unsigned int	 bit;
	} opts[] = {
		{ "MIN", IMAP_SRET_MIN }, { "MAX", IMAP_SRET_MAX },
		{ "ALL", IMAP_SRET_ALL }, { "COUNT", IMAP_SRET_COUNT },
		{ "SAVE", IMAP_SRET_SAVE },
	};
	size_t	 j;
	int	 i;

	if (a->type != IMAP_ARG_LIST) {
		*err = "expected RETURN options in parentheses";
		return -1;
	}
	for (i = 0; i < a->nlist; i++) {
		for (j = 0; j < sizeof(opts) / sizeof(opts[0]); j++)
			if (imap_arg_is_atom(&a->list[i], opts[j].name))
				break;
		if (j == sizeof(opts) / sizeof(opts[0])) {
			*err = "unknown RETURN option";
			return -1;
		}
		s->ret |= opts[j].bit;
	}
	if (s->ret == 0)
		s->ret = IMAP_SRET_ALL;
	s->esearch = 1;
	return 0;
}

/* Whether the accessor has what each key needs. */
static int
srch_supported(const struct imap_search *s, const struct imap_msg_access *acc)
{
	const struct sk_node	*n;
	int			 i, ok;

	for (i = 0; i < s->nnode; i++) {
		n = &s->node[i];
		switch (n->op) {
		case SK_FLAG: case SK_UNFLAG: case SK_NEW:
			ok = acc->flags != NULL;
			break;
		case SK_BEFORE: case SK_ON: case SK_SINCE:
			ok = acc->internal != NULL;
			break;
		case SK_SENTBEFORE: case SK_SENTON: case SK_SENTSINCE:
			ok = acc->sent != NULL;
			break;
		case SK_LARGER: case SK_SMALLER:
			ok = acc->size != NULL;
			break;
		case SK_HEADER:
			ok = acc->header != NULL;
			break;
		case SK_BODY: case SK_TEXT:
			ok = acc->body != NULL;
			break;
		case SK_UID: case SK_SAVED:
			ok = acc->uid != NULL;
			break;
		case SK_MODSEQ:
			ok = acc->modseq != NULL;
			break;
		default:
			ok = 1;
		}
		if (!ok)
			return 0;
	}
	return 1;
}

struct imap_search *
imap_search_parse(const struct imap_arg *a, int na, int flags,
    const struct imap_msg_access *acc, const char **err, int *no)
{
	struct imap_search	*s;
	int			 i = 0;

	*no = 0;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		*err = "out of memory";
		return NULL;
	}
	s->acc = acc;
	s->flags = flags;
	if ((flags & (IMAP_SPF_ESEARCH | IMAP_SPF_REV2)) && na > 1 &&
	    imap_arg_is_atom(&a[0], "RETURN")) {
		if (srch_return(s, &a[1], err) == -1)
			goto fail;
		i = 2;
	} else if (flags & IMAP_SPF_REV2) {
		s->esearch = 1;
		s->ret = IMAP_SRET_ALL;
	}
	if (na - i > 1 && imap_arg_is_atom(&a[i], "CHARSET")) {
		if (imap_search_charset(&a[i + 1], err, no) == -1)
			goto fail;
		i += 2;
	}
	if (imap_search_keys(s, a + i, na - i, err) == -1)
		goto fail;
	if (acc != NULL && !srch_supported(s, acc)) {
		*err = "search key not supported here";
		goto fail;
	}
	return s;
fail:
	imap_search_free(s);
	return NULL;
}

void
imap_search_free(struct imap_search *s)
{
	int	 i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nnode; i++) {
		free(s->node[i].field);
		free(s->node[i].str);
		imap_seqset_free(&s->node[i].set);
	}
	free(s->node);
	imap_seqset_free(&s->saved_uids);
	free(s);
}

unsigned int
imap_search_return(const struct imap_search *s)
{
	return s->ret;
}

int
imap_search_esearch(const struct imap_search *s)
{
	return s->esearch;
}

int
imap_search_uses_modseq(const struct imap_search *s)
{
	return s->modseq;
}

int
imap_search_uses_saved(const struct imap_search *s)
{
	return s->saved;
}

void
imap_search_set_saved(struct imap_search *s, const struct imap_seqset *uids)
{
	imap_seqset_free(&s->saved_uids);
	if (uids == NULL || uids->n == 0)
		return;
	if ((s->saved_uids.r = reallocarray(NULL, uids->n,
	    sizeof(*uids->r))) == NULL)
		return;		/* then "$" matches nothing */
	memcpy(s->saved_uids.r, uids->r, uids->n * sizeof(*uids->r));
	s->saved_uids.n = uids->n;
	imap_seqset_resolve(&s->saved_uids, UINT32_MAX);
}

/* ESEARCH (RFC 4731 3.1, RFC 7162 3.1.5 for MODSEQ). */
static int
srch_write_esearch(struct imap_wbuf *wb, const struct imap_search *s,
    const char *tag, int uid, const uint32_t *nums, size_t n,
    uint64_t max_modseq)
{
	(void)imap_putf(wb, "* ESEARCH (TAG \"%s\")%s", tag, uid ? " UID" :
	    "");
	if ((s->ret & IMAP_SRET_MIN) && n > 0)
		(void)imap_putf(wb, " MIN %u", (unsigned int)nums[0]);
	if ((s->ret & IMAP_SRET_MAX) && n > 0)
		(void)imap_putf(wb, " MAX %u", (unsigned int)nums[n - 1]);
	if (s->ret & IMAP_SRET_COUNT)
		(void)imap_putf(wb, " COUNT %zu", n);
	if ((s->ret & IMAP_SRET_ALL) && n > 0) {
		(void)imap_puts(wb, " ALL ");
		(void)imap_put_seqlist(wb, nums, n);
	}
	if (s->modseq && n > 0)
		(void)imap_putf(wb, " MODSEQ %llu",
		    (unsigned long long)max_modseq);
	return imap_put(wb, "\r\n", 2);
}

int
imap_search_write(struct imap_wbuf *wb, const struct imap_search *s,
    const char *tag, int uid, const uint32_t *nums, size_t n,
    uint64_t max_modseq)
{
	size_t	 i;

	if (s->esearch) {
		/* RFC 5182 2.4: SAVE alone answers no ESEARCH. */
		if (s->ret == IMAP_SRET_SAVE)
			return 0;
		return srch_write_esearch(wb, s, tag, uid, nums, n,
		    max_modseq);
	}
	(void)imap_put(wb, "* SEARCH", 8);
	for (i = 0; i < n; i++)
		(void)imap_putf(wb, " %u", (unsigned int)nums[i]);
	if (s->modseq && n > 0)
		(void)imap_putf(wb, " (MODSEQ %llu)",
		    (unsigned long long)max_modseq);
	return imap_put(wb, "\r\n", 2);
}
