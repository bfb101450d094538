/*
 * Helpers shared by the message library's tests (test_imap_msg*.c).
 */
#ifndef TEST_IMAP_MSG_H
#define TEST_IMAP_MSG_H

#include <stddef.h>

struct imap_mbuf;

#define TM_ENVELOPE		0
#define TM_BODY			1
#define TM_BODYSTRUCTURE	2

/* Appends n lines of len letters and an LF each. */
void	 tm_lines(struct imap_mbuf *, size_t n, size_t len);
/* ENVELOPE, BODY or BODYSTRUCTURE of a message, to free(). */
char	*tm_struct(const char *msg, size_t len, int what);

#endif
