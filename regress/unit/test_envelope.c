/*
 * queued/queue_envelope.c: the envelope file format (round trip and
 * every malformed case), the spool's ids, the retry backoff and the
 * Delivered-To address.
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
#define L_VERSION	"version=1\n"
#define L_EVPID		"evpid=" MSGID ".1\n"
#define L_MSGID		"msgid=" MSGID "\n"
#define L_PARENT	"parent=\n"
#define L_SENDER	"sender=alice@example.org\n"
#define L_RCPT		"rcpt=bob@example.org\n"
#define L_ORCPT		"orig-rcpt=bob@example.org\n"
#define L_MAILBOX	"mailbox=\n"
#define L_REMOTE	"remote=0\n"
#define L_HELO		"helo=mx.example.org\n"
#define L_CLIENT	"client=[192.0.2.1]:4242\n"
#define L_CREATED	"created=1700000000\n"
#define L_RETRIES	"retries=0\n"
#define L_NEXT		"next-try=1700000000\n"
#define L_ERROR		"last-error=\n"

/* Every line but the version and the one named: build a variant. */
#define BODY_NO_EVPID	L_MSGID L_PARENT L_SENDER L_RCPT L_ORCPT L_MAILBOX \
	L_REMOTE L_HELO L_CLIENT L_CREATED L_RETRIES L_NEXT L_ERROR
#define BODY_NO_RETRIES	L_EVPID L_MSGID L_PARENT L_SENDER L_RCPT L_ORCPT \
	L_MAILBOX L_REMOTE L_HELO L_CLIENT L_CREATED L_NEXT L_ERROR
#define BODY_NO_MAILBOX	L_EVPID L_MSGID L_PARENT L_SENDER L_RCPT L_ORCPT \
	L_REMOTE L_HELO L_CLIENT L_CREATED L_RETRIES L_NEXT L_ERROR
#define BODY_NO_PARENT	L_EVPID L_MSGID L_SENDER L_RCPT L_ORCPT L_MAILBOX \
	L_REMOTE L_HELO L_CLIENT L_CREATED L_RETRIES L_NEXT L_ERROR
#define BODY		L_EVPID BODY_NO_EVPID
#define GOOD		L_VERSION BODY

struct bad {
	char	 text[TEXT_MAX];
	char	 why[WHY_MAX];
};

