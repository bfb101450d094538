/*
 * queued/queue_envelope.c, version 2: the SMTPUTF8 and DSN fields
 * (smtputf8, ret, envid, notify, orcpt), their round trip, their
 * malformed values, and version 1 files, written before they existed,
 * which must still load (recovery must not lose mail).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "config.h"
#include "../../queued/queue.h"

/* The tables hold arrays, never pointers (see test_mailaddr.c). */
#define TEXT_MAX	1024
#define WHY_MAX		64

#define MSGID		"0123456789abcdef"
/* Every version 1 key, in the order envelope_serialise writes them. */
#define V1_BODY		"evpid=" MSGID ".1\n" "msgid=" MSGID "\n" \
	"parent=\n" "sender=alice@example.org\n" "rcpt=bob@example.org\n" \
	"orig-rcpt=bob@example.org\n" "mailbox=\n" "remote=0\n" \
	"helo=mx.example.org\n" "client=[192.0.2.1]:4242\n" \
	"created=1700000000\n" "retries=0\n" "next-try=1700000000\n" \
	"last-error=\n"
#define V1		"version=1\n" V1_BODY
#define L_UTF8		"smtputf8=1\n"
#define L_RET		"ret=HDRS\n"
#define L_ENVID		"envid=QQ314159\n"
#define L_NOTIFY	"notify=SUCCESS,FAILURE\n"
#define L_ORCPT		"orcpt=rfc822;Bob@example.org\n"
#define V2_HEAD		"version=2\n" V1_BODY
#define V2		V2_HEAD L_UTF8 L_RET L_ENVID L_NOTIFY L_ORCPT

static void
parse_ok(const char *text, struct envelope *e)
{
	const char	*errstr = NULL;

	cr_assert_eq(envelope_parse(text, strlen(text), e, &errstr), 0,
	    "%s: %s", errstr, text);
}

/* A file from before version 2: the new fields are left empty. */
Test(envelope_dsn, version1_loads)
{
	struct envelope	 e;

	parse_ok(V1, &e);
	cr_expect_str_eq(e.rcpt, "bob@example.org");
	cr_expect_eq(e.smtputf8, 0);
	cr_expect_eq(e.dsn_ret, DSN_RET_NONE);
	cr_expect_str_eq(e.dsn_envid, "");
	cr_expect_eq(e.dsn_notify, 0);
	cr_expect_str_eq(e.dsn_orcpt, "");
}

Test(envelope_dsn, version2_loads)
{
	struct envelope	 e;

	parse_ok(V2, &e);
	cr_expect_eq(e.smtputf8, 1);
	cr_expect_eq(e.dsn_ret, DSN_RET_HDRS);
	cr_expect_str_eq(e.dsn_envid, "QQ314159");
	cr_expect_eq(e.dsn_notify, DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE);
	cr_expect_str_eq(e.dsn_orcpt, "rfc822;Bob@example.org");
	/* Empty values: nothing was asked. */
	parse_ok(V2_HEAD "smtputf8=0\nret=\nenvid=\nnotify=\norcpt=\n", &e);
	cr_expect_eq(e.dsn_ret, DSN_RET_NONE);
	cr_expect_eq(e.dsn_notify, 0);
	parse_ok(V2_HEAD L_UTF8 "ret=FULL\n" L_ENVID "notify=NEVER\n" L_ORCPT,
	    &e);
	cr_expect_eq(e.dsn_ret, DSN_RET_FULL);
	cr_expect_eq(e.dsn_notify, DSN_NOTIFY_NEVER);
}

struct bad {
	char	 text[TEXT_MAX];
	char	 why[WHY_MAX];
};

