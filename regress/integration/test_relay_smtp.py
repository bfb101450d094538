"""The relay's SMTP client (issue 9, queued/relay_smtp*.c), driven by
regress/relay/smtpc: against a scripted server in Python (per-recipient
results, 4xx and 5xx to each command, a 421 greeting, a connection
dropped in DATA, a stalled server past a lowered timeout, TLS required
or verified and not to be had, over-long replies, 10,000 continuation
lines, a server without SMTPUTF8 (without 8BITMIME:
test_relay_qp.py), pipelining, DSN, SIZE,
dot-stuffing and long lines, reuse), and against sallyport's own smtpd
(a relayed message arrives byte for byte, over STARTTLS verified
against the suite's certificate; two messages over one connection)."""

import os
import socket
import subprocess
import sys
import tempfile
import unittest

import suite
from relaypeers import FakeServer, make_cert
from suite import SuiteTest

# SALLYPORT_SMTPC: another command to run instead (valgrind around it).
SMTPC = os.environ.get("SALLYPORT_SMTPC",
                       os.path.join(suite.REPO, "regress", "relay", "smtpc"))
SMTP_SINK = "/usr/sbin/smtp-sink"
# A client's peak memory under which a 50 MB message must pass: the body
# is streamed.  An ASan build keeps freed memory in its quarantine (256 MB
# by default), so there the bound says nothing and is not checked.
STREAM_RSS_MAX_KB = 16 * 1024


def sanitizer_build(path):
    """True when the binary at path links the ASan runtime."""
    r = subprocess.run(["ldd", path], capture_output=True, text=True)
    return "libasan" in r.stdout


MESSAGE = (b"From: <sender@example.test>\nTo: <a@example.test>\n"
           b"Subject: relay test\n\nhello\n.a line with a dot\n"
           b"..two dots\n.\nlast\n")


def smtpc(port, rcpts, message=MESSAGE, args=(), timeout=120, path=None):
    """Runs the client on message (or the file at path): {rcpt: [(result,
    reply)]}, [other lines], stderr."""
    with tempfile.NamedTemporaryFile() as f:
        f.write(message if path is None else b"")
        f.flush()
        r = subprocess.run([SMTPC, "-p", str(port)] + list(args) +
                           [path or f.name] + list(rcpts),
                           capture_output=True, timeout=timeout)
    results, other = {}, []
    for line in r.stdout.decode().splitlines():
        if line.startswith("rcpt "):
            _, addr, res, reply = (line.split(" ", 3) + [""])[:4]
            results.setdefault(addr, []).append((res, reply))
        else:
            other.append(line)
    assert r.returncode == 0, r.stderr
    return results, other, r.stderr.decode()


def conn(other):
    """The connection's outcome line."""
    return [l for l in other if l.startswith("conn ")][-1]


class RelayTest(unittest.TestCase):

    def serve(self, **opts):
        s = FakeServer(**opts)
        self.addCleanup(s.close)
        return s

    def verbs(self, s):
        return [c.split(b" ", 1)[0].upper() for c in s.cmds]

    def one(self, results, addr):
        self.assertEqual(len(results[addr]), 1, results)
        return results[addr][0]


