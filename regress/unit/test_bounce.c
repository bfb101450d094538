/*
 * queued/queue_bounce.c: the RFC 3464 bounce text, its status codes
 * (RFC 3463), the quoted headers and the RFC 5322 date.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "../../queued/queue.h"

struct status {
	char	 error[64];
	int	 expired;
	char	 want[16];
};

static struct status statuses[] = {
	{ "5.1.1 no such user", 0, "5.1.1" },
	{ "5.1.1", 0, "5.1.1" },
	{ "4.2.2 mailbox full", 1, "4.2.2" },
	{ "5.123.456 long parts", 0, "5.123.456" },
	{ "mailbox full", 0, "5.0.0" },
	{ "mailbox full", 1, "4.4.7" },
	{ "", 0, "5.0.0" },
	{ "2.0.0 ok", 0, "5.0.0" },
	{ "5.1234.1 four digits", 0, "5.0.0" },
	{ "5.1.1x glued", 0, "5.0.0" },
	{ "5..1 empty part", 0, "5.0.0" },
	{ "5.1 two parts", 0, "5.0.0" },
	{ "5.1.", 0, "5.0.0" },
};

ParameterizedTestParameters(bounce, status)
{
	return cr_make_param_array(struct status, statuses,
	    sizeof(statuses) / sizeof(statuses[0]));
}

ParameterizedTest(struct status *s, bounce, status)
{
	char	 out[16];

	queue_bounce_status(s->error, s->expired, out, sizeof(out));
	cr_assert_str_eq(out, s->want, "error \"%s\"", s->error);
}

struct hdrcut {
	char	 msg[64];
	size_t	 max;
	size_t	 want;
};

static struct hdrcut hdrcuts[] = {
	{ "A: b\nC: d\n\nbody\n", 100, 10 },
	{ "A: b\nC: d\n", 100, 10 },
	{ "A: bbbb\nC: d\n\nbody\n", 9, 8 },
	{ "A: bbbb\nC: d\n\nbody\n", 4, 0 },
	{ "\nbody\n", 100, 0 },
	{ "", 100, 0 },
};

ParameterizedTestParameters(bounce, headers)
{
	return cr_make_param_array(struct hdrcut, hdrcuts,
	    sizeof(hdrcuts) / sizeof(hdrcuts[0]));
}

ParameterizedTest(struct hdrcut *h, bounce, headers)
{
	cr_assert_eq(queue_bounce_headers(h->msg, strlen(h->msg), h->max),
	    h->want, "\"%s\" max %zu", h->msg, h->max);
}

Test(bounce, date)
{
	char	 out[64];

	cr_assert_eq(queue_rfc5322_date(0, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "Thu, 1 Jan 1970 00:00:00 +0000");
	cr_assert_eq(queue_rfc5322_date(1700000000, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "Tue, 14 Nov 2023 22:13:20 +0000");
	cr_assert_eq(queue_rfc5322_date(0, out, 10), -1);
}

static const char	 hdrs[] = "Received: from x\nSubject: hello\n";

static void
info(struct bounce_info *bi)
{
	memset(bi, 0, sizeof(*bi));
	bi->hostname = "mx.example.org";
	bi->msgid = "0123456789abcdef";
	bi->to = "alice@example.net";
	bi->rcpt = "carol@example.org";
	bi->orig_rcpt = "team@example.org";
	bi->error = "5.2.2 mailbox full";
	bi->arrival = 1700000000;
	bi->now = 1700003600;
	bi->headers = hdrs;
	bi->headerslen = strlen(hdrs);
}

/* Each of the needles is found in text, in this order. */
static void
assert_in_order(const char *text, const char *const *needles, size_t n)
{
	const char	*p = text;
	size_t		 i;

	for (i = 0; i < n; i++) {
		p = strstr(p, needles[i]);
		cr_assert_not_null(p, "missing or out of order: %s",
		    needles[i]);
		p += strlen(needles[i]);
	}
}

Test(bounce, build)
{
	static const char *const want[] = {
		"Received: by mx.example.org (sallyport queued) id "
		    "0123456789abcdef;\n\tTue, 14 Nov 2023 23:13:20 +0000\n",
		"From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\n",
		"To: <alice@example.net>\n",
		"Auto-Submitted: auto-replied\n",
		"Content-Type: multipart/report; report-type=delivery-status;"
		    "\n\tboundary=\"=_sallyport_0123456789abcdef_=\"\n\n",
		"--=_sallyport_0123456789abcdef_=\n"
		    "Content-Type: text/plain",
		"<carol@example.org>: 5.2.2 mailbox full\n",
		"--=_sallyport_0123456789abcdef_=\n"
		    "Content-Type: message/delivery-status\n\n"
		    "Reporting-MTA: dns; mx.example.org\n"
		    "Arrival-Date: Tue, 14 Nov 2023 22:13:20 +0000\n\n"
		    "Original-Recipient: rfc822; team@example.org\n"
		    "Final-Recipient: rfc822; carol@example.org\n"
		    "Action: failed\n"
		    "Status: 5.2.2\n"
		    "Diagnostic-Code: X-Sallyport; 5.2.2 mailbox full\n",
		"--=_sallyport_0123456789abcdef_=\n"
		    "Content-Type: text/rfc822-headers\n\n"
		    "Received: from x\nSubject: hello\n\n"
		    "--=_sallyport_0123456789abcdef_=--\n",
	};
	struct bounce_info	 bi;
	char			 buf[QUEUE_BOUNCE_MAX_BYTES];
	int			 n;

	info(&bi);
	n = queue_bounce_build(&bi, buf, sizeof(buf));
	cr_assert_gt(n, 0);
	cr_assert_eq((size_t)n, strlen(buf));
	assert_in_order(buf, want, sizeof(want) / sizeof(want[0]));
	cr_assert_null(strchr(buf, '\r'));
	/* The last byte ends the closing boundary. */
	cr_assert_eq(buf[n - 1], '\n');
}

