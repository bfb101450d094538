/*
 * Between the files of common/access_*.c only: the login engine's
 * channel to authd (access_engine.c) hands authd's answers to the
 * sessions (access_session.c).
 */
#ifndef ACCESS_INT_H
#define ACCESS_INT_H

#include <stdint.h>

/* authd's answer to session id's check (token with RESULT_OK). */
void	access_session_answer(uint32_t id, uint32_t result,
	    const uint8_t *token);
/* The daemon's name in log lines ("pop3", "imap"). */
const char	*access_engine_name(void);
/* authd is gone: every session waiting gets RESULT_TEMPFAIL. */
void	access_session_authd_lost(void);

#endif
