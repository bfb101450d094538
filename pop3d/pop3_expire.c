/*
 * EXPIRE (RFC 2449 6.7), "pop3 expire DAYS", enforced by the mailbox
 * process (as the user, in the mail home): at QUIT, a message that was
 * retrieved (RETR) in this session and was delivered DAYS or more days
 * ago (the time in its Maildir name) is removed with the ones DELE
 * marked.  "pop3 expire 0": every message retrieved is removed at
 * QUIT.  A message whose name carries no time is kept unless DAYS is
 * 0.  A session that ends without QUIT removes nothing (RFC 1939 6),
 * and "never" (the default) never removes.  Pure: the unit tests call
 * it with their own clock.
 */
#include <sys/types.h>

#include "log.h"
#include "pop3d.h"

#define SECS_PER_DAY	86400

static int64_t	 pop3_expire_days = -1;

void
pop3_expire_set(int64_t days)
{
	pop3_expire_days = days;
}

size_t
pop3_expire_mark(struct maildrop *md, time_t now)
{
	struct maildrop_msg	*m;
	size_t			 i, n = 0;
	uint64_t		 age;

	if (pop3_expire_days < 0)
		return 0;
	for (i = 0; i < md->nmsgs; i++) {
		m = &md->msgs[i];
		if (!m->retrieved || m->deleted || m->drop)
			continue;
		if (pop3_expire_days > 0) {
			if (m->secs == 0 || now < (time_t)m->secs)
				continue;
			age = (uint64_t)(now - (time_t)m->secs);
			if (age / SECS_PER_DAY < (uint64_t)pop3_expire_days)
				continue;
		}
		maildrop_mark(md, m);
		n++;
	}
	if (n > 0)
		log_info("%08x pop3 expire days=%lld marked=%zu", md->id,
		    (long long)pop3_expire_days, n);
	return n;
}
