"""The per-user quota (issue 11): the users table's quota=SIZE field,
which authd passes with its user answers.  Over IMAP (python imaplib
and raw lines), APPEND and COPY past the quota answer NO [OVERQUOTA];
over SMTP, a message that would pass it is accepted, then deferred by
the delivery agent with 4.2.2 (in sallyctl show queue and the log) and
delivered once the quota is raised (users table edited, sallyctl
reload) or mail is deleted."""

import os
import re
import time
import unittest

import suite
from suite import SuiteTest, make_message, queue_id, wait_for, user_ids

# bob's quota in these tests, and what fills most of it.
QUOTA = 3000
FILLER = 2800


def need_imapd(cls):
    if "imapd" not in suite.DAEMONS:
        return unittest.skip("imapd-mailbox is not built")(cls)
    return cls


def message(size, subject="quota"):
    """An RFC 5322 message of exactly size octets, CRLF line ends."""
    head = (b"From: alice@example.test\r\nTo: bob@example.test\r\n"
            b"Subject: " + subject.encode() + b"\r\n\r\n")
    body = size - len(head) - 2
    assert body > 0
    return head + b"x" * body + b"\r\n"


class QuotaTest(SuiteTest):
    """One suite; bob's quota is set in the users table before each
    test and authd reloaded."""

    def set_quota(self, user, quota):
        """user's line gets ":quota=<quota>" (None: no field), then
        sallyctl reload; returns once authd has reloaded."""
        s = self.suite
        path = s.path("etc", "users")
        with open(path) as f:
            text = f.read()
        field = "" if quota is None else ":quota=%s" % quota
        new = re.sub(r"(?m)^(%s:[^:]*:[^:]*:[^:]*:[^:\n]*)(:[^\n]*)?$"
                     % user, lambda m: m.group(1) + field, text)
        if quota is not None:
            self.assertNotEqual(new, text, "no line for %s" % user)
        with open(path, "w") as f:
            f.write(new)
        before = s.log("authd").count("authd reloaded")
        r = s.sallyctl("reload")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        wait_for(lambda: s.log("authd").count("authd reloaded") > before,
                 15, what="authd's reload")

    def reset_bob(self, filler=0):
        """An empty Maildir for bob, with a message of filler octets in
        cur/ (named with its S= and W= sizes, as the suite's writers
        name theirs) when filler is not 0."""
        s = self.suite
        wait_for(lambda: not [p for p in s.children_of("imapd")
                              if p.role == "imapd-user"], 10,
                 what="the mailbox processes to end")
        # A delivery worker keeps the usage it measured for a while.
        agent = s.delivery_agent().pid
        wait_for(lambda: not s.children_of_pid(agent), 20,
                 what="the delivery workers to end")
        home = s.home("bob")
        trash = s.path("trash-%d" % time.monotonic_ns())
        os.mkdir(trash, 0o700)
        for name in os.listdir(home):
            os.rename(os.path.join(home, name), os.path.join(trash, name))
        s.make_maildir("bob")
        if not filler:
            return None
        path = os.path.join(s.maildir("bob", "cur"),
                            "1.M1P1Q1.test,S=%d,W=%d:2,S" % (filler, filler))
        with open(path, "wb") as f:
            f.write(message(filler, "filler"))
        uid, gid = user_ids(suite.MAIL_USERS["bob"])
        os.chown(path, uid, gid)
        return path

    def tearDown(self):
        self.set_quota("bob", None)

    def queue_error(self, msgid):
        """The error column of show queue for msgid, once it has one."""
        def look():
            out = self.suite.sallyctl("show", "queue").stdout
            for l in out.splitlines():
                f = l.split(None, 6)
                if l.startswith(msgid + ".") and len(f) == 7 and \
                        f[4] != "0":
                    return f[6]
            return None
        return wait_for(look, 20, what="%s deferred in show queue" % msgid)

    def send_bob(self, marker, size=600):
        body = ["%s %s" % (marker, "y" * 60)] * (size // 70)
        code, text = self.suite.send(make_message(marker, body))
        self.assertEqual(code, 250, text)
        return queue_id(text)

    def has_mail(self, marker):
        for f in self.suite.mail_files("bob"):
            with open(f, "rb") as fh:
                if marker.encode() in fh.read():
                    return True
        return False

    @need_imapd
    def test_imap_append_copy_overquota(self):
        self.reset_bob()
        self.set_quota("bob", QUOTA)
        c = self.suite.imap("bob")
        try:
            m = message(1200)
            typ, data = c.append("INBOX", None, None, m)
            self.assertEqual(typ, "OK", data)
            c.select("INBOX")
            typ, data = c.copy("1", "INBOX")          # 2400 in use
            self.assertEqual(typ, "OK", data)
            typ, data = c.append("INBOX", None, None, m)
            self.assertEqual(typ, "NO", data)
            self.assertTrue(data[0].startswith(b"[OVERQUOTA]"), data)
            typ, data = c.copy("1", "INBOX")
            self.assertEqual(typ, "NO", data)
            self.assertTrue(data[0].startswith(b"[OVERQUOTA]"), data)
            # What still fits is taken.
            typ, data = c.append("INBOX", None, None, message(600))
            self.assertEqual(typ, "OK", data)
            typ, data = c.status("INBOX", "(MESSAGES)")
            self.assertIn(b"MESSAGES 3", data[0])
        finally:
            c.logout()
        # Without a quota the same APPEND is taken (a new login).
        self.set_quota("bob", None)
        c = self.suite.imap("bob")
        try:
            typ, data = c.append("INBOX", None, None, message(1200))
            self.assertEqual(typ, "OK", data)
        finally:
            c.logout()

    def test_delivery_deferred_until_raised(self):
        s = self.suite
        self.reset_bob(FILLER)
        self.set_quota("bob", QUOTA)
        msgid = self.send_bob("over-raised")
        err = self.queue_error(msgid)
        self.assertIn("4.2.2 mailbox full", err)
        self.assertIn("4.2.2 mailbox full", s.log("queued"))
        time.sleep(3)                   # retried, still deferred
        self.assertFalse(self.has_mail("over-raised"))
        self.set_quota("bob", "1M")
        wait_for(lambda: self.has_mail("over-raised"), 30,
                 what="the deferred message after the quota was raised")

    def test_delivery_deferred_until_deleted(self):
        s = self.suite
        filler = self.reset_bob(2000)
        self.set_quota("bob", "3k")
        msgid = self.send_bob("over-deleted", 1500)
        self.assertIn("4.2.2 mailbox full", self.queue_error(msgid))
        # A message that fits goes through meanwhile.
        code, text = s.send(make_message("small-fits", ["small"]))
        self.assertEqual(code, 250, text)
        wait_for(lambda: self.has_mail("small-fits"), 20,
                 what="a message that fits the quota")
        self.assertFalse(self.has_mail("over-deleted"))
        os.unlink(filler)
        # Seen at the next measure (DELIVERY_QUOTA_CACHE_SECS, 10 s).
        wait_for(lambda: self.has_mail("over-deleted"), 40,
                 what="the deferred message after mail was deleted")


if __name__ == "__main__":
    unittest.main()
