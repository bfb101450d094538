"""The privileges of every process, checked from outside: /proc/PID/status
(Uid, Gid, Groups), readlink /proc/PID/root, and ss -tnp to find the
process that serves a given client connection.  The expected values are
DESIGN.md's table (and doc/INTERNALS.md's)."""

import os
import poplib
import shutil
import subprocess
import unittest

import suite
from suite import SuiteTest, SMTPLine, conn_holders, wait_for


def aslr_on():
    with open("/proc/sys/kernel/randomize_va_space") as f:
        return f.read().strip() != "0"


def layout(pid):
    """Where pid's binary and stack are mapped, from /proc/PID/maps: the
    start of the binary's first mapping and the [stack] range."""
    exe = os.readlink("/proc/%d/exe" % pid)
    base = stack = None
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            fields = line.split(None, 5)
            path = fields[5].strip() if len(fields) > 5 else ""
            if path == exe and base is None:
                base = fields[0].split("-")[0]
            elif path == "[stack]":
                stack = fields[0]
    return base, stack


def cmdline(pid):
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        return f.read().split(b"\0")[:-1]


# Every role a parent execs, and the descriptors it takes at least.
ROLES = (("smtpd", "smtp-engine", 4), ("pop3d", "pop3d-login", 3),
         ("pop3d-mailbox", "pop3d-user", 2), ("queued", "queue-manager", 4),
         ("queued", "delivery", 2), ("queued", "relay", 2),
         ("queued", "relay-sts", 2), ("queued", "mailbox-worker", 2))


