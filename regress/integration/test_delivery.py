"""One message the whole way: SMTP in (smtplib, swaks), durable queue,
Maildir delivery as the user, POP3 out (poplib), DELE at QUIT."""

import os
import re
import shutil
import subprocess
import time
import unittest

import suite
from suite import (SuiteTest, make_message, queue_id, split_delivered,
                   wait_for)


class TestDelivery(SuiteTest):

    def body(self):
        # A line that starts with a dot (dot-stuffing both ways), an empty
        # line, trailing spaces and a long line.
        return ["Hello Bob,", "", ".a line that starts with a dot",
                "..two dots", "trailing spaces   ", "x" * 900, "", "-- ",
                "Alice"]

    def deliver_one(self, subject, rcpt="bob@example.test", user="bob"):
        msg = make_message(subject, self.body(), rcpt=rcpt)
        code, text = self.suite.send(msg, rcpts=(rcpt,))
        self.assertEqual(code, 250, text)
        self.assertIsNotNone(queue_id(text),
                             "the 250 reply carries no queue id: %r" % text)
        files = self.suite.wait_mail(user)
        self.assertEqual(len(files), 1, files)
        return msg, files[0]

    def test_smtp_to_maildir_to_pop3(self):
        msg, path = self.deliver_one("delivery test")
        lf = msg.replace(b"\r\n", b"\n")
        st = os.stat(path)
        uid, gid = suite.user_ids("sp_bob")
        self.assertEqual(st.st_uid, uid, "not owned by bob's uid")
        self.assertEqual(st.st_mode & 0o777, 0o600,
                         "mode %o" % (st.st_mode & 0o777))
        with open(path, "rb") as f:
            data = f.read()
        rp, dt, received, rest = split_delivered(data)
        self.assertEqual(rp, b"Return-Path: <alice@example.test>")
        self.assertRegex(dt, rb"^Delivered-To: <?bob@example\.test>?$")
        self.assertTrue(received.lower().startswith(b"received:"),
                        "no Received header after Delivered-To: %r"
                        % data[:300])
        self.assertEqual(rest, lf, "stored message differs from the sent")
        # The tmp/ name goes right after new/ is synced, a moment after
        # the file shows in new/.
        wait_for(lambda: self.suite.mail_files("bob", "tmp") == [], 10,
                 what="the tmp/ name to go (a file was left in tmp/)")

        p = self.suite.pop3("bob")
        try:
            count, size = p.stat()
            self.assertEqual(count, 1)
            resp, listing, _ = p.list()
            self.assertEqual(len(listing), 1, listing)
            num, lsize = listing[0].split()
            self.assertEqual((int(num), int(lsize)), (1, size))
            resp, uidl, _ = p.uidl()
            self.assertEqual(len(uidl), 1)
            uid1 = uidl[0].split()[1]
            resp, lines, octets = p.retr(1)
            got = b"".join(l + b"\r\n" for l in lines)
            # RFC 1939 11: the size is that of the message as sent, CRLF.
            self.assertEqual(size, len(got), "STAT size is not the size "
                             "of the message as retrieved")
            rp2, dt2, rec2, rest2 = split_delivered(
                got.replace(b"\r\n", b"\n"))
            self.assertEqual((rp2, dt2, rec2), (rp, dt, received))
            self.assertEqual(rest2.replace(b"\n", b"\r\n"), msg,
                             "RETR differs from the message sent")
            resp, top, _ = p.top(1, 0)
            hdr_end = lines.index(b"")
            self.assertEqual(top, lines[:hdr_end + 1],
                             "TOP 1 0 is not the header and a blank line")
        finally:
            p.quit()

        # Nothing was deleted; UIDL is stable across sessions.
        p = self.suite.pop3("bob")
        try:
            self.assertEqual(p.stat()[0], 1)
            self.assertEqual(p.uidl()[1][0].split()[1], uid1,
                             "UIDL changed between sessions")
            p.dele(1)
            # Deletion takes effect only at QUIT (RFC 1939 6).
            self.assertEqual(len(self.suite.mail_files("bob")) +
                             len(self.suite.mail_files("bob", "cur")), 1)
        finally:
            p.quit()
        self.assertEqual(self.suite.mail_files("bob") +
                         self.suite.mail_files("bob", "cur"), [],
                         "DELE + QUIT did not remove the file")
        p = self.suite.pop3("bob")
        try:
            self.assertEqual(p.stat(), (0, 0))
        finally:
            p.quit()

    def test_rset_keeps_message(self):
        msg, path = self.deliver_one("rset test")
        p = self.suite.pop3("bob")
        try:
            p.dele(1)
            p.rset()
        finally:
            p.quit()
        p = self.suite.pop3("bob")
        try:
            self.assertEqual(p.stat()[0], 1, "RSET did not undo DELE")
            p.dele(1)
        finally:
            p.quit()
        self.assertEqual(self.suite.mail_files("bob") +
                         self.suite.mail_files("bob", "cur"), [])

    def test_alias_list(self):
        msg = make_message("alias test", ["to the team"],
                           rcpt="team@example.test")
        code, text = self.suite.send(msg, rcpts=("team@example.test",))
        self.assertEqual(code, 250, text)
        for user in ("alice", "bob"):
            files = self.suite.wait_mail(user)
            self.assertEqual(len(files), 1, (user, files))
            with open(files[0], "rb") as f:
                data = f.read()
            rp, dt, received, rest = split_delivered(data)
            self.assertTrue(dt.startswith(b"Delivered-To: "), dt)
            self.assertEqual(rest, msg.replace(b"\r\n", b"\n"))
            os.unlink(files[0])

    def test_two_aliases_of_one_message(self):
        """Two recipients of one message that are lists expand side by
        side (queue_expand.c: in sync threads); each child envelope gets
        a number of its own, and a member of both lists gets one copy,
        whole (issue 14: duplicate final recipients are dropped)."""
        msg = make_message("two lists", ["to the team and the crew"])
        code, text = self.suite.send(msg, rcpts=("team@example.test",
                                                 "crew@example.test"))
        self.assertEqual(code, 250, text)
        msgid = queue_id(text)
        wait_for(lambda: msgid not in self.suite.spool_entries("queue"), 20,
                 what="%s to leave the queue" % msgid)
        time.sleep(0.5)
        for user in ("alice", "bob"):
            files = self.suite.mail_files(user)
            self.assertEqual(len(files), 1, (user, files))
            with open(files[0], "rb") as f:
                rest = split_delivered(f.read())[3]
            self.assertEqual(rest, msg.replace(b"\r\n", b"\n"))
            os.unlink(files[0])
        log = self.suite.log("queued")
        evpids = re.findall(r"(\S+) queue expanded parent=", log)
        self.assertEqual(len(evpids), len(set(evpids)), evpids)
        self.assertIn("queue duplicate-dropped", log)

    def test_duplicate_recipients_one_copy(self):
        """A user named several times in one message, directly, through
        an alias, in another case and with a +detail, gets one copy (as
        with sendmail and Postfix's local(8)); each duplicate is logged
        and leaves the queue."""
        msg = make_message("duplicates", ["alice and team and BOB"])
        code, text = self.suite.send(msg, rcpts=(
            "alice@example.test", "team@example.test", "BOB@Example.Test",
            "bob+x@example.test", "Alice@EXAMPLE.test"))
        self.assertEqual(code, 250, text)
        msgid = queue_id(text)
        wait_for(lambda: msgid not in self.suite.spool_entries("queue"), 20,
                 what="%s to leave the queue" % msgid)
        time.sleep(0.5)
        for user in ("alice", "bob"):
            files = self.suite.mail_files(user)
            self.assertEqual(len(files), 1, (user, files))
            with open(files[0], "rb") as f:
                self.assertEqual(split_delivered(f.read())[3],
                                 msg.replace(b"\r\n", b"\n"))
            os.unlink(files[0])
        dropped = re.findall(r"%s\.\d+ queue duplicate-dropped" % msgid,
                             self.suite.log("queued"))
        # Of 5 recipients and team's 2 targets, 2 copies are delivered.
        self.assertEqual(len(dropped), 4, dropped)

    def test_unknown_and_remote_rcpt_refused(self):
        s = self.suite.smtp()
        try:
            s.ehlo()
            self.assertEqual(s.mail("alice@example.test")[0], 250)
            code, text = s.rcpt("nobody@example.test")
            self.assertEqual(code // 100, 5, text)
            code, text = s.rcpt("someone@elsewhere.test")
            self.assertEqual(code // 100, 5, "relaying: %r" % text)
            self.assertEqual(s.rcpt("BOB+tag@Example.Test")[0], 250)
            self.assertEqual(s.rcpt("postmaster@example.test")[0], 250)
            self.assertEqual(s.rset()[0], 250)
        finally:
            s.quit()

    @unittest.skipUnless(shutil.which("swaks"), "swaks is not installed")
    def test_swaks(self):
        r = subprocess.run(
            ["swaks", "--server", "127.0.0.1:%d" % self.suite.smtp_port,
             "--helo", suite.HELO, "--from", "alice@example.test",
             "--to", "bob@example.test", "--header", "Subject: swaks test",
             "--body", "sent by swaks"],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"<-\s+250 .*[0-9a-f]{16}")
        files = self.suite.wait_mail("bob")
        self.assertEqual(len(files), 1)
        with open(files[0], "rb") as f:
            data = f.read()
        self.assertIn(b"Subject: swaks test", data)
        self.assertIn(b"sent by swaks", data)
        os.unlink(files[0])


if __name__ == "__main__":
    unittest.main()
