"""pop3d's RFC 2449 policies as configuration (issue 10): "pop3
login-delay" advertised (LOGIN-DELAY) before and after login and
enforced by the parent per user, for USER/PASS and AUTH alike; "pop3
expire" advertised (EXPIRE) and enforced at QUIT on the messages
retrieved in the session; the default, EXPIRE NEVER, removes nothing."""

import base64
import os
import poplib
import time
import unittest

import suite
from suite import SuiteTest, POP3Line
from test_pop3_scale import fill_maildir, empty_maildir
from test_pop3_tls import HOST, verified_ctx

PASS = suite.PASSWORD.encode()


def recent_message(s, user, text):
    """A message delivered now (its Maildir name carries the time)."""
    uid, gid = suite.user_ids(suite.MAIL_USERS[user])
    s.make_maildir(user)
    data = b"Subject: recent\n\n" + text + b"\n"
    name = "%d.M1P4243Q1.recent,S=%d" % (int(time.time()), len(data))
    path = os.path.join(s.maildir(user, "new"), name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
        os.fchown(fd, uid, gid)
    finally:
        os.close(fd)
    return data


class TestPop3Policy(SuiteTest):
    suite_args = {"extra_config": ["pop3 login-delay 1h",
                                   "pop3 expire 30d"]}

    def tearDown(self):
        for u in ("alice", "bob"):
            empty_maildir(self.suite, u)

    def test_capa_before_and_after_login(self):
        p = poplib.POP3("127.0.0.1", self.suite.pop3_port, timeout=60)
        try:
            c = p.capa()
            self.assertEqual(c.get("LOGIN-DELAY"), ["3600"])
            self.assertEqual(c.get("EXPIRE"), ["30"])
        finally:
            p.close()

    def test_expire_removes_old_retrieved_at_quit(self):
        """bob: two old messages and a recent one; RETR of an old one
        and of the recent one; at QUIT the old retrieved one is gone,
        the old unretrieved one and the recent one stay."""
        old = fill_maildir(self.suite, "bob", 2)
        recent_message(self.suite, "bob", b"fresh")
        p = self.suite.pop3("bob")
        c = p.capa()
        self.assertEqual(c.get("LOGIN-DELAY"), ["3600"])
        self.assertEqual(c.get("EXPIRE"), ["30"])
        self.assertEqual(p.stat()[0], 3)
        lines = p.retr(1)[1]
        self.assertEqual(b"\n".join(lines) + b"\n", old[0][1])
        p.retr(3)
        self.assertTrue(p.quit().startswith(b"+OK"))
        # A message not retrieved stays where it was (new/ or cur/).
        left = sorted(os.listdir(self.suite.maildir("bob", "cur")) +
                      os.listdir(self.suite.maildir("bob", "new")))
        self.assertEqual(len(left), 2, left)
        self.assertFalse([n for n in left if n.startswith(
            old[0][0].split(",")[0])], left)
        self.assertTrue([n for n in left if ".recent" in n], left)
        self.assertIn("pop3 expire days=30 marked=1",
                      self.suite.log("pop3d"))

    def test_login_delay_refuses_second_login(self):
        """alice logs in, then again at once: -ERR [LOGIN-DELAY], with
        USER/PASS and with AUTH; the password is not counted as wrong."""
        p = self.suite.pop3("alice")
        p.quit()
        c = POP3Line(self.suite.pop3_port, 60)
        try:
            self.assertTrue(c.cmd(b"USER alice").startswith(b"+OK"))
            r = c.cmd(b"PASS " + PASS)
            self.assertTrue(r.startswith(b"-ERR [LOGIN-DELAY] "), r)
            self.assertTrue(c.closed())
        finally:
            c.close()
        c = POP3Line(self.suite.pop3_port, 60)
        try:
            r = c.cmd(b"AUTH PLAIN " +
                      base64.b64encode(b"\0alice\0" + PASS))
            self.assertTrue(r.startswith(b"-ERR [LOGIN-DELAY] "), r)
        finally:
            c.close()
        # Under TLS the parent's line goes through the engine's relay.
        p = poplib.POP3("127.0.0.1", self.suite.pop3_port, timeout=60)
        try:
            p.host = HOST
            p.stls(context=verified_ctx(self.suite))
            p.user("alice")
            with self.assertRaises(poplib.error_proto) as e:
                p.pass_(suite.PASSWORD)
            self.assertTrue(e.exception.args[0].startswith(
                b"-ERR [LOGIN-DELAY] "), e.exception.args)
        finally:
            p.close()
        log = self.suite.log("pop3d")
        self.assertIn("pop3 login-refused user=alice reason=login-delay",
                      log)
        self.assertNotIn("user=alice result=fail", log)


class TestPop3ExpireNever(SuiteTest):
    """The default: EXPIRE NEVER advertised, nothing removed but DELE."""

    def tearDown(self):
        empty_maildir(self.suite, "bob")

    def test_never_keeps_retrieved(self):
        fill_maildir(self.suite, "bob", 2)
        p = self.suite.pop3("bob")
        c = p.capa()
        self.assertEqual(c.get("EXPIRE"), ["NEVER"])
        self.assertNotIn("LOGIN-DELAY", c)
        p.retr(1)
        p.retr(2)
        p.quit()
        self.assertEqual(len(os.listdir(self.suite.maildir("bob", "cur"))),
                         2)
        # And a second login at once is fine.
        p = self.suite.pop3("bob")
        self.assertEqual(p.stat()[0], 2)
        p.quit()


if __name__ == "__main__":
    unittest.main()
