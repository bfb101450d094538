/*
 * A reload's transfer from a parent to its engine (confxfer.h): the
 * parent's side runs as root, the engine's in its chroot under its
 * seccomp set (SANDBOX_ENGINE: no file is opened here).
 *
 * Anything out of order, too large or that does not parse is refused
 * (the engine ends: fail closed): the parent checked the same bytes
 * before it sent them, and restarts the engine with them.
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tls.h>

#include "config.h"
#include "confxfer.h"
#include "ipc.h"
#include "log.h"
#include "tlsctx.h"

/* The largest piece of a part that fits one MSG_PARENT_CONF_DATA. */
#define CONFXFER_PIECE_BYTES	(IPC_PAYLOAD_MAX_BYTES - 3 * sizeof(uint32_t))

unsigned int
confxfer_keep(const struct config *old, struct config *conf,
    const struct confxfer_kept *kept, size_t n)
{
	unsigned int	 changed = 0;
	char		*now;
	const char	*was;
	size_t		 i;

	for (i = 0; i < n && i < 32; i++) {
		now = (char *)conf + kept[i].off;
		was = (const char *)old + kept[i].off;
		if (strcmp(now, was) == 0)
			continue;
		changed |= 1U << i;
		(void)strlcpy(now, was, kept[i].len);
	}
	return changed;
}

/* conf as text, for the engine to parse again. */
int
confxfer_text(const struct config *conf, char **text, size_t *textlen,
    char *err, size_t errlen)
{
	FILE	*fp;

	*text = NULL;
	*textlen = 0;
	if ((fp = open_memstream(text, textlen)) == NULL) {
		(void)snprintf(err, errlen, "open_memstream failed");
		return -1;
	}
	config_print(fp, conf);
	if (fclose(fp) != 0 || *text == NULL) {
		(void)snprintf(err, errlen, "cannot print the configuration");
		return -1;
	}
	if (*textlen > CONFIG_FILE_MAX_BYTES) {
		(void)snprintf(err, errlen, "the configuration printed is "
		    "longer than %d bytes", CONFIG_FILE_MAX_BYTES);
		return -1;
	}
	return 0;
}

/* One part, in as many pieces as it takes (at least one). */
static int
confxfer_send_part(struct ipc_conn *c, enum conf_part part,
    const uint8_t *p, size_t len)
{
	struct ipc_out	 o;
	size_t		 n;
	int		 r = 0;

	do {
		n = len < CONFXFER_PIECE_BYTES ? len :
		    CONFXFER_PIECE_BYTES;
		ipc_out_init(&o, MSG_PARENT_CONF_DATA, 0);
		ipc_put_u32(&o, part);
		ipc_put_u32(&o, n == len);
		ipc_put_bytes(&o, p, n);
		if ((r = ipc_conn_send(c, &o, -1)) == -1)
			break;
		p += n;
		len -= n;
	} while (len > 0);
	/* It may have held a private key. */
	explicit_bzero(o.buf, sizeof(o.buf));
	return r;
}

int
confxfer_send(struct ipc_conn *c, const char *text, size_t textlen,
    const struct tlsctx_pem *pems, size_t npem)
{
	size_t	 i;

	if (confxfer_send_part(c, CONF_PART_TEXT, (const uint8_t *)text,
	    textlen) == -1)
		return -1;
	for (i = 0; i < npem; i++)
		if (confxfer_send_part(c, CONF_PART_CERT, pems[i].cert,
		    pems[i].certlen) == -1 ||
		    confxfer_send_part(c, CONF_PART_KEY, pems[i].key,
		    pems[i].keylen) == -1)
			return -1;
	return ipc_conn_send_empty(c, MSG_PARENT_CONF_COMMIT, 0);
}

/* Forgets a reload half received. */
static void
confxfer_rx_reset(struct confxfer_rx *rx)
{
	const char	*who = rx->who;

	free(rx->text);
	config_free(rx->conf);
	tlsctx_pem_free(rx->pems, rx->npem);
	memset(rx, 0, sizeof(*rx));
	rx->who = who;
	rx->expect = CONF_PART_TEXT;
}

/*
 * Appends a piece to a part, at most max bytes in all.  The old buffer
 * is wiped before it is freed: it may hold a private key.
 */
