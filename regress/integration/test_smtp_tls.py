"""smtpd's TLS, AUTH and submission (issue 3): STARTTLS (RFC 3207) and
implicit TLS (RFC 8314) with swaks, smtplib and openssl s_client; AUTH
PLAIN and LOGIN (RFC 4954) only under TLS; the submission policy (AUTH
before MAIL, the sender the user's own); no open relay; the STARTTLS
injection case; failed AUTH throttled per client address."""

import base64
import re
import smtplib
import subprocess
import time
import unittest

import suite
from suite import SuiteTest, SMTPLine, make_message, client_ctx, starttls

HELO = suite.HELO
PLAIN_ALICE = base64.b64encode(b"\0alice\0" + suite.PASSWORD.encode())


def swaks(*args, timeout=60):
    return subprocess.run(["swaks", "--helo", HELO, "--timeout", "30"]
                          + list(args), capture_output=True, text=True,
                          timeout=timeout)


def s_client(*args, stdin="QUIT\r\n", timeout=30):
    return subprocess.run(["openssl", "s_client", "-brief", "-ign_eof"]
                          + list(args), input=stdin, capture_output=True,
                          text=True, timeout=timeout)


def nodate_message(subject):
    """A message without Date and Message-ID, CRLF line ends."""
    return ("From: <alice@example.test>\r\nTo: <bob@example.test>\r\n"
            "Subject: %s\r\n\r\nhello\r\n" % subject).encode()


