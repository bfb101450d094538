/*
 * The queue manager's side of the relay (queued/queue_relay_text.c,
 * queue_bounce.c, queue_envelope.c): which envelopes make a batch, the
 * last error of a remote reply and how it is read back, when a delay
 * notice is owed, and the envelope's delay-notified flag.  The texts of
 * the bounce and the notice (Remote-MTA, Diagnostic-Code: smtp, Action:
 * delayed) are in test_bounce.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <criterion/criterion.h>

#include "config.h"
#include "../../queued/queue.h"

#define MSGID		"0123456789abcdef"

Test(queue_relay, batch_same_domain_due)
{
	struct qbatch_cand c[] = {
		{ "example.net", 0 },	/* the one taken, due or not */
		{ "example.net", 1 },
		{ "example.org", 1 },	/* another domain */
		{ "example.net", 0 },	/* not due (or in flight) */
		{ NULL, 1 },		/* a mailbox */
		{ "example.net", 1 },
		{ "EXAMPLE.NET.", 1 },	/* not the same name */
	};
	size_t	 idx[8], n;

	n = queue_relay_batch_pick(c, 7, 100, idx);
	cr_assert_eq(n, 3);
	cr_expect_eq(idx[0], 0);
	cr_expect_eq(idx[1], 1);
	cr_expect_eq(idx[2], 5);
}

Test(queue_relay, batch_max)
{
	struct qbatch_cand c[10];
	size_t	 idx[10], i;

	for (i = 0; i < 10; i++) {
		c[i].domain = "example.net";
		c[i].due = 1;
	}
	cr_expect_eq(queue_relay_batch_pick(c, 10, 4, idx), 4);
	cr_expect_eq(idx[3], 3);
	cr_expect_eq(queue_relay_batch_pick(c, 10, 1, idx), 1);
	cr_expect_eq(queue_relay_batch_pick(c, 10, 0, idx), 0);
	cr_expect_eq(queue_relay_batch_pick(c, 0, 4, idx), 0);
	c[0].domain = NULL;
	cr_expect_eq(queue_relay_batch_pick(c, 10, 4, idx), 0);
}

Test(queue_relay, domain)
{
	char	 d[16];

	cr_assert_eq(queue_relay_domain("Bob@Example.NET", d, sizeof(d)), 0);
	cr_expect_str_eq(d, "example.net");
	cr_assert_eq(queue_relay_domain("a@b@Mx.Org", d, sizeof(d)), 0);
	cr_expect_str_eq(d, "mx.org");
	cr_assert_eq(queue_relay_domain("postmaster", d, sizeof(d)), 0);
	cr_expect_str_eq(d, "");
	cr_expect_eq(queue_relay_domain("a@a-very-long-domain.example",
	    d, sizeof(d)), -1);
}

Test(queue_relay, error_round_trip)
{
	char	 err[QUEUE_ERROR_MAX_BYTES + 1], mta[256], diag[512];

	queue_relay_error(err, sizeof(err), "4.2.0", "mx.example.net",
	    "451 4.2.0 try later");
	cr_assert_str_eq(err, "4.2.0 mx.example.net said: 451 4.2.0 try later");
	cr_assert_eq(queue_relay_error_split(err, mta, sizeof(mta), diag,
	    sizeof(diag)), 1);
	cr_expect_str_eq(mta, "mx.example.net");
	cr_expect_str_eq(diag, "451 4.2.0 try later");
	/* Control characters of the remote reply are cleaned. */
	queue_relay_error(err, sizeof(err), "5.1.1", "[192.0.2.7]",
	    "550 5.1.1 no\r\nsuch user");
	cr_assert_str_eq(err, "5.1.1 [192.0.2.7] said: 550 5.1.1 no??such user");
	cr_assert_eq(queue_relay_error_split(err, mta, sizeof(mta), diag,
	    sizeof(diag)), 1);
	cr_expect_str_eq(mta, "[192.0.2.7]");
	/* The relay's "name[address]:port": the name, for Remote-MTA. */
	queue_relay_error(err, sizeof(err), "5.7.1", "mx.example.net"
	    "[192.0.2.1]:25", "554 5.7.1 rejected");
	cr_assert_str_eq(err, "5.7.1 mx.example.net[192.0.2.1]:25 said: "
	    "554 5.7.1 rejected");
	cr_assert_eq(queue_relay_error_split(err, mta, sizeof(mta), diag,
	    sizeof(diag)), 1);
	cr_expect_str_eq(mta, "mx.example.net");
	cr_expect_str_eq(diag, "554 5.7.1 rejected");
	queue_relay_error(err, sizeof(err), "5.7.1", "[192.0.2.1]:2525",
	    "554 no");
	cr_assert_eq(queue_relay_error_split(err, mta, sizeof(mta), diag,
	    sizeof(diag)), 1);
	cr_expect_str_eq(mta, "[192.0.2.1]");
	/* No host answered: our own reason, not a remote reply. */
	queue_relay_error(err, sizeof(err), "4.4.1", "", "connection refused");
	cr_assert_str_eq(err, "4.4.1 connection refused");
	cr_expect_eq(queue_relay_error_split(err, mta, sizeof(mta), diag,
	    sizeof(diag)), 0);
	/* Local errors are not mistaken for one. */
	cr_expect_eq(queue_relay_error_split("5.2.2 mailbox full", mta,
	    sizeof(mta), diag, sizeof(diag)), 0);
	cr_expect_eq(queue_relay_error_split("4.2.0 the host said: x", mta,
	    sizeof(mta), diag, sizeof(diag)), 0);
	cr_expect_eq(queue_relay_error_split("said: x", mta, sizeof(mta),
	    diag, sizeof(diag)), 0);
}

