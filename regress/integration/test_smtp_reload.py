"""smtpd's reload on SIGHUP (smtpd.8, SIGNALS): the parent reads the
configuration and the pki files again and the engine uses them for the
sessions it accepts from then on, while a session opened before keeps
what it started with; a file that does not parse, or a pki that does
not load, changes nothing and says so in one line; a changed listener
is kept as it was until a restart.  Everything stays on loopback."""

import hashlib
import os
import re
import signal
import smtplib
import socket
import ssl
import subprocess
import time

import suite
from suite import SuiteTest, SMTPLine, make_message, starttls

HELO = suite.HELO
RCPTS = (b"bob@example.test", b"alice@example.test",
         b"postmaster@example.test", b"abuse@example.test")
RELOADED_RE = re.compile(r"(?m)- smtpd reloaded\b")
FAILED_RE = re.compile(r"(?m)- smtpd reload-failed error=\"(.*)\" "
                       r"config=kept$")


def ehlo_size(c):
    """EHLO on an SMTPLine: the SIZE it announces."""
    m = re.search(r"(?m)^SIZE (\d+)$", c.ehlo())
    assert m, "no SIZE in the EHLO reply"
    return int(m.group(1))


def rcpts_accepted(c):
    """MAIL, then RCPT to each of RCPTS until one is refused; the number
    accepted.  Ends the transaction with RSET."""
    code, text = c.cmd(b"MAIL FROM:<alice@example.test>")
    assert code == 250, (code, text)
    n = 0
    for r in RCPTS:
        code, text = c.cmd(b"RCPT TO:<" + r + b">")
        if code != 250:
            assert code == 452 and "4.5.3" in text, (code, text)
            break
        n += 1
    assert c.cmd(b"RSET")[0] == 250
    return n


