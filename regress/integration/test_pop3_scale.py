"""POP3 on mailboxes past the sizes where the C library changes paths
(glibc's qsort asks sysinfo(2) for the memory size once its array passes
1 KiB), under the real sandbox, and the sizes cache that a session which
died left behind.  The mailboxes are written straight into the Maildir,
as a delivery would leave them, which is quick."""

import os
import signal
import unittest

import suite
from suite import SuiteTest


def fill_maildir(s, user, n, sub="new", first=0, body=b"", wsize=False):
    """n messages in user's Maildir/sub, owned by the user, numbered from
    first; returns the list of (name, content) in delivery order.
    wsize: the names carry ,W= (the size with CRLF) as deliveries write
    them; else only ,S=, as other tools do."""
    uid, gid = suite.user_ids(suite.MAIL_USERS[user])
    s.make_maildir(user)
    d = s.maildir(user, sub)
    out = []
    for i in range(first, first + n):
        data = (b"Subject: scale %d\n\nmessage %d\n" % (i, i)) + body
        name = "%d.M%06dP%dQ%d.scale,S=%d" % (1700000000 + i, i % 1000000,
                                               4242, i, len(data))
        if wsize:
            name += ",W=%d" % (len(data) + data.count(b"\n"))
        if sub == "cur":
            name += ":2,"
        fd = os.open(os.path.join(d, name),
                     os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, data)
            os.fchown(fd, uid, gid)
        finally:
            os.close(fd)
        out.append((name, data))
    return out


def empty_maildir(s, user):
    """Empties the user's Maildir; one never delivered to has nothing."""
    base = os.path.join(s.home(user), "Maildir")
    if not os.path.isdir(base):
        return
    for sub in ("new", "cur", "tmp"):
        if not os.path.isdir(os.path.join(base, sub)):
            continue
        for f in os.listdir(os.path.join(base, sub)):
            os.unlink(os.path.join(base, sub, f))
    for f in os.listdir(base):
        if f.startswith("sallyport-pop3"):
            os.unlink(os.path.join(base, f))


class TestPOP3Scale(SuiteTest):

    def setUp(self):
        self.log_from = len(self.suite.log("pop3d"))

    def tearDown(self):
        empty_maildir(self.suite, "bob")

    def login_stat(self, n):
        p = self.suite.pop3("bob", timeout=60)
        try:
            count, size = p.stat()
            self.assertEqual(count, n)
            resp, listing, _ = p.list()
            self.assertEqual(len(listing), n)
            self.assertEqual(sum(int(l.split()[1]) for l in listing), size)
            resp, uidl, _ = p.uidl()
            return [l.split()[1].decode() for l in uidl]
        finally:
            p.quit()

    def assert_not_died(self):
        self.assertNotIn("mailbox-died",
                         self.suite.log("pop3d")[self.log_from:],
                         "a mailbox process died")

    def test_sixty_messages(self):
        """56 messages or more: the first login died in qsort."""
        msgs = fill_maildir(self.suite, "bob", 60)
        uidls = self.login_stat(60)
        self.assertEqual(uidls, [n.split(":")[0] for n, _ in msgs],
                         "not served in delivery order")
        self.assertEqual(self.login_stat(60), uidls)
        self.assert_not_died()

    def test_cache_left_behind(self):
        """43-55 messages: the first login wrote a sizes cache that the
        next one died reading, for good."""
        fill_maildir(self.suite, "bob", 50)
        first = self.login_stat(50)
        cache = os.path.join(self.suite.home("bob"), "Maildir",
                             "sallyport-pop3.sizes")
        self.assertTrue(os.path.exists(cache), "no sizes cache written")
        self.assertEqual(self.login_stat(50), first)
        self.assertEqual(self.login_stat(50), first)
        self.assert_not_died()

    def test_cache_busy_left_by_dead_session(self):
        """A cache that a session died reading stays renamed aside: the
        next login throws it away instead of dying on it again."""
        fill_maildir(self.suite, "bob", 50)
        base = os.path.join(self.suite.home("bob"), "Maildir")
        busy = os.path.join(base, "sallyport-pop3.sizes.busy")
        with open(busy, "w") as f:
            f.write("sallyport-pop3-sizes 1\n" + "1 2 x\n" * 5000)
        uid, gid = suite.user_ids(suite.MAIL_USERS["bob"])
        os.chown(busy, uid, gid)
        self.login_stat(50)
        self.assertFalse(os.path.exists(busy))
        self.assertIn("sizecache-ignored reason=left-by-dead-session",
                      self.suite.log("pop3d"))

    def test_killed_after_move(self):
        """A mailbox process killed once some messages were retrieved,
        and so moved from new/ to cur/, the others still in new/: the
        next session serves the same messages with the same unique-ids,
        each once."""
        fill_maildir(self.suite, "bob", 60)
        p = self.suite.pop3("bob", timeout=60)
        first = [l.split()[1] for l in p.uidl()[1]]
        for i in (1, 2, 30):
            p.retr(i)
        child = self.suite.wait_child_as("pop3d", suite.MAIL_USERS["bob"])
        os.kill(child.pid, signal.SIGKILL)
        p.close()
        self.assertEqual(len(self.suite.mail_files("bob")), 57)
        self.assertEqual(len(self.suite.mail_files("bob", "cur")), 3)
        suite.wait_for(lambda: self.suite.child_as(
            "pop3d", suite.MAIL_USERS["bob"]) is None, 15,
            what="the killed mailbox process reaped")
        self.assertEqual(self.login_stat(60),
                         [u.decode() for u in first])
        self.assertIn("reason=killed", self.suite.log("pop3d"))


if __name__ == "__main__":
    unittest.main()
