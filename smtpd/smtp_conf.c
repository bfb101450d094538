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
#include "confxfer.h"
#include "ipc.h"
#include "log.h"
#include "proto.h"
#include "smtpd.h"
#include "tlsctx.h"

static struct smtp_conf		*smtp_conf_now;
static struct confxfer_rx	 smtp_conf_rx = CONFXFER_RX_INIT("smtp");

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

/* The new configuration goes in force for new sessions. */
static void
smtp_conf_commit(struct config *conf, struct tls *tls)
{
	struct smtp_conf	*old = smtp_conf_now;

	smtp_conf_now = smtp_conf_new(conf, tls, old->generation + 1);
	smtp_conf_drop(old);
	log_info("- smtp engine reloaded generation=%u tls=%s",
	    smtp_conf_now->generation, tls != NULL ? "yes" : "no");
}

int
smtp_conf_recv(struct ipc_msg *m)
{
	struct config	*conf;
	struct tls	*tls;
	int		 r;

	if ((r = confxfer_recv(&smtp_conf_rx, m, &conf, &tls)) == 1)
		smtp_conf_commit(conf, tls);
	return r;
}
