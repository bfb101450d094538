/*
 * common/config_policy.c through the grammar: the SMTP session limits,
 * the timeouts, "relay from" and the policy switches.  Malformed and
 * out-of-range input with the exact error line; good input with the
 * line config_print must write and the value smtpd reads.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "config.h"
#include "sp_limits.h"
#include "unit_config.h"

#define IN_MAX		160
#define ERR_MAX		160
#define ERRBUF_BYTES	512

struct bad {
	char	 in[IN_MAX];
	char	 err[ERR_MAX];
};

static struct bad bads[] = {
	/* limit */
	{ "limit sessions 0\n",
	    "t.conf:1: limit sessions 0 out of range (1 to 4096)" },
	{ "limit sessions 4097\n",
	    "t.conf:1: limit sessions 4097 out of range (1 to 4096)" },
	{ "limit sessions 99999999999\n",
	    "t.conf:1: limit sessions 99999999999 out of range (1 to 4096)" },
	{ "limit sessions-per-client 0\n", "t.conf:1: limit "
	    "sessions-per-client 0 out of range (1 to 4096)" },
	{ "limit sessions-per-client 5000\n", "t.conf:1: limit "
	    "sessions-per-client 5000 out of range (1 to 4096)" },
	{ "limit messages-per-session 1000001\n", "t.conf:1: limit "
	    "messages-per-session 1000001 out of range (0 to 1000000)" },
	{ "limit line-length 999\n", "t.conf:1: limit "
	    "line-length 999 out of range (1000 to 65536)" },
	{ "limit line-length 65537\n", "t.conf:1: limit "
	    "line-length 65537 out of range (1000 to 65536)" },
	{ "timeout commit 0\n", "t.conf:1: invalid time \"0\"" },
	{ "limit queue-min-free 0\n", "t.conf:1: invalid size \"0\"" },
	{ "limit queue-min-free 1M\nlimit queue-min-free 2M\n",
	    "t.conf:2: limit queue-min-free given twice" },
	{ "timeout commit 2h\n", "t.conf:1: timeout commit 7200s out of "
	    "range (1s to 3600s)" },
	{ "\nlimit sessions 10\nlimit sessions 20\n",
	    "t.conf:3: limit sessions given twice" },
	{ "limit bogus 1\n", "t.conf:1: unknown limit \"bogus\"" },
	{ "limit sessions\n", "t.conf:1: syntax error at end of line" },
	{ "limit sessions ten\n", "t.conf:1: syntax error at \"ten\"" },
	{ "limit sessions 10 20\n", "t.conf:1: syntax error at \"20\"" },
	{ "limit sessions -1\n", "t.conf:1: syntax error at \"-1\"" },
	/* timeout */
	{ "timeout command 0\n", "t.conf:1: invalid time \"0\"" },
	{ "timeout command 0s\n", "t.conf:1: invalid time \"0s\"" },
	{ "timeout command 3601\n",
	    "t.conf:1: timeout command 3601s out of range (1s to 3600s)" },
	{ "timeout data 2h\n",
	    "t.conf:1: timeout data 7200s out of range (1s to 3600s)" },
	{ "timeout greeting 5x\n", "t.conf:1: invalid time \"5x\"" },
	{ "timeout idle 5m\n", "t.conf:1: unknown timeout \"idle\"" },
	{ "timeout command\n", "t.conf:1: syntax error at end of line" },
	{ "timeout 5m\n", "t.conf:1: syntax error at end of line" },
	{ "timeout data 1m\n\ntimeout data 2m\n",
	    "t.conf:3: timeout data given twice" },
	/* relay from */
	{ "relay from 10.0.0.0/33\n", "t.conf:1: relay from "
	    "\"10.0.0.0/33\": prefix length out of range" },
	{ "relay from ::1/129\n",
	    "t.conf:1: relay from \"::1/129\": prefix length out of range" },
	{ "relay from 10.0.0.0/\n", "t.conf:1: relay from \"10.0.0.0/\": "
	    "prefix length is not a number" },
	{ "relay from 10.0.0/8\n",
	    "t.conf:1: relay from \"10.0.0/8\": not a numeric address" },
	{ "relay from localhost\n",
	    "t.conf:1: relay from \"localhost\": not a numeric address" },
	{ "relay from 10.0.0.1/8\n", "t.conf:1: relay from \"10.0.0.1/8\": "
	    "address has bits set past the prefix length" },
	{ "relay from \"\"\n",
	    "t.conf:1: relay from \"\": not a numeric address" },
	{ "relay from 8\n", "t.conf:1: syntax error at \"8\"" },
	{ "relay 10.0.0.0/8\n", "t.conf:1: syntax error at \"10.0.0.0/8\"" },
	{ "relay from\n", "t.conf:1: syntax error at end of line" },
	{ "relay from 10.0.0.0/8\nrelay from 10.0.0.0/8\n",
	    "t.conf:2: duplicate relay from \"10.0.0.0/8\"" },
	{ "relay from ::1\nrelay from 0::1/128\n",
	    "t.conf:2: duplicate relay from \"0::1/128\"" },
	/* switches */
	{ "auth plaintext-on-loopback maybe\n", "t.conf:1: auth "
	    "plaintext-on-loopback takes no or yes, not \"maybe\"" },
	{ "auth plaintext\n", "t.conf:1: unknown option "
	    "\"auth plaintext\"" },
	{ "auth\n", "t.conf:1: syntax error at end of line" },
	{ "auth plaintext-on-loopback yes\nauth plaintext-on-loopback no\n",
	    "t.conf:2: auth plaintext-on-loopback given twice" },
	{ "submission sender all\n",
	    "t.conf:1: submission sender takes own or any, not \"all\"" },
	{ "submission sender\n", "t.conf:1: syntax error at end of line" },
	{ "submission recipient any\n",
	    "t.conf:1: unknown option \"submission recipient\"" },
	{ "received show-auth-user 1\n", "t.conf:1: syntax error at \"1\"" },
	{ "received show-auth-user YES\n", "t.conf:1: received "
	    "show-auth-user takes no or yes, not \"YES\"" },
	{ "received show-auth-user\n",
	    "t.conf:1: syntax error at end of line" },
	{ "received show-user yes\n",
	    "t.conf:1: unknown option \"received show-user\"" },
};

