"""The relay process (issue 9; queued/relay*.c).  In the suite: queued
starts it as _sallyrelay in the empty chroot under its seccomp filter,
lists it in show status and restarts it when it dies.  Its insides (the
manager's protocol, routes, pool, connections, results) through
regress/relay/relayq, which plays the queue manager on a socketpair and
loads the relay's seccomp filter: smarthost delivery with connection
reuse, per-recipient results, backoff of a host that is down, a
connection dropped in DATA, TLS required and verified, DSN passed on;
and MX routing through nsd (Debian's) on 127.0.0.54: first MX down or
answering 421 -> the next one, null MX, NXDOMAIN."""

import os
import signal
import socket
import subprocess
import tempfile
import threading
import unittest

import suite
from relaypeers import FakeServer, Nsd, have_nsd, make_cert
from suite import REPO, SuiteTest, free_ports, need_root, wait_for

RELAYQ = os.path.join(REPO, "regress", "relay", "relayq")
DNS_ADDR = "127.0.0.54"
# MX hosts of the test zone, each on port 25 (as root).
MX_DOWN, MX_UP, MX_421 = "127.0.0.161", "127.0.0.162", "127.0.0.163"
MESSAGE = b"From: <s@example.test>\nSubject: relayed\n\nhello\n.dot\n"
ZONE = """$ORIGIN proc.example.
$TTL 300
@ SOA ns.proc.example. admin.proc.example. 1 3600 600 86400 60
@ NS ns
ns A {dns}
two MX 10 mxdown
two MX 20 mxup
busy MX 10 mx421
busy MX 20 mxup
mxdown A {down}
mxup A {up}
mx421 A {busy}
nullmx MX 0 .
smart A {up}
smart MX 10 mxdown
"""
CONF = 'hostname "relay.example.test"\n'


def relayq(conf, rcpts, args=(), message=MESSAGE, timeout=180):
    """Runs relayq: ({evpid: (result, flags, status, remote, diag)},
    {dest: (conns, queued, active, backoff, error)}, {stat: n}, stderr)."""
    with tempfile.NamedTemporaryFile() as m:
        m.write(message)
        m.flush()
        r = subprocess.run([RELAYQ, "-f", conf, "-Z"] + list(args) +
                           [m.name] + list(rcpts), capture_output=True,
                           text=True, timeout=timeout)
    assert r.returncode == 0, r.stdout + r.stderr
    results, hosts, stats = {}, {}, {}
    for line in r.stdout.splitlines():
        w = line.split(" ")
        if w[0] == "result":
            results[w[1]] = (w[2], int(w[3]), w[4], w[5], " ".join(w[6:]))
        elif w[0] == "host":
            hosts[w[1]] = (int(w[2]), int(w[3]), int(w[4]), int(w[5]),
                           " ".join(w[6:]))
        elif w[0] == "stat":
            stats[w[1]] = int(w[2])
    return results, hosts, stats, r.stderr


class RelayProcessTest(SuiteTest):
    """The relay as queued's child."""

    def test_runs_confined_and_listed(self):
        s = self.suite
        relay = s.relay()
        uid, gid = suite.user_ids("_sallyrelay")
        self.assertEqual(relay.uids, (uid,) * 4)
        self.assertEqual(relay.root, os.path.realpath(s.chroot))
        self.assertEqual(relay.seccomp, 2, "the relay has no filter")
        out = s.sallyctl("show", "status").stdout
        lines = [l.split() for l in out.splitlines()
                 if l.split()[:1] == ["queued/relay"]]
        self.assertEqual(len(lines), 1, out)
        self.assertEqual(lines[0][1], str(relay.pid), out)

    def test_restarted_after_kill(self):
        s = self.suite
        old = s.relay().pid
        os.kill(old, signal.SIGKILL)
        new = wait_for(lambda: (lambda r: r if r and r.pid != old else
                                None)(s.child_as("queued", "_sallyrelay",
                                             role="relay")),
                       60, what="a new relay process")
        self.assertNotEqual(new.pid, old)
        self.assertIn("relay started", s.log("queued"))
        # The manager and the delivery agent carry on.
        self.assertIsNotNone(s.manager())


