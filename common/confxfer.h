/*
 * A reload's transfer from a daemon's parent to its chrooted engine
 * (MSG_PARENT_CONF_DATA, MSG_PARENT_CONF_COMMIT, proto.h): the
 * configuration as config_print() writes it, then each pki's
 * certificate and key files as the parent read them, since nothing in
 * the chroot can read them.  Shared by smtpd and pop3d: the parent's
 * side sends, the engine's side receives, parses the text again with
 * the same parser and builds the TLS context at the commit.
 */
#ifndef CONFXFER_H
#define CONFXFER_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct config;
struct ipc_conn;
struct ipc_msg;
struct tls;
struct tlsctx_pem;

/* The parent's side. */
/* A string field of struct config that a reload keeps as it was. */
struct confxfer_kept {
	const char	*name;		/* the log line's "<name>-changed" */
	size_t		 off;
	size_t		 len;
};
#define CONFXFER_FIELD(f)	offsetof(struct config, f), \
				    sizeof(((struct config *)NULL)->f)
/*
 * Puts back in conf the n kept fields of old; returns a mask with bit i
 * set where kept[i] had changed (n at most 32).
 */
unsigned int	confxfer_keep(const struct config *old, struct config *conf,
		    const struct confxfer_kept *kept, size_t n);
/* conf as text (malloc'd), at most CONFIG_FILE_MAX_BYTES; -1 and err. */
int	confxfer_text(const struct config *, char **text, size_t *textlen,
	    char *err, size_t errlen);
/* The text, the pki files, then the commit; -1 when c failed. */
int	confxfer_send(struct ipc_conn *, const char *text, size_t textlen,
	    const struct tlsctx_pem *, size_t npem);

/* The engine's side: what has come of a reload so far. */
struct confxfer_rx {
	const char		*who;		/* "smtp", "pop3": the log's */
	enum conf_part		 expect;	/* 0: only a COMMIT */
	uint8_t			*text;
	size_t			 textlen;
	struct config		*conf;		/* from the text */
	struct tlsctx_pem	*pems;		/* one per pki of conf */
	size_t			 npem;
	size_t			 cur;		/* the pem being read */
};
#define CONFXFER_RX_INIT(who)	{ (who), CONF_PART_TEXT, NULL, 0, NULL, \
				    NULL, 0, 0 }

/*
 * A MSG_PARENT_CONF_DATA or MSG_PARENT_CONF_COMMIT.  Returns 0 when
 * more is to come, 1 at the commit with *conf and *tls (NULL without a
 * pki) the caller's, or -1 when it is out of order, too large or does
 * not parse (what came is forgotten; the caller ends: fail closed).
 */
int	confxfer_recv(struct confxfer_rx *, struct ipc_msg *,
	    struct config **conf, struct tls **tls);

#endif
