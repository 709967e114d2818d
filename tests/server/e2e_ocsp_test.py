# Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
"""OCSP stapling end to end: real OCSP responses made by the openssl command
line (`openssl ocsp -index ... -rsigner ... -respout`, and a real `openssl
ocsp` responder on loopback for the refresher) for the demo PKI's s1; the real
peterad staples them (--listen and systemd-socket-activate), `openssl
s_client -status` and the real petera check them over TLS 1.2 and 1.3,
`openssl s_server -status_file` staples what a lying or revoked server would,
systemd/petera-ocsp-refresh replaces the file under load, and Debian's
testssl.sh reports stapling as offered.

`openssl ocsp` listens on every address of the machine (its -port takes no
address), so the whole test runs in a network namespace of its own
(unshare -n) with nothing but loopback. Needs root (as the test command
runs)."""

import http.server
import os
import shutil
import subprocess
import threading
import time
import unittest
import urllib.request
from pathlib import Path

import peterah

# unshare -n runs the program given; it brings loopback up, then runs python.
peterah.run_unshared(__file__, ["-n", "sh", "-c", 'ip link set lo up && exec "$0" "$@"'],
                     "unshare -n keeps the OCSP responder off the network")

SOURCE = Path(__file__).resolve().parent.parent.parent
REFRESH = SOURCE / "systemd" / "petera-ocsp-refresh"
SECRET = b"a disk key that only s1 may release\n"


def run(args, check=True, timeout=60, **kw):
    proc = subprocess.run([str(a) for a in args], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout, **kw)
    if check and proc.returncode != 0:
        raise AssertionError("%s failed (%d): %s" % (
            " ".join(str(a) for a in args), proc.returncode, proc.stderr.decode(errors="replace")))
    return proc


