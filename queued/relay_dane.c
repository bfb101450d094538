/*
 * DANE for the relay's SMTP client (RFC 7672; RFC 6698, RFC 7218 for the
 * names).  Runs in the relay process, on the chain the server sent in
 * the STARTTLS handshake, which libtls did not verify (relay_smtp.c
 * turns its checks off when DANE applies: the TLSA records, not the CA
 * bundle, say what to trust).
 *
 * - DANE-EE(3): the leaf certificate (selector 0) or its public key
 *   (selector 1), exactly (matching type 0) or by SHA2-256 (1) or
 *   SHA2-512 (2).  Neither its names nor its dates are checked (RFC 7672
 *   3.1.1): the DNSSEC-signed record is the binding.
 * - DANE-TA(2): any certificate of the chain as sent matches a record;
 *   the leaf must then chain to it (X509_verify_cert with a store that
 *   holds that certificate alone, a partial chain allowed, dates
 *   checked) and carry the MX host's name (RFC 7672 3.2.2; no partial
 *   wildcards).
 * - PKIX-TA(0) and PKIX-EE(1) are unusable for SMTP (RFC 7672 3.1.3), as
 *   is any unknown selector or matching type, or a digest of the wrong
 *   length.  A secure RRset with none usable still makes TLS mandatory
 *   (RFC 7672 2.2), unauthenticated: RELAY_DANE_ENCRYPT.
 *
 * relay_dns_tlsa keeps no association over RELAY_DNS_TLSA_DATA_MAX bytes,
 * so matching type 0 only ever matches a small key (an EC SPKI).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "relay_dane.h"

/* A record the SMTP client can use (RFC 7672 3.1, RFC 6698 2.1). */
static int
dane_usable(const struct rdns_tlsa_rr *rr)
{
	if (rr->usage != RELAY_DANE_TA && rr->usage != RELAY_DANE_EE)
		return 0;
	if (rr->selector > 1)
		return 0;
	switch (rr->mtype) {
	case 0:
		return rr->len > 0;
	case 1:
		return rr->len == 32;
	case 2:
		return rr->len == 64;
	default:
		return 0;
	}
}

enum relay_dane_level
relay_dane_level(const struct rdns_tlsa *t)
{
	size_t	 i;

	if (t == NULL || t->status != RDNS_OK || t->sec != RDNS_SEC_SECURE ||
	    t->n == 0)
		return RELAY_DANE_OFF;
	for (i = 0; i < t->n; i++)
		if (dane_usable(&t->rr[i]))
			return RELAY_DANE_VERIFY;
	return RELAY_DANE_ENCRYPT;
}

/* 1 when x matches rr, 0 when not, -1 when it cannot be encoded. */
static int
dane_match(const struct rdns_tlsa_rr *rr, X509 *x)
{
	unsigned char	*der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	int		 len, r = 0;

	if (rr->selector == 0)
		len = i2d_X509(x, &der);
	else
		len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
	if (len <= 0)
		return -1;
	if (rr->mtype == 0)
		r = (size_t)len == rr->len && memcmp(der, rr->data, rr->len) == 0;
	else if (EVP_Digest(der, (size_t)len, md, &mdlen, rr->mtype == 1 ?
	    EVP_sha256() : EVP_sha512(), NULL) != 1)
		r = -1;
	else
		r = mdlen == rr->len && memcmp(md, rr->data, mdlen) == 0;
	OPENSSL_free(der);
	return r;
}

/* The chain as sent, leaf first; -1 with why when it cannot be read. */
static int
dane_load(const uint8_t *pem, size_t len, X509 **chain, size_t *n,
    char *why, size_t whylen)
{
	BIO	*b;
	X509	*x;

	*n = 0;
	if (pem == NULL || len == 0 || len > INT32_MAX ||
	    (b = BIO_new_mem_buf(pem, (int)len)) == NULL) {
		(void)strlcpy(why, "no certificate from the server", whylen);
		return -1;
	}
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (*n == RELAY_DANE_CHAIN_MAX) {
			X509_free(x);
			BIO_free(b);
			(void)snprintf(why, whylen, "chain longer than %d "
			    "certificates", RELAY_DANE_CHAIN_MAX);
			return -1;
		}
		chain[(*n)++] = x;
	}
	ERR_clear_error();	/* the end of the PEM data */
	BIO_free(b);
	if (*n == 0) {
		(void)strlcpy(why, "no certificate from the server", whylen);
		return -1;
	}
	return 0;
}

