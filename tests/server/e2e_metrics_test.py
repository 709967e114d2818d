# Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
"""peterad --metrics end to end: the real peterad (--listen and
systemd-socket-activate) counts what real clients do; Debian's promtool
accepts the exposition and the shipped alert rules; a real prometheus
scrapes a test peterad on loopback and answers queries with the counts.

promtool and prometheus come from Debian's prometheus package, unpacked by
scripts/install-deps.sh into /var/cache/petera/prometheus (or
$PETERA_PROMETHEUS_DIR)."""

import calendar
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.parse
import urllib.request
from pathlib import Path

import peterah
from e2e_util import kid_of, post_json, private_copy, request_body

SOURCE = Path(__file__).resolve().parent.parent.parent
RULES = SOURCE / "integrations" / "prometheus"
PROMETHEUS_DIR = Path(os.environ.get("PETERA_PROMETHEUS_DIR",
                                     "/var/cache/petera/prometheus")) / "usr" / "bin"
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def tool(name):
    path = PROMETHEUS_DIR / name
    if not os.access(path, os.X_OK):
        raise AssertionError("%s is missing: run scripts/install-deps.sh" % path)
    return str(path)


def parse(text):
    """{(name, frozenset of (label, value)): float} of an exposition."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if m is None:
            raise AssertionError("not a sample line: %r" % line)
        labels = frozenset(LABEL.findall(m.group(3) or ""))
        samples[(m.group(1), labels)] = float(m.group(4))
    return samples


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())))


def not_after(cert):
    out = subprocess.run(["openssl", "x509", "-noout", "-enddate", "-in", str(cert)],
                         check=True, stdout=subprocess.PIPE, text=True).stdout
    when = time.strptime(out.strip().split("=", 1)[1], "%b %d %H:%M:%S %Y GMT")
    return calendar.timegm(when)


def scrape(port, path="/metrics", method="GET"):
    request = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


class Metrics:
    MODE = None

    @classmethod
    def setUpClass(cls):
        cls.pki = peterah.make_pki()
        cls.anchor = cls.pki / "anchor.pem"

    def start(self, files=None, *extra):
        self.metrics_port = peterah.free_port()
        files = files or peterah.server_files(self.pki, "s1", "ec")
        srv = peterah.Server(tls=files["tls"], encrypt=files["encrypt"],
                             decrypt_dir=files["decrypt_dir"], mode=self.MODE,
                             extra_args=["--metrics", "127.0.0.1:%d" % self.metrics_port] +
                             list(extra))
        srv.start()
        self.addCleanup(srv.stop)
        return srv

    def samples(self):
        status, headers, body = scrape(self.metrics_port)
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "text/plain; version=0.0.4; charset=utf-8")
        return parse(body), body

    def envelope(self, srv, secret=b"metrics test secret\n"):
        r = peterah.run_petera([self.anchor, "encrypt", srv.address], secret)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def test_recoveries_requests_and_handshakes_are_counted(self):
        srv = self.start()
        jwe = self.envelope(srv)
        for _ in range(3):
            r = peterah.run_petera([self.anchor, "decrypt"], jwe)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout, b"metrics test secret\n")
        # A kid the server does not hold: counted under kid="", whatever the
        # client wrote (no client text becomes a label).
        body = request_body(self.pki / "s1" / "encrypt-ec.pem")
        body["kid"] = "no-such-key-" + "A" * 40
        self.assertEqual(post_json(srv, body).status, 404)
        # An answer is counted before it is sent: a scrape right after the
        # client has it already holds it, every time.
        for n in range(1, 4):
            self.assertEqual(srv.request("GET", "/no/such/path").status, 404)
            self.assertEqual(value(self.samples()[0], "peterad_http_requests_total",
                                   endpoint="other", code="404"), n)
        samples, body = self.samples()
        kid = kid_of(self.pki / "s1" / "encrypt-ec.pem")
        self.assertEqual(value(samples, "peterad_recoveries_total", kid=kid, result="ok"), 3)
        failed = [k for k in samples if k[0] == "peterad_recoveries_total" and
                  dict(k[1]).get("result") != "ok"]
        self.assertEqual(len(failed), 1, body)
        self.assertEqual(dict(failed[0][1])["kid"], "")
        self.assertNotIn("no-such-key", body)
        self.assertEqual(value(samples, "peterad_http_requests_total",
                               endpoint="/v1/recover", code="200"), 3)
        self.assertEqual(value(samples, "peterad_http_requests_total",
                               endpoint="other", code="404"), 3)
        self.assertGreaterEqual(value(samples, "peterad_http_requests_total",
                                      endpoint="/v1/chain", code="200"), 1)
        self.assertEqual(value(samples, "peterad_recover_duration_seconds_count"), 4)
        self.assertEqual(value(samples, "peterad_recover_duration_seconds_bucket", le="+Inf"), 4)
        self.assertGreater(value(samples, "peterad_recover_duration_seconds_sum"), 0)
        # Every client above made one TLS 1.3 handshake (health checks too).
        self.assertGreaterEqual(value(samples, "peterad_tls_handshakes_total",
                                      version="TLSv1.3", result="ok"), 6)
        self.assertEqual(value(samples, "peterad_keys_loaded"),
                         len(list((self.pki / "s1" / "decrypt.d").iterdir())))
        self.assertEqual(value(samples, "peterad_last_reload_successful"), 1)
        # Expiry: the TLS leaf and the encryption certificate, to the second.
        self.assertEqual(value(samples, "peterad_certificate_expiry_timestamp_seconds",
                               role="tls", kid="",
                               subject="CN=s1.petera.test,OU=TLS,O=Petera Demo"),
                         not_after(self.pki / "s1" / "tls.pem"))
        self.assertEqual(value(samples, "peterad_certificate_expiry_timestamp_seconds",
                               role="encryption", kid=kid,
                               subject="CN=s1.petera.test,OU=Encryption,O=Petera Demo"),
                         not_after(self.pki / "s1" / "encrypt-ec.pem"))

    def test_promtool_accepts_the_exposition(self):
        srv = self.start()
        jwe = self.envelope(srv)
        self.assertEqual(peterah.run_petera([self.anchor, "decrypt"], jwe).returncode, 0)
        _, body = self.samples()
        check = subprocess.run([tool("promtool"), "check", "metrics"], input=body.encode(),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        self.assertEqual(check.returncode, 0, check.stdout.decode())
        self.assertEqual(check.stdout.decode().strip(), "")  # not even a lint warning

    def test_timeouts_and_refusals_are_counted(self):
        srv = self.start(None, "--handshake-timeout", "0.3", "--max-connections-per-client", "1")
        held = socket.create_connection(("127.0.0.1", srv.port))  # never says hello
        self.addCleanup(held.close)
        time.sleep(0.1)
        # A second connection from the same address while the first is open.
        refused = socket.create_connection(("127.0.0.1", srv.port))
        refused.settimeout(5)
        self.assertEqual(refused.recv(1), b"")
        refused.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            samples, body = self.samples()
            if value(samples, "peterad_timeouts_total", phase="handshake") == 1:
                break
            time.sleep(0.1)
        self.assertEqual(value(samples, "peterad_timeouts_total", phase="handshake"), 1, body)
        self.assertEqual(value(samples, "peterad_tls_handshakes_total", version="",
                               result="timeout"), 1, body)
        self.assertGreaterEqual(value(samples, "peterad_connections_refused_total",
                                      reason="per_client"), 1, body)

    def test_reloads_are_counted(self):
        files = private_copy(self.pki)
        srv = self.start(files)
        self.assertTrue(srv.reload(wait_for="reloaded:"), srv.log)
        samples, _ = self.samples()
        self.assertEqual(value(samples, "peterad_reloads_total", result="ok"), 1)
        good = value(samples, "peterad_last_good_load_timestamp_seconds")
        self.assertLessEqual(abs(good - time.time()), 60)
        (Path(files["decrypt_dir"]) / "broken.pem").write_text("not a key\n")
        os.chmod(Path(files["decrypt_dir"]) / "broken.pem", 0o600)
        self.assertTrue(srv.reload(wait_for="reload failed"), srv.log)
        samples, _ = self.samples()
        self.assertEqual(value(samples, "peterad_reloads_total", result="failed"), 1)
        self.assertEqual(value(samples, "peterad_last_reload_successful"), 0)
        self.assertEqual(value(samples, "peterad_last_good_load_timestamp_seconds"), good)

    def test_only_get_metrics_is_served(self):
        self.start()
        status, _, _ = scrape(self.metrics_port, "/")
        self.assertEqual(status, 404)
        status, headers, body = scrape(self.metrics_port, "/metrics", "HEAD")
        self.assertEqual(status, 200)
        self.assertEqual(body, "")
        self.assertGreater(int(headers["Content-Length"]), 1000)
        status, _, _ = scrape(self.metrics_port, "/metrics", "POST")
        self.assertEqual(status, 405)


class MetricsListen(Metrics, unittest.TestCase):
    MODE = "listen"


class MetricsSocket(Metrics, unittest.TestCase):
    MODE = "socket"


class MetricsOptions(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.files = peterah.server_files(peterah.make_pki())

    def args(self):
        return [self.files["tls"], self.files["encrypt"], self.files["decrypt_dir"]]

    def test_a_bad_address_is_a_usage_error(self):
        r = peterah.run_peterad(["--metrics", "localhost:9570"] + self.args())
        self.assertEqual(r.returncode, 2)
        self.assertIn("--metrics", r.stderr.decode())
        self.assertIn("not an IP address", r.stderr.decode())

    def test_a_port_in_use_refuses_the_start(self):
        taken = socket.socket()
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        self.addCleanup(taken.close)
        port = taken.getsockname()[1]
        r = peterah.run_peterad(["--listen", "127.0.0.1:%d" % peterah.free_port(),
                                 "--metrics", "127.0.0.1:%d" % port] + self.args())
        self.assertEqual(r.returncode, 1)
        self.assertIn("--metrics: cannot listen on 127.0.0.1:%d" % port, r.stderr.decode())

    def test_the_alert_rules_pass_promtool(self):
        for command in (["check", "rules", "peterad-alerts.yml"],
                        ["test", "rules", "peterad-alerts.test.yml"]):
            r = subprocess.run([tool("promtool")] + command, cwd=RULES, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=120)
            self.assertEqual(r.returncode, 0, r.stdout.decode())
            self.assertIn("SUCCESS", r.stdout.decode())


class RealPrometheus(unittest.TestCase):
    """Debian's prometheus scrapes a test peterad every second; its query
    API then returns what the clients did."""

    def test_prometheus_scrapes_and_queries_the_counts(self):
        pki = peterah.make_pki()
        anchor = pki / "anchor.pem"
        metrics_port = peterah.free_port()
        with peterah.Server(**peterah.server_files(pki),
                            extra_args=["--metrics", "127.0.0.1:%d" % metrics_port]) as srv:
            r = peterah.run_petera([anchor, "encrypt", srv.address], b"k")
            self.assertEqual(r.returncode, 0, r.stderr)
            jwe = r.stdout
            for _ in range(5):
                self.assertEqual(peterah.run_petera([anchor, "decrypt"], jwe).returncode, 0)
            work = Path(tempfile.mkdtemp(prefix="petera-prometheus-"))
            self.addCleanup(shutil.rmtree, work, True)
            shutil.copy(RULES / "peterad-alerts.yml", work)
            (work / "prometheus.yml").write_text(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                "rule_files: [peterad-alerts.yml]\n"
                "scrape_configs:\n  - job_name: peterad\n"
                "    static_configs:\n      - targets: ['127.0.0.1:%d']\n" % metrics_port)
            web = peterah.free_port()
            log = open(work / "prometheus.log", "wb")
            prom = subprocess.Popen(
                [tool("prometheus"), "--config.file", str(work / "prometheus.yml"),
                 "--storage.tsdb.path", str(work / "data"),
                 "--web.listen-address", "127.0.0.1:%d" % web],
                stdout=log, stderr=log, stdin=subprocess.DEVNULL)
            self.addCleanup(peterah.terminate, prom, log)

            def query(expr):
                url = "http://127.0.0.1:%d/api/v1/query?%s" % (
                    web, urllib.parse.urlencode({"query": expr}))
                try:
                    with urllib.request.urlopen(url, timeout=5) as r:
                        answer = json.loads(r.read())
                except OSError:
                    return None
                result = answer["data"]["result"]
                return float(result[0]["value"][1]) if result else None

            ok = 'sum(peterad_recoveries_total{job="peterad",result="ok"})'
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and query(ok) != 5:
                self.assertIsNone(prom.poll(), (work / "prometheus.log").read_text())
                time.sleep(0.5)
            self.assertEqual(query(ok), 5, (work / "prometheus.log").read_text()[-3000:])
            self.assertEqual(query('up{job="peterad"}'), 1)
            self.assertEqual(query("peterad_keys_loaded"),
                             len(list((pki / "s1" / "decrypt.d").iterdir())))
            # The demo certificates are far from expiry: no alert fires.
            self.assertIsNone(query('ALERTS{alertname="PeteradCertificateExpiresSoon"}'))


if __name__ == "__main__":
    unittest.main()
