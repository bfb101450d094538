/*
 * SASL PLAIN (RFC 4616) and LOGIN, the server's side, as smtpd's AUTH
 * (RFC 4954) and pop3d's AUTH (RFC 5034) speak them: strict base64,
 * the PLAIN message split, the LOGIN prompts.  Pure: no I/O, no
 * logging; the caller sends the challenges and asks authd.
 */
#ifndef SASL_H
#define SASL_H

#include <stddef.h>

#include "sp_limits.h"

/* A decoded PLAIN message: authzid, authcid and password, two NULs. */
#define SASL_DECODED_MAX_BYTES \
	(2 * AUTH_USER_MAX_BYTES + AUTH_PASSWORD_MAX_BYTES + 2)
/* The longest response: the longest PLAIN message in base64. */
#define SASL_RESPONSE_MAX_BYTES	((SASL_DECODED_MAX_BYTES + 2) / 3 * 4)
/* LOGIN's prompts, base64: "Username:" and "Password:". */
#define SASL_LOGIN_PROMPT_USER	"VXNlcm5hbWU6"
#define SASL_LOGIN_PROMPT_PASS	"UGFzc3dvcmQ6"
/* The mechanisms offered, as EHLO's AUTH and CAPA's SASL list them. */
#define SASL_MECHANISMS		"PLAIN LOGIN"

enum sasl_step {
	SASL_STEP_NONE = 0,
	SASL_STEP_PLAIN,	/* empty challenge sent, waiting for PLAIN */
	SASL_STEP_LOGIN_USER,	/* "Username:" sent */
	SASL_STEP_LOGIN_PASS,	/* "Password:" sent */
};

/* One exchange.  Wipe it with sasl_end() once the password is used. */
struct sasl {
	enum sasl_step	 step;
	char		 user[AUTH_USER_MAX_BYTES];
	char		 pass[AUTH_PASSWORD_MAX_BYTES];
};

enum sasl_result {
	SASL_CONTINUE,		/* send *text as the challenge */
	SASL_DONE,		/* user and pass are set: check them */
	SASL_CANCELLED,		/* the client sent "*" */
	SASL_BAD_BASE64,	/* not strict base64, or too long */
	SASL_BAD_MESSAGE,	/* *text says why */
	SASL_BAD_MECHANISM,
};

/*
 * Starts mechanism mech (mechlen bytes, any case) with the initial
 * response resp, or NULL for none ("=" is an empty one, RFC 4954 4,
 * RFC 5034 4).  After SASL_CONTINUE, feed the client's lines to
 * sasl_step(); any other result ends the exchange.
 */
enum sasl_result	 sasl_start(struct sasl *, const char *mech,
			    size_t mechlen, const char *resp,
			    const char **text);
/* A client's response line (len bytes, no CRLF) to the last challenge. */
enum sasl_result	 sasl_step(struct sasl *, const char *line,
			    size_t len, const char **text);
/* Wipes the password and the state (user too). */
void	sasl_end(struct sasl *);

/*
 * Strict base64 (RFC 4648 4) as SASL uses it (RFC 4954 4): no
 * whitespace, length a multiple of 4, '=' only as the final padding.
 * Decodes into out (at most outmax bytes); returns 0 with *outlen set,
 * or -1.  "" decodes to nothing.
 */
int	sasl_base64_decode(const char *in, size_t inlen, unsigned char *out,
	    size_t outmax, size_t *outlen);

/*
 * Splits a decoded SASL PLAIN message (RFC 4616 2): authzid NUL authcid
 * NUL passwd.  The authzid must be empty or equal to the authcid; the
 * authcid and the password must not be empty.  Returns 0, or -1 with
 * *errstr set.
 */
int	sasl_plain_split(const unsigned char *msg, size_t len,
	    char *user, size_t userlen, char *pass, size_t passlen,
	    const char **errstr);

#endif
