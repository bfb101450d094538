/*
 * queued/relay_smtp_data.c: the body encoder of the relay's client.
 * LF to CRLF, dot-stuffing (RFC 5321 4.5.2), the end of data, and lines
 * over 998 octets folded with CRLF SP, whatever the block boundaries.
 */
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "../../queued/relay_smtp_int.h"

struct data_case {
	char	in[64];
	char	out[96];
};

static struct data_case data_cases[] = {
	{ "", ".\r\n" },
	{ "a\n", "a\r\n.\r\n" },
	{ "a", "a\r\n.\r\n" },
	{ ".\n", "..\r\n.\r\n" },
	{ "a\n.b\n..\n", "a\r\n..b\r\n...\r\n.\r\n" },
	{ "a.\n b\n", "a.\r\n b\r\n.\r\n" },
	{ "\n\n", "\r\n\r\n.\r\n" },
};

ParameterizedTestParameters(relay_data, encode)
{
	return cr_make_param_array(struct data_case, data_cases,
	    sizeof(data_cases) / sizeof(data_cases[0]));
}

/* Fed one byte at a time and whole: the same output. */
ParameterizedTest(struct data_case *c, relay_data, encode)
{
	struct relay_data	 d;
	char			 out[4 * 64 + 8];
	size_t			 i, n = 0, len = strlen(c->in);

	memset(&d, 0, sizeof(d));
	n = relay_data_encode(&d, c->in, len, out);
	n += relay_data_finish(&d, out + n);
	cr_expect_eq(n, strlen(c->out));
	cr_expect_eq(memcmp(out, c->out, n), 0, "\"%s\"", c->in);
	memset(&d, 0, sizeof(d));
	for (n = 0, i = 0; i < len; i++)
		n += relay_data_encode(&d, c->in + i, 1, out + n);
	n += relay_data_finish(&d, out + n);
	cr_expect_eq(memcmp(out, c->out, n), 0, "\"%s\" bytewise", c->in);
}

/* A line of 2,500 octets: three lines of at most 998 on the wire. */
Test(relay_data, fold)
{
	struct relay_data	 d;
	char			*in, *out, *p, *nl;
	size_t			 n, lines = 0, total = 0;

	in = malloc(2501);
	out = malloc(4 * 2501 + 8);
	cr_assert(in != NULL && out != NULL);
	memset(in, 'x', 2500);
	in[0] = '.';
	in[2500] = '\n';
	memset(&d, 0, sizeof(d));
	n = relay_data_encode(&d, in, 2501, out);
	n += relay_data_finish(&d, out + n);
	cr_expect_eq(memcmp(out, "..x", 3), 0);
	for (p = out; p < out + n; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(out + n - p));
		cr_assert_not_null(nl);
		cr_expect_eq(nl[-1], '\r');
		cr_expect_leq((size_t)(nl - p - 1), RELAY_DATA_LINE_MAX_BYTES);
		if (lines > 0 && p < out + n - 3)
			cr_expect_eq(*p, ' ', "a folded line starts with SP");
		total += (size_t)(nl - p - 1) - (lines > 0 && *p == ' ');
		lines++;
	}
	cr_expect_eq(lines, 4);		/* three and the dot */
	cr_expect_eq(total, 2501 + 1);	/* the stuffed dot, and "." */
	free(in);
	free(out);
}
