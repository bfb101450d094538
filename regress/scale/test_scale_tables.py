"""A 100,000-line users table and a 100,000-line aliases table (the
most authd takes, AUTH_TABLE_ENTRIES_MAX), under authd's sandbox:
reloaded on SIGHUP (in the sandbox, timed) and read at a restart, then
used: a POP3 login as the last user, mail to the last alias."""

import os
import poplib
import re
import signal
import smtplib
import unittest

import suite
from suite import SuiteTest, make_message, wait_for

import scale

ENTRIES = scale.size(100000)


def retried(fn):
    """fn's value (or True), or None when it failed."""
    try:
        v = fn()
    except (AssertionError, poplib.error_proto, smtplib.SMTPException,
            OSError):
        return None
    return v if v is not None else True


class TestScaleTables(SuiteTest):

    def write_tables(self):
        """ENTRIES users (alice, bob and uN, all bob's system user and
        mail home) and ENTRIES aliases (the suite's four and aN: uN)."""
        s = self.suite
        h = suite.crypt_hash(suite.PASSWORD)
        uid, gid = suite.user_ids(suite.MAIL_USERS["bob"])
        users = ["# name:crypt-hash:uid:gid:home"]
        for name in ("alice", "bob"):
            u, g = suite.user_ids(suite.MAIL_USERS[name])
            users.append("%s:%s:%d:%d:%s" % (name, h, u, g, s.home(name)))
        nusers = ENTRIES - 2
        users += ["u%d:%s:%d:%d:%s" % (i, h, uid, gid, s.home("bob"))
                  for i in range(nusers)]
        aliases = ["postmaster: alice", "abuse: alice", "team: alice, bob",
                   "crew: bob, alice"]
        naliases = ENTRIES - 4
        aliases += ["a%d: u%d" % (i, i % nusers) for i in range(naliases)]
        s._write(s.path("etc", "users"), "\n".join(users) + "\n", 0o640,
                 suite.DAEMON_USERS["auth"])
        s._write(s.path("etc", "aliases"), "\n".join(aliases) + "\n")
        return nusers, naliases

    def loaded(self, since, pattern):
        def look():
            m = re.search(pattern, self.suite.log("authd")[since:])
            return m.groups() if m else None
        return wait_for(look, scale.SLOW_SECS, interval=0.2,
                        what="authd to load the tables")

    def use_tables(self, nusers, naliases, n):
        """A login as the last user, a message to the last alias; each
        retried while the daemons reconnect to a restarted authd."""
        s = self.suite
        wait_for(lambda: retried(
            lambda: s.pop3("u%d" % (nusers - 1),
                           timeout=scale.SLOW_SECS).quit()),
            120, interval=1, what="a POP3 login as the last user")
        marker = "to the last alias %d" % n
        rcpt = "a%d@%s" % (naliases - 1, suite.DOMAIN)
        msg = make_message(marker, ["x"], rcpt=rcpt)
        code, text = wait_for(lambda: retried(
            lambda: s.send(msg, rcpts=(rcpt,))), 120, interval=1,
            what="mail to the last alias")
        self.assertEqual(code, 250, text)
        s.wait_marked(marker, user="bob", timeout=scale.SLOW_SECS)

    def test_tables(self):
        s = self.suite
        nusers, naliases = scale.measure("write tables of %d lines"
                                         % ENTRIES, self.write_tables)
        since = len(s.log("authd"))
        pid = s.pid("authd")
        os.kill(pid, signal.SIGHUP)
        got = scale.measure("authd reload of %d users and %d aliases"
                            % (ENTRIES, ENTRIES), self.loaded, since,
                            r"authd reload(ed users=(\d+) aliases=(\d+)"
                            r"|-failed.*)")
        self.assertEqual(got[1:], (str(ENTRIES), str(ENTRIES)), got)
        self.assertEqual(s.pid("authd"), pid)
        self.use_tables(nusers, naliases, 1)
        s.stop_daemon("authd")
        since = len(s.log("authd"))
        scale.measure("authd start with %d users and %d aliases"
                      % (ENTRIES, ENTRIES), s.start_daemon, "authd")
        got = self.loaded(since, r"authd started .* users=(\d+) "
                                 r"aliases=(\d+)")
        self.assertEqual(got, (str(ENTRIES), str(ENTRIES)))
        self.use_tables(nusers, naliases, 2)
        log = s.log("authd")
        self.assertNotIn("sandbox violation", log)
        for d in suite.DAEMONS:
            self.assertNotIn("died", s.log(d), d)


if __name__ == "__main__":
    unittest.main()
