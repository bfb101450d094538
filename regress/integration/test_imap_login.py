"""imapd before login (issue 11): the login engine's greeting and
CAPABILITY (STARTTLS while there is no TLS; LOGINDISABLED and no AUTH=
where no password may be sent), LOGIN, AUTHENTICATE PLAIN and LOGIN with
and without an initial response (RFC 4959 SASL-IR), ID (RFC 2971),
STARTTLS and imaps with the suite's certificate verified, authd's
throttle shared with the other services, the engine's user, chroot and
seccomp filter, the engine killed and restarted, and SIGHUP.

A right password hands the client to the parent, which execs
imapd-mailbox as the mail user: that is checked from /proc and from
the log; the answer to the login is the mailbox process's (its tests
are test_imap_*.py)."""

import base64
import imaplib
import os
import pwd
import re
import signal
import socket
import ssl
import subprocess
import unittest

import suite
from suite import SuiteTest, wait_for

PASS = suite.PASSWORD.encode()
HOST = "mail.example.test"


def limit(name):
    with open(suite.REPO + "/common/sp_limits.h") as f:
        text = f.read()
    v = re.search(r"#define\s+%s\s+(\w+)" % name, text).group(1)
    return int(v) if v.isdigit() else limit(v)


FAILURES_MAX = limit("AUTH_FAILURES_MAX")


def need_imapd(cls):
    """imapd runs in the suite once imapd-mailbox is built."""
    if "imapd" not in suite.DAEMONS:
        return unittest.skip("imapd-mailbox is not built")(cls)
    return cls


class IMAPLine:
    """A raw IMAP client: lines in, lines out, from a loopback source
    address when given, on TLS when ctx is given (imaps)."""

    def __init__(self, port, source=None, ctx=None, timeout=30):
        self.sock = socket.create_connection(
            ("127.0.0.1", port), timeout,
            source_address=(source, 0) if source else None)
        if ctx is not None:
            self.sock = ctx.wrap_socket(self.sock, server_hostname=HOST)
        self.buf = b""
        self.n = 0
        self.greeting = self.line()

    def line(self):
        while b"\r\n" not in self.buf:
            data = self.sock.recv(4096)
            if not data:
                raise EOFError("closed; had %r" % self.buf)
            self.buf += data
        l, self.buf = self.buf.split(b"\r\n", 1)
        return l

    def send(self, data):
        self.sock.sendall(data)

    def cmd(self, text):
        """Sends "tag text"; returns the untagged lines and the tagged
        one (without its tag)."""
        self.n += 1
        tag = b"t%d" % self.n
        self.send(tag + b" " + text + b"\r\n")
        return self.until(tag)

    def until(self, tag):
        untagged = []
        while True:
            l = self.line()
            if l.startswith(tag + b" "):
                return untagged, l[len(tag) + 1:]
            untagged.append(l)

    def capability(self):
        u, r = self.cmd(b"CAPABILITY")
        assert r.startswith(b"OK"), r
        caps = [l for l in u if l.startswith(b"* CAPABILITY ")]
        assert len(caps) == 1, u
        return caps[0][len(b"* CAPABILITY "):].split()

    def starttls(self, ctx):
        u, r = self.cmd(b"STARTTLS")
        assert r.startswith(b"OK"), r
        assert self.buf == b"", self.buf
        self.sock = ctx.wrap_socket(self.sock, server_hostname=HOST)

    def closed(self):
        try:
            while True:
                if not self.sock.recv(4096):
                    return True
        except (ConnectionResetError, ssl.SSLError):
            return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()


class IMAPTest(SuiteTest):

    def setUp(self):
        # The engine listens before its authd connection is made: a
        # login before that is answered NO [UNAVAILABLE].
        wait_for(lambda: re.search(r"imapd-login\[\d+\]: - imap "
                                   r"authd-connected$", self.suite.log(
                                       "imapd"), re.M), 15,
                 what="the login engine's authd connection")

    def ctx(self):
        c = ssl.create_default_context(cafile=self.suite.cert)
        return c

    def connect(self, **kw):
        c = IMAPLine(self.suite.imap_port, **kw)
        self.addCleanup(c.close)
        return c

    def mailbox_child(self, user, exclude=()):
        """The mailbox process imapd exec'd for user."""
        return self.suite.wait_child_as("imapd", suite.MAIL_USERS[user],
                                        exclude=exclude)

    def assert_handed_off(self, user, before):
        """The n-th login of user reached the parent: a mailbox process
        started for it, as user."""
        what = r"imap mailbox-started user=%s uid=%d" % (
            user, pwd.getpwnam(suite.MAIL_USERS[user]).pw_uid)
        wait_for(lambda: len(re.findall(what, self.suite.log("imapd")))
                 > before, 15, what=what)

    def started(self, user):
        return len(re.findall(r"imap mailbox-started user=%s " % user,
                              self.suite.log("imapd")))


