"""POP3 before login, the TLS/SASL/pipelining part of issue 10.

TLS: STLS (RFC 2595) and implicit TLS on a pop3s listener, with the
certificate of the suite's pki verified by each client; the login
engine keeps the TLS session and relays the mailbox process.

Pipelining (RFC 2449 6.6): commands sent after PASS in the same write
are read ahead by the login engine; after the login they reach the
mailbox process through the engine's relay (common/access_proxy.c), in
order, and are answered as if sent one by one."""

import os
import poplib
import shutil
import socket
import ssl
import subprocess
import tempfile
import unittest

import suite
from suite import SuiteTest, POP3Line, free_ports
from test_pop3_scale import fill_maildir, empty_maildir

PASS = suite.PASSWORD.encode()


class POP3Raw(POP3Line):
    """A raw POP3 client that can send several commands in one write."""

    def __init__(self, port, source=None):
        super().__init__(port, 60, source)

    def send(self, *lines):
        self.sock.sendall(b"".join(l + b"\r\n" for l in lines))

    def multi(self):
        """The lines of a multi-line answer after its +OK, unstuffed."""
        out = []
        while True:
            l = self.line()
            if l == b".":
                return out
            out.append(l[1:] if l.startswith(b".") else l)


class TestPOP3Pipelining(SuiteTest):

    def setUp(self):
        self.msgs = fill_maildir(self.suite, "bob", 2)

    def tearDown(self):
        empty_maildir(self.suite, "bob")

    def test_capa_before_login_offers_pipelining(self):
        c = POP3Raw(self.suite.pop3_port)
        try:
            c.send(b"CAPA")
            self.assertTrue(c.line().startswith(b"+OK"))
            self.assertIn(b"PIPELINING", c.multi())
        finally:
            c.close()

    def test_pipelined_login_and_commands(self):
        """USER, PASS and STAT in one write: the STAT is answered by the
        mailbox process, then LIST and QUIT."""
        size = sum(len(d) + d.count(b"\n") for _, d in self.msgs)
        c = POP3Raw(self.suite.pop3_port)
        try:
            c.send(b"USER bob", b"PASS " + PASS, b"STAT", b"LIST",
                   b"QUIT")
            self.assertTrue(c.line().startswith(b"+OK"))     # USER
            r = c.line()
            self.assertTrue(r.startswith(b"+OK"), r)         # PASS
            self.assertEqual(c.line(), b"+OK 2 %d" % size)   # STAT
            self.assertTrue(c.line().startswith(b"+OK"))     # LIST
            self.assertEqual(len(c.multi()), 2)
            self.assertTrue(c.line().startswith(b"+OK"))     # QUIT
            self.assertTrue(c.closed())
        finally:
            c.close()
        self.assertIn("proxy-start", self.suite.log("pop3d"))

    def test_pipelined_after_failed_password(self):
        """A wrong password: what follows is answered by the engine."""
        c = POP3Raw(self.suite.pop3_port, "127.0.10.1")
        try:
            c.send(b"USER bob", b"PASS wrong", b"USER bob",
                   b"PASS " + PASS, b"STAT", b"QUIT")
            self.assertTrue(c.line().startswith(b"+OK"))
            self.assertTrue(c.line().startswith(b"-ERR [AUTH]"))
            self.assertTrue(c.line().startswith(b"+OK"))
            self.assertTrue(c.line().startswith(b"+OK"))
            self.assertTrue(c.line().startswith(b"+OK 2 "))
            self.assertTrue(c.line().startswith(b"+OK"))
            self.assertTrue(c.closed())
        finally:
            c.close()

    def test_large_retr_through_relay(self):
        """A message far over the relay's buffers arrives whole."""
        empty_maildir(self.suite, "bob")
        body = b"".join(b"line %07d of a long message\n" % i
                        for i in range(60000))
        (_, data), = fill_maildir(self.suite, "bob", 1, body=body)
        c = POP3Raw(self.suite.pop3_port)
        try:
            c.send(b"USER bob", b"PASS " + PASS, b"RETR 1", b"QUIT")
            self.assertTrue(c.line().startswith(b"+OK"))
            self.assertTrue(c.line().startswith(b"+OK"))
            self.assertTrue(c.line().startswith(b"+OK"))
            got = b"\n".join(c.multi()) + b"\n"
            self.assertEqual(got, data)
            self.assertTrue(c.line().startswith(b"+OK"))
        finally:
            c.close()


