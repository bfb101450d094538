"""The relay end to end (issue 9, "Must show"): sallyport A, started as
root like every suite, relays what its clients send through its real
relay process to real peers on loopback addresses of this module's own
(127.0.9.x), found through nsd (relaypeers.Nsd) serving e2e.example and
two DNSSEC-signed zones with TLSA records:

  - sallyport B (a second suite) on 127.0.9.2:25, the MX of
    b.e2e.example: byte-identical delivery over STARTTLS verified
    against a test CA; and B's submission port on 127.0.9.2:587 as a
    smarthost with STARTTLS and AUTH (a secrets file);
  - Postfix on 127.0.9.3:25 receiving for pf.e2e.example, and sending
    to A through its relayhost;
  - scripted servers (relaypeers.FakeServer) on port 25 of their own
    addresses: 4xx then 250, 5xx (a bounce naming the reply with
    Remote-MTA), a per-recipient mix in one transaction, 421 at the
    greeting, a drop in DATA, a stall past a short timeout, no STARTTLS
    with "tls require", a bad certificate with "tls verify", over-long
    replies, garbage, 10,000 continuation lines, the first MX down, all
    down then back with "sallyctl schedule all", expiry and a delay
    notice sent once, a null MX, CNAME and implicit MX, an MX with
    only an AAAA record (::1), DANE.

Every test waits for conditions (generous timeouts); the relay's retry,
backoff and timeouts are configured short.  Without the relay built
the classes that need it are skipped (relaypeers.relay_missing)."""

import os
import re
import smtplib
import subprocess
import tempfile
import time
import unittest

import relaypeers
from relaypeers import (FakeServer, Nsd, TestCA, make_cert, mails_with,
                        strip_trace, tlsa_311)
from suite import MAIL_USERS, Suite, make_message, need_root, wait_for

NET = "127.0.9."
NSD_ADDR = NET + "53"
B_ADDR = NET + "2"
PF_ADDR = NET + "3"
ZONE_NAME = "e2e.example"
WAIT = 90                   # seconds for anything to arrive
HELO = "client.example.test"

# Scripted servers: domain -> last octet of its MX's address.
SCRIPTED = {
    "ok": 10, "temp": 11, "perm": 12, "mix": 13, "greet": 14, "drop": 15,
    "stall": 16, "notls": 17, "badcert": 18, "longreply": 19,
    "garbage": 20, "cont": 21, "expire": 34, "sink": 40,
}

ZONE = """$ORIGIN e2e.example.
$TTL 300
@ SOA ns.e2e.example. admin.e2e.example. 1 3600 600 86400 60
@ NS ns
ns A {net}53
b MX 10 mx.b
mx.b A {net}2
pf MX 10 mx.pf
mx.pf A {net}3
null MX 0 .
alias CNAME alias2
alias2 CNAME ok
implicit A {net}22
v6 MX 10 mx.v6
mx.v6 AAAA ::1
firstdown MX 10 mx1.firstdown
firstdown MX 20 mx2.firstdown
mx1.firstdown A {net}30
mx2.firstdown A {net}31
alldown MX 10 mx1.alldown
alldown MX 20 mx2.alldown
mx1.alldown A {net}32
mx2.alldown A {net}33
""".format(net=NET) + "".join(
    "{d} MX 10 mx.{d}\nmx.{d} A {net}{n}\n".format(d=d, n=n, net=NET)
    for d, n in SCRIPTED.items())

DANE_ZONE = """$ORIGIN {name}.
$TTL 300
@ SOA ns.{name}. admin.{name}. 1 3600 600 86400 60
@ NS ns
ns A {net}53
@ MX 10 mx
mx A {addr}
_25._tcp.mx TLSA 3 1 1 {tlsa}
"""

NSD = None
CA = None
TMP = None


