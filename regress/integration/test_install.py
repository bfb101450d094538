"""make install and make uninstall (issue 14) from a fresh copy of the
tree: the files git tracks, as they stand (what a clone holds, with
uncommitted edits), built from nothing.  The daemons go to
$(PREFIX)/lib/sallyport, off the PATH, where their names cannot clash
with other packages'; only sallyctl goes on it; the units are made for
the PREFIX in use and run the daemons from there, in the foreground
with syslog logging (-F); uninstall removes all of it but the
configuration, which install never overwrites.  What is installed is
read from the Makefile (DAEMONS, LIBEXEC_PROGS, ADMIN_CMDS, SENDMAIL_BIN,
UNITS), so that a new program is tested with no change here."""

import os
import shutil
import stat
import subprocess
import tempfile
import unittest

import suite

BUILD_TIMEOUT = 1800


def make_var(name, cwd=suite.REPO):
    """A variable of the Makefile, split into words."""
    r = subprocess.run(["make", "-s", "print-" + name], cwd=cwd,
                       capture_output=True, text=True, check=True)
    return tuple(r.stdout.split())


DAEMONS = make_var("DAEMONS")
# What a daemon execs, installed beside the daemons, with no page.
LIBEXEC_PROGS = tuple(os.path.basename(p) for p in make_var("LIBEXEC_PROGS"))
ADMIN_CMDS = make_var("ADMIN_CMDS")
# The sendmail(8) front end, once the tree builds it.
SENDMAIL = make_var("SENDMAIL_BIN")
SENDMAIL_NAMES = make_var("SENDMAIL_NAMES")
UNITS = make_var("UNITS")


def copy_tracked(dst):
    """The files git tracks, as they stand, copied under dst."""
    tracked = subprocess.run(["git", "-C", suite.REPO, "ls-files", "-z"],
                             check=True, capture_output=True).stdout
    for rel in tracked.decode().split("\0"):
        if not rel or not os.path.lexists(os.path.join(suite.REPO, rel)):
            continue
        to = os.path.join(dst, rel)
        os.makedirs(os.path.dirname(to), exist_ok=True)
        shutil.copy2(os.path.join(suite.REPO, rel), to,
                     follow_symlinks=False)


def tree_files(root):
    out = set()
    for d, _, files in os.walk(root):
        for f in files:
            out.add(os.path.relpath(os.path.join(d, f), root))
    return out


