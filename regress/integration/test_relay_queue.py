"""The queue manager's side of the relay (queued/queue_relay.c), end to
end through the real relay process: sallyport relays for 127.0.0.1,
its resolver an nsd of this module's own (relaypeers.Nsd on 127.0.19.53)
that gives each test domain an MX on 127.0.19.x, where a scripted server
(relaypeers.FakeServer) listens on port 25.

  - the envelopes of one message for one domain (its case aside) go in
    one transaction, another domain's in another;
  - per-recipient results: 250 removed, 451 deferred with the remote
    reply as the last error in "sallyctl show queue", 550 bounced to the
    sender's Maildir with Action: failed, Remote-MTA: dns; <host> and
    Diagnostic-Code: smtp; <the reply>;
  - "sallyctl show hosts" and the relay's counters in "show stats";
  - the relay killed (-9) with a batch out: the batch is requeued,
    logged maybe-sent, and delivered by the new relay.

  - a recipient deferred past "queue ... delay-notice" gets its sender
    one delay notice (Action: delayed, the remote reply, Will-Retry-
    Until) however many retries follow, and stays queued; a local
    mailbox that defers, the same;
  - kill -9 of the relay and then of the queue manager while 500
    remote messages flow: none lost, the duplicates counted (printed).

When a notice is owed (NOTIFY) is unit-tested (test_queue_relay.c)."""

import os
import signal
import smtplib
import sys
import time
import unittest

import relaypeers
from relaypeers import FakeServer, Nsd
from suite import SuiteTest, make_message, queue_id, wait_for

NET = "127.0.19."
NSD_ADDR = NET + "53"
ZONE_NAME = "rq.example"
WAIT = 90

# domain -> last octet of its MX's address
MX = {"ok": 10, "other": 11, "mix": 12, "kill": 13, "slow": 14,
      "flow": 15}

ZONE = """$ORIGIN rq.example.
$TTL 300
@ SOA ns.rq.example. admin.rq.example. 1 3600 600 86400 60
@ NS ns
ns A {net}53
""".format(net=NET) + "".join(
    "{d} MX 10 mx.{d}\nmx.{d} A {net}{n}\n".format(d=d, n=n, net=NET)
    for d, n in MX.items())

NSD = None


def setUpModule():
    global NSD
    if not relaypeers.have_nsd():
        raise unittest.SkipTest("nsd or ldnsutils not installed")
    NSD = Nsd(NSD_ADDR, {ZONE_NAME: ZONE}).start()


def tearDownModule():
    if NSD is not None:
        NSD.close()


def addr(user, domain):
    return "%s@%s.%s" % (user, domain, ZONE_NAME)


class RelayQueueCase(SuiteTest):
    """A suite whose resolver is the module's nsd."""

    @classmethod
    def setUpClass(cls):
        cls.suite_args = dict(cls.suite_args,
                              resolver=NSD.resolver_args(validate=False))
        super().setUpClass()

    def serve(self, domain, **opts):
        s = FakeServer(NET + str(MX[domain]), 25, **opts)
        self.addCleanup(s.close)
        return s

    def send(self, subject, rcpts):
        code, text = self.suite.send(make_message(subject, [subject],
                                                  rcpt=rcpts[0]),
                                     rcpts=rcpts)
        self.assertEqual(code, 250, text)
        return queue_id(text)

    def ctl(self, *args):
        r = self.suite.sallyctl(*args)
        self.assertEqual(r.returncode, 0, "sallyctl %s: %s%s"
                         % (" ".join(args), r.stdout, r.stderr))
        return r.stdout

    def queue_lines(self, msgid):
        return [l for l in self.ctl("show", "queue").splitlines()
                if l.startswith(msgid + ".")]

    def dsns(self, mark, action):
        """The notifications in alice's Maildir about mark."""
        found = []
        if not os.path.isdir(self.suite.maildir("alice")):
            return found
        for name in os.listdir(self.suite.maildir("alice")):
            with open(os.path.join(self.suite.maildir("alice"), name),
                      "rb") as f:
                data = f.read()
            if mark.encode() in data and \
                    b"Action: %s" % action.encode() in data:
                found.append(data.decode("latin-1"))
        return found