def setUpModule():
    global NSD, CA, TMP
    need_root()
    if not relaypeers.have_nsd():
        raise unittest.SkipTest("nsd or ldnsutils not installed")
    TMP = tempfile.mkdtemp(prefix="sallyport-e2e-")
    os.chmod(TMP, 0o755)
    CA = TestCA(TMP)
    CA.mx = CA.issue(["mx.b.e2e.example", "mail.example.test",
                      "IP:" + B_ADDR], "mx-b")
    CA.dane = CA.issue(["mx.dane.example"], "mx-dane")
    for p in (CA.cert, CA.mx[0], CA.dane[0]):
        os.chmod(p, 0o644)
    good = tlsa_311(CA.dane[0])
    signed = {
        "dane.example": (DANE_ZONE.format(name="dane.example", net=NET,
                                          addr=NET + "41", tlsa=good),
                         None),
        "danebad.example": (DANE_ZONE.format(name="danebad.example",
                                             net=NET, addr=NET + "42",
                                             tlsa="ab" * 32), None),
    }
    NSD = Nsd(NSD_ADDR, {ZONE_NAME: ZONE}, signed).start()


def tearDownModule():
    if NSD is not None:
        NSD.close()
    if TMP is not None:
        subprocess.run(["rm", "-rf", TMP])


def addr(user, domain):
    return "%s@%s.%s" % (user, domain, ZONE_NAME)


def first_received(data):
    """The first Received header of a delivered file (the last hop's),
    with its continuation lines."""
    i = data.index(b"Received:")
    j = data.find(b"\nReceived:", i)
    k = data.find(b"\n\n", i)
    return data[i:min(x for x in (j, k) if x != -1)]


def marker(name):
    return "%s-%d" % (name, time.monotonic_ns())


class RelayCase(unittest.TestCase):
    """Sallyport A with the relay, relaying for 127.0.0.1, its resolver
    the module's nsd; suite_args and extra as for SuiteTest."""

    suite_args = {}
    extra = ()

    @classmethod
    def setUpClass(cls):
        why = relaypeers.relay_missing()
        if why:
            raise unittest.SkipTest(why)
        args = dict(cls.suite_args)
        args.setdefault("retry", "1s")
        args.setdefault("max_retry", "2s")
        cls.a = Suite(cls.__name__.lower(), resolver=NSD.resolver_args(),
                      extra_config=["relay from 127.0.0.1/32",
                                    "relay backoff 1s max 2s"]
                      + [l.format(ca=CA.cert, tmp=TMP) for l in cls.extra],
                      **args)
        try:
            relaypeers.check_config(cls.a)
            cls.a.start()
        except BaseException:
            cls.a.keep = True
            cls.a.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "a", None) is not None:
            cls.a.cleanup()

    def run(self, result=None):
        before = (len(result.failures) + len(result.errors)
                  if result is not None else 0)
        out = super().run(result)
        if result is not None and getattr(self, "a", None) and \
                len(result.failures) + len(result.errors) > before:
            self.a.keep = True
            self.a.dump_logs()
        return out

    def serve(self, domain, **opts):
        """A scripted server on port 25 of the domain's MX address."""
        s = FakeServer(NET + str(SCRIPTED[domain]), 25, **opts)
        self.addCleanup(s.close)
        return s

    def send(self, subject, rcpts, body=("relayed by the tests",)):
        msg = make_message(subject, list(body), rcpt=rcpts[0])
        code, text = self.a.send(msg, rcpts=rcpts)
        self.assertEqual(code, 250, text)
        return msg

    def relay_pid(self):
        return self.a.wait_child_as("queued", "_sallyrelay",
                                    role="relay").pid

    # -- what arrived

    def wait_delivered(self, server, rcpt, timeout=WAIT):
        return wait_for(lambda: server.delivered(rcpt), timeout,
                        interval=0.2, what="%s delivered to %s:25"
                        % (rcpt, server.addr))

    def dsns(self, mark, action):
        """The notifications in alice's Maildir (A) about mark."""
        return mails_with(self.a.maildir("alice"), mark.encode(),
                          b"Action: " + action.encode())

    def wait_dsn(self, mark, action="failed", timeout=WAIT):
        return wait_for(lambda: self.dsns(mark, action), timeout,
                        interval=0.2, what="a DSN (Action: %s) for %s"
                        % (action, mark))[0]

    def assert_bounce(self, dsn, rcpt, reply, mta=None):
        text = dsn.decode("latin-1")
        self.assertIn("multipart/report", text)
        self.assertIn("message/delivery-status", text)
        self.assertIn(rcpt, text)
        self.assertIn(reply, text)
        if mta is not None:
            self.assertRegex(text, r"(?i)Remote-MTA: *dns; *%s"
                             % re.escape(mta))

    def assert_logged(self, pattern):
        """A line of A's queued.log (the relay's) matches pattern."""
        if not re.search(pattern, self.a.log("queued")):
            self.fail("no line of queued.log matches %r" % pattern)

    def show_queue(self):
        r = self.a.sallyctl("show", "queue")
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def assert_deferred(self, server, rcpt, mark):
        """Tried more than once, never given MAIL, no bounce, still in
        the queue."""
        wait_for(lambda: server.conns >= 2, WAIT, interval=0.2,
                 what="a second try at %s" % server.addr)
        self.assertNotIn(b"MAIL", server.verbs())
        self.assertEqual(self.dsns(mark, "failed"), [])
        self.assertIn(rcpt, self.show_queue())


