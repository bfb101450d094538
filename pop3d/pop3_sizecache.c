/*
 * The octet counts of the maildrop's messages with CRLF line ends (what
 * LIST and STAT report, RFC 1939 5) take a full read of every message
 * to learn; this cache remembers them across sessions.  Run by the
 * mailbox process, as the user, in the user's own Maildir.
 *
 * The file is POP3_SIZECACHE_NAME in the Maildir:
 *
 *	sallyport-pop3-sizes 1
 *	<size on disk> <size with CRLF> <base name>
 *
 * Maildir files never change once delivered, so an entry holds as long
 * as its base name (the name before ':', which flags do not change) and
 * its size on disk both match.  A file that does not parse is ignored
 * as a whole; the cache is rewritten whenever it was missing, stale or
 * incomplete.  Only the user can write it, and a wrong entry would only
 * misreport sizes to the user's own client.  A message whose name
 * carries its size with CRLF (",W=", pop3_maildrop.c) is not read and
 * not in the cache.
 *
 * A cache must never lock its owner out: a session that died reading it
 * (glibc's qsort(3) once asked sysinfo(2), which the sandbox refused,
 * past 42 entries) would otherwise die again at every login.  So it is
 * read under another name, SIZECACHE_BUSY, to which it is renamed
 * first, and put back (or rewritten) only when the maildrop is filled.
 * A session that dies in between leaves it under that name, and the
 * next one throws it away and measures the messages again.
 */
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "pop3d.h"

#define SIZECACHE_MAGIC		"sallyport-pop3-sizes 1"
#define SIZECACHE_TMP		POP3_SIZECACHE_NAME ".tmp"
#define SIZECACHE_BUSY		POP3_SIZECACHE_NAME ".busy"
/* Two 20-digit numbers, two spaces, a name, a newline and the NUL. */
#define SIZECACHE_LINE_MAX	(NAME_MAX + 44)

struct sizecache_entry {
	char		*base;
	uint64_t	 lfsize;
	uint64_t	 size;
};

struct sizecache {
	struct sizecache_entry	*v;
	size_t			 n;
	size_t			 alloc;
};

static int
sizecache_cmp(const void *a, const void *b)
{
	const struct sizecache_entry	*x = a, *y = b;

	return strcmp(x->base, y->base);
}

/* A name the file format can hold: no blank, no control byte. */
static int
sizecache_name_ok(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			return 0;
	return len > 0;
}

static void
sizecache_clear(struct sizecache *sc)
{
	size_t	 i;

	for (i = 0; i < sc->n; i++)
		free(sc->v[i].base);
	free(sc->v);
	memset(sc, 0, sizeof(*sc));
}

/* Parses "<lfsize> <size> <base>\n"; -1 when it is not that. */
static int
sizecache_parse(struct sizecache *sc, char *line)
{
	struct sizecache_entry	 e, *v;
	char			*p, *end;
	size_t			 len = strlen(line);

	if (len == 0 || line[len - 1] != '\n')
		return -1;
	line[--len] = '\0';
	if (!isdigit((unsigned char)line[0]))
		return -1;
	errno = 0;
	e.lfsize = strtoull(line, &end, 10);
	if (end == line || *end != ' ' || errno != 0)
		return -1;
	p = end + 1;
	if (!isdigit((unsigned char)*p))
		return -1;
	e.size = strtoull(p, &end, 10);
	if (end == p || *end != ' ' || errno != 0 || e.size < e.lfsize)
		return -1;
	p = end + 1;
	if (!sizecache_name_ok(p, strlen(p)) || sc->n == POP3_MESSAGES_MAX)
		return -1;
	if (sc->n == sc->alloc) {
		sc->alloc = sc->alloc == 0 ? 64 : sc->alloc * 2;
		if ((v = reallocarray(sc->v, sc->alloc, sizeof(*v))) == NULL)
			return -1;
		sc->v = v;
	}
	if ((e.base = strdup(p)) == NULL)
		return -1;
	sc->v[sc->n++] = e;
	return 0;
}

/*
 * Renames the cache to SIZECACHE_BUSY, after removing one that a dead
 * session left there.  0 when there is a cache to read.
 */
static int
sizecache_take(int dirfd, uint32_t id)
{
	if (unlinkat(dirfd, SIZECACHE_BUSY, 0) == 0)
		log_warnx("%08x pop3 sizecache-ignored reason=left-by-dead-"
		    "session", id);
	else if (errno != ENOENT) {
		log_warn("%08x pop3 sizecache-ignored reason=unlink", id);
		return -1;
	}
	if (renameat(dirfd, POP3_SIZECACHE_NAME, dirfd, SIZECACHE_BUSY) == 0)
		return 0;
	if (errno != ENOENT)
		log_warn("%08x pop3 sizecache-ignored reason=rename", id);
	return -1;
}

/* Puts back the cache that sizecache_take() took. */
static void
sizecache_untake(int dirfd, uint32_t id)
{
	if (renameat(dirfd, SIZECACHE_BUSY, dirfd, POP3_SIZECACHE_NAME) == -1)
		log_warn("%08x pop3 sizecache-restore", id);
}