class RelayConfiguredSmarthostTest(SuiteTest):
    """From the configuration: "relay to DOMAIN via ADDRESS port N" sends
    that domain's mail to a scripted server with the route's HELO;
    another domain (by MX, "resolver none") is retried with
    the reason; show hosts and show stats carry the relay's view."""

    @classmethod
    def setUpClass(cls):
        need_root()
        cls.srv = FakeServer()
        cls.suite_args = {"extra_config": [
            'relay from "127.0.0.1/32"',
            'relay to "smart.example" via "127.0.0.1" port %d tls none '
            'helo "out.example.test"' % cls.srv.port]}
        try:
            super().setUpClass()
        except BaseException:
            cls.srv.close()
            raise

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.srv.close()

    def test_route_from_config(self):
        s = self.suite
        for i in range(3):
            code, text = s.send(suite.make_message("smart-%d" % i, ["x"]),
                                rcpts=("u%d@smart.example" % i,))
            self.assertEqual(code, 250, text)
        wait_for(lambda: len(self.srv.delivered()) >= 3 or None, 60,
                 what="three messages at the smarthost")
        self.assertIn(b"EHLO out.example.test", self.srv.cmds)
        code, text = s.send(suite.make_message("by-mx", ["x"]),
                            rcpts=("v@mx.example",))
        self.assertEqual(code, 250, text)
        log = wait_for(lambda: (lambda l: l if "to=<v@mx.example>" in l
                                else None)(s.log("queued")), 60,
                       what="the MX route's result")
        self.assertIn("relay deferred to=<v@mx.example> relay=none "
                      "status=4.4.3", log)
        self.assertEqual(log.count("relay sent to=<u"), 3)
        out = s.sallyctl("show", "hosts").stdout
        self.assertIn("127.0.0.1:%d" % self.srv.port, out)
        self.assertIn("mx.example", out)
        self.assertIn("resolver none", out)


class RelaySmarthostTest(SuiteTest):
    """relayq through sallyport's own submission port (STARTTLS, AUTH
    PLAIN with credentials from a secrets file) and smtps port."""

    def secrets(self, password):
        path = self.suite.path("etc", "relay-secrets")
        with open(path, "w") as f:
            f.write("# label user password\nsmart alice %s\n" % password)
        os.chmod(path, 0o600)
        return path

    def relay(self, port, marker, extra):
        conf = self.suite.path("etc", "relayq.conf")
        with open(conf, "w") as f:
            f.write(CONF + "resolver none\n")
        msg = MESSAGE.replace(b"relayed", marker.encode())
        res, _, stats, err = relayq(conf, ["bob@%s" % suite.DOMAIN],
                                    ["-S", "127.0.0.1:%d" % port, "-F",
                                     "alice@%s" % suite.DOMAIN] + extra,
                                    message=msg)
        (r, flags, status, remote, diag), = res.values()
        return r, flags, diag, stats, err

    def test_submission_starttls_auth(self):
        s = self.suite
        r, flags, diag, stats, err = self.relay(
            s.submission_port, "smarthost-auth",
            ["-t", "require", "-a", "smart", "-P", self.secrets("demo")])
        self.assertEqual(r, "ok", err)
        self.assertEqual(flags & 2, 2, "not over TLS")
        self.assertIn(b"smarthost-auth", s.wait_marked("smarthost-auth"))
        self.assertIn("relay auth ok user=alice", err)

    def test_wrong_password_retried(self):
        r, flags, diag, stats, err = self.relay(
            self.suite.submission_port, "smarthost-badpw",
            ["-t", "require", "-a", "smart", "-P", self.secrets("wrong")])
        self.assertEqual(r, "tempfail", err)
        self.assertIn("auth: 535", diag)

    def test_auth_never_in_plaintext(self):
        r, flags, diag, stats, err = self.relay(
            self.suite.submission_port, "smarthost-plain",
            ["-t", "none", "-a", "smart", "-P", self.secrets("demo")])
        self.assertEqual(r, "tempfail", err)
        self.assertIn("AUTH needs TLS", diag)

    def test_label_without_secret_retried(self):
        r, flags, diag, stats, err = self.relay(
            self.suite.submission_port, "smarthost-nolabel",
            ["-t", "require", "-a", "other", "-P", self.secrets("demo")])
        self.assertEqual(r, "tempfail", err)
        self.assertIn("no credentials for auth label other", diag)

    def test_smtps_implicit_tls(self):
        s = self.suite
        r, flags, diag, stats, err = self.relay(
            s.smtps_port, "smarthost-smtps",
            ["-s", "-a", "smart", "-P", self.secrets("demo")])
        self.assertEqual(r, "ok", err)
        self.assertEqual(flags & 2, 2, "not over TLS")
        self.assertIn(b"smarthost-smtps", s.wait_marked("smarthost-smtps"))


