# Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
"""A compromised RSA server against the real petera client.

RSA-OAEP gives no integrity against the key's holder. A server that holds
an RSA recipient's private key, and the envelope (which is not secret),
knows the OAEP ciphertext c and d, so from the client's blinded request
X = c * r^e it recovers the blinding factor r = (X * c^-1)^d and answers
OAEP(k') * r for a key or share k' of its choice: the client unblinds a
well-formed OAEP block. Here such a server (Python's `cryptography` holds
s1's real RSA key) answers at once, while the honest servers (real peterads
behind a proxy that delays every connection) answer later. Decryption must
still give the exact plaintext, and name the liar.
"""

import json
import os
import secrets
import socket
import sys
import threading
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import padding  # noqa: E402

from hostile_util import kid_of_pem, peterah  # noqa: E402
from test_hostile_servers import HostileServer, b64url, b64url_decode  # noqa: E402

TIMEOUT = 10          # petera --timeout: the delayed honest servers fit easily
HONEST_DELAY = 1.0    # seconds each honest connection waits before it starts


class LyingRsaServer(HostileServer):
    """Holds s1's RSA encryption key and forges every answer for it: the
    client unblinds OAEP(forged) where it expects OAEP(its key or share)."""

    def __init__(self, certfile, key_pem, kid, encrypted_key):
        super().__init__("lying_rsa", certfile)
        self.key = serialization.load_pem_private_key(key_pem, password=None)
        self.kid = kid
        self.c = int.from_bytes(encrypted_key, "big")
        self.forged = 0

    def _answer(self, tls, request, deadline):
        method, path, body = request
        if path == "/v1/recover" and json.loads(body).get("kid") != self.kid:
            self._send(tls, "404 Not Found", b'{"error":"not_found"}')
            return True
        return super()._answer(tls, request, deadline)

    def _answer_recover(self, tls, x, deadline):
        numbers = self.key.private_numbers()
        n, d = numbers.public_numbers.n, numbers.d
        size = (n.bit_length() + 7) // 8
        blinded = int.from_bytes(x, "big")
        r = pow(blinded * pow(self.c, -1, n) % n, d, n)       # (c r^e c^-1)^d = r
        forged = self.key.public_key().encrypt(               # OAEP(k')^e
            secrets.token_bytes(32),
            padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(),
                         label=None))
        y = pow(int.from_bytes(forged, "big"), d, n) * r % n  # OAEP(k') * r
        self.forged += 1
        self._send(tls, "200 OK", json.dumps({"y": b64url(y.to_bytes(size, "big"))}).encode())
        return True


class DelayProxy:
    """127.0.0.1:port -> 127.0.0.1:target, each connection held `delay`
    seconds before it is connected through. Bounded: threads end with the
    connections, and everything stops on close()."""

    def __init__(self, target_port, delay):
        self.target_port = target_port
        self.delay = delay
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._accept_loop, daemon=True)
        self.thread.start()

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def close(self):
        self.stop_event.set()
        self.thread.join(timeout=5)
        self.listener.close()

    def _accept_loop(self):
        while not self.stop_event.is_set():
            try:
                conn, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._relay, args=(conn,), daemon=True).start()

    def _relay(self, client):
        if self.stop_event.wait(self.delay):
            client.close()
            return
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
        except OSError:
            client.close()
            return

        def pump(src, dst):
            try:
                src.settimeout(30)
                while not self.stop_event.is_set():
                    data = src.recv(65536)
                    if not data:
                        break
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        other = threading.Thread(target=pump, args=(upstream, client), daemon=True)
        other.start()
        pump(client, upstream)
        other.join(timeout=35)
        client.close()
        upstream.close()


def server_pem(chain_path, address, out_path):
    """An offline target: the encryption chain with its server address."""
    out_path.write_bytes(b"Petera-Server: %s\n" % address.encode() + chain_path.read_bytes())
    return out_path


class LyingRsaServerTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.pki = peterah.make_pki()
        cls.anchor = cls.pki / "anchor.pem"
        cls.tmp = peterah.temp_dir("petera-liar-")
        cls.honest = []
        cls.proxies = []
        for name in ("s2", "s3"):
            files = peterah.server_files(cls.pki, name, "ec")
            server = peterah.Server(files["tls"], files["encrypt"], files["decrypt_dir"]).start()
            cls.honest.append(server)
            cls.proxies.append(DelayProxy(server.port, HONEST_DELAY))

    @classmethod
    def tearDownClass(cls):
        for proxy in cls.proxies:
            proxy.close()
        for server in cls.honest:
            server.stop()

    def encrypt(self, liar_port, honest_count, threshold):
        rsa_chain = self.pki / "s1" / "encrypt-rsa.pem"
        targets = [server_pem(rsa_chain, "127.0.0.1:%d" % liar_port, self.tmp / "liar.pem")]
        for i in range(honest_count):
            name = ("s2", "s3")[i]
            chain = self.pki / name / "encrypt-ec.pem"
            targets.append(server_pem(chain, self.proxies[i].address, self.tmp / (name + ".pem")))
        plaintext = os.urandom(40) + b"\nexactly these bytes\n"
        args = [self.anchor, "encrypt"] + targets
        if threshold > 1:
            args += ["--threshold", str(threshold)]
        run = peterah.run_petera(args, plaintext, timeout=60)
        self.assertEqual(run.returncode, 0, run.stderr)
        envelope = run.stdout
        doc = json.loads(envelope)
        self.assertEqual(doc["recipients"][0]["header"]["alg"], "RSA-OAEP-256")
        return plaintext, envelope, b64url_decode(doc["recipients"][0]["encrypted_key"])

    def liar(self, encrypted_key):
        key_file = (self.pki / "s1" / "decrypt.d" / "rsa.pem").read_bytes()
        key_pem = key_file[key_file.index(b"-----BEGIN PRIVATE KEY-----"):]
        return LyingRsaServer(self.pki / "s1" / "tls.pem", key_pem,
                              kid_of_pem(self.pki / "s1" / "encrypt-rsa.pem"), encrypted_key)

    def check(self, honest_count, threshold):
        with self.liar(b"\x00") as liar:
            plaintext, envelope, encrypted_key = self.encrypt(liar.port, honest_count, threshold)
            liar.c = int.from_bytes(encrypted_key, "big")
            start = time.monotonic()
            run = peterah.run_petera(["--timeout", TIMEOUT, self.anchor, "decrypt"], envelope,
                                     timeout=TIMEOUT + 30)
            elapsed = time.monotonic() - start
            stderr = run.stderr.decode(errors="replace")
            self.assertGreater(liar.forged, 0, "the liar was never asked: " + stderr)
            self.assertEqual(run.returncode, 0, stderr)
            self.assertEqual(run.stdout, plaintext)
            # The forged answer came first and was recognised as wrong.
            self.assertRegex(stderr, r"warning: %s: wrong answer: its (key|share 1) for key "
                                     r"\S+ is wrong \(it does not match the envelope's key "
                                     r"commitment\)" % liar.address)
            self.assertGreater(elapsed, HONEST_DELAY)

            # The liar alone: refused, named, nothing on stdout.
            run = peterah.run_petera(["--timeout", TIMEOUT, self.anchor, "decrypt",
                                      liar.address], envelope, timeout=TIMEOUT + 30)
            stderr = run.stderr.decode(errors="replace")
            self.assertNotEqual(run.returncode, 0)
            self.assertEqual(run.stdout, b"")
            if threshold == 1:
                # Against the key commitment a forged key is known to be wrong.
                self.assertEqual(run.returncode, 5, stderr)
                self.assertIn(liar.address + ": wrong answer: its key", stderr)
            else:
                # One share says nothing about the key, right or wrong.
                self.assertEqual(run.returncode, 5, stderr)
                self.assertIn("recovered 1 of the 2 key shares", stderr)

    def test_one_of_two_recipients_lies_and_answers_first(self):
        self.check(honest_count=1, threshold=1)

    def test_one_of_three_shares_lies_in_a_two_of_three_envelope(self):
        self.check(honest_count=2, threshold=2)


if __name__ == "__main__":
    unittest.main()
