// Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
//
// Owning wrappers for OpenSSL handles. Wrap the result of every "new",
// "get1" or "dup" call at once; never wrap a "get0" borrow.
#ifndef PETERA_OSSL_H_
#define PETERA_OSSL_H_

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <memory>
#include <string>

#include "petera/result.h"

namespace petera {

template <typename T, void (*Free)(T*)>
struct OsslDeleter {
  void operator()(T* p) const { Free(p); }
};

template <typename T, void (*Free)(T*)>
using OsslPtr = std::unique_ptr<T, OsslDeleter<T, Free>>;

using BioPtr = OsslPtr<BIO, BIO_free_all>;
using BnPtr = OsslPtr<BIGNUM, BN_clear_free>;
using BnCtxPtr = OsslPtr<BN_CTX, BN_CTX_free>;
using EcGroupPtr = OsslPtr<EC_GROUP, EC_GROUP_free>;
using EcPointPtr = OsslPtr<EC_POINT, EC_POINT_clear_free>;
using EvpPkeyPtr = OsslPtr<EVP_PKEY, EVP_PKEY_free>;
using EvpPkeyCtxPtr = OsslPtr<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using EvpCipherCtxPtr = OsslPtr<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>;
using EvpMdCtxPtr = OsslPtr<EVP_MD_CTX, EVP_MD_CTX_free>;
using X509Ptr = OsslPtr<X509, X509_free>;
using X509CrlPtr = OsslPtr<X509_CRL, X509_CRL_free>;
using X509StorePtr = OsslPtr<X509_STORE, X509_STORE_free>;
using X509StoreCtxPtr = OsslPtr<X509_STORE_CTX, X509_STORE_CTX_free>;
using SslCtxPtr = OsslPtr<SSL_CTX, SSL_CTX_free>;

inline void FreeX509Stack(STACK_OF(X509) * s) { sk_X509_pop_free(s, X509_free); }
using X509StackPtr = OsslPtr<STACK_OF(X509), FreeX509Stack>;

// Drains this thread's OpenSSL error queue into one string ("a; b; c").
// Draining also keeps a stale error from surfacing in a later operation.
std::string DrainSslErrors();

// Whether two public keys are the same key, whatever their encoding
// (EVP_PKEY_eq, whose error queue, left over when the key types differ, is
// drained).
bool SameKey(const EVP_PKEY* a, const EVP_PKEY* b);

// An Error of category kInternal (or `category`) whose message is `what`
// followed by the drained OpenSSL error queue.
Error SslError(const std::string& what,
               ErrorCategory category = ErrorCategory::kInternal);

}  // namespace petera

#endif  // PETERA_OSSL_H_