@need_imapd
class TestImapGreeting(IMAPTest):

    def test_greeting_names_capabilities(self):
        c = self.connect()
        self.assertTrue(c.greeting.startswith(b"* OK [CAPABILITY "),
                        c.greeting)
        caps = c.greeting.split(b"[CAPABILITY ", 1)[1].split(b"]")[0]
        caps = caps.split()
        self.assertIn(b"IMAP4rev1", caps)
        self.assertIn(b"STARTTLS", caps)
        self.assertEqual(caps, c.capability())

    def test_capability_before_and_after_starttls(self):
        c = self.connect()
        before = c.capability()
        self.assertIn(b"STARTTLS", before)
        # The suite allows passwords on loopback.
        self.assertIn(b"AUTH=PLAIN", before)
        self.assertIn(b"SASL-IR", before)
        c.starttls(self.ctx())
        after = c.capability()
        self.assertNotIn(b"STARTTLS", after)
        self.assertNotIn(b"LOGINDISABLED", after)
        self.assertIn(b"AUTH=PLAIN", after)
        self.assertIn(b"AUTH=LOGIN", after)
        u, r = c.cmd(b"STARTTLS")
        self.assertTrue(r.startswith(b"BAD"), r)

    def test_noop_id_logout(self):
        c = self.connect()
        u, r = c.cmd(b"NOOP")
        self.assertTrue(r.startswith(b"OK"), r)
        u, r = c.cmd(b'ID ("name" "test client" "version" "1")')
        self.assertTrue(r.startswith(b"OK"), r)
        self.assertEqual(len(u), 1)
        self.assertTrue(u[0].startswith(b'* ID ("name" "sallyport"'), u)
        u, r = c.cmd(b"ID NIL")
        self.assertTrue(r.startswith(b"OK"), r)
        u, r = c.cmd(b'ID ("name")')
        self.assertTrue(r.startswith(b"BAD"), r)
        self.assertIn("client-name=test\\sclient",
                      self.suite.log("imapd"))
        u, r = c.cmd(b"LOGOUT")
        self.assertEqual(u, [b"* BYE sallyport IMAP server logging out"])
        self.assertTrue(r.startswith(b"OK"), r)
        self.assertTrue(c.closed())

    def test_unknown_and_wrong_state_commands(self):
        c = self.connect()
        u, r = c.cmd(b"SELECT INBOX")
        self.assertTrue(r.startswith((b"BAD", b"NO")), r)
        u, r = c.cmd(b"FROB")
        self.assertTrue(r.startswith(b"BAD"), r)
        u, r = c.cmd(b"LOGIN onlyone")
        self.assertTrue(r.startswith(b"BAD"), r)
        u, r = c.cmd(b"NOOP")
        self.assertTrue(r.startswith(b"OK"), r)

    def test_too_many_errors_end_the_session(self):
        c = self.connect()
        for i in range(limit("IMAP_ERRORS_MAX") + 1):
            try:
                c.cmd(b"FROB%d" % i)
            except EOFError:
                break
        self.assertTrue(c.closed())

    def test_long_line_is_refused(self):
        c = self.connect()
        c.send(b"t1 NOOP " + b"x" * (limit("IMAP_LOGIN_LINE_MAX_BYTES")
                                     + 10) + b"\r\n")
        l = c.line()
        self.assertTrue(l.startswith(b"* BYE"), l)
        self.assertTrue(c.closed())


