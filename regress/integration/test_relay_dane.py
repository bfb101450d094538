"""DANE in the relay's SMTP client (RFC 7672; queued/relay_dane.c,
relay_smtp_tls.c), driven by regress/relay/smtpc -D against the scripted
STARTTLS server of test_relay_smtp.py: certificates made here with the
openssl command, TLSA records computed from them, and the client's
verdict: DANE-EE and DANE-TA matches deliver, a wrong digest, a name
that does not match a DANE-TA chain, or no STARTTLS defer with 4.7.5;
insecure records are not used; records none usable still make TLS
mandatory.  And sallyport's own smtpd as the server, over DANE-EE and
DANE-TA."""

import hashlib
import os
import subprocess
import tempfile
import unittest

import suite
from suite import SuiteTest
from test_relay_smtp import RelayTest, make_cert, smtpc

NAME = "mx.example.test"


def der(pem_path, what):
    """The DER of a certificate ("cert") or of its public key ("spki")."""
    if what == "cert":
        cmd = ["openssl", "x509", "-in", pem_path, "-outform", "DER"]
        return subprocess.run(cmd, check=True, capture_output=True).stdout
    pub = subprocess.run(["openssl", "x509", "-in", pem_path, "-noout",
                          "-pubkey"], check=True, capture_output=True).stdout
    return subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"],
                          input=pub, check=True, capture_output=True).stdout


def tlsa(usage, selector, mtype, pem_path):
    """A TLSA record for smtpc -D: "usage selector mtype hex"."""
    data = der(pem_path, "cert" if selector == 0 else "spki")
    digest = {0: lambda d: d, 1: lambda d: hashlib.sha256(d).digest(),
              2: lambda d: hashlib.sha512(d).digest()}[mtype](data)
    return "%d %d %d %s" % (usage, selector, mtype, digest.hex())


def make_ca_chain(d, ca_cn, leaf_cn):
    """A CA and a leaf it signs: (ca.pem, (chain.pem, leaf.key)), the
    chain file holding the leaf then the CA, as a server sends it."""
    ca_key, ca = os.path.join(d, ca_cn + ".key"), os.path.join(d, ca_cn +
                                                                ".pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "30",
                    "-subj", "/CN=" + ca_cn, "-addext",
                    "basicConstraints=critical,CA:TRUE", "-addext",
                    "keyUsage=critical,keyCertSign", "-keyout", ca_key,
                    "-out", ca], check=True, capture_output=True)
    key = os.path.join(d, leaf_cn + ".leaf.key")
    csr = os.path.join(d, "leaf.csr")
    leaf = os.path.join(d, leaf_cn + ".leaf.pem")
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-subj",
                    "/CN=" + leaf_cn, "-keyout", key, "-out", csr],
                   check=True, capture_output=True)
    ext = os.path.join(d, "leaf.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:%s\n" % leaf_cn)
    subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", ca,
                    "-CAkey", ca_key, "-CAcreateserial", "-days", "30",
                    "-extfile", ext, "-out", leaf], check=True,
                   capture_output=True)
    chain = os.path.join(d, leaf_cn + ".chain.pem")
    with open(chain, "wb") as out:
        for p in (leaf, ca):
            with open(p, "rb") as f:
                out.write(f.read())
    return ca, (chain, key)


