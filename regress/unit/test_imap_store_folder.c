/*
 * imapd's store: Maildir++ folders (imap_folder*.c) on a temporary
 * Maildir: names, LIST patterns and attributes, CREATE with superiors,
 * DELETE with children, RENAME with children and of INBOX,
 * subscriptions, the special-use folders of the first login.
 */
#include "test_imap_store.h"

#include <criterion/parameterized.h>

TestSuite(imap_folder, .init = ts_setup, .fini = ts_teardown);

struct match_case {
	char	 pattern[32];
	char	 name[32];
	int	 want;
};

ParameterizedTestParameters(imap_folder, match)
{
	static struct match_case cases[] = {
		{ "*", "a/b/c", 1 },
		{ "%", "a/b", 0 },
		{ "%", "a", 1 },
		{ "a/%", "a/b", 1 },
		{ "a/%", "a/b/c", 0 },
		{ "a%", "ab/c", 0 },
		{ "a*", "ab/c", 1 },
		{ "*b*c", "abxc", 1 },
		{ "*b*c", "abxcd", 0 },
		{ "%/%", "x/y", 1 },
		{ "", "a", 0 },
		{ "inbox", "INBOX", 1 },
		{ "InBoX/%", "INBOX/sub", 1 },
		{ "inbox", "inbox", 1 },
		{ "Inbox2", "INBOX2", 0 },
		{ "a%%*%b", "a/x/b", 1 },
		{ "a%%%%b", "a/b", 0 },
		{ "Sent", "sent", 0 },
	};

	return cr_make_param_array(struct match_case, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct match_case *c, imap_folder, match)
{
	cr_assert_eq(imap_folder_match(c->pattern, c->name), c->want,
	    "%s against %s", c->pattern, c->name);
}

/* A pattern that would backtrack exponentially, matched at once. */
Test(imap_folder, match_bounded)
{
	char		 pat[IMAP_PATTERN_MAX_BYTES + 1], name[201];
	size_t		 i;

	for (i = 0; i + 2 <= IMAP_PATTERN_MAX_BYTES; i += 2)
		memcpy(pat + i, "*a", 2);
	pat[i] = '\0';
	memset(name, 'a', 199);
	name[199] = 'b';
	name[200] = '\0';
	cr_assert_eq(imap_folder_match(pat, name), 0);
	pat[IMAP_PATTERN_MAX_BYTES - 1] = '*';
	cr_assert_eq(imap_folder_match("*a*a*a*b", name), 1);
}

struct name_case {
	char	 name[32];
	int	 ok;
};

ParameterizedTestParameters(imap_folder, names)
{
	static struct name_case cases[] = {
		{ "Sent", 1 }, { "A/B/C", 1 }, { "&AMk-t&AOk-", 1 },
		{ "a.b", 0 }, { "/a", 0 }, { "a/", 0 }, { "a//b", 0 },
		{ "", 0 }, { "a*", 0 }, { "a%b", 0 }, { "\x01x", 0 },
		{ "caf\xc3\xa9", 0 },
	};

	return cr_make_param_array(struct name_case, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct name_case *c, imap_folder, names)
{
	const char	*errstr;

	cr_assert_eq(imap_folder_valid(c->name, &errstr) == IMAP_ST_OK,
	    c->ok, "%s", c->name);
}

static unsigned int
attrs_of(const char *pattern, unsigned int opts, const char *name)
{
	struct imap_folder_list	 fl;
	unsigned int		 a = 0;
	size_t			 i;
	int			 found = 0;

	cr_assert_eq(imap_folder_list(ts_st, pattern, opts, &fl), IMAP_ST_OK);
	for (i = 0; i < fl.n; i++)
		if (strcmp(fl.v[i].name, name) == 0) {
			a = fl.v[i].attrs;
			found = 1;
		}
	imap_folder_list_free(&fl);
	return found ? a : 0xffffffffU;
}

Test(imap_folder, create_with_superiors_and_list)
{
	struct imap_folder_list	 fl;

	cr_assert_eq(imap_folder_create(ts_st, "A/B/C"), IMAP_ST_OK);
	cr_assert(ts_exists(".A/maildirfolder"));
	cr_assert(ts_exists(".A.B/cur"));
	cr_assert(ts_exists(".A.B.C/new"));
	cr_assert_eq(imap_folder_create(ts_st, "A/B"), IMAP_ST_ALREADYEXISTS);
	cr_assert_eq(imap_folder_create(ts_st, "inbox"),
	    IMAP_ST_ALREADYEXISTS);
	cr_assert_eq(imap_folder_create(ts_st, "x.y"), IMAP_ST_BADNAME);
	cr_assert_eq(imap_folder_list(ts_st, "*", 0, &fl), IMAP_ST_OK);
	cr_assert_eq(fl.n, 4);
	cr_assert_str_eq(fl.v[0].name, "INBOX");
	cr_assert_str_eq(fl.v[1].name, "A");
	cr_assert_str_eq(fl.v[3].name, "A/B/C");
	imap_folder_list_free(&fl);
	cr_assert_eq(attrs_of("%", 0, "A"), IMAP_LA_HASCHILDREN);
	cr_assert_eq(attrs_of("%", 0, "INBOX"), IMAP_LA_HASNOCHILDREN);
	cr_assert_eq(attrs_of("%", 0, "A/B"), 0xffffffffU, "% stops at /");
	cr_assert_eq(attrs_of("A/B/%", 0, "A/B/C"), IMAP_LA_HASNOCHILDREN);
}

Test(imap_folder, noselect_parent_from_another_program)
{
	char	 path[512];

	ts_path(path, sizeof(path), ".X.Y");
	cr_assert(mkdir(path, 0700) == 0);
	cr_assert_eq(attrs_of("*", 0, "X"),
	    IMAP_LA_NOSELECT | IMAP_LA_HASCHILDREN);
	cr_assert_eq(attrs_of("*", 0, "X/Y"), IMAP_LA_HASNOCHILDREN);
	cr_assert_eq(imap_mbox_open(ts_st, "X", 0, &(struct imap_mbox *){
	    NULL }), IMAP_ST_NONEXISTENT);
}

Test(imap_folder, delete_with_and_without_children)
{
	cr_assert_eq(imap_folder_delete(ts_st, "INBOX"), IMAP_ST_NOPERM);
	cr_assert_eq(imap_folder_delete(ts_st, "Nope"), IMAP_ST_NONEXISTENT);
	cr_assert_eq(imap_folder_create(ts_st, "A/B"), IMAP_ST_OK);
	ts_append("A", "x\n", 0, 0);
	cr_assert_eq(imap_folder_delete(ts_st, "A"), IMAP_ST_OK);
	cr_assert(!ts_exists(".A"));
	cr_assert(ts_exists(".A.B/cur"));
	cr_assert_eq(attrs_of("*", 0, "A"),
	    IMAP_LA_NOSELECT | IMAP_LA_HASCHILDREN);
	cr_assert_eq(imap_folder_delete(ts_st, "A"), IMAP_ST_NONEXISTENT,
	    "RFC 3501 6.3.4: a \\Noselect name with children stays");
	cr_assert_eq(imap_folder_delete(ts_st, "A/B"), IMAP_ST_OK);
	cr_assert_eq(attrs_of("*", 0, "A"), 0xffffffffU);
	cr_assert_eq(attrs_of("*", 0, "A/B"), 0xffffffffU);
	cr_assert_eq(ts_count("."), 4, "cur, new, tmp, the UIDVALIDITY "
	    "counter, nothing set aside left");
}

Test(imap_folder, uidvalidity_never_reused)
{
	struct imap_mbox_info	 a, b;

	cr_assert_eq(imap_folder_create(ts_st, "F"), IMAP_ST_OK);
	cr_assert_eq(imap_store_status(ts_st, "F", &a), IMAP_ST_OK);
	cr_assert_eq(imap_folder_delete(ts_st, "F"), IMAP_ST_OK);
	cr_assert_eq(imap_folder_create(ts_st, "F"), IMAP_ST_OK);
	cr_assert_eq(imap_store_status(ts_st, "F", &b), IMAP_ST_OK);
	cr_assert_gt(b.uidvalidity, a.uidvalidity);
}

Test(imap_folder, rename_with_children)
{
	struct imap_mbox_info	 before, after;

	cr_assert_eq(imap_folder_create(ts_st, "A/B"), IMAP_ST_OK);
	ts_append("A/B", "x\n", 0, 0);
	ts_append("A/B", "y\n", 0, 0);
	cr_assert_eq(imap_store_status(ts_st, "A/B", &before), IMAP_ST_OK);
	cr_assert_eq(imap_folder_create(ts_st, "Z"), IMAP_ST_OK);
	cr_assert_eq(imap_folder_rename(ts_st, "A", "Z"),
	    IMAP_ST_ALREADYEXISTS);
	cr_assert_eq(imap_folder_rename(ts_st, "A", "A/B/C"),
	    IMAP_ST_BADNAME);
	cr_assert_eq(imap_folder_rename(ts_st, "Nope", "Q"),
	    IMAP_ST_NONEXISTENT);
	cr_assert_eq(imap_folder_rename(ts_st, "A", "P/Q"), IMAP_ST_OK,
	    "%s", imap_store_error(ts_st));
	cr_assert(!ts_exists(".A"));
	cr_assert(!ts_exists(".A.B"));
	cr_assert(ts_exists(".P"));
	cr_assert(ts_exists(".P.Q.B/cur"));
	cr_assert_eq(imap_store_status(ts_st, "P/Q/B", &after), IMAP_ST_OK);
	cr_assert_eq(after.uidvalidity, before.uidvalidity);
	cr_assert_eq(after.exists, 2);
	cr_assert_eq(after.uidnext, 3);
	/* "P" is only a \Noselect parent now; renaming it moves "P/Q/B". */
	cr_assert_eq(imap_folder_delete(ts_st, "P"), IMAP_ST_OK);
	cr_assert_eq(imap_folder_delete(ts_st, "P/Q"), IMAP_ST_OK);
	cr_assert_eq(imap_folder_rename(ts_st, "P", "R"), IMAP_ST_OK);
	cr_assert(ts_exists(".R.Q.B/cur"));
	cr_assert(!ts_exists(".P.Q.B"));
}

Test(imap_folder, rename_inbox_moves_messages)
{
	struct imap_mbox_info	 inbox, old;

	ts_append("INBOX", "one\n", IMAP_F_SEEN, 0);
	ts_append("INBOX", "two\n", 0, 0);
	cr_assert_eq(imap_folder_create(ts_st, "INBOX/keep"), IMAP_ST_OK);
	cr_assert_eq(imap_folder_rename(ts_st, "INBOX", "Old"), IMAP_ST_OK,
	    "%s", imap_store_error(ts_st));
	cr_assert_eq(imap_store_status(ts_st, "INBOX", &inbox), IMAP_ST_OK);
	cr_assert_eq(imap_store_status(ts_st, "Old", &old), IMAP_ST_OK);
	cr_assert_eq(inbox.exists, 0);
	cr_assert_eq(inbox.uidnext, 3, "INBOX's UIDs are not given again");
	cr_assert_eq(old.exists, 2);
	cr_assert_eq(old.unseen, 1);
	cr_assert(ts_exists(".INBOX.keep"), "INBOX's children stay");
}

Test(imap_folder, subscriptions)
{
	struct imap_folder_list	 fl;

	cr_assert_eq(imap_folder_create(ts_st, "Lists"), IMAP_ST_OK);
	cr_assert_eq(imap_folder_subscribe(ts_st, "Lists"), IMAP_ST_OK);
	cr_assert_eq(imap_folder_subscribe(ts_st, "Gone"), IMAP_ST_OK);
	cr_assert_eq(imap_folder_subscribe(ts_st, "Lists"), IMAP_ST_OK);
	cr_assert_eq(imap_folder_list(ts_st, "*", IMAP_LIST_SUBSCRIBED, &fl),
	    IMAP_ST_OK);
	cr_assert_eq(fl.n, 2);
	cr_assert_str_eq(fl.v[0].name, "Gone");
	cr_assert_eq(fl.v[0].attrs & (IMAP_LA_NONEXISTENT | IMAP_LA_SUBSCRIBED),
	    IMAP_LA_NONEXISTENT | IMAP_LA_SUBSCRIBED);
	cr_assert_eq(fl.v[1].attrs & IMAP_LA_NONEXISTENT, 0);
	imap_folder_list_free(&fl);
	cr_assert(attrs_of("*", 0, "Lists") & IMAP_LA_SUBSCRIBED);
	cr_assert_eq(imap_folder_unsubscribe(ts_st, "Gone"), IMAP_ST_OK);
	cr_assert_eq(imap_folder_list(ts_st, "*", IMAP_LIST_SUBSCRIBED, &fl),
	    IMAP_ST_OK);
	cr_assert_eq(fl.n, 1);
	imap_folder_list_free(&fl);
	cr_assert_eq(imap_folder_subscribe(ts_st, "bad.name"),
	    IMAP_ST_BADNAME);
}

Test(imap_folder, first_login_special_use)
{
	cr_assert_eq(imap_store_first_login(ts_st), IMAP_ST_OK);
	cr_assert_eq(attrs_of("*", 0, "Drafts") & ~IMAP_LA_HASNOCHILDREN,
	    IMAP_LA_DRAFTS | IMAP_LA_SUBSCRIBED);
	cr_assert(attrs_of("*", 0, "Sent") & IMAP_LA_SENT);
	cr_assert(attrs_of("*", 0, "Trash") & IMAP_LA_TRASH);
	cr_assert(attrs_of("*", 0, "Junk") & IMAP_LA_JUNK);
	cr_assert(attrs_of("*", 0, "Archive") & IMAP_LA_ARCHIVE);
	cr_assert_eq(imap_folder_delete(ts_st, "Junk"), IMAP_ST_OK);
	cr_assert_eq(imap_store_first_login(ts_st), IMAP_ST_OK);
	cr_assert(!ts_exists(".Junk"), "a deleted one stays deleted");
}
