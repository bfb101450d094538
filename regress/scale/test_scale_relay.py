"""The relay at the sizes users have, under the real sandboxes: remote
envelopes written into the spool by mkqueue (queued's own serialiser,
remote=1) while queued is stopped, then relayed by MX through the
module's nsd (relaypeers.Nsd on 127.0.88.53: d0 .. d<N-1>.rs.example,
each with its MX mx.rs.example at 127.0.88.25) to a CountingSink on
127.0.88.25:25 that counts every (Message-ID, recipient) it takes.
Routing by MX, not "relay to default via": a smarthost is one
destination of the relay's pool whatever the domain, so only MX gives
the pool its 1,000 destinations.

  - 100,000 envelopes (20,000 messages x 5 recipients, two to a domain,
    across 1,000 domains): recovered and relayed, each exactly once,
    the spool empty at the end, no descriptor left open in the manager
    or the relay, connections per message and peak RSS printed; a local
    message sent while the manager has its most batches out (the sink
    holds every end of data) is delivered meanwhile;
  - the same with the sink down: every envelope deferred, the relay
    backs each destination off (connection attempts counted), smtpd
    still takes a message while the manager rewrites them (timed),
    show queue (read slowly) and show hosts list everything, then the
    sink comes up and schedule all delivers everything;
  - a 50 MB message to 100 recipients across 10 domains: the bytes at
    the sink are the spool's, the relay's memory stays bounded;
  - the relay killed -9 in the middle: nothing lost, duplicates counted.

SALLYPORT_SCALE multiplies the sizes (test_scale_smoke.py runs them at
1/500 in make check)."""

import hashlib
import os
import re
import signal
import smtplib
import subprocess
import sys
import time
import unittest

import relaypeers
import suite
from relaypeers import CountingSink, Nsd
from suite import SuiteTest, make_message, wait_for

import scale

NET = "127.0.88."
NSD_ADDR = NET + "53"
SINK_ADDR = NET + "25"
ZONE_NAME = "rs.example"
MESSAGES = scale.size(20000)
PER_MESSAGE = 5
DOMAINS = scale.size(1000)
# The manager's QUEUE_RELAY_INFLIGHT_MAX (common/sp_limits.h).
INFLIGHT_MAX = 4096
BIG = scale.size(50 * 1024 * 1024)
BIG_RCPTS = 100
BIG_DOMAINS = 10
KILL_MESSAGES = scale.size(4000)

