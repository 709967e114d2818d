// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "client_credential.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/provider.h>
#include <openssl/store.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string_view>
#include <utility>

#include "petera/pem.h"

namespace petera::client {
namespace {

constexpr std::string_view kTpmHandlePrefix = "handle:";
constexpr std::string_view kTss2Pem = "-----BEGIN TSS2 PRIVATE KEY-----";

Error Refuse(std::string message) {
  DrainSslErrors();
  return Error(ErrorCategory::kUsage, std::move(message));
}

// A file's contents, read through one descriptor after checking that it is
// a regular file; wiped by the destructor (it may hold a private key).
struct FileText {
  std::string text;
  struct stat st {};
  FileText() = default;
  FileText(const FileText&) = delete;
  FileText& operator=(const FileText&) = delete;
  FileText(FileText&& other) noexcept : text(std::move(other.text)), st(other.st) {}
  ~FileText() {
    if (!text.empty()) OPENSSL_cleanse(text.data(), text.size());
  }
};

Result<FileText> ReadRegularFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return Refuse(path + ": " + std::strerror(errno));
  FileText file;
  if (fstat(fd, &file.st) != 0 || !S_ISREG(file.st.st_mode)) {
    close(fd);
    return Refuse(path + ": not a regular file");
  }
  file.text.reserve(kMaxPemBytes + 1);
  char buf[4096];
  bool too_large = false;
  bool failed = false;
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) failed = true;
    if (n <= 0) break;
    if (file.text.size() + static_cast<size_t>(n) > kMaxPemBytes) {
      too_large = true;
      break;
    }
    file.text.append(buf, static_cast<size_t>(n));
  }
  OPENSSL_cleanse(buf, sizeof(buf));
  close(fd);
  if (too_large) return Refuse(path + ": larger than 1 MiB; is this the right file?");
  if (failed) return Refuse(path + ": read error");
  return file;
}

// OpenSSL's tpm2 provider, beside the default one (loading any provider
// explicitly stops OpenSSL from loading the default one by itself). The
// default provider comes first, so that digests, ciphers and key exchange
// stay its own; kTpmPropertyQuery then sends signatures with a TPM key to
// the tpm2 provider (OpenSSL 3.0 would otherwise give the default
// provider's ECDSA the key's public half: "missing private key").
Status LoadTpmProvider() {
  static std::once_flag once;
  static bool loaded = false;
  std::call_once(once, [] {
    // The TSS library logs every TCTI it tries to stderr; petera reports a
    // failure in one line of its own (TSS2_LOG set by the user wins).
    setenv("TSS2_LOG", "all+none", /*overwrite=*/0);
    // The kernel's resource manager, unless the user names another TPM: the
    // TSS library would otherwise also try a D-Bus daemon and TCP ports.
    setenv("TPM2OPENSSL_TCTI", "device:/dev/tpmrm0", /*overwrite=*/0);
    static OSSL_PROVIDER* default_provider = OSSL_PROVIDER_load(nullptr, "default");
    static OSSL_PROVIDER* tpm2_provider =
        default_provider != nullptr ? OSSL_PROVIDER_load(nullptr, "tpm2") : nullptr;
    loaded = tpm2_provider != nullptr;
    // Unloaded at exit, before OpenSSL's own clean-up, so that the tpm2
    // provider closes its TPM context.
    std::atexit([] {
      if (tpm2_provider != nullptr) OSSL_PROVIDER_unload(tpm2_provider);
      if (default_provider != nullptr) OSSL_PROVIDER_unload(default_provider);
    });
    if (!loaded) return;
    // OpenSSL 3.0 caches method lookups by name and query: a tpm2-specific
    // key-management lookup made while signing could later answer the
    // generic one, and libssl would then drop the NIST groups. Generic
    // lookups made first keep the right answers in the cache.
    for (const char* name : {"EC", "RSA", "RSA-PSS"}) {
      EVP_KEYMGMT_free(EVP_KEYMGMT_fetch(nullptr, name, kTpmPropertyQuery));
    }
    DrainSslErrors();
  });
  if (!loaded) {
    return Refuse("cannot load OpenSSL's tpm2 provider, which TPM-held keys need: install "
                  "tpm2-openssl, and check that the TPM is reachable (/dev/tpmrm0, or "
                  "TPM2OPENSSL_TCTI)");
  }
  return OkStatus();
}

void CloseStore(OSSL_STORE_CTX* store) { OSSL_STORE_close(store); }

Result<EvpPkeyPtr> LoadTpmHandle(const std::string& spec) {
  PETERA_TRY(LoadTpmProvider());
  OsslPtr<OSSL_STORE_CTX, CloseStore> store(OSSL_STORE_open_ex(
      spec.c_str(), nullptr, kTpmPropertyQuery, nullptr, nullptr, nullptr, nullptr, nullptr));
  if (!store) {
    return Refuse(spec + ": cannot open the TPM key (is the TPM reachable, the handle "
                         "persistent?)");
  }
  while (OSSL_STORE_eof(store.get()) == 0) {
    OsslPtr<OSSL_STORE_INFO, OSSL_STORE_INFO_free> info(OSSL_STORE_load(store.get()));
    if (!info) break;
    if (OSSL_STORE_INFO_get_type(info.get()) == OSSL_STORE_INFO_PKEY) {
      EvpPkeyPtr key(OSSL_STORE_INFO_get1_PKEY(info.get()));
      if (key) return key;
    }
  }
  return Refuse(spec + ": no private key found at this TPM handle");
}