class RelayInsideTest(unittest.TestCase):
    """relayq against scripted servers on loopback."""

    @classmethod
    def setUpClass(cls):
        need_root()
        if not os.access(RELAYQ, os.X_OK):
            raise unittest.SkipTest("regress/relay/relayq not built")
        cls.dir = tempfile.mkdtemp(prefix="relayproc.")
        cls.conf = os.path.join(cls.dir, "relay.conf")
        with open(cls.conf, "w") as f:
            f.write(CONF + "resolver none\n")

    def serve(self, **opts):
        srv = FakeServer(**opts)
        self.addCleanup(srv.close)
        return srv

    def test_smarthost_reuse(self):
        srv = self.serve()
        res, hosts, stats, _ = relayq(
            self.conf, ["a@one.example", "b@one.example", "c@two.example"],
            ["-S", "127.0.0.1:%d" % srv.port, "-c", "3", "-q"])
        self.assertEqual(len(res), 9, res)
        for evpid, (r, flags, status, remote, diag) in res.items():
            self.assertEqual(r, "ok", (evpid, diag))
            self.assertEqual(status, "2.0.0")
            self.assertEqual(remote, "127.0.0.1[127.0.0.1]:%d" % srv.port)
            self.assertIn("250 2.0.0 queued", diag)
        # Six messages (two domains, three times), one connection.
        self.assertEqual(srv.conns, 1)
        self.assertEqual(len(srv.messages), 6)
        self.assertEqual(srv.messages[0],
                         MESSAGE.replace(b".dot", b"..dot")
                         .replace(b"\n", b"\r\n"))
        self.assertEqual(stats["connections"], 1)
        self.assertEqual(stats["reused"], 5)
        self.assertEqual(stats["relayed"], 9)
        self.assertEqual(hosts["127.0.0.1:%d" % srv.port][3], 0)

    def test_batches_of_one_message_in_one_transaction(self):
        """Three RELAY_STARTs of one message for one domain, sent at
        once: one transaction, rcpts in envelope order, a result each."""
        srv = self.serve()
        rcpts = ["a@x.example", "b@x.example", "c@x.example"]
        res, _, stats, err = relayq(self.conf, rcpts[::-1],
                                    ["-S", "127.0.0.1:%d" % srv.port, "-1"])
        self.assertEqual(sorted(res), ["%016x.%d" % (0, i)
                                       for i in (1, 2, 3)], res)
        self.assertTrue(all(v[0] == "ok" for v in res.values()), res)
        self.assertEqual(len(srv.transactions), 1, err)
        self.assertEqual([a for a, _ in srv.transactions[0].rcpts],
                         rcpts[::-1])
        self.assertEqual(stats["messages"], 3)

    def test_per_recipient_results(self):
        srv = self.serve(rcpt={"no@x.example": b"550 5.1.1 no such user\r\n",
                               "later@x.example": b"450 4.2.0 busy\r\n"})
        res, _, stats, _ = relayq(
            self.conf, ["no@x.example", "later@x.example", "yes@x.example"],
            ["-S", "127.0.0.1:%d" % srv.port])
        by = {v[4].split()[0] if v[4] else "": v for v in res.values()}
        self.assertEqual(by["550"][:3], ("permfail", 0, "5.1.1"), res)
        self.assertIn("no such user", by["550"][4])
        self.assertEqual(by["450"][:3], ("tempfail", 0, "4.2.0"), res)
        self.assertEqual(by["250"][0], "ok", res)
        self.assertEqual((stats["relayed"], stats["deferred"],
                          stats["bounced"]), (1, 1, 1))

    def test_host_down_backed_off(self):
        port = free_ports(1)[0]
        # Sent at once: one connection is tried (a destination never
        # reached gets one at a time), the rest wait for it.
        res, hosts, stats, err = relayq(
            self.conf, ["a@x.example", "b@y.example", "c@z.example"],
            ["-S", "127.0.0.1:%d" % port, "-c", "2"])
        self.assertEqual(len(res), 6)
        for r, flags, status, remote, diag in res.values():
            self.assertEqual((r, status, remote), ("tempfail", "4.4.1", "-"))
            self.assertIn("Connection refused", diag)
        # One attempt, then every batch answered from the backoff.
        self.assertEqual(stats["connect_failed"], 1, err)
        self.assertEqual(stats["backoff"], 1)
        self.assertEqual(hosts["127.0.0.1:%d" % port][3], 1)

    def test_smtputf8_to_a_server_without_it(self):
        """RFC 6531 3.4: bounced 5.6.7, nothing sent; the connection
        carries the next message all the same."""
        srv = self.serve(caps=(b"PIPELINING", b"8BITMIME", b"DSN"))
        res, _, stats, err = relayq(self.conf, ["a@x.example"],
                                    ["-S", "127.0.0.1:%d" % srv.port, "-U",
                                     "-c", "2", "-q"])
        self.assertEqual(len(res), 2)
        for r, flags, status, remote, diag in res.values():
            self.assertEqual((r, status), ("permfail", "5.6.7"), err)
        self.assertEqual(srv.messages, [])
        self.assertEqual(stats["connections"], 1)

    def test_source_address_bound(self):
        """The route's source address is the connection's; a server that
        closes before its greeting is a temporary failure."""
        lsn = socket.socket()
        lsn.bind(("127.0.0.1", 0))
        lsn.listen(1)
        lsn.settimeout(60)
        self.addCleanup(lsn.close)
        peers = []

        def accept():
            try:
                c, addr = lsn.accept()
            except OSError:
                return
            peers.append(addr[0])
            c.close()
        t = threading.Thread(target=accept, daemon=True)
        t.start()
        res, _, _, err = relayq(self.conf, ["a@x.example"],
                                ["-S", "127.0.0.1:%d" % lsn.getsockname()[1],
                                 "-B", "127.0.0.77"])
        t.join(30)
        self.assertEqual(peers, ["127.0.0.77"], err)
        (r, flags, status, remote, diag), = res.values()
        self.assertEqual(r, "tempfail", diag)

    def test_drop_in_data_is_retried(self):
        srv = self.serve(drop=2)
        res, _, _, _ = relayq(self.conf, ["a@x.example", "b@x.example"],
                              ["-S", "127.0.0.1:%d" % srv.port])
        for r, flags, status, remote, diag in res.values():
            self.assertEqual(r, "tempfail", diag)
            self.assertTrue(status.startswith("4."), status)

    def test_tls_required_not_offered(self):
        srv = self.serve()
        res, _, _, _ = relayq(self.conf, ["a@x.example"],
                              ["-S", "127.0.0.1:%d" % srv.port, "-t",
                               "require"])
        (r, flags, status, remote, diag), = res.values()
        self.assertEqual(r, "tempfail")
        self.assertIn("STARTTLS not offered", diag)
        self.assertEqual(srv.messages, [])

    def ip_cert(self):
        """A certificate for the address 127.0.0.1 (an IP SAN: libtls
        checks an address against those)."""
        key = os.path.join(self.dir, "ip.key")
        cert = os.path.join(self.dir, "ip.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                        "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-days", "30", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", cert], check=True,
                       capture_output=True)
        return cert, key

    def test_tls_verified_and_dsn_passed(self):
        cert, key = self.ip_cert()
        srv = self.serve(tls=(cert, key))
        res, _, stats, _ = relayq(self.conf, ["a@x.example"],
                                  ["-S", "127.0.0.1:%d" % srv.port, "-t",
                                   "verify", "-C", cert, "-N", "2"])
        (r, flags, status, remote, diag), = res.values()
        self.assertEqual(r, "ok", diag)
        self.assertEqual(flags, 3, "TLS and DSN_PASSED")
        self.assertEqual((stats["tls"], stats["tls_verified"]), (1, 1))
        self.assertIn(b"NOTIFY=SUCCESS", b" ".join(srv.cmds))

    def test_tls_verify_wrong_ca_fails(self):
        cert, key = self.ip_cert()
        other, _ = make_cert(self.dir, "other.example")
        srv = self.serve(tls=(cert, key))
        res, _, _, _ = relayq(self.conf, ["a@x.example"],
                              ["-S", "127.0.0.1:%d" % srv.port, "-t",
                               "verify", "-C", other])
        (r, flags, status, remote, diag), = res.values()
        self.assertEqual(r, "tempfail", diag)
        self.assertEqual(srv.messages, [])


