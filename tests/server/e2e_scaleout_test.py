# Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
"""Scale-out: three peterad replicas sharing one set of key files behind
Debian's real HAProxy in TCP mode (TLS passes through to peterad; health
checks are GET /v1/health over verified TLS; PROXY protocol v2 from the
balancer's own loopback address). Many `petera decrypt`s run through the
balancer while one replica drains on SIGTERM and restarts, another reloads
(SIGHUP), and a third drains and restarts: no decrypt may fail, and none may
take longer than its timeout.

The configuration written here is the one docs/deployment.md shows."""

import os
import shutil
import subprocess
import tempfile
import threading
import time
import unittest
from pathlib import Path

import peterah
from e2e_util import private_copy

BALANCER = "127.0.0.9"   # the address the replicas see the balancer at
CLIENT_TIMEOUT = 10      # petera --timeout, seconds
WORKERS = 6              # concurrent petera processes


def haproxy_config(front, ports, anchor):
    servers = "".join("  server r%d 127.0.0.1:%d\n" % (i + 1, port)
                      for i, port in enumerate(ports))
    return (
        "global\n"
        "  log stderr format raw local0 notice\n"
        "defaults\n"
        "  mode tcp\n"
        "  log global\n"
        "  timeout connect 2s\n"
        "  timeout client 30s\n"
        "  timeout server 30s\n"
        "  retries 3\n"
        "  option redispatch\n"
        "frontend petera\n"
        "  bind 127.0.0.1:%d\n"
        "  default_backend peterad\n"
        "backend peterad\n"
        "  balance leastconn\n"
        "  option httpchk\n"
        "  http-check send meth GET uri /v1/health ver HTTP/1.1 hdr Host localhost\n"
        "  http-check expect status 200\n"
        "  default-server source %s send-proxy-v2 check check-send-proxy check-ssl "
        "verify required ca-file %s verifyhost localhost check-sni localhost "
        "inter 500ms fall 1 rise 2\n"
        "%s" % (front, BALANCER, anchor, servers))


class ScaleOut(unittest.TestCase):

    def test_no_decrypt_fails_while_replicas_drain_restart_and_reload(self):
        haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
        self.assertTrue(os.access(haproxy, os.X_OK), "haproxy is missing (scripts/install-deps.sh)")
        pki = peterah.make_pki()
        anchor = pki / "anchor.pem"
        files = private_copy(pki)  # one set of key files, shared by the replicas
        files.pop("dir", None)
        replicas = [peterah.Server(**files, extra_args=[
            "--proxy-protocol-from", BALANCER + "/32", "--drain-timeout", "10"]).start()
            for _ in range(3)]
        for r in replicas:
            self.addCleanup(r.stop)

        front = peterah.free_port()
        work = Path(tempfile.mkdtemp(prefix="petera-scaleout-"))
        self.addCleanup(shutil.rmtree, work, True)
        (work / "haproxy.cfg").write_text(haproxy_config(front, [r.port for r in replicas], anchor))
        log = open(work / "haproxy.log", "wb")
        proxy = subprocess.Popen([haproxy, "-f", str(work / "haproxy.cfg"), "-db"],
                                 stdout=log, stderr=subprocess.STDOUT)

        self.addCleanup(peterah.terminate, proxy, log)

        def haproxy_log():
            return (work / "haproxy.log").read_text(errors="replace")

        deadline = time.monotonic() + 15
        while peterah.port_is_free(front) and time.monotonic() < deadline:
            self.assertIsNone(proxy.poll(), haproxy_log())
            time.sleep(0.05)
        target = "127.0.0.1:%d" % front
        secret = b"a disk key, unlocked through the balancer\n"
        r = peterah.run_petera([anchor, "encrypt", target], secret)
        self.assertEqual(r.returncode, 0, r.stderr)
        jwe = r.stdout

        results = []           # (returncode, seconds, stdout, stderr)
        lock = threading.Lock()
        running = threading.Event()
        running.set()

        def worker():
            while running.is_set():
                start = time.monotonic()
                out = peterah.run_petera([anchor, "decrypt", "--timeout", str(CLIENT_TIMEOUT)],
                                         jwe, timeout=CLIENT_TIMEOUT * 3)
                with lock:
                    results.append((out.returncode, time.monotonic() - start,
                                    out.stdout, out.stderr))

        threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
        for t in threads:
            t.start()
        try:
            time.sleep(1.5)
            # 1. Drain replica 1 (SIGTERM), then start it again on its port.
            self.assertEqual(replicas[0].stop(), 0, replicas[0].log[-3000:])
            time.sleep(1.0)
            restarted = {0: len(replicas[0].log)}
            replicas[0].start()
            time.sleep(1.5)
            # 2. Reload replica 2 (SIGHUP) under load.
            self.assertTrue(replicas[1].reload(wait_for="reloaded:"), replicas[1].log[-3000:])
            time.sleep(1.0)
            # 3. Drain and restart replica 3.
            self.assertEqual(replicas[2].stop(), 0, replicas[2].log[-3000:])
            time.sleep(1.0)
            restarted[2] = len(replicas[2].log)
            replicas[2].start()
            time.sleep(1.5)
        finally:
            running.clear()
            for t in threads:
                t.join(timeout=CLIENT_TIMEOUT * 4)

        failures = [(code, round(secs, 2), err.decode(errors="replace")[-300:])
                    for code, secs, out, err in results if code != 0 or out != secret]
        self.assertEqual(failures, [], "failed decrypts:\n%s\nhaproxy:\n%s" %
                         (failures[:5], haproxy_log()[-3000:]))
        self.assertGreaterEqual(len(results), 30, "too few decrypts ran")
        slowest = max(secs for _, secs, _, _ in results)
        self.assertLess(slowest, CLIENT_TIMEOUT, "a decrypt took %.1f s" % slowest)
        # Every replica served recoveries, the restarted ones after their restart.
        for i, r in enumerate(replicas):
            self.assertTrue(r.wait_for_log("POST /v1/recover 200", timeout=10,
                                           since=restarted.get(i, 0)), r.log[-2000:])


if __name__ == "__main__":
    unittest.main()
