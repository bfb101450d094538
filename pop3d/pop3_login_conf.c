/*
 * The login engine (user pop3, chrooted to the empty dir, seccomp
 * SANDBOX_ENGINE): the settings new sessions use, and their
 * replacement on a reload (pop3d/pop3d_reload.c sends it through
 * common/confxfer.c).  A session keeps the TLS context it began its
 * handshake with to its end: each context counts its sessions and is
 * freed with the last one, once a newer one is in force.  What a
 * logged-in client's relay (pop3_proxy.c) goes on using after the
 * session is gone is the connection's own, which libtls keeps alive.
 */
#include <sys/types.h>

#include <stdlib.h>
#include <tls.h>

#include "config.h"
#include "confxfer.h"
#include "ipc.h"
#include "log.h"
#include "pop3_login.h"

struct login_tls {
	struct tls	*tls;
	unsigned int	 refs;		/* sessions, and 1 while current */
	unsigned int	 generation;
};

static struct {
	struct login_tls	*tls;		/* NULL without a pki */
	unsigned int		 generation;
	int			 plaintext_loopback;
	uint32_t		 per_client;
} lc;

static struct confxfer_rx	 login_conf_rx = CONFXFER_RX_INIT("pop3");

static void
login_conf_set(const struct config *conf, struct tls *tls)
{
	struct login_tls	*old = lc.tls;

	lc.generation++;
	lc.tls = NULL;
	if (tls != NULL) {
		if ((lc.tls = calloc(1, sizeof(*lc.tls))) == NULL)
			fatal("- pop3 conf alloc");
		lc.tls->tls = tls;
		lc.tls->refs = 1;
		lc.tls->generation = lc.generation;
	}
	login_tls_drop(old);
	lc.plaintext_loopback = conf->auth_plaintext_loopback;
	lc.per_client = conf->max_sessions_per_client;
	pop3_capa_policy(conf->pop3_login_delay_secs, conf->pop3_expire_days);
}

void
login_conf_init(const struct config *conf, struct tls *tls)
{
	login_conf_set(conf, tls);
}

int
login_conf_recv(struct ipc_msg *m)
{
	struct config	*conf;
	struct tls	*tls;
	int		 r;

	if ((r = confxfer_recv(&login_conf_rx, m, &conf, &tls)) != 1)
		return r;
	login_conf_set(conf, tls);
	config_free(conf);
	log_info("- pop3 engine reloaded generation=%u tls=%s",
	    lc.generation, tls != NULL ? "yes" : "no");
	return 1;
}

int
login_conf_plaintext_loopback(void)
{
	return lc.plaintext_loopback;
}

uint32_t
login_conf_per_client(void)
{
	return lc.per_client;
}

int
login_tls_offered(void)
{
	return lc.tls != NULL;
}

struct login_tls *
login_tls_hold(void)
{
	if (lc.tls != NULL)
		lc.tls->refs++;
	return lc.tls;
}

struct tls *
login_tls_ctx(const struct login_tls *t)
{
	return t != NULL ? t->tls : NULL;
}

void
login_tls_drop(struct login_tls *t)
{
	if (t == NULL || --t->refs > 0)
		return;
	log_debug("- pop3 tls generation=%u freed", t->generation);
	tls_free(t->tls);
	free(t);
}
