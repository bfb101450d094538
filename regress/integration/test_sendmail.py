"""sendmail(8), mailq and newaliases (sallyctl/sendmail.c) against a
running suite, with the callers that use it on a Debian host: mail(1)
from bsd-mailx, git send-email, a shell script with sendmail -t, an SMTP
session with -bs, and a cron-style job of an ordinary user (a user this
test creates with useradd, run with setpriv).

The front end is not setuid: smtpd learns the caller's uid from the
kernel on submit.sock, so an ordinary user cannot forge another's
envelope sender, and the queue (mailq, -q, newaliases) is root's."""

import os
import pwd
import re
import stat
import subprocess
import tempfile
import time

import suite
from suite import SuiteTest, split_delivered, wait_for

# The ordinary user of the tests (created here), and a trusted one.
CRON_USER = "sp_cronjob"
TRUSTED = "sp_bob"
SENDMAIL = os.path.join(suite.REPO, "sallyctl", "sendmail")
EX_USAGE, EX_NOPERM, EX_TEMPFAIL = 64, 77, 75


def ensure_cron_user():
    try:
        return pwd.getpwnam(CRON_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home",
                        "--home-dir", "/nonexistent", "--shell",
                        "/usr/sbin/nologin", "--comment", "Cron Job",
                        CRON_USER], check=True)
        return pwd.getpwnam(CRON_USER)


