# Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
"""peterad under the systemd journal: each request's entry carries
structured fields (PETERA_KID, PETERA_RESULT, PETERA_PEER, PETERA_CLIENT,
...), so that `journalctl PETERA_KID=...` finds every recovery of one key,
and no entry holds key material.

The test runs Debian's real systemd-journald, in a private mount namespace
(unshare -m) with a tmpfs over /run, so that neither the machine's journal
(if any) nor its /run is touched. peterad's stderr is a stream connection to
that journald, announced by JOURNAL_STREAM as systemd does for a service;
`journalctl` then reads the entries back. Needs root (as the test command
runs)."""

import json
import os
import socket
import subprocess
import time
import unittest

import peterah

peterah.run_unshared(__file__, ["-m", "--propagation", "private"],
                     "unshare -m and a private journald")
from e2e_util import kid_of, post_json, request_body  # noqa: E402

JOURNALD = "/lib/systemd/systemd-journald"
STDOUT_SOCKET = "/run/systemd/journal/stdout"


def start_journald():
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", "/run"], check=True)
    os.makedirs("/run/systemd/journal", exist_ok=True)
    proc = subprocess.Popen([JOURNALD], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while not os.path.exists(STDOUT_SOCKET):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError("systemd-journald did not start")
        time.sleep(0.05)
    return proc


def journal_stream(identifier):
    """A stream connection to journald set up as systemd sets up a service's
    stderr; returns (socket, JOURNAL_STREAM value)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(STDOUT_SOCKET)
    # identifier, unit id, priority, level prefix, syslog, kmsg, console
    s.sendall(("%s\n\n6\n1\n0\n0\n0\n" % identifier).encode())
    s.shutdown(socket.SHUT_RD)
    st = os.fstat(s.fileno())
    return s, "%d:%d" % (st.st_dev, st.st_ino)


def journal(*matches):
    out = subprocess.run(["journalctl", "--no-pager", "-o", "json"] +
                         list(matches), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         timeout=30)
    entries = []
    for line in out.stdout.decode().splitlines():
        if line.strip():
            entries.append(json.loads(line))
    return entries


def wait_for_entries(count, *matches, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        entries = journal(*matches)
        if len(entries) >= count or time.monotonic() > deadline:
            return entries
        time.sleep(0.1)


class Daemon:
    """The real peterad with its stderr on the private journal."""

    def __init__(self, files, *extra):
        self.port = peterah.free_port()
        # What journald files the stream's lines under (its _PID is the
        # test's, which connected the stream).
        self.identifier = "peterad-test-%d" % self.port
        self.stream, journal_stream_id = journal_stream(self.identifier)
        env = dict(os.environ, JOURNAL_STREAM=journal_stream_id)
        for name in ("NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID"):
            env.pop(name, None)
        self.proc = subprocess.Popen(
            [peterah.peterad_bin(), "--listen", "127.0.0.1:%d" % self.port] +
            [str(a) for a in extra] +
            [str(files["tls"]), str(files["encrypt"]), str(files["decrypt_dir"])],
            stdin=subprocess.DEVNULL, stdout=self.stream.fileno(), stderr=self.stream.fileno(),
            env=env)
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                raise AssertionError("peterad exited with %d" % self.proc.returncode)
            try:
                if peterah.https_request(self.port, timeout=2.0).status == 200:
                    break
            except (OSError, Exception):  # noqa: BLE001 - not up yet
                pass
            if time.monotonic() > deadline:
                raise AssertionError("peterad did not start")
            time.sleep(0.05)

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def request(self, *args, **kwargs):
        return peterah.https_request(self.port, *args, **kwargs)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=20)
        self.stream.close()
        return self.proc.returncode


class Journal(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.journald = start_journald()
        cls.pki = peterah.make_pki()
        cls.anchor = cls.pki / "anchor.pem"

    @classmethod
    def tearDownClass(cls):
        cls.journald.terminate()
        cls.journald.wait(timeout=20)

    def daemon(self, *extra, files=None):
        d = Daemon(files or peterah.server_files(self.pki), *extra)
        self.addCleanup(d.stop)
        return d

    def test_recoveries_carry_their_key_id_and_result(self):
        d = self.daemon()
        r = peterah.run_petera([self.anchor, "encrypt", d.address], b"journal secret")
        self.assertEqual(r.returncode, 0, r.stderr)
        jwe = r.stdout
        for _ in range(3):
            r = peterah.run_petera([self.anchor, "decrypt"], jwe)
            self.assertEqual(r.returncode, 0, r.stderr)
        kid = kid_of(self.pki / "s1" / "encrypt-ec.pem")
        pid = str(d.proc.pid)
        entries = wait_for_entries(3, "PETERA_KID=" + kid, "_PID=" + pid)
        self.assertEqual(len(entries), 3, entries)
        for e in entries:
            self.assertEqual(e["PETERA_RESULT"], "ok")
            self.assertEqual(e["PETERA_STATUS"], "200")
            self.assertEqual(e["PETERA_ENDPOINT"], "/v1/recover")
            self.assertRegex(e["PETERA_PEER"], r"^127\.0\.0\.1:\d+$")
            self.assertGreater(int(e["PETERA_DURATION_US"]), 0)
            self.assertEqual(e["PRIORITY"], "6")
            self.assertEqual(e["SYSLOG_IDENTIFIER"], "peterad")
            self.assertEqual(e["_TRANSPORT"], "journal")  # native, not the stream
            self.assertIn("POST /v1/recover 200", e["MESSAGE"])
            self.assertNotIn("PETERA_CLIENT", e)  # no client certificate asked for
        # A kid the server does not hold: the result, and no PETERA_KID.
        body = request_body(self.pki / "s1" / "encrypt-ec.pem")
        body["kid"] = "unknown-kid-" + "B" * 40
        self.assertEqual(post_json(d, body).status, 404)
        failed = wait_for_entries(1, "PETERA_RESULT=unknown_kid", "_PID=" + pid)
        self.assertEqual(len(failed), 1)
        self.assertNotIn("PETERA_KID", failed[0])
        # The start and other lines are journal entries too, with priorities.
        started = journal("_PID=" + pid, "PRIORITY=6", "SYSLOG_IDENTIFIER=peterad")
        self.assertTrue(any("serving on" in e["MESSAGE"] for e in started), started)

    def test_no_entry_holds_key_material(self):
        d = self.daemon()
        cert = self.pki / "s1" / "encrypt-ec.pem"
        body = request_body(cert)
        r = post_json(d, body)
        self.assertEqual(r.status, 200)
        answer = r.json()
        entries = wait_for_entries(1, "_PID=%d" % d.proc.pid, "PETERA_ENDPOINT=/v1/recover")
        self.assertEqual(len(entries), 1)
        everything = json.dumps(journal("_PID=%d" % d.proc.pid))
        self.assertGreater(len(body["x"]), 40)
        for secret in (body["x"], answer["y"]):
            self.assertNotIn(secret, everything)
            self.assertNotIn(secret[:16], everything)

    def test_client_identity_is_a_field(self):
        pki = self.pki
        d = self.daemon("--client-ca", pki / "clients" / "ca.pem")
        r = peterah.run_petera([self.anchor, "encrypt", d.address], b"journal secret")
        self.assertEqual(r.returncode, 0, r.stderr)
        jwe = r.stdout
        r = peterah.run_petera([self.anchor, "decrypt", "--cert",
                                pki / "clients" / "laptop1.pem"], jwe)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = peterah.run_petera([self.anchor, "decrypt"], jwe)
        self.assertNotEqual(r.returncode, 0)
        pid = "_PID=%d" % d.proc.pid
        ok = wait_for_entries(1, pid, "PETERA_RESULT=ok")
        self.assertEqual(len(ok), 1)
        self.assertIn("laptop1", ok[0]["PETERA_CLIENT"])
        refused = wait_for_entries(1, pid, "PETERA_RESULT=client_not_authorized")
        self.assertGreaterEqual(len(refused), 1)
        self.assertEqual(refused[0]["PETERA_STATUS"], "403")

    def test_without_the_journal_socket_lines_go_to_stderr(self):
        # JOURNAL_STREAM names stderr, but the native socket is gone: every
        # line must still arrive, through the stream, with its priority.
        os.rename("/run/systemd/journal/socket", "/run/systemd/journal/socket.away")
        try:
            d = self.daemon()
            self.assertEqual(d.request().status, 200)
            deadline = time.monotonic() + 10
            while True:
                entries = journal("SYSLOG_IDENTIFIER=" + d.identifier, "_TRANSPORT=stdout",
                                  "PRIORITY=6")
                if (any("GET /v1/health 200" in e["MESSAGE"] for e in entries) or
                        time.monotonic() > deadline):
                    break
                time.sleep(0.1)
            self.assertTrue(any("GET /v1/health 200" in e["MESSAGE"] for e in entries),
                            entries)
            self.assertEqual(journal("_PID=%d" % d.proc.pid, "_TRANSPORT=journal"), [])
        finally:
            os.rename("/run/systemd/journal/socket.away", "/run/systemd/journal/socket")


if __name__ == "__main__":
    unittest.main()
