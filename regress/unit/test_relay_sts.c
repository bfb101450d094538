/*
 * queued/relay_sts.c, relay_sts_cache.c: MTA-STS (RFC 8461) policy
 * files, TXT records, MX matching and the policy cache.
 */
#include <stdio.h>
#include <string.h>
#include <criterion/criterion.h>

#include "../../queued/relay_sts.h"

static int
parse(const char *s, struct relay_sts_policy *p, const char **err)
{
	*err = NULL;
	return relay_sts_policy_parse(s, strlen(s), p, err);
}

static void
parse_fails(const char *s, const char *why)
{
	struct relay_sts_policy	 p;
	const char		*err;

	cr_assert_eq(parse(s, &p, &err), -1, "accepted: %s", s);
	cr_assert_str_eq(err, why, "%s", s);
}

Test(relay_sts, policy_rfc_example)
{
	struct relay_sts_policy	 p;
	const char		*err;

	cr_assert_eq(parse("version: STSv1\r\nmode: enforce\r\n"
	    "mx: mail.example.com\r\nmx: *.example.net\r\n"
	    "mx: backupmx.example.com\r\nmax_age: 604800\r\n", &p, &err), 0,
	    "%s", err);
	cr_assert_eq(p.mode, RELAY_STS_ENFORCE);
	cr_assert_eq(p.max_age, 604800);
	cr_assert_eq(p.nmx, 3);
	cr_assert_str_eq(relay_sts_policy_mx(&p, 0), "mail.example.com");
	cr_assert_str_eq(relay_sts_policy_mx(&p, 1), "*.example.net");
	cr_assert_str_eq(relay_sts_policy_mx(&p, 2), "backupmx.example.com");
	cr_assert_null(relay_sts_policy_mx(&p, 3));
}

Test(relay_sts, policy_lf_wsp_unknown_no_final_newline)
{
	struct relay_sts_policy	 p;
	const char		*err;

	cr_assert_eq(parse("mode:testing \t\nfoo_bar.x: whatever: at all\n"
	    "version:\tSTSv1\nmx: MX1.Example.COM\n\nmax_age: 86400", &p,
	    &err), 0, "%s", err);
	cr_assert_eq(p.mode, RELAY_STS_TESTING);
	cr_assert_eq(p.max_age, 86400);
	cr_assert_eq(p.nmx, 1);
	cr_assert_str_eq(relay_sts_policy_mx(&p, 0), "mx1.example.com");
}

Test(relay_sts, policy_none_needs_no_mx_max_age_clamped)
{
	struct relay_sts_policy	 p;
	const char		*err;

	cr_assert_eq(parse("version: STSv1\nmode: none\n"
	    "max_age: 9999999999\n", &p, &err), 0, "%s", err);
	cr_assert_eq(p.mode, RELAY_STS_NONE);
	cr_assert_eq(p.max_age, RELAY_STS_MAX_AGE_SECS);
	cr_assert_eq(p.nmx, 0);
}

Test(relay_sts, policy_errors_named)
{
	parse_fails("mode: enforce\nmx: a.example\nmax_age: 1\n",
	    "no version");
	parse_fails("version: STSv1\nmx: a.example\nmax_age: 1\n", "no mode");
	parse_fails("version: STSv1\nmode: enforce\nmx: a.example\n",
	    "no max_age");
	parse_fails("version: STSv1\nmode: enforce\nmax_age: 1\n", "no mx");
	parse_fails("version: STSv2\n", "version is not STSv1");
	parse_fails("version: stsv1\n", "version is not STSv1");
	parse_fails("mode: Enforce\n", "mode is not enforce, testing or none");
	parse_fails("max_age: 12345678901\n", "max_age is not 1 to 10 digits");
	parse_fails("max_age: -1\n", "max_age is not a number");
	parse_fails("max_age:\n", "max_age is not 1 to 10 digits");
	parse_fails("mode: none\nmode: none\n", "a field given twice");
	parse_fails("version STSv1\n", "a line without a colon");
	parse_fails(" version: STSv1\n", "a bad field name");
	parse_fails("Version: STSv1\nmode: none\nmax_age: 1\n", "no version");
	parse_fails("mx: *\n", "mx is not a host name or *.domain");
	parse_fails("mx: a.*.example\n", "mx is not a host name or *.domain");
	parse_fails("mx: -a.example\n", "mx is not a host name or *.domain");
	parse_fails("mx: a-.example\n", "mx is not a host name or *.domain");
	parse_fails("mx: a..example\n", "mx is not a host name or *.domain");
	parse_fails("mx: a.example.\n", "mx is not a host name or *.domain");
	parse_fails("mx: a_b.example\n", "mx is not a host name or *.domain");
}

