"""The relay's peers for the integration tests and the benchmark (issue
9), all on loopback:

  Nsd             nsd, Debian's authoritative DNS server, in the
                  foreground from a temporary directory on a 127.0.0.x
                  address and a free port, serving test zones, some
                  signed with ldns-signzone (their DS records make the
                  trust anchor file)
  TestCA          a test CA (openssl) and certificates it signs, and
                  the TLSA 3 1 1 digest of a certificate for DANE
  FakeServer      a scripted receiving SMTP server (a thread per
                  connection) that answers what it is told, per
                  connection or per command, and records every
                  transaction (MAIL, RCPTs and their replies, the data)
  PostfixPeer     a Postfix instance of its own (bench.Postfix, started
                  with "postfix -c DIR start", never the system's):
                  receiving for a domain on ADDR:25 and sending through
                  a relayhost

Nothing here touches a non-loopback address or asks the system's
resolver.
"""

import atexit
import hashlib
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

from suite import REPO, free_ports, wait_for

NSD = "/usr/sbin/nsd"
DRILL = "/usr/bin/drill"
SIGNZONE = "/usr/bin/ldns-signzone"

NSD_CONF = """server:
    ip-address: {addr}@{port}
    port: {port}
    username: ""
    chroot: ""
    zonesdir: "{dir}"
    database: ""
    pidfile: "{dir}/nsd.pid"
    xfrdfile: "{dir}/xfrd.state"
    zonelistfile: "{dir}/zone.list"
    logfile: "{dir}/nsd.log"
    server-count: 1
    verbosity: 1
remote-control:
    control-enable: no
"""


def have(path):
    return os.path.exists(path) and os.access(path, os.X_OK)


def have_nsd():
    return have(NSD) and have(SIGNZONE) and have(DRILL)


# ---------------------------------------------------------------- DNS

