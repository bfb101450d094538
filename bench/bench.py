#!/usr/bin/env python3
"""The benchmark driver: bench/run.sh (make bench) runs it as root.

For each scenario it starts a fresh sallyport suite under a temporary
directory (with regress/integration/suite.py, the integration tests'
harness: real users, chroots and the fsync-durable queue as configured
normally), runs bench/out/smtp-load against it, waits until every message
is in the users' Maildir/new, and measures:

  accepted/s    messages answered 250, per second (from the generator)
  delivered/s   messages whose every copy is in Maildir/new, per second,
                from the first connection to the last file (its ctime:
                its link into new/; the Maildirs are counted every
                100 ms)
  p50/p99       latency from the final "." to the 250 (from the generator)
  CPU ms/msg    utime+stime of every process of the suite, with the
                children it has reaped (cutime+cstime), after minus before,
                over the messages accepted
  peak RSS/PSS  the largest sum, over the samples taken every 100 ms, of
                VmRSS (and of Pss, which shares the common pages out) of
                the live processes of the suite

Then the same against a Postfix instance of its own (its own
config_directory, queue_directory and data_directory under a temporary
directory, listening on a free loopback port, delivering to Maildir for
the same users through virtual(8), with its default durability), when
Postfix is installed, and prints both side by side.

Nothing here touches a non-loopback address or makes a DNS query; every
process started is stopped by its pid (Postfix with "postfix -c DIR stop").
"""

import argparse
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "regress", "integration"))

import suite  # noqa: E402  (the integration harness)

DOMAIN = "example.test"
USERS = ("alice", "bob")
# Delivery polling.  Listing Maildirs of thousands of files costs CPU on
# the same cores as the server: every 100 ms, and the time of the last
# delivery is taken from the newest file's ctime, not from the poll.
SAMPLE_SECS = 0.1
MEM_SAMPLE_EVERY = 1        # memory every poll: 100 ms
STALL_SECS = 30             # no new Maildir file for this long: give up
SETTLE_SECS = 15            # wait for the queue to empty after delivery
GEN_GRACE_SECS = 30         # past its own deadline the generator is killed
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- /proc

def proc_children(pid):
    """The children of every thread of pid."""
    out = []
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return out
    for t in tasks:
        try:
            with open("/proc/%d/task/%s/children" % (pid, t)) as f:
                out.extend(int(x) for x in f.read().split())
        except OSError:
            continue
    return out


def proc_tree(roots):
    """roots and all their live descendants."""
    seen, todo = [], list(roots)
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.append(p)
        todo.extend(proc_children(p))
    return seen


def proc_ticks(pid):
    """utime+stime+cutime+cstime of pid in clock ticks, or 0 if gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return 0
    fields = stat[stat.rindex(")") + 2:].split()
    # Fields 14-17 of proc(5), counted from the state (field 3).
    return sum(int(x) for x in fields[11:15])


def tree_cpu_secs(roots):
    return sum(proc_ticks(p) for p in proc_tree(roots)) / CLK_TCK


def proc_cpu_detail(pid):
    """(name, own ticks, reaped children's ticks), or None if gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return None
    name = stat[stat.index("(") + 1:stat.rindex(")")]
    f = [int(x) for x in stat[stat.rindex(")") + 2:].split()[11:15]]
    try:
        name += "[%s]" % pwd.getpwuid(os.stat("/proc/%d" % pid).st_uid
                                      ).pw_name
    except (OSError, KeyError):
        pass
    return name, f[0] + f[1], f[2] + f[3]


def tree_cpu_detail(roots):
    """pid -> (name, own ticks, children's ticks) for the whole tree."""
    out = {}
    for p in proc_tree(roots):
        d = proc_cpu_detail(p)
        if d is not None:
            out[p] = d
    return out


def cpu_breakdown(before, after):
    """CPU ms by process name, from two tree_cpu_detail() snapshots:
    "name" is what processes of that name used themselves, "name/reaped"
    what their children that exited since used."""
    out = {}
    for pid, (name, own, kids) in after.items():
        own0, kids0 = 0, 0
        if pid in before and before[pid][0] == name:
            own0, kids0 = before[pid][1], before[pid][2]
        for key, v in ((name, own - own0), (name + "/reaped", kids - kids0)):
            if v:
                out[key] = out.get(key, 0) + v * 1e3 / CLK_TCK
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def proc_kb(path, key):
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def tree_memory_kb(roots):
    """(sum of VmRSS, sum of Pss, sum of VmHWM, process count)."""
    rss = pss = hwm = 0
    pids = proc_tree(roots)
    for p in pids:
        rss += proc_kb("/proc/%d/status" % p, "VmRSS:")
        hwm += proc_kb("/proc/%d/status" % p, "VmHWM:")
        pss += proc_kb("/proc/%d/smaps_rollup" % p, "Pss:")
    return rss, pss, hwm, len(pids)


def count_files(dirs):
    n = 0
    for d in dirs:
        try:
            n += len(os.listdir(d))
        except FileNotFoundError:
            pass
    return n


def newest_ctime_mono(dirs):
    """The newest change time (the link into new/, the unlink of the
    tmp/ name) of a file in dirs, on time.monotonic()'s clock."""
    newest = 0.0
    for d in dirs:
        try:
            with os.scandir(d) as it:
                for e in it:
                    try:
                        newest = max(newest, e.stat().st_ctime)
                    except FileNotFoundError:
                        pass
        except FileNotFoundError:
            pass
    return newest - (time.time() - time.monotonic())


def listening(port):
    want = ":%04X" % port
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1].endswith(want) and fields[3] == "0A":
                return True
    return False


