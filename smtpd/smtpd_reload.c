/*
 * smtpd parent (root, no chroot, no seccomp): the reload on SIGHUP.
 *
 * The parent reads the configuration file again with the parser it
 * started with, and the pki files its pki statements name, and builds
 * the TLS context from them as at start.  If any of that fails, one
 * line says why and nothing changes.  Otherwise the engine gets the
 * configuration and the files (MSG_PARENT_CONF_DATA, proto.h), puts
 * them in force for new sessions (smtp_conf.c) and answers
 * MSG_CHILD_CONF_APPLIED, upon which "reloaded" is logged.  The parent
 * keeps the configuration too, and publishes it (daemon.h), so that an
 * engine it execs later starts with it.
 *
 * What needs a restart is kept as it was, with a line saying so: the
 * listening sockets (bound once, by root, before the engine dropped
 * its privileges), the run directory, the engine's chroot and its
 * user.  The rest of the file, the parts smtpd does not use included,
 * is taken whole.
 */
#include <sys/types.h>

#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tls.h>

#include "confxfer.h"
#include "daemon.h"
#include "ipc.h"
#include "log.h"
#include "proc.h"
#include "proto.h"
#include "smtpd.h"
#include "tlsctx.h"

#define SMTPD_RELOAD_ERR_BYTES	1024

/* What a reload keeps. */
static const struct confxfer_kept smtpd_kept[] = {
	{ "rundir",	CONFXFER_FIELD(rundir) },
	{ "chroot",	CONFXFER_FIELD(emptydir) },
	{ "user",	CONFXFER_FIELD(user_smtp) },
};

/* A reload being prepared. */
struct smtpd_reload {
	struct config		*conf;
	struct tlsctx_pem	*pems;
	size_t			 npem;
	struct tls		*tls;
	char			*text;		/* config_print()'s */
	size_t			 textlen;
	int			 listeners_changed;
	unsigned int		 kept_changed;	/* bit i: smtpd_kept[i] */
};

static void
smtpd_reload_free(struct smtpd_reload *r)
{
	config_free(r->conf);
	tlsctx_pem_free(r->pems, r->npem);
	if (r->tls != NULL)
		tls_free(r->tls);
	free(r->text);
	memset(r, 0, sizeof(*r));
}

static int
smtpd_reload_is_smtp(enum listen_proto proto)
{
	return proto == LISTEN_SMTP || proto == LISTEN_SUBMISSION ||
	    proto == LISTEN_SMTPS;
}

/* 1 when conf names exactly the SMTP listeners smtpd has bound. */
static int
smtpd_reload_same_listeners(const struct smtpd *env,
    const struct config *conf)
{
	const struct listener		*cl;
	const struct smtp_listener	*l;
	size_t				 i, n = 0;

	TAILQ_FOREACH(cl, &conf->listeners, entry) {
		if (!smtpd_reload_is_smtp(cl->proto))
			continue;
		n++;
		for (i = 0; i < env->nlisteners; i++) {
			l = &env->listeners[i];
			if (l->proto == cl->proto && l->port == cl->port &&
			    strcmp(l->addr, cl->addr) == 0)
				break;
		}
		if (i == env->nlisteners)
			return 0;
	}
	/* config_add_listener() refuses duplicates: the counts tell. */
	return n == env->nlisteners;
}

/* Puts back in r->conf what a reload cannot change, noting changes. */
static void
smtpd_reload_keep(const struct smtpd *env, struct smtpd_reload *r)
{
	r->listeners_changed = !smtpd_reload_same_listeners(env, r->conf);
	r->kept_changed = confxfer_keep(env->conf, r->conf, smtpd_kept,
	    sizeof(smtpd_kept) / sizeof(smtpd_kept[0]));
}

