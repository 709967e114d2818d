#!/usr/bin/python3
# Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
"""Petera envelopes against an independent JOSE implementation.

python3-jwcrypto must decrypt every envelope petera_envtool writes with the
recipient's PEM private key, and petera_envtool must decrypt the JWEs
jwcrypto writes with the same fields. Keys and certificates are made with
the openssl command line tool: a P-256 root CA and one encryption leaf per
key type (P-256, P-384, P-521, RSA-3072), each leaf valid for localhost.

Run with Debian's /usr/bin/python3 (which has jwcrypto) and PETERA_ENVTOOL
set to the petera_envtool binary; ctest does both.
"""

import base64
import hashlib
import hmac
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from jwcrypto import jwa, jwe, jwk

ENVTOOL = os.environ.get("PETERA_ENVTOOL", "")
PROTECTED = {"enc": "A256GCM", "petera": 1}
# docs/format.md 6.4: the key commitment's HMAC message.
COMMITMENT_LABEL = b"petera/v1 content key commitment"
KEY_TYPES = ("p256", "p384", "p521", "rsa3072")
ALG = {"p256": "ECDH-ES+A256KW", "p384": "ECDH-ES+A256KW",
       "p521": "ECDH-ES+A256KW", "rsa3072": "RSA-OAEP-256"}
GENPKEY = {
    "p256": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
    "p384": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
    "p521": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521"],
    "rsa3072": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:3072"],
}
OPENSSL_CONF = """\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = placeholder
[root]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ec_leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,keyAgreement
subjectAltName = DNS:localhost,IP:127.0.0.1,IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[rsa_leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,keyEncipherment
subjectAltName = DNS:localhost,IP:127.0.0.1,IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""

PKI = None  # built once by setUpModule


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True)


class Pki:
    """A root CA and one encryption certificate per key type, in a temp dir."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="petera-interop-")
        self.conf = self.path("openssl.cnf")
        with open(self.conf, "w", encoding="ascii") as f:
            f.write(OPENSSL_CONF)
        self.anchor = self.path("root.pem")
        root_key = self.path("root.key")
        openssl("genpkey", *GENPKEY["p256"], "-out", root_key)
        openssl("req", "-config", self.conf, "-new", "-x509", "-key", root_key,
                "-subj", "/CN=Petera interop root", "-days", "3650",
                "-sha256", "-extensions", "root", "-out", self.anchor)
        self.key = {}
        self.chain = {}
        self.cert = {}
        for serial, kind in enumerate(KEY_TYPES, start=2):
            self._make_leaf(kind, serial, root_key)

    def path(self, name):
        return os.path.join(self.dir, name)

    def _make_leaf(self, kind, serial, root_key):
        key, csr, cert = (self.path(kind + ext) for ext in (".key", ".csr", ".pem"))
        openssl("genpkey", *GENPKEY[kind], "-out", key)
        openssl("req", "-config", self.conf, "-new", "-key", key,
                "-subj", "/CN=Petera interop " + kind, "-out", csr)
        openssl("x509", "-req", "-in", csr, "-CA", self.anchor, "-CAkey", root_key,
                "-set_serial", str(serial), "-days", "3650", "-sha256",
                "-extfile", self.conf,
                "-extensions", "rsa_leaf" if kind == "rsa3072" else "ec_leaf",
                "-out", cert)
        self.key[kind] = key
        self.chain[kind] = cert
        with open(cert, "rb") as f:
            self.cert[kind] = x509.load_pem_x509_certificate(f.read())

    def jwk(self, kind):
        with open(self.key[kind], "rb") as f:
            return jwk.JWK.from_pem(f.read())

    def public_jwk(self, kind):
        return jwk.JWK.from_pyca(self.cert[kind].public_key())

    def der(self, kind):
        return self.cert[kind].public_bytes(serialization.Encoding.DER)

    def kid(self, kind):
        spki = self.cert[kind].public_key().public_bytes(
            serialization.Encoding.DER,
            serialization.PublicFormat.SubjectPublicKeyInfo)
        return b64url(hashlib.sha256(spki).digest())

    def x5c(self, kind):
        return [base64.b64encode(self.der(kind)).decode("ascii")]

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def setUpModule():
    global PKI
    if not ENVTOOL or not os.access(ENVTOOL, os.X_OK):
        raise RuntimeError("PETERA_ENVTOOL must name the petera_envtool binary")
    PKI = Pki()


