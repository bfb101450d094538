"""make install and make uninstall (issue 14) from a fresh copy of the
tree: the files git tracks, as they stand (what a clone holds, with
uncommitted edits), built from nothing.  The daemons go to
$(PREFIX)/lib/sallyport, off the PATH, where their names cannot clash
with other packages'; only sallyctl goes on it; the units are made for
the PREFIX in use and run the daemons from there; uninstall removes all
of it but the configuration."""

import os
import shutil
import stat
import subprocess
import tempfile
import unittest

import suite

BUILD_TIMEOUT = 1800
DAEMONS = ("authd", "smtpd", "queued", "pop3d", "imapd")
# What a daemon execs, installed beside the daemons, with no page
# (imapd-mailbox once its main is in the tree, as the Makefile says).
LIBEXEC_PROGS = ("pop3d-mailbox",) + (
    ("imapd-mailbox",) if os.path.exists(os.path.join(
        suite.REPO, "imapd", "mailbox", "imapd_mailbox.c")) else ())
UNITS = ["sallyport-%s.service" % d for d in DAEMONS] + \
    ["sallyport.target"]


def tree_files(root):
    out = set()
    for d, _, files in os.walk(root):
        for f in files:
            out.add(os.path.relpath(os.path.join(d, f), root))
    return out


def expected(prefix):
    p = prefix.lstrip("/")
    files = {"etc/sallyport/sallyport.conf",
             p + "/sbin/sallyctl",
             p + "/share/man/man8/sallyctl.8",
             p + "/share/man/man5/sallyport.conf.5",
             p + "/lib/sysusers.d/sallyport.conf",
             p + "/lib/tmpfiles.d/sallyport.conf"}
    for d in DAEMONS:
        files.add("%s/lib/sallyport/%s" % (p, d))
        files.add("%s/share/man/man8/%s.8sallyport" % (p, d))
    for d in LIBEXEC_PROGS:
        files.add("%s/lib/sallyport/%s" % (p, d))
    for u in UNITS:
        files.add("%s/lib/systemd/system/%s" % (p, u))
    return files


class InstalledSuite(suite.Suite):
    """A suite run from an installed tree: prefix/lib/sallyport and
    prefix/sbin."""

    def __init__(self, name, prefix, **kw):
        self.prefix = prefix
        super().__init__(name, **kw)

    def binary(self, prog):
        where = "sbin" if prog == "sallyctl" else "lib/sallyport"
        return os.path.join(self.prefix, where, prog)


class TestInstall(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sallyport-install-", dir="/tmp")
        cls.src = os.path.join(cls.tmp, "src")
        tracked = subprocess.run(["git", "-C", suite.REPO, "ls-files",
                                  "-z"], check=True,
                                 capture_output=True).stdout
        for rel in tracked.decode().split("\0"):
            if not rel or not os.path.lexists(
                    os.path.join(suite.REPO, rel)):
                continue
            dst = os.path.join(cls.src, rel)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy2(os.path.join(suite.REPO, rel), dst,
                         follow_symlinks=False)
        r = subprocess.run(["make", "-j2", "all"], cwd=cls.src,
                           capture_output=True, text=True,
                           timeout=BUILD_TIMEOUT)
        if r.returncode != 0:
            raise AssertionError("make failed:\n%s%s"
                                 % (r.stdout[-3000:], r.stderr[-3000:]))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def make(self, target, dest, *args):
        r = subprocess.run(["make", target, "DESTDIR=" + dest] + list(args),
                           cwd=self.src, capture_output=True, text=True,
                           timeout=BUILD_TIMEOUT)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def check_units(self, dest, prefix):
        libexec = prefix + "/lib/sallyport/"
        for u in UNITS:
            with open(os.path.join(dest, prefix.lstrip("/"), "lib/systemd",
                                   "system", u)) as f:
                text = f.read()
            self.assertNotIn("@", text.replace("@.service", ""), u)
            for line in text.splitlines():
                if not line.startswith("ExecStart="):
                    continue
                argv = line[len("ExecStart="):].split()
                self.assertTrue(argv[0].startswith(libexec), line)
                binary = dest + argv[0]
                self.assertTrue(os.access(binary, os.X_OK), line)
                conf = dest + argv[argv.index("-f") + 1]
                self.assertTrue(os.path.isfile(conf), line)
                # The installed daemon takes the installed sample.
                r = subprocess.run([binary, "-n", "-f", conf],
                                   capture_output=True, text=True,
                                   timeout=60)
                self.assertEqual(r.returncode, 0, r.stderr)

    def install_uninstall(self, prefix, *args):
        dest = os.path.join(self.tmp, "dest" + prefix.replace("/", "-"))
        self.make("install", dest, *args)
        self.assertEqual(tree_files(dest), expected(prefix))
        for d in DAEMONS + LIBEXEC_PROGS:
            mode = os.stat(os.path.join(dest, prefix.lstrip("/"), "lib",
                                        "sallyport", d)).st_mode
            self.assertEqual(stat.S_IMODE(mode), 0o755, d)
        self.check_units(dest, prefix)
        self.make("uninstall", dest, *args)
        self.assertEqual(tree_files(dest), {"etc/sallyport/sallyport.conf"})
        self.assertFalse(os.path.exists(os.path.join(
            dest, prefix.lstrip("/"), "lib", "sallyport")))

    def test_installed_suite_runs(self):
        """The installed daemons, started from LIBEXECDIR, find each
        other, and the installed sallyctl finds them: a message goes in
        over SMTP and out over POP3, served by the installed
        pop3d-mailbox."""
        dest = os.path.join(self.tmp, "dest-run")
        self.make("install", dest, "PREFIX=/usr")
        for d in (self.tmp, dest):
            os.chmod(d, 0o755)
        s = InstalledSuite("installed", os.path.join(dest, "usr"))
        try:
            s.start()
            out = s.sallyctl("show", "status").stdout
            for d in suite.DAEMONS:
                line = [l.split() for l in out.splitlines()
                        if l.split()[:1] == [d]]
                self.assertEqual(line[0][1:2], [str(s.pid(d))], out)
                self.assertEqual(line[0][-1], "up", out)
            mark = "installed-%d" % os.getpid()
            code, text = s.send(suite.make_message(mark, ["body"]))
            self.assertEqual(code, 250, text)
            s.wait_marked(mark)
            p = s.pop3("bob")
            self.assertEqual(p.stat()[0], 1)
            mbox = s.wait_child_as("pop3d", suite.MAIL_USERS["bob"])
            self.assertEqual(os.readlink("/proc/%d/exe" % mbox.pid),
                             os.path.realpath(os.path.join(
                                 dest, "usr/lib/sallyport", "pop3d-mailbox")))
            p.quit()
        except BaseException:
            s.keep = True
            s.dump_logs()
            raise
        finally:
            s.cleanup()

    def test_prefix_usr(self):
        self.install_uninstall("/usr", "PREFIX=/usr")

    def test_prefix_default(self):
        self.install_uninstall("/usr/local")


if __name__ == "__main__":
    unittest.main()
