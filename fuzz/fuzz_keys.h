// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// Keys made once per fuzzing process, so that targets can drive the
// recovery code with inputs that reach past the parsers.
#ifndef PETERA_FUZZ_FUZZ_KEYS_H_
#define PETERA_FUZZ_FUZZ_KEYS_H_

#include "petera/recovery.h"

namespace petera::fuzz {

const RecoveryKey& EcKey();   // P-256
const RecoveryKey& RsaKey();  // RSA-2048

}  // namespace petera::fuzz

#endif  // PETERA_FUZZ_FUZZ_KEYS_H_
