#!/usr/bin/env python3
"""The POP3 benchmark: bench/run.sh (make bench) runs it as root, after
the SMTP one, side by side with a Dovecot instance of its own.

For each server it starts a fresh instance under a temporary directory
on a free loopback port, gives it the same mailboxes (copies of one set
of Maildirs, written as sallyport's delivery writes them), and measures:

  sessions/s     connect, USER/PASS, STAT, QUIT on a 10-message
                 mailbox, by --clients concurrent clients, each with a
                 user of its own (sallyport locks a maildrop per session)
  logins/s       connect, USER/PASS, QUIT on an empty mailbox
  RETR msgs/s    every message of a 200-message mailbox of 4 KB
                 messages retrieved, one session per client
  MB/s 20 MB     one client retrieving a 20 MB message (LF line ends,
                 some lines starting with a dot) several times, and the
                 server's CPU for it per MB (steadier on a busy machine)
  CPU ms/sess.   utime+stime (with reaped children) of every process of
                 the server over the sessions/s run, per session
  peak PSS MB    the largest sum of Pss of the server's processes,
                 sampled every 100 ms over the whole run
  10k first/warm login+STAT of a 10,000-message mailbox that this
                 server has never opened (every message in new/, no
                 index or cache), then again (the median of 5)

The sessions/s, logins/s and RETR msgs/s rows are run by the C load
generator bench/out/pop3-load (bench/pop3-load.c, built by bench/run.sh):
one process with one event loop, on the same two cores as the servers,
which both servers pay for alike.  The 20 MB RETR and the 10k logins are
single sessions of a Python client.  Nothing here touches a non-loopback
address; every process started is stopped by its pid.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench  # noqa: E402  (its /proc helpers, the machine line)
from bench import suite  # noqa: E402

USER_UID0 = 31000               # the benchmark's virtual users
SMALL_MSGS = 10                 # sessions/s mailbox
RETR_MSGS = 200                 # RETR msgs/s mailbox
MSG_BYTES = 4096
BIG_BYTES = 20 * 1024 * 1024
BIG_ROUNDS = 3
BIG_MSGS = 10000
WARM_ROUNDS = 5
START_SECS = 20
IO_TIMEOUT = 120
# Before the CPU is read after a run: the last session's process has
# answered QUIT but may not have exited and been reaped yet.
SETTLE_SECS = 0.5
LOAD = os.path.join(HERE, "out", "pop3-load")
LOAD_DEADLINE_SECS = 120
LOAD_GRACE_SECS = 30


# ---------------------------------------------------------------- mail

def message(i, size):
    """A message of about size bytes with LF line ends; a line in
    twenty starts with a dot (stuffed on the wire)."""
    head = (b"From: bench@example.test\nTo: user@example.test\n"
            b"Subject: pop3 bench %d\nMessage-ID: <%d@bench>\n\n" % (i, i))
    lines, n = [], len(head)
    k = 0
    while n < size:
        line = b"%sline %d of message %d, some text to make it longer " \
               b"than it needs\n" % (b"." if k % 20 == 7 else b"", k, i)
        lines.append(line)
        n += len(line)
        k += 1
    return head + b"".join(lines)


def put_maildir(home, uid, msgs, first=0):
    """Maildir/{new,cur,tmp} under home, msgs (list of bytes) in new/
    named as sallyport's delivery names them (,S= and ,W=)."""
    base = os.path.join(home, "Maildir")
    for d in (home, base, base + "/new", base + "/cur", base + "/tmp"):
        os.makedirs(d, exist_ok=True)
        os.chown(d, uid, uid)
        os.chmod(d, 0o700)
    for i, data in enumerate(msgs, first):
        name = "%d.M%06dP%dQ%d.bench,S=%d,W=%d" % (
            1700000000 + i, i % 1000000, 4242, i, len(data),
            len(data) + data.count(b"\n"))
        p = os.path.join(base, "new", name)
        with open(p, "wb") as f:
            f.write(data)
        os.chown(p, uid, uid)


