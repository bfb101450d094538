/*
 * imapd: RFC 5322 address lists (3.4, with the obsolete forms of 4.4:
 * routes, missing phrases, stray commas) read into the items of an IMAP
 * ENVELOPE address list (RFC 3501 7.4.2): name, route, mailbox, host,
 * and the start and end of groups.  Lenient: anything that is not an
 * address is skipped, never an error.  Mailbox process (the mail user,
 * chrooted, seccomp'd): memory only.
 */
#include <string.h>

#include "imap_msg_int.h"

void
addr_init(struct addr_parser *ap, struct addr_item *it, const char *s,
    size_t len)
{
	ap->p = s;
	ap->end = s + len;
	ap->in_group = 0;
	imap_mbuf_init(&it->name, IMAP_MSG_FIELD_MAX_BYTES);
	imap_mbuf_init(&it->adl, IMAP_MSG_FIELD_MAX_BYTES);
	imap_mbuf_init(&it->mailbox, IMAP_MSG_FIELD_MAX_BYTES);
	imap_mbuf_init(&it->host, IMAP_MSG_FIELD_MAX_BYTES);
}

void
addr_item_free(struct addr_item *it)
{
	imap_mbuf_free(&it->name);
	imap_mbuf_free(&it->adl);
	imap_mbuf_free(&it->mailbox);
	imap_mbuf_free(&it->host);
}

static int
addr_atomc(int c)
{
	return c > ' ' && strchr("()<>@,;:\\\"[]", c) == NULL;
}

/*
 * One word of a phrase or local part (an atom, dots allowed, or a quoted
 * string), appended to name (after a space when not the first) and to
 * local (as is).  The position after it; p itself when there is none.
 */
static const char *
addr_word(const char *p, const char *e, struct imap_mbuf *name,
    struct imap_mbuf *local)
{
	const char	*s = p;

	if (p < e && *p == '"') {
		if (name->len > 0)
			imap_mbuf_addc(name, ' ');
		for (p++; p < e && *p != '"'; p++) {
			if (*p == '\\' && p + 1 < e)
				p++;
			imap_mbuf_addc(name, *p);
			imap_mbuf_addc(local, *p);
		}
		return p < e ? p + 1 : p;
	}
	while (p < e && addr_atomc((unsigned char)*p))
		p++;
	if (p > s) {
		if (name->len > 0)
			imap_mbuf_addc(name, ' ');
		imap_mbuf_add(name, s, (size_t)(p - s));
		imap_mbuf_add(local, s, (size_t)(p - s));
	}
	return p;
}

/* Words up to a special; both forms kept. */
static const char *
addr_words(const char *p, const char *e, struct imap_mbuf *name,
    struct imap_mbuf *local)
{
	const char	*q;

	for (;;) {
		p = msg_cfws(p, e);
		if ((q = addr_word(p, e, name, local)) == p)
			return p;
		p = q;
	}
}

/* A domain, literal or dotted, up to ',', ';', '>' or ':' (routes). */
static const char *
addr_domain(const char *p, const char *e, struct imap_mbuf *host)
{
	for (;;) {
		p = msg_cfws(p, e);
		if (p >= e || *p == '\0' || strchr(",;>:<", *p) != NULL)
			return p;
		if (*p == '"') {
			p++;
			continue;
		}
		imap_mbuf_addc(host, *p++);
	}
}

/* "<[@route,@route:]local@domain>", after the '<'. */
static const char *
addr_angle(const char *p, const char *e, struct addr_item *it)
{
	struct imap_mbuf junk;

	p = msg_cfws(p, e);
	while (p < e && *p == '@') {
		if (it->adl.len > 0)
			imap_mbuf_addc(&it->adl, ',');
		imap_mbuf_addc(&it->adl, '@');
		p = addr_domain(p + 1, e, &it->adl);
		p = msg_cfws(p, e);
		if (p < e && (*p == ',' || *p == ':'))
			p = msg_cfws(p + 1, e);
		it->has_adl = 1;
	}
	imap_mbuf_init(&junk, IMAP_MSG_FIELD_MAX_BYTES);
	p = addr_words(p, e, &junk, &it->mailbox);
	imap_mbuf_free(&junk);
	if (p < e && *p == '@') {
		p = addr_domain(p + 1, e, &it->host);
		it->has_host = 1;
	}
	while (p < e && *p != '>' && *p != ',' && *p != ';')
		p++;
	return p < e && *p == '>' ? p + 1 : p;
}

static void
addr_reset(struct addr_item *it)
{
	imap_mbuf_reset(&it->name);
	imap_mbuf_reset(&it->adl);
	imap_mbuf_reset(&it->mailbox);
	imap_mbuf_reset(&it->host);
	it->has_name = it->has_adl = it->has_host = 0;
}

/* What follows a phrase or local part decides what it was. */
static enum addr_kind
addr_after_words(struct addr_parser *ap, struct addr_item *it)
{
	const char	*p = ap->p, *e = ap->end;

	if (p < e && *p == ':' && !ap->in_group) {
		ap->p = p + 1;
		ap->in_group = 1;
		it->has_name = 1;
		return it->kind = ADDR_GROUP_START;
	}
	if (p < e && *p == '<') {
		it->has_name = it->name.len > 0;
		imap_mbuf_reset(&it->mailbox);
		ap->p = addr_angle(p + 1, e, it);
		return it->kind = ADDR_MAILBOX;
	}
	imap_mbuf_reset(&it->name);
	if (p < e && *p == '@') {
		ap->p = addr_domain(p + 1, e, &it->host);
		it->has_host = 1;
	} else if (p < e && *p == ':')
		ap->p = p + 1;	/* a group within a group: not one */
	return it->kind = ADDR_MAILBOX;
}

enum addr_kind
addr_next(struct addr_parser *ap, struct addr_item *it)
{
	const char	*p, *e = ap->end;
	char		 c;

	for (;;) {
		addr_reset(it);
		p = ap->p = msg_cfws(ap->p, e);
		if (p >= e) {
			if (!ap->in_group)
				return it->kind = ADDR_END;
			ap->in_group = 0;
			return it->kind = ADDR_GROUP_END;
		}
		if (*p == ';' && ap->in_group) {
			ap->p = p + 1;
			ap->in_group = 0;
			return it->kind = ADDR_GROUP_END;
		}
		ap->p = addr_words(p, e, &it->name, &it->mailbox);
		c = ap->p < e ? *ap->p : '\0';
		if (c == '<' || c == '@' || (c == ':' && !ap->in_group) ||
		    it->mailbox.len > 0)
			return addr_after_words(ap, it);
		/* A stray special: skip it. */
		if (ap->p == p)
			ap->p++;
	}
}
