"""The Debian package (issue 12): built with "make deb" from a fresh copy
of the tree (the files git tracks, as test_install copies them), checked
by lintian, installed with dpkg, its files, users, directories and units
checked, the configuration checked with -n, then purged, and what it
left behind looked for.  No service is started.

Where it is installed: not on this machine itself, but in a throwaway
copy-on-write view of it, an overlay of / in a mount namespace of its
own, chrooted into.  The machine has Postfix (etc/deps.sh installs it
for the interoperability tests), which provides mail-transport-agent, as
sallyport does; two MTAs cannot be installed together (Conflicts and
Replaces, as between any two), so a real installation would remove
Postfix, and a purge would not bring it back.  In the overlay, dpkg,
the maintainer scripts, systemd-sysusers and systemd-tmpfiles do what
they do on a host, Postfix is removed as an admin switching MTAs would
remove it, and when the namespace ends the machine is as it was.  The
overlay's upper layer is exactly what the installation changed, so after
the purge it shows what was left.  A policy-rc.d that refuses every
start (exit 101) is put in the overlay too, and the chroot has no
/run/systemd/system: neither deb-systemd-invoke nor the postinst can
start anything.

SALLYPORT_DEB=path/to/sallyport_*.deb tests a package built already."""

import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import unittest

import mountns
import suite
import test_install

BUILD_TIMEOUT = 1800
STEP_TIMEOUT = mountns.STEP_TIMEOUT
CONF = "/etc/sallyport/sallyport.conf"
LIBEXEC = "/usr/lib/sallyport"
# What any installation changes, sallyport's or not: dpkg's database and
# log, man-db's cache, deb-systemd-helper's state, the account files.
ALLOWED = re.compile(
    r"^(var/lib/dpkg/|var/log/|var/cache/|var/lib/systemd/"
    r"deb-systemd-helper-[a-z]+/[^/]*$|run/systemd/|"
    r"etc/(passwd|group|shadow|gshadow|subuid|subgid)-?$|etc/\.pwd\.lock$)")
# A sallyport path under one of those is a leftover all the same, but
# for man-db's cache of the formatted pages that "systemd-analyze verify"
# read (Documentation=), which man-db's daily job expires.
SALLYPORT_NAME = re.compile(r"^(?!var/cache/man/cat).*(sallyport|_sally)")


def sysusers():
    """The users etc/sysusers.d/sallyport.conf makes."""
    with open(os.path.join(suite.REPO, "etc/sysusers.d/sallyport.conf")) as f:
        return [l.split()[1] for l in f if l.startswith("u")]


def unit_dir():
    """Where debian/rules puts the units (this release's systemd)."""
    r = subprocess.run(["pkg-config", "--variable=systemdsystemunitdir",
                        "systemd"], capture_output=True, text=True)
    return (r.stdout.strip() or "/lib/systemd/system").lstrip("/")


def upper_entries(upper):
    """Paths in the overlay's upper layer: (files, new directories),
    whiteouts (deletions) left out, directories only when the machine
    has none there (the others were copied up for a change below)."""
    files, dirs = set(), set()
    for d, subdirs, names in os.walk(upper):
        for n in names:
            p = os.path.join(d, n)
            st = os.lstat(p)
            if (st.st_mode & 0o170000) == 0o020000 and st.st_rdev == 0:
                continue
            files.add(os.path.relpath(p, upper))
        for n in subdirs:
            rel = os.path.relpath(os.path.join(d, n), upper)
            if not os.path.lexists("/" + rel):
                dirs.add(rel)
    return files, dirs


