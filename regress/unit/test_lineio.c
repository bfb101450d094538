/*
 * common/lineio.c over a real socketpair and a real event loop: line
 * splitting, the flags for malformed lines, over-long lines, pausing with
 * pipelined input, output, and the end-of-file and shutdown events.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include <event2/event.h>
#include <tls.h>

#include "lineio.h"

#define MAXLINES	16

struct rec {
	struct event_base	*base;
	struct lineio		*l;
	char			 lines[MAXLINES][64];
	int			 flags[MAXLINES];
	size_t			 lens[MAXLINES];
	int			 n;
	int			 events[8];
	int			 nevents;
	int			 pause_after;	/* pause after this many lines */
};

static void
rec_line(struct lineio *l, const char *line, size_t len, int flags,
    void *arg)
{
	struct rec	*r = arg;

	if (r->n < MAXLINES) {
		memcpy(r->lines[r->n], line, len < 63 ? len : 63);
		r->lines[r->n][len < 63 ? len : 63] = '\0';
		r->lens[r->n] = len;
		r->flags[r->n] = flags;
	}
	r->n++;
	if (r->pause_after && r->n == r->pause_after)
		lineio_pause(l);
}

static void
rec_event(struct lineio *l, int ev, void *arg)
{
	struct rec	*r = arg;

	(void)l;
	if (r->nevents < 8)
		r->events[r->nevents++] = ev;
	event_base_loopbreak(r->base);
}

static int
setup(struct rec *r, size_t maxline)
{
	int	 sv[2];

	memset(r, 0, sizeof(*r));
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	r->base = event_base_new();
	r->l = lineio_new(r->base, sv[0], maxline, rec_line, rec_event, r);
	cr_assert_not_null(r->l);
	return sv[1];
}

static void
run_for(struct rec *r, int msecs)
{
	struct timeval	 tv = { msecs / 1000, (msecs % 1000) * 1000 };

	event_base_loopexit(r->base, &tv);
	event_base_dispatch(r->base);
}

static void
teardown(struct rec *r, int peer)
{
	lineio_free(r->l);
	event_base_free(r->base);
	close(peer);
}

Test(lineio, splits_lines_and_flags_malformed_ones)
{
	struct rec	 r;
	int		 peer = setup(&r, 20);
	const char	 in[] = "HELO a\r\nbare\nnul\0x\r\ncr\rin\r\n";

	cr_assert_eq(write(peer, in, sizeof(in) - 1), (ssize_t)sizeof(in) - 1);
	run_for(&r, 100);
	cr_assert_eq(r.n, 4);
	cr_assert_str_eq(r.lines[0], "HELO a");
	cr_assert_eq(r.flags[0], 0);
	cr_assert_str_eq(r.lines[1], "bare");
	cr_assert_eq(r.flags[1], LINE_F_BARELF);
	cr_assert_eq(r.lens[2], 5);
	cr_assert_eq(r.flags[2], LINE_F_NUL);
	cr_assert_eq(r.flags[3], LINE_F_BARECR);
	teardown(&r, peer);
}

Test(lineio, overlong_line_is_cut_once_and_rest_discarded)
{
	struct rec	 r;
	int		 peer = setup(&r, 8);
	char		 big[5000];

	memset(big, 'x', sizeof(big));
	cr_assert_eq(write(peer, big, sizeof(big)), (ssize_t)sizeof(big));
	cr_assert_eq(write(peer, "\r\nNEXT\r\n", 8), 8);
	run_for(&r, 100);
	cr_assert_eq(r.n, 2);
	cr_assert_eq(r.flags[0], LINE_F_TOOLONG);
	cr_assert_eq(r.lens[0], 8);
	cr_assert_str_eq(r.lines[1], "NEXT");
	cr_assert_eq(r.flags[1], 0);
	teardown(&r, peer);
}

Test(lineio, pause_holds_pipelined_lines_until_resume)
{
	struct rec	 r;
	int		 peer = setup(&r, 64);

	r.pause_after = 1;
	cr_assert_eq(write(peer, "A\r\nB\r\nC\r\n", 9), 9);
	run_for(&r, 100);
	cr_assert_eq(r.n, 1);
	cr_assert_eq(lineio_pending(r.l), 6);
	r.pause_after = 0;
	lineio_resume(r.l);
	run_for(&r, 100);
	cr_assert_eq(r.n, 3);
	cr_assert_str_eq(r.lines[2], "C");
	teardown(&r, peer);
}

