/*
 * What sallyctl reads from files (sallyctl/ctl_format.c): a daemon's
 * pidfile, /proc/<pid>/stat (whose command name any process chooses)
 * and /proc/uptime, and the ids given on its command line.  The first
 * input byte picks the parser.
 */
#include <sys/types.h>

#include "fuzz.h"

#include "ipc.h"
#include "../../sallyctl/sallyctl.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_procstat	 ps;
	const char		*errstr = NULL;
	uint64_t		 secs;
	pid_t			 pid;
	char			*buf;

	switch (fuzz_byte(&data, &size) % 4) {
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
	default:
		buf = fuzz_str(data, size);
		(void)ctl_id_valid(buf);
		break;
	}
	free(buf);
	return 0;
}
