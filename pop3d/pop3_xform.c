/*
 * The text of a message as POP3 sends it (RFC 1939 3): lines end with
 * CRLF, a line starting with '.' gets another '.', and ".\r\n" ends the
 * answer.  Messages are stored with LF line ends (doc/INTERNALS.md), so
 * a lone LF becomes CRLF; a CRLF already there is kept, and a lone CR
 * is passed as it is.  A last line without its line end gets one.
 *
 * LIST and STAT count the octets of the same conversion without the
 * stuffing and the terminator (RFC 1939 5, LIST: "the exact size"),
 * so that a client sees exactly the octets it was promised.
 *
 * Pure code, run by the mailbox process and the unit tests.
 */
#include <sys/types.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "pop3d.h"

void
pop3_xform_init(struct pop3_xform *x, int wire, int64_t maxbody)
{
	memset(x, 0, sizeof(*x));
	x->wire = wire;
	x->maxbody = maxbody;
	x->bol = 1;
}

/*
 * A line end was passed: track the header's end and TOP's count
 * (RFC 1939 7, TOP: the header, the blank line, then n body lines).
 */
static void
pop3_xform_eol(struct pop3_xform *x)
{
	int	 blank;

	blank = x->linelen == 0 || (x->linelen == 1 && x->cr);
	x->bol = 1;
	x->cr = 0;
	x->linelen = 0;
	if (!x->body) {
		if (blank) {
			x->body = 1;
			if (x->maxbody == 0)
				x->done = 1;
		}
		return;
	}
	x->lines++;
	if (x->maxbody >= 0 && x->lines >= x->maxbody)
		x->done = 1;
}

/*
 * A line at a time: memchr(3) finds its end and memcpy(3) copies it,
 * which made a large RETR several times cheaper than a loop over each
 * octet.
 */
size_t
pop3_xform_run(struct pop3_xform *x, const char *in, size_t inlen,
    char *out, size_t *used)
{
	const char	*nl;
	size_t		 i = 0, o = 0, run;

	while (i < inlen && !x->done) {
		if (x->bol && in[i] == '.' && x->wire)
			out[o++] = '.';
		nl = memchr(in + i, '\n', inlen - i);
		run = (nl != NULL ? (size_t)(nl - in) : inlen) - i;
		if (run > 0) {
			memcpy(out + o, in + i, run);
			o += run;
			i += run;
			x->bol = 0;
			x->cr = in[i - 1] == '\r';
			x->linelen += run;
		}
		if (nl == NULL)
			break;
		if (!x->cr)
			out[o++] = '\r';
		out[o++] = '\n';
		i++;
		pop3_xform_eol(x);
	}
	*used = i;
	return o;
}

size_t
pop3_xform_end(struct pop3_xform *x, char *out)
{
	size_t	 o = 0;

	if (!x->bol) {
		/* A lone CR at the very end already counts as the CR. */
		if (!x->cr)
			out[o++] = '\r';
		out[o++] = '\n';
		x->bol = 1;
		x->cr = 0;
	}
	if (x->wire) {
		memcpy(out + o, ".\r\n", 3);
		o += 3;
	}
	return o;
}

int
pop3_xform_size(int fd, uint64_t *size)
{
	char			 in[POP3_READ_CHUNK_BYTES];
	char			 out[POP3_XFORM_OUT_MAX(sizeof(in))];
	struct pop3_xform	 x;
	uint64_t		 total = 0;
	ssize_t			 n;
	size_t			 used;

	pop3_xform_init(&x, 0, -1);
	for (;;) {
		n = read(fd, in, sizeof(in));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0)
			break;
		total += pop3_xform_run(&x, in, (size_t)n, out, &used);
	}
	total += pop3_xform_end(&x, out);
	*size = total;
	return 0;
}