ParameterizedTestParameters(config_policy, bad)
{
	return cr_make_param_array(struct bad, bads,
	    sizeof(bads) / sizeof(bads[0]));
}

ParameterizedTest(struct bad *b, config_policy, bad)
{
	struct config	*conf;
	char		 err[ERRBUF_BYTES], in[IN_MAX + 32];

	(void)snprintf(in, sizeof(in), "%s", b->in);
	conf = config_parse("t.conf", in, strlen(in), err, sizeof(err));
	cr_assert_null(conf, "accepted: %s", b->in);
	cr_assert_str_eq(err, b->err, "input: %s", b->in);
}

struct good {
	char	 in[IN_MAX];
	char	 line[IN_MAX];	/* printed */
	size_t	 off;		/* of a uint32_t or int field; 0: none */
	int	 is_int;
	uint32_t value;
};

#define U32(f)	offsetof(struct config, f), 0
#define INT(f)	offsetof(struct config, f), 1

static struct good goods[] = {
	{ "limit sessions 1\n", "limit sessions 1\n", U32(max_sessions), 1 },
	{ "limit sessions 4096\n", "limit sessions 4096\n",
	    U32(max_sessions), 4096 },
	{ "limit sessions-per-client 3\n", "limit sessions-per-client 3\n",
	    U32(max_sessions_per_client), 3 },
	{ "limit sessions-per-client 4096\n",
	    "limit sessions-per-client 4096\n",
	    U32(max_sessions_per_client), 4096 },
	{ "limit messages-per-session 2\n", "limit messages-per-session 2\n",
	    U32(max_messages_per_session), 2 },
	{ "limit messages-per-session 0\n", "limit messages-per-session 0\n",
	    U32(max_messages_per_session), 0 },
	{ "limit line-length 1000\n", "limit line-length 1000\n",
	    U32(max_line_bytes), 1000 },
	{ "limit line-length 16384\n", "limit line-length 16384\n",
	    U32(max_line_bytes), 16384 },
	{ "limit line-length 65536\n", "limit line-length 65536\n",
	    U32(max_line_bytes), 65536 },
	{ "timeout commit 3s\n", "timeout commit 3s\n",
	    U32(commit_timeout_secs), 3 },
	{ "limit queue-min-free 1G\n", "limit queue-min-free 1G\n", 0, 0, 0 },
	{ "limit queue-min-free 4096\n", "limit queue-min-free 4K\n", 0, 0,
	    0 },
	{ "timeout command 1\n", "timeout command 1s\n",
	    U32(cmd_timeout_secs), 1 },
	{ "timeout command 120\n", "timeout command 2m\n",
	    U32(cmd_timeout_secs), 120 },
	{ "timeout data 1h\n", "timeout data 1h\n",
	    U32(data_timeout_secs), 3600 },
	{ "timeout greeting 45s\n", "timeout greeting 45s\n",
	    U32(greeting_timeout_secs), 45 },
	{ "relay from 127.0.0.0/8\n", "relay from 127.0.0.0/8\n", 0, 0, 0 },
	{ "relay from ::1\n", "relay from ::1/128\n", 0, 0, 0 },
	{ "relay from 192.0.2.0/24\nrelay from 2001:DB8::/32\n",
	    "relay from 192.0.2.0/24\nrelay from 2001:db8::/32\n", 0, 0, 0 },
	{ "auth plaintext-on-loopback\n", "auth plaintext-on-loopback yes\n",
	    INT(auth_plaintext_loopback), 1 },
	{ "auth plaintext-on-loopback yes\n",
	    "auth plaintext-on-loopback yes\n",
	    INT(auth_plaintext_loopback), 1 },
	{ "auth plaintext-on-loopback no\n",
	    "auth plaintext-on-loopback no\n",
	    INT(auth_plaintext_loopback), 0 },
	{ "submission sender any\n", "submission sender any\n",
	    INT(submission_sender_any), 1 },
	{ "submission sender own\n", "submission sender own\n",
	    INT(submission_sender_any), 0 },
	{ "received show-auth-user yes\n", "received show-auth-user yes\n",
	    INT(received_auth_user), 1 },
	{ "received show-auth-user no\n", "received show-auth-user no\n",
	    INT(received_auth_user), 0 },
	/* The words stay usable where they were names before. */
	{ "user auth _a\nuser relay _r\n",
	    "user auth \"_a\"\nuser smtp \"_sallysmtp\"\n", 0, 0, 0 },
	{ "listen submission on 127.0.0.1\n",
	    "listen submission on 127.0.0.1 port 587\n", 0, 0, 0 },
};