static int
confxfer_append(uint8_t **buf, size_t *len, const uint8_t *p, size_t n,
    size_t max)
{
	uint8_t	*nbuf;

	if (n > max - *len)
		return -1;
	if (n == 0)
		return 0;
	if ((nbuf = malloc(*len + n)) == NULL)
		fatal("- conf alloc");
	if (*len > 0)
		memcpy(nbuf, *buf, *len);
	memcpy(nbuf + *len, p, n);
	if (*buf != NULL)
		explicit_bzero(*buf, *len);
	free(*buf);
	*buf = nbuf;
	*len += n;
	return 0;
}

/* The text is whole: parse it, and make room for its pki files. */
static int
confxfer_text_done(struct confxfer_rx *rx)
{
	const struct pki	*pki;
	char			 err[1024];

	rx->conf = config_parse("reload", (const char *)rx->text,
	    rx->textlen, err, sizeof(err));
	free(rx->text);
	rx->text = NULL;
	rx->textlen = 0;
	if (rx->conf == NULL) {
		log_warnx("- %s reload text refused: %s", rx->who, err);
		return -1;
	}
	TAILQ_FOREACH(pki, &rx->conf->pkis, entry)
		rx->npem++;
	if (rx->npem > 0 &&
	    (rx->pems = calloc(rx->npem, sizeof(*rx->pems))) == NULL)
		fatal("- conf alloc");
	rx->npem = 0;
	TAILQ_FOREACH(pki, &rx->conf->pkis, entry)
		(void)strlcpy(rx->pems[rx->npem++].name, pki->name,
		    sizeof(rx->pems[0].name));
	rx->expect = rx->npem > 0 ? CONF_PART_CERT : 0;
	return 0;
}

/* A piece of the part expected; the next part once it is the last. */
static int
confxfer_piece(struct confxfer_rx *rx, const uint8_t *p, size_t n,
    int last)
{
	struct tlsctx_pem	*pem = rx->pems != NULL ? &rx->pems[rx->cur] :
	    NULL;

	switch (rx->expect) {
	case CONF_PART_TEXT:
		if (confxfer_append(&rx->text, &rx->textlen, p, n,
		    CONFIG_FILE_MAX_BYTES) == -1)
			return -1;
		return last ? confxfer_text_done(rx) : 0;
	case CONF_PART_CERT:
		if (confxfer_append(&pem->cert, &pem->certlen, p, n,
		    TLS_PEM_FILE_MAX_BYTES) == -1)
			return -1;
		if (last)
			rx->expect = CONF_PART_KEY;
		return 0;
	case CONF_PART_KEY:
		if (confxfer_append(&pem->key, &pem->keylen, p, n,
		    TLS_PEM_FILE_MAX_BYTES) == -1)
			return -1;
		if (last)
			rx->expect = ++rx->cur < rx->npem ? CONF_PART_CERT : 0;
		return 0;
	}
	return -1;
}

static int
confxfer_data(struct confxfer_rx *rx, struct ipc_msg *m)
{
	const uint8_t	*p;
	size_t		 n;
	uint32_t	 part, last;

	if (ipc_get_u32(m, &part) == -1 || ipc_get_u32(m, &last) == -1 ||
	    ipc_get_bytes(m, &p, &n, IPC_PAYLOAD_MAX_BYTES) == -1 ||
	    ipc_get_end(m) == -1 || last > 1)
		return -1;
	if (rx->expect == 0 || part != (uint32_t)rx->expect)
		return -1;
	return confxfer_piece(rx, p, n, last);
}

/* Everything came: the TLS context from the files. */
static int
confxfer_commit(struct confxfer_rx *rx, struct config **conf,
    struct tls **tls)
{
	char	 err[1024];

	*tls = NULL;
	if (rx->expect != 0)
		return -1;
	if (rx->npem > 0 && (*tls = tlsctx_server_mem(rx->pems, rx->npem,
	    err, sizeof(err))) == NULL) {
		log_warnx("- %s reload tls refused: %s", rx->who, err);
		return -1;
	}
	*conf = rx->conf;
	rx->conf = NULL;
	confxfer_rx_reset(rx);
	return 1;
}

int
confxfer_recv(struct confxfer_rx *rx, struct ipc_msg *m,
    struct config **conf, struct tls **tls)
{
	int	 r = -1;

	if (m->fd != -1)
		;
	else if (m->hdr.type == MSG_PARENT_CONF_DATA)
		r = confxfer_data(rx, m);
	else if (m->hdr.type == MSG_PARENT_CONF_COMMIT &&
	    ipc_get_end(m) == 0)
		r = confxfer_commit(rx, conf, tls);
	if (r == -1)
		confxfer_rx_reset(rx);
	return r;
}
