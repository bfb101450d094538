/*
 * The login engine (user pop3, chrooted to the empty dir, seccomp
 * SANDBOX_ENGINE): the settings new sessions use, and their
 * replacement on a reload (common/access_reload.c sends it through
 * common/confxfer.c); the TLS contexts are common/access_tls.c's.
 */
#include <sys/types.h>

#include <stdlib.h>

#include "access.h"
#include "config.h"
#include "confxfer.h"
#include "ipc.h"
#include "log.h"
#include "pop3_login.h"

static struct {
	int		 plaintext_loopback;
	uint32_t	 per_client;
} lc;

static struct confxfer_rx	 login_conf_rx = CONFXFER_RX_INIT("pop3");

static void
login_conf_set(const struct config *conf, struct tls *tls)
{
	access_tls_set("pop3", tls);
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
	    access_tls_generation(), tls != NULL ? "yes" : "no");
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

