"""The mailbox process of pop3d (issue 10): which -ERR answers count
toward the error limit, and the message sizes a delivery writes into
the Maildir file name (,W=), which pop3d reads instead of the file."""

import os
import re
import unittest

import suite
from suite import SuiteTest, POP3Line
from test_pop3_scale import fill_maildir, empty_maildir


def limit(name):
    with open(suite.REPO + "/common/sp_limits.h") as f:
        text = f.read()
    return int(re.search(r"#define\s+%s\s+(\d+)" % name, text).group(1))


ERRORS_MAX = limit("POP3_ERRORS_MAX")


class TestPOP3Errors(SuiteTest):

    def tearDown(self):
        empty_maildir(self.suite, "bob")

    def session(self):
        p = POP3Line(self.suite.pop3_port, timeout=60)
        self.assertTrue(p.cmd(b"USER bob").startswith(b"+OK"))
        r = p.cmd(b"PASS " + suite.PASSWORD.encode())
        self.assertTrue(r.startswith(b"+OK"), r)
        return p

    def test_out_of_range_not_counted(self):
        """LIST 11 on a 10-message mailbox is a normal answer: the
        session lives on past the error limit."""
        fill_maildir(self.suite, "bob", 10)
        p = self.session()
        try:
            for i in range(ERRORS_MAX * 2):
                r = p.cmd(b"LIST 11")
                self.assertTrue(r.startswith(b"-ERR no such message"), r)
            self.assertTrue(p.cmd(b"DELE 1").startswith(b"+OK"))
            for i in range(ERRORS_MAX * 2):
                r = p.cmd(b"RETR 1")
                self.assertTrue(r.startswith(b"-ERR message 1"), r)
            self.assertTrue(p.cmd(b"STAT").startswith(b"+OK 9 "))
            self.assertTrue(p.cmd(b"QUIT").startswith(b"+OK"))
        finally:
            p.close()

    def test_abuse_closed_with_last_line(self):
        """Malformed commands are counted; the last one is followed by
        a final -ERR line, then the connection closes."""
        fill_maildir(self.suite, "bob", 2)
        p = self.session()
        try:
            for i in range(ERRORS_MAX):
                r = p.cmd(b"LIST x")
                self.assertTrue(r.startswith(b"-ERR"), r)
            r = p.line()
            self.assertEqual(r, b"-ERR too many errors, closing connection")
            self.assertTrue(p.closed())
        finally:
            p.close()


def put(s, user, name, data, sub="cur"):
    """One message file in user's Maildir/sub, owned by the user."""
    uid, gid = suite.user_ids(suite.MAIL_USERS[user])
    s.make_maildir(user)
    path = os.path.join(s.maildir(user, sub), name)
    with open(path, "wb") as f:
        f.write(data)
    os.chown(path, uid, gid)


class TestPOP3Sizes(SuiteTest):

    def tearDown(self):
        empty_maildir(self.suite, "bob")

    def listing(self):
        p = self.suite.pop3("bob", timeout=60)
        try:
            _, lines, _ = p.list()
            sizes = [int(l.split()[1]) for l in lines]
            return sizes, [p.retr(i + 1)[1] for i in range(len(sizes))]
        finally:
            p.quit()

    def test_delivery_names_crlf_size(self):
        """A delivered message's name carries ,W=: the octets that LIST
        reports and RETR sends."""
        marker = "wsize-%d" % os.getpid()
        msg = "Subject: %s\r\n\r\nline one\r\n.dot line\r\n" % marker
        code, text = self.suite.send(msg)
        self.assertEqual(code, 250, text)
        data = self.suite.wait_marked(marker)
        name = os.path.basename(self.suite.mail_files("bob")[0])
        m = re.search(r",S=(\d+),W=(\d+)$", name)
        self.assertIsNotNone(m, name)
        self.assertEqual(int(m.group(1)), len(data))
        self.assertEqual(int(m.group(2)),
                         len(data) + data.count(b"\n"))
        sizes, bodies = self.listing()
        # poplib strips the line ends and the dot-stuffing.
        self.assertEqual(sizes, [int(m.group(2))])
        self.assertEqual(sum(len(l) + 2 for l in bodies[0]), sizes[0])

    def test_size_from_name(self):
        """With ,S= and ,W= in the name the file is not read: the size
        is the name's (here one more than the content's 6)."""
        put(self.suite, "bob", "1700000000.M1P1Q1.h,S=4,W=7:2,",
            b"a\nb\n")
        sizes, _ = self.listing()
        self.assertEqual(sizes, [7])

    def test_size_read_without_name(self):
        """No ,W=, or one that cannot be (shorter than ,S=, or longer
        than a CRLF for each octet): the message is read and counted."""
        put(self.suite, "bob", "1700000000.M1P1Q1.h,S=4:2,", b"a\nb\n")
        put(self.suite, "bob", "1700000001.M1P1Q1.h,S=4,W=3:2,",
            b"a\nb\n")
        put(self.suite, "bob", "1700000002.M1P1Q1.h,S=4,W=11:2,",
            b"a\nb\n")
        put(self.suite, "bob", "1700000003.M1P1Q1.h:2,", b"a\rb")
        sizes, _ = self.listing()
        self.assertEqual(sizes, [6, 6, 6, 5])


if __name__ == "__main__":
    unittest.main()
