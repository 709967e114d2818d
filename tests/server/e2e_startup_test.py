# Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
"""peterad end to end: every startup refusal exits 1 with one message that
names the file and the fix; certificate age never refuses."""

import os
import socket
import subprocess
import unittest

import peterah
from e2e_util import pem_blocks, private_copy


class StartupTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pki = peterah.make_pki()

    def setUp(self):
        self.f = private_copy(self.pki)

    def args(self, *extra):
        return (["--listen", "127.0.0.1:%d" % peterah.free_port()] + list(extra) +
                [self.f["tls"], self.f["encrypt"], self.f["decrypt_dir"]])

    def assert_refused(self, *fragments):
        proc = peterah.run_peterad(self.args())
        err = proc.stderr.decode(errors="replace")
        self.assertEqual(proc.returncode, 1, err)
        errors = [l for l in err.splitlines() if " error: " in l]
        self.assertEqual(len(errors), 1, err)
        for fragment in fragments:
            self.assertIn(str(fragment), errors[0])
        self.assertEqual(proc.stdout, b"")
        return errors[0]

    def assert_starts(self):
        with peterah.Server(self.f["tls"], self.f["encrypt"], self.f["decrypt_dir"]) as s:
            self.assertEqual(s.request().status, 200)
            log = s.log
        return log

    # -- refusals -----------------------------------------------------------

    def test_refuses_a_private_key_in_encrypt_pem(self):
        key = pem_blocks((self.f["decrypt_dir"] / "ec.pem").read_text(), "PRIVATE KEY")
        with open(self.f["encrypt"], "a") as out:
            out.write(key)
        self.assert_refused(self.f["encrypt"], "contains a private key", "remove the key block")

    def test_refuses_a_key_file_readable_by_others(self):
        path = self.f["decrypt_dir"] / "ec.pem"
        os.chmod(path, 0o644)
        self.assert_refused("readable by other users", "chmod 600 %s" % path)

    def test_refuses_a_key_file_writable_by_others(self):
        path = self.f["decrypt_dir"] / "ec.pem"
        os.chmod(path, 0o602)
        self.assert_refused("writable by other users", "chmod 600 %s" % path)

    def test_refuses_a_key_file_writable_by_its_group(self):
        path = self.f["decrypt_dir"] / "rsa.pem"
        os.chmod(path, 0o660)
        self.assert_refused("writable by its group", "chmod 600 %s" % path)

    def test_refuses_a_world_readable_tls_key(self):
        os.chmod(self.f["tls"], 0o604)
        self.assert_refused("chmod 600 %s" % self.f["tls"])

    @unittest.skipUnless(os.geteuid() == 0, "needs root to give a file away")
    def test_refuses_a_key_file_of_another_user(self):
        path = self.f["decrypt_dir"] / "ec.pem"
        os.chown(path, 65534, 65534)
        self.assert_refused("belongs to another user", "chown root %s" % path)

    def test_refuses_an_encryption_certificate_without_its_decryption_key(self):
        os.unlink(self.f["decrypt_dir"] / "ec.pem")
        self.assert_refused(self.f["encrypt"], "has no private key in %s" % self.f["decrypt_dir"],
                            "add a file")

    def test_refuses_a_tls_key_that_is_also_an_encryption_key(self):
        self.f["tls"].write_text((self.f["decrypt_dir"] / "ec.pem").read_text())
        os.chmod(self.f["tls"], 0o600)
        self.assert_refused(self.f["tls"], "also an encryption key")

    def test_refuses_unparsable_files(self):
        self.f["encrypt"].write_text("-----BEGIN CERTIFICATE-----\n@@@@\n-----END CERTIFICATE-----\n")
        self.assert_refused(self.f["encrypt"], "fix or replace the file")

    def test_refuses_a_key_that_does_not_match_its_certificate(self):
        ec = self.f["decrypt_dir"] / "ec.pem"
        other = pem_blocks((self.f["decrypt_dir"] / "p384.pem").read_text(), "PRIVATE KEY")
        ec.write_text(pem_blocks(ec.read_text(), "CERTIFICATE") + other)
        self.assert_refused(ec, "does not belong to the first certificate")

    def test_refuses_an_empty_decrypt_directory(self):
        for f in self.f["decrypt_dir"].iterdir():
            f.unlink()
        self.assert_refused(self.f["decrypt_dir"], "holds no key files")

    def test_refuses_a_missing_file(self):
        os.unlink(self.f["tls"])
        self.assert_refused(self.f["tls"])

    def test_refuses_a_port_in_use(self):
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            port = busy.getsockname()[1]
            proc = peterah.run_peterad(["--listen", "127.0.0.1:%d" % port, self.f["tls"],
                                        self.f["encrypt"], self.f["decrypt_dir"]])
        self.assertEqual(proc.returncode, 1)
        self.assertIn(b"cannot listen on 127.0.0.1:%d" % port, proc.stderr)

    # -- usage --------------------------------------------------------------

    def test_usage_errors_exit_2(self):
        self.assertEqual(peterad_exit(["--no-such-option"]), 2)
        self.assertEqual(peterad_exit([]), 2)
        self.assertEqual(peterad_exit(["--threads", "0", "a", "b", "c"]), 2)
        self.assertEqual(peterad_exit(["--log-level", "loud", "a", "b", "c"]), 2)

    def test_help_and_version_exit_0(self):
        proc = peterah.run_peterad(["--help"])
        self.assertEqual(proc.returncode, 0)
        self.assertIn(b"DECRYPT.d", proc.stdout)
        self.assertIn(b"SIGHUP", proc.stdout)
        proc = peterah.run_peterad(["--version"])
        self.assertEqual(proc.returncode, 0)
        self.assertTrue(proc.stdout.startswith(b"peterad "), proc.stdout)

    def test_check_validates_and_exits_0(self):
        proc = peterah.run_peterad(["--check", self.f["tls"], self.f["encrypt"],
                                    self.f["decrypt_dir"]])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn(b"4 decryption key(s)", proc.stderr)

    def test_logs_carry_a_priority_instead_of_a_timestamp_for_the_journal(self):
        log = peterah.temp_dir() / "journal.log"
        with open(log, "wb") as err:
            st = os.fstat(err.fileno())
            env = peterah._child_env({"JOURNAL_STREAM": "%d:%d" % (st.st_dev, st.st_ino)})
            proc = subprocess.run([peterah.peterad_bin(), "--check", str(self.f["tls"]),
                                   str(self.f["encrypt"]), str(self.f["decrypt_dir"])],
                                  stdout=subprocess.DEVNULL, stderr=err, env=env, timeout=30)
        self.assertEqual(proc.returncode, 0)
        self.assertTrue(log.read_text().startswith("<6>checked: encryption key "),
                        log.read_text())

    # -- certificate age never refuses -----------------------------------------

    def test_an_expired_certificate_in_decrypt_d_is_only_noted(self):
        bad = self.pki / "bad"
        path = self.f["decrypt_dir"] / "old.pem"
        path.write_text((bad / "expired-encrypt.pem").read_text() +
                        (bad / "expired-encrypt-key.pem").read_text())
        os.chmod(path, 0o600)
        log = self.assert_starts()
        self.assertIn("expired on 2021-01-01", log)
        self.assertNotIn("WARNING", log)
        self.assertIn("5 decryption key(s)", log)

    def test_an_expired_encryption_certificate_is_a_loud_warning(self):
        bad = self.pki / "bad"
        path = self.f["decrypt_dir"] / "old.pem"
        path.write_text((bad / "expired-encrypt.pem").read_text() +
                        (bad / "expired-encrypt-key.pem").read_text())
        os.chmod(path, 0o600)
        self.f["encrypt"].write_text((bad / "expired-encrypt.pem").read_text())
        log = self.assert_starts()
        self.assertRegex(log, r"warning: WARNING: encryption certificate .* EXPIRED on 2021-01-01")

    def test_an_expired_tls_certificate_is_a_loud_warning(self):
        self.f["tls"].write_text((self.pki / "bad" / "expired-tls.pem").read_text())
        os.chmod(self.f["tls"], 0o600)
        log = self.assert_starts()
        self.assertRegex(log, r"warning: WARNING: TLS certificate .* EXPIRED")


def peterad_exit(args):
    return peterah.run_peterad(args).returncode


if __name__ == "__main__":
    unittest.main()
