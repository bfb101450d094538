/*
 * queued/relay_smtp_qp.c, relay_smtp_mime.c: the quoted-printable
 * encoder (round trip through a decoder written here, line lengths,
 * white space before line ends, whatever the pieces it is fed in) and
 * the MIME walker that converts an 8-bit message for a server without
 * 8BITMIME (what it adds, what it leaves, what it refuses).
 */
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>

#include "../../queued/relay_smtp_qp.h"

#define QP_TEST_MAX	(64 * 1024)

struct buf {
	size_t	 len;
	char	 b[8 * QP_TEST_MAX];
};

static int
buf_sink(void *arg, const char *s, size_t n)
{
	struct buf	*b = arg;

	cr_assert_leq(b->len + n, sizeof(b->b));
	memcpy(b->b + b->len, s, n);
	b->len += n;
	return 0;
}

static int
hexval(char c)
{
	const char	*h = "0123456789ABCDEF", *p = strchr(h, c);

	cr_assert(c != '\0' && p != NULL, "bad hex digit %c", c);
	return (int)(p - h);
}

/* RFC 2045 6.7 decoding, strict: what the encoder must produce. */
static size_t
qp_decode(const char *in, size_t len, char *out)
{
	size_t	 i, n = 0, col = 0;

	for (i = 0; i < len; i++) {
		cr_assert((unsigned char)in[i] < 0x7f);
		if (in[i] == '\n') {
			cr_assert(i == 0 || (in[i - 1] != ' ' &&
			    in[i - 1] != '\t'), "white space before a line end");
			cr_assert_leq(col, RELAY_QP_LINE_MAX_BYTES);
			out[n++] = '\n';
			col = 0;
			continue;
		}
		col++;
		if (in[i] != '=') {
			out[n++] = in[i];
			continue;
		}
		cr_assert(i + 1 < len);
		if (in[i + 1] == '\n') {	/* soft line break */
			cr_assert_leq(col, RELAY_QP_LINE_MAX_BYTES);
			col = 0;
			i++;
			continue;
		}
		cr_assert(i + 2 < len);
		out[n++] = (char)(hexval(in[i + 1]) << 4 | hexval(in[i + 2]));
		i += 2;
		col += 2;
	}
	cr_assert_leq(col, RELAY_QP_LINE_MAX_BYTES);
	return n;
}

/* Encodes in, split in pieces of at most step bytes (and at LFs). */
static size_t
qp_encode_all(const char *in, size_t len, size_t step, char *out)
{
	struct relay_qp	 q = { 0, 0 };
	size_t		 i = 0, k, o = 0;
	const char	*nl;

	while (i < len) {
		nl = memchr(in + i, '\n', len - i);
		k = nl != NULL ? (size_t)(nl - in - i) : len - i;
		if (k > step) {
			o += relay_qp_encode(&q, in + i, step, 0, out + o);
			i += step;
			continue;
		}
		o += relay_qp_encode(&q, in + i, k, nl != NULL, out + o);
		i += k + (nl != NULL);
	}
	return o + relay_qp_finish(&q, out + o);
}

Test(relay_qp, known)
{
	static const struct {
		const char	*in, *out;
	} cases[] = {
		{ "a=b\n", "a=3Db\n" },
		{ "x \n", "x=20\n" },
		{ "x\t\n", "x=09\n" },
		{ "x  y\n", "x  y\n" },
		{ ".\n", ".\n" },
		{ "caf\xc3\xa9\n", "caf=C3=A9\n" },
		{ "tail ", "tail=20" },
		{ "\n\n", "\n\n" },
	};
	char	 out[256];
	size_t	 i, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = qp_encode_all(cases[i].in, strlen(cases[i].in), 1000, out);
		out[n] = '\0';
		cr_assert_str_eq(out, cases[i].out, "case %zu", i);
	}
}

Test(relay_qp, soft_breaks)
{
	char	 in[300], out[RELAY_QP_OUT_MAX(300)];
	size_t	 n;

	memset(in, 'a', sizeof(in));
	n = qp_encode_all(in, sizeof(in), 1000, out);
	out[n] = '\0';
	cr_assert_eq(strchr(out, '=') - out, RELAY_QP_LINE_MAX_BYTES - 1);
	cr_assert_eq(out[RELAY_QP_LINE_MAX_BYTES], '\n');
}

