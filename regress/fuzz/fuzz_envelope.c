/*
 * queued/queue_envelope.c: an envelope file as the queue manager reads
 * it back from the spool at start and before each delivery.  What parses
 * must serialise and parse again to the same envelope.
 */
#include "fuzz.h"

#include "../../queued/queue.h"

#define ENV_FILE_MAX	(QUEUE_ENVELOPE_MAX_BYTES + 1)

static void
fuzz_roundtrip(const struct envelope *e)
{
	static struct envelope	 e2;
	static char		 buf[ENV_FILE_MAX];
	const char		*errstr = NULL;
	int			 len;

	len = envelope_serialise(e, buf, sizeof(buf), &errstr);
	if (len == -1)
		fprintf(stderr, "serialise refused: %s\n", errstr);
	FUZZ_ASSERT(len > 0 && (size_t)len < sizeof(buf));
	if (envelope_parse(buf, (size_t)len, &e2, &errstr) == -1)
		fprintf(stderr, "reparse refused: %s\n%.*s", errstr, len,
		    buf);
	FUZZ_ASSERT(envelope_parse(buf, (size_t)len, &e2, &errstr) == 0);
	FUZZ_ASSERT(memcmp(e, &e2, sizeof(e2)) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct envelope	 e;
	const char		*errstr = NULL;
	char			*buf;

	if (size > ENV_FILE_MAX + 16)
		return 0;
	/* Its own buffer, not NUL-terminated: the parser has only len. */
	if ((buf = malloc(size > 0 ? size : 1)) == NULL)
		abort();
	memcpy(buf, data, size);
	memset(&e, 0, sizeof(e));
	if (envelope_parse(buf, size, &e, &errstr) == 0)
		fuzz_roundtrip(&e);
	else
		FUZZ_ASSERT(errstr != NULL);
	free(buf);
	return 0;
}
