/*
 * Unit tests for what common/daemon_spawn.c passes an exec'd role: the
 * sealed memory files of the configuration and of a role's arguments,
 * and the refusal of anything else in their place.  A blob must be
 * root's, so most of these are skipped when not run as root.
 */
#include <sys/types.h>
#include <sys/mman.h>

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "daemon_int.h"
#include "ipc.h"
#include "proto.h"

static void
need_root(void)
{
	if (geteuid() != 0)
		cr_skip_test("a blob must be root's: run as root");
}

Test(daemon, args_round_trip)
{
	struct ipc_out	 o;
	struct ipc_msg	 m;
	uint8_t		*buf;
	uint32_t	 v;
	char		 s[64];
	int		 fd;

	need_root();
	ipc_out_init(&o, MSG_NONE, 0);
	ipc_put_u32(&o, 4242);
	ipc_put_str(&o, "/var/mail/alice");
	cr_assert_neq(fd = daemon_args_fd(&o), -1);
	buf = daemon_args_read(fd, &m);
	cr_assert_eq(ipc_get_u32(&m, &v), 0);
	cr_assert_eq(v, 4242);
	cr_assert_eq(ipc_get_str(&m, s, sizeof(s)), 0);
	cr_assert_str_eq(s, "/var/mail/alice");
	cr_assert_eq(ipc_get_end(&m), 0);
	free(buf);
	(void)close(fd);
}

/* Sealed: nobody who holds it can change what the next child reads. */
Test(daemon, args_blob_cannot_be_changed)
{
	struct ipc_out	 o;
	int		 fd;

	ipc_out_init(&o, MSG_NONE, 0);
	ipc_put_u32(&o, 1);
	cr_assert_neq(fd = daemon_args_fd(&o), -1);
	cr_assert_eq(write(fd, "x", 1), -1);
	cr_assert_eq(errno, EPERM);
	cr_assert_eq(ftruncate(fd, 0), -1);
	cr_assert_eq(fcntl(fd, F_ADD_SEALS, 0), -1);
	(void)close(fd);
}

Test(daemon, args_too_long_refused)
{
	static struct ipc_out	 o;
	static char		 big[IPC_STRING_MAX_BYTES + 2];

	memset(big, 'a', sizeof(big) - 1);
	ipc_out_init(&o, MSG_NONE, 0);
	ipc_put_str(&o, big);
	cr_assert_eq(daemon_args_fd(&o), -1);
}

/* An unsealed memory file: anyone holding it could have changed it. */
Test(daemon, unsealed_blob_refused, .exit_code = 1)
{
	struct ipc_msg	 m;
	int		 fd;

	cr_assert_neq(fd = memfd_create("t", MFD_CLOEXEC), -1);
	cr_assert_eq(write(fd, "abcd", 4), 4);
	(void)daemon_args_read(fd, &m);
}

Test(daemon, pipe_refused, .exit_code = 1)
{
	struct ipc_msg	 m;
	int		 p[2];

	cr_assert_eq(pipe(p), 0);
	(void)daemon_args_read(p[0], &m);
}

Test(daemon, blob_over_max_refused)
{
	struct ipc_out	 o;
	size_t		 len;
	int		 fd;

	need_root();
	ipc_out_init(&o, MSG_NONE, 0);
	ipc_put_u64(&o, 1);
	cr_assert_neq(fd = daemon_args_fd(&o), -1);
	cr_assert_null(daemon_blob_read(fd, 7, &len));
	free(daemon_blob_read(fd, 8, &len));
	cr_assert_eq(len, 8);
	(void)close(fd);
}

/* What a role parses is what its parent would print. */
Test(daemon, conf_published_as_printed)
{
	static const char	 text[] = "hostname \"mail.example.test\"\n"
	    "domain \"example.test\"\nlisten smtp on 127.0.0.1 port 2525\n";
	struct config		*conf, *again;
	char			 err[256], *blob, *want = NULL;
	size_t			 len, wantlen = 0;
	FILE			*fp;

	need_root();
	conf = config_parse("t", text, strlen(text), err, sizeof(err));
	cr_assert_not_null(conf, "%s", err);
	daemon_conf_publish(conf);
	blob = daemon_blob_read(daemon_conf_fd(), CONFIG_FILE_MAX_BYTES, &len);
	cr_assert_not_null(blob);
	cr_assert_not_null(fp = open_memstream(&want, &wantlen));
	config_print(fp, conf);
	cr_assert_eq(fclose(fp), 0);
	cr_assert_eq(len, wantlen);
	cr_assert_eq(memcmp(blob, want, len), 0);
	again = config_parse("parent", blob, len, err, sizeof(err));
	cr_assert_not_null(again, "%s", err);
	cr_assert_str_eq(again->hostname, "mail.example.test");
	config_free(again);
	config_free(conf);
	free(blob);
	free(want);
}