class TestSmtpTls(SuiteTest):
    # AUTH without TLS is refused on loopback too.
    suite_args = {"plaintext_loopback": False}

    def setUp(self):
        self.s = self.suite

    def server(self, port):
        return "127.0.0.1:%d" % port

    def ehlo(self, c):
        code, text = c.cmd(b"EHLO " + HELO.encode())
        self.assertEqual(code, 250, text)
        return text

    # -- STARTTLS and SMTPS

    def test_plain_ehlo_offers_starttls_not_auth(self):
        r = swaks("-s", self.server(self.s.smtp_port), "--quit-after",
                  "EHLO")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("250-STARTTLS", r.stdout)
        self.assertNotIn("AUTH", r.stdout)
        r = swaks("-s", self.server(self.s.submission_port),
                  "--quit-after", "EHLO")
        self.assertIn("STARTTLS", r.stdout)
        self.assertNotRegex(r.stdout, r"250.AUTH")

    def test_ehlo_after_starttls_no_starttls_but_auth(self):
        c = SMTPLine(self.s.submission_port)
        try:
            self.ehlo(c)
            starttls(c)
            text = self.ehlo(c)
            self.assertNotIn("STARTTLS", text)
            self.assertIn("AUTH PLAIN LOGIN", text)
        finally:
            c.close()

    def test_swaks_starttls_delivery(self):
        mark = "swaks-starttls-%d" % time.monotonic_ns()
        r = swaks("-s", self.server(self.s.smtp_port), "--tls",
                  "--from", "alice@example.test", "--to",
                  "bob@example.test", "--header", "Subject: " + mark)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        data = self.s.wait_marked(mark)
        self.assertRegex(data, rb"with ESMTPS id")
        self.assertRegex(data, rb"\(version=TLSv1\.[23] cipher=\S+\)")

    def test_swaks_smtps_delivery(self):
        mark = "swaks-smtps-%d" % time.monotonic_ns()
        r = swaks("-s", self.server(self.s.smtps_port), "--tlsc",
                  "--from", "alice@example.test", "--to",
                  "bob@example.test", "--header", "Subject: " + mark)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(self.s.wait_marked(mark), rb"with ESMTPS id")

    def test_swaks_pipelining_over_tls(self):
        mark = "swaks-pipe-%d" % time.monotonic_ns()
        r = swaks("-s", self.server(self.s.smtp_port), "--tls",
                  "--pipeline", "--from", "alice@example.test", "--to",
                  "bob@example.test,alice@example.test",
                  "--header", "Subject: " + mark)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.s.wait_marked(mark, "bob")
        self.s.wait_marked(mark, "alice")

    def test_openssl_starttls_and_smtps(self):
        for extra in (["-starttls", "smtp", "-connect",
                       self.server(self.s.smtp_port)],
                      ["-starttls", "smtp", "-connect",
                       self.server(self.s.submission_port)],
                      ["-connect", self.server(self.s.smtps_port)]):
            r = s_client(*extra)
            out = r.stdout + r.stderr
            self.assertRegex(out, r"Protocol version: TLSv1\.3", extra)
            r = s_client("-tls1_2", *extra)
            out = r.stdout + r.stderr
            self.assertRegex(out, r"Protocol version: TLSv1\.2", extra)
            r = s_client("-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0",
                         *extra)
            out = r.stdout + r.stderr
            self.assertNotEqual(r.returncode, 0, out)
            self.assertNotIn("Protocol version: TLSv1.1", out)
        r = s_client("-connect", self.server(self.s.smtps_port),
                     stdin="EHLO x\r\nQUIT\r\n")
        self.assertIn("220 mail.example.test ESMTP", r.stdout)

    def test_starttls_refusals(self):
        c = SMTPLine(self.s.smtp_port)
        try:
            self.ehlo(c)
            code, _ = c.cmd(b"STARTTLS now")
            self.assertEqual(code, 501)
            starttls(c)
            # The session was reset: EHLO is needed again.
            code, _ = c.cmd(b"MAIL FROM:<alice@example.test>")
            self.assertEqual(code, 503)
            self.ehlo(c)
            code, _ = c.cmd(b"STARTTLS")
            self.assertEqual(code, 503)
        finally:
            c.close()

    def test_starttls_injection(self):
        c = SMTPLine(self.s.smtp_port)
        try:
            self.ehlo(c)
            c.send(b"STARTTLS\r\nRSET\r\n")
            code, _ = c.reply()
            self.assertEqual(code, 220)
            # Nothing more in plaintext: the server waits for the
            # handshake and never answers the RSET.
            c.sock.settimeout(1.5)
            try:
                more = c.sock.recv(100)
            except (TimeoutError, OSError):
                more = b""
            self.assertEqual(c.buf + more, b"")
            c.sock.settimeout(30)
            c.sock = client_ctx().wrap_socket(c.sock)
            # The first reply under TLS answers HELP, not the RSET.
            code, _ = c.cmd(b"HELP")
            self.assertEqual(code, 214)
        finally:
            c.close()

    # -- AUTH and submission

    def test_auth_without_tls_refused(self):
        c = SMTPLine(self.s.submission_port)
        try:
            text = self.ehlo(c)
            self.assertNotIn("AUTH", text)
            code, _ = c.cmd(b"AUTH PLAIN " + PLAIN_ALICE)
            self.assertEqual(code, 538)
            code, _ = c.cmd(b"MAIL FROM:<alice@example.test>")
            self.assertEqual(code, 530)
        finally:
            c.close()

    def test_mail_on_submission_needs_auth(self):
        c = SMTPLine(self.s.submission_port)
        try:
            self.ehlo(c)
            starttls(c)
            self.ehlo(c)
            code, text = c.cmd(b"MAIL FROM:<alice@example.test>")
            self.assertEqual(code, 530, text)
            self.assertIn("5.7.0", text)
        finally:
            c.close()

    def test_swaks_auth_plain_and_login(self):
        for mech in ("PLAIN", "LOGIN"):
            mark = "swaks-auth-%s-%d" % (mech, time.monotonic_ns())
            r = swaks("-s", self.server(self.s.submission_port), "--tls",
                      "--auth", mech, "--auth-user", "alice",
                      "--auth-password", suite.PASSWORD,
                      "--from", "alice@example.test",
                      "--to", "bob@example.test",
                      "--header", "Subject: " + mark)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("235 2.7.0", r.stdout)
            self.assertIn(b"with ESMTPSA id", self.s.wait_marked(mark))

    def test_auth_exchanges(self):
        c = SMTPLine(self.s.submission_port)
        try:
            self.ehlo(c)
            starttls(c)
            self.ehlo(c)
            code, _ = c.cmd(b"AUTH PLAIN")
            self.assertEqual(code, 334)
            code, _ = c.cmd(b"*")
            self.assertEqual(code, 501)
            code, _ = c.cmd(b"AUTH CRAM-MD5")
            self.assertEqual(code, 504)
            code, _ = c.cmd(b"AUTH LOGIN")
            self.assertEqual(code, 334)
            code, _ = c.cmd(b"not base64!")
            self.assertEqual(code, 501)
            code, _ = c.cmd(b"AUTH LOGIN " + base64.b64encode(b"alice"))
            self.assertEqual(code, 334)
            code, text = c.cmd(base64.b64encode(suite.PASSWORD.encode()))
            self.assertEqual(code, 235, text)
            code, _ = c.cmd(b"AUTH PLAIN " + PLAIN_ALICE)
            self.assertEqual(code, 503)
        finally:
            c.close()

    def smtplib_login(self):
        s = smtplib.SMTP("127.0.0.1", self.s.submission_port,
                         local_hostname=HELO, timeout=30)
        s.starttls(context=client_ctx())
        s.login("alice", suite.PASSWORD)
        return s

    def test_smtplib_submission_adds_date_and_message_id(self):
        mark = "smtplib-sub-%d" % time.monotonic_ns()
        s = self.smtplib_login()
        try:
            s.sendmail("alice@example.test", ["bob@example.test"],
                       nodate_message(mark))
        finally:
            s.quit()
        data = self.s.wait_marked(mark)
        head = data.split(b"\n\n", 1)[0]
        self.assertRegex(head, rb"\nDate: \w{3}, \d+ \w{3} \d{4} ")
        self.assertRegex(head, rb"\nMessage-ID: <[^>]+@mail\.example\.test>")
        # A message that has them keeps its own, and gets no second one.
        mark = "smtplib-sub2-%d" % time.monotonic_ns()
        s = self.smtplib_login()
        try:
            s.sendmail("alice@example.test", ["bob@example.test"],
                       make_message(mark, ["hi"]))
        finally:
            s.quit()
        head = self.s.wait_marked(mark).split(b"\n\n", 1)[0]
        self.assertEqual(len(re.findall(rb"\nDate:", head)), 1, head)
        self.assertEqual(len(re.findall(rb"\nMessage-ID:", head)), 1, head)

    def test_sender_must_be_the_users_own(self):
        s = self.smtplib_login()
        try:
            for sender in ("bob@example.test", "alice@elsewhere.test"):
                code, text = s.mail(sender)
                self.assertEqual(code, 553, (sender, text))
                self.assertIn(b"5.7.1", text)
            code, text = s.mail("alice@example.test")
            self.assertEqual(code, 250, text)
        finally:
            s.quit()

    def test_relay_only_when_authenticated(self):
        c = SMTPLine(self.s.smtp_port)
        try:
            self.ehlo(c)
            starttls(c)
            self.ehlo(c)
            self.assertEqual(c.cmd(b"MAIL FROM:<x@remote.test>")[0], 250)
            code, text = c.cmd(b"RCPT TO:<someone@remote.test>")
            self.assertEqual(code, 550, text)
            self.assertIn("5.7.1", text)
        finally:
            c.close()
        s = self.smtplib_login()
        try:
            self.assertEqual(s.mail("alice@example.test")[0], 250)
            code, text = s.rcpt("someone@remote.test")
            self.assertEqual(code, 250, text)
        finally:
            s.quit()


