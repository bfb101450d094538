"""smtpd's session life (issue 8 item 2): a thousand TLS handshakes that
stall, on the SMTPS port and after STARTTLS, are closed at the timeout
and every one frees its session slot and its descriptor; the engine's
descriptor count and its session count come back to where they were,
and new clients are served.  The timeouts are lowered through the
configuration so that it runs in seconds."""

import os
import resource
import socket
import subprocess

import suite
from suite import SuiteTest, SMTPLine, connect_from

HELO = suite.HELO
# 25 client addresses, each under the default 50 sessions per client.
STALL_ADDRS = ["127.0.8.%d" % i for i in range(1, 26)]
SMTPS_PER_ADDR = 38
STARTTLS_PER_ADDR = 2
STALLED = len(STALL_ADDRS) * (SMTPS_PER_ADDR + STARTTLS_PER_ADDR)
# Room in the test process for the stalled clients and the new ones.
NOFILE_WANT = 4 * STALLED


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = NOFILE_WANT if hard == resource.RLIM_INFINITY else \
        min(NOFILE_WANT, hard)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def stall_smtps(addr, port):
    """A connection to the SMTPS port that never sends a ClientHello."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(30)
    s.bind((addr, 0))
    s.connect(("127.0.0.1", port))
    return s


def stall_starttls(addr, port):
    """A session that says STARTTLS, reads the 220 and sends nothing."""
    c = SMTPLine(port, source=addr)
    assert c.greeting[0] == 220, c.greeting
    c.ehlo()
    code, text = c.cmd(b"STARTTLS")
    assert code == 220, (code, text)
    return c.sock


def server_close_wait(port):
    """Server ends on port in CLOSE-WAIT: the client left, smtpd did not."""
    r = subprocess.run(["ss", "-Htn", "state", "close-wait",
                        "( sport = :%d )" % port],
                       capture_output=True, text=True, check=True)
    return [l for l in r.stdout.splitlines() if l.strip()]


class TestStalledHandshakes(SuiteTest):
    suite_args = {"extra_config": [
        "timeout greeting 3s",
        "timeout command 3s",
        "limit sessions %d" % STALLED,
    ]}

    def setUp(self):
        self.s = self.suite
        raise_nofile()

    def stall_all(self, socks):
        for addr in STALL_ADDRS:
            for _ in range(STARTTLS_PER_ADDR):
                socks.append(stall_starttls(addr, self.s.smtp_port))
            for _ in range(SMTPS_PER_ADDR):
                socks.append(stall_smtps(addr, self.s.smtps_port))

    def greeted(self, n, socks, addr="127.0.9.1"):
        """Opens n plain sessions from addrs near addr; all must be 220."""
        base = addr.rsplit(".", 1)[0]
        for i in range(n):
            s, greeting = connect_from("%s.%d" % (base, 1 + i // 40),
                                       self.s.smtp_port)
            socks.append(s)
            self.assertTrue(greeting.startswith(b"220 "), (i, greeting))

    def test_thousand_stalled_handshakes_are_freed(self):
        engine = self.s.engine("smtpd").pid
        baseline = fd_count(engine)
        socks = []
        try:
            self.stall_all(socks)
            self.assertEqual(len(socks), STALLED)
            # A connect returns before the engine accepts: wait for it.
            suite.wait_for(lambda: fd_count(engine) >= baseline + STALLED,
                           60, interval=0.2, what="the engine holding "
                           "the %d connections" % STALLED)
            # All are sessions: the global limit is reached.
            s, greeting = connect_from("127.0.9.200", self.s.smtp_port)
            socks.append(s)
            self.assertTrue(greeting.startswith(b"421 4.7.0 "), greeting)
            # At the timeout every stalled session ends and its
            # descriptor is closed, while the clients are still there.
            suite.wait_for(lambda: fd_count(engine) <= baseline, 120,
                           interval=0.5, what="the engine's descriptors "
                           "back to %d (now %d)" % (baseline,
                                                   fd_count(engine)))
        finally:
            for s in socks:
                s.close()
        self.assertEqual(server_close_wait(self.s.smtps_port), [])
        self.assertEqual(server_close_wait(self.s.smtp_port), [])
        log = self.s.log("smtpd")
        self.assertGreaterEqual(log.count("disconnect reason=timeout"),
                                STALLED)
        # The session count is back to 0: the whole limit is free again,
        # and the addresses that stalled are served too.
        socks = []
        try:
            self.greeted(STALLED - len(STALL_ADDRS), socks)
            for addr in STALL_ADDRS:
                s, greeting = connect_from(addr, self.s.smtp_port)
                socks.append(s)
                self.assertTrue(greeting.startswith(b"220 "), greeting)
        finally:
            for s in socks:
                s.close()
