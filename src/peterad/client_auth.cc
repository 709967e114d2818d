// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "peterad/client_auth.h"

#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <utility>

#include "petera/recovery.h"
#include "petera/trust.h"
#include "peterad/keystore.h"

namespace petera::peterad {
namespace {

using GeneralNamesPtr = OsslPtr<GENERAL_NAMES, GENERAL_NAMES_free>;

void FreeNames(STACK_OF(X509_NAME) * names) { sk_X509_NAME_pop_free(names, X509_NAME_free); }
using NameStackPtr = OsslPtr<STACK_OF(X509_NAME), FreeNames>;

// Remembered certificates; past this many the memory is cleared.
constexpr size_t kMaxRemembered = 65536;

Error Refuse(std::string message) {
  DrainSslErrors();
  return Error(ErrorCategory::kUsage, std::move(message));
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

bool IsBase64Url(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_';
}

// A DNS name as certificates carry it: labels of letters, digits, '-' and
// '_', a leading "*." wildcard label allowed; no trailing dot.
bool IsDnsName(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  if (name.substr(0, 2) == "*.") name.remove_prefix(2);
  size_t label = 0;
  for (char c : name) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '-' && c != '_') return false;
    if (++label > 63) return false;
  }
  return label != 0;
}

// A URI: a scheme, ':', then printable ASCII without spaces.
bool IsUri(std::string_view uri) {
  size_t colon = uri.find(':');
  if (colon == 0 || colon == std::string_view::npos || colon + 1 == uri.size()) return false;
  for (size_t i = 0; i < uri.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(uri[i]);
    if (c <= 0x20 || c >= 0x7f) return false;
    if (i < colon && std::isalnum(c) == 0 && c != '+' && c != '-' && c != '.') return false;
  }
  return std::isalpha(static_cast<unsigned char>(uri[0])) != 0;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Identity(X509* leaf, const std::string& key_id) {
  return SubjectName(leaf) + " key=" + key_id;
}

// The reason a validation failed, in the words of the log.
std::string Reason(int error) {
  switch (error) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return "expired";
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return "not yet valid";
    case X509_V_ERR_CERT_REVOKED:
      return "revoked";
    case X509_V_ERR_INVALID_PURPOSE:
      return "not for client authentication";
    default:
      return std::string("untrusted (") + X509_verify_cert_error_string(error) + ")";
  }
}

// The sha256 of the certificate's encoding: what accepted verdicts are
// remembered under.
std::string Fingerprint(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert, EVP_sha256(), md, &len) != 1) {
    DrainSslErrors();
    return {};
  }
  return std::string(reinterpret_cast<const char*>(md), len);
}

}  // namespace

Result<AllowList> ParseAllowList(std::string_view text, const std::string& source) {
  if (text.size() > kMaxAllowListBytes) {
    return Refuse(source + ": larger than 1 MiB; is this the right file?");
  }
  AllowList list;
  size_t line_number = 0;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view raw = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    ++line_number;
    std::string where = source + ":" + std::to_string(line_number);
    if (raw.size() > kMaxAllowLineBytes) return Refuse(where + ": line longer than 1024 bytes");
    std::string_view line = Trim(raw);
    if (line.empty() || line.front() == '#') continue;
    if (line.substr(0, 4) == "DNS:") {
      std::string_view name = line.substr(4);
      if (!IsDnsName(name)) return Refuse(where + ": not a DNS name after DNS:");
      list.dns_names.insert(Lower(name));
    } else if (line.substr(0, 4) == "URI:") {
      std::string_view uri = line.substr(4);
      if (!IsUri(uri)) return Refuse(where + ": not a URI after URI:");
      list.uris.emplace(uri);
    } else if (line.size() == 43 && std::all_of(line.begin(), line.end(), IsBase64Url)) {
      list.key_ids.emplace(line);
    } else {
      return Refuse(where + ": expected a key id (43 base64url characters, the SHA-256 of a "
                            "client's public key), DNS:name or URI:uri");
    }
  }
  return list;
}