class TestAuthThrottle(SuiteTest):

    def login(self, password):
        c = SMTPLine(self.suite.submission_port)
        c.cmd(b"EHLO " + HELO.encode())
        starttls(c)
        c.cmd(b"EHLO " + HELO.encode())
        return c, c.cmd(b"AUTH PLAIN " + base64.b64encode(
            b"\0alice\0" + password))

    def test_wrong_password_then_throttled(self):
        c, (code, text) = self.login(suite.PASSWORD.encode())
        self.assertEqual(code, 235, text)
        c.close()
        c = SMTPLine(self.suite.submission_port)
        self.ehlo_tls(c)
        n = suite_limit("SMTP_AUTH_FAILURES_MAX")
        for i in range(n):
            code, text = c.cmd(b"AUTH PLAIN " + base64.b64encode(
                b"\0alice\0wrong"))
            self.assertEqual(code, 535, text)
            self.assertIn("5.7.8", text)
        code, text = c.reply()
        self.assertEqual(code, 421, text)
        self.assertTrue(c.closed())
        c.close()
        # A new connection from the same address, right password: 421.
        c, (code, text) = self.login(suite.PASSWORD.encode())
        self.assertEqual(code, 421, text)
        c.close()

    def ehlo_tls(self, c):
        c.cmd(b"EHLO " + HELO.encode())
        starttls(c)
        c.cmd(b"EHLO " + HELO.encode())


def suite_limit(name):
    with open(suite.REPO + "/common/sp_limits.h") as f:
        m = re.search(r"#define\s+%s\s+(\d+)" % name, f.read())
    return int(m.group(1))


if __name__ == "__main__":
    unittest.main()