def tearDownModule():
    if PKI is not None:
        PKI.cleanup()


def envtool(*args, data=b""):
    return subprocess.run([ENVTOOL, *args], input=data, capture_output=True,
                          check=False)


def refused_cleanly(run):
    """envtool failed the way it should: its own exit status 1, one error
    line, nothing on stdout, and no sanitizer report (a crash under ASan or
    UBSan must not pass for a refusal)."""
    return (run.returncode == 1 and run.stdout == b""
            and run.stderr.startswith(b"petera_envtool: ")
            and b"Sanitizer" not in run.stderr and b"runtime error" not in run.stderr)


def petera_encrypt(data, *targets):
    """targets: (address, kind) pairs."""
    args = [f"{addr}={PKI.chain[kind]}" for addr, kind in targets]
    run = envtool("encrypt", *args, data=data)
    if run.returncode != 0:
        raise AssertionError("petera_envtool encrypt failed: " + run.stderr.decode())
    return run.stdout


def jwcrypto_decrypt(envelope, kind):
    token = jwe.JWE()
    token.deserialize(envelope.decode("utf-8"))
    try:
        token.decrypt(PKI.jwk(kind))
    except jwe.InvalidJWEData:
        # jwcrypto 1.1 reports an empty plaintext as "no recipient matched"
        # even though its own log says the decryption succeeded.
        if token.plaintext == b"" and "Success" in token.decryptlog:
            return b""
        raise
    return token.plaintext


def payloads():
    """Empty, short, every byte value, and larger random binary data."""
    return [b"", b"\x00", os.urandom(1), b"petera\n", bytes(range(256)) * 2,
            os.urandom(32), os.urandom(4097), os.urandom(200_000)]


def flattened_to_general(text):
    """RFC 7516 7.2.2 -> 7.2.1: jwcrypto writes one recipient flattened."""
    doc = json.loads(text)
    if "recipients" in doc:
        return text
    recipient = {"header": doc.pop("header"), "encrypted_key": doc.pop("encrypted_key")}
    doc["recipients"] = [recipient]
    return json.dumps(doc)


def commitment(cek):
    """The protected header's "commit" for a content key (format.md 6.4)."""
    return b64url(hmac.new(cek, COMMITMENT_LABEL, hashlib.sha256).digest())


def unwrap(recipient, kind):
    """What a recipient's encrypted_key holds, unwrapped by jwcrypto's key
    management with the private key of `kind`."""
    header = recipient["header"]
    alg = jwa.JWA.keymgmt_alg(header["alg"])
    return alg.unwrap(PKI.jwk(kind), 256, b64url_decode(recipient["encrypted_key"]), header)


def binding(header):
    """The protected header's "bind" entry for one recipient header."""
    digest = hashlib.sha256()
    for item in [header["kid"], header["server"], *header["x5c"]]:
        digest.update(item.encode("ascii") + b"\0")
    return b64url(digest.digest())


def jwcrypto_encrypt(data, kinds, server="localhost:5700", protected_overrides=None,
                     header_overrides=None, flattened=False):
    """A JWE with Petera's fields: the protected header is PROTECTED plus the
    bindings of the recipient headers, then `protected_overrides` (a None
    value removes a member). One recipient is written as jwcrypto writes it
    (flattened) with `flattened`, else in the General serialization."""
    headers = []
    for kind in kinds:
        header = {"alg": ALG[kind], "kid": PKI.kid(kind), "x5c": PKI.x5c(kind),
                  "server": server}
        header.update(header_overrides or {})
        headers.append(header)
    protected = dict(PROTECTED, bind=[binding(h) for h in headers])
    for name, value in (protected_overrides or {}).items():
        if value is None:
            protected.pop(name, None)
        else:
            protected[name] = value
    token = jwe.JWE(data, protected=json.dumps(protected))
    for kind, header in zip(kinds, headers):
        token.add_recipient(PKI.public_jwk(kind), header=json.dumps(header))
    if flattened:
        return token.serialize(compact=False).encode("utf-8")
    return flattened_to_general(token.serialize(compact=False)).encode("utf-8")


