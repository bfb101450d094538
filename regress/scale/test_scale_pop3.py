"""A 10,000- and a 100,000-message mailbox over POP3, under the mailbox
process's real sandbox: login and STAT (timed, first with every message
in new/ and no sizes cache, then again with the cache), LIST, UIDL,
RETR of the last message, DELE at QUIT.  The messages are written
straight into the Maildir, as deliveries leave them."""

import os
import unittest

import suite
from suite import SuiteTest
from test_pop3_scale import empty_maildir, fill_maildir

import scale


class TestScalePOP3(SuiteTest):

    def login_stat(self, n, what):
        """Logs in, STAT (timed); returns the open session."""
        def go():
            p = self.suite.pop3("bob", timeout=scale.SLOW_SECS)
            return p, p.stat()
        p, (count, size) = scale.measure(what, go)
        self.assertEqual(count, n)
        return p, size

    def check_mailbox(self, n, msgs):
        p, size = self.login_stat(n, "pop3 login+STAT %d messages, "
                                  "all in new/, no cache" % n)
        try:
            resp, listing, _ = scale.measure("pop3 LIST %d" % n, p.list)
            self.assertEqual(len(listing), n)
            self.assertEqual(sum(int(l.split()[1]) for l in listing), size)
            resp, uidl, _ = p.uidl()
            uids = [l.split()[1].decode() for l in uidl]
            self.assertEqual(uids, [m.split(":")[0] for m, _ in msgs])
            resp, lines, _ = p.retr(n)
            self.assertEqual(b"\n".join(lines) + b"\n", msgs[-1][1])
            p.dele(1)
            p.dele(n)
        finally:
            p.quit()
        p, _ = self.login_stat(n - 2, "pop3 login+STAT %d messages, "
                               "cached" % (n - 2))
        try:
            resp, uidl, _ = p.uidl()
            self.assertEqual([l.split()[1].decode() for l in uidl],
                             uids[1:-1])
        finally:
            p.quit()
        log = self.suite.log("pop3d")
        self.assertNotIn("mailbox-died", log)
        self.assertNotIn("sandbox violation", log)
        return msgs[1:-1]

    def mailboxes(self, wsize):
        n1, n2 = scale.size(10000), scale.size(100000)
        msgs = scale.measure("write %d messages" % n1, fill_maildir,
                             self.suite, "bob", n1, wsize=wsize)
        msgs = self.check_mailbox(n1, msgs)
        msgs += scale.measure("write %d messages" % (n2 - len(msgs)),
                              fill_maildir, self.suite, "bob",
                              n2 - len(msgs), first=n1, wsize=wsize)
        self.check_mailbox(n2, msgs)
        empty_maildir(self.suite, "bob")

    def test_mailboxes(self):
        """Names with ,S= only (other tools): every message is read."""
        self.mailboxes(False)

    def test_mailboxes_named(self):
        """Names with ,W= as deliveries write them: none is read."""
        self.mailboxes(True)


if __name__ == "__main__":
    unittest.main()
