/*
 * show envelope and show message (sallyctl, root, no chroot), answered
 * by the queue manager over control.sock, which takes root alone.
 * show envelope prints the keys of each envelope file as queued wrote
 * them; show message copies the message file, whose descriptor the
 * manager passes, to stdout.
 */
#include <sys/types.h>

#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ipc.h"
#include "proto.h"
#include "sallyctl.h"

/* Room for a value after strnvis(3). */
#define CTL_SHOW_VIS_MAX_BYTES	(IPC_STRING_MAX_BYTES * 4 + 1)
/* The message is copied in pieces this large. */
#define CTL_SHOW_COPY_BYTES	65536

static int
ctl_envinfo_json(const struct ctl_envinfo *e)
{
	static struct ctl_json	 j;
	uint32_t		 i;

	ctl_json_begin(&j);
	ctl_json_str(&j, "evpid", e->evpid);
	ctl_json_str(&j, "state", e->state);
	for (i = 0; i < e->n; i++)
		if (strcmp(e->fields[i].key, "evpid") != 0)
			ctl_json_str(&j, e->fields[i].key,
			    e->fields[i].value);
	return ctl_json_print(&j);
}

static int
ctl_print_envinfo(struct ipc_msg *m, void *arg)
{
	static struct ctl_envinfo e;
	static char		 vis[CTL_SHOW_VIS_MAX_BYTES];
	const struct ctl_args	*a = arg;
	static int		 shown;
	char			 key[CTL_KEY_MAX_BYTES + 2];
	uint32_t		 i;

	if (ctl_reply_envinfo(m, &e) == -1)
		return -1;
	if (a->json)
		return ctl_envinfo_json(&e);
	if (shown++ > 0)
		printf("\n");
	printf("%-16s %s\n%-16s %s\n", "evpid:", e.evpid, "state:", e.state);
	for (i = 0; i < e.n; i++) {
		if (strcmp(e.fields[i].key, "evpid") == 0)
			continue;
		(void)snprintf(key, sizeof(key), "%s:", e.fields[i].key);
		printf("%-16s %s\n", key,
		    ctl_vis(vis, sizeof(vis), e.fields[i].value, ""));
	}
	return 0;
}

int
ctl_show_envelope(struct ctl_env *env, const struct ctl_args *a)
{
	ipc_put_str(ctl_queue_request(MSG_CTL_ENVELOPE), a->arg);
	return ctl_queue_stream(env, NULL, MSG_CTL_ENVELOPE_INFO,
	    ctl_print_envinfo, (void *)(uintptr_t)a);
}

/* Copies fd to stdout.  0, or 1 after a message. */
static int
ctl_copy_out(int fd)
{
	static char	 buf[CTL_SHOW_COPY_BYTES];
	ssize_t		 n;

	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			warn("reading the message");
			return 1;
		}
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n) {
			warn("stdout");
			return 1;
		}
	}
	if (fflush(stdout) == EOF) {
		warn("stdout");
		return 1;
	}
	return 0;
}

int
ctl_show_message(struct ctl_env *env, const struct ctl_args *a)
{
	static struct ctl_result r;
	static char		 vis[CTL_SHOW_VIS_MAX_BYTES];
	struct ipc_out		*req = ctl_queue_request(MSG_CTL_MESSAGE);
	struct ipc_msg		 m;
	int			 fd, status = 1;

	ipc_put_str(req, a->arg);
	if ((fd = ctl_queue_connect(env)) == -1)
		return 1;
	if (ipc_send_sync(fd, req, -1) == -1)
		warn("sending to queued");
	else if (ctl_queue_recv(fd, &m) == 0) {
		if (m.hdr.type == MSG_CTL_MESSAGE_FD && m.fd != -1 &&
		    ipc_get_end(&m) == 0)
			status = ctl_copy_out(m.fd);
		else if (ctl_reply_result(&m, &r) == 0 &&
		    r.result != RESULT_OK)
			warnx("%s: %s", a->arg,
			    ctl_vis(vis, sizeof(vis), r.message, "failed"));
		else
			warnx("malformed or unexpected reply from queued: %s",
			    ipc_type_name(m.hdr.type));
		ipc_msg_clear(&m);
	}
	(void)close(fd);
	return status;
}
