"""The RFCs' own examples (issue 11), replayed against imapd-mailbox
with the answers checked line by line: RFC 3501 section 8's session,
RFC 4315 (UIDPLUS) 3 and 2.1, RFC 6851 (MOVE) 4.3 and RFC 7162
(CONDSTORE) 3.1.  Numbers a server picks (UIDVALIDITY, modseqs) are
matched as numbers; everything else must be exact."""

import re
import unittest

from suite import SuiteTest
from test_imap_session import IMAPRaw, need_imapd, reset_home

# RFC 3501 8's message 12: its envelope, as the RFC prints it but for
# the space between two addresses, which the formal syntax (9, env-cc =
# "(" 1*address ")") does not have and the example does.
RFC3501_MSG12 = (
    b"Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\r\n"
    b"From: Terry Gray <gray@cac.washington.edu>\r\n"
    b"Subject: IMAP4rev1 WG mtg summary and minutes\r\n"
    b"To: imap@cac.washington.edu\r\n"
    b"cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>\r\n"
    b"Message-Id: <B27397-0100000@cac.washington.edu>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n"
    b"\r\n" + b"".join(b"line %02d of the minutes\r\n" % i
                       for i in range(92)))
RFC3501_ENVELOPE = (
    b'ENVELOPE ("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" '
    b'"IMAP4rev1 WG mtg summary and minutes" '
    b'(("Terry Gray" NIL "gray" "cac.washington.edu")) '
    b'(("Terry Gray" NIL "gray" "cac.washington.edu")) '
    b'(("Terry Gray" NIL "gray" "cac.washington.edu")) '
    b'((NIL NIL "imap" "cac.washington.edu")) '
    b'((NIL NIL "minutes" "CNRI.Reston.VA.US")'
    b'("John Klensin" NIL "KLENSIN" "MIT.EDU")) NIL NIL '
    b'"<B27397-0100000@cac.washington.edu>")')
SMALL = b"Subject: x\r\n\r\nbody\r\n"