class Nsd:
    """nsd on addr and a free port.  zones: {name: text} served as is;
    signed: {name: (text, tamper)} signed with a key of their own, then
    tamper(signed_text) -> text applied when not None (a zone that must
    fail validation).  The DS records of the signed zones are in the
    file self.ta (for "resolver ... trust-anchor" or dnsq -t)."""

    def __init__(self, addr, zones, signed=None):
        self.addr = addr
        self.dir = tempfile.mkdtemp(prefix="sallyport-nsd-")
        self.port = free_ports(1)[0]
        self.proc = None
        self.names = list(zones) + list(signed or {})
        conf = NSD_CONF.format(addr=addr, port=self.port, dir=self.dir)
        for name, text in zones.items():
            self.write(name + ".zone", text)
            conf += "zone:\n    name: %s\n    zonefile: %s.zone\n" \
                % (name, name)
        ta = []
        for name, (text, tamper) in (signed or {}).items():
            ta.append(self.sign(name, text, tamper))
            conf += "zone:\n    name: %s\n    zonefile: %s.zone.signed\n" \
                % (name, name)
        self.write("nsd.conf", conf)
        self.write("ta", "".join(ta))

    @property
    def ta(self):
        return os.path.join(self.dir, "ta")

    def write(self, name, text):
        with open(os.path.join(self.dir, name), "w") as f:
            f.write(text)

    def sign(self, name, text, tamper=None):
        """Signs the zone; returns its DS record."""
        self.write(name + ".zone", text)
        r = subprocess.run(["ldns-keygen", "-a", "ECDSAP256SHA256", "-k",
                            name], cwd=self.dir, capture_output=True,
                           text=True, check=True)
        key = r.stdout.strip()
        subprocess.run([SIGNZONE, name + ".zone", key], cwd=self.dir,
                       check=True, capture_output=True)
        if tamper is not None:
            path = os.path.join(self.dir, name + ".zone.signed")
            with open(path) as f:
                text = f.read()
            with open(path, "w") as f:
                f.write(tamper(text))
        with open(os.path.join(self.dir, key + ".ds")) as f:
            return f.read()

    def answers(self, name):
        """True when nsd answers the SOA of zone name (drill, to this
        server only)."""
        r = subprocess.run([DRILL, "-p", str(self.port), "@" + self.addr,
                            name, "SOA"], capture_output=True, text=True,
                           timeout=30)
        return r.returncode == 0 and "rcode: NOERROR" in r.stdout

    def start(self, timeout=60):
        self.proc = subprocess.Popen([NSD, "-d", "-c",
                                      os.path.join(self.dir, "nsd.conf")],
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        # A test class whose setup fails after this would leave nsd
        # running: it is stopped when the tests end, whatever happens.
        atexit.register(self.close)

        def up():
            if self.proc.poll() is not None:
                raise AssertionError("nsd exited: %s" % self.log())
            return all(self.answers(n) for n in self.names)
        try:
            wait_for(up, timeout, interval=0.3, what="nsd to answer")
        except BaseException:
            self.close()
            raise
        return self

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def log(self):
        try:
            with open(os.path.join(self.dir, "nsd.log")) as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def resolver_args(self, validate=True):
        """What follows "resolver" in the config for this server."""
        line = "%s port %d" % (self.addr, self.port)
        if validate:
            line += ' trust-anchor "%s"' % self.ta
        return line

    def resolver_line(self, validate=True):
        """The config's resolver statement for this server."""
        return "resolver " + self.resolver_args(validate)


# ---------------------------------------------------------------- TLS

class TestCA:
    """A CA of the tests' own under dir, and certificates it signs."""

    def __init__(self, dir, name="sallyport test CA"):
        self.dir = dir
        self.key = os.path.join(dir, "ca.key")
        self.cert = os.path.join(dir, "ca.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                        "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-days", "30", "-subj", "/CN=" + name,
                        "-addext", "basicConstraints=critical,CA:TRUE",
                        "-addext", "keyUsage=critical,keyCertSign",
                        "-keyout", self.key, "-out", self.cert],
                       check=True, capture_output=True)

    def issue(self, names, stem=None):
        """A key and a certificate for the names (DNS names, or "IP:"
        and an address); (cert, key)."""
        stem = os.path.join(self.dir, stem or names[0])
        key, csr, cert = stem + ".key", stem + ".csr", stem + ".pem"
        ext = stem + ".ext"
        with open(ext, "w") as f:
            f.write("subjectAltName=%s\n"
                    % ",".join(n if n.startswith("IP:") else "DNS:" + n
                               for n in names))
        subprocess.run(["openssl", "req", "-new", "-newkey", "ec",
                        "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-subj", "/CN=" + names[0], "-keyout",
                        key, "-out", csr], check=True, capture_output=True)
        subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA",
                        self.cert, "-CAkey", self.key, "-CAcreateserial",
                        "-days", "30", "-extfile", ext, "-out", cert],
                       check=True, capture_output=True)
        os.chmod(key, 0o600)
        return cert, key


def make_cert(d, cn):
    key, cert = os.path.join(d, cn + ".key"), os.path.join(d, cn + ".pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                    "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-days", "30", "-subj", "/CN=" + cn, "-addext",
                    "subjectAltName=DNS:" + cn, "-keyout", key, "-out",
                    cert], check=True, capture_output=True)
    return cert, key


def tlsa_311(cert):
    """The data of a TLSA 3 1 1 record for the certificate file: the
    SHA-256 of its public key (SubjectPublicKeyInfo, DER)."""
    pub = subprocess.run(["openssl", "x509", "-in", cert, "-noout",
                          "-pubkey"], check=True, capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"],
                         input=pub, check=True, capture_output=True).stdout
    return hashlib.sha256(der).hexdigest()


# ---------------------------------------------------------------- SMTP

CAPS = (b"PIPELINING", b"8BITMIME", b"SIZE 10000000", b"DSN",
        b"SMTPUTF8", b"ENHANCEDSTATUSCODES")


class Script:
    """An option's value: the same each time, or a list taken one per
    use (per connection for greeting, drop and stall; per command for
    the replies), its last element repeated."""

    def __init__(self, value):
        self.value = value
        self.lock = threading.Lock()

    def next(self):
        if not isinstance(self.value, list):
            return self.value
        with self.lock:
            return self.value.pop(0) if len(self.value) > 1 \
                else self.value[0]


