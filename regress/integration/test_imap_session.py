"""The IMAP mailbox process (issue 11): the commands after login, driven
by python's imaplib against the real daemons (imapd's login engine
hands the session to imapd-mailbox, the mail user's process).  Every
command of RFC 3501's authenticated and selected states, UIDPLUS,
MOVE, ENABLE/CONDSTORE, NAMESPACE, UNSELECT and IDLE, with the exact
answers checked."""

import imaplib
import os
import re
import socket
import time
import unittest

import suite
from suite import SuiteTest, wait_for

MSG1 = (b"From: Alice <alice@example.test>\r\n"
        b"To: bob@example.test\r\n"
        b"Subject: first message\r\n"
        b"Date: Wed, 02 Dec 2026 10:00:00 +0000\r\n"
        b"Message-ID: <m1@example.test>\r\n"
        b"\r\n"
        b"Hello Bob,\r\nthis is the first.\r\n")
MSG2 = (b"From: Carol <carol@example.test>\r\n"
        b"To: bob@example.test\r\n"
        b"Subject: second\r\n"
        b"\r\n"
        b"second body\r\n")


def need_imapd(cls):
    if "imapd" not in suite.DAEMONS:
        return unittest.skip("imapd-mailbox is not built")(cls)
    return cls


def reset_home(s, user="bob"):
    """An empty Maildir for user, and nothing else in the mail home."""
    home = s.home(user)
    # A mailbox process of the test before may still be ending.
    wait_for(lambda: not [p for p in s.children_of("imapd")
                          if p.role == "imapd-user"], 10,
             what="the mailbox processes to end")
    # Moved aside, not removed: 100,000 files take minutes to unlink
    # on a busy disk; the suite's root, and so these, go at its end.
    trash = s.path("trash-%d" % time.monotonic_ns())
    os.mkdir(trash, 0o700)
    for name in os.listdir(home):
        os.rename(os.path.join(home, name), os.path.join(trash, name))
    s.make_maildir(user)


class IMAPRaw:
    """A raw client: exact lines, for the answers imaplib hides."""

    def __init__(self, port, user="bob", timeout=30):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout)
        self.buf = b""
        self.n = 0
        self.greeting = self.line()
        # Just after the suite starts, the engine may not reach authd
        # yet: it says so with NO [UNAVAILABLE], and is asked again.
        for i in range(100):
            lines, ok = self.cmd(b"LOGIN %s %s" % (
                user.encode(), suite.PASSWORD.encode()))
            if not ok.startswith(b"NO [UNAVAILABLE]"):
                break
            time.sleep(0.1)
        assert ok.startswith(b"OK"), (lines, ok)
        self.login = ok

    def line(self):
        while b"\r\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("closed; had %r" % self.buf)
            self.buf += data
        l, self.buf = self.buf.split(b"\r\n", 1)
        return l

    def read(self, n):
        buf = bytearray(self.buf)
        while len(buf) < n:
            data = self.sock.recv(1024 * 1024)
            if not data:
                raise EOFError("closed")
            buf += data
        d, self.buf = bytes(buf[:n]), bytes(buf[n:])
        return d

    def send(self, data):
        self.sock.sendall(data)

    def cmd(self, text):
        """Sends "tag text": the untagged lines (literals inlined) and
        the tagged answer without its tag."""
        self.n += 1
        tag = b"t%d" % self.n
        self.send(tag + b" " + text + b"\r\n")
        return self.until(tag)

    def until(self, tag):
        lines = []
        while True:
            l = self.line()
            m = re.search(rb"\{(\d+)\}$", l)
            while m:
                l += b"\r\n" + self.read(int(m.group(1)))
                more = self.line()
                l += more
                m = re.search(rb"\{(\d+)\}$", more)
            if l.startswith(tag + b" "):
                return lines, l[len(tag) + 1:]
            lines.append(l)

    def close(self):
        self.sock.close()


