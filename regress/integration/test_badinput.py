"""Bad input: over-long lines, NUL bytes, bare LF, commands out of order,
unknown commands, wrong passwords.  Each gets a clear error reply, the
session ends at the error limit, no process dies and nothing is lost.

The test methods run in name order; test_zz_* checks at the end that
every process of the suite is the one that was there at the start."""

import os
import socket
import time
import unittest

import suite
from suite import SuiteTest, SMTPLine, POP3Line, make_message, wait_for

MAX_ERRORS = 5


class TestBadInput(SuiteTest):
    suite_args = {"max_errors": MAX_ERRORS}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.suite
        cls.pids_at_start = cls.all_pids()

    @classmethod
    def all_pids(cls):
        s = cls.suite
        out = {d: s.pid(d) for d in suite.DAEMONS}
        out["smtpd engine"] = s.engine("smtpd").pid
        out["pop3d engine"] = s.engine("pop3d").pid
        out["queue manager"] = s.manager().pid
        out["delivery agent"] = s.delivery_agent().pid
        return out

    def session(self):
        c = SMTPLine(self.suite.smtp_port, timeout=30)
        self.assertEqual(c.greeting[0], 220)
        self.assertEqual(c.cmd(b"EHLO " + suite.HELO.encode())[0], 250)
        return c

    def assert_5xx_then_alive(self, c, line, what):
        code, text = c.cmd(line)
        self.assertEqual(code // 100, 5, "%s: got %d %s" % (what, code,
                                                           text))
        self.assertEqual(c.cmd(b"NOOP")[0], 250,
                         "the session did not go on after %s" % what)

    def test_smtp_errors_answered(self):
        c = self.session()
        try:
            # RFC 5321 4.5.3.1.4: a command line is at most 512 octets.
            self.assert_5xx_then_alive(c, b"NOOP " + b"x" * 600,
                                       "an over-long line")
            self.assert_5xx_then_alive(c, b"NO\x00OP", "a NUL byte")
            self.assert_5xx_then_alive(c, b"FROBNICATE", "an unknown verb")
            self.assertEqual(c.cmd(b"RSET")[0], 250)
            self.assert_5xx_then_alive(c, b"RCPT TO:<bob@example.test>",
                                       "RCPT before MAIL")
            self.assertEqual(c.cmd(b"QUIT")[0], 221)
        finally:
            c.close()
        c = self.session()
        try:
            self.assert_5xx_then_alive(c, b"DATA", "DATA before MAIL")
            self.assertEqual(c.cmd(b"MAIL FROM:<alice@example.test>")[0],
                             250)
            self.assert_5xx_then_alive(c, b"MAIL FROM:<alice@example.test>",
                                       "a second MAIL")
            self.assert_5xx_then_alive(c, b"DATA", "DATA before RCPT")
            self.assertEqual(c.cmd(b"QUIT")[0], 221)
        finally:
            c.close()

    def test_smtp_bare_lf_command(self):
        c = self.session()
        try:
            c.send(b"NOOP\n")
            code, text = c.reply()
            self.assertEqual(code // 100, 5, "a bare LF: %d %s"
                             % (code, text))
            self.assertEqual(c.cmd(b"NOOP")[0], 250)
        finally:
            c.close()

    def test_smtp_error_limit(self):
        c = self.session()
        try:
            codes = []
            for i in range(MAX_ERRORS + 3):
                try:
                    code, text = c.cmd(b"BOGUS")
                except (EOFError, ConnectionResetError, BrokenPipeError):
                    break
                codes.append(code)
                if code == 421:
                    break
            self.assertIn(421, codes, "no 421 after %d errors: %s"
                          % (len(codes), codes))
            self.assertLessEqual(len(codes), MAX_ERRORS + 1, codes)
            for code in codes[:-1]:
                self.assertEqual(code // 100, 5, codes)
            self.assertTrue(c.closed(), "the session stayed open after 421")
        finally:
            c.close()

    def data_refused(self, body, what):
        before = len(self.suite.mail_files("bob"))
        c = self.session()
        try:
            self.assertEqual(c.cmd(b"MAIL FROM:<alice@example.test>")[0],
                             250)
            self.assertEqual(c.cmd(b"RCPT TO:<bob@example.test>")[0], 250)
            self.assertEqual(c.cmd(b"DATA")[0], 354)
            c.send(b"Subject: " + what.encode() + b"\r\n\r\n" + body +
                   b"\r\n.\r\n")
            code, text = c.reply()
            self.assertEqual(code // 100, 5, "%s in DATA: %d %s"
                             % (what, code, text))
            self.assertEqual(c.cmd(b"NOOP")[0], 250)
        finally:
            c.close()
        time.sleep(2)
        self.assertEqual(len(self.suite.mail_files("bob")), before,
                         "a message with %s was delivered" % what)

    def test_data_bare_lf(self):
        self.data_refused(b"one line\nanother line", "a bare LF")

    def test_data_nul(self):
        self.data_refused(b"a NUL \x00 byte", "a NUL byte")

    def test_pop3_bad_commands(self):
        c = POP3Line(self.suite.pop3_port)
        try:
            self.assertTrue(c.greeting.startswith(b"+OK"), c.greeting)
            for line, what in ((b"FROBNICATE", "an unknown command"),
                               (b"STAT", "STAT before login"),
                               (b"PASS demo", "PASS before USER"),
                               (b"USER " + b"b" * 300, "an over-long line"),
                               (b"US\x00ER bob", "a NUL byte")):
                r = c.cmd(line)
                self.assertTrue(r.startswith(b"-ERR"), "%s: %r" % (what, r))
            self.assertTrue(c.cmd(b"CAPA").startswith(b"+OK"))
            # CAPA's list ends with a dot line.
            while c.line() != b".":
                pass
            self.assertTrue(c.cmd(b"QUIT").startswith(b"+OK"))
        finally:
            c.close()

    def test_pop3_wrong_password(self):
        # Its own source address: authd throttles it past
        # AUTH_FAILURES_MAX (test_pop3_auth), the others go on.
        src = "127.0.5.1"
        c = POP3Line(self.suite.pop3_port, timeout=30, source=src)
        errors = 0
        closed = False
        try:
            for i in range(15):
                try:
                    r = c.cmd(b"USER bob")
                    if not r.startswith(b"+OK"):
                        self.assertTrue(r.startswith(b"-ERR"), r)
                        errors += 1
                        continue
                    r = c.cmd(b"PASS wrong%d" % i)
                except (EOFError, ConnectionResetError, BrokenPipeError):
                    closed = True
                    break
                self.assertTrue(r.startswith(b"-ERR"),
                                "wrong password answered %r" % r)
                errors += 1
        finally:
            c.close()
        self.assertGreaterEqual(errors, 2, "closed before a second try")
        self.assertTrue(closed, "still open after %d wrong passwords"
                        % errors)
        # The right password still works from elsewhere.
        p = self.suite.pop3("bob")
        p.quit()

    def test_zz_nothing_died_nothing_lost(self):
        self.assertEqual(self.all_pids(), self.pids_at_start,
                         "a process of the suite was replaced")
        for f in self.suite.mail_files("bob"):
            os.unlink(f)
        msg = make_message("after bad input", ["still works"])
        code, text = self.suite.send(msg)
        self.assertEqual(code, 250, text)
        files = self.suite.wait_mail("bob")
        self.assertEqual(len(files), 1)
        with open(files[0], "rb") as f:
            self.assertEqual(suite.split_delivered(f.read())[3],
                             msg.replace(b"\r\n", b"\n"))


if __name__ == "__main__":
    unittest.main()