class TestRelayQueue(RelayQueueCase):
    # Retries an hour away: a second try is "sallyctl schedule"'s doing.
    suite_args = {"retry": "1h", "max_retry": "4h", "expire": "4d",
                  "extra_config": ["relay from 127.0.0.1/32"]}

    def stats(self):
        return dict(l.split() for l in self.ctl("show", "stats")
                    .splitlines())

    def bounces(self, mark):
        return self.dsns(mark, "failed")

    def test_batch_per_domain(self):
        ok = self.serve("ok")
        other = self.serve("other")
        rcpts = [addr("a", "ok"), addr("b", "OK"), addr("c", "ok"),
                 addr("d", "other")]
        msgid = self.send("batch", rcpts)
        wait_for(lambda: len(ok.delivered()) >= 1 and
                 len(other.delivered()) >= 1, WAIT, interval=0.2,
                 what="both domains' transactions")
        txns = ok.delivered()
        self.assertEqual(len(txns), 1, [t.rcpts for t in txns])
        self.assertEqual(sorted(a.lower() for a in txns[0].delivered()),
                         sorted(r.lower() for r in rcpts[:3]))
        self.assertEqual(other.delivered()[0].delivered(), [rcpts[3]])
        wait_for(lambda: not self.queue_lines(msgid), WAIT, interval=0.2,
                 what="the relayed envelopes removed")
        log = self.suite.log("queued")
        self.assertRegex(log, r"%s\.\d+ queue relay-start id=\d+ "
                         r"domain=ok\.rq\.example rcpts=3" % msgid)
        self.assertEqual(log.count("queue relayed relay="), 4, log)
        self.assertGreaterEqual(int(self.stats()["envelopes.relayed"]), 4)

    def test_hundred_recipients_few_transactions(self):
        """100 recipients of one message for one domain: the expansions
        gather (QUEUE_RELAY_GATHER_SECS) and go in one transaction, or a
        few on a machine too busy to expand them all within it."""
        ok = self.serve("ok")
        rcpts = [addr("r%03d" % i, "ok") for i in range(100)]
        msgid = self.send("hundred", rcpts)
        wait_for(lambda: sum(len(t.delivered()) for t in ok.delivered())
                 >= 100, WAIT, interval=0.2, what="100 recipients relayed")
        txns = ok.delivered()
        sys.stderr.write("\n100 recipients: %d transaction(s), %s\n"
                         % (len(txns), [len(t.delivered()) for t in txns]))
        self.assertLessEqual(len(txns), 5)
        self.assertEqual(sorted(a for t in txns for a in t.delivered()),
                         sorted(rcpts))
        wait_for(lambda: not self.queue_lines(msgid), WAIT, interval=0.2,
                 what="the queue empty")

    def test_mixed_results(self):
        good, later, bad = addr("good", "mix"), addr("later", "mix"), \
            addr("bad", "mix")
        mx = self.serve("mix", rcpt={
            later: [b"451 4.2.0 mailbox busy, try later\r\n",
                    b"250 2.1.5 ok now\r\n"],
            bad: b"550 5.1.1 no such user here\r\n"})
        mark = "mixed-%d" % time.monotonic_ns()
        msgid = self.send(mark, [good, later, bad])
        bounce = wait_for(lambda: self.bounces(mark), WAIT, interval=0.2,
                          what="the bounce of %s" % bad)[0]
        self.assertIn("Final-Recipient: rfc822; %s" % bad, bounce)
        self.assertIn("Action: failed\nStatus: 5.1.1\n"
                      "Remote-MTA: dns; mx.mix.rq.example\n"
                      "Diagnostic-Code: smtp; 550 5.1.1 no such user here\n",
                      bounce)
        self.assertEqual(bounce.count("Final-Recipient:"), 1, bounce)
        self.assertEqual(len(self.bounces(mark)), 1)
        self.assertEqual([t.delivered() for t in mx.delivered()], [[good]])
        # The deferred one waits, its last error the remote reply.
        lines = wait_for(lambda: [l for l in self.queue_lines(msgid)
                                  if "said:" in l], WAIT, interval=0.2,
                         what="the deferred envelope's last error")
        self.assertEqual(len(self.queue_lines(msgid)), 1)
        self.assertIn(later, lines[0])
        self.assertIn("4.2.0 mx.mix.rq.example[127.0.19.12]:25 said: 451 "
                      "4.2.0 mailbox busy, try later", lines[0])
        out = self.ctl("show", "hosts")
        self.assertIn("mix.rq.example", out)
        stats = self.stats()
        self.assertEqual(stats["relay.up"], "1")
        self.assertGreaterEqual(int(stats["envelopes.relay_deferred"]), 1)
        self.assertGreaterEqual(int(stats["envelopes.relay_bounced"]), 1)
        self.assertTrue(any(k.startswith("relay.") and k not in
                            ("relay.up", "relay.inflight", "relay.batches")
                            for k in stats), stats)
        # schedule: tried again now, and delivered.
        self.ctl("schedule", msgid)
        wait_for(lambda: mx.delivered(later), WAIT, interval=0.2,
                 what="%s delivered after schedule" % later)
        wait_for(lambda: not self.queue_lines(msgid), WAIT, interval=0.2,
                 what="the queue empty")
        self.assertEqual(len(self.bounces(mark)), 1)

    def test_relay_killed_batch_requeued(self):
        rcpt = addr("k", "kill")
        # The first connection goes silent at MAIL; the second delivers.
        mx = self.serve("kill", stall=[b"MAIL", None], stall_secs=600)
        msgid = self.send("killed", [rcpt])
        wait_for(lambda: b"MAIL" in mx.verbs(), WAIT, interval=0.2,
                 what="the first try at MAIL")
        relay = self.suite.wait_child_as("queued", "_sallyrelay",
                                         role="relay")
        os.kill(relay.pid, signal.SIGKILL)
        wait_for(lambda: "%s.1 queue requeued reason=relay-down "
                 "maybe-sent=1" % msgid in self.suite.log("queued"), WAIT,
                 interval=0.2, what="the batch requeued")
        wait_for(lambda: self.suite.wait_child_as(
            "queued", "_sallyrelay", exclude=(relay.pid,), role="relay"),
            WAIT, what="a new relay")
        self.ctl("schedule", msgid)
        wait_for(lambda: mx.delivered(rcpt), WAIT, interval=0.2,
                 what="delivered by the new relay")
        self.assertRegex(self.suite.log("queued"),
                         r"%s\.1 queue relay-start id=\d+ domain=kill\."
                         r"rq\.example rcpts=1 recovered=1" % msgid)


