# Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
"""Shared helpers for Petera's end-to-end tests (stdlib only).

Environment (set by ctest through PETERA_TEST_ENV):
  PETERA_BIN         the petera client binary
  PETERAD_BIN        the peterad daemon binary
  PETERA_SOURCE_DIR  the source tree (for certs-examples/make-pki.sh)
  PETERAH_PKI        optional: an existing demo PKI directory to reuse

Stable API:
  make_pki() -> Path                 demo PKI, built once per process
  server_files(pki, server, enc)     dict(tls=, encrypt=, decrypt_dir=)
  free_port() -> int                 a currently free loopback TCP port
  Server(tls, encrypt, decrypt_dir, extra_args=(), mode='listen'|'socket')
                                     context manager running the real peterad
  run_peterad(args, timeout) -> CompletedProcess   (for startup refusals)
  run_petera(args, stdin_bytes, timeout) -> CompletedProcess
  client_context(anchor) -> ssl.SSLContext
  https_request(port, method, path, body, headers, anchor, host, timeout)
      -> Response(status, headers, body)
  run_unshared(test_file, unshare_args, why)   re-runs a test file in new
                                     namespaces (once; root only)
"""

import atexit
import http.client
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run_unshared(test_file, unshare_args, why):
    """Re-executes `test_file` (with this process's arguments) under
    `unshare UNSHARE_ARGS`, unless it already runs there; exits with a message
    naming `why` when not root. Call it before anything else happens."""
    mark = "PETERAH_UNSHARED_" + Path(test_file).stem.upper()
    if os.environ.get(mark) == "1":
        return
    if os.geteuid() != 0:
        raise SystemExit("%s: needs root (%s)" % (Path(test_file).name, why))
    env = dict(os.environ, **{mark: "1"})
    import sys
    os.execvpe("unshare", ["unshare"] + list(unshare_args) +
               [sys.executable, os.path.abspath(test_file)] + sys.argv[1:], env)


def source_dir():
    env = os.environ.get("PETERA_SOURCE_DIR")
    return Path(env) if env else HERE.parent.parent


def peterad_bin():
    path = os.environ.get("PETERAD_BIN")
    if not path:
        raise RuntimeError("PETERAD_BIN is not set (run the tests through ctest)")
    return path


def petera_bin():
    path = os.environ.get("PETERA_BIN")
    if not path:
        raise RuntimeError("PETERA_BIN is not set (run the tests through ctest)")
    return path


# ---------------------------------------------------------------------------
# Temporary directories removed at exit.

_TEMP_DIRS = []


def _cleanup_temp_dirs():
    for d in _TEMP_DIRS:
        shutil.rmtree(d, ignore_errors=True)


atexit.register(_cleanup_temp_dirs)


def temp_dir(prefix="petera-test-"):
    """A fresh directory (mode 0700) removed when the process exits."""
    d = Path(tempfile.mkdtemp(prefix=prefix))
    _TEMP_DIRS.append(d)
    return d


# ---------------------------------------------------------------------------
# Demo PKI.

_PKI = None


def make_pki():
    """Runs certs-examples/make-pki.sh once per process; returns its OUTDIR."""
    global _PKI
    if _PKI is not None:
        return _PKI
    reuse = os.environ.get("PETERAH_PKI")
    if reuse:
        _PKI = Path(reuse)
        return _PKI
    out = temp_dir("petera-pki-") / "pki"
    script = source_dir() / "certs-examples" / "make-pki.sh"
    proc = subprocess.run(["bash", str(script), str(out)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=600)
    if proc.returncode != 0:
        raise RuntimeError("make-pki.sh failed (%d):\n%s" %
                           (proc.returncode, proc.stderr.decode(errors="replace")))
    _PKI = out
    return _PKI


def server_files(pki, server="s1", enc="ec"):
    """The three peterad inputs of demo server `server` (s1, s2, s3) using the
    encryption chain encrypt-`enc`.pem (ec, rsa, p384, p521)."""
    base = Path(pki) / server
    return dict(tls=base / "tls.pem",
                encrypt=base / ("encrypt-%s.pem" % enc),
                decrypt_dir=base / "decrypt.d")


# ---------------------------------------------------------------------------
# Ports.

def free_port():
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_free(port, host="127.0.0.1"):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


# ---------------------------------------------------------------------------
# HTTPS client.

class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # dict, lower-case names
        self.body = body        # bytes

    def json(self):
        import json
        return json.loads(self.body.decode())

    def __repr__(self):
        return "Response(%d, %r)" % (self.status, self.body[:200])


def client_context(anchor=None):
    """TLS client context. With `anchor`, verifies the server against it;
    without, does not verify (readiness probes only)."""
    if anchor is None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    else:
        ctx = ssl.create_default_context(cafile=str(anchor))
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def connect_from(source, port, timeout=5.0):
    """A TCP connection to 127.0.0.1:`port` from the loopback address
    `source` (127.0.0.2, 127.0.0.3, ...), for tests of what peterad does
    per client address."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    return s


def health_status_line(raw):
    """GET /v1/health over TLS on an open socket (not verified: a probe);
    returns the status line, e.g. "HTTP/1.1 200 OK"."""
    with client_context().wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        tls.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while b"\r\n" not in data:
            chunk = tls.recv(4096)
            if not chunk:
                break
            data += chunk
        return data.split(b"\r\n", 1)[0].decode(errors="replace")


def https_request(port, method="GET", path="/v1/health", body=None,
                  headers=None, anchor=None, host="127.0.0.1", timeout=10.0,
                  context=None):
    """One request on a fresh connection; returns a Response."""
    ctx = context or client_context(anchor)
    conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=ctx)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        hdrs = {k.lower(): v for k, v in resp.getheaders()}
        return Response(resp.status, hdrs, data)
    finally:
        conn.close()


# ---------------------------------------------------------------------------
# The daemon.

def _child_env(extra=None):
    env = dict(os.environ)
    # Not under systemd: sd_notify must be a no-op, timestamps on.
    for name in ("NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES",
                 "JOURNAL_STREAM"):
        env.pop(name, None)
    if extra:
        env.update(extra)
    return env


def terminate(proc, log=None, timeout=20.0):
    """SIGTERM a helper process (haproxy, prometheus, ...), SIGKILL it if it
    lingers, then close its log file."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if log is not None:
        log.close()


def run_peterad(args, timeout=20.0, env=None):
    """Runs peterad with `args` (strings or paths) to completion."""
    cmd = [peterad_bin()] + [str(a) for a in args]
    return subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout,
                          env=_child_env(env))


