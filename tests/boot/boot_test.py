# Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
"""Unlocking the root file system at boot, proved by booting a real VM.

  boot_test.py build-initramfs-tools    the fixture: PKI, disk images, initramfs
  boot_test.py build-dracut             the same images, an initramfs made by dracut
  boot_test.py initramfs-tools|dracut CASE
                                        one boot: server-up, server-down, threshold

The fixture (run once per ctest run) writes into PETERA_BOOT_DIR:
  pki/          the demo PKI (certs-examples/make-pki.sh) plus, per server,
                TLS and encryption certificates for its guest-side address
                10.0.2.10N (N = 0, 1, 2), issued by the demo intermediate CA
  s1.pem ...    `petera fetch`-style targets: "Petera-Server: 10.0.2.10N:5700"
                and the server's encryption chain (bind works offline)
  one.img       root file system on LUKS2, bound to s1
  two-of-3.img  the same, bound to any 2 of s1, s2, s3, with client
                certificate client.pem (demo laptop1) in its token; the
                threshold case runs its servers with --client-ca
  initrd-initramfs-tools.img   made by the real mkinitramfs from a private
                copy of /etc/initramfs-tools with Petera's hook and scripts
  initrd-dracut.img            made by the real dracut from a private copy of
                /usr/lib/dracut, with dracut-network's modules and 90petera

The images are made without device-mapper: `mkfs.ext4 -d` writes a busybox
root whose /init prints "root mounted" and powers off, and `cryptsetup
reencrypt --encrypt` turns the file into LUKS2 in place.

Each case starts real peterads on 127.0.0.1 and boots Debian's kernel with
QEMU (TCG, user-mode network with restrict=on; each guest-side server
address is forwarded by relay.py to its peterad) and reads the serial
console with pexpect. Every wait is bounded; a boot is a pass or a fail.

PETERA_BOOT_LOCK, when set, names a file held (flock) while the initramfs is
built and while a VM runs, so that they do not overlap with builds.
"""

import contextlib
import fcntl
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "harness"))

import peterah  # noqa: E402

CLEVIS_PIN_DIR = peterah.source_dir() / "integrations" / "clevis"

PASSPHRASE = b"boot test passphrase"
SERVERS = ("s1", "s2", "s3")
GUEST_PORT = 5700
GUEST_IP = "10.0.2.15"
BOOT_TIMEOUT = 180        # seconds from QEMU's start to power-off
PROMPT_TIMEOUT = 120      # seconds from QEMU's start to the passphrase prompt
PETERA_TIMEOUT = 5        # the tokens' per-server timeout


def guest_address(name):
    return "10.0.2.%d" % (100 + SERVERS.index(name))


def boot_dir():
    path = os.environ.get("PETERA_BOOT_DIR")
    if not path:
        raise RuntimeError("PETERA_BOOT_DIR is not set (run the tests through ctest)")
    return Path(path)


@contextlib.contextmanager
def machine_lock():
    path = os.environ.get("PETERA_BOOT_LOCK")
    if not path:
        yield
        return
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def run(args, stdin=None, timeout=300, env=None, cwd=None):
    proc = subprocess.run([str(a) for a in args], input=stdin, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout, env=env, cwd=cwd)
    if proc.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s%s" % (
            " ".join(str(a) for a in args), proc.returncode,
            proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")))
    return proc


def kernel():
    """Debian's newest installed kernel of linux-image-amd64's flavour (not
    -cloud-amd64 or -rt-amd64), versions compared number by number:
    (vmlinuz, version)."""
    found = []
    for vmlinuz in glob.glob("/boot/vmlinuz-*"):
        version = vmlinuz[len("/boot/vmlinuz-"):]
        m = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)-(\d+)-amd64", version)
        if m and os.path.isdir("/lib/modules/%s/kernel" % version):
            found.append((tuple(int(n) for n in m.groups()), version, vmlinuz))
    if not found:
        raise AssertionError("no kernel in /boot with its modules: install linux-image-amd64 "
                             "(scripts/install-deps.sh)")
    _, version, vmlinuz = max(found)
    return Path(vmlinuz), version


# ---------------------------------------------------------------------------
# The fixture.