Result<std::shared_ptr<const ClientPolicy>> ClientPolicy::Load(const ClientPolicyPaths& paths,
                                                               std::time_t now) {
  std::shared_ptr<ClientPolicy> policy(new ClientPolicy());
  policy->store_.reset(X509_STORE_new());
  if (!policy->store_) return SslError("cannot create a certificate store");

  PETERA_ASSIGN_OR_RETURN(PemContents ca, LoadTrustedPemFile(paths.ca));
  if (ca.certificates.empty() || !ca.private_keys.empty() || !ca.crls.empty()) {
    return Refuse(paths.ca + ": expected the client CA certificate(s) alone (--client-ca); "
                             "put CRLs in --client-crl files and keys nowhere near it");
  }
  for (X509Ptr& cert : ca.certificates) {
    if (X509_check_ca(cert.get()) == 0) {
      return Refuse(paths.ca + ": " + SubjectName(cert.get()) +
                    " is not a CA certificate; --client-ca takes the CA that issues client "
                    "certificates");
    }
    if (X509_cmp_time(X509_get0_notAfter(cert.get()), &now) < 0) {
      policy->warnings_.push_back("client CA " + SubjectName(cert.get()) + " in " + paths.ca +
                                  " EXPIRED on " + NotAfterDate(cert.get()) +
                                  ": every client is refused; renew it and send SIGHUP");
    }
    if (X509_STORE_add_cert(policy->store_.get(), cert.get()) != 1) {
      return Refuse(paths.ca + ": cannot add " + SubjectName(cert.get()) + " to the store");
    }
    policy->cas_.push_back(std::move(cert));
  }

  for (const std::string& path : paths.crls) {
    PETERA_ASSIGN_OR_RETURN(PemContents crl_file, LoadTrustedPemFile(path));
    if (crl_file.crls.empty() || !crl_file.certificates.empty() ||
        !crl_file.private_keys.empty()) {
      return Refuse(path + ": expected one or more X509 CRLs alone (--client-crl)");
    }
    for (X509CrlPtr& crl : crl_file.crls) {
      // A CRL counts only when a client CA signed it; one from elsewhere
      // would silently revoke nothing.
      bool signed_by_ca = false;
      for (const X509Ptr& cert : policy->cas_) {
        EVP_PKEY* key = X509_get0_pubkey(cert.get());
        if (X509_NAME_cmp(X509_CRL_get_issuer(crl.get()), X509_get_subject_name(cert.get())) ==
                0 &&
            key != nullptr && X509_CRL_verify(crl.get(), key) == 1) {
          signed_by_ca = true;
          break;
        }
      }
      DrainSslErrors();
      if (!signed_by_ca) {
        return Refuse(path + ": a CRL not signed by any CA of " + paths.ca +
                      "; give the CRLs of the client CA");
      }
      std::time_t next = Asn1TimeToUnix(X509_CRL_get0_nextUpdate(crl.get()));
      if (next == 0) {
        return Refuse(path + ": a CRL without nextUpdate; issue it with one");
      }
      if (next <= now) {
        policy->warnings_.push_back("client CRL " + path +
                                    " is past its nextUpdate: every client is refused until "
                                    "a current CRL is installed and peterad reloaded");
      } else if (next - now < 7 * 86400) {
        policy->warnings_.push_back("client CRL " + path + " must be replaced within " +
                                    std::to_string((next - now) / 86400 + 1) +
                                    " day(s) (nextUpdate), or every client will be refused");
      }
      if (policy->crls_valid_until_ == 0 || next < policy->crls_valid_until_) {
        policy->crls_valid_until_ = next;
      }
      if (X509_STORE_add_crl(policy->store_.get(), crl.get()) != 1) {
        return Refuse(path + ": cannot add the CRL to the store");
      }
      policy->crls_.push_back(std::move(crl));
    }
  }

  if (!paths.allow.empty()) {
    PETERA_ASSIGN_OR_RETURN(std::string text, ReadTrustedFile(paths.allow));
    PETERA_ASSIGN_OR_RETURN(policy->allow_, ParseAllowList(text, paths.allow));
    policy->has_allow_list_ = true;
  }

  unsigned long flags = X509_V_FLAG_X509_STRICT | X509_V_FLAG_PARTIAL_CHAIN;
  if (!policy->crls_.empty()) flags |= X509_V_FLAG_CRL_CHECK;
  if (X509_STORE_set_flags(policy->store_.get(), flags) != 1 ||
      X509_STORE_set_purpose(policy->store_.get(), X509_PURPOSE_SSL_CLIENT) != 1) {
    return SslError("cannot configure the client certificate store");
  }

  policy->summary_ = std::to_string(policy->cas_.size()) + " client CA(s), " +
                     std::to_string(policy->crls_.size()) + " CRL(s), " +
                     (policy->has_allow_list_
                          ? "allow-list of " + std::to_string(policy->allow_.size()) + " entries"
                          : std::string("no allow-list"));
  return std::shared_ptr<const ClientPolicy>(std::move(policy));
}

