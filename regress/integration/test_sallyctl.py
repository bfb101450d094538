"""sallyctl against a running suite: show status, show queue with a
message whose delivery fails temporarily, schedule, remove, help.

The suite retries only after an hour, so a message that is delivered
after "sallyctl schedule" was delivered because of it."""

import os
import time
import unittest

import suite
from suite import SuiteTest, make_message, queue_id, wait_for

VERBS = ("show status", "show queue", "show stats", "show hosts",
         "schedule", "remove", "log", "stop", "help")


class TestSallyctl(SuiteTest):
    suite_args = {"retry": "1h", "max_retry": "4h", "expire": "4d"}

    def ctl(self, *args):
        r = self.suite.sallyctl(*args)
        self.assertEqual(r.returncode, 0, "sallyctl %s: status %d\n%s%s"
                         % (" ".join(args), r.returncode, r.stdout,
                            r.stderr))
        return r.stdout

    def queue_lines(self, msgid):
        """The lines of show queue about msgid's envelopes, split."""
        return [l.split(None, 6) for l in self.ctl("show", "queue")
                .splitlines() if l.startswith(msgid + ".")]

    def test_help(self):
        r = self.suite.sallyctl("help")
        self.assertEqual(r.returncode, 0, r.stderr)
        for verb in VERBS:
            self.assertIn(verb, r.stdout, "help does not list %r" % verb)

    def test_bad_command(self):
        for args in (("frobnicate",), ("schedule",),
                     ("remove", "not-an-id"), ("log", "loud")):
            r = self.suite.sallyctl(*args)
            self.assertNotEqual(r.returncode, 0, args)
            self.assertTrue(r.stderr.strip(), "no message for %r" % (args,))

    def test_show_status(self):
        out = self.ctl("show", "status")
        for d in suite.DAEMONS:
            pid = str(self.suite.pid(d))
            lines = [l.split() for l in out.splitlines()
                     if l.split()[:1] == [d]]
            self.assertEqual(len(lines), 1, "%s in:\n%s" % (d, out))
            self.assertEqual(lines[0][1], pid, out)
            self.assertEqual(lines[0][-1], "up", out)

    def test_show_stats(self):
        code, text = self.suite.send(make_message("stats", ["counted"]))
        self.assertEqual(code, 250, text)
        out = self.ctl("show", "stats")
        stats = dict(line.split() for line in out.splitlines())
        self.assertGreaterEqual(int(stats["messages.committed"]), 1, out)
        # Every commit waits for fsyncs: some time, none of it lost.
        self.assertGreater(int(stats["commit.usecs_total"]), 0, out)
        self.assertGreaterEqual(int(stats["commit.usecs_total"]),
                                int(stats["commit.usecs_max"]), out)
        self.assertIn("sync.pending", stats)

    def test_queue_schedule_remove(self):
        s = self.suite
        tmp = s.make_maildir("bob")
        os.chmod(tmp, 0o500)           # bob cannot write: temporary failure
        try:
            ids = []
            for n in ("one", "two"):
                code, text = s.send(make_message("stuck %s" % n, [n]))
                self.assertEqual(code, 250, text)
                ids.append(queue_id(text))
            keep, drop = ids
            for msgid in ids:
                lines = wait_for(
                    lambda: [l for l in self.queue_lines(msgid)
                             if l[4] != "0" and len(l) == 7],
                    20, what="show queue to list %s with an error" % msgid)
                evpid, sender, rcpt, age, retries, nxt, error = lines[0]
                self.assertEqual(sender, "alice@example.test")
                self.assertEqual(rcpt, "bob@example.test")
                self.assertGreaterEqual(int(retries), 1)
                self.assertNotEqual(error.strip(), "-", "no error shown")
            self.assertEqual(s.mail_files("bob"), [])
        finally:
            os.chmod(tmp, 0o700)

        # Nothing is retried by itself within the hour: schedule does it.
        time.sleep(2)
        self.assertEqual(s.mail_files("bob"), [])
        self.ctl("schedule", keep)
        files = s.wait_mail("bob")
        with open(files[0], "rb") as f:
            self.assertIn(b"stuck one", f.read())
        wait_for(lambda: not self.queue_lines(keep), 10,
                 what="%s to leave the queue" % keep)

        self.assertTrue(self.queue_lines(drop))
        self.ctl("remove", drop)
        self.assertEqual(self.queue_lines(drop), [],
                         "remove left the envelope in show queue")
        self.assertNotIn(drop, s.spool_entries("queue"))
        # The queue is empty now: "schedule all" has nothing to do and
        # succeeds; a named id that is gone is an error.
        r = s.sallyctl("schedule", "all")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("0 scheduled", r.stdout + r.stderr)
        r = s.sallyctl("schedule", drop)
        self.assertNotEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("no such", r.stdout + r.stderr)
        time.sleep(3)
        self.assertEqual(len(s.mail_files("bob")), 1,
                         "the removed message was delivered")


if __name__ == "__main__":
    unittest.main()
