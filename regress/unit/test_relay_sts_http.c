/*
 * queued/relay_sts_http.c: the MTA-STS fetch's HTTP response parser
 * (RFC 8461 3.3: 200 only, no redirect, text/plain, bounded),
 * relay_dns_txt.c's joining of a TXT record's strings, the route
 * filter (relay_sts_route.c) and the FETCH request's marshalling
 * (relay_sts_helper.c), which the helper reads fail-closed.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <string.h>
#include <criterion/criterion.h>

#include "ipc.h"
#include "proto.h"

#include "../../queued/relay_dns.h"
#include "../../queued/relay_sts_helper.h"
#include "../../queued/relay_sts_http.h"

static int
resp(const char *s, const char **body, size_t *len, const char **err)
{
	*err = NULL;
	return relay_sts_http_parse(s, strlen(s), body, len, err);
}

static void
resp_fails(const char *s, const char *why)
{
	const char	*body, *err;
	size_t		 len;

	cr_assert_eq(resp(s, &body, &len, &err), -1, "accepted: %s", s);
	cr_assert_str_eq(err, why, "%s", s);
}

Test(relay_sts_http, request)
{
	char	 buf[256];

	cr_assert_gt(relay_sts_http_request("mta-sts.example", buf,
	    sizeof(buf)), 0);
	cr_assert_str_eq(buf, "GET /.well-known/mta-sts.txt HTTP/1.1\r\n"
	    "Host: mta-sts.example\r\nUser-Agent: sallyport\r\n"
	    "Accept: text/plain\r\nConnection: close\r\n\r\n");
	cr_assert_eq(relay_sts_http_request("mta-sts.example", buf, 40), -1);
}

Test(relay_sts_http, ok)
{
	const char	*body, *err;
	size_t		 len;

	cr_assert_eq(resp("HTTP/1.1 200 OK\r\nServer: x\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: 5\r\n\r\nabcdeTRAILING", &body, &len, &err), 0,
	    "%s", err);
	cr_assert_eq(len, 5);
	cr_assert_eq(memcmp(body, "abcde", 5), 0);
	/* No Content-Length: to the close; LF alone; HTTP/1.0. */
	cr_assert_eq(resp("HTTP/1.0 200\ncontent-type:TEXT/PLAIN\n\nxyz\n",
	    &body, &len, &err), 0, "%s", err);
	cr_assert_eq(len, 4);
	cr_assert_eq(memcmp(body, "xyz\n", 4), 0);
	cr_assert_eq(resp("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
	    "Transfer-Encoding: identity\r\n\r\n", &body, &len, &err), 0);
	cr_assert_eq(len, 0);
}

Test(relay_sts_http, refused)
{
	static char	 big[RELAY_STS_POLICY_MAX_BYTES + 128];
	const char	*body, *err;
	size_t		 len;
	int		 n;

	resp_fails("HTTP/1.1 301 Moved\r\nLocation: https://x/\r\n"
	    "Content-Type: text/plain\r\n\r\n",
	    "a redirect (RFC 8461 3.3 forbids following it)");
	resp_fails("HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n\r\n",
	    "an HTTP status other than 200");
	resp_fails("HTTP/2 200\r\n\r\n", "not an HTTP/1 status line");
	resp_fails("HTTP/1.1 2000 OK\r\n\r\n", "not an HTTP/1 status line");
	resp_fails("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\nx",
	    "a Content-Type other than text/plain");
	resp_fails("HTTP/1.1 200 OK\r\nContent-Type: text/plainx\r\n\r\nx",
	    "a Content-Type other than text/plain");
	resp_fails("HTTP/1.1 200 OK\r\n\r\nx", "no Content-Type text/plain");
	resp_fails("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n0\r\n\r\n",
	    "a transfer coding (chunked is not read)");
	resp_fails("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
	    "Content-Length: 10\r\n\r\nabc", "a body shorter than its "
	    "Content-Length");
	resp_fails("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
	    "Content-Length: 1\r\n\r\nabc", "a bad Content-Length");
	resp_fails("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
	    "a bad Content-Length");
	resp_fails("HTTP/1.1 200 OK\r\nBad Field: x\r\n\r\n",
	    "a bad header field");
	resp_fails("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n",
	    "no end of the header within 8 KiB");
	n = snprintf(big, sizeof(big), "HTTP/1.1 200 OK\r\nContent-Type: "
	    "text/plain\r\n\r\n");
	memset(big + n, 'a', RELAY_STS_POLICY_MAX_BYTES + 1);
	cr_assert_eq(relay_sts_http_parse(big, (size_t)n +
	    RELAY_STS_POLICY_MAX_BYTES + 1, &body, &len, &err), -1);
	cr_assert_str_eq(err, "a body larger than 64 KiB");
	cr_assert_eq(relay_sts_http_parse(big, (size_t)n +
	    RELAY_STS_POLICY_MAX_BYTES, &body, &len, &err), 0);
	memset(big, 'a', sizeof(big));
	memcpy(big, "HTTP/1.1 200 OK\r\nX: ", 21);
	big[RELAY_STS_HTTP_HEADER_MAX_BYTES + 10] = '\n';
	cr_assert_eq(relay_sts_http_parse(big, sizeof(big), &body, &len,
	    &err), -1);
	cr_assert_str_eq(err, "no end of the header within 8 KiB");
	for (n = 17; n < 17 + 4 * (RELAY_STS_HTTP_FIELDS_MAX + 1); n += 4)
		memcpy(big + n, "X:\r\n", 4);
	cr_assert_eq(relay_sts_http_parse(big, sizeof(big), &body, &len,
	    &err), -1);
	cr_assert_str_eq(err, "too many header fields");
}