# ---------------------------------------------------------------- targets

class BenchSuite(suite.Suite):
    """The integration suite with the queue's normal retry schedule."""

    def __init__(self, name):
        super().__init__(name, retry="5m", max_retry="1h", expire="1h")


class Sallyport:
    name = "sallyport"
    suite = None

    def start(self):
        self.suite = BenchSuite("bench")
        self.suite.start()
        self.port = self.suite.smtp_port
        self.maildirs = [self.suite.maildir(u) for u in USERS]

    def roots(self):
        return [p.pid for p in self.suite.procs.values()]

    def queue_empty(self):
        return not (self.suite.spool_entries("queue") or
                    self.suite.spool_entries("incoming"))

    def logs(self):
        return self.suite.path("log")

    def stop(self, keep=False):
        if self.suite is None:
            return
        self.suite.keep = self.suite.keep or keep
        self.suite.cleanup()
        self.suite = None


POSTFIX_MAIN = """\
# Written by bench/bench.py: a Postfix instance of the benchmark's own.
compatibility_level = 3.6
queue_directory = {root}/queue
data_directory = {root}/data
mail_owner = postfix
setgid_group = postdrop
maillog_file_prefixes = {root}/log
maillog_file = {root}/log/maillog
# No DNS, no network but loopback, nothing relayed.
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mail.{domain}
mydomain = {domain}
myorigin = $myhostname
mydestination =
mynetworks = 127.0.0.0/8
relay_domains =
relayhost =
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
default_transport = error:the benchmark relays nothing
relay_transport = error:the benchmark relays nothing
append_dot_mydomain = no
biff = no
alias_maps =
alias_database =
local_recipient_maps =
# The same users as sallyport's, in Maildirs of the same layout.
virtual_mailbox_domains = {domain}
virtual_mailbox_base = {root}/mail
virtual_mailbox_maps = texthash:{root}/conf/vmailbox
virtual_uid_maps = texthash:{root}/conf/vuid
virtual_gid_maps = texthash:{root}/conf/vgid
virtual_minimum_uid = 100
"""

