"""smtpd's sessions and their TLS (issue 8 items 2 and 5).  A thousand
TLS handshakes that stall, on the SMTPS port and after STARTTLS, are
closed at the timeout and every one frees its session slot and its
descriptor; the engine's descriptor count and its session count come
back to where they were, and new clients are served.  The timeouts are
lowered through the configuration so that it runs in seconds.  A client
that quits without reading its replies is let go after lineio's linger
time, in smtpd and pop3d.  TLS 1.2 offers ECDHE with AEAD only; TLS 1.3
works."""

import os
import resource
import shutil
import socket
import ssl
import subprocess
import tempfile

import suite
from suite import SuiteTest, SMTPLine, client_ctx, connect_from

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
        # The SMTPS handshake, and STARTTLS's, run under this one.
        "timeout greeting 3s",
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


def tls12_ctx(cipher, servername=None):
    """A TLS 1.2 client context that offers only cipher; asserts the
    client itself can offer it, so that a refusal is the server's."""
    ctx = client_ctx()
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(cipher)
    names = [c["name"] for c in ctx.get_ciphers()
             if not c["name"].startswith("TLS_")]
    assert names == [cipher], (cipher, names)
    return ctx


class TestTlsCiphers(SuiteTest):
    """Issue 8 item 5: TLS 1.2 offers only ECDHE with AEAD (Mozilla's
    "intermediate" profile without DHE); TLS 1.3 works.  A second,
    RSA keypair (chosen by SNI) shows that RSA key exchange is refused
    where the certificate would allow it."""

    # ECDSA (the suite's P-256 certificate) and RSA (rsa.example.test).
    GOOD = (("ECDHE-ECDSA-AES128-GCM-SHA256", None),
            ("ECDHE-ECDSA-AES256-GCM-SHA384", None),
            ("ECDHE-ECDSA-CHACHA20-POLY1305", None),
            ("ECDHE-RSA-AES128-GCM-SHA256", "rsa.example.test"),
            ("ECDHE-RSA-CHACHA20-POLY1305", "rsa.example.test"))
    BAD = (("ECDHE-ECDSA-AES128-SHA", None),            # CBC, SHA-1
           ("ECDHE-ECDSA-AES256-SHA384", None),         # CBC
           ("ECDHE-ECDSA-CAMELLIA128-SHA256", None),
           ("ECDHE-ECDSA-ARIA128-GCM-SHA256", None),
           ("AES128-GCM-SHA256", "rsa.example.test"),   # RSA kex
           ("AES256-SHA", "rsa.example.test"),
           ("DHE-RSA-AES128-GCM-SHA256", "rsa.example.test"),
           ("ECDHE-RSA-AES128-SHA", "rsa.example.test"),
           ("ECDHE-ARIA256-GCM-SHA384", "rsa.example.test"))

    @classmethod
    def setUpClass(cls):
        cls.rsa_dir = tempfile.mkdtemp(prefix="sallyport-rsa-", dir="/tmp")
        crt = os.path.join(cls.rsa_dir, "rsa.pem")
        key = os.path.join(cls.rsa_dir, "rsa.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-days", "30", "-subj",
                        "/CN=rsa.example.test", "-keyout", key, "-out",
                        crt], check=True, capture_output=True)
        cls.suite_args = {"extra_config": [
            'pki "rsa.example.test" cert "%s" key "%s"' % (crt, key)]}
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.rsa_dir, ignore_errors=True)

    def handshake(self, ctx, servername=None):
        """The (version, cipher) smtps negotiates, or None if refused."""
        with socket.create_connection(("127.0.0.1", self.suite.smtps_port),
                                      timeout=30) as raw:
            try:
                with ctx.wrap_socket(raw, server_hostname=servername) as s:
                    return s.version(), s.cipher()[0]
            except ssl.SSLError:
                return None

    def test_tls12_ecdhe_aead_accepted(self):
        for cipher, name in self.GOOD:
            with self.subTest(cipher=cipher):
                got = self.handshake(tls12_ctx(cipher), name)
                self.assertEqual(got, ("TLSv1.2", cipher))

    def test_tls12_non_forward_secret_cbc_and_others_refused(self):
        for cipher, name in self.BAD:
            with self.subTest(cipher=cipher):
                self.assertIsNone(self.handshake(tls12_ctx(cipher), name))

    def test_tls13_works(self):
        ctx = client_ctx()
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        got = self.handshake(ctx)
        self.assertIsNotNone(got)
        self.assertEqual(got[0], "TLSv1.3")

    def test_s_client_rsa_key_exchange_refused(self):
        r = subprocess.run(
            ["openssl", "s_client", "-brief", "-tls1_2", "-cipher",
             "AES128-GCM-SHA256", "-servername", "rsa.example.test",
             "-connect", "127.0.0.1:%d" % self.suite.smtps_port],
            input="", capture_output=True, text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("handshake failure", r.stdout + r.stderr)


# Output a client asks for and never reads: under the engines' 4 MB
# output bound, far over what the sockets' buffers take.
UNREAD_OUTPUT_BYTES = 2 * 1024 * 1024
# common/lineio.c LINEIO_LINGER_SECS, and room for a busy machine.
LINGER_WAIT_SECS = 30 + 90


def unread_then_quit(port, command, quit_cmd, reply_bytes):
    """A client with a small receive window that asks for about
    UNREAD_OUTPUT_BYTES of replies, then to quit, and reads nothing."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(60)
    s.connect(("127.0.0.1", port))
    s.sendall(command * (UNREAD_OUTPUT_BYTES // reply_bytes) + quit_cmd)
    return s


class TestUnreadLastReply(SuiteTest):
    """Issue 8: a client that asks to quit but never reads the replies
    it asked for holds its session only for lineio's linger time, in
    smtpd and in pop3d's login engine alike."""

    def test_close_with_unread_output_ends(self):
        engines = {d: self.suite.engine(d).pid for d in ("smtpd", "pop3d")}
        base = {d: fd_count(p) for d, p in engines.items()}
        socks = [unread_then_quit(self.suite.smtp_port, b"HELP\r\n",
                                  b"QUIT\r\n", 100),
                 unread_then_quit(self.suite.pop3_port, b"CAPA\r\n",
                                  b"QUIT\r\n", 60)]
        try:
            suite.wait_for(lambda: all(fd_count(p) > base[d]
                                       for d, p in engines.items()), 30,
                           what="both sessions open")
            for d, p in engines.items():
                suite.wait_for(lambda: fd_count(p) <= base[d],
                               LINGER_WAIT_SECS, interval=0.5,
                               what="%s's descriptors back to %d"
                               % (d, base[d]))
        finally:
            for s in socks:
                s.close()
        self.assertIn("smtp disconnect reason=quit", self.suite.log("smtpd"))
