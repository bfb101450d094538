/*
 * Server TLS contexts from the configuration (see tlsctx.h).
 *
 * XXX The private keys are loaded into the process that serves TLS.
 * libretls, on OpenSSL, has no hook to sign in another process (LibreSSL's
 * tls_config_set_sign_cb), so keeping the key out of the chrooted engine
 * would need an OpenSSL key method forwarding signatures to the parent.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <tls.h>

#include "config.h"
#include "sp_limits.h"
#include "tlsctx.h"

/*
 * TLS 1.2: forward-secret key exchange (ECDHE) with AEAD ciphers only,
 * Mozilla's "intermediate" profile less its DHE suites, so no static
 * RSA key exchange, no CBC (SHA-1 or SHA-2), no CAMELLIA or ARIA.  TLS
 * 1.3's suites are all AEAD with (EC)DHE and are left as they are.
 */
#define TLSCTX_CIPHERS_TLS12						\
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"	\
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"	\
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

static int
tlsctx_fail(struct tls_config *tc, char *err, size_t errlen,
    const char *what, const char *name)
{
	(void)snprintf(err, errlen, "pki %s: %s: %s", name, what,
	    tls_config_error(tc) ? tls_config_error(tc) : "failed");
	return -1;
}

/* A whole regular file of at most TLS_PEM_FILE_MAX_BYTES into *buf. */
static int
tlsctx_read(const char *path, uint8_t **buf, size_t *len, char *err,
    size_t errlen)
{
	struct stat	 st;
	ssize_t		 n;
	int		 fd;

	*buf = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1) {
		(void)snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < 1 ||
	    st.st_size > TLS_PEM_FILE_MAX_BYTES) {
		(void)snprintf(err, errlen, "%s: not a file of 1 to %d bytes",
		    path, TLS_PEM_FILE_MAX_BYTES);
		goto fail;
	}
	*len = (size_t)st.st_size;
	if ((*buf = malloc(*len)) == NULL ||
	    (n = read(fd, *buf, *len)) == -1) {
		(void)snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if ((size_t)n != *len) {
		(void)snprintf(err, errlen, "%s: short read", path);
		goto fail;
	}
	(void)close(fd);
	return 0;
fail:
	if (*buf != NULL)
		explicit_bzero(*buf, *len);
	free(*buf);
	*buf = NULL;
	if (fd != -1)
		(void)close(fd);
	return -1;
}

int
tlsctx_pem_load(const struct config *conf, struct tlsctx_pem **pems,
    size_t *npem, char *err, size_t errlen)
{
	const struct pki	*pki;
	struct tlsctx_pem	*p;
	char			 why[PATH_MAX + 128];
	size_t			 n = 0;

	*pems = NULL;
	*npem = 0;
	TAILQ_FOREACH(pki, &conf->pkis, entry)
		n++;
	if (n == 0)
		return 0;
	if ((*pems = calloc(n, sizeof(**pems))) == NULL) {
		(void)snprintf(err, errlen, "pki: out of memory");
		return -1;
	}
	TAILQ_FOREACH(pki, &conf->pkis, entry) {
		p = &(*pems)[(*npem)++];
		(void)strlcpy(p->name, pki->name, sizeof(p->name));
		if (tlsctx_read(pki->cert, &p->cert, &p->certlen, why,
		    sizeof(why)) == -1 ||
		    tlsctx_read(pki->key, &p->key, &p->keylen, why,
		    sizeof(why)) == -1) {
			(void)snprintf(err, errlen, "pki %s: %s", p->name,
			    why);
			tlsctx_pem_free(*pems, *npem);
			*pems = NULL;
			*npem = 0;
			return -1;
		}
	}
	return 0;
}

void
tlsctx_pem_free(struct tlsctx_pem *pems, size_t npem)
{
	size_t	 i;

	if (pems == NULL)
		return;
	for (i = 0; i < npem; i++) {
		if (pems[i].key != NULL)
			explicit_bzero(pems[i].key, pems[i].keylen);
		free(pems[i].key);
		free(pems[i].cert);
	}
	explicit_bzero(pems, npem * sizeof(*pems));
	free(pems);
}

static int
tlsctx_add_pems(struct tls_config *tc, const struct tlsctx_pem *pems,
    size_t npem, char *err, size_t errlen)
{
	const struct tlsctx_pem	*p;
	size_t			 i;
	int			 r;

	if (npem == 0) {
		(void)snprintf(err, errlen, "no pki statement in the "
		    "configuration");
		return -1;
	}
	for (i = 0; i < npem; i++) {
		p = &pems[i];
		if (i == 0)
			r = tls_config_set_keypair_mem(tc, p->cert,
			    p->certlen, p->key, p->keylen);
		else
			r = tls_config_add_keypair_mem(tc, p->cert,
			    p->certlen, p->key, p->keylen);
		if (r == -1)
			return tlsctx_fail(tc, err, errlen, "keypair",
			    p->name);
	}
	return 0;
}

struct tls *
tlsctx_server_mem(const struct tlsctx_pem *pems, size_t npem, char *err,
    size_t errlen)
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
	    tls_config_set_ciphers(tc, TLSCTX_CIPHERS_TLS12) == -1) {
		(void)tlsctx_fail(tc, err, errlen, "protocols", "-");
		goto done;
	}
	tls_config_prefer_ciphers_server(tc);
	if (tlsctx_add_pems(tc, pems, npem, err, errlen) == -1)
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

struct tls *
tlsctx_server_new(const struct config *conf, char *err, size_t errlen)
{
	struct tlsctx_pem	*pems;
	struct tls		*ctx;
	size_t			 npem;

	if (tlsctx_pem_load(conf, &pems, &npem, err, errlen) == -1)
		return NULL;
	ctx = tlsctx_server_mem(pems, npem, err, errlen);
	tlsctx_pem_free(pems, npem);
	return ctx;
}