static struct bad bads[] = {
	{ "", "no final newline" },
	{ GOOD "x", "no final newline" },
	{ "version=5\n" BODY, "bad version line" },
	{ "version=4\n" BODY, "missing key" },
	{ "version=3\n" BODY, "missing key" },
	{ "version=0\n" BODY, "bad version line" },
	{ "version=2\n" BODY, "missing key" },
	{ BODY, "bad version line" },
	{ "version=1 \n" BODY, "bad version line" },
	{ L_VERSION L_VERSION BODY, "unknown key" },
	{ L_VERSION BODY_NO_EVPID, "missing key" },
	{ L_VERSION BODY_NO_RETRIES, "missing key" },
	{ L_VERSION BODY_NO_MAILBOX, "missing key" },
	{ GOOD "color=blue\n", "unknown key" },
	{ GOOD "Evpid=" MSGID ".1\n", "unknown key" },
	{ GOOD "noequals\n", "line without '='" },
	{ GOOD "\n", "line without '='" },
	{ GOOD L_RCPT, "repeated key" },
	{ GOOD L_ERROR, "repeated key" },
	{ L_VERSION BODY_NO_RETRIES "retries=-1\n", "bad number" },
	{ L_VERSION BODY_NO_RETRIES "retries=\n", "bad number" },
	{ L_VERSION BODY_NO_RETRIES "retries=01\n", "bad number" },
	{ L_VERSION BODY_NO_RETRIES "retries=1x\n", "bad number" },
	{ L_VERSION BODY_NO_RETRIES "retries= 1\n", "bad number" },
	{ L_VERSION BODY_NO_RETRIES "retries=4294967296\n", "bad number" },
	{ L_VERSION L_EVPID L_MSGID L_PARENT L_SENDER L_RCPT L_ORCPT
	    L_MAILBOX L_REMOTE L_HELO L_CLIENT "created=1e9\n" L_RETRIES
	    L_NEXT L_ERROR, "bad time" },
	{ L_VERSION L_EVPID L_MSGID L_PARENT L_SENDER L_RCPT L_ORCPT
	    L_MAILBOX L_REMOTE L_HELO L_CLIENT L_CREATED L_RETRIES
	    "next-try=99999999999999999999\n" L_ERROR, "bad time" },
	{ L_VERSION L_EVPID L_MSGID L_PARENT L_SENDER L_RCPT L_ORCPT
	    L_MAILBOX "remote=2\n" L_HELO L_CLIENT L_CREATED L_RETRIES
	    L_NEXT L_ERROR, "bad boolean" },
	{ L_VERSION L_EVPID L_MSGID L_PARENT L_SENDER "rcpt=\n" L_ORCPT
	    L_MAILBOX L_REMOTE L_HELO L_CLIENT L_CREATED L_RETRIES
	    L_NEXT L_ERROR, "empty value" },
	{ L_VERSION L_EVPID L_MSGID L_PARENT L_SENDER "rcpt=a\tb@x\n" L_ORCPT
	    L_MAILBOX L_REMOTE L_HELO L_CLIENT L_CREATED L_RETRIES
	    L_NEXT L_ERROR, "control character" },
	{ L_VERSION L_EVPID L_MSGID L_PARENT L_SENDER "rcpt=a\rb@x\n" L_ORCPT
	    L_MAILBOX L_REMOTE L_HELO L_CLIENT L_CREATED L_RETRIES
	    L_NEXT L_ERROR, "control character" },
	{ L_VERSION "evpid=" MSGID ".0\n" BODY_NO_EVPID, "bad evpid" },
	{ L_VERSION "evpid=" MSGID ".01\n" BODY_NO_EVPID, "bad evpid" },
	{ L_VERSION "evpid=" MSGID "\n" BODY_NO_EVPID, "bad evpid" },
	{ L_VERSION "evpid=fedcba9876543210.1\n" BODY_NO_EVPID, "bad evpid" },
	{ L_VERSION L_EVPID "msgid=0123456789ABCDEF\n" L_PARENT L_SENDER
	    L_RCPT L_ORCPT L_MAILBOX L_REMOTE L_HELO L_CLIENT L_CREATED
	    L_RETRIES L_NEXT L_ERROR, "bad msgid" },
	{ L_VERSION BODY_NO_PARENT "parent=" MSGID ".1\n", "bad parent" },
	{ L_VERSION BODY_NO_PARENT "parent=fedcba9876543210.2\n",
	    "bad parent" },
	{ L_VERSION BODY_NO_PARENT "parent=x\n", "bad parent" },
	{ L_VERSION L_EVPID L_MSGID L_PARENT L_SENDER L_RCPT L_ORCPT
	    "mailbox=bob\n" "remote=1\n" L_HELO L_CLIENT L_CREATED L_RETRIES
	    L_NEXT L_ERROR, "remote with a mailbox" },
	{ L_VERSION BODY_NO_MAILBOX "mailbox=../root\n", "bad mailbox" },
};

ParameterizedTestParameters(envelope, bad)
{
	return cr_make_param_array(struct bad, bads,
	    sizeof(bads) / sizeof(bads[0]));
}

ParameterizedTest(struct bad *b, envelope, bad)
{
	struct envelope	 e;
	const char	*errstr = NULL;

	cr_assert_eq(envelope_parse(b->text, strlen(b->text), &e, &errstr), -1,
	    "accepted: %s", b->text);
	cr_assert_str_eq(errstr, b->why);
}

static void
fill(struct envelope *e)
{
	memset(e, 0, sizeof(*e));
	(void)strlcpy(e->msgid, MSGID, sizeof(e->msgid));
	(void)strlcpy(e->evpid, MSGID ".7", sizeof(e->evpid));
	(void)strlcpy(e->parent, MSGID ".2", sizeof(e->parent));
	(void)strlcpy(e->sender, "j\xc3\xb6rg@example.org", sizeof(e->sender));
	(void)strlcpy(e->rcpt, "team@example.org", sizeof(e->rcpt));
	(void)strlcpy(e->orig_rcpt, "Team@Example.org", sizeof(e->orig_rcpt));
	(void)strlcpy(e->mailbox, "carol", sizeof(e->mailbox));
	(void)strlcpy(e->helo, "[192.0.2.9]", sizeof(e->helo));
	(void)strlcpy(e->client, "[192.0.2.9]:25 name=x=y", sizeof(e->client));
	e->created = 1700000000;
	e->retries = 4294967295U;
	e->next_try = INT64_MAX;
	(void)strlcpy(e->last_error, "4.2.2 mailbox full; key=value",
	    sizeof(e->last_error));
}