# Debian's master.cf with only what is used, and no chroot (which would
# need copies of /etc files in the queue directory).
POSTFIX_MASTER = """\
127.0.0.1:{port} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


class Postfix:
    name = "postfix"
    START_SECS = 20
    root = None
    master = None

    def start(self):
        self.root = tempfile.mkdtemp(prefix="sallyport-bench-postfix-",
                                     dir="/tmp")
        os.chmod(self.root, 0o755)
        self.port = self.free_port()
        self.master = None
        self.conf = self.path("conf")
        for d in ("conf", "queue", "data", "mail", "log"):
            os.mkdir(self.path(d), 0o755)
        pf = pwd.getpwnam("postfix")
        os.chown(self.path("data"), pf.pw_uid, pf.pw_gid)
        vmailbox, vuid, vgid = [], [], []
        for u in USERS:
            uid, gid = suite.user_ids(suite.MAIL_USERS[u])
            home = self.path("mail", u)
            os.mkdir(home, 0o700)
            os.chown(home, uid, gid)
            addr = "%s@%s" % (u, self.mail_domain())
            vmailbox.append("%s %s/Maildir/\n" % (addr, u))
            vuid.append("%s %d\n" % (addr, uid))
            vgid.append("%s %d\n" % (addr, gid))
        self.write("conf/vmailbox", "".join(vmailbox))
        self.write("conf/vuid", "".join(vuid))
        self.write("conf/vgid", "".join(vgid))
        self.write("conf/main.cf", self.main_cf())
        self.write("conf/master.cf", self.master_cf())
        self.maildirs = [self.path("mail", u, "Maildir", "new")
                         for u in USERS]
        self.master = -1        # "postfix stop" is needed from now on
        self.postfix("start")
        end = time.monotonic() + self.START_SECS
        while not listening(self.port):
            if time.monotonic() > end:
                raise RuntimeError("postfix not listening on port %d "
                                   "after %ds; see %s"
                                   % (self.port, self.START_SECS,
                                      self.logs()))
            time.sleep(0.05)
        with open(self.path("queue", "pid", "master.pid")) as f:
            self.master = int(f.read().strip())

    # Hooks for another instance (regress/integration/relaypeers.py, the
    # relay benchmark): its configuration, port and mail domain.
    def main_cf(self):
        return POSTFIX_MAIN.format(root=self.root, domain=DOMAIN)

    def master_cf(self):
        return POSTFIX_MASTER.format(port=self.port)

    def free_port(self):
        return suite.free_ports(1)[0]

    def mail_domain(self):
        return DOMAIN

    def path(self, *p):
        return os.path.join(self.root, *p)

    def write(self, rel, text):
        with open(self.path(rel), "w") as f:
            f.write(text)

    def postfix(self, verb):
        r = subprocess.run(["postfix", "-c", self.conf, verb],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=60)
        if r.returncode != 0 and verb == "start":
            raise RuntimeError("postfix -c %s start failed:\n%s%s%s"
                               % (self.conf, r.stdout, r.stderr,
                                  self.log_tail()))
        return r.returncode

    def log_tail(self, n=20):
        try:
            with open(self.path("log", "maillog")) as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def roots(self):
        return [self.master]

    def queue_empty(self):
        for d in ("incoming", "active", "deferred", "maildrop", "hold"):
            for _, _, files in os.walk(self.path("queue", d)):
                if files:
                    return False
        return True

    def logs(self):
        return self.path("log", "maillog")

    def wait_master(self, secs=15):
        """Waits for the master to exit after "postfix stop"; past secs,
        "postfix abort", then SIGKILL to the master's pid."""
        if self.master < 0:
            try:
                with open(self.path("queue", "pid", "master.pid")) as f:
                    self.master = int(f.read().strip())
            except (OSError, ValueError):
                return
        end = time.monotonic() + secs
        while suite.proc_alive(self.master) and time.monotonic() < end:
            time.sleep(0.1)
        if suite.proc_alive(self.master):
            self.postfix("abort")
            try:
                os.kill(self.master, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def stop(self, keep=False):
        if self.root is None:
            return
        if self.master is not None:
            self.postfix("stop")
            self.wait_master()
            self.master = None
        if keep:
            sys.stderr.write("kept %s\n" % self.root)
        else:
            shutil.rmtree(self.root, ignore_errors=True)


# ---------------------------------------------------------------- a run

def parse_result(out):
    for line in out.splitlines():
        if line.startswith("RESULT "):
            return dict(kv.split("=", 1) for kv in line.split()[1:])
    return None


def run_one(target, sc, args):
    """One scenario against one target; returns a dict of figures."""
    keep = True             # for a look at the logs, unless all went well
    try:
        target.start()
        res = measure(target, sc, args)
        keep = not res["ok"]
        return res
    except (KeyboardInterrupt, SystemExit):
        keep = False        # stopped by hand or by run.sh's timeout
        raise
    finally:
        target.stop(keep=args.keep or keep)


def measure(target, sc, args):
    roots = target.roots()
    time.sleep(0.5)             # let the suite settle after start
    mem0 = tree_memory_kb(roots)
    detail0 = tree_cpu_detail(roots)
    cpu0 = tree_cpu_secs(roots)
    cmd = [args.load, "-a", "127.0.0.1", "-p", str(target.port),
           "-c", str(sc["sessions"]), "-n", str(sc["messages"]),
           "-s", str(sc["size"]), "-k", str(sc["per_conn"]),
           "-r", ",".join("%s@%s" % (u, DOMAIN) for u in USERS),
           "-T", str(args.deadline)] + (["-P"] if args.pipelining else [])
    gen = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    try:
        return watch(target, sc, roots, gen, mem0, cpu0, detail0,
                     time.monotonic() + args.deadline + GEN_GRACE_SECS)
    finally:
        if gen.poll() is None:
            gen.kill()
            gen.wait()


def watch(target, sc, roots, gen, mem0, cpu0, detail0, gen_end):
    """Samples the suite while the generator runs and until every copy
    is delivered, then takes the figures."""
    peak = [0, 0, 0]
    want = sc["messages"] * len(USERS)
    files = last_files = 0
    t_files = time.monotonic()
    t_delivered = None
    gen_out = None
    i = 0
    while True:
        if i % MEM_SAMPLE_EVERY == 0:
            rss, pss, _, nproc = tree_memory_kb(roots)
            peak = [max(peak[0], rss), max(peak[1], pss),
                    max(peak[2], nproc)]
        i += 1
        files = count_files(target.maildirs)
        now = time.monotonic()
        if files != last_files:
            last_files, t_files = files, now
        if gen_out is None and now > gen_end and gen.poll() is None:
            sys.stderr.write("bench: the generator overran its deadline: "
                             "killed\n")
            gen.kill()
        if gen_out is None and gen.poll() is not None:
            gen_out = gen.communicate()
            r = parse_result(gen_out[0]) or {}
            want = int(r.get("accepted", 0)) * len(USERS)
        if gen_out is not None and files >= want:
            t_delivered = min(now, newest_ctime_mono(target.maildirs))
            break
        if gen_out is not None and now - t_files > STALL_SECS:
            sys.stderr.write("bench: %s: no delivery for %ds: %d of %d "
                             "files\n" % (target.name, STALL_SECS, files,
                                          want))
            break
        time.sleep(SAMPLE_SECS)
    end = time.monotonic() + SETTLE_SECS
    while not target.queue_empty() and time.monotonic() < end:
        rss, pss, _, nproc = tree_memory_kb(roots)
        peak = [max(peak[0], rss), max(peak[1], pss), max(peak[2], nproc)]
        time.sleep(0.05)
    time.sleep(0.2)
    cpu1 = tree_cpu_secs(roots)
    detail1 = tree_cpu_detail(roots)
    mem1 = tree_memory_kb(roots)
    res = figures(target, sc, gen, gen_out, files, want, t_delivered,
                  cpu1 - cpu0, mem0, mem1, peak)
    res["cpu_ms_by_process"] = cpu_breakdown(detail0, detail1)
    return res


def figures(target, sc, gen, gen_out, files, want, t_delivered, cpu,
            mem0, mem1, peak):
    r = parse_result(gen_out[0]) or {}
    accepted = int(r.get("accepted", 0))
    res = {
        "server": target.name, "scenario": sc["name"],
        "sessions": sc["sessions"], "messages": sc["messages"],
        "size": sc["size"], "per_conn": sc["per_conn"],
        "recipients": len(USERS), "accepted": accepted,
        "failed": int(r.get("failed", 0)) + sc["messages"] - accepted,
        "accepted_per_s": float(r.get("rate", 0)),
        "p50_ms": float(r.get("p50_ms", 0)),
        "p99_ms": float(r.get("p99_ms", 0)),
        "client_cpu_ms": float(r.get("client_cpu_ms", 0)),
        "maildir_files": files, "maildir_files_wanted": want,
        "undelivered_copies": max(0, want - files),
        "delivered_per_s": 0.0, "delivery_secs": None,
        "cpu_ms_per_msg": cpu * 1e3 / accepted if accepted else 0.0,
        "cpu_secs": cpu,
        "idle_rss_kb": mem0[0], "idle_pss_kb": mem0[1],
        "peak_rss_kb": peak[0], "peak_pss_kb": peak[1],
        "peak_procs": peak[2], "hwm_sum_kb": mem1[2],
        "generator_status": gen.returncode,
    }
    if t_delivered is not None and "t_start" in r and accepted:
        secs = t_delivered - float(r["t_start"])
        res["delivery_secs"] = secs
        res["delivered_per_s"] = accepted / secs
    res["ok"] = (gen.returncode == 0 and t_delivered is not None and
                 res["failed"] == 0)
    if not res["ok"]:
        sys.stderr.write("bench: %s %s: generator status %d\n%s%s"
                         % (target.name, sc["name"], gen.returncode,
                            gen_out[0], gen_out[1][-3000:]))
        sys.stderr.write("bench: logs in %s\n" % target.logs())
    return res


# ---------------------------------------------------------------- output

# (heading, width, format, key)
COLUMNS = (
    ("server", 9, "%s", "server"),
    ("accepted/s", 10, "%.0f", "accepted_per_s"),
    ("delivered/s", 11, "%.0f", "delivered_per_s"),
    ("p50 ms", 8, "%.2f", "p50_ms"),
    ("p99 ms", 8, "%.2f", "p99_ms"),
    ("CPU ms/msg", 10, "%.3f", "cpu_ms_per_msg"),
    ("peak RSS MB", 11, "%.1f", "peak_rss_mb"),
    ("peak PSS MB", 11, "%.1f", "peak_pss_mb"),
    ("procs", 5, "%d", "peak_procs"),
    ("failed", 6, "%d", "failed"),
)


def row(cells):
    return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                     for i, (c, (_, w, _, _)) in
                     enumerate(zip(cells, COLUMNS)))