static struct bad bads[] = {
	{ V1 L_UTF8, "unknown key" },
	{ V1 L_NOTIFY, "unknown key" },
	{ V2_HEAD L_UTF8 L_RET L_ENVID L_NOTIFY, "missing key" },
	{ V2_HEAD L_RET L_ENVID L_NOTIFY L_ORCPT, "missing key" },
	{ V2 L_ENVID, "repeated key" },
	{ V2_HEAD "smtputf8=2\n" L_RET L_ENVID L_NOTIFY L_ORCPT,
	    "bad boolean" },
	{ V2_HEAD L_UTF8 "ret=ALL\n" L_ENVID L_NOTIFY L_ORCPT, "bad ret" },
	{ V2_HEAD L_UTF8 "ret=FULL,HDRS\n" L_ENVID L_NOTIFY L_ORCPT,
	    "bad ret" },
	{ V2_HEAD L_UTF8 L_RET L_ENVID "notify=NEVER,SUCCESS\n" L_ORCPT,
	    "bad notify" },
	{ V2_HEAD L_UTF8 L_RET L_ENVID "notify=SUCCESS,SUCCESS\n" L_ORCPT,
	    "bad notify" },
	{ V2_HEAD L_UTF8 L_RET L_ENVID "notify=sometimes\n" L_ORCPT,
	    "bad notify" },
	{ V2_HEAD L_UTF8 L_RET L_ENVID
	    "notify=SUCCESS,FAILURE,DELAY,NEVER\n" L_ORCPT, "value too long" },
	{ V2_HEAD L_UTF8 L_RET "envid=a b\n" L_NOTIFY L_ORCPT, "bad envid" },
	{ V2_HEAD L_UTF8 L_RET "envid=\xc3\xb6\n" L_NOTIFY L_ORCPT,
	    "bad envid" },
	{ V2_HEAD L_UTF8 L_RET L_ENVID L_NOTIFY "orcpt=bob@example.org\n",
	    "bad orcpt" },
	{ V2_HEAD L_UTF8 L_RET L_ENVID L_NOTIFY "orcpt=rfc822;\n",
	    "bad orcpt" },
	{ V2_HEAD L_UTF8 L_RET L_ENVID L_NOTIFY "orcpt=rfc822;a\tb\n",
	    "control character" },
};

ParameterizedTestParameters(envelope_dsn, bad)
{
	return cr_make_param_array(struct bad, bads,
	    sizeof(bads) / sizeof(bads[0]));
}

ParameterizedTest(struct bad *b, envelope_dsn, bad)
{
	struct envelope	 e;
	const char	*errstr = NULL;

	cr_assert_eq(envelope_parse(b->text, strlen(b->text), &e, &errstr), -1,
	    "accepted: %s", b->text);
	cr_assert_str_eq(errstr, b->why);
}

static void
round_trip(const struct envelope *a, struct envelope *b, char *buf,
    size_t buflen)
{
	const char	*errstr = NULL;
	int		 n;

	n = envelope_serialise(a, buf, buflen, &errstr);
	cr_assert_gt(n, 0, "%s", errstr);
	cr_assert(strncmp(buf, "version=4\n", 10) == 0, "%s", buf);
	cr_assert_eq(envelope_parse(buf, (size_t)n, b, &errstr), 0, "%s: %s",
	    errstr, buf);
	cr_expect_str_eq(b->evpid, a->evpid);
	cr_expect_str_eq(b->rcpt, a->rcpt);
	cr_expect_eq(b->smtputf8, a->smtputf8);
	cr_expect_eq(b->dsn_ret, a->dsn_ret);
	cr_expect_str_eq(b->dsn_envid, a->dsn_envid);
	cr_expect_eq(b->dsn_notify, a->dsn_notify);
	cr_expect_str_eq(b->dsn_orcpt, a->dsn_orcpt);
	cr_expect_eq(b->delay_notified, a->delay_notified);
	cr_expect_eq(b->held, a->held);
}

/*
 * Version 4 (sallyctl hold): "held" persists; a version 3 file loads
 * with it 0 and may not hold it, a version 4 file must.
 */
