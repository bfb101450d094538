/*
 * What sallyctl reads from files (sallyctl/ctl_format.c): a daemon's
 * pidfile, /proc/<pid>/stat (whose command name any process chooses)
 * and /proc/uptime, and the ids given on its command line; and since
 * issue 12 the JSON strings of -j (any bytes in, valid JSON out), the
 * users table's edits and show queue's ages.  The first input byte
 * picks the parser.
 */
#include <sys/types.h>

#include "fuzz.h"

#include "ipc.h"
#include "../../sallyctl/sallyctl.h"

/* Any string comes out quoted, with no control byte and no raw '"'. */
static void
fuzz_json(const char *s)
{
	static char	 out[CTL_JSON_MAX_BYTES];
	int		 n, i;

	if ((n = ctl_json_string(out, sizeof(out), s)) == -1)
		return;
	FUZZ_ASSERT(n >= 2 && out[0] == '"' && out[n - 1] == '"' &&
	    out[n] == '\0');
	for (i = 1; i < n - 1; i++) {
		FUZZ_ASSERT((unsigned char)out[i] >= 0x20 && out[i] != 0x7f);
		if (out[i] == '\\')
			i++;	/* the escaped byte */
		else
			FUZZ_ASSERT(out[i] != '"');
	}
}

/* Every edit of any table text either fails or fits its room. */
static void
fuzz_users(const char *text, size_t len)
{
	static char		 out[8192];
	struct ctl_user_line	 u = { "carol", "$y$h", 0, 0, NULL };
	const char		*errstr;
	ssize_t			 n;
	int			 op;

	for (op = CTL_USER_ADD; op <= CTL_USER_DEL; op++) {
		n = ctl_users_edit(text, len, (enum ctl_user_op)op, &u, out,
		    sizeof(out), &errstr);
		FUZZ_ASSERT(n == -1 || ((size_t)n < sizeof(out) &&
		    strlen(out) <= (size_t)n));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_procstat	 ps;
	const char		*errstr = NULL;
	uint64_t		 secs;
	int64_t			 age;
	pid_t			 pid;
	char			*buf;

	switch (fuzz_byte(&data, &size) % 7) {
	case 0:
		/* Its own buffer, not NUL-terminated: the parsers have len. */
		if ((buf = malloc(size > 0 ? size : 1)) == NULL)
			abort();
		memcpy(buf, data, size);
		if (ctl_pidfile_parse(buf, size, &pid, &errstr) == 0)
			FUZZ_ASSERT(pid > 0);
		break;
	case 1:
		if ((buf = malloc(size > 0 ? size : 1)) == NULL)
			abort();
		memcpy(buf, data, size);
		if (ctl_procstat_parse(buf, size, &ps) == 0)
			FUZZ_ASSERT(strlen(ps.comm) <= CTL_COMM_MAX_BYTES);
		break;
	case 2:
		if ((buf = malloc(size > 0 ? size : 1)) == NULL)
			abort();
		memcpy(buf, data, size);
		(void)ctl_uptime_parse(buf, size, &secs);
		break;
	case 3:
		buf = fuzz_str(data, size);
		fuzz_json(buf);
		break;
	case 4:
		if ((buf = malloc(size > 0 ? size : 1)) == NULL)
			abort();
		memcpy(buf, data, size);
		fuzz_users(buf, size);
		break;
	case 5:
		buf = fuzz_str(data, size);
		if (ctl_filter_age(buf, &age) == 0)
			FUZZ_ASSERT(age >= 0 && age <= CTL_AGE_MAX_SECS);
		break;
	default:
		buf = fuzz_str(data, size);
		(void)ctl_id_valid(buf);
		break;
	}
	free(buf);
	return 0;
}
