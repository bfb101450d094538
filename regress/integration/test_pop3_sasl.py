"""pop3d's AUTH (RFC 5034) and its clear-text policy (issue 10).

AUTH PLAIN and LOGIN, with and without an initial response, from a raw
client, python's poplib and curl; "AUTH" alone lists the mechanisms;
"*" cancels; bad base64 and a foreign authorization identity are
refused; failures count in authd's throttle like PASS failures.

Clear text: without "auth plaintext-on-loopback yes", USER and AUTH
are refused before TLS with Dovecot's words, and CAPA offers STLS but
neither USER nor SASL; after STLS both are offered and work.  UIDL is
the same over clear text, after STLS and after a restart of pop3d."""

import base64
import os
import poplib
import shutil
import socket
import subprocess
import tempfile
import unittest

import suite
from suite import SuiteTest, POP3Line, free_ports
from test_pop3_scale import fill_maildir, empty_maildir
from test_pop3_tls import POP3Raw, verified_ctx, HOST
from test_pop3_auth import FAILURES_MAX

PASS = suite.PASSWORD.encode()
POP3S_PORT = free_ports(1)[0]
REFUSED = (b"-ERR [AUTH] Plaintext authentication disallowed on "
           b"non-secure (SSL/TLS) connections.")


def b64(data):
    return base64.b64encode(data)


def stls_login(s):
    """poplib logged in as bob with USER/PASS after STLS."""
    p = poplib.POP3("127.0.0.1", s.pop3_port, timeout=60)
    p.host = HOST
    p.stls(context=verified_ctx(s))
    p.user("bob")
    p.pass_(suite.PASSWORD)
    return p


def capa(c):
    """The CAPA lines of a raw client."""
    r = c.cmd(b"CAPA")
    assert r.startswith(b"+OK"), r
    return c.multi()