class Transaction:
    """One MAIL transaction as the server saw it: rcpts (address, reply)
    pairs, data (as on the wire, dot-stuffed, CRLF; None when the body
    did not end), dot (the reply to it), conn (its connection's
    number), tls."""

    def __init__(self, conn, mail, tls):
        self.conn, self.mail, self.tls = conn, mail, tls
        self.rcpts = []
        self.data = None
        self.dot = None

    def accepted(self):
        """The recipients taken (2xx to RCPT)."""
        return [a for a, r in self.rcpts if r[:1] == b"2"]

    def delivered(self):
        """The recipients this transaction delivered (2xx to RCPT and to
        the end of data)."""
        if self.data is None or not (self.dot or b"")[:1] == b"2":
            return []
        return self.accepted()

    def body(self):
        """The data without the dot-stuffing, with LF line ends."""
        if self.data is None:
            return None
        lines = self.data.split(b"\r\n")
        return b"\n".join(l[1:] if l.startswith(b".") else l
                          for l in lines)


class FakeServer:
    """A scripted receiving server on addr:port (a free port by
    default; addr IPv4 or IPv6), a thread per connection.  Options (each a Script value):
    greeting (bytes), ehlo (the reply, bytes) or caps, helo, mail, data,
    dot (replies), rcpt (a dict address -> reply or list of replies),
    stall (a verb after which it goes silent for stall_secs), drop
    (closes after this many body lines), tls (a (cert, key) pair for
    STARTTLS, which it then offers).

    Records: cmds (every command line), messages (every complete body,
    as on the wire), batches (pipelined groups), conns (connections
    accepted), transactions (Transaction objects)."""

    SCRIPTED = ("greeting", "ehlo", "helo", "mail", "data", "dot", "stall",
                "drop")

    def __init__(self, addr="127.0.0.1", port=0, **opts):
        self.opts = dict(opts)
        self.scripts = {k: Script(opts[k]) for k in self.SCRIPTED
                        if k in opts}
        self.rcpt_scripts = {a: Script(r) for a, r in
                             opts.get("rcpt", {}).items()}
        self.lock = threading.Lock()
        self.cmds = []
        self.messages = []
        self.conns = 0
        self.batches = []
        self.transactions = []
        self.threads = []
        self.socks = []
        self.sock = socket.socket(socket.AF_INET6 if ":" in addr
                                  else socket.AF_INET)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((addr, port))
        self.sock.listen(64)
        self.addr, self.port = addr, self.sock.getsockname()[1]
        self.stop = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def opt(self, key, default):
        s = self.scripts.get(key)
        if s is None:
            return default
        v = s.next()
        return default if v is None else v

    def close(self):
        self.stop = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)   # wakes accept()
        except OSError:
            pass
        self.sock.close()
        with self.lock:
            socks = list(self.socks)
        for c in socks:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.thread.join(10)
        for t in list(self.threads):
            t.join(10)

    def serve(self):
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.conns += 1
                n = self.conns
                self.socks.append(c)
            t = threading.Thread(target=self.run_session, args=(c, n),
                                 daemon=True)
            self.threads = [x for x in self.threads if x.is_alive()]
            self.threads.append(t)
            t.start()

    def run_session(self, c, n):
        s = Session(self, c, n)
        try:
            s.run()
        except (OSError, ValueError, ssl.SSLError):
            pass
        finally:
            s.close()
            with self.lock:
                if c in self.socks:
                    self.socks.remove(c)

    def record(self, what, value):
        with self.lock:
            getattr(self, what).append(value)

    # -- what the tests look at

    def delivered(self, rcpt=None):
        """The transactions that delivered (to rcpt when given)."""
        with self.lock:
            ts = list(self.transactions)
        return [t for t in ts if t.delivered() and
                (rcpt is None or rcpt in t.delivered())]

    def rcpt_tries(self, rcpt):
        with self.lock:
            return sum(1 for t in self.transactions for a, _ in t.rcpts
                       if a == rcpt)

    def verbs(self):
        with self.lock:
            return [c.split(b" ", 1)[0].upper() for c in self.cmds]


