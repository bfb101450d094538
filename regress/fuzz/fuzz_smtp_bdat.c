/*
 * smtpd/smtp_bdat.c and the data rules of smtp_parse.c: BDAT chunk
 * content (RFC 3030) split into lines across chunk boundaries, each
 * line scanned as smtp_data.c scans message data (dot-stuffing, bare LF
 * and CR, NUL, line length, Received: count).  The input is a series of
 * chunks, each a length byte and its bytes; the first byte says whether
 * the content is BDAT or DATA, and the line maximum.
 */
#include "fuzz.h"

#include "lineio.h"
#include "../../smtpd/smtp_parse.h"

struct fuzz_bdat {
	struct smtp_data_scan	 scan;
	int			 ended;
};

static void
fuzz_line(void *arg, const char *line, size_t len, int lflags)
{
	struct fuzz_bdat	*f = arg;
	const char		*text;
	size_t			 textlen;

	FUZZ_ASSERT(len <= SMTP_LINE_LIMIT_MAX_BYTES);
	if (f->ended)
		return;
	if (smtp_data_scan_line(&f->scan, line, len, lflags, &text,
	    &textlen) == 1) {
		FUZZ_ASSERT(!f->scan.bdat);
		f->ended = 1;
		return;
	}
	FUZZ_ASSERT(text >= line && textlen <= len &&
	    text + textlen <= line + len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct smtp_bdat_lines	 bl;
	struct fuzz_bdat		 f;
	unsigned int			 sel;
	size_t				 n;
	char				*chunk;

	sel = fuzz_byte(&data, &size);
	memset(&bl, 0, sizeof(bl));
	memset(&f, 0, sizeof(f));
	smtp_data_scan_init(&f.scan);
	f.scan.bdat = sel & 1;
	if (sel & 2)
		f.scan.line_max = 16 + (sel >> 2);
	while (size > 0) {
		n = fuzz_byte(&data, &size) * 64 + 1;
		if (n > size)
			n = size;
		/* Each chunk in its own buffer: ASan sees reads past it. */
		if ((chunk = malloc(n)) == NULL)
			abort();
		memcpy(chunk, data, n);
		smtp_bdat_split(&bl, chunk, n, fuzz_line, &f);
		free(chunk);
		data += n;
		size -= n;
	}
	smtp_bdat_finish(&bl, fuzz_line, &f);
	FUZZ_ASSERT(f.scan.flags <= (SMTP_DATA_F_TOOLONG | SMTP_DATA_F_BARE |
	    SMTP_DATA_F_NUL | SMTP_DATA_F_LOOP));
	return 0;
}
