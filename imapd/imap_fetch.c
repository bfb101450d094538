/*
 * FETCH and UID FETCH (RFC 3501 6.4.5, 7.4.2; RFC 7162 CHANGEDSINCE and
 * VANISHED): every data item, BODY.PEEK against BODY (which sets
 * \Seen), sections and partials in CRLF form.  The answer is made in
 * pieces (imap_session.c, sess_start_pump): one attribute at a time,
 * and a literal 64 KB at a time while the client reads, so FETCH 1:*
 * on 100,000 messages or a 50 MB BODY[] never sits in memory.  Runs in
 * the mailbox process: the mail user, chrooted in the mail home,
 * seccomp SANDBOX_IMAP_MAILBOX.
 */
#include <sys/types.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "imap_session.h"
#include "imap_store.h"
#include "imap_msg.h"

enum fi_kind {
	FI_FLAGS, FI_UID, FI_INTERNALDATE, FI_SIZE, FI_ENVELOPE,
	FI_BODYSTRUCTURE, FI_BODY, FI_MODSEQ, FI_SECTION
};

struct fitem {
	enum fi_kind		 kind;
	const char		*name;		/* RFC822*: its name */
	int			 peek;
	int			 has_partial;
	uint32_t		 off, len;
	struct imap_section	 sec;
};

struct fjob {
	char			 tag[IMAP_TAG_MAX_BYTES + 1];
	int			 uid;
	int			 sets_seen;
	struct fitem		 items[IMAP_FETCH_ITEMS_MAX];
	int			 nitems;
	uint32_t		*idx;
	size_t			 n, pos;
	int			 item;		/* -1: not begun */
	int			 first;		/* none written yet */
	int			 flags_due;	/* \Seen was set */
	int			 gone;		/* some were gone */
	int			 cached;	/* blobs put: flush */
	struct imap_crlf_cursor	 cur;
	size_t			 lit_left;
	struct imap_mbuf	 scratch;
};

static const struct { const char *name; enum fi_kind kind; } fi_atoms[] = {
	{ "FLAGS", FI_FLAGS }, { "UID", FI_UID },
	{ "INTERNALDATE", FI_INTERNALDATE }, { "RFC822.SIZE", FI_SIZE },
	{ "ENVELOPE", FI_ENVELOPE }, { "BODYSTRUCTURE", FI_BODYSTRUCTURE },
	{ "BODY", FI_BODY }, { "MODSEQ", FI_MODSEQ },
};

static int
fetch_add(struct fjob *j, enum fi_kind kind)
{
	if (j->nitems >= IMAP_FETCH_ITEMS_MAX)
		return -1;
	memset(&j->items[j->nitems], 0, sizeof(j->items[0]));
	j->items[j->nitems].kind = kind;
	return j->nitems++;
}

/* RFC822, RFC822.HEADER, RFC822.TEXT: sections under their old names. */
static int
fetch_rfc822(struct fjob *j, const char *w, const char **err)
{
	const char	*spec;
	int		 k;

	if (strcasecmp(w, "RFC822") == 0)
		spec = "";
	else if (strcasecmp(w, "RFC822.HEADER") == 0)
		spec = "HEADER";
	else if (strcasecmp(w, "RFC822.TEXT") == 0)
		spec = "TEXT";
	else
		return 0;
	if ((k = fetch_add(j, FI_SECTION)) == -1 ||
	    imap_section_parse(spec, strlen(spec), &j->items[k].sec,
	    err) == -1)
		return -1;
	j->items[k].name = *spec == '\0' ? "RFC822" : *spec == 'H' ?
	    "RFC822.HEADER" : "RFC822.TEXT";
	j->items[k].peek = *spec == 'H';
	return 1;
}

static int
fetch_atom(struct fjob *j, const struct imap_arg *a, const char **err)
{
	size_t	 i;
	int	 r;

	*err = "unknown FETCH attribute";
	if ((r = fetch_rfc822(j, a->str, err)) != 0)
		return r == 1 ? 0 : -1;
	for (i = 0; i < sizeof(fi_atoms) / sizeof(fi_atoms[0]); i++)
		if (strcasecmp(a->str, fi_atoms[i].name) == 0)
			return fetch_add(j, fi_atoms[i].kind) == -1 ? -1 : 0;
	return -1;
}

