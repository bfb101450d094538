/*
 * smtpd: the ESMTP parameters of MAIL and RCPT (RFC 5321 4.1.2), pure
 * parsing like smtp_parse.c (see smtp_parse.h), unit-tested in
 * regress/unit/test_smtp_param.c.  One table names each keyword, the
 * command it belongs to and its handler: SIZE (RFC 1870), BODY (RFC
 * 6152), SMTPUTF8 (RFC 6531), RET and ENVID on MAIL, NOTIFY and ORCPT
 * on RCPT (RFC 3461).  A keyword given twice or a bad value is
 * SMTP_PARSE_PARAM (501); a keyword not in the table is
 * SMTP_PARSE_UNKNOWN (555).
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "smtp_parse.h"

/* RFC 1870 4: size-value ::= 1*20DIGIT. */
#define SMTP_SIZE_DIGITS_MAX	20

#define P_MAIL	0x01
#define P_RCPT	0x02

struct smtp_param_ctx {
	struct smtp_mail_args	*ma;
	struct smtp_rcpt_args	*ra;
};

struct smtp_param_def {
	const char	*keyword;
	int		 verbs;		/* P_MAIL, P_RCPT */
	int		 has_value;	/* 1: "=value" needed; 0: none */
	int		(*handler)(struct smtp_param_ctx *, const char *val,
			    const char **errstr);
};

static int	smtp_param_size(struct smtp_param_ctx *, const char *,
		    const char **);
static int	smtp_param_body(struct smtp_param_ctx *, const char *,
		    const char **);
static int	smtp_param_utf8(struct smtp_param_ctx *, const char *,
		    const char **);
static int	smtp_param_ret(struct smtp_param_ctx *, const char *,
		    const char **);
static int	smtp_param_envid(struct smtp_param_ctx *, const char *,
		    const char **);
static int	smtp_param_notify(struct smtp_param_ctx *, const char *,
		    const char **);
static int	smtp_param_orcpt(struct smtp_param_ctx *, const char *,
		    const char **);

static const struct smtp_param_def smtp_param_defs[] = {
	/* keyword	verbs	value	handler */
	{ "SIZE",	P_MAIL,	1,	smtp_param_size },
	{ "BODY",	P_MAIL,	1,	smtp_param_body },
	{ "SMTPUTF8",	P_MAIL,	0,	smtp_param_utf8 },
	{ "RET",	P_MAIL,	1,	smtp_param_ret },
	{ "ENVID",	P_MAIL,	1,	smtp_param_envid },
	{ "NOTIFY",	P_RCPT,	1,	smtp_param_notify },
	{ "ORCPT",	P_RCPT,	1,	smtp_param_orcpt },
};
#define SMTP_PARAM_NDEFS	(sizeof(smtp_param_defs) / \
				    sizeof(smtp_param_defs[0]))

static int
smtp_param_dup(const char **errstr)
{
	*errstr = "duplicate parameter";
	return SMTP_PARSE_PARAM;
}

/* RFC 1870: SIZE=1*20DIGIT, which must fit in 64 bits. */
static int
smtp_param_size(struct smtp_param_ctx *c, const char *val,
    const char **errstr)
{
	uint64_t	 v = 0;
	size_t		 i;

	if (c->ma->has_size)
		return smtp_param_dup(errstr);
	*errstr = "bad SIZE value";
	if (strlen(val) > SMTP_SIZE_DIGITS_MAX)
		return SMTP_PARSE_PARAM;
	for (i = 0; val[i] != '\0'; i++) {
		if (val[i] < '0' || val[i] > '9' ||
		    v > (UINT64_MAX - (uint64_t)(val[i] - '0')) / 10)
			return SMTP_PARSE_PARAM;
		v = v * 10 + (uint64_t)(val[i] - '0');
	}
	c->ma->has_size = 1;
	c->ma->size = v;
	return SMTP_PARSE_OK;
}

/* RFC 6152: BODY=7BIT / 8BITMIME. */
static int
smtp_param_body(struct smtp_param_ctx *c, const char *val,
    const char **errstr)
{
	if (c->ma->body != SMTP_BODY_NONE)
		return smtp_param_dup(errstr);
	if (strcasecmp(val, "7BIT") == 0)
		c->ma->body = SMTP_BODY_7BIT;
	else if (strcasecmp(val, "8BITMIME") == 0)
		c->ma->body = SMTP_BODY_8BITMIME;
	else {
		*errstr = "bad BODY value";
		return SMTP_PARSE_PARAM;
	}
	return SMTP_PARSE_OK;
}

/* RFC 6531 3.4: SMTPUTF8, no value. */
static int
smtp_param_utf8(struct smtp_param_ctx *c, const char *val,
    const char **errstr)
{
	(void)val;
	if (c->ma->smtputf8)
		return smtp_param_dup(errstr);
	c->ma->smtputf8 = 1;
	return SMTP_PARSE_OK;
}

