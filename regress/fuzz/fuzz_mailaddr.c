/*
 * common/mailaddr.c: a Mailbox as a client writes it in MAIL and RCPT
 * (RFC 5321 4.1.2).  The first input byte says whether SMTPUTF8 is on.
 * What parses must format back and parse again to the same address.
 */
#include "fuzz.h"

#include "mailaddr.h"

static void
fuzz_roundtrip(const struct mailaddr *a, int smtputf8)
{
	struct mailaddr	 b;
	const char	*errstr = NULL;
	char		 buf[SMTP_PATH_MAX_BYTES + 1];
	char		 local[SMTP_LOCALPART_MAX_BYTES + 1];

	FUZZ_ASSERT(strlen(a->local) <= SMTP_LOCALPART_MAX_BYTES);
	FUZZ_ASSERT(strlen(a->domain) <= SMTP_DOMAIN_MAX_BYTES);
	FUZZ_ASSERT(mailaddr_valid_domain(a->domain, smtputf8) == 0 ||
	    a->domain[0] == '[');
	(void)mailaddr_local_unquote(a, local, sizeof(local));
	if (mailaddr_format(a, buf, sizeof(buf)) == -1)
		return;
	FUZZ_ASSERT(mailaddr_parse(buf, &b, smtputf8, &errstr) == 0);
	FUZZ_ASSERT(strcmp(a->local, b.local) == 0);
	FUZZ_ASSERT(strcmp(a->domain, b.domain) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mailaddr	 a;
	const char	*errstr = NULL;
	char		*s;
	int		 smtputf8;

	smtputf8 = fuzz_byte(&data, &size) & 1;
	s = fuzz_str(data, size);
	if (mailaddr_parse(s, &a, smtputf8, &errstr) == 0)
		fuzz_roundtrip(&a, smtputf8);
	else
		FUZZ_ASSERT(errstr != NULL);
	(void)mailaddr_valid_domain(s, smtputf8);
	free(s);
	return 0;
}
