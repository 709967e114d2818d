// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#include "petera/trust.h"

#include <arpa/inet.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <functional>
#include <optional>
#include <set>

#include "petera/encoding.h"
#include "petera/pem.h"

namespace petera {

enum class VerifyMode { kTls, kEncryption, kStoredEncryption };

// Finds every path from the leaf to a self-signed anchor certificate,
// validates each with OpenSSL's path validation configured strictly plus
// Petera's own rules, and accepts the first that passes. The only code that
// decides trust.
class ChainVerifier {
 public:
  static Result<VerifiedChain> Verify(const Anchor& anchor,
                                      const std::vector<X509Ptr>& chain,
                                      const std::string& name, VerifyMode mode,
                                      std::optional<std::time_t> at);

 private:
  static Result<VerifiedChain> ValidatePath(const Anchor& anchor,
                                            const std::vector<X509*>& path,
                                            const std::string& name, VerifyMode mode,
                                            std::optional<std::time_t> at);
  static Result<X509StorePtr> MakeStore(const Anchor& anchor, X509* root);
  static Status Configure(X509_STORE_CTX* ctx, const Anchor& anchor,
                          const std::string& name, VerifyMode mode,
                          std::optional<std::time_t> at);
};

namespace {

// Limits on path building, so that a hostile pile of certificates (at most
// kMaxChainCertificates of them, all cross-signing each other) costs little:
// a path holds at most kMaxPathCertificates certificates (the envelope's x5c
// limit of 8, plus the anchor's root when the chain does not carry it); the
// search enters at most kMaxPathNodes certificates in total and hands at
// most kMaxCandidatePaths complete paths to OpenSSL. Real PKIs need a few of
// each.
constexpr size_t kMaxChainCertificates = 8;
constexpr size_t kMaxPathCertificates = kMaxChainCertificates + 1;
constexpr int kMaxPathNodes = 256;
constexpr int kMaxCandidatePaths = 64;

// RFC 5280 4.1.2.2: a serial number is a positive integer of at most 20
// octets (DER content octets, sign byte included).
constexpr int kMaxSerialOctets = 20;

std::string Who(X509* cert) { return "certificate " + SubjectName(cert); }

std::string SerialHex(X509* cert) {
  BnPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
  if (!bn) return "?";
  char* hex = BN_bn2hex(bn.get());
  if (hex == nullptr) return "?";
  std::string out(hex);
  OPENSSL_free(hex);
  return out;
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out = "[";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ", ";
    out += Printable(names[i]);
  }
  return out + "]";
}

bool IsIp(const std::string& name) {
  unsigned char buf[16];
  return inet_pton(AF_INET, name.c_str(), buf) == 1 ||
         inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

Error TrustError(std::string message) {
  DrainSslErrors();
  return Error(ErrorCategory::kTrust, std::move(message));
}

std::string ExtensionName(const ASN1_OBJECT* obj) {
  char buf[80] = {};
  OBJ_obj2txt(buf, sizeof(buf), obj, 0);
  return Printable(buf, /*keep_spaces=*/true);
}

// Turns OpenSSL's verdict into the sentence an operator needs.
Error DescribeFailure(X509_STORE_CTX* ctx, X509* leaf, const std::string& name) {
  int err = X509_STORE_CTX_get_error(ctx);
  X509* cert = X509_STORE_CTX_get_current_cert(ctx);
  if (cert == nullptr) cert = leaf;
  switch (err) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return TrustError(Who(cert) + " expired on " + NotAfterDate(cert));
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return TrustError(Who(cert) + " is not valid before " + NotBeforeDate(cert));
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      return TrustError("name " + Printable(name) + " not in subjectAltName " +
                        JoinNames(SubjectAltNames(leaf)));
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
      return TrustError("chain does not lead to any certificate in the anchor");
    case X509_V_ERR_CERT_REVOKED:
      return TrustError(Who(cert) + " (serial " + SerialHex(cert) + ") is revoked");
    case X509_V_ERR_UNABLE_TO_GET_CRL:
      return TrustError("no CRL given for the issuer of " + Who(cert) +
                        " (with --crl, every CA in the chain needs a CRL)");
    case X509_V_ERR_CRL_HAS_EXPIRED:
      return TrustError("the CRL for " + Who(cert) + " has expired");
    case X509_V_ERR_INVALID_PURPOSE:
      return TrustError(Who(cert) + " is not valid for this purpose "
                        "(a TLS server certificate needs the serverAuth extended key usage)");
    case X509_V_ERR_EE_KEY_TOO_SMALL:
    case X509_V_ERR_CA_KEY_TOO_SMALL:
      return TrustError(Who(cert) + " has a key that is too weak (RSA needs 2048 bits or more)");
    case X509_V_ERR_CA_MD_TOO_WEAK:
      return TrustError(Who(cert) + " is signed with a weak digest (SHA-1 or MD5)");
    case X509_V_ERR_PATH_LENGTH_EXCEEDED:
      return TrustError("chain is longer than a CA's path length constraint allows");
    case X509_V_ERR_INVALID_CA:
      return TrustError(Who(cert) + " is used as a CA but is not one");
    case X509_V_ERR_PERMITTED_VIOLATION:
    case X509_V_ERR_EXCLUDED_VIOLATION:
      return TrustError(Who(cert) + " has a name outside its issuers' name constraints");
    default:
      return TrustError(Who(cert) + ": " + X509_verify_cert_error_string(err));
  }
}

// ---------------------------------------------------------------------------
// Rules on the form of one certificate. OpenSSL parses leniently what X.509
// forbids; each of these has been used to make two programs disagree about
// what a certificate says.

Status CheckSerialNumber(X509* cert) {
  const ASN1_INTEGER* serial = X509_get0_serialNumber(cert);
  if (ASN1_STRING_type(serial) == V_ASN1_NEG_INTEGER) {
    return TrustError(Who(cert) + " has a negative serial number (RFC 5280 requires a positive one)");
  }
  BnPtr bn(ASN1_INTEGER_to_BN(serial, nullptr));
  if (!bn) return TrustError(Who(cert) + " has an unreadable serial number");
  if (BN_is_zero(bn.get())) {
    return TrustError(Who(cert) + " has serial number zero (RFC 5280 requires a positive one)");
  }
  // DER content octets of a positive INTEGER: the magnitude plus a zero
  // sign byte when its top bit is set.
  int octets = BN_num_bits(bn.get()) / 8 + 1;
  if (octets > kMaxSerialOctets) {
    return TrustError(Who(cert) + " has a serial number of " + std::to_string(octets) +
                      " octets (RFC 5280 allows at most 20)");
  }
  return OkStatus();
}

// Whether an extension OpenSSL knows decodes, all of it. OpenSSL decodes
// extensions lazily and treats one that does not decode as absent.
bool DecodesCompletely(X509_EXTENSION* ext) {
  const X509V3_EXT_METHOD* method = X509V3_EXT_get(ext);
  if (method == nullptr) return true;  // unknown: refused by OpenSSL only if critical
  const ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(ext);
  const unsigned char* start = ASN1_STRING_get0_data(data);
  const long length = ASN1_STRING_length(data);
  const unsigned char* p = start;
  if (method->it != nullptr) {
    const ASN1_ITEM* item = ASN1_ITEM_ptr(method->it);
    ASN1_VALUE* value = ASN1_item_d2i(nullptr, &p, length, item);
    if (value == nullptr) return false;
    ASN1_item_free(value, item);
  } else if (method->d2i != nullptr && method->ext_free != nullptr) {
    void* value = method->d2i(nullptr, &p, length);
    if (value == nullptr) return false;
    method->ext_free(value);
  } else {
    return true;  // OpenSSL cannot decode it either, so never acts on it
  }
  return p == start + length;
}

// Every extension at most once (RFC 5280 4.2), and every one OpenSSL knows
// must decode: with two, programs disagree on which counts; one that does
// not decode is silently ignored.
Status CheckExtensionsParse(X509* cert) {
  std::set<std::string> seen;
  for (int i = 0; i < X509_get_ext_count(cert); ++i) {
    X509_EXTENSION* ext = X509_get_ext(cert, i);
    const ASN1_OBJECT* obj = X509_EXTENSION_get_object(ext);
    const unsigned char* oid = OBJ_get0_data(obj);
    std::string key(reinterpret_cast<const char*>(oid), oid ? OBJ_length(obj) : 0);
    if (!seen.insert(key).second) {
      return TrustError(Who(cert) + " has the " + ExtensionName(obj) +
                        " extension more than once");
    }
    if (!DecodesCompletely(ext)) {
      return TrustError(Who(cert) + " has a malformed " + ExtensionName(obj) + " extension");
    }
  }
  return OkStatus();
}

// RFC 5280 4.2.1.1: an authority key identifier names the issuer's key;
// path building (OpenSSL's and Petera's) matches on it.
Status CheckAuthorityKeyId(X509* cert) {
  int crit = 0;
  auto* akid = static_cast<AUTHORITY_KEYID*>(
      X509_get_ext_d2i(cert, NID_authority_key_identifier, &crit, nullptr));
  if (akid == nullptr) return OkStatus();  // absent (malformed is refused above)
  bool has_keyid = akid->keyid != nullptr && ASN1_STRING_length(akid->keyid) > 0;
  AUTHORITY_KEYID_free(akid);
  if (!has_keyid) {
    return TrustError(Who(cert) + " has an authority key identifier without a key identifier");
  }
  return OkStatus();
}

Status CheckCertificateForm(X509* cert) {
  PETERA_TRY(CheckSerialNumber(cert));
  PETERA_TRY(CheckExtensionsParse(cert));
  PETERA_TRY(CheckAuthorityKeyId(cert));
  // RFC 5280 4.2.1.11: conforming CAs MUST mark policy constraints critical.
  int pc = X509_get_ext_by_NID(cert, NID_policy_constraints, -1);
  if (pc >= 0 && X509_EXTENSION_get_critical(X509_get_ext(cert, pc)) == 0) {
    return TrustError(Who(cert) + " has a policy constraints extension not marked critical");
  }
  EVP_PKEY* key = X509_get0_pubkey(cert);
  if (key != nullptr && EVP_PKEY_is_a(key, "RSA") && EVP_PKEY_get_bits(key) % 8 != 0) {
    return TrustError(Who(cert) + " has an RSA modulus of " +
                      std::to_string(EVP_PKEY_get_bits(key)) +
                      " bits, not a whole number of bytes");
  }
  return OkStatus();
}

// ---------------------------------------------------------------------------
// Rules on the leaf alone, checked before any path is built.

Status CheckTlsLeafUsage(X509* leaf) {
  uint32_t flags = X509_get_extension_flags(leaf);
  if ((flags & EXFLAG_XKUSAGE) == 0) {
    return TrustError(Who(leaf) + " has no serverAuth extended key usage");
  }
  uint32_t xku = X509_get_extended_key_usage(leaf);
  if ((xku & XKU_SSL_SERVER) != 0) return OkStatus();
  if ((xku & XKU_ANYEKU) != 0) {
    return TrustError(Who(leaf) + " has anyExtendedKeyUsage but no serverAuth extended key "
                      "usage; a TLS server certificate must name serverAuth");
  }
  return TrustError(Who(leaf) + " has no serverAuth extended key usage");
}

Status CheckEndEntity(X509* leaf, VerifyMode mode) {
  PETERA_TRY(CheckCertificateForm(leaf));
  const char* role = mode == VerifyMode::kTls ? "TLS" : "encryption";
  if ((X509_get_extension_flags(leaf) & EXFLAG_CA) != 0) {
    return TrustError(Who(leaf) + " is a CA certificate (basicConstraints CA:TRUE) and "
                      "cannot be a server's " + role + " certificate");
  }
  if (X509_get_ext_by_NID(leaf, NID_name_constraints, -1) >= 0) {
    return TrustError(Who(leaf) + " is an end-entity certificate with name constraints "
                      "(RFC 5280 allows them only in CA certificates)");
  }
  if (mode == VerifyMode::kTls) return CheckTlsLeafUsage(leaf);
  return OkStatus();
}

// ---------------------------------------------------------------------------
// Rules on a complete path, after OpenSSL has validated it.

Status CheckKeyStrength(X509* cert) {
  EVP_PKEY* key = X509_get0_pubkey(cert);
  if (key == nullptr) return TrustError(Who(cert) + " has an unreadable public key");
  if (EVP_PKEY_is_a(key, "RSA")) {
    if (EVP_PKEY_get_bits(key) < 2048) {
      return TrustError(Who(cert) + " has an RSA key of " +
                        std::to_string(EVP_PKEY_get_bits(key)) +
                        " bits (2048 or more required)");
    }
    return OkStatus();
  }
  if (EVP_PKEY_is_a(key, "EC")) {
    char curve[64] = {};
    if (EVP_PKEY_get_group_name(key, curve, sizeof(curve), nullptr) != 1) {
      return TrustError(Who(cert) + " has an EC key with explicit parameters");
    }
    std::string c = curve;
    if (c != "prime256v1" && c != "secp384r1" && c != "secp521r1") {
      return TrustError(Who(cert) + " uses curve " + c +
                        " (only P-256, P-384 and P-521 are accepted)");
    }
    return OkStatus();
  }
  if (EVP_PKEY_is_a(key, "ED25519") || EVP_PKEY_is_a(key, "ED448")) return OkStatus();
  return TrustError(Who(cert) + " has an unsupported key type");
}

Status CheckSignatureDigest(X509* cert) {
  int md = NID_undef;
  if (X509_get_signature_info(cert, &md, nullptr, nullptr, nullptr) != 1) {
    return TrustError(Who(cert) + " has an unknown signature algorithm");
  }
  if (md == NID_sha1 || md == NID_md5 || md == NID_md5_sha1 || md == NID_md4) {
    return TrustError(Who(cert) + " is signed with a weak digest (SHA-1 or MD5)");
  }
  return OkStatus();
}

// A CA whose extended key usage is present restricts what it may vouch for.
// Both of Petera's leaves name a server (its DNS or IP names), so a CA on
// either path must allow serverAuth or anyExtendedKeyUsage; a CA restricted
// to clientAuth, emailProtection, codeSigning and the like may not issue them.
Status CheckIssuerExtendedKeyUsage(X509* ca, VerifyMode mode) {
  if ((X509_get_extension_flags(ca) & EXFLAG_XKUSAGE) == 0) return OkStatus();
  if ((X509_get_extended_key_usage(ca) & (XKU_SSL_SERVER | XKU_ANYEKU)) != 0) return OkStatus();
  return TrustError(Who(ca) + " is a CA whose extended key usage excludes serverAuth, so it "
                    "may not issue a server's " +
                    (mode == VerifyMode::kTls ? "TLS" : "encryption") + " certificate");
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Whether DNS name `name` lies in the subtree rooted at `base` (RFC 5280
// 4.2.1.10: `base` with zero or more labels added on the left). An empty
// base is the whole DNS tree.
bool InDnsSubtree(std::string_view name, std::string_view base) {
  if (base.empty() || EqualsIgnoreCase(name, base)) return true;
  return name.size() > base.size() + 1 && name[name.size() - base.size() - 1] == '.' &&
         EqualsIgnoreCase(name.substr(name.size() - base.size()), base);
}

// Whether "*.<suffix>" may stand for some name in the subtree of `base`. A
// base with a leading dot (OpenSSL's "subdomains only") is the same tree
// minus its root, which a wildcard can never be.
bool WildcardMayEnter(std::string_view suffix, std::string_view base) {
  bool subdomains_only = !base.empty() && base.front() == '.';
  if (subdomains_only) base.remove_prefix(1);
  if (InDnsSubtree(suffix, base)) return true;  // every <label>.<suffix> is inside
  if (subdomains_only || base.size() <= suffix.size() + 1) return false;
  // base = <one label>.<suffix>: the wildcard matches base itself.
  std::string_view label = base.substr(0, base.size() - suffix.size() - 1);
  return base[label.size()] == '.' && label.find('.') == std::string_view::npos &&
         EqualsIgnoreCase(base.substr(label.size() + 1), suffix);
}

// Whether every name "*.<suffix>" stands for lies in the subtree of `base`.
bool WildcardWithin(std::string_view suffix, std::string_view base) {
  if (!base.empty() && base.front() == '.') base.remove_prefix(1);
  return InDnsSubtree(suffix, base);
}

// A host name in preferred name syntax (RFC 1034 3.5, RFC 1123 2.1), with
// at most a whole "*" as its left-most label: what name constraints are
// defined on. OpenSSL compares constraints as plain suffixes, so a name
// with a leading dot, an empty label or an underscore can slip through.
bool IsHostName(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  if (name.substr(0, 2) == "*.") name.remove_prefix(2);
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('.', start);
    if (end == std::string_view::npos) end = name.size();
    std::string_view label = name.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    }
    start = end + 1;
  }
  return true;
}

std::string Ia5(const ASN1_IA5STRING* s) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<size_t>(ASN1_STRING_length(s)));
}