class PeteraToJwcrypto(unittest.TestCase):
    """Envelopes written by Petera, read by jwcrypto."""

    def test_jwcrypto_decrypts_every_single_recipient_envelope_exactly(self):
        for kind in KEY_TYPES:
            for data in payloads():
                with self.subTest(kind=kind, size=len(data)):
                    envelope = petera_encrypt(data, ("localhost", kind))
                    self.assertEqual(jwcrypto_decrypt(envelope, kind), data)

    def test_jwcrypto_decrypts_a_multi_recipient_envelope_with_each_key(self):
        kinds = ("p256", "rsa3072", "p521", "p384")
        data = os.urandom(1000)
        envelope = petera_encrypt(data, *[("localhost:%d" % (5700 + i), k)
                                          for i, k in enumerate(kinds)])
        self.assertEqual(len(json.loads(envelope)["recipients"]), len(kinds))
        for kind in kinds:
            with self.subTest(kind=kind):
                self.assertEqual(jwcrypto_decrypt(envelope, kind), data)

    def test_the_largest_recipient_count_round_trips(self):
        targets = [("localhost:%d" % (6000 + i), KEY_TYPES[i % len(KEY_TYPES)])
                   for i in range(64)]
        data = os.urandom(100)
        envelope = petera_encrypt(data, *targets)
        self.assertEqual(len(json.loads(envelope)["recipients"]), 64)
        self.assertEqual(jwcrypto_decrypt(envelope, "p521"), data)
        run = envtool("decrypt-blinded", PKI.key["rsa3072"], data=envelope)
        self.assertEqual((run.returncode, run.stdout), (0, data), run.stderr.decode())
        too_many = envtool("encrypt", *[f"{a}={PKI.chain[k]}" for a, k in targets],
                           f"localhost:7000={PKI.chain['p256']}", data=data)
        self.assertTrue(refused_cleanly(too_many), too_many)

    def test_the_largest_payload_round_trips_and_one_byte_more_is_refused(self):
        data = os.urandom(16 << 20)
        envelope = petera_encrypt(data, ("localhost", "p256"))
        self.assertEqual(jwcrypto_decrypt(envelope, "p256"), data)
        run = envtool("decrypt-blinded", PKI.key["p256"], data=envelope)
        self.assertEqual(run.returncode, 0, run.stderr.decode())
        self.assertTrue(run.stdout == data)
        over = envtool("encrypt", f"localhost={PKI.chain['p256']}", data=data + b"x")
        self.assertTrue(refused_cleanly(over), over)

    def test_envelope_fields_are_the_specified_ones(self):
        envelope = json.loads(petera_encrypt(b"x", ("[::1]:5701", "p384"),
                                             ("127.0.0.1", "rsa3072"),
                                             ("localhost:6000", "p521")))
        self.assertEqual(sorted(envelope),
                         ["ciphertext", "iv", "protected", "recipients", "tag"])
        headers = [r["header"] for r in envelope["recipients"]]
        cek = unwrap(envelope["recipients"][0], "p384")
        self.assertEqual(json.loads(b64url_decode(envelope["protected"])),
                         dict(PROTECTED, bind=[binding(h) for h in headers],
                              commit=commitment(cek)))
        self.assertEqual(len(b64url_decode(envelope["iv"])), 12)
        self.assertEqual(len(b64url_decode(envelope["tag"])), 16)
        self.assertEqual(len(b64url_decode(envelope["ciphertext"])), 1)
        expected = [("p384", "[::1]:5701", 48), ("rsa3072", "127.0.0.1:5700", None),
                    ("p521", "localhost:6000", 66)]
        for recipient, (kind, server, field) in zip(envelope["recipients"], expected):
            with self.subTest(kind=kind):
                header = recipient["header"]
                self.assertEqual(header["alg"], ALG[kind])
                self.assertEqual(header["kid"], PKI.kid(kind))
                self.assertEqual(header["x5c"], PKI.x5c(kind))
                self.assertEqual(header["server"], server)
                wrapped = b64url_decode(recipient["encrypted_key"])
                if field is None:
                    self.assertEqual(sorted(header), ["alg", "kid", "server", "x5c"])
                    self.assertEqual(len(wrapped), 384)
                    continue
                self.assertEqual(sorted(header), ["alg", "epk", "kid", "server", "x5c"])
                self.assertEqual(len(wrapped), 40)
                epk = header["epk"]
                self.assertEqual(sorted(epk), ["crv", "kty", "x", "y"])
                self.assertEqual(epk["crv"], {48: "P-384", 66: "P-521"}[field])
                self.assertEqual(len(b64url_decode(epk["x"])), field)
                self.assertEqual(len(b64url_decode(epk["y"])), field)

    def test_every_encryption_uses_a_fresh_key_iv_and_ephemeral_key(self):
        first = json.loads(petera_encrypt(b"same", ("localhost", "p256")))
        second = json.loads(petera_encrypt(b"same", ("localhost", "p256")))
        self.assertNotEqual(first["iv"], second["iv"])
        self.assertNotEqual(first["ciphertext"] + first["tag"],
                            second["ciphertext"] + second["tag"])
        self.assertNotEqual(first["recipients"][0]["header"]["epk"],
                            second["recipients"][0]["header"]["epk"])


