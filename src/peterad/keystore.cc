// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "peterad/keystore.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "petera/pem.h"
#include "petera/trust.h"

namespace petera::peterad {
namespace {

Error Refuse(std::string message) {
  DrainSslErrors();
  return Error(ErrorCategory::kUsage, std::move(message));
}

std::string UserName(unsigned uid) {
  struct passwd pw {};
  struct passwd* found = nullptr;
  char buf[1024];
  if (getpwuid_r(static_cast<uid_t>(uid), &pw, buf, sizeof(buf), &found) == 0 &&
      found != nullptr) {
    return found->pw_name;
  }
  return std::to_string(uid);
}

// Wipes a string that may have held a private key.
void Wipe(std::string& text) {
  if (!text.empty()) OPENSSL_cleanse(text.data(), text.size());
  text.clear();
}

// Reads the whole file into memory reserved up front, so that no stray copy
// of a key is left behind in freed memory by a reallocation.
Result<std::string> ReadOpenFile(int fd, const struct stat& st, const std::string& path) {
  if (st.st_size < 0 || static_cast<size_t>(st.st_size) > kMaxPemBytes) {
    return Refuse(path + ": larger than 1 MiB; is this the right file?");
  }
  std::string text;
  text.reserve(kMaxPemBytes + 1);
  char buf[4096];
  bool failed = false;
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) break;
    if (n < 0 || text.size() + static_cast<size_t>(n) > kMaxPemBytes) {
      failed = true;
      break;
    }
    text.append(buf, static_cast<size_t>(n));
  }
  OPENSSL_cleanse(buf, sizeof(buf));
  if (failed) {
    Wipe(text);
    return Refuse(path + ": cannot read (read error or larger than 1 MiB)");
  }
  return text;
}

// Reads and parses a PEM file through one descriptor, so that the checks
// (fstat) and the contents are of the same file. O_NONBLOCK: a FIFO or a
// device put in place of a file must not hang start or a reload in open();
// it is refused as not a regular file right after (O_NONBLOCK changes
// nothing for a regular file). Symbolic links are followed, as Kubernetes
// mounts Secrets through them; the checks apply to the target.
Result<PemContents> LoadRegularPemFile(const std::string& path, struct stat& st) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    return Refuse(path + ": cannot open: " + std::strerror(errno));
  }
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return Refuse(path + ": not a regular file (a FIFO, device or directory cannot hold keys "
                         "or certificates); put a PEM file there");
  }
  auto contents = ReadOpenFile(fd, st, path);
  close(fd);
  if (!contents.ok()) return contents.error();
  std::string& text = contents.value();
  auto parsed = ParsePem(text, path);
  Wipe(text);
  if (!parsed.ok()) return Refuse(parsed.error().message() + "; fix or replace the file");
  return parsed;
}

// A file meant to hold a private key: its permissions matter when it does.
Result<PemContents> LoadKeyFile(const std::string& path) {
  struct stat st {};
  PETERA_ASSIGN_OR_RETURN(PemContents parsed, LoadRegularPemFile(path, st));
  if (!parsed.private_keys.empty()) {
    PETERA_TRY(CheckKeyFilePermissions(path, st.st_mode, st.st_uid, geteuid()));
  }
  return parsed;
}

// Days from `now` until the certificate's notAfter (negative when expired).
int DaysLeft(X509* cert, std::time_t now) {
  OsslPtr<ASN1_TIME, ASN1_TIME_free> from(ASN1_TIME_set(nullptr, now));
  int days = 0;
  int secs = 0;
  if (!from || ASN1_TIME_diff(&days, &secs, from.get(), X509_get0_notAfter(cert)) != 1) {
    DrainSslErrors();
    return -1;
  }
  return (days == 0 && secs < 0) ? -1 : days;
}

bool Expired(X509* cert, std::time_t now) {
  std::time_t t = now;
  return X509_cmp_time(X509_get0_notAfter(cert), &t) < 0;
}

bool NotYetValid(X509* cert, std::time_t now) {
  std::time_t t = now;
  return X509_cmp_time(X509_get0_notBefore(cert), &t) > 0;
}

// Loud warnings about a chain clients validate with time enforced.
void WarnAboutAge(const std::vector<X509Ptr>& chain, const std::string& role,
                  const std::string& path, std::time_t now,
                  std::vector<std::string>& warnings) {
  for (const X509Ptr& cert : chain) {
    std::string who = role + " certificate " + SubjectName(cert.get()) + " in " + path;
    if (Expired(cert.get(), now)) {
      warnings.push_back(who + " EXPIRED on " + NotAfterDate(cert.get()) +
                         ": clients refuse it; renew it and send SIGHUP");
    } else if (NotYetValid(cert.get(), now)) {
      warnings.push_back(who + " is not valid before " + NotBeforeDate(cert.get()) +
                         ": clients refuse it until then");
    } else if (int days = DaysLeft(cert.get(), now); days < kExpiryWarningDays) {
      warnings.push_back(who + " expires on " + NotAfterDate(cert.get()) + " (in " +
                         std::to_string(days) + " days): renew it and send SIGHUP");
    }
  }
}

