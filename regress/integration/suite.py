"""The integration test harness: a whole sallyport suite under a fresh
temporary root, on free loopback ports, started as root with its real
users and chroots, and inspected from outside through /proc and ss.

Nothing here touches a non-loopback address or does a DNS lookup: every
address is numeric, and the clients are given their HELO name (smtplib
would otherwise ask for the host's FQDN).
"""

import os
import pwd
import grp
import imaplib
import re
import shutil
import signal
import smtplib
import poplib
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
# Start order; they stop in the reverse order.  imapd runs once its
# mailbox program (imapd/imapd-mailbox) is built: without it, it refuses
# to start.
IMAP_MAILBOX_BIN = os.path.join(REPO, "imapd", "imapd-mailbox")
DAEMONS = ("authd", "queued", "smtpd", "pop3d") + (
    ("imapd",) if os.path.exists(IMAP_MAILBOX_BIN) else ())
DAEMON_USERS = {
    "auth": "_sallyauth", "smtp": "_sallysmtp", "queue": "_sallyqueue",
    "relay": "_sallyrelay", "pop3": "_sallypop", "imap": "_sallyimap",
}
# The virtual mail users and the system users they map to.
MAIL_USERS = {"alice": "sp_alice", "bob": "sp_bob"}
PASSWORD = "demo"
DOMAIN = "example.test"
HELO = "client.example.test"
START_TIMEOUT = 15
STOP_TIMEOUT = 10
LOG_TAIL_LINES = 40
# The daemons' log files: they name addresses and client IPs.
LOG_MODE = 0o640
# What ASan and UBSan write when they find something.
SANITIZER_REPORT = re.compile(r"ERROR: AddressSanitizer|runtime error: ")
# The programs a daemon execs, built in (and installed beside) its
# directory: pop3d's mailbox processes run pop3d-mailbox, imapd's
# imapd-mailbox.
HELPER_DIRS = {"pop3d-mailbox": "pop3d", "imapd-mailbox": "imapd"}


def need_root():
    if os.geteuid() != 0:
        raise unittest.SkipTest("the integration tests must run as root")


