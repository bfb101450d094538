/*
 * The privileged parent's IMAP part of a login (root, no chroot): the
 * redeem and the exec are common/access_handoff.c's; here, what the
 * mailbox program imapd-mailbox gets past the common arguments (the
 * tag of the LOGIN or AUTHENTICATE it answers, and the quota), and the
 * answer a client gets when its login cannot be served.
 */
#include <sys/types.h>

#include <stdio.h>

#include "access.h"
#include "imapd.h"
#include "ipc.h"

/* The login's tag travels as the handoff's note, whole. */
_Static_assert(IMAP_TAG_MAX_BYTES < ACCESS_NOTE_MAX_BYTES,
    "an IMAP tag does not fit in a handoff's note");

/*
 * Past u32 id ... str home: str tag, u64 quota bytes (authd's answer
 * to the redeem, from the users table; 0: none).
 */
void
imap_handoff_args(struct ipc_out *o, const struct access_login *l)
{
	ipc_put_str(o, l->note);
	ipc_put_u64(o, l->quota);
}

/* RFC 5530 UNAVAILABLE: the password was right, the server is not. */
int
imap_handoff_refusal(const struct access_login *l, char *buf, size_t len)
{
	return snprintf(buf, len, "%s NO [UNAVAILABLE] Login failed, "
	    "please try again later\r\n* BYE Closing\r\n",
	    l->note[0] != '\0' ? l->note : "*");
}