class Session:
    """One connection of a FakeServer."""

    def __init__(self, server, c, n):
        self.srv, self.o = server, server.opts
        self.c, self.n = c, n
        self.tls_on = False
        self.f = c.makefile("rb")
        self.txn = None
        self.stall = server.opt("stall", None)
        self.drop = server.opt("drop", -1)

    def close(self):
        # The file object holds the socket open: shut it down.
        try:
            self.c.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.f.close()
        self.c.close()

    def ehlo_reply(self):
        if "ehlo" in self.srv.scripts:
            return self.srv.opt("ehlo", b"")
        caps = list(self.o.get("caps", CAPS))
        if "tls" in self.o and not self.tls_on:
            caps.append(b"STARTTLS")
        lines = [b"fake.example.test"] + caps
        return b"".join(b"250-" + l + b"\r\n" for l in lines[:-1]) + \
            b"250 " + lines[-1] + b"\r\n"

    def pipelining(self):
        if "ehlo" in self.srv.scripts:
            return False
        return b"PIPELINING" in self.o.get("caps", CAPS)

    def reply(self, cmd):
        srv = self.srv
        verb = cmd.split(b" ", 1)[0].upper()
        if verb == b"EHLO":
            return self.ehlo_reply()
        if verb == b"MAIL":
            r = srv.opt("mail", b"250 2.1.0 ok\r\n")
            self.txn = Transaction(self.n, cmd, self.tls_on)
            if r[:1] == b"2":
                srv.record("transactions", self.txn)
            else:
                self.txn = None
            return r
        if verb == b"RCPT":
            addr = cmd[cmd.find(b"<") + 1:cmd.find(b">")].decode()
            s = srv.rcpt_scripts.get(addr)
            r = s.next() if s is not None else b"250 2.1.5 ok\r\n"
            if self.txn is not None:
                self.txn.rcpts.append((addr, r))
            return r
        if verb == b"DATA":
            if "data" not in srv.scripts and \
                    (self.txn is None or not self.txn.accepted()):
                # As real servers do (RFC 2920 3.1): no DATA without a
                # recipient.
                return b"554 5.5.1 no valid recipients\r\n"
            return srv.opt("data", b"354 go\r\n")
        if verb == b"RSET":
            self.txn = None
            return b"250 ok\r\n"
        replies = {b"HELO": srv.opt("helo", b"250 fake\r\n"),
                   b"QUIT": b"221 bye\r\n", b"NOOP": b"250 ok\r\n",
                   b"STARTTLS": b"220 go ahead\r\n"}
        return replies.get(verb, b"500 5.5.1 what\r\n")

    def readline(self):
        line = self.f.readline(100000)
        if not line:
            raise ValueError("eof")
        cmd = line.rstrip(b"\r\n")
        self.srv.record("cmds", cmd)
        return cmd

    def body(self):
        lines = []
        while True:
            line = self.f.readline(100000)
            if not line:
                raise ValueError("eof in data")
            if line == b".\r\n":
                break
            lines.append(line)
            if len(lines) == self.drop:
                raise ValueError("dropped")
        data = b"".join(lines)
        dot = self.srv.opt("dot", b"250 2.0.0 queued\r\n")
        if self.txn is not None:
            self.txn.data, self.txn.dot = data, dot.rstrip(b"\r\n")
            self.txn = None
        self.srv.record("messages", data)
        self.c.sendall(dot)

    def batch(self, cmd):
        """With PIPELINING, MAIL's reply waits for the DATA after it (or
        30 s): the client must send the group without waiting."""
        group = [cmd]
        self.c.settimeout(30)
        try:
            while group[-1].split(b" ", 1)[0].upper() != b"DATA":
                group.append(self.readline())
        except (socket.timeout, ValueError):
            pass
        self.c.settimeout(None)
        self.srv.record("batches", group)
        return group

    def run(self):
        self.c.sendall(self.srv.opt("greeting",
                                    b"220 fake.example.test\r\n"))
        while True:
            cmd = self.readline()
            verb = cmd.split(b" ", 1)[0].upper()
            if self.stall is not None and verb == self.stall:
                end = time.monotonic() + self.o.get("stall_secs", 8)
                while time.monotonic() < end and not self.srv.stop:
                    time.sleep(0.1)
                return
            group = self.batch(cmd) if verb == b"MAIL" and \
                self.pipelining() else [cmd]
            for g in group:
                r = self.reply(g)
                self.c.sendall(r)
            last = group[-1].split(b" ", 1)[0].upper()
            if last == b"QUIT":
                return
            if last == b"DATA" and r.startswith(b"354"):
                self.body()
            if last == b"STARTTLS":
                self.starttls()

    def starttls(self):
        if "tls" not in self.o:
            # Offered by a script without a certificate: the handshake
            # fails as the client starts it.
            raise ValueError("no certificate for STARTTLS")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*self.o["tls"])
        self.c = ctx.wrap_socket(self.c, server_side=True)
        self.tls_on = True
        self.f = self.c.makefile("rb")


