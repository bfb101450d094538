/*
 * smtpd/smtp_parse.c: "limit line-length" as smtp_data_scan_line()
 * applies it (the line as lineio hands it over, CRLF removed), table-
 * driven around each bound.
 */
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "sp_limits.h"
#include "../../smtpd/smtp_parse.h"

struct linemax_case {
	size_t	 line_max;	/* 0: the default of smtp_data_scan_init */
	size_t	 len;
	int	 toolong;
};

static struct linemax_case linemax_cases[] = {
	{ 0,				998,	0 },
	{ 0,				999,	1 },
	{ SMTP_LINE_MAX_BYTES,		998,	0 },
	{ SMTP_LINE_MAX_BYTES,		999,	1 },
	{ 2000,				999,	0 },
	{ 2000,				1998,	0 },
	{ 2000,				1999,	1 },
	{ SMTP_LINE_LIMIT_MAX_BYTES,	SMTP_LINE_LIMIT_MAX_BYTES - 2,	0 },
	{ SMTP_LINE_LIMIT_MAX_BYTES,	SMTP_LINE_LIMIT_MAX_BYTES - 1,	1 },
};

ParameterizedTestParameters(smtp_linemax, scan)
{
	return cr_make_param_array(struct linemax_case, linemax_cases,
	    sizeof(linemax_cases) / sizeof(linemax_cases[0]));
}

ParameterizedTest(struct linemax_case *c, smtp_linemax, scan)
{
	static char		 line[SMTP_LINE_LIMIT_MAX_BYTES + 8];
	struct smtp_data_scan	 ds;
	const char		*text;
	size_t			 tlen;

	memset(line, 'x', sizeof(line));
	smtp_data_scan_init(&ds);
	cr_assert_eq(ds.line_max, SMTP_LINE_MAX_BYTES);
	if (c->line_max != 0)
		ds.line_max = c->line_max;
	cr_assert_eq(smtp_data_scan_line(&ds, line, c->len, 0, &text, &tlen),
	    0);
	cr_assert_eq(tlen, c->len);
	cr_assert_eq((ds.flags & SMTP_DATA_F_TOOLONG) != 0, c->toolong,
	    "line_max %zu len %zu", c->line_max, c->len);
}