@need_imapd
class TestImapLogin(IMAPTest):

    def test_login_bad_password(self):
        c = self.connect(source="127.0.10.1")
        u, r = c.cmd(b"LOGIN bob wrong")
        self.assertEqual(r, b"NO [AUTHENTICATIONFAILED] "
                         b"Authentication failed")
        self.assertIn("imap login user=bob result=fail",
                      self.suite.log("imapd"))
        # The session goes on.
        u, r = c.cmd(b"NOOP")
        self.assertTrue(r.startswith(b"OK"), r)

    def test_login_hands_off_to_a_mailbox_process(self):
        n = self.started("bob")
        c = self.connect(source="127.0.10.2")
        c.send(b"t1 LOGIN bob " + PASS + b"\r\n")
        self.assert_handed_off("bob", n)
        # The mailbox process answers the LOGIN's tag, once it is set up
        # (as the user, chrooted, its filter on).
        u, r = c.until(b"t1")
        self.assertTrue(r.startswith(b"OK [CAPABILITY "), r)
        mb = self.mailbox_child("bob")
        uid, gid = suite.user_ids(suite.MAIL_USERS["bob"])
        self.assertEqual(mb.uids, (uid,) * 4, mb)
        self.assertEqual(mb.gids, (gid,) * 4, mb)
        self.assertEqual(mb.role, "imapd-user", mb)
        self.assertEqual(mb.root, self.suite.home("bob"), mb)
        self.assertEqual(mb.seccomp, 2, mb)
        c.cmd(b"LOGOUT")

    def test_longest_tag_is_answered(self):
        """The tag goes to the parent and to the mailbox process with
        the client: the longest the reader takes too."""
        n = self.started("bob")
        tag = b"T" * limit("IMAP_TAG_MAX_BYTES")
        c = self.connect(source="127.0.10.9")
        c.send(tag + b" LOGIN bob " + PASS + b"\r\n")
        self.assert_handed_off("bob", n)
        u, r = c.until(tag)
        self.assertTrue(r.startswith(b"OK"), r)

    def test_login_with_literals(self):
        n = self.started("alice")
        c = self.connect(source="127.0.10.3")
        c.send(b"t1 LOGIN {5}\r\n")
        self.assertTrue(c.line().startswith(b"+"))
        c.send(b"alice {%d+}\r\n%s\r\n" % (len(PASS), PASS))
        self.assert_handed_off("alice", n)
        u, r = c.until(b"t1")
        self.assertTrue(r.startswith(b"OK"), r)

    def test_authenticate_plain_sasl_ir(self):
        n = self.started("bob")
        c = self.connect(source="127.0.10.4")
        resp = base64.b64encode(b"\0bob\0" + PASS)
        c.send(b"t1 AUTHENTICATE PLAIN " + resp + b"\r\n")
        self.assert_handed_off("bob", n)
        u, r = c.until(b"t1")
        self.assertTrue(r.startswith(b"OK"), r)

    def test_authenticate_plain_challenge(self):
        c = self.connect(source="127.0.10.5")
        c.send(b"t1 AUTHENTICATE PLAIN\r\n")
        self.assertEqual(c.line(), b"+ ")
        c.send(base64.b64encode(b"\0bob\0wrong") + b"\r\n")
        u, r = c.until(b"t1")
        self.assertTrue(r.startswith(b"NO [AUTHENTICATIONFAILED]"), r)

    def test_authenticate_login_and_cancel(self):
        c = self.connect(source="127.0.10.6")
        c.send(b"t1 AUTHENTICATE LOGIN\r\n")
        self.assertEqual(c.line(), b"+ VXNlcm5hbWU6")
        c.send(b"*\r\n")
        u, r = c.until(b"t1")
        self.assertTrue(r.startswith(b"BAD"), r)
        n = self.started("alice")
        c.send(b"t2 AUTHENTICATE LOGIN\r\n")
        self.assertEqual(c.line(), b"+ VXNlcm5hbWU6")
        c.send(base64.b64encode(b"alice") + b"\r\n")
        self.assertEqual(c.line(), b"+ UGFzc3dvcmQ6")
        c.send(base64.b64encode(PASS) + b"\r\n")
        self.assert_handed_off("alice", n)

    def test_authenticate_bad_base64_and_mechanism(self):
        c = self.connect(source="127.0.10.7")
        u, r = c.cmd(b"AUTHENTICATE PLAIN %%%")
        self.assertTrue(r.startswith(b"BAD"), r)
        u, r = c.cmd(b"AUTHENTICATE CRAM-MD5")
        self.assertTrue(r.startswith(b"NO"), r)

    def test_imaplib_login(self):
        n = self.started("bob")
        c = imaplib.IMAP4("127.0.0.1", self.suite.imap_port, timeout=30)
        self.addCleanup(c.shutdown)
        self.assertIn("IMAP4REV1", c.capabilities)
        typ, _ = c.login("bob", suite.PASSWORD)
        self.assertEqual(typ, "OK")
        self.assert_handed_off("bob", n)

    def test_imaps_with_imaplib_and_s_client(self):
        n = self.started("bob")
        c = imaplib.IMAP4_SSL("127.0.0.1", self.suite.imaps_port,
                              ssl_context=self.ctx_for_ip(), timeout=30)
        self.addCleanup(c.shutdown)
        self.assertNotIn("STARTTLS", c.capabilities)
        self.assertIn("AUTH=PLAIN", c.capabilities)
        typ, _ = c.login("bob", suite.PASSWORD)
        self.assertEqual(typ, "OK")
        self.assert_handed_off("bob", n)
        r = subprocess.run(
            ["openssl", "s_client", "-connect",
             "127.0.0.1:%d" % self.suite.imaps_port, "-servername", HOST,
             "-CAfile", self.suite.cert, "-verify_return_error",
             "-verify_hostname", HOST, "-quiet"],
            input=b"a CAPABILITY\r\na LOGOUT\r\n", capture_output=True,
            timeout=30)
        self.assertIn(b"* OK [CAPABILITY IMAP4rev1", r.stdout, r.stderr)
        self.assertIn(b"* BYE", r.stdout)

    def ctx_for_ip(self):
        c = ssl.create_default_context(cafile=self.suite.cert)
        c.check_hostname = False
        return c

    def test_mailbox_gets_pipelined_commands_after_login(self):
        """Commands sent with the LOGIN in one write wait in the engine
        and reach the mailbox process, through the engine's relay."""
        c = self.connect(source="127.0.10.8")
        c.send(b"t1 LOGIN bob " + PASS + b"\r\nt2 NOOP\r\nt3 LOGOUT\r\n")
        u, r = c.until(b"t1")
        self.assertTrue(r.startswith(b"OK"), r)
        u, r = c.until(b"t2")
        self.assertTrue(r.startswith(b"OK"), r)
        u, r = c.until(b"t3")
        self.assertTrue(r.startswith(b"OK"), r)