std::string DnsBase(const GENERAL_SUBTREE* subtree) { return Ia5(subtree->base->d.dNSName); }

// The dNSName entries of a certificate's subjectAltName.
std::vector<std::string> DnsNames(X509* cert) {
  std::vector<std::string> names;
  auto* gens = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; i < sk_GENERAL_NAME_num(gens); ++i) {
    const GENERAL_NAME* gen = sk_GENERAL_NAME_value(gens, i);
    if (gen->type == GEN_DNS) names.push_back(Ia5(gen->d.dNSName));
  }
  GENERAL_NAMES_free(gens);
  return names;
}

// The leaf's DNS names against one CA's name constraints, where OpenSSL's
// suffix comparison is not enough: OpenSSL checks the wildcard string, not
// the names it stands for, and compares malformed names as plain text.
Status CheckLeafNamesAgainst(X509* leaf, X509* ca, const NAME_CONSTRAINTS* nc) {
  for (const std::string& san : DnsNames(leaf)) {  // IP constraints: OpenSSL's check is exact
    if (!IsHostName(san)) {
      return TrustError(Who(leaf) + " has subjectAltName " + Printable(san) +
                        ", not a valid host name, under the name constraints of " + Who(ca));
    }
    if (san.substr(0, 2) != "*.") continue;
    std::string_view suffix = std::string_view(san).substr(2);
    for (int i = 0; i < sk_GENERAL_SUBTREE_num(nc->excludedSubtrees); ++i) {
      const GENERAL_SUBTREE* sub = sk_GENERAL_SUBTREE_value(nc->excludedSubtrees, i);
      if (sub->base->type == GEN_DNS && WildcardMayEnter(suffix, DnsBase(sub))) {
        return TrustError(Who(leaf) + " has wildcard " + Printable(san) +
                          ", which may match a name excluded by " + Who(ca));
      }
    }
    bool dns_permitted = false, within = false;
    for (int i = 0; i < sk_GENERAL_SUBTREE_num(nc->permittedSubtrees); ++i) {
      const GENERAL_SUBTREE* sub = sk_GENERAL_SUBTREE_value(nc->permittedSubtrees, i);
      if (sub->base->type != GEN_DNS) continue;
      dns_permitted = true;
      within = within || WildcardWithin(suffix, DnsBase(sub));
    }
    if (dns_permitted && !within) {
      return TrustError(Who(leaf) + " has wildcard " + Printable(san) +
                        ", which reaches outside the names permitted by " + Who(ca));
    }
  }
  return OkStatus();
}

