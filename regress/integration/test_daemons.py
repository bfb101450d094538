"""Every daemon: -n checks and prints the configuration (exit 0), refuses
a broken one with FILE:LINE (exit non-zero), reads the file -f names,
stays in the foreground with -d, refuses a second instance, and exits
cleanly (status 0, children gone) on SIGTERM."""

import os
import shutil
import signal
import subprocess
import time
import unittest

import suite
from suite import SuiteTest, wait_for

# A daemon must be gone this many seconds after SIGTERM.
EXIT_TIMEOUT = 5


class TestDaemons(SuiteTest):

    def run_prog(self, d, *args):
        return subprocess.run([self.suite.binary(d)] + list(args),
                              capture_output=True, text=True, timeout=20)

    def test_check_config(self):
        s = self.suite
        for d in suite.DAEMONS:
            r = self.run_prog(d, "-n", "-f", s.conf)
            self.assertEqual(r.returncode, 0, "%s -n: %s" % (d, r.stderr))
            out = r.stdout
            for want in ('hostname "mail.example.test"',
                         'spool "%s"' % s.spool,
                         'domain "example.test"',
                         "resolver none",
                         "listen smtp on 127.0.0.1 port %d" % s.smtp_port,
                         "listen pop3 on 127.0.0.1 port %d" % s.pop3_port):
                self.assertIn(want, out, "%s -n does not print %r:\n%s"
                              % (d, want, out))
            # The normalised form reads back to itself.
            again = s.path("etc", "normalised.conf")
            s.write_config(out, again)
            r2 = self.run_prog(d, "-n", "-f", again)
            self.assertEqual(r2.returncode, 0, r2.stderr)
            self.assertEqual(r2.stdout, out, "%s -n is not a fixed point"
                             % d)

    def test_broken_config(self):
        s = self.suite
        bad = s.path("etc", "broken.conf")
        lines = s.config_text().splitlines()
        for n, text in ((3, "frobnicate yes"),
                        (5, "listen smtp on 127.0.0.1 port 99999"),
                        (2, 'resolver "not.an.address"')):
            broken = lines[:n - 1] + [text] + lines[n - 1:]
            s.write_config("\n".join(broken) + "\n", bad)
            for d in suite.DAEMONS:
                r = self.run_prog(d, "-n", "-f", bad)
                self.assertNotEqual(r.returncode, 0, "%s accepted %r"
                                    % (d, text))
                self.assertIn("%s:%d" % (bad, n), r.stdout + r.stderr,
                              "%s does not say FILE:LINE for %r" % (d, text))

    def test_missing_config(self):
        for d in suite.DAEMONS:
            r = self.run_prog(d, "-n", "-f", self.suite.path("nonexistent"))
            self.assertNotEqual(r.returncode, 0, d)
            self.assertIn("nonexistent", r.stdout + r.stderr)

    def test_foreground_logs_to_stderr(self):
        # -d: the pid started is the daemon itself, and it logs to stderr.
        for d in suite.DAEMONS:
            self.assertIsNone(self.suite.procs[d].poll(), d)
            self.assertTrue(self.suite.log(d).replace("==== start", "")
                            .strip(), "%s logged nothing with -d" % d)

    def test_second_instance_refused(self):
        for d in suite.DAEMONS:
            r = self.run_prog(d, "-d", "-f", self.suite.conf)
            self.assertNotEqual(r.returncode, 0,
                                "a second %s started" % d)
            self.assertIsNone(self.suite.procs[d].poll(),
                              "the second %s stopped the first" % d)

    def test_pop3d_needs_its_mailbox_program(self):
        """pop3d opens pop3d-mailbox, beside its own binary, at start: it
        refuses to start without it, or with one that is not a regular
        file, or that another user than root could change."""
        s = self.suite
        d = s.path("bin-mailbox")
        os.makedirs(d, exist_ok=True)
        pop3d = os.path.join(d, "pop3d")
        mbox = os.path.join(d, "pop3d-mailbox")
        shutil.copy2(s.binary("pop3d"), pop3d)

        def refused(why):
            r = subprocess.run([pop3d, "-d", "-f", s.conf],
                               capture_output=True, text=True, timeout=20)
            self.assertNotEqual(r.returncode, 0, why)
            self.assertIn("start-refused program=%s" % mbox, r.stderr, why)
            return r.stderr

        refused("missing")
        os.mkdir(mbox)
        self.assertIn("not a regular file", refused("a directory"))
        os.rmdir(mbox)
        shutil.copy2(s.binary("pop3d-mailbox"), mbox)
        os.chmod(mbox, 0o775)
        self.assertIn("writable by group or others", refused("mode 0775"))
        os.chmod(mbox, 0o755)
        os.chown(mbox, 1, 0)
        self.assertIn("not owned by root", refused("owned by uid 1"))
        os.chown(mbox, 0, 0)
        # Then it goes on, and stops at the pidfile of the pop3d running.
        r = subprocess.run([pop3d, "-d", "-f", s.conf], capture_output=True,
                           text=True, timeout=20)
        self.assertNotEqual(r.returncode, 0)
        self.assertNotIn("program=", r.stderr)
        self.assertIn("already-running", r.stderr)

    def test_zz_sigterm(self):
        s = self.suite
        for d in reversed(suite.DAEMONS):
            p = s.procs[d]
            t0 = time.monotonic()
            p.send_signal(signal.SIGTERM)
            try:
                rc = p.wait(EXIT_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.fail("%s still runs %ds after SIGTERM" % (d,
                                                             EXIT_TIMEOUT))
            self.assertEqual(rc, 0, "%s exited with %d on SIGTERM"
                             % (d, rc))
            left = wait_for(lambda: not s.group_left(p.pid), 2)
            self.assertTrue(left, "%s left processes behind: %s"
                            % (d, s.group_left(p.pid)))
            s.procs.pop(d)
            print("    %s exited 0 in %.2fs" % (d, time.monotonic() - t0))
            if d == "queued":
                # The manager drained its sync threads before it left.
                log = s.log("queued")
                self.assertRegex(log, r"- queue stopping signal=15 ")
                self.assertRegex(log, r"- queue exiting signal=15 "
                                      r"pending=0\b")


if __name__ == "__main__":
    unittest.main()
