# Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
"""peterad end to end: slow and idle clients never delay anyone else, every
phase has a timeout, --max-connections closes the excess at once, and an
idle connection costs little memory.

The time bounds here are generous liveness checks (a blocked server would
take the full client delay or a timeout), not benchmarks."""

import socket
import ssl
import threading
import time
import unittest

import peterah
from e2e_util import post_json, recovery_round, request_body, sanitized_build

# A request beside slow and idle clients must be answered within this: a
# server that blocked on one of them would take as long as the slow client
# (a byte a second), and a healthy one takes milliseconds, sanitizers or not.
LIVENESS_SECONDS = 5.0


def tls_connect(port, ctx=None):
    ctx = ctx or peterah.client_context()
    raw = socket.create_connection(("127.0.0.1", port), timeout=15)
    return ctx.wrap_socket(raw, server_hostname="localhost")


def read_until_closed(s, limit=15.0):
    s.settimeout(limit)
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except (ssl.SSLError, ConnectionError, socket.timeout):
            break
        if not chunk:
            break
        data += chunk
    return data


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


class LivenessTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pki = peterah.make_pki()
        cls.files = peterah.server_files(cls.pki)

    def server(self, *extra, mode="listen"):
        # Hundreds of connections from one address: the per-client cap off.
        return peterah.Server(**self.files,
                              extra_args=["--max-connections-per-client", "0"] + list(extra),
                              mode=mode)

    def test_idle_and_byte_per_second_clients_do_not_delay_a_normal_request(self):
        # One I/O thread: any blocking on a slow client would show at once.
        # The slow client must outlast the test, whatever the machine's pace.
        with self.server("--threads", "1", "--header-timeout", "120") as srv:
            idle = [tls_connect(srv.port) for _ in range(200)]
            stop = threading.Event()
            slow = tls_connect(srv.port)
            request = b"GET /v1/health HTTP/1.1\r\nHost: localhost\r\n\r\n"

            def trickle():
                for byte in request:
                    if stop.is_set():
                        return
                    slow.sendall(bytes([byte]))
                    time.sleep(1.0)

            sender = threading.Thread(target=trickle)
            sender.start()
            try:
                time.sleep(2.5)  # the slow request is in progress
                for _ in range(3):
                    start = time.monotonic()
                    self.assertEqual(srv.request("GET", "/v1/health").status, 200)
                    self.assertLess(time.monotonic() - start, LIVENESS_SECONDS)
                body = request_body(self.pki / "s1" / "encrypt-rsa.pem")
                start = time.monotonic()
                self.assertEqual(post_json(srv, body).status, 200)
                self.assertLess(time.monotonic() - start, LIVENESS_SECONDS)
                status, out, code = recovery_round(srv, self.pki / "s1" / "encrypt-ec.pem")
                self.assertEqual((status, code), (200, 0), out)
                self.assertTrue(sender.is_alive(), "the slow client is still sending")
            finally:
                stop.set()
                sender.join()
                slow.close()
                for s in idle:
                    s.close()

    def test_a_stalled_header_gets_408(self):
        with self.server("--header-timeout", "1") as srv:
            s = tls_connect(srv.port)
            s.sendall(b"GET /v1/health HTTP/1.1\r\nHo")
            start = time.monotonic()
            answer = read_until_closed(s)
            self.assertTrue(answer.startswith(b"HTTP/1.1 408 "), answer)
            self.assertIn(b'{"error":"timeout"}', answer)
            self.assertLess(time.monotonic() - start, 10)

    def test_a_stalled_body_gets_408(self):
        with self.server("--body-timeout", "1") as srv:
            s = tls_connect(srv.port)
            s.sendall(b"POST /v1/recover HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 100\r\n\r\n{\"kid\":")
            answer = read_until_closed(s)
            self.assertTrue(answer.startswith(b"HTTP/1.1 408 "), answer)

    def test_an_idle_keep_alive_connection_is_closed_after_the_idle_timeout(self):
        with self.server("--idle-timeout", "1") as srv:
            s = tls_connect(srv.port)
            s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
            start = time.monotonic()
            answer = read_until_closed(s)
            self.assertTrue(answer.startswith(b"HTTP/1.1 200 "), answer)
            self.assertGreater(time.monotonic() - start, 0.5)
            self.assertLess(time.monotonic() - start, 10)

    def test_connections_beyond_max_connections_are_closed_at_once(self):
        with self.server("--max-connections", "5") as srv:
            time.sleep(1.0)  # let the readiness probe's connection go
            held = [tls_connect(srv.port) for _ in range(5)]
            try:
                raw = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
                start = time.monotonic()
                with self.assertRaises((ssl.SSLError, ConnectionError, OSError)):
                    peterah.client_context().wrap_socket(raw, server_hostname="localhost")
                self.assertLess(time.monotonic() - start, 3)
                self.assertIn("--max-connections", srv.log)
            finally:
                for s in held:
                    s.close()
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                try:
                    if srv.request().status == 200:
                        break
                except (ssl.SSLError, OSError):
                    time.sleep(0.1)
            self.assertEqual(srv.request().status, 200)

    @unittest.skipIf(sanitized_build(), "sanitizers inflate memory use")
    def test_an_idle_connection_costs_far_less_than_100_kib(self):
        with self.server("--idle-timeout", "120", "--header-timeout", "120") as srv:
            warm = [tls_connect(srv.port) for _ in range(20)]
            time.sleep(0.3)
            before = rss_kib(srv.pid)
            conns = []
            for _ in range(400):
                s = tls_connect(srv.port)
                s.sendall(b"GET /v1/chain HTTP/1.1\r\nHost: x\r\n\r\n")
                conns.append(s)
            for s in conns:
                data = b""
                while b"END CERTIFICATE-----\n-----BEGIN" not in data or \
                        not data.endswith(b"-----END CERTIFICATE-----\n"):
                    data += s.recv(65536)
            time.sleep(0.3)
            per_connection = (rss_kib(srv.pid) - before) / len(conns)
            for s in conns + warm:
                s.close()
            self.assertLess(per_connection, 50, "%.1f KiB per idle connection" % per_connection)

    def test_socket_activated_server_serves_many_connections_concurrently(self):
        with self.server(mode="socket") as srv:
            conns = [tls_connect(srv.port) for _ in range(50)]
            for s in conns:
                s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            for s in conns:
                self.assertTrue(read_until_closed(s).startswith(b"HTTP/1.1 200 OK"))
                s.close()


if __name__ == "__main__":
    unittest.main()
