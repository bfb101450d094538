#!/usr/bin/env python3
"""The IMAP benchmark: bench/run.sh (make bench) runs it as root, after
the POP3 one, side by side with a Dovecot instance of its own.

For each server it starts a fresh instance under a temporary directory
on a free loopback port (sallyport: the whole suite, as bench/pop3.py
does; Dovecot: Debian's dovecot-imapd, its own config, base_dir and
log), gives it the same mailboxes (copies of one set of Maildirs,
written as sallyport's delivery writes them) and measures:

  (a) sessions/s  connect, LOGIN, SELECT INBOX, FETCH 1:5 (FLAGS
                  BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE)]), STORE
                  +FLAGS or -FLAGS (\\Seen) on one message, LOGOUT, by
                  --clients concurrent clients, a user each
      logins/s    connect, LOGIN, LOGOUT
  (b) commands/s  long-lived sessions (one per client) issuing SELECT
                  INBOX, the FETCH and the STORE above, --rounds times
  (c) APPEND/s    one session per client appending 4 KB messages
  (d) SELECT ms   SELECT INBOX and FETCH 1:* (FLAGS) of a --big
                  message folder (100,000 by default) that the server
                  has never opened (every message in new/, no index),
                  then again (warm, the median of 5), a Python client
  CPU             utime+stime (with reaped children) of every process of
                  the server over each run, per session, command, APPEND
  PSS per idle    --idle sessions logged in, INBOX selected, idle: the
  connection      server's PSS then minus before, over their number
  peak PSS MB     the largest sum of Pss of the server's processes,
                  sampled every 100 ms over the whole run

The (a), (b) and (c) rows and the idle sessions are run by the C load
generator bench/out/imap-load (bench/imap-load.c, built by run.sh), one
process with one event loop on the same two cores as the servers.
Nothing here touches a non-loopback address; every process started is
stopped by its pid.
"""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench  # noqa: E402  (its /proc helpers, the machine line)
import pop3  # noqa: E402  (the mail writer, the servers, the sampler)
from bench import suite  # noqa: E402

USER_UID0 = 32000               # the benchmark's virtual users
SMALL_MSGS = 10
BIG_MSGS = 100000
QUICK_BIG_MSGS = 5000
WARM_ROUNDS = 5
IO_TIMEOUT = 300
SETTLE_SECS = 0.5
IDLE_SETTLE_SECS = 1.0
LOAD = os.path.join(HERE, "out", "imap-load")
LOAD_DEADLINE_SECS = 120
LOAD_GRACE_SECS = 30
READY_SECS = 20
VERBOSE = False
# sallyport's imapd runs only once imapd/imapd-mailbox is built.
IMAPD_BINS = ("imapd/imapd", "imapd/imapd-mailbox")


class Users:
    """The benchmark's users: small (a, b), append (c), idle, big (d)."""

    def __init__(self, clients, idle):
        self.small = ["is%03d" % i for i in range(clients)]
        self.mix = ["im%03d" % i for i in range(clients)]
        self.empty = ["ie%03d" % i for i in range(clients)]
        self.append = ["ia%03d" % i for i in range(clients)]
        self.idle = ["ii%04d" % i for i in range(idle)]
        self.big = "ibig"
        self.all = (self.small + self.mix + self.empty + self.append +
                    self.idle + [self.big])
        self.uid = {u: USER_UID0 + i for i, u in enumerate(self.all)}

    def fill(self, home_of):
        """Writes every mailbox but the big one (fill_big, per server:
        each server must find it never opened)."""
        small = [pop3.message(i, pop3.MSG_BYTES) for i in range(SMALL_MSGS)]
        for u in self.small + self.mix + self.idle:
            pop3.put_maildir(home_of(u), self.uid[u], small)
        for u in self.empty + self.append:
            pop3.put_maildir(home_of(u), self.uid[u], [])
        pop3.put_maildir(home_of(self.big), self.uid[self.big], [])

    def fill_big(self, home_of, n):
        data = pop3.message(0, 600)
        pop3.put_maildir(home_of(self.big), self.uid[self.big], [data] * n)


# ---------------------------------------------------------------- servers

def imapd_missing():
    """Why sallyport's imapd cannot run in this tree, or None."""
    for b in IMAPD_BINS:
        if not os.access(os.path.join(suite.REPO, b), os.X_OK):
            return "%s is not built" % b
    if "imapd" not in suite.DAEMONS:
        return "the integration suite does not start imapd"
    return None