static int
fetch_section(struct fjob *j, const struct imap_arg *a, const char **err)
{
	struct fitem	*it;
	const char	*f;
	size_t		 flen;
	int		 k, i;

	*err = "bad section";
	if (strcmp(a->str, "BODY") != 0 && strcmp(a->str, "BODY.PEEK") != 0)
		return -1;
	if ((k = fetch_add(j, FI_SECTION)) == -1)
		return -1;
	it = &j->items[k];
	it->peek = strcmp(a->str, "BODY.PEEK") == 0;
	it->has_partial = a->has_partial;
	it->off = a->partial_off;
	it->len = a->partial_len;
	if (a->nlist > 2 || (a->nlist >= 1 && a->list[0].type !=
	    IMAP_ARG_ATOM) || (a->nlist == 2 && a->list[1].type !=
	    IMAP_ARG_LIST))
		return -1;
	if (imap_section_parse(a->nlist ? a->list[0].str : "",
	    a->nlist ? a->list[0].len : 0, &it->sec, err) == -1)
		return -1;
	for (i = 0; a->nlist == 2 && i < a->list[1].nlist; i++) {
		if ((f = imap_arg_astring(&a->list[1].list[i], &flen)) ==
		    NULL || imap_section_add_field(&it->sec, f, flen,
		    err) == -1)
			return -1;
	}
	return 0;
}

static int
fetch_one(struct fjob *j, const struct imap_arg *a, const char **err)
{
	if (a->type == IMAP_ARG_SECTION)
		return fetch_section(j, a, err);
	if (a->type != IMAP_ARG_ATOM) {
		*err = "bad FETCH attribute";
		return -1;
	}
	return fetch_atom(j, a, err);
}

/* The attributes: a macro, one attribute, or a list. */
static int
fetch_items(struct fjob *j, const struct imap_arg *a, const char **err)
{
	static const enum fi_kind fast[] = { FI_FLAGS, FI_INTERNALDATE,
	    FI_SIZE, FI_ENVELOPE, FI_BODY };
	int	 i, n = 0;

	if (imap_arg_is_atom(a, "FAST"))
		n = 3;
	else if (imap_arg_is_atom(a, "ALL"))
		n = 4;
	else if (imap_arg_is_atom(a, "FULL"))
		n = 5;
	for (i = 0; i < n; i++)
		(void)fetch_add(j, fast[i]);
	if (n > 0)
		return 0;
	if (a->type != IMAP_ARG_LIST)
		return fetch_one(j, a, err);
	if (a->nlist == 0) {
		*err = "empty FETCH attribute list";
		return -1;
	}
	for (i = 0; i < a->nlist; i++)
		if (fetch_one(j, &a->list[i], err) == -1)
			return -1;
	return 0;
}

static void
fetch_free(void *p)
{
	struct fjob	*j = p;

	imap_mbuf_free(&j->scratch);
	free(j->idx);
	free(j);
}

/* ---- Writing one attribute ---- */

/* ENVELOPE, BODYSTRUCTURE, BODY: from the cache, else made and kept. */
static int
fetch_struct(struct imap_sess *s, struct fjob *j, uint32_t i,
    enum imap_cache_kind kind)
{
	struct imap_mbuf	 b;
	struct imap_message	*msg;
	const char		*p;
	size_t			 len;
	int			 st, r;

	if (imap_mbox_cache_get(s->mbox, i, kind, &p, &len) == 0)
		return imap_put(&s->wb, p, len);
	if ((msg = sess_msg_load(s, i, &st)) == NULL)
		return -1;
	imap_mbuf_init(&b, IMAP_FETCH_STRUCT_MAX_BYTES);
	r = kind == IMAP_CACHE_ENVELOPE ?
	    imap_msg_envelope(msg, imap_msg_root(msg), &b) :
	    imap_msg_bodystructure(msg, imap_msg_root(msg),
	    kind == IMAP_CACHE_BODYSTRUCTURE, &b);
	if (r == 0) {
		(void)imap_put(&s->wb, b.data, b.len);
		if (imap_mbox_cache_put(s->mbox, i, kind, b.data, b.len) ==
		    IMAP_ST_OK)
			j->cached = 1;
	}
	imap_mbuf_free(&b);
	return r;
}

