# Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
"""peterad end to end: SIGHUP reload (key rotation without a restart and
without dropping connections, a failed reload keeps the old state) and the
SIGTERM drain."""

import http.client
import json
import os
import shutil
import socket
import ssl
import unittest

import peterah
from e2e_util import (pem_blocks, private_copy, recovery_round, request_body,
                       wait_until_server_read)


class ReloadTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pki = peterah.make_pki()

    def setUp(self):
        self.f = private_copy(self.pki)
        self.server = peterah.Server(self.f["tls"], self.f["encrypt"],
                                     self.f["decrypt_dir"], mode=self.MODE).start()

    def tearDown(self):
        self.assertEqual(self.server.stop(), 0, self.server.log)

    MODE = "listen"

    def chain(self):
        r = self.server.request("GET", "/v1/chain")
        self.assertEqual(r.status, 200)
        return r.body.decode()

    def rotate(self):
        """Adds the rotated key to DECRYPT.d and makes its chain ENCRYPT.pem."""
        rotated = self.pki / "s1" / "rotated"
        shutil.copyfile(rotated / "ec.pem", self.f["decrypt_dir"] / "rotated.pem")
        os.chmod(self.f["decrypt_dir"] / "rotated.pem", 0o600)
        tmp = self.f["dir"] / "encrypt.pem.new"
        shutil.copyfile(rotated / "encrypt-ec.pem", tmp)
        os.replace(tmp, self.f["encrypt"])

    def test_sighup_after_rotation_serves_the_new_chain_and_keeps_old_keys(self):
        pid = self.server.pid
        old_chain = self.chain()
        conn = http.client.HTTPSConnection("127.0.0.1", self.server.port, timeout=10,
                                           context=peterah.client_context())
        conn.request("GET", "/v1/health")
        self.assertEqual(conn.getresponse().read(), b'{"status":"ok","keys":4}')

        self.rotate()
        self.assertTrue(self.server.reload(wait_for="reloaded:"), self.server.log)

        new_chain = self.chain()
        self.assertNotEqual(new_chain, old_chain)
        self.assertEqual(new_chain,
                         pem_blocks((self.pki / "s1/rotated/encrypt-ec.pem").read_text()))
        self.assertEqual(self.server.pid, pid)
        self.assertTrue(self.server.alive)
        # The connection opened before the reload was not dropped.
        conn.request("GET", "/v1/health")
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        resp.read()
        conn.close()
        # New connections see five keys; old and new envelopes both recover.
        self.assertEqual(self.server.request().json()["keys"], 5)
        for cert in (self.pki / "s1/encrypt-ec.pem", self.pki / "s1/rotated/encrypt-ec.pem"):
            status, out, code = recovery_round(self.server, cert)
            self.assertEqual((status, code), (200, 0), out)
            self.assertTrue(out.strip().endswith("OK"), out)

    def test_a_reload_that_removes_a_key_applies_to_connections_already_open(self):
        rsa_cert = self.pki / "s1/encrypt-rsa.pem"
        conn = http.client.HTTPSConnection("127.0.0.1", self.server.port, timeout=10,
                                           context=peterah.client_context())

        def recover():
            conn.request("POST", "/v1/recover", body=json.dumps(request_body(rsa_cert)),
                         headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            return resp.status, resp.read()

        self.assertEqual(recover()[0], 200)
        sock = conn.sock
        os.remove(self.f["decrypt_dir"] / "rsa.pem")
        self.assertTrue(self.server.reload(wait_for="reloaded:"), self.server.log)
        # Same connection, opened before the reload: the removed key is gone.
        status, body = recover()
        self.assertIs(conn.sock, sock, "the connection was replaced")
        self.assertEqual((status, body), (404, b'{"error":"unknown_kid"}'))
        conn.close()

    def test_a_failed_reload_keeps_the_previous_state(self):
        old_chain = self.chain()
        self.f["encrypt"].write_text("not a certificate\n")
        self.assertTrue(self.server.reload(wait_for="reload failed"), self.server.log)
        self.assertIn("still serving the previous keys", self.server.log)
        self.assertIn(str(self.f["encrypt"]), self.server.log)
        self.assertTrue(self.server.alive)
        self.assertEqual(self.chain(), old_chain)

    def test_a_reload_that_would_be_refused_at_startup_is_refused(self):
        os.chmod(self.f["decrypt_dir"] / "ec.pem", 0o644)
        self.assertTrue(self.server.reload(wait_for="reload failed"), self.server.log)
        self.assertIn("chmod 600", self.server.log)
        self.assertEqual(self.server.request().status, 200)

    def test_sigterm_finishes_the_request_in_progress_and_exits_0(self):
        ctx = peterah.client_context()
        raw = socket.create_connection(("127.0.0.1", self.server.port), timeout=10)
        busy = ctx.wrap_socket(raw, server_hostname="localhost")
        idle = ctx.wrap_socket(socket.create_connection(("127.0.0.1", self.server.port),
                                                        timeout=10),
                               server_hostname="localhost")
        # Idle between requests: one answered, keep-alive.
        idle.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertIn(b"200 OK", idle.recv(4096))
        busy.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n")  # header not finished
        # Once peterad has read those bytes, that connection is inside a request.
        self.assertTrue(wait_until_server_read(self.server.port, busy.getsockname()[1]))
        self.server.proc.terminate()
        self.assertTrue(self.server.wait_for_log("no longer accepting"), self.server.log)
        # The idle connection is closed at once ...
        self.assertEqual(read_all(idle), b"")
        # ... the one inside a request gets its answer, then the close.
        busy.sendall(b"\r\n")
        answer = read_all(busy)
        self.assertTrue(answer.startswith(b"HTTP/1.1 200 OK"), answer)
        self.assertIn(b"Connection: close", answer)
        self.assertEqual(self.server.proc.wait(timeout=10), 0)
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", self.server.port), timeout=2).close()


class MaxRequestsPerConnectionTest(unittest.TestCase):
    def test_the_last_allowed_request_gets_connection_close_and_the_connection_ends(self):
        pki = peterah.make_pki()
        server = peterah.Server(**peterah.server_files(pki),
                                extra_args=["--max-requests-per-connection", "3"])
        try:
            server.start()
            ctx = peterah.client_context()
            s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", server.port),
                                                         timeout=10),
                                server_hostname="localhost")
            s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n" * 4)
            answers = read_all(s).split(b"HTTP/1.1 ")[1:]
            self.assertEqual(len(answers), 3, answers)
            for answer in answers[:2]:
                self.assertTrue(answer.startswith(b"200 OK"), answer)
                self.assertNotIn(b"Connection: close", answer)
            self.assertTrue(answers[2].startswith(b"200 OK"), answers[2])
            self.assertIn(b"Connection: close", answers[2])
            server.proc.terminate()
            self.assertEqual(server.proc.wait(timeout=15), 0)
        finally:
            server.kill()