class TestRelayScripted(RelayCase):
    extra = (
        "timeout relay-data-init 3s",
        "relay to notls.e2e.example tls require",
        'relay to badcert.e2e.example tls verify ca "{ca}"',
    )

    def test_4xx_retried_then_delivered(self):
        rcpt = addr("x", "temp")
        s = self.serve("temp", rcpt={rcpt: [b"451 4.3.0 try later\r\n",
                                            b"250 2.1.5 ok\r\n"]})
        mark = marker("temp")
        self.send(mark, [rcpt])
        t = self.wait_delivered(s, rcpt)
        self.assertEqual(len(t), 1)
        self.assertGreaterEqual(s.rcpt_tries(rcpt), 2)
        self.assertIn(mark.encode(), t[0].data)
        self.assertEqual(self.dsns(mark, "failed"), [])

    def test_5xx_bounced_with_the_remote_reply(self):
        rcpt = addr("gone", "perm")
        s = self.serve("perm", rcpt={
            rcpt: b"550 5.1.1 <gone> no such mailbox here\r\n"})
        mark = marker("perm")
        self.send(mark, [rcpt])
        dsn = self.wait_dsn(mark)
        self.assert_bounce(dsn, rcpt, "550 5.1.1 <gone> no such mailbox "
                           "here", "mx.perm.e2e.example")
        self.assertIn(b"Action: failed", dsn)
        self.assertEqual(s.delivered(), [])
        self.assertEqual(s.rcpt_tries(rcpt), 1)

    def test_per_recipient_mix_in_one_transaction(self):
        ok, later, bad = (addr("a", "mix"), addr("b", "mix"),
                          addr("c", "mix"))
        s = self.serve("mix", rcpt={
            later: [b"452 4.2.2 over quota for now\r\n", b"250 ok\r\n"],
            bad: b"550 5.1.1 c is unknown\r\n"})
        mark = marker("mix")
        self.send(mark, [ok, later, bad])
        self.wait_delivered(s, later)
        dsn = self.wait_dsn(mark)
        first = s.transactions[0]
        self.assertEqual([a for a, _ in first.rcpts], [ok, later, bad])
        self.assertEqual(first.delivered(), [ok])
        self.assertEqual(len(s.delivered(ok)), 1, "ok delivered twice")
        self.assertEqual(len(s.delivered(later)), 1)
        self.assertEqual(s.rcpt_tries(bad), 1)
        self.assert_bounce(dsn, bad, "550 5.1.1 c is unknown")
        self.assertEqual(re.findall(rb"(?i)Final-Recipient: *rfc822; *(\S+)",
                                    dsn), [bad.encode()])

    def test_421_greeting_retried(self):
        rcpt = addr("x", "greet")
        s = self.serve("greet", greeting=[b"421 4.3.2 not now\r\n",
                                          b"220 ready\r\n"])
        self.send(marker("greet"), [rcpt])
        self.wait_delivered(s, rcpt)
        self.assertGreaterEqual(s.conns, 2)

    def test_drop_mid_data_retried_never_delivered_twice(self):
        rcpt = addr("x", "drop")
        s = self.serve("drop", drop=[2, -1])
        mark = marker("drop")
        self.send(mark, [rcpt], ["line %d" % i for i in range(20)])
        self.wait_delivered(s, rcpt)
        self.assertIsNone(s.transactions[0].data, "the first try ended")
        time.sleep(3)
        self.assertEqual(len(s.delivered(rcpt)), 1)
        self.assertEqual(self.dsns(mark, "failed"), [])

    def test_stall_past_timeout(self):
        rcpt = addr("x", "stall")
        s = self.serve("stall", caps=(b"8BITMIME",), stall=[b"DATA", None],
                       stall_secs=60)
        self.send(marker("stall"), [rcpt])
        t0 = time.monotonic()
        self.wait_delivered(s, rcpt)
        # Delivered by the second connection, long before the stall ends.
        self.assertGreaterEqual(s.conns, 2)
        self.assertLess(time.monotonic() - t0, 60)
        self.assert_logged(r"(?i)timeout|timed out")

    def test_no_starttls_with_tls_require_deferred(self):
        rcpt = addr("x", "notls")
        s = self.serve("notls")
        mark = marker("notls")
        self.send(mark, [rcpt])
        self.assert_deferred(s, rcpt, mark)

    def test_bad_certificate_with_tls_verify_deferred(self):
        rcpt = addr("x", "badcert")
        other = make_cert(TMP, "mx.badcert.e2e.example")   # not the CA's
        s = self.serve("badcert", tls=other)
        mark = marker("badcert")
        self.send(mark, [rcpt])
        self.assert_deferred(s, rcpt, mark)
        self.assertIn(b"STARTTLS", s.verbs())

    def bad_input(self, domain, **opts):
        """The first connection gets the bad input: a temporary failure
        of that connection only (the relay process lives on, another
        destination is served meanwhile); the second delivers."""
        pid = self.relay_pid()
        rcpt = addr("x", domain)
        s = self.serve(domain, **opts)
        good = self.serve("ok")
        self.send(marker(domain), [rcpt])
        self.send(marker("meanwhile"), [addr("y", "ok")])
        self.wait_delivered(s, rcpt)
        self.wait_delivered(good, addr("y", "ok"))
        self.assertGreaterEqual(s.conns, 2)
        self.assertEqual(len(s.delivered(rcpt)), 1)
        self.assertEqual(self.relay_pid(), pid, "the relay process died")

    def test_overlong_reply_line(self):
        self.bad_input("longreply", greeting=[
            b"220-" + b"x" * 5000 + b"\r\n220 ok\r\n", b"220 ok\r\n"])

    def test_garbage_reply(self):
        self.bad_input("garbage", mail=[b"hello there\r\n",
                                        b"250 2.1.0 ok\r\n"])

    def test_ten_thousand_continuation_lines(self):
        self.bad_input("cont", greeting=[b"220-x\r\n" * 10000 +
                                         b"220 x\r\n", b"220 ok\r\n"])

    def test_first_mx_down_second_up(self):
        rcpt = addr("x", "firstdown")
        s = FakeServer(NET + "31", 25)
        self.addCleanup(s.close)
        self.send(marker("firstdown"), [rcpt])
        self.wait_delivered(s, rcpt)

    def test_null_mx_bounced_at_once(self):
        rcpt = addr("x", "null")
        mark = marker("nullmx")
        self.send(mark, [rcpt])
        dsn = self.wait_dsn(mark, timeout=30)
        self.assert_bounce(dsn, rcpt, "5.1.10")
        self.assertEqual(self.dsns(mark, "delayed"), [])

    def test_cname_chain_and_implicit_mx(self):
        s = self.serve("ok")
        imp = FakeServer(NET + "22", 25)
        self.addCleanup(imp.close)
        self.send(marker("cname"), [addr("x", "alias")])
        self.send(marker("implicit"), [addr("x", "implicit")])
        self.wait_delivered(s, addr("x", "alias"))
        self.wait_delivered(imp, addr("x", "implicit"))

    def test_mx_with_an_ipv6_address(self):
        """An MX with only an AAAA record (::1): reached over IPv6."""
        s = FakeServer("::1", 25)
        self.addCleanup(s.close)
        self.send(marker("v6"), [addr("x", "v6")])
        self.wait_delivered(s, addr("x", "v6"))

    @unittest.skipIf(relaypeers.dane_missing(), relaypeers.dane_missing())
    def test_dane_secure_tlsa(self):
        """dane.example is signed, its MX's TLSA 3 1 1 record matches
        the server's key (from a CA the relay is not told of);
        danebad.example's does not: deferred."""
        good = FakeServer(NET + "41", 25, tls=CA.dane)
        self.addCleanup(good.close)
        bad = FakeServer(NET + "42", 25, tls=CA.dane)
        self.addCleanup(bad.close)
        self.send(marker("dane"), ["x@dane.example"])
        t = self.wait_delivered(good, "x@dane.example")
        self.assertTrue(t[0].tls)
        self.assert_logged(r"verified=dane-ee name=mx\.dane\.example")
        mark = marker("danebad")
        self.send(mark, ["x@danebad.example"])
        self.assert_deferred(bad, "x@danebad.example", mark)


