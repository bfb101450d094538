/*
 * The login engine (user pop3, chrooted to the empty dir, seccomp
 * SANDBOX_ENGINE): the settings new sessions use and their replacement
 * on a reload are common/access_tls.c's; here, the POP3 statement's
 * part of them (CAPA's LOGIN-DELAY and EXPIRE lines).
 */
#include <sys/types.h>

#include "access.h"
#include "config.h"
#include "confxfer.h"
#include "pop3_login.h"

static struct confxfer_rx	 login_conf_rx = CONFXFER_RX_INIT("pop3");

static void
login_conf_policy(const struct config *conf)
{
	pop3_capa_policy(conf->pop3_login_delay_secs, conf->pop3_expire_days);
}

void
login_conf_init(const struct config *conf, struct tls *tls)
{
	access_conf_set("pop3", conf, tls);
	login_conf_policy(conf);
}

int
login_conf_recv(struct ipc_msg *m)
{
	return access_conf_recv(&login_conf_rx, m, login_conf_policy);
}
