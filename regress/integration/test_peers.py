"""A peer being down: with authd or queued stopped, smtpd answers 4xx
(never 5xx, never a hang) and recovers by itself once the peer is back."""

import os
import socket
import time
import unittest

import suite
from suite import SuiteTest, SMTPLine, make_message, wait_for

# Every read waits at most this long: smtpd waits SMTP_PEER_TIMEOUT_SECS
# (30 s) for a peer before it answers 4xx.
READ_TIMEOUT = 45
# A peer that is down is retried with backoff capped at IPC_RETRY_MAX_SECS
# (30 s): recovery must come within that and a margin.
RECOVER_TIMEOUT = 45


class TestPeers(SuiteTest):

    def setUp(self):
        for f in self.suite.mail_files("bob"):
            os.unlink(f)

    def session(self):
        c = SMTPLine(self.suite.smtp_port, timeout=READ_TIMEOUT)
        self.assertEqual(c.greeting[0], 220, c.greeting)
        self.assertEqual(c.cmd(b"EHLO " + suite.HELO.encode())[0], 250)
        return c

    def transaction(self, c, body=b"Subject: peers\r\n\r\nhello\r\n"):
        """Runs one mail transaction; returns [(step, code, text)] up to
        and including the first reply that is not a success."""
        steps = []
        for step, line, ok in (
                ("MAIL", b"MAIL FROM:<alice@example.test>", 250),
                ("RCPT", b"RCPT TO:<bob@example.test>", 250),
                ("DATA", b"DATA", 354)):
            code, text = c.cmd(line)
            steps.append((step, code, text))
            if code != ok:
                return steps
        c.send(body + b".\r\n")
        code, text = c.reply()
        steps.append(("end of DATA", code, text))
        return steps

    def assert_tempfail(self, steps):
        step, code, text = steps[-1]
        self.assertEqual(code // 100, 4, "with a peer down, %s got %d %s "
                         "(transcript %r)" % (step, code, text, steps))
        for st, cd, tx in steps[:-1]:
            self.assertNotEqual(cd // 100, 5, steps)

    def recovered(self):
        """A whole transaction gets through: a 250 after DATA."""
        try:
            c = SMTPLine(self.suite.smtp_port, timeout=READ_TIMEOUT)
        except OSError:
            return None
        try:
            if c.cmd(b"EHLO " + suite.HELO.encode())[0] != 250:
                return None
            steps = self.transaction(c, b"Subject: back\r\n\r\nback\r\n")
            for st, cd, tx in steps:
                self.assertNotEqual(cd // 100, 5, steps)
            return steps if steps[-1][1] == 250 else None
        except (OSError, EOFError):
            return None
        finally:
            c.close()

    def wait_recovered(self):
        t0 = time.monotonic()
        steps = wait_for(self.recovered, RECOVER_TIMEOUT, interval=1,
                         what="smtpd to recover after the peer came back")
        self.suite.wait_mail("bob", timeout=30)
        return time.monotonic() - t0, steps

    def check_peer_down(self, peer):
        s = self.suite
        smtpd_pids = (s.pid("smtpd"), s.engine("smtpd").pid)
        s.stop_daemon(peer)
        c = self.session()
        try:
            t0 = time.monotonic()
            try:
                steps = self.transaction(c)
            except socket.timeout:
                self.fail("smtpd did not answer within %ds with %s down"
                          % (READ_TIMEOUT, peer))
            self.assert_tempfail(steps)
            self.assertLess(time.monotonic() - t0, READ_TIMEOUT)
            # The session goes on after the 4xx.
            self.assertEqual(c.cmd(b"RSET")[0], 250)
            self.assertEqual(c.cmd(b"QUIT")[0], 221)
        finally:
            c.close()
        s.start_daemon(peer)
        self.wait_recovered()
        self.assertEqual((s.pid("smtpd"), s.engine("smtpd").pid),
                         smtpd_pids, "smtpd processes were replaced")

    def test_authd_down(self):
        self.check_peer_down("authd")

    def test_queued_down(self):
        self.check_peer_down("queued")


if __name__ == "__main__":
    unittest.main()
