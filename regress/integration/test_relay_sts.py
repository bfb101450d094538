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
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import unittest

from relaypeers import Nsd, TestCA, have_nsd
import suite
from relaypeers import FakeServer, make_cert
from suite import REPO, SuiteTest, need_root, wait_for

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
    "eok": "version: STSv1\nmode: enforce\nmx: mx.eok.e2e.example\n"
           "max_age: 86400\n",
    "ewrongmx": "version: STSv1\nmode: enforce\nmx: elsewhere.e2e.example\n"
                "max_age: 86400\n",
    "ebadcert": "version: STSv1\nmode: enforce\nmx: *.ebadcert.e2e.example"
                "\nmax_age: 86400\n",
    "etesting": "version: STSv1\nmode: testing\nmx: elsewhere.e2e.example\n"
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


# The policy server, shared by the classes: a test CA, certificates for
# every mta-sts host (and one for another name, sent by SNI to
# mta-sts.badcert.*), an HTTPS server on WEB_ADDR:443.
WEB = {}
WEB_LABELS = ("good", "testing", "redirect", "html", "strict", "eok",
              "ewrongmx", "ebadcert", "etesting")


def setUpModule():
    need_root()
    if not have_nsd():
        raise unittest.SkipTest("nsd, ldns-signzone or drill missing")
    d = tempfile.mkdtemp(prefix="sallyport-sts-")
    ca = TestCA(d)
    names = ["mta-sts.%s.sts.example" % n for n in WEB_LABELS] + \
        ["mta-sts.%s.e2e.example" % n for n in WEB_LABELS]
    good, wrong = ca.issue(names, stem="web"), \
        ca.issue(["wrong.sts.example"], stem="wrong")
    ctx, wrong_ctx = context(good), context(wrong)
    sni_names = []

    def sni(sock, name, _ctx):
        if name and name.startswith("mta-sts.badcert."):
            sock.context = wrong_ctx
        sni_names.append(name)
    ctx.sni_callback = sni
    web = http.server.ThreadingHTTPServer((WEB_ADDR, 443), Handler)
    web.requests = []
    web.socket = ctx.wrap_socket(web.socket, server_side=True)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    WEB.update(dir=d, ca=ca, web=web, sni=sni_names)


def tearDownModule():
    if "web" in WEB:
        WEB["web"].shutdown()
        WEB["web"].server_close()
        shutil.rmtree(WEB["dir"], ignore_errors=True)


def context(pair):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pair[0], pair[1])
    return ctx


