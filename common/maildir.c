/*
 * Maildir helpers shared by the mailbox worker (which writes) and the
 * mailbox processes (which read).  Names follow the Maildir specification
 * (cr.yp.to/proto/maildir.html) with the ",S=<size>" extension that
 * Courier and Dovecot read to skip a stat(2) per message, and Dovecot's
 * ",W=<size>": the size with CRLF line ends, which POP3 reports.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "maildir.h"
#include "util.h"

#define MAILDIR_DELIVERED_TO	"Delivered-To:"

/* 1 when a host name byte must be written as \ooo. */
static int
maildir_host_escaped(unsigned char c)
{
	return c == '/' || c == ':' || c == ',' || c == '\\' || c <= ' ' ||
	    c >= 0x7f;
}

int
maildir_escape_host(char *dst, size_t dstlen, const char *host)
{
	const unsigned char	*p;
	size_t			 n = 0;

	if (*host == '\0' || dstlen == 0)
		return -1;
	for (p = (const unsigned char *)host; *p != '\0'; p++) {
		if (maildir_host_escaped(*p)) {
			if (dstlen - n < 5)
				return -1;
			(void)snprintf(dst + n, 5, "\\%03o", *p);
			n += 4;
		} else {
			if (dstlen - n < 2)
				return -1;
			dst[n++] = (char)*p;
		}
	}
	dst[n] = '\0';
	return 0;
}

/*
 * The length of an envelope id at s ("<16 hex>.<n>", or with '_' for the
 * dot when sep says so) followed by the byte end; 0 when there is none.
 */
static size_t
maildir_tag_len(const char *s, char sep, char end)
{
	size_t	 i, digits;

	for (i = 0; i < MAILDIR_TAG_HEX_DIGITS; i++)
		if (!isxdigit((unsigned char)s[i]) ||
		    isupper((unsigned char)s[i]))
			return 0;
	if (s[i++] != sep)
		return 0;
	for (digits = 0; isdigit((unsigned char)s[i]); i++)
		digits++;
	if (digits == 0 || digits > MAILDIR_TAG_SEQ_MAX_DIGITS ||
	    s[i] != end)
		return 0;
	return i;
}

/* "E<msgid>_<n>" for the evpid "<msgid>.<n>", or "" for none. */
static int
maildir_tag(char *dst, size_t dstlen, const char *evpid)
{
	size_t	 len;

	dst[0] = '\0';
	if (evpid == NULL || evpid[0] == '\0')
		return 0;
	if ((len = maildir_tag_len(evpid, '.', '\0')) == 0 || len + 2 > dstlen)
		return -1;
	(void)snprintf(dst, dstlen, "%c%.*s_%s", MAILDIR_TAG_MARK,
	    MAILDIR_TAG_HEX_DIGITS, evpid, evpid + MAILDIR_TAG_HEX_DIGITS + 1);
	return 0;
}

int
maildir_unique_name(char *dst, size_t dstlen, const struct maildir_uniq *u,
    const char *host)
{
	char	 esc[MAILDIR_NAME_MAX_BYTES + 1];
	char	 tag[MAILDIR_TAG_MAX_BYTES];
	int	 n;

	if (u->secs < 0 || u->usecs < 0 || u->usecs >= 1000000 || u->pid <= 0)
		return -1;
	if (maildir_tag(tag, sizeof(tag), u->evpid) == -1)
		return -1;
	if (maildir_escape_host(esc, sizeof(esc), host) == -1)
		return -1;
	n = snprintf(dst, dstlen, "%lld.M%ldP%ldQ%lu%s.%s", (long long)u->secs,
	    u->usecs, (long)u->pid, u->counter, tag, esc);
	if (n < 0 || (size_t)n >= dstlen)
		return -1;
	if ((size_t)n > MAILDIR_NAME_MAX_BYTES - MAILDIR_SIZE_SUFFIX_MAX_BYTES)
		return -1;
	return 0;
}

