#!/usr/bin/env python3
"""The relay benchmark (issue 9; bench/run.sh runs it after bench.py, as
root): 2,000 messages of 4 KB to 10 destination domains, submitted over
SMTP on loopback (bench/out/smtp-load, one generator per domain), relayed
by sallyport to a counting sink on loopback (relaypeers.CountingSink:
250 to everything, PIPELINING, connection reuse allowed), and the same
relayed by a Postfix instance of its own, side by side.  Each domain is
routed to the sink by a rule ("relay to dN.bench.example via 127.0.0.1
port P tls none"; Postfix: a transport map to smtp:[127.0.0.1]:P), so
that no DNS is asked and connections stay per destination.  Measured:

  relayed/s     messages the sink answered 250, per second, from the
                first submission to the sink's last 250
  CPU ms/msg    utime+stime of the server's processes (with what they
                reaped), after minus before, over the messages relayed
  conn/msg      connections the sink accepted per message relayed (0.1
                or less when connections are reused)
  peak PSS      the largest sum of Pss over the server's processes,
                sampled every 100 ms

BENCH_QUICK=1 (or --messages) for a short run.  Nothing here touches a
non-loopback address; every process is stopped by its pid (Postfix with
"postfix -c DIR stop")."""

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "regress",
                                "integration"))

import bench  # noqa: E402  (its /proc helpers and its Postfix)
import relaypeers  # noqa: E402
import suite  # noqa: E402

DOMAINS = ["d%d.bench.example" % i for i in range(10)]
STALL_SECS = 30             # nothing relayed for this long: give up
SAMPLE_SECS = 0.1


class RelaySallyport(bench.Sallyport):
    """Sallyport relaying every domain to the sink."""

    def __init__(self, sink_port):
        self.sink_port = sink_port

    def start(self):
        rules = ["relay to %s via 127.0.0.1 port %d tls none"
                 % (d, self.sink_port) for d in DOMAINS]
        self.suite = suite.Suite("bench-relay", retry="5m", max_retry="1h",
                                 expire="1h", extra_config=[
                                     "relay from 127.0.0.1/32"] + rules)
        self.suite.start()
        self.port = self.suite.smtp_port

    def queue_empty(self):
        return not (self.suite.spool_entries("queue") or
                    self.suite.spool_entries("incoming"))


def relay_postfix(sink_port):
    """A Postfix instance that relays the benchmark's domains to the
    sink (relaypeers' Postfix peer with a transport map)."""
    Peer = relaypeers.postfix_peer_class()
    transport = ", ".join("%s=smtp:[127.0.0.1]:%d" % (d, sink_port)
                          for d in DOMAINS)

    class RelayPostfix(Peer):
        name = "postfix"

        def free_port(self):
            return suite.free_ports(1)[0]

        def master_cf(self):
            self.listen_port = self.port
            return super().master_cf()

    return RelayPostfix("127.0.0.1", "example.test", extra_main={
        "transport_maps": "inline:{ %s }" % transport,
        "smtp_tls_security_level": "none",
        "relay_domains": "",
    })


def generators(load, port, messages, per_conn, deadline):
    """One smtp-load per domain, each sending its share to x@domain."""
    procs = []
    for i, d in enumerate(DOMAINS):
        n = messages // len(DOMAINS) + (1 if i < messages % len(DOMAINS)
                                        else 0)
        procs.append(subprocess.Popen(
            [load, "-a", "127.0.0.1", "-p", str(port), "-c", "1", "-n",
             str(n), "-s", "4096", "-k", str(per_conn), "-r", "x@" + d,
             "-T", str(deadline)], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True))
    return procs