class JwcryptoToPetera(unittest.TestCase):
    """JWEs written by jwcrypto with Petera's fields, read by Petera."""

    def assert_petera_decrypts(self, envelope, kind, data):
        for mode, args in (("blinded", ["decrypt-blinded", "--anchor", PKI.anchor,
                                        PKI.key[kind]]),
                           ("offline", ["decrypt-offline", PKI.key[kind]])):
            run = envtool(*args, data=envelope)
            self.assertEqual(run.returncode, 0, f"{mode}: {run.stderr.decode()}")
            self.assertEqual(run.stdout, data, mode)

    def assert_petera_refuses(self, envelope, kind):
        run = envtool("decrypt-blinded", PKI.key[kind], data=envelope)
        self.assertTrue(refused_cleanly(run), run)
        return run.stderr.decode()

    def test_petera_decrypts_single_recipient_jwes(self):
        for kind in KEY_TYPES:
            for data in payloads():
                with self.subTest(kind=kind, size=len(data)):
                    self.assert_petera_decrypts(jwcrypto_encrypt(data, [kind]), kind, data)

    def test_petera_decrypts_a_multi_recipient_jwe_with_each_key(self):
        data = os.urandom(777)
        envelope = jwcrypto_encrypt(data, KEY_TYPES)
        self.assertEqual(len(json.loads(envelope)["recipients"]), len(KEY_TYPES))
        for kind in KEY_TYPES:
            with self.subTest(kind=kind):
                self.assert_petera_decrypts(envelope, kind, data)

    def test_petera_refuses_other_content_encryption(self):
        envelope = jwcrypto_encrypt(b"data", ["p256"],
                                    protected_overrides={"enc": "A128GCM"})
        self.assertIn("A256GCM", self.assert_petera_refuses(envelope, "p256"))

    def test_petera_decrypts_jwcryptos_flattened_serialization_as_written(self):
        for kind in KEY_TYPES:
            with self.subTest(kind=kind):
                data = os.urandom(100)
                envelope = jwcrypto_encrypt(data, [kind], flattened=True)
                doc = json.loads(envelope)
                self.assertNotIn("recipients", doc)
                self.assertIn("encrypted_key", doc)
                self.assert_petera_decrypts(envelope, kind, data)
        # Flattened members beside a recipients array: refused.
        doc = json.loads(jwcrypto_encrypt(b"x", ["p256"]))
        doc["header"] = doc["recipients"][0]["header"]
        self.assert_petera_refuses(json.dumps(doc).encode(), "p256")

    def test_petera_refuses_a_jwe_whose_key_commitment_does_not_match(self):
        # jwcrypto draws the content key itself, so any commitment written
        # beforehand is (but with negligible chance) for another key.
        envelope = jwcrypto_encrypt(b"data", ["p256"],
                                    protected_overrides={"commit": b64url(os.urandom(32))})
        self.assertIn("key commitment", self.assert_petera_refuses(envelope, "p256"))
        envelope = jwcrypto_encrypt(b"data", ["p256"],
                                    protected_overrides={"commit": b64url(os.urandom(31))})
        self.assertIn("key commitment must be 32 bytes",
                      self.assert_petera_refuses(envelope, "p256"))

    def test_petera_refuses_a_jwe_without_its_format_version(self):
        envelope = jwcrypto_encrypt(b"data", ["p256"], protected_overrides={"petera": None})
        self.assertIn("version", self.assert_petera_refuses(envelope, "p256"))

    def test_petera_refuses_a_newer_format_version(self):
        envelope = jwcrypto_encrypt(b"data", ["p256"],
                                    protected_overrides={"petera": 2})
        self.assertIn("version 2", self.assert_petera_refuses(envelope, "p256"))

    def test_petera_refuses_a_kid_that_is_not_the_certificates(self):
        envelope = jwcrypto_encrypt(b"data", ["p256"],
                                    header_overrides={"kid": PKI.kid("p384")})
        self.assertIn("kid", self.assert_petera_refuses(envelope, "p256"))

    def test_petera_refuses_an_alg_that_does_not_fit_the_key(self):
        envelope = jwcrypto_encrypt(b"data", ["rsa3072"],
                                    header_overrides={"alg": "RSA-OAEP"})
        self.assertIn("alg", self.assert_petera_refuses(envelope, "rsa3072"))

    def test_petera_refuses_a_server_outside_the_certificate_with_an_anchor(self):
        envelope = jwcrypto_encrypt(b"data", ["p256"], server="other.example:5700")
        run = envtool("decrypt-blinded", "--anchor", PKI.anchor, PKI.key["p256"],
                      data=envelope)
        self.assertTrue(refused_cleanly(run), run)
        self.assertIn("other.example", run.stderr.decode())