int
maildir_name_msgid(const char *name, char *msgid, size_t msgidlen)
{
	const char	*mid, *p;

	/* The tag is in the middle part: after the first dot, to the next. */
	if ((mid = strchr(name, '.')) == NULL)
		return 0;
	mid++;
	for (p = mid; *p != '\0' && *p != '.' && *p != MAILDIR_TAG_MARK; p++)
		;
	if (*p != MAILDIR_TAG_MARK || maildir_tag_len(p + 1, '_', '.') == 0)
		return 0;
	if (msgidlen <= MAILDIR_TAG_HEX_DIGITS)
		return 0;
	memcpy(msgid, p + 1, MAILDIR_TAG_HEX_DIGITS);
	msgid[MAILDIR_TAG_HEX_DIGITS] = '\0';
	return 1;
}

int
maildir_final_name(char *dst, size_t dstlen, const char *uniq, uint64_t size,
    uint64_t wsize)
{
	int	 n;

	if (*uniq == '\0' || strchr(uniq, '/') != NULL)
		return -1;
	n = snprintf(dst, dstlen, "%s,S=%" PRIu64 ",W=%" PRIu64, uniq, size,
	    wsize);
	if (n < 0 || (size_t)n >= dstlen || n > MAILDIR_NAME_MAX_BYTES)
		return -1;
	return 0;
}

void
maildir_wsize_feed(struct maildir_wsize *w, const char *buf, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++) {
		if (buf[i] == '\n' && w->last != '\r')
			w->size++;
		w->last = buf[i];
	}
	w->size += len;
}

uint64_t
maildir_wsize_end(const struct maildir_wsize *w)
{
	if (w->size == 0 || w->last == '\n')
		return w->size;
	return w->size + (w->last == '\r' ? 1 : 2);
}

/* The decimal value of ",<key>=" in the base name (before ':'). */
int
maildir_name_size(const char *name, char key, uint64_t *v)
{
	const char	*p;
	size_t		 base = strcspn(name, ":");
	char		 tag[4] = { ',', key, '=', '\0' };

	for (p = name; (p = strstr(p, tag)) != NULL && p < name + base;
	    p += 3) {
		if (!isdigit((unsigned char)p[3]))
			continue;
		*v = 0;
		for (p += 3; isdigit((unsigned char)*p); p++) {
			if (*v > (UINT64_MAX - 9) / 10)
				return -1;
			*v = *v * 10 + (uint64_t)(*p - '0');
		}
		return *p == ',' || *p == ':' || *p == '\0' ? 0 : -1;
	}
	return -1;
}

int
maildir_addr_valid(const char *addr, int allow_empty, const char **errstr)
{
	const unsigned char	*p;

	if (*addr == '\0' && !allow_empty) {
		*errstr = "empty address";
		return -1;
	}
	if (strlen(addr) > SMTP_PATH_MAX_BYTES) {
		*errstr = "address too long";
		return -1;
	}
	/* A CR or LF here would let the address write its own headers. */
	for (p = (const unsigned char *)addr; *p != '\0'; p++) {
		if (*p < ' ' || *p == 0x7f) {
			*errstr = "control character in address";
			return -1;
		}
		if (*p == '<' || *p == '>') {
			*errstr = "angle bracket in address";
			return -1;
		}
	}
	return 0;
}

int
maildir_headers(char *dst, size_t dstlen, const char *sender,
    const char *rcpt, const char **errstr)
{
	int	 n;

	if (maildir_addr_valid(sender, 1, errstr) == -1 ||
	    maildir_addr_valid(rcpt, 0, errstr) == -1)
		return -1;
	n = snprintf(dst, dstlen, "Return-Path: <%s>\nDelivered-To: %s\n",
	    sender, rcpt);
	if (n < 0 || (size_t)n >= dstlen) {
		*errstr = "header lines too long";
		return -1;
	}
	return n;
}

void
maildir_loop_init(struct maildir_loop *l, const char *rcpt)
{
	memset(l, 0, sizeof(*l));
	l->rcpt = rcpt;
}

