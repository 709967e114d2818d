// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// Blinded recovery: the exchange by which a client recovers the key-wrapping
// secret of an envelope recipient from the server that holds the private
// key, without the server learning it.
//
//  EC (McCallum-Relyea): the envelope holds epk = c*G. The client picks a
//    random e and sends X = epk + e*G; the server checks X and answers
//    Y = s*X; the client computes Y - e*S = c*S, the ECDH-ES shared point.
//  RSA: the envelope holds c = OAEP(cek)^e. The client sends c*r^e mod n for
//    a random r; the server answers (c*r^e)^d = m*r mod n; the client
//    multiplies by r^-1 and removes the OAEP padding itself.
//
// Both halves are pure computations; see docs/protocol.md for the wire form.
#ifndef PETERA_RECOVERY_H_
#define PETERA_RECOVERY_H_

#include <span>
#include <string>
#include <string_view>

#include "petera/encoding.h"
#include "petera/ossl.h"
#include "petera/result.h"
#include "petera/secret.h"

namespace petera {

// base64url(SHA-256(DER SubjectPublicKeyInfo)) of a public (or private) key.
Result<std::string> KeyId(EVP_PKEY* key);
// The same key id, from a certificate's SubjectPublicKeyInfo as encoded in
// it: far cheaper than KeyId (no key re-encoding).
Result<std::string> KeyIdOfCertificate(X509* cert);

// The RSA key sizes Petera encrypts to, in bits.
inline constexpr int kMinRsaBits = 2048;
inline constexpr int kMaxRsaBits = 8192;

// Refuses keys Petera does not encrypt to: EC other than P-256/384/521,
// RSA outside kMinRsaBits..kMaxRsaBits, anything else. `what` names the key
// in the message.
Status CheckEncryptionKeyType(EVP_PKEY* key, const std::string& what);

// Body of POST /v1/recover and of its answer.
struct RecoveryRequest {
  std::string kid;
  Bytes x;  // EC: uncompressed SEC1 point; RSA: big-endian, modulus length
};
struct RecoveryResponse {
  Bytes y;  // EC: uncompressed SEC1 point; RSA: big-endian, modulus length
};

inline constexpr size_t kMaxRecoveryBodyBytes = 4096;

Result<RecoveryRequest> ParseRecoveryRequest(std::string_view json);
std::string SerializeRecoveryRequest(const RecoveryRequest& request);
Result<RecoveryResponse> ParseRecoveryResponse(std::string_view json);
std::string SerializeRecoveryResponse(const RecoveryResponse& response);

// Server half: one decryption key.
class RecoveryKey {
 public:
  // `key` must be a private EC (P-256/384/521) or RSA (2048 to 8192 bits)
  // key.
  static Result<RecoveryKey> Create(EvpPkeyPtr key);

  const std::string& kid() const { return kid_; }
  EVP_PKEY* pkey() const { return key_.get(); }

  // EC: validates X completely (uncompressed form, right length, coordinates
  // in range, on this key's curve, not infinity) and returns s*X.
  // RSA: requires exactly modulus-length bytes with 0 < x < n and returns
  // x^d mod n. Errors are kProtocol with a reason for the log.
  Result<Bytes> Recover(std::span<const uint8_t> x) const;

 private:
  RecoveryKey() = default;
  EvpPkeyPtr key_;
  std::string kid_;
  // EC only: the curve and the private scalar (secure heap when enabled).
  EcGroupPtr group_;
  BnPtr scalar_;
};

// Client half for one recipient. Holds the blinding factor, which is wiped
// with the object.
class Blinding {
 public:
  // `server_key`: the public key of the recipient's encryption certificate.
  // `epk`: the uncompressed ephemeral point of the envelope.
  static Result<Blinding> ForEc(EVP_PKEY* server_key,
                                std::span<const uint8_t> epk);
  // `encrypted_key`: the recipient's RSA-OAEP-256 encrypted key.
  static Result<Blinding> ForRsa(EVP_PKEY* server_key,
                                 std::span<const uint8_t> encrypted_key);

  // What to send as RecoveryRequest::x.
  const Bytes& request() const { return request_; }

  // EC: the ECDH-ES shared secret Z (x-coordinate of c*S, field length).
  // RSA: the content encryption key after OAEP decoding.
  // Any malformed or wrong answer is a kProtocol/kCorrupt error.
  Result<SecretBytes> Unblind(std::span<const uint8_t> y) const;

 private:
  Blinding() = default;
  bool is_ec_ = false;
  EvpPkeyPtr server_key_;  // an up-ref of the key passed in
  EcGroupPtr group_;
  BnPtr factor_;  // e (EC) or r (RSA)
  Bytes request_;
};

// EC point helpers shared with the envelope code.
Result<EcGroupPtr> GroupOfKey(EVP_PKEY* key);
// Uncompressed SEC1 encoding of the public point of an EC key.
Result<Bytes> EcPublicPoint(EVP_PKEY* key);
// Checks that `point` is an uncompressed, canonical point of `key`'s curve
// (the validation the server applies to X). Errors are kProtocol.
Status ValidateEcPoint(EVP_PKEY* key, std::span<const uint8_t> point);
// Field size in bytes of a group (32, 48, 66).
size_t FieldBytes(const EC_GROUP* group);

// RSA-OAEP decoding (SHA-256, MGF1 with SHA-256, empty label) of an encoded
// message of modulus length, in constant time. Fails as kCorrupt.
Result<SecretBytes> OaepSha256Decode(const SecretBytes& encoded);

}  // namespace petera

#endif  // PETERA_RECOVERY_H_