class TestDelayNotice(RelayQueueCase):
    suite_args = {"retry": "1s", "max_retry": "2s", "expire": "1h",
                  "delay_notice": "3s",
                  "extra_config": ["relay from 127.0.0.1/32",
                                   "relay backoff 1s max 2s"]}

    def test_delay_notice_once(self):
        rcpt = addr("slow", "slow")
        mx = self.serve("slow", rcpt={
            rcpt: b"452 4.2.2 mailbox over quota, later\r\n"})
        mark = "delayed-%d" % time.monotonic_ns()
        msgid = self.send(mark, [rcpt])
        notice = wait_for(lambda: self.dsns(mark, "delayed"), WAIT,
                          interval=0.2, what="the delay notice")[0]
        self.assertIn("Subject: Delayed Mail (still being retried)",
                      notice)
        self.assertIn("Final-Recipient: rfc822; %s\nAction: delayed\n"
                      "Status: 4.2.2\nRemote-MTA: dns; mx.slow.rq.example\n"
                      "Diagnostic-Code: smtp; 452 4.2.2 mailbox over quota, "
                      "later\n" % rcpt, notice)
        self.assertIn("Will-Retry-Until: ", notice)
        # Retried on, and no second notice.
        tries = mx.rcpt_tries(rcpt)
        wait_for(lambda: mx.rcpt_tries(rcpt) >= tries + 3, WAIT,
                 interval=0.2, what="three more tries")
        self.assertEqual(len(self.dsns(mark, "delayed")), 1)
        self.assertEqual(self.dsns(mark, "failed"), [])
        self.assertEqual(len(self.queue_lines(msgid)), 1)
        self.assertEqual(self.suite.log("queued").count(
            "%s.1 queue dsn action=delayed" % msgid), 1)
        path = os.path.join(self.suite.spool, "queue", msgid, msgid + ".1")
        with open(path) as f:
            self.assertIn("\ndelay-notified=1\n", f.read())

    def test_delay_notice_mailbox(self):
        """A local mailbox that defers gets the same notice, once."""
        tmp = self.suite.make_maildir("bob")
        os.chmod(tmp, 0o500)        # bob cannot write: temporary failure
        self.addCleanup(os.chmod, tmp, 0o700)
        mark = "mbox-delayed-%d" % time.monotonic_ns()
        msgid = self.send(mark, ["bob@example.test"])
        notice = wait_for(lambda: self.dsns(mark, "delayed"), WAIT,
                          interval=0.2, what="the delay notice")[0]
        self.assertIn("Final-Recipient: rfc822; bob@example.test\n"
                      "Action: delayed\nStatus: 4.", notice)
        self.assertNotIn("Remote-MTA", notice)
        log = self.suite.log("queued")
        tries = log.count("%s.1 queue tempfail" % msgid)
        wait_for(lambda: self.suite.log("queued").count(
            "%s.1 queue tempfail" % msgid) >= tries + 3, WAIT, interval=0.2,
            what="three more tries")
        self.assertEqual(len(self.dsns(mark, "delayed")), 1)
        os.chmod(tmp, 0o700)
        wait_for(lambda: not self.queue_lines(msgid), WAIT, interval=0.2,
                 what="delivered once bob can be written to")