class TestPop3Sasl(SuiteTest):
    suite_args = {"extra_config": [
        "listen pop3s on 127.0.0.1 port %d" % POP3S_PORT]}

    def setUp(self):
        self.msgs = fill_maildir(self.suite, "bob", 2)

    def tearDown(self):
        empty_maildir(self.suite, "bob")

    def raw(self, source=None):
        c = POP3Raw(self.suite.pop3_port, source)
        self.addCleanup(c.close)
        self.assertTrue(c.greeting.startswith(b"+OK"), c.greeting)
        return c

    def assert_logged_in(self, c):
        r = c.cmd(b"STAT")
        self.assertTrue(r.startswith(b"+OK 2 "), r)
        self.assertTrue(c.cmd(b"QUIT").startswith(b"+OK"))

    def test_capa_on_loopback_offers_user_and_sasl(self):
        lines = capa(self.raw())
        for l in (b"USER", b"SASL PLAIN LOGIN", b"STLS", b"PIPELINING"):
            self.assertIn(l, lines)

    def test_auth_alone_lists_mechanisms(self):
        c = self.raw()
        self.assertTrue(c.cmd(b"AUTH").startswith(b"+OK"))
        self.assertEqual(c.multi(), [b"PLAIN", b"LOGIN"])

    def test_plain_initial_response(self):
        c = self.raw()
        r = c.cmd(b"AUTH PLAIN " + b64(b"\0bob\0" + PASS))
        self.assertTrue(r.startswith(b"+OK"), r)
        self.assert_logged_in(c)
        self.assertRegex(self.suite.log("pop3d"),
                         r"pop3 login user=bob result=ok")

    def test_plain_after_challenge_and_authzid(self):
        c = self.raw()
        self.assertEqual(c.cmd(b"AUTH PLAIN"), b"+ ")
        r = c.cmd(b64(b"bob\0bob\0" + PASS))
        self.assertTrue(r.startswith(b"+OK"), r)
        self.assert_logged_in(c)

    def test_login_with_and_without_initial_response(self):
        c = self.raw()
        self.assertEqual(c.cmd(b"auth login"), b"+ VXNlcm5hbWU6")
        self.assertEqual(c.cmd(b64(b"bob")), b"+ UGFzc3dvcmQ6")
        r = c.cmd(b64(PASS))
        self.assertTrue(r.startswith(b"+OK"), r)
        self.assert_logged_in(c)
        c = self.raw()
        self.assertEqual(c.cmd(b"AUTH LOGIN " + b64(b"bob")),
                         b"+ UGFzc3dvcmQ6")
        self.assertTrue(c.cmd(b64(PASS)).startswith(b"+OK"))
        self.assert_logged_in(c)

    def test_cancel_bad_base64_and_foreign_authzid(self):
        c = self.raw()
        self.assertEqual(c.cmd(b"AUTH LOGIN"), b"+ VXNlcm5hbWU6")
        self.assertEqual(c.cmd(b"*"), b"-ERR authentication cancelled")
        self.assertEqual(c.cmd(b"AUTH PLAIN AGJvYgBkZW1v="),
                         b"-ERR invalid base64 data")
        r = c.cmd(b"AUTH PLAIN " + b64(b"alice\0bob\0" + PASS))
        self.assertEqual(r, b"-ERR [AUTH] authorization identity differs")
        self.assertEqual(c.cmd(b"AUTH CRAM-MD5"),
                         b"-ERR unsupported authentication mechanism")
        # None of that logged in; the session goes on.
        self.assertTrue(c.cmd(b"STAT").startswith(b"-ERR command not "
                                                  b"valid"))
        r = c.cmd(b"AUTH PLAIN " + b64(b"\0bob\0" + PASS))
        self.assertTrue(r.startswith(b"+OK"), r)
        self.assert_logged_in(c)

    def test_wrong_password_counts_in_authd(self):
        """AUTH failures lock the address out as PASS failures do."""
        src = "127.0.10.1"
        for i in range(FAILURES_MAX):
            c = POP3Raw(self.suite.pop3_port, src)
            try:
                r = c.cmd(b"AUTH PLAIN " + b64(b"\0bob\0wrong%d" % i))
                self.assertTrue(r.startswith(b"-ERR [AUTH]"), r)
            finally:
                c.close()
        c = POP3Raw(self.suite.pop3_port, src)
        try:
            self.assertEqual(c.cmd(b"AUTH LOGIN"), b"+ VXNlcm5hbWU6")
            self.assertEqual(c.cmd(b64(b"bob")), b"+ UGFzc3dvcmQ6")
            r = c.cmd(b64(PASS))
            self.assertTrue(r.startswith(b"-ERR [SYS/TEMP]"), r)
            self.assertTrue(c.closed())
        finally:
            c.close()
        self.assertIn("result=throttled", self.suite.log("authd"))

    def test_poplib_auth_plain(self):
        p = poplib.POP3("127.0.0.1", self.suite.pop3_port, timeout=60)
        try:
            r = p._shortcmd("AUTH PLAIN " +
                            b64(b"\0bob\0" + PASS).decode())
            self.assertTrue(r.startswith(b"+OK"), r)
            self.assertEqual(p.stat()[0], 2)
            lines = p.retr(2)[1]
            self.assertEqual(b"\n".join(lines) + b"\n", self.msgs[1][1])
            self.assertTrue(p.quit().startswith(b"+OK"))
        finally:
            p.close()

    def test_poplib_auth_over_stls(self):
        p = poplib.POP3("127.0.0.1", self.suite.pop3_port, timeout=60)
        try:
            p.host = HOST
            p.stls(context=verified_ctx(self.suite))
            self.assertIn("SASL", p.capa())
            self.assertEqual(p.capa()["SASL"], ["PLAIN", "LOGIN"])
            r = p._shortcmd("AUTH PLAIN " +
                            b64(b"\0bob\0" + PASS).decode())
            self.assertTrue(r.startswith(b"+OK"), r)
            self.assertEqual(p.stat()[0], 2)
            self.assertTrue(p.quit().startswith(b"+OK"))
        finally:
            p.close()

    def test_curl_pop3s_auth_plain_and_login(self):
        for mech in ("PLAIN", "LOGIN"):
            r = subprocess.run(
                ["curl", "-sS", "-v", "--max-time", "60", "--cacert",
                 self.suite.cert, "--resolve",
                 "%s:%d:127.0.0.1" % (HOST, POP3S_PORT),
                 "-u", "bob:" + suite.PASSWORD,
                 "--login-options", "AUTH=" + mech,
                 "pop3s://%s:%d/1" % (HOST, POP3S_PORT)],
                capture_output=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(b"> AUTH " + mech.encode(), r.stderr)
            self.assertNotIn(b"> USER", r.stderr)
            self.assertEqual(r.stdout.replace(b"\r\n", b"\n"),
                             self.msgs[0][1])

    def test_mpop_auth_plain_and_login(self):
        """mpop with its default TLS checks over pop3s, made to use
        SASL PLAIN, then LOGIN: each fetches both messages (kept)."""
        for mech in ("plain", "login"):
            d = tempfile.mkdtemp(prefix="mpop-")
            self.addCleanup(shutil.rmtree, d, True)
            mbox = os.path.join(d, "mbox")
            open(mbox, "w").close()
            r = subprocess.run(
                ["mpop", "--debug", "--host=127.0.0.1",
                 "--port=%d" % POP3S_PORT, "--tls=on",
                 "--tls-starttls=off", "--tls-trust-file=" + self.suite.cert,
                 "--tls-host-override=" + HOST, "--auth=" + mech,
                 "--user=bob", "--passwordeval=echo " + suite.PASSWORD,
                 "--keep=on", "--uidls-file=" + os.path.join(d, "uidls"),
                 "--delivery=mbox," + mbox],
                capture_output=True, timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(b"AUTH " + mech.upper().encode(), r.stdout)
            with open(mbox, "rb") as f:
                text = f.read()
            for _, data in self.msgs:
                self.assertIn(data.split(b"\n\n", 1)[1], text)


class TestPop3ClearTextRefused(SuiteTest):
    """The default: no password in clear text, loopback included."""
    suite_args = {"plaintext_loopback": False}

    def setUp(self):
        self.msgs = fill_maildir(self.suite, "bob", 2)

    def tearDown(self):
        empty_maildir(self.suite, "bob")

    def test_capa_user_auth_refused_before_tls(self):
        c = POP3Raw(self.suite.pop3_port)
        try:
            lines = capa(c)
            self.assertIn(b"STLS", lines)
            self.assertNotIn(b"USER", lines)
            self.assertFalse([l for l in lines if l.startswith(b"SASL")],
                             lines)
            self.assertEqual(c.cmd(b"USER bob"), REFUSED)
            self.assertEqual(c.cmd(b"PASS " + PASS),
                             b"-ERR command not valid in this state")
            self.assertEqual(c.cmd(b"AUTH PLAIN " +
                                   b64(b"\0bob\0" + PASS)), REFUSED)
            self.assertEqual(c.cmd(b"AUTH LOGIN"), REFUSED)
            self.assertTrue(c.cmd(b"AUTH").startswith(b"+OK"))
            self.assertEqual(c.multi(), [])
        finally:
            c.close()
        self.assertIn("pop3 plaintext-refused verb=USER",
                      self.suite.log("pop3d"))

    def test_after_stls_user_and_auth_work(self):
        raw = socket.create_connection(("127.0.0.1", self.suite.pop3_port),
                                       60)
        f = raw.makefile("rb")
        self.assertTrue(f.readline().startswith(b"+OK"))
        raw.sendall(b"STLS\r\n")
        self.assertTrue(f.readline().startswith(b"+OK"))
        with verified_ctx(self.suite).wrap_socket(
                raw, server_hostname=HOST) as s:
            g = s.makefile("rb")
            s.sendall(b"CAPA\r\n")
            lines = []
            while True:
                l = g.readline().rstrip(b"\r\n")
                if l == b".":
                    break
                lines.append(l)
            self.assertIn(b"USER", lines)
            self.assertIn(b"SASL PLAIN LOGIN", lines)
            self.assertNotIn(b"STLS", lines)
            s.sendall(b"AUTH PLAIN " + b64(b"\0bob\0" + PASS) +
                      b"\r\nSTAT\r\nQUIT\r\n")
            r = [g.readline() for _ in range(3)]
            self.assertTrue(r[0].startswith(b"+OK"), r)
            self.assertTrue(r[1].startswith(b"+OK 2 "), r)
        p = stls_login(self.suite)
        self.assertEqual(p.stat()[0], 2)
        p.quit()

    def test_uidl_stable_across_stls_and_restart(self):
        def uidls():
            p = stls_login(self.suite)
            try:
                return p.uidl()[1]
            finally:
                p.quit()

        first = uidls()
        self.assertEqual(len(first), 2)
        self.assertEqual(uidls(), first)
        self.suite.stop_daemon("pop3d")
        self.suite.start_daemon("pop3d")
        self.assertEqual(uidls(), first)


class TestPop3UidlClearAndTls(SuiteTest):
    """UIDL over clear text (loopback allowed) and after STLS."""

    def setUp(self):
        fill_maildir(self.suite, "bob", 3)

    def tearDown(self):
        empty_maildir(self.suite, "bob")

    def test_uidl_same_clear_and_stls(self):
        p = self.suite.pop3("bob")
        clear = p.uidl()[1]
        p.quit()
        p = stls_login(self.suite)
        self.assertEqual(p.uidl()[1], clear)
        p.quit()
        self.assertEqual(len(clear), 3)


if __name__ == "__main__":
    unittest.main()