Status CheckNameConstraints(const std::vector<X509*>& path) {
  for (size_t i = 1; i < path.size(); ++i) {
    auto* nc = static_cast<NAME_CONSTRAINTS*>(
        X509_get_ext_d2i(path[i], NID_name_constraints, nullptr, nullptr));
    if (nc == nullptr) continue;
    Status status = CheckLeafNamesAgainst(path[0], path[i], nc);
    NAME_CONSTRAINTS_free(nc);
    PETERA_TRY(std::move(status));
  }
  return OkStatus();
}

// Rules OpenSSL's purposes do not express exactly as Petera wants them.
Status CheckLeaf(X509* leaf, VerifyMode mode) {
  if (mode == VerifyMode::kTls) return CheckTlsLeafUsage(leaf);
  return CheckEncryptionKeyUsage(leaf);
}

Status CheckBuiltChain(const std::vector<X509*>& path, VerifyMode mode) {
  const size_t n = path.size();
  for (size_t i = 0; i < n; ++i) {
    PETERA_TRY(CheckKeyStrength(path[i]));
    // The anchor's own self-signature carries no trust; every other does.
    if (i + 1 < n) PETERA_TRY(CheckSignatureDigest(path[i]));
    if (i > 0) PETERA_TRY(CheckIssuerExtendedKeyUsage(path[i], mode));
  }
  return CheckLeaf(path[0], mode);
}

