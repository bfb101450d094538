/*
 * imapd's store: APPEND, COPY, MOVE (imap_append.c, imap_copy.c,
 * imap_move.c), the quota, the blob cache and the IDLE watch, on a
 * temporary Maildir.
 */
#include <poll.h>

#include "test_imap_store.h"

TestSuite(imap_store_ops, .init = ts_setup, .fini = ts_teardown);

/* The text of the one file in rel (a directory of the Maildir). */
static void
only_file(const char *rel, char *name, size_t namelen, char *text,
    size_t textlen)
{
	struct dirent	*de;
	char		 path[512];
	DIR		*d;
	FILE		*fp;
	size_t		 n;

	ts_path(path, sizeof(path), rel);
	cr_assert_not_null(d = opendir(path));
	name[0] = '\0';
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.') {
			cr_assert_eq(name[0], '\0', "one file only");
			(void)strlcpy(name, de->d_name, namelen);
		}
	(void)closedir(d);
	cr_assert_neq(name[0], '\0');
	(void)snprintf(path, sizeof(path), "%s/%s/%s", ts_maildir, rel, name);
	cr_assert_not_null(fp = fopen(path, "r"));
	n = fread(text, 1, textlen - 1, fp);
	text[n] = '\0';
	(void)fclose(fp);
}

Test(imap_store_ops, append_crlf_flags_date_uid)
{
	struct imap_append	*ap;
	struct imap_mbox	*mb;
	const struct imap_msg	*m;
	struct stat		 sb;
	char			 name[256], text[256], path[512];
	const char		*msg = "Subject: x\r\n\r\nbody\r\nlone\rcr\r";
	uint32_t		 uidv, uid;

	cr_assert_eq(imap_append_begin(ts_st, "INBOX", strlen(msg), 0, &ap),
	    IMAP_ST_OK);
	/* In pieces, a CRLF split between two of them. */
	cr_assert_eq(imap_append_write(ap, msg, 11), IMAP_ST_OK);
	cr_assert_eq(imap_append_write(ap, msg + 11, strlen(msg) - 11),
	    IMAP_ST_OK);
	cr_assert_eq(imap_append_commit(ap, IMAP_F_SEEN | IMAP_F_DRAFT,
	    1234567890, &uidv, &uid), IMAP_ST_OK, "%s",
	    imap_store_error(ts_st));
	cr_assert_eq(uid, 1);
	only_file("cur", name, sizeof(name), text, sizeof(text));
	cr_assert_str_eq(text, "Subject: x\n\nbody\nlone\rcr\r");
	cr_assert_not_null(strstr(name, ":2,DS"), "%s", name);
	cr_assert_not_null(strstr(name, ",S=25,W="), "%s", name);
	(void)snprintf(path, sizeof(path), "%s/cur/%s", ts_maildir, name);
	cr_assert(stat(path, &sb) == 0);
	cr_assert_eq(sb.st_mtime, 1234567890);
	cr_assert_eq(ts_count("tmp"), 0);
	mb = ts_open("INBOX", 0);
	m = imap_mbox_msg(mb, 0);
	cr_assert_eq(m->uid, 1);
	cr_assert_eq(m->idate, 1234567890);
	cr_assert_eq(m->flags & IMAP_F_PERMANENT, IMAP_F_SEEN | IMAP_F_DRAFT);
	cr_assert_eq(m->flags & IMAP_F_RECENT, IMAP_F_RECENT,
	    "an APPEND is \\Recent to the session that sees it");
	cr_assert_eq(m->size, 29, "three LFs counted as CRLF, one added");
	cr_assert_eq(ts_append("INBOX", "b\n", 0, 0), 2);
	imap_mbox_close(mb);
}

Test(imap_store_ops, append_abort_and_trycreate)
{
	struct imap_append	*ap;

	cr_assert_eq(imap_append_begin(ts_st, "Nope", 10, 0, &ap),
	    IMAP_ST_NONEXISTENT);
	cr_assert_not_null(strstr(imap_store_error(ts_st), "TRYCREATE"));
	cr_assert_eq(imap_append_begin(ts_st, "INBOX", 10, 0, &ap),
	    IMAP_ST_OK);
	cr_assert_eq(imap_append_write(ap, "abc", 3), IMAP_ST_OK);
	imap_append_abort(ap);
	cr_assert_eq(ts_count("tmp"), 0);
	cr_assert_eq(ts_count("cur"), 0);
}

