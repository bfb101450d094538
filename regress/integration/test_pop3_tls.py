"""POP3 before login, the TLS/SASL/pipelining part of issue 10.

Pipelining (RFC 2449 6.6): commands sent after PASS in the same write
are read ahead by the login engine; after the login they reach the
mailbox process through the engine's relay (pop3d/pop3_proxy.c), in
order, and are answered as if sent one by one."""

import os
import unittest

import suite
from suite import SuiteTest, POP3Line
from test_pop3_scale import fill_maildir, empty_maildir

PASS = suite.PASSWORD.encode()


class POP3Raw(POP3Line):
    """A raw POP3 client that can send several commands in one write."""

    def __init__(self, port, source=None):
        super().__init__(port, 60, source)

    def send(self, *lines):
        self.sock.sendall(b"".join(l + b"\r\n" for l in lines))

    def multi(self):
        """The lines of a multi-line answer after its +OK, unstuffed."""
        out = []
        while True:
            l = self.line()
            if l == b".":
                return out
            out.append(l[1:] if l.startswith(b".") else l)


class TestPOP3Pipelining(SuiteTest):

    def setUp(self):
        self.msgs = fill_maildir(self.suite, "bob", 2)

    def tearDown(self):
        empty_maildir(self.suite, "bob")

    def test_capa_before_login_offers_pipelining(self):
        c = POP3Raw(self.suite.pop3_port)
        try:
            c.send(b"CAPA")
            self.assertTrue(c.line().startswith(b"+OK"))
            self.assertIn(b"PIPELINING", c.multi())
        finally:
            c.close()

    def test_pipelined_login_and_commands(self):
        """USER, PASS and STAT in one write: the STAT is answered by the
        mailbox process, then LIST and QUIT."""
        size = sum(len(d) + d.count(b"\n") for _, d in self.msgs)
        c = POP3Raw(self.suite.pop3_port)
        try:
            c.send(b"USER bob", b"PASS " + PASS, b"STAT", b"LIST",
                   b"QUIT")
            self.assertTrue(c.line().startswith(b"+OK"))     # USER
            r = c.line()
            self.assertTrue(r.startswith(b"+OK"), r)         # PASS
            self.assertEqual(c.line(), b"+OK 2 %d" % size)   # STAT
            self.assertTrue(c.line().startswith(b"+OK"))     # LIST
            self.assertEqual(len(c.multi()), 2)
            self.assertTrue(c.line().startswith(b"+OK"))     # QUIT
            self.assertTrue(c.closed())
        finally:
            c.close()
        self.assertIn("proxy-start", self.suite.log("pop3d"))

    def test_pipelined_after_failed_password(self):
        """A wrong password: what follows is answered by the engine."""
        c = POP3Raw(self.suite.pop3_port, "127.0.10.1")
        try:
            c.send(b"USER bob", b"PASS wrong", b"USER bob",
                   b"PASS " + PASS, b"STAT", b"QUIT")
            self.assertTrue(c.line().startswith(b"+OK"))
            self.assertTrue(c.line().startswith(b"-ERR [AUTH]"))
            self.assertTrue(c.line().startswith(b"+OK"))
            self.assertTrue(c.line().startswith(b"+OK"))
            self.assertTrue(c.line().startswith(b"+OK 2 "))
            self.assertTrue(c.line().startswith(b"+OK"))
            self.assertTrue(c.closed())
        finally:
            c.close()

    def test_large_retr_through_relay(self):
        """A message far over the relay's buffers arrives whole."""
        empty_maildir(self.suite, "bob")
        body = b"".join(b"line %07d of a long message\n" % i
                        for i in range(60000))
        (_, data), = fill_maildir(self.suite, "bob", 1, body=body)
        c = POP3Raw(self.suite.pop3_port)
        try:
            c.send(b"USER bob", b"PASS " + PASS, b"RETR 1", b"QUIT")
            self.assertTrue(c.line().startswith(b"+OK"))
            self.assertTrue(c.line().startswith(b"+OK"))
            self.assertTrue(c.line().startswith(b"+OK"))
            got = b"\n".join(c.multi()) + b"\n"
            self.assertEqual(got, data)
            self.assertTrue(c.line().startswith(b"+OK"))
        finally:
            c.close()


if __name__ == "__main__":
    unittest.main()
