/*
 * queued/queue_dedup.c: the final recipients of one message, and which
 * of its envelopes took each (issue 14: one copy per mailbox).
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>

#include "../../queued/queue.h"

struct key_case {
	int	 remote;
	char	 value[40];
	char	 want[48];
};

ParameterizedTestParameters(dedup, key)
{
	static struct key_case cases[] = {
		{ 0, "bob", "mailbox:bob" },
		/* A user name is authd's, compared as it is. */
		{ 0, "Bob", "mailbox:Bob" },
		{ 1, "Carol@Elsewhere.TEST", "remote:Carol@elsewhere.test" },
		{ 1, "a@b@C.test", "remote:a@b@c.test" },
		{ 1, "noat", "remote:noat" },
	};

	return cr_make_param_array(struct key_case, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct key_case *c, dedup, key)
{
	char	 key[QUEUE_DEDUP_KEY_MAX_BYTES];

	cr_assert_eq(queue_dedup_key(key, sizeof(key), c->remote, c->value),
	    0);
	cr_assert_str_eq(key, c->want);
}

Test(dedup, key_too_long)
{
	char	 key[12];

	cr_assert_eq(queue_dedup_key(key, sizeof(key), 0, "bob"), 0);
	cr_assert_eq(queue_dedup_key(key, sizeof(key), 0, "robert"), -1);
}

Test(dedup, claims)
{
	struct qmsg	 m;

	memset(&m, 0, sizeof(m));
	SLIST_INIT(&m.claims);
	/* The first envelope takes the mailbox; again, it still has it. */
	cr_assert_null(queue_dedup_claim(&m, "mailbox:bob",
	    "0123456789abcdef.1"));
	cr_assert_null(queue_dedup_claim(&m, "mailbox:bob",
	    "0123456789abcdef.1"));
	/* Another is its duplicate, and learns whose. */
	cr_assert_str_eq(queue_dedup_claim(&m, "mailbox:bob",
	    "0123456789abcdef.2"), "0123456789abcdef.1");
	cr_assert_str_eq(queue_dedup_owner(&m, "mailbox:bob",
	    "0123456789abcdef.3"), "0123456789abcdef.1");
	cr_assert_null(queue_dedup_owner(&m, "mailbox:bob",
	    "0123456789abcdef.1"));
	/* Other recipients are free; the owner check takes nothing. */
	cr_assert_null(queue_dedup_owner(&m, "mailbox:alice",
	    "0123456789abcdef.2"));
	cr_assert_null(queue_dedup_claim(&m, "mailbox:alice",
	    "0123456789abcdef.3"));
	cr_assert_null(queue_dedup_claim(&m, "remote:bob@example.test",
	    "0123456789abcdef.2"));
	/* One final recipient per envelope: a new one frees the old. */
	cr_assert_null(queue_dedup_claim(&m, "mailbox:carol",
	    "0123456789abcdef.3"));
	cr_assert_null(queue_dedup_owner(&m, "mailbox:alice",
	    "0123456789abcdef.4"));
	/* An envelope expanded into others frees what it took. */
	queue_dedup_release(&m, "0123456789abcdef.1");
	cr_assert_null(queue_dedup_claim(&m, "mailbox:bob",
	    "0123456789abcdef.5"));
	cr_assert_str_eq(queue_dedup_owner(&m, "mailbox:carol",
	    "0123456789abcdef.5"), "0123456789abcdef.3");
	queue_dedup_free(&m);
	cr_assert(SLIST_EMPTY(&m.claims));
	/* Forgotten with the message: a fresh one starts empty. */
	cr_assert_null(queue_dedup_claim(&m, "mailbox:bob",
	    "0123456789abcdef.2"));
	queue_dedup_free(&m);
}
