// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "peterad/ocsp_staple.h"

#include <openssl/crypto.h>
#include <openssl/tls1.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "petera/pem.h"

namespace petera::peterad {
namespace {

// Warn when less than this (or half the response's lifetime) is left.
constexpr std::time_t kExpiringSoonSeconds = 24 * 3600;

// The certificate of the chain that issued the leaf.
X509* FindIssuer(const std::vector<X509Ptr>& chain) {
  for (size_t i = 1; i < chain.size(); ++i) {
    if (X509_check_issued(chain[i].get(), chain.front().get()) == X509_V_OK) {
      return chain[i].get();
    }
  }
  return nullptr;
}

// The SSL_CTX owns a heap copy of the shared_ptr, freed with the context
// (connections hold the context beyond any ServingState).
void FreeStaple(void* /*parent*/, void* ptr, CRYPTO_EX_DATA* /*ad*/, int /*index*/,
                long /*argl*/, void* /*argp*/) {
  delete static_cast<std::shared_ptr<const OcspStaple>*>(ptr);
}

int StapleIndex() {
  static const int index =
      CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_SSL_CTX, 0, nullptr, nullptr, nullptr, FreeStaple);
  return index;
}

// OpenSSL calls this in every handshake whose client sent status_request.
int Staple(SSL* ssl, void* arg) {
  const auto* staple = static_cast<const OcspStaple*>(arg);
  if (staple == nullptr || !staple->StaplesAt(std::time(nullptr))) return SSL_TLSEXT_ERR_NOACK;
  const std::string& der = staple->der();
  // OpenSSL takes ownership of the copy.
  void* copy = OPENSSL_memdup(der.data(), der.size());
  if (copy == nullptr) return SSL_TLSEXT_ERR_NOACK;
  if (SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_STATUS_REQ_OCSP_RESP, static_cast<long>(der.size()),
               copy) != 1) {
    OPENSSL_free(copy);
    return SSL_TLSEXT_ERR_NOACK;
  }
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

Result<std::shared_ptr<const OcspStaple>> OcspStaple::Load(const std::string& path,
                                                           const std::vector<X509Ptr>& tls_chain,
                                                           std::time_t now) {
  std::shared_ptr<OcspStaple> staple(new OcspStaple());
  staple->path_ = path;
  X509* issuer = tls_chain.empty() ? nullptr : FindIssuer(tls_chain);
  if (issuer == nullptr) {
    return Error(ErrorCategory::kUsage,
                 "--ocsp-response " + path +
                     ": the TLS chain has no certificate that issued the TLS leaf; put the "
                     "issuing CA's certificate right after the leaf in TLS.pem, so that peterad "
                     "can check the response against it");
  }
  struct stat st {};
  if (stat(path.c_str(), &st) != 0 && errno == ENOENT) return std::shared_ptr<const OcspStaple>(staple);
  PETERA_ASSIGN_OR_RETURN(staple->der_, ReadFile(path, kMaxOcspResponseBytes));
  auto status = CheckOcspResponse(staple->der_, tls_chain.front().get(), issuer, now);
  if (!status.ok()) {
    return Error(ErrorCategory::kUsage,
                 path + ": " + status.error().message() +
                     "; give peterad the response for its own TLS certificate (check it with "
                     "petera ANCHOR.pem verify --tls --ocsp-response " + path + " TLS.pem)");
  }
  staple->status_ = std::move(status).value();
  return std::shared_ptr<const OcspStaple>(staple);
}

bool OcspStaple::StaplesAt(std::time_t now) const {
  return status_ && !der_.empty() && now >= status_->this_update - kOcspClockSkewSeconds &&
         now <= status_->valid_until();
}

std::string OcspStaple::Summary() const {
  if (!status_) return "OCSP stapling: nothing to staple, " + path_ + " does not exist";
  return "OCSP stapling: " + path_ + ": " + status_->Describe();
}

std::vector<std::string> OcspStaple::Warnings(std::time_t now) const {
  std::vector<std::string> warnings;
  const std::string refresh =
      "refresh it (petera-ocsp-refresh, run by petera-ocsp.timer) and reload peterad";
  if (!status_) {
    warnings.push_back("OCSP response " + path_ + " does not exist: stapling nothing until it " +
                       "does; " + refresh);
    return warnings;
  }
  if (status_->revoked) {
    warnings.push_back("the TLS certificate is REVOKED according to " + path_ + " (" +
                       status_->Describe() +
                       "): clients that check OCSP refuse this server; install a new TLS "
                       "certificate");
  }
  std::time_t until = status_->valid_until();
  if (now > until) {
    warnings.push_back("OCSP response " + path_ + " expired at " + FormatUtcTime(until) +
                       ": not stapling it; " + refresh);
  } else if (now < status_->this_update - kOcspClockSkewSeconds) {
    warnings.push_back("OCSP response " + path_ + " is not valid before " +
                       FormatUtcTime(status_->this_update) + ": not stapling it yet; is the clock " +
                       "right?");
  } else {
    std::time_t soon = std::min(kExpiringSoonSeconds, (until - status_->this_update) / 2);
    if (until - now < soon) {
      warnings.push_back("OCSP response " + path_ + " expires at " + FormatUtcTime(until) +
                         ", soon; " + refresh);
    }
  }
  return warnings;
}

Status StapleOcspResponse(SSL_CTX* ctx, std::shared_ptr<const OcspStaple> staple) {
  int index = StapleIndex();
  if (index < 0) return SslError("cannot register OCSP stapling data");
  const OcspStaple* raw = staple.get();
  auto* owner = new std::shared_ptr<const OcspStaple>(std::move(staple));
  if (SSL_CTX_set_ex_data(ctx, index, owner) != 1) {
    delete owner;
    return SslError("cannot attach the OCSP response to the TLS context");
  }
  // SSL_CTX_set_tlsext_status_cb and _arg without the macros' C casts.
  if (SSL_CTX_callback_ctrl(ctx, SSL_CTRL_SET_TLSEXT_STATUS_REQ_CB,
                            reinterpret_cast<void (*)(void)>(&Staple)) != 1 ||
      SSL_CTX_ctrl(ctx, SSL_CTRL_SET_TLSEXT_STATUS_REQ_CB_ARG, 0,
                   const_cast<OcspStaple*>(raw)) != 1) {
    return SslError("cannot set the OCSP stapling callback");
  }
  return OkStatus();
}

}  // namespace petera::peterad