class TestSendmail(SuiteTest):
    suite_args = {"retry": "1h", "max_retry": "4h", "expire": "4d",
                  "extra_config": ['submit trusted "%s"' % TRUSTED]}

    @classmethod
    def setUpClass(cls):
        cls.cron = ensure_cron_user()
        super().setUpClass()
        s = cls.suite
        # What mail(1) and git run: a "sendmail" that names the suite's
        # configuration (argv[0] stays "sendmail").
        cls.wrapper = s.path("etc", "sendmail")
        with open(cls.wrapper, "w") as f:
            f.write('#!/bin/sh\nexec %s -C %s "$@"\n' % (SENDMAIL, s.conf))
        os.chmod(cls.wrapper, 0o755)
        cls.mailrc = s.path("etc", "mailrc")
        with open(cls.mailrc, "w") as f:
            f.write("set sendmail=%s\n" % cls.wrapper)
        os.chmod(cls.mailrc, 0o644)

    def sendmail(self, args, data=b"", user=None, env=None, argv0=SENDMAIL):
        cmd = [argv0, "-C", self.suite.conf] + list(args)
        if user is not None:
            cmd = ["setpriv", "--reuid=%s" % user, "--regid=%s" % user,
                   "--clear-groups", "--"] + cmd
        return subprocess.run(cmd, input=data, capture_output=True,
                              timeout=60, env=env)

    def delivered(self, marker, user="bob"):
        """(return_path, received, rest) of the message holding marker."""
        rp, _, received, rest = split_delivered(
            self.suite.wait_marked(marker, user))
        return rp.decode(), received.decode(), rest.decode()

    def header(self, rest, name):
        m = re.search(r"^%s: (.*)$" % name, rest.split("\n\n")[0],
                      re.M | re.I)
        return m.group(1) if m else None

    def test_root_pipe(self):
        """A message on stdin, recipients as arguments, bare names in
        the first domain: delivered with the header smtpd adds."""
        marker = "root-pipe-%d" % time.monotonic_ns()
        r = self.sendmail(["bob"], ("Subject: %s\n\nhello\n"
                                    % marker).encode())
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, b"")
        rp, received, rest = self.delivered(marker)
        self.assertEqual(rp, "Return-Path: <root@example.test>")
        self.assertRegex(received, r"^Received: from local \(uid 0\)\n"
                         r"\tby mail\.example\.test with ESMTP id "
                         r"[0-9a-f]{16}\n\tfor <bob@example\.test>;")
        self.assertEqual(self.header(rest, "From"),
                         '"root" <root@example.test>')
        self.assertRegex(self.header(rest, "Date"),
                         r"^\w{3}, \d+ \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}$")
        self.assertRegex(self.header(rest, "Message-ID"),
                         r"^<[0-9a-f]{16}\.[0-9a-f]{8}@mail\.example\.test>$")

    def test_script_t(self):
        """sendmail -t from a shell script: To, Cc and Bcc are the
        recipients, with the arguments; Bcc reaches its recipient but
        nobody sees it; dots stay with -oi."""
        marker = "script-t-%d" % time.monotonic_ns()
        script = os.path.join(self.suite.path("etc"), "report.sh")
        with open(script, "w") as f:
            f.write("#!/bin/sh\n%s -C %s -t -oi postmaster <<EOF\n"
                    "To: \"Smith, Bob\" <bob@example.test>\n"
                    "Cc: undisclosed-recipients:;\n"
                    "Bcc: alice\n"
                    "Subject: %s\n\n"
                    "line one\n.\nafter the dot\nEOF\n"
                    % (SENDMAIL, self.suite.conf, marker))
        os.chmod(script, 0o755)
        r = subprocess.run([script], capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        for user in ("alice", "bob"):
            _, _, rest = self.delivered(marker, user)
            self.assertIsNone(self.header(rest, "Bcc"), rest)
            self.assertIn("\n.\nafter the dot\n", rest)
        log = self.suite.log("smtpd")
        for rcpt in ("postmaster", "bob", "alice"):
            self.assertIn("rcpt to=<%s@example.test>" % rcpt, log)

    def test_mailx(self):
        """mail(1) from bsd-mailx, run by an ordinary user, with the
        sendmail variable pointing at the front end."""
        marker = "mailx-%d" % time.monotonic_ns()
        env = {"PATH": "/usr/bin:/bin", "MAILRC": self.mailrc,
               "HOME": "/nonexistent"}
        r = subprocess.run(
            ["setpriv", "--reuid=%s" % CRON_USER, "--regid=%s" % CRON_USER,
             "--clear-groups", "--", "mail", "-s", marker,
             "alice@example.test"], input=b"sent with mail(1)\n",
            capture_output=True, timeout=60, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        rp, received, rest = self.delivered(marker, "alice")
        self.assertEqual(rp, "Return-Path: <%s@example.test>" % CRON_USER)
        self.assertIn("from local (uid %d)" % self.cron.pw_uid, received)
        self.assertEqual(self.header(rest, "From"),
                         '"Cron Job" <%s@example.test>' % CRON_USER)
        self.assertIn("sent with mail(1)", rest)

    def test_git_send_email(self):
        """git send-email with the front end as its sendmail."""
        marker = "git-%d" % time.monotonic_ns()
        with tempfile.TemporaryDirectory() as repo:
            env = dict(os.environ, GIT_AUTHOR_NAME="Dev",
                       GIT_AUTHOR_EMAIL="dev@example.test",
                       GIT_COMMITTER_NAME="Dev",
                       GIT_COMMITTER_EMAIL="dev@example.test",
                       HOME=repo)
            git = ["git", "-C", repo]
            subprocess.run(["git", "init", "-q", repo], check=True, env=env)
            with open(os.path.join(repo, "f"), "w") as f:
                f.write("x\n")
            subprocess.run(git + ["add", "f"], check=True, env=env)
            subprocess.run(git + ["commit", "-q", "-m", marker], check=True,
                           env=env)
            r = subprocess.run(
                git + ["send-email", "--to=bob@example.test", "--confirm=never",
                       "--smtp-server=%s" % self.wrapper, "--quiet",
                       "--envelope-sender=auto",
                       "--suppress-cc=all", "-1"],
                capture_output=True, timeout=60, env=env)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        rp, _, rest = self.delivered(marker)
        # Root may set the sender: git gives its author's.
        self.assertEqual(rp, "Return-Path: <dev@example.test>")
        self.assertIn("[PATCH] %s" % marker, rest)

    def test_bs_session(self):
        """An SMTP session on stdin and stdout; an ordinary user's MAIL
        FROM is replaced by its own address."""
        marker = "bs-%d" % time.monotonic_ns()
        data = ("EHLO client.example.test\r\nMAIL FROM:<alice@example.test>"
                "\r\nRCPT TO:<bob@example.test>\r\nDATA\r\nSubject: %s\r\n"
                "\r\nbody\r\n.\r\nQUIT\r\n" % marker).encode()
        r = self.sendmail(["-bs"], data, user=CRON_USER)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout.decode()
        self.assertTrue(out.startswith("220 mail.example.test"), out)
        self.assertRegex(out, r"250 2\.0\.0 Ok: queued as [0-9a-f]{16}\r\n"
                         r"221 ")
        self.assertNotIn("AUTH", out)
        self.assertNotIn("STARTTLS", out)
        rp, _, rest = self.delivered(marker)
        self.assertEqual(rp, "Return-Path: <%s@example.test>" % CRON_USER)
        # smtpd adds the From the message lacks: the envelope sender.
        self.assertEqual(self.header(rest, "From"),
                         "<%s@example.test>" % CRON_USER)
        self.assertIsNotNone(self.header(rest, "Message-ID"))
        self.assertRegex(self.suite.log("smtpd"),
                         r"sender-forced uid=%d given=<alice@example\.test> "
                         r"used=<%s@example\.test>"
                         % (self.cron.pw_uid, CRON_USER))

    def test_cron_job(self):
        """A cron-style job of an ordinary user: cron's environment,
        LOGNAME and USER claiming root, which nothing believes."""
        marker = "cron-%d" % time.monotonic_ns()
        env = {"PATH": "/usr/bin:/bin", "SHELL": "/bin/sh",
               "LOGNAME": "root", "USER": "root", "HOME": "/"}
        # As Debian's cron runs it.
        job = ("printf 'Subject: %s\\n\\nDisk report\\n' | %s -C %s "
               "-FCronDaemon -i -B8BITMIME -oem alice"
               % (marker, SENDMAIL, self.suite.conf))
        r = subprocess.run(
            ["setpriv", "--reuid=%s" % CRON_USER, "--regid=%s" % CRON_USER,
             "--clear-groups", "--", "sh", "-c", job], capture_output=True,
            timeout=60, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        rp, received, rest = self.delivered(marker, "alice")
        self.assertEqual(rp, "Return-Path: <%s@example.test>" % CRON_USER)
        self.assertIn("from local (uid %d)" % self.cron.pw_uid, received)
        self.assertEqual(self.header(rest, "From"),
                         '"CronDaemon" <%s@example.test>' % CRON_USER)

    def test_forged_sender(self):
        """-f from an ordinary user is ignored (and logged); its own From
        field is kept as written, the envelope is its own."""
        marker = "forge-%d" % time.monotonic_ns()
        r = self.sendmail(["-f", "alice@example.test", "bob"],
                          ("From: Alice <alice@example.test>\nSubject: %s\n"
                           "\nforged\n" % marker).encode(), user=CRON_USER)
        self.assertEqual(r.returncode, 0, r.stderr)
        rp, _, rest = self.delivered(marker)
        self.assertEqual(rp, "Return-Path: <%s@example.test>" % CRON_USER)
        self.assertEqual(self.header(rest, "From"),
                         "Alice <alice@example.test>")

    def test_trusted_sender(self):
        """A user that "submit trusted" names may set the sender."""
        marker = "trusted-%d" % time.monotonic_ns()
        r = self.sendmail(["-f", "lists@example.test", "-F", "The List",
                           "alice"], ("Subject: %s\n\nx\n" % marker).encode(),
                          user=TRUSTED)
        self.assertEqual(r.returncode, 0, r.stderr)
        rp, _, rest = self.delivered(marker, "alice")
        self.assertEqual(rp, "Return-Path: <lists@example.test>")
        self.assertEqual(self.header(rest, "From"),
                         '"The List" <lists@example.test>')

    def test_queue_is_roots(self):
        """mailq, -q and newaliases: root's.  An ordinary user is told
        so (77) and sees nothing of the queue."""
        mailq = os.path.join(suite.REPO, "sallyctl", "mailq")
        newaliases = os.path.join(suite.REPO, "sallyctl", "newaliases")
        for argv0, args in ((mailq, []), (SENDMAIL, ["-bp"]),
                            (SENDMAIL, ["-q"]), (newaliases, []),
                            (SENDMAIL, ["-bi"])):
            r = self.sendmail(args, user=CRON_USER, argv0=argv0)
            self.assertEqual(r.returncode, EX_NOPERM, (argv0, args, r))
            self.assertEqual(r.stdout, b"")
            self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
            self.assertIn(b"only root may", r.stderr)
        # Nor can it read the spool itself.
        r = subprocess.run(["setpriv", "--reuid=%s" % CRON_USER,
                            "--regid=%s" % CRON_USER, "--clear-groups",
                            "--", "ls", self.suite.spool],
                           capture_output=True)
        self.assertNotEqual(r.returncode, 0)
        r = self.sendmail([], argv0=mailq)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"EVPID", r.stdout)
        r = self.sendmail(["-q"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"scheduled", r.stdout)
        r = self.sendmail([], argv0=newaliases)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"authd: reloading (pid %d)" % self.suite.pid("authd"),
                      r.stdout)

    def test_usage(self):
        """Bad options and no recipients: EX_USAGE and one line; the
        options of other MTAs are accepted."""
        for args in (["-x", "bob"], ["-bt"], ["-f"], [],
                     ["-f", "a@b>\r\nRCPT TO:<alice", "bob"]):
            r = self.sendmail(args, b"Subject: u\n\nx\n")
            self.assertEqual(r.returncode, EX_USAGE, (args, r))
            self.assertEqual(len(r.stderr.splitlines()), 1, (args, r))
        marker = "ignored-%d" % time.monotonic_ns()
        r = self.sendmail(["-oem", "-odi", "-B", "8BITMIME", "-N", "never",
                           "-R", "hdrs", "-V", "envid", "-v", "-i", "bob"],
                          ("Subject: %s\n\nx\n" % marker).encode())
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b">>> MAIL FROM:<root@example.test>", r.stderr)
        self.suite.wait_marked(marker)

    def test_unknown_recipient(self):
        """A recipient refused: nothing is sent, to anyone (67)."""
        marker = "nouser-%d" % time.monotonic_ns()
        r = self.sendmail(["bob", "nosuchuser"],
                          ("Subject: %s\n\nx\n" % marker).encode())
        self.assertEqual(r.returncode, 67, r)
        self.assertIn(b"nosuchuser@example.test", r.stderr)
        self.assertEqual(self.suite.marked_after_later(marker), [])

    def test_zz_queued_down(self):
        """queued stopped: EX_TEMPFAIL with a clear line, and nothing in
        the spool; with queued back, mail flows again."""
        s = self.suite
        s.stop_daemon("queued")
        try:
            before = s.spool_entries("incoming")
            r = self.sendmail(["bob"], b"Subject: down\n\nx\n",
                              user=CRON_USER)
            self.assertEqual(r.returncode, EX_TEMPFAIL, r)
            self.assertEqual(
                r.stderr.splitlines()[0].split(b" (")[0],
                b"sendmail: mail not sent: the mail system is down, "
                b"try again")
            self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
            self.assertEqual(s.spool_entries("incoming"), before)
        finally:
            s.start_daemon("queued")
        marker = "back-%d" % time.monotonic_ns()

        def sent():
            r = self.sendmail(["bob"], ("Subject: %s\n\nx\n"
                                        % marker).encode())
            return r.returncode == 0 or None
        wait_for(sent, 30, interval=0.5, what="sendmail with queued back")
        s.wait_marked(marker)

    def test_zz_smtpd_down(self):
        """smtpd stopped: its socket is gone, EX_TEMPFAIL; -bs tells its
        client 421 first."""
        s = self.suite
        s.stop_daemon("smtpd")
        try:
            self.assertFalse(os.path.exists(
                os.path.join(s.sockdir, "submit.sock")))
            r = self.sendmail(["bob"], b"Subject: down\n\nx\n")
            self.assertEqual(r.returncode, EX_TEMPFAIL, r)
            self.assertIn(b"the mail system is down", r.stderr)
            r = self.sendmail(["-bs"], b"QUIT\r\n", user=CRON_USER)
            self.assertEqual(r.returncode, EX_TEMPFAIL, r)
            self.assertTrue(r.stdout.startswith(b"421 4.3.0 "), r.stdout)
        finally:
            s.start_daemon("smtpd")

    def test_uid_without_name(self):
        """A uid with no passwd entry has no mail service: the front end
        says so (67), and smtpd refuses it at the greeting."""
        uid = 4242
        while True:
            try:
                pwd.getpwuid(uid)
                uid += 1
            except KeyError:
                break
        r = self.sendmail(["bob"], b"Subject: x\n\nx\n", user=str(uid))
        self.assertEqual(r.returncode, 67, r)
        r = self.sendmail(["-bs"], b"QUIT\r\n", user=str(uid))
        self.assertTrue(r.stdout.startswith(b"554 5.7.1 "), r.stdout)
        self.assertIn("connect client=local uid=%d user=-" % uid,
                      self.suite.log("smtpd"))

    def test_socket(self):
        """submit.sock: a stream socket any local user may reach, made
        by smtpd's parent; no setuid or setgid bit anywhere."""
        st = os.stat(os.path.join(self.suite.sockdir, "submit.sock"))
        self.assertTrue(stat.S_ISSOCK(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o666)
        self.assertEqual(st.st_uid, 0)
        st = os.stat(SENDMAIL)
        self.assertEqual(st.st_mode & (stat.S_ISUID | stat.S_ISGID), 0)