/* RFC 3461 4.3: RET=FULL / HDRS. */
static int
smtp_param_ret(struct smtp_param_ctx *c, const char *val,
    const char **errstr)
{
	if (c->ma->ret != DSN_RET_NONE)
		return smtp_param_dup(errstr);
	if (dsn_ret_parse(val, &c->ma->ret) == -1) {
		*errstr = "bad RET value";
		return SMTP_PARSE_PARAM;
	}
	return SMTP_PARSE_OK;
}

/* RFC 3461 4.4: ENVID=xtext; decoded, never empty. */
static int
smtp_param_envid(struct smtp_param_ctx *c, const char *val,
    const char **errstr)
{
	if (c->ma->envid[0] != '\0')
		return smtp_param_dup(errstr);
	if (dsn_envid_parse(val, c->ma->envid, sizeof(c->ma->envid),
	    errstr) == -1) {
		c->ma->envid[0] = '\0';
		return SMTP_PARSE_PARAM;
	}
	return SMTP_PARSE_OK;
}

/* RFC 3461 4.1: NOTIFY=NEVER / 1#(SUCCESS / FAILURE / DELAY). */
static int
smtp_param_notify(struct smtp_param_ctx *c, const char *val,
    const char **errstr)
{
	if (c->ra->notify != 0)
		return smtp_param_dup(errstr);
	if (dsn_notify_parse(val, &c->ra->notify, errstr) == -1)
		return SMTP_PARSE_PARAM;
	return SMTP_PARSE_OK;
}

/* RFC 3461 4.2: ORCPT=addr-type;xtext. */
static int
smtp_param_orcpt(struct smtp_param_ctx *c, const char *val,
    const char **errstr)
{
	if (c->ra->orcpt[0] != '\0')
		return smtp_param_dup(errstr);
	if (dsn_orcpt_parse(val, c->ra->orcpt, sizeof(c->ra->orcpt),
	    errstr) == -1) {
		c->ra->orcpt[0] = '\0';
		return SMTP_PARSE_PARAM;
	}
	return SMTP_PARSE_OK;
}

/*
 * esmtp-param (RFC 5321 4.1.2): esmtp-keyword ["=" esmtp-value].  Splits
 * tok in place; *val is NULL when there is no "=".
 */
static int
smtp_param_split(char *tok, char **val)
{
	char		*eq;
	unsigned char	 c;
	size_t		 i;

	*val = NULL;
	if ((eq = strchr(tok, '=')) != NULL) {
		*eq = '\0';
		*val = eq + 1;
		if (**val == '\0')
			return -1;
		for (i = 0; (c = (unsigned char)(*val)[i]) != '\0'; i++)
			if (c < 33 || c > 126 || c == '=')
				return -1;
	}
	for (i = 0; (c = (unsigned char)tok[i]) != '\0'; i++)
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || (i > 0 && c == '-')))
			return -1;
	return i > 0 ? 0 : -1;
}

static const struct smtp_param_def *
smtp_param_lookup(const char *keyword, int verb)
{
	size_t	 i;

	for (i = 0; i < SMTP_PARAM_NDEFS; i++)
		if ((smtp_param_defs[i].verbs & verb) &&
		    strcasecmp(smtp_param_defs[i].keyword, keyword) == 0)
			return &smtp_param_defs[i];
	return NULL;
}

/* One parameter: syntax, EHLO, the table, the value's presence. */
static int
smtp_param(struct smtp_param_ctx *c, char *tok, int esmtp,
    const char **errstr)
{
	const struct smtp_param_def	*d;
	char				*val;

	if (smtp_param_split(tok, &val) == -1) {
		*errstr = "bad parameter syntax";
		return SMTP_PARSE_SYNTAX;
	}
	if (!esmtp) {
		*errstr = "parameters need EHLO";
		return SMTP_PARSE_UNKNOWN;
	}
	if ((d = smtp_param_lookup(tok, c->ma != NULL ? P_MAIL :
	    P_RCPT)) == NULL) {
		*errstr = "unsupported parameter";
		return SMTP_PARSE_UNKNOWN;
	}
	if (d->has_value != (val != NULL)) {
		*errstr = d->has_value ? "parameter needs a value" :
		    "parameter takes no value";
		return SMTP_PARSE_PARAM;
	}
	return d->handler(c, val != NULL ? val : "", errstr);
}

int
smtp_parse_params(struct smtp_mail_args *ma, struct smtp_rcpt_args *ra,
    const char *p, int esmtp, const char **errstr)
{
	struct smtp_param_ctx	 c = { ma, ra };
	char			 tok[SMTP_CMD_LINE_MAX_BYTES];
	size_t			 n;
	int			 r;

	if (*p != '\0' && *p != ' ') {
		*errstr = "junk after the address";
		return SMTP_PARSE_SYNTAX;
	}
	for (;;) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			return SMTP_PARSE_OK;
		if ((n = strcspn(p, " ")) >= sizeof(tok)) {
			*errstr = "parameter too long";
			return SMTP_PARSE_SYNTAX;
		}
		memcpy(tok, p, n);
		tok[n] = '\0';
		p += n;
		if ((r = smtp_param(&c, tok, esmtp, errstr)) != SMTP_PARSE_OK)
			return r;
	}
}