class RelayMXTest(unittest.TestCase):
    """relayq routing by MX through nsd on 127.0.0.54."""

    @classmethod
    def setUpClass(cls):
        need_root()
        if not have_nsd() or not os.access(RELAYQ, os.X_OK):
            raise unittest.SkipTest("nsd or regress/relay/relayq missing")
        cls.dir = tempfile.mkdtemp(prefix="relaymx.")
        cls.nsd = Nsd(DNS_ADDR, {"proc.example": ZONE.format(
            dns=DNS_ADDR, down=MX_DOWN, up=MX_UP, busy=MX_421)}).start()
        cls.conf = os.path.join(cls.dir, "relay.conf")
        with open(cls.conf, "w") as f:
            f.write(CONF + "resolver %s\n"
                    % cls.nsd.resolver_args(validate=False))

    @classmethod
    def tearDownClass(cls):
        cls.nsd.close()

    def serve(self, addr, **opts):
        srv = FakeServer(addr=addr, port=25, **opts)
        self.addCleanup(srv.close)
        return srv

    def test_first_mx_down_second_takes_it(self):
        srv = self.serve(MX_UP)
        res, _, stats, err = relayq(self.conf, ["a@two.proc.example"])
        (r, flags, status, remote, diag), = res.values()
        self.assertEqual(r, "ok", err)
        self.assertEqual(remote, "mxup.proc.example[%s]:25" % MX_UP)
        self.assertEqual(stats["connect_failed"], 1)
        self.assertEqual(len(srv.messages), 1)

    def test_421_greeting_next_mx(self):
        busy = self.serve(MX_421, greeting=b"421 4.3.2 too busy\r\n")
        srv = self.serve(MX_UP)
        res, _, _, err = relayq(self.conf, ["a@busy.proc.example"])
        (r, flags, status, remote, diag), = res.values()
        self.assertEqual(r, "ok", err)
        self.assertEqual(busy.conns, 1)
        self.assertEqual(len(srv.messages), 1)

    def test_smarthost_by_name(self):
        """Its A record, not its MX (which points at a host that is
        down); a smarthost name that does not exist is retried, not
        bounced."""
        srv = self.serve(MX_UP)
        res, _, stats, err = relayq(self.conf, ["a@x.example"],
                                    ["-S", "smart.proc.example:25"])
        (r, flags, status, remote, diag), = res.values()
        self.assertEqual(r, "ok", err)
        self.assertEqual(remote, "smart.proc.example[%s]:25" % MX_UP)
        self.assertEqual(stats["connect_failed"], 0)
        self.assertEqual(len(srv.messages), 1)
        res, _, _, _ = relayq(self.conf, ["a@x.example"],
                              ["-S", "nosuch.proc.example:25"])
        (r, flags, status, remote, diag), = res.values()
        self.assertEqual((r, status), ("tempfail", "4.4.3"), diag)

    def test_null_mx_and_nxdomain_bounce_at_once(self):
        res, _, stats, _ = relayq(self.conf, ["a@nullmx.proc.example",
                                              "b@nosuch.proc.example"])
        by = {v[2]: v for v in res.values()}
        self.assertEqual(by["5.1.10"][0], "permfail", res)
        self.assertEqual(by["5.4.4"][0], "permfail", res)
        self.assertEqual(stats["connections"], 0)


