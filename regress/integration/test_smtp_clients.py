"""smtpd with real mail clients: msmtp submitting over STARTTLS with AUTH
PLAIN and LOGIN, verifying the suite's self-signed certificate (refused
with a wrong password, and then nothing is delivered), and curl's SMTP
support, plain on the MX port and over implicit TLS (smtps://) with AUTH.

Every address is 127.0.0.1, written as such: msmtp checks the
certificate against mail.example.test (tls_host_override), and curl is
told where mail.example.test is (--resolve), so nothing asks a resolver.
msmtp gets its own configuration file in the suite's root (-C), never
~/.msmtprc.
"""

import os
import subprocess
import time

import suite
from suite import SuiteTest, make_message

CERT_NAME = "mail.example.test"
CLIENT_TIMEOUT_SECS = 60
# EX_NOPERM from sysexits.h: what msmtp exits with when AUTH fails.
EX_NOPERM = 77


def lf(msg):
    return msg.replace(b"\r\n", b"\n")


def client_message(mark):
    """A message with lines that need care on the way: one starting with
    a dot (dot-stuffed by the client, unstuffed by smtpd) and a lone
    dot."""
    return make_message(mark, ["sent by a real client", ".leading dot",
                               ".", "last"])


class TestSmtpClients(SuiteTest):

    def setUp(self):
        self.s = self.suite

    def write(self, name, data, mode=0o600):
        path = self.s.path("etc", name)
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, mode)
        return path

    # -- msmtp

    def msmtp_conf(self, name, auth, password=suite.PASSWORD,
                   source_ip=None):
        """A configuration file for one account; msmtp wants it 0600."""
        lines = [
            "defaults",
            "logfile %s" % self.s.path("log", "msmtp.log"),
            "account submission",
            "host 127.0.0.1",
            "port %d" % self.s.submission_port,
            "domain %s" % suite.HELO,
            "from alice@%s" % suite.DOMAIN,
            "tls on",
            "tls_starttls on",
            "tls_trust_file %s" % self.s.cert,
            "tls_host_override %s" % CERT_NAME,
            "auth %s" % auth,
            "user alice",
            "password %s" % password,
            "timeout 30",
        ]
        if source_ip is not None:
            lines.append("source_ip %s" % source_ip)
        lines.append("account default : submission")
        return self.write(name, ("\n".join(lines) + "\n").encode())

    def msmtp(self, conf, msg, *rcpts):
        return subprocess.run(["msmtp", "-C", conf, "-a", "default", "--"]
                              + list(rcpts), input=msg,
                              capture_output=True,
                              timeout=CLIENT_TIMEOUT_SECS)

    def test_msmtp_starttls_auth(self):
        for mech in ("plain", "login"):
            mark = "msmtp-%s-%d" % (mech, time.monotonic_ns())
            msg = client_message(mark)
            conf = self.msmtp_conf("msmtprc-%s" % mech, mech)
            r = self.msmtp(conf, msg, "bob@example.test")
            self.assertEqual(r.returncode, 0, (mech, r.stdout, r.stderr))
            self.assertSubmitted(mark, msg)

    def test_msmtp_wrong_password(self):
        mark = "msmtp-wrong-%d" % time.monotonic_ns()
        # Its own source address: the failure counts against that one
        # only (SMTP_AUTH_FAILURES_MAX), not against the other tests.
        conf = self.msmtp_conf("msmtprc-wrong", "plain",
                               password="not-" + suite.PASSWORD,
                               source_ip="127.0.3.1")
        r = self.msmtp(conf, client_message(mark), "bob@example.test")
        self.assertEqual(r.returncode, EX_NOPERM, (r.stdout, r.stderr))
        self.assertIn(b"535", r.stderr)
        self.assertIn("auth-failed", self.s.log("smtpd"))
        self.assertEqual(self.s.marked_after_later(mark), [])

    def test_msmtp_untrusted_certificate(self):
        """Verification is on: the certificate of a name it was not
        made for is refused before anything is sent."""
        mark = "msmtp-badname-%d" % time.monotonic_ns()
        conf = self.msmtp_conf("msmtprc-badname", "plain")
        with open(conf) as f:
            text = f.read().replace(CERT_NAME, "other.example.test")
        self.write("msmtprc-badname", text.encode())
        r = self.msmtp(conf, client_message(mark), "bob@example.test")
        self.assertNotEqual(r.returncode, 0, (r.stdout, r.stderr))
        self.assertIn(b"TLS certificate verification failed", r.stderr)
        self.assertEqual(self.s.marked_after_later(mark), [])

    # -- curl

    def curl(self, url, msg, *args):
        path = self.write("curl-%d.eml" % time.monotonic_ns(), msg, 0o644)
        return subprocess.run(
            ["curl", "--silent", "--show-error", "--max-time", "30",
             "--noproxy", "*", url, "--upload-file", path] + list(args),
            capture_output=True, text=True, timeout=CLIENT_TIMEOUT_SECS)

    def test_curl_plain_mx(self):
        mark = "curl-mx-%d" % time.monotonic_ns()
        msg = client_message(mark)
        # The URL's path is the EHLO name.
        r = self.curl("smtp://127.0.0.1:%d/%s" % (self.s.smtp_port,
                                                  suite.HELO), msg,
                      "--mail-from", "alice@example.test",
                      "--mail-rcpt", "bob@example.test",
                      "--mail-rcpt", "alice@example.test")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        for user in ("bob", "alice"):
            data = self.s.wait_marked(mark, user)
            self.assertIn(b"with ESMTP id", data)
            self.assertEqual(self.s.delivered_body(mark, user), lf(msg))

    def curl_auth(self, scheme, port, msg, *args):
        """curl to mail.example.test (which --resolve says is 127.0.0.1)
        with TLS, the suite's certificate trusted and AUTH as alice."""
        return self.curl("%s://%s:%d/%s" % (scheme, CERT_NAME, port,
                                            suite.HELO), msg,
                         "--resolve", "%s:%d:127.0.0.1" % (CERT_NAME, port),
                         "--cacert", self.s.cert,
                         "--user", "alice:" + suite.PASSWORD,
                         "--mail-from", "alice@example.test",
                         "--mail-rcpt", "bob@example.test", *args)

    def assertSubmitted(self, mark, msg):
        self.assertIn(b"with ESMTPSA id", self.s.wait_marked(mark))
        self.assertEqual(self.s.delivered_body(mark), lf(msg))

    def test_curl_smtps_auth(self):
        mark = "curl-smtps-%d" % time.monotonic_ns()
        msg = client_message(mark)
        r = self.curl_auth("smtps", self.s.smtps_port, msg)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertSubmitted(mark, msg)

    def test_curl_starttls_submission(self):
        mark = "curl-starttls-%d" % time.monotonic_ns()
        msg = client_message(mark)
        r = self.curl_auth("smtp", self.s.submission_port, msg,
                           "--ssl-reqd")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertSubmitted(mark, msg)