ParameterizedTestParameters(config_policy, good)
{
	return cr_make_param_array(struct good, goods,
	    sizeof(goods) / sizeof(goods[0]));
}

ParameterizedTest(struct good *g, config_policy, good)
{
	struct config	*conf, *again;
	char		 err[ERRBUF_BYTES], in[IN_MAX + 32];
	char		*out, *out2;
	uint32_t	 v;

	(void)snprintf(in, sizeof(in), "hostname h.test\n%s", g->in);
	conf = config_parse("t.conf", in, strlen(in), err, sizeof(err));
	cr_assert_not_null(conf, "refused: %s: %s", in, err);
	out = unit_config_print(conf);
	cr_assert_not_null(strstr(out, g->line), "want:\n%s\ngot:\n%s",
	    g->line, out);
	if (g->off != 0) {
		if (g->is_int)
			v = (uint32_t)*(int *)(void *)((char *)conf + g->off);
		else
			v = *(uint32_t *)(void *)((char *)conf + g->off);
		cr_assert_eq(v, g->value, "%s", g->in);
	}
	/* The printout parses back to itself. */
	again = config_parse("p", out, strlen(out), err, sizeof(err));
	cr_assert_not_null(again, "printout refused: %s\n%s", err, out);
	out2 = unit_config_print(again);
	cr_assert_str_eq(out, out2);
	free(out);
	free(out2);
	config_free(again);
	config_free(conf);
}