def issue_leaf(pki, ext, subject, san, key, out):
    ca = pki / "ca"
    csr = key.with_suffix(".csr")
    run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-pkeyopt", "ec_param_enc:named_curve", "-out", key])
    env = dict(os.environ, PKI_SAN=san)  # the configuration refers to it
    run(["openssl", "req", "-new", "-config", ca / "openssl.cnf", "-key", key,
         "-subj", subject, "-out", csr], env=env)
    run(["openssl", "ca", "-batch", "-config", "openssl.cnf", "-name", "ca_intermediate",
         "-extensions", ext, "-notext", "-startdate", "200101000000Z",
         "-enddate", "450101000000Z", "-in", csr, "-out", out], env=env, cwd=ca)


def make_server_certificates(pki, out):
    """Per server: tls.pem, encrypt.pem, decrypt.d/ec.pem, for its guest address."""
    intermediate = (pki / "ca" / "intermediate.pem").read_bytes()
    for name in SERVERS:
        d = out / name
        (d / "decrypt.d").mkdir(parents=True, mode=0o700)
        san = "IP:%s,IP:127.0.0.1" % guest_address(name)
        issue_leaf(pki, "ext_tls", "/O=Petera Demo/OU=TLS/CN=%s.boot.test" % name, san,
                   d / "tls.key", d / "tls-leaf.pem")
        issue_leaf(pki, "ext_encrypt_ec", "/O=Petera Demo/OU=Encryption/CN=%s.boot.test" % name,
                   san, d / "ec.key", d / "encrypt-leaf.pem")
        tls = (d / "tls-leaf.pem").read_bytes() + intermediate + (d / "tls.key").read_bytes()
        (d / "tls.pem").write_bytes(tls)
        (d / "tls.pem").chmod(0o600)
        chain = (d / "encrypt-leaf.pem").read_bytes() + intermediate
        (d / "encrypt.pem").write_bytes(chain)
        (d / "decrypt.d" / "ec.pem").write_bytes(chain + (d / "ec.key").read_bytes())
        (d / "decrypt.d" / "ec.pem").chmod(0o600)
        target = b"Petera-Server: %s:%d\n" % (guest_address(name).encode(), GUEST_PORT)
        (out / ("%s.pem" % name)).write_bytes(target + chain)


def make_root_image(work, image, key_file):
    root = work / "rootfs"
    if not root.exists():
        for d in ("bin", "dev", "proc", "sys", "run", "tmp", "etc"):
            (root / d).mkdir(parents=True)
        shutil.copy2("/bin/busybox", root / "bin" / "busybox")
        (root / "init").write_text("#!/bin/busybox sh\n"
                                   "/bin/busybox echo 'root mounted'\n"
                                   "/bin/busybox poweroff -f\n")
        (root / "init").chmod(0o755)
    with open(image, "wb") as f:
        f.truncate(64 << 20)
    run(["mkfs.ext4", "-q", "-F", "-d", root, image, "32M"])
    run(["cryptsetup", "reencrypt", "--encrypt", "--type", "luks2", "--reduce-device-size",
         "32M", "--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000",
         "--key-file", key_file, "--batch-mode", image])


def bind(anchor, image, key_file, targets, threshold=None, cert=None):
    args = ["--timeout", PETERA_TIMEOUT, anchor, "luks", "bind", "-d", image,
            "--key-file", key_file]
    if cert:
        args += ["--cert", cert]
    if threshold:
        args += ["--threshold", threshold]
    done = peterah.run_petera(args + targets, b"", timeout=120)
    if done.returncode != 0:
        raise AssertionError("bind failed: %s" % done.stderr.decode(errors="replace"))


# The kernel modules this VM needs (virtio disk and network, dm-crypt with
# the keyslots' aes-xts, ext4), for MODULES=list: the boot tests would
# otherwise carry the 800-odd modules of MODULES=most, which the emulated
# CPU spends about 15 s unpacking and udev another 15 s probing on every
# boot. A machine whose initramfs.conf says MODULES=dep must list its
# network driver in the same way (docs/luks.md).
INITRAMFS_MODULES = ("virtio_pci", "virtio_blk", "virtio_net", "dm_mod", "dm_crypt", "xts", "ecb",
                     "ext4", "crc32c_generic")