class Overlay(mountns.MountNamespace):
    """This machine's root file system, copy-on-write, in a mount
    namespace of its own; commands run chrooted in it."""

    def __init__(self, tmp):
        self.base = tempfile.mkdtemp(prefix="overlay-", dir=tmp)
        super().__init__()
        self.mount_or_skip(
            "mount -t tmpfs -o mode=0755 sallyport-deb {0} && "
            "mkdir {0}/upper {0}/work {0}/root && "
            "mount -t overlay -o lowerdir=/,upperdir={0}/upper,"
            "workdir={0}/work overlay {0}/root && "
            "mount --rbind /dev {0}/root/dev && "
            "mount -t proc proc {0}/root/proc".format(self.base),
            "overlay of /")

    def run(self, *cmd):
        """cmd in the chroot: CompletedProcess, output as text."""
        return self.ns("chroot", self.base + "/root", *cmd)

    def path(self, p):
        """p in the overlay, as this process reaches it."""
        return super().path("%s/root/%s" % (self.base, p.lstrip("/")))

    @property
    def upper(self):
        return super().path(self.base + "/upper")

    def close(self):
        super().close()
        shutil.rmtree(self.base, ignore_errors=True)


class TestDeb(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        for tool in ("dpkg-buildpackage", "dh", "unshare", "nsenter"):
            if shutil.which(tool) is None:
                raise unittest.SkipTest("%s is missing (make deps)" % tool)
        cls.tmp = tempfile.mkdtemp(prefix="sallyport-deb-", dir="/tmp")
        cls.deb = os.environ.get("SALLYPORT_DEB")
        if cls.deb:
            return
        src = os.path.join(cls.tmp, "src")
        out = os.path.join(cls.tmp, "out")
        test_install.copy_tracked(src)
        r = subprocess.run(["make", "deb", "DEBDIR=" + out], cwd=src,
                           capture_output=True, text=True,
                           timeout=BUILD_TIMEOUT)
        if r.returncode != 0:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise AssertionError("make deb failed:\n%s%s"
                                 % (r.stdout[-3000:], r.stderr[-3000:]))
        debs = [f for f in os.listdir(out)
                if f.startswith("sallyport_") and f.endswith(".deb")]
        cls.deb = os.path.join(out, debs[0])
        shutil.rmtree(src)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.overlays = []

    def tearDown(self):
        for o in self.overlays:
            o.close()

    # -- the package file

    def test_lintian(self):
        """lintian finds no error (its warnings are in the output)."""
        if shutil.which("lintian") is None:
            self.skipTest("lintian is missing (make deps)")
        r = subprocess.run(["lintian", "--fail-on", "error", self.deb],
                           capture_output=True, text=True,
                           timeout=STEP_TIMEOUT)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertNotRegex(r.stdout, r"(?m)^E: ")

    def test_control(self):
        """An MTA as Debian's are: provides, conflicts with and replaces
        mail-transport-agent; the libraries' packages from the
        binaries; the conffile."""
        def field(name):
            return subprocess.run(["dpkg-deb", "-f", self.deb, name],
                                  capture_output=True, text=True,
                                  check=True).stdout.strip()
        for f in ("Provides", "Conflicts", "Replaces"):
            self.assertEqual(field(f), "mail-transport-agent", f)
        depends = field("Depends")
        for lib in ("libc6", "libtls", "libevent", "libseccomp2"):
            self.assertIn(lib, depends)
        self.assertIn("systemd", depends)
        r = subprocess.run(["dpkg-deb", "--ctrl-tarfile", self.deb],
                           capture_output=True, check=True)
        ctl = os.path.join(self.tmp, "control.tar")
        with open(ctl, "wb") as f:
            f.write(r.stdout)
        with tarfile.open(ctl) as t:
            conffiles = t.extractfile("./conffiles").read().decode()
        self.assertEqual(conffiles.split(), [CONF])

    def test_contents(self):
        """What make install puts under /usr (test_install's list), with
        the units where this systemd's debhelper wants them, the pages
        compressed, and the copyright and changelog."""
        want = set()
        units = unit_dir()
        for p in test_install.expected("/usr"):
            if p.startswith("usr/lib/systemd/system/"):
                p = units + "/" + os.path.basename(p)
            if p.startswith("usr/share/man/"):
                p += ".gz"
            want.add(p)
        want |= {"usr/share/doc/sallyport/" + f for f in
                 ("copyright", "changelog.gz", "README.Debian")}
        r = subprocess.run(["dpkg-deb", "--fsys-tarfile", self.deb],
                           capture_output=True, check=True)
        data = os.path.join(self.tmp, "data.tar")
        with open(data, "wb") as f:
            f.write(r.stdout)
        with tarfile.open(data) as t:
            got = {m.name[2:] for m in t.getmembers() if not m.isdir()}
        self.assertEqual(got, want)

    # -- installed, in an overlay of this machine

    def overlay(self):
        o = Overlay(self.tmp)
        self.overlays.append(o)
        return o

    def prepare(self, o):
        """No other MTA, none of sallyport's users, no service start;
        the package copied in.  Returns the upper layer's entries then."""
        with open(o.path("/usr/sbin/policy-rc.d"), "w") as f:
            f.write("#!/bin/sh\nexit 101\n")
        os.chmod(o.path("/usr/sbin/policy-rc.d"), 0o755)
        shutil.copy(self.deb, o.path("/tmp/sallyport.deb"))
        r = o.run("dpkg-query", "-W", "-f",
                  "${Package}\t${Provides}\t${db:Status-Abbrev}\n")
        mtas = [l.split("\t")[0] for l in r.stdout.splitlines()
                if "mail-transport-agent" in l.split("\t")[1]
                and l.split("\t")[2].startswith("ii")]
        if mtas:
            # What depends on an MTA (bsd-mailx) is satisfied again by
            # sallyport.
            r = o.run("dpkg", "--remove", "--force-depends", *mtas)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        for u in sysusers():
            if o.run("getent", "passwd", u).returncode == 0:
                r = o.run("userdel", u)
                self.assertEqual(r.returncode, 0, r.stderr)
            if o.run("getent", "group", u).returncode == 0:
                o.run("groupdel", u)
        return upper_entries(o.upper)

    def install(self, o, *opts):
        r = o.run("dpkg", "-i", *opts, "/tmp/sallyport.deb")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r.stdout + r.stderr

    def running(self, o):
        """Processes of the overlay's namespace running a program of the
        package."""
        ns = os.readlink("/proc/%d/ns/mnt" % o.holder.pid)
        found = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                if os.readlink("/proc/%s/ns/mnt" % pid) == ns and \
                        LIBEXEC + "/" in os.readlink("/proc/%s/exe" % pid):
                    found.append(int(pid))
            except OSError:
                continue
        return found

    def check_users(self, o):
        for u in sysusers():
            r = o.run("getent", "passwd", u)
            self.assertEqual(r.returncode, 0, "%s is missing" % u)
            name, _, uid, gid, _, home, shell = r.stdout.strip().split(":")
            self.assertLess(int(uid), 1000, u)
            self.assertEqual(home, "/nonexistent", u)
            self.assertIn("nologin", shell, u)
            r = o.run("getent", "group", gid)
            self.assertEqual(r.stdout.split(":")[0], u)

    def check_dirs(self, o):
        for path, owner, mode in (("/var/spool/sallyport", "_sallyqueue",
                                   "700"),
                                  ("/var/empty", "root", "755"),
                                  ("/run/sallyport", "root", "755")):
            r = o.run("stat", "-c", "%F %U %a", path)
            self.assertEqual(r.stdout.split(), ["directory", owner, mode],
                             path + r.stderr)

    def check_units(self, o):
        """Every unit verifies; none is enabled while the configuration
        is incomplete."""
        units = ["/%s/%s" % (unit_dir(), u) for u in test_install.UNITS]
        if o.run("sh", "-c", "command -v systemd-analyze").returncode == 0:
            r = o.run("systemd-analyze", "verify", *units)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertEqual(r.stdout + r.stderr, "")
        for u in units:
            self.assertTrue(os.path.isfile(o.path(u)), u)
        r = o.run("find", "/etc/systemd/system", "-name", "sallyport*")
        self.assertEqual(r.stdout, "")

    def check_purged(self, o, baseline):
        r = o.run("dpkg", "--purge", "--force-depends", "sallyport")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = o.run("dpkg-query", "-W", "-f", "${db:Status-Abbrev}",
                  "sallyport")
        self.assertNotIn("i", r.stdout[:2])
        for p in ("/etc/sallyport", "/var/spool/sallyport",
                  "/run/sallyport", "/var/empty", LIBEXEC):
            self.assertFalse(os.path.lexists(o.path(p)), p)
        # Debian's policy: system users stay.
        for u in sysusers():
            self.assertEqual(o.run("getent", "passwd", u).returncode, 0, u)
        files, dirs = upper_entries(o.upper)
        files -= baseline[0]
        dirs -= baseline[1]
        left = sorted(p for p in files
                      if not ALLOWED.match(p) or SALLYPORT_NAME.search(p))
        left += sorted(dirs)
        self.assertEqual(left, [], "left behind after the purge")

    def test_install_purge(self):
        """Installed: the files as packaged, the users, the directories,
        the units, the configuration checks, nothing started (the users
        table is missing, and the postinst says so); installed again
        (an upgrade's path); purged: nothing of it left but the system
        users."""
        o = self.overlay()
        baseline = self.prepare(o)
        out = self.install(o)
        self.assertIn("sallyport: not started:", out)
        self.assertIn("no users table /etc/sallyport/users", out)
        r = o.run("dpkg", "--verify", "sallyport")
        self.assertEqual((r.returncode, r.stdout), (0, ""), r.stderr)
        self.assertEqual(o.run("dpkg", "--audit").stdout, "")
        self.check_users(o)
        self.check_dirs(o)
        self.check_units(o)
        for d in test_install.DAEMONS:
            r = o.run(LIBEXEC + "/" + d, "-n", "-f", CONF)
            self.assertEqual(r.returncode, 0, d + r.stderr)
        self.assertEqual(self.running(o), [])
        # Again, as an upgrade: the postinst's try-restart branch, quiet.
        out = self.install(o)
        self.assertNotIn("not started", out)
        r = o.run("dpkg", "--verify", "sallyport")
        self.assertEqual((r.returncode, r.stdout), (0, ""), r.stderr)
        self.check_purged(o, baseline)

    def test_install_configured(self):
        """A configuration made before the package (by configuration
        management) is kept, and the postinst names exactly what it
        lacks: here the key of its pki; complete, nothing."""
        o = self.overlay()
        baseline = self.prepare(o)
        os.makedirs(o.path("/etc/sallyport"))
        with open(os.path.join(suite.REPO, "etc/sallyport.conf")) as f:
            conf = f.read()
        conf += ('pki "mail.example.org" cert "/etc/sallyport/mail.crt" '
                 'key "/etc/sallyport/mail.key"\n')
        for name, text in (("sallyport.conf", conf), ("users", ""),
                           ("mail.crt", "")):
            with open(o.path("/etc/sallyport/" + name), "w") as f:
                f.write(text)
        out = self.install(o, "--force-confold")
        self.assertIn("sallyport: not started:", out)
        self.assertIn("no certificate or key /etc/sallyport/mail.key", out)
        self.assertNotIn("mail.crt", out)
        self.assertNotIn("users table", out)
        with open(o.path(CONF)) as f:
            self.assertEqual(f.read(), conf)
        self.check_purged(o, baseline)
        os.makedirs(o.path("/etc/sallyport"))
        for name, text in (("sallyport.conf", conf), ("users", ""),
                           ("mail.crt", ""), ("mail.key", "")):
            with open(o.path("/etc/sallyport/" + name), "w") as f:
                f.write(text)
        out = self.install(o, "--force-confold")
        self.assertNotIn("not started", out)
        self.assertEqual(self.running(o), [])
        self.check_purged(o, baseline)


if __name__ == "__main__":
    unittest.main()