/* The bound listeners stay: an smtps one still needs a certificate. */
static int
smtpd_reload_check(const struct smtpd *env, const struct config *conf,
    char *err, size_t errlen)
{
	size_t	 i;

	if (!TAILQ_EMPTY(&conf->pkis))
		return 0;
	for (i = 0; i < env->nlisteners; i++)
		if (env->listeners[i].flags & SMTP_LF_SMTPS) {
			(void)snprintf(err, errlen, "smtps listener %s port "
			    "%u needs a pki statement", env->listeners[i].addr,
			    env->listeners[i].port);
			return -1;
		}
	return 0;
}

/* Everything the engine will get, checked as at start. */
static int
smtpd_reload_prepare(const struct smtpd *env, struct smtpd_reload *r,
    char *err, size_t errlen)
{
	if ((r->conf = config_load(env->conf_file, err, errlen)) == NULL ||
	    smtpd_reload_check(env, r->conf, err, errlen) == -1)
		return -1;
	smtpd_reload_keep(env, r);
	if (tlsctx_pem_load(r->conf, &r->pems, &r->npem, err, errlen) == -1)
		return -1;
	if (r->npem > 0 && (r->tls = tlsctx_server_mem(r->pems, r->npem,
	    err, errlen)) == NULL)
		return -1;
	return confxfer_text(r->conf, &r->text, &r->textlen, err, errlen);
}

static void
smtpd_reload_log_kept(const struct smtpd_reload *r)
{
	size_t	 i;

	if (r->listeners_changed)
		log_warnx("- smtpd reload listeners-changed: restart to apply");
	for (i = 0; i < sizeof(smtpd_kept) / sizeof(smtpd_kept[0]); i++)
		if (r->kept_changed & (1U << i))
			log_warnx("- smtpd reload %s-changed: restart to apply",
			    smtpd_kept[i].name);
	if (r->npem == 0)
		log_warnx("- smtpd no pki statement: STARTTLS and AUTH are "
		    "not offered");
}

/*
 * The new configuration becomes the parent's, for the engines it execs
 * from now on, and goes to the running engine.  One that cannot be
 * told is restarted, which gives it the new one too.
 */
static void
smtpd_reload_apply(struct smtpd *env, struct smtpd_reload *r)
{
	int	 sent = 0;

	smtpd_reload_log_kept(r);
	if (env->engine_conn != NULL) {
		if (confxfer_send(env->engine_conn, r->text, r->textlen,
		    r->pems, r->npem) == 0)
			sent = 1;
		else if (proc_pid(env->engine) > 0) {
			log_warnx("- smtpd reload cannot reach the engine, "
			    "restarting it");
			(void)kill(proc_pid(env->engine), SIGKILL);
			sent = 1;
		}
	}
	config_free(env->conf);
	env->conf = r->conf;
	r->conf = NULL;
	daemon_conf_publish(env->conf);
	if (env->tls != NULL)
		tls_free(env->tls);
	env->tls = r->tls;
	r->tls = NULL;
	if (sent)
		env->reloads_pending++;
	else
		log_info("- smtpd reloaded");
}

void
smtpd_reload(struct smtpd *env)
{
	struct smtpd_reload	 r;
	char			 err[SMTPD_RELOAD_ERR_BYTES];
	char			 vis[4 * SMTPD_RELOAD_ERR_BYTES];

	memset(&r, 0, sizeof(r));
	err[0] = '\0';
	log_info("- smtpd reload file=%s", env->conf_file);
	if (smtpd_reload_prepare(env, &r, err, sizeof(err)) == -1)
		log_warnx("- smtpd reload-failed error=\"%s\" config=kept",
		    log_vis(vis, sizeof(vis), err, strlen(err)));
	else
		smtpd_reload_apply(env, &r);
	smtpd_reload_free(&r);
}

int
smtpd_reload_applied(struct smtpd *env, struct ipc_msg *m)
{
	if (m->fd != -1 || ipc_get_end(m) == -1 || env->reloads_pending == 0)
		return -1;
	env->reloads_pending--;
	log_info("- smtpd reloaded");
	return 0;
}

void
smtpd_reload_engine_started(struct smtpd *env)
{
	if (env->reloads_pending == 0)
		return;
	env->reloads_pending = 0;
	log_info("- smtpd reloaded engine=restarted");
}