Test(bounce, build_expired_same_rcpt)
{
	struct bounce_info	 bi;
	char			 buf[QUEUE_BOUNCE_MAX_BYTES];

	info(&bi);
	bi.orig_rcpt = bi.rcpt;
	bi.expired = 1;
	bi.error = "";
	bi.headers = "Subject: no newline";
	bi.headerslen = strlen(bi.headers);
	cr_assert_gt(queue_bounce_build(&bi, buf, sizeof(buf)), 0);
	cr_assert_null(strstr(buf, "Original-Recipient"));
	cr_assert_null(strstr(buf, "Diagnostic-Code"));
	cr_assert_not_null(strstr(buf, "Status: 4.4.7\n"));
	cr_assert_not_null(strstr(buf, "given up"));
	cr_assert_not_null(strstr(buf, "Subject: no newline\n\n--="));
}

Test(bounce, build_too_small)
{
	struct bounce_info	 bi;
	char			 buf[256];

	info(&bi);
	cr_assert_eq(queue_bounce_build(&bi, buf, sizeof(buf)), -1);
	cr_assert_eq(queue_bounce_build(&bi, buf, 0), -1);
}

/* RFC 3461 6.3, RFC 3464 2.2.1 and 2.3.1: ENVID and ORCPT returned. */
Test(bounce, build_dsn_fields)
{
	static const char *const want[] = {
		"Content-Type: message/delivery-status\n\n"
		    "Original-Envelope-Id: QQ314159\n"
		    "Reporting-MTA: dns; mx.example.org\n",
		"Original-Recipient: rfc822; \"Team Lead\"@example.org\n"
		    "Final-Recipient: rfc822; carol@example.org\n",
	};
	struct bounce_info	 bi;
	char			 buf[QUEUE_BOUNCE_MAX_BYTES];

	info(&bi);
	bi.envid = "QQ314159";
	bi.orcpt = "rfc822;\"Team Lead\"@example.org";
	cr_assert_gt(queue_bounce_build(&bi, buf, sizeof(buf)), 0);
	assert_in_order(buf, want, sizeof(want) / sizeof(want[0]));
	cr_assert_null(strstr(buf, "team@example.org"));
	/* Empty: as without them. */
	bi.envid = bi.orcpt = "";
	cr_assert_gt(queue_bounce_build(&bi, buf, sizeof(buf)), 0);
	cr_assert_null(strstr(buf, "Original-Envelope-Id"));
	cr_assert_not_null(strstr(buf,
	    "Original-Recipient: rfc822; team@example.org\n"));
}

/* RFC 3461 4.3, RFC 6522: RET=FULL returns the message as message/rfc822. */
Test(bounce, build_full)
{
	static const char	 msg[] = "Subject: hello\n\nthe body\n";
	struct bounce_info	 bi;
	char			 buf[QUEUE_BOUNCE_MAX_BYTES];

	info(&bi);
	bi.headers = msg;
	bi.headerslen = strlen(msg);
	bi.full = 1;
	cr_assert_gt(queue_bounce_build(&bi, buf, sizeof(buf)), 0);
	cr_assert_not_null(strstr(buf, "Content-Type: message/rfc822\n\n"
	    "Subject: hello\n\nthe body\n\n--=_sallyport_0123456789abcdef_=--"
	    "\n"));
	cr_assert_null(strstr(buf, "text/rfc822-headers"));
}

/* Reports of success (RFC 3461 NOTIFY=SUCCESS): action, 2.0.0, words. */
struct action_case {
	int	 action;
	char	 subject[48];
	char	 field[24];
	char	 idpart[12];
};