def stripped(path, out):
    """A copy of the build's PATH without its debug information, as the
    packages install it (the line tables alone are most of a -g1 binary)."""
    copy = out / "bin" / Path(path).name
    copy.parent.mkdir(exist_ok=True)
    run(["objcopy", "--strip-debug", path, copy])
    return copy


def make_initramfs_tools(out, devices, initrd):
    """The real mkinitramfs, from a private copy of /etc/initramfs-tools."""
    conf_dir = out / "initramfs-tools"
    if conf_dir.exists():
        shutil.rmtree(conf_dir)
    shutil.copytree("/etc/initramfs-tools", conf_dir, symlinks=True)
    conf = conf_dir / "initramfs.conf"
    conf.write_text("".join(
        "MODULES=list\n" if line.startswith("MODULES=") else line
        for line in conf.read_text().splitlines(keepends=True)))
    (conf_dir / "modules").write_text("\n".join(INITRAMFS_MODULES) + "\n")
    integration = peterah.source_dir() / "integrations" / "initramfs-tools"
    (conf_dir / "hooks").mkdir(exist_ok=True)
    shutil.copy2(integration / "hooks" / "petera", conf_dir / "hooks" / "petera")
    for stage in ("init-bottom", "local-top"):
        scripts = conf_dir / "scripts" / stage
        scripts.mkdir(parents=True, exist_ok=True)
        shutil.copy2(integration / "scripts" / stage / "petera", scripts / "petera")
    petera_conf = out / "petera-initramfs.conf"
    petera_conf.write_text(
        "# written by tests/boot/boot_test.py\n"
        "PETERA_DEVICES='%s'\n"
        "PETERA_BIN='%s'\n"
        "PETERA_KEYSCRIPT='%s'\n"
        "PETERA_CLEVIS_PIN='%s'\n"
        "PETERA_FILES='%s'\n"
        "PETERA_NETWORK_TIMEOUT=20\n"
        "PETERA_RECOVERY_TIMEOUT=30\n" % (" ".join(str(d) for d in devices),
                                           stripped(peterah.petera_bin(), out),
                                           integration / "decrypt_petera",
                                           CLEVIS_PIN_DIR / "clevis-decrypt-petera",
                                           out / "pki" / "anchor.pem"))
    _, version = kernel()
    env = dict(os.environ, PETERA_INITRAMFS_CONF=str(petera_conf))
    started = time.monotonic()
    run(["mkinitramfs", "-d", conf_dir, "-o", initrd, version], env=env, timeout=600)
    print("mkinitramfs: %.1f s" % (time.monotonic() - started))
    listing = run(["lsinitramfs", initrd]).stdout.decode()
    for wanted in ("usr/bin/petera", "lib/cryptsetup/scripts/decrypt_petera",
                   "scripts/init-bottom/petera", "scripts/local-top/petera", "conf/petera.conf",
                   "usr/bin/clevis-decrypt-petera", "scripts/local-top/clevis",
                   str(out / "pki" / "anchor.pem").lstrip("/"),
                   str(out / "client.pem").lstrip("/")):
        if wanted not in listing:
            raise AssertionError("%s is not in the initramfs" % wanted)