@need_imapd
class TestIMAPRFC(SuiteTest):

    def setUp(self):
        reset_home(self.suite)

    def raw(self):
        c = IMAPRaw(self.suite.imap_port)
        self.addCleanup(c.close)
        return c

    def append(self, c, folder, msg, flags=b"", date=None):
        self.n_app = getattr(self, "n_app", 0) + 1
        tag = b"ap%d" % self.n_app
        c.send(b"%s APPEND %s %s%s{%d}\r\n" % (
            tag, folder, flags + b" " if flags else b"",
            b'"' + date + b'" ' if date else b"", len(msg)))
        self.assertTrue(c.line().startswith(b"+"))
        c.send(msg + b"\r\n")
        lines, ok = c.until(tag)
        m = re.match(rb"OK \[APPENDUID (\d+) (\d+)\] ", ok)
        self.assertTrue(m, ok)
        return int(m.group(1)), int(m.group(2))

    def claim_recent(self, c):
        """c, which has appended, selects and logs out: what it saw is
        no longer \\Recent for the next session (RFC 3501 2.3.2)."""
        c.cmd(b"SELECT INBOX")
        c.cmd(b"LOGOUT")
        c.close()

    def test_rfc3501_section8(self):
        """RFC 3501 8: SELECT of an 18-message INBOX whose 17th is the
        first unseen, FETCH 12 FULL, BODY[HEADER], STORE +FLAGS
        \\Deleted, LOGOUT."""
        c = self.raw()
        for i in range(1, 19):
            msg = RFC3501_MSG12 if i == 12 else SMALL
            if i == 17:
                self.claim_recent(c)
                c = self.raw()
            self.append(c, b"INBOX", msg,
                        b"(\\Seen)" if i <= 16 else b"",
                        b"17-Jul-1996 02:44:25 -0700" if i == 12 else None)
        lines, ok = c.cmd(b"select inbox")
        self.assertIn(b"* 18 EXISTS", lines)
        self.assertIn(b"* 2 RECENT", lines)
        self.assertIn(b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen "
                      b"\\Draft)", lines)
        self.assertIn(b"* OK [UNSEEN 17] First unseen", lines)
        self.assertTrue(any(re.match(rb"\* OK \[UIDVALIDITY \d+\]", l)
                            for l in lines))
        self.assertEqual(ok, b"OK [READ-WRITE] SELECT completed")
        body = len(RFC3501_MSG12) - RFC3501_MSG12.index(b"\r\n\r\n") - 4
        lines, ok = c.cmd(b"fetch 12 full")
        self.assertEqual(lines, [
            b'* 12 FETCH (FLAGS (\\Seen) INTERNALDATE '
            b'"17-Jul-1996 09:44:25 +0000" RFC822.SIZE %d %s '
            b'BODY ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" '
            b'%d 92))' % (len(RFC3501_MSG12), RFC3501_ENVELOPE, body)])
        self.assertEqual(ok, b"OK FETCH completed")
        hdr = RFC3501_MSG12[:RFC3501_MSG12.index(b"\r\n\r\n") + 4]
        lines, ok = c.cmd(b"fetch 12 body[header]")
        self.assertEqual(lines, [b"* 12 FETCH (BODY[HEADER] {%d}\r\n%s)" %
                                 (len(hdr), hdr)])
        lines, ok = c.cmd(b"store 12 +flags \\deleted")
        self.assertEqual(lines, [b"* 12 FETCH (FLAGS (\\Deleted \\Seen))"])
        self.assertEqual(ok, b"OK STORE completed")
        lines, ok = c.cmd(b"logout")
        self.assertEqual(lines, [b"* BYE sallyport IMAP server signing off"])
        self.assertEqual(ok, b"OK LOGOUT completed")

    def test_rfc4315(self):
        """RFC 4315 3: APPENDUID, COPYUID with UID ranges in the
        source's order, a UID COPY of nothing; 2.1: UID EXPUNGE
        removes only the \\Deleted messages it names."""
        c = self.raw()
        c.cmd(b"CREATE saved-messages")
        c.cmd(b"CREATE meeting")
        v, u = self.append(c, b"saved-messages", SMALL, b"(\\Seen)")
        self.assertEqual(u, 1)
        for i in range(4):
            self.append(c, b"saved-messages", SMALL)
        c.cmd(b"SELECT saved-messages")
        lines, ok = c.cmd(b"COPY 2:4 meeting")
        m = re.match(rb"OK \[COPYUID (\d+) 2:4 1:3\] COPY completed$", ok)
        self.assertTrue(m, ok)
        lines, ok = c.cmd(b"UID COPY 305:310 meeting")
        self.assertEqual(ok, b"OK COPY completed")
        c.cmd(b"STORE 1:5 +FLAGS.SILENT (\\Deleted)")
        c.cmd(b"STORE 4 -FLAGS.SILENT (\\Deleted)")
        lines, ok = c.cmd(b"UID EXPUNGE 3:5")
        self.assertEqual(lines, [b"* 3 EXPUNGE", b"* 4 EXPUNGE"])
        self.assertEqual(ok, b"OK EXPUNGE completed")
        lines, ok = c.cmd(b"UID SEARCH ALL")
        self.assertEqual(lines, [b"* SEARCH 1 2 4"])

    def test_rfc6851(self):
        """RFC 6851 4.3: UID MOVE gives COPYUID untagged, then the
        EXPUNGEs, then the tagged OK."""
        c = self.raw()
        c.cmd(b"CREATE foo")
        for i in range(5):
            self.append(c, b"INBOX", SMALL)
        c.cmd(b"SELECT INBOX")
        lines, ok = c.cmd(b"UID MOVE 2:4 foo")
        self.assertEqual(len(lines), 4, lines)
        self.assertRegex(lines[0], rb"^\* OK \[COPYUID \d+ 2:4 1:3\] ")
        self.assertEqual(lines[1:], [b"* 2 EXPUNGE"] * 3)
        self.assertEqual(ok, b"OK MOVE completed")
        lines, ok = c.cmd(b"STATUS foo (MESSAGES UIDNEXT)")
        self.assertEqual(lines, [b"* STATUS foo (MESSAGES 3 UIDNEXT 4)"])

    def test_rfc7162_condstore(self):
        """RFC 7162 3.1: SELECT (CONDSTORE) and HIGHESTMODSEQ, FETCH
        (CHANGEDSINCE) with MODSEQ, STORE (UNCHANGEDSINCE) failing
        with [MODIFIED], .SILENT still giving the new MODSEQ."""
        c = self.raw()
        for i in range(3):
            self.append(c, b"INBOX", SMALL)
        self.claim_recent(c)
        c = self.raw()
        lines, ok = c.cmd(b"SELECT INBOX (CONDSTORE)")
        hm = [int(m.group(1)) for m in (
            re.match(rb"\* OK \[HIGHESTMODSEQ (\d+)\]", l) for l in lines)
            if m]
        self.assertEqual(len(hm), 1, lines)
        lines, ok = c.cmd(b"UID STORE 2 +FLAGS.SILENT (\\Flagged)")
        m = re.match(rb"\* 2 FETCH \(UID 2 MODSEQ \((\d+)\)\)$", lines[0])
        self.assertTrue(m, lines)
        mod2 = int(m.group(1))
        self.assertGreater(mod2, hm[0])
        lines, ok = c.cmd(b"FETCH 1:* (FLAGS) (CHANGEDSINCE %d)" % hm[0])
        self.assertEqual(lines, [b"* 2 FETCH (FLAGS (\\Flagged) MODSEQ "
                                 b"(%d))" % mod2])
        lines, ok = c.cmd(b"STORE 1:3 (UNCHANGEDSINCE %d) +FLAGS.SILENT "
                          b"(\\Seen)" % hm[0])
        self.assertEqual(ok, b"OK [MODIFIED 2] Conditional STORE failed")
        lines, ok = c.cmd(b"FETCH 2 (FLAGS)")
        self.assertEqual(lines, [b"* 2 FETCH (FLAGS (\\Flagged) MODSEQ "
                                 b"(%d))" % mod2])
        lines, ok = c.cmd(b"SEARCH MODSEQ %d" % mod2)
        self.assertRegex(lines[0], rb"^\* SEARCH 1 2 3 \(MODSEQ \d+\)$")

    def test_rfc7162_qresync(self):
        """RFC 7162 3.2: ENABLE QRESYNC; SELECT (QRESYNC (uidvalidity
        modseq)) gives VANISHED (EARLIER) and the changed flags; EXPUNGE
        answers VANISHED; UID FETCH (CHANGEDSINCE m VANISHED); SELECT
        of another folder says [CLOSED] first."""
        c = self.raw()
        for i in range(5):
            self.append(c, b"INBOX", SMALL)
        self.claim_recent(c)
        a = self.raw()
        lines, ok = a.cmd(b"ENABLE QRESYNC")
        self.assertEqual(lines, [b"* ENABLED CONDSTORE QRESYNC"])
        lines, ok = a.cmd(b"SELECT INBOX")
        uidv = int(re.search(rb"\[UIDVALIDITY (\d+)\]",
                             b"\n".join(lines)).group(1))
        hm = int(re.search(rb"\[HIGHESTMODSEQ (\d+)\]",
                           b"\n".join(lines)).group(1))
        a.cmd(b"LOGOUT")
        b = self.raw()
        b.cmd(b"SELECT INBOX")
        b.cmd(b"STORE 2 +FLAGS.SILENT (\\Flagged)")
        b.cmd(b"STORE 4 +FLAGS.SILENT (\\Deleted)")
        b.cmd(b"EXPUNGE")
        c = self.raw()
        c.cmd(b"ENABLE QRESYNC")
        lines, ok = c.cmd(b"SELECT INBOX (QRESYNC (%d %d))" % (uidv, hm))
        self.assertIn(b"* VANISHED (EARLIER) 4", lines)
        self.assertTrue(any(re.match(
            rb"\* 2 FETCH \(FLAGS \(\\Flagged\) UID 2 MODSEQ \(\d+\)\)$",
            l) for l in lines), lines)
        self.assertEqual(ok, b"OK [READ-WRITE] SELECT completed")
        lines, ok = c.cmd(b"UID FETCH 1:* (FLAGS) (CHANGEDSINCE %d "
                          b"VANISHED)" % hm)
        self.assertEqual(lines[0], b"* VANISHED (EARLIER) 4")
        self.assertEqual(len(lines), 2, lines)
        self.assertRegex(lines[1], rb"^\* 2 FETCH \(UID 2 FLAGS "
                         rb"\(\\Flagged\) MODSEQ \(\d+\)\)$")
        c.cmd(b"STORE 3 +FLAGS.SILENT (\\Deleted)")
        lines, ok = c.cmd(b"EXPUNGE")
        self.assertEqual(lines, [b"* VANISHED 3"])
        self.assertRegex(ok, rb"^OK \[HIGHESTMODSEQ \d+\] ")
        lines, ok = c.cmd(b"EXAMINE Trash")
        self.assertEqual(lines[0], b"* OK [CLOSED] Previous mailbox closed")

    def test_rfc5256_sort_thread(self):
        """RFC 5256: SORT by SUBJECT (base subjects), REVERSE DATE and
        FROM, UID SORT; THREAD ORDEREDSUBJECT and REFERENCES."""
        c = self.raw()
        msgs = [
            (b"Re: lunch", b"bob@x.test", b"01 Jan 2026 10:00:00 +0000",
             b"<a@x>", None),
            (b"apples", b"carol@x.test", b"03 Jan 2026 10:00:00 +0000",
             b"<b@x>", None),
            (b"lunch", b"alice@x.test", b"02 Jan 2026 10:00:00 +0000",
             b"<c@x>", None),
            (b"Re: apples", b"dave@x.test", b"04 Jan 2026 10:00:00 +0000",
             b"<d@x>", b"<b@x>"),
        ]
        for subj, frm, date, mid, ref in msgs:
            m = (b"From: %s\r\nSubject: %s\r\nDate: %s\r\n"
                 b"Message-ID: %s\r\n" % (frm, subj, date, mid))
            if ref:
                m += b"References: %s\r\n" % ref
            self.append(c, b"INBOX", m + b"\r\nbody\r\n")
        c.cmd(b"SELECT INBOX")
        lines, ok = c.cmd(b"SORT (SUBJECT) UTF-8 ALL")
        self.assertEqual(lines, [b"* SORT 2 4 1 3"])
        self.assertEqual(ok, b"OK SORT completed")
        lines, ok = c.cmd(b"SORT (REVERSE DATE) UTF-8 ALL")
        self.assertEqual(lines, [b"* SORT 4 2 3 1"])
        lines, ok = c.cmd(b"UID SORT (FROM) US-ASCII NOT FROM carol")
        self.assertEqual(lines, [b"* SORT 3 1 4"])
        lines, ok = c.cmd(b"SORT (SUBJECT) KOI8-X ALL")
        self.assertTrue(ok.startswith(b"NO [BADCHARSET"), ok)
        lines, ok = c.cmd(b"THREAD ORDEREDSUBJECT UTF-8 ALL")
        self.assertEqual(lines, [b"* THREAD (1 3)(2 4)"])
        lines, ok = c.cmd(b"THREAD REFERENCES UTF-8 ALL")
        self.assertEqual(lines[0][:9], b"* THREAD ")
        self.assertIn(b"(2 4)", lines[0])
        self.assertEqual(ok, b"OK THREAD completed")

    def test_rfc5258_list_extended(self):
        """RFC 5258: (SUBSCRIBED) with \\NonExistent, RECURSIVEMATCH
        and CHILDINFO, several patterns listed once, RETURN
        (SUBSCRIBED CHILDREN); RFC 6154 (SPECIAL-USE) selection; RFC
        5819 RETURN (STATUS (...))."""
        c = self.raw()
        # The special-use folders come subscribed: not in this example.
        for name in (b"Drafts", b"Sent", b"Trash", b"Junk", b"Archive"):
            c.cmd(b"UNSUBSCRIBE " + name)
        for name in (b"Fruit", b"Fruit/Apple", b"Fruit/Banana", b"Tofu"):
            c.cmd(b"CREATE " + name)
        for name in (b"Fruit/Banana", b"Tofu", b"Gone"):
            c.cmd(b"SUBSCRIBE " + name)
        self.append(c, b"Tofu", SMALL)
        lines, ok = c.cmd(b'LIST (SUBSCRIBED) "" "*"')
        self.assertEqual(sorted(lines), sorted([
            b'* LIST (\\NonExistent \\Subscribed) "/" Gone',
            b'* LIST (\\HasNoChildren \\Subscribed) "/" Fruit/Banana',
            b'* LIST (\\HasNoChildren \\Subscribed) "/" Tofu']))
        self.assertEqual(ok, b"OK LIST completed")
        lines, ok = c.cmd(b'LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"')
        self.assertEqual(sorted(lines), sorted([
            b'* LIST (\\HasChildren) "/" Fruit ("CHILDINFO" '
            b'("SUBSCRIBED"))',
            b'* LIST (\\NonExistent \\Subscribed) "/" Gone',
            b'* LIST (\\HasNoChildren \\Subscribed) "/" Tofu']))
        lines, ok = c.cmd(b'LIST (RECURSIVEMATCH) "" "%"')
        self.assertTrue(ok.startswith(b"BAD"), ok)
        lines, ok = c.cmd(b'LIST "" ("Fruit/*" "*/Apple") '
                          b'RETURN (SUBSCRIBED CHILDREN)')
        self.assertEqual(sorted(lines), sorted([
            b'* LIST (\\HasNoChildren) "/" Fruit/Apple',
            b'* LIST (\\HasNoChildren \\Subscribed) "/" Fruit/Banana']))
        lines, ok = c.cmd(b'LIST (SPECIAL-USE) "" "*" RETURN (SPECIAL-USE)')
        self.assertEqual(len(lines), 5, lines)
        self.assertIn(b'* LIST (\\HasNoChildren \\Trash) "/" Trash',
                      lines)
        lines, ok = c.cmd(b'LIST "" "T%" RETURN (STATUS (MESSAGES '
                          b'UNSEEN))')
        self.assertEqual(lines, [
            b'* LIST (\\HasNoChildren) "/" Tofu',
            b"* STATUS Tofu (MESSAGES 1 UNSEEN 1)",
            b'* LIST (\\HasNoChildren \\Trash) "/" Trash',
            b"* STATUS Trash (MESSAGES 0 UNSEEN 0)"])
        lines, ok = c.cmd(b'LIST "" "*" RETURN (BOGUS)')
        self.assertTrue(ok.startswith(b"BAD"), ok)


if __name__ == "__main__":
    unittest.main()