ParameterizedTestParameters(bounce, success_actions)
{
	static struct action_case cases[] = {
		{ DSN_ACTION_DELIVERED, "Successful Mail Delivery Report",
		    "Action: delivered\n", ".dsn@" },
		{ DSN_ACTION_EXPANDED, "Successful Mail Delivery Report",
		    "Action: expanded\n", ".dsn@" },
		{ DSN_ACTION_RELAYED, "Successful Mail Delivery Report",
		    "Action: relayed\n", ".dsn@" },
	};

	return cr_make_param_array(struct action_case, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct action_case *c, bounce, success_actions)
{
	struct bounce_info	 bi;
	char			 buf[QUEUE_BOUNCE_MAX_BYTES], subj[80];
	const char		*want[5];

	info(&bi);
	bi.action = (enum dsn_action)c->action;
	bi.error = "";
	(void)snprintf(subj, sizeof(subj), "Subject: %s\n", c->subject);
	want[0] = subj;
	want[1] = c->idpart;
	want[2] = "Final-Recipient: rfc822; carol@example.org\n";
	want[3] = c->field;
	want[4] = "Status: 2.0.0\n";
	cr_assert_gt(queue_bounce_build(&bi, buf, sizeof(buf)), 0);
	assert_in_order(buf, want, sizeof(want) / sizeof(want[0]));
	cr_assert_null(strstr(buf, "Diagnostic-Code"));
	cr_assert_null(strstr(buf, "Undelivered"));
	cr_assert_null(strstr(buf, "failed"));
}

/* An action out of range reads as a failure, never past the table. */
Test(bounce, action_out_of_range)
{
	struct bounce_info	 bi;
	char			 buf[QUEUE_BOUNCE_MAX_BYTES];

	info(&bi);
	bi.action = (enum dsn_action)77;
	cr_assert_gt(queue_bounce_build(&bi, buf, sizeof(buf)), 0);
	cr_assert_not_null(strstr(buf, "Action: failed\n"));
	cr_assert_not_null(strstr(buf, "Status: 5.2.2\n"));
}

/* A remote host's answer (queue_relay.c's last error, read back). */
static void
remote_info(struct bounce_info *bi, enum dsn_action action,
    const char *error, const char *diag)
{
	info(bi);
	bi->action = action;
	bi->error = error;
	bi->remote_mta = "mx.example.net";
	bi->diag_type = "smtp";
	bi->diag = diag;
	bi->will_retry_until = bi->arrival + 4 * 24 * 3600;
}

Test(bounce, bounce_remote)
{
	static const char *const want[] = {
		"Subject: Undelivered Mail Returned to Sender\n",
		"<carol@example.org>: 5.1.1 mx.example.net said: 550 5.1.1 "
		    "no such user\n",
		"Final-Recipient: rfc822; carol@example.org\n"
		"Action: failed\n"
		"Status: 5.1.1\n"
		"Remote-MTA: dns; mx.example.net\n"
		"Diagnostic-Code: smtp; 550 5.1.1 no such user\n"
		"Last-Attempt-Date: Tue, 14 Nov 2023 23:13:20 +0000\n\n",
	};
	struct bounce_info	 bi;
	char			 buf[8192];

	remote_info(&bi, DSN_ACTION_FAILED,
	    "5.1.1 mx.example.net said: 550 5.1.1 no such user",
	    "550 5.1.1 no such user");
	cr_assert_gt(queue_bounce_build(&bi, buf, sizeof(buf)), 0);
	assert_in_order(buf, want, sizeof(want) / sizeof(want[0]));
	cr_expect_null(strstr(buf, "Will-Retry-Until"));
	cr_expect_null(strstr(buf, "X-Sallyport"));
}

Test(bounce, local_no_remote_mta)
{
	struct bounce_info	 bi;
	char			 buf[8192];

	info(&bi);
	cr_assert_gt(queue_bounce_build(&bi, buf, sizeof(buf)), 0);
	cr_expect_not_null(strstr(buf,
	    "\nDiagnostic-Code: X-Sallyport; 5.2.2 mailbox full\n"));
	cr_expect_null(strstr(buf, "Remote-MTA"));
	cr_expect_null(strstr(buf, "Will-Retry-Until"));
}

Test(bounce, delay_notice)
{
	static const char *const want[] = {
		"Subject: Delayed Mail (still being retried)\n",
		"The mail system will go on trying.",
		"Action: delayed\n"
		"Status: 4.2.0\n"
		"Remote-MTA: dns; mx.example.net\n"
		"Diagnostic-Code: smtp; 451 4.2.0 try later\n"
		"Last-Attempt-Date: Tue, 14 Nov 2023 23:13:20 +0000\n"
		"Will-Retry-Until: Sat, 18 Nov 2023 22:13:20 +0000\n\n",
		"Content-Type: text/rfc822-headers\n",
	};
	struct bounce_info	 bi;
	char			 buf[8192];

	remote_info(&bi, DSN_ACTION_DELAYED,
	    "4.2.0 mx.example.net said: 451 4.2.0 try later",
	    "451 4.2.0 try later");
	cr_assert_gt(queue_bounce_build(&bi, buf, sizeof(buf)), 0);
	assert_in_order(buf, want, sizeof(want) / sizeof(want[0]));
	/* A delay without a code of its own is 4.4.7 (RFC 3463 3.5). */
	bi.error = "connection timed out";
	bi.remote_mta = bi.diag = NULL;
	cr_assert_gt(queue_bounce_build(&bi, buf, sizeof(buf)), 0);
	cr_expect_not_null(strstr(buf, "\nStatus: 4.4.7\n"));
}