class Ocsp:
    """Responses for s1's TLS certificate, and what makes them."""

    def __init__(self, pki):
        self.pki = Path(pki)
        self.dir = peterah.temp_dir("petera-ocsp-")
        ca = self.pki / "ca"
        self.issuer = ca / "intermediate.pem"
        self.issuer_key = ca / "intermediate-key.pem"
        self.leaf = self.first_certificate(self.pki / "s1" / "tls.pem", "s1-leaf.pem")
        self.other_leaf = self.first_certificate(self.pki / "s2" / "tls.pem", "s2-leaf.pem")
        self.index = self.index_copy("index.txt")
        self.revoked_index = self.index_copy("revoked-index.txt", revoke=self.leaf)
        self.empty_index = self.dir / "empty-index.txt"
        self.empty_index.write_text("")
        (self.dir / "empty-index.txt.attr").write_text("unique_subject = no\n")
        self.responder, self.responder_key = self.responder_certificate("responder", True)
        self.no_eku, self.no_eku_key = self.responder_certificate("responder-no-eku", False)

        self.good = self.respond("good.der")
        self.revoked = self.respond("revoked.der", index=self.revoked_index)
        self.other_cert = self.respond("other-cert.der", cert=self.other_leaf)
        self.unrelated = self.respond("unrelated-key.der",
                                      signer=(ca / "other" / "intermediate.pem",
                                              ca / "other" / "intermediate-key.pem"))
        self.expired = self.respond("expired.der", days=3, faketime="10 days ago")
        self.delegated = self.respond("delegated.der",
                                      signer=(self.responder, self.responder_key))
        self.delegated_no_eku = self.respond("delegated-no-eku.der",
                                             signer=(self.no_eku, self.no_eku_key))
        self.unknown = self.respond("unknown.der", index=self.empty_index)

    def first_certificate(self, pem, name):
        out = self.dir / name
        run(["openssl", "x509", "-in", pem, "-out", out])
        return out

    def index_copy(self, name, revoke=None):
        text = (self.pki / "ca" / "db" / "intermediate" / "index.txt").read_text()
        if revoke is not None:
            serial = self.serial(revoke)
            lines = []
            for line in text.splitlines():
                fields = line.split("\t")
                if fields[3] == serial:
                    fields[0] = "R"
                    fields[2] = "261101000000Z,keyCompromise"
                lines.append("\t".join(fields))
            self.assert_revoked = serial
            text = "\n".join(lines) + "\n"
        path = self.dir / name
        path.write_text(text)
        (self.dir / (name + ".attr")).write_text("unique_subject = no\n")
        return path

    @staticmethod
    def serial(cert):
        """The certificate's serial as openssl spells it (hex, no leading
        zero byte), as its index files hold it."""
        return run(["openssl", "x509", "-in", cert, "-noout", "-serial"]
                   ).stdout.decode().strip().split("=")[1]

    def issue(self, name, subject, extensions, days=30):
        """A P-256 certificate from the issuer with the given extension lines:
        (certificate, key)."""
        key = self.dir / (name + "-key.pem")
        csr = self.dir / (name + ".csr")
        cert = self.dir / (name + ".pem")
        ext = self.dir / (name + ".ext")
        ext.write_text("basicConstraints=critical,CA:false\nkeyUsage=critical,digitalSignature\n" +
                       extensions)
        run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", key, "-out", csr, "-subj", subject])
        run(["openssl", "x509", "-req", "-in", csr, "-CA", self.issuer, "-CAkey", self.issuer_key,
             "-set_serial", str(int.from_bytes(os.urandom(8), "big")), "-days", str(days),
             "-extfile", ext, "-out", cert])
        return cert, key

    def responder_certificate(self, name, ocsp_signing):
        return self.issue(name, "/O=Petera Demo/CN=OCSP " + name,
                          "extendedKeyUsage=OCSPSigning\n" if ocsp_signing else "")

    def respond(self, name, cert=None, index=None, signer=None, days=2, faketime=None):
        """One response, from a request for `cert` (default: s1's leaf)."""
        request = self.dir / (name + ".req")
        out = self.dir / name
        run(["openssl", "ocsp", "-issuer", self.issuer, "-cert", cert or self.leaf,
             "-no_nonce", "-reqout", request])
        signer_cert, signer_key = signer or (self.issuer, self.issuer_key)
        command = ["openssl", "ocsp", "-index", index or self.index, "-CA", self.issuer,
                   "-rsigner", signer_cert, "-rkey", signer_key, "-reqin", request,
                   "-respout", out, "-ndays", str(days)]
        if faketime:
            command = ["faketime", faketime] + command
        run(command)
        if not out.exists() or out.stat().st_size == 0:
            raise AssertionError("openssl wrote no response " + name)
        return out


_RESPONSES = None


def responses(pki):
    """The responses, made once per process."""
    global _RESPONSES
    if _RESPONSES is None:
        _RESPONSES = Ocsp(pki)
    return _RESPONSES


def s_client(port, version):
    """What `openssl s_client -status` reports about the stapled response."""
    proc = run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-status",
                "-" + version, "-servername", "localhost"], check=False,
               input=b"", timeout=30)
    return proc.stdout.decode(errors="replace")


class OcspTestCase(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.pki = peterah.make_pki()
        cls.anchor = cls.pki / "anchor.pem"
        cls.files = peterah.server_files(cls.pki, "s1", "ec")
        cls.ocsp = responses(cls.pki)

    def server(self, response, mode="listen", extra=()):
        return peterah.Server(self.files["tls"], self.files["encrypt"],
                              self.files["decrypt_dir"], mode=mode,
                              extra_args=["--ocsp-response", response] + list(extra))

    def fetch(self, server, *options):
        return peterah.run_petera(list(options) + ["-v", self.anchor, "fetch", server.address])

    def assert_fetch_ok(self, server, *options):
        proc = self.fetch(server, *options)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode(errors="replace"))
        return proc.stderr.decode(errors="replace")

    def assert_fetch_refused(self, server, needle, *options):
        proc = self.fetch(server, *options)
        err = proc.stderr.decode(errors="replace")
        self.assertEqual(proc.returncode, 3, err)  # not trusted
        self.assertEqual(proc.stdout, b"")
        self.assertIn(needle, err)
        return err

    def assert_stapled(self, port, status):
        for version in ("tls1_2", "tls1_3"):
            out = s_client(port, version)
            self.assertIn("OCSP Response Status: successful", out, version + "\n" + out)
            self.assertIn("Cert Status: " + status, out, version)

    def assert_nothing_stapled(self, port):
        for version in ("tls1_2", "tls1_3"):
            out = s_client(port, version)
            self.assertIn("OCSP response: no response sent", out, version + "\n" + out)