class ServerError(RuntimeError):
    pass


class Server:
    """Runs the real peterad on 127.0.0.1.

    mode='listen': peterad --listen 127.0.0.1:PORT ...
    mode='socket': systemd-socket-activate -l 127.0.0.1:PORT peterad ...

    The constructor does not start anything; `start()` (or `with`) does and
    returns once GET /v1/health answers over TLS, or raises ServerError with
    the log. stderr goes to a file: see `log`.
    """

    def __init__(self, tls, encrypt, decrypt_dir, extra_args=(), mode="listen",
                 port=None, ready_timeout=30.0, env=None):
        if mode not in ("listen", "socket"):
            raise ValueError("mode must be 'listen' or 'socket'")
        self.tls = Path(tls)
        self.encrypt = Path(encrypt)
        self.decrypt_dir = Path(decrypt_dir)
        self.extra_args = [str(a) for a in extra_args]
        self.mode = mode
        self.port = port
        self.ready_timeout = ready_timeout
        self.env = env
        self.proc = None
        self._log_path = temp_dir("peterad-log-") / "stderr.log"
        self._log_file = None

    # -- lifecycle ---------------------------------------------------------

    def command(self, port):
        args = [str(self.tls), str(self.encrypt), str(self.decrypt_dir)]
        if self.mode == "listen":
            return ([peterad_bin(), "--listen", "127.0.0.1:%d" % port] +
                    self.extra_args + args)
        setenv = []
        for name in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS",
                     "LSAN_OPTIONS"):
            if name in os.environ:
                setenv += ["-E", name]
        return (["systemd-socket-activate", "-l", "127.0.0.1:%d" % port] +
                setenv + [peterad_bin()] + self.extra_args + args)

    def start(self):
        last_error = None
        for _ in range(5):  # a port picked as free may be taken meanwhile
            port = self.port or free_port()
            try:
                self._launch(port)
                self._wait_ready()
                return self
            except ServerError as e:
                last_error = e
                self._reap()
                if self.port or "Address already in use" not in str(e):
                    raise
        raise last_error

    def _launch(self, port):
        self.port = port
        self._log_file = open(self._log_path, "ab")
        self.proc = subprocess.Popen(self.command(port), stdin=subprocess.DEVNULL,
                                     stdout=self._log_file,
                                     stderr=self._log_file,
                                     env=_child_env(self.env))

    def _wait_ready(self):
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerError("peterad exited with %d before serving:\n%s" %
                                  (self.proc.returncode, self.log))
            try:
                r = https_request(self.port, "GET", "/v1/health", timeout=2.0)
                if r.status == 200:
                    return
            except (OSError, ssl.SSLError, http.client.HTTPException):
                pass
            time.sleep(0.05)
        raise ServerError("peterad did not answer /v1/health within %.0f s:\n%s" %
                          (self.ready_timeout, self.log))

    def _reap(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def stop(self, timeout=15.0):
        """SIGTERM and wait; returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
                self._reap()
                raise ServerError("peterad did not stop within %.0f s" % timeout)
        self._reap()
        return self.proc.returncode

    def kill(self):
        """SIGKILL and wait; returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._reap()
        return self.proc.returncode

    def reload(self, wait_for=None, timeout=10.0):
        """Sends SIGHUP. With `wait_for` (a string), waits until it appears in
        the log after the signal and returns True, or False on timeout."""
        start = len(self.log)
        self.proc.send_signal(signal.SIGHUP)
        if wait_for is None:
            return True
        return self.wait_for_log(wait_for, timeout=timeout, since=start)

    def wait_for_log(self, text, timeout=10.0, since=0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log[since:]:
                return True
            time.sleep(0.05)
        return False

    # -- state ---------------------------------------------------------------

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    @property
    def returncode(self):
        return self.proc.poll() if self.proc else None

    @property
    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    @property
    def log(self):
        try:
            return self._log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_bytes(self):
        """The log as written, undecoded."""
        try:
            return self._log_path.read_bytes()
        except FileNotFoundError:
            return b""

    def request(self, method="GET", path="/v1/health", body=None, headers=None,
                anchor=None, host="127.0.0.1", timeout=10.0):
        return https_request(self.port, method, path, body, headers, anchor,
                             host, timeout)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        try:
            self.stop()
        except ServerError:
            pass
        return False


# ---------------------------------------------------------------------------
# The client.

def run_petera(args, stdin_bytes=b"", timeout=60.0, env=None):
    """Runs the petera client; returns subprocess.CompletedProcess (bytes)."""
    cmd = [petera_bin()] + [str(a) for a in args]
    return subprocess.run(cmd, input=stdin_bytes, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout,
                          env=_child_env(env))
