/*
 * imapd: the ENVELOPE of a message (RFC 3501 7.4.2, RFC 9051 7.5.2) as
 * a standalone string for the index to cache, and the first address,
 * the Message-ID and the message ids of a field for SORT and THREAD
 * (RFC 5256).  Mailbox process (the mail user, chrooted, seccomp'd):
 * memory only.
 */
#include <string.h>

#include "imap_msg_int.h"

/* An unstructured field as an nstring: NIL when absent. */
static int
env_nstring(const struct imap_message *m, const struct imap_part *p,
    const char *name, struct imap_mbuf *out)
{
	long	 len;

	if ((len = msg_field(m, p, name)) < 0)
		return imap_mbuf_add(out, "NIL", 3);
	return imap_mbuf_addstring(out, m->field, (size_t)len);
}

static int
env_opt(struct imap_mbuf *out, int has, const struct imap_mbuf *s)
{
	if (!has)
		return imap_mbuf_add(out, "NIL", 3);
	return imap_mbuf_addstring(out, s->data ? s->data : "", s->len);
}

/* One address of the list: (name adl mailbox host). */
static int
env_address(const struct addr_item *it, struct imap_mbuf *out)
{
	if (it->kind == ADDR_GROUP_END)
		return imap_mbuf_adds(out, "(NIL NIL NIL NIL)");
	if (it->kind == ADDR_GROUP_START)
		return imap_mbuf_adds(out, "(NIL NIL ") == -1 ||
		    env_opt(out, 1, &it->name) == -1 ||
		    imap_mbuf_adds(out, " NIL)") == -1 ? -1 : 0;
	if (imap_mbuf_addc(out, '(') == -1 ||
	    env_opt(out, it->has_name, &it->name) == -1 ||
	    imap_mbuf_addc(out, ' ') == -1 ||
	    env_opt(out, it->has_adl, &it->adl) == -1 ||
	    imap_mbuf_addc(out, ' ') == -1 ||
	    env_opt(out, 1, &it->mailbox) == -1 ||
	    imap_mbuf_addc(out, ' ') == -1 ||
	    /* A missing domain is "", not NIL (NIL marks a group). */
	    env_opt(out, 1, &it->host) == -1)
		return -1;
	return imap_mbuf_addc(out, ')');
}

/*
 * An address list field: NIL when absent or holding no address.  1 when
 * something was written, 0 for NIL (not written), -1 on overflow.
 */
static int
env_addrs(const struct imap_message *m, const struct imap_part *p,
    const char *name, struct imap_mbuf *out)
{
	struct addr_parser ap;
	struct addr_item it;
	long		 len;
	size_t		 start = out->len;
	unsigned int	 n = 0;
	int		 rc = 0;

	if ((len = msg_field(m, p, name)) < 0)
		return 0;
	addr_init(&ap, &it, m->field, (size_t)len);
	while (addr_next(&ap, &it) != ADDR_END && rc == 0) {
		if (n >= IMAP_MSG_ADDRS_MAX && it.kind != ADDR_GROUP_END)
			continue;
		if ((n == 0 && imap_mbuf_addc(out, '(') == -1) ||
		    env_address(&it, out) == -1)
			rc = -1;
		n++;
	}
	addr_item_free(&it);
	if (rc == -1)
		return -1;
	if (n == 0) {
		out->len = start;
		return 0;
	}
	return imap_mbuf_addc(out, ')') == -1 ? -1 : 1;
}

/* Sender and Reply-To: the From list when absent or empty. */
static int
env_addrs_or(const struct imap_message *m, const struct imap_part *p,
    const char *name, const char *from, size_t fromlen,
    struct imap_mbuf *out)
{
	int	 rc;

	if ((rc = env_addrs(m, p, name, out)) != 0)
		return rc == -1 ? -1 : 0;
	if (fromlen == 0)
		return imap_mbuf_add(out, "NIL", 3);
	return imap_mbuf_add(out, from, fromlen);
}

static int
env_addrs_nil(const struct imap_message *m, const struct imap_part *p,
    const char *name, struct imap_mbuf *out)
{
	int	 rc;

	if ((rc = env_addrs(m, p, name, out)) != 0)
		return rc == -1 ? -1 : 0;
	return imap_mbuf_add(out, "NIL", 3);
}

