/*
 * imapd's store (imap_uidlist.c, imap_index.c, imap_sync*.c) on a
 * temporary Maildir: UIDs in delivery order and stable across a lost
 * index, a torn index rebuilt, a new UIDVALIDITY when the uid list is
 * lost, two sessions seeing each other's changes, changes by other
 * programs noticed, \Recent, modseqs.
 */
#include <sys/wait.h>

#include "test_imap_store.h"

TestSuite(imap_store, .init = ts_setup, .fini = ts_teardown);

/* Three deliveries, not in name order: usecs 5 before 123, 999 first. */
static void
deliver3(void)
{
	ts_put("new/1000.M123P1Q2.h,S=3,W=4", "..\n");
	ts_put("new/1000.M5P1Q1.h", "a\nb\n");
	ts_put("cur/999.M1P1Q1.h,S=3:2,S", "xyz");
}

/* The deliveries seen once, then the folder closed: its info. */
static void
deliver3_seen(struct imap_mbox_info *info)
{
	struct imap_mbox	*mb;

	deliver3();
	mb = ts_open("INBOX", 0);
	imap_mbox_info(mb, info);
	imap_mbox_close(mb);
}

static uint32_t
uid_at(struct imap_mbox *mb, uint32_t i)
{
	const struct imap_msg	*m = imap_mbox_msg(mb, i);

	cr_assert_not_null(m);
	return m->uid;
}

Test(imap_store, empty_inbox)
{
	struct imap_mbox	*mb = ts_open("inbox", 0);
	struct imap_mbox_info	 info;

	imap_mbox_info(mb, &info);
	cr_assert_eq(info.exists, 0);
	cr_assert_eq(info.uidnext, 1);
	cr_assert_neq(info.uidvalidity, 0);
	cr_assert_str_eq(imap_mbox_name(mb), "INBOX");
	imap_mbox_close(mb);
	cr_assert(ts_exists("sallyport-imap.uids"));
	cr_assert(ts_exists("sallyport-imap.index"));
}

Test(imap_store, delivery_order_sizes_and_new_to_cur)
{
	struct imap_mbox	*mb;
	const struct imap_msg	*m;

	deliver3();
	mb = ts_open("INBOX", 0);
	cr_assert_eq(imap_mbox_count(mb), 3);
	cr_assert_eq(ts_count("new"), 0);
	cr_assert(ts_exists("cur/1000.M5P1Q1.h:2,"));
	m = imap_mbox_msg(mb, 0);
	cr_assert_eq(m->uid, 1);
	cr_assert_eq(m->flags & IMAP_F_PERMANENT, IMAP_F_SEEN);
	cr_assert_eq(m->size, 5, "no W=: counted, last line end added");
	m = imap_mbox_msg(mb, 1);
	cr_assert_eq(m->uid, 2);
	cr_assert_eq(m->size, 6, "a\\nb\\n is 6 octets in CRLF form");
	m = imap_mbox_msg(mb, 2);
	cr_assert_eq(m->uid, 3);
	cr_assert_eq(m->size, 4, "from W=");
	imap_mbox_close(mb);
}

Test(imap_store, uids_stable_without_index)
{
	struct imap_mbox	*mb;
	struct imap_mbox_info	 a, b;

	deliver3_seen(&a);
	ts_rm("sallyport-imap.index");
	ts_put("new/2000.M1P1Q9.h", "later\n");
	mb = ts_open("INBOX", 0);
	imap_mbox_info(mb, &b);
	cr_assert_eq(a.uidvalidity, b.uidvalidity);
	cr_assert_eq(imap_mbox_count(mb), 4);
	cr_assert_eq(uid_at(mb, 0), 1);
	cr_assert_eq(uid_at(mb, 2), 3);
	cr_assert_eq(uid_at(mb, 3), 4);
	imap_mbox_close(mb);
}

static void
corrupt(const char *rel, off_t at)
{
	char	 path[512], c;
	int	 fd;

	ts_path(path, sizeof(path), rel);
	cr_assert((fd = open(path, O_RDWR)) != -1);
	cr_assert(pread(fd, &c, 1, at) == 1);
	c ^= 0x55;
	cr_assert(pwrite(fd, &c, 1, at) == 1);
	(void)close(fd);
}

