// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// The envelope: a JWE (RFC 7516) in the JSON General Serialization, content
// encrypted with A256GCM, one recipient per server (ECDH-ES+A256KW or
// RSA-OAEP-256). With a threshold t > 1 each recipient holds a Shamir share
// of the content key instead of the key itself, and any t of them recover
// it. docs/format.md specifies it.
//
// Decryption is split so that the network stays outside the library:
//   ParseEnvelope -> for a recipient: StartRecovery (Blinding, request to
//   send) -> Blinding::Unblind(answer) -> UnwrapContentKey -> (from
//   `threshold` recipients) CombineContentKey -> DecryptPayload.
#ifndef PETERA_ENVELOPE_H_
#define PETERA_ENVELOPE_H_

#include <string>
#include <string_view>
#include <vector>

#include "petera/address.h"
#include "petera/encoding.h"
#include "petera/ossl.h"
#include "petera/recovery.h"
#include "petera/result.h"
#include "petera/secret.h"

namespace petera {

inline constexpr int kFormatVersion = 1;
// Largest payload Petera encrypts or decrypts.
inline constexpr size_t kMaxPayloadBytes = 16u << 20;
// Largest envelope text accepted: the base64url payload plus room for
// recipients.
inline constexpr size_t kMaxEnvelopeBytes = kMaxPayloadBytes / 3 * 4 + (1u << 20);
inline constexpr size_t kMaxRecipients = 64;
inline constexpr size_t kMaxChainLength = 8;

// One server an envelope is encrypted to. The chain must already have been
// validated by the caller (VerifyEncryptionChain).
struct EncryptionTarget {
  std::vector<X509Ptr> chain;  // leaf first
  Address address;             // where decryption will go
};

struct Recipient {
  std::string alg;  // "ECDH-ES+A256KW" or "RSA-OAEP-256"
  std::string kid;
  std::vector<X509Ptr> chain;  // from x5c, leaf first
  Address address;
  Bytes epk;            // EC only: uncompressed ephemeral point
  Bytes encrypted_key;  // wrapped (EC) or OAEP-encrypted (RSA) content key
  // Threshold envelopes only: the number of the share this recipient holds
  // (1 to 255); 0 otherwise.
  uint8_t share = 0;
  // base64url SHA-256 of kid, server, x5c and share as written: the
  // protected header lists one per recipient, so that after authentication
  // none of them can have been altered (JWE leaves recipient headers
  // unprotected).
  std::string binding;

  bool is_ec() const { return alg == "ECDH-ES+A256KW"; }
  // The public key of the leaf certificate.
  EVP_PKEY* server_key() const;
};

struct Envelope {
  std::string protected_b64;  // exactly as in the text: it is the GCM AAD
  std::vector<std::string> bindings;  // "bind" of the protected header
  // How many recipients must recover their share: 1 (any one recipient
  // recovers the content key itself) up to recipients.size().
  size_t threshold = 1;
  std::vector<Recipient> recipients;
  Bytes iv;
  Bytes ciphertext;
  Bytes tag;
};

// Encrypts `plaintext` to every target, so that `threshold` of them (1 to
// targets.size()) are needed to decrypt. Refuses more than kMaxPayloadBytes
// before doing any work.
Result<std::string> Encrypt(const SecretBytes& plaintext,
                            const std::vector<EncryptionTarget>& targets,
                            size_t threshold = 1);

// Parses and checks the structure of an envelope: sizes, encodings, version,
// crit, threshold and share numbers, algorithms, each recipient's kid
// against its x5c leaf. Does not
// validate chains against an anchor (the caller does, with
// VerifyStoredEncryptionChain).
Result<Envelope> ParseEnvelope(std::string_view text);

// The blinding for one recipient: its request() goes to the server.
Result<Blinding> StartRecovery(const Recipient& recipient);

// From the unblinded value to the content encryption key, or to the
// recipient's share of it in a threshold envelope: EC runs the Concat KDF
// and AES key unwrap; RSA checks the key length.
Result<SecretBytes> UnwrapContentKey(const Recipient& recipient,
                                     const SecretBytes& unblinded);

// What UnwrapContentKey gave for one recipient (an index into recipients).
struct UnwrappedKey {
  size_t recipient = 0;
  SecretBytes key;
};

// The content key from what `threshold` distinct recipients unwrapped (more
// are ignored): with a threshold of 1 the one key itself, else the shares
// combined. DecryptPayload then authenticates it.
Result<SecretBytes> CombineContentKey(const Envelope& envelope,
                                      const std::vector<UnwrappedKey>& unwrapped);

// Verifies the tag and decrypts, then checks that every recipient header is
// the one the protected header binds. No plaintext leaves unless all of that
// holds; on failure the working buffer is wiped.
Result<SecretBytes> DecryptPayload(const Envelope& envelope,
                                   const SecretBytes& cek);

// Offline decryption with recipients' private keys (for tests and disaster
// recovery): uses every recipient whose public key is one of `private_keys`,
// until `threshold` of them have unwrapped.
Result<SecretBytes> DecryptWithPrivateKeys(const Envelope& envelope,
                                           const std::vector<EVP_PKEY*>& private_keys);
inline Result<SecretBytes> DecryptWithPrivateKey(const Envelope& envelope,
                                                 EVP_PKEY* private_key) {
  return DecryptWithPrivateKeys(envelope, {private_key});
}

// JWE primitives, exposed for tests and benchmarks.
// Concat KDF (RFC 7518 4.6.2) for ECDH-ES+A256KW with empty apu/apv.
SecretBytes ConcatKdfA256KW(const SecretBytes& z);
Result<Bytes> AesKeyWrap(const SecretBytes& kek, const SecretBytes& key);
Result<SecretBytes> AesKeyUnwrap(const SecretBytes& kek,
                                 std::span<const uint8_t> wrapped);

}  // namespace petera

#endif  // PETERA_ENVELOPE_H_
