/*
 * queued/relay_sts.c, relay_sts_http.c: the MTA-STS policy file, TXT
 * record and HTTP response parsers, fed what a hostile web server or
 * DNS answer may hold.  The first byte picks the parser (an HTTP
 * response's body goes on to the policy parser).  Whatever the input, a parsed policy has its
 * required fields, at most its limits of mx patterns, patterns in lower
 * case that match themselves, and a max_age of at most a year; a
 * parsed id is 1 to 32 letters and digits; an error is named.
 */
#include <ctype.h>

#include "fuzz.h"

#include "../../queued/relay_sts.h"
#include "../../queued/relay_sts_http.h"

static void
fuzz_policy(const char *s, size_t size)
{
	struct relay_sts_policy	 p, q;
	char			 buf[RELAY_STS_PRINT_MAX_BYTES];
	const char		*err = NULL, *mx;
	size_t			 i, j;
	int			 n;

	if (relay_sts_policy_parse(s, size, &p, &err) == -1) {
		FUZZ_ASSERT(err != NULL);
		return;
	}
	FUZZ_ASSERT(size <= RELAY_STS_POLICY_MAX_BYTES);
	FUZZ_ASSERT(p.max_age <= RELAY_STS_MAX_AGE_SECS);
	FUZZ_ASSERT(p.nmx <= RELAY_STS_MX_MAX);
	FUZZ_ASSERT(p.nmx > 0 || p.mode == RELAY_STS_NONE);
	for (i = 0; i < p.nmx; i++) {
		mx = relay_sts_policy_mx(&p, i);
		FUZZ_ASSERT(mx != NULL);
		for (j = 0; mx[j] != '\0'; j++)
			FUZZ_ASSERT(!isupper((unsigned char)mx[j]));
		if (mx[0] != '*')
			FUZZ_ASSERT(relay_sts_mx_match(&p, mx) == 1);
	}
	FUZZ_ASSERT(relay_sts_policy_mx(&p, p.nmx) == NULL);
	/* What the helper sends is read back the same by the relay. */
	n = relay_sts_policy_print(&p, buf, sizeof(buf));
	FUZZ_ASSERT(n > 0);
	FUZZ_ASSERT(relay_sts_policy_parse(buf, (size_t)n, &q, &err) == 0);
	FUZZ_ASSERT(q.mode == p.mode && q.max_age == p.max_age &&
	    q.nmx == p.nmx);
	for (i = 0; i < p.nmx; i++)
		FUZZ_ASSERT(strcmp(relay_sts_policy_mx(&q, i),
		    relay_sts_policy_mx(&p, i)) == 0);
}

static void
fuzz_txt(const char *s, size_t size)
{
	char		 id[RELAY_STS_ID_MAX + 1];
	const char	*err = NULL;
	size_t		 i, len;
	int		 r;

	r = relay_sts_txt_parse(s, size, id, &err);
	FUZZ_ASSERT(r >= -1 && r <= 1);
	if (r == -1)
		FUZZ_ASSERT(err != NULL);
	if (r != 0)
		return;
	len = strnlen(id, sizeof(id));
	FUZZ_ASSERT(len >= 1 && len <= RELAY_STS_ID_MAX);
	for (i = 0; i < len; i++)
		FUZZ_ASSERT(isalnum((unsigned char)id[i]));
}

static void
fuzz_http(const char *s, size_t size)
{
	const char	*body, *err = NULL;
	size_t		 len;

	if (relay_sts_http_parse(s, size, &body, &len, &err) == -1) {
		FUZZ_ASSERT(err != NULL);
		return;
	}
	FUZZ_ASSERT(body >= s && body + len <= s + size);
	FUZZ_ASSERT(len <= RELAY_STS_POLICY_MAX_BYTES);
	fuzz_policy(body, len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned int	 sel = fuzz_byte(&data, &size);
	char		*s;

	/* An exact-size copy, so that ASan sees a read past the end. */
	if ((s = malloc(size + 1)) == NULL)
		abort();
	memcpy(s, data, size);
	if (sel & 2)
		fuzz_http(s, size);
	else if (sel & 1)
		fuzz_txt(s, size);
	else
		fuzz_policy(s, size);
	free(s);
	return 0;
}