class Sallyport(pop3.Sallyport):
    def __init__(self, users):
        super().__init__(users)
        # Room for the idle sessions, all from 127.0.0.1 (the default
        # limit is 50 per address; Dovecot's is raised likewise).
        self.s.extra_config.append("limit sessions-per-client %d"
                                   % max(50, len(users.idle) + 10))
        self.s.write_config(self.s.config_text())

    def start(self):
        self.s.start()
        self.port = self.s.imap_port


# bench/pop3.py's instance with IMAP for POP3 (the protocol, its login
# service and listeners), and room for the idle sessions (the defaults are
# 100 processes a service and 10 connections per user and address);
# otherwise Dovecot's defaults.
DOVECOT_CONF = pop3.DOVECOT_CONF.replace("pop3", "imap") + """\
default_process_limit = {procs}
mail_max_userip_connections = 100
"""


class Dovecot(pop3.Dovecot):
    """Debian's Dovecot 2.3 (dovecot-imapd) with its defaults (a login
    process per connection, then an imap process per session; no auth
    cache), plain text allowed, no TLS."""

    def __init__(self, users):
        super().__init__(users)
        with open(self.conf, "w") as f:
            f.write(DOVECOT_CONF.format(
                root=self.root, port=self.port,
                procs=max(100, 2 * len(users.idle) + 50)))


# ---------------------------------------------------------------- client

class Imap:
    """A minimal IMAP client for the big folder: times, no parsing past
    what is measured."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port),
                                             timeout=IO_TIMEOUT)
        self.buf = bytearray()
        self.n = 0
        self.read_to(b"\r\n")

    def recv(self):
        data = self.sock.recv(1 << 20)
        if not data:
            raise ConnectionError("connection closed")
        self.buf += data

    def read_to(self, end):
        """Reads until the buffer holds end; returns and drops it all."""
        start = 0
        while True:
            i = self.buf.find(end, start)
            if i >= 0:
                out = bytes(self.buf[:i + len(end)])
                del self.buf[:i + len(end)]
                return out
            start = max(0, len(self.buf) - len(end))
            self.recv()

    def tagged(self, tag):
        """The answer up to the line that starts with tag, which is
        last; the buffer is at the start of a line."""
        start, mark = 0, b"\r\n" + tag + b" "
        while not self.buf.startswith(tag + b" "):
            i = self.buf.find(mark, start)
            if i >= 0:
                end = self.buf.find(b"\r\n", i + len(mark))
                if end >= 0:
                    out = bytes(self.buf[:end + 2])
                    del self.buf[:end + 2]
                    return out
                start = i
            else:
                start = max(0, len(self.buf) - len(mark))
            self.recv()
        return self.read_to(b"\r\n")

    def cmd(self, text):
        """Sends a command; returns the whole answer, the tagged line
        last.  Raises on anything but OK."""
        self.n += 1
        tag = b"b%d" % self.n
        self.sock.sendall(tag + b" " + text.encode() + b"\r\n")
        out = self.tagged(tag)
        last = out[out.rfind(tag + b" "):]
        if not last.startswith(tag + b" OK"):
            raise RuntimeError("%s: server said %r" % (text.split()[0],
                                                       last[:200]))
        return out

    def login(self, user):
        self.cmd("LOGIN %s %s" % (user, suite.PASSWORD))

    def logout(self):
        try:
            self.cmd("LOGOUT")
        except (RuntimeError, ConnectionError):
            pass
        self.sock.close()


def wait_login(port, user):
    """Until user can log in: a server may listen before it can
    authenticate (sallyport's login engine says NO [UNAVAILABLE] until
    its authd connection is made)."""
    end = time.monotonic() + READY_SECS
    while True:
        try:
            c = Imap(port)
            c.login(user)
            c.logout()
            return
        except (RuntimeError, OSError) as e:
            if time.monotonic() > end:
                raise RuntimeError("no login in %d s: %s" % (READY_SECS, e))
            time.sleep(0.1)


def big_select(port, user, n):
    """(SELECT ms, FETCH 1:* (FLAGS) ms) of the big folder."""
    progress("SELECT and FETCH 1:* (FLAGS) of %d messages" % n)
    c = Imap(port)
    c.login(user)
    t0 = time.monotonic()
    out = c.cmd("SELECT INBOX")
    t1 = time.monotonic()
    if b"* %d EXISTS" % n not in out:
        raise RuntimeError("SELECT INBOX does not say %d EXISTS" % n)
    out = c.cmd("FETCH 1:* (FLAGS)")
    t2 = time.monotonic()
    got = out.count(b" FETCH (")
    if got != n:
        raise RuntimeError("FETCH 1:* (FLAGS): %d answers, not %d"
                           % (got, n))
    c.logout()
    return (t1 - t0) * 1e3, (t2 - t1) * 1e3


# ---------------------------------------------------------------- measure

def progress(what):
    if VERBOSE:
        print("bench: imap:   %s" % what, flush=True)


def load_cmd(port, mode, users, sessions, rounds):
    return [LOAD, "-a", "127.0.0.1", "-p", str(port), "-m", mode,
            "-c", str(len(users)), "-n", str(sessions), "-r", str(rounds),
            "-u", ",".join(users), "-w", suite.PASSWORD,
            "-T", str(LOAD_DEADLINE_SECS)]


def run_load(port, mode, users, sessions, rounds=1):
    """imap-load in mode, a client per user; returns its RESULT figures.
    Failed sessions are counted, not raised: a run where none completed
    raises."""
    progress("imap-load -m %s, %d clients" % (mode, len(users)))
    r = subprocess.run(load_cmd(port, mode, users, sessions, rounds),
                       stdin=subprocess.DEVNULL, capture_output=True,
                       text=True,
                       timeout=LOAD_DEADLINE_SECS + LOAD_GRACE_SECS)
    res = bench.parse_result(r.stdout)
    if r.stderr:
        sys.stderr.write(r.stderr)
    if res is None or int(res["done"]) == 0:
        raise RuntimeError("imap-load -m %s: exit %d, no session completed"
                           % (mode, r.returncode))
    return res


def measured(roots, res, key, fn):
    """Runs fn() (an imap-load run), records the server's CPU over it in
    res[key + "_cpu_ms"] and by process in res[key + "_cpu_by_process"]
    (totals: divided by the caller); returns fn's figures."""
    cpu0, detail0 = bench.tree_cpu_secs(roots), bench.tree_cpu_detail(roots)
    r = fn()
    time.sleep(SETTLE_SECS)
    res[key + "_cpu_ms"] = (bench.tree_cpu_secs(roots) - cpu0) * 1e3
    res[key + "_cpu_by_process"] = bench.cpu_breakdown(
        detail0, bench.tree_cpu_detail(roots))
    return r