class Users:
    """The benchmark's users: name, uid, and which mailbox each has."""

    def __init__(self, clients):
        self.small = ["bs%03d" % i for i in range(clients)]
        self.empty = ["be%03d" % i for i in range(clients)]
        self.retr = ["br%03d" % i for i in range(clients)]
        self.big = ["bbig"]
        self.k10 = ["bk10"]
        self.all = (self.small + self.empty + self.retr + self.big +
                    self.k10)
        self.uid = {u: USER_UID0 + i for i, u in enumerate(self.all)}

    def fill(self, home_of, quick):
        """Writes every mailbox but the 10k one (fill_k10, per server:
        each server must find it never opened)."""
        small = [message(i, MSG_BYTES) for i in range(SMALL_MSGS)]
        retr = small + [message(i, MSG_BYTES)
                        for i in range(SMALL_MSGS, RETR_MSGS)]
        for u in self.small:
            put_maildir(home_of(u), self.uid[u], small)
        for u in self.empty:
            put_maildir(home_of(u), self.uid[u], [])
        for u in self.retr:
            put_maildir(home_of(u), self.uid[u],
                        retr[:50] if quick else retr)
        put_maildir(home_of("bbig"), self.uid["bbig"],
                    [message(0, BIG_BYTES)])
        put_maildir(home_of("bk10"), self.uid["bk10"], [])

    def fill_k10(self, home_of, n):
        data = message(0, 600)
        put_maildir(home_of("bk10"), self.uid["bk10"], [data] * n)


# ---------------------------------------------------------------- servers

class Sallyport:
    name = "sallyport"

    def __init__(self, users):
        self.users = users
        self.s = suite.Suite("pop3bench")
        h = suite.crypt_hash(suite.PASSWORD)
        lines = []
        for u in users.all:
            uid = users.uid[u]
            lines.append("%s:%s:%d:%d:%s" % (u, h, uid, uid, self.home(u)))
        p = self.s.path("etc", "users")
        with open(p, "a") as f:
            f.write("\n".join(lines) + "\n")

    def home(self, u):
        return self.s.path("mail", u)

    def start(self):
        self.s.start()
        self.port = self.s.pop3_port

    def roots(self):
        return [p.pid for p in self.s.procs.values()]

    def stop(self):
        self.s.cleanup()


DOVECOT_CONF = """\
# Written by bench/pop3.py: a Dovecot instance of the benchmark's own.
protocols = pop3
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/log/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
mail_location = maildir:~/Maildir
first_valid_uid = 100
default_internal_user = dovecot
default_login_user = dovenull
passdb {{
  driver = passwd-file
  args = scheme=CRYPT {root}/etc/passwd
}}
userdb {{
  driver = passwd-file
  args = {root}/etc/passwd
}}
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
"""