Test(imap_store_ops, quota_refused)
{
	struct imap_append	*ap;
	struct imap_mbox	*mb;
	struct imap_copy_res	 res;
	uint64_t		 bytes, msgs;
	uint32_t		 idx[] = { 0 };

	ts_append("INBOX", "0123456789\n", 0, 0);
	cr_assert_eq(imap_folder_create(ts_st, "Sent"), IMAP_ST_OK);
	ts_append("Sent", "abc\n", 0, 0);
	cr_assert_eq(imap_store_usage(ts_st, &bytes, &msgs), IMAP_ST_OK);
	cr_assert_eq(bytes, 12 + 5);
	cr_assert_eq(msgs, 2);
	cr_assert_eq(imap_append_begin(ts_st, "INBOX", 10, 20, &ap),
	    IMAP_ST_OVERQUOTA);
	cr_assert_eq(imap_append_begin(ts_st, "INBOX", 3, 20, &ap),
	    IMAP_ST_OK);
	imap_append_abort(ap);
	mb = ts_open("INBOX", 0);
	cr_assert_eq(imap_mbox_copy(mb, idx, 1, "Sent", 20, &res),
	    IMAP_ST_OVERQUOTA);
	cr_assert_eq(imap_mbox_copy(mb, idx, 1, "Sent", 100, &res),
	    IMAP_ST_OK);
	imap_copy_res_free(&res);
	imap_mbox_close(mb);
	cr_assert_eq(imap_store_usage(ts_st, &bytes, &msgs), IMAP_ST_OK);
	cr_assert_eq(bytes, 12 + 5 + 12, "this process's COPY counted");
	cr_assert_eq(msgs, 3);
}

Test(imap_store_ops, copy_copyuid_and_independent_flags)
{
	struct imap_mbox	*mb, *dst;
	struct imap_copy_res	 res;
	struct imap_store_res	 sres;
	struct imap_mbox_info	 info;
	uint32_t		 idx[] = { 0, 2 };

	ts_append("INBOX", "one\n", IMAP_F_FLAGGED, 100);
	ts_append("INBOX", "two\n", 0, 200);
	ts_append("INBOX", "three\n", IMAP_F_SEEN, 300);
	cr_assert_eq(imap_folder_create(ts_st, "Archive"), IMAP_ST_OK);
	ts_append("Archive", "old\n", 0, 50);
	mb = ts_open("INBOX", 0);
	cr_assert_eq(imap_mbox_copy(mb, idx, 2, "Nope", 0, &res),
	    IMAP_ST_NONEXISTENT);
	cr_assert_eq(imap_mbox_copy(mb, idx, 2, "Archive", 0, &res),
	    IMAP_ST_OK, "%s", imap_store_error(ts_st));
	cr_assert_eq(res.n, 2);
	cr_assert_eq(res.src_uids[0], 1);
	cr_assert_eq(res.src_uids[1], 3);
	cr_assert_eq(res.dst_uids[0], 2);
	cr_assert_eq(res.dst_uids[1], 3);
	dst = ts_open("Archive", 0);
	imap_mbox_info(dst, &info);
	cr_assert_eq(info.uidvalidity, res.uidvalidity);
	cr_assert_eq(info.exists, 3);
	cr_assert_eq(imap_mbox_msg(dst, 1)->flags & IMAP_F_PERMANENT,
	    IMAP_F_FLAGGED);
	cr_assert_eq(imap_mbox_msg(dst, 1)->idate, 100);
	cr_assert_eq(imap_mbox_msg(dst, 2)->size, 7);
	imap_copy_res_free(&res);
	/* A flag changed on the copy leaves the original alone. */
	cr_assert_eq(imap_mbox_store(dst, (uint32_t[]){ 1 }, 1,
	    IMAP_FLAGS_SET, IMAP_F_DELETED, 0, &sres), IMAP_ST_OK);
	imap_store_res_free(&sres);
	imap_mbox_close(dst);
	imap_mbox_close(mb);
	cr_assert_eq(ts_flags_of("INBOX", 0), IMAP_F_FLAGGED);
}