@need_imapd
class TestImapLoginDisabled(IMAPTest):
    suite_args = {"plaintext_loopback": False}

    def test_logindisabled_before_tls(self):
        before = self.suite.log("imapd").count("imap login user=")
        c = self.connect()
        caps = c.capability()
        self.assertIn(b"LOGINDISABLED", caps)
        self.assertIn(b"STARTTLS", caps)
        self.assertFalse([x for x in caps if x.startswith(b"AUTH=")], caps)
        u, r = c.cmd(b"LOGIN bob " + PASS)
        self.assertTrue(r.startswith(b"NO [PRIVACYREQUIRED]"), r)
        u, r = c.cmd(b"AUTHENTICATE PLAIN " +
                     base64.b64encode(b"\0bob\0" + PASS))
        self.assertTrue(r.startswith(b"NO [PRIVACYREQUIRED]"), r)
        self.assertEqual(self.suite.log("imapd").count("imap login user="),
                         before)

    def test_login_after_starttls(self):
        c = self.connect()
        c.starttls(self.ctx_ip())
        caps = c.capability()
        self.assertNotIn(b"LOGINDISABLED", caps)
        self.assertIn(b"AUTH=PLAIN", caps)
        n = self.started("bob")
        c.send(b"t9 LOGIN bob " + PASS + b"\r\n")
        self.assert_handed_off("bob", n)
        u, r = c.until(b"t9")
        self.assertTrue(r.startswith(b"OK"), r)
        self.assertIn("imap proxy-start", self.suite.log("imapd"))

    def ctx_ip(self):
        c = ssl.create_default_context(cafile=self.suite.cert)
        return c


@need_imapd
class TestImapThrottle(IMAPTest):

    def test_failures_throttle_and_close(self):
        src = "127.0.11.1"
        for i in range(FAILURES_MAX):
            c = IMAPLine(self.suite.imap_port, source=src)
            u, r = c.cmd(b"LOGIN bob wrong%d" % i)
            self.assertTrue(r.startswith(b"NO [AUTHENTICATIONFAILED]"), r)
            c.close()
        c = self.connect(source=src)
        u, r = c.cmd(b"LOGIN bob " + PASS)
        self.assertTrue(r.startswith(b"NO [UNAVAILABLE]"), r)
        self.assertTrue(c.line().startswith(b"* BYE"))
        self.assertTrue(c.closed())
        self.assertIn("result=throttled", self.suite.log("authd"))
        # Another address is not concerned.
        n = self.started("bob")
        c = self.connect(source="127.0.11.2")
        c.send(b"t1 LOGIN bob " + PASS + b"\r\n")
        self.assert_handed_off("bob", n)


