"""The delivery agent's mailbox workers (doc/INTERNALS.md, Delivery
workers): one process per user, reused for delivery after delivery,
closed when idle, closed after DELIVERY_WORKER_MAX_DELIVERIES and
replaced, and replaced without a lost message when it is killed."""

import os
import pwd
import re
import signal
import sys
import time
import unittest

import suite
from suite import SuiteTest, make_message, wait_for, proc_alive

# common/sp_limits.h
DELIVERY_WORKER_IDLE_SECS = 5
DELIVERY_WORKER_MAX_DELIVERIES = 1000
# Messages sent in one session (smtpd has no limit by default).
MESSAGES_PER_SESSION = 100

# The worker's pid and count; the envelope's tag follows (issue 14).
MAILDIR_NAME_RE = re.compile(r"P(\d+)Q(\d+)E[0-9a-f]{16}_\d+\.")


class TestWorkers(SuiteTest):
    # Quick retries: a delivery caught by a dying worker comes back soon.
    suite_args = {"retry": "1s", "max_retry": "2s", "expire": "1h"}

    def setUp(self):
        for sub in ("new", "cur", "tmp"):
            for f in self.suite.mail_files("bob", sub):
                os.unlink(f)

    def workers(self, user="sp_bob"):
        """The pids of the delivery agent's children running as user."""
        uid = pwd.getpwnam(user).pw_uid
        agent = self.suite.delivery_agent().pid
        return sorted(c.pid for c in self.suite.children_of_pid(agent)
                      if c.uids[0] == uid)

    def deliver(self, subject):
        """Sends one message to bob; returns the pid in the P field of
        the name of the file it became in new/."""
        s = self.suite
        before = set(s.mail_files("bob"))
        code, text = s.send(make_message(subject, [subject]))
        self.assertEqual(code, 250, text)
        s.wait_marked(subject)
        new = set(s.mail_files("bob")) - before
        self.assertEqual(len(new), 1, new)
        m = MAILDIR_NAME_RE.search(os.path.basename(new.pop()))
        self.assertIsNotNone(m, "no P<pid> in the Maildir name")
        return int(m.group(1))

    def test_worker_reused(self):
        """Deliveries to bob one after another are written by one and the
        same worker: its pid names every file, and it is still there."""
        pids = [self.deliver("reuse %d" % i) for i in range(4)]
        self.assertEqual(len(set(pids)), 1, "writers: %s" % pids)
        self.assertEqual(self.workers(), pids[:1])
        self.assertEqual(self.suite.mail_files("bob", "tmp"), [])

    def test_killed_idle_worker_replaced(self):
        """kill -9 of an idle worker: the agent reaps it, and the next
        delivery gets a new worker; no mail is lost or late."""
        first = self.deliver("before the kill")
        self.assertEqual(self.workers(), [first])
        os.kill(first, signal.SIGKILL)
        wait_for(lambda: not proc_alive(first), 10,
                 what="the killed worker to be reaped")
        t0 = time.monotonic()
        second = self.deliver("after the kill")
        self.assertNotEqual(second, first)
        # Not through a retry: delivered at the first attempt.
        self.assertLess(time.monotonic() - t0, 5)
        self.assertEqual(self.workers(), [second])
        self.assertEqual(self.deliver("and again"), second)

    def test_idle_worker_closed(self):
        """A worker with nothing to do is closed after
        DELIVERY_WORKER_IDLE_SECS: it reads EOF, exits and is reaped."""
        pid = self.deliver("then idle")
        self.assertEqual(self.workers(), [pid])
        wait_for(lambda: not proc_alive(pid),
                 DELIVERY_WORKER_IDLE_SECS + 10,
                 what="the idle worker to exit")
        self.assertEqual(self.workers(), [])
        self.assertNotEqual(self.deliver("a new worker"), pid)

    def test_zz_sigterm_with_workers(self):
        """SIGTERM to queued with an idle worker (alice's) and one with a
        delivery in flight (bob's, held with SIGSTOP until then): queued
        exits 0 with no worker left behind, and the message in flight is
        either whole in new/ or still queued (the manager goes too, so
        the agent kills its delivery: it is retried at the next start).
        Last: it stops the suite's queued."""
        s = self.suite
        code, text = s.send(make_message("alice's", ["alice's worker"],
                                         rcpt="alice@example.test"),
                            rcpts=("alice@example.test",))
        self.assertEqual(code, 250, text)
        s.wait_marked("alice's worker", user="alice")
        self.assertTrue(self.workers("sp_alice"))
        bob = self.deliver("an idle worker")
        os.kill(bob, signal.SIGSTOP)
        p = s.procs["queued"]
        try:
            msg = make_message("in flight", ["in flight"])
            code, text = s.send(msg)
            self.assertEqual(code, 250, text)
            time.sleep(0.5)
            p.send_signal(signal.SIGTERM)
            time.sleep(0.3)
        finally:
            try:
                os.kill(bob, signal.SIGCONT)
            except ProcessLookupError:
                pass
        self.assertEqual(p.wait(10), 0, "queued exited non-zero")
        s.procs.pop("queued")
        left = wait_for(lambda: not s.group_left(p.pid), 2)
        self.assertTrue(left, "left behind: %s" % s.group_left(p.pid))
        done = []
        for path in s.mail_files("bob"):
            with open(path, "rb") as f:
                data = f.read()
            if b"in flight" in data:
                done.append(suite.split_delivered(data)[3])
        if done:
            self.assertEqual(done, [msg.replace(b"\r\n", b"\n")])
        else:
            self.assertIn(suite.queue_id(text), s.spool_entries("queue"))


