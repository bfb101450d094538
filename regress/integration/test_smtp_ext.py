"""smtpd at scale and its ESMTP extensions (issue 3): a thousand
concurrent idle sessions while a normal one still gets its mail through,
with the engine's memory per idle session measured; the per-client
session limit and no messages-per-session limit by default; CHUNKING with BDAT
(RFC 3030): chunks stored byte-exact, pipelined, under TLS, refused
chunks read whole, bad BDAT lines ending the session."""

import base64
import resource
import sys
import time

import suite
from suite import (SuiteTest, SMTPLine, make_message, bdat_bytes, starttls,
                   connect_from)

HELO = suite.HELO
IDLE_SESSIONS = 1000
# Idle clients come from several loopback addresses, so that the
# per-client session limit (SMTP_SESSIONS_PER_CLIENT_MAX) is not reached.
IDLE_PER_ADDR = 40
# A generous bound: the measured figure is printed by the test.
IDLE_RSS_MAX_BYTES = 64 * 1024
# common/sp_limits.h
SESSIONS_PER_CLIENT_MAX = 50
# The old default "limit messages-per-session", now none (issue 14).
MESSAGES_PER_SESSION_OLD = 100
# A small "limit message-size" for the CHUNKING tests, so that going past
# it takes little data.
CHUNKING_MESSAGE_MAX_BYTES = 64 * 1024


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

    def test_messages_per_session_unlimited_by_default(self):
        # Issue 14: senders that reuse connections (Postfix) send more
        # than the old default of 100 in one session.
        code, text = self.s.mail_after_messages(MESSAGES_PER_SESSION_OLD + 5)
        self.assertEqual(code, 250, text)
        self.assertNotIn("reason=too-many-messages", self.s.log("smtpd"))


