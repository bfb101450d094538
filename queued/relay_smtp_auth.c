/*
 * The relay's SMTP client: AUTH PLAIN (RFC 4954, RFC 4616) to a
 * smarthost, after EHLO and only over TLS: credentials are never sent
 * in plaintext, and a session that would have to is ended (retry).  A
 * refusal (535, 504, ...) ends the session too, with the reply as the
 * reason, so the mail is retried after the admin fixes the secrets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "log.h"
#include "relay_smtp_int.h"

/* "\0user\0password", at most, and its base64 with the command. */
#define RELAY_AUTH_RAW_MAX	(2 * 256 + 2)
#define RELAY_AUTH_B64_MAX	(((RELAY_AUTH_RAW_MAX + 2) / 3) * 4 + 1)

/* After EHLO (and STARTTLS): AUTH when asked for, then ready. */
void
relay_auth_start(struct relay_smtp *c)
{
	unsigned char	 raw[RELAY_AUTH_RAW_MAX];
	char		 b64[RELAY_AUTH_B64_MAX];
	size_t		 ul, pl;
	int		 rc;

	if (c->p.auth_user == NULL || c->authed) {
		relay_smtp_ready(c);
		return;
	}
	if (!c->tls_on) {
		relay_smtp_end(c, 0, "AUTH needs TLS: credentials not sent "
		    "in plaintext");
		return;
	}
	ul = strlen(c->p.auth_user);
	pl = strlen(c->p.auth_pass);
	if (ul > 256 || pl > 256) {
		relay_smtp_end(c, 0, "AUTH credentials too long");
		return;
	}
	raw[0] = '\0';
	memcpy(raw + 1, c->p.auth_user, ul);
	raw[1 + ul] = '\0';
	memcpy(raw + 2 + ul, c->p.auth_pass, pl);
	(void)EVP_EncodeBlock((unsigned char *)b64, raw, (int)(ul + pl + 2));
	explicit_bzero(raw, sizeof(raw));
	log_debug("%s relay auth user=%s", c->p.id, c->p.auth_user);
	rc = relay_smtp_cmd(c, "AUTH PLAIN %s", b64);
	explicit_bzero(b64, sizeof(b64));
	if (rc == 0)
		relay_smtp_state(c, RS_AUTH, c->p.timeouts.greeting);
}

/* The reply to AUTH PLAIN. */
void
relay_auth_reply(struct relay_smtp *c)
{
	char	 buf[RELAY_REPLY_TEXT_MAX_BYTES + 32], why[sizeof(buf) + 16];

	if (c->reply.code != 235) {
		(void)snprintf(why, sizeof(why), "auth: %s",
		    relay_reply_str(&c->reply, buf, sizeof(buf)));
		relay_smtp_end(c, 0, why);
		return;
	}
	c->authed = 1;
	log_info("%s relay auth ok user=%s", c->p.id, c->p.auth_user);
	relay_smtp_ready(c);
}
