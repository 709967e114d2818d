# Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
"""`petera luks` and the cryptsetup token plugin, end to end.

LUKS2 volumes are plain image files made by the real `cryptsetup
luksFormat` (PBKDF2 with 1,000 iterations for the initial passphrase, so
that tests are fast); servers are real peterads on loopback; a recovered
passphrase is checked by the real `cryptsetup open --test-passphrase`,
which needs no device-mapper. The plugin is loaded by the real cryptsetup
from a private mount namespace (`unshare -m`) in which the freshly built
plugin is bind-mounted over libcryptsetup's plugin directory, so the
system is never touched. Loopback only; every wait is bounded.
"""

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "harness"))

import peterah  # noqa: E402

PASSWORD = b"the old passphrase\n"   # a key file's bytes, newline included
TIMEOUT = 5
PLUGIN_DIR = "/usr/lib/x86_64-linux-gnu/cryptsetup"
HEADER_BYTES = 16 << 20  # LUKS2 metadata and keyslots area of these images


def run(args, stdin=b"", timeout=120, check=False):
    proc = subprocess.run([str(a) for a in args], input=stdin, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError("%s failed (%d): %s" % (args, proc.returncode,
                                                     proc.stderr.decode(errors="replace")))
    return proc


def petera(*args, stdin=b"", timeout=120):
    return peterah.run_petera(["--timeout", TIMEOUT] + list(args), stdin, timeout=timeout)


def header_digest(image):
    """SHA-256 of the LUKS2 header area: what any write to the volume changes."""
    with open(image, "rb") as f:
        return hashlib.sha256(f.read(HEADER_BYTES)).hexdigest()


def metadata(image):
    proc = run(["cryptsetup", "luksDump", "--dump-json-metadata", image], check=True)
    return json.loads(proc.stdout)


def opens_with(image, passphrase, slot=None):
    args = ["cryptsetup", "open", "--test-passphrase", "--key-file", "-", image]
    if slot is not None:
        args += ["--key-slot", str(slot)]
    return run(args, stdin=passphrase).returncode == 0


class LuksTestCase(unittest.TestCase):
    """Three servers (s1, s2, s3) and a fresh image per test."""

    @classmethod
    def setUpClass(cls):
        cls.pki = peterah.make_pki()
        cls.anchor = cls.pki / "anchor.pem"
        cls.tmp = peterah.temp_dir("petera-luks-")
        cls.servers = {}
        for name in ("s1", "s2", "s3"):
            files = peterah.server_files(cls.pki, name, "ec")
            cls.servers[name] = peterah.Server(files["tls"], files["encrypt"],
                                               files["decrypt_dir"]).start()
        cls.key_file = cls.tmp / "old.key"
        cls.key_file.write_bytes(PASSWORD)
        cls.key_file.chmod(0o600)

    @classmethod
    def tearDownClass(cls):
        for server in cls.servers.values():
            if server.alive:
                server.stop()

    def setUp(self):
        for name, server in self.servers.items():
            if not server.alive:
                files = peterah.server_files(self.pki, name, "ec")
                self.servers[name] = peterah.Server(files["tls"], files["encrypt"],
                                                    files["decrypt_dir"], port=server.port).start()

    def image(self, kind="luks2", size_mib=20):
        fd, path = tempfile.mkstemp(prefix="vol-", suffix=".img", dir=self.tmp)
        os.close(fd)
        os.truncate(path, size_mib << 20)
        if kind is not None:
            run(["cryptsetup", "luksFormat", "--batch-mode", "--type", kind, "--pbkdf", "pbkdf2",
                 "--pbkdf-force-iterations", "1000", "--key-file", self.key_file, path],
                check=True)
        return Path(path)

    def address(self, name):
        return self.servers[name].address

    def bind(self, image, *targets, threshold=None, ok=True):
        args = [self.anchor, "luks", "bind", "-d", image, "--key-file", self.key_file]
        if threshold:
            args += ["--threshold", threshold]
        run_ = petera(*(args + list(targets)))
        if ok:
            self.assertEqual(run_.returncode, 0, run_.stderr)
            self.assertEqual(run_.stdout, b"")
        return run_

    def petera_slots(self, image):
        """keyslot -> token ids, from the header itself."""
        doc = metadata(image)
        slots = {}
        for token_id, token in doc["tokens"].items():
            if token["type"] == "petera":
                for slot in token["keyslots"]:
                    slots.setdefault(int(slot), []).append(int(token_id))
        return slots

    def only_slot(self, image):
        slots = self.petera_slots(image)
        self.assertEqual(len(slots), 1, slots)
        return next(iter(slots))

    def pass_(self, image, slot=None):
        args = ["luks", "pass", "-d", image]
        if slot is not None:
            args += ["-s", slot]
        return petera(*args)

    def assert_pass_opens(self, image, slot=None):
        got = self.pass_(image, slot)
        self.assertEqual(got.returncode, 0, got.stderr)
        self.assertEqual(len(got.stdout), 43, "256 bits, base64url, no newline")
        self.assertTrue(opens_with(image, got.stdout, slot), "the passphrase does not open it")
        return got.stdout


class BindAndUnlock(LuksTestCase):

    def test_bind_list_pass_unbind_online(self):
        image = self.image()
        self.bind(image, self.address("s1"))
        slot = self.only_slot(image)
        self.assertNotEqual(slot, 0)
        keyslot = metadata(image)["keyslots"][str(slot)]
        self.assertEqual(keyslot["kdf"]["type"], "pbkdf2")
        self.assertEqual(keyslot["kdf"]["iterations"], 1000)
        listed = petera("luks", "list", "-d", image)
        self.assertEqual(listed.returncode, 0, listed.stderr)
        self.assertRegex(listed.stdout.decode(),
                         r"^%d: token \d+, any 1 of 1: %s \[CN=s1\.petera\.test.* until \d{4}-"
                         % (slot, self.address("s1")))
        self.assert_pass_opens(image, slot)
        self.assert_pass_opens(image)
        # The token records the anchor: pass needed no arguments.
        token = [t for t in metadata(image)["tokens"].values() if t["type"] == "petera"][0]
        self.assertEqual(token["petera"]["anchor"], str(self.anchor.resolve()))
        self.assertEqual(token["keyslots"], [str(slot)])

        done = petera("luks", "unbind", "-d", image, "-s", slot)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(self.petera_slots(image), {})
        self.assertNotIn(str(slot), metadata(image)["keyslots"])
        self.assertEqual([t for t in metadata(image)["tokens"].values()], [])
        self.assertTrue(opens_with(image, PASSWORD), "the old passphrase must still open it")

    def test_offline_and_mixed_targets(self):
        fetched = petera(self.anchor, "fetch", self.address("s2"))
        self.assertEqual(fetched.returncode, 0, fetched.stderr)
        pem = self.tmp / "s2.pem"
        pem.write_bytes(fetched.stdout)
        offline = self.image()
        self.bind(offline, pem)
        self.assert_pass_opens(offline)
        mixed = self.image()
        self.bind(mixed, pem, self.address("s1"))
        self.servers["s2"].stop()
        self.assert_pass_opens(mixed)  # s1 alone suffices

    def test_two_of_three_with_one_server_down(self):
        image = self.image()
        self.bind(image, self.address("s1"), self.address("s2"), self.address("s3"), threshold=2)
        self.assertRegex(petera("luks", "list", "-d", image).stdout.decode(), r"any 2 of 3")
        self.servers["s3"].stop()
        self.assert_pass_opens(image)
        self.servers["s2"].stop()
        failed = self.pass_(image)
        self.assertEqual(failed.returncode, 4, failed.stderr)
        self.assertEqual(failed.stdout, b"")
        self.assertIn(b"recovered 1 of the 2 key shares", failed.stderr)

    def test_all_servers_down_unlocks_nothing(self):
        image = self.image()
        self.bind(image, self.address("s1"), self.address("s2"))
        self.servers["s1"].stop()
        self.servers["s2"].stop()
        failed = self.pass_(image)
        self.assertEqual(failed.returncode, 4, failed.stderr)  # as decrypt: network
        self.assertEqual(failed.stdout, b"")
        self.assertIn(b"no server could recover the key", failed.stderr)
        self.assertIn(b"cannot connect", failed.stderr)

    def test_rebind_keeps_the_slot_and_moves_to_new_servers(self):
        image = self.image()
        self.bind(image, self.address("s1"))
        slot = self.only_slot(image)
        before = self.assert_pass_opens(image)
        again = petera("luks", "rebind", "-d", image, "-s", slot)
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertEqual(self.only_slot(image), slot)
        self.assertEqual(self.assert_pass_opens(image), before, "the same passphrase")
        moved = petera(self.anchor, "luks", "rebind", "-d", image, "-s", slot,
                       self.address("s2"))
        self.assertEqual(moved.returncode, 0, moved.stderr)
        self.servers["s1"].stop()
        self.assertEqual(self.assert_pass_opens(image), before)
        self.assertIn(self.address("s2"), petera("luks", "list", "-d", image).stdout.decode())


class Refusals(LuksTestCase):

    def assert_refused(self, proc, code, text):
        self.assertEqual(proc.returncode, code, proc.stderr)
        self.assertEqual(proc.stdout, b"")
        self.assertIn(text, proc.stderr.decode())
        self.assertEqual(proc.stderr.decode().count("\n"), 1, "one line: %r" % proc.stderr)

    def test_a_wrong_passphrase_writes_nothing(self):
        image = self.image()
        wrong = self.tmp / "wrong.key"
        wrong.write_bytes(b"not it")
        before = header_digest(image)
        proc = petera(self.anchor, "luks", "bind", "-d", image, "--key-file", wrong,
                      self.address("s1"))
        self.assert_refused(proc, 2, "no keyslot of %s opens with the passphrase given" % image)
        self.assertEqual(header_digest(image), before)

    def test_luks1_and_a_plain_file_are_refused(self):
        luks1 = self.image("luks1")
        proc = self.bind(luks1, self.address("s1"), ok=False)
        self.assert_refused(proc, 2, "is a LUKS1 volume; Petera binds LUKS2 volumes")
        plain = self.image(None)
        proc = self.bind(plain, self.address("s1"), ok=False)
        self.assert_refused(proc, 2, "is not a LUKS2 volume")
        self.assert_refused(petera("luks", "list", "-d", plain), 2, "is not a LUKS2 volume")

    def test_an_unreachable_target_writes_nothing(self):
        image = self.image()
        before = header_digest(image)
        dead = "127.0.0.1:%d" % peterah.free_port()
        proc = self.bind(image, self.address("s1"), dead, ok=False)
        self.assertEqual(proc.returncode, 4, proc.stderr)
        self.assertIn(dead.encode(), proc.stderr)
        self.assertEqual(header_digest(image), before)

    def test_an_envelope_too_large_for_the_header_is_refused_before_writing(self):
        image = self.image()
        before = header_digest(image)
        targets = []
        for name in ("s1", "s2", "s3"):
            for kind in ("ec", "rsa"):
                targets.append(self.pki / name / ("encrypt-%s.pem" % kind))
        targets += [self.pki / "s1" / "encrypt-p384.pem", self.pki / "s1" / "encrypt-p521.pem"]
        proc = self.bind(image, *targets, ok=False)
        self.assert_refused(proc, 2, "LUKS2 metadata has")
        self.assertRegex(proc.stderr.decode(), r"about \d+ such recipients fit")
        self.assertEqual(header_digest(image), before)

    def test_unbind_refuses_the_last_keyslot_and_unknown_slots(self):
        image = self.image()
        self.bind(image, self.address("s1"))
        slot = self.only_slot(image)
        self.assert_refused(petera("luks", "unbind", "-d", image, "-s", 0), 2,
                            "keyslot 0 of %s is not bound to Petera" % image)
        # luksKillSlot wants a passphrase of a keyslot that stays.
        run(["cryptsetup", "luksKillSlot", "--batch-mode", "--key-file", "-", image, 0],
            stdin=self.assert_pass_opens(image), check=True)
        before = header_digest(image)
        self.assert_refused(petera("luks", "unbind", "-d", image, "-s", slot), 2,
                            "is the last keyslot of %s" % image)
        self.assertEqual(header_digest(image), before)

    def test_usage_errors(self):
        self.assert_refused(petera("luks", "bind", "-d", self.image(), self.address("s1")), 2,
                            "no ANCHOR.pem given")
        self.assertEqual(petera("luks", "unbind", "-d", self.image()).returncode, 2)
        self.assertEqual(petera("luks").returncode, 2)
        helped = petera("luks", "bind", "--help")
        self.assertEqual(helped.returncode, 0)
        self.assertIn(b"--key-file", helped.stdout)


class TokenPlugin(LuksTestCase):
    """The real cryptsetup with the freshly built plugin."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        plugin = Path(os.environ["PETERA_TOKEN_PLUGIN"])
        cls.plugin_dir = peterah.temp_dir("petera-plugin-")
        cls.plugin = cls.plugin_dir / plugin.name
        cls.plugin.write_bytes(plugin.read_bytes())

    @staticmethod
    def plugin_host_env():
        """The environment of a program that loads the plugin."""
        env = dict(os.environ)
        preload = os.environ.get("PETERA_PLUGIN_PRELOAD")
        if preload:
            # A sanitized plugin inside an unsanitized program: its runtimes
            # first, and no leak report about the program's own allocations.
            env["LD_PRELOAD"] = preload
            env["ASAN_OPTIONS"] = os.environ.get("ASAN_OPTIONS", "") + ":detect_leaks=0"
        return env

    def cryptsetup(self, *args):
        """cryptsetup ARGS in a private mount namespace that sees only our plugin."""
        script = 'mount --bind "$1" "$2" && shift 2 && exec cryptsetup "$@"'
        proc = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", self.plugin_dir,
                               PLUGIN_DIR] + [str(a) for a in args],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120,
                              env=self.plugin_host_env())
        return proc

    def test_cryptsetup_opens_with_the_token_alone(self):
        image = self.image()
        self.bind(image, self.address("s1"), self.address("s2"), threshold=2)
        opened = self.cryptsetup("open", "--test-passphrase", "--token-only", "-v", image)
        self.assertEqual(opened.returncode, 0, opened.stderr)
        self.assertIn(b"unlocked", opened.stdout + opened.stderr)
        dump = self.cryptsetup("luksDump", image)
        self.assertEqual(dump.returncode, 0, dump.stderr)
        text = dump.stdout.decode()
        self.assertIn("petera", text)
        self.assertIn("Threshold:  2 of 2", text)
        self.assertIn("Server:     %s (CN=s1.petera.test" % self.address("s1"), text)
        self.assertIn("Anchor:     %s" % self.anchor.resolve(), text)

    def test_servers_down_the_token_fails_and_the_passphrase_still_works(self):
        image = self.image()
        self.bind(image, self.address("s3"))
        self.servers["s3"].stop()
        failed = self.cryptsetup("open", "--test-passphrase", "--token-only", image)
        self.assertNotEqual(failed.returncode, 0)
        self.assertIn(self.address("s3").encode(), failed.stderr)
        fallback = self.cryptsetup("open", "--test-passphrase", "--key-file", self.key_file, image)
        self.assertEqual(fallback.returncode, 0, fallback.stderr)

    def test_a_later_token_is_tried_when_the_first_cannot_help(self):
        image = self.image()
        self.bind(image, self.address("s3"))
        self.bind(image, self.address("s1"))
        self.servers["s3"].stop()
        opened = self.cryptsetup("open", "--test-passphrase", "--token-only", "-v", image)
        self.assertEqual(opened.returncode, 0, opened.stderr)

    def test_open_recovers_its_own_token_after_another_was_validated(self):
        # The plugin keeps what validate parsed for the open that follows:
        # an open of another token must recover that token, not the kept one.
        image = self.image()
        self.bind(image, self.address("s1"))
        self.bind(image, self.address("s2"))
        slot_of = {tokens[0]: slot for slot, tokens in self.petera_slots(image).items()}
        self.assertEqual(sorted(slot_of), [0, 1])
        expected = {token: self.assert_pass_opens(image, slot_of[token]) for token in (0, 1)}
        self.assertNotEqual(expected[0], expected[1])
        script = textwrap.dedent("""
            import ctypes, sys
            cs = ctypes.CDLL("libcryptsetup.so.12")
            plugin = ctypes.CDLL(sys.argv[1])
            cd = ctypes.c_void_p()
            assert cs.crypt_init(ctypes.byref(cd), sys.argv[2].encode()) == 0
            assert cs.crypt_load(cd, b"LUKS2", None) == 0
            def token_json(token):
                text = ctypes.c_char_p()
                assert cs.crypt_token_json_get(cd, token, ctypes.byref(text)) == token
                return text
            out = []
            for validated, opened in ((0, 1), (1, 1), (1, 0)):
                assert plugin.cryptsetup_token_validate(cd, token_json(validated)) == 0
                buffer, size = ctypes.c_void_p(), ctypes.c_size_t()
                r = plugin.cryptsetup_token_open(cd, opened, ctypes.byref(buffer),
                                                 ctypes.byref(size), None)
                assert r == 0, r
                out.append(ctypes.string_at(buffer, size.value))
                plugin.cryptsetup_token_buffer_free(buffer, size)
            sys.stdout.buffer.write(b"\\n".join(out))
            """)
        proc = subprocess.run([sys.executable, "-c", script, str(self.plugin), str(image)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120,
                              env=self.plugin_host_env())
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout.split(b"\n"), [expected[1], expected[1], expected[0]])

    def test_a_client_certificate_is_recorded_and_used_without_arguments(self):
        pki = self.pki
        files = peterah.server_files(pki, "s2", "ec")
        guarded = peterah.Server(files["tls"], files["encrypt"], files["decrypt_dir"],
                                 extra_args=["--client-ca", pki / "clients" / "ca.pem"]).start()
        try:
            client = self.tmp / "client.pem"
            client.write_bytes((pki / "clients" / "laptop1.pem").read_bytes())
            client.chmod(0o600)
            image = self.image()
            bound = petera(self.anchor, "--cert", client, "luks", "bind", "-d", image,
                           "--key-file", self.key_file, guarded.address)
            self.assertEqual(bound.returncode, 0, bound.stderr)
            listed = petera("luks", "list", "-d", image)
            self.assertIn(b", client " + bytes(client.resolve()), listed.stdout)
            self.assert_pass_opens(image)  # the token's certificate, no argument
            opened = self.cryptsetup("open", "--test-passphrase", "--token-only", "-v", image)
            self.assertEqual(opened.returncode, 0, opened.stderr)
            dump = self.cryptsetup("luksDump", image)
            self.assertIn("Client:     %s" % client.resolve(), dump.stdout.decode())
            # Bound without a certificate, the server refuses; --cert fixes it.
            bare = self.image()
            self.bind(bare, guarded.address)
            refused = self.pass_(bare)
            self.assertEqual((refused.returncode, refused.stdout), (5, b""))
            self.assertIn(b"does not authorize this client", refused.stderr)
            self.assertEqual(self.cryptsetup("open", "--test-passphrase", "--token-only",
                                             bare).returncode != 0, True)
            given = petera("--cert", client, "luks", "pass", "-d", bare)
            self.assertEqual(given.returncode, 0, given.stderr)
            self.assertTrue(opens_with(bare, given.stdout))
        finally:
            guarded.stop()

    def test_the_ocsp_setting_is_recorded_and_followed(self):
        # The servers staple no OCSP response: "require" refuses them. Bound
        # to an offline target, binding itself contacts no server.
        fetched = petera(self.anchor, "fetch", self.address("s1"))
        self.assertEqual(fetched.returncode, 0, fetched.stderr)
        target = self.tmp / "s1-ocsp.pem"
        target.write_bytes(fetched.stdout)
        image = self.image()
        bound = petera(self.anchor, "--ocsp", "require", "luks", "bind", "-d", image,
                       "--key-file", self.key_file, target)
        self.assertEqual(bound.returncode, 0, bound.stderr)
        token = next(t for t in metadata(image)["tokens"].values() if t["type"] == "petera")
        self.assertEqual(token["petera"]["ocsp"], "require")
        self.assertIn(b", OCSP require", petera("luks", "list", "-d", image).stdout)
        self.assertIn("OCSP:       require", self.cryptsetup("luksDump", image).stdout.decode())
        refused = self.pass_(image)
        self.assertNotEqual(refused.returncode, 0)
        self.assertEqual(refused.stdout, b"")
        self.assertIn(b"stapled no OCSP response", refused.stderr)
        plugin = self.cryptsetup("open", "--test-passphrase", "--token-only", image)
        self.assertNotEqual(plugin.returncode, 0)
        self.assertIn(b"stapled no OCSP response", plugin.stderr)
        # The command line overrides the token.
        given = petera("--ocsp", "prefer", "luks", "pass", "-d", image)
        self.assertEqual(given.returncode, 0, given.stderr)
        self.assertTrue(opens_with(image, given.stdout))
        # A token without the member means "prefer", and says nothing.
        plain = self.image()
        self.bind(plain, self.address("s1"))
        token = next(t for t in metadata(plain)["tokens"].values() if t["type"] == "petera")
        self.assertNotIn("ocsp", token["petera"])
        self.assertNotIn(b"OCSP", petera("luks", "list", "-d", plain).stdout)


# Every libcryptsetup call through which petera luks changes a header.
HEADER_WRITES = ("crypt_token_json_set", "crypt_keyslot_add_by_keyslot_context",
                 "crypt_keyslot_destroy", "crypt_token_assign_keyslot")


class Interrupted(LuksTestCase):
    """bind, unbind and rebind killed (SIGKILL, by gdb) just before and just
    after each header update they make. After every kill the volume opens
    with its old passphrase, no keyslot is without its token, and the only
    leftover allowed, a Petera token bound to no keyslot, is shown by list
    and removed by the next command."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Without debug information gdb starts in a fraction of the time.
        cls.petera = cls.tmp / "petera"
        run(["objcopy", "--strip-debug", peterah.petera_bin(), cls.petera], check=True)

    def killed(self, args, hit, after):
        """Runs petera ARGS under gdb and kills it at the `hit`-th header
        update (just after it, with `after`). True when it got that far."""
        commands = ["set pagination off", "set breakpoint pending on",
                    "set startup-with-shell off"]
        commands += ["break " + name for name in HEADER_WRITES]
        commands += ["run"] + ["continue"] * (hit - 1)
        if after:
            commands.append("finish")
        commands.append("kill")
        gdb = ["gdb", "-batch", "-nx"]
        for command in commands:
            gdb += ["-ex", command]
        proc = run(gdb + ["--args", self.petera, "--timeout", TIMEOUT] + [str(a) for a in args],
                   timeout=120)
        out = proc.stdout.decode(errors="replace")
        hits = out.count("Breakpoint ") - len(HEADER_WRITES)  # minus the "Breakpoint N at" lines
        return hits >= hit and "exited normally" not in out and "exited with code" not in out

    def assert_consistent(self, image, what):
        self.assertTrue(opens_with(image, PASSWORD), what + ": the old passphrase fails")
        doc = metadata(image)
        bound = {slot for token in doc["tokens"].values() if token["type"] == "petera"
                 for slot in token["keyslots"]}
        for slot in doc["keyslots"]:
            if slot != "0":
                self.assertIn(slot, bound, what + ": keyslot %s has no token" % slot)
        unbound = [t for t in doc["tokens"].values() if not t["keyslots"]]
        for token in unbound:
            self.assertEqual(token["type"], "petera", what)
        if unbound:
            listed = petera("luks", "list", "-d", image).stdout.decode()
            self.assertIn("bound to no keyslot", listed, what)
        return len(unbound)

    def assert_cleaned_by(self, image, args, what):
        proc = petera(*args)
        self.assertEqual(proc.returncode, 0, what + ": " + proc.stderr.decode())
        doc = metadata(image)
        self.assertEqual([t for t in doc["tokens"].values() if not t["keyslots"]], [], what)

    def each_kill(self, prepare, args, cleanup_args):
        """prepare(image) -> None; kills `args` at every point; returns how
        many kill points there were."""
        points = 0
        for hit in range(1, 10):
            reached = False
            for after in (False, True):
                image = self.image()
                prepare(image)
                what = "%s killed %s update %d" % (args[0], "after" if after else "before", hit)
                if not self.killed([a if a != "IMAGE" else image for a in args], hit, after):
                    continue
                reached = True
                points += 1
                self.assert_consistent(image, what)
                self.assert_cleaned_by(
                    image, [a if a != "IMAGE" else image for a in cleanup_args], what)
                self.assertTrue(opens_with(image, PASSWORD), what)
            if not reached:
                return points
        self.fail("more header updates than expected")

    def test_bind(self):
        points = self.each_kill(
            lambda image: None,
            [self.anchor, "luks", "bind", "-d", "IMAGE", "--key-file", self.key_file,
             self.address("s1")],
            [self.anchor, "luks", "bind", "-d", "IMAGE", "--key-file", self.key_file,
             self.address("s1")])
        self.assertEqual(points, 4, "two updates, each killed before and after")

    def test_unbind(self):
        def prepare(image):
            self.bind(image, self.address("s1"))
        # The slot bind takes in a fresh image: 1.
        points = self.each_kill(prepare, ["luks", "unbind", "-d", "IMAGE", "-s", 1],
                                [self.anchor, "luks", "bind", "-d", "IMAGE", "--key-file",
                                 self.key_file, self.address("s1")])
        self.assertEqual(points, 4)

    def test_rebind(self):
        def prepare(image):
            self.bind(image, self.address("s1"))
        points = self.each_kill(prepare, ["luks", "rebind", "-d", "IMAGE", "-s", 1],
                                ["luks", "rebind", "-d", "IMAGE", "-s", 1])
        self.assertEqual(points, 4)


if __name__ == "__main__":
    unittest.main()