def ensure_users():
    """Creates the daemon users and the mail users (sp_alice, sp_bob)
    with the demo's own function, so that both agree."""
    r = subprocess.run(["sh", os.path.join(REPO, "etc", "demo.sh"),
                        "users"], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("etc/demo.sh users failed: %s%s"
                           % (r.stdout, r.stderr))


def free_ports(n):
    """n distinct free TCP ports on 127.0.0.1, found by binding port 0."""
    socks, ports = [], []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


def wait_for(cond, timeout, interval=0.05, what=None):
    """Polls cond() until it returns a true value, which it returns; None
    after timeout seconds (or raises AssertionError when what is given)."""
    end = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() >= end:
            if what is not None:
                raise AssertionError("timed out after %ss waiting for %s"
                                     % (timeout, what))
            return None
        time.sleep(interval)


def crypt_hash(password):
    r = subprocess.run(["openssl", "passwd", "-6", password],
                       capture_output=True, text=True, check=True)
    return r.stdout.strip()


# ---------------------------------------------------------------- /proc

class ProcInfo:
    """What the kernel says about one process."""

    def __init__(self, pid):
        self.pid = pid
        with open("/proc/%d/status" % pid) as f:
            st = dict(line.rstrip("\n").split(":\t", 1)
                      for line in f if ":\t" in line)
        self.uids = tuple(int(x) for x in st["Uid"].split())
        self.gids = tuple(int(x) for x in st["Gid"].split())
        self.groups = tuple(int(x) for x in st.get("Groups", "").split())
        self.name = st.get("Name", "?")
        self.state = st.get("State", "?")
        # 0 none, 1 strict, 2 a filter (seccomp(2)).
        self.seccomp = int(st.get("Seccomp", "0"))
        self.root = os.readlink("/proc/%d/root" % pid)
        self.ppid = proc_ppid(pid)
        # The role a child was exec'd with (-R role), or None.
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            args = f.read().decode("utf-8", "replace").split("\0")
        self.role = (args[args.index("-R") + 1]
                     if "-R" in args[:-1] else None)

    def __repr__(self):
        return ("pid %d (%s) uids=%s gids=%s groups=%s root=%s ppid=%d"
                % (self.pid, self.name, self.uids, self.gids, self.groups,
                   self.root, self.ppid))


def proc_ppid(pid):
    with open("/proc/%d/stat" % pid) as f:
        stat = f.read()
    # The command name may hold spaces and parentheses: split after it.
    return int(stat[stat.rindex(")") + 2:].split()[1])


def proc_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def children(pid):
    """The live children of pid, from every process's /proc/*/stat."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            if proc_ppid(int(d)) == pid and proc_alive(int(d)):
                out.append(int(d))
        except (OSError, ValueError, IndexError):
            continue
    return sorted(out)


def fast_children(pid):
    """The children of pid's main thread, from /proc/PID/task/PID/children
    (cheap enough to poll for a child that lives a few milliseconds)."""
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except FileNotFoundError:
        return children(pid)


def conn_holders(server_port, client_port):
    """The pids holding the server end of the TCP connection between
    127.0.0.1:server_port and 127.0.0.1:client_port, from ss -tnp."""
    r = subprocess.run(
        ["ss", "-Htnp", "state", "established",
         "( sport = :%d and dport = :%d )" % (server_port, client_port)],
        capture_output=True, text=True, check=True)
    return sorted(set(int(p) for p in re.findall(r"pid=(\d+)", r.stdout)))


def user_ids(name):
    pw = pwd.getpwnam(name)
    return pw.pw_uid, pw.pw_gid


# ---------------------------------------------------------------- clients

class SMTPLine:
    """A raw SMTP client for what smtplib will not send: bytes as given,
    replies read whole (multi-line included), a timeout on every read."""

    def __init__(self, port, timeout=45, source=None):
        """source: the loopback address to connect from."""
        self.sock = socket.create_connection(
            ("127.0.0.1", port), timeout=timeout,
            source_address=(source, 0) if source else None)
        self.buf = b""
        self.greeting = self.reply()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def local_port(self):
        return self.sock.getsockname()[1]

    def send(self, data):
        self.sock.sendall(data)

    def _line(self):
        while b"\n" not in self.buf:
            d = self.sock.recv(65536)
            if not d:
                raise EOFError("connection closed; unread %r" % self.buf)
            self.buf += d
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r")

    def reply(self):
        """(code, text) of one reply; raises EOFError on a close."""
        lines = []
        while True:
            line = self._line()
            lines.append(line)
            if len(line) < 4 or line[3:4] != b"-":
                break
        code = int(lines[-1][:3])
        return code, b"\n".join(l[4:] for l in lines).decode("latin-1")

    def cmd(self, line):
        self.send(line + b"\r\n")
        return self.reply()

    def ehlo(self, helo=HELO):
        """EHLO, which must be answered 250; returns the reply's text."""
        code, text = self.cmd(b"EHLO " + helo.encode())
        assert code == 250, (code, text)
        return text

    def bdat(self, chunk, last=False):
        """One BDAT command with its chunk (RFC 3030); its reply."""
        self.send(bdat_bytes(chunk, last))
        return self.reply()

    def closed(self, timeout=10):
        """True once the server has closed the connection."""
        self.sock.settimeout(timeout)
        try:
            while True:
                d = self.sock.recv(65536)
                if not d:
                    return True
                self.buf += d
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class POP3Line:
    """A raw POP3 client: single-line replies only.  source: the
    loopback address to connect from."""

    def __init__(self, port, timeout=30, source=None):
        self.sock = socket.create_connection(
            ("127.0.0.1", port), timeout=timeout,
            source_address=(source, 0) if source else None)
        self.f = self.sock.makefile("rb")
        self.greeting = self.line()

    def line(self):
        l = self.f.readline()
        if not l:
            raise EOFError("connection closed")
        return l.rstrip(b"\r\n")

    def cmd(self, line):
        self.sock.sendall(line + b"\r\n")
        return self.line()

    def closed(self):
        """True once the server has closed the connection."""
        try:
            return self.f.readline() == b""
        except (ConnectionResetError, BrokenPipeError):
            return True

    def close(self):
        self.f.close()
        self.sock.close()


def connect_from(addr, port, timeout=30):
    """A socket from the loopback address addr that has read the 220."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((addr, 0))
    s.connect(("127.0.0.1", port))
    buf = b""
    while not buf.endswith(b"\r\n"):
        d = s.recv(4096)
        if not d:
            raise EOFError("closed before the greeting: %r" % buf)
        buf += d
    return s, buf


def client_ctx():
    """A TLS client context that takes any certificate."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def starttls(c):
    """STARTTLS on an SMTPLine after EHLO; returns it wrapped."""
    code, text = c.cmd(b"STARTTLS")
    assert code == 220, (code, text)
    assert c.buf == b"", "plaintext after 220: %r" % c.buf
    c.sock = client_ctx().wrap_socket(c.sock)
    return c


def bdat_bytes(chunk, last=False):
    """A BDAT command line followed by its chunk, as sent."""
    return (b"BDAT %d%s\r\n" % (len(chunk), b" LAST" if last else b"")
            + chunk)


def make_message(subject, body_lines, sender="alice@example.test",
                 rcpt="bob@example.test"):
    """A message as bytes with CRLF line ends."""
    head = [
        "From: Alice <%s>" % sender,
        "To: <%s>" % rcpt,
        "Subject: %s" % subject,
        "Date: Thu, 01 Jan 2026 00:00:00 +0000",
        "Message-ID: <%s.%d@%s>" % (re.sub(r"\W", "", subject)[:20],
                                     time.monotonic_ns(), DOMAIN),
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=us-ascii",
    ]
    return ("\r\n".join(head + [""] + body_lines) + "\r\n").encode()


QUEUE_ID_RE = re.compile(r"\b[0-9a-f]{16}\b")


def queue_id(text):
    m = QUEUE_ID_RE.search(text)
    return m.group(0) if m else None


# ---------------------------------------------------------------- suite

class Suite:
    """One whole suite under a temporary root."""

    def __init__(self, name, retry="1s", max_retry="2s", expire="1h",
                 max_errors=None, max_message_bytes=None, extra_config=(),
                 plaintext_loopback=True, resolver="none",
                 delay_notice=None):
        """extra_config: lines appended to the configuration, for a test
        class that needs a limit or a policy of its own (suite_args).
        plaintext_loopback: "auth plaintext-on-loopback yes", which the
        clear-text logins of most tests need (pop3d refuses USER and
        AUTH without TLS otherwise), unless extra_config says it.
        resolver: what follows "resolver" (the relay's tests name their
        nsd); delay_notice: the queue's delay-notice time, if any."""
        need_root()
        ensure_users()
        self.name = name
        # SALLYPORT_TEST_TMPDIR: where the suite's root goes (the scale
        # tests use a tmpfs: unlinking 100,000 files on a disk mounted
        # with discard takes minutes).
        self.root = tempfile.mkdtemp(
            prefix="sallyport-%s-" % name,
            dir=os.environ.get("SALLYPORT_TEST_TMPDIR", "/tmp"))
        os.chmod(self.root, 0o755)
        (self.smtp_port, self.pop3_port, self.submission_port,
         self.smtps_port, self.imap_port, self.imaps_port) = free_ports(6)
        self.procs = {}          # daemon -> Popen
        self.logfiles = {}
        self.exit_status = {}    # daemon -> (returncode, seconds)
        self.keep = False
        self.retry, self.max_retry, self.expire = retry, max_retry, expire
        self.max_errors = max_errors
        self.max_message_bytes = max_message_bytes
        self.extra_config = list(extra_config)
        self.plaintext_loopback = plaintext_loopback
        self.resolver, self.delay_notice = resolver, delay_notice
        self._layout()

    # -- paths

    def path(self, *p):
        return os.path.join(self.root, *p)

    @property
    def conf(self):
        return self.path("etc", "sallyport.conf")

    @property
    def sockdir(self):
        return self.path("sock")

    @property
    def spool(self):
        return self.path("spool")

    @property
    def chroot(self):
        return self.path("empty")

    def home(self, user):
        return self.path("mail", user)

    def maildir(self, user, sub="new"):
        return os.path.join(self.home(user), "Maildir", sub)

    def binary(self, prog):
        return os.path.join(REPO, HELPER_DIRS.get(prog, prog), prog)

    # -- layout

    def _mkdir(self, p, mode=0o755, owner="root"):
        os.makedirs(p, exist_ok=True)
        pw = pwd.getpwnam(owner)
        os.chown(p, pw.pw_uid, pw.pw_gid)
        os.chmod(p, mode)

    def _write(self, p, text, mode=0o644, group="root"):
        with open(p, "w") as f:
            f.write(text)
        os.chown(p, 0, grp.getgrnam(group).gr_gid)
        os.chmod(p, mode)

    def _layout(self):
        for d in ("etc", "sock", "empty", "mail"):
            self._mkdir(self.path(d))
        # The logs name addresses and client IPs: root's only.
        self._mkdir(self.path("log"), 0o750)
        self._mkdir(self.spool, 0o700, DAEMON_USERS["queue"])
        for user, sysuser in MAIL_USERS.items():
            self._mkdir(self.home(user), 0o700, sysuser)
        self._make_cert()
        self.write_config(self.config_text())
        h = crypt_hash(PASSWORD)
        lines = ["# name:crypt-hash:uid:gid:home"]
        for user, sysuser in MAIL_USERS.items():
            uid, gid = user_ids(sysuser)
            lines.append("%s:%s:%d:%d:%s" % (user, h, uid, gid,
                                             self.home(user)))
        self._write(self.path("etc", "users"), "\n".join(lines) + "\n",
                    0o640, DAEMON_USERS["auth"])
        self._write(self.path("etc", "aliases"),
                    "postmaster: alice\nabuse: alice\nteam: alice, bob\n"
                    "crew: bob, alice\n")

    @property
    def cert(self):
        return self.path("etc", "cert.pem")

    def _make_cert(self):
        """A self-signed certificate for mail.example.test (P-256: quick
        to make), for the pki statement."""
        key = self.path("etc", "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                        "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-days", "30",
                        "-subj", "/CN=mail.example.test",
                        "-keyout", key, "-out", self.cert],
                       check=True, capture_output=True)
        os.chmod(key, 0o600)

    def config_text(self):
        lines = [
            'hostname "mail.example.test"',
            'rundir "%s"' % self.sockdir,
            'spool "%s"' % self.spool,
            'chroot "%s"' % self.chroot,
            'users "%s"' % self.path("etc", "users"),
            'aliases "%s"' % self.path("etc", "aliases"),
            "resolver %s" % self.resolver,
            'domain "%s"' % DOMAIN,
            "listen smtp on 127.0.0.1 port %d" % self.smtp_port,
            "listen pop3 on 127.0.0.1 port %d" % self.pop3_port,
            "listen submission on 127.0.0.1 port %d" % self.submission_port,
            "listen smtps on 127.0.0.1 port %d" % self.smtps_port,
            "listen imap on 127.0.0.1 port %d" % self.imap_port,
            "listen imaps on 127.0.0.1 port %d" % self.imaps_port,
            'pki "mail.example.test" cert "%s" key "%s"'
            % (self.cert, self.path("etc", "key.pem")),
            "queue retry %s max-retry %s expire %s%s"
            % (self.retry, self.max_retry, self.expire,
               " delay-notice %s" % self.delay_notice
               if self.delay_notice else ""),
        ]
        if self.max_errors is not None:
            lines.append("limit errors %d" % self.max_errors)
        if self.max_message_bytes is not None:
            lines.append("limit message-size %d" % self.max_message_bytes)
        if self.plaintext_loopback and not any(
                "plaintext-on-loopback" in l for l in self.extra_config):
            lines.append("auth plaintext-on-loopback yes")
        lines.extend(self.extra_config)
        return "\n".join(lines) + "\n"

    def write_config(self, text, path=None):
        self._write(path or self.conf, text)

    # -- daemons

    def _listening(self, port):
        """True when something listens on 127.0.0.1:port (from
        /proc/net/tcp, so that no connection is made)."""
        want = ":%04X" % port
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[1].endswith(want) and fields[3] == "0A":
                    return True
        return False

    def _unix_listening(self, name):
        """True when a socket listens on <rundir>/name (from
        /proc/net/unix: a socket file left by a dead daemon does not
        count, and no connection is made)."""
        path = os.path.join(self.sockdir, name)
        with open("/proc/net/unix") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if len(fields) >= 8 and fields[7] == path and \
                        int(fields[3], 16) & 0x10000:
                    return True
        return False

    def is_up(self, d):
        if d == "authd":
            return self._unix_listening("authd.sock")
        if d == "queued":
            return self._unix_listening("queue.sock")
        if d == "smtpd":
            return self._listening(self.smtp_port)
        if d == "pop3d":
            return self._listening(self.pop3_port)
        if d == "imapd":
            return self._listening(self.imap_port)
        raise ValueError(d)

    def start(self, daemons=DAEMONS):
        try:
            for d in daemons:
                self.start_daemon(d)
        except BaseException:
            self.keep = True
            self.dump_logs()
            self.stop()
            raise

    def start_daemon(self, d, wait=True):
        fd = os.open(self.path("log", "%s.log" % d),
                     os.O_WRONLY | os.O_CREAT | os.O_APPEND, LOG_MODE)
        os.fchmod(fd, LOG_MODE)
        logf = os.fdopen(fd, "ab")
        logf.write(b"==== start\n")
        logf.flush()
        p = subprocess.Popen([self.binary(d), "-d", "-f", self.conf],
                             stdin=subprocess.DEVNULL, stdout=logf,
                             stderr=subprocess.STDOUT,
                             start_new_session=True)
        logf.close()
        self.procs[d] = p
        if not wait:
            return p
        end = time.monotonic() + START_TIMEOUT
        while not self.is_up(d):
            if p.poll() is not None:
                raise RuntimeError("%s exited with status %d at start:\n%s"
                                   % (d, p.returncode, self.tail(d)))
            if time.monotonic() > end:
                raise RuntimeError("%s not up after %ds:\n%s"
                                   % (d, START_TIMEOUT, self.tail(d)))
            time.sleep(0.05)
        return p

    def pid(self, d):
        return self.procs[d].pid

    def stop_daemon(self, d, timeout=STOP_TIMEOUT):
        """SIGTERM, then SIGKILL of its whole process group after timeout.
        Returns (returncode, seconds); returncode None if it was killed."""
        p = self.procs.pop(d, None)
        if p is None:
            return None
        t0 = time.monotonic()
        rc = None
        if p.poll() is None:
            try:
                p.send_signal(signal.SIGTERM)
                rc = p.wait(timeout)
            except subprocess.TimeoutExpired:
                rc = None
        else:
            rc = p.returncode
        elapsed = time.monotonic() - t0
        # The daemon has its own process group (start_new_session); any
        # child it left behind goes with it.
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if p.poll() is None:
            p.wait()
        self.exit_status[d] = (rc, elapsed)
        return rc, elapsed

    def group_left(self, pgid):
        """Live processes still in process group pgid."""
        left = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d) as f:
                    stat = f.read()
                fields = stat[stat.rindex(")") + 2:].split()
                if int(fields[2]) == pgid and fields[0] != "Z":
                    left.append(int(d))
            except (OSError, ValueError, IndexError):
                continue
        return left

    def stop(self):
        for d in reversed(DAEMONS):
            if d in self.procs:
                self.stop_daemon(d)

    def cleanup(self):
        self.stop()
        # A sanitizer build ("make asan-check"): what ASan or UBSan
        # found in a daemon is a failure of the test class.
        found = [d for d in DAEMONS if SANITIZER_REPORT.search(self.log(d))]
        if found:
            self.keep = True
            self.dump_logs()
            raise AssertionError("sanitizer report in the log of %s"
                                 % ", ".join(found))
        if self.keep or os.environ.get("SALLYPORT_KEEP"):
            sys.stderr.write("kept %s (logs in %s)\n"
                             % (self.root, self.path("log")))
        else:
            shutil.rmtree(self.root, ignore_errors=True)

    # -- logs

    def log(self, d):
        try:
            with open(self.path("log", "%s.log" % d), "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def tail(self, d, n=LOG_TAIL_LINES):
        lines = self.log(d).splitlines()[-n:]
        return "".join("    %s\n" % l for l in lines)

    def dump_logs(self, out=sys.stderr):
        for d in DAEMONS:
            out.write("---- %s: last lines of %s\n%s"
                      % (d, self.path("log", "%s.log" % d), self.tail(d)))

    # -- processes

    def children_of(self, d):
        return self.children_of_pid(self.pid(d))

    def children_of_pid(self, pid):
        out = []
        for c in children(pid):
            try:
                out.append(ProcInfo(c))
            except (FileNotFoundError, ProcessLookupError):
                continue        # it has just exited
        return out

    def child_as(self, d, user, role=None):
        """The one child of daemon d running as the system user (and
        exec'd as role, when given).  The relay's MTA-STS helper runs as
        the relay's user: asked for that user alone, the relay answers."""
        if role is None and user == DAEMON_USERS["relay"]:
            role = "relay"
        uid = pwd.getpwnam(user).pw_uid
        found = [c for c in self.children_of(d) if c.uids[0] == uid
                 and (role is None or c.role == role)]
        return found[0] if len(found) == 1 else None

    def wait_child_as(self, d, user, timeout=15, exclude=(), role=None):
        def look():
            c = self.child_as(d, user, role)
            return c if c is not None and c.pid not in exclude else None
        return wait_for(look, timeout, what="a %s child of %s running as %s"
                        % (d, d, user))

    def root_children(self, d):
        return [c for c in self.children_of(d) if c.uids[0] == 0]

    def engine(self, d):
        user = {"smtpd": "smtp", "pop3d": "pop3", "imapd": "imap"}[d]
        return self.wait_child_as(d, DAEMON_USERS[user])

    def manager(self):
        return self.wait_child_as("queued", DAEMON_USERS["queue"])

    def relay(self):
        """queued's relay process (queued/relay.c), as _sallyrelay."""
        return self.wait_child_as("queued", DAEMON_USERS["relay"],
                                  role="relay")

    def relay_sts(self):
        """queued's MTA-STS helper (queued/relay_sts_proc.c), as
        _sallyrelay too."""
        return self.wait_child_as("queued", DAEMON_USERS["relay"],
                                  role="relay-sts")

    def delivery_agent(self):
        def look():
            r = self.root_children("queued")
            return r[0] if len(r) == 1 else None
        return wait_for(look, 15, what="queued's delivery agent")

    # -- mail

    def smtp(self, timeout=45):
        s = smtplib.SMTP("127.0.0.1", self.smtp_port, local_hostname=HELO,
                         timeout=timeout)
        return s

    def send(self, msg, rcpts=("bob@example.test",),
             sender="alice@example.test"):
        """Sends one message; returns the (code, text) of the final reply
        to DATA.  Raises on any refusal before it."""
        s = self.smtp()
        try:
            code, text = s.ehlo()
            assert code == 250, (code, text)
            code, text = s.mail(sender)
            assert code == 250, ("MAIL", code, text)
            for r in rcpts:
                code, text = s.rcpt(r)
                assert code == 250, ("RCPT", r, code, text)
            code, text = s.data(msg)
            return code, text.decode("latin-1")
        finally:
            try:
                s.quit()
            except (smtplib.SMTPException, OSError):
                s.close()

    def fill_client_sessions(self, addr, n, socks):
        """Opens n sessions from addr into socks, each greeted 220; one
        more must get 421 4.7.0 and be closed (sessions-per-client)."""
        for _ in range(n):
            s, greeting = connect_from(addr, self.smtp_port)
            socks.append(s)
            assert greeting.startswith(b"220 "), greeting
        s, greeting = connect_from(addr, self.smtp_port)
        socks.append(s)
        assert greeting.startswith(b"421 4.7.0 "), greeting
        assert s.recv(4096) == b"", "not closed after the 421"
        socks.pop().close()

    def mail_after_messages(self, n):
        """Sends n messages in one session, then one more MAIL: its
        (code, text), for the messages-per-session limit."""
        c = self.smtp()
        try:
            assert c.ehlo()[0] == 250
            for i in range(n):
                msg = make_message("per-session %d" % i, ["n %d" % i])
                refused = c.sendmail("alice@example.test",
                                     ["bob@example.test"], msg)
                assert refused == {}, refused
            return c.mail("alice@example.test")
        finally:
            c.close()

    def pop3(self, user, password=PASSWORD, timeout=30):
        p = poplib.POP3("127.0.0.1", self.pop3_port, timeout=timeout)
        p.user(user)
        p.pass_(password)
        return p

    def imap(self, user, password=PASSWORD, timeout=30):
        """An imaplib client logged in as user on the imap listener (in
        clear text: the suite allows it on loopback)."""
        c = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=timeout)
        c.login(user, password)
        return c

    def make_maildir(self, user):
        """user's Maildir/{tmp,new,cur}, owned by the user, mode 0700;
        returns the path of tmp/ (made 0500, it fails deliveries
        temporarily)."""
        uid, gid = user_ids(MAIL_USERS[user])
        base = os.path.join(self.home(user), "Maildir")
        for d in (base, base + "/tmp", base + "/new", base + "/cur"):
            os.makedirs(d, exist_ok=True)
            os.chown(d, uid, gid)
            os.chmod(d, 0o700)
        return base + "/tmp"

    def mail_files(self, user, sub="new"):
        d = self.maildir(user, sub)
        try:
            return sorted(os.path.join(d, f) for f in os.listdir(d))
        except FileNotFoundError:
            return []

    def wait_marked(self, marker, user="bob", timeout=20):
        """The content of the message in user's Maildir holding marker."""
        def look():
            for f in self.mail_files(user):
                with open(f, "rb") as fh:
                    data = fh.read()
                if marker.encode() in data:
                    return data
            return None
        return wait_for(look, timeout, what="mail %r" % marker)

    def delivered_body(self, marker, user="bob", timeout=20):
        """The message holding marker as it was sent (LF line ends): the
        delivered file without the lines that smtpd and the delivery
        agent add."""
        return split_delivered(self.wait_marked(marker, user, timeout))[3]

    def marked_after_later(self, marker, user="bob"):
        """The files in user's Maildir holding marker, once a message sent
        later has arrived.  Only a committed message is delivered, so a
        refused or discarded one would have been there by then."""
        later = "later-%d" % time.monotonic_ns()
        code, text = self.send(make_message(later, ["later"]),
                               rcpts=("%s@%s" % (user, DOMAIN),))
        assert code == 250, (code, text)
        self.wait_marked(later, user)
        found = []
        for f in self.mail_files(user):
            with open(f, "rb") as fh:
                if marker.encode() in fh.read():
                    found.append(f)
        return found

    def wait_mail(self, user, count=1, timeout=20):
        return wait_for(
            lambda: (self.mail_files(user)
                     if len(self.mail_files(user)) >= count else None),
            timeout, what="%d message(s) in %s's Maildir/new"
            % (count, user))

    def spool_entries(self, area):
        try:
            return sorted(os.listdir(os.path.join(self.spool, area)))
        except FileNotFoundError:
            return []

    def sallyctl(self, *args, timeout=30):
        return subprocess.run([self.binary("sallyctl"), "-f", self.conf]
                              + list(args), capture_output=True,
                              text=True, timeout=timeout)


