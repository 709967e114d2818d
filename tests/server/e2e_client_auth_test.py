# Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
"""peterad end to end: client authorization (--client-ca, --client-crl,
--client-allow) with client certificates made by the openssl CLI
(certs-examples/make-pki.sh, clients/), against the real daemon, the real
petera and curl."""

import http.client
import json
import os
import shutil
import socket
import subprocess
import unittest

import peterah
from e2e_util import request_body

REFUSED = b'{"error":"client_not_authorized"}'


class _Connection(http.client.HTTPSConnection):
    """A keep-alive HTTPS connection that may resume a TLS session."""

    def __init__(self, port, context, session=None):
        super().__init__("127.0.0.1", port, timeout=10, context=context)
        self._resume = session

    def connect(self):
        raw = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host,
                                              session=self._resume)


class ClientAuthTestBase(unittest.TestCase):
    MODE = "listen"

    @classmethod
    def setUpClass(cls):
        cls.pki = peterah.make_pki()
        cls.clients = cls.pki / "clients"
        cls.files = peterah.server_files(cls.pki, "s1", "ec")
        cls.cert = cls.pki / "s1" / "encrypt-ec.pem"

    def setUp(self):
        self.dir = peterah.temp_dir("petera-clientauth-")
        self.ca = self.copy(self.clients / "ca.pem", "client-ca.pem")
        self.server = None
        self.contexts = {}

    def tearDown(self):
        if self.server is not None:
            self.assertEqual(self.server.stop(), 0, self.server.log)

    def copy(self, src, name, mode=0o644):
        dst = self.dir / name
        shutil.copyfile(src, dst)
        os.chmod(dst, mode)
        return dst

    def start(self, *args):
        self.server = peterah.Server(self.files["tls"], self.files["encrypt"],
                                     self.files["decrypt_dir"],
                                     extra_args=["--client-ca", self.ca, *args],
                                     mode=self.MODE).start()
        return self.server

    def context(self, client=None):
        """One context per client certificate: a TLS session can only be
        resumed through the context that made it."""
        if client not in self.contexts:
            ctx = peterah.client_context(self.pki / "anchor.pem")
            ctx.check_hostname = False  # the server is reached as 127.0.0.1
            if client is not None:
                ctx.load_cert_chain(str(self.clients / client))
            self.contexts[client] = ctx
        return self.contexts[client]

    def connect(self, client=None, session=None):
        conn = _Connection(self.server.port, self.context(client), session)
        conn.connect()
        return conn

    def recover(self, conn):
        """POST /v1/recover with a valid request on an open connection."""
        conn.request("POST", "/v1/recover", body=json.dumps(request_body(self.cert)),
                     headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        return resp.status, resp.read()

    def recover_once(self, client=None):
        conn = self.connect(client)
        try:
            return self.recover(conn)
        finally:
            conn.close()

    def assertLogged(self, text):
        """The server logs a request after its answer is written (and an
        I/O thread writes its lines in batches): wait for the line."""
        self.assertTrue(self.server.wait_for_log(text, timeout=10),
                        "not logged: %s\n%s" % (text, self.server.log))

    def key_id(self, client):
        return (self.clients / (client + ".key-id")).read_text().strip()


class ClientAuthTest(ClientAuthTestBase):

    def test_without_a_certificate_recovery_is_403_and_chain_and_health_stay_open(self):
        self.start()
        self.assertEqual(self.recover_once(), (403, REFUSED))
        self.assertLogged("(client not authorized: no certificate: -)")
        for path in ("/v1/chain", "/v1/health"):
            self.assertEqual(self.server.request("GET", path).status, 200, path)
        self.assertLogged("client authorization: 1 client CA(s), 0 CRL(s), no allow-list")

    def test_each_bad_certificate_is_refused_with_its_reason_in_the_log(self):
        self.start("--client-crl", self.copy(self.clients / "crl.pem", "crl.pem"))
        cases = [("other-ca.pem", "untrusted ("), ("expired.pem", "expired"),
                 ("no-client-auth.pem", "not for client authentication"),
                 ("revoked.pem", "revoked")]
        for client, reason in cases:
            with self.subTest(client=client):
                self.assertEqual(self.recover_once(client), (403, REFUSED))
                self.assertLogged("client not authorized: " + reason)
        self.assertEqual(self.recover_once("laptop1.pem")[0], 200)
        self.assertLogged("POST /v1/recover 200")
        self.assertLogged("(client CN=laptop1.example.net,O=Petera Demo key=%s)"
                          % self.key_id("laptop1"))

    def test_petera_decrypt_needs_cert_and_curl_works_with_one(self):
        self.start()
        anchor = self.pki / "anchor.pem"
        # Encryption fetches the chain, which needs no client certificate.
        enc = peterah.run_petera([anchor, "encrypt", "localhost:%d" % self.server.port],
                                 stdin_bytes=b"disk key")
        self.assertEqual(enc.returncode, 0, enc.stderr)
        dec = peterah.run_petera([anchor, "decrypt"], stdin_bytes=enc.stdout)
        self.assertEqual(dec.returncode, 5, dec.stderr)
        self.assertEqual(dec.stdout, b"")
        self.assertIn(b"does not authorize this client (HTTP 403 client_not_authorized)",
                      dec.stderr)
        client = self.copy(self.clients / "laptop1.pem", "client.pem", 0o600)
        dec = peterah.run_petera(["--cert", client, anchor, "decrypt"], stdin_bytes=enc.stdout)
        self.assertEqual((dec.returncode, dec.stdout), (0, b"disk key"), dec.stderr)
        loose = self.copy(self.clients / "laptop1.pem", "loose.pem", 0o644)
        dec = peterah.run_petera([anchor, "decrypt", "--cert", loose], stdin_bytes=enc.stdout)
        self.assertEqual((dec.returncode, dec.stdout), (2, b""))
        self.assertIn(b"other users may read it; run: chmod 600", dec.stderr)

        body = json.dumps(request_body(self.cert))
        curl = ["curl", "-sS", "--cacert", str(anchor), "--resolve",
                "localhost:%d:127.0.0.1" % self.server.port,
                "-H", "Content-Type: application/json", "--data", body,
                "https://localhost:%d/v1/recover" % self.server.port]
        out = subprocess.run(curl + ["--cert", str(client)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn(b'"y"', out.stdout)
        out = subprocess.run(curl, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        self.assertEqual(out.stdout, REFUSED)

    def test_a_crl_reload_revokes_a_client_on_its_open_keepalive_connection(self):
        crl = self.copy(self.clients / "crl.pem", "crl.pem")
        self.start("--client-crl", crl)
        conn = self.connect("laptop2.pem")
        self.assertEqual(self.recover(conn)[0], 200)
        new = self.copy(self.clients / "crl-laptop2.pem", "crl.new")
        os.replace(new, crl)
        self.assertTrue(self.server.reload(wait_for="reloaded:"), self.server.log)
        self.assertEqual(self.recover(conn), (403, REFUSED))  # same connection
        conn.close()
        self.assertLogged("client not authorized: revoked: CN=laptop2.example.net")
        self.assertEqual(self.recover_once("laptop1.pem")[0], 200)

    def test_delisting_cuts_off_open_connections_and_resumed_sessions(self):
        allow = self.dir / "clients.allow"
        allow.write_text("# enrolled\n%s\nDNS:laptop2.example.net\n" % self.key_id("laptop1"))
        os.chmod(allow, 0o644)
        self.start("--client-allow", allow)
        self.assertEqual(self.recover_once("revoked.pem"), (403, REFUSED))  # valid, unlisted
        self.assertLogged("client not authorized: not allowed")

        first = self.connect("laptop1.pem")
        self.assertEqual(self.recover(first)[0], 200)
        session = first.sock.session
        resumed = self.connect("laptop1.pem", session=session)
        self.assertTrue(resumed.sock.session_reused)
        self.assertEqual(self.recover(resumed)[0], 200)
        laptop2 = self.connect("laptop2.pem")
        self.assertEqual(self.recover(laptop2)[0], 200)

        # The stolen-laptop recipe: delete its line, reload.
        allow.write_text("# enrolled\nDNS:laptop2.example.net\n")
        self.assertTrue(self.server.reload(wait_for="reloaded:"), self.server.log)
        self.assertEqual(self.recover(first), (403, REFUSED))
        self.assertEqual(self.recover(resumed), (403, REFUSED))
        self.assertEqual(self.recover(laptop2)[0], 200)
        again = self.connect("laptop1.pem", session=resumed.sock.session)
        self.assertEqual(self.recover(again), (403, REFUSED))
        for conn in (first, resumed, laptop2, again):
            conn.close()

    def test_a_failed_reload_keeps_the_previous_policy(self):
        allow = self.dir / "clients.allow"
        allow.write_text("DNS:laptop1.example.net\n")
        os.chmod(allow, 0o644)
        self.start("--client-allow", allow)
        allow.write_text("DNS:laptop1.example.net\nlaptop2\n")
        self.assertTrue(self.server.reload(wait_for="reload failed"), self.server.log)
        self.assertLogged("clients.allow:2: expected a key id")
        self.assertEqual(self.recover_once("laptop1.pem")[0], 200)
        self.assertEqual(self.recover_once("laptop2.pem"), (403, REFUSED))


class ClientAuthSocketActivatedTest(ClientAuthTestBase):
    MODE = "socket"

    def test_only_the_enrolled_client_recovers(self):
        self.start()
        self.assertEqual(self.recover_once(), (403, REFUSED))
        self.assertEqual(self.recover_once("laptop1.pem")[0], 200)


class ClientAuthStartupTest(ClientAuthTestBase):

    def check(self, *args):
        return peterah.run_peterad(["--check", *args, self.files["tls"],
                                    self.files["encrypt"], self.files["decrypt_dir"]])

    def test_refuses_files_others_may_write_and_options_without_a_ca(self):
        os.chmod(self.ca, 0o666)
        run = self.check("--client-ca", self.ca)
        self.assertEqual(run.returncode, 1, run.stderr)
        self.assertIn(("writable by other users; run: chmod go-w %s" % self.ca).encode(),
                      run.stderr)
        os.chmod(self.ca, 0o644)
        self.assertEqual(self.check("--client-ca", self.ca).returncode, 0)
        other_crl = self.copy(self.pki / "bad" / "crl.pem", "other.crl")
        run = self.check("--client-ca", self.ca, "--client-crl", other_crl)
        self.assertEqual(run.returncode, 1)
        self.assertIn(b"a CRL not signed by any CA of", run.stderr)
        run = self.check("--client-allow", self.dir / "x")
        self.assertEqual(run.returncode, 2)
        self.assertIn(b"--client-crl and --client-allow need --client-ca", run.stderr)


if __name__ == "__main__":
    unittest.main()
