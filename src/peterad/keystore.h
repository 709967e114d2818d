// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// KeyStore: everything peterad serves, loaded from its three inputs and
// checked once. A KeyStore is immutable after Load(); a reload builds a new
// one and swaps the shared_ptr, so requests in flight keep the old one.
//
//   TLS.pem      TLS certificate chain (leaf first) and its private key
//   ENCRYPT.pem  the encryption chain handed to clients (certificates only)
//   DECRYPT.d/   one file per decryption key: certificate(s) + private key
//
// Load() refuses, with one message that names the file and the fix, every
// configuration the server must not run with (see the checks in
// keystore.cc). Certificate age never refuses: it only adds notes and
// warnings for the caller to log.
#ifndef PETERA_PETERAD_KEYSTORE_H_
#define PETERA_PETERAD_KEYSTORE_H_

#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "petera/ossl.h"
#include "petera/pem.h"
#include "petera/recovery.h"
#include "petera/result.h"

namespace petera::peterad {

struct KeyStorePaths {
  std::string tls;
  std::string encrypt;
  std::string decrypt_dir;
};

// A certificate is "expiring" when it expires within this many days.
inline constexpr int kExpiryWarningDays = 30;

// One certificate the server holds, for the expiry metric and warnings.
struct HeldCertificate {
  // tls, tls_chain, encryption, encryption_chain, decryption, client_ca
  std::string role;
  std::string kid;  // the key id of an encryption or decryption key; else empty
  std::string subject;
  std::time_t not_after = 0;
};

class KeyStore {
 public:
  // Reads and checks the three inputs. `now` decides which certificates are
  // expired or expiring (tests pass a fixed time).
  static Result<std::shared_ptr<const KeyStore>> Load(const KeyStorePaths& paths,
                                                      std::time_t now);

  // The ENCRYPT.pem certificates, re-encoded as PEM, leaf first.
  const std::string& chain_pem() const { return chain_pem_; }

  // The decryption key with this key id, or nullptr. Each key is found under
  // KeyIdOfCertificate of its certificate, the kid clients send, and under
  // its own KeyId when that differs (a certificate may encode the public key
  // in another form than OpenSSL writes it: RSA without NULL parameters, a
  // compressed EC point).
  const RecoveryKey* Find(std::string_view kid) const;
  size_t key_count() const { return keys_.size(); }

  // TLS material for the SSL_CTX: leaf first, and its private key.
  const std::vector<X509Ptr>& tls_chain() const { return tls_chain_; }
  EVP_PKEY* tls_key() const { return tls_key_.get(); }

  // Summary for the startup log.
  const std::string& encryption_kid() const { return encryption_kid_; }
  const std::string& encryption_subject() const { return encryption_subject_; }
  const std::string& encryption_not_after() const { return encryption_not_after_; }
  const std::string& tls_subject() const { return tls_subject_; }
  const std::string& tls_not_after() const { return tls_not_after_; }

  // Every certificate of TLS.pem, ENCRYPT.pem and the leaf of each file in
  // DECRYPT.d/, with its role.
  const std::vector<HeldCertificate>& certificates() const { return certificates_; }

  // Loud: a TLS or encryption certificate expired or expires soon.
  const std::vector<std::string>& warnings() const { return warnings_; }
  // Informational: expired decryption certificates, duplicates, skipped
  // directory entries.
  const std::vector<std::string>& notes() const { return notes_; }

 private:
  friend class KeyStoreLoader;
  KeyStore() = default;

  std::string chain_pem_;
  std::vector<std::unique_ptr<const RecoveryKey>> keys_;
  std::unordered_map<std::string, const RecoveryKey*> by_kid_;
  std::vector<X509Ptr> tls_chain_;
  EvpPkeyPtr tls_key_;
  std::string encryption_kid_;
  std::string encryption_subject_;
  std::string encryption_not_after_;
  std::string tls_subject_;
  std::string tls_not_after_;
  std::vector<HeldCertificate> certificates_;
  std::vector<std::string> warnings_;
  std::vector<std::string> notes_;
};

// One warning for each certificate that expired or expires within
// kExpiryWarningDays of `now`, but decryption keys (an old key kept after a
// rotation is expected to be expired). peterad logs them once a day.
std::vector<std::string> ExpiryWarnings(const std::vector<HeldCertificate>& certificates,
                                        std::time_t now);

// Refuses a DECRYPT.d/ that its group or other users may write (unless its
// sticky bit is set), naming the directory and the chmod that fixes it.
Status CheckKeyDirectoryPermissions(const std::string& dir);

// Refuses a private-key file that "other" may read or write, that its group
// may write, or that belongs to a user other than root or the one running
// peterad. `st_mode`/`st_uid` come from fstat on the opened file. The message
// names the chmod/chown command that fixes it. Exposed for tests.
Status CheckKeyFilePermissions(const std::string& path, unsigned st_mode,
                               unsigned st_uid, unsigned euid);

// Reads a file that decides whom peterad trusts (--client-ca, --client-crl,
// --client-allow): a regular file of at most 1 MiB that only root or the
// user running peterad may write. Refusals name the file and the fix.
Result<std::string> ReadTrustedFile(const std::string& path);
// ReadTrustedFile, then ParsePem.
Result<PemContents> LoadTrustedPemFile(const std::string& path);

// Refuses such a file when its group or other users may write it, or when
// it belongs to a user other than root or `euid`. Exposed for tests.
Status CheckTrustedFilePermissions(const std::string& path, unsigned st_mode,
                                   unsigned st_uid, unsigned euid);

}  // namespace petera::peterad

#endif  // PETERA_PETERAD_KEYSTORE_H_
