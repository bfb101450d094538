"""The message after the final dot: what a reply to it promises.

A 250 means the message is queued and delivered once; a 4xx means it
was not taken and is never delivered (issue 8): the queue manager is
stopped across the dot for longer than "timeout commit", then let go."""

import base64
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

    def test_manager_lost_during_commit(self):
        """The manager dies with the COMMIT unanswered: whether it was
        renamed into the queue is unknown to smtpd, so no 4xx (which
        would say "not taken"): the session closes without a reply."""
        s = self.suite
        marker = "lost-in-commit-%d" % time.monotonic_ns()
        c = self.open_data(make_message(marker, ["manager killed"]))
        old = s.manager()
        os.kill(old.pid, signal.SIGSTOP)
        try:
            c.send(b".\r\n")
            time.sleep(0.5)
        finally:
            os.kill(old.pid, signal.SIGKILL)
        try:
            with self.assertRaises(EOFError, msg="a reply came"):
                c.reply()
        finally:
            c.close()
        s.wait_child_as("queued", suite.DAEMON_USERS["queue"], timeout=30,
                        exclude=(old.pid,))
        self.assertIn("message-unsure", s.log("smtpd"))
        # smtpd reconnects (with backoff) before the next test.
        wait_for(lambda: s.log("smtpd").count("peer-connected "
                                              "service=queued") >= 2, 30,
                 what="smtpd connected to the new manager")
        # Never renamed (the manager was stopped): removed at its start.
        self.assert_promise_kept(451, "closed", marker)

    def test_stopped_within_commit_wait(self):
        marker = "within-commit-wait-%d" % time.monotonic_ns()
        msg = make_message(marker, ["stopped briefly across the dot"])
        code, text = self.dot_with_manager_stopped(msg, 0.5)
        self.assertEqual(code, 250, text)
        self.assert_promise_kept(code, text, marker)


