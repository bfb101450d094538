/*
 * queued/relay_smtp_reply.c: the relay client's reply parser, fed what
 * a hostile server may send.  The input is split at LF into lines; the
 * first byte says whether the reply is read as an EHLO reply.  Whatever
 * the input, a complete reply has a code in 200-559 and printable,
 * terminated text, and the parser never takes more than its limits.
 */
#include "fuzz.h"

#include "../../queued/relay_smtp_reply.h"

static void
fuzz_check(const struct relay_reply *r)
{
	size_t	 i, len = strnlen(r->text, sizeof(r->text));
	char	 buf[RELAY_REPLY_TEXT_MAX_BYTES + 32];

	FUZZ_ASSERT(r->code >= 200 && r->code <= 559);
	FUZZ_ASSERT(len < sizeof(r->text));
	for (i = 0; i < len; i++)
		FUZZ_ASSERT(r->text[i] >= 0x20 && r->text[i] < 0x7f);
	FUZZ_ASSERT(r->status[0] == '\0' ||
	    r->status[0] - '0' == r->code / 100);
	(void)relay_reply_str(r, buf, sizeof(buf));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct relay_reply	 r;
	struct relay_caps	 caps;
	const char		*p, *end, *nl, *errstr;
	int			 ehlo, res = 0;

	ehlo = fuzz_byte(&data, &size) & 1;
	relay_reply_reset(&r, &caps);
	p = (const char *)data;
	end = p + size;
	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		errstr = NULL;
		res = relay_reply_feed(&r, ehlo ? &caps : NULL, p,
		    (size_t)(nl - p), &errstr);
		FUZZ_ASSERT(r.nlines <= RELAY_REPLY_LINES_MAX + 1);
		if (res == -1)
			FUZZ_ASSERT(errstr != NULL);
		if (res == 1) {
			fuzz_check(&r);
			relay_reply_reset(&r, NULL);
		}
		if (res == -1)
			break;
		p = nl + 1;
	}
	return 0;
}
