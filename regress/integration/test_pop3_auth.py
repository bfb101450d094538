"""pop3d's defences before login (issue 8): failed logins are counted per
client address by authd, for SMTP AUTH and POP3 together, and past
AUTH_FAILURES_MAX the address is refused, right password or not, without
its guesses being checked; one address may hold at most "limit
sessions-per-client" sessions of the login engine.

Each test connects from its own loopback address (127.0.9.x), so that
the counts of one do not reach another."""

import base64
import re
import socket
import threading
import unittest

import suite
from suite import SuiteTest, SMTPLine, POP3Line, wait_for

PER_CLIENT = 4
# Parallel guesses from one address: fewer than the per-client limit
# of the parallel test's suite (the default, 50).
PARALLEL = 40


def limit(name):
    with open(suite.REPO + "/common/sp_limits.h") as f:
        text = f.read()
    m = re.search(r"#define\s+%s\s+(\w+)" % name, text)
    v = m.group(1)
    return int(v) if v.isdigit() else limit(v)


FAILURES_MAX = limit("AUTH_FAILURES_MAX")


class POP3From(POP3Line):
    """A raw POP3 client from a loopback source address."""

    def __init__(self, port, source, timeout=60):
        super().__init__(port, timeout, source)

    def login(self, user, password):
        r = self.cmd(b"USER " + user)
        assert r.startswith(b"+OK"), r
        return self.cmd(b"PASS " + password)


def pop3_login(port, source, password):
    """The answer to PASS in a new session from source, and whether the
    server closed the session after it."""
    c = POP3From(port, source)
    try:
        assert c.greeting.startswith(b"+OK"), c.greeting
        r = c.login(b"bob", password)
        if r.startswith(b"+OK"):
            c.cmd(b"QUIT")
            return r, True
        return r, c.closed() if b"SYS/TEMP" in r else False
    finally:
        c.close()


def smtp_auth(port, source, password):
    """(code, text) of AUTH PLAIN as alice from source (plaintext: the
    suite allows it on loopback)."""
    with SMTPLine(port, timeout=60, source=source) as c:
        c.ehlo()
        return c.cmd(b"AUTH PLAIN " + base64.b64encode(
            b"\0alice\0" + password))


class TestPop3Throttle(SuiteTest):
    suite_args = {"extra_config": ["auth plaintext-on-loopback yes"]}

    def fail_pop3(self, source, n):
        """n wrong passwords over POP3 from source, each answered [AUTH];
        the session may end at the error limit, so several are used."""
        c = None
        try:
            for i in range(n):
                if c is None:
                    c = POP3From(self.suite.pop3_port, source)
                r = c.login(b"bob", b"wrong%d" % i)
                self.assertTrue(r.startswith(b"-ERR [AUTH]"), r)
                c.close()
                c = None
        finally:
            if c is not None:
                c.close()

    def test_pop3_locked_after_failures(self):
        src = "127.0.9.1"
        self.fail_pop3(src, FAILURES_MAX)
        # The right password from that address: refused and closed.
        r, closed = pop3_login(self.suite.pop3_port, src, b"demo")
        self.assertTrue(r.startswith(b"-ERR [SYS/TEMP]"), r)
        self.assertTrue(closed, "still open after the throttled login")
        self.assertIn("result=throttled", self.suite.log("authd"))
        # Another address is not concerned.
        r, _ = pop3_login(self.suite.pop3_port, "127.0.9.2", b"demo")
        self.assertTrue(r.startswith(b"+OK"), r)

    def test_pop3_failures_lock_smtp(self):
        src = "127.0.9.3"
        code, text = smtp_auth(self.suite.smtp_port, src, b"demo")
        self.assertEqual(code, 235, text)
        self.fail_pop3(src, FAILURES_MAX)
        # smtpd has seen no failure from src: authd's count refuses it.
        code, text = smtp_auth(self.suite.smtp_port, src, b"demo")
        self.assertEqual(code, 421, text)
        self.assertIn("4.7.0", text)
        self.assertIn("by=authd", self.suite.log("smtpd"))

    def test_smtp_failures_lock_pop3(self):
        src = "127.0.9.4"
        r, _ = pop3_login(self.suite.pop3_port, src, b"demo")
        self.assertTrue(r.startswith(b"+OK"), r)
        for i in range(FAILURES_MAX):
            code, text = smtp_auth(self.suite.smtp_port, src,
                                   b"wrong%d" % i)
            self.assertEqual(code, 535, text)
        r, closed = pop3_login(self.suite.pop3_port, src, b"demo")
        self.assertTrue(r.startswith(b"-ERR [SYS/TEMP]"), r)
        self.assertTrue(closed)

    def test_parallel_guesses_not_checked(self):
        """PARALLEL guesses at once from one address: authd checks at
        most AUTH_FAILURES_MAX of them, the others are refused
        unchecked."""
        src = "127.0.9.5"
        conns = [POP3From(self.suite.pop3_port, src)
                 for _ in range(PARALLEL)]
        answers = [None] * PARALLEL
        try:
            for i, c in enumerate(conns):
                self.assertTrue(c.cmd(b"USER bob").startswith(b"+OK"))

            def guess(i):
                try:
                    answers[i] = conns[i].cmd(b"PASS guess%d" % i)
                except (OSError, EOFError) as e:
                    answers[i] = repr(e).encode()
            threads = [threading.Thread(target=guess, args=(i,))
                       for i in range(PARALLEL)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(120)
        finally:
            for c in conns:
                c.close()
        answers = [a or b"no answer" for a in answers]
        checked = [a for a in answers if a.startswith(b"-ERR [AUTH]")]
        refused = [a for a in answers if a.startswith(b"-ERR [SYS/TEMP]")]
        self.assertLessEqual(len(checked), FAILURES_MAX, answers)
        self.assertEqual(len(checked) + len(refused), PARALLEL, answers)
        fails = [l for l in self.suite.log("authd").splitlines()
                 if "client=%s " % src in l and "result=fail" in l]
        self.assertLessEqual(len(fails), FAILURES_MAX, fails)


class TestPop3PerClient(SuiteTest):
    suite_args = {"extra_config": ["limit sessions-per-client %d"
                                   % PER_CLIENT]}

    def test_sessions_per_client(self):
        src = "127.0.9.6"
        socks = []
        try:
            for _ in range(PER_CLIENT):
                c = POP3From(self.suite.pop3_port, src)
                socks.append(c)
                self.assertTrue(c.greeting.startswith(b"+OK"), c.greeting)
            c = POP3From(self.suite.pop3_port, src)
            self.assertTrue(c.greeting.startswith(b"-ERR [SYS/TEMP]"),
                            c.greeting)
            self.assertTrue(c.closed())
            c.close()
            self.assertIn("reason=sessions-per-client",
                          self.suite.log("pop3d"))
            # Another address still gets in.
            r, _ = pop3_login(self.suite.pop3_port, "127.0.9.7", b"demo")
            self.assertTrue(r.startswith(b"+OK"), r)
            # One session gone, one more is let in.
            socks.pop().cmd(b"QUIT")

            def again():
                c = POP3From(self.suite.pop3_port, src)
                if c.greeting.startswith(b"+OK"):
                    return c
                c.close()
                return None
            socks.append(wait_for(again, 30, interval=0.2,
                                  what="a session after one closed"))
        finally:
            for c in socks:
                c.close()


if __name__ == "__main__":
    unittest.main()
