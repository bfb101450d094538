"""imapd paces each session to IMAP_CMDS_PER_SEC_MAX commands a second
(imapd/imap_parse.c): a client past it is held back, not refused.  A
burst of more than that many pipelined commands must all be answered,
including when the last one held back was the end of what the client
sent (the mailbox process then waits on its timer, not on input that
will never come: the stall bench/imap.py found in long-lived sessions)."""

import threading

import suite
from test_imap_login import IMAPTest, need_imapd, limit

PACE = limit("IMAP_CMDS_PER_SEC_MAX")


@need_imapd
class TestImapPace(IMAPTest):

    def login(self):
        c = self.connect()
        c.send(b"a LOGIN bob " + suite.PASSWORD.encode() + b"\r\n")
        self.assertTrue(c.until(b"a")[1].startswith(b"OK"))
        return c

    def burst(self, c, n):
        """n NOOPs in one write; the tagged answers counted."""
        data = b"".join(b"n%d NOOP\r\n" % i for i in range(n))
        t = threading.Thread(target=c.send, args=(data,))
        t.start()
        ok = 0
        last = b"n%d " % (n - 1)
        while True:
            line = c.line()
            if line.startswith(b"n") and b" OK" in line:
                ok += 1
            if line.startswith(last):
                break
        t.join()
        return ok

    def test_burst_past_the_pace_is_answered_in_full(self):
        c = self.login()
        n = PACE + PACE // 5
        self.assertEqual(self.burst(c, n), n)
        # The session goes on after being held back.
        c.send(b"z NOOP\r\n")
        self.assertTrue(c.until(b"z")[1].startswith(b"OK"))

    def test_held_command_at_the_end_of_the_input(self):
        # One past the pace: the command held back is the last the
        # client sent, and nothing more comes until it is answered.
        c = self.login()
        for _ in range(3):
            self.assertEqual(self.burst(c, PACE + 1), PACE + 1)