def build_initramfs_tools():
    out = boot_dir()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    work = out / "work"
    work.mkdir()
    # The demo PKI, kept at a fixed path: the tokens name its anchor.
    run(["bash", peterah.source_dir() / "certs-examples" / "make-pki.sh", out / "pki"],
        timeout=600)
    pki = out / "pki"
    make_server_certificates(pki, out)
    key_file = out / "passphrase"
    key_file.write_bytes(PASSPHRASE)
    key_file.chmod(0o600)
    anchor = pki / "anchor.pem"
    one, two_of_3 = out / "one.img", out / "two-of-3.img"
    make_root_image(work, one, key_file)
    bind(anchor, one, key_file, [out / "s1.pem"])
    # The threshold case also needs client authorization: its servers run
    # with --client-ca, and the token names the machine's certificate, which
    # the hook must carry into the initramfs.
    client = out / "client.pem"
    client.write_bytes((pki / "clients" / "laptop1.pem").read_bytes())
    client.chmod(0o600)
    make_root_image(work, two_of_3, key_file)
    bind(anchor, two_of_3, key_file, [out / ("%s.pem" % s) for s in SERVERS], threshold=2,
         cert=client)
    # Bound with Clevis' petera pin (clevis-initramfs unlocks it).
    clevis_img = out / "clevis.img"
    make_root_image(work, clevis_img, key_file)
    pin_env = dict(os.environ, PATH=os.pathsep.join([
        str(CLEVIS_PIN_DIR), str(Path(peterah.petera_bin()).resolve().parent),
        os.environ.get("PATH", "/usr/bin:/bin")]))
    config = json.dumps({"anchor": str(anchor), "servers": [str(out / "s1.pem")]})
    run(["clevis", "luks", "bind", "-y", "-d", clevis_img, "-k", key_file, "petera", config],
        env=pin_env, timeout=120)
    with machine_lock():
        make_initramfs_tools(out, [one, two_of_3, clevis_img], out / "initrd-initramfs-tools.img")
    print("boot fixture ready in %s" % out)


def make_dracut(out, devices, initrd):
    """The real dracut (dracut-core), from a private copy of its module
    directory with dracut-network's modules (unpacked by install-deps.sh,
    never installed) and Petera's module added; systemd in the initramfs."""
    network = Path(os.environ.get("PETERA_DRACUT_NETWORK", "/var/cache/petera/dracut-network"))
    if not (network / "usr/lib/dracut/modules.d").is_dir():
        raise AssertionError("%s has no dracut-network modules: run scripts/install-deps.sh" % network)
    base = out / "dracut"
    if base.exists():
        shutil.rmtree(base)
    shutil.copytree("/usr/lib/dracut", base, symlinks=True)
    shutil.copytree(network / "usr/lib/dracut/modules.d", base / "modules.d", symlinks=True,
                    dirs_exist_ok=True)
    shutil.copytree(peterah.source_dir() / "integrations" / "dracut" / "90petera",
                    base / "modules.d" / "90petera")
    conf_dir = out / "dracut.conf.d"
    conf_dir.mkdir(exist_ok=True)
    petera_conf = out / "petera-dracut.conf"
    petera_conf.write_text(
        "# written by tests/boot/boot_test.py\n"
        "PETERA_DEVICES='%s'\n"
        "PETERA_BIN='%s'\n"
        "PETERA_PLUGIN='%s'\n" % (" ".join(str(d) for d in devices),
                                   stripped(peterah.petera_bin(), out),
                                   stripped(os.environ["PETERA_TOKEN_PLUGIN"], out)))
    _, version = kernel()
    env = dict(os.environ, dracutbasedir=str(base), PETERA_INITRAMFS_CONF=str(petera_conf))
    modules = ("systemd systemd-initrd dracut-systemd systemd-networkd systemd-ask-password "
               "crypt petera kernel-modules rootfs-block udev-rules base fs-lib")
    started = time.monotonic()
    # Only the drivers this VM needs, uncompressed: a smaller image that the
    # emulated CPU need not decompress boots much sooner.
    run(["dracut", "--force", "--no-hostonly", "--no-early-microcode", "--conf", "/dev/null",
         "--confdir", conf_dir, "-m", modules, "--no-compress",
         "--drivers", "virtio_net virtio_blk virtio_pci virtio_ring virtio ext4 dm_crypt "
         "crc32c_generic",
         "--kver", version, initrd], env=env, timeout=900)
    print("dracut: %.1f s" % (time.monotonic() - started))
    listing = run(["lsinitrd", initrd], env=env).stdout.decode()
    for wanted in ("usr/bin/petera", "cryptsetup/libcryptsetup-token-petera.so",
                   "systemd-cryptsetup@.service.d/petera-network.conf",
                   "etc/cmdline.d/90petera.conf", str(out / "pki" / "anchor.pem").lstrip("/"),
                   str(out / "client.pem").lstrip("/")):
        if wanted not in listing:
            raise AssertionError("%s is not in the initramfs" % wanted)


def build_dracut():
    out = boot_dir()
    if not (out / "one.img").exists():
        raise AssertionError("no images: the fixture boot.initramfs-tools.build failed")
    with machine_lock():
        make_dracut(out, [out / "one.img", out / "two-of-3.img"], out / "initrd-dracut.img")
    print("dracut initramfs ready in %s" % out)