class Tamper(unittest.TestCase):
    """Every single-byte change of a sample envelope is refused.

    Each byte of the JSON text is XORed with 0x01, which keeps letters
    letters and digits digits (the hardest flips to notice), and the result
    goes to decrypt-blinded with the right key and no anchor: the envelope's
    own checks must refuse it (structure, kid against the x5c key, the GCM
    tag over the protected header, and the protected header's "bind" over
    each recipient's kid, server and x5c), and nothing may reach stdout.
    """

    def check_every_flip_fails(self, kind):
        data = b"tamper me"
        envelope = petera_encrypt(data, ("localhost:5700", kind))
        args = ["decrypt-blinded", PKI.key[kind]]
        run = envtool(*args, data=envelope)
        self.assertEqual((run.returncode, run.stdout), (0, data), run.stderr.decode())
        self.assertGreater(len(envelope), 1000)
        accepted = []
        # Every byte, or every STRIDE-th under the sanitizers (CMakeLists.txt);
        # the offset changes with the key type so that both cover different bytes.
        stride = int(os.environ.get("PETERA_FLIP_STRIDE", "1"))
        self.assertGreaterEqual(stride, 1)
        for i in range(len(kind) % stride, len(envelope), stride):
            tampered = bytearray(envelope)
            tampered[i] ^= 0x01
            run = envtool(*args, data=bytes(tampered))
            if not refused_cleanly(run):
                accepted.append((i, chr(envelope[i]), run.returncode, len(run.stdout),
                                 run.stderr[:200]))
        self.assertEqual(accepted, [], "flips that were not refused cleanly "
                                       "(position, original char, exit, stdout bytes, stderr)")

    def test_every_byte_flip_of_an_ec_envelope_is_refused(self):
        self.check_every_flip_fails("p256")

    def test_every_byte_flip_of_an_rsa_envelope_is_refused(self):
        self.check_every_flip_fails("rsa3072")


