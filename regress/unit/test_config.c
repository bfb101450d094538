/*
 * common/parse.y and common/config.c: sallyport.conf(5).  Bad inputs
 * with the exact error line, good inputs with a line config_print must
 * write, the golden files regress/config/NAME.in -> NAME.ok (run from
 * the top of the tree), and the round trip: printing what was parsed
 * from a printout gives the same printout.
 */
#include <sys/param.h>
#include <sys/stat.h>

#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "config.h"
#include "sp_limits.h"
#include "unit_config.h"

/*
 * Criterion may run each case in a freshly executed copy of this binary,
 * where pointers into the parent's data mean nothing: the tables hold
 * arrays, never pointers.
 */
#define IN_MAX		256
#define ERR_MAX		160

#define ERRBUF_BYTES	512

/* 63 and 64 octets: the longest label and one too long. */
#define B63	"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" \
    "bbbbbb"
#define B64	B63 "b"

struct bad {
	char	 in[IN_MAX];
	size_t	 len;		/* 0: strlen(in) */
	char	 err[ERR_MAX];
};

struct good {
	char	 in[IN_MAX];
	char	 line[IN_MAX];	/* one line config_print writes */
};

static struct bad bads[] = {
	/* The lexer. */
	{ "bogus\n", 0, "t.conf:1: unknown statement \"bogus\"" },
	{ "on\n", 0, "t.conf:1: unknown statement \"on\"" },
	{ "HOSTNAME x\n", 0, "t.conf:1: unknown statement \"HOSTNAME\"" },
	{ "\"hostname\" x\n", 0, "t.conf:1: unknown statement \"hostname\"" },
	{ "hostname a.test\n# comment\n\n  bogus", 0,
	    "t.conf:4: unknown statement \"bogus\"" },
	{ "hostname a.test\r\nbogus\r\n", 0,
	    "t.conf:2: unknown statement \"bogus\"" },
	{ "hostname\n", 0, "t.conf:1: syntax error at end of line" },
	{ "hostname a.test b\n", 0, "t.conf:1: syntax error at \"b\"" },
	{ "\n\nhostname \"unterminated\n", 0,
	    "t.conf:3: unterminated string" },
	{ "hostname \"abc", 0, "t.conf:1: unterminated string" },
	{ "hostname \"a\\qb\"\n", 0, "t.conf:1: invalid escape in string" },
	{ "rundir \"/a\tb\"\n", 0, "t.conf:1: control character in string" },
	{ "hostname a\001b\n", 0, "t.conf:1: unexpected byte 0x01" },
	{ "hostname \303\251\n", 0, "t.conf:1: unexpected byte 0xc3" },
	{ "hostname a$b\n", 0, "t.conf:1: unexpected character '$'" },
	{ "hostname 99999999999999999999999\n", 0,
	    "t.conf:1: number \"99999999999999999999999\" too large" },
	{ "hostname a\n\0\n", 13, "t.conf:2: NUL byte in file" },
	{ "\0", 1, "t.conf:1: NUL byte in file" },
	/* Names and paths. */
	{ "hostname -bad\n", 0, "t.conf:1: invalid hostname \"-bad\"" },
	{ "hostname bad-.test\n", 0,
	    "t.conf:1: invalid hostname \"bad-.test\"" },
	{ "hostname a..b\n", 0, "t.conf:1: invalid hostname \"a..b\"" },
	{ "hostname a.test.\n", 0, "t.conf:1: invalid hostname \"a.test.\"" },
	{ "hostname a_b.test\n", 0,
	    "t.conf:1: invalid hostname \"a_b.test\"" },
	{ "hostname " B64 ".test\n", 0,
	    "t.conf:1: invalid hostname \"" B64 ".test\"" },
	{ "hostname x.test # fine\nhostname\ty.test\n", 0,
	    "t.conf:2: hostname given twice" },
	{ "rundir relative\n", 0,
	    "t.conf:1: path \"relative\" is not absolute" },
	{ "users \"\"\n", 0, "t.conf:1: path \"\" is not absolute" },
	{ "chroot /a\nchroot /b\n", 0, "t.conf:2: chroot given twice" },
	{ "spool\t\"/a\" extra\n", 0, "t.conf:1: syntax error at \"extra\"" },
	{ "aliases /a\nspool /s\naliases /b\n", 0,
	    "t.conf:3: aliases given twice" },
	/* resolver */
	{ "resolver example.com\n", 0,
	    "t.conf:1: resolver \"example.com\" is not a numeric address" },
	{ "resolver 256.1.1.1\n", 0,
	    "t.conf:1: resolver \"256.1.1.1\" is not a numeric address" },
	{ "resolver \"none\"\n", 0,
	    "t.conf:1: resolver \"none\" is not a numeric address" },
	{ "resolver 127.0.0.1\nresolver none\n", 0,
	    "t.conf:2: resolver given twice" },
	{ "resolver system\nresolver 127.0.0.1\n", 0,
	    "t.conf:2: resolver given twice" },
	{ "resolver 127.0.0.1 port 0\n", 0,
	    "t.conf:1: port 0 out of range" },
	{ "resolver 127.0.0.1 trust-anchor ta\n", 0,
	    "t.conf:1: path \"ta\" is not absolute" },
	{ "resolver none trust-anchor /ta\n", 0,
	    "t.conf:1: syntax error at \"trust-anchor\"" },
	{ "relay family ipv5\n", 0,
	    "t.conf:1: relay family \"ipv5\" is not ipv4, ipv6 or both" },
	{ "relay family ipv4\nrelay family ipv6\n", 0,
	    "t.conf:2: relay family given twice" },
	/* domain */
	{ "domain a.test\ndomain A.TEST\n", 0,
	    "t.conf:2: duplicate domain \"a.test\"" },
	{ "domain \"\"\n", 0, "t.conf:1: invalid domain \"\"" },
	{ "domain \"ex ample.test\"\n", 0,
	    "t.conf:1: invalid domain \"ex ample.test\"" },
	{ "domain a.test b.test\n", 0, "t.conf:1: syntax error at \"b.test\"" },
	/* user */
	{ "user foo _x\n", 0, "t.conf:1: unknown role \"foo\"" },
	{ "user auth root\n", 0, "t.conf:1: user auth must not be root" },
	{ "user auth \"a b\"\n", 0, "t.conf:1: invalid user name \"a b\"" },
	{ "user auth -x\n", 0, "t.conf:1: invalid user name \"-x\"" },
	{ "user pop3 \"\"\n", 0, "t.conf:1: invalid user name \"\"" },
	{ "user imap aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", 0,
	    "t.conf:1: invalid user name "
	    "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"" },
	{ "user smtp _a\nuser smtp _b\n", 0,
	    "t.conf:2: user smtp given twice" },
	{ "user queue _a\nuser queue _b\n", 0,
	    "t.conf:2: user queue given twice" },
	{ "user queue\n", 0, "t.conf:1: syntax error at end of line" },
	{ "user auth 123\n", 0, "t.conf:1: syntax error at \"123\"" },
	{ "user auth _a _b\n", 0, "t.conf:1: syntax error at \"_b\"" },
	/* listen */
	{ "listen smtp on localhost\n", 0,
	    "t.conf:1: listen address \"localhost\" is not a numeric address" },
	{ "listen smtp on fe80::1%eth0\n", 0, "t.conf:1: listen address "
	    "\"fe80::1%eth0\" is not a numeric address" },
	{ "listen smtpx on 127.0.0.1\n", 0,
	    "t.conf:1: unknown protocol \"smtpx\"" },
	{ "listen smtp on 127.0.0.1 port 0\n", 0,
	    "t.conf:1: port 0 out of range" },
	{ "listen smtp on 127.0.0.1 port 65536\n", 0,
	    "t.conf:1: port 65536 out of range" },
	{ "listen smtp on 127.0.0.1\nlisten submission on 127.0.0.1 port 25\n",
	    0, "t.conf:2: duplicate listener 127.0.0.1 port 25" },
	{ "listen smtp on ::1\nlisten smtp on 0:0::1\n", 0,
	    "t.conf:2: duplicate listener ::1 port 25" },
	{ "listen smtp 127.0.0.1\n", 0,
	    "t.conf:1: syntax error at \"127.0.0.1\"" },
	{ "listen smtp on 127.0.0.1 port\n", 0,
	    "t.conf:1: syntax error at end of line" },
	{ "listen smtp on 127.0.0.1 port 25x\n", 0,
	    "t.conf:1: syntax error at \"25x\"" },
	{ "listen smtp on 127.0.0.1 port 25 port 26\n", 0,
	    "t.conf:1: syntax error at \"port\"" },
	{ "rundir /x\nhostname a.test\n\nlisten smtp on 1.2.3.4 port 99999\n",
	    0, "t.conf:4: port 99999 out of range" },
	/* pki */
	{ "pki x.test cert rel key /k\n", 0,
	    "t.conf:1: path \"rel\" is not absolute" },
	{ "pki x.test cert /c key k\n", 0,
	    "t.conf:1: path \"k\" is not absolute" },
	{ "pki x.test cert /c key /k\npki X.test cert /c2 key /k2\n", 0,
	    "t.conf:2: duplicate pki \"x.test\"" },
	{ "pki x_y cert /c key /k\n", 0, "t.conf:1: invalid pki name \"x_y\"" },
	{ "pki x.test key /k cert /c\n", 0,
	    "t.conf:1: syntax error at \"key\"" },
	/* queue */
	{ "queue\n", 0, "t.conf:1: syntax error at end of line" },
	{ "queue retry 5h\n", 0,
	    "t.conf:1: queue retry 18000 is above max-retry 14400" },
	{ "queue max-retry 5d\n", 0,
	    "t.conf:1: queue max-retry 432000 is above expire 345600" },
	{ "queue expire 1m\n", 0,
	    "t.conf:1: queue max-retry 14400 is above expire 60" },
	{ "queue retry 1m retry 2m\n", 0, "t.conf:1: queue retry given twice" },
	{ "queue retry 1m max-retry 1m expire 1m max-retry 1m\n", 0,
	    "t.conf:1: queue max-retry given twice" },
	{ "queue retry 5x\n", 0, "t.conf:1: invalid time \"5x\"" },
	{ "queue retry 0\n", 0, "t.conf:1: invalid time \"0\"" },
	{ "queue retry 0m\n", 0, "t.conf:1: invalid time \"0m\"" },
	{ "queue retry m\n", 0, "t.conf:1: invalid time \"m\"" },
	{ "queue retry -5\n", 0, "t.conf:1: invalid time \"-5\"" },
	{ "queue retry 5mm\n", 0, "t.conf:1: invalid time \"5mm\"" },
	{ "queue expire 4294967296\n", 0,
	    "t.conf:1: invalid time \"4294967296\"" },
	{ "queue expire 49711d\n", 0, "t.conf:1: invalid time \"49711d\"" },
	{ "queue retry 1m\nqueue expire 5d\n", 0,
	    "t.conf:2: queue given twice" },
	{ "queue limit 5\n", 0, "t.conf:1: syntax error at \"limit\"" },
	{ "queue delay-notice 4d\n", 0,
	    "t.conf:1: queue delay-notice 345600 is not below expire 345600 "
	    "(0 sends none)" },
	{ "queue delay-notice 1h delay-notice 2h\n", 0,
	    "t.conf:1: queue delay-notice given twice" },
	{ "queue delay-notice 1x\n", 0, "t.conf:1: invalid time \"1x\"" },
	/* limit */
	{ "limit message-size 0\n", 0, "t.conf:1: invalid size \"0\"" },
	{ "limit message-size 10T\n", 0, "t.conf:1: invalid size \"10T\"" },
	{ "limit message-size 1.5M\n", 0, "t.conf:1: invalid size \"1.5M\"" },
	{ "limit message-size 9999999999G\n", 0,
	    "t.conf:1: invalid size \"9999999999G\"" },
	{ "limit message-size 9223372036854775808\n", 0,
	    "t.conf:1: invalid size \"9223372036854775808\"" },
	{ "limit recipients 0\n", 0, "t.conf:1: invalid count \"0\"" },
	{ "limit recipients 10K\n", 0, "t.conf:1: syntax error at \"10K\"" },
	{ "limit errors 4294967296\n", 0,
	    "t.conf:1: invalid count \"4294967296\"" },
	{ "limit foo 1\n", 0, "t.conf:1: unknown limit \"foo\"" },
	{ "limit\n", 0, "t.conf:1: syntax error at end of line" },
	{ "limit errors 1\nlimit errors 2\n", 0,
	    "t.conf:2: limit errors given twice" },
	{ "limit message-size 1M\n\nlimit message-size 2M\n", 0,
	    "t.conf:3: limit message-size given twice" },
};

static struct good goods[] = {
	{ "hostname Mail.Example.TEST", "hostname \"mail.example.test\"\n" },
	{ "hostname " B63 ".test", "hostname \"" B63 ".test\"\n" },
	{ "hostname 1a-b.c-2", "hostname \"1a-b.c-2\"\n" },
	{ "rundir /tmp/r", "rundir \"/tmp/r\"\n" },
	{ "spool \"/var/spool/x\"", "spool \"/var/spool/x\"\n" },
	{ "chroot /", "chroot \"/\"\n" },
	{ "users /u", "users \"/u\"\n" },
	{ "aliases /a", "aliases \"/a\"\n" },
	{ "rundir \"/with space/and\\\"quote\\\\\"",
	    "rundir \"/with space/and\\\"quote\\\\\"\n" },
	{ "rundir \"/\303\251\"", "rundir \"/\303\251\"\n" },
	{ "resolver 0:0::1", "resolver \"::1\"\n" },
	{ "resolver \"192.0.2.53\"", "resolver \"192.0.2.53\"\n" },
	{ "resolver none", "resolver none\n" },
	{ "resolver system", "resolver system\n" },
	{ "resolver 127.0.0.53 port 5353 trust-anchor \"/e/ta\"",
	    "resolver \"127.0.0.53\" port 5353 trust-anchor \"/e/ta\"\n" },
	{ "resolver system trust-anchor /ta",
	    "resolver system trust-anchor \"/ta\"\n" },
	{ "", "relay family both\n" },
	{ "relay family ipv6", "relay family ipv6\n" },
	{ "", "resolver none\n" },
	{ "domain Example.ORG", "domain \"example.org\"\n" },
	{ "domain a.test\ndomain b.test",
	    "domain \"a.test\"\ndomain \"b.test\"\n" },
	{ "user queue _q", "user queue \"_q\"\n" },
	{ "user imap \"mail.user-1\"", "user imap \"mail.user-1\"\n" },
	{ "user relay aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    "user relay \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\n" },
	{ "", "user auth \"_sallyauth\"\nuser smtp \"_sallysmtp\"\n"
	    "user queue \"_sallyqueue\"\nuser relay \"_sallyrelay\"\n"
	    "user pop3 \"_sallypop\"\nuser imap \"_sallyimap\"\n" },
	{ "listen smtp on 0.0.0.0", "listen smtp on 0.0.0.0 port 25\n" },
	{ "listen submission on 0.0.0.0",
	    "listen submission on 0.0.0.0 port 587\n" },
	{ "listen smtps on 0.0.0.0", "listen smtps on 0.0.0.0 port 465\n" },
	{ "listen pop3 on 0.0.0.0", "listen pop3 on 0.0.0.0 port 110\n" },
	{ "listen pop3s on 0.0.0.0", "listen pop3s on 0.0.0.0 port 995\n" },
	{ "listen imap on 0.0.0.0", "listen imap on 0.0.0.0 port 143\n" },
	{ "listen imaps on 0.0.0.0", "listen imaps on 0.0.0.0 port 993\n" },
	{ "listen smtp on ::", "listen smtp on :: port 25\n" },
	{ "listen smtp on 2001:DB8::1 port 2525",
	    "listen smtp on 2001:db8::1 port 2525\n" },
	{ "listen smtp on 127.0.0.1\nlisten smtp on 127.0.0.1 port 26",
	    "listen smtp on 127.0.0.1 port 25\n"
	    "listen smtp on 127.0.0.1 port 26\n" },
	{ "listen smtp on 127.0.0.1 port 65535",
	    "listen smtp on 127.0.0.1 port 65535\n" },
	{ "pki Mail.Example.org cert /c key \"/k\\\\x\"",
	    "pki \"mail.example.org\" cert \"/c\" key \"/k\\\\x\"\n" },
	{ "", "queue retry 5m max-retry 4h expire 4d delay-notice 4h\n" },
	{ "queue retry 120",
	    "queue retry 2m max-retry 4h expire 4d delay-notice 4h\n" },
	{ "queue retry 60s",
	    "queue retry 1m max-retry 4h expire 4d delay-notice 4h\n" },
	{ "queue expire 7d max-retry 1d retry 1h",
	    "queue retry 1h max-retry 1d expire 7d delay-notice 4h\n" },
	/* The default notice would come after expiry: none. */
	{ "queue retry 90 max-retry 90 expire 90",
	    "queue retry 90s max-retry 90s expire 90s delay-notice 0\n" },
	{ "queue max-retry 300",
	    "queue retry 5m max-retry 5m expire 4d delay-notice 4h\n" },
	{ "queue expire 49710d",
	    "queue retry 5m max-retry 4h expire 49710d delay-notice 4h\n" },
	{ "queue expire 4294967295",
	    "queue retry 5m max-retry 4h expire 4294967295s delay-notice 4h\n" },
	{ "queue delay-notice 0", "expire 4d delay-notice 0\n" },
	{ "queue delay-notice 90m expire 2h max-retry 1h",
	    "expire 2h delay-notice 90m\n" },
	{ "", "limit message-size 35M\n" },
	{ "limit message-size 1G", "limit message-size 1G\n" },
	{ "limit message-size 1536", "limit message-size 1536\n" },
	{ "limit message-size 2048K", "limit message-size 2M\n" },
	{ "limit message-size 10m", "limit message-size 10M\n" },
	{ "limit message-size 1k", "limit message-size 1K\n" },
	{ "limit message-size 9223372036854775807",
	    "limit message-size 9223372036854775807\n" },
	{ "limit recipients 1", "limit recipients 1\n" },
	{ "", "limit recipients 100\nlimit errors 10\n" },
	{ "limit errors 4294967295", "limit errors 4294967295\n" },
	{ "# only a comment\nhostname a.test # trailing",
	    "hostname \"a.test\"\n" },
	{ "hostname a.test\r\n\r\nrundir /r\r\n", "rundir \"/r\"\n" },
	{ "\n\n\t  \nhostname a.test\n\n", "hostname \"a.test\"\n" },
	{ "hostname a.test\nqueue retry 1m", "queue retry 1m" },
	{ "hostname\"a.test\"", "hostname \"a.test\"\n" },
};

static struct config *
parse(const char *in, size_t len, char *err)
{
	return config_parse("t.conf", in, len == 0 ? strlen(in) : len, err,
	    ERRBUF_BYTES);
}

char *
unit_config_print(const struct config *conf)
{
	char	*s = NULL;
	size_t	 len = 0;
	FILE	*fp;

	cr_assert_not_null(fp = open_memstream(&s, &len));
	config_print(fp, conf);
	cr_assert_eq(fclose(fp), 0);
	return s;
}

/*
 * print(parse(print(parse(in)))) == print(parse(in)); returns the first
 * printout.
 */
char *
unit_config_roundtrip(const char *name, const struct config *conf)
{
	struct config	*again;
	char		 err[ERRBUF_BYTES];
	char		*p1, *p2;

	p1 = unit_config_print(conf);
	again = config_parse("printed", p1, strlen(p1), err, sizeof(err));
	cr_assert_not_null(again, "%s: printout does not parse: %s\n%s",
	    name, err, p1);
	p2 = unit_config_print(again);
	cr_assert_str_eq(p1, p2, "%s: round trip differs", name);
	config_free(again);
	free(p2);
	return p1;
}

ParameterizedTestParameters(config, bad)
{
	return cr_make_param_array(struct bad, bads,
	    sizeof(bads) / sizeof(bads[0]));
}

ParameterizedTest(struct bad *b, config, bad)
{
	struct config	*conf;
	char		 err[ERRBUF_BYTES];

	conf = parse(b->in, b->len, err);
	cr_assert_null(conf, "accepted: %s", b->in);
	cr_assert_str_eq(err, b->err, "input: %s", b->in);
}

ParameterizedTestParameters(config, good)
{
	return cr_make_param_array(struct good, goods,
	    sizeof(goods) / sizeof(goods[0]));
}

/* Inputs without a hostname get one, so that the host does not matter. */
ParameterizedTest(struct good *g, config, good)
{
	struct config	*conf;
	char		 err[ERRBUF_BYTES], in[IN_MAX + 32];
	char		*out;

	if (strstr(g->in, "hostname") == NULL)
		(void)snprintf(in, sizeof(in), "hostname h.test\n%s", g->in);
	else
		(void)strlcpy(in, g->in, sizeof(in));
	conf = parse(in, 0, err);
	cr_assert_not_null(conf, "refused: %s: %s", in, err);
	cr_assert_str_empty(err);
	out = unit_config_roundtrip(in, conf);
	cr_assert_not_null(strstr(out, g->line),
	    "input:\n%s\nwant:\n%s\ngot:\n%s", in, g->line, out);
	free(out);
	config_free(conf);
}

Test(config, defaults)
{
	struct config	*conf;
	char		 err[ERRBUF_BYTES];

	conf = parse("hostname h.test\n", 0, err);
	cr_assert_not_null(conf, "%s", err);
	cr_assert_str_eq(conf->hostname, "h.test");
	cr_assert_str_eq(conf->rundir, "/run/sallyport");
	cr_assert_str_eq(conf->spooldir, "/var/spool/sallyport");
	cr_assert_str_eq(conf->emptydir, "/var/empty");
	cr_assert_str_eq(conf->users_file, "/etc/sallyport/users");
	cr_assert_str_eq(conf->aliases_file, "/etc/sallyport/aliases");
	cr_assert_str_empty(conf->resolver);
	cr_assert_str_eq(conf->user_auth, "_sallyauth");
	cr_assert_str_eq(conf->user_smtp, "_sallysmtp");
	cr_assert_str_eq(conf->user_queue, "_sallyqueue");
	cr_assert_str_eq(conf->user_relay, "_sallyrelay");
	cr_assert_str_eq(conf->user_pop3, "_sallypop");
	cr_assert_str_eq(conf->user_imap, "_sallyimap");
	cr_assert_eq(conf->retry_min_secs, QUEUE_RETRY_MIN_SECS);
	cr_assert_eq(conf->retry_max_secs, QUEUE_RETRY_MAX_SECS);
	cr_assert_eq(conf->expire_secs, QUEUE_EXPIRE_SECS);
	cr_assert_eq(conf->max_message_bytes, SMTP_MESSAGE_MAX_BYTES);
	cr_assert_eq(conf->max_rcpts, SMTP_RCPT_MAX);
	cr_assert_eq(conf->max_errors, SMTP_ERRORS_MAX);
	cr_assert(TAILQ_EMPTY(&conf->listeners));
	cr_assert(TAILQ_EMPTY(&conf->domains));
	cr_assert(TAILQ_EMPTY(&conf->pkis));
	config_free(conf);
}

Test(config, values)
{
	static const char in[] =
	    "hostname mx.test\n"
	    "resolver 2001:db8::53\n"
	    "listen smtp on 127.0.0.1 port 2525\n"
	    "listen pop3s on ::1\n"
	    "pki mx.test cert /c.crt key /k.key\n"
	    "queue expire 2d retry 10m max-retry 1h\n"
	    "limit message-size 10M\n"
	    "limit recipients 7\n"
	    "limit errors 3\n"
	    "user relay _r\n";
	struct config	*conf;
	struct listener	*l;
	struct pki	*k;
	char		 err[ERRBUF_BYTES];

	conf = parse(in, 0, err);
	cr_assert_not_null(conf, "%s", err);
	cr_assert_str_eq(conf->resolver, "2001:db8::53");
	cr_assert_str_eq(conf->user_relay, "_r");
	l = TAILQ_FIRST(&conf->listeners);
	cr_assert_eq(l->proto, LISTEN_SMTP);
	cr_assert_str_eq(l->addr, "127.0.0.1");
	cr_assert_eq(l->port, 2525);
	l = TAILQ_NEXT(l, entry);
	cr_assert_eq(l->proto, LISTEN_POP3S);
	cr_assert_str_eq(l->addr, "::1");
	cr_assert_eq(l->port, 995);
	cr_assert_null(TAILQ_NEXT(l, entry));
	k = TAILQ_FIRST(&conf->pkis);
	cr_assert_str_eq(k->name, "mx.test");
	cr_assert_str_eq(k->cert, "/c.crt");
	cr_assert_str_eq(k->key, "/k.key");
	cr_assert_eq(conf->retry_min_secs, 600);
	cr_assert_eq(conf->retry_max_secs, 3600);
	cr_assert_eq(conf->expire_secs, 2 * 86400);
	cr_assert_eq(conf->max_message_bytes, 10 * 1024 * 1024);
	cr_assert_eq(conf->max_rcpts, 7);
	cr_assert_eq(conf->max_errors, 3);
	config_free(conf);
}

/* Without a hostname statement the system's name is used, lower-cased. */
Test(config, default_hostname)
{
	struct config	*conf;
	char		 err[ERRBUF_BYTES], name[CONFIG_NAME_MAX];
	size_t		 i;

	cr_assert_eq(gethostname(name, sizeof(name)), 0);
	name[sizeof(name) - 1] = '\0';
	for (i = 0; name[i] != '\0'; i++)
		name[i] = tolower((unsigned char)name[i]);
	conf = parse("", 0, err);
	if (conf == NULL) {
		cr_assert_str_eq(err, "t.conf:1: the system's host name is "
		    "not valid; set hostname");
		return;
	}
	cr_assert_str_eq(conf->hostname, name);
	/* No domain: the hostname is the local domain. */
	cr_assert(config_is_local_domain(conf, name));
	config_free(conf);
}

Test(config, local_domain)
{
	struct config	*conf;
	char		 err[ERRBUF_BYTES];

	conf = parse("hostname Mail.Example.Test\n", 0, err);
	cr_assert_not_null(conf, "%s", err);
	cr_assert(config_is_local_domain(conf, "mail.example.test"));
	cr_assert(config_is_local_domain(conf, "MAIL.example.TEST"));
	cr_assert_not(config_is_local_domain(conf, "example.test"));
	cr_assert_not(config_is_local_domain(conf, "x.mail.example.test"));
	cr_assert_not(config_is_local_domain(conf, ""));
	config_free(conf);

	conf = parse("hostname mail.example.test\ndomain Example.Test\n"
	    "domain other.test\n", 0, err);
	cr_assert_not_null(conf, "%s", err);
	cr_assert(config_is_local_domain(conf, "example.test"));
	cr_assert(config_is_local_domain(conf, "EXAMPLE.TEST"));
	cr_assert(config_is_local_domain(conf, "other.test"));
	/* With domains given, the hostname is no longer implied. */
	cr_assert_not(config_is_local_domain(conf, "mail.example.test"));
	cr_assert_not(config_is_local_domain(conf, "sub.example.test"));
	cr_assert_not(config_is_local_domain(conf, "example.tes"));
	config_free(conf);
}

Test(config, proto_name)
{
	cr_assert_str_eq(config_proto_name(LISTEN_SMTP), "smtp");
	cr_assert_str_eq(config_proto_name(LISTEN_SUBMISSION), "submission");
	cr_assert_str_eq(config_proto_name(LISTEN_SMTPS), "smtps");
	cr_assert_str_eq(config_proto_name(LISTEN_POP3), "pop3");
	cr_assert_str_eq(config_proto_name(LISTEN_POP3S), "pop3s");
	cr_assert_str_eq(config_proto_name(LISTEN_IMAP), "imap");
	cr_assert_str_eq(config_proto_name(LISTEN_IMAPS), "imaps");
	cr_assert_str_eq(config_proto_name((enum listen_proto)0), "unknown");
	cr_assert_str_eq(config_proto_name((enum listen_proto)99), "unknown");
}

Test(config, runpath)
{
	struct config	*conf;
	char		 err[ERRBUF_BYTES], path[PATH_MAX];

	conf = parse("hostname h.test\nrundir /tmp/run\n", 0, err);
	cr_assert_not_null(conf, "%s", err);
	config_runpath(conf, "authd.sock", path, sizeof(path));
	cr_assert_str_eq(path, "/tmp/run/authd.sock");
	/* Exactly fits. */
	config_runpath(conf, "q", path, strlen("/tmp/run/q") + 1);
	cr_assert_str_eq(path, "/tmp/run/q");
	config_free(conf);

	conf = parse("hostname h.test\nrundir /tmp/run//\n", 0, err);
	cr_assert_not_null(conf, "%s", err);
	config_runpath(conf, "x.pid", path, sizeof(path));
	cr_assert_str_eq(path, "/tmp/run/x.pid");
	config_free(conf);

	conf = parse("hostname h.test\nrundir /\n", 0, err);
	cr_assert_not_null(conf, "%s", err);
	config_runpath(conf, "x.pid", path, sizeof(path));
	cr_assert_str_eq(path, "/x.pid");
	config_free(conf);
}

Test(config, runpath_too_long, .exit_code = 1)
{
	struct config	*conf;
	char		 err[ERRBUF_BYTES], path[16];

	conf = parse("hostname h.test\nrundir /tmp/run\n", 0, err);
	cr_assert_not_null(conf, "%s", err);
	config_runpath(conf, "authd.sock", path, sizeof(path));
	cr_assert_fail("config_runpath did not exit");
}

/* Builds "prefix" + n times c + "suffix" in a malloc'd string. */
static char *
repeat(const char *prefix, int c, size_t n, const char *suffix)
{
	size_t	 plen = strlen(prefix), slen = strlen(suffix);
	char	*s;

	cr_assert_not_null(s = malloc(plen + n + slen + 1));
	memcpy(s, prefix, plen);
	memset(s + plen, c, n);
	memcpy(s + plen + n, suffix, slen + 1);
	return s;
}

Test(config, token_length)
{
	struct config	*conf;
	char		 err[ERRBUF_BYTES];
	char		*in;

	/* "/" and PATH_MAX - 2 more: the longest path that fits. */
	in = repeat("hostname h.test\nrundir \"/", 'a', PATH_MAX - 2, "\"\n");
	conf = parse(in, 0, err);
	cr_assert_not_null(conf, "%s", err);
	cr_assert_eq(strlen(conf->rundir), PATH_MAX - 1);
	config_free(conf);
	free(in);

	in = repeat("hostname h.test\nrundir \"/", 'a', PATH_MAX - 1, "\"\n");
	cr_assert_null(parse(in, 0, err));
	cr_assert_str_eq(err, "t.conf:2: string too long");
	free(in);

	in = repeat("hostname h.test\nrundir /", 'a', PATH_MAX - 2, "\n");
	conf = parse(in, 0, err);
	cr_assert_not_null(conf, "%s", err);
	config_free(conf);
	free(in);

	in = repeat("\nrundir /", 'a', PATH_MAX - 1, "\n");
	cr_assert_null(parse(in, 0, err));
	cr_assert_str_eq(err, "t.conf:2: word too long");
	free(in);

	/* A long unterminated string is too long before it is unterminated. */
	in = repeat("hostname \"", 'a', 2 * PATH_MAX, "");
	cr_assert_null(parse(in, 0, err));
	cr_assert_str_eq(err, "t.conf:1: string too long");
	free(in);
}

Test(config, file_size)
{
	struct config	*conf;
	char		 err[ERRBUF_BYTES];
	char		*in;

	/* Exactly the limit: blank lines after a hostname are fine. */
	in = repeat("hostname h.test\n", '\n',
	    CONFIG_FILE_MAX_BYTES - strlen("hostname h.test\n"), "");
	conf = parse(in, 0, err);
	cr_assert_not_null(conf, "%s", err);
	config_free(conf);
	free(in);

	/* One byte more: refused, at the line the limit falls on. */
	in = repeat("", '\n', CONFIG_FILE_MAX_BYTES + 1, "");
	cr_assert_null(parse(in, 0, err));
	cr_assert_str_eq(err, "t.conf:1048577: file larger than 1048576 bytes");
	free(in);
}

Test(config, max_domains)
{
	struct config	*conf;
	char		 err[ERRBUF_BYTES];
	char		*in;
	size_t		 i, off = 0, size = 64 * (CONFIG_DOMAINS_MAX + 2);

	cr_assert_not_null(in = malloc(size));
	off += (size_t)snprintf(in + off, size - off, "hostname h.test\n");
	for (i = 0; i < CONFIG_DOMAINS_MAX; i++)
		off += (size_t)snprintf(in + off, size - off,
		    "domain d%zu.test\n", i);
	conf = parse(in, 0, err);
	cr_assert_not_null(conf, "%s", err);
	cr_assert(config_is_local_domain(conf, "d1023.test"));
	config_free(conf);
	(void)snprintf(in + off, size - off, "domain one-more.test\n");
	cr_assert_null(parse(in, 0, err));
	cr_assert_str_eq(err, "t.conf:1026: too many domains (at most 1024)");
	free(in);
}

Test(config, max_listeners)
{
	struct config	*conf;
	char		 err[ERRBUF_BYTES], in[64 * (CONFIG_LISTENERS_MAX + 2)];
	size_t		 i, off = 0;

	off += (size_t)snprintf(in + off, sizeof(in) - off,
	    "hostname h.test\n");
	for (i = 0; i < CONFIG_LISTENERS_MAX; i++)
		off += (size_t)snprintf(in + off, sizeof(in) - off,
		    "listen smtp on 127.0.0.1 port %zu\n", 2000 + i);
	conf = parse(in, 0, err);
	cr_assert_not_null(conf, "%s", err);
	config_free(conf);
	(void)snprintf(in + off, sizeof(in) - off,
	    "listen smtp on 127.0.0.2\n");
	cr_assert_null(parse(in, 0, err));
	cr_assert_str_eq(err, "t.conf:34: too many listeners (at most 32)");
}

/*
 * Nothing carries over from one call to the next: a parse that fails in
 * the middle of a statement leaves no trace in the next one.
 */
Test(config, repeated_calls)
{
	struct config	*conf;
	char		 err[ERRBUF_BYTES];
	int		 i;

	for (i = 0; i < 500; i++) {
		cr_assert_null(parse("hostname a.test\nqueue retry 1m "
		    "expire 2h retry", 0, err));
		cr_assert_str_eq(err, "t.conf:2: syntax error at end of line");
		cr_assert_null(parse("hostname b.test\nlimit errors 2\n"
		    "rundir \"/x", 0, err));
		cr_assert_str_eq(err, "t.conf:3: unterminated string");
		conf = parse("hostname c.test\nqueue expire 5h\n"
		    "limit errors 3\n", 0, err);
		cr_assert_not_null(conf, "%s", err);
		cr_assert_str_empty(err);
		cr_assert_str_eq(conf->hostname, "c.test");
		cr_assert_str_eq(conf->rundir, "/run/sallyport");
		cr_assert_eq(conf->retry_min_secs, QUEUE_RETRY_MIN_SECS);
		cr_assert_eq(conf->expire_secs, 5 * 3600);
		cr_assert_eq(conf->max_errors, 3);
		config_free(conf);
	}
}

Test(config, small_errbuf)
{
	char	 err[8];

	cr_assert_null(config_parse("t.conf", "bogus\n", 6, err, sizeof(err)));
	cr_assert_str_eq(err, "t.conf:");
	cr_assert_null(config_parse("t.conf", "bogus\n", 6, err, 0));
	config_free(NULL);
}

Test(config, load)
{
	char	 dir[] = "/tmp/test_config.XXXXXX", path[PATH_MAX];
	char	 err[ERRBUF_BYTES], want[PATH_MAX + 64];
	struct config	*conf;
	FILE	*fp;
	char	*big;

	cr_assert_not_null(mkdtemp(dir));
	(void)snprintf(path, sizeof(path), "%s/none.conf", dir);
	cr_assert_null(config_load(path, err, sizeof(err)));
	(void)snprintf(want, sizeof(want), "%s: No such file or directory",
	    path);
	cr_assert_str_eq(err, want);

	cr_assert_null(config_load(dir, err, sizeof(err)));
	(void)snprintf(want, sizeof(want), "%s: Is a directory", dir);
	cr_assert_str_eq(err, want);

	(void)snprintf(path, sizeof(path), "%s/ok.conf", dir);
	cr_assert_not_null(fp = fopen(path, "w"));
	(void)fputs("hostname h.test\nbogus\n", fp);
	cr_assert_eq(fclose(fp), 0);
	cr_assert_null(config_load(path, err, sizeof(err)));
	(void)snprintf(want, sizeof(want), "%s:2: unknown statement \"bogus\"",
	    path);
	cr_assert_str_eq(err, want);

	cr_assert_not_null(fp = fopen(path, "w"));
	(void)fputs("hostname h.test\nlimit errors 5\n", fp);
	cr_assert_eq(fclose(fp), 0);
	cr_assert_not_null(conf = config_load(path, err, sizeof(err)), "%s",
	    err);
	cr_assert_eq(conf->max_errors, 5);
	config_free(conf);

	/* Bigger than the limit by far: read only up to it, refused. */
	big = repeat("", '#', 3 * CONFIG_FILE_MAX_BYTES, "");
	cr_assert_not_null(fp = fopen(path, "w"));
	cr_assert_eq(fwrite(big, 1, strlen(big), fp), strlen(big));
	cr_assert_eq(fclose(fp), 0);
	free(big);
	cr_assert_null(config_load(path, err, sizeof(err)));
	(void)snprintf(want, sizeof(want),
	    "%s:1: file larger than 1048576 bytes", path);
	cr_assert_str_eq(err, want);

	(void)unlink(path);
	(void)rmdir(dir);
}