class TestRelayDane(RelayTest):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sallyport-relaydane-")
        cls.cert = make_cert(cls.tmp, NAME)
        cls.other = make_cert(cls.tmp, "other.example.test")
        cls.ca, cls.chain = make_ca_chain(cls.tmp, "Test DANE CA", NAME)

    @classmethod
    def tearDownClass(cls):
        subprocess.run(["rm", "-rf", cls.tmp])

    def dane(self, server_cert, records, extra=(), name=NAME):
        s = self.serve(tls=server_cert)
        args = ["-n", name]
        for r in records:
            args += ["-D", r]
        res, _, err = smtpc(s.port, ["a@x.test"], args=args + list(extra))
        return s, self.one(res, "a@x.test"), err

    def test_dane_ee_every_selector_and_matching_type(self):
        for sel, mt in ((0, 1), (0, 2), (1, 1), (1, 2)):
            s, r, err = self.dane(self.cert, [tlsa(3, sel, mt,
                                                   self.cert[0])])
            self.assertEqual(r[0], "done", (sel, mt, err))
            self.assertIn("verified=dane-ee", err)
            self.assertEqual(len(s.messages), 1)

    def test_dane_ee_ignores_name(self):
        """RFC 7672 3.1.1: DANE-EE checks neither name nor dates."""
        s, r, err = self.dane(self.cert, [tlsa(3, 1, 1, self.cert[0])],
                              name="unrelated.example.test")
        self.assertEqual(r[0], "done", err)
        self.assertIn("verified=dane-ee", err)

    def test_dane_ee_one_of_several(self):
        recs = [tlsa(3, 1, 1, self.other[0]), tlsa(3, 1, 1, self.cert[0])]
        s, r, err = self.dane(self.cert, recs)
        self.assertEqual(r[0], "done", err)

    def test_wrong_digest_defers(self):
        s, r, err = self.dane(self.cert, [tlsa(3, 1, 1, self.other[0])])
        self.assertEqual(r[0], "retry")
        self.assertTrue(r[1].startswith("4.7.5 DANE: server certificate "
                                        "not trusted"), r)
        self.assertIn("relay dane failed", err)
        self.assertEqual(s.messages, [])
        self.assertNotIn(b"MAIL", self.verbs(s))

    def test_dane_ta_in_chain(self):
        for sel in (0, 1):
            s, r, err = self.dane(self.chain, [tlsa(2, sel, 1, self.ca)])
            self.assertEqual(r[0], "done", err)
            self.assertIn("verified=dane-ta", err)

    def test_dane_ta_name_mismatch_defers(self):
        s, r, err = self.dane(self.chain, [tlsa(2, 0, 1, self.ca)],
                              name="other.example.test")
        self.assertEqual(r[0], "retry")
        self.assertIn("4.7.5", r[1])
        self.assertIn("name does not match other.example.test", r[1])
        self.assertEqual(s.messages, [])

    def test_dane_ta_not_in_chain_defers(self):
        """A TA record for a CA the server does not send: no match."""
        s, r, err = self.dane(self.cert, [tlsa(2, 0, 1, self.ca)])
        self.assertEqual(r[0], "retry")
        self.assertIn("no TLSA record matches", r[1])

    def test_dane_ta_matching_the_leaf_of_another_ca(self):
        """A DANE-TA record for a self-signed certificate that is not the
        issuer of the leaf the server sends."""
        s, r, err = self.dane(self.chain, [tlsa(2, 0, 1, self.cert[0])])
        self.assertEqual(r[0], "retry")

    def test_no_starttls_defers(self):
        s = self.serve()
        res, _, _ = smtpc(s.port, ["a@x.test"],
                          args=["-n", NAME, "-D", tlsa(3, 1, 1,
                                                       self.cert[0])])
        r = self.one(res, "a@x.test")
        self.assertEqual(r, ("retry", "4.7.5 DANE: tls required, STARTTLS "
                                      "not offered"))
        self.assertNotIn(b"MAIL", self.verbs(s))

    def test_handshake_failure_defers(self):
        """STARTTLS offered and answered 220, then no TLS at all."""
        s = self.serve(caps=(b"PIPELINING", b"STARTTLS"))
        res, _, _ = smtpc(s.port, ["a@x.test"], args=[
            "-n", NAME, "-D", tlsa(3, 1, 1, self.cert[0])])
        self.assertEqual(self.one(res, "a@x.test"),
                         ("retry", "4.7.5 DANE: tls handshake failed"))
        self.assertNotIn(b"MAIL", self.verbs(s))

    def test_dane_raises_require(self):
        s, r, err = self.dane(self.cert, [tlsa(3, 1, 1, self.other[0])],
                              extra=["-t", "require"])
        self.assertEqual(r[0], "retry")
        self.assertIn("4.7.5", r[1])

    def test_policy_none_and_verify_kept(self):
        """An explicit "none" (no TLS) or "verify" (the CA bundle) is
        not changed by TLSA records."""
        s, r, err = self.dane(self.cert, [tlsa(3, 1, 1, self.other[0])],
                              extra=["-t", "none"])
        self.assertEqual(r[0], "done", err)
        self.assertNotIn(b"STARTTLS", self.verbs(s))
        s, r, err = self.dane(self.cert, [tlsa(3, 1, 1, self.other[0])],
                              extra=["-t", "verify", "-C", self.cert[0]])
        self.assertEqual(r[0], "done", err)
        self.assertIn("verified=pkix", err)

    def test_insecure_records_not_used(self):
        s, r, err = self.dane(self.cert, [tlsa(3, 1, 1, self.other[0])],
                              extra=["-I"])
        self.assertEqual(r[0], "done", err)
        self.assertIn("verified=no", err)

    def test_unusable_records_encrypt_only(self):
        """RFC 7672 2.2: PKIX usages only: TLS mandatory, unverified."""
        rec = [tlsa(1, 1, 1, self.other[0]), tlsa(0, 0, 1, self.other[0])]
        s, r, err = self.dane(self.cert, rec)
        self.assertEqual(r[0], "done", err)
        self.assertIn("verified=no", err)
        s = self.serve()
        res, _, _ = smtpc(s.port, ["a@x.test"], args=["-D", rec[0]])
        self.assertEqual(self.one(res, "a@x.test")[0], "retry")


class TestDaneToSmtpd(SuiteTest):
    """sallyport's own smtpd (its pki certificate) as the server: a
    DANE-EE record for its key, and a DANE-TA record for its self-signed
    certificate, deliver the message byte for byte."""

    def test_dane_ee_and_ta(self):
        for usage, sel, verified in ((3, 1, "dane-ee"), (2, 0, "dane-ta")):
            marker = "relay-" + verified
            body = suite.make_message(marker, ["over DANE"])
            body = body.replace(b"\r\n", b"\n")
            rec = tlsa(usage, sel, 1, self.suite.cert)
            res, _, err = smtpc(self.suite.smtp_port, ["bob@example.test"],
                                body, ["-n", "mail.example.test", "-D",
                                       rec])
            self.assertEqual(res["bob@example.test"][0][0], "done", err)
            self.assertIn("verified=%s " % verified, err)
            self.assertEqual(self.suite.delivered_body(marker), body)


if __name__ == "__main__":
    unittest.main()