/* Reads the cache; a missing or broken file leaves it empty. */
static void
sizecache_load(int dirfd, struct sizecache *sc, uint32_t id)
{
	char	 line[SIZECACHE_LINE_MAX];
	FILE	*fp;
	int	 fd, bad = 0;

	memset(sc, 0, sizeof(*sc));
	fd = openat(dirfd, SIZECACHE_BUSY, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return;
	if ((fp = fdopen(fd, "r")) == NULL) {
		(void)close(fd);
		return;
	}
	if (fgets(line, sizeof(line), fp) == NULL ||
	    strcmp(line, SIZECACHE_MAGIC "\n") != 0)
		bad = 1;
	while (!bad && fgets(line, sizeof(line), fp) != NULL)
		if (sizecache_parse(sc, line) == -1)
			bad = 1;
	if (ferror(fp))
		bad = 1;
	(void)fclose(fp);
	if (bad) {
		log_warnx("%08x pop3 sizecache-ignored reason=malformed", id);
		sizecache_clear(sc);
		return;
	}
	if (sc->n > 1)
		qsort(sc->v, sc->n, sizeof(sc->v[0]), sizecache_cmp);
}

static int
sizecache_write(FILE *fp, const struct maildrop *md)
{
	const struct maildrop_msg	*m;
	size_t				 i;

	if (fprintf(fp, "%s\n", SIZECACHE_MAGIC) < 0)
		return -1;
	for (i = 0; i < md->nmsgs; i++) {
		m = &md->msgs[i];
		if (m->drop || m->sized ||
		    !sizecache_name_ok(m->name, m->baselen))
			continue;
		if (fprintf(fp, "%llu %llu %.*s\n",
		    (unsigned long long)m->lfsize,
		    (unsigned long long)m->size, (int)m->baselen,
		    m->name) < 0)
			return -1;
	}
	return fflush(fp) == EOF ? -1 : 0;
}

/* Replaces the cache with the sizes now known; failures only log. */
static void
sizecache_save(const struct maildrop *md)
{
	FILE	*fp;
	int	 fd, dirfd = md->md.dirfd, r;

	fd = openat(dirfd, SIZECACHE_TMP,
	    O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1) {
		log_warn("%08x pop3 sizecache-write", md->id);
		return;
	}
	if ((fp = fdopen(fd, "w")) == NULL) {
		(void)close(fd);
		(void)unlinkat(dirfd, SIZECACHE_TMP, 0);
		return;
	}
	r = sizecache_write(fp, md);
	if (fclose(fp) == EOF)
		r = -1;
	if (r == 0 && renameat(dirfd, SIZECACHE_TMP, dirfd,
	    POP3_SIZECACHE_NAME) == 0)
		return;
	log_warn("%08x pop3 sizecache-write", md->id);
	(void)unlinkat(dirfd, SIZECACHE_TMP, 0);
}

/* Reads a message to count its octets; a message gone is dropped. */
static int
sizecache_measure(struct maildrop *md, struct maildrop_msg *m)
{
	int	 fd, r;

	if ((fd = maildrop_msg_open(md, m)) == -1) {
		if (errno != ENOENT)
			return -1;
		m->drop = 1;
		return 0;
	}
	r = pop3_xform_size(fd, &m->size);
	(void)close(fd);
	return r;
}

int
pop3_sizecache_fill(struct maildrop *md)
{
	struct sizecache	 sc;
	struct sizecache_entry	 key, *e;
	struct maildrop_msg	*m;
	char			 base[NAME_MAX + 1];
	size_t			 i, hits = 0;
	int			 dirty = 0, taken;

	memset(&sc, 0, sizeof(sc));
	if ((taken = sizecache_take(md->md.dirfd, md->id) == 0))
		sizecache_load(md->md.dirfd, &sc, md->id);
	key.base = base;
	for (i = 0; i < md->nmsgs; i++) {
		m = &md->msgs[i];
		if (m->drop || m->sized)
			continue;
		(void)snprintf(base, sizeof(base), "%.*s", (int)m->baselen,
		    m->name);
		e = sc.n == 0 ? NULL : bsearch(&key, sc.v, sc.n,
		    sizeof(sc.v[0]), sizecache_cmp);
		if (e != NULL && e->lfsize == m->lfsize) {
			m->size = e->size;
			hits++;
			continue;
		}
		if (sizecache_measure(md, m) == -1) {
			log_warn("%08x pop3 maildrop-read uidl=%s", md->id,
			    m->uidl);
			sizecache_clear(&sc);
			if (taken)
				sizecache_untake(md->md.dirfd, md->id);
			return -1;
		}
		if (sizecache_name_ok(m->name, m->baselen))
			dirty = 1;
	}
	md->cache_hits = hits;
	if (dirty || hits != sc.n) {
		sizecache_save(md);
		if (taken)
			(void)unlinkat(md->md.dirfd, SIZECACHE_BUSY, 0);
	} else if (taken)
		sizecache_untake(md->md.dirfd, md->id);
	sizecache_clear(&sc);
	return 0;
}