@need_imapd
class TestIMAPSession(SuiteTest):

    def setUp(self):
        reset_home(self.suite)

    def raw(self):
        c = IMAPRaw(self.suite.imap_port)
        self.addCleanup(c.close)
        return c

    def test_login_capability(self):
        """The login's tagged OK comes from the mailbox process, with
        its CAPABILITY list; CAPABILITY says the same."""
        c = self.raw()
        m = re.match(rb"OK \[CAPABILITY ([^\]]*)\] Logged in", c.login)
        self.assertTrue(m, c.login)
        caps = m.group(1).split()
        self.assertIn(b"IMAP4rev1", caps)
        lines, ok = c.cmd(b"CAPABILITY")
        self.assertEqual(lines, [b"* CAPABILITY " + m.group(1)])
        self.assertTrue(ok.startswith(b"OK"))

    def test_select_empty_inbox(self):
        c = self.raw()
        lines, ok = c.cmd(b"SELECT INBOX")
        self.assertIn(b"* 0 EXISTS", lines)
        self.assertIn(b"* 0 RECENT", lines)
        self.assertIn(b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen "
                      b"\\Draft)", lines)
        self.assertTrue(any(re.match(rb"\* OK \[UIDVALIDITY \d+\]", l)
                            for l in lines), lines)
        self.assertTrue(any(l.startswith(b"* OK [UIDNEXT 1]")
                            for l in lines), lines)
        self.assertTrue(ok.startswith(b"OK [READ-WRITE]"), ok)

    def test_append_fetch_roundtrip(self):
        """An APPENDed message reads back byte for byte, with
        APPENDUID, RFC822.SIZE and FLAGS."""
        c = self.suite.imap("bob")
        self.addCleanup(c.logout)
        typ, data = c.append("INBOX", "(\\Seen)", None, MSG1)
        self.assertEqual(typ, "OK")
        self.assertRegex(data[0].decode(), r"^\[APPENDUID \d+ 1\]")
        typ, data = c.select("INBOX")
        self.assertEqual(data, [b"1"])
        typ, data = c.fetch("1", "(FLAGS RFC822.SIZE BODY.PEEK[])")
        self.assertEqual(typ, "OK")
        self.assertRegex(data[0][0], rb"FLAGS \(\\Seen( \\Recent)?\)")
        self.assertIn(b"RFC822.SIZE %d" % len(MSG1), data[0][0])
        self.assertEqual(data[0][1], MSG1)

    def fill(self, c, n=3, folder=b"INBOX"):
        """n messages APPENDed to folder through c."""
        for i in range(n):
            body = MSG1 if i % 2 == 0 else MSG2
            c.send(b"a%d APPEND %s {%d}\r\n" % (i, folder, len(body)))
            self.assertTrue(c.line().startswith(b"+ "))
            c.send(body + b"\r\n")
            lines, ok = c.until(b"a%d" % i)
            self.assertTrue(ok.startswith(b"OK [APPENDUID "), ok)

    def test_list_special_use(self):
        """The special-use folders exist from the first login, with
        their attributes (RFC 6154), and LIST "" "" gives the
        separator."""
        c = self.raw()
        lines, ok = c.cmd(b'LIST "" "*"')
        self.assertTrue(ok.startswith(b"OK"), ok)
        want = {b"INBOX": None, b"Drafts": b"\\Drafts",
                b"Sent": b"\\Sent", b"Trash": b"\\Trash",
                b"Junk": b"\\Junk", b"Archive": b"\\Archive"}
        got = {}
        for l in lines:
            m = re.match(rb'\* LIST \(([^)]*)\) "/" (.*)$', l)
            self.assertTrue(m, l)
            got[m.group(2).strip(b'"')] = m.group(1).split()
        self.assertEqual(set(got), set(want))
        for name, use in want.items():
            if use is not None:
                self.assertIn(use, got[name])
            self.assertIn(b"\\HasNoChildren", got[name])
        lines, ok = c.cmd(b'LIST "" ""')
        self.assertEqual(lines, [b'* LIST (\\Noselect) "/" ""'])

    def test_folders(self):
        """CREATE, hierarchy, RENAME, DELETE, SUBSCRIBE and LSUB."""
        c = self.raw()
        self.assertTrue(c.cmd(b"CREATE Work/2026")[1].startswith(b"OK"))
        lines, ok = c.cmd(b'LIST "" "Work*"')
        self.assertEqual(sorted(lines), [
            b'* LIST (\\HasChildren) "/" Work',
            b'* LIST (\\HasNoChildren) "/" Work/2026'])
        lines, ok = c.cmd(b'LIST "" "%"')
        self.assertNotIn(b'* LIST (\\HasNoChildren) "/" Work/2026', lines)
        lines, ok = c.cmd(b"CREATE Work")
        self.assertTrue(ok.startswith(b"NO [ALREADYEXISTS]"), ok)
        self.assertTrue(c.cmd(b"RENAME Work Play")[1].startswith(b"OK"))
        lines, ok = c.cmd(b'LIST "" "Play/*"')
        self.assertEqual(lines, [b'* LIST (\\HasNoChildren) "/" Play/2026'])
        self.assertTrue(c.cmd(b"SUBSCRIBE Play/2026")[1].startswith(b"OK"))
        lines, ok = c.cmd(b'LSUB "" "Play/*"')
        self.assertEqual(lines, [b'* LSUB () "/" Play/2026'])
        self.assertTrue(c.cmd(b"DELETE Play/2026")[1].startswith(b"OK"))
        lines, ok = c.cmd(b'LIST "" "Play/*"')
        self.assertEqual(lines, [])
        lines, ok = c.cmd(b"DELETE INBOX")
        self.assertTrue(ok.startswith(b"NO"), ok)
        lines, ok = c.cmd(b"SELECT Nowhere")
        self.assertTrue(ok.startswith(b"NO [NONEXISTENT]"), ok)

    def test_status(self):
        c = self.raw()
        self.fill(c, 3)
        lines, ok = c.cmd(b"STATUS INBOX (MESSAGES UIDNEXT UNSEEN SIZE)")
        self.assertEqual(lines, [b"* STATUS INBOX (MESSAGES 3 UIDNEXT 4 "
                                 b"UNSEEN 3 SIZE %d)" %
                                 (2 * len(MSG1) + len(MSG2))])
        lines, ok = c.cmd(b"STATUS INBOX (BOGUS)")
        self.assertTrue(ok.startswith(b"BAD"), ok)

    def test_store_expunge(self):
        """STORE answers FETCH FLAGS (none with .SILENT); EXPUNGE
        sends one EXPUNGE per message, numbered as RFC 3501 6.4.3
        shows."""
        c = self.raw()
        self.fill(c, 4)
        c.cmd(b"SELECT INBOX")
        lines, ok = c.cmd(b"STORE 1:2 +FLAGS (\\Deleted)")
        self.assertEqual(lines, [
            b"* 1 FETCH (FLAGS (\\Deleted \\Recent))",
            b"* 2 FETCH (FLAGS (\\Deleted \\Recent))"])
        lines, ok = c.cmd(b"STORE 4 +FLAGS.SILENT (\\Deleted \\Seen)")
        self.assertEqual(lines, [])
        lines, ok = c.cmd(b"UID STORE 4 -FLAGS (\\Seen)")
        self.assertEqual(lines, [
            b"* 4 FETCH (FLAGS (\\Deleted \\Recent) UID 4)"])
        lines, ok = c.cmd(b"EXPUNGE")
        self.assertEqual(lines, [b"* 1 EXPUNGE", b"* 1 EXPUNGE",
                                 b"* 2 EXPUNGE"])
        self.assertTrue(ok.startswith(b"OK"), ok)
        lines, ok = c.cmd(b"UID FETCH 1:* (FLAGS)")
        self.assertEqual(lines, [b"* 1 FETCH (UID 3 FLAGS (\\Recent))"])

    def test_uid_expunge_copy_move(self):
        """RFC 4315 UID EXPUNGE and COPYUID, RFC 6851 MOVE."""
        c = self.raw()
        self.fill(c, 3)
        c.cmd(b"SELECT INBOX")
        c.cmd(b"STORE 1:3 +FLAGS.SILENT (\\Deleted)")
        lines, ok = c.cmd(b"UID EXPUNGE 2")
        self.assertEqual(lines, [b"* 2 EXPUNGE"])
        lines, ok = c.cmd(b"COPY 1:2 Archive")
        m = re.match(rb"OK \[COPYUID (\d+) 1,3 1:2\] ", ok)
        self.assertTrue(m, ok)
        lines, ok = c.cmd(b"COPY 1 Nowhere")
        self.assertTrue(ok.startswith(b"NO [TRYCREATE]"), ok)
        lines, ok = c.cmd(b"UID MOVE 3 Trash")
        self.assertEqual(len(lines), 2, lines)
        self.assertRegex(lines[0], rb"^\* OK \[COPYUID \d+ 3 1\] ")
        self.assertEqual(lines[1], b"* 2 EXPUNGE")
        lines, ok = c.cmd(b"STATUS Trash (MESSAGES)")
        self.assertEqual(lines, [b"* STATUS Trash (MESSAGES 1)"])

    def test_fetch_items(self):
        """ENVELOPE, BODYSTRUCTURE, HEADER.FIELDS, partials, and BODY[]
        (not PEEK) setting \\Seen."""
        c = self.raw()
        self.fill(c, 1)
        c.cmd(b"SELECT INBOX")
        lines, ok = c.cmd(b"FETCH 1 (ENVELOPE)")
        self.assertEqual(lines, [
            b'* 1 FETCH (ENVELOPE ("Wed, 02 Dec 2026 10:00:00 +0000" '
            b'"first message" (("Alice" NIL "alice" "example.test")) '
            b'(("Alice" NIL "alice" "example.test")) '
            b'(("Alice" NIL "alice" "example.test")) '
            b'((NIL NIL "bob" "example.test")) NIL NIL NIL '
            b'"<m1@example.test>"))'])
        lines, ok = c.cmd(b"FETCH 1 (BODYSTRUCTURE)")
        self.assertEqual(lines, [
            b'* 1 FETCH (BODYSTRUCTURE ("TEXT" "PLAIN" ("CHARSET" '
            b'"US-ASCII") NIL NIL "7BIT" 32 2 NIL NIL NIL NIL))'])
        lines, ok = c.cmd(b"FETCH 1 (BODY.PEEK[HEADER.FIELDS (Subject)])")
        self.assertEqual(lines, [
            b"* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {26}\r\n"
            b"Subject: first message\r\n\r\n)"])
        lines, ok = c.cmd(b"FETCH 1 (BODY.PEEK[TEXT]<6.3>)")
        self.assertEqual(lines, [b"* 1 FETCH (BODY[TEXT]<6> {3}\r\nBob)"])
        lines, ok = c.cmd(b"FETCH 1 (FLAGS)")
        self.assertEqual(lines, [b"* 1 FETCH (FLAGS (\\Recent))"])
        lines, ok = c.cmd(b"FETCH 1 (BODY[TEXT])")
        self.assertEqual(lines, [
            b"* 1 FETCH (BODY[TEXT] {32}\r\n"
            b"Hello Bob,\r\nthis is the first.\r\n "
            b"FLAGS (\\Seen \\Recent))"])
        lines, ok = c.cmd(b"FETCH 1 (RFC822.HEADER)")
        self.assertEqual(lines[0].split(b"\r\n", 1)[0],
                         b"* 1 FETCH (RFC822.HEADER {%d}" %
                         (len(MSG1) - 32))
        lines, ok = c.cmd(b"FETCH 2 FLAGS")
        self.assertTrue(ok.startswith(b"BAD"), ok)

    def test_examine_readonly(self):
        c = self.raw()
        self.fill(c, 1)
        lines, ok = c.cmd(b"EXAMINE INBOX")
        self.assertTrue(ok.startswith(b"OK [READ-ONLY]"), ok)
        self.assertIn(b"* OK [PERMANENTFLAGS ()] No permanent flags "
                      b"permitted", lines)
        lines, ok = c.cmd(b"STORE 1 +FLAGS (\\Seen)")
        self.assertTrue(ok.startswith(b"NO"), ok)
        lines, ok = c.cmd(b"FETCH 1 (BODY[])")
        self.assertNotIn(b"\\Seen", lines[0])

    def test_close_unselect(self):
        """CLOSE expunges silently; UNSELECT does not expunge."""
        c = self.raw()
        self.fill(c, 2)
        c.cmd(b"SELECT INBOX")
        c.cmd(b"STORE 1 +FLAGS.SILENT (\\Deleted)")
        lines, ok = c.cmd(b"UNSELECT")
        self.assertEqual((lines, ok[:2]), ([], b"OK"))
        c.cmd(b"SELECT INBOX")
        lines, ok = c.cmd(b"CLOSE")
        self.assertEqual((lines, ok[:2]), ([], b"OK"))
        lines, ok = c.cmd(b"FETCH 1 FLAGS")
        self.assertTrue(ok.startswith(b"BAD"), ok)
        lines, ok = c.cmd(b"STATUS INBOX (MESSAGES)")
        self.assertEqual(lines, [b"* STATUS INBOX (MESSAGES 1)"])

    def test_namespace_enable_id(self):
        c = self.raw()
        lines, ok = c.cmd(b"NAMESPACE")
        self.assertEqual(lines, [b'* NAMESPACE (("" "/")) NIL NIL'])
        lines, ok = c.cmd(b"ENABLE CONDSTORE X-UNKNOWN")
        self.assertEqual(lines, [b"* ENABLED CONDSTORE"])
        lines, ok = c.cmd(b"ENABLE CONDSTORE")
        self.assertEqual(lines, [b"* ENABLED"])
        lines, ok = c.cmd(b'ID ("name" "test")')
        self.assertEqual(lines, [b'* ID ("name" "sallyport")'])

    def test_two_sessions(self):
        """A second session's APPEND, STORE and EXPUNGE reach the first
        at its next command; EXPUNGE waits past FETCH (RFC 3501
        7.4.1) and comes at NOOP."""
        a, b = self.raw(), self.raw()
        self.fill(a, 2)
        a.cmd(b"SELECT INBOX")
        b.cmd(b"SELECT INBOX")
        self.fill(b, 1)
        lines, ok = a.cmd(b"NOOP")
        self.assertIn(b"* 3 EXISTS", lines)
        b.cmd(b"STORE 1 +FLAGS (\\Flagged \\Deleted)")
        b.cmd(b"EXPUNGE")
        lines, ok = a.cmd(b"FETCH 2 (UID)")
        self.assertNotIn(b"* 1 EXPUNGE", lines)
        self.assertIn(b"* 2 FETCH (UID 2)", lines)
        lines, ok = a.cmd(b"NOOP")
        self.assertEqual(lines, [b"* 1 EXPUNGE"])

    def test_idle(self):
        """IDLE pushes another session's APPEND at once (inotify), and
        ends with DONE."""
        a, b = self.raw(), self.raw()
        a.cmd(b"SELECT INBOX")
        a.send(b"i1 IDLE\r\n")
        self.assertTrue(a.line().startswith(b"+ "))
        t0 = time.monotonic()
        self.fill(b, 1)
        self.assertEqual(a.line(), b"* 1 EXISTS")
        self.assertIn(a.line(), (b"* 1 RECENT",))
        self.assertLess(time.monotonic() - t0, 5)
        b.cmd(b"SELECT INBOX")
        b.cmd(b"STORE 1 +FLAGS.SILENT (\\Flagged \\Deleted)")
        self.assertEqual(a.line(), b"* 1 FETCH (FLAGS (\\Flagged "
                         b"\\Deleted \\Recent))")
        b.cmd(b"EXPUNGE")
        self.assertEqual(a.line(), b"* 1 EXPUNGE")
        a.send(b"DONE\r\n")
        lines, ok = a.until(b"i1")
        self.assertTrue(ok.startswith(b"OK"), ok)
        lines, ok = a.cmd(b"NOOP")
        self.assertTrue(ok.startswith(b"OK"), ok)

    def test_search(self):
        """SEARCH and UID SEARCH over flags, headers and decoded text;
        ESEARCH (RFC 4731) with RETURN; a bad charset is NO."""
        c = self.raw()
        self.fill(c, 4)
        c.cmd(b"SELECT INBOX")
        c.cmd(b"STORE 2 +FLAGS.SILENT (\\Flagged)")
        lines, ok = c.cmd(b"SEARCH FLAGGED")
        self.assertEqual(lines, [b"* SEARCH 2"])
        lines, ok = c.cmd(b"SEARCH FROM carol")
        self.assertEqual(lines, [b"* SEARCH 2 4"])
        lines, ok = c.cmd(b'SEARCH BODY "the FIRST"')
        self.assertEqual(lines, [b"* SEARCH 1 3"])
        lines, ok = c.cmd(b"UID SEARCH NOT FLAGGED SUBJECT second")
        self.assertEqual(lines, [b"* SEARCH 4"])
        lines, ok = c.cmd(b"SEARCH RETURN (MIN MAX COUNT) ALL")
        self.assertEqual(lines, [b'* ESEARCH (TAG "t%d") MIN 1 MAX 4 '
                                 b'COUNT 4' % c.n])
        lines, ok = c.cmd(b"SEARCH CHARSET KOI8-X ALL")
        self.assertTrue(ok.startswith(b"NO [BADCHARSET"), ok)
        lines, ok = c.cmd(b"SEARCH FOO")
        self.assertTrue(ok.startswith(b"BAD"), ok)

    def test_imaplib_every_command(self):
        """python's imaplib, one call per command it has, each answered
        OK (or NO where the command must fail) and parsed by it."""
        c = self.suite.imap("bob")
        ok = lambda r: self.assertEqual(r[0], "OK", r)
        typ, data = c.capability()
        ok((typ, data))
        # imaplib keeps the list from before login; a client takes the
        # new one (RFC 3501 6.2.2 allows it to change).
        c.capabilities = tuple(data[0].decode().upper().split())
        self.assertIn("ENABLE", c.capabilities)
        ok(c.noop())
        ok(c.namespace())
        ok(c.enable("CONDSTORE"))
        ok(c.create("Projects/Alpha"))
        ok(c.subscribe("Projects/Alpha"))
        typ, data = c.lsub('""', "Projects/*")
        self.assertEqual(data, [b'() "/" Projects/Alpha'])
        ok(c.unsubscribe("Projects/Alpha"))
        ok(c.rename("Projects/Alpha", "Projects/Beta"))
        typ, data = c.list('""', "Projects/*")
        self.assertEqual(data, [b'(\\HasNoChildren) "/" Projects/Beta'])
        ok(c.append("Projects/Beta", "(\\Flagged)",
                    imaplib.Time2Internaldate(1700000000), MSG2))
        typ, data = c.status("Projects/Beta", "(MESSAGES UIDNEXT)")
        self.assertEqual(data, [b"Projects/Beta (MESSAGES 1 UIDNEXT 2)"])
        typ, data = c.select("Projects/Beta", readonly=True)   # EXAMINE
        self.assertEqual(data, [b"1"])
        typ, data = c.fetch("1", "(INTERNALDATE FLAGS)")
        self.assertEqual(imaplib.Internaldate2tuple(data[0]),
                         time.localtime(1700000000))
        ok(c.unselect())
        ok(c.select("Projects/Beta"))
        ok(c.check())
        typ, data = c.search(None, "FLAGGED")
        self.assertEqual(data, [b"1"])
        typ, data = c.store("1", "+FLAGS", "(\\Seen)")
        self.assertIn(b"\\Seen", data[0])
        typ, data = c.copy("1", "INBOX")
        self.assertEqual(typ, "OK")
        typ, data = c.uid("FETCH", "1", "(UID RFC822.SIZE)")
        self.assertEqual(data, [b"1 (UID 1 RFC822.SIZE %d)" % len(MSG2)])
        typ, data = c.uid("SEARCH", None, "ALL")
        self.assertEqual(data, [b"1"])
        ok(c.uid("STORE", "1", "+FLAGS", "(\\Deleted)"))
        ok(c.uid("COPY", "1", "Trash"))
        ok(c.uid("MOVE", "1", "Archive"))
        # imaplib hands the MOVE's "* 1 EXPUNGE" to this call.
        typ, data = c.expunge()
        self.assertEqual((typ, data), ("OK", [b"1"]))
        ok(c.close())
        typ, data = c.delete("Projects/Beta")
        self.assertEqual(typ, "OK")
        typ, data = c.delete("Projects/Beta")
        self.assertEqual(typ, "NO")
        typ, data = c.select("INBOX", readonly=True)
        self.assertEqual(data, [b"1"])
        typ, data = c.fetch("1", "(BODY.PEEK[])")
        self.assertEqual(data[0][1], MSG2)
        self.assertEqual(c.logout()[0], "BYE")

    def test_compress(self):
        """COMPRESS=DEFLATE (RFC 4978): after the plain OK both ways are
        raw deflate; a FETCH of a message and LOGOUT's BYE come through
        whole; a second COMPRESS is refused."""
        import zlib
        c = self.raw()
        self.fill(c, 1)
        lines, ok = c.cmd(b"COMPRESS DEFLATE")
        self.assertEqual((lines, ok), ([], b"OK DEFLATE active"))
        self.assertEqual(c.buf, b"")
        comp = zlib.compressobj(6, zlib.DEFLATED, -15)
        dec = zlib.decompressobj(-15)

        def send(data):
            c.sock.sendall(comp.compress(data) +
                           comp.flush(zlib.Z_SYNC_FLUSH))

        def until(tag):
            out = b""
            while not re.search(rb"(^|\r\n)" + tag + rb" [^\r]*\r\n$", out):
                data = c.sock.recv(65536)
                if not data:
                    raise EOFError(out)
                out += dec.decompress(data)
            return out
        send(b"z1 SELECT INBOX\r\n")
        self.assertIn(b"* 1 EXISTS\r\n", until(b"z1"))
        send(b"z2 FETCH 1 (BODY.PEEK[])\r\n")
        out = until(b"z2")
        self.assertIn(b"{%d}\r\n%s)\r\n" % (len(MSG1), MSG1), out)
        send(b"z3 COMPRESS DEFLATE\r\n")
        self.assertIn(b"z3 NO [COMPRESSIONACTIVE]", until(b"z3"))
        send(b"z4 LOGOUT\r\n")
        out = until(b"z4")
        self.assertIn(b"* BYE ", out)
        self.assertTrue(out.endswith(b"z4 OK LOGOUT completed\r\n"), out)

    def test_logout(self):
        c = self.raw()
        lines, ok = c.cmd(b"LOGOUT")
        self.assertEqual(lines, [b"* BYE sallyport IMAP server signing off"])
        self.assertTrue(ok.startswith(b"OK"), ok)
        self.assertRaises(EOFError, c.line)


if __name__ == "__main__":
    unittest.main()
