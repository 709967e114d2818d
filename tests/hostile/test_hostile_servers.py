# Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
"""Hostile servers against the real petera client.

A Python TLS server holding a certificate the anchor trusts (s1's TLS
chain, valid for 127.0.0.1) answers POST /v1/recover with lies, garbage,
floods, trickles and broken connections. For each, `petera --timeout 3
ANCHOR decrypt 127.0.0.1:HOSTILE` must fail with a non-zero exit and a
message naming the server and what went wrong, within its timeout plus a
margin, with bounded memory and nothing on stdout; and `decrypt
127.0.0.1:HOSTILE 127.0.0.1:LIVE` (LIVE a real peterad with s1's keys) must
still succeed with the exact plaintext. Loopback only; every loop of the
hostile server is bounded in bytes and in time.
"""

import base64
import json
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hostile_util import peterah, raise_nofile_limit, under_asan  # noqa: E402

TIMEOUT = 3                 # petera --timeout
MARGIN = 5.0                # process start and exit, under sanitizers too
# Peak RSS of one petera run. Under ASan, shadow memory and the allocator's
# quarantine add a fixed cost of a few hundred MiB, so the bound is scaled.
MAXRSS_MIB = 256 if under_asan() else 64
HUGE_LENGTH = 100_000_000   # announced by the "huge" server
HUGE_CAP = 100_000_000      # bytes it will actually stream at most
SERVER_SECONDS = 20         # any hostile connection ends after this


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# ---------------------------------------------------------------------------
# The hostile server.