Test(imap_store, torn_index_rebuilt)
{
	struct imap_mbox	*mb;
	struct stat		 sb;
	char			 path[512];

	deliver3();
	mb = ts_open("INBOX", 0);
	imap_mbox_close(mb);
	ts_path(path, sizeof(path), "sallyport-imap.index");
	cr_assert(stat(path, &sb) == 0);
	corrupt("sallyport-imap.index", sb.st_size - 3);
	mb = ts_open("INBOX", 0);
	cr_assert_eq(imap_mbox_count(mb), 3);
	cr_assert_eq(uid_at(mb, 1), 2);
	cr_assert_eq(imap_mbox_msg(mb, 1)->size, 6);
	imap_mbox_close(mb);
	cr_assert(truncate(path, sb.st_size / 2) == 0);
	mb = ts_open("INBOX", 0);
	cr_assert_eq(imap_mbox_count(mb), 3);
	cr_assert_eq(uid_at(mb, 2), 3);
	imap_mbox_close(mb);
}

Test(imap_store, lost_uidlist_new_uidvalidity)
{
	struct imap_mbox	*mb;
	struct imap_mbox_info	 a, b;

	deliver3_seen(&a);
	ts_rm("sallyport-imap.uids");
	mb = ts_open("INBOX", 0);
	imap_mbox_info(mb, &b);
	cr_assert_gt(b.uidvalidity, a.uidvalidity);
	cr_assert_eq(b.exists, 3);
	cr_assert_eq(uid_at(mb, 0), 1);
	cr_assert_eq(b.uidnext, 4);
	imap_mbox_close(mb);
}

Test(imap_store, two_sessions_flags_and_expunge)
{
	struct imap_mbox	*a, *b;
	struct imap_store_res	 res;
	struct imap_sync	 sync;
	uint32_t		 idx[] = { 0, 1 };

	deliver3();
	a = ts_open("INBOX", 0);
	b = ts_open("INBOX", 0);
	ts_sync(b, IMAP_SYNC_EXPUNGE, &sync);
	cr_assert_eq(sync.nexpunged + sync.nchanged + sync.exists, 0);
	imap_sync_free(&sync);
	cr_assert_eq(imap_mbox_store(a, idx, 2, IMAP_FLAGS_ADD,
	    IMAP_F_DELETED | IMAP_F_FLAGGED, 0, &res), IMAP_ST_OK);
	cr_assert_eq(res.nchanged, 2);
	imap_store_res_free(&res);
	cr_assert_eq(imap_mbox_changed(b), 1);
	ts_sync(b, 0, &sync);
	cr_assert_eq(sync.nchanged, 2);
	cr_assert_eq(sync.changed[1], 1);
	cr_assert(imap_mbox_msg(b, 1)->flags & IMAP_F_DELETED);
	cr_assert_eq(imap_mbox_msg(b, 1)->modseq, imap_mbox_msg(a, 1)->modseq);
	imap_sync_free(&sync);

	/* A expunges; B, in a FETCH, keeps them; then at NOOP loses them. */
	cr_assert_eq(imap_mbox_expunge(a, NULL, 0, &sync), IMAP_ST_OK);
	cr_assert_eq(sync.nexpunged, 2);
	cr_assert_eq(sync.expunged_seq[0], 1);
	cr_assert_eq(sync.expunged_seq[1], 1);
	imap_sync_free(&sync);
	ts_sync(b, 0, &sync);
	cr_assert_eq(sync.nexpunged, 0);
	cr_assert_eq(imap_mbox_count(b), 3);
	cr_assert(imap_mbox_msg(b, 0)->state & IMAP_MS_EXPUNGED);
	imap_sync_free(&sync);
	ts_sync(b, IMAP_SYNC_EXPUNGE, &sync);
	cr_assert_eq(sync.nexpunged, 2);
	cr_assert_eq(sync.expunged_uid[0], 1);
	cr_assert_eq(sync.expunged_uid[1], 2);
	cr_assert_eq(imap_mbox_count(b), 1);
	cr_assert_eq(uid_at(b, 0), 3);
	imap_sync_free(&sync);
	cr_assert_eq(ts_count("cur"), 1);
	imap_mbox_close(a);
	imap_mbox_close(b);
}