class Stapling(OcspTestCase):

    def test_a_good_response_is_stapled_and_checked(self):
        for mode in ("listen", "socket"):
            with self.subTest(mode=mode), self.server(self.ocsp.good, mode) as s1:
                self.assertTrue(s1.wait_for_log("OCSP stapling: %s: good" % self.ocsp.good),
                                s1.log)
                self.assert_stapled(s1.port, "good")
                for options in ([], ["--ocsp", "prefer"], ["--ocsp", "require"]):
                    err = self.assert_fetch_ok(s1, *options)
                    self.assertIn("stapled OCSP response: good", err)
                self.assertNotIn("stapled OCSP", self.assert_fetch_ok(s1, "--ocsp", "off"))

    def test_a_delegated_responder_with_ocsp_signing(self):
        with self.server(self.ocsp.delegated) as s1:
            self.assert_stapled(s1.port, "good")
            err = self.assert_fetch_ok(s1, "--ocsp", "require")
            self.assertIn("signed by responder CN=OCSP responder", err)

    def test_a_revoked_certificate_is_stapled_and_refused(self):
        with self.server(self.ocsp.revoked) as s1:
            self.assertTrue(s1.wait_for_log("the TLS certificate is REVOKED"), s1.log)
            self.assert_stapled(s1.port, "revoked")
            for options in ([], ["--ocsp", "require"]):
                err = self.assert_fetch_refused(s1, "TLS certificate is revoked", *options)
                self.assertIn("keyCompromise", err)
            self.assert_fetch_ok(s1, "--ocsp", "off")

    def test_responses_that_do_not_match_refuse_the_start(self):
        garbage = self.ocsp.dir / "garbage.der"
        garbage.write_bytes(b"\x30\x03\x0a\x01\x00" + b"junk")
        cases = [(self.ocsp.other_cert, "is for another certificate"),
                 (self.ocsp.unrelated, "which the TLS certificate's issuer did not issue"),
                 (self.ocsp.delegated_no_eku, "lacks OCSPSigning"),
                 (self.ocsp.unknown, "status is unknown"),
                 (garbage, "not DER-encoded")]
        for response, needle in cases:
            with self.subTest(response=response.name):
                proc = peterah.run_peterad(["--check", "--ocsp-response", response,
                                            self.files["tls"], self.files["encrypt"],
                                            self.files["decrypt_dir"]])
                err = proc.stderr.decode(errors="replace")
                self.assertEqual(proc.returncode, 1, err)
                self.assertIn(str(response), err)
                self.assertIn(needle, err)
        # And a real start, not only --check.
        with self.assertRaises(peterah.ServerError) as refused:
            self.server(self.ocsp.other_cert).start()
        self.assertIn("is for another certificate", str(refused.exception))

    def test_an_expired_or_missing_response_warns_and_staples_nothing(self):
        missing = self.ocsp.dir / "not-yet.der"
        for response, needle in ((self.ocsp.expired, "expired at"),
                                 (missing, "does not exist")):
            with self.subTest(response=response.name), self.server(response) as s1:
                self.assertTrue(s1.wait_for_log("WARNING: OCSP response %s %s" % (response, needle)),
                                s1.log)
                self.assert_nothing_stapled(s1.port)
                self.assertNotIn("stapled OCSP", self.assert_fetch_ok(s1))
                self.assert_fetch_ok(s1, "--ocsp", "off")
                self.assert_fetch_refused(s1, "stapled no OCSP response", "--ocsp", "require")

    def test_a_server_without_ocsp_and_each_client_setting(self):
        files = self.files
        with peterah.Server(files["tls"], files["encrypt"], files["decrypt_dir"]) as s1:
            self.assert_nothing_stapled(s1.port)
            self.assert_fetch_ok(s1)
            self.assert_fetch_ok(s1, "--ocsp", "off")
            self.assert_fetch_refused(s1, "stapled no OCSP response", "--ocsp", "require")

    def test_a_reload_staples_the_new_file(self):
        path = self.ocsp.dir / "reloaded.der"
        if path.exists():
            path.unlink()
        metrics_port = peterah.free_port()
        with self.server(path, extra=["--metrics", "127.0.0.1:%d" % metrics_port]) as s1:
            self.assert_nothing_stapled(s1.port)
            self.assertIn("peterad_ocsp_stapling 0", self.metrics(metrics_port))
            shutil.copy(self.ocsp.good, path)
            self.assertTrue(s1.reload("OCSP stapling: %s: good" % path), s1.log)
            self.assert_stapled(s1.port, "good")
            self.assert_fetch_ok(s1, "--ocsp", "require")
            text = self.metrics(metrics_port)
            self.assertIn("peterad_ocsp_stapling 1", text)
            self.assertIn("peterad_ocsp_certificate_revoked 0", text)
            # A file for another certificate fails the reload: the old one stays.
            shutil.copy(self.ocsp.other_cert, path)
            self.assertTrue(s1.reload("reload failed, still serving the previous keys"), s1.log)
            self.assert_stapled(s1.port, "good")
            shutil.copy(self.ocsp.revoked, path)
            self.assertTrue(s1.reload("the TLS certificate is REVOKED"), s1.log)
            self.assert_fetch_refused(s1, "TLS certificate is revoked")
            self.assertIn("peterad_ocsp_certificate_revoked 1", self.metrics(metrics_port))

    def test_a_response_that_expires_while_serving_stops_being_stapled(self):
        # One minute of validity, 40 seconds of which have passed already.
        path = self.ocsp.dir / "short.der"
        run(["faketime", "-f", "-40s", "openssl", "ocsp", "-index", self.ocsp.index,
             "-CA", self.ocsp.issuer, "-rsigner", self.ocsp.issuer, "-rkey", self.ocsp.issuer_key,
             "-reqin", self.ocsp.dir / "good.der.req", "-respout", path, "-nmin", "1"])
        metrics_port = peterah.free_port()
        with self.server(path, extra=["--metrics", "127.0.0.1:%d" % metrics_port]) as s1:
            self.assertTrue(s1.wait_for_log("OCSP stapling: %s: good" % path), s1.log)
            self.assertIn("peterad_ocsp_stapling 1", self.metrics(metrics_port))
            self.assertIn("Cert Status: good", s_client(s1.port, "tls1_3"))
            self.assertTrue(s1.wait_for_log("WARNING: OCSP response %s expired at" % path,
                                            timeout=60), s1.log)
            self.assert_nothing_stapled(s1.port)
            self.assertIn("peterad_ocsp_stapling 0", self.metrics(metrics_port))
            self.assert_fetch_refused(s1, "stapled no OCSP response", "--ocsp", "require")
            self.assertNotIn("stapled OCSP", self.assert_fetch_ok(s1))

    def metrics(self, port):
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as r:
            return r.read().decode()

    def test_testssl_reports_stapling_offered(self):
        testssl = shutil.which("testssl") or shutil.which("testssl.sh")
        if testssl is None:
            self.fail("testssl.sh is missing: run scripts/install-deps.sh")
        with self.server(self.ocsp.good) as s1:
            proc = run([testssl, "--quiet", "--color", "0", "--warnings", "off", "-S",
                        s1.address], check=False, timeout=300)
            out = proc.stdout.decode(errors="replace")
            lines = [l for l in out.splitlines() if l.strip().startswith("OCSP stapling")]
            self.assertEqual(len(lines), 1, out)
            self.assertIn("offered", lines[0])
            self.assertNotIn("not offered", lines[0])


