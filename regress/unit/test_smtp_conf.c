/*
 * smtpd's reload as the engine receives it (smtpd/smtp_conf.c): the
 * pieces of MSG_PARENT_CONF_DATA in order, the commit, a session that
 * keeps the configuration it started with, and every way a malformed
 * or out-of-order reload is refused.  Also the helpers it rides on:
 * ipc_put_bytes/ipc_get_bytes and tlsctx_pem_load/tlsctx_server_mem,
 * with a key and certificate made by openssl(1) in a temporary
 * directory.  Each test runs in its own process (Criterion), so the
 * engine's state starts fresh.
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <tls.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "config.h"
#include "ipc.h"
#include "proto.h"
#include "tlsctx.h"
#include "../../smtpd/smtpd.h"

#define REC_MAX		(sizeof(struct ipc_hdr) + IPC_PAYLOAD_MAX_BYTES)
#define CONF_START	"hostname \"mail.example.test\"\nlimit recipients 7\n"
#define CONF_NEW	"hostname \"new.example.test\"\nlimit recipients 3\n"

static struct ipc_out	 out;
static uint8_t		 rec[REC_MAX];

/* A record of o as the transport would deliver it, parsed into m. */
static void
deliver(struct ipc_out *o, struct ipc_msg *m)
{
	memcpy(rec, &o->hdr, sizeof(o->hdr));
	memcpy(rec + sizeof(o->hdr), o->buf, o->hdr.len);
	cr_assert_eq(ipc_parse(m, rec, sizeof(o->hdr) + o->hdr.len), 0);
}

static int
piece(uint32_t part, uint32_t last, const void *p, size_t len)
{
	struct ipc_msg	 m;

	ipc_out_init(&out, MSG_PARENT_CONF_DATA, 0);
	ipc_put_u32(&out, part);
	ipc_put_u32(&out, last);
	ipc_put_bytes(&out, p, len);
	cr_assert_eq(ipc_out_error(&out), 0);
	deliver(&out, &m);
	return smtp_conf_recv(&m);
}

static int
text(const char *s)
{
	return piece(CONF_PART_TEXT, 1, s, strlen(s));
}

static int
commit(void)
{
	struct ipc_msg	 m;

	ipc_out_init(&out, MSG_PARENT_CONF_COMMIT, 0);
	deliver(&out, &m);
	return smtp_conf_recv(&m);
}

static void
start(void)
{
	struct config	*conf;
	char		 err[256];

	conf = config_parse("start", CONF_START, strlen(CONF_START), err,
	    sizeof(err));
	cr_assert_not_null(conf, "%s", err);
	smtp_conf_init(conf, NULL);
}

Test(ipc, bytes)
{
	struct ipc_msg	 m;
	const uint8_t	*p;
	uint8_t		 data[3] = { 0, 'x', 0xff };
	size_t		 len;

	ipc_out_init(&out, MSG_PARENT_CONF_DATA, 0);
	ipc_put_bytes(&out, data, sizeof(data));
	ipc_put_bytes(&out, data, 0);
	cr_assert_eq(out.hdr.len, 4 + 3 + 4);
	deliver(&out, &m);
	/* Past max: refused, nothing consumed. */
	cr_assert_eq(ipc_get_bytes(&m, &p, &len, 2), -1);
	cr_assert_eq(m.off, 0);
	cr_assert_eq(ipc_get_bytes(&m, &p, &len, 3), 0);
	cr_assert_eq(len, 3);
	cr_assert_arr_eq(p, data, 3);
	cr_assert_eq(ipc_get_bytes(&m, &p, &len, 3), 0);
	cr_assert_eq(len, 0);
	cr_assert_eq(ipc_get_end(&m), 0);
	cr_assert_eq(ipc_get_bytes(&m, &p, &len, 3), -1);
	/* A length past the payload. */
	ipc_out_init(&out, MSG_PARENT_CONF_DATA, 0);
	ipc_put_u32(&out, 5);
	ipc_put_data(&out, data, 3);
	deliver(&out, &m);
	cr_assert_eq(ipc_get_bytes(&m, &p, &len, 100), -1);
	cr_assert_eq(m.off, 0);
}