// ---------------------------------------------------------------------------
// Path building.

bool SameCertificate(X509* a, X509* b) { return a == b || X509_cmp(a, b) == 0; }

// RFC 4158 loop detection: a path never holds two certificates with the
// same subject and key (a CA and its renewal, or a root and its
// cross-certificate, are the same node).
bool SameNode(X509* a, X509* b) {
  return SameCertificate(a, b) ||
         (X509_NAME_cmp(X509_get_subject_name(a), X509_get_subject_name(b)) == 0 &&
          SameKey(X509_get0_pubkey(a), X509_get0_pubkey(b)));
}

// Depth-first search from the leaf over every issuer candidate: anchor
// certificates first (shortest paths), then the chain's certificates in any
// order. A candidate must be well-formed (CheckCertificateForm), match the
// issuer name and the authority key identifier (when both are present) and
// allow keyCertSign, as OpenSSL's X509_check_issued decides. Signatures,
// validity and everything else are left to the validation of each complete
// path.
class PathBuilder {
 public:
  using Visitor = std::function<bool(const std::vector<X509*>&)>;

  PathBuilder(std::vector<X509*> anchors, std::vector<X509*> pool)
      : anchors_(std::move(anchors)), pool_(std::move(pool)) {}

  // Calls `visit` on each complete path (leaf first, self-signed anchor
  // certificate last) until it returns true or the budget runs out.
  void Search(X509* leaf, const Visitor& visit) {
    path_ = {leaf};
    Extend(visit);
  }
  bool exhausted() const { return exhausted_; }
  // Why the first issuer candidate refused for its form was refused: the
  // best explanation when no path reaches the anchor.
  const std::optional<Error>& malformed_issuer() const { return malformed_issuer_; }

