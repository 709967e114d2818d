# Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
"""Helpers shared by the hostile-peer tests (stdlib only).

Raw TLS connections that speak HTTP/1.1 by hand (so a test can send exactly
the bytes it wants, pipelined or cut short), process memory and descriptor
probes from /proc, and the file-descriptor limit of the test process.
"""

import base64
import hashlib
import json
import os
import resource
import select
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "harness"))

import peterah  # noqa: E402  (after the path change)

VECTORS = HERE.parent / "vectors"


# ---------------------------------------------------------------------------
# Process state.

def raise_nofile_limit():
    """Soft RLIMIT_NOFILE up to the hard limit; returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def rss_kib(pid):
    """VmRSS of a process in KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS for pid %d" % pid)


def cpu_seconds(pid):
    """User plus system CPU time a process has used, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        # Fields after the parenthesised command name; utime and stime are
        # fields 14 and 15 of the whole line.
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def fd_count(pid):
    """Open descriptors of a process, or None when /proc does not show them
    (peterad clears its dumpable flag: only root can list its fds)."""
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except PermissionError:
        return None


def nofile_limits(pid):
    """(soft, hard) 'Max open files' of a process, from /proc/PID/limits."""
    with open("/proc/%d/limits" % pid) as f:
        for line in f:
            if line.startswith("Max open files"):
                fields = line.split()
                return int(fields[3]), int(fields[4])
    raise RuntimeError("no open-files limit for pid %d" % pid)


def under_asan():
    return "ASAN_OPTIONS" in os.environ


def server_env():
    """Environment additions for a server whose memory a test measures: under
    AddressSanitizer, a small quarantine, so that freed memory is reused
    soon and RSS reflects what the server holds, not what ASan keeps back."""
    if not under_asan():
        return None
    options = os.environ["ASAN_OPTIONS"]
    return {"ASAN_OPTIONS": options + (":" if options else "") +
            "quarantine_size_mb=1:thread_local_quarantine_size_kb=64"}


# ---------------------------------------------------------------------------
# Keys and vectors.

def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def kid_of_pem(path):
    """base64url(SHA-256(DER SubjectPublicKeyInfo)) of the first certificate
    in `path`, computed with the openssl CLI, independently of Petera."""
    pub = subprocess.run(["openssl", "x509", "-pubkey", "-noout", "-in", str(path)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         check=True, timeout=30).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"],
                         input=pub, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         check=True, timeout=30).stdout
    return b64url(hashlib.sha256(der).digest())


def ecpoint_vectors(curve_bits):
    """The Wycheproof ECDH ecpoint tests of secp{256,384,521}r1."""
    path = VECTORS / ("ecdh_secp%dr1_ecpoint_test.json" % curve_bits)
    with open(path) as f:
        data = json.load(f)
    return [t for group in data["testGroups"] for t in group["tests"]]


def recover_body(kid, point):
    return json.dumps({"kid": kid, "x": b64url(point)}).encode()


# ---------------------------------------------------------------------------
# Raw HTTP/1.1 over TLS.

def insecure_context():
    """No verification: these tests attack the server, they do not test trust."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


_CTX = None


def context():
    global _CTX
    if _CTX is None:
        _CTX = insecure_context()
    return _CTX


def http_request(method, path, body=b"", content_type="application/json",
                 extra_headers=(), close=False):
    """Bytes of one HTTP/1.1 request."""
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: 127.0.0.1"]
    if body or method == "POST":
        lines.append("Content-Type: %s" % content_type)
        lines.append("Content-Length: %d" % len(body))
    if close:
        lines.append("Connection: close")
    lines.extend(extra_headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class HttpResponse:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body.decode())

    def __repr__(self):
        return "HttpResponse(%d, %r)" % (self.status, self.body[:120])


class Closed(Exception):
    """The server closed the connection before a complete response."""


class TlsConn:
    """One TLS connection to 127.0.0.1:port speaking HTTP/1.1 by hand."""

    def __init__(self, port, timeout=10.0):
        raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        try:
            self.sock = context().wrap_socket(raw, server_hostname="127.0.0.1")
        except BaseException:
            raw.close()
            raise
        self.buf = b""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def send(self, data):
        """Sends everything; False when the server closed the connection."""
        try:
            self.sock.sendall(data)
            return True
        except (OSError, ssl.SSLError):
            return False

    def _recv(self):
        try:
            return self.sock.recv(65536)
        except (ssl.SSLEOFError, ssl.SSLZeroReturnError, ConnectionError):
            return b""

    def read_response(self):
        """The next response; raises Closed if the connection ends first, and
        socket.timeout if nothing complete arrives within the timeout."""
        while b"\r\n\r\n" not in self.buf:
            chunk = self._recv()
            if not chunk:
                raise Closed("closed after %d bytes of header" % len(self.buf))
            self.buf += chunk
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(rest) < length:
            chunk = self._recv()
            if not chunk:
                raise Closed("closed inside a body")
            rest += chunk
        self.buf = rest[length:]
        return HttpResponse(status, headers, rest[:length])

    def exchange(self, data):
        self.sock.sendall(data)
        return self.read_response()

    def closed_within(self, seconds):
        """True when the server closes the connection (EOF, reset or TLS
        close) within `seconds`; data received meanwhile is discarded."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.sock.settimeout(left)
            try:
                if not self._recv():
                    return True
            except socket.timeout:
                return False


def plain_closed_within(sock, seconds):
    """Same as TlsConn.closed_within for a plain TCP socket."""
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        readable, _, _ = select.select([sock], [], [], left)
        if not readable:
            return False
        try:
            if not sock.recv(65536):
                return True
        except ConnectionError:
            return True


def send_and_collect(port, data, seconds=5.0):
    """Opens a TLS connection, sends `data` (stopping early if the server
    closes), then reads until the server closes or `seconds` pass. Returns
    (list of HttpResponse, closed)."""
    responses = []
    with TlsConn(port, timeout=seconds) as conn:
        conn.send(data)
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return responses, False
            conn.sock.settimeout(left)
            try:
                responses.append(conn.read_response())
            except Closed:
                return responses, True
            except socket.timeout:
                return responses, False


def client_hello():
    """The bytes of a real TLS ClientHello (TLS records, as sent)."""
    ctx = insecure_context()
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname="127.0.0.1")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def health_latency(port, ctx=None, timeout=5.0):
    """(status, seconds) of GET /v1/health over a fresh TLS connection."""
    start = time.monotonic()
    resp = peterah.https_request(port, "GET", "/v1/health", timeout=timeout,
                                 context=ctx or context())
    return resp.status, time.monotonic() - start