class TestPrivsep(SuiteTest):

    def ids(self, name):
        return suite.user_ids(name)

    def assert_runs_as(self, info, uid, gid, root, what):
        """All four uids and gids (real, effective, saved, fs) are uid and
        gid, no supplementary group but gid, and the root is root."""
        msg = "%s: %r" % (what, info)
        self.assertEqual(info.uids, (uid,) * 4, msg)
        self.assertEqual(info.gids, (gid,) * 4, msg)
        self.assertTrue(set(info.groups) <= {gid},
                        "%s has supplementary groups %s" % (what, msg))
        self.assertEqual(info.root, os.path.realpath(root), msg)

    def assert_root_parent(self, info, what):
        msg = "%s: %r" % (what, info)
        self.assertEqual(info.uids[0], 0, msg)
        self.assertEqual(info.root, "/", msg)

    def test_long_lived_processes(self):
        s = self.suite
        # authd: one process, _sallyauth, no chroot (it needs NSS).
        uid, gid = self.ids("_sallyauth")
        self.assert_runs_as(suite.ProcInfo(s.pid("authd")), uid, gid, "/",
                            "authd")
        self.assertEqual(suite.children(s.pid("authd")), [],
                         "authd has children")

        # smtpd: root parent, one engine as _sallysmtp in the chroot.
        self.assert_root_parent(suite.ProcInfo(s.pid("smtpd")),
                                "smtpd parent")
        eng = s.engine("smtpd")
        uid, gid = self.ids("_sallysmtp")
        self.assert_runs_as(eng, uid, gid, s.chroot, "smtpd engine")
        self.assertEqual([c.pid for c in s.children_of("smtpd")],
                         [eng.pid], "smtpd children")

        # queued: root parent; manager _sallyqueue chrooted in the spool;
        # delivery agent root, no chroot; relay and its MTA-STS helper
        # _sallyrelay in the empty chroot.
        self.assert_root_parent(suite.ProcInfo(s.pid("queued")),
                                "queued parent")
        man = s.manager()
        uid, gid = self.ids("_sallyqueue")
        self.assert_runs_as(man, uid, gid, s.spool, "queue manager")
        agent = s.delivery_agent()
        self.assert_root_parent(agent, "delivery agent")
        relay = s.relay()
        uid, gid = self.ids("_sallyrelay")
        self.assert_runs_as(relay, uid, gid, s.chroot, "relay")
        sts = s.relay_sts()
        self.assert_runs_as(sts, uid, gid, s.chroot, "relay-sts")
        self.assertEqual(sorted(c.pid for c in s.children_of("queued")),
                         sorted([man.pid, agent.pid, relay.pid, sts.pid]),
                         "queued children")

        # pop3d: root parent, login engine _sallypop in the chroot.
        self.assert_root_parent(suite.ProcInfo(s.pid("pop3d")),
                                "pop3d parent")
        eng = s.engine("pop3d")
        uid, gid = self.ids("_sallypop")
        self.assert_runs_as(eng, uid, gid, s.chroot, "pop3d login engine")
        self.assertEqual([c.pid for c in s.children_of("pop3d")],
                         [eng.pid], "pop3d children with no user logged in")

    def test_seccomp_filters(self):
        """DESIGN.md: on Linux every unprivileged process installs a
        seccomp filter (Seccomp: 2 in /proc/PID/status)."""
        s = self.suite
        procs = {"authd": suite.ProcInfo(s.pid("authd")),
                 "smtpd engine": s.engine("smtpd"),
                 "pop3d login engine": s.engine("pop3d"),
                 "queue manager": s.manager(), "relay": s.relay(),
                 "relay-sts": s.relay_sts()}
        p = s.pop3("bob")
        try:
            procs["pop3d mailbox process"] = s.wait_child_as("pop3d",
                                                             "sp_bob")
            for what, info in procs.items():
                self.assertEqual(info.seccomp, 2, "%s has no seccomp "
                                 "filter: %r" % (what, info))
        finally:
            p.quit()

    def test_queue_manager_threads(self):
        """The queue manager's sync threads (queued/queue_sync.c) are
        under the same user, chroot and seccomp filter as the manager:
        the filter is loaded with TSYNC after they start."""
        pid = self.suite.manager().pid
        tids = sorted(int(t) for t in os.listdir("/proc/%d/task" % pid))
        self.assertGreater(len(tids), 1, "the manager has no sync threads")
        root = os.readlink("/proc/%d/root" % pid)
        for tid in tids:
            path = "/proc/%d/task/%d" % (pid, tid)
            with open(path + "/status") as f:
                st = dict(line.split(":", 1) for line in f
                          if ":" in line)
            self.assertEqual(st["Seccomp"].strip(), "2",
                             "thread %d has no seccomp filter" % tid)
            uids = set(st["Uid"].split())
            self.assertEqual(len(uids), 1, st["Uid"])
            self.assertNotEqual(uids, {"0"}, "thread %d runs as root" % tid)
            self.assertEqual(os.readlink(path + "/root"), root)

    def test_mailbox_worker_runs_as_user(self):
        """DESIGN.md: the delivery agent's child that writes the Maildir
        is the mailbox owner: all four uids and gids, no supplementary
        group, not chrooted (a mail home may be anywhere), a seccomp
        filter, and a child of the root agent.  The worker stays up
        after the delivery (DELIVERY_WORKER_IDLE_SECS), so it is looked
        at as it was when it wrote."""
        s = self.suite
        agent = s.delivery_agent()
        code, text = s.send(suite.make_message("privsep", ["worker-as-bob"]))
        self.assertEqual(code, 250, text)
        s.wait_marked("worker-as-bob")
        # The other tests expect bob's mailbox empty.
        for f in s.mail_files("bob"):
            os.unlink(f)
        uid, gid = self.ids("sp_bob")
        workers = [c for c in s.children_of_pid(agent.pid)
                   if c.uids[0] == uid]
        self.assertTrue(workers, "no mailbox worker running as bob")
        others = [c for c in s.children_of_pid(agent.pid)
                  if c.uids[0] == 0]
        self.assertEqual(others, [], "the agent has root children")
        for w in workers:
            self.assert_runs_as(w, uid, gid, "/", "mailbox worker")
            self.assertEqual(w.seccomp, 2, "mailbox worker has no "
                             "seccomp filter: %r" % w)
            self.assertEqual(w.ppid, agent.pid, w)
            self.assert_execd(w.pid, agent.pid, "queued", "mailbox-worker")

    def assert_execd(self, child, parent, prog, role):
        """DESIGN.md: child was started by fork and exec of prog's binary
        with the role argument, so it shares neither its parent's address
        layout nor its stack (and so not its stack canary)."""
        what = "%s %s (pid %d, parent %d)" % (prog, role, child, parent)
        binary = os.path.realpath(self.suite.binary(prog))
        self.assertEqual(os.readlink("/proc/%d/exe" % child), binary, what)
        self.assertEqual(cmdline(child)[1:3], [b"-R", role.encode()], what)
        if not aslr_on():
            return
        pbase, pstack = layout(parent)
        cbase, cstack = layout(child)
        self.assertIsNotNone(cbase, what)
        self.assertNotEqual(cbase, pbase, "%s: binary mapped where its "
                            "parent's is" % what)
        self.assertNotEqual(cstack, pstack, "%s: stack where its "
                            "parent's is" % what)

    def test_children_execd(self):
        s = self.suite
        self.assert_execd(s.engine("smtpd").pid, s.pid("smtpd"), "smtpd",
                          "smtp-engine")
        self.assert_execd(s.engine("pop3d").pid, s.pid("pop3d"), "pop3d",
                          "pop3d-login")
        self.assert_execd(s.manager().pid, s.pid("queued"), "queued",
                          "queue-manager")
        agent = s.delivery_agent()
        self.assert_execd(agent.pid, s.pid("queued"), "queued", "delivery")
        self.assert_execd(s.relay().pid, s.pid("queued"), "queued", "relay")
        self.assert_execd(s.relay_sts().pid, s.pid("queued"), "queued",
                          "relay-sts")
        p = s.pop3("bob")
        try:
            mbox = s.wait_child_as("pop3d", "sp_bob")
            self.assert_execd(mbox.pid, s.pid("pop3d"), "pop3d-mailbox",
                              "pop3d-user")
        finally:
            p.quit()

    def test_no_libevent_warning_at_start(self):
        """A child that kept its parent's event base made libevent warn
        at every start that the child's base took over the signals."""
        for d in suite.DAEMONS:
            self.assertNotIn("signals already added", self.suite.log(d),
                             "%s's log" % d)

    def run_role(self, prog, role, user=None, nfds=0):
        """prog -R role -d, as user (None: root), with nfds pipe ends at
        3 and up; its CompletedProcess."""
        fds = []
        for _ in range((nfds + 1) // 2):
            fds.extend(os.pipe())
        fds = fds[:nfds]

        def place():
            for i, fd in enumerate(fds):
                os.dup2(fd, 3 + i)
        binary = self.suite.path("bin", prog)
        if not os.path.exists(binary):
            os.makedirs(self.suite.path("bin"), exist_ok=True)
            shutil.copy2(self.suite.binary(prog), binary)
        try:
            return subprocess.run([binary, "-R", role, "-d"], user=user,
                                  preexec_fn=place,
                                  pass_fds=range(3, 3 + nfds),
                                  capture_output=True, text=True,
                                  timeout=30)
        finally:
            for fd in fds:
                os.close(fd)

    def test_role_refused_to_a_user(self):
        """The binaries are not setuid: a user who starts one with a role
        argument runs it as himself, and the role refuses to run."""
        for prog, role, nfds in ROLES:
            r = self.run_role(prog, role, user="nobody", nfds=nfds)
            self.assertNotEqual(r.returncode, 0, "%s %s" % (prog, role))
            self.assertIn("start-refused reason=not-root", r.stderr,
                          "%s %s" % (prog, role))

    def test_role_refused_without_its_descriptors(self):
        """A role started by root refuses to run without the descriptors
        its parent gives: none, or others in their place (pipes where the
        sealed configuration or arguments should be)."""
        for prog, role, nfds in ROLES:
            r = self.run_role(prog, role)
            self.assertNotEqual(r.returncode, 0, "%s %s" % (prog, role))
            self.assertIn("start-refused reason=descriptors", r.stderr)
            r = self.run_role(prog, role, nfds=nfds)
            self.assertNotEqual(r.returncode, 0, "%s %s" % (prog, role))
            self.assertRegex(r.stderr, "start-refused reason=bad-(config|"
                             "args)-descriptor", "%s %s" % (prog, role))
        r = self.run_role("smtpd", "no-such-role")
        self.assertEqual(r.returncode, 1)
        self.assertIn("unknown role", r.stderr)
        # pop3d has the mailbox role no more, and pop3d-mailbox no other.
        for prog, role in (("pop3d", "pop3d-user"),
                           ("pop3d-mailbox", "pop3d-login")):
            r = self.run_role(prog, role, nfds=3)
            self.assertEqual(r.returncode, 1, "%s %s" % (prog, role))
            self.assertIn("unknown role", r.stderr)

    def test_mailbox_program_without_tls(self):
        """pop3d-mailbox, the mailbox processes' program, links none of
        the TLS and DNSSEC libraries (doc/INTERNALS.md, "POP3
        performance"), and it refuses to run but as a role."""
        path = self.suite.binary("pop3d-mailbox")
        r = subprocess.run(["ldd", path], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("libevent", r.stdout)
        for lib in ("libtls", "libssl", "libcrypto", "libunbound"):
            self.assertNotIn(lib, r.stdout, "pop3d-mailbox links %s:\n%s"
                             % (lib, r.stdout))
        r = subprocess.run([path, "-f", self.suite.conf],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("started by its daemon only", r.stderr)

    def holders(self, port, client_port):
        return wait_for(lambda: conn_holders(port, client_port), 5,
                        what="ss to show the connection's server side")

    def test_smtp_connection_served_unprivileged(self):
        s = self.suite
        c = SMTPLine(s.smtp_port)
        try:
            self.assertEqual(c.greeting[0], 220)
            self.assertEqual(c.cmd(b"EHLO " + suite.HELO.encode())[0], 250)
            uid, gid = self.ids("_sallysmtp")
            pids = self.holders(s.smtp_port, c.local_port())
            for pid in pids:
                info = suite.ProcInfo(pid)
                self.assertNotEqual(info.uids[0], 0,
                                    "root holds an SMTP client: %r" % info)
                self.assert_runs_as(info, uid, gid, s.chroot,
                                    "process serving an SMTP client")
        finally:
            c.close()

    def test_pop3_connection_before_and_after_login(self):
        s = self.suite
        p = poplib.POP3("127.0.0.1", s.pop3_port, timeout=30)
        try:
            cport = p.sock.getsockname()[1]
            uid, gid = self.ids("_sallypop")
            for pid in self.holders(s.pop3_port, cport):
                info = suite.ProcInfo(pid)
                self.assertNotEqual(info.uids[0], 0,
                                    "root holds a POP3 client: %r" % info)
                self.assert_runs_as(info, uid, gid, s.chroot,
                                    "POP3 pre-auth process")
            login = s.engine("pop3d").pid
            p.user("bob")
            p.pass_(suite.PASSWORD)
            uid, gid = self.ids("sp_bob")
            pids = self.holders(s.pop3_port, cport)
            # Only the mailbox process may hold the session now: neither
            # the login engine nor a root parent keeps the descriptor.
            for pid in pids:
                info = suite.ProcInfo(pid)
                self.assertNotEqual(pid, login, "the login engine still "
                                    "holds the logged-in session")
                self.assert_runs_as(info, uid, gid, s.home("bob"),
                                    "POP3 post-login process")
            self.assertEqual(p.stat()[0], 0)
        finally:
            p.quit()


if __name__ == "__main__":
    unittest.main()