class TestRelayScheduleAndExpiry(RelayCase):
    """The queue retries only every 10 minutes here: what arrives after
    the hosts come back was sent by "sallyctl schedule all"."""

    suite_args = {"retry": "10m", "max_retry": "1h", "expire": "1h"}

    def test_all_down_then_one_back_and_schedule(self):
        rcpt = addr("x", "alldown")
        mark = marker("alldown")
        self.send(mark, [rcpt])
        # One log line per connection, with the address: the second MX
        # was tried too.
        wait_for(lambda: NET + "33" in self.a.log("queued"), WAIT,
                 interval=0.5, what="a try at the second MX")
        self.assertIn(rcpt, self.show_queue())
        s = FakeServer(NET + "33", 25)
        self.addCleanup(s.close)
        time.sleep(3)
        self.assertEqual(s.delivered(), [], "retried before 10 minutes")
        r = self.a.sallyctl("schedule", "all")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.wait_delivered(s, rcpt)
        self.assertEqual(self.dsns(mark, "failed"), [])


class TestRelayExpiry(RelayCase):
    suite_args = {"expire": "20s", "delay_notice": "5s"}

    def test_delay_notice_once_then_expiry_bounce(self):
        rcpt = addr("x", "expire")
        s = self.serve("expire", rcpt={rcpt: b"452 4.2.2 mailbox full\r\n"})
        mark = marker("expire")
        self.send(mark, [rcpt])
        delayed = self.wait_dsn(mark, "delayed", timeout=60)
        self.assertIn(b"452 4.2.2 mailbox full", delayed)
        dsn = self.wait_dsn(mark, "failed", timeout=90)
        self.assert_bounce(dsn, rcpt, "452 4.2.2 mailbox full",
                           "mx.expire.e2e.example")
        time.sleep(4)
        self.assertEqual(len(self.dsns(mark, "delayed")), 1,
                         "more than one delay notice")
        self.assertEqual(len(self.dsns(mark, "failed")), 1)
        self.assertGreaterEqual(s.rcpt_tries(rcpt), 2)
        self.assertEqual(s.delivered(), [])


