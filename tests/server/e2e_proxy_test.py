# Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
"""The PROXY protocol (v1 and v2) from --proxy-protocol-from addresses, with
real connections from several loopback addresses and Debian's real HAProxy
(send-proxy-v2) in front of the real peterad.

The client addresses inside the headers (192.0.2.x, documentation range)
are only labels: no packet goes anywhere but 127.0.0.0/8.
"""

import os
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "harness"))

import peterah  # noqa: E402

SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
# The load balancer's address; the harness's own probes come from 127.0.0.1.
BALANCER = "127.0.0.9"


def v2_header(source, port, command=0x21):
    addresses = socket.inet_aton(source) + socket.inet_aton("127.0.0.1")
    body = addresses + struct.pack("!HH", port, 5700)
    return SIGNATURE + bytes([command, 0x11]) + struct.pack("!H", len(body)) + body


def wait_for(predicate, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


class ProxyProtocol(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.files = peterah.server_files(peterah.make_pki())

    def server(self, *extra):
        return peterah.Server(**self.files, extra_args=list(extra))

    def test_v1_and_v2_from_an_allowed_address_name_the_client(self):
        with self.server("--proxy-protocol-from", BALANCER + "/32") as srv:
            raw = peterah.connect_from(BALANCER, srv.port)
            raw.sendall(b"PROXY TCP4 192.0.2.7 127.0.0.1 40001 5700\r\n")
            self.assertEqual(peterah.health_status_line(raw), "HTTP/1.1 200 OK")
            raw = peterah.connect_from(BALANCER, srv.port)
            raw.sendall(v2_header("192.0.2.8", 40002))
            self.assertEqual(peterah.health_status_line(raw), "HTTP/1.1 200 OK")
            self.assertTrue(wait_for(lambda: "192.0.2.7:40001 GET /v1/health" in srv.log and
                                     "192.0.2.8:40002 GET /v1/health" in srv.log, 5),
                            srv.log[-2000:])
            # v2 LOCAL (a balancer's health check): its own address.
            raw = peterah.connect_from(BALANCER, srv.port)
            raw.sendall(v2_header("192.0.2.9", 40003, command=0x20))
            self.assertEqual(peterah.health_status_line(raw), "HTTP/1.1 200 OK")
            self.assertNotIn("192.0.2.9", srv.log)

    def test_required_from_an_allowed_address_and_ignored_from_others(self):
        with self.server("--proxy-protocol-from", BALANCER + "/32") as srv:
            # From the balancer's address without a header: closed.
            raw = peterah.connect_from(BALANCER, srv.port)
            with self.assertRaises((ssl.SSLError, OSError)):
                peterah.health_status_line(raw)
            self.assertTrue(wait_for(lambda: "no PROXY protocol header" in srv.log, 5),
                            srv.log[-2000:])
            # Another address sending a header: not honoured (not TLS either).
            raw = peterah.connect_from("127.0.0.2", srv.port)
            raw.sendall(b"PROXY TCP4 192.0.2.66 127.0.0.1 40066 5700\r\n")
            with self.assertRaises((ssl.SSLError, OSError)):
                peterah.health_status_line(raw)
            # ... and served normally without one.
            self.assertEqual(peterah.health_status_line(peterah.connect_from("127.0.0.2", srv.port)), "HTTP/1.1 200 OK")
            self.assertNotIn("192.0.2.66", srv.log)

    def test_the_per_client_cap_counts_the_address_in_the_header(self):
        with self.server("--proxy-protocol-from", BALANCER + "/32",
                         "--max-connections-per-client", "1",
                         "--handshake-timeout", "30") as srv:
            held = peterah.connect_from(BALANCER, srv.port)
            held.sendall(v2_header("192.0.2.20", 41000))
            try:
                time.sleep(0.3)
                second = peterah.connect_from(BALANCER, srv.port)
                second.sendall(v2_header("192.0.2.20", 41001))
                with self.assertRaises((ssl.SSLError, OSError)):
                    peterah.health_status_line(second)
                self.assertTrue(wait_for(lambda: "192.0.2.20:41001: refused" in srv.log, 5),
                                srv.log[-2000:])
                # Another client behind the same balancer is served.
                other = peterah.connect_from(BALANCER, srv.port)
                other.sendall(v2_header("192.0.2.21", 41002))
                self.assertEqual(peterah.health_status_line(other), "HTTP/1.1 200 OK")
            finally:
                held.close()


class HAProxyInFront(unittest.TestCase):
    """Debian's HAProxy in TCP mode, TLS passing through, send-proxy-v2."""

    def test_clients_through_haproxy_are_seen_by_their_own_address(self):
        haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
        self.assertTrue(os.access(haproxy, os.X_OK), "haproxy is missing (scripts/install-deps.sh)")
        files = peterah.server_files(peterah.make_pki())
        with peterah.Server(**files, extra_args=["--proxy-protocol-from", BALANCER + "/32"]) as srv:
            front = peterah.free_port()
            work = Path(tempfile.mkdtemp(prefix="petera-haproxy-"))
            config = work / "haproxy.cfg"
            config.write_text(
                "global\n"
                "  log stderr format raw local0\n"
                "defaults\n"
                "  mode tcp\n"
                "  timeout connect 5s\n"
                "  timeout client 30s\n"
                "  timeout server 30s\n"
                "frontend petera\n"
                "  bind 127.0.0.1:%d\n"
                "  default_backend peterad\n"
                "backend peterad\n"
                "  server p1 127.0.0.1:%d source %s send-proxy-v2 check check-send-proxy "
                "inter 1s\n" % (front, srv.port, BALANCER))
            proc = subprocess.Popen([haproxy, "-f", str(config), "-db"], stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT)
            try:
                self.assertTrue(wait_for(lambda: peterah.port_is_free(front) is False, 10),
                                "haproxy did not listen")
                for source in ("127.0.0.5", "127.0.0.6"):
                    self.assertEqual(peterah.health_status_line(peterah.connect_from(source, front)), "HTTP/1.1 200 OK")
                # petera itself, through the balancer: a real TLS client.
                anchor = peterah.make_pki() / "anchor.pem"
                fetched = peterah.run_petera([anchor, "fetch", "127.0.0.1:%d" % front])
                self.assertEqual(fetched.returncode, 0, fetched.stderr)
                self.assertTrue(wait_for(lambda: "127.0.0.5:" in srv.log and
                                         "127.0.0.6:" in srv.log, 5), srv.log[-3000:])
                # HAProxy's own health checks (LOCAL) are served, not refused.
                time.sleep(2.5)
                self.assertNotIn("closed, from a --proxy-protocol-from address: no PROXY",
                                 srv.log)
            finally:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
