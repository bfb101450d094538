/*
 * smtpd parent (root, no chroot, no seccomp): local submission's
 * socket, <rundir>/submit.sock, mode 0666, a stream socket any local
 * user may reach (sallyctl's sendmail front end connects to it).
 *
 * The parent accepts each connection, learns the caller's uid from
 * the kernel (SO_PEERCRED), never from the caller, looks its login
 * name up (getpwuid: the engine's chroot has no passwd database) and
 * passes the connection with both to the engine
 * (MSG_PARENT_LOCAL_CLIENT), which runs an SMTP session for it marked
 * local (smtpd/smtp_local.c).  The parent reads no byte from the
 * connection.  Why here and not in authd: doc/INTERNALS.md, "Local
 * submission".
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>
#include <event2/event.h>

#include "config.h"
#include "ipc.h"
#include "log.h"
#include "proto.h"
#include "smtpd.h"

/* Connections handed over and not yet sent past this are refused. */
#define SMTPD_LOCAL_PENDING_MAX	(4 * SMTP_ACCEPT_BATCH)

/* Hands one connection to the engine; closes it when there is none. */
static void
smtpd_local_pass(struct smtpd *env, int fd)
{
	struct ipc_out	 o;
	struct passwd	*pw;
	uid_t		 uid;
	gid_t		 gid;
	pid_t		 pid;
	const char	*login = "";

	if (ipc_peercred(fd, &uid, &gid, &pid) == -1) {
		log_warn("- smtpd local peercred");
		(void)close(fd);
		return;
	}
	if (env->engine_conn == NULL ||
	    ipc_conn_pending(env->engine_conn) > SMTPD_LOCAL_PENDING_MAX) {
		log_warnx("- smtpd local refused uid=%lu reason=%s",
		    (unsigned long)uid, env->engine_conn == NULL ?
		    "no-engine" : "engine-busy");
		(void)close(fd);
		return;
	}
	if ((pw = getpwuid(uid)) != NULL &&
	    strlen(pw->pw_name) < SENDMAIL_LOGIN_MAX_BYTES)
		login = pw->pw_name;
	ipc_out_init(&o, MSG_PARENT_LOCAL_CLIENT, 0);
	ipc_put_u32(&o, (uint32_t)uid);
	ipc_put_str(&o, login);
	if (ipc_conn_send(env->engine_conn, &o, fd) == -1)
		log_warnx("- smtpd local pass failed uid=%lu",
		    (unsigned long)uid);
}

static void
smtpd_local_acceptcb(evutil_socket_t lfd, short ev, void *arg)
{
	struct smtpd	*env = arg;
	int		 fd, i;

	(void)ev;
	for (i = 0; i < SMTP_ACCEPT_BATCH; i++) {
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED)
				log_warn("- smtpd local accept");
			return;
		}
		smtpd_local_pass(env, fd);
	}
}

void
smtpd_local_listen(struct smtpd *env)
{
	config_runpath(env->conf, SUBMIT_SOCKET, env->local_path,
	    sizeof(env->local_path));
	env->local_fd = ipc_listen_type(env->local_path, 0666, SOCK_STREAM);
	if (env->local_fd == -1 ||
	    evutil_make_socket_nonblocking(env->local_fd) == -1)
		fatal("- smtpd local socket %s", env->local_path);
	log_info("- smtpd listening on %s proto=local", env->local_path);
}

void
smtpd_local_start(struct smtpd *env)
{
	env->local_ev = event_new(env->base, env->local_fd,
	    EV_READ | EV_PERSIST, smtpd_local_acceptcb, env);
	if (env->local_ev == NULL || event_add(env->local_ev, NULL) == -1)
		fatalx("- smtpd local socket event");
}

void
smtpd_local_close(struct smtpd *env)
{
	if (env->local_path[0] != '\0')
		(void)unlink(env->local_path);
}