# ---------------------------------------------------------------------------
# Booting.

class Servers:
    """Real peterads on 127.0.0.1 for the named servers."""

    def __init__(self, names, extra_args=()):
        self.running = {}
        for name in names:
            d = boot_dir() / name
            self.running[name] = peterah.Server(d / "tls.pem", d / "encrypt.pem",
                                                d / "decrypt.d", extra_args=extra_args).start()

    def port(self, name):
        """The server's port; a free port with nothing behind it when it is down."""
        server = self.running.get(name)
        return server.port if server else peterah.free_port()

    def stop(self):
        for server in self.running.values():
            if server.alive:
                server.stop()


def qemu_command(image, initrd, servers, cmdline):
    vmlinuz, _ = kernel()
    netdev = "user,id=n0,restrict=on,net=10.0.2.0/24"
    for name in SERVERS:
        netdev += ",guestfwd=tcp:%s:%d-cmd:%s %s %d" % (
            guest_address(name), GUEST_PORT, sys.executable, HERE / "relay.py",
            servers.port(name))
    cmdline = ("console=ttyS0 panic=-1 net.ifnames=0 root=/dev/mapper/root rootfstype=ext4 "
               "init=/init " + cmdline)
    return ["qemu-system-x86_64", "-accel", "tcg", "-m", "512", "-smp", "1",
            "-display", "none", "-monitor", "none", "-serial", "stdio", "-no-reboot",
            "-kernel", str(vmlinuz), "-initrd", str(initrd), "-append", cmdline,
            "-drive", "file=%s,format=raw,if=virtio,snapshot=on" % image,
            "-netdev", netdev, "-device", "virtio-net-pci,netdev=n0"]


STATIC_IP = "ip=%s::10.0.2.2:255.255.255.0::eth0:off" % GUEST_IP


class Boot:
    """One VM boot on the serial console, with host-side timestamps."""

    def __init__(self, command, log_path):
        import pexpect
        self.pexpect = pexpect
        self.log = open(log_path, "wb")
        self.started = time.monotonic()
        self.child = pexpect.spawn(command[0], command[1:], timeout=BOOT_TIMEOUT,
                                   logfile=self.log)
        self.marks = {}

    def expect(self, pattern, label, deadline):
        left = deadline - (time.monotonic() - self.started)
        try:
            self.child.expect(pattern, timeout=max(left, 1))
        except (self.pexpect.TIMEOUT, self.pexpect.EOF) as e:
            raise AssertionError("no %r within %d s of starting QEMU (%s); console log: %s" % (
                pattern, deadline, type(e).__name__, self.log.name))
        self.marks[label] = time.monotonic() - self.started
        return self.child.match

    def finish(self):
        try:
            self.child.expect(self.pexpect.EOF, timeout=30)
        except self.pexpect.TIMEOUT:
            raise AssertionError("QEMU did not exit after power-off")
        finally:
            self.child.close(force=True)
            self.log.close()

    def kill(self):
        if self.child.isalive():
            self.child.close(force=True)
        self.log.close()


# What each initramfs prints on the console, in order.
CONSOLE = {
    "initramfs-tools": dict(
        cmdline="cryptopts=target=root,source=/dev/vda,luks,keyscript=decrypt_petera",
        network_up=rb"petera: network up at ([0-9.]+) s",
        recovered=rb"petera: key of root recovered at ([0-9.]+) s",
        prompt=rb"Please unlock disk root: ",
        volume_open=rb"cryptsetup: root: set up successfully",
        network_down=rb"petera: network of the initramfs taken down"),
    "dracut": dict(
        cmdline="rd.luks.name=%(uuid)s=root rd.shell=0 systemd.show_status=1",
        network_up=rb"Reached target .{0,40}network-online\.target",
        recovered=None,
        prompt=rb"[Pp]assphrase for .{0,40}root",
        volume_open=rb"Finished .{0,60}Cryptography Setup for root",
        network_down=None),
}


