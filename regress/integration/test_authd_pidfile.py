"""authd's pidfile (issue 8): root writes it and closes it; what authd
keeps after its drop to _sallyauth is a read-only descriptor that holds
the lock (flock), so that it cannot write another pid into a file that
root's scripts believe, while a second authd is still refused.  Without
-d, authd goes to the background only once it is up, and a start-up
error still reaches the terminal with a non-zero exit.  And the log
files the harness makes are 0640."""

import fcntl
import os
import pwd
import signal
import subprocess
import unittest

import suite
from suite import SuiteTest, wait_for

START_TIMEOUT = 60


def fd_flags(pid, fd):
    with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
        for line in f:
            if line.startswith("flags:"):
                return int(line.split()[1], 8)
    raise AssertionError("no flags for fd %s of %d" % (fd, pid))


def fds_on(pid, path):
    """The descriptors of pid open on path."""
    out = []
    d = "/proc/%d/fd" % pid
    for fd in os.listdir(d):
        try:
            if os.readlink(os.path.join(d, fd)) == path:
                out.append(fd)
        except FileNotFoundError:
            continue
    return out


def read_pid(path):
    with open(path) as f:
        return int(f.read().strip())


class TestAuthdPidfile(SuiteTest):
    start_daemons = ("authd",)

    @property
    def pidfile(self):
        return os.path.join(self.suite.sockdir, "authd.pid")

    def authd(self, *args):
        return subprocess.run([self.suite.binary("authd"), "-f",
                               self.suite.conf] + list(args),
                              capture_output=True, text=True,
                              timeout=START_TIMEOUT)

    def assert_no_writable_pidfile(self, pid):
        fds = fds_on(pid, self.pidfile)
        self.assertNotEqual(fds, [], "no descriptor holds the lock")
        for fd in fds:
            self.assertEqual(fd_flags(pid, fd) & os.O_ACCMODE,
                             os.O_RDONLY, "fd %s on the pidfile is "
                             "writable" % fd)
        st = os.stat(self.pidfile)
        self.assertEqual(st.st_uid, 0)
        self.assertEqual(st.st_mode & 0o777, 0o644)

    def assert_locked(self):
        with open(self.pidfile) as f:
            with self.assertRaises(BlockingIOError):
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def test_a_foreground(self):
        pid = self.suite.pid("authd")
        self.assertEqual(read_pid(self.pidfile), pid)
        self.assertEqual(suite.ProcInfo(pid).uids[0],
                         pwd.getpwnam(suite.DAEMON_USERS["auth"]).pw_uid)
        self.assert_no_writable_pidfile(pid)
        self.assert_locked()
        r = self.authd("-d")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("already-running pid=%d" % pid, r.stdout + r.stderr)
        self.assertEqual(read_pid(self.pidfile), pid)

    def test_b_background(self):
        self.suite.stop_daemon("authd")
        r = self.authd()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        pid = read_pid(self.pidfile)
        try:
            self.assertEqual(suite.ProcInfo(pid).uids[0], pwd.getpwnam(
                suite.DAEMON_USERS["auth"]).pw_uid)
            self.assertTrue(self.suite.is_up("authd"))
            self.assert_no_writable_pidfile(pid)
            self.assert_locked()
            # A second one, in the background too: its error on stderr.
            r = self.authd()
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("already-running pid=%d" % pid, r.stderr)
        finally:
            os.kill(pid, signal.SIGTERM)
            wait_for(lambda: not suite.proc_alive(pid), 30,
                     what="authd %d gone" % pid)
        # The lock went with it: a new start is not refused.
        with open(self.pidfile) as f:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)


class TestLogModes(SuiteTest):
    """The harness's log files, like the demo's, are not readable by
    other users: they name addresses and client IPs."""

    def test_log_modes(self):
        d = self.suite.path("log")
        self.assertEqual(os.stat(d).st_mode & 0o777, 0o750)
        names = sorted(os.listdir(d))
        self.assertEqual(names, sorted("%s.log" % x
                                       for x in suite.DAEMONS))
        for n in names:
            mode = os.stat(os.path.join(d, n)).st_mode & 0o777
            self.assertEqual(mode & 0o027, 0, "%s is %o" % (n, mode))


if __name__ == "__main__":
    unittest.main()