static void
assert_same(const struct envelope *a, const struct envelope *b)
{
	cr_assert_str_eq(a->evpid, b->evpid);
	cr_assert_str_eq(a->msgid, b->msgid);
	cr_assert_str_eq(a->parent, b->parent);
	cr_assert_str_eq(a->sender, b->sender);
	cr_assert_str_eq(a->rcpt, b->rcpt);
	cr_assert_str_eq(a->orig_rcpt, b->orig_rcpt);
	cr_assert_str_eq(a->mailbox, b->mailbox);
	cr_assert_eq(a->remote, b->remote);
	cr_assert_str_eq(a->helo, b->helo);
	cr_assert_str_eq(a->client, b->client);
	cr_assert_eq(a->created, b->created);
	cr_assert_eq(a->retries, b->retries);
	cr_assert_eq(a->next_try, b->next_try);
	cr_assert_str_eq(a->last_error, b->last_error);
}

Test(envelope, round_trip)
{
	struct envelope	 a, b;
	char		 buf[QUEUE_ENVELOPE_MAX_BYTES + 1];
	const char	*errstr = NULL;
	int		 n;

	fill(&a);
	n = envelope_serialise(&a, buf, sizeof(buf), &errstr);
	cr_assert_gt(n, 0, "%s", errstr);
	cr_assert_eq(envelope_parse(buf, (size_t)n, &b, &errstr), 0, "%s",
	    errstr);
	assert_same(&a, &b);
	/* Empty sender (<>), remote without a mailbox. */
	a.sender[0] = a.mailbox[0] = a.parent[0] = a.last_error[0] = '\0';
	a.remote = 1;
	n = envelope_serialise(&a, buf, sizeof(buf), &errstr);
	cr_assert_gt(n, 0, "%s", errstr);
	cr_assert_eq(envelope_parse(buf, (size_t)n, &b, &errstr), 0, "%s",
	    errstr);
	assert_same(&a, &b);
}

Test(envelope, good_any_order)
{
	static const char	 text[] = L_VERSION L_ERROR L_NEXT L_RETRIES
	    L_CREATED L_CLIENT L_HELO L_REMOTE L_MAILBOX L_ORCPT L_RCPT
	    L_SENDER L_PARENT L_MSGID L_EVPID;
	struct envelope		 e;
	const char		*errstr = NULL;

	cr_assert_eq(envelope_parse(text, strlen(text), &e, &errstr), 0, "%s",
	    errstr);
	cr_assert_str_eq(e.evpid, MSGID ".1");
	cr_assert_str_eq(e.rcpt, "bob@example.org");
	cr_assert_eq(e.created, 1700000000);
	cr_assert_str_eq(e.last_error, "");
}

Test(envelope, nul_byte)
{
	char		 text[] = GOOD;
	struct envelope	 e;
	const char	*errstr = NULL;

	text[20] = '\0';
	cr_assert_eq(envelope_parse(text, sizeof(text) - 1, &e, &errstr), -1);
	cr_assert_str_eq(errstr, "NUL byte");
}

/* GOOD with the line of key replaced by key=val. */
static size_t
with_value(char *dst, size_t dstlen, const char *key, const char *val)
{
	const char	*good = GOOD, *line, *nl;
	char		 prefix[32];
	int		 n;

	(void)snprintf(prefix, sizeof(prefix), "\n%s=", key);
	line = strstr(good, prefix) + 1;
	nl = strchr(line, '\n');
	n = snprintf(dst, dstlen, "%.*s%s=%s%s", (int)(line - good), good, key,
	    val, nl);
	cr_assert(n > 0 && (size_t)n < dstlen);
	return (size_t)n;
}

/* A value as long as the field allows is read; one byte more is not. */
static void
check_long(const char *key, size_t max)
{
	char		 text[QUEUE_ENVELOPE_MAX_BYTES + 1];
	char		 val[QUEUE_ENVELOPE_MAX_BYTES];
	struct envelope	 e;
	const char	*errstr = NULL;
	size_t		 len;

	memset(val, 'x', max + 1);
	val[max] = '\0';
	len = with_value(text, sizeof(text), key, val);
	cr_assert_eq(envelope_parse(text, len, &e, &errstr), 0, "%s: %s", key,
	    errstr);
	val[max] = 'x';
	val[max + 1] = '\0';
	len = with_value(text, sizeof(text), key, val);
	cr_assert_eq(envelope_parse(text, len, &e, &errstr), -1, "%s", key);
	cr_assert_str_eq(errstr, "value too long");
}

