/*
 * The selected folder's messages as the session reads them: one message
 * mapped and parsed at a time (kept while the same message is asked for
 * again, as SEARCH asks key after key), and the message accessor that
 * SEARCH, SORT and THREAD evaluate against.  Runs in the mailbox
 * process: the mail user, chrooted in the mail home, seccomp
 * SANDBOX_IMAP_MAILBOX (mmap, munmap, fstat: in its file set).
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "imap_session.h"
#include "imap_store.h"
#include "imap_msg.h"

static struct {
	struct imap_mbox	*mbox;
	uint32_t		 idx;
	char			*map;
	size_t			 len;
	struct imap_message	*msg;
} ld;

void
sess_msg_unload(void)
{
	if (ld.msg != NULL)
		imap_msg_free(ld.msg);
	if (ld.map != NULL && ld.len > 0)
		(void)munmap(ld.map, ld.len);
	memset(&ld, 0, sizeof(ld));
}

/*
 * Message idx of the selected folder, parsed: NULL when it is gone
 * (*st IMAP_ST_EXPUNGED) or unreadable.  Valid until the next load.
 */
struct imap_message *
sess_msg_load(struct imap_sess *s, uint32_t idx, int *st)
{
	static char	 empty[1];
	struct stat	 sb;
	int		 fd;

	*st = IMAP_ST_OK;
	if (ld.msg != NULL && ld.mbox == s->mbox && ld.idx == idx)
		return ld.msg;
	sess_msg_unload();
	if ((fd = imap_mbox_msg_open(s->mbox, idx, st)) == -1)
		return NULL;
	if (fstat(fd, &sb) == -1) {
		(void)close(fd);
		*st = IMAP_ST_IO;
		return NULL;
	}
	ld.len = (size_t)sb.st_size;
	ld.map = empty;
	if (ld.len > 0 && (ld.map = mmap(NULL, ld.len, PROT_READ,
	    MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
		log_warn("%08x imap mmap", s->conn.id);
		ld.map = NULL;
		ld.len = 0;
		(void)close(fd);
		*st = IMAP_ST_IO;
		return NULL;
	}
	(void)close(fd);
	if ((ld.msg = imap_msg_parse(ld.map, ld.len)) == NULL) {
		sess_msg_unload();
		*st = IMAP_ST_IO;
		return NULL;
	}
	ld.mbox = s->mbox;
	ld.idx = idx;
	return ld.msg;
}

/* ---- The accessor (struct imap_msg_access) ---- */

static const struct imap_msg *
acc_msg(void *ctx, uint32_t i)
{
	struct imap_sess	*s = ctx;
	const struct imap_msg	*m = imap_mbox_msg(s->mbox, i);

	return m;
}

static int
acc_flags(void *ctx, uint32_t i, unsigned int *f)
{
	const struct imap_msg	*m = acc_msg(ctx, i);

	if (m == NULL)
		return -1;
	*f = m->flags;
	return 0;
}

static int
acc_keyword(void *ctx, uint32_t i, const char *kw)
{
	(void)ctx;
	(void)i;
	(void)kw;
	return 0;		/* keywords are not stored */
}

static int
acc_uid(void *ctx, uint32_t i, uint32_t *uid)
{
	const struct imap_msg	*m = acc_msg(ctx, i);

	if (m == NULL)
		return -1;
	*uid = m->uid;
	return 0;
}

static int
acc_size(void *ctx, uint32_t i, uint64_t *size)
{
	const struct imap_msg	*m = acc_msg(ctx, i);

	if (m == NULL)
		return -1;
	*size = m->size;
	return 0;
}

static int
acc_modseq(void *ctx, uint32_t i, uint64_t *modseq)
{
	const struct imap_msg	*m = acc_msg(ctx, i);

	if (m == NULL)
		return -1;
	*modseq = m->modseq;
	return 0;
}

static int
acc_internal(void *ctx, uint32_t i, time_t *t, int *tz)
{
	const struct imap_msg	*m = acc_msg(ctx, i);

	if (m == NULL)
		return -1;
	*t = (time_t)m->idate;
	*tz = 0;
	return 0;
}

static int
acc_sent(void *ctx, uint32_t i, time_t *t, int *tz)
{
	struct imap_message	*msg;
	int		 st, tzmin = 0;

	if ((msg = sess_msg_load(ctx, i, &st)) == NULL)
		return -1;
	if ((*t = imap_msg_date(msg, &tzmin)) == 0)
		return -1;
	*tz = tzmin * 60;
	return 0;
}

static int
acc_header(void *ctx, uint32_t i, const char *field, const char *needle,
    size_t len)
{
	struct imap_match	 mt;
	struct imap_message	*msg;
	int			 st;

	if ((msg = sess_msg_load(ctx, i, &st)) == NULL ||
	    imap_match_init(&mt, needle, len) == -1)
		return -1;
	return imap_msg_search_header(msg, field, &mt);
}

static int
acc_body(void *ctx, uint32_t i, int text, const char *needle, size_t len)
{
	struct imap_match	 mt;
	struct imap_message	*msg;
	int			 st;

	if ((msg = sess_msg_load(ctx, i, &st)) == NULL ||
	    imap_match_init(&mt, needle, len) == -1)
		return -1;
	return text ? imap_msg_search_text(msg, &mt) :
	    imap_msg_search_body(msg, &mt);
}

/* "<a> <b>": the ids of a field's value, bracketed. */
static int
acc_ids(const char *v, size_t vlen, struct imap_mbuf *out, int first)
{
	const char	*id;
	size_t		 pos = 0, idlen;
	int		 n = 0;

	while (imap_msgid_next(v, vlen, &pos, &id, &idlen) == 1) {
		if ((n > 0 && imap_mbuf_addc(out, ' ') == -1) ||
		    imap_mbuf_addc(out, '<') == -1 ||
		    imap_mbuf_add(out, id, idlen) == -1 ||
		    imap_mbuf_addc(out, '>') == -1)
			return -1;
		n++;
		if (first)
			break;
	}
	return n;
}

static int
acc_key(struct imap_message *msg, enum imap_key key,
    struct imap_mbuf *b)
{
	struct imap_mbuf	 disp;
	const char		*v;
	size_t			 vlen;
	int			 r, reply = 0;

	switch (key) {
	case IMAP_KEY_SUBJECT_BASE:
		return imap_msg_base_subject(msg, b, NULL);
	case IMAP_KEY_SUBJECT_REPLY:
		if (imap_msg_base_subject(msg, b, &reply) == -1)
			return -1;
		imap_mbuf_reset(b);
		return reply ? imap_mbuf_addc(b, '1') : 0;
	case IMAP_KEY_FROM:
	case IMAP_KEY_TO:
	case IMAP_KEY_CC:
		return imap_msg_first_addr(msg, key == IMAP_KEY_FROM ?
		    "From" : key == IMAP_KEY_TO ? "To" : "Cc", b, NULL) < 0 ?
		    -1 : 0;
	case IMAP_KEY_DISPLAYFROM:
	case IMAP_KEY_DISPLAYTO:
		imap_mbuf_init(&disp, IMAP_SORT_KEY_MAX_BYTES);
		r = imap_msg_first_addr(msg, key == IMAP_KEY_DISPLAYFROM ?
		    "From" : "To", b, &disp);
		if (r == 1 && disp.len > 0) {
			imap_mbuf_reset(b);
			r = imap_mbuf_add(b, disp.data, disp.len);
		}
		imap_mbuf_free(&disp);
		return r < 0 ? -1 : 0;
	case IMAP_KEY_MESSAGE_ID:
		if (imap_hdr_get(msg, imap_msg_root(msg), "Message-ID", &v,
		    &vlen) != 1)
			return 0;
		return acc_ids(v, vlen, b, 1) < 0 ? -1 : 0;
	case IMAP_KEY_REFERENCES:
		if (imap_hdr_get(msg, imap_msg_root(msg), "References", &v,
		    &vlen) == 1 && (r = acc_ids(v, vlen, b, 0)) != 0)
			return r < 0 ? -1 : 0;
		if (imap_hdr_get(msg, imap_msg_root(msg), "In-Reply-To", &v,
		    &vlen) != 1)
			return 0;
		return acc_ids(v, vlen, b, 1) < 0 ? -1 : 0;
	}
	return -1;
}

static int
acc_string(void *ctx, uint32_t i, enum imap_key key, char *buf,
    size_t size)
{
	struct imap_mbuf	 b;
	struct imap_message	*msg;
	int			 st, r;
	size_t			 n;

	if (size == 0 || (msg = sess_msg_load(ctx, i, &st)) == NULL)
		return -1;
	imap_mbuf_init(&b, IMAP_SORT_KEY_MAX_BYTES * 4);
	r = acc_key(msg, key, &b);
	/* Cut at the caller's size: a key that long sorts the same. */
	n = b.len < size - 1 ? b.len : size - 1;
	if (n > 0)
		memcpy(buf, b.data, n);
	buf[n] = '\0';
	imap_mbuf_free(&b);
	return r == -1 && n == 0 ? -1 : (int)n;
}

const struct imap_msg_access imap_sess_access = {
	acc_flags, acc_keyword, acc_uid, acc_size, acc_modseq, acc_internal,
	acc_sent, acc_header, acc_body, acc_string
};