Test(lineio, writes_output_and_reports_closed_after_shutdown)
{
	struct rec	 r;
	int		 peer = setup(&r, 64);
	char		 buf[64];
	ssize_t		 n;

	cr_assert_eq(lineio_printf(r.l, "220 %s\r\n", "hello"), 0);
	lineio_shutdown(r.l);
	run_for(&r, 200);
	cr_assert_eq(r.nevents, 1);
	cr_assert_eq(r.events[0], LINEIO_CLOSED);
	n = read(peer, buf, sizeof(buf));
	cr_assert_eq(n, 11);
	cr_assert_eq(memcmp(buf, "220 hello\r\n", 11), 0);
	teardown(&r, peer);
}

Test(lineio, eof_is_reported_after_the_last_line)
{
	struct rec	 r;
	int		 peer = setup(&r, 64);

	cr_assert_eq(write(peer, "QUIT\r\n", 6), 6);
	cr_assert_eq(shutdown(peer, SHUT_WR), 0);
	run_for(&r, 200);
	cr_assert_eq(r.n, 1);
	cr_assert_eq(r.nevents, 1);
	cr_assert_eq(r.events[0], LINEIO_EOF);
	teardown(&r, peer);
}

Test(lineio, starttls_discards_pipelined_plaintext)
{
	struct rec	 r;
	int		 peer = setup(&r, 64);
	struct tls	*ctx = tls_server();

	cr_assert_not_null(ctx);
	r.pause_after = 1;
	cr_assert_eq(write(peer, "STARTTLS\r\nMAIL FROM:<x@y>\r\n", 27), 27);
	run_for(&r, 100);
	cr_assert_eq(r.n, 1);
	cr_assert_gt(lineio_pending(r.l), 0);
	cr_assert_eq(lineio_printf(r.l, "220 go ahead\r\n"), 0);
	cr_assert_eq(lineio_starttls(r.l, ctx), 0);
	/* RFC 3207 4.2: the pipelined command is gone, never executed. */
	cr_assert_eq(lineio_pending(r.l), 0);
	/* Plaintext where a ClientHello belongs fails the handshake. */
	cr_assert_eq(write(peer, "RCPT TO:<z@y>\r\n", 15), 15);
	run_for(&r, 300);
	cr_assert_eq(r.n, 1);
	cr_assert_eq(r.nevents, 1);
	cr_assert_eq(r.events[0], LINEIO_TLS_ERROR);
	teardown(&r, peer);
	tls_free(ctx);
}

/* Raw input (lineio_read_raw) as BDAT uses it: bytes, then lines. */
struct raw_rec {
	struct rec	 r;
	char		 raw[64];
	size_t		 rawlen;
	int		 calls;
	size_t		 last_left;
};

static void
raw_cb(struct lineio *l, const char *data, size_t len, size_t left,
    void *arg)
{
	struct raw_rec	*rr = arg;

	(void)l;
	if (rr->rawlen + len <= sizeof(rr->raw)) {
		memcpy(rr->raw + rr->rawlen, data, len);
		rr->rawlen += len;
	}
	rr->calls++;
	rr->last_left = left;
}

static void
raw_line(struct lineio *l, const char *line, size_t len, int flags,
    void *arg)
{
	struct raw_rec	*rr = arg;

	rec_line(l, line, len, flags, &rr->r);
	/* "BDAT n": the next n bytes are raw. */
	if (len > 5 && strncmp(line, "BDAT ", 5) == 0)
		lineio_read_raw(l, (size_t)atoi(line + 5), raw_cb);
}

static void
raw_event(struct lineio *l, int ev, void *arg)
{
	rec_event(l, ev, &((struct raw_rec *)arg)->r);
}

Test(lineio, read_raw_hands_over_bytes_then_lines_again)
{
	struct raw_rec	 rr;
	int		 sv[2];
	/* Raw bytes hold what lines never may: bare CR, LF, NUL. */
	const char	 in[] = "BDAT 14\r\na\nb\r\0c\r\nXY";

	memset(&rr, 0, sizeof(rr));
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	rr.r.base = event_base_new();
	/* A maximum of 8: raw bytes come in pieces of at most 8. */
	rr.r.l = lineio_new(rr.r.base, sv[0], 8, raw_line, raw_event, &rr);
	cr_assert_not_null(rr.r.l);
	cr_assert_eq(write(sv[1], in, sizeof(in) - 1), (ssize_t)sizeof(in) - 1);
	run_for(&rr.r, 100);
	cr_assert_eq(rr.rawlen, 10);
	cr_assert_eq(memcmp(rr.raw, "a\nb\r\0c\r\nXY", 10), 0);
	cr_assert_eq(rr.calls, 2);
	cr_assert_eq(rr.last_left, 4);
	cr_assert_eq(rr.r.n, 1);
	/* The rest of the 14 bytes arrives later, then lines again. */
	cr_assert_eq(write(sv[1], "Z\r\n.NOOP\r\n", 10), 10);
	run_for(&rr.r, 100);
	cr_assert_eq(rr.rawlen, 14);
	cr_assert_eq(memcmp(rr.raw + 10, "Z\r\n.", 4), 0);
	cr_assert_eq(rr.last_left, 0);
	cr_assert_eq(rr.r.n, 2);
	cr_assert_str_eq(rr.r.lines[0], "BDAT 14");
	cr_assert_str_eq(rr.r.lines[1], "NOOP");
	cr_assert_eq(rr.r.flags[1], 0);
	teardown(&rr.r, sv[1]);
}

