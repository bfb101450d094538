/*
 * smtpd/smtp_literal.c (issue 14): a recipient at an address literal of
 * this host (a loopback address, the address the client reached, a
 * listener's) is local, postmaster always and other users with
 * "address-literal local-users yes"; a literal of another host, or the
 * unspecified address, is left as it is.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "config.h"
#include "../../smtpd/smtpd.h"

#define IN_MAX	128

/* Listeners on 192.0.2.10, 2001:db8::10 and the wildcard 0.0.0.0. */
#define LITERAL_CONF							\
	"hostname \"mx.example.test\"\n"				\
	"domain \"example.test\"\n"					\
	"domain \"other.example.test\"\n"				\
	"listen smtp on 192.0.2.10 port 25\n"				\
	"listen smtp on 2001:db8::10 port 25\n"				\
	"listen submission on 0.0.0.0\n"

/* The address the client connected to. */
#define LITERAL_LOCAL_ADDR	"198.51.100.7"

struct literal_case {
	char	rcpt[IN_MAX];
	int	local_users;
	int	want;		/* enum smtp_literal */
	char	out[IN_MAX];	/* for LOCAL and REFUSED */
};

static struct literal_case literal_cases[] = {
	{ "postmaster@[127.0.0.1]", 0, SMTP_LITERAL_LOCAL,
	    "postmaster@example.test" },
	{ "PostMaster@[127.0.0.2]", 0, SMTP_LITERAL_LOCAL,
	    "postmaster@example.test" },
	{ "\"postmaster\"@[127.0.0.1]", 0, SMTP_LITERAL_LOCAL,
	    "postmaster@example.test" },
	{ "postmaster@[IPv6:::1]", 0, SMTP_LITERAL_LOCAL,
	    "postmaster@example.test" },
	{ "postmaster@[IPv6:::ffff:127.0.0.1]", 0, SMTP_LITERAL_LOCAL,
	    "postmaster@example.test" },
	{ "postmaster@[192.0.2.10]", 0, SMTP_LITERAL_LOCAL,
	    "postmaster@example.test" },
	{ "postmaster@[IPv6:2001:DB8::10]", 0, SMTP_LITERAL_LOCAL,
	    "postmaster@example.test" },
	{ "postmaster@[" LITERAL_LOCAL_ADDR "]", 0, SMTP_LITERAL_LOCAL,
	    "postmaster@example.test" },
	{ "bob@[127.0.0.1]", 0, SMTP_LITERAL_REFUSED, "bob@[127.0.0.1]" },
	{ "bob@[IPv6:::1]", 0, SMTP_LITERAL_REFUSED, "bob@[IPv6:::1]" },
	{ "bob@[127.0.0.1]", 1, SMTP_LITERAL_LOCAL, "bob@example.test" },
	{ "Bob.Smith@[192.0.2.10]", 1, SMTP_LITERAL_LOCAL,
	    "Bob.Smith@example.test" },
	{ "\"b c\"@[192.0.2.10]", 1, SMTP_LITERAL_LOCAL,
	    "\"b c\"@example.test" },
	/* Other hosts, the wildcard and names: left as they are. */
	{ "postmaster@[192.0.2.11]", 1, SMTP_LITERAL_NONE, "" },
	{ "postmaster@[IPv6:2001:db8::11]", 1, SMTP_LITERAL_NONE, "" },
	{ "postmaster@[0.0.0.0]", 1, SMTP_LITERAL_NONE, "" },
	{ "postmaster@[IPv6:::]", 1, SMTP_LITERAL_NONE, "" },
	{ "postmaster@example.test", 1, SMTP_LITERAL_NONE, "" },
	{ "bob@remote.example", 1, SMTP_LITERAL_NONE, "" },
};

ParameterizedTestParameters(smtp_literal, rcpt)
{
	return cr_make_param_array(struct literal_case, literal_cases,
	    sizeof(literal_cases) / sizeof(literal_cases[0]));
}

static void
literal_session(struct smtp_session *s, struct config *conf)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)(void *)&s->local;

	memset(s, 0, sizeof(*s));
	s->conf = conf;
	sin->sin_family = AF_INET;
	cr_assert_eq(inet_pton(AF_INET, LITERAL_LOCAL_ADDR, &sin->sin_addr),
	    1);
}

ParameterizedTest(struct literal_case *c, smtp_literal, rcpt)
{
	struct smtp_rcpt_args	 ra;
	struct smtp_session	 s;
	struct config		*conf;
	const char		*errstr;
	char			 in[IN_MAX + 8], err[256], out[SMTP_PATH_MAX_BYTES];

	conf = config_parse("t.conf", LITERAL_CONF, strlen(LITERAL_CONF),
	    err, sizeof(err));
	cr_assert_not_null(conf, "%s", err);
	conf->literal_local_users = c->local_users;
	literal_session(&s, conf);
	(void)snprintf(in, sizeof(in), "TO:<%s>", c->rcpt);
	cr_assert_eq(smtp_parse_rcpt(in, 1, 0, &ra, &errstr), SMTP_PARSE_OK,
	    "%s: %s", c->rcpt, errstr);
	out[0] = '\0';
	cr_assert_eq(smtp_literal_rcpt(&s, &ra.path, out, sizeof(out)),
	    c->want, "%s", c->rcpt);
	if (c->want != SMTP_LITERAL_NONE)
		cr_assert_str_eq(out, c->out, "%s", c->rcpt);
	config_free(conf);
}

/* A bare <Postmaster> is smtp_cmd.c's, not a literal. */
Test(smtp_literal, bare_postmaster_is_not_a_literal)
{
	struct smtp_rcpt_args	 ra;
	struct smtp_session	 s;
	struct config		*conf;
	const char		*errstr;
	char			 err[256], out[SMTP_PATH_MAX_BYTES];

	conf = config_parse("t.conf", LITERAL_CONF, strlen(LITERAL_CONF),
	    err, sizeof(err));
	cr_assert_not_null(conf, "%s", err);
	literal_session(&s, conf);
	cr_assert_eq(smtp_parse_rcpt("TO:<Postmaster>", 1, 0, &ra, &errstr),
	    SMTP_PARSE_OK);
	cr_assert_eq(smtp_literal_rcpt(&s, &ra.path, out, sizeof(out)),
	    SMTP_LITERAL_NONE);
	cr_assert_str_eq(smtp_literal_domain(conf), "example.test");
	config_free(conf);
}

/* Without a domain statement the host name is the local domain. */
Test(smtp_literal, hostname_without_domains)
{
	struct config	*conf;
	char		 err[256];
	const char	*in = "hostname \"mx.example.test\"\n";

	conf = config_parse("t.conf", in, strlen(in), err, sizeof(err));
	cr_assert_not_null(conf, "%s", err);
	cr_assert_str_eq(smtp_literal_domain(conf), "mx.example.test");
	config_free(conf);
}

Test(smtp_literal, config_switch)
{
	struct config	*conf;
	char		 err[256];
	const char	*in = "hostname h.test\n"
	    "address-literal local-users yes\n";

	conf = config_parse("t.conf", in, strlen(in), err, sizeof(err));
	cr_assert_not_null(conf, "%s", err);
	cr_assert_eq(conf->literal_local_users, 1);
	config_free(conf);
	in = "hostname h.test\naddress-literal local-users maybe\n";
	conf = config_parse("t.conf", in, strlen(in), err, sizeof(err));
	cr_assert_null(conf);
	cr_assert_str_eq(err, "t.conf:2: address-literal local-users takes "
	    "no or yes, not \"maybe\"");
}
