# Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
"""Helpers shared by peterad's end-to-end tests (on top of peterah)."""

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import peterah

PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----\n.*?\n-----END \1-----\n?", re.S)


def pem_blocks(text, kind="CERTIFICATE"):
    """The PEM blocks of `text` whose type contains `kind`, concatenated."""
    out = []
    for m in PEM_BLOCK.finditer(text):
        if kind in m.group(1):
            block = m.group(0)
            out.append(block if block.endswith("\n") else block + "\n")
    return "".join(out)


def probe_bin():
    path = os.environ.get("PETERA_RECOVER_PROBE")
    if not path:
        raise RuntimeError("PETERA_RECOVER_PROBE is not set (run through ctest)")
    return path


def kid_of(cert):
    out = subprocess.run([probe_bin(), "kid", str(cert)], check=True,
                         stdout=subprocess.PIPE, timeout=30)
    return out.stdout.decode().strip()


def request_body(cert):
    """A valid recovery request body for a random envelope key of `cert`."""
    out = subprocess.run([probe_bin(), "request", str(cert)], check=True,
                         stdout=subprocess.PIPE, timeout=30)
    return json.loads(out.stdout.decode().splitlines()[0])


def recovery_round(server, cert, anchor=None):
    """One blinded recovery against `server` with the library's client half.

    Returns (http_status, probe_output, probe_exit_code); probe_output ends in
    "OK" when the unblinded answer equals what encryption produced."""
    proc = subprocess.Popen([probe_bin(), "round", str(cert)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        body = proc.stdout.readline()
        resp = server.request("POST", "/v1/recover", body=body.strip(),
                              headers={"Content-Type": "application/json"},
                              anchor=anchor)
        out, err = proc.communicate(resp.body + b"\n", timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return resp.status, (out + err).decode(errors="replace"), proc.returncode


def post_json(server, body, content_type="application/json", path="/v1/recover"):
    if not isinstance(body, (bytes, str)):
        body = json.dumps(body)
    headers = {"Content-Type": content_type} if content_type else {}
    return server.request("POST", path, body=body, headers=headers)


def sanitized_build():
    """True when peterad is built with a sanitizer (memory figures are then
    dominated by the sanitizer's own bookkeeping)."""
    out = subprocess.run(["ldd", peterah.peterad_bin()], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, timeout=30)
    return re.search(rb"lib(asan|tsan|ubsan|msan)", out.stdout) is not None


def private_copy(pki, server="s1", enc="ec"):
    """A private copy of a demo server's inputs that a test may change:
    dict(tls=, encrypt=, decrypt_dir=, dir=)."""
    src = peterah.server_files(pki, server, enc)
    d = peterah.temp_dir("peterad-e2e-")
    tls = d / "tls.pem"
    shutil.copyfile(src["tls"], tls)
    os.chmod(tls, 0o600)
    encrypt = d / "encrypt.pem"
    shutil.copyfile(src["encrypt"], encrypt)
    decrypt = d / "decrypt.d"
    decrypt.mkdir(mode=0o700)
    for f in sorted(Path(src["decrypt_dir"]).iterdir()):
        shutil.copyfile(f, decrypt / f.name)
        os.chmod(decrypt / f.name, 0o600)
    return dict(tls=tls, encrypt=encrypt, decrypt_dir=decrypt, dir=d)


def unread_by_server(port, client_port):
    """Bytes of the loopback connection from `client_port` that the server
    listening on `port` has not read yet (/proc/net/tcp), or None when the
    connection is not there."""
    with open("/proc/net/tcp") as f:
        next(f)  # the header line
        for line in f:
            fields = line.split()
            local, remote = fields[1], fields[2]
            if (int(local.split(":")[1], 16) == port
                    and int(remote.split(":")[1], 16) == client_port):
                return int(fields[4].split(":")[1], 16)
    return None


def wait_until_server_read(port, client_port, timeout=10.0):
    """True once the server has read everything sent on that connection."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if unread_by_server(port, client_port) == 0:
            return True
        time.sleep(0.01)
    return False