class LogCounter:
    """Counts the lines of a growing log file that hold a string, from
    where the file ends when it is made."""

    def __init__(self, path, needle):
        self.f = open(path, "rb")
        self.f.seek(0, os.SEEK_END)
        self.needle = needle.encode()
        self.rest = b""
        self.count = 0

    def poll(self):
        data = self.f.read()
        if data:
            lines = (self.rest + data).split(b"\n")
            self.rest = lines.pop()
            self.count += sum(1 for l in lines if self.needle in l)
        return self.count

    def wait(self, count, timeout=20):
        end = time.monotonic() + timeout
        while self.poll() < count:
            if time.monotonic() > end:
                raise AssertionError("%d of %d %r lines after %ds"
                                     % (self.count, count, self.needle,
                                        timeout))
            time.sleep(0.001)

    def close(self):
        self.f.close()


class TestWorkerWornOut(SuiteTest):
    """A worker is closed after DELIVERY_WORKER_MAX_DELIVERIES and a new
    one takes over, with no message lost or written twice.

    The messages go one at a time: each is sent once the agent has
    logged the one before it as delivered.  That is when the agent has
    taken the worker's answer and made it idle again, so that the next
    delivery goes to it too, rather than to a second worker of bob's
    (DELIVERY_WORKERS_PER_USER_MAX), which messages sent back to back
    would get and which would share the count between them."""

    def test_worker_closed_after_max_deliveries(self):
        s = self.suite
        uid = pwd.getpwnam(suite.MAIL_USERS["bob"]).pw_uid
        n = DELIVERY_WORKER_MAX_DELIVERIES + 5
        # worker-start and worker-close are debug lines.
        os.kill(s.pid("queued"), signal.SIGUSR1)
        wait_for(lambda: "queued log verbose" in s.log("queued"), 10,
                 what="queued's log made verbose")
        delivered = LogCounter(s.path("log", "queued.log"),
                               " delivery ok user=bob ")
        marks = ["worn %d-%d" % (i, time.monotonic_ns()) for i in range(n)]
        t0 = time.monotonic()
        try:
            for first in range(0, n, MESSAGES_PER_SESSION):
                c = s.smtp()
                try:
                    for i in range(first, min(first + MESSAGES_PER_SESSION,
                                              n)):
                        refused = c.sendmail(
                            "alice@example.test", ["bob@example.test"],
                            make_message(marks[i], [marks[i]]))
                        self.assertEqual(refused, {})
                        delivered.wait(i + 1)
                    c.quit()
                finally:
                    c.close()
        finally:
            delivered.close()
        took = time.monotonic() - t0
        sys.stderr.write("\n    %d messages sent and delivered one by one "
                         "in %.1f s\n" % (n, took))

        # Every message once: none lost, none written twice.
        files = s.wait_mail("bob", n)
        self.assertEqual(len(files), n)
        found = []
        writers = {}
        for path in files:
            with open(path, "rb") as f:
                found.append(suite.split_delivered(f.read())[3]
                             .split(b"\n")[-2].decode())
            m = MAILDIR_NAME_RE.search(os.path.basename(path))
            self.assertIsNotNone(m, path)
            writers.setdefault(int(m.group(1)), []).append(int(m.group(2)))
        self.assertEqual(sorted(found), sorted(marks))

        # Two writers: the first wrote its 1000 (Q counts from 0), the
        # second the rest.
        log = s.log("queued")
        m = re.search(r"- delivery worker-close pid=(\d+) uid=%d "
                      r"deliveries=%d reason=worn-out"
                      % (uid, DELIVERY_WORKER_MAX_DELIVERIES), log)
        self.assertIsNotNone(m, "no worker closed as worn out")
        old = int(m.group(1))
        m = re.search(r"- delivery worker-start pid=(\d+) uid=%d" % uid,
                      log[m.end():])
        self.assertIsNotNone(m, "no worker started after the close")
        new = int(m.group(1))
        self.assertEqual(sorted(writers), sorted([old, new]))
        self.assertEqual(sorted(writers[old]),
                         list(range(DELIVERY_WORKER_MAX_DELIVERIES)))
        self.assertEqual(sorted(writers[new]),
                         list(range(n - DELIVERY_WORKER_MAX_DELIVERIES)))
        self.assertEqual(log.count("reason=worn-out"), 1)
        # It read EOF and exited 0: reaped with no complaint.
        wait_for(lambda: not proc_alive(old), 10,
                 what="the worn-out worker to exit")
        time.sleep(0.2)
        log = s.log("queued")
        for bad in ("worker-died", "worker-kill", " delivery tempfail "):
            self.assertNotIn(bad, log)
        self.assertEqual(s.mail_files("bob", "tmp"), [])


if __name__ == "__main__":
    unittest.main()
