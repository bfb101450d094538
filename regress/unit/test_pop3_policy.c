/*
 * pop3d's RFC 2449 policies: LOGIN-DELAY as the parent remembers the
 * last logins (pop3d/pop3_logindelay.c), with its own clock, and its
 * bound; EXPIRE as the mailbox process marks retrieved messages at
 * QUIT (pop3d/pop3_expire.c).  Each test runs in its own process.
 */
#include <stdio.h>
#include <string.h>
#include <criterion/criterion.h>

#include "../../pop3d/pop3d.h"

Test(pop3_policy, login_delay)
{
	cr_assert_eq(pop3_logindelay_check("bob", 1000, 900), 0);
	cr_assert_eq(pop3_logindelay_check("bob", 1000, 900), 900);
	cr_assert_eq(pop3_logindelay_check("bob", 1899, 900), 1);
	cr_assert_eq(pop3_logindelay_check("alice", 1899, 900), 0);
	/* Refused logins do not move the time: bob may at 1900. */
	cr_assert_eq(pop3_logindelay_check("bob", 1900, 900), 0);
	cr_assert_eq(pop3_logindelay_check("bob", 1901, 900), 899);
	/* alice's login of 1899 is forgotten once it no longer counts. */
	cr_assert_eq(pop3_logindelay_check("x", 2799, 900), 0);
	cr_assert_eq(pop3_logindelay_count(), 2);
	/* No delay configured: always allowed, nothing kept. */
	cr_assert_eq(pop3_logindelay_check("bob", 1902, 0), 0);
	cr_assert_eq(pop3_logindelay_check("bob", 1902, 0), 0);
	cr_assert_eq(pop3_logindelay_count(), 0);
}

Test(pop3_policy, login_delay_bounded)
{
	char	 user[32];
	size_t	 i;

	for (i = 0; i < POP3_LOGIN_DELAY_USERS_MAX + 10; i++) {
		(void)snprintf(user, sizeof(user), "u%zu", i);
		cr_assert_eq(pop3_logindelay_check(user, 5000, 60), 0);
	}
	cr_assert_eq(pop3_logindelay_count(), POP3_LOGIN_DELAY_USERS_MAX);
	/* The oldest were forgotten; the newest are still refused. */
	cr_assert_eq(pop3_logindelay_check("u0", 5000, 60), 0);
	(void)snprintf(user, sizeof(user), "u%zu",
	    (size_t)POP3_LOGIN_DELAY_USERS_MAX + 9);
	cr_assert_eq(pop3_logindelay_check(user, 5000, 60), 60);
}

#define DAY	86400

static struct maildrop_msg	 msgs[5];
static struct maildrop		 md;

static void
expire_setup(void)
{
	memset(msgs, 0, sizeof(msgs));
	memset(&md, 0, sizeof(md));
	md.msgs = msgs;
	md.nmsgs = 5;
	msgs[0].secs = 100 * DAY;	/* old, retrieved */
	msgs[0].retrieved = 1;
	msgs[1].secs = 100 * DAY;	/* old, not retrieved */
	msgs[2].secs = 129 * DAY;	/* 1 day old, retrieved */
	msgs[2].retrieved = 1;
	msgs[3].secs = 0;		/* no time in its name, retrieved */
	msgs[3].retrieved = 1;
	msgs[4].secs = 100 * DAY;	/* old, retrieved, already DELE'd */
	msgs[4].retrieved = 1;
	msgs[4].deleted = 1;
	md.ndeleted = 1;
}

Test(pop3_policy, expire_days, .init = expire_setup)
{
	pop3_expire_set(30);
	cr_assert_eq(pop3_expire_mark(&md, 130 * DAY), 1);
	cr_assert(msgs[0].deleted);
	cr_assert(!msgs[1].deleted && !msgs[2].deleted && !msgs[3].deleted);
	cr_assert_eq(md.ndeleted, 2);
}

Test(pop3_policy, expire_zero_and_never, .init = expire_setup)
{
	pop3_expire_set(-1);
	cr_assert_eq(pop3_expire_mark(&md, 130 * DAY), 0);
	cr_assert_eq(md.ndeleted, 1);
	pop3_expire_set(0);
	cr_assert_eq(pop3_expire_mark(&md, 130 * DAY), 3);
	cr_assert(msgs[0].deleted && msgs[2].deleted && msgs[3].deleted);
	cr_assert(!msgs[1].deleted);
}