Test(smtp_conf, reload_for_new_sessions)
{
	struct smtp_session	 old, new;
	const char		*t = CONF_NEW;

	start();
	memset(&old, 0, sizeof(old));
	smtp_conf_hold(&old);
	cr_assert_eq(old.conf->max_rcpts, 7);
	/* Three pieces, the last one empty. */
	cr_assert_eq(piece(CONF_PART_TEXT, 0, t, 10), 0);
	cr_assert_eq(piece(CONF_PART_TEXT, 0, t + 10, strlen(t) - 10), 0);
	cr_assert_eq(smtp_conf_current()->max_rcpts, 7);
	cr_assert_eq(piece(CONF_PART_TEXT, 1, "", 0), 0);
	cr_assert_eq(commit(), 1);
	cr_assert_eq(smtp_conf_current()->max_rcpts, 3);
	memset(&new, 0, sizeof(new));
	smtp_conf_hold(&new);
	cr_assert_str_eq(new.conf->hostname, "new.example.test");
	cr_assert_eq(new.conf_ref->generation, 2);
	cr_assert_null(new.tls);
	/* The session from before keeps its own. */
	cr_assert_eq(old.conf->max_rcpts, 7);
	cr_assert_str_eq(old.conf->hostname, "mail.example.test");
	cr_assert_eq(old.conf_ref->refs, 1);
	smtp_conf_drop(old.conf_ref);
	smtp_conf_drop(new.conf_ref);
	cr_assert_eq(smtp_conf_current()->max_rcpts, 3);
	/* And again: reloads follow one another. */
	cr_assert_eq(text(CONF_START), 0);
	cr_assert_eq(commit(), 1);
	cr_assert_eq(smtp_conf_current()->max_rcpts, 7);
}

/* One way to get a reload wrong; each must be refused. */
enum bad_step {
	BAD_COMMIT_FIRST,	/* COMMIT with nothing received */
	BAD_CERT_FIRST,		/* a CERT piece before the text */
	BAD_LAST_VALUE,		/* last neither 0 nor 1 */
	BAD_TRAILING,		/* bytes after the piece */
	BAD_FD,			/* a descriptor with the message */
	BAD_TEXT,		/* text that does not parse */
	BAD_RANGE,		/* text with a value out of range */
	BAD_TEXT_TWICE,		/* a second text after the first */
	BAD_NO_CERT,		/* a pki, COMMIT without its files */
	BAD_KEY_FIRST,		/* a pki, KEY before CERT */
	BAD_COMMIT_PAYLOAD,	/* a COMMIT that is not empty */
	BAD_PART,		/* an unknown part */
};

ParameterizedTestParameters(smtp_conf, refused)
{
	static enum bad_step steps[] = {
		BAD_COMMIT_FIRST, BAD_CERT_FIRST, BAD_LAST_VALUE, BAD_TRAILING,
		BAD_FD, BAD_TEXT, BAD_RANGE, BAD_TEXT_TWICE, BAD_NO_CERT,
		BAD_KEY_FIRST, BAD_COMMIT_PAYLOAD, BAD_PART,
	};

	return cr_make_param_array(enum bad_step, steps,
	    sizeof(steps) / sizeof(steps[0]));
}

/* A message whose framing is wrong: extra bytes, or a descriptor. */
static int
bad_framing(enum bad_step step)
{
	struct ipc_msg	 m;

	ipc_out_init(&out, step == BAD_COMMIT_PAYLOAD ?
	    MSG_PARENT_CONF_COMMIT : MSG_PARENT_CONF_DATA, 0);
	if (step != BAD_COMMIT_PAYLOAD) {
		ipc_put_u32(&out, CONF_PART_TEXT);
		ipc_put_u32(&out, 0);
		ipc_put_bytes(&out, "x", 1);
	}
	if (step != BAD_FD)
		ipc_put_u32(&out, 0);
	deliver(&out, &m);
	if (step == BAD_FD)
		m.fd = STDIN_FILENO;
	return smtp_conf_recv(&m);
}