class TestRelayToPeers(RelayCase):
    """Sallyport B and Postfix as the receiving peers."""

    extra = (
        'relay to b.e2e.example tls verify ca "{ca}"',
        'relay to smart.e2e.example via %s port 587 '
        'tls verify ca "{ca}" auth bsub' % B_ADDR,
        'relay to smartname.e2e.example via mx.b.e2e.example port 587 '
        'tls verify ca "{ca}" auth bsub',
        'secrets "{tmp}/secrets"',
    )

    @classmethod
    def setUpClass(cls):
        if relaypeers.relay_missing():
            raise unittest.SkipTest(relaypeers.relay_missing())
        with open(os.path.join(TMP, "secrets"), "w") as f:
            f.write("bsub alice demo\n")
        os.chmod(os.path.join(TMP, "secrets"), 0o600)
        cls.b = Suite("relaypeer-b", extra_config=[
            'domain "b.e2e.example"', 'domain "smart.e2e.example"',
            'domain "smartname.e2e.example"',
            "listen smtp on %s port 25" % B_ADDR,
            "listen submission on %s port 587" % B_ADDR])
        # B's certificate from the test CA, for its MX's name.
        for src, dst in zip(CA.mx, (cls.b.cert, cls.b.path("etc",
                                                          "key.pem"))):
            with open(src, "rb") as f, open(dst, "wb") as g:
                g.write(f.read())
        cls.b.start()
        cls.pf = None
        try:
            super().setUpClass()
            if relaypeers.have_postfix():
                cls.pf = relaypeers.postfix_peer_class()(
                    PF_ADDR, "pf.e2e.example",
                    relayhost="[127.0.0.1]:%d" % cls.a.smtp_port)
                cls.pf.start()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.pf is not None:
            cls.pf.stop()
            cls.pf = None
        super().tearDownClass()
        if cls.b is not None:
            cls.b.cleanup()
            cls.b = None

    def test_to_sallyport_b_byte_identical_verified_tls(self):
        mark = marker("a-to-b")
        msg = self.send(mark, [addr("bob", "b")],
                        ["relayed to B", ".a dot line", "x" * 900, "end"])
        got = self.b.wait_marked(mark, "bob", timeout=WAIT)
        self.assertEqual(strip_trace(got), msg.replace(b"\r\n", b"\n"))
        self.assertIn(b" with ESMTPS ", first_received(got))
        self.assert_logged(r"verified=(yes|pkix) name=mx\.b\.e2e\.example")

    def test_smarthost_with_starttls_and_auth(self):
        self.smarthost("smart")

    def test_smarthost_by_name(self):
        """The smarthost named, not numeric: resolved (nsd) and its
        certificate checked against the name."""
        self.smarthost("smartname")

    def smarthost(self, domain):
        mark = marker(domain)
        msg = self.send(mark, [addr("bob", domain)])
        got = self.b.wait_marked(mark, "bob", timeout=WAIT)
        self.assertEqual(strip_trace(got), msg.replace(b"\r\n", b"\n"))
        # B's Received line: TLS and AUTH (ESMTPSA).
        self.assertIn(b" with ESMTPSA ", first_received(got))

    def test_to_postfix(self):
        if self.pf is None:
            self.skipTest("postfix is not installed")
        mark = marker("a-to-postfix")
        msg = self.send(mark, ["bob@pf.e2e.example"])
        new = self.pf.path("mail", "bob", "Maildir", "new")
        got = wait_for(lambda: mails_with(new, mark.encode()), WAIT,
                       interval=0.3, what="the message in Postfix's "
                       "Maildir")[0]
        self.assertEqual(strip_trace(got), msg.replace(b"\r\n", b"\n"))