# The Clevis case: clevis-initramfs' own scripts unlock, Petera's
# local-top script brings the network up for them.
CLEVIS_CONSOLE = dict(
    cmdline="cryptopts=target=root,source=/dev/vda,luks",
    network_up=rb"petera: network up at ([0-9.]+) s \(for Clevis\)",
    recovered=None,
    unlocked=None,  # the test types nothing: only Clevis can open the volume
    prompt=None,
    volume_open=rb"cryptsetup: root: set up successfully",
    network_down=rb"petera: network of the initramfs taken down")


def boot_case(flavor, case):
    out = boot_dir()
    initrd = out / ("initrd-%s.img" % flavor)
    if not initrd.exists():
        raise AssertionError("%s is missing: the fixture boot.%s.build failed" % (initrd, flavor))
    if case == "server-up":
        up, image, ip, unattended = ("s1",), out / "one.img", STATIC_IP, True
    elif case == "server-down":
        up, image, ip, unattended = (), out / "one.img", STATIC_IP, False
    elif case == "threshold":
        up, image, ip, unattended = ("s1", "s2"), out / "two-of-3.img", "ip=dhcp", True
    elif case == "clevis" and flavor == "initramfs-tools":
        up, image, ip, unattended = ("s1",), out / "clevis.img", STATIC_IP, True
    else:
        raise SystemExit("unknown case %s" % case)
    console = CLEVIS_CONSOLE if case == "clevis" else CONSOLE[flavor]
    uuid = run(["cryptsetup", "luksUUID", image]).stdout.decode().strip()
    cmdline = console["cmdline"] % {"uuid": uuid} + " " + ip

    # threshold: the servers authorize clients (the token carries laptop1's
    # certificate); the other cases run without client authorization.
    client_ca = ["--client-ca", out / "pki" / "clients" / "ca.pem"] if case == "threshold" else []
    servers = Servers(up, client_ca)
    log_path = out / ("console-%s-%s.log" % (flavor, case))
    try:
        with machine_lock():
            boot = Boot(qemu_command(image, initrd, servers, cmdline), log_path)
            try:
                boot.expect(console["network_up"], "network up", BOOT_TIMEOUT)
                if unattended and console["recovered"]:
                    net_uptime = float(boot.child.match.group(1))
                    boot.expect(console["recovered"], "key recovered", BOOT_TIMEOUT)
                    key_uptime = float(boot.child.match.group(1))
                    print("guest uptime: network up %.2f s, key recovered %.2f s (%.2f s)" % (
                        net_uptime, key_uptime, key_uptime - net_uptime))
                if console.get("unlocked"):
                    boot.expect(console["unlocked"], "key recovered", BOOT_TIMEOUT)
                if not unattended:
                    boot.expect(console["prompt"], "prompt", PROMPT_TIMEOUT)
                    time.sleep(1)  # the prompt is printed before the tty is read
                    boot.child.send(PASSPHRASE + b"\r")
                boot.expect(console["volume_open"], "volume open", BOOT_TIMEOUT)
                if console["network_down"]:
                    boot.expect(console["network_down"], "network down", BOOT_TIMEOUT)
                boot.expect(rb"root mounted", "root mounted", BOOT_TIMEOUT)
                boot.finish()
            except BaseException:
                boot.kill()
                raise
        if client_ca:
            for name in up:
                log = servers.running[name].log
                if "POST /v1/recover 200" not in log or "client CN=laptop1.example.net" not in log:
                    raise AssertionError("%s did not serve an authorized recovery:\n%s" % (name, log))
    finally:
        servers.stop()
    marks = boot.marks
    print("console, seconds since QEMU started: " +
          ", ".join("%s %.1f" % (k, v) for k, v in sorted(marks.items(), key=lambda kv: kv[1])))
    print("network up -> volume open: %.1f s" % (marks["volume open"] - marks["network up"]))
    print("boot.%s.%s: passed" % (flavor, case))


def main():
    if len(sys.argv) == 2 and sys.argv[1] == "build-initramfs-tools":
        build_initramfs_tools()
    elif len(sys.argv) == 2 and sys.argv[1] == "build-dracut":
        build_dracut()
    elif len(sys.argv) == 3 and sys.argv[1] in CONSOLE:
        boot_case(sys.argv[1], sys.argv[2])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
