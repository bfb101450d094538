/*
 * The relay's SMTP client (DESIGN.md, "Outbound mail"): what TLS a
 * connection needs, from its policy and its DANE records, and the DANE
 * check after the handshake (the matching is relay_dane.c).  Runs in
 * the relay process, as relay_smtp.c.
 *
 * DANE (RFC 7672) applies when the caller passes TLSA records that
 * DNSSEC proved (relay_params.tlsa) and the policy is opportunistic or
 * require: it raises them, as Postfix's "dane" level raises "may":
 * STARTTLS is mandatory, the libtls handshake checks nothing, and the
 * chain is then matched against the records.  Any failure of it is
 * temporary, 4.7.5.  "none" and "verify" are a configuration's explicit
 * choices (no TLS; the CA bundle) and stay as they are.
 */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "relay_dane.h"
#include "relay_smtp_int.h"

enum relay_dane_level
relay_tls_dane(const struct relay_params *p)
{
	if (p->tls != RELAY_TLS_OPPORTUNISTIC && p->tls != RELAY_TLS_REQUIRE)
		return RELAY_DANE_OFF;
	return relay_dane_level(p->tlsa);
}

int
relay_tls_wanted(const struct relay_smtp *c)
{
	return c->p.tls != RELAY_TLS_NONE || c->dane != RELAY_DANE_OFF;
}

int
relay_tls_required(const struct relay_smtp *c)
{
	return c->p.tls >= RELAY_TLS_REQUIRE || c->dane != RELAY_DANE_OFF;
}

/* libtls checks the chain against the CA bundle: verify without DANE. */
int
relay_tls_pkix(const struct relay_smtp *c)
{
	return c->p.tls == RELAY_TLS_VERIFY && c->dane == RELAY_DANE_OFF;
}

/* The reason for a required TLS that did not happen. */
void
relay_tls_fail(struct relay_smtp *c, const char *what)
{
	char	 reason[RELAY_REPLY_TEXT_MAX_BYTES + 64];

	if (c->dane != RELAY_DANE_OFF)
		(void)snprintf(reason, sizeof(reason), "4.7.5 DANE: %s", what);
	else
		(void)snprintf(reason, sizeof(reason), "%s", what);
	relay_smtp_end(c, 0, reason);
}

/*
 * After the handshake: the DANE match when records are usable.  Sets
 * c->verified for the log; -1 when the connection was ended.
 */
int
relay_tls_check(struct relay_smtp *c)
{
	const uint8_t	*pem;
	size_t		 len = 0;
	char		 why[256], reason[320];
	int		 r;

	if (c->dane != RELAY_DANE_VERIFY) {
		c->verified = relay_tls_pkix(c) ? "pkix" : "no";
		return 0;
	}
	pem = lineio_tls_peer_chain(c->io, &len);
	r = relay_dane_verify(c->p.tlsa, pem, len, c->p.tls_name, why,
	    sizeof(why));
	if (r == -1) {
		log_warnx("%s relay dane failed name=%s reason=\"%s\"",
		    c->p.id, c->p.tls_name != NULL ? c->p.tls_name : "-", why);
		(void)snprintf(reason, sizeof(reason), "server certificate "
		    "not trusted: %s", why);
		relay_tls_fail(c, reason);
		return -1;
	}
	c->verified = r == RELAY_DANE_EE ? "dane-ee" : "dane-ta";
	return 0;
}
