/*
 * The libtls server context every TLS endpoint uses, built from the
 * configuration's pki statements: TLS 1.2 and 1.3 only, libtls's
 * "secure" ciphers, one keypair per pki name chosen by SNI, the first
 * pki the default.  The files are read before the chroot, by a root
 * parent; the context is built from their contents in memory, so that
 * a chrooted engine can build the same one from what its parent read
 * (smtpd's reload).
 */
#ifndef SALLYPORT_TLSCTX_H
#define SALLYPORT_TLSCTX_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct tls;

/* One pki's files as read: PEM, not NUL-terminated. */
struct tlsctx_pem {
	char		 name[CONFIG_NAME_MAX];	/* the pki's, for errors */
	uint8_t		*cert;
	size_t		 certlen;
	uint8_t		*key;
	size_t		 keylen;
};

/*
 * Reads the certificate and key file of every pki, in the order of the
 * configuration, each at most TLS_PEM_FILE_MAX_BYTES: an array of *npem
 * (NULL and 0 without a pki statement).  -1 with a message in err.
 */
int		 tlsctx_pem_load(const struct config *, struct tlsctx_pem **,
		    size_t *npem, char *err, size_t errlen);
/* Wipes the keys and frees the array; NULL is a no-op. */
void		 tlsctx_pem_free(struct tlsctx_pem *, size_t npem);
/*
 * A configured server context from npem (at least one) keypairs, the
 * first the default; NULL with a message in err (a certificate and key
 * that do not match, a file that is not PEM, ...).
 */
struct tls	*tlsctx_server_mem(const struct tlsctx_pem *, size_t npem,
		    char *err, size_t errlen);
/* tlsctx_pem_load() and tlsctx_server_mem() in one. */
struct tls	*tlsctx_server_new(const struct config *, char *err,
		    size_t errlen);

#endif
