"""The relay's MX routing (queued/relay_dns.c) against a real DNS server:
nsd, Debian's authoritative server, run in the foreground from a temp
dir on 127.0.0.53 and a free port, serving test zones; the driver
regress/relay/dnsq runs relay_dns_route() through libunbound forwarding
to it.  Every lookup goes to that server or nowhere.  The signed zones
(ldns-signzone) check that DNSSEC status reaches the route, and carry a
TLSA record for a certificate made here, which the SMTP client
(regress/relay/smtpc -D) then matches: DANE from the zone to the
handshake."""

import os
import shutil
import subprocess
import tempfile
import unittest

from relaypeers import FakeServer, Nsd, have, have_nsd, make_cert
from suite import REPO, free_ports, need_root
from test_relay_dane import tlsa
from test_relay_smtp import smtpc

DNSQ = os.path.join(REPO, "regress", "relay", "dnsq")
ADDR = "127.0.0.53"
TIMEOUT = 120

ZONE = """$ORIGIN relay.example.
$TTL 300
@ SOA ns.relay.example. admin.relay.example. 1 3600 600 86400 60
@ NS ns
ns A 127.0.0.53
multi MX 20 mx2
multi MX 10 mx1
multi MX 30 mx3
mx1 A 127.0.0.11
mx2 A 127.0.0.12
mx3 AAAA ::1
equal MX 10 e1
equal MX 10 e2
equal MX 10 e3
equal MX 5 best
best A 127.0.0.20
e1 A 127.0.0.21
e2 A 127.0.0.22
e3 A 127.0.0.23
implicit A 127.0.0.2
implicit AAAA ::1
nullmx MX 0 .
alias CNAME alias2
alias2 CNAME multi
loop MX 10 self
loopbk MX 10 self
loopbk MX 20 mx1
loopok MX 5 mx2
loopok MX 10 self
self A 127.0.0.1
noaddr MX 10 nowhere
dual MX 10 dualhost
dualhost A 127.0.0.3
dualhost A 127.0.0.4
dualhost AAAA ::1
dualhost AAAA ::2
"""

SIGNED = """$ORIGIN {name}.
$TTL 300
@ SOA ns.{name}. admin.{name}. 1 3600 600 86400 60
@ NS ns
ns A 127.0.0.53
@ MX 10 mx
mx A 127.0.0.30
_25._tcp.mx TLSA 3 1 1 {tlsa}
dane A 127.0.0.30
_25._tcp.dane TLSA 3 1 1 {dane}
"""

def parse(out):
    """dnsq's output as a list of routes: dicts with status, enhanced,
    sec, implicit, mx (list of (pref, host, sec, addrs)) and text."""
    routes = []
    for line in out.splitlines():
        w = line.split()
        if w[0] == "route":
            routes.append({"domain": w[1], "status": w[2],
                           "enhanced": w[3], "sec": w[4][4:],
                           "implicit": w[5] == "implicit=1", "mx": [],
                           "text": ""})
        elif w[0] == "mx":
            routes[-1]["mx"].append((int(w[1]), w[2], w[3][4:], w[4:]))
        elif w[0] == "text":
            routes[-1]["text"] = line[5:]
    return routes


def tamper(text):
    """bogus.example: an address changed under its signature."""
    assert "127.0.0.30" in text
    return text.replace("127.0.0.30", "127.0.0.31")


class RelayDNSTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        need_root()
        if not have_nsd():
            raise unittest.SkipTest("nsd or ldnsutils not installed "
                                    "(etc/deps.sh)")
        if not have(DNSQ):
            raise unittest.SkipTest("regress/relay/dnsq not built")
        # A server certificate whose key the signed zones publish.
        cls.certdir = tempfile.mkdtemp(prefix="relaydns-cert.")
        cls.cert = make_cert(cls.certdir, "dane.secure.example")
        dane = tlsa(3, 1, 1, cls.cert[0])[6:]
        signed = {name: (SIGNED.format(name=name, tlsa="ab" * 32,
                                       dane=dane),
                         tamper if name == "bogus.example" else None)
                  for name in ("secure.example", "bogus.example")}
        try:
            cls.nsd = Nsd(ADDR, {"relay.example": ZONE}, signed).start()
        except BaseException:
            shutil.rmtree(cls.certdir, ignore_errors=True)
            raise
        cls.dir, cls.port = cls.nsd.dir, cls.nsd.port

    @classmethod
    def stop_nsd(cls):
        cls.nsd.stop()

    @classmethod
    def tearDownClass(cls):
        cls.nsd.close()
        shutil.rmtree(cls.certdir, ignore_errors=True)

    @classmethod
    def dnsq(cls, args, check=True, opts=(), stdin=None):
        argv = [DNSQ, "-r", ADDR, "-p", str(cls.port)] + list(opts) + args
        r = subprocess.run(argv, capture_output=True, text=True,
                           timeout=TIMEOUT, input=stdin)
        if check and r.returncode != 0:
            raise AssertionError("dnsq failed: %s" % r.stderr)
        return r

    def route(self, domain, opts=()):
        routes = parse(self.dnsq([domain], opts=opts).stdout)
        self.assertEqual(len(routes), 1)
        return routes[0]

    def test_mx_sorted_by_preference(self):
        r = self.route("multi.relay.example")
        self.assertEqual(r["status"], "ok")
        self.assertEqual([(m[0], m[1], m[3]) for m in r["mx"]],
                         [(10, "mx1.relay.example.", ["127.0.0.11"]),
                          (20, "mx2.relay.example.", ["127.0.0.12"]),
                          (30, "mx3.relay.example.", ["::1"])])
        self.assertFalse(r["implicit"])
        self.assertEqual(r["sec"], "insecure")

    def test_equal_preferences_shuffled(self):
        orders = set()
        for _ in range(12):
            r = self.route("equal.relay.example")
            self.assertEqual(r["mx"][0][1], "best.relay.example.")
            rest = tuple(m[1] for m in r["mx"][1:])
            self.assertEqual(sorted(rest), ["e1.relay.example.",
                                            "e2.relay.example.",
                                            "e3.relay.example."])
            orders.add(rest)
        # 12 draws of 6 orders all alike has odds 6^-11.
        self.assertGreater(len(orders), 1)

    def test_implicit_mx(self):
        r = self.route("implicit.relay.example")
        self.assertEqual(r["status"], "ok")
        self.assertTrue(r["implicit"])
        self.assertEqual(r["mx"], [(0, "implicit.relay.example", "insecure",
                                    ["::1", "127.0.0.2"])])

    def test_null_mx(self):
        r = self.route("nullmx.relay.example")
        self.assertEqual((r["status"], r["enhanced"]), ("perm", "5.1.10"))
        self.assertIn("nullMX", r["text"])

    def test_cname_chain(self):
        r = self.route("alias.relay.example")
        self.assertEqual(r["status"], "ok")
        self.assertEqual([m[1] for m in r["mx"]],
                         ["mx1.relay.example.", "mx2.relay.example.",
                          "mx3.relay.example."])

    def test_nxdomain_permanent(self):
        r = self.route("nosuch.relay.example")
        self.assertEqual((r["status"], r["enhanced"]), ("perm", "5.4.4"))
        self.assertIn("name=nosuch.relay.example type=MX", r["text"])

    def test_mx_without_address_permanent(self):
        r = self.route("noaddr.relay.example")
        self.assertEqual((r["status"], r["enhanced"]), ("perm", "5.4.4"))

    def test_refused_temporary(self):
        # Not a zone the server has: it refuses; unbound says SERVFAIL.
        r = self.route("elsewhere.org")
        self.assertEqual((r["status"], r["enhanced"]), ("temp", "4.4.3"))

    def test_loops_back_to_myself(self):
        self_ = ("-A", "127.0.0.1")
        for d in ("loop.relay.example", "loopbk.relay.example"):
            r = self.route(d, opts=self_)
            self.assertEqual((r["status"], r["enhanced"]),
                             ("perm", "5.4.6"), d)
            self.assertIn("loops back to myself", r["text"])
        r = self.route("loopok.relay.example", opts=self_)
        self.assertEqual([m[1] for m in r["mx"]], ["mx2.relay.example."])
        # By name too; and not this host: the MX is used.
        r = self.route("loop.relay.example", opts=("-N", "SELF.relay.example"))
        self.assertEqual(r["status"], "perm")
        r = self.route("loop.relay.example", opts=("-A", "127.0.0.9"))
        self.assertEqual(r["mx"][0][3], ["127.0.0.1"])

    def test_family_order(self):
        want = {"both": ["::1", "127.0.0.3", "::2", "127.0.0.4"],
                "ipv4": ["127.0.0.3", "127.0.0.4", "::1", "::2"],
                "ipv6": ["::1", "::2", "127.0.0.3", "127.0.0.4"]}
        for fam, addrs in want.items():
            r = self.route("dual.relay.example", opts=("-f", fam))
            got = r["mx"][0][3]
            # The server's order within a family is its own.
            self.assertEqual([":" in a for a in got],
                             [":" in a for a in addrs], fam)
            self.assertEqual(sorted(got), sorted(addrs), fam)

    def test_resolver_down_temporary(self):
        # Nothing listens there: libunbound gives up (SERVFAIL) after its
        # retries, some seconds.
        port = free_ports(1)[0]
        r = subprocess.run([DNSQ, "-r", "127.0.0.54", "-p", str(port),
                            "multi.relay.example"], capture_output=True,
                           text=True, timeout=TIMEOUT)
        route = parse(r.stdout)[0]
        self.assertEqual((route["status"], route["enhanced"]),
                         ("temp", "4.4.3"))
        self.assertEqual(route["mx"], [])

    def test_resolver_none_sends_nothing(self):
        r = subprocess.run([DNSQ, "-n", "multi.relay.example"],
                           capture_output=True, text=True, timeout=TIMEOUT)
        route = parse(r.stdout)[0]
        self.assertEqual((route["status"], route["enhanced"]),
                         ("temp", "4.4.3"))
        self.assertIn("resolver none", route["text"])

    def test_dnssec_secure_and_bogus(self):
        ta = ("-t", os.path.join(self.dir, "ta"))
        r = self.route("secure.example", opts=ta)
        self.assertEqual((r["status"], r["sec"]), ("ok", "secure"))
        self.assertEqual(r["mx"], [(10, "mx.secure.example.", "secure",
                                    ["127.0.0.30"])])
        r = self.route("bogus.example", opts=ta)
        self.assertEqual(r["status"], "temp")
        self.assertIn("DNSSEC validation failed", r["text"])
        self.assertEqual(r["mx"], [])
        # Without the anchor the same answers are merely insecure.
        r = self.route("secure.example")
        self.assertEqual((r["status"], r["sec"]), ("ok", "insecure"))

    def tlsa(self, host, opts=()):
        out = self.dnsq([host], opts=("-T", "25") + tuple(opts)).stdout
        lines = out.splitlines()
        w = lines[0].split()
        self.assertEqual(w[:2], ["tlsa", host])
        return w[2], w[3][4:], [l.split()[1:] for l in lines[1:]
                                 if l.startswith("rr ")], out

    def test_tlsa(self):
        ta = ("-t", os.path.join(self.dir, "ta"))
        status, sec, rrs, _ = self.tlsa("mx.secure.example", ta)
        self.assertEqual((status, sec), ("ok", "secure"))
        self.assertEqual(rrs, [["3", "1", "1", "ab" * 32]])
        # Without the anchor: the same record, but not for DANE.
        status, sec, rrs, _ = self.tlsa("mx.secure.example")
        self.assertEqual((status, sec, len(rrs)), ("ok", "insecure", 1))
        # None published (NXDOMAIN): fine, and no records.
        status, sec, rrs, _ = self.tlsa("mx1.relay.example", ta)
        self.assertEqual((status, sec, rrs), ("ok", "insecure", []))
        status, _, _, out = self.tlsa("mx.elsewhere.org")
        self.assertEqual(status, "temp", out)

    def test_dane_end_to_end(self):
        """The TLSA record of a signed zone, validated by libunbound
        through nsd, passed to the SMTP client: the server whose key it
        names is delivered to, verified=dane-ee; without the trust
        anchor the record is insecure and not used."""
        ta = ("-t", os.path.join(self.dir, "ta"))
        for opts, sec, verified in ((ta, "secure", "dane-ee"),
                                    ((), "insecure", "no")):
            status, got, rrs, out = self.tlsa("dane.secure.example", opts)
            self.assertEqual((status, got, len(rrs)), ("ok", sec, 1), out)
            s = FakeServer(tls=self.cert)
            self.addCleanup(s.close)
            args = ["-n", "dane.secure.example", "-D", " ".join(rrs[0])]
            res, _, err = smtpc(s.port, ["a@x.test"], args=args +
                                (["-I"] if sec != "secure" else []))
            self.assertEqual(res["a@x.test"][0][0], "done", err)
            self.assertIn("verified=%s " % verified, err)
        # A record for another key, secure: the delivery is deferred.
        status, _, rrs, _ = self.tlsa("mx.secure.example", ta)
        s = FakeServer(tls=self.cert)
        self.addCleanup(s.close)
        res, _, _ = smtpc(s.port, ["a@x.test"], args=[
            "-n", "mx.secure.example", "-D", " ".join(rrs[0])])
        self.assertEqual(res["a@x.test"][0][0], "retry")
        self.assertIn("4.7.5", res["a@x.test"][0][1])

    def test_zz_cache_outlives_server(self):
        """Answers are cached for their TTL (300 s): with the server
        stopped, the second routes come from the cache, positive and
        negative alike.  Runs last (zz): it stops nsd."""
        p = subprocess.Popen([DNSQ, "-r", ADDR, "-p", str(self.port), "-w",
                              "multi.relay.example", "nosuch.relay.example",
                              "multi.relay.example", "nosuch.relay.example"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)
        try:
            first = p.stdout.readline()
            first += p.stdout.readline()
            p.stdin.write("\n")
            p.stdin.flush()
            while "route nosuch" not in first:
                first += p.stdout.readline()
            first += p.stdout.readline()
            self.stop_nsd()
            p.stdin.write("\n\n")
            p.stdin.flush()
            out, _ = p.communicate(timeout=TIMEOUT)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        routes = parse(first + out)
        self.assertEqual([r["status"] for r in routes],
                         ["ok", "perm", "ok", "perm"])
        self.assertEqual(routes[0]["mx"], routes[2]["mx"])