class TestRelaySts(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        need_root()
        cls.ca, cls.web, cls.sni_names = WEB["ca"], WEB["web"], WEB["sni"]
        cls.nsd = Nsd(DNS_ADDR, {"sts.example": ZONE}).start()

    @classmethod
    def tearDownClass(cls):
        cls.nsd.close()

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

E2E_DNS = "127.0.0.86"
MX = {"eok": "127.0.0.172", "ewrongmx": "127.0.0.173",
      "ebadcert": "127.0.0.174", "etesting": "127.0.0.175",
      "eplain": "127.0.0.176"}
E2E_ZONE = """$ORIGIN e2e.example.
$TTL 300
@ SOA ns.e2e.example. admin.e2e.example. 1 3600 600 86400 60
@ NS ns
ns A 127.0.0.86
""" + "".join("""{d} MX 10 mx.{d}
mx.{d} A {a}
""".format(d=d, a=a) for d, a in MX.items()) + "".join("""_mta-sts.{d} TXT "v=STSv1; id=e1"
mta-sts.{d} A 127.0.0.88
""".format(d=d) for d in MX if d != "eplain")


class RelayStsEndToEndTest(SuiteTest):
    """The whole path: smtpd takes mail for five domains, the relay
    process asks their MTA-STS records (nsd), its relay-sts helper
    (chrooted, _sallyrelay, its own filter) fetches the policies from
    the HTTPS server, and the relay delivers to scripted STARTTLS
    servers on the MX hosts' addresses, or defers."""

    @classmethod
    def setUpClass(cls):
        need_root()
        cls.nsd = Nsd(E2E_DNS, {"e2e.example": E2E_ZONE}).start()
        ca = WEB["ca"]
        cls.suite_args = {
            "resolver": cls.nsd.resolver_args(validate=False),
            "extra_config": ['relay from "127.0.0.1/32"',
                             'relay mta-sts ca "%s"' % ca.cert]}
        cls.servers = {}
        try:
            for d, addr in MX.items():
                if d == "ebadcert":
                    tls = make_cert(WEB["dir"], "mx.ebadcert.e2e.example")
                elif d == "etesting":
                    tls = None
                else:
                    tls = ca.issue(["mx.%s.e2e.example" % d])
                opts = {"tls": tls} if tls else {}
                cls.servers[d] = FakeServer(addr=addr, port=25, **opts)
            super().setUpClass()
        except BaseException:
            cls.close_peers()
            raise

    @classmethod
    def close_peers(cls):
        for srv in cls.servers.values():
            srv.close()
        cls.nsd.close()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.close_peers()

    def send(self, domain):
        rcpt = "carol@%s.e2e.example" % domain
        code, text = self.suite.send(
            suite.make_message("sts-" + domain, ["to " + domain]),
            rcpts=(rcpt,))
        self.assertEqual(code, 250, text)
        return rcpt

    def delivered(self, domain, rcpt, what=""):
        wait_for(lambda: self.servers[domain].delivered(rcpt), 60,
                 what="the message at mx.%s%s" % (domain, what))

    def wait_log(self, text, timeout=60):
        return wait_for(lambda: (lambda l: l if text in l else None)(
            self.suite.log("queued")), timeout, what=repr(text))

    def test_enforce_valid_certificate_delivered(self):
        rcpt = self.send("eok")
        self.delivered("eok", rcpt)
        log = self.wait_log("relay connect dest=eok.e2e.example")
        self.assertIn("relay sts dest=eok.e2e.example mode=enforce "
                      "source=fetch id=e1", log)
        self.assertIn("relay connect dest=eok.e2e.example relay=mx.eok."
                      "e2e.example[%s]:25 tls=yes verified=pkix"
                      % MX["eok"], log)
        self.assertIn("relay-sts fetched domain=eok.e2e.example "
                      "mode=enforce", log)
        stats = self.suite.sallyctl("show", "stats").stdout
        self.assertRegex(stats, r"relay\.sts_enforced\s+[1-9]")

    def test_enforce_mx_not_in_policy_deferred(self):
        self.send("ewrongmx")
        log = self.wait_log("relay route-failed dest=ewrongmx.e2e.example")
        self.assertIn("relay route-failed dest=ewrongmx.e2e.example "
                      "status=4.7.5 error=\"MTA-STS: no MX host of "
                      "ewrongmx.e2e.example matches its policy\"", log)
        self.assertIn("relay sts-mx-mismatch dest=ewrongmx.e2e.example "
                      "mode=enforce hosts=1", log)
        self.assertEqual(self.servers["ewrongmx"].conns, 0)
        stats = self.suite.sallyctl("show", "stats").stdout
        self.assertRegex(stats, r"relay\.sts_refused\s+[1-9]")

    def test_enforce_bad_certificate_deferred(self):
        rcpt = self.send("ebadcert")
        log = self.wait_log("relay backoff dest=ebadcert.e2e.example")
        self.assertIn("4.7.5 MTA-STS: ", log)
        self.assertFalse(self.servers["ebadcert"].delivered(rcpt))
        out = self.suite.sallyctl("show", "queue").stdout
        self.assertIn("MTA-STS", out)

    def test_testing_mode_delivered_with_log_lines(self):
        rcpt = self.send("etesting")
        self.delivered("etesting", rcpt)
        log = self.wait_log("relay sts-testing dest=etesting.e2e.example")
        self.assertIn("relay sts dest=etesting.e2e.example mode=testing "
                      "source=fetch", log)
        self.assertIn("relay sts-mx-mismatch dest=etesting.e2e.example "
                      "mode=testing hosts=1", log)

    def test_no_policy_delivered(self):
        rcpt = self.send("eplain")
        self.delivered("eplain", rcpt)
        log = self.wait_log("relay connect dest=eplain.e2e.example")
        self.assertIn("relay sts dest=eplain.e2e.example mode=- "
                      "source=none id=- note=\"no STSv1 record\"", log)

    def test_helper_listed_and_repaired_after_relay_restart(self):
        """Runs after test_enforce_valid_certificate_delivered (the
        names sort so), which had eok's policy fetched."""
        s = self.suite
        sts = s.relay_sts()
        self.assertEqual(sts.seccomp, 2)
        out = s.sallyctl("show", "status").stdout
        self.assertIn("queued/relay-sts", out)
        old = s.relay().pid
        os.kill(old, signal.SIGKILL)
        wait_for(lambda: (lambda r: r if r and r.pid != old else None)(
            s.child_as("queued", "_sallyrelay", role="relay")), 60,
            what="a new relay process")
        self.wait_log("relay-sts relay-closed")
        # The new relay has the helper, which still holds eok's policy
        # under its id: given without a fetch.
        fetches = sum(1 for h, _ in WEB["web"].requests
                      if h == "mta-sts.eok.e2e.example")
        self.assertGreaterEqual(fetches, 1)
        rcpt = self.send("eok")
        self.delivered("eok", rcpt, " after the restart")
        self.assertEqual(s.relay_sts().pid, sts.pid)
        line = ("relay sts dest=eok.e2e.example mode=enforce "
                "source=fetch id=e1")
        wait_for(lambda: (lambda l: line in l[l.rindex(
            "relay-sts relay-closed"):])(s.log("queued")), 30,
            what="the new relay's policy line")
        self.assertEqual(sum(1 for h, _ in WEB["web"].requests
                             if h == "mta-sts.eok.e2e.example"), fetches)


if __name__ == "__main__":
    unittest.main()
