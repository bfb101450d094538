"""smtpd with the senders of the real world (issue 14, items 1 and 3).

Address literals of this host (RFC 5321 4.1.3, RFC 1123 5.2.17): postmaster
is reached at them, never "relaying"; other local users only with
"address-literal local-users yes"; a literal of another host stays remote.

A real Postfix (Debian's package, an instance of its own under a temporary
directory on loopback ports, never the system's) relays to sallyport over
one reused connection more messages than the old per-session limit of
100, and a message to postmaster at a literal of sallyport's host; all
arrive.  With a site's "limit messages-per-session", Postfix's MAIL past
it gets 451 on a session that goes on, and the deferred messages arrive
in later sessions.  Skipped when
Postfix is not installed (etc/deps.sh installs it without configuring
the system's)."""

import collections
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import suite
from suite import SuiteTest, SMTPLine, make_message

sys.path.insert(0, os.path.join(suite.REPO, "bench"))
import bench  # noqa: E402  (its Postfix master.cf)

# More than the old default "limit messages-per-session 100".
POSTFIX_MESSAGES = 110
# Postfix listens here (it takes only an interface's own address).
POSTFIX_ADDR = "127.0.0.1"
# A literal of sallyport's host (loopback) that is not Postfix's own
# (inet_interfaces), so that Postfix relays it rather than keep it.
POSTMASTER_LITERAL = "postmaster@[127.0.0.3]"
POSTFIX_START_SECS = 30


def rcpt(c, addr):
    return c.cmd(b"RCPT TO:<" + addr.encode() + b">")


class LiteralTest(SuiteTest):

    def setUp(self):
        self.s = self.suite

    def session(self):
        c = SMTPLine(self.s.smtp_port)
        c.ehlo()
        code, text = c.cmd(b"MAIL FROM:<someone@remote.example>")
        self.assertEqual(code, 250, text)
        return c

    def refused(self, addr):
        """The text of the 550 that RCPT TO:<addr> gets."""
        c = self.session()
        try:
            code, text = rcpt(c, addr)
            self.assertEqual(code, 550, (addr, text))
            return text
        finally:
            c.close()

    def deliver(self, addr, user):
        """A message to addr arrives in user's Maildir."""
        marker = "literal-%d" % time.monotonic_ns()
        c = self.session()
        try:
            code, text = rcpt(c, addr)
            self.assertEqual(code, 250, (addr, text))
            self.assertEqual(c.cmd(b"DATA")[0], 354)
            c.send(make_message(marker, ["to " + addr]) + b".\r\n")
            code, text = c.reply()
            self.assertEqual(code, 250, text)
        finally:
            c.close()
        self.s.wait_marked(marker, user)


class TestAddressLiterals(LiteralTest):

    def test_postmaster_at_ipv4_literal(self):
        self.deliver("postmaster@[127.0.0.1]", "alice")
        self.assertIn("rcpt-literal literal=[127.0.0.1] "
                      "local=<postmaster@example.test>", self.s.log("smtpd"))

    def test_postmaster_at_ipv6_literal_and_any_case(self):
        self.deliver("PostMaster@[IPv6:::1]", "alice")

    def test_other_users_not_reached_and_not_relaying(self):
        text = self.refused("bob@[127.0.0.1]")
        self.assertTrue(text.startswith("5.1.1 "), text)
        self.assertNotIn("Relaying", text)
        self.assertIn("result=literal-refused", self.s.log("smtpd"))

    def test_literal_of_another_host_is_remote(self):
        # 192.0.2.1 (TEST-NET-1) is not ours: relaying, refused.
        self.assertIn("5.7.1 Relaying denied",
                      self.refused("postmaster@[192.0.2.1]"))


class TestAddressLiteralsLocalUsers(LiteralTest):
    suite_args = {"extra_config": ["address-literal local-users yes"]}

    def test_local_user_at_literal(self):
        self.deliver("bob@[127.0.0.1]", "bob")

    def test_unknown_user_at_literal(self):
        self.assertIn("no such user", self.refused("nobody@[127.0.0.1]"))


