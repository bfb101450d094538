"""MTA-STS (RFC 8461) from the DNS to the policy, with real peers on
loopback: nsd (relaypeers.Nsd) serves _mta-sts TXT records and the
mta-sts hosts' addresses under sts.example., and an HTTPS server in
Python (ssl, certificates of relaypeers.TestCA, chosen by SNI) serves
the policies on 127.0.0.88:443.  The driver regress/relay/stsq runs the
relay's TXT lookup (relay_dns_sts), the relay-sts helper's fetch
(relay_sts_fetch: libtls, the name mta-sts.DOMAIN verified, SNI), the
policy parser and MX matching."""

import http.server
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import unittest

from relaypeers import Nsd, TestCA, have_nsd
from suite import REPO, need_root

STSQ = os.path.join(REPO, "regress", "relay", "stsq")
DNS_ADDR = "127.0.0.87"
WEB_ADDR = "127.0.0.88"
TIMEOUT = 120

ZONE = """$ORIGIN sts.example.
$TTL 300
@ SOA ns.sts.example. admin.sts.example. 1 3600 600 86400 60
@ NS ns
ns A 127.0.0.87
good MX 10 mx1.good
_mta-sts.good TXT "v=STSv1; id=20261202T1500;"
mta-sts.good A 127.0.0.88
_mta-sts.testing TXT "v=STSv1;" " id=t1"
mta-sts.testing A 127.0.0.88
_mta-sts.badcert TXT "v=STSv1; id=b1"
mta-sts.badcert A 127.0.0.88
_mta-sts.redirect TXT "v=STSv1; id=r1"
mta-sts.redirect A 127.0.0.88
_mta-sts.html TXT "v=STSv1; id=h1"
mta-sts.html A 127.0.0.88
_mta-sts.two TXT "v=STSv1; id=a"
_mta-sts.two TXT "v=STSv1; id=b"
_mta-sts.other TXT "v=spf1 -all"
_mta-sts.invalid TXT "v=STSv1; id=not-alnum"
_mta-sts.down TXT "v=STSv1; id=d1"
mta-sts.down A 127.0.0.89
none MX 10 mx1.none
good MX 20 other.good
mx1.good A 127.0.0.90
other.good A 127.0.0.91
_mta-sts.strict TXT "v=STSv1; id=s1"
mta-sts.strict A 127.0.0.88
strict MX 10 mx.strict
mx.strict A 127.0.0.90
testing MX 10 mx.testing
testing MX 20 rogue.testing
mx.testing A 127.0.0.90
rogue.testing A 127.0.0.91
badcert MX 10 mx.badcert
mx.badcert A 127.0.0.90
"""

