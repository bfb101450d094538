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

    # ------------------------------------------------------------ power

    def snapshot(self, snap):
        """Hard links of every file now in the spool's queue/ into snap
        (the envelopes and messages as a power loss may bring them back:
        their removal is synced later, queued/queue_remove.c)."""
        queue = os.path.join(self.suite.spool, "queue")
        for msgid in os.listdir(queue):
            d = os.path.join(snap, msgid)
            try:
                names = os.listdir(os.path.join(queue, msgid))
            except FileNotFoundError:
                continue
            os.makedirs(d, exist_ok=True)
            for n in names:
                if n.startswith("tmp.") or os.path.exists(
                        os.path.join(d, n)):
                    continue
                try:
                    os.link(os.path.join(queue, msgid, n),
                            os.path.join(d, n))
                except FileNotFoundError:
                    pass

    def power_cut(self):
        """kill -9 of the whole of queued at once (parent, manager,
        delivery agent and its workers): nothing any of them remembers
        survives, only the disk."""
        s = self.suite
        p = s.procs.pop("queued")
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        wait_for(lambda: not s.group_left(p.pid), 10,
                 what="queued's processes to die")

    def restore(self, snap):
        """Puts back every file of snap missing from queue/: the removals
        a power loss did not let reach the disk.  Returns how many
        envelopes came back."""
        queue = os.path.join(self.suite.spool, "queue")
        qpw = pwd.getpwnam(suite.DAEMON_USERS["queue"])
        back = 0
        for msgid in os.listdir(snap):
            d = os.path.join(queue, msgid)
            # The watcher may have caught an envelope and missed its
            # message, gone with it: no power loss brings back that.
            if not os.path.exists(os.path.join(snap, msgid, "message")) \
                    and not os.path.isdir(d):
                continue
            if not os.path.isdir(d):
                os.mkdir(d, 0o700)
                os.chown(d, qpw.pw_uid, qpw.pw_gid)
            for n in os.listdir(os.path.join(snap, msgid)):
                if not os.path.exists(os.path.join(d, n)):
                    os.link(os.path.join(snap, msgid, n),
                            os.path.join(d, n))
                    back += n != "message"
        return back

    def copies(self, user="bob"):
        """{subject: number of copies} in user's new/ and cur/."""
        got = {}
        for sub in ("new", "cur"):
            for f in self.suite.mail_files(user, sub):
                with open(f, "rb") as fh:
                    m = re.search(rb"(?m)^Subject: (.*)$", fh.read())
                if m is not None:
                    k = m.group(1).decode()
                    got[k] = got.get(k, 0) + 1
        return got

    def test_lost_removals_not_delivered_twice(self):
        """A power loss after deliveries whose envelopes' removals had
        not reached the disk (the worst case: none had): the envelopes
        come back at the restart, and each message is still in bob's
        mailbox once, whether a reader has moved it to cur/ or not.  The
        restarted manager marks what it recovers; the mailbox worker
        finds the delivery by the queue id in the file's name."""
        s = self.suite
        snap = s.path("snap-lost")
        os.mkdir(snap)
        self.block_delivery(True)
        subjects = ["lost removal %d" % i for i in range(30)]
        for subj in subjects:
            code, text = s.send(make_message(subj, ["once only"]))
            self.assertEqual(code, 250, text)
        self.snapshot(snap)
        self.block_delivery(False)
        for msgid in os.listdir(snap):
            s.sallyctl("schedule", msgid)
        wait_for(lambda: not s.spool_entries("queue"), 60,
                 what="every message to be delivered")
        # A reader has seen a third of them (new/X to cur/X:2,S).
        for f in s.mail_files("bob")[:10]:
            os.rename(f, f.replace("/new/", "/cur/") + ":2,S")
        self.power_cut()
        back = self.restore(snap)
        self.assertEqual(back, len(subjects))
        s.start_daemon("queued")
        wait_for(lambda: not s.spool_entries("queue"), 60,
                 what="the recovered envelopes to be done")
        time.sleep(1)
        got = self.copies()
        self.assertEqual(sorted(got), sorted(subjects))
        twice = sorted(k for k, n in got.items() if n > 1)
        self.assertEqual(twice, [], "delivered twice after the restart")
        log = s.log("queued")
        self.assertEqual(log.count("delivery duplicate-suppressed"),
                         len(subjects), "not every recovered envelope "
                         "was found in the Maildir")

    def steady_sender(self, t, stop, acked, sent):
        """As race_sender, in sessions of 50 messages (below the limit
        of messages per session), until stop or a session fails."""
        n = 0
        try:
            while not stop.is_set():
                c = self.suite.smtp()
                c.ehlo()
                for _ in range(50):
                    if stop.is_set():
                        break
                    subject = "power loss %d %d" % (t, n)
                    msg = make_message(subject, ["session %d message %d"
                                                 % (t, n), "x" * 60] * 40)
                    sent[subject] = msg
                    c.sendmail("alice@example.test", ["bob@example.test"],
                               msg)
                    acked.add(subject)
                    n += 1
                c.quit()
        except Exception:
            pass

    def watch(self, snap, stop):
        """Captures every envelope of queue/ while it lives, until stop."""
        while not stop.is_set():
            try:
                self.snapshot(snap)
            except OSError:
                pass
            time.sleep(0.002)

    def test_power_loss_duplicates(self):
        """Measures what issue 14 measured: sessions send to bob, a
        power loss cuts queued at once in the middle (workers killed
        mid-write, results not yet recorded), and every removal since
        the first delivery is lost (all envelopes captured while they
        lived come back).  After the restart each message answered 250
        is in bob's mailbox, and at most 0.1 % of them twice."""
        s = self.suite
        snap = s.path("snap-power")
        os.mkdir(snap)
        stop, wstop = threading.Event(), threading.Event()
        acked, sent = set(), {}
        watcher = threading.Thread(target=self.watch, args=(snap, wstop))
        watcher.start()
        threads = [threading.Thread(target=self.steady_sender,
                                    args=(t, stop, acked, sent))
                   for t in range(4)]
        for th in threads:
            th.start()
        # SALLYPORT_POWER_LOSS_MESSAGES=1000 for a longer measurement.
        n = int(os.environ.get("SALLYPORT_POWER_LOSS_MESSAGES", "150"))
        try:
            wait_for(lambda: len(self.suite.mail_files("bob")) >= n,
                     max(120, n // 2), what="%d deliveries" % n)
            self.power_cut()
        finally:
            stop.set()
            for th in threads:
                th.join(30)
            wstop.set()
            watcher.join(30)
        back = self.restore(snap)
        s.start_daemon("queued")
        wait_for(lambda: not s.spool_entries("queue"), 120,
                 what="the queue to drain after the restart")
        time.sleep(1)
        got = self.copies()
        missing = sorted(k for k in acked if k not in got)
        self.assertEqual(missing, [], "answered 250 but not delivered")
        twice = sorted(k for k, n in got.items() if n > 1)
        delivered = len(got)
        sys.stderr.write("\n    power loss: %d delivered, %d envelopes "
                         "brought back, %d twice (%.2f %%), %d found "
                         "in the Maildir\n" % (
                             delivered, back, len(twice),
                             100.0 * len(twice) / max(delivered, 1),
                             s.log("queued").count(
                                 "delivery duplicate-suppressed")))
        self.assertLessEqual(len(twice), delivered // 1000,
                             "delivered twice: %s" % twice)


if __name__ == "__main__":
    unittest.main()