class TestLongLines(SuiteTest):
    """Issue 14: lines over RFC 5321's 1,000 octets, as real senders send
    them, are taken (up to "limit line-length", 64 KiB by default) and
    stored untouched; a longer one refuses the whole message."""

    def setUp(self):
        self.suite.make_maildir("bob")

    def long_message(self, marker):
        lines = ["short line", "a" * 1998, "b" * 59998, "end"]
        return make_message(marker, lines), lines

    def transaction(self, c):
        c.ehlo()
        for line in (b"MAIL FROM:<alice@example.test>",
                     b"RCPT TO:<bob@example.test>"):
            code, text = c.cmd(line)
            self.assertEqual(code, 250, (line, text))

    def send_data(self, msg):
        with SMTPLine(self.suite.smtp_port, timeout=60) as c:
            self.transaction(c)
            code, text = c.cmd(b"DATA")
            self.assertEqual(code, 354, text)
            c.send(msg + b".\r\n")
            return c.reply()

    def send_bdat(self, msg):
        with SMTPLine(self.suite.smtp_port, timeout=60) as c:
            self.transaction(c)
            return c.bdat(msg, last=True)

    def assert_stored_whole(self, msg, marker):
        data = self.suite.wait_marked(marker, timeout=40)
        rest = suite.split_delivered(data)[3]
        self.assertEqual(rest, msg.replace(b"\r\n", b"\n"),
                         "the Maildir copy is not the message as sent")
        return data

    def pop3_body(self, marker):
        """The message holding marker as POP3 RETR gives it, CRLF lines."""
        poplib = suite.poplib
        saved = poplib._MAXLINE
        poplib._MAXLINE = 1 << 20
        try:
            p = self.suite.pop3("bob")
            try:
                for i in range(len(p.list()[1]), 0, -1):
                    lines = p.retr(i)[1]
                    if any(marker.encode() in l for l in lines):
                        return lines
            finally:
                p.quit()
        finally:
            poplib._MAXLINE = saved
        self.fail("no message with %s over POP3" % marker)

    def test_long_lines_data(self):
        marker = "long-data-%d" % time.monotonic_ns()
        msg, lines = self.long_message(marker)
        code, text = self.send_data(msg)
        self.assertEqual(code, 250, text)
        self.assert_stored_whole(msg, marker)
        got = self.pop3_body(marker)
        for line in lines:
            self.assertIn(line.encode(), got,
                          "a %d-octet line changed over POP3" % len(line))
        body = b"\r\n".join(got)
        self.assertTrue(body.endswith(msg.split(b"\r\n\r\n", 1)[1]
                                      .rstrip(b"\r\n")),
                        "the body over POP3 is not the body as sent")

    def test_long_lines_bdat(self):
        marker = "long-bdat-%d" % time.monotonic_ns()
        msg, _ = self.long_message(marker)
        code, text = self.send_bdat(msg)
        self.assertEqual(code, 250, text)
        self.assert_stored_whole(msg, marker)

    def assert_nothing_stored(self, marker):
        s = self.suite
        wait_for(lambda: s.spool_entries("queue") == [] and
                 s.spool_entries("incoming") == [], 30,
                 what="an empty spool")
        for f in s.mail_files("bob"):
            with open(f, "rb") as fh:
                self.assertNotIn(marker.encode(), fh.read())

    def test_line_at_limit(self):
        """65,536 octets with the CRLF, the default limit, are taken."""
        for send in (self.send_data, self.send_bdat):
            marker = "at-limit-%d" % time.monotonic_ns()
            msg = make_message(marker, ["before", "d" * 65534, "after"])
            code, text = send(msg)
            self.assertEqual(code, 250, text)
            self.assert_stored_whole(msg, marker)

    def test_line_over_limit_in_pieces(self):
        """A line one octet over the limit whose LF comes later: it is
        refused, and the reply comes (lineio must not wait for an LF it
        stopped reading for)."""
        marker = "pieces-%d" % time.monotonic_ns()
        msg = make_message(marker, ["before"])
        with SMTPLine(self.suite.smtp_port, timeout=30) as c:
            self.transaction(c)
            code, text = c.cmd(b"DATA")
            self.assertEqual(code, 354, text)
            c.send(msg + b"c" * 65535 + b"\r")
            time.sleep(1)
            c.send(b"\nafter\r\n.\r\n")
            code, text = c.reply()
        self.assertEqual(code, 554, text)
        self.assertIn("line too long", text)
        self.assert_nothing_stored(marker)

    def test_line_over_limit(self):
        for send in (self.send_data, self.send_bdat):
            marker = "over-limit-%d" % time.monotonic_ns()
            # The second is cut by lineio and dropped up to its LF.
            msg = make_message(marker, ["before", "c" * 65535, "after",
                                        "e" * 200000, "end"])
            code, text = send(msg)
            self.assertEqual(code, 554, text)
            self.assertIn("5.6.0", text)
            self.assertIn("line too long", text)
            self.assertIn("65536", text)
            self.assert_nothing_stored(marker)


class TestSizeAsSent(SuiteTest):
    """RFC 1870 4: the message size is counted as sent, CRLF included;
    it was counted after CRLF became LF, so a message of short lines up
    to twice the advertised SIZE got through."""
    suite_args = {"max_message_bytes": 10000}

    def test_size_counts_crlf(self):
        s = self.suite
        s.make_maildir("bob")
        # 2,900 lines of "a" CRLF: 8,700 octets and the header, under.
        code, text = s.send(make_message("under", ["a"] * 2900))
        self.assertEqual(code, 250, text)
        # 4,000: 12,000 octets as sent, 8,000 once stored with LF.
        try:
            code, text = s.send(make_message("over", ["a"] * 4000))
        except suite.smtplib.SMTPDataError as e:
            code, text = e.smtp_code, e.smtp_error.decode()
        self.assertEqual(code, 552, text)
        self.assertIn("5.3.4", text)


