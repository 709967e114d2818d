# Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
"""Hostile clients against the real peterad.

Each test plays a client that means harm (or is merely broken) and checks
that peterad answers it with the right status or closes it, keeps serving
everyone else, and gives its memory back. Loopback only; every loop is
bounded in count and in time. The time bounds are liveness checks (an
answer within seconds, where a healthy server needs milliseconds), not
performance measurements.
"""

import base64
import os
import resource
import socket
import ssl
import subprocess
import sys
import threading
import time
import unittest
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hostile_util import (  # noqa: E402
    Closed, TlsConn, client_hello, cpu_seconds, ecpoint_vectors, fd_count, health_latency,
    http_request, kid_of_pem, nofile_limits, peterah, plain_closed_within,
    raise_nofile_limit, recover_body, rss_kib, send_and_collect, server_env,
    under_asan)

# A fresh-connection /v1/health must answer within this, whatever the load.
LIVENESS_SECONDS = 2.0
MIB = 1024  # rss_kib() is in KiB


def setUpModule():
    raise_nofile_limit()


def start_server(extra_args=(), enc="ec", env=None, per_client_cap=False):
    """A peterad on 127.0.0.1. These attacks come from one address, so the
    per-client cap is off unless `per_client_cap`: they test the limits
    that hold whatever the number of addresses."""
    pki = peterah.make_pki()
    files = peterah.server_files(pki, "s1", enc)
    if not per_client_cap:
        extra_args = ["--max-connections-per-client", "0"] + list(extra_args)
    server = peterah.Server(files["tls"], files["encrypt"], files["decrypt_dir"],
                            extra_args=extra_args, env=env)
    return server.start()


def open_connections(metrics_port):
    """peterad_connections_open, from peterad --metrics 127.0.0.1:PORT."""
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % metrics_port,
                                    timeout=5) as r:
            for line in r.read().decode().splitlines():
                if line.startswith("peterad_connections_open "):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def assert_serving(test, server, what):
    """The server is alive and answers a fresh TLS connection in time."""
    test.assertTrue(server.alive, "peterad died (%s):\n%s" % (what, server.log[-3000:]))
    status, seconds = health_latency(server.port)
    test.assertEqual(status, 200, what)
    test.assertLess(seconds, LIVENESS_SECONDS, "health took %.2f s (%s)" % (seconds, what))


SANITIZER_REPORTS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                     "runtime error:", "WARNING: ThreadSanitizer")


def stop_clean(test, server):
    """SIGTERM: peterad exits 0, and no sanitizer reported anything (under
    ASan builds that includes LeakSanitizer at exit)."""
    code = server.stop()
    log = server.log
    for marker in SANITIZER_REPORTS:
        test.assertNotIn(marker, log, log[-6000:])
    test.assertEqual(code, 0, "peterad exit status %r:\n%s" % (code, log[-3000:]))


def wait_for(predicate, seconds, step=0.05):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def settled_fd_count(pid):
    """The server's descriptor count once connections from the readiness
    probe have closed: the smallest of a few samples."""
    counts = []
    for _ in range(6):
        counts.append(fd_count(pid))
        time.sleep(0.05)
    return None if None in counts else min(counts)


def good_point_p256():
    """An uncompressed valid P-256 point (a Wycheproof 'valid' public key)."""
    for t in ecpoint_vectors(256):
        point = bytes.fromhex(t["public"])
        if t["result"] == "valid" and len(point) == 65 and point[0] == 4:
            return point
    raise RuntimeError("no valid uncompressed P-256 point in the vectors")


# ---------------------------------------------------------------------------