def table(results):
    lines = []
    scenarios = []
    for r in results:
        if r["scenario"] not in scenarios:
            scenarios.append(r["scenario"])
    for s in scenarios:
        lines.append("")
        lines.append(s)
        lines.append(row([c[0] for c in COLUMNS]))
        for r in results:
            if r["scenario"] != s:
                continue
            r = dict(r, peak_rss_mb=r["peak_rss_kb"] / 1024,
                     peak_pss_mb=r["peak_pss_kb"] / 1024)
            lines.append(row([f % r[k] for _, _, f, k in COLUMNS]))
            if r["undelivered_copies"]:
                lines.append("  %s: %d copies accepted but not delivered"
                             % (r["server"], r["undelivered_copies"]))
        ratio(lines, [r for r in results if r["scenario"] == s])
    return "\n".join(lines) + "\n"


def ratio(lines, rs):
    by = {r["server"]: r for r in rs}
    if "sallyport" not in by or "postfix" not in by:
        return
    s, p = by["sallyport"], by["postfix"]
    if p["delivered_per_s"] > 0 and s["delivered_per_s"] > 0:
        lines.append("sallyport/postfix: delivered/s x%.2f, accepted/s "
                     "x%.2f, CPU per message x%.2f"
                     % (s["delivered_per_s"] / p["delivered_per_s"],
                        s["accepted_per_s"] / max(p["accepted_per_s"], 1e-9),
                        s["cpu_ms_per_msg"] / max(p["cpu_ms_per_msg"], 1e-9)))