Test(config_policy, defaults)
{
	struct config	*conf;
	char		 err[ERRBUF_BYTES];
	const char	*in = "hostname h.test\n";

	conf = config_parse("t.conf", in, strlen(in), err, sizeof(err));
	cr_assert_not_null(conf, "%s", err);
	cr_assert_eq(conf->max_sessions, SMTP_SESSIONS_MAX);
	cr_assert_eq(conf->max_sessions_per_client,
	    SMTP_SESSIONS_PER_CLIENT_MAX);
	/* No limit: RFC 5321 3.8, senders that reuse connections. */
	cr_assert_eq(conf->max_messages_per_session, 0);
	/* Long lines are taken by default (issue 14): up to 64 KiB. */
	cr_assert_eq(conf->max_line_bytes, SMTP_LINE_LIMIT_MAX_BYTES);
	cr_assert_eq(conf->commit_timeout_secs, SMTP_COMMIT_TIMEOUT_SECS);
	cr_assert_eq(conf->greeting_timeout_secs, SMTP_GREETING_TIMEOUT_SECS);
	cr_assert_eq(conf->cmd_timeout_secs, SMTP_CMD_TIMEOUT_SECS);
	cr_assert_eq(conf->data_timeout_secs, SMTP_DATA_TIMEOUT_SECS);
	cr_assert(TAILQ_EMPTY(&conf->relay_nets));
	cr_assert_eq(conf->auth_plaintext_loopback, 0);
	cr_assert_eq(conf->submission_sender_any, 0);
	cr_assert_eq(conf->received_auth_user, 0);
	config_free(conf);
}

static int
relay_ok(const struct config *conf, const char *addr)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else {
		cr_assert_eq(inet_pton(AF_INET6, addr, &sin6->sin6_addr), 1);
		sin6->sin6_family = AF_INET6;
	}
	return config_relay_allowed(conf, (struct sockaddr *)&ss);
}

Test(config_policy, relay_allowed)
{
	static const char in[] = "hostname h.test\n"
	    "relay from 127.0.0.0/8\nrelay from ::1/128\n"
	    "relay from 192.0.2.0/24\n";
	struct config	*conf, *none;
	char		 err[ERRBUF_BYTES];

	conf = config_parse("t.conf", in, strlen(in), err, sizeof(err));
	cr_assert_not_null(conf, "%s", err);
	cr_assert(relay_ok(conf, "127.0.0.1"));
	cr_assert(relay_ok(conf, "127.9.9.9"));
	cr_assert(relay_ok(conf, "::1"));
	cr_assert(relay_ok(conf, "::ffff:127.0.0.1"));
	cr_assert(relay_ok(conf, "192.0.2.55"));
	cr_assert_not(relay_ok(conf, "192.0.3.1"));
	cr_assert_not(relay_ok(conf, "2001:db8::1"));
	cr_assert_not(relay_ok(conf, "10.0.0.1"));
	none = config_parse("t.conf", "hostname h.test\n", 16, err,
	    sizeof(err));
	cr_assert_not_null(none, "%s", err);
	cr_assert_not(relay_ok(none, "127.0.0.1"));
	config_free(none);
	config_free(conf);
}
