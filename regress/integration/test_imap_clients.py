"""imapd with real clients (issue 11): curl over imap and imaps, mbsync
(isync) syncing both ways over TLS, offlineimap3, fetchmail over IMAP;
a message delivered over SMTP read byte for byte over IMAP and one
APPENDed over IMAP read byte for byte over POP3."""

import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest

import suite
from suite import SuiteTest, make_message, wait_for
from test_imap_session import IMAPRaw, need_imapd, reset_home, MSG1, MSG2


def have(prog):
    return shutil.which(prog) is not None


@need_imapd
class TestIMAPClients(SuiteTest):

    def setUp(self):
        reset_home(self.suite)
        self.tmp = tempfile.mkdtemp(prefix="imapclients-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def append(self, msg, folder=b"INBOX", flags=b""):
        c = IMAPRaw(self.suite.imap_port)
        try:
            c.send(b"a APPEND %s %s{%d}\r\n" % (folder, flags, len(msg)))
            assert c.line().startswith(b"+")
            c.send(msg + b"\r\n")
            lines, ok = c.until(b"a")
            self.assertTrue(ok.startswith(b"OK"), ok)
            c.cmd(b"LOGOUT")
        finally:
            c.close()

    def test_smtp_to_imap_identical(self):
        """A message sent over SMTP reads back over IMAP as the
        delivered file is, in CRLF form, and the sent part byte for
        byte."""
        msg = make_message("imap-identical", ["line one", "line two",
                                              ".dot line", ""])
        code, text = self.suite.send(msg)
        self.assertEqual(code, 250, text)
        data = self.suite.wait_marked("imap-identical")
        c = IMAPRaw(self.suite.imap_port)
        self.addCleanup(c.close)
        c.cmd(b"SELECT INBOX")
        lines, ok = c.cmd(b"FETCH 1 (RFC822.SIZE BODY.PEEK[])")
        want = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        self.assertEqual(lines, [b"* 1 FETCH (RFC822.SIZE %d BODY[] "
                                 b"{%d}\r\n%s)" % (len(want), len(want),
                                                   want)])
        self.assertTrue(want.endswith(msg))

    def test_imap_append_to_pop3_identical(self):
        """APPEND, then RETR over POP3: the same bytes."""
        self.append(MSG1)
        p = self.suite.pop3("bob")
        try:
            resp, lines, octets = p.retr(1)
            self.assertEqual(b"\r\n".join(lines) + b"\r\n", MSG1)
        finally:
            p.quit()

    @unittest.skipUnless(have("curl"), "curl is not installed")
    def test_curl(self):
        """curl fetches by UID over imap and over imaps (the suite's
        certificate verified), and lists the folders."""
        self.append(MSG1)
        self.append(MSG2)
        auth = "bob:" + suite.PASSWORD
        out = subprocess.run(
            ["curl", "-sS", "--max-time", "20", "-u", auth,
             "imap://127.0.0.1:%d/INBOX;UID=2" % self.suite.imap_port],
            capture_output=True, check=True).stdout
        self.assertEqual(out, MSG2)
        out = subprocess.run(
            ["curl", "-sS", "--max-time", "20", "-u", auth,
             "--cacert", self.suite.cert, "--resolve",
             "mail.example.test:%d:127.0.0.1" % self.suite.imaps_port,
             "imaps://mail.example.test:%d/INBOX;UID=1" %
             self.suite.imaps_port],
            capture_output=True, check=True).stdout
        self.assertEqual(out, MSG1)
        out = subprocess.run(
            ["curl", "-sS", "--max-time", "20", "-u", auth,
             "imap://127.0.0.1:%d/" % self.suite.imap_port],
            capture_output=True, check=True).stdout
        self.assertIn(b'* LIST (\\HasNoChildren \\Sent) "/" Sent', out)

    def mbsync_conf(self, local):
        conf = os.path.join(self.tmp, "mbsyncrc")
        with open(conf, "w") as f:
            f.write("IMAPAccount t\nHost mail.example.test\nPort %d\n"
                    "User bob\nPass %s\nSSLType IMAPS\n"
                    "CertificateFile %s\n\n"
                    "IMAPStore remote\nAccount t\n\n"
                    "MaildirStore local\nPath %s/\nInbox %s/INBOX\n"
                    "SubFolders Verbatim\n\n"
                    "Channel c\nFar :remote:\nNear :local:\n"
                    "Patterns INBOX\nCreate Both\nSync All\n"
                    "SyncState *\nExpunge Both\n" % (
                        self.suite.imaps_port, suite.PASSWORD,
                        self.suite.cert, local, local))
        return conf

    def mbsync(self, conf):
        """mbsync in a mount namespace of its own whose /etc/hosts names
        mail.example.test (the certificate's name) 127.0.0.1."""
        hosts = os.path.join(self.tmp, "hosts")
        with open(hosts, "w") as f:
            f.write("127.0.0.1 localhost mail.example.test\n")
        r = subprocess.run(["unshare", "-m", "sh", "-c",
                            'mount --bind "$1" /etc/hosts && '
                            'exec mbsync -c "$2" -a', "sh", hosts, conf],
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)

    @unittest.skipUnless(have("mbsync"), "isync is not installed")
    def test_mbsync_both_ways(self):
        """mbsync over imaps pulls the server's mail, then pushes a
        local message and a local flag change back."""
        self.append(MSG1)
        self.append(MSG2)
        local = os.path.join(self.tmp, "mail")
        os.mkdir(local)
        conf = self.mbsync_conf(local)
        self.mbsync(conf)
        cur = os.path.join(local, "INBOX", "cur")
        new = os.path.join(local, "INBOX", "new")
        # mbsync writes LF line ends and adds its X-TUID: field.
        got = sorted(re.sub(rb"(?m)^X-TUID: .*\n", b"",
                            open(os.path.join(d, f), "rb").read())
                     for d in (cur, new) for f in os.listdir(d))
        self.assertEqual(got, sorted([MSG1.replace(b"\r\n", b"\n"),
                                      MSG2.replace(b"\r\n", b"\n")]))
        mine = make_message("from-mbsync", ["pushed"])
        with open(os.path.join(new, "1.local.host"), "wb") as f:
            f.write(mine)
        # The first pulled message flagged, Maildir style.
        d0, f0 = sorted((d, f) for d in (cur, new) for f in os.listdir(d)
                        if b"first message" in
                        open(os.path.join(d, f), "rb").read())[0]
        base = f0.split(":2,")[0]
        os.rename(os.path.join(d0, f0), os.path.join(cur, base + ":2,F"))
        self.mbsync(conf)
        c = IMAPRaw(self.suite.imap_port)
        self.addCleanup(c.close)
        c.cmd(b"SELECT INBOX")
        lines, ok = c.cmd(b"UID SEARCH SUBJECT from-mbsync")
        self.assertRegex(lines[0], rb"^\* SEARCH \d+$")
        uid = lines[0].split()[-1]
        lines, ok = c.cmd(b"UID FETCH %s (BODY.PEEK[])" % uid)
        self.assertIn(mine, re.sub(rb"X-TUID: .*\r\n", b"", lines[0]))
        lines, ok = c.cmd(b"SEARCH FLAGGED")
        self.assertEqual(lines, [b"* SEARCH 1"])

    @unittest.skipUnless(have("fetchmail"), "fetchmail is not installed")
    def test_fetchmail(self):
        """fetchmail over IMAP fetches and deletes both messages."""
        self.append(MSG1)
        self.append(MSG2)
        out = os.path.join(self.tmp, "out")
        rc = os.path.join(self.tmp, "fetchmailrc")
        with open(rc, "w") as f:
            f.write("poll 127.0.0.1 protocol IMAP port %d\n"
                    "  user bob password \"%s\"\n"
                    "  sslproto '' mda \"/bin/sh -c 'cat >>%s'\"\n" %
                    (self.suite.imap_port, suite.PASSWORD, out))
        os.chmod(rc, 0o600)
        r = subprocess.run(["fetchmail", "-f", rc, "-s", "--nokeep",
                            "--idfile", os.path.join(self.tmp, "ids")],
                           capture_output=True, timeout=60,
                           env=dict(os.environ, HOME=self.tmp))
        self.assertEqual(r.returncode, 0, r.stderr)
        data = open(out, "rb").read()
        self.assertIn(b"this is the first.", data)
        self.assertIn(b"second body", data)
        c = IMAPRaw(self.suite.imap_port)
        self.addCleanup(c.close)
        lines, ok = c.cmd(b"STATUS INBOX (MESSAGES)")
        self.assertEqual(lines, [b"* STATUS INBOX (MESSAGES 0)"])

    @unittest.skipUnless(have("fetchmail"), "fetchmail is not installed")
    def test_fetchmail_idle(self):
        """fetchmail --idle waits in IDLE and fetches a message APPENDed
        by another session as soon as it arrives."""
        out = os.path.join(self.tmp, "out")
        rc = os.path.join(self.tmp, "fetchmailrc")
        with open(rc, "w") as f:
            f.write("poll 127.0.0.1 protocol IMAP port %d\n"
                    "  user bob password \"%s\" idle\n"
                    "  sslproto '' mda \"/bin/sh -c 'cat >>%s'\"\n" %
                    (self.suite.imap_port, suite.PASSWORD, out))
        os.chmod(rc, 0o600)
        p = subprocess.Popen(["fetchmail", "-f", rc, "-N", "-d", "300",
                              "--nokeep", "--idfile",
                              os.path.join(self.tmp, "ids"),
                              "--pidfile", os.path.join(self.tmp, "pid")],
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL,
                             env=dict(os.environ, HOME=self.tmp))
        self.addCleanup(p.wait)
        self.addCleanup(p.terminate)
        # fetchmail is idling once its session says so in the log.
        wait_for(lambda: "imap idle folder=INBOX watch=inotify" in
                 self.suite.log("imapd"), 20, what="fetchmail's IDLE")
        t0 = time.monotonic()
        self.append(MSG2)
        wait_for(lambda: os.path.exists(out) and
                 b"second body" in open(out, "rb").read(), 20,
                 what="fetchmail to fetch the new message")
        self.assertLess(time.monotonic() - t0, 15)

    @unittest.skipUnless(have("neomutt") and have("script"),
                         "neomutt is not installed")
    def test_neomutt(self):
        """neomutt, driven by keys it is given (-e push) on a pseudo
        terminal: every message of INBOX saved to Archive, INBOX
        expunged on exit."""
        self.append(MSG1)
        self.append(MSG2)
        rc = os.path.join(self.tmp, "muttrc")
        url = "imap://bob@127.0.0.1:%d/" % self.suite.imap_port
        with open(rc, "w") as f:
            f.write('set imap_pass="%s"\nset folder="%s"\n'
                    'set spoolfile="+INBOX"\nset ssl_starttls=no\n'
                    'set ssl_force_tls=no\nset confirmappend=no\n'
                    'set confirmcreate=no\nset delete=yes\nset move=no\n'
                    'set header_cache=""\nset message_cachedir=""\n'
                    'set imap_check_subscribed=no\nset mail_check=1\n'
                    % (suite.PASSWORD, url))
        keys = ("<tag-pattern>~A<enter><tag-prefix><save-message>"
                "=Archive<enter><sync-mailbox><exit>")
        cmd = "neomutt -n -F %s -f %sINBOX -e 'push \"%s\"'" % (
            rc, url, keys)
        r = subprocess.run(["script", "-qec", cmd, "/dev/null"],
                           capture_output=True, timeout=90,
                           env=dict(os.environ, HOME=self.tmp,
                                    TERM="xterm"))
        self.assertEqual(r.returncode, 0, r.stdout[-2000:])
        c = IMAPRaw(self.suite.imap_port)
        self.addCleanup(c.close)
        lines, ok = c.cmd(b"STATUS INBOX (MESSAGES)")
        self.assertEqual(lines, [b"* STATUS INBOX (MESSAGES 0)"])
        c.cmd(b"SELECT Archive")
        lines, ok = c.cmd(b"FETCH 1:* (BODY.PEEK[TEXT])")
        self.assertEqual(len(lines), 2, lines)
        self.assertIn(b"this is the first.", lines[0])
        self.assertIn(b"second body", lines[1])

    @unittest.skipUnless(have("offlineimap"), "offlineimap3 is not installed")
    def test_offlineimap(self):
        """offlineimap3 mirrors INBOX into a local Maildir."""
        self.append(MSG1)
        self.append(MSG2, flags=b"(\\Seen) ")
        local = os.path.join(self.tmp, "mirror")
        rc = os.path.join(self.tmp, "offlineimaprc")
        with open(rc, "w") as f:
            f.write("[general]\naccounts = t\nmetadata = %s/meta\n\n"
                    "[Account t]\nlocalrepository = L\n"
                    "remoterepository = R\n\n"
                    "[Repository L]\ntype = Maildir\nlocalfolders = %s\n\n"
                    "[Repository R]\ntype = IMAP\nremotehost = 127.0.0.1\n"
                    "remoteport = %d\nremoteuser = bob\nremotepass = %s\n"
                    "ssl = no\nstarttls = no\n"
                    "folderfilter = lambda f: f == 'INBOX'\n" % (
                        self.tmp, local, self.suite.imap_port,
                        suite.PASSWORD))
        r = subprocess.run(["offlineimap", "-c", rc, "-o", "-u", "quiet"],
                           capture_output=True, timeout=120,
                           env=dict(os.environ, HOME=self.tmp))
        self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
        files = []
        for sub in ("cur", "new"):
            d = os.path.join(local, "INBOX", sub)
            files += [os.path.join(d, f) for f in os.listdir(d)]
        # offlineimap writes LF line ends.
        got = sorted(open(f, "rb").read() for f in files)
        self.assertEqual(got, sorted([MSG1.replace(b"\r\n", b"\n"),
                                      MSG2.replace(b"\r\n", b"\n")]))
        self.assertTrue(any(re.search(r":2,.*S", f) for f in files), files)


if __name__ == "__main__":
    unittest.main()
