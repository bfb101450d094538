"""A mount namespace of the tests' own, held by a sleeping process, for
tests that must change what a path shows (an overlay of /, a /dev/log of
their own) without changing it for the rest of the machine: commands
run in it through nsenter(1), files are reached through
/proc/<holder>/root, and everything mounted in it goes when close()
kills the holder.  Run as root by the integration tests."""

import os
import subprocess
import time
import unittest

STEP_TIMEOUT = 300
START_TIMEOUT = 10


class MountNamespace:

    def __init__(self):
        self.holder = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "sleep",
             "infinity"])
        mine = os.readlink("/proc/self/ns/mnt")
        end = time.monotonic() + START_TIMEOUT
        while self.ns_id() == mine:
            if time.monotonic() > end or self.holder.poll() is not None:
                self.close()
                raise unittest.SkipTest("unshare(1) made no namespace")
            time.sleep(0.02)

    def ns_id(self):
        return os.readlink("/proc/%d/ns/mnt" % self.holder.pid)

    def argv(self, *cmd):
        """cmd, to be run in the namespace (nsenter execs it)."""
        return ["nsenter", "-t", str(self.holder.pid), "-m", "--"] + \
            list(cmd)

    def ns(self, *cmd):
        """cmd run in the namespace: CompletedProcess, output as text."""
        return subprocess.run(self.argv(*cmd), capture_output=True,
                              text=True, timeout=STEP_TIMEOUT)

    def mount_or_skip(self, script, what):
        """Runs the shell script of mounts; skips the test when the
        kernel or the container refuses them."""
        r = self.ns("sh", "-c", script)
        if r.returncode != 0:
            self.close()
            raise unittest.SkipTest("no %s here: %s" % (what, r.stderr))

    def path(self, p):
        """p as the namespace sees it, reached from outside."""
        return "/proc/%d/root/%s" % (self.holder.pid, p.lstrip("/"))

    def close(self):
        if self.holder.poll() is None:
            self.holder.kill()
            self.holder.wait()