/* Random bytes, random pieces: decoded back, lines in the limits. */
Test(relay_qp, round_trip)
{
	static char	 in[QP_TEST_MAX], out[RELAY_QP_OUT_MAX(QP_TEST_MAX)],
			 dec[QP_TEST_MAX];
	static const size_t steps[] = { 1, 2, 3, 7, 75, 76, 77, 1000 };
	size_t		 i, s, n, d;

	srand(7);
	for (i = 0; i < sizeof(in); i++) {
		switch (rand() % 6) {
		case 0: in[i] = '\n'; break;
		case 1: in[i] = ' '; break;
		case 2: in[i] = (char)(rand() % 256); break;
		case 3: in[i] = '='; break;
		default: in[i] = (char)('a' + rand() % 26); break;
		}
	}
	for (s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
		n = qp_encode_all(in, sizeof(in), steps[s], out);
		cr_assert_leq(n, sizeof(out));
		d = qp_decode(out, n, dec);
		cr_assert_eq(d, sizeof(in), "step %zu", steps[s]);
		cr_assert(memcmp(dec, in, d) == 0, "step %zu", steps[s]);
	}
}

/* Runs the scan and then the conversion, fed in pieces of step bytes. */
static enum relay_mime_err
convert(const char *in, size_t step, struct buf *out)
{
	struct relay_mime	*m;
	enum relay_mime_err	 e;
	size_t			 i, len = strlen(in), k;

	cr_assert_not_null(m = relay_mime_new());
	relay_mime_start(m, NULL, NULL);
	cr_assert_eq(relay_mime_feed(m, in, len), 0);
	cr_assert_eq(relay_mime_end(m), 0);
	if ((e = relay_mime_error(m)) == RELAY_MIME_OK) {
		out->len = 0;
		relay_mime_start(m, buf_sink, out);
		for (i = 0; i < len; i += k) {
			k = len - i < step ? len - i : step;
			cr_assert_eq(relay_mime_feed(m, in + i, k), 0);
		}
		cr_assert_eq(relay_mime_end(m), 0);
		out->b[out->len] = '\0';
	}
	relay_mime_free(m);
	return e;
}

static struct buf	 cbuf;

static void
convert_eq(const char *in, const char *want)
{
	static const size_t steps[] = { 1, 2, 5, 4096 };
	size_t	 s;

	for (s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
		cr_assert_eq(convert(in, steps[s], &cbuf), RELAY_MIME_OK);
		cr_assert_str_eq(cbuf.b, want, "step %zu", steps[s]);
	}
}

Test(relay_mime, plain_message)
{
	convert_eq("Subject: x\n\ncaf\xc3\xa9\n",
	    "Subject: x\nMIME-Version: 1.0\nContent-Type: text/plain; "
	    "charset=unknown-8bit\nContent-Transfer-Encoding: "
	    "quoted-printable\n\ncaf=C3=A9\n");
}

Test(relay_mime, seven_bit_untouched)
{
	const char	*in = "Subject: x\nMIME-Version: 1.0\n\na=b\n";

	convert_eq(in, in);
}

Test(relay_mime, declared_8bit_replaced)
{
	convert_eq("MIME-Version: 1.0\nContent-Transfer-Encoding: 8bit\n"
	    "Content-Type: text/plain;\n charset=utf-8\nX: y\n\n\xc3\xa9 \n",
	    "MIME-Version: 1.0\nContent-Type: text/plain;\n charset=utf-8\n"
	    "X: y\nContent-Transfer-Encoding: quoted-printable\n\n=C3=A9=20\n");
}

Test(relay_mime, multipart)
{
	convert_eq("MIME-Version: 1.0\nContent-Type: multipart/mixed; "
	    "boundary=\"b (x)\"\nContent-Transfer-Encoding: 8bit\n\n"
	    "pre\n--b (x)\nContent-Type: text/plain\n\n\xe9\n"
	    "--b (x)\n\nascii=\n--b (x)--\npost\n",
	    "MIME-Version: 1.0\nContent-Type: multipart/mixed; "
	    "boundary=\"b (x)\"\nContent-Transfer-Encoding: 7bit\n\n"
	    "pre\n--b (x)\nContent-Type: text/plain\n"
	    "Content-Transfer-Encoding: quoted-printable\n\n=E9\n"
	    "--b (x)\n\nascii=\n--b (x)--\npost\n");
}

