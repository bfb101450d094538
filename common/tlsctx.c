/*
 * Server TLS contexts from the configuration (see tlsctx.h).
 *
 * XXX The private keys are loaded into the process that serves TLS.
 * libretls, on OpenSSL, has no hook to sign in another process (LibreSSL's
 * tls_config_set_sign_cb), so keeping the key out of the chrooted engine
 * would need an OpenSSL key method forwarding signatures to the parent.
 */
#include <stdio.h>
#include <string.h>
#include <tls.h>

#include "config.h"
#include "tlsctx.h"

static int
tlsctx_fail(struct tls_config *tc, char *err, size_t errlen,
    const char *what, const char *name)
{
	(void)snprintf(err, errlen, "pki %s: %s: %s", name, what,
	    tls_config_error(tc) ? tls_config_error(tc) : "failed");
	return -1;
}

static int
tlsctx_add_pkis(struct tls_config *tc, const struct config *conf,
    char *err, size_t errlen)
{
	const struct pki	*pki;
	int			 first = 1;

	TAILQ_FOREACH(pki, &conf->pkis, entry) {
		if (first) {
			if (tls_config_set_keypair_file(tc, pki->cert,
			    pki->key) == -1)
				return tlsctx_fail(tc, err, errlen, "keypair",
				    pki->name);
			first = 0;
		} else if (tls_config_add_keypair_file(tc, pki->cert,
		    pki->key) == -1)
			return tlsctx_fail(tc, err, errlen, "keypair",
			    pki->name);
	}
	if (first) {
		(void)snprintf(err, errlen, "no pki statement in the "
		    "configuration");
		return -1;
	}
	return 0;
}

struct tls *
tlsctx_server_new(const struct config *conf, char *err, size_t errlen)
{
	struct tls_config	*tc;
	struct tls		*ctx = NULL;
	uint32_t		 protos;

	if (tls_init() == -1 || (tc = tls_config_new()) == NULL) {
		(void)snprintf(err, errlen, "tls_config_new failed");
		return NULL;
	}
	if (tls_config_parse_protocols(&protos, "tlsv1.2,tlsv1.3") == -1 ||
	    tls_config_set_protocols(tc, protos) == -1 ||
	    tls_config_set_ciphers(tc, "secure") == -1) {
		(void)tlsctx_fail(tc, err, errlen, "protocols", "-");
		goto done;
	}
	tls_config_prefer_ciphers_server(tc);
	if (tlsctx_add_pkis(tc, conf, err, errlen) == -1)
		goto done;
	if ((ctx = tls_server()) == NULL) {
		(void)snprintf(err, errlen, "tls_server failed");
		goto done;
	}
	if (tls_configure(ctx, tc) == -1) {
		(void)snprintf(err, errlen, "tls_configure: %s",
		    tls_error(ctx));
		tls_free(ctx);
		ctx = NULL;
	}
done:
	/* The keys were copied into ctx; wipe this copy. */
	tls_config_clear_keys(tc);
	tls_config_free(tc);
	return ctx;
}
