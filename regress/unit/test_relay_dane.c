/*
 * queued/relay_dane.c: DANE matching (RFC 7672) of a chain made here
 * with the OpenSSL API: DANE-EE with each selector and matching type
 * (names and dates not checked), a wrong digest, DANE-TA with the
 * anchor in the chain (the name checked, dates checked), PKIX usages
 * unusable, and the levels an RRset gives.
 */
#include <string.h>
#include <criterion/criterion.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "../../queued/relay_dane.h"

static long	 serial = 1;

static void
cert_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX	 ctx;
	X509_EXTENSION	*ext;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	cr_assert_not_null(ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value));
	cr_assert_eq(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
}

/* A certificate for key, signed by issuer (NULL: by itself). */
static X509 *
cert_new(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *ikey,
    int ca, long valid_secs)
{
	X509		*x;
	X509_NAME	*n;
	char		 san[128];

	cr_assert_not_null(x = X509_new());
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), valid_secs);
	X509_set_pubkey(x, key);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer != NULL ?
	    X509_get_subject_name(issuer) : n);
	if (ca) {
		cert_ext(x, issuer != NULL ? issuer : x,
		    NID_basic_constraints, "critical,CA:TRUE");
		cert_ext(x, issuer != NULL ? issuer : x, NID_key_usage,
		    "critical,keyCertSign");
	} else {
		(void)snprintf(san, sizeof(san), "DNS:%s", cn);
		cert_ext(x, issuer != NULL ? issuer : x,
		    NID_subject_alt_name, san);
	}
	ikey = ikey != NULL ? ikey : key;
	/* Ed25519 signs without a separate digest. */
	cr_assert(X509_sign(x, ikey, EVP_PKEY_get_id(ikey) == EVP_PKEY_ED25519 ?
	    NULL : EVP_sha256()) > 0);
	return x;
}

/* The chain as a server sends it, PEM, leaf first. */
static size_t
chain_pem(X509 **chain, size_t n, uint8_t *out, size_t outlen)
{
	BIO	*b = BIO_new(BIO_s_mem());
	char	*data;
	long	 len;
	size_t	 i;

	for (i = 0; i < n; i++)
		cr_assert_eq(PEM_write_bio_X509(b, chain[i]), 1);
	len = BIO_get_mem_data(b, &data);
	cr_assert_leq((size_t)len, outlen);
	memcpy(out, data, (size_t)len);
	BIO_free(b);
	return (size_t)len;
}

static void
tlsa_add(struct rdns_tlsa *t, int usage, int sel, int mtype, X509 *x)
{
	struct rdns_tlsa_rr	*rr = &t->rr[t->n++];
	unsigned char		*der = NULL;
	unsigned int		 mdlen;
	int			 len;

	t->status = RDNS_OK;
	t->sec = RDNS_SEC_SECURE;
	rr->usage = (uint8_t)usage;
	rr->selector = (uint8_t)sel;
	rr->mtype = (uint8_t)mtype;
	len = sel == 0 ? i2d_X509(x, &der) :
	    i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
	cr_assert_gt(len, 0);
	if (mtype == 0) {
		cr_assert_leq((size_t)len, sizeof(rr->data));
		memcpy(rr->data, der, (size_t)len);
		rr->len = (size_t)len;
	} else {
		cr_assert_eq(EVP_Digest(der, (size_t)len, rr->data, &mdlen,
		    mtype == 1 ? EVP_sha256() : EVP_sha512(), NULL), 1);
		rr->len = mdlen;
	}
	OPENSSL_free(der);
}

static EVP_PKEY	*ca_key, *leaf_key, *other_key, *ed_key;
static X509	*ca, *leaf, *other, *expired, *ed;
static uint8_t	 pem[16384];
static char	 why[256];

static void
setup(void)
{
	cr_assert_not_null(ca_key = EVP_EC_gen("P-256"));
	cr_assert_not_null(leaf_key = EVP_EC_gen("P-256"));
	cr_assert_not_null(other_key = EVP_EC_gen("P-256"));
	cr_assert_not_null(ed_key = EVP_PKEY_Q_keygen(NULL, NULL,
	    "ED25519"));
	ca = cert_new(ca_key, "Test CA", NULL, NULL, 1, 86400);
	leaf = cert_new(leaf_key, "mx.example.test", ca, ca_key, 0, 86400);
	other = cert_new(other_key, "other.example.test", NULL, NULL, 0,
	    86400);
	expired = cert_new(leaf_key, "mx.example.test", ca, ca_key, 0, -60);
	ed = cert_new(ed_key, "mx.example.test", NULL, NULL, 0, 86400);
}

static void
teardown(void)
{
	X509_free(ca);
	X509_free(leaf);
	X509_free(other);
	X509_free(expired);
	X509_free(ed);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(leaf_key);
	EVP_PKEY_free(other_key);
	EVP_PKEY_free(ed_key);
}

