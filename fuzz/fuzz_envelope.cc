// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// The envelope parser and everything decrypt does before the network:
// structure, recipients, threshold and shares, blinding, the search for
// the content key among (here, wrong) answers, and payload authentication.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "petera/envelope.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto env = petera::ParseEnvelope(text);
  if (!env.ok()) return 0;
  std::vector<petera::UnwrappedKey> unwrapped;
  petera::PayloadOpener opener(*env);
  bool searching = true;
  for (size_t i = 0; i < env->recipients.size(); ++i) {
    const auto& r = env->recipients[i];
    auto blinding = petera::StartRecovery(r);
    if (!blinding.ok()) continue;
    auto z = blinding->Unblind(blinding->request());  // a wrong but valid answer
    if (!z.ok()) continue;
    auto cek = petera::UnwrapContentKey(r, *z);
    if (!cek.ok()) continue;
    (void)petera::DecryptPayload(*env, *cek);
    if (searching) {
      auto opened = opener.Offer(i, *cek);
      searching = opened.ok() && !opened->has_value();
    }
    unwrapped.push_back(petera::UnwrappedKey{i, std::move(cek).value()});
  }
  auto combined = petera::CombineContentKey(*env, unwrapped);
  if (combined.ok()) (void)petera::DecryptPayload(*env, *combined);
  petera::SecretBytes zero_key(32);
  (void)petera::DecryptPayload(*env, zero_key);
  return 0;
}