Test(envelope_dsn, version4_held)
{
	struct envelope	 e, b;
	const char	*errstr = NULL;
	char		 buf[QUEUE_ENVELOPE_MAX_BYTES + 1];
	static const char v3[] = "version=3\n" V1_BODY L_UTF8 L_RET L_ENVID
	    L_NOTIFY L_ORCPT "delay-notified=1\n";
	static const char v4[] = "version=4\n" V1_BODY L_UTF8 L_RET L_ENVID
	    L_NOTIFY L_ORCPT "delay-notified=0\n" "held=1\n";
	static const char v3held[] = "version=3\n" V1_BODY L_UTF8 L_RET
	    L_ENVID L_NOTIFY L_ORCPT "delay-notified=1\n" "held=1\n";
	static const char v4bad[] = "version=4\n" V1_BODY L_UTF8 L_RET
	    L_ENVID L_NOTIFY L_ORCPT "delay-notified=0\n" "held=2\n";

	parse_ok(v3, &e);
	cr_expect_eq(e.held, 0);
	cr_expect_eq(e.delay_notified, 1);
	parse_ok(v4, &e);
	cr_expect_eq(e.held, 1);
	round_trip(&e, &b, buf, sizeof(buf));
	cr_expect_not_null(strstr(buf, "\nheld=1\n"));
	cr_expect_eq(envelope_parse(v3held, strlen(v3held), &e, &errstr), -1);
	cr_expect_str_eq(errstr, "unknown key");
	cr_expect_eq(envelope_parse(v4bad, strlen(v4bad), &e, &errstr), -1);
	cr_expect_str_eq(errstr, "bad boolean");
	/* Without "held": a version 4 file misses a key. */
	cr_expect_eq(envelope_parse(v4, strlen(v4) - strlen("held=1\n"), &e,
	    &errstr), -1);
	cr_expect_str_eq(errstr, "missing key");
}

Test(envelope_dsn, round_trip)
{
	struct envelope	 a, b;
	char		 buf[QUEUE_ENVELOPE_MAX_BYTES + 1];

	/* With the fields, from a version 2 file. */
	parse_ok(V2, &a);
	round_trip(&a, &b, buf, sizeof(buf));
	cr_expect_not_null(strstr(buf, "\nnotify=SUCCESS,FAILURE\n"));
	cr_expect_not_null(strstr(buf, "\nret=HDRS\n"));
	/* Without them, from a version 1 file: rewritten as version 2. */
	parse_ok(V1, &a);
	round_trip(&a, &b, buf, sizeof(buf));
	cr_expect_not_null(strstr(buf, "\nsmtputf8=0\nret=\nenvid=\n"
	    "notify=\norcpt=\n"));
	/* The longest values. */
	a.smtputf8 = 1;
	a.dsn_ret = DSN_RET_FULL;
	a.dsn_notify = DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE |
	    DSN_NOTIFY_DELAY;
	memset(a.dsn_envid, 'e', DSN_ENVID_MAX_BYTES);
	a.dsn_envid[DSN_ENVID_MAX_BYTES] = '\0';
	memcpy(a.dsn_orcpt, "rfc822;", 7);
	memset(a.dsn_orcpt + 7, 'o', DSN_ORCPT_MAX_BYTES - 7);
	a.dsn_orcpt[DSN_ORCPT_MAX_BYTES] = '\0';
	round_trip(&a, &b, buf, sizeof(buf));
}

/* What the parser refuses, the writer refuses too. */
Test(envelope_dsn, serialise_refuses)
{
	struct envelope	 a;
	char		 buf[QUEUE_ENVELOPE_MAX_BYTES + 1];
	const char	*errstr = NULL;

	parse_ok(V2, &a);
	a.dsn_notify = DSN_NOTIFY_NEVER | DSN_NOTIFY_DELAY;
	cr_expect_eq(envelope_serialise(&a, buf, sizeof(buf), &errstr), -1);
	cr_expect_str_eq(errstr, "bad notify");
	parse_ok(V2, &a);
	a.dsn_ret = 7;
	cr_expect_eq(envelope_serialise(&a, buf, sizeof(buf), &errstr), -1);
	cr_expect_str_eq(errstr, "bad ret");
	parse_ok(V2, &a);
	(void)strlcpy(a.dsn_envid, "a b", sizeof(a.dsn_envid));
	cr_expect_eq(envelope_serialise(&a, buf, sizeof(buf), &errstr), -1);
	cr_expect_str_eq(errstr, "bad envid");
	parse_ok(V2, &a);
	(void)strlcpy(a.dsn_orcpt, "nosemicolon", sizeof(a.dsn_orcpt));
	cr_expect_eq(envelope_serialise(&a, buf, sizeof(buf), &errstr), -1);
	cr_expect_str_eq(errstr, "bad orcpt");
}
