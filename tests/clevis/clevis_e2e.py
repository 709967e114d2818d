# Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
"""End-to-end tests of Petera's Clevis pin (integrations/clevis/): Debian's
real clevis, jose and cryptsetup, the real petera client and real peterad
servers on loopback, with the demo PKI of certs-examples/make-pki.sh.

clevis finds pins on PATH, so the tests put integrations/clevis and the
directory of the petera being tested first on PATH; the pin has no test
hooks. Run through ctest (which sets PETERA_BIN, PETERAD_BIN,
PETERA_SOURCE_DIR), one test class per ctest entry:  clevis_e2e.py -v Luks
"""

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "harness"))
import peterah  # noqa: E402

PIN_DIR = peterah.source_dir() / "integrations" / "clevis"
BINARY = bytes(range(256)) * 4 + b"\x00\n\x00end\x00"
TOOLS = ("clevis", "jose", "cryptsetup", "pwmake", "jq")
TIMEOUT = 120  # every clevis and cryptsetup call is bounded by this


def pki():
    return peterah.make_pki()


def anchor():
    return pki() / "anchor.pem"


def pin_env():
    """The environment every clevis call runs in: the pin and the petera
    under test first on PATH."""
    env = dict(os.environ)
    petera_dir = str(Path(peterah.petera_bin()).resolve().parent)
    env["PATH"] = os.pathsep.join([str(PIN_DIR), petera_dir, env.get("PATH", "/usr/bin:/bin")])
    return env


def run(args, stdin=b"", timeout=TIMEOUT):
    """Runs a command in the pin's environment; stdin is bytes."""
    return subprocess.run([str(a) for a in args], input=stdin, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout, env=pin_env())


def clevis(*args, stdin=b"", timeout=TIMEOUT):
    return run(("clevis",) + args, stdin=stdin, timeout=timeout)


def config(*servers, **extra):
    cfg = {"anchor": str(anchor()), "servers": [str(s) for s in servers]}
    cfg.update(extra)
    return json.dumps(cfg)


def server(name="s1"):
    files = peterah.server_files(pki(), name, "ec")
    return peterah.Server(files["tls"], files["encrypt"], files["decrypt_dir"])


def b64u_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def protected_header(jwe):
    """The decoded protected header of a compact JWE (bytes)."""
    parts = jwe.decode().split(".")
    if len(parts) != 5:
        raise AssertionError("not a compact JWE: %d parts" % len(parts))
    return json.loads(b64u_decode(parts[0]))


def recover_count(srv):
    return srv.log.count("POST /v1/recover")


class HangingServer:
    """Accepts connections on loopback and never answers."""

    def __init__(self, port):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(16)
        self.accepted = []
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                self.accepted.append(self.sock.accept()[0])
            except OSError:
                pass

    def close(self):
        self._stop = True
        self._thread.join(timeout=10)
        for c in self.accepted:
            c.close()
        self.sock.close()