def gf_mul(a, b):
    """Multiplication in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1."""
    product = 0
    for bit in range(8):
        if (b >> bit) & 1:
            product ^= a << bit
    for bit in range(14, 7, -1):
        if (product >> bit) & 1:
            product ^= 0x11B << (bit - 8)
    return product


def gf_inv(a):
    return next(b for b in range(1, 256) if gf_mul(a, b) == 1)


def combine_shares(shares):
    """Lagrange interpolation at 0, byte by byte (docs/format.md 6.3)."""
    secret = bytearray(len(next(iter(shares.values()))))
    for xj, yj in shares.items():
        basis = 1
        for xm in shares:
            if xm != xj:
                basis = gf_mul(basis, gf_mul(xm, gf_inv(xm ^ xj)))
        for k, byte in enumerate(yj):
            secret[k] ^= gf_mul(basis, byte)
    return bytes(secret)


class Threshold(unittest.TestCase):
    """A threshold envelope opened by the specification alone: jwcrypto's
    key management unwraps each share, the shares are combined in Python,
    and the content is decrypted with AES-GCM."""

    KINDS = ("p256", "rsa3072", "p521")

    def targets(self):
        """One server each (a threshold refuses the same address twice)."""
        return [f"localhost:{5700 + i}={PKI.chain[kind]}" for i, kind in enumerate(self.KINDS)]

    def unwrap_share(self, doc, index):
        recipient = doc["recipients"][index]
        return recipient["header"]["share"], unwrap(recipient, self.KINDS[index])

    def test_any_two_of_three_shares_decrypt_by_the_specification(self):
        data = os.urandom(1000)
        targets = self.targets()
        run = envtool("encrypt", "--threshold", "2", *targets, data=data)
        self.assertEqual(run.returncode, 0, run.stderr)
        doc = json.loads(run.stdout)
        protected = json.loads(b64url_decode(doc["protected"]))
        self.assertEqual((protected["threshold"], protected["crit"]), (2, ["threshold"]))
        iv, tag = b64url_decode(doc["iv"]), b64url_decode(doc["tag"])
        ciphertext = b64url_decode(doc["ciphertext"])
        for pair in ((0, 1), (0, 2), (1, 2)):
            with self.subTest(pair=pair):
                shares = dict(self.unwrap_share(doc, i) for i in pair)
                cek = combine_shares(shares)
                self.assertEqual(protected["commit"], commitment(cek))
                plain = AESGCM(cek).decrypt(iv, ciphertext + tag, doc["protected"].encode())
                self.assertEqual(plain, data)
        # One share alone is not the content key.
        x, share = self.unwrap_share(doc, 0)
        with self.assertRaises(InvalidTag):
            AESGCM(share).decrypt(iv, ciphertext + tag, doc["protected"].encode())

    def test_jwcrypto_refuses_the_critical_threshold_instead_of_misreading_it(self):
        targets = self.targets()[:2]
        run = envtool("encrypt", "--threshold", "2", *targets, data=b"secret")
        self.assertEqual(run.returncode, 0, run.stderr)
        token = jwe.JWE()
        with self.assertRaises(jwe.InvalidJWEData):
            token.deserialize(run.stdout.decode("utf-8"), PKI.jwk(self.KINDS[0]))
        self.assertIsNone(token.plaintext)
        self.assertTrue(any('critical header: "threshold"' in str(line)
                            for line in token.decryptlog), token.decryptlog)

    def test_envtool_needs_two_keys_of_a_two_of_three_envelope(self):
        targets = self.targets()
        envelope = envtool("encrypt", "--threshold", "2", *targets, data=b"s").stdout
        self.assertTrue(refused_cleanly(envtool("decrypt-offline", PKI.key["p256"],
                                                data=envelope)))


if __name__ == "__main__":
    unittest.main()