Test(relay_sts_http, txt_join)
{
	char	 out[16];

	cr_assert_eq(rdns_txt_join((const uint8_t *)"\x07v=STSv1\x06; id=1",
	    15, out, sizeof(out)), 13);
	cr_assert_str_eq(out, "v=STSv1; id=1");
	cr_assert_eq(rdns_txt_join((const uint8_t *)"", 0, out, sizeof(out)),
	    0);
	cr_assert_eq(rdns_txt_join((const uint8_t *)"\x00\x02" "ab", 4, out,
	    sizeof(out)), 2);
	/* A length past the rdata, or past the buffer. */
	cr_assert_eq(rdns_txt_join((const uint8_t *)"\x05" "abc", 4, out,
	    sizeof(out)), -1);
	cr_assert_eq(rdns_txt_join((const uint8_t *)"\x10" "0123456789abcdef",
	    17, out, sizeof(out)), -1);
	cr_assert_eq(rdns_txt_join((const uint8_t *)"\x0f" "0123456789abcde",
	    16, out, sizeof(out)), 15);
}

static struct rdns_route
route3(void)
{
	struct rdns_route	 r;

	memset(&r, 0, sizeof(r));
	r.nmx = 3;
	(void)strlcpy(r.mx[0].host, "mx1.a.example", sizeof(r.mx[0].host));
	(void)strlcpy(r.mx[1].host, "evil.example.", sizeof(r.mx[1].host));
	(void)strlcpy(r.mx[2].host, "x.backup.example", sizeof(r.mx[2].host));
	r.mx[2].pref = 30;
	return r;
}

Test(relay_sts_http, route_filter)
{
	struct relay_sts_policy	 p;
	struct rdns_route	 r;
	const char		*pol = "version: STSv1\nmode: enforce\n"
				    "max_age: 9\nmx: mx1.a.example\n"
				    "mx: *.backup.example\n", *err;

	cr_assert_eq(relay_sts_policy_parse(pol, strlen(pol), &p, &err), 0);
	r = route3();
	cr_assert_eq(relay_sts_route_filter(&p, &r, "a.example"), 1);
	cr_assert_eq(r.status, RDNS_OK);
	cr_assert_eq(r.nmx, 2);
	cr_assert_str_eq(r.mx[0].host, "mx1.a.example");
	cr_assert_str_eq(r.mx[1].host, "x.backup.example");
	cr_assert_eq(r.mx[1].pref, 30);
	/* testing: counted, kept. */
	p.mode = RELAY_STS_TESTING;
	r = route3();
	cr_assert_eq(relay_sts_route_filter(&p, &r, "a.example"), 1);
	cr_assert_eq(r.nmx, 3);
	cr_assert_str_eq(r.mx[1].host, "evil.example.");
	/* none, or no policy: nothing. */
	p.mode = RELAY_STS_NONE;
	cr_assert_eq(relay_sts_route_filter(&p, &r, "a.example"), 0);
	cr_assert_eq(relay_sts_route_filter(NULL, &r, "a.example"), 0);
	cr_assert_eq(r.nmx, 3);
	/* enforce, nothing matches: 4.7.5. */
	p.mode = RELAY_STS_ENFORCE;
	r = route3();
	(void)strlcpy(r.mx[0].host, "mx2.a.example", sizeof(r.mx[0].host));
	(void)strlcpy(r.mx[2].host, "backup.example", sizeof(r.mx[2].host));
	cr_assert_eq(relay_sts_route_filter(&p, &r, "a.example"), 3);
	cr_assert_eq(r.nmx, 0);
	cr_assert_eq(r.status, RDNS_TEMPFAIL);
	cr_assert_str_eq(r.enhanced, "4.7.5");
	cr_assert_str_eq(r.text, "MTA-STS: no MX host of a.example matches "
	    "its policy");
}