class PinTestCase(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        # A missing tool is a failure, not a skip.
        missing = [t for t in TOOLS if shutil.which(t, path=pin_env()["PATH"]) is None]
        if missing:
            raise AssertionError("missing tools (scripts/install-deps.sh installs them): %s"
                                 % " ".join(missing))
        for half in ("encrypt", "decrypt"):
            path = PIN_DIR / ("clevis-%s-petera" % half)
            if not os.access(path, os.X_OK):
                raise AssertionError("%s is not executable" % path)

    def assertOk(self, proc):
        self.assertEqual(proc.returncode, 0, proc.stderr.decode(errors="replace"))
        return proc.stdout

    def assertFailed(self, proc, *needles):
        err = proc.stderr.decode(errors="replace")
        self.assertNotEqual(proc.returncode, 0, "expected a failure; stderr: " + err)
        self.assertEqual(proc.stdout, b"", "stdout must stay empty on failure")
        self.assertTrue(err.strip(), "a failure must say why")
        for needle in needles:
            self.assertIn(needle, err)

    def encrypt(self, cfg, data=BINARY, pin="petera"):
        jwe = self.assertOk(clevis("encrypt", pin, cfg, stdin=data))
        self.assertEqual(jwe.count(b"."), 4, jwe[:200])
        return jwe

    def decrypt(self, jwe):
        return self.assertOk(clevis("decrypt", stdin=jwe))


class RoundTrip(PinTestCase):

    def test_binary_round_trip_through_clevis(self):
        with server("s1") as s1:
            jwe = self.encrypt(config(s1.address))
            self.assertEqual(self.decrypt(jwe), BINARY)
            self.assertGreaterEqual(recover_count(s1), 1)

    def test_empty_and_large_inputs(self):
        large = os.urandom(1 << 20)
        with server("s1") as s1:
            for data in (b"", large):
                with self.subTest(size=len(data)):
                    self.assertEqual(self.decrypt(self.encrypt(config(s1.address), data)), data)

    def test_header_carries_the_pin_and_a_petera_envelope(self):
        with server("s1") as s1:
            jwe = self.encrypt(config(s1.address, timeout=7))
            hdr = protected_header(jwe)
            self.assertEqual(hdr["clevis"]["pin"], "petera")
            self.assertEqual(hdr["enc"], "A256GCM")
            self.assertEqual(hdr["alg"], "dir")
            ours = hdr["clevis"]["petera"]
            self.assertEqual(ours["v"], 1)
            self.assertEqual(ours["anchor"], str(anchor()))
            self.assertEqual(ours["timeout"], 7)
            self.assertNotIn("servers", ours)
            envelope = json.dumps(ours["jwe"]).encode()
            self.assertEqual(len(ours["jwe"]["recipients"]), 1)
            self.assertEqual(ours["jwe"]["recipients"][0]["header"]["server"], s1.address)
            # The envelope escrows exactly the 32 bytes of an A256GCM key.
            key = self.assertOk(peterah.run_petera([anchor(), "decrypt"], envelope))
            self.assertEqual(len(key), 32)

    def test_offline_target_and_the_y_flag(self):
        with server("s2") as s2:
            pem = peterah.temp_dir("clevis-target-") / "s2.pem"
            pem.write_bytes(self.assertOk(peterah.run_petera([anchor(), "fetch", s2.address])))
            before = s2.log.count("GET /v1/chain")
            jwe = self.assertOk(clevis("encrypt", "petera", config(pem), "-y", stdin=BINARY))
            self.assertEqual(s2.log.count("GET /v1/chain"), before, "offline means offline")
            self.assertEqual(self.decrypt(jwe), BINARY)

    def test_tampered_jwe_fails_with_nothing_on_stdout(self):
        with server("s1") as s1:
            jwe = self.encrypt(config(s1.address))
            parts = jwe.split(b".")
            for index in (3, 4):  # ciphertext, then tag
                with self.subTest(part=index):
                    damaged = list(parts)
                    first = damaged[index][:1]
                    damaged[index] = (b"B" if first == b"A" else b"A") + damaged[index][1:]
                    proc = clevis("decrypt", stdin=b".".join(damaged))
                    self.assertFailed(proc, "clevis-decrypt-petera:", "damaged")

    def test_timeout_from_the_config_bounds_decryption(self):
        srv = server("s1").start()
        port = srv.port
        try:
            jwe = self.encrypt(config(srv.address, timeout=2))
        finally:
            srv.stop()
        hanging = HangingServer(port)
        try:
            proc = clevis("decrypt", stdin=jwe, timeout=60)
        finally:
            hanging.close()
        self.assertFailed(proc, "timed out after 2 s")

    def test_crl_from_the_config_is_checked_at_encrypt_and_decrypt(self):
        bad = pki() / "bad"
        crl = peterah.temp_dir("clevis-crl-") / "crl.pem"
        shutil.copyfile(bad / "crl.pem", crl)
        with server("s1") as s1:
            revoked = peterah.temp_dir("clevis-target-") / "revoked.pem"
            revoked.write_text("Petera-Server: %s\n" % s1.address +
                               (bad / "revoked-encrypt.pem").read_text())
            proc = clevis("encrypt", "petera", config(revoked, crl=str(crl)), stdin=b"x")
            self.assertFailed(proc, "revoked")

            jwe = self.encrypt(config(s1.address, crl=[str(crl)]))
            self.assertEqual(protected_header(jwe)["clevis"]["petera"]["crl"], [str(crl)])
            self.assertEqual(self.decrypt(jwe), BINARY)
            # Decryption reads the CRL recorded in the header.
            crl.write_text("not a CRL\n")
            self.assertFailed(clevis("decrypt", stdin=jwe), str(crl))


class Threshold(PinTestCase):

    def test_two_of_three_with_one_server_down(self):
        servers = [server(n).start() for n in ("s1", "s2", "s3")]
        try:
            jwe = self.encrypt(config(*[s.address for s in servers], threshold=2))
            self.assertEqual(protected_header(jwe)["clevis"]["petera"]["jwe"]
                             .get("recipients").__len__(), 3)
            servers[2].stop()
            self.assertEqual(self.decrypt(jwe), BINARY)
            servers[1].stop()
            self.assertFailed(clevis("decrypt", stdin=jwe), "recovered 1 of the 2")
        finally:
            for s in servers:
                s.stop()


class ServersDown(PinTestCase):

    def test_all_servers_down(self):
        servers = [server(n).start() for n in ("s1", "s2")]
        try:
            jwe = self.encrypt(config(*[s.address for s in servers]))
        finally:
            for s in servers:
                s.stop()
        proc = clevis("decrypt", stdin=jwe)
        self.assertFailed(proc, "Connection refused", "clevis-decrypt-petera:")

    def test_encrypt_to_a_server_that_is_down_writes_nothing(self):
        port = peterah.free_port()
        proc = clevis("encrypt", "petera", config("127.0.0.1:%d" % port), stdin=b"x")
        self.assertFailed(proc, "Connection refused", "clevis-encrypt-petera:")


class BadConfig(PinTestCase):

    def refuse(self, cfg, needle):
        proc = clevis("encrypt", "petera", cfg, stdin=b"secret")
        self.assertFailed(proc, needle)
        lines = proc.stderr.decode().strip().splitlines()
        self.assertEqual(len(lines), 1, proc.stderr)
        self.assertTrue(lines[0].startswith("clevis-encrypt-petera: "), lines[0])

    def test_refusals(self):
        a = str(anchor())
        cases = [
            ("not json", "configuration is malformed"),
            ("[1]", "configuration is malformed"),
            (json.dumps({"servers": ["127.0.0.1:1"]}), "missing the required 'anchor'"),
            (json.dumps({"anchor": "anchor.pem", "servers": ["h"]}), "must be an absolute path"),
            (json.dumps({"anchor": "/nonexistent/anchor.pem", "servers": ["h"]}),
             "cannot read the anchor"),
            (json.dumps({"anchor": a}), "missing the required 'servers'"),
            (json.dumps({"anchor": a, "servers": []}), "at least one server"),
            (json.dumps({"anchor": a, "servers": "h"}), "'servers' must be an array"),
            (json.dumps({"anchor": a, "servers": [1]}), "only strings"),
            (json.dumps({"anchor": a, "servers": [""]}), "empty string"),
            (json.dumps({"anchor": a, "servers": ["--crl"]}), "may not start with '-'"),
            (json.dumps({"anchor": a, "servers": ["h"], "threshold": 0}), "'threshold' must be between"),
            (json.dumps({"anchor": a, "servers": ["h"], "threshold": 2}), "'threshold' must be between"),
            (json.dumps({"anchor": a, "servers": ["h"], "threshold": -1}), "'threshold' must be between"),
            (json.dumps({"anchor": a, "servers": ["h"], "threshold": "1"}), "'threshold' must be an integer"),
            (json.dumps({"anchor": a, "servers": ["h"], "threshold": 1.5}), "'threshold' must be an integer"),
            (json.dumps({"anchor": a, "servers": ["h"], "timeout": 0}), "'timeout' must be between"),
            (json.dumps({"anchor": a, "servers": ["h"], "crl": "crl.pem"}), "'crl' paths must be absolute"),
            (json.dumps({"anchor": a, "servers": ["h"], "thresold": 1}), "unknown configuration property: thresold"),
        ]
        for cfg, needle in cases:
            with self.subTest(cfg=cfg):
                self.refuse(cfg, needle)

    def test_ocsp_setting_reaches_petera(self):
        self.refuse(config("h", ocsp="maybe"), "'ocsp' must be one of")
        self.refuse(config("h", ocsp=1), "'ocsp' must be one of")
        with server("s1") as s1:  # staples no OCSP response
            self.assertFailed(clevis("encrypt", "petera", config(s1.address, ocsp="require"),
                                     stdin=BINARY), "stapled no OCSP response")
            jwe = self.encrypt(config(s1.address, ocsp="off"))
            self.assertEqual(protected_header(jwe)["clevis"]["petera"]["ocsp"], "off")
            self.assertEqual(self.decrypt(jwe), BINARY)
            # Without the setting, none is written (petera's default applies).
            plain = self.encrypt(config(s1.address))
            self.assertNotIn("ocsp", protected_header(plain)["clevis"]["petera"])

    def test_client_certificate_settings_are_checked(self):
        a = str(anchor())
        cert = str(pki() / "clients" / "laptop1.pem")
        for cfg, needle in (
                ({"cert": "client.pem"}, "'cert' must be an absolute path"),
                ({"cert": 7}, "'cert' must be a string"),
                ({"key": "/etc/petera/client.key"}, "'key' needs 'cert'"),
                ({"cert": cert, "key": "client.key"}, "'key' must be an absolute path or handle:0x"),
                ({"cert": cert, "key": "handle:0x123456789"}, "'key' must be an absolute path or handle:0x")):
            with self.subTest(cfg=cfg):
                self.refuse(json.dumps(dict({"anchor": a, "servers": ["h"]}, **cfg)), needle)

    def test_usage_without_config(self):
        proc = clevis("encrypt", "petera", stdin=b"")
        self.assertEqual(proc.returncode, 2)
        self.assertEqual(proc.stdout, b"")
        self.assertIn(b"Usage: clevis encrypt petera CONFIG", proc.stderr)

    def test_decrypt_refuses_another_pins_jwe(self):
        jwe = self.encrypt("{}", pin="null")
        proc = run(["clevis-decrypt-petera"], stdin=jwe)
        self.assertFailed(proc, "pin mismatch")


class ClientCertificate(PinTestCase):

    def test_a_client_certificate_in_the_config_is_used_to_decrypt(self):
        files = peterah.server_files(pki(), "s2", "ec")
        guarded = peterah.Server(files["tls"], files["encrypt"], files["decrypt_dir"],
                                 extra_args=["--client-ca", pki() / "clients" / "ca.pem"])
        client = peterah.temp_dir("petera-clevis-") / "client.pem"
        client.write_bytes((pki() / "clients" / "laptop1.pem").read_bytes())
        client.chmod(0o600)
        with guarded:
            jwe = self.encrypt(config(guarded.address, cert=str(client)))
            self.assertEqual(protected_header(jwe)["clevis"]["petera"]["cert"], str(client))
            self.assertEqual(self.decrypt(jwe), BINARY)
            # Logged once the answer is written: wait for the line.
            self.assertTrue(guarded.wait_for_log("POST /v1/recover 200"), guarded.log)
            self.assertTrue(guarded.wait_for_log("client CN=laptop1.example.net"), guarded.log)
            # Without the certificate, the server refuses and clevis fails.
            bare = self.encrypt(config(guarded.address))
            self.assertFailed(clevis("decrypt", stdin=bare), "does not authorize this client")


class Sss(PinTestCase):

    def sss(self, t, petera_cfg):
        return json.dumps({"t": t, "pins": {"null": [{}], "petera": [json.loads(petera_cfg)]}})

    def test_null_and_petera_both_needed(self):
        srv = server("s1").start()
        try:
            jwe = self.encrypt(self.sss(2, config(srv.address)), pin="sss")
            self.assertEqual(protected_header(jwe)["clevis"]["pin"], "sss")
            self.assertEqual(self.decrypt(jwe), BINARY)
        finally:
            srv.stop()
        self.assertFailed(clevis("decrypt", stdin=jwe))

    def test_null_or_petera(self):
        srv = server("s1").start()
        try:
            jwe = self.encrypt(self.sss(1, config(srv.address)), pin="sss")
        finally:
            srv.stop()
        self.assertEqual(self.decrypt(jwe), BINARY)  # null alone suffices

    def test_petera_inside_nested_sss(self):
        with server("s1") as s1, server("s2") as s2:
            inner = {"t": 1, "pins": {"petera": [json.loads(config(s1.address))]}}
            outer = json.dumps({"t": 2, "pins": {"sss": [inner],
                                                 "petera": [json.loads(config(s2.address))]}})
            jwe = self.encrypt(outer, pin="sss")
            self.assertEqual(self.decrypt(jwe), BINARY)
            self.assertGreaterEqual(recover_count(s1), 1)
            self.assertGreaterEqual(recover_count(s2), 1)


PASSPHRASE = b"an existing passphrase for slot 0"


class Luks(PinTestCase):
    """A LUKS2 image in a plain file: no device-mapper needed."""

    def setUp(self):
        d = peterah.temp_dir("clevis-luks-")
        self.image = d / "disk.img"
        with open(self.image, "wb") as f:
            f.truncate(32 << 20)
        self.keyfile = d / "passphrase"
        self.keyfile.write_bytes(PASSPHRASE)
        os.chmod(self.keyfile, 0o600)
        self.assertOk(run(["cryptsetup", "luksFormat", "--type", "luks2", "--batch-mode",
                           "--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000",
                           "--key-file", self.keyfile, self.image]))

    def bind(self, pin, cfg):
        self.assertOk(clevis("luks", "bind", "-y", "-d", self.image, "-k", self.keyfile, pin, cfg))

    def listing(self):
        return self.assertOk(clevis("luks", "list", "-d", self.image)).decode()

    def pass_opens(self, slot):
        passphrase = self.assertOk(clevis("luks", "pass", "-d", self.image, "-s", str(slot)))
        self.assertTrue(passphrase)
        self.assertNotEqual(passphrase, PASSPHRASE)
        proc = run(["cryptsetup", "open", "--test-passphrase", "--key-slot", str(slot),
                    "--key-file", "-", self.image], stdin=passphrase)
        self.assertOk(proc)

    def test_bind_pass_unlock_and_list(self):
        with server("s1") as s1:
            self.bind("petera", config(s1.address))
            self.pass_opens(1)
            # unlock -t tests the slot's passphrase without device-mapper.
            self.assertOk(clevis("luks", "unlock", "-d", self.image, "-t", "1"))
            self.assertEqual(self.listing(), "1: unknown pin 'petera'\n")
        proc = clevis("luks", "pass", "-d", self.image, "-s", "1")
        self.assertFailed(proc, "Connection refused")

    def test_regen_and_edit_refuse_a_petera_slot_and_leave_it_alone(self):
        with server("s1") as s1:
            self.bind("petera", config(s1.address))
            token_before = self.token(0)
            proc = clevis("luks", "regen", "-q", "-d", self.image, "-s", "1")
            self.assertNotEqual(proc.returncode, 0)
            self.assertIn(b"Pin: unknown, Config: 'pin'", proc.stdout)
            self.assertIn(b"Unable to regenerate binding", proc.stderr)
            proc = clevis("luks", "edit", "-d", self.image, "-s", "1", "-c",
                          config(s1.address, timeout=3))
            self.assertNotEqual(proc.returncode, 0)
            self.assertIn(b"Error reading the configuration", proc.stderr)
            self.assertEqual(self.token(0), token_before)
            self.pass_opens(1)

    def test_sss_binding_is_listed_without_petera_and_regen_refuses(self):
        with server("s1") as s1:
            cfg = json.dumps({"t": 1, "pins": {"null": [{}],
                                               "petera": [json.loads(config(s1.address))]}})
            self.bind("sss", cfg)
            self.pass_opens(1)
            self.assertEqual(self.listing(), "1: sss '{\"t\":1,\"pins\":{}}'\n")
            token_before = self.token(0)
            proc = clevis("luks", "regen", "-q", "-d", self.image, "-s", "1")
            self.assertNotEqual(proc.returncode, 0)
            self.assertIn(b"Invalid threshold", proc.stderr)
            self.assertEqual(self.token(0), token_before)

    def test_rotation_by_binding_a_new_slot_then_unbinding_the_old(self):
        with server("s1") as s1, server("s2") as s2:
            self.bind("petera", config(s1.address))
            self.bind("petera", config(s2.address))
            self.assertEqual(self.listing(),
                             "1: unknown pin 'petera'\n2: unknown pin 'petera'\n")
            self.pass_opens(2)
            self.assertOk(clevis("luks", "unbind", "-f", "-d", self.image, "-s", "1"))
            self.assertEqual(self.listing(), "2: unknown pin 'petera'\n")
            self.pass_opens(2)
            # The original passphrase still opens slot 0.
            self.assertOk(run(["cryptsetup", "open", "--test-passphrase", "--key-slot", "0",
                               "--key-file", self.keyfile, self.image]))

    def token(self, token_id):
        return self.assertOk(run(["cryptsetup", "token", "export", "--token-id",
                                  str(token_id), self.image]))


if __name__ == "__main__":
    unittest.main()