 private:
  // A candidate issuer of the path's last certificate. Only certificates of
  // the right name are examined further.
  bool IsIssuer(X509* candidate) {
    X509* child = path_.back();
    if (X509_NAME_cmp(X509_get_subject_name(candidate), X509_get_issuer_name(child)) != 0) {
      return false;
    }
    Status form = CheckCertificateForm(candidate);
    if (!form.ok()) {
      if (!malformed_issuer_.has_value()) malformed_issuer_ = form.error();
      return false;
    }
    return X509_check_issued(candidate, child) == X509_V_OK && !InPath(candidate);
  }

  bool InPath(X509* cert) const {
    return std::any_of(path_.begin(), path_.end(), [&](X509* p) { return SameNode(p, cert); });
  }

  // Returns true to stop the search (accepted, or out of budget).
  bool Extend(const Visitor& visit) {
    if (--nodes_left_ < 0) return exhausted_ = true;
    if (TryIssuers(anchors_, /*from_anchor=*/true, visit)) return true;
    return TryIssuers(pool_, /*from_anchor=*/false, visit);
  }

  bool TryIssuers(const std::vector<X509*>& candidates, bool from_anchor, const Visitor& visit) {
    for (X509* issuer : candidates) {
      if (!IsIssuer(issuer)) continue;
      path_.push_back(issuer);
      bool stop = false;
      if (from_anchor && X509_self_signed(issuer, 0) == 1) {
        stop = --candidates_left_ < 0 ? (exhausted_ = true) : visit(path_);
      } else if (path_.size() < kMaxPathCertificates) {
        stop = Extend(visit);
      }
      path_.pop_back();
      if (stop) return true;
    }
    return false;
  }

  std::vector<X509*> anchors_, pool_, path_;
  std::optional<Error> malformed_issuer_;
  int nodes_left_ = kMaxPathNodes;
  int candidates_left_ = kMaxCandidatePaths;
  bool exhausted_ = false;
};

// OpenSSL builds its own chain from what it is given and may pick another
// issuer than the path under test (two certificates of one name, without
// key identifiers). This check_issued callback lets it use only the links of
// that path, which the context carries as its app data.
int PathOnlyCheckIssued(X509_STORE_CTX* ctx, X509* x, X509* issuer) {
  const auto* path = static_cast<const std::vector<X509*>*>(X509_STORE_CTX_get_app_data(ctx));
  if (path == nullptr || X509_check_issued(issuer, x) != X509_V_OK) return 0;
  if (SameCertificate(x, issuer)) return SameCertificate(x, path->back()) ? 1 : 0;
  for (size_t i = 0; i + 1 < path->size(); ++i) {
    if (SameCertificate((*path)[i], x) && SameCertificate((*path)[i + 1], issuer)) return 1;
  }
  return 0;
}

// RFC 5280 4.1.2.5: a certificate is valid through its notAfter second,
// inclusive. OpenSSL 3.0 counts that last second as expired. Verification
// runs at a fixed time (X509_VERIFY_PARAM_set_time) whenever validity
// periods are checked, so the second compared here is the one OpenSSL used.
bool ExpiresThisVerySecond(X509_STORE_CTX* ctx, X509* cert) {
  const X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx);
  if ((X509_VERIFY_PARAM_get_flags(param) & X509_V_FLAG_USE_CHECK_TIME) == 0) return false;
  return ASN1_TIME_cmp_time_t(X509_get0_notAfter(cert), X509_VERIFY_PARAM_get_time(param)) == 0;
}