# A Postfix of its own directories that keeps nothing and sends
# everything to sallyport: no DNS, loopback only.
POSTFIX_MAIN = """\
compatibility_level = 3.6
queue_directory = {root}/queue
data_directory = {root}/data
mail_owner = postfix
setgid_group = postdrop
maillog_file_prefixes = {root}/log
maillog_file = {root}/log/maillog
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = relay.postfix.test
mydestination =
mynetworks = 127.0.0.0/8
relay_domains =
alias_maps =
local_recipient_maps =
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
smtp_tls_security_level = none
# Everything to sallyport, one connection, kept and reused.
relayhost = [127.0.0.1]:{port}
default_destination_concurrency_limit = 1
smtp_destination_concurrency_limit = 1
initial_destination_concurrency = 1
smtp_connection_cache_destinations = [127.0.0.1]:{port}
smtp_connection_reuse_count_limit = 1000
# Held until every message is queued, then released at once.
defer_transports = smtp
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
"""

# bench/'s master.cf (Debian's, pared down, no chroot) and the SMTP client.
POSTFIX_MASTER = bench.POSTFIX_MASTER + """\
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
"""


class PostfixRelay:
    """A Postfix of the test's own that relays everything to sallyport."""

    def __init__(self, sallyport_port):
        self.root = tempfile.mkdtemp(prefix="sallyport-postfix-", dir="/tmp")
        os.chmod(self.root, 0o755)
        self.conf = os.path.join(self.root, "conf")
        for d in ("conf", "queue", "data", "log"):
            os.mkdir(os.path.join(self.root, d), 0o755)
        pf = pwd.getpwnam("postfix")
        os.chown(os.path.join(self.root, "data"), pf.pw_uid, pf.pw_gid)
        self.port = suite.free_ports(1)[0]
        self.write("main.cf", POSTFIX_MAIN.format(root=self.root,
                                                  port=sallyport_port))
        self.write("master.cf", POSTFIX_MASTER.format(port=self.port))
        self.started = False

    def write(self, name, text):
        with open(os.path.join(self.conf, name), "w") as f:
            f.write(text)

    def run(self, *args):
        return subprocess.run(list(args), stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=60)

    def start(self):
        r = self.run("postfix", "-c", self.conf, "start")
        self.started = True
        if r.returncode != 0:
            raise RuntimeError("postfix start: %s%s%s" % (
                r.stdout, r.stderr, self.log()))
        suite.wait_for(self.listening, POSTFIX_START_SECS, interval=0.1,
                       what="postfix on %s:%d" % (POSTFIX_ADDR, self.port))

    def listening(self):
        r = self.run("ss", "-Hltn", "( sport = :%d )" % self.port)
        return POSTFIX_ADDR in r.stdout

    def release(self):
        """Lets the held messages go, all at once."""
        for args in (("postconf", "-c", self.conf, "-e", "defer_transports="),
                     ("postfix", "-c", self.conf, "reload"),
                     ("postqueue", "-c", self.conf, "-f")):
            r = self.run(*args)
            if r.returncode != 0:
                raise RuntimeError("%s: %s%s" % (" ".join(args), r.stdout,
                                                 r.stderr))

    def log(self):
        try:
            with open(os.path.join(self.root, "log", "maillog")) as f:
                return f.read()
        except OSError:
            return ""

    def master_pid(self):
        try:
            with open(os.path.join(self.root, "queue", "pid",
                                   "master.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def stop(self, keep=False):
        """"postfix stop"; a master still there after it is killed by
        its pid, so that none outlives the test."""
        if self.started:
            pid = self.master_pid()
            try:
                self.run("postfix", "-c", self.conf, "stop")
            except subprocess.TimeoutExpired:
                pass
            if pid is not None and not suite.wait_for(
                    lambda: not suite.proc_alive(pid), 15, interval=0.1):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.started = False
        if not keep:
            shutil.rmtree(self.root, ignore_errors=True)


class PostfixTest(SuiteTest):
    """A suite, and a Postfix that relays to it."""

    @classmethod
    def setUpClass(cls):
        if shutil.which("postfix") is None:
            raise unittest.SkipTest("postfix is not installed")
        super().setUpClass()
        cls.postfix = PostfixRelay(cls.suite.smtp_port)
        try:
            cls.postfix.start()
        except BaseException:
            cls.postfix.stop(keep=True)
            super().tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.postfix.stop(keep=cls.suite is not None and cls.suite.keep)
        finally:
            super().tearDownClass()

    def submit(self, msgs):
        """Hands (rcpt, message) pairs to Postfix in one session."""
        c = suite.smtplib.SMTP(POSTFIX_ADDR, self.postfix.port,
                               local_hostname=suite.HELO, timeout=60)
        try:
            for to, msg in msgs:
                refused = c.sendmail("alice@example.test", [to], msg)
                self.assertEqual(refused, {})
        finally:
            c.quit()

    def sessions_from_postfix(self):
        """Messages per sallyport session that Postfix opened."""
        log = self.suite.log("smtpd")
        ids = set(re.findall(r"(\w+) smtp connect client=%s "
                             % re.escape(POSTFIX_ADDR), log))
        per = collections.Counter(
            i for i in re.findall(r"(\w+) smtp mail from=", log)
            if i in ids)
        return len(ids), per

    def relay_all(self):
        """POSTFIX_MESSAGES to bob and one to postmaster at a literal,
        held in Postfix, released together; returns once all arrived."""
        run = "pf-%d" % time.monotonic_ns()
        marks = ["%s-%d" % (run, i) for i in range(POSTFIX_MESSAGES)]
        msgs = [("bob@example.test", make_message(m, [m])) for m in marks]
        msgs.append((POSTMASTER_LITERAL,
                     make_message(run + "-pm", ["to the postmaster"])))
        self.submit(msgs)
        self.postfix.release()
        self.suite.wait_marked(run + "-pm", "alice", timeout=120)

        def arrived():
            n = 0
            for f in self.suite.mail_files("bob"):
                with open(f, "rb") as fh:
                    if run.encode() in fh.read():
                        n += 1
            return n >= POSTFIX_MESSAGES
        suite.wait_for(arrived, 180, interval=0.5,
                       what="%d messages relayed by Postfix"
                       % POSTFIX_MESSAGES)


class TestPostfixRelays(PostfixTest):
    """Postfix reuses one connection for all its messages (RFC 5321 3.8:
    the server does not close it); before issue 14 message 101 got 421
    and was deferred."""

    def test_reused_connection_carries_all_messages(self):
        self.relay_all()
        nconn, per = self.sessions_from_postfix()
        self.assertGreater(max(per.values()), 100, (nconn, per))
        self.assertNotIn("too-many-messages", self.suite.log("smtpd"))
        # Postfix's own count of the connection's uses, and no message
        # that sallyport deferred (the hold above is "relay=none").
        uses = [int(n) for n in re.findall(r"conn_use=(\d+)",
                                           self.postfix.log())]
        self.assertGreater(max(uses, default=0), 100)
        deferred = [l for l in self.postfix.log().splitlines()
                    if "status=deferred" in l and "relay=none" not in l]
        self.assertEqual(deferred, [])


class TestPostfixRelaysWithLimit(PostfixTest):
    """A site's "limit messages-per-session": past it MAIL is 451 and the
    session goes on; Postfix defers those messages and sends them in
    new sessions, so all arrive."""

    LIMIT = 40
    suite_args = {"extra_config": ["limit messages-per-session %d" % LIMIT]}

    def test_limit_defers_without_closing(self):
        self.relay_all()
        nconn, per = self.sessions_from_postfix()
        self.assertLessEqual(max(per.values()), self.LIMIT, per)
        self.assertGreaterEqual(nconn, -(-POSTFIX_MESSAGES // self.LIMIT))
        log = self.suite.log("smtpd")
        self.assertIn("reason=too-many-messages", log)
        self.assertNotIn("disconnect reason=too-many-messages", log)
        self.assertIn("451 4.7.0", self.postfix.log())