Result<std::vector<std::string>> ListDirectory(const std::string& dir,
                                               std::vector<std::string>& notes) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return Refuse(dir + ": not a directory (DECRYPT.d/ must be a directory of "
                        "PEM files, each a certificate and its private key)");
  }
  PETERA_TRY(CheckKeyDirectoryPermissions(dir));
  std::vector<std::string> files;
  std::filesystem::directory_iterator it(dir, ec);
  for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.empty() || name.front() == '.') continue;
    std::error_code type_ec;
    if (!std::filesystem::is_regular_file(it->path(), type_ec)) {
      notes.push_back(it->path().string() + ": skipped, not a regular file");
      continue;
    }
    files.push_back(it->path().string());
  }
  if (ec) return Refuse(dir + ": cannot list: " + ec.message());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

Status CheckKeyFilePermissions(const std::string& path, unsigned st_mode,
                               unsigned st_uid, unsigned euid) {
  if ((st_mode & (S_IROTH | S_IWOTH)) != 0) {
    return Refuse(path + " holds a private key and is " +
                  ((st_mode & S_IROTH) != 0 ? "readable" : "writable") +
                  " by other users; run: chmod 600 " + path);
  }
  if ((st_mode & S_IWGRP) != 0) {
    return Refuse(path + " holds a private key and is writable by its group; run: chmod 600 " +
                  path);
  }
  if (st_uid != 0 && st_uid != euid) {
    return Refuse(path + " holds a private key and belongs to another user (" +
                  UserName(st_uid) + "); run: chown " + UserName(euid) + " " + path);
  }
  return OkStatus();
}

Status CheckTrustedFilePermissions(const std::string& path, unsigned st_mode,
                                   unsigned st_uid, unsigned euid) {
  // Whoever may write this file decides which clients may recover.
  if ((st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return Refuse(path + " decides which clients may recover and is writable by " +
                  ((st_mode & S_IWOTH) != 0 ? "other users" : "its group") +
                  "; run: chmod go-w " + path);
  }
  if (st_uid != 0 && st_uid != euid) {
    return Refuse(path + " decides which clients may recover and belongs to another user (" +
                  UserName(st_uid) + "); run: chown " + UserName(euid) + " " + path);
  }
  return OkStatus();
}

Result<std::string> ReadTrustedFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return Refuse(path + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return Refuse(path + ": not a regular file; put the file itself there");
  }
  if (Status permissions = CheckTrustedFilePermissions(path, st.st_mode, st.st_uid, geteuid());
      !permissions.ok()) {
    close(fd);
    return permissions.error();
  }
  auto contents = ReadOpenFile(fd, st, path);
  close(fd);
  return contents;
}

Result<PemContents> LoadTrustedPemFile(const std::string& path) {
  PETERA_ASSIGN_OR_RETURN(std::string text, ReadTrustedFile(path));
  auto parsed = ParsePem(text, path);
  if (!parsed.ok()) return Refuse(parsed.error().message() + "; fix or replace the file");
  return parsed;
}

Status CheckKeyDirectoryPermissions(const std::string& dir) {
  struct stat st {};
  if (stat(dir.c_str(), &st) != 0) return Refuse(dir + ": " + std::strerror(errno));
  // Whoever may write the directory may swap a key file, or add one for a
  // key of their own. With the sticky bit (a Kubernetes Secret volume's
  // mode) others may add files but not rename or remove ours, and a file
  // they add is refused as belonging to another user.
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 && (st.st_mode & S_ISVTX) == 0) {
    return Refuse(dir + " holds private keys and is writable by " +
                  ((st.st_mode & S_IWOTH) != 0 ? "other users" : "its group") +
                  ", who could replace them; run: chmod go-w " + dir);
  }
  return OkStatus();
}

class KeyStoreLoader {
 public:
  KeyStoreLoader(const KeyStorePaths& paths, std::time_t now)
      : paths_(paths), now_(now), store_(new KeyStore()) {}

  Result<std::shared_ptr<const KeyStore>> Run() {
    PETERA_TRY(LoadDecryptDir());
    PETERA_TRY(LoadEncrypt());
    PETERA_TRY(LoadTls());
    PETERA_TRY(CheckTlsKeyIsSeparate());
    return std::shared_ptr<const KeyStore>(std::move(store_));
  }