static int
bad(enum bad_step step)
{
	const char	*pki = CONF_NEW
	    "pki \"a.test\" cert \"/c\" key \"/k\"\n";

	switch (step) {
	case BAD_COMMIT_FIRST:
		return commit();
	case BAD_CERT_FIRST:
		return piece(CONF_PART_CERT, 1, "x", 1);
	case BAD_LAST_VALUE:
		return piece(CONF_PART_TEXT, 2, CONF_NEW, strlen(CONF_NEW));
	case BAD_TRAILING:
	case BAD_FD:
	case BAD_COMMIT_PAYLOAD:
		return bad_framing(step);
	case BAD_TEXT:
		return text("limit recipients\n");
	case BAD_RANGE:
		return text("limit line-length 10\n");
	case BAD_TEXT_TWICE:
		cr_assert_eq(text(CONF_NEW), 0);
		return text(CONF_NEW);
	case BAD_NO_CERT:
		cr_assert_eq(text(pki), 0);
		return commit();
	case BAD_KEY_FIRST:
		cr_assert_eq(text(pki), 0);
		return piece(CONF_PART_KEY, 1, "k", 1);
	case BAD_PART:
		return piece(CONF_PART_KEY + 1, 1, "k", 1);
	}
	return 0;
}

ParameterizedTest(enum bad_step *step, smtp_conf, refused)
{
	start();
	cr_assert_eq(bad(*step), -1, "step %d", *step);
	cr_assert_eq(smtp_conf_current()->max_rcpts, 7);
	/* The half-received reload is forgotten: a good one works. */
	cr_assert_eq(text(CONF_NEW), 0);
	cr_assert_eq(commit(), 1);
	cr_assert_eq(smtp_conf_current()->max_rcpts, 3);
}

Test(smtp_conf, text_too_long)
{
	static char	 big[IPC_PAYLOAD_MAX_BYTES / 2];
	size_t		 sent = 0;
	int		 r = 0;

	start();
	memset(big, '#', sizeof(big));
	while (r == 0 && sent <= CONFIG_FILE_MAX_BYTES) {
		r = piece(CONF_PART_TEXT, 0, big, sizeof(big));
		sent += sizeof(big);
	}
	cr_assert_eq(r, -1);
	cr_assert_gt(sent, CONFIG_FILE_MAX_BYTES);
}

/* A directory with openssl-made keypairs a (twice: a2) and b. */
static char	 tmpdir[] = "/tmp/sallyport-unit-tls.XXXXXX";

static void
make_keypair(const char *name, const char *cn)
{
	char	 cmd[1024];

	(void)snprintf(cmd, sizeof(cmd), "openssl req -x509 -newkey ec "
	    "-pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
	    "-subj /CN=%s -keyout %s/%s.key -out %s/%s.crt >/dev/null 2>&1",
	    cn, tmpdir, name, tmpdir, name);
	cr_assert_eq(system(cmd), 0, "openssl req failed");
}

static void
tls_setup(void)
{
	cr_assert_not_null(mkdtemp(tmpdir));
	make_keypair("a", "a.example.test");
	make_keypair("b", "b.example.test");
}

static void
tls_teardown(void)
{
	char	 cmd[256];

	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	cr_expect_eq(system(cmd), 0, "%s", cmd);
}

/* The configuration text naming keypairs cert/key from tmpdir. */
static struct config *
tls_conf(char *buf, size_t len, const char *cert, const char *key)
{
	struct config	*conf;
	char		 err[256];

	(void)snprintf(buf, len, CONF_NEW "pki \"a.example.test\" cert "
	    "\"%s/%s.crt\" key \"%s/%s.key\"\n", tmpdir, cert, tmpdir, key);
	conf = config_parse("tls", buf, strlen(buf), err, sizeof(err));
	cr_assert_not_null(conf, "%s", err);
	return conf;
}

