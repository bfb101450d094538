"""smtpd's configurable limits and policy (issue 3, sallyport.conf(5)):
each class starts a suite with lines of its own appended to the
configuration and shows that the value is what smtpd does.  Limits:
sessions, sessions-per-client, messages-per-session, line-length
(DATA and BDAT); timeouts: greeting, command, data (in DATA, and in a
BDAT chunk that stalls); policy: relay from, auth
plaintext-on-loopback, submission sender any, received
show-auth-user.  Relayed mail waits in the queue (remote delivery is
not built): only the RCPT reply is checked, and nothing ever connects
beyond loopback."""

import base64
import smtplib
import subprocess
import time

import suite
from suite import SuiteTest, SMTPLine, make_message, connect_from

HELO = suite.HELO
PLAIN_ALICE = base64.b64encode(b"\0alice\0" + suite.PASSWORD.encode())


def ehlo(c):
    code, text = c.cmd(b"EHLO " + HELO.encode())
    assert code == 250, (code, text)
    return text


def mail_rcpt(c):
    """EHLO, MAIL from alice and RCPT to bob on an SMTPLine."""
    ehlo(c)
    code, text = c.cmd(b"MAIL FROM:<alice@example.test>")
    assert code == 250, (code, text)
    code, text = c.cmd(b"RCPT TO:<bob@example.test>")
    assert code == 250, (code, text)


