"""smtpd's SMTPUTF8 (RFC 6531) and DSN (RFC 3461) extensions (issue 3):
EHLO offers both; MAIL SMTPUTF8 lets UTF-8 through in the transaction's
paths, and 8-bit paths without it are refused 553 5.6.7; MAIL RET/ENVID
and RCPT NOTIFY/ORCPT are stored in each envelope in the spool (read
while bob's deliveries fail temporarily, listed by sallyctl show queue);
bad values are 501 5.5.4, unknown parameters 555; a permanent failure
bounces with the ENVID and ORCPT, and not at all under NOTIFY=NEVER."""

import os
import pwd
import time

import suite
from suite import SuiteTest, SMTPLine, make_message, queue_id, wait_for

HELO = suite.HELO.encode()
JORG = "j\u00f6rg@example.test".encode()       # jörg, UTF-8
# common/sp_limits.h
DSN_ENVID_MAX_BYTES = 100


def envelope_fields(path):
    """An envelope file as a dict of its key=value lines."""
    with open(path, "rb") as f:
        lines = f.read().decode("utf-8").splitlines()
    return dict(l.split("=", 1) for l in lines)


class TestSmtpDsn(SuiteTest):
    # Nothing is retried within the hour unless sallyctl says so.
    suite_args = {"retry": "1h", "max_retry": "4h", "expire": "4d"}

    def setUp(self):
        self.s = self.suite

    def session(self):
        c = SMTPLine(self.s.smtp_port)
        self.assertEqual(c.greeting[0], 220)
        code, text = c.cmd(b"EHLO " + HELO)
        self.assertEqual(code, 250, text)
        return c, text

    def expect(self, c, line, code, enh=None):
        got, text = c.cmd(line)
        self.assertEqual(got, code, "%r: %d %s" % (line, got, text))
        if enh is not None:
            self.assertTrue(text.startswith(enh + " "),
                            "%r: %d %s" % (line, got, text))
        return text

    def transaction(self, mail, rcpts, msg):
        """One message, every step expected to succeed; its msgid."""
        c, _ = self.session()
        try:
            self.expect(c, mail, 250)
            for r in rcpts:
                self.expect(c, r, 250)
            self.expect(c, b"DATA", 354)
            c.send(msg + b".\r\n")
            code, text = c.reply()
            self.assertEqual(code, 250, text)
            self.expect(c, b"QUIT", 221)
            return queue_id(text)
        finally:
            c.close()

    def queued_envelopes(self, msgid, count):
        """{rcpt: fields} of msgid's envelopes once each has failed."""
        d = os.path.join(self.s.spool, "queue", msgid)

        def look():
            try:
                names = [n for n in os.listdir(d) if n.startswith(msgid)]
            except FileNotFoundError:
                return None
            envs = [envelope_fields(os.path.join(d, n)) for n in names]
            if len(envs) < count or \
                    any(e["retries"] == "0" for e in envs):
                return None
            return {e["rcpt"]: e for e in envs}
        return wait_for(look, 20, what="%d failed envelopes of %s"
                        % (count, msgid))

    def show_queue(self, msgid):
        r = self.s.sallyctl("show", "queue")
        self.assertEqual(r.returncode, 0, r.stderr)
        return [l.split(None, 6) for l in r.stdout.splitlines()
                if l.startswith(msgid + ".")]

    # -- EHLO

    def test_ehlo_offers_dsn_and_smtputf8(self):
        c, text = self.session()
        try:
            keywords = [l.split()[0] for l in text.splitlines()[1:]]
            self.assertIn("DSN", keywords, text)
            self.assertIn("SMTPUTF8", keywords, text)
        finally:
            c.close()

    # -- what the spool keeps

    def test_spool_keeps_dsn_and_smtputf8(self):
        tmp = self.s.make_maildir("bob")
        atmp = self.s.make_maildir("alice")
        # bob and alice cannot write: temporary failures.  (bob+y would
        # be bob again, a duplicate the queue drops: issue 14.)
        os.chmod(tmp, 0o500)
        os.chmod(atmp, 0o500)
        try:
            dsn_id = self.transaction(
                b"MAIL FROM:<alice@example.test> RET=HDRS "
                b"ENVID=QQ+2B314159 SIZE=100",
                [b"RCPT TO:<bob@example.test> NOTIFY=SUCCESS,FAILURE "
                 b"ORCPT=rfc822;Bob+2Bx@Example.test",
                 b"RCPT TO:<alice+y@example.test> NOTIFY=NEVER"],
                make_message("dsn spool", ["dsn"]))
            utf8_id = self.transaction(
                b"MAIL FROM:<" + JORG + b"> SMTPUTF8",
                [b"RCPT TO:<bob@example.test>"],
                make_message("utf8 spool", ["utf8"],
                             sender="jorg@example.test"))
            envs = self.queued_envelopes(dsn_id, 2)
            e = envs["bob@example.test"]
            self.assertEqual((e["ret"], e["envid"], e["notify"],
                              e["orcpt"], e["smtputf8"]),
                             ("HDRS", "QQ+314159", "SUCCESS,FAILURE",
                              "rfc822;Bob+x@Example.test", "0"))
            e = envs["alice+y@example.test"]
            self.assertEqual((e["ret"], e["envid"], e["notify"],
                              e["orcpt"]),
                             ("HDRS", "QQ+314159", "NEVER", ""))
            e = self.queued_envelopes(utf8_id, 1)["bob@example.test"]
            self.assertEqual(e["smtputf8"], "1")
            self.assertEqual(e["sender"], JORG.decode())
            self.assertEqual((e["ret"], e["envid"], e["notify"],
                              e["orcpt"]), ("", "", "", ""))
            # The same envelopes, as sallyctl lists them.
            rows = self.show_queue(dsn_id)
            self.assertEqual(sorted(r[2] for r in rows),
                             ["alice+y@example.test", "bob@example.test"])
            self.assertTrue(all(int(r[4]) >= 1 for r in rows), rows)
        finally:
            os.chmod(tmp, 0o700)
            os.chmod(atmp, 0o700)
        # Once bob can write again, the UTF-8 sender is delivered as is.
        self.s.sallyctl("schedule", utf8_id)
        data = self.s.wait_marked("utf8 spool")
        rp, _, received, _ = suite.split_delivered(data)
        self.assertEqual(rp, b"Return-Path: <" + JORG + b">")
        self.assertIn(b"with UTF8SMTP id", received)
        self.s.sallyctl("remove", dsn_id)

    def test_alias_targets_keep_dsn(self):
        """An alias's targets are new envelopes: each keeps the NOTIFY
        and ORCPT of the recipient that named the alias."""
        tmp = self.s.make_maildir("bob")
        self.s.make_maildir("alice")
        os.chmod(tmp, 0o500)
        try:
            msgid = self.transaction(
                b"MAIL FROM:<alice@example.test> ENVID=team1",
                [b"RCPT TO:<team@example.test> NOTIFY=DELAY "
                 b"ORCPT=rfc822;Team@example.test"],
                make_message("dsn alias", ["team"]))
            self.s.wait_marked("dsn alias", user="alice")
            d = os.path.join(self.s.spool, "queue", msgid)

            def bobs():
                for n in os.listdir(d):
                    if n.startswith(msgid):
                        e = envelope_fields(os.path.join(d, n))
                        if e["mailbox"] == "bob" and e["retries"] != "0":
                            return e
                return None
            e = wait_for(bobs, 20, what="bob's envelope of %s" % msgid)
            self.assertEqual((e["notify"], e["orcpt"], e["envid"]),
                             ("DELAY", "rfc822;Team@example.test", "team1"))
        finally:
            os.chmod(tmp, 0o700)
        self.s.sallyctl("remove", msgid)

    # -- refusals

    def test_8bit_paths_need_smtputf8(self):
        c, _ = self.session()
        try:
            self.expect(c, b"MAIL FROM:<" + JORG + b">", 553, "5.6.7")
            self.expect(c, b"MAIL FROM:<alice@example.test>", 250)
            self.expect(c, b"RCPT TO:<" + JORG + b">", 553, "5.6.7")
            self.expect(c, b"RCPT TO:<bob@m\xc3\xbcnchen.test>", 553,
                        "5.6.7")
            self.expect(c, b"RSET", 250)
            # With SMTPUTF8 the path is parsed: well-formed UTF-8 only.
            self.expect(c, b"MAIL FROM:<j\xc3(rg@example.test> SMTPUTF8",
                        501, "5.1.7")
            self.expect(c, b"MAIL FROM:<alice@example.test> SMTPUTF8", 250)
            # A UTF-8 recipient is looked up: there is no such user.
            self.expect(c, b"RCPT TO:<" + JORG + b">", 550, "5.1.1")
            self.expect(c, b"RCPT TO:<bob@example.test>", 250)
            self.expect(c, b"QUIT", 221)
        finally:
            c.close()
        self.assertIn("protocol-error reason=utf8-without-smtputf8",
                      self.s.log("smtpd"))

    def test_bad_dsn_parameters(self):
        envid_long = b"E" * (DSN_ENVID_MAX_BYTES + 1)
        envid_max = b"E" * DSN_ENVID_MAX_BYTES
        mail_cases = [
            (b"RET=FULL RET=HDRS", 501), (b"RET=ALL", 501),
            (b"RET", 501), (b"ENVID=+4", 501), (b"ENVID=a+ZZ", 501),
            (b"ENVID=a+2b", 501), (b"ENVID=" + envid_long, 501),
            (b"ENVID=x ENVID=y", 501), (b"SMTPUTF8=yes", 501),
            (b"SMTPUTF8 SMTPUTF8", 501), (b"X-FOO=1", 555),
            (b"NOTIFY=NEVER", 555),
            (b"ENVID=" + envid_max + b" RET=FULL SMTPUTF8", 250),
        ]
        rcpt_cases = [
            (b"NOTIFY=NEVER,SUCCESS", 501), (b"NOTIFY=SUCCESS,SUCCESS", 501),
            (b"NOTIFY=NEVER NOTIFY=NEVER", 501), (b"NOTIFY=SOMETIMES", 501),
            (b"NOTIFY=", 501), (b"ORCPT=rfc822;a+4", 501),
            (b"ORCPT=rfc822;a+ZZ@b", 501), (b"ORCPT=a@b", 501),
            (b"ORCPT=rfc822;a@b ORCPT=rfc822;a@b", 501),
            (b"RET=FULL", 555), (b"ENVID=x", 555),
            (b"NOTIFY=DELAY,FAILURE ORCPT=rfc822;a+40b", 250),
        ]
        for params, code in mail_cases:
            c, _ = self.session()
            try:
                self.expect(c, b"MAIL FROM:<alice@example.test> " + params,
                            code, "5.5.4" if code != 250 else "2.1.0")
            finally:
                c.close()
        for params, code in rcpt_cases:
            c, _ = self.session()
            try:
                self.expect(c, b"MAIL FROM:<alice@example.test>", 250)
                self.expect(c, b"RCPT TO:<bob@example.test> " + params,
                            code, "5.5.4" if code != 250 else "2.1.5")
            finally:
                c.close()

    # -- bounces

    def test_bounce_honours_notify(self):
        # A message that says it was delivered to bob already is a loop:
        # a permanent failure (5.4.6), which bounces to the sender.
        self.s.make_maildir("bob")
        loop = (b"Delivered-To: bob@example.test\r\n"
                + make_message("dsn loop never", ["x"]))
        never = self.transaction(
            b"MAIL FROM:<alice@example.test>",
            [b"RCPT TO:<bob@example.test> NOTIFY=NEVER"], loop)
        loop = (b"Delivered-To: bob@example.test\r\n"
                + make_message("dsn loop failure", ["x"]))
        failure = self.transaction(
            b"MAIL FROM:<alice@example.test> ENVID=ENV+2B1 RET=HDRS",
            [b"RCPT TO:<bob@example.test> NOTIFY=FAILURE "
             b"ORCPT=rfc822;Bob@Example.test"], loop)
        loop = (b"Delivered-To: bob@example.test\r\n"
                + make_message("dsn loop full", ["full-body-marker"]))
        self.transaction(b"MAIL FROM:<alice@example.test> RET=FULL",
                         [b"RCPT TO:<bob@example.test>"], loop)
        bounce = self.s.wait_marked("dsn loop failure", user="alice")
        self.assertIn(b"Original-Envelope-Id: ENV+1\n", bounce)
        self.assertIn(b"Original-Recipient: rfc822; Bob@Example.test\n",
                      bounce)
        self.assertIn(b"Status: 5.4.6\n", bounce)
        # RET=HDRS: the headers only; RET=FULL: the whole message.
        self.assertIn(b"Content-Type: text/rfc822-headers\n", bounce)
        self.assertNotIn(b"message/rfc822", bounce)
        full = self.s.wait_marked("full-body-marker", user="alice")
        self.assertIn(b"Content-Type: message/rfc822\n", full)
        self.assertIn(b"Subject: dsn loop full\n", full)
        wait_for(lambda: "%s.1 queue bounce-dropped reason=notify" % never
                 in self.s.log("queued"), 20,
                 what="the NOTIFY=NEVER bounce to be dropped")
        for f in self.s.mail_files("alice"):
            with open(f, "rb") as fh:
                self.assertNotIn(b"dsn loop never", fh.read())
        self.assertNotIn(never, self.s.spool_entries("queue"))
        self.assertTrue(failure)

    # -- reports of success (issue 14)

    def reports(self, user, marker):
        """The files of user's new/ that hold marker."""
        out = []
        for f in self.s.mail_files(user):
            with open(f, "rb") as fh:
                data = fh.read()
            if marker in data:
                out.append(data)
        return out

    def dsn_lines(self, msgid, action):
        return [l for l in self.s.log("queued").splitlines()
                if " %s." % msgid in " " + l and
                "queue dsn action=%s " % action in l]

    def test_success_reported_once(self):
        """NOTIFY=SUCCESS gives one "delivered" report per recipient
        (RFC 3461 5.2.3), RFC 3464 fields, the headers only even under
        RET=FULL; a single-target alias is reported by its delivery."""
        self.s.make_maildir("bob")
        self.s.make_maildir("alice")
        msgid = self.transaction(
            b"MAIL FROM:<alice@example.test> RET=FULL ENVID=S+2B1",
            [b"RCPT TO:<bob@example.test> NOTIFY=SUCCESS,FAILURE "
             b"ORCPT=rfc822;Bob@Example.test",
             b"RCPT TO:<postmaster@example.test> NOTIFY=SUCCESS"],
            make_message("dsn success", ["success-body-marker"]))
        self.s.wait_marked("success-body-marker", user="bob")
        wait_for(lambda: len(self.dsn_lines(msgid, "delivered")) == 2, 20,
                 what="two delivered reports for %s" % msgid)
        wait_for(lambda: len(self.reports(
            "alice", b"Action: delivered\n")) == 2, 20,
            what="two reports in alice's mailbox")
        time.sleep(1)
        # (alice also has the bounces of other tests for bob.)
        for_bob = [r for r in self.reports(
            "alice", b"Final-Recipient: rfc822; bob@example.test")
            if b"Action: delivered\n" in r]
        self.assertEqual(len(for_bob), 1)
        r = for_bob[0]
        for want in (b"Subject: Successful Mail Delivery Report\n",
                     b"Content-Type: multipart/report; "
                     b"report-type=delivery-status;",
                     b"Original-Envelope-Id: S+1\n",
                     b"Original-Recipient: rfc822; Bob@Example.test\n",
                     b"Action: delivered\n", b"Status: 2.0.0\n",
                     b"Content-Type: text/rfc822-headers\n",
                     b"Subject: dsn success\n",
                     b"Return-Path: <>\n"):
            self.assertIn(want, r)
        self.assertNotIn(b"success-body-marker", r)
        self.assertNotIn(b"message/rfc822", r)
        pm = self.reports(
            "alice", b"Final-Recipient: rfc822; postmaster@example.test")
        self.assertEqual(len(pm), 1)
        self.assertEqual(len(self.dsn_lines(msgid, "delivered")), 2)
        self.assertNotIn(msgid, self.s.spool_entries("queue"))

    def test_expanded_reported_for_alias(self):
        """An alias with several targets and NOTIFY=SUCCESS: one
        "expanded" report for the alias (RFC 3461 5.2.7.3); its targets
        lose SUCCESS, so no "delivered" report follows."""
        self.s.make_maildir("bob")
        self.s.make_maildir("alice")
        msgid = self.transaction(
            b"MAIL FROM:<alice@example.test> ENVID=team2",
            [b"RCPT TO:<team@example.test> NOTIFY=SUCCESS"],
            make_message("dsn expanded", ["expanded-body-marker"]))
        self.s.wait_marked("expanded-body-marker", user="bob")
        self.s.wait_marked("expanded-body-marker", user="alice")
        wait_for(lambda: self.reports("alice", b"Action: expanded\n"), 20,
                 what="the expanded report")
        wait_for(lambda: msgid not in self.s.spool_entries("queue"), 20,
                 what="%s to leave the queue" % msgid)
        time.sleep(1)
        r = self.reports("alice", b"Action: expanded\n")
        self.assertEqual(len(r), 1)
        self.assertIn(b"Final-Recipient: rfc822; team@example.test\n",
                      r[0])
        self.assertIn(b"Original-Envelope-Id: team2\n", r[0])
        self.assertEqual(len(self.dsn_lines(msgid, "expanded")), 1)
        self.assertEqual(self.dsn_lines(msgid, "delivered"), [])
        self.assertEqual(self.reports("alice", b"Action: delivered\n"),
                         [])

    def test_no_success_report_for_null_sender(self):
        """A message from <> is never reported on (RFC 3461 6.2, RFC
        5321 6.1): the loop care of bounces."""
        self.s.make_maildir("bob")
        msgid = self.transaction(
            b"MAIL FROM:<>",
            [b"RCPT TO:<bob@example.test> NOTIFY=SUCCESS"],
            make_message("dsn null sender", ["null-sender-marker"]))
        self.s.wait_marked("null-sender-marker", user="bob")
        wait_for(lambda: msgid not in self.s.spool_entries("queue"), 20,
                 what="%s to leave the queue" % msgid)
        self.assertEqual(self.dsn_lines(msgid, "delivered"), [])

    # -- recovery

    def test_version1_envelope_recovered(self):
        """An envelope written before version 2 (no smtputf8, ret, envid,
        notify, orcpt) is loaded at start and delivered: an upgrade
        loses no mail."""
        s = self.s
        s.make_maildir("bob")
        s.stop_daemon("queued")
        msgid = "%016x" % (time.monotonic_ns() & (2 ** 64 - 1))
        now = int(time.time())
        d = os.path.join(s.spool, "queue", msgid)
        env = ("version=1\nevpid=%s.1\nmsgid=%s\nparent=\n"
               "sender=alice@example.test\nrcpt=bob@example.test\n"
               "orig-rcpt=bob@example.test\nmailbox=\nremote=0\n"
               "helo=%s\nclient=[127.0.0.1]:1\ncreated=%d\nretries=0\n"
               "next-try=%d\nlast-error=\n"
               % (msgid, msgid, suite.HELO, now, now))
        msg = make_message("version one envelope", ["v1"]).replace(
            b"\r\n", b"\n")
        pw = pwd.getpwnam(suite.DAEMON_USERS["queue"])
        os.mkdir(d, 0o700)
        for name, data in (("message", msg),
                           (msgid + ".1", env.encode())):
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
            os.chmod(os.path.join(d, name), 0o600)
            os.chown(os.path.join(d, name), pw.pw_uid, pw.pw_gid)
        os.chown(d, pw.pw_uid, pw.pw_gid)
        s.start_daemon("queued")
        s.wait_marked("version one envelope")
        self.assertNotIn(msgid, s.spool_entries("corrupt"))
        wait_for(lambda: msgid not in s.spool_entries("queue"), 10,
                 what="%s to leave the queue" % msgid)