class TestRelayScripted(RelayTest):

    def test_pipelined_mix(self):
        s = self.serve(rcpt={"b@x.test": b"450 4.2.1 later\r\n",
                             "c@x.test": b"550 5.1.1 unknown\r\n"})
        res, other, _ = smtpc(s.port, ["a@x.test", "b@x.test",
                                       "c@x.test"])
        self.assertEqual(self.one(res, "a@x.test")[0], "done")
        self.assertEqual(self.one(res, "b@x.test"),
                         ("retry", "450 4.2.1 later"))
        self.assertEqual(self.one(res, "c@x.test"),
                         ("failed", "550 5.1.1 unknown"))
        self.assertIn("conn ok quit", other)
        # One group: MAIL, three RCPT, DATA, sent without waiting.
        self.assertEqual([len(g) for g in s.batches], [5])
        self.assertEqual(len(s.messages), 1)

    def test_not_pipelined_without_the_keyword(self):
        s = self.serve(caps=(b"8BITMIME",),
                       rcpt={"b@x.test": b"550 no\r\n"})
        res, _, _ = smtpc(s.port, ["a@x.test", "b@x.test"])
        self.assertEqual(self.one(res, "a@x.test")[0], "done")
        self.assertEqual(self.one(res, "b@x.test")[0], "failed")
        self.assertEqual(s.batches, [])
        self.assertEqual(self.verbs(s), [b"EHLO", b"MAIL", b"RCPT",
                                         b"RCPT", b"DATA", b"QUIT"])

    def test_message_on_the_wire(self):
        """CRLF, dot-stuffing, a 3,000-octet line folded under 998, SIZE
        and DSN passed on."""
        long_line = b"x" * 3000
        s = self.serve()
        res, _, _ = smtpc(s.port, ["a@x.test"], MESSAGE + long_line + b"\n",
                          ["-R", "HDRS", "-E", "env+2Bid", "-N",
                           "SUCCESS,FAILURE", "-O", "rfc822;a@x.test"])
        self.assertEqual(self.one(res, "a@x.test")[0], "done")
        wire = s.messages[0]
        self.assertIn(b"\r\n..a line with a dot\r\n...two dots\r\n..\r\n",
                      wire)
        lines = wire.split(b"\r\n")
        self.assertTrue(all(len(l) <= 998 for l in lines))
        self.assertEqual(b"".join(l[1:] if l.startswith(b" x") else l
                                  for l in lines[-5:-1]), long_line)
        mail = [c for c in s.cmds if c.startswith(b"MAIL")][0]
        self.assertIn(b" SIZE=", mail)
        self.assertIn(b" RET=HDRS ENVID=env+2Bid", mail)
        rcpt = [c for c in s.cmds if c.startswith(b"RCPT")][0]
        self.assertIn(b" NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a@x.test",
                      rcpt)

    def test_no_dsn_parameters_without_dsn(self):
        s = self.serve(caps=(b"PIPELINING",))
        smtpc(s.port, ["a@x.test"], args=["-R", "FULL", "-N", "NEVER"])
        self.assertFalse(any(b"RET=" in c or b"NOTIFY=" in c
                             for c in s.cmds), s.cmds)

    def test_mail_refused(self):
        for reply, result in ((b"451 4.3.0 busy\r\n", "retry"),
                              (b"550 5.7.1 no\r\n", "failed")):
            s = self.serve(mail=reply)
            res, _, _ = smtpc(s.port, ["a@x.test", "b@x.test"])
            for a in ("a@x.test", "b@x.test"):
                self.assertEqual(self.one(res, a),
                                 (result, reply.decode().strip()))
            self.assertEqual(s.messages, [])

    def test_data_refused(self):
        s = self.serve(data=b"554 5.6.0 no data\r\n",
                       rcpt={"b@x.test": b"450 later\r\n"})
        res, _, _ = smtpc(s.port, ["a@x.test", "b@x.test"])
        self.assertEqual(self.one(res, "a@x.test"),
                         ("failed", "554 5.6.0 no data"))
        self.assertEqual(self.one(res, "b@x.test")[0], "retry")

    def test_end_of_data_temporary(self):
        s = self.serve(dot=b"452 4.3.1 full\r\n")
        res, _, _ = smtpc(s.port, ["a@x.test"])
        self.assertEqual(self.one(res, "a@x.test"),
                         ("retry", "452 4.3.1 full"))

    def test_rcpt_552_is_temporary(self):
        """RFC 5321 4.5.3.1.10: 552 to RCPT is taken as 452."""
        s = self.serve(rcpt={"b@x.test": b"552 5.5.3 too many\r\n"})
        res, _, _ = smtpc(s.port, ["a@x.test", "b@x.test"])
        self.assertEqual(self.one(res, "b@x.test")[0], "retry")

    def test_size_over_the_servers(self):
        s = self.serve(caps=(b"SIZE 50",))
        res, _, _ = smtpc(s.port, ["a@x.test"])
        self.assertEqual(self.one(res, "a@x.test")[0], "failed")
        self.assertIn("5.3.4", res["a@x.test"][0][1])
        self.assertNotIn(b"MAIL", self.verbs(s))

    def test_greeting_421(self):
        s = self.serve(greeting=b"421 4.3.2 go away\r\n")
        res, other, _ = smtpc(s.port, ["a@x.test", "b@x.test"])
        for a in ("a@x.test", "b@x.test"):
            self.assertEqual(self.one(res, a)[0], "retry")
        self.assertIn("421 4.3.2 go away", res["a@x.test"][0][1])
        self.assertTrue(conn(other).startswith("conn fail"), other)

    def test_helo_fallback(self):
        s = self.serve(ehlo=b"502 5.5.1 no ehlo\r\n")
        res, _, _ = smtpc(s.port, ["a@x.test"])
        self.assertEqual(self.one(res, "a@x.test")[0], "done")
        self.assertEqual(self.verbs(s)[:3], [b"EHLO", b"HELO", b"MAIL"])

    def test_dropped_in_data(self):
        """Accepted recipients are retried, never counted delivered."""
        s = self.serve(drop=2)
        res, other, _ = smtpc(s.port, ["a@x.test", "b@x.test"])
        for a in ("a@x.test", "b@x.test"):
            self.assertEqual(self.one(res, a)[0], "retry")
        self.assertEqual(s.messages, [])
        self.assertTrue(conn(other).startswith("conn fail"), other)

    def test_stall_past_timeout(self):
        s = self.serve(caps=(), stall=b"DATA", stall_secs=15)
        res, other, _ = smtpc(s.port, ["a@x.test"], args=["-T", "2"])
        self.assertEqual(self.one(res, "a@x.test")[0], "retry")
        self.assertIn("timeout", res["a@x.test"][0][1])

    def test_overlong_reply(self):
        s = self.serve(ehlo=b"250-" + b"x" * 5000 + b"\r\n250 ok\r\n")
        res, other, _ = smtpc(s.port, ["a@x.test"])
        self.assertEqual(self.one(res, "a@x.test"),
                         ("retry", "bad reply: reply line too long"))
        self.assertNotIn(b"MAIL", self.verbs(s))

    def test_ten_thousand_continuation_lines(self):
        s = self.serve(greeting=b"220-x\r\n" * 10000 + b"220 x\r\n")
        res, _, _ = smtpc(s.port, ["a@x.test"])
        self.assertEqual(self.one(res, "a@x.test"),
                         ("retry", "bad reply: too many reply lines"))

    def test_garbage_reply(self):
        s = self.serve(mail=b"hello there\r\n")
        res, _, _ = smtpc(s.port, ["a@x.test"])
        self.assertEqual(self.one(res, "a@x.test"),
                         ("retry", "bad reply: malformed reply line"))
        self.assertEqual(s.messages, [])

    def test_8bit_with_8bitmime(self):
        s = self.serve()
        res, _, _ = smtpc(s.port, ["a@x.test"],
                          MESSAGE + "caf\u00e9\n".encode(), ["-8"])
        self.assertEqual(self.one(res, "a@x.test")[0], "done")
        self.assertIn(b"BODY=8BITMIME", s.cmds[1])
        self.assertIn("caf\u00e9\r\n".encode(), s.messages[0])

    def test_utf8_address_without_smtputf8(self):
        s = self.serve(caps=(b"PIPELINING", b"8BITMIME"))
        res, _, _ = smtpc(s.port, ["j\u00f6rg@x.test"], args=["-U"])
        self.assertEqual(self.one(res, "j\u00f6rg@x.test")[0], "failed")
        self.assertIn("5.6.7", res["j\u00f6rg@x.test"][0][1])
        self.assertNotIn(b"MAIL", self.verbs(s))

    def test_utf8_address_with_smtputf8(self):
        s = self.serve()
        res, _, _ = smtpc(s.port, ["j\u00f6rg@x.test"], args=["-U"])
        self.assertEqual(self.one(res, "j\u00f6rg@x.test")[0], "done")
        self.assertIn(b" SMTPUTF8", s.cmds[1])

    def test_reuse(self):
        s = self.serve(rcpt={"b@x.test": b"550 no\r\n"})
        res, other, _ = smtpc(s.port, ["a@x.test", "b@x.test"],
                              args=["-c", "3"])
        self.assertEqual([r for r, _ in res["a@x.test"]], ["done"] * 3)
        self.assertEqual([r for r, _ in res["b@x.test"]], ["failed"] * 3)
        self.assertEqual(s.conns, 1)
        self.assertEqual(len(s.messages), 3)
        self.assertEqual(self.verbs(s).count(b"RSET"), 2)
        self.assertEqual(conn(other), "conn ok quit")

    def test_idle_connection_quits(self):
        s = self.serve()
        res, other, _ = smtpc(s.port, ["a@x.test"], args=["-k", "-i", "1"])
        self.assertEqual(self.one(res, "a@x.test")[0], "done")
        self.assertEqual(conn(other), "conn ok quit")
        self.assertEqual(self.verbs(s)[-1], b"QUIT")

    def test_messages_per_connection(self):
        s = self.serve()
        res, other, _ = smtpc(s.port, ["a@x.test"],
                              args=["-c", "2", "-m", "1"])
        self.assertEqual(len(res["a@x.test"]), 1)
        self.assertIn("send refused", other)
        self.assertEqual(len(s.messages), 1)