/* A configured TLS server, with a keypair openssl(1) makes in tmpdir. */
static char	 tls_dir[] = "/tmp/sallyport-unit-lineio.XXXXXX";

static struct tls *
tls_server_ready(void)
{
	struct tls_config	*tc;
	struct tls		*ctx;
	char			 cmd[512], crt[128], key[128];

	cr_assert_not_null(mkdtemp(tls_dir));
	(void)snprintf(crt, sizeof(crt), "%s/c.pem", tls_dir);
	(void)snprintf(key, sizeof(key), "%s/k.pem", tls_dir);
	(void)snprintf(cmd, sizeof(cmd), "openssl req -x509 -newkey ec "
	    "-pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
	    "-subj /CN=lineio.test -keyout %s -out %s >/dev/null 2>&1",
	    key, crt);
	cr_assert_eq(system(cmd), 0, "openssl req failed");
	cr_assert_not_null(tc = tls_config_new());
	cr_assert_eq(tls_config_set_cert_file(tc, crt), 0);
	cr_assert_eq(tls_config_set_key_file(tc, key), 0);
	cr_assert_not_null(ctx = tls_server());
	cr_assert_eq(tls_configure(ctx, tc), 0, "%s", tls_error(ctx));
	tls_config_free(tc);
	(void)unlink(crt);
	(void)unlink(key);
	(void)rmdir(tls_dir);
	return ctx;
}

/* lineio_shutdown() in a stalled handshake: CLOSED at once. */
static void
shutdown_closes(struct rec *r, int peer, struct tls *ctx)
{
	lineio_shutdown(r->l);
	run_for(r, 2000);
	cr_assert_eq(r->nevents, 1);
	cr_assert_eq(r->events[0], LINEIO_CLOSED);
	teardown(r, peer);
	tls_free(ctx);
}

/*
 * Issue 8: a session closed while its TLS handshake stalls (the client
 * sent nothing) must be told CLOSED, so that it frees its slot and its
 * descriptor; the reply queued for it cannot be sent and is dropped.
 */
Test(lineio, shutdown_during_stalled_handshake_reports_closed)
{
	struct rec	 r;
	int		 peer = setup(&r, 64);
	struct tls	*ctx = tls_server_ready();

	cr_assert_eq(lineio_accept_tls(r.l, ctx), 0);
	run_for(&r, 100);
	cr_assert_eq(r.nevents, 0);
	(void)lineio_printf(r.l, "421 timeout\r\n");
	shutdown_closes(&r, peer, ctx);
}

/* The same after STARTTLS: the 220 is flushed, the handshake stalls. */
Test(lineio, shutdown_during_stalled_starttls_reports_closed)
{
	struct rec	 r;
	int		 peer = setup(&r, 64);
	struct tls	*ctx = tls_server_ready();
	char		 buf[64];

	cr_assert_eq(lineio_printf(r.l, "220 go ahead\r\n"), 0);
	cr_assert_eq(lineio_starttls(r.l, ctx), 0);
	run_for(&r, 100);
	cr_assert_eq(read(peer, buf, sizeof(buf)), 14);
	cr_assert_eq(r.nevents, 0);
	shutdown_closes(&r, peer, ctx);
}

/*
 * A peer that never reads its last reply: the close is reported after
 * the linger time (30 s), not never.
 */
Test(lineio, shutdown_to_a_peer_that_never_reads_ends, .timeout = 120)
{
	struct rec	 r;
	int		 peer = setup(&r, 64);
	static char	 big[1024 * 1024];

	memset(big, 'x', sizeof(big));
	cr_assert_eq(lineio_write(r.l, big, sizeof(big)), 0);
	lineio_shutdown(r.l);
	run_for(&r, 1000);
	cr_assert_eq(r.nevents, 0, "closed before the output was sent");
	run_for(&r, 60 * 1000);
	cr_assert_eq(r.nevents, 1);
	cr_assert_eq(r.events[0], LINEIO_CLOSED);
	teardown(&r, peer);
}
