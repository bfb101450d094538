"""The relay survives kill -9 (issue 9): while 500 remote messages flow
from sallyport A to a scripted sink (the MX of sink.e2e.example, through
the nsd of test_relay_e2e), the relay process and then the queue
manager are killed with SIGKILL.  Every message answered 250 must
arrive at the sink at least once; a crash between the remote 250 and
the manager's record may send one again: those duplicates are counted
and printed."""

import os
import re
import signal
import sys
import threading
import time

from suite import DAEMON_USERS, make_message, wait_for
from test_relay_e2e import (RelayCase, addr, setUpModule,  # noqa: F401
                            tearDownModule)

MESSAGES = int(os.environ.get("SALLYPORT_RELAY_CRASH_MESSAGES", "500"))
PER_SESSION = 50
SUBJECT = re.compile(rb"\nSubject: (relay-crash \d+)\r\n")


class TestRelayCrash(RelayCase):

    def sender(self, rcpt, acked, stop):
        """Sends MESSAGES messages in sessions of PER_SESSION; a session
        that fails (the manager is being restarted) is opened again and
        the unanswered message sent again."""
        n = 0
        while n < MESSAGES and not stop.is_set():
            try:
                c = self.a.smtp()
                c.ehlo()
                for _ in range(PER_SESSION):
                    if n >= MESSAGES:
                        break
                    subject = "relay-crash %d" % n
                    msg = make_message(subject, ["message %d" % n,
                                                 "x" * 70] * 20,
                                       rcpt=rcpt)
                    c.sendmail("alice@example.test", [rcpt], msg)
                    acked.add(subject)
                    n += 1
                c.quit()
            except Exception:
                time.sleep(0.5)

    def arrived(self, sink):
        """subject -> number of transactions that delivered it."""
        got = {}
        for t in sink.delivered():
            m = SUBJECT.search(t.data)
            if m:
                k = m.group(1).decode()
                got[k] = got.get(k, 0) + 1
        return got

    def kill(self, user, when, sink):
        wait_for(lambda: len(self.arrived(sink)) >= when, 180,
                 interval=0.2, what="%d messages at the sink" % when)
        # The relay, not its MTA-STS helper (the same user).
        role = "relay" if user == "_sallyrelay" else None
        old = self.a.wait_child_as("queued", user, role=role)
        os.kill(old.pid, signal.SIGKILL)
        self.a.wait_child_as("queued", user, timeout=30,
                             exclude=(old.pid,), role=role)

    def test_kill_relay_and_manager_while_relaying(self):
        rcpt = addr("x", "sink")
        sink = self.serve("sink")
        acked, stop = set(), threading.Event()
        th = threading.Thread(target=self.sender,
                              args=(rcpt, acked, stop))
        th.start()
        try:
            self.kill(DAEMON_USERS["relay"], MESSAGES // 5, sink)
            self.kill(DAEMON_USERS["queue"], MESSAGES // 2, sink)
            th.join(300)
        finally:
            stop.set()
            th.join(30)
        self.assertEqual(len(acked), MESSAGES, "not all were accepted")
        wait_for(lambda: acked <= set(self.arrived(sink)), 240,
                 interval=0.5, what="every accepted message at the sink")
        # Retries of what was in flight settle.
        wait_for(lambda: rcpt not in self.show_queue(), 60, interval=0.5,
                 what="the queue to empty")
        got = self.arrived(sink)
        missing = sorted(acked - set(got))
        twice = sorted(k for k, n in got.items() if n > 1)
        sys.stderr.write("\n    relay kill -9: %d accepted, %d arrived, "
                         "%d lost, %d duplicates (%s), %d connections\n"
                         % (len(acked), len(got), len(missing),
                            len(twice), ", ".join(twice[:10]),
                            sink.conns))
        self.assertEqual(missing, [], "accepted but never relayed")