@need_imapd
class TestImapEngine(IMAPTest):

    def test_engine_user_chroot_seccomp(self):
        s = self.suite
        eng = s.engine("imapd")
        uid, gid = suite.user_ids(suite.DAEMON_USERS["imap"])
        self.assertEqual(eng.uids, (uid,) * 4, eng)
        self.assertEqual(eng.gids, (gid,) * 4, eng)
        self.assertEqual(eng.root, s.chroot, eng)
        self.assertEqual(eng.seccomp, 2, eng)
        self.assertEqual(eng.role, "imapd-login", eng)
        parent = suite.ProcInfo(s.pid("imapd"))
        self.assertEqual(parent.uids[0], 0)

    def test_engine_killed_is_restarted(self):
        s = self.suite
        old = s.engine("imapd")
        c = self.connect()
        os.kill(old.pid, signal.SIGKILL)
        self.assertTrue(c.closed())
        new = s.wait_child_as("imapd", suite.DAEMON_USERS["imap"],
                              exclude=(old.pid,))
        self.assertNotEqual(new.pid, old.pid)

        def greets():
            try:
                c2 = IMAPLine(s.imap_port)
            except (ConnectionError, EOFError):
                return None
            self.addCleanup(c2.close)
            return c2.greeting
        g = wait_for(greets, 15, what="a greeting from the new engine")
        self.assertTrue(g.startswith(b"* OK"), g)

    def test_logged_in_session_outlives_the_engine(self):
        """A clear-text client's socket went to its mailbox process: the
        engine's death does not end it (a TLS one, relayed by the
        engine, would end with it)."""
        s = self.suite
        c = imaplib.IMAP4("127.0.0.1", s.imap_port, timeout=30)
        self.addCleanup(c.sock.close)
        self.assertEqual(c.login("alice", suite.PASSWORD)[0], "OK")
        mb = self.mailbox_child("alice")
        old = s.engine("imapd")
        os.kill(old.pid, signal.SIGKILL)
        s.wait_child_as("imapd", suite.DAEMON_USERS["imap"],
                        exclude=(old.pid,))
        self.assertEqual(c.noop()[0], "OK")
        self.assertEqual(self.mailbox_child("alice").pid, mb.pid)
        self.assertEqual(c.logout()[0], "BYE")

    def test_sighup_reloads(self):
        s = self.suite
        n = len(re.findall(r"- imap reloaded\b", s.log("imapd")))
        os.kill(s.pid("imapd"), signal.SIGHUP)
        wait_for(lambda: len(re.findall(r"- imap reloaded\b",
                                        s.log("imapd"))) > n, 30,
                 what="imap reloaded")
        self.assertIn("imap engine reloaded generation=", s.log("imapd"))
        c = self.connect()
        self.assertTrue(c.greeting.startswith(b"* OK"), c.greeting)
        c.starttls(ssl.create_default_context(cafile=s.cert))
        self.assertIn(b"AUTH=PLAIN", c.capability())


@need_imapd
class TestImapShutdown(IMAPTest):

    def test_sigterm_stops_engine_and_sessions(self):
        """SIGTERM: the engine and every mailbox process end, the pid
        file goes, and the parent exits 0."""
        s = self.suite
        c = imaplib.IMAP4("127.0.0.1", s.imap_port, timeout=30)
        self.addCleanup(c.sock.close)
        self.assertEqual(c.login("bob", suite.PASSWORD)[0], "OK")
        mb = self.mailbox_child("bob")
        eng = s.engine("imapd")
        p = s.procs["imapd"]
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(10), 0)
        self.assertIn("- imap shutdown signal=15", s.log("imapd"))
        self.assertFalse(os.path.exists(os.path.join(s.sockdir,
                                                     "imapd.pid")))

        def gone(pid):
            try:
                with open("/proc/%d/stat" % pid) as f:
                    return f.read().rsplit(")", 1)[1].split()[0] == "Z"
            except FileNotFoundError:
                return True
        wait_for(lambda: gone(mb.pid) and gone(eng.pid), 10,
                 what="the mailbox process and the engine to end")

if __name__ == "__main__":
    unittest.main()
