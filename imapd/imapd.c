/*
 * imapd: the IMAP server's privileged parent (root, no chroot).  Being
 * built (issue 11): until it is, it refuses to run, so that nothing
 * mistakes it for a server.
 */
#include <stdio.h>

int
main(void)
{
	fprintf(stderr, "imapd: not built yet\n");
	return 78;	/* EX_CONFIG */
}