class TestRelayCrash(RelayQueueCase):
    suite_args = {"retry": "1s", "max_retry": "2s", "expire": "1h",
                  "extra_config": ["relay from 127.0.0.1/32",
                                   "relay backoff 1s max 2s"]}
    MESSAGES = 500

    def delivered_marks(self, mx):
        """marker -> how many times the sink took it."""
        counts = {}
        for t in mx.delivered():
            body = t.body() or b""
            i = body.find(b"Subject: flow-")
            if i != -1:
                mark = body[i + 9:body.index(b"\n", i)].decode()
                counts[mark] = counts.get(mark, 0) + 1
        return counts

    def test_kill_relay_and_manager_while_flowing(self):
        mx = self.serve("flow")
        rcpt = addr("sink", "flow")
        marks = ["flow-%04d" % i for i in range(self.MESSAGES)]
        relay = self.suite.wait_child_as("queued", "_sallyrelay")
        manager = self.suite.manager()
        killed = []
        s = self.suite.smtp()
        try:
            s.ehlo()
            for i, mark in enumerate(marks):
                msg = make_message(mark, [mark], rcpt=rcpt)
                for _ in range(60):
                    try:
                        s.sendmail("alice@example.test", [rcpt], msg)
                        break
                    except (smtplib.SMTPResponseException,
                            smtplib.SMTPServerDisconnected) as e:
                        # 4xx while the manager restarts: send again,
                        # on a new session.
                        if isinstance(e, smtplib.SMTPResponseException):
                            self.assertEqual(e.smtp_code // 100, 4, e)
                        s.close()
                        time.sleep(0.5)
                        s = self.suite.smtp()
                        s.ehlo()
                else:
                    self.fail("%s never accepted" % mark)
                if i == self.MESSAGES // 4:
                    os.kill(relay.pid, signal.SIGKILL)
                    killed.append("relay")
                if i == self.MESSAGES // 2:
                    os.kill(manager.pid, signal.SIGKILL)
                    killed.append("manager")
        finally:
            try:
                s.quit()
            except (smtplib.SMTPException, OSError):
                s.close()
        self.assertEqual(killed, ["relay", "manager"])

        def all_there():
            got = self.delivered_marks(mx)
            if len(got) >= len(marks):
                return got
            # Requeued batches wait QUEUE_RELAY_REQUEUE_SECS: hurry them.
            self.suite.sallyctl("schedule", "all")
            return None
        got = wait_for(all_there, 240, interval=2,
                       what="all %d messages at the sink" % len(marks))
        self.assertEqual(sorted(got), marks, "lost or unknown messages")
        dups = sum(n - 1 for n in got.values())
        sys.stderr.write("\n%d messages, relay and manager killed: %d "
                         "delivered twice or more (%d extra copies)\n"
                         % (len(marks), sum(1 for n in got.values()
                                            if n > 1), dups))
        # Both deaths were seen, and the manager came back.
        log = self.suite.log("queued")
        self.assertIn("proc died name=relay", log)
        self.assertIn("proc died name=queue-manager", log)


if __name__ == "__main__":
    unittest.main()