# Ten times more destinations than connection slots, as at full size
# with the defaults (100, 10 a domain): the smoke's too wait in line.
SLOTS = ["limit relay-connections %d" % max(1, DOMAINS // 10),
         "limit relay-connections-per-domain %d"
         % min(10, max(1, DOMAINS // 10))]

NSD = None


def zone(domains):
    return ("$ORIGIN rs.example.\n$TTL 3600\n"
            "@ SOA ns.rs.example. admin.rs.example. 1 3600 600 86400 3600\n"
            "@ NS ns\nns A %s\nmx A %s\n" % (NSD_ADDR, SINK_ADDR) +
            "".join("d%d MX 10 mx\n" % k for k in range(domains)))


def setUpModule():
    global NSD
    if not relaypeers.have_nsd():
        raise unittest.SkipTest("nsd or ldnsutils not installed")
    if not os.access(scale.MKQUEUE, os.X_OK):
        raise unittest.SkipTest("regress/scale/mkqueue is not built")
    NSD = Nsd(NSD_ADDR, {ZONE_NAME: zone(max(DOMAINS, BIG_DOMAINS))})
    NSD.start()


def tearDownModule():
    if NSD is not None:
        NSD.close()


def expected(spool, domains, per_message):
    """{(Message-ID, rcpt)} of mkqueue's messages in the spool (the
    recipients follow from each message's number, mkqueue.c)."""
    want = set()
    for msgid in os.listdir(os.path.join(spool, "queue")):
        i = int(msgid[8:], 16)
        for n in range(per_message):
            want.add(("<%s@mkqueue.test>" % msgid,
                      ("u%d@d%d.%s" % (n, (i + n // 2) % domains,
                                       ZONE_NAME)).encode()))
    return want


def batches(messages, domains, per_message):
    """RELAY_STARTs the manager makes: one per message and domain."""
    return sum(len(set((i + n // 2) % domains for n in range(per_message)))
               for i in range(messages))


def fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def peak_rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def note(text):
    sys.stderr.write("measure: %s\n" % text)
    sys.stderr.flush()


class RelayScaleCase(SuiteTest):
    """A suite whose resolver is the module's nsd, and a sink."""

    extra = []

    @classmethod
    def setUpClass(cls):
        cls.suite_args = dict(cls.suite_args,
                              resolver=NSD.resolver_args(validate=False),
                              extra_config=["relay from 127.0.0.1/32",
                                            "timeout relay-idle 2s"]
                              + SLOTS + cls.extra)
        super().setUpClass()

    def sink(self, **kw):
        k = CountingSink(SINK_ADDR, 25, track=True, **kw)
        self.addCleanup(k.close)
        return k

    def mkqueue(self, messages, per_message, domains, body=0):
        s = self.suite
        uid, gid = suite.user_ids(suite.DAEMON_USERS["queue"])
        args = [scale.MKQUEUE, s.spool, str(messages), str(per_message),
                str(uid), str(gid), str(int(time.time()) - 1),
                str(domains), ZONE_NAME]
        if body:
            args.append(str(body))
        r = scale.measure("mkqueue %d remote envelopes"
                          % (messages * per_message), subprocess.run, args,
                          capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)

    def start_queued(self):
        since = len(self.suite.log("queued"))
        self.suite.start_daemon("queued")
        wait_for(lambda: "queue ready" in self.suite.log("queued")[since:]
                 or None, scale.SLOW_SECS, interval=0.5,
                 what="queued's recovery")
        return self.suite.manager(), self.suite.relay()

    def stats(self):
        r = self.suite.sallyctl("show", "stats", timeout=scale.SLOW_SECS)
        self.assertEqual(r.returncode, 0, r.stderr)
        return {k: int(v) for k, v in (l.split() for l in
                                        r.stdout.splitlines())
                if v.isdigit()}

    def spool_empty(self):
        return not os.listdir(os.path.join(self.suite.spool, "queue"))

    def wait_all(self, sink, want, secs=scale.SLOW_SECS, kick=False):
        def done():
            if set(sink.seen) >= want:
                return True
            if kick:
                self.suite.sallyctl("schedule", "all")
            return None
        wait_for(done, secs, interval=1 if not kick else 3,
                 what="%d envelopes at the sink (has %d)"
                 % (len(want), len(sink.seen)))

    def check_log(self):
        log = self.suite.log("queued")
        self.assertNotIn("sandbox violation", log)
        self.assertNotIn("relay-protocol-error", log)

    def try_send(self, subject, rcpt="alice@example.test"):
        """Seconds smtpd and the manager took to take a message."""
        def once():
            try:
                return self.suite.send(make_message(subject, [subject],
                                                    rcpt=rcpt),
                                       rcpts=(rcpt,))[0] == 250 or None
            except (AssertionError, smtplib.SMTPException, OSError):
                return None     # smtpd reconnects to a new queued
        t0 = time.monotonic()
        wait_for(once, 120, interval=0.2, what="smtpd to take a message")
        return time.monotonic() - t0


class TestScaleRelay(RelayScaleCase):

    def test_relay_100k(self):
        s = self.suite
        manager, relay = s.manager(), s.relay()
        base = (fds(manager.pid), fds(relay.pid))
        s.stop_daemon("queued")
        self.mkqueue(MESSAGES, PER_MESSAGE, DOMAINS)
        want = expected(s.spool, DOMAINS, PER_MESSAGE)
        nbatch = batches(MESSAGES, DOMAINS, PER_MESSAGE)
        self.assertEqual(len(want), MESSAGES * PER_MESSAGE)
        sink = self.sink()
        sink.set_hold(True)
        t0 = time.monotonic()
        manager, relay = self.start_queued()
        # The sink holds every message: the manager's batches pile up to
        # its limit; a local message must go past the remote ones.
        out = min(nbatch, INFLIGHT_MAX)
        wait_for(lambda: self.stats().get("relay.inflight", 0) >= out
                 or None, scale.SLOW_SECS, interval=1,
                 what="%d batches out" % out)
        self.try_send("local past the relay")
        scale.measure("a local message past %d batches out (%d waiting)"
                      % (out, nbatch - out), s.wait_marked,
                      "local past the relay", user="alice", timeout=120)
        sink.set_hold(False)
        self.wait_all(sink, want)
        t = time.monotonic() - t0
        wait_for(lambda: self.spool_empty() or None, scale.SLOW_SECS,
                 interval=1, what="the spool empty")
        dups = {k: v for k, v in sink.seen.items() if v != 1}
        self.assertEqual(set(sink.seen), want)
        self.assertEqual(dups, {})
        note("%d envelopes (%d messages, %d batches, %d domains) relayed "
             "in %.1fs: %.0f envelopes/s" % (len(want), MESSAGES, nbatch,
                                             DOMAINS, t, len(want) / t))
        note("%d connections: %.4f per batch" % (sink.conns,
                                                 sink.conns / nbatch))
        note("peak RSS: manager %d KB, relay %d KB"
             % (peak_rss_kb(manager.pid), peak_rss_kb(relay.pid)))
        # Idle sessions end after relay-idle; then no descriptor is left.
        end = wait_for(lambda: (fds(manager.pid), fds(relay.pid))
                       if fds(relay.pid) <= base[1] + 4 and
                       fds(manager.pid) <= base[0] + 4 else None, 120,
                       interval=1, what="descriptors back to %s (%s now)"
                       % (base, (fds(manager.pid), fds(relay.pid))))
        note("descriptors manager %d -> %d, relay %d -> %d"
             % (base[0], end[0], base[1], end[1]))
        # Sessions are reused (with more destinations than slots, a
        # session carries a few messages, not relay-messages-per-
        # connection: 0.14 a batch at full size).
        self.assertLessEqual(sink.conns, max(nbatch // 2, 2 * DOMAINS))
        self.check_log()


class TestScaleRelayDown(RelayScaleCase):
    suite_args = {"retry": "30m", "max_retry": "1h", "expire": "1d"}
    extra = ["relay backoff 5s max 5s"]

    def test_all_down(self):
        s = self.suite
        s.stop_daemon("queued")
        self.mkqueue(MESSAGES, PER_MESSAGE, DOMAINS)
        want = expected(s.spool, DOMAINS, PER_MESSAGE)
        total = len(want)
        t0 = time.monotonic()
        manager, relay = self.start_queued()
        # Deferrals being written: smtpd and the manager still answer.
        # The manager's loop alone (show stats), and a commit (which
        # also waits for the sync threads, behind the rewrites).
        worst, worst_ctl, n = 0.0, 0.0, 0
        while True:
            t = time.monotonic()
            deferred = self.stats().get("envelopes.relay_deferred", 0)
            worst_ctl = max(worst_ctl, time.monotonic() - t)
            if deferred >= total:
                break
            worst = max(worst, self.try_send("during %d" % n))
            n += 1
            if time.monotonic() - t0 > scale.SLOW_SECS:
                self.fail("not all deferred: %s" % self.stats())
            time.sleep(0.5)
        note("%d envelopes deferred in %.1fs; meanwhile show stats "
             "answered within %.2fs at worst, %d messages taken, the "
             "slowest in %.2fs" % (total, time.monotonic() - t0,
                                   worst_ctl, n, worst))
        st = self.stats()
        note("relay connection attempts while down: %d for %d "
             "destinations, %d batches"
             % (st.get("relay.connect_failed", 0), DOMAINS,
                batches(MESSAGES, DOMAINS, PER_MESSAGE)))
        # One try per destination and backoff period, not per batch.
        self.assertLessEqual(st.get("relay.connect_failed", 0),
                             3 * DOMAINS)
        r = scale.measure("show queue, a slow reader", self.listed_slowly)
        lines = [l for l in r if re.match(r"[0-9a-f]{16}\.\d+ ", l)]
        self.assertEqual(len(lines), total)
        r = scale.measure("show hosts", s.sallyctl, "show", "hosts",
                          timeout=scale.SLOW_SECS)
        self.assertEqual(r.returncode, 0, r.stderr)
        hosts = set(re.findall(r"d\d+\.rs\.example", r.stdout))
        self.assertEqual(len(hosts), DOMAINS, r.stdout[:2000])
        sink = self.sink()
        t1 = time.monotonic()
        self.wait_all(sink, want, kick=True)
        note("%d envelopes delivered %.1fs after the sink came back"
             % (total, time.monotonic() - t1))
        self.assertEqual({k: v for k, v in sink.seen.items() if v != 1}, {})
        wait_for(lambda: self.spool_empty() or None, scale.SLOW_SECS,
                 interval=1, what="the spool empty")
        self.check_log()

    def listed_slowly(self):
        rc, out, err = scale.ctl_slowly(self.suite, "show", "queue")
        self.assertEqual(rc, 0, err)
        return out.splitlines()


class TestScaleRelayBig(RelayScaleCase):

    def test_big_message(self):
        s = self.suite
        s.stop_daemon("queued")
        self.mkqueue(1, BIG_RCPTS, BIG_DOMAINS, BIG)
        want = expected(s.spool, BIG_DOMAINS, BIG_RCPTS)
        msgid = os.listdir(os.path.join(s.spool, "queue"))[0]
        with open(os.path.join(s.spool, "queue", msgid, "message"),
                  "rb") as f:
            data = f.read().replace(b"\n", b"\r\n")
        digest = hashlib.sha256(data).hexdigest()
        sink = self.sink()
        t0 = time.monotonic()
        manager, relay = self.start_queued()
        self.wait_all(sink, want)
        note("a %d MB message to %d recipients in %d domains: %.1fs, %d "
             "transactions, relay peak RSS %d KB, manager %d KB"
             % (len(data) >> 20, BIG_RCPTS, BIG_DOMAINS,
                time.monotonic() - t0, sink.messages,
                peak_rss_kb(relay.pid), peak_rss_kb(manager.pid)))
        self.assertEqual(sink.bodies, {"<%s@mkqueue.test>" % msgid:
                                       (digest, len(data))})
        self.assertEqual({k: v for k, v in sink.seen.items() if v != 1}, {})
        # Streamed: the relay never holds the message.
        self.assertLess(peak_rss_kb(relay.pid), 48 * 1024)
        wait_for(lambda: self.spool_empty() or None, scale.SLOW_SECS,
                 interval=1, what="the spool empty")
        self.check_log()


class TestScaleRelayKill(RelayScaleCase):

    def test_relay_killed(self):
        s = self.suite
        s.stop_daemon("queued")
        self.mkqueue(KILL_MESSAGES, PER_MESSAGE, DOMAINS)
        want = expected(s.spool, DOMAINS, PER_MESSAGE)
        sink = self.sink()
        manager, relay = self.start_queued()
        wait_for(lambda: len(sink.seen) >= len(want) // 3 or None,
                 scale.SLOW_SECS, interval=0.05,
                 what="a third at the sink")
        os.kill(relay.pid, signal.SIGKILL)
        at = len(sink.seen)
        # Requeued batches wait QUEUE_RELAY_REQUEUE_SECS: hurry them.
        self.wait_all(sink, want, kick=True)
        dups = sum(v - 1 for v in sink.seen.values())
        note("relay killed -9 with %d of %d envelopes at the sink: none "
             "lost, %d delivered twice or more (%d extra copies)"
             % (at, len(want), sum(1 for v in sink.seen.values() if v > 1),
                dups))
        self.assertEqual(set(sink.seen), want)
        wait_for(lambda: "proc died name=relay" in s.log("queued") or None,
                 60, what="the relay's death in the log")
        wait_for(lambda: self.spool_empty() or None, scale.SLOW_SECS,
                 interval=1, what="the spool empty")
        self.check_log()


if __name__ == "__main__":
    unittest.main()
