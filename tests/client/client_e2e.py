# Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
"""End-to-end tests of the petera client against real peterad servers on
loopback, with the demo PKI of certs-examples/make-pki.sh.

Run through ctest (which sets PETERA_BIN, PETERAD_BIN, PETERA_SOURCE_DIR), one
test class per ctest entry:  client_e2e.py -v Failover
"""

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "harness"))
import peterah  # noqa: E402

EXIT_OK, EXIT_INTERNAL, EXIT_USAGE, EXIT_TRUST = 0, 1, 2, 3
EXIT_NETWORK, EXIT_PROTOCOL, EXIT_CORRUPT = 4, 5, 6

MAX_PAYLOAD = 16 << 20
BINARY = bytes(range(256)) * 3 + b"\x00\x00end\x00"


def pki():
    return peterah.make_pki()


def anchor():
    return pki() / "anchor.pem"


def petera(*args, stdin=b"", timeout=120, env=None):
    return peterah.run_petera([str(a) for a in args], stdin_bytes=stdin,
                              timeout=timeout, env=env)


def stderr_lines(proc):
    return [l for l in proc.stderr.decode(errors="replace").splitlines() if l]


def private_dir(prefix):
    d = peterah.temp_dir(prefix)
    os.chmod(d, 0o700)
    return d


def write_private(path, text):
    path = Path(path)
    path.write_text(text)
    os.chmod(path, 0o600)
    return path


def decrypt_dir(*pairs):
    """A DECRYPT.d with one file per (certificate chain, key) pair of paths."""
    d = private_dir("decrypt-d-")
    for i, (chain, key) in enumerate(pairs):
        text = Path(chain).read_text() + (Path(key).read_text() if key else "")
        write_private(d / ("key%d.pem" % i), text)
    return d


def pem_blocks(path):
    """The PEM blocks of a file, as (type, text) pairs."""
    blocks, current = [], None
    for line in Path(path).read_text().splitlines(keepends=True):
        if line.startswith("-----BEGIN "):
            current = [line[11:].strip("-\n "), line]
        elif current is not None:
            current[1] += line
            if line.startswith("-----END "):
                blocks.append(tuple(current))
                current = None
    return blocks


def server_pem(address, chain_path):
    """A target file with a Petera-Server: line and the given chain."""
    d = peterah.temp_dir("target-")
    path = d / "target.pem"
    path.write_text("Petera-Server: %s\n" % address + Path(chain_path).read_text())
    return path