Test(imap_store, expunge_numbers_as_rfc3501)
{
	struct imap_mbox	*mb;
	struct imap_store_res	 res;
	struct imap_sync	 sync;
	char			 name[64];
	uint32_t		 idx[] = { 1, 2, 4 }, i;

	for (i = 0; i < 6; i++) {
		(void)snprintf(name, sizeof(name), "new/%u.M1P1Q1.h", 100 + i);
		ts_put(name, "x\n");
	}
	mb = ts_open("INBOX", 0);
	cr_assert_eq(imap_mbox_store(mb, idx, 3, IMAP_FLAGS_SET,
	    IMAP_F_DELETED, 0, &res), IMAP_ST_OK);
	imap_store_res_free(&res);
	cr_assert_eq(imap_mbox_expunge(mb, NULL, 0, &sync), IMAP_ST_OK);
	cr_assert_eq(sync.nexpunged, 3);
	cr_assert_eq(sync.expunged_seq[0], 2);
	cr_assert_eq(sync.expunged_seq[1], 2);
	cr_assert_eq(sync.expunged_seq[2], 3);
	cr_assert_eq(sync.exists, 0, "no new EXISTS after EXPUNGEs");
	imap_sync_free(&sync);
	imap_mbox_close(mb);
}

Test(imap_store, other_programs_noticed)
{
	struct imap_mbox	*mb;
	struct imap_sync	 sync;
	char			 a[512], b[512];

	deliver3();
	mb = ts_open("INBOX", 0);
	ts_put("new/3000.M1P1Q1.h", "new mail\n");
	cr_assert_eq(imap_mbox_changed(mb), 1);
	ts_sync(mb, IMAP_SYNC_EXPUNGE, &sync);
	cr_assert_eq(sync.exists, 4);
	cr_assert_eq(uid_at(mb, 3), 4);
	imap_sync_free(&sync);

	/* mutt marks one seen and deletes another, by name. */
	ts_path(a, sizeof(a), "cur/1000.M5P1Q1.h:2,");
	ts_path(b, sizeof(b), "cur/1000.M5P1Q1.h:2,FS");
	cr_assert(rename(a, b) == 0);
	ts_rm("cur/999.M1P1Q1.h,S=3:2,S");
	ts_sync(mb, IMAP_SYNC_EXPUNGE | IMAP_SYNC_FORCE, &sync);
	cr_assert_eq(sync.nexpunged, 1);
	cr_assert_eq(sync.expunged_uid[0], 1);
	cr_assert_eq(sync.nchanged, 1);
	cr_assert_eq(sync.changed[0], 0);
	cr_assert_eq(imap_mbox_msg(mb, 0)->flags & IMAP_F_PERMANENT,
	    IMAP_F_SEEN | IMAP_F_FLAGGED);
	imap_sync_free(&sync);
	imap_mbox_close(mb);
}

Test(imap_store, recent_to_the_first_session)
{
	struct imap_mbox	*a, *b, *ro;
	struct imap_mbox_info	 info;
	struct imap_sync	 sync;

	deliver3();
	ro = ts_open("INBOX", IMAP_OPEN_READONLY);
	imap_mbox_info(ro, &info);
	cr_assert_eq(info.recent, 3, "EXAMINE sees \\Recent");
	a = ts_open("INBOX", 0);
	imap_mbox_info(a, &info);
	cr_assert_eq(info.recent, 3, "EXAMINE did not take it");
	b = ts_open("INBOX", 0);
	imap_mbox_info(b, &info);
	cr_assert_eq(info.recent, 0);
	ts_put("new/5000.M1P1Q1.h", "x\n");
	ts_sync(b, IMAP_SYNC_EXPUNGE, &sync);
	cr_assert_eq(sync.exists, 4);
	cr_assert_eq(sync.recent, 1);
	imap_sync_free(&sync);
	ts_sync(a, IMAP_SYNC_EXPUNGE, &sync);
	cr_assert_eq(sync.exists, 4);
	imap_mbox_info(a, &info);
	cr_assert_eq(info.recent, 3);
	imap_sync_free(&sync);
	imap_mbox_close(a);
	imap_mbox_close(b);
	imap_mbox_close(ro);
}