/* The leaf chains to ta, within its dates, and carries name. */
static int
dane_chain_to(X509 **chain, size_t n, X509 *ta, const char *name,
    char *why, size_t whylen)
{
	X509_STORE	*st;
	X509_STORE_CTX	*ctx = NULL;
	STACK_OF(X509)	*rest = NULL;
	size_t		 i;
	int		 ok = 0;

	if ((st = X509_STORE_new()) == NULL || X509_STORE_add_cert(st, ta) != 1 ||
	    (rest = sk_X509_new_null()) == NULL ||
	    (ctx = X509_STORE_CTX_new()) == NULL)
		goto done;
	for (i = 1; i < n; i++)
		if (sk_X509_push(rest, chain[i]) <= 0)
			goto done;
	if (X509_STORE_CTX_init(ctx, st, chain[0], rest) != 1)
		goto done;
	/* The anchor may be an intermediate: RFC 7672 3.1.2. */
	X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_PARTIAL_CHAIN);
	if (X509_verify_cert(ctx) != 1) {
		(void)snprintf(why, whylen, "DANE-TA: chain does not verify "
		    "to the TLSA trust anchor: %s", X509_verify_cert_error_string(
		    X509_STORE_CTX_get_error(ctx)));
		goto done;
	}
	if (name == NULL || X509_check_host(chain[0], name, 0,
	    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) != 1) {
		(void)snprintf(why, whylen, "DANE-TA: certificate name does "
		    "not match %s", name != NULL ? name : "(no name)");
		goto done;
	}
	ok = 1;
 done:
	if (!ok && why[0] == '\0')
		(void)strlcpy(why, "DANE-TA: out of memory", whylen);
	X509_STORE_CTX_free(ctx);
	sk_X509_free(rest);
	X509_STORE_free(st);
	ERR_clear_error();
	return ok;
}

/* DANE-TA: a certificate of the chain matches, and the leaf chains to it. */
static int
dane_ta(const struct rdns_tlsa *t, X509 **chain, size_t n,
    const char *name, char *why, size_t whylen)
{
	size_t	 i, j;

	for (i = 0; i < t->n; i++) {
		if (t->rr[i].usage != RELAY_DANE_TA || !dane_usable(&t->rr[i]))
			continue;
		for (j = 0; j < n; j++) {
			if (dane_match(&t->rr[i], chain[j]) != 1)
				continue;
			why[0] = '\0';
			if (dane_chain_to(chain, n, chain[j], name, why, whylen))
				return 1;
		}
	}
	return 0;
}

int
relay_dane_verify(const struct rdns_tlsa *t, const uint8_t *pem, size_t len,
    const char *name, char *why, size_t whylen)
{
	X509	*chain[RELAY_DANE_CHAIN_MAX];
	size_t	 i, n;
	int	 r = -1;

	why[0] = '\0';
	if (dane_load(pem, len, chain, &n, why, whylen) == -1)
		return -1;
	for (i = 0; i < t->n && r == -1; i++)
		if (t->rr[i].usage == RELAY_DANE_EE && dane_usable(&t->rr[i]) &&
		    dane_match(&t->rr[i], chain[0]) == 1)
			r = RELAY_DANE_EE;
	if (r == -1 && dane_ta(t, chain, n, name, why, whylen))
		r = RELAY_DANE_TA;
	if (r == -1 && why[0] == '\0')
		(void)strlcpy(why, "no TLSA record matches the server's "
		    "certificate chain", whylen);
	for (i = 0; i < n; i++)
		X509_free(chain[i]);
	return r;
}
