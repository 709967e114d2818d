# Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
"""peterad end to end: the endpoints, blinded recovery with the library's
client half, and every error status, in both --listen and
systemd-socket-activate modes."""

import base64
import http.client
import json
import subprocess
import unittest

import peterah
from e2e_util import (kid_of, pem_blocks, post_json, recovery_round,
                      request_body)


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class BasicChecks:
    MODE = None

    @classmethod
    def setUpClass(cls):
        cls.pki = peterah.make_pki()
        cls.files = peterah.server_files(cls.pki, "s1", "ec")
        cls.server = peterah.Server(**cls.files, mode=cls.MODE).start()

    @classmethod
    def tearDownClass(cls):
        status = cls.server.stop()
        if status != 0:
            raise AssertionError("peterad exited with %r:\n%s" % (status, cls.server.log))

    def tearDown(self):
        # Whatever a test sent, the server keeps serving.
        self.assertTrue(self.server.alive, self.server.log)
        self.assertEqual(self.server.request().status, 200)

    def cert(self, name):
        return self.pki / "s1" / name

    # -- the endpoints ------------------------------------------------------

    def test_curl_gets_exactly_the_encryption_chain(self):
        out = subprocess.run(
            ["curl", "-sS", "--fail", "--cacert", str(self.pki / "anchor.pem"),
             "https://localhost:%d/v1/chain" % self.server.port],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        expected = pem_blocks(self.files["encrypt"].read_text())
        self.assertEqual(out.stdout.decode(), expected)
        self.assertEqual(expected.count("BEGIN CERTIFICATE"), 2)

    def test_chain_is_served_as_pem_certificate_chain(self):
        r = self.server.request("GET", "/v1/chain", anchor=self.pki / "anchor.pem",
                                host="localhost")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers["content-type"], "application/pem-certificate-chain")

    def test_health_reports_ok_and_the_key_count(self):
        r = self.server.request("GET", "/v1/health")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json(), {"status": "ok", "keys": 4})

    def test_keep_alive_serves_several_requests_on_one_connection(self):
        conn = http.client.HTTPSConnection("127.0.0.1", self.server.port, timeout=10,
                                           context=peterah.client_context())
        try:
            for path in ("/v1/health", "/v1/chain", "/v1/health"):
                conn.request("GET", path)
                resp = conn.getresponse()
                resp.read()
                self.assertEqual(resp.status, 200)
                self.assertFalse(resp.will_close)
        finally:
            conn.close()

    # -- recovery -----------------------------------------------------------

    def assert_recovers(self, cert):
        status, out, code = recovery_round(self.server, cert)
        self.assertEqual(status, 200, out)
        self.assertEqual(code, 0, out)
        self.assertTrue(out.strip().endswith("OK"), out)

    def test_recovers_for_an_ec_p256_certificate(self):
        self.assert_recovers(self.cert("encrypt-ec.pem"))

    def test_recovers_for_an_rsa_certificate(self):
        self.assert_recovers(self.cert("encrypt-rsa.pem"))

    def test_recovers_for_p384_and_p521_certificates(self):
        self.assert_recovers(self.cert("encrypt-p384.pem"))
        self.assert_recovers(self.cert("encrypt-p521.pem"))

    def test_recovered_values_never_reach_the_log(self):
        status, out, _ = recovery_round(self.server, self.cert("encrypt-ec.pem"))
        self.assertEqual(status, 200)
        recovered = [l.split("=", 1)[1] for l in out.splitlines()
                     if l.startswith("recovered=")][0]
        # The request line is written once the answer is out: wait for it,
        # so that the check below reads a log that has it.
        self.assertTrue(self.server.wait_for_log("POST /v1/recover 200"), self.server.log)
        self.assertNotIn(recovered, self.server.log)

    # -- errors -------------------------------------------------------------

    def assert_error(self, resp, status, code):
        self.assertEqual(resp.status, status, resp.body)
        self.assertEqual(resp.json(), {"error": code})
        self.assertEqual(resp.headers["content-type"], "application/json")

    def test_every_recovery_failure_gets_the_same_vague_400(self):
        ec = kid_of(self.cert("encrypt-ec.pem"))
        rsa = kid_of(self.cert("encrypt-rsa.pem"))
        p384_point = request_body(self.cert("encrypt-p384.pem"))["x"]
        cases = {
            "point not on the curve": {"kid": ec, "x": b64u(b"\x04" + b"\x01" * 64)},
            "coordinates out of range": {"kid": ec, "x": b64u(b"\x04" + b"\xff" * 64)},
            "point at infinity": {"kid": ec, "x": b64u(b"\x00")},
            "point of the wrong curve": {"kid": ec, "x": p384_point},
            "c >= n": {"kid": rsa, "x": b64u(b"\xff" * 384)},
            "c = 0": {"kid": rsa, "x": b64u(b"\x00" * 384)},
            "wrong length": {"kid": rsa, "x": b64u(b"\x01" * 100)},
        }
        bodies = set()
        for name, body in cases.items():
            with self.subTest(name):
                r = post_json(self.server, body)
                self.assert_error(r, 400, "recovery_failed")
                bodies.add(r.body)
        self.assertEqual(len(bodies), 1)

    def test_unknown_kid_is_404(self):
        body = request_body(self.pki / "s2" / "encrypt-ec.pem")
        self.assert_error(post_json(self.server, body), 404, "unknown_kid")

    def test_oversized_body_is_413(self):
        body = json.dumps({"kid": "a", "x": "A" * 5000})
        self.assert_error(post_json(self.server, body), 413, "too_large")

    def test_a_client_still_sending_a_refused_body_gets_the_413(self):
        import socket
        import ssl
        ctx = peterah.client_context()
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                s.sendall(b"POST /v1/recover HTTP/1.1\r\nHost: x\r\n"
                          b"Content-Type: application/json\r\nContent-Length: 200000\r\n\r\n")
                try:
                    for _ in range(50):
                        s.sendall(b"x" * 4000)
                except (ssl.SSLError, ConnectionError):
                    pass
                data = b""
                while True:
                    try:
                        chunk = s.recv(4096)
                    except (ssl.SSLError, ConnectionError):
                        break
                    if not chunk:
                        break
                    data += chunk
        self.assertTrue(data.startswith(b"HTTP/1.1 413 "), data)
        self.assertIn(b'{"error":"too_large"}', data)

    def test_wrong_method_is_405_with_allow(self):
        r = self.server.request("GET", "/v1/recover")
        self.assert_error(r, 405, "method_not_allowed")
        self.assertEqual(r.headers["allow"], "POST")
        r = self.server.request("DELETE", "/v1/chain")
        self.assert_error(r, 405, "method_not_allowed")
        self.assertEqual(r.headers["allow"], "GET, HEAD")

    def test_post_without_json_content_type_is_415(self):
        body = request_body(self.cert("encrypt-ec.pem"))
        self.assert_error(post_json(self.server, body, content_type="text/plain"), 415,
                          "unsupported_media_type")
        self.assert_error(post_json(self.server, body, content_type=None), 415,
                          "unsupported_media_type")

    def test_malformed_json_is_400(self):
        self.assert_error(post_json(self.server, "{not json"), 400, "bad_request")
        self.assert_error(post_json(self.server, {"kid": "a"}), 400, "bad_request")

    def test_unknown_path_is_404(self):
        self.assert_error(self.server.request("GET", "/etc/passwd"), 404, "not_found")

    def test_header_over_8_kib_is_refused(self):
        r = self.server.request("GET", "/v1/health", headers={"X-Big": "a" * 9000})
        self.assert_error(r, 431, "header_too_large")

    def test_malformed_http_is_400(self):
        import socket
        import ssl
        ctx = peterah.client_context()
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                s.sendall(b"GET /v1/health HTTP/1.1\r\nHost x\r\n\r\n")
                data = b""
                while True:
                    try:
                        chunk = s.recv(4096)
                    except (ssl.SSLError, ConnectionError):
                        break
                    if not chunk:
                        break
                    data += chunk
        self.assertTrue(data.startswith(b"HTTP/1.1 400 "), data)
        self.assertIn(b'{"error":"bad_request"}', data)

    def test_client_bytes_are_escaped_in_the_log(self):
        # Beast accepts bytes 0x80-0xff in a target: an 8-bit CSI (0x9b) and
        # its UTF-8 form (c2 9b) would reach a terminal tailing the log.
        import socket
        target = b"/x\x9b2J\xc2\x9b31mFAKE"
        ctx = peterah.client_context()
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                s.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                answer = s.recv(4096)
        self.assertTrue(answer.startswith(b"HTTP/1.1 404 "), answer)
        self.assertTrue(self.server.wait_for_log("FAKE 404"), self.server.log)
        raw_log = self.server.log_bytes()
        self.assertNotIn(b"\x9b", raw_log)
        self.assertIn(b"GET /x\\x9b2J\\xc2\\x9b31mFAKE 404", raw_log)


class ListenModeTest(BasicChecks, unittest.TestCase):
    MODE = "listen"


class SocketActivationModeTest(BasicChecks, unittest.TestCase):
    MODE = "socket"

    def test_runs_as_one_process_for_all_connections(self):
        for _ in range(3):
            self.assertEqual(self.server.request().status, 200)
        self.assertTrue(self.server.alive)
        self.assertIn("serving on 127.0.0.1:%d" % self.server.port, self.server.log)


if __name__ == "__main__":
    unittest.main()