Test(smtp_conf, reload_with_tls, .init = tls_setup, .fini = tls_teardown)
{
	struct tlsctx_pem	*pems;
	struct config		*conf;
	struct smtp_session	 s;
	char			 buf[2048], err[512];
	size_t			 npem;

	start();
	conf = tls_conf(buf, sizeof(buf), "a", "a");
	cr_assert_eq(tlsctx_pem_load(conf, &pems, &npem, err, sizeof(err)),
	    0, "%s", err);
	cr_assert_eq(npem, 1);
	cr_assert_eq(text(buf), 0);
	cr_assert_eq(piece(CONF_PART_CERT, 1, pems[0].cert, pems[0].certlen),
	    0);
	cr_assert_eq(piece(CONF_PART_KEY, 0, pems[0].key, 10), 0);
	cr_assert_eq(piece(CONF_PART_KEY, 1, pems[0].key + 10,
	    pems[0].keylen - 10), 0);
	/* Nothing more may come but the COMMIT. */
	cr_assert_eq(commit(), 1);
	memset(&s, 0, sizeof(s));
	smtp_conf_hold(&s);
	cr_assert_not_null(s.tls);
	smtp_conf_drop(s.conf_ref);
	tlsctx_pem_free(pems, npem);
	config_free(conf);
}

Test(smtp_conf, mismatched_key, .init = tls_setup, .fini = tls_teardown)
{
	struct tlsctx_pem	*pems;
	struct config		*conf;
	char			 buf[2048], err[512];
	size_t			 npem;

	start();
	conf = tls_conf(buf, sizeof(buf), "a", "b");
	cr_assert_eq(tlsctx_pem_load(conf, &pems, &npem, err, sizeof(err)),
	    0, "%s", err);
	/* The parent finds out first... */
	cr_assert_null(tlsctx_server_mem(pems, npem, err, sizeof(err)));
	cr_assert(strstr(err, "tls_configure") != NULL, "%s", err);
	/* ...and an engine sent it anyway refuses it at the commit. */
	cr_assert_eq(text(buf), 0);
	cr_assert_eq(piece(CONF_PART_CERT, 1, pems[0].cert, pems[0].certlen),
	    0);
	cr_assert_eq(piece(CONF_PART_KEY, 1, pems[0].key, pems[0].keylen), 0);
	cr_assert_eq(commit(), -1);
	cr_assert_eq(smtp_conf_current()->max_rcpts, 7);
	tlsctx_pem_free(pems, npem);
	config_free(conf);
}

Test(smtp_conf, pem_load_errors, .init = tls_setup, .fini = tls_teardown)
{
	struct tlsctx_pem	*pems;
	struct config		*conf;
	char			 buf[2048], err[512];
	size_t			 npem;

	conf = tls_conf(buf, sizeof(buf), "a", "missing");
	cr_assert_eq(tlsctx_pem_load(conf, &pems, &npem, err, sizeof(err)),
	    -1);
	cr_assert_null(pems);
	cr_assert_eq(npem, 0);
	cr_assert(strstr(err, "missing.key") != NULL, "%s", err);
	config_free(conf);
	/* A directory is not a key file. */
	(void)snprintf(buf, sizeof(buf), "pki \"x.test\" cert \"%s/a.crt\" "
	    "key \"%s\"\n", tmpdir, tmpdir);
	cr_assert_not_null(conf = config_parse("tls", buf, strlen(buf), err,
	    sizeof(err)), "%s", err);
	cr_assert_eq(tlsctx_pem_load(conf, &pems, &npem, err, sizeof(err)),
	    -1);
	cr_assert(strstr(err, "not a file") != NULL, "%s", err);
	config_free(conf);
	/* No pki at all: nothing, and no error. */
	cr_assert_not_null(conf = config_parse("tls", CONF_NEW,
	    strlen(CONF_NEW), err, sizeof(err)));
	cr_assert_eq(tlsctx_pem_load(conf, &pems, &npem, err, sizeof(err)),
	    0);
	cr_assert_null(pems);
	cr_assert_eq(npem, 0);
	config_free(conf);
}
