# Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
"""The initramfs-tools hook alone, without a VM: under MODULES=dep it puts
the drivers of this machine's network cards into the initramfs (found from
the devices' modaliases, resolved against the Debian kernel that
install-deps.sh installs), and under list it adds no module of its own.

The real hook runs with initramfs-tools' real hook-functions into a scratch
DESTDIR, as mkinitramfs runs it."""

import os
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

import peterah
from boot_test import kernel  # the kernel the boot tests boot

HOOK = peterah.source_dir() / "integrations" / "initramfs-tools" / "hooks" / "petera"
KEYSCRIPT = peterah.source_dir() / "integrations" / "initramfs-tools" / "decrypt_petera"


def module_name(name):
    """A module's name as modprobe and the file name spell it alike."""
    return name.replace("-", "_")


def network_card_drivers(version):
    """What the machine's network cards need, by their modaliases."""
    drivers = set()
    for device in Path("/sys/class/net").glob("*/device"):
        alias = (device.resolve() / "modalias")
        if not alias.exists():
            continue
        out = subprocess.run(["/sbin/modprobe", "--set-version", version, "--resolve-alias",
                              alias.read_text().strip()],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        drivers.update(module_name(m) for m in out.stdout.split())
    return drivers


class NetworkDrivers(unittest.TestCase):

    def setUp(self):
        _, self.version = kernel()
        self.work = Path(tempfile.mkdtemp(prefix="petera-hook-"))
        self.addCleanup(shutil.rmtree, self.work, True)

    def run_hook(self, modules):
        """The module names the hook put into a fresh DESTDIR."""
        dest = self.work / ("dest-" + modules)
        dest.mkdir()
        conf = self.work / "petera-initramfs.conf"
        conf.write_text("PETERA_INITRAMFS=y\n"
                        "PETERA_CRYPTTAB=/nonexistent\n"
                        "PETERA_BIN='%s'\n"
                        "PETERA_KEYSCRIPT='%s'\n"
                        "PETERA_CLEVIS=n\n" % (peterah.petera_bin(), KEYSCRIPT))
        env = dict(os.environ, DESTDIR=str(dest), version=self.version,
                   MODULESDIR="/lib/modules/" + self.version, MODULES=modules, verbose="n",
                   CONFDIR="/etc/initramfs-tools", PETERA_INITRAMFS_CONF=str(conf))
        proc = subprocess.run(["sh", str(HOOK)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode(errors="replace"))
        self.assertTrue((dest / "usr" / "bin" / "petera").exists())
        return {module_name(p.name.split(".ko")[0]) for p in dest.rglob("*.ko*")}

    def test_dep_adds_the_drivers_of_the_network_cards(self):
        wanted = network_card_drivers(self.version)
        # Fails rather than skips: the machines this suite runs on have a
        # network card whose driver the Debian kernel builds as a module
        # (virtio_net); a container with only veth interfaces has none.
        self.assertTrue(wanted, "no network card with a driver module in " + self.version)
        added = self.run_hook("dep")
        self.assertEqual(wanted - added, set(), "added: %s" % sorted(added))

    def test_list_gets_no_module_from_the_hook(self):
        self.assertEqual(self.run_hook("list"), set())


if __name__ == "__main__":
    unittest.main(verbosity=2)
