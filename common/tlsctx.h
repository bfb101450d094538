/*
 * The libtls server context every TLS endpoint uses, built from the
 * configuration's pki statements: TLS 1.2 and 1.3 only, libtls's
 * "secure" ciphers, one keypair per pki name chosen by SNI, the first
 * pki the default.  Built before the chroot, since it reads the files.
 */
#ifndef SALLYPORT_TLSCTX_H
#define SALLYPORT_TLSCTX_H

#include <stddef.h>

struct config;
struct tls;

/*
 * Returns a configured server context, or NULL with a message in err
 * (no pki statement, unreadable file, key and certificate that do not
 * match, ...).
 */
struct tls	*tlsctx_server_new(const struct config *, char *err,
		    size_t errlen);

#endif