class RelayEndToEndTest(SuiteTest):
    """The whole path: smtpd takes a message for a remote domain from a
    trusted client, the manager hands it to the relay process (chrooted,
    _sallyrelay, under its filter), which finds the MX through nsd and
    delivers it to the second MX (the first is down); a 550 from the
    remote side comes back to the sender as a bounce naming the reply."""

    @classmethod
    def setUpClass(cls):
        need_root()
        if not have_nsd():
            raise unittest.SkipTest("nsd missing")
        cls.nsd = Nsd(DNS_ADDR, {"proc.example": ZONE.format(
            dns=DNS_ADDR, down=MX_DOWN, up=MX_UP, busy=MX_421)}).start()
        cls.suite_args = {
            "resolver": cls.nsd.resolver_args(validate=False),
            "extra_config": ['relay from "127.0.0.1/32"']}
        try:
            super().setUpClass()
        except BaseException:
            cls.nsd.close()
            raise

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.nsd.close()

    def test_relayed_by_mx_and_bounced(self):
        s = self.suite
        srv = FakeServer(addr=MX_UP, port=25, rcpt={
            "nobody@two.proc.example": b"550 5.1.1 nobody here\r\n"})
        self.addCleanup(srv.close)
        code, text = s.send(suite.make_message("to-remote", ["far away"]),
                            rcpts=("carol@two.proc.example",
                                   "nobody@two.proc.example"))
        self.assertEqual(code, 250, text)
        wait_for(lambda: srv.delivered("carol@two.proc.example"), 60,
                 what="the message at the second MX")
        self.assertIn(b"Subject: to-remote", srv.messages[0])
        bounce = s.wait_marked("nobody@two.proc.example", user="alice",
                               timeout=60)
        self.assertIn(b"550 5.1.1 nobody here", bounce)
        log = wait_for(lambda: (lambda l: l if "relay bounced" in l
                                else None)(s.log("queued")), 30,
                       what="the relay's log lines")
        self.assertIn("relay sent to=<carol@two.proc.example> "
                      "relay=mxup.proc.example[%s]:25" % MX_UP, log)
        self.assertIn("relay connect-failed host=mxdown.proc.example", log)
        self.assertIn("relay connect dest=two.proc.example", log)
        out = s.sallyctl("show", "hosts").stdout
        self.assertIn("two.proc.example", out)


if __name__ == "__main__":
    unittest.main()
