/*
 * What sendmail reads from its caller (sallyctl/sendmail_addr.c,
 * sendmail_msg.c): a message on standard input, scanned with -t for
 * the addresses of To, Cc and Bcc.  The first input byte picks the
 * address-list parser alone, or the whole message with -t and -i.
 * Whatever the input, every recipient kept is a bounded string with an
 * '@' and nothing RCPT TO cannot carry (no CR or LF above all), and the
 * stored message's header holds no Bcc field.
 */
#include <sys/types.h>

#include <strings.h>

#include "fuzz.h"

#include "../../sallyctl/sendmail.h"

static int
fuzz_addr_cb(void *arg, const char *addr)
{
	(void)arg;
	FUZZ_ASSERT(strlen(addr) < SMTP_PATH_MAX_BYTES);
	return 0;
}

static void
fuzz_msg(const uint8_t *data, size_t size, int flags)
{
	struct sendmail_rcpts	 r = { NULL, 0, 100, "example.test" };
	struct sendmail_msg	 m;
	const char		*errstr;
	char			*out = NULL, *end;
	size_t			 outlen = 0, i;
	FILE			*in, *fo;

	memset(&m, 0, sizeof(m));
	m.extract = flags & 1;
	m.ignore_dots = (flags >> 1) & 1;
	m.from_line = "From: <u@example.test>";
	m.max_bytes = 1024 * 1024;
	m.rcpts = &r;
	if ((in = fmemopen((void *)(uintptr_t)data, size > 0 ? size : 1,
	    "r")) == NULL || (fo = open_memstream(&out, &outlen)) == NULL)
		abort();
	if (size == 0)
		(void)fgetc(in);
	(void)sendmail_msg_read(&m, in, fo, &errstr);
	(void)fclose(fo);
	(void)fclose(in);
	for (i = 0; i < r.n; i++) {
		FUZZ_ASSERT(strchr(r.addrs[i], '@') != NULL);
		FUZZ_ASSERT(sendmail_addr_valid(r.addrs[i]));
		FUZZ_ASSERT(strpbrk(r.addrs[i], "\r\n") == NULL);
	}
	FUZZ_ASSERT(r.n <= r.max);
	/* The header ends at the first empty line, which is always written. */
	if ((end = strstr(out, "\n\n")) != NULL)
		*end = '\0';
	FUZZ_ASSERT(strncasecmp(out, "Bcc:", 4) != 0 &&
	    strcasestr(out, "\nBcc:") == NULL);
	sendmail_rcpts_free(&r);
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*errstr;
	uint8_t		 b = fuzz_byte(&data, &size);

	if (b % 2 == 0)
		(void)sendmail_addr_list((const char *)data, size,
		    fuzz_addr_cb, NULL, &errstr);
	else
		fuzz_msg(data, size, b >> 1);
	return 0;
}