class IdleFloodTest(unittest.TestCase):
    """1,000 silent TCP connections and slow-drip senders cost the server
    descriptors but not its service."""

    IDLE = 1000
    DRIPS = 4
    HANDSHAKE_TIMEOUT = 12
    HEADER_TIMEOUT = 5
    # RSS a silent connection may cost while held. (OpenSSL allocates its
    # handshake and record buffers at the first SSL_do_handshake, ~40 KiB,
    # even when the client has sent nothing yet.)
    # Doubled under ASan (redzones around every allocation).
    HELD_KIB_PER_CONNECTION = 64
    # RSS growth allowed from the second flood to the last (4,000 connections):
    # once the allocator has grown for a flood it must reuse that memory.
    LEAK_BOUND_MIB = 16

    def test_idle_connections_and_slow_drips(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < self.IDLE + 200:
            self.skipTest("RLIMIT_NOFILE hard limit %d is too low for %d connections" %
                          (hard, self.IDLE))
        server = start_server(["--handshake-timeout", str(self.HANDSHAKE_TIMEOUT),
                               "--header-timeout", str(self.HEADER_TIMEOUT)],
                              env=server_env())
        try:
            self._flood(server)
        finally:
            server.stop()

    def _flood(self, server):
        idle, drips = [], []
        try:
            for _ in range(20):  # warm-up
                self.assertEqual(health_latency(server.port)[0], 200)
            rest = rss_kib(server.pid)
            base_fds = settled_fd_count(server.pid)

            opened = time.monotonic()
            for _ in range(self.IDLE):
                idle.append(socket.create_connection(("127.0.0.1", server.port), timeout=5))
            for _ in range(self.DRIPS):
                drips.append(TlsConn(server.port))
            if base_fds is not None:
                want = base_fds + self.IDLE + self.DRIPS
                self.assertTrue(
                    wait_for(lambda: fd_count(server.pid) >= want, 10),
                    "peterad holds %s descriptors, expected >= %d: it did not accept "
                    "every connection (descriptor limit %s)" %
                    (fd_count(server.pid), want, nofile_limits(server.pid)))

            held = rss_kib(server.pid)
            self._drip_and_probe(server, drips, opened)

            # The silent connections are closed at the handshake timeout.
            left = opened + self.HANDSHAKE_TIMEOUT + 8 - time.monotonic()
            still_open = sum(1 for s in idle if not plain_closed_within(s, max(left, 0.01)))
            self.assertEqual(still_open, 0, "silent connections not closed after the "
                             "%d s handshake timeout" % self.HANDSHAKE_TIMEOUT)
            closed_at = time.monotonic() - opened
            self.assertGreater(closed_at, self.HANDSHAKE_TIMEOUT - 1)
        finally:
            for s in idle:
                s.close()
            for d in drips:
                d.close()
        assert_serving(self, server, "after the idle flood")
        # What a silent connection costs the server while it is held.
        per_connection = (held - rest) / (self.IDLE + self.DRIPS)
        bound = self.HELD_KIB_PER_CONNECTION * (2 if under_asan() else 1)
        self.assertLess(per_connection, bound,
                        "%.1f KiB of RSS per silent connection" % per_connection)
        stop_clean(self, server)

    def _drip_and_probe(self, server, drips, opened):
        """One byte per second on each drip connection, while fresh clients
        keep getting answers; each drip gets 408 (or is closed) at the header
        timeout."""
        request = http_request("GET", "/v1/health")
        answered = {}
        for second in range(self.HEADER_TIMEOUT + 4):
            tick = time.monotonic()
            for i, d in enumerate(drips):
                if i in answered:
                    continue
                if not d.send(request[second:second + 1]):
                    answered[i] = ("closed", time.monotonic() - opened)
            status, seconds = health_latency(server.port)
            self.assertEqual(status, 200)
            self.assertLess(seconds, LIVENESS_SECONDS,
                            "health took %.2f s under the flood" % seconds)
            for i, d in enumerate(drips):
                if i in answered:
                    continue
                d.sock.settimeout(0.01)
                try:
                    resp = d.read_response()
                    answered[i] = (resp.status, time.monotonic() - opened)
                except Closed:
                    answered[i] = ("closed", time.monotonic() - opened)
                except (socket.timeout, ssl.SSLWantReadError):
                    pass
            time.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))
        self.assertEqual(len(answered), len(drips), "slow drips not cut off: %r" % answered)
        for status, at in answered.values():
            self.assertIn(status, (408, "closed"))
            # Measured from before the flood's 1,000 connects; checked once a second.
            self.assertLess(at, self.HEADER_TIMEOUT + 5)

    def test_repeated_floods_do_not_leak(self):
        """Six floods of 1,000 silent connections, each closed by the server
        at its handshake timeout: the memory of one flood is reused by the
        next. (glibc keeps freed memory in its arenas, so RSS does not fall
        back to rest after the first flood, and fragmentation adds a little
        per round; the bound catches a leak of 4 KiB or more per connection.)"""
        server = start_server(["--handshake-timeout", "2"], env=server_env())
        try:
            after = []
            for _ in range(6):
                conns = [socket.create_connection(("127.0.0.1", server.port), timeout=5)
                         for _ in range(self.IDLE)]
                try:
                    still_open = sum(1 for s in conns if not plain_closed_within(s, 8))
                    self.assertEqual(still_open, 0)
                finally:
                    for s in conns:
                        s.close()
                time.sleep(0.5)
                after.append(rss_kib(server.pid))
            growth = after[-1] - after[1]
            self.assertLess(growth, self.LEAK_BOUND_MIB * MIB * (2 if under_asan() else 1),
                            "RSS after each flood: %r KiB" % after)
            assert_serving(self, server, "after six floods")
            stop_clean(self, server)
        finally:
            server.stop()

    def test_server_raises_its_descriptor_limit(self):
        """peterad raises its soft RLIMIT_NOFILE to the hard limit at start:
        started with a soft limit of 256, it must still hold 600 connections."""
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard < 1024:
            self.skipTest("hard RLIMIT_NOFILE %d too low" % hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
        try:
            server = start_server()
        finally:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        conns = []
        try:
            server_soft, server_hard = nofile_limits(server.pid)
            self.assertEqual(server_soft, server_hard,
                             "peterad kept a soft descriptor limit of %d (hard %d)" %
                             (server_soft, server_hard))
            for _ in range(600):
                conns.append(socket.create_connection(("127.0.0.1", server.port), timeout=5))
            assert_serving(self, server, "600 idle connections, started with soft limit 256")
        finally:
            for c in conns:
                c.close()
            server.stop()


class PerClientCapTest(unittest.TestCase):
    """--max-connections-per-client: one address cannot hold every slot,
    while others keep being served. Real connections from several loopback
    addresses (127.0.0.2, 127.0.0.3, ...)."""

    CAP = 3

    def connect_from(self, source, port):
        return peterah.connect_from(source, port)

    def tls_health_from(self, source, port):
        return peterah.health_status_line(peterah.connect_from(source, port)).encode()

    def test_one_address_is_capped_and_the_others_are_served(self):
        metrics = peterah.free_port()
        server = start_server(["--max-connections-per-client", str(self.CAP),
                               "--handshake-timeout", "60",
                               "--metrics", "127.0.0.1:%d" % metrics], per_client_cap=True)
        held = []
        try:
            for _ in range(self.CAP):
                held.append(self.connect_from("127.0.0.2", server.port))
            # The server has taken all of them (each I/O thread accepts on
            # its own, so a later connection could otherwise be counted
            # before an earlier one, and the earlier one refused).
            self.assertTrue(wait_for(lambda: open_connections(metrics) == self.CAP, 10),
                            "peterad did not take the %d connections" % self.CAP)
            # A fourth silent connection from the same address: closed at
            # once, not at the handshake timeout (60 s). The margin is wide
            # for a sanitized server on a loaded machine.
            extra = self.connect_from("127.0.0.2", server.port)
            held.append(extra)
            self.assertTrue(plain_closed_within(extra, 10),
                            "a connection over the per-client cap was kept open")
            self.assertTrue(wait_for(lambda: "127.0.0.2" in server.log and
                                     "--max-connections-per-client" in server.log, 5),
                            server.log[-2000:])
            # Other addresses are served meanwhile.
            for source in ("127.0.0.3", "127.0.0.4"):
                self.assertEqual(self.tls_health_from(source, server.port),
                                 b"HTTP/1.1 200 OK", source)
            # The held ones were not dropped to make room.
            self.assertFalse(any(plain_closed_within(h, 0.01) for h in held[:self.CAP]))
        finally:
            for s in held:
                s.close()
        # Their slots come back once they close.
        self.assertTrue(wait_for(lambda: self._serves_from(server, "127.0.0.2"), 10))
        stop_clean(self, server)

    def _serves_from(self, server, source):
        try:
            return self.tls_health_from(source, server.port) == b"HTTP/1.1 200 OK"
        except (OSError, ssl.SSLError):
            return False


class ConnectionCapTest(unittest.TestCase):
    """--max-connections: beyond the cap, new connections are closed at once
    (not queued), and service resumes when the load goes."""

    CAP = 50

    def test_refuses_beyond_cap_and_recovers(self):
        server = start_server(["--max-connections", str(self.CAP),
                               "--handshake-timeout", "60"])
        try:
            self._over_the_cap(server)
        finally:
            server.stop()

    def _over_the_cap(self, server):
        holders, extra = [], []
        try:
            base_fds = settled_fd_count(server.pid)
            for _ in range(self.CAP):
                holders.append(socket.create_connection(("127.0.0.1", server.port), timeout=5))
            if base_fds is not None:
                self.assertTrue(wait_for(lambda: fd_count(server.pid) >= base_fds + self.CAP, 5))
            else:
                time.sleep(1.0)
            # Over the cap: each new connection is closed within about a second.
            for _ in range(20):
                s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
                extra.append(s)
                start = time.monotonic()
                self.assertTrue(plain_closed_within(s, 1.5),
                                "a connection over the cap was kept open")
                self.assertLess(time.monotonic() - start, 1.5)
            # A TLS client over the cap fails fast instead of hanging.
            start = time.monotonic()
            with self.assertRaises((OSError, ssl.SSLError)):
                with TlsConn(server.port, timeout=5):
                    pass
            self.assertLess(time.monotonic() - start, 1.5)
            # The held connections are still the server's: they were not dropped
            # to make room.
            self.assertFalse(any(plain_closed_within(h, 0.01) for h in holders[:5]))
        finally:
            for s in holders + extra:
                s.close()
        # The load is gone: service resumes.
        self.assertTrue(wait_for(lambda: self._healthy(server), 10),
                        "no service after the held connections closed")
        for _ in range(2 * self.CAP):
            self.assertEqual(health_latency(server.port)[0], 200)
        self.assertTrue(server.alive)
        stop_clean(self, server)

    @staticmethod
    def _healthy(server):
        try:
            return health_latency(server.port, timeout=2)[0] == 200
        except (OSError, ssl.SSLError):
            return False


# ---------------------------------------------------------------------------

H = b"Host: 127.0.0.1\r\n"
POST_JSON = b"POST /v1/recover HTTP/1.1\r\n" + H + b"Content-Type: application/json\r\n"
CHUNKED = POST_JSON + b"Transfer-Encoding: chunked\r\n\r\n"

# name -> (bytes, statuses accepted for the first answer, must close)
# "must close": the request cannot be framed, so nothing after it can be
# trusted; a request that is framed but wrong may keep its connection.
MALFORMED = {
    "header field over 8 KiB": (
        b"GET /v1/health HTTP/1.1\r\n" + H + b"X-A: " + b"a" * 9000 + b"\r\n\r\n", {431}, True),
    "2,000 header fields": (
        b"GET /v1/health HTTP/1.1\r\n" + H +
        b"".join(b"X-%d: v\r\n" % i for i in range(2000)) + b"\r\n", {431}, True),
    "request target over 8 KiB": (
        b"GET /v1/health?" + b"a" * 10000 + b" HTTP/1.1\r\n" + H + b"\r\n", {431, 414}, True),
    "header that never ends": (
        b"GET /v1/health HTTP/1.1\r\n" + H + b"X: " + b"b" * 20000, {431}, True),
    "body over 4 KiB": (
        http_request("POST", "/v1/recover", b"{" + b" " * 4998 + b"}"), {413}, True),
    "Content-Length 10**15": (
        POST_JSON + b"Content-Length: 1000000000000000\r\n\r\n{}", {413}, True),
    "Content-Length 2**64+1": (
        POST_JSON + b"Content-Length: 18446744073709551617\r\n\r\n{}", {400, 413}, True),
    "Content-Length -1": (
        POST_JSON + b"Content-Length: -1\r\n\r\n{}", {400}, True),
    "two Content-Lengths": (
        POST_JSON + b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}", {400}, True),
    "Content-Length with chunked": (
        POST_JSON + b"Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}", {400}, True),
    "Expect 100-continue over the limit": (
        POST_JSON + b"Expect: 100-continue\r\nContent-Length: 100000\r\n\r\n", {413}, True),
    "chunked body over 4 KiB": (
        CHUNKED + (b"3e8\r\n" + b"a" * 1000 + b"\r\n") * 6 + b"0\r\n\r\n", {413}, True),
    "chunk size not hex": (
        CHUNKED + b"zz\r\nab\r\n0\r\n\r\n", {400}, True),
    "chunk size over 64 bits": (
        CHUNKED + b"ffffffffffffffffffff\r\nab\r\n0\r\n\r\n", {400, 413}, True),
    "chunk size 2**64-1": (
        CHUNKED + b"ffffffffffffffff\r\nab\r\n0\r\n\r\n", {400, 413}, True),
    "one chunk extension of 1 MB": (
        CHUNKED + b"1;" + b"x" * 1000000 + b"\r\na\r\n0\r\n\r\n", {400, 413, 431}, True),
    "chunk-extension flood, 5,000 chunks": (
        CHUNKED + (b"1;" + b"x" * 1000 + b"\r\na\r\n") * 5000 + b"0\r\n\r\n", {400, 413, 431},
        True),
    "trailer of 100 KB": (
        CHUNKED + b"0\r\nX-Trailer: " + b"t" * 100000 + b"\r\n\r\n", {400, 431}, True),
    "20,000 trailer fields": (
        CHUNKED + b"0\r\n" + b"".join(b"X-T%d: v\r\n" % i for i in range(20000)) + b"\r\n",
        {400, 431}, True),
    "HTTP/2 preface": (
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", {400, 505}, True),
    "HTTP/9.9": (
        b"GET /v1/health HTTP/9.9\r\n\r\n", {400, 505}, True),
    "NUL in a header": (
        b"GET /v1/health HTTP/1.1\r\nHost: a\x00b\r\n\r\n", {400}, True),
    "framed body that is not JSON": (
        CHUNKED + b"5\r\nnot j\r\n0\r\n\r\n", {400}, False),
}


class MalformedRequestTest(unittest.TestCase):
    """Malformed and oversized HTTP, broken TLS: each gets the right status
    or a closed connection, the server keeps serving, and its memory returns
    near the resting level."""

    TIMEOUT = 3  # every phase timeout of this server, seconds

    @classmethod
    def setUpClass(cls):
        t = str(cls.TIMEOUT)
        cls.server = start_server(["--handshake-timeout", t, "--header-timeout", t,
                                   "--body-timeout", t, "--idle-timeout", t,
                                   "--write-timeout", t], env=server_env())

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_zz_clean_exit(self):
        """Last (tests run in name order): after all of the above, SIGTERM
        stops the server cleanly, with no sanitizer report."""
        stop_clean(self, self.server)

    def tearDown(self):
        if self._testMethodName != "test_zz_clean_exit":
            assert_serving(self, self.server, self.id())

    # -- the attacks, each reusable by the memory test ----------------------

    def _malformed(self, name):
        data, statuses, must_close = MALFORMED[name]
        if not must_close:
            # Framed but wrong: an error answer, and the connection still serves.
            with TlsConn(self.server.port) as conn:
                resp = conn.exchange(data)
                self.assertIn(resp.status, statuses, "%s: %r" % (name, resp))
                self.assertIsInstance(resp.json().get("error"), str, name)
                self.assertEqual(conn.exchange(http_request("GET", "/v1/health")).status, 200)
            return
        responses, closed = send_and_collect(self.server.port, data, self.TIMEOUT + 3)
        self.assertTrue(responses, "%s: no answer" % name)
        self.assertIn(responses[0].status, statuses, "%s: %r" % (name, responses[0]))
        self.assertIsInstance(responses[0].json().get("error"), str, name)
        self.assertTrue(closed, "%s: connection left open" % name)
        self.assertEqual(len(responses), 1, name)

    def _pipelined_garbage(self):
        data = (http_request("GET", "/v1/health") + http_request("GET", "/v1/chain") +
                b"\x00\xff\xfe NOT HTTP \r\n\r\n" + http_request("GET", "/v1/health"))
        responses, closed = send_and_collect(self.server.port, data, self.TIMEOUT + 3)
        self.assertEqual([r.status for r in responses], [200, 200, 400])
        self.assertTrue(responses[1].body.startswith(b"-----BEGIN CERTIFICATE-----"))
        self.assertTrue(closed, "connection left open after garbage")

    def _body_stall(self):
        """A body announced and never sent: 408 at the body timeout."""
        with TlsConn(self.server.port) as conn:
            start = time.monotonic()
            conn.send(POST_JSON + b"Content-Length: 100\r\n\r\n{\"kid\":")
            conn.sock.settimeout(self.TIMEOUT + 3)
            resp = conn.read_response()
            self.assertEqual(resp.status, 408)
            self.assertLess(time.monotonic() - start, self.TIMEOUT + 3)
            self.assertTrue(conn.closed_within(3))

    def _cut_hello(self, cut, hold):
        """A ClientHello cut after `cut` bytes; `hold` keeps the connection
        open to see the server close it at the handshake timeout."""
        hello = client_hello()
        s = socket.create_connection(("127.0.0.1", self.server.port), timeout=5)
        try:
            s.sendall(hello[:cut] if cut >= 0 else hello[:len(hello) + cut])
            if hold:
                start = time.monotonic()
                self.assertTrue(plain_closed_within(s, self.TIMEOUT + 3),
                                "server kept a half handshake past its timeout")
                self.assertLess(time.monotonic() - start, self.TIMEOUT + 3)
        finally:
            s.close()

    def _not_tls(self, data):
        """Plain bytes on the TLS port: the server closes the connection."""
        s = socket.create_connection(("127.0.0.1", self.server.port), timeout=5)
        try:
            s.sendall(data)
            self.assertTrue(plain_closed_within(s, self.TIMEOUT + 3))
        finally:
            s.close()

    # -- tests ----------------------------------------------------------------

    def test_malformed_http(self):
        for name in MALFORMED:
            with self.subTest(name):
                self._malformed(name)

    def test_pipelined_garbage_after_valid_requests(self):
        self._pipelined_garbage()

    def test_body_never_sent(self):
        self._body_stall()

    def test_client_hello_cut_short(self):
        hello = client_hello()
        self.assertGreater(len(hello), 100)
        for cut in (1, 5, 6, 50, len(hello) // 2, -1):
            with self.subTest(cut=cut):
                self._cut_hello(cut, hold=False)
                self._cut_hello(cut, hold=True)

    def test_not_tls(self):
        for data in (b"GET /v1/health HTTP/1.1\r\nHost: a\r\n\r\n",
                     b"\x16\x03\x01\xff\xff" + b"\x00" * 100,  # record of 64 KiB announced
                     b"\x16\x03\x01\x00\x05\x01\x00\xff\xff\xff",  # hello of 16 MiB announced
                     b"\x80" * 64):
            with self.subTest(data=data[:12]):
                self._not_tls(data)

    def test_tls12_renegotiation_is_refused(self):
        """openssl s_client's 'R' command asks for a TLS 1.2 renegotiation; the
        server must refuse it (no second handshake, no answer on that
        connection afterwards)."""
        script = ("sleep 1; printf 'R\\n'; sleep 2; "
                  "printf 'GET /v1/health HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n'; sleep 2")
        feeder = subprocess.Popen(["sh", "-c", script], stdout=subprocess.PIPE)
        try:
            proc = subprocess.run(
                ["openssl", "s_client", "-tls1_2", "-connect",
                 "127.0.0.1:%d" % self.server.port, "-servername", "localhost"],
                stdin=feeder.stdout, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                timeout=30)
        finally:
            feeder.stdout.close()
            feeder.kill()
            feeder.wait(timeout=10)
        out = proc.stdout.decode(errors="replace")
        self.assertIn("RENEGOTIATING", out, "s_client did not attempt renegotiation")
        after = out.split("RENEGOTIATING", 1)[1]
        self.assertNotIn("HTTP/1.1 200", after, "renegotiation was accepted:\n" + after)
        self.assertIn("no renegotiation", after.lower(), after)

    def test_memory_returns_to_rest(self):
        """Every attack above, 10 rounds: RSS ends near where it started."""
        for _ in range(3):  # warm-up: allocator arenas, TLS caches
            self._round()
        rest = rss_kib(self.server.pid)
        peak = rest
        for _ in range(10):
            self._round()
            peak = max(peak, rss_kib(self.server.pid))
        bound = (16 if not under_asan() else 32) * MIB
        growth = rss_kib(self.server.pid) - rest
        self.assertLess(growth, bound, "RSS grew by %d KiB (rest %d KiB, peak %d KiB)" %
                        (growth, rest, peak))

    def _round(self):
        for name in MALFORMED:
            self._malformed(name)
        self._pipelined_garbage()
        for cut in (5, 50, -1):
            self._cut_hello(cut, hold=False)
        self._not_tls(b"\x16\x03\x01\xff\xff" + b"\x00" * 100)


# ---------------------------------------------------------------------------


class PartialRecordTest(unittest.TestCase):
    """Clients that send the first bytes of a TLS record and stop: the
    server waits for the rest on the socket, costing no CPU meanwhile, and
    still answers others."""

    CONNECTIONS = 4
    WINDOW = 2.0
    # Waiting costs next to nothing; spinning on the partial record would
    # cost up to one core per connection for the whole window.
    MAX_CPU_SECONDS = 0.5

    def test_part_of_a_record_is_awaited_without_spinning(self):
        server = start_server(["--threads", "2"], env=server_env())
        conns = []
        try:
            for _ in range(self.CONNECTIONS):
                conn = TlsConn(server.port)
                # Below TLS: the first two bytes of an application data
                # record header, after the handshake.
                os.write(conn.sock.fileno(), b"\x17\x03")
                conns.append(conn)
            time.sleep(0.3)  # the server reads them
            before = cpu_seconds(server.pid)
            time.sleep(self.WINDOW)
            used = cpu_seconds(server.pid) - before
            self.assertLess(used, self.MAX_CPU_SECONDS,
                            "peterad used %.2f s of CPU in %.1f s while %d clients sat on "
                            "part of a record" % (used, self.WINDOW, self.CONNECTIONS))
            assert_serving(self, server, "beside clients stalled inside a record")
        finally:
            for conn in conns:
                conn.close()
        stop_clean(self, server)


class InvalidPointTest(unittest.TestCase):
    """Every invalid point of the Wycheproof ECDH ecpoint vectors, over the
    wire to the key of its curve: 400, never an answer, never a crash."""

    CURVES = {256: "ec.pem", 384: "p384.pem", 521: "p521.pem"}

    def test_wycheproof_invalid_points(self):
        server = start_server()
        decrypt_dir = peterah.server_files(peterah.make_pki(), "s1")["decrypt_dir"]
        total_invalid = 0
        try:
            for bits, pem in self.CURVES.items():
                kid = kid_of_pem(decrypt_dir / pem)
                field = (bits + 7) // 8
                with TlsConn(server.port) as conn:
                    valid_ok = 0
                    for t in ecpoint_vectors(bits):
                        point = bytes.fromhex(t["public"])
                        body = recover_body(kid, point)
                        if t["result"] == "invalid":
                            resp = self._post(conn, server, body)
                            total_invalid += 1
                            with self.subTest(curve=bits, tcId=t["tcId"], comment=t["comment"]):
                                self.assertEqual(resp.status, 400, resp)
                                self.assertIn(resp.json().get("error"),
                                              ("recovery_failed", "bad_request"))
                                self.assertNotIn("y", resp.json())
                        elif (t["result"] == "valid" and point[:1] == b"\x04" and
                              len(point) == 1 + 2 * field and valid_ok < 50):
                            # Control: the same kid and connection do answer
                            # good points, so the 400s above are not an accident.
                            resp = self._post(conn, server, body)
                            self.assertEqual(resp.status, 200, (bits, t["tcId"], resp))
                            y = b64url_decode(resp.json()["y"])
                            self.assertEqual(len(y), 1 + 2 * field)
                            valid_ok += 1
                    self.assertGreater(valid_ok, 10, "no valid control point on P-%d" % bits)
            self.assertEqual(total_invalid, 24 + 18 + 28)
            assert_serving(self, server, "after the invalid points")
            stop_clean(self, server)
        finally:
            server.stop()

    @staticmethod
    def _post(conn, server, body):
        try:
            return conn.exchange(http_request("POST", "/v1/recover", body))
        except Closed:
            raise AssertionError("server closed the connection:\n" + server.log[-2000:])


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# ---------------------------------------------------------------------------


class MemoryUnderLoadTest(unittest.TestCase):
    """100,000 mixed good and bad requests from several keep-alive clients:
    RSS after the run stays within a stated bound of RSS after warm-up."""

    THREADS = 4
    TOTAL = 100_000
    WARMUP = 5_000
    BATCH = 10           # requests pipelined per write
    PER_CONNECTION = 500  # requests before a client reconnects
    # Bound on RSS growth between warm-up and the end. Under ASan the server
    # runs with a 1 MiB quarantine (server_env()), and the bound doubles for
    # ASan's own allocator caches and shadow memory.
    BOUND_MIB = 32

    def test_rss_bounded_after_100k_mixed_requests(self):
        pki = peterah.make_pki()
        decrypt_dir = peterah.server_files(pki, "s1")["decrypt_dir"]
        kid = kid_of_pem(decrypt_dir / "ec.pem")
        good = good_point_p256()
        bad = bytearray(good)
        bad[-1] ^= 1  # off the curve
        # (request, expected status); all keep the connection alive.
        self.mix = [
            (http_request("POST", "/v1/recover", recover_body(kid, good)), 200),
            (http_request("GET", "/v1/health"), 200),
            (http_request("POST", "/v1/recover", recover_body(kid, bytes(bad))), 400),
            (http_request("POST", "/v1/recover", recover_body("A" * 43, good)), 404),
            (http_request("GET", "/v1/chain"), 200),
            (http_request("POST", "/v1/recover", b'{"kid": 1, "x": [}'), 400),
            (http_request("POST", "/v1/recover", b"{}", content_type="text/plain"), 415),
            (http_request("GET", "/v1/recover"), 405),
            (http_request("GET", "/nowhere/" + "z" * 200), 404),
            (http_request("POST", "/v1/recover", recover_body(kid, good[:33])), 400),
        ]
        server = start_server(env=server_env())
        try:
            self._run(server, self.WARMUP)
            rest = rss_kib(server.pid)
            start = time.monotonic()
            counts = self._run(server, self.TOTAL)
            elapsed = time.monotonic() - start
            growth = rss_kib(server.pid) - rest
            bound = self.BOUND_MIB * (2 if under_asan() else 1) * MIB
            sys.stderr.write("\n%d requests in %.1f s, RSS rest %d KiB, growth %d KiB, "
                             "statuses %r\n" % (self.TOTAL, elapsed, rest, growth, counts))
            self.assertEqual(sum(counts.values()), self.TOTAL)
            self.assertLess(growth, bound, "RSS grew by %d KiB over %d requests" %
                            (growth, self.TOTAL))
            assert_serving(self, server, "after 100,000 requests")
            stop_clean(self, server)
        finally:
            server.stop()

    def _run(self, server, total):
        per_thread = total // self.THREADS
        errors, counts, lock = [], {}, threading.Lock()

        def worker(seed):
            local = {}
            try:
                self._worker(server.port, per_thread, seed, local)
            except Exception as e:  # reported by the main thread
                errors.append("%s: %r" % (type(e).__name__, e))
            with lock:
                for k, v in local.items():
                    counts[k] = counts.get(k, 0) + v

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(self.THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=600)
        self.assertFalse(any(t.is_alive() for t in threads), "client threads hung")
        self.assertEqual(errors, [], server.log[-2000:])
        # Bad requests that close their connection, on fresh connections.
        for name in ("body over 4 KiB", "chunk size not hex", "header field over 8 KiB"):
            data, statuses, _ = MALFORMED[name]
            responses, _ = send_and_collect(server.port, data, 5)
            self.assertIn(responses[0].status, statuses)
        return counts

    def _worker(self, port, count, seed, counts):
        done = 0
        i = seed
        conn = None
        while done < count:
            if conn is None or done % self.PER_CONNECTION == 0:
                if conn is not None:
                    conn.close()
                conn = TlsConn(port, timeout=30)
            n = min(self.BATCH, count - done)
            batch = [self.mix[(i + k) % len(self.mix)] for k in range(n)]
            i += n
            conn.sock.sendall(b"".join(req for req, _ in batch))
            for _, expected in batch:
                resp = conn.read_response()
                if resp.status != expected:
                    raise AssertionError("status %d, expected %d: %r" %
                                         (resp.status, expected, resp.body[:200]))
                counts[resp.status] = counts.get(resp.status, 0) + 1
            done += n
        conn.close()


if __name__ == "__main__":
    unittest.main()