def expected(prefix):
    p = prefix.lstrip("/")
    files = {"etc/sallyport/sallyport.conf",
             p + "/share/man/man5/sallyport.conf.5",
             p + "/lib/sysusers.d/sallyport.conf",
             p + "/lib/tmpfiles.d/sallyport.conf"}
    for d in DAEMONS:
        files.add("%s/lib/sallyport/%s" % (p, d))
        files.add("%s/share/man/man8/%s.8sallyport" % (p, d))
    for d in LIBEXEC_PROGS:
        files.add("%s/lib/sallyport/%s" % (p, d))
    for c in ADMIN_CMDS:
        files.add("%s/sbin/%s" % (p, c))
        files.add("%s/share/man/man8/%s.8" % (p, c))
    if SENDMAIL:
        files.add(p + "/sbin/sendmail")
        if os.path.exists(os.path.join(suite.REPO, SENDMAIL[0] + ".8")):
            files.add(p + "/share/man/man8/sendmail.8")
        for n in SENDMAIL_NAMES:
            files.add("%s/bin/%s" % (p, n))
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
        copy_tracked(cls.src)
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
            # No placeholder left (SystemCallFilter= names @groups).
            self.assertNotRegex(text, r"@[A-Z_]+@", u)
            for line in text.splitlines():
                if not line.startswith("ExecStart="):
                    continue
                argv = line[len("ExecStart="):].split()
                self.assertTrue(argv[0].startswith(libexec), line)
                # In the foreground, logging to syslog, not stderr.
                self.assertIn("-F", argv, line)
                self.assertNotIn("-d", argv, line)
                binary = dest + argv[0]
                self.assertTrue(os.access(binary, os.X_OK), line)
                conf = dest + argv[argv.index("-f") + 1]
                self.assertTrue(os.path.isfile(conf), line)
                # The installed daemon takes the installed sample.
                r = subprocess.run([binary, "-n", "-f", conf],
                                   capture_output=True, text=True,
                                   timeout=60)
                self.assertEqual(r.returncode, 0, r.stderr)

    def check_target(self, dest, prefix):
        """sallyport.target wants every service installed."""
        unitdir = os.path.join(dest, prefix.lstrip("/"), "lib/systemd/system")
        with open(os.path.join(unitdir, "sallyport.target")) as f:
            wants = [w for l in f.read().splitlines()
                     if l.startswith("Wants=") for w in l[6:].split()]
        services = sorted(u for u in os.listdir(unitdir)
                          if u.endswith(".service"))
        self.assertEqual(sorted(wants), services)
        self.assertEqual(len(services), len(DAEMONS))

    def check_sendmail(self, dest, prefix):
        """mailq and newaliases lead to the sendmail front end."""
        for n in SENDMAIL_NAMES if SENDMAIL else ():
            link = os.path.join(dest, prefix.lstrip("/"), "bin", n)
            self.assertEqual(os.readlink(link), prefix + "/sbin/sendmail")

    def install_uninstall(self, prefix, *args):
        dest = os.path.join(self.tmp, "dest" + prefix.replace("/", "-"))
        self.make("install", dest, *args)
        self.assertEqual(tree_files(dest), expected(prefix))
        for d in DAEMONS + LIBEXEC_PROGS:
            mode = os.stat(os.path.join(dest, prefix.lstrip("/"), "lib",
                                        "sallyport", d)).st_mode
            self.assertEqual(stat.S_IMODE(mode), 0o755, d)
        self.check_units(dest, prefix)
        self.check_target(dest, prefix)
        self.check_sendmail(dest, prefix)
        # The admin's configuration survives a second install.
        conf = os.path.join(dest, "etc/sallyport/sallyport.conf")
        with open(conf, "a") as f:
            f.write("# edited by the admin\n")
        self.make("install", dest, *args)
        self.make("uninstall", dest, *args)
        self.assertEqual(tree_files(dest), {"etc/sallyport/sallyport.conf"})
        with open(conf) as f:
            self.assertTrue(f.read().endswith("# edited by the admin\n"))
        # Nothing of sallyport's left but its configuration directory:
        # the directories left are the standard ones install -d made.
        for d, dirs, _ in os.walk(dest):
            for sub in dirs:
                rel = os.path.relpath(os.path.join(d, sub), dest)
                if rel != "etc/sallyport":
                    self.assertNotIn("sallyport", rel)

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

    def test_sendmail_names(self):
        """sendmail in sbin, mailq and newaliases in bin as links to it,
        and none of them after uninstall; until the tree builds the
        front end, sallyctl stands in for it."""
        args = ["PREFIX=/usr"]
        if not SENDMAIL:
            args.append("SENDMAIL_BIN=sallyctl/sallyctl")
        dest = os.path.join(self.tmp, "dest-sendmail")
        self.make("install", dest, *args)
        sendmail = os.path.join(dest, "usr/sbin/sendmail")
        self.assertEqual(stat.S_IMODE(os.stat(sendmail).st_mode), 0o755)
        for n in SENDMAIL_NAMES:
            self.assertEqual(os.readlink(os.path.join(dest, "usr/bin", n)),
                             "/usr/sbin/sendmail")
        self.make("uninstall", dest, *args)
        self.assertEqual(tree_files(dest), {"etc/sallyport/sallyport.conf"})

    def test_prefix_usr(self):
        self.install_uninstall("/usr", "PREFIX=/usr")

    def test_prefix_default(self):
        self.install_uninstall("/usr/local")


if __name__ == "__main__":
    unittest.main()