class TestSubmissionSender(SuiteTest):
    """Submission: the sender must be the user's own address, compared
    without case (it was case-sensitive: <ALICE@EXAMPLE.TEST> was
    refused for alice), and the null sender is allowed (it was refused,
    which stops notifications such as MDNs)."""
    suite_args = {"extra_config": ["auth plaintext-on-loopback yes"]}

    def mail_from(self, path):
        with SMTPLine(self.suite.submission_port, timeout=30) as c:
            c.ehlo()
            plain = base64.b64encode(b"\0alice\0" +
                                     suite.PASSWORD.encode())
            code, text = c.cmd(b"AUTH PLAIN " + plain)
            self.assertEqual(code, 235, text)
            return c.cmd(b"MAIL FROM:<" + path + b">")

    def test_sender_any_case(self):
        for path in (b"alice@example.test", b"ALICE@EXAMPLE.TEST",
                     b"Alice@Example.Test"):
            code, text = self.mail_from(path)
            self.assertEqual(code, 250, (path, text))

    def test_null_sender(self):
        code, text = self.mail_from(b"")
        self.assertEqual(code, 250, text)

    def test_other_sender_refused(self):
        for path in (b"bob@example.test", b"alice@elsewhere.test",
                     b"alicex@example.test"):
            code, text = self.mail_from(path)
            self.assertEqual(code, 553, (path, text))
            self.assertIn("5.7.1", text)


HUGE_MIN_FREE = "limit queue-min-free 1000000G"


def mail_reply(port):
    with SMTPLine(port, timeout=30) as c:
        c.ehlo()
        return c.cmd(b"MAIL FROM:<alice@example.test>")


class TestSpoolLow(SuiteTest):
    """A spool with less free space than "limit queue-min-free" refuses
    MAIL with 452 4.3.1, before the message is sent (it was refused 451
    only after the whole message had come).  The minimum is set above the
    disk's free space to fake a full one."""
    suite_args = {"extra_config": [HUGE_MIN_FREE]}

    def test_mail_refused_452(self):
        # The manager tells smtpd once their connection is up.
        wait_for(lambda: "smtp spool-low" in self.suite.log("smtpd"), 20,
                 what="smtpd told that the spool is low")
        code, text = mail_reply(self.suite.smtp_port)
        self.assertEqual(code, 452, text)
        self.assertIn("4.3.1", text)
        self.assertIn("spool-low", self.suite.log("queued"))


class TestQueueReload(SuiteTest):
    """sallyctl reload reaches queued too: the manager's limits follow
    smtpd's (a raised "limit message-size" was refused 554 by the queue,
    which kept the old one), and "limit queue-min-free" changes."""
    suite_args = {"max_message_bytes": 20 * 1024}

    def reload(self, *lines):
        s = self.suite
        base = [l for l in s.config_text().splitlines()
                if not l.startswith("limit message-size")]
        s.write_config("\n".join(base + list(lines)) + "\n")
        logs = {d: s.log(d).count(d + " reloaded") for d in
                ("queued", "smtpd")}
        r = s.sallyctl("reload")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("queued: reloading (pid %d)" % s.pid("queued"),
                      r.stdout)
        for d, n in logs.items():
            wait_for(lambda: s.log(d).count(d + " reloaded") > n, 15,
                     what="%s's reloaded line" % d)

    def mail_code(self):
        return mail_reply(self.suite.smtp_port)[0]

    def test_limits_follow_reload(self):
        s = self.suite
        s.make_maildir("bob")
        big = make_message("reload-big", ["x" * 99] * 1200)   # ~120 KB
        self.reload("limit message-size 200K", HUGE_MIN_FREE)
        wait_for(lambda: self.mail_code() == 452, 20,
                 what="MAIL refused 452 once the spool is low")
        self.reload("limit message-size 200K")
        wait_for(lambda: self.mail_code() == 250, 20,
                 what="MAIL taken again once the spool is not low")
        code, text = s.send(big)
        self.assertEqual(code, 250, text)
        s.wait_marked("reload-big", timeout=40)
