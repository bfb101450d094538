"""100,000 envelopes in the queue, under the queue manager's sandbox:
recovered at start (timed), listed by sallyctl show queue, recovered
again after a restart, and a new message still delivered past them.
The spool is written by mkqueue (queued's own envelope serialiser)
while queued is stopped; the envelopes wait for a next try hours away,
so none is delivered meanwhile."""

import os
import re
import smtplib
import subprocess
import time
import unittest

import suite
from suite import SuiteTest, make_message, wait_for

import scale

MESSAGES = scale.size(20000)
PER_MESSAGE = 5


@unittest.skipUnless(os.access(scale.MKQUEUE, os.X_OK),
                     "regress/scale/mkqueue is not built (make check and "
                     "make check-scale build it)")
class TestScaleQueue(SuiteTest):

    def recovered(self, since):
        """The envelopes of the last "queue recovered" line after since
        in queued's log, once the manager is ready."""
        def look():
            log = self.suite.log("queued")[since:]
            if "queue ready" not in log:
                return None
            m = re.findall(r"queue recovered messages=(\d+) "
                           r"envelopes=(\d+) corrupt=(\d+)", log)
            return m[-1] if m else None
        return wait_for(look, scale.SLOW_SECS, interval=0.5,
                        what="queued's recovery")

    def start_queued(self, what):
        since = len(self.suite.log("queued"))
        m, e, c = scale.measure(
            what, lambda: (self.suite.start_daemon("queued"),
                           self.recovered(since))[1])
        self.assertEqual((int(m), int(e), int(c)),
                         (MESSAGES, MESSAGES * PER_MESSAGE, 0))

    def listed(self):
        r = self.suite.sallyctl("show", "queue", timeout=scale.SLOW_SECS)
        self.assertEqual(r.returncode, 0, r.stderr)
        return [l for l in r.stdout.splitlines()
                if re.match(r"[0-9a-f]{16}\.\d+ ", l)]

    def listed_slowly(self):
        rc, out, err = scale.ctl_slowly(self.suite, "show", "queue")
        self.assertEqual(rc, 0, err)
        return [l for l in out.splitlines()
                if re.match(r"[0-9a-f]{16}\.\d+ ", l)]

    def test_queue(self):
        s = self.suite
        s.stop_daemon("queued")
        uid, gid = suite.user_ids(suite.DAEMON_USERS["queue"])
        r = scale.measure(
            "mkqueue %d envelopes" % (MESSAGES * PER_MESSAGE),
            subprocess.run,
            [scale.MKQUEUE, s.spool, str(MESSAGES), str(PER_MESSAGE),
             str(uid), str(gid), str(int(time.time()) + 6 * 3600)],
            capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.start_queued("queued start, recovery of %d envelopes"
                          % (MESSAGES * PER_MESSAGE))
        lines = scale.measure("sallyctl show queue", self.listed)
        self.assertEqual(len(lines), MESSAGES * PER_MESSAGE)
        self.assertEqual(len(set(l.split()[0] for l in lines)),
                         MESSAGES * PER_MESSAGE)
        self.assertEqual(len(self.listed_slowly()), MESSAGES * PER_MESSAGE)
        s.stop_daemon("queued", timeout=scale.SLOW_SECS)
        self.start_queued("queued restart, recovery of %d envelopes"
                          % (MESSAGES * PER_MESSAGE))
        self.assertEqual(len(self.listed()), MESSAGES * PER_MESSAGE)
        # A message sent now goes past the waiting ones.
        msg = make_message("past the queue", ["still delivered"],
                           rcpt="alice@example.test")
        code, text = wait_for(lambda: self.try_send(msg), 120, interval=1,
                              what="smtpd to take a message")
        self.assertEqual(code, 250, text)
        s.wait_marked("past the queue", user="alice",
                      timeout=scale.SLOW_SECS)
        log = s.log("queued")
        self.assertNotIn("sandbox violation", log)
        self.assertNotIn("proc died", log)

    def try_send(self, msg):
        """(250, text), or None while smtpd reconnects to the queue."""
        try:
            code, text = self.suite.send(msg, rcpts=("alice@example.test",))
        except (AssertionError, smtplib.SMTPException, OSError):
            return None
        return (code, text) if code == 250 else None


if __name__ == "__main__":
    unittest.main()
