# Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
"""peterad end to end: TLS settings. TLS 1.2 minimum, 1.3 preferred, only
forward-secret AEAD suites for 1.2, ALPN http/1.1, session resumption, no
renegotiation."""

import socket
import ssl
import subprocess
import time
import unittest

import peterah


def s_client(port, *args, stdin=b"", timeout=20):
    cmd = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
           "-servername", "localhost"] + list(args)
    return subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=timeout)


class TlsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pki = peterah.make_pki()
        cls.anchor = cls.pki / "anchor.pem"
        cls.server = peterah.Server(**peterah.server_files(cls.pki)).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def connect(self, ctx, session=None):
        raw = socket.create_connection(("127.0.0.1", self.server.port), timeout=10)
        return ctx.wrap_socket(raw, server_hostname="localhost", session=session)

    def context(self, minimum=None, maximum=None, ciphers=None, alpn=("http/1.1",)):
        ctx = ssl.create_default_context(cafile=str(self.anchor))
        if minimum:
            ctx.minimum_version = minimum
        if maximum:
            ctx.maximum_version = maximum
        if ciphers:
            ctx.set_ciphers(ciphers)
        if alpn:
            ctx.set_alpn_protocols(list(alpn))
        return ctx

    def get_health(self, s):
        s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        data = b""
        while b"}" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        return data

    def test_prefers_tls_1_3_with_alpn_http_1_1(self):
        with self.connect(self.context()) as s:
            self.assertEqual(s.version(), "TLSv1.3")
            self.assertEqual(s.selected_alpn_protocol(), "http/1.1")
            self.assertIn(s.cipher()[0], ("TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256",
                                          "TLS_CHACHA20_POLY1305_SHA256"))
            self.assertIn(b"200 OK", self.get_health(s))

    def test_tls_1_2_negotiates_ecdhe_with_an_aead(self):
        ctx = self.context(maximum=ssl.TLSVersion.TLSv1_2)
        with self.connect(ctx) as s:
            self.assertEqual(s.version(), "TLSv1.2")
            name = s.cipher()[0]
            self.assertTrue(name.startswith("ECDHE-"), name)
            self.assertTrue("GCM" in name or "CHACHA20" in name, name)

    def test_tls_1_2_refuses_suites_without_forward_secrecy_or_aead(self):
        for ciphers in ("AES128-GCM-SHA256:AES256-GCM-SHA384",      # no forward secrecy
                        "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA",  # CBC, no AEAD
                        "ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA384"):
            with self.subTest(ciphers):
                ctx = self.context(maximum=ssl.TLSVersion.TLSv1_2, ciphers=ciphers)
                with self.assertRaises(ssl.SSLError):
                    self.connect(ctx).close()

    def test_tls_1_1_and_1_0_are_refused(self):
        for flag in ("-tls1_1", "-tls1"):
            with self.subTest(flag):
                out = s_client(self.server.port, flag, "-cipher", "DEFAULT:@SECLEVEL=0")
                self.assertNotEqual(out.returncode, 0, out.stdout)
                self.assertIn(b"Cipher is (NONE)", out.stdout)

    def test_a_client_without_http_1_1_in_alpn_is_refused(self):
        ctx = self.context(alpn=("h2",))
        with self.assertRaises(ssl.SSLError):
            self.connect(ctx).close()

    def test_a_client_without_alpn_is_served(self):
        with self.connect(self.context(alpn=())) as s:
            self.assertIsNone(s.selected_alpn_protocol())
            self.assertIn(b"200 OK", self.get_health(s))

    def test_sessions_resume_with_tls_1_3_and_1_2(self):
        for maximum in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
            with self.subTest(maximum):
                ctx = self.context(maximum=maximum)
                with self.connect(ctx) as s:
                    self.get_health(s)  # TLS 1.3 tickets arrive after the handshake
                    session = s.session
                self.assertIsNotNone(session)
                with self.connect(ctx, session=session) as s:
                    self.assertTrue(s.session_reused)
                    self.assertIn(b"200 OK", self.get_health(s))

    def test_renegotiation_is_refused(self):
        out = s_client(self.server.port, "-tls1_2", stdin=b"R\n")
        self.assertIn(b"no renegotiation", out.stdout)

    def test_the_tls_chain_validates_against_the_anchor_for_localhost(self):
        out = s_client(self.server.port, "-CAfile", str(self.anchor), "-verify_return_error",
                       "-verify_hostname", "localhost")
        self.assertEqual(out.returncode, 0, out.stdout)
        self.assertIn(b"Verify return code: 0 (ok)", out.stdout)

    def test_a_silent_client_is_dropped_after_the_handshake_timeout(self):
        with peterah.Server(**peterah.server_files(self.pki),
                            extra_args=["--handshake-timeout", "0.5"]) as srv:
            with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as raw:
                start = time.monotonic()
                self.assertEqual(raw.recv(100), b"")  # closed without a word
                self.assertLess(time.monotonic() - start, 5)


if __name__ == "__main__":
    unittest.main()
