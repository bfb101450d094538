/*
 * common/dsn.c: the values of the DSN parameters (RFC 3461) as a client
 * sends them and as an envelope file keeps them: xtext, ORCPT, ENVID,
 * NOTIFY, RET.  The first input byte picks the decoder.  What decodes
 * must pass the checks queued applies when it reads an envelope back.
 */
#include "fuzz.h"

#include "dsn.h"
#include "sp_limits.h"

static void
fuzz_notify(const char *s)
{
	const char	*errstr = NULL;
	char		 buf[DSN_NOTIFY_MAX_BYTES];
	uint32_t	 n, m;

	if (dsn_notify_parse(s, &n, &errstr) == -1) {
		FUZZ_ASSERT(errstr != NULL);
		return;
	}
	FUZZ_ASSERT(n != 0 && dsn_notify_valid(n));
	FUZZ_ASSERT(dsn_notify_format(n, buf, sizeof(buf)) == 0);
	FUZZ_ASSERT(dsn_notify_parse(buf, &m, &errstr) == 0 && m == n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*errstr = NULL;
	char		 out[DSN_ORCPT_MAX_BYTES + DSN_ENVID_MAX_BYTES + 2];
	enum dsn_ret	 ret;
	unsigned int	 sel;
	char		*s;

	sel = fuzz_byte(&data, &size);
	s = fuzz_str(data, size);
	switch (sel % 6) {
	case 0:
		if (dsn_xtext_decode(s, out, (sel >> 3) % sizeof(out),
		    &errstr) == 0)
			FUZZ_ASSERT(strlen(out) < sizeof(out));
		break;
	case 1:
		if (dsn_orcpt_parse(s, out, DSN_ORCPT_MAX_BYTES + 1,
		    &errstr) == 0)
			FUZZ_ASSERT(dsn_orcpt_valid(out));
		break;
	case 2:
		if (dsn_envid_parse(s, out, DSN_ENVID_MAX_BYTES + 1,
		    &errstr) == 0)
			FUZZ_ASSERT(dsn_envid_valid(out));
		break;
	case 3:
		fuzz_notify(s);
		break;
	case 4:
		if (dsn_ret_parse(s, &ret) == 0)
			FUZZ_ASSERT(dsn_ret_name(ret) != NULL);
		break;
	default:
		(void)dsn_orcpt_valid(s);
		(void)dsn_envid_valid(s);
		break;
	}
	free(s);
	return 0;
}
