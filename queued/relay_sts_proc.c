/*
 * The role relay-sts (RFC 8461 3.3): the relay's MTA-STS helper, exec'd
 * and supervised by queued's parent.  As root it reads the CA bundle
 * into memory; then it chroots into the empty directory (config
 * "chroot"), becomes user relay (_sallyrelay: it holds nothing the
 * relay does not, and the address space and the filter are what set it
 * apart) and loads SANDBOX_RELAY_STS: TCP out, no files, no resolver.
 *
 * Peers: its parent (ROLE_PARENT: PARENT_PEER_FD with the relay's
 * socket, at every start of either; PARENT_LOG_VERBOSE; anything else
 * is fatal) and the relay (ROLE_RELAY: relay_sts_serve, one fetch at a
 * time).  Blocking: it waits in poll() on both.
 */
#include <sys/types.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <tls.h>
#include <unistd.h>

#include "config.h"
#include "ipc.h"
#include "log.h"
#include "privsep.h"
#include "proto.h"
#include "sandbox.h"
#include "queued.h"
#include "relay.h"
#include "relay_sts_helper.h"
#include "relay_sts_fetch.h"

/* RFC 8461 3.3: the policy is served on HTTPS's port. */
#define RELAY_STS_HTTPS_PORT	443

/* One message from the parent; *relayfd replaced by a new relay. */
static void
sts_parent_msg(int parentfd, int *relayfd)
{
	static uint8_t	 rec[sizeof(struct ipc_hdr) + IPC_PAYLOAD_MAX_BYTES];
	struct ipc_msg	 m;
	uint32_t	 v;

	if (ipc_recv_sync(parentfd, &m, rec, sizeof(rec)) == -1) {
		log_info("- relay-sts parent-closed");
		exit(0);
	}
	switch (m.hdr.type) {
	case MSG_PARENT_PEER_FD:
		if (m.fd == -1 || ipc_get_u32(&m, &v) == -1 ||
		    ipc_get_end(&m) == -1 || v != ROLE_RELAY)
			fatalx("- relay-sts malformed PARENT_PEER_FD");
		if (*relayfd != -1)
			(void)close(*relayfd);
		*relayfd = m.fd;
		if (ipc_hello_sync(*relayfd, ROLE_RELAY_STS,
		    ROLE_BIT(ROLE_RELAY)) == -1) {
			log_warnx("- relay-sts relay-hello-failed");
			(void)close(*relayfd);
			*relayfd = -1;
		}
		break;
	case MSG_PARENT_LOG_VERBOSE:
		if (m.fd != -1 || ipc_get_u32(&m, &v) == -1 ||
		    ipc_get_end(&m) == -1)
			fatalx("- relay-sts malformed PARENT_LOG_VERBOSE");
		log_setverbose(v != 0);
		break;
	default:
		fatalx("- relay-sts unexpected message from parent type=%s",
		    ipc_type_name(m.hdr.type));
	}
}

void
relay_sts_proc_main(int parentfd, const struct config *conf,
    const char *cafile)
{
	struct tls_config	*cfg;
	char			 err[256];
	uid_t			 uid;
	gid_t			 gid;
	int			 relayfd = -1, r;

	if ((cfg = relay_sts_fetch_config(cafile != NULL ? cafile :
	    RELAY_CA_BUNDLE, err, sizeof(err))) == NULL)
		fatalx("- relay-sts ca: %s", err);
	privsep_lookup(conf->user_relay, &uid, &gid);
	privsep_drop(uid, gid, conf->emptydir);
	(void)signal(SIGPIPE, SIG_IGN);
	if (ipc_hello_sync(parentfd, ROLE_RELAY_STS,
	    ROLE_BIT(ROLE_PARENT)) == -1)
		fatalx("- relay-sts parent hello failed");
	sandbox_init(SANDBOX_RELAY_STS);
	log_info("- relay-sts started pid=%ld", (long)getpid());
	for (;;) {
		r = relayfd == -1 ? 1 : relay_sts_serve(relayfd, parentfd,
		    cfg, RELAY_STS_HTTPS_PORT);
		if (r == -1)
			fatalx("- relay-sts unexpected message from the relay");
		if (r == 0) {
			log_info("- relay-sts relay-closed");
			(void)close(relayfd);
			relayfd = -1;
		}
		sts_parent_msg(parentfd, &relayfd);
	}
}