class TestRelayTls(RelayTest):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sallyport-relaytls-")
        cls.cert = make_cert(cls.tmp, "mx.example.test")
        cls.other = make_cert(cls.tmp, "other.example.test")

    @classmethod
    def tearDownClass(cls):
        subprocess.run(["rm", "-rf", cls.tmp])

    def test_require_without_starttls(self):
        s = self.serve()
        res, other, _ = smtpc(s.port, ["a@x.test"], args=["-t", "require"])
        self.assertEqual(self.one(res, "a@x.test"),
                         ("retry", "tls required, STARTTLS not offered"))
        self.assertNotIn(b"MAIL", self.verbs(s))

    def test_opportunistic_without_starttls(self):
        s = self.serve()
        res, _, _ = smtpc(s.port, ["a@x.test"])
        self.assertEqual(self.one(res, "a@x.test")[0], "done")

    def test_opportunistic_unverified(self):
        s = self.serve(tls=self.cert)
        res, _, err = smtpc(s.port, ["a@x.test"], args=["-n", "mx"])
        self.assertEqual(self.one(res, "a@x.test")[0], "done")
        self.assertIn("relay tls proto=TLSv1.", err)
        self.assertIn("verified=no", err)
        self.assertEqual(self.verbs(s)[:3], [b"EHLO", b"STARTTLS", b"EHLO"])

    def test_verify_bad_certificate(self):
        """A certificate from another CA, then one for another name."""
        for ca, name in ((self.other[0], "mx.example.test"),
                         (self.cert[0], "other.example.test")):
            s = self.serve(tls=self.cert)
            res, _, err = smtpc(s.port, ["a@x.test"],
                                args=["-t", "verify", "-C", ca, "-n", name])
            self.assertEqual(self.one(res, "a@x.test"),
                             ("retry", "tls handshake failed"), err)
            self.assertNotIn(b"MAIL", self.verbs(s))

    def test_verify_good_certificate(self):
        s = self.serve(tls=self.cert)
        res, _, err = smtpc(s.port, ["a@x.test"],
                            args=["-t", "verify", "-C", self.cert[0], "-n",
                                  "mx.example.test"])
        self.assertEqual(self.one(res, "a@x.test")[0], "done", err)
        self.assertIn("verified=pkix", err)