def targets_note(results):
    """The issue's targets, for the first scenario (1 message/conn)."""
    by = {r["server"]: r for r in results
          if r["per_conn"] == 1 and r["scenario"] == results[0]["scenario"]}
    s, p = by.get("sallyport"), by.get("postfix")
    out = []
    if s is not None:
        out.append("target CPU <= 0.5 ms/msg (new connection per message):"
                   " %.3f ms: %s" % (s["cpu_ms_per_msg"],
                                     "met" if s["ok"] and
                                     s["cpu_ms_per_msg"] <= 0.5 else
                                     "NOT met"))
    if s is not None and p is not None and p["delivered_per_s"] > 0:
        x = s["delivered_per_s"] / p["delivered_per_s"]
        out.append("target delivered/s >= 5 x Postfix: x%.2f: %s"
                   % (x, "met" if s["ok"] and x >= 5 else "NOT met"))
    return "\n".join(out) + ("\n" if out else "")


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%d CPUs (%s), %s" % (os.cpu_count(), cpu, os.uname().release)


# ---------------------------------------------------------------- floor

FLOOR_MESSAGES = 300


def fs_floor(copies=len(USERS), size=4096, n=FLOOR_MESSAGES):
    """CPU and wall ms per message of the bare file work of one message,
    done by one process with no protocol, IPC or fork: a queue file
    written and fsynced, then per recipient a Maildir file written to
    tmp/, fsynced, linked into new/ and unlinked from tmp/, new/
    fsynced, and the queue file removed.  Both servers do at least
    this; it is the floor of this machine's file system."""
    root = tempfile.mkdtemp(prefix="sallyport-bench-floor-", dir="/tmp")
    try:
        for sub in ("q", "tmp", "new"):
            os.mkdir(os.path.join(root, sub))
        data = b"x" * size
        newfd = os.open(os.path.join(root, "new"), os.O_RDONLY)
        r0, t0 = os.times(), time.monotonic()
        for i in range(n):
            q = os.path.join(root, "q", str(i))
            fd = os.open(q, os.O_CREAT | os.O_WRONLY, 0o600)
            os.write(fd, data)
            os.fsync(fd)
            os.close(fd)
            for c in range(copies):
                name = "%d.%d" % (i, c)
                tmp = os.path.join(root, "tmp", name)
                fd = os.open(tmp, os.O_CREAT | os.O_WRONLY, 0o600)
                os.write(fd, data)
                os.fsync(fd)
                os.close(fd)
                os.link(tmp, os.path.join(root, "new", name))
                os.unlink(tmp)
                os.fsync(newfd)
            os.unlink(q)
        r1, t1 = os.times(), time.monotonic()
        os.close(newfd)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    cpu = (r1.user - r0.user) + (r1.system - r0.system)
    return {"cpu_ms_per_msg": cpu * 1e3 / n,
            "wall_ms_per_msg": (t1 - t0) * 1e3 / n}