static int
fetch_sect(struct imap_sess *s, struct fjob *j, struct fitem *it,
    uint32_t i)
{
	struct imap_sect_data	 d;
	struct imap_mbuf	 name;
	struct imap_message	*msg;
	size_t			 off, n;
	int			 st;

	if ((msg = sess_msg_load(s, i, &st)) == NULL)
		return -1;
	imap_mbuf_reset(&j->scratch);
	memset(&d, 0, sizeof(d));
	if (imap_section_resolve(msg, &it->sec, &j->scratch, &d) == -1)
		return -1;
	imap_partial_clip(d.size, it->has_partial, it->off, it->len, &off,
	    &n);
	if (it->name != NULL)
		sess_putf(s, "%s", it->name);
	else {
		imap_mbuf_init(&name, 4096);
		(void)imap_section_format(&it->sec, &name);
		sess_putf(s, "BODY[%.*s]", (int)name.len,
		    name.data != NULL ? name.data : "");
		imap_mbuf_free(&name);
		if (it->has_partial)
			sess_putf(s, "<%" PRIu32 ">", it->off);
	}
	sess_putf(s, " {%zu}\r\n", n);
	imap_crlf_seek(&j->cur, d.raw, d.rawlen, off);
	j->lit_left = n;
	return 0;
}

static int
fetch_item(struct imap_sess *s, struct fjob *j, struct fitem *it,
    uint32_t i, const struct imap_msg *m)
{
	char	 date[IMAP_DATE_TIME_BYTES];

	switch (it->kind) {
	case FI_FLAGS:
		sess_putf(s, "FLAGS (");
		sess_put_flags(s, m->flags);
		sess_putf(s, ")");
		return 0;
	case FI_UID:
		sess_putf(s, "UID %" PRIu32, m->uid);
		return 0;
	case FI_INTERNALDATE:
		if (imap_date_format((time_t)m->idate, 0, date,
		    sizeof(date)) == -1)
			return -1;
		sess_putf(s, "INTERNALDATE \"%s\"", date);
		return 0;
	case FI_SIZE:
		sess_putf(s, "RFC822.SIZE %" PRIu64, m->size);
		return 0;
	case FI_MODSEQ:
		sess_putf(s, "MODSEQ (%" PRIu64 ")", m->modseq);
		return 0;
	case FI_ENVELOPE:
		sess_putf(s, "ENVELOPE ");
		return fetch_struct(s, j, i, IMAP_CACHE_ENVELOPE);
	case FI_BODYSTRUCTURE:
		sess_putf(s, "BODYSTRUCTURE ");
		return fetch_struct(s, j, i, IMAP_CACHE_BODYSTRUCTURE);
	case FI_BODY:
		sess_putf(s, "BODY ");
		return fetch_struct(s, j, i, IMAP_CACHE_BODY);
	case FI_SECTION:
		return fetch_sect(s, j, it, i);
	}
	return -1;
}

/* ---- The pump ---- */

static int
fetch_has(const struct fjob *j, enum fi_kind kind)
{
	int	 i;

	for (i = 0; i < j->nitems; i++)
		if (j->items[i].kind == kind)
			return 1;
	return 0;
}

/*
 * Whether message i's file must be read: a section, or a structure not
 * cached.  Read before its first attribute is written, so that a
 * message gone meanwhile is left out whole.
 */
static int
fetch_needs_file(struct imap_sess *s, const struct fjob *j, uint32_t i)
{
	static const enum imap_cache_kind ck[] = {
		[FI_ENVELOPE] = IMAP_CACHE_ENVELOPE,
		[FI_BODYSTRUCTURE] = IMAP_CACHE_BODYSTRUCTURE,
		[FI_BODY] = IMAP_CACHE_BODY,
	};
	const char	*p;
	size_t		 len;
	int		 k;

	for (k = 0; k < j->nitems; k++) {
		switch (j->items[k].kind) {
		case FI_SECTION:
			return 1;
		case FI_ENVELOPE:
		case FI_BODYSTRUCTURE:
		case FI_BODY:
			if (imap_mbox_cache_get(s->mbox, i,
			    ck[j->items[k].kind], &p, &len) != 0)
				return 1;
			break;
		default:
			break;
		}
	}
	return 0;
}