class Dovecot:
    """Debian's Dovecot 2.3 with its defaults (a login process per
    connection, no auth cache), plain text allowed, no TLS."""
    name = "dovecot"

    def __init__(self, users):
        self.users = users
        self.root = tempfile.mkdtemp(prefix="sallyport-bench-dovecot-",
                                     dir=os.environ.get(
                                         "SALLYPORT_TEST_TMPDIR", "/tmp"))
        os.chmod(self.root, 0o755)
        for d in ("etc", "run", "state", "log", "mail"):
            os.mkdir(os.path.join(self.root, d), 0o755)
        self.port = suite.free_ports(1)[0]
        self.master = None
        h = suite.crypt_hash(suite.PASSWORD)
        with open(self.path("etc", "passwd"), "w") as f:
            for u in users.all:
                uid = users.uid[u]
                f.write("%s:%s:%d:%d::%s::\n" % (u, h, uid, uid,
                                                  self.home(u)))
        self.conf = self.path("etc", "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write(DOVECOT_CONF.format(root=self.root, port=self.port))

    def path(self, *p):
        return os.path.join(self.root, *p)

    def home(self, u):
        return self.path("mail", u)

    def start(self):
        # The master keeps the descriptors it was given: no pipes.
        with open(self.path("log", "start.log"), "w") as out:
            r = subprocess.run(["dovecot", "-c", self.conf],
                               stdin=subprocess.DEVNULL, stdout=out,
                               stderr=subprocess.STDOUT, timeout=60)
        if r.returncode != 0:
            with open(self.path("log", "start.log")) as f:
                raise RuntimeError("dovecot -c %s failed: %s"
                                   % (self.conf, f.read()))
        end = time.monotonic() + START_SECS
        while not bench.listening(self.port):
            if time.monotonic() > end:
                raise RuntimeError("dovecot not listening on port %d; see "
                                   "%s" % (self.port,
                                           self.path("log", "dovecot.log")))
            time.sleep(0.05)
        with open(self.path("run", "master.pid")) as f:
            self.master = int(f.read().strip())

    def roots(self):
        return [self.master]

    def stop(self):
        if self.master is not None:
            try:
                os.kill(self.master, signal.SIGTERM)
            except ProcessLookupError:
                pass
            end = time.monotonic() + 15
            while suite.proc_alive(self.master) and \
                    time.monotonic() < end:
                time.sleep(0.1)
            if suite.proc_alive(self.master):
                os.kill(self.master, signal.SIGKILL)
            self.master = None
        shutil.rmtree(self.root, ignore_errors=True)


# ---------------------------------------------------------------- client

class Pop3:
    """A minimal POP3 client: no parsing past what is measured."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port),
                                             timeout=IO_TIMEOUT)
        self.buf = b""
        self.ok(self.line())

    def line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line, self.buf = self.buf[:i], self.buf[i + 2:]
                return line
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("connection closed")
            self.buf += data

    @staticmethod
    def ok(line):
        if not line.startswith(b"+OK"):
            raise RuntimeError("server said %r" % line[:200])
        return line

    def cmd(self, text):
        self.sock.sendall(text.encode() + b"\r\n")
        return self.ok(self.line())

    def login(self, user):
        self.cmd("USER " + user)
        self.cmd("PASS " + suite.PASSWORD)

    def multi(self):
        """The rest of a multi-line answer; returns its length."""
        data = bytearray(self.buf)
        self.buf = b""
        view = bytearray(1 << 20)
        while not data.endswith(b"\r\n.\r\n"):
            n = self.sock.recv_into(view)
            if n == 0:
                raise ConnectionError("connection closed in an answer")
            data += view[:n]
        return len(data)

    def quit(self):
        self.cmd("QUIT")
        self.sock.close()


def run_load(port, mode, users, sessions):
    """pop3-load in mode (sessions, logins or retr), a client per user;
    returns its RESULT figures.  Failed sessions are counted, not
    raised: a run where none completed raises."""
    cmd = [LOAD, "-a", "127.0.0.1", "-p", str(port), "-m", mode,
           "-c", str(len(users)), "-n", str(sessions),
           "-u", ",".join(users), "-w", suite.PASSWORD,
           "-T", str(LOAD_DEADLINE_SECS)]
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                       text=True,
                       timeout=LOAD_DEADLINE_SECS + LOAD_GRACE_SECS)
    res = bench.parse_result(r.stdout)
    if r.stderr:
        sys.stderr.write(r.stderr)
    if res is None or int(res["done"]) == 0:
        raise RuntimeError("pop3-load -m %s: exit %d, no session completed"
                           % (mode, r.returncode))
    return res


def do_big(port, user, rounds):
    c = Pop3(port)
    c.login(user)
    total = 0
    for _ in range(rounds):
        c.cmd("RETR 1")
        total += c.multi()
    c.quit()
    return total


def login_stat(port, user):
    t0 = time.monotonic()
    c = Pop3(port)
    c.login(user)
    count = int(c.cmd("STAT").split()[1])
    t = time.monotonic() - t0
    c.quit()
    return t, count


# ---------------------------------------------------------------- measure

class Sampler(threading.Thread):
    """The peak of the server's PSS and process count, every 100 ms."""

    def __init__(self, roots):
        super().__init__(daemon=True)
        self.roots, self.peak_pss, self.peak_procs = roots, 0, 0
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            _, pss, _, n = bench.tree_memory_kb(self.roots)
            self.peak_pss = max(self.peak_pss, pss)
            self.peak_procs = max(self.peak_procs, n)
            self.halt.wait(bench.SAMPLE_SECS)


def run_server(target, users, args):
    res = {"server": target.name}
    target.start()
    roots = target.roots()
    sampler = Sampler(roots)
    sampler.start()
    try:
        port = target.port
        # Warm-up: every user once (process caches, first logins).
        run_load(port, "sessions", users.small, args.clients)
        cpu0, detail0 = (bench.tree_cpu_secs(roots),
                         bench.tree_cpu_detail(roots))
        r = run_load(port, "sessions", users.small, args.sessions)
        time.sleep(SETTLE_SECS)
        cpu = bench.tree_cpu_secs(roots) - cpu0
        done = int(r["done"])
        res["sessions_per_s"] = float(r["rate"])
        res["cpu_ms_per_session"] = cpu * 1e3 / done
        res["session_cpu_ms_by_process"] = {
            k: v / done for k, v in bench.cpu_breakdown(
                detail0, bench.tree_cpu_detail(roots)).items()}
        res["session_p50_ms"] = float(r["p50_ms"])
        res["session_p99_ms"] = float(r["p99_ms"])
        res["client_cpu_ms_per_session"] = float(r["client_cpu_ms"]) / done
        failed = int(r["failed"])
        r = run_load(port, "logins", users.empty, args.sessions)
        res["logins_per_s"] = float(r["rate"])
        failed += int(r["failed"])
        r = run_load(port, "retr", users.retr, args.clients)
        res["retr_msgs_per_s"] = float(r["msg_rate"])
        failed += int(r["failed"])
        res["failed_sessions"] = failed
        t0, cpu0 = time.monotonic(), bench.tree_cpu_secs(roots)
        total = do_big(port, "bbig", args.big_rounds)
        res["big_mb_per_s"] = total / (time.monotonic() - t0) / 1e6
        time.sleep(SETTLE_SECS)
        res["big_cpu_ms_per_mb"] = ((bench.tree_cpu_secs(roots) - cpu0) *
                                    1e3 / (total / 1e6))
        users.fill_k10(target.home, args.k10)
        t, count = login_stat(port, "bk10")
        if count != args.k10:
            raise RuntimeError("%s: STAT says %d messages, not %d"
                               % (target.name, count, args.k10))
        res["k10_first_ms"] = t * 1e3
        warm = sorted(login_stat(port, "bk10")[0]
                      for _ in range(WARM_ROUNDS))
        res["k10_warm_ms"] = warm[len(warm) // 2] * 1e3
    finally:
        sampler.halt.set()
        sampler.join()
        res["peak_pss_mb"] = sampler.peak_pss / 1024
        res["peak_procs"] = sampler.peak_procs
    return res


# ---------------------------------------------------------------- output

# (label, key, format, better: "high" or "low", target ratio or None)
ROWS = (
    ("sessions/s", "sessions_per_s", "%.0f", "high", 3.0),
    ("logins/s", "logins_per_s", "%.0f", "high", 3.0),
    ("RETR msgs/s (4 KB)", "retr_msgs_per_s", "%.0f", "high", None),
    ("MB/s, 20 MB RETR", "big_mb_per_s", "%.1f", "high", 1.0),
    ("CPU ms/MB, 20 MB RETR", "big_cpu_ms_per_mb", "%.2f", "low", None),
    ("CPU ms/session", "cpu_ms_per_session", "%.2f", "low", None),
    ("peak PSS MB", "peak_pss_mb", "%.1f", "low", None),
    ("failed sessions", "failed_sessions", "%d", "low", None),
    ("10k login+STAT first ms", "k10_first_ms", "%.0f", "low", 0.5),
    ("10k login+STAT warm ms", "k10_warm_ms", "%.0f", "low", 0.5),
)


def table(results, args):
    by = {r["server"]: r for r in results}
    s, d = by.get("sallyport"), by.get("dovecot")
    out = ["", "POP3: %d clients, %d sessions per run, a 20 MB message "
           "retrieved %d times, %d-message mailbox"
           % (args.clients, args.sessions, args.big_rounds, args.k10),
           "%-26s %10s %10s %8s  %s" % ("", "sallyport", "dovecot",
                                       "ratio", "target")]
    for label, key, fmt, better, target in ROWS:
        cells = [fmt % r[key] if r and key in r else "-" for r in (s, d)]
        ratio, verdict = "", ""
        if s and d and key in s and key in d and d[key] > 0:
            x = s[key] / d[key]
            ratio = "x%.2f" % x
            if target is not None:
                met = x >= target if better == "high" else x <= target
                verdict = "%s x%.1f: %s" % (">=" if better == "high"
                                            else "<=", target,
                                            "met" if met else "NOT met")
        out.append("%-26s %10s %10s %8s  %s" % (label, cells[0], cells[1],
                                               ratio, verdict))
    return "\n".join(out) + "\n"


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main():
    signal.signal(signal.SIGTERM, bench.on_signal)
    # The mailboxes on a tmpfs unless told otherwise, as for the scale
    # tests: the figures are the servers', not this VM's disk's.
    os.environ.setdefault("SALLYPORT_TEST_TMPDIR", "/dev/shm")
    quick = os.environ.get("BENCH_QUICK", "") not in ("", "0", "no")
    ap = argparse.ArgumentParser(description="POP3 benchmark")
    ap.add_argument("--clients", type=int, default=4 if quick else 10)
    ap.add_argument("--sessions", type=int, default=200 if quick else 2000)
    ap.add_argument("--big-rounds", type=int, default=1 if quick
                    else BIG_ROUNDS)
    ap.add_argument("--k10", type=int, default=BIG_MSGS)
    ap.add_argument("--servers", default="sallyport,dovecot")
    ap.add_argument("--verbose", "-v", action="store_true",
                    help="print the CPU per session by process name")
    ap.add_argument("--json", default=os.path.join(HERE, "out",
                                                   "pop3.json"))
    args = ap.parse_args()
    servers = bench.bench_servers(args.servers, "dovecot")
    users = Users(args.clients)
    load = loadavg()
    results = []
    ok = True
    print("bench: pop3: %s, load average %s" % (bench.machine(), load),
          flush=True)
    if not os.access(LOAD, os.X_OK):
        sys.stderr.write("bench: pop3: %s is not built (sh bench/run.sh "
                         "builds it)\n" % LOAD)
        return 1
    for name in servers:
        target = Sallyport(users) if name == "sallyport" else \
            Dovecot(users)
        print("bench: pop3: %s ..." % name, flush=True)
        try:
            users.fill(target.home, quick)
            results.append(run_server(target, users, args))
            if results[-1]["failed_sessions"]:
                ok = False
            if args.verbose:
                print("bench: pop3: CPU ms per session by process: %s"
                      % ", ".join("%s %.2f" % kv for kv in results[-1][
                          "session_cpu_ms_by_process"].items()))
        except Exception as e:
            sys.stderr.write("bench: pop3: %s: %s\n" % (name, e))
            ok = False
        finally:
            target.stop()
    text = table(results, args)
    after = loadavg()
    text += "load average before %s, after %s\n" % (load, after)
    print(text, end="")
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump({"machine": bench.machine(), "loadavg_before": load,
                   "loadavg_after": after, "results": results}, f,
                  indent=1)
    with open(os.path.splitext(args.json)[0] + ".txt", "w") as f:
        f.write("%s, load average %s\n%s" % (bench.machine(), load, text))
    return 0 if ok and results else 1


if __name__ == "__main__":
    sys.exit(main())