static void
env(struct envelope *e)
{
	memset(e, 0, sizeof(*e));
	(void)strlcpy(e->evpid, MSGID ".1", sizeof(e->evpid));
	(void)strlcpy(e->msgid, MSGID, sizeof(e->msgid));
	(void)strlcpy(e->sender, "alice@example.org", sizeof(e->sender));
	(void)strlcpy(e->rcpt, "bob@example.net", sizeof(e->rcpt));
	(void)strlcpy(e->orig_rcpt, "bob@example.net", sizeof(e->orig_rcpt));
	e->remote = 1;
	e->created = 1700000000;
}

Test(queue_relay, delay_notice_due)
{
	struct config	 conf;
	struct envelope	 e;
	int64_t		 t = 1700000000;

	memset(&conf, 0, sizeof(conf));
	conf.delay_notice_secs = 3600;
	conf.expire_secs = 86400;
	env(&e);
	cr_expect_eq(queue_delay_notice_due(&e, t + 3599, &conf), 0);
	cr_expect_eq(queue_delay_notice_due(&e, t + 3600, &conf), 1);
	/* Past expiry the bounce says it all. */
	cr_expect_eq(queue_delay_notice_due(&e, t + 86400, &conf), 0);
	/* Once. */
	e.delay_notified = 1;
	cr_expect_eq(queue_delay_notice_due(&e, t + 7200, &conf), 0);
	env(&e);
	/* RFC 3461 4.1: NOTIFY given without DELAY, or NEVER: none. */
	e.dsn_notify = DSN_NOTIFY_FAILURE;
	cr_expect_eq(queue_delay_notice_due(&e, t + 7200, &conf), 0);
	e.dsn_notify = DSN_NOTIFY_NEVER;
	cr_expect_eq(queue_delay_notice_due(&e, t + 7200, &conf), 0);
	e.dsn_notify = DSN_NOTIFY_DELAY | DSN_NOTIFY_FAILURE;
	cr_expect_eq(queue_delay_notice_due(&e, t + 7200, &conf), 1);
	/* Never for <>; never when configured 0. */
	e.sender[0] = '\0';
	cr_expect_eq(queue_delay_notice_due(&e, t + 7200, &conf), 0);
	env(&e);
	conf.delay_notice_secs = 0;
	cr_expect_eq(queue_delay_notice_due(&e, t + 7200, &conf), 0);
}

Test(queue_relay, envelope_delay_notified)
{
	struct envelope	 a, b;
	char		 buf[QUEUE_ENVELOPE_MAX_BYTES + 1];
	const char	*errstr = NULL;
	char		*p;
	int		 n;

	env(&a);
	a.delay_notified = 1;
	n = envelope_serialise(&a, buf, sizeof(buf), &errstr);
	cr_assert_gt(n, 0, "%s", errstr);
	cr_expect_not_null(strstr(buf, "\ndelay-notified=1\n"));
	cr_assert_eq(envelope_parse(buf, (size_t)n, &b, &errstr), 0, "%s",
	    errstr);
	cr_expect_eq(b.delay_notified, 1);
	cr_expect_eq(b.remote, 1);
	/* A version 2 file (before the key) reads as not notified... */
	p = strstr(buf, "delay-notified=1\n");
	*p = '\0';
	buf[8] = '2';
	cr_assert_eq(envelope_parse(buf, strlen(buf), &b, &errstr), 0, "%s",
	    errstr);
	cr_expect_eq(b.delay_notified, 0);
	/* ...and may not hold it. */
	(void)strlcat(buf, "delay-notified=0\n", sizeof(buf));
	cr_expect_eq(envelope_parse(buf, strlen(buf), &b, &errstr), -1);
	cr_expect_str_eq(errstr, "unknown key");
	/* Version 3 needs it. */
	p = strstr(buf, "delay-notified=0\n");
	*p = '\0';
	buf[8] = '3';
	cr_expect_eq(envelope_parse(buf, strlen(buf), &b, &errstr), -1);
	cr_expect_str_eq(errstr, "missing key");
}