 private:
  Status LoadDecryptDir() {
    const std::string& dir = paths_.decrypt_dir;
    PETERA_ASSIGN_OR_RETURN(std::vector<std::string> files,
                            ListDirectory(dir, store_->notes_));
    if (files.empty()) {
      return Refuse(dir + " holds no key files: put the certificate and private key "
                          "of ENCRYPT.pem's certificate there, one PEM file per key, mode 0600");
    }
    for (const std::string& file : files) PETERA_TRY(LoadDecryptFile(file));
    return OkStatus();
  }

  Status LoadDecryptFile(const std::string& file) {
    PETERA_ASSIGN_OR_RETURN(PemContents pem, LoadKeyFile(file));
    if (pem.certificates.empty() || pem.private_keys.size() != 1) {
      return Refuse(file + " must hold a certificate followed by exactly one private key (it holds " +
                    std::to_string(pem.certificates.size()) + " certificate(s) and " +
                    std::to_string(pem.private_keys.size()) + " private key(s))");
    }
    X509* leaf = pem.certificates.front().get();
    if (!KeyMatchesCertificate(pem.private_keys.front().get(), leaf)) {
      return Refuse(file + ": the private key does not belong to the first certificate (" +
                    SubjectName(leaf) + "); put the certificate and its own key in the file, "
                    "certificate first");
    }
    PETERA_TRY(CheckUsage(file, leaf));
    if (Expired(leaf, now_)) {
      store_->notes_.push_back(file + ": certificate " + SubjectName(leaf) + " expired on " +
                               NotAfterDate(leaf) + " (fine: old envelopes stay recoverable)");
    }
    auto cert_kid = KeyIdOfCertificate(leaf);
    if (!cert_kid.ok()) return Refuse(file + ": " + cert_kid.error().message());
    auto key = RecoveryKey::Create(std::move(pem.private_keys.front()));
    if (!key.ok()) return Refuse(file + ": " + key.error().message());
    Hold("decryption", key->kid(), leaf);
    AddKey(file, std::move(key).value(), cert_kid.value());
    return OkStatus();
  }

  // Clients refuse an encryption certificate whose key usage is wrong. The
  // server must too: an RSA key that may also sign would make every
  // recovery a signature over whatever the client sent.
  Status CheckUsage(const std::string& file, X509* leaf) {
    Status usage = CheckEncryptionKeyUsage(leaf);
    if (usage.ok()) return usage;
    return Refuse(file + ": " + usage.error().message() +
                  "; issue a new key with a certificate whose key usage is keyAgreement (EC) "
                  "or keyEncipherment alone (RSA)");
  }

  // Indexes a key under the kid clients compute from its certificate and
  // under its own (canonical) kid. A second file with the same key adds only
  // its certificate's kid, which may differ from the first certificate's.
  void AddKey(const std::string& file, RecoveryKey key, const std::string& cert_kid) {
    auto& index = store_->by_kid_;
    if (auto known = index.find(key.kid()); known != index.end()) {
      store_->notes_.push_back(file + ": same key as an earlier file (kid " + cert_kid +
                               "), ignored");
      index.emplace(cert_kid, known->second);
      return;
    }
    const RecoveryKey* added =
        store_->keys_.emplace_back(std::make_unique<const RecoveryKey>(std::move(key))).get();
    index.emplace(added->kid(), added);
    index.emplace(cert_kid, added);
  }

  Status LoadEncrypt() {
    const std::string& path = paths_.encrypt;
    struct stat st {};
    PETERA_ASSIGN_OR_RETURN(PemContents pem, LoadRegularPemFile(path, st));
    if (!pem.private_keys.empty()) {
      return Refuse(path + " contains a private key, which would be sent to every client: "
                           "remove the key block from it (the key belongs in a file in " +
                    paths_.decrypt_dir + ") and replace the key, as it may have leaked");
    }
    if (pem.certificates.empty()) {
      return Refuse(path + " holds no certificate: it must hold the encryption certificate "
                           "chain, leaf first");
    }
    X509* leaf = pem.certificates.front().get();
    EVP_PKEY* public_key = X509_get0_pubkey(leaf);
    if (public_key == nullptr) return Refuse(path + ": cannot read the leaf's public key");
    Status type = CheckEncryptionKeyType(public_key, path + " leaf " + SubjectName(leaf));
    if (!type.ok()) return Refuse(type.error().message());
    PETERA_TRY(CheckUsage(path, leaf));
    // The kid clients compute: from the certificate's own encoding of the key.
    PETERA_ASSIGN_OR_RETURN(std::string kid, KeyIdOfCertificate(leaf));
    if (Find(kid) == nullptr) {
      return Refuse("the encryption certificate " + SubjectName(leaf) + " in " + path +
                    " has no private key in " + paths_.decrypt_dir +
                    ": add a file with that certificate and its private key (mode 0600) there");
    }
    for (const X509Ptr& cert : pem.certificates) {
      PETERA_ASSIGN_OR_RETURN(std::string block, CertificateToPem(cert.get()));
      store_->chain_pem_ += block;
    }
    store_->encryption_kid_ = kid;
    HoldChain("encryption", Find(kid)->kid(), pem.certificates);
    store_->encryption_subject_ = SubjectName(leaf);
    store_->encryption_not_after_ = NotAfterDate(leaf);
    WarnAboutAge(pem.certificates, "encryption", path, now_, store_->warnings_);
    encryption_key_ = EvpPkeyPtr(X509_get_pubkey(leaf));
    return OkStatus();
  }