class ClientAgainstOpensslServer(OcspTestCase):
    """petera against `openssl s_server -status_file`: a server that staples
    whatever it is given, over TLS 1.2 and 1.3."""

    def s_server(self, response, version):
        port = peterah.free_port()
        tls = self.pki / "s1" / "tls.pem"
        proc = subprocess.Popen(
            ["openssl", "s_server", "-accept", "127.0.0.1:%d" % port, "-" + version,
             "-cert", str(tls), "-key", str(tls), "-cert_chain", str(self.ocsp.issuer),
             "-status_file", str(response), "-www", "-quiet"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while peterah.port_is_free(port) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.addCleanup(peterah.terminate, proc)
        return port

    def test_what_is_stapled_is_checked_over_tls_1_2_and_1_3(self):
        for version in ("tls1_2", "tls1_3"):
            with self.subTest(version=version):
                revoked = self.s_server(self.ocsp.revoked, version)
                proc = peterah.run_petera([self.anchor, "fetch", "127.0.0.1:%d" % revoked])
                err = proc.stderr.decode(errors="replace")
                self.assertEqual(proc.returncode, 3, err)
                self.assertIn("TLS certificate is revoked", err)
                foreign = self.s_server(self.ocsp.other_cert, version)
                proc = peterah.run_petera([self.anchor, "fetch", "127.0.0.1:%d" % foreign])
                err = proc.stderr.decode(errors="replace")
                self.assertEqual(proc.returncode, 3, err)
                self.assertIn("stapled OCSP response is for another certificate", err)
                # A good staple passes the check; s_server then answers no
                # Petera API, which is a different failure.
                good = self.s_server(self.ocsp.good, version)
                proc = peterah.run_petera(["-v", self.anchor, "fetch", "127.0.0.1:%d" % good])
                err = proc.stderr.decode(errors="replace")
                self.assertNotEqual(proc.returncode, 0)
                self.assertIn("stapled OCSP response: good", err)
                self.assertNotIn("not trusted", err)


class MustStaple(OcspTestCase):
    """A TLS certificate that demands a stapled response (RFC 7633: TLS
    feature status_request), issued here by `openssl x509` from the demo
    intermediate, with s1's names."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        work = peterah.temp_dir("petera-must-staple-")
        cls.leaf, key = cls.ocsp.issue(
            "must-staple-tls", "/O=Petera Demo/OU=TLS/CN=s1.petera.test",
            "extendedKeyUsage=serverAuth\n"
            "subjectAltName=DNS:localhost,IP:127.0.0.1,DNS:s1.petera.test\n"
            "tlsfeature=status_request\n", days=365)
        cls.tls = work / "tls.pem"
        cls.tls.write_bytes(cls.leaf.read_bytes() + cls.ocsp.issuer.read_bytes() +
                            key.read_bytes())
        os.chmod(cls.tls, 0o600)
        # The responder's database, with this certificate valid in it.
        index = cls.ocsp.dir / "must-staple-index.txt"
        subject = run(["openssl", "x509", "-in", cls.leaf, "-noout", "-subject", "-nameopt",
                       "compat"]).stdout.decode().strip().split("=", 1)[1]
        index.write_text(cls.ocsp.index.read_text() +
                         "V\t%s\t\t%s\tunknown\t%s\n" % ("491231235959Z",
                                                          cls.ocsp.serial(cls.leaf), subject))
        (cls.ocsp.dir / "must-staple-index.txt.attr").write_text("unique_subject = no\n")
        cls.good = cls.ocsp.respond("must-staple-good.der", cert=cls.leaf, index=index)

    def must_staple_server(self, *extra):
        return peterah.Server(self.tls, self.files["encrypt"], self.files["decrypt_dir"],
                              extra_args=list(extra))

    def test_a_client_refuses_it_without_a_staple_unless_ocsp_is_off(self):
        with self.must_staple_server() as s1:
            err = self.assert_fetch_refused(s1, "must-staple")
            self.assertIn("stapled no OCSP response", err)
            self.assert_fetch_refused(s1, "stapled no OCSP response", "--ocsp", "require")
            self.assert_fetch_ok(s1, "--ocsp", "off")
            self.assertIn("WARNING: the TLS certificate demands a stapled OCSP response", s1.log)
            self.assertIn("no --ocsp-response is given", s1.log)

    def test_a_client_accepts_it_with_a_good_staple(self):
        with self.must_staple_server("--ocsp-response", self.good) as s1:
            err = self.assert_fetch_ok(s1)
            self.assertIn("stapled OCSP response: good", err)
            self.assertNotIn("WARNING", s1.log)

    def test_peterad_check_warns_when_nothing_will_be_stapled(self):
        args = ["--check", self.tls, self.files["encrypt"], self.files["decrypt_dir"]]
        alone = peterah.run_peterad(args)
        self.assertEqual(alone.returncode, 0, alone.stderr)
        self.assertIn(b"no --ocsp-response is given", alone.stderr + alone.stdout)
        missing = peterah.temp_dir("petera-must-staple-") / "not-yet.der"
        later = peterah.run_peterad(["--ocsp-response", missing] + args)
        self.assertEqual(later.returncode, 0, later.stderr)
        self.assertIn(b"demands a stapled OCSP response (TLS feature status_request, RFC 7633 "
                      b"must-staple) and none is stapled now", later.stderr + later.stdout)
        stapled = peterah.run_peterad(["--ocsp-response", self.good] + args)
        self.assertEqual(stapled.returncode, 0, stapled.stderr)
        self.assertNotIn(b"WARNING", stapled.stderr + stapled.stdout)


class Refresher(OcspTestCase):
    """systemd/petera-ocsp-refresh against a real `openssl ocsp` responder."""

    def responder(self, index=None, signer=None):
        port = peterah.free_port()
        signer_cert, signer_key = signer or (self.ocsp.issuer, self.ocsp.issuer_key)
        proc = subprocess.Popen(
            ["openssl", "ocsp", "-port", str(port), "-index",
             str(index or self.ocsp.index), "-CA", str(self.ocsp.issuer), "-rsigner",
             str(signer_cert), "-rkey", str(signer_key), "-ndays", "2"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while peterah.port_is_free(port) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.addCleanup(peterah.terminate, proc)
        return "http://127.0.0.1:%d/" % port

    def canned_responder(self, body):
        """A responder that answers every request with `body` (bytes), or
        accepts and never answers (None)."""
        release = threading.Event()

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if body is None:
                    release.wait(60)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/ocsp-response")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()

        def stop():
            release.set()
            server.shutdown()
            server.server_close()
        self.addCleanup(stop)
        return "http://127.0.0.1:%d/" % server.server_address[1]

    def refresh(self, url, response, tls=None, timeout=10):
        args = [REFRESH, "--anchor", self.anchor, "--petera", peterah.petera_bin(),
                "--timeout", str(timeout)]
        if url:
            args += ["--url", url]
        return run(args + [tls or self.files["tls"], response], check=False)

    def target(self):
        path = peterah.temp_dir("petera-ocsp-out-") / "tls.der"
        shutil.copy(self.ocsp.good, path)
        return path

    def assert_untouched(self, proc, path, needle):
        err = proc.stderr.decode(errors="replace")
        self.assertEqual(proc.returncode, 1, err)
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertIn(needle, err)
        self.assertEqual(path.read_bytes(), self.ocsp.good.read_bytes())
        self.assertEqual(sorted(p.name for p in path.parent.iterdir()), ["tls.der"],
                         "nothing left behind")

    def test_installs_a_checked_response_atomically(self):
        path = self.target()
        before = path.stat().st_ino
        proc = self.refresh(self.responder(), path)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn(b"installed", proc.stdout)
        self.assertNotEqual(path.stat().st_ino, before, "replaced by a rename")
        self.assertEqual(path.stat().st_mode & 0o777, 0o644)
        self.assertEqual(sorted(p.name for p in path.parent.iterdir()), ["tls.der"])
        check = peterah.run_petera([self.anchor, "verify", "--tls", "--ocsp-response", path,
                                    self.files["tls"]])
        self.assertEqual(check.returncode, 0, check.stderr)

    def test_a_tls_file_with_crlf_line_ends_is_read(self):
        crlf = peterah.temp_dir("petera-ocsp-crlf-") / "tls.pem"
        crlf.write_bytes(Path(self.files["tls"]).read_bytes().replace(b"\n", b"\r\n"))
        path = self.target()
        proc = self.refresh(self.responder(), path, tls=crlf)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        check = peterah.run_petera([self.anchor, "verify", "--tls", "--ocsp-response", path,
                                    self.files["tls"]])
        self.assertEqual(check.returncode, 0, check.stderr)

    def test_failures_leave_the_old_file(self):
        path = self.target()
        closed = "http://127.0.0.1:%d/" % peterah.free_port()
        self.assert_untouched(self.refresh(closed, path), path, "fetching from " + closed)
        ca = self.pki / "ca" / "other"
        unrelated = self.responder(signer=(ca / "intermediate.pem", ca / "intermediate-key.pem"))
        self.assert_untouched(self.refresh(unrelated, path), path, "is not usable")
        unknown = self.responder(index=self.ocsp.empty_index)
        self.assert_untouched(self.refresh(unknown, path), path, "status is unknown")
        # The demo certificates name no responder.
        self.assert_untouched(self.refresh(None, path), path, "names no OCSP responder")
        usage = run([REFRESH, self.files["tls"]], check=False)
        self.assertEqual(usage.returncode, 2)

    def test_a_responder_that_lies_or_hangs_changes_nothing(self):
        path = self.target()
        # Well-formed, signed by the issuer, about s2's certificate.
        foreign = self.canned_responder(self.ocsp.other_cert.read_bytes())
        self.assert_untouched(self.refresh(foreign, path), path, "from " + foreign)
        stale = self.canned_responder(self.ocsp.expired.read_bytes())
        self.assert_untouched(self.refresh(stale, path), path, "expired at")
        silent = self.canned_responder(None)
        started = time.monotonic()
        self.assert_untouched(self.refresh(silent, path, timeout=2), path,
                              "fetching from " + silent)
        self.assertLess(time.monotonic() - started, 30, "--timeout bounds the fetch")

    def test_a_revoked_response_is_installed_and_reported(self):
        path = self.target()
        proc = self.refresh(self.responder(index=self.ocsp.revoked_index), path)
        err = proc.stderr.decode(errors="replace")
        self.assertEqual(proc.returncode, 3, err)
        self.assertIn("REVOKED", err)
        check = peterah.run_petera([self.anchor, "verify", "--tls", "--ocsp-response", path,
                                    self.files["tls"]])
        self.assertIn(b"revoked", check.stderr)

    def test_refreshing_under_load_fails_no_request(self):
        path = self.target()
        url = self.responder()
        with self.server(path) as s1:
            sealed = peterah.run_petera([self.anchor, "encrypt", s1.address], SECRET)
            self.assertEqual(sealed.returncode, 0, sealed.stderr)
            failures = []
            done = threading.Event()
            count = [0]

            def decrypt_loop():
                while not done.is_set():
                    got = peterah.run_petera(["--ocsp", "require", self.anchor, "decrypt"],
                                             sealed.stdout)
                    if got.returncode != 0 or got.stdout != SECRET:
                        failures.append(got.stderr.decode(errors="replace"))
                    count[0] += 1

            workers = [threading.Thread(target=decrypt_loop) for _ in range(2)]
            for w in workers:
                w.start()
            try:
                for _ in range(3):
                    proc = self.refresh(url, path)
                    self.assertEqual(proc.returncode, 0, proc.stderr)
                    self.assertTrue(s1.reload("OCSP stapling: %s: good" % path), s1.log)
                    time.sleep(0.5)
            finally:
                done.set()
                for w in workers:
                    w.join(timeout=60)
            self.assertEqual(failures, [])
            self.assertGreater(count[0], 3)


if __name__ == "__main__":
    unittest.main()
