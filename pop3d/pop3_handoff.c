/*
 * The privileged parent's POP3 part of a login (root, no chroot): the
 * redeem and the exec are common/access_handoff.c's; here, what the
 * mailbox program pop3d-mailbox (mailbox/pop3d_mailbox.c) gets past
 * the common arguments, LOGIN-DELAY (RFC 2449 6.5) and the answer a
 * client gets when its login cannot be served.
 */
#include <sys/types.h>

#include <stdio.h>
#include <time.h>

#include "access.h"
#include "config.h"
#include "ipc.h"
#include "pop3d.h"

static struct {
	uint32_t	 login_delay;	/* "pop3 login-delay" */
	int64_t		 expire_days;	/* "pop3 expire", -1 never */
} ph = { 0, -1 };

void
pop3_handoff_configure(const struct config *conf)
{
	ph.login_delay = conf->pop3_login_delay_secs;
	ph.expire_days = conf->pop3_expire_days;
}

/* Past u32 id ... str home: u32 login-delay, u64 expire. */
void
pop3_handoff_args(struct ipc_out *o, const struct access_login *l)
{
	(void)l;
	ipc_put_u32(o, ph.login_delay);
	ipc_put_u64(o, (uint64_t)ph.expire_days);
}

/*
 * LOGIN-DELAY (pop3_logindelay.c): a user who logged in less than
 * "pop3 login-delay" ago is told so and let go.
 */
const char *
pop3_handoff_admit(const struct access_login *l, const char *user,
    char *text, size_t len)
{
	struct timespec	 ts;
	uint32_t	 left;

	(void)l;
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	if ((left = pop3_logindelay_check(user, ts.tv_sec,
	    ph.login_delay)) == 0)
		return NULL;
	(void)snprintf(text, len, "-ERR [LOGIN-DELAY] minimum time "
	    "between logins is %u seconds, %u left\r\n", ph.login_delay,
	    left);
	return "login-delay";
}

int
pop3_handoff_refusal(const struct access_login *l, char *buf, size_t len)
{
	(void)l;
	return snprintf(buf, len,
	    "-ERR [SYS/TEMP] login failed, please try again later\r\n");
}
