/*
 * imapd's login engine table (imapd/imap_cmd_noauth.c): what the
 * Not Authenticated state accepts and refuses before any handler runs
 * (imap_check() of imap_proto.h on the engine's own table), and the
 * handoff's refusal line (imap_handoff.c).  Commands are read by the
 * real reader from the bytes a client would send.
 */
#include <sys/types.h>

#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "access.h"
#include "../../imapd/imap_login.h"

static int
t_write(struct imap_conn *c, const void *p, size_t n)
{
	(void)c;
	(void)p;
	(void)n;
	return 0;
}

static const struct imap_io	t_io = { t_write, NULL };

struct check_case {
	char	 in[128];
	int	 state;
	int	 ok;		/* imap_check accepts it */
	char	 name[16];	/* the entry found */
};

static struct check_case check_cases[] = {
	{ "a CAPABILITY\r\n", IMAP_S_NOAUTH, 1, "CAPABILITY" },
	{ "a capability\r\n", IMAP_S_NOAUTH, 1, "CAPABILITY" },
	{ "a NOOP\r\n", IMAP_S_NOAUTH, 1, "NOOP" },
	{ "a LOGOUT\r\n", IMAP_S_NOAUTH, 1, "LOGOUT" },
	{ "a ID NIL\r\n", IMAP_S_NOAUTH, 1, "ID" },
	{ "a ID (\"name\" \"x\")\r\n", IMAP_S_NOAUTH, 1, "ID" },
	{ "a ID\r\n", IMAP_S_NOAUTH, 0, "" },
	{ "a STARTTLS\r\n", IMAP_S_NOAUTH, 1, "STARTTLS" },
	{ "a STARTTLS now\r\n", IMAP_S_NOAUTH, 0, "" },
	{ "a LOGIN bob secret\r\n", IMAP_S_NOAUTH, 1, "LOGIN" },
	{ "a LOGIN \"bob\" \"se cret\"\r\n", IMAP_S_NOAUTH, 1, "LOGIN" },
	{ "a LOGIN bob\r\n", IMAP_S_NOAUTH, 0, "" },
	{ "a LOGIN bob secret more\r\n", IMAP_S_NOAUTH, 0, "" },
	{ "a LOGIN (bob) secret\r\n", IMAP_S_NOAUTH, 0, "" },
	{ "a AUTHENTICATE PLAIN\r\n", IMAP_S_NOAUTH, 1, "AUTHENTICATE" },
	{ "a AUTHENTICATE PLAIN AGJvYgBzZWNyZXQ=\r\n", IMAP_S_NOAUTH, 1,
	    "AUTHENTICATE" },
	{ "a AUTHENTICATE PLAIN =\r\n", IMAP_S_NOAUTH, 1, "AUTHENTICATE" },
	{ "a AUTHENTICATE\r\n", IMAP_S_NOAUTH, 0, "" },
	/* Not the engine's: the mailbox process's commands are not here. */
	{ "a SELECT INBOX\r\n", IMAP_S_NOAUTH, 0, "" },
	{ "a FETCH 1 FLAGS\r\n", IMAP_S_NOAUTH, 0, "" },
	{ "a UID FETCH 1 FLAGS\r\n", IMAP_S_NOAUTH, 0, "" },
	/* The login's commands only before it. */
	{ "a LOGIN bob secret\r\n", IMAP_S_AUTH, 0, "" },
	{ "a STARTTLS\r\n", IMAP_S_AUTH, 0, "" },
	{ "a NOOP\r\n", IMAP_S_AUTH, 1, "NOOP" },
};

ParameterizedTestParameters(imap_login, check)
{
	return cr_make_param_array(struct check_case, check_cases,
	    sizeof(check_cases) / sizeof(check_cases[0]));
}

ParameterizedTest(struct check_case *tc, imap_login, check)
{
	struct imap_conn	 c;
	struct imap_reader	*rd;
	struct imap_command	*cmd;
	const struct imap_cmd	*e;
	const char		*err = NULL;
	size_t			 used, len = strlen(tc->in);

	memset(&c, 0, sizeof(c));
	rd = imap_reader_new(imap_login_cmds, &t_io, NULL, &c);
	cr_assert_not_null(rd);
	cr_assert_eq(imap_reader_feed(rd, tc->in, len, &used), IMAP_RD_CMD,
	    "%s", tc->in);
	cr_assert_eq(used, len);
	cmd = imap_reader_command(rd);
	e = imap_check(imap_login_cmds, tc->state, cmd, &err);
	if (tc->ok) {
		cr_assert_not_null(e, "%s refused: %s", tc->in, err);
		cr_assert_str_eq(e->name, tc->name);
		cr_assert_not_null(e->handler);
	} else {
		cr_assert_null(e, "%s accepted", tc->in);
		cr_assert_not_null(err);
	}
	imap_reader_free(rd);
}

/* Every entry of the table names a handler and only pre-auth states. */
Test(imap_login, table)
{
	const struct imap_cmd	*e;
	int			 n = 0;

	for (e = imap_login_cmds; e->name != NULL; e++, n++) {
		cr_assert_not_null(e->handler, "%s", e->name);
		cr_assert(e->states & IMAP_S_NOAUTH, "%s", e->name);
		cr_assert_null(e->uid_args, "%s", e->name);
	}
	cr_assert_eq(n, 7);
}

struct refusal_case {
	char	 note[16];
	char	 out[128];
};

static struct refusal_case refusal_cases[] = {
	{ "a1", "a1 NO [UNAVAILABLE] Login failed, please try again later"
	    "\r\n* BYE Closing\r\n" },
	{ "", "* NO [UNAVAILABLE] Login failed, please try again later"
	    "\r\n* BYE Closing\r\n" },
};

ParameterizedTestParameters(imap_login, refusal)
{
	return cr_make_param_array(struct refusal_case, refusal_cases,
	    sizeof(refusal_cases) / sizeof(refusal_cases[0]));
}

ParameterizedTest(struct refusal_case *tc, imap_login, refusal)
{
	struct access_login	 l;
	char			 buf[256];
	int			 n;

	memset(&l, 0, sizeof(l));
	(void)strlcpy(l.note, tc->note, sizeof(l.note));
	n = imap_handoff_refusal(&l, buf, sizeof(buf));
	cr_assert_eq(n, (int)strlen(tc->out));
	cr_assert_str_eq(buf, tc->out);
}
