/*
 * pop3d parent (root, no chroot, no seccomp): the reload on SIGHUP.
 *
 * As smtpd's (smtpd/smtpd_reload.c), through the same transfer
 * (common/confxfer.c): the parent reads the configuration file again
 * and the pki files it names, and checks that a TLS context can be
 * made of them; if any of that fails, one line says why and nothing
 * changes.  Otherwise the login engine gets the configuration and the
 * files (MSG_PARENT_CONF_DATA, MSG_PARENT_CONF_COMMIT), and new
 * sessions use them: the certificate, "auth plaintext-on-loopback",
 * "limit sessions-per-client" and the pop3 statement.  Sessions under
 * way keep the TLS context they began with.  The engine answers
 * MSG_CHILD_CONF_APPLIED, upon which "reloaded" is logged.  The parent
 * publishes the configuration, so that an engine it restarts starts
 * with it.
 *
 * The pop3 listeners (bound once, by root) cannot change: a file that
 * changes them is refused, with a line saying to restart.  The run
 * directory, the engine's chroot and user are kept as they were, with
 * a line saying so.
 */
#include <sys/types.h>

#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tls.h>

#include "config.h"
#include "confxfer.h"
#include "daemon.h"
#include "ipc.h"
#include "log.h"
#include "pop3d.h"
#include "tlsctx.h"

#define POP3D_RELOAD_ERR_BYTES	1024

/* What a reload keeps. */
static const struct confxfer_kept pop3d_kept[] = {
	{ "rundir",	CONFXFER_FIELD(rundir) },
	{ "chroot",	CONFXFER_FIELD(emptydir) },
	{ "user",	CONFXFER_FIELD(user_pop3) },
};

struct pop3d_reload {
	struct config		*conf;
	struct tlsctx_pem	*pems;
	size_t			 npem;
	char			*text;
	size_t			 textlen;
};

static void
pop3d_reload_free(struct pop3d_reload *r)
{
	config_free(r->conf);
	tlsctx_pem_free(r->pems, r->npem);
	free(r->text);
	memset(r, 0, sizeof(*r));
}

/* The next POP3 listener of a list, from l (NULL: the first). */
static const struct listener *
pop3d_reload_next(const struct config *conf, const struct listener *l)
{
	l = l == NULL ? TAILQ_FIRST(&conf->listeners) : TAILQ_NEXT(l, entry);
	while (l != NULL && l->proto != LISTEN_POP3 &&
	    l->proto != LISTEN_POP3S)
		l = TAILQ_NEXT(l, entry);
	return l;
}

/*
 * The engine knows its listeners by their order in the file: the new
 * one must name the same, in the same order.
 */
static int
pop3d_reload_same_listeners(const struct config *old,
    const struct config *conf)
{
	const struct listener	*a = NULL, *b = NULL;

	for (;;) {
		a = pop3d_reload_next(old, a);
		b = pop3d_reload_next(conf, b);
		if (a == NULL || b == NULL)
			return a == b;
		if (a->proto != b->proto || a->port != b->port ||
		    strcmp(a->addr, b->addr) != 0)
			return 0;
	}
}

/* Puts back what a reload cannot change, saying so. */
static void
pop3d_reload_keep(const struct config *old, struct config *conf)
{
	unsigned int	 changed;
	size_t		 i, n = sizeof(pop3d_kept) / sizeof(pop3d_kept[0]);

	changed = confxfer_keep(old, conf, pop3d_kept, n);
	for (i = 0; i < n; i++)
		if (changed & (1U << i))
			log_warnx("- pop3 reload %s-changed: restart to apply",
			    pop3d_kept[i].name);
}

/* Everything the engine will get, checked as at start. */
static int
pop3d_reload_prepare(const char *file, const struct config *old,
    struct pop3d_reload *r, char *err, size_t errlen)
{
	const struct listener	*l = NULL;
	struct tls		*tls;

	if ((r->conf = config_load(file, err, errlen)) == NULL)
		return -1;
	if (!pop3d_reload_same_listeners(old, r->conf)) {
		(void)snprintf(err, errlen, "the pop3 listeners changed: "
		    "restart pop3d to apply");
		return -1;
	}
	while ((l = pop3d_reload_next(r->conf, l)) != NULL)
		if (l->proto == LISTEN_POP3S && TAILQ_EMPTY(&r->conf->pkis)) {
			(void)snprintf(err, errlen, "listen pop3s needs a pki");
			return -1;
		}
	pop3d_reload_keep(old, r->conf);
	if (tlsctx_pem_load(r->conf, &r->pems, &r->npem, err, errlen) == -1)
		return -1;
	/* The engine makes its own; this one only proves it can be made. */
	if (r->npem > 0) {
		if ((tls = tlsctx_server_mem(r->pems, r->npem, err,
		    errlen)) == NULL)
			return -1;
		tls_free(tls);
	}
	return confxfer_text(r->conf, &r->text, &r->textlen, err, errlen);
}

int
pop3d_reload(const char *file, struct config **confp,
    struct ipc_conn *engine)
{
	struct pop3d_reload	 r;
	char			 err[POP3D_RELOAD_ERR_BYTES];
	char			 vis[4 * POP3D_RELOAD_ERR_BYTES];
	int			 sent = 0;

	memset(&r, 0, sizeof(r));
	err[0] = '\0';
	log_info("- pop3 reload file=%s", file);
	if (pop3d_reload_prepare(file, *confp, &r, err, sizeof(err)) == -1) {
		log_warnx("- pop3 reload-failed error=\"%s\" config=kept",
		    log_vis(vis, sizeof(vis), err, strlen(err)));
		pop3d_reload_free(&r);
		return -1;
	}
	if (engine != NULL && confxfer_send(engine, r.text, r.textlen,
	    r.pems, r.npem) == 0)
		sent = 1;
	config_free(*confp);
	*confp = r.conf;
	r.conf = NULL;
	daemon_conf_publish(*confp);
	pop3d_reload_free(&r);
	if (!sent)
		log_info("- pop3 reloaded engine=%s", engine == NULL ?
		    "down" : "unreachable");
	return sent;
}