class HostileServer:
    """A TLS server on 127.0.0.1 answering every POST /v1/recover in the way
    its `mode` names. Counts the HTTP requests it received."""

    def __init__(self, mode, certfile, chain_pem=b""):
        self.mode = mode
        self.chain_pem = chain_pem  # what GET /v1/chain answers, per mode
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(str(certfile))
        self.ctx.set_alpn_protocols(["http/1.1"])
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.requests = 0
        self.connections = 0
        self.stop_event = threading.Event()
        self.threads = []
        self.acceptor = threading.Thread(target=self._accept_loop, daemon=True)

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def __enter__(self):
        self.acceptor.start()
        return self

    def __exit__(self, *exc):
        self.stop_event.set()
        self.acceptor.join(timeout=5)
        for t in self.threads:
            t.join(timeout=SERVER_SECONDS + 5)
        self.listener.close()
        return False

    def _accept_loop(self):
        while not self.stop_event.is_set():
            try:
                conn, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.connections += 1
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self.threads.append(t)
            t.start()

    def _serve(self, raw):
        deadline = time.monotonic() + SERVER_SECONDS
        raw.settimeout(SERVER_SECONDS)
        try:
            if self.mode == "no_tls":
                # Accepts TCP and never says a word.
                while not self.stop_event.is_set() and time.monotonic() < deadline:
                    time.sleep(0.1)
                return
            try:
                tls = self.ctx.wrap_socket(raw, server_side=True)
            except (ssl.SSLError, OSError):
                return
            buf = b""
            while time.monotonic() < deadline and not self.stop_event.is_set():
                request, buf = self._read_request(tls, buf)
                if request is None:
                    return
                self.requests += 1
                if not self._answer(tls, request, deadline):
                    return
        except (OSError, ssl.SSLError):
            pass
        finally:
            try:
                raw.close()
            except OSError:
                pass

    @staticmethod
    def _read_request(tls, buf):
        while b"\r\n\r\n" not in buf:
            chunk = tls.recv(65536)
            if not chunk or len(buf) > 65536:
                return None, b""
            buf += chunk
        head, _, rest = buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path = lines[0].split()[:2]
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        if length > 65536:
            return None, b""
        while len(rest) < length:
            chunk = tls.recv(65536)
            if not chunk:
                return None, b""
            rest += chunk
        return (method, path, rest[:length]), rest[length:]

    @staticmethod
    def _send(tls, status, body, content_type="application/json", extra=""):
        head = ("HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s\r\n" %
                (status, content_type, len(body), extra)).encode()
        tls.sendall(head + body)

    def _answer(self, tls, request, deadline):
        """Answers one request; False to end the connection."""
        method, path, body = request
        if path == "/v1/chain":
            return self._answer_chain(tls, deadline)
        if path != "/v1/recover":
            self._send(tls, "404 Not Found", b'{"error":"not_found"}')
            return True
        x = b64url_decode(json.loads(body)["x"])
        return self._answer_recover(tls, x, deadline)

    def _answer_chain(self, tls, deadline):
        """GET /v1/chain, for `petera fetch` and online `encrypt`."""
        mode = self.mode
        pem_type = "application/pem-certificate-chain"
        if mode == "huge":
            tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: %s\r\n"
                        b"Content-Length: %d\r\n\r\n-----BEGIN CERTIFICATE-----\n" %
                        (pem_type.encode(), HUGE_LENGTH))
            line = b"A" * 64 + b"\n"
            sent = 0
            while sent < HUGE_CAP and time.monotonic() < deadline:
                tls.sendall(line * 1024)
                sent += 1024 * len(line)
            return False
        if mode == "trickle":
            tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: %s\r\n"
                        b"Content-Length: %d\r\n\r\n" % (pem_type.encode(), len(self.chain_pem)))
            for i in range(min(len(self.chain_pem), SERVER_SECONDS)):
                if self.stop_event.is_set() or time.monotonic() > deadline:
                    break
                tls.sendall(self.chain_pem[i:i + 1])
                time.sleep(1.0)
            return False
        if mode == "closed_mid_answer":
            tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: %s\r\n"
                        b"Content-Length: %d\r\n\r\n" % (pem_type.encode(), len(self.chain_pem)) +
                        self.chain_pem[:len(self.chain_pem) // 2])
            time.sleep(0.1)
            return False
        # Otherwise: the configured chain (garbage, untrusted, expired...).
        self._send(tls, "200 OK", self.chain_pem, content_type=pem_type)
        return True

    def _answer_recover(self, tls, x, deadline):
        mode = self.mode
        if mode == "huge":
            tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        b"Content-Length: %d\r\n\r\n{\"y\":\"" % HUGE_LENGTH)
            block = b"A" * 65536
            sent = 0
            while sent < HUGE_CAP and time.monotonic() < deadline:
                tls.sendall(block)
                sent += len(block)
            return False
        if mode == "huge_chunked":
            tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        b"Transfer-Encoding: chunked\r\n\r\n")
            chunk = b"10000\r\n" + b"A" * 65536 + b"\r\n"
            sent = 0
            while sent < HUGE_CAP and time.monotonic() < deadline:
                tls.sendall(chunk)
                sent += 65536
            return False
        if mode == "huge_header":
            tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
            line = b"X-Flood: " + b"f" * 1000 + b"\r\n"
            sent = 0
            while sent < HUGE_CAP and time.monotonic() < deadline:
                tls.sendall(line * 64)
                sent += 64 * len(line)
            return False
        if mode == "malformed_json":
            self._send(tls, "200 OK", b'{"y": "AAAA", [}}')
            return True
        if mode == "off_curve":
            y = bytearray(x)
            y[-1] ^= 0x01  # flip a bit of the y coordinate: no longer on the curve
            self._send(tls, "200 OK", json.dumps({"y": b64url(bytes(y))}).encode())
            return True
        if mode == "echo":
            # A valid point of the right curve, but not s*X.
            self._send(tls, "200 OK", json.dumps({"y": b64url(x)}).encode())
            return True
        if mode == "trickle":
            body = json.dumps({"y": b64url(x)}).encode()
            tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        b"Content-Length: %d\r\n\r\n" % len(body))
            for i in range(min(len(body), SERVER_SECONDS)):
                if self.stop_event.is_set() or time.monotonic() > deadline:
                    break
                tls.sendall(body[i:i + 1])
                time.sleep(1.0)
            return False
        if mode == "trickle_header":
            head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            for i in range(min(len(head), SERVER_SECONDS)):
                if self.stop_event.is_set() or time.monotonic() > deadline:
                    break
                tls.sendall(head[i:i + 1])
                time.sleep(1.0)
            return False
        if mode == "silent":
            while not self.stop_event.is_set() and time.monotonic() < deadline:
                time.sleep(0.1)
            return False
        if mode == "closed_mid_answer":
            body = json.dumps({"y": b64url(x)}).encode()
            tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        b"Content-Length: %d\r\n\r\n" % len(body) + body[:len(body) // 3])
            time.sleep(0.1)
            return False  # closes the TCP connection without a TLS close_notify
        if mode == "not_http":
            tls.sendall(b"\x00\x01\x02 this is not HTTP at all \xff\xfe\r\n\r\n")
            return False
        if mode == "server_error":
            self._send(tls, "500 Internal Server Error", b'{"error":"internal"}')
            return True
        if mode == "wrong_length_y":
            self._send(tls, "200 OK", json.dumps({"y": b64url(x + b"\x00")}).encode())
            return True
        if mode == "wrongname":
            # The client must not get this far: it checks the name first.
            self._send(tls, "200 OK", json.dumps({"y": b64url(x)}).encode())
            return True
        raise ValueError("unknown mode " + mode)


# ---------------------------------------------------------------------------
# Running the client with its resource usage.

class Run:
    def __init__(self, code, stdout, stderr, elapsed, maxrss_kib, killed):
        self.code = code
        self.stdout = stdout
        self.stderr = stderr.decode(errors="replace")
        self.elapsed = elapsed
        self.maxrss_kib = maxrss_kib
        self.killed = killed

    def __repr__(self):
        return ("Run(code=%r, %.2f s, maxrss %d KiB, stdout %d bytes, stderr %r)" %
                (self.code, self.elapsed, self.maxrss_kib, len(self.stdout), self.stderr))


GNU_TIME = "/usr/bin/time"


def run_measured(args, stdin_path, limit):
    """Runs petera and measures its peak RSS; kills it after `limit` seconds.

    ru_maxrss of a child counts the memory it had before exec, that is the
    test process's own RSS at the fork. With GNU time (Debian package
    "time") petera is forked from that small process instead, which gives
    petera's own peak; without it, os.wait4's figure is used as an upper
    bound (petera's peak or this process's RSS, whichever is larger)."""
    use_time = os.access(GNU_TIME, os.X_OK)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile() as rss_file, open(stdin_path, "rb") as stdin:
        command = [peterah.petera_bin()] + [str(a) for a in args]
        if use_time:
            command = [GNU_TIME, "-f", "%M", "-o", rss_file.name] + command
        start = time.monotonic()
        proc = subprocess.Popen(command, stdin=stdin, stdout=out, stderr=err,
                                env=peterah._child_env(), start_new_session=True)
        killed = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - start > limit:
                os.killpg(proc.pid, 9)
                killed = True
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.01)
        elapsed = time.monotonic() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        maxrss = usage.ru_maxrss
        if use_time and not killed:
            text = Path(rss_file.name).read_text().strip().splitlines()
            maxrss = int(text[-1])
        out.seek(0)
        err.seek(0)
        return Run(proc.returncode, out.read(), err.read(), elapsed, maxrss, killed)