/* A FETCH as the helper reads it: the payload of o. */
static int
req_get(const struct ipc_out *o, size_t len, char *domain,
    struct rdns_addr *addrs, size_t *naddr)
{
	struct ipc_msg	 m;
	char		 id[RELAY_STS_ID_MAX + 1];

	memset(&m, 0, sizeof(m));
	m.hdr = o->hdr;
	m.hdr.len = (uint32_t)len;
	m.data = o->buf;
	m.fd = -1;
	return relay_sts_req_get(&m, domain, RELAY_DNS_NAME_MAX, id, addrs,
	    naddr);
}

Test(relay_sts_http, fetch_request_fail_closed)
{
	static struct ipc_out	 o;
	struct rdns_addr	 in[RELAY_DNS_ADDRS_MAX + 1], out[
				    RELAY_DNS_ADDRS_MAX];
	char			 domain[RELAY_DNS_NAME_MAX];
	size_t			 n;

	memset(in, 0, sizeof(in));
	in[0].af = AF_INET;
	memcpy(in[0].a, "\x7f\x00\x00\x58", 4);
	in[1].af = AF_INET6;
	in[1].a[15] = 1;
	relay_sts_req_put(&o, 9, "a.example", "id1", in, 2);
	cr_assert_eq(o.hdr.type, MSG_RELAY_STS_FETCH);
	cr_assert_eq(o.hdr.peerid, 9);
	cr_assert_eq(req_get(&o, o.hdr.len, domain, out, &n), 0);
	cr_assert_str_eq(domain, "a.example");
	cr_assert_eq(n, 2);
	cr_assert_eq(out[0].af, AF_INET);
	cr_assert_eq(memcmp(out[0].a, in[0].a, 16), 0);
	cr_assert_eq(out[1].af, AF_INET6);
	cr_assert_eq(out[1].a[15], 1);
	/* Short, or with a byte more: refused. */
	cr_assert_eq(req_get(&o, o.hdr.len - 1, domain, out, &n), -1);
	ipc_put_u32(&o, 0);
	cr_assert_eq(req_get(&o, o.hdr.len, domain, out, &n), -1);
	/* No address, too many, another family, no domain. */
	relay_sts_req_put(&o, 1, "a.example", "i", in, 0);
	cr_assert_eq(req_get(&o, o.hdr.len, domain, out, &n), -1);
	relay_sts_req_put(&o, 1, "a.example", "i", in,
	    RELAY_DNS_ADDRS_MAX + 1);
	cr_assert_eq(req_get(&o, o.hdr.len, domain, out, &n), -1);
	in[0].af = AF_UNIX;
	relay_sts_req_put(&o, 1, "a.example", "i", in, 1);
	cr_assert_eq(req_get(&o, o.hdr.len, domain, out, &n), -1);
	in[0].af = AF_INET;
	relay_sts_req_put(&o, 1, "", "i", in, 1);
	cr_assert_eq(req_get(&o, o.hdr.len, domain, out, &n), -1);
	/* An id not of RFC 8461 3.1: none, or not letters and digits. */
	relay_sts_req_put(&o, 1, "a.example", "", in, 1);
	cr_assert_eq(req_get(&o, o.hdr.len, domain, out, &n), -1);
	relay_sts_req_put(&o, 1, "a.example", "a-b", in, 1);
	cr_assert_eq(req_get(&o, o.hdr.len, domain, out, &n), -1);
}