class TestLimits(SuiteTest):
    # The defaults are printed: the suite's plaintext-on-loopback off.
    suite_args = {"extra_config": [
        "limit sessions-per-client 3",
        "limit messages-per-session 2",
        "limit line-length 2000",
    ], "plaintext_loopback": False}

    def setUp(self):
        self.s = self.suite

    def test_check_prints_the_limits(self):
        r = subprocess.run([self.s.binary("smtpd"), "-n", "-f", self.s.conf],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        for line in ("limit sessions-per-client 3",
                     "limit messages-per-session 2",
                     "limit line-length 2000", "timeout command 5m",
                     "auth plaintext-on-loopback no",
                     "submission sender own",
                     "received show-auth-user no"):
            self.assertIn(line + "\n", r.stdout)

    def test_sessions_per_client(self):
        addr = "127.0.3.1"
        socks = []
        try:
            self.s.fill_client_sessions(addr, 3, socks)
            # The three go on.
            for s in socks:
                s.sendall(b"NOOP\r\n")
                self.assertTrue(s.recv(4096).startswith(b"250 "))
            s, greeting = connect_from("127.0.3.2", self.s.smtp_port)
            socks.append(s)
            self.assertTrue(greeting.startswith(b"220 "), greeting)
        finally:
            for s in socks:
                s.close()
        self.assertIn("reason=too-many-sessions-per-client",
                      self.s.log("smtpd"))

    def test_messages_per_session(self):
        # Past the limit MAIL is 451 and the session goes on (RFC 5321
        # 3.8: a server closes only at shutdown or timeout).
        c = self.s.smtp()
        try:
            self.assertEqual(c.ehlo()[0], 250)
            for i in range(2):
                msg = make_message("per-session %d" % i, ["n %d" % i])
                self.assertEqual(c.sendmail("alice@example.test",
                                            ["bob@example.test"], msg), {})
            code, text = c.mail("alice@example.test")
            self.assertEqual(code, 451, text)
            self.assertTrue(text.startswith(b"4.7.0 "), text)
            self.assertEqual(c.noop()[0], 250)
            self.assertEqual(c.mail("alice@example.test")[0], 451)
            self.assertEqual(c.quit()[0], 221)
        finally:
            c.close()
        self.assertIn("reason=too-many-messages", self.s.log("smtpd"))

    def test_line_length(self):
        marker = "policy-long-line-%d" % time.monotonic_ns()
        ok = make_message(marker, ["x" * 1500])
        self.assertEqual(self.s.send(ok)[0], 250)
        self.assertIn(b"x" * 1500, self.s.wait_marked(marker))
        too_long = make_message("too long", ["y" * 2100])
        code, text = self.s.send(too_long)
        self.assertEqual(code, 554, text)
        self.assertIn("line too long", text)

    def bdat(self, body):
        """One message in one BDAT LAST chunk: the reply to it."""
        c = SMTPLine(self.s.smtp_port)
        try:
            mail_rcpt(c)
            c.send(b"BDAT %d LAST\r\n" % len(body) + body)
            return c.reply()
        finally:
            c.close()

    def test_line_length_bdat(self):
        marker = "policy-bdat-long-%d" % time.monotonic_ns()
        code, text = self.bdat(make_message(marker, ["z" * 1500]))
        self.assertEqual(code, 250, text)
        self.assertIn(b"z" * 1500, self.s.wait_marked(marker))
        code, text = self.bdat(make_message("bdat too long", ["w" * 2100]))
        self.assertEqual(code, 554, text)

    def test_auth_user_not_shown_by_default(self):
        marker = "policy-noshow-%d" % time.monotonic_ns()
        s = smtplib.SMTP("127.0.0.1", self.s.submission_port,
                         local_hostname=HELO, timeout=30)
        try:
            s.starttls(context=suite.client_ctx())
            s.login("alice", suite.PASSWORD)
            s.sendmail("alice@example.test", ["bob@example.test"],
                       make_message(marker, ["hi"]))
        finally:
            s.quit()
        data = self.s.wait_marked(marker)
        self.assertIn(b"ESMTPSA", data)
        self.assertNotIn(b"Authenticated sender", data)


class TestSessions(SuiteTest):
    suite_args = {"extra_config": ["limit sessions 2"]}

    def test_sessions(self):
        s = self.suite
        first = SMTPLine(s.smtp_port, source="127.0.4.1")
        second = SMTPLine(s.smtp_port, source="127.0.4.2")
        try:
            self.assertEqual(first.greeting[0], 220)
            self.assertEqual(second.greeting[0], 220)
            third, greeting = connect_from("127.0.4.3", s.smtp_port)
            third.close()
            self.assertTrue(greeting.startswith(b"421 4.7.0 "), greeting)
            # The two go on; once one leaves, there is room again.
            self.assertEqual(first.cmd(b"NOOP")[0], 250)
            self.assertEqual(second.cmd(b"QUIT")[0], 221)
            self.assertTrue(second.closed())

            def again():
                c, greeting = connect_from("127.0.4.3", s.smtp_port)
                c.close()
                return greeting.startswith(b"220 ")
            suite.wait_for(again, 10, interval=0.1, what="a session slot")
        finally:
            first.close()
            second.close()
        self.assertRegex(s.log("smtpd"), r"(?m)reason=too-many-sessions$")


class TestTimeouts(SuiteTest):
    suite_args = {"extra_config": [
        "timeout greeting 2s",
        "timeout command 4s",
        "timeout data 3s",
    ]}

    def setUp(self):
        self.s = self.suite

    def assert_timed_out(self, c, low, high, start):
        code, text = c.reply()
        took = time.monotonic() - start
        self.assertEqual(code, 421, text)
        self.assertIn("4.4.2", text)
        self.assertTrue(c.closed())
        self.assertGreaterEqual(took, low)
        self.assertLess(took, high)

    def test_greeting(self):
        start = time.monotonic()
        c = SMTPLine(self.s.smtp_port)
        try:
            self.assertEqual(c.greeting[0], 220)
            self.assert_timed_out(c, 1.5, 3.9, start)
        finally:
            c.close()

    def test_command(self):
        c = SMTPLine(self.s.smtp_port)
        try:
            ehlo(c)
            # Past the greeting timeout, within the command timeout.
            time.sleep(2.8)
            self.assertEqual(c.cmd(b"NOOP")[0], 250)
            start = time.monotonic()
            self.assert_timed_out(c, 3.5, 6.5, start)
        finally:
            c.close()

    def test_data(self):
        c = SMTPLine(self.s.smtp_port)
        try:
            mail_rcpt(c)
            self.assertEqual(c.cmd(b"DATA")[0], 354)
            c.send(b"Subject: slow\r\n")
            start = time.monotonic()
            self.assert_timed_out(c, 2.5, 3.9, start)
        finally:
            c.close()
        self.assertIn("reason=timeout", self.s.log("smtpd"))

    def test_bdat_stalled_mid_chunk(self):
        """A BDAT chunk whose octets stop coming is ended by the data
        timeout (RFC 3030 names none of its own; smtpd runs "timeout
        data" while a chunk is read, doc/INTERNALS.md): 421
        4.4.2 and the connection closed, whether the chunk is the first
        of its message (the one that asks queued for the message file)
        or a later one.  Nothing of either message is delivered, and a
        session sending chunks meanwhile gets its mail through."""
        ns = time.monotonic_ns()
        first, later, good = ("bdat-stall-%s-%d" % (w, ns)
                              for w in ("first", "later", "good"))
        timeouts = self.s.log("smtpd").count("reason=timeout")
        other = SMTPLine(self.s.smtp_port)
        a = SMTPLine(self.s.smtp_port)
        b = SMTPLine(self.s.smtp_port)
        try:
            ehlo(other)
            mail_rcpt(a)
            msg = make_message(first, ["never finished"])
            a.send(b"BDAT %d LAST\r\n" % (len(msg) + 100) + msg)
            a_start = time.monotonic()
            mail_rcpt(b)
            msg = make_message(later, ["the first chunk is whole"])
            code, text = b.bdat(msg)
            self.assertEqual(code, 250, text)
            b.send(b"BDAT 1000 LAST\r\nonly the start of it\r\n")
            b_start = time.monotonic()

            # Another session, chunk by chunk across the stall.
            msg = make_message(good, ["sent while the others stall"])
            self.assertEqual(other.cmd(b"MAIL FROM:<alice@example.test>")
                             [0], 250)
            self.assertEqual(other.cmd(b"RCPT TO:<bob@example.test>")[0],
                             250)
            self.assertEqual(other.bdat(msg[:40])[0], 250)
            time.sleep(1)
            code, text = other.bdat(msg[40:], last=True)
            self.assertEqual(code, 250, text)
            self.assertIsNotNone(suite.queue_id(text), text)

            self.assert_timed_out(a, 2.5, 3.9, a_start)
            self.assert_timed_out(b, 2.5, 3.9, b_start)
            # Still served, within its command timeout.
            self.assertEqual(other.cmd(b"NOOP")[0], 250)
            self.assertEqual(other.cmd(b"QUIT")[0], 221)
        finally:
            for c in (a, b, other):
                c.close()
        self.assertGreaterEqual(self.s.log("smtpd").count("reason=timeout"),
                                timeouts + 2)
        self.s.wait_marked(good)
        for mark in (first, later):
            self.assertEqual(self.s.marked_after_later(mark), [], mark)
        suite.wait_for(lambda: not self.s.spool_entries("incoming"), 20,
                       what="the spool's incoming/ to be emptied")


class TestRelayAndAuth(SuiteTest):
    suite_args = {"extra_config": [
        "relay from 127.0.0.0/24",
        "relay from ::1/128",
        "auth plaintext-on-loopback yes",
        "submission sender any",
        "received show-auth-user yes",
    ]}

    def setUp(self):
        self.s = self.suite

    def rcpt_remote(self, addr):
        c = SMTPLine(self.s.smtp_port, source=addr)
        try:
            ehlo(c)
            self.assertEqual(c.cmd(b"MAIL FROM:<x@remote.test>")[0], 250)
            code, text = c.cmd(b"RCPT TO:<someone@remote.test>")
            self.assertEqual(c.cmd(b"RSET")[0], 250)
            return code, text
        finally:
            c.close()

    def test_relay_from_network(self):
        code, text = self.rcpt_remote("127.0.0.1")
        self.assertEqual(code, 250, text)
        # 127.0.5.1 is loopback but not in 127.0.0.0/24.
        code, text = self.rcpt_remote("127.0.5.1")
        self.assertEqual(code, 550, text)
        self.assertIn("5.7.1", text)
        log = self.s.log("smtpd")
        self.assertIn("client=127.0.0.1", log)
        self.assertIn("relay=1", log)
        self.assertIn("result=relay-denied", log)

    def test_plaintext_auth_on_loopback(self):
        marker = "policy-loopback-auth-%d" % time.monotonic_ns()
        c = SMTPLine(self.s.submission_port)
        try:
            self.assertIn("AUTH PLAIN LOGIN", ehlo(c))
            code, text = c.cmd(b"AUTH PLAIN " + PLAIN_ALICE)
            self.assertEqual(code, 235, text)
            # submission sender any: not alice's own address.
            code, text = c.cmd(b"MAIL FROM:<carol@elsewhere.test>")
            self.assertEqual(code, 250, text)
            self.assertEqual(c.cmd(b"RCPT TO:<bob@example.test>")[0], 250)
            self.assertEqual(c.cmd(b"DATA")[0], 354)
            c.send(make_message(marker, ["hi"],
                                sender="carol@elsewhere.test") + b".\r\n")
            code, text = c.reply()
            self.assertEqual(code, 250, text)
            c.cmd(b"QUIT")
        finally:
            c.close()
        data = self.s.wait_marked(marker)
        self.assertIn(b"(Authenticated sender: alice)", data)
        self.assertIn(b"with ESMTPA", data)
