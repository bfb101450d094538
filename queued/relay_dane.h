/*
 * DANE for the relay's SMTP client (RFC 7672, RFC 6698, RFC 7218): the
 * server's certificate chain, as it sent it, matched against the TLSA
 * records of the MX host that DNSSEC proved.  Pure: no I/O, no state;
 * used by relay_smtp.c after the STARTTLS handshake.
 */
#ifndef SALLYPORT_RELAY_DANE_H
#define SALLYPORT_RELAY_DANE_H

#include <stddef.h>
#include <stdint.h>

#include "relay_dns.h"

/* RFC 7218 names of the usages that apply to SMTP (RFC 7672 3.1). */
#define RELAY_DANE_TA		2	/* DANE-TA: a trust anchor */
#define RELAY_DANE_EE		3	/* DANE-EE: the server's own key */

/* What DANE asks of a connection, from its TLSA records. */
enum relay_dane_level {
	RELAY_DANE_OFF,		/* none, or not DNSSEC-secure: no DANE */
	RELAY_DANE_ENCRYPT,	/* secure, none usable: TLS, no check */
	RELAY_DANE_VERIFY,	/* secure, usable: TLS and a match */
};

enum relay_dane_level relay_dane_level(const struct rdns_tlsa *);
/*
 * Matches the peer's chain (PEM, the leaf first, as libtls's
 * tls_peer_cert_chain_pem gives it) against the usable records of t.
 * name is the MX host name (RFC 7672 3.2.2), checked for DANE-TA only.
 * Returns RELAY_DANE_EE or RELAY_DANE_TA for the usage that matched,
 * -1 with why filled when none did.
 */
int	relay_dane_verify(const struct rdns_tlsa *, const uint8_t *pem,
	    size_t len, const char *name, char *why, size_t whylen);

#endif
