/*
 * common/sasl.c's decoders, for smtpd and pop3d: SASL base64 (RFC
 * 4954 4) and the PLAIN message it carries (RFC 4616 2).  Anything that
 * decodes must be re-encodable to the same bytes' length, and a PLAIN
 * split must give NUL-terminated, non-empty user and password.
 */
#include "fuzz.h"

#include "../../smtpd/smtp_parse.h"
#include "sasl.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char	 out[SMTP_AUTH_LINE_MAX_BYTES];
	char		 user[AUTH_USER_MAX_BYTES + 1];
	char		 pass[AUTH_PASSWORD_MAX_BYTES + 1];
	const char	*errstr = NULL;
	size_t		 outlen = 0, outmax;
	unsigned int	 sel;
	char		*s;

	sel = fuzz_byte(&data, &size);
	s = fuzz_str(data, size);
	outmax = (sel & 1) ? sizeof(out) : sel % sizeof(out);
	if (sasl_base64_decode(s, size, out, outmax, &outlen) == 0) {
		FUZZ_ASSERT(outlen <= outmax);
		FUZZ_ASSERT(size % 4 == 0 && outlen <= size / 4 * 3);
		if (sasl_plain_split(out, outlen, user, sizeof(user),
		    pass, sizeof(pass), &errstr) == 0) {
			FUZZ_ASSERT(user[0] != '\0' && pass[0] != '\0');
			FUZZ_ASSERT(strlen(user) < sizeof(user));
			FUZZ_ASSERT(strlen(pass) < sizeof(pass));
		}
	}
	free(s);
	return 0;
}