Test(relay_sts, policy_bounds)
{
	static char		 buf[RELAY_STS_POLICY_MAX_BYTES + 2];
	struct relay_sts_policy	 p;
	const char		*err;
	size_t			 i, off;

	memset(buf, '\n', sizeof(buf));
	cr_assert_eq(relay_sts_policy_parse(buf, sizeof(buf), &p, &err), -1);
	cr_assert_str_eq(err, "policy larger than 64 KiB");
	/* Padding up to the limit is taken. */
	off = (size_t)snprintf(buf, sizeof(buf),
	    "version: STSv1\nmode: none\nmax_age: 5\n");
	buf[off] = '\n';
	cr_assert_eq(relay_sts_policy_parse(buf, RELAY_STS_POLICY_MAX_BYTES,
	    &p, &err), 0, "%s", err);
	cr_assert_eq(p.max_age, 5);
	memcpy(buf + off, "x:\0\n", 4);
	cr_assert_eq(relay_sts_policy_parse(buf, off + 4, &p, &err), -1);
	cr_assert_str_eq(err, "a NUL in the policy");
	memset(buf, 'a', RELAY_STS_LINE_MAX_BYTES + 1);
	buf[0] = 'x', buf[1] = ':';
	cr_assert_eq(relay_sts_policy_parse(buf, RELAY_STS_LINE_MAX_BYTES + 1,
	    &p, &err), -1);
	cr_assert_str_eq(err, "a line too long");
	/* RELAY_STS_MX_MAX patterns are taken, one more is refused. */
	off = (size_t)snprintf(buf, sizeof(buf),
	    "version: STSv1\nmode: enforce\nmax_age: 5\n");
	for (i = 0; i < RELAY_STS_MX_MAX; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off,
		    "mx: mx%zu.example\n", i);
	cr_assert_eq(relay_sts_policy_parse(buf, off, &p, &err), 0, "%s", err);
	cr_assert_eq(p.nmx, RELAY_STS_MX_MAX);
	cr_assert_str_eq(relay_sts_policy_mx(&p, RELAY_STS_MX_MAX - 1),
	    "mx31.example");
	off += (size_t)snprintf(buf + off, sizeof(buf) - off,
	    "mx: one.more.example\n");
	cr_assert_eq(relay_sts_policy_parse(buf, off, &p, &err), -1);
	cr_assert_str_eq(err, "too many mx patterns");
}

Test(relay_sts, policy_print_round_trip)
{
	struct relay_sts_policy	 p, q;
	char			 buf[RELAY_STS_PRINT_MAX_BYTES];
	const char		*err;
	size_t			 i;
	int			 n;

	cr_assert_eq(parse("max_age: 7\nmode: testing\nversion: STSv1\n"
	    "mx: *.A.example\nmx: b.example\nx: y\n", &p, &err), 0);
	n = relay_sts_policy_print(&p, buf, sizeof(buf));
	cr_assert_str_eq(buf, "version: STSv1\nmode: testing\nmax_age: 7\n"
	    "mx: *.a.example\nmx: b.example\n");
	cr_assert_eq(relay_sts_policy_parse(buf, (size_t)n, &q, &err), 0);
	cr_assert_eq(q.mode, p.mode);
	cr_assert_eq(q.max_age, p.max_age);
	cr_assert_eq(q.nmx, p.nmx);
	for (i = 0; i < p.nmx; i++)
		cr_assert_str_eq(relay_sts_policy_mx(&q, i),
		    relay_sts_policy_mx(&p, i));
	cr_assert_eq(relay_sts_policy_print(&p, buf, 50), -1);
}

static struct relay_sts_policy
policy(const char *mx)
{
	struct relay_sts_policy	 p;
	char			 buf[512];
	const char		*err;

	(void)snprintf(buf, sizeof(buf),
	    "version: STSv1\nmode: enforce\nmax_age: 100\n%s", mx);
	cr_assert_eq(parse(buf, &p, &err), 0, "%s", err);
	return p;
}

Test(relay_sts, mx_match)
{
	struct relay_sts_policy	 p;

	p = policy("mx: mail.example.com\nmx: *.example.net\n");
	cr_assert_eq(relay_sts_mx_match(&p, "mail.example.com"), 1);
	cr_assert_eq(relay_sts_mx_match(&p, "MAIL.Example.COM."), 1);
	cr_assert_eq(relay_sts_mx_match(&p, "mail.example.com.evil"), 0);
	cr_assert_eq(relay_sts_mx_match(&p, "xmail.example.com"), 0);
	cr_assert_eq(relay_sts_mx_match(&p, "example.com"), 0);
	/* RFC 8461 4.1: the wildcard is exactly one leftmost label. */
	cr_assert_eq(relay_sts_mx_match(&p, "mx1.example.net"), 1);
	cr_assert_eq(relay_sts_mx_match(&p, "MX1.EXAMPLE.NET."), 1);
	cr_assert_eq(relay_sts_mx_match(&p, "example.net"), 0);
	cr_assert_eq(relay_sts_mx_match(&p, ".example.net"), 0);
	cr_assert_eq(relay_sts_mx_match(&p, "a.b.example.net"), 0);
	cr_assert_eq(relay_sts_mx_match(&p, "mx1.xexample.net"), 0);
	cr_assert_eq(relay_sts_mx_match(&p, ""), 0);
}

