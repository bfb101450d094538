"""POP3 on a large message and on a maildrop split between new/ and cur/.

A 50 MB message (LF line ends, some CRLF, lines starting with a dot, no
line end at the very end) is retrieved byte for byte as RFC 1939 says it
must be sent, over a plain connection (the mailbox process writes to the
client's socket) and over STLS (through the login engine's relay), and
the mailbox process's peak memory stays far below the message's size.

Messages are moved from new/ to cur/ only once retrieved: across
sessions each message is listed once with one unique-id, whichever
directory it is in, and deletions work from both."""

import poplib

import suite
from suite import SuiteTest
from test_pop3_scale import fill_maildir, empty_maildir
from test_pop3_mailbox import put
from test_pop3_tls import stls_login
from test_relay_smtp import sanitizer_build

BIG_BYTES = 50 * 1024 * 1024
# The mailbox process's peak resident memory while it sends the message
# (binary, libraries, buffers): bounded, whatever the message's size.
# Not checked in an ASan build (its quarantine keeps freed memory).
MAILBOX_HWM_MAX_KB = 16 * 1024


def big_message():
    """About BIG_BYTES of text: LF line ends, a CRLF line in 97, a line
    starting with a dot in 13, and no line end at the very end."""
    head = b"From: big@example.test\nSubject: 50 MB\n\n"
    lines = []
    n, k = len(head), 0
    while n < BIG_BYTES:
        line = b"%sline %d %s%s\n" % (
            b"." if k % 13 == 0 else b"", k, b"x" * (k % 71),
            b"\r" if k % 97 == 0 else b"")
        lines.append(line)
        n += len(line)
        k += 1
    return head + b"".join(lines) + b"the end, no line end"


def on_the_wire(data):
    """What RETR sends after its +OK line (RFC 1939 3)."""
    out = []
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    for line in lines:
        if not line.endswith(b"\r"):
            line += b"\r"
        out.append(b"." + line if line.startswith(b".") else line)
    return b"\n".join(out) + b"\n.\r\n"


def read_answer(sock):
    """The +OK line of a RETR, then its text through the terminator."""
    buf = bytearray()
    while b"\r\n" not in buf:
        buf += sock.recv(65536)
    i = buf.index(b"\r\n")
    first, rest = bytes(buf[:i]), buf[i + 2:]
    while not rest.endswith(b"\r\n.\r\n"):
        chunk = sock.recv(1 << 20)
        if not chunk:
            raise AssertionError("connection closed in the answer")
        rest += chunk
    return first, bytes(rest)


class TestPOP3Large(SuiteTest):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.data = big_message()
        cls.wire = on_the_wire(cls.data)

    def setUp(self):
        put(self.suite, "bob", "1700000000.M1P1Q1.big,S=%d"
            % len(self.data), self.data, "new")

    def tearDown(self):
        empty_maildir(self.suite, "bob")

    def retr_checked(self, p):
        """RETR 1 on a logged-in poplib client; checks the octets."""
        size = int(p._shortcmd("LIST 1").split()[2])
        stuffed = sum(1 for l in self.wire.split(b"\r\n")
                      if l.startswith(b".."))
        self.assertEqual(size, len(self.wire) - 3 - stuffed)
        p.sock.sendall(b"RETR 1\r\n")
        first, text = read_answer(p.sock)
        self.assertTrue(first.startswith(b"+OK"), first)
        self.assertEqual(len(text), len(self.wire))
        self.assertTrue(text == self.wire, "RETR text differs")
        child = self.suite.child_as("pop3d", suite.MAIL_USERS["bob"])
        self.assertIsNotNone(child)
        return child.pid

    def check_hwm(self, pid):
        if sanitizer_build(self.suite.binary("pop3d")):
            return
        hwm = 0
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    hwm = int(line.split()[1])
        self.assertLess(hwm, MAILBOX_HWM_MAX_KB)

    def test_plain(self):
        p = self.suite.pop3("bob", timeout=120)
        try:
            pid = self.retr_checked(p)
            self.check_hwm(pid)
            self.assertTrue(p.quit().startswith(b"+OK"))
        finally:
            p.close()

    def test_stls(self):
        p = poplib.POP3("127.0.0.1", self.suite.pop3_port, timeout=120)
        try:
            stls_login(self.suite, p)
            pid = self.retr_checked(p)
            self.check_hwm(pid)
            self.assertTrue(p.quit().startswith(b"+OK"))
        finally:
            p.close()


class TestPOP3NewAndCur(SuiteTest):

    def tearDown(self):
        empty_maildir(self.suite, "bob")

    def uidls(self, p):
        return [l.split()[1] for l in p.uidl()[1]]

    def test_consistent_across_sessions(self):
        """Some messages in cur/ already, some in new/; those retrieved
        move to cur/, the others stay; every session lists the same
        messages in the same order with the same unique-ids; DELE
        removes from either directory."""
        msgs = fill_maildir(self.suite, "bob", 6, sub="cur")
        msgs += fill_maildir(self.suite, "bob", 6, first=6)
        p = self.suite.pop3("bob")
        first = self.uidls(p)
        self.assertEqual(len(first), 12)
        # Still in new/: nothing is moved at login.
        self.assertEqual(len(self.suite.mail_files("bob")), 6)
        for n in (2, 8, 9):
            self.assertEqual(b"\n".join(p.retr(n)[1]) + b"\n",
                             msgs[n - 1][1])
        self.assertTrue(p.quit().startswith(b"+OK"))
        self.assertEqual(len(self.suite.mail_files("bob")), 4)
        self.assertEqual(len(self.suite.mail_files("bob", "cur")), 8)

        p = self.suite.pop3("bob")
        self.assertEqual(self.uidls(p), first)
        for n in range(1, 13):
            self.assertEqual(b"\n".join(p.retr(n)[1]) + b"\n",
                             msgs[n - 1][1])
        # One from cur/ all along, one moved this session, one moved
        # in the last.
        for n in (1, 8, 12):
            p.dele(n)
        self.assertTrue(p.quit().startswith(b"+OK"))
        self.assertEqual(self.suite.mail_files("bob"), [])

        p = self.suite.pop3("bob")
        want = [u for i, u in enumerate(first) if i + 1 not in (1, 8, 12)]
        self.assertEqual(self.uidls(p), want)
        self.assertTrue(p.quit().startswith(b"+OK"))
        self.assertEqual(len(self.suite.mail_files("bob", "cur")), 9)
        self.assertNotIn("mailbox-died", self.suite.log("pop3d"))
        self.assertNotIn("move-failed", self.suite.log("pop3d"))