// OpenSSL's serverAuth purpose refuses a CA whose extended key usage is
// anyExtendedKeyUsage without serverAuth, which RFC 5280 4.2.1.12 allows for
// every purpose. True when that is the only reason: the certificate is a
// CA, and a Netscape certificate type, if any, allows SSL CAs. Petera's
// own rule on CA extended key usage (CheckIssuerExtendedKeyUsage) applies
// afterwards either way.
bool IsCaRefusedOnlyForAnyExtendedKeyUsage(X509* cert) {
  uint32_t flags = X509_get_extension_flags(cert);
  if ((flags & EXFLAG_XKUSAGE) == 0 || (X509_get_extended_key_usage(cert) & XKU_ANYEKU) == 0 ||
      X509_check_ca(cert) == 0) {
    return false;
  }
  if ((flags & EXFLAG_NSCERT) == 0) return true;
  auto* ns = static_cast<ASN1_BIT_STRING*>(
      X509_get_ext_d2i(cert, NID_netscape_cert_type, nullptr, nullptr));
  bool ssl_ca = ns != nullptr && ASN1_BIT_STRING_get_bit(ns, 5) == 1;  // NS_SSL_CA
  ASN1_BIT_STRING_free(ns);
  return ssl_ca;
}

// Forgives exactly the two verdicts above; every other error stands.
int VerifyCallback(int ok, X509_STORE_CTX* ctx) {
  if (ok != 0) return ok;
  X509* cert = X509_STORE_CTX_get_current_cert(ctx);
  if (cert == nullptr) return 0;
  int err = X509_STORE_CTX_get_error(ctx);
  bool forgiven = (err == X509_V_ERR_CERT_HAS_EXPIRED && ExpiresThisVerySecond(ctx, cert)) ||
                  (err == X509_V_ERR_INVALID_PURPOSE && X509_STORE_CTX_get_error_depth(ctx) > 0 &&
                   IsCaRefusedOnlyForAnyExtendedKeyUsage(cert));
  if (!forgiven) return 0;
  X509_STORE_CTX_set_error(ctx, X509_V_OK);
  return 1;
}

}  // namespace

Status CheckEncryptionKeyUsage(X509* leaf) {
  EVP_PKEY* key = X509_get0_pubkey(leaf);
  bool is_ec = key != nullptr && EVP_PKEY_is_a(key, "EC");
  if (key == nullptr || (!is_ec && !EVP_PKEY_is_a(key, "RSA"))) {
    return TrustError(Who(leaf) + " is not an EC or RSA encryption certificate");
  }
  // Without keyUsage X.509 allows every usage, signing included: the
  // extension must be there and say what the key is for.
  if ((X509_get_extension_flags(leaf) & EXFLAG_KUSAGE) == 0) {
    return TrustError(Who(leaf) + " has no keyUsage extension; an encryption certificate needs " +
                      (is_ec ? "keyUsage keyAgreement" : "keyUsage keyEncipherment (and no signing bit)"));
  }
  uint32_t usage = X509_get_key_usage(leaf);
  if (is_ec && (usage & KU_KEY_AGREEMENT) == 0) {
    return TrustError(Who(leaf) + " key usage does not allow keyAgreement");
  }
  if (!is_ec && (usage & KU_KEY_ENCIPHERMENT) == 0) {
    return TrustError(Who(leaf) + " key usage does not allow keyEncipherment");
  }
  // The server applies its RSA key to whatever a client sends: the key
  // must not also be trusted to sign, or recovery would be a signing oracle.
  constexpr uint32_t kSigning = KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION |
                                KU_KEY_CERT_SIGN | KU_CRL_SIGN;
  if (!is_ec && (usage & kSigning) != 0) {
    return TrustError(Who(leaf) + " is an RSA encryption key that may also sign; "
                      "its key usage must not include digitalSignature, "
                      "nonRepudiation, keyCertSign or cRLSign");
  }
  return OkStatus();
}

// A store holding only the path's root as trusted, and the CRLs.
Result<X509StorePtr> ChainVerifier::MakeStore(const Anchor& anchor, X509* root) {
  X509StorePtr store(X509_STORE_new());
  if (!store) return SslError("cannot allocate X509_STORE");
  if (X509_STORE_add_cert(store.get(), root) != 1) {
    return SslError("cannot add anchor certificate");
  }
  for (const auto& crl : anchor.crls_) {
    if (X509_STORE_add_crl(store.get(), crl.get()) != 1) {
      return SslError("cannot add CRL");
    }
  }
  X509_STORE_set_check_issued(store.get(), PathOnlyCheckIssued);
  return store;
}