static int
txt(const char *s, char *id, const char **err)
{
	*err = NULL;
	return relay_sts_txt_parse(s, strlen(s), id, err);
}

Test(relay_sts, txt_records)
{
	char		 id[RELAY_STS_ID_MAX + 1];
	const char	*err;

	cr_assert_eq(txt("v=STSv1; id=20160831085700Z;", id, &err), 0);
	cr_assert_str_eq(id, "20160831085700Z");
	cr_assert_eq(txt("v=STSv1;id=abc", id, &err), 0);
	cr_assert_str_eq(id, "abc");
	cr_assert_eq(txt("v=STSv1 ;\tx-y.z=1:2 ; id=Q9 ; ", id, &err), 0);
	cr_assert_str_eq(id, "Q9");
	cr_assert_eq(txt("v=STSv1; id=12345678901234567890123456789012", id,
	    &err), 0);
	/* Not STSv1 records: discarded. */
	cr_assert_eq(txt("v=spf1 -all", id, &err), 1);
	cr_assert_eq(txt("v=STSv10; id=1", id, &err), 1);
	cr_assert_eq(txt("", id, &err), 1);
	/* STSv1, but invalid. */
	cr_assert_eq(txt("v=STSv1", id, &err), -1);
	cr_assert_str_eq(err, "no id");
	cr_assert_eq(txt("v=STSv1; id=123456789012345678901234567890123", id,
	    &err), -1);
	cr_assert_str_eq(err, "id longer than 32");
	cr_assert_eq(txt("v=STSv1; id=a-b", id, &err), -1);
	cr_assert_str_eq(err, "id not letters and digits");
	cr_assert_eq(txt("v=STSv1; id=a; id=b", id, &err), -1);
	cr_assert_str_eq(err, "id given twice");
	cr_assert_eq(txt("v=STSv1 id=a", id, &err), -1);
	cr_assert_str_eq(err, "fields not separated by ;");
	cr_assert_eq(txt("v=STSv1; id=", id, &err), -1);
	cr_assert_str_eq(err, "a field not name=value");
	cr_assert_eq(txt("v=STSv1; ;id=a", id, &err), -1);
	cr_assert_str_eq(err, "an empty field");
	cr_assert_eq(txt("v=STSv1; x=a=b; id=a", id, &err), -1);
	cr_assert_str_eq(err, "a bad character in a value");
}

Test(relay_sts, cache_expiry_replace_lru)
{
	struct relay_sts_cache		*c;
	struct relay_sts_policy		 p = policy("mx: a.example\n");
	const struct relay_sts_policy	*got;
	const char			*id;
	char				 d[32];
	int				 i;

	cr_assert_not_null(c = relay_sts_cache_new(3));
	cr_assert_eq(relay_sts_cache_put(c, "one.example", "id1", &p, 1000),
	    0);
	cr_assert_not_null(got = relay_sts_cache_get(c, "ONE.example", 1099,
	    &id));
	cr_assert_str_eq(id, "id1");
	cr_assert_eq(relay_sts_mx_match(got, "a.example"), 1);
	/* Expired at put time + max_age, and dropped. */
	cr_assert_null(relay_sts_cache_get(c, "one.example", 1100, &id));
	cr_assert_eq(relay_sts_cache_count(c), 0);
	/* A new id replaces the old policy. */
	cr_assert_eq(relay_sts_cache_put(c, "one.example", "id1", &p, 0), 0);
	p.mode = RELAY_STS_TESTING;
	cr_assert_eq(relay_sts_cache_put(c, "one.example", "id2", &p, 0), 0);
	cr_assert_eq(relay_sts_cache_count(c), 1);
	cr_assert_not_null(got = relay_sts_cache_get(c, "one.example", 1, &id));
	cr_assert_str_eq(id, "id2");
	cr_assert_eq(got->mode, RELAY_STS_TESTING);
	/* Full: the least recently used goes. */
	cr_assert_eq(relay_sts_cache_put(c, "two.example", "x", &p, 0), 0);
	cr_assert_eq(relay_sts_cache_put(c, "three.example", "x", &p, 0), 0);
	cr_assert_not_null(relay_sts_cache_get(c, "one.example", 1, NULL));
	cr_assert_eq(relay_sts_cache_put(c, "four.example", "x", &p, 0), 0);
	cr_assert_eq(relay_sts_cache_count(c), 3);
	cr_assert_null(relay_sts_cache_get(c, "two.example", 1, NULL));
	cr_assert_not_null(relay_sts_cache_get(c, "one.example", 1, NULL));
	cr_assert_not_null(relay_sts_cache_get(c, "three.example", 1, NULL));
	for (i = 0; i < 100; i++) {
		(void)snprintf(d, sizeof(d), "d%d.example", i);
		cr_assert_eq(relay_sts_cache_put(c, d, "x", &p, 0), 0);
	}
	cr_assert_eq(relay_sts_cache_count(c), 3);
	relay_sts_cache_free(c);
}
