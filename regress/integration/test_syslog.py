"""The daemons as the systemd units run them (issue 12), and their log
in production.

- test_as_units: started with -F, each under its unit's capability
  bounding set and with no_new_privs (setpriv(1) with the
  CapabilityBoundingSet= lines of etc/systemd/sallyport-NAME.service.in
  and NoNewPrivileges=yes), on a system read-only but for the suite's
  directory (as ProtectSystem=strict leaves it with the units' writable
  paths), the suite receives, delivers and serves a message: the units'
  limits are enough for every privilege drop.  They stay in the
  foreground and log through syslog(3) with facility mail, one event a
  line in the suite's format ("<id> <proto> <event> key=value ..."),
  every role included, the chrooted and sandboxed ones through the
  socket they opened before the chroot; nothing goes to stderr.
- test_daemonized: without -d or -F, as an rc script starts them.
- test_debug_stderr: -d still logs to stderr, and nothing to syslog.

The test's own /dev/log: a datagram socket of the test's, which a
symbolic link /dev/log names in a mount namespace of its own (an
overlay of /dev there, so the machine's /dev is untouched and no
syslogd is needed); the daemons run in that namespace (nsenter)."""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
from unittest import mock

import mountns
import suite

UNIT = os.path.join(suite.REPO, "etc/systemd/sallyport-%s.service.in")

LOG_MAIL = 2            # <syslog.h>: LOG_MAIL is 2 << 3
LOG_INFO = 6
SETTLE_SECS = 1.0
# glibc's syslog(3): "<PRI>Mmm dd hh:mm:ss ident[pid]: message".
SYSLOG_LINE = re.compile(
    rb"^<(\d+)>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d ([\w.-]+)\[(\d+)\]: "
    rb"(.*)$")
# The suite's one-line format: an id ("-", a session's or a message's,
# a recipient's), a word, an event.
EVENT = re.compile(rb"^(-|[0-9a-f]{8,16}(\.\d+)?) [\w.-]+ [\w.-]+")