class NotifyTest(unittest.TestCase):
    """sd_notify: READY=1 once serving, RELOADING=1 then READY=1 around a
    reload, STOPPING=1 on SIGTERM."""

    def test_notifies_systemd_of_ready_reloading_and_stopping(self):
        pki = peterah.make_pki()
        path = peterah.temp_dir() / "notify"
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(str(path))
        sock.settimeout(15)
        server = peterah.Server(**peterah.server_files(pki),
                                env={"NOTIFY_SOCKET": str(path)})
        try:
            server.start()
            self.assertIn(b"READY=1", sock.recv(4096))
            server.reload()
            self.assertIn(b"RELOADING=1", sock.recv(4096))
            self.assertIn(b"READY=1", sock.recv(4096))
            server.proc.terminate()
            self.assertIn(b"STOPPING=1", sock.recv(4096))
            self.assertEqual(server.proc.wait(timeout=15), 0)
        finally:
            server.kill()
            sock.close()


class SocketActivatedReloadTest(ReloadTest):
    MODE = "socket"

    def test_sigterm_finishes_the_request_in_progress_and_exits_0(self):
        # Under socket activation the listening socket belongs to the parent
        # (systemd): only the exit status is checked here.
        self.server.proc.terminate()
        self.assertEqual(self.server.proc.wait(timeout=10), 0)


def read_all(s):
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except (ssl.SSLError, ConnectionError):
            break
        if not chunk:
            break
        data += chunk
    s.close()
    return data


if __name__ == "__main__":
    unittest.main()