Test(relay_mime, enclosed_message)
{
	convert_eq("Content-Type: message/rfc822\n\nSubject: in\n\n\xe9\n",
	    "Content-Type: message/rfc822\n\nSubject: in\nMIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=unknown-8bit\n"
	    "Content-Transfer-Encoding: quoted-printable\n\n=E9\n");
}

Test(relay_mime, refused)
{
	cr_assert_eq(convert("Subject: \xe9\n\n\xe9\n", 4096, &cbuf),
	    RELAY_MIME_8BIT_HEADER);
	cr_assert_eq(convert("Content-Transfer-Encoding: base64\n\n\xe9\n",
	    4096, &cbuf), RELAY_MIME_ENCODED);
	cr_assert_eq(convert("Content-Type: multipart/mixed; boundary=b\n\n"
	    "\xe9 preamble\n--b\n\nx\n--b--\n", 4096, &cbuf),
	    RELAY_MIME_COMPOSITE);
	cr_assert_eq(convert("Content-Type: message/partial; id=1\n\n\xe9\n",
	    4096, &cbuf), RELAY_MIME_COMPOSITE);
}

Test(relay_mime, depth_limit)
{
	static char	 in[64 * (RELAY_MIME_DEPTH_MAX + 2)];
	size_t		 i, n = 0;

	for (i = 0; i <= RELAY_MIME_DEPTH_MAX; i++)
		n += (size_t)snprintf(in + n, sizeof(in) - n, "Content-Type: "
		    "multipart/mixed; boundary=b%zu\n\n--b%zu\n", i, i);
	(void)snprintf(in + n, sizeof(in) - n, "\n\xe9\n");
	cr_assert_eq(convert(in, 4096, &cbuf), RELAY_MIME_DEPTH);
	/* One level less converts. */
	n = 0;
	for (i = 0; i < RELAY_MIME_DEPTH_MAX; i++)
		n += (size_t)snprintf(in + n, sizeof(in) - n, "Content-Type: "
		    "multipart/mixed; boundary=b%zu\n\n--b%zu\n", i, i);
	(void)snprintf(in + n, sizeof(in) - n, "\n\xe9\n");
	cr_assert_eq(convert(in, 4096, &cbuf), RELAY_MIME_OK);
	cr_assert_not_null(strstr(cbuf.b, "\n=E9\n"));
}

Test(relay_mime, long_field_refused)
{
	static char	 in[RELAY_MIME_FIELD_MAX_BYTES + 128];
	size_t		 n;

	n = (size_t)snprintf(in, sizeof(in), "Content-Type: text/plain; x=");
	memset(in + n, 'a', RELAY_MIME_FIELD_MAX_BYTES);
	(void)strlcpy(in + n + RELAY_MIME_FIELD_MAX_BYTES, "\n\n\xe9\n",
	    sizeof(in) - n - RELAY_MIME_FIELD_MAX_BYTES);
	cr_assert_eq(convert(in, 4096, &cbuf), RELAY_MIME_FIELD);
}

Test(relay_mime, ctype)
{
	struct relay_mime_ctype	 ct;
	const char		*s;

	s = "Multipart/Digest (c) ; x=\"a;b\"; BOUNDARY = \"q\\\"z\" ";
	relay_mime_ctype(s, strlen(s), &ct);
	cr_assert_eq(ct.kind, RELAY_MIME_MULTIPART);
	cr_assert(ct.digest);
	cr_assert_str_eq(ct.boundary, "q\"z");
	s = "multipart/mixed";
	relay_mime_ctype(s, strlen(s), &ct);
	cr_assert_eq(ct.kind, RELAY_MIME_OPAQUE);
	s = "message/RFC822";
	relay_mime_ctype(s, strlen(s), &ct);
	cr_assert_eq(ct.kind, RELAY_MIME_RFC822);
	s = "garbage";
	relay_mime_ctype(s, strlen(s), &ct);
	cr_assert_eq(ct.kind, RELAY_MIME_LEAF);
	cr_assert_eq(relay_mime_cte(" 8BIT (c)", 9), RELAY_CTE_8BIT);
	cr_assert_eq(relay_mime_cte("x-uue", 5), RELAY_CTE_OTHER);
}