class LogSink:
    """The datagrams sent to the socket at path, collected by a thread."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        os.chmod(path, 0o666)
        self.sock.settimeout(0.2)
        self.lines = []
        self.done = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.done:
            try:
                self.lines.append(self.sock.recv(65536))
            except socket.timeout:
                continue
            except OSError:
                return

    def close(self):
        self.done = True
        self.thread.join()
        self.sock.close()


# capabilities(7): the numbers of those the units name.
CAP_NUMBERS = {"chown": 0, "dac_override": 1, "dac_read_search": 2,
               "fowner": 3, "kill": 5, "setgid": 6, "setuid": 7,
               "net_bind_service": 10, "sys_chroot": 18}


def proc_status(pid):
    with open("/proc/%d/status" % pid) as f:
        return dict(l.rstrip("\n").split(":\t", 1) for l in f)


def unit_setpriv(d):
    """setpriv(1)'s arguments for what d's unit allows it."""
    caps, nnp = [], False
    with open(UNIT % d) as f:
        for line in f:
            key, _, value = line.strip().partition("=")
            if key == "CapabilityBoundingSet":
                caps += [c.lower().replace("cap_", "", 1)
                         for c in value.split()]
            elif key == "NoNewPrivileges":
                nnp = value == "yes"
    assert caps, "no CapabilityBoundingSet in %s" % (UNIT % d)
    argv = ["setpriv", "--bounding-set", ",".join(["-all"] +
                                                  ["+" + c for c in caps])]
    return argv + (["--no-new-privs"] if nnp else [])


class SyslogSuite(suite.Suite):
    """A suite whose daemons run in mns, with -F and their units'
    limits, or with -d."""

    def __init__(self, name, mns, tmp, debug=False, **kw):
        self.mns, self.debug = mns, debug
        # The suite's root in tmp, which alone is writable in mns.
        with mock.patch.dict(os.environ, {"SALLYPORT_TEST_TMPDIR": tmp}):
            super().__init__(name, **kw)

    def daemon_argv(self, d):
        if self.debug:
            return self.mns.argv(self.binary(d), "-d", "-f", self.conf)
        return self.mns.argv(*unit_setpriv(d), self.binary(d), "-F", "-f",
                             self.conf)


class TestSyslog(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sallyport-syslog-", dir="/tmp")
        os.chmod(self.tmp, 0o755)
        self.mns = mountns.MountNamespace()
        self.addCleanup(self.mns.close)
        dev = os.path.join(self.tmp, "dev")
        sock = os.path.join(self.tmp, "log.sock")
        os.makedirs(dev)
        self.mns.mount_or_skip(
            "mount -t tmpfs -o mode=0755 sallyport-dev %s && "
            "mkdir %s/upper %s/work && "
            "mount -t overlay -o lowerdir=/dev,upperdir=%s/upper,"
            "workdir=%s/work devlog /dev && ln -s %s /dev/log"
            % (dev, dev, dev, dev, dev, sock), "overlay of /dev")
        # ProtectSystem=strict: every file system read-only but the API
        # ones and the suite's root (its rundir, spool and homes, what
        # the units' RuntimeDirectory= and ReadWritePaths= leave).
        self.mns.mount_or_skip(
            "mount --bind {0} {0} && findmnt -rno TARGET | "
            "while read -r m; do case $m in /proc*|/sys*|/dev*|{0}*) ;; "
            "*) mount -o remount,bind,ro \"$m\" || exit 1;; esac; "
            "done".format(self.tmp), "read-only remount")
        self.sink = LogSink(sock)
        self.addCleanup(self.sink.close)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def parsed(self):
        out = []
        for data in self.sink.lines:
            m = SYSLOG_LINE.match(data)
            self.assertIsNotNone(m, data)
            out.append((int(m.group(1)), m.group(2).decode(),
                        int(m.group(3)), m.group(4)))
        return out

    def run_suite(self, s):
        """A message in over SMTP, delivered, listed over POP3; then
        stopped.  Returns what each daemon wrote on stdout and stderr."""
        try:
            s.start()
            mark = "syslog-%d" % os.getpid()
            code, text = s.send(suite.make_message(mark, ["body"]))
            self.assertEqual(code, 250, text)
            s.wait_marked(mark)
            p = s.pop3("bob")
            self.assertEqual(p.stat()[0], 1)
            p.quit()
            time.sleep(SETTLE_SECS)
            status = {d: proc_status(s.pid(d)) for d in suite.DAEMONS}
            s.stop()
            return {d: s.log(d) for d in suite.DAEMONS}, status
        except BaseException:
            s.keep = True
            s.dump_logs()
            raise
        finally:
            s.cleanup()

    def test_as_units(self):
        """-F and the units' limits (bounding set, no_new_privs, a
        read-only system but for the suite's paths): the suite works;
        every line at facility mail, in the suite's format, from the
        parents and the roles they exec (chrooted ones included);
        nothing on stderr."""
        for ro in ("/etc", "/var", "/usr"):
            self.assertNotEqual(self.mns.ns("test", "-w", ro).returncode, 0)
        s = SyslogSuite("syslog", self.mns, self.tmp)
        output, status = self.run_suite(s)
        for d in suite.DAEMONS:
            caps = unit_setpriv(d)[2].split(",")[1:]
            mask = sum(1 << CAP_NUMBERS[c[1:]] for c in caps)
            self.assertEqual(int(status[d]["CapBnd"], 16), mask, d)
            self.assertEqual(status[d]["NoNewPrivs"], "1", d)

        lines = self.parsed()
        self.assertTrue(lines, "nothing reached /dev/log")
        idents = set()
        for pri, ident, _, msg in lines:
            self.assertEqual(pri >> 3, LOG_MAIL, (ident, msg))
            self.assertNotIn(b"\n", msg)
            self.assertRegex(msg, EVENT)
            idents.add(ident)
        for want in suite.DAEMONS + ("smtp-engine", "queue-manager",
                                     "delivery"):
            self.assertIn(want, idents)
        self.assertTrue(any(pri & 7 == LOG_INFO for pri, *_ in lines))
        for d in suite.DAEMONS:
            self.assertEqual(output[d].strip(), "==== start", d)

    def stop_by_pidfiles(self, s):
        """SIGTERM to each daemon its pidfile names, SIGKILL after the
        suite's stop timeout; True when all had a pidfile."""
        found = True
        for d in reversed(suite.DAEMONS):
            try:
                with open(os.path.join(s.sockdir, d + ".pid")) as f:
                    pid = int(f.read())
            except (OSError, ValueError):
                found = False
                continue
            try:
                os.kill(pid, signal.SIGTERM)
                if not suite.wait_for(lambda: not suite.proc_alive(pid),
                                      suite.STOP_TIMEOUT):
                    os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return found

    def test_daemonized(self):
        """Without -d or -F (an rc script's way): each parent goes to the
        background and its command exits 0 once it is up; the suite
        works and logs to syslog; the pidfiles name the daemons."""
        s = SyslogSuite("syslog-bg", self.mns, self.tmp)
        try:
            for d in suite.DAEMONS:
                r = subprocess.run(self.mns.argv(s.binary(d), "-f", s.conf),
                                   capture_output=True, text=True,
                                   timeout=suite.START_TIMEOUT)
                self.assertEqual((r.returncode, r.stdout), (0, ""),
                                 d + r.stderr)
                # What it said before going to the background, on the
                # terminal, in the suite's format.
                for line in r.stderr.splitlines():
                    self.assertRegex(line.encode(), rb"^%s\[\d+\]: " % (
                        d.encode()) + EVENT.pattern[1:])
                suite.wait_for(lambda: s.is_up(d), suite.START_TIMEOUT,
                               what=d)
            mark = "daemonized-%d" % os.getpid()
            code, text = s.send(suite.make_message(mark, ["body"]))
            self.assertEqual(code, 250, text)
            s.wait_marked(mark)
        finally:
            pidfiles = self.stop_by_pidfiles(s)
            s.cleanup()
        self.assertTrue(pidfiles)
        idents = {ident for pri, ident, _, _ in self.parsed()}
        for want in suite.DAEMONS + ("smtp-engine", "queue-manager",
                                     "delivery"):
            self.assertIn(want, idents)

    def test_debug_stderr(self):
        """-d: the lines go to stderr, none to syslog."""
        s = SyslogSuite("syslog-d", self.mns, self.tmp, debug=True)
        try:
            s.start(("authd",))
            time.sleep(SETTLE_SECS)
            log = s.log("authd")
        finally:
            s.cleanup()
        self.assertRegex(log, r"(?m)^authd\[\d+\]: - authd started ")
        self.assertEqual(self.sink.lines, [])


if __name__ == "__main__":
    unittest.main()