class TestPostfixSendsToSallyport(unittest.TestCase):
    """Postfix relaying to sallyport (its relayhost): needs no relay of
    sallyport's, only its smtpd."""

    @classmethod
    def setUpClass(cls):
        need_root()
        if not relaypeers.have_postfix():
            raise unittest.SkipTest("postfix is not installed")
        cls.a = Suite("postfix-to-a")
        cls.a.start()
        cls.pf = relaypeers.postfix_peer_class()(
            PF_ADDR, "pf2.e2e.example", port=2525,
            relayhost="[127.0.0.1]:%d" % cls.a.smtp_port)
        try:
            cls.pf.start()
        except BaseException:
            cls.pf.stop(keep=True)
            cls.a.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.pf.stop()
        cls.a.cleanup()

    def test_postfix_relays_to_sallyport(self):
        mark = marker("postfix-to-a")
        msg = make_message(mark, ["through Postfix", ".dot", "end"])
        with smtplib.SMTP(PF_ADDR, 2525, local_hostname=HELO,
                          timeout=60) as c:
            self.assertEqual(c.sendmail("carol@pf2.e2e.example",
                                        ["bob@example.test"], msg), {})
        got = self.a.wait_marked(mark, "bob", timeout=WAIT)
        self.assertEqual(strip_trace(got), msg.replace(b"\r\n", b"\n"))
        self.assertIn(b"Return-Path: <carol@pf2.e2e.example>", got)


assert set(MAIL_USERS) >= {"alice", "bob"}

if __name__ == "__main__":
    unittest.main()
