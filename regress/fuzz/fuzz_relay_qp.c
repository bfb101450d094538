/*
 * queued/relay_smtp_qp.c, relay_smtp_mime.c: the relay client's
 * 8-bit to quoted-printable conversion, fed any message.  The first
 * byte sets the piece size the conversion is fed in.  Whatever the
 * input: a message the scan accepts converts to 7-bit data alone (no
 * byte with the high bit set may reach a server without 8BITMIME), the
 * same whatever the pieces, and a refusal names a known reason.
 */
#include "fuzz.h"

#include "../../queued/relay_smtp_qp.h"

struct fuzz_out {
	size_t	 len;
	int	 eightbit;
	uint32_t hash;
};

static int
fuzz_sink(void *arg, const char *s, size_t n)
{
	struct fuzz_out	*o = arg;
	size_t		 i;

	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] & 0x80)
			o->eightbit = 1;
		o->hash = o->hash * 31 + (unsigned char)s[i];
	}
	o->len += n;
	return 0;
}

static void
fuzz_convert(struct relay_mime *m, const char *s, size_t size, size_t step,
    struct fuzz_out *o)
{
	size_t	 i, k;

	memset(o, 0, sizeof(*o));
	relay_mime_start(m, fuzz_sink, o);
	for (i = 0; i < size; i += k) {
		k = size - i < step ? size - i : step;
		FUZZ_ASSERT(relay_mime_feed(m, s + i, k) == 0);
	}
	FUZZ_ASSERT(relay_mime_end(m) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct relay_mime	*m;
	struct fuzz_out		 a, b;
	enum relay_mime_err	 e;
	size_t			 step;

	step = fuzz_byte(&data, &size) % 64 + 1;
	if ((m = relay_mime_new()) == NULL)
		abort();
	relay_mime_start(m, NULL, NULL);
	FUZZ_ASSERT(relay_mime_feed(m, (const char *)data, size) == 0);
	FUZZ_ASSERT(relay_mime_end(m) == 0);
	e = relay_mime_error(m);
	FUZZ_ASSERT(e <= RELAY_MIME_FIELD);
	FUZZ_ASSERT(strncmp(relay_mime_reply(e), e == RELAY_MIME_OK ? "250 " :
	    "554 5.6.3 ", e == RELAY_MIME_OK ? 4 : 10) == 0);
	if (e == RELAY_MIME_OK) {
		fuzz_convert(m, (const char *)data, size, step, &a);
		fuzz_convert(m, (const char *)data, size, size + 1, &b);
		FUZZ_ASSERT(!a.eightbit);
		FUZZ_ASSERT(a.len == b.len && a.hash == b.hash);
	}
	relay_mime_free(m);
	return 0;
}