HOST = "mail.example.test"
POP3S_PORT = free_ports(1)[0]


def verified_ctx(s):
    """A client context that trusts only the suite's certificate and
    checks the host name."""
    ctx = ssl.create_default_context(cafile=s.cert)
    ctx.check_hostname = True
    return ctx


class POP3SVerified(poplib.POP3_SSL):
    """poplib's POP3S to 127.0.0.1, checking the name mail.example.test
    (no resolver is asked)."""

    def _create_socket(self, timeout):
        sock = socket.create_connection(("127.0.0.1", self.port), timeout)
        return self.context.wrap_socket(sock, server_hostname=HOST)


def stls_login(s, p, user="bob"):
    """STLS with the suite's certificate verified, then USER and PASS,
    on a poplib client."""
    p.host = HOST
    p.stls(context=verified_ctx(s))
    p.user(user)
    p.pass_(suite.PASSWORD)


class TestPOP3TLS(SuiteTest):
    suite_args = {"extra_config": [
        "listen pop3s on 127.0.0.1 port %d" % POP3S_PORT]}

    def setUp(self):
        self.msgs = fill_maildir(self.suite, "bob", 2)

    def tearDown(self):
        empty_maildir(self.suite, "bob")

    def check_session(self, p):
        self.assertEqual(p.stat()[0], 2)
        lines = p.retr(1)[1]
        self.assertEqual(b"\n".join(lines) + b"\n", self.msgs[0][1])
        self.assertTrue(p.quit().startswith(b"+OK"))

    def test_capa_offers_stls_before_tls_only(self):
        p = poplib.POP3("127.0.0.1", self.suite.pop3_port, timeout=60)
        try:
            self.assertIn("STLS", p.capa())
            p.host = HOST
            p.stls(context=verified_ctx(self.suite))
            self.assertNotIn("STLS", p.capa())
            self.assertTrue(p._shortcmd("STLS").startswith(b"-ERR"))
        except poplib.error_proto as e:
            self.assertIn(b"already", e.args[0])
        finally:
            p.close()

    def test_stls_discards_injected_commands(self):
        """RFC 2595 / RFC 3207 4.2: a USER sent with STLS in one write
        is dropped, so PASS after the handshake is out of state."""
        raw = socket.create_connection(("127.0.0.1", self.suite.pop3_port),
                                       60)
        f = raw.makefile("rb")
        self.assertTrue(f.readline().startswith(b"+OK"))
        raw.sendall(b"STLS\r\nUSER bob\r\n")
        self.assertTrue(f.readline().startswith(b"+OK"))
        with verified_ctx(self.suite).wrap_socket(
                raw, server_hostname=HOST) as s:
            s.sendall(b"PASS %s\r\n" % PASS)
            r = s.makefile("rb").readline()
            self.assertTrue(r.startswith(b"-ERR command not valid"), r)

    def test_poplib_stls_verified(self):
        p = poplib.POP3("127.0.0.1", self.suite.pop3_port, timeout=60)
        try:
            stls_login(self.suite, p)
            self.check_session(p)
        finally:
            p.close()
        log = self.suite.log("pop3d")
        self.assertIn(" pop3 tls version=TLSv1.", log)

    def test_poplib_pop3s_verified(self):
        p = POP3SVerified("127.0.0.1", POP3S_PORT, timeout=60,
                          context=verified_ctx(self.suite))
        try:
            p.user("bob")
            p.pass_(suite.PASSWORD)
            self.check_session(p)
        finally:
            p.close()

    def test_pop3s_pipelined_login(self):
        ctx = verified_ctx(self.suite)
        raw = socket.create_connection(("127.0.0.1", POP3S_PORT), 60)
        with ctx.wrap_socket(raw, server_hostname=HOST) as s:
            f = s.makefile("rb")
            self.assertTrue(f.readline().startswith(b"+OK"))
            s.sendall(b"USER bob\r\nPASS %s\r\nSTAT\r\nQUIT\r\n" % PASS)
            r = [f.readline() for _ in range(4)]
            self.assertTrue(all(l.startswith(b"+OK") for l in r), r)
            self.assertTrue(r[2].startswith(b"+OK 2 "), r)

    def test_curl_pop3s_and_stls_verified(self):
        for url, extra in (("pop3s://%s:%d/1" % (HOST, POP3S_PORT), []),
                           ("pop3://%s:%d/1" % (HOST, self.suite.pop3_port),
                            ["--ssl-reqd"])):
            port = url.rsplit(":", 1)[1].split("/")[0]
            r = subprocess.run(
                ["curl", "-sS", "--max-time", "60", "--cacert",
                 self.suite.cert, "--resolve", "%s:%s:127.0.0.1" % (HOST, port),
                 "-u", "bob:" + suite.PASSWORD] + extra + [url],
                capture_output=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout.replace(b"\r\n", b"\n"),
                             self.msgs[0][1])

    def test_mpop_stls_and_pop3s_verified(self):
        """mpop with its default TLS checks, trusting the suite's
        certificate, over STLS and then pop3s: each delivers both
        messages to an mbox (kept on the server)."""
        for port, starttls in ((self.suite.pop3_port, "on"),
                               (POP3S_PORT, "off")):
            d = tempfile.mkdtemp(prefix="mpop-")
            self.addCleanup(shutil.rmtree, d, True)
            mbox = os.path.join(d, "mbox")
            open(mbox, "w").close()
            r = subprocess.run(
                ["mpop", "--host=127.0.0.1", "--port=%d" % port,
                 "--tls=on", "--tls-starttls=" + starttls,
                 "--tls-trust-file=" + self.suite.cert,
                 "--tls-host-override=" + HOST, "--user=bob",
                 "--passwordeval=echo " + suite.PASSWORD, "--keep=on",
                 "--uidls-file=" + os.path.join(d, "uidls"),
                 "--delivery=mbox," + mbox],
                capture_output=True, timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(mbox, "rb") as f:
                text = f.read()
            for _, data in self.msgs:
                self.assertIn(data.split(b"\n\n", 1)[1], text)

    def test_fetchmail_sslcertck(self):
        """fetchmail with sslcertck, over pop3s (ssl) and STLS
        (sslproto without ssl), each fetching both messages, kept."""
        for port, ssl_opt in ((POP3S_PORT, "ssl"),
                              (self.suite.pop3_port, "sslproto tls1.2+")):
            d = tempfile.mkdtemp(prefix="fetchmail-")
            self.addCleanup(shutil.rmtree, d, True)
            rc, out = os.path.join(d, "rc"), os.path.join(d, "out")
            fd = os.open(rc, os.O_WRONLY | os.O_CREAT, 0o600)
            os.write(fd, (
                'poll 127.0.0.1 protocol pop3 port %d user "bob" '
                'password "%s" options keep %s sslcertck sslcertfile "%s" '
                'sslcommonname "%s"\n' % (port, suite.PASSWORD, ssl_opt,
                                         self.suite.cert, HOST)).encode())
            os.close(fd)
            r = subprocess.run(
                ["fetchmail", "-f", rc, "--nosyslog", "--bsmtp", out],
                capture_output=True, timeout=120,
                env=dict(os.environ, FETCHMAILHOME=d))
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            with open(out, "rb") as f:
                text = f.read()
            for _, data in self.msgs:
                self.assertIn(data.split(b"\n\n", 1)[1].rstrip(), text)


if __name__ == "__main__":
    unittest.main()
