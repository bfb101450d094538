/*
 * common/lineio.c: the bounded line reader every protocol engine reads
 * its client through, driven as the engines drive it, over a real
 * socketpair and libevent.  The first input byte sets the line maximum;
 * the rest is what the client sends.  A line may steer the reader as a
 * session does: "RAW n" asks for n raw bytes (SMTP BDAT), "MAX n" sets
 * a new maximum (SMTP DATA and AUTH), "PAUSE" pauses and resumes it.
 */
#include <sys/socket.h>

#include <unistd.h>

#include <event2/event.h>

#include "fuzz.h"

#include "lineio.h"

#define FUZZ_INPUT_MAX	(64 * 1024)

struct fuzz_lineio {
	struct event_base	*base;
	size_t			 maxline;
	size_t			 raw_asked;
	size_t			 raw_got;
	int			 done;
};

static void
fuzz_raw(struct lineio *l, const char *p, size_t len, size_t left,
    void *arg)
{
	struct fuzz_lineio	*f = arg;

	(void)l;
	(void)p;
	FUZZ_ASSERT(len > 0 && len <= f->maxline);
	f->raw_got += len;
	FUZZ_ASSERT(f->raw_got + left == f->raw_asked);
}

/* "RAW n", "MAX n": n, or 0. */
static size_t
fuzz_number(const char *line, size_t len, const char *verb)
{
	size_t	 n = 0, i, vlen = strlen(verb);

	if (len <= vlen || memcmp(line, verb, vlen) != 0)
		return 0;
	for (i = vlen; i < len && i < vlen + 5; i++) {
		if (line[i] < '0' || line[i] > '9')
			return 0;
		n = n * 10 + (size_t)(line[i] - '0');
	}
	return i == len ? n : 0;
}

static void
fuzz_line(struct lineio *l, const char *line, size_t len, int flags,
    void *arg)
{
	struct fuzz_lineio	*f = arg;
	size_t			 n;

	FUZZ_ASSERT(len <= f->maxline && line[len] == '\0');
	FUZZ_ASSERT(memchr(line, '\n', len) == NULL);
	/*
	 * A line cut before its LF was seen carries LINE_F_TOOLONG alone:
	 * it is refused whatever else it holds.
	 */
	if (flags & LINE_F_TOOLONG)
		FUZZ_ASSERT(len == f->maxline);
	else {
		FUZZ_ASSERT(!!(flags & LINE_F_NUL) ==
		    (memchr(line, '\0', len) != NULL));
		FUZZ_ASSERT(!!(flags & LINE_F_BARECR) ==
		    (memchr(line, '\r', len) != NULL));
	}
	if ((n = fuzz_number(line, len, "RAW ")) > 0) {
		f->raw_asked = n;
		f->raw_got = 0;
		lineio_read_raw(l, n, fuzz_raw);
	} else if ((n = fuzz_number(line, len, "MAX ")) > 0) {
		lineio_set_maxline(l, n);
		f->maxline = n;
	} else if (len == 5 && memcmp(line, "PAUSE", 5) == 0) {
		lineio_pause(l);
		lineio_resume(l);
	}
}

static void
fuzz_event(struct lineio *l, int event, void *arg)
{
	struct fuzz_lineio	*f = arg;

	(void)l;
	FUZZ_ASSERT(event == LINEIO_EOF);
	f->done = 1;
	(void)event_base_loopbreak(f->base);
}

/* Writes the whole input into the socket, then closes that end. */
static void
fuzz_send(int fd, const uint8_t *data, size_t size)
{
	ssize_t	 n;

	while (size > 0) {
		if ((n = write(fd, data, size)) == -1)
			abort();
		data += n;
		size -= (size_t)n;
	}
	(void)close(fd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct event_base	*base;
	struct fuzz_lineio		 f;
	struct lineio			*l;
	int				 sv[2], bufsize = 4 * FUZZ_INPUT_MAX;

	if (base == NULL && (base = event_base_new()) == NULL)
		abort();
	memset(&f, 0, sizeof(f));
	f.base = base;
	f.maxline = 1 + fuzz_byte(&data, &size) * 4;
	if (size > FUZZ_INPUT_MAX)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1 ||
	    setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &bufsize,
	    sizeof(bufsize)) == -1)
		abort();
	fuzz_send(sv[1], data, size);
	if ((l = lineio_new(base, sv[0], f.maxline, fuzz_line, fuzz_event,
	    &f)) == NULL)
		abort();
	(void)event_base_dispatch(base);
	FUZZ_ASSERT(f.done);
	lineio_free(l);
	return 0;
}
