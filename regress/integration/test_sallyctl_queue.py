"""sallyctl's smtpctl and postsuper verbs (issue 12) against a running
suite: hold and release (across a restart of queued), pause and resume
of delivery and of smtp, expire, requeue, show envelope, show message,
show queue's filters, -j parsed by json, monitor -n, encrypt, and user
add|passwd|del with a POP3 login.

The suite retries only after an hour, so what is delivered soon after a
verb was delivered because of it."""

import ctypes
import ctypes.util
import json
import os
import poplib
import pty
import re
import select
import socket
import subprocess
import time

import suite
from suite import SuiteTest, make_message, queue_id, wait_for

QUIET_SECS = 2          # long enough for a delivery that should not come


def libcrypt_hash(password, setting):
    """crypt(3) of libxcrypt, as authd calls it."""
    lib = ctypes.CDLL(ctypes.util.find_library("crypt"))
    lib.crypt.restype = ctypes.c_char_p
    lib.crypt.argtypes = (ctypes.c_char_p, ctypes.c_char_p)
    return lib.crypt(password.encode(), setting.encode()).decode()


class TestSallyctlQueue(SuiteTest):
    suite_args = {"retry": "1h", "max_retry": "4h", "expire": "4d",
                  "extra_config": ["relay from 127.0.0.1/32"]}

    # -- helpers

    def ctl(self, *args, input=None):
        s = self.suite
        r = subprocess.run([s.binary("sallyctl"), "-f", s.conf]
                           + list(args), capture_output=True, text=True,
                           timeout=30, input=input)
        self.assertEqual(r.returncode, 0, "sallyctl %s: status %d\n%s%s"
                         % (" ".join(args), r.returncode, r.stdout,
                            r.stderr))
        return r.stdout

    def ctl_fails(self, *args, input=None):
        s = self.suite
        r = subprocess.run([s.binary("sallyctl"), "-f", s.conf]
                           + list(args), capture_output=True, text=True,
                           timeout=30, input=input)
        self.assertNotEqual(r.returncode, 0, "sallyctl %s succeeded:\n%s"
                            % (" ".join(args), r.stdout))
        self.assertTrue(r.stderr.strip(), "no message for %r" % (args,))
        return r.stderr

    def queue_json(self, *filters):
        out = self.ctl("show", "queue", "-j", *filters)
        return [json.loads(l) for l in out.splitlines()]

    def send(self, marker, rcpts=("bob@example.test",)):
        code, text = self.suite.send(make_message(marker, [marker]),
                                     rcpts=rcpts)
        self.assertEqual(code, 250, text)
        return queue_id(text)

    def has_mail(self, marker, user="bob"):
        for f in self.suite.mail_files(user):
            with open(f, "rb") as fh:
                if marker.encode() in fh.read():
                    return True
        return False

    def envelope(self, msgid):
        lines = self.ctl("show", "envelope", msgid, "-j").splitlines()
        self.assertEqual(len(lines), 1, lines)
        return json.loads(lines[0])

    def wait_state(self, msgid, state):
        return wait_for(lambda: [e for e in self.queue_json()
                                 if e["msgid"] == msgid
                                 and e["state"] == state],
                        15, what="%s %s in show queue" % (msgid, state))

    # -- hold, release, pause delivery

    def test_hold_survives_restart(self):
        s = self.suite
        s.make_maildir("bob")
        self.ctl("pause", "delivery")
        try:
            msgid = self.send("held-over-restart")
            out = self.ctl("hold", msgid)
            self.assertIn("1 envelope held", out)
            self.wait_state(msgid, "held")
            held = [e for e in self.queue_json("held")
                    if e["msgid"] == msgid]
            self.assertEqual(len(held), 1)
            self.assertGreater(held[0]["next_try"], 0)
            # In the file: held=1, version 4.
            d = os.path.join(s.spool, "queue", msgid)
            evp = [f for f in os.listdir(d) if f != "message"][0]
            with open(os.path.join(d, evp)) as f:
                text = f.read()
            self.assertTrue(text.startswith("version=4\n"), text)
            self.assertIn("\nheld=1\n", text)
            # A restart of queued forgets the pause, not the hold.
            s.stop_daemon("queued")
            s.start_daemon("queued")
            self.wait_state(msgid, "held")
            time.sleep(QUIET_SECS)
            self.assertFalse(self.has_mail("held-over-restart"),
                             "a held message was delivered")
            self.assertEqual(self.envelope(msgid)["held"], "1")
            out = self.ctl("release", msgid)
            self.assertIn("1 envelope released", out)
            s.wait_marked("held-over-restart")
        finally:
            self.ctl("resume", "delivery")

    def test_pause_delivery_loses_nothing(self):
        s = self.suite
        s.make_maildir("bob")
        n = 5
        out = self.ctl("pause", "delivery")
        self.assertIn("delivery paused", out)
        try:
            ids = [self.send("paused-%d" % i) for i in range(n)]
            time.sleep(QUIET_SECS)
            for i in range(n):
                self.assertFalse(self.has_mail("paused-%d" % i),
                                 "delivered while paused")
            listed = set(e["msgid"] for e in self.queue_json())
            self.assertTrue(set(ids) <= listed, (ids, listed))
            stats = dict((j["name"], j["value"]) for j in
                         map(json.loads, self.ctl(
                             "show", "stats", "-j").splitlines()))
            self.assertGreaterEqual(stats["queue.envelopes"], n)
            self.assertEqual(stats["paused.delivery"], 1)
            self.assertEqual(stats["paused.smtp"], 0)
        finally:
            out = self.ctl("resume", "delivery")
        self.assertIn("delivery resumed", out)
        for i in range(n):
            s.wait_marked("paused-%d" % i)
        wait_for(lambda: not set(ids) & set(e["msgid"] for e in
                                            self.queue_json()),
                 15, what="the queue to empty")
        for i in range(n):
            self.assertEqual(len([f for f in s.mail_files("bob")
                                  if open(f, "rb").read().count(
                                      b"paused-%d\n" % i)]), 1)

    def test_hold_all_past_the_window(self):
        """hold all and release all of more envelopes than the manager
        writes at a time (QUEUE_CTL_WRITES_MAX, 384): every one is
        held, every one comes back and is delivered once."""
        s = self.suite
        s.make_maildir("bob")
        n = 400
        self.ctl("pause", "delivery")
        try:
            c = s.smtp()
            c.ehlo()
            for i in range(n):
                c.sendmail("alice@example.test", ["bob@example.test"],
                           make_message("window-%d" % i, ["w"]))
            c.quit()
            queued = len(self.queue_json())
            self.assertGreaterEqual(queued, n)
            out = self.ctl("hold", "all")
            self.assertIn("%d envelopes held (%d held, 0 busy, 0 failed)"
                          % (queued, queued), out)
            self.assertEqual(len(self.queue_json("held")), queued)
            out = self.ctl("release", "all")
            self.assertIn("%d envelopes released" % queued, out)
            self.assertEqual(self.queue_json("held"), [])
        finally:
            self.ctl("resume", "delivery")
        wait_for(lambda: not self.queue_json(), 120,
                 what="the queue to empty")
        found = [f for f in s.mail_files("bob")
                 if b"window-" in open(f, "rb").read()]
        self.assertEqual(len(found), n)

    def test_pause_envelope(self):
        s = self.suite
        s.make_maildir("bob")
        self.ctl("pause", "delivery")
        try:
            msgid = self.send("paused-envelope")
            self.assertIn("1 envelope paused",
                          self.ctl("pause", "envelope", msgid))
            self.wait_state(msgid, "paused")
        finally:
            self.ctl("resume", "delivery")
        time.sleep(QUIET_SECS)
        self.assertFalse(self.has_mail("paused-envelope"))
        self.assertIn("1 envelope resumed",
                      self.ctl("resume", "envelope", msgid))
        s.wait_marked("paused-envelope")

    def stats(self):
        return dict((j["name"], j["value"]) for j in map(
            json.loads, self.ctl("show", "stats", "-j").splitlines()))

    def test_pause_relay(self):
        """A remote recipient waits while the relay is paused (its
        batches do not move), and goes to the relay on resume."""
        if not wait_for(lambda: self.stats()["relay.up"] == 1, 10,
                        what="the relay"):
            self.skipTest("relay not running")
        self.ctl("pause", "relay")
        try:
            before = self.stats()["relay.batches"]
            msgid = self.send("pause-relay",
                              rcpts=("someone@remote.example",))
            wait_for(lambda: self.envelope(msgid)["remote"] == "1", 15,
                     what="%s expanded as remote" % msgid)
            time.sleep(QUIET_SECS)
            self.assertEqual(self.stats()["relay.batches"], before)
            self.assertEqual(self.envelope(msgid)["state"], "waiting")
            self.assertEqual(self.stats()["paused.relay"], 1)
        finally:
            self.assertIn("relay resumed", self.ctl("resume", "relay"))
        wait_for(lambda: self.stats()["relay.batches"] > before, 15,
                 what="a batch for the relay after resume")
        # Deferred by the relay (no resolver): removed once it is back.
        wait_for(lambda: self.suite.sallyctl("remove", msgid)
                 .returncode == 0, 30,
                 what="%s removed once back from the relay" % msgid)

    # -- expire, requeue

    def test_expire_bounces(self):
        s = self.suite
        s.make_maildir("bob")
        self.ctl("pause", "delivery")
        try:
            msgid = self.send("expire-me")
            out = self.ctl("expire", msgid)
            self.assertIn("1 envelope expired", out)
        finally:
            self.ctl("resume", "delivery")
        bounce = s.wait_marked("expired by the administrator", "alice")
        self.assertIn(b"Action: failed", bounce)
        self.assertIn(b"Status: 4.4.7", bounce)
        self.assertIn(b"expire-me", bounce)
        time.sleep(QUIET_SECS)
        self.assertFalse(self.has_mail("expire-me"))
        self.assertNotIn(msgid, [e["msgid"] for e in self.queue_json()])
        self.ctl_fails("expire", msgid)        # gone: no such message

    def test_requeue(self):
        s = self.suite
        tmp = s.make_maildir("bob")
        os.chmod(tmp, 0o500)       # bob cannot write: temporary failure
        try:
            msgid = self.send("requeue-me")
            wait_for(lambda: [e for e in self.queue_json()
                              if e["msgid"] == msgid and e["retries"] >= 1
                              and e["state"] == "waiting"],
                     20, what="a retry of %s" % msgid)
            # Held, requeue resets the retries and stays held.
            self.ctl("hold", msgid)
            self.assertIn("1 envelope requeued", self.ctl("requeue", msgid))
            e = self.envelope(msgid)
            self.assertEqual(e["retries"], "0")
            self.assertEqual(e["state"], "held")
            self.assertLessEqual(int(e["next-try"]), int(time.time()))
        finally:
            os.chmod(tmp, 0o700)
        time.sleep(QUIET_SECS)
        self.assertFalse(self.has_mail("requeue-me"))
        self.ctl("release", msgid)             # due now: goes at once
        s.wait_marked("requeue-me")

    # -- pause smtp

    def smtp_line(self):
        return suite.SMTPLine(self.suite.smtp_port)

    def test_pause_smtp(self):
        s = self.suite
        s.make_maildir("bob")
        # A session in DATA when the pause comes finishes its message.
        c = self.smtp_line()
        self.assertEqual(c.greeting[0], 220)
        c.ehlo()
        self.assertEqual(c.cmd(b"MAIL FROM:<alice@example.test>")[0], 250)
        self.assertEqual(c.cmd(b"RCPT TO:<bob@example.test>")[0], 250)
        self.assertEqual(c.cmd(b"DATA")[0], 354)
        c.send(b"Subject: in-data-at-pause\r\n\r\nin-data-at-pause\r\n")
        idle = self.smtp_line()
        self.assertEqual(idle.greeting[0], 220)
        idle.ehlo()
        try:
            self.assertIn("smtp paused", self.ctl("pause", "smtp"))
            time.sleep(0.5)    # smtpd hears it from queued
            c.send(b".\r\n")
            self.assertEqual(c.reply()[0], 250)
            c.close()
            # A session between transactions: 421 to MAIL, closed.
            code, text = idle.cmd(b"MAIL FROM:<alice@example.test>")
            self.assertEqual(code, 421, text)
            self.assertTrue(text.startswith("4.3.2 "), text)
            self.assertTrue(idle.closed())
            # A new session: 421 at once.
            n = self.smtp_line()
            self.assertEqual(n.greeting[0], 421, n.greeting)
            self.assertTrue(n.greeting[1].startswith("4.3.2 "), n.greeting)
            self.assertTrue(n.closed())
        finally:
            self.assertIn("smtp resumed", self.ctl("resume", "smtp"))
        s.wait_marked("in-data-at-pause")
        time.sleep(0.5)
        self.send("after-resume-smtp")
        s.wait_marked("after-resume-smtp")

    # -- show, -j, monitor

    def test_show_envelope_message_filters(self):
        s = self.suite
        s.make_maildir("bob")
        self.ctl("pause", "delivery")
        try:
            msgid = self.send("show-me", rcpts=("bob@example.test",
                                                "alice@example.test"))
            envs = [json.loads(l) for l in self.ctl(
                "-j", "show", "envelope", msgid).splitlines()]
            self.assertEqual(len(envs), 2, envs)
            for e in envs:
                self.assertTrue(e["evpid"].startswith(msgid + "."))
                for key in ("state", "version", "msgid", "sender", "rcpt",
                            "created", "retries", "next-try",
                            "last-error", "held"):
                    self.assertIn(key, e)
                self.assertEqual(e["sender"], "alice@example.test")
            self.assertEqual(sorted(e["rcpt"] for e in envs),
                             ["alice@example.test", "bob@example.test"])
            text = self.ctl("show", "envelope", envs[0]["evpid"])
            self.assertRegex(text, r"(?m)^rcpt:\s+\S+@example.test$")
            msg = self.ctl("show", "message", msgid)
            self.assertIn("Subject: show-me", msg)
            self.assertIn("Received:", msg)
            # Filters.
            mine = lambda *f: [e["rcpt"] for e in self.queue_json(*f)
                               if e["msgid"] == msgid]
            self.assertEqual(sorted(mine()), ["alice@example.test",
                                              "bob@example.test"])
            self.assertEqual(mine("to", "BOB@example.test"),
                             ["bob@example.test"])
            self.assertEqual(len(mine("from", "alice@example.test")), 2)
            self.assertEqual(mine("from", "carol@example.test"), [])
            self.assertEqual(len(mine("domain", "example.test")), 2)
            self.assertEqual(mine("domain", "example.org"), [])
            self.assertEqual(mine("older-than", "1h"), [])
            time.sleep(2.1)     # ages are whole seconds
            self.assertEqual(len(mine("older-than", "1s")), 2)
            self.assertEqual(mine("held"), [])
            # The text form filters too.
            out = self.ctl("show", "queue", "to", "alice@example.test")
            self.assertEqual(len([l for l in out.splitlines()
                                  if l.startswith(msgid)]), 1)
            for bad in (("show", "queue", "older-than", "5x"),
                        ("show", "queue", "to"),
                        ("show", "queue", "colour", "red"),
                        ("show", "envelope", "all"),
                        ("show", "message", "nothex"),
                        ("-j", "stop")):
                self.ctl_fails(*bad)
            self.ctl_fails("show", "envelope", "0123456789abcdef.1")
        finally:
            self.ctl("resume", "delivery")
        s.wait_marked("show-me", "alice")
        s.wait_marked("show-me", "bob")

    def test_json_everywhere(self):
        for cmd in (("show", "status"), ("show", "stats"),
                    ("show", "queue")):
            out = self.ctl("-j", *cmd)
            objs = [json.loads(l) for l in out.splitlines()]
            for o in objs:
                self.assertIsInstance(o, dict)
            if cmd[1] == "status":
                names = [o["name"] for o in objs]
                for d in suite.DAEMONS:
                    self.assertIn(d, names)
                self.assertTrue(all(o["state"] == "up" for o in objs),
                                objs)
            if cmd[1] == "stats":
                self.assertTrue(objs)
                self.assertTrue(all(isinstance(o["value"], int)
                                    for o in objs))
        # show hosts: the relay runs (with "resolver none" it has no
        # destination yet), or says it does not.
        s = self.suite
        r = subprocess.run([s.binary("sallyctl"), "-f", s.conf, "-j",
                            "show", "hosts"], capture_output=True,
                           text=True, timeout=30)
        if self.stats()["relay.up"] == 1:
            self.assertEqual(r.returncode, 0, r.stderr)
            for l in r.stdout.splitlines():
                self.assertIn("destination", json.loads(l))
        else:
            self.assertIn("relay not running", r.stderr)

    def test_json_escaping(self):
        """A sender with quotes and a backslash (a quoted local part,
        RFC 5321 4.1.2) comes out as JSON that parses to it."""
        s = self.suite
        s.make_maildir("bob")
        sender = '"odd\\\\ \\"one\\""@example.test'
        self.ctl("pause", "delivery")
        try:
            c = s.smtp()
            try:
                c.ehlo()
                code, text = c.mail(sender)
                if code != 250:
                    self.skipTest("smtpd refuses the quoted sender: %d %s"
                                  % (code, text))
                self.assertEqual(c.rcpt("bob@example.test")[0], 250)
                code, text = c.data(make_message("json-escape", ["x"]))
                self.assertEqual(code, 250, text)
                msgid = queue_id(text.decode())
            finally:
                c.close()
            envs = [e for e in self.queue_json() if e["msgid"] == msgid]
            self.assertEqual(len(envs), 1)
            self.assertIn('"', envs[0]["sender"])
            self.assertIn("\\", envs[0]["sender"])
            self.assertEqual(self.envelope(msgid)["sender"],
                             envs[0]["sender"])
        finally:
            self.ctl("resume", "delivery")
        s.wait_marked("json-escape")

    def test_monitor(self):
        self.send("monitor-counts")
        # smtpd tells queued its sessions once a second.
        wait_for(lambda: self.stats()["smtp.sessions"] >= 1, 5,
                 what="smtp.sessions in show stats")
        t0 = time.monotonic()
        out = self.ctl("monitor", "-n", "2")
        self.assertGreaterEqual(time.monotonic() - t0, 0.9)
        lines = out.splitlines()
        self.assertEqual(len(lines), 3, out)
        header = lines[0].split()
        for col in ("sessions", "in", "delivered", "deferred", "bounced",
                    "queue"):
            self.assertIn(col, header)
        for row in lines[1:]:
            vals = row.split()
            self.assertEqual(len(vals), len(header), row)
            self.assertTrue(all(v.isdigit() for v in vals), row)
        # The first row counts since queued started: this message.
        for col in ("in", "sessions"):
            self.assertGreaterEqual(
                int(lines[1].split()[header.index(col)]), 1, out)
        self.ctl_fails("monitor", "-n", "0")
        self.ctl_fails("monitor", "-n")

    # -- encrypt, users

    def pop3_ok(self, user, password):
        try:
            p = self.suite.pop3(user, password)
        except poplib.error_proto:
            return False
        p.quit()
        return True

    def test_encrypt_accepted_by_authd(self):
        s = self.suite
        h = self.ctl("encrypt", input="fresh-secret\n").strip()
        self.assertTrue(h.startswith("$"), h)
        self.assertNotIn("fresh-secret", h)
        # Two runs salt differently.
        self.assertNotEqual(h, self.ctl("encrypt",
                                        input="fresh-secret\n").strip())
        self.ctl_fails("encrypt", input="")
        users = s.path("etc", "users")
        with open(users) as f:
            text = f.read()
        new = re.sub(r"(?m)^(alice):[^:]*:", lambda m: "alice:%s:" % h,
                     text)
        with open(users, "w") as f:
            f.write(new)
        try:
            self.ctl("reload")
            wait_for(lambda: self.pop3_ok("alice", "fresh-secret"), 15,
                     what="alice's login with the encrypted password")
            self.assertFalse(self.pop3_ok("alice", suite.PASSWORD))
        finally:
            with open(users, "w") as f:
                f.write(text)
            self.ctl("reload")
            wait_for(lambda: self.pop3_ok("alice", suite.PASSWORD), 15,
                     what="alice's old password back")

    def encrypt_on_tty(self, first, second):
        """sallyctl encrypt on a pseudo-terminal, typed first and
        second: (exit status, all it wrote to the terminal)."""
        s = self.suite
        pid, fd = pty.fork()
        if pid == 0:
            os.execv(s.binary("sallyctl"), ["sallyctl", "encrypt"])
        out = b""

        def until(marker):
            nonlocal out
            end = time.monotonic() + 10
            while marker not in out and time.monotonic() < end:
                r, _, _ = select.select([fd], [], [], 0.5)
                if r:
                    try:
                        out += os.read(fd, 4096)
                    except OSError:
                        break
        until(b"Password: ")
        os.write(fd, first.encode() + b"\n")
        until(b"Again: ")
        os.write(fd, second.encode() + b"\n")
        until(b"\0")        # to the end (EIO once it exits), or 10 s
        _, status = os.waitpid(pid, 0)
        os.close(fd)
        return os.waitstatus_to_exitcode(status), out.decode("latin-1")

    def test_encrypt_on_a_terminal(self):
        code, out = self.encrypt_on_tty("tty-secret", "tty-secret")
        self.assertEqual(code, 0, out)
        self.assertNotIn("tty-secret", out, "the password was echoed")
        h = re.search(r"(\$[^\s]+)", out).group(1)
        self.assertIn("Password: ", out)
        self.assertIn("Again: ", out)
        code, out = self.encrypt_on_tty("one", "two")
        self.assertNotEqual(code, 0, out)
        self.assertIn("the passwords differ", out)
        self.assertNotIn("one", out.replace("done", ""))
        # crypt(3), which authd checks with, gives the hash back.
        self.assertEqual(libcrypt_hash("tty-secret", h), h)
        self.assertNotEqual(libcrypt_hash("tty-secreT", h), h)

    def test_user_add_passwd_del(self):
        s = self.suite
        users = s.path("etc", "users")
        st0 = os.stat(users)
        uid, gid = suite.user_ids(suite.MAIL_USERS["bob"])
        home = s.path("mail", "carol")
        os.makedirs(home, exist_ok=True)
        os.chown(home, uid, gid)
        out = self.ctl("user", "add", "carol", "uid", str(uid), "gid",
                       str(gid), "home", home, input="carol-pw\n")
        self.assertIn("carol: added", out)
        st = os.stat(users)
        self.assertEqual((st.st_mode, st.st_uid, st.st_gid),
                         (st0.st_mode, st0.st_uid, st0.st_gid))
        with open(users) as f:
            lines = f.read().splitlines()
        self.assertEqual(lines[0], "# name:crypt-hash:uid:gid:home")
        carol = [l for l in lines if l.startswith("carol:")]
        self.assertEqual(len(carol), 1)
        self.assertTrue(carol[0].endswith(":%d:%d:%s" % (uid, gid, home)))
        wait_for(lambda: self.pop3_ok("carol", "carol-pw"), 15,
                 what="carol's POP3 login")
        # Refused: a duplicate (in any case), bad names.
        err = self.ctl_fails("user", "add", "CAROL", input="x\n")
        self.assertIn("already", err)
        for bad in ("-carol", "car:ol", "car/ol", "a..b", "x" * 65, ""):
            self.ctl_fails("user", "add", bad, input="x\n")
        self.ctl_fails("user", "add", "dave", "uid", "0", input="x\n")
        self.ctl_fails("user", "passwd", "nobody-here", input="x\n")
        # Defaults from the last line: uid, gid, a home beside its own.
        self.ctl("user", "add", "dave", input="dave-pw\n")
        with open(users) as f:
            dave = [l for l in f.read().splitlines()
                    if l.startswith("dave:")]
        self.assertTrue(dave[0].endswith(":%d:%d:%s" % (
            uid, gid, s.path("mail", "dave"))), dave)
        self.ctl("user", "del", "dave")
        # passwd, then del.
        self.ctl("user", "passwd", "carol", input="carol-new\n")
        wait_for(lambda: self.pop3_ok("carol", "carol-new"), 15,
                 what="carol's new password")
        self.assertFalse(self.pop3_ok("carol", "carol-pw"))
        self.assertIn("carol: removed", self.ctl("user", "del", "carol"))
        wait_for(lambda: not self.pop3_ok("carol", "carol-new"), 15,
                 what="carol's login refused")
        self.ctl_fails("user", "del", "carol")
        with open(users) as f:
            self.assertNotIn("carol:", f.read())
        self.assertEqual([f for f in os.listdir(s.path("etc"))
                          if f.startswith("users.")], ["users.lock"])
        self.assertTrue(self.pop3_ok("bob", suite.PASSWORD))


if __name__ == "__main__":
    import unittest
    unittest.main()