bool ClientPolicy::Allowed(X509* leaf, const std::string& key_id) const {
  if (!has_allow_list_) return true;
  if (allow_.key_ids.count(key_id) != 0) return true;
  GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(leaf, NID_subject_alt_name, nullptr, nullptr)));
  DrainSslErrors();
  if (!names) return false;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type != GEN_DNS && name->type != GEN_URI) continue;
    const ASN1_IA5STRING* value = name->d.ia5;
    std::string_view text(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                          static_cast<size_t>(ASN1_STRING_length(value)));
    if (text.find('\0') != std::string_view::npos) continue;
    if (name->type == GEN_DNS ? allow_.dns_names.count(Lower(text)) != 0
                              : allow_.uris.count(std::string(text)) != 0) {
      return true;
    }
  }
  return false;
}

ClientVerdict ClientPolicy::Verify(X509* leaf, STACK_OF(X509) * sent, std::time_t now) const {
  ClientVerdict verdict;
  auto key_id = KeyIdOfCertificate(leaf);
  verdict.identity = Identity(leaf, key_id.ok() ? key_id.value() : std::string("?"));
  if (!key_id.ok()) {
    verdict.reason = "untrusted (unreadable public key)";
    return verdict;
  }
  // The extended key usage must be there and name clientAuth: OpenSSL's
  // purpose check alone also accepts a certificate without one.
  if ((X509_get_extension_flags(leaf) & EXFLAG_XKUSAGE) == 0 ||
      (X509_get_extended_key_usage(leaf) & XKU_SSL_CLIENT) == 0) {
    verdict.reason = "not for client authentication";
    return verdict;
  }
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store_.get(), leaf, sent) != 1) {
    DrainSslErrors();
    verdict.reason = "untrusted (cannot set up the validation)";
    return verdict;
  }
  X509_STORE_CTX_set_time(ctx.get(), 0, now);
  if (X509_verify_cert(ctx.get()) != 1) {
    verdict.reason = Reason(X509_STORE_CTX_get_error(ctx.get()));
    DrainSslErrors();
    return verdict;
  }
  if (!Allowed(leaf, key_id.value())) {
    verdict.reason = "not allowed";
    return verdict;
  }
  std::time_t until = crls_valid_until_;
  STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(ctx.get());
  for (int i = 0; i < sk_X509_num(chain); ++i) {
    std::time_t not_after = Asn1TimeToUnix(X509_get0_notAfter(sk_X509_value(chain, i)));
    if (until == 0 || not_after < until) until = not_after;
  }
  verdict.authorized = until > now;
  if (!verdict.authorized) verdict.reason = "expired";
  verdict.valid_until = until;
  return verdict;
}

ClientVerdict ClientPolicy::Check(X509* leaf, STACK_OF(X509) * sent) const {
  if (leaf == nullptr) return ClientVerdict{false, "-", "no certificate", 0};
  std::time_t now = std::time(nullptr);
  std::string fingerprint = Fingerprint(leaf);
  // Only a certificate sent alone may use a remembered verdict: with other
  // certificates the path, and so the verdict, may differ.
  bool rememberable = !fingerprint.empty() && sk_X509_num(sent) <= 0;
  if (rememberable) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = accepted_.find(fingerprint);
    if (it != accepted_.end()) {
      if (now < it->second.verdict.valid_until) return it->second.verdict;
      accepted_.erase(it);
    }
  }
  ClientVerdict verdict = Verify(leaf, sent, now);
  if (rememberable && verdict.authorized) {
    std::lock_guard<std::mutex> lock(mu_);
    if (accepted_.size() >= kMaxRemembered) accepted_.clear();
    accepted_[fingerprint] = Remembered{verdict};
  }
  return verdict;
}

namespace {

// Accepts every client chain during the handshake: ClientPolicy::Check
// judges it per request, when the answer can be a readable 403.
int DeferToRequest(X509_STORE_CTX* /*ctx*/, void* /*arg*/) { return 1; }

}  // namespace

Status RequestClientCertificates(SSL_CTX* ctx, const ClientPolicy& policy) {
  NameStackPtr names(sk_X509_NAME_new_null());
  if (!names) return SslError("cannot list the client CA names");
  for (const X509Ptr& cert : policy.cas()) {
    X509_NAME* name = X509_NAME_dup(X509_get_subject_name(cert.get()));
    if (name == nullptr || sk_X509_NAME_push(names.get(), name) <= 0) {
      X509_NAME_free(name);
      return SslError("cannot list the client CA names");
    }
  }
  SSL_CTX_set_client_CA_list(ctx, names.release());
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_cert_verify_callback(ctx, DeferToRequest, nullptr);
  // Resumption with client certificates needs a session id context.
  static constexpr unsigned char kContext[] = "peterad client-ca";
  if (SSL_CTX_set_session_id_context(ctx, kContext, sizeof(kContext) - 1) != 1) {
    return SslError("cannot set the session id context");
  }
  return OkStatus();
}

}  // namespace petera::peterad