Status ChainVerifier::Configure(X509_STORE_CTX* ctx, const Anchor& anchor,
                                const std::string& name, VerifyMode mode,
                                std::optional<std::time_t> at) {
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx);
  unsigned long flags = X509_V_FLAG_X509_STRICT;
  if (anchor.checks_revocation()) flags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
  if (mode == VerifyMode::kStoredEncryption) flags |= X509_V_FLAG_NO_CHECK_TIME;
  X509_VERIFY_PARAM_clear_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
  if (X509_VERIFY_PARAM_set_flags(param, flags) != 1) return SslError("cannot set flags");
  // A fixed time would override NO_CHECK_TIME (OpenSSL's USE_CHECK_TIME
  // wins), so it is set only when validity periods are checked.
  if (mode != VerifyMode::kStoredEncryption && at.has_value()) {
    X509_VERIFY_PARAM_set_time(param, *at);
  }
  X509_VERIFY_PARAM_set_auth_level(param, 2);
  X509_VERIFY_PARAM_set_hostflags(
      param, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT | X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  int ok = IsIp(name) ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str())
                      : X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
  if (ok != 1) return SslError("invalid server name '" + name + "'", ErrorCategory::kUsage);
  if (mode == VerifyMode::kTls &&
      X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER) != 1) {
    return SslError("cannot set purpose");
  }
  X509_STORE_CTX_set_verify_cb(ctx, VerifyCallback);
  return OkStatus();
}

// Validates one complete path (leaf first, root last; every certificate
// already passed CheckCertificateForm): Petera's name-constraint rules, which
// explain more precisely than OpenSSL's, then OpenSSL's verification
// restricted to exactly this path, then Petera's other rules.
Result<VerifiedChain> ChainVerifier::ValidatePath(const Anchor& anchor,
                                                  const std::vector<X509*>& path,
                                                  const std::string& name, VerifyMode mode,
                                                  std::optional<std::time_t> at) {
  PETERA_TRY(CheckNameConstraints(path));
  PETERA_ASSIGN_OR_RETURN(X509StorePtr store, MakeStore(anchor, path.back()));
  X509StackPtr untrusted(sk_X509_new_null());
  if (!untrusted) return SslError("cannot allocate stack");
  for (size_t i = 1; i + 1 < path.size(); ++i) {
    if (X509_add_cert(untrusted.get(), path[i], X509_ADD_FLAG_UP_REF) != 1) {
      return SslError("cannot add certificate to stack");
    }
  }
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), path.front(), untrusted.get()) != 1) {
    return SslError("cannot initialise verification");
  }
  PETERA_TRY(Configure(ctx.get(), anchor, name, mode, at));
  X509_STORE_CTX_set_app_data(ctx.get(), const_cast<std::vector<X509*>*>(&path));
  if (X509_verify_cert(ctx.get()) != 1) return DescribeFailure(ctx.get(), path.front(), name);
  X509StackPtr built(X509_STORE_CTX_get1_chain(ctx.get()));
  if (!built || static_cast<size_t>(sk_X509_num(built.get())) != path.size()) {
    return SslError("verified chain differs from the path under test");
  }
  for (size_t i = 0; i < path.size(); ++i) {
    if (!SameCertificate(sk_X509_value(built.get(), static_cast<int>(i)), path[i])) {
      return SslError("verified chain differs from the path under test");
    }
  }
  PETERA_TRY(CheckBuiltChain(path, mode));
  VerifiedChain out;
  for (X509* cert : path) {
    if (X509_up_ref(cert) != 1) return SslError("cannot reference certificate");
    out.chain.emplace_back(cert);
  }
  DrainSslErrors();
  return out;
}

Result<VerifiedChain> ChainVerifier::Verify(const Anchor& anchor,
                                            const std::vector<X509Ptr>& chain,
                                            const std::string& name, VerifyMode mode,
                                            std::optional<std::time_t> at) {
  if (chain.empty()) return TrustError("no certificate to verify");
  if (chain.size() > kMaxChainCertificates) {
    return TrustError("chain has more than 8 certificates");
  }
  if (name.empty()) return Error(ErrorCategory::kUsage, "no server name to verify against");
  // One time for every path tried, so that they all see the same second.
  if (!at.has_value()) at = std::time(nullptr);
  X509* leaf = chain.front().get();
  PETERA_TRY(CheckEndEntity(leaf, mode));

  std::vector<X509*> anchors;
  for (const auto& root : anchor.roots_) anchors.push_back(root.get());
  // The chain's other certificates, once each; one that is also in the
  // anchor is used as the anchor's.
  std::vector<X509*> pool;
  for (size_t i = 1; i < chain.size(); ++i) {
    X509* cert = chain[i].get();
    auto same = [&](X509* other) { return SameCertificate(other, cert); };
    if (SameCertificate(cert, leaf) || std::any_of(anchors.begin(), anchors.end(), same) ||
        std::any_of(pool.begin(), pool.end(), same)) {
      continue;
    }
    pool.push_back(cert);
  }

  std::optional<VerifiedChain> accepted;
  std::optional<Error> best_failure;  // from the longest path refused
  size_t best_length = 0;
  int tried = 0;
  PathBuilder builder(std::move(anchors), std::move(pool));
  builder.Search(leaf, [&](const std::vector<X509*>& path) {
    ++tried;
    auto result = ValidatePath(anchor, path, name, mode, at);
    if (result.ok()) {
      accepted = std::move(result).value();
      return true;
    }
    if (result.error().category() != ErrorCategory::kTrust) {
      best_failure = result.error();  // an internal failure outranks every refusal
      best_length = kMaxPathCertificates + 1;
    } else if (path.size() > best_length) {
      best_failure = result.error();
      best_length = path.size();
    }
    return false;
  });
  if (accepted.has_value()) return std::move(*accepted);
  if (best_failure.has_value()) {
    if (tried == 1) return *best_failure;
    return Error(best_failure->category(),
                 best_failure->message() + " (the best of " + std::to_string(tried) +
                     " paths to the anchor; none was valid)");
  }
  if (builder.malformed_issuer().has_value()) return *builder.malformed_issuer();
  if (builder.exhausted()) {
    return TrustError("chain does not lead to any certificate in the anchor within "
                      "the path search limits");
  }
  return TrustError("chain does not lead to any certificate in the anchor");
}