def der_of(path):
    with open(path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


def fingerprint(der):
    return hashlib.sha256(der).hexdigest()


class TestReload(SuiteTest):
    suite_args = {"extra_config": ["limit recipients 3",
                                   "limit message-size 1M"]}

    def setUp(self):
        self.s = self.suite
        self.base = self.s.config_text()

    def tearDown(self):
        # The next test starts from the configuration of the class.
        if self.s.procs.get("smtpd") is not None:
            self.s.write_config(self.base)
            self.reload()

    def reload(self, text=None, fails=False):
        """Writes text as the configuration (unless None), sends SIGHUP
        to smtpd's parent and waits for its "reloaded" line (or its
        "reload-failed" line when fails); returns the log after it."""
        if text is not None:
            self.s.write_config(text)
        want = FAILED_RE if fails else RELOADED_RE
        before = len(want.findall(self.s.log("smtpd")))
        os.kill(self.s.pid("smtpd"), signal.SIGHUP)
        suite.wait_for(
            lambda: len(want.findall(self.s.log("smtpd"))) > before, 15,
            what="smtpd's %s line" % ("reload-failed" if fails
                                      else "reloaded"))
        return self.s.log("smtpd")

    def config(self, *lines, drop=()):
        """The class's configuration without the lines starting with one
        of drop, with lines added."""
        kept = [l for l in self.base.splitlines()
                if not any(l.startswith(d) for d in drop)]
        return "\n".join(kept + list(lines)) + "\n"

    def engine_pid(self):
        return self.s.engine("smtpd").pid

    def test_sallyctl_reload_reaches_smtpd_and_authd(self):
        """sallyctl reload sends SIGHUP to authd and to smtpd: both
        log their reload, and smtpd's new limit holds for a new
        session."""
        auth_re = re.compile(r"(?m)- authd reloaded ")
        smtpd_before = len(RELOADED_RE.findall(self.s.log("smtpd")))
        auth_before = len(auth_re.findall(self.s.log("authd")))
        self.s.write_config(self.config("limit recipients 2",
                                        drop=("limit recipients",)))
        r = self.s.sallyctl("reload")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("authd: reloading (pid %d)" % self.s.pid("authd"),
                      r.stdout)
        self.assertIn("smtpd: reloading (pid %d)" % self.s.pid("smtpd"),
                      r.stdout)
        suite.wait_for(lambda: len(RELOADED_RE.findall(
            self.s.log("smtpd"))) > smtpd_before, 15,
            what="smtpd's reloaded line")
        suite.wait_for(lambda: len(auth_re.findall(
            self.s.log("authd"))) > auth_before, 15,
            what="authd's reloaded line")
        new = SMTPLine(self.s.smtp_port)
        try:
            new.ehlo()
            self.assertEqual(rcpts_accepted(new), 2)
        finally:
            new.close()

    # -- limits

    def test_limits_for_new_sessions_only(self):
        engine = self.engine_pid()
        old = SMTPLine(self.s.smtp_port)
        try:
            self.assertEqual(ehlo_size(old), 1024 * 1024)
            self.assertEqual(rcpts_accepted(old), 3)
            self.reload(self.config("limit recipients 2",
                                    "limit message-size 2M",
                                    drop=("limit ",)))
            with SMTPLine(self.s.smtp_port) as new:
                self.assertEqual(ehlo_size(new), 2 * 1024 * 1024)
                self.assertEqual(rcpts_accepted(new), 2)
            # The session from before keeps its limits to its end.
            self.assertEqual(ehlo_size(old), 1024 * 1024)
            self.assertEqual(rcpts_accepted(old), 3)
        finally:
            old.close()
        # No restart: the same engine, still reaching authd and queued.
        self.assertEqual(self.engine_pid(), engine)
        marker = "reload-after-%d" % time.monotonic_ns()
        code, text = self.s.send(make_message(marker, ["after"]))
        self.assertEqual(code, 250, text)
        self.s.wait_marked(marker)
        self.assertIn("smtp engine reloaded generation=", self.s.log("smtpd"))

    def test_relay_network_for_new_sessions_only(self):
        def rcpt_remote(c):
            c.ehlo()
            self.assertEqual(c.cmd(b"MAIL FROM:<x@remote.test>")[0], 250)
            code, text = c.cmd(b"RCPT TO:<someone@remote.test>")
            self.assertEqual(c.cmd(b"RSET")[0], 250)
            return code
        old = SMTPLine(self.s.smtp_port, source="127.0.6.1")
        try:
            self.assertEqual(rcpt_remote(old), 550)
            self.reload(self.config("relay from 127.0.6.0/24"))
            with SMTPLine(self.s.smtp_port, source="127.0.6.2") as new:
                self.assertEqual(rcpt_remote(new), 250)
            # Whether a session may relay was decided at its accept.
            self.assertEqual(rcpt_remote(old), 550)
        finally:
            old.close()

    def test_large_config_in_pieces(self):
        # Over one IPC payload (64 KiB) once printed: sent in pieces.
        long = "a" * 50
        domains = ['domain "d%04d-%s.example.test"' % (i, long)
                   for i in range(1000)]
        last = "d0999-%s.example.test" % long
        engine = self.engine_pid()
        self.reload(self.config('hostname "reloaded.example.test"',
                                *domains, drop=("hostname ",)))
        with SMTPLine(self.s.smtp_port) as c:
            self.assertTrue(c.greeting[1].startswith(
                "reloaded.example.test "), c.greeting)
        # The last domain arrived: on submission it is one of ours.
        sub = smtplib.SMTP("127.0.0.1", self.s.submission_port,
                           local_hostname=HELO, timeout=30)
        try:
            sub.starttls(context=suite.client_ctx())
            sub.login("alice", suite.PASSWORD)
            code, text = sub.mail("alice@" + last)
            self.assertEqual(code, 250, text)
            sub.rset()
            code, text = sub.mail("alice@elsewhere.test")
            self.assertEqual(code, 553, text)
        finally:
            sub.close()
        self.assertEqual(self.engine_pid(), engine)

    def test_restarted_engine_starts_with_the_reload(self):
        self.reload(self.config("limit recipients 2", drop=("limit ",)))
        old = self.engine_pid()
        os.kill(old, signal.SIGKILL)
        self.s.wait_child_as("smtpd", suite.DAEMON_USERS["smtp"],
                             exclude=(old,))

        def session():
            try:
                c = SMTPLine(self.s.smtp_port, timeout=10)
            except OSError:
                return None
            try:
                c.ehlo()
                return rcpts_accepted(c)
            finally:
                c.close()
        self.assertEqual(suite.wait_for(session, 20, interval=0.2,
                                        what="a new engine"), 2)

    # -- refused reloads

    def test_broken_config_is_kept(self):
        engine = self.engine_pid()
        log = self.reload(self.config("limit recipients 2",
                                      "limit bogus 7", drop=("limit ",)),
                          fails=True)
        error = FAILED_RE.findall(log)[-1]
        self.assertIn("limit", error)
        self.assertIn(self.s.conf, error)
        with SMTPLine(self.s.smtp_port) as c:
            self.assertEqual(ehlo_size(c), 1024 * 1024)
            self.assertEqual(rcpts_accepted(c), 3)
        self.assertEqual(self.engine_pid(), engine)

    def test_out_of_range_value_is_kept(self):
        self.reload(self.config("limit recipients 0", drop=("limit ",)),
                    fails=True)
        with SMTPLine(self.s.smtp_port) as c:
            c.ehlo()
            self.assertEqual(rcpts_accepted(c), 3)

    def test_smtps_without_pki_is_kept(self):
        # The smtps listener stays bound: it still needs a certificate.
        log = self.reload(self.config(drop=("pki ",)), fails=True)
        self.assertIn("needs a pki statement", FAILED_RE.findall(log)[-1])
        self.assertIn(b"220", self.smtps_greeting())

    def test_missing_key_is_kept(self):
        key = self.s.path("etc", "key.pem")
        text = self.base.replace('key "%s"' % key,
                                 'key "%s"' % self.s.path("etc", "nokey"))
        self.assertNotEqual(text, self.base)
        log = self.reload(text, fails=True)
        self.assertIn("nokey", FAILED_RE.findall(log)[-1])
        with SMTPLine(self.s.smtp_port) as c:
            self.assertIn("STARTTLS", c.ehlo())
            starttls(c)
            self.assertEqual(c.sock.getpeercert(binary_form=True),
                             der_of(self.s.cert))

    # -- what needs a restart

    def test_listeners_changed_need_a_restart(self):
        line = "- smtpd reload listeners-changed: restart to apply"
        before = self.s.log("smtpd").count(line)
        extra = suite.free_ports(1)[0]
        log = self.reload(self.config(
            "listen smtp on 127.0.0.1 port %d" % extra))
        self.assertEqual(log.count(line), before + 1)
        self.assertFalse(self.s._listening(extra))
        self.assertTrue(self.s._listening(self.s.smtp_port))
        # Removing one is no different: it stays until a restart.
        log = self.reload(self.config(drop=("listen smtps",)))
        self.assertEqual(log.count(line), before + 2)
        self.assertIn(b"220", self.smtps_greeting())
        # Back to the listeners bound: nothing to say.
        self.s.write_config(self.base)
        self.assertEqual(self.reload().count(line), before + 2)

    def smtps_greeting(self):
        raw = socket.create_connection(("127.0.0.1", self.s.smtps_port),
                                       timeout=30)
        with suite.client_ctx().wrap_socket(raw) as t:
            return t.recv(512)

    # -- certificates

    def smtps_der(self):
        raw = socket.create_connection(("127.0.0.1", self.s.smtps_port),
                                       timeout=30)
        with suite.client_ctx().wrap_socket(raw) as t:
            return t.getpeercert(binary_form=True)

    def replace_cert(self):
        """A new key and certificate over the old files, as a renewal
        writes them; returns the new certificate's DER."""
        key = self.s.path("etc", "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                        "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-days", "30",
                        "-subj", "/CN=renewed.example.test",
                        "-keyout", key + ".new", "-out",
                        self.s.cert + ".new"],
                       check=True, capture_output=True)
        os.chmod(key + ".new", 0o600)
        os.rename(key + ".new", key)
        os.rename(self.s.cert + ".new", self.s.cert)
        return der_of(self.s.cert)

    def test_replaced_certificate_for_new_sessions(self):
        before = der_of(self.s.cert)
        self.assertEqual(self.smtps_der(), before)
        old = SMTPLine(self.s.smtp_port)
        try:
            old.ehlo()
            new_der = self.replace_cert()
            self.assertNotEqual(fingerprint(new_der), fingerprint(before))
            # Not before the reload: the files are read on SIGHUP only.
            self.assertEqual(self.smtps_der(), before)
            self.reload()
            self.assertEqual(fingerprint(self.smtps_der()),
                             fingerprint(new_der))
            with SMTPLine(self.s.submission_port) as c:
                c.ehlo()
                starttls(c)
                self.assertEqual(c.sock.getpeercert(binary_form=True),
                                 new_der)
            # A session from before the reload: the old certificate.
            starttls(old)
            self.assertEqual(fingerprint(old.sock.getpeercert(
                binary_form=True)), fingerprint(before))
            self.assertEqual(old.cmd(b"EHLO " + HELO.encode())[0], 250)
        finally:
            old.close()
        r = subprocess.run(
            ["openssl", "s_client", "-brief", "-connect",
             "127.0.0.1:%d" % self.s.smtps_port],
            input="QUIT\r\n", capture_output=True, text=True, timeout=30)
        self.assertIn("renewed.example.test", r.stdout + r.stderr)
