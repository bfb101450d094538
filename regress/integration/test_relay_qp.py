"""An 8-bit message for a server without 8BITMIME (queued/relay_smtp_qp.c,
relay_smtp_data.c), driven by regress/relay/smtpc -8: converted to
quoted-printable as Postfix does, never sent as is.  Against the scripted
server of test_relay_smtp.py (what arrives is decoded with Python's email
package and compared with what was sent: a plain message, a multipart
with 8bit, 7bit and base64 parts, a message/rfc822 inside, long lines,
dots and trailing white space), the cases that bounce 5.6.3 (an 8-bit
header, 8-bit data in a base64 part), and Postfix's smtp-sink without
8BITMIME (-8) taking a 50 MB 8-bit message in bounded memory."""

import email
import email.policy
import sys
import tempfile
import unittest

from test_relay_smtp import (STREAM_RSS_MAX_KB, RelayTest, SmtpSinkMixin,
                             sanitizer_build, smtpc, SMTPC)

NO8 = (b"PIPELINING", b"SIZE 100000000")


def unwire(data):
    """What the server received (CRLF, dot-stuffed) as stored: LF."""
    lines = data.split(b"\r\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return b"".join((l[1:] if l.startswith(b".") else l) + b"\n"
                    for l in lines)


def parse(data):
    return email.message_from_bytes(unwire(data), policy=email.policy.compat32)