POLICIES = {
    "good": "version: STSv1\r\nmode: enforce\r\nmx: mx1.good.sts.example"
            "\r\nmx: *.backup.sts.example\r\nmax_age: 604800\r\n",
    "testing": "version: STSv1\nmode: testing\nmx: mx.testing.sts.example\n"
               "max_age: 86400\n",
    "strict": "version: STSv1\nmode: enforce\nmx: allowed.sts.example\n"
              "max_age: 86400\n",
    "badcert": "version: STSv1\nmode: enforce\nmx: x.sts.example\n"
               "max_age: 86400\n",
}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        host = self.headers.get("Host", "")
        label = host.split(".")[1] if host.count(".") >= 2 else ""
        self.server.requests.append((host, self.path))
        if self.path != "/.well-known/mta-sts.txt":
            self.send_error(404)
            return
        if label == "redirect":
            self.send_response(301)
            self.send_header("Location", "https://mta-sts.good.sts.example"
                             "/.well-known/mta-sts.txt")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = POLICIES.get(label, "version: STSv1\nmode: none\n"
                            "max_age: 1\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html" if label == "html"
                         else "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)


@unittest.skipUnless(have_nsd(), "nsd, ldns-signzone or drill missing")
class TestRelaySts(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        need_root()
        cls.dir = tempfile.mkdtemp(prefix="sallyport-sts-")
        cls.ca = TestCA(cls.dir)
        names = ["mta-sts.%s.sts.example" % n
                 for n in ("good", "testing", "redirect", "html",
                           "strict")]
        good = cls.ca.issue(names, stem="web")
        wrong = cls.ca.issue(["wrong.sts.example"], stem="wrong")
        cls.ctx = cls.context(good)
        wrong_ctx = cls.context(wrong)

        def sni(sock, name, ctx):
            if name and name.startswith("mta-sts.badcert."):
                sock.context = wrong_ctx
            cls.sni_names.append(name)
        cls.sni_names = []
        cls.ctx.sni_callback = sni
        cls.web = http.server.ThreadingHTTPServer((WEB_ADDR, 443), Handler)
        cls.web.requests = []
        cls.web.socket = cls.ctx.wrap_socket(cls.web.socket,
                                             server_side=True)
        cls.thread = threading.Thread(target=cls.web.serve_forever,
                                      daemon=True)
        cls.thread.start()
        cls.nsd = Nsd(DNS_ADDR, {"sts.example": ZONE}).start()

    @staticmethod
    def context(pair):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(pair[0], pair[1])
        return ctx

    @classmethod
    def tearDownClass(cls):
        cls.web.shutdown()
        cls.web.server_close()
        cls.nsd.close()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def stsq(self, domain, *mx):
        r = subprocess.run([STSQ, "-r", DNS_ADDR, "-p", str(self.nsd.port),
                            "-C", self.ca.cert, domain + ".sts.example"]
                           + list(mx), capture_output=True, text=True,
                           timeout=TIMEOUT)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.splitlines()

    def test_enforce_policy_fetched_and_matched(self):
        out = self.stsq("good", "mx1.good.sts.example",
                        "MX1.GOOD.STS.EXAMPLE.", "a.backup.sts.example",
                        "a.b.backup.sts.example", "evil.example")
        self.assertEqual(out[0], "sts good.sts.example ok found=1 "
                         "id=20261202T1500 naddr=1")
        self.assertEqual(out[1], "fetch ok bytes=%d"
                         % len(POLICIES["good"]))
        self.assertEqual(out[2], "policy enforce max_age=604800 "
                         "mx=mx1.good.sts.example,*.backup.sts.example")
        self.assertEqual(out[3:], [
            "match mx1.good.sts.example 1",
            "match MX1.GOOD.STS.EXAMPLE. 1",
            "match a.backup.sts.example 1",
            "match a.b.backup.sts.example 0",
            "match evil.example 0"])
        self.assertIn("mta-sts.good.sts.example", self.sni_names)
        self.assertIn(("mta-sts.good.sts.example",
                       "/.well-known/mta-sts.txt"), self.web.requests)

    def test_testing_mode_split_txt_strings(self):
        out = self.stsq("testing", "mx.testing.sts.example")
        self.assertEqual(out[0], "sts testing.sts.example ok found=1 "
                         "id=t1 naddr=1")
        self.assertEqual(out[2], "policy testing max_age=86400 "
                         "mx=mx.testing.sts.example")
        self.assertEqual(out[3], "match mx.testing.sts.example 1")

    def test_bad_certificate_fails_the_fetch(self):
        out = self.stsq("badcert")
        self.assertEqual(out[0], "sts badcert.sts.example ok found=1 "
                         "id=b1 naddr=1")
        self.assertTrue(out[1].startswith("fetch fail TLS handshake:"),
                        out)
        self.assertIn("name", out[1])

    def test_redirect_refused(self):
        out = self.stsq("redirect")
        self.assertEqual(out[1], "fetch fail HTTP: a redirect (RFC 8461 "
                         "3.3 forbids following it)")

    def test_not_text_plain_refused(self):
        out = self.stsq("html")
        self.assertEqual(out[1], "fetch fail HTTP: a Content-Type other "
                         "than text/plain")

    def test_no_policy_announced(self):
        for domain, why in (("none", "no STSv1 record"),
                            ("other", "no STSv1 record"),
                            ("two", "more than one STSv1 record"),
                            ("invalid", "bad record: id not letters and "
                             "digits"),
                            ("nxdomain", "no STSv1 record")):
            out = self.stsq(domain)
            self.assertEqual(out, ["sts %s.sts.example ok found=0 id=- "
                                   "naddr=0" % domain, "why " + why])

    def test_policy_host_down(self):
        out = self.stsq("down")
        self.assertEqual(out[0], "sts down.sts.example ok found=1 id=d1 "
                         "naddr=1")
        self.assertTrue(out[1].startswith("fetch fail connect:"), out)


    def helper(self, domain, rounds=1, between=None, role=None):
        """stsq -H: the relay's side and the helper's loop in a child;
        between(i, out) runs before round i > 0.  role: a chroot dir, for
        the role itself (stsq -R): between then gets the helper's pid."""
        mode = ["-R", role] if role else ["-H"]
        p = subprocess.Popen([STSQ] + mode + ["-n", str(rounds), "-r",
                              DNS_ADDR, "-p", str(self.nsd.port), "-C",
                              self.ca.cert, domain + ".sts.example"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        out = []
        try:
            if role:
                out.append(p.stdout.readline().rstrip("\n"))
            for i in range(rounds):
                if i > 0:
                    if between:
                        between(i, out)
                    p.stdin.write("\n")
                    p.stdin.flush()
                out.append(p.stdout.readline().rstrip("\n"))
                out.append(p.stdout.readline().rstrip("\n"))
            p.stdin.close()
            p.wait(timeout=TIMEOUT)
            rest, err = p.stdout.read(), p.stderr.read()
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.assertEqual(p.returncode, 0, err)
        self.assertEqual(rest, "")
        return out, err

    def requests(self, label):
        return sum(1 for h, _ in self.web.requests
                   if h == "mta-sts.%s.sts.example" % label)

    def test_enforce_through_helper_then_cache(self):
        """Fetched once by the helper; the same id later is the cached
        policy, with no new request; the MX host the policy does not
        name is dropped from the route."""
        before = self.requests("good")
        out, err = self.helper("good", rounds=2)
        self.assertEqual(out[0], "lookup good.sts.example source=fetch "
                         "id=20261202T1500 mode=enforce note=-")
        self.assertEqual(out[1], "route ok 2.0.0 mx=mx1.good.sts.example. "
                         "nomatch=1 text=-")
        self.assertEqual(out[2], "lookup good.sts.example source=cache "
                         "id=20261202T1500 mode=enforce note=-")
        self.assertEqual(out[3], out[1])
        self.assertEqual(self.requests("good"), before + 1)
        self.assertIn("relay-sts fetched domain=good.sts.example "
                      "mode=enforce max_age=604800 mx=2", err)

    def test_enforce_no_mx_allowed_defers_475(self):
        out, _ = self.helper("strict")
        self.assertEqual(out[0], "lookup strict.sts.example source=fetch "
                         "id=s1 mode=enforce note=-")
        self.assertEqual(out[1], "route temp 4.7.5 mx= nomatch=1 "
                         "text=MTA-STS: no MX host of strict.sts.example "
                         "matches its policy")

    def test_testing_mode_keeps_every_mx(self):
        out, _ = self.helper("testing")
        self.assertEqual(out[0], "lookup testing.sts.example source=fetch "
                         "id=t1 mode=testing note=-")
        self.assertEqual(out[1], "route ok 2.0.0 mx=mx.testing.sts.example.,"
                         "rogue.testing.sts.example. nomatch=1 text=-")

    def test_failed_fetch_without_cache_is_no_policy(self):
        """RFC 8461 5.1: a policy that cannot be fetched, none cached:
        delivery as without MTA-STS."""
        out, err = self.helper("badcert")
        self.assertTrue(out[0].startswith(
            "lookup badcert.sts.example source=none id=- mode=- "
            "note=TLS handshake:"), out)
        self.assertEqual(out[1], "route ok 2.0.0 mx=mx.badcert.sts.example. "
                         "nomatch=0 text=-")
        self.assertIn("relay-sts fetch-failed domain=badcert.sts.example",
                      err)

    def test_role_chrooted_unprivileged_sandboxed(self):
        """The role relay-sts itself: chrooted in an empty directory, as
        _sallyrelay, under its seccomp filter, fetching through it; it
        exits when its parent closes (stsq checks its exit status)."""
        root = tempfile.mkdtemp(prefix="sallyport-sts-empty-")
        seen = {}

        def look(i, out):
            pid = int(out[0].split("=")[1])
            with open("/proc/%d/status" % pid) as f:
                lines = f.read().splitlines()
            seen["uid"] = [l.split()[1:] for l in lines
                           if l.startswith("Uid:")][0]
            seen["seccomp"] = [l.split()[1] for l in lines
                               if l.startswith("Seccomp:")][0]
            seen["root"] = os.readlink("/proc/%d/root" % pid)
        try:
            out, err = self.helper("good", rounds=2, between=look,
                                   role=root)
        finally:
            shutil.rmtree(root, ignore_errors=True)
        uid = str(pwd.getpwnam("_sallyrelay").pw_uid)
        self.assertEqual(seen["uid"], [uid] * 4)
        self.assertEqual(seen["seccomp"], "2")
        self.assertEqual(seen["root"], root)
        self.assertEqual(out[1], "lookup good.sts.example source=fetch "
                         "id=20261202T1500 mode=enforce note=-")
        self.assertEqual(out[3], "lookup good.sts.example source=cache "
                         "id=20261202T1500 mode=enforce note=-")
        self.assertIn("relay-sts started", err)
        self.assertIn("relay-sts fetched domain=good.sts.example", err)
        self.assertNotIn("sandbox", err)

if __name__ == "__main__":
    unittest.main()
