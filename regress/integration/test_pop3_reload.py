"""pop3d's reload on SIGHUP (issue 10): the parent reads the pki files
again and sends them to the login engine (through common/confxfer.c, as
smtpd does); new TLS sessions, pop3s and STLS, get the new certificate,
a session begun before the reload keeps the old one and works on; a
reload whose key does not load changes nothing."""

import hashlib
import os
import re
import signal
import socket
import ssl
import subprocess
import unittest

import suite
from suite import SuiteTest, free_ports, wait_for
from test_pop3_scale import fill_maildir, empty_maildir
from test_pop3_tls import HOST

PASS = suite.PASSWORD.encode()
POP3S_PORT = free_ports(1)[0]


def trusting(*certs):
    """A client context that trusts exactly these certificates' PEM and
    checks the host name."""
    ctx = ssl.create_default_context()
    ctx.load_verify_locations(cadata="".join(certs))
    ctx.check_hostname = True
    return ctx


class Client:
    """A verified POP3 client over pop3s, or over STLS on port."""

    def __init__(self, ctx, port, stls=False):
        raw = socket.create_connection(("127.0.0.1", port), 60)
        if stls:
            f = raw.makefile("rb")
            assert f.readline().startswith(b"+OK")
            raw.sendall(b"STLS\r\n")
            assert f.readline().startswith(b"+OK")
            f.close()
        self.s = ctx.wrap_socket(raw, server_hostname=HOST)
        self.f = self.s.makefile("rb")
        if not stls:
            assert self.f.readline().startswith(b"+OK")

    def fingerprint(self):
        return hashlib.sha256(self.s.getpeercert(binary_form=True)
                              ).hexdigest()

    def cmd(self, line):
        self.s.sendall(line + b"\r\n")
        return self.f.readline()

    def close(self):
        self.f.close()
        self.s.close()


class TestPop3Reload(SuiteTest):
    suite_args = {"extra_config": [
        "listen pop3s on 127.0.0.1 port %d" % POP3S_PORT]}

    def setUp(self):
        fill_maildir(self.suite, "bob", 2)
        self.key = self.suite.path("etc", "key.pem")
        with open(self.suite.cert) as f:
            self.old_pem = f.read()

    def tearDown(self):
        empty_maildir(self.suite, "bob")

    def new_cert(self):
        """Replaces the pki's files with a new key and certificate (the
        same name); returns the new certificate's PEM."""
        tmpk, tmpc = self.key + ".new", self.suite.cert + ".new"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                        "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-days", "30",
                        "-subj", "/CN=" + HOST,
                        "-addext", "subjectAltName=DNS:" + HOST,
                        "-keyout", tmpk, "-out", tmpc],
                       check=True, capture_output=True)
        os.chmod(tmpk, 0o600)
        os.replace(tmpk, self.key)
        os.replace(tmpc, self.suite.cert)
        with open(self.suite.cert) as f:
            return f.read()

    def reload(self, what):
        n = len(re.findall(what, self.suite.log("pop3d")))
        os.kill(self.suite.pid("pop3d"), signal.SIGHUP)
        wait_for(lambda: len(re.findall(what, self.suite.log("pop3d")))
                 > n, 60, what=what)

    def login(self, c):
        self.assertTrue(c.cmd(b"USER bob").startswith(b"+OK"))
        self.assertTrue(c.cmd(b"PASS " + PASS).startswith(b"+OK"))
        self.assertTrue(c.cmd(b"STAT").startswith(b"+OK 2 "))
        self.assertTrue(c.cmd(b"QUIT").startswith(b"+OK"))

    def test_new_sessions_get_the_new_certificate(self):
        old_ctx = trusting(self.old_pem)
        before = Client(old_ctx, POP3S_PORT)
        self.addCleanup(before.close)
        old_fp = before.fingerprint()
        # A session logged in before the reload, relayed by the engine
        # (alice's: bob's maildrop stays free for the others).
        relayed = Client(old_ctx, POP3S_PORT)
        self.addCleanup(relayed.close)
        self.assertTrue(relayed.cmd(b"USER alice").startswith(b"+OK"))
        self.assertTrue(relayed.cmd(b"PASS " + PASS).startswith(b"+OK"))

        new_pem = self.new_cert()
        self.reload(r"- pop3 reloaded\b")
        self.assertIn("pop3 engine reloaded generation=2 tls=yes",
                      self.suite.log("pop3d"))

        new_ctx = trusting(new_pem)
        for stls, port in ((False, POP3S_PORT),
                           (True, self.suite.pop3_port)):
            c = Client(new_ctx, port, stls)
            try:
                self.assertNotEqual(c.fingerprint(), old_fp)
                self.login(c)
            finally:
                c.close()
        # The old certificate is no longer served to a new client.
        with self.assertRaises(ssl.SSLCertVerificationError):
            Client(old_ctx, POP3S_PORT)
        # The sessions from before go on, on the old certificate.
        self.assertEqual(before.fingerprint(), old_fp)
        self.login(before)
        self.assertTrue(relayed.cmd(b"STAT").startswith(b"+OK 0 "))
        self.assertTrue(relayed.cmd(b"QUIT").startswith(b"+OK"))

    def test_bad_key_changes_nothing(self):
        served = Client(trusting(self.old_pem), POP3S_PORT)
        fp = served.fingerprint()
        served.close()
        with open(self.key) as f:
            good = f.read()
        try:
            with open(self.key, "w") as f:
                f.write("-----BEGIN PRIVATE KEY-----\nbroken\n"
                        "-----END PRIVATE KEY-----\n")
            self.reload(r"- pop3 reload-failed error=")
            c = Client(trusting(self.old_pem), POP3S_PORT)
            try:
                self.assertEqual(c.fingerprint(), fp)
                self.login(c)
            finally:
                c.close()
        finally:
            with open(self.key, "w") as f:
                f.write(good)


if __name__ == "__main__":
    unittest.main()
