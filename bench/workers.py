#!/usr/bin/python3
"""What a mailbox worker costs to start: N deliveries to N distinct users,
so N workers each used once.  As root:

    /usr/bin/python3 bench/workers.py [TREE] [N]

TREE (default: this one) is a built sallyport tree, so that two can be
compared (git archive OLD | tar -x -C /tmp/old && make -C /tmp/old).
It starts a suite under /tmp with N more users (virtual: uids from 30000,
homes made by the delivery agent), sends N/100 messages of 100
recipients, and prints the wall time until every copy is in a Maildir and
the CPU of the delivery agent and of the workers it reaped.  Not a test:
it asserts nothing."""

import os
import sys
import time

TREE = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else \
    os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
sys.path.insert(0, os.path.join(TREE, "regress", "integration"))
sys.dont_write_bytecode = True
import suite  # noqa: E402


def cpu_ms(pid):
    """utime + stime + cutime + cstime of pid, in ms."""
    with open("/proc/%d/stat" % pid) as f:
        st = f.read()
    fields = st[st.rindex(")") + 2:].split()
    return sum(int(x) for x in fields[11:15]) * 1000.0 / \
        os.sysconf("SC_CLK_TCK")


def add_users(s):
    h = suite.crypt_hash("x")
    with open(s.path("etc", "users")) as f:
        lines = f.read().splitlines()
    for i in range(N):
        lines.append("u%05d:%s:%d:%d:%s" % (i, h, 30000 + i, 30000 + i,
                                            s.path("mail", "u%05d" % i)))
    s._write(s.path("etc", "users"), "\n".join(lines) + "\n", 0o640,
             suite.DAEMON_USERS["auth"])


def delivered(s):
    n = 0
    for i in range(N):
        try:
            n += len(os.listdir(s.path("mail", "u%05d" % i, "Maildir",
                                       "new")))
        except FileNotFoundError:
            pass
    return n >= N


def main():
    s = suite.Suite("workers")
    try:
        add_users(s)
        s.start()
        agent = s.delivery_agent().pid
        c0, t0 = cpu_ms(agent), time.monotonic()
        for b in range(0, N, 100):
            rcpts = ["u%05d@%s" % (i, suite.DOMAIN)
                     for i in range(b, min(N, b + 100))]
            c = s.smtp()
            c.ehlo()
            c.sendmail("alice@example.test", rcpts,
                       suite.make_message("w%d" % b, ["x"]))
            c.quit()
        suite.wait_for(lambda: delivered(s), 900, interval=0.5,
                       what="every copy delivered")
        t1 = time.monotonic()
        suite.wait_for(lambda: not suite.children(agent), 120,
                       interval=0.5, what="the workers to exit")
        c1 = cpu_ms(agent)
        print("%s: %d deliveries to distinct users in %.1f s; agent and "
              "workers %.0f ms CPU, %.2f ms a delivery"
              % (TREE, N, t1 - t0, c1 - c0, (c1 - c0) / N))
    finally:
        s.cleanup()


if __name__ == "__main__":
    main()