  Status LoadTls() {
    const std::string& path = paths_.tls;
    PETERA_ASSIGN_OR_RETURN(PemContents pem, LoadKeyFile(path));
    if (pem.certificates.empty()) {
      return Refuse(path + " holds no certificate: it must hold the TLS certificate chain "
                           "(leaf first) and the TLS private key");
    }
    if (pem.private_keys.size() != 1) {
      return Refuse(path + " must hold exactly one private key, the TLS key (it holds " +
                    std::to_string(pem.private_keys.size()) + ")");
    }
    X509* leaf = pem.certificates.front().get();
    if (!KeyMatchesCertificate(pem.private_keys.front().get(), leaf)) {
      return Refuse(path + ": the private key does not belong to the first certificate (" +
                    SubjectName(leaf) + "); put the TLS leaf certificate first, then its "
                    "chain, and its own key");
    }
    store_->tls_subject_ = SubjectName(leaf);
    HoldChain("tls", "", pem.certificates);
    store_->tls_not_after_ = NotAfterDate(leaf);
    WarnAboutAge(pem.certificates, "TLS", path, now_, store_->warnings_);
    store_->tls_key_ = std::move(pem.private_keys.front());
    store_->tls_chain_ = std::move(pem.certificates);
    return OkStatus();
  }

  Status CheckTlsKeyIsSeparate() {
    EVP_PKEY* tls = store_->tls_key_.get();
    bool same = SameKey(tls, encryption_key_.get());
    for (const auto& key : store_->keys_) same = same || SameKey(tls, key->pkey());
    if (same) {
      return Refuse(paths_.tls + ": the TLS private key is also an encryption key (in " +
                    paths_.encrypt + " or " + paths_.decrypt_dir +
                    "): generate a separate key for TLS");
    }
    return OkStatus();
  }

  const RecoveryKey* Find(const std::string& kid) const { return store_->Find(kid); }

  void Hold(const std::string& role, const std::string& kid, X509* cert) {
    store_->certificates_.push_back(HeldCertificate{
        role, kid, SubjectName(cert), Asn1TimeToUnix(X509_get0_notAfter(cert))});
  }
  // The leaf under `role`, the CA certificates after it under role_chain.
  void HoldChain(const std::string& role, const std::string& kid,
                 const std::vector<X509Ptr>& chain) {
    for (size_t i = 0; i < chain.size(); ++i) {
      Hold(i == 0 ? role : role + "_chain", i == 0 ? kid : "", chain[i].get());
    }
  }

  const KeyStorePaths& paths_;
  std::time_t now_;
  std::unique_ptr<KeyStore> store_;
  EvpPkeyPtr encryption_key_;
};

Result<std::shared_ptr<const KeyStore>> KeyStore::Load(const KeyStorePaths& paths,
                                                       std::time_t now) {
  return KeyStoreLoader(paths, now).Run();
}

std::vector<std::string> ExpiryWarnings(const std::vector<HeldCertificate>& certificates,
                                        std::time_t now) {
  constexpr std::time_t kDay = 24 * 60 * 60;
  std::vector<std::string> warnings;
  for (const HeldCertificate& cert : certificates) {
    if (cert.role == "decryption") continue;
    std::string who = cert.role + " certificate " + cert.subject;
    if (cert.not_after < now) {
      warnings.push_back(who + " EXPIRED " + std::to_string((now - cert.not_after) / kDay) +
                         " day(s) ago: renew it and send SIGHUP");
    } else if (cert.not_after - now < kExpiryWarningDays * kDay) {
      warnings.push_back(who + " expires in " + std::to_string((cert.not_after - now) / kDay) +
                         " day(s): renew it and send SIGHUP");
    }
  }
  return warnings;
}

const RecoveryKey* KeyStore::Find(std::string_view kid) const {
  auto it = by_kid_.find(std::string(kid));
  return it == by_kid_.end() ? nullptr : it->second;
}

}  // namespace petera::peterad