# ---------------------------------------------------------------------------

# mode -> (exit codes accepted, pattern the message must match, case-insensitive)
# Exit codes: 3 trust, 4 network (unreachable, timed out, cut off),
# 5 protocol (the server answered wrongly).
MODES = {
    "huge": ({5}, r"too large|too long|limit|exceed"),
    "huge_chunked": ({5}, r"too large|too long|limit|exceed"),
    "huge_header": ({5}, r"too large|too long|limit|exceed|header"),
    "malformed_json": ({5}, r"json|pars|malformed|invalid"),
    "off_curve": ({5}, r"curve|point|invalid"),
    # A valid point that is not s*X makes the key unwrap fail, which the client
    # cannot tell apart from a corrupted wrapped key in the envelope: 5 or 6,
    # as long as the message names the server.
    "echo": ({5, 6}, r"wrong|unwrap|invalid|not decrypt|integrity|authentic|mismatch"),
    "trickle": ({4}, r"tim(e|ed) ?out|deadline"),
    "trickle_header": ({4}, r"tim(e|ed) ?out|deadline"),
    "silent": ({4}, r"tim(e|ed) ?out|deadline"),
    "no_tls": ({4}, r"tim(e|ed) ?out|deadline"),
    "closed_mid_answer": ({4, 5}, r"clos|truncat|short|end of (stream|file)|eof|reset"),
    "not_http": ({5}, r"http|pars|bad|invalid|version|status"),
    "server_error": ({5}, r"500|internal|status|refus"),
    "wrong_length_y": ({5}, r"length|point|invalid|size"),
    "wrongname": ({3}, r"name|127\.0\.0\.1.*(match|cert)|subjectaltname|hostname|not valid for"),
}


class HostileServerTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        raise_nofile_limit()
        cls.pki = peterah.make_pki()
        cls.anchor = cls.pki / "anchor.pem"
        cls.tmp = peterah.temp_dir("petera-hostile-")
        cls.plaintext = os.urandom(48) + b"\nthe secret, exactly\x00\xff\n"
        cls.envelope = cls.tmp / "secret.jwe"
        proc = peterah.run_petera([cls.anchor, "encrypt", cls.pki / "s1" / "encrypt-ec.pem"],
                                  cls.plaintext, timeout=60)
        if proc.returncode != 0:
            raise RuntimeError("petera encrypt failed: %s" % proc.stderr.decode(errors="replace"))
        cls.envelope.write_bytes(proc.stdout)
        files = peterah.server_files(cls.pki, "s1", "ec")
        cls.live = peterah.Server(files["tls"], files["encrypt"], files["decrypt_dir"]).start()

    @classmethod
    def tearDownClass(cls):
        code = cls.live.stop()
        log = cls.live.log
        if code != 0 or "Sanitizer" in log or "runtime error:" in log:
            raise AssertionError("the live peterad did not stop cleanly (%r):\n%s" %
                                 (code, log[-4000:]))

    def certfile(self, mode):
        if mode == "wrongname":
            return self.pki / "bad" / "tls-wrongname.pem"
        return self.pki / "s1" / "tls.pem"

    def check_mode(self, mode):
        codes, pattern = MODES[mode]
        limit = TIMEOUT + MARGIN
        with HostileServer(mode, self.certfile(mode)) as hostile:
            # Alone: a clean, bounded failure naming the server.
            run = run_measured(["--timeout", TIMEOUT, self.anchor, "decrypt", hostile.address],
                               self.envelope, limit + 10)
            if os.environ.get("HOSTILE_VERBOSE"):
                sys.stderr.write("\n%s: %r\n" % (mode, run))
            self.assertFalse(run.killed, "%s: petera did not stop by itself: %r" % (mode, run))
            self.assertIn(run.code, codes, "%s: %r" % (mode, run))
            self.assertEqual(run.stdout, b"", "%s: wrote to stdout" % mode)
            self.assertIn(hostile.address, run.stderr, "%s: server not named" % mode)
            self.assertRegex(run.stderr.lower(), pattern, "%s: %r" % (mode, run))
            self.assertLess(run.elapsed, limit, "%s: %r" % (mode, run))
            self.assertLess(run.maxrss_kib, MAXRSS_MIB * 1024, "%s: %r" % (mode, run))
            self.assertNotIn(self.plaintext[:16].hex(), run.stderr)
            if mode == "wrongname":
                self.assertEqual(hostile.requests, 0,
                                 "petera sent a request to a server it does not trust")
            elif mode != "no_tls":
                self.assertGreater(hostile.requests, 0, "%s: the attack never ran" % mode)

            # Beside a live server: the live one's answer wins.
            run = run_measured(["--timeout", TIMEOUT, self.anchor, "decrypt",
                                hostile.address, self.live.address],
                               self.envelope, limit + 10)
            if os.environ.get("HOSTILE_VERBOSE"):
                sys.stderr.write("%s + live: %r\n" % (mode, run))
            self.assertFalse(run.killed, "%s + live: petera hung: %r" % (mode, run))
            self.assertEqual(run.code, 0, "%s + live: %r" % (mode, run))
            self.assertEqual(run.stdout, self.plaintext, "%s + live: wrong plaintext" % mode)
            self.assertLess(run.elapsed, limit, "%s + live: %r" % (mode, run))
            self.assertLess(run.maxrss_kib, MAXRSS_MIB * 1024, "%s + live: %r" % (mode, run))
        self.assertTrue(self.live.alive)

    def test_huge_body(self):
        self.check_mode("huge")

    def test_huge_chunked_body(self):
        self.check_mode("huge_chunked")

    def test_endless_header(self):
        self.check_mode("huge_header")

    def test_malformed_json(self):
        self.check_mode("malformed_json")

    def test_point_off_the_curve(self):
        self.check_mode("off_curve")

    def test_valid_but_wrong_point(self):
        self.check_mode("echo")

    def test_y_of_wrong_length(self):
        self.check_mode("wrong_length_y")

    def test_body_trickles_one_byte_per_second(self):
        self.check_mode("trickle")

    def test_header_trickles_one_byte_per_second(self):
        self.check_mode("trickle_header")

    def test_silent_after_request(self):
        self.check_mode("silent")

    def test_silent_tcp_no_tls(self):
        self.check_mode("no_tls")

    def test_connection_closed_mid_answer(self):
        self.check_mode("closed_mid_answer")

    def test_not_http(self):
        self.check_mode("not_http")

    def test_server_error_status(self):
        self.check_mode("server_error")

    def test_certificate_for_another_name(self):
        self.check_mode("wrongname")

    def test_hostile_live_order_does_not_matter(self):
        """The live server first and a lying one second: same plaintext."""
        with HostileServer("echo", self.certfile("echo")) as hostile:
            run = run_measured(["--timeout", TIMEOUT, self.anchor, "decrypt",
                                self.live.address, hostile.address],
                               self.envelope, TIMEOUT + MARGIN + 10)
            self.assertEqual(run.code, 0, repr(run))
            self.assertEqual(run.stdout, self.plaintext)


