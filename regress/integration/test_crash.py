"""Crash safety: kill -9 of the queue manager, of the SMTP engine in the
middle of DATA and of a mailbox worker in the middle of its write.  A
250 is a promise (delivered exactly once); without a 250 nothing is ever
delivered."""

import os
import pwd
import re
import resource
import signal
import sys
import threading
import time
import unittest

import suite
from suite import (SuiteTest, SMTPLine, make_message, queue_id, wait_for,
                   conn_holders, proc_alive)


class TestCrash(SuiteTest):
    # Quick retries, so that a failed delivery is tried again soon.
    suite_args = {"retry": "1s", "max_retry": "2s", "expire": "1h"}

    def setUp(self):
        self.suite.make_maildir("bob")
        # A killed mailbox worker leaves its partial file in tmp/ (as
        # Maildir allows); start every test with an empty mailbox.
        for sub in ("new", "cur", "tmp"):
            for f in self.suite.mail_files("bob", sub):
                os.unlink(f)

    def tearDown(self):
        os.chmod(self.suite.maildir("bob", "tmp"), 0o700)

    def block_delivery(self, blocked):
        """Delivery fails temporarily while bob cannot write Maildir/tmp."""
        os.chmod(self.suite.maildir("bob", "tmp"), 0o500 if blocked
                 else 0o700)

    def assert_one_copy(self, msg, settle=4):
        """Exactly one file in bob's new/, equal to msg (after the added
        headers), and still one after settle seconds of retries."""
        files = self.suite.wait_mail("bob", timeout=40)
        time.sleep(settle)
        files = self.suite.mail_files("bob")
        self.assertEqual(len(files), 1, "copies in new/: %s" % files)
        with open(files[0], "rb") as f:
            rest = suite.split_delivered(f.read())[3]
        self.assertEqual(rest, msg.replace(b"\r\n", b"\n"),
                         "the delivered copy is not the whole message")

    def wait_queue_empty(self, msgid, timeout=20):
        wait_for(lambda: msgid not in self.suite.spool_entries("queue"),
                 timeout, what="%s to leave the spool's queue/" % msgid)

    # ------------------------------------------------------------ manager

    def test_manager_killed_after_250(self):
        s = self.suite
        self.block_delivery(True)
        msg = make_message("manager crash", ["must arrive exactly once"])
        code, text = s.send(msg)
        self.assertEqual(code, 250, text)
        msgid = queue_id(text)
        self.assertIsNotNone(msgid, text)
        self.assertIn(msgid, s.spool_entries("queue"),
                      "250 given but the message is not in queue/")
        # Let it fail at least once: it is committed, not delivered.
        time.sleep(1.5)
        self.assertEqual(s.mail_files("bob"), [])
        old = s.manager()
        os.kill(old.pid, signal.SIGKILL)
        new = s.wait_child_as("queued", suite.DAEMON_USERS["queue"],
                              timeout=15, exclude=(old.pid,))
        self.assertNotEqual(new.pid, old.pid)
        self.assertEqual(s.mail_files("bob"), [])
        self.block_delivery(False)
        self.assert_one_copy(msg)
        self.wait_queue_empty(msgid)

    # ------------------------------------------------------------ engine

    def test_engine_killed_in_data(self):
        s = self.suite
        before_queue = s.spool_entries("queue")
        c = SMTPLine(s.smtp_port, timeout=20)
        try:
            self.assertEqual(c.cmd(b"EHLO " + suite.HELO.encode())[0], 250)
            self.assertEqual(c.cmd(b"MAIL FROM:<alice@example.test>")[0],
                             250)
            self.assertEqual(c.cmd(b"RCPT TO:<bob@example.test>")[0], 250)
            self.assertEqual(c.cmd(b"DATA")[0], 354)
            c.send(b"Subject: half\r\n\r\n" + b"half a message\r\n" * 2000)
            # The engine has the message open in the spool's incoming/.
            wait_for(lambda: s.spool_entries("incoming"), 10,
                     what="the message to appear in incoming/")
            engines = conn_holders(s.smtp_port, c.local_port())
            eng = s.engine("smtpd")
            self.assertEqual(engines, [eng.pid],
                             "the engine does not hold the connection")
            os.kill(eng.pid, signal.SIGKILL)
            c.send(b"more\r\n.\r\n")
            try:
                code, text = c.reply()
                self.fail("got a reply after the engine died: %d %s"
                          % (code, text))
            except (EOFError, ConnectionResetError, BrokenPipeError):
                pass
        except BrokenPipeError:
            pass
        finally:
            c.close()
        # The manager notices the dead connection and drops the message.
        wait_for(lambda: not s.spool_entries("incoming"), 20,
                 what="incoming/ to be emptied after the engine died")
        self.assertEqual(s.spool_entries("queue"), before_queue,
                         "a half-received message was queued")
        # The parent restarts the engine; the next session works.
        new = s.wait_child_as("smtpd", suite.DAEMON_USERS["smtp"],
                              exclude=(eng.pid,))
        self.assertNotEqual(new.pid, eng.pid)
        msg = make_message("after engine crash", ["a whole message"])
        code, text = wait_for(lambda: self.try_send(msg), 20,
                              what="smtpd to take a message again")
        self.assertEqual(code, 250, text)
        self.assert_one_copy(msg)

    def race_sender(self, t, stop, acked, sent):
        """Session t sends messages one after the other until stop is
        set or the session fails; records each message sent and each
        answered 250."""
        n = 0
        try:
            c = self.suite.smtp()
            c.ehlo()
            while not stop.is_set():
                subject = "commit race %d %d" % (t, n)
                msg = make_message(subject, ["session %d message %d" % (t, n),
                                             "x" * 60] * 40)
                sent[subject] = msg
                c.sendmail("alice@example.test", ["bob@example.test"], msg)
                acked.add(subject)
                n += 1
        except Exception:
            pass

    def test_engine_killed_during_commits(self):
        """The engine dies while the manager's sync threads commit
        several messages (queued/queue_commit.c): the manager lives on,
        every message answered 250 arrives once and whole, one that was
        not may arrive (past its rename; never half), and nothing stays
        in incoming/."""
        s = self.suite
        manager = s.manager()
        eng = s.engine("smtpd")
        stop = threading.Event()
        acked, sent = set(), {}
        threads = [threading.Thread(target=self.race_sender,
                                    args=(t, stop, acked, sent))
                   for t in range(8)]
        for th in threads:
            th.start()
        wait_for(lambda: len(acked) >= 40, 30,
                 what="40 messages to be accepted")
        os.kill(eng.pid, signal.SIGKILL)
        stop.set()
        for th in threads:
            th.join(30)
        self.assertTrue(manager.pid == s.manager().pid,
                        "the queue manager died with the engine")
        wait_for(lambda: not s.spool_entries("incoming"), 20,
                 what="incoming/ to be emptied after the engine died")
        wait_for(lambda: not s.spool_entries("queue"), 40,
                 what="every committed message to be delivered")
        time.sleep(1)
        got = {}
        for f in s.mail_files("bob"):
            with open(f, "rb") as fh:
                rest = suite.split_delivered(fh.read())[3]
            subject = re.search(rb"(?m)^Subject: (.*)$", rest)
            self.assertIsNotNone(subject, "a delivered copy lost its header")
            subject = subject.group(1).decode()
            self.assertNotIn(subject, got, "delivered twice: " + subject)
            self.assertIn(subject, sent, "delivered but never sent")
            self.assertEqual(rest, sent[subject].replace(b"\r\n", b"\n"),
                             "a copy is not the whole message: " + subject)
            got[subject] = f
        missing = sorted(acked - set(got))
        self.assertEqual(missing, [], "answered 250 but not delivered")
        log = s.log("queued")
        self.assertNotIn("fatal", log.lower())
        sys.stderr.write("\n    engine killed after %d accepted: %d "
                         "delivered, %d committed without a reply, %d "
                         "dropped mid-commit\n" % (
                             len(acked), len(got), log.count("reply=none"),
                             log.count("aborted reason=closed")))

    def try_send(self, msg):
        try:
            return self.suite.send(msg)
        except (OSError, AssertionError, Exception):
            return None

    # ------------------------------------------------------------ delivery

    def big_message(self, subject, mbytes):
        line = "0123456789abcdefghijklmnopqrstuvwxyz" * 2
        n = mbytes * 1024 * 1024 // (len(line) + 2)
        return make_message(subject, ["%08d %s" % (i, line)
                                      for i in range(n)])

    def send_in_thread(self, msg):
        out = {}

        def run():
            try:
                out["reply"] = self.suite.send(msg)
            except Exception as e:       # reported by the test
                out["error"] = e
        t = threading.Thread(target=run)
        t.start()
        return t, out

    def stopped(self, pid):
        try:
            with open("/proc/%d/stat" % pid) as f:
                stat = f.read()
        except OSError:
            return True             # gone
        return stat[stat.rindex(")") + 2] in "tTZX"

    def warm_worker(self, agent, subject):
        """Delivers a small message to bob, so that his mailbox worker is
        up (and idle), then empties the mailbox.  The agent's children,
        its workers, are returned."""
        s = self.suite
        code, text = s.send(make_message(subject, ["warm-up"]))
        self.assertEqual(code, 250, text)
        s.wait_mail("bob")
        for f in s.mail_files("bob"):
            os.unlink(f)
        return suite.fast_children(agent)

    def writer(self, pids):
        """The one of pids holding a file of bob's tmp/ open, or None."""
        tmp = self.suite.maildir("bob", "tmp") + "/"
        for pid in pids:
            try:
                fds = os.listdir("/proc/%d/fd" % pid)
            except OSError:
                continue
            for fd in fds:
                try:
                    target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
                except OSError:
                    continue
                if target.startswith(tmp):
                    return pid
        return None

    def stop(self, pids, stopped):
        for pid in pids:
            try:
                os.kill(pid, signal.SIGSTOP)
            except ProcessLookupError:
                continue
            stopped.add(pid)
        for pid in pids:
            wait_for(lambda: self.stopped(pid), 2)

    def cont(self, pids):
        for pid in pids:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass

    def catch_mid_write(self, agent, stopped):
        """Steps the stopped workers together in small slices until one of
        them has a file in tmp/ open and nothing is in new/; that one is
        returned, or None if the delivery finished (or died) first.  A
        worker the agent forks meanwhile is stopped as well."""
        tmp, new = (self.suite.maildir("bob", "tmp"),
                    self.suite.maildir("bob", "new"))
        for _ in range(20000):
            self.stop([c for c in suite.fast_children(agent)
                       if c not in stopped], stopped)
            if os.listdir(new):
                return None
            w = self.writer(stopped)
            if w is not None and os.listdir(tmp) and proc_alive(w):
                return w
            live = [p for p in stopped if proc_alive(p)]
            if not live:
                return None
            self.cont(live)
            time.sleep(0.0002)
            self.stop(live, stopped)
        return None

    def test_delivery_worker_killed_mid_write(self):
        """kill -9 of bob's mailbox worker between the creation of its
        file in tmp/ and the link into new/.  The worker outlives each
        delivery, so the test makes sure it is up (one small delivery),
        SIGSTOPs the delivery agent's workers before it sends a big
        message, waits for the 250, then lets them run in slices of a
        fraction of a millisecond until one of them has its tmp/ file
        open, and SIGKILLs it there.  The retry, by a new worker,
        delivers the message once."""
        s = self.suite
        agent = s.delivery_agent().pid
        bob = pwd.getpwnam("sp_bob").pw_uid
        for attempt in range(3):
            workers = self.warm_worker(agent, "warm-up %d" % attempt)
            self.assertTrue(workers, "no mailbox worker after a delivery")
            stopped = set()
            victim = None
            self.stop(workers, stopped)
            msg = self.big_message("worker crash %d" % attempt, 16)
            t, out = self.send_in_thread(msg)
            try:
                # The workers are stopped: nothing can be delivered yet.
                t.join(120)
                self.assertEqual(out.get("reply", (0,))[0], 250, out)
                victim = self.catch_mid_write(agent, stopped)
                if victim is not None:
                    info = suite.ProcInfo(victim)
                    partial = os.listdir(s.maildir("bob", "tmp"))
                    os.kill(victim, signal.SIGKILL)
                    self.assertEqual(info.uids, (bob,) * 4,
                                     "the mailbox worker writes as %r"
                                     % info)
                    self.assertEqual(info.ppid, agent, info)
            finally:
                self.cont(stopped)
                t.join(120)
            if victim is not None:
                break
            # It was too quick: start again with a clean mailbox.
            s.wait_mail("bob")
            for f in s.mail_files("bob"):
                os.unlink(f)
        else:
            self.skipTest("could not catch the mailbox worker mid-write "
                          "in 3 attempts")
        self.assertTrue(partial, "no tmp/ file at the kill")
        self.assert_one_copy(msg)
        wait_for(lambda: not proc_alive(victim), 10,
                 what="the killed worker to be reaped")

    def set_fsize(self, agent, limit):
        """RLIMIT_FSIZE of the delivery agent (which new workers inherit),
        then of the workers it already has."""
        resource.prlimit(agent, resource.RLIMIT_FSIZE, limit)
        for pid in suite.fast_children(agent):
            try:
                resource.prlimit(pid, resource.RLIMIT_FSIZE, limit)
            except (ProcessLookupError, PermissionError):
                # Gone, or refusing now (seen, now and then, of a worker
                # the agent had just forked for the next retry): such a
                # worker dies at its next write past the limit, and its
                # replacement inherits the agent's.
                pass

    def test_delivery_worker_dies_mid_write(self):
        """The mailbox worker dies in the middle of its write, always at
        the same point: RLIMIT_FSIZE of the delivery agent and of its
        workers (new ones inherit it) is lowered with prlimit(2) below
        the message's size, so that the worker gets SIGXFSZ (or EFBIG)
        after 256 KB.  Nothing may appear in new/ meanwhile; once the
        limit is back, the retry delivers the message exactly once."""
        s = self.suite
        agent = s.delivery_agent().pid
        old = resource.prlimit(agent, resource.RLIMIT_FSIZE)
        self.set_fsize(agent, (256 * 1024, old[1]))
        try:
            msg = self.big_message("fsize crash", 2)
            code, text = s.send(msg)
            self.assertEqual(code, 250, text)
            # Several attempts fail (retry 1s, max 2s).
            end = time.monotonic() + 5
            while time.monotonic() < end:
                self.assertEqual(s.mail_files("bob"), [],
                                 "a file reached new/ with the write cut")
                time.sleep(0.05)
            self.assertIn(queue_id(text), s.spool_entries("queue"))
        finally:
            self.set_fsize(agent, old)
        self.assert_one_copy(msg)
        self.wait_queue_empty(queue_id(text))


if __name__ == "__main__":
    unittest.main()