class CountingSink:
    """A fast receiving server for volume (asyncio, in a thread of its
    own): 250 to everything, PIPELINING, nothing kept; counts
    connections, messages and recipients (by domain) and notes the
    time.monotonic() of the last 250 to a message."""

    EHLO = (b"250-sink.example\r\n250-PIPELINING\r\n250-8BITMIME\r\n"
            b"250 SIZE 100000000\r\n")

    def __init__(self, addr="127.0.0.1", port=0):
        import asyncio
        self.asyncio = asyncio
        self.conns = self.messages = self.rcpts = 0
        self.by_domain = {}
        self.t_last = None
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.addr, self.port = addr, port
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        if not self.ready.wait(30):
            raise RuntimeError("the sink did not start")

    def _run(self):
        a = self.asyncio
        a.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(a.start_server(
            self._session, self.addr, self.port, backlog=256,
            reuse_address=True))
        self.port = self.server.sockets[0].getsockname()[1]
        self.ready.set()
        self.loop.run_forever()

    async def _session(self, r, w):
        self.conns += 1
        w.write(b"220 sink.example ESMTP\r\n")
        rcpts = []
        try:
            while True:
                line = await r.readline()
                if not line:
                    break
                verb = line[:4].upper()
                if verb == b"EHLO":
                    w.write(self.EHLO)
                elif verb == b"RCPT":
                    rcpts.append(line[line.find(b"@") + 1:
                                      line.rfind(b">")].lower())
                    w.write(b"250 2.1.5 ok\r\n")
                elif verb == b"DATA":
                    w.write(b"354 go\r\n")
                    while True:
                        d = await r.readline()
                        if not d or d == b".\r\n":
                            break
                    if not d:
                        break
                    self._count(rcpts)
                    rcpts = []
                    w.write(b"250 2.0.0 ok\r\n")
                elif verb == b"QUIT":
                    w.write(b"221 bye\r\n")
                    break
                else:           # MAIL, RSET, NOOP, HELO
                    if verb in (b"MAIL", b"RSET"):
                        rcpts = []
                    w.write(b"250 ok\r\n")
                await w.drain()
            await w.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            w.close()

    def _count(self, rcpts):
        self.messages += 1
        self.rcpts += len(rcpts)
        for d in rcpts:
            self.by_domain[d] = self.by_domain.get(d, 0) + 1
        self.t_last = time.monotonic()

    def close(self):
        def stop():
            self.server.close()
            self.loop.stop()
        self.loop.call_soon_threadsafe(stop)
        self.thread.join(10)


# ---------------------------------------------------------------- Postfix

def bench_module():
    """bench/bench.py (its Postfix runner), imported."""
    d = os.path.join(REPO, "bench")
    if d not in sys.path:
        sys.path.insert(0, d)
    import bench
    return bench


# What a peer changes in bench.POSTFIX_MAIN: its own domain, a relayhost
# for the rest, STARTTLS when offered.  Its address is in master.cf
# (inet_interfaces takes only addresses configured on an interface: not
# 127.0.0.x other than 127.0.0.1).
PEER_MAIN = {
    "myhostname": "mx.{domain}",
    "relayhost": "{relayhost}",
    "default_transport": "smtp",
    "relay_transport": "relay",
    "smtp_tls_security_level": "may",
}


def override_main(text, settings):
    """main.cf text with each "key = value" of settings replacing the
    line of that key, or appended."""
    lines = text.splitlines()
    for key, value in settings.items():
        line = "%s = %s" % (key, value)
        for i, l in enumerate(lines):
            if l.split("=", 1)[0].strip() == key:
                lines[i] = line
                break
        else:
            lines.append(line)
    return "\n".join(lines) + "\n"