def split_delivered(data):
    """A delivered file (LF line ends) as (return_path, delivered_to,
    received, rest): the two lines the delivery agent adds, smtpd's
    Received header (with its continuation lines) and the rest."""
    lines = data.split(b"\n")
    rp, dt = lines[0], lines[1]
    i = 2
    received = []
    if lines[i].lower().startswith(b"received:"):
        received.append(lines[i])
        i += 1
        while i < len(lines) and lines[i][:1] in (b" ", b"\t"):
            received.append(lines[i])
            i += 1
    return rp, dt, b"\n".join(received), b"\n".join(lines[i:])


class SuiteTest(unittest.TestCase):
    """A test class that runs against one suite, started once for the
    class.  On a failure the suite's logs are printed and its root kept."""

    suite = None
    suite_args = {}
    start_daemons = DAEMONS

    @classmethod
    def setUpClass(cls):
        cls.suite = Suite(cls.__name__.lower(), **cls.suite_args)
        cls.suite.start(cls.start_daemons)

    @classmethod
    def tearDownClass(cls):
        if cls.suite is not None:
            cls.suite.cleanup()
            cls.suite = None

    def run(self, result=None):
        before = (len(result.failures) + len(result.errors)
                  if result is not None else 0)
        out = super().run(result)
        if result is not None and \
                len(result.failures) + len(result.errors) > before and \
                self.suite is not None:
            self.suite.keep = True
            sys.stderr.write("\n==== %s failed; daemon logs:\n" % self.id())
            self.suite.dump_logs()
        return out