Result<Anchor> Anchor::FromPem(std::string_view pem, const std::string& source) {
  if (pem.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return Error(ErrorCategory::kUsage, "anchor " + source + " is empty");
  }
  auto parsed = ParsePem(pem, source);
  if (!parsed.ok()) return parsed.error().Wrap("anchor");
  if (!parsed->private_keys.empty()) {
    return Error(ErrorCategory::kUsage,
                 "anchor " + source + " holds a private key; an anchor must contain "
                 "only CA certificates (and its key must stay with the CA)");
  }
  if (parsed->certificates.empty()) {
    return Error(ErrorCategory::kUsage, "anchor " + source + " holds no certificate");
  }
  Anchor anchor;
  for (auto& cert : parsed->certificates) {
    if (X509_check_ca(cert.get()) == 0) {
      return Error(ErrorCategory::kUsage, "anchor " + source + ": " + Who(cert.get()) +
                                              " is not a CA certificate");
    }
    anchor.roots_.push_back(std::move(cert));
  }
  anchor.crls_ = std::move(parsed->crls);
  return anchor;
}

Result<Anchor> Anchor::Load(const std::string& path) {
  PETERA_ASSIGN_OR_RETURN(std::string text, ReadFile(path, kMaxPemBytes));
  return FromPem(text, path);
}

Status Anchor::AddCrlFile(const std::string& path) {
  PETERA_ASSIGN_OR_RETURN(PemContents parsed, LoadPemFile(path));
  if (parsed.crls.empty() || !parsed.certificates.empty() || !parsed.private_keys.empty()) {
    return Error(ErrorCategory::kUsage, path + ": expected only X509 CRL blocks");
  }
  for (auto& crl : parsed.crls) crls_.push_back(std::move(crl));
  return OkStatus();
}

std::string VerifiedChain::Describe() const {
  std::string out;
  for (size_t i = 0; i < chain.size(); ++i) {
    if (i > 0) out += " <- ";
    out += SubjectName(chain[i].get());
  }
  return out + "; expires " + NotAfterDate(leaf());
}

std::vector<std::string> SubjectAltNames(X509* cert) {
  std::vector<std::string> names;
  auto* gens = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (gens == nullptr) return names;
  for (int i = 0; i < sk_GENERAL_NAME_num(gens); ++i) {
    const GENERAL_NAME* gen = sk_GENERAL_NAME_value(gens, i);
    if (gen->type == GEN_DNS) {
      const ASN1_IA5STRING* s = gen->d.dNSName;
      names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                         static_cast<size_t>(ASN1_STRING_length(s)));
    } else if (gen->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* ip = gen->d.iPAddress;
      char buf[INET6_ADDRSTRLEN] = {};
      int len = ASN1_STRING_length(ip);
      int family = len == 4 ? AF_INET : (len == 16 ? AF_INET6 : 0);
      if (family != 0 && inet_ntop(family, ASN1_STRING_get0_data(ip), buf, sizeof(buf))) {
        names.emplace_back(buf);
      }
    }
  }
  GENERAL_NAMES_free(gens);
  return names;
}

Result<VerifiedChain> VerifyTlsChain(const Anchor& anchor,
                                     const std::vector<X509Ptr>& chain,
                                     const std::string& name) {
  return ChainVerifier::Verify(anchor, chain, name, VerifyMode::kTls, std::nullopt);
}

Result<VerifiedChain> VerifyEncryptionChain(const Anchor& anchor,
                                            const std::vector<X509Ptr>& chain,
                                            const std::string& name) {
  return ChainVerifier::Verify(anchor, chain, name, VerifyMode::kEncryption, std::nullopt);
}

Result<VerifiedChain> VerifyStoredEncryptionChain(const Anchor& anchor,
                                                  const std::vector<X509Ptr>& chain,
                                                  const std::string& name) {
  return ChainVerifier::Verify(anchor, chain, name, VerifyMode::kStoredEncryption,
                               std::nullopt);
}

Result<VerifiedChain> VerifyTlsChainAt(const Anchor& anchor,
                                       const std::vector<X509Ptr>& chain,
                                       const std::string& name, std::time_t now) {
  return ChainVerifier::Verify(anchor, chain, name, VerifyMode::kTls, now);
}

Result<VerifiedChain> VerifyEncryptionChainAt(const Anchor& anchor,
                                              const std::vector<X509Ptr>& chain,
                                              const std::string& name, std::time_t now) {
  return ChainVerifier::Verify(anchor, chain, name, VerifyMode::kEncryption, now);
}

}  // namespace petera