class TestRelayQp(RelayTest):

    def send(self, message, args=("-8",)):
        s = self.serve(caps=NO8)
        res, _, err = smtpc(s.port, ["a@x.test"], message, list(args))
        return s, self.one(res, "a@x.test"), err

    def assert_7bit(self, data):
        for line in data.split(b"\r\n"):
            self.assertLessEqual(len(line), 998)
            self.assertTrue(all(b < 0x80 for b in line), line)

    def assert_qp_lines(self, body):
        for line in body.split(b"\n"):
            self.assertLessEqual(len(line), 76, line)
            self.assertFalse(line.endswith((b" ", b"\t")), line)

    def test_plain_message(self):
        body = ("caf\u00e9 cr\u00e8me\n.leading dot\ntrailing space \n"
                "tab\t\n= sign\nFrom here\n" + "\u00e9" * 200 + "\n"
                ).encode()
        msg = b"From: <s@x.test>\nSubject: plain\n\n" + body
        s, r, err = self.send(msg)
        self.assertEqual(r[0], "done", err)
        self.assertNotIn(b"BODY=8BITMIME", s.cmds[1])
        self.assertTrue(s.cmds[1].startswith(b"MAIL FROM:"))
        self.assertIn("relay convert 8bit to quoted-printable", err)
        self.assert_7bit(s.messages[0])
        m = parse(s.messages[0])
        self.assertEqual(m["MIME-Version"], "1.0")
        self.assertEqual(m["Content-Transfer-Encoding"], "quoted-printable")
        self.assertEqual(m.get_content_charset(), "unknown-8bit")
        self.assertEqual(m["Subject"], "plain")
        self.assertEqual(m.get_payload(decode=True), body)
        self.assert_qp_lines(unwire(s.messages[0]).split(b"\n\n", 1)[1])

    def test_declared_8bit_part_keeps_content_type(self):
        body = "gr\u00fc\u00dfe\n".encode("latin-1")
        msg = (b"MIME-Version: 1.0\nContent-Type: text/plain; "
               b"charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n"
               b"Subject: x\n\n" + body)
        s, r, err = self.send(msg)
        self.assertEqual(r[0], "done", err)
        m = parse(s.messages[0])
        self.assertEqual(m.get_all("Content-Transfer-Encoding"),
                         ["quoted-printable"])
        self.assertEqual(m.get_all("MIME-Version"), ["1.0"])
        self.assertEqual(m.get_content_charset(), "iso-8859-1")
        self.assertEqual(m.get_payload(decode=True), body)

    def test_multipart(self):
        text8 = "\u00e4\u00f6\u00fc " * 40 + "\nline two\n"
        seven = b"plain ascii = stays\n"
        blob = bytes(range(256)) * 4
        import base64
        b64 = base64.encodebytes(blob)
        msg = (b"MIME-Version: 1.0\nSubject: mp\nContent-Type: "
               b"multipart/mixed;\n boundary=\"=-b1\"\n"
               b"Content-Transfer-Encoding: 8bit\n\npreamble\n"
               b"--=-b1\nContent-Type: text/plain; charset=utf-8\n"
               b"Content-Transfer-Encoding: 8bit\n\n" + text8.encode() +
               b"--=-b1\nContent-Type: text/plain\n\n" + seven +
               b"--=-b1\nContent-Type: application/octet-stream\n"
               b"Content-Transfer-Encoding: base64\n\n" + b64 +
               b"--=-b1--\nepilogue\n")
        s, r, err = self.send(msg)
        self.assertEqual(r[0], "done", err)
        self.assert_7bit(s.messages[0])
        got = unwire(s.messages[0])
        m = parse(s.messages[0])
        self.assertEqual(m["Content-Transfer-Encoding"], "7bit")
        parts = m.get_payload()
        self.assertEqual(len(parts), 3)
        self.assertEqual(parts[0]["Content-Transfer-Encoding"],
                         "quoted-printable")
        # The line end before a delimiter is the delimiter's (RFC 2046).
        self.assertEqual(parts[0].get_payload(decode=True).decode(),
                         text8[:-1])
        # The 7bit and base64 parts pass byte for byte.
        self.assertIn(b"Content-Type: text/plain\n\n" + seven + b"--=-b1",
                      got)
        self.assertIn(b64 + b"--=-b1--\nepilogue\n", got)
        self.assertEqual(parts[2].get_payload(decode=True), blob)

    def test_message_rfc822_inside(self):
        inner_body = "na\u00efve\n".encode()
        msg = (b"MIME-Version: 1.0\nContent-Type: multipart/mixed; "
               b"boundary=b2\n\n--b2\nContent-Type: message/rfc822\n"
               b"Content-Transfer-Encoding: 8bit\n\nSubject: inner\n"
               b"Content-Type: text/plain; charset=utf-8\n"
               b"Content-Transfer-Encoding: 8bit\n\n" + inner_body +
               b"--b2--\n")
        s, r, err = self.send(msg)
        self.assertEqual(r[0], "done", err)
        self.assert_7bit(s.messages[0])
        m = parse(s.messages[0])
        part = m.get_payload()[0]
        self.assertEqual(part["Content-Transfer-Encoding"], "7bit")
        inner = part.get_payload()[0]
        self.assertEqual(inner["Subject"], "inner")
        self.assertEqual(inner.get_payload(decode=True), inner_body[:-1])

    def test_long_line(self):
        body = ("\u00e9" * 3000 + "x" * 2000 + "\n").encode()
        s, r, err = self.send(b"Subject: long\n\n" + body)
        self.assertEqual(r[0], "done", err)
        m = parse(s.messages[0])
        self.assertEqual(m.get_payload(decode=True), body)
        self.assert_qp_lines(unwire(s.messages[0]).split(b"\n\n", 1)[1])

    def test_8bit_header_bounces(self):
        msg = "Subject: caf\u00e9\n\nbody \u00e9\n".encode()
        s, r, err = self.send(msg)
        self.assertEqual(r[0], "failed")
        self.assertIn("5.6.3", r[1])
        self.assertNotIn(b"MAIL", self.verbs(s))

    def test_8bit_in_base64_part_bounces(self):
        msg = (b"MIME-Version: 1.0\nContent-Type: multipart/mixed; "
               b"boundary=b3\n\n--b3\nContent-Transfer-Encoding: base64\n"
               b"\n\xe9\xe9\n--b3--\n")
        s, r, err = self.send(msg)
        self.assertEqual(r[0], "failed")
        self.assertIn("5.6.3", r[1])
        self.assertEqual(s.messages, [])

    def test_with_8bitmime_not_converted(self):
        s = self.serve()
        msg = "Subject: x\n\ncaf\u00e9\n".encode()
        res, _, _ = smtpc(s.port, ["a@x.test"], msg, ["-8"])
        self.assertEqual(self.one(res, "a@x.test")[0], "done")
        self.assertIn(b"BODY=8BITMIME", s.cmds[1])
        self.assertEqual(unwire(s.messages[0]), msg)


class TestRelayQpToSmtpSink(SmtpSinkMixin, unittest.TestCase):
    """Postfix's smtp-sink without 8BITMIME: a 50 MB 8-bit message is
    scanned and converted in bounded memory."""
    sink_args = ("-8",)

    def test_50mb_8bit_message_bounded_memory(self):
        with tempfile.NamedTemporaryFile() as f:
            f.write(b"Subject: big\n\n")
            block = ("caf\u00e9 " * 15 + "\n").encode() * 1000
            while f.tell() < 50 * 1024 * 1024:
                f.write(block)
            f.flush()
            res, other, err = smtpc(self.port, ["a@x.test"], path=f.name,
                                    args=["-8"], timeout=600)
        self.assertEqual(res["a@x.test"][0][0], "done", err)
        peak = [int(l.split()[1]) for l in other
                if l.startswith("peak-rss ")][0]
        sys.stderr.write(" [smtpc peak RSS %d kB converting 50 MB] " % peak)
        if not sanitizer_build(SMTPC):
            self.assertLess(peak, STREAM_RSS_MAX_KB)


if __name__ == "__main__":
    unittest.main()