static int
fetch_literal(struct imap_sess *s, struct fjob *j)
{
	static char	 buf[IMAP_FETCH_CHUNK_BYTES];
	size_t		 want, got;

	want = j->lit_left < sizeof(buf) ? j->lit_left : sizeof(buf);
	got = imap_crlf_read(&j->cur, buf, want);
	if (got == 0) {
		/* The file shrank under us: the answer cannot be kept. */
		log_warnx("%08x imap fetch-short", s->conn.id);
		return -1;
	}
	(void)imap_put(&s->wb, buf, got);
	j->lit_left -= got;
	return 0;
}

/* Begins message pos: sets \Seen when a BODY[] asks, writes "* n FETCH (". */
static int
fetch_begin(struct imap_sess *s, struct fjob *j)
{
	const struct imap_msg	*m;
	struct imap_store_res	 res;
	uint32_t		 i = j->idx[j->pos];
	int			 st;

	m = imap_mbox_msg(s->mbox, i);
	if (m == NULL || (m->state & IMAP_MS_EXPUNGED)) {
		j->gone = 1;
		return 1;
	}
	j->flags_due = 0;
	if (j->sets_seen && !s->readonly && !(m->flags & IMAP_F_SEEN)) {
		memset(&res, 0, sizeof(res));
		if (imap_mbox_store(s->mbox, &i, 1, IMAP_FLAGS_ADD,
		    IMAP_F_SEEN, 0, &res) == IMAP_ST_OK)
			j->flags_due = res.nchanged > 0;
		imap_store_res_free(&res);
	}
	if (fetch_needs_file(s, j, i) && sess_msg_load(s, i, &st) == NULL) {
		j->gone = 1;
		return 1;
	}
	sess_putf(s, "* %" PRIu32 " FETCH (", i + 1);
	if (j->uid)
		sess_putf(s, "UID %" PRIu32, m->uid);
	j->first = !j->uid;
	j->item = 0;
	return 0;
}

static int
fetch_end(struct imap_sess *s, struct fjob *j)
{
	if (j->cached)
		imap_mbox_flush(s->mbox);
	sess_msg_unload();
	s->no_expunge = !j->uid;
	if (j->gone && !j->uid)
		sess_no(s, j->tag, "[EXPUNGEISSUED] Some messages were "
		    "expunged");
	else
		sess_ok(s, j->tag, "FETCH completed");
	return 1;
}

static int
fetch_pump(struct imap_sess *s)
{
	struct fjob		*j = s->job;
	const struct imap_msg	*m;
	struct fitem		*it;

	if (j->lit_left > 0)
		return fetch_literal(s, j);
	if (j->pos >= j->n)
		return fetch_end(s, j);
	if (j->item == -1) {
		if (fetch_begin(s, j) == 1)
			j->pos++;
		return 0;
	}
	m = imap_mbox_msg(s->mbox, j->idx[j->pos]);
	if (j->item < j->nitems) {
		it = &j->items[j->item++];
		if (it->kind == FI_UID && j->uid)
			return 0;
		if (!j->first)
			sess_putf(s, " ");
		j->first = 0;
		return fetch_item(s, j, it, j->idx[j->pos], m) == -1 ? -1 : 0;
	}
	if (j->flags_due && !fetch_has(j, FI_FLAGS)) {
		sess_putf(s, " FLAGS (");
		sess_put_flags(s, m->flags);
		sess_putf(s, ")");
	}
	sess_putf(s, ")\r\n");
	j->item = -1;
	j->pos++;
	return 0;
}

/* ---- The command ---- */

/* (CHANGEDSINCE n [VANISHED]), RFC 7162 3.1.4, 3.2.6. */
static int
fetch_modifiers(struct imap_sess *s, const struct imap_command *cmd,
    uint64_t *since, int *vanished)
{
	const struct imap_arg	*l;
	int			 i;

	*since = 0;
	*vanished = 0;
	if (cmd->nargs == 2)
		return 0;
	l = &cmd->args[2];
	if (cmd->nargs != 3 || l->type != IMAP_ARG_LIST)
		return -1;
	for (i = 0; i < l->nlist; i++) {
		if (imap_arg_is_atom(&l->list[i], "CHANGEDSINCE") &&
		    i + 1 < l->nlist && l->list[i + 1].type == IMAP_ARG_ATOM &&
		    imap_parse_number64(l->list[i + 1].str, l->list[i + 1].len,
		    INT64_MAX, since) == 0)
			i++;
		else if (imap_arg_is_atom(&l->list[i], "VANISHED") &&
		    cmd->uid && (s->enabled & SESS_E_QRESYNC))
			*vanished = 1;
		else
			return -1;
	}
	/* RFC 7162 3.2.6: VANISHED needs CHANGEDSINCE. */
	if (*vanished && *since == 0)
		return -1;
	if (*since > 0)
		s->enabled |= SESS_E_CONDSTORE;
	return 0;
}

