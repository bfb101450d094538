/*
 * authd's count of failed logins per client address
 * (authd/authd_throttle.c): the keys addresses count under, the lockout
 * past AUTH_FAILURES_MAX, the end of the window, and the bound on the
 * addresses remembered.
 */
#include <stdio.h>
#include <string.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "../../authd/authd.h"

struct key_case {
	char	 client[64];
	char	 key[AUTHD_THROTTLE_KEY_MAX_BYTES];	/* "" when refused */
};

static struct key_case key_cases[] = {
	{ "127.0.0.1", "127.0.0.1" },
	{ "192.0.2.10", "192.0.2.10" },
	{ "::1", "::/64" },
	{ "2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64" },
	{ "2001:db8:1:2::1", "2001:db8:1:2::/64" },
	{ "2001:DB8:1:3::1", "2001:db8:1:3::/64" },
	{ "::ffff:192.0.2.7", "192.0.2.7" },
	{ "unknown", "unknown" },
	{ "", "" },
	{ "x0123456789012345678901234567890123456789012345678901234567", "" },
};

ParameterizedTestParameters(throttle, key)
{
	return cr_make_param_array(struct key_case, key_cases,
	    sizeof(key_cases) / sizeof(key_cases[0]));
}

ParameterizedTest(struct key_case *c, throttle, key)
{
	char	 key[AUTHD_THROTTLE_KEY_MAX_BYTES];
	int	 rv;

	rv = authd_throttle_key(c->client, key, sizeof(key));
	if (c->key[0] == '\0' && c->client[0] != '\0')
		cr_assert_eq(rv, -1, "%s: %s", c->client, key);
	else {
		cr_assert_eq(rv, 0, "%s", c->client);
		cr_assert_str_eq(key, c->key);
	}
}

Test(throttle, locks_after_max)
{
	unsigned int	 i;

	authd_throttle_clear();
	for (i = 1; i <= AUTH_FAILURES_MAX; i++) {
		cr_assert_not(authd_throttle_locked("192.0.2.1", 1000));
		cr_assert_eq(authd_throttle_fail("192.0.2.1", 1000), i);
	}
	cr_assert(authd_throttle_locked("192.0.2.1", 1000));
	cr_assert_not(authd_throttle_locked("192.0.2.2", 1000));
	/* The same /64, another address: the same count. */
	for (i = 0; i < AUTH_FAILURES_MAX; i++)
		(void)authd_throttle_fail("2001:db8::1", 1000);
	cr_assert(authd_throttle_locked("2001:db8::2", 1000));
	cr_assert_not(authd_throttle_locked("2001:db8:0:1::1", 1000));
	cr_assert_eq(authd_throttle_count(), 2);
}

Test(throttle, window_ends)
{
	unsigned int	 i;

	authd_throttle_clear();
	for (i = 0; i < AUTH_FAILURES_MAX; i++)
		(void)authd_throttle_fail("192.0.2.1", 1000 + i);
	cr_assert(authd_throttle_locked("192.0.2.1",
	    1000 + AUTH_FAIL_WINDOW_SECS - 1));
	cr_assert_not(authd_throttle_locked("192.0.2.1",
	    1000 + AUTH_FAIL_WINDOW_SECS));
	cr_assert_eq(authd_throttle_count(), 0);
	cr_assert_eq(authd_throttle_fail("192.0.2.1",
	    1000 + AUTH_FAIL_WINDOW_SECS), 1);
}

Test(throttle, bounded)
{
	char	 addr[64];
	size_t	 i;

	authd_throttle_clear();
	for (i = 0; i <= AUTHD_THROTTLE_ADDRS_MAX; i++) {
		(void)snprintf(addr, sizeof(addr), "10.%zu.%zu.%zu",
		    (i >> 16) & 255, (i >> 8) & 255, i & 255);
		(void)authd_throttle_fail(addr, 1000);
	}
	cr_assert_eq(authd_throttle_count(), AUTHD_THROTTLE_ADDRS_MAX);
	/* The oldest went first. */
	cr_assert_eq(authd_throttle_fail("10.0.0.0", 1000), 1);
	cr_assert_eq(authd_throttle_fail("10.0.0.2", 1000), 2);
	authd_throttle_clear();
	cr_assert_eq(authd_throttle_count(), 0);
}