TestSuite(relay_dane, .init = setup, .fini = teardown);

static int
verify(struct rdns_tlsa *t, X509 *c0, X509 *c1, const char *name)
{
	X509	*chain[2] = { c0, c1 };
	size_t	 len;

	len = chain_pem(chain, c1 != NULL ? 2 : 1, pem, sizeof(pem));
	return relay_dane_verify(t, pem, len, name, why, sizeof(why));
}

Test(relay_dane, ee_selectors_and_types)
{
	struct rdns_tlsa	 t;
	int			 sel, mt;

	for (sel = 0; sel <= 1; sel++)
		for (mt = 1; mt <= 2; mt++) {
			memset(&t, 0, sizeof(t));
			tlsa_add(&t, 3, sel, mt, leaf);
			cr_assert_eq(verify(&t, leaf, ca, "mx.example.test"),
			    RELAY_DANE_EE, "%d %d: %s", sel, mt, why);
		}
	/* Matching type 0: a whole Ed25519 key fits. */
	memset(&t, 0, sizeof(t));
	tlsa_add(&t, 3, 1, 0, ed);
	cr_assert_eq(verify(&t, ed, NULL, "x"), RELAY_DANE_EE, "%s", why);
}

Test(relay_dane, ee_ignores_name_and_dates)
{
	struct rdns_tlsa	 t = { 0 };

	tlsa_add(&t, 3, 1, 1, expired);
	cr_assert_eq(verify(&t, expired, NULL, "unrelated.test"),
	    RELAY_DANE_EE, "%s", why);
}

Test(relay_dane, wrong_digest)
{
	struct rdns_tlsa	 t = { 0 };

	tlsa_add(&t, 3, 1, 1, other);
	cr_assert_eq(verify(&t, leaf, ca, "mx.example.test"), -1);
	cr_assert_not_null(strstr(why, "no TLSA record matches"));
	t.rr[0].data[0] ^= 1;
	tlsa_add(&t, 3, 1, 1, leaf);
	t.rr[1].data[31] ^= 1;
	cr_assert_eq(verify(&t, leaf, ca, "mx.example.test"), -1);
}

Test(relay_dane, ta_in_chain)
{
	struct rdns_tlsa	 t = { 0 };

	tlsa_add(&t, 2, 0, 1, ca);
	cr_assert_eq(verify(&t, leaf, ca, "mx.example.test"), RELAY_DANE_TA,
	    "%s", why);
	cr_assert_eq(verify(&t, leaf, ca, "MX.Example.Test"), RELAY_DANE_TA,
	    "%s", why);
	/* Not sent: nothing to match. */
	cr_assert_eq(verify(&t, leaf, NULL, "mx.example.test"), -1);
}

Test(relay_dane, ta_name_and_dates)
{
	struct rdns_tlsa	 t = { 0 };

	tlsa_add(&t, 2, 1, 2, ca);
	cr_assert_eq(verify(&t, leaf, ca, "other.example.test"), -1);
	cr_assert_not_null(strstr(why, "name does not match"), "%s", why);
	cr_assert_eq(verify(&t, expired, ca, "mx.example.test"), -1);
	cr_assert_not_null(strstr(why, "does not verify"), "%s", why);
	/* A leaf the anchor did not sign. */
	cr_assert_eq(verify(&t, other, ca, "other.example.test"), -1);
}

Test(relay_dane, levels)
{
	struct rdns_tlsa	 t = { 0 };

	cr_assert_eq(relay_dane_level(NULL), RELAY_DANE_OFF);
	cr_assert_eq(relay_dane_level(&t), RELAY_DANE_OFF);
	tlsa_add(&t, 1, 1, 1, leaf);
	tlsa_add(&t, 0, 0, 1, ca);
	cr_assert_eq(relay_dane_level(&t), RELAY_DANE_ENCRYPT);
	/* PKIX usages never match, even when they would. */
	cr_assert_eq(verify(&t, leaf, ca, "mx.example.test"), -1);
	tlsa_add(&t, 3, 1, 1, leaf);
	t.rr[2].len = 31;		/* a SHA2-256 of the wrong length */
	cr_assert_eq(relay_dane_level(&t), RELAY_DANE_ENCRYPT);
	t.rr[2].len = 32;
	cr_assert_eq(relay_dane_level(&t), RELAY_DANE_VERIFY);
	t.sec = RDNS_SEC_INSECURE;
	cr_assert_eq(relay_dane_level(&t), RELAY_DANE_OFF);
	t.sec = RDNS_SEC_SECURE;
	t.status = RDNS_TEMPFAIL;
	cr_assert_eq(relay_dane_level(&t), RELAY_DANE_OFF);
}
