/*
 * smtpd engine (user smtp, chroot emptydir, seccomp SANDBOX_ENGINE): the
 * configuration that sessions use, and its replacement on a reload.
 *
 * The engine starts with the configuration and TLS context it was
 * forked with.  On SIGHUP the parent reads the file again and sends the
 * engine the result (MSG_PARENT_CONF_DATA, see proto.h): the
 * configuration as config_print() writes it, which the engine parses
 * with the same parser, so every value is checked again here; and the
 * pki files the parent read, since nothing in the chroot can read them.
 * At MSG_PARENT_CONF_COMMIT the engine builds the TLS context from them
 * and puts the new configuration in force for the sessions accepted
 * from then on.  A session keeps the configuration it was accepted
 * with to its end (OpenSMTPD and Postfix do the same: a reload never
 * changes a session under way); the TLS context stays alive with it,
 * which libtls needs for handshakes it has begun.
 *
 * Anything out of order, too large or that does not parse ends the
 * engine (fail closed): the parent checked the same bytes before it
 * sent them, and restarts the engine with them.
 */
#include <sys/types.h>

#include <stdlib.h>
#include <string.h>
#include <tls.h>

#include "config.h"
#include "ipc.h"
#include "log.h"
#include "proto.h"
#include "smtpd.h"
#include "tlsctx.h"

/* What has come of a reload so far; between reloads, all empty. */
struct smtp_conf_rx {
	enum conf_part		 expect;	/* 0: only a COMMIT */
	uint8_t			*text;
	size_t			 textlen;
	struct config		*conf;		/* from the text */
	struct tlsctx_pem	*pems;		/* one per pki of conf */
	size_t			 npem;
	size_t			 cur;		/* the pem being read */
};

static struct smtp_conf		*smtp_conf_now;
static struct smtp_conf_rx	 smtp_conf_rx = { .expect = CONF_PART_TEXT };

static struct smtp_conf *
smtp_conf_new(struct config *conf, struct tls *tls, unsigned int gen)
{
	struct smtp_conf	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatal("- smtp conf alloc");
	c->conf = conf;
	c->tls = tls;
	c->refs = 1;
	c->generation = gen;
	return c;
}

void
smtp_conf_init(struct config *conf, struct tls *tls)
{
	smtp_conf_now = smtp_conf_new(conf, tls, 1);
}

const struct config *
smtp_conf_current(void)
{
	return smtp_conf_now->conf;
}

void
smtp_conf_hold(struct smtp_session *s)
{
	s->conf_ref = smtp_conf_now;
	s->conf = smtp_conf_now->conf;
	s->tls = smtp_conf_now->tls;
	smtp_conf_now->refs++;
}

void
smtp_conf_drop(struct smtp_conf *c)
{
	if (c == NULL || --c->refs > 0)
		return;
	log_debug("- smtp conf generation=%u freed", c->generation);
	if (c->tls != NULL)
		tls_free(c->tls);
	config_free(c->conf);
	free(c);
}

/* Forgets a reload half received. */
static void
smtp_conf_rx_reset(struct smtp_conf_rx *rx)
{
	free(rx->text);
	config_free(rx->conf);
	tlsctx_pem_free(rx->pems, rx->npem);
	memset(rx, 0, sizeof(*rx));
	rx->expect = CONF_PART_TEXT;
}

/*
 * Appends a piece to a part, at most max bytes in all.  The old buffer
 * is wiped before it is freed: it may hold a private key.
 */
static int
smtp_conf_append(uint8_t **buf, size_t *len, const uint8_t *p, size_t n,
    size_t max)
{
	uint8_t	*nbuf;

	if (n > max - *len)
		return -1;
	if (n == 0)
		return 0;
	if ((nbuf = malloc(*len + n)) == NULL)
		fatal("- smtp conf alloc");
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
smtp_conf_text_done(struct smtp_conf_rx *rx)
{
	const struct pki	*pki;
	char			 err[1024];

	rx->conf = config_parse("reload", (const char *)rx->text,
	    rx->textlen, err, sizeof(err));
	free(rx->text);
	rx->text = NULL;
	rx->textlen = 0;
	if (rx->conf == NULL) {
		log_warnx("- smtp reload text refused: %s", err);
		return -1;
	}
	TAILQ_FOREACH(pki, &rx->conf->pkis, entry)
		rx->npem++;
	if (rx->npem > 0 &&
	    (rx->pems = calloc(rx->npem, sizeof(*rx->pems))) == NULL)
		fatal("- smtp conf alloc");
	rx->npem = 0;
	TAILQ_FOREACH(pki, &rx->conf->pkis, entry)
		(void)strlcpy(rx->pems[rx->npem++].name, pki->name,
		    sizeof(rx->pems[0].name));
	rx->expect = rx->npem > 0 ? CONF_PART_CERT : 0;
	return 0;
}

/* A piece of the part expected; the next part once it is the last. */
static int
smtp_conf_piece(struct smtp_conf_rx *rx, const uint8_t *p, size_t n,
    int last)
{
	struct tlsctx_pem	*pem = rx->pems != NULL ? &rx->pems[rx->cur] :
	    NULL;

	switch (rx->expect) {
	case CONF_PART_TEXT:
		if (smtp_conf_append(&rx->text, &rx->textlen, p, n,
		    CONFIG_FILE_MAX_BYTES) == -1)
			return -1;
		return last ? smtp_conf_text_done(rx) : 0;
	case CONF_PART_CERT:
		if (smtp_conf_append(&pem->cert, &pem->certlen, p, n,
		    TLS_PEM_FILE_MAX_BYTES) == -1)
			return -1;
		if (last)
			rx->expect = CONF_PART_KEY;
		return 0;
	case CONF_PART_KEY:
		if (smtp_conf_append(&pem->key, &pem->keylen, p, n,
		    TLS_PEM_FILE_MAX_BYTES) == -1)
			return -1;
		if (last)
			rx->expect = ++rx->cur < rx->npem ? CONF_PART_CERT : 0;
		return 0;
	}
	return -1;
}

static int
smtp_conf_data(struct smtp_conf_rx *rx, struct ipc_msg *m)
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
	return smtp_conf_piece(rx, p, n, last);
}

/* Everything came: the new configuration goes in force. */
static int
smtp_conf_commit(struct smtp_conf_rx *rx)
{
	struct smtp_conf	*old = smtp_conf_now;
	struct tls		*tls = NULL;
	char			 err[1024];

	if (rx->expect != 0)
		return -1;
	if (rx->npem > 0 && (tls = tlsctx_server_mem(rx->pems, rx->npem,
	    err, sizeof(err))) == NULL) {
		log_warnx("- smtp reload tls refused: %s", err);
		return -1;
	}
	smtp_conf_now = smtp_conf_new(rx->conf, tls, old->generation + 1);
	rx->conf = NULL;
	smtp_conf_rx_reset(rx);
	smtp_conf_drop(old);
	log_info("- smtp engine reloaded generation=%u tls=%s",
	    smtp_conf_now->generation, tls != NULL ? "yes" : "no");
	return 1;
}

int
smtp_conf_recv(struct ipc_msg *m)
{
	struct smtp_conf_rx	*rx = &smtp_conf_rx;
	int			 r = -1;

	if (m->fd != -1)
		return -1;
	if (m->hdr.type == MSG_PARENT_CONF_DATA)
		r = smtp_conf_data(rx, m);
	else if (m->hdr.type == MSG_PARENT_CONF_COMMIT &&
	    ipc_get_end(m) == 0)
		r = smtp_conf_commit(rx);
	if (r == -1)
		smtp_conf_rx_reset(rx);
	return r;
}