# ---------------------------------------------------------------- main

def scenarios(args):
    out = []
    for k in args.per_conn:
        name = ("%d sessions, %d messages of %d bytes to %d recipients, %s%s"
                % (args.sessions, args.messages, args.size, len(USERS),
                   "a new connection per message" if k == 1 else
                   "%d messages per connection" % k,
                   ", pipelining" if args.pipelining else ""))
        out.append({"name": name, "sessions": args.sessions,
                    "messages": args.messages, "size": args.size,
                    "per_conn": k})
    return out


def bench_servers(spec, other):
    """The servers of spec ("sallyport,NAME") that can run here: as
    root (the suite starts as root and drops to its users), with the
    suite's users, and the other server only when its program is
    installed (it has the server's name)."""
    if os.geteuid() != 0:
        sys.exit("bench: must run as root (the suite starts as root and "
                 "drops to its users)")
    suite.ensure_users()
    servers = spec.split(",")
    if other in servers and shutil.which(other) is None:
        sys.stderr.write("bench: %s is not installed: sallyport alone\n"
                         % other)
        servers.remove(other)
    return servers


def on_signal(signum, frame):
    raise SystemExit("bench: signal %d: stopping" % signum)


def main():
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    ap = argparse.ArgumentParser(description="sallyport benchmark")
    ap.add_argument("--load", default=os.path.join(HERE, "out",
                                                   "smtp-load"))
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--per-conn", type=lambda s: [int(x) for x in
                                                  s.split(",")],
                    default=[1, 20])
    ap.add_argument("--pipelining", action="store_true",
                    help="send MAIL, RCPT and DATA in one group (RFC 2920)"
                    " when the server offers PIPELINING")
    ap.add_argument("--servers", default="sallyport,postfix")
    ap.add_argument("--deadline", type=int, default=120,
                    help="seconds the generator may run per scenario")
    ap.add_argument("--verbose", "-v", action="store_true",
                    help="print where the CPU went, by process name")
    ap.add_argument("--keep", action="store_true",
                    help="keep the temporary directories")
    ap.add_argument("--json", default=os.path.join(HERE, "out",
                                                   "results.json"))
    args = ap.parse_args()
    servers = bench_servers(args.servers, "postfix")
    results = []
    print("bench: %s" % machine())
    for sc in scenarios(args):
        for name in servers:
            target = Sallyport() if name == "sallyport" else Postfix()
            print("bench: %s: %s ..." % (name, sc["name"]), flush=True)
            try:
                results.append(run_one(target, sc, args))
            except Exception as e:  # a server that does not start
                sys.stderr.write("bench: %s: %s\n" % (name, e))
                continue
            if args.verbose:
                print("bench: CPU ms by process: %s" % ", ".join(
                    "%s %.0f" % kv for kv in
                    results[-1]["cpu_ms_by_process"].items()))
    floor = fs_floor()
    text = table(results) + "\n" + targets_note(results) if results else ""
    text += ("file-system floor (one process writing a 4 KB queue file and "
             "%d Maildir copies,\nall fsynced, nothing else): %.3f ms CPU "
             "and %.3f ms wall per message\n"
             % (len(USERS), floor["cpu_ms_per_msg"],
                floor["wall_ms_per_msg"]))
    print(text, end="")
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump({"machine": machine(), "results": results,
                   "fs_floor": floor}, f, indent=1)
    with open(os.path.splitext(args.json)[0] + ".txt", "w") as f:
        f.write("%s\n%s" % (machine(), text))
    return 0 if results and all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