Test(envelope, too_long)
{
	struct envelope	 a, b;
	char		 buf[QUEUE_ENVELOPE_MAX_BYTES + 1];
	const char	*errstr = NULL;
	int		 n;

	check_long("rcpt", SMTP_PATH_MAX_BYTES);
	check_long("sender", SMTP_PATH_MAX_BYTES);
	check_long("orig-rcpt", SMTP_PATH_MAX_BYTES);
	check_long("mailbox", AUTH_USER_MAX_BYTES);
	check_long("helo", QUEUE_HELO_MAX_BYTES);
	check_long("client", QUEUE_CLIENT_MAX_BYTES);
	check_long("last-error", QUEUE_ERROR_MAX_BYTES);
	fill(&a);
	memset(a.last_error, 'e', QUEUE_ERROR_MAX_BYTES);
	a.last_error[QUEUE_ERROR_MAX_BYTES] = '\0';
	n = envelope_serialise(&a, buf, sizeof(buf), &errstr);
	cr_assert_gt(n, 0);
	cr_assert_eq(envelope_parse(buf, (size_t)n, &b, &errstr), 0, "%s",
	    errstr);
	assert_same(&a, &b);
}

Test(envelope, file_too_large)
{
	static char	 text[QUEUE_ENVELOPE_MAX_BYTES + 64];
	struct envelope	 e;
	const char	*errstr = NULL;

	memset(text, '#', sizeof(text));
	text[sizeof(text) - 1] = '\n';
	cr_assert_eq(envelope_parse(text, sizeof(text), &e, &errstr), -1);
	cr_assert_str_eq(errstr, "file too large");
}

Test(envelope, serialise_refuses)
{
	struct envelope	 a;
	char		 buf[QUEUE_ENVELOPE_MAX_BYTES + 1];
	const char	*errstr = NULL;

	fill(&a);
	(void)strlcpy(a.rcpt, "bob@x\nretries=0", sizeof(a.rcpt));
	cr_assert_eq(envelope_serialise(&a, buf, sizeof(buf), &errstr), -1);
	fill(&a);
	a.rcpt[0] = '\0';
	cr_assert_eq(envelope_serialise(&a, buf, sizeof(buf), &errstr), -1);
	fill(&a);
	(void)strlcpy(a.evpid, "fedcba9876543210.1", sizeof(a.evpid));
	cr_assert_eq(envelope_serialise(&a, buf, sizeof(buf), &errstr), -1);
	fill(&a);
	a.created = -1;
	cr_assert_eq(envelope_serialise(&a, buf, sizeof(buf), &errstr), -1);
	fill(&a);
	cr_assert_eq(envelope_serialise(&a, buf, 64, &errstr), -1);
	cr_assert_str_eq(errstr, "envelope too large");
}

struct idcase {
	char	 id[48];
	int	 msgid;
	int	 evpid;
};

static struct idcase ids[] = {
	{ MSGID, 1, 0 },
	{ "ffffffffffffffff", 1, 0 },
	{ "0123456789ABCDEF", 0, 0 },
	{ "0123456789abcde", 0, 0 },
	{ "0123456789abcdef0", 0, 0 },
	{ "0123456789abcdeg", 0, 0 },
	{ "", 0, 0 },
	{ MSGID ".1", 0, 1 },
	{ MSGID ".4294967295", 0, 1 },
	{ MSGID ".4294967296", 0, 0 },
	{ MSGID ".0", 0, 0 },
	{ MSGID ".01", 0, 0 },
	{ MSGID ".", 0, 0 },
	{ MSGID "..1", 0, 0 },
	{ MSGID ".1.2", 0, 0 },
	{ MSGID ".-1", 0, 0 },
	{ MSGID ".+1", 0, 0 },
	{ MSGID "/1", 0, 0 },
	{ "../../etc.1", 0, 0 },
	{ "all", 0, 0 },
};

ParameterizedTestParameters(envelope, ids)
{
	return cr_make_param_array(struct idcase, ids,
	    sizeof(ids) / sizeof(ids[0]));
}