class HostileChainTest(unittest.TestCase):
    """Online encryption to a hostile server: `petera encrypt HOST` must fail,
    writing nothing, when the server's chain answer is flooded, trickled,
    cut, garbage, or a chain the anchor does not accept."""

    @classmethod
    def setUpClass(cls):
        cls.pki = peterah.make_pki()
        cls.anchor = cls.pki / "anchor.pem"
        cls.tmp = peterah.temp_dir("petera-hostile-chain-")
        cls.secret = cls.tmp / "secret"
        cls.secret.write_bytes(b"a secret that must not be encrypted to a hostile server\n")
        cls.good_chain = (cls.pki / "s1" / "encrypt-ec.pem").read_bytes()

    def check(self, mode, chain_pem, codes, pattern):
        limit = TIMEOUT + MARGIN
        with HostileServer(mode, self.pki / "s1" / "tls.pem", chain_pem) as hostile:
            run = run_measured(["--timeout", TIMEOUT, self.anchor, "encrypt", hostile.address],
                               self.secret, limit + 10)
            if os.environ.get("HOSTILE_VERBOSE"):
                sys.stderr.write("\nchain %s: %r\n" % (mode, run))
            self.assertFalse(run.killed, "%s: petera did not stop by itself: %r" % (mode, run))
            self.assertIn(run.code, codes, "%s: %r" % (mode, run))
            self.assertEqual(run.stdout, b"", "%s: wrote an envelope" % mode)
            self.assertIn(hostile.address, run.stderr, "%s: server not named" % mode)
            self.assertRegex(run.stderr.lower(), pattern, "%s: %r" % (mode, run))
            self.assertLess(run.elapsed, limit, "%s: %r" % (mode, run))
            self.assertLess(run.maxrss_kib, MAXRSS_MIB * 1024, "%s: %r" % (mode, run))
            self.assertGreater(hostile.requests, 0, "%s: the attack never ran" % mode)

    def test_huge_chain(self):
        self.check("huge", b"", {5}, r"too large|too long|limit|exceed")

    def test_chain_trickles(self):
        self.check("trickle", self.good_chain, {4}, r"tim(e|ed) ?out|deadline")

    def test_chain_cut_short(self):
        self.check("closed_mid_answer", self.good_chain, {4, 5},
                   r"clos|truncat|short|end of (stream|file)|eof|reset")

    def test_chain_is_garbage(self):
        garbage = b"-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n"
        self.check("garbage", garbage, {5}, r"pem|certificate|pars|decode|malformed|invalid")

    def test_chain_from_another_root(self):
        self.check("otherroot", (self.pki / "bad" / "otherroot-encrypt.pem").read_bytes(), {3},
                   r"trust|issuer|verif|anchor")

    def test_expired_chain(self):
        self.check("expired", (self.pki / "bad" / "expired-encrypt.pem").read_bytes(), {3},
                   r"expired|valid")


if __name__ == "__main__":
    unittest.main()
