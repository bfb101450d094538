"""The mailbox process of pop3d (issue 10): which -ERR answers count
toward the error limit, and the message sizes a delivery writes into
the Maildir file name (,W=)."""

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


if __name__ == "__main__":
    unittest.main()