Test(imap_store_ops, move_and_source_expunges)
{
	struct imap_mbox	*mb, *other;
	struct imap_copy_res	 res;
	struct imap_sync	 sync;
	uint32_t		 idx[] = { 1, 2 };

	ts_append("INBOX", "one\n", 0, 0);
	ts_append("INBOX", "two\n", 0, 0);
	ts_append("INBOX", "three\n", IMAP_F_ANSWERED, 0);
	cr_assert_eq(imap_folder_create(ts_st, "Trash"), IMAP_ST_OK);
	mb = ts_open("INBOX", 0);
	other = ts_open("INBOX", 0);
	cr_assert_eq(imap_mbox_move(mb, idx, 2, "Trash", &res, &sync),
	    IMAP_ST_OK, "%s", imap_store_error(ts_st));
	cr_assert_eq(res.n, 2);
	cr_assert_eq(res.src_uids[0], 2);
	cr_assert_eq(res.dst_uids[0], 1);
	cr_assert_eq(res.dst_uids[1], 2);
	cr_assert_eq(sync.nexpunged, 2);
	cr_assert_eq(sync.expunged_seq[0], 2);
	cr_assert_eq(sync.expunged_seq[1], 2);
	cr_assert_eq(imap_mbox_count(mb), 1);
	imap_copy_res_free(&res);
	imap_sync_free(&sync);
	cr_assert_eq(ts_count("cur"), 1);
	cr_assert_eq(ts_count(".Trash/cur"), 2);
	ts_sync(other, IMAP_SYNC_EXPUNGE, &sync);
	cr_assert_eq(sync.nexpunged, 2);
	imap_sync_free(&sync);
	imap_mbox_close(other);
	/* Within one folder: new UIDs, the old ones expunged. */
	cr_assert_eq(imap_mbox_move(mb, (uint32_t[]){ 0 }, 1, "INBOX", &res,
	    &sync), IMAP_ST_OK);
	cr_assert_eq(res.dst_uids[0], 4);
	cr_assert_eq(sync.nexpunged, 1);
	cr_assert_eq(imap_mbox_count(mb), 1);
	cr_assert_eq(imap_mbox_msg(mb, 0)->uid, 4);
	imap_copy_res_free(&res);
	imap_sync_free(&sync);
	imap_mbox_close(mb);
	cr_assert_eq(ts_flags_of("Trash", 1), IMAP_F_ANSWERED);
}

Test(imap_store_ops, cache_blobs_persist)
{
	struct imap_mbox	*mb;
	const char		*p;
	size_t			 len;

	ts_append("INBOX", "one\n", 0, 0);
	ts_append("INBOX", "two\n", 0, 0);
	mb = ts_open("INBOX", 0);
	cr_assert_eq(imap_mbox_cache_get(mb, 0, IMAP_CACHE_ENVELOPE, &p,
	    &len), 1);
	cr_assert_eq(imap_mbox_cache_put(mb, 0, IMAP_CACHE_ENVELOPE,
	    "(NIL \"one\")", 11), IMAP_ST_OK);
	cr_assert_eq(imap_mbox_cache_put(mb, 1, IMAP_CACHE_BODYSTRUCTURE,
	    "(\"text\")", 8), IMAP_ST_OK);
	cr_assert_eq(imap_mbox_cache_get(mb, 0, IMAP_CACHE_ENVELOPE, &p,
	    &len), 0);
	cr_assert_eq(len, 11);
	imap_mbox_flush(mb);
	cr_assert_eq(imap_mbox_cache_put(mb, 0, IMAP_CACHE_BODY, "(b)", 3),
	    IMAP_ST_OK);
	imap_mbox_close(mb);
	mb = ts_open("INBOX", IMAP_OPEN_READONLY);
	cr_assert_eq(imap_mbox_cache_get(mb, 0, IMAP_CACHE_ENVELOPE, &p,
	    &len), 0);
	cr_assert_eq(len, 11);
	cr_assert(memcmp(p, "(NIL \"one\")", 11) == 0);
	cr_assert_eq(imap_mbox_cache_get(mb, 0, IMAP_CACHE_BODY, &p, &len),
	    0, "the second record kept the first's blobs too");
	cr_assert_eq(imap_mbox_cache_get(mb, 1, IMAP_CACHE_BODYSTRUCTURE, &p,
	    &len), 0);
	cr_assert(memcmp(p, "(\"text\")", 8) == 0);
	cr_assert_eq(imap_mbox_cache_get(mb, 1, IMAP_CACHE_ENVELOPE, &p,
	    &len), 1);
	imap_mbox_close(mb);
	/* Without the index, the records name their messages themselves. */
	ts_rm("sallyport-imap.index");
	mb = ts_open("INBOX", IMAP_OPEN_READONLY);
	cr_assert_eq(imap_mbox_cache_get(mb, 1, IMAP_CACHE_BODYSTRUCTURE, &p,
	    &len), 0);
	cr_assert(memcmp(p, "(\"text\")", 8) == 0);
	cr_assert_eq(imap_mbox_cache_get(mb, 0, IMAP_CACHE_BODY, &p, &len),
	    0);
	imap_mbox_close(mb);
	/* A lost cache file is only a miss. */
	ts_rm("sallyport-imap.cache");
	mb = ts_open("INBOX", 0);
	cr_assert_eq(imap_mbox_cache_get(mb, 0, IMAP_CACHE_ENVELOPE, &p,
	    &len), 1);
	imap_mbox_close(mb);
}