Test(imap_store, modseq_unchangedsince_vanished)
{
	struct imap_mbox	*mb;
	struct imap_store_res	 res;
	struct imap_sync	 sync;
	struct imap_uid_ranges	 r;
	struct imap_mbox_info	 info;
	uint32_t		 idx[] = { 0, 1, 2 };
	uint64_t		 before;

	deliver3();
	mb = ts_open("INBOX", 0);
	imap_mbox_info(mb, &info);
	before = info.highestmodseq;
	cr_assert_eq(imap_mbox_store(mb, idx, 1, IMAP_FLAGS_ADD, IMAP_F_SEEN,
	    0, &res), IMAP_ST_OK);
	cr_assert_eq(res.nchanged, 0, "already \\Seen: no change");
	imap_store_res_free(&res);
	cr_assert_eq(imap_mbox_store(mb, idx + 1, 1, IMAP_FLAGS_ADD,
	    IMAP_F_ANSWERED, 0, &res), IMAP_ST_OK);
	cr_assert_eq(res.nchanged, 1);
	imap_store_res_free(&res);
	cr_assert_gt(imap_mbox_msg(mb, 1)->modseq, before);
	cr_assert(ts_exists("cur/1000.M5P1Q1.h:2,R"));
	cr_assert_eq(imap_mbox_store(mb, idx, 3, IMAP_FLAGS_ADD,
	    IMAP_F_DELETED, before, &res), IMAP_ST_OK);
	cr_assert_eq(res.nfailed, 1);
	cr_assert_eq(res.failed[0], 1);
	cr_assert_eq(res.nchanged, 2);
	imap_store_res_free(&res);
	imap_mbox_info(mb, &info);
	before = info.highestmodseq;
	cr_assert_eq(imap_mbox_expunge(mb, (uint32_t[]){ 3 }, 1, &sync),
	    IMAP_ST_OK);
	cr_assert_eq(sync.nexpunged, 1);
	cr_assert_eq(sync.expunged_uid[0], 3);
	imap_sync_free(&sync);
	cr_assert_eq(imap_mbox_vanished(mb, before, &r), IMAP_ST_OK);
	cr_assert_eq(r.n, 1);
	cr_assert_eq(r.v[0].first, 3);
	cr_assert_eq(r.v[0].last, 3);
	imap_uid_ranges_free(&r);
	cr_assert_eq(imap_mbox_vanished(mb, before + 1, &r), IMAP_ST_OK);
	cr_assert_eq(r.n, 0);
	imap_uid_ranges_free(&r);
	imap_mbox_close(mb);
}