class SmtpSinkMixin:
    """Starts Postfix's smtp-sink on a free port, with sink_args."""
    sink_args = ()

    def setUp(self):
        if not os.path.exists(SMTP_SINK):
            self.skipTest("no %s (package postfix)" % SMTP_SINK)
        self.port = suite.free_ports(1)[0]
        self.sink = subprocess.Popen(
            [SMTP_SINK] + list(self.sink_args) +
            ["-u", "nobody", "127.0.0.1:%d" % self.port, "10"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(self.stop_sink)

        def up():
            try:
                socket.create_connection(("127.0.0.1", self.port), 1).close()
                return True
            except OSError:
                return None
        suite.wait_for(up, 30, what="smtp-sink listening")

    def stop_sink(self):
        self.sink.terminate()
        self.sink.wait(30)


class TestRelayToSmtpSink(SmtpSinkMixin, unittest.TestCase):
    """Postfix's smtp-sink as a real peer: a 50 MB message in bounded
    memory, and reuse."""

    def test_50mb_message_bounded_memory(self):
        """The body is streamed: the client's peak RSS stays far below
        the message's size."""
        with tempfile.NamedTemporaryFile() as f:
            line = b"y" * 77 + b"\n"
            long_line = b".z" * 1500 + b"\n"
            block = MESSAGE + (line * 1000 + long_line) * 16
            while f.tell() < 50 * 1024 * 1024:
                f.write(block)
            f.flush()
            big, other, err = smtpc(self.port, ["a@x.test"], path=f.name,
                                    timeout=600)
        self.assertEqual(big["a@x.test"][0][0], "done", err)
        peak = [int(l.split()[1]) for l in other
                if l.startswith("peak-rss ")][0]
        sys.stderr.write(" [smtpc peak RSS %d kB for 50 MB] " % peak)
        if not sanitizer_build(SMTPC):
            self.assertLess(peak, STREAM_RSS_MAX_KB)

    def test_reuse(self):
        res, other, err = smtpc(self.port, ["a@x.test", "b@x.test"],
                                args=["-c", "2"])
        for a in ("a@x.test", "b@x.test"):
            self.assertEqual([r for r, _ in res[a]], ["done", "done"], err)
        self.assertEqual(conn(other), "conn ok quit")


class TestRelayToSmtpd(SuiteTest):
    """sallyport's own smtpd as the receiving server."""

    def relay(self, marker, count=1):
        body = suite.make_message(marker, ["relayed", ".dot line",
                                           "x" * 50])
        body = body.replace(b"\r\n", b"\n")
        res, other, err = smtpc(
            self.suite.smtp_port, ["bob@example.test"], body,
            ["-t", "verify", "-C", self.suite.cert, "-n",
             "mail.example.test", "-c", str(count)])
        return body, res, other, err

    def test_relayed_byte_identical_over_verified_tls(self):
        body, res, other, err = self.relay("relay-ident")
        self.assertEqual(self.one(res)[0], "done", err)
        self.assertIn("verified=pkix", err)
        self.assertEqual(self.suite.delivered_body("relay-ident"), body)

    def test_two_messages_one_connection(self):
        before = len(self.suite.mail_files("bob"))
        body, res, other, err = self.relay("relay-reuse", 2)
        self.assertEqual([r for r, _ in res["bob@example.test"]],
                         ["done", "done"], err)
        self.assertEqual(conn(other), "conn ok quit")
        self.suite.wait_mail("bob", before + 2)
        self.assertEqual(err.count("relay tls proto="), 1)

    def one(self, res):
        self.assertEqual(len(res["bob@example.test"]), 1, res)
        return res["bob@example.test"][0]


if __name__ == "__main__":
    unittest.main()
