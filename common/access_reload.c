/*
 * The parent of pop3d or imapd (root, no chroot, no seccomp): the
 * reload on SIGHUP (common/access.h).
 *
 * As smtpd's (smtpd/smtpd_reload.c), through the same transfer
 * (common/confxfer.c): the parent reads the configuration file again
 * and the pki files it names, and checks that a TLS context can be
 * made of them; if any of that fails, one line says why and nothing
 * changes.  Otherwise the login engine gets the configuration and the
 * files (MSG_PARENT_CONF_DATA, MSG_PARENT_CONF_COMMIT), and new
 * sessions use them: the certificate, "auth plaintext-on-loopback",
 * "limit sessions-per-client" and the daemon's own statements.
 * Sessions under way keep the TLS context they began with.  The engine
 * answers MSG_CHILD_CONF_APPLIED, upon which "reloaded" is logged.  The
 * parent publishes the configuration, so that an engine it restarts
 * starts with it.
 *
 * The daemon's listeners (bound once, by root) cannot change: a file
 * that changes them is refused, with a line saying to restart.  The run
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

#include "access.h"
#include "config.h"
#include "confxfer.h"
#include "daemon.h"
#include "ipc.h"
#include "log.h"
#include "tlsctx.h"

#define ACCESS_RELOAD_ERR_BYTES	1024

/* What a reload keeps (and the engine's user, access_reload_keep). */
static const struct confxfer_kept access_kept[] = {
	{ "rundir",	CONFXFER_FIELD(rundir) },
	{ "chroot",	CONFXFER_FIELD(emptydir) },
};

struct access_reload {
	struct config		*conf;
	struct tlsctx_pem	*pems;
	size_t			 npem;
	char			*text;
	size_t			 textlen;
};

static void
access_reload_free(struct access_reload *r)
{
	config_free(r->conf);
	tlsctx_pem_free(r->pems, r->npem);
	free(r->text);
	memset(r, 0, sizeof(*r));
}

/* The next listener of def's, from l (NULL: the first). */
static const struct listener *
access_reload_next(const struct access_daemon *def,
    const struct config *conf, const struct listener *l)
{
	l = l == NULL ? TAILQ_FIRST(&conf->listeners) : TAILQ_NEXT(l, entry);
	while (l != NULL && l->proto != def->listen_plain &&
	    l->proto != def->listen_tls)
		l = TAILQ_NEXT(l, entry);
	return l;
}

/*
 * The engine knows its listeners by their order in the file: the new
 * one must name the same, in the same order.
 */
static int
access_reload_same_listeners(const struct access_daemon *def,
    const struct config *old, const struct config *conf)
{
	const struct listener	*a = NULL, *b = NULL;

	for (;;) {
		a = access_reload_next(def, old, a);
		b = access_reload_next(def, conf, b);
		if (a == NULL || b == NULL)
			return a == b;
		if (a->proto != b->proto || a->port != b->port ||
		    strcmp(a->addr, b->addr) != 0)
			return 0;
	}
}

/* Puts back what a reload cannot change, saying so. */
static void
access_reload_keep(const struct access_daemon *def,
    const struct config *old, struct config *conf)
{
	struct confxfer_kept	 kept[3];
	unsigned int		 changed;
	size_t			 i, n = sizeof(access_kept) /
				    sizeof(access_kept[0]);

	memcpy(kept, access_kept, sizeof(access_kept));
	kept[n].name = "user";
	kept[n].off = def->user_off;
	kept[n].len = CONFIG_USER_MAX;
	n++;
	changed = confxfer_keep(old, conf, kept, n);
	for (i = 0; i < n; i++)
		if (changed & (1U << i))
			log_warnx("- %s reload %s-changed: restart to apply",
			    def->name, kept[i].name);
}

/* Everything the engine will get, checked as at start. */
static int
access_reload_prepare(const struct access_daemon *def, const char *file,
    const struct config *old, struct access_reload *r, char *err,
    size_t errlen)
{
	const struct listener	*l = NULL;
	struct tls		*tls;

	if ((r->conf = config_load(file, err, errlen)) == NULL)
		return -1;
	if (!access_reload_same_listeners(def, old, r->conf)) {
		(void)snprintf(err, errlen, "the %s listeners changed: "
		    "restart %sd to apply", def->name, def->name);
		return -1;
	}
	while ((l = access_reload_next(def, r->conf, l)) != NULL)
		if (l->proto == def->listen_tls &&
		    TAILQ_EMPTY(&r->conf->pkis)) {
			(void)snprintf(err, errlen, "listen %s needs a pki",
			    config_proto_name(l->proto));
			return -1;
		}
	access_reload_keep(def, old, r->conf);
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
access_reload(const struct access_daemon *def, const char *file,
    struct config **confp, struct ipc_conn *engine)
{
	struct access_reload	 r;
	char			 err[ACCESS_RELOAD_ERR_BYTES];
	char			 vis[4 * ACCESS_RELOAD_ERR_BYTES];
	int			 sent = 0;

	memset(&r, 0, sizeof(r));
	err[0] = '\0';
	log_info("- %s reload file=%s", def->name, file);
	if (access_reload_prepare(def, file, *confp, &r, err,
	    sizeof(err)) == -1) {
		log_warnx("- %s reload-failed error=\"%s\" config=kept",
		    def->name, log_vis(vis, sizeof(vis), err, strlen(err)));
		access_reload_free(&r);
		return -1;
	}
	if (engine != NULL && confxfer_send(engine, r.text, r.textlen,
	    r.pems, r.npem) == 0)
		sent = 1;
	config_free(*confp);
	*confp = r.conf;
	r.conf = NULL;
	daemon_conf_publish(*confp);
	access_reload_free(&r);
	if (!sent)
		log_info("- %s reloaded engine=%s", def->name, engine == NULL ?
		    "down" : "unreachable");
	return sent;
}