PEER_MASTER_EXTRA = """\
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
"""


def postfix_peer_class():
    """bench.Postfix made a peer: receiving for domain on addr:port,
    sending what is not its own through relayhost ("[127.0.0.1]:N")."""
    bench = bench_module()

    class PostfixPeer(bench.Postfix):
        name = "postfix-peer"

        def __init__(self, addr, domain, relayhost="", port=25,
                     extra_main=None):
            self.addr, self.domain = addr, domain
            self.relayhost = relayhost
            self.extra_main = dict(extra_main or {})
            self.listen_port = port

        def main_cf(self):
            base = bench.POSTFIX_MAIN.format(root=self.root,
                                             domain=self.domain)
            settings = {k: v.format(addr=self.addr, domain=self.domain,
                                    relayhost=self.relayhost)
                        for k, v in PEER_MAIN.items()}
            settings.update(self.extra_main)
            return override_main(base, settings)

        def master_cf(self):
            return (bench.POSTFIX_MASTER.replace(
                "127.0.0.1:{port}", "%s:%d" % (self.addr, self.listen_port))
                + PEER_MASTER_EXTRA)

        def free_port(self):
            return self.listen_port

        def mail_domain(self):
            return self.domain

        def queue(self):
            r = subprocess.run(["postqueue", "-c", self.conf, "-p"],
                               capture_output=True, text=True, timeout=60)
            return r.stdout

    return PostfixPeer


def have_postfix():
    return shutil.which("postfix") is not None


# ---------------------------------------------------------------- checks

def _sources_mention(pattern, exclude=()):
    import glob
    import re
    rx = re.compile(pattern)
    for path in glob.glob(os.path.join(REPO, "queued", "*.c")):
        if os.path.basename(path).startswith(tuple(exclude)):
            continue
        with open(path, errors="replace") as f:
            if rx.search(f.read()):
                return True
    return False


def relay_missing():
    """Why the relay cannot be tested end to end here, or None: the
    queue manager must hand envelopes to a relay process
    (MSG_QUEUE_RELAY_START sent by a file of queued/) and the
    configuration must know "relay to" (parse.y)."""
    if not _sources_mention(r"MSG_QUEUE_RELAY_START"):
        return "no relay yet: nothing in queued/ sends MSG_QUEUE_RELAY_START"
    with open(os.path.join(REPO, "common", "parse.y")) as f:
        if '"secrets"' not in f.read():
            return "no relay yet: the configuration has no \"secrets\""
    return None


def dane_missing():
    """Why DANE cannot be tested, or None: a relay file other than the
    resolver's must use TLSA records."""
    if relay_missing():
        return relay_missing()
    if not _sources_mention(r"(?i)dane", exclude=("relay_dns",)):
        return "no DANE in the relay yet"
    return None


def check_config(s):
    """Fails when the suite's configuration does not parse (queued -n):
    with the relay built, its statements must be known."""
    r = subprocess.run([s.binary("queued"), "-n", "-f", s.conf],
                       capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise AssertionError("queued -n -f %s: %s%s"
                             % (s.conf, r.stdout, r.stderr))


# ---------------------------------------------------------------- mail

TRACE = (b"return-path:", b"delivered-to:", b"received:",
         b"x-original-to:")


def strip_trace(data):
    """A delivered file without the trace headers on its top (the
    Return-Path, Delivered-To and Received lines the hops added), LF
    line ends."""
    data = data.replace(b"\r\n", b"\n")
    lines = data.split(b"\n")
    i = 0
    while i < len(lines) and lines[i].lower().startswith(TRACE):
        i += 1
        while i < len(lines) and lines[i][:1] in (b" ", b"\t"):
            i += 1
    return b"\n".join(lines[i:])


def maildir_files(new_dir):
    try:
        return sorted(os.path.join(new_dir, f) for f in os.listdir(new_dir))
    except FileNotFoundError:
        return []


def mails_with(new_dir, *needles):
    """The contents of the files in a Maildir's new/ holding every
    needle (bytes)."""
    out = []
    for p in maildir_files(new_dir):
        try:
            with open(p, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            continue
        if all(n in data for n in needles):
            out.append(data)
    return out