def run(target, sink, args):
    roots = target.roots()
    time.sleep(0.5)
    cpu0 = bench.tree_cpu_secs(roots)
    detail0 = bench.tree_cpu_detail(roots)
    conns0, msgs0 = sink.conns, sink.messages
    peak_pss = 0
    gens = generators(args.load, target.port, args.messages,
                      args.per_conn, args.deadline)
    outs, accepted, t_start = [None] * len(gens), 0, None
    last, t_last_change = 0, time.monotonic()
    while True:
        peak_pss = max(peak_pss, bench.tree_memory_kb(roots)[1])
        for i, g in enumerate(gens):
            if outs[i] is None and g.poll() is not None:
                outs[i] = g.communicate()
                r = bench.parse_result(outs[i][0]) or {}
                accepted += int(r.get("accepted", 0))
                if "t_start" in r:
                    t = float(r["t_start"])
                    t_start = t if t_start is None else min(t_start, t)
        relayed = sink.messages - msgs0
        now = time.monotonic()
        if relayed != last:
            last, t_last_change = relayed, now
        done = all(o is not None for o in outs)
        if done and relayed >= accepted:
            break
        if now - t_last_change > STALL_SECS and (done or relayed):
            sys.stderr.write("relay bench: %s: nothing relayed for %ds "
                             "(%d of %d)\n" % (target.name, STALL_SECS,
                                               relayed, accepted))
            break
        time.sleep(SAMPLE_SECS)
    time.sleep(0.3)
    cpu = bench.tree_cpu_secs(roots) - cpu0
    relayed = sink.messages - msgs0
    if args.verbose and relayed:
        for name, ms in bench.cpu_breakdown(
                detail0, bench.tree_cpu_detail(roots)).items():
            sys.stderr.write("relay bench: %s: %-32s %.3f ms/msg\n"
                             % (target.name, name, ms / relayed))
    secs = (sink.t_last - t_start) if relayed and t_start else 0
    res = {
        "server": target.name, "messages": args.messages,
        "domains": len(DOMAINS), "per_conn": args.per_conn,
        "accepted": accepted, "relayed": relayed,
        "relayed_per_s": relayed / secs if secs > 0 else 0.0,
        "cpu_ms_per_msg": cpu * 1e3 / relayed if relayed else 0.0,
        "conns_per_msg": ((sink.conns - conns0) / relayed
                          if relayed else 0.0),
        "peak_pss_kb": peak_pss,
        "ok": relayed >= accepted == args.messages,
    }
    for i, o in enumerate(outs):
        if o is not None and gens[i].returncode != 0:
            res["ok"] = False
            sys.stderr.write("relay bench: generator %d: status %d\n%s"
                             % (i, gens[i].returncode, o[1][-1000:]))
    return res


def one(target, sink, args):
    keep = True
    try:
        target.start()
        res = run(target, sink, args)
        keep = not res["ok"]
        return res
    finally:
        target.stop(keep=args.keep or keep)


def table(results):
    lines = ["", "relay: %d messages of 4 KB to %d domains (%d per "
             "submission connection), to a sink on loopback"
             % (results[0]["messages"], len(DOMAINS),
                results[0]["per_conn"]),
             "%-9s  %10s  %10s  %9s  %11s  %6s"
             % ("server", "relayed/s", "CPU ms/msg", "conn/msg",
                "peak PSS MB", "failed")]
    for r in results:
        lines.append("%-9s  %10.0f  %10.3f  %9.3f  %11.1f  %6d"
                     % (r["server"], r["relayed_per_s"],
                        r["cpu_ms_per_msg"], r["conns_per_msg"],
                        r["peak_pss_kb"] / 1024,
                        r["messages"] - r["relayed"]))
    by = {r["server"]: r for r in results}
    s, p = by.get("sallyport"), by.get("postfix")
    if s and p and p["relayed_per_s"] > 0 and p["cpu_ms_per_msg"] > 0:
        x = s["relayed_per_s"] / p["relayed_per_s"]
        c = s["cpu_ms_per_msg"] / p["cpu_ms_per_msg"]
        lines.append("sallyport/postfix: relayed/s x%.2f (target >= 2: "
                     "%s), CPU per message x%.2f (target <= 0.5: %s)"
                     % (x, "met" if x >= 2 else "NOT met", c,
                        "met" if c <= 0.5 else "NOT met"))
    if s:
        lines.append("sallyport connections per message %.3f (target < "
                     "0.1: %s)" % (s["conns_per_msg"],
                                   "met" if s["conns_per_msg"] < 0.1
                                   else "NOT met"))
    return "\n".join(lines) + "\n"


def main():
    quick = os.environ.get("BENCH_QUICK", "") not in ("", "0", "no")
    ap = argparse.ArgumentParser(description="sallyport relay benchmark")
    ap.add_argument("--load", default=os.path.join(HERE, "out",
                                                   "smtp-load"))
    ap.add_argument("--messages", type=int, default=200 if quick else 2000)
    ap.add_argument("--per-conn", type=int, default=20)
    ap.add_argument("--servers", default="sallyport,postfix")
    ap.add_argument("--deadline", type=int, default=120)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="CPU per message by process name")
    ap.add_argument("--json", default=os.path.join(HERE, "out",
                                                   "relay.json"))
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("relay bench: must run as root")
    suite.ensure_users()
    servers = args.servers.split(",")
    if "postfix" in servers and not relaypeers.have_postfix():
        sys.stderr.write("relay bench: postfix is not installed: "
                         "sallyport alone\n")
        servers.remove("postfix")
    sink = relaypeers.CountingSink()
    results = []
    try:
        for name in servers:
            target = (RelaySallyport(sink.port) if name == "sallyport"
                      else relay_postfix(sink.port))
            print("relay bench: %s: %d messages ..." % (name,
                                                         args.messages),
                  flush=True)
            try:
                results.append(one(target, sink, args))
            except Exception as e:   # a server that does not start
                sys.stderr.write("relay bench: %s: %s\n" % (name, e))
    finally:
        sink.close()
    if not results:
        return 1
    text = table(results)
    print(text, end="")
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump({"machine": bench.machine(), "results": results}, f,
                  indent=1)
    with open(os.path.splitext(args.json)[0] + ".txt", "w") as f:
        f.write("%s\n%s" % (bench.machine(), text))
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
