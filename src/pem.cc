// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "petera/pem.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace petera {
namespace {

// Owns the three buffers PEM_read_bio hands out; the data may be a key.
struct PemBlock {
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* data = nullptr;
  long len = 0;
  ~PemBlock() {
    OPENSSL_secure_free(name);
    OPENSSL_secure_free(header);
    if (data != nullptr) OPENSSL_secure_clear_free(data, static_cast<size_t>(len));
  }
};

Error BlockError(const std::string& source, int index, const std::string& type,
                 const std::string& what) {
  return SslError(source + ": block " + std::to_string(index) + " (" + type +
                      "): " + what,
                  ErrorCategory::kUsage);
}

Status AddBlock(const PemBlock& block, const std::string& source, int index,
                PemContents& out) {
  std::string type = block.name;
  const unsigned char* p = block.data;
  if (type == "CERTIFICATE") {
    X509Ptr cert(d2i_X509(nullptr, &p, block.len));
    if (!cert || p != block.data + block.len) {
      return BlockError(source, index, type, "not a valid certificate");
    }
    out.certificates.push_back(std::move(cert));
  } else if (type == "PRIVATE KEY" || type == "EC PRIVATE KEY" ||
             type == "RSA PRIVATE KEY") {
    EvpPkeyPtr key(d2i_AutoPrivateKey(nullptr, &p, block.len));
    if (!key) return BlockError(source, index, type, "not a valid private key");
    out.private_keys.push_back(std::move(key));
  } else if (type == "X509 CRL") {
    X509CrlPtr crl(d2i_X509_CRL(nullptr, &p, block.len));
    if (!crl) return BlockError(source, index, type, "not a valid CRL");
    out.crls.push_back(std::move(crl));
  } else if (type == "EC PARAMETERS") {
    // Written by `openssl ecparam -genkey`; the key block carries the curve.
  } else if (type == "ENCRYPTED PRIVATE KEY") {
    return Error(ErrorCategory::kUsage,
                 source + ": block " + std::to_string(index) +
                     ": the private key is encrypted; store it unencrypted "
                     "with restrictive permissions (openssl pkey -in KEY -out KEY.pem)");
  } else {
    return Error(ErrorCategory::kUsage, source + ": block " + std::to_string(index) +
                                            ": unexpected PEM block type '" + type + "'");
  }
  return OkStatus();
}

std::string Asn1TimeDate(const ASN1_TIME* t) {
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return "(invalid date)";
  char buf[32];
  strftime(buf, sizeof(buf), "%Y-%m-%d", &tm);
  return buf;
}

std::string NameToString(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) {
    DrainSslErrors();
    return "(unprintable name)";
  }
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

}  // namespace

Result<PemContents> ParsePem(std::string_view text, const std::string& source) {
  if (text.size() > kMaxPemBytes) {
    return Error(ErrorCategory::kTooLarge, source + ": larger than 1 MiB");
  }
  BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  if (!bio) return SslError("cannot allocate BIO");
  PemContents out;
  for (int index = 1;; ++index) {
    PemBlock block;
    // PEM_FLAG_SECURE: the decoded block (possibly a key) is kept in the
    // secure heap when there is one, and wiped when freed.
    if (PEM_read_bio_ex(bio.get(), &block.name, &block.header, &block.data, &block.len,
                        PEM_FLAG_SECURE | PEM_FLAG_EAY_COMPATIBLE) != 1) {
      unsigned long err = ERR_peek_last_error();
      if (ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE) {
        ERR_clear_error();
        break;
      }
      return SslError(source + ": block " + std::to_string(index) + " is malformed",
                      ErrorCategory::kUsage);
    }
    PETERA_TRY(AddBlock(block, source, index, out));
  }
  if (out.certificates.empty() && out.private_keys.empty() && out.crls.empty()) {
    return Error(ErrorCategory::kUsage, source + ": no PEM data found");
  }
  return out;
}

Result<std::string> ReadFile(const std::string& path, size_t max_bytes) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    return Error(ErrorCategory::kUsage, path + ": " + std::strerror(errno));
  }
  char buf[16384];
  std::string out;
  // Reserved once, so that growing never leaves a copy of a key behind.
  out.reserve(max_bytes + sizeof(buf));
  std::string failure;
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) failure = std::strerror(errno);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > max_bytes) {
      failure = "larger than " + std::to_string(max_bytes) + " bytes";
      break;
    }
  }
  close(fd);
  OPENSSL_cleanse(buf, sizeof(buf));
  if (failure.empty()) return out;
  OPENSSL_cleanse(out.data(), out.size());
  return Error(out.size() > max_bytes ? ErrorCategory::kTooLarge : ErrorCategory::kUsage,
               path + ": " + failure);
}

Result<PemContents> LoadPemFile(const std::string& path) {
  PETERA_ASSIGN_OR_RETURN(std::string text, ReadFile(path, kMaxPemBytes));
  auto parsed = ParsePem(text, path);
  OPENSSL_cleanse(text.data(), text.size());  // may have held a private key
  return parsed;
}

Result<std::string> CertificateToPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
    return SslError("cannot encode certificate");
  }
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

Result<std::vector<unsigned char>> CertificateToDer(X509* cert) {
  int n = i2d_X509(cert, nullptr);
  if (n <= 0) return SslError("cannot encode certificate");
  std::vector<unsigned char> der(static_cast<size_t>(n));
  unsigned char* p = der.data();
  if (i2d_X509(cert, &p) != n) return SslError("cannot encode certificate");
  return der;
}

Result<X509Ptr> CertificateFromDer(const std::vector<unsigned char>& der) {
  const unsigned char* p = der.data();
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert || p != der.data() + der.size()) {
    return SslError("not a valid DER certificate", ErrorCategory::kProtocol);
  }
  return cert;
}

bool KeyMatchesCertificate(EVP_PKEY* key, X509* cert) {
  EVP_PKEY* pub = X509_get0_pubkey(cert);
  return pub != nullptr && SameKey(key, pub);
}

std::string SubjectName(X509* cert) { return NameToString(X509_get_subject_name(cert)); }
std::string IssuerName(X509* cert) { return NameToString(X509_get_issuer_name(cert)); }
std::string NotAfterDate(X509* cert) { return Asn1TimeDate(X509_get0_notAfter(cert)); }
std::string NotBeforeDate(X509* cert) { return Asn1TimeDate(X509_get0_notBefore(cert)); }

std::string FormatUtcTime(std::time_t time) {
  struct tm tm {};
  gmtime_r(&time, &tm);
  char buf[32];
  strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::time_t Asn1TimeToUnix(const ASN1_TIME* time) {
  struct tm tm {};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) return 0;
  return timegm(&tm);
}

}  // namespace petera