/* Keeps the messages whose modseq is above since. */
static void
fetch_changedsince(struct imap_sess *s, struct fjob *j, uint64_t since)
{
	size_t	 i, k = 0;

	for (i = 0; i < j->n; i++)
		if (imap_mbox_msg(s->mbox, j->idx[i])->modseq > since)
			j->idx[k++] = j->idx[i];
	j->n = k;
}

/* "* VANISHED (EARLIER) uids": the set's UIDs expunged since modseq. */
static void
fetch_vanished(struct imap_sess *s, const struct imap_arg *set,
    uint64_t since)
{
	struct imap_uid_ranges	 r;
	struct imap_seqset	 ss;
	const char		*err;
	uint32_t		*v = NULL, *nv, u;
	size_t			 n = 0, cap = 0, k;

	if (imap_seqset_parse(set->str, set->len, &ss, &err) == -1)
		return;
	if (imap_mbox_vanished(s->mbox, since, &r) != IMAP_ST_OK) {
		imap_seqset_free(&ss);
		return;
	}
	imap_seqset_resolve(&ss, UINT32_MAX - 1);
	for (k = 0; k < r.n; k++)
		for (u = r.v[k].first; u <= r.v[k].last && u != 0; u++) {
			if (!imap_seqset_contains(&ss, u))
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 256;
				if ((nv = reallocarray(v, cap,
				    sizeof(*v))) == NULL)
					goto done;
				v = nv;
			}
			v[n++] = u;
			if (u == UINT32_MAX)
				break;
		}
	if (n > 0) {
		sess_putf(s, "* VANISHED (EARLIER) ");
		(void)imap_put_seqlist(&s->wb, v, n);
		sess_putf(s, "\r\n");
	}
done:
	free(v);
	imap_uid_ranges_free(&r);
	imap_seqset_free(&ss);
}

int
cmd_fetch(struct imap_conn *c, const struct imap_command *cmd)
{
	struct imap_sess	*s = SESS(c);
	struct fjob		*j;
	const char		*err = "bad FETCH";
	uint64_t		 since;
	int			 vanished, r, k;

	if (cmd->nargs < 2 || fetch_modifiers(s, cmd, &since, &vanished) ==
	    -1)
		return sess_bad(s, cmd->tag, "bad FETCH modifiers");
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return -1;
	(void)strlcpy(j->tag, cmd->tag, sizeof(j->tag));
	j->uid = cmd->uid;
	j->item = -1;
	imap_mbuf_init(&j->scratch, IMAP_FETCH_STRUCT_MAX_BYTES);
	/*
	 * RFC 7162 3.1.4: CHANGEDSINCE answers with MODSEQ; once CONDSTORE
	 * is on, so does every FETCH that reports FLAGS.
	 */
	if (fetch_items(j, &cmd->args[1], &err) == -1 ||
	    ((since > 0 || ((s->enabled & SESS_E_CONDSTORE) &&
	    fetch_has(j, FI_FLAGS))) && !fetch_has(j, FI_MODSEQ) &&
	    fetch_add(j, FI_MODSEQ) == -1)) {
		fetch_free(j);
		return sess_bad(s, cmd->tag, "%s", err);
	}
	for (k = 0; k < j->nitems; k++)
		if (j->items[k].kind == FI_SECTION && !j->items[k].peek)
			j->sets_seen = 1;
	if ((r = sess_msgset(s, cmd, &cmd->args[0], cmd->uid, &j->idx,
	    &j->n)) < 0) {
		fetch_free(j);
		return r == -2 ? -1 : 0;
	}
	if (since > 0)
		fetch_changedsince(s, j, since);
	if (vanished)
		fetch_vanished(s, &cmd->args[0], since);
	s->no_expunge = !cmd->uid;
	sess_start_pump(s, fetch_pump, j, fetch_free);
	return 0;
}
