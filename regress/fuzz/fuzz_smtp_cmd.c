/*
 * smtpd/smtp_parse.c: an SMTP command line as smtp_cmd.c takes it from
 * lineio, split into verb and argument, then the argument parsed as the
 * verb's: HELO/EHLO, MAIL and RCPT with their paths and parameters
 * (smtp_param.c), BDAT.  The first input byte says whether the session
 * said EHLO and whether MAIL had SMTPUTF8.
 */
#include "fuzz.h"

#include "../../smtpd/smtp_parse.h"

static void
fuzz_check_path(const struct smtp_path *p)
{
	FUZZ_ASSERT(memchr(p->addr.local, '\0',
	    sizeof(p->addr.local)) != NULL);
	FUZZ_ASSERT(memchr(p->addr.domain, '\0',
	    sizeof(p->addr.domain)) != NULL);
}

static void
fuzz_mail(const char *arg, int esmtp)
{
	struct smtp_mail_args	 ma;
	const char		*errstr = NULL;
	int			 r;

	memset(&ma, 0, sizeof(ma));
	r = smtp_parse_mail(arg, esmtp, &ma, &errstr);
	FUZZ_ASSERT(r >= SMTP_PARSE_OK && r <= SMTP_PARSE_UTF8);
	FUZZ_ASSERT(r == SMTP_PARSE_OK || errstr != NULL);
	if (r != SMTP_PARSE_OK)
		return;
	fuzz_check_path(&ma.path);
	FUZZ_ASSERT(dsn_envid_valid(ma.envid));
	FUZZ_ASSERT(ma.ret <= DSN_RET_HDRS);
	FUZZ_ASSERT(esmtp || (!ma.has_size && !ma.smtputf8 &&
	    ma.body == SMTP_BODY_NONE && ma.ret == DSN_RET_NONE));
}

static void
fuzz_rcpt(const char *arg, int esmtp, int smtputf8)
{
	struct smtp_rcpt_args	 ra;
	const char		*errstr = NULL;
	int			 r;

	memset(&ra, 0, sizeof(ra));
	r = smtp_parse_rcpt(arg, esmtp, smtputf8, &ra, &errstr);
	FUZZ_ASSERT(r >= SMTP_PARSE_OK && r <= SMTP_PARSE_UTF8);
	FUZZ_ASSERT(r == SMTP_PARSE_OK || errstr != NULL);
	if (r != SMTP_PARSE_OK)
		return;
	fuzz_check_path(&ra.path);
	FUZZ_ASSERT(!ra.path.null);
	FUZZ_ASSERT(dsn_notify_valid(ra.notify));
	FUZZ_ASSERT(dsn_orcpt_valid(ra.orcpt));
}

static void
fuzz_verb(const struct smtp_cmdline *cl, int esmtp, int smtputf8)
{
	const char	*errstr = NULL;
	uint64_t	 size;
	int		 last;

	if (strcmp(cl->verb, "HELO") == 0 || strcmp(cl->verb, "EHLO") == 0)
		(void)smtp_parse_helo(cl->arg, &errstr);
	else if (strcmp(cl->verb, "MAIL") == 0)
		fuzz_mail(cl->arg, esmtp);
	else if (strcmp(cl->verb, "RCPT") == 0)
		fuzz_rcpt(cl->arg, esmtp, smtputf8);
	else if (strcmp(cl->verb, "BDAT") == 0 &&
	    smtp_parse_bdat(cl->arg, &size, &last, &errstr) == 0)
		FUZZ_ASSERT(last == 0 || last == 1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_cmdline	 cl;
	const char		*errstr = NULL;
	unsigned int		 sel;
	char			*line;

	sel = fuzz_byte(&data, &size);
	/*
	 * lineio hands over at most SMTP_CMD_LINE_MAX_BYTES - 1; longer
	 * lines must be refused all the same.
	 */
	if (size > 4 * SMTP_CMD_LINE_MAX_BYTES)
		return 0;
	line = malloc(size > 0 ? size : 1);
	if (line == NULL)
		abort();
	memcpy(line, data, size);
	(void)smtp_parse_is_bdat(line, size);
	if (smtp_parse_cmdline(line, size, &cl, &errstr) == 0) {
		FUZZ_ASSERT(strlen(cl.verb) <= SMTP_VERB_MAX_BYTES);
		FUZZ_ASSERT(memchr(cl.arg, '\0', sizeof(cl.arg)) != NULL);
		fuzz_verb(&cl, sel & 1, (sel >> 1) & 1);
	} else
		FUZZ_ASSERT(errstr != NULL);
	free(line);
	return 0;
}