/* Directories' times set back, as after a quiet while. */
static void
age_dirs(void)
{
	struct timespec	 ts[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	char		 path[512];

	ts_path(path, sizeof(path), "new");
	cr_assert(utimensat(AT_FDCWD, path, ts, 0) == 0);
	ts_path(path, sizeof(path), "cur");
	cr_assert(utimensat(AT_FDCWD, path, ts, 0) == 0);
}

Test(imap_store, changed_check_quiet_then_delivery)
{
	struct imap_mbox	*mb;
	struct imap_sync	 sync;

	deliver3();
	mb = ts_open("INBOX", 0);
	age_dirs();
	cr_assert_eq(imap_mbox_changed(mb), 1);
	ts_sync(mb, IMAP_SYNC_EXPUNGE, &sync);
	cr_assert_eq(sync.nexpunged + sync.nchanged + sync.exists, 0);
	imap_sync_free(&sync);
	cr_assert_eq(imap_mbox_changed(mb), 0, "nothing moved");
	ts_put("new/6000.M1P1Q1.h", "x\n");
	cr_assert_eq(imap_mbox_changed(mb), 1, "a delivery");
	ts_sync(mb, IMAP_SYNC_EXPUNGE, &sync);
	cr_assert_eq(sync.exists, 4);
	imap_sync_free(&sync);
	imap_mbox_close(mb);
}

/* A line cut short by a crash is ignored, then cut off by the next writer. */
Test(imap_store, uidlist_torn_tail)
{
	struct imap_mbox	*mb;
	struct imap_store_res	 res;
	char			 path[512];
	FILE			*fp;

	deliver3();
	mb = ts_open("INBOX", 0);
	imap_mbox_close(mb);
	ts_path(path, sizeof(path), "sallyport-imap.uids");
	cr_assert_not_null(fp = fopen(path, "a"));
	cr_assert(fputs("9 99 4 0 :2,S 123.M", fp) >= 0);
	cr_assert(fclose(fp) == 0);
	mb = ts_open("INBOX", 0);
	cr_assert_eq(imap_mbox_count(mb), 3);
	cr_assert_eq(imap_mbox_store(mb, (uint32_t[]){ 2 }, 1, IMAP_FLAGS_ADD,
	    IMAP_F_FLAGGED, 0, &res), IMAP_ST_OK);
	imap_store_res_free(&res);
	imap_mbox_close(mb);
	ts_rm("sallyport-imap.index");
	mb = ts_open("INBOX", 0);
	cr_assert_eq(imap_mbox_count(mb), 3);
	cr_assert(imap_mbox_msg(mb, 2)->flags & IMAP_F_FLAGGED);
	imap_mbox_close(mb);
}

/*
 * The uid list rewritten by one session (its appended part outgrew its
 * base) is read whole by the other, which sees every change once.
 */
Test(imap_store, uidlist_rewritten_under_another_session)
{
	struct imap_mbox	*a, *b;
	struct imap_store_res	 res;
	struct imap_sync	 sync;
	struct stat		 before, after;
	char			 name[64], path[512];
	uint32_t		*idx, i, n = 2000;

	for (i = 0; i < n; i++) {
		(void)snprintf(name, sizeof(name), "cur/%u.M1P1Q1.h:2,",
		    1000 + i);
		ts_put(name, "x\n");
	}
	a = ts_open("INBOX", 0);
	b = ts_open("INBOX", 0);
	ts_path(path, sizeof(path), "sallyport-imap.uids");
	cr_assert(stat(path, &before) == 0);
	cr_assert_not_null(idx = calloc(n, sizeof(*idx)));
	for (i = 0; i < n; i++)
		idx[i] = i;
	cr_assert_eq(imap_mbox_store(a, idx, n, IMAP_FLAGS_ADD, IMAP_F_SEEN,
	    0, &res), IMAP_ST_OK);
	cr_assert_eq(res.nchanged, n);
	imap_store_res_free(&res);
	cr_assert(stat(path, &after) == 0);
	cr_assert_neq(before.st_ino, after.st_ino, "rewritten");
	cr_assert_lt(after.st_size, before.st_size * 3 / 2);
	ts_sync(b, IMAP_SYNC_EXPUNGE, &sync);
	cr_assert_eq(sync.nchanged, n);
	cr_assert_eq(sync.nexpunged, 0);
	cr_assert_eq(sync.exists, 0);
	imap_sync_free(&sync);
	for (i = 0; i < n; i++)
		cr_assert(imap_mbox_msg(b, i)->flags & IMAP_F_SEEN);
	free(idx);
	imap_mbox_close(a);
	imap_mbox_close(b);
}

/*
 * The uid list lost while a session has the folder open: a session that
 * opens it next starts a new UIDVALIDITY, and the first one is told its
 * view is void rather than shown other messages under its UIDs.
 */
Test(imap_store, uidvalidity_changed_under_a_session)
{
	struct imap_mbox	*a, *b;
	struct imap_sync	 sync;

	deliver3();
	a = ts_open("INBOX", 0);
	ts_rm("sallyport-imap.uids");
	ts_rm("sallyport-imap.index");
	b = ts_open("INBOX", 0);
	cr_assert_eq(imap_mbox_sync(a, IMAP_SYNC_EXPUNGE, &sync), IMAP_ST_IO);
	cr_assert_not_null(strstr(imap_store_error(ts_st), "UIDVALIDITY"));
	imap_sync_free(&sync);
	imap_mbox_close(a);
	imap_mbox_close(b);
}

/* The uid list lost under the only session: written again from its view. */
Test(imap_store, uidlist_lost_rewritten_by_its_session)
{
	struct imap_mbox	*a, *b;
	struct imap_sync	 sync;
	struct imap_mbox_info	 ia, ib;

	deliver3();
	a = ts_open("INBOX", 0);
	imap_mbox_info(a, &ia);
	ts_rm("sallyport-imap.uids");
	ts_sync(a, IMAP_SYNC_EXPUNGE, &sync);
	imap_sync_free(&sync);
	cr_assert(ts_exists("sallyport-imap.uids"));
	b = ts_open("INBOX", 0);
	imap_mbox_info(b, &ib);
	cr_assert_eq(ia.uidvalidity, ib.uidvalidity);
	cr_assert_eq(uid_at(b, 2), 3);
	imap_mbox_close(a);
	imap_mbox_close(b);
}

/* Names the uid list cannot hold are left alone, not made messages. */
Test(imap_store, odd_names_ignored)
{
	struct imap_mbox	*mb;

	deliver3();
	ts_put("cur/with space:2,", "x\n");
	ts_put("new/with\nnewline", "x\n");
	ts_put("cur/.hidden", "x\n");
	mb = ts_open("INBOX", 0);
	cr_assert_eq(imap_mbox_count(mb), 3);
	imap_mbox_close(mb);
	ts_rm("sallyport-imap.index");
	mb = ts_open("INBOX", 0);
	cr_assert_eq(imap_mbox_count(mb), 3);
	cr_assert_eq(uid_at(mb, 2), 3);
	imap_mbox_close(mb);
	cr_assert(ts_exists("new/with\nnewline"));
}

/* One writer of two: flags, appends and expunges at random. */
static void
churn(unsigned int seed, int rounds)
{
	struct imap_mbox	*mb = ts_open("INBOX", 0);
	struct imap_store_res	 res;
	struct imap_sync	 sync;
	uint32_t		 i;
	int			 r;

	srandom(seed);
	for (r = 0; r < rounds; r++) {
		ts_sync(mb, IMAP_SYNC_EXPUNGE, &sync);
		imap_sync_free(&sync);
		switch (random() % 4) {
		case 0:
			ts_append("INBOX", "churn\n", 0, 0);
			break;
		case 1:
			if (imap_mbox_count(mb) < 5)
				break;
			cr_assert_eq(imap_mbox_expunge(mb, NULL, 0, &sync),
			    IMAP_ST_OK);
			imap_sync_free(&sync);
			break;
		default:
			if ((i = imap_mbox_count(mb)) == 0)
				break;
			i = (uint32_t)random() % i;
			cr_assert_eq(imap_mbox_store(mb, &i, 1,
			    IMAP_FLAGS_SET, (unsigned int)random() &
			    IMAP_F_PERMANENT, 0, &res), IMAP_ST_OK);
			imap_store_res_free(&res);
		}
	}
	imap_mbox_close(mb);
}

/*
 * Two processes changing one folder at once: afterwards one view, the
 * files in cur/, and the uid list read from nothing agree.
 */
Test(imap_store, two_processes_at_once)
{
	struct imap_mbox	*a, *b;
	struct imap_sync	 sync;
	pid_t			 pid;
	uint32_t		 i;
	int			 status;

	deliver3();
	a = ts_open("INBOX", 0);
	imap_mbox_close(a);
	cr_assert((pid = fork()) != -1);
	if (pid == 0) {
		churn(1, 150);
		_exit(0);
	}
	churn(2, 150);
	cr_assert(waitpid(pid, &status, 0) == pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	a = ts_open("INBOX", 0);
	ts_sync(a, IMAP_SYNC_EXPUNGE | IMAP_SYNC_FORCE, &sync);
	cr_assert_eq(sync.nexpunged + sync.exists + sync.nchanged, 0,
	    "the list held every change: %zu %u %zu", sync.nexpunged,
	    sync.exists, sync.nchanged);
	imap_sync_free(&sync);
	cr_assert_eq((int)imap_mbox_count(a), ts_count("cur"));
	for (i = 1; i < imap_mbox_count(a); i++)
		cr_assert_gt(imap_mbox_msg(a, i)->uid,
		    imap_mbox_msg(a, i - 1)->uid);
	ts_rm("sallyport-imap.index");
	b = ts_open("INBOX", 0);
	cr_assert_eq(imap_mbox_count(b), imap_mbox_count(a));
	for (i = 0; i < imap_mbox_count(a); i++) {
		cr_assert_eq(imap_mbox_msg(b, i)->uid,
		    imap_mbox_msg(a, i)->uid);
		cr_assert_eq(imap_mbox_msg(b, i)->flags & IMAP_F_PERMANENT,
		    imap_mbox_msg(a, i)->flags & IMAP_F_PERMANENT);
		cr_assert_eq(imap_mbox_msg(b, i)->modseq,
		    imap_mbox_msg(a, i)->modseq);
	}
	imap_mbox_close(a);
	imap_mbox_close(b);
}

/* new/X also linked as cur/X:2, (a move cut short): one message. */
Test(imap_store, half_moved_file_once)
{
	struct imap_mbox	*mb;
	char			 a[512], b[512];

	ts_put("cur/4000.M1P1Q1.h:2,", "x\n");
	ts_path(a, sizeof(a), "cur/4000.M1P1Q1.h:2,");
	ts_path(b, sizeof(b), "new/4000.M1P1Q1.h");
	cr_assert(link(a, b) == 0);
	mb = ts_open("INBOX", 0);
	cr_assert_eq(imap_mbox_count(mb), 1);
	cr_assert_eq(ts_count("new"), 0);
	imap_mbox_close(mb);
}