def per(res, key, count):
    """Turns the CPU totals of key into figures per count."""
    res[key + "_cpu_ms"] /= max(count, 1)
    res[key + "_cpu_by_process"] = {
        k: v / max(count, 1) for k, v in res[key + "_cpu_by_process"].items()}


def idle_pss(port, roots, users):
    """(PSS KB per idle session, sessions idle, sessions failed): PSS of the server's
    processes with every idle user logged in, INBOX selected, minus
    before, over their number."""
    _, before, _, _ = bench.tree_memory_kb(roots)
    progress("%d idle sessions" % len(users))
    p = subprocess.Popen(load_cmd(port, "idle", users, len(users), 1),
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        if not line.startswith("IDLE ") or int(line.split()[1]) == 0:
            raise RuntimeError("imap-load -m idle: %r" % line)
        n = int(line.split()[1])
        time.sleep(IDLE_SETTLE_SECS)
        peak = max(bench.tree_memory_kb(roots)[1] for _ in range(3))
    finally:
        # communicate() closes the standard input: every session logs out.
        out, err = p.communicate(timeout=LOAD_GRACE_SECS + 30)
    if err:
        sys.stderr.write(err)
    r = bench.parse_result(out) or {}
    return (peak - before) / n, n, int(r.get("failed", len(users) - n))


def run_abc(port, roots, users, args, res):
    """(a) short sessions and logins, (b) long-lived, (c) APPEND."""
    run_load(port, "sessions", users.small, len(users.small))   # warm-up
    r = measured(roots, res, "session",
                 lambda: run_load(port, "sessions", users.small,
                                  args.sessions))
    done = int(r["done"])
    per(res, "session", done)
    res["sessions_per_s"] = float(r["rate"])
    res["session_cmds_per_s"] = (float(r["commands"]) /
                                 float(r["seconds"]))
    failed = int(r["failed"])
    r = run_load(port, "logins", users.empty, args.sessions)
    res["logins_per_s"] = float(r["rate"])
    failed += int(r["failed"])
    r = measured(roots, res, "mix",
                 lambda: run_load(port, "mix", users.mix, len(users.mix),
                                  args.rounds))
    per(res, "mix", int(r["work"]))
    res["mix_cmds_per_s"] = float(r["work_rate"])
    res["mix_p99_ms"] = float(r["p99_ms"])
    failed += int(r["failed"])
    r = measured(roots, res, "append",
                 lambda: run_load(port, "append", users.append,
                                  len(users.append), args.appends))
    per(res, "append", int(r["appends"]))
    res["appends_per_s"] = float(r["append_rate"])
    failed += int(r["failed"])
    res["failed_sessions"] = failed


def run_big(target, port, users, args, res):
    """(d) the big folder, first and warm."""
    t0 = time.monotonic()
    users.fill_big(target.home, args.big)
    res["big_fill_s"] = time.monotonic() - t0
    res["big_select_first_ms"], res["big_fetch_first_ms"] = big_select(
        port, users.big, args.big)
    warm = sorted(big_select(port, users.big, args.big)
                  for _ in range(WARM_ROUNDS))
    res["big_select_warm_ms"] = sorted(w[0] for w in warm)[len(warm) // 2]
    res["big_fetch_warm_ms"] = sorted(w[1] for w in warm)[len(warm) // 2]


def run_server(target, users, args, res):
    """Fills res with the figures of target, as far as they go."""
    target.start()
    roots = target.roots()
    sampler = pop3.Sampler(roots)
    sampler.start()
    try:
        port = target.port
        wait_login(port, users.small[0])
        run_abc(port, roots, users, args, res)
        if users.idle:
            (res["idle_pss_kb"], res["idle_sessions"],
             failed) = idle_pss(port, roots, users.idle)
            res["failed_sessions"] += failed
        if args.big:
            run_big(target, port, users, args, res)
    finally:
        sampler.halt.set()
        sampler.join()
        res["peak_pss_mb"] = sampler.peak_pss / 1024
        res["peak_procs"] = sampler.peak_procs


# ---------------------------------------------------------------- output

# (label, key, format, better, target: ("ratio", x) against Dovecot or
# ("max", value) for sallyport's own figure, or None)
ROWS = (
    ("(a) sessions/s", "sessions_per_s", "%.0f", "high", ("ratio", 1.5)),
    ("(a) commands/s", "session_cmds_per_s", "%.0f", "high",
     ("ratio", 1.5)),
    ("(a) CPU ms/session", "session_cpu_ms", "%.2f", "low", None),
    ("logins/s", "logins_per_s", "%.0f", "high", None),
    ("(b) commands/s", "mix_cmds_per_s", "%.0f", "high", ("ratio", 1.5)),
    ("(b) CPU ms/command", "mix_cpu_ms", "%.3f", "low", None),
    ("(b) p99 command ms", "mix_p99_ms", "%.2f", "low", None),
    ("(c) APPEND/s (4 KB)", "appends_per_s", "%.0f", "high",
     ("ratio", 1.5)),
    ("(c) CPU ms/APPEND", "append_cpu_ms", "%.3f", "low", None),
    ("(d) SELECT first ms", "big_select_first_ms", "%.0f", "low",
     ("max", 3000)),
    ("(d) FETCH 1:* first ms", "big_fetch_first_ms", "%.0f", "low", None),
    ("(d) SELECT warm ms", "big_select_warm_ms", "%.1f", "low",
     ("max", 50)),
    ("(d) FETCH 1:* warm ms", "big_fetch_warm_ms", "%.0f", "low", None),
    ("PSS KB/idle connection", "idle_pss_kb", "%.0f", "low",
     ("ratio", 1.0)),
    ("peak PSS MB", "peak_pss_mb", "%.1f", "low", None),
    ("failed sessions", "failed_sessions", "%d", "low", None),
)


def verdict(s, d, key, better, target):
    """(ratio cell, target cell) of a row."""
    ratio, text = "", ""
    if s and d and key in s and key in d and d[key] > 0:
        ratio = "x%.2f" % (s[key] / d[key])
    if target is None:
        return ratio, text
    kind, x = target
    if kind == "max":
        text = "< %g" % x
        if s and key in s:
            text += ": %s" % ("met" if s[key] < x else "NOT met")
    else:
        text = "%s x%.1f" % (">=" if better == "high" else "<=", x)
        if ratio:
            r = s[key] / d[key]
            met = r >= x if better == "high" else r <= x
            text += ": %s" % ("met" if met else "NOT met")
    return ratio, text


def table(results, args, note):
    by = {r["server"]: r for r in results}
    s, d = by.get("sallyport"), by.get("dovecot")
    out = ["", "IMAP: %d clients, %d short sessions, %d rounds of the mix "
           "per client, %d APPENDs per client, %d idle sessions, a "
           "%d-message folder" % (args.clients, args.sessions, args.rounds,
                                  args.appends, args.idle, args.big)]
    if note:
        out.append(note)
    out.append("%-26s %10s %10s %8s  %s" % ("", "sallyport", "dovecot",
                                           "ratio", "target"))
    for label, key, fmt, better, target in ROWS:
        cells = [fmt % r[key] if r and key in r else "-" for r in (s, d)]
        ratio, text = verdict(s, d, key, better, target)
        out.append("%-26s %10s %10s %8s  %s" % (label, cells[0], cells[1],
                                               ratio, text))
    return "\n".join(out) + "\n"


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def parse_args(quick):
    ap = argparse.ArgumentParser(description="IMAP benchmark")
    ap.add_argument("--clients", type=int, default=4 if quick else 10)
    ap.add_argument("--sessions", type=int, default=100 if quick else 2000)
    ap.add_argument("--rounds", type=int, default=25 if quick else 300,
                    help="rounds of SELECT, FETCH, STORE per client (b)")
    ap.add_argument("--appends", type=int, default=25 if quick else 200,
                    help="APPENDs per client (c)")
    ap.add_argument("--idle", type=int, default=20 if quick else 100,
                    help="idle sessions for the memory per connection")
    ap.add_argument("--big", type=int, default=QUICK_BIG_MSGS if quick
                    else BIG_MSGS, help="messages of the big folder (d)")
    ap.add_argument("--servers", default="sallyport,dovecot")
    ap.add_argument("--verbose", "-v", action="store_true",
                    help="print the CPU by process name")
    ap.add_argument("--json", default=os.path.join(HERE, "out",
                                                   "imap.json"))
    return ap.parse_args()


def servers_to_run(args):
    servers = bench.bench_servers(args.servers, "dovecot")
    why = imapd_missing() if "sallyport" in servers else None
    if why is not None:
        print("bench: imap: sallyport skipped: %s (its imapd is not "
              "usable in this tree); Dovecot's figures alone" % why,
              flush=True)
        servers.remove("sallyport")
    return servers


def show_cpu(res):
    for key in ("session", "mix", "append"):
        print("bench: imap: %s: CPU ms per %s by process: %s"
              % (res["server"], {"session": "session", "mix": "command",
                                 "append": "APPEND"}[key],
                 ", ".join("%s %.3f" % kv for kv in res.get(
                     key + "_cpu_by_process", {}).items())))


def main():
    signal.signal(signal.SIGTERM, bench.on_signal)
    os.environ.setdefault("SALLYPORT_TEST_TMPDIR", "/dev/shm")
    quick = os.environ.get("BENCH_QUICK", "") not in ("", "0", "no")
    args = parse_args(quick)
    global VERBOSE
    VERBOSE = args.verbose
    if not os.access(LOAD, os.X_OK):
        sys.stderr.write("bench: imap: %s is not built (sh bench/run.sh "
                         "builds it)\n" % LOAD)
        return 1
    servers = servers_to_run(args)
    users = Users(args.clients, args.idle)
    load = loadavg()
    results, ok = [], True
    print("bench: imap: %s, load average %s" % (bench.machine(), load),
          flush=True)
    for name in servers:
        target = Sallyport(users) if name == "sallyport" else \
            Dovecot(users)
        print("bench: imap: %s ..." % name, flush=True)
        try:
            users.fill(target.home)
            results.append({"server": name})
            run_server(target, users, args, results[-1])
            ok = ok and not results[-1]["failed_sessions"]
            if args.verbose:
                show_cpu(results[-1])
        except Exception as e:
            sys.stderr.write("bench: imap: %s: %s\n" % (name, e))
            ok = False
        finally:
            target.stop()
    after = loadavg()
    busy = max(float(load.split()[0]), float(after.split()[0])) >= 1.0
    note = ("taken on a loaded machine (load average %s before, %s "
            "after): compare the two servers, not the absolute figures"
            % (load, after)) if busy else ""
    text = table(results, args, note)
    text += "load average before %s, after %s\n" % (load, after)
    print(text, end="")
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump({"machine": bench.machine(), "loadavg_before": load,
                   "loadavg_after": after, "quick": quick,
                   "results": results}, f, indent=1)
    with open(os.path.splitext(args.json)[0] + ".txt", "w") as f:
        f.write("%s, load average %s\n%s" % (bench.machine(), load, text))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
