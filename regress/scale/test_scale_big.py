"""50 MB messages through every path, under every role's sandbox: SMTP
DATA on port 25, BDAT after STARTTLS, submission with AUTH under TLS,
and an alias with two members; each through the queue into the Maildir
and out by POP3 (RETR compared byte for byte, TOP), then deleted."""

import hashlib
import smtplib
import unittest

import suite
from suite import SuiteTest, SMTPLine, make_message, starttls

import scale

BIG = scale.size(50 * 1024 * 1024)
LIMIT = 64 * 1024 * 1024


def big_message(subject, rcpt="bob@example.test"):
    """A message of about BIG bytes, CRLF line ends, with lines that
    start with a dot (stuffed on the wire)."""
    line = b"%-74s\r\n"
    body = []
    n = 0
    while n < BIG:
        l = line % (b".dot %d" % n if len(body) % 1000 == 0
                    else b"line %d of the big message" % n)
        body.append(l)
        n += len(l)
    return make_message(subject, [], rcpt=rcpt) + b"".join(body)


def digest(data):
    return hashlib.sha256(data).hexdigest()


class TestScaleBig(SuiteTest):
    suite_args = {"max_message_bytes": LIMIT}

    def retrieved(self, user, msg, marker):
        """Waits for the message in user's Maildir, checks it on disk and
        over POP3, deletes it."""
        s = self.suite
        data = scale.measure("%s: delivered" % marker, s.wait_marked,
                             marker, user, timeout=scale.SLOW_SECS)
        self.assertEqual(digest(suite.split_delivered(data)[3]),
                         digest(msg.replace(b"\r\n", b"\n")))
        p = scale.measure("%s: pop3 login" % marker, s.pop3, user,
                          timeout=scale.SLOW_SECS)
        try:
            self.assertEqual(p.stat()[0], 1)
            resp, lines, octets = scale.measure("%s: RETR" % marker,
                                                p.retr, 1)
            got = b"".join(l + b"\r\n" for l in lines)
            self.assertEqual(p.list(1).split()[2], b"%d" % len(got))
            rest = suite.split_delivered(got.replace(b"\r\n", b"\n"))[3]
            self.assertEqual(digest(rest.replace(b"\n", b"\r\n")),
                             digest(msg))
            resp, top, _ = p.top(1, 3)
            self.assertEqual(top[-3:], lines[lines.index(b"") + 1:][:3])
            p.dele(1)
        finally:
            p.quit()
        self.assertEqual(s.mail_files(user) + s.mail_files(user, "cur"),
                         [])

    def assert_nothing_died(self):
        for d in suite.DAEMONS:
            log = self.suite.log(d)
            self.assertNotIn("sandbox violation", log, d)
            self.assertNotIn("died", log, d)

    def test_data(self):
        msg = big_message("big by DATA")
        code, text = scale.measure("big by DATA: sent", self.suite.send,
                                   msg)
        self.assertEqual(code, 250, text)
        self.retrieved("bob", msg, "big by DATA")
        self.assert_nothing_died()

    def test_bdat_starttls(self):
        msg = big_message("big by BDAT")
        chunk = 8 * 1024 * 1024

        def send():
            with SMTPLine(self.suite.smtp_port, timeout=scale.SLOW_SECS) \
                    as c:
                c.ehlo()
                starttls(c)
                c.ehlo()
                self.assertEqual(
                    c.cmd(b"MAIL FROM:<alice@example.test>")[0], 250)
                self.assertEqual(c.cmd(b"RCPT TO:<bob@example.test>")[0],
                                 250)
                for i in range(0, len(msg), chunk):
                    code, text = c.bdat(msg[i:i + chunk],
                                        last=i + chunk >= len(msg))
                    self.assertEqual(code, 250, text)
                c.cmd(b"QUIT")
        scale.measure("big by BDAT: sent", send)
        self.retrieved("bob", msg, "big by BDAT")
        self.assert_nothing_died()

    def test_submission_alias(self):
        msg = big_message("big by submission", rcpt="team@example.test")

        def send():
            c = smtplib.SMTP("127.0.0.1", self.suite.submission_port,
                             local_hostname=suite.HELO,
                             timeout=scale.SLOW_SECS)
            try:
                c.starttls(context=suite.client_ctx())
                c.login("alice", suite.PASSWORD)
                self.assertEqual(c.sendmail("alice@example.test",
                                            ["team@example.test"], msg),
                                 {})
            finally:
                c.quit()
        scale.measure("big by submission to an alias: sent", send)
        for user in ("alice", "bob"):
            self.retrieved(user, msg, "big by submission")
        self.assert_nothing_died()


if __name__ == "__main__":
    unittest.main()
