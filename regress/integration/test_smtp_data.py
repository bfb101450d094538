"""The message after the final dot: what a reply to it promises.

A 250 means the message is queued and delivered once; a 4xx means it
was not taken and is never delivered (issue 8): the queue manager is
stopped across the dot for longer than "timeout commit", then let go."""

import os
import signal
import time

import suite
from suite import SuiteTest, SMTPLine, make_message, wait_for

COMMIT_WAIT_SECS = 3


class TestCommitWait(SuiteTest):
    suite_args = {"extra_config": ["timeout commit %ds" % COMMIT_WAIT_SECS]}

    def setUp(self):
        self.suite.make_maildir("bob")

    def open_data(self, msg):
        """A session in DATA with msg sent but for the final dot."""
        c = SMTPLine(self.suite.smtp_port, timeout=120)
        c.ehlo()
        for line in (b"MAIL FROM:<alice@example.test>",
                     b"RCPT TO:<bob@example.test>"):
            code, text = c.cmd(line)
            self.assertEqual(code, 250, (line, text))
        code, text = c.cmd(b"DATA")
        self.assertEqual(code, 354, text)
        c.send(msg)
        return c

    def dot_with_manager_stopped(self, msg, stop_secs):
        """Sends the final dot while the manager is stopped for stop_secs;
        the (code, text) of the reply."""
        c = self.open_data(msg)
        pid = self.suite.manager().pid
        os.kill(pid, signal.SIGSTOP)
        try:
            c.send(b".\r\n")
            time.sleep(stop_secs)
        finally:
            os.kill(pid, signal.SIGCONT)
        try:
            return c.reply()
        finally:
            c.close()

    def copies(self, marker):
        n = 0
        for f in self.suite.mail_files("bob"):
            with open(f, "rb") as fh:
                n += marker.encode() in fh.read()
        return n

    def assert_promise_kept(self, code, text, marker):
        """250: delivered exactly once; 4xx: never delivered."""
        s = self.suite
        if code == 250:
            wait_for(lambda: self.copies(marker) > 0, 40,
                     what="the message after its 250")
        else:
            self.assertEqual(code // 100, 4, text)
        # Long enough for a queued message to be delivered (and twice).
        wait_for(lambda: s.spool_entries("queue") == [] and
                 s.spool_entries("incoming") == [], 40,
                 what="an empty spool")
        time.sleep(2)
        self.assertEqual(self.copies(marker), 1 if code == 250 else 0,
                         "reply %d %s" % (code, text))

    def test_stopped_past_commit_wait(self):
        marker = "past-commit-wait-%d" % time.monotonic_ns()
        msg = make_message(marker, ["stopped across the dot"])
        code, text = self.dot_with_manager_stopped(
            msg, COMMIT_WAIT_SECS * 3)
        self.assertIn("commit-late", self.suite.log("smtpd"),
                      "the engine did not give up on the commit")
        self.assert_promise_kept(code, text, marker)

    def test_stopped_within_commit_wait(self):
        marker = "within-commit-wait-%d" % time.monotonic_ns()
        msg = make_message(marker, ["stopped briefly across the dot"])
        code, text = self.dot_with_manager_stopped(msg, 0.5)
        self.assertEqual(code, 250, text)
        self.assert_promise_kept(code, text, marker)
