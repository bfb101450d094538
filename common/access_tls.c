/*
 * The login engine's settings and TLS contexts (pop3d's and imapd's:
 * the engine's user, chrooted to the empty dir, seccomp
 * SANDBOX_ENGINE), and their replacement on a reload
 * (common/access_reload.c sends it through common/confxfer.c).  A session
 * keeps the context it began its handshake with to its end: each
 * context counts its sessions and is freed with the last one, once a
 * newer one (a reload's) is in force.  What a logged-in client's relay
 * (access_proxy.c) goes on using after the session is gone is the
 * connection's own, which libtls keeps alive.
 */
#include <sys/types.h>

#include <stdlib.h>
#include <tls.h>

#include "access.h"
#include "confxfer.h"
#include "ipc.h"
#include "log.h"

struct access_tls {
	struct tls	*tls;
	unsigned int	 refs;		/* sessions, and 1 while current */
	unsigned int	 generation;
};

static struct {
	struct access_tls	*tls;		/* NULL without a pki */
	unsigned int		 generation;
	const char		*name;
	int			 plaintext_loopback;
	uint32_t		 per_client;
} at;

static void	access_tls_set(const char *, struct tls *);

static void
access_tls_set(const char *name, struct tls *tls)
{
	struct access_tls	*old = at.tls;

	at.name = name;
	at.generation++;
	at.tls = NULL;
	if (tls != NULL) {
		if ((at.tls = calloc(1, sizeof(*at.tls))) == NULL)
			fatal("- %s conf alloc", name);
		at.tls->tls = tls;
		at.tls->refs = 1;
		at.tls->generation = at.generation;
	}
	access_tls_drop(old);
}

int
access_tls_offered(void)
{
	return at.tls != NULL;
}

unsigned int
access_tls_generation(void)
{
	return at.generation;
}

struct access_tls *
access_tls_hold(void)
{
	if (at.tls != NULL)
		at.tls->refs++;
	return at.tls;
}

struct tls *
access_tls_ctx(const struct access_tls *t)
{
	return t != NULL ? t->tls : NULL;
}

void
access_tls_drop(struct access_tls *t)
{
	if (t == NULL || --t->refs > 0)
		return;
	log_debug("- %s tls generation=%u freed", at.name, t->generation);
	tls_free(t->tls);
	free(t);
}

void
access_conf_set(const char *name, const struct config *conf,
    struct tls *tls)
{
	access_tls_set(name, tls);
	at.plaintext_loopback = conf->auth_plaintext_loopback;
	at.per_client = conf->max_sessions_per_client;
}

int
access_conf_recv(struct confxfer_rx *rx, struct ipc_msg *m,
    void (*applied)(const struct config *))
{
	struct config	*conf;
	struct tls	*tls;
	int		 r;

	if ((r = confxfer_recv(rx, m, &conf, &tls)) != 1)
		return r;
	if (applied != NULL)
		applied(conf);
	access_conf_set(at.name, conf, tls);
	config_free(conf);
	log_info("- %s engine reloaded generation=%u tls=%s", at.name,
	    at.generation, tls != NULL ? "yes" : "no");
	return 1;
}

int
access_conf_plaintext_loopback(void)
{
	return at.plaintext_loopback;
}

uint32_t
access_conf_per_client(void)
{
	return at.per_client;
}