Result<EvpPkeyPtr> DecodeTss2Key(const FileText& file, const std::string& path) {
  PETERA_TRY(LoadTpmProvider());
  BioPtr bio(BIO_new_mem_buf(file.text.data(), static_cast<int>(file.text.size())));
  EvpPkeyPtr key(bio ? PEM_read_bio_PrivateKey_ex(bio.get(), nullptr, nullptr, nullptr,
                                                  nullptr, kTpmPropertyQuery)
                     : nullptr);
  if (!key) {
    return Refuse(path + ": cannot load the TPM key (is the TPM that made it reachable?)");
  }
  return key;
}

// The key --key names; `tpm` tells whether it is held by a TPM.
Result<EvpPkeyPtr> LoadKey(const std::string& spec, bool* tpm) {
  *tpm = std::string_view(spec).substr(0, kTpmHandlePrefix.size()) == kTpmHandlePrefix;
  if (*tpm) return LoadTpmHandle(spec);
  PETERA_ASSIGN_OR_RETURN(FileText file, ReadRegularFile(spec));
  // A TSS2 key is only usable with the TPM that made it; the file itself
  // needs no secrecy, but the same rules keep things simple.
  PETERA_TRY(CheckClientKeyFilePermissions(spec, file.st.st_mode, file.st.st_uid, geteuid()));
  *tpm = file.text.find(kTss2Pem) != std::string::npos;
  if (*tpm) return DecodeTss2Key(file, spec);
  PETERA_ASSIGN_OR_RETURN(PemContents pem, ParsePem(file.text, spec));
  if (pem.private_keys.size() != 1 || !pem.certificates.empty() || !pem.crls.empty()) {
    return Refuse(spec + ": expected one private key alone (--key)");
  }
  return std::move(pem.private_keys.front());
}

}  // namespace

Status CheckClientKeyFilePermissions(const std::string& path, unsigned st_mode,
                                     unsigned st_uid, unsigned euid) {
  if ((st_mode & S_IROTH) != 0) {
    return Refuse(path + " holds a private key and other users may read it; run: chmod 600 " +
                  path);
  }
  if ((st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return Refuse(path + " holds a private key and others may write it; run: chmod 600 " +
                  path);
  }
  if (st_uid != 0 && st_uid != euid) {
    return Refuse(path + " holds a private key and belongs to another user; run: chown " +
                  std::to_string(euid) + " " + path);
  }
  return OkStatus();
}

Result<std::shared_ptr<const ClientCredential>> LoadClientCredential(
    const std::string& cert_path, const std::string& key_spec) {
  auto credential = std::make_shared<ClientCredential>();
  credential->source = cert_path;
  PETERA_ASSIGN_OR_RETURN(FileText file, ReadRegularFile(cert_path));
  PETERA_ASSIGN_OR_RETURN(PemContents pem, ParsePem(file.text, cert_path));
  if (pem.certificates.empty()) {
    return Refuse(cert_path + ": no certificate (--cert takes the client certificate first, "
                              "then its CA certificates and its private key)");
  }
  if (!pem.private_keys.empty()) {
    PETERA_TRY(CheckClientKeyFilePermissions(cert_path, file.st.st_mode, file.st.st_uid,
                                             geteuid()));
  }
  if (pem.private_keys.size() > 1 || (!pem.private_keys.empty() && !key_spec.empty())) {
    return Refuse(cert_path + ": more than one private key (in the file and --key); keep one");
  }
  if (!key_spec.empty()) {
    PETERA_ASSIGN_OR_RETURN(credential->key, LoadKey(key_spec, &credential->tpm));
  } else if (!pem.private_keys.empty()) {
    credential->key = std::move(pem.private_keys.front());
  } else {
    return Refuse(cert_path + ": no private key; add it to the file or name it with --key");
  }
  credential->chain = std::move(pem.certificates);
  X509* leaf = credential->chain.front().get();
  if (X509_check_private_key(leaf, credential->key.get()) != 1) {
    return Refuse(cert_path + ": the private key does not belong to the first certificate");
  }
  uint32_t flags = X509_get_extension_flags(leaf);
  if ((flags & EXFLAG_XKUSAGE) != 0 && (X509_get_extended_key_usage(leaf) & XKU_SSL_CLIENT) == 0) {
    return Refuse(cert_path + ": the certificate is not for client authentication (no "
                              "clientAuth in its extended key usage)");
  }
  return std::shared_ptr<const ClientCredential>(std::move(credential));
}

Status UseClientCredential(SSL_CTX* ctx, const ClientCredential& credential) {
  if (SSL_CTX_use_certificate(ctx, credential.chain.front().get()) != 1) {
    return SslError(credential.source + ": cannot use the client certificate");
  }
  for (size_t i = 1; i < credential.chain.size(); ++i) {
    if (SSL_CTX_add1_chain_cert(ctx, credential.chain[i].get()) != 1) {
      return SslError(credential.source + ": cannot add a chain certificate");
    }
  }
  if (SSL_CTX_use_PrivateKey(ctx, credential.key.get()) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1) {
    return SslError(credential.source + ": cannot use the client's private key");
  }
  return OkStatus();
}

}  // namespace petera::client
