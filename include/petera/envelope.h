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
//   `threshold` recipients) CombineContentKey -> DecryptPayload. When
//   answers may be wrong (a server holding an RSA recipient's key can forge
//   one), a PayloadOpener does the last two steps over every combination of
//   what came back.
#ifndef PETERA_ENVELOPE_H_
#define PETERA_ENVELOPE_H_

#include <optional>
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
  // "commit" of the protected header: KeyCommitment of the content key, so
  // that one key and only one opens the envelope. Empty in envelopes
  // written before commitments existed.
  Bytes commitment;
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

// HMAC-SHA256 keyed with the content key over a fixed label
// (docs/format.md section 6.4): 32 bytes that determine the key without
// revealing it.
Result<Bytes> KeyCommitment(const SecretBytes& cek);

// Whether `cek` is the key the envelope commits to, in constant time; true
// for an envelope without a commitment (only the tag can tell there).
bool MatchesCommitment(const Envelope& envelope, const SecretBytes& cek);

// Checks the key commitment (when the envelope has one), verifies the tag
// and decrypts, then checks that every recipient header is the one the
// protected header binds. No plaintext leaves unless all of that holds; on
// failure the working buffer is wiped.
Result<SecretBytes> DecryptPayload(const Envelope& envelope,
                                   const SecretBytes& cek);

// Finds the content key among what recipients unwrapped, whichever of them
// are wrong. A server that holds an RSA recipient's private key can answer
// a blinded request with a value that unwraps to a key (or share) of its
// choice, and in an envelope without a commitment the envelope's maker
// could give recipients different keys: so no single answer, and no single
// set of `threshold` shares, is taken on trust. Each new offer is tried
// with every combination of earlier ones it completes, checked against the
// key commitment (cheap and exact) or, in envelopes without one, by the
// tag; the first key that passes opens the payload.
class PayloadOpener {
 public:
  // At most this many share combinations are tried in all: each costs a
  // Lagrange interpolation and one HMAC, from about a microsecond for 2
  // shares to about 90 for 20, so the budget bounds a search at about a
  // second for a threshold of 20...
  static constexpr size_t kMaxCombinations = 10000;
  // ...and at most this many payload decryptions, which is what each try
  // costs in an envelope without a commitment (up to 16 MiB of AES-GCM).
  static constexpr size_t kMaxPayloadTries = 64;

  explicit PayloadOpener(const Envelope& envelope) : envelope_(envelope) {}

  // Offers what recipient `index` unwrapped; a second offer for the same
  // recipient is ignored. Returns the plaintext once the payload opens,
  // nullopt while more offers are needed, and an error when no further
  // offer can help: kCorrupt when the key the envelope commits to does not
  // open it, kProtocol when the budgets above are spent.
  Result<std::optional<SecretBytes>> Offer(size_t index, SecretBytes key);

  // Recipients offered so far, in order.
  size_t offered() const { return offers_.size(); }
  // After success: the recipients whose keys opened the payload.
  const std::vector<size_t>& used() const { return used_; }
  // Recipients whose offer is known to be wrong: it does not match the
  // commitment (threshold 1), is not on the polynomial of the shares that
  // opened the payload, or (no commitment, threshold 1) failed the tag.
  const std::vector<size_t>& wrong() const { return wrong_; }
  // Why the last key that was tried did not open the payload, if one was
  // tried (only a key that matched the commitment, or any key of an
  // envelope without one, reaches the payload).
  const std::optional<Error>& payload_failure() const { return payload_failure_; }

 private:
  struct Offered {
    size_t index;
    SecretBytes key;
  };
  Result<std::optional<SecretBytes>> OfferKey(size_t position);
  Result<std::optional<SecretBytes>> OfferShare(size_t position);
  // Tries `cek` built from the offers at `positions`.
  Result<std::optional<SecretBytes>> Try(const SecretBytes& cek,
                                         const std::vector<size_t>& positions);
  void FindWrongShares(const SecretBytes& cek);

  const Envelope& envelope_;
  std::vector<Offered> offers_;
  std::vector<size_t> used_;
  std::vector<size_t> wrong_;
  size_t combinations_ = 0;
  size_t payload_tries_ = 0;
  std::optional<Error> payload_failure_;
};

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