/* Judges the header gathered in hdr, then forgets it. */
static void
maildir_loop_header(struct maildir_loop *l)
{
	const char	*v, *end;
	size_t		 plen = strlen(MAILDIR_DELIVERED_TO);

	if (l->toolong || l->len < plen ||
	    strncasecmp(l->hdr, MAILDIR_DELIVERED_TO, plen) != 0)
		goto out;
	v = l->hdr + plen;
	end = l->hdr + l->len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (end - v >= 2 && *v == '<' && end[-1] == '>') {
		v++;
		end--;
	}
	if ((size_t)(end - v) == strlen(l->rcpt) &&
	    strncasecmp(v, l->rcpt, (size_t)(end - v)) == 0)
		l->found = 1;
out:
	l->len = 0;
	l->toolong = 0;
}

/*
 * One byte of the header section.  A line that starts with a space or a
 * tab continues the header before it (unfolding drops only the line
 * break); any other line starts a new header, so the one gathered so far
 * is judged.  CRs are dropped, so that CRLF and LF messages read alike.
 */
static void
maildir_loop_byte(struct maildir_loop *l, char c)
{
	if (c == '\r')
		return;
	if (c == '\n') {
		if (l->linelen == 0) {
			maildir_loop_header(l);
			l->done = 1;
		}
		l->linelen = 0;
		return;
	}
	if (l->linelen++ == 0 && c != ' ' && c != '\t')
		maildir_loop_header(l);
	if (l->len < sizeof(l->hdr))
		l->hdr[l->len++] = c;
	else
		l->toolong = 1;
}

int
maildir_loop_feed(struct maildir_loop *l, const char *buf, size_t len)
{
	size_t	 i;

	for (i = 0; i < len && !l->done && !l->found; i++)
		maildir_loop_byte(l, buf[i]);
	return l->done || l->found;
}

int
maildir_loop_end(struct maildir_loop *l)
{
	if (!l->done && !l->found) {
		maildir_loop_header(l);
		l->done = 1;
	}
	return l->found;
}

int
maildir_loop_check(const char *msg, size_t len, const char *rcpt)
{
	struct maildir_loop	 l;

	maildir_loop_init(&l, rcpt);
	(void)maildir_loop_feed(&l, msg, len);
	return maildir_loop_end(&l);
}

/* fsyncs the directory that holds path, after path was created in it. */
static int
maildir_sync_parent(const char *path)
{
	char	 parent[PATH_MAX];
	int	 fd, r;

	if (util_path_split(path, parent, sizeof(parent), NULL, 0) == -1)
		return -1;
	if ((fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	r = fsync(fd);
	(void)close(fd);
	return r;
}

/* Opens dirfd/name as a directory, making it first when create is set. */
static int
maildir_subdir(int dirfd, const char *name, int create, int *made)
{
	if (create) {
		if (mkdirat(dirfd, name, 0700) == 0)
			*made = 1;
		else if (errno != EEXIST)
			return -1;
	}
	return openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

int
maildir_open(struct maildir *md, const char *path, int create)
{
	int	 made = 0, saved;

	md->dirfd = md->tmpfd = md->newfd = md->curfd = -1;
	if (create) {
		if (mkdir(path, 0700) == 0) {
			if (maildir_sync_parent(path) == -1)
				goto fail;
		} else if (errno != EEXIST)
			return -1;
	}
	if ((md->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	md->tmpfd = maildir_subdir(md->dirfd, "tmp", create, &made);
	if (md->tmpfd == -1)
		goto fail;
	md->newfd = maildir_subdir(md->dirfd, "new", create, &made);
	if (md->newfd == -1)
		goto fail;
	md->curfd = maildir_subdir(md->dirfd, "cur", create, &made);
	if (md->curfd == -1)
		goto fail;
	if (made && fsync(md->dirfd) == -1)
		goto fail;
	return 0;
fail:
	saved = errno;
	maildir_close(md);
	errno = saved;
	return -1;
}

void
maildir_close(struct maildir *md)
{
	if (md->dirfd != -1)
		(void)close(md->dirfd);
	if (md->tmpfd != -1)
		(void)close(md->tmpfd);
	if (md->newfd != -1)
		(void)close(md->newfd);
	if (md->curfd != -1)
		(void)close(md->curfd);
	md->dirfd = md->tmpfd = md->newfd = md->curfd = -1;
}