def b64u_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64u_encode(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def server(name="s1", enc="ec", tls=None, encrypt=None, decrypt=None,
           port=None, extra_args=(), mode="listen"):
    """A peterad for demo server `name`, not started: use it in `with`, or
    call start()."""
    files = peterah.server_files(pki(), name, enc)
    return peterah.Server(tls or files["tls"], encrypt or files["encrypt"],
                          decrypt or files["decrypt_dir"], port=port,
                          extra_args=extra_args, mode=mode)


def start_server(*args, **kwargs):
    return server(*args, **kwargs).start()


def recover_count(server):
    return server.log.count("POST /v1/recover")


class HangingServer:
    """Listens on loopback and accepts connections, but never reads or
    answers: a server that hangs."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted = []
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
                self.accepted.append(conn)
            except OSError:
                pass

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def close(self):
        self._stop = True
        self._thread.join()
        for c in self.accepted:
            c.close()
        self.sock.close()


class ClientTestCase(unittest.TestCase):
    maxDiff = None

    def assertFailed(self, proc, code, *needles):
        """Exit `code`, nothing on stdout, every stderr line prefixed, and
        each needle somewhere in stderr."""
        err = proc.stderr.decode(errors="replace")
        self.assertEqual(proc.returncode, code, err)
        self.assertEqual(proc.stdout, b"", "stdout must stay empty on failure")
        lines = stderr_lines(proc)
        self.assertTrue(lines, "a failure must say why")
        for line in lines:
            self.assertTrue(line.startswith("petera: "), line)
        for needle in needles:
            self.assertIn(needle, err)

    def assertOk(self, proc):
        self.assertEqual(proc.returncode, 0, proc.stderr.decode(errors="replace"))
        return proc.stdout

    def encrypt(self, *targets, data=b"secret", args=()):
        # Empty input round-trips too, when asked for explicitly.
        if not data:
            args = tuple(args) + ("--allow-empty",)
        return self.assertOk(petera(*args, anchor(), "encrypt", *targets, stdin=data))

    def decrypt(self, envelope, *hosts, args=()):
        return self.assertOk(petera(*args, anchor(), "decrypt", *hosts, stdin=envelope))


class ThreeServers(ClientTestCase):
    """Three servers for the whole class: s1 (EC), s2 (RSA), s3 (EC)."""

    @classmethod
    def setUpClass(cls):
        cls.servers = [start_server("s1", "ec"), start_server("s2", "rsa"),
                       start_server("s3", "ec")]

    @classmethod
    def tearDownClass(cls):
        for s in cls.servers:
            s.stop()

    def addresses(self):
        return [s.address for s in self.servers]


class OnlineOfflineMixed(ThreeServers):

    def fetch_all(self):
        files = []
        for s in self.servers:
            mark = len(s.log)
            out = self.assertOk(petera(anchor(), "fetch", s.address))
            # The request's log line is written after the answer.
            self.assertTrue(s.wait_for_log("GET /v1/chain", since=mark), s.log)
            path = peterah.temp_dir("fetched-") / "server.pem"
            path.write_bytes(out)
            files.append(path)
        return files

    def test_fetch_writes_address_line_then_the_chain(self):
        out = self.assertOk(petera(anchor(), "fetch", self.servers[0].address))
        text = out.decode()
        self.assertTrue(text.startswith("Petera-Server: %s\n-----BEGIN CERTIFICATE-----"
                                        % self.servers[0].address), text[:80])
        self.assertEqual(text.count("BEGIN CERTIFICATE"), 2)  # leaf + intermediate
        self.assertNotIn("PRIVATE KEY", text)

    def test_online_round_trips_every_payload(self):
        for data in (b"", BINARY, os.urandom(MAX_PAYLOAD)):
            with self.subTest(size=len(data)):
                envelope = self.encrypt(*self.addresses(), data=data)
                self.assertEqual(len(json.loads(envelope)["recipients"]), 3)
                self.assertEqual(self.decrypt(envelope), data)

    def test_offline_from_fetched_files_round_trips(self):
        files = self.fetch_all()
        for data in (b"", BINARY, os.urandom(MAX_PAYLOAD)):
            with self.subTest(size=len(data)):
                envelope = self.encrypt(*files, data=data)
                self.assertEqual(self.decrypt(envelope), data)

    def test_mixed_online_and_offline_round_trips(self):
        files = self.fetch_all()
        for data in (b"", BINARY, os.urandom(MAX_PAYLOAD)):
            with self.subTest(size=len(data)):
                envelope = self.encrypt(files[0], self.servers[1].address, files[2], data=data)
                recipients = json.loads(envelope)["recipients"]
                self.assertEqual(len(recipients), 3)
                self.assertEqual(self.decrypt(envelope), data)

    def test_offline_encryption_contacts_no_server(self):
        files = self.fetch_all()
        before = [s.log.count("GET /v1/chain") for s in self.servers]
        self.encrypt(*files, data=b"quiet")
        after = [s.log.count("GET /v1/chain") for s in self.servers]
        self.assertEqual(before, after)

    def test_input_over_the_limit_is_refused_before_any_network_traffic(self):
        down = "127.0.0.1:%d" % peterah.free_port()  # would fail with 4 if contacted
        proc = petera(anchor(), "encrypt", down, stdin=b"x" * (MAX_PAYLOAD + 1))
        self.assertFailed(proc, EXIT_USAGE, "larger than 16 MiB")
        self.assertEqual(len(stderr_lines(proc)), 1)

    def test_decrypt_tries_servers_concurrently_and_is_verbose_on_request(self):
        marker = b"PLAINTEXT-MARKER-1f3c"
        envelope = self.encrypt(*self.addresses(), data=marker, args=("-v",))
        proc = petera("-v", anchor(), "decrypt", stdin=envelope)
        self.assertEqual(self.assertOk(proc), marker)
        err = proc.stderr.decode()
        # Every server is contacted before any answer is used; the first
        # valid answer ends the others, which may not have got further.
        recovered = err.index("content key recovered")
        for s in self.servers:
            self.assertLess(err.index("%s: connecting" % s.address), recovered, err)
        self.assertIn(": TLS certificate trusted", err[:recovered])
        self.assertNotIn(marker.decode(), err)  # the plaintext never shows

    def test_inspect_lists_recipients_without_network(self):
        envelope = self.encrypt(*self.addresses(), data=b"i")
        out = self.assertOk(petera(anchor(), "inspect", stdin=envelope)).decode()
        for s in self.servers:
            self.assertIn(s.address, out)
        self.assertIn("RSA-OAEP-256", out)
        self.assertIn("ECDH-ES+A256KW", out)
        self.assertEqual(out.count("trusted by the anchor"), 3)
        bare = self.assertOk(petera("inspect", stdin=envelope)).decode()
        self.assertEqual(bare.count("not checked (no anchor given)"), 3)
        other = pki() / "bad" / "otherroot-anchor.pem"
        self.assertEqual(
            self.assertOk(petera(other, "inspect", stdin=envelope)).decode().count("NOT trusted"), 3)


class FreshServers(ClientTestCase):
    """Each test starts its own three servers, s1 (EC), s2 (RSA) and s3
    (EC), as it kills some."""

    def setUp(self):
        self.servers = [start_server("s1", "ec"), start_server("s2", "rsa"),
                        start_server("s3", "ec")]
        self.data = BINARY

    def tearDown(self):
        for s in self.servers:
            s.stop()

    def addresses(self):
        return [s.address for s in self.servers]


class Failover(FreshServers):

    def setUp(self):
        super().setUp()
        self.envelope = self.encrypt(*self.addresses(), data=self.data)

    def test_all_up(self):
        self.assertEqual(self.decrypt(self.envelope), self.data)

    def test_one_killed(self):
        self.servers[0].kill()
        self.assertEqual(self.decrypt(self.envelope), self.data)

    def test_two_killed(self):
        self.servers[0].kill()
        self.servers[2].kill()
        self.assertEqual(self.decrypt(self.envelope), self.data)

    def test_all_down_fails_with_a_line_per_server(self):
        for s in self.servers:
            s.kill()
        proc = petera(anchor(), "decrypt", stdin=self.envelope)
        self.assertFailed(proc, EXIT_NETWORK, "decryption failed")
        lines = stderr_lines(proc)
        self.assertEqual(len(lines), 4, lines)
        for s in self.servers:
            self.assertEqual(sum(s.address in l for l in lines), 1, lines)

    def test_hanging_server_does_not_block_a_live_one(self):
        hang = HangingServer()
        try:
            # A recipient recorded at the hanging server (s1's certificate,
            # which names 127.0.0.1) plus a live s2.
            target = server_pem(hang.address, pki() / "s1" / "encrypt-ec.pem")
            envelope = self.encrypt(target, self.servers[1].address, data=self.data)
            start = time.monotonic()
            proc = petera("--timeout", "60", anchor(), "decrypt", stdin=envelope)
            elapsed = time.monotonic() - start
            self.assertEqual(self.assertOk(proc), self.data)
            self.assertLess(elapsed, 30, "a hanging server held up decryption")
            deadline = time.monotonic() + 5  # its accept thread may lag behind
            while not hang.accepted and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertTrue(hang.accepted, "the hanging server was not even tried")
        finally:
            hang.close()

    def test_hanging_server_alone_times_out(self):
        hang = HangingServer()
        try:
            target = server_pem(hang.address, pki() / "s1" / "encrypt-ec.pem")
            envelope = self.encrypt(target, data=self.data)
            proc = petera("--timeout", "2", anchor(), "decrypt", stdin=envelope)
            self.assertFailed(proc, EXIT_NETWORK, hang.address, "timed out after 2 s")
        finally:
            hang.close()

    def test_dead_hosts_given_on_the_command_line_do_not_block_a_live_one(self):
        dead = "127.0.0.1:%d" % peterah.free_port()
        out = self.decrypt(self.envelope, dead, self.servers[2].address)
        self.assertEqual(out, self.data)


class Threshold(FreshServers):
    """--threshold: three servers, any two of which decrypt."""

    def setUp(self):
        super().setUp()
        self.envelope = self.encrypt(*self.addresses(), data=self.data,
                                     args=("--threshold", "2"))

    def test_all_up_uses_two_shares(self):
        proc = petera("-v", anchor(), "decrypt", stdin=self.envelope)
        self.assertEqual(self.assertOk(proc), self.data)
        err = proc.stderr.decode()
        self.assertEqual(err.count("recovered"), 2, err)
        self.assertIn("decrypted", err)

    def test_one_killed(self):
        self.servers[1].kill()
        self.assertEqual(self.decrypt(self.envelope), self.data)

    def test_two_killed_is_refused_with_the_count_of_shares(self):
        self.servers[0].kill()
        self.servers[2].kill()
        proc = petera(anchor(), "decrypt", stdin=self.envelope)
        self.assertFailed(proc, EXIT_NETWORK,
                          "recovered 1 of the 2 key shares the envelope needs")
        lines = stderr_lines(proc)
        self.assertEqual(len(lines), 3, lines)  # one per dead server, then the summary

    def test_hosts_given_on_the_command_line(self):
        out = self.decrypt(self.envelope, self.servers[0].address, self.servers[2].address)
        self.assertEqual(out, self.data)
        # One host holds one share, and 404 for the other recipients' keys.
        proc = petera(anchor(), "decrypt", self.servers[0].address, stdin=self.envelope)
        self.assertFailed(proc, EXIT_PROTOCOL, "recovered 1 of the 2")

    def test_every_server_when_the_threshold_is_all_of_them(self):
        envelope = self.encrypt(*self.addresses(), data=self.data, args=("--threshold", "3"))
        self.assertEqual(self.decrypt(envelope), self.data)
        self.servers[0].kill()
        proc = petera(anchor(), "decrypt", stdin=envelope)
        self.assertFailed(proc, EXIT_NETWORK, "recovered 2 of the 3")

    def test_a_hanging_server_does_not_hold_up_the_others(self):
        hang = HangingServer()
        try:
            target = server_pem(hang.address, pki() / "s1" / "encrypt-ec.pem")
            envelope = self.encrypt(target, self.servers[1].address, self.servers[2].address,
                                    data=self.data, args=("--threshold", "2"))
            start = time.monotonic()
            proc = petera("--timeout", "60", anchor(), "decrypt", stdin=envelope)
            elapsed = time.monotonic() - start
            self.assertEqual(self.assertOk(proc), self.data)
            self.assertLess(elapsed, 30, "a hanging server held up decryption")
        finally:
            hang.close()

    def test_inspect_shows_the_threshold_and_the_shares(self):
        out = self.assertOk(petera(anchor(), "inspect", stdin=self.envelope)).decode()
        self.assertIn("3 recipients, any 2 of which decrypt", out)
        for share in (1, 2, 3):
            self.assertIn("share:       %d\n" % share, out)

    def test_too_few_trusted_recipients_stop_before_any_request(self):
        # Encrypted under an anchor that trusts two roots; decrypted under
        # one that trusts only one of them.
        both = peterah.temp_dir("anchors-") / "both.pem"
        both.write_text(anchor().read_text() +
                        (pki() / "bad" / "otherroot-anchor.pem").read_text())
        foreign = server_pem("127.0.0.1:5700", pki() / "bad" / "otherroot-encrypt.pem")
        ours = server_pem(self.servers[0].address, pki() / "s1" / "encrypt-ec.pem")
        envelope = self.assertOk(petera(both, "encrypt", "--threshold", "2", foreign, ours,
                                        stdin=b"x"))
        before = self.servers[0].log.count("POST /v1/recover")
        proc = petera(anchor(), "decrypt", stdin=envelope)
        self.assertFailed(proc, EXIT_TRUST, "the envelope needs 2 servers, but only 1 of its 2 "
                                            "recipients is trusted by the anchor")
        self.assertEqual(self.servers[0].log.count("POST /v1/recover"), before)

    def test_the_same_server_or_key_twice_is_refused(self):
        port = self.servers[0].port
        # The same server under another name: the same key.
        by_name = server_pem("localhost:%d" % port, pki() / "s1" / "encrypt-ec.pem")
        proc = petera(anchor(), "encrypt", "--threshold", "2", self.servers[0].address, by_name,
                      stdin=b"x")
        self.assertFailed(proc, EXIT_USAGE, "have the same encryption key")
        # The same address with another key (as after a rotation).
        other_key = server_pem(self.servers[0].address, pki() / "s3" / "encrypt-ec.pem")
        proc = petera(anchor(), "encrypt", "--threshold", "2", self.servers[0].address, other_key,
                      stdin=b"x")
        self.assertFailed(proc, EXIT_USAGE, "are the same server")
        # Without a threshold both are allowed: any one of them opens it.
        self.encrypt(self.servers[0].address, by_name, other_key)

    def test_a_threshold_over_the_number_of_targets_is_a_usage_error(self):
        down = "127.0.0.1:%d" % peterah.free_port()  # would fail with 4 if contacted
        for value, needle in (("3", "--threshold 3 needs at least 3 TARGETs, got 2"),
                              ("0", "--threshold"), ("x", "--threshold")):
            with self.subTest(threshold=value):
                proc = petera(anchor(), "encrypt", "--threshold", value, down, down,
                              stdin=b"x")
                self.assertFailed(proc, EXIT_USAGE, needle)


class EncryptRefusals(ClientTestCase):

    @classmethod
    def setUpClass(cls):
        cls.good = start_server("s1", "ec")

    @classmethod
    def tearDownClass(cls):
        cls.good.stop()

    def refuse(self, targets, code, *needles):
        proc = petera(anchor(), "encrypt", *targets, stdin=b"never written")
        self.assertFailed(proc, code, *needles)
        return proc

    def test_empty_input_is_refused_before_any_request_unless_allowed(self):
        fetches = self.good.log.count("GET /v1/chain")
        proc = petera(anchor(), "encrypt", self.good.address, stdin=b"")
        self.assertFailed(proc, EXIT_USAGE, "the input to encrypt is empty", "--allow-empty")
        self.assertEqual(len(stderr_lines(proc)), 1)
        self.assertEqual(self.good.log.count("GET /v1/chain"), fetches, "a request was sent")
        envelope = self.assertOk(petera(anchor(), "encrypt", "--allow-empty", self.good.address,
                                        stdin=b""))
        self.assertEqual(self.assertOk(petera(anchor(), "decrypt", stdin=envelope)), b"")

    def test_target_that_is_down(self):
        down = "127.0.0.1:%d" % peterah.free_port()
        proc = self.refuse([down], EXIT_NETWORK, down)
        self.assertEqual(len(stderr_lines(proc)), 1)

    def test_one_target_down_among_good_ones_writes_nothing(self):
        down = "127.0.0.1:%d" % peterah.free_port()
        fetched = self.assertOk(petera(anchor(), "fetch", self.good.address))
        path = peterah.temp_dir("t-") / "good.pem"
        path.write_bytes(fetched)
        self.refuse([self.good.address, path, down], EXIT_NETWORK, down)

    def test_tls_signed_by_another_root(self):
        bad = pki() / "bad"
        with server(tls=bad / "otherroot-tls.pem") as s:
            self.refuse([s.address], EXIT_TRUST, s.address, "TLS certificate not trusted")
            self.assertNotIn("GET /v1/chain", s.log)  # nothing sent before validation

    def test_encryption_chain_signed_by_another_root(self):
        bad = pki() / "bad"
        d = decrypt_dir((bad / "otherroot-encrypt.pem", bad / "otherroot-encrypt-key.pem"))
        with server(encrypt=bad / "otherroot-encrypt.pem", decrypt=d) as s:
            self.refuse([s.address], EXIT_TRUST, "encryption certificate not trusted",
                        "anchor")
        self.refuse([server_pem("127.0.0.1:5700", bad / "otherroot-encrypt.pem")], EXIT_TRUST)

    def test_tls_name_that_does_not_match(self):
        with server(tls=pki() / "bad" / "tls-wrongname.pem") as s:
            self.refuse([s.address], EXIT_TRUST, "not in subjectAltName")

    def test_tls_certificate_with_common_name_only(self):
        with server(tls=pki() / "bad" / "tls-cn-only.pem") as s:
            self.refuse(["localhost:%d" % s.port], EXIT_TRUST, "TLS certificate not trusted")

    def test_expired_tls_certificate(self):
        with server(tls=pki() / "bad" / "expired-tls.pem") as s:
            self.refuse([s.address], EXIT_TRUST, "expired")

    def test_encryption_name_that_does_not_match(self):
        # s1's encryption certificate names localhost and 127.0.0.1, not ::1,
        # while its TLS certificate also names ::1.
        port6 = peterah.free_port()
        with server(extra_args=("--listen", "[::1]:%d" % port6)) as s:
            self.refuse(["[::1]:%d" % port6], EXIT_TRUST, "encryption certificate not trusted",
                        "not in subjectAltName")
            self.assertTrue(s.wait_for_log("GET /v1/chain"), s.log)
        moved = server_pem("elsewhere.example:5700", pki() / "s1" / "encrypt-ec.pem")
        self.refuse([moved], EXIT_TRUST, "not in subjectAltName")

    def test_expired_encryption_certificate(self):
        bad = pki() / "bad"
        d = decrypt_dir((bad / "expired-encrypt.pem", bad / "expired-encrypt-key.pem"))
        with server(encrypt=bad / "expired-encrypt.pem", decrypt=d) as s:
            self.refuse([s.address], EXIT_TRUST, "expired on 2021-01-01")
        self.refuse([server_pem(self.good.address, bad / "expired-encrypt.pem")],
                    EXIT_TRUST, "expired")

    def test_revoked_encryption_certificate_with_crl(self):
        bad = pki() / "bad"
        target = server_pem(self.good.address, bad / "revoked-encrypt.pem")
        proc = petera("--crl", bad / "crl.pem", anchor(), "encrypt", target, stdin=b"x")
        self.assertFailed(proc, EXIT_TRUST, "revoked")

    def test_weak_encryption_certificates(self):
        bad = pki() / "bad"
        for name in ("sha1-encrypt.pem", "rsa1024-encrypt.pem", "notyet-encrypt.pem"):
            with self.subTest(name=name):
                self.refuse([server_pem(self.good.address, bad / name)], EXIT_TRUST)

    def test_target_file_with_a_private_key(self):
        self.refuse([pki() / "s1" / "decrypt.d" / "ec.pem"], EXIT_USAGE, "private key")


class Rotation(ClientTestCase):

    def test_old_and_new_envelopes_decrypt_after_rotation(self):
        s1 = pki() / "s1"
        with server("s1", "ec") as old:
            port = old.port
            old_envelope = self.encrypt(old.address, data=b"before rotation")
        rotated_d = private_dir("rotated-d-")
        for f in (s1 / "decrypt.d").iterdir():
            shutil.copy(f, rotated_d / f.name)
        shutil.copy(s1 / "rotated" / "ec.pem", rotated_d / "rotated-ec.pem")
        for f in rotated_d.iterdir():
            os.chmod(f, 0o600)
        with server(encrypt=s1 / "rotated" / "encrypt-ec.pem", decrypt=rotated_d,
                          port=port) as new:
            new_envelope = self.encrypt(new.address, data=b"after rotation")
            old_kid = json.loads(old_envelope)["recipients"][0]["header"]["kid"]
            new_kid = json.loads(new_envelope)["recipients"][0]["header"]["kid"]
            self.assertNotEqual(old_kid, new_kid)
            x5c = json.loads(new_envelope)["recipients"][0]["header"]["x5c"][0]
            rotated_leaf = pem_blocks(s1 / "rotated" / "encrypt-ec.pem")[0][1]
            der = base64.b64decode("".join(rotated_leaf.splitlines()[1:-1]))
            self.assertEqual(base64.b64decode(x5c), der, "new envelopes use the new cert")
            self.assertEqual(self.decrypt(old_envelope), b"before rotation")
            self.assertEqual(self.decrypt(new_envelope), b"after rotation")


class TrustAtDecrypt(ClientTestCase):

    def test_wrong_anchor_is_refused_before_any_request(self):
        with server("s1", "ec") as s:
            envelope = self.encrypt(s.address, data=b"x")
            self.assertTrue(s.wait_for_log("GET /v1/chain"), s.log)
            before = recover_count(s)
            proc = petera(pki() / "bad" / "otherroot-anchor.pem", "decrypt", stdin=envelope)
            self.assertFailed(proc, EXIT_TRUST, "not trusted")
            time.sleep(0.2)
            self.assertEqual(recover_count(s), before)
            connections = s.log.count("GET ") + s.log.count("POST ")
            proc = petera(pki() / "bad" / "otherroot-anchor.pem", "decrypt", s.address,
                          stdin=envelope)
            self.assertFailed(proc, EXIT_TRUST)
            self.assertEqual(s.log.count("GET ") + s.log.count("POST "), connections)

    def test_server_with_untrusted_tls_is_not_asked(self):
        with server("s1", "ec") as good:
            envelope = self.encrypt(good.address, data=b"x")
            port = good.port
        with server(tls=pki() / "bad" / "otherroot-tls.pem", port=port) as s:
            proc = petera(anchor(), "decrypt", stdin=envelope)
            self.assertFailed(proc, EXIT_TRUST, "TLS certificate not trusted")
            self.assertEqual(recover_count(s), 0)

    def test_server_without_the_key_is_a_protocol_failure(self):
        with server("s1", "ec") as s1:
            envelope = self.encrypt(s1.address, data=b"x")
        with server("s2", "ec") as s2:
            proc = petera(anchor(), "decrypt", s2.address, stdin=envelope)
            self.assertFailed(proc, EXIT_PROTOCOL, "404")


class ExpiredEncryptionCertificate(ClientTestCase):
    """An envelope made while its encryption certificate was valid decrypts
    after the certificate expired."""

    def test_envelope_outlives_its_certificate(self):
        if shutil.which("faketime") is None:
            self.skipTest("faketime is not installed (apt-get install faketime)")
        bad = pki() / "bad"
        s1 = pki() / "s1"
        d = decrypt_dir((s1 / "decrypt.d" / "ec.pem", None),
                        (bad / "expired-encrypt.pem", bad / "expired-encrypt-key.pem"))
        with server("s1", "ec", decrypt=d) as s:
            target = server_pem(s.address, bad / "expired-encrypt.pem")
            cmd = ["faketime", "2020-06-01 12:00:00", peterah.petera_bin(), str(anchor()),
                   "encrypt", str(target)]
            env = dict(os.environ)
            # faketime's LD_PRELOAD comes before ASan's runtime in sanitizer builds.
            env["ASAN_OPTIONS"] = "verify_asan_link_order=0:" + env.get("ASAN_OPTIONS", "")
            proc = subprocess.run(cmd, input=b"from 2020", stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, timeout=60, env=env)
            self.assertEqual(proc.returncode, 0, proc.stderr.decode())
            envelope = proc.stdout
            # Today the certificate has expired: encrypting to it is refused...
            self.assertFailed(petera(anchor(), "encrypt", target, stdin=b"x"),
                              EXIT_TRUST, "expired")
            # ...but the envelope made in 2020 still decrypts.
            self.assertEqual(self.decrypt(envelope), b"from 2020")
            self.assertTrue(s.wait_for_log("POST /v1/recover"), s.log)
            self.assertEqual(recover_count(s), 1)


class HostsOverride(ClientTestCase):

    def test_server_moved_to_a_new_port(self):
        with server("s1", "ec") as s:
            envelope = self.encrypt(s.address, data=b"moved")
        with server("s1", "ec") as moved:
            self.assertFailed(petera("--timeout", "3", anchor(), "decrypt", stdin=envelope),
                              EXIT_NETWORK)
            self.assertEqual(self.decrypt(envelope, moved.address), b"moved")
            # A name other than the recorded one still gets every recipient.
            self.assertEqual(self.decrypt(envelope, "localhost:%d" % moved.port), b"moved")

    def test_recipients_with_the_same_name_are_tried_first_on_one_connection(self):
        with server("s2", "ec") as s2, server("s1", "ec") as s1:
            # Recipient 1 is s2's key, recipient 2 is s1's key; both recorded
            # under 127.0.0.1 at different ports.
            envelope = self.encrypt(s2.address, s1.address, data=b"both")
            self.assertEqual(self.decrypt(envelope, s1.address), b"both")
            self.assertTrue(s1.wait_for_log("POST /v1/recover 200"), s1.log)
            lines = [l for l in s1.log.splitlines() if "POST /v1/recover" in l]
            self.assertEqual(len(lines), 2, lines)
            self.assertIn("POST /v1/recover 404", lines[0])
            self.assertIn("POST /v1/recover 200", lines[1])
            # Both on one keep-alive connection: the same client address.
            peers = {l.split(" POST ")[0].split()[-1] for l in lines}
            self.assertEqual(len(peers), 1, lines)


class Tampering(ClientTestCase):

    @classmethod
    def setUpClass(cls):
        cls.server = start_server("s1", "ec")
        cls.envelope = petera(anchor(), "encrypt", cls.server.address,
                              stdin=BINARY).stdout

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def tampered(self, member):
        jwe = json.loads(self.envelope)
        raw = bytearray(b64u_decode(jwe[member]))
        raw[len(raw) // 2] ^= 0x01
        jwe[member] = b64u_encode(bytes(raw))
        return json.dumps(jwe).encode()

    def test_untouched_envelope_decrypts(self):
        self.assertEqual(self.decrypt(self.envelope), BINARY)

    def test_tampered_ciphertext_tag_or_iv_is_exit_6_without_output(self):
        for member in ("ciphertext", "tag", "iv"):
            with self.subTest(member=member):
                proc = petera(anchor(), "decrypt", stdin=self.tampered(member))
                self.assertFailed(proc, EXIT_CORRUPT, "corrupt or was tampered with")

    def test_tampered_encrypted_key_is_exit_6_without_output(self):
        jwe = json.loads(self.envelope)
        header = jwe["recipients"][0]
        raw = bytearray(b64u_decode(header["encrypted_key"]))
        raw[3] ^= 0x01
        header["encrypted_key"] = b64u_encode(bytes(raw))
        proc = petera(anchor(), "decrypt", stdin=json.dumps(jwe).encode())
        self.assertFailed(proc, EXIT_CORRUPT, self.server.address, "decryption failed")

    def test_truncated_envelope_writes_nothing(self):
        proc = petera(anchor(), "decrypt", stdin=self.envelope[: len(self.envelope) // 2])
        self.assertNotEqual(proc.returncode, 0)
        self.assertEqual(proc.stdout, b"")
        self.assertEqual(len(stderr_lines(proc)), 1)

    def test_oversized_envelope_is_refused(self):
        proc = petera(anchor(), "decrypt", stdin=b" " * (MAX_PAYLOAD // 3 * 4 + (1 << 20) + 1))
        self.assertFailed(proc, EXIT_USAGE, "larger than")


class VerifyCommand(ClientTestCase):

    def verify(self, *args, anchor_path=None):
        return petera(anchor_path or anchor(), "verify", *args)

    def test_trusted_encryption_chain(self):
        out = self.assertOk(self.verify(pki() / "s1" / "encrypt-ec.pem")).decode()
        self.assertEqual(len(out.splitlines()), 1)
        self.assertIn("trusted as an encryption certificate for localhost", out)
        self.assertIn("CN=s1.petera.test", out)
        self.assertIn("<- CN=Petera Demo Intermediate CA", out)
        self.assertIn("expires 2045-01-01", out)

    def test_trusted_tls_chain_with_its_key_in_the_file(self):
        out = self.assertOk(self.verify("--tls", "--name", "s2.petera.test",
                                        pki() / "s2" / "tls.pem")).decode()
        self.assertIn("trusted as a TLS server certificate for s2.petera.test", out)

    def test_expired(self):
        self.assertFailed(self.verify(pki() / "bad" / "expired-encrypt.pem"), EXIT_TRUST,
                          "expired on 2021-01-01")

    def test_wrong_name(self):
        self.assertFailed(self.verify("--name", "other.example", pki() / "s1" / "encrypt-ec.pem"),
                          EXIT_TRUST, "name other.example not in subjectAltName")
        self.assertFailed(self.verify("--tls", pki() / "bad" / "tls-wrongname.pem",
                                      "--name", "localhost"), EXIT_TRUST, "not in subjectAltName")

    def test_other_root(self):
        self.assertFailed(self.verify(pki() / "s1" / "encrypt-ec.pem",
                                      anchor_path=pki() / "bad" / "otherroot-anchor.pem"),
                          EXIT_TRUST, "does not lead to any certificate in the anchor")

    def test_tls_certificate_without_server_auth(self):
        self.assertFailed(self.verify("--tls", "--name", "localhost",
                                      pki() / "bad" / "tls-noserverauth.pem"), EXIT_TRUST)

    def test_encryption_certificate_is_not_a_tls_certificate(self):
        self.assertFailed(self.verify("--tls", pki() / "s1" / "encrypt-ec.pem"), EXIT_TRUST)

    def test_revoked_only_with_crl(self):
        revoked = pki() / "bad" / "revoked-encrypt.pem"
        self.assertOk(self.verify(revoked))
        self.assertFailed(petera("--crl", pki() / "bad" / "crl.pem", anchor(), "verify", revoked),
                          EXIT_TRUST, "revoked")

    def test_cn_only_tls_certificate_is_refused_although_openssl_accepts_it(self):
        blocks = pem_blocks(pki() / "bad" / "tls-cn-only.pem")
        certs = [text for kind, text in blocks if kind == "CERTIFICATE"]
        d = peterah.temp_dir("cn-only-")
        (d / "leaf.pem").write_text(certs[0])
        (d / "untrusted.pem").write_text("".join(certs[1:]))
        openssl = subprocess.run(
            ["openssl", "verify", "-CAfile", str(anchor()), "-untrusted", str(d / "untrusted.pem"),
             "-verify_hostname", "localhost", str(d / "leaf.pem")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertEqual(openssl.returncode, 0, openssl.stdout + openssl.stderr)
        self.assertFailed(self.verify("--tls", "--name", "localhost",
                                      pki() / "bad" / "tls-cn-only.pem"), EXIT_TRUST)

    def test_tls_and_encryption_together_is_a_usage_error(self):
        self.assertFailed(self.verify("--tls", "--encryption", pki() / "s1" / "tls.pem"),
                          EXIT_USAGE)

    def test_fetched_file_is_checked_for_its_recorded_host(self):
        moved = server_pem("elsewhere.example:5700", pki() / "s1" / "encrypt-ec.pem")
        self.assertFailed(self.verify(moved), EXIT_TRUST, "elsewhere.example")


class SocketActivated(ClientTestCase):

    def test_round_trip_through_socket_activated_servers(self):
        if shutil.which("systemd-socket-activate") is None:
            self.skipTest("systemd-socket-activate is not installed")
        with server("s1", "p384", mode="socket") as s1, \
                server("s2", "rsa", mode="socket") as s2:
            envelope = self.encrypt(s1.address, s2.address, data=BINARY)
            self.assertEqual(self.decrypt(envelope), BINARY)
            s1.kill()
            self.assertEqual(self.decrypt(envelope), BINARY)


class CommandLine(ClientTestCase):

    def test_help_shows_the_anchor_before_the_command(self):
        out = self.assertOk(petera("--help")).decode()
        self.assertIn("Usage: petera [OPTIONS] ANCHOR.pem COMMAND", out)
        for command in ("fetch", "encrypt", "decrypt", "verify", "inspect", "Examples:"):
            self.assertIn(command, out)
        sub = self.assertOk(petera(anchor(), "encrypt", "--help")).decode()
        self.assertIn("Usage: petera [OPTIONS] ANCHOR.pem encrypt [--threshold T] TARGET...", sub)
        self.assertIn("offline", sub)

    def test_version(self):
        self.assertTrue(self.assertOk(petera("--version")).decode().startswith("petera "))

    def test_usage_errors_are_one_line_and_exit_2(self):
        cases = [
            (),
            (anchor(),),
            ("encrypt", "localhost"),              # no anchor
            (anchor(), "encrypt"),                 # no target
            (anchor(), "fetch", "bad host name"),
            (anchor(), "--timeout", "0", "decrypt"),
            (anchor(), "--no-such-option", "decrypt"),
            (pki() / "missing-anchor.pem", "decrypt"),
            (pki() / "s1" / "tls.pem", "decrypt"),  # an anchor with a private key
        ]
        for args in cases:
            with self.subTest(args=args):
                proc = petera(*args)
                self.assertFailed(proc, EXIT_USAGE)
                self.assertEqual(len(stderr_lines(proc)), 1, stderr_lines(proc))

    def test_options_may_follow_the_command(self):
        with server("s1", "ec") as s:
            envelope = self.assertOk(petera(anchor(), "encrypt", "--timeout", "5", s.address,
                                            stdin=b"o"))
            self.assertEqual(self.assertOk(petera(anchor(), "decrypt", "-v", stdin=envelope)),
                             b"o")

    def test_write_error_is_reported(self):
        with server("s1", "ec") as s:
            with open("/dev/full", "wb") as full:
                proc = subprocess.run([peterah.petera_bin(), str(anchor()), "fetch", s.address],
                                      stdout=full, stderr=subprocess.PIPE, timeout=60)
            self.assertEqual(proc.returncode, EXIT_INTERNAL, proc.stderr)
            self.assertIn(b"cannot write standard output", proc.stderr)


if __name__ == "__main__":
    unittest.main()