class TestChunking(SuiteTest):
    """BDAT (RFC 3030) over raw sockets: neither swaks (20201014) nor
    smtplib speaks it.  A message sent in chunks is stored as DATA would
    store it (CRLF as LF) but with no dot-unstuffing and no end marker;
    a refused chunk is still read whole, so that its octets are never
    taken for commands."""

    suite_args = {"max_message_bytes": CHUNKING_MESSAGE_MAX_BYTES}

    def setUp(self):
        self.s = self.suite

    def open(self, rcpt=b"bob@example.test"):
        """A session after EHLO, MAIL and (unless rcpt is None) RCPT."""
        c = SMTPLine(self.s.smtp_port)
        c.ehlo()
        self.assertEqual(c.cmd(b"MAIL FROM:<alice@example.test>")[0], 250)
        if rcpt is not None:
            self.assertEqual(c.cmd(b"RCPT TO:<" + rcpt + b">")[0], 250)
        return c

    def assertChunkOk(self, reply, size):
        code, text = reply
        self.assertEqual(code, 250, text)
        self.assertEqual(text, "2.0.0 %d octets received" % size)

    def assertQueued(self, reply):
        code, text = reply
        self.assertEqual(code, 250, text)
        self.assertIsNotNone(suite.queue_id(text), text)

    def assertStored(self, mark, msg, user="bob"):
        """The message holding mark is msg, with CRLF stored as LF."""
        self.assertEqual(self.s.delivered_body(mark, user),
                         msg.replace(b"\r\n", b"\n"))

    def assertNotStored(self, mark, user="bob"):
        self.assertEqual(self.s.marked_after_later(mark, user), [])

    def test_ehlo_advertises_chunking(self):
        for port in (self.s.smtp_port, self.s.submission_port):
            with SMTPLine(port) as c:
                lines = c.ehlo().split("\n")
                self.assertIn("CHUNKING", lines)
                self.assertIn("SIZE %d" % CHUNKING_MESSAGE_MAX_BYTES, lines)

    def test_chunks_delivered_byte_exact(self):
        mark = "bdat-chunks-%d" % time.monotonic_ns()
        msg = make_message(mark, [
            "first line", ".a leading dot stays: no dot-unstuffing",
            ".", "", "  blanks  \t", "x" * 998, "last line"])
        # Cut inside a line, between CR and LF, and right after an LF.
        cuts = [0, 37, msg.index(b"\r\n.\r\n") + 1,
                msg.index(b"last line"), len(msg)]
        with self.open() as c:
            for a, b in zip(cuts, cuts[1:]):
                self.assertChunkOk(c.bdat(msg[a:b]), b - a)
            self.assertQueued(c.bdat(b"", last=True))
            self.assertEqual(c.cmd(b"QUIT")[0], 221)
        self.assertStored(mark, msg)

    def test_last_chunk_carries_data(self):
        mark = "bdat-onechunk-%d" % time.monotonic_ns()
        msg = make_message(mark, ["in one chunk with LAST"])
        with self.open() as c:
            self.assertQueued(c.bdat(msg, last=True))
        self.assertStored(mark, msg)

    def test_last_line_without_crlf(self):
        """RFC 3030 leaves the end of the content to the client; a last
        line with no line end is stored with one, as Maildir has it."""
        mark = "bdat-nocrlf-%d" % time.monotonic_ns()
        msg = make_message(mark, ["no line end after this"])[:-2]
        with self.open() as c:
            self.assertChunkOk(c.bdat(msg[:-5]), len(msg) - 5)
            self.assertQueued(c.bdat(msg[-5:], last=True))
        self.assertStored(mark, msg + b"\n")

    def test_chunk_arrives_in_pieces(self):
        mark = "bdat-pieces-%d" % time.monotonic_ns()
        msg = make_message(mark, ["dribbled", "across reads"])
        with self.open() as c:
            c.send(b"BDAT %d LAST\r\n" % len(msg))
            for i in range(0, len(msg), 64):
                c.send(msg[i:i + 64])
                time.sleep(0.02)
            self.assertQueued(c.reply())
        self.assertStored(mark, msg)

    def test_bare_lf_refused_at_last(self):
        mark = "bdat-barelf-%d" % time.monotonic_ns()
        msg = make_message(mark, ["smuggled\n.\nMAIL FROM:<x@y.test>"])
        with self.open() as c:
            self.assertChunkOk(c.bdat(msg), len(msg))
            code, text = c.bdat(b"", last=True)
            self.assertEqual(code, 554, text)
            self.assertIn("5.6.0", text)
        self.assertNotStored(mark)
        self.assertIncomingEmptied()

    def test_chunks_over_tls_on_submission(self):
        """Chunks under TLS, after AUTH: raw reads through libtls, with
        input that waits in the TLS layer rather than in the socket."""
        mark = "bdat-tls-%d" % time.monotonic_ns()
        msg = make_message(mark, ["x" * 900] * 60)
        with SMTPLine(self.s.submission_port) as c:
            c.ehlo()
            starttls(c)
            c.ehlo()
            code, text = c.cmd(b"AUTH PLAIN " + base64.b64encode(
                b"\0alice\0" + suite.PASSWORD.encode()))
            self.assertEqual(code, 235, text)
            half = len(msg) // 2
            c.send(b"MAIL FROM:<alice@example.test>\r\n"
                   b"RCPT TO:<bob@example.test>\r\n"
                   + bdat_bytes(msg[:half]) + bdat_bytes(msg[half:], True))
            self.assertEqual(c.reply()[0], 250)
            self.assertEqual(c.reply()[0], 250)
            self.assertChunkOk(c.reply(), half)
            self.assertQueued(c.reply())
        self.assertIn(b"with ESMTPSA id", self.s.wait_marked(mark))
        self.assertStored(mark, msg)

    def test_pipelined_chunks_replies_in_order(self):
        mark = "bdat-pipe-%d" % time.monotonic_ns()
        msg = make_message(mark, ["line %d" % i for i in range(50)])
        parts = [msg[:10], msg[10:500], msg[500:]]
        with SMTPLine(self.s.smtp_port) as c:
            c.ehlo()
            c.send(b"MAIL FROM:<alice@example.test>\r\n"
                   b"RCPT TO:<bob@example.test>\r\n"
                   b"RCPT TO:<alice@example.test>\r\n"
                   + b"".join(bdat_bytes(p) for p in parts)
                   + bdat_bytes(b"", last=True)
                   + b"NOOP\r\nQUIT\r\n")
            for _ in range(3):
                self.assertEqual(c.reply()[0], 250)
            for p in parts:
                self.assertChunkOk(c.reply(), len(p))
            self.assertQueued(c.reply())
            self.assertEqual(c.reply()[0], 250)
            self.assertEqual(c.reply()[0], 221)
            self.assertTrue(c.closed())
        self.assertStored(mark, msg, "bob")
        self.assertStored(mark, msg, "alice")

    def test_commands_in_a_chunk_are_data(self):
        mark = "bdat-cmds-%d" % time.monotonic_ns()
        msg = make_message(mark, [
            "RSET", "MAIL FROM:<mallory@example.test>",
            "RCPT TO:<alice@example.test>", "DATA", ".", "QUIT", "BDAT 3",
            "abc"])
        with self.open() as c:
            self.assertChunkOk(c.bdat(msg), len(msg))
            # Nothing in it was answered: the next reply is the LAST's.
            self.assertQueued(c.bdat(b"", last=True))
            self.assertEqual(c.cmd(b"NOOP")[0], 250)
        self.assertStored(mark, msg)
        self.assertNotIn("mallory", self.s.log("smtpd"))

    def test_refused_chunk_is_read_whole(self):
        # Past the line buffer and past lineio's input buffer (64 KiB).
        cmds = b"NOOP\r\nRSET\r\nQUIT\r\n" * 4000
        with SMTPLine(self.s.smtp_port) as c:
            code, text = c.bdat(cmds)
            self.assertEqual(code, 503, text)
            c.ehlo()
            code, text = c.bdat(cmds, last=True)
            self.assertEqual(code, 503, text)
            self.assertIn("MAIL", text)
            # The octets were consumed: the next command is answered
            # as itself, and no NOOP, RSET or QUIT reply follows.
            code, text = c.cmd(b"HELP")
            self.assertEqual(code, 214, text)
            self.assertFalse(c.closed(timeout=1))
            self.assertEqual(c.buf, b"")

    def test_bdat_without_rcpt(self):
        mark = "bdat-norcpt-%d" % time.monotonic_ns()
        msg = make_message(mark, ["QUIT"])
        with self.open(rcpt=None) as c:
            code, text = c.bdat(msg, last=True)
            self.assertEqual(code, 554, text)
            # The transaction is still there: a recipient, then the
            # message again.
            self.assertEqual(c.cmd(b"RCPT TO:<bob@example.test>")[0], 250)
            self.assertQueued(c.bdat(msg, last=True))
        self.assertStored(mark, msg)

    def test_data_after_bdat(self):
        mark = "bdat-data-%d" % time.monotonic_ns()
        msg = make_message(mark, ["body"])
        with self.open() as c:
            self.assertChunkOk(c.bdat(msg[:20]), 20)
            code, text = c.cmd(b"DATA")
            self.assertEqual(code, 503, text)
            # The refusal does not end the transaction.
            self.assertQueued(c.bdat(msg[20:], last=True))
            # A new transaction may use DATA again.
            c.cmd(b"MAIL FROM:<alice@example.test>")
            c.cmd(b"RCPT TO:<bob@example.test>")
            self.assertEqual(c.cmd(b"DATA")[0], 354)
            self.assertEqual(c.cmd(b"Subject: data-%s\r\n\r\nx\r\n."
                                   % mark.encode())[0], 250)
        self.assertStored(mark, msg)
        self.s.wait_marked("data-" + mark)

    def test_bad_syntax_closes(self):
        for arg in (b"x", b"-1", b"10 LASTX", b"10 20",
                    b"99999999999999999999999"):
            with self.open() as c:
                code, text = c.cmd(b"BDAT " + arg)
                self.assertEqual(code, 501, (arg, text))
                self.assertTrue(c.closed(), arg)

    def test_refused_bdat_line_closes(self):
        """A BDAT line refused before its argument is read (too long, a
        bare LF or CR, a NUL, a tab) leaves the chunk's end unknown, as
        bad syntax does: the session ends rather than read the chunk as
        commands."""
        for line in (b"BDAT 6\n", b"BDAT 6\r\r\n", b"BDAT 6\0\r\n",
                     b"BDAT\t6\r\n",
                     b"BDAT 6 LAST" + b" " * 600 + b"\r\n",
                     b"bdat 000000000000000000000000000000000000000000"
                     + b"0" * 600 + b"6\r\n"):
            with self.open() as c:
                c.send(line + b"NOOP\r\n")
                code, text = c.reply()
                self.assertEqual(code, 500, (line[:20], text))
                self.assertTrue(c.closed(), line[:20])
                self.assertNotIn(b"250", c.buf, line[:20])

    def test_too_big_refused(self):
        mark = "bdat-big-%d" % time.monotonic_ns()
        line = b"y" * 78 + b"\r\n"
        body = line * (CHUNKING_MESSAGE_MAX_BYTES // len(line) // 2 + 1)
        msg = make_message(mark, []) + body
        with self.open() as c:
            # Each chunk is read and answered; the message is refused at
            # its end (RFC 3030 2: 552 for a message too big).
            self.assertChunkOk(c.bdat(msg), len(msg))
            self.assertChunkOk(c.bdat(body), len(body))
            code, text = c.bdat(body, last=True)
            self.assertEqual(code, 552, text)
            self.assertIn("5.3.4", text)
            # The session goes on, with the transaction gone.
            self.assertEqual(c.cmd(b"RCPT TO:<bob@example.test>")[0], 503)
        self.assertIn("reason=too-big", self.s.log("smtpd"))
        self.assertNotStored(mark)
        self.assertIncomingEmptied()

    def test_rset_discards(self):
        mark = "bdat-rset-%d" % time.monotonic_ns()
        msg = make_message(mark, ["discarded"])
        with self.open() as c:
            self.assertChunkOk(c.bdat(msg), len(msg))
            self.assertEqual(c.cmd(b"RSET")[0], 250)
            code, text = c.bdat(b"", last=True)
            self.assertEqual(code, 503, text)
        self.assertNotStored(mark)
        self.assertIncomingEmptied()

    def assertIncomingEmptied(self):
        suite.wait_for(lambda: not self.s.spool_entries("incoming"), 20,
                       what="the spool's incoming/ to be emptied")

    def test_close_inside_a_chunk(self):
        mark = "bdat-cut-%d" % time.monotonic_ns()
        msg = make_message(mark, ["never finished"])
        with self.open() as c:
            self.assertChunkOk(c.bdat(msg), len(msg))
            c.send(b"BDAT 100 LAST\r\nonly ten..")
        self.assertNotStored(mark)
        self.assertIncomingEmptied()