Test(imap_store_ops, msg_open_follows_renames)
{
	struct imap_mbox	*a, *b;
	struct imap_store_res	 res;
	char			 buf[16];
	int			 fd, st;

	ts_append("INBOX", "hello\n", 0, 0);
	a = ts_open("INBOX", 0);
	b = ts_open("INBOX", 0);
	cr_assert_eq(imap_mbox_store(a, (uint32_t[]){ 0 }, 1, IMAP_FLAGS_ADD,
	    IMAP_F_SEEN, 0, &res), IMAP_ST_OK);
	imap_store_res_free(&res);
	fd = imap_mbox_msg_open(b, 0, &st);
	cr_assert(fd != -1, "%s", imap_store_error(ts_st));
	cr_assert_eq(read(fd, buf, sizeof(buf)), 6);
	(void)close(fd);
	imap_mbox_close(a);
	imap_mbox_close(b);
}

Test(imap_store_ops, idle_watch)
{
	struct imap_mbox	*mb;
	struct pollfd		 pfd;

	mb = ts_open("INBOX", 0);
	pfd.fd = imap_notify_fd(mb);
	cr_assert(pfd.fd != -1);
	pfd.events = POLLIN;
	cr_assert_eq(poll(&pfd, 1, 0), 0);
	cr_assert_eq(imap_notify_drain(mb), 0);
	ts_put("new/7000.M1P1Q1.h", "x\n");
	cr_assert_eq(poll(&pfd, 1, 1000), 1);
	cr_assert_eq(imap_notify_drain(mb), 1);
	cr_assert_eq(imap_notify_drain(mb), 0);
	imap_mbox_close(mb);
}

/*
 * Blobs replaced again and again leave dead records; the file is
 * rewritten with the live ones, which read back whole, while another
 * session's old offsets only miss.
 */
Test(imap_store_ops, cache_compacted)
{
	struct imap_mbox	*mb, *other;
	struct stat		 sb;
	char			*blob, path[512];
	const char		*p;
	size_t			 len;
	uint32_t		 i, round;

	for (i = 0; i < 10; i++)
		ts_append("INBOX", "m\n", 0, 0);
	cr_assert_not_null(blob = malloc(60000));
	mb = ts_open("INBOX", 0);
	other = ts_open("INBOX", 0);
	for (round = 0; round < 4; round++) {
		for (i = 0; i < 10; i++) {
			memset(blob, 'a' + (int)round, 60000);
			blob[0] = (char)('0' + i);
			cr_assert_eq(imap_mbox_cache_put(mb, i,
			    IMAP_CACHE_BODYSTRUCTURE, blob, 60000), IMAP_ST_OK);
		}
		imap_mbox_flush(mb);
		if (round == 0) {
			imap_mbox_close(other);
			other = ts_open("INBOX", 0);
		}
	}
	ts_path(path, sizeof(path), "sallyport-imap.cache");
	cr_assert(stat(path, &sb) == 0);
	cr_assert_lt(sb.st_size, 2 * 10 * 60100, "rewritten: %lld",
	    (long long)sb.st_size);
	for (i = 0; i < 10; i++) {
		cr_assert_eq(imap_mbox_cache_get(mb, i,
		    IMAP_CACHE_BODYSTRUCTURE, &p, &len), 0);
		cr_assert_eq(len, 60000);
		cr_assert_eq(p[0], '0' + (int)i);
		cr_assert_eq(p[59999], 'd');
	}
	imap_mbox_close(mb);
	for (i = 0; i < 10; i++)
		if (imap_mbox_cache_get(other, i, IMAP_CACHE_BODYSTRUCTURE, &p,
		    &len) == 0)
			cr_assert_eq(p[59999], 'a', "old data, or a miss");
	imap_mbox_close(other);
	mb = ts_open("INBOX", IMAP_OPEN_READONLY);
	cr_assert_eq(imap_mbox_cache_get(mb, 9, IMAP_CACHE_BODYSTRUCTURE, &p,
	    &len), 0);
	cr_assert_eq(p[100], 'd', "%c %c %zu", p[0], p[100], len);
	imap_mbox_close(mb);
	free(blob);
}