int
imap_msg_envelope(const struct imap_message *m, const struct imap_part *p,
    struct imap_mbuf *out)
{
	struct imap_mbuf from;
	int		 rc = -1;

	imap_mbuf_init(&from, out->max);
	if (env_addrs(m, p, "From", &from) == -1)
		goto done;
	if (imap_mbuf_addc(out, '(') == -1 ||
	    env_nstring(m, p, "Date", out) == -1 ||
	    imap_mbuf_addc(out, ' ') == -1 ||
	    env_nstring(m, p, "Subject", out) == -1 ||
	    imap_mbuf_addc(out, ' ') == -1 ||
	    (from.len ? imap_mbuf_add(out, from.data, from.len) :
	    imap_mbuf_add(out, "NIL", 3)) == -1 ||
	    imap_mbuf_addc(out, ' ') == -1 ||
	    env_addrs_or(m, p, "Sender", from.data, from.len, out) == -1 ||
	    imap_mbuf_addc(out, ' ') == -1 ||
	    env_addrs_or(m, p, "Reply-To", from.data, from.len, out) == -1)
		goto done;
	if (imap_mbuf_addc(out, ' ') == -1 ||
	    env_addrs_nil(m, p, "To", out) == -1 ||
	    imap_mbuf_addc(out, ' ') == -1 ||
	    env_addrs_nil(m, p, "Cc", out) == -1 ||
	    imap_mbuf_addc(out, ' ') == -1 ||
	    env_addrs_nil(m, p, "Bcc", out) == -1 ||
	    imap_mbuf_addc(out, ' ') == -1 ||
	    env_nstring(m, p, "In-Reply-To", out) == -1 ||
	    imap_mbuf_addc(out, ' ') == -1 ||
	    env_nstring(m, p, "Message-ID", out) == -1 ||
	    imap_mbuf_addc(out, ')') == -1)
		goto done;
	rc = 0;
done:
	imap_mbuf_free(&from);
	return rc;
}

int
imap_msg_first_addr(const struct imap_message *m, const char *name,
    struct imap_mbuf *mailbox, struct imap_mbuf *display)
{
	struct addr_parser ap;
	struct addr_item it;
	long		 len;
	int		 rc = 0;

	if ((len = msg_field(m, m->root, name)) < 0)
		return 0;
	addr_init(&ap, &it, m->field, (size_t)len);
	while (addr_next(&ap, &it) != ADDR_END) {
		if (it.kind != ADDR_MAILBOX)
			continue;
		rc = 1;
		if (mailbox != NULL && imap_mbuf_add(mailbox,
		    it.mailbox.data ? it.mailbox.data : "", it.mailbox.len) == -1)
			rc = -1;
		if (display != NULL && it.has_name && rc == 1 &&
		    imap_hdr_decode(it.name.data, it.name.len, display) == -1)
			rc = -1;
		break;
	}
	addr_item_free(&it);
	return rc;
}

int
imap_msgid_next(const char *value, size_t len, size_t *pos,
    const char **id, size_t *idlen)
{
	const char	*lt, *gt, *e = value + len;

	while (*pos < len) {
		lt = memchr(value + *pos, '<', len - *pos);
		if (lt == NULL)
			break;
		gt = memchr(lt + 1, '>', (size_t)(e - lt - 1));
		if (gt == NULL)
			break;
		*pos = (size_t)(gt + 1 - value);
		if (gt == lt + 1)
			continue;
		*id = lt + 1;
		*idlen = (size_t)(gt - lt - 1);
		return 1;
	}
	*pos = len;
	return 0;
}

int
imap_msg_message_id(const struct imap_message *m, struct imap_mbuf *out)
{
	const char	*id;
	size_t		 idlen, pos = 0;
	long		 len;

	if ((len = msg_field(m, m->root, "Message-ID")) < 0 ||
	    !imap_msgid_next(m->field, (size_t)len, &pos, &id, &idlen))
		return 0;
	return imap_mbuf_add(out, id, idlen) == -1 ? -1 : 1;
}