ParameterizedTest(struct idcase *c, envelope, ids)
{
	cr_assert_eq(queue_msgid_valid(c->id), c->msgid, "msgid %s", c->id);
	cr_assert_eq(queue_evpid_valid(c->id), c->evpid, "evpid %s", c->id);
}

Test(envelope, evpid_parts)
{
	cr_assert_eq(queue_evpid_number(MSGID ".42"), 42);
	cr_assert(queue_evpid_of(MSGID ".42", MSGID));
	cr_assert(!queue_evpid_of(MSGID ".42", "fedcba9876543210"));
}

struct backoff {
	uint32_t	 retries;
	uint32_t	 min;
	uint32_t	 max;
	uint32_t	 want;
};

static struct backoff backoffs[] = {
	{ 0, 300, 14400, 300 },
	{ 1, 300, 14400, 300 },
	{ 2, 300, 14400, 600 },
	{ 3, 300, 14400, 1200 },
	{ 4, 300, 14400, 2400 },
	{ 5, 300, 14400, 4800 },
	{ 6, 300, 14400, 9600 },
	{ 7, 300, 14400, 14400 },
	{ 8, 300, 14400, 14400 },
	{ 1000, 300, 14400, 14400 },
	{ 4294967295U, 300, 14400, 14400 },
	{ 40, 1, 4294967295U, 4294967295U },
	{ 3, 60, 60, 60 },
	{ 1, 600, 60, 60 },
};

ParameterizedTestParameters(envelope, backoff)
{
	return cr_make_param_array(struct backoff, backoffs,
	    sizeof(backoffs) / sizeof(backoffs[0]));
}

ParameterizedTest(struct backoff *b, envelope, backoff)
{
	cr_assert_eq(queue_backoff(b->retries, b->min, b->max), b->want,
	    "retries=%u min=%u max=%u", b->retries, b->min, b->max);
}

Test(envelope, next_try_stops_at_expiry)
{
	struct config	 conf;

	memset(&conf, 0, sizeof(conf));
	conf.retry_min_secs = 300;
	conf.retry_max_secs = 14400;
	conf.expire_secs = 4 * 86400;
	cr_assert_eq(queue_next_try(1000, 1000, 1, &conf), 1300);
	cr_assert_eq(queue_next_try(1000, 1000, 3, &conf), 2200);
	/* Near the end, the next try is the expiry itself. */
	cr_assert_eq(queue_next_try(1000 + 4 * 86400 - 10, 1000, 9, &conf),
	    1000 + 4 * 86400);
	/* Past it: now, so that the expiry is acted on at once. */
	cr_assert_eq(queue_next_try(1000 + 5 * 86400, 1000, 9, &conf),
	    1000 + 5 * 86400);
}

struct dto {
	char	 rcpt[64];
	char	 mailbox[32];
	char	 want[64];
};

static struct dto dtos[] = {
	{ "bob@example.org", "bob", "bob@example.org" },
	{ "Bob@Example.org", "bob", "Bob@Example.org" },
	{ "team@example.org", "carol", "carol@example.org" },
	{ "bob+lists@example.org", "bob", "bob@example.org" },
	{ "postmaster", "alice", "alice" },
	{ "postmaster", "postmaster", "postmaster" },
	{ "\"a@b\"@example.org", "alice", "alice@example.org" },
};

ParameterizedTestParameters(envelope, delivered_to)
{
	return cr_make_param_array(struct dto, dtos,
	    sizeof(dtos) / sizeof(dtos[0]));
}

ParameterizedTest(struct dto *d, envelope, delivered_to)
{
	char	 out[128];

	cr_assert_eq(queue_delivered_to(d->rcpt, d->mailbox, out, sizeof(out)),
	    0);
	cr_assert_str_eq(out, d->want);
}

Test(envelope, delivered_to_too_long)
{
	char	 out[8];

	cr_assert_eq(queue_delivered_to("bob@example.org", "bob", out,
	    sizeof(out)), -1);
}

Test(envelope, text)
{
	char	 out[16];

	queue_text_clean(out, sizeof(out), "a\tb\nc\x7f" "d");
	cr_assert_str_eq(out, "a?b?c?d");
	queue_text_clean(out, 4, "abcdef");
	cr_assert_str_eq(out, "abc");
	cr_assert(queue_text_valid("h\xc3\xa9llo", 10));
	cr_assert(!queue_text_valid("hello", 4));
	cr_assert(!queue_text_valid("a\rb", 10));
}
